//! The list family: pushes and pops at both ends (with counts), LLEN,
//! LRANGE, LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS, LMOVE, RPOPLPUSH,
//! LMPOP, and the blocking BLPOP, BRPOP, BLMOVE, BRPOPLPUSH and BLMPOP.
//!
//! The checks run in Redis 7.0's order, since that order decides which
//! error a client sees when a command is wrong in several ways at once:
//! LRANGE, LTRIM and LREM parse their numbers before the lookup, LINDEX
//! and LSET after it (so `LSET missing x y` is "no such key"); LINSERT,
//! LMOVE and LMPOP validate their keywords first; a blocking command checks
//! its timeout before it looks at any key, except BLMPOP, which parses
//! numkeys, the direction and COUNT first.
//!
//! Every list is created through `Db::insert` (never by editing a value in
//! place), because that is where clients blocked on the key are signalled.
//! A list a command empties is deleted, as Redis never keeps empty lists.
//!
//! Blocking commands follow the contract on [`super::BlockRequest`]: serve
//! like the non-blocking form when a key has data, otherwise write the
//! reply for a timeout and ask to be parked. On a retry after one key
//! received data, BLPOP, BRPOP and BLMPOP look only at that key, as Redis
//! 7.0 serves the key that became ready.
//!
//! The value type lives in `types/list.rs`; its node bound comes from
//! `list-max-listpack-size` through [`limits`], cached per thread and
//! re-read only when CONFIG SET moved the epoch. `list-compress-depth` is
//! not a Shoal setting: nodes are never compressed.

use std::cell::Cell;

use bytes::Bytes;
use shoal_protocol::encode;

use super::{
    arg_i64, cached_config, eq_ic, flag, BlockKind, CmdError, CmdResult, CommandSpec, ConfigCache,
    Ctx, KeySpecDoc, Keys,
};
use crate::config::KeyspaceEvents;
use crate::server::Server;
use crate::shard::db::Value;
use crate::types::list::{End, Limits, ListValue};
use crate::util::num::parse_i64;

const KEY1: Keys = Keys::Range {
    first: 1,
    last: 1,
    step: 1,
};
const SRC_DST: Keys = Keys::Range {
    first: 1,
    last: 2,
    step: 1,
};
const LIST: &[&str] = &["list"];
const POP_KEY: &[&str] = &["RW", "access", "delete"];
const MOVE_KEYS: &[KeySpecDoc] = &[
    KeySpecDoc::one(1, &["RW", "access", "delete"]),
    KeySpecDoc::one(2, &["RW", "insert"]),
];

const W: u32 = flag::WRITE | flag::DENYOOM | flag::FAST;
const BLOCKING: u32 = flag::WRITE | flag::NOSCRIPT | flag::BLOCKING;

macro_rules! list_cmd {
    ($name:literal, $arity:expr, $flags:expr, $keys:expr, $handler:ident, $summary:literal,
     $args:literal, $since:literal, $complexity:expr, $key_flags:expr) => {
        CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            keys: $keys,
            acl: LIST,
            group: "list",
            since: $since,
            complexity: $complexity,
            summary: $summary,
            args: $args,
            handler: Some($handler),
            key_flags: $key_flags,
            ..CommandSpec::DEFAULT
        }
    };
}

const PUSH_COMPLEXITY: &str = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.";

