//! Number parsing and formatting with Redis 7.0's exact acceptance rules.
//!
//! Floating point parsing and the INCRBYFLOAT arithmetic are delegated to
//! `csrc/longdouble.c`: Redis uses glibc's `strtod`/`strtold`, x87 80-bit
//! `long double` and `printf("%.17Lf")`, and nothing short of calling the
//! same code reproduces every rounding and edge case.

use std::ffi::{c_char, c_int};

/// Redis's `LONG_STR_SIZE`: inputs this long or longer are never integers.
const LONG_STR_SIZE: usize = 21;

/// Redis's `MAX_LONG_DOUBLE_CHARS`, mirrored by `SHOAL_MAX_LD_CHARS` in C.
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// Inputs shorter than this are NUL-terminated on the stack rather than in
/// a heap buffer before being handed to `strtod`.
const STACK_NUMBER_BYTES: usize = 128;

const LD_BAD_FIRST: c_int = -1;
const LD_BAD_SECOND: c_int = -2;
const LD_NOT_FINITE: c_int = -3;

extern "C" {
    fn shoal_ld_add(
        a: *const c_char,
        alen: usize,
        b: *const c_char,
        blen: usize,
        out: *mut c_char,
        outcap: usize,
    ) -> c_int;
    fn shoal_ld_check(s: *const c_char, len: usize) -> c_int;
    fn shoal_strtod(s: *const c_char, len: usize, out: *mut f64) -> c_int;
    fn shoal_ld_timeout_ms(s: *const c_char, len: usize, ms: *mut i64) -> c_int;
}

/// Why a long double operation was refused.
///
/// INCRBYFLOAT replies `ERR value is not a valid float` for
/// [`FloatError::NotAFloat`] (Redis uses the same text whether the stored
/// value or the increment is bad, after its WRONGTYPE check) and
/// `ERR increment would produce NaN or Infinity` for
/// [`FloatError::NanOrInfinity`]. HINCRBYFLOAT words some cases
/// differently; see [`check_long_double`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatError {
    NotAFloat,
    NanOrInfinity,
}

/// Redis `string2ll`: optional '-', no '+', no spaces, no leading zeros
/// (so "-0" and "00" are rejected), at most 20 bytes, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= LONG_STR_SIZE {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let magnitude = parse_digits(digits)?;
    if negative {
        // i64::MIN's magnitude does not fit in i64, so negate in u64 space.
        if magnitude > i64::MIN.unsigned_abs() {
            return None;
        }
        Some(0i64.wrapping_sub_unsigned(magnitude))
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Strict unsigned counterpart of [`parse_i64`]: decimal digits only, no
/// sign, no leading zeros except "0", at most 20 bytes, no overflow.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() >= LONG_STR_SIZE {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    parse_digits(s)
}

/// Redis `string2ull`, used for stream IDs: anything [`parse_i64`] accepts
/// as non-negative, otherwise whatever glibc `strtoull(s, &end, 10)`
/// consumes entirely (leading whitespace, '+', leading zeros, and even a
/// '-' that wraps modulo 2^64 when `string2ll` had rejected the text).
/// Like the C string it reads, the input ends at its first NUL byte.
pub fn parse_u64_lenient(s: &[u8]) -> Option<u64> {
    let s = match s.iter().position(|&b| b == 0) {
        Some(nul) => &s[..nul],
        None => s,
    };
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut rest = s;
    while let Some((&b, tail)) = rest.split_first() {
        if !matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
            break;
        }
        rest = tail;
    }
    let negative = match rest.first() {
        Some(b'-') => {
            rest = &rest[1..];
            true
        }
        Some(b'+') => {
            rest = &rest[1..];
            false
        }
        _ => false,
    };
    if rest.is_empty() || !rest.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in rest {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

/// Digits with a non-zero first digit, checked for u64 overflow.
fn parse_digits(digits: &[u8]) -> Option<u64> {
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(v)
}

/// Redis `string2d` / `getDoubleFromObject`: glibc `strtod` must consume the
/// whole input; leading whitespace, empty input and NaN are rejected, as are
/// overflow to infinity and underflow to zero. "inf", "-Infinity", hex
/// floats such as "0x1p3" and subnormals are accepted.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    let mut stack = [0u8; STACK_NUMBER_BYTES];
    let heap;
    let terminated: &[u8] = if s.len() < STACK_NUMBER_BYTES {
        stack[..s.len()].copy_from_slice(s);
        &stack[..=s.len()]
    } else {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s);
        v.push(0);
        heap = v;
        &heap
    };
    let mut out = 0f64;
    // SAFETY: `terminated` holds `s.len()` bytes followed by a NUL, which is
    // exactly what shoal_strtod reads; `out` is a valid, writable f64.
    let ok = unsafe { shoal_strtod(terminated.as_ptr().cast(), s.len(), &mut out) };
    (ok == 1).then_some(out)
}

