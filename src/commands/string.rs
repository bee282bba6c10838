//! String commands: GET, SET and its variants, counters, ranges, LCS.
//!
//! Redis 7.0 is the reference down to the order of its checks, because that
//! order decides which error a client sees when an argument is wrong in
//! several ways at once (SET's options are parsed before its expire time is
//! validated, which comes before the WRONGTYPE check of `GET`; GETEX looks the
//! key up before it validates the time; INCRBY parses the increment before it
//! looks at the key). Every SET-like command goes through [`set_generic`],
//! as every one in Redis goes through `setGenericCommand`.
//!
//! Encodings follow Redis so OBJECT ENCODING answers the same: whole values
//! (SET, MSET, GETSET, APPEND to a missing key) are stored with
//! [`Value::from_bytes`] (`int`, `embstr` or `raw`); a string modified in
//! place (APPEND, SETRANGE) becomes `raw`; counters are `int`; INCRBYFLOAT
//! stores its formatted result as a plain string, never as `int`.
//!
//! Option keywords are compared the way Redis compares them, as C strings:
//! an argument ends at its first NUL byte, so `NX\0junk` is `NX`.

use bytes::Bytes;
use shoal_protocol::encode;

use super::{arg_i64, flag, CmdError, CmdResult, CommandSpec, Ctx, KeySpecDoc, Keys};
use crate::config::KeyspaceEvents;
use crate::shard::db::{Entry, Value};
use crate::types::compact::CompactBytes;
use crate::util::num::{incr_by_float, parse_i64, FloatError};

const KEY1: Keys = Keys::Range {
    first: 1,
    last: 1,
    step: 1,
};

