//! The keyspace hash table.
//!
//! This is Redis's dict.c in Rust: a power-of-two array of buckets, each the
//! head of a singly linked chain of heap nodes, and during a resize two such
//! arrays with entries migrating from the old one to the new one a few buckets
//! at a time. A general-purpose map such as hashbrown is faster for plain
//! lookups, but the keyspace has needs that an open-addressing table cannot
//! meet, and they decide the design:
//!
//! * SCAN. Redis promises that an element present for the whole of a SCAN is
//!   returned at least once, however the table is resized between calls, with
//!   a cursor that is a single integer. With chaining, an element's home is
//!   exactly `hash & mask`, so the buckets of a table of size 2^n that an
//!   element can live in after a resize to 2^m are predictable: the old
//!   bucket's index is a suffix of the new ones'. Walking bucket indexes in
//!   reverse-binary order (incrementing the *high* masked bit first) visits
//!   those groups contiguously, so growing never makes the cursor skip a group
//!   and shrinking only makes it revisit some. Open addressing moves elements
//!   away from their home slot on collisions and compacts them on deletion, so
//!   no cursor can describe "the part already seen".
//!
//! * No latency spike on growth. hashbrown rehashes everything at once when
//!   it grows; with millions of keys that is tens of milliseconds during which
//!   the shard serves nobody. Here growing allocates the new bucket array
//!   (zeroed lazily by the OS, see `alloc_buckets`) and every later mutating
//!   call moves one bucket (or skips up to ten empty ones), the same
//!   amortisation dict.c uses; `rehash_step` lets an idle shard finish early.
//!   Nodes never move in memory: migrating an entry rewrites two pointers,
//!   whatever the size of its value.
//!
//! * Random sampling. RANDOMKEY, eviction and active expiry need random
//!   entries without an index of all keys. A chained table has a fixed,
//!   dense index space to draw from: pick a bucket, then a chain element.
//!   `random_entry` corrects the bias toward short chains by rejection (see
//!   there); `sample` reads a run of adjacent buckets like dictGetSomeKeys,
//!   which is what eviction wants: cheap, spread out, roughly distinct.
//!
//! * Memory per key. An entry is one allocation holding the next pointer, the
//!   key inline (`CompactBytes`, up to 23 bytes without another allocation)
//!   and the value; the table itself adds one pointer per bucket, 8 to 16
//!   bytes per entry at load factor 0.5 to 1. The hash is not stored in the
//!   node: it would grow a 56-byte node (24-byte value) into the next malloc
//!   size class, and re-hashing a short key during rehash is cheap.
//!
//! Growth happens at load factor 1 (the bucket array doubles; under a memory
//! limit it may wait until 1.618, see `grow_if_needed`); shrinking when
//! fewer than one entry per eight buckets remain, down to 4 buckets, so that a
//! table oscillating around a size never resizes back and forth. As in Redis,
//! no resize starts while one is in progress, inserts during a rehash go to
//! the new table only, and old-table buckets below the rehash index are
//! always empty — the sampling code relies on that. Two departures from
//! dict.c close a hole that rule leaves open: a huge table emptied all at once
//! needs many steps to walk its empty buckets while every insert piles into
//! the shrink target. So a shrink divides the size by at most 64 (further
//! shrinks follow in stages), and mutating calls do extra rehash work in
//! proportion to the target's load factor; chains then stay around ten
//! entries at worst (tested) instead of growing with the old table's size.
//!
//! Hashing is ahash with a random seed per table, so an attacker who does not
//! know the seed cannot aim keys at one chain.
//!
//! The code is safe Rust except for one block that allocates a zeroed bucket
//! array (documented at `alloc_buckets`). Chains are manipulated through
//! `&mut Option<Box<Node>>` cursors, and they are always dropped in a loop,
//! never by the recursive drop glue, so a pathological chain cannot overflow
//! the stack.

use std::fmt;
use std::iter::FusedIterator;
use std::mem::{self, size_of};

use ahash::RandomState;

use super::compact::CompactBytes;

/// Size of the first bucket array and floor for shrinking.
const MIN_BUCKETS: usize = 4;
/// Shrink once fewer than `buckets / SHRINK_RATIO` entries remain.
const SHRINK_RATIO: usize = 8;
/// A shrink divides the bucket count by at most this much; see
/// `shrink_if_needed`.
const MAX_SHRINK_FACTOR: usize = 64;
/// Non-empty buckets migrated by each mutating call during a rehash.
const REHASH_PER_OP: usize = 1;
/// Empty buckets a rehash step may skip per bucket of budget, as in dict.c:
/// it bounds the work of a step over a sparse table.
const EMPTY_VISITS_PER_STEP: usize = 10;
/// `random_entry` accepts a bucket holding `len` entries with probability
/// `min(len, k) / k`, k being one of these by load factor; see there.
const FAIR_CHAIN_DENSE: u64 = 6;
const FAIR_CHAIN_SPARSE: u64 = 4;
/// Rejection rounds before `random_entry` settles for a slightly biased pick.
const RANDOM_ATTEMPTS: usize = 256;
/// `sample` inspects at most this many bucket positions per requested entry.
const SAMPLE_STEPS_PER_ENTRY: usize = 10;

type Link<V> = Option<Box<Node<V>>>;

struct Node<V> {
    next: Link<V>,
    key: CompactBytes,
    value: V,
}

/// A hash table from byte-string keys to `V`, with incremental rehashing,
/// a resize-proof SCAN cursor and random sampling.
pub struct Dict<V> {
    /// `buckets[0]` is the live table; `buckets[1]` is non-empty only while
    /// rehashing, and is where the entries are going. Each length is 0 or a
    /// power of two.
    buckets: [Box<[Link<V>]>; 2],
    /// Entries in each table.
    used: [usize; 2],
    /// While rehashing, the next bucket of `buckets[0]` to migrate; every
    /// bucket below it is empty.
    rehash_idx: Option<usize>,
    /// Sum of the keys' `heap_size`, for `table_bytes`.
    key_heap: usize,
    hasher: RandomState,
}

