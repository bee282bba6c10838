//! Reply encoders. Each appends one reply (or an aggregate's header) to `out`.
//!
//! Where a function takes `resp3`, `true` writes the RESP3 type and `false` the RESP2 form Redis 7.0 falls back
//! to for a RESP2 client.

use std::fmt::Write as _;

const CRLF: &[u8] = b"\r\n";

/// `+OK\r\n`
#[inline]
pub fn ok(out: &mut Vec<u8>) {
    out.extend_from_slice(b"+OK\r\n");
}

/// `+s\r\n`. `s` must not contain `\r` or `\n`.
#[inline]
pub fn simple(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'+');
    out.extend_from_slice(s);
    out.extend_from_slice(CRLF);
}

/// `-msg\r\n`, where `msg` starts with its error code (`b"ERR syntax error"`). Any `\r` or `\n` in `msg` becomes
/// a space, as Redis does, so that the reply stays one line whatever user data the message quotes.
#[inline]
pub fn error(out: &mut Vec<u8>, msg: &[u8]) {
    out.push(b'-');
    let start = out.len();
    out.extend_from_slice(msg);
    for b in &mut out[start..] {
        if *b == b'\r' || *b == b'\n' {
            *b = b' ';
        }
    }
    out.extend_from_slice(CRLF);
}

/// `:v\r\n`
#[inline]
pub fn integer(out: &mut Vec<u8>, v: i64) {
    out.push(b':');
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    out.extend_from_slice(CRLF);
}

