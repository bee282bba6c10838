//! Hash commands: HSET and friends, counters, HRANDFIELD, HSCAN.
//!
//! The checks run in Redis 7.0's order, since that order decides which
//! error a client sees when a command is wrong in several ways at once:
//! HSET counts its arguments before it looks at the key; HINCRBY and
//! HINCRBYFLOAT validate the increment before the WRONGTYPE check;
//! HRANDFIELD validates its count and WITHVALUES before the lookup; HSCAN
//! parses the cursor, then looks the key up (a missing key answers an empty
//! scan whatever the options), then parses the options.
//!
//! The value type and its encodings live in `types/hash.rs`. The conversion
//! thresholds come from the configuration through [`limits`], which caches
//! them per thread and re-reads them only when CONFIG SET moved the epoch,
//! so a write pays one atomic load rather than a lock.

use std::cell::Cell;

use bytes::Bytes;

use crate::util::rand::random_u64;
use shoal_protocol::encode;

use super::{
    arg_i64, cached_config, eq_ic, flag, CmdError, CmdResult, CommandSpec, ConfigCache, Ctx, Keys,
};
use crate::config::KeyspaceEvents;
use crate::server::Server;
use crate::shard::db::Value;
use crate::types::hash::{HashValue, Limits};
use crate::util::glob::glob_match;
use crate::util::num::{check_long_double, incr_by_float, parse_i64, FloatError};

const KEY1: Keys = Keys::Range {
    first: 1,
    last: 1,
    step: 1,
};

const HASH: &[&str] = &["hash"];

macro_rules! hash_cmd {
    ($name:literal, $arity:expr, $flags:expr, $handler:ident, $summary:literal, $args:literal,
     $since:literal, $complexity:literal, $key_flags:expr, $tips:expr) => {
        CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            keys: KEY1,
            acl: HASH,
            group: "hash",
            since: $since,
            complexity: $complexity,
            summary: $summary,
            args: $args,
            handler: Some($handler),
            key_flags: $key_flags,
            tips: $tips,
            ..CommandSpec::DEFAULT
        }
    };
}

const W: u32 = flag::WRITE | flag::DENYOOM | flag::FAST;
const R: u32 = flag::READONLY | flag::FAST;

