//! Clients parked by blocking commands (BLPOP, BLMOVE, ...).
//!
//! A blocking command that finds nothing leaves a [`Waiter`] in the
//! partition owning its keys and keeps its reply slot open; its connection
//! runs nothing else meanwhile. Whenever a command gives one of those keys a
//! value (Db::insert notes it in `Db::ready`), the owning shard serves the
//! key's waiters first come, first served, right after that command, by
//! re-running each one's command against the key.
//!
//! A waiter whose keys all live on one shard is that shard's alone: it
//! serves it, times it out and replies to the connection's shard. One whose
//! keys span shards has a copy on each of them, and its home shard decides:
//! a key's owner only sends a wake-up (and holds the key's queue until the
//! retry has run, to keep the order), and the home shard retries the command
//! as a transaction over all its shards, or withdraws it the same way when
//! it times out. Either way the records in the partitions are the truth: a
//! retry or cancellation that finds its record gone (CLIENT UNBLOCK got
//! there first) does nothing.

use bytes::Bytes;

use super::{execute, ExecOpts, ShardLoop};
use crate::commands::{BlockRequest, CommandSpec};
use crate::server::conn::{ConnBlock, MultiBlock, Tx, TxKind};
use crate::server::msg::{ConnRef, Msg};
use crate::shard::{Store, Waiter};

impl ShardLoop {
    /// Runs a blocking command whose keys are all on this shard, parking the
    /// client if it finds nothing.
    pub(super) fn run_blocking_here(
        &mut self,
        token: usize,
        spec: &'static CommandSpec,
        args: &[Bytes],
    ) {
        let Some(mut inv) = self.local_invocation(token) else {
            return;
        };
        inv.opts.may_block = true;
        let Some(c) = self.conns.get(token) else {
            return;
        };
        let (db, resp3, conn) = (c.db, c.resp3, ConnRef { token, id: c.id });
        let mut out = Vec::new();
        let block = inv.run(spec, args, &mut out);
        let Some(c) = self.conns.get_mut(token) else {
            return;
        };
        match block {
            None => c.reply_buf().extend_from_slice(&out),
            Some(req) => {
                let seq = c.open_slot();
                c.blocked = Some(ConnBlock {
                    seq,
                    at: self.id,
                    multi: None,
                });
                let waiter = Waiter {
                    home: self.id,
                    conn,
                    seq,
                    spec,
                    args: args.to_vec(),
                    db,
                    resp3,
                    keys: req.keys,
                    kind: req.kind,
                    deadline_ms: req.deadline_ms,
                    timeout_reply: out,
                    multi: false,
                    woken: false,
                };
                self.park_here(waiter);
            }
        }
        self.after_commands();
    }

    /// Records a single-shard waiter in this shard's partition.
    pub(super) fn park_here(&mut self, waiter: Waiter) {
        let deadline = waiter.deadline_ms;
        let server = self.shared();
        let id = self.id;
        let part = self.part();
        part.blocked
            .add(&mut part.dbs, waiter, |k| server.shard_of_key(k) == id);
        self.note_deadline(deadline);
    }

    pub(super) fn note_deadline(&mut self, deadline: u64) {
        if deadline != 0 && (self.next_block_deadline == 0 || deadline < self.next_block_deadline) {
            self.next_block_deadline = deadline;
        }
    }

    /// Records the waiter of a multi-shard command (whose transaction holds
    /// every shard in `tx.need`) on each shard owning a key it waits on.
    pub(super) fn park_multi(&mut self, token: usize, tx: &Tx, req: BlockRequest, out: Vec<u8>) {
        let server = self.shared();
        let Some(c) = self.conns.get_mut(token) else {
            return;
        };
        let conn = ConnRef { token, id: c.id };
        let waiter = Waiter {
            home: self.id,
            conn,
            seq: tx.seq,
            spec: tx.spec,
            args: tx.args.clone(),
            db: tx.db,
            resp3: tx.resp3,
            keys: req.keys,
            kind: req.kind,
            deadline_ms: req.deadline_ms,
            timeout_reply: out,
            multi: true,
            woken: false,
        };
        let wait = shards_of(server, &waiter.keys);
        let mut store = Store::new(&server.partitions, tx.need);
        let mut rest = wait;
        while rest != 0 {
            let shard = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            let part = store.part(shard);
            part.blocked.add(&mut part.dbs, waiter.clone(), |k| {
                server.shard_of_key(k) == shard
            });
        }
        c.blocked = Some(ConnBlock {
            seq: tx.seq,
            at: self.id,
            multi: Some(Box::new(MultiBlock {
                spec: tx.spec,
                args: tx.args.clone(),
                db: tx.db,
                resp3: tx.resp3,
                need: tx.need,
                wait,
                deadline_ms: req.deadline_ms,
            })),
        });
        self.multi_blocked.push(token);
        self.note_deadline(req.deadline_ms);
    }

