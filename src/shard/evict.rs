//! Memory limit and eviction: staying under `maxmemory` with the least loss.
//!
//! # One budget, and which shard evicts
//!
//! `used_memory` is what the allocator holds for the whole process (see
//! alloc.rs). Per-shard figures do not exist: memory one thread allocates
//! (a forwarded command's arguments, a reply) is often freed by another. So
//! `maxmemory` is one budget for the process, and the question is which
//! shard evicts when the process is over it, since a shard may only touch
//! its own partition. Three answers were weighed; two were measured, on
//! the two-shard scenario of tests/evict_shards.rs (LRU, a 24 MB limit,
//! 1 KB values: the cold shard's 500-key working set is read throughout
//! while the hot shard writes twice the limit of keys nobody reads again;
//! then the cold shard stores 12 MB at 20 MB/s) and on benches/hitratio.sh
//! (32 MB, balanced Zipf traffic through one connection):
//!
//! * *Each shard evicts from itself whenever the process is over*, before
//!   its own writes (Redis's rule, applied per thread). Whichever shard
//!   checks after the other's writes pays for them: the connection's home
//!   shard writes first, the other shard finds the process over and evicts
//!   its own keys, which end up far younger than the home shard's. And a
//!   shard that finds memory full of another's stale keys can never grow.
//!   Measured: the cold shard kept 3.6% of its 12 MB and 0 to 1 of its 500
//!   working keys; on the balanced traces LRU's hit ratio fell to 0.804
//!   (Zipf) and 0.451 (with scans), LFU's to 0.805 and 0.458.
//! * *Fixed fair shares* (`maxmemory / shards` each, as Dragonfly does)
//!   need per-shard usage, which only exists as an estimate, and cap a
//!   legitimately bigger shard while the others' shares sit empty. Not
//!   built.
//! * *One budget, the best victims wherever they are* (implemented). Each
//!   shard publishes the rank of its best candidate (below). A shard that
//!   must free memory compares its best with the best elsewhere: clearly
//!   worse ([`clearly_better`]), it evicts nothing and lets its write run,
//!   over the limit by at most the slack (1/32 of `maxmemory`, at least
//!   256 KB), adding how far the process grew meanwhile to the other
//!   shard's *demand*; at its next write or cron (ten times a second) that
//!   shard evicts down to the limit less twice its demand (at most 1/8 of
//!   the limit), which gives the waiting shard room for about a cron period.
//!   Past the slack the waiting shard evicts its own keys, down to the
//!   slack, and adds them to the demand too. About as good but behind,
//!   a shard frees its share of the excess (1/shards, at least a key); the
//!   best frees all of it. Measured: the cold shard kept 79 to 89% of its
//!   12 MB (the hot shard's unread keys went instead; what is lost is what
//!   it wrote faster than the hot shard's cron freed), used_memory peaked
//!   3 to 4% over the limit; balanced traces: LRU 0.811 and 0.540, LFU
//!   0.812 and 0.543 (0.813/0.541 and 0.815/0.544 since alloc::may_grow
//!   keeps bucket arrays small; Redis: 0.803/0.515 and 0.814/0.541), with
//!   used_memory within 0.06% of the limit.
//!
//! The price is a few shared cache lines per shard (rank, demand, LRU
//! frontier), written every 16 evictions and read at each, and the sum of
//! the shards' allocation counters read before every write under a limit
//! (one line per shard; a per-thread estimate of the headroom was tried
//! and dropped: a shard serving others' writes sees its own counter stand
//! still while the process grows, and stopped evicting).
//!
//! # Choosing victims within a partition
//!
//! As Redis: each eviction samples `maxmemory-samples` keys per database
//! (all keys, or only those with a TTL for the volatile policies) into a
//! pool of the 16 best candidates and evicts the pool's best, freeing
//! until the process is back under the limit, within the time
//! `maxmemory-eviction-tenacity` allows (the cron continues). Departures,
//! each measured with benches/hitratio.sh:
//!
//! * The clock ticks every 10 ms instead of every second, so LRU tells
//!   apart keys used within the same second.
//! * A pooled candidate is re-ranked when it is picked: a key sampled
//!   idle but read since is put back rather than evicted.
//! * LRU puts keys on probation: a key stored and not read since counts as
//!   older by the *frontier*, how idle the keys evicted lately were. A key
//!   written once and never read (a scan, a miss nobody asks for again)
//!   goes at half the age of one that was read. Measured before alloc.rs
//!   counted chunk headers: Zipf 0.8035 -> 0.8130, with scans 0.515 ->
//!   0.536 (Redis: 0.803, 0.515).
//! * LFU breaks ties between equal counters by recency; ties by size or
//!   by nothing (as Redis's pool does) lost 0.002 and 0.01.
//!
//! FIFO ranks by the clock stamped when the value was stored (reads leave
//! it alone under FIFO, writes to an existing value too; a SET stores a new
//! value); MRU by the clock, most recent first, helped by a list per
//! database of the 32 keys used last, since sampling would rarely find the
//! one key just read; volatile-ttl by expiry time; the random policies
//! take a random key from each database in turn.
//!
//! # Clocks and counters
//!
//! An entry's `access` is a `u32` of 10 ms ticks since start-up; it wraps
//! after 497 days, and differences are taken modulo 2^32 with anything
//! more than 248 days "in the future" read as idle 0 (Redis's 24-bit
//! seconds clock wraps after 194 days). Ranks use a 64-bit tick count so
//! that they compare across shards. The LFU counter is Redis's (8 bits,
//! logarithmic, starting at 5, decaying by one per `lfu-decay-time` minute
//! boundaries passed since the last access) in a byte of its own; under
//! the other policies the byte only records whether the key was read since
//! it was stored (LRU's probation).
//!
//! # Cost when there is no limit
//!
//! The shard loop checks `maxmemory != 0` before calling in here: with no
//! limit a write pays one branch, and a read a thread-local lookup of the
//! policy for [`Touch`].

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::alloc;
use crate::config::{Config, EvictionPolicy};
use crate::server::Server;
use crate::shard::db::{Db, Entry};
use crate::shard::Store;
use crate::types::compact::CompactBytes;
use crate::util::rand::random_u64;