pub const COMMANDS: &[CommandSpec] = &[
    hash_cmd!("hset", -4, W, hset, "Set the string value of a hash field",
        "key field value [field value ...]", "2.0.0",
        "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
        &["RW", "update"], &[]),
    hash_cmd!("hsetnx", 4, W, hsetnx, "Set the value of a hash field, only if the field does not exist",
        "key field value", "2.0.0", "O(1)", &["RW", "insert"], &[]),
    CommandSpec {
        doc_flags: &["deprecated"],
        deprecated_since: "4.0.0",
        replaced_by: "`HSET` with multiple field-value pairs",
        ..hash_cmd!("hmset", -4, W, hmset, "Set multiple hash fields to multiple values",
            "key field value [field value ...]", "2.0.0",
            "O(N) where N is the number of fields being set.", &["RW", "update"], &[])
    },
    hash_cmd!("hget", 3, R, hget, "Get the value of a hash field", "key field", "2.0.0", "O(1)",
        &["RO", "access"], &[]),
    hash_cmd!("hmget", -3, R, hmget, "Get the values of all the given hash fields",
        "key field [field ...]", "2.0.0",
        "O(N) where N is the number of fields being requested.", &["RO", "access"], &[]),
    hash_cmd!("hdel", -3, flag::WRITE | flag::FAST, hdel, "Delete one or more hash fields",
        "key field [field ...]", "2.0.0",
        "O(N) where N is the number of fields to be removed.", &["RW", "delete"], &[]),
    hash_cmd!("hlen", 2, R, hlen, "Get the number of fields in a hash", "key", "2.0.0", "O(1)",
        &["RO"], &[]),
    hash_cmd!("hstrlen", 3, R, hstrlen, "Get the length of the value of a hash field",
        "key field", "3.2.0", "O(1)", &["RO"], &[]),
    hash_cmd!("hexists", 3, R, hexists, "Determine if a hash field exists", "key field", "2.0.0",
        "O(1)", &["RO"], &[]),
    hash_cmd!("hkeys", 2, flag::READONLY, hkeys, "Get all the fields in a hash", "key", "2.0.0",
        "O(N) where N is the size of the hash.", &["RO", "access"],
        &["nondeterministic_output_order"]),
    hash_cmd!("hvals", 2, flag::READONLY, hvals, "Get all the values in a hash", "key", "2.0.0",
        "O(N) where N is the size of the hash.", &["RO", "access"],
        &["nondeterministic_output_order"]),
    hash_cmd!("hgetall", 2, flag::READONLY, hgetall, "Get all the fields and values in a hash",
        "key", "2.0.0", "O(N) where N is the size of the hash.", &["RO", "access"],
        &["nondeterministic_output_order"]),
    hash_cmd!("hincrby", 4, W, hincrby, "Increment the integer value of a hash field by the given number",
        "key field increment", "2.0.0", "O(1)", &["RW", "access", "update"], &[]),
    hash_cmd!("hincrbyfloat", 4, W, hincrbyfloat,
        "Increment the float value of a hash field by the given amount",
        "key field increment", "2.6.0", "O(1)", &["RW", "access", "update"], &[]),
    hash_cmd!("hrandfield", -2, flag::READONLY, hrandfield, "Get one or multiple random fields from a hash",
        "key [count [WITHVALUES]]", "6.2.0",
        "O(N) where N is the number of fields returned", &["RO", "access"],
        &["nondeterministic_output"]),
    hash_cmd!("hscan", -3, flag::READONLY, hscan, "Incrementally iterate hash fields and associated values",
        "key cursor [MATCH pattern] [COUNT count]", "2.8.0",
        "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        &["RO", "access"], &["nondeterministic_output"]),
];

const HASH_EVENTS: u32 = KeyspaceEvents::HASH;

/// The hash thresholds of the configuration.
fn limits(server: &Server) -> Limits {
    thread_local! {
        static CACHE: ConfigCache<Limits> = const { Cell::new(None) };
    }
    cached_config(&CACHE, server, |cfg| Limits {
        max_entries: cfg.hash_max_listpack_entries,
        max_value: cfg.hash_max_listpack_value,
    })
}

/// The hash at `key` for a reading command, with the reply buffer, or
/// WRONGTYPE. Replying straight from the stored value avoids copying it.
fn read_hash<'a>(
    ctx: &'a mut Ctx,
    key: &[u8],
) -> Result<(Option<&'a HashValue>, &'a mut Vec<u8>), CmdError> {
    let (entry, out) = ctx.read_with_out(key);
    match entry {
        None => Ok((None, out)),
        Some(e) => match &e.value {
            Value::Hash(h) => Ok((Some(h), out)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// Runs `f` on the hash at `key`, creating an empty one first when the key
/// is missing (Redis's `hashTypeLookupWriteOrCreate`). A hash `f` leaves
/// empty is not stored: no hash command empties a fresh hash on success.
fn with_hash_for_write<T>(
    ctx: &mut Ctx,
    key: &[u8],
    f: impl FnOnce(&mut HashValue) -> Result<T, CmdError>,
) -> Result<T, CmdError> {
    match ctx.write(key) {
        Some(e) => match &mut e.value {
            Value::Hash(h) => f(h),
            _ => Err(CmdError::WrongType),
        },
        None => {
            let mut h = HashValue::new();
            let result = f(&mut h);
            if !h.is_empty() {
                let entry = ctx.entry(Value::Hash(h));
                ctx.db(key).insert(key, entry);
            }
            result
        }
    }
}

fn set_generic(ctx: &mut Ctx, args: &[Bytes]) -> Result<usize, CmdError> {
    if !args.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity(ctx.spec.name));
    }
    let limits = limits(ctx.server);
    let pairs = args[2..].chunks_exact(2).map(|p| (&p[0][..], &p[1][..]));
    let added = with_hash_for_write(ctx, &args[1], |h| Ok(h.set_pairs(pairs, limits)))?;
    ctx.notify(HASH_EVENTS, "hset", &args[1]);
    Ok(added)
}

/// HSET key field value [field value ...]
fn hset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let added = set_generic(ctx, args)?;
    ctx.int(added as i64);
    Ok(())
}

/// HMSET key field value [field value ...]
fn hmset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    set_generic(ctx, args)?;
    ctx.ok();
    Ok(())
}