    /// Serves blocked clients whose keys received data and routes replies
    /// left by coordinators; called after every command that ran here.
    pub(super) fn after_commands(&mut self) {
        if self.hold.is_some() {
            return;
        }
        if self.cached.notify != self.applied_notify {
            self.refresh_config();
        }
        if self.cached.notify != 0 {
            self.publish_events(1u64 << self.id);
        }
        if !self.part().pubsub.deliveries.is_empty() {
            self.deliver_messages();
        }
        if !self.part().blocked.active() {
            return;
        }
        let replies = std::mem::take(&mut self.part().blocked.replies);
        for (home, conn, seq, data) in replies {
            self.route_reply(home, conn, seq, data);
        }
        loop {
            let part = self.part();
            let mut ready = Vec::new();
            for (i, db) in part.dbs.iter_mut().enumerate() {
                if !db.ready.is_empty() {
                    ready.extend(db.ready.drain(..).map(|k| (i, k)));
                }
            }
            if ready.is_empty() {
                break;
            }
            for (db, key) in ready {
                self.serve_key(db, &key);
            }
        }
    }

    /// Serves the waiters of `key`, in order, while it has something for them.
    fn serve_key(&mut self, db: usize, key: &Bytes) {
        let server = self.shared();
        let now = self.now_ms;
        loop {
            let part = self.part();
            let kind = match part.dbs[db].get(key, now) {
                Some(e) => e.value.block_kind(),
                None => None,
            };
            let Some(kind) = kind else {
                return;
            };
            let Some(queue) = part.dbs[db].blocked.get(key.as_ref()) else {
                return;
            };
            // The first waiter this kind of value can serve (a BZPOPMIN
            // waiter stays put when the key becomes a list).
            let waiters = &part.blocked.waiters;
            let Some(&id) = queue
                .iter()
                .find(|id| waiters.get(id).is_some_and(|w| w.kind == kind))
            else {
                return;
            };
            let Some(w) = part.blocked.waiters.get_mut(&id) else {
                return;
            };
            if w.multi {
                if !w.woken {
                    w.woken = true;
                    // Through the outbox even to this shard: starting the
                    // retry here and now could take this shard's partition
                    // in the middle of serving it.
                    let (home, conn) = (w.home, w.conn);
                    self.outbox[home].push(Msg::Wake {
                        conn,
                        key: key.clone(),
                    });
                }
                return;
            }
            let (spec, args, wdb, resp3) = (w.spec, w.args.clone(), w.db, w.resp3);
            let mut out = Vec::new();
            let opts = ExecOpts {
                may_block: true,
                ready_key: Some(key),
                client_id: w.conn.id,
            };
            let again = execute(
                server,
                self.id,
                1u64 << self.id,
                spec,
                &args,
                wdb,
                resp3,
                None,
                now,
                opts,
                &mut out,
            );
            if again.is_some() {
                // Nothing for it after all; it keeps its place.
                return;
            }
            let part = self.part();
            let Some(w) = part.blocked.remove(&mut part.dbs, id) else {
                return;
            };
            self.route_reply(w.home, w.conn, w.seq, out);
        }
    }

    fn route_reply(&mut self, home: usize, conn: ConnRef, seq: u64, data: Vec<u8>) {
        if home == self.id {
            self.deliver(conn, seq, data);
        } else {
            self.outbox[home].push(Msg::Reply { conn, seq, data });
        }
    }