const STRING: &[&str] = &["string"];
/// Key-spec flags of the read-modify-write commands (INCR, GETSET, ...).
const RW_ACCESS_UPDATE: &[&str] = &["RW", "access", "update"];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "get",
        arity: 2,
        flags: flag::READONLY | flag::FAST,
        keys: KEY1,
        acl: STRING,
        group: "string",
        summary: "Get the value of a key",
        args: "key",
        handler: Some(get),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "set",
        arity: -3,
        flags: flag::WRITE | flag::DENYOOM,
        keys: KEY1,
        acl: STRING,
        group: "string",
        summary: "Set the string value of a key",
        args: "key value [NX | XX] [GET] [EX seconds | PX milliseconds | \
               EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]",
        handler: Some(set),
        key_specs: &[
            KeySpecDoc::one(1, &["RW", "access", "update", "variable_flags"])
                .notes("RW and ACCESS due to the optional `GET` argument"),
        ],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setnx",
        arity: 3,
        flags: flag::WRITE | flag::DENYOOM | flag::FAST,
        keys: KEY1,
        acl: STRING,
        group: "string",
        summary: "Set the value of a key, only if the key does not exist",
        args: "key value",
        handler: Some(setnx),
        key_flags: &["OW", "insert"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setex",
        arity: 4,
        flags: flag::WRITE | flag::DENYOOM,
        keys: KEY1,
        acl: STRING,
        group: "string",
        since: "2.0.0",
        summary: "Set the value and expiration of a key",
        args: "key seconds value",
        handler: Some(setex),
        key_flags: &["OW", "update"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "psetex",
        arity: 4,
        flags: flag::WRITE | flag::DENYOOM,
        keys: KEY1,
        acl: STRING,
        group: "string",
        since: "2.6.0",
        summary: "Set the value and expiration in milliseconds of a key",
        args: "key milliseconds value",
        handler: Some(psetex),
        key_flags: &["OW", "update"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getset",
        arity: 3,
        flags: flag::WRITE | flag::DENYOOM | flag::FAST,
        keys: KEY1,
        acl: STRING,
        group: "string",
        summary: "Set the string value of a key and return its old value",
        args: "key value",
        handler: Some(getset),
        key_flags: RW_ACCESS_UPDATE,
        deprecated_since: "6.2.0",
        replaced_by: "`SET` with the `!GET` argument",
        doc_flags: &["deprecated"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getdel",
        arity: 2,
        flags: flag::WRITE | flag::FAST,
        keys: KEY1,
        acl: STRING,
        group: "string",
        since: "6.2.0",
        summary: "Get the value of a key and delete the key",
        args: "key",
        handler: Some(getdel),
        key_flags: &["RW", "access", "delete"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getex",
        arity: -2,
        flags: flag::WRITE | flag::FAST,
        keys: KEY1,
        acl: STRING,
        group: "string",
        since: "6.2.0",
        summary: "Get the value of a key and optionally set its expiration",
        args: "key [EX seconds | PX milliseconds | EXAT unix-time-seconds | \
               PXAT unix-time-milliseconds | PERSIST]",
        handler: Some(getex),
        key_specs: &[
            KeySpecDoc::one(1, RW_ACCESS_UPDATE).notes("RW and UPDATE because it changes the TTL")
        ],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "mget",
        arity: -2,
        flags: flag::READONLY | flag::FAST,
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
        acl: STRING,
        group: "string",
        complexity: "O(N) where N is the number of keys to retrieve.",
        summary: "Get the values of all the given keys",
        args: "key [key ...]",
        handler: Some(mget),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "mset",
        arity: -3,
        flags: flag::WRITE | flag::DENYOOM,
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 2,
        },
        acl: STRING,
        group: "string",
        since: "1.0.1",
        complexity: "O(N) where N is the number of keys to set.",
        summary: "Set multiple keys to multiple values",
        args: "key value [key value ...]",
        handler: Some(mset),
        key_flags: &["OW", "update"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "msetnx",
        arity: -3,
        flags: flag::WRITE | flag::DENYOOM,
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 2,
        },
        acl: STRING,
        group: "string",
        since: "1.0.1",
        complexity: "O(N) where N is the number of keys to set.",
        summary: "Set multiple keys to multiple values, only if none of the keys exist",
        args: "key value [key value ...]",
        handler: Some(msetnx),
        key_flags: &["OW", "insert"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "append",
        arity: 3,
        flags: flag::WRITE | flag::DENYOOM | flag::FAST,
        keys: KEY1,
        acl: STRING,
        group: "string",
        since: "2.0.0",
        complexity: "O(1). The amortized time complexity is O(1) assuming the appended \
                     value is small and the already present value is of any size, since \
                     the dynamic string library used by Redis will double the free space \
                     available on every reallocation.",
        summary: "Append a value to a key",
        args: "key value",
        handler: Some(append),
        key_flags: &["RW", "insert"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "strlen",
        arity: 2,
        flags: flag::READONLY | flag::FAST,
        keys: KEY1,
        acl: STRING,
        group: "string",
        since: "2.2.0",
        summary: "Get the length of the value stored in a key",
        args: "key",
        handler: Some(strlen),
        key_flags: &["RO"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incr",
        arity: 2,
        flags: flag::WRITE | flag::DENYOOM | flag::FAST,
        keys: KEY1,
        acl: STRING,
        group: "string",
        summary: "Increment the integer value of a key by one",
        args: "key",
        handler: Some(incr),
        key_flags: RW_ACCESS_UPDATE,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "decr",
        arity: 2,
        flags: flag::WRITE | flag::DENYOOM | flag::FAST,
        keys: KEY1,
        acl: STRING,
        group: "string",
        summary: "Decrement the integer value of a key by one",
        args: "key",
        handler: Some(decr),
        key_flags: RW_ACCESS_UPDATE,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incrby",
        arity: 3,
        flags: flag::WRITE | flag::DENYOOM | flag::FAST,
        keys: KEY1,
        acl: STRING,
        group: "string",
        summary: "Increment the integer value of a key by the given amount",
        args: "key increment",
        handler: Some(incrby),
        key_flags: RW_ACCESS_UPDATE,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "decrby",
        arity: 3,
        flags: flag::WRITE | flag::DENYOOM | flag::FAST,
        keys: KEY1,
        acl: STRING,
        group: "string",
        summary: "Decrement the integer value of a key by the given number",
        args: "key decrement",
        handler: Some(decrby),
        key_flags: RW_ACCESS_UPDATE,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incrbyfloat",
        arity: 3,
        flags: flag::WRITE | flag::DENYOOM | flag::FAST,
        keys: KEY1,
        acl: STRING,
        group: "string",
        since: "2.6.0",
        summary: "Increment the float value of a key by the given amount",
        args: "key increment",
        handler: Some(incrbyfloat),
        key_flags: RW_ACCESS_UPDATE,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getrange",
        arity: 4,
        flags: flag::READONLY,
        keys: KEY1,
        acl: STRING,
        group: "string",
        since: "2.4.0",
        complexity: GETRANGE_COMPLEXITY,
        summary: "Get a substring of the string stored at a key",
        args: "key start end",
        handler: Some(getrange),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setrange",
        arity: 4,
        flags: flag::WRITE | flag::DENYOOM,
        keys: KEY1,
        acl: STRING,
        group: "string",
        since: "2.2.0",
        complexity: "O(1), not counting the time taken to copy the new string in place. \
                     Usually, this string is very small so the amortized complexity is \
                     O(1). Otherwise, complexity is O(M) with M being the length of the \
                     value argument.",
        summary: "Overwrite part of a string at key starting at the specified offset",
        args: "key offset value",
        handler: Some(setrange),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "substr",
        arity: 4,
        flags: flag::READONLY,
        keys: KEY1,
        acl: STRING,
        group: "string",
        complexity: GETRANGE_COMPLEXITY,
        summary: "Get a substring of the string stored at a key",
        args: "key start end",
        handler: Some(getrange),
        deprecated_since: "2.0.0",
        replaced_by: "`GETRANGE`",
        doc_flags: &["deprecated"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lcs",
        arity: -3,
        flags: flag::READONLY,
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
        acl: STRING,
        group: "string",
        since: "7.0.0",
        complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
        summary: "Find longest common substring",
        args: "key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]",
        handler: Some(lcs),
        ..CommandSpec::DEFAULT
    },
];

const GETRANGE_COMPLEXITY: &str = "O(N) where N is the length of the returned string. The \
     complexity is ultimately determined by the returned length, but because creating a \
     substring from an existing string is very cheap, it can be considered O(1) for small \
     strings.";

/// CONFIG refuses a proto-max-bulk-len below 1 MB, so a string that stays
/// within this size can never exceed the limit and the shared configuration
/// (a lock every shard thread reads) need not be consulted for it.
const MIN_PROTO_MAX_BULK_LEN: u64 = 1024 * 1024;

const STRING_EVENTS: u32 = KeyspaceEvents::STRING;
const GENERIC_EVENTS: u32 = KeyspaceEvents::GENERIC;

fn too_big() -> CmdError {
    CmdError::msg("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
}

/// The configured proto-max-bulk-len: the largest string value and the
/// largest transient LCS table.
fn proto_max_bulk_len(server: &crate::server::Server) -> u64 {
    match server.config.read() {
        Ok(c) => c.proto_max_bulk_len,
        Err(poisoned) => poisoned.into_inner().proto_max_bulk_len,
    }
}

/// Redis's `checkStringLength`: refuses a string of `len + extra` bytes when
/// that exceeds proto-max-bulk-len.
fn check_string_len(server: &crate::server::Server, len: u64, extra: u64) -> CmdResult {
    let total = len.saturating_add(extra);
    if total > MIN_PROTO_MAX_BULK_LEN && total > proto_max_bulk_len(server) {
        return Err(too_big());
    }
    Ok(())
}

/// An option keyword as Redis sees it: a C string ending at the first NUL.
fn c_str(arg: &[u8]) -> &[u8] {
    match arg.iter().position(|&b| b == 0) {
        Some(nul) => &arg[..nul],
        None => arg,
    }
}

fn is_kw(arg: &[u8], kw: &str) -> bool {
    c_str(arg).eq_ignore_ascii_case(kw.as_bytes())
}

/// The length of a string value without formatting it.
fn string_len(v: &Value) -> Option<usize> {
    let mut digits = itoa::Buffer::new();
    v.as_bytes(&mut digits).map(<[u8]>::len)
}

/// Moves a string value's bytes out of `v` for in-place modification
/// (APPEND, SETRANGE), with room reserved for `extra` more bytes; a heap
/// string gives up its buffer without a copy. On any error (another type,
/// no memory for the room) `v` is left as it was.
fn take_string(v: &mut Value, extra: usize) -> Result<Vec<u8>, CmdError> {
    match v {
        Value::Int(i) => {
            let mut digits = itoa::Buffer::new();
            let text = digits.format(*i).as_bytes();
            let mut data = alloc_bytes(text.len() + extra)?;
            data.extend_from_slice(text);
            Ok(data)
        }
        Value::Str(data) => {
            let mut bytes = std::mem::take(data).into_vec();
            if bytes.try_reserve_exact(extra).is_err() {
                *data = CompactBytes::from_vec(bytes);
                return Err(out_of_memory());
            }
            Ok(bytes)
        }
        #[allow(unreachable_patterns)]
        _ => Err(CmdError::WrongType),
    }
}

/// An empty buffer with room for `len` bytes. Sizes are bounded by
/// proto-max-bulk-len, which CONFIG lets go very high, so a failed
/// allocation is an error reply rather than an abort of the process.
fn alloc_bytes(len: usize) -> Result<Vec<u8>, CmdError> {
    let mut data = Vec::new();
    data.try_reserve_exact(len).map_err(|_| out_of_memory())?;
    Ok(data)
}

fn out_of_memory() -> CmdError {
    CmdError::msg("ERR Insufficient memory, failed allocating the string")
}

/// A string value that takes over `data` without a copy. Never `int`: an
/// INCRBYFLOAT result is `embstr` (or `raw` when long) in Redis, and an
/// APPEND/SETRANGE result is marked `raw` on its entry by the caller.
fn owned_string(data: Vec<u8>) -> Value {
    Value::Str(CompactBytes::from_vec(data))
}

/// Replaces whatever `key` holds with `entry`. An old entry whose TTL had
/// passed counts as expired, as the lookup Redis makes before every write
/// would have counted it. Returns the old live entry.
fn overwrite(ctx: &mut Ctx, key: &[u8], entry: Entry) -> Option<Entry> {
    let now = ctx.now_ms;
    let db = ctx.db(key);
    let old = db.insert(key, entry)?;
    if old.expire_at != 0 && old.expire_at <= now {
        db.expired += 1;
        return None;
    }
    Some(old)
}

/// Replies with a string value, or refuses another type.
fn reply_string(out: &mut Vec<u8>, v: &Value) -> CmdResult {
    let mut digits = itoa::Buffer::new();
    let bytes = v.as_bytes(&mut digits).ok_or(CmdError::WrongType)?;
    encode::bulk(out, bytes);
    Ok(())
}

/// Redis's `getGenericCommand`: the value of `key` as a bulk reply (null
/// when missing), counted as a read.
fn get_generic(ctx: &mut Ctx, key: &[u8]) -> CmdResult {
    let resp3 = ctx.resp3;
    match ctx.read_with_out(key) {
        (Some(e), out) => reply_string(out, &e.value),
        (None, out) => {
            encode::null(out, resp3);
            Ok(())
        }
    }
}

fn get(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    get_generic(ctx, &args[1])
}

/// How an expire argument is to be read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpireUnit {
    /// EX: seconds from now.
    Seconds,
    /// PX: milliseconds from now.
    Millis,
    /// EXAT: a Unix time in seconds.
    UnixSeconds,
    /// PXAT: a Unix time in milliseconds.
    UnixMillis,
}

impl ExpireUnit {
    fn from_keyword(arg: &[u8]) -> Option<ExpireUnit> {
        let kw = c_str(arg);
        Some(if kw.eq_ignore_ascii_case(b"EX") {
            ExpireUnit::Seconds
        } else if kw.eq_ignore_ascii_case(b"PX") {
            ExpireUnit::Millis
        } else if kw.eq_ignore_ascii_case(b"EXAT") {
            ExpireUnit::UnixSeconds
        } else if kw.eq_ignore_ascii_case(b"PXAT") {
            ExpireUnit::UnixMillis
        } else {
            return None;
        })
    }
}

/// SET's and GETEX's options (Redis's `parseExtendedStringArgumentsOrReply`).
#[derive(Default)]
struct StringOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    expire: Option<(ExpireUnit, &'a [u8])>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum OptionsOf {
    Set,
    GetEx,
}

impl<'a> StringOptions<'a> {
    /// Parses `args` (the options only). Conflicting options (NX with XX, two
    /// different expire forms, KEEPTTL or PERSIST with an expire) are a syntax
    /// error; repeating the same option is not, and the last time given wins.
    fn parse(args: &'a [Bytes], of: OptionsOf) -> Result<StringOptions<'a>, CmdError> {
        let set = of == OptionsOf::Set;
        let mut o = StringOptions::default();
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i][..];
            if set && is_kw(arg, "NX") && !o.xx {
                o.nx = true;
            } else if set && is_kw(arg, "XX") && !o.nx {
                o.xx = true;
            } else if set && is_kw(arg, "GET") {
                o.get = true;
            } else if set && is_kw(arg, "KEEPTTL") && o.expire.is_none() {
                o.keep_ttl = true;
            } else if !set && is_kw(arg, "PERSIST") && o.expire.is_none() {
                o.persist = true;
            } else {
                let unit = ExpireUnit::from_keyword(arg).ok_or(CmdError::Syntax)?;
                let compatible =
                    !o.keep_ttl && !o.persist && o.expire.is_none_or(|(given, _)| given == unit);
                match args.get(i + 1) {
                    Some(time) if compatible => o.expire = Some((unit, &time[..])),
                    _ => return Err(CmdError::Syntax),
                }
                i += 1;
            }
            i += 1;
        }
        Ok(o)
    }
}

/// The absolute expiry (Unix ms) an expire argument names, with Redis's
/// `getExpireMillisecondsOrReply` checks: the number must be positive and
/// neither the conversion to milliseconds nor the addition of the current
/// time may overflow. A Unix time in the past is accepted.
fn expire_at(ctx: &Ctx, unit: ExpireUnit, arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = || {
        CmdError::msg(format!(
            "ERR invalid expire time in '{}' command",
            ctx.spec.name
        ))
    };
    let n = arg_i64(arg)?;
    let in_seconds = matches!(unit, ExpireUnit::Seconds | ExpireUnit::UnixSeconds);
    if n <= 0 || (in_seconds && n > i64::MAX / 1000) {
        return Err(invalid());
    }
    let ms = if in_seconds { n * 1000 } else { n };
    let at = match unit {
        ExpireUnit::Seconds | ExpireUnit::Millis => i64::try_from(ctx.now_ms)
            .ok()
            .and_then(|now| ms.checked_add(now))
            .ok_or_else(invalid)?,
        ExpireUnit::UnixSeconds | ExpireUnit::UnixMillis => ms,
    };
    Ok(at as u64)
}

/// What a SET-like command replies when it stores the value and when its
/// NX/XX condition stops it (unless GET asked for the old value instead).
#[derive(Clone, Copy)]
enum SetReplies {
    /// SET: `+OK` or a null.
    OkOrNull,
    /// SETNX: `:1` or `:0`.
    OneOrZero,
}

/// The one implementation behind SET, SETNX, SETEX and PSETEX (Redis's
/// `setGenericCommand`): validates the expire time, answers GET's old value,
/// applies NX/XX, stores the value, and sets or clears the TTL.
fn set_generic(
    ctx: &mut Ctx,
    key: &[u8],
    value: &[u8],
    opts: &StringOptions,
    replies: SetReplies,
) -> CmdResult {
    let expire = match opts.expire {
        Some((unit, arg)) => expire_at(ctx, unit, arg)?,
        None => 0,
    };
    // The plain form overwrites blindly: one hash lookup instead of two.
    let conditional = opts.nx || opts.xx || opts.get || opts.keep_ttl;
    let (found, old_expire) = if !conditional {
        (false, 0)
    } else if opts.get {
        // GET's reply is the value before the write, written first as Redis
        // does; whatever follows (NX/XX blocking or the write) adds nothing.
        let resp3 = ctx.resp3;
        match ctx.read_with_out(key) {
            (Some(e), out) => {
                reply_string(out, &e.value)?;
                (true, e.expire_at)
            }
            (None, out) => {
                encode::null(out, resp3);
                (false, 0)
            }
        }
    } else {
        match ctx.write(key) {
            Some(e) => (true, e.expire_at),
            None => (false, 0),
        }
    };
    if (opts.nx && found) || (opts.xx && !found) {
        if opts.get {
            return Ok(());
        }
        match replies {
            SetReplies::OkOrNull => ctx.null(),
            SetReplies::OneOrZero => ctx.int(0),
        }
        return Ok(());
    }
    let mut entry = ctx.entry(Value::from_bytes(value));
    entry.expire_at = if opts.keep_ttl { old_expire } else { expire };
    overwrite(ctx, key, entry);
    ctx.notify(STRING_EVENTS, "set", key);
    if expire != 0 {
        ctx.notify(GENERIC_EVENTS, "expire", key);
    }
    if opts.get {
        return Ok(());
    }
    match replies {
        SetReplies::OkOrNull => ctx.ok(),
        SetReplies::OneOrZero => ctx.int(1),
    }
    Ok(())
}

fn set(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let opts = StringOptions::parse(&args[3..], OptionsOf::Set)?;
    set_generic(ctx, &args[1], &args[2], &opts, SetReplies::OkOrNull)
}

fn setnx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let opts = StringOptions {
        nx: true,
        ..StringOptions::default()
    };
    set_generic(ctx, &args[1], &args[2], &opts, SetReplies::OneOrZero)
}

fn setex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let opts = StringOptions {
        expire: Some((ExpireUnit::Seconds, &args[2][..])),
        ..StringOptions::default()
    };
    set_generic(ctx, &args[1], &args[3], &opts, SetReplies::OkOrNull)
}

fn psetex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let opts = StringOptions {
        expire: Some((ExpireUnit::Millis, &args[2][..])),
        ..StringOptions::default()
    };
    set_generic(ctx, &args[1], &args[3], &opts, SetReplies::OkOrNull)
}

/// GETSET: the old value (null if none), then a plain SET (the TTL goes).
fn getset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let key = &args[1][..];
    if ctx.read(key).is_some_and(|e| !e.value.is_string()) {
        return Err(CmdError::WrongType);
    }
    let entry = ctx.entry(Value::from_bytes(&args[2]));
    let old = overwrite(ctx, key, entry);
    ctx.notify(STRING_EVENTS, "set", key);
    match old {
        Some(old) => reply_string(ctx.out, &old.value),
        None => {
            ctx.null();
            Ok(())
        }
    }
}

fn getdel(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let key = &args[1][..];
    match ctx.read(key) {
        None => {
            ctx.null();
            return Ok(());
        }
        Some(e) if !e.value.is_string() => return Err(CmdError::WrongType),
        Some(_) => {}
    }
    let old = ctx.db(key).remove(key);
    ctx.notify(GENERIC_EVENTS, "del", key);
    match old {
        Some(old) => reply_string(ctx.out, &old.value),
        None => {
            ctx.null();
            Ok(())
        }
    }
}

/// GETEX: the value, then the TTL changed as asked. A missing key answers
/// null whatever the options' values; an EXAT/PXAT already in the past
/// deletes the key after replying with its value.
fn getex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let opts = StringOptions::parse(&args[2..], OptionsOf::GetEx)?;
    let key = &args[1][..];
    // Redis validates the time only once the key is known to be a string, so
    // a bad time on a missing key is not an error; keep the verdict for later.
    let expire = opts
        .expire
        .map(|(unit, arg)| (unit, expire_at(ctx, unit, arg)));
    let resp3 = ctx.resp3;
    let had_ttl = match ctx.read_with_out(key) {
        (None, out) => {
            encode::null(out, resp3);
            return Ok(());
        }
        (Some(e), out) => {
            if !e.value.is_string() {
                return Err(CmdError::WrongType);
            }
            if let Some((_, Err(invalid))) = expire {
                return Err(invalid);
            }
            reply_string(out, &e.value)?;
            e.expire_at != 0
        }
    };
    let now = ctx.now_ms;
    let db = ctx.db(key);
    match expire {
        Some((ExpireUnit::UnixSeconds | ExpireUnit::UnixMillis, Ok(at))) if at <= now => {
            db.remove(key);
            db.notify_event(GENERIC_EVENTS, "del", key);
        }
        Some((_, Ok(at))) => {
            db.set_expire(key, at);
            db.notify_event(GENERIC_EVENTS, "expire", key);
        }
        Some((_, Err(_))) => {}
        None if opts.persist && had_ttl => {
            db.set_expire(key, 0);
            db.notify_event(GENERIC_EVENTS, "persist", key);
        }
        None => {}
    }
    Ok(())
}