/// glibc `strtod` as Redis's range parsers (zslParseRange) call it, without
/// `string2d`'s extra checks: the text up to its first NUL (a C string)
/// must be consumed entirely and NaN is refused, but leading whitespace,
/// an empty string (0), infinities, overflow (±inf) and underflow (0) are
/// accepted.
pub fn parse_f64_strtod(s: &[u8]) -> Option<f64> {
    let s = match s.iter().position(|&b| b == 0) {
        Some(nul) => &s[..nul],
        None => s,
    };
    let mut stack = [0u8; STACK_NUMBER_BYTES];
    let heap;
    let terminated: &[u8] = if s.len() < STACK_NUMBER_BYTES {
        stack[..s.len()].copy_from_slice(s);
        &stack[..=s.len()]
    } else {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s);
        v.push(0);
        heap = v;
        &heap
    };
    let start = terminated.as_ptr().cast::<c_char>();
    let mut end: *mut c_char = std::ptr::null_mut();
    // SAFETY: `terminated` is NUL-terminated and outlives the call; strtod
    // only reads up to the NUL and stores a pointer into it in `end`.
    let v = unsafe { libc::strtod(start, &mut end) };
    let consumed = (end as usize).wrapping_sub(start as usize);
    (consumed == s.len() && !v.is_nan()).then_some(v)
}

