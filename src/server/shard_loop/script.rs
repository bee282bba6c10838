//! Scripts on the shard loop: running them with [`busy::while_serving`] so
//! that, past `busy-reply-threshold`, this thread's other clients are
//! answered -BUSY from inside the script (and SCRIPT KILL / FUNCTION KILL
//! reach it), as Redis answers from inside a slow script.

use std::io::{Read, Write};
use std::time::Duration;

use bytes::Bytes;
use mio::{Events, Poll, Token};
use shoal_protocol::encode;
use slab::Slab;

use super::{ShardLoop, LISTENER, WAKER};
use crate::commands::{eq_ic, CmdError, CommandSpec};
use crate::server::busy;
use crate::server::conn::Conn;
use crate::server::Server;

impl ShardLoop {
    /// Runs `run` (which may run a script for the connection `running`)
    /// with this thread's other connections served while the script is
    /// busy. `run` must not touch the loop itself.
    pub(super) fn serving_while_busy<R>(&mut self, running: usize, run: impl FnOnce() -> R) -> R {
        let server = self.shared();
        let Self {
            poll,
            conns,
            busy_later,
            ..
        } = self;
        let mut serve = || serve_busy(poll, conns, busy_later, server, running);
        busy::while_serving(&mut serve, run)
    }

    /// Runs a script command whose keys are all on this shard.
    pub(super) fn run_script_here(
        &mut self,
        token: usize,
        spec: &'static CommandSpec,
        args: &[Bytes],
    ) {
        let Some(inv) = self.local_invocation(token) else {
            return;
        };
        let out = self.serving_while_busy(token, || {
            let mut out = Vec::new();
            inv.run(spec, args, &mut out);
            out
        });
        self.sync_client(token);
        // Its keyspace events go before its reply, as for any command.
        self.after_commands();
        if let Some(c) = self.conns.get_mut(token) {
            c.reply_buf().extend_from_slice(&out);
        }
    }

    /// Handles the events that arrived while a script was busy and could
    /// not be answered then (new connections, wake-ups, connections with
    /// replies outstanding).
    pub(super) fn handle_busy_later(&mut self) {
        for token in std::mem::take(&mut self.busy_later) {
            match token {
                WAKER => {}
                LISTENER => self.accept(),
                Token(t) => {
                    self.on_readable(t);
                    self.mark_dirty(t);
                }
            }
        }
    }
}

/// The reply a client gets while a script is busy: SCRIPT KILL and
/// FUNCTION KILL act, everything else is refused.
pub(super) fn busy_reply(server: &Server, args: &[Bytes], text: &str, out: &mut Vec<u8>) {
    let kill = args.len() == 2 && eq_ic(&args[1], "kill");
    let function = kill && eq_ic(&args[0], "function");
    if kill && (function || eq_ic(&args[0], "script")) {
        match request_kill(server, function) {
            Ok(()) => encode::ok(out),
            Err(e) => encode::error(out, CmdError::text(&e).as_bytes()),
        }
    } else {
        encode::error(out, text.as_bytes());
    }
}

/// One round of serving while a script is busy: what this thread's sockets
/// have is read and answered now; what cannot be answered yet is left in
/// `later` for the loop.
fn serve_busy(
    poll: &mut Poll,
    conns: &mut Slab<Conn>,
    later: &mut Vec<Token>,
    server: &Server,
    running: usize,
) {
    let Some(text) = busy_error(server) else {
        return;
    };
    let mut events = Events::with_capacity(64);
    if poll.poll(&mut events, Some(Duration::ZERO)).is_err() {
        return;
    }
    for ev in events.iter() {
        let token = ev.token();
        let answered = match token {
            WAKER | LISTENER => false,
            Token(t) if t == running => false,
            Token(t) => conns
                .get_mut(t)
                .is_some_and(|c| answer_busy(c, server, text)),
        };
        if !answered {
            later.push(token);
        }
    }
}

/// Reads what `c` sent and answers each command. False when the
/// connection must wait for the loop: replies outstanding from other
/// shards (order), a transaction or block in progress, or its peer gone.
fn answer_busy(c: &mut Conn, server: &Server, text: &str) -> bool {
    if !c.can_run() || !c.pending.is_empty() {
        return false;
    }
    let mut chunk = [0u8; 4096];
    loop {
        match c.sock.read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => {
                c.rbuf.extend_from_slice(&chunk[..n]);
                if c.rbuf.len() > 1 << 20 {
                    // A flood: leave the rest to the loop, after the script.
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
    loop {
        match c.parser.parse(&mut c.rbuf, &mut c.args) {
            Ok(true) => {
                let args = std::mem::take(&mut c.args);
                if let Some(m) = c.multi.as_mut() {
                    // Refused while queueing, so EXEC will abort.
                    m.aborted = true;
                }
                busy_reply(server, &args, text, &mut c.out);
                c.args = args;
                c.args.clear();
            }
            Ok(false) => break,
            Err(e) => {
                e.write_reply(&mut c.out);
                c.closing = true;
                break;
            }
        }
    }
    while !c.out.is_empty() {
        match c.sock.write(&c.out) {
            Ok(0) => return false,
            Ok(n) => {
                c.out.drain(..n);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // The rest goes when the loop flushes it.
            Err(_) => return false,
        }
    }
    !c.closing
}

// Until the script registry lands on Server.
pub(super) fn busy_error(_server: &Server) -> Option<&'static str> {
    None
}

fn request_kill(_server: &Server, _function: bool) -> Result<(), CmdError> {
    Err(CmdError::msg("NOTBUSY No scripts in execution right now."))
}