fn mget(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let resp3 = ctx.resp3;
    ctx.array(args.len() - 1);
    let mut digits = itoa::Buffer::new();
    for key in &args[1..] {
        let (entry, out) = ctx.read_with_out(key);
        match entry.and_then(|e| e.value.as_bytes(&mut digits)) {
            Some(bytes) => encode::bulk(out, bytes),
            // A missing key and a value of another type both read as null.
            None => encode::null(out, resp3),
        }
    }
    Ok(())
}

fn mset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity(ctx.spec.name));
    }
    for pair in args[1..].chunks_exact(2) {
        let entry = ctx.entry(Value::from_bytes(&pair[1]));
        overwrite(ctx, &pair[0], entry);
        ctx.notify(STRING_EVENTS, "set", &pair[0]);
    }
    ctx.ok();
    Ok(())
}

/// MSETNX: all or nothing. The keys may live on several shards; the
/// dispatcher holds all of them, so no other client sees a partial write.
fn msetnx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity(ctx.spec.name));
    }
    for pair in args[1..].chunks_exact(2) {
        if ctx.write(&pair[0]).is_some() {
            ctx.int(0);
            return Ok(());
        }
    }
    for pair in args[1..].chunks_exact(2) {
        let entry = ctx.entry(Value::from_bytes(&pair[1]));
        overwrite(ctx, &pair[0], entry);
        ctx.notify(STRING_EVENTS, "set", &pair[0]);
    }
    ctx.int(1);
    Ok(())
}