/// Appends the decimal form of `v`, as Redis's `ll2string` writes it.
pub fn fmt_i64(v: i64, out: &mut Vec<u8>) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// What INCRBYFLOAT stores and replies: `current + increment` computed in
/// x87 long double from `strtold` parses (Redis `string2ld` rules) and
/// printed like `ld2string(..., LD_STR_HUMAN)`.
///
/// Callers pass `b"0"` for a missing key, as Redis starts from 0 then.
/// Either operand failing to parse yields [`FloatError::NotAFloat`]; a NaN
/// or infinite sum (including an "inf" operand) yields
/// [`FloatError::NanOrInfinity`].
pub fn incr_by_float(current: &[u8], increment: &[u8]) -> Result<Vec<u8>, FloatError> {
    let mut buf = [0u8; MAX_LONG_DOUBLE_CHARS];
    // SAFETY: both inputs are valid for their lengths and only read; `buf`
    // is writable for the capacity passed, and the C side writes at most
    // that many bytes (including the NUL) and returns the text length.
    let n = unsafe {
        shoal_ld_add(
            current.as_ptr().cast(),
            current.len(),
            increment.as_ptr().cast(),
            increment.len(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    match n {
        LD_BAD_FIRST | LD_BAD_SECOND => Err(FloatError::NotAFloat),
        LD_NOT_FINITE => Err(FloatError::NanOrInfinity),
        n => match usize::try_from(n) {
            Ok(len) if len < buf.len() => Ok(buf[..len].to_vec()),
            _ => Err(FloatError::NotAFloat),
        },
    }
}

/// Classifies `s` by Redis's `string2ld` rules without doing arithmetic.
///
/// HINCRBYFLOAT needs this because, unlike INCRBYFLOAT, it validates the
/// increment on its own before anything else (even the WRONGTYPE check):
/// `NotAFloat` -> `ERR value is not a valid float`, `NanOrInfinity` ->
/// `ERR value is NaN or Infinity`. With the increment known good, a
/// `NotAFloat` from [`incr_by_float`] can only come from the stored field
/// and means `ERR hash value is not a float`; its `NanOrInfinity` (which is
/// also what a stored "inf" leads to) means
/// `ERR increment would produce NaN or Infinity`.
pub fn check_long_double(s: &[u8]) -> Result<(), FloatError> {
    // SAFETY: `s` is valid for reads of `s.len()` bytes and is only read.
    match unsafe { shoal_ld_check(s.as_ptr().cast(), s.len()) } {
        0 => Ok(()),
        LD_NOT_FINITE => Err(FloatError::NanOrInfinity),
        _ => Err(FloatError::NotAFloat),
    }
}

/// A blocking command's timeout in milliseconds, computed as Redis 7.0
/// does (long double seconds, rounded up; an out-of-range value comes out
/// negative); `None` if the text is not a float.
pub fn timeout_ms(s: &[u8]) -> Option<i64> {
    let mut ms = 0i64;
    // SAFETY: `s` is valid for reads of `s.len()` bytes and only read (the
    // C side copies it into its own NUL-terminated buffer); `ms` is a valid,
    // writable i64.
    let ok = unsafe { shoal_ld_timeout_ms(s.as_ptr().cast(), s.len(), &mut ms) };
    (ok == 1).then_some(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up_and_overflow_to_negative() {
        assert_eq!(timeout_ms(b"0"), Some(0));
        assert_eq!(timeout_ms(b"0.0001"), Some(1));
        assert_eq!(timeout_ms(b"1e-400"), Some(1));
        assert_eq!(timeout_ms(b"1.5"), Some(1500));
        assert_eq!(timeout_ms(b"-0.5"), Some(-500));
        assert!(timeout_ms(b"inf").is_some_and(|v| v < 0));
        assert!(timeout_ms(b"1e400").is_some_and(|v| v < 0));
        assert_eq!(timeout_ms(b"nan"), None);
        assert_eq!(timeout_ms(b"abc"), None);
        assert_eq!(timeout_ms(b""), None);
    }

    #[test]
    fn i64_accepts_canonical_forms() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"1"), Some(1));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"99"), Some(99));
        assert_eq!(parse_i64(b"-99"), Some(-99));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"1000000"), Some(1_000_000));
    }

    #[test]
    fn i64_rejects_everything_else() {
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b" 1",
            b"1 ",
            b"01",
            b"00",
            b"-0",
            b"-01",
            b"1.0",
            b"1e3",
            b"0x10",
            b"abc",
            b"1a",
            b"--1",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551615",
            b"18446744073709551616",
            b"99999999999999999999",
            b"-99999999999999999999",
            b"100000000000000000000",
            b"\x001",
            b"1\x00",
            b"\xff",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn u64_strict() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"42"), Some(42));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b""[..],
            b"18446744073709551616",
            b"-1",
            b"-0",
            b"+1",
            b"01",
            b" 1",
            b"1 ",
            b"1.5",
            b"000000000000000000001",
        ] {
            assert_eq!(parse_u64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn u64_lenient_matches_string2ull() {
        assert_eq!(parse_u64_lenient(b"0"), Some(0));
        assert_eq!(parse_u64_lenient(b"123"), Some(123));
        assert_eq!(parse_u64_lenient(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64_lenient(b"0123"), Some(123));
        assert_eq!(parse_u64_lenient(b"+5"), Some(5));
        assert_eq!(parse_u64_lenient(b" 5"), Some(5));
        assert_eq!(parse_u64_lenient(b"\t\n5"), Some(5));
        assert_eq!(parse_u64_lenient(b"-0"), Some(0));
        assert_eq!(parse_u64_lenient(b"7\x00junk"), Some(7));
        assert_eq!(
            parse_u64_lenient(b"-9223372036854775809"),
            Some(9_223_372_036_854_775_807)
        );
        assert_eq!(parse_u64_lenient(b"-18446744073709551615"), Some(1));
        for bad in [
            &b""[..],
            b"-1",
            b"-9223372036854775808",
            b"18446744073709551616",
            b"5 ",
            b" ",
            b"+",
            b"-",
            b"1.0",
            b"abc",
            b"\x005",
        ] {
            assert_eq!(
                parse_u64_lenient(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn f64_strtod_rules() {
        let ok: &[(&[u8], f64)] = &[
            (b"0", 0.0),
            (b"1", 1.0),
            (b"-1.5", -1.5),
            (b"+1.5", 1.5),
            (b".5", 0.5),
            (b"5.", 5.0),
            (b"1e3", 1000.0),
            (b"1E+3", 1000.0),
            (b"1e-3", 0.001),
            (b"0.1", 0.1),
            (b"2.71", 2.71),
            (b"0x10", 16.0),
            (b"0x1p3", 8.0),
            (b"0X1.8P1", 3.0),
            (b"-0x.8", -0.5),
            (b"1e308", 1e308),
            (b"1.7976931348623157e308", f64::MAX),
            (b"4.9e-324", 4.9e-324),
            (b"1e-310", 1e-310),
            (b"0e-999", 0.0),
            (b"007", 7.0),
        ];
        for (s, v) in ok {
            assert_eq!(parse_f64(s), Some(*v), "{:?}", String::from_utf8_lossy(s));
        }
        for s in [&b"inf"[..], b"+inf", b"INF", b"infinity", b"Infinity"] {
            assert_eq!(parse_f64(s), Some(f64::INFINITY));
        }
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"-INFINITY"), Some(f64::NEG_INFINITY));
        let neg_zero = parse_f64(b"-0").unwrap();
        assert!(neg_zero == 0.0 && neg_zero.is_sign_negative());
    }

    #[test]
    fn f64_rejections() {
        let long_junk = [b'1'; 300].iter().chain(b"x").copied().collect::<Vec<u8>>();
        for bad in [
            &b""[..],
            b" 1",
            b"\t1",
            b"1 ",
            b"1x",
            b"x",
            b".",
            b"-",
            b"+",
            b"e5",
            b"1e",
            b"1e+",
            b"nan",
            b"NaN",
            b"-nan",
            b"nan(123)",
            b"1e309",
            b"-1e309",
            b"1e-400",
            b"-1e-400",
            b"infx",
            b"inff",
            b"0x",
            b"1\x00",
            b"\x001",
            b"1,5",
            &long_junk,
        ] {
            assert_eq!(parse_f64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn f64_long_inputs_use_heap_path() {
        let mut s = b"0.".to_vec();
        s.extend(std::iter::repeat_n(b'0', 500));
        s.push(b'1');
        assert!(parse_f64(&s).is_none(), "1e-501 underflows to zero");
        let mut s = vec![b'1'];
        s.extend(std::iter::repeat_n(b'0', 200));
        assert_eq!(parse_f64(&s), Some(1e200));
        let mut s = vec![b'0'; STACK_NUMBER_BYTES - 1];
        s.push(b'3');
        assert_eq!(parse_f64(&s), Some(3.0));
    }

    #[test]
    fn fmt_i64_appends() {
        let mut out = b"x".to_vec();
        fmt_i64(-42, &mut out);
        fmt_i64(0, &mut out);
        fmt_i64(i64::MIN, &mut out);
        assert_eq!(out, b"x-420-9223372036854775808");
    }

    /// Every row was checked against redis-server 7.0.15 on x86_64 Linux
    /// (SET current, INCRBYFLOAT increment, GET): the reply and the stored
    /// value were identical in each successful case.
    #[test]
    fn incr_by_float_matches_redis() {
        use FloatError::NanOrInfinity as NanOrInf;
        use FloatError::NotAFloat;
        type Row<'a> = (&'a [u8], &'a [u8], Result<&'a [u8], FloatError>);
        let rows: &[Row] = &[
            (b"10.5", b"0.1", Ok(&b"10.6"[..])),
            (b"0.1", b"0.2", Ok(&b"0.3"[..])),
            (b"3.0", b"1.1", Ok(&b"4.1"[..])),
            (b"1e308", b"1e308", Ok(&b"199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096"[..])),
            (b"1e308", b"0", Ok(&b"99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048"[..])),
            (b"3.0", b"0", Ok(&b"3"[..])),
            (b"3", b"0", Ok(&b"3"[..])),
            (b"0", b"0", Ok(&b"0"[..])),
            (b"-0", b"0", Ok(&b"0"[..])),
            (b"-0", b"-0", Ok(&b"0"[..])),
            (b"5.0e3", b"2.0e2", Ok(&b"5200"[..])),
            (b"5", b"-5", Ok(&b"0"[..])),
            (b"0.1", b"-0.1", Ok(&b"0"[..])),
            (b"1", b"1e-20", Ok(&b"1"[..])),
            (b"-1e-20", b"0", Ok(&b"0"[..])),
            (b"1.5", b"abc", Err(NotAFloat)),
            (b"abc", b"1.5", Err(NotAFloat)),
            (b"", b"1", Err(NotAFloat)),
            (b"1", b"", Err(NotAFloat)),
            (b" 1", b"1", Err(NotAFloat)),
            (b"1", b" 1", Err(NotAFloat)),
            (b"1 ", b"1", Err(NotAFloat)),
            (b"1", b"1 ", Err(NotAFloat)),
            (b"inf", b"1", Err(NanOrInf)),
            (b"1", b"inf", Err(NanOrInf)),
            (b"-inf", b"1", Err(NanOrInf)),
            (b"1", b"-inf", Err(NanOrInf)),
            (b"inf", b"-inf", Err(NanOrInf)),
            (b"nan", b"1", Err(NotAFloat)),
            (b"1", b"nan", Err(NotAFloat)),
            (b"1", b"+inf", Err(NanOrInf)),
            (b"1", b"infinity", Err(NanOrInf)),
            (b"0x10", b"1", Ok(&b"17"[..])),
            (b"1", b"0x1p3", Ok(&b"9"[..])),
            (b"1", b"0x1.8p1", Ok(&b"4"[..])),
            (b"1e4932", b"1e4932", Err(NanOrInf)),
            (b"1", b"1e5000", Err(NotAFloat)),
            (b"1", b"1e-5000", Err(NotAFloat)),
            (b"1", b"1e-4940", Ok(&b"1"[..])),
            (b"1", b"1e-4950", Ok(&b"1"[..])),
            (b"9223372036854775807", b"1", Ok(&b"9223372036854775808"[..])),
            (b"-9223372036854775808", b"-1", Ok(&b"-9223372036854775809"[..])),
            (b"18446744073709551615", b"1", Ok(&b"18446744073709551616"[..])),
            (b"12345678901234567890123", b"1", Ok(&b"12345678901234567889920"[..])),
            (b"0.1", b"0.7", Ok(&b"0.8"[..])),
            (b"1.1", b"2.2", Ok(&b"3.3"[..])),
            (b"100", b"-99.9", Ok(&b"0.1"[..])),
            (b"3.14159265358979323846", b"0", Ok(&b"3.14159265358979324"[..])),
            (b"1", b"0.00000000000000001", Ok(&b"1.00000000000000001"[..])),
            (b"1", b"0.000000000000000005", Ok(&b"1"[..])),
            (b"1", b"0.000000000000000015", Ok(&b"1.00000000000000001"[..])),
            (b"123456789.123456789", b"0.000000001", Ok(&b"123456789.12345678999554366"[..])),
            (b"+1", b"+1", Ok(&b"2"[..])),
            (b"1.", b".5", Ok(&b"1.5"[..])),
            (b"1e", b"1", Err(NotAFloat)),
            (b"1", b"1e+", Err(NotAFloat)),
            (b"007", b"1", Ok(&b"8"[..])),
            (b"1", b"-.5", Ok(&b"0.5"[..])),
            (b"1\x00", b"1", Err(NotAFloat)),
            (b"1\x00junk", b"1", Err(NotAFloat)),
            (b"1", b"2\x00x", Err(NotAFloat)),
            (b"\x001", b"1", Err(NotAFloat)),
            (b"\x091", b"1", Err(NotAFloat)),
            (b"1", b"\x0a1", Err(NotAFloat)),
            (b"1.7976931348623157e308", b"1.7976931348623157e308", Ok(&b"359538626972463139991842093548208868096772893888658356970628841530353257046248792709403737216774171128857586838851041378617416726902272110715794556052955234146997955372576789671236326588091188869859074894581254961338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768"[..])),
            (b"-1e4932", b"-1e4932", Err(NanOrInf)),
            (b"1.18e4932", b"0.01e4932", Err(NanOrInf)),
            (b"1E2", b"1E-2", Ok(&b"100.01"[..])),
            (b"INF", b"-1", Err(NanOrInf)),
            (b"Infinity", b"0", Err(NanOrInf)),
            (b"0.30000000000000004", b"0", Ok(&b"0.30000000000000004"[..])),
            (b"2.5", b"2.5", Ok(&b"5"[..])),
            (b"1000000", b"0.000001", Ok(&b"1000000.00000099999999748"[..])),
            (b"1e16", b"1", Ok(&b"10000000000000001"[..])),
            (b"1e17", b"1", Ok(&b"100000000000000001"[..])),
            (b"1e20", b"1", Ok(&b"100000000000000000000"[..])),
            (b"1e21", b"1.5", Ok(&b"1000000000000000000000"[..])),
            (b"0.1", b"0.1", Ok(&b"0.2"[..])),
            (b"-0.5", b"0.5", Ok(&b"0"[..])),
            (b"-0.0000000000000000001", b"0", Ok(&b"0"[..])),
            (b"99999999999999999", b"1", Ok(&b"100000000000000000"[..])),
            (b"1e-17", b"0", Ok(&b"0.00000000000000001"[..])),
            (b"5e-18", b"0", Ok(&b"0"[..])),
            (b"6e-18", b"0", Ok(&b"0.00000000000000001"[..])),
            (b"4.9e-324", b"0", Ok(&b"0"[..])),
            (b"1e-310", b"0", Ok(&b"0"[..])),
            (b"0", b"1e-400", Ok(&b"0"[..])),
        ];
        for (current, increment, expected) in rows {
            let got = incr_by_float(current, increment);
            assert_eq!(
                got.as_deref().map_err(|e| *e),
                *expected,
                "{:?} + {:?}",
                String::from_utf8_lossy(current),
                String::from_utf8_lossy(increment)
            );
        }
    }

    #[test]
    fn incr_by_float_extremes_match_redis() {
        // 1e4932 + 0: Redis prints all 4933 integer digits.
        let big = incr_by_float(b"1e4932", b"0").unwrap();
        assert_eq!(big.len(), 4933);
        assert!(big.starts_with(b"100000000000000000000601894938796389132383777425453311477"));
        assert!(big.ends_with(b"8113791886622720"));
        // Inputs must be shorter than 5 KiB, however harmless the text.
        let mut ok = vec![b'0'; MAX_LONG_DOUBLE_CHARS - 2];
        ok.push(b'1');
        assert_eq!(incr_by_float(b"1", &ok).as_deref(), Ok(&b"2"[..]));
        ok.insert(0, b'0');
        assert_eq!(incr_by_float(b"1", &ok), Err(FloatError::NotAFloat));
        assert_eq!(incr_by_float(&ok, b"1"), Err(FloatError::NotAFloat));
        assert_eq!(
            incr_by_float(b"1", &[b'1'; MAX_LONG_DOUBLE_CHARS - 1]),
            Err(FloatError::NotAFloat),
            "1e5118 overflows even long double"
        );
    }

    #[test]
    fn check_long_double_classes() {
        assert_eq!(check_long_double(b"1.5"), Ok(()));
        assert_eq!(check_long_double(b"1e4000"), Ok(()));
        assert_eq!(check_long_double(b"inf"), Err(FloatError::NanOrInfinity));
        assert_eq!(
            check_long_double(b"-infinity"),
            Err(FloatError::NanOrInfinity)
        );
        assert_eq!(check_long_double(b"nan"), Err(FloatError::NotAFloat));
        assert_eq!(check_long_double(b""), Err(FloatError::NotAFloat));
        assert_eq!(check_long_double(b" 1"), Err(FloatError::NotAFloat));
        assert_eq!(check_long_double(b"1e5000"), Err(FloatError::NotAFloat));
        assert_eq!(check_long_double(b"1e-5000"), Err(FloatError::NotAFloat));
        assert_eq!(check_long_double(b"1\x00junk"), Err(FloatError::NotAFloat));
        assert_eq!(check_long_double(b"\x001"), Err(FloatError::NotAFloat));
        let mut longest = vec![b'0'; MAX_LONG_DOUBLE_CHARS - 1];
        longest.push(b'1');
        assert_eq!(check_long_double(&longest[1..]), Ok(()));
        assert_eq!(check_long_double(&longest), Err(FloatError::NotAFloat));
    }
}
