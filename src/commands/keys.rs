//! Generic keyspace commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN,
//! RANDOMKEY, RENAME, RENAMENX, COPY, MOVE, TOUCH, OBJECT, and the
//! database-wide DBSIZE, FLUSHDB, FLUSHALL, SELECT and SWAPDB.
//!
//! Most of these are single-key or multi-key commands and read like Redis's
//! db.c: the dispatcher has already acquired every shard their keys live on,
//! so a RENAME whose two keys sit on different shards is two plain lookups.
//! The keyspace-wide ones (`Scope::All`) see every partition at once and
//! loop over them.
//!
//! # The SCAN cursor over shards
//!
//! Each shard's table has its own SCAN cursor (see `types::dict`), and Redis
//! clients expect one unsigned 64-bit number. Shoal's cursor packs both: the
//! low `ceil(log2(shards))` bits hold the shard being walked and the rest hold
//! that shard's table cursor. A full iteration walks shard 0 from table cursor
//! 0 until its table says it is done, then shard 1 from 0, and so on, and
//! returns 0 after the last shard. Keys never move between shards (the owner
//! of a key is fixed by its slot), so Redis's guarantees carry over from the
//! table to the whole keyspace: a key present for the whole iteration is
//! returned at least once, whatever resizing happens between calls. With a
//! single shard no bits are used and cursors are exactly the table's. The
//! encoding never overflows (a table cursor is below the table size), and
//! any number decodes to something harmless: a shard index past the last
//! shard means the iteration is over.

use std::sync::OnceLock;

use bytes::Bytes;

use crate::util::rand::random_u64;
use crossbeam_channel::Sender;

use super::{arg_i64, eq_ic, flag, CmdError, CmdResult, CommandSpec, Ctx, KeySpecDoc, Keys, Scope};
use crate::config::{EvictionPolicy, KeyspaceEvents};
use crate::shard::db::{Db, Entry, Value};
use crate::shard::Partition;
use crate::util::glob::glob_match;

