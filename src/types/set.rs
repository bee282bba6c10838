//! Set values.
//!
//! Two encodings, as Redis 7.0 has them. A set whose members are all
//! integers, up to `set-max-intset-entries` of them, is an *intset*: the
//! values sorted ascending in one byte array, each stored in the narrowest
//! width (2, 4 or 8 bytes) that fits the widest member, so ten small
//! integers cost 20 bytes and a lookup is a binary search. Any other set is
//! a hash table of members. Redis 7.2's listpack encoding is deliberately
//! absent: 7.0.15, the reference, goes straight from intset to hashtable and
//! OBJECT ENCODING must say so. A set never converts back.
//!
//! An intset of up to 21 bytes (ten 16-bit integers) lives inside the
//! `SetValue` itself, larger ones in a boxed slice sized exactly (no spare
//! capacity), and the hash table is boxed too, so a `SetValue` stays 24
//! bytes and a small set costs one small allocation besides its key.

use crate::types::compact::CompactBytes;
use crate::types::dict::Dict;
use crate::util::num::parse_i64;

#[derive(Debug, Clone)]
pub enum SetValue {
    /// An intset of at most [`INLINE`] bytes, kept inside the value itself:
    /// a set of ten small integers then costs no allocation beyond the
    /// `Box<SetValue>`.
    Small {
        bytes: [u8; INLINE],
        len: u8,
        width: u8,
    },
    /// A larger intset.
    Ints {
        data: Box<[u8]>,
        width: u8,
    },
    Table(Box<Dict<()>>),
}

/// Intset bytes stored inline; 21 keeps `SetValue` at 24 bytes.
pub const INLINE: usize = 21;

impl Default for SetValue {
    fn default() -> Self {
        SetValue::Small {
            bytes: [0; INLINE],
            len: 0,
            width: 2,
        }
    }
}

fn width_for(v: i64) -> u8 {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

/// A read-only view of intset bytes: sorted little-endian integers of
/// `width` bytes each.
#[derive(Clone, Copy)]
pub struct IntSet<'a> {
    data: &'a [u8],
    width: u8,
}

impl<'a> IntSet<'a> {
    pub fn len(&self) -> usize {
        self.data.len() / self.width as usize
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn get(&self, i: usize) -> i64 {
        let w = self.width as usize;
        match &self.data[i * w..(i + 1) * w] {
            [a, b] => i64::from(i16::from_le_bytes([*a, *b])),
            [a, b, c, d] => i64::from(i32::from_le_bytes([*a, *b, *c, *d])),
            b => {
                let mut buf = [0u8; 8];
                buf.copy_from_slice(b);
                i64::from_le_bytes(buf)
            }
        }
    }

    /// `Ok(index)` of `v`, or `Err(insertion point)`.
    fn search(&self, v: i64) -> Result<usize, usize> {
        if width_for(v) > self.width {
            return Err(if v < 0 { 0 } else { self.len() });
        }
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    pub fn iter(self) -> impl Iterator<Item = i64> + 'a {
        (0..self.len()).map(move |i| self.get(i))
    }
}

fn encode_ints(values: impl Iterator<Item = i64>, width: u8, out: &mut Vec<u8>) {
    for v in values {
        match width {
            2 => out.extend_from_slice(&(v as i16).to_le_bytes()),
            4 => out.extend_from_slice(&(v as i32).to_le_bytes()),
            _ => out.extend_from_slice(&v.to_le_bytes()),
        }
    }
}

/// A member as bytes: integers are formatted into `buf`.
pub enum Member<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl Member<'_> {
    pub fn to_compact(&self) -> CompactBytes {
        match self {
            Member::Int(v) => CompactBytes::from_slice(itoa::Buffer::new().format(*v).as_bytes()),
            Member::Bytes(b) => CompactBytes::from_slice(b),
        }
    }
}

/// Up to this size a random member is drawn by index, exactly uniformly.
const EXACT_RANDOM_MAX: usize = 64;

impl SetValue {
    pub fn new() -> SetValue {
        SetValue::default()
    }

