//! Listpacks: the packed encoding Redis 7.0 stores small hashes and sorted
//! sets, and every quicklist node, in (and writes to RDB files as one
//! string).
//!
//! Layout: `total-bytes u32 | count u16 | entry* | 0xFF`, little-endian,
//! `count` 65535 when unknown. An entry is `encoding+data | backlen`: a
//! string or an integer in the narrowest of seven encodings, then the
//! length of `encoding+data` in 1-5 bytes that can be read backwards.
//! Strings that are canonical integers (Redis's `string2ll`) are stored as
//! integers, exactly as `lpAppend` does, so a listpack built here is the
//! one Redis would build from the same elements.

use crate::util::num::parse_i64;

use super::BlobError;

/// One listpack element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> Elem<'a> {
    /// The element as bytes, integers formatted into `buf`.
    pub fn bytes<'b>(&self, buf: &'b mut itoa::Buffer) -> &'b [u8]
    where
        'a: 'b,
    {
        match *self {
            Elem::Int(v) => buf.format(v).as_bytes(),
            Elem::Str(s) => s,
        }
    }
}

const HEADER: usize = 6;
const EOF: u8 = 0xff;
/// `count` saying "count the entries".
const UNKNOWN_COUNT: u16 = u16::MAX;

/// Bytes of the backlen for an entry whose encoding+data is `l` bytes.
fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    }
}

/// The backlen bytes for `l`, in a fixed array, and how many are used.
fn backlen(l: usize) -> ([u8; 5], usize) {
    let n = backlen_size(l);
    let mut out = [0u8; 5];
    // Most significant 7-bit group first; every byte but the first has its
    // high bit set, so a reader walking backwards knows where to stop.
    for (j, i) in (0..n).rev().enumerate() {
        let group = ((l >> (7 * i)) & 127) as u8;
        out[j] = if j == 0 { group } else { group | 128 };
    }
    (out, n)
}

fn put_backlen(out: &mut Vec<u8>, l: usize) {
    let (bytes, n) = backlen(l);
    out.extend_from_slice(&bytes[..n]);
}

/// Bytes an integer entry's encoding+data take.
fn int_size(v: i64) -> usize {
    if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if i16::try_from(v).is_ok() {
        3
    } else if (-8_388_608..=8_388_607).contains(&v) {
        4
    } else if i32::try_from(v).is_ok() {
        5
    } else {
        9
    }
}

fn str_header_size(len: usize) -> usize {
    if len < 64 {
        1
    } else if len < 4096 {
        2
    } else {
        5
    }
}

/// Bytes `elem` takes as an entry, backlen included.
pub fn entry_size(elem: &[u8]) -> usize {
    let l = match parse_i64(elem) {
        Some(v) => int_size(v),
        None => str_header_size(elem.len()) + elem.len(),
    };
    l + backlen_size(l)
}

/// Builds a listpack in a reusable buffer.
#[derive(Debug)]
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            buf: vec![0; HEADER],
            count: 0,
        }
    }

    /// Starts a new, empty listpack, keeping the buffer's capacity.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.buf.resize(HEADER, 0);
        self.count = 0;
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// The size the finished listpack will have.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    /// Appends an element, as an integer when it is a canonical one.
    pub fn push(&mut self, elem: &[u8]) {
        match parse_i64(elem) {
            Some(v) => self.push_int(v),
            None => self.push_str(elem),
        }
    }

    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        let b = &mut self.buf;
        if (0..=127).contains(&v) {
            b.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u16) & 0x1fff;
            b.push(0xc0 | (u >> 8) as u8);
            b.push(u as u8);
        } else if let Ok(x) = i16::try_from(v) {
            b.push(0xf1);
            b.extend_from_slice(&x.to_le_bytes());
        } else if (-8_388_608..=8_388_607).contains(&v) {
            b.push(0xf2);
            b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if let Ok(x) = i32::try_from(v) {
            b.push(0xf3);
            b.extend_from_slice(&x.to_le_bytes());
        } else {
            b.push(0xf4);
            b.extend_from_slice(&v.to_le_bytes());
        }
        let l = b.len() - start;
        put_backlen(b, l);
        self.count += 1;
    }

    /// Appends `s` as a string, even if it looks like an integer.
    pub fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let b = &mut self.buf;
        let len = s.len();
        if len < 64 {
            b.push(0x80 | len as u8);
        } else if len < 4096 {
            b.push(0xe0 | (len >> 8) as u8);
            b.push(len as u8);
        } else {
            b.push(0xf0);
            // Callers keep listpacks far below 4 GiB (Redis's limit is 1 GiB).
            b.extend_from_slice(&(len as u32).to_le_bytes());
        }
        b.extend_from_slice(s);
        let l = b.len() - start;
        put_backlen(b, l);
        self.count += 1;
    }

    /// Terminates the listpack and returns it; [`Builder::clear`] before
    /// building the next one.
    pub fn finish(&mut self) -> &[u8] {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        let count = u16::try_from(self.count).unwrap_or(UNKNOWN_COUNT);
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        &self.buf
    }
}