pub const COMMANDS: &[CommandSpec] = &[
    list_cmd!("lpush", -3, W, KEY1, lpush, "Prepend one or multiple elements to a list",
        "key element [element ...]", "1.0.0", PUSH_COMPLEXITY, &["RW", "insert"]),
    list_cmd!("rpush", -3, W, KEY1, rpush, "Append one or multiple elements to a list",
        "key element [element ...]", "1.0.0", PUSH_COMPLEXITY, &["RW", "insert"]),
    list_cmd!("lpushx", -3, W, KEY1, lpushx,
        "Prepend an element to a list, only if the list exists",
        "key element [element ...]", "2.2.0", PUSH_COMPLEXITY, &["RW", "insert"]),
    list_cmd!("rpushx", -3, W, KEY1, rpushx,
        "Append an element to a list, only if the list exists",
        "key element [element ...]", "2.2.0", PUSH_COMPLEXITY, &["RW", "insert"]),
    list_cmd!("lpop", -2, flag::WRITE | flag::FAST, KEY1, lpop,
        "Remove and get the first elements in a list", "key [count]", "1.0.0",
        "O(N) where N is the number of elements returned", POP_KEY),
    list_cmd!("rpop", -2, flag::WRITE | flag::FAST, KEY1, rpop,
        "Remove and get the last elements in a list", "key [count]", "1.0.0",
        "O(N) where N is the number of elements returned", POP_KEY),
    list_cmd!("llen", 2, flag::READONLY | flag::FAST, KEY1, llen, "Get the length of a list",
        "key", "1.0.0", "O(1)", &["RO"]),
    list_cmd!("lrange", 4, flag::READONLY, KEY1, lrange, "Get a range of elements from a list",
        "key start stop", "1.0.0",
        "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
        &["RO", "access"]),
    list_cmd!("lindex", 3, flag::READONLY, KEY1, lindex, "Get an element from a list by its index",
        "key index", "1.0.0",
        "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
        &["RO", "access"]),
    list_cmd!("lset", 4, flag::WRITE | flag::DENYOOM, KEY1, lset,
        "Set the value of an element in a list by its index", "key index element", "1.0.0",
        "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
        &["RW", "update"]),
    list_cmd!("linsert", 5, flag::WRITE | flag::DENYOOM, KEY1, linsert,
        "Insert an element before or after another element in a list",
        "key <BEFORE | AFTER> pivot element", "2.2.0",
        "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
        &["RW", "insert"]),
    list_cmd!("lrem", 4, flag::WRITE, KEY1, lrem, "Remove elements from a list",
        "key count element", "1.0.0",
        "O(N+M) where N is the length of the list and M is the number of elements removed.",
        &["RW", "delete"]),
    list_cmd!("ltrim", 4, flag::WRITE, KEY1, ltrim, "Trim a list to the specified range",
        "key start stop", "1.0.0",
        "O(N) where N is the number of elements to be removed by the operation.",
        &["RW", "delete"]),
    list_cmd!("lpos", -3, flag::READONLY, KEY1, lpos,
        "Return the index of matching elements on a list",
        "key element [RANK rank] [COUNT num-matches] [MAXLEN len]", "6.0.6",
        "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
        &["RO", "access"]),
    CommandSpec {
        key_specs: MOVE_KEYS,
        ..list_cmd!("lmove", 5, flag::WRITE | flag::DENYOOM, SRC_DST, lmove,
            "Pop an element from a list, push it to another list and return it",
            "source destination <LEFT | RIGHT> <LEFT | RIGHT>", "6.2.0", "O(1)", &[])
    },
    CommandSpec {
        key_specs: MOVE_KEYS,
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`LMOVE` with the `RIGHT` and `LEFT` arguments",
        ..list_cmd!("rpoplpush", 3, flag::WRITE | flag::DENYOOM, SRC_DST, rpoplpush,
            "Remove the last element in a list, prepend it to another list and return it",
            "source destination", "1.2.0", "O(1)", &[])
    },
    list_cmd!("lmpop", -4, flag::WRITE, Keys::NumKeys { index: 1 }, lmpop,
        "Pop elements from a list", "numkeys key [key ...] <LEFT | RIGHT> [COUNT count]",
        "7.0.0",
        "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
        POP_KEY),
    list_cmd!("blpop", -3, BLOCKING, Keys::Range { first: 1, last: -2, step: 1 }, blpop,
        "Remove and get the first element in a list, or block until one is available",
        "key [key ...] timeout", "2.0.0", "O(N) where N is the number of provided keys.",
        POP_KEY),
    list_cmd!("brpop", -3, BLOCKING, Keys::Range { first: 1, last: -2, step: 1 }, brpop,
        "Remove and get the last element in a list, or block until one is available",
        "key [key ...] timeout", "2.0.0", "O(N) where N is the number of provided keys.",
        POP_KEY),
    CommandSpec {
        key_specs: MOVE_KEYS,
        ..list_cmd!("blmove", 6, BLOCKING | flag::DENYOOM, SRC_DST, blmove,
            "Pop an element from a list, push it to another list and return it; or block until one is available",
            "source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout", "6.2.0", "O(1)", &[])
    },
    CommandSpec {
        key_specs: MOVE_KEYS,
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`BLMOVE` with the `RIGHT` and `LEFT` arguments",
        ..list_cmd!("brpoplpush", 4, BLOCKING | flag::DENYOOM, SRC_DST, brpoplpush,
            "Pop an element from a list, push it to another list and return it; or block until one is available",
            "source destination timeout", "2.2.0", "O(1)", &[])
    },
    list_cmd!("blmpop", -5, flag::WRITE | flag::BLOCKING, Keys::NumKeys { index: 2 }, blmpop,
        "Pop elements from a list, or block until one is available",
        "timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]", "7.0.0",
        "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
        POP_KEY),
];

