//! The sorted-set family: ZADD ZINCRBY ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK
//! ZCOUNT ZLEXCOUNT ZRANGE ZRANGESTORE ZREVRANGE Z[REV]RANGEBYSCORE
//! Z[REV]RANGEBYLEX ZREM ZREMRANGEBY{RANK,SCORE,LEX} ZPOPMIN ZPOPMAX ZMPOP
//! BZPOPMIN BZPOPMAX BZMPOP ZRANDMEMBER ZUNION ZINTER ZDIFF (and their STORE
//! forms) ZINTERCARD ZSCAN.
//!
//! Checks run in Redis 7.0's order, which decides the error a client sees
//! when a command is wrong in several ways: ZADD validates its options and
//! every score before it looks at the key; range commands parse their
//! bounds first; the set operations type-check every source key before
//! they read their options (so WRONGTYPE beats a syntax error there).
//!
//! The value type and its encodings live in `types/zset.rs`; the conversion
//! thresholds are cached per thread as `hash.rs` does, re-read only when
//! CONFIG SET moved the epoch. Replies with scores use Redis 7.0's
//! `%.17g` doubles (a bulk string in RESP2, `,` in RESP3); WITHSCORES
//! replies are flat in RESP2 and `[member, score]` pairs in RESP3.
//!
//! Multi-key commands see keys that may live on several shards, all held
//! by the dispatcher, but borrow one sorted set at a time: they work over
//! an owned intermediate (the candidates of ZINTER, the accumulator of
//! ZUNION) and store a freshly built value at the end.

use std::cell::Cell;
use std::collections::HashMap;

use bytes::Bytes;
use shoal_protocol::encode;

use super::{
    arg_i64, cached_config, eq_ic, flag, BlockKind, CmdError, CmdResult, CommandSpec, ConfigCache,
    Ctx, KeySpecDoc, Keys,
};
use crate::config::KeyspaceEvents;
use crate::server::Server;
use crate::shard::db::Value;
use crate::types::compact::CompactBytes;
use crate::types::set::SetValue;
use crate::types::zset::{AddFlags, Added, LexRange, Limits, RangeSpec, ScoreRange, ZSetValue};
use crate::util::glob::glob_match;
use crate::util::num::parse_i64;
use crate::util::rand::random_u64;

const KEY1: Keys = Keys::Range {
    first: 1,
    last: 1,
    step: 1,
};
const ZSET: &[&str] = &["sortedset"];
const RW_DELETE: &[&str] = &["RW", "delete"];
const RW_ACCESS_DELETE: &[&str] = &["RW", "access", "delete"];
const STORE_DEST: &[KeySpecDoc] = &[KeySpecDoc::one(1, &["OW", "update"])];

const W: u32 = flag::WRITE | flag::DENYOOM | flag::FAST;
const RF: u32 = flag::READONLY | flag::FAST;
const R: u32 = flag::READONLY;

const RANGE_COMPLEXITY: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).";
const REM_COMPLEXITY: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.";
const POP_COMPLEXITY: &str = "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.";
const MPOP_COMPLEXITY: &str = "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.";
const UNION_COMPLEXITY: &str = "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.";
const INTER_COMPLEXITY: &str = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.";
const DIFF_COMPLEXITY: &str = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.";

macro_rules! zset_cmd {
    ($name:literal, $arity:expr, $flags:expr, $handler:ident, $since:literal, $summary:literal,
     $complexity:expr, $args:literal) => {
        CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            keys: KEY1,
            acl: ZSET,
            group: "sorted-set",
            since: $since,
            complexity: $complexity,
            summary: $summary,
            args: $args,
            handler: Some($handler),
            ..CommandSpec::DEFAULT
        }
    };
}

