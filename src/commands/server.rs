//! Server commands: COMMAND (and its subcommands), INFO, CONFIG, TIME,
//! SHUTDOWN and DEBUG SLEEP.
//!
//! COMMAND reports the command table itself, so what clients learn from it
//! (arity, flags, key positions, ACL categories, documentation) is whatever
//! the family files declare; nothing here is typed twice. Two pieces Redis
//! stores per command are derived instead:
//! * ACL categories: the spec's own ones plus those Redis implies from flags
//!   (`@write` from write, `@read` from readonly, `@admin @dangerous` from
//!   admin, `@fast` from fast, and `@slow` for everything not fast);
//! * Redis 7 key specs: the spec's `key_specs` when it declares them
//!   (commands Redis describes with several specs, such as RENAME, COPY or
//!   SINTERSTORE, or with notes), otherwise one from the legacy (first,
//!   last, step) range, with the spec's `key_flags`, or when it declares
//!   none, flags guessed from the command's flags (RO access for readonly
//!   commands, RW update for write commands).
//!
//! INFO runs with every shard held (`Scope::All`) so that its counters are
//! sums over the partitions taken at one instant.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::{docs, eq_ic, flag, CmdError, CmdResult, CommandSpec, Ctx, KeySpecDoc, Keys, Scope};
use crate::config::Config;
use crate::log;
use crate::server::msg::Msg;
use crate::server::{Server, REDIS_VERSION, SHOAL_VERSION};
use crate::shard::ShardStats;
use crate::util::glob::glob_match;
use crate::util::sys::{self, Usage};

/// Flags shared by the administrative CONFIG subcommands and friends.
const ADMIN: u32 = flag::ADMIN | flag::NOSCRIPT | flag::LOADING | flag::STALE;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "command",
        arity: -1,
        flags: flag::LOADING | flag::STALE,
        acl: &["connection"],
        group: "server",
        since: "2.8.13",
        complexity: "O(N) where N is the total number of Redis commands",
        summary: "Get array of Redis command details",
        // Unlike other containers, COMMAND alone is a command too.
        handler: Some(command_all),
        subcommands: COMMAND_SUBCOMMANDS,
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "info",
        arity: -1,
        flags: flag::LOADING | flag::STALE,
        scope: Scope::All,
        acl: &["dangerous"],
        group: "server",
        summary: "Get information and statistics about the server",
        args: "[section [section ...]]",
        handler: Some(info),
        tips: &[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "config",
        arity: -2,
        group: "server",
        since: "2.0.0",
        complexity: "Depends on subcommand.",
        summary: "A container for server configuration commands",
        subcommands: CONFIG_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "time",
        arity: 1,
        flags: flag::LOADING | flag::STALE | flag::FAST,
        group: "server",
        since: "2.6.0",
        summary: "Return the current server time",
        handler: Some(time),
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "shutdown",
        arity: -1,
        flags: ADMIN | flag::NO_MULTI | flag::ALLOW_BUSY,
        group: "server",
        complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
        summary: "Synchronously save the dataset to disk and then shut down the server",
        args: "[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]",
        handler: Some(shutdown),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "debug",
        arity: -2,
        flags: ADMIN,
        group: "server",
        complexity: "Depends on subcommand.",
        summary: "A container for debugging commands",
        handler: Some(debug),
        doc_flags: &["syscmd"],
        ..CommandSpec::DEFAULT
    },
];

const COMMAND_FLAGS: u32 = flag::LOADING | flag::STALE;

const COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "command|count",
        arity: 2,
        flags: COMMAND_FLAGS,
        acl: &["connection"],
        group: "server",
        since: "2.8.13",
        summary: "Get total number of Redis commands",
        handler: Some(command_count),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "command|docs",
        arity: -2,
        flags: COMMAND_FLAGS,
        acl: &["connection"],
        group: "server",
        since: "7.0.0",
        complexity: "O(N) where N is the number of commands to look up",
        summary: "Get array of specific Redis command documentation",
        args: "[command-name [command-name ...]]",
        handler: Some(command_docs),
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "command|getkeys",
        arity: -4,
        flags: COMMAND_FLAGS,
        acl: &["connection"],
        group: "server",
        since: "2.8.13",
        complexity: "O(N) where N is the number of arguments to the command",
        summary: "Extract keys given a full Redis command",
        handler: Some(command_getkeys),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "command|getkeysandflags",
        arity: -4,
        flags: COMMAND_FLAGS,
        acl: &["connection"],
        group: "server",
        since: "7.0.0",
        complexity: "O(N) where N is the number of arguments to the command",
        summary: "Extract keys and access flags given a full Redis command",
        handler: Some(command_getkeysandflags),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "command|help",
        arity: 2,
        flags: COMMAND_FLAGS,
        acl: &["connection"],
        group: "server",
        since: "5.0.0",
        summary: "Show helpful text about the different subcommands",
        handler: Some(command_help),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "command|info",
        arity: -2,
        flags: COMMAND_FLAGS,
        acl: &["connection"],
        group: "server",
        since: "2.8.13",
        complexity: "O(N) where N is the number of commands to look up",
        summary: "Get array of specific Redis command details, or all when no argument is given.",
        args: "[command-name [command-name ...]]",
        handler: Some(command_info),
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "command|list",
        arity: -2,
        flags: COMMAND_FLAGS,
        acl: &["connection"],
        group: "server",
        since: "7.0.0",
        complexity: "O(N) where N is the total number of Redis commands",
        summary: "Get an array of Redis command names",
        args: "[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]",
        handler: Some(command_list),
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
];

const CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "config|get",
        arity: -3,
        flags: ADMIN,
        group: "server",
        since: "2.0.0",
        complexity: "O(N) when N is the number of configuration parameters provided",
        summary: "Get the values of configuration parameters",
        args: "parameter [parameter ...]",
        handler: Some(config_get),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "config|set",
        arity: -4,
        flags: ADMIN,
        group: "server",
        since: "2.0.0",
        complexity: "O(N) when N is the number of configuration parameters provided",
        summary: "Set configuration parameters to the given values",
        args: "parameter value [parameter value ...]",
        handler: Some(config_set),
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "config|resetstat",
        arity: 2,
        flags: ADMIN,
        scope: Scope::All,
        group: "server",
        since: "2.0.0",
        summary: "Reset the stats returned by INFO",
        handler: Some(config_resetstat),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "config|help",
        arity: 2,
        flags: flag::LOADING | flag::STALE,
        group: "server",
        since: "5.0.0",
        summary: "Show helpful text about the different subcommands",
        handler: Some(config_help),
        ..CommandSpec::DEFAULT
    },
];

