//! Byte-level helpers shared by the request and frame parsers.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Position of the first `needle` in `hay`.
///
/// Eight bytes per step without a dependency: lines are usually short, but inline requests and reply lines can be
/// up to tens of kilobytes and must be searched on every read.
#[inline]
pub(crate) fn find_byte(needle: u8, hay: &[u8]) -> Option<usize> {
    let pattern = LO.wrapping_mul(u64::from(needle));
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ pattern;
        // Bytes equal to the needle are zero in x. A borrow can only flag bytes above a real zero byte, so the
        // lowest flagged byte is exact.
        let zeros = x.wrapping_sub(LO) & !x & HI;
        if zeros != 0 {
            return Some(base + (zeros.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|i| base + i)
}

/// Redis's `string2ll`: the strict integer syntax Redis accepts for lengths and counts. No sign other than a
/// leading `-`, no leading zeros, no spaces, "-0" rejected, at most 20 characters, no overflow.
#[inline]
pub(crate) fn string2ll(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let (&first, rest) = digits.split_first()?;
    if !(b'1'..=b'9').contains(&first) {
        return None;
    }
    let mut v = u64::from(first - b'0');
    for &c in rest {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some(0i64.wrapping_sub(v as i64))
    } else {
        i64::try_from(v).ok()
    }
}

/// C's `isspace` in the "C" locale, which `sdssplitargs` uses to skip blanks between arguments.
#[inline]
pub(crate) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

#[inline]
pub(crate) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_byte_matches_naive_search() {
        let mut hay = Vec::new();
        for len in 0..40 {
            hay.clear();
            hay.extend((0..len).map(|i| (i * 7 % 251) as u8 | 0x40));
            for at in 0..=len {
                let mut h = hay.clone();
                if at < len {
                    h[at] = b'\r';
                    // A second needle later on must not be reported instead of the first.
                    if at + 3 < len {
                        h[at + 3] = b'\r';
                    }
                }
                let want = h.iter().position(|&b| b == b'\r');
                assert_eq!(find_byte(b'\r', &h), want, "len {len} at {at}");
            }
        }
        // Bytes around the needle value must not produce false positives through borrows.
        let h = [0x0c, 0x0e, 0x0d + 0x80, 0x0c, 0x01, 0x00, 0xff, 0x0e, 0x0d];
        assert_eq!(find_byte(0x0d, &h), Some(8));
        assert_eq!(find_byte(0x00, &h), Some(5));
        assert_eq!(find_byte(0xff, &h), Some(6));
    }

    #[test]
    fn string2ll_follows_redis() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"7"), Some(7));
        assert_eq!(string2ll(b"-1"), Some(-1));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999",
            b"000000000000000000001",
        ] {
            assert_eq!(string2ll(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
