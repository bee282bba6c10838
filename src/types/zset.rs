//! Sorted set values: a packed list while small, an order-statistic B+tree
//! over a member index once large.
//!
//! A sorted set answers two kinds of question: by member (ZSCORE, ZINCRBY,
//! ZREM: "what is this member's score") and by order (ZRANGE, ZRANK,
//! ZCOUNT: "what is at position i", "where does score s fall"). Redis keeps
//! two structures for that, a dict from member to score and a skip list
//! with spans, and each member costs it a dict entry, an sds string and a
//! skip-list node of 1.33 levels on average: about 110 bytes for a 13-byte
//! member in a set of a million. The skip list also chases one pointer per
//! step, so a rank query walks some 20-40 nodes scattered over the heap.
//!
//! Large sets here are an order-statistic B+tree instead, for three
//! reasons. Its leaves are arrays: 63 `(score, id)` pairs in 760 bytes,
//! searched by binary search within one or two cache lines per level, four
//! levels for a million members, where a skip list would visit dozens of
//! nodes. Each inner node keeps the element count of every child, so rank,
//! select-by-rank and range bounds are one root-to-leaf descent
//! (O(log n)), as Redis's spans give it, without a per-node level array.
//! And it stores what it orders in 12 bytes per member plus fill slack,
//! because the member bytes are not in the tree at all.
//!
//! Members live once, in a `Slab`: a chunked array of `(member, score)`
//! slots addressed by a 32-bit id, members inline up to 23 bytes
//! ([`CompactBytes`]). The tree orders ids by `(score, member)`, comparing
//! member bytes through the slab only when scores tie. The member index is
//! a `hashbrown::HashTable<u32>` of ids, hashed and compared through the
//! slab too, so it holds 4 bytes (plus a control byte) per member rather
//! than a second copy of the string; it grows incrementally (`MemberTable`)
//! so that a large set never stalls the shard to rehash. A member costs
//! about 32 (slot) + 6-11 (table) + 14-18 (leaf) bytes: 61 bytes for a
//! million 13-byte members where Redis uses 110 (`benches/zset.sh`). Ids and
//! child counts are 32-bit, which bounds one sorted set to 2^32 - 1 members
//! (over 250 GB of them).
//!
//! Leaves split in half, except at the ends of the set, where an insert at
//! the far right (or left) leaves the full leaf full and starts a new one:
//! sets fed in score order (timestamps, counters) then fill their leaves
//! completely. Deletions merge or rebalance a leaf that falls below a
//! quarter full with its neighbour, and a set that has shrunk to a quarter
//! of its slab compacts it. Compaction renumbers ids downward only (holes
//! squeezed out, order kept), and ZSCAN walks ids from the top down, so a
//! member present for a whole scan is still returned even if a compaction
//! happens in between; like Redis's cursors, some may come twice.
//!
//! Small sets are a single byte buffer, as Redis's listpack is: a varint
//! count, then `score (8 bytes) | varint length | member` entries sorted by
//! `(score, member)`, searched linearly. Past `zset-max-listpack-entries`
//! members, or when a member longer than `zset-max-listpack-value` arrives,
//! the set converts to the tree and never converts back (the STORE commands
//! build a fresh value and choose its encoding by its final size, as Redis
//! does). OBJECT ENCODING reports Redis's names, `listpack` and `skiplist`.
//!
//! Scores are doubles, never NaN. Equal scores compare equal with `==`
//! (so 0 and -0 tie and order by member, as in Redis); a packed set stores
//! -0 as 0, because Redis's listpack does.

use std::cmp::Ordering;

use hashbrown::HashTable;

use crate::types::compact::CompactBytes;

/// The conversion thresholds, as read from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 128,
            max_value: 64,
        }
    }
}

/// ZADD's options, as they apply to one score-member pair.
#[derive(Debug, Clone, Copy, Default)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What [`ZSetValue::add`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Added {
    /// A new member, with this score.
    New(f64),
    /// An existing member moved to this score.
    Updated(f64),
    /// An existing member whose score this already was.
    Same(f64),
    /// Nothing, because of NX, XX, GT or LT.
    Skipped,
}

/// An increment produced NaN (`inf + -inf`); nothing was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotANumber;

// ---- ranges -------------------------------------------------------------------

/// A range of elements, by score or by member: the tests Redis's
/// zslValueGteMin / zslValueLteMax (and their lex forms) make.
pub trait RangeSpec {
    /// Whether the tests look at the member (lex ranges); a score range
    /// then never has to fetch member bytes.
    const USES_MEMBER: bool;
    /// A range that can contain nothing whatever the set (min above max).
    fn is_empty(&self) -> bool;
    fn gte_min(&self, score: f64, member: &[u8]) -> bool;
    fn lte_max(&self, score: f64, member: &[u8]) -> bool;
}

/// `min max` of ZRANGEBYSCORE and friends; `(` makes a bound exclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    /// Redis's zslParseRange: glibc `strtod` must consume each bound (after
    /// an optional `(`) up to its end or first NUL, and NaN is refused;
    /// leading spaces, an empty bound (0), `inf` and overflow are accepted.
    pub fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let (min, minex) = parse_score_bound(min)?;
        let (max, maxex) = parse_score_bound(max)?;
        Some(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }
}

fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    match arg.split_first() {
        Some((b'(', rest)) => Some((crate::util::num::parse_f64_strtod(rest)?, true)),
        _ => Some((crate::util::num::parse_f64_strtod(arg)?, false)),
    }
}

impl RangeSpec for ScoreRange {
    const USES_MEMBER: bool = false;

    fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }

    #[inline]
    fn gte_min(&self, score: f64, _member: &[u8]) -> bool {
        if self.minex {
            score > self.min
        } else {
            score >= self.min
        }
    }

    #[inline]
    fn lte_max(&self, score: f64, _member: &[u8]) -> bool {
        if self.maxex {
            score < self.max
        } else {
            score <= self.max
        }
    }
}

/// One bound of ZRANGEBYLEX: `-`, `+`, `[inclusive` or `(exclusive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LexBound<'a> {
    Min,
    Max,
    Incl(&'a [u8]),
    Excl(&'a [u8]),
}

impl<'a> LexBound<'a> {
    /// Redis's zslParseLexRangeItem. `+` and `-` must stand alone (a C
    /// string, so a NUL may follow); an empty argument is invalid.
    pub fn parse(arg: &'a [u8]) -> Option<LexBound<'a>> {
        let alone = arg.get(1).is_none_or(|&b| b == 0);
        match arg.split_first()? {
            (b'+', _) if alone => Some(LexBound::Max),
            (b'-', _) if alone => Some(LexBound::Min),
            (b'(', rest) => Some(LexBound::Excl(rest)),
            (b'[', rest) => Some(LexBound::Incl(rest)),
            _ => None,
        }
    }

    fn exclusive(&self) -> bool {
        !matches!(self, LexBound::Incl(_))
    }
}

/// Redis's sdscmplex: `-` sorts before everything and `+` after, and each
/// equals only itself.
fn cmp_lex_bounds(a: &LexBound, b: &LexBound) -> Ordering {
    use LexBound::*;
    match (a, b) {
        (Min, Min) | (Max, Max) => Ordering::Equal,
        (Min, _) | (_, Max) => Ordering::Less,
        (Max, _) | (_, Min) => Ordering::Greater,
        (Incl(x) | Excl(x), Incl(y) | Excl(y)) => x.cmp(y),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LexRange<'a> {
    pub min: LexBound<'a>,
    pub max: LexBound<'a>,
}

impl<'a> LexRange<'a> {
    pub fn parse(min: &'a [u8], max: &'a [u8]) -> Option<LexRange<'a>> {
        Some(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }
}

impl RangeSpec for LexRange<'_> {
    const USES_MEMBER: bool = true;

    fn is_empty(&self) -> bool {
        match cmp_lex_bounds(&self.min, &self.max) {
            Ordering::Greater => true,
            Ordering::Equal => self.min.exclusive() || self.max.exclusive(),
            Ordering::Less => false,
        }
    }

    fn gte_min(&self, _score: f64, member: &[u8]) -> bool {
        match self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Incl(b) => member >= b,
            LexBound::Excl(b) => member > b,
        }
    }

    fn lte_max(&self, _score: f64, member: &[u8]) -> bool {
        match self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(b) => member <= b,
            LexBound::Excl(b) => member < b,
        }
    }
}

// ---- the value ------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
pub struct ZSetValue {
    repr: Repr,
}

#[derive(Debug, Clone)]
enum Repr {
    /// `varint count, (score, varint len, member)*`, or empty for no members.
    Packed(Box<[u8]>),
    Tree(Box<Index>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Packed(Box::default())
    }
}

impl ZSetValue {
    pub fn new() -> ZSetValue {
        ZSetValue::default()
    }

