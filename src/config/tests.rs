use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

fn bytes(list: &[&str]) -> Vec<Vec<u8>> {
    list.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn run_with_stdin(list: &[&str], stdin: &str) -> Result<Startup, StartupError> {
    let stdin = stdin.as_bytes().to_vec();
    Config::from_byte_args(&bytes(list), &mut || Ok(stdin.clone()))
}

fn run(list: &[&str]) -> Result<Startup, StartupError> {
    Config::from_byte_args(&bytes(list), &mut || {
        Err(io::Error::other("stdin must not be read here"))
    })
}

fn start(list: &[&str]) -> Config {
    match run(list) {
        Ok(Startup::Run(cfg)) => cfg,
        other => panic!("{list:?} gave {other:?}"),
    }
}

fn fail(list: &[&str]) -> StartupError {
    match run(list) {
        Err(e) => e,
        Ok(other) => panic!("{list:?} unexpectedly gave {other:?}"),
    }
}

fn reason(err: &StartupError) -> &str {
    match err {
        StartupError::Directive { reason, .. } => reason,
        other => panic!("not a directive error: {other:?}"),
    }
}

fn get(cfg: &Config, name: &str) -> String {
    let found = cfg.get(&[name.as_bytes()]);
    assert_eq!(found.len(), 1, "CONFIG GET {name}");
    lossy(&found[0].1)
}

fn set(cfg: &mut Config, pairs: &[(&str, &str)]) -> Result<(), String> {
    let pairs: Vec<(&[u8], &[u8])> = pairs
        .iter()
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        .collect();
    cfg.set(&pairs)
}

fn failed(name: &str, reason: &str) -> Result<(), String> {
    Err(format!(
        "ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}"
    ))
}

/// A fresh directory under the system temp dir; tests never chdir into
/// it, because the working directory is shared by every test thread.
fn temp_dir() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "shoal-config-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn cwd() -> String {
    std::env::current_dir()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

// --- the table ---------------------------------------------------------

#[test]
fn names_are_unique_lowercase_and_not_listed_as_redis_only() {
    let all: Vec<&str> = entries().map(|e| e.name()).collect();
    for (i, name) in all.iter().enumerate() {
        assert_eq!(*name, name.to_ascii_lowercase());
        assert!(!all[..i].contains(name), "{name} twice");
        assert!(!REDIS_ONLY_DIRECTIVES.contains(name), "{name}");
        assert!(!DEPRECATED_DIRECTIVES.contains(name), "{name}");
    }
    assert_eq!(Config::names().len(), PARAMS.len());
    assert!(Config::names().contains(&"shards"));
    assert!(!Config::names().contains(&"hash-max-ziplist-entries"));
}

#[test]
fn defaults_match_redis_7_0() {
    let cfg = Config::default_config();
    let expected = [
        ("port", "6379"),
        ("bind", "127.0.0.1"),
        ("requirepass", ""),
        ("maxclients", "10000"),
        ("databases", "16"),
        ("loglevel", "notice"),
        ("logfile", ""),
        ("timeout", "0"),
        ("tcp-keepalive", "300"),
        ("tcp-backlog", "511"),
        ("protected-mode", "yes"),
        ("daemonize", "no"),
        ("pidfile", ""),
        ("hz", "10"),
        ("maxmemory", "0"),
        ("maxmemory-policy", "noeviction"),
        ("maxmemory-samples", "5"),
        ("lfu-log-factor", "10"),
        ("lfu-decay-time", "1"),
        ("proto-max-bulk-len", "536870912"),
        ("client-query-buffer-limit", "1073741824"),
        ("active-expire-effort", "1"),
        ("latency-tracking", "yes"),
        ("save", ""),
        ("appendonly", "no"),
        ("lazyfree-lazy-user-del", "no"),
        ("lazyfree-lazy-user-flush", "no"),
        ("list-max-listpack-size", "-2"),
        ("list-max-ziplist-size", "-2"),
        ("hash-max-listpack-entries", "512"),
        ("hash-max-ziplist-entries", "512"),
        ("hash-max-listpack-value", "64"),
        ("hash-max-ziplist-value", "64"),
        ("set-max-intset-entries", "512"),
        ("set-max-listpack-entries", "128"),
        ("set-max-listpack-value", "64"),
        ("zset-max-listpack-entries", "128"),
        ("zset-max-ziplist-entries", "128"),
        ("zset-max-listpack-value", "64"),
        ("zset-max-ziplist-value", "64"),
        ("notify-keyspace-events", ""),
    ];
    for (name, value) in expected {
        assert_eq!(get(&cfg, name), value, "{name}");
    }
    assert_eq!(get(&cfg, "dir"), cwd());
    let shards: usize = get(&cfg, "shards").parse().unwrap();
    assert!((1..=1024).contains(&shards));
    // Every parameter has a default that the table can print.
    assert_eq!(
        cfg.get(&[b"*"]).len(),
        entries().count(),
        "every name and alias is gettable"
    );
}

/// CONFIG SET of a parameter's CONFIG GET value succeeds (or is refused as
/// immutable) and changes nothing; the same value as a config line is
/// accepted too. Checked on the defaults and on non-default values.
#[test]
fn every_entry_round_trips_through_get_and_set() {
    let mut changed = Config::default_config();
    set(
        &mut changed,
        &[
            ("requirepass", "p@ss word"),
            ("maxclients", "4294967295"),
            ("loglevel", "WARNING"),
            ("timeout", "2147483647"),
            ("protected-mode", "no"),
            ("hz", "100"),
            ("maxmemory", "18446744073709551615"),
            ("maxmemory-policy", "allkeys-mru"),
            ("proto-max-bulk-len", "1mb"),
            ("list-max-listpack-size", "-2147483648"),
            ("hash-max-listpack-value", "9223372036854775807"),
            ("notify-keyspace-events", "AKEm"),
            ("latency-tracking", "no"),
        ],
    )
    .unwrap();
    changed.bind = vec!["127.0.0.1".into(), "::1".into()];
    changed.logfile = "/var/log/shoal \"x\".log".into();
    changed.port = 0;
    for base in [Config::default_config(), changed] {
        for entry in entries() {
            let name = entry.name();
            let mut cfg = base.clone();
            let value = get(&cfg, name);
            let result = set(&mut cfg, &[(name, &value)]);
            if entry.param().mutable {
                assert_eq!(result, Ok(()), "{name} {value:?}");
            } else {
                assert_eq!(result, failed(name, "can't set immutable config"));
            }
            assert_eq!(cfg, base, "{name}");

            // As CONFIG REWRITE would write it: a list as separate words.
            let written = if entry.param().multi_arg() && !value.is_empty() {
                value.as_bytes().to_vec()
            } else {
                repr(value.as_bytes())
            };
            let line = [name.as_bytes(), b" ", &written].concat();
            let mut loader = Loader {
                cfg: base.clone(),
                depth: 0,
            };
            loader
                .load_text(&line, &|line| Location::Stdin { line })
                .unwrap();
            assert_eq!(loader.cfg, base, "{name} as a config line");
        }
    }
}

// --- CONFIG GET -----------------------------------------------------------

#[test]
fn get_matches_redis_7_0_rules() {
    let cfg = Config::default_config();
    // An exact name is case-insensitive and answered as spelled.
    assert_eq!(
        cfg.get(&[b"MAXMEMORY"]),
        vec![("MAXMEMORY".into(), b"0".to_vec())]
    );
    // Each parameter once, whichever pattern found it first.
    let got = cfg.get(&[b"maxmemory", b"MAXMEMORY", b"maxmem*"]);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "maxmemory",
            "maxmemory-policy",
            "maxmemory-samples",
            "maxmemory-eviction-tenacity"
        ]
    );
    let got = cfg.get(&[b"MAXMEMORY*", b"maxmemory"]);
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].0, "maxmemory");
    // Globs see aliases too, reported under the alias.
    let got = cfg.get(&[b"hash-max-*"]);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "hash-max-listpack-entries",
            "hash-max-ziplist-entries",
            "hash-max-listpack-value",
            "hash-max-ziplist-value"
        ]
    );
    assert_eq!(
        cfg.get(&[b"hash-max-ziplist-entries"]),
        vec![("hash-max-ziplist-entries".into(), b"512".to_vec())]
    );
    assert_eq!(cfg.get(&[b"maxmemor[y]"]).len(), 1);
    assert!(cfg.get(&[b"nonexistent"]).is_empty());
    assert!(cfg.get(&[b"max\\memory"]).is_empty());
    assert!(cfg.get(&[]).is_empty());
    let all = cfg.get(&[b"*", b"port"]);
    assert_eq!(all.len(), entries().count());
}

