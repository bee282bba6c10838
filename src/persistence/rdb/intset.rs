//! Intsets as RDB stores them (SET_INTSET): `encoding u32 | length u32 |
//! values`, all little-endian, `encoding` the width in bytes (2, 4 or 8)
//! of every value, values strictly ascending.

use super::BlobError;

/// The narrowest Redis intset width holding every value of `sorted`.
fn width_for(min: i64, max: i64) -> usize {
    let fits = |w: u32| {
        let lo = -(1i64 << (w - 1));
        let hi = (1i64 << (w - 1)) - 1;
        min >= lo && max <= hi
    };
    if fits(16) {
        2
    } else if fits(32) {
        4
    } else {
        8
    }
}

/// Appends the intset holding the `len` values of `sorted` (strictly
/// ascending, so `min` and `max` are its first and last) to `out`.
pub fn encode(
    len: usize,
    min: i64,
    max: i64,
    sorted: impl Iterator<Item = i64>,
    out: &mut Vec<u8>,
) {
    let w = width_for(min.min(0), max.max(0));
    out.reserve(8 + w * len);
    out.extend_from_slice(&(w as u32).to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    for v in sorted {
        out.extend_from_slice(&v.to_le_bytes()[..w]);
    }
}

/// Decodes and checks an intset into `out` (cleared first).
pub fn decode(data: &[u8], out: &mut Vec<i64>) -> Result<(), BlobError> {
    out.clear();
    let header = data
        .get(0..8)
        .ok_or(BlobError::new(0, "intset shorter than its header"))?;
    let w = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if !matches!(w, 2 | 4 | 8) {
        return Err(BlobError::new(0, "invalid intset encoding"));
    }
    if len.checked_mul(w).and_then(|n| n.checked_add(8)) != Some(data.len()) {
        return Err(BlobError::new(4, "intset length does not match its size"));
    }
    out.reserve(len);
    for (i, chunk) in data[8..].chunks_exact(w).enumerate() {
        let mut buf = [0u8; 8];
        buf[..w].copy_from_slice(chunk);
        let shift = 64 - 8 * w as u32;
        let v = (i64::from_le_bytes(buf) << shift) >> shift;
        if out.last().is_some_and(|&prev| prev >= v) {
            return Err(BlobError::new(
                8 + i * w,
                "intset values are not strictly ascending",
            ));
        }
        out.push(v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_and_round_trips() {
        for (values, width) in [
            (vec![1i64, 2, 3], 2u8),
            (vec![-32768, 32767], 2),
            (vec![-32769, 5], 4),
            (vec![0, 2_147_483_647], 4),
            (vec![i64::MIN, 0, i64::MAX], 8),
            (vec![], 2),
        ] {
            let mut blob = Vec::new();
            let (lo, hi) = (
                values.first().copied().unwrap_or(0),
                values.last().copied().unwrap_or(0),
            );
            encode(values.len(), lo, hi, values.iter().copied(), &mut blob);
            assert_eq!(blob[0], width, "{values:?}");
            let mut back = Vec::new();
            decode(&blob, &mut back).expect("valid");
            assert_eq!(back, values);
        }
    }

    #[test]
    fn known_bytes() {
        let mut blob = Vec::new();
        encode(3, 1, 3, [1i64, 2, 3].into_iter(), &mut blob);
        assert_eq!(
            blob,
            b"\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00"
        );
    }

    #[test]
    fn corrupt_intsets_are_refused() {
        let mut out = Vec::new();
        assert!(decode(b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00", &mut out).is_err());
        assert!(decode(b"\x03\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00", &mut out).is_err());
        assert!(decode(
            b"\x02\x00\x00\x00\x02\x00\x00\x00\x02\x00\x01\x00",
            &mut out
        )
        .is_err());
        assert!(decode(
            b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00\x01\x00",
            &mut out
        )
        .is_err());
        assert!(decode(b"\x02\x00\x00", &mut out).is_err());
        assert!(decode(b"\x08\x00\x00\x00\xff\xff\xff\xff", &mut out).is_err());
    }
}