    /// A set of `entries`, which must be sorted by `(score, member)` with
    /// no member twice, encoded as Redis would encode a set built by a
    /// STORE command: packed if it is small enough for `limits`.
    pub fn from_sorted(entries: &[(CompactBytes, f64)], limits: Limits) -> ZSetValue {
        let longest = entries.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        let repr = if entries.len() <= limits.max_entries && longest <= limits.max_value {
            let view: Vec<(f64, &[u8])> = entries.iter().map(|(m, s)| (*s, &m[..])).collect();
            Repr::Packed(pack(&view))
        } else {
            Repr::Tree(Box::new(Index::from_sorted(
                entries.iter().map(|(m, s)| (*s, &m[..])),
                entries.len(),
            )))
        };
        ZSetValue { repr }
    }

    /// [`ZSetValue::from_sorted`] over borrowed members (score first), for
    /// a loader whose members are still in its read buffer.
    pub fn from_sorted_slices(entries: &[(f64, &[u8])], limits: Limits) -> ZSetValue {
        let longest = entries.iter().map(|(_, m)| m.len()).max().unwrap_or(0);
        let repr = if entries.len() <= limits.max_entries && longest <= limits.max_value {
            Repr::Packed(pack(entries))
        } else {
            Repr::Tree(Box::new(Index::from_sorted(
                entries.iter().copied(),
                entries.len(),
            )))
        };
        ZSetValue { repr }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Packed(buf) => packed_header(buf).0,
            Repr::Tree(index) => index.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Packed(_) => "listpack",
            Repr::Tree(_) => "skiplist",
        }
    }

    /// Heap bytes owned by this value (an estimate for the tree: node
    /// counts times node sizes, the slab's and table's allocations).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Packed(buf) => buf.len(),
            Repr::Tree(index) => std::mem::size_of::<Index>() + index.heap_size(),
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Packed(buf) => packed_find(buf, member).map(|(_, s)| s),
            Repr::Tree(index) => index.score(member),
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.score(member).is_some()
    }

    /// ZADD's zsetAdd for one pair: adds or updates `member` as `flags`
    /// say, converting a packed set that outgrows `limits` first.
    pub fn add(
        &mut self,
        score: f64,
        member: &[u8],
        flags: AddFlags,
        limits: Limits,
    ) -> Result<Added, NotANumber> {
        let current = self.score(member);
        let Some(cur) = current else {
            if flags.xx {
                return Ok(Added::Skipped);
            }
            self.insert_new(score, member, limits);
            return Ok(Added::New(score));
        };
        if flags.nx {
            return Ok(Added::Skipped);
        }
        let mut score = score;
        if flags.incr {
            score += cur;
            if score.is_nan() {
                return Err(NotANumber);
            }
        }
        if (flags.lt && score >= cur) || (flags.gt && score <= cur) {
            return Ok(Added::Skipped);
        }
        if score == cur {
            return Ok(Added::Same(score));
        }
        match &mut self.repr {
            Repr::Packed(buf) => {
                let mut entries = packed_entries(buf);
                entries.retain(|(_, m)| *m != member);
                let at = entries.partition_point(|&(s, m)| entry_lt(s, m, score, member));
                entries.insert(at, (score, member));
                *buf = pack(&entries);
            }
            Repr::Tree(index) => index.update(member, score),
        }
        Ok(Added::Updated(score))
    }

    /// Adds a member known to be absent.
    fn insert_new(&mut self, score: f64, member: &[u8], limits: Limits) {
        if let Repr::Packed(buf) = &self.repr {
            let n = packed_header(buf).0;
            if n + 1 > limits.max_entries || member.len() > limits.max_value {
                self.convert();
            }
        }
        match &mut self.repr {
            Repr::Packed(buf) => {
                let mut entries = packed_entries(buf);
                let at = entries.partition_point(|&(s, m)| entry_lt(s, m, score, member));
                entries.insert(at, (score, member));
                *buf = pack(&entries);
            }
            Repr::Tree(index) => index.insert_new(score, member),
        }
    }

    /// Packed to tree.
    fn convert(&mut self) {
        if let Repr::Packed(buf) = &self.repr {
            let entries = packed_entries(buf);
            let index = Index::from_sorted(entries.iter().copied(), entries.len());
            self.repr = Repr::Tree(Box::new(index));
        }
    }

    /// Removes `member`; false if it was not there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Packed(buf) => {
                let mut entries = packed_entries(buf);
                let before = entries.len();
                entries.retain(|(_, m)| *m != member);
                if entries.len() == before {
                    return false;
                }
                *buf = pack(&entries);
                true
            }
            Repr::Tree(index) => index.remove(member),
        }
    }

    /// The 0-based position of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Packed(buf) => packed_find(buf, member).map(|(i, _)| i),
            Repr::Tree(index) => index.rank(member),
        }
    }

    /// The element at ascending position `rank`.
    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        match &self.repr {
            Repr::Packed(buf) => PackedIter::new(buf).nth(rank).map(|(s, m)| (m, s)),
            Repr::Tree(index) => index.get(rank),
        }
    }

    /// Calls `f(member, score)` on the elements from ascending position
    /// `start`, upward (or downward when `rev`), while it returns true.
    pub fn walk(&self, start: usize, rev: bool, mut f: impl FnMut(&[u8], f64) -> bool) {
        match &self.repr {
            Repr::Packed(buf) => {
                if !rev {
                    for (s, m) in PackedIter::new(buf).skip(start) {
                        if !f(m, s) {
                            return;
                        }
                    }
                } else {
                    let entries = packed_entries(buf);
                    if start >= entries.len() {
                        return;
                    }
                    for &(s, m) in entries[..=start].iter().rev() {
                        if !f(m, s) {
                            return;
                        }
                    }
                }
            }
            Repr::Tree(index) => index.walk(start, rev, |m, s| f(m, s)),
        }
    }

    /// Calls `f` on every element in ascending order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        self.walk(0, false, |m, s| {
            f(m, s);
            true
        });
    }

    /// Position of the first element in `range` (Redis's zzlFirstInRange /
    /// zslFirstInRange and their lex forms): none when the range is empty
    /// or misses the set, or when the first element at or above the minimum
    /// is already past the maximum.
    pub fn first_in<R: RangeSpec>(&self, range: &R) -> Option<usize> {
        match &self.repr {
            Repr::Packed(buf) => {
                let entries = packed_entries(buf);
                if !packed_in_range(&entries, range) {
                    return None;
                }
                // A linear scan, as the listpack does: with mixed scores a
                // lex range is not monotonic and only this reproduces Redis.
                let i = entries.iter().position(|&(s, m)| range.gte_min(s, m))?;
                let (s, m) = entries[i];
                range.lte_max(s, m).then_some(i)
            }
            Repr::Tree(index) => index.first_in(range),
        }
    }

    /// Position of the last element in `range` (zzlLastInRange and forms).
    pub fn last_in<R: RangeSpec>(&self, range: &R) -> Option<usize> {
        match &self.repr {
            Repr::Packed(buf) => {
                let entries = packed_entries(buf);
                if !packed_in_range(&entries, range) {
                    return None;
                }
                let i = entries.iter().rposition(|&(s, m)| range.lte_max(s, m))?;
                let (s, m) = entries[i];
                range.gte_min(s, m).then_some(i)
            }
            Repr::Tree(index) => index.last_in(range),
        }
    }

    /// ZCOUNT / ZLEXCOUNT: a packed set counts from the first element in
    /// range while elements stay at or below the maximum; the tree
    /// subtracts the ranks of the first and last elements in range, as
    /// Redis's skip list does.
    pub fn count_in<R: RangeSpec>(&self, range: &R) -> usize {
        match &self.repr {
            Repr::Packed(_) => {
                let Some(first) = self.first_in(range) else {
                    return 0;
                };
                let mut n = 0;
                self.walk(first, false, |m, s| {
                    let more = range.lte_max(s, m);
                    n += usize::from(more);
                    more
                });
                n
            }
            Repr::Tree(index) => {
                let Some(first) = index.first_in(range) else {
                    return 0;
                };
                let len = index.len();
                let mut n = len - first;
                if let Some(last) = index.last_in(range) {
                    n = n.saturating_sub(len - 1 - last);
                }
                n
            }
        }
    }

    /// ZREMRANGEBYSCORE / ZREMRANGEBYLEX: removes the run of elements that
    /// starts at the first one at or above the minimum and lasts while
    /// elements are at or below the maximum. Returns how many went.
    pub fn remove_in<R: RangeSpec>(&mut self, range: &R) -> usize {
        match &mut self.repr {
            Repr::Packed(buf) => {
                let mut entries = packed_entries(buf);
                if !packed_in_range(&entries, range) {
                    return 0;
                }
                let Some(start) = entries.iter().position(|&(s, m)| range.gte_min(s, m)) else {
                    return 0;
                };
                let run = entries[start..]
                    .iter()
                    .take_while(|&&(s, m)| range.lte_max(s, m))
                    .count();
                if run == 0 {
                    return 0;
                }
                entries.drain(start..start + run);
                *buf = pack(&entries);
                run
            }
            Repr::Tree(index) => index.remove_in(range),
        }
    }

    /// Removes the elements at ascending positions `start..=end` (clamped
    /// by the caller); returns how many went.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        if start > end || start >= self.len() {
            return 0;
        }
        let end = end.min(self.len() - 1);
        match &mut self.repr {
            Repr::Packed(buf) => {
                let mut entries = packed_entries(buf);
                entries.drain(start..=end);
                *buf = pack(&entries);
            }
            Repr::Tree(index) => index.remove_ranks(start, end),
        }
        end - start + 1
    }

    /// Removes and returns the lowest (or, with `max`, highest) element.
    pub fn pop(&mut self, max: bool) -> Option<(CompactBytes, f64)> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let rank = if max { len - 1 } else { 0 };
        if let Repr::Tree(index) = &mut self.repr {
            return index.pop_at(rank);
        }
        let (member, score) = self
            .get(rank)
            .map(|(m, s)| (CompactBytes::from_slice(m), s))?;
        self.remove_ranks(rank, rank);
        Some((member, score))
    }

    /// One ZSCAN step: a packed set is returned whole with cursor 0, as
    /// Redis does for listpacks; the tree visits up to `count` members by
    /// slab id, from the top down (see the module notes), and returns the
    /// cursor to continue from, 0 when done.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            Repr::Packed(buf) => {
                for (s, m) in PackedIter::new(buf) {
                    f(m, s);
                }
                0
            }
            Repr::Tree(index) => index.slab.scan(cursor, count, f),
        }
    }
}