pub const COMMANDS: &[CommandSpec] = &[
    zset_cmd!("zadd", -4, W, zadd, "1.2.0",
        "Add one or more members to a sorted set, or update its score if it already exists",
        "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        "key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]"),
    CommandSpec {
        key_flags: &["RW", "access", "update"],
        ..zset_cmd!("zincrby", 4, W, zincrby, "1.2.0",
            "Increment the score of a member in a sorted set",
            "O(log(N)) where N is the number of elements in the sorted set.",
            "key increment member")
    },
    CommandSpec {
        key_flags: &["RO"],
        ..zset_cmd!("zcard", 2, RF, zcard, "1.2.0", "Get the number of members in a sorted set",
            "O(1)", "key")
    },
    zset_cmd!("zscore", 3, RF, zscore, "1.2.0",
        "Get the score associated with the given member in a sorted set", "O(1)", "key member"),
    zset_cmd!("zmscore", -3, RF, zmscore, "6.2.0",
        "Get the score associated with the given members in a sorted set",
        "O(N) where N is the number of members being requested.", "key member [member ...]"),
    zset_cmd!("zrank", 3, RF, zrank, "2.0.0", "Determine the index of a member in a sorted set",
        "O(log(N))", "key member"),
    zset_cmd!("zrevrank", 3, RF, zrevrank, "2.0.0",
        "Determine the index of a member in a sorted set, with scores ordered from high to low",
        "O(log(N))", "key member"),
    zset_cmd!("zcount", 4, RF, zcount, "2.0.0",
        "Count the members in a sorted set with scores within the given values",
        "O(log(N)) with N being the number of elements in the sorted set.", "key min max"),
    zset_cmd!("zlexcount", 4, RF, zlexcount, "2.8.9",
        "Count the number of members in a sorted set between a given lexicographical range",
        "O(log(N)) with N being the number of elements in the sorted set.", "key min max"),
    zset_cmd!("zrange", -4, R, zrange, "1.2.0", "Return a range of members in a sorted set",
        "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        "key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]"),
    CommandSpec {
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
        key_specs: &[KeySpecDoc::one(1, &["OW", "update"]), KeySpecDoc::one(2, &["RO", "access"])],
        ..zset_cmd!("zrangestore", -5, flag::WRITE | flag::DENYOOM, zrangestore, "6.2.0",
            "Store a range of members from sorted set into another key",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
            "dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]")
    },
    CommandSpec {
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`ZRANGE` with the `REV` argument",
        ..zset_cmd!("zrevrange", -4, R, zrevrange, "1.2.0",
            "Return a range of members in a sorted set, by index, with scores ordered from high to low",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
            "key start stop [WITHSCORES]")
    },
    CommandSpec {
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`ZRANGE` with the `BYSCORE` argument",
        ..zset_cmd!("zrangebyscore", -4, R, zrangebyscore, "1.0.5",
            "Return a range of members in a sorted set, by score", RANGE_COMPLEXITY,
            "key min max [WITHSCORES] [LIMIT offset count]")
    },
    CommandSpec {
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`ZRANGE` with the `REV` and `BYSCORE` arguments",
        ..zset_cmd!("zrevrangebyscore", -4, R, zrevrangebyscore, "2.2.0",
            "Return a range of members in a sorted set, by score, with scores ordered from high to low",
            RANGE_COMPLEXITY, "key max min [WITHSCORES] [LIMIT offset count]")
    },
    CommandSpec {
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`ZRANGE` with the `BYLEX` argument",
        ..zset_cmd!("zrangebylex", -4, R, zrangebylex, "2.8.9",
            "Return a range of members in a sorted set, by lexicographical range", RANGE_COMPLEXITY,
            "key min max [LIMIT offset count]")
    },
    CommandSpec {
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`ZRANGE` with the `REV` and `BYLEX` arguments",
        ..zset_cmd!("zrevrangebylex", -4, R, zrevrangebylex, "2.8.9",
            "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
            RANGE_COMPLEXITY, "key max min [LIMIT offset count]")
    },
    CommandSpec {
        key_flags: RW_DELETE,
        ..zset_cmd!("zrem", -3, flag::WRITE | flag::FAST, zrem, "1.2.0",
            "Remove one or more members from a sorted set",
            "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
            "key member [member ...]")
    },
    CommandSpec {
        key_flags: RW_DELETE,
        ..zset_cmd!("zremrangebyrank", 4, flag::WRITE, zremrangebyrank, "2.0.0",
            "Remove all members in a sorted set within the given indexes", REM_COMPLEXITY,
            "key start stop")
    },
    CommandSpec {
        key_flags: RW_DELETE,
        ..zset_cmd!("zremrangebyscore", 4, flag::WRITE, zremrangebyscore, "1.2.0",
            "Remove all members in a sorted set within the given scores", REM_COMPLEXITY,
            "key min max")
    },
    CommandSpec {
        key_flags: RW_DELETE,
        ..zset_cmd!("zremrangebylex", 4, flag::WRITE, zremrangebylex, "2.8.9",
            "Remove all members in a sorted set between the given lexicographical range",
            REM_COMPLEXITY, "key min max")
    },
    CommandSpec {
        key_flags: RW_ACCESS_DELETE,
        ..zset_cmd!("zpopmin", -2, flag::WRITE | flag::FAST, zpopmin, "5.0.0",
            "Remove and return members with the lowest scores in a sorted set", POP_COMPLEXITY,
            "key [count]")
    },
    CommandSpec {
        key_flags: RW_ACCESS_DELETE,
        ..zset_cmd!("zpopmax", -2, flag::WRITE | flag::FAST, zpopmax, "5.0.0",
            "Remove and return members with the highest scores in a sorted set", POP_COMPLEXITY,
            "key [count]")
    },
    CommandSpec {
        keys: Keys::NumKeys { index: 1 },
        key_flags: RW_ACCESS_DELETE,
        ..zset_cmd!("zmpop", -4, flag::WRITE, zmpop, "7.0.0",
            "Remove and return members with scores in a sorted set", MPOP_COMPLEXITY,
            "numkeys key [key ...] <MIN | MAX> [COUNT count]")
    },
    CommandSpec {
        keys: Keys::Range {
            first: 1,
            last: -2,
            step: 1,
        },
        key_flags: RW_ACCESS_DELETE,
        ..zset_cmd!("bzpopmin", -3,
            flag::WRITE | flag::NOSCRIPT | flag::BLOCKING | flag::FAST, bzpopmin, "5.0.0",
            "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
            "O(log(N)) with N being the number of elements in the sorted set.",
            "key [key ...] timeout")
    },
    CommandSpec {
        keys: Keys::Range {
            first: 1,
            last: -2,
            step: 1,
        },
        key_flags: RW_ACCESS_DELETE,
        ..zset_cmd!("bzpopmax", -3,
            flag::WRITE | flag::NOSCRIPT | flag::BLOCKING | flag::FAST, bzpopmax, "5.0.0",
            "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
            "O(log(N)) with N being the number of elements in the sorted set.",
            "key [key ...] timeout")
    },
    CommandSpec {
        keys: Keys::NumKeys { index: 2 },
        key_flags: RW_ACCESS_DELETE,
        ..zset_cmd!("bzmpop", -5, flag::WRITE | flag::BLOCKING, bzmpop, "7.0.0",
            "Remove and return members with scores in a sorted set or block until one is available",
            MPOP_COMPLEXITY, "timeout numkeys key [key ...] <MIN | MAX> [COUNT count]")
    },
    CommandSpec {
        tips: &["nondeterministic_output"],
        ..zset_cmd!("zrandmember", -2, R, zrandmember, "6.2.0",
            "Get one or multiple random elements from a sorted set",
            "O(N) where N is the number of elements returned", "key [count [WITHSCORES]]")
    },
    CommandSpec {
        keys: Keys::NumKeys { index: 1 },
        ..zset_cmd!("zunion", -3, R, zunion, "6.2.0", "Add multiple sorted sets", UNION_COMPLEXITY,
            "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES]")
    },
    CommandSpec {
        keys: Keys::NumKeys { index: 1 },
        ..zset_cmd!("zinter", -3, R, zinter, "6.2.0", "Intersect multiple sorted sets",
            INTER_COMPLEXITY,
            "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES]")
    },
    CommandSpec {
        keys: Keys::NumKeys { index: 1 },
        ..zset_cmd!("zdiff", -3, R, zdiff, "6.2.0", "Subtract multiple sorted sets",
            DIFF_COMPLEXITY, "numkeys key [key ...] [WITHSCORES]")
    },
    CommandSpec {
        keys: Keys::DestNumKeys { index: 2 },
        key_flags: &["RO", "access"],
        key_specs: STORE_DEST,
        ..zset_cmd!("zunionstore", -4, flag::WRITE | flag::DENYOOM, zunionstore, "2.0.0",
            "Add multiple sorted sets and store the resulting sorted set in a new key",
            "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
            "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>]")
    },
    CommandSpec {
        keys: Keys::DestNumKeys { index: 2 },
        key_flags: &["RO", "access"],
        key_specs: STORE_DEST,
        ..zset_cmd!("zinterstore", -4, flag::WRITE | flag::DENYOOM, zinterstore, "2.0.0",
            "Intersect multiple sorted sets and store the resulting sorted set in a new key",
            INTER_COMPLEXITY,
            "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>]")
    },
    CommandSpec {
        keys: Keys::DestNumKeys { index: 2 },
        key_flags: &["RO", "access"],
        key_specs: STORE_DEST,
        ..zset_cmd!("zdiffstore", -4, flag::WRITE | flag::DENYOOM, zdiffstore, "6.2.0",
            "Subtract multiple sorted sets and store the resulting sorted set in a new key",
            DIFF_COMPLEXITY, "destination numkeys key [key ...]")
    },
    CommandSpec {
        keys: Keys::NumKeys { index: 1 },
        ..zset_cmd!("zintercard", -3, R, zintercard, "7.0.0",
            "Intersect multiple sorted sets and return the cardinality of the result",
            "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
            "numkeys key [key ...] [LIMIT limit]")
    },
    CommandSpec {
        tips: &["nondeterministic_output"],
        ..zset_cmd!("zscan", -3, R, zscan, "2.8.0",
            "Incrementally iterate sorted sets elements and associated scores",
            "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
            "key cursor [MATCH pattern] [COUNT count]")
    },
];