/// A validated view of a listpack's entries.
#[derive(Debug, Clone, Copy)]
pub struct Listpack<'a> {
    data: &'a [u8],
    count: usize,
}

impl<'a> Listpack<'a> {
    /// Checks the header and every entry of `data`; the errors carry the
    /// offset within `data`.
    pub fn parse(data: &'a [u8]) -> Result<Listpack<'a>, BlobError> {
        let stated = header(data)?;
        let mut pos = HEADER;
        let mut count = 0usize;
        while pos < data.len() - 1 {
            let (_, next) = decode(data, pos, true)?;
            pos = next;
            count += 1;
        }
        trailer(data, pos, stated, count)?;
        Ok(Listpack { data, count })
    }

    /// Checks `data` and calls `f` with each element in one pass (elements
    /// before a fault have been passed on when the error returns); returns
    /// the element count.
    pub fn for_each(data: &'a [u8], mut f: impl FnMut(Elem<'a>)) -> Result<usize, BlobError> {
        let stated = header(data)?;
        let mut pos = HEADER;
        let mut count = 0usize;
        while pos < data.len() - 1 {
            let (elem, next) = decode(data, pos, true)?;
            f(elem);
            pos = next;
            count += 1;
        }
        trailer(data, pos, stated, count)?;
        Ok(count)
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

/// Checks the header and terminator of `data`; returns the stated count.
fn header(data: &[u8]) -> Result<u16, BlobError> {
    if data.len() < HEADER + 1 {
        return Err(BlobError::new(0, "listpack shorter than its header"));
    }
    let total = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
    if total != data.len() {
        return Err(BlobError::new(0, "listpack total length does not match"));
    }
    if data[data.len() - 1] != EOF {
        return Err(BlobError::new(data.len() - 1, "listpack not terminated"));
    }
    Ok(u16::from_le_bytes([data[4], data[5]]))
}

/// Checks that the entries, ending at `pos`, reach the terminator and
/// number what the header says.
fn trailer(data: &[u8], pos: usize, stated: u16, count: usize) -> Result<(), BlobError> {
    if pos != data.len() - 1 {
        return Err(BlobError::new(
            pos,
            "listpack entry overruns the terminator",
        ));
    }
    if stated != UNKNOWN_COUNT && usize::from(stated) != count {
        return Err(BlobError::new(4, "listpack entry count does not match"));
    }
    Ok(())
}

/// The entries of a validated listpack.
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
        // Validated by `parse`; a failure here only ends the iteration.
        let (elem, next) = decode(self.data, self.pos, false).ok()?;
        self.pos = next;
        Some(elem)
    }
}

fn bytes<const N: usize>(data: &[u8], at: usize) -> Result<[u8; N], BlobError> {
    let s = data
        .get(at..at + N)
        .ok_or(BlobError::new(at, "listpack entry truncated"))?;
    let mut out = [0u8; N];
    out.copy_from_slice(s);
    Ok(out)
}

/// The entry at `pos` (not the terminator) and where the next one starts;
/// `check` verifies its back-length too (iterating a validated listpack
/// skips that).
fn decode(data: &[u8], pos: usize, check: bool) -> Result<(Elem<'_>, usize), BlobError> {
    let b = data[pos];
    let (elem, len) = if b & 0x80 == 0 {
        (Elem::Int(i64::from(b)), 1)
    } else if b & 0xc0 == 0x80 {
        let n = usize::from(b & 0x3f);
        (string(data, pos, 1, n)?, 1 + n)
    } else if b & 0xe0 == 0xc0 {
        let [lo] = bytes::<1>(data, pos + 1)?;
        let u = (i64::from(b & 0x1f) << 8) | i64::from(lo);
        let v = if u >= 1 << 12 { u - (1 << 13) } else { u };
        (Elem::Int(v), 2)
    } else if b & 0xf0 == 0xe0 {
        let [lo] = bytes::<1>(data, pos + 1)?;
        let n = (usize::from(b & 0x0f) << 8) | usize::from(lo);
        (string(data, pos, 2, n)?, 2 + n)
    } else {
        match b {
            0xf0 => {
                let n = u32::from_le_bytes(bytes::<4>(data, pos + 1)?) as usize;
                (string(data, pos, 5, n)?, 5 + n)
            }
            0xf1 => (
                Elem::Int(i64::from(i16::from_le_bytes(bytes(data, pos + 1)?))),
                3,
            ),
            0xf2 => {
                let [x, y, z] = bytes::<3>(data, pos + 1)?;
                // Sign-extend the 24-bit value through the top of an i32.
                let v = i32::from_le_bytes([0, x, y, z]) >> 8;
                (Elem::Int(i64::from(v)), 4)
            }
            0xf3 => (
                Elem::Int(i64::from(i32::from_le_bytes(bytes(data, pos + 1)?))),
                5,
            ),
            0xf4 => (Elem::Int(i64::from_le_bytes(bytes(data, pos + 1)?)), 9),
            _ => return Err(BlobError::new(pos, "invalid listpack entry encoding")),
        }
    };
    let back = pos + len;
    let n = backlen_size(len);
    if check {
        let stored = data
            .get(back..back + n)
            .ok_or(BlobError::new(back, "listpack entry truncated"))?;
        let ok = match stored {
            // The common case, compared without a call.
            [b] => usize::from(*b) == len,
            _ => stored == &backlen(len).0[..n],
        };
        if !ok {
            return Err(BlobError::new(back, "listpack entry back-length is wrong"));
        }
    }
    Ok((elem, back + n))
}

