//! Hash values: a packed field/value list while small, a [`Dict`] after.
//!
//! Most hashes in real datasets are small objects (a user record, a
//! session), and there are many of them, so what a small hash costs decides
//! the memory figure. Redis keeps them as a listpack: one allocation holding
//! every field and value back to back, searched linearly. [`Packed`] is the
//! same idea: a single exact-size byte buffer of pairs, each a header with
//! both lengths (one byte when both are under 15, see [`put_pair`]) then
//! the field and value bytes, plus a pair count. Ten pairs of short strings cost one ~50-byte
//! allocation, where a `Vec<(CompactBytes, CompactBytes)>` would spend 480.
//! A linear search is also what Redis does at these sizes, and it is fast:
//! the buffer is a few cache lines.
//!
//! Insertion order is kept (new fields are appended, updates rewrite in
//! place, deletions close the gap) because that is the order Redis replies
//! in for a listpack hash, so HGETALL matches it byte for byte.
//!
//! Past `hash-max-listpack-entries` pairs, or as soon as a field or value
//! longer than `hash-max-listpack-value` is stored, the hash converts to a
//! [`Dict`] (Redis's `hashtable` encoding), which gives O(1) access and a
//! resize-proof HSCAN cursor. As in Redis a hash never converts back.
//!
//! Where the bytes of a small hash go decides whether it beats Redis, so
//! the layout is tight. A `HashValue` is 16 bytes and sits directly in the
//! keyspace entry (a `Box` around it would be one more 24-byte allocation
//! per hash). The packed form is a bare `Box<[u8]>` whose first bytes are
//! the pair count (a varint, so HLEN stays O(1)) and whose allocation is
//! always exactly its length: a batch of changes turns it into a `Vec`
//! once, edits it, and boxes it again, copying into an exact allocation if
//! the edits left spare capacity. The allocator then rounds the request up
//! to its size class only once: ten short pairs (51 bytes) cost one
//! 64-byte chunk.

use crate::types::compact::CompactBytes;
use crate::types::dict::Dict;

/// The conversion thresholds, as read from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 512,
            max_value: 64,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct HashValue {
    repr: Repr,
}

#[derive(Debug, Clone)]
enum Repr {
    /// `varint pairs, (header, field, value)*`, or empty for no pairs.
    Packed(Box<[u8]>),
    Table(Box<Table>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Packed(Box::default())
    }
}

#[derive(Debug, Clone, Default)]
struct Table {
    dict: Dict<CompactBytes>,
    /// Sum of the values' `heap_size`; the dict accounts for its keys.
    value_heap: usize,
}

/// Appends `n` as a LEB128 varint.
fn put_varint(buf: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

/// Bytes `put_varint` writes for `n`.
fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        len += 1;
        n >>= 7;
    }
    len
}

/// The varint starting at `pos` and the position after it. The buffer is
/// only ever written by `put_varint`, so it is always well formed.
fn get_varint(buf: &[u8], mut pos: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[pos];
        pos += 1;
        n |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return (n, pos);
        }
        shift += 7;
    }
}

/// A pair whose field and value are both shorter than this has its two
/// lengths in one header byte, a nibble each. Most small-hash pairs are
/// (short field, short value): a byte saved per pair takes ten such pairs
/// from 61 bytes to 51, a 64-byte heap chunk instead of an 80-byte one.
const NIBBLE_MAX: usize = 15;
/// The header byte of a pair with a longer field or value: the two lengths
/// follow as varints. No nibble header can equal it (both nibbles < 15).
const WIDE_PAIR: u8 = 0xff;

/// Appends the pair (field, value) with its header.
fn put_pair(buf: &mut Vec<u8>, field: &[u8], value: &[u8]) {
    if field.len() < NIBBLE_MAX && value.len() < NIBBLE_MAX {
        buf.push(((field.len() as u8) << 4) | value.len() as u8);
    } else {
        buf.push(WIDE_PAIR);
        put_varint(buf, field.len());
        put_varint(buf, value.len());
    }
    buf.extend_from_slice(field);
    buf.extend_from_slice(value);
}

