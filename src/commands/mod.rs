//! The command table and the context handlers run in.
//!
//! Every command is one declarative [`CommandSpec`] in its family's file
//! (`string.rs`, `keys.rs`, ...). Dispatch, arity errors, `COMMAND` and its
//! subcommands, key-to-shard routing and (later) ACL and cluster checks all
//! read that table, so a command's arity or key positions are written once.
//!
//! Handlers are plain functions over a [`Ctx`]: they read arguments, touch
//! the keyspace through [`Ctx::db`] and append their reply to `ctx.out`.
//! Errors are values ([`CmdError`]) mapped to Redis's exact text in one place;
//! the dispatcher discards any partial reply a failing handler wrote.

pub mod bloom;
pub mod connection;
pub mod docs;
pub mod expire;
pub mod hash;
pub mod keys;
pub mod list;
pub mod memory;
pub mod multi;
pub mod pubsub;
pub mod server;
pub mod set;
pub mod string;
pub mod table;
pub mod throttle;
pub mod zset;

use std::borrow::Cow;

use bytes::Bytes;
use shoal_protocol::encode;

use crate::config::KeyspaceEvents;
use crate::server::Server;
use crate::shard::db::{Db, Entry};
use crate::shard::{ClientInfo, Partition, Store};

pub use table::CommandTable;

/// Command flags, as Redis names them in COMMAND INFO.
pub mod flag {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const FAST: u32 = 1 << 3;
    pub const BLOCKING: u32 = 1 << 4;
    pub const PUBSUB: u32 = 1 << 5;
    pub const ADMIN: u32 = 1 << 6;
    pub const NOSCRIPT: u32 = 1 << 7;
    pub const LOADING: u32 = 1 << 8;
    pub const STALE: u32 = 1 << 9;
    pub const NO_AUTH: u32 = 1 << 10;
    pub const SKIP_MONITOR: u32 = 1 << 11;
    pub const SKIP_SLOWLOG: u32 = 1 << 12;
    pub const ALLOW_BUSY: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const MAY_REPLICATE: u32 = 1 << 15;
    pub const SENTINEL: u32 = 1 << 16;
    /// Shoal's own, not shown by COMMAND INFO: a command that names no keys
    /// needs every shard held (EVAL and FCALL with no declared keys, whose
    /// scripts may still touch any key).
    pub const ALL_SHARDS_WITHOUT_KEYS: u32 = 1 << 24;
    /// Shoal's own, not shown by COMMAND INFO: the command runs a script
    /// (EVAL, FCALL, ...), which may run long enough for the shard loop to
    /// answer other clients -BUSY meanwhile (server::busy).
    pub const RUNS_SCRIPT: u32 = 1 << 25;

    /// Names in the order Redis prints them in COMMAND INFO.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (SENTINEL, "sentinel"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// Where a command's keys are, in Redis's legacy (first, last, step) form;
/// `last < 0` counts from the end of the argument list.
#[derive(Clone, Copy, Debug)]
pub enum Keys {
    None,
    Range {
        first: i16,
        last: i16,
        step: i16,
    },
    /// A key count at argument `index`, the keys right after it (SINTERCARD,
    /// ZUNION, LMPOP...): Redis's keynum key spec, reported as movablekeys.
    NumKeys {
        index: i16,
    },
    /// A destination key at argument 1, then a key count at `index` and the
    /// keys right after it (ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE). COMMAND
    /// INFO reports it as Redis does: legacy range 1 1 1, movablekeys, the
    /// destination's spec from `key_specs` and a keynum spec for the
    /// sources with `key_flags`. A bad count names no keys at all.
    DestNumKeys {
        index: i16,
    },
}

/// Which partitions a command needs besides what its keys select.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Only the shards owning its keys (none for a keyless command, which
    /// then runs on the connection's own shard).
    Keys,
    /// Every shard, held at once: keyspace-wide commands (DBSIZE, KEYS,
    /// SCAN, FLUSHALL, CLIENT LIST, INFO, ...).
    All,
    /// The connection's own shard, whatever its keys say: SSUBSCRIBE's
    /// "keys" are shard channels, which live with the subscriber.
    Home,
    /// Every shard, each on its own partition and without holding the
    /// others; their integer replies are summed (PUBLISH: each shard counts
    /// and serves its own subscribers).
    FanOut,
}