const LIST_EVENTS: u32 = KeyspaceEvents::LIST;

/// The node bound of the configuration.
fn limits(server: &Server) -> Limits {
    thread_local! {
        static CACHE: ConfigCache<Limits> = const { Cell::new(None) };
    }
    cached_config(&CACHE, server, |cfg| {
        Limits::from_fill(cfg.list_max_listpack_size)
    })
}

/// The list at `key` for a reading command (counting a hit or miss), with
/// the reply buffer, or WRONGTYPE.
fn read_list<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<(Option<&'c ListValue>, &'c mut Vec<u8>), CmdError> {
    let (entry, out) = ctx.read_with_out(key);
    match entry {
        None => Ok((None, out)),
        Some(e) => match &e.value {
            Value::List(l) => Ok((Some(l), out)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// The list at `key` for a writing command, with the reply buffer, or
/// WRONGTYPE. Popping straight into the reply avoids copying elements.
fn write_list<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<(Option<&'c mut ListValue>, &'c mut Vec<u8>), CmdError> {
    let (now, touch, db) = (ctx.now_ms, ctx.touch(), ctx.db);
    let shard = ctx.server.shard_of_key(key);
    let entry = ctx.store.part(shard).dbs[db].get_touched(key, now, &touch);
    let out = &mut *ctx.out;
    match entry {
        None => Ok((None, out)),
        Some(e) => match &mut e.value {
            Value::List(l) => Ok((Some(l), out)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// Stores a new list; `Db::insert` wakes clients blocked on `key`.
fn store_new(ctx: &mut Ctx, key: &[u8], list: ListValue) {
    let entry = ctx.entry(Value::List(list));
    ctx.db(key).insert(key, entry);
}

/// LEFT or RIGHT.
fn parse_end(arg: &[u8]) -> Result<End, CmdError> {
    if eq_ic(arg, "left") {
        Ok(End::Head)
    } else if eq_ic(arg, "right") {
        Ok(End::Tail)
    } else {
        Err(CmdError::Syntax)
    }
}

// ---- push and pop --------------------------------------------------------------------

fn push_generic(ctx: &mut Ctx, args: &[Bytes], end: End, only_existing: bool) -> CmdResult {
    let limits = limits(ctx.server);
    let key = &args[1];
    let elems = args[2..].iter().map(|e| &e[..]);
    let len = match write_list(ctx, key)?.0 {
        Some(l) => {
            l.push_all(elems, end, limits);
            l.len()
        }
        None if only_existing => 0,
        None => {
            let mut l = ListValue::new();
            l.push_all(elems, end, limits);
            let len = l.len();
            store_new(ctx, key, l);
            len
        }
    };
    if len > 0 {
        ctx.notify(LIST_EVENTS, push_event(end), key);
    }
    ctx.int(len as i64);
    Ok(())
}

/// LPUSH key element [element ...]
fn lpush(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, End::Head, false)
}

/// RPUSH key element [element ...]
fn rpush(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, End::Tail, false)
}

/// LPUSHX key element [element ...]: only onto an existing list.
fn lpushx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, End::Head, true)
}

/// RPUSHX key element [element ...]
fn rpushx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push_generic(ctx, args, End::Tail, true)
}

/// Pops into the reply: one bulk string, or with `count` an array of up
/// to that many. Returns whether that emptied the list (the caller then
/// deletes the key).
fn pop_to(
    l: &mut ListValue,
    out: &mut Vec<u8>,
    end: End,
    count: Option<usize>,
    limits: Limits,
) -> bool {
    match count {
        None => {
            l.pop(end, limits, |e| encode::bulk(out, e));
        }
        Some(n) => {
            let n = n.min(l.len());
            encode::array_len(out, n);
            for _ in 0..n {
                l.pop(end, limits, |e| encode::bulk(out, e));
            }
        }
    }
    l.is_empty()
}

fn pop_generic(ctx: &mut Ctx, args: &[Bytes], end: End) -> CmdResult {
    let count = match args.len() {
        2 => None,
        3 => parse_i64(&args[2])
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or(CmdError::msg("ERR value is out of range, must be positive"))?,
        _ => return Err(CmdError::WrongArity(ctx.spec.name)),
    };
    let (limits, resp3) = (limits(ctx.server), ctx.resp3);
    let key = &args[1];
    let (l, out) = write_list(ctx, key)?;
    let Some(l) = l else {
        match count {
            Some(_) => encode::null_array(out, resp3),
            None => encode::null(out, resp3),
        }
        return Ok(());
    };
    let emptied = pop_to(l, out, end, count, limits);
    if count != Some(0) {
        popped(ctx, key, end, emptied);
    }
    Ok(())
}

fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

/// After a pop from `key`: its event, and its deletion if it is empty now.
fn popped(ctx: &mut Ctx, key: &[u8], end: End, emptied: bool) {
    let event = match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    };
    ctx.notify(LIST_EVENTS, event, key);
    if emptied {
        ctx.db(key).remove(key);
        ctx.notify(KeyspaceEvents::GENERIC, "del", key);
    }
}

/// LPOP key [count]
fn lpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    pop_generic(ctx, args, End::Head)
}

/// RPOP key [count]
fn rpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    pop_generic(ctx, args, End::Tail)
}

