//! Shoal's configuration: the startup command line and config file
//! (`shoal-server [CONFIG_FILE] [--directive value ...] [-]`) and the runtime
//! CONFIG GET / CONFIG SET view of the same parameters.
//!
//! Every parameter is described once, in [`PARAMS`]. The file loader, the
//! command-line options (which are turned into config lines exactly the way
//! redis-server does it), CONFIG GET and CONFIG SET all go through that table,
//! so a parameter's parsing, bounds and error texts cannot drift apart.
//!
//! Redis 7.0.15 is the reference for syntax, defaults, bounds and error texts;
//! the places where Shoal knowingly differs are listed on [`Config`].

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::util::glob::glob_match;

mod syntax;

use syntax::{
    bytes_to_path, c_strtoll_whole, lossy, memtoull, os_to_bytes, path_to_bytes, repr, split_args,
    split_spaces, strerror, string2ll, trim,
};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Redis's `INT_MAX`/`LONG_MAX` bounds, kept as i128 so that one numeric
/// domain also covers `maxmemory`'s full `u64` range.
const INT_MAX: i128 = i32::MAX as i128;
const INT_MIN: i128 = i32::MIN as i128;
const LONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const MB: i128 = 1024 * 1024;

/// Redis's CONFIG_BINDADDR_MAX.
const MAX_BIND_ADDRS: usize = 16;

/// Config files are small; the cap makes `include /dev/zero`, or a huge file
/// named by mistake, fail instead of exhausting memory.
const MAX_CONFIG_BYTES: u64 = 64 << 20;

/// Redis recurses on `include` without a limit and dies on a loop; a bound
/// turns that into a readable error instead of a stack overflow.
const MAX_INCLUDE_DEPTH: usize = 32;

const SAVE_UNSUPPORTED: &str =
    "snapshots are not supported yet: Shoal has no RDB persistence, only save \"\" is accepted";
const APPENDONLY_UNSUPPORTED: &str =
    "the append only file is not supported yet: Shoal has no AOF persistence, only appendonly no is accepted";
const DAEMONIZE_UNSUPPORTED: &str =
    "Shoal does not daemonize: run it in the foreground under a process supervisor (daemonize no)";

// ---------------------------------------------------------------------------
// Typed values
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
}

impl LogLevel {
    /// In Redis's order, which is also the order of its error message.
    pub const ALL: [LogLevel; 4] = [
        LogLevel::Debug,
        LogLevel::Verbose,
        LogLevel::Notice,
        LogLevel::Warning,
    ];

    pub fn as_str(self) -> &'static str {
        LOGLEVEL_NAMES[self.index()]
    }

    fn index(self) -> usize {
        match self {
            LogLevel::Debug => 0,
            LogLevel::Verbose => 1,
            LogLevel::Notice => 2,
            LogLevel::Warning => 3,
        }
    }
}

const LOGLEVEL_NAMES: &[&str] = &["debug", "verbose", "notice", "warning"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvictionPolicy {
    NoEviction,
    AllKeysLru,
    VolatileLru,
    AllKeysLfu,
    VolatileLfu,
    AllKeysRandom,
    VolatileRandom,
    VolatileTtl,
    AllKeysFifo,
    VolatileFifo,
    AllKeysMru,
    VolatileMru,
}

impl EvictionPolicy {
    /// Redis 7.0's policies in the order its error message lists them, then
    /// Shoal's extra ones, so the message stays a superset of Redis's.
    pub const ALL: [EvictionPolicy; 12] = [
        EvictionPolicy::VolatileLru,
        EvictionPolicy::VolatileLfu,
        EvictionPolicy::VolatileRandom,
        EvictionPolicy::VolatileTtl,
        EvictionPolicy::AllKeysLru,
        EvictionPolicy::AllKeysLfu,
        EvictionPolicy::AllKeysRandom,
        EvictionPolicy::NoEviction,
        EvictionPolicy::VolatileFifo,
        EvictionPolicy::AllKeysFifo,
        EvictionPolicy::VolatileMru,
        EvictionPolicy::AllKeysMru,
    ];

    pub fn as_str(self) -> &'static str {
        POLICY_NAMES[self.index()]
    }

    /// True for the policies that only evict keys with an expire set.
    pub fn is_volatile(self) -> bool {
        matches!(
            self,
            EvictionPolicy::VolatileLru
                | EvictionPolicy::VolatileLfu
                | EvictionPolicy::VolatileRandom
                | EvictionPolicy::VolatileTtl
                | EvictionPolicy::VolatileFifo
                | EvictionPolicy::VolatileMru
        )
    }

    fn index(self) -> usize {
        match self {
            EvictionPolicy::VolatileLru => 0,
            EvictionPolicy::VolatileLfu => 1,
            EvictionPolicy::VolatileRandom => 2,
            EvictionPolicy::VolatileTtl => 3,
            EvictionPolicy::AllKeysLru => 4,
            EvictionPolicy::AllKeysLfu => 5,
            EvictionPolicy::AllKeysRandom => 6,
            EvictionPolicy::NoEviction => 7,
            EvictionPolicy::VolatileFifo => 8,
            EvictionPolicy::AllKeysFifo => 9,
            EvictionPolicy::VolatileMru => 10,
            EvictionPolicy::AllKeysMru => 11,
        }
    }
}

const POLICY_NAMES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
    "volatile-fifo",
    "allkeys-fifo",
    "volatile-mru",
    "allkeys-mru",
];

/// One class of `client-output-buffer-limit`: a client whose pending
/// output passes `hard` bytes, or stays above `soft` for `soft_seconds`, is
/// disconnected (0 disables a limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

impl OutputLimit {
    pub const NONE: OutputLimit = OutputLimit {
        hard: 0,
        soft: 0,
        soft_seconds: 0,
    };
}

/// The class names of `client-output-buffer-limit`, in Config's order.
const OUTPUT_LIMIT_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// The `notify-keyspace-events` classes, with Redis 7.0's bit values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KeyspaceEvents(pub u32);

impl KeyspaceEvents {
    pub const KEYSPACE: u32 = 1 << 0; // K
    pub const KEYEVENT: u32 = 1 << 1; // E
    pub const GENERIC: u32 = 1 << 2; // g
    pub const STRING: u32 = 1 << 3; // $
    pub const LIST: u32 = 1 << 4; // l
    pub const SET: u32 = 1 << 5; // s
    pub const HASH: u32 = 1 << 6; // h
    pub const ZSET: u32 = 1 << 7; // z
    pub const EXPIRED: u32 = 1 << 8; // x
    pub const EVICTED: u32 = 1 << 9; // e
    pub const STREAM: u32 = 1 << 10; // t
    pub const KEY_MISS: u32 = 1 << 11; // m
    pub const MODULE: u32 = 1 << 13; // d
    pub const NEW: u32 = 1 << 14; // n
    /// `A`: note that, as in Redis, it covers neither `m` nor `n`.
    pub const ALL: u32 = Self::GENERIC
        | Self::STRING
        | Self::LIST
        | Self::SET
        | Self::HASH
        | Self::ZSET
        | Self::EXPIRED
        | Self::EVICTED
        | Self::STREAM
        | Self::MODULE;