impl<V> Dict<V> {
    pub fn new() -> Self {
        Dict {
            buckets: [empty_buckets(), empty_buckets()],
            used: [0, 0],
            rehash_idx: None,
            key_heap: 0,
            hasher: RandomState::new(),
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.used[0] + self.used[1]
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.find(key).map(|node| &node.value)
    }

    pub fn get_key_value(&self, key: &[u8]) -> Option<(&[u8], &V)> {
        self.find(key)
            .map(|node| (node.key.as_slice(), &node.value))
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.find(key).is_some()
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        if self.is_empty() {
            return None;
        }
        // Write paths are where the rehash gets its amortised budget; reads
        // through `&self` cannot contribute.
        self.rehash_tick();
        let hash = self.hash(key);
        let tables = self.table_count();
        let [first, second] = &mut self.buckets;
        if let Some(node) = chain_link(first, hash, key) {
            return Some(&mut node.value);
        }
        if tables == 2 {
            if let Some(node) = chain_link(second, hash, key) {
                return Some(&mut node.value);
            }
        }
        None
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: &[u8], value: V) -> Option<V> {
        match self.lookup_for_insert(key) {
            (Lookup::Found(slot), ..) => Some(mem::replace(slot, value)),
            (Lookup::Vacant { link, table }, used, key_heap) => {
                fill_vacant(link, table, used, key_heap, key, value);
                None
            }
        }
    }

    /// Returns the value for key, inserting `make()` first if absent. Bool =
    /// true if it was inserted.
    pub fn get_or_insert_with(&mut self, key: &[u8], make: impl FnOnce() -> V) -> (&mut V, bool) {
        match self.lookup_for_insert(key) {
            (Lookup::Found(slot), ..) => (slot, false),
            (Lookup::Vacant { link, table }, used, key_heap) => {
                // `make` runs before anything is changed so that a panic in
                // it leaves the table untouched.
                let value = make();
                (fill_vacant(link, table, used, key_heap, key, value), true)
            }
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        self.remove_entry(key).map(|(_, value)| value)
    }

    pub fn remove_entry(&mut self, key: &[u8]) -> Option<(CompactBytes, V)> {
        if self.is_empty() {
            return None;
        }
        self.rehash_tick();
        let hash = self.hash(key);
        let mut removed = None;
        for table in 0..self.table_count() {
            if let Some(link) = chain_link_or_tail(&mut self.buckets[table], hash, key) {
                if let Some(mut node) = link.take() {
                    *link = node.next.take();
                    self.used[table] -= 1;
                    self.key_heap -= node.key.heap_size();
                    removed = Some(node);
                    break;
                }
            }
        }
        let node = removed?;
        self.shrink_if_needed();
        let Node { key, value, .. } = *node;
        Some((key, value))
    }

    pub fn clear(&mut self) {
        let old = mem::replace(&mut self.buckets, [empty_buckets(), empty_buckets()]);
        self.used = [0, 0];
        self.rehash_idx = None;
        self.key_heap = 0;
        for mut buckets in old {
            drop_chains(&mut buckets);
        }
    }

    pub fn iter(&self) -> Iter<'_, V> {
        Iter {
            tables: [&self.buckets[0], &self.buckets[1]],
            table: 0,
            // Buckets below the rehash index were emptied by the migration.
            bucket: self.rehash_idx.unwrap_or(0),
            node: None,
            remaining: self.len(),
        }
    }

    /// Visits one cursor step (one bucket, plus its expansions in the bigger
    /// table while rehashing) and returns the next cursor; 0 when done.
    ///
    /// Guarantees, as Redis SCAN: every entry present from the call with
    /// cursor 0 until the call that returns 0 is visited at least once, even
    /// if the table grows or shrinks in between; entries may be visited more
    /// than once when the table shrank in between; entries added or removed
    /// meanwhile may or may not be visited.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &V)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let mut v = cursor;
        if self.rehash_idx.is_none() {
            let table = &self.buckets[0];
            let m0 = (table.len() - 1) as u64;
            visit_chain(&table[(v & m0) as usize], &mut f);
            v = next_cursor(v, m0);
        } else {
            let (small, large) = if self.buckets[0].len() <= self.buckets[1].len() {
                (&self.buckets[0], &self.buckets[1])
            } else {
                (&self.buckets[1], &self.buckets[0])
            };
            let m0 = (small.len() - 1) as u64;
            let m1 = (large.len() - 1) as u64;
            visit_chain(&small[(v & m0) as usize], &mut f);
            // Every large-table bucket whose low bits equal this small-table
            // bucket is an expansion of it; stepping the cursor over the
            // large mask enumerates them until the bits the two masks do not
            // share wrap back to zero.
            loop {
                visit_chain(&large[(v & m1) as usize], &mut f);
                v = next_cursor(v, m1);
                if v & (m0 ^ m1) == 0 {
                    break;
                }
            }
        }
        v
    }

    /// A uniformly random entry (nearly: see below), or `None` when empty.
    ///
    /// Picking a random non-empty bucket and then a random element of its
    /// chain, as dictGetRandomKey does, favours entries in short chains: an
    /// entry alone in its bucket is picked twice as often as one sharing it.
    /// Instead a random bucket position is accepted with probability
    /// `len / k` and then an element chosen from it, which makes every entry
    /// in a chain of at most `k` equally likely. Chain lengths are about
    /// Poisson in the load factor, so `k` = 6 above load 1/2 and 4 below
    /// leaves under 0.2% of entries in longer chains (they are picked a bit
    /// less often), while keeping the expected number of rounds, `k / load`,
    /// small: 6 to 12 for a table that grew, at most 32 at the lowest load
    /// the shrink rule allows. Each round is two `rand` calls and a chain
    /// walk. After `RANDOM_ATTEMPTS` rounds (only for a table far sparser
    /// than that, mid-shrink) it settles for the first non-empty bucket from
    /// a random position.
    pub fn random_entry(&self, rand: &mut impl FnMut() -> u64) -> Option<(&[u8], &V)> {
        if self.is_empty() {
            return None;
        }
        let slots = self.live_slots();
        let fair_chain = if self.len() as u64 * 2 > slots {
            FAIR_CHAIN_DENSE
        } else {
            FAIR_CHAIN_SPARSE
        };
        for _ in 0..RANDOM_ATTEMPTS {
            let chain = self.live_slot(rand() % slots);
            let len = chain_len(chain) as u64;
            if len == 0 {
                continue;
            }
            let pick = rand() % len.max(fair_chain);
            if pick < len {
                return nth_in_chain(chain, pick as usize);
            }
        }
        let start = rand() % slots;
        for offset in 0..slots {
            let chain = self.live_slot((start + offset) % slots);
            let len = chain_len(chain) as u64;
            if len > 0 {
                return nth_in_chain(chain, (rand() % len) as usize);
            }
        }
        unreachable!("a non-empty dict has a non-empty bucket")
    }

    /// Up to `count` distinct-ish entries sampled from random positions (like
    /// dictGetSomeKeys), for eviction/expiry sampling.
    ///
    /// Starts at a random bucket and takes whole chains from consecutive
    /// buckets (in both tables while rehashing), jumping to a new random
    /// position after a run of empty buckets. Entries repeat only if the
    /// walk wraps around a small table or jumps back over ground it covered.
    /// Stops after `10 * count` bucket positions even if fewer were found.
    pub fn sample(
        &self,
        count: usize,
        rand: &mut impl FnMut() -> u64,
        mut f: impl FnMut(&[u8], &V),
    ) {
        let count = count.min(self.len());
        if count == 0 {
            return;
        }
        let tables = self.table_count();
        let rehash_idx = self.rehash_idx.unwrap_or(0);
        let max_mask = self.buckets[0].len().max(self.buckets[1].len()) - 1;
        let mut steps = count.saturating_mul(SAMPLE_STEPS_PER_ENTRY);
        let mut i = rand() as usize & max_mask;
        let mut empty_run = 0;
        let mut found = 0;
        while steps > 0 {
            steps -= 1;
            for table in 0..tables {
                if tables == 2 && table == 0 && i < rehash_idx {
                    // Old-table buckets below the rehash index are empty. If
                    // the new table has no bucket here either (it is the
                    // smaller one), skip straight to the live part.
                    if i >= self.buckets[1].len() {
                        i = rehash_idx;
                    } else {
                        continue;
                    }
                }
                let Some(mut chain) = self.buckets[table].get(i).map(|l| l.as_deref()) else {
                    continue;
                };
                if chain.is_none() {
                    empty_run += 1;
                    if empty_run >= 5 && empty_run > count {
                        i = rand() as usize & max_mask;
                        empty_run = 0;
                    }
                    continue;
                }
                empty_run = 0;
                while let Some(node) = chain {
                    f(&node.key, &node.value);
                    found += 1;
                    if found == count {
                        return;
                    }
                    chain = node.next.as_deref();
                }
            }
            i = (i + 1) & max_mask;
        }
    }