// ---- helpers -------------------------------------------------------------------------

/// The listpack thresholds of the configuration.
fn limits(server: &Server) -> Limits {
    thread_local! {
        static CACHE: ConfigCache<Limits> = const { Cell::new(None) };
    }
    cached_config(&CACHE, server, |cfg| Limits {
        max_entries: cfg.zset_max_listpack_entries,
        max_value: cfg.zset_max_listpack_value,
    })
}

/// The sorted set at `key` for a read command (counts hits and misses).
fn read_zset<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c ZSetValue>, CmdError> {
    match ctx.read(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// [`read_zset`] that also lends out the reply buffer, so that replies are
/// written straight from the stored value.
fn read_zset_out<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<(Option<&'c ZSetValue>, &'c mut Vec<u8>), CmdError> {
    let (entry, out) = ctx.read_with_out(key);
    match entry {
        None => Ok((None, out)),
        Some(e) => match &e.value {
            Value::ZSet(z) => Ok((Some(z), out)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// The sorted set at `key` for a write command.
fn write_zset<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c mut ZSetValue>, CmdError> {
    match ctx.write(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// Deletes `key` if its sorted set became empty (sorted sets are never
/// left empty), raising `del`.
fn delete_if_empty(ctx: &mut Ctx, key: &[u8]) -> bool {
    let empty = matches!(write_zset(ctx, key), Ok(Some(z)) if z.is_empty());
    if empty {
        ctx.db(key).remove(key);
        ctx.notify(KeyspaceEvents::GENERIC, "del", key);
    }
    empty
}

/// Stores `entries` (sorted by score then member) at `dst` as a new sorted
/// set, replacing whatever was there and its TTL, as Redis's setKey does;
/// an empty result deletes `dst`. Replies with the stored cardinality.
fn store_result(ctx: &mut Ctx, dst: &[u8], entries: &[(CompactBytes, f64)], event: &'static str) {
    if entries.is_empty() {
        let now = ctx.now_ms;
        if ctx.db(dst).remove_live(dst, now).is_some() {
            ctx.notify(KeyspaceEvents::GENERIC, "del", dst);
        }
        ctx.int(0);
        return;
    }
    let value = ZSetValue::from_sorted(entries, limits(ctx.server));
    let entry = ctx.entry(Value::ZSet(value));
    // Through Db::insert, which wakes clients blocked on `dst`.
    ctx.db(dst).insert(dst, entry);
    ctx.notify(KeyspaceEvents::ZSET, event, dst);
    ctx.int(entries.len() as i64);
}

/// The array header of `n` elements, flat pairs in RESP2 with scores.
fn elements_header(out: &mut Vec<u8>, n: usize, withscores: bool, resp3: bool) {
    encode::array_len(out, if withscores && !resp3 { n * 2 } else { n });
}

/// One element of a range reply: the member, then its score WITHSCORES (a
/// `[member, score]` pair in RESP3).
#[inline]
fn element(out: &mut Vec<u8>, member: &[u8], score: f64, withscores: bool, resp3: bool) {
    if withscores && resp3 {
        encode::array_len(out, 2);
    }
    encode::bulk(out, member);
    if withscores {
        encode::double(out, score, resp3);
    }
}

fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    ScoreRange::parse(min, max).ok_or(CmdError::msg("ERR min or max is not a float"))
}

fn lex_range<'a>(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, CmdError> {
    LexRange::parse(min, max).ok_or(CmdError::msg("ERR min or max not valid string range item"))
}

/// Redis's rank normalization: negative indexes count from the end; `None`
/// for an empty range, else `start..=end` within `len`.
fn rank_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 {
        start.saturating_add(len)
    } else {
        start
    };
    let end = if end < 0 {
        end.saturating_add(len)
    } else {
        end
    };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

// ---- ZADD, ZINCRBY, ZREM ------------------------------------------------------------

fn zadd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, args, false)
}

/// ZINCRBY is ZADD INCR, options parser included: Redis runs the same
/// code, so `ZINCRBY key nx member` is a syntax error, not a bad float.
fn zincrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, args, true)
}

fn zadd_generic(ctx: &mut Ctx, args: &[Bytes], incr: bool) -> CmdResult {
    let mut flags = AddFlags {
        incr,
        ..AddFlags::default()
    };
    let mut ch = false;
    let mut at = 2;
    while let Some(opt) = args.get(at) {
        match opt.len() {
            2 if eq_ic(opt, "nx") => flags.nx = true,
            2 if eq_ic(opt, "xx") => flags.xx = true,
            2 if eq_ic(opt, "ch") => ch = true,
            2 if eq_ic(opt, "gt") => flags.gt = true,
            2 if eq_ic(opt, "lt") => flags.lt = true,
            4 if eq_ic(opt, "incr") => flags.incr = true,
            _ => break,
        }
        at += 1;
    }
    let elements = args.len() - at;
    if elements % 2 == 1 || elements == 0 {
        return Err(CmdError::Syntax);
    }
    let pairs = elements / 2;
    if flags.nx && flags.xx {
        return Err(CmdError::msg(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    // At most one of GT, LT and NX.
    if u8::from(flags.gt) + u8::from(flags.lt) + u8::from(flags.nx) > 1 {
        return Err(CmdError::msg(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if flags.incr && pairs > 1 {
        return Err(CmdError::msg(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut scores = Vec::with_capacity(pairs);
    for j in 0..pairs {
        scores.push(super::arg_f64(&args[at + 2 * j])?);
    }
    let limits = limits(ctx.server);
    let key = &args[1];
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last = 0.0;
    let mut nan = false;
    let mut apply = |z: &mut ZSetValue| {
        for (j, &score) in scores.iter().enumerate() {
            match z.add(score, &args[at + 2 * j + 1], flags, limits) {
                Err(_) => {
                    nan = true;
                    break;
                }
                Ok(Added::New(s)) => {
                    added += 1;
                    processed += 1;
                    last = s;
                }
                Ok(Added::Updated(s)) => {
                    updated += 1;
                    processed += 1;
                    last = s;
                }
                Ok(Added::Same(s)) => {
                    processed += 1;
                    last = s;
                }
                Ok(Added::Skipped) => {}
            }
        }
    };
    match write_zset(ctx, key)? {
        Some(z) => apply(z),
        None if flags.xx => {}
        None => {
            let mut z = ZSetValue::new();
            apply(&mut z);
            if !z.is_empty() {
                let entry = ctx.entry(Value::ZSet(z));
                ctx.db(key).insert(key, entry);
            }
        }
    }
    if added + updated > 0 {
        ctx.notify(
            KeyspaceEvents::ZSET,
            if flags.incr { "zincr" } else { "zadd" },
            key,
        );
    }
    if nan {
        return Err(CmdError::msg("ERR resulting score is not a number (NaN)"));
    }
    if flags.incr {
        if processed > 0 {
            ctx.double(last);
        } else {
            ctx.null();
        }
    } else {
        ctx.int(if ch { added + updated } else { added });
    }
    Ok(())
}

fn zrem(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let mut removed = 0;
    if let Some(z) = write_zset(ctx, key)? {
        for member in &args[2..] {
            removed += i64::from(z.remove(member));
            if z.is_empty() {
                break;
            }
        }
    }
    if removed > 0 {
        ctx.notify(KeyspaceEvents::ZSET, "zrem", key);
        delete_if_empty(ctx, key);
    }
    ctx.int(removed);
    Ok(())
}

// ---- single-key reads -----------------------------------------------------------------

fn zcard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let n = read_zset(ctx, &args[1])?.map_or(0, ZSetValue::len);
    ctx.int(n as i64);
    Ok(())
}

fn zscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    match read_zset(ctx, &args[1])?.and_then(|z| z.score(&args[2])) {
        Some(s) => ctx.double(s),
        None => ctx.null(),
    }
    Ok(())
}

fn zmscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let resp3 = ctx.resp3;
    let (z, out) = read_zset_out(ctx, &args[1])?;
    encode::array_len(out, args.len() - 2);
    for member in &args[2..] {
        match z.and_then(|z| z.score(member)) {
            Some(s) => encode::double(out, s, resp3),
            None => encode::null(out, resp3),
        }
    }
    Ok(())
}

fn zrank(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    rank_generic(ctx, args, false)
}

fn zrevrank(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    rank_generic(ctx, args, true)
}

fn rank_generic(ctx: &mut Ctx, args: &[Bytes], rev: bool) -> CmdResult {
    let found = read_zset(ctx, &args[1])?.and_then(|z| {
        let len = z.len();
        z.rank(&args[2]).map(|r| if rev { len - 1 - r } else { r })
    });
    match found {
        Some(r) => ctx.int(r as i64),
        None => ctx.null(),
    }
    Ok(())
}

fn zcount(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let range = score_range(&args[2], &args[3])?;
    let n = read_zset(ctx, &args[1])?.map_or(0, |z| z.count_in(&range));
    ctx.int(n as i64);
    Ok(())
}

fn zlexcount(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let range = lex_range(&args[2], &args[3])?;
    let n = read_zset(ctx, &args[1])?.map_or(0, |z| z.count_in(&range));
    ctx.int(n as i64);
    Ok(())
}

// ---- ZRANGE and its variants ------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Rank,
    Score,
    Lex,
}

fn zrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, 1, false, None, None)
}

fn zrangestore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, 2, true, None, None)
}

fn zrevrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, 1, false, Some(By::Rank), Some(true))
}

fn zrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, 1, false, Some(By::Score), Some(false))
}