    pub fn bits(self) -> u32 {
        self.0
    }

    pub fn contains(self, flags: u32) -> bool {
        self.0 & flags == flags
    }

    /// True when notifications are off: without K or E nothing is published.
    pub fn is_disabled(self) -> bool {
        self.0 & (Self::KEYSPACE | Self::KEYEVENT) == 0
    }

    pub fn parse(classes: &[u8]) -> Option<KeyspaceEvents> {
        let mut flags = 0;
        for &c in classes {
            flags |= match c {
                b'A' => Self::ALL,
                b'g' => Self::GENERIC,
                b'$' => Self::STRING,
                b'l' => Self::LIST,
                b's' => Self::SET,
                b'h' => Self::HASH,
                b'z' => Self::ZSET,
                b'x' => Self::EXPIRED,
                b'e' => Self::EVICTED,
                b'K' => Self::KEYSPACE,
                b'E' => Self::KEYEVENT,
                b't' => Self::STREAM,
                b'm' => Self::KEY_MISS,
                b'd' => Self::MODULE,
                b'n' => Self::NEW,
                _ => return None,
            };
        }
        Some(KeyspaceEvents(flags))
    }

    /// Redis's canonical spelling (`KEA` reads back as `AKE`). One deliberate
    /// difference: Redis 7.0 drops `n` when `A` is set, so `An` would not
    /// survive a GET/SET round trip; Shoal keeps it.
    pub fn to_config_string(self) -> String {
        let f = self.0;
        let mut s = String::new();
        if f & Self::ALL == Self::ALL {
            s.push('A');
        } else {
            for (bit, c) in [
                (Self::GENERIC, 'g'),
                (Self::STRING, '$'),
                (Self::LIST, 'l'),
                (Self::SET, 's'),
                (Self::HASH, 'h'),
                (Self::ZSET, 'z'),
                (Self::EXPIRED, 'x'),
                (Self::EVICTED, 'e'),
                (Self::STREAM, 't'),
                (Self::MODULE, 'd'),
                // Inside this branch in Redis 7.0 too: with `A` the `n`
                // flag still works but is not shown.
                (Self::NEW, 'n'),
            ] {
                if f & bit != 0 {
                    s.push(c);
                }
            }
        }
        for (bit, c) in [
            (Self::KEYSPACE, 'K'),
            (Self::KEYEVENT, 'E'),
            (Self::KEY_MISS, 'm'),
        ] {
            if f & bit != 0 {
                s.push(c);
            }
        }
        s
    }
}

// ---------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------

/// The server's configuration.
///
/// Where Shoal knowingly differs from Redis 7.0.15:
/// - `bind` defaults to `127.0.0.1` (Redis: `* -::*`); `port` and `bind`
///   cannot be changed with CONFIG SET (Redis can rebind at runtime).
/// - `shards` is Shoal's own (one event loop per shard thread).
/// - `save` only accepts `""`, `appendonly` only `no`, `daemonize` only `no`:
///   there is no persistence or daemon mode yet.
/// - `dir` can be changed with CONFIG SET; Redis 7.0 refuses that unless
///   `enable-protected-configs` is set, because there it also moves where
///   snapshots get written, which Shoal does not do.
/// - `set-max-listpack-entries`/`-value` come from Redis 7.2, and
///   `maxmemory-policy` has Shoal's extra fifo/mru policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Absolute path of the config file given on the command line, if any
    /// (for INFO's `config_file` and a future CONFIG REWRITE).
    pub config_file: Option<PathBuf>,
    pub port: u16,
    /// Empty means "listen on no TCP address", as with Redis's `bind ""`.
    pub bind: Vec<String>,
    /// Number of shard threads.
    pub shards: usize,
    /// Shoal's `busy-poll-us`: how long a shard keeps polling its sockets
    /// after activity before it sleeps in epoll, so that clients need not
    /// wake it. -1 (the default) means 50 when the machine has more cores
    /// than shards, else 0: polling only pays off on a core of its own.
    pub busy_poll_us: i32,
    /// `None` when no password is required (`requirepass ""`).
    pub requirepass: Option<Vec<u8>>,
    pub maxclients: u64,
    pub databases: usize,
    pub loglevel: LogLevel,
    /// Empty means standard output.
    pub logfile: String,
    /// Always absolute. Setting it (file, flag or CONFIG SET) changes the
    /// process's working directory at once, like Redis, so relative paths
    /// that come later (`include`, `logfile`, `pidfile`) resolve against it.
    pub dir: PathBuf,
    /// Client idle timeout in seconds, 0 = never.
    pub timeout: u64,
    /// Seconds, 0 = no keepalive.
    pub tcp_keepalive: u64,
    pub tcp_backlog: i32,
    pub protected_mode: bool,
    /// Empty means no pid file.
    pub pidfile: String,
    /// Already clamped to 1..=500, as Redis does with out-of-range values.
    pub hz: u32,
    /// Bytes, 0 = no limit.
    pub maxmemory: u64,
    pub maxmemory_policy: EvictionPolicy,
    pub maxmemory_samples: u32,
    pub lfu_log_factor: u32,
    /// Minutes.
    pub lfu_decay_time: u32,
    /// How long a write may spend evicting, 0..=100 (see shard::evict).
    pub maxmemory_eviction_tenacity: u32,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub active_expire_effort: u32,
    pub latency_tracking: bool,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    pub list_max_listpack_size: i32,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub set_max_listpack_entries: usize,
    pub set_max_listpack_value: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    pub notify_keyspace_events: KeyspaceEvents,
    /// `client-output-buffer-limit` for the normal, replica and pubsub
    /// classes, in that order.
    pub client_output_buffer_limit: [OutputLimit; 3],
}

impl Default for Config {
    fn default() -> Self {
        Config::default_config()
    }
}

/// What the command line asks for.
// Built once at startup, so boxing the Config would only cost callers a deref.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Startup {
    Run(Config),
    /// Print [`Config::version_text`] and exit 0.
    PrintVersion,
    /// Print [`Config::help_text`] and exit.
    PrintHelp,
}

