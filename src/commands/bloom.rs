//! The bloom filter family, RedisBloom compatible: BF.RESERVE BF.ADD BF.MADD
//! BF.INSERT BF.EXISTS BF.MEXISTS BF.INFO BF.CARD BF.SCANDUMP BF.LOADCHUNK
//! BF.DEBUG. The filter itself is types/bloom.rs.
//!
//! Replies and error texts are RedisBloom 2.6's (the module Redis Stack 7.x
//! ships), quirks included, because client code written against it checks
//! them: several errors carry no `ERR` prefix ("Bad capacity",
//! "Nonscaling filters cannot expand"), BF.SCANDUMP and BF.LOADCHUNK spell
//! "Second argument must be numeric" differently, BF.EXISTS answers 0
//! rather than WRONGTYPE for a key of another type, BF.INSERT recognises
//! its options by their first letters, and a multi-item add that runs into
//! a full NONSCALING filter answers with the results so far and the error
//! as the last element of the array. RESP3 gets booleans for adds and
//! checks and a map from BF.INFO, as RedisBloom 2.6 sends them.
//!
//! Two deliberate differences: BF.RESERVE looks for NONSCALING and
//! EXPANSION only among the options (RedisBloom scans every argument, so a
//! key named "nonscaling" made a non-scaling filter), and expansions above
//! 2^32 - 1 are refused instead of silently truncated.

use bytes::Bytes;
use shoal_protocol::encode;

use super::{eq_ic, flag, CmdError, CmdResult, CommandSpec, Ctx, Keys};
use crate::shard::db::Value;
use crate::types::bloom::{
    AddError, BloomFilter, DEFAULT_CAPACITY, DEFAULT_ERROR_RATE, DEFAULT_EXPANSION,
};
use crate::util::num::{parse_f64, parse_i64};

const KEY1: Keys = Keys::Range {
    first: 1,
    last: 1,
    step: 1,
};
const BLOOM: &[&str] = &["bloom"];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "bf.reserve",
        arity: -4,
        flags: flag::WRITE | flag::DENYOOM,
        keys: KEY1,
        acl: BLOOM,
        group: "module",
        summary: "Creates a new Bloom Filter",
        args: "key error_rate capacity [EXPANSION expansion] [NONSCALING]",
        handler: Some(bf_reserve),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bf.add",
        arity: 3,
        flags: flag::WRITE | flag::DENYOOM,
        keys: KEY1,
        acl: BLOOM,
        group: "module",
        complexity: "O(k), where k is the number of hash functions used by the last sub-filter",
        summary: "Adds an item to a Bloom Filter",
        args: "key item",
        handler: Some(bf_add),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bf.madd",
        arity: -3,
        flags: flag::WRITE | flag::DENYOOM,
        keys: KEY1,
        acl: BLOOM,
        group: "module",
        complexity: "O(k * n), where k is the number of hash functions and n is the number of items",
        summary: "Adds one or more items to a Bloom Filter. A filter will be created if it does not exist",
        args: "key item [item ...]",
        handler: Some(bf_madd),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bf.insert",
        arity: -4,
        flags: flag::WRITE | flag::DENYOOM,
        keys: KEY1,
        acl: BLOOM,
        group: "module",
        complexity: "O(k * n), where k is the number of hash functions and n is the number of items",
        summary: "Adds one or more items to a Bloom Filter. A filter will be created if it does not exist",
        args: "key [CAPACITY capacity] [ERROR error] [EXPANSION expansion] [NOCREATE] [NONSCALING] ITEMS item [item ...]",
        handler: Some(bf_insert),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bf.exists",
        arity: 3,
        flags: flag::READONLY | flag::FAST,
        keys: KEY1,
        acl: BLOOM,
        group: "module",
        complexity: "O(k), where k is the number of hash functions used by the last sub-filter",
        summary: "Checks whether an item exists in a Bloom Filter",
        args: "key item",
        handler: Some(bf_exists),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bf.mexists",
        arity: -3,
        flags: flag::READONLY | flag::FAST,
        keys: KEY1,
        acl: BLOOM,
        group: "module",
        complexity: "O(k * n), where k is the number of hash functions and n is the number of items",
        summary: "Checks whether one or more items exist in a Bloom Filter",
        args: "key item [item ...]",
        handler: Some(bf_mexists),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bf.info",
        arity: -2,
        flags: flag::READONLY | flag::FAST,
        keys: KEY1,
        acl: BLOOM,
        group: "module",
        summary: "Returns information about a Bloom Filter",
        args: "key [CAPACITY | SIZE | FILTERS | ITEMS | EXPANSION]",
        handler: Some(bf_info),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bf.card",
        arity: 2,
        flags: flag::READONLY | flag::FAST,
        keys: KEY1,
        acl: BLOOM,
        group: "module",
        since: "2.4.4",
        summary: "Returns the cardinality of a Bloom filter",
        args: "key",
        handler: Some(bf_card),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bf.scandump",
        arity: 3,
        flags: flag::READONLY | flag::FAST,
        keys: KEY1,
        acl: BLOOM,
        group: "module",
        complexity: "O(n), where n is the capacity",
        summary: "Begins an incremental save of the bloom filter",
        args: "key iterator",
        handler: Some(bf_scandump),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bf.loadchunk",
        arity: 4,
        flags: flag::WRITE | flag::DENYOOM,
        keys: KEY1,
        acl: BLOOM,
        group: "module",
        complexity: "O(n), where n is the capacity",
        summary: "Restores a filter previously saved using SCANDUMP",
        args: "key iterator data",
        handler: Some(bf_loadchunk),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bf.debug",
        arity: 2,
        flags: flag::READONLY | flag::FAST,
        keys: KEY1,
        acl: BLOOM,
        group: "module",
        complexity: "O(n), where n is the number of sub-filters",
        summary: "Returns the size and shape of every sub-filter of a Bloom filter",
        args: "key",
        handler: Some(bf_debug),
        ..CommandSpec::DEFAULT
    },
];