/// APPEND: a missing key is created as SET would create it; an existing
/// string grows in place and becomes `raw`, even when nothing is appended.
fn append(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (key, tail) = (&args[1][..], &args[2][..]);
    let server = ctx.server;
    let len = match ctx.write(key) {
        None => {
            let entry = ctx.entry(Value::from_bytes(tail));
            ctx.db(key).insert(key, entry);
            tail.len()
        }
        Some(e) => {
            let old_len = string_len(&e.value).ok_or(CmdError::WrongType)?;
            check_string_len(server, old_len as u64, tail.len() as u64)?;
            // Exact room, so boxing the result keeps this very buffer.
            let mut data = take_string(&mut e.value, tail.len())?;
            data.extend_from_slice(tail);
            let len = data.len();
            e.set_raw_value(owned_string(data));
            len
        }
    };
    ctx.notify(STRING_EVENTS, "append", key);
    ctx.int(len as i64);
    Ok(())
}

fn strlen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let len = match ctx.read(&args[1]) {
        None => 0,
        Some(e) => string_len(&e.value).ok_or(CmdError::WrongType)?,
    };
    ctx.int(len as i64);
    Ok(())
}

/// Redis's `incrDecrCommand`: adds `by` to the integer at `key` (0 when
/// missing), keeping its TTL, and stores the result as `int`.
fn incr_decr(ctx: &mut Ctx, key: &[u8], by: i64) -> CmdResult {
    let value = match ctx.write(key) {
        None => {
            let entry = ctx.entry(Value::Int(by));
            ctx.db(key).insert(key, entry);
            by
        }
        Some(e) => {
            let current = match &e.value {
                Value::Int(v) => *v,
                v => {
                    let mut digits = itoa::Buffer::new();
                    let bytes = v.as_bytes(&mut digits).ok_or(CmdError::WrongType)?;
                    parse_i64(bytes).ok_or(CmdError::NotInteger)?
                }
            };
            let value = current.checked_add(by).ok_or(CmdError::Overflow)?;
            e.set_value(Value::Int(value));
            value
        }
    };
    ctx.notify(STRING_EVENTS, "incrby", key);
    ctx.int(value);
    Ok(())
}