fn zrevrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, 1, false, Some(By::Score), Some(true))
}

fn zrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, 1, false, Some(By::Lex), Some(false))
}

fn zrevrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, args, 1, false, Some(By::Lex), Some(true))
}

/// Where a range's elements go: the reply, or a list to store.
enum Sink<'o> {
    Reply {
        out: &'o mut Vec<u8>,
        withscores: bool,
        resp3: bool,
    },
    Store(Vec<(CompactBytes, f64)>),
}

impl Sink<'_> {
    #[inline]
    fn push(&mut self, member: &[u8], score: f64) {
        match self {
            Sink::Reply {
                out,
                withscores,
                resp3,
            } => element(out, member, score, *withscores, *resp3),
            Sink::Store(v) => v.push((CompactBytes::from_slice(member), score)),
        }
    }
}

/// Redis's zrangeGenericCommand: `src_at` is the source key's position
/// (after ZRANGESTORE's destination); `by` and `rev` are fixed by the
/// older commands and chosen by options for ZRANGE.
fn zrange_generic(
    ctx: &mut Ctx,
    args: &[Bytes],
    src_at: usize,
    store: bool,
    by: Option<By>,
    rev: Option<bool>,
) -> CmdResult {
    let (mut by, mut rev) = (by, rev);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = src_at + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if !store && eq_ic(a, "withscores") {
            withscores = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            offset = arg_i64(&args[j + 1])?;
            limit = arg_i64(&args[j + 2])?;
            j += 2;
        } else if rev.is_none() && eq_ic(a, "rev") {
            rev = Some(true);
        } else if by.is_none() && eq_ic(a, "bylex") {
            by = Some(By::Lex);
        } else if by.is_none() && eq_ic(a, "byscore") {
            by = Some(By::Score);
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    let by = by.unwrap_or(By::Rank);
    if limit != -1 && by == By::Rank {
        return Err(CmdError::msg(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(CmdError::msg(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    // The reverse forms take the range as max, min.
    let (min_arg, max_arg) = if rev && by != By::Rank {
        (&args[src_at + 2], &args[src_at + 1])
    } else {
        (&args[src_at + 1], &args[src_at + 2])
    };
    enum Bounds<'a> {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange<'a>),
    }
    let bounds = match by {
        By::Rank => Bounds::Rank(arg_i64(min_arg)?, arg_i64(max_arg)?),
        By::Score => Bounds::Score(score_range(min_arg, max_arg)?),
        By::Lex => Bounds::Lex(lex_range(min_arg, max_arg)?),
    };
    let resp3 = ctx.resp3;
    let src = &args[src_at];
    let (z, out) = read_zset_out(ctx, src)?;
    let Some(z) = z else {
        if store {
            store_result(ctx, &args[1], &[], "zrangestore");
        } else {
            encode::array_len(out, 0);
        }
        return Ok(());
    };
    let mut body = Vec::new();
    let mut sink = if store {
        Sink::Store(Vec::new())
    } else if let Bounds::Rank(..) = bounds {
        Sink::Reply {
            out: &mut *out,
            withscores,
            resp3,
        }
    } else {
        // The count is known only once the range is walked.
        Sink::Reply {
            out: &mut body,
            withscores,
            resp3,
        }
    };
    let n = match bounds {
        Bounds::Rank(start, end) => match rank_range(start, end, z.len()) {
            None => {
                if let Sink::Reply { out, .. } = &mut sink {
                    elements_header(out, 0, withscores, resp3);
                }
                0
            }
            Some((start, end)) => {
                let n = end - start + 1;
                if let Sink::Reply { out, .. } = &mut sink {
                    elements_header(out, n, withscores, resp3);
                }
                let first = if rev { z.len() - 1 - start } else { start };
                let mut left = n;
                z.walk(first, rev, |m, s| {
                    sink.push(m, s);
                    left -= 1;
                    left > 0
                });
                n
            }
        },
        Bounds::Score(range) => walk_range(z, &range, rev, offset, limit, &mut sink),
        Bounds::Lex(range) => walk_range(z, &range, rev, offset, limit, &mut sink),
    };
    match sink {
        Sink::Store(mut entries) => {
            if rev {
                entries.reverse();
            }
            store_result(ctx, &args[1], &entries, "zrangestore");
        }
        Sink::Reply { .. } => {
            if !matches!(bounds, Bounds::Rank(..)) {
                elements_header(out, n, withscores, resp3);
                out.extend_from_slice(&body);
            }
        }
    }
    Ok(())
}

/// The score or lex part of zrangeGenericCommand: from the first element in
/// range (last, when `rev`), skip `offset` elements, then take up to
/// `limit` (negative: all) while they stay in range. Returns how many.
fn walk_range<R: RangeSpec>(
    z: &ZSetValue,
    range: &R,
    rev: bool,
    offset: i64,
    limit: i64,
    sink: &mut Sink,
) -> usize {
    // A negative offset skips everything in Redis's loop.
    let Ok(offset) = usize::try_from(offset) else {
        return 0;
    };
    let start = if rev {
        match z.last_in(range) {
            Some(last) if offset <= last => last - offset,
            _ => return 0,
        }
    } else {
        match z.first_in(range) {
            Some(first) => first.saturating_add(offset),
            None => return 0,
        }
    };
    let mut left = limit;
    let mut n = 0;
    if left == 0 {
        return 0;
    }
    z.walk(start, rev, |m, s| {
        let inside = if rev {
            range.gte_min(s, m)
        } else {
            range.lte_max(s, m)
        };
        if !inside {
            return false;
        }
        sink.push(m, s);
        n += 1;
        left -= 1;
        left != 0
    });
    n
}

// ---- ZREMRANGEBY* ---------------------------------------------------------------------

fn zremrangebyrank(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (start, end) = (arg_i64(&args[2])?, arg_i64(&args[3])?);
    zremrange(ctx, &args[1], "zremrangebyrank", |z| {
        match rank_range(start, end, z.len()) {
            Some((a, b)) => z.remove_ranks(a, b),
            None => 0,
        }
    })
}

fn zremrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let range = score_range(&args[2], &args[3])?;
    zremrange(ctx, &args[1], "zremrangebyscore", |z| z.remove_in(&range))
}

fn zremrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let range = lex_range(&args[2], &args[3])?;
    zremrange(ctx, &args[1], "zremrangebylex", |z| z.remove_in(&range))
}

fn zremrange(
    ctx: &mut Ctx,
    key: &[u8],
    event: &'static str,
    remove: impl FnOnce(&mut ZSetValue) -> usize,
) -> CmdResult {
    let removed = match write_zset(ctx, key)? {
        Some(z) => remove(z),
        None => 0,
    };
    if removed > 0 {
        ctx.notify(KeyspaceEvents::ZSET, event, key);
        delete_if_empty(ctx, key);
    }
    ctx.int(removed as i64);
    Ok(())
}

// ---- pops -----------------------------------------------------------------------------

/// Pops up to `count` elements from the sorted set at `key`, deleting the
/// key once empty. Nothing for a missing key or another type.
fn pop_from(ctx: &mut Ctx, key: &[u8], max: bool, count: usize) -> Vec<(CompactBytes, f64)> {
    let mut popped = Vec::new();
    let mut emptied = false;
    if let Ok(Some(z)) = write_zset(ctx, key) {
        while popped.len() < count {
            match z.pop(max) {
                Some(e) => popped.push(e),
                None => break,
            }
        }
        emptied = z.is_empty();
    }
    if !popped.is_empty() {
        ctx.notify(
            KeyspaceEvents::ZSET,
            if max { "zpopmax" } else { "zpopmin" },
            key,
        );
    }
    if emptied {
        ctx.db(key).remove(key);
        ctx.notify(KeyspaceEvents::GENERIC, "del", key);
    }
    popped
}

fn zpopmin(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zpop(ctx, args, false)
}

fn zpopmax(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zpop(ctx, args, true)
}

fn zpop(ctx: &mut Ctx, args: &[Bytes], max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => Some(
            parse_i64(a)
                .filter(|n| *n >= 0)
                .ok_or(CmdError::msg("ERR value is out of range, must be positive"))?,
        ),
    };
    let key = &args[1];
    if write_zset(ctx, key)?.is_none() || count == Some(0) {
        ctx.array(0);
        return Ok(());
    }
    let wanted = count.map_or(1, |c| usize::try_from(c).unwrap_or(usize::MAX));
    let popped = pop_from(ctx, key, max, wanted);
    // With a count, RESP3 nests each pair; otherwise the reply is flat.
    let nested = ctx.resp3 && count.is_some();
    if nested {
        ctx.array(popped.len());
    } else {
        ctx.array(popped.len() * 2);
    }
    for (m, s) in &popped {
        if nested {
            ctx.array(2);
        }
        ctx.bulk(m);
        ctx.double(*s);
    }
    Ok(())
}

fn bzpopmin(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    bzpop(ctx, args, false)
}

fn bzpopmax(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    bzpop(ctx, args, true)
}

/// Whether `key` holds a non-empty sorted set a blocked pop may serve;
/// WRONGTYPE for another type unless `quiet` (a retry after a wake-up just
/// keeps waiting).
fn servable(ctx: &mut Ctx, key: &[u8], quiet: bool) -> Result<bool, CmdError> {
    match write_zset(ctx, key) {
        Ok(z) => Ok(z.is_some_and(|z| !z.is_empty())),
        Err(_) if quiet => Ok(false),
        Err(e) => Err(e),
    }
}

/// The key a blocking pop serves from: the one that woke it when retried
/// (as Redis 7.0 serves the ready key), else the first that has elements.
fn blocking_source(ctx: &mut Ctx, keys: &[Bytes]) -> Result<Option<Bytes>, CmdError> {
    if let Some(ready) = ctx.ready_key.map(Bytes::copy_from_slice) {
        return Ok(servable(ctx, &ready, true)?.then_some(ready));
    }
    for key in keys {
        if servable(ctx, key, false)? {
            return Ok(Some(key.clone()));
        }
    }
    Ok(None)
}

fn bzpop(ctx: &mut Ctx, args: &[Bytes], max: bool) -> CmdResult {
    let deadline = ctx.block_deadline(&args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    if let Some(key) = blocking_source(ctx, keys)? {
        let popped = pop_from(ctx, &key, max, 1);
        ctx.array(popped.len() * 2 + 1);
        ctx.bulk(&key);
        for (m, s) in &popped {
            ctx.bulk(m);
            ctx.double(*s);
        }
        return Ok(());
    }
    ctx.null_array();
    if ctx.may_block {
        ctx.block_on(keys.to_vec(), deadline, BlockKind::ZSet);
    }
    Ok(())
}

/// ZMPOP / BZMPOP's arguments: the keys, which end, and how many.
struct MpopArgs<'a> {
    keys: &'a [Bytes],
    max: bool,
    count: usize,
}

/// Redis's zmpopGenericCommand parsing, `numkeys` at `at`.
fn parse_mpop(args: &[Bytes], at: usize) -> Result<MpopArgs<'_>, CmdError> {
    let numkeys = parse_i64(&args[at])
        .filter(|n| *n >= 1)
        .ok_or(CmdError::msg("ERR numkeys should be greater than 0"))?;
    let where_at = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(at + 1))
        .filter(|&w| w < args.len())
        .ok_or(CmdError::Syntax)?;
    let max = if eq_ic(&args[where_at], "min") {
        false
    } else if eq_ic(&args[where_at], "max") {
        true
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if count.is_none() && eq_ic(&args[j], "count") && more > 0 {
            j += 1;
            let c = parse_i64(&args[j])
                .filter(|n| *n >= 1)
                .ok_or(CmdError::msg("ERR count should be greater than 0"))?;
            count = Some(usize::try_from(c).unwrap_or(usize::MAX));
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(MpopArgs {
        keys: &args[at + 1..where_at],
        max,
        count: count.unwrap_or(1),
    })
}

/// `[key, [[member, score], ...]]`, in both protocols.
fn reply_mpop(ctx: &mut Ctx, key: &[u8], popped: &[(CompactBytes, f64)]) {
    ctx.array(2);
    ctx.bulk(key);
    ctx.array(popped.len());
    for (m, s) in popped {
        ctx.array(2);
        ctx.bulk(m);
        ctx.double(*s);
    }
}

fn zmpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let MpopArgs { keys, max, count } = parse_mpop(args, 1)?;
    // The first key that exists decides: popped from, or WRONGTYPE.
    for key in keys {
        if write_zset(ctx, key)?.is_some() {
            let popped = pop_from(ctx, key, max, count);
            reply_mpop(ctx, key, &popped);
            return Ok(());
        }
    }
    ctx.null_array();
    Ok(())
}