/// The largest chunk BF.SCANDUMP returns (RedisBloom's MAX_SCANDUMP_SIZE).
const MAX_SCANDUMP_CHUNK: usize = 16 << 20;

const NOT_FOUND: &str = "ERR not found";
const FULL: &str = "ERR non scaling filter is full";
const CANNOT_GROW: &str = "ERR problem inserting into filter";
const CANNOT_CREATE: &str = "ERR could not create filter";

fn err(text: &'static str) -> CmdError {
    CmdError::msg(text)
}

fn add_error_text(e: AddError) -> &'static str {
    match e {
        AddError::Full => FULL,
        AddError::CannotGrow => CANNOT_GROW,
    }
}

/// How BF.ADD, BF.MADD and BF.INSERT create a missing filter.
struct CreateOptions {
    capacity: u64,
    error_rate: f64,
    expansion: u32,
    scaling: bool,
    create: bool,
}

const DEFAULTS: CreateOptions = CreateOptions {
    capacity: DEFAULT_CAPACITY,
    error_rate: DEFAULT_ERROR_RATE,
    expansion: DEFAULT_EXPANSION,
    scaling: true,
    create: true,
};

/// Runs `f` on the filter at `key` (looked up as a write), creating it as
/// `opts` says when it is missing. The filter is stored even if `f`'s adds
/// fail, as RedisBloom creates the key before adding.
fn with_filter<T>(
    ctx: &mut Ctx,
    key: &[u8],
    opts: &CreateOptions,
    f: impl FnOnce(&mut BloomFilter) -> T,
) -> Result<T, CmdError> {
    match ctx.write(key) {
        Some(e) => match &mut e.value {
            Value::Bloom(filter) => return Ok(f(filter)),
            _ => return Err(CmdError::WrongType),
        },
        None if !opts.create => return Err(err(NOT_FOUND)),
        None => {}
    }
    let mut filter = BloomFilter::new(opts.capacity, opts.error_rate, opts.expansion, opts.scaling)
        .map_err(|_| err(CANNOT_CREATE))?;
    let out = f(&mut filter);
    let entry = ctx.entry(Value::Bloom(Box::new(filter)));
    ctx.db(key).insert(key, entry);
    Ok(out)
}

