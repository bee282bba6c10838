//! MULTI/EXEC/DISCARD and WATCH/UNWATCH.
//!
//! A transaction is queued on the connection ([`Multi`]) and runs at EXEC
//! as one unit over every shard it touches: the union of its commands'
//! shards, the shards of its watched keys and the connection's own shard
//! (for client state such as SELECT) are acquired like any multi-shard
//! command's, so no other client observes part of it.
//!
//! WATCH leaves a mark on each watched key in the partition that owns it
//! (`Db::watch`); every change to a key raises a keyspace event, and the
//! event hook marks its watchers dirty (Redis's signalModifiedKey), as do
//! FLUSHDB/FLUSHALL/SWAPDB for the keys they change. The connection only
//! remembers which shards hold its marks. EXEC, holding those shards,
//! checks the marks (and whether a watched key has expired since), then
//! removes them; UNWATCH, DISCARD, RESET and disconnection remove them by
//! message, which reaches each shard behind the WATCH that made them (one
//! FIFO channel per pair of shards).

use bytes::Bytes;
use shoal_protocol::encode;

use super::{ExecOpts, Invocation, ShardLoop};
use crate::commands::{self, flag, CommandSpec, Scope};
use crate::server::conn::{split_final_integer, Multi, Tx, TxKind};
use crate::server::msg::Msg;
use crate::shard::{evict, Store};

const EXECABORT: &[u8] = b"EXECABORT Transaction discarded because of previous errors.";

impl ShardLoop {
    /// The transaction side of dispatch, for a connection inside MULTI or a
    /// command that starts, ends or watches for one. Returns false when the
    /// command should still be dispatched as usual (WATCH, RESET, QUIT).
    pub(super) fn transaction_command(
        &mut self,
        token: usize,
        spec: &'static CommandSpec,
        args: &[Bytes],
    ) -> bool {
        let server = self.shared();
        let Some(c) = self.conns.get_mut(token) else {
            return true;
        };
        let in_multi = c.multi.is_some();
        match spec.name {
            "multi" => {
                if in_multi {
                    encode::error(c.reply_buf(), b"ERR MULTI calls can not be nested");
                } else {
                    c.multi = Some(Box::default());
                    encode::ok(c.reply_buf());
                    self.note_queued(token, 0);
                }
                true
            }
            "exec" => {
                match c.multi.take() {
                    None => encode::error(c.reply_buf(), b"ERR EXEC without MULTI"),
                    Some(m) => {
                        self.note_queued(token, -1);
                        self.exec(token, spec, m);
                    }
                }
                true
            }
            "discard" => {
                if c.multi.take().is_none() {
                    encode::error(c.reply_buf(), b"ERR DISCARD without MULTI");
                } else {
                    encode::ok(c.reply_buf());
                    self.unwatch_all(token);
                    self.note_queued(token, -1);
                }
                true
            }
            "watch" if in_multi => {
                encode::error(c.reply_buf(), b"ERR WATCH inside MULTI is not allowed");
                true
            }
            "watch" => {
                let mut shards = 1u64 << self.id;
                if server.nshards() > 1 {
                    shards = 0;
                    spec.for_each_key_of(args, |i| {
                        shards |= 1u64 << server.shard_of_key(&args[i]);
                    });
                }
                c.watching |= shards;
                false
            }
            "unwatch" if !in_multi => {
                encode::ok(c.reply_buf());
                self.unwatch_all(token);
                true
            }
            "reset" => {
                c.multi = None;
                self.unwatch_all(token);
                self.note_queued(token, -1);
                false
            }
            "quit" => false,
            _ => {
                let Some(m) = c.multi.as_mut() else {
                    return false;
                };
                if spec.has(flag::NO_MULTI) {
                    m.aborted = true;
                    encode::error(
                        c.reply_buf(),
                        b"ERR Command not allowed inside a transaction",
                    );
                } else {
                    m.commands.push((spec, args.to_vec()));
                    let queued = m.commands.len();
                    encode::simple(c.reply_buf(), b"QUEUED");
                    self.note_queued(token, queued);
                }
                true
            }
        }
    }

    /// EXEC: runs the queued commands now if they need no other shard,
    /// else acquires the shards and runs them in `run_tx`.
    fn exec(&mut self, token: usize, exec: &'static CommandSpec, multi: Box<Multi>) {
        let server = self.shared();
        let nshards = server.nshards();
        let own = 1u64 << self.id;
        let Some(c) = self.conns.get_mut(token) else {
            return;
        };
        if multi.aborted {
            encode::error(c.reply_buf(), EXECABORT);
            self.unwatch_all(token);
            return;
        }
        let all = if nshards >= 64 {
            u64::MAX
        } else {
            (1u64 << nshards) - 1
        };
        let mut need = own | c.watching;
        for (spec, args) in &multi.commands {
            need |= shards_of(server, spec, args, all);
        }
        if need == own {
            let out = self.run_exec(token, own, &multi.commands);
            if let Some(c) = self.conns.get_mut(token) {
                c.reply_buf().extend_from_slice(&out);
            }
            return;
        }
        let seq = c.open_slot();
        let txid = self.next_txid;
        self.next_txid += 1;
        let (db, resp3) = (c.db, c.resp3);
        c.tx = Some(Tx {
            kind: TxKind::Run,
            txid,
            seq,
            spec: exec,
            args: Vec::new(),
            need,
            granted: 0,
            db,
            resp3,
            exec: Some(multi),
        });
        self.part().stats.cross_shard_hops += 1;
        self.acquire_next(token);
    }