    /// Does up to `buckets` buckets of pending incremental rehash work;
    /// returns true if more remains.
    pub fn rehash_step(&mut self, buckets: usize) -> bool {
        self.rehash(buckets)
    }

    /// Heap bytes owned by the table structure itself (bucket arrays and
    /// nodes, including key heap overflow), not counting what V owns on the
    /// heap. These are requested sizes; the allocator's rounding and chunk
    /// headers come on top.
    /// Bytes of one entry's node (next pointer, inline key, value), as
    /// requested from the allocator; MEMORY USAGE builds on it.
    pub const NODE_BYTES: usize = size_of::<Node<V>>();

    pub fn table_bytes(&self) -> usize {
        (self.buckets[0].len() + self.buckets[1].len()) * size_of::<Link<V>>()
            + self.len() * size_of::<Node<V>>()
            + self.key_heap
    }

    /// Retains only entries for which f returns true (used for FLUSH-like
    /// bulk work and tests).
    ///
    /// This already costs a pass over every bucket, so it also completes any
    /// rehash and any shrink the deletions call for on the spot, rather than
    /// leaving a mostly empty table to be migrated step by step.
    pub fn retain(&mut self, mut f: impl FnMut(&[u8], &mut V) -> bool) {
        let start = self.rehash_idx.unwrap_or(0);
        for table in 0..self.table_count() {
            let from = if table == 0 { start } else { 0 };
            let Dict {
                buckets,
                used,
                key_heap,
                ..
            } = self;
            for bucket in buckets[table][from..].iter_mut() {
                let mut link = bucket;
                while let Some(node) = link {
                    if f(&node.key, &mut node.value) {
                        link = &mut link.as_mut().expect("checked by while let").next;
                    } else {
                        let mut node = link.take().expect("checked by while let");
                        *link = node.next.take();
                        // Accounted before the drop so that a panicking
                        // destructor leaves the counts right.
                        used[table] -= 1;
                        *key_heap -= node.key.heap_size();
                        drop(node);
                    }
                }
            }
        }
        self.shrink_if_needed();
        while self.rehash(usize::MAX) {}
    }

    // ---- internals ----

    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    #[inline]
    fn table_count(&self) -> usize {
        if self.rehash_idx.is_some() {
            2
        } else {
            1
        }
    }

    /// Finds `key` for an insertion, after paying the rehash tick and
    /// growing if needed. Also hands out the counters, which the caller must
    /// update if it fills the vacancy, since the link borrows the buckets.
    fn lookup_for_insert(&mut self, key: &[u8]) -> (Lookup<'_, V>, &mut [usize; 2], &mut usize) {
        self.rehash_tick();
        self.grow_if_needed();
        let hash = self.hash(key);
        let tables = self.table_count();
        let Dict {
            buckets,
            used,
            key_heap,
            ..
        } = self;
        let [first, second] = buckets;
        let link = chain_link_or_tail(first, hash, key).expect("grow_if_needed allocated it");
        let lookup = match link {
            Some(node) => Lookup::Found(&mut node.value),
            None if tables == 1 => Lookup::Vacant { link, table: 0 },
            // Found in neither table yet: during a rehash new entries belong
            // in the new table, or the migration would have to revisit them.
            None => {
                let link = chain_link_or_tail(second, hash, key).expect("rehash target exists");
                match link {
                    Some(node) => Lookup::Found(&mut node.value),
                    None => Lookup::Vacant { link, table: 1 },
                }
            }
        };
        (lookup, used, key_heap)
    }

    fn find(&self, key: &[u8]) -> Option<&Node<V>> {
        if self.is_empty() {
            return None;
        }
        let hash = self.hash(key);
        for table in &self.buckets[..self.table_count()] {
            let mut cur = table[bucket_index(hash, table.len())].as_deref();
            while let Some(node) = cur {
                if node.key.as_slice() == key {
                    return Some(node);
                }
                cur = node.next.as_deref();
            }
        }
        None
    }

    /// The rehash work paid by one mutating call. Normally one bucket; more
    /// while the target table is overloaded, which happens when a huge,
    /// nearly empty table shrinks: finding its last entries takes many
    /// steps over empty buckets, and inserts meanwhile all land in the small
    /// target. Scaling the budget with the target's load factor makes the
    /// total extra work grow only with the square root of the old table's
    /// size, instead of letting those chains grow linearly with it (and every
    /// insert walks its chain).
    #[inline]
    fn rehash_tick(&mut self) {
        if self.rehash_idx.is_some() {
            let load = self.used[1] / self.buckets[1].len();
            self.rehash(REHASH_PER_OP + load);
        }
    }