/// HSETNX key field value
fn hsetnx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let limits = limits(ctx.server);
    let (field, value) = (&args[2][..], &args[3][..]);
    let set = with_hash_for_write(ctx, &args[1], |h| {
        Ok(!h.contains(field) && h.set(field, value, limits))
    })?;
    if set {
        ctx.notify(HASH_EVENTS, "hset", &args[1]);
    }
    ctx.int(i64::from(set));
    Ok(())
}

fn hget(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let resp3 = ctx.resp3;
    let (h, out) = read_hash(ctx, &args[1])?;
    match h.and_then(|h| h.get(&args[2])) {
        Some(v) => encode::bulk(out, v),
        None => encode::null(out, resp3),
    }
    Ok(())
}

fn hmget(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let resp3 = ctx.resp3;
    let (h, out) = read_hash(ctx, &args[1])?;
    encode::array_len(out, args.len() - 2);
    for field in &args[2..] {
        match h.and_then(|h| h.get(field)) {
            Some(v) => encode::bulk(out, v),
            None => encode::null(out, resp3),
        }
    }
    Ok(())
}

/// HDEL key field [field ...]; deleting the last field deletes the key.
fn hdel(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let key = &args[1][..];
    let (deleted, emptied) = match ctx.write(key) {
        None => (0, false),
        Some(e) => {
            let Value::Hash(h) = &mut e.value else {
                return Err(CmdError::WrongType);
            };
            let mut deleted = 0;
            for field in &args[2..] {
                if h.remove(field) {
                    deleted += 1;
                    if h.is_empty() {
                        break;
                    }
                }
            }
            (deleted, h.is_empty())
        }
    };
    if deleted > 0 {
        ctx.notify(HASH_EVENTS, "hdel", key);
    }
    if emptied {
        ctx.db(key).remove(key);
        ctx.notify(KeyspaceEvents::GENERIC, "del", key);
    }
    ctx.int(deleted);
    Ok(())
}

fn hlen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (h, out) = read_hash(ctx, &args[1])?;
    encode::integer(out, h.map_or(0, |h| h.len() as i64));
    Ok(())
}

fn hstrlen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (h, out) = read_hash(ctx, &args[1])?;
    let len = h.and_then(|h| h.get(&args[2])).map_or(0, <[u8]>::len);
    encode::integer(out, len as i64);
    Ok(())
}

fn hexists(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (h, out) = read_hash(ctx, &args[1])?;
    encode::integer(out, i64::from(h.is_some_and(|h| h.contains(&args[2]))));
    Ok(())
}

/// What HKEYS, HVALS and HGETALL reply with.
#[derive(Clone, Copy, PartialEq)]
enum Parts {
    Fields,
    Values,
    Both,
}

fn getall_generic(ctx: &mut Ctx, key: &[u8], parts: Parts) -> CmdResult {
    let resp3 = ctx.resp3;
    let (h, out) = read_hash(ctx, key)?;
    let len = h.map_or(0, HashValue::len);
    if parts == Parts::Both {
        encode::map_len(out, len, resp3);
    } else {
        encode::array_len(out, len);
    }
    if let Some(h) = h {
        for (field, value) in h.iter() {
            if parts != Parts::Values {
                encode::bulk(out, field);
            }
            if parts != Parts::Fields {
                encode::bulk(out, value);
            }
        }
    }
    Ok(())
}

fn hkeys(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    getall_generic(ctx, &args[1], Parts::Fields)
}

fn hvals(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    getall_generic(ctx, &args[1], Parts::Values)
}

fn hgetall(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    getall_generic(ctx, &args[1], Parts::Both)
}

/// HINCRBY key field increment
fn hincrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let by = arg_i64(&args[3])?;
    let limits = limits(ctx.server);
    let field = &args[2][..];
    let value = with_hash_for_write(ctx, &args[1], |h| {
        let current = match h.get(field) {
            None => 0,
            Some(v) => {
                parse_i64(v).ok_or_else(|| CmdError::msg("ERR hash value is not an integer"))?
            }
        };
        let value = current.checked_add(by).ok_or(CmdError::Overflow)?;
        h.set(field, itoa::Buffer::new().format(value).as_bytes(), limits);
        Ok(value)
    })?;
    ctx.notify(HASH_EVENTS, "hincrby", &args[1]);
    ctx.int(value);
    Ok(())
}

