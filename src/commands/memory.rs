//! MEMORY: how much a key costs.
//!
//! Shoal's figure is its own layout's, not Redis's: one keyspace node holding
//! the next pointer, the key inline (up to 23 bytes) and the value, plus a
//! bucket pointer, plus whatever the key and value keep on the heap. It is
//! what the key really costs here, so `redis-cli --memkeys` ranks keys by
//! what deleting them would free.

use bytes::Bytes;

use super::{arg_i64, eq_ic, flag, CmdError, CmdResult, CommandSpec, Ctx, Keys};

pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "memory",
    arity: -2,
    group: "server",
    since: "4.0.0",
    complexity: "Depends on subcommand.",
    summary: "A container for memory diagnostics commands",
    subcommands: &[
        CommandSpec {
            name: "memory|usage",
            arity: -3,
            flags: flag::READONLY,
            keys: Keys::Range {
                first: 2,
                last: 2,
                step: 1,
            },
            group: "server",
            since: "4.0.0",
            complexity: "O(N) where N is the number of samples.",
            summary: "Estimate the memory usage of a key",
            args: "key [SAMPLES count]",
            handler: Some(usage),
            key_flags: &["RO"],
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "memory|help",
            arity: 2,
            flags: flag::LOADING | flag::STALE,
            group: "server",
            since: "4.0.0",
            summary: "Show helpful text about the different subcommands",
            handler: Some(help),
            ..CommandSpec::DEFAULT
        },
    ],
    ..CommandSpec::DEFAULT
}];

/// MEMORY USAGE key [SAMPLES count]
fn usage(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    // SAMPLES bounds how much of a nested value is inspected; with strings
    // only, every value is measured exactly, but the argument is validated
    // as Redis does.
    let mut i = 3;
    while i < args.len() {
        if eq_ic(&args[i], "SAMPLES") && i + 1 < args.len() {
            if arg_i64(&args[i + 1])? < 0 {
                return Err(CmdError::Syntax);
            }
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let key = &args[2];
    let now = ctx.now_ms;
    let db = ctx.db(key);
    let bytes = match db.peek(key, now) {
        Some(entry) => db.entry_bytes(key, entry),
        None => {
            ctx.null();
            return Ok(());
        }
    };
    ctx.int(bytes as i64);
    Ok(())
}

fn help(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    ctx.help(&[
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Prints this help.",
    ]);
    Ok(())
}
