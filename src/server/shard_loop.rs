//! The event loop of one shard thread.
//!
//! # How a command finds its data
//!
//! A connection lives on one shard thread. When a command arrives its keys
//! are mapped to shards (slot = CRC16 mod 16384, shard = owner of the slot):
//!
//! * **local** — no keys, or all on this shard: it runs inline, now.
//! * **one remote shard** — it travels to that shard as an `Exec` message and
//!   its reply comes back as a `Reply`; the connection keeps parsing and
//!   running later commands meanwhile, and [`Conn`] puts the replies back in
//!   request order. Per-key order holds because a key always lives on the
//!   same shard and each pair of shards talks over one FIFO channel.
//! * **several shards** (MSET a b, DEL a b, RENAME, FLUSHALL, ...) — the
//!   connection's thread becomes the coordinator of a transaction: it
//!   acquires the shards it needs *in ascending shard order*, one at a time
//!   (so two coordinators can never wait on each other in a cycle), runs the
//!   command against all of them at once through a [`Store`], then releases
//!   them. An acquired shard is *held*: it keeps running its loop — reading
//!   sockets, routing replies, answering grants — but defers everything that
//!   would touch its partition (its own clients' commands, `Exec`s, further
//!   acquisitions, new connections) until the release, and runs those in
//!   arrival order afterwards. No thread ever blocks, and no other client can
//!   observe half of a multi-shard command: this is two-phase locking with
//!   the lock point at the last grant. A connection runs nothing after a
//!   transaction until it is done, so a pipeline sees its own effects in order.
//!
//! # Cost
//!
//! Messages go out in one batch per destination per iteration, and a
//! destination is woken (an eventfd write) only if it may be asleep. Each
//! connection's replies leave in one `write` per iteration. Reads assume a
//! short read drained the socket (true for TCP), saving the EAGAIN read.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes};
use crossbeam_channel::Receiver;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use shoal_protocol::{encode, Limits, RequestParser};
use slab::Slab;

mod blocking;
mod multi;
mod pubsub;
mod script;

use crate::commands::{self, BlockRequest, CommandSpec, Ctx, Scope};
use crate::config::OutputLimit;
use crate::log;
use crate::server::conn::ConnBlock;
use crate::server::conn::{Conn, Tx, TxKind};
use crate::server::msg::{ConnRef, Msg};
use crate::server::{now_ms, signalled, Server};
use crate::shard::evict;
use crate::shard::pubsub::SubKind;
use crate::shard::{ClientInfo, Partition, Store, Waiter};

pub const WAKER: Token = Token(usize::MAX - 1);

/// Cores this process may run on.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
const LISTENER: Token = Token(usize::MAX - 2);
const READ_CHUNK: usize = 16 * 1024;

/// The configuration values the loop reads per command or per iteration,
/// copied out of the shared config whenever `config_epoch` moves.
struct Cached {
    epoch: u64,
    limits: Limits,
    auth_required: bool,
    maxclients: u64,
    hz: u32,
    query_buffer_limit: usize,
    idle_timeout_secs: u64,
    active_expire_effort: u32,
    /// `notify-keyspace-events` bits.
    notify: u32,
    /// How long to keep polling after activity before sleeping (see
    /// `busy-poll-us`).
    busy_poll: Duration,
    /// `client-output-buffer-limit` for normal clients and subscribers.
    normal_limit: OutputLimit,
    pubsub_limit: OutputLimit,
    /// 0 = no memory limit: writes skip the eviction check entirely.
    maxmemory: u64,
}

impl Cached {
    fn load(server: &Server) -> Cached {
        let epoch = server.config_epoch.load(Ordering::Acquire);
        let c = match server.config.read() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        Cached {
            epoch,
            limits: Limits {
                max_bulk_len: c.proto_max_bulk_len as usize,
                ..Limits::default()
            },
            auth_required: c.requirepass.is_some(),
            maxclients: c.maxclients,
            hz: c.hz.clamp(1, 500),
            query_buffer_limit: c.client_query_buffer_limit as usize,
            idle_timeout_secs: c.timeout,
            active_expire_effort: c.active_expire_effort.clamp(1, 10),
            maxmemory: c.maxmemory,
            busy_poll: Duration::from_micros(match c.busy_poll_us {
                us if us >= 0 => us as u64,
                _ if c.shards < cores() => 50,
                _ => 0,
            }),
            normal_limit: c.client_output_buffer_limit[0],
            pubsub_limit: c.client_output_buffer_limit[2],
            notify: if c.notify_keyspace_events.is_disabled() {
                0
            } else {
                c.notify_keyspace_events.bits()
            },
        }
    }
}

pub struct ShardLoop {
    id: usize,
    server: Arc<Server>,
    poll: Poll,
    inbox: Receiver<Vec<Msg>>,
    listener: Option<TcpListener>,
    conns: Slab<Conn>,
    /// Messages waiting to be sent, one batch per destination shard.
    outbox: Vec<Vec<Msg>>,
    /// The transaction holding this shard's partition, if any.
    hold: Option<u64>,
    /// Messages that arrived while held, in arrival order.
    deferred: VecDeque<Msg>,
    /// Connections with work to resume (input to parse, unread socket data).
    runnable: Vec<usize>,
    /// Connections with output to write this iteration.
    dirty: Vec<usize>,
    /// Connections to close once the partition is free.
    to_close: Vec<usize>,
    next_txid: u64,
    next_conn_shard: usize,
    now_ms: u64,
    cached: Cached,
    next_cron: Instant,
    /// The earliest deadline (Unix ms) of a blocked client this shard times
    /// out; 0 when none.
    next_block_deadline: u64,
    /// Connections of this shard blocked on keys of several shards, whose
    /// timeouts this shard enforces.
    multi_blocked: Vec<usize>,
    /// The notification classes last copied into this shard's databases.
    applied_notify: u32,
    /// When the last poll returned events.
    last_activity: Instant,
    /// Events taken while a script was busy that the loop must still handle.
    busy_later: Vec<Token>,
}