/// `(a_score, a_member) < (b_score, b_member)` in sorted-set order.
fn entry_lt(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> bool {
    a_score < b_score || (a_score == b_score && a_member < b_member)
}

// ---- packed encoding ---------------------------------------------------------------

fn put_varint(buf: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        len += 1;
        n >>= 7;
    }
    len
}

/// The varint at `pos` and the position after it. Buffers are only ever
/// written by [`pack`], so they are well formed; a truncated one reads as
/// ending early rather than panicking.
fn get_varint(buf: &[u8], mut pos: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0u32;
    while let Some(&b) = buf.get(pos) {
        pos += 1;
        if shift < usize::BITS {
            n |= usize::from(b & 0x7f) << shift;
        }
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (n, pos)
}

/// The member count and where the first entry starts.
fn packed_header(buf: &[u8]) -> (usize, usize) {
    if buf.is_empty() {
        (0, 0)
    } else {
        get_varint(buf, 0)
    }
}

struct PackedIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> PackedIter<'a> {
    fn new(buf: &'a [u8]) -> Self {
        PackedIter {
            buf,
            pos: packed_header(buf).1,
        }
    }
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = (f64, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let score_bytes = self.buf.get(self.pos..self.pos + 8)?;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(score_bytes);
        let (len, start) = get_varint(self.buf, self.pos + 8);
        let member = self.buf.get(start..start + len)?;
        self.pos = start + len;
        Some((f64::from_bits(u64::from_le_bytes(raw)), member))
    }
}

fn packed_entries(buf: &[u8]) -> Vec<(f64, &[u8])> {
    let mut v = Vec::with_capacity(packed_header(buf).0);
    v.extend(PackedIter::new(buf));
    v
}

/// Position and score of `member`.
fn packed_find(buf: &[u8], member: &[u8]) -> Option<(usize, f64)> {
    PackedIter::new(buf)
        .enumerate()
        .find(|(_, (_, m))| *m == member)
        .map(|(i, (s, _))| (i, s))
}

/// An exact-size buffer holding `entries` (sorted, distinct). -0 is stored
/// as 0, as Redis's listpack does.
fn pack(entries: &[(f64, &[u8])]) -> Box<[u8]> {
    if entries.is_empty() {
        return Box::default();
    }
    let size = varint_len(entries.len())
        + entries
            .iter()
            .map(|(_, m)| 8 + varint_len(m.len()) + m.len())
            .sum::<usize>();
    let mut buf = Vec::with_capacity(size);
    put_varint(&mut buf, entries.len());
    for &(score, member) in entries {
        let score = if score == 0.0 { 0.0 } else { score };
        buf.extend_from_slice(&score.to_bits().to_le_bytes());
        put_varint(&mut buf, member.len());
        buf.extend_from_slice(member);
    }
    buf.into_boxed_slice()
}

/// Redis's zzlIsInRange / zzlIsInLexRange: the range is not empty by
/// itself, the last element is at or above its minimum and the first at
/// or below its maximum.
fn packed_in_range<R: RangeSpec>(entries: &[(f64, &[u8])], range: &R) -> bool {
    let (Some(&(fs, fm)), Some(&(ls, lm))) = (entries.first(), entries.last()) else {
        return false;
    };
    !range.is_empty() && range.gte_min(ls, lm) && range.lte_max(fs, fm)
}

// ---- the slab --------------------------------------------------------------------

const CHUNK_BITS: u32 = 12;
/// Slots per chunk. Chunks are allocated whole once full size is reached,
/// so a large set never reallocates (and copies) its slots; the last chunk
/// grows by doubling up to this size, so a small set pays for little more
/// than it holds.
const CHUNK: usize = 1 << CHUNK_BITS;

#[derive(Debug, Clone)]
struct Slot {
    member: CompactBytes,
    /// NaN marks a free slot (no member ever has a NaN score).
    score: f64,
}

#[derive(Debug, Clone, Default)]
struct Slab {
    chunks: Vec<Vec<Slot>>,
    free: Vec<u32>,
    member_heap: usize,
}

impl Slab {
    /// Slots ever handed out (live or free).
    fn slots(&self) -> usize {
        match self.chunks.last() {
            None => 0,
            Some(last) => (self.chunks.len() - 1) * CHUNK + last.len(),
        }
    }

    fn live(&self) -> usize {
        self.slots() - self.free.len()
    }

    #[inline]
    fn slot(&self, id: u32) -> Option<&Slot> {
        self.chunks
            .get((id >> CHUNK_BITS) as usize)?
            .get(id as usize & (CHUNK - 1))
    }

    fn slot_mut(&mut self, id: u32) -> Option<&mut Slot> {
        self.chunks
            .get_mut((id >> CHUNK_BITS) as usize)?
            .get_mut(id as usize & (CHUNK - 1))
    }

    #[inline]
    fn member(&self, id: u32) -> &[u8] {
        self.slot(id).map_or(&[], |s| &s.member)
    }

    #[inline]
    fn score(&self, id: u32) -> f64 {
        self.slot(id).map_or(0.0, |s| s.score)
    }

    fn set_score(&mut self, id: u32, score: f64) {
        if let Some(s) = self.slot_mut(id) {
            s.score = score;
        }
    }

    fn alloc(&mut self, member: &[u8], score: f64) -> u32 {
        let member = CompactBytes::from_slice(member);
        self.member_heap += member.heap_size();
        let slot = Slot { member, score };
        if let Some(id) = self.free.pop() {
            if let Some(s) = self.slot_mut(id) {
                *s = slot;
                return id;
            }
        }
        let id = self.slots() as u32;
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push(Vec::new());
        }
        if let Some(chunk) = self.chunks.last_mut() {
            if chunk.len() == chunk.capacity() {
                let want = (chunk.capacity() * 2).clamp(8, CHUNK);
                chunk.reserve_exact(want - chunk.len());
            }
            chunk.push(slot);
        }
        id
    }

    fn release(&mut self, id: u32) {
        if let Some(s) = self.slot_mut(id) {
            let heap = s.member.heap_size();
            s.member = CompactBytes::new();
            s.score = f64::NAN;
            self.member_heap -= heap;
            self.free.push(id);
        }
    }

    fn heap_size(&self) -> usize {
        let slots: usize = self.chunks.iter().map(Vec::capacity).sum();
        slots * std::mem::size_of::<Slot>()
            + self.chunks.capacity() * std::mem::size_of::<Vec<Slot>>()
            + self.free.capacity() * 4
            + self.member_heap
    }

    /// Live slots from id `cursor - 1` down (cursor 0: from the top), up to
    /// `count` of them; the next cursor, 0 at the bottom.
    fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        let top = self.slots() as u64;
        let mut next = if cursor == 0 { top } else { cursor.min(top) };
        let mut found = 0;
        while next > 0 && found < count.max(1) {
            next -= 1;
            if let Some(s) = self.slot(next as u32) {
                if !s.score.is_nan() {
                    f(&s.member, s.score);
                    found += 1;
                }
            }
        }
        next
    }
}

// ---- the member table ------------------------------------------------------------

/// Slab ids, hashed by member, grown without a pause: when `live` is full,
/// a table of twice its size takes its place and every later insert or
/// removal moves a few buckets of the old one over, as Redis's dict
/// rehashes. hashbrown alone would rehash a million members at once, a
/// stall of tens of milliseconds for the whole shard, since each id's hash
/// means reading its member from the slab.
#[derive(Debug, Clone, Default)]
struct MemberTable {
    live: HashTable<u32>,
    /// The table being emptied into `live`, and its next bucket to move.
    old: Option<(HashTable<u32>, usize)>,
}

/// Buckets of the old table moved per insert or removal: well ahead of
/// inserts, so `live` (twice the old size) never fills before it is done.
const MIGRATE_PER_OP: usize = 16;