pub type Handler = fn(&mut Ctx, &[Bytes]) -> CmdResult;
pub type CmdResult = Result<(), CmdError>;

/// One command (or subcommand) of the table.
#[derive(Clone, Copy)]
pub struct CommandSpec {
    /// Lower case, as COMMAND reports it. Subcommands are `container|sub`.
    pub name: &'static str,
    /// Redis arity: N means exactly N arguments including the name, -N at least N.
    pub arity: i16,
    pub flags: u32,
    pub keys: Keys,
    pub scope: Scope,
    /// ACL categories besides those implied by the flags (@write, @read, @fast, ...).
    pub acl: &'static [&'static str],
    pub group: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    pub summary: &'static str,
    /// The argument grammar in Redis's documentation syntax, e.g.
    /// `key value [NX | XX] [GET] [EX seconds | PX milliseconds]`;
    /// COMMAND DOCS builds its argument tree from it.
    pub args: &'static str,
    pub handler: Option<Handler>,
    pub subcommands: &'static [CommandSpec],
    /// Command tips as COMMAND INFO reports them (`nondeterministic_output`,
    /// `request_policy:all_shards`, ...).
    pub tips: &'static [&'static str],
    /// Flags of the key spec COMMAND INFO reports (`RW`, `access`, `update`,
    /// `OW`, `RM`, `delete`, `insert`, ...). Empty: derived from the command
    /// flags (`RO access` for readonly, `RW update` for write commands).
    pub key_flags: &'static [&'static str],
    /// Redis's key specs, when they are more than the one derived from
    /// `keys` and `key_flags` (several specs, or notes): reported by COMMAND
    /// INFO and COMMAND GETKEYSANDFLAGS only; routing keeps using `keys`.
    pub key_specs: &'static [KeySpecDoc],
    /// COMMAND DOCS `doc_flags` (`deprecated`, `syscmd`).
    pub doc_flags: &'static [&'static str],
    /// COMMAND DOCS `deprecated_since` (empty: not deprecated).
    pub deprecated_since: &'static str,
    /// COMMAND DOCS `replaced_by` (empty: none).
    pub replaced_by: &'static str,
}

/// One Redis 7 key spec with an index begin-search and a range find-keys,
/// as COMMAND INFO reports it.
#[derive(Clone, Copy, Debug)]
pub struct KeySpecDoc {
    /// Free text Redis attaches to some specs (empty: none).
    pub notes: &'static str,
    pub flags: &'static [&'static str],
    /// Index of the first key.
    pub index: i16,
    /// Last key relative to the first (>= 0) or to the end of the arguments.
    pub lastkey: i16,
    pub keystep: i16,
    pub limit: i16,
}

impl KeySpecDoc {
    /// A spec of the single key at `index`.
    pub const fn one(index: i16, flags: &'static [&'static str]) -> KeySpecDoc {
        KeySpecDoc {
            notes: "",
            flags,
            index,
            lastkey: 0,
            keystep: 1,
            limit: 0,
        }
    }

    /// A spec of every argument from `index` on, `keystep` apart.
    pub const fn rest(index: i16, keystep: i16, flags: &'static [&'static str]) -> KeySpecDoc {
        KeySpecDoc {
            notes: "",
            flags,
            index,
            lastkey: -1,
            keystep,
            limit: 0,
        }
    }

    /// The same spec with Redis's notes.
    pub const fn notes(self, notes: &'static str) -> KeySpecDoc {
        KeySpecDoc { notes, ..self }
    }

    /// Calls `f` with the index of every key of `argc` arguments this spec
    /// names (Redis's getKeysUsingKeySpecs for a range spec).
    pub fn for_each_key(&self, argc: usize, mut f: impl FnMut(usize)) {
        let argc = argc as i64;
        let first = i64::from(self.index);
        let last = if self.lastkey >= 0 {
            first + i64::from(self.lastkey)
        } else if self.limit == 0 {
            argc + i64::from(self.lastkey)
        } else {
            first + (argc - first) / i64::from(self.limit) + i64::from(self.lastkey)
        };
        let step = i64::from(self.keystep.max(1));
        let mut i = first;
        while i <= last {
            if i >= first && i < argc {
                f(i as usize);
            }
            i += step;
        }
    }
}

