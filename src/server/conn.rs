//! One client connection: its socket, buffers and reply ordering.
//!
//! Replies must leave in request order even when a pipeline's commands run
//! on different shards and finish out of order. The common case — every
//! reply produced right here — appends straight to `out`. Once a reply is
//! outstanding (its command runs elsewhere), later replies queue behind it
//! in `pending`: each slot holds the awaited reply plus the local replies
//! that followed it, and slots drain into `out` from the front as they fill.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use mio::net::TcpStream;
use shoal_protocol::RequestParser;

use crate::commands::CommandSpec;

pub struct PendingSlot {
    pub seq: u64,
    /// Pub/sub messages that arrived while this reply was awaited: they
    /// go out just before it (a command's own keyspace events precede its
    /// reply, as in Redis).
    pub before: Vec<u8>,
    /// The awaited reply, once it has arrived.
    pub reply: Option<Vec<u8>>,
    /// Replies of later commands that completed locally meanwhile.
    pub after: Vec<u8>,
    /// For a command run on every shard (Scope::FanOut): the integer
    /// replies still awaited and their sum so far.
    pub fan_out: Option<FanOut>,
}

pub struct FanOut {
    pub remaining: usize,
    pub sum: i64,
    /// What the parts wrote before their integer (pushes to the issuing
    /// client itself).
    pub prefix: Vec<u8>,
}

/// What a transaction over several shards is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxKind {
    /// A command's first run (it may block).
    Run,
    /// A blocked command's retry after `key` received data.
    Retry { key: Bytes },
    /// A blocked command's timeout, or its client's departure: withdraw it
    /// (and reply, unless the client is gone).
    Cancel,
}

/// Splits one shard's part of a fan-out reply into what precedes its final
/// `:n` and n (0 when the part ends otherwise).
pub fn split_final_integer(data: &[u8]) -> (&[u8], i64) {
    let body = data.strip_suffix(b"\r\n").unwrap_or(data);
    let start = body
        .windows(2)
        .rposition(|w| w == b"\r\n")
        .map_or(0, |p| p + 2);
    match body.get(start) {
        Some(b':') => {
            let n = crate::util::num::parse_i64(&body[start + 1..]).unwrap_or(0);
            (&data[..start], n)
        }
        _ => (data, 0),
    }
}

/// A command whose keys span shards, while its shards are being acquired.
pub struct Tx {
    pub kind: TxKind,
    pub txid: u64,
    pub seq: u64,
    pub spec: &'static CommandSpec,
    pub args: Vec<Bytes>,
    /// Shards the command needs, and those granted so far.
    pub need: u64,
    pub granted: u64,
    pub db: usize,
    pub resp3: bool,
    /// EXEC's queued commands, when this transaction is one.
    pub exec: Option<Box<Multi>>,
}

/// A transaction being queued between MULTI and EXEC.
#[derive(Default)]
pub struct Multi {
    pub commands: Vec<(&'static CommandSpec, Vec<Bytes>)>,
    /// A command was refused while queueing: EXEC answers EXECABORT.
    pub aborted: bool,
}

/// A blocking command the connection waits on. Later commands wait too.
pub struct ConnBlock {
    /// The reply slot that ends the wait.
    pub seq: u64,
    /// The shard that holds the waiter: it replies when it serves it, times
    /// it out or is told to cancel it. For a multi-shard waiter, this one.
    pub at: usize,
    /// Set when the command's keys span shards: this connection's shard
    /// then decides when it times out and runs its retries.
    pub multi: Option<Box<MultiBlock>>,
}

pub struct MultiBlock {
    pub spec: &'static CommandSpec,
    pub args: Vec<Bytes>,
    pub db: usize,
    pub resp3: bool,
    /// Shards owning its keys, and those owning the keys it waits on.
    pub need: u64,
    pub wait: u64,
    pub deadline_ms: u64,
}

pub struct Conn {
    pub sock: TcpStream,
    pub id: u64,
    /// Index of this connection's ClientInfo in the partition.
    pub client: usize,
    pub rbuf: BytesMut,
    pub parser: RequestParser,
    pub args: Vec<Bytes>,
    pub out: Vec<u8>,
    pub pending: VecDeque<PendingSlot>,
    pub next_seq: u64,
    pub tx: Option<Tx>,
    pub blocked: Option<ConnBlock>,
    /// Inside MULTI: the commands queued so far.
    pub multi: Option<Box<Multi>>,
    /// Shards holding keys this connection WATCHes, one bit each.
    pub watching: u64,
    /// Mirrors of the ClientInfo fields the hot path reads, to avoid a slab
    /// lookup per command.
    pub db: usize,
    pub resp3: bool,
    pub authenticated: bool,
    /// Has pub/sub subscriptions (RESP2 then accepts only a few commands).
    pub subscribed: bool,
    /// Since when the output has been over the pub/sub soft limit.
    pub over_soft_limit_since: Option<u64>,
    /// The socket may hold unread bytes that we chose not to read yet.
    pub read_pending: bool,
    /// Set when the connection must close once its output is flushed.
    pub closing: bool,
    /// The peer is gone or the socket failed: drop without flushing.
    pub dead: bool,
    pub in_dirty: bool,
    pub in_runnable: bool,
    /// Registered for writability (only while output is backed up).
    pub write_interest: bool,
}

impl Conn {
    pub fn new(sock: TcpStream, id: u64, client: usize, parser: RequestParser) -> Conn {
        Conn {
            sock,
            id,
            client,
            rbuf: BytesMut::with_capacity(16 * 1024),
            parser,
            args: Vec::with_capacity(8),
            out: Vec::with_capacity(16 * 1024),
            pending: VecDeque::new(),
            next_seq: 0,
            tx: None,
            blocked: None,
            multi: None,
            watching: 0,
            db: 0,
            resp3: false,
            authenticated: false,
            subscribed: false,
            over_soft_limit_since: None,
            read_pending: false,
            closing: false,
            dead: false,
            in_dirty: false,
            in_runnable: false,
            write_interest: false,
        }
    }