/// Bytes `put_pair` writes for (field, value).
fn pair_cost(field: &[u8], value: &[u8]) -> usize {
    let header = if field.len() < NIBBLE_MAX && value.len() < NIBBLE_MAX {
        1
    } else {
        1 + varint_len(field.len()) + varint_len(value.len())
    };
    header + field.len() + value.len()
}

/// The pair starting at `pos`: where its field starts, where its value
/// starts, and where it ends.
fn get_pair(buf: &[u8], pos: usize) -> (usize, usize, usize) {
    let b = buf[pos];
    let (flen, vlen, data) = if b == WIDE_PAIR {
        let (flen, p) = get_varint(buf, pos + 1);
        let (vlen, p) = get_varint(buf, p);
        (flen, vlen, p)
    } else {
        (usize::from(b >> 4), usize::from(b & 0x0f), pos + 1)
    };
    (data, data + flen, data + flen + vlen)
}

/// A packed buffer's pair count and where its first pair starts.
fn packed_header(buf: &[u8]) -> (usize, usize) {
    if buf.is_empty() {
        (0, 0)
    } else {
        get_varint(buf, 0)
    }
}

/// Rewrites the pair count of `buf`, whose current header ends at `start`.
fn set_packed_count(buf: &mut Vec<u8>, start: usize, count: usize) {
    if count == 0 {
        buf.clear();
        return;
    }
    let mut header = Vec::with_capacity(varint_len(count));
    put_varint(&mut header, count);
    if header.len() == start {
        buf[..start].copy_from_slice(&header);
    } else {
        buf.splice(..start, header);
    }
}

/// Boxes `buf` in an allocation of exactly its length, so that no spare
/// capacity outlives the command that edited it.
fn exact_box(buf: Vec<u8>) -> Box<[u8]> {
    if buf.len() == buf.capacity() {
        buf.into_boxed_slice()
    } else {
        Box::from(&buf[..])
    }
}

/// Iterates the pairs of a packed buffer in order.
pub struct PackedIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let (f, v, end) = get_pair(self.buf, self.pos);
        self.pos = end;
        Some((&self.buf[f..v], &self.buf[v..end]))
    }
}

fn packed_iter(buf: &[u8]) -> PackedIter<'_> {
    PackedIter {
        buf,
        pos: packed_header(buf).1,
    }
}

/// Where a field's pair is in a packed buffer: start of the pair, start
/// of the value, end of the pair.
fn packed_find(buf: &[u8], field: &[u8]) -> Option<(usize, usize, usize)> {
    packed_find_from(buf, packed_header(buf).1, field)
}

/// [`packed_find`] with the header already read: pairs start at `pos`.
fn packed_find_from(buf: &[u8], mut pos: usize, field: &[u8]) -> Option<(usize, usize, usize)> {
    while pos < buf.len() {
        let (f, vpos, end) = get_pair(buf, pos);
        if &buf[f..vpos] == field {
            return Some((pos, vpos, end));
        }
        pos = end;
    }
    None
}

/// Iterates a hash's pairs in its natural order (insertion order while
/// packed, table order after).
pub enum Iter<'a> {
    Packed(PackedIter<'a>),
    Table(crate::types::dict::Iter<'a, CompactBytes>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Packed(it) => it.next(),
            Iter::Table(it) => it.next().map(|(k, v)| (k, v.as_slice())),
        }
    }
}

