//! Set values.
//!
//! Two encodings, as Redis 7.0 has them. A set whose members are all
//! integers, up to `set-max-intset-entries` of them, is an *intset*: the
//! values sorted ascending in one byte array, each stored in the narrowest
//! width that fits the widest member, and a lookup is a binary search. Any
//! other set is a hash table of members. Redis 7.2's listpack encoding is
//! deliberately absent: 7.0.15, the reference, goes straight from intset to
//! hashtable and OBJECT ENCODING must say so. A set never converts back.
//!
//! Small sets are where memory goes, so a `SetValue` is 16 bytes and lives
//! directly in the keyspace entry, and an intset of up to [`INLINE`] bytes
//! lives inside it: such a set costs no allocation at all beyond its key's
//! node. To make that room count, widths go down to one byte (Redis's
//! intset starts at two): ten members between -128 and 127 fit inline,
//! seven 16-bit ones, three 32-bit ones. Larger intsets are a boxed exact-
//! size slice, the hash table is boxed too. The width is invisible to
//! clients (members are always replied as decimal strings, in ascending
//! order), so it is ours to choose.

use crate::types::compact::CompactBytes;
use crate::types::dict::Dict;
use crate::util::num::parse_i64;

#[derive(Debug, Clone, Default)]
pub struct SetValue {
    repr: Repr,
}

#[derive(Debug, Clone)]
enum Repr {
    /// An intset of `len` bytes, at most [`INLINE`].
    Inline {
        data: [u8; INLINE],
        len: u8,
        width: Width,
    },
    /// A larger intset. Boxed twice (the slice's own box is a 16-byte fat
    /// pointer) so that the common small cases keep the value 16 bytes.
    Ints(Box<HeapInts>),
    Table(Box<Dict<()>>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Inline {
            data: [0; INLINE],
            len: 0,
            width: Width::W1,
        }
    }
}

#[derive(Debug, Clone)]
struct HeapInts {
    data: Box<[u8]>,
    width: Width,
}

/// Intset bytes stored inline: what is left of 16 bytes after the length
/// and the width (whose spare bit patterns tell the variants apart).
pub const INLINE: usize = 14;

/// Bytes per intset member. An enum rather than a `u8` so that the
/// compiler can encode `Repr`'s variant in its unused values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
enum Width {
    W1 = 1,
    W2 = 2,
    W4 = 4,
    W8 = 8,
}

impl Width {
    fn of(v: i64) -> Width {
        if i8::try_from(v).is_ok() {
            Width::W1
        } else if i16::try_from(v).is_ok() {
            Width::W2
        } else if i32::try_from(v).is_ok() {
            Width::W4
        } else {
            Width::W8
        }
    }

    fn bytes(self) -> usize {
        self as usize
    }
}

/// A read-only view of intset bytes: sorted little-endian integers of
/// `width` bytes each.
#[derive(Clone, Copy)]
pub struct IntSet<'a> {
    data: &'a [u8],
    width: Width,
}