// ---- reading ---------------------------------------------------------------------------

fn llen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (l, out) = read_list(ctx, &args[1])?;
    encode::integer(out, l.map_or(0, |l| l.len() as i64));
    Ok(())
}

/// Redis's reading of a (start, stop) pair with negative indexes counting
/// from the end: the first index and the number of elements, or `None`
/// for an empty range.
fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let start = if start < 0 { start + len } else { start }.max(0);
    let stop = if stop < 0 { stop + len } else { stop };
    if start > stop || start >= len {
        return None;
    }
    let stop = stop.min(len - 1);
    Some((start as usize, (stop - start + 1) as usize))
}

/// LRANGE key start stop
fn lrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let start = arg_i64(&args[2])?;
    let stop = arg_i64(&args[3])?;
    let (l, out) = read_list(ctx, &args[1])?;
    let Some((l, (first, n))) = l.and_then(|l| Some((l, clamp_range(start, stop, l.len())?)))
    else {
        encode::array_len(out, 0);
        return Ok(());
    };
    encode::array_len(out, n);
    for e in l.iter_from(first).take(n) {
        encode::bulk(out, e);
    }
    Ok(())
}

/// The 0-based position of a possibly negative index, if in range.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let i = if index < 0 {
        index.checked_add(len)?
    } else {
        index
    };
    (0..len).contains(&i).then_some(i as usize)
}