/// Adds `items` in order; stops after a full NONSCALING filter refuses one
/// (RedisBloom goes on past the other error, a link it could not allocate).
fn add_items(filter: &mut BloomFilter, items: &[Bytes]) -> Vec<Result<bool, AddError>> {
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let r = filter.add(item);
        results.push(r);
        if r == Err(AddError::Full) {
            break;
        }
    }
    results
}

/// The array reply of a multi-item add: booleans (integers in RESP2), an
/// error element where an item could not be added.
fn reply_adds(ctx: &mut Ctx, results: &[Result<bool, AddError>]) {
    ctx.array(results.len());
    for r in results {
        match r {
            Ok(added) => ctx.boolean(*added),
            Err(e) => encode::error(ctx.out, add_error_text(*e).as_bytes()),
        }
    }
}

// ---- creating and adding ---------------------------------------------------------

/// BF.RESERVE key error_rate capacity [EXPANSION expansion] [NONSCALING]
fn bf_reserve(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() > 7 {
        return Err(CmdError::WrongArity("bf.reserve"));
    }
    let error_rate = parse_f64(&args[2]).ok_or(err("ERR bad error rate"))?;
    if !(error_rate > 0.0 && error_rate < 1.0) {
        return Err(err("ERR (0 < error rate range < 1) "));
    }
    let capacity = parse_i64(&args[3]).ok_or(err("ERR bad capacity"))?;
    if capacity <= 0 {
        return Err(err("ERR (capacity should be larger than 0)"));
    }
    // Options in any order; anything else is ignored, as RedisBloom does.
    let options = &args[4..];
    let nonscaling = options.iter().any(|a| eq_ic(a, "NONSCALING"));
    let mut expansion = DEFAULT_EXPANSION;
    if let Some(at) = options.iter().position(|a| eq_ic(a, "EXPANSION")) {
        let Some(value) = options.get(at + 1) else {
            return Err(err("ERR no expansion"));
        };
        if nonscaling {
            return Err(err("Nonscaling filters cannot expand"));
        }
        let n = parse_i64(value).ok_or(err("ERR bad expansion"))?;
        if n < 1 {
            return Err(err("ERR expansion should be greater or equal to 1"));
        }
        expansion = u32::try_from(n).map_err(|_| err("ERR bad expansion"))?;
    }
    let key = &args[1];
    match ctx.write(key).map(|e| matches!(e.value, Value::Bloom(_))) {
        Some(true) => return Err(err("ERR item exists")),
        Some(false) => return Err(CmdError::WrongType),
        None => {}
    }
    let filter = BloomFilter::new(capacity as u64, error_rate, expansion, !nonscaling)
        .map_err(|_| err(CANNOT_CREATE))?;
    let entry = ctx.entry(Value::Bloom(Box::new(filter)));
    ctx.db(key).insert(key, entry);
    ctx.ok();
    Ok(())
}

/// BF.ADD key item
fn bf_add(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let item = &args[2];
    match with_filter(ctx, &args[1], &DEFAULTS, |f| f.add(item))? {
        Ok(added) => {
            ctx.boolean(added);
            Ok(())
        }
        Err(e) => Err(err(add_error_text(e))),
    }
}

/// BF.MADD key item [item ...]
fn bf_madd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let results = with_filter(ctx, &args[1], &DEFAULTS, |f| add_items(f, &args[2..]))?;
    reply_adds(ctx, &results);
    Ok(())
}

