//! One database (SELECT index) of one shard's partition.
//!
//! Keys live in a [`Dict`] of [`Entry`]; an entry carries its value, its
//! absolute expiry and its access clock, so a lookup touches one node.
//! Keys with a TTL are also listed in `volatile`, a key-only dict that the
//! active expiry cycle samples: its cost is proportional to the number of
//! keys that can expire, not to the size of the keyspace, and keys never read
//! again are still reclaimed within a few cycles. Eviction samples the same
//! two dicts (all keys, or only those with a TTL); see shard::evict.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;

use crate::commands::BlockKind;
use crate::config::KeyspaceEvents;
use crate::shard::evict::{self, Touch};
use crate::types::bloom::BloomFilter;
use crate::types::compact::CompactBytes;
use crate::types::dict::Dict;
use crate::types::hash::HashValue;
use crate::types::list::ListValue;
use crate::types::set::SetValue;
use crate::types::zset::ZSetValue;

/// A value of any type. New families add variants here.
#[derive(Debug, Clone)]
pub enum Value {
    /// A string that is a canonical 64-bit integer (Redis's `int` encoding).
    Int(i64),
    /// Any other string. Whether Redis would call it `raw` or `embstr` is
    /// kept on the entry ([`Entry::raw`]): a flag here would make every
    /// value 32 bytes instead of 24, and every key pay for it.
    Str(CompactBytes),
    /// Held directly, not boxed: a box would cost every hash one more
    /// allocation (see types/hash.rs).
    Hash(HashValue),
    /// Held directly, not boxed: a small intset then lives inside the
    /// value itself (see types/set.rs).
    Set(SetValue),
    /// Held directly, not boxed: a small list is then one allocation
    /// (see types/list.rs).
    List(ListValue),
    /// A bloom filter (RedisBloom's `MBbloom--`, see types/bloom.rs); boxed
    /// because filters are rare and large.
    Bloom(Box<BloomFilter>),
    /// Held directly, not boxed: a small sorted set is then one allocation
    /// (see types/zset.rs).
    ZSet(ZSetValue),
}

/// Strings up to this length are `embstr` in Redis when created whole.
pub const EMBSTR_MAX: usize = 44;