impl MemberTable {
    #[cfg(test)]
    fn len(&self) -> usize {
        self.live.len() + self.old.as_ref().map_or(0, |(t, _)| t.len())
    }

    fn allocation_size(&self) -> usize {
        self.live.allocation_size() + self.old.as_ref().map_or(0, |(t, _)| t.allocation_size())
    }

    #[inline]
    fn find(&self, hash: u64, eq: impl Fn(u32) -> bool) -> Option<u32> {
        if let Some(&id) = self.live.find(hash, |&id| eq(id)) {
            return Some(id);
        }
        let (old, _) = self.old.as_ref()?;
        old.find(hash, |&id| eq(id)).copied()
    }

    fn insert(&mut self, hash: u64, id: u32, rehash: impl Fn(u32) -> u64) {
        self.migrate(MIGRATE_PER_OP, &rehash);
        if self.live.len() == self.live.capacity() {
            // A growth still under way finishes first (only if something
            // outran the migration).
            self.migrate(usize::MAX, &rehash);
            let bigger = HashTable::with_capacity((self.live.capacity() * 2).max(8));
            let full = std::mem::replace(&mut self.live, bigger);
            if !full.is_empty() {
                self.old = Some((full, 0));
            }
        }
        self.live.insert_unique(hash, id, |&i| rehash(i));
    }

    fn remove(&mut self, hash: u64, id: u32, rehash: impl Fn(u32) -> u64) {
        self.migrate(MIGRATE_PER_OP, &rehash);
        if let Ok(entry) = self.live.find_entry(hash, |&x| x == id) {
            entry.remove();
        } else if let Some((old, _)) = self.old.as_mut() {
            if let Ok(entry) = old.find_entry(hash, |&x| x == id) {
                entry.remove();
            }
        }
    }

    /// Moves up to `buckets` buckets of the old table into `live`.
    fn migrate(&mut self, buckets: usize, rehash: &impl Fn(u32) -> u64) {
        let Some((old, next)) = self.old.as_mut() else {
            return;
        };
        let end = next.saturating_add(buckets).min(old.num_buckets());
        while *next < end {
            if let Ok(entry) = old.get_bucket_entry(*next) {
                let (id, _) = entry.remove();
                self.live.insert_unique(rehash(id), id, |&i| rehash(i));
            }
            *next += 1;
        }
        if old.is_empty() || *next >= old.num_buckets() {
            self.old = None;
        }
    }
}

// ---- the member index and tree ---------------------------------------------------------

#[derive(Debug, Clone)]
struct Index {
    slab: Slab,
    /// Member -> slab id, hashed and compared through the slab.
    table: MemberTable,
    hasher: ahash::RandomState,
    tree: Tree,
}

/// Compaction is considered past this many slots, when fewer than a
/// quarter of them are live.
const COMPACT_MIN_SLOTS: usize = 2 * CHUNK;

impl Index {
    fn new() -> Index {
        Index {
            slab: Slab::default(),
            table: MemberTable::default(),
            hasher: ahash::RandomState::new(),
            tree: Tree::default(),
        }
    }

    /// An index of `entries`, sorted and distinct.
    fn from_sorted<'a>(entries: impl Iterator<Item = (f64, &'a [u8])>, len: usize) -> Index {
        let mut index = Index::new();
        index.table.live = HashTable::with_capacity(len);
        for (score, member) in entries {
            index.insert_new(score, member);
        }
        index
    }

    fn len(&self) -> usize {
        self.tree.len
    }

    fn heap_size(&self) -> usize {
        self.slab.heap_size() + self.table.allocation_size() + self.tree.heap_size()
    }

    #[inline]
    fn find(&self, member: &[u8]) -> Option<u32> {
        let hash = self.hasher.hash_one(member);
        self.table.find(hash, |id| self.slab.member(id) == member)
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|id| self.slab.score(id))
    }

    fn insert_new(&mut self, score: f64, member: &[u8]) {
        let Index {
            slab,
            table,
            hasher,
            tree,
        } = self;
        let id = slab.alloc(member, score);
        let hash = hasher.hash_one(member);
        table.insert(hash, id, |i| hasher.hash_one(slab.member(i)));
        tree.insert(score, id, slab);
    }

    /// Moves an existing member to `score`.
    fn update(&mut self, member: &[u8], score: f64) {
        let Some(id) = self.find(member) else {
            return;
        };
        let old = self.slab.score(id);
        if !self.tree.update_in_place(old, score, id, &self.slab) {
            self.tree.remove(old, id, &self.slab);
            self.tree.insert(score, id, &self.slab);
        }
        self.slab.set_score(id, score);
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        let Some(id) = self.find(member) else {
            return false;
        };
        self.remove_id(id);
        self.maybe_compact();
        true
    }

    /// Removes the member in slot `id` from the tree, the table and the
    /// slab (no compaction: callers removing many do that once after).
    fn remove_id(&mut self, id: u32) {
        let Index {
            slab,
            table,
            hasher,
            tree,
        } = self;
        let score = slab.score(id);
        tree.remove(score, id, slab);
        let hash = hasher.hash_one(slab.member(id));
        table.remove(hash, id, |i| hasher.hash_one(slab.member(i)));
        slab.release(id);
    }

    /// Removes and returns the element at position `rank`.
    fn pop_at(&mut self, rank: usize) -> Option<(CompactBytes, f64)> {
        let (score, id) = self.tree.select(rank)?;
        let member = CompactBytes::from_slice(self.slab.member(id));
        self.remove_id(id);
        self.maybe_compact();
        Some((member, score))
    }

    fn rank(&self, member: &[u8]) -> Option<usize> {
        let id = self.find(member)?;
        self.tree.rank(self.slab.score(id), id, &self.slab)
    }

    fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        let (score, id) = self.tree.select(rank)?;
        Some((self.slab.member(id), score))
    }

    fn walk(&self, start: usize, rev: bool, mut f: impl FnMut(&[u8], f64) -> bool) {
        let slab = &self.slab;
        self.tree
            .walk(start, rev, &mut |score, id| f(slab.member(id), score));
    }

    /// The number of leading elements for which `pred` holds, `pred` being
    /// true then false along the order.
    fn partition<R: RangeSpec>(
        &self,
        mut pred: impl FnMut(&R, f64, &[u8]) -> bool,
        range: &R,
    ) -> usize {
        let slab = &self.slab;
        self.tree.partition(&mut |score, id| {
            let member = if R::USES_MEMBER { slab.member(id) } else { &[] };
            pred(range, score, member)
        })
    }

    /// zslIsInRange: not empty by itself, and overlapping the set.
    fn in_range<R: RangeSpec>(&self, range: &R) -> bool {
        let (Some((fm, fs)), Some((lm, ls))) = (self.get(0), self.get(self.len().wrapping_sub(1)))
        else {
            return false;
        };
        !range.is_empty() && range.gte_min(ls, lm) && range.lte_max(fs, fm)
    }

    fn first_in<R: RangeSpec>(&self, range: &R) -> Option<usize> {
        if !self.in_range(range) {
            return None;
        }
        let at = self.partition(|r, s, m| !r.gte_min(s, m), range);
        let (m, s) = self.get(at)?;
        range.lte_max(s, m).then_some(at)
    }

    fn last_in<R: RangeSpec>(&self, range: &R) -> Option<usize> {
        if !self.in_range(range) {
            return None;
        }
        let at = self
            .partition(|r, s, m| r.lte_max(s, m), range)
            .checked_sub(1)?;
        let (m, s) = self.get(at)?;
        range.gte_min(s, m).then_some(at)
    }

    /// Redis's zslDeleteRangeByScore / ByLex: from the first element at or
    /// above the minimum, while at or below the maximum.
    fn remove_in<R: RangeSpec>(&mut self, range: &R) -> usize {
        let start = self.partition(|r, s, m| !r.gte_min(s, m), range);
        let mut doomed = Vec::new();
        let slab = &self.slab;
        self.tree.walk(start, false, &mut |score, id| {
            let member = if R::USES_MEMBER { slab.member(id) } else { &[] };
            let keep_going = range.lte_max(score, member);
            if keep_going {
                doomed.push(id);
            }
            keep_going
        });
        self.remove_ids(&doomed);
        doomed.len()
    }

    fn remove_ranks(&mut self, start: usize, end: usize) {
        let mut doomed = Vec::with_capacity(end + 1 - start);
        let mut left = end + 1 - start;
        self.tree.walk(start, false, &mut |_, id| {
            doomed.push(id);
            left -= 1;
            left > 0
        });
        self.remove_ids(&doomed);
    }

    fn remove_ids(&mut self, ids: &[u32]) {
        if ids.len() == self.len() {
            // Everything goes: the caller deletes the key.
            *self = Index::new();
            return;
        }
        for &id in ids {
            self.remove_id(id);
        }
        self.maybe_compact();
    }

    /// Rebuilds the slab without its holes once most of it is free, keeping
    /// the ids' order (see the module notes on ZSCAN), and the table at the
    /// size the set now needs.
    fn maybe_compact(&mut self) {
        let slots = self.slab.slots();
        if slots < COMPACT_MIN_SLOTS || self.slab.live() * 4 >= slots {
            return;
        }
        let mut renumber = vec![u32::MAX; slots];
        let mut slab = Slab::default();
        for (old, slot) in self.slab.chunks.iter().flat_map(|c| c.iter()).enumerate() {
            if !slot.score.is_nan() {
                renumber[old] = slab.alloc(&slot.member, slot.score);
            }
        }
        let mut table = HashTable::with_capacity(slab.live());
        for id in 0..slab.slots() as u32 {
            let hash = self.hasher.hash_one(slab.member(id));
            table.insert_unique(hash, id, |&i| self.hasher.hash_one(slab.member(i)));
        }
        self.tree.renumber(&renumber);
        self.slab = slab;
        self.table = MemberTable {
            live: table,
            old: None,
        };
    }
}