/// BF.INSERT key [CAPACITY capacity] [ERROR error] [EXPANSION expansion]
/// [NOCREATE] [NONSCALING] ITEMS item [item ...]
///
/// Options are told apart by their first letter (and ERROR from EXPANSION
/// by the second, NOCREATE from NONSCALING by the third), exactly as
/// RedisBloom parses them, so abbreviations it accepts work here too.
fn bf_insert(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut opts = DEFAULTS;
    // Parsed wide, validated after the loop, as RedisBloom does.
    let mut capacity: i64 = DEFAULT_CAPACITY as i64;
    let mut expansion: i64 = i64::from(DEFAULT_EXPANSION);
    let mut items_at = None;
    let mut pos = 2;
    while pos < args.len() && items_at.is_none() {
        let arg = &args[pos];
        let letter = |i: usize| arg.get(i).map(u8::to_ascii_lowercase);
        match letter(0) {
            Some(b'i') => {
                pos += 1;
                items_at = Some(pos);
            }
            Some(b'e') => {
                pos += 1;
                let value = args.get(pos).ok_or(CmdError::WrongArity("bf.insert"))?;
                if letter(1) == Some(b'r') {
                    opts.error_rate = parse_f64(value).ok_or(err("Bad error rate"))?;
                } else {
                    expansion = parse_i64(value).ok_or(err("Bad expansion"))?;
                }
                pos += 1;
            }
            Some(b'c') => {
                pos += 1;
                let value = args.get(pos).ok_or(CmdError::WrongArity("bf.insert"))?;
                capacity = parse_i64(value).ok_or(err("Bad capacity"))?;
                pos += 1;
            }
            Some(b'n') => {
                if letter(2) == Some(b'c') {
                    opts.create = false;
                } else {
                    opts.scaling = false;
                }
                pos += 1;
            }
            _ => return Err(err("Unknown argument received")),
        }
    }
    let items_at = match items_at {
        Some(at) if at < args.len() => at,
        _ => return Err(CmdError::WrongArity("bf.insert")),
    };
    if !(opts.error_rate > 0.0 && opts.error_rate < 1.0) || capacity < 1 || expansion < 1 {
        return Err(err("Bad argument received"));
    }
    opts.capacity = capacity as u64;
    opts.expansion = u32::try_from(expansion).map_err(|_| err("Bad expansion"))?;
    let results = with_filter(ctx, &args[1], &opts, |f| add_items(f, &args[items_at..]))?;
    reply_adds(ctx, &results);
    Ok(())
}

// ---- checking --------------------------------------------------------------------

/// BF.EXISTS key item: 0 for a missing key, and for a key of another type.
fn bf_exists(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let found = match ctx.read(&args[1]) {
        Some(e) => match &e.value {
            Value::Bloom(f) => f.contains(&args[2]),
            _ => false,
        },
        None => false,
    };
    ctx.boolean(found);
    Ok(())
}

/// BF.MEXISTS key item [item ...]
fn bf_mexists(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let resp3 = ctx.resp3;
    let items = &args[2..];
    let (entry, out) = ctx.read_with_out(&args[1]);
    let filter = match entry.map(|e| &e.value) {
        Some(Value::Bloom(f)) => Some(&**f),
        _ => None,
    };
    encode::array_len(out, items.len());
    for item in items {
        encode::boolean(out, filter.is_some_and(|f| f.contains(item)), resp3);
    }
    Ok(())
}

/// BF.CARD key: items added; 0 for a missing key.
fn bf_card(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let items = match ctx.read(&args[1]) {
        None => 0,
        Some(e) => match &e.value {
            Value::Bloom(f) => f.items(),
            _ => return Err(CmdError::WrongType),
        },
    };
    ctx.int(items as i64);
    Ok(())
}