fn bzmpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let MpopArgs { keys, max, count } = parse_mpop(args, 2)?;
    let deadline = ctx.block_deadline(&args[1])?;
    if let Some(key) = blocking_source(ctx, keys)? {
        let popped = pop_from(ctx, &key, max, count);
        reply_mpop(ctx, &key, &popped);
        return Ok(());
    }
    ctx.null_array();
    if ctx.may_block {
        ctx.block_on(keys.to_vec(), deadline, BlockKind::ZSet);
    }
    Ok(())
}

// ---- ZRANDMEMBER --------------------------------------------------------------------------

/// Beyond this many repeated picks ZRANDMEMBER refuses, as SRANDMEMBER
/// does here: Redis would build the reply until it ran out of memory.
const MAX_REPEATED_PICKS: u64 = 1 << 32;

fn zrandmember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    if args.len() == 2 {
        let resp3 = ctx.resp3;
        let (z, out) = read_zset_out(ctx, key)?;
        match z.and_then(|z| z.get((random_u64() % z.len().max(1) as u64) as usize)) {
            Some((m, _)) => encode::bulk(out, m),
            None => encode::null(out, resp3),
        }
        return Ok(());
    }
    let count = arg_i64(&args[2])?;
    if count == i64::MIN {
        return Err(CmdError::msg(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    if args.len() > 4 || (args.len() == 4 && !eq_ic(&args[3], "withscores")) {
        return Err(CmdError::Syntax);
    }
    let withscores = args.len() == 4;
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::msg("ERR value is out of range"));
    }
    if count < 0 && count.unsigned_abs() > MAX_REPEATED_PICKS {
        return Err(CmdError::msg("ERR value is out of range"));
    }
    let resp3 = ctx.resp3;
    let (z, out) = read_zset_out(ctx, key)?;
    let Some(z) = z else {
        encode::array_len(out, 0);
        return Ok(());
    };
    let len = z.len();
    if count == 0 || len == 0 {
        encode::array_len(out, 0);
        return Ok(());
    }
    let pick = |out: &mut Vec<u8>, rank: usize| {
        if let Some((m, s)) = z.get(rank) {
            element(out, m, s, withscores, resp3);
        }
    };
    // Repetitions allowed (and a single pick): independent draws.
    if count < 0 || count == 1 {
        let n = count.unsigned_abs() as usize;
        elements_header(out, n, withscores, resp3);
        for _ in 0..n {
            pick(out, (random_u64() % len as u64) as usize);
        }
        return Ok(());
    }
    let count = count as u64;
    // Asking for all of them: the whole set, highest first, as Redis
    // iterates it.
    if count >= len as u64 {
        elements_header(out, len, withscores, resp3);
        z.walk(len - 1, true, |m, s| {
            element(out, m, s, withscores, resp3);
            true
        });
        return Ok(());
    }
    let n = count as usize;
    let ranks: Vec<usize> = if n * 3 > len {
        // A large share: a partial shuffle of every rank.
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..n {
            let j = i + (random_u64() % (len - i) as u64) as usize;
            all.swap(i, j);
        }
        all.truncate(n);
        all
    } else {
        let mut seen = std::collections::HashSet::with_capacity(n);
        let mut picked = Vec::with_capacity(n);
        while picked.len() < n {
            let r = (random_u64() % len as u64) as usize;
            if seen.insert(r) {
                picked.push(r);
            }
        }
        picked
    };
    elements_header(out, n, withscores, resp3);
    for r in ranks {
        pick(out, r);
    }
    Ok(())
}