/// Where a rejected configuration line came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File {
        path: PathBuf,
        line: usize,
    },
    Stdin {
        line: usize,
    },
    /// `index` is 1-based among the arguments (argv[0] excluded); `option` is
    /// the `--name` argument that started the rejected directive.
    Argument {
        index: usize,
        option: String,
    },
}

/// A configuration that cannot be started with. `Display` is the complete
/// message for stderr, modelled on redis-server's FATAL CONFIG FILE ERROR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartupError {
    #[error("{}", directive_message(.location, .line, .reason))]
    Directive {
        location: Location,
        /// The offending line as written (trimmed), for the `>>>` line.
        line: String,
        reason: String,
    },
    #[error("{}\nCan't open config file '{}': {}", fatal_header(), .path.display(), .reason)]
    ConfigFile { path: PathBuf, reason: String },
    #[error("{}\nCan't read the configuration from stdin: {}", fatal_header(), .reason)]
    Stdin { reason: String },
    #[error("{}\nCan't open the log file '{}': {}", fatal_header(), .path, .reason)]
    LogFile { path: String, reason: String },
}

fn fatal_header() -> String {
    format!("*** FATAL CONFIG FILE ERROR (Shoal {VERSION}) ***")
}

fn directive_message(location: &Location, line: &str, reason: &str) -> String {
    let place = match location {
        Location::File { path, line } => format!(
            "Reading the configuration file '{}', at line {line}",
            path.display()
        ),
        Location::Stdin { line } => {
            format!("Reading the configuration from stdin, at line {line}")
        }
        Location::Argument { index, option } => {
            format!("Reading the command line option '{option}' (argument {index})")
        }
    };
    format!("{}\n{place}\n>>> '{line}'\n{reason}", fatal_header())
}

impl Config {
    /// Parses the command line (without argv[0]), reading the config file,
    /// stdin (for `-`) and included files, like `redis-server`.
    ///
    /// Side effects, as in Redis: a `dir` directive changes the working
    /// directory, and a non-empty `logfile` is opened for append (created)
    /// to fail early when it is not writable.
    pub fn from_args(args: impl IntoIterator<Item = OsString>) -> Result<Startup, StartupError> {
        let args: Vec<Vec<u8>> = args.into_iter().map(os_to_bytes).collect();
        let mut read_stdin = || read_capped(io::stdin().lock());
        Self::from_byte_args(&args, &mut read_stdin)
    }

    /// The defaults of Redis 7.0.15 (except `bind`), plus Shoal's own.
    pub fn default_config() -> Config {
        Config {
            config_file: None,
            port: 6379,
            bind: vec!["127.0.0.1".to_string()],
            shards: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .clamp(1, 1024),
            busy_poll_us: -1,
            requirepass: None,
            maxclients: 10000,
            databases: 16,
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            timeout: 0,
            tcp_keepalive: 300,
            tcp_backlog: 511,
            protected_mode: true,
            pidfile: String::new(),
            hz: 10,
            maxmemory: 0,
            maxmemory_policy: EvictionPolicy::NoEviction,
            maxmemory_samples: 5,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            maxmemory_eviction_tenacity: 10,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            active_expire_effort: 1,
            latency_tracking: true,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            list_max_listpack_size: -2,
            // 512, not redis.conf's 128: the sample redis.conf overrides the
            // compiled-in default, and a server started without a file has 512.
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            notify_keyspace_events: KeyspaceEvents(0),
            client_output_buffer_limit: [
                OutputLimit::NONE,
                OutputLimit {
                    hard: 256 << 20,
                    soft: 64 << 20,
                    soft_seconds: 60,
                },
                OutputLimit {
                    hard: 32 << 20,
                    soft: 8 << 20,
                    soft_seconds: 60,
                },
            ],
        }
    }

