//! List values: a deque of packed nodes (Redis's quicklist idea, reworked).
//!
//! A Redis list is a quicklist: a doubly linked list of listpacks, each at
//! most `list-max-listpack-size` big (8 KiB by default). Packing keeps the
//! per-element cost to two or three bytes of framing instead of a pointer
//! and an allocation per element, and the node bound keeps every edit local
//! to a few kilobytes. Shoal keeps both ideas and changes three things:
//!
//! * **Nodes are double-ended buffers.** A listpack is filled from its
//!   start, so pushing onto the head of a Redis list memmoves the whole
//!   head node (up to 8 KiB) every time, and so does popping from the head.
//!   A `Node` keeps its entries in `buf[start..end]` with free room on
//!   both sides, so head and tail pushes and pops touch only the entry
//!   itself; an edit in the middle moves whichever side of the node is
//!   shorter. Buffers grow by an eighth at a time (exactly while tiny) and
//!   the spare room goes to the side being pushed onto, so pushes are
//!   amortised O(1) and a list carries about the slack Redis's allocator
//!   rounding gives it.
//! * **Nodes sit in a `VecDeque`**, not a linked list: one allocation for
//!   the node headers, and seeking an index sums node counts from the
//!   nearer end over contiguous memory. LINDEX, LRANGE and LSET near either
//!   end cost O(1) node steps plus a walk inside one node, from that node's
//!   nearer end.
//! * **A small list is one bare buffer** (the packed form): the value is a
//!   16-byte `Box<[u8]>` held directly in the keyspace entry, and the
//!   buffer's first `HDR` bytes say where its entries start and end and
//!   how many there are. No quicklist or node header, no second allocation:
//!   a list of ten short strings costs one ~80-byte allocation where Redis
//!   pays for an object, a quicklist, a node and a listpack (about 180).
//!   Every node buffer reserves the same header bytes, so a packed list
//!   becomes the first node of a `Quick` list when it outgrows the node
//!   bound without copying, and a list shrinking back to one half-empty
//!   node becomes packed again.
//!
//! An entry is `len, bytes, len` with `len` as LEB128 in front and the same
//! bytes mirrored behind, so a node can be walked from either end (what a
//! listpack's back-length is for): 2 bytes of framing for elements up to
//! 127 bytes. The node bound counts these bytes the way Redis counts a
//! listpack's: a negative `list-max-listpack-size` of -1..-5 allows 4..64
//! KiB per node, a positive one that many entries (within 8 KiB unless a
//! single element is bigger). A node over the bound after an edit in the
//! middle is split in halves; neighbours that fit together again after
//! deletions are merged when one of them is nearly empty.
//!
//! OBJECT ENCODING reports `quicklist` whatever the shape, as Redis 7.0
//! does for every list.

use std::collections::vec_deque;
use std::collections::VecDeque;

/// Bytes at the front of every node buffer, where a packed list keeps its
/// (start, end, count) as little-endian u16s. Quicklist nodes leave them
/// unused so that either form turns into the other without copying.
const HDR: usize = 6;

/// Redis's cap on a node whose bound is an entry count.
const SIZE_SAFETY_LIMIT: usize = 8192;

/// Buffers up to this size grow to the exact size needed: most lists are
/// small, and for them slack would be most of the memory.
const EXACT_GROWTH_MAX: usize = 128;

/// Room a node created at an end of a multi-node list starts with: such a
/// node is usually being filled by a run of pushes.
const EDGE_NODE_START: usize = 512;

/// The per-node bound, from `list-max-listpack-size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_count: usize,
}

