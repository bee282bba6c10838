//! Zipmaps, the packed hash encoding of Redis 2.x (RDB type HASH_ZIPMAP),
//! read only: `zmlen u8 | (len key len free value pad)* | 0xFF`, where a
//! length is one byte below 254, or 254 and a little-endian u32, and
//! `free` counts unused bytes after the value.

use super::BlobError;

const BIGLEN: u8 = 254;
const END: u8 = 0xff;

/// Calls `f(field, value)` for every pair of a zipmap, after checking it.
pub fn for_each_pair<'a>(
    data: &'a [u8],
    mut f: impl FnMut(&'a [u8], &'a [u8]),
) -> Result<usize, BlobError> {
    let mut pos = 1usize;
    if data.is_empty() {
        return Err(BlobError::new(0, "zipmap is empty"));
    }
    let mut pairs = 0;
    while let Some((field, next)) = read_str(data, pos, false)? {
        let (value, next) = read_str(data, next, true)?
            .ok_or(BlobError::new(next, "zipmap field without a value"))?;
        f(field, value);
        pairs += 1;
        pos = next;
    }
    if pos + 1 != data.len() {
        return Err(BlobError::new(pos, "zipmap has bytes after its end"));
    }
    Ok(pairs)
}

/// The string at `pos` (a value skips its free bytes), or `None` at the end.
fn read_str(data: &[u8], pos: usize, value: bool) -> Result<Option<(&[u8], usize)>, BlobError> {
    let b = *data
        .get(pos)
        .ok_or(BlobError::new(pos, "zipmap truncated"))?;
    let (len, mut p) = match b {
        END => return Ok(None),
        BIGLEN => {
            let l = data
                .get(pos + 1..pos + 5)
                .ok_or(BlobError::new(pos, "zipmap truncated"))?;
            (
                u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize,
                pos + 5,
            )
        }
        n => (usize::from(n), pos + 1),
    };
    let mut free = 0;
    if value {
        free = usize::from(*data.get(p).ok_or(BlobError::new(p, "zipmap truncated"))?);
        p += 1;
    }
    let s = p
        .checked_add(len)
        .and_then(|end| data.get(p..end))
        .ok_or(BlobError::new(p, "zipmap string overruns the zipmap"))?;
    let next = p + len + free;
    if next >= data.len() {
        return Err(BlobError::new(p, "zipmap string overruns the zipmap"));
    }
    Ok(Some((s, next)))
}

/// Builds a zipmap as Redis 2.x did; only tests need to write them.
#[cfg(test)]
pub fn build(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut out = vec![pairs.len().min(253) as u8];
    let put_len = |out: &mut Vec<u8>, n: usize| {
        if n < usize::from(BIGLEN) {
            out.push(n as u8);
        } else {
            out.push(BIGLEN);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
    };
    for (f, v) in pairs {
        put_len(&mut out, f.len());
        out.extend_from_slice(f);
        put_len(&mut out, v.len());
        out.push(2); // two bytes of slack, as after an in-place update
        out.extend_from_slice(v);
        out.extend_from_slice(b"..");
    }
    out.push(END);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip() {
        let long = vec![b'v'; 300];
        let pairs: Vec<(&[u8], &[u8])> = vec![(b"a", b"1"), (b"field", &long), (b"", b"")];
        let zm = build(&pairs);
        let mut got = Vec::new();
        let n = for_each_pair(&zm, |f, v| got.push((f.to_vec(), v.to_vec()))).expect("valid");
        assert_eq!(n, 3);
        let want: Vec<(Vec<u8>, Vec<u8>)> = pairs
            .iter()
            .map(|(f, v)| (f.to_vec(), v.to_vec()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn corrupt_zipmaps_are_refused() {
        let zm = build(&[(b"abc", b"defg")]);
        for cut in 0..zm.len() {
            assert!(
                for_each_pair(&zm[..cut], |_, _| {}).is_err(),
                "cut at {cut}"
            );
        }
        let mut bad = zm.clone();
        bad[1] = 200;
        assert!(for_each_pair(&bad, |_, _| {}).is_err());
        let mut trailing = zm;
        trailing.push(0);
        assert!(for_each_pair(&trailing, |_, _| {}).is_err());
    }
}