// ---------------------------------------------------------------------------
// COMMAND
// ---------------------------------------------------------------------------

/// Every top-level command, in table order (COMMAND, COMMAND INFO, DOCS).
fn all_commands() -> impl Iterator<Item = &'static CommandSpec> {
    super::table::FAMILIES.iter().flat_map(|f| f.iter())
}

/// Redis's lookupCommandBySds: `name` or `container|sub`, case-insensitive.
fn lookup_full_name(server: &Server, name: &[u8]) -> Option<&'static CommandSpec> {
    let mut parts = name.split(|&b| b == b'|');
    let base = server.table.get(parts.next()?)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(base),
        (Some(sub), None) => find_subcommand(base, sub),
        _ => None,
    }
}

fn find_subcommand(base: &'static CommandSpec, sub: &[u8]) -> Option<&'static CommandSpec> {
    base.subcommands.iter().find(|s| {
        s.name
            .split_once('|')
            .is_some_and(|(_, n)| n.as_bytes().eq_ignore_ascii_case(sub))
    })
}

/// Redis's ACL categories, in the order COMMAND INFO lists them.
const ACL_CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// The spec's categories plus those Redis's setImplicitACLCategories adds.
pub fn acl_categories(spec: &CommandSpec) -> Vec<&'static str> {
    let declared = |c: &str| {
        spec.acl
            .iter()
            .any(|a| a.trim_start_matches('@').eq_ignore_ascii_case(c))
    };
    let fast = spec.has(flag::FAST) || declared("fast");
    let implied = |c: &str| match c {
        "write" => spec.has(flag::WRITE),
        "read" => spec.has(flag::READONLY) && !declared("scripting"),
        "admin" | "dangerous" => spec.has(flag::ADMIN),
        "pubsub" => spec.has(flag::PUBSUB),
        "fast" => fast,
        "blocking" => spec.has(flag::BLOCKING),
        "slow" => !fast,
        _ => false,
    };
    let mut out: Vec<&'static str> = ACL_CATEGORIES
        .iter()
        .copied()
        .filter(|c| declared(c) || implied(c))
        .collect();
    // Categories Redis does not know are kept, after the known ones.
    for a in spec.acl {
        let a = a.trim_start_matches('@');
        if !ACL_CATEGORIES.iter().any(|c| c.eq_ignore_ascii_case(a)) {
            out.push(a);
        }
    }
    out
}

/// The flags of the command's (single) key spec.
fn key_spec_flags(spec: &CommandSpec) -> &'static [&'static str] {
    if !spec.key_flags.is_empty() {
        spec.key_flags
    } else if spec.has(flag::WRITE) {
        &["RW", "update"]
    } else if spec.has(flag::READONLY) {
        &["RO", "access"]
    } else {
        &["RO"]
    }
}

/// The legacy (first key, last key, step) triple of COMMAND INFO.
fn legacy_range(spec: &CommandSpec) -> (i64, i64, i64) {
    match spec.keys {
        Keys::None | Keys::NumKeys { .. } => (0, 0, 0),
        Keys::DestNumKeys { .. } => (1, 1, 1),
        Keys::Range { first, last, step } => (first.into(), last.into(), step.into()),
    }
}

fn write_flag_set(ctx: &mut Ctx, names: &[&str]) {
    ctx.set_len(names.len());
    for n in names {
        ctx.simple(n.as_bytes());
    }
}

/// One key spec of COMMAND INFO: an index begin-search and a range
/// find-keys, with the notes first when there are any, as Redis orders them.
fn write_range_key_spec(ctx: &mut Ctx, ks: &KeySpecDoc) {
    ctx.map(if ks.notes.is_empty() { 3 } else { 4 });
    if !ks.notes.is_empty() {
        ctx.bulk(b"notes");
        ctx.bulk(ks.notes.as_bytes());
    }
    ctx.bulk(b"flags");
    write_flag_set(ctx, ks.flags);
    ctx.bulk(b"begin_search");
    ctx.map(2);
    ctx.bulk(b"type");
    ctx.bulk(b"index");
    ctx.bulk(b"spec");
    ctx.map(1);
    ctx.bulk(b"index");
    ctx.int(ks.index.into());
    ctx.bulk(b"find_keys");
    ctx.map(2);
    ctx.bulk(b"type");
    ctx.bulk(b"range");
    ctx.bulk(b"spec");
    ctx.map(3);
    ctx.bulk(b"lastkey");
    ctx.int(ks.lastkey.into());
    ctx.bulk(b"keystep");
    ctx.int(ks.keystep.into());
    ctx.bulk(b"limit");
    ctx.int(ks.limit.into());
}

/// A key spec with an index begin-search at the key count `index` and a
/// keynum find-keys (the keys follow the count), notes first if any.
fn write_keynum_key_spec(ctx: &mut Ctx, notes: &str, flags: &[&str], index: i16) {
    ctx.map(if notes.is_empty() { 3 } else { 4 });
    if !notes.is_empty() {
        ctx.bulk(b"notes");
        ctx.bulk(notes.as_bytes());
    }
    ctx.bulk(b"flags");
    write_flag_set(ctx, flags);
    ctx.bulk(b"begin_search");
    ctx.map(2);
    ctx.bulk(b"type");
    ctx.bulk(b"index");
    ctx.bulk(b"spec");
    ctx.map(1);
    ctx.bulk(b"index");
    ctx.int(index.into());
    ctx.bulk(b"find_keys");
    ctx.map(2);
    ctx.bulk(b"type");
    ctx.bulk(b"keynum");
    ctx.bulk(b"spec");
    ctx.map(3);
    ctx.bulk(b"keynumidx");
    ctx.int(0);
    ctx.bulk(b"firstkey");
    ctx.int(1);
    ctx.bulk(b"keystep");
    ctx.int(1);
}