impl Limits {
    /// Redis's reading of the fill factor: -1..-5 are 4, 8, 16, 32, 64 KiB;
    /// a positive value is an entry count; anything else (0, below -5)
    /// leaves one entry per node, as Redis 7.0 ends up doing.
    pub fn from_fill(fill: i32) -> Limits {
        match fill {
            1..=i32::MAX => Limits {
                max_bytes: SIZE_SAFETY_LIMIT,
                max_count: fill as usize,
            },
            -5..=-1 => Limits {
                max_bytes: 4096 << (-fill - 1),
                max_count: usize::MAX,
            },
            _ => Limits {
                max_bytes: SIZE_SAFETY_LIMIT,
                max_count: 1,
            },
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from_fill(-2)
    }
}

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

// ---- entry framing -----------------------------------------------------------------

fn varint_len(mut n: usize) -> usize {
    let mut k = 1;
    while n >= 0x80 {
        k += 1;
        n >>= 7;
    }
    k
}

/// Bytes an element takes inside a node.
fn entry_size(len: usize) -> usize {
    len + 2 * varint_len(len)
}

/// Writes `data` framed into `dst`, which is exactly `entry_size` long.
fn write_entry(dst: &mut [u8], data: &[u8]) {
    let k = varint_len(data.len());
    let last = dst.len() - 1;
    let mut n = data.len();
    for i in 0..k {
        let mut b = (n & 0x7f) as u8;
        n >>= 7;
        if i + 1 < k {
            b |= 0x80;
        }
        dst[i] = b;
        dst[last - i] = b;
    }
    dst[k..k + data.len()].copy_from_slice(data);
}

/// The entry starting at `pos`: (data start, data end, next entry).
/// Buffers are only written by `write_entry`, so they are well formed.
#[inline]
fn read_fwd(buf: &[u8], pos: usize) -> (usize, usize, usize) {
    let first = buf[pos];
    if first < 0x80 {
        let len = usize::from(first);
        return (pos + 1, pos + 1 + len, pos + 2 + len);
    }
    let mut len = 0usize;
    let mut shift = 0;
    let mut p = pos;
    loop {
        let b = buf[p];
        p += 1;
        len |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let k = p - pos;
    (p, p + len, p + len + k)
}

/// The entry ending at `end`: (entry start, data start, data end).
#[inline]
fn read_back(buf: &[u8], end: usize) -> (usize, usize, usize) {
    let last = buf[end - 1];
    if last < 0x80 {
        let len = usize::from(last);
        let data_start = end - 1 - len;
        return (data_start - 1, data_start, end - 1);
    }
    let mut len = 0usize;
    let mut shift = 0;
    let mut p = end;
    loop {
        p -= 1;
        let b = buf[p];
        len |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let k = end - p;
    let data_start = p - len;
    (data_start - k, data_start, p)
}

/// Offset (within `data`) of entry `i` of the `count` entries of `data`,
/// walking from the nearer end; `i == count` is the end.
fn entry_offset(data: &[u8], count: usize, i: usize) -> usize {
    if i <= count / 2 {
        let mut pos = 0;
        for _ in 0..i {
            pos = read_fwd(data, pos).2;
        }
        pos
    } else {
        let mut pos = data.len();
        for _ in i..count {
            pos = read_back(data, pos).0;
        }
        pos
    }
}

/// Offset of the first entry of `data` equal to `elem`.
fn find_entry(data: &[u8], elem: &[u8]) -> Option<usize> {
    let mut pos = 0;
    while pos < data.len() {
        let (ds, de, next) = read_fwd(data, pos);
        if &data[ds..de] == elem {
            return Some(pos);
        }
        pos = next;
    }
    None
}

/// Capacity for a buffer that must hold `needed` bytes, capped (unless one
/// entry alone is bigger) by the node bound. An eighth more is about the
/// rounding of jemalloc's size classes, which is what Redis's listpacks
/// pay: memory on par with Redis, and still a bounded number of copies per
/// pushed byte.
fn grown_capacity(needed: usize, max_bytes: usize) -> usize {
    if needed <= EXACT_GROWTH_MAX {
        needed
    } else {
        (needed + needed / 8).min(max_bytes).max(needed)
    }
}

// ---- nodes -------------------------------------------------------------------------

/// Where the free room of a rearranged buffer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Front,
    Back,
    Middle,
}

/// A run of entries in `buf[start..end]`, with free room on both sides.
/// `HDR <= start <= end <= buf.len()`, except for the empty default node
/// (no buffer at all).
#[derive(Debug, Clone, Default)]
struct Node {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    count: usize,
}

impl Node {
    /// A node holding `elem`, with `room` free bytes on `side`.
    fn with_entry(elem: &[u8], room: usize, side: End) -> Node {
        let sz = entry_size(elem.len());
        let mut buf = vec![0u8; HDR + sz + room].into_boxed_slice();
        let start = HDR + if side == End::Head { room } else { 0 };
        write_entry(&mut buf[start..start + sz], elem);
        Node {
            buf,
            start,
            end: start + sz,
            count: 1,
        }
    }

    /// A node holding a copy of the framed entries `data`.
    fn from_entries(data: &[u8], count: usize) -> Node {
        let mut buf = vec![0u8; HDR + data.len()].into_boxed_slice();
        buf[HDR..].copy_from_slice(data);
        Node {
            buf,
            start: HDR,
            end: HDR + data.len(),
            count,
        }
    }

    fn bytes(&self) -> usize {
        self.end - self.start
    }

    fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Whether one more entry of `sz` bytes stays within the bound.
    fn fits(&self, sz: usize, limits: Limits) -> bool {
        self.count < limits.max_count && self.bytes() + sz <= limits.max_bytes
    }

    /// Over the bound with more than one entry, so splitting would help.
    fn over(&self, limits: Limits) -> bool {
        self.count > 1 && (self.count > limits.max_count || self.bytes() > limits.max_bytes)
    }

    /// Opens `gap` free bytes at `at` (an entry boundary) and returns where
    /// they start. Moves the shorter side when the room is on that side;
    /// otherwise rearranges or grows the buffer, leaving the spare room on
    /// `side` so that a run of pushes pays for one move.
    fn open_gap(&mut self, at: usize, gap: usize, side: Side, max_bytes: usize) -> usize {
        let prefix = at - self.start;
        let suffix = self.end - at;
        if suffix <= prefix && self.buf.len() - self.end >= gap {
            self.buf.copy_within(at..self.end, at + gap);
            self.end += gap;
            return at;
        }
        if prefix <= suffix && self.start.saturating_sub(HDR) >= gap {
            self.buf.copy_within(self.start..at, self.start - gap);
            self.start -= gap;
            return at - gap;
        }
        let total = self.bytes() + gap;
        let cap = self.buf.len();
        let room = cap.saturating_sub(HDR);
        // Reuse the buffer only if it keeps real spare room after this
        // edit; otherwise every following push would rearrange it again.
        let new_cap = if room >= total && room - total >= (total / 16).max(1) {
            cap
        } else {
            HDR + grown_capacity(total, max_bytes)
        };
        let slack = new_cap - HDR - total;
        let new_start = HDR
            + match side {
                Side::Front => slack,
                Side::Back => 0,
                Side::Middle => slack / 2,
            };
        let gap_at = new_start + prefix;
        if new_cap == cap {
            // Both runs move within the buffer; the one moving away from
            // the other goes first so neither overwrites the other.
            if new_start <= self.start {
                self.buf.copy_within(self.start..at, new_start);
                self.buf.copy_within(at..self.end, gap_at + gap);
            } else {
                self.buf.copy_within(at..self.end, gap_at + gap);
                self.buf.copy_within(self.start..at, new_start);
            }
        } else if self.start == HDR && new_start == HDR && suffix == 0 {
            // Appending to a buffer whose entries start right after the
            // header: realloc can often grow it in place.
            let mut v = std::mem::take(&mut self.buf).into_vec();
            v.reserve_exact(new_cap - v.len());
            v.resize(new_cap, 0);
            self.buf = v.into_boxed_slice();
        } else {
            let mut buf = vec![0u8; new_cap].into_boxed_slice();
            buf[new_start..gap_at].copy_from_slice(&self.buf[self.start..at]);
            buf[gap_at + gap..gap_at + gap + suffix].copy_from_slice(&self.buf[at..self.end]);
            self.buf = buf;
        }
        self.start = new_start;
        self.end = new_start + total;
        gap_at
    }

    /// Removes the `len` bytes at `at`, moving the shorter side; returns
    /// where the byte that followed them now is.
    fn close_gap(&mut self, at: usize, len: usize) -> usize {
        if at - self.start < self.end - (at + len) {
            self.buf.copy_within(self.start..at, self.start + len);
            self.start += len;
            at + len
        } else {
            self.buf.copy_within(at + len..self.end, at);
            self.end -= len;
            at
        }
    }

    fn push(&mut self, elem: &[u8], end: End, max_bytes: usize) {
        let sz = entry_size(elem.len());
        let p = match end {
            End::Head => self.open_gap(self.start, sz, Side::Front, max_bytes),
            End::Tail => self.open_gap(self.end, sz, Side::Back, max_bytes),
        };
        write_entry(&mut self.buf[p..p + sz], elem);
        self.count += 1;
    }

    /// Takes the entry at `end` off; its bytes stay readable at the
    /// returned range until the next edit.
    fn pop(&mut self, end: End) -> Option<(usize, usize)> {
        if self.count == 0 {
            return None;
        }
        self.count -= 1;
        match end {
            End::Head => {
                let (ds, de, next) = read_fwd(&self.buf, self.start);
                self.start = next;
                Some((ds, de))
            }
            End::Tail => {
                let (es, ds, de) = read_back(&self.buf, self.end);
                self.end = es;
                Some((ds, de))
            }
        }
    }

    /// Absolute offset of entry `i` (`i == count`: the end).
    fn offset_of(&self, i: usize) -> usize {
        self.start + entry_offset(self.data(), self.count, i)
    }

    /// Inserts `elem` at `at`, an entry boundary.
    fn insert_at(&mut self, at: usize, elem: &[u8], max_bytes: usize) {
        let sz = entry_size(elem.len());
        let side = if at == self.start {
            Side::Front
        } else if at == self.end {
            Side::Back
        } else {
            Side::Middle
        };
        let p = self.open_gap(at, sz, side, max_bytes);
        write_entry(&mut self.buf[p..p + sz], elem);
        self.count += 1;
    }

    /// Replaces the entry at `at` with `elem`.
    fn replace_at(&mut self, at: usize, elem: &[u8], max_bytes: usize) {
        let old = read_fwd(&self.buf, at).2 - at;
        let new = entry_size(elem.len());
        let p = if new > old {
            self.open_gap(at, new - old, Side::Middle, max_bytes)
        } else if new < old {
            self.close_gap(at, old - new)
        } else {
            at
        };
        write_entry(&mut self.buf[p..p + new], elem);
    }

    /// Drops the first `n` entries.
    fn cut_front(&mut self, n: usize) {
        self.start = self.offset_of(n);
        self.count -= n;
    }

    /// Drops the last `n` entries.
    fn cut_back(&mut self, n: usize) {
        self.end = self.offset_of(self.count - n);
        self.count -= n;
    }

    fn count_matches(&self, elem: &[u8]) -> usize {
        let data = self.data();
        let mut pos = 0;
        let mut n = 0;
        while pos < data.len() {
            let (ds, de, next) = read_fwd(data, pos);
            if &data[ds..de] == elem {
                n += 1;
            }
            pos = next;
        }
        n
    }

    /// Removes matches of `elem` after passing over the first `skip`, at
    /// most `max` of them, compacting the node in one pass; returns how
    /// many went.
    fn remove_matches(&mut self, elem: &[u8], mut skip: usize, max: usize) -> usize {
        let mut removed = 0;
        let mut read = self.start;
        let mut write = self.start;
        while read < self.end && removed < max {
            let (ds, de, next) = read_fwd(&self.buf, read);
            let matched = &self.buf[ds..de] == elem;
            if matched && skip == 0 {
                removed += 1;
            } else {
                if matched {
                    skip -= 1;
                }
                if write != read {
                    self.buf.copy_within(read..next, write);
                }
                write += next - read;
            }
            read = next;
        }
        if write != read {
            self.buf.copy_within(read..self.end, write);
        }
        self.end = write + (self.end - read);
        self.count -= removed;
        removed
    }

    /// Appends the entries of `other`.
    fn append(&mut self, other: &Node, max_bytes: usize) {
        let n = other.bytes();
        let p = self.open_gap(self.end, n, Side::Back, max_bytes);
        self.buf[p..p + n].copy_from_slice(other.data());
        self.count += other.count;
    }

    /// Puts the entries of `other` in front.
    fn prepend(&mut self, other: &Node, max_bytes: usize) {
        let n = other.bytes();
        let p = self.open_gap(self.start, n, Side::Front, max_bytes);
        self.buf[p..p + n].copy_from_slice(other.data());
        self.count += other.count;
    }

    /// Cuts an over-full node into pieces about half the bound each, so
    /// that the next edits nearby find room.
    fn split(&self, limits: Limits) -> Vec<Node> {
        let target_bytes = (limits.max_bytes / 2).max(1);
        let target_count = (limits.max_count / 2).max(1);
        let data = self.data();
        let mut pieces = Vec::new();
        let (mut piece_start, mut piece_count, mut pos) = (0, 0, 0);
        while pos < data.len() {
            let next = read_fwd(data, pos).2;
            if piece_count > 0 && (next - piece_start > target_bytes || piece_count >= target_count)
            {
                pieces.push(Node::from_entries(&data[piece_start..pos], piece_count));
                piece_start = pos;
                piece_count = 0;
            }
            piece_count += 1;
            pos = next;
        }
        if piece_count > 0 {
            pieces.push(Node::from_entries(&data[piece_start..], piece_count));
        }
        pieces
    }

    /// Gives back room when most of the buffer is unused.
    fn shrink_if_sparse(&mut self, max_bytes: usize) {
        let cap = self.buf.len();
        if cap > EXACT_GROWTH_MAX && self.bytes() < cap / 2 {
            let bytes = self.bytes();
            let new_cap = HDR + grown_capacity(bytes, max_bytes);
            let mut buf = vec![0u8; new_cap].into_boxed_slice();
            buf[HDR..HDR + bytes].copy_from_slice(self.data());
            self.start = HDR;
            self.end = HDR + bytes;
            self.buf = buf;
        }
    }
}

// ---- the list ----------------------------------------------------------------------

/// A list value. See the module documentation for the layout.
#[derive(Debug, Clone, Default)]
pub struct ListValue {
    repr: Repr,
}

#[derive(Debug, Clone)]
enum Repr {
    /// A one-node list: a node buffer of at most 64 KiB whose header holds
    /// its (start, end, count); empty for an empty list.
    Packed(Box<[u8]>),
    Quick(Box<Quick>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Packed(Box::default())
    }
}

fn header_field(buf: &[u8], i: usize) -> usize {
    match buf.get(2 * i..2 * i + 2) {
        Some(&[lo, hi]) => usize::from(u16::from_le_bytes([lo, hi])),
        _ => 0,
    }
}

/// (start, end, count) of a packed buffer.
fn packed_header(buf: &[u8]) -> (usize, usize, usize) {
    (
        header_field(buf, 0),
        header_field(buf, 1),
        header_field(buf, 2),
    )
}

fn packed_data(buf: &[u8]) -> (&[u8], usize) {
    let (start, end, count) = packed_header(buf);
    (&buf[start..end], count)
}

fn unpack(buf: Box<[u8]>) -> Node {
    if buf.is_empty() {
        return Node::default();
    }
    let (start, end, count) = packed_header(&buf);
    Node {
        buf,
        start,
        end,
        count,
    }
}

/// The packed form of `node`, if its buffer is small enough for the
/// 16-bit header; an emptied list drops its buffer.
fn pack(node: Node) -> Result<Box<[u8]>, Node> {
    if node.count == 0 {
        return Ok(Box::default());
    }
    let fields = (
        u16::try_from(node.start),
        u16::try_from(node.end),
        u16::try_from(node.count),
    );
    match fields {
        (Ok(start), Ok(end), Ok(count)) if node.buf.len() <= usize::from(u16::MAX) => {
            let mut buf = node.buf;
            buf[0..2].copy_from_slice(&start.to_le_bytes());
            buf[2..4].copy_from_slice(&end.to_le_bytes());
            buf[4..6].copy_from_slice(&count.to_le_bytes());
            Ok(buf)
        }
        _ => Err(node),
    }
}

#[derive(Debug, Clone, Default)]
struct Quick {
    nodes: VecDeque<Node>,
    len: usize,
}

impl Quick {
    /// (node, index within it) of list index `i < len`, counted from the
    /// nearer end.
    fn locate(&self, i: usize) -> (usize, usize) {
        if i < self.len / 2 {
            let mut rest = i;
            for (ni, n) in self.nodes.iter().enumerate() {
                if rest < n.count {
                    return (ni, rest);
                }
                rest -= n.count;
            }
        } else {
            let mut rest = self.len - 1 - i;
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                if rest < n.count {
                    return (ni, n.count - 1 - rest);
                }
                rest -= n.count;
            }
        }
        (0, 0)
    }

    /// Restores the node invariants around node `ni` after an edit in it:
    /// no empty nodes, none over the bound (when splitting helps), nearly
    /// empty neighbours merged.
    fn fix(&mut self, ni: usize, limits: Limits) {
        let Some(node) = self.nodes.get_mut(ni) else {
            return;
        };
        if node.count == 0 {
            self.nodes.remove(ni);
            return;
        }
        if node.over(limits) {
            let pieces = node.split(limits);
            for (j, piece) in pieces.into_iter().enumerate() {
                if j == 0 {
                    self.nodes[ni] = piece;
                } else {
                    self.nodes.insert(ni + j, piece);
                }
            }
            return;
        }
        node.shrink_if_sparse(limits.max_bytes);
        if ni + 1 < self.nodes.len() {
            self.merge(ni, limits);
        }
        if ni > 0 {
            self.merge(ni - 1, limits);
        }
    }

    /// Merges nodes `a` and `a + 1` if they fit in one and one of them is
    /// nearly empty (merging two substantial nodes only to split them at
    /// the next insert would be wasted copying).
    fn merge(&mut self, a: usize, limits: Limits) {
        let (Some(x), Some(y)) = (self.nodes.get(a), self.nodes.get(a + 1)) else {
            return;
        };
        let fits = x.count + y.count <= limits.max_count
            && x.bytes() + y.bytes() <= limits.max_bytes
            && x.bytes().min(y.bytes()) <= limits.max_bytes / 4;
        if !fits {
            return;
        }
        if x.bytes() >= y.bytes() {
            if let Some(y) = self.nodes.remove(a + 1) {
                self.nodes[a].append(&y, limits.max_bytes);
            }
        } else if let Some(x) = self.nodes.remove(a) {
            self.nodes[a].prepend(&x, limits.max_bytes);
        }
    }

    /// Drops empty nodes and merges what fits after edits all over.
    fn normalize(&mut self, limits: Limits) {
        self.nodes.retain(|n| n.count > 0);
        let mut i = 0;
        while i < self.nodes.len() {
            let before = self.nodes.len();
            self.nodes[i].shrink_if_sparse(limits.max_bytes);
            self.merge(i, limits);
            if self.nodes.len() == before {
                i += 1;
            }
        }
    }
}

/// Forward iterator over a list's elements.
pub struct Iter<'a> {
    cur: &'a [u8],
    rest: Option<vec_deque::Iter<'a, Node>>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        while self.cur.is_empty() {
            self.cur = self.rest.as_mut()?.next()?.data();
        }
        let (ds, de, next) = read_fwd(self.cur, 0);
        let item = &self.cur[ds..de];
        self.cur = &self.cur[next..];
        Some(item)
    }
}