impl Value {
    /// A string value as SET stores it: an integer when the bytes are a
    /// canonical integer of at most 20 characters, else embstr/raw by length.
    pub fn from_bytes(data: &[u8]) -> Value {
        if data.len() <= 20 {
            if let Some(v) = crate::util::num::parse_i64(data) {
                return Value::Int(v);
            }
        }
        Value::Str(CompactBytes::from_slice(data))
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::List(_) => "list",
            Value::Bloom(_) => "MBbloom--",
            Value::ZSet(_) => "zset",
        }
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Str(_))
    }

    /// The string's bytes, formatting an integer into `scratch`.
    pub fn as_bytes<'a>(&'a self, scratch: &'a mut itoa::Buffer) -> Option<&'a [u8]> {
        match self {
            Value::Int(v) => Some(scratch.format(*v).as_bytes()),
            Value::Str(data) => Some(data.as_slice()),
            Value::Hash(_) | Value::Set(_) | Value::List(_) | Value::Bloom(_) => None,
            Value::ZSet(_) => None,
        }
    }

    /// The kind of blocked client a key given this value can serve.
    pub fn block_kind(&self) -> Option<BlockKind> {
        match self {
            Value::Int(_) | Value::Str(_) | Value::Hash(_) | Value::Set(_) => None,
            Value::List(_) => Some(BlockKind::List),
            Value::ZSet(_) => Some(BlockKind::ZSet),
            Value::Bloom(_) => None,
        }
    }

    /// Heap bytes this value owns beyond its inline size.
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Int(_) => 0,
            Value::Str(data) => data.heap_size(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::List(l) => l.heap_size(),
            Value::Bloom(b) => b.heap_size(),
            Value::ZSet(z) => z.heap_size(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry in Unix milliseconds; 0 means none.
    pub expire_at: u64,
    /// The access clock (10 ms ticks of server uptime, wrapping; see
    /// shard::evict) when the key was last read or written: what OBJECT
    /// IDLETIME, LRU, MRU and LFU decay look at. Under the FIFO policies
    /// reads leave it alone, so it is the time the value was stored.
    pub access: u32,
    /// LFU's logarithmic access counter (Redis's 8-bit one, starting at
    /// [`evict::LFU_INIT_VAL`]), in a byte of its own rather than sharing
    /// the clock's bits as in Redis: the entry had the room, and under LFU
    /// the clock still serves as tie-break and decay time. Under the other
    /// policies it only records whether the key was used since its value
    /// was stored (LRU's probation, see shard::evict).
    pub freq: u8,
    /// The string was built by modification (APPEND, SETRANGE), which Redis
    /// reports as `raw` even when short.
    pub raw: bool,
}

impl Entry {
    pub fn new(value: Value) -> Entry {
        Entry {
            value,
            expire_at: 0,
            access: 0,
            freq: evict::LFU_INIT_VAL,
            raw: false,
        }
    }

    /// Replaces the value, keeping TTL and access clock.
    pub fn set_value(&mut self, value: Value) {
        self.value = value;
        self.raw = false;
    }

    /// Replaces the value with a string built by modification (`raw`).
    pub fn set_raw_value(&mut self, value: Value) {
        self.value = value;
        self.raw = true;
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.value {
            Value::Int(_) => "int",
            Value::Str(d) if self.raw || d.len() > EMBSTR_MAX => "raw",
            Value::Str(_) => "embstr",
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::List(l) => l.encoding(),
            // Redis reports every module value's encoding as "raw".
            Value::Bloom(_) => "raw",
            Value::ZSet(z) => z.encoding(),
        }
    }
}

#[derive(Default)]
pub struct Db {
    keys: Dict<Entry>,
    volatile: Dict<()>,
    expire_cursor: u64,
    /// Keys removed because their TTL passed (lazily or actively).
    pub expired: u64,
    /// Keys removed by eviction to stay under `maxmemory`.
    pub evicted: u64,
    /// Under an MRU policy: the keys read, written or stored last, most
    /// recent at the back, for eviction to start from.
    /// Random sampling alone would rarely find the one key just used.
    recent: VecDeque<CompactBytes>,
    /// Whether `insert` records into `recent` (set while MRU is in force).
    track_recent: bool,
    /// Keys that blocked clients wait on, each with its waiters' client ids
    /// in arrival order. It belongs to the database index, not to the data:
    /// FLUSHDB and SWAPDB leave it in place.
    pub blocked: HashMap<Bytes, VecDeque<u64>>,
    /// Keys of `blocked` that were given a value a waiter may take, to be
    /// served after the current command.
    pub ready: Vec<Bytes>,
    /// The `notify-keyspace-events` classes in force (set by the owning
    /// thread), and the events raised since they were last published.
    pub notify: u32,
    pub events: Vec<KeyEvent>,
    /// Keys WATCHed by clients, with each watcher's mark. Like `blocked`,
    /// it belongs to the database index: FLUSHDB and SWAPDB touch the
    /// marks and leave them in place.
    watched: HashMap<Bytes, Vec<WatchMark>>,
}

/// One client's WATCH of one key.
#[derive(Debug, Clone, Copy)]
struct WatchMark {
    client: u64,
    /// The key was changed since the WATCH: the client's EXEC must fail.
    dirty: bool,
    /// The key had already expired (but was not yet deleted) when it was
    /// watched: its deletion by expiry changes nothing the client saw.
    expired: bool,
}

/// A keyspace notification waiting to be published. `seq` orders the
/// events one command raises across databases and partitions.
#[derive(Debug, Clone)]
pub struct KeyEvent {
    pub seq: u64,
    pub event: &'static str,
    pub key: Bytes,
}

/// How many recently used keys MRU eviction remembers per database: enough
/// for the bursts of evictions one write can need.
const RECENT_KEYS: usize = 32;

static EVENT_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Db {
    pub fn new() -> Db {
        Db::default()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn volatile_len(&self) -> usize {
        self.volatile.len()
    }

    /// Removes `key` if its TTL has passed; true if it did.
    fn expire_if_due(&mut self, key: &[u8], now_ms: u64) -> bool {
        if self.volatile.is_empty() {
            return false;
        }
        let due = match self.keys.get(key) {
            Some(e) => e.expire_at != 0 && e.expire_at <= now_ms,
            None => false,
        };
        if due {
            self.remove(key);
            self.expired += 1;
            self.notify_event(KeyspaceEvents::EXPIRED, "expired", key);
        }
        due
    }

    /// Raises keyspace notification `event` of `class` on `key`, if those
    /// notifications are enabled.
    pub fn notify_event(&mut self, class: u32, event: &'static str, key: &[u8]) {
        // Every change to a key raises an event, whether or not anyone
        // listens: the one hook WATCH needs (Redis's signalModifiedKey).
        if !self.watched.is_empty() {
            self.touch_watched(key);
        }
        let on = KeyspaceEvents::KEYSPACE | KeyspaceEvents::KEYEVENT;
        if self.notify & class != 0 && self.notify & on != 0 {
            self.events.push(KeyEvent {
                seq: EVENT_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                event,
                key: Bytes::copy_from_slice(key),
            });
        }
    }

    /// The live entry for `key` (expired ones are deleted on the way).
    pub fn get(&mut self, key: &[u8], now_ms: u64) -> Option<&mut Entry> {
        self.expire_if_due(key, now_ms);
        self.keys.get_mut(key)
    }

    /// [`Db::get`] for a command that uses the key: its access clock and
    /// LFU counter move as the eviction policy wants (Redis's lookupKey
    /// without LOOKUP_NOTOUCH).
    pub fn get_touched(&mut self, key: &[u8], now_ms: u64, touch: &Touch) -> Option<&mut Entry> {
        self.expire_if_due(key, now_ms);
        if touch.tracks_recent() {
            self.track_recent = true;
            if self.keys.contains_key(key) {
                self.note_recent(key);
            }
        }
        let e = self.keys.get_mut(key)?;
        touch.apply(e);
        Some(e)
    }

    fn note_recent(&mut self, key: &[u8]) {
        if self.recent.back().is_some_and(|k| k.as_slice() == key) {
            return;
        }
        if self.recent.len() == RECENT_KEYS {
            self.recent.pop_front();
        }
        self.recent.push_back(CompactBytes::from_slice(key));
    }

    /// The live entry for `key` without deleting anything (for read-only
    /// peeks that must not write, such as COMMAND GETKEYS-like paths).
    pub fn peek(&self, key: &[u8], now_ms: u64) -> Option<&Entry> {
        self.keys
            .get(key)
            .filter(|e| e.expire_at == 0 || e.expire_at > now_ms)
    }

    pub fn contains(&mut self, key: &[u8], now_ms: u64) -> bool {
        self.get(key, now_ms).is_some()
    }

    /// Inserts or replaces the entry for `key`, keeping the volatile index in step.
    pub fn insert(&mut self, key: &[u8], entry: Entry) -> Option<Entry> {
        if !self.blocked.is_empty() && entry.value.block_kind().is_some() {
            self.signal_ready(key);
        }
        let volatile = entry.expire_at != 0;
        if self.track_recent {
            self.note_recent(key);
        }
        let old = self.keys.insert(key, entry);
        if old.is_none() && self.notify != 0 {
            self.notify_event(KeyspaceEvents::NEW, "new", key);
        }
        let was_volatile = old.as_ref().is_some_and(|e| e.expire_at != 0);
        if volatile && !was_volatile {
            self.volatile.insert(key, ());
        } else if !volatile && was_volatile {
            self.volatile.remove(key);
        }
        old
    }

    /// Replaces the value of `key`, keeping its TTL if it has one, or
    /// creates it without a TTL.
    pub fn set_keep_ttl(&mut self, key: &[u8], value: Value) {
        match self.keys.get_mut(key) {
            Some(e) => e.set_value(value),
            None => {
                self.keys.insert(key, Entry::new(value));
            }
        }
    }

    /// Notes that `key` may now serve a client blocked on it.
    pub fn signal_ready(&mut self, key: &[u8]) {
        if let Some((k, _)) = self.blocked.get_key_value(key) {
            if !self.ready.iter().any(|r| r == key) {
                self.ready.push(k.clone());
            }
        }
    }

    /// Exchanges the data of two databases (SWAPDB): keys, TTLs and expiry
    /// progress move, blocked clients stay with their index and are offered
    /// whatever their keys now hold.
    pub fn swap_data(a: &mut Db, b: &mut Db) {
        a.touch_all_watched(Some(&b.keys));
        b.touch_all_watched(Some(&a.keys));
        std::mem::swap(&mut a.keys, &mut b.keys);
        std::mem::swap(&mut a.volatile, &mut b.volatile);
        std::mem::swap(&mut a.expire_cursor, &mut b.expire_cursor);
        std::mem::swap(&mut a.recent, &mut b.recent);
        for db in [a, b] {
            let waiting: Vec<Bytes> = db.blocked.keys().cloned().collect();
            for k in waiting {
                if db
                    .keys
                    .get(&k)
                    .is_some_and(|e| e.value.block_kind().is_some())
                {
                    db.signal_ready(&k);
                }
            }
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let old = self.keys.remove(key)?;
        if old.expire_at != 0 {
            self.volatile.remove(key);
        }
        Some(old)
    }

    /// Removes `key` if it is live; an entry whose TTL has passed is expired
    /// (and counted as such) instead, and `None` returned as if it were absent.
    pub fn remove_live(&mut self, key: &[u8], now_ms: u64) -> Option<Entry> {
        if self.expire_if_due(key, now_ms) {
            return None;
        }
        self.remove(key)
    }

    /// Sets or clears (`at == 0`) the expiry of an existing key; false if absent.
    pub fn set_expire(&mut self, key: &[u8], at: u64) -> bool {
        let Some(e) = self.keys.get_mut(key) else {
            return false;
        };
        let was = e.expire_at != 0;
        e.expire_at = at;
        if at != 0 && !was {
            self.volatile.insert(key, ());
        } else if at == 0 && was {
            self.volatile.remove(key);
        }
        true
    }

    pub fn clear(&mut self) {
        self.touch_all_watched(None);
        self.keys.clear();
        self.volatile.clear();
        self.expire_cursor = 0;
        self.recent.clear();
    }

    /// Moves the keys out (FLUSHDB/FLUSHALL, possibly to be freed on another
    /// thread), leaving this db empty. Statistics and blocked clients stay:
    /// a flush does not reset the count of expired keys INFO reports.
    pub fn take_keys(&mut self) -> Db {
        self.touch_all_watched(None);
        self.expire_cursor = 0;
        self.recent.clear();
        Db {
            keys: std::mem::take(&mut self.keys),
            volatile: std::mem::take(&mut self.volatile),
            ..Db::default()
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> {
        self.keys.iter()
    }

    /// One SCAN step over the keys; returns the next cursor.
    pub fn scan(&self, cursor: u64, f: impl FnMut(&[u8], &Entry)) -> u64 {
        self.keys.scan(cursor, f)
    }

    pub fn random_key(&self, rand: &mut impl FnMut() -> u64) -> Option<(&[u8], &Entry)> {
        self.keys.random_entry(rand)
    }

    /// Active expiry: walks the volatile index from where it stopped, deleting
    /// keys whose TTL has passed, until `budget` keys were examined. Returns
    /// (examined, expired).
    pub fn active_expire(&mut self, now_ms: u64, budget: usize) -> (usize, usize) {
        if self.volatile.is_empty() {
            return (0, 0);
        }
        let mut due: Vec<CompactBytes> = Vec::new();
        let mut examined = 0;
        let mut cursor = self.expire_cursor;
        loop {
            let keys = &self.keys;
            cursor = self.volatile.scan(cursor, |k, _| {
                examined += 1;
                if keys
                    .get(k)
                    .is_some_and(|e| e.expire_at != 0 && e.expire_at <= now_ms)
                {
                    due.push(CompactBytes::from_slice(k));
                }
            });
            if cursor == 0 || examined >= budget {
                break;
            }
        }
        self.expire_cursor = cursor;
        for k in &due {
            self.remove(k);
            self.notify_event(KeyspaceEvents::EXPIRED, "expired", k);
        }
        self.expired += due.len() as u64;
        (examined, due.len())
    }

    // ---- WATCH ----

    /// Starts watching `key` for `client` (again watching it is a no-op).
    pub fn watch(&mut self, key: &[u8], client: u64, now_ms: u64) {
        let expired = self
            .keys
            .get(key)
            .is_some_and(|e| e.expire_at != 0 && e.expire_at <= now_ms);
        let marks = match self.watched.get_mut(key) {
            Some(m) => m,
            None => self.watched.entry(Bytes::copy_from_slice(key)).or_default(),
        };
        if !marks.iter().any(|m| m.client == client) {
            marks.push(WatchMark {
                client,
                dirty: false,
                expired,
            });
        }
    }

    pub fn unwatch(&mut self, key: &[u8], client: u64) {
        if let Some(marks) = self.watched.get_mut(key) {
            marks.retain(|m| m.client != client);
            if marks.is_empty() {
                self.watched.remove(key);
            }
        }
    }

    /// Whether `client`'s watch of `key` saw a change: the key was touched,
    /// or it has logically expired since (even if not yet deleted).
    pub fn watch_broken(&self, key: &[u8], client: u64, now_ms: u64) -> bool {
        let Some(mark) = self
            .watched
            .get(key)
            .and_then(|m| m.iter().find(|m| m.client == client))
        else {
            return false;
        };
        mark.dirty
            || (!mark.expired
                && self
                    .keys
                    .get(key)
                    .is_some_and(|e| e.expire_at != 0 && e.expire_at <= now_ms))
    }

    fn touch_watched(&mut self, key: &[u8]) {
        let present = self.keys.get(key).is_some();
        if let Some(marks) = self.watched.get_mut(key) {
            for m in marks {
                if m.expired && !present {
                    // The expired key it saw is now deleted: logically the
                    // same (Redis clears the flag the same way).
                    m.expired = false;
                } else {
                    m.dirty = true;
                }
            }
        }
    }

    /// FLUSHDB, FLUSHALL and SWAPDB: every watched key that exists here
    /// (or in `other`, the database swapped in) changes.
    fn touch_all_watched(&mut self, other: Option<&Dict<Entry>>) {
        let keys = &self.keys;
        for (key, marks) in self.watched.iter_mut() {
            if keys.get(key).is_some() || other.is_some_and(|o| o.get(key).is_some()) {
                for m in marks {
                    m.dirty = true;
                }
            }
        }
    }

    // ---- eviction (see shard::evict) ----

    /// Keys eviction may choose from: all of them, or under a volatile
    /// policy only those with a TTL.
    pub fn eviction_pool_len(&self, volatile: bool) -> usize {
        if volatile {
            self.volatile.len()
        } else {
            self.keys.len()
        }
    }

    /// Calls `f` with up to `count` entries sampled from random places
    /// (dictGetSomeKeys), from all keys or only those with a TTL.
    pub fn sample_for_eviction(
        &self,
        volatile: bool,
        count: usize,
        rand: &mut impl FnMut() -> u64,
        mut f: impl FnMut(&[u8], &Entry),
    ) {
        if volatile {
            let keys = &self.keys;
            self.volatile.sample(count, rand, |k, _| {
                if let Some(e) = keys.get(k) {
                    f(k, e);
                }
            });
        } else {
            self.keys.sample(count, rand, f);
        }
    }

    /// A uniformly random key, from all keys or only those with a TTL.
    pub fn random_for_eviction(
        &self,
        volatile: bool,
        rand: &mut impl FnMut() -> u64,
    ) -> Option<CompactBytes> {
        let key = if volatile {
            self.volatile.random_entry(rand)?.0
        } else {
            self.keys.random_entry(rand)?.0
        };
        Some(CompactBytes::from_slice(key))
    }

    /// The entry of `key` as it is, expired or not, without side effects.
    pub fn peek_raw(&self, key: &[u8]) -> Option<&Entry> {
        self.keys.get(key)
    }

    /// Keeps or stops keeping the recently used keys MRU eviction starts
    /// from; stopping forgets them.
    pub fn track_recent(&mut self, on: bool) {
        if self.track_recent != on {
            self.track_recent = on;
            self.recent = VecDeque::new();
        }
    }

    /// Takes the recently used keys, oldest first.
    pub fn take_recent(&mut self) -> VecDeque<CompactBytes> {
        std::mem::take(&mut self.recent)
    }

    /// Deletes `key` to free memory: counted in `evicted` and announced as
    /// an `evicted` keyspace event, as Redis's performEvictions does.
    pub fn evict(&mut self, key: &[u8]) -> bool {
        if self.remove(key).is_none() {
            return false;
        }
        self.evicted += 1;
        self.notify_event(KeyspaceEvents::EVICTED, "evicted", key);
        true
    }

    /// Heap bytes held by the tables themselves (nodes and buckets), not
    /// counting what large values own; `used_memory` comes from the allocator.
    pub fn table_bytes(&self) -> usize {
        self.keys.table_bytes() + self.volatile.table_bytes()
    }

    /// Bytes `key` and its entry cost: its node, its share of the bucket
    /// array, the key's and value's heap parts, and its volatile-index node.
    pub fn entry_bytes(&self, key: &[u8], entry: &Entry) -> usize {
        let key_heap = if key.len() > crate::types::compact::INLINE_CAP {
            key.len()
        } else {
            0
        };
        let mut n = Dict::<Entry>::NODE_BYTES
            + std::mem::size_of::<usize>()
            + key_heap
            + entry.value.heap_size();
        if entry.expire_at != 0 {
            n += Dict::<()>::NODE_BYTES + std::mem::size_of::<usize>() + key_heap;
        }
        n
    }

    pub fn rehash_step(&mut self, buckets: usize) -> bool {
        let a = self.keys.rehash_step(buckets);
        let b = self.volatile.rehash_step(buckets);
        a || b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Memory per key is a headline figure: a value must stay one
    /// CompactBytes wide, and an entry within 40 bytes, so that a keyspace
    /// node (next pointer, key, entry) fits a 72-byte allocation.
    #[test]
    fn entry_stays_compact() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert!(std::mem::size_of::<Entry>() <= 40);
    }
}
