//! Ziplists, the packed encoding of Redis before 7.0 (RDB types
//! LIST_ZIPLIST, QUICKLIST nodes, HASH_ZIPLIST, ZSET_ZIPLIST). Shoal only
//! reads them, to load files written by older servers.
//!
//! Layout: `zlbytes u32 | zltail u32 | zllen u16 | entry* | 0xFF`. An entry
//! is `prevlen | encoding | data`: `prevlen` is 1 byte, or 0xFE and a u32;
//! strings have 6-, 14- (big-endian) or 32-bit (big-endian) lengths,
//! integers are 8, 16, 24, 32 or 64 bits little-endian, or 0..12 in the
//! encoding byte itself.

use super::listpack::Elem;
use super::BlobError;

const HEADER: usize = 10;
const END: u8 = 0xff;
const UNKNOWN_COUNT: u16 = u16::MAX;

/// A validated view of a ziplist's entries.
#[derive(Debug, Clone, Copy)]
pub struct Ziplist<'a> {
    data: &'a [u8],
    count: usize,
}

impl<'a> Ziplist<'a> {
    pub fn parse(data: &'a [u8]) -> Result<Ziplist<'a>, BlobError> {
        if data.len() < HEADER + 1 {
            return Err(BlobError::new(0, "ziplist shorter than its header"));
        }
        let total = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
        if total != data.len() {
            return Err(BlobError::new(0, "ziplist total length does not match"));
        }
        let tail = u32::from_le_bytes([data[4], data[5], data[6], data[7]]) as usize;
        if tail >= data.len() {
            return Err(BlobError::new(4, "ziplist tail offset out of range"));
        }
        if data[data.len() - 1] != END {
            return Err(BlobError::new(data.len() - 1, "ziplist not terminated"));
        }
        let stated = u16::from_le_bytes([data[8], data[9]]);
        let mut pos = HEADER;
        let mut count = 0usize;
        while pos < data.len() - 1 {
            let (_, next) = decode(data, pos)?;
            pos = next;
            count += 1;
        }
        if pos != data.len() - 1 {
            return Err(BlobError::new(pos, "ziplist entry overruns the terminator"));
        }
        if stated != UNKNOWN_COUNT && usize::from(stated) != count {
            return Err(BlobError::new(8, "ziplist entry count does not match"));
        }
        Ok(Ziplist { data, count })
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn iter(&self) -> Iter<'a> {
        Iter {
            data: self.data,
            pos: HEADER,
        }
    }
}

pub struct Iter<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        if self.pos + 1 >= self.data.len() {
            return None;
        }
        let (elem, next) = decode(self.data, self.pos).ok()?;
        self.pos = next;
        Some(elem)
    }
}

fn get(data: &[u8], at: usize, n: usize) -> Result<&[u8], BlobError> {
    data.get(at..at + n)
        .ok_or(BlobError::new(at, "ziplist entry truncated"))
}

fn decode(data: &[u8], pos: usize) -> Result<(Elem<'_>, usize), BlobError> {
    let p = match data[pos] {
        0xfe => pos + 5,
        END => {
            return Err(BlobError::new(
                pos,
                "ziplist entry where the end was expected",
            ))
        }
        _ => pos + 1,
    };
    let e = *get(data, p, 1)?.first().unwrap_or(&0);
    let int = |n: usize| -> Result<(i64, usize), BlobError> {
        let b = get(data, p + 1, n)?;
        let mut buf = [0u8; 8];
        buf[..n].copy_from_slice(b);
        // Sign-extend from the top of the n-byte value.
        let shift = 64 - 8 * n as u32;
        Ok(((i64::from_le_bytes(buf) << shift) >> shift, p + 1 + n))
    };
    let (elem, next) = match e >> 6 {
        0 => str_at(data, p + 1, usize::from(e & 0x3f))?,
        1 => {
            let lo = get(data, p + 1, 1)?[0];
            let n = (usize::from(e & 0x3f) << 8) | usize::from(lo);
            str_at(data, p + 2, n)?
        }
        2 => {
            if e != 0x80 {
                return Err(BlobError::new(p, "invalid ziplist string encoding"));
            }
            let b = get(data, p + 1, 4)?;
            let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
            str_at(data, p + 5, n)?
        }
        _ => {
            let (v, next) = match e {
                0xc0 => int(2)?,
                0xd0 => int(4)?,
                0xe0 => int(8)?,
                0xf0 => int(3)?,
                0xfe => int(1)?,
                0xf1..=0xfd => (i64::from(e & 0x0f) - 1, p + 1),
                _ => return Err(BlobError::new(p, "invalid ziplist integer encoding")),
            };
            (Elem::Int(v), next)
        }
    };
    if next >= data.len() {
        return Err(BlobError::new(pos, "ziplist entry overruns the ziplist"));
    }
    Ok((elem, next))
}