/// One command's COMMAND INFO entry (Redis 7.0's ten fields).
fn write_command_info(ctx: &mut Ctx, spec: &CommandSpec) {
    ctx.array(10);
    ctx.bulk(spec.name.as_bytes());
    ctx.int(spec.arity.into());
    let mut flags: Vec<&str> = flag::NAMES
        .iter()
        .filter(|(f, _)| spec.has(*f))
        .map(|(_, n)| *n)
        .collect();
    if matches!(spec.keys, Keys::NumKeys { .. } | Keys::DestNumKeys { .. }) {
        flags.push("movablekeys");
    }
    write_flag_set(ctx, &flags);
    let (first, last, step) = legacy_range(spec);
    ctx.int(first);
    ctx.int(last);
    ctx.int(step);
    let categories: Vec<String> = acl_categories(spec)
        .iter()
        .map(|c| format!("@{c}"))
        .collect();
    ctx.set_len(categories.len());
    for c in &categories {
        ctx.simple(c.as_bytes());
    }
    ctx.set_len(spec.tips.len());
    for t in spec.tips {
        ctx.bulk(t.as_bytes());
    }
    match spec.keys {
        Keys::DestNumKeys { index } => {
            ctx.set_len(spec.key_specs.len() + 1);
            for ks in spec.key_specs {
                write_range_key_spec(ctx, ks);
            }
            write_keynum_key_spec(ctx, "", key_spec_flags(spec), index);
        }
        Keys::NumKeys { index } => {
            ctx.set_len(1);
            // A `key_specs` entry of a keynum command lends only its notes
            // and flags (EVAL's "We cannot tell how the keys will be used").
            let (notes, flags) = spec
                .key_specs
                .first()
                .map_or(("", key_spec_flags(spec)), |ks| (ks.notes, ks.flags));
            write_keynum_key_spec(ctx, notes, flags, index);
        }
        _ if !spec.key_specs.is_empty() => {
            ctx.set_len(spec.key_specs.len());
            for ks in spec.key_specs {
                write_range_key_spec(ctx, ks);
            }
        }
        Keys::None => ctx.set_len(0),
        Keys::Range { first, last, step } => {
            ctx.set_len(1);
            write_range_key_spec(
                ctx,
                &KeySpecDoc {
                    notes: "",
                    flags: key_spec_flags(spec),
                    index: first,
                    // Relative to the first key when counted from the start,
                    // relative to the end of the arguments otherwise.
                    lastkey: if last >= 0 { last - first } else { last },
                    keystep: step,
                    limit: 0,
                },
            );
        }
    }
    if spec.subcommands.is_empty() {
        ctx.set_len(0);
    } else {
        ctx.array(spec.subcommands.len());
        for sub in spec.subcommands {
            write_command_info(ctx, sub);
        }
    }
}

fn command_all(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    ctx.array(ctx.server.table.len());
    for spec in all_commands() {
        write_command_info(ctx, spec);
    }
    Ok(())
}

fn command_count(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    ctx.int(ctx.server.table.len() as i64);
    Ok(())
}

fn command_info(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() == 2 {
        return command_all(ctx, args);
    }
    ctx.array(args.len() - 2);
    for name in &args[2..] {
        match lookup_full_name(ctx.server, name) {
            Some(spec) => write_command_info(ctx, spec),
            None => ctx.null(),
        }
    }
    Ok(())
}

fn command_docs(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() == 2 {
        ctx.map(ctx.server.table.len());
        for spec in all_commands() {
            ctx.bulk(spec.name.as_bytes());
            docs::write_command_docs(ctx, spec);
        }
        return Ok(());
    }
    // Unknown names are left out, not answered with a null.
    let found: Vec<&CommandSpec> = args[2..]
        .iter()
        .filter_map(|n| lookup_full_name(ctx.server, n))
        .collect();
    ctx.map(found.len());
    for spec in found {
        ctx.bulk(spec.name.as_bytes());
        docs::write_command_docs(ctx, spec);
    }
    Ok(())
}

/// Whether `spec` passes a COMMAND LIST filter.
enum ListFilter<'a> {
    All,
    /// Shoal has no modules, so this filter matches nothing.
    Module,
    AclCategory(&'a [u8]),
    Pattern(&'a [u8]),
}

impl ListFilter<'_> {
    fn matches(&self, spec: &CommandSpec) -> bool {
        match self {
            ListFilter::All => true,
            ListFilter::Module => false,
            ListFilter::AclCategory(cat) => acl_categories(spec)
                .iter()
                .any(|c| c.as_bytes().eq_ignore_ascii_case(cat)),
            ListFilter::Pattern(p) => glob_match(p, spec.name.as_bytes(), true),
        }
    }
}

fn command_list(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let filter = match args.len() {
        2 => ListFilter::All,
        5 if eq_ic(&args[2], "filterby") => {
            let value = &args[4][..];
            if eq_ic(&args[3], "module") {
                ListFilter::Module
            } else if eq_ic(&args[3], "aclcat") {
                ListFilter::AclCategory(value)
            } else if eq_ic(&args[3], "pattern") {
                ListFilter::Pattern(value)
            } else {
                return Err(CmdError::Syntax);
            }
        }
        _ => return Err(CmdError::Syntax),
    };
    let mut names: Vec<&str> = Vec::new();
    for spec in all_commands() {
        if filter.matches(spec) {
            names.push(spec.name);
        }
        // Subcommands are listed (and filtered) on their own.
        for sub in spec.subcommands {
            if filter.matches(sub) {
                names.push(sub.name);
            }
        }
    }
    ctx.array(names.len());
    for n in names {
        ctx.bulk(n.as_bytes());
    }
    Ok(())
}