// --- CONFIG SET -----------------------------------------------------------

#[test]
fn set_error_texts_match_redis() {
    let mut cfg = Config::default_config();
    let base = cfg.clone();
    assert_eq!(
        set(&mut cfg, &[("foo", "bar")]),
        Err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'".into())
    );
    assert_eq!(
        set(&mut cfg, &[("timeout", "abc")]),
        failed("timeout", "argument couldn't be parsed into an integer")
    );
    assert_eq!(
        set(&mut cfg, &[("timeout", "-1")]),
        failed(
            "timeout",
            "argument must be between 0 and 2147483647 inclusive"
        )
    );
    assert_eq!(
        set(&mut cfg, &[("maxclients", "0")]),
        failed(
            "maxclients",
            "argument must be between 1 and 4294967295 inclusive"
        )
    );
    assert_eq!(
        set(&mut cfg, &[("proto-max-bulk-len", "1k")]),
        failed(
            "proto-max-bulk-len",
            "argument must be between 1048576 and 9223372036854775807 inclusive"
        )
    );
    assert_eq!(
        set(&mut cfg, &[("maxmemory", "-1")]),
        failed("maxmemory", "argument must be a memory value")
    );
    assert_eq!(
        set(&mut cfg, &[("protected-mode", "maybe")]),
        failed("protected-mode", "argument must be 'yes' or 'no'")
    );
    assert_eq!(
        set(&mut cfg, &[("loglevel", "foo")]),
        failed(
            "loglevel",
            "argument(s) must be one of the following: debug, verbose, notice, warning"
        )
    );
    assert_eq!(
        set(&mut cfg, &[("maxmemory-policy", "foo")]),
        failed(
            "maxmemory-policy",
            "argument(s) must be one of the following: volatile-lru, volatile-lfu, \
             volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, \
             noeviction, volatile-fifo, allkeys-fifo, volatile-mru, allkeys-mru"
        )
    );
    for name in [
        "databases",
        "port",
        "bind",
        "shards",
        "daemonize",
        "logfile",
        "pidfile",
    ] {
        assert_eq!(
            set(&mut cfg, &[(name, "1")]),
            failed(name, "can't set immutable config")
        );
    }
    assert_eq!(
        set(&mut cfg, &[("notify-keyspace-events", "EQ")]),
        failed(
            "notify-keyspace-events",
            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
        )
    );
    assert_eq!(
        set(&mut cfg, &[("save", "100")]),
        failed("save", "Invalid save parameters")
    );
    assert_eq!(
        set(&mut cfg, &[("save", "100  10")]),
        failed("save", "Invalid save parameters")
    );
    assert_eq!(
        set(&mut cfg, &[("save", "900 1")]),
        failed("save", SAVE_UNSUPPORTED)
    );
    assert_eq!(
        set(&mut cfg, &[("appendonly", "yes")]),
        failed("appendonly", APPENDONLY_UNSUPPORTED)
    );
    assert_eq!(
        set(&mut cfg, &[("appendonly", "maybe")]),
        failed("appendonly", "argument must be 'yes' or 'no'")
    );
    assert_eq!(
        set(&mut cfg, &[("dir", "/nonexistent/shoal/dir")]),
        failed("dir", "No such file or directory")
    );
    assert_eq!(cfg, base);
    assert_eq!(cwd(), path_to_string(&base.dir));
}