// ---- ZUNION, ZINTER, ZDIFF and their STORE forms, ZINTERCARD ---------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Redis's zunionInterAggregate: a sum of inf and -inf is 0.
    #[inline]
    fn apply(self, target: &mut f64, value: f64) {
        match self {
            Aggregate::Sum => {
                *target += value;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if value < *target {
                    *target = value;
                }
            }
            Aggregate::Max => {
                if value > *target {
                    *target = value;
                }
            }
        }
    }
}

/// One input of a set operation: a sorted set, or a plain set whose
/// members all score 1.
struct Source<'a> {
    key: &'a Bytes,
    len: usize,
    weight: f64,
}

/// A source's value, borrowed for one pass.
enum Input<'c> {
    ZSet(&'c ZSetValue),
    Set(&'c SetValue),
}

impl Input<'_> {
    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Input::ZSet(z) => z.for_each(f),
            Input::Set(s) => s.for_each(|m| f(m, 1.0)),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Input::ZSet(z) => z.score(member),
            Input::Set(s) => s.contains(member).then_some(1.0),
        }
    }
}

/// Another look at a source already type-checked in this command.
fn input<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Option<Input<'c>> {
    match &ctx.write(key)?.value {
        Value::ZSet(z) => Some(Input::ZSet(z)),
        Value::Set(s) => Some(Input::Set(s)),
        _ => None,
    }
}