/// The command COMMAND GETKEYS is asked about, and the positions of its keys
/// in `cmd` (the full command, name first), with Redis's errors.
fn keys_of(server: &Server, cmd: &[Bytes]) -> Result<(&'static CommandSpec, Vec<usize>), CmdError> {
    let invalid = || CmdError::msg("ERR Invalid command specified");
    let base = server.table.get(&cmd[0]).ok_or_else(invalid)?;
    let spec = if !base.subcommands.is_empty() && cmd.len() >= 2 {
        find_subcommand(base, &cmd[1]).ok_or_else(invalid)?
    } else {
        base
    };
    if matches!(spec.keys, Keys::None) {
        return Err(CmdError::msg("ERR The command has no key arguments"));
    }
    if !spec.arity_ok(cmd.len()) {
        return Err(CmdError::msg(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    let Keys::Range { first, last, step } = spec.keys else {
        let mut positions = Vec::new();
        spec.for_each_key_of(cmd, |i| positions.push(i));
        if positions.is_empty() {
            return Err(CmdError::msg("ERR Invalid arguments specified for command"));
        }
        return Ok((spec, positions));
    };
    let argc = cmd.len() as i64;
    let first = i64::from(first);
    let last = if last >= 0 {
        i64::from(last)
    } else {
        argc + i64::from(last)
    };
    if last >= argc || last < first || first >= argc {
        return Err(CmdError::msg("ERR Invalid arguments specified for command"));
    }
    let step = usize::from(step.max(1).unsigned_abs());
    let positions = (first as usize..=last as usize).step_by(step).collect();
    Ok((spec, positions))
}

fn command_getkeys(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (_, positions) = keys_of(ctx.server, &args[2..])?;
    ctx.array(positions.len());
    for p in positions {
        ctx.bulk(&args[2 + p]);
    }
    Ok(())
}

/// The key flags of a command whose key spec has `variable_flags`, as
/// Redis's getkeys procedure works them out from the arguments: SET is a
/// plain overwrite unless GET (exactly, any case, after the value) asks for
/// the old value.
fn variable_key_flags(spec: &CommandSpec, cmd: &[Bytes]) -> &'static [&'static str] {
    match spec.name {
        "set" if cmd.iter().skip(3).any(|a| eq_ic(a, "GET")) => &["RW", "access", "update"],
        "set" => &["OW", "update"],
        _ => key_spec_flags(spec),
    }
}

fn command_getkeysandflags(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let cmd = &args[2..];
    let (spec, positions) = keys_of(ctx.server, cmd)?;
    if let (Keys::DestNumKeys { .. }, Some(dest)) = (spec.keys, spec.key_specs.first()) {
        // The destination first with its own spec's flags, then the sources.
        ctx.array(positions.len());
        for (n, p) in positions.into_iter().enumerate() {
            ctx.array(2);
            ctx.bulk(&cmd[p]);
            let flags = if n == 0 {
                dest.flags
            } else {
                key_spec_flags(spec)
            };
            write_flag_set(ctx, flags);
        }
        return Ok(());
    }
    if spec.key_specs.is_empty() {
        ctx.array(positions.len());
        for p in positions {
            ctx.array(2);
            ctx.bulk(&cmd[p]);
            write_flag_set(ctx, key_spec_flags(spec));
        }
        return Ok(());
    }
    // Redis lists the keys spec by spec, each with its spec's flags, except
    // that a spec with variable flags defers to the command's own key
    // extraction, which looks at the arguments.
    let mut keys: Vec<(usize, &[&str])> = Vec::new();
    for ks in spec.key_specs {
        let flags = if ks.flags.contains(&"variable_flags") {
            variable_key_flags(spec, cmd)
        } else {
            ks.flags
        };
        ks.for_each_key(cmd.len(), |p| keys.push((p, flags)));
    }
    ctx.array(keys.len());
    for (p, flags) in keys {
        ctx.array(2);
        ctx.bulk(&cmd[p]);
        write_flag_set(ctx, flags);
    }
    Ok(())
}

/// Redis's addReplyHelp: a header naming the command as typed, the lines,
/// and the closing HELP entry, each a status reply.
fn write_help(ctx: &mut Ctx, name: &[u8], lines: &[&str]) {
    let upper = String::from_utf8_lossy(name).to_ascii_uppercase();
    ctx.array(lines.len() + 3);
    ctx.simple(
        format!("{upper} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").as_bytes(),
    );
    for l in lines {
        ctx.simple(l.as_bytes());
    }
    ctx.simple(b"HELP");
    ctx.simple(b"    Prints this help.");
}

fn command_help(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    write_help(
        ctx,
        &args[0],
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// INFO
// ---------------------------------------------------------------------------

/// What INFO remembers between calls: recent counter samples, from which
/// the `instantaneous_*` rates are computed, and the memory peak.
///
/// Redis samples its counters from its cron; Shoal samples them when INFO
/// runs, so a rate is the average since a recent earlier INFO (between
/// 100 ms and 2 s ago when there is one, else the latest older one).
/// Monitoring tools poll INFO periodically, which is when the rates matter;
/// the first INFO of a server reports 0.
#[derive(Default)]
pub struct InfoState {
    inner: Mutex<InfoInner>,
}

#[derive(Default)]
struct InfoInner {
    samples: VecDeque<Sample>,
    peak_memory: u64,
}

#[derive(Clone, Copy)]
struct Sample {
    at: Instant,
    commands: u64,
    net_in: u64,
    net_out: u64,
}

/// Per-second rates of commands and network bytes.
#[derive(Default)]
struct Rates {
    ops: f64,
    in_bytes: f64,
    out_bytes: f64,
}

impl InfoState {
    fn lock(&self) -> std::sync::MutexGuard<'_, InfoInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sample(&self, now: Sample) -> Rates {
        const MIN_AGE: Duration = Duration::from_millis(100);
        const WINDOW: Duration = Duration::from_secs(2);
        const KEEP: Duration = Duration::from_secs(10);
        let mut g = self.lock();
        g.samples
            .retain(|s| now.at.saturating_duration_since(s.at) <= KEEP);
        let age = |s: &Sample| now.at.saturating_duration_since(s.at);
        let reference = g
            .samples
            .iter()
            .find(|s| age(s) >= MIN_AGE && age(s) <= WINDOW)
            .or_else(|| g.samples.iter().rev().find(|s| age(s) > WINDOW))
            .copied();
        let rates = reference.map_or_else(Rates::default, |r| {
            let dt = age(&r).as_secs_f64();
            let per_sec = |a: u64, b: u64| a.saturating_sub(b) as f64 / dt;
            Rates {
                ops: per_sec(now.commands, r.commands),
                in_bytes: per_sec(now.net_in, r.net_in),
                out_bytes: per_sec(now.net_out, r.net_out),
            }
        });
        // Samples closer together than MIN_AGE add nothing.
        if g.samples
            .back()
            .is_none_or(|last| now.at.saturating_duration_since(last.at) >= MIN_AGE)
        {
            g.samples.push_back(now);
        }
        rates
    }

    /// Notes `used` and returns the highest ever noted (INFO asks, and
    /// the shards' crons note it ten times a second, as Redis's serverCron).
    pub(crate) fn peak(&self, used: u64) -> u64 {
        let mut g = self.lock();
        g.peak_memory = g.peak_memory.max(used);
        g.peak_memory
    }

    fn reset(&self, used: u64) {
        let mut g = self.lock();
        g.samples.clear();
        g.peak_memory = used;
    }
}

/// Which sections a call asked for, as Redis 7.0's genInfoSectionDict.
struct Sections {
    all: bool,
    names: Vec<String>,
}

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

impl Sections {
    fn from_args(args: &[Bytes]) -> Sections {
        let mut s = Sections {
            all: false,
            names: Vec::new(),
        };
        if args.is_empty() {
            s.names = DEFAULT_SECTIONS.iter().map(|n| n.to_string()).collect();
        }
        for a in args {
            let name = String::from_utf8_lossy(a).to_ascii_lowercase();
            match name.as_str() {
                "default" => s
                    .names
                    .extend(DEFAULT_SECTIONS.iter().map(|n| n.to_string())),
                // No modules: "everything" is "all".
                "all" | "everything" => s.all = true,
                _ => s.names.push(name),
            }
        }
        s
    }

    fn wants(&self, names: &[&str]) -> bool {
        self.all || names.iter().any(|n| self.names.iter().any(|s| s == n))
    }
}

/// Counters summed over every partition.
#[derive(Default)]
struct Totals {
    stats: ShardStats,
    stale_perc: f64,
    expired_keys: u64,
    evicted_keys: u64,
    max_qbuf: usize,
    max_obuf: usize,
    blocked_clients: usize,
    /// Blocked clients with a timeout.
    blocked_with_timeout: usize,
    /// Per database index: (keys, keys with an expire).
    keyspace: Vec<(usize, usize)>,
}

fn totals(ctx: &mut Ctx) -> Totals {
    let mut t = Totals::default();
    let n = ctx.nshards();
    let server = ctx.server;
    for s in 0..n {
        let part = ctx.part(s);
        for w in part.blocked.waiters.values() {
            // A waiter on keys of several shards is recorded on each; count
            // it where its first key lives.
            let counted_here =
                !w.multi || w.keys.first().map(|k| server.shard_of_key(k)) == Some(s);
            if counted_here {
                t.blocked_clients += 1;
                t.blocked_with_timeout += usize::from(w.deadline_ms != 0);
            }
        }
        let st = &part.stats;
        t.stats.commands += st.commands;
        t.stats.connections_received += st.connections_received;
        t.stats.rejected_connections += st.rejected_connections;
        t.stats.keyspace_hits += st.keyspace_hits;
        t.stats.keyspace_misses += st.keyspace_misses;
        t.stats.net_input_bytes += st.net_input_bytes;
        t.stats.net_output_bytes += st.net_output_bytes;
        t.stats.cross_shard_hops += st.cross_shard_hops;
        t.stale_perc += st.expired_stale_perc;
        t.expired_keys += part.expired_keys();
        t.evicted_keys += part.dbs.iter().map(|d| d.evicted).sum::<u64>();
        for (_, c) in part.clients.iter() {
            t.max_qbuf = t.max_qbuf.max(c.qbuf);
            t.max_obuf = t.max_obuf.max(c.obuf);
        }
        if t.keyspace.len() < part.dbs.len() {
            t.keyspace.resize(part.dbs.len(), (0, 0));
        }
        for (i, db) in part.dbs.iter().enumerate() {
            t.keyspace[i].0 += db.len();
            t.keyspace[i].1 += db.volatile_len();
        }
    }
    if n > 0 {
        t.stale_perc /= n as f64;
    }
    t
}

/// Redis's bytesToHuman.
fn human_bytes(n: u64) -> String {
    const UNITS: &[(u64, &str)] = &[
        (1 << 10, "K"),
        (1 << 20, "M"),
        (1 << 30, "G"),
        (1 << 40, "T"),
        (1 << 50, "P"),
    ];
    if n < 1024 {
        return format!("{n}B");
    }
    for (i, (unit, suffix)) in UNITS.iter().enumerate() {
        let next = UNITS.get(i + 1).map_or(u64::MAX, |u| u.0);
        if n < next {
            return format!("{:.2}{suffix}", n as f64 / *unit as f64);
        }
    }
    format!("{n}B")
}

/// A replication id for INFO until replication owns one: 40 hex digits,
/// stable for the life of the server, distinct from its run id.
fn master_replid(server: &Server) -> String {
    server
        .run_id
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let v = (b as usize).wrapping_mul(7).wrapping_add(i * 13) % 16;
            char::from_digit(v as u32, 16).unwrap_or('0')
        })
        .collect()
}

/// Appends `# Title` and its `key:value` lines, separated from any previous
/// section by an empty line, as Redis does.
struct InfoText {
    text: String,
    sections: usize,
}

impl InfoText {
    fn section(&mut self, title: &str) {
        if self.sections > 0 {
            self.text.push_str("\r\n");
        }
        self.sections += 1;
        let _ = write!(self.text, "# {title}\r\n");
    }

    fn field(&mut self, name: &str, value: impl std::fmt::Display) {
        let _ = write!(self.text, "{name}:{value}\r\n");
    }
}

fn info(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let want = Sections::from_args(&args[1..]);
    let snap = Snapshot::take(ctx);
    let mut out = InfoText {
        text: String::with_capacity(4096),
        sections: 0,
    };
    for (names, title, write) in SECTIONS {
        if want.wants(names) {
            out.section(title);
            write(&mut out, &snap);
        }
    }
    ctx.verbatim(out.text.as_bytes());
    Ok(())
}

/// What the section writers read, taken once while every shard is held.
struct Snapshot<'a> {
    server: &'a Server,
    hz: u32,
    maxclients: u64,
    maxmemory: u64,
    policy: &'static str,
    totals: Totals,
    /// Since the Unix epoch.
    now: Duration,
}

