//! Connection commands: PING, ECHO, QUIT, RESET, HELLO, AUTH and the CLIENT
//! container.
//!
//! They act on the issuing connection's [`ClientInfo`], which lives in the
//! partition of the connection's shard rather than in the connection itself:
//! that is what lets CLIENT LIST and CLIENT KILL (`Scope::All`, so they hold
//! every partition at once) see and mark the connections of other threads.
//! A handler changes `ClientInfo` only; after a keyless command the shard loop
//! copies the fields it reads per command (db, protocol, authentication,
//! close-after-reply) into the connection, so the next pipelined command
//! already sees them.
//!
//! Authentication follows Redis 7.0 with one user, `default`: without
//! `requirepass` it has `nopass` (any password works when the user is named),
//! with it the password must match. Users other than `default` do not exist.
//!
//! Killing another connection only marks it (`ClientInfo::kill`, plus
//! `Partition::kill_pending` so its owner looks): the thread owning the socket
//! closes it at its next cron tick. Marked connections are treated as gone by
//! CLIENT LIST and CLIENT KILL meanwhile, as Redis frees them at once.

use std::fmt::Write as _;

use bytes::Bytes;

use super::{arg_i64, eq_ic, flag, CmdError, CmdResult, CommandSpec, Ctx, Scope};
use crate::server::REDIS_VERSION;
use crate::shard::ClientInfo;
use crate::util::num::parse_i64;

/// Flags Redis 7.0 gives the commands a client must be able to send before it
/// has authenticated (and while the server is loading or busy).
const HANDSHAKE: u32 =
    flag::NOSCRIPT | flag::LOADING | flag::STALE | flag::FAST | flag::NO_AUTH | flag::ALLOW_BUSY;

/// The flags of most CLIENT subcommands.
const CLIENT_SUB: u32 = flag::NOSCRIPT | flag::LOADING | flag::STALE;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: flag::FAST,
        acl: &["connection"],
        group: "connection",
        summary: "Ping the server",
        args: "[message]",
        handler: Some(ping),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: flag::LOADING | flag::STALE | flag::FAST,
        acl: &["connection"],
        group: "connection",
        summary: "Echo the given string",
        args: "message",
        handler: Some(echo),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "quit",
        arity: -1,
        flags: HANDSHAKE,
        acl: &["connection"],
        group: "connection",
        summary: "Close the connection",
        handler: Some(quit),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "reset",
        arity: 1,
        flags: HANDSHAKE,
        acl: &["connection"],
        group: "connection",
        since: "6.2.0",
        summary: "Reset the connection",
        handler: Some(reset),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hello",
        arity: -1,
        flags: HANDSHAKE,
        acl: &["connection"],
        group: "connection",
        since: "6.0.0",
        summary: "Handshake with Redis",
        args: "[protover [AUTH username password] [SETNAME clientname]]",
        handler: Some(hello),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "auth",
        arity: -2,
        flags: HANDSHAKE,
        acl: &["connection"],
        group: "connection",
        complexity: "O(N) where N is the number of passwords defined for the user",
        summary: "Authenticate to the server",
        args: "[username] password",
        handler: Some(auth),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "client",
        arity: -2,
        group: "connection",
        since: "2.4.0",
        complexity: "Depends on subcommand.",
        summary: "A container for client connection commands",
        subcommands: CLIENT_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
];

const CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "client|id",
        arity: 2,
        flags: CLIENT_SUB,
        acl: &["connection"],
        group: "connection",
        since: "5.0.0",
        summary: "Returns the client ID for the current connection",
        handler: Some(client_id),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "client|setname",
        arity: 3,
        flags: CLIENT_SUB,
        acl: &["connection"],
        group: "connection",
        since: "2.6.9",
        summary: "Set the current connection name",
        args: "connection-name",
        handler: Some(client_setname),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "client|getname",
        arity: 2,
        flags: CLIENT_SUB,
        acl: &["connection"],
        group: "connection",
        since: "2.6.9",
        summary: "Get the current connection name",
        handler: Some(client_getname),
        ..CommandSpec::DEFAULT
    },
    // Redis 7.2's, not 7.0's: client libraries (redis-py 5, redis-rs) send it
    // on every connect, and an error would cost each connect a round of
    // error handling on the client side.
    CommandSpec {
        name: "client|setinfo",
        arity: 4,
        flags: CLIENT_SUB,
        acl: &["connection"],
        group: "connection",
        since: "7.2.0",
        summary: "Set client or connection specific info",
        args: "LIB-NAME libname | LIB-VER libver",
        handler: Some(client_setinfo),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "client|list",
        arity: -2,
        flags: flag::ADMIN | CLIENT_SUB,
        scope: Scope::All,
        acl: &["connection"],
        group: "connection",
        since: "2.4.0",
        complexity: "O(N) where N is the number of client connections",
        summary: "Get the list of client connections",
        args: "[TYPE NORMAL | MASTER | REPLICA | PUBSUB] [ID client-id [client-id ...]]",
        handler: Some(client_list),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "client|info",
        arity: 2,
        flags: CLIENT_SUB,
        acl: &["connection"],
        group: "connection",
        since: "6.2.0",
        summary: "Returns information about the current client connection.",
        handler: Some(client_info),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "client|kill",
        arity: -3,
        flags: flag::ADMIN | CLIENT_SUB,
        scope: Scope::All,
        acl: &["connection"],
        group: "connection",
        since: "2.4.0",
        complexity: "O(N) where N is the number of client connections",
        summary: "Kill the connection of a client",
        args: "ip:port | [ID client-id] [TYPE NORMAL | MASTER | SLAVE | REPLICA | PUBSUB] \
               [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME yes/no]",
        handler: Some(client_kill),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "client|unblock",
        arity: -3,
        flags: flag::ADMIN | CLIENT_SUB,
        scope: Scope::All,
        acl: &["connection"],
        group: "connection",
        since: "5.0.0",
        complexity: "O(log N) where N is the number of client connections",
        summary: "Unblock a client blocked in a blocking command from a different connection",
        args: "client-id [TIMEOUT | ERROR]",
        handler: Some(client_unblock),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "client|no-evict",
        arity: 3,
        flags: flag::ADMIN | CLIENT_SUB,
        acl: &["connection"],
        group: "connection",
        since: "7.0.0",
        summary: "Set client eviction mode for the current connection",
        args: "ON | OFF",
        handler: Some(client_no_evict),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "client|help",
        arity: 2,
        flags: flag::LOADING | flag::STALE,
        acl: &["connection"],
        group: "connection",
        since: "5.0.0",
        summary: "Show helpful text about the different subcommands",
        handler: Some(client_help),
        ..CommandSpec::DEFAULT
    },
];