/// `weight * score`, with Redis's convention that a NaN product is 0.
#[inline]
fn weighted(weight: f64, score: f64) -> f64 {
    let v = weight * score;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

fn zunion(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zsetop(ctx, args, 1, SetOp::Union, false, false)
}

fn zinter(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zsetop(ctx, args, 1, SetOp::Inter, false, false)
}

fn zdiff(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zsetop(ctx, args, 1, SetOp::Diff, false, false)
}

fn zunionstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zsetop(ctx, args, 2, SetOp::Union, true, false)
}

fn zinterstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zsetop(ctx, args, 2, SetOp::Inter, true, false)
}

fn zdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zsetop(ctx, args, 2, SetOp::Diff, true, false)
}

fn zintercard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zsetop(ctx, args, 1, SetOp::Inter, false, true)
}

/// Redis's zunionInterDiffGenericCommand. `numkeys_at` is the position of
/// the key count; `store` means argument 1 is the destination;
/// `card_only` is ZINTERCARD.
fn zsetop(
    ctx: &mut Ctx,
    args: &[Bytes],
    numkeys_at: usize,
    op: SetOp,
    store: bool,
    card_only: bool,
) -> CmdResult {
    let setnum = arg_i64(&args[numkeys_at])?;
    if setnum < 1 {
        return Err(CmdError::msg(format!(
            "ERR at least 1 input key is needed for '{}' command",
            ctx.spec.name
        )));
    }
    let first_key = numkeys_at + 1;
    if setnum as u64 > (args.len() - first_key) as u64 {
        return Err(CmdError::Syntax);
    }
    let setnum = setnum as usize;
    let mut sources = Vec::with_capacity(setnum);
    for key in &args[first_key..first_key + setnum] {
        let len = match ctx.read(key).map(|e| &e.value) {
            None => 0,
            Some(Value::ZSet(z)) => z.len(),
            Some(Value::Set(s)) => s.len(),
            Some(_) => return Err(CmdError::WrongType),
        };
        sources.push(Source {
            key,
            len,
            weight: 1.0,
        });
    }
    let mut aggregate = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0usize;
    let mut j = first_key + setnum;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j];
        if op != SetOp::Diff && !card_only && remaining > setnum && eq_ic(a, "weights") {
            j += 1;
            for source in &mut sources {
                source.weight = crate::util::num::parse_f64(&args[j])
                    .ok_or(CmdError::msg("ERR weight value is not a float"))?;
                j += 1;
            }
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && eq_ic(a, "aggregate") {
            let how = &args[j + 1];
            aggregate = if eq_ic(how, "sum") {
                Aggregate::Sum
            } else if eq_ic(how, "min") {
                Aggregate::Min
            } else if eq_ic(how, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if !store && !card_only && eq_ic(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && eq_ic(a, "limit") {
            let l = parse_i64(&args[j + 1])
                .filter(|n| *n >= 0)
                .ok_or(CmdError::msg("ERR LIMIT can't be negative"))?;
            limit = usize::try_from(l).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if op != SetOp::Diff {
        // Smallest first: the intersection then tests the fewest candidates.
        sources.sort_by_key(|s| s.len);
    }
    let mut result: Vec<(CompactBytes, f64)> = match op {
        SetOp::Inter => intersect(ctx, &sources, aggregate),
        SetOp::Union => unite(ctx, &sources, aggregate),
        SetOp::Diff => subtract(ctx, &sources),
    };
    if card_only {
        let n = if limit > 0 {
            result.len().min(limit)
        } else {
            result.len()
        };
        ctx.int(n as i64);
        return Ok(());
    }
    result.sort_by(|(am, a), (bm, b)| {
        a.partial_cmp(b)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| am.cmp(bm))
    });
    if store {
        let event = match op {
            SetOp::Union => "zunionstore",
            SetOp::Inter => "zinterstore",
            SetOp::Diff => "zdiffstore",
        };
        store_result(ctx, &args[1], &result, event);
        return Ok(());
    }
    let resp3 = ctx.resp3;
    elements_header(ctx.out, result.len(), withscores, resp3);
    for (m, s) in &result {
        element(ctx.out, m, *s, withscores, resp3);
    }
    Ok(())
}

/// The members of every source, scored by the aggregate of their weighted
/// scores, aggregated in source order as Redis does.
fn intersect(ctx: &mut Ctx, sources: &[Source], aggregate: Aggregate) -> Vec<(CompactBytes, f64)> {
    let Some(first) = sources.first() else {
        return Vec::new();
    };
    if first.len == 0 {
        return Vec::new();
    }
    let mut candidates = Vec::with_capacity(first.len);
    if let Some(src) = input(ctx, first.key) {
        src.for_each(|m, s| {
            candidates.push((CompactBytes::from_slice(m), weighted(first.weight, s)))
        });
    }
    for source in &sources[1..] {
        if candidates.is_empty() {
            break;
        }
        let Some(src) = input(ctx, source.key) else {
            return Vec::new();
        };
        candidates.retain_mut(|(m, score)| match src.score(m) {
            Some(s) => {
                aggregate.apply(score, weighted(source.weight, s));
                true
            }
            None => false,
        });
    }
    candidates
}

fn unite(ctx: &mut Ctx, sources: &[Source], aggregate: Aggregate) -> Vec<(CompactBytes, f64)> {
    let largest = sources.last().map_or(0, |s| s.len);
    let mut at: HashMap<CompactBytes, usize> = HashMap::with_capacity(largest);
    let mut result: Vec<(CompactBytes, f64)> = Vec::with_capacity(largest);
    for source in sources {
        if source.len == 0 {
            continue;
        }
        let Some(src) = input(ctx, source.key) else {
            continue;
        };
        src.for_each(|m, s| {
            let score = weighted(source.weight, s);
            match at.get(m) {
                Some(&i) => aggregate.apply(&mut result[i].1, score),
                None => {
                    let m = CompactBytes::from_slice(m);
                    at.insert(m.clone(), result.len());
                    result.push((m, score));
                }
            }
        });
    }
    result
}

/// The first source's members (with their own scores) that no other
/// source has.
fn subtract(ctx: &mut Ctx, sources: &[Source]) -> Vec<(CompactBytes, f64)> {
    let Some(first) = sources.first() else {
        return Vec::new();
    };
    let mut result = Vec::with_capacity(first.len);
    if let Some(src) = input(ctx, first.key) {
        src.for_each(|m, s| result.push((CompactBytes::from_slice(m), s)));
    }
    for source in &sources[1..] {
        if result.is_empty() {
            break;
        }
        if source.len == 0 {
            continue;
        }
        if let Some(src) = input(ctx, source.key) {
            result.retain(|(m, _)| src.score(m).is_none());
        }
    }
    result
}

// ---- ZSCAN ----------------------------------------------------------------------------------

fn zscan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let cursor = super::keys::parse_cursor(&args[2]).ok_or(CmdError::msg("ERR invalid cursor"))?;
    // Redis answers a missing key before looking at the options.
    let Some(z) = read_zset(ctx, &args[1])? else {
        ctx.array(2);
        ctx.bulk(b"0");
        ctx.array(0);
        return Ok(());
    };
    let super::keys::ScanOptions { count, pattern, .. } =
        super::keys::ScanOptions::parse(&args[3..], false)?;
    let packed = z.encoding() == "listpack";
    let mut found: Vec<(CompactBytes, f64)> = Vec::new();
    let next = z.scan(cursor, count, |m, s| {
        if pattern.is_none_or(|p| glob_match(p, m, false)) {
            found.push((CompactBytes::from_slice(m), s));
        }
    });
    ctx.array(2);
    ctx.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.array(found.len() * 2);
    let mut text = Vec::with_capacity(32);
    for (m, s) in &found {
        ctx.bulk(m);
        text.clear();
        scan_score(*s, packed, &mut text);
        ctx.bulk(&text);
    }
    Ok(())
}

/// A score as ZSCAN shows it: the string Redis keeps, whatever the
/// protocol. A listpack stores integral scores up to 2^62 as integers
/// (double2ll), so they print in full; the skip list's d2string is `%.17g`.
fn scan_score(score: f64, packed: bool, out: &mut Vec<u8>) {
    let bound = (i64::MAX / 2) as f64;
    if packed && score.fract() == 0.0 && (-bound..=bound).contains(&score) {
        out.extend_from_slice(itoa::Buffer::new().format(score as i64).as_bytes());
    } else {
        encode::fmt_double_g17(score, out);
    }
}