/// HINCRBYFLOAT key field increment, in long double arithmetic as Redis.
fn hincrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let by = &args[3][..];
    match check_long_double(by) {
        Ok(()) => {}
        Err(FloatError::NotAFloat) => return Err(CmdError::NotFloat),
        Err(FloatError::NanOrInfinity) => {
            return Err(CmdError::msg("ERR value is NaN or Infinity"))
        }
    }
    let limits = limits(ctx.server);
    let field = &args[2][..];
    let value = with_hash_for_write(ctx, &args[1], |h| {
        let current = h.get(field).unwrap_or(b"0");
        let value = incr_by_float(current, by).map_err(|e| match e {
            FloatError::NotAFloat => CmdError::msg("ERR hash value is not a float"),
            FloatError::NanOrInfinity => {
                CmdError::msg("ERR increment would produce NaN or Infinity")
            }
        })?;
        h.set(field, &value, limits);
        Ok(value)
    })?;
    ctx.notify(HASH_EVENTS, "hincrbyfloat", &args[1]);
    ctx.bulk(&value);
    Ok(())
}

/// HRANDFIELD key [count [WITHVALUES]]
///
/// A negative count draws with replacement; a positive one returns distinct
/// fields (the whole hash, in its order, when count reaches its size).
fn hrandfield(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let resp3 = ctx.resp3;
    if args.len() == 2 {
        let (h, out) = read_hash(ctx, &args[1])?;
        match h.and_then(|h| h.random_pair(&mut random_u64)) {
            Some((field, _)) => encode::bulk(out, field),
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
    let with_values = match args.len() {
        3 => false,
        4 if eq_ic(&args[3], "withvalues") => {
            if !(-i64::MAX / 2..=i64::MAX / 2).contains(&count) {
                return Err(CmdError::msg("ERR value is out of range"));
            }
            true
        }
        _ => return Err(CmdError::Syntax),
    };
    let (h, out) = read_hash(ctx, &args[1])?;
    let Some(h) = h else {
        encode::array_len(out, 0);
        return Ok(());
    };
    let emit = |out: &mut Vec<u8>, field: &[u8], value: &[u8]| {
        if with_values && resp3 {
            encode::array_len(out, 2);
        }
        encode::bulk(out, field);
        if with_values {
            encode::bulk(out, value);
        }
    };
    let items_len = |n: usize| if with_values && !resp3 { n * 2 } else { n };
    if count < 0 {
        let n = count.unsigned_abs() as usize;
        encode::array_len(out, items_len(n));
        h.random_pairs_with_replacement(n, &mut random_u64, |f, v| emit(out, f, v));
        return Ok(());
    }
    let n = count as usize;
    if n >= h.len() {
        encode::array_len(out, items_len(h.len()));
        for (f, v) in h.iter() {
            emit(out, f, v);
        }
        return Ok(());
    }
    let picked = h.random_distinct_pairs(n, &mut random_u64);
    encode::array_len(out, items_len(picked.len()));
    for (f, v) in picked {
        emit(out, f, v);
    }
    Ok(())
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
fn hscan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let cursor = super::keys::parse_cursor(&args[2]).ok_or(CmdError::msg("ERR invalid cursor"))?;
    let (h, out) = read_hash(ctx, &args[1])?;
    let Some(h) = h else {
        encode::array_len(out, 2);
        encode::bulk(out, b"0");
        encode::array_len(out, 0);
        return Ok(());
    };
    let super::keys::ScanOptions { count, pattern, .. } =
        super::keys::ScanOptions::parse(&args[3..], false)?;
    // The table's scan lends each pair only for the callback, so the items
    // are encoded into a side buffer and counted.
    let mut items = Vec::new();
    let mut found = 0usize;
    let next = h.scan(cursor, count, |f, v| {
        if pattern.is_none_or(|p| glob_match(p, f, false)) {
            encode::bulk(&mut items, f);
            encode::bulk(&mut items, v);
            found += 2;
        }
    });
    encode::array_len(out, 2);
    encode::bulk(out, itoa::Buffer::new().format(next).as_bytes());
    encode::array_len(out, found);
    out.extend_from_slice(&items);
    Ok(())
}