/// Elements per leaf: 63 `(f64, u32)` pairs and a length fill 760 bytes,
/// which glibc serves from a 768-byte chunk with nothing to spare.
const LEAF_CAP: usize = 63;
const LEAF_MIN: usize = LEAF_CAP / 4;
const INNER_CAP: usize = 64;
const INNER_MIN: usize = INNER_CAP / 4;

#[derive(Debug, Clone)]
struct Leaf {
    len: u16,
    scores: [f64; LEAF_CAP],
    ids: [u32; LEAF_CAP],
}

impl Leaf {
    fn new() -> Box<Leaf> {
        Box::new(Leaf {
            len: 0,
            scores: [0.0; LEAF_CAP],
            ids: [0; LEAF_CAP],
        })
    }

    #[inline]
    fn len(&self) -> usize {
        self.len as usize
    }

    fn insert_at(&mut self, at: usize, score: f64, id: u32) {
        let n = self.len();
        self.scores.copy_within(at..n, at + 1);
        self.ids.copy_within(at..n, at + 1);
        self.scores[at] = score;
        self.ids[at] = id;
        self.len += 1;
    }

    fn remove_at(&mut self, at: usize) {
        let n = self.len();
        self.scores.copy_within(at + 1..n, at);
        self.ids.copy_within(at + 1..n, at);
        self.len -= 1;
    }
}

/// What an inner node knows of one child: its smallest element (the
/// separator searches compare against) and its element count.
#[derive(Debug, Clone, Copy)]
struct Sep {
    score: f64,
    id: u32,
    count: u32,
}

#[derive(Debug, Clone)]
struct Inner {
    seps: Vec<Sep>,
    children: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(Box<Leaf>),
    Inner(Box<Inner>),
}

impl Node {
    /// Elements below this node.
    fn count(&self) -> usize {
        match self {
            Node::Leaf(l) => l.len(),
            Node::Inner(n) => n.seps.iter().map(|s| s.count as usize).sum(),
        }
    }

    /// Entries in this node itself (elements of a leaf, children of an
    /// inner node): what splits and merges are decided on.
    fn width(&self) -> usize {
        match self {
            Node::Leaf(l) => l.len(),
            Node::Inner(n) => n.children.len(),
        }
    }

    fn min_key(&self) -> Option<(f64, u32)> {
        match self {
            Node::Leaf(l) => (l.len > 0).then(|| (l.scores[0], l.ids[0])),
            Node::Inner(n) => n.seps.first().map(|s| (s.score, s.id)),
        }
    }
}

/// The element being looked for: its score and member bytes.
struct Key<'a> {
    score: f64,
    member: &'a [u8],
}

/// Orders the element `(score, id)` against `key`.
#[inline]
fn cmp_key(score: f64, id: u32, key: &Key, slab: &Slab) -> Ordering {
    if score < key.score {
        Ordering::Less
    } else if score > key.score {
        Ordering::Greater
    } else {
        slab.member(id).cmp(key.member)
    }
}

/// `Ok(position)` of `key` in the leaf, or `Err(insertion point)`.
fn leaf_search(leaf: &Leaf, key: &Key, slab: &Slab) -> Result<usize, usize> {
    let (mut lo, mut hi) = (0, leaf.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        match cmp_key(leaf.scores[mid], leaf.ids[mid], key, slab) {
            Ordering::Less => lo = mid + 1,
            Ordering::Greater => hi = mid,
            Ordering::Equal => return Ok(mid),
        }
    }
    Err(lo)
}

/// The child whose range holds `key`: the last one whose smallest element
/// is not above it (the first child for keys below everything).
fn child_for(inner: &Inner, key: &Key, slab: &Slab) -> usize {
    inner
        .seps
        .partition_point(|s| cmp_key(s.score, s.id, key, slab) != Ordering::Greater)
        .saturating_sub(1)
}

fn refresh_sep(inner: &mut Inner, i: usize) {
    let (Some(child), Some(sep)) = (inner.children.get(i), inner.seps.get(i)) else {
        return;
    };
    let count = child.count() as u32;
    let min = child.min_key().unwrap_or((sep.score, sep.id));
    inner.seps[i] = Sep {
        score: min.0,
        id: min.1,
        count,
    };
}

#[derive(Debug, Clone, Default)]
struct Tree {
    root: Option<Node>,
    len: usize,
    leaves: usize,
    inners: usize,
}

/// Which ends of the whole tree a subtree touches: inserts at those ends
/// split unevenly so that sets filled in order get full leaves.
#[derive(Clone, Copy)]
struct Edges {
    first: bool,
    last: bool,
}

impl Tree {
    fn heap_size(&self) -> usize {
        self.leaves * std::mem::size_of::<Leaf>()
            + self.inners
                * (std::mem::size_of::<Inner>()
                    + (INNER_CAP + 1) * (std::mem::size_of::<Sep>() + std::mem::size_of::<Node>()))
    }

    fn insert(&mut self, score: f64, id: u32, slab: &Slab) {
        let key = Key {
            score,
            member: slab.member(id),
        };
        let edges = Edges {
            first: true,
            last: true,
        };
        let root = match self.root.take() {
            Some(root) => root,
            None => {
                self.leaves += 1;
                Node::Leaf(Leaf::new())
            }
        };
        let mut root = root;
        let split = self.insert_rec(&mut root, score, id, &key, slab, edges);
        self.root = Some(match split {
            None => root,
            Some(right) => {
                let mut seps = Vec::with_capacity(INNER_CAP + 1);
                let mut children = Vec::with_capacity(INNER_CAP + 1);
                for child in [root, right] {
                    let (s, i) = child.min_key().unwrap_or((score, id));
                    seps.push(Sep {
                        score: s,
                        id: i,
                        count: child.count() as u32,
                    });
                    children.push(child);
                }
                self.inners += 1;
                Node::Inner(Box::new(Inner { seps, children }))
            }
        });
        self.len += 1;
    }

    /// Inserts below `node`; returns the new right sibling if `node` split.
    fn insert_rec(
        &mut self,
        node: &mut Node,
        score: f64,
        id: u32,
        key: &Key,
        slab: &Slab,
        edges: Edges,
    ) -> Option<Node> {
        match node {
            Node::Leaf(leaf) => {
                let at = leaf_search(leaf, key, slab).unwrap_or_else(|e| e);
                if leaf.len() < LEAF_CAP {
                    leaf.insert_at(at, score, id);
                    return None;
                }
                let total = LEAF_CAP + 1;
                let keep = if edges.last && at == LEAF_CAP {
                    LEAF_CAP
                } else if edges.first && at == 0 {
                    1
                } else {
                    total / 2
                };
                let mut scores = [0f64; LEAF_CAP + 1];
                let mut ids = [0u32; LEAF_CAP + 1];
                scores[..at].copy_from_slice(&leaf.scores[..at]);
                ids[..at].copy_from_slice(&leaf.ids[..at]);
                scores[at] = score;
                ids[at] = id;
                scores[at + 1..].copy_from_slice(&leaf.scores[at..]);
                ids[at + 1..].copy_from_slice(&leaf.ids[at..]);
                let mut right = Leaf::new();
                let moved = total - keep;
                right.scores[..moved].copy_from_slice(&scores[keep..]);
                right.ids[..moved].copy_from_slice(&ids[keep..]);
                right.len = moved as u16;
                leaf.scores[..keep].copy_from_slice(&scores[..keep]);
                leaf.ids[..keep].copy_from_slice(&ids[..keep]);
                leaf.len = keep as u16;
                self.leaves += 1;
                Some(Node::Leaf(right))
            }
            Node::Inner(inner) => {
                let i = child_for(inner, key, slab);
                let last = inner.children.len() - 1;
                let child_edges = Edges {
                    first: edges.first && i == 0,
                    last: edges.last && i == last,
                };
                let split =
                    self.insert_rec(&mut inner.children[i], score, id, key, slab, child_edges);
                let Some(right) = split else {
                    inner.seps[i].count += 1;
                    if let Some((s, d)) = inner.children[i].min_key() {
                        inner.seps[i].score = s;
                        inner.seps[i].id = d;
                    }
                    return None;
                };
                let (rs, rid) = right.min_key().unwrap_or((score, id));
                let rcount = right.count() as u32;
                inner.seps.insert(
                    i + 1,
                    Sep {
                        score: rs,
                        id: rid,
                        count: rcount,
                    },
                );
                inner.children.insert(i + 1, right);
                refresh_sep(inner, i);
                if inner.children.len() <= INNER_CAP {
                    return None;
                }
                let total = inner.children.len();
                let keep = if edges.last && i + 1 == total - 1 {
                    total - 1
                } else if edges.first && i == 0 {
                    1
                } else {
                    total / 2
                };
                let mut seps = Vec::with_capacity(INNER_CAP + 1);
                seps.extend(inner.seps.drain(keep..));
                let mut children = Vec::with_capacity(INNER_CAP + 1);
                children.extend(inner.children.drain(keep..));
                self.inners += 1;
                Some(Node::Inner(Box::new(Inner { seps, children })))
            }
        }
    }