fn ping(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() > 2 {
        return Err(CmdError::WrongArity("ping"));
    }
    // A RESP2 subscriber can only read pushes, so PING answers in that shape.
    let subscribed = !ctx.resp3 && ctx.client.is_some() && ctx.client()?.subscribed();
    if subscribed {
        ctx.array(2);
        ctx.bulk(b"pong");
        ctx.bulk(args.get(1).map_or(&b""[..], |a| &a[..]));
        return Ok(());
    }
    match args.get(1) {
        None => ctx.simple(b"PONG"),
        Some(a) => ctx.bulk(a),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ctx.bulk(&args[1]);
    Ok(())
}

/// ```text
/// QUIT
/// ```
/// Replies +OK, then the connection closes once the reply is written. Extra
/// arguments are ignored, as Redis 7.0 does.
fn quit(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    ctx.client()?.close_after_reply = true;
    ctx.ok();
    Ok(())
}

/// ```text
/// RESET
/// ```
/// Back to the state of a fresh connection: db 0, RESP2, no name, and
/// unauthenticated if a password is required. NO-EVICT survives, as in
/// Redis 7.0.
fn reset(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    let needs_auth = requirepass(ctx).is_some();
    if let Some(idx) = ctx.client {
        let shard = ctx.shard_id;
        super::pubsub::drop_all(ctx.part(shard), idx);
    }
    let info = ctx.client()?;
    info.db = 0;
    info.resp = 2;
    info.name = None;
    info.authenticated = !needs_auth;
    ctx.resp3 = false;
    ctx.simple(b"RESET");
    Ok(())
}

/// ```text
/// HELLO [protover [AUTH username password] [SETNAME clientname]]
/// ```
/// Options take effect in order as they are read, so an error in a later
/// option leaves the earlier ones applied (a SETNAME before an unknown
/// option sticks), exactly as Redis 7.0 behaves. The protocol switches only
/// once everything succeeded, and the reply already uses the new protocol.
fn hello(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut proto = None;
    if let Some(v) = args.get(1) {
        let v = parse_i64(v).ok_or_else(|| {
            CmdError::msg("ERR Protocol version is not an integer or out of range")
        })?;
        if !(2..=3).contains(&v) {
            return Err(CmdError::msg("NOPROTO unsupported protocol version"));
        }
        proto = Some(v as u8);
    }
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if eq_ic(&args[i], "AUTH") && more >= 2 {
            authenticate(ctx, &args[i + 1], &args[i + 2])?;
            i += 3;
        } else if eq_ic(&args[i], "SETNAME") && more >= 1 {
            let name = valid_name(&args[i + 1])?;
            ctx.client()?.name = name;
            i += 2;
        } else {
            return Err(CmdError::msg(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&args[i])
            )));
        }
    }
    let info = ctx.client()?;
    if !info.authenticated {
        return Err(CmdError::msg(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
             HELLO AUTH <user> <pass> option can be used to authenticate the client and select \
             the RESP protocol version at the same time",
        ));
    }
    if let Some(p) = proto {
        info.resp = p;
    }
    let (id, resp) = (info.id, info.resp);
    ctx.resp3 = resp == 3;
    ctx.map(7);
    ctx.bulk(b"server");
    ctx.bulk(b"redis");
    ctx.bulk(b"version");
    ctx.bulk(REDIS_VERSION.as_bytes());
    ctx.bulk(b"proto");
    ctx.int(resp as i64);
    ctx.bulk(b"id");
    ctx.int(id as i64);
    // Cluster mode and replicas do not exist yet; they will change these two.
    ctx.bulk(b"mode");
    ctx.bulk(b"standalone");
    ctx.bulk(b"role");
    ctx.bulk(b"master");
    ctx.bulk(b"modules");
    ctx.array(0);
    Ok(())
}

/// ```text
/// AUTH [username] password
/// ```
fn auth(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    if args.len() == 2 {
        // The one-argument form means "the default user's password", which
        // makes no sense while the default user has none.
        if requirepass(ctx).is_none() {
            return Err(CmdError::msg(
                "ERR AUTH <password> called without any password configured for the default \
                 user. Are you sure your configuration is correct?",
            ));
        }
        authenticate(ctx, b"default", &args[1])?;
    } else {
        authenticate(ctx, &args[1], &args[2])?;
    }
    ctx.ok();
    Ok(())
}

/// Marks the connection authenticated if `user`/`pass` are valid. A failure
/// leaves an already authenticated connection authenticated, as in Redis.
fn authenticate(ctx: &mut Ctx, user: &[u8], pass: &[u8]) -> CmdResult {
    let valid = user == b"default"
        && match requirepass(ctx) {
            None => true,
            Some(expected) => same_secret(&expected, pass),
        };
    if !valid {
        return Err(CmdError::msg(
            "WRONGPASS invalid username-password pair or user is disabled.",
        ));
    }
    ctx.client()?.authenticated = true;
    Ok(())
}

/// The configured password, read at each use so CONFIG SET takes effect for
/// the next AUTH.
fn requirepass(ctx: &Ctx) -> Option<Vec<u8>> {
    let config = match ctx.server.config.read() {
        Ok(c) => c,
        Err(poisoned) => poisoned.into_inner(),
    };
    config.requirepass.clone()
}

