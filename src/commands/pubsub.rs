//! Pub/sub: SUBSCRIBE and friends, PUBLISH, SPUBLISH and PUBSUB.
//!
//! Subscriptions live in the subscriber's own partition (see
//! `shard::pubsub`); the subscribe family runs on the connection's shard.
//! PUBLISH and SPUBLISH run on every shard side by side (Scope::FanOut):
//! each serves its own subscribers and the counts are summed, so pipelined
//! publishes travel in batches and each subscriber gets one write for many
//! messages. PUBSUB's introspection holds every shard, so a channel list is
//! exact at one instant. Shard channels are a namespace of
//! their own, as in Redis; without cluster mode they behave like channels.

use std::collections::BTreeSet;

use bytes::Bytes;
use shoal_protocol::encode;

use super::{flag, CmdError, CmdResult, CommandSpec, Ctx, KeySpecDoc, Keys, Scope};
use crate::shard::pubsub::{ClientSubs, SubKind};
use crate::shard::Partition;
use crate::util::glob::glob_match;

const SUB_FLAGS: u32 = flag::PUBSUB | flag::NOSCRIPT | flag::LOADING | flag::STALE;
const PUB_FLAGS: u32 = flag::PUBSUB | flag::LOADING | flag::STALE | flag::FAST;
const INTROSPECT: u32 = flag::PUBSUB | flag::LOADING | flag::STALE;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "subscribe",
        arity: -2,
        flags: SUB_FLAGS,
        group: "pubsub",
        since: "2.0.0",
        complexity: "O(N) where N is the number of channels to subscribe to.",
        summary: "Listen for messages published to the given channels",
        args: "channel [channel ...]",
        handler: Some(subscribe),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "unsubscribe",
        arity: -1,
        flags: SUB_FLAGS,
        group: "pubsub",
        since: "2.0.0",
        complexity: "O(N) where N is the number of clients already subscribed to a channel.",
        summary: "Stop listening for messages posted to the given channels",
        args: "[channel [channel ...]]",
        handler: Some(unsubscribe),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "psubscribe",
        arity: -2,
        flags: SUB_FLAGS,
        group: "pubsub",
        since: "2.0.0",
        complexity: "O(N) where N is the number of patterns the client is already subscribed to.",
        summary: "Listen for messages published to channels matching the given patterns",
        args: "pattern [pattern ...]",
        handler: Some(psubscribe),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "punsubscribe",
        arity: -1,
        flags: SUB_FLAGS,
        group: "pubsub",
        since: "2.0.0",
        complexity: "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
        summary: "Stop listening for messages posted to channels matching the given patterns",
        args: "[pattern [pattern ...]]",
        handler: Some(punsubscribe),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "ssubscribe",
        arity: -2,
        flags: SUB_FLAGS,
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
        scope: Scope::Home,
        group: "pubsub",
        since: "7.0.0",
        complexity: "O(N) where N is the number of shard channels to subscribe to.",
        summary: "Listen for messages published to the given shard channels",
        args: "shardchannel [shardchannel ...]",
        handler: Some(ssubscribe),
        key_specs: &[KeySpecDoc::rest(1, 1, &["not_key"])],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sunsubscribe",
        arity: -1,
        flags: SUB_FLAGS,
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
        scope: Scope::Home,
        group: "pubsub",
        since: "7.0.0",
        complexity: "O(N) where N is the number of clients already subscribed to a shard channel.",
        summary: "Stop listening for messages posted to the given shard channels",
        args: "[shardchannel [shardchannel ...]]",
        handler: Some(sunsubscribe),
        key_specs: &[KeySpecDoc::rest(1, 1, &["not_key"])],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "publish",
        arity: 3,
        flags: PUB_FLAGS,
        scope: Scope::FanOut,
        group: "pubsub",
        since: "2.0.0",
        complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
        summary: "Post a message to a channel",
        args: "channel message",
        handler: Some(publish),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "spublish",
        arity: 3,
        flags: PUB_FLAGS,
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
        scope: Scope::FanOut,
        group: "pubsub",
        since: "7.0.0",
        complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
        summary: "Post a message to a shard channel",
        args: "shardchannel message",
        handler: Some(spublish),
        key_specs: &[KeySpecDoc::one(1, &["not_key"])],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pubsub",
        arity: -2,
        group: "pubsub",
        since: "2.8.0",
        complexity: "Depends on subcommand.",
        summary: "A container for Pub/Sub commands",
        subcommands: PUBSUB_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
];

const PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "pubsub|channels",
        arity: -2,
        flags: INTROSPECT,
        scope: Scope::All,
        group: "pubsub",
        since: "2.8.0",
        complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
        summary: "List active channels",
        args: "[pattern]",
        handler: Some(pubsub_channels),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pubsub|numsub",
        arity: -2,
        flags: INTROSPECT,
        scope: Scope::All,
        group: "pubsub",
        since: "2.8.0",
        complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
        summary: "Get the count of subscribers for channels",
        args: "[channel [channel ...]]",
        handler: Some(pubsub_numsub),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pubsub|numpat",
        arity: 2,
        flags: INTROSPECT,
        scope: Scope::All,
        group: "pubsub",
        since: "2.8.0",
        complexity: "O(1)",
        summary: "Get the count of unique patterns pattern subscriptions",
        handler: Some(pubsub_numpat),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pubsub|shardchannels",
        arity: -2,
        flags: INTROSPECT,
        scope: Scope::All,
        group: "pubsub",
        since: "7.0.0",
        complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
        summary: "List active shard channels",
        args: "[pattern]",
        handler: Some(pubsub_shardchannels),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pubsub|shardnumsub",
        arity: -2,
        flags: INTROSPECT,
        scope: Scope::All,
        group: "pubsub",
        since: "7.0.0",
        complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
        summary: "Get the count of subscribers for shard channels",
        args: "[shardchannel [shardchannel ...]]",
        handler: Some(pubsub_shardnumsub),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pubsub|help",
        arity: 2,
        flags: flag::LOADING | flag::STALE,
        group: "pubsub",
        since: "6.2.0",
        complexity: "O(1)",
        summary: "Show helpful text about the different subcommands",
        handler: Some(pubsub_help),
        ..CommandSpec::DEFAULT
    },
];

/// The commands a RESP2 client in subscribed mode may still run.
pub fn allowed_while_subscribed(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "subscribe"
            | "unsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ssubscribe"
            | "sunsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// The error a RESP2 client in subscribed mode gets for anything else.
pub fn subscribed_mode_error(spec: &CommandSpec) -> String {
    format!(
        "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
        spec.name
    )
}

/// One subscribe-family confirmation: [kind, name or nil, count].
fn confirm(out: &mut Vec<u8>, resp3: bool, what: &[u8], name: Option<&[u8]>, count: usize) {
    encode::push_len(out, 3, resp3);
    encode::bulk(out, what);
    match name {
        Some(n) => encode::bulk(out, n),
        None => encode::null(out, resp3),
    }
    encode::integer(out, count as i64);
}

fn kind_names(kind: SubKind) -> (&'static [u8], &'static [u8]) {
    match kind {
        SubKind::Channel => (b"subscribe", b"unsubscribe"),
        SubKind::Pattern => (b"psubscribe", b"punsubscribe"),
        SubKind::Shard => (b"ssubscribe", b"sunsubscribe"),
    }
}

fn subscribe_to(ctx: &mut Ctx, args: &[Bytes], kind: SubKind) -> CmdResult {
    let idx = ctx
        .client
        .ok_or_else(|| CmdError::msg("ERR command needs a connection"))?;
    let resp3 = ctx.resp3;
    let shard = ctx.shard_id;
    let Partition {
        clients, pubsub, ..
    } = ctx.store.part(shard);
    let info = clients
        .get_mut(idx)
        .ok_or_else(|| CmdError::msg("ERR command needs a connection"))?;
    let subs = info.subs.get_or_insert_with(Box::<ClientSubs>::default);
    let (what, _) = kind_names(kind);
    for name in &args[1..] {
        if subs.set(kind).insert(name.clone()) {
            pubsub.add(kind, name, idx);
        }
        confirm(ctx.out, resp3, what, Some(name), subs.count(kind));
    }
    Ok(())
}

fn unsubscribe_from(ctx: &mut Ctx, args: &[Bytes], kind: SubKind) -> CmdResult {
    let idx = ctx
        .client
        .ok_or_else(|| CmdError::msg("ERR command needs a connection"))?;
    let resp3 = ctx.resp3;
    let shard = ctx.shard_id;
    let Partition {
        clients, pubsub, ..
    } = ctx.store.part(shard);
    let info = clients
        .get_mut(idx)
        .ok_or_else(|| CmdError::msg("ERR command needs a connection"))?;
    let (_, what) = kind_names(kind);
    let subs = info.subs.get_or_insert_with(Box::<ClientSubs>::default);
    let names: Vec<Bytes> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        subs.set(kind).iter().cloned().collect()
    };
    if names.is_empty() {
        confirm(ctx.out, resp3, what, None, subs.count(kind));
    }
    for name in &names {
        if subs.set(kind).remove(name) {
            pubsub.remove(kind, name, idx);
        }
        confirm(ctx.out, resp3, what, Some(name), subs.count(kind));
    }
    if subs.is_empty() {
        info.subs = None;
    }
    Ok(())
}