    /// Migrates up to `n` non-empty buckets (skipping at most
    /// `EMPTY_VISITS_PER_STEP * n` empty ones) and finishes the rehash when
    /// the old table is empty. Returns true if more remains, which includes
    /// a new shrink started on completion.
    fn rehash(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehash_idx else {
            return false;
        };
        let mut empty_visits = n.saturating_mul(EMPTY_VISITS_PER_STEP);
        let [old, new] = &mut self.buckets;
        let new_mask = new.len() - 1;
        let mut n = n;
        while n > 0 && self.used[0] > 0 {
            n -= 1;
            // A non-empty bucket exists at or after `idx` while used[0] > 0,
            // because nothing is inserted into the old table during a rehash.
            while old[idx].is_none() {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_idx = Some(idx);
                    return true;
                }
            }
            let mut chain = old[idx].take();
            while let Some(mut node) = chain {
                chain = node.next.take();
                let to = self.hasher.hash_one(node.key.as_slice()) as usize & new_mask;
                node.next = new[to].take();
                new[to] = Some(node);
                self.used[0] -= 1;
                self.used[1] += 1;
            }
            idx += 1;
        }
        if self.used[0] > 0 {
            self.rehash_idx = Some(idx);
            return true;
        }
        // The old array is all `None`: dropping it frees no nodes, only
        // reads through the slots once (like the kernel's unmapping of it).
        self.buckets[0] = mem::replace(&mut self.buckets[1], empty_buckets());
        self.used = [self.used[1], 0];
        self.rehash_idx = None;
        // Deletions during the migration, or a staged shrink, may call for
        // another round straight away.
        self.shrink_if_needed();
        self.rehash_idx.is_some()
    }

    fn grow_if_needed(&mut self) {
        if self.rehash_idx.is_some() {
            return;
        }
        let size = self.buckets[0].len();
        if size == 0 {
            self.buckets[0] = alloc_buckets(MIN_BUCKETS);
        } else if self.used[0] >= size {
            // Usually 2 * size; more if a shrink-rehash took many inserts.
            let target = (self.used[0] + 1).next_power_of_two();
            // Under a memory limit the bigger array may wait (see
            // alloc::may_grow), until chains get long at load 1.618.
            // Asking sums every thread's counter, so a waiting table asks
            // every 64 inserts.
            let forced = self.used[0] * 1000 >= size * 1618;
            let ask = self.used[0] == size || self.used[0].is_multiple_of(64);
            if forced || (ask && crate::alloc::may_grow(target * size_of::<Link<V>>())) {
                self.resize(target);
            }
        }
    }

    /// Starts a shrink if the load factor fell below 1/8. The new size
    /// leaves the load factor in (0.5, 1], like after a growth, and at least
    /// one insert away from growing again, but is at most 64 times smaller
    /// than the old one: migrating out of a huge, nearly empty table takes
    /// steps in proportion to its size (to skip the empty buckets), and all
    /// inserts meanwhile land in the target, so a tiny target would grow long
    /// chains. A table that has to shrink further does so in stages, each
    /// starting as the previous one completes.
    fn shrink_if_needed(&mut self) {
        if self.rehash_idx.is_some() {
            return;
        }
        let size = self.buckets[0].len();
        if size > MIN_BUCKETS && self.used[0] < size / SHRINK_RATIO {
            let fit = (self.used[0] + 1).next_power_of_two();
            self.resize(fit.max(size / MAX_SHRINK_FACTOR).max(MIN_BUCKETS));
        }
    }

    fn resize(&mut self, size: usize) {
        debug_assert!(self.rehash_idx.is_none() && size.is_power_of_two());
        if self.used[0] == 0 {
            self.buckets[0] = alloc_buckets(size);
        } else {
            self.buckets[1] = alloc_buckets(size);
            self.rehash_idx = Some(0);
        }
    }

    /// Number of bucket positions that can hold entries: the old table from
    /// the rehash index on, plus the new table.
    fn live_slots(&self) -> u64 {
        let start = self.rehash_idx.unwrap_or(0);
        (self.buckets[0].len() - start + self.buckets[1].len()) as u64
    }

    fn live_slot(&self, slot: u64) -> &Link<V> {
        let slot = slot as usize;
        let start = self.rehash_idx.unwrap_or(0);
        let old_live = self.buckets[0].len() - start;
        if slot < old_live {
            &self.buckets[0][start + slot]
        } else {
            &self.buckets[1][slot - old_live]
        }
    }
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> Drop for Dict<V> {
    fn drop(&mut self) {
        for buckets in &mut self.buckets {
            drop_chains(buckets);
        }
    }
}

impl<V: fmt::Debug> fmt::Debug for Dict<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(k, v)| (k.escape_ascii().to_string(), v)))
            .finish()
    }
}

impl<'a, V> IntoIterator for &'a Dict<V> {
    type Item = (&'a [u8], &'a V);
    type IntoIter = Iter<'a, V>;

    fn into_iter(self) -> Iter<'a, V> {
        self.iter()
    }
}

/// Iterator over a [`Dict`]'s entries in bucket order.
pub struct Iter<'a, V> {
    tables: [&'a [Link<V>]; 2],
    table: usize,
    bucket: usize,
    node: Option<&'a Node<V>>,
    remaining: usize,
}

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (&'a [u8], &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(node) = self.node {
                self.node = node.next.as_deref();
                self.remaining -= 1;
                return Some((node.key.as_slice(), &node.value));
            }
            // Stops without walking the empty tail of a sparse table.
            if self.remaining == 0 {
                return None;
            }
            let table = self.tables[self.table];
            if let Some(head) = table.get(self.bucket) {
                self.node = head.as_deref();
                self.bucket += 1;
            } else {
                // `remaining > 0` means the second table exists and holds
                // the rest.
                self.table += 1;
                self.bucket = 0;
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<V> ExactSizeIterator for Iter<'_, V> {}

impl<V> FusedIterator for Iter<'_, V> {}

// ---- free helpers ----

enum Lookup<'a, V> {
    Found(&'a mut V),
    /// The `None` link ending the chain the key belongs in, in `table`.
    Vacant {
        link: &'a mut Link<V>,
        table: usize,
    },
}

/// Appends a node at a vacant chain end. Appending rather than pushing at the
/// head is free here because the lookup already walked to the tail.
fn fill_vacant<'a, V>(
    link: &'a mut Link<V>,
    table: usize,
    used: &mut [usize; 2],
    key_heap: &mut usize,
    key: &[u8],
    value: V,
) -> &'a mut V {
    let key = CompactBytes::from_slice(key);
    used[table] += 1;
    *key_heap += key.heap_size();
    let node = link.insert(Box::new(Node {
        next: None,
        key,
        value,
    }));
    &mut node.value
}

#[inline]
fn bucket_index(hash: u64, len: usize) -> usize {
    hash as usize & (len - 1)
}

/// The node holding `key` in this table's chain for `hash`, if any.
#[inline]
fn chain_link<'a, V>(table: &'a mut [Link<V>], hash: u64, key: &[u8]) -> Option<&'a mut Node<V>> {
    match chain_link_or_tail(table, hash, key) {
        Some(Some(node)) => Some(node),
        _ => None,
    }
}

/// The link that points at the node holding `key`, or the chain's final
/// `None` link if the key is absent; `None` if the table has no buckets.
fn chain_link_or_tail<'a, V>(
    table: &'a mut [Link<V>],
    hash: u64,
    key: &[u8],
) -> Option<&'a mut Link<V>> {
    if table.is_empty() {
        return None;
    }
    let len = table.len();
    let mut link = &mut table[bucket_index(hash, len)];
    while link.as_ref().is_some_and(|node| node.key.as_slice() != key) {
        link = &mut link.as_mut().expect("checked by the loop condition").next;
    }
    Some(link)
}

fn visit_chain<V>(head: &Link<V>, f: &mut impl FnMut(&[u8], &V)) {
    let mut cur = head.as_deref();
    while let Some(node) = cur {
        f(&node.key, &node.value);
        cur = node.next.as_deref();
    }
}

fn chain_len<V>(head: &Link<V>) -> usize {
    let mut len = 0;
    let mut cur = head.as_deref();
    while let Some(node) = cur {
        len += 1;
        cur = node.next.as_deref();
    }
    len
}

fn nth_in_chain<V>(head: &Link<V>, n: usize) -> Option<(&[u8], &V)> {
    let mut cur = head.as_deref();
    for _ in 0..n {
        cur = cur?.next.as_deref();
    }
    cur.map(|node| (node.key.as_slice(), &node.value))
}

/// Increments the cursor's masked bits in reverse-binary order. Setting the
/// unmasked bits first makes the carry pass straight through them, so the
/// cursor's meaning survives a change of mask between calls.
#[inline]
fn next_cursor(cursor: u64, mask: u64) -> u64 {
    (cursor | !mask)
        .reverse_bits()
        .wrapping_add(1)
        .reverse_bits()
}

fn empty_buckets<V>() -> Box<[Link<V>]> {
    Box::new([])
}