/// The filter at `key` for a read-only command that needs one.
fn read_filter<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<&'c BloomFilter, CmdError> {
    match ctx.read(key) {
        None => Err(err(NOT_FOUND)),
        Some(e) => match &e.value {
            Value::Bloom(f) => Ok(f),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// BF.INFO's fields: the optional argument that selects each, its name in
/// the full reply.
const INFO_FIELDS: [(&str, &str); 5] = [
    ("capacity", "Capacity"),
    ("size", "Size"),
    ("filters", "Number of filters"),
    ("items", "Number of items inserted"),
    ("expansion", "Expansion rate"),
];

/// BF.INFO key [CAPACITY | SIZE | FILTERS | ITEMS | EXPANSION]
///
/// "Size" is the memory the filter holds (MEMORY USAGE's share for the
/// value). A NONSCALING filter's expansion rate is a null.
fn bf_info(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::WrongArity("bf.info"));
    }
    let f = read_filter(ctx, &args[1])?;
    let values: [Option<i64>; 5] = [
        Some(f.capacity() as i64),
        Some(f.heap_size() as i64),
        Some(f.filters() as i64),
        Some(f.items() as i64),
        f.expansion().map(i64::from),
    ];
    let reply_value = |ctx: &mut Ctx, v: Option<i64>| match v {
        Some(v) => ctx.int(v),
        None => ctx.null(),
    };
    match args.get(2) {
        Some(field) => {
            let Some(i) = INFO_FIELDS.iter().position(|(arg, _)| eq_ic(field, arg)) else {
                return Err(err("Invalid information value"));
            };
            if ctx.resp3 {
                ctx.map(1);
                ctx.simple(INFO_FIELDS[i].1.as_bytes());
            } else {
                ctx.array(1);
            }
            reply_value(ctx, values[i]);
        }
        None => {
            ctx.map(INFO_FIELDS.len());
            for ((_, name), v) in INFO_FIELDS.iter().zip(values) {
                ctx.simple(name.as_bytes());
                reply_value(ctx, v);
            }
        }
    }
    Ok(())
}

/// BF.DEBUG key: "size:<items>", then one line per sub-filter.
fn bf_debug(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let lines = read_filter(ctx, &args[1])?.debug_lines();
    ctx.array(lines.len());
    for line in &lines {
        ctx.bulk(line.as_bytes());
    }
    Ok(())
}

// ---- dump and restore ------------------------------------------------------------

/// BF.SCANDUMP key iterator
///
/// Iterator 0 answers `[1, header]`; each later call passes the iterator
/// the previous one returned and gets the next chunk of bits; `[0, ""]`
/// ends the dump. The format is RedisBloom's (see types/bloom.rs).
fn bf_scandump(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let iter = &args[2];
    let (entry, out) = ctx.read_with_out(&args[1]);
    let filter = match entry.map(|e| &e.value) {
        None => return Err(err(NOT_FOUND)),
        Some(Value::Bloom(f)) => f,
        Some(_) => return Err(CmdError::WrongType),
    };
    let Some(iter) = parse_i64(iter) else {
        return Err(err("Second argument must be numeric"));
    };
    encode::array_len(out, 2);
    if iter == 0 {
        encode::integer(out, 1);
        encode::bulk(out, &filter.dump_header());
    } else {
        match filter.dump_chunk(iter, MAX_SCANDUMP_CHUNK) {
            Some((next, data)) => {
                encode::integer(out, next);
                encode::bulk(out, data);
            }
            None => {
                encode::integer(out, 0);
                encode::bulk(out, b"");
            }
        }
    }
    Ok(())
}

/// BF.LOADCHUNK key iterator data: iterator 1 on a missing key creates the
/// filter from a header; later chunks fill in its bits.
fn bf_loadchunk(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let iter = parse_i64(&args[2]).ok_or(err("ERR Second argument must be numeric"))?;
    let (key, data) = (&args[1], &args[3]);
    match ctx.write(key) {
        Some(e) => match &mut e.value {
            Value::Bloom(f) => f.load_chunk(iter, data).map_err(|e| err(e.text()))?,
            _ => return Err(CmdError::WrongType),
        },
        None if iter == 1 => {
            let filter = BloomFilter::from_header(data).map_err(|e| err(e.text()))?;
            let entry = ctx.entry(Value::Bloom(Box::new(filter)));
            ctx.db(key).insert(key, entry);
        }
        None => return Err(err(NOT_FOUND)),
    }
    ctx.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_grammars_parse() {
        for spec in COMMANDS {
            let parsed = crate::commands::docs::parse(spec.args, true);
            assert!(parsed.is_ok(), "{}: {:?}", spec.name, parsed);
        }
    }
}
