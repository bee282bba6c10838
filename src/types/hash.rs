//! Hash values: a packed field/value list while small, a [`Dict`] after.
//!
//! Most hashes in real datasets are small objects (a user record, a
//! session), and there are many of them, so what a small hash costs decides
//! the memory figure. Redis keeps them as a listpack: one allocation holding
//! every field and value back to back, searched linearly. [`Packed`] is the
//! same idea: a single exact-size byte buffer of length-prefixed strings
//! (`varint len, bytes` for the field, then for the value, pair after pair)
//! plus a pair count. Ten pairs of short strings cost one ~60-byte
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
//! The buffer is a `Box<[u8]>` rather than a `Vec<u8>` so that the whole
//! value stays 24 bytes; a batch of changes turns it into a `Vec` once,
//! edits it, and boxes it again (one reallocation per command).

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
    Packed(Packed),
    Table(Box<Table>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Packed(Packed::default())
    }
}

#[derive(Debug, Clone, Default)]
struct Packed {
    buf: Box<[u8]>,
    pairs: u32,
}

#[derive(Debug, Clone, Default)]
struct Table {
    dict: Dict<CompactBytes>,
    /// Sum of the values' `heap_size`; the dict accounts for its keys.
    value_heap: usize,
}

/// Appends `s` length-prefixed (LEB128 length).
fn put_str(buf: &mut Vec<u8>, s: &[u8]) {
    let mut n = s.len();
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
    buf.extend_from_slice(s);
}

/// Bytes `put_str` writes for `s`.
fn str_cost(s: &[u8]) -> usize {
    let mut n = s.len();
    let mut prefix = 1;
    while n >= 0x80 {
        prefix += 1;
        n >>= 7;
    }
    prefix + s.len()
}

/// The string starting at `pos` and the position after it. The buffer is
/// only ever written by `put_str`, so it is always well formed.
fn get_str(buf: &[u8], mut pos: usize) -> (&[u8], usize) {
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[pos];
        pos += 1;
        len |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (&buf[pos..pos + len], pos + len)
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
        let (field, pos) = get_str(self.buf, self.pos);
        let (value, pos) = get_str(self.buf, pos);
        self.pos = pos;
        Some((field, value))
    }
}

fn packed_iter(buf: &[u8]) -> PackedIter<'_> {
    PackedIter { buf, pos: 0 }
}

/// Where a field's pair is in a packed buffer: start of the field, start
/// of the value, end of the value.
fn packed_find(buf: &[u8], field: &[u8]) -> Option<(usize, usize, usize)> {
    let mut pos = 0;
    while pos < buf.len() {
        let (f, vpos) = get_str(buf, pos);
        let (_, end) = get_str(buf, vpos);
        if f == field {
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

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.pairs as usize,
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
            Repr::Packed(p) => p.buf.len(),
            Repr::Table(t) => std::mem::size_of::<Table>() + t.dict.table_bytes() + t.value_heap,
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Packed(p) => {
                packed_find(&p.buf, field).map(|(_, v, end)| get_str(&p.buf[..end], v).0)
            }
            Repr::Table(t) => t.dict.get(field).map(CompactBytes::as_slice),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match &self.repr {
            Repr::Packed(p) => packed_find(&p.buf, field).is_some(),
            Repr::Table(t) => t.dict.contains_key(field),
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Packed(p) => Iter::Packed(packed_iter(&p.buf)),
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
                let mut buf = std::mem::take(&mut p.buf).into_vec();
                let mut added = 0;
                for (field, value) in pairs.clone() {
                    if packed_set(&mut buf, field, value) {
                        added += 1;
                    }
                }
                p.buf = buf.into_boxed_slice();
                p.pairs += added as u32;
                if p.pairs as usize > limits.max_entries {
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
                let Some((start, _, end)) = packed_find(&p.buf, field) else {
                    return false;
                };
                let mut buf = std::mem::take(&mut p.buf).into_vec();
                buf.drain(start..end);
                p.buf = buf.into_boxed_slice();
                p.pairs -= 1;
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
            Repr::Packed(p) => Some(packed_iter(&p.buf).collect()),
            Repr::Table(_) => None,
        }
    }

    /// A uniformly random pair, or `None` when empty.
    pub fn random_pair(&self, rand: &mut impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Packed(p) => {
                if p.pairs == 0 {
                    return None;
                }
                let n = (rand() % u64::from(p.pairs)) as usize;
                packed_iter(&p.buf).nth(n)
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
                for (k, v) in packed_iter(&p.buf) {
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
        for (k, v) in packed_iter(&p.buf) {
            let v = CompactBytes::from_slice(v);
            table.value_heap += v.heap_size();
            table.dict.insert(k, v);
        }
        self.repr = Repr::Table(Box::new(table));
    }
}

/// Sets `field` in a packed buffer; true if it was new.
fn packed_set(buf: &mut Vec<u8>, field: &[u8], value: &[u8]) -> bool {
    match packed_find(buf, field) {
        Some((_, vpos, end)) => {
            let (old, _) = get_str(&buf[..end], vpos);
            if old == value {
                return false;
            }
            let mut encoded = Vec::with_capacity(str_cost(value));
            put_str(&mut encoded, value);
            buf.splice(vpos..end, encoded);
            false
        }
        None => {
            buf.reserve_exact(str_cost(field) + str_cost(value));
            put_str(buf, field);
            put_str(buf, value);
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

    #[test]
    fn value_stays_24_bytes() {
        assert_eq!(std::mem::size_of::<HashValue>(), 24);
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
    fn long_strings_round_trip_in_packed_form() {
        let mut h = HashValue::new();
        let big = vec![b'x'; 300];
        h.set(&big, &big, lim(10, 1000));
        assert_eq!(h.get(&big), Some(&big[..]));
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