/// The counter a new key starts with, so that it is not evicted before it
/// had a chance to be read (Redis's LFU_INIT_VAL).
pub const LFU_INIT_VAL: u8 = 5;
/// Resolution of the access clock.
pub const TICK_MS: u64 = 10;
/// The error a write gets when memory cannot be freed.
pub const OOM_ERROR: &str = "OOM command not allowed when used memory > 'maxmemory'.";
/// Candidates kept between evictions (Redis's EVPOOL_SIZE).
const POOL_SIZE: usize = 16;
/// Samples per database per eviction are capped here whatever
/// `maxmemory-samples` says (Redis allows up to INT_MAX).
const MAX_SAMPLES: usize = 1024;
/// How often (in evictions) the time limit is looked at.
const TIME_CHECK_EVERY: u32 = 16;
/// A partition's best rank is published every this many evictions.
const PUBLISH_EVERY: u32 = 16;
/// A rank of 0 means "no candidate".
const NO_CANDIDATE: u64 = 0;

// ---- settings -------------------------------------------------------------

/// The configuration eviction reads, copied per thread (see [`settings`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub maxmemory: u64,
    pub policy: EvictionPolicy,
    pub samples: usize,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    /// How long one command may spend evicting (from
    /// `maxmemory-eviction-tenacity`); `None` is no limit.
    pub time_limit: Option<Duration>,
}

impl Settings {
    pub fn from_config(c: &Config) -> Settings {
        Settings {
            maxmemory: c.maxmemory,
            policy: c.maxmemory_policy,
            samples: (c.maxmemory_samples as usize).clamp(1, MAX_SAMPLES),
            lfu_log_factor: c.lfu_log_factor,
            lfu_decay_time: c.lfu_decay_time,
            time_limit: tenacity_time_limit(c.maxmemory_eviction_tenacity),
        }
    }
}

/// Redis's evictionTimeLimitUs: 0 to 500 µs linearly up to tenacity 10,
/// then 15% more per step, unlimited at 100.
fn tenacity_time_limit(tenacity: u32) -> Option<Duration> {
    let us = match tenacity {
        0..=10 => 50 * u64::from(tenacity),
        11..=99 => (500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64,
        _ => return None,
    };
    Some(Duration::from_micros(us))
}

/// The eviction settings in force, re-read only when CONFIG SET moved the
/// epoch, so the per-command cost is one atomic load.
pub fn settings(server: &Server) -> Settings {
    thread_local! {
        static CACHE: Cell<Option<(usize, u64, Settings)>> = const { Cell::new(None) };
    }
    let id = server as *const Server as usize;
    let epoch = server.config_epoch.load(Ordering::Acquire);
    CACHE.with(|cache| {
        if let Some((cached_id, cached_epoch, s)) = cache.get() {
            if cached_id == id && cached_epoch == epoch {
                return s;
            }
        }
        let s = {
            let c = server.config.read().unwrap_or_else(|p| p.into_inner());
            Settings::from_config(&c)
        };
        alloc::set_thread_limit(s.maxmemory);
        cache.set(Some((id, epoch, s)));
        s
    })
}

// ---- clock and access tracking --------------------------------------------

/// Ticks since the server started.
pub fn clock_ticks(now_ms: u64, started_ms: u64) -> u64 {
    now_ms.saturating_sub(started_ms) / TICK_MS
}

/// Ticks from `access` to `clock`, 0 for a stamp "in the future" (taken
/// by another thread a moment later, or more than half the clock's range
/// ago).
pub fn idle_ticks(clock: u32, access: u32) -> u32 {
    let d = clock.wrapping_sub(access);
    if d > u32::MAX / 2 {
        0
    } else {
        d
    }
}

/// What an access updates, by policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tracking {
    /// The access clock (LRU, MRU, and the policies that ignore it).
    Recency,
    /// The clock and the LFU counter.
    Frequency,
    /// Nothing: the clock keeps the time the value was stored.
    Insertion,
}