const FIRST_KEY: Keys = Keys::Range {
    first: 1,
    last: 1,
    step: 1,
};
const ALL_KEYS: Keys = Keys::Range {
    first: 1,
    last: -1,
    step: 1,
};
const TWO_KEYS: Keys = Keys::Range {
    first: 1,
    last: 2,
    step: 1,
};
const SUBCOMMAND_KEY: Keys = Keys::Range {
    first: 2,
    last: 2,
    step: 1,
};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "del",
        arity: -2,
        flags: flag::WRITE,
        keys: ALL_KEYS,
        acl: &["keyspace"],
        complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
        summary: "Delete a key",
        args: "key [key ...]",
        handler: Some(del),
        key_flags: &["RM", "delete"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "unlink",
        arity: -2,
        flags: flag::WRITE | flag::FAST,
        keys: ALL_KEYS,
        acl: &["keyspace"],
        since: "4.0.0",
        complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
        summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
        args: "key [key ...]",
        handler: Some(del),
        key_flags: &["RM", "delete"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "exists",
        arity: -2,
        flags: flag::READONLY | flag::FAST,
        keys: ALL_KEYS,
        acl: &["keyspace"],
        complexity: "O(N) where N is the number of keys to check.",
        summary: "Determine if a key exists",
        args: "key [key ...]",
        handler: Some(exists),
        key_flags: &["RO"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "type",
        arity: 2,
        flags: flag::READONLY | flag::FAST,
        keys: FIRST_KEY,
        acl: &["keyspace"],
        summary: "Determine the type stored at key",
        args: "key",
        handler: Some(type_),
        key_flags: &["RO"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "keys",
        arity: 2,
        flags: flag::READONLY,
        scope: Scope::All,
        acl: &["keyspace", "dangerous"],
        complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
        summary: "Find all keys matching the given pattern",
        args: "pattern",
        handler: Some(keys),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "scan",
        arity: -2,
        flags: flag::READONLY,
        scope: Scope::All,
        acl: &["keyspace"],
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        summary: "Incrementally iterate the keys space",
        args: "cursor [MATCH pattern] [COUNT count] [TYPE type]",
        handler: Some(scan),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "randomkey",
        arity: 1,
        flags: flag::READONLY,
        scope: Scope::All,
        acl: &["keyspace"],
        summary: "Return a random key from the keyspace",
        handler: Some(randomkey),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "rename",
        arity: 3,
        flags: flag::WRITE,
        keys: TWO_KEYS,
        acl: &["keyspace"],
        summary: "Rename a key",
        args: "key newkey",
        handler: Some(rename),
        key_specs: &[KeySpecDoc::one(1, &["RW", "access", "delete"]), KeySpecDoc::one(2, &["OW", "update"])],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "renamenx",
        arity: 3,
        flags: flag::WRITE | flag::FAST,
        keys: TWO_KEYS,
        acl: &["keyspace"],
        summary: "Rename a key, only if the new key does not exist",
        args: "key newkey",
        handler: Some(renamenx),
        key_specs: &[KeySpecDoc::one(1, &["RW", "access", "delete"]), KeySpecDoc::one(2, &["OW", "insert"])],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "copy",
        arity: -3,
        flags: flag::WRITE | flag::DENYOOM,
        keys: TWO_KEYS,
        acl: &["keyspace"],
        since: "6.2.0",
        complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
        summary: "Copy a key",
        args: "source destination [DB destination-db] [REPLACE]",
        handler: Some(copy),
        key_specs: &[KeySpecDoc::one(1, &["RO", "access"]), KeySpecDoc::one(2, &["OW", "update"])],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "move",
        arity: 3,
        flags: flag::WRITE | flag::FAST,
        keys: FIRST_KEY,
        acl: &["keyspace"],
        summary: "Move a key to another database",
        args: "key db",
        handler: Some(move_),
        key_flags: &["RW", "access", "update"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "touch",
        arity: -2,
        flags: flag::READONLY | flag::FAST,
        keys: ALL_KEYS,
        acl: &["keyspace"],
        since: "3.2.1",
        complexity: "O(N) where N is the number of keys that will be touched.",
        summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.",
        args: "key [key ...]",
        handler: Some(touch),
        key_flags: &["RO"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "dbsize",
        arity: 1,
        flags: flag::READONLY | flag::FAST,
        scope: Scope::All,
        acl: &["keyspace"],
        group: "server",
        summary: "Return the number of keys in the selected database",
        handler: Some(dbsize),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "flushdb",
        arity: -1,
        flags: flag::WRITE,
        scope: Scope::All,
        acl: &["keyspace", "dangerous"],
        group: "server",
        complexity: "O(N) where N is the number of keys in the selected database",
        summary: "Remove all keys from the current database",
        args: "[ASYNC | SYNC]",
        handler: Some(flushdb),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "flushall",
        arity: -1,
        flags: flag::WRITE,
        scope: Scope::All,
        acl: &["keyspace", "dangerous"],
        group: "server",
        complexity: "O(N) where N is the total number of keys in all databases",
        summary: "Remove all keys from all databases",
        args: "[ASYNC | SYNC]",
        handler: Some(flushall),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "select",
        arity: 2,
        flags: flag::LOADING | flag::STALE | flag::FAST,
        acl: &["connection"],
        group: "connection",
        summary: "Change the selected database for the current connection",
        args: "index",
        handler: Some(select),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "swapdb",
        arity: 3,
        flags: flag::WRITE | flag::FAST,
        scope: Scope::All,
        acl: &["keyspace", "dangerous"],
        group: "server",
        since: "4.0.0",
        complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
        summary: "Swaps two Redis databases",
        args: "index1 index2",
        handler: Some(swapdb),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "object",
        arity: -2,
        since: "2.2.3",
        complexity: "Depends on subcommand.",
        summary: "A container for object introspection commands",
        subcommands: &[
            CommandSpec {
                name: "object|encoding",
                arity: 3,
                flags: flag::READONLY,
                keys: SUBCOMMAND_KEY,
                acl: &["keyspace"],
                since: "2.2.3",
                summary: "Inspect the internal encoding of a Redis object",
                args: "key",
                handler: Some(object_encoding),
                key_flags: &["RO"],
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "object|freq",
                arity: 3,
                flags: flag::READONLY,
                keys: SUBCOMMAND_KEY,
                acl: &["keyspace"],
                since: "4.0.0",
                summary: "Get the logarithmic access frequency counter of a Redis object",
                args: "key",
                handler: Some(object_freq),
                key_flags: &["RO"],
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "object|help",
                arity: 2,
                flags: flag::LOADING | flag::STALE,
                acl: &["keyspace"],
                since: "6.2.0",
                summary: "Show helpful text about the different subcommands",
                handler: Some(object_help),
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "object|idletime",
                arity: 3,
                flags: flag::READONLY,
                keys: SUBCOMMAND_KEY,
                acl: &["keyspace"],
                since: "2.2.3",
                summary: "Get the time since a Redis object was last accessed",
                args: "key",
                handler: Some(object_idletime),
                key_flags: &["RO"],
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "object|refcount",
                arity: 3,
                flags: flag::READONLY,
                keys: SUBCOMMAND_KEY,
                acl: &["keyspace"],
                since: "2.2.3",
                summary: "Get the number of references to the value of the key",
                args: "key",
                handler: Some(object_refcount),
                key_flags: &["RO"],
                ..CommandSpec::DEFAULT
            },
        ],
        ..CommandSpec::DEFAULT
    },
];

// ---- lookups shared with expire.rs ------------------------------------------

/// Redis's `lookupKeyReadWithFlags(LOOKUP_NOTOUCH)`: expires the key if its
/// TTL passed and counts a keyspace hit or miss, but leaves the access clock
/// alone, so that inspecting a key (EXISTS, TYPE, TTL, OBJECT) does not make
/// it look recently used to LRU eviction or OBJECT IDLETIME.
pub(super) fn lookup_notouch<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Option<&'c mut Entry> {
    let (now, index) = (ctx.now_ms, ctx.db);
    let shard = ctx.server.shard_of_key(key);
    let Partition { dbs, stats, .. } = ctx.part(shard);
    let found = dbs[index].get(key, now);
    if found.is_some() {
        stats.keyspace_hits += 1;
    } else {
        stats.keyspace_misses += 1;
    }
    found
}

fn is_expired(e: &Entry, now_ms: u64) -> bool {
    e.expire_at != 0 && e.expire_at <= now_ms
}

/// A database index argument as Redis's `getIntFromObjectOrReply` reads it:
/// a strict integer, with a separate error when it does not fit in a C int.
/// `msg` replaces both errors where Redis passes its own text (SWAPDB).
fn arg_db_index(arg: &[u8], msg: Option<&'static str>) -> Result<i64, CmdError> {
    let custom = |default: CmdError| msg.map_or(default, CmdError::msg);
    let v = arg_i64(arg).map_err(|_| custom(CmdError::NotInteger))?;
    if i32::try_from(v).is_err() {
        return Err(custom(CmdError::msg(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        )));
    }
    Ok(v)
}

/// `index` as a database of this server, or Redis's out-of-range error.
/// Every partition has the configured number of databases.
fn checked_db(ctx: &mut Ctx, index: i64) -> Result<usize, CmdError> {
    let count = ctx.part(ctx.shard_id).dbs.len();
    usize::try_from(index)
        .ok()
        .filter(|&i| i < count)
        .ok_or(CmdError::DbIndexOutOfRange)
}

// ---- DEL UNLINK EXISTS TYPE TOUCH -------------------------------------------

/// DEL and UNLINK. A string value is a single allocation, so freeing it here
/// costs what handing it to another thread would; UNLINK differs from DEL
/// only once values with many allocations exist.
fn del(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let now = ctx.now_ms;
    let mut removed = 0;
    for key in &args[1..] {
        if ctx.db(key).remove_live(key, now).is_some() {
            ctx.notify(KeyspaceEvents::GENERIC, "del", key);
            removed += 1;
        }
    }
    ctx.int(removed);
    Ok(())
}

/// EXISTS counts a key once per mention: `EXISTS k k` is 2.
fn exists(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let found = args[1..]
        .iter()
        .filter(|key| lookup_notouch(ctx, key).is_some())
        .count();
    ctx.int(found as i64);
    Ok(())
}

fn type_(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let name = lookup_notouch(ctx, &args[1]).map_or("none", |e| e.value.type_name());
    ctx.simple(name.as_bytes());
    Ok(())
}

fn touch(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let found = args[1..]
        .iter()
        .filter(|key| ctx.read(key).is_some())
        .count();
    ctx.int(found as i64);
    Ok(())
}

// ---- KEYS SCAN RANDOMKEY DBSIZE ---------------------------------------------

/// KEYS lists live keys only, but like Redis it leaves expired ones for the
/// expiry cycle instead of deleting them while walking the tables.
fn keys(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let pattern = &args[1][..];
    let every_key = pattern == b"*";
    let (now, index) = (ctx.now_ms, ctx.db);
    let mut body = Vec::new();
    let mut count = 0;
    for shard in 0..ctx.nshards() {
        for (key, e) in ctx.db_at(shard, index).iter() {
            if (every_key || glob_match(pattern, key, false)) && !is_expired(e, now) {
                shoal_protocol::encode::bulk(&mut body, key);
                count += 1;
            }
        }
    }
    ctx.array(count);
    ctx.out.extend_from_slice(&body);
    Ok(())
}

/// Bits of the SCAN cursor that name the shard (see the module docs).
fn shard_bits(nshards: usize) -> u32 {
    if nshards <= 1 {
        0
    } else {
        usize::BITS - (nshards - 1).leading_zeros()
    }
}

/// The cursor argument as Redis 7.0 reads it: C `strtoul` base 10 over the
/// argument up to its first NUL, refusing leading whitespace, trailing
/// garbage and overflow. So "" is 0, "+5" is 5 and "-1" wraps to 2^64-1.
pub(crate) fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let s = arg
        .iter()
        .position(|&b| b == 0)
        .map_or(arg, |nul| &arg[..nul]);
    let Some(&first) = s.first() else {
        return Some(0);
    };
    if matches!(first, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        return None;
    }
    let (negative, digits) = match first {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

/// The options after a SCAN-family cursor, parsed as Redis does: pairs in
/// any order, the last of each kind wins, a COUNT below 1 or an unknown
/// word is a syntax error. TYPE belongs to SCAN alone. A MATCH of `*` is
/// dropped, because a glob never matches the empty key while SCAN must.
pub(crate) struct ScanOptions<'a> {
    pub count: usize,
    pub pattern: Option<&'a [u8]>,
    pub type_name: Option<&'a [u8]>,
}

impl<'a> ScanOptions<'a> {
    pub(crate) fn parse(opts: &'a [Bytes], allow_type: bool) -> Result<Self, CmdError> {
        let mut parsed = ScanOptions {
            count: 10,
            pattern: None,
            type_name: None,
        };
        let mut i = 0;
        while i < opts.len() {
            let has_value = i + 1 < opts.len();
            if eq_ic(&opts[i], "count") && has_value {
                let n = arg_i64(&opts[i + 1])?;
                if n < 1 {
                    return Err(CmdError::Syntax);
                }
                parsed.count = usize::try_from(n).unwrap_or(usize::MAX);
            } else if eq_ic(&opts[i], "match") && has_value {
                let p = &opts[i + 1][..];
                parsed.pattern = (p != b"*").then_some(p);
            } else if allow_type && eq_ic(&opts[i], "type") && has_value {
                parsed.type_name = Some(&opts[i + 1][..]);
            } else {
                return Err(CmdError::Syntax);
            }
            i += 2;
        }
        Ok(parsed)
    }
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
///
/// COUNT bounds the keys visited (before filtering), and the table steps
/// taken are capped at ten times COUNT, as in Redis, so a sparse table does
/// not turn one call into a walk over every bucket.
fn scan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let cursor = parse_cursor(&args[1]).ok_or(CmdError::msg("ERR invalid cursor"))?;
    let ScanOptions {
        count,
        pattern,
        type_name,
    } = ScanOptions::parse(&args[2..], true)?;

    let nshards = ctx.nshards();
    let bits = shard_bits(nshards);
    let mut shard = (cursor & ((1u64 << bits) - 1)) as usize;
    let mut table_cursor = cursor >> bits;
    let (now, index) = (ctx.now_ms, ctx.db);
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut expired: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut visited = 0usize;
    let mut steps_left = count.saturating_mul(10);
    let next = loop {
        if shard >= nshards {
            break 0;
        }
        table_cursor = ctx.db_at(shard, index).scan(table_cursor, |key, e| {
            visited += 1;
            if pattern.is_some_and(|p| !glob_match(p, key, false)) {
                return;
            }
            if type_name.is_some_and(|t| !t.eq_ignore_ascii_case(e.value.type_name().as_bytes())) {
                return;
            }
            if is_expired(e, now) {
                expired.push((shard, key.to_vec()));
                return;
            }
            found.push(key.to_vec());
        });
        if table_cursor == 0 {
            shard += 1;
            if shard >= nshards {
                break 0;
            }
        }
        steps_left -= 1;
        if visited >= count || steps_left == 0 {
            break (table_cursor << bits) | shard as u64;
        }
    };
    // SCAN deletes the expired keys it meets, as Redis's does.
    for (shard, key) in &expired {
        ctx.db_at(*shard, index).get(key, now);
    }

    ctx.array(2);
    ctx.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.array(found.len());
    for key in &found {
        ctx.bulk(key);
    }
    Ok(())
}

/// RANDOMKEY: a shard is drawn with probability proportional to its size and
/// then a key of it uniformly, so every key is equally likely. An expired key
/// drawn is deleted and the draw repeated, as Redis's dbRandomKey does; each
/// retry removes a key, so the loop ends.
fn randomkey(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    let (now, index) = (ctx.now_ms, ctx.db);
    let nshards = ctx.nshards();
    loop {
        let total: usize = (0..nshards).map(|s| ctx.db_at(s, index).len()).sum();
        if total == 0 {
            ctx.null();
            return Ok(());
        }
        let mut pick = (random_u64() % total as u64) as usize;
        let mut shard = nshards - 1;
        for s in 0..nshards {
            let len = ctx.db_at(s, index).len();
            if pick < len {
                shard = s;
                break;
            }
            pick -= len;
        }
        let db = ctx.db_at(shard, index);
        let Some((key, e)) = db.random_key(&mut random_u64) else {
            ctx.null();
            return Ok(());
        };
        let (key, expired) = (key.to_vec(), is_expired(e, now));
        if expired {
            db.get(&key, now);
            continue;
        }
        ctx.bulk(&key);
        return Ok(());
    }
}

/// Counts keys whose TTL passed but that the expiry cycle has not removed
/// yet, as Redis's DBSIZE does.
fn dbsize(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    let index = ctx.db;
    let total: usize = (0..ctx.nshards()).map(|s| ctx.db_at(s, index).len()).sum();
    ctx.int(total as i64);
    Ok(())
}

// ---- RENAME RENAMENX COPY MOVE ----------------------------------------------

fn rename(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    rename_generic(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    rename_generic(ctx, args, true)
}

/// The entry itself moves, so its TTL and access clock go with the value,
/// whichever shards the two names live on.
fn rename_generic(ctx: &mut Ctx, args: &[Bytes], nx: bool) -> CmdResult {
    let (src, dst) = (&args[1], &args[2]);
    if ctx.write(src).is_none() {
        return Err(CmdError::NoSuchKey);
    }
    if src == dst {
        if nx {
            ctx.int(0);
        } else {
            ctx.ok();
        }
        return Ok(());
    }
    if ctx.write(dst).is_some() && nx {
        ctx.int(0);
        return Ok(());
    }
    let entry = ctx.db(src).remove(src).ok_or(CmdError::NoSuchKey)?;
    ctx.db(dst).insert(dst, entry);
    ctx.notify(KeyspaceEvents::GENERIC, "rename_from", src);
    ctx.notify(KeyspaceEvents::GENERIC, "rename_to", dst);
    if nx {
        ctx.int(1);
    } else {
        ctx.ok();
    }
    Ok(())
}

/// COPY source destination [DB destination-db] [REPLACE]
///
/// The copy is a new value: it keeps the TTL but starts a fresh access clock.
fn copy(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (src, dst) = (&args[1], &args[2]);
    let mut replace = false;
    let mut dst_index = ctx.db;
    let mut i = 3;
    while i < args.len() {
        if eq_ic(&args[i], "replace") {
            replace = true;
        } else if eq_ic(&args[i], "db") && i + 1 < args.len() {
            let index = arg_db_index(&args[i + 1], None)?;
            dst_index = checked_db(ctx, index)?;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if dst_index == ctx.db && src == dst {
        return Err(CmdError::msg(
            "ERR source and destination objects are the same",
        ));
    }
    let Some(e) = ctx.read(src) else {
        ctx.int(0);
        return Ok(());
    };
    let (value, expire_at) = (e.value.clone(), e.expire_at);
    let now = ctx.now_ms;
    let shard = ctx.server.shard_of_key(dst);
    if ctx.part(shard).dbs[dst_index].get(dst, now).is_some() && !replace {
        ctx.int(0);
        return Ok(());
    }
    let mut entry = ctx.entry(value);
    entry.expire_at = expire_at;
    let db = &mut ctx.part(shard).dbs[dst_index];
    db.insert(dst, entry);
    db.notify_event(KeyspaceEvents::GENERIC, "copy_to", dst);
    ctx.int(1);
    Ok(())
}

/// MOVE key db: the entry moves with its TTL; nothing happens (0) when the
/// key is missing here or already present in the target database.
fn move_(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let index = arg_db_index(&args[2], None)?;
    let dst_index = checked_db(ctx, index)?;
    if dst_index == ctx.db {
        return Err(CmdError::msg(
            "ERR source and destination objects are the same",
        ));
    }
    if ctx.write(key).is_none() {
        ctx.int(0);
        return Ok(());
    }
    let (now, src_index) = (ctx.now_ms, ctx.db);
    let shard = ctx.server.shard_of_key(key);
    let dbs = &mut ctx.part(shard).dbs;
    if dbs[dst_index].get(key, now).is_some() {
        ctx.int(0);
        return Ok(());
    }
    let entry = dbs[src_index].remove(key).ok_or(CmdError::NoSuchKey)?;
    dbs[dst_index].insert(key, entry);
    dbs[src_index].notify_event(KeyspaceEvents::GENERIC, "move_from", key);
    dbs[dst_index].notify_event(KeyspaceEvents::GENERIC, "move_to", key);
    ctx.int(1);
    Ok(())
}

// ---- FLUSHDB FLUSHALL SELECT SWAPDB -----------------------------------------

/// Whether a FLUSHDB/FLUSHALL frees in the background: its optional
/// argument, else the `lazyfree-lazy-user-flush` setting.
fn flush_is_async(ctx: &Ctx, args: &[Bytes]) -> Result<bool, CmdError> {
    match args {
        [_] => {
            let config = match ctx.server.config.read() {
                Ok(c) => c,
                Err(poisoned) => poisoned.into_inner(),
            };
            Ok(config.lazyfree_lazy_user_flush)
        }
        [_, mode] if eq_ic(mode, "sync") => Ok(false),
        [_, mode] if eq_ic(mode, "async") => Ok(true),
        _ => Err(CmdError::Syntax),
    }
}

/// Below this many keys freeing inline is cheaper than the hand-off (Redis's
/// LAZYFREE_THRESHOLD reasoning).
const LAZYFREE_MIN_KEYS: usize = 64;

/// Frees flushed databases on a background thread, so FLUSHALL ASYNC over
/// millions of keys returns at once and the shards keep serving. One thread
/// serves the whole process; if it cannot be started the data is freed
/// inline.
fn free_in_background(dbs: Vec<Db>) {
    static LAZYFREE: OnceLock<Option<Sender<Vec<Db>>>> = OnceLock::new();
    let keys: usize = dbs.iter().map(Db::len).sum();
    if keys < LAZYFREE_MIN_KEYS {
        return;
    }
    let sender = LAZYFREE.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::unbounded::<Vec<Db>>();
        std::thread::Builder::new()
            .name("lazyfree".to_string())
            .spawn(move || rx.into_iter().for_each(drop))
            .ok()?;
        Some(tx)
    });
    if let Some(tx) = sender {
        // On failure the data comes back in the error and is dropped here.
        let _ = tx.send(dbs);
    }
}

fn flushdb(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let lazy = flush_is_async(ctx, args)?;
    let index = ctx.db;
    let mut old = Vec::new();
    for shard in 0..ctx.nshards() {
        let db = ctx.db_at(shard, index);
        if lazy {
            old.push(db.take_keys());
        } else {
            db.clear();
        }
    }
    free_in_background(old);
    ctx.ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let lazy = flush_is_async(ctx, args)?;
    let mut old = Vec::new();
    for shard in 0..ctx.nshards() {
        for db in ctx.part(shard).dbs.iter_mut() {
            if lazy {
                old.push(db.take_keys());
            } else {
                db.clear();
            }
        }
    }
    free_in_background(old);
    ctx.ok();
    Ok(())
}

fn select(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let index = arg_db_index(&args[1], None)?;
    let index = checked_db(ctx, index)?;
    ctx.client()?.db = index;
    ctx.ok();
    Ok(())
}

/// SWAPDB swaps the data, not the clients: a connection that selected db 0
/// sees db 1's former keys afterwards.
fn swapdb(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let a = arg_db_index(&args[1], Some("ERR invalid first DB index"))?;
    let b = arg_db_index(&args[2], Some("ERR invalid second DB index"))?;
    let a = checked_db(ctx, a)?;
    let b = checked_db(ctx, b)?;
    if a != b {
        let (lo, hi) = (a.min(b), a.max(b));
        for shard in 0..ctx.nshards() {
            let (left, right) = ctx.part(shard).dbs.split_at_mut(hi);
            Db::swap_data(&mut left[lo], &mut right[0]);
        }
    }
    ctx.ok();
    Ok(())
}

// ---- OBJECT -----------------------------------------------------------------

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// What OBJECT REFCOUNT reports for a value Redis would share: its
/// OBJ_SHARED_REFCOUNT (INT_MAX).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
/// Redis keeps shared objects for the integers 0..OBJ_SHARED_INTEGERS.
const SHARED_INTEGERS: i64 = 10_000;

fn eviction_settings(ctx: &Ctx) -> (u64, EvictionPolicy) {
    let config = match ctx.server.config.read() {
        Ok(c) => c,
        Err(poisoned) => poisoned.into_inner(),
    };
    (config.maxmemory, config.maxmemory_policy)
}

fn is_lfu(policy: EvictionPolicy) -> bool {
    matches!(
        policy,
        EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu
    )
}

fn object_encoding(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    match lookup_notouch(ctx, &args[2]).map(|e| e.encoding()) {
        Some(encoding) => ctx.bulk(encoding.as_bytes()),
        None => ctx.null(),
    }
    Ok(())
}

/// The LFU counter as eviction sees it now (decayed, not updated: the
/// lookup does not touch), as Redis's LFUDecrAndReturn.
fn object_freq(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (now, clock) = (ctx.now_ms, ctx.lru_clock());
    let decay_time = crate::shard::evict::settings(ctx.server).lfu_decay_time;
    let Some(freq) = lookup_notouch(ctx, &args[2])
        .map(|e| crate::shard::evict::lfu_decayed(e, now, clock, decay_time))
    else {
        ctx.null();
        return Ok(());
    };
    if !is_lfu(eviction_settings(ctx).1) {
        return Err(CmdError::msg(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    ctx.int(i64::from(freq));
    Ok(())
}

/// Seconds since the key was last used (under the FIFO policies, since its
/// value was stored: reads do not move the clock there).
fn object_idletime(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let clock = ctx.lru_clock();
    let Some(access) = lookup_notouch(ctx, &args[2]).map(|e| e.access) else {
        ctx.null();
        return Ok(());
    };
    if is_lfu(eviction_settings(ctx).1) {
        return Err(CmdError::msg(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    let idle_ms =
        u64::from(crate::shard::evict::idle_ticks(clock, access)) * crate::shard::evict::TICK_MS;
    ctx.int((idle_ms / 1000) as i64);
    Ok(())
}

/// Shoal shares no values, but Redis answers INT_MAX for the small integers
/// it keeps shared (unless maxmemory with an LRU/LFU-like policy needs
/// per-key metadata), and clients and tests look at that, so it is mirrored.
fn object_refcount(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some(small_int) = lookup_notouch(ctx, &args[2])
        .map(|e| matches!(e.value, Value::Int(v) if (0..SHARED_INTEGERS).contains(&v)))
    else {
        ctx.null();
        return Ok(());
    };
    let (maxmemory, policy) = eviction_settings(ctx);
    let per_key_metadata = matches!(
        policy,
        EvictionPolicy::AllKeysLru
            | EvictionPolicy::VolatileLru
            | EvictionPolicy::AllKeysLfu
            | EvictionPolicy::VolatileLfu
            | EvictionPolicy::AllKeysMru
            | EvictionPolicy::VolatileMru
            | EvictionPolicy::AllKeysFifo
            | EvictionPolicy::VolatileFifo
    );
    let shared = small_int && (maxmemory == 0 || !per_key_metadata);
    ctx.int(if shared { SHARED_REFCOUNT } else { 1 });
    Ok(())
}

fn object_help(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    ctx.help(OBJECT_HELP);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_parsing_matches_strtoul() {
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b"+7"), Some(7));
        assert_eq!(parse_cursor(b"007"), Some(7));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"-18446744073709551615"), Some(1));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b"5\0junk"), Some(5));
        assert_eq!(parse_cursor(b"\0"), Some(0));
        for bad in [&b" 0"[..], b"\t1", b"0x", b"1 ", b"-", b"+", b"abc", b"1.5"] {
            assert_eq!(parse_cursor(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn argument_grammars_parse() {
        let specs = COMMANDS.iter().chain(crate::commands::expire::COMMANDS);
        for spec in specs.flat_map(|s| std::iter::once(s).chain(s.subcommands)) {
            let has_keys = !matches!(spec.keys, Keys::None);
            let parsed = crate::commands::docs::parse(spec.args, has_keys);
            assert!(parsed.is_ok(), "{}: {:?}", spec.name, parsed);
        }
    }

    #[test]
    fn shard_bits_cover_every_shard() {
        assert_eq!(shard_bits(1), 0);
        assert_eq!(shard_bits(2), 1);
        assert_eq!(shard_bits(3), 2);
        assert_eq!(shard_bits(4), 2);
        assert_eq!(shard_bits(5), 3);
        assert_eq!(shard_bits(64), 6);
        for n in 1..=64usize {
            assert!(n <= 1 << shard_bits(n));
        }
    }
}