/// `$len\r\ndata\r\n`
#[inline]
pub fn bulk(out: &mut Vec<u8>, data: &[u8]) {
    header(out, b'$', data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(CRLF);
}

/// A missing value: RESP2 `$-1\r\n`, RESP3 `_\r\n`.
#[inline]
pub fn null(out: &mut Vec<u8>, resp3: bool) {
    out.extend_from_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" });
}

/// A missing aggregate: RESP2 `*-1\r\n`, RESP3 `_\r\n`.
#[inline]
pub fn null_array(out: &mut Vec<u8>, resp3: bool) {
    out.extend_from_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" });
}

/// `*n\r\n`; `n` elements follow.
#[inline]
pub fn array_len(out: &mut Vec<u8>, n: usize) {
    header(out, b'*', n);
}

/// `%n\r\n`, or `*2n\r\n` for RESP2; `n` key/value pairs follow.
#[inline]
pub fn map_len(out: &mut Vec<u8>, n: usize, resp3: bool) {
    if resp3 {
        header(out, b'%', n);
    } else {
        header(out, b'*', n.saturating_mul(2));
    }
}

/// `~n\r\n`, or `*n\r\n` for RESP2.
#[inline]
pub fn set_len(out: &mut Vec<u8>, n: usize, resp3: bool) {
    header(out, if resp3 { b'~' } else { b'*' }, n);
}

/// `>n\r\n`, or `*n\r\n` for RESP2.
#[inline]
pub fn push_len(out: &mut Vec<u8>, n: usize, resp3: bool) {
    header(out, if resp3 { b'>' } else { b'*' }, n);
}

/// `#t\r\n` / `#f\r\n`, or `:1\r\n` / `:0\r\n` for RESP2.
#[inline]
pub fn boolean(out: &mut Vec<u8>, v: bool, resp3: bool) {
    out.extend_from_slice(match (resp3, v) {
        (true, true) => b"#t\r\n",
        (true, false) => b"#f\r\n",
        (false, true) => b":1\r\n",
        (false, false) => b":0\r\n",
    });
}

/// A double as Redis 7.0's `addReplyDouble` writes it: `%.17g`, with infinities spelled `inf` / `-inf` (and NaN
/// as glibc spells it, `nan` / `-nan`). RESP3 `,text\r\n`; RESP2 a bulk string of the same text.
#[inline]
pub fn double(out: &mut Vec<u8>, v: f64, resp3: bool) {
    let mut text = G17::new();
    g17(v, &mut text);
    let text = text.as_bytes();
    if resp3 {
        out.push(b',');
        out.extend_from_slice(text);
        out.extend_from_slice(CRLF);
    } else {
        bulk(out, text);
    }
}

/// RESP3 `=len\r\nfmt:text\r\n`; RESP2 a bulk string of `text` alone.
#[inline]
pub fn verbatim(out: &mut Vec<u8>, format: &[u8; 3], text: &[u8], resp3: bool) {
    if resp3 {
        header(out, b'=', text.len() + 4);
        out.extend_from_slice(format);
        out.push(b':');
        out.extend_from_slice(text);
        out.extend_from_slice(CRLF);
    } else {
        bulk(out, text);
    }
}

/// RESP3 `(digits\r\n`; RESP2 a bulk string of the digits.
#[inline]
pub fn big_number(out: &mut Vec<u8>, digits: &[u8], resp3: bool) {
    if resp3 {
        out.push(b'(');
        out.extend_from_slice(digits);
        out.extend_from_slice(CRLF);
    } else {
        bulk(out, digits);
    }
}

/// Appends `v` formatted exactly as C's `printf("%.17g", v)` does with glibc: 17 significant digits correctly
/// rounded (ties to even), trailing zeros dropped, exponent form `d.ddde±XX` below 1e-4 and from 1e17 on.
/// Infinities are `inf` / `-inf`, NaN `nan` / `-nan` by its sign bit.
pub fn fmt_double_g17(v: f64, out: &mut Vec<u8>) {
    let mut text = G17::new();
    g17(v, &mut text);
    out.extend_from_slice(text.as_bytes());
}

#[inline]
fn header(out: &mut Vec<u8>, ty: u8, n: usize) {
    out.push(ty);
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(CRLF);
}

/// Room for the longest `%.17g` output, `-1.2345678901234567e-308` (24 bytes), and for Rust's `{:.16e}` of it.
const G17_CAP: usize = 32;

/// A fixed buffer so formatting a double never allocates.
struct G17 {
    buf: [u8; G17_CAP],
    len: usize,
}

impl G17 {
    fn new() -> Self {
        G17 {
            buf: [0; G17_CAP],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn extend(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|&b| self.push(b));
    }
}

impl std::fmt::Write for G17 {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.len + s.len() > G17_CAP {
            return Err(std::fmt::Error);
        }
        self.extend(s.as_bytes());
        Ok(())
    }
}

fn g17(v: f64, out: &mut G17) {
    if v.is_nan() {
        out.extend(if v.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        });
        return;
    }
    if v.is_infinite() {
        out.extend(if v < 0.0 { b"-inf" } else { b"inf" });
        return;
    }
    // Rust's `{:.16e}` is exact: the decimal value of v rounded to 17 significant digits, ties to even, which is
    // what glibc's printf computes too. What remains is %g's choice of notation and trimming.
    let mut sci = G17::new();
    if write!(sci, "{:.16e}", v).is_err() {
        return;
    }
    let s = sci.as_bytes();
    let (negative, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    // s is now "d.dddddddddddddddde<exp>".
    let mut digits = [b'0'; 17];
    let Some(e_at) = s.iter().position(|&b| b == b'e') else {
        return;
    };
    let mantissa = s[..e_at].iter().filter(|b| b.is_ascii_digit());
    for (slot, &d) in digits.iter_mut().zip(mantissa) {
        *slot = d;
    }
    let exp: i32 = std::str::from_utf8(&s[e_at + 1..])
        .ok()
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    // Significant digits left once trailing zeros are dropped (at least one).
    let mut sig = 17;
    while sig > 1 && digits[sig - 1] == b'0' {
        sig -= 1;
    }
    if negative {
        out.push(b'-');
    }
    if !(-4..17).contains(&exp) {
        out.push(digits[0]);
        if sig > 1 {
            out.push(b'.');
            out.extend(&digits[1..sig]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let abs = exp.unsigned_abs();
        if abs < 10 {
            out.push(b'0');
        }
        out.extend(itoa::Buffer::new().format(abs).as_bytes());
    } else if exp >= 0 {
        let int_digits = exp as usize + 1;
        out.extend(&digits[..int_digits]);
        if sig > int_digits {
            out.push(b'.');
            out.extend(&digits[int_digits..sig]);
        }
    } else {
        out.extend(b"0.");
        for _ in 0..(-exp - 1) {
            out.push(b'0');
        }
        out.extend(&digits[..sig]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: f64) -> String {
        let mut out = Vec::new();
        fmt_double_g17(v, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn g17_examples_from_redis() {
        assert_eq!(g(1.1), "1.1000000000000001");
        assert_eq!(g(3.0), "3");
        assert_eq!(g(1e300), "1.0000000000000001e+300");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(1e-5), "1.0000000000000001e-05");
        assert_eq!(g(0.0), "0");
        assert_eq!(g(-0.0), "-0");
        assert_eq!(g(f64::INFINITY), "inf");
        assert_eq!(g(f64::NEG_INFINITY), "-inf");
        assert_eq!(g(f64::NAN), "nan");
        assert_eq!(g(-f64::NAN), "-nan");
        assert_eq!(g(1e16), "10000000000000000");
        assert_eq!(g(1e17), "1e+17");
        assert_eq!(g(123456789012345678.0), "1.2345678901234568e+17");
        assert_eq!(g(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(g(f64::MIN_POSITIVE), "2.2250738585072014e-308");
        assert_eq!(g(5e-324), "4.9406564584124654e-324");
        assert_eq!(g(-1.5), "-1.5");
    }
}