    /// CONFIG GET with one or more patterns: `(name, value)` pairs, each
    /// parameter at most once.
    ///
    /// As Redis 7.0.15 does: a pattern without `*?[` is an exact,
    /// case-insensitive lookup and its reply uses the name as the client
    /// spelled it; glob patterns also match alias names (`hash-max-ziplist-*`),
    /// which are reported under the alias. Glob matches come in table order.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, Vec<u8>)> {
        let mut seen: Vec<Entry> = Vec::new();
        let mut out = Vec::new();
        for &pattern in patterns {
            if !pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
                if let Some(entry) = lookup(pattern) {
                    if !seen.contains(&entry) {
                        seen.push(entry);
                        out.push((lossy(pattern), get_value(self, entry.param())));
                    }
                }
                continue;
            }
            for entry in entries() {
                if !seen.contains(&entry) && glob_match(pattern, entry.name().as_bytes(), true) {
                    seen.push(entry);
                    out.push((entry.name().to_string(), get_value(self, entry.param())));
                }
            }
        }
        out
    }

    /// CONFIG SET name value [name value ...], all or nothing as in Redis 7.0:
    /// on error nothing changes and `Err` holds the full error text without
    /// the leading `-`. An odd number of arguments is the caller's to reject
    /// (Redis replies `ERR syntax error`; with none at all it is an arity
    /// error, `ERR wrong number of arguments for 'config|set' command`).
    ///
    /// Names are checked first (unknown, immutable, given twice), then values
    /// are applied in order; the first failure is reported, naming the
    /// argument as given for name errors and the parameter's lowercase name
    /// for value errors, exactly as Redis words them.
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), String> {
        let mut chosen: Vec<(Entry, &[u8])> = Vec::with_capacity(pairs.len());
        let mut first_error: Option<String> = None;
        for &(name, value) in pairs {
            let Some(entry) = lookup(name) else {
                if first_error.is_none() {
                    first_error = Some(format!(
                        "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                        lossy(name)
                    ));
                }
                continue;
            };
            if first_error.is_some() {
                continue;
            }
            if !entry.param().mutable {
                first_error = Some(set_failed(&lossy(name), "can't set immutable config"));
            } else if chosen.iter().any(|(e, _)| *e == entry) {
                // Redis compares table entries, so a name and its alias may
                // both appear; the later one wins.
                first_error = Some(set_failed(&lossy(name), "duplicate parameter"));
            } else {
                chosen.push((entry, value));
            }
        }
        if let Some(err) = first_error {
            return Err(err);
        }

        let mut next = self.clone();
        for &(entry, value) in &chosen {
            let param = entry.param();
            let args = if param.multi_arg() {
                split_spaces(value)
            } else {
                vec![value]
            };
            if let Err(reason) = apply(&mut next, param, &args) {
                if next.dir != self.dir {
                    // Undo an earlier `dir` in the same call; if even that
                    // fails there is nothing better to do than keep going.
                    let _ = std::env::set_current_dir(&self.dir);
                }
                return Err(set_failed(entry.name(), &reason));
            }
        }
        *self = next;
        Ok(())
    }

    /// Canonical names of every parameter (aliases excluded), in table order.
    pub fn names() -> Vec<&'static str> {
        PARAMS.iter().map(|p| p.name).collect()
    }

    /// The `-v`/`--version` output.
    pub fn version_text() -> String {
        format!(
            "Shoal server v={VERSION} redis_compat=7.0 bits={}",
            usize::BITS
        )
    }

    /// The `-h`/`--help` output, listing every directive with its default.
    pub fn help_text() -> String {
        let mut s = format!(
            "Shoal {VERSION}, a Redis 7.0 compatible in-memory server\n\
             \n\
             Usage: shoal-server [/path/to/shoal.conf] [options] [-]\n\
             \x20      shoal-server - (read config from stdin)\n\
             \x20      shoal-server -v or --version\n\
             \x20      shoal-server -h or --help\n\
             \n\
             The config file uses redis.conf syntax: one directive per line, '#' comments,\n\
             quoted arguments, 'include /path/to/other.conf'. Every directive can also be\n\
             given as an option, '--directive value ...'; options are applied after the\n\
             file and stdin, so they take precedence.\n\
             \n\
             Examples:\n\
             \x20      shoal-server (run the server with the default configuration)\n\
             \x20      echo 'maxmemory 128mb' | shoal-server -\n\
             \x20      shoal-server /etc/shoal/shoal.conf\n\
             \x20      shoal-server --port 7777 --shards 4\n\
             \x20      shoal-server /etc/shoal/shoal.conf --loglevel verbose -\n\
             \n\
             Directives and their defaults:"
        );
        let defaults = Config::default_config();
        for p in PARAMS {
            let value = get_value(&defaults, p);
            let shown = if value.is_empty() || value.contains(&b' ') {
                format!("\"{}\"", lossy(&value))
            } else {
                lossy(&value)
            };
            let runtime = if p.mutable { "" } else { "  (startup only)" };
            s.push_str(&format!("\n       {} {shown}{runtime}", p.name));
        }
        s
    }

    fn from_byte_args(
        args: &[Vec<u8>],
        read_stdin: &mut dyn FnMut() -> io::Result<Vec<u8>>,
    ) -> Result<Startup, StartupError> {
        let cmd = match parse_command_line(args) {
            CommandLine::Version => return Ok(Startup::PrintVersion),
            CommandLine::Help => return Ok(Startup::PrintHelp),
            CommandLine::Run(cmd) => cmd,
        };

        let mut loader = Loader {
            cfg: Config::default_config(),
            depth: 0,
        };
        if let Some(file) = &cmd.config_file {
            let path = bytes_to_path(file);
            // Made absolute before any `dir` directive moves the cwd.
            let path = std::path::absolute(&path).unwrap_or(path);
            let text = read_file(&path).map_err(|e| StartupError::ConfigFile {
                path: path.clone(),
                reason: strerror(&e),
            })?;
            loader.cfg.config_file = Some(path.clone());
            loader.load_text(&text, &|line| Location::File {
                path: path.clone(),
                line,
            })?;
        }
        if cmd.read_stdin {
            let text = read_stdin().map_err(|e| StartupError::Stdin {
                reason: strerror(&e),
            })?;
            loader.load_text(&text, &|line| Location::Stdin { line })?;
        }
        for option in &cmd.options {
            loader.load_text(&option.text, &|_| Location::Argument {
                index: option.index + 1,
                option: lossy(&option.first_arg),
            })?;
        }

        let cfg = loader.cfg;
        if !cfg.logfile.is_empty() {
            OpenOptions::new()
                .append(true)
                .create(true)
                .open(&cfg.logfile)
                .map_err(|e| StartupError::LogFile {
                    path: cfg.logfile.clone(),
                    reason: strerror(&e),
                })?;
        }
        Ok(Startup::Run(cfg))
    }
}

fn read_capped(reader: impl Read) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    reader.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_CONFIG_BYTES {
        return Err(io::Error::other(format!(
            "larger than {} MiB, too large for a config file",
            MAX_CONFIG_BYTES >> 20
        )));
    }
    Ok(buf)
}

fn read_file(path: &Path) -> io::Result<Vec<u8>> {
    std::fs::File::open(path).and_then(read_capped)
}

fn set_failed(name: &str, reason: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
}

// ---------------------------------------------------------------------------
// The parameter table
// ---------------------------------------------------------------------------

struct Param {
    name: &'static str,
    alias: Option<&'static str>,
    /// Whether CONFIG SET may change it (the file and options always can).
    mutable: bool,
    kind: Kind,
}

impl Param {
    /// Multi-argument parameters take any number of words in the file and a
    /// space-separated list in CONFIG SET; the others take exactly one.
    fn multi_arg(&self) -> bool {
        matches!(
            self.kind,
            Kind::Special {
                multi_arg: true,
                ..
            }
        )
    }
}

enum Kind {
    Bool {
        get: fn(&Config) -> bool,
        set: fn(&mut Config, bool) -> Result<(), String>,
    },
    /// Parsed like Redis's numeric configs: `memory` ones accept `1gb`-style
    /// units (and nothing signed), the others a strict decimal integer.
    Int {
        min: i128,
        max: i128,
        memory: bool,
        get: fn(&Config) -> i128,
        /// Only called with a value within `min..=max`.
        set: fn(&mut Config, i128),
    },
    Enum {
        names: &'static [&'static str],
        get: fn(&Config) -> usize,
        set: fn(&mut Config, usize),
    },
    Special {
        multi_arg: bool,
        get: fn(&Config) -> Vec<u8>,
        set: fn(&mut Config, &[&[u8]]) -> Result<(), String>,
    },
}

macro_rules! opt {
    () => {
        None
    };
    ($alias:literal) => {
        Some($alias)
    };
}

// Table rows use brace-delimited macros, which rustfmt leaves alone, so that
// each row stays on one line and the table reads as a table.
macro_rules! bool_param {
    ($name:literal, $mutable:expr, $field:ident) => {
        Param {
            name: $name,
            alias: None,
            mutable: $mutable,
            kind: Kind::Bool {
                get: |c| c.$field,
                set: |c, v| {
                    c.$field = v;
                    Ok(())
                },
            },
        }
    };
}

macro_rules! int_param {
    ($name:literal $(| $alias:literal)?, $mutable:expr, $min:expr, $max:expr, $memory:expr, $field:ident: $ty:ty) => {
        Param {
            name: $name,
            alias: opt!($($alias)?),
            mutable: $mutable,
            kind: Kind::Int {
                min: $min,
                max: $max,
                memory: $memory,
                get: |c| c.$field as i128,
                set: |c, v| c.$field = v as $ty,
            },
        }
    };
}