    /// Where the reply of a command completing now must go.
    pub fn reply_buf(&mut self) -> &mut Vec<u8> {
        match self.pending.back_mut() {
            Some(slot) => &mut slot.after,
            None => &mut self.out,
        }
    }

    /// Appends a pub/sub message frame (a RESP2 array; RESP3 clients get it
    /// as a push, the same bytes with `>` first). While a reply is awaited,
    /// the message goes just before it.
    pub fn push_message(&mut self, frame: &[u8]) {
        let resp3 = self.resp3;
        let out = match self.pending.front_mut() {
            Some(slot) => &mut slot.before,
            None => &mut self.out,
        };
        if resp3 {
            out.push(b'>');
            out.extend_from_slice(&frame[1..]);
        } else {
            out.extend_from_slice(frame);
        }
    }

    /// Opens a slot for a reply that will arrive later; returns its seq.
    pub fn open_slot(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push_back(PendingSlot {
            seq,
            before: Vec::new(),
            reply: None,
            after: Vec::new(),
            fan_out: None,
        });
        seq
    }

    /// Opens a slot whose reply is the sum of `parts` integer replies.
    pub fn open_fan_out_slot(&mut self, parts: usize) -> u64 {
        let seq = self.open_slot();
        if let Some(slot) = self.pending.back_mut() {
            slot.fan_out = Some(FanOut {
                remaining: parts,
                sum: 0,
                prefix: Vec::new(),
            });
        }
        seq
    }

    /// Fills slot `seq` and moves every completed slot at the front into `out`.
    pub fn fill_slot(&mut self, seq: u64, data: Vec<u8>) {
        if let Some(slot) = self.pending.iter_mut().find(|s| s.seq == seq) {
            match slot.fan_out.as_mut() {
                None => slot.reply = Some(data),
                Some(f) => {
                    let (prefix, n) = split_final_integer(&data);
                    f.prefix.extend_from_slice(prefix);
                    f.sum += n;
                    f.remaining = f.remaining.saturating_sub(1);
                    if f.remaining == 0 {
                        let mut reply = std::mem::take(&mut f.prefix);
                        shoal_protocol::encode::integer(&mut reply, f.sum);
                        slot.reply = Some(reply);
                    }
                }
            }
        }
        while self.pending.front().is_some_and(|s| s.reply.is_some()) {
            if let Some(slot) = self.pending.pop_front() {
                self.out.extend_from_slice(&slot.before);
                if let Some(r) = slot.reply {
                    self.out.extend_from_slice(&r);
                }
                self.out.extend_from_slice(&slot.after);
            }
        }
    }

    /// Whether the connection may run its next command now: not while a
    /// multi-shard command is in flight (a pipeline's later commands must
    /// observe its effects), nor while it is blocked.
    /// Whether its socket should be read now: when it may run, and while
    /// it is blocked too, so that a blocked client's departure is noticed
    /// (what it sends meanwhile waits in `rbuf`).
    pub fn may_read(&self) -> bool {
        self.tx.is_none() && !self.closing && !self.dead
    }

    pub fn can_run(&self) -> bool {
        self.tx.is_none() && self.blocked.is_none() && !self.closing && !self.dead
    }
}
