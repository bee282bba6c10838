//! The set family: SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS
//! SRANDMEMBER SPOP SMOVE SINTER SUNION SDIFF (and their STORE forms)
//! SINTERCARD SSCAN.
//!
//! Multi-key commands may see keys on several shards, all held by the
//! dispatcher, but only one `&mut Db` can be borrowed at a time; so they
//! work set by set over an owned intermediate result (the smallest set's
//! members for SINTER, the accumulated union for SUNION), never holding two
//! sets at once.

use std::collections::HashSet;

use bytes::Bytes;
use shoal_protocol::encode;

use std::cell::Cell;

use super::{
    arg_i64, cached_config, eq_ic, flag, CmdError, CmdResult, CommandSpec, ConfigCache, Ctx,
    KeySpecDoc, Keys,
};
use crate::config::KeyspaceEvents;
use crate::shard::db::Value;
use crate::types::compact::CompactBytes;
use crate::types::set::SetValue;
use crate::util::glob::glob_match;
use crate::util::rand::random_u64;

const KEY1: Keys = Keys::Range {
    first: 1,
    last: 1,
    step: 1,
};
const ALL_KEYS: Keys = Keys::Range {
    first: 1,
    last: -1,
    step: 1,
};
const SET: &[&str] = &["set"];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sadd",
        arity: -3,
        flags: flag::WRITE | flag::DENYOOM | flag::FAST,
        keys: KEY1,
        acl: SET,
        group: "set",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        summary: "Add one or more members to a set",
        args: "key member [member ...]",
        handler: Some(sadd),
        key_flags: &["RW", "insert"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "srem",
        arity: -3,
        flags: flag::WRITE | flag::FAST,
        keys: KEY1,
        acl: SET,
        group: "set",
        complexity: "O(N) where N is the number of members to be removed.",
        summary: "Remove one or more members from a set",
        args: "key member [member ...]",
        handler: Some(srem),
        key_flags: &["RW", "delete"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "scard",
        arity: 2,
        flags: flag::READONLY | flag::FAST,
        keys: KEY1,
        acl: SET,
        group: "set",
        summary: "Get the number of members in a set",
        args: "key",
        handler: Some(scard),
        key_flags: &["RO"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sismember",
        arity: 3,
        flags: flag::READONLY | flag::FAST,
        keys: KEY1,
        acl: SET,
        group: "set",
        summary: "Determine if a given value is a member of a set",
        args: "key member",
        handler: Some(sismember),
        key_flags: &["RO"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "smismember",
        arity: -3,
        flags: flag::READONLY | flag::FAST,
        keys: KEY1,
        acl: SET,
        group: "set",
        since: "6.2.0",
        complexity: "O(N) where N is the number of elements being checked for membership",
        summary: "Returns the membership associated with the given elements for a set",
        args: "key member [member ...]",
        handler: Some(smismember),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "smembers",
        arity: 2,
        flags: flag::READONLY,
        keys: KEY1,
        acl: SET,
        group: "set",
        complexity: "O(N) where N is the set cardinality.",
        summary: "Get all the members in a set",
        args: "key",
        handler: Some(smembers),
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "srandmember",
        arity: -2,
        flags: flag::READONLY,
        keys: KEY1,
        acl: SET,
        group: "set",
        complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
        summary: "Get one or multiple random members from a set",
        args: "key [count]",
        handler: Some(srandmember),
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "spop",
        arity: -2,
        flags: flag::WRITE | flag::FAST,
        keys: KEY1,
        acl: SET,
        group: "set",
        complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
        summary: "Remove and return one or multiple random members from a set",
        args: "key [count]",
        handler: Some(spop),
        tips: &["nondeterministic_output"],
        key_flags: &["RW", "access", "delete"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "smove",
        arity: 4,
        flags: flag::WRITE | flag::FAST,
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
        acl: SET,
        group: "set",
        summary: "Move a member from one set to another",
        args: "source destination member",
        handler: Some(smove),
        key_specs: &[KeySpecDoc::one(1, &["RW", "access", "delete"]), KeySpecDoc::one(2, &["RW", "insert"])],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sinter",
        arity: -2,
        flags: flag::READONLY,
        keys: ALL_KEYS,
        acl: SET,
        group: "set",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        summary: "Intersect multiple sets",
        args: "key [key ...]",
        handler: Some(sinter),
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sintercard",
        arity: -3,
        flags: flag::READONLY,
        keys: Keys::NumKeys { index: 1 },
        acl: SET,
        group: "set",
        since: "7.0.0",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        summary: "Intersect multiple sets and return the cardinality of the result",
        args: "numkeys key [key ...] [LIMIT limit]",
        handler: Some(sintercard),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sinterstore",
        arity: -3,
        flags: flag::WRITE | flag::DENYOOM,
        keys: ALL_KEYS,
        acl: SET,
        group: "set",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        summary: "Intersect multiple sets and store the resulting set in a key",
        args: "destination key [key ...]",
        handler: Some(sinterstore),
        key_specs: &[KeySpecDoc::one(1, &["RW", "update"]), KeySpecDoc::rest(2, 1, &["RO", "access"])],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sunion",
        arity: -2,
        flags: flag::READONLY,
        keys: ALL_KEYS,
        acl: SET,
        group: "set",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        summary: "Add multiple sets",
        args: "key [key ...]",
        handler: Some(sunion),
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sunionstore",
        arity: -3,
        flags: flag::WRITE | flag::DENYOOM,
        keys: ALL_KEYS,
        acl: SET,
        group: "set",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        summary: "Add multiple sets and store the resulting set in a key",
        args: "destination key [key ...]",
        handler: Some(sunionstore),
        key_specs: &[KeySpecDoc::one(1, &["OW", "update"]), KeySpecDoc::rest(2, 1, &["RO", "access"])],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sdiff",
        arity: -2,
        flags: flag::READONLY,
        keys: ALL_KEYS,
        acl: SET,
        group: "set",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        summary: "Subtract multiple sets",
        args: "key [key ...]",
        handler: Some(sdiff),
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sdiffstore",
        arity: -3,
        flags: flag::WRITE | flag::DENYOOM,
        keys: ALL_KEYS,
        acl: SET,
        group: "set",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        summary: "Subtract multiple sets and store the resulting set in a key",
        args: "destination key [key ...]",
        handler: Some(sdiffstore),
        key_specs: &[KeySpecDoc::one(1, &["OW", "update"]), KeySpecDoc::rest(2, 1, &["RO", "access"])],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sscan",
        arity: -3,
        flags: flag::READONLY,
        keys: KEY1,
        acl: SET,
        group: "set",
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        summary: "Incrementally iterate Set elements",
        args: "key cursor [MATCH pattern] [COUNT count]",
        handler: Some(sscan),
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
];

// ---- helpers -----------------------------------------------------------------

const SET_EVENTS: u32 = KeyspaceEvents::SET;

fn max_intset(ctx: &Ctx) -> usize {
    thread_local! {
        static CACHE: ConfigCache<usize> = const { Cell::new(None) };
    }
    cached_config(&CACHE, ctx.server, |cfg| cfg.set_max_intset_entries)
}

/// The set stored at `key` for a write command; `None` if absent.
fn write_set<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c mut SetValue>, CmdError> {
    match ctx.write(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// The set stored at `key` for a read command (counts hits and misses).
fn read_set<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c SetValue>, CmdError> {
    match ctx.read(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// Looks a key up as a read or a write command would.
fn lookup<'c>(ctx: &'c mut Ctx, key: &[u8], write: bool) -> Result<Option<&'c SetValue>, CmdError> {
    if write {
        Ok(write_set(ctx, key)?.map(|s| &*s))
    } else {
        read_set(ctx, key)
    }
}

fn store(ctx: &mut Ctx, key: &[u8], set: SetValue) {
    if set.is_empty() {
        ctx.db(key).remove(key);
    } else {
        let entry = ctx.entry(Value::Set(set));
        ctx.db(key).insert(key, entry);
    }
}

/// Deletes `key` if its set is now empty (raising the `del` event).
fn delete_if_empty(ctx: &mut Ctx, key: &[u8]) {
    let empty = matches!(write_set(ctx, key), Ok(Some(s)) if s.is_empty());
    if empty {
        ctx.db(key).remove(key);
        ctx.notify(KeyspaceEvents::GENERIC, "del", key);
    }
}

/// Stores a S*STORE result: an empty one deletes the destination.
fn store_result(ctx: &mut Ctx, key: &[u8], set: SetValue, event: &'static str) {
    if set.is_empty() {
        if ctx.db(key).remove(key).is_some() {
            ctx.notify(KeyspaceEvents::GENERIC, "del", key);
        }
    } else {
        store(ctx, key, set);
        ctx.notify(SET_EVENTS, event, key);
    }
}

fn reply_members(ctx: &mut Ctx, members: &[CompactBytes]) {
    ctx.set_len(members.len());
    for m in members {
        ctx.bulk(m);
    }
}

fn reply_set(ctx: &mut Ctx, set: &SetValue) {
    ctx.set_len(set.len());
    let out = &mut *ctx.out;
    set.for_each(|m| encode::bulk(out, m));
}

// ---- single-key commands -------------------------------------------------------

fn sadd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let max = max_intset(ctx);
    let added = match write_set(ctx, key)? {
        Some(set) => args[2..].iter().filter(|m| set.insert(m, max)).count(),
        None => {
            let mut set = SetValue::new();
            let n = args[2..].iter().filter(|m| set.insert(m, max)).count();
            store(ctx, key, set);
            n
        }
    };
    if added > 0 {
        ctx.notify(SET_EVENTS, "sadd", key);
    }
    ctx.int(added as i64);
    Ok(())
}

fn srem(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let removed = match write_set(ctx, key)? {
        Some(set) => args[2..].iter().filter(|m| set.remove(m)).count(),
        None => 0,
    };
    if removed > 0 {
        ctx.notify(SET_EVENTS, "srem", key);
        delete_if_empty(ctx, key);
    }
    ctx.int(removed as i64);
    Ok(())
}

fn scard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let n = read_set(ctx, &args[1])?.map_or(0, SetValue::len);
    ctx.int(n as i64);
    Ok(())
}

fn sismember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let found = read_set(ctx, &args[1])?.is_some_and(|s| s.contains(&args[2]));
    ctx.int(i64::from(found));
    Ok(())
}

fn smismember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let found: Vec<bool> = match read_set(ctx, &args[1])? {
        Some(s) => args[2..].iter().map(|m| s.contains(m)).collect(),
        None => vec![false; args.len() - 2],
    };
    ctx.array(found.len());
    for f in found {
        ctx.int(i64::from(f));
    }
    Ok(())
}

fn smembers(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let resp3 = ctx.resp3;
    let (entry, out) = ctx.read_with_out(&args[1]);
    match entry.map(|e| &e.value) {
        None => encode::set_len(out, 0, resp3),
        Some(Value::Set(s)) => {
            encode::set_len(out, s.len(), resp3);
            s.for_each(|m| encode::bulk(out, m));
        }
        Some(_) => return Err(CmdError::WrongType),
    }
    Ok(())
}

/// Beyond this many repeated picks SRANDMEMBER refuses: Redis would try to
/// build the reply and run out of memory.
const MAX_REPEATED_PICKS: u64 = 1 << 32;

fn srandmember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let key = &args[1];
    if args.len() == 2 {
        let member =
            read_set(ctx, key)?.and_then(|s| s.random(&mut random_u64).map(|m| m.to_compact()));
        match member {
            Some(m) => ctx.bulk(&m),
            None => ctx.null(),
        }
        return Ok(());
    }
    let count = arg_i64(&args[2])?;
    if count == i64::MIN {
        return Err(CmdError::msg(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    if count < 0 && count.unsigned_abs() > MAX_REPEATED_PICKS {
        return Err(CmdError::msg("ERR value is out of range"));
    }
    let picks = {
        let Some(set) = read_set(ctx, key)? else {
            ctx.array(0);
            return Ok(());
        };
        if count == 0 {
            Vec::new()
        } else if count < 0 {
            let n = count.unsigned_abs() as usize;
            let mut picks = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                match set.random(&mut random_u64) {
                    Some(m) => picks.push(m.to_compact()),
                    None => break,
                }
            }
            picks
        } else {
            distinct_sample(set, count as u64)
        }
    };
    ctx.array(picks.len());
    for m in &picks {
        ctx.bulk(m);
    }
    Ok(())
}

/// `count` distinct members chosen uniformly (all of them if there are
/// fewer), in random order.
fn distinct_sample(set: &SetValue, count: u64) -> Vec<CompactBytes> {
    let len = set.len() as u64;
    if count >= len {
        let mut all = Vec::with_capacity(set.len());
        set.for_each(|m| all.push(CompactBytes::from_slice(m)));
        return all;
    }
    if count * 3 > len {
        // A large share: shuffle a copy partially rather than redraw
        // many collisions.
        let mut all = Vec::with_capacity(set.len());
        set.for_each(|m| all.push(CompactBytes::from_slice(m)));
        let n = count as usize;
        for i in 0..n {
            let j = i + (random_u64() % (all.len() - i) as u64) as usize;
            all.swap(i, j);
        }
        all.truncate(n);
        return all;
    }
    let mut seen: HashSet<CompactBytes> = HashSet::with_capacity(count as usize);
    let mut picks = Vec::with_capacity(count as usize);
    while (picks.len() as u64) < count {
        let Some(m) = set.random(&mut random_u64) else {
            break;
        };
        let m = m.to_compact();
        if seen.insert(m.clone()) {
            picks.push(m);
        }
    }
    picks
}

fn spop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    match args.len() {
        2 => {
            let popped = write_set(ctx, key)?.and_then(|s| s.pop(&mut random_u64));
            match popped {
                Some(m) => {
                    ctx.notify(SET_EVENTS, "spop", key);
                    delete_if_empty(ctx, key);
                    ctx.bulk(&m);
                }
                None => ctx.null(),
            }
            Ok(())
        }
        3 => {
            let count = crate::util::num::parse_i64(&args[2])
                .filter(|n| *n >= 0)
                .ok_or(CmdError::msg("ERR value is out of range, must be positive"))?;
            let Some(set) = write_set(ctx, key)? else {
                ctx.set_len(0);
                return Ok(());
            };
            if count == 0 {
                ctx.set_len(0);
                return Ok(());
            }
            if count as u64 >= set.len() as u64 {
                let all = std::mem::take(set);
                ctx.db(key).remove(key);
                ctx.notify(SET_EVENTS, "spop", key);
                ctx.notify(KeyspaceEvents::GENERIC, "del", key);
                reply_set(ctx, &all);
                return Ok(());
            }
            let mut popped = Vec::with_capacity(count as usize);
            for _ in 0..count {
                match set.pop(&mut random_u64) {
                    Some(m) => popped.push(m),
                    None => break,
                }
            }
            ctx.notify(SET_EVENTS, "spop", key);
            reply_members(ctx, &popped);
            Ok(())
        }
        _ => Err(CmdError::Syntax),
    }
}

fn smove(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (src, dst, member) = (&args[1], &args[2], &args[3]);
    let src_exists = match ctx.write(src) {
        None => false,
        Some(e) => {
            if !matches!(e.value, Value::Set(_)) {
                return Err(CmdError::WrongType);
            }
            true
        }
    };
    if !src_exists {
        ctx.int(0);
        return Ok(());
    }
    let dst_exists = write_set(ctx, dst)?.is_some();
    if src == dst {
        let found = read_set_quiet(ctx, src).is_some_and(|s| s.contains(member));
        ctx.int(i64::from(found));
        return Ok(());
    }
    let removed = write_set(ctx, src)?.is_some_and(|s| s.remove(member));
    if !removed {
        ctx.int(0);
        return Ok(());
    }
    ctx.notify(SET_EVENTS, "srem", src);
    delete_if_empty(ctx, src);
    let max = max_intset(ctx);
    let added = if dst_exists {
        write_set(ctx, dst)?.is_some_and(|d| d.insert(member, max))
    } else {
        let mut set = SetValue::new();
        set.insert(member, max);
        store(ctx, dst, set);
        true
    };
    if added {
        ctx.notify(SET_EVENTS, "sadd", dst);
    }
    ctx.int(1);
    Ok(())
}

/// A second look at a key already checked in this command (no statistics).
fn read_set_quiet<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Option<&'c SetValue> {
    write_set(ctx, key).ok().flatten().map(|s| &*s)
}

// ---- multi-key commands ----------------------------------------------------------

/// Type-checks every key (an error wins over an empty result, as in Redis)
/// and returns each one's cardinality, `None` for a missing key.
fn set_sizes(ctx: &mut Ctx, keys: &[Bytes], write: bool) -> Result<Vec<Option<usize>>, CmdError> {
    keys.iter()
        .map(|k| Ok(lookup(ctx, k, write)?.map(SetValue::len)))
        .collect()
}

/// The members common to all `keys`, in the smallest set's order, stopping
/// once `limit` (0: no limit) were found.
fn intersect(
    ctx: &mut Ctx,
    keys: &[Bytes],
    write: bool,
    limit: usize,
) -> Result<Vec<CompactBytes>, CmdError> {
    let sizes = set_sizes(ctx, keys, write)?;
    let mut order: Vec<usize> = Vec::with_capacity(keys.len());
    for (i, size) in sizes.iter().enumerate() {
        match size {
            None | Some(0) => return Ok(Vec::new()),
            Some(_) => order.push(i),
        }
    }
    order.sort_by_key(|&i| sizes[i]);
    let mut members = Vec::new();
    if let Some(set) = read_set_quiet(ctx, &keys[order[0]]) {
        set.for_each(|m| members.push(CompactBytes::from_slice(m)));
    }
    if order.len() == 1 {
        if limit > 0 {
            members.truncate(limit);
        }
        return Ok(members);
    }
    let last = order.len() - 1;
    for (n, &i) in order.iter().enumerate().skip(1) {
        let Some(set) = read_set_quiet(ctx, &keys[i]) else {
            return Ok(Vec::new());
        };
        if n == last && limit > 0 {
            let mut kept = 0;
            members.retain(|m| {
                if kept < limit && set.contains(m) {
                    kept += 1;
                    true
                } else {
                    false
                }
            });
        } else {
            members.retain(|m| set.contains(m));
        }
        if members.is_empty() {
            break;
        }
    }
    Ok(members)
}

fn build(members: &[CompactBytes], max: usize) -> SetValue {
    let mut set = SetValue::new();
    for m in members {
        set.insert(m, max);
    }
    set
}

fn sinter(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let members = intersect(ctx, &args[1..], false, 0)?;
    reply_members(ctx, &members);
    Ok(())
}

fn sinterstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let members = intersect(ctx, &args[2..], true, 0)?;
    let set = build(&members, max_intset(ctx));
    let n = set.len();
    store_result(ctx, &args[1], set, "sinterstore");
    ctx.int(n as i64);
    Ok(())
}