fn incr(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    incr_decr(ctx, &args[1], 1)
}

fn decr(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    incr_decr(ctx, &args[1], -1)
}

fn incrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let by = arg_i64(&args[2])?;
    incr_decr(ctx, &args[1], by)
}

fn decrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let by = arg_i64(&args[2])?;
    let negated = by
        .checked_neg()
        .ok_or_else(|| CmdError::msg("ERR decrement would overflow"))?;
    incr_decr(ctx, &args[1], negated)
}

/// INCRBYFLOAT: exact long double arithmetic (see `util::num`), the result
/// stored as the string it replies with, the TTL kept.
fn incrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (key, increment) = (&args[1][..], &args[2][..]);
    let float_err = |e: FloatError| match e {
        FloatError::NotAFloat => CmdError::NotFloat,
        FloatError::NanOrInfinity => CmdError::msg("ERR increment would produce NaN or Infinity"),
    };
    let result = match ctx.write(key) {
        None => {
            let result = incr_by_float(b"0", increment).map_err(float_err)?;
            let entry = ctx.entry(owned_string(result.clone()));
            ctx.db(key).insert(key, entry);
            result
        }
        Some(e) => {
            let mut digits = itoa::Buffer::new();
            let current = e.value.as_bytes(&mut digits).ok_or(CmdError::WrongType)?;
            let result = incr_by_float(current, increment).map_err(float_err)?;
            e.set_value(owned_string(result.clone()));
            result
        }
    };
    ctx.notify(STRING_EVENTS, "incrbyfloat", key);
    ctx.bulk(&result);
    Ok(())
}