fn subscribe(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    subscribe_to(ctx, args, SubKind::Channel)
}

fn psubscribe(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    subscribe_to(ctx, args, SubKind::Pattern)
}

fn ssubscribe(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    subscribe_to(ctx, args, SubKind::Shard)
}

fn unsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    unsubscribe_from(ctx, args, SubKind::Channel)
}

fn punsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    unsubscribe_from(ctx, args, SubKind::Pattern)
}

fn sunsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    unsubscribe_from(ctx, args, SubKind::Shard)
}

/// Drops every subscription of client slot `idx` of `part` (RESET, and a
/// connection closing).
pub fn drop_all(part: &mut Partition, idx: usize) {
    let Some(info) = part.clients.get_mut(idx) else {
        return;
    };
    let Some(subs) = info.subs.take() else {
        return;
    };
    for (kind, set) in [
        (SubKind::Channel, &subs.channels),
        (SubKind::Pattern, &subs.patterns),
        (SubKind::Shard, &subs.shard_channels),
    ] {
        for name in set {
            part.pubsub.remove(kind, name, idx);
        }
    }
}

fn publish_to(ctx: &mut Ctx, args: &[Bytes], kind: SubKind) -> CmdResult {
    // Scope::FanOut runs this on every shard; each serves its own
    // subscribers and the dispatcher sums the counts.
    let (me, shard, resp3) = (ctx.client, ctx.shard_id, ctx.resp3);
    let pubsub = &mut ctx.store.part(shard).pubsub;
    let receivers = pubsub.publish_from(
        kind,
        &args[1],
        &args[2],
        me.map(|idx| (idx, &mut *ctx.out, resp3)),
    );
    ctx.int(receivers as i64);
    Ok(())
}

fn publish(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    publish_to(ctx, args, SubKind::Channel)
}

fn spublish(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    publish_to(ctx, args, SubKind::Shard)
}

fn list_names(ctx: &mut Ctx, args: &[Bytes], kind: SubKind) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::msg(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            String::from_utf8_lossy(&args[1])
        )));
    }
    let pattern = args.get(2);
    let mut names = BTreeSet::new();
    for shard in 0..ctx.nshards() {
        for name in ctx.part(shard).pubsub.names(kind) {
            if pattern.is_none_or(|p| glob_match(p, name, false)) {
                names.insert(name.clone());
            }
        }
    }
    ctx.array(names.len());
    for n in &names {
        ctx.bulk(n);
    }
    Ok(())
}

fn count_subscribers(ctx: &mut Ctx, args: &[Bytes], kind: SubKind) -> CmdResult {
    let names = &args[2..];
    let mut counts = vec![0usize; names.len()];
    for shard in 0..ctx.nshards() {
        let pubsub = &ctx.part(shard).pubsub;
        for (n, name) in counts.iter_mut().zip(names) {
            *n += pubsub.count(kind, name);
        }
    }
    // A flat array in both protocols, as Redis 7.0 sends it.
    ctx.array(names.len() * 2);
    for (name, n) in names.iter().zip(counts) {
        ctx.bulk(name);
        ctx.int(n as i64);
    }
    Ok(())
}

fn pubsub_channels(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    list_names(ctx, args, SubKind::Channel)
}

fn pubsub_shardchannels(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    list_names(ctx, args, SubKind::Shard)
}

fn pubsub_numsub(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    count_subscribers(ctx, args, SubKind::Channel)
}

fn pubsub_shardnumsub(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    count_subscribers(ctx, args, SubKind::Shard)
}

/// Unique patterns across all clients, as Redis counts them.
fn pubsub_numpat(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    let mut patterns = BTreeSet::new();
    for shard in 0..ctx.nshards() {
        patterns.extend(ctx.part(shard).pubsub.names(SubKind::Pattern).cloned());
    }
    ctx.int(patterns.len() as i64);
    Ok(())
}

const PUBSUB_HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

fn pubsub_help(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    ctx.help(PUBSUB_HELP);
    Ok(())
}