impl<'a> IntSet<'a> {
    pub fn len(&self) -> usize {
        self.data.len() / self.width.bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn get(&self, i: usize) -> i64 {
        let w = self.width.bytes();
        match &self.data[i * w..(i + 1) * w] {
            [a] => i64::from(*a as i8),
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
        if Width::of(v) > self.width {
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

/// Writes `v` into `out`, which is exactly one member wide.
fn put_int(out: &mut [u8], v: i64) {
    let bytes = v.to_le_bytes();
    // Little-endian: the low bytes come first, and `v` fits the width.
    out.copy_from_slice(&bytes[..out.len()]);
}

/// The intset holding `values` (sorted, `count` of them) at `width`.
fn encode_ints(count: usize, width: Width, values: impl Iterator<Item = i64>) -> Repr {
    let w = width.bytes();
    let len = count * w;
    if len <= INLINE {
        let mut data = [0u8; INLINE];
        for (slot, v) in data.chunks_exact_mut(w).zip(values) {
            put_int(slot, v);
        }
        return Repr::Inline {
            data,
            len: len as u8,
            width,
        };
    }
    let mut data = vec![0u8; len];
    for (slot, v) in data.chunks_exact_mut(w).zip(values) {
        put_int(slot, v);
    }
    Repr::Ints(Box::new(HeapInts {
        data: data.into_boxed_slice(),
        width,
    }))
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

    /// An empty set in the hash table encoding, for a loader that knows
    /// the set will be too large for an intset.
    pub fn new_table() -> SetValue {
        SetValue {
            repr: Repr::Table(Box::default()),
        }
    }

    /// The set of `values`, strictly ascending, in the encoding inserting
    /// them one by one would give (an intset unless more than
    /// `max_intset`), built in one step.
    pub fn from_sorted_ints(values: &[i64], max_intset: usize) -> SetValue {
        let width = match (values.first(), values.last()) {
            (Some(&lo), Some(&hi)) => Width::of(lo).max(Width::of(hi)),
            _ => Width::W1,
        };
        let mut set = SetValue {
            repr: encode_ints(values.len(), width, values.iter().copied()),
        };
        if values.len() > max_intset {
            set.make_table();
        }
        set
    }

    /// The members of an intset-encoded set, in ascending order; `None`
    /// for the hash table encoding.
    pub fn as_intset(&self) -> Option<IntSet<'_>> {
        self.ints()
    }

    /// The intset view, unless this is a hash table.
    fn ints(&self) -> Option<IntSet<'_>> {
        match &self.repr {
            Repr::Inline { data, len, width } => Some(IntSet {
                data: &data[..*len as usize],
                width: *width,
            }),
            Repr::Ints(h) => Some(IntSet {
                data: &h.data,
                width: h.width,
            }),
            Repr::Table(_) => None,
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Table(d) => d.len(),
            _ => self.ints().map_or(0, |i| i.len()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Table(_) => "hashtable",
            _ => "intset",
        }
    }

    /// Heap bytes owned beyond the value itself.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Inline { .. } => 0,
            Repr::Ints(h) => std::mem::size_of::<HeapInts>() + h.data.len(),
            Repr::Table(d) => std::mem::size_of::<Dict<()>>() + d.table_bytes(),
        }
    }

    fn make_table(&mut self) -> &mut Dict<()> {
        if let Some(ints) = self.ints() {
            let mut d: Dict<()> = Dict::new();
            let mut buf = itoa::Buffer::new();
            for v in ints.iter() {
                d.insert(buf.format(v).as_bytes(), ());
            }
            self.repr = Repr::Table(Box::new(d));
        }
        match &mut self.repr {
            Repr::Table(d) => d,
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
            let width = ints.width.max(Width::of(v));
            let count = ints.len() + 1;
            let values = ints
                .iter()
                .take(at)
                .chain(std::iter::once(v))
                .chain(ints.iter().skip(at));
            self.repr = encode_ints(count, width, values);
            if count > max_intset {
                self.make_table();
            }
            return true;
        }
        match &mut self.repr {
            Repr::Table(d) => d.insert(member, ()).is_none(),
            _ => false,
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        if let Some(ints) = self.ints() {
            let Some(Ok(at)) = parse_i64(member).map(|v| ints.search(v)) else {
                return false;
            };
            // The width stays, as in Redis.
            let values = ints.iter().take(at).chain(ints.iter().skip(at + 1));
            self.repr = encode_ints(ints.len() - 1, ints.width, values);
            return true;
        }
        match &mut self.repr {
            Repr::Table(d) => d.remove(member).is_some(),
            _ => false,
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match &self.repr {
            Repr::Table(d) => d.contains_key(member),
            _ => self
                .ints()
                .zip(parse_i64(member))
                .is_some_and(|(ints, v)| ints.contains(v)),
        }
    }

    /// Calls `f` with every member, intsets in ascending order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        match &self.repr {
            Repr::Table(d) => {
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
        match &self.repr {
            // The table's sampler leans slightly against long chains; a
            // small set is cheap to index exactly instead.
            Repr::Table(d) if d.len() <= EXACT_RANDOM_MAX => {
                let i = (rand() % d.len().max(1) as u64) as usize;
                d.iter().nth(i).map(|(k, _)| Member::Bytes(k))
            }
            Repr::Table(d) => d.random_entry(rand).map(|(k, _)| Member::Bytes(k)),
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
        match &self.repr {
            Repr::Table(d) => d.scan(cursor, |k, _| f(k)),
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

    /// The keyspace `Value` holds a `SetValue` directly and must stay 24
    /// bytes, which leaves 16 beside its tag.
    #[test]
    fn stays_16_bytes() {
        assert_eq!(std::mem::size_of::<SetValue>(), 16);
    }

    fn members(s: &SetValue) -> Vec<i64> {
        let mut got = Vec::new();
        s.for_each(|m| got.push(parse_i64(m).unwrap_or(i64::MAX)));
        got
    }

    fn is_inline(s: &SetValue) -> bool {
        matches!(s.repr, Repr::Inline { .. })
    }

    #[test]
    fn small_sets_stay_inline_and_spill_to_the_heap() {
        let mut s = SetValue::new();
        for v in 1..=14 {
            assert!(s.insert(v.to_string().as_bytes(), 512));
            assert!(is_inline(&s), "{v} members of one byte fit");
        }
        assert_eq!(s.heap_size(), 0);
        s.insert(b"15", 512);
        assert!(!is_inline(&s));
        assert_eq!(members(&s), (1..=15).collect::<Vec<_>>());
        assert!(s.remove(b"15"));
        assert!(is_inline(&s), "shrinking back below the inline size");
        assert_eq!(members(&s), (1..=14).collect::<Vec<_>>());
        assert_eq!(s.encoding(), "intset");
    }

    #[test]
    fn widths_grow_at_the_type_boundaries() {
        for (v, width) in [
            (-128i64, Width::W1),
            (127, Width::W1),
            (-129, Width::W2),
            (128, Width::W2),
            (i64::from(i16::MIN), Width::W2),
            (i64::from(i16::MAX) + 1, Width::W4),
            (i64::from(i32::MIN) - 1, Width::W8),
        ] {
            let mut s = SetValue::new();
            s.insert(b"0", 512);
            s.insert(v.to_string().as_bytes(), 512);
            assert_eq!(s.ints().map(|i| i.width), Some(width), "{v}");
            assert!(s.contains(v.to_string().as_bytes()));
            let mut want = vec![0, v];
            want.sort();
            assert_eq!(members(&s), want);
        }
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