impl<'a> Snapshot<'a> {
    fn take(ctx: &mut Ctx<'a>) -> Snapshot<'a> {
        let server = ctx.server;
        let (hz, maxclients, maxmemory, policy) = {
            let c = read_config(server);
            (c.hz, c.maxclients, c.maxmemory, c.maxmemory_policy.as_str())
        };
        Snapshot {
            server,
            hz,
            maxclients,
            maxmemory,
            policy,
            totals: totals(ctx),
            now: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        }
    }
}

type SectionWriter = fn(&mut InfoText, &Snapshot);

/// Every section in Redis's order: the names that select it, its title and
/// the function writing its fields.
const SECTIONS: &[(&[&str], &str, SectionWriter)] = &[
    (&["server"], "Server", server_section),
    (&["clients"], "Clients", clients_section),
    (&["memory"], "Memory", memory_section),
    (&["persistence"], "Persistence", persistence_section),
    (&["stats"], "Stats", stats_section),
    (&["replication"], "Replication", replication_section),
    (&["cpu"], "CPU", cpu_section),
    (&["module_list", "modules"], "Modules", no_fields),
    // Per-command, per-error and latency statistics are not collected yet;
    // the sections exist (empty) so that parsers asking for them work.
    (&["commandstats"], "Commandstats", no_fields),
    (&["errorstats"], "Errorstats", no_fields),
    (&["latencystats"], "Latencystats", no_fields),
    (&["cluster"], "Cluster", cluster_section),
    (&["keyspace"], "Keyspace", keyspace_section),
];

fn no_fields(_: &mut InfoText, _: &Snapshot) {}

fn server_section(out: &mut InfoText, snap: &Snapshot) {
    let server = snap.server;
    let uptime = server.uptime_secs();
    out.field("redis_version", REDIS_VERSION);
    out.field("shoal_version", SHOAL_VERSION);
    out.field("redis_git_sha1", "00000000");
    out.field("redis_git_dirty", 0);
    out.field("redis_mode", "standalone");
    out.field("os", sys::os_description());
    out.field("arch_bits", usize::BITS);
    out.field("monotonic_clock", "POSIX clock_gettime");
    out.field("multiplexing_api", "epoll");
    out.field("process_id", std::process::id());
    out.field("process_supervised", "no");
    out.field("run_id", &server.run_id);
    out.field("tcp_port", server.addr.port());
    out.field("server_time_usec", snap.now.as_micros());
    out.field("uptime_in_seconds", uptime);
    out.field("uptime_in_days", uptime / 86400);
    out.field("hz", snap.hz);
    out.field("configured_hz", snap.hz);
    out.field("lru_clock", snap.now.as_secs() & ((1 << 24) - 1));
    out.field("executable", &server.executable);
    out.field(
        "config_file",
        server
            .config_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    );
    out.field("io_threads_active", 0);
    out.field("shards", server.nshards());
}

fn clients_section(out: &mut InfoText, snap: &Snapshot) {
    let t = &snap.totals;
    out.field(
        "connected_clients",
        snap.server.connected_clients.load(Ordering::Relaxed),
    );
    out.field("cluster_connections", 0);
    out.field("maxclients", snap.maxclients);
    out.field("client_recent_max_input_buffer", t.max_qbuf);
    out.field("client_recent_max_output_buffer", t.max_obuf);
    out.field("blocked_clients", t.blocked_clients);
    out.field("tracking_clients", 0);
    out.field("clients_in_timeout_table", t.blocked_with_timeout);
}

fn memory_section(out: &mut InfoText, snap: &Snapshot) {
    let used = crate::alloc::allocated() as u64;
    let rss = sys::rss_bytes().unwrap_or(0);
    let peak = snap.server.info.peak(used);
    let system = sys::total_memory_bytes().unwrap_or(0);
    out.field("used_memory", used);
    out.field("used_memory_human", human_bytes(used));
    out.field("used_memory_rss", rss);
    out.field("used_memory_rss_human", human_bytes(rss));
    out.field("used_memory_peak", peak);
    out.field("used_memory_peak_human", human_bytes(peak));
    out.field(
        "used_memory_peak_perc",
        format!("{:.2}%", used as f64 * 100.0 / peak.max(1) as f64),
    );
    out.field("total_system_memory", system);
    out.field("total_system_memory_human", human_bytes(system));
    out.field("maxmemory", snap.maxmemory);
    out.field("maxmemory_human", human_bytes(snap.maxmemory));
    out.field("maxmemory_policy", snap.policy);
    out.field(
        "mem_fragmentation_ratio",
        format!("{:.2}", rss as f64 / used.max(1) as f64),
    );
    out.field("mem_fragmentation_bytes", rss as i64 - used as i64);
    // Everything counts against maxmemory, client buffers included.
    out.field("mem_not_counted_for_evict", 0);
    out.field("mem_allocator", "libc");
    out.field("lazyfree_pending_objects", 0);
}

fn persistence_section(out: &mut InfoText, snap: &Snapshot) {
    // Shoal has no persistence yet: nothing is ever saved or loaded.
    out.field("loading", 0);
    out.field("async_loading", 0);
    out.field("current_cow_peak", 0);
    out.field("current_cow_size", 0);
    out.field("current_cow_size_age", 0);
    out.field("current_fork_perc", "0.00");
    out.field("current_save_keys_processed", 0);
    out.field("current_save_keys_total", 0);
    // Not tracked yet: there is no dirty counter until snapshots exist.
    out.field("rdb_changes_since_last_save", 0);
    out.field("rdb_bgsave_in_progress", 0);
    // As in Redis, a server that never saved reports its start time.
    out.field("rdb_last_save_time", snap.server.started_unix_ms / 1000);
    out.field("rdb_last_bgsave_status", "ok");
    out.field("rdb_last_bgsave_time_sec", -1);
    out.field("rdb_current_bgsave_time_sec", -1);
    out.field("rdb_saves", 0);
    out.field("rdb_last_cow_size", 0);
    out.field("rdb_last_load_keys_expired", 0);
    out.field("rdb_last_load_keys_loaded", 0);
    out.field("aof_enabled", 0);
    out.field("aof_rewrite_in_progress", 0);
    out.field("aof_rewrite_scheduled", 0);
    out.field("aof_last_rewrite_time_sec", -1);
    out.field("aof_current_rewrite_time_sec", -1);
    out.field("aof_last_bgrewrite_status", "ok");
    out.field("aof_rewrites", 0);
    out.field("aof_rewrites_consecutive_failures", 0);
    out.field("aof_last_write_status", "ok");
    out.field("aof_last_cow_size", 0);
    out.field("module_fork_in_progress", 0);
    out.field("module_fork_last_cow_size", 0);
}

fn stats_section(out: &mut InfoText, snap: &Snapshot) {
    let t = &snap.totals;
    let s = &t.stats;
    let rates = snap.server.info.sample(Sample {
        at: Instant::now(),
        commands: s.commands,
        net_in: s.net_input_bytes,
        net_out: s.net_output_bytes,
    });
    out.field("total_connections_received", s.connections_received);
    out.field("total_commands_processed", s.commands);
    out.field("instantaneous_ops_per_sec", rates.ops.round() as u64);
    out.field("total_net_input_bytes", s.net_input_bytes);
    out.field("total_net_output_bytes", s.net_output_bytes);
    out.field("total_net_repl_input_bytes", 0);
    out.field("total_net_repl_output_bytes", 0);
    out.field(
        "instantaneous_input_kbps",
        format!("{:.2}", rates.in_bytes / 1024.0),
    );
    out.field(
        "instantaneous_output_kbps",
        format!("{:.2}", rates.out_bytes / 1024.0),
    );
    out.field("instantaneous_input_repl_kbps", "0.00");
    out.field("instantaneous_output_repl_kbps", "0.00");
    out.field("rejected_connections", s.rejected_connections);
    out.field("sync_full", 0);
    out.field("sync_partial_ok", 0);
    out.field("sync_partial_err", 0);
    out.field("expired_keys", t.expired_keys);
    out.field("expired_stale_perc", format!("{:.2}", t.stale_perc));
    out.field("expired_time_cap_reached_count", 0);
    out.field("evicted_keys", t.evicted_keys);
    out.field("evicted_clients", 0);
    out.field("total_eviction_exceeded_time", 0);
    out.field("current_eviction_exceeded_time", 0);
    out.field("keyspace_hits", s.keyspace_hits);
    out.field("keyspace_misses", s.keyspace_misses);
    out.field("pubsub_channels", 0);
    out.field("pubsub_patterns", 0);
    out.field("pubsubshard_channels", 0);
    out.field("latest_fork_usec", 0);
    out.field("total_forks", 0);
    out.field("migrate_cached_sockets", 0);
    out.field("slave_expires_tracked_keys", 0);
    out.field("tracking_total_keys", 0);
    out.field("tracking_total_items", 0);
    out.field("tracking_total_prefixes", 0);
    out.field("io_threaded_reads_processed", 0);
    out.field("io_threaded_writes_processed", 0);
    out.field("cross_shard_hops", s.cross_shard_hops);
}

fn replication_section(out: &mut InfoText, snap: &Snapshot) {
    out.field("role", "master");
    out.field("connected_slaves", 0);
    out.field("master_failover_state", "no-failover");
    out.field("master_replid", master_replid(snap.server));
    out.field("master_replid2", "0000000000000000000000000000000000000000");
    out.field("master_repl_offset", 0);
    out.field("second_repl_offset", -1);
    out.field("repl_backlog_active", 0);
    out.field("repl_backlog_size", 1048576);
    out.field("repl_backlog_first_byte_offset", 0);
    out.field("repl_backlog_histlen", 0);
}

fn cpu_section(out: &mut InfoText, _: &Snapshot) {
    let cpu = |who| sys::cpu_times(who).unwrap_or_default();
    let (me, children, thread) = (
        cpu(Usage::Process),
        cpu(Usage::Children),
        cpu(Usage::Thread),
    );
    out.field("used_cpu_sys", format!("{:.6}", me.sys));
    out.field("used_cpu_user", format!("{:.6}", me.user));
    out.field("used_cpu_sys_children", format!("{:.6}", children.sys));
    out.field("used_cpu_user_children", format!("{:.6}", children.user));
    // "Main thread": the shard thread answering this INFO.
    out.field("used_cpu_sys_main_thread", format!("{:.6}", thread.sys));
    out.field("used_cpu_user_main_thread", format!("{:.6}", thread.user));
}

fn cluster_section(out: &mut InfoText, _: &Snapshot) {
    out.field("cluster_enabled", 0);
}

fn keyspace_section(out: &mut InfoText, snap: &Snapshot) {
    for (i, &(keys, expires)) in snap.totals.keyspace.iter().enumerate() {
        if keys > 0 || expires > 0 {
            // avg_ttl is not estimated yet.
            out.field(
                &format!("db{i}"),
                format!("keys={keys},expires={expires},avg_ttl=0"),
            );
        }
    }
}

// ---------------------------------------------------------------------------
// CONFIG
// ---------------------------------------------------------------------------

fn read_config(server: &Server) -> std::sync::RwLockReadGuard<'_, Config> {
    server.config.read().unwrap_or_else(|p| p.into_inner())
}