/// The byte range GETRANGE returns for a string of `len` bytes, with Redis's
/// clamping of negative and out-of-range indexes; `None` for an empty reply.
fn byte_range(len: usize, start: i64, end: i64) -> Option<std::ops::Range<usize>> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let len = len as i64;
    let from_end = |i: i64| if i < 0 { (len + i).max(0) } else { i };
    let start = from_end(start);
    let end = from_end(end).min(len - 1);
    if len == 0 || start > end {
        return None;
    }
    Some(start as usize..end as usize + 1)
}

/// GETRANGE and its older name SUBSTR.
fn getrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let start = arg_i64(&args[2])?;
    let end = arg_i64(&args[3])?;
    let (entry, out) = ctx.read_with_out(&args[1]);
    let Some(e) = entry else {
        encode::bulk(out, b"");
        return Ok(());
    };
    let mut digits = itoa::Buffer::new();
    let bytes = e.value.as_bytes(&mut digits).ok_or(CmdError::WrongType)?;
    match byte_range(bytes.len(), start, end) {
        Some(range) => encode::bulk(out, &bytes[range]),
        None => encode::bulk(out, b""),
    }
    Ok(())
}

/// SETRANGE: overwrites from `offset`, zero-padding a shorter string. An
/// empty value changes nothing (and creates nothing) and replies the length.
fn setrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let key = &args[1][..];
    let offset = arg_i64(&args[2])?;
    let patch = &args[3][..];
    let Ok(offset) = u64::try_from(offset) else {
        return Err(CmdError::msg("ERR offset is out of range"));
    };
    let server = ctx.server;
    let len = match ctx.write(key) {
        None => {
            if patch.is_empty() {
                ctx.int(0);
                return Ok(());
            }
            check_string_len(server, offset, patch.len() as u64)?;
            let mut data = alloc_bytes(offset as usize + patch.len())?;
            data.resize(offset as usize, 0);
            data.extend_from_slice(patch);
            let len = data.len();
            let mut entry = ctx.entry(owned_string(data));
            entry.raw = true;
            ctx.db(key).insert(key, entry);
            len
        }
        Some(e) => {
            let old_len = string_len(&e.value).ok_or(CmdError::WrongType)?;
            if patch.is_empty() {
                ctx.int(old_len as i64);
                return Ok(());
            }
            check_string_len(server, offset, patch.len() as u64)?;
            let offset = offset as usize;
            let needed = offset + patch.len();
            let mut data = take_string(&mut e.value, needed.saturating_sub(old_len))?;
            if needed > data.len() {
                data.resize(needed, 0);
            }
            data[offset..needed].copy_from_slice(patch);
            let len = data.len();
            e.set_raw_value(owned_string(data));
            len
        }
    };
    ctx.notify(STRING_EVENTS, "setrange", key);
    ctx.int(len as i64);
    Ok(())
}