impl CommandSpec {
    pub const DEFAULT: CommandSpec = CommandSpec {
        name: "",
        arity: 1,
        flags: 0,
        keys: Keys::None,
        scope: Scope::Keys,
        acl: &[],
        group: "generic",
        since: "1.0.0",
        complexity: "O(1)",
        summary: "",
        args: "",
        handler: None,
        subcommands: &[],
        tips: &[],
        key_flags: &[],
        key_specs: &[],
        doc_flags: &[],
        deprecated_since: "",
        replaced_by: "",
    };

    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// Whether `argc` arguments (including the name) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity as isize;
        let n = argc as isize;
        if a >= 0 {
            n == a
        } else {
            n >= -a
        }
    }

    /// Calls `f` with the index of every key argument of `args`, including
    /// key specs that depend on argument values ([`Keys::NumKeys`]). A key
    /// count that is not a positive integer or exceeds the arguments names
    /// no keys (the handler then reports the error).
    pub fn for_each_key_of(&self, args: &[Bytes], mut f: impl FnMut(usize)) {
        match self.keys {
            Keys::NumKeys { index } | Keys::DestNumKeys { index } => {
                let index = index.max(0) as usize;
                let Some(n) = args.get(index).and_then(|a| crate::util::num::parse_i64(a)) else {
                    return;
                };
                if n <= 0 || n as u64 > args.len().saturating_sub(index + 1) as u64 {
                    return;
                }
                if matches!(self.keys, Keys::DestNumKeys { .. }) {
                    f(1);
                }
                for i in index + 1..=index + n as usize {
                    f(i);
                }
            }
            _ => self.for_each_key(args.len(), f),
        }
    }

    /// Calls `f` with the index of every key argument.
    pub fn for_each_key(&self, argc: usize, mut f: impl FnMut(usize)) {
        if let Keys::Range { first, last, step } = self.keys {
            if first <= 0 || argc == 0 {
                return;
            }
            let first = first as isize;
            let last = if last < 0 {
                argc as isize + last as isize
            } else {
                last as isize
            };
            let step = step.max(1) as isize;
            let mut i = first;
            while i <= last && (i as usize) < argc {
                f(i as usize);
                i += step;
            }
        }
    }
}