impl HashValue {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty hash in the hashtable encoding, for a loader that knows
    /// the hash will be too large to pack.
    pub fn new_table() -> Self {
        HashValue {
            repr: Repr::Table(Box::default()),
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => packed_header(p).0,
            Repr::Table(t) => t.dict.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Packed(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    pub fn is_packed(&self) -> bool {
        matches!(self.repr, Repr::Packed(_))
    }

    /// Heap bytes owned beyond the value itself.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.len(),
            Repr::Table(t) => std::mem::size_of::<Table>() + t.dict.table_bytes() + t.value_heap,
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Packed(p) => packed_find(p, field).map(|(_, v, end)| &p[v..end]),
            Repr::Table(t) => t.dict.get(field).map(CompactBytes::as_slice),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match &self.repr {
            Repr::Packed(p) => packed_find(p, field).is_some(),
            Repr::Table(t) => t.dict.contains_key(field),
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Packed(p) => Iter::Packed(packed_iter(p)),
            Repr::Table(t) => Iter::Table(t.dict.iter()),
        }
    }

    /// Sets every pair; returns how many fields were new.
    pub fn set_pairs<'a>(
        &mut self,
        pairs: impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
        limits: Limits,
    ) -> usize {
        if let Repr::Packed(p) = &mut self.repr {
            let too_long = pairs
                .clone()
                .any(|(f, v)| f.len() > limits.max_value || v.len() > limits.max_value);
            if !too_long {
                let (count, start) = packed_header(p);
                let mut buf = std::mem::take(p).into_vec();
                if buf.is_empty() {
                    // A new hash: every pair is (almost always) new, so one
                    // exact allocation holds them all.
                    let (n, bytes) = pairs.clone().fold((0, 0), |(n, bytes), (f, v)| {
                        (n + 1, bytes + pair_cost(f, v))
                    });
                    buf.reserve_exact(varint_len(n) + bytes);
                }
                let mut added = 0;
                for (field, value) in pairs.clone() {
                    if packed_set(&mut buf, start, field, value) {
                        added += 1;
                    }
                }
                let count = count + added;
                if added > 0 {
                    set_packed_count(&mut buf, start, count);
                }
                *p = exact_box(buf);
                if count > limits.max_entries {
                    self.convert();
                }
                return added;
            }
            self.convert();
        }
        let Repr::Table(t) = &mut self.repr else {
            return 0;
        };
        let mut added = 0;
        for (field, value) in pairs {
            let value = CompactBytes::from_slice(value);
            t.value_heap += value.heap_size();
            match t.dict.insert(field, value) {
                Some(old) => t.value_heap -= old.heap_size(),
                None => added += 1,
            }
        }
        added
    }

    /// Sets one pair; true if the field was new.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        self.set_pairs(std::iter::once((field, value)), limits) == 1
    }

    /// Removes `field`; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Packed(p) => {
                let Some((from, _, to)) = packed_find(p, field) else {
                    return false;
                };
                let (count, start) = packed_header(p);
                let count = count - 1;
                // Built afresh at its exact size rather than drained in place,
                // which would leave the old capacity allocated.
                let mut buf = Vec::new();
                if count > 0 {
                    buf.reserve_exact(varint_len(count) + p.len() - start - (to - from));
                    put_varint(&mut buf, count);
                    buf.extend_from_slice(&p[start..from]);
                    buf.extend_from_slice(&p[to..]);
                }
                *p = buf.into_boxed_slice();
                true
            }
            Repr::Table(t) => match t.dict.remove(field) {
                Some(old) => {
                    t.value_heap -= old.heap_size();
                    true
                }
                None => false,
            },
        }
    }

    /// The pair at position `index` of the natural order (packed only is
    /// O(index); used to draw random pairs from a packed hash).
    fn packed_pairs(&self) -> Option<Vec<(&[u8], &[u8])>> {
        match &self.repr {
            Repr::Packed(p) => Some(packed_iter(p).collect()),
            Repr::Table(_) => None,
        }
    }

    /// A uniformly random pair, or `None` when empty.
    pub fn random_pair(&self, rand: &mut impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Packed(p) => {
                let count = packed_header(p).0;
                if count == 0 {
                    return None;
                }
                let n = (rand() % count as u64) as usize;
                packed_iter(p).nth(n)
            }
            Repr::Table(t) => t.dict.random_entry(rand).map(|(k, v)| (k, v.as_slice())),
        }
    }

    /// `count` pairs drawn with replacement.
    pub fn random_pairs_with_replacement(
        &self,
        count: usize,
        rand: &mut impl FnMut() -> u64,
        mut f: impl FnMut(&[u8], &[u8]),
    ) {
        if let Some(all) = self.packed_pairs() {
            if all.is_empty() {
                return;
            }
            for _ in 0..count {
                let (k, v) = all[(rand() % all.len() as u64) as usize];
                f(k, v);
            }
            return;
        }
        for _ in 0..count {
            if let Some((k, v)) = self.random_pair(rand) {
                f(k, v);
            }
        }
    }

    /// `count` distinct pairs (`count` < len), uniformly chosen. A packed
    /// hash yields them in its order, as Redis's `lpRandomPairsUnique`.
    pub fn random_distinct_pairs(
        &self,
        count: usize,
        rand: &mut impl FnMut() -> u64,
    ) -> Vec<(&[u8], &[u8])> {
        let all: Vec<(&[u8], &[u8])> = match self.packed_pairs() {
            Some(all) => all,
            None => {
                let len = self.len();
                if count.saturating_mul(3) <= len {
                    // Few wanted from many: draw until enough are distinct.
                    let mut seen = hashbrown::HashSet::with_capacity(count);
                    let mut out = Vec::with_capacity(count);
                    while out.len() < count {
                        let Some((k, v)) = self.random_pair(rand) else {
                            break;
                        };
                        if seen.insert(k) {
                            out.push((k, v));
                        }
                    }
                    return out;
                }
                self.iter().collect()
            }
        };
        // Selection sampling (Knuth's algorithm S) keeps the order.
        let mut out = Vec::with_capacity(count);
        let mut needed = count;
        let total = all.len();
        for (i, pair) in all.into_iter().enumerate() {
            if needed == 0 {
                break;
            }
            let remaining = (total - i) as u64;
            if rand() % remaining < needed as u64 {
                out.push(pair);
                needed -= 1;
            }
        }
        out
    }

    /// One HSCAN step: a packed hash is visited whole and the cursor is 0;
    /// a table visits buckets until `count` strings (fields and values, as
    /// Redis counts them) were seen or `10 * count` steps were taken.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match &self.repr {
            Repr::Packed(p) => {
                for (k, v) in packed_iter(p) {
                    f(k, v);
                }
                0
            }
            Repr::Table(t) => {
                let mut cursor = cursor;
                let mut seen = 0usize;
                let mut steps = count.saturating_mul(10);
                loop {
                    cursor = t.dict.scan(cursor, |k, v| {
                        seen += 2;
                        f(k, v);
                    });
                    if cursor == 0 || steps == 0 || seen >= count {
                        break;
                    }
                    steps -= 1;
                }
                cursor
            }
        }
    }

    fn convert(&mut self) {
        let Repr::Packed(p) = &self.repr else {
            return;
        };
        let mut table = Table::default();
        for (k, v) in packed_iter(p) {
            let v = CompactBytes::from_slice(v);
            table.value_heap += v.heap_size();
            table.dict.insert(k, v);
        }
        self.repr = Repr::Table(Box::new(table));
    }
}