fn tracking(policy: EvictionPolicy) -> Tracking {
    match policy {
        EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu => Tracking::Frequency,
        EvictionPolicy::AllKeysFifo | EvictionPolicy::VolatileFifo => Tracking::Insertion,
        _ => Tracking::Recency,
    }
}

fn is_mru(policy: EvictionPolicy) -> bool {
    matches!(
        policy,
        EvictionPolicy::AllKeysMru | EvictionPolicy::VolatileMru
    )
}

/// How a command's use of a key updates its entry; built once per lookup
/// from the thread's cached settings.
#[derive(Debug, Clone, Copy)]
pub struct Touch {
    pub clock: u32,
    now_ms: u64,
    tracking: Tracking,
    track_recent: bool,
    log_factor: u32,
    decay_time: u32,
}

impl Touch {
    pub fn new(server: &Server, now_ms: u64) -> Touch {
        let s = settings(server);
        Touch {
            clock: clock_ticks(now_ms, server.started_unix_ms) as u32,
            now_ms,
            tracking: tracking(s.policy),
            track_recent: is_mru(s.policy),
            log_factor: s.lfu_log_factor,
            decay_time: s.lfu_decay_time,
        }
    }

    /// Whether the database should remember this key as recently used
    /// (the MRU policies).
    pub fn tracks_recent(&self) -> bool {
        self.track_recent
    }

    /// Redis's updateLFU / LRU clock update.
    pub fn apply(&self, e: &mut Entry) {
        match self.tracking {
            Tracking::Recency => {
                e.access = self.clock;
                if e.freq <= LFU_INIT_VAL {
                    e.freq = LFU_INIT_VAL + 1;
                }
            }
            Tracking::Frequency => {
                let counter = lfu_decayed(e, self.now_ms, self.clock, self.decay_time);
                e.freq = lfu_log_incr(counter, self.log_factor);
                e.access = self.clock;
            }
            Tracking::Insertion => {}
        }
    }
}

/// Redis's LFUDecrAndReturn: the counter less one for every `decay_time`
/// wall-clock minute boundaries passed since the last access.
pub fn lfu_decayed(e: &Entry, now_ms: u64, clock: u32, decay_time: u32) -> u8 {
    if decay_time == 0 {
        return e.freq;
    }
    let idle_ms = u64::from(idle_ticks(clock, e.access)) * TICK_MS;
    let minutes = now_ms / 60_000 - now_ms.saturating_sub(idle_ms) / 60_000;
    let periods = minutes / u64::from(decay_time);
    e.freq.saturating_sub(periods.min(255) as u8)
}

/// Redis's LFULogIncr: one more with probability 1 / ((counter - init) *
/// log_factor + 1), so that the counter grows with the logarithm of the
/// number of accesses.
fn lfu_log_incr(counter: u8, log_factor: u32) -> u8 {
    if counter == u8::MAX {
        return counter;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
    let p = 1.0 / (base * f64::from(log_factor) + 1.0);
    let r = (random_u64() >> 11) as f64 / (1u64 << 53) as f64;
    if r < p {
        counter + 1
    } else {
        counter
    }
}

// ---- ranking --------------------------------------------------------------

/// How candidates are ordered, by policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Lru,
    Lfu,
    Fifo,
    Mru,
    Ttl,
    Random,
}

fn order(policy: EvictionPolicy) -> Option<Order> {
    Some(match policy {
        EvictionPolicy::NoEviction => return None,
        EvictionPolicy::AllKeysLru | EvictionPolicy::VolatileLru => Order::Lru,
        EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu => Order::Lfu,
        EvictionPolicy::AllKeysFifo | EvictionPolicy::VolatileFifo => Order::Fifo,
        EvictionPolicy::AllKeysMru | EvictionPolicy::VolatileMru => Order::Mru,
        EvictionPolicy::AllKeysRandom | EvictionPolicy::VolatileRandom => Order::Random,
        EvictionPolicy::VolatileTtl => Order::Ttl,
    })
}

/// The moment one eviction run ranks candidates at.
#[derive(Clone, Copy)]
struct Now {
    now_ms: u64,
    clock: u32,
    /// The clock in 64 bits, so that ranks built from it do not wrap and
    /// compare across shards.
    ticks: u64,
    decay_time: u32,
    /// LRU: how much older a key stored and not used since counts.
    probation: u64,
}

impl Now {
    fn new(server: &Server, now_ms: u64, s: &Settings) -> Now {
        let ticks = clock_ticks(now_ms, server.started_unix_ms);
        Now {
            now_ms,
            clock: ticks as u32,
            ticks,
            decay_time: s.lfu_decay_time,
            probation: 0,
        }
    }

    /// The entry's access time on the 64-bit clock.
    fn accessed(&self, e: &Entry) -> u64 {
        self.ticks
            .saturating_sub(u64::from(idle_ticks(self.clock, e.access)))
    }

    fn idle_since(&self, accessed: u64) -> u64 {
        self.ticks.saturating_sub(accessed)
    }
}

const LOW56: u64 = (1 << 56) - 1;