/// A bucket array of `len` empty chains.
///
/// Built from zeroed memory rather than by writing `None` into each slot:
/// large zeroed allocations come straight from the OS as untouched pages, so
/// the cost of first touching them is spread over the rehash steps that fill
/// them, instead of being paid all at once when the table starts growing,
/// which is the very spike incremental rehashing exists to avoid.
fn alloc_buckets<V>(len: usize) -> Box<[Link<V>]> {
    let zeroed = Box::<[Link<V>]>::new_zeroed_slice(len);
    // SAFETY: the all-zero bit pattern is a valid `Option<Box<T>>` and means
    // `None`: the standard library guarantees `Option<Box<T>>` has the
    // null-pointer niche, and documents that transmuting zeroed bytes to such
    // an `Option` is sound and yields `None` (core::option, "Representation").
    unsafe { zeroed.assume_init() }
}

/// Frees every chain in a loop: the default drop glue of a chain recurses
/// once per node and could overflow the stack on a long chain.
fn drop_chains<V>(buckets: &mut [Link<V>]) {
    for bucket in buckets {
        let mut cur = bucket.take();
        while let Some(mut node) = cur {
            cur = node.next.take();
        }
    }
}

/// A deep copy (COPY of a hash or set value). Rebuilt by insertion rather
/// than bucket by bucket, so the copy starts without a pending rehash.
impl<V: Clone> Clone for Dict<V> {
    fn clone(&self) -> Self {
        let mut copy = Dict::new();
        for (k, v) in self.iter() {
            copy.insert(k, v.clone());
        }
        copy
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::collections::{HashMap, HashSet};
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::rc::Rc;

    /// Scales loop counts down under Miri, which is ~1000x slower.
    fn scaled(n: usize) -> usize {
        if cfg!(miri) {
            (n / 100).max(10)
        } else {
            n
        }
    }

    /// splitmix64: deterministic, dependency-free test randomness.
    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut state = seed;
        move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
    }

    /// A table with a fixed hash seed, for tests whose statistics would
    /// otherwise vary from run to run.
    fn seeded<V>(seed: u64) -> Dict<V> {
        let mut d = Dict::new();
        d.hasher = RandomState::with_seeds(seed, seed ^ 1, seed ^ 2, seed ^ 3);
        d
    }

    fn key(i: u64) -> Vec<u8> {
        format!("key:{i}").into_bytes()
    }

    /// Keys whose length straddles the inline limit, to exercise both
    /// `CompactBytes` shapes and the heap accounting.
    fn varied_key(i: u64) -> Vec<u8> {
        let mut k = format!("k{i}:").into_bytes();
        k.resize(k.len() + (i as usize * 7) % 40, b'x');
        k
    }

    fn check_invariants<V>(d: &Dict<V>) {
        let mut key_heap = 0;
        for (t, table) in d.buckets.iter().enumerate() {
            assert!(table.is_empty() || table.len().is_power_of_two());
            if t == 1 {
                assert_eq!(d.rehash_idx.is_some(), !table.is_empty());
            }
            let mut count = 0;
            for (i, head) in table.iter().enumerate() {
                if t == 0 && d.rehash_idx.is_some_and(|r| i < r) {
                    assert!(head.is_none(), "bucket {i} below the rehash index");
                }
                let mut cur = head.as_deref();
                while let Some(node) = cur {
                    assert_eq!(bucket_index(d.hash(&node.key), table.len()), i);
                    key_heap += node.key.heap_size();
                    count += 1;
                    cur = node.next.as_deref();
                }
            }
            assert_eq!(count, d.used[t], "used count of table {t}");
        }
        if let Some(idx) = d.rehash_idx {
            assert!(idx < d.buckets[0].len());
            assert!(d.used[0] > 0);
        }
        assert_eq!(key_heap, d.key_heap);
        assert_eq!(d.iter().len(), d.len());
        assert_eq!(d.iter().count(), d.len());
    }

    fn contents<V: Clone>(d: &Dict<V>) -> HashMap<Vec<u8>, V> {
        d.iter().map(|(k, v)| (k.to_vec(), v.clone())).collect()
    }

