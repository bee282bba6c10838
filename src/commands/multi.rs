//! MULTI, EXEC, DISCARD, WATCH and UNWATCH.
//!
//! A transaction lives on the connection, so the shard loop runs these
//! (server::shard_loop::multi); the table gives them their specs for
//! COMMAND, arity checks and routing. The handlers are what remains for
//! the table's sake: WATCH's, which leaves the marks in the partitions
//! owning the keys, and UNWATCH's inside EXEC, where the keys have already
//! been unwatched.

use bytes::Bytes;

use super::{flag, CmdError, CmdResult, CommandSpec, Ctx, Keys};

const TXN: u32 = flag::NOSCRIPT | flag::LOADING | flag::STALE | flag::FAST | flag::ALLOW_BUSY;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "multi",
        arity: 1,
        flags: TXN,
        acl: &["transaction"],
        group: "transactions",
        since: "1.2.0",
        summary: "Mark the start of a transaction block",
        handler: Some(connection_only),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "exec",
        arity: 1,
        flags: flag::NOSCRIPT | flag::LOADING | flag::STALE | flag::SKIP_SLOWLOG,
        acl: &["transaction"],
        group: "transactions",
        since: "1.2.0",
        complexity: "Depends on commands in the transaction",
        summary: "Execute all commands issued after MULTI",
        handler: Some(connection_only),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "discard",
        arity: 1,
        flags: TXN,
        acl: &["transaction"],
        group: "transactions",
        since: "2.0.0",
        complexity: "O(N), when N is the number of queued commands",
        summary: "Discard all commands issued after MULTI",
        handler: Some(connection_only),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "watch",
        arity: -2,
        flags: TXN,
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
        acl: &["transaction"],
        group: "transactions",
        since: "2.2.0",
        complexity: "O(1) for every key.",
        summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
        args: "key [key ...]",
        key_flags: &["RO"],
        handler: Some(watch),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "unwatch",
        arity: 1,
        flags: TXN,
        acl: &["transaction"],
        group: "transactions",
        since: "2.2.0",
        summary: "Forget about all watched keys",
        handler: Some(unwatch),
        ..CommandSpec::DEFAULT
    },
];

/// MULTI, EXEC and DISCARD act on the connection, which only the shard loop
/// sees; the one way here is from a script, which their NOSCRIPT flag
/// already refuses.
fn connection_only(_ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    Err(CmdError::msg(
        "ERR This Redis command is not allowed from script",
    ))
}

fn watch(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (db, client, now) = (ctx.db, ctx.client_id, ctx.now_ms);
    for key in &args[1..] {
        let shard = ctx.server.shard_of_key(key);
        ctx.part(shard).watch(db, key, client, now);
    }
    ctx.ok();
    Ok(())
}

/// Reached only inside EXEC, which has already unwatched every key.
fn unwatch(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    ctx.ok();
    Ok(())
}