impl ShardLoop {
    pub fn new(
        id: usize,
        server: Arc<Server>,
        poll: Poll,
        inbox: Receiver<Vec<Msg>>,
        mut listener: Option<TcpListener>,
    ) -> io::Result<ShardLoop> {
        if let Some(l) = listener.as_mut() {
            poll.registry().register(l, LISTENER, Interest::READABLE)?;
        }
        let n = server.nshards();
        let cached = Cached::load(&server);
        Ok(ShardLoop {
            id,
            poll,
            inbox,
            listener,
            conns: Slab::new(),
            outbox: (0..n).map(|_| Vec::new()).collect(),
            hold: None,
            deferred: VecDeque::new(),
            runnable: Vec::new(),
            dirty: Vec::new(),
            to_close: Vec::new(),
            next_txid: (id as u64) << 48,
            next_conn_shard: 0,
            now_ms: now_ms(),
            cached,
            next_cron: Instant::now(),
            next_block_deadline: 0,
            multi_blocked: Vec::new(),
            applied_notify: 0,
            last_activity: Instant::now(),
            busy_later: Vec::new(),
            server,
        })
    }

    /// This shard's partition. Only for use while the shard is not held.
    fn part(&mut self) -> &mut Partition {
        debug_assert!(self.hold.is_none());
        // SAFETY: the partition belongs to this thread, and it is touched here
        // only while no coordinator holds it (callers check `hold`), so no
        // other reference to it exists.
        let ptr = self.server.partitions[self.id].0;
        unsafe { &mut *ptr }
    }

    /// The shared server state, borrowed independently of `self` so the
    /// per-command path need not clone the `Arc` (an atomic increment and
    /// decrement on a cache line every shard thread touches).
    fn shared<'s>(&self) -> &'s Server {
        let ptr = Arc::as_ptr(&self.server);
        // SAFETY: `self.server` keeps the Server alive for as long as this
        // ShardLoop exists, and every borrow made here ends within one
        // method call on it; the Server is never mutated except through
        // its own atomics and locks.
        unsafe { &*ptr }
    }