/// How good a victim `e` is: higher goes first. Ranks are absolute (not
/// relative to now), so a rank published by one shard still means the same
/// to another a moment later.
fn rank(order: Order, e: &Entry, now: &Now) -> u64 {
    let rank = match order {
        Order::Lru if e.freq <= LFU_INIT_VAL => {
            u64::MAX - now.accessed(e).saturating_sub(now.probation)
        }
        Order::Lru | Order::Fifo => u64::MAX - now.accessed(e),
        Order::Mru => now.accessed(e) + 1,
        Order::Lfu => {
            let counter = lfu_decayed(e, now.now_ms, now.clock, now.decay_time);
            (u64::from(u8::MAX - counter) << 56) | (LOW56 - now.accessed(e).min(LOW56))
        }
        Order::Ttl => u64::MAX - e.expire_at,
        // Not ranked: see Pool::random_victim.
        Order::Random => 1,
    };
    rank.max(1)
}

/// Whether another shard's best candidate (rank `other`) is so much better
/// than this one's (`mine`) that this shard should leave the eviction to
/// it: idle an eighth longer and 20 ms more (LRU, FIFO; the other way
/// round for MRU), expiring an eighth sooner and 20 ms (volatile-ttl), a
/// counter lower by 2 (LFU; on a tie the LRU rule), an eighth more keys
/// and 64 (random). The margins keep shards whose candidates are equally
/// good, as they are with keys spread by hash, evicting their own at once.
fn clearly_better(order: Order, other: u64, mine: u64, now: &Now) -> bool {
    /// 20 ms, in ticks: differences below are noise.
    const MARGIN_TICKS: u64 = 20 / TICK_MS;
    let lru_better = |other_accessed: u64, mine_accessed: u64| {
        let (o, m) = (
            now.idle_since(other_accessed),
            now.idle_since(mine_accessed),
        );
        o > m + m / 8 + MARGIN_TICKS
    };
    match order {
        Order::Lru | Order::Fifo => lru_better(u64::MAX - other, u64::MAX - mine),
        Order::Mru => {
            let (o, m) = (now.idle_since(other - 1), now.idle_since(mine - 1));
            m > o + o / 8 + MARGIN_TICKS
        }
        Order::Lfu => {
            let (o, m) = (
                u64::from(u8::MAX) - (other >> 56),
                u64::from(u8::MAX) - (mine >> 56),
            );
            if o != m {
                o + 1 < m
            } else {
                lru_better(LOW56 - (other & LOW56), LOW56 - (mine & LOW56))
            }
        }
        Order::Ttl => {
            let (o, m) = (u64::MAX - other, u64::MAX - mine);
            let (o_left, m_left) = (o.saturating_sub(now.now_ms), m.saturating_sub(now.now_ms));
            o_left + o_left / 8 + MARGIN_TICKS * TICK_MS < m_left
        }
        Order::Random => other > mine + mine / 8 + 64,
    }
}

// ---- what shards share ------------------------------------------------------

/// What one shard publishes, on a cache line of its own: its best rank
/// (written every [`PUBLISH_EVERY`] evictions, read by the others at
/// theirs) and what the others asked it to free.
#[repr(align(64))]
#[derive(Default)]
struct Published {
    rank: AtomicU64,
    /// The policy the rank was computed under (index + 1; 0 = none), so a
    /// rank left from before a CONFIG SET is not compared with new ones.
    policy: AtomicU64,
    /// Bytes other shards left for this one to free since its last cron:
    /// how much the process grew over the limit while they waited for it,
    /// and what they evicted of their own when waiting went past the slack.
    demand: AtomicU64,
    /// LRU: the partition's eviction frontier (see `Pool::frontier`).
    frontier: AtomicU64,
}

/// What the shards publish to each other about their eviction candidates
/// (see the top of this file). Lives in [`Server`].
pub struct Shared {
    best: Box<[Published]>,
}

impl Shared {
    pub fn new(nshards: usize) -> Shared {
        Shared {
            best: (0..nshards).map(|_| Published::default()).collect(),
        }
    }

    fn publish(&self, shard: usize, policy: EvictionPolicy, rank: u64, frontier: u64) {
        if let Some(p) = self.best.get(shard) {
            p.policy.store(policy_tag(policy), Ordering::Relaxed);
            p.rank.store(rank, Ordering::Relaxed);
            p.frontier.store(frontier, Ordering::Relaxed);
        }
    }

    /// LRU's probation (see `Now::probation`): the shards' eviction
    /// frontiers averaged, the same for all so that ranks compare.
    fn probation(&self) -> u64 {
        let (sum, n) = self.best.iter().fold((0u64, 0u64), |(sum, n), p| {
            match p.frontier.load(Ordering::Relaxed) {
                0 => (sum, n),
                f => (sum.saturating_add(f), n + 1),
            }
        });
        sum / n.max(1)
    }

    /// The shard outside `held` with the best rank published under
    /// `policy`, and that rank.
    fn best_elsewhere(&self, held: u64, policy: EvictionPolicy) -> Option<(usize, u64)> {
        let tag = policy_tag(policy);
        let mut best: Option<(usize, u64)> = None;
        for (i, p) in self.best.iter().enumerate() {
            if i < 64 && held & (1u64 << i) != 0 {
                continue;
            }
            if p.policy.load(Ordering::Relaxed) != tag {
                continue;
            }
            let r = p.rank.load(Ordering::Relaxed);
            if r != NO_CANDIDATE && best.is_none_or(|(_, b)| r > b) {
                best = Some((i, r));
            }
        }
        best
    }