fn str_at(data: &[u8], start: usize, n: usize) -> Result<(Elem<'_>, usize), BlobError> {
    let s = start
        .checked_add(n)
        .and_then(|end| data.get(start..end))
        .ok_or(BlobError::new(start, "ziplist string overruns the ziplist"))?;
    Ok((Elem::Str(s), start + n))
}

/// Builds a ziplist the way Redis 6 did; only tests need to write them.
#[cfg(test)]
pub fn build(elems: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![0u8; HEADER];
    let mut prev = 0usize;
    let mut tail = HEADER;
    for e in elems {
        let start = out.len();
        tail = start;
        if prev < 254 {
            out.push(prev as u8);
        } else {
            out.push(0xfe);
            out.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        match crate::util::num::parse_i64(e) {
            Some(v @ 0..=12) => out.push(0xf1 + v as u8),
            Some(v) if i8::try_from(v).is_ok() => {
                out.push(0xfe);
                out.push(v as u8);
            }
            Some(v) if i16::try_from(v).is_ok() => {
                out.push(0xc0);
                out.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Some(v) if (-8_388_608..=8_388_607).contains(&v) => {
                out.push(0xf0);
                out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            Some(v) if i32::try_from(v).is_ok() => {
                out.push(0xd0);
                out.extend_from_slice(&(v as i32).to_le_bytes());
            }
            Some(v) => {
                out.push(0xe0);
                out.extend_from_slice(&v.to_le_bytes());
            }
            None if e.len() < 64 => {
                out.push(e.len() as u8);
                out.extend_from_slice(e);
            }
            None if e.len() < 16384 => {
                out.push(0x40 | (e.len() >> 8) as u8);
                out.push(e.len() as u8);
                out.extend_from_slice(e);
            }
            None => {
                out.push(0x80);
                out.extend_from_slice(&(e.len() as u32).to_be_bytes());
                out.extend_from_slice(e);
            }
        }
        prev = out.len() - start;
    }
    out.push(END);
    let total = out.len() as u32;
    out[0..4].copy_from_slice(&total.to_le_bytes());
    out[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
    let count = u16::try_from(elems.len()).unwrap_or(UNKNOWN_COUNT);
    out[8..10].copy_from_slice(&count.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_round_trips() {
        let long = vec![b'z'; 300];
        let huge = vec![b'h'; 20_000];
        let ints: Vec<String> = [
            0i64,
            12,
            13,
            -1,
            127,
            -128,
            300,
            -30000,
            8_000_000,
            -8_000_000,
            2_000_000_000,
            i64::MIN,
            i64::MAX,
        ]
        .iter()
        .map(|v| v.to_string())
        .collect();
        let mut elems: Vec<&[u8]> = vec![b"", b"abc", &long, &huge];
        elems.extend(ints.iter().map(|s| s.as_bytes()));
        let zl = build(&elems);
        let parsed = Ziplist::parse(&zl).expect("valid");
        assert_eq!(parsed.len(), elems.len());
        let mut buf = itoa::Buffer::new();
        for (got, want) in parsed.iter().zip(&elems) {
            assert_eq!(got.bytes(&mut buf), *want);
        }
    }

    #[test]
    fn corrupt_ziplists_are_refused() {
        let good = build(&[b"abc", b"1000", b"x"]);
        assert!(Ziplist::parse(&good).is_ok());
        for cut in 0..good.len() {
            assert!(Ziplist::parse(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = good.clone();
        bad[11] = 50; // string length past the end
        assert!(Ziplist::parse(&bad).is_err());
        let mut bad = good.clone();
        bad[8] = 7;
        assert!(Ziplist::parse(&bad).is_err());
        let mut bad = good;
        bad[11] = 0xc5; // no such integer encoding
        assert!(Ziplist::parse(&bad).is_err());
    }
}