    /// Removes the element `(score, id)`; false if it is not in the tree.
    fn remove(&mut self, score: f64, id: u32, slab: &Slab) -> bool {
        let key = Key {
            score,
            member: slab.member(id),
        };
        let Some(mut root) = self.root.take() else {
            return false;
        };
        let found = self.remove_rec(&mut root, &key, slab);
        if found {
            self.len -= 1;
        }
        // A root with a single child hands the root role down.
        loop {
            match root {
                Node::Inner(mut inner) if inner.children.len() == 1 => {
                    self.inners -= 1;
                    match inner.children.pop() {
                        Some(child) => root = child,
                        None => return found,
                    }
                }
                other => {
                    root = other;
                    break;
                }
            }
        }
        self.root = Some(root);
        found
    }

    fn remove_rec(&mut self, node: &mut Node, key: &Key, slab: &Slab) -> bool {
        match node {
            Node::Leaf(leaf) => match leaf_search(leaf, key, slab) {
                Ok(at) => {
                    leaf.remove_at(at);
                    true
                }
                Err(_) => false,
            },
            Node::Inner(inner) => {
                let i = child_for(inner, key, slab);
                if !self.remove_rec(&mut inner.children[i], key, slab) {
                    return false;
                }
                inner.seps[i].count -= 1;
                self.fix_child(inner, i);
                true
            }
        }
    }

    /// After a removal below child `i`: merges it with a neighbour or
    /// evens them out if it fell under a quarter full, and refreshes the
    /// separators.
    fn fix_child(&mut self, inner: &mut Inner, i: usize) {
        let (min, cap) = match inner.children[i] {
            Node::Leaf(_) => (LEAF_MIN, LEAF_CAP),
            Node::Inner(_) => (INNER_MIN, INNER_CAP),
        };
        if inner.children[i].width() >= min || inner.children.len() < 2 {
            if inner.children[i].width() > 0 {
                refresh_sep(inner, i);
            }
            return;
        }
        let a = if i + 1 < inner.children.len() {
            i
        } else {
            i - 1
        };
        let b = a + 1;
        let total = inner.children[a].width() + inner.children[b].width();
        if total <= cap {
            let right = inner.children.remove(b);
            inner.seps.remove(b);
            match (&mut inner.children[a], right) {
                (Node::Leaf(l), Node::Leaf(r)) => {
                    let (ln, rn) = (l.len(), r.len());
                    l.scores[ln..ln + rn].copy_from_slice(&r.scores[..rn]);
                    l.ids[ln..ln + rn].copy_from_slice(&r.ids[..rn]);
                    l.len = (ln + rn) as u16;
                    self.leaves -= 1;
                }
                (Node::Inner(l), Node::Inner(r)) => {
                    let r = *r;
                    l.seps.extend(r.seps);
                    l.children.extend(r.children);
                    self.inners -= 1;
                }
                _ => {}
            }
            refresh_sep(inner, a);
            return;
        }
        let (left, right) = inner.children.split_at_mut(b);
        match (&mut left[a], &mut right[0]) {
            (Node::Leaf(l), Node::Leaf(r)) => balance_leaves(l, r),
            (Node::Inner(l), Node::Inner(r)) => balance_inners(l, r),
            _ => {}
        }
        refresh_sep(inner, a);
        refresh_sep(inner, b);
    }

    /// Sets the score of element `(old, id)` to `new` without moving it,
    /// when it stays strictly between its neighbours in its leaf.
    fn update_in_place(&mut self, old: f64, new: f64, id: u32, slab: &Slab) -> bool {
        let member = slab.member(id);
        let key = Key { score: old, member };
        let new_key = Key { score: new, member };
        let Some(mut node) = self.root.as_mut() else {
            return false;
        };
        loop {
            match node {
                Node::Inner(inner) => {
                    let i = child_for(inner, &key, slab);
                    node = &mut inner.children[i];
                }
                Node::Leaf(leaf) => {
                    let Ok(at) = leaf_search(leaf, &key, slab) else {
                        return false;
                    };
                    if at == 0 || at + 1 >= leaf.len() {
                        return false;
                    }
                    let below = cmp_key(leaf.scores[at - 1], leaf.ids[at - 1], &new_key, slab);
                    let above = cmp_key(leaf.scores[at + 1], leaf.ids[at + 1], &new_key, slab);
                    if below == Ordering::Less && above == Ordering::Greater {
                        leaf.scores[at] = new;
                        return true;
                    }
                    return false;
                }
            }
        }
    }

    /// 0-based position of the element `(score, id)`.
    fn rank(&self, score: f64, id: u32, slab: &Slab) -> Option<usize> {
        let key = Key {
            score,
            member: slab.member(id),
        };
        let mut node = self.root.as_ref()?;
        let mut rank = 0usize;
        loop {
            match node {
                Node::Inner(inner) => {
                    let i = child_for(inner, &key, slab);
                    rank += inner.seps[..i]
                        .iter()
                        .map(|s| s.count as usize)
                        .sum::<usize>();
                    node = &inner.children[i];
                }
                Node::Leaf(leaf) => return leaf_search(leaf, &key, slab).ok().map(|at| rank + at),
            }
        }
    }

    /// The element at 0-based position `rank`.
    fn select(&self, mut rank: usize) -> Option<(f64, u32)> {
        if rank >= self.len {
            return None;
        }
        let mut node = self.root.as_ref()?;
        loop {
            match node {
                Node::Inner(inner) => {
                    let mut next = None;
                    for (sep, child) in inner.seps.iter().zip(&inner.children) {
                        let c = sep.count as usize;
                        if rank < c {
                            next = Some(child);
                            break;
                        }
                        rank -= c;
                    }
                    node = next?;
                }
                Node::Leaf(leaf) => {
                    return (rank < leaf.len()).then(|| (leaf.scores[rank], leaf.ids[rank]));
                }
            }
        }
    }

    /// How many leading elements satisfy `pred`, which must hold for a
    /// prefix of the order and not after it.
    fn partition(&self, pred: &mut impl FnMut(f64, u32) -> bool) -> usize {
        let Some(mut node) = self.root.as_ref() else {
            return 0;
        };
        let mut rank = 0usize;
        loop {
            match node {
                Node::Inner(inner) => {
                    let p = inner.seps.partition_point(|s| pred(s.score, s.id));
                    if p == 0 {
                        return rank;
                    }
                    let i = p - 1;
                    rank += inner.seps[..i]
                        .iter()
                        .map(|s| s.count as usize)
                        .sum::<usize>();
                    node = &inner.children[i];
                }
                Node::Leaf(leaf) => {
                    let n = leaf.len();
                    let (mut lo, mut hi) = (0, n);
                    while lo < hi {
                        let mid = (lo + hi) / 2;
                        if pred(leaf.scores[mid], leaf.ids[mid]) {
                            lo = mid + 1;
                        } else {
                            hi = mid;
                        }
                    }
                    return rank + lo;
                }
            }
        }
    }

    /// Calls `f(score, id)` from position `start` upward (or downward when
    /// `rev`) while it returns true.
    fn walk(&self, start: usize, rev: bool, f: &mut impl FnMut(f64, u32) -> bool) {
        let Some(root) = self.root.as_ref() else {
            return;
        };
        if start >= self.len {
            return;
        }
        if rev {
            walk_down(root, start, f);
        } else {
            walk_up(root, start, f);
        }
    }

    /// Rewrites every id through `renumber` (old id -> new id).
    fn renumber(&mut self, renumber: &[u32]) {
        fn visit(node: &mut Node, map: &[u32]) {
            let new = |id: u32| map.get(id as usize).copied().unwrap_or(id);
            match node {
                Node::Leaf(leaf) => {
                    let n = leaf.len();
                    for id in &mut leaf.ids[..n] {
                        *id = new(*id);
                    }
                }
                Node::Inner(inner) => {
                    for sep in &mut inner.seps {
                        sep.id = new(sep.id);
                    }
                    for child in &mut inner.children {
                        visit(child, map);
                    }
                }
            }
        }
        if let Some(root) = self.root.as_mut() {
            visit(root, renumber);
        }
    }
}