/// Sets `field` in a packed buffer whose pairs start at `start`, leaving
/// the count to the caller; true if it was new.
fn packed_set(buf: &mut Vec<u8>, start: usize, field: &[u8], value: &[u8]) -> bool {
    match packed_find_from(buf, start, field) {
        Some((pos, vpos, end)) => {
            let old = &buf[vpos..end];
            if old == value {
                return false;
            }
            if old.len() == value.len() {
                buf[vpos..end].copy_from_slice(value);
                return false;
            }
            // The header holds the value's length: rewrite the whole pair.
            let mut encoded = Vec::with_capacity(pair_cost(field, value));
            put_pair(&mut encoded, field, value);
            buf.splice(pos..end, encoded);
            false
        }
        None => {
            buf.reserve_exact(pair_cost(field, value));
            put_pair(buf, field, value);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim(entries: usize, value: usize) -> Limits {
        Limits {
            max_entries: entries,
            max_value: value,
        }
    }

    /// The keyspace `Value` holds a `HashValue` directly and must stay 24
    /// bytes, which leaves 16 beside its tag.
    #[test]
    fn value_stays_16_bytes() {
        assert_eq!(std::mem::size_of::<HashValue>(), 16);
    }

    #[test]
    fn packed_keeps_insertion_order_and_updates_in_place() {
        let mut h = HashValue::new();
        assert!(h.set(b"a", b"1", Limits::default()));
        assert!(h.set(b"b", b"2", Limits::default()));
        assert!(!h.set(b"a", b"longer value", Limits::default()));
        let pairs: Vec<_> = h.iter().collect();
        assert_eq!(pairs, vec![(&b"a"[..], &b"longer value"[..]), (b"b", b"2")]);
        assert!(h.remove(b"a"));
        assert!(!h.remove(b"a"));
        assert_eq!(h.len(), 1);
        assert_eq!(h.get(b"b"), Some(&b"2"[..]));
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn packed_buffer_is_exactly_its_content() {
        let mut h = HashValue::new();
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..10)
            .map(|i| (format!("f{i}").into_bytes(), format!("v{i}").into_bytes()))
            .collect();
        let added = h.set_pairs(
            pairs.iter().map(|(f, v)| (&f[..], &v[..])),
            Limits::default(),
        );
        assert_eq!(added, 10);
        // One count byte, then ten pairs of a header byte and 2+2 bytes.
        assert_eq!(h.heap_size(), 1 + 10 * 5);
        // A repeated field in one batch, and updates of either length.
        let mut h = HashValue::new();
        let batch = [(&b"a"[..], &b"1"[..]), (b"a", b"2"), (b"b", b"3")];
        assert_eq!(h.set_pairs(batch.into_iter(), Limits::default()), 2);
        assert_eq!(h.heap_size(), 1 + 2 * 3);
        assert!(!h.set(b"a", b"9", Limits::default()));
        assert!(!h.set(b"b", b"three", Limits::default()));
        assert_eq!(h.heap_size(), 1 + 3 + 7);
        let pairs: Vec<_> = h.iter().collect();
        assert_eq!(pairs, vec![(&b"a"[..], &b"9"[..]), (b"b", b"three")]);
    }

    #[test]
    fn pair_count_header_grows_and_shrinks() {
        let limits = lim(1000, 64);
        let mut h = HashValue::new();
        for i in 0..300 {
            assert!(h.set(
                format!("f{i}").as_bytes(),
                format!("{i}").as_bytes(),
                limits
            ));
            assert_eq!(h.len(), i + 1);
        }
        assert!(h.is_packed());
        for i in (0..300).rev() {
            assert_eq!(
                h.get(format!("f{i}").as_bytes()),
                Some(format!("{i}").as_bytes())
            );
            assert!(h.remove(format!("f{i}").as_bytes()));
            assert_eq!(h.len(), i);
            assert_eq!(h.iter().count(), i);
        }
        assert_eq!(h.heap_size(), 0);
        assert!(h.random_pair(&mut || 7).is_none());
    }

    #[test]
    fn long_strings_round_trip_in_packed_form() {
        let mut h = HashValue::new();
        let big = vec![b'x'; 300];
        h.set(&big, &big, lim(10, 1000));
        assert_eq!(h.get(&big), Some(&big[..]));
        assert!(h.is_packed());
    }

    /// Lengths on both sides of the one-byte pair header, and values that
    /// change header form when updated.
    #[test]
    fn pair_headers_switch_between_nibbles_and_varints() {
        let limits = lim(100, 1000);
        let mut h = HashValue::new();
        let sizes = [0usize, 1, 14, 15, 16, 127, 128, 300];
        for &f in &sizes {
            for &v in &sizes {
                let field = [vec![b'f'; f], format!("{v}").into_bytes()].concat();
                assert!(h.set(&field, &vec![b'v'; v], limits));
            }
        }
        for &f in &sizes {
            for &v in &sizes {
                let field = [vec![b'f'; f], format!("{v}").into_bytes()].concat();
                assert_eq!(h.get(&field), Some(&vec![b'v'; v][..]));
                // Grow across the nibble limit, then shrink back.
                assert!(!h.set(&field, &vec![b'w'; v + 15], limits));
                assert_eq!(h.get(&field), Some(&vec![b'w'; v + 15][..]));
                assert!(!h.set(&field, &vec![b'z'; v], limits));
            }
        }
        assert_eq!(h.len(), sizes.len() * sizes.len());
        assert_eq!(h.iter().count(), h.len());
        assert!(h.iter().all(|(_, v)| v.iter().all(|&b| b == b'z')));
        assert!(h.is_packed());
    }

    #[test]
    fn converts_past_the_limits() {
        let mut h = HashValue::new();
        for i in 0..3 {
            h.set(format!("f{i}").as_bytes(), b"v", lim(3, 64));
        }
        assert!(h.is_packed());
        h.set(b"f3", b"v", lim(3, 64));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 4);
        let mut h = HashValue::new();
        h.set(b"f", &[b'x'; 65], lim(3, 64));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"f").map(<[u8]>::len), Some(65));
    }
}