/// A command's failure, rendered to Redis's exact error text by [`CmdError::text`].
#[derive(Debug, Clone, PartialEq)]
pub enum CmdError {
    WrongArity(&'static str),
    Syntax,
    WrongType,
    NotInteger,
    NotFloat,
    Overflow,
    NoSuchKey,
    OutOfRange,
    NotPositive(&'static str),
    DbIndexOutOfRange,
    UnknownSubcommand {
        sub: Vec<u8>,
        container: &'static str,
    },
    /// Any other error; the text includes its code, e.g. "ERR invalid expire time in 'set' command".
    Other(Cow<'static, str>),
}

impl CmdError {
    pub fn msg(s: impl Into<Cow<'static, str>>) -> CmdError {
        CmdError::Other(s.into())
    }

    pub fn text(&self) -> Cow<'static, str> {
        match self {
            CmdError::WrongArity(name) => {
                format!("ERR wrong number of arguments for '{name}' command").into()
            }
            CmdError::Syntax => "ERR syntax error".into(),
            CmdError::WrongType => {
                "WRONGTYPE Operation against a key holding the wrong kind of value".into()
            }
            CmdError::NotInteger => "ERR value is not an integer or out of range".into(),
            CmdError::NotFloat => "ERR value is not a valid float".into(),
            CmdError::Overflow => "ERR increment or decrement would overflow".into(),
            CmdError::NoSuchKey => "ERR no such key".into(),
            CmdError::OutOfRange => "ERR index out of range".into(),
            CmdError::NotPositive(what) => format!("ERR {what} must be positive").into(),
            CmdError::DbIndexOutOfRange => "ERR DB index is out of range".into(),
            CmdError::UnknownSubcommand { sub, container } => format!(
                "ERR unknown subcommand '{}'. Try {} HELP.",
                String::from_utf8_lossy(sub),
                container.to_ascii_uppercase()
            )
            .into(),
            CmdError::Other(s) => s.clone(),
        }
    }
}

/// What a handler can see and touch while it runs.
pub struct Ctx<'a> {
    /// Reply bytes are appended here.
    pub out: &'a mut Vec<u8>,
    pub resp3: bool,
    /// The selected database of the issuing connection.
    pub db: usize,
    /// Milliseconds since the Unix epoch, sampled once per batch of commands.
    pub now_ms: u64,
    pub store: Store<'a>,
    /// The issuing connection's slot in this shard's client table, when the
    /// command runs on the connection's own shard. `None` when the command
    /// was forwarded from another shard, which only keyed commands are.
    pub client: Option<usize>,
    pub server: &'a Server,
    pub shard_id: usize,
    /// The spec being executed (for error texts naming the command).
    pub spec: &'static CommandSpec,
    /// Whether a blocking command may block here (false inside MULTI/EXEC
    /// and scripts, where it answers as if its timeout had passed).
    pub may_block: bool,
    /// When a blocked command is retried because a key it waits on received
    /// data, that key: list pops then serve from it, as Redis 7.0 does.
    pub ready_key: Option<&'a [u8]>,
    /// Set by [`Ctx::block_on`]: the command found nothing and wants to wait.
    pub block: Option<BlockRequest>,
    /// The issuing client's id (CLIENT ID), wherever the command runs; 0
    /// when no client issued it.
    pub client_id: u64,
}

/// What a blocking command that found nothing to serve asks the runtime for.
///
/// The contract for handlers (BLPOP, BLMOVE, BZPOPMIN, ...): parse the
/// timeout with [`Ctx::block_deadline`], try to serve; when nothing is
/// there, write the reply the client gets if the timeout passes (a null)
/// and, if [`Ctx::may_block`], call [`Ctx::block_on`]. The runtime keeps
/// that reply for the timeout, parks the client, and re-runs the command
/// (with [`Ctx::ready_key`] set) whenever one of `keys` is given a value of
/// `kind`; a re-run that blocks again just keeps waiting.
#[derive(Debug, Clone)]
pub struct BlockRequest {
    /// The keys to wait on, in the command's order.
    pub keys: Vec<Bytes>,
    /// Absolute Unix milliseconds; 0 waits forever.
    pub deadline_ms: u64,
    pub kind: BlockKind,
}

/// The type of value a blocked client waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    List,
    ZSet,
}

impl<'a> Ctx<'a> {
    /// The database that owns `key` in the selected db index.
    pub fn db(&mut self, key: &[u8]) -> &mut Db {
        let db = self.db;
        let shard = self.server.shard_of_key(key);
        &mut self.store.part(shard).dbs[db]
    }