    /// Asks `shard` to free `bytes` more at its next cron.
    fn ask(&self, shard: usize, bytes: u64) {
        if let Some(p) = self.best.get(shard) {
            if bytes > 0 {
                p.demand.fetch_add(bytes, Ordering::Relaxed);
            }
        }
    }

    /// Takes what the other shards asked `shard` to free.
    fn take_demand(&self, shard: usize) -> u64 {
        match self.best.get(shard) {
            Some(p) if p.demand.load(Ordering::Relaxed) != 0 => p.demand.swap(0, Ordering::Relaxed),
            _ => 0,
        }
    }
}

fn policy_tag(policy: EvictionPolicy) -> u64 {
    EvictionPolicy::ALL
        .iter()
        .position(|&p| p == policy)
        .map_or(0, |i| i as u64 + 1)
}

/// How far a shard may run over the limit while another shard, holding
/// better victims, catches up.
fn slack(maxmemory: u64) -> u64 {
    (maxmemory / 32).max(256 * 1024)
}

// ---- the pool -------------------------------------------------------------

/// A key eviction may take, remembered between evictions.
#[derive(Debug)]
struct Candidate {
    rank: u64,
    /// The rank without LRU's probation (see `Now::probation`), for
    /// comparing with other shards, whose probation may differ by the time
    /// they compare; set when the candidate is taken from the pool.
    plain: u64,
    db: usize,
    key: CompactBytes,
}

/// A partition's eviction state: the pool of best candidates (ascending
/// rank, at most [`POOL_SIZE`]), the random policies' database cursor, and
/// what it last told the other shards.
#[derive(Default)]
pub struct Pool {
    candidates: Vec<Candidate>,
    /// The policy the pooled ranks were computed under.
    policy: Option<EvictionPolicy>,
    next_db: usize,
    /// Whether the pool was sampled since the last eviction from it. A
    /// shard that keeps deferring to another (see `clearly_better`) must
    /// not keep sampling: its pool would grow ever better and attract the
    /// other shard's deference in turn.
    sampled: bool,
    /// LRU: how idle (in ticks, probation included) the keys evicted lately
    /// were, averaged; see `Now::probation`.
    frontier: u64,
    /// The rank last published, and calls to `publish` since.
    published: u64,
    unpublished: u32,
}

impl Pool {
    /// Adds a candidate if it beats the pool's worst (or there is room),
    /// replacing an older entry for the same key.
    fn offer(&mut self, rank: u64, db: usize, key: &[u8]) {
        if self.candidates.len() == POOL_SIZE && rank <= self.candidates[0].rank {
            // Not good enough; should the key be pooled at an older rank,
            // picking it re-ranks it.
            return;
        }
        if let Some(i) = self
            .candidates
            .iter()
            .position(|c| c.db == db && c.key.as_slice() == key)
        {
            self.candidates.remove(i);
        }
        if self.candidates.len() == POOL_SIZE {
            if rank <= self.candidates[0].rank {
                return;
            }
            self.candidates.remove(0);
        }
        let at = self.candidates.partition_point(|c| c.rank <= rank);
        self.candidates.insert(
            at,
            Candidate {
                rank,
                plain: rank,
                db,
                key: CompactBytes::from_slice(key),
            },
        );
    }

    /// Samples every database into the pool (unless that was done since the
    /// last eviction) and takes out its best candidate that still exists,
    /// re-ranked as of now.
    fn take_best(
        &mut self,
        dbs: &mut [Db],
        s: &Settings,
        order: Order,
        now: &Now,
    ) -> Option<Candidate> {
        if self.policy != Some(s.policy) {
            self.candidates.clear();
            self.policy = Some(s.policy);
        }
        let volatile = s.policy.is_volatile();
        if order == Order::Random {
            return self.random_victim(dbs, volatile);
        }
        let mut rand = random_u64;
        let sample = !self.sampled || self.candidates.is_empty();
        self.sampled = true;
        for (i, db) in dbs.iter_mut().enumerate() {
            if !sample || db.eviction_pool_len(volatile) == 0 {
                continue;
            }
            if order == Order::Mru {
                for key in db.take_recent() {
                    if let Some(e) = db.peek_raw(&key) {
                        if !volatile || e.expire_at != 0 {
                            self.offer(rank(order, e, now), i, &key);
                        }
                    }
                }
            }
            db.sample_for_eviction(volatile, s.samples, &mut rand, |k, e| {
                self.offer(rank(order, e, now), i, k);
            });
        }
        while let Some(c) = self.candidates.pop() {
            let Some(e) = dbs.get(c.db).and_then(|d| d.peek_raw(&c.key)) else {
                continue; // deleted since it was pooled
            };
            if volatile && e.expire_at == 0 {
                continue; // persisted since
            }
            let current = rank(order, e, now);
            if current < c.rank {
                // Used since it was pooled: it competes again at its new rank.
                self.offer(current, c.db, &c.key);
                continue;
            }
            let plain = if order == Order::Lru {
                rank(
                    order,
                    e,
                    &Now {
                        probation: 0,
                        ..*now
                    },
                )
            } else {
                current
            };
            return Some(Candidate {
                rank: current,
                plain,
                ..c
            });
        }
        None
    }