fn walk_up(node: &Node, mut skip: usize, f: &mut impl FnMut(f64, u32) -> bool) -> bool {
    match node {
        Node::Leaf(leaf) => {
            for i in skip..leaf.len() {
                if !f(leaf.scores[i], leaf.ids[i]) {
                    return false;
                }
            }
            true
        }
        Node::Inner(inner) => {
            for (sep, child) in inner.seps.iter().zip(&inner.children) {
                let c = sep.count as usize;
                if skip >= c {
                    skip -= c;
                    continue;
                }
                if !walk_up(child, skip, f) {
                    return false;
                }
                skip = 0;
            }
            true
        }
    }
}

/// Walks down from position `from` (within this node) to its first element.
fn walk_down(node: &Node, from: usize, f: &mut impl FnMut(f64, u32) -> bool) -> bool {
    match node {
        Node::Leaf(leaf) => {
            if leaf.len() == 0 {
                return true;
            }
            for i in (0..=from.min(leaf.len() - 1)).rev() {
                if !f(leaf.scores[i], leaf.ids[i]) {
                    return false;
                }
            }
            true
        }
        Node::Inner(inner) => {
            let mut base = 0usize;
            let mut at = inner.children.len();
            for (i, sep) in inner.seps.iter().enumerate() {
                let c = sep.count as usize;
                if from < base + c {
                    at = i;
                    break;
                }
                base += c;
            }
            if at == inner.children.len() {
                // `from` is past the end: start from the last element.
                at = inner.children.len().saturating_sub(1);
                base -= inner.seps.get(at).map_or(0, |s| s.count as usize);
            }
            if !walk_down(&inner.children[at], from - base, f) {
                return false;
            }
            for i in (0..at).rev() {
                let last = (inner.seps[i].count as usize).saturating_sub(1);
                if !walk_down(&inner.children[i], last, f) {
                    return false;
                }
            }
            true
        }
    }
}

fn balance_leaves(l: &mut Leaf, r: &mut Leaf) {
    let (ln, rn) = (l.len(), r.len());
    let target = (ln + rn) / 2;
    if ln < target {
        let k = target - ln;
        l.scores[ln..target].copy_from_slice(&r.scores[..k]);
        l.ids[ln..target].copy_from_slice(&r.ids[..k]);
        r.scores.copy_within(k..rn, 0);
        r.ids.copy_within(k..rn, 0);
        l.len = target as u16;
        r.len = (rn - k) as u16;
    } else if ln > target {
        let k = ln - target;
        r.scores.copy_within(0..rn, k);
        r.ids.copy_within(0..rn, k);
        r.scores[..k].copy_from_slice(&l.scores[target..ln]);
        r.ids[..k].copy_from_slice(&l.ids[target..ln]);
        l.len = target as u16;
        r.len = (rn + k) as u16;
    }
}