fn config_get(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let patterns: Vec<&[u8]> = args[2..].iter().map(|a| &a[..]).collect();
    let pairs = read_config(ctx.server).get(&patterns);
    ctx.map(pairs.len());
    for (name, value) in &pairs {
        ctx.bulk(name.as_bytes());
        ctx.bulk(value);
    }
    Ok(())
}

fn config_set(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    // Redis 7.0.15 answers a dangling name with a syntax error (fewer than
    // one pair is the dispatcher's arity error).
    if !args.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let pairs: Vec<(&[u8], &[u8])> = args[2..]
        .chunks_exact(2)
        .map(|p| (&p[0][..], &p[1][..]))
        .collect();
    let server = ctx.server;
    let level = {
        let mut cfg = server.config.write().unwrap_or_else(|p| p.into_inner());
        let mut next = cfg.clone();
        next.set(&pairs).map_err(CmdError::msg)?;
        *cfg = next;
        cfg.loglevel
    };
    log::set_level(level);
    // Shards compare the epoch every loop iteration; the message wakes
    // sleeping ones so the change applies now rather than at their next
    // cron tick.
    server.config_epoch.fetch_add(1, Ordering::Release);
    for (i, shard) in server.shards.iter().enumerate() {
        if i != ctx.shard_id {
            shard.send(vec![Msg::ConfigChanged]);
        }
    }
    ctx.ok();
    Ok(())
}

