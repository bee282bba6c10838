//! What a shard owns, and how a command reaches it.
//!
//! A shard thread owns one [`Partition`]: its slice of every database, the
//! metadata of its client connections and its statistics. Only that thread
//! touches it, with plain `&mut` access, except in one situation: a command
//! whose keys span several shards *acquires* them (see `server::shard_loop`).
//! An acquired shard stops touching its own partition — it defers all work
//! that would — and grants the coordinating thread exclusive access until it
//! is released. Ownership moves by message (acquire, granted, release), never
//! by lock, and a [`Store`] is the coordinator's view of exactly the
//! partitions it holds.

pub mod db;
pub mod evict;
pub mod pubsub;

use std::collections::HashMap;

use bytes::Bytes;
use slab::Slab;

use crate::commands::{BlockKind, CommandSpec};
use crate::server::msg::ConnRef;
use crate::shard::db::Db;
use crate::shard::pubsub::{ClientSubs, PubSub};

/// Metadata of one client connection, kept in the partition so that
/// keyspace-wide commands (CLIENT LIST, CLIENT KILL, INFO clients) that hold
/// every shard can read and mark connections of other threads.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    pub name: Option<Vec<u8>>,
    pub lib_name: Option<Vec<u8>>,
    pub lib_ver: Option<Vec<u8>>,
    pub created_ms: u64,
    pub last_ms: u64,
    pub db: usize,
    pub resp: u8,
    pub authenticated: bool,
    pub no_evict: bool,
    pub no_touch: bool,
    /// Name of the last command run, for CLIENT LIST's `cmd=`.
    pub last_cmd: &'static str,
    /// Bytes waiting in the query and output buffers, refreshed per batch.
    pub qbuf: usize,
    pub obuf: usize,
    /// Set by CLIENT KILL (possibly from another thread holding this
    /// partition); the owning thread closes the connection after release.
    pub kill: bool,
    /// Close after the reply to the current command is written (QUIT).
    pub close_after_reply: bool,
    /// The connection's token in its shard loop, where deliveries go.
    pub token: usize,
    /// Commands queued since MULTI, or -1 outside a transaction (CLIENT
    /// LIST's `multi=`).
    pub multi: i32,
    /// Pub/sub subscriptions; `None` for the usual client with none.
    pub subs: Option<Box<ClientSubs>>,
}

impl ClientInfo {
    /// Whether the client is in RESP2's subscribed mode (or, in RESP3,
    /// simply has subscriptions).
    pub fn subscribed(&self) -> bool {
        self.subs.as_ref().is_some_and(|s| !s.is_empty())
    }
}

/// Per-shard counters reported (summed) by INFO.
#[derive(Debug, Default, Clone)]
pub struct ShardStats {
    pub commands: u64,
    pub connections_received: u64,
    pub rejected_connections: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub expired_stale_perc: f64,
    pub cross_shard_hops: u64,
}

/// A client parked by a blocking command (BLPOP, BLMOVE, ...), as recorded
/// in the partition owning its keys. The keys' queues in [`Db::blocked`]
/// hold its client id in arrival order.
///
/// When all its keys live on one shard, that shard is the waiter's sole
/// authority: it serves it, times it out and replies. When they span shards,
/// every one of them keeps a copy (`multi`), and the client's home shard
/// decides: a shard whose key receives data only wakes the home shard,
/// which retries the command as a transaction over all of them.
#[derive(Clone)]
pub struct Waiter {
    pub home: usize,
    pub conn: ConnRef,
    /// The reply slot the connection keeps open for this command.
    pub seq: u64,
    pub spec: &'static CommandSpec,
    pub args: Vec<Bytes>,
    pub db: usize,
    pub resp3: bool,
    pub keys: Vec<Bytes>,
    pub kind: BlockKind,
    /// Absolute Unix milliseconds; 0 never.
    pub deadline_ms: u64,
    /// What the client gets if the deadline passes.
    pub timeout_reply: Vec<u8>,
    pub multi: bool,
    /// For `multi` waiters: a wake-up went to the home shard and its retry
    /// has not run yet; the key's queue waits behind it (first come, first
    /// served).
    pub woken: bool,
}

/// The blocked clients recorded in one partition.
#[derive(Default)]
pub struct BlockedClients {
    /// By client id.
    pub waiters: HashMap<u64, Waiter>,
    /// Replies to unblocked clients produced while a coordinator held this
    /// partition (CLIENT UNBLOCK): (home shard, connection, slot, reply).
    /// The owning thread routes them once it is free.
    pub replies: Vec<(usize, ConnRef, u64, Vec<u8>)>,
}

impl BlockedClients {
    /// Whether the owning thread has blocked-client work to look at.
    pub fn active(&self) -> bool {
        !self.waiters.is_empty() || !self.replies.is_empty()
    }

    /// Adds a waiter and queues it on each of its keys that `owns`.
    pub fn add(&mut self, dbs: &mut [Db], waiter: Waiter, owns: impl Fn(&[u8]) -> bool) {
        let id = waiter.conn.id;
        let db = &mut dbs[waiter.db];
        for key in &waiter.keys {
            if owns(key) {
                let queue = db.blocked.entry(key.clone()).or_default();
                // BLPOP k k waits once on k.
                if queue.back() != Some(&id) {
                    queue.push_back(id);
                }
            }
        }
        self.waiters.insert(id, waiter);
    }