    /// The intset view, unless this is a hash table.
    fn ints(&self) -> Option<IntSet<'_>> {
        match self {
            SetValue::Small { bytes, len, width } => Some(IntSet {
                data: &bytes[..*len as usize],
                width: *width,
            }),
            SetValue::Ints { data, width } => Some(IntSet {
                data,
                width: *width,
            }),
            SetValue::Table(_) => None,
        }
    }

    /// Stores new intset bytes, inline when they fit.
    fn set_ints(&mut self, data: Vec<u8>, width: u8) {
        *self = if data.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..data.len()].copy_from_slice(&data);
            SetValue::Small {
                bytes,
                len: data.len() as u8,
                width,
            }
        } else {
            SetValue::Ints {
                data: data.into_boxed_slice(),
                width,
            }
        };
    }

    pub fn len(&self) -> usize {
        match self {
            SetValue::Table(d) => d.len(),
            _ => self.ints().map_or(0, |i| i.len()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            SetValue::Table(_) => "hashtable",
            _ => "intset",
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            SetValue::Small { .. } => 0,
            SetValue::Ints { data, .. } => data.len(),
            SetValue::Table(d) => std::mem::size_of::<Dict<()>>() + d.table_bytes(),
        }
    }

    fn make_table(&mut self) -> &mut Dict<()> {
        if let Some(ints) = self.ints() {
            let mut d: Dict<()> = Dict::new();
            let mut buf = itoa::Buffer::new();
            for v in ints.iter() {
                d.insert(buf.format(v).as_bytes(), ());
            }
            *self = SetValue::Table(Box::new(d));
        }
        match self {
            SetValue::Table(d) => d,
            _ => unreachable!("converted above"),
        }
    }

    /// Adds `member`; false if already present. `max_intset` is
    /// `set-max-intset-entries`.
    pub fn insert(&mut self, member: &[u8], max_intset: usize) -> bool {
        if let Some(ints) = self.ints() {
            let Some(v) = parse_i64(member) else {
                return self.make_table().insert(member, ()).is_none();
            };
            let Err(at) = ints.search(v) else {
                return false;
            };
            let width = ints.width.max(width_for(v));
            let mut data = Vec::with_capacity((ints.len() + 1) * width as usize);
            let values = ints
                .iter()
                .take(at)
                .chain(std::iter::once(v))
                .chain(ints.iter().skip(at));
            encode_ints(values, width, &mut data);
            let n = ints.len() + 1;
            self.set_ints(data, width);
            if n > max_intset {
                self.make_table();
            }
            return true;
        }
        match self {
            SetValue::Table(d) => d.insert(member, ()).is_none(),
            _ => false,
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        if let Some(ints) = self.ints() {
            let Some(Ok(at)) = parse_i64(member).map(|v| ints.search(v)) else {
                return false;
            };
            // The width stays, as in Redis.
            let w = ints.width as usize;
            let mut data = Vec::with_capacity(ints.data.len() - w);
            data.extend_from_slice(&ints.data[..at * w]);
            data.extend_from_slice(&ints.data[(at + 1) * w..]);
            let width = ints.width;
            self.set_ints(data, width);
            return true;
        }
        match self {
            SetValue::Table(d) => d.remove(member).is_some(),
            _ => false,
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            SetValue::Table(d) => d.contains_key(member),
            _ => self
                .ints()
                .zip(parse_i64(member))
                .is_some_and(|(ints, v)| ints.contains(v)),
        }
    }

    /// Calls `f` with every member, intsets in ascending order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        match self {
            SetValue::Table(d) => {
                for (k, _) in d.iter() {
                    f(k);
                }
            }
            _ => {
                let mut buf = itoa::Buffer::new();
                for v in self.ints().into_iter().flat_map(IntSet::iter) {
                    f(buf.format(v).as_bytes());
                }
            }
        }
    }

    /// A uniformly chosen member.
    pub fn random(&self, rand: &mut impl FnMut() -> u64) -> Option<Member<'_>> {
        match self {
            // The table's sampler leans slightly against long chains; a
            // small set is cheap to index exactly instead.
            SetValue::Table(d) if d.len() <= EXACT_RANDOM_MAX => {
                let i = (rand() % d.len().max(1) as u64) as usize;
                d.iter().nth(i).map(|(k, _)| Member::Bytes(k))
            }
            SetValue::Table(d) => d.random_entry(rand).map(|(k, _)| Member::Bytes(k)),
            _ => {
                let ints = self.ints()?;
                if ints.is_empty() {
                    return None;
                }
                let i = (rand() % ints.len() as u64) as usize;
                Some(Member::Int(ints.get(i)))
            }
        }
    }

    /// Removes and returns a uniformly chosen member.
    pub fn pop(&mut self, rand: &mut impl FnMut() -> u64) -> Option<CompactBytes> {
        let m = self.random(rand)?.to_compact();
        self.remove(&m);
        Some(m)
    }

    /// One SSCAN step: an intset is returned whole with cursor 0, as Redis
    /// does for its compact encodings.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8])) -> u64 {
        match self {
            SetValue::Table(d) => d.scan(cursor, |k, _| f(k)),
            _ => {
                self.for_each(f);
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_small() {
        assert!(std::mem::size_of::<SetValue>() <= 24);
    }

    #[test]
    fn intset_widths_and_order() {
        let mut s = SetValue::new();
        for v in [5i64, -3, 70000, 1, i64::MIN, i64::MAX, 5] {
            s.insert(v.to_string().as_bytes(), 512);
        }
        let mut got = Vec::new();
        s.for_each(|m| got.push(String::from_utf8_lossy(m).into_owned()));
        let want: Vec<String> = [i64::MIN, -3, 1, 5, 70000, i64::MAX]
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(got, want);
        assert_eq!(s.encoding(), "intset");
        assert!(s.remove(b"70000"));
        assert!(!s.contains(b"70000"));
        assert!(s.contains(b"-3"));
        assert!(!s.contains(b"+1"));
        s.insert(b"x", 512);
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 6);
    }
}