/// LINDEX key index: the lookup comes first, as in Redis, so a missing key
/// answers nil even for a malformed index.
fn lindex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let resp3 = ctx.resp3;
    let (l, out) = read_list(ctx, &args[1])?;
    let Some(l) = l else {
        encode::null(out, resp3);
        return Ok(());
    };
    let index = arg_i64(&args[2])?;
    match resolve_index(index, l.len()).and_then(|i| l.get(i)) {
        Some(e) => encode::bulk(out, e),
        None => encode::null(out, resp3),
    }
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
///
/// A malformed COUNT or MAXLEN gets the "can't be negative" error, as in
/// Redis (which parses both as positive numbers with that one message).
///
/// Redis 7.0 negates a negative rank in place, so RANK -9223372036854775808
/// stays negative: the scan then runs from the tail, every match counts,
/// and COUNT never stops it. That is reproduced, since it is what clients
/// of 7.0 see.
fn lpos(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut rank: i64 = 1;
    let mut count: Option<u64> = None;
    let mut maxlen: u64 = 0;
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        if eq_ic(&args[j], "rank") && more {
            j += 1;
            rank = arg_i64(&args[j])?;
            if rank == 0 {
                return Err(CmdError::msg(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if eq_ic(&args[j], "count") && more {
            j += 1;
            let c = parse_i64(&args[j]).and_then(|c| u64::try_from(c).ok());
            count = Some(c.ok_or(CmdError::msg("ERR COUNT can't be negative"))?);
        } else if eq_ic(&args[j], "maxlen") && more {
            j += 1;
            let m = parse_i64(&args[j]).and_then(|m| u64::try_from(m).ok());
            maxlen = m.ok_or(CmdError::msg("ERR MAXLEN can't be negative"))?;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let resp3 = ctx.resp3;
    let elem = &args[2][..];
    let (l, out) = read_list(ctx, &args[1])?;
    let Some(l) = l else {
        match count {
            Some(_) => encode::array_len(out, 0),
            None => encode::null(out, resp3),
        }
        return Ok(());
    };
    let len = l.len();
    let from_tail = rank < 0;
    let every_match = rank == i64::MIN;
    let wanted = rank.unsigned_abs();
    let mut matches = 0u64;
    let mut found: Vec<usize> = Vec::new();
    let mut scan = |index: usize, e: &[u8]| -> bool {
        if maxlen != 0 && index as u64 >= maxlen {
            return false;
        }
        if e == elem {
            matches += 1;
            if every_match || matches >= wanted {
                found.push(if from_tail { len - 1 - index } else { index });
                match count {
                    None => return false,
                    Some(c) if !every_match && c != 0 && found.len() as u64 >= c => return false,
                    Some(_) => {}
                }
            }
        }
        true
    };
    if from_tail {
        for (i, e) in l.iter_rev_from(len.saturating_sub(1)).enumerate() {
            if !scan(i, e) {
                break;
            }
        }
    } else {
        for (i, e) in l.iter().enumerate() {
            if !scan(i, e) {
                break;
            }
        }
    }
    match count {
        Some(_) => {
            encode::array_len(out, found.len());
            for i in found {
                encode::integer(out, i as i64);
            }
        }
        None => match found.first() {
            Some(&i) => encode::integer(out, i as i64),
            None => encode::null(out, resp3),
        },
    }
    Ok(())
}

// ---- editing ----------------------------------------------------------------------------

/// LSET key index element: "no such key" and WRONGTYPE come before the
/// index is parsed.
fn lset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let limits = limits(ctx.server);
    let (l, _) = write_list(ctx, &args[1])?;
    let l = l.ok_or(CmdError::NoSuchKey)?;
    let index = arg_i64(&args[2])?;
    let i = resolve_index(index, l.len()).ok_or(CmdError::OutOfRange)?;
    l.set(i, &args[3], limits);
    ctx.notify(LIST_EVENTS, "lset", &args[1]);
    ctx.ok();
    Ok(())
}

/// LINSERT key <BEFORE | AFTER> pivot element
fn linsert(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let after = if eq_ic(&args[2], "after") {
        true
    } else if eq_ic(&args[2], "before") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let limits = limits(ctx.server);
    let reply = match write_list(ctx, &args[1])?.0 {
        None => 0,
        Some(l) => {
            if l.insert(&args[3], &args[4], after, limits) {
                l.len() as i64
            } else {
                -1
            }
        }
    };
    if reply > 0 {
        ctx.notify(LIST_EVENTS, "linsert", &args[1]);
    }
    ctx.int(reply);
    Ok(())
}

/// LREM key count element: count > 0 from the head, < 0 from the tail,
/// 0 all of them.
fn lrem(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let count = arg_i64(&args[2])?;
    let limits = limits(ctx.server);
    let key = &args[1];
    let (from, max) = match count {
        0 => (End::Head, usize::MAX),
        c if c > 0 => (End::Head, usize::try_from(c).unwrap_or(usize::MAX)),
        c => (
            End::Tail,
            usize::try_from(c.unsigned_abs()).unwrap_or(usize::MAX),
        ),
    };
    let (removed, emptied) = match write_list(ctx, key)?.0 {
        None => (0, false),
        Some(l) => {
            let removed = l.remove(&args[3], from, max, limits);
            (removed, l.is_empty())
        }
    };
    if removed > 0 {
        ctx.notify(LIST_EVENTS, "lrem", key);
    }
    if emptied {
        ctx.db(key).remove(key);
        ctx.notify(KeyspaceEvents::GENERIC, "del", key);
    }
    ctx.int(removed as i64);
    Ok(())
}

/// LTRIM key start stop
fn ltrim(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let start = arg_i64(&args[2])?;
    let stop = arg_i64(&args[3])?;
    let limits = limits(ctx.server);
    let key = &args[1];
    let emptied = match write_list(ctx, key)?.0 {
        None => None,
        Some(l) => {
            let len = l.len();
            Some(match clamp_range(start, stop, len) {
                None => true,
                Some((first, n)) => {
                    l.trim(first, len - first - n, limits);
                    l.is_empty()
                }
            })
        }
    };
    if let Some(emptied) = emptied {
        ctx.notify(LIST_EVENTS, "ltrim", key);
        if emptied {
            ctx.db(key).remove(key);
            ctx.notify(KeyspaceEvents::GENERIC, "del", key);
        }
    }
    ctx.ok();
    Ok(())
}

// ---- moving between lists ---------------------------------------------------------------

/// Pops from `src` at `from` and pushes onto `dst` at `to`, replying with
/// the element (nil when `src` is missing). The destination's type is
/// checked before anything moves; `src == dst` rotates the list in place.
fn move_generic(ctx: &mut Ctx, src: &[u8], dst: &[u8], from: End, to: End) -> CmdResult {
    let limits = limits(ctx.server);
    if write_list(ctx, src)?.0.is_none() {
        ctx.null();
        return Ok(());
    }
    let dst_exists = write_list(ctx, dst)?.0.is_some();
    let (Some(l), _) = write_list(ctx, src)? else {
        ctx.null();
        return Ok(());
    };
    let Some(value) = l.pop(from, limits, <[u8]>::to_vec) else {
        ctx.null();
        return Ok(());
    };
    if src == dst {
        l.push(&value, to, limits);
        ctx.notify(LIST_EVENTS, push_event(to), dst);
        popped(ctx, src, from, false);
    } else {
        let emptied = l.is_empty();
        if emptied {
            ctx.db(src).remove(src);
        }
        match write_list(ctx, dst)?.0 {
            Some(d) if dst_exists => d.push(&value, to, limits),
            _ => {
                let mut d = ListValue::new();
                d.push(&value, to, limits);
                store_new(ctx, dst, d);
            }
        }
        // In Redis's order: the push, then the pop and the deletion.
        ctx.notify(LIST_EVENTS, push_event(to), dst);
        popped(ctx, src, from, false);
        if emptied {
            ctx.notify(KeyspaceEvents::GENERIC, "del", src);
        }
    }
    ctx.bulk(&value);
    Ok(())
}

/// LMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT>
fn lmove(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let from = parse_end(&args[3])?;
    let to = parse_end(&args[4])?;
    move_generic(ctx, &args[1], &args[2], from, to)
}

/// RPOPLPUSH source destination
fn rpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    move_generic(ctx, &args[1], &args[2], End::Tail, End::Head)
}

/// What LMPOP and BLMPOP parsed: the keys' range, the end, the count.
struct MpopArgs {
    first_key: usize,
    numkeys: usize,
    end: End,
    count: usize,
}

/// Parses `numkeys key [key ...] <LEFT | RIGHT> [COUNT count]` with the
/// key count at `numkeys_at`, in Redis's order of checks.
fn parse_mpop(args: &[Bytes], numkeys_at: usize) -> Result<MpopArgs, CmdError> {
    let numkeys = parse_i64(&args[numkeys_at])
        .filter(|n| *n > 0)
        .ok_or(CmdError::msg("ERR numkeys should be greater than 0"))?;
    let first_key = numkeys_at + 1;
    let end_at = usize::try_from(numkeys)
        .ok()
        .and_then(|n| first_key.checked_add(n))
        .filter(|&i| i < args.len())
        .ok_or(CmdError::Syntax)?;
    let end = parse_end(&args[end_at])?;
    let mut count = None;
    let mut j = end_at + 1;
    while j < args.len() {
        if count.is_none() && eq_ic(&args[j], "count") && j + 1 < args.len() {
            j += 1;
            let c = parse_i64(&args[j])
                .filter(|n| *n > 0)
                .ok_or(CmdError::msg("ERR count should be greater than 0"))?;
            count = Some(usize::try_from(c).unwrap_or(usize::MAX));
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(MpopArgs {
        first_key,
        numkeys: end_at - first_key,
        end,
        count: count.unwrap_or(1),
    })
}

/// Pops up to `count` elements from the first non-empty list of `keys`,
/// replying `[key, [elements...]]`; false (nothing written) if every key
/// is missing. A key of another type before that is WRONGTYPE; with
/// `only` (a blocked client's retry) only that key is looked at, and a
/// wrong type there just means nothing to serve.
fn mpop_serve(
    ctx: &mut Ctx,
    keys: &[Bytes],
    end: End,
    count: usize,
    only: Option<&[u8]>,
) -> Result<bool, CmdError> {
    let limits = limits(ctx.server);
    for key in keys {
        if only.is_some_and(|k| k != &key[..]) {
            continue;
        }
        let emptied = match write_list(ctx, key) {
            Ok((Some(l), out)) if !l.is_empty() => {
                encode::array_len(out, 2);
                encode::bulk(out, key);
                pop_to(l, out, end, Some(count), limits)
            }
            Ok(_) => continue,
            Err(_) if only.is_some() => continue,
            Err(e) => return Err(e),
        };
        popped(ctx, key, end, emptied);
        return Ok(true);
    }
    Ok(false)
}

/// The ready key of a blocked client's retry, if it is one of `keys`.
fn ready_among(ctx: &Ctx, keys: &[Bytes]) -> Option<Bytes> {
    let ready = ctx.ready_key?;
    keys.iter().find(|k| &k[..] == ready).cloned()
}

/// LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count]
fn lmpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let m = parse_mpop(args, 1)?;
    let keys = &args[m.first_key..m.first_key + m.numkeys];
    if !mpop_serve(ctx, keys, m.end, m.count, None)? {
        ctx.null_array();
    }
    Ok(())
}

// ---- blocking forms ----------------------------------------------------------------------

fn block_or_wait(ctx: &mut Ctx, keys: Vec<Bytes>, deadline: u64) {
    if ctx.may_block {
        ctx.block_on(keys, deadline, BlockKind::List);
    }
}

fn bpop_generic(ctx: &mut Ctx, args: &[Bytes], end: End) -> CmdResult {
    let deadline = ctx.block_deadline(&args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    let ready = ready_among(ctx, keys);
    let limits = limits(ctx.server);
    for key in keys {
        if ready.as_ref().is_some_and(|r| r != key) {
            continue;
        }
        let emptied = match write_list(ctx, key) {
            Ok((Some(l), out)) if !l.is_empty() => {
                encode::array_len(out, 2);
                encode::bulk(out, key);
                pop_to(l, out, end, None, limits)
            }
            Ok(_) => continue,
            Err(_) if ready.is_some() => continue,
            Err(e) => return Err(e),
        };
        popped(ctx, key, end, emptied);
        return Ok(());
    }
    ctx.null_array();
    block_or_wait(ctx, keys.to_vec(), deadline);
    Ok(())
}

/// BLPOP key [key ...] timeout
fn blpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    bpop_generic(ctx, args, End::Head)
}

/// BRPOP key [key ...] timeout
fn brpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    bpop_generic(ctx, args, End::Tail)
}

/// The blocking move: a missing source waits (only the source is watched;
/// the destination's type is checked when there is something to move).
fn bmove_generic(ctx: &mut Ctx, args: &[Bytes], from: End, to: End, timeout: &[u8]) -> CmdResult {
    let deadline = ctx.block_deadline(timeout)?;
    let src = &args[1];
    if write_list(ctx, src)?.0.is_some() {
        return move_generic(ctx, src, &args[2], from, to);
    }
    // Redis answers a timed-out move with a null array (its one timeout
    // reply for every blocked list command), but a move that may not
    // block (inside MULTI) with a null bulk.
    if ctx.may_block {
        ctx.null_array();
        ctx.block_on(vec![src.clone()], deadline, BlockKind::List);
    } else {
        ctx.null();
    }
    Ok(())
}

/// BLMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout
fn blmove(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let from = parse_end(&args[3])?;
    let to = parse_end(&args[4])?;
    bmove_generic(ctx, args, from, to, &args[5])
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    bmove_generic(ctx, args, End::Tail, End::Head, &args[3])
}

/// BLMPOP timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]
fn blmpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let m = parse_mpop(args, 2)?;
    let deadline = ctx.block_deadline(&args[1])?;
    let keys = &args[m.first_key..m.first_key + m.numkeys];
    let ready = ready_among(ctx, keys);
    if !mpop_serve(ctx, keys, m.end, m.count, ready.as_deref())? {
        ctx.null_array();
        block_or_wait(ctx, keys.to_vec(), deadline);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_redis() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 5)));
        assert_eq!(clamp_range(-2, -1, 5), Some((3, 2)));
        assert_eq!(clamp_range(-100, 100, 5), Some((0, 5)));
        assert_eq!(clamp_range(3, 1, 5), None);
        assert_eq!(clamp_range(5, 10, 5), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 5), Some((0, 5)));
        assert_eq!(clamp_range(0, i64::MIN, 5), None);
    }

    #[test]
    fn indexes_follow_redis() {
        assert_eq!(resolve_index(0, 3), Some(0));
        assert_eq!(resolve_index(-1, 3), Some(2));
        assert_eq!(resolve_index(-4, 3), None);
        assert_eq!(resolve_index(3, 3), None);
        assert_eq!(resolve_index(i64::MIN, 3), None);
    }
}