macro_rules! special_param {
    ($name:literal, $mutable:expr, $multi_arg:expr, $get:expr, $set:expr) => {
        Param {
            name: $name,
            alias: None,
            mutable: $mutable,
            kind: Kind::Special {
                multi_arg: $multi_arg,
                get: $get,
                set: $set,
            },
        }
    };
}

const MUTABLE: bool = true;
const IMMUTABLE: bool = false;
const INTEGER: bool = false;
const MEMORY: bool = true;
const ONE_ARG: bool = false;
const MULTI_ARG: bool = true;

/// Every parameter, once. Bounds and mutability are Redis 7.0.15's unless
/// noted on [`Config`].
#[rustfmt::skip]
static PARAMS: &[Param] = &[
    int_param! { "port", IMMUTABLE, 0, 65535, INTEGER, port: u16 },
    special_param! { "bind", IMMUTABLE, MULTI_ARG, |c| c.bind.join(" ").into_bytes(), set_bind },
    int_param! { "shards", IMMUTABLE, 1, 1024, INTEGER, shards: usize },
    int_param! { "busy-poll-us", MUTABLE, -1, 10000, INTEGER, busy_poll_us: i32 },
    special_param! { "requirepass", MUTABLE, ONE_ARG, |c| c.requirepass.clone().unwrap_or_default(), set_requirepass },
    int_param! { "maxclients", MUTABLE, 1, UINT_MAX, INTEGER, maxclients: u64 },
    int_param! { "databases", IMMUTABLE, 1, INT_MAX, INTEGER, databases: usize },
    Param {
        name: "loglevel",
        alias: None,
        mutable: MUTABLE,
        kind: Kind::Enum {
            names: LOGLEVEL_NAMES,
            get: |c| c.loglevel.index(),
            set: |c, i| c.loglevel = LogLevel::ALL.get(i).copied().unwrap_or(c.loglevel),
        },
    },
    special_param! { "logfile", IMMUTABLE, ONE_ARG, |c| c.logfile.clone().into_bytes(), set_logfile },
    special_param! { "dir", MUTABLE, ONE_ARG, |c| path_to_bytes(&c.dir), set_dir },
    int_param! { "timeout", MUTABLE, 0, INT_MAX, INTEGER, timeout: u64 },
    int_param! { "tcp-keepalive", MUTABLE, 0, INT_MAX, INTEGER, tcp_keepalive: u64 },
    int_param! { "tcp-backlog", IMMUTABLE, 0, INT_MAX, INTEGER, tcp_backlog: i32 },
    bool_param! { "protected-mode", MUTABLE, protected_mode },
    Param {
        name: "daemonize",
        alias: None,
        mutable: IMMUTABLE,
        kind: Kind::Bool {
            get: |_| false,
            set: |_, v| if v { Err(DAEMONIZE_UNSUPPORTED.into()) } else { Ok(()) },
        },
    },
    special_param! { "pidfile", IMMUTABLE, ONE_ARG, |c| c.pidfile.clone().into_bytes(), set_pidfile },
    Param {
        name: "hz",
        alias: None,
        mutable: MUTABLE,
        kind: Kind::Int {
            // Redis takes any non-negative int and clamps it to 1..=500.
            min: 0,
            max: INT_MAX,
            memory: INTEGER,
            get: |c| i128::from(c.hz),
            set: |c, v| c.hz = v.clamp(1, 500) as u32,
        },
    },
    int_param! { "maxmemory", MUTABLE, 0, ULLONG_MAX, MEMORY, maxmemory: u64 },
    Param {
        name: "maxmemory-policy",
        alias: None,
        mutable: MUTABLE,
        kind: Kind::Enum {
            names: POLICY_NAMES,
            get: |c| c.maxmemory_policy.index(),
            set: |c, i| c.maxmemory_policy = EvictionPolicy::ALL.get(i).copied().unwrap_or(c.maxmemory_policy),
        },
    },
    int_param! { "maxmemory-samples", MUTABLE, 1, INT_MAX, INTEGER, maxmemory_samples: u32 },
    int_param! { "lfu-log-factor", MUTABLE, 0, INT_MAX, INTEGER, lfu_log_factor: u32 },
    int_param! { "lfu-decay-time", MUTABLE, 0, INT_MAX, INTEGER, lfu_decay_time: u32 },
    int_param! { "maxmemory-eviction-tenacity", MUTABLE, 0, 100, INTEGER, maxmemory_eviction_tenacity: u32 },
    int_param! { "proto-max-bulk-len", MUTABLE, MB, LONG_MAX, MEMORY, proto_max_bulk_len: u64 },
    int_param! { "client-query-buffer-limit", MUTABLE, MB, LONG_MAX, MEMORY, client_query_buffer_limit: u64 },
    int_param! { "active-expire-effort", MUTABLE, 1, 10, INTEGER, active_expire_effort: u32 },
    bool_param! { "latency-tracking", MUTABLE, latency_tracking },
    special_param! { "save", MUTABLE, MULTI_ARG, |_| Vec::new(), set_save },
    Param {
        name: "appendonly",
        alias: None,
        mutable: MUTABLE,
        kind: Kind::Bool {
            get: |_| false,
            set: |_, v| if v { Err(APPENDONLY_UNSUPPORTED.into()) } else { Ok(()) },
        },
    },
    bool_param! { "lazyfree-lazy-user-del", MUTABLE, lazyfree_lazy_user_del },
    bool_param! { "lazyfree-lazy-user-flush", MUTABLE, lazyfree_lazy_user_flush },
    int_param! { "list-max-listpack-size" | "list-max-ziplist-size", MUTABLE, INT_MIN, INT_MAX, INTEGER, list_max_listpack_size: i32 },
    int_param! { "hash-max-listpack-entries" | "hash-max-ziplist-entries", MUTABLE, 0, LONG_MAX, INTEGER, hash_max_listpack_entries: usize },
    int_param! { "hash-max-listpack-value" | "hash-max-ziplist-value", MUTABLE, 0, LONG_MAX, MEMORY, hash_max_listpack_value: usize },
    int_param! { "set-max-intset-entries", MUTABLE, 0, LONG_MAX, INTEGER, set_max_intset_entries: usize },
    int_param! { "set-max-listpack-entries", MUTABLE, 0, LONG_MAX, INTEGER, set_max_listpack_entries: usize },
    int_param! { "set-max-listpack-value", MUTABLE, 0, LONG_MAX, MEMORY, set_max_listpack_value: usize },
    int_param! { "zset-max-listpack-entries" | "zset-max-ziplist-entries", MUTABLE, 0, LONG_MAX, INTEGER, zset_max_listpack_entries: usize },
    int_param! { "zset-max-listpack-value" | "zset-max-ziplist-value", MUTABLE, 0, LONG_MAX, MEMORY, zset_max_listpack_value: usize },
    special_param! { "notify-keyspace-events", MUTABLE, ONE_ARG, |c| c.notify_keyspace_events.to_config_string().into_bytes(), set_notify },
    special_param! { "client-output-buffer-limit", MUTABLE, MULTI_ARG, get_output_limits, set_output_limits },
];