    pub fn run(&mut self) {
        crate::alloc::register_shard_thread(self.id);
        let mut events = Events::with_capacity(1024);
        loop {
            let spin = self.cached.busy_poll;
            if signalled() && !self.server.shutdown.load(Ordering::Relaxed) {
                log::notice("Received a shutdown signal, scheduling shutdown...");
                self.server.request_shutdown();
            }
            if self.server.shutdown.load(Ordering::Relaxed) {
                break;
            }
            let handle = &self.server.shards[self.id];
            let busy = !self.inbox.is_empty() || (self.hold.is_none() && !self.runnable.is_empty());
            // Busy polling: right after activity, poll without sleeping for
            // a while. A client that writes to a sleeping shard pays for
            // waking it (on its own core); with redis-benchmark -P 1 that
            // cost made the saturated client 3-5% slower against Shoal than
            // against Redis, which sleeps less because it is slower, and 50
            // µs of polling turned 0.97x into 1.14x. With no spare core the
            // polling competes with the clients (0.65x), hence the default.
            let spinning = !busy && self.last_activity.elapsed() < spin;
            if !spinning {
                handle.sleeping.store(true, Ordering::SeqCst);
            }
            let busy = busy || !self.inbox.is_empty();
            let timeout = if busy || spinning {
                Duration::ZERO
            } else {
                let cron = self.next_cron.saturating_duration_since(Instant::now());
                match self.next_block_deadline {
                    0 => cron,
                    _ if self.hold.is_some() => cron,
                    d => cron.min(Duration::from_millis(d.saturating_sub(now_ms()))),
                }
            };
            let polled = self.poll.poll(&mut events, Some(timeout));
            if !spinning {
                handle.sleeping.store(false, Ordering::SeqCst);
            }
            if !events.is_empty() {
                self.last_activity = Instant::now();
            }
            if let Err(e) = polled {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::warning(&format!("poll failed on shard {}: {e}", self.id));
                }
                continue;
            }
            self.now_ms = now_ms();
            self.refresh_config();
            for ev in events.iter() {
                match ev.token() {
                    WAKER => {}
                    LISTENER => self.accept(),
                    Token(t) => {
                        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                            self.on_readable(t);
                        }
                        if ev.is_writable() {
                            self.mark_dirty(t);
                        }
                    }
                }
            }
            if !self.busy_later.is_empty() {
                self.handle_busy_later();
            }
            self.drain_inbox();
            if self.next_block_deadline != 0
                && self.now_ms >= self.next_block_deadline
                && self.hold.is_none()
            {
                self.expire_blocked();
            }
            self.run_runnable();
            if Instant::now() >= self.next_cron {
                self.cron();
            }
            self.flush_outbox();
            self.flush_dirty();
            self.close_pending();
        }
        self.shutdown();
    }

    fn shutdown(&mut self) {
        // Flush what is already produced, as a courtesy to clients.
        for (_, c) in self.conns.iter_mut() {
            if !c.out.is_empty() {
                let _ = c.sock.write(&c.out);
            }
        }
        let n = self.conns.len();
        self.conns.clear();
        self.server
            .connected_clients
            .fetch_sub(n, Ordering::Relaxed);
    }

    // ---- connections -------------------------------------------------------

    fn accept(&mut self) {
        loop {
            let Some(listener) = self.listener.as_ref() else {
                return;
            };
            match listener.accept() {
                Ok((mut sock, _)) => {
                    let clients = self.server.connected_clients.load(Ordering::Relaxed);
                    if clients as u64 >= self.cached.maxclients {
                        let _ = sock.write(b"-ERR max number of clients reached\r\n");
                        if self.hold.is_none() {
                            self.part().stats.rejected_connections += 1;
                        }
                        continue;
                    }
                    self.server
                        .connected_clients
                        .fetch_add(1, Ordering::Relaxed);
                    self.server
                        .total_connections
                        .fetch_add(1, Ordering::Relaxed);
                    let target = self.next_conn_shard % self.server.nshards();
                    self.next_conn_shard = self.next_conn_shard.wrapping_add(1);
                    if target == self.id {
                        self.add_conn(sock);
                    } else {
                        self.outbox[target].push(Msg::NewConn(sock));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE and friends: keep serving the connections we have.
                    log::warning(&format!("Error accepting a client connection: {e}"));
                    return;
                }
            }
        }
    }

    fn add_conn(&mut self, sock: TcpStream) {
        if self.hold.is_some() {
            self.deferred.push_back(Msg::NewConn(sock));
            return;
        }
        let _ = sock.set_nodelay(true);
        let id = self.server.next_client_id.fetch_add(1, Ordering::Relaxed);
        let addr = sock.peer_addr().map(|a| a.to_string()).unwrap_or_default();
        let laddr = sock.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let fd = sock.as_raw_fd();
        let now = self.now_ms;
        let auth_required = self.cached.auth_required;
        let info = ClientInfo {
            id,
            addr,
            laddr,
            fd,
            name: None,
            lib_name: None,
            lib_ver: None,
            created_ms: now,
            last_ms: now,
            db: 0,
            resp: 2,
            authenticated: !auth_required,
            no_evict: false,
            no_touch: false,
            last_cmd: "NULL",
            qbuf: 0,
            obuf: 0,
            kill: false,
            close_after_reply: false,
            token: self.conns.vacant_key(),
            multi: -1,
            subs: None,
        };
        let part = self.part();
        part.stats.connections_received += 1;
        let client = part.clients.insert(info);
        let entry = self.conns.vacant_entry();
        let token = entry.key();
        let mut parser = RequestParser::new(self.cached.limits);
        // Redis 7.0 bounds what an unauthenticated client may send.
        parser.set_auth_required(auth_required);
        let mut conn = Conn::new(sock, id, client, parser);
        conn.authenticated = !auth_required;
        if let Err(e) =
            self.poll
                .registry()
                .register(&mut conn.sock, Token(token), Interest::READABLE)
        {
            log::warning(&format!("could not register a connection: {e}"));
            self.part().clients.remove(client);
            self.server
                .connected_clients
                .fetch_sub(1, Ordering::Relaxed);
            return;
        }
        entry.insert(conn);
    }

    fn mark_dirty(&mut self, token: usize) {
        if let Some(c) = self.conns.get_mut(token) {
            if !c.in_dirty {
                c.in_dirty = true;
                self.dirty.push(token);
            }
        }
    }

    fn mark_runnable(&mut self, token: usize) {
        if let Some(c) = self.conns.get_mut(token) {
            if !c.in_runnable {
                c.in_runnable = true;
                self.runnable.push(token);
            }
        }
    }

    fn on_readable(&mut self, token: usize) {
        let held = self.held_for_clients();
        let Some(c) = self.conns.get_mut(token) else {
            return;
        };
        if held || !c.may_read() {
            // Leave the bytes in the socket until we can act on them; the
            // connection is resumed when the shard is released or its
            // transaction completes.
            c.read_pending = true;
            if held {
                self.mark_runnable(token);
            }
            return;
        }
        self.read(token);
    }

    /// Reads what the socket has and runs the commands in it.
    fn read(&mut self, token: usize) {
        loop {
            let limit = self.cached.query_buffer_limit;
            let Some(c) = self.conns.get_mut(token) else {
                return;
            };
            c.read_pending = false;
            if c.rbuf.capacity() - c.rbuf.len() < READ_CHUNK / 4 {
                c.rbuf.reserve(READ_CHUNK);
            }
            let spare = c.rbuf.chunk_mut();
            let want = spare.len();
            // SAFETY: read(2) writes at most `want` bytes into the spare
            // capacity the pointer designates and never reads it; we mark
            // exactly the bytes it reports as initialised.
            let n = unsafe { libc::read(c.sock.as_raw_fd(), spare.as_mut_ptr().cast(), want) };
            if n == 0 {
                c.dead = true;
                self.close(token);
                return;
            }
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::WouldBlock => return,
                    io::ErrorKind::Interrupted => continue,
                    _ => {
                        c.dead = true;
                        self.close(token);
                        return;
                    }
                }
            }
            let n = n as usize;
            // SAFETY: read(2) initialised these n bytes.
            unsafe { c.rbuf.advance_mut(n) };
            if c.rbuf.len() > limit {
                log::warning(&format!(
                    "Closing client id={} that reached the max query buffer length",
                    c.id
                ));
                c.dead = true;
                self.close(token);
                return;
            }
            if self.hold.is_none() {
                self.part().stats.net_input_bytes += n as u64;
            }
            self.process_input(token);
            let held = self.held_for_clients();
            let Some(c) = self.conns.get_mut(token) else {
                return;
            };
            if n < want {
                return; // a short read means the socket is drained
            }
            if !c.may_read() || held {
                c.read_pending = true;
                if self.hold.is_some() {
                    self.mark_runnable(token);
                }
                return;
            }
        }
    }

    /// Parses and runs complete commands while the connection may run.
    fn process_input(&mut self, token: usize) {
        let mut did_work = false;
        loop {
            if self.held_for_clients() {
                self.mark_runnable(token);
                break;
            }
            let Some(c) = self.conns.get_mut(token) else {
                return;
            };
            if !c.can_run() {
                break;
            }
            match c.parser.parse(&mut c.rbuf, &mut c.args) {
                Ok(true) => {
                    did_work = true;
                    let args = std::mem::take(&mut c.args);
                    self.dispatch(token, &args);
                    if let Some(c) = self.conns.get_mut(token) {
                        let mut args = args;
                        args.clear();
                        c.args = args;
                    }
                }
                Ok(false) => break,
                Err(e) => {
                    e.write_reply(c.reply_buf());
                    c.closing = true;
                    did_work = true;
                    break;
                }
            }
        }
        if did_work {
            self.mark_dirty(token);
        }
    }

    /// Whether this shard's clients must wait: its partition is held by a
    /// transaction. Not while a script is busy: then they are answered
    /// -BUSY, which touches no partition.
    fn held_for_clients(&self) -> bool {
        self.hold.is_some() && script::busy_error(&self.server).is_none()
    }

    /// Routes one parsed command: run here, forward, or start a transaction.
    fn dispatch(&mut self, token: usize, args: &[Bytes]) {
        let server = self.shared();
        let spec = match server.table.resolve(args) {
            Ok(spec) => spec,
            Err(e) => {
                let Some(c) = self.conns.get_mut(token) else {
                    return;
                };
                let text = e.text();
                if args
                    .first()
                    .is_some_and(|a| a.eq_ignore_ascii_case(b"exec"))
                {
                    // A malformed EXEC ends the transaction, naming why
                    // (Redis says so even outside MULTI).
                    c.multi = None;
                    let why = text.strip_prefix("ERR ").unwrap_or(&text);
                    let msg = format!("EXECABORT Transaction discarded because of: {why}");
                    encode::error(c.reply_buf(), msg.as_bytes());
                    self.unwatch_all(token);
                    self.note_queued(token, -1);
                    return;
                }
                if let Some(m) = c.multi.as_mut() {
                    m.aborted = true;
                }
                encode::error(c.reply_buf(), text.as_bytes());
                return;
            }
        };
        if let Some(text) = script::busy_error(server) {
            if self.hold.is_some() || !spec.has(commands::flag::ALLOW_BUSY) {
                let Some(c) = self.conns.get_mut(token) else {
                    return;
                };
                if let Some(m) = c.multi.as_mut() {
                    m.aborted = true;
                }
                script::busy_reply(server, args, text, c.reply_buf());
                return;
            }
        }
        let now = self.now_ms;
        let nshards = server.nshards();
        let self_id = self.id;
        let auth_required = self.cached.auth_required;
        let Some((client_idx, authenticated)) =
            self.conns.get(token).map(|c| (c.client, c.authenticated))
        else {
            return;
        };
        {
            let part = self.part();
            part.stats.commands += 1;
            if let Some(info) = part.clients.get_mut(client_idx) {
                info.last_ms = now;
                info.last_cmd = spec.name;
            }
        }
        let Some(c) = self.conns.get_mut(token) else {
            return;
        };
        if auth_required && !authenticated && !spec.has(commands::flag::NO_AUTH) {
            encode::error(c.reply_buf(), b"NOAUTH Authentication required.");
            return;
        }
        if c.subscribed && !c.resp3 && !commands::pubsub::allowed_while_subscribed(spec) {
            let e = commands::pubsub::subscribed_mode_error(spec);
            encode::error(c.reply_buf(), e.as_bytes());
            return;
        }
        if (c.multi.is_some() || spec.group == "transactions" || spec.name == "reset")
            && self.transaction_command(token, spec, args)
        {
            return;
        }
        let Some(c) = self.conns.get_mut(token) else {
            return;
        };

        let mut need: u64 = 0;
        if spec.scope == Scope::All {
            need = if nshards == 64 {
                u64::MAX
            } else {
                (1u64 << nshards) - 1
            };
        } else if nshards > 1 && !matches!(spec.scope, Scope::Home | Scope::FanOut) {
            spec.for_each_key_of(args, |i| {
                need |= 1u64 << server.shard_of_key(&args[i]);
            });
            if need == 0 && spec.has(commands::flag::ALL_SHARDS_WITHOUT_KEYS) {
                need = if nshards == 64 {
                    u64::MAX
                } else {
                    (1u64 << nshards) - 1
                };
            }
        }
        let own = 1u64 << self_id;
        let blocking = spec.has(commands::flag::BLOCKING);
        let local = (need == 0 || need == own) && spec.scope != Scope::FanOut;
        // Memory limit (shard::evict): a local write that may grow the
        // dataset first evicts, as Redis's processCommand does; remote and
        // multi-shard ones do it where they run.
        if local
            && self.cached.maxmemory != 0
            && spec.has(commands::flag::DENYOOM)
            && !evict::make_room(server, own, now)
        {
            encode::error(c.reply_buf(), evict::OOM_ERROR.as_bytes());
            return;
        }
        if local && spec.has(commands::flag::RUNS_SCRIPT) {
            self.run_script_here(token, spec, args);
        } else if spec.scope == Scope::FanOut && nshards > 1 {
            self.run_fan_out(token, spec, args);
        } else if (need == 0 || need == own) && blocking {
            self.run_blocking_here(token, spec, args);
        } else if (need == 0 || need == own) && self.cached.notify != 0 {
            self.run_here_notifying(token, spec, args);
        } else if need == 0 || need == own {
            let Some(inv) = self.local_invocation(token) else {
                return;
            };
            let Some(c) = self.conns.get_mut(token) else {
                return;
            };
            inv.run(spec, args, c.reply_buf());
            if matches!(spec.keys, commands::Keys::None) || spec.scope == Scope::Home {
                self.sync_client(token);
            }
            self.after_commands();
        } else if need.count_ones() == 1 {
            let target = need.trailing_zeros() as usize;
            let seq = c.open_slot();
            if blocking {
                // Later commands wait for this one's reply, as they would
                // if it blocks over there.
                c.blocked = Some(ConnBlock {
                    seq,
                    at: target,
                    multi: None,
                });
            }
            let msg = Msg::Exec {
                from: self_id,
                conn: ConnRef { token, id: c.id },
                seq,
                db: c.db,
                resp3: c.resp3,
                spec,
                args: args.to_vec(),
            };
            self.outbox[target].push(msg);
            self.part().stats.cross_shard_hops += 1;
        } else {
            let seq = c.open_slot();
            let txid = self.next_txid;
            self.next_txid += 1;
            c.tx = Some(Tx {
                kind: TxKind::Run,
                txid,
                seq,
                spec,
                args: args.to_vec(),
                need,
                granted: 0,
                db: c.db,
                resp3: c.resp3,
                exec: None,
            });
            self.part().stats.cross_shard_hops += 1;
            self.acquire_next(token);
        }
    }

    /// Runs a local command while keyspace notifications are on: its reply
    /// waits until its events are published, so that a client subscribed
    /// to its own keys' events (RESP3) gets them first, as from Redis.
    fn run_here_notifying(&mut self, token: usize, spec: &'static CommandSpec, args: &[Bytes]) {
        let Some(inv) = self.local_invocation(token) else {
            return;
        };
        let mut out = Vec::new();
        inv.run(spec, args, &mut out);
        if matches!(spec.keys, commands::Keys::None) || spec.scope == Scope::Home {
            self.sync_client(token);
        }
        self.after_commands();
        if let Some(c) = self.conns.get_mut(token) {
            c.reply_buf().extend_from_slice(&out);
        }
    }

    /// Runs a Scope::FanOut command here and on every other shard; the
    /// connection's reply is the sum of their integer replies.
    fn run_fan_out(&mut self, token: usize, spec: &'static CommandSpec, args: &[Bytes]) {
        let nshards = self.server.nshards();
        let Some(inv) = self.local_invocation(token) else {
            return;
        };
        let Some(c) = self.conns.get_mut(token) else {
            return;
        };
        let (db, resp3, conn) = (c.db, c.resp3, ConnRef { token, id: c.id });
        let seq = c.open_fan_out_slot(nshards);
        let mut out = Vec::new();
        inv.run(spec, args, &mut out);
        c.fill_slot(seq, out);
        for shard in (0..nshards).filter(|&s| s != self.id) {
            self.outbox[shard].push(Msg::Exec {
                from: self.id,
                conn,
                seq,
                db,
                resp3,
                spec,
                args: args.to_vec(),
            });
        }
        self.after_commands();
    }

    /// How connection `token` runs a command on this shard's own partition.
    fn local_invocation<'s>(&self, token: usize) -> Option<Invocation<'s>> {
        let c = self.conns.get(token)?;
        Some(Invocation {
            server: self.shared(),
            shard_id: self.id,
            held: 1u64 << self.id,
            db: c.db,
            resp3: c.resp3,
            client: Some(c.client),
            now_ms: self.now_ms,
            opts: ExecOpts {
                client_id: c.id,
                ..ExecOpts::default()
            },
        })
    }

    /// Copies the client state a command may have changed (SELECT, HELLO,
    /// AUTH, QUIT) into the connection's hot-path mirror.
    fn sync_client(&mut self, token: usize) {
        if self.hold.is_some() {
            return;
        }
        let Some(client) = self.conns.get(token).map(|c| c.client) else {
            return;
        };
        let Some((db, resp, authenticated, close, subscribed)) =
            self.part().clients.get(client).map(|i| {
                (
                    i.db,
                    i.resp,
                    i.authenticated,
                    i.close_after_reply || i.kill,
                    i.subscribed(),
                )
            })
        else {
            return;
        };
        if let Some(c) = self.conns.get_mut(token) {
            c.db = db;
            c.resp3 = resp == 3;
            c.subscribed = subscribed;
            if c.authenticated != authenticated {
                c.authenticated = authenticated;
                c.parser.set_auth_required(!authenticated);
            }
            if close {
                c.closing = true;
            }
        }
    }

    // ---- transactions over several shards ---------------------------------

    fn acquire_next(&mut self, token: usize) {
        let Some(c) = self.conns.get(token) else {
            return;
        };
        let Some(tx) = c.tx.as_ref() else {
            return;
        };
        let remaining = tx.need & !tx.granted;
        let conn = ConnRef { token, id: c.id };
        let txid = tx.txid;
        if remaining == 0 {
            self.run_tx(token);
            return;
        }
        let next = remaining.trailing_zeros() as usize;
        if next == self.id {
            self.on_acquire(txid, self.id, conn);
        } else {
            self.outbox[next].push(Msg::Acquire {
                txid,
                from: self.id,
                conn,
            });
        }
    }

    fn on_acquire(&mut self, txid: u64, from: usize, conn: ConnRef) {
        if self.hold.is_some() {
            self.deferred.push_back(Msg::Acquire { txid, from, conn });
            return;
        }
        self.hold = Some(txid);
        if from == self.id {
            self.on_granted(txid, self.id, conn);
        } else {
            self.outbox[from].push(Msg::Granted {
                txid,
                shard: self.id,
                conn,
            });
        }
    }

    fn on_granted(&mut self, txid: u64, shard: usize, conn: ConnRef) {
        let Some(c) = self.conns.get_mut(conn.token) else {
            return;
        };
        match c.tx.as_mut() {
            Some(tx) if c.id == conn.id && tx.txid == txid => {
                tx.granted |= 1u64 << shard;
            }
            _ => {
                // Cannot happen: a connection is kept until its transaction
                // ends. Release rather than leave the shard held forever.
                self.release_shard(shard, txid);
                return;
            }
        }
        self.acquire_next(conn.token);
    }

    fn run_tx(&mut self, token: usize) {
        let server = self.shared();
        let now = self.now_ms;
        let self_id = self.id;
        let Some(c) = self.conns.get_mut(token) else {
            return;
        };
        let Some(mut tx) = c.tx.take() else {
            return;
        };
        let client_id = c.id;
        // The issuing client's metadata is reachable only if this shard is
        // among those held for the transaction.
        let own_held = tx.need & (1u64 << self_id) != 0;
        let mut done = None;
        match &tx.kind {
            TxKind::Run if tx.exec.is_some() => {
                let commands = tx.exec.take().map(|m| m.commands).unwrap_or_default();
                done = Some(self.run_exec(token, tx.need, &commands));
            }
            TxKind::Run => {
                let client = own_held.then_some(c.client);
                let opts = ExecOpts {
                    may_block: tx.spec.has(commands::flag::BLOCKING),
                    ready_key: None,
                    client_id,
                };
                let mut out = Vec::new();
                // Memory limit: evict from the held shards first, or refuse.
                let oom = self.cached.maxmemory != 0
                    && tx.spec.has(commands::flag::DENYOOM)
                    && !evict::make_room(server, tx.need, now);
                let block = if oom {
                    encode::error(&mut out, evict::OOM_ERROR.as_bytes());
                    None
                } else if tx.spec.has(commands::flag::RUNS_SCRIPT) {
                    self.serving_while_busy(token, || {
                        execute(
                            server, self_id, tx.need, tx.spec, &tx.args, tx.db, tx.resp3, client,
                            now, opts, &mut out,
                        )
                    })
                } else {
                    execute(
                        server, self_id, tx.need, tx.spec, &tx.args, tx.db, tx.resp3, client, now,
                        opts, &mut out,
                    )
                };
                match block {
                    None => done = Some(out),
                    Some(req) => self.park_multi(token, &tx, req, out),
                }
            }
            TxKind::Retry { key } => self.retry_blocked(token, &tx, key),
            TxKind::Cancel => self.cancel_blocked(token, &tx),
        }
        if self.cached.notify != 0 {
            self.publish_events(tx.need);
        }
        let mut rest = tx.need;
        while rest != 0 {
            let shard = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            self.release_shard(shard, tx.txid);
        }
        // After the release has delivered this shard's messages, so that
        // the command's own keyspace events precede its reply.
        if let (Some(out), Some(c)) = (done, self.conns.get_mut(token)) {
            c.fill_slot(tx.seq, out);
        }
        if own_held && tx.kind == TxKind::Run {
            self.sync_client(token);
        }
        self.mark_dirty(token);
        self.mark_runnable(token);
    }

    fn release_shard(&mut self, shard: usize, txid: u64) {
        if shard == self.id {
            self.on_release(txid);
        } else {
            self.outbox[shard].push(Msg::Release { txid });
        }
    }

    fn on_release(&mut self, txid: u64) {
        if self.hold != Some(txid) {
            return;
        }
        self.hold = None;
        // What the transaction did may serve clients blocked here; they go
        // before any deferred command, as they would right after a local one.
        self.after_commands();
        while self.hold.is_none() {
            let Some(msg) = self.deferred.pop_front() else {
                break;
            };
            self.handle_msg(msg);
        }
    }

    // ---- messages ---------------------------------------------------------

    fn drain_inbox(&mut self) {
        while let Ok(batch) = self.inbox.try_recv() {
            for msg in batch {
                self.handle_msg(msg);
            }
        }
    }

    fn handle_msg(&mut self, msg: Msg) {
        match msg {
            Msg::NewConn(sock) => self.add_conn(sock),
            Msg::Exec {
                from,
                conn,
                seq,
                db,
                resp3,
                spec,
                args,
            } => {
                if self.hold.is_some() {
                    self.deferred.push_back(Msg::Exec {
                        from,
                        conn,
                        seq,
                        db,
                        resp3,
                        spec,
                        args,
                    });
                    return;
                }
                let mut out = Vec::with_capacity(64);
                let own = 1u64 << self.id;
                let opts = ExecOpts {
                    may_block: spec.has(commands::flag::BLOCKING),
                    ready_key: None,
                    client_id: conn.id,
                };
                // Memory limit: evict here first, or refuse (shard::evict).
                let oom = self.cached.maxmemory != 0
                    && spec.has(commands::flag::DENYOOM)
                    && !evict::make_room(&self.server, own, self.now_ms);
                let block = if oom {
                    encode::error(&mut out, evict::OOM_ERROR.as_bytes());
                    None
                } else {
                    execute(
                        &self.server,
                        self.id,
                        own,
                        spec,
                        &args,
                        db,
                        resp3,
                        None,
                        self.now_ms,
                        opts,
                        &mut out,
                    )
                };
                match block {
                    None => {
                        // The command's keyspace events travel ahead of
                        // its reply, as Redis sends them.
                        self.after_commands();
                        self.outbox[from].push(Msg::Reply {
                            conn,
                            seq,
                            data: out,
                        })
                    }
                    Some(req) => {
                        let waiter = Waiter {
                            home: from,
                            conn,
                            seq,
                            spec,
                            args,
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
            Msg::Reply { conn, seq, data } => self.deliver(conn, seq, data),
            Msg::Wake { conn, key } => self.on_wake(conn, key),
            Msg::Cancel { client_id } => {
                if self.hold.is_some() {
                    self.deferred.push_back(Msg::Cancel { client_id });
                } else {
                    self.withdraw_here(client_id);
                }
            }
            Msg::Acquire { txid, from, conn } => self.on_acquire(txid, from, conn),
            Msg::Granted { txid, shard, conn } => self.on_granted(txid, shard, conn),
            Msg::Release { txid } => self.on_release(txid),
            Msg::ConfigChanged => self.refresh_config(),
            Msg::Unwatch { client_id } => {
                if self.hold.is_some() {
                    self.deferred.push_back(Msg::Unwatch { client_id });
                } else {
                    self.part().unwatch_all(client_id);
                }
            }
            Msg::Publish { items } => {
                if self.hold.is_some() {
                    self.deferred.push_back(Msg::Publish { items });
                } else {
                    let part = self.part();
                    for (channel, message) in &items {
                        part.pubsub.publish(SubKind::Channel, channel, message);
                    }
                    self.after_commands();
                }
            }
        }
    }

    fn flush_outbox(&mut self) {
        for (shard, batch) in self.outbox.iter_mut().enumerate() {
            if !batch.is_empty() {
                let b = std::mem::take(batch);
                self.server.shards[shard].send(b);
            }
        }
    }

    // ---- output -----------------------------------------------------------

    fn flush_dirty(&mut self) {
        let now = self.now_ms;
        let dirty = std::mem::take(&mut self.dirty);
        let mut written = 0u64;
        for &token in &dirty {
            let Some(c) = self.conns.get_mut(token) else {
                continue;
            };
            c.in_dirty = false;
            let mut off = 0;
            while off < c.out.len() {
                match c.sock.write(&c.out[off..]) {
                    Ok(0) => {
                        c.dead = true;
                        break;
                    }
                    Ok(n) => off += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        c.dead = true;
                        break;
                    }
                }
            }
            written += off as u64;
            let limit = if c.subscribed {
                self.cached.pubsub_limit
            } else {
                self.cached.normal_limit
            };
            if off < c.out.len() && pubsub::over_output_limit(c, c.out.len() - off, limit, now) {
                c.dead = true;
            } else if off == c.out.len() {
                c.over_soft_limit_since = None;
            }
            if off == c.out.len() {
                c.out.clear();
                if c.out.capacity() > 1024 * 1024 {
                    c.out = Vec::with_capacity(16 * 1024);
                }
            } else {
                c.out.drain(..off);
            }
            // Ask for writability only while output is backed up, as Redis
            // does: with it always on, every reply's ACK would run epoll's
            // callback and queue an event for nothing.
            let want_write = !c.out.is_empty() && !c.dead;
            if want_write != c.write_interest {
                let interest = if want_write {
                    Interest::READABLE | Interest::WRITABLE
                } else {
                    Interest::READABLE
                };
                if self
                    .poll
                    .registry()
                    .reregister(&mut c.sock, Token(token), interest)
                    .is_ok()
                {
                    c.write_interest = want_write;
                } else {
                    c.dead = true;
                }
            }
            // A blocked client that is killed goes at once, its wait abandoned.
            let drained = c.pending.is_empty() || c.blocked.is_some();
            if c.dead || (c.closing && c.out.is_empty() && drained && c.tx.is_none()) {
                self.to_close.push(token);
            }
        }
        self.dirty = dirty;
        self.dirty.clear();
        if written > 0 && self.hold.is_none() {
            self.part().stats.net_output_bytes += written;
        }
    }

    fn close(&mut self, token: usize) {
        self.to_close.push(token);
    }

    /// Removes closed connections; their client metadata lives in the
    /// partition, so this waits while the partition is held.
    fn close_pending(&mut self) {
        if self.hold.is_some() || self.to_close.is_empty() {
            return;
        }
        let list = std::mem::take(&mut self.to_close);
        for token in list {
            let Some(c) = self.conns.get(token) else {
                continue;
            };
            if c.tx.is_some() {
                // Finish the transaction first, so its shards are released.
                self.to_close.push(token);
                continue;
            }
            self.unwatch_all(token);
            let mut c = self.conns.remove(token);
            if let Some(b) = c.blocked.take() {
                self.abandon_wait(c.id, token, b);
            }
            let _ = self.poll.registry().deregister(&mut c.sock);
            let client = c.client;
            let part = self.part();
            commands::pubsub::drop_all(part, client);
            part.clients.try_remove(client);
            self.server
                .connected_clients
                .fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn run_runnable(&mut self) {
        if self.hold.is_some() || self.runnable.is_empty() {
            return;
        }
        let list = std::mem::take(&mut self.runnable);
        for (i, &token) in list.iter().enumerate() {
            if self.hold.is_some() {
                for &t in &list[i..] {
                    self.runnable.push(t);
                }
                return;
            }
            let Some(c) = self.conns.get_mut(token) else {
                continue;
            };
            c.in_runnable = false;
            self.process_input(token);
            let Some(c) = self.conns.get_mut(token) else {
                continue;
            };
            if c.read_pending && c.may_read() && self.hold.is_none() {
                self.read(token);
            }
        }
    }

    // ---- periodic work ----------------------------------------------------

    fn refresh_config(&mut self) {
        let epoch = self.server.config_epoch.load(Ordering::Acquire);
        if epoch != self.cached.epoch {
            self.cached = Cached::load(&self.server);
            let limits = self.cached.limits;
            for (_, c) in self.conns.iter_mut() {
                c.parser.set_limits(limits);
            }
        }
        if self.cached.notify != self.applied_notify && self.hold.is_none() {
            self.applied_notify = self.cached.notify;
            let notify = self.cached.notify;
            for db in self.part().dbs.iter_mut() {
                db.notify = notify;
            }
        }
    }

    fn cron(&mut self) {
        let period = Duration::from_millis(1000 / self.cached.hz as u64);
        self.next_cron = Instant::now() + period;
        self.refresh_config();
        if self.hold.is_some() {
            return;
        }
        self.active_expire(period);
        // Eviction's share of the cron: the memory peak, and evicting for a
        // limit lowered at run time or for shards that left it to this one.
        evict::cron(self.shared(), self.id, self.now_ms, period / 4);
        self.sweep_clients();
        self.after_commands();
    }

    /// Deletes keys whose TTL passed, within a CPU budget of about a quarter
    /// of each cron period (Redis's slow cycle), more with higher effort.
    fn active_expire(&mut self, period: Duration) {
        let effort = self.cached.active_expire_effort as usize;
        let per_round = 20 + 5 * (effort - 1);
        let budget = period.mul_f64(0.25 + 0.05 * (effort - 1) as f64);
        let start = Instant::now();
        let now = self.now_ms;
        let part = self.part();
        for db in part.dbs.iter_mut() {
            loop {
                let (examined, expired) = db.active_expire(now, per_round);
                if examined == 0 || expired * 10 < examined || start.elapsed() > budget {
                    break;
                }
            }
            db.rehash_step(100);
        }
    }

    /// Closes connections marked by CLIENT KILL or idle past `timeout`.
    fn sweep_clients(&mut self) {
        let now = self.now_ms;
        let timeout_ms = self.cached.idle_timeout_secs * 1000;
        if !self.part().kill_pending && timeout_ms == 0 {
            return;
        }
        // Blocked clients are not idle, as in Redis.
        let conns: Vec<(usize, usize, bool)> = self
            .conns
            .iter()
            .map(|(t, c)| (t, c.client, c.blocked.is_some()))
            .collect();
        let part = self.part();
        part.kill_pending = false;
        let mut victims = Vec::new();
        for (token, client, blocked) in conns {
            if let Some(info) = part.clients.get(client) {
                let idle =
                    timeout_ms > 0 && !blocked && now.saturating_sub(info.last_ms) > timeout_ms;
                if info.kill || idle {
                    victims.push(token);
                }
            }
        }
        for t in victims {
            if let Some(c) = self.conns.get_mut(t) {
                c.closing = true;
            }
            self.mark_dirty(t);
        }
    }
}

/// How a blocking command may behave in one execution.
#[derive(Clone, Copy, Default)]
pub struct ExecOpts<'k> {
    /// It may ask to block (it is not inside MULTI and not a retry whose
    /// answer must be final).
    pub may_block: bool,
    /// A retry after this key received data.
    pub ready_key: Option<&'k [u8]>,
    /// The issuing client's id (see [`Ctx::client_id`]).
    pub client_id: u64,
}

/// Everything [`execute`] needs besides the command: where it runs, for
/// whom, and how.
#[derive(Clone, Copy)]
pub struct Invocation<'a> {
    pub server: &'a Server,
    pub shard_id: usize,
    pub held: u64,
    pub db: usize,
    pub resp3: bool,
    pub client: Option<usize>,
    pub now_ms: u64,
    pub opts: ExecOpts<'a>,
}

impl Invocation<'_> {
    /// [`execute`] with these settings.
    pub fn run(
        &self,
        spec: &'static CommandSpec,
        args: &[Bytes],
        out: &mut Vec<u8>,
    ) -> Option<BlockRequest> {
        execute(
            self.server,
            self.shard_id,
            self.held,
            spec,
            args,
            self.db,
            self.resp3,
            self.client,
            self.now_ms,
            self.opts,
            out,
        )
    }
}

/// Runs one command's handler with access to the partitions in `held`,
/// appending its reply (or its error) to `out`. A handler that panics is a
/// bug; the panic is contained to this command so the shard keeps serving.
/// Returns the command's request to block, if it made one (the reply in
/// `out` is then the one for its timeout).
#[allow(clippy::too_many_arguments)]
pub fn execute(
    server: &Server,
    shard_id: usize,
    held: u64,
    spec: &'static CommandSpec,
    args: &[Bytes],
    db: usize,
    resp3: bool,
    client: Option<usize>,
    now_ms: u64,
    opts: ExecOpts,
    out: &mut Vec<u8>,
) -> Option<BlockRequest> {
    let start = out.len();
    let Some(handler) = spec.handler else {
        encode::error(out, b"ERR command has no handler");
        return None;
    };
    let mut block = None;
    let result = {
        let mut ctx = Ctx {
            out: &mut *out,
            resp3,
            db,
            now_ms,
            store: Store::new(&server.partitions, held),
            client,
            server,
            shard_id,
            spec,
            may_block: opts.may_block,
            ready_key: opts.ready_key,
            block: None,
            client_id: opts.client_id,
        };
        let r = std::panic::catch_unwind(AssertUnwindSafe(|| handler(&mut ctx, args)));
        if matches!(r, Ok(Ok(()))) && opts.may_block {
            block = ctx.block.take();
        }
        r
    };
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            out.truncate(start);
            encode::error(out, e.text().as_bytes());
        }
        Err(_) => {
            out.truncate(start);
            log::warning(&format!(
                "command '{}' panicked; reply is an error",
                spec.name
            ));
            encode::error(out, b"ERR internal error");
        }
    }
    block
}