fn sintercard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let numkeys = crate::util::num::parse_i64(&args[1])
        .filter(|n| *n > 0)
        .ok_or(CmdError::msg("ERR numkeys should be greater than 0"))?;
    if numkeys as u64 > (args.len() - 2) as u64 {
        return Err(CmdError::msg(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let keys_end = 2 + numkeys as usize;
    let mut limit = 0usize;
    let mut i = keys_end;
    while i < args.len() {
        if eq_ic(&args[i], "limit") && i + 1 < args.len() {
            let l = crate::util::num::parse_i64(&args[i + 1])
                .filter(|n| *n >= 0)
                .ok_or(CmdError::msg("ERR LIMIT can't be negative"))?;
            limit = usize::try_from(l).unwrap_or(usize::MAX);
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let members = intersect(ctx, &args[2..keys_end], false, limit)?;
    ctx.int(members.len() as i64);
    Ok(())
}

fn union(ctx: &mut Ctx, keys: &[Bytes], write: bool) -> Result<SetValue, CmdError> {
    set_sizes(ctx, keys, write)?;
    let max = max_intset(ctx);
    let mut result = SetValue::new();
    for key in keys {
        if let Some(set) = read_set_quiet(ctx, key) {
            set.for_each(|m| {
                result.insert(m, max);
            });
        }
    }
    Ok(result)
}

fn sunion(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let set = union(ctx, &args[1..], false)?;
    reply_set(ctx, &set);
    Ok(())
}

fn sunionstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let set = union(ctx, &args[2..], true)?;
    let n = set.len();
    store_result(ctx, &args[1], set, "sunionstore");
    ctx.int(n as i64);
    Ok(())
}

/// The first set minus the others. Like Redis, either filters the first
/// set's members (cheap when it is small) or copies it and removes the
/// others' members; the choice also decides the result's encoding.
fn difference(ctx: &mut Ctx, keys: &[Bytes], write: bool) -> Result<SetValue, CmdError> {
    let sizes = set_sizes(ctx, keys, write)?;
    let max = max_intset(ctx);
    let Some(first_len) = sizes[0] else {
        return Ok(SetValue::new());
    };
    let filter_work = first_len * keys.len() / 2;
    let remove_work: usize = sizes.iter().map(|s| s.unwrap_or(0)).sum();
    let mut members = Vec::with_capacity(first_len);
    if let Some(first) = read_set_quiet(ctx, &keys[0]) {
        first.for_each(|m| members.push(CompactBytes::from_slice(m)));
    }
    if filter_work <= remove_work {
        for key in &keys[1..] {
            if members.is_empty() {
                break;
            }
            if let Some(set) = read_set_quiet(ctx, key) {
                members.retain(|m| !set.contains(m));
            }
        }
        return Ok(build(&members, max));
    }
    let mut result = build(&members, max);
    for key in &keys[1..] {
        if result.is_empty() {
            break;
        }
        if let Some(set) = read_set_quiet(ctx, key) {
            set.for_each(|m| {
                result.remove(m);
            });
        }
    }
    Ok(result)
}

fn sdiff(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let set = difference(ctx, &args[1..], false)?;
    reply_set(ctx, &set);
    Ok(())
}

fn sdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let set = difference(ctx, &args[2..], true)?;
    let n = set.len();
    store_result(ctx, &args[1], set, "sdiffstore");
    ctx.int(n as i64);
    Ok(())
}

fn sscan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let cursor = super::keys::parse_cursor(&args[2]).ok_or(CmdError::msg("ERR invalid cursor"))?;
    // Redis answers a missing key before looking at the options.
    let Some(set) = read_set(ctx, &args[1])? else {
        ctx.array(2);
        ctx.bulk(b"0");
        ctx.array(0);
        return Ok(());
    };
    let super::keys::ScanOptions { count, pattern, .. } =
        super::keys::ScanOptions::parse(&args[3..], false)?;
    let mut found: Vec<CompactBytes> = Vec::new();
    let mut next = cursor;
    let mut steps = count.saturating_mul(10);
    loop {
        next = set.scan(next, |m| found.push(CompactBytes::from_slice(m)));
        steps = steps.saturating_sub(1);
        if next == 0 || steps == 0 || found.len() >= count {
            break;
        }
    }
    if let Some(p) = pattern {
        found.retain(|m| glob_match(p, m, false));
    }
    ctx.array(2);
    ctx.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.array(found.len());
    for m in &found {
        ctx.bulk(m);
    }
    Ok(())
}