/// Redis 7.0 still accepts these in a config file and ignores them.
const DEPRECATED_DIRECTIVES: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// Directives Redis 7.0 knows that Shoal does not: a redis.conf that uses
/// them gets a clearer error than "Bad directive".
#[rustfmt::skip]
const REDIS_ONLY_DIRECTIVES: &[&str] = &[
    "acl-pubsub-default", "aclfile", "acllog-max-len", "active-defrag-cycle-max",
    "active-defrag-cycle-min", "active-defrag-ignore-bytes", "active-defrag-max-scan-fields",
    "active-defrag-threshold-lower", "active-defrag-threshold-upper", "activedefrag",
    "activerehashing", "always-show-logo", "aof-disable-auto-gc", "aof-load-truncated",
    "aof-rewrite-incremental-fsync", "aof-timestamp-enabled", "aof-use-rdb-preamble",
    "aof_rewrite_cpulist", "appenddirname", "appendfilename", "appendfsync",
    "auto-aof-rewrite-min-size", "auto-aof-rewrite-percentage", "bgsave_cpulist",
    "bind-source-addr", "bio_cpulist", "busy-reply-threshold",
    "cluster-allow-pubsubshard-when-down", "cluster-allow-reads-when-down",
    "cluster-allow-replica-migration", "cluster-announce-bus-port", "cluster-announce-hostname",
    "cluster-announce-ip", "cluster-announce-port", "cluster-announce-tls-port",
    "cluster-config-file", "cluster-enabled", "cluster-link-sendbuf-limit",
    "cluster-migration-barrier", "cluster-node-timeout", "cluster-port",
    "cluster-preferred-endpoint-type", "cluster-replica-no-failover",
    "cluster-replica-validity-factor", "cluster-require-full-coverage",
    "cluster-slave-no-failover", "cluster-slave-validity-factor", "crash-log-enabled",
    "crash-memcheck-enabled", "dbfilename", "disable-thp", "dynamic-hz", "enable-debug-command",
    "enable-module-command", "enable-protected-configs", "hll-sparse-max-bytes", "ignore-warnings",
    "io-threads", "io-threads-do-reads", "jemalloc-bg-thread", "latency-monitor-threshold",
    "latency-tracking-info-percentiles", "lazyfree-lazy-eviction", "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del", "list-compress-depth", "loadmodule", "lua-time-limit",
    "masterauth", "masteruser", "maxmemory-clients",
    "min-replicas-max-lag", "min-replicas-to-write", "min-slaves-max-lag", "min-slaves-to-write",
    "no-appendfsync-on-rewrite", "oom-score-adj", "oom-score-adj-values", "proc-title-template",
    "propagation-error-behavior", "rdb-del-sync-files", "rdb-save-incremental-fsync",
    "rdbchecksum", "rdbcompression", "rename-command", "repl-backlog-size", "repl-backlog-ttl",
    "repl-disable-tcp-nodelay", "repl-diskless-load", "repl-diskless-sync",
    "repl-diskless-sync-delay", "repl-diskless-sync-max-replicas", "repl-ping-replica-period",
    "repl-ping-slave-period", "repl-timeout", "replica-announce-ip", "replica-announce-port",
    "replica-announced", "replica-ignore-disk-write-errors", "replica-ignore-maxmemory",
    "replica-lazy-flush", "replica-priority", "replica-read-only", "replica-serve-stale-data",
    "replicaof", "sanitize-dump-payload", "sentinel", "server_cpulist", "set-proc-title",
    "shutdown-on-sigint", "shutdown-on-sigterm", "shutdown-timeout", "slave-announce-ip",
    "slave-announce-port", "slave-ignore-maxmemory", "slave-lazy-flush", "slave-priority",
    "slave-read-only", "slave-serve-stale-data", "slaveof", "slowlog-log-slower-than",
    "slowlog-max-len", "socket-mark-id", "stop-writes-on-bgsave-error", "stream-node-max-bytes",
    "stream-node-max-entries", "supervised", "syslog-enabled", "syslog-facility", "syslog-ident",
    "tls-auth-clients", "tls-ca-cert-dir", "tls-ca-cert-file", "tls-cert-file", "tls-ciphers",
    "tls-ciphersuites", "tls-client-cert-file", "tls-client-key-file", "tls-client-key-file-pass",
    "tls-cluster", "tls-dh-params-file", "tls-key-file", "tls-key-file-pass", "tls-port",
    "tls-prefer-server-ciphers", "tls-protocols", "tls-replication", "tls-session-cache-size",
    "tls-session-cache-timeout", "tls-session-caching", "tracking-table-max-keys", "unixsocket",
    "unixsocketperm", "user",
];

/// One name under which a parameter is known: Redis registers an alias as
/// an entry of its own, which shows in CONFIG GET globs, in duplicate
/// detection and in the name its errors quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    index: usize,
    alias: bool,
}

impl Entry {
    fn param(self) -> &'static Param {
        &PARAMS[self.index]
    }

    fn name(self) -> &'static str {
        let p = self.param();
        match (self.alias, p.alias) {
            (true, Some(alias)) => alias,
            _ => p.name,
        }
    }
}

fn entries() -> impl Iterator<Item = Entry> {
    PARAMS.iter().enumerate().flat_map(|(index, p)| {
        let alias = p.alias.map(|_| Entry { index, alias: true });
        std::iter::once(Entry {
            index,
            alias: false,
        })
        .chain(alias)
    })
}

fn lookup(name: &[u8]) -> Option<Entry> {
    entries().find(|e| e.name().as_bytes().eq_ignore_ascii_case(name))
}

fn get_value(cfg: &Config, param: &Param) -> Vec<u8> {
    match &param.kind {
        Kind::Bool { get, .. } => (if get(cfg) { "yes" } else { "no" }).into(),
        Kind::Int { get, .. } => get(cfg).to_string().into_bytes(),
        Kind::Enum { names, get, .. } => names.get(get(cfg)).copied().unwrap_or("unknown").into(),
        Kind::Special { get, .. } => get(cfg),
    }
}