    /// A reply for slot `seq` of a connection of this shard.
    pub(super) fn deliver(&mut self, conn: ConnRef, seq: u64, data: Vec<u8>) {
        let Some(c) = self.conns.get_mut(conn.token) else {
            return;
        };
        if c.id != conn.id {
            return;
        }
        c.fill_slot(seq, data);
        if c.blocked.as_ref().is_some_and(|b| b.seq == seq) {
            c.blocked = None;
            self.multi_blocked.retain(|&t| t != conn.token);
            self.mark_runnable(conn.token);
        }
        self.mark_dirty(conn.token);
    }

    /// Times out this shard's waiters whose deadline passed, and withdraws
    /// its connections' multi-shard waits likewise.
    pub(super) fn expire_blocked(&mut self) {
        let now = self.now_ms;
        let mut next = 0u64;
        let mut soonest = |d: u64| {
            if d != 0 && (next == 0 || d < next) {
                next = d;
            }
        };
        let part = self.part();
        let mut due = Vec::new();
        for (&id, w) in &part.blocked.waiters {
            if w.multi || w.deadline_ms == 0 {
                continue;
            }
            if w.deadline_ms <= now {
                due.push(id);
            } else {
                soonest(w.deadline_ms);
            }
        }
        for id in due {
            let part = self.part();
            if let Some(w) = part.blocked.remove(&mut part.dbs, id) {
                self.route_reply(w.home, w.conn, w.seq, w.timeout_reply);
            }
        }
        for token in self.multi_blocked.clone() {
            let Some(c) = self.conns.get_mut(token) else {
                continue;
            };
            let Some(mb) = c.blocked.as_ref().and_then(|b| b.multi.as_ref()) else {
                continue;
            };
            if mb.deadline_ms == 0 {
                continue;
            }
            if mb.deadline_ms > now {
                soonest(mb.deadline_ms);
            } else if c.tx.is_none() {
                self.start_blocked_tx(token, TxKind::Cancel);
            } else {
                // A retry is in flight; it re-notes the deadline when done.
                soonest(mb.deadline_ms);
            }
        }
        self.next_block_deadline = next;
    }

    /// Starts a retry or cancellation transaction for a multi-shard waiter.
    fn start_blocked_tx(&mut self, token: usize, kind: TxKind) {
        let Some(c) = self.conns.get_mut(token) else {
            return;
        };
        let Some(b) = c.blocked.as_ref() else {
            return;
        };
        let Some(mb) = b.multi.as_ref() else {
            return;
        };
        let txid = self.next_txid;
        self.next_txid += 1;
        c.tx = Some(Tx {
            kind,
            txid,
            seq: b.seq,
            spec: mb.spec,
            args: mb.args.clone(),
            need: mb.need,
            granted: 0,
            db: mb.db,
            resp3: mb.resp3,
            exec: None,
        });
        self.acquire_next(token);
    }

    /// A key a multi-shard waiter of this shard waits on received data.
    pub(super) fn on_wake(&mut self, conn: ConnRef, key: Bytes) {
        let Some(c) = self.conns.get(conn.token) else {
            return;
        };
        let multi = c.blocked.as_ref().is_some_and(|b| b.multi.is_some());
        // A retry already in flight sees the data too; if it fails it
        // re-signals the keys.
        if c.id == conn.id && multi && c.tx.is_none() {
            self.start_blocked_tx(conn.token, TxKind::Retry { key });
        }
    }