fn string(data: &[u8], pos: usize, header: usize, n: usize) -> Result<Elem<'_>, BlobError> {
    let start = pos + header;
    // The terminator must still follow, so the string cannot reach it.
    let end = start
        .checked_add(n)
        .filter(|&e| e < data.len())
        .ok_or(BlobError::new(pos, "listpack string overruns the listpack"))?;
    Ok(Elem::Str(&data[start..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(elems: &[&[u8]]) -> Vec<u8> {
        let mut b = Builder::new();
        for e in elems {
            b.push(e);
        }
        b.finish().to_vec()
    }

    #[test]
    fn every_encoding_round_trips() {
        let long12 = vec![b'x'; 100];
        let long32 = vec![b'y'; 5000];
        let ints: Vec<String> = [
            0i64,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -4097,
            32767,
            -32768,
            32768,
            8_388_607,
            -8_388_608,
            8_388_608,
            i64::from(i32::MAX),
            i64::from(i32::MIN),
            i64::from(i32::MAX) + 1,
            i64::MAX,
            i64::MIN,
        ]
        .iter()
        .map(|v| v.to_string())
        .collect();
        let mut elems: Vec<&[u8]> = vec![b"", b"a", b"hello", b"007", b"-0", &long12, &long32];
        elems.extend(ints.iter().map(|s| s.as_bytes()));
        let lp = build(&elems);
        let parsed = Listpack::parse(&lp).expect("valid");
        assert_eq!(parsed.len(), elems.len());
        let mut buf = itoa::Buffer::new();
        for (got, want) in parsed.iter().zip(&elems) {
            assert_eq!(got.bytes(&mut buf), *want);
        }
        for (got, want) in parsed.iter().skip(7).zip(&ints) {
            assert!(
                matches!(got, Elem::Int(_)),
                "{want} is stored as an integer"
            );
        }
        let mut size = HEADER + 1;
        for e in &elems {
            size += entry_size(e);
        }
        assert_eq!(size, lp.len());
    }

    #[test]
    fn known_bytes() {
        // What Redis builds for RPUSH l a 1.
        assert_eq!(
            build(&[b"a", b"1"]),
            b"\x0c\x00\x00\x00\x02\x00\x81a\x02\x01\x01\xff".to_vec()
        );
        // A 13-bit negative integer and a 200-byte string's two-byte backlen.
        let mut b = Builder::new();
        b.push(b"-2");
        assert_eq!(&b.finish()[6..], b"\xdf\xfe\x02\xff");
        let mut v = Vec::new();
        put_backlen(&mut v, 202);
        assert_eq!(v, [1, 0x80 | 74]);
    }

    #[test]
    fn corrupt_listpacks_are_refused() {
        let good = build(&[b"abc", b"12345678901"]);
        assert!(Listpack::parse(&good).is_ok());
        for cut in 0..good.len() {
            assert!(Listpack::parse(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad_total = good.clone();
        bad_total[0] += 1;
        assert!(Listpack::parse(&bad_total).is_err());
        let mut bad_count = good.clone();
        bad_count[4] = 3;
        assert!(Listpack::parse(&bad_count).is_err());
        let mut bad_len = good.clone();
        bad_len[6] = 0x80 | 60;
        assert!(Listpack::parse(&bad_len).is_err());
        let mut bad_enc = good.clone();
        bad_enc[6] = 0xf9;
        assert!(Listpack::parse(&bad_enc).is_err());
        let mut bad_back = good;
        bad_back[10] = 9;
        assert!(Listpack::parse(&bad_back).is_err());
    }
}