/// Validates `args` for `param` and stores the result; `Err` is the reason
/// as Redis words it. Shared by the file, the options and CONFIG SET.
fn apply(cfg: &mut Config, param: &Param, args: &[&[u8]]) -> Result<(), String> {
    match &param.kind {
        Kind::Bool { set, .. } => {
            let v = single(args)?;
            if v.eq_ignore_ascii_case(b"yes") {
                set(cfg, true)
            } else if v.eq_ignore_ascii_case(b"no") {
                set(cfg, false)
            } else {
                Err("argument must be 'yes' or 'no'".into())
            }
        }
        Kind::Int {
            min,
            max,
            memory,
            set,
            ..
        } => {
            let v = single(args)?;
            let n = if *memory {
                memtoull(v)
                    .map(i128::from)
                    .ok_or("argument must be a memory value")?
            } else {
                string2ll(v)
                    .map(i128::from)
                    .ok_or("argument couldn't be parsed into an integer")?
            };
            if n < *min || n > *max {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            set(cfg, n);
            Ok(())
        }
        Kind::Enum { names, set, .. } => {
            let v = single(args)?;
            match names
                .iter()
                .position(|n| n.as_bytes().eq_ignore_ascii_case(v))
            {
                Some(i) => {
                    set(cfg, i);
                    Ok(())
                }
                None => Err(format!(
                    "argument(s) must be one of the following: {}",
                    names.join(", ")
                )),
            }
        }
        Kind::Special { set, .. } => set(cfg, args),
    }
}

fn single<'a>(args: &[&'a [u8]]) -> Result<&'a [u8], String> {
    match args {
        [one] => Ok(one),
        _ => Err("wrong number of arguments".into()),
    }
}

fn utf8(v: &[u8]) -> Result<String, String> {
    String::from_utf8(v.to_vec()).map_err(|_| "argument must be valid UTF-8".to_string())
}

fn set_requirepass(cfg: &mut Config, args: &[&[u8]]) -> Result<(), String> {
    let v = single(args)?;
    cfg.requirepass = (!v.is_empty()).then(|| v.to_vec());
    Ok(())
}

fn set_logfile(cfg: &mut Config, args: &[&[u8]]) -> Result<(), String> {
    cfg.logfile = utf8(single(args)?)?;
    Ok(())
}

fn set_pidfile(cfg: &mut Config, args: &[&[u8]]) -> Result<(), String> {
    cfg.pidfile = utf8(single(args)?)?;
    Ok(())
}

fn get_output_limits(cfg: &Config) -> Vec<u8> {
    let parts: Vec<String> = OUTPUT_LIMIT_CLASSES
        .iter()
        .zip(&cfg.client_output_buffer_limit)
        .map(|(name, l)| format!("{name} {} {} {}", l.hard, l.soft, l.soft_seconds))
        .collect();
    parts.join(" ").into_bytes()
}

/// `class hard soft seconds` groups; all are checked before any applies.
fn set_output_limits(cfg: &mut Config, args: &[&[u8]]) -> Result<(), String> {
    // CONFIG SET with an empty string changes nothing, as in Redis.
    let args = match args {
        [[]] => &[][..],
        _ => args,
    };
    if args.is_empty() {
        return Ok(());
    }
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut limits = cfg.client_output_buffer_limit;
    for group in args.chunks_exact(4) {
        let class = match &group[0].to_ascii_lowercase()[..] {
            b"normal" => 0,
            b"slave" | b"replica" => 1,
            b"pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let bad = || "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        let hard = memtoull(group[1]).ok_or_else(bad)?;
        let soft = memtoull(group[2]).ok_or_else(bad)?;
        let soft_seconds = c_strtoll_whole(group[3])
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(bad)?;
        limits[class] = OutputLimit {
            hard,
            soft,
            soft_seconds,
        };
    }
    cfg.client_output_buffer_limit = limits;
    Ok(())
}

fn set_notify(cfg: &mut Config, args: &[&[u8]]) -> Result<(), String> {
    cfg.notify_keyspace_events = KeyspaceEvents::parse(single(args)?)
        .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
    Ok(())
}

fn set_bind(cfg: &mut Config, args: &[&[u8]]) -> Result<(), String> {
    if args.len() > MAX_BIND_ADDRS {
        return Err("Too many bind addresses specified.".into());
    }
    let args = match args {
        [[]] => &[][..],
        _ => args,
    };
    cfg.bind = args.iter().map(|a| utf8(a)).collect::<Result<_, _>>()?;
    Ok(())
}

fn set_dir(cfg: &mut Config, args: &[&[u8]]) -> Result<(), String> {
    let path = bytes_to_path(single(args)?);
    std::env::set_current_dir(&path).map_err(|e| strerror(&e))?;
    // getcwd, as Redis's CONFIG GET dir reports: absolute, symlinks resolved.
    cfg.dir = std::env::current_dir()
        .or_else(|_| std::path::absolute(&path))
        .unwrap_or(path);
    Ok(())
}

/// Validates like Redis (pairs of seconds >= 1 and changes >= 0, parsed with
/// strtoll) so that a malformed line gets Redis's message, then refuses any
/// actual snapshot schedule.
fn set_save(_cfg: &mut Config, args: &[&[u8]]) -> Result<(), String> {
    let args = match args {
        [[]] => &[][..],
        _ => args,
    };
    if args.len() % 2 == 1 {
        return Err("Invalid save parameters".into());
    }
    for (j, arg) in args.iter().enumerate() {
        let min = if j % 2 == 0 { 1 } else { 0 };
        match c_strtoll_whole(arg) {
            Some(v) if v >= min => {}
            _ => return Err("Invalid save parameters".into()),
        }
    }
    if args.is_empty() {
        Ok(())
    } else {
        Err(SAVE_UNSUPPORTED.into())
    }
}

// ---------------------------------------------------------------------------
// Config file and command line loading
// ---------------------------------------------------------------------------

struct Loader {
    cfg: Config,
    depth: usize,
}

enum LineError {
    Reason(String),
    /// An error inside an included file, already located there.
    Nested(StartupError),
}

impl Loader {
    /// Lines are numbered from 1 within `text`, as Redis does per file.
    fn load_text(
        &mut self,
        text: &[u8],
        location: &dyn Fn(usize) -> Location,
    ) -> Result<(), StartupError> {
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = trim(raw);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let directive_error = |reason: String| StartupError::Directive {
                location: location(i + 1),
                line: lossy(line),
                reason,
            };
            let args = split_args(line)
                .ok_or_else(|| directive_error("Unbalanced quotes in configuration line".into()))?;
            match self.directive(&args) {
                Ok(()) => {}
                Err(LineError::Reason(reason)) => return Err(directive_error(reason)),
                Err(LineError::Nested(err)) => return Err(err),
            }
        }
        Ok(())
    }

    fn directive(&mut self, args: &[Vec<u8>]) -> Result<(), LineError> {
        let Some((name, values)) = args.split_first() else {
            return Ok(());
        };
        let values: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
        if let Some(entry) = lookup(name) {
            let param = entry.param();
            if !param.multi_arg() && values.len() != 1 {
                return Err(LineError::Reason("wrong number of arguments".into()));
            }
            return apply(&mut self.cfg, param, &values).map_err(LineError::Reason);
        }
        let is = |s: &str| s.as_bytes().eq_ignore_ascii_case(name);
        if values.len() == 1 && DEPRECATED_DIRECTIVES.iter().any(|d| is(d)) {
            return Ok(());
        }
        if values.len() == 1 && is("include") {
            return self.include(values[0]);
        }
        if REDIS_ONLY_DIRECTIVES.iter().any(|d| is(d)) {
            return Err(LineError::Reason(format!(
                "Unsupported directive: Shoal does not implement Redis's '{}'",
                lossy(name).to_ascii_lowercase()
            )));
        }
        Err(LineError::Reason(
            "Bad directive or wrong number of arguments".into(),
        ))
    }

    fn include(&mut self, pattern: &[u8]) -> Result<(), LineError> {
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(LineError::Reason(format!(
                "include nested more than {MAX_INCLUDE_DEPTH} levels deep (an include loop?)"
            )));
        }
        // With wildcards Redis includes whatever matches, possibly nothing,
        // so that an empty conf.d directory is fine.
        let paths = if pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
            glob_paths(pattern)
        } else {
            vec![bytes_to_path(pattern)]
        };
        for path in paths {
            let text = read_file(&path).map_err(|e| {
                LineError::Reason(format!(
                    "Can't open config file '{}': {}",
                    path.display(),
                    strerror(&e)
                ))
            })?;
            let shown = std::path::absolute(&path).unwrap_or(path);
            self.depth += 1;
            let result = self.load_text(&text, &|line| Location::File {
                path: shown.clone(),
                line,
            });
            self.depth -= 1;
            result.map_err(LineError::Nested)?;
        }
        Ok(())
    }
}