    /// Runs a transaction's commands with the shards in `held` (the
    /// connection's own among them) and returns EXEC's reply. Keyspace
    /// events and blocked clients are seen to here when nothing else is
    /// held, else by the caller after the release.
    pub(super) fn run_exec(
        &mut self,
        token: usize,
        held: u64,
        commands: &[(&'static CommandSpec, Vec<Bytes>)],
    ) -> Vec<u8> {
        let server = self.shared();
        let now = self.now_ms;
        let self_id = self.id;
        let mut out = Vec::new();
        let Some(c) = self.conns.get_mut(token) else {
            return out;
        };
        let (client, client_id, watching) = (c.client, c.id, c.watching);
        c.watching = 0;
        let mut broken = false;
        let mut store = Store::new(&server.partitions, held);
        for shard in shards(watching) {
            let part = store.part(shard);
            broken |= part.watch_broken(client_id, now);
            part.unwatch_all(client_id);
        }
        let mut inv = Invocation {
            server,
            shard_id: self_id,
            held,
            db: c.db,
            resp3: c.resp3,
            client: Some(client),
            now_ms: now,
            opts: ExecOpts {
                client_id,
                ..ExecOpts::default()
            },
        };
        if broken {
            encode::null_array(&mut out, inv.resp3);
        } else if self.cached.maxmemory != 0
            && commands.iter().any(|(s, _)| s.has(flag::DENYOOM))
            && !evict::make_room(server, held, now)
        {
            // Redis refuses the whole EXEC, as it would the one command.
            encode::error(&mut out, evict::OOM_ERROR.as_bytes());
        } else {
            store.part(self_id).stats.commands += commands.len() as u64;
            encode::array_len(&mut out, commands.len());
            // A script among the commands may run long: see server::busy.
            self.serving_while_busy(token, || {
                for (spec, args) in commands {
                    if spec.scope == Scope::FanOut {
                        // Each shard serves its own subscribers; the reply is
                        // the sum of their counts.
                        let mut sum = 0;
                        for shard in shards(held) {
                            let mut part_out = Vec::new();
                            let on_shard = Invocation {
                                shard_id: shard,
                                client: (shard == self_id).then_some(client),
                                ..inv
                            };
                            on_shard.run(spec, args, &mut part_out);
                            let (prefix, n) = split_final_integer(&part_out);
                            out.extend_from_slice(prefix);
                            sum += n;
                        }
                        encode::integer(&mut out, sum);
                        continue;
                    }
                    inv.run(spec, args, &mut out);
                    if matches!(spec.keys, commands::Keys::None) {
                        // SELECT, HELLO, ...: later commands see the change.
                        if let Some(info) = store.part(self_id).clients.get(client) {
                            inv.db = info.db;
                            inv.resp3 = info.resp == 3;
                        }
                    }
                }
            });
        }
        if held == 1u64 << self_id {
            self.sync_client(token);
            self.after_commands();
        }
        out
    }

    /// Records for CLIENT LIST how many commands the connection has queued
    /// (-1: not in a transaction). Dispatch runs only while this shard's
    /// partition is free.
    pub(super) fn note_queued(&mut self, token: usize, queued: impl TryInto<i32>) {
        let Some(client) = self.conns.get(token).map(|c| c.client) else {
            return;
        };
        if let Some(info) = self.part().clients.get_mut(client) {
            info.multi = queued.try_into().unwrap_or(i32::MAX);
        }
    }

    /// Forgets the connection's watched keys on every shard holding them.
    pub(super) fn unwatch_all(&mut self, token: usize) {
        let Some(c) = self.conns.get_mut(token) else {
            return;
        };
        let (client_id, watching) = (c.id, c.watching);
        c.watching = 0;
        for shard in shards(watching) {
            if shard == self.id {
                self.part().unwatch_all(client_id);
            } else {
                self.outbox[shard].push(Msg::Unwatch { client_id });
            }
        }
    }
}

/// The shards a queued command needs besides the connection's own, with
/// `all` for keyspace-wide and fan-out commands.
fn shards_of(server: &crate::server::Server, spec: &CommandSpec, args: &[Bytes], all: u64) -> u64 {
    match spec.scope {
        Scope::All | Scope::FanOut => return all,
        Scope::Home => return 0,
        Scope::Keys => {}
    }
    let mut need = 0u64;
    spec.for_each_key_of(args, |i| need |= 1u64 << server.shard_of_key(&args[i]));
    if need == 0 && spec.has(flag::ALL_SHARDS_WITHOUT_KEYS) {
        return all;
    }
    need
}

/// The shard indexes set in `mask`, ascending.
fn shards(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if mask == 0 {
            return None;
        }
        let s = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        Some(s)
    })
}