    /// The live entry of `key` for a command that reads it: counts a
    /// keyspace hit or miss and refreshes the key's access clock, as
    /// Redis's lookupKeyRead does.
    pub fn read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.read_with_out(key).0
    }

    /// [`Ctx::read`] that also lends out the reply buffer, so a handler can
    /// reply straight from the stored value (GET, MGET, GETRANGE) without
    /// copying it out of the keyspace first.
    pub fn read_with_out(&mut self, key: &[u8]) -> (Option<&mut Entry>, &mut Vec<u8>) {
        let (now, db, touch) = (self.now_ms, self.db, self.touch());
        let shard = self.server.shard_of_key(key);
        let Partition { dbs, stats, .. } = self.store.part(shard);
        // Only with keymiss events on: a second lookup, to raise the event
        // once the miss is known.
        if dbs[db].notify & KeyspaceEvents::KEY_MISS != 0 && dbs[db].get(key, now).is_none() {
            stats.keyspace_misses += 1;
            dbs[db].notify_event(KeyspaceEvents::KEY_MISS, "keymiss", key);
            return (None, &mut *self.out);
        }
        let entry = match dbs[db].get_touched(key, now, &touch) {
            Some(e) => {
                stats.keyspace_hits += 1;
                Some(e)
            }
            None => {
                stats.keyspace_misses += 1;
                None
            }
        };
        (entry, &mut *self.out)
    }

    /// The live entry of `key` for a command that modifies it (no hit/miss
    /// accounting, as Redis's lookupKeyWrite).
    pub fn write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let (now, touch) = (self.now_ms, self.touch());
        self.db(key).get_touched(key, now, &touch)
    }

    /// A new entry for `value`, stamped with the current access clock.
    pub fn entry(&self, value: crate::shard::db::Value) -> Entry {
        let mut e = Entry::new(value);
        e.access = self.lru_clock();
        e
    }

    /// The access clock (10 ms ticks since the server started, wrapping)
    /// that OBJECT IDLETIME and eviction compare against; see shard::evict.
    pub fn lru_clock(&self) -> u32 {
        crate::shard::evict::clock_ticks(self.now_ms, self.server.started_unix_ms) as u32
    }

    /// What using a key updates under the eviction policy in force.
    pub fn touch(&self) -> crate::shard::evict::Touch {
        crate::shard::evict::Touch::new(self.server, self.now_ms)
    }

    /// The database `index` of partition `shard` (for keyspace-wide commands).
    pub fn db_at(&mut self, shard: usize, index: usize) -> &mut Db {
        &mut self.store.part(shard).dbs[index]
    }

    pub fn part(&mut self, shard: usize) -> &mut Partition {
        self.store.part(shard)
    }

    /// The issuing connection's metadata.
    pub fn client(&mut self) -> Result<&mut ClientInfo, CmdError> {
        let idx = self
            .client
            .ok_or_else(|| CmdError::msg("ERR command needs a connection"))?;
        let shard = self.shard_id;
        self.store
            .part(shard)
            .clients
            .get_mut(idx)
            .ok_or_else(|| CmdError::msg("ERR command needs a connection"))
    }

    pub fn nshards(&self) -> usize {
        self.server.nshards()
    }

    /// Raises keyspace notification `event` (of `class`, a
    /// `KeyspaceEvents` bit) on `key` in the selected database; published
    /// after the command if `notify-keyspace-events` enables it.
    pub fn notify(&mut self, class: u32, event: &'static str, key: &[u8]) {
        self.db(key).notify_event(class, event, key);
    }

    /// The absolute deadline of a blocking command's timeout argument
    /// (seconds, fractions allowed, 0 = forever), with Redis 7.0's errors:
    /// a value whose milliseconds overflow a 64-bit integer converts to a
    /// negative one there, hence "negative" for `inf` or `1e400`.
    pub fn block_deadline(&self, arg: &[u8]) -> Result<u64, CmdError> {
        let ms = crate::util::num::timeout_ms(arg)
            .ok_or_else(|| CmdError::msg("ERR timeout is not a float or out of range"))?;
        let ms = u64::try_from(ms).map_err(|_| CmdError::msg("ERR timeout is negative"))?;
        if ms == 0 {
            return Ok(0);
        }
        Ok(self.now_ms.saturating_add(ms))
    }

    /// Parks the client on `keys` (see [`BlockRequest`]); the reply written
    /// so far is what it receives if `deadline_ms` passes first.
    pub fn block_on(&mut self, keys: Vec<Bytes>, deadline_ms: u64, kind: BlockKind) {
        self.block = Some(BlockRequest {
            keys,
            deadline_ms,
            kind,
        });
    }

    // Reply helpers: thin wrappers that pick the protocol version.
    pub fn ok(&mut self) {
        encode::ok(self.out)
    }
    pub fn simple(&mut self, s: &[u8]) {
        encode::simple(self.out, s)
    }
    pub fn int(&mut self, v: i64) {
        encode::integer(self.out, v)
    }
    pub fn bulk(&mut self, b: &[u8]) {
        encode::bulk(self.out, b)
    }
    pub fn null(&mut self) {
        encode::null(self.out, self.resp3)
    }
    pub fn null_array(&mut self) {
        encode::null_array(self.out, self.resp3)
    }
    pub fn array(&mut self, n: usize) {
        encode::array_len(self.out, n)
    }
    pub fn map(&mut self, n: usize) {
        encode::map_len(self.out, n, self.resp3)
    }
    pub fn set_len(&mut self, n: usize) {
        encode::set_len(self.out, n, self.resp3)
    }
    pub fn double(&mut self, v: f64) {
        encode::double(self.out, v, self.resp3)
    }
    pub fn boolean(&mut self, v: bool) {
        encode::boolean(self.out, v, self.resp3)
    }
    pub fn verbatim(&mut self, text: &[u8]) {
        encode::verbatim(self.out, b"txt", text, self.resp3)
    }
    /// A HELP subcommand's reply: one status line per entry.
    pub fn help(&mut self, lines: &[&str]) {
        self.array(lines.len());
        for line in lines {
            self.simple(line.as_bytes());
        }
    }
    pub fn error_reply(&mut self, e: &CmdError) {
        encode::error(self.out, e.text().as_bytes())
    }
}