/// Expands an include pattern one path component at a time, like glob(3)
/// without flags: sorted, hidden entries only for patterns starting with a
/// dot, unreadable directories skipped.
fn glob_paths(pattern: &[u8]) -> Vec<PathBuf> {
    let absolute = pattern.first() == Some(&b'/');
    let mut candidates = vec![if absolute {
        PathBuf::from("/")
    } else {
        PathBuf::new()
    }];
    let components: Vec<&[u8]> = pattern
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .collect();
    for component in components {
        let wild = component.iter().any(|b| matches!(b, b'*' | b'?' | b'['));
        let mut next = Vec::new();
        for base in &candidates {
            if !wild {
                next.push(base.join(bytes_to_path(component)));
                continue;
            }
            let dir = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base.as_path()
            };
            let Ok(read) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut found: Vec<PathBuf> = read
                .filter_map(Result::ok)
                .map(|e| e.file_name())
                .filter(|n| {
                    let n = os_to_bytes(n.clone());
                    (component.first() == Some(&b'.') || n.first() != Some(&b'.'))
                        && glob_match(component, &n, false)
                })
                .map(|n| base.join(n))
                .collect();
            found.sort();
            next.extend(found);
        }
        candidates = next;
    }
    candidates.retain(|p| p.exists());
    candidates
}

enum CommandLine {
    Version,
    Help,
    Run(ParsedArgs),
}

struct ParsedArgs {
    config_file: Option<Vec<u8>>,
    read_stdin: bool,
    options: Vec<OptionLine>,
}

/// One `--name value ...` group, already rendered as a config line.
struct OptionLine {
    /// 0-based position of the argument that started it.
    index: usize,
    first_arg: Vec<u8>,
    text: Vec<u8>,
}

/// redis-server's main() argument handling, step for step, so the same
/// command lines mean the same thing: `--name` starts a line, following
/// arguments are quoted onto it (so a value may start with `--` right after
/// a bare `--name`), `--save` with no value means `save ""`, and `-` as the
/// first or last argument means "also read stdin".
fn parse_command_line(args: &[Vec<u8>]) -> CommandLine {
    let Some(first) = args.first() else {
        return CommandLine::Run(ParsedArgs {
            config_file: None,
            read_stdin: false,
            options: Vec::new(),
        });
    };
    // Like Redis, only the first argument is looked at for these.
    match first.as_slice() {
        b"-v" | b"--version" => return CommandLine::Version,
        b"-h" | b"--help" => return CommandLine::Help,
        _ => {}
    }

    let mut parsed = ParsedArgs {
        config_file: None,
        read_stdin: false,
        options: Vec::new(),
    };
    let mut j = 0;
    if first.first() != Some(&b'-') {
        parsed.config_file = Some(first.clone());
        j = 1;
    }
    let argc = args.len();
    let mut handled_last_config_arg = true;
    while j < argc {
        let arg = &args[j];
        if arg.as_slice() == b"-" && (j == 0 || j == argc - 1) {
            parsed.read_stdin = true;
        } else if handled_last_config_arg && arg.starts_with(b"--") {
            let mut text = arg[2..].to_vec();
            text.push(b' ');
            // A lone name ("--port") takes the next argument as its value
            // whatever it looks like; "--port 6380" in one argument does not.
            if split_args(arg).map_or(0, |v| v.len()) == 1 {
                handled_last_config_arg = false;
                if arg.eq_ignore_ascii_case(b"--save") {
                    if j == argc - 1 {
                        text.extend_from_slice(b"\"\"");
                    } else if args[j + 1].starts_with(b"--") {
                        text.extend_from_slice(b"\"\"");
                        handled_last_config_arg = true;
                    }
                }
            } else {
                handled_last_config_arg = true;
            }
            parsed.options.push(OptionLine {
                index: j,
                first_arg: arg.clone(),
                text,
            });
        } else {
            let mut quoted = repr(arg);
            quoted.push(b' ');
            match parsed.options.last_mut() {
                Some(line) => line.text.extend_from_slice(&quoted),
                None => parsed.options.push(OptionLine {
                    index: j,
                    first_arg: arg.clone(),
                    text: quoted,
                }),
            }
            handled_last_config_arg = true;
        }
        j += 1;
    }
    CommandLine::Run(parsed)
}

#[cfg(test)]
mod tests;