fn balance_inners(l: &mut Inner, r: &mut Inner) {
    let (ln, rn) = (l.children.len(), r.children.len());
    let target = (ln + rn) / 2;
    if ln < target {
        let k = target - ln;
        l.seps.extend(r.seps.drain(..k));
        l.children.extend(r.children.drain(..k));
    } else if ln > target {
        let seps: Vec<Sep> = l.seps.drain(target..).collect();
        let children: Vec<Node> = l.children.drain(target..).collect();
        r.seps.splice(0..0, seps);
        r.children.splice(0..0, children);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator (SplitMix64) so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
    }

    /// The naive model: a sorted vector of (score, member).
    #[derive(Default)]
    struct Model(Vec<(f64, Vec<u8>)>);

    impl Model {
        fn find(&self, m: &[u8]) -> Option<usize> {
            self.0.iter().position(|(_, x)| x == m)
        }

        fn insert(&mut self, s: f64, m: &[u8]) {
            if let Some(i) = self.find(m) {
                self.0.remove(i);
            }
            let at = self.0.partition_point(|(x, y)| entry_lt(*x, y, s, m));
            self.0.insert(at, (s, m.to_vec()));
        }
    }

    fn contents(z: &ZSetValue) -> Vec<(f64, Vec<u8>)> {
        let mut v = Vec::new();
        z.for_each(|m, s| v.push((s, m.to_vec())));
        v
    }

    fn tree_limits() -> Limits {
        Limits {
            max_entries: 0,
            max_value: 0,
        }
    }

    fn member(i: u64) -> Vec<u8> {
        format!("m{i}").into_bytes()
    }

    /// The tree's invariants: separators are their child's smallest
    /// element, counts add up, every non-root node is at least a quarter
    /// full, leaves are all at one depth, and the table maps every member.
    fn validate(z: &ZSetValue) {
        let Repr::Tree(index) = &z.repr else {
            return;
        };
        // Only the nodes along the two edges of the tree may be small: the
        // uneven splits there start them with one entry.
        fn visit(node: &Node, edge: bool, depth: usize, leaf_depth: &mut Option<usize>) -> usize {
            match node {
                Node::Leaf(l) => {
                    assert!(edge || l.len() >= LEAF_MIN, "leaf of {}", l.len());
                    assert_eq!(*leaf_depth.get_or_insert(depth), depth);
                    l.len()
                }
                Node::Inner(n) => {
                    assert!(edge || n.children.len() >= INNER_MIN);
                    assert!(n.children.len() <= INNER_CAP && n.children.len() == n.seps.len());
                    let last = n.children.len() - 1;
                    let mut total = 0;
                    for (i, (sep, child)) in n.seps.iter().zip(&n.children).enumerate() {
                        let child_edge = edge && (i == 0 || i == last);
                        let c = visit(child, child_edge, depth + 1, leaf_depth);
                        assert_eq!(sep.count as usize, c);
                        let min = child.min_key().map(|(s, i)| (s.to_bits(), i));
                        assert_eq!(min, Some((sep.score.to_bits(), sep.id)));
                        total += c;
                    }
                    total
                }
            }
        }
        if let Some(root) = &index.tree.root {
            assert_eq!(visit(root, true, 0, &mut None), index.tree.len);
        }
        assert_eq!(index.table.len(), index.tree.len);
        assert_eq!(index.slab.live(), index.tree.len);
    }

    fn check(z: &ZSetValue, model: &Model, rng: &mut Rng) {
        validate(z);
        assert_eq!(z.len(), model.0.len());
        assert_eq!(contents(z), model.0);
        if model.0.is_empty() {
            return;
        }
        for _ in 0..20 {
            let i = rng.below(model.0.len() as u64) as usize;
            let (s, m) = &model.0[i];
            assert_eq!(z.rank(m), Some(i));
            assert_eq!(z.score(m), Some(*s));
            assert_eq!(z.get(i), Some((&m[..], *s)));
        }
        // Ranges by score, and walks both ways from a random start.
        let a = rng.below(1000) as f64;
        let b = a + rng.below(300) as f64;
        let r = ScoreRange {
            min: a,
            max: b,
            minex: rng.below(2) == 0,
            maxex: rng.below(2) == 0,
        };
        let inside: Vec<usize> = (0..model.0.len())
            .filter(|&i| r.gte_min(model.0[i].0, &[]) && r.lte_max(model.0[i].0, &[]))
            .collect();
        assert_eq!(z.first_in(&r), inside.first().copied(), "{r:?}");
        assert_eq!(z.last_in(&r), inside.last().copied(), "{r:?}");
        assert_eq!(z.count_in(&r), inside.len());
        let start = rng.below(model.0.len() as u64) as usize;
        let mut up = Vec::new();
        z.walk(start, false, |m, s| {
            up.push((s, m.to_vec()));
            up.len() < 70
        });
        let want: Vec<_> = model.0[start..].iter().take(70).cloned().collect();
        assert_eq!(up, want);
        let mut down = Vec::new();
        z.walk(start, true, |m, s| {
            down.push((s, m.to_vec()));
            down.len() < 70
        });
        let want: Vec<_> = model.0[..=start].iter().rev().take(70).cloned().collect();
        assert_eq!(down, want);
    }

    fn randomized(limits: Limits, seed: u64, ops: usize, keyspace: u64) {
        let mut rng = Rng(seed);
        let mut z = ZSetValue::new();
        let mut model = Model::default();
        for step in 0..ops {
            let m = member(rng.below(keyspace));
            match rng.below(10) {
                0..=4 => {
                    // Few distinct scores, so ties (ordered by member) are common.
                    let s = rng.below(1000) as f64;
                    let r = z.add(s, &m, AddFlags::default(), limits);
                    let existed = model.find(&m).is_some();
                    assert!(matches!(r, Ok(Added::New(_))) != existed);
                    model.insert(s, &m);
                }
                5 => {
                    let inc = rng.below(50) as f64 - 25.0;
                    let flags = AddFlags {
                        incr: true,
                        ..AddFlags::default()
                    };
                    let _ = z.add(inc, &m, flags, limits);
                    let s = model.find(&m).map_or(inc, |i| model.0[i].0 + inc);
                    model.insert(s, &m);
                }
                6 | 7 => {
                    let removed = z.remove(&m);
                    let i = model.find(&m);
                    assert_eq!(removed, i.is_some());
                    if let Some(i) = i {
                        model.0.remove(i);
                    }
                }
                8 => {
                    if !model.0.is_empty() {
                        let max = rng.below(2) == 0;
                        let popped = z.pop(max).map(|(m, s)| (s, m.to_vec()));
                        let want = if max {
                            model.0.pop()
                        } else {
                            Some(model.0.remove(0))
                        };
                        assert_eq!(popped, want);
                    }
                }
                _ => {
                    if !model.0.is_empty() && rng.below(8) == 0 {
                        let n = model.0.len();
                        let a = rng.below(n as u64) as usize;
                        let b = (a + rng.below(40) as usize).min(n - 1);
                        assert_eq!(z.remove_ranks(a, b), b - a + 1);
                        model.0.drain(a..=b);
                    }
                }
            }
            if step % 97 == 0 {
                check(&z, &model, &mut rng);
            }
        }
        check(&z, &model, &mut rng);
    }

    #[test]
    fn tree_matches_model() {
        randomized(tree_limits(), 1, 30_000, 3_000);
        randomized(tree_limits(), 2, 20_000, 200);
    }

    #[test]
    fn packed_matches_model() {
        randomized(
            Limits {
                max_entries: 1 << 20,
                max_value: 1 << 20,
            },
            3,
            6_000,
            120,
        );
    }

    #[test]
    fn converts_past_the_limits() {
        let limits = Limits {
            max_entries: 4,
            max_value: 8,
        };
        let mut z = ZSetValue::new();
        for i in 0..4 {
            z.add(i as f64, &member(i), AddFlags::default(), limits)
                .ok();
        }
        assert_eq!(z.encoding(), "listpack");
        z.add(9.0, &member(9), AddFlags::default(), limits).ok();
        assert_eq!(z.encoding(), "skiplist");
        let mut z = ZSetValue::new();
        z.add(1.0, b"123456789", AddFlags::default(), limits).ok();
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.score(b"123456789"), Some(1.0));
    }

    #[test]
    fn large_sequential_and_bulk_removal() {
        let mut z = ZSetValue::new();
        let mut model = Model::default();
        for i in 0..50_000u64 {
            z.add(i as f64, &member(i), AddFlags::default(), tree_limits())
                .ok();
            model.insert(i as f64, &member(i));
        }
        // In-order inserts fill leaves: about one leaf per 63 members.
        if let Repr::Tree(index) = &z.repr {
            assert!(
                index.tree.leaves <= 50_000 / 63 + 2,
                "{}",
                index.tree.leaves
            );
        }
        let mut rng = Rng(7);
        check(&z, &model, &mut rng);
        let r = ScoreRange {
            min: 100.0,
            max: 45_000.0,
            minex: false,
            maxex: true,
        };
        assert_eq!(z.remove_in(&r), 44_900);
        model.0.retain(|(s, _)| !(*s >= 100.0 && *s < 45_000.0));
        check(&z, &model, &mut rng);
        // Compaction happened (the slab holds a fifth of what it did) and
        // ids moved; everything still answers.
        if let Repr::Tree(index) = &z.repr {
            assert_eq!(index.slab.slots(), 5_100);
        }
        for (s, m) in model.0.clone() {
            assert_eq!(z.score(&m), Some(s));
        }
    }

    #[test]
    fn member_table_grows_without_losing_members() {
        let mut z = ZSetValue::new();
        let mut present = std::collections::HashMap::new();
        let mut migrating = 0;
        for i in 0..60_000u64 {
            z.add(i as f64, &member(i), AddFlags::default(), tree_limits())
                .ok();
            present.insert(i, i as f64);
            if i % 3 == 0 {
                let gone = i / 2;
                assert_eq!(z.remove(&member(gone)), present.remove(&gone).is_some());
            }
            if let Repr::Tree(index) = &z.repr {
                migrating += usize::from(index.table.old.is_some());
                assert_eq!(index.table.len(), index.tree.len);
            }
            // Members from before the growth are found in either table.
            let probe = i * 7 % (i + 1);
            assert_eq!(z.score(&member(probe)), present.get(&probe).copied());
        }
        assert!(migrating > 0);
        for (i, s) in &present {
            assert_eq!(z.score(&member(*i)), Some(*s));
        }
        assert_eq!(z.len(), present.len());
    }

    #[test]
    fn scan_returns_every_member_across_compaction() {
        let mut z = ZSetValue::new();
        for i in 0..20_000u64 {
            z.add(i as f64, &member(i), AddFlags::default(), tree_limits())
                .ok();
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = z.scan(0, 100, |m, _| {
            seen.insert(m.to_vec());
        });
        // Remove most members that are not yet scanned or already seen,
        // but keep every one whose id is low: those must still come.
        let keep: Vec<Vec<u8>> = (0..1000u64).map(member).collect();
        for i in 1000..19_000u64 {
            z.remove(&member(i));
        }
        while cursor != 0 {
            cursor = z.scan(cursor, 100, |m, _| {
                seen.insert(m.to_vec());
            });
        }
        for m in keep {
            assert!(seen.contains(&m));
        }
    }

    #[test]
    fn lex_ranges_follow_redis_on_mixed_scores() {
        // Packed sets scan linearly, as the listpack does: [a [b finds z
        // (score 0) first, which is past b, so nothing is in range.
        let mut z = ZSetValue::new();
        for (s, m) in [(0.0, "z"), (1.0, "a"), (2.0, "b"), (3.0, "c")] {
            z.add(s, m.as_bytes(), AddFlags::default(), Limits::default())
                .ok();
        }
        let r = LexRange::parse(b"[a", b"[b").unwrap_or(LexRange {
            min: LexBound::Min,
            max: LexBound::Min,
        });
        assert_eq!(z.first_in(&r), None);
        assert_eq!(z.count_in(&r), 0);
        let all = LexRange::parse(b"-", b"+").unwrap_or(r);
        assert_eq!(z.count_in(&all), 4);
        assert!(LexRange::parse(b"", b"+").is_none());
        assert!(LexRange::parse(b"+x", b"+").is_none());
        assert!(LexRange::parse(b"-", b"-").is_some_and(|r| r.is_empty()));
    }

    #[test]
    fn score_bounds_follow_strtod() {
        let bound = |a: &[u8]| ScoreRange::parse(a, b"0").map(|r| (r.min, r.minex));
        assert_eq!(bound(b""), Some((0.0, false)));
        assert_eq!(bound(b"("), Some((0.0, true)));
        assert_eq!(bound(b" 1"), Some((1.0, false)));
        assert_eq!(bound(b"(1.5"), Some((1.5, true)));
        assert_eq!(bound(b"0x10"), Some((16.0, false)));
        assert_eq!(bound(b"1e400"), Some((f64::INFINITY, false)));
        assert_eq!(bound(b"-inf"), Some((f64::NEG_INFINITY, false)));
        assert_eq!(bound(b"(1e-400"), Some((0.0, true)));
        // A C string ends at its NUL.
        assert_eq!(bound(b"2\0junk"), Some((2.0, false)));
        for bad in [&b"nan"[..], b"(nan", b"1 ", b"((1", b"[1", b"abc", b"1e"] {
            assert_eq!(bound(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn negative_zero_is_zero_when_packed() {
        let mut z = ZSetValue::new();
        z.add(-0.0, b"a", AddFlags::default(), Limits::default())
            .ok();
        assert!(z.score(b"a").is_some_and(|s| s.to_bits() == 0));
        let mut t = ZSetValue::new();
        t.add(-0.0, b"a", AddFlags::default(), tree_limits()).ok();
        assert!(t.score(b"a").is_some_and(|s| s.is_sign_negative()));
    }

    #[test]
    fn add_flags_follow_zadd() {
        let l = Limits::default();
        let mut z = ZSetValue::new();
        let f = |nx, xx, gt, lt, incr| AddFlags {
            nx,
            xx,
            gt,
            lt,
            incr,
        };
        assert_eq!(
            z.add(1.0, b"a", f(false, true, false, false, false), l),
            Ok(Added::Skipped)
        );
        assert_eq!(
            z.add(1.0, b"a", f(false, false, true, false, false), l),
            Ok(Added::New(1.0))
        );
        assert_eq!(
            z.add(0.5, b"a", f(false, false, true, false, false), l),
            Ok(Added::Skipped)
        );
        assert_eq!(
            z.add(2.0, b"a", f(false, false, true, false, false), l),
            Ok(Added::Updated(2.0))
        );
        assert_eq!(
            z.add(2.0, b"a", f(false, false, false, false, false), l),
            Ok(Added::Same(2.0))
        );
        assert_eq!(
            z.add(5.0, b"a", f(true, false, false, false, false), l),
            Ok(Added::Skipped)
        );
        assert_eq!(
            z.add(f64::INFINITY, b"a", f(false, false, false, false, false), l),
            Ok(Added::Updated(f64::INFINITY))
        );
        assert_eq!(
            z.add(
                f64::NEG_INFINITY,
                b"a",
                f(false, false, false, false, true),
                l
            ),
            Err(NotANumber)
        );
    }
}