/// One LCS match: the ranges in each string, inclusive, and its length.
struct LcsMatch {
    a: (u32, u32),
    b: (u32, u32),
    len: u32,
}

/// LCS: the longest common subsequence of two strings by the textbook
/// dynamic programme, with Redis's table-size limit and its exact walk back
/// through the table, so ties resolve and matches are listed as Redis's are.
fn lcs(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut strings: [Option<Vec<u8>>; 2] = [None, None];
    let mut wrong_type = false;
    for (slot, key) in strings.iter_mut().zip(&args[1..3]) {
        if let Some(e) = ctx.read(key) {
            let mut digits = itoa::Buffer::new();
            match e.value.as_bytes(&mut digits) {
                Some(bytes) => *slot = Some(bytes.to_vec()),
                None => wrong_type = true,
            }
        }
    }
    if wrong_type {
        return Err(CmdError::msg(
            "ERR The specified keys must contain string values",
        ));
    }
    let [a, b] = strings.map(Option::unwrap_or_default);

    let (mut want_idx, mut want_len, mut with_match_len) = (false, false, false);
    let mut min_match_len: i64 = 0;
    let mut i = 3;
    while i < args.len() {
        let arg = &args[i][..];
        if is_kw(arg, "IDX") {
            want_idx = true;
        } else if is_kw(arg, "LEN") {
            want_len = true;
        } else if is_kw(arg, "WITHMATCHLEN") {
            with_match_len = true;
        } else if is_kw(arg, "MINMATCHLEN") && i + 1 < args.len() {
            min_match_len = arg_i64(&args[i + 1])?.max(0);
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if want_idx && want_len {
        return Err(CmdError::msg(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(CmdError::msg("ERR String too long for LCS"));
    }

    let (alen, blen) = (a.len(), b.len());
    let width = blen + 1;
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    let table_bytes = cells.saturating_mul(4);
    if table_bytes > MIN_PROTO_MAX_BULK_LEN && table_bytes > proto_max_bulk_len(ctx.server) {
        return Err(CmdError::msg(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let failed_alloc =
        || CmdError::msg("ERR Insufficient memory, failed allocating transient memory for LCS");
    let cells = usize::try_from(cells).map_err(|_| failed_alloc())?;
    let mut table: Vec<u32> = Vec::new();
    table.try_reserve_exact(cells).map_err(|_| failed_alloc())?;
    table.resize(cells, 0);
    // table[i * width + j] = LCS length of a[..i] and b[..j]; row and
    // column 0 stay zero.
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    let total = table[alen * width + blen];

    if want_len {
        ctx.int(i64::from(total));
        return Ok(());
    }

    // Walk back from the end, collecting the common bytes (backwards) and
    // the contiguous runs of matches.
    let mut common = vec![0u8; total as usize];
    let mut fill = total as usize;
    let mut matches: Vec<LcsMatch> = Vec::new();
    let mut run: Option<LcsMatch> = None;
    let (mut i, mut j) = (alen, blen);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            fill -= 1;
            common[fill] = a[i - 1];
            let (ai, bj) = ((i - 1) as u32, (j - 1) as u32);
            match &mut run {
                None => {
                    run = Some(LcsMatch {
                        a: (ai, ai),
                        b: (bj, bj),
                        len: 0,
                    })
                }
                // Extends the run backwards only when both sides are contiguous.
                Some(r) if r.a.0 == ai + 1 && r.b.0 == bj + 1 => {
                    r.a.0 = ai;
                    r.b.0 = bj;
                }
                Some(_) => emit = true,
            }
            if let Some(r) = &run {
                if r.a.0 == 0 || r.b.0 == 0 {
                    emit = true;
                }
            }
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * width + j] > table[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if run.is_some() {
                emit = true;
            }
        }
        if emit {
            if let Some(mut r) = run.take() {
                r.len = r.a.1 - r.a.0 + 1;
                if min_match_len == 0 || i64::from(r.len) >= min_match_len {
                    matches.push(r);
                }
            }
        }
    }

    if !want_idx {
        ctx.bulk(&common);
        return Ok(());
    }
    ctx.map(2);
    ctx.bulk(b"matches");
    ctx.array(matches.len());
    for m in &matches {
        ctx.array(if with_match_len { 3 } else { 2 });
        ctx.array(2);
        ctx.int(i64::from(m.a.0));
        ctx.int(i64::from(m.a.1));
        ctx.array(2);
        ctx.int(i64::from(m.b.0));
        ctx.int(i64::from(m.b.1));
        if with_match_len {
            ctx.int(i64::from(m.len));
        }
    }
    ctx.bulk(b"len");
    ctx.int(i64::from(total));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_range_clamps_as_redis() {
        let r = |s, e| byte_range(5, s, e);
        assert_eq!(r(0, -1), Some(0..5));
        assert_eq!(r(-1, -5), None);
        assert_eq!(r(0, -100), Some(0..1));
        assert_eq!(r(-100, -99), Some(0..1));
        assert_eq!(r(-100, 100), Some(0..5));
        assert_eq!(r(3, 2), None);
        assert_eq!(r(5, 10), None);
        assert_eq!(r(4, 10), Some(4..5));
        assert_eq!(r(i64::MIN, i64::MAX), Some(0..5));
        assert_eq!(r(i64::MAX, i64::MIN), None);
        assert_eq!(byte_range(0, 0, -1), None);
        assert_eq!(byte_range(0, -1, 0), None);
    }

    #[test]
    fn options_stop_at_nul_like_c_strings() {
        assert!(is_kw(b"nx\0junk", "NX"));
        assert!(!is_kw(b"", "NX"));
        assert!(!is_kw(b"\0NX", "NX"));
        assert!(!is_kw(b"NXX", "NX"));
    }
}