fn config_resetstat(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    for s in 0..ctx.nshards() {
        let part = ctx.part(s);
        part.stats = ShardStats::default();
        for db in part.dbs.iter_mut() {
            db.expired = 0;
            db.evicted = 0;
        }
    }
    ctx.server.info.reset(crate::alloc::allocated() as u64);
    ctx.ok();
    Ok(())
}

fn config_help(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    write_help(
        ctx,
        &args[0],
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
        ],
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// TIME, SHUTDOWN, DEBUG
// ---------------------------------------------------------------------------

fn time(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    ctx.array(2);
    ctx.bulk(now.as_secs().to_string().as_bytes());
    ctx.bulk(now.subsec_micros().to_string().as_bytes());
    Ok(())
}

fn shutdown(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (mut save, mut nosave, mut other, mut abort) = (false, false, false, false);
    for a in &args[1..] {
        if eq_ic(a, "nosave") {
            nosave = true;
        } else if eq_ic(a, "save") {
            save = true;
        } else if eq_ic(a, "now") || eq_ic(a, "force") {
            other = true;
        } else if eq_ic(a, "abort") {
            abort = true;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if (abort && (save || nosave || other)) || (save && nosave) {
        return Err(CmdError::Syntax);
    }
    if abort {
        // Shutdowns here are immediate, so none is ever in progress.
        return Err(CmdError::msg("ERR No shutdown in progress."));
    }
    // With no persistence there is nothing to save, so SAVE shuts down too.
    // As in Redis the client gets no reply: the connection just closes.
    log::warning("User requested shutdown...");
    ctx.server.request_shutdown();
    Ok(())
}

fn debug(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let sub = &args[1];
    if eq_ic(sub, "help") && args.len() == 2 {
        write_help(
            ctx,
            &args[0],
            &[
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
            ],
        );
        return Ok(());
    }
    if eq_ic(sub, "sleep") && args.len() == 3 {
        let secs = strtod_prefix(&args[2]);
        let micros = secs * 1e6;
        // Redis converts to a long long and nanosleeps; negative, NaN and
        // out-of-range values end up not sleeping at all.
        if micros.is_finite() && micros >= 1.0 && micros < i64::MAX as f64 {
            std::thread::sleep(Duration::from_micros(micros as u64));
        }
        ctx.ok();
        return Ok(());
    }
    let shown = String::from_utf8_lossy(&sub[..sub.len().min(128)]).into_owned();
    let container = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
    Err(CmdError::msg(format!(
        "ERR unknown subcommand or wrong number of arguments for '{shown}'. Try {container} HELP."
    )))
}

/// C's `strtod(s, NULL)`: the longest numeric prefix after leading
/// whitespace, 0 when there is none (decimal, `inf`/`nan`, and hexadecimal
/// integers such as `0x10`).
fn strtod_prefix(s: &[u8]) -> f64 {
    let s = &s[s.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    let (negative, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let sign = if negative { -1.0 } else { 1.0 };
    let lower: Vec<u8> = body.iter().take(8).map(u8::to_ascii_lowercase).collect();
    if lower.starts_with(b"inf") {
        return sign * f64::INFINITY;
    }
    if lower.starts_with(b"nan") {
        return f64::NAN;
    }
    if lower.starts_with(b"0x") {
        let v = body[2..]
            .iter()
            .map_while(|b| (*b as char).to_digit(16))
            .fold(0f64, |acc, d| acc * 16.0 + f64::from(d));
        return sign * v;
    }
    let digits = |from: usize| {
        body[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut end = digits(0);
    let int_digits = end;
    if body.get(end) == Some(&b'.') {
        let frac = digits(end + 1);
        if int_digits + frac > 0 {
            end += 1 + frac;
        }
    }
    if end == 0 {
        return 0.0;
    }
    if matches!(body.get(end), Some(b'e' | b'E')) {
        let mut e = end + 1;
        if matches!(body.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        let exp_digits = digits(e);
        if exp_digits > 0 {
            end = e + exp_digits;
        }
    }
    std::str::from_utf8(&body[..end])
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .map_or(0.0, |v| sign * v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_matches_redis() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(1024), "1.00K");
        assert_eq!(human_bytes(1000568), "977.12K");
        assert_eq!(human_bytes(7118848), "6.79M");
        assert_eq!(human_bytes(25276510208), "23.54G");
    }

    #[test]
    fn strtod_prefix_reads_like_c() {
        assert_eq!(strtod_prefix(b"0"), 0.0);
        assert_eq!(strtod_prefix(b"0.5"), 0.5);
        assert_eq!(strtod_prefix(b" 1"), 1.0);
        assert_eq!(strtod_prefix(b"1e-3"), 0.001);
        assert_eq!(strtod_prefix(b"2abc"), 2.0);
        assert_eq!(strtod_prefix(b".5"), 0.5);
        assert_eq!(strtod_prefix(b"5."), 5.0);
        assert_eq!(strtod_prefix(b"1e"), 1.0);
        assert_eq!(strtod_prefix(b"abc"), 0.0);
        assert_eq!(strtod_prefix(b""), 0.0);
        assert_eq!(strtod_prefix(b"-1"), -1.0);
        assert_eq!(strtod_prefix(b"0x10"), 16.0);
        assert!(strtod_prefix(b"inf").is_infinite());
        assert!(strtod_prefix(b"nan").is_nan());
    }

    #[test]
    fn implied_acl_categories() {
        let get = CommandSpec {
            name: "get",
            flags: flag::READONLY | flag::FAST,
            acl: &["string"],
            ..CommandSpec::DEFAULT
        };
        assert_eq!(acl_categories(&get), vec!["read", "string", "fast"]);
        let flushall = CommandSpec {
            name: "flushall",
            flags: flag::WRITE,
            acl: &["keyspace", "dangerous"],
            ..CommandSpec::DEFAULT
        };
        assert_eq!(
            acl_categories(&flushall),
            vec!["keyspace", "write", "slow", "dangerous"]
        );
        let config_get = &CONFIG_SUBCOMMANDS[0];
        assert_eq!(
            acl_categories(config_get),
            vec!["admin", "slow", "dangerous"]
        );
    }

    #[test]
    fn sections_selection() {
        let s = Sections::from_args(&[]);
        assert!(s.wants(&["server"]) && s.wants(&["keyspace"]));
        assert!(!s.wants(&["commandstats"]));
        let s = Sections::from_args(&[Bytes::from_static(b"ALL")]);
        assert!(s.wants(&["commandstats"]));
        let s = Sections::from_args(&[Bytes::from_static(b"Keyspace")]);
        assert!(s.wants(&["keyspace"]) && !s.wants(&["server"]));
    }
}