/// Compares a password without an early exit, so response time does not
/// tell an attacker how many leading bytes were right.
fn same_secret(expected: &[u8], given: &[u8]) -> bool {
    let mut diff = (expected.len() != given.len()) as u8;
    for (i, &e) in expected.iter().enumerate() {
        diff |= e ^ given.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

/// A client name (or lib-name, lib-ver) must print as one CLIENT LIST field:
/// visible ASCII only. Empty means "no name".
fn valid_attr(v: &[u8]) -> bool {
    v.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

fn valid_name(v: &[u8]) -> Result<Option<Vec<u8>>, CmdError> {
    if !valid_attr(v) {
        return Err(CmdError::msg(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok((!v.is_empty()).then(|| v.to_vec()))
}

fn client_id(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    let id = ctx.client()?.id;
    ctx.int(id as i64);
    Ok(())
}

fn client_setname(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let name = valid_name(&args[2])?;
    ctx.client()?.name = name;
    ctx.ok();
    Ok(())
}

fn client_getname(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    match ctx.client()?.name.clone() {
        Some(name) => ctx.bulk(&name),
        None => ctx.null(),
    }
    Ok(())
}

/// ```text
/// CLIENT SETINFO LIB-NAME libname | LIB-VER libver
/// ```
fn client_setinfo(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (attr, value) = (&args[2], &args[3]);
    let lib_name = if eq_ic(attr, "LIB-NAME") {
        true
    } else if eq_ic(attr, "LIB-VER") {
        false
    } else {
        return Err(CmdError::msg(format!(
            "ERR Unrecognized option '{}'",
            String::from_utf8_lossy(attr)
        )));
    };
    if !valid_attr(value) {
        return Err(CmdError::msg(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(attr)
        )));
    }
    let value = (!value.is_empty()).then(|| value.to_vec());
    let info = ctx.client()?;
    if lib_name {
        info.lib_name = value;
    } else {
        info.lib_ver = value;
    }
    ctx.ok();
    Ok(())
}

fn client_no_evict(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let on = if eq_ic(&args[2], "ON") {
        true
    } else if eq_ic(&args[2], "OFF") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    ctx.client()?.no_evict = on;
    ctx.ok();
    Ok(())
}

/// The kinds of connection CLIENT LIST TYPE and CLIENT KILL TYPE select.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    PubSub,
    Master,
}

fn client_type_arg(arg: &[u8]) -> Result<ClientType, CmdError> {
    if eq_ic(arg, "normal") {
        Ok(ClientType::Normal)
    } else if eq_ic(arg, "replica") || eq_ic(arg, "slave") {
        Ok(ClientType::Replica)
    } else if eq_ic(arg, "pubsub") {
        Ok(ClientType::PubSub)
    } else if eq_ic(arg, "master") {
        Ok(ClientType::Master)
    } else {
        Err(CmdError::msg(format!(
            "ERR Unknown client type '{}'",
            String::from_utf8_lossy(arg)
        )))
    }
}

/// Every connection is a normal one until replication and pub/sub exist.
fn client_type(info: &ClientInfo) -> ClientType {
    if info.subscribed() {
        ClientType::PubSub
    } else {
        ClientType::Normal
    }
}

/// ```text
/// CLIENT LIST [TYPE NORMAL | MASTER | REPLICA | PUBSUB] [ID client-id [client-id ...]]
/// ```
/// Redis 7.0 accepts one filter, not both. With ID, lines follow the order
/// of the ids given (repeats included); otherwise connections are listed
/// in id order, which is the order they connected.
fn client_list(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut ids: Option<Vec<i64>> = None;
    let mut only_type = None;
    if args.len() == 4 && eq_ic(&args[2], "TYPE") {
        only_type = Some(client_type_arg(&args[3])?);
    } else if args.len() > 3 && eq_ic(&args[2], "ID") {
        let parsed = args[3..]
            .iter()
            .map(|a| parse_i64(a).ok_or_else(|| CmdError::msg("ERR Invalid client ID")))
            .collect::<Result<Vec<_>, _>>()?;
        ids = Some(parsed);
    } else if args.len() != 2 {
        return Err(CmdError::Syntax);
    }

    let me = ctx.client()?.id;
    let argv_mem = args.iter().map(|a| a.len()).sum();
    let now = ctx.now_ms;
    let mut clients: Vec<ClientInfo> = Vec::new();
    for s in 0..ctx.nshards() {
        let part = ctx.part(s);
        for (_, info) in part.clients.iter() {
            let wanted = match (&ids, only_type) {
                (Some(ids), _) => ids.contains(&(info.id as i64)),
                (None, Some(t)) => client_type(info) == t,
                (None, None) => true,
            };
            if wanted && !info.kill {
                clients.push(info.clone());
            }
        }
    }
    let mut text = String::new();
    let mut line = |info: &ClientInfo| {
        let mem = if info.id == me { argv_mem } else { 0 };
        write_client_line(&mut text, info, now, mem);
        text.push('\n');
    };
    match &ids {
        Some(ids) => {
            for &id in ids {
                if let Some(info) = clients.iter().find(|c| c.id as i64 == id) {
                    line(info);
                }
            }
        }
        None => {
            clients.sort_by_key(|c| c.id);
            clients.iter().for_each(line);
        }
    }
    ctx.verbatim(text.as_bytes());
    Ok(())
}

/// ```text
/// CLIENT INFO
/// ```
fn client_info(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let argv_mem = args.iter().map(|a| a.len()).sum();
    let now = ctx.now_ms;
    let mut text = String::new();
    write_client_line(&mut text, ctx.client()?, now, argv_mem);
    text.push('\n');
    ctx.verbatim(text.as_bytes());
    Ok(())
}

/// One CLIENT LIST line in Redis 7.0.15's field order. Fields Shoal has no
/// counterpart for (subscriptions, MULTI, tracking redirection) carry the
/// value Redis shows for a client not using the feature; buffer sizes Shoal
/// does not track per client (qbuf-free, rbs, rbp, oll, omem) are 0 rather
/// than invented, and tot-mem sums what is known.
fn write_client_line(out: &mut String, info: &ClientInfo, now_ms: u64, argv_mem: usize) {
    let mut flags = String::new();
    if info.subscribed() {
        flags.push('P');
    }
    if info.multi >= 0 {
        flags.push('x');
    }
    if info.close_after_reply {
        flags.push('c');
    }
    if info.no_evict {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let age = now_ms.saturating_sub(info.created_ms) / 1000;
    let idle = now_ms.saturating_sub(info.last_ms) / 1000;
    let name = info.name.as_deref().unwrap_or_default();
    let events = if info.obuf > 0 { "rw" } else { "r" };
    let tot_mem = info.qbuf + info.obuf + argv_mem;
    let _ = write!(
        out,
        "id={} addr={} laddr={} fd={} name={} age={age} idle={idle} flags={flags} db={} \
         sub={} psub={} ssub={} multi={} qbuf={} qbuf-free=0 argv-mem={argv_mem} multi-mem=0 \
         rbs=0 rbp=0 obl={} oll=0 omem=0 tot-mem={tot_mem} events={events} cmd={} \
         user=default redir=-1 resp={}",
        info.id,
        info.addr,
        info.laddr,
        info.fd,
        String::from_utf8_lossy(name),
        info.db,
        info.subs.as_ref().map_or(0, |s| s.channels.len()),
        info.subs.as_ref().map_or(0, |s| s.patterns.len()),
        info.subs.as_ref().map_or(0, |s| s.shard_channels.len()),
        info.multi,
        info.qbuf,
        info.obuf,
        info.last_cmd,
        info.resp,
    );
}

/// ```text
/// CLIENT KILL ip:port
/// CLIENT KILL [ID client-id] [TYPE type] [USER username] [ADDR ip:port]
///             [LADDR ip:port] [SKIPME yes/no] ...
/// ```
/// The old form replies OK or "No such client" and may kill the caller; the
/// new form replies with a count and skips the caller unless SKIPME no. The
/// caller itself, when killed, closes after this reply.
/// Ends another client's blocking command now, with its timeout reply or
/// an UNBLOCKED error. The command holds every shard, so the waiter is found
/// and withdrawn wherever it is recorded before anyone can serve it.
fn client_unblock(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() > 4 {
        return Err(CmdError::msg(
            "ERR unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP.",
        ));
    }
    let as_error = match args.get(3) {
        None => false,
        Some(a) if eq_ic(a, "TIMEOUT") => false,
        Some(a) if eq_ic(a, "ERROR") => true,
        Some(_) => {
            return Err(CmdError::msg(
                "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
    };
    let id = arg_i64(&args[2])?;
    let Ok(id) = u64::try_from(id) else {
        ctx.int(0);
        return Ok(());
    };
    let mut found = None;
    for shard in 0..ctx.nshards() {
        let part = ctx.part(shard);
        if let Some(w) = part.blocked.remove(&mut part.dbs, id) {
            for key in &w.keys {
                part.dbs[w.db].signal_ready(key);
            }
            found.get_or_insert((shard, w));
        }
    }
    let Some((shard, w)) = found else {
        ctx.int(0);
        return Ok(());
    };
    let reply = if as_error {
        b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n".to_vec()
    } else {
        w.timeout_reply
    };
    ctx.part(shard)
        .blocked
        .replies
        .push((w.home, w.conn, w.seq, reply));
    ctx.int(1);
    Ok(())
}

fn client_kill(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let old_form = args.len() == 3;
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut id: Option<u64> = None;
    let mut only_type = None;
    let mut skipme = !old_form;
    if old_form {
        addr = Some(&args[2]);
    } else {
        let mut i = 2;
        while i < args.len() {
            let (opt, value) = match args.get(i + 1) {
                Some(v) => (&args[i], v),
                None => return Err(CmdError::Syntax),
            };
            if eq_ic(opt, "ID") {
                let v = arg_i64(value)
                    .ok()
                    .filter(|&v| v >= 1)
                    .ok_or_else(|| CmdError::msg("ERR client-id should be greater than 0"))?;
                id = Some(v as u64);
            } else if eq_ic(opt, "TYPE") {
                only_type = Some(client_type_arg(value)?);
            } else if eq_ic(opt, "ADDR") {
                addr = Some(value);
            } else if eq_ic(opt, "LADDR") {
                laddr = Some(value);
            } else if eq_ic(opt, "USER") {
                // `default` is the only user, and every connection's.
                if &value[..] != b"default" {
                    return Err(CmdError::msg(format!(
                        "ERR No such user '{}'",
                        String::from_utf8_lossy(value)
                    )));
                }
            } else if eq_ic(opt, "SKIPME") {
                skipme = if eq_ic(value, "yes") {
                    true
                } else if eq_ic(value, "no") {
                    false
                } else {
                    return Err(CmdError::Syntax);
                };
            } else {
                return Err(CmdError::Syntax);
            }
            i += 2;
        }
    }

    let me = (ctx.shard_id, ctx.client);
    let mut killed = 0i64;
    for s in 0..ctx.nshards() {
        let part = ctx.part(s);
        let mut marked = false;
        for (idx, info) in part.clients.iter_mut() {
            let is_me = (s, Some(idx)) == me;
            let matches = !info.kill
                && addr.is_none_or(|a| a == info.addr.as_bytes())
                && laddr.is_none_or(|a| a == info.laddr.as_bytes())
                && only_type.is_none_or(|t| t == client_type(info))
                && id.is_none_or(|id| id == info.id)
                && !(is_me && skipme);
            if !matches {
                continue;
            }
            if is_me {
                info.close_after_reply = true;
            } else {
                info.kill = true;
                marked = true;
            }
            killed += 1;
        }
        if marked {
            part.kill_pending = true;
        }
    }
    if old_form {
        if killed == 0 {
            return Err(CmdError::msg("ERR No such client"));
        }
        ctx.ok();
    } else {
        ctx.int(killed);
    }
    Ok(())
}

/// Redis 7.0.15's text, whole: it also names subcommands Shoal does not
/// implement yet (CACHING, GETREDIR, PAUSE, UNPAUSE, REPLY, TRACKING,
/// TRACKINGINFO, UNBLOCK), so that it stays identical as they arrive.
const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
];

fn client_help(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    ctx.help(CLIENT_HELP);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"secret", b"secret"));
        assert!(!same_secret(b"secret", b"secreT"));
        assert!(!same_secret(b"secret", b"secret2"));
        assert!(!same_secret(b"secret", b"secre"));
        assert!(!same_secret(b"secret", b""));
        assert!(same_secret(b"", b""));
    }

    #[test]
    fn names_are_visible_ascii() {
        assert!(valid_attr(b"a:b-c_d.e"));
        assert!(valid_attr(b""));
        assert!(!valid_attr(b"a b"));
        assert!(!valid_attr(b"a\nb"));
        assert!(!valid_attr("é".as_bytes()));
        assert!(!valid_attr(b"\x7f"));
    }
}