/// Iterator from an element towards the head.
pub struct RevIter<'a> {
    cur: &'a [u8],
    rest: Option<vec_deque::Iter<'a, Node>>,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        while self.cur.is_empty() {
            self.cur = self.rest.as_mut()?.next_back()?.data();
        }
        let (es, ds, de) = read_back(self.cur, self.cur.len());
        let item = &self.cur[ds..de];
        self.cur = &self.cur[..es];
        Some(item)
    }
}

impl ListValue {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => packed_header(p).2,
            Repr::Quick(q) => q.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports (Redis 7.0 has no other for lists).
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Heap bytes owned beyond the value itself.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.len(),
            Repr::Quick(q) => {
                std::mem::size_of::<Quick>()
                    + q.nodes.capacity() * std::mem::size_of::<Node>()
                    + q.nodes.iter().map(|n| n.buf.len()).sum::<usize>()
            }
        }
    }

    /// Number of nodes (1 for a packed list); for tests and diagnostics.
    pub fn node_count(&self) -> usize {
        match &self.repr {
            Repr::Packed(_) => 1,
            Repr::Quick(q) => q.nodes.len(),
        }
    }

    /// Whether the list is a single bare buffer.
    pub fn is_packed(&self) -> bool {
        matches!(self.repr, Repr::Packed(_))
    }

    /// Stores `node` as the whole list: packed when it fits the bound and
    /// the compact header, else as a quicklist (split if over the bound).
    fn settle(&mut self, mut node: Node, limits: Limits) {
        if node.over(limits) {
            let len = node.count;
            let nodes: VecDeque<Node> = node.split(limits).into();
            self.repr = Repr::Quick(Box::new(Quick { nodes, len }));
            return;
        }
        node.shrink_if_sparse(limits.max_bytes);
        self.repr = match pack(node) {
            Ok(p) => Repr::Packed(p),
            Err(node) => Repr::Quick(Box::new(Quick {
                len: node.count,
                nodes: VecDeque::from([node]),
            })),
        };
    }

    /// Turns a quicklist that shrank to one small node back into a packed
    /// list. Half the bound leaves room so that a list hovering around a
    /// node boundary does not convert back and forth.
    fn maybe_pack(&mut self, limits: Limits) {
        let Repr::Quick(q) = &mut self.repr else {
            return;
        };
        match q.nodes.len() {
            0 => self.repr = Repr::default(),
            1 => {
                let small = q.nodes[0].bytes() <= limits.max_bytes / 2
                    && q.nodes[0].count <= limits.max_count / 2;
                if small {
                    if let Some(node) = q.nodes.pop_front() {
                        self.settle(node, limits);
                    }
                }
            }
            _ => {}
        }
    }

    /// Runs `op` on the single node of a packed list and stores the result.
    fn packed_op<R>(&mut self, limits: Limits, op: impl FnOnce(&mut Node) -> R) -> Option<R> {
        let Repr::Packed(p) = &mut self.repr else {
            return None;
        };
        let mut node = unpack(std::mem::take(p));
        let r = op(&mut node);
        self.settle(node, limits);
        Some(r)
    }

    pub fn push(&mut self, elem: &[u8], end: End, limits: Limits) {
        let sz = entry_size(elem.len());
        match &mut self.repr {
            Repr::Packed(p) => {
                let node = unpack(std::mem::take(p));
                if node.count == 0 || node.fits(sz, limits) {
                    let mut node = node;
                    node.push(elem, end, limits.max_bytes);
                    self.repr = match pack(node) {
                        Ok(p) => Repr::Packed(p),
                        Err(node) => Repr::Quick(Box::new(Quick {
                            len: node.count,
                            nodes: VecDeque::from([node]),
                        })),
                    };
                } else {
                    let len = node.count + 1;
                    let fresh = Node::with_entry(elem, 0, end);
                    let nodes = match end {
                        End::Head => VecDeque::from([fresh, node]),
                        End::Tail => VecDeque::from([node, fresh]),
                    };
                    self.repr = Repr::Quick(Box::new(Quick { nodes, len }));
                }
            }
            Repr::Quick(q) => {
                let edge = match end {
                    End::Head => q.nodes.front_mut(),
                    End::Tail => q.nodes.back_mut(),
                };
                match edge {
                    Some(node) if node.fits(sz, limits) => node.push(elem, end, limits.max_bytes),
                    _ => {
                        let room = if limits.max_count > 1 {
                            EDGE_NODE_START.min(limits.max_bytes.saturating_sub(sz))
                        } else {
                            0
                        };
                        let fresh = Node::with_entry(elem, room, end);
                        match end {
                            End::Head => q.nodes.push_front(fresh),
                            End::Tail => q.nodes.push_back(fresh),
                        }
                    }
                }
                q.len += 1;
            }
        }
    }

    /// Pushes `elems` one after the other at `end` (so LPUSH a b c leaves
    /// c at the head). A new list that fits one node is written straight
    /// into one exact allocation.
    pub fn push_all<'e>(
        &mut self,
        elems: impl Iterator<Item = &'e [u8]> + Clone,
        end: End,
        limits: Limits,
    ) {
        if self.is_empty() {
            let (count, bytes) = elems
                .clone()
                .fold((0, 0), |(n, b), e| (n + 1, b + entry_size(e.len())));
            if count <= limits.max_count && bytes <= limits.max_bytes {
                let mut buf = vec![0u8; HDR + bytes].into_boxed_slice();
                let mut pos = if end == End::Tail { HDR } else { HDR + bytes };
                for e in elems {
                    let sz = entry_size(e.len());
                    if end == End::Head {
                        pos -= sz;
                    }
                    write_entry(&mut buf[pos..pos + sz], e);
                    if end == End::Tail {
                        pos += sz;
                    }
                }
                let node = Node {
                    buf,
                    start: HDR,
                    end: HDR + bytes,
                    count,
                };
                self.settle(node, limits);
                return;
            }
        }
        for e in elems {
            self.push(e, end, limits);
        }
    }

    /// Removes the element at `end` and hands it to `f` (before any
    /// buffer is reorganised, so nothing is copied).
    pub fn pop<R>(&mut self, end: End, limits: Limits, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        match &mut self.repr {
            Repr::Packed(_) => self
                .packed_op(limits, |node| {
                    node.pop(end).map(|(ds, de)| f(&node.buf[ds..de]))
                })
                .flatten(),
            Repr::Quick(q) => {
                let ni = match end {
                    End::Head => 0,
                    End::Tail => q.nodes.len().checked_sub(1)?,
                };
                let node = q.nodes.get_mut(ni)?;
                let (ds, de) = node.pop(end)?;
                let r = f(&node.buf[ds..de]);
                q.len -= 1;
                if node.count == 0 {
                    q.nodes.remove(ni);
                }
                if q.nodes.len() <= 1 {
                    self.maybe_pack(limits);
                }
                Some(r)
            }
        }
    }

    /// Elements from `index` (0-based) towards the tail.
    pub fn iter_from(&self, index: usize) -> Iter<'_> {
        if index >= self.len() {
            return Iter {
                cur: &[],
                rest: None,
            };
        }
        match &self.repr {
            Repr::Packed(p) => {
                let (data, count) = packed_data(p);
                let off = entry_offset(data, count, index);
                Iter {
                    cur: &data[off..],
                    rest: None,
                }
            }
            Repr::Quick(q) => {
                let (ni, k) = q.locate(index);
                let data = q.nodes[ni].data();
                let off = entry_offset(data, q.nodes[ni].count, k);
                Iter {
                    cur: &data[off..],
                    rest: Some(q.nodes.range(ni + 1..)),
                }
            }
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0)
    }

    /// Elements from `index` (0-based) towards the head.
    pub fn iter_rev_from(&self, index: usize) -> RevIter<'_> {
        if index >= self.len() {
            return RevIter {
                cur: &[],
                rest: None,
            };
        }
        match &self.repr {
            Repr::Packed(p) => {
                let (data, count) = packed_data(p);
                let off = entry_offset(data, count, index + 1);
                RevIter {
                    cur: &data[..off],
                    rest: None,
                }
            }
            Repr::Quick(q) => {
                let (ni, k) = q.locate(index);
                let data = q.nodes[ni].data();
                let off = entry_offset(data, q.nodes[ni].count, k + 1);
                RevIter {
                    cur: &data[..off],
                    rest: Some(q.nodes.range(..ni)),
                }
            }
        }
    }

    /// The element at `index` (0-based).
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.iter_from(index).next()
    }

    /// Replaces the element at `index`; false if out of range.
    pub fn set(&mut self, index: usize, elem: &[u8], limits: Limits) -> bool {
        if index >= self.len() {
            return false;
        }
        match &mut self.repr {
            Repr::Packed(_) => {
                self.packed_op(limits, |node| {
                    let at = node.offset_of(index);
                    node.replace_at(at, elem, limits.max_bytes);
                });
            }
            Repr::Quick(q) => {
                let (ni, k) = q.locate(index);
                let node = &mut q.nodes[ni];
                let at = node.offset_of(k);
                node.replace_at(at, elem, limits.max_bytes);
                q.fix(ni, limits);
            }
        }
        true
    }

    /// Inserts `elem` before (or after) the first element equal to
    /// `pivot`; false if there is none.
    pub fn insert(&mut self, pivot: &[u8], elem: &[u8], after: bool, limits: Limits) -> bool {
        let place = |node: &mut Node, off: usize| {
            let at = if after {
                read_fwd(&node.buf, off).2
            } else {
                off
            };
            node.insert_at(at, elem, limits.max_bytes);
        };
        match &mut self.repr {
            Repr::Packed(p) => {
                let Some(off) = find_entry(packed_data(p).0, pivot) else {
                    return false;
                };
                let off = off + packed_header(p).0;
                self.packed_op(limits, |node| place(node, off));
                true
            }
            Repr::Quick(q) => {
                let found =
                    q.nodes.iter().enumerate().find_map(|(ni, n)| {
                        find_entry(n.data(), pivot).map(|off| (ni, n.start + off))
                    });
                let Some((ni, off)) = found else {
                    return false;
                };
                place(&mut q.nodes[ni], off);
                q.len += 1;
                q.fix(ni, limits);
                true
            }
        }
    }

    /// Removes up to `max` elements equal to `elem`, scanning from `from`;
    /// returns how many were removed.
    pub fn remove(&mut self, elem: &[u8], from: End, max: usize, limits: Limits) -> usize {
        let remove_in = |node: &mut Node, max: usize| match from {
            End::Head => node.remove_matches(elem, 0, max),
            End::Tail => {
                let m = node.count_matches(elem);
                let r = m.min(max);
                if r == 0 {
                    0
                } else {
                    node.remove_matches(elem, m - r, r)
                }
            }
        };
        match &mut self.repr {
            Repr::Packed(_) => self
                .packed_op(limits, |node| remove_in(node, max))
                .unwrap_or(0),
            Repr::Quick(q) => {
                let mut removed = 0;
                let n = q.nodes.len();
                for step in 0..n {
                    if removed >= max {
                        break;
                    }
                    let ni = if from == End::Head {
                        step
                    } else {
                        n - 1 - step
                    };
                    removed += remove_in(&mut q.nodes[ni], max - removed);
                }
                if removed > 0 {
                    q.len -= removed;
                    q.normalize(limits);
                    self.maybe_pack(limits);
                }
                removed
            }
        }
    }

    /// Drops `front` elements from the head and `back` from the tail.
    pub fn trim(&mut self, front: usize, back: usize, limits: Limits) {
        let len = self.len();
        let front = front.min(len);
        let back = back.min(len - front);
        match &mut self.repr {
            Repr::Packed(_) => {
                self.packed_op(limits, |node| {
                    node.cut_front(front);
                    node.cut_back(back);
                });
            }
            Repr::Quick(q) => {
                let mut rest = front;
                while rest > 0 {
                    let Some(node) = q.nodes.front_mut() else {
                        break;
                    };
                    if node.count <= rest {
                        rest -= node.count;
                        q.nodes.pop_front();
                    } else {
                        node.cut_front(rest);
                        node.shrink_if_sparse(limits.max_bytes);
                        rest = 0;
                    }
                }
                let mut rest = back;
                while rest > 0 {
                    let Some(node) = q.nodes.back_mut() else {
                        break;
                    };
                    if node.count <= rest {
                        rest -= node.count;
                        q.nodes.pop_back();
                    } else {
                        node.cut_back(rest);
                        node.shrink_if_sparse(limits.max_bytes);
                        rest = 0;
                    }
                }
                q.len -= front + back;
                self.maybe_pack(limits);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator so failures replay.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    fn collect(l: &ListValue) -> Vec<Vec<u8>> {
        l.iter().map(<[u8]>::to_vec).collect()
    }

    /// Checks every structural invariant and that the list reads the same
    /// as `model` in every direction and from every index.
    fn check(l: &ListValue, model: &VecDeque<Vec<u8>>, limits: Limits) {
        assert_eq!(l.len(), model.len());
        let want: Vec<Vec<u8>> = model.iter().cloned().collect();
        assert_eq!(collect(l), want);
        if let Repr::Quick(q) = &l.repr {
            assert_eq!(q.nodes.iter().map(|n| n.count).sum::<usize>(), q.len);
            for n in &q.nodes {
                assert!(n.count > 0, "empty node left behind");
                assert!(!n.over(limits), "node over the bound");
                let mut pos = 0;
                let mut seen = 0;
                while pos < n.bytes() {
                    pos = read_fwd(n.data(), pos).2;
                    seen += 1;
                }
                assert_eq!(pos, n.bytes());
                assert_eq!(seen, n.count);
            }
        }
        for i in [
            0,
            model.len() / 3,
            model.len() / 2,
            model.len().saturating_sub(1),
        ] {
            assert_eq!(l.get(i), model.get(i).map(Vec::as_slice), "get({i})");
            let fwd: Vec<&[u8]> = l.iter_from(i).collect();
            let mfwd: Vec<&[u8]> = model.iter().skip(i).map(Vec::as_slice).collect();
            assert_eq!(fwd, mfwd, "iter_from({i})");
            let back: Vec<&[u8]> = l.iter_rev_from(i).collect();
            let mback: Vec<&[u8]> = if model.is_empty() {
                vec![]
            } else {
                model.iter().take(i + 1).rev().map(Vec::as_slice).collect()
            };
            assert_eq!(back, mback, "iter_rev_from({i})");
        }
        assert_eq!(l.get(model.len()), None);
    }

    fn element(rng: &mut Rng) -> Vec<u8> {
        let len = match rng.below(20) {
            0 => 200 + rng.below(300),
            1 => 0,
            _ => rng.below(12),
        };
        let c = b'a' + rng.below(4) as u8;
        vec![c; len]
    }

    fn run_model(limits: Limits, seed: u64, steps: usize) {
        let mut rng = Rng(seed);
        let mut l = ListValue::new();
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        for step in 0..steps {
            match rng.below(12) {
                0..=2 => {
                    let e = element(&mut rng);
                    if rng.below(2) == 0 {
                        l.push(&e, End::Head, limits);
                        model.push_front(e);
                    } else {
                        l.push(&e, End::Tail, limits);
                        model.push_back(e);
                    }
                }
                3 | 4 => {
                    let end = if rng.below(2) == 0 {
                        End::Head
                    } else {
                        End::Tail
                    };
                    let got = l.pop(end, limits, <[u8]>::to_vec);
                    let want = match end {
                        End::Head => model.pop_front(),
                        End::Tail => model.pop_back(),
                    };
                    assert_eq!(got, want, "pop at step {step}");
                }
                5 => {
                    let i = rng.below(model.len() + 1);
                    let e = element(&mut rng);
                    assert_eq!(l.set(i, &e, limits), i < model.len());
                    if i < model.len() {
                        model[i] = e;
                    }
                }
                6 => {
                    let pivot = element(&mut rng);
                    let e = element(&mut rng);
                    let after = rng.below(2) == 0;
                    let found = model.iter().position(|x| *x == pivot);
                    assert_eq!(l.insert(&pivot, &e, after, limits), found.is_some());
                    if let Some(p) = found {
                        model.insert(if after { p + 1 } else { p }, e);
                    }
                }
                7 => {
                    let e = element(&mut rng);
                    let max = match rng.below(3) {
                        0 => usize::MAX,
                        _ => 1 + rng.below(3),
                    };
                    let from = if rng.below(2) == 0 {
                        End::Head
                    } else {
                        End::Tail
                    };
                    let removed = l.remove(&e, from, max, limits);
                    let mut want = 0;
                    if from == End::Head {
                        let mut i = 0;
                        while i < model.len() {
                            if want < max && model[i] == e {
                                model.remove(i);
                                want += 1;
                            } else {
                                i += 1;
                            }
                        }
                    } else {
                        let mut i = model.len();
                        while i > 0 {
                            i -= 1;
                            if want < max && model[i] == e {
                                model.remove(i);
                                want += 1;
                            }
                        }
                    }
                    assert_eq!(removed, want, "remove at step {step}");
                }
                8 if rng.below(4) == 0 => {
                    let front = rng.below(model.len() / 3 + 1);
                    let back = rng.below(model.len() / 3 + 1);
                    l.trim(front, back, limits);
                    for _ in 0..front.min(model.len()) {
                        model.pop_front();
                    }
                    for _ in 0..back.min(model.len()) {
                        model.pop_back();
                    }
                }
                _ => {
                    // Bulk pushes grow the list past several nodes.
                    for _ in 0..rng.below(40) {
                        let e = element(&mut rng);
                        l.push(&e, End::Tail, limits);
                        model.push_back(e);
                    }
                }
            }
            if step.is_multiple_of(7) {
                check(&l, &model, limits);
            }
        }
        check(&l, &model, limits);
    }

    #[test]
    fn value_stays_16_bytes() {
        assert_eq!(std::mem::size_of::<ListValue>(), 16);
    }

    #[test]
    fn framing_round_trips_every_length_class() {
        for len in [0usize, 1, 127, 128, 300, 16383, 16384, 70000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut buf = vec![0u8; entry_size(len)];
            write_entry(&mut buf, &data);
            let (ds, de, next) = read_fwd(&buf, 0);
            assert_eq!((&buf[ds..de], next), (&data[..], buf.len()));
            let (es, ds, de) = read_back(&buf, buf.len());
            assert_eq!((es, &buf[ds..de]), (0, &data[..]));
        }
    }

    #[test]
    fn limits_follow_redis_fill_factor() {
        assert_eq!(Limits::from_fill(-2).max_bytes, 8192);
        assert_eq!(Limits::from_fill(-5).max_bytes, 65536);
        assert_eq!(Limits::from_fill(-1).max_bytes, 4096);
        assert_eq!(Limits::from_fill(128).max_count, 128);
        assert_eq!(Limits::from_fill(0).max_count, 1);
        assert_eq!(Limits::from_fill(-6).max_count, 1);
    }

    #[test]
    fn small_list_is_one_exact_buffer() {
        let limits = Limits::default();
        let mut l = ListValue::new();
        for e in ["a1xyz", "b2xyz", "c3xyz"] {
            l.push(e.as_bytes(), End::Tail, limits);
        }
        assert!(l.is_packed());
        assert_eq!(l.heap_size(), HDR + 3 * 7);
        assert_eq!(
            collect(&l),
            vec![b"a1xyz".to_vec(), b"b2xyz".to_vec(), b"c3xyz".to_vec()]
        );
    }

    #[test]
    fn push_all_builds_a_new_list_in_one_buffer() {
        let limits = Limits::default();
        let elems: Vec<&[u8]> = vec![b"a", b"bb", b"", b"ccc"];
        let mut head = ListValue::new();
        head.push_all(elems.iter().copied(), End::Head, limits);
        assert_eq!(
            collect(&head),
            vec![b"ccc".to_vec(), vec![], b"bb".to_vec(), b"a".to_vec()]
        );
        assert_eq!(head.heap_size(), HDR + 3 + 4 + 2 + 5);
        let mut tail = ListValue::new();
        tail.push_all(elems.iter().copied(), End::Tail, limits);
        assert_eq!(
            collect(&tail),
            vec![b"a".to_vec(), b"bb".to_vec(), vec![], b"ccc".to_vec()]
        );
        tail.push_all(elems.iter().copied(), End::Head, limits);
        assert_eq!(tail.len(), 8);
        assert_eq!(tail.get(0), Some(&b"ccc"[..]));
        // Too many for one node: falls back to pushes, which add nodes.
        let many: Vec<Vec<u8>> = (0..3000u32).map(|i| i.to_string().into_bytes()).collect();
        let mut big = ListValue::new();
        big.push_all(many.iter().map(Vec::as_slice), End::Tail, limits);
        assert_eq!(big.len(), 3000);
        assert!(big.node_count() > 1);
        assert_eq!(big.get(2999), Some(&b"2999"[..]));
    }

    #[test]
    fn growing_past_the_bound_adds_nodes_and_shrinking_packs_again() {
        let limits = Limits::default();
        let mut l = ListValue::new();
        let mut model = VecDeque::new();
        for i in 0..10_000u32 {
            let e = i.to_string().into_bytes();
            if i.is_multiple_of(2) {
                l.push(&e, End::Head, limits);
                model.push_front(e);
            } else {
                l.push(&e, End::Tail, limits);
                model.push_back(e);
            }
        }
        assert!(!l.is_packed());
        assert!(l.node_count() > 5);
        check(&l, &model, limits);
        // Index lookups from both ends.
        assert_eq!(l.get(0), model.front().map(Vec::as_slice));
        assert_eq!(l.get(9_999), model.back().map(Vec::as_slice));
        assert_eq!(l.get(5_000), Some(&model[5_000][..]));
        while l.len() > 10 {
            let end = if l.len().is_multiple_of(2) {
                End::Head
            } else {
                End::Tail
            };
            let got = l.pop(end, limits, <[u8]>::to_vec);
            let want = if end == End::Head {
                model.pop_front()
            } else {
                model.pop_back()
            };
            assert_eq!(got, want);
        }
        assert!(l.is_packed());
        check(&l, &model, limits);
    }

    #[test]
    fn middle_inserts_split_nodes_within_the_bound() {
        let limits = Limits::from_fill(-1);
        let mut l = ListValue::new();
        let mut model = VecDeque::new();
        for i in 0..2_000u32 {
            let e = format!("element-{i}").into_bytes();
            l.push(&e, End::Tail, limits);
            model.push_back(e);
        }
        let nodes_before = l.node_count();
        for i in 0..500u32 {
            let pivot = format!("element-{}", 1000 + i % 50).into_bytes();
            let e = vec![b'x'; 40];
            assert!(l.insert(&pivot, &e, i.is_multiple_of(2), limits));
            let p = model.iter().position(|x| *x == pivot).unwrap_or(0);
            model.insert(if i.is_multiple_of(2) { p + 1 } else { p }, e);
        }
        assert!(l.node_count() > nodes_before);
        check(&l, &model, limits);
    }

    #[test]
    fn removals_merge_nodes_back() {
        let limits = Limits::from_fill(8);
        let mut l = ListValue::new();
        let mut model = VecDeque::new();
        for i in 0..400u32 {
            let e = if i.is_multiple_of(4) {
                b"keep".to_vec()
            } else {
                b"drop".to_vec()
            };
            l.push(&e, End::Tail, limits);
            model.push_back(e);
        }
        assert_eq!(l.node_count(), 50);
        assert_eq!(l.remove(b"drop", End::Tail, usize::MAX, limits), 300);
        model.retain(|e| e != b"drop");
        check(&l, &model, limits);
        assert!(l.node_count() <= 20, "nodes merged: {}", l.node_count());
    }

    #[test]
    fn set_in_the_middle_with_growth_and_shrink() {
        let limits = Limits::from_fill(-1);
        let mut l = ListValue::new();
        let mut model = VecDeque::new();
        for i in 0..1_000u32 {
            let e = i.to_string().into_bytes();
            l.push(&e, End::Tail, limits);
            model.push_back(e);
        }
        for i in (0..1_000).step_by(7) {
            let e = vec![b'z'; (i % 300) + 1];
            assert!(l.set(i, &e, limits));
            model[i] = e;
        }
        for i in (0..1_000).step_by(5) {
            assert!(l.set(i, b"", limits));
            model[i] = Vec::new();
        }
        check(&l, &model, limits);
        assert!(!l.set(1_000, b"x", limits));
    }

    #[test]
    fn trim_drops_whole_nodes_and_cuts_edges() {
        let limits = Limits::from_fill(16);
        let mut l = ListValue::new();
        let mut model = VecDeque::new();
        for i in 0..1_000u32 {
            let e = i.to_string().into_bytes();
            l.push(&e, End::Tail, limits);
            model.push_back(e);
        }
        l.trim(123, 456, limits);
        model.drain(..123);
        model.truncate(model.len() - 456);
        check(&l, &model, limits);
        l.trim(0, l.len() - 3, limits);
        model.truncate(3);
        check(&l, &model, limits);
        assert!(l.is_packed());
        l.trim(3, 0, limits);
        assert!(l.is_empty());
    }

    #[test]
    fn one_huge_element_lives_in_its_own_node() {
        let limits = Limits::default();
        let mut l = ListValue::new();
        let big = vec![b'q'; 100_000];
        l.push(b"a", End::Tail, limits);
        l.push(&big, End::Tail, limits);
        l.push(b"b", End::Tail, limits);
        assert_eq!(l.node_count(), 3);
        assert_eq!(l.get(1), Some(&big[..]));
        assert!(l.insert(&big, b"c", false, limits));
        assert_eq!(collect(&l)[1], b"c".to_vec());
        let mut solo = ListValue::new();
        solo.push(&big, End::Head, limits);
        assert!(!solo.is_packed(), "a buffer over 64 KiB cannot be packed");
        assert_eq!(solo.pop(End::Tail, limits, <[u8]>::len), Some(100_000));
        assert!(solo.is_empty());
    }

    #[test]
    fn model_default_bound() {
        for seed in 1..6 {
            run_model(Limits::default(), seed * 7919, 3_000);
        }
    }

    #[test]
    fn model_tiny_byte_bound_many_nodes() {
        for seed in 1..6 {
            run_model(
                Limits {
                    max_bytes: 64,
                    max_count: usize::MAX,
                },
                seed * 104_729,
                3_000,
            );
        }
    }

    #[test]
    fn model_count_bounds() {
        for (fill, seed) in [(1, 3u64), (2, 5), (5, 11), (0, 13), (-7, 17)] {
            run_model(Limits::from_fill(fill), seed, 2_000);
        }
    }
}

#[cfg(test)]
/// A rough per-operation timing of the hot paths (`cargo test --release
/// --lib types::list::speed -- --ignored --nocapture`).
mod speed {
    use super::*;

    #[test]
    #[ignore]
    fn push_pop_range_speed() {
        let limits = Limits::default();
        let mut l = ListValue::new();
        let t = std::time::Instant::now();
        for _ in 0..5_000_000 {
            l.push(b"xxx", End::Head, limits);
        }
        eprintln!(
            "lpush {:?}/op nodes {}",
            t.elapsed() / 5_000_000,
            l.node_count()
        );
        let t = std::time::Instant::now();
        let mut out = Vec::new();
        for _ in 0..1_000_000 {
            out.clear();
            for e in l.iter_from(0).take(100) {
                out.extend_from_slice(e);
            }
        }
        eprintln!("lrange100 {:?}/op", t.elapsed() / 1_000_000);
        let t = std::time::Instant::now();
        let mut n = 0;
        while l.pop(End::Tail, limits, <[u8]>::len).is_some() {
            n += 1;
        }
        eprintln!("rpop {:?}/op", t.elapsed() / n);
        for _ in 0..1_000_000 {
            l.push(b"xxx", End::Tail, limits);
        }
        let t = std::time::Instant::now();
        let mut n = 0;
        while l.pop(End::Head, limits, <[u8]>::len).is_some() {
            n += 1;
        }
        eprintln!("lpop {:?}/op", t.elapsed() / n);
    }
}