    /// Removes client `id`'s waiter and its places in the key queues.
    pub fn remove(&mut self, dbs: &mut [Db], id: u64) -> Option<Waiter> {
        let waiter = self.waiters.remove(&id)?;
        let db = &mut dbs[waiter.db];
        for key in &waiter.keys {
            if let Some(queue) = db.blocked.get_mut(key.as_ref()) {
                queue.retain(|&w| w != id);
                if queue.is_empty() {
                    db.blocked.remove(key.as_ref());
                }
            }
        }
        Some(waiter)
    }
}

pub struct Partition {
    pub shard_id: usize,
    pub dbs: Vec<Db>,
    pub clients: Slab<ClientInfo>,
    pub stats: ShardStats,
    /// Set when some client of this partition was marked for killing.
    pub kill_pending: bool,
    pub blocked: BlockedClients,
    pub pubsub: PubSub,
    /// Eviction candidates kept between evictions (see shard::evict).
    pub eviction: evict::Pool,
    /// The keys each client (by id) WATCHes here: (database, key).
    watching: HashMap<u64, Vec<(usize, Bytes)>>,
}

impl Partition {
    pub fn new(shard_id: usize, databases: usize) -> Partition {
        Partition {
            shard_id,
            dbs: (0..databases).map(|_| Db::new()).collect(),
            clients: Slab::new(),
            stats: ShardStats::default(),
            kill_pending: false,
            blocked: BlockedClients::default(),
            pubsub: PubSub::default(),
            eviction: evict::Pool::default(),
            watching: HashMap::new(),
        }
    }

    /// WATCH: `client` watches `key` of database `db` (held here).
    pub fn watch(&mut self, db: usize, key: &[u8], client: u64, now_ms: u64) {
        let Some(d) = self.dbs.get_mut(db) else {
            return;
        };
        d.watch(key, client, now_ms);
        let keys = self.watching.entry(client).or_default();
        if !keys.iter().any(|(i, k)| *i == db && k == key) {
            keys.push((db, Bytes::copy_from_slice(key)));
        }
    }

    /// Whether any key `client` watches here changed since it was watched.
    pub fn watch_broken(&self, client: u64, now_ms: u64) -> bool {
        self.watching.get(&client).is_some_and(|keys| {
            keys.iter().any(|(db, key)| {
                self.dbs
                    .get(*db)
                    .is_some_and(|d| d.watch_broken(key, client, now_ms))
            })
        })
    }

    /// Forgets every key `client` watches here (EXEC, DISCARD, UNWATCH,
    /// RESET, disconnection).
    pub fn unwatch_all(&mut self, client: u64) {
        if let Some(keys) = self.watching.remove(&client) {
            for (db, key) in keys {
                if let Some(d) = self.dbs.get_mut(db) {
                    d.unwatch(&key, client);
                }
            }
        }
    }

    /// How many keys `client` watches here (CLIENT LIST's `watch=`).
    pub fn watch_count(&self, client: u64) -> usize {
        self.watching.get(&client).map_or(0, Vec::len)
    }

    /// Keys removed by expiry across all databases.
    pub fn expired_keys(&self) -> u64 {
        self.dbs.iter().map(|d| d.expired).sum()
    }
}

/// A pointer to a shard's partition, published once at start-up so that a
/// coordinator holding the shard can reach it.
#[derive(Clone, Copy)]
pub struct PartitionPtr(pub *mut Partition);

// SAFETY: a PartitionPtr is only dereferenced by the owning shard thread
// while it is not acquired by anyone, or by the one coordinator the owner
// granted it to (and only until the release message is sent). The grant and
// release travel over crossbeam channels, whose send/receive pair orders the
// owner's last write before the coordinator's first read and vice versa.
unsafe impl Send for PartitionPtr {}
unsafe impl Sync for PartitionPtr {}

/// The set of partitions one command may touch: its own shard's (when it is
/// free) plus any it holds. Handlers go through [`Store::part`], which refuses
/// (with a panic caught by the dispatcher) to hand out one it does not hold.
pub struct Store<'a> {
    ptrs: &'a [PartitionPtr],
    /// Bit i set: partition i is accessible to this command.
    held: u64,
}

impl<'a> Store<'a> {
    pub fn new(ptrs: &'a [PartitionPtr], held: u64) -> Store<'a> {
        Store { ptrs, held }
    }

    /// The partitions this command may touch, one bit per shard.
    pub fn held(&self) -> u64 {
        self.held
    }

    pub fn holds(&self, shard: usize) -> bool {
        shard < 64 && self.held & (1u64 << shard) != 0
    }

    pub fn part(&mut self, shard: usize) -> &mut Partition {
        assert!(
            self.holds(shard),
            "command touched shard {shard} without holding it"
        );
        // SAFETY: the bit for `shard` is set only when this thread owns the
        // partition (it is the shard's own thread and the shard is not
        // acquired) or holds it through a grant; see PartitionPtr. The
        // returned borrow is tied to `&mut self`, so no two live references
        // to one partition come out of one Store.
        let ptr = self.ptrs[shard].0;
        unsafe { &mut *ptr }
    }
}