    fn full_scan<V>(d: &Dict<V>) -> Vec<Vec<u8>> {
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = d.scan(cursor, |k, _| seen.push(k.to_vec()));
            if cursor == 0 {
                return seen;
            }
        }
    }

    #[test]
    fn basic_operations() {
        let mut d = Dict::new();
        assert!(d.is_empty());
        assert_eq!(d.get(b"a"), None);
        assert_eq!(d.remove(b"a"), None);
        assert_eq!(d.table_bytes(), 0);
        assert_eq!(d.insert(b"a", 1), None);
        assert_eq!(d.insert(b"b", 2), None);
        assert_eq!(d.insert(b"a", 3), Some(1));
        assert_eq!(d.len(), 2);
        assert_eq!(d.get(b"a"), Some(&3));
        assert_eq!(d.get_key_value(b"b"), Some((&b"b"[..], &2)));
        assert!(d.contains_key(b"b"));
        assert!(!d.contains_key(b"c"));
        *d.get_mut(b"b").unwrap() += 10;
        assert_eq!(d.get(b"b"), Some(&12));
        assert_eq!(d.get_mut(b"c"), None);
        let (v, inserted) = d.get_or_insert_with(b"c", || 7);
        assert!(inserted);
        *v += 1;
        let (v, inserted) = d.get_or_insert_with(b"c", || unreachable!());
        assert!(!inserted);
        assert_eq!(*v, 8);
        let (k, v) = d.remove_entry(b"c").unwrap();
        assert_eq!((k.as_slice(), v), (&b"c"[..], 8));
        assert_eq!(d.remove(b"a"), Some(3));
        assert_eq!(d.len(), 1);
        // Empty and long keys are ordinary keys.
        let long = vec![b'z'; 100];
        d.insert(b"", 0);
        d.insert(&long, 100);
        assert_eq!(d.get(b""), Some(&0));
        assert_eq!(d.get(&long), Some(&100));
        assert_eq!(d.get(&long[..99]), None);
        check_invariants(&d);
        d.clear();
        assert!(d.is_empty());
        assert_eq!(d.table_bytes(), 0);
        assert_eq!(d.get(b"b"), None);
        d.insert(b"again", 1);
        assert_eq!(d.get(b"again"), Some(&1));
        let dbg = format!("{d:?}");
        assert_eq!(dbg, r#"{"again": 1}"#);
    }

    #[test]
    fn matches_hashmap_model_under_random_operations() {
        let mut next = rng(1);
        let mut d: Dict<u64> = Dict::new();
        let mut model: HashMap<Vec<u8>, u64> = HashMap::new();
        let ops = scaled(100_000);
        // The key space breathes between small and large so the table grows
        // and shrinks repeatedly, with operations landing mid-rehash.
        for op in 0..ops {
            let phase = (op / (ops / 8).max(1)) % 2;
            let space = if phase == 0 { 4000 } else { 300 };
            let k = varied_key(next() % space);
            let r = next();
            match r % 100 {
                0..=34 => assert_eq!(d.insert(&k, r), model.insert(k, r)),
                35..=49 => assert_eq!(d.get(&k), model.get(&k)),
                50..=54 => {
                    let got = d.get_mut(&k).map(|v| {
                        *v ^= 1;
                        *v
                    });
                    let want = model.get_mut(&k).map(|v| {
                        *v ^= 1;
                        *v
                    });
                    assert_eq!(got, want);
                }
                55..=59 => {
                    let (v, inserted) = d.get_or_insert_with(&k, || r);
                    *v = v.wrapping_add(1);
                    let was_absent = !model.contains_key(&k);
                    let m = model.entry(k).or_insert(r);
                    *m = m.wrapping_add(1);
                    assert_eq!(inserted, was_absent);
                    assert_eq!(*v, *m);
                }
                60..=64 => assert_eq!(d.contains_key(&k), model.contains_key(&k)),
                65..=67 => assert_eq!(
                    d.get_key_value(&k),
                    model.get_key_value(&k).map(|(k, v)| (&k[..], v))
                ),
                68..=89 => {
                    if phase == 1 || r.is_multiple_of(3) {
                        assert_eq!(d.remove(&k), model.remove(&k));
                    }
                }
                90..=97 => {
                    let got = d.remove_entry(&k).map(|(k, v)| (k.into_vec(), v));
                    assert_eq!(got, model.remove_entry(&k));
                }
                98 => {
                    d.rehash_step((r % 8) as usize);
                }
                _ => {
                    if r.is_multiple_of(50) {
                        let cut = next() % 4;
                        d.retain(|k, v| (k.len() as u64 + *v) % 4 != cut);
                        model.retain(|k, v| (k.len() as u64 + *v) % 4 != cut);
                    } else if r.is_multiple_of(97) {
                        d.clear();
                        model.clear();
                    }
                }
            }
            assert_eq!(d.len(), model.len());
            if op % scaled(1000) == 0 {
                check_invariants(&d);
                assert_eq!(contents(&d), model);
            }
        }
        check_invariants(&d);
        assert_eq!(contents(&d), model);
    }

    #[test]
    fn grows_at_load_one_and_shrinks_below_one_eighth() {
        let mut d = Dict::new();
        d.insert(b"first", 0u32);
        assert_eq!(d.buckets[0].len(), MIN_BUCKETS);
        for i in 1..4 {
            d.insert(&key(i), 0);
        }
        assert!(d.rehash_idx.is_none(), "4 entries fit 4 buckets");
        d.insert(&key(4), 0);
        assert_eq!(d.buckets[1].len(), 8, "the 5th insert starts a doubling");
        while d.rehash_step(1) {}
        assert_eq!(d.buckets[0].len(), 8);
        for i in 5..1024 {
            d.insert(&key(i), 0);
        }
        while d.rehash_step(1) {}
        assert_eq!(d.buckets[0].len(), 1024);
        // Removing down to 1024/8 does not shrink; one more does.
        d.remove(b"first");
        for i in 128..1024 {
            d.remove(&key(i));
        }
        assert_eq!(d.len(), 127);
        assert!(d.rehash_idx.is_some());
        assert_eq!(d.buckets[1].len(), 128);
        while d.rehash_step(1) {}
        check_invariants(&d);
        for i in 0..128 {
            d.remove(&key(i));
        }
        while d.rehash_step(1) {}
        assert!(d.is_empty());
        assert_eq!(d.buckets[0].len(), MIN_BUCKETS);
        assert_eq!(d.table_bytes(), MIN_BUCKETS * 8);
    }

    #[test]
    fn rehash_is_incremental_and_bounded() {
        let mut d = Dict::new();
        let n = scaled(4096) as u64;
        for i in 0..n {
            d.insert(&key(i), i);
        }
        while d.rehash_step(1) {}
        let before = d.buckets[0].len();
        // Push it to the growth threshold, then one more insert.
        let mut i = n;
        while d.len() < before {
            d.insert(&key(i), i);
            i += 1;
        }
        assert!(d.rehash_idx.is_none());
        d.insert(&key(i), i);
        assert!(d.rehash_idx.is_some());
        // Each mutating call moves at most one bucket's chain.
        let moved_before = d.used[1];
        d.insert(&key(i + 1), i + 1);
        assert!(
            d.used[1] - moved_before <= 1 + 8,
            "one chain plus the new entry"
        );
        // Reads work in both tables while the migration is in flight.
        for j in 0..=i + 1 {
            assert_eq!(d.get(&key(j)), Some(&j));
        }
        check_invariants(&d);
        let mut steps = 0;
        while d.rehash_step(1) {
            steps += 1;
            if steps % 97 == 0 {
                check_invariants(&d);
            }
        }
        assert!(steps > 1, "the migration took more than one step");
        assert!(!d.rehash_step(1));
        assert_eq!(d.buckets[0].len(), before * 2);
        check_invariants(&d);
    }

    fn max_chain<V>(d: &Dict<V>) -> usize {
        d.buckets
            .iter()
            .flat_map(|t| t.iter())
            .map(chain_len)
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn inserts_during_a_drastic_shrink_keep_chains_short() {
        let mut d = seeded(9);
        let n = scaled(1 << 16) as u64;
        // Fill to just past a growth threshold, then delete all but one
        // entry while that growth migrates: the table ends up huge and
        // nearly empty, and the shrink that follows has to walk it.
        for i in 0..=n {
            d.insert(&key(i), i);
        }
        for i in 1..=n {
            d.remove(&key(i));
        }
        assert_eq!(d.len(), 1);
        let mut worst = 0;
        for i in 0..n {
            d.insert(&transient(i), i);
            if i % 64 == 0 || i < 4096 {
                worst = worst.max(max_chain(&d));
            }
        }
        assert!(worst <= 16, "a chain reached {worst} entries");
        check_invariants(&d);
    }

    #[test]
    fn empty_visits_bound_a_step_over_a_sparse_table() {
        let mut d = Dict::new();
        let n = scaled(8192) as u64;
        for i in 0..n {
            d.insert(&key(i), ());
        }
        while d.rehash_step(1) {}
        // Keep a single entry: the shrink has one chain to move but many
        // empty buckets to skip, ten per unit of budget.
        let keep = key(n - 1);
        for i in 0..n - 1 {
            d.remove(&key(i));
            while d.rehash_idx.is_some() && d.len() > 1 {
                d.rehash_step(usize::MAX);
            }
        }
        assert_eq!(d.len(), 1);
        if d.rehash_idx.is_some() {
            let idx = d.rehash_idx.unwrap();
            d.rehash_step(1);
            if let Some(after) = d.rehash_idx {
                assert!(after - idx <= EMPTY_VISITS_PER_STEP + 1);
            }
            while d.rehash_step(1) {}
        }
        assert!(d.contains_key(&keep));
        assert_eq!(d.buckets[0].len(), MIN_BUCKETS);
    }

    #[test]
    fn scan_visits_everything_exactly_once_when_undisturbed() {
        let mut d = Dict::new();
        let n = scaled(5000) as u64;
        for i in 0..n {
            d.insert(&key(i), i);
        }
        for rehashing in [true, false] {
            if !rehashing {
                while d.rehash_step(1) {}
            } else {
                // Grow to the threshold and stop in the middle.
                while d.rehash_step(1) {}
                let mut i = n;
                while d.rehash_idx.is_none() {
                    d.insert(&key(i), i);
                    i += 1;
                }
                d.rehash_step(d.buckets[0].len() / 4);
                assert!(d.rehash_idx.is_some());
            }
            let seen = full_scan(&d);
            let unique: HashSet<_> = seen.iter().cloned().collect();
            assert_eq!(seen.len(), d.len());
            assert_eq!(unique.len(), d.len());
        }
        assert_eq!(Dict::<()>::new().scan(0, |_, _| panic!()), 0);
        assert_eq!(Dict::<()>::new().scan(12345, |_, _| panic!()), 0);
    }

    /// Runs one SCAN over `stable` keys while `disturb` mutates the table
    /// between every pair of calls, and checks every stable key was seen.
    fn scan_under(
        seed: u64,
        stable: u64,
        mut disturb: impl FnMut(&mut Dict<u64>, &mut dyn FnMut() -> u64, usize),
    ) {
        let mut next = rng(seed);
        let mut d = Dict::new();
        for i in 0..stable {
            d.insert(&key(i), i);
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut calls = 0;
        loop {
            cursor = d.scan(cursor, |k, _| {
                seen.insert(k.to_vec());
            });
            calls += 1;
            if cursor == 0 {
                break;
            }
            disturb(&mut d, &mut next, calls);
            assert!(calls < 10_000_000, "scan does not terminate");
        }
        for i in 0..stable {
            assert!(seen.contains(&key(i)), "stable key {i} missed");
            assert_eq!(d.get(&key(i)), Some(&i));
        }
        check_invariants(&d);
    }

    fn transient(i: u64) -> Vec<u8> {
        format!("transient:{i}").into_bytes()
    }

    #[test]
    fn scan_guarantee_under_growth() {
        let mut counter = 0;
        let cap = scaled(32_000) as u64;
        scan_under(2, scaled(2000) as u64, |d, _, _| {
            // Grows the table 16-fold, four doublings, early in the
            // iteration. (Unbounded growth would never let the cursor finish:
            // each call covers 1/size of the cursor space.)
            for _ in 0..40 {
                if counter < cap {
                    d.insert(&transient(counter), 0);
                    counter += 1;
                }
            }
        });
    }

    #[test]
    fn scan_guarantee_under_shrink() {
        let mut next = rng(3);
        let mut d = Dict::new();
        let stable = scaled(500) as u64;
        let filler = scaled(60_000) as u64;
        for i in 0..stable {
            d.insert(&key(i), i);
        }
        for i in 0..filler {
            d.insert(&transient(i), 0);
        }
        while d.rehash_step(1) {}
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut removed = 0;
        loop {
            cursor = d.scan(cursor, |k, _| {
                seen.insert(k.to_vec());
            });
            if cursor == 0 {
                break;
            }
            // Deletes the filler gradually: several shrinks happen mid-scan.
            for _ in 0..(next() % 200) {
                if removed < filler {
                    d.remove(&transient(removed));
                    removed += 1;
                }
            }
        }
        assert!(removed > filler / 2, "the table shrank during the scan");
        for i in 0..stable {
            assert!(seen.contains(&key(i)), "stable key {i} missed");
        }
        check_invariants(&d);
    }

    #[test]
    fn scan_guarantee_under_churn() {
        for seed in 0..if cfg!(miri) { 1 } else { 6 } {
            let mut live: Vec<u64> = Vec::new();
            let mut counter = 0;
            let (mut grew, mut shrank, mut mid_rehash) = (false, false, false);
            let mut size = 0;
            let mut growing = true;
            scan_under(100 + seed, scaled(300) as u64, |d, next, _| {
                let now = d.buckets[0].len();
                grew |= size != 0 && now > size;
                shrank |= now < size;
                mid_rehash |= d.rehash_idx.is_some();
                size = now;
                // Bursts of inserts and deletes that swing the table between
                // a few hundred entries and ten thousand, so it grows and
                // shrinks by large factors while the cursor advances.
                let r = next();
                let burst = (r % scaled(150) as u64) as usize;
                if live.len() >= scaled(10_000) || (live.is_empty() && !growing) || r >> 56 == 0 {
                    growing = !growing;
                }
                if growing {
                    for _ in 0..burst {
                        d.insert(&transient(counter), 0);
                        live.push(counter);
                        counter += 1;
                    }
                } else {
                    for _ in 0..burst.min(live.len()) {
                        let at = (next() % live.len() as u64) as usize;
                        let t = live.swap_remove(at);
                        assert_eq!(d.remove(&transient(t)), Some(0));
                    }
                }
                if (r >> 30) % 5 == 0 {
                    d.rehash_step((r >> 40) as usize % 64);
                }
            });
            assert!(cfg!(miri) || (grew && shrank && mid_rehash));
        }
    }

    #[test]
    fn random_entry_reaches_every_entry() {
        let mut next = rng(4);
        let mut d = seeded(4);
        assert!(d.random_entry(&mut next).is_none());
        let n = 200;
        for i in 0..n {
            d.insert(&key(i), i);
        }
        for phase in 0..2 {
            if phase == 1 {
                // Again mid-rehash: positions come from both tables.
                let mut i = n;
                while d.rehash_idx.is_none() {
                    d.insert(&key(i), i);
                    i += 1;
                }
            }
            let mut seen = HashSet::new();
            let mut draws = 0;
            while seen.len() < d.len() {
                let (k, v) = d.random_entry(&mut next).unwrap();
                assert_eq!(d.get(k), Some(v));
                seen.insert(k.to_vec());
                draws += 1;
                assert!(draws < 100 * d.len(), "random_entry misses entries");
            }
        }
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn random_entry_is_close_to_uniform() {
        let mut next = rng(5);
        let mut d = seeded(5);
        let n = 256u64;
        for i in 0..n {
            d.insert(&key(i), i);
        }
        let draws = 400 * n;
        let mut counts = vec![0u32; n as usize];
        for _ in 0..draws {
            let (_, v) = d.random_entry(&mut next).unwrap();
            counts[*v as usize] += 1;
        }
        // Chi-square against the uniform distribution, 255 degrees of
        // freedom: the 99.9th percentile is about 330. Picking a random
        // bucket and then a random chain element fails this badly.
        let expected = draws as f64 / n as f64;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        assert!(chi2 < 330.0, "chi-square {chi2}");
    }

    #[test]
    fn random_entry_on_a_sparse_table_mid_shrink() {
        let mut next = rng(6);
        let mut d = seeded(6);
        let n = scaled(20_000) as u64;
        for i in 0..n {
            d.insert(&key(i), i);
        }
        while d.rehash_step(1) {}
        for i in 0..n - 3 {
            d.remove(&key(i));
        }
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            let (k, _) = d.random_entry(&mut next).unwrap();
            seen.insert(k.to_vec());
        }
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn sample_returns_live_entries() {
        let mut next = rng(7);
        let mut d = seeded(7);
        let mut count = 0;
        d.sample(5, &mut next, |_, _: &u64| count += 1);
        assert_eq!(count, 0);
        let n = scaled(10_000) as u64;
        for i in 0..n {
            d.insert(&key(i), i);
        }
        for rehashing in [false, true] {
            if rehashing {
                let mut i = n;
                while d.rehash_idx.is_none() {
                    d.insert(&key(i), i);
                    i += 1;
                }
            }
            for want in [1, 5, 16, 100] {
                let mut got = Vec::new();
                d.sample(want, &mut next, |k, v| {
                    assert_eq!(d.get(k), Some(v));
                    got.push(k.to_vec());
                });
                assert_eq!(got.len(), want);
                let unique: HashSet<_> = got.iter().collect();
                assert_eq!(unique.len(), want, "a large table yields distinct samples");
            }
        }
        // Asking for more than there is yields what there is.
        let mut small = Dict::new();
        for i in 0..3 {
            small.insert(&key(i), i);
        }
        let mut got = 0;
        small.sample(10, &mut next, |_, _| got += 1);
        assert!(got <= 3 && got > 0);
    }

    #[test]
    fn sample_is_spread_over_the_table() {
        let mut next = rng(8);
        let mut d = seeded(8);
        let n = scaled(2000) as u64;
        for i in 0..n {
            d.insert(&key(i), i);
        }
        let mut seen = HashSet::new();
        for _ in 0..scaled(2000) {
            d.sample(5, &mut next, |k, _| {
                seen.insert(k.to_vec());
            });
        }
        assert!(seen.len() as u64 > n / 2, "saw only {} of {n}", seen.len());
    }

    #[test]
    fn retain_filters_and_compacts() {
        let mut d = Dict::new();
        let n = scaled(10_000) as u64;
        for i in 0..n {
            d.insert(&varied_key(i), i);
        }
        // Mid-rehash on purpose: retain must cover both tables.
        d.insert(b"extra", 0);
        d.retain(|_, v| {
            *v += 1;
            *v % 100 == 0
        });
        assert!(d.rehash_idx.is_none());
        assert_eq!(d.len(), (n / 100) as usize);
        for (_, v) in d.iter() {
            assert_eq!(v % 100, 0);
        }
        assert!(d.buckets[0].len() <= (2 * d.len().next_power_of_two()).max(MIN_BUCKETS));
        check_invariants(&d);
        d.retain(|_, _| false);
        assert!(d.is_empty());
        assert_eq!(d.buckets[0].len(), MIN_BUCKETS);
        check_invariants(&d);
    }

    #[test]
    fn iter_covers_both_tables() {
        let mut d = Dict::new();
        assert_eq!(d.iter().next(), None);
        let n = scaled(3000) as u64;
        for i in 0..n {
            d.insert(&key(i), i);
        }
        while d.rehash_step(1) {}
        let mut i = n;
        while d.rehash_idx.is_none() {
            d.insert(&key(i), i);
            i += 1;
        }
        d.rehash_step(d.buckets[0].len() / 4);
        assert!(d.used[0] > 0 && d.used[1] > 0);
        let mut it = d.iter();
        assert_eq!(it.len(), d.len());
        it.next();
        assert_eq!(it.size_hint(), (d.len() - 1, Some(d.len() - 1)));
        let all: HashSet<u64> = (&d).into_iter().map(|(_, v)| *v).collect();
        assert_eq!(all, (0..i).collect());
    }

    /// Counts drops so that tests can check every value is dropped once.
    struct Tracked(Rc<Cell<usize>>);

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn values_are_dropped_exactly_once() {
        let drops = Rc::new(Cell::new(0));
        let n = scaled(2000);
        {
            let mut d = Dict::new();
            for i in 0..n as u64 {
                d.insert(&key(i), Tracked(drops.clone()));
            }
            // Replacing returns the old value to the caller.
            drop(d.insert(&key(0), Tracked(drops.clone())));
            assert_eq!(drops.get(), 1);
            drop(d.remove(&key(1)));
            assert_eq!(drops.get(), 2);
            d.retain(|k, _| k != &key(2)[..]);
            assert_eq!(drops.get(), 3);
            d.clear();
            assert_eq!(drops.get(), n + 1);
            for i in 0..n as u64 {
                d.insert(&key(i), Tracked(drops.clone()));
            }
            // Dropped mid-rehash.
            assert!(d.rehash_idx.is_some() || d.len() == n);
        }
        assert_eq!(drops.get(), 2 * n + 1);
    }

    #[test]
    fn panicking_make_leaves_the_table_unchanged() {
        let mut d = Dict::new();
        d.insert(b"a", 1);
        let result = catch_unwind(AssertUnwindSafe(|| {
            d.get_or_insert_with(b"b", || panic!("make failed"));
        }));
        assert!(result.is_err());
        assert_eq!(d.len(), 1);
        assert!(!d.contains_key(b"b"));
        check_invariants(&d);
    }

    #[test]
    fn long_chains_drop_without_recursion() {
        // Far deeper than a recursive drop could survive on a test thread's
        // stack; built by hand because a good hash never makes such chains.
        let depth = if cfg!(miri) { 2_000 } else { 1_000_000 };
        let build = || {
            let mut d: Dict<u64> = Dict::new();
            d.buckets[0] = alloc_buckets(MIN_BUCKETS);
            let mut head = None;
            for i in 0..depth as u64 {
                head = Some(Box::new(Node {
                    next: head,
                    key: CompactBytes::from_slice(&key(i)),
                    value: i,
                }));
            }
            d.buckets[0][0] = head;
            d.used[0] = depth;
            d
        };
        drop(build());
        let mut d = build();
        d.clear();
        assert!(d.is_empty());
    }

    #[test]
    fn alloc_buckets_yields_empty_chains() {
        for len in [0, 1, 4, 1024] {
            let buckets = alloc_buckets::<String>(len);
            assert_eq!(buckets.len(), len);
            assert!(buckets.iter().all(Option::is_none));
        }
        // And the zeroed slots behave like any `None` when written.
        let mut buckets = alloc_buckets::<String>(4);
        buckets[2] = Some(Box::new(Node {
            next: None,
            key: CompactBytes::from_slice(b"k"),
            value: "v".to_string(),
        }));
        drop_chains(&mut buckets);
    }

    #[test]
    fn cursor_increment_is_reverse_binary() {
        // With mask 0b111 the buckets are visited as 0,4,2,6,1,5,3,7.
        let mut order = Vec::new();
        let mut c = 0;
        loop {
            order.push(c);
            c = next_cursor(c, 0b111);
            if c == 0 {
                break;
            }
        }
        assert_eq!(order, [0, 4, 2, 6, 1, 5, 3, 7]);
    }

    #[test]
    fn table_bytes_accounts_nodes_buckets_and_key_overflow() {
        let mut d = Dict::new();
        d.insert(&[b'a'; 23], [0u64; 3]);
        let inline = d.table_bytes();
        assert_eq!(inline, MIN_BUCKETS * 8 + size_of::<Node<[u64; 3]>>());
        d.insert(&[b'b'; 40], [0u64; 3]);
        assert_eq!(d.table_bytes(), inline + size_of::<Node<[u64; 3]>>() + 40);
        d.remove(&[b'b'; 40]);
        assert_eq!(d.table_bytes(), inline);
    }

    /// Prints the memory figures; `cargo test -- --nocapture` shows them.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn memory_per_entry_at_one_million() {
        type V = [u64; 3];
        let node = size_of::<Node<V>>();
        assert_eq!(node, 56, "next + 24-byte key + 24-byte value");
        let mut d: Dict<V> = Dict::new();
        let n = 1_000_000u64;
        for i in 0..n {
            let k = format!("{i:016}");
            d.insert(k.as_bytes(), [i; 3]);
        }
        while d.rehash_step(1024) {}
        let per_entry = d.table_bytes() as f64 / n as f64;
        println!(
            "size_of::<Node<[u64; 3]>>() = {node}; {} buckets; table_bytes/entry = {per_entry:.1}",
            d.buckets[0].len()
        );
        assert!(per_entry < 100.0);
    }
}