    /// A random key (from the databases in turn, as Redis does), ranked by
    /// how many keys this partition could evict, which is what the random
    /// policies compare across shards.
    fn random_victim(&mut self, dbs: &[Db], volatile: bool) -> Option<Candidate> {
        let total: usize = dbs.iter().map(|d| d.eviction_pool_len(volatile)).sum();
        if total == 0 {
            return None;
        }
        let mut rand = random_u64;
        for _ in 0..dbs.len() {
            self.next_db = (self.next_db + 1) % dbs.len();
            if let Some(key) = dbs[self.next_db].random_for_eviction(volatile, &mut rand) {
                return Some(Candidate {
                    rank: total as u64,
                    plain: total as u64,
                    db: self.next_db,
                    key,
                });
            }
        }
        None
    }

    /// Notes that `taken` was evicted: the pool is sampled afresh next
    /// time, and LRU's frontier moves.
    fn after_eviction(&mut self, taken: &Candidate, now: &Now) {
        self.sampled = false;
        if self.policy.and_then(order) == Some(Order::Lru) {
            let idle = now.ticks.saturating_sub(u64::MAX - taken.rank);
            self.frontier = self.frontier - self.frontier / 16 + idle / 16;
        }
    }

    /// Tells the other shards this partition's best rank, though only every
    /// [`PUBLISH_EVERY`] calls or when it gains or loses all candidates: the
    /// line is read by every other shard at its every eviction.
    fn publish(&mut self, shared: &Shared, shard: usize, policy: EvictionPolicy, rank: u64) {
        self.unpublished += 1;
        let flipped = (rank == NO_CANDIDATE) != (self.published == NO_CANDIDATE);
        if flipped || self.unpublished >= PUBLISH_EVERY {
            shared.publish(shard, policy, rank, self.frontier);
            self.published = rank;
            self.unpublished = 0;
        }
    }

    /// Returns a candidate that was taken but not evicted.
    fn put_back(&mut self, c: Candidate, order: Order) {
        if order != Order::Random {
            self.offer(c.rank, c.db, &c.key);
        }
    }
}

// ---- freeing memory ---------------------------------------------------------

/// Who asks for memory, which decides how long it may work and what it
/// does when another shard has the better victims.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// A write about to run: evicts within the tenacity time limit, runs
    /// over the limit by at most `slack` while others catch up.
    Command,
    /// The shard's cron: evicts while its candidates are the best on offer.
    Cron(Duration),
}

/// Frees memory before a command flagged `denyoom` runs on the partitions
/// in `held` (Redis's performEvictions in processCommand). False when the
/// command must be refused with [`OOM_ERROR`]: over the limit with nothing
/// here that may be evicted (always so under noeviction), unless another
/// shard has candidates and the process is still within the slack.
pub fn make_room(server: &Server, held: u64, now_ms: u64) -> bool {
    let s = settings(server);
    if s.maxmemory == 0 {
        return true;
    }
    free_memory(server, held, now_ms, &s, Caller::Command) != Freed::Failed
}