fn path_to_string(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

#[test]
fn set_reports_names_like_redis() {
    let mut cfg = Config::default_config();
    // Value errors quote the parameter's own (lowercase) name, alias kept.
    assert_eq!(
        set(&mut cfg, &[("HASH-MAX-ZIPLIST-ENTRIES", "abc")]),
        failed(
            "hash-max-ziplist-entries",
            "argument couldn't be parsed into an integer"
        )
    );
    assert_eq!(
        set(&mut cfg, &[("Maxmemory", "abc")]),
        failed("maxmemory", "argument must be a memory value")
    );
    // Name errors quote the argument as given.
    assert_eq!(
        set(&mut cfg, &[("maxmemory", "1"), ("MAXMEMORY", "2")]),
        failed("MAXMEMORY", "duplicate parameter")
    );
    assert_eq!(
        set(&mut cfg, &[("Databases", "1")]),
        failed("Databases", "can't set immutable config")
    );
    // The first name error wins, and name errors come before value errors.
    assert_eq!(
        set(&mut cfg, &[("databases", "1"), ("foo", "2")]),
        failed("databases", "can't set immutable config")
    );
    assert_eq!(
        set(&mut cfg, &[("foo", "2"), ("databases", "1")]),
        Err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'".into())
    );
    assert_eq!(
        set(&mut cfg, &[("maxmemory", "abc"), ("databases", "1")]),
        failed("databases", "can't set immutable config")
    );
    assert_eq!(
        set(&mut cfg, &[("timeout", "abc"), ("maxmemory", "xyz")]),
        failed("timeout", "argument couldn't be parsed into an integer")
    );
    assert_eq!(cfg, Config::default_config());
}

#[test]
fn set_is_all_or_nothing() {
    let mut cfg = Config::default_config();
    assert!(set(&mut cfg, &[("timeout", "5"), ("maxmemory", "xyz")]).is_err());
    assert_eq!(cfg.timeout, 0);
    assert!(set(&mut cfg, &[("dir", &cwd()), ("timeout", "x")]).is_err());
    assert_eq!(cfg, Config::default_config());
    set(&mut cfg, &[("timeout", "5"), ("maxmemory", "1gb")]).unwrap();
    assert_eq!((cfg.timeout, cfg.maxmemory), (5, 1 << 30));
    assert_eq!(set(&mut cfg, &[]), Ok(()));
}

#[test]
fn set_values() {
    let mut cfg = Config::default_config();
    // A name and its alias are separate entries to Redis: both apply.
    set(
        &mut cfg,
        &[
            ("hash-max-ziplist-entries", "1"),
            ("hash-max-listpack-entries", "2"),
        ],
    )
    .unwrap();
    assert_eq!(cfg.hash_max_listpack_entries, 2);
    set(&mut cfg, &[("hash-max-ziplist-value", "1kb")]).unwrap();
    assert_eq!(get(&cfg, "hash-max-listpack-value"), "1024");

    for (value, expected) in [("0", 1), ("1000", 500), ("77", 77)] {
        set(&mut cfg, &[("hz", value)]).unwrap();
        assert_eq!(cfg.hz, expected);
        assert_eq!(get(&cfg, "hz"), expected.to_string());
    }

    for (value, expected) in [
        ("1GB", 1u64 << 30),
        ("1g", 1_000_000_000),
        ("1k", 1000),
        ("1Kb", 1024),
        ("1M", 1_000_000),
        ("1mB", 1 << 20),
        ("1b", 1),
        ("007", 7),
        ("", 0),
        ("gb", 0),
        ("99999999999999999999", u64::MAX),
        ("99999999999999999999gb", u64::MAX),
    ] {
        set(&mut cfg, &[("maxmemory", value)]).unwrap();
        assert_eq!(cfg.maxmemory, expected, "{value}");
    }
    for bad in ["+5", " 5", "5 ", "1t", "1.5gb", "-0"] {
        assert!(set(&mut cfg, &[("maxmemory", bad)]).is_err(), "{bad}");
    }

    set(
        &mut cfg,
        &[("loglevel", "Debug"), ("maxmemory-policy", "ALLKEYS-LFU")],
    )
    .unwrap();
    assert_eq!(cfg.loglevel, LogLevel::Debug);
    assert_eq!(cfg.maxmemory_policy, EvictionPolicy::AllKeysLfu);
    assert_eq!(get(&cfg, "maxmemory-policy"), "allkeys-lfu");
    for policy in EvictionPolicy::ALL {
        set(&mut cfg, &[("maxmemory-policy", policy.as_str())]).unwrap();
        assert_eq!(cfg.maxmemory_policy, policy);
    }

    set(
        &mut cfg,
        &[("protected-mode", "NO"), ("lazyfree-lazy-user-del", "Yes")],
    )
    .unwrap();
    assert!(!cfg.protected_mode && cfg.lazyfree_lazy_user_del);

    set(&mut cfg, &[("requirepass", "secret")]).unwrap();
    assert_eq!(cfg.requirepass.as_deref(), Some(&b"secret"[..]));
    set(&mut cfg, &[("requirepass", "")]).unwrap();
    assert_eq!(cfg.requirepass, None);

    set(&mut cfg, &[("save", ""), ("appendonly", "no")]).unwrap();

    for (value, shown) in [
        ("KEA", "AKE"),
        ("Ex", "xE"),
        ("g$lshzxetd", "A"),
        ("g$lshzxet", "g$lshzxet"),
        ("AKEm", "AKEm"),
        ("nd", "dn"),
        // Redis 7.0 keeps `n` with `A` but does not show it.
        ("An", "A"),
        ("", ""),
    ] {
        set(&mut cfg, &[("notify-keyspace-events", value)]).unwrap();
        assert_eq!(get(&cfg, "notify-keyspace-events"), shown, "{value}");
    }
    set(&mut cfg, &[("notify-keyspace-events", "Kx")]).unwrap();
    let events = cfg.notify_keyspace_events;
    assert!(events.contains(KeyspaceEvents::KEYSPACE | KeyspaceEvents::EXPIRED));
    assert!(!events.contains(KeyspaceEvents::KEYEVENT));
    assert!(!events.is_disabled());

    set(&mut cfg, &[("dir", &cwd())]).unwrap();
    assert_eq!(get(&cfg, "dir"), cwd());
}

// --- the command line -------------------------------------------------------

#[test]
fn version_and_help_only_as_first_argument() {
    assert_eq!(run(&["-v"]), Ok(Startup::PrintVersion));
    assert_eq!(run(&["--version"]), Ok(Startup::PrintVersion));
    assert_eq!(run(&["-h"]), Ok(Startup::PrintHelp));
    assert_eq!(run(&["--help", "ignored"]), Ok(Startup::PrintHelp));
    let err = fail(&["--port", "1", "--version"]);
    assert_eq!(reason(&err), "Bad directive or wrong number of arguments");
    assert!(Config::version_text().starts_with("Shoal server v="));
    let help = Config::help_text();
    assert!(help.contains("Usage: shoal-server [/path/to/shoal.conf] [options] [-]"));
    assert!(help.contains("       port 6379  (startup only)\n"));
    assert!(help.contains("       requirepass \"\"\n"));
}

#[test]
fn options_override_defaults() {
    assert_eq!(start(&[]), Config::default_config());
    let cfg = start(&[
        "--port",
        "7000",
        "--bind",
        "127.0.0.1",
        "::1",
        "--maxmemory",
        "100mb",
        "--MAXMEMORY-POLICY",
        "allkeys-lru",
        "--shards",
        "3",
        "--save",
        "",
        "--hash-max-ziplist-entries",
        "7",
        "--list-max-ziplist-entries",
        "5",
    ]);
    assert_eq!(cfg.port, 7000);
    assert_eq!(cfg.bind, ["127.0.0.1", "::1"]);
    assert_eq!(cfg.maxmemory, 100 << 20);
    assert_eq!(cfg.maxmemory_policy, EvictionPolicy::AllKeysLru);
    assert_eq!(cfg.shards, 3);
    assert_eq!(cfg.hash_max_listpack_entries, 7);
    assert_eq!(cfg.config_file, None);
    assert_eq!(start(&["--port", "1", "--port", "2"]).port, 2);
    assert_eq!(start(&["--bind", ""]).bind, Vec::<String>::new());
}

#[test]
fn option_splitting_follows_redis_server() {
    // A whole directive in one argument.
    assert_eq!(start(&["--port 7001"]).port, 7001);
    // A value right after a bare name may start with "--".
    assert_eq!(
        start(&["--requirepass", "--foo"]).requirepass.as_deref(),
        Some(&b"--foo"[..])
    );
    // "--save" without a value is save "".
    assert_eq!(start(&["--save", "--port", "7002"]).port, 7002);
    assert_eq!(start(&["--port", "7003", "--save"]).port, 7003);

    let err = fail(&["--port", "7004", "abc"]);
    assert_eq!(
        err,
        StartupError::Directive {
            location: Location::Argument {
                index: 1,
                option: "--port".into()
            },
            line: "port \"7004\" \"abc\"".into(),
            reason: "wrong number of arguments".into(),
        }
    );
    let err = fail(&["--timeout", "1", "--port 7005 --loglevel", "x"]);
    assert_eq!(
        err,
        StartupError::Directive {
            location: Location::Argument {
                index: 3,
                option: "--port 7005 --loglevel".into()
            },
            line: "port 7005 --loglevel \"x\"".into(),
            reason: "wrong number of arguments".into(),
        }
    );
    assert_eq!(reason(&fail(&["--port"])), "wrong number of arguments");
    assert_eq!(
        reason(&fail(&["--port", "abc"])),
        "argument couldn't be parsed into an integer"
    );
    assert_eq!(
        reason(&fail(&["-x"])),
        "Bad directive or wrong number of arguments"
    );
    assert_eq!(
        reason(&fail(&["--foo", "bar"])),
        "Bad directive or wrong number of arguments"
    );
    assert_eq!(
        reason(&fail(&["--rdbcompression", "yes"])),
        "Unsupported directive: Shoal does not implement Redis's 'rdbcompression'"
    );
    assert_eq!(reason(&fail(&["--save", "900", "1"])), SAVE_UNSUPPORTED);
    assert_eq!(
        reason(&fail(&["--save", "900", "1", "300"])),
        "Invalid save parameters"
    );
    assert_eq!(
        reason(&fail(&["--daemonize", "yes"])),
        DAEMONIZE_UNSUPPORTED
    );
    assert_eq!(start(&["--daemonize", "no"]), Config::default_config());
    assert_eq!(
        reason(&fail(&["--shards", "0"])),
        "argument must be between 1 and 1024 inclusive"
    );
    // "-" only means stdin as the first or last argument.
    assert_eq!(
        reason(&fail(&["--loglevel", "debug", "-", "--port", "1"])),
        "wrong number of arguments"
    );
    // Values are quoted onto the line, so spaces and quotes survive.
    let err = fail(&["--loglevel", "a 'b\"\n"]);
    assert_eq!(
        err,
        StartupError::Directive {
            location: Location::Argument {
                index: 1,
                option: "--loglevel".into()
            },
            line: "loglevel \"a 'b\\\"\\n\"".into(),
            reason: "argument(s) must be one of the following: debug, verbose, notice, \
                     warning"
                .into(),
        }
    );
}

#[test]
fn stdin_is_read_for_a_first_or_last_dash() {
    let cfg = match run_with_stdin(&["-"], "port 7010\nloglevel debug\n") {
        Ok(Startup::Run(cfg)) => cfg,
        other => panic!("{other:?}"),
    };
    assert_eq!((cfg.port, cfg.loglevel), (7010, LogLevel::Debug));
    // Options come after stdin, so they win.
    let cfg = match run_with_stdin(&["--port", "7011", "-"], "port 7010\ntimeout 9") {
        Ok(Startup::Run(cfg)) => cfg,
        other => panic!("{other:?}"),
    };
    assert_eq!((cfg.port, cfg.timeout), (7011, 9));
    let err = run_with_stdin(&["-"], "\n\nport x\n").unwrap_err();
    assert_eq!(
        err.to_string().lines().nth(1).unwrap(),
        "Reading the configuration from stdin, at line 3"
    );
    let err = Config::from_byte_args(&bytes(&["-"]), &mut || Err(io::Error::from_raw_os_error(5)))
        .unwrap_err();
    assert!(matches!(err, StartupError::Stdin { .. }));
}

// --- config files ---------------------------------------------------------

#[test]
fn config_file_syntax() {
    let dir = temp_dir();
    let file = write(
        &dir,
        "shoal.conf",
        "# a comment\n\
         \n\
         \t  PORT 7020\r\n\
         port 7021\n\
         requirepass \"with space\\x21\"\n\
         pidfile 'it\\'s.pid'\n\
         bind 127.0.0.1 ::1\n\
         save \"\"\n\
         hash-max-ziplist-entries 64\n\
         list-max-ziplist-value 64\n\
         lua-replicate-commands yes\n\
         \x0b\n\
         maxmemory 2GB\n",
    );
    let cfg = start(&[&file]);
    assert_eq!(cfg.port, 7021);
    assert_eq!(cfg.requirepass.as_deref(), Some(&b"with space!"[..]));
    assert_eq!(cfg.pidfile, "it's.pid");
    assert_eq!(cfg.bind, ["127.0.0.1", "::1"]);
    assert_eq!(cfg.hash_max_listpack_entries, 64);
    assert_eq!(cfg.maxmemory, 2 << 30);
    assert_eq!(cfg.config_file.as_deref(), Some(Path::new(&file)));

    // Options are applied after the file; the log file is created.
    let log = dir.join("shoal.log");
    let cfg = start(&[&file, "--port", "7022", "--logfile", log.to_str().unwrap()]);
    assert_eq!(cfg.port, 7022);
    assert!(log.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn config_file_errors_name_file_line_and_reason() {
    let dir = temp_dir();
    let file = write(&dir, "bad.conf", "port 7030\n# c\nport 7031 # c\n");
    let err = fail(&[&file]);
    assert_eq!(
        err.to_string(),
        format!(
            "*** FATAL CONFIG FILE ERROR (Shoal {VERSION}) ***\n\
             Reading the configuration file '{file}', at line 3\n\
             >>> 'port 7031 # c'\n\
             wrong number of arguments"
        )
    );
    let cases = [
        ("port \"abc\n", "Unbalanced quotes in configuration line"),
        (
            "loglevel \"x\"y\n",
            "Unbalanced quotes in configuration line",
        ),
        ("include\n", "Bad directive or wrong number of arguments"),
        (
            "list-max-ziplist-entries\n",
            "Bad directive or wrong number of arguments",
        ),
        ("maxmemory-policy\n", "wrong number of arguments"),
        ("daemonize maybe\n", "argument must be 'yes' or 'no'"),
        ("appendonly yes\n", APPENDONLY_UNSUPPORTED),
        ("save 100 1 200\n", "Invalid save parameters"),
        (
            "notify-keyspace-events Q\n",
            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
        ),
        ("dir /nonexistent/shoal/dir\n", "No such file or directory"),
        ("logfile \"\\xff\"\n", "argument must be valid UTF-8"),
        (
            "replicaof 127.0.0.1 6380\n",
            "Unsupported directive: Shoal does not implement Redis's 'replicaof'",
        ),
    ];
    for (text, expected) in cases {
        let file = write(&dir, "case.conf", text);
        let err = fail(&[&file]);
        assert_eq!(reason(&err), expected, "{text:?}");
        assert!(matches!(
            err,
            StartupError::Directive {
                location: Location::File { line: 1, .. },
                ..
            }
        ));
    }

    let missing = dir.join("missing.conf");
    let err = fail(&[missing.to_str().unwrap()]);
    assert_eq!(
        err.to_string(),
        format!(
            "*** FATAL CONFIG FILE ERROR (Shoal {VERSION}) ***\n\
             Can't open config file '{}': No such file or directory",
            missing.display()
        )
    );
    let err = fail(&["--logfile", "/nonexistent/shoal/x.log"]);
    assert_eq!(
        err,
        StartupError::LogFile {
            path: "/nonexistent/shoal/x.log".into(),
            reason: "No such file or directory".into()
        }
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn include_files() {
    let dir = temp_dir();
    let d = dir.to_str().unwrap();
    std::fs::create_dir(dir.join("conf.d")).unwrap();
    write(&dir, "conf.d/b.conf", "timeout 2\nport 7041\n");
    write(&dir, "conf.d/a.conf", "timeout 1\nport 7040\n");
    write(&dir, "conf.d/.hidden.conf", "port 1\n");
    write(&dir, "inner.conf", "maxclients 5\n");
    let main = write(
        &dir,
        "main.conf",
        &format!(
            "port 7000\ninclude {d}/inner.conf\nINCLUDE {d}/conf.d/*.conf\n\
             include {d}/empty.d/*.conf\ntcp-keepalive 7\n"
        ),
    );
    let cfg = start(&[&main]);
    // Matches are included in sorted order, hidden files left out.
    assert_eq!((cfg.port, cfg.timeout, cfg.maxclients), (7041, 2, 5));
    assert_eq!(cfg.tcp_keepalive, 7);

    // Errors point into the included file.
    let bad = write(&dir, "bad.conf", "\nport x\n");
    let outer = write(&dir, "outer.conf", &format!("include {bad}\n"));
    let err = fail(&[&outer]);
    assert!(matches!(
        &err,
        StartupError::Directive { location: Location::File { path, line: 2 }, .. }
            if path == Path::new(&bad)
    ));

    let err = fail(&["--include", &format!("{d}/none.conf")]);
    assert_eq!(
        reason(&err),
        format!("Can't open config file '{d}/none.conf': No such file or directory")
    );

    let looping = write(&dir, "loop.conf", &format!("include {d}/loop.conf\n"));
    let err = fail(&[&looping]);
    assert!(reason(&err).contains("include nested more than"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dir_directive_uses_the_real_directory() {
    let here = cwd();
    assert_eq!(start(&["--dir", &here]).dir, PathBuf::from(&here));
    assert_eq!(
        reason(&fail(&["--dir", "/nonexistent/shoal/dir"])),
        "No such file or directory"
    );
    assert_eq!(cwd(), here);
}

// --- Redis's string primitives -------------------------------------------

fn split(s: &str) -> Option<Vec<String>> {
    split_args(s.as_bytes()).map(|v| v.iter().map(|a| lossy(a)).collect())
}

#[test]
fn split_args_matches_sdssplitargs() {
    let ok = |s: &str, expected: &[&str]| assert_eq!(split(s).unwrap(), expected, "{s:?}");
    ok("", &[]);
    ok(" \t ", &[]);
    ok("a b  c", &["a", "b", "c"]);
    ok("\"a b\" c", &["a b", "c"]);
    ok("\"\"", &[""]);
    ok("''", &[""]);
    ok("'it\\'s' x", &["it's", "x"]);
    ok("'a\\nb'", &["a\\nb"]);
    ok("\"\\x41\\x4a\\n\\t\\r\\\\\\\"\\q\"", &["AJ\n\t\r\\\"q"]);
    ok("\"\\x4\"", &["x4"]);
    ok("ab\"cd\" e", &["abcd", "e"]);
    ok("a\u{b}b", &["a\u{b}b"]);
    ok("a\0b c", &["a"]);
    for bad in ["\"abc", "'abc", "\"a\"b", "'a'b", "\"a\\\""] {
        assert_eq!(split(bad), None, "{bad:?}");
    }
}

#[test]
fn repr_reads_back_exactly() {
    let all: Vec<u8> = (1..=255).collect();
    let back = split_args(&repr(&all)).unwrap();
    assert_eq!(back, vec![all]);
    assert_eq!(repr(b"a\"b\\\n\x01"), b"\"a\\\"b\\\\\\n\\x01\"".to_vec());
}

#[test]
fn string2ll_matches_redis() {
    for (s, v) in [
        ("0", Some(0)),
        ("-1", Some(-1)),
        ("9223372036854775807", Some(i64::MAX)),
        ("-9223372036854775808", Some(i64::MIN)),
        ("9223372036854775808", None),
        ("-9223372036854775809", None),
        ("00", None),
        ("01", None),
        ("-0", None),
        ("+1", None),
        (" 1", None),
        ("1 ", None),
        ("-", None),
        ("", None),
        ("1k", None),
        ("99999999999999999999", None),
    ] {
        assert_eq!(string2ll(s.as_bytes()), v, "{s:?}");
    }
}

#[test]
fn strtoll_as_save_uses_it() {
    for (s, v) in [
        ("", Some(0)),
        ("12", Some(12)),
        (" 12", Some(12)),
        ("+12", Some(12)),
        ("-12", Some(-12)),
        ("12 ", None),
        (" ", None),
        ("+", None),
        ("x", None),
        ("99999999999999999999", Some(i64::MAX)),
    ] {
        assert_eq!(c_strtoll_whole(s.as_bytes()), v, "{s:?}");
    }
}

#[test]
fn strerror_drops_the_rust_suffix() {
    assert_eq!(
        strerror(&io::Error::from_raw_os_error(2)),
        "No such file or directory"
    );
}

// --- robustness -----------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self) -> Vec<u8> {
        const INTERESTING: &[u8] = b" \t\r\n\"'\\x0123456789-+kKmMgGbB#*?[]yesnoAKE";
        let len = self.below(12);
        (0..len)
            .map(|_| {
                if self.below(3) == 0 {
                    self.next() as u8
                } else {
                    INTERESTING[self.below(INTERESTING.len())]
                }
            })
            .collect()
    }
}

/// Arbitrary input must produce errors, never panics. `dir` and
/// `include` are kept out: they touch the process's cwd and files.
#[test]
fn arbitrary_input_never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let names: Vec<&str> = entries()
        .map(|e| e.name())
        .filter(|n| *n != "dir")
        .collect();
    let mut cfg = Config::default_config();
    for _ in 0..20_000 {
        let a = rng.bytes();
        let _ = split_args(&a);
        let _ = string2ll(&a);
        let _ = memtoull(&a);
        let _ = c_strtoll_whole(&a);
        let _ = KeyspaceEvents::parse(&a);
        let _ = cfg.get(&[&a]);

        let name = names[rng.below(names.len())].as_bytes().to_vec();
        let name = if rng.below(4) == 0 { rng.bytes() } else { name };
        if name.eq_ignore_ascii_case(b"dir") {
            continue;
        }
        let value = rng.bytes();
        let _ = cfg.set(&[(&name, &value)]);

        let line = [name.as_slice(), b" ", &value].concat();
        let mut loader = Loader {
            cfg: cfg.clone(),
            depth: 0,
        };
        let args = split_args(&line).unwrap_or_default();
        let touches_fs = args
            .first()
            .is_some_and(|n| n.eq_ignore_ascii_case(b"dir") || n.eq_ignore_ascii_case(b"include"));
        if !touches_fs {
            let _ = loader.load_text(&line, &|line| Location::Stdin { line });
        }

        let argv: Vec<Vec<u8>> = (0..rng.below(5)).map(|_| rng.bytes()).collect();
        let _ = parse_command_line(&argv);
    }
    assert!((1..=500).contains(&cfg.hz));
}

#[test]
fn oversized_input_is_refused() {
    let err = read_capped(io::repeat(b'#')).unwrap_err();
    assert_eq!(
        strerror(&err),
        "larger than 64 MiB, too large for a config file"
    );
    let dir = temp_dir();
    let err = fail(&["--include", dir.to_str().unwrap()]);
    assert!(reason(&err).ends_with("Is a directory"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