/// A per-thread cache of something derived from the configuration (an
/// encoding threshold), for [`cached_config`].
pub type ConfigCache<T> = std::cell::Cell<Option<(usize, u64, T)>>;

/// `read(config)`, cached per thread and refreshed when `config_epoch`
/// moves, so a command's hot path reads no lock. The cache is keyed by the
/// server's address too, because tests run several servers in one process.
pub fn cached_config<T: Copy + 'static>(
    cache: &'static std::thread::LocalKey<ConfigCache<T>>,
    server: &Server,
    read: fn(&crate::config::Config) -> T,
) -> T {
    let id = server as *const Server as usize;
    let epoch = server
        .config_epoch
        .load(std::sync::atomic::Ordering::Acquire);
    cache.with(|cell| {
        if let Some((cached_id, cached_epoch, value)) = cell.get() {
            if cached_id == id && cached_epoch == epoch {
                return value;
            }
        }
        let value = match server.config.read() {
            Ok(cfg) => read(&cfg),
            Err(poisoned) => read(&poisoned.into_inner()),
        };
        cell.set(Some((id, epoch, value)));
        value
    })
}

/// Case-insensitive comparison of an argument with an ASCII keyword.
pub fn eq_ic(arg: &[u8], kw: &str) -> bool {
    arg.eq_ignore_ascii_case(kw.as_bytes())
}

/// An integer argument, with Redis's "not an integer" error.
pub fn arg_i64(arg: &[u8]) -> Result<i64, CmdError> {
    crate::util::num::parse_i64(arg).ok_or(CmdError::NotInteger)
}

/// A float argument, with Redis's "not a valid float" error.
pub fn arg_f64(arg: &[u8]) -> Result<f64, CmdError> {
    crate::util::num::parse_f64(arg).ok_or(CmdError::NotFloat)
}