/// The cron's part, on the shard's own partition: tracks the memory peak,
/// switches MRU's recent-key tracking on or off, and evicts while the
/// process is over the limit and this shard has the best victims (keys
/// another shard left to it, or a limit lowered at run time).
pub fn cron(server: &Server, shard: usize, now_ms: u64, budget: Duration) {
    let used = alloc::allocated() as u64;
    server.info.peak(used);
    let s = settings(server);
    let mru = is_mru(s.policy);
    let mut store = Store::new(&server.partitions, 1u64 << shard);
    for db in store.part(shard).dbs.iter_mut() {
        db.track_recent(mru);
    }
    if s.maxmemory != 0 {
        free_memory(server, 1u64 << shard, now_ms, &s, Caller::Cron(budget));
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Freed {
    /// Under the limit now, or waiting for another shard within the slack.
    Enough,
    /// Out of time; the rest is left for later.
    Partly,
    /// Over the limit with nothing to evict.
    Failed,
}

fn free_memory(server: &Server, held: u64, now_ms: u64, s: &Settings, caller: Caller) -> Freed {
    let shared = &server.eviction;
    let used = alloc::allocated() as u64;
    // What other shards left to the held ones lowers the floor, so that
    // they find room for a while (a cron period, roughly).
    let mut demand = 0;
    let mut rest = held;
    while rest != 0 {
        demand += shared.take_demand(rest.trailing_zeros() as usize);
        rest &= rest - 1;
    }
    let floor = s
        .maxmemory
        .saturating_sub(demand.saturating_mul(2).min(s.maxmemory / 8));
    if used <= s.maxmemory {
        WAITED.with(|w| w.set(0));
    }
    if used <= floor {
        return Freed::Enough;
    }
    let Some(order) = order(s.policy) else {
        return Freed::Failed;
    };
    let hard_limit = s.maxmemory.saturating_add(slack(s.maxmemory));
    let time_limit = match caller {
        Caller::Command => s.time_limit,
        Caller::Cron(budget) => Some(budget),
    };
    let mut store = Store::new(&server.partitions, held);
    let mut now = Now::new(server, now_ms, s);
    if order == Order::Lru {
        now.probation = shared.probation();
    }
    let mark = alloc::thread_allocated();
    let started = Instant::now();
    let mut evicted = 0u32;
    // How low this call brings used_memory, decided at the first
    // candidate, and the shard it would rather have evicted, if any.
    let mut target: Option<u64> = None;
    let mut instead_of: Option<usize> = None;
    let outcome = loop {
        let freed = u64::try_from(mark - alloc::thread_allocated()).unwrap_or(0);
        let left = used.saturating_sub(freed);
        if left <= target.unwrap_or(floor) {
            break Freed::Enough;
        }
        // The best candidate of the partitions held; the others go back.
        let mut best: Option<(usize, Candidate)> = None;
        let mut rest = held;
        while rest != 0 {
            let shard = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            let part = store.part(shard);
            let cand = part.eviction.take_best(&mut part.dbs, s, order, &now);
            let rank = cand.as_ref().map_or(NO_CANDIDATE, |c| c.plain);
            part.eviction.publish(shared, shard, s.policy, rank);
            let Some(cand) = cand else { continue };
            match best.take() {
                Some((bs, bc)) if bc.rank >= cand.rank => {
                    store.part(shard).eviction.put_back(cand, order);
                    best = Some((bs, bc));
                }
                Some((bs, bc)) => {
                    store.part(bs).eviction.put_back(bc, order);
                    best = Some((shard, cand));
                }
                None => best = Some((shard, cand)),
            }
        }
        let elsewhere = shared.best_elsewhere(held, s.policy);
        let Some((shard, cand)) = best else {
            // Nothing here: a write may still run while a shard with
            // candidates evicts them, within the slack.
            break match (caller, elsewhere) {
                (Caller::Command, Some((other, _))) if left <= hard_limit => {
                    shared.ask(other, waited_more(left - s.maxmemory));
                    Freed::Enough
                }
                (Caller::Command, _) => Freed::Failed,
                (Caller::Cron(_), _) => Freed::Enough,
            };
        };
        let target = *target.get_or_insert_with(|| match elsewhere {
            // Much better victims elsewhere: that shard evicts (at its next
            // write or cron), this one only keeps within the slack.
            Some((other, rank)) if clearly_better(order, rank, cand.plain, &now) => {
                instead_of = Some(other);
                match caller {
                    Caller::Command => hard_limit,
                    Caller::Cron(_) => left,
                }
            }
            // About as good, and a bit better elsewhere: this shard frees
            // its share of the excess (at least a key), the others theirs.
            Some((_, rank)) if rank > cand.plain && left > s.maxmemory => {
                let shards = server.nshards().max(1) as u64;
                left - ((left - s.maxmemory) / shards).max(1)
            }
            _ => floor,
        });
        if left <= target {
            store.part(shard).eviction.put_back(cand, order);
            if let Some(other) = instead_of {
                shared.ask(other, waited_more(left.saturating_sub(s.maxmemory)));
            }
            break Freed::Enough;
        }
        let part = store.part(shard);
        part.dbs[cand.db].evict(&cand.key);
        // What this shard offers next, rather than the key just gone.
        part.eviction.after_eviction(&cand, &now);
        evicted += 1;
        if evicted.is_multiple_of(TIME_CHECK_EVERY)
            && time_limit.is_some_and(|t| started.elapsed() > t)
        {
            break Freed::Partly;
        }
    };
    if demand > 0 && outcome != Freed::Enough {
        // Not all paid: the rest waits for the next write or cron.
        let freed = u64::try_from(mark - alloc::thread_allocated()).unwrap_or(0);
        let unpaid = used.saturating_sub(freed).saturating_sub(floor).min(demand);
        shared.ask(held.trailing_zeros() as usize, unpaid);
    }
    if let Some(other) = instead_of {
        // Whatever was evicted here was the other shard's to evict.
        let freed = u64::try_from(mark - alloc::thread_allocated()).unwrap_or(0);
        if freed > 0 {
            shared.ask(other, freed);
            WAITED.with(|w| w.set(w.get().saturating_sub(freed)));
        }
    }
    outcome
}

thread_local! {
    /// How far over the limit the process was when this thread last let a
    /// write run waiting for another shard to evict (0 once it was under).
    static WAITED: Cell<u64> = const { Cell::new(0) };
}

/// The growth over the limit since this thread last waited: what it adds
/// to the other shard's demand, so that the demand is the rate at which
/// the waiting shards write, and the other shard's cron frees as fast.
fn waited_more(excess: u64) -> u64 {
    WAITED.with(|w| {
        let more = excess.saturating_sub(w.get());
        w.set(excess);
        more
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::db::Value;

    fn entry(access: u32, freq: u8) -> Entry {
        let mut e = Entry::new(Value::Int(1));
        e.access = access;
        e.freq = freq;
        e
    }

    #[test]
    fn idle_time_wraps_and_ignores_the_future() {
        assert_eq!(idle_ticks(100, 40), 60);
        assert_eq!(idle_ticks(5, u32::MAX - 4), 10);
        assert_eq!(idle_ticks(40, 41), 0);
    }

    #[test]
    fn lfu_counter_grows_logarithmically() {
        let mut c = LFU_INIT_VAL;
        for _ in 0..100 {
            c = lfu_log_incr(c, 10);
        }
        // Redis's table for factor 10: ~10 after 100 hits.
        assert!((7..=14).contains(&c), "{c}");
        let mut c = LFU_INIT_VAL;
        for _ in 0..1_000_000 {
            c = lfu_log_incr(c, 0);
        }
        assert_eq!(c, 255);
    }

    #[test]
    fn lfu_counter_decays_per_minute_boundary() {
        // Idle 160 s at minute 1000 and 30 s: last used at minute 997
        // and 50 s, 3 minute boundaries ago.
        let now_ms = 1_000 * 60_000 + 30_000;
        let clock = (now_ms / TICK_MS) as u32;
        let e = entry(clock - 16_000, 10);
        assert_eq!(lfu_decayed(&e, now_ms, clock, 1), 7);
        assert_eq!(lfu_decayed(&e, now_ms, clock, 2), 9);
        assert_eq!(lfu_decayed(&e, now_ms, clock, 0), 10);
        let old = entry(clock - 6_000_000, 10);
        assert_eq!(lfu_decayed(&old, now_ms, clock, 1), 0);
    }

    #[test]
    fn ranks_order_victims_by_policy() {
        let now = Now {
            now_ms: 1_000_000,
            clock: 100_000,
            ticks: 100_000,
            decay_time: 1,
            probation: 0,
        };
        let old = entry(10_000, 5);
        let new = entry(99_000, 5);
        assert!(rank(Order::Lru, &old, &now) > rank(Order::Lru, &new, &now));
        assert!(rank(Order::Fifo, &old, &now) > rank(Order::Fifo, &new, &now));
        assert!(rank(Order::Mru, &old, &now) < rank(Order::Mru, &new, &now));
        let hot = entry(99_000, 20);
        assert!(rank(Order::Lfu, &new, &now) > rank(Order::Lfu, &hot, &now));
        // Equal counters: the older goes first.
        assert!(rank(Order::Lfu, &entry(98_000, 20), &now) > rank(Order::Lfu, &hot, &now));
        let mut soon = entry(0, 5);
        soon.expire_at = 2_000_000;
        let mut late = entry(0, 5);
        late.expire_at = 3_000_000;
        assert!(rank(Order::Ttl, &soon, &now) > rank(Order::Ttl, &late, &now));
    }

    #[test]
    fn only_clearly_better_candidates_elsewhere_win() {
        let now = Now {
            now_ms: 1_000_000,
            clock: 100_000,
            ticks: 100_000,
            decay_time: 1,
            probation: 0,
        };
        let lru = |access: u32| rank(Order::Lru, &entry(access, 5), &now);
        // 50 s idle against 10 s: clearly; 10.5 s against 10 s: no.
        assert!(clearly_better(Order::Lru, lru(95_000), lru(99_000), &now));
        assert!(!clearly_better(Order::Lru, lru(98_950), lru(99_000), &now));
        assert!(!clearly_better(Order::Lru, lru(99_000), lru(95_000), &now));
        let lfu = |freq: u8| rank(Order::Lfu, &entry(99_000, freq), &now);
        assert!(clearly_better(Order::Lfu, lfu(3), lfu(9), &now));
        assert!(!clearly_better(Order::Lfu, lfu(8), lfu(9), &now));
        assert!(clearly_better(Order::Random, 10_000, 100, &now));
        assert!(!clearly_better(Order::Random, 1_050, 1_000, &now));
    }

    #[test]
    fn the_pool_keeps_the_best_distinct_candidates() {
        let mut pool = Pool::default();
        for i in 0..40u64 {
            pool.offer(i % 20 + 1, 0, format!("k{}", i % 20).as_bytes());
        }
        assert_eq!(pool.candidates.len(), POOL_SIZE);
        let ranks: Vec<u64> = pool.candidates.iter().map(|c| c.rank).collect();
        assert_eq!(ranks, (5..=20).collect::<Vec<u64>>());
        // A key offered again moves to its new rank rather than appear twice.
        pool.offer(100, 0, b"k7");
        assert_eq!(
            pool.candidates
                .iter()
                .filter(|c| c.key.as_slice() == b"k7")
                .count(),
            1
        );
        assert_eq!(pool.candidates.last().map(|c| c.rank), Some(100));
    }

    #[test]
    fn tenacity_maps_to_redis_time_limits() {
        assert_eq!(tenacity_time_limit(10), Some(Duration::from_micros(500)));
        assert_eq!(tenacity_time_limit(0), Some(Duration::ZERO));
        assert_eq!(tenacity_time_limit(100), None);
        assert!(tenacity_time_limit(99).is_some_and(|d| d > Duration::from_secs(60)));
    }
}