    /// The retry of a multi-shard waiter, run while holding its shards.
    pub(super) fn retry_blocked(&mut self, token: usize, tx: &Tx, key: &Bytes) {
        let server = self.shared();
        let now = self.now_ms;
        let Some(c) = self.conns.get_mut(token) else {
            return;
        };
        let id = c.id;
        let Some(wait) = c
            .blocked
            .as_ref()
            .and_then(|b| b.multi.as_ref())
            .map(|m| m.wait)
        else {
            return;
        };
        let first = wait.trailing_zeros() as usize;
        let Some(keys) = Store::new(&server.partitions, tx.need)
            .part(first)
            .blocked
            .waiters
            .get(&id)
            .map(|w| w.keys.clone())
        else {
            // Withdrawn by CLIENT UNBLOCK; its reply is on the way.
            return;
        };
        let opts = ExecOpts {
            may_block: true,
            ready_key: Some(key),
            ..ExecOpts::default()
        };
        let mut out = Vec::new();
        let again = execute(
            server, self.id, tx.need, tx.spec, &tx.args, tx.db, tx.resp3, None, now, opts, &mut out,
        );
        let mut store = Store::new(&server.partitions, tx.need);
        match again {
            Some(_) => {
                for_each_shard(wait, |s| {
                    if let Some(w) = store.part(s).blocked.waiters.get_mut(&id) {
                        w.woken = false;
                    }
                });
                let deadline = self
                    .conns
                    .get(token)
                    .and_then(|c| c.blocked.as_ref())
                    .and_then(|b| b.multi.as_ref())
                    .map_or(0, |m| m.deadline_ms);
                self.note_deadline(deadline);
            }
            None => {
                for_each_shard(wait, |s| {
                    let part = store.part(s);
                    part.blocked.remove(&mut part.dbs, id);
                });
                if let Some(c) = self.conns.get_mut(token) {
                    c.blocked = None;
                    c.fill_slot(tx.seq, out);
                }
                self.multi_blocked.retain(|&t| t != token);
            }
        }
        // Other waiters may now be served from what is left, or this one
        // from a key other than the one that woke it.
        signal_keys(server, &mut store, tx.db, &keys);
    }

    /// The timeout of a multi-shard waiter, run while holding its shards.
    pub(super) fn cancel_blocked(&mut self, token: usize, tx: &Tx) {
        let server = self.shared();
        let Some(c) = self.conns.get_mut(token) else {
            return;
        };
        let id = c.id;
        let Some(wait) = c
            .blocked
            .as_ref()
            .and_then(|b| b.multi.as_ref())
            .map(|m| m.wait)
        else {
            return;
        };
        let mut store = Store::new(&server.partitions, tx.need);
        let mut removed: Option<Waiter> = None;
        for_each_shard(wait, |s| {
            let part = store.part(s);
            if let Some(w) = part.blocked.remove(&mut part.dbs, id) {
                removed = Some(w);
            }
        });
        let Some(w) = removed else {
            return;
        };
        signal_keys(server, &mut store, w.db, &w.keys);
        c.blocked = None;
        c.fill_slot(tx.seq, w.timeout_reply);
        self.multi_blocked.retain(|&t| t != token);
    }

    /// Withdraws client `id`'s waiter from this shard's partition (its
    /// connection left, or its wait ended elsewhere).
    pub(super) fn withdraw_here(&mut self, id: u64) {
        let server = self.shared();
        let self_id = self.id;
        let part = self.part();
        if let Some(w) = part.blocked.remove(&mut part.dbs, id) {
            // The queue may have been holding for it.
            for key in &w.keys {
                if server.shard_of_key(key) == self_id {
                    part.dbs[w.db].signal_ready(key);
                }
            }
        }
        self.after_commands();
    }

    /// The connection of a blocked client is closing: withdraw its waiter
    /// wherever it is recorded.
    pub(super) fn abandon_wait(&mut self, client_id: u64, token: usize, b: ConnBlock) {
        self.multi_blocked.retain(|&t| t != token);
        let shards = match &b.multi {
            Some(m) => m.wait,
            None => 1u64 << b.at,
        };
        for_each_shard(shards, |s| {
            if s == self.id {
                self.withdraw_here(client_id);
            } else {
                self.outbox[s].push(Msg::Cancel { client_id });
            }
        });
    }
}

/// The shards owning `keys`, as a bit set.
fn shards_of(server: &crate::server::Server, keys: &[Bytes]) -> u64 {
    keys.iter()
        .fold(0u64, |m, k| m | 1u64 << server.shard_of_key(k))
}

fn for_each_shard(mut set: u64, mut f: impl FnMut(usize)) {
    while set != 0 {
        let shard = set.trailing_zeros() as usize;
        set &= set - 1;
        f(shard);
    }
}

/// Marks `keys` ready in their (held) partitions, so their owners re-check
/// their waiters once released.
fn signal_keys(server: &crate::server::Server, store: &mut Store, db: usize, keys: &[Bytes]) {
    for key in keys {
        let shard = server.shard_of_key(key);
        if store.holds(shard) {
            store.part(shard).dbs[db].signal_ready(key);
        }
    }
}
