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
    /// The awaited reply, once it has arrived.
    pub reply: Option<Vec<u8>>,
    /// Replies of later commands that completed locally meanwhile.
    pub after: Vec<u8>,
}

/// A command whose keys span shards, while its shards are being acquired.
pub struct Tx {
    pub txid: u64,
    pub seq: u64,
    pub spec: &'static CommandSpec,
    pub args: Vec<Bytes>,
    /// Shards the command needs, and those granted so far.
    pub need: u64,
    pub granted: u64,
    pub db: usize,
    pub resp3: bool,
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
    /// Mirrors of the ClientInfo fields the hot path reads, to avoid a slab
    /// lookup per command.
    pub db: usize,
    pub resp3: bool,
    pub authenticated: bool,
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
            db: 0,
            resp3: false,
            authenticated: false,
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

    /// Opens a slot for a reply that will arrive later; returns its seq.
    pub fn open_slot(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push_back(PendingSlot {
            seq,
            reply: None,
            after: Vec::new(),
        });
        seq
    }

    /// Fills slot `seq` and moves every completed slot at the front into `out`.
    pub fn fill_slot(&mut self, seq: u64, data: Vec<u8>) {
        if let Some(slot) = self.pending.iter_mut().find(|s| s.seq == seq) {
            slot.reply = Some(data);
        }
        while self.pending.front().is_some_and(|s| s.reply.is_some()) {
            if let Some(slot) = self.pending.pop_front() {
                if let Some(r) = slot.reply {
                    self.out.extend_from_slice(&r);
                }
                self.out.extend_from_slice(&slot.after);
            }
        }
    }

    /// Whether the connection may run its next command now: not while a
    /// multi-shard command is in flight (a pipeline's later commands must
    /// observe its effects).
    pub fn can_run(&self) -> bool {
        self.tx.is_none() && !self.closing && !self.dead
    }
}
