//! The string family against a real server. Every expected reply below was
//! first taken from redis-server 7.0.15 with the same commands, byte for
//! byte (the `$`/`:`/`_` wire forms included), so a difference is a bug here.

mod common;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

const TOO_BIG: &str = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";

fn bytes_wire(raw: &mut Raw, args: &[&[u8]]) -> Vec<u8> {
    raw.send(args);
    raw.read_wire()
}

/// Stores a value of some other type at `key` with whichever command of
/// another family this build has; false when it has none yet.
fn make_non_string(raw: &mut Raw, key: &str) -> bool {
    let attempts: [&[&str]; 5] = [
        &["LPUSH", key, "a"],
        &["SADD", key, "a"],
        &["HSET", key, "f", "v"],
        &["ZADD", key, "1", "a"],
        &["XADD", key, "*", "f", "v"],
    ];
    attempts.iter().any(|cmd| {
        !matches!(raw.call(cmd), Frame::Error(_)) && raw.wire(&["TYPE", key]) != "+string\r\n"
    })
}

/// A key whose slot falls on `shard` of a 2-shard server.
fn key_on_shard(prefix: &str, shard: usize) -> String {
    (0..)
        .map(|i| format!("{prefix}:{i}"))
        .find(|k| usize::from(shoal::util::slot::key_slot(k.as_bytes()) >= 8192) == shard)
        .unwrap_or_default()
}

fn pttl(raw: &mut Raw, key: &str) -> i64 {
    match raw.call(&["PTTL", key]) {
        Frame::Integer(v) => v,
        other => panic!("PTTL answered {other:?}"),
    }
}

/// Waits (at most two seconds) until `key` no longer exists.
fn wait_gone(raw: &mut Raw, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while raw.wire(&["EXISTS", key]) != ":0\r\n" {
        assert!(Instant::now() < deadline, "{key} never expired");
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn get_and_set_basics() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("GET nokey", "$-1\r\n"),
            ("SET k v", "+OK\r\n"),
            ("GET k", "$1\r\nv\r\n"),
            ("SET k other", "+OK\r\n"),
            ("GET k", "$5\r\nother\r\n"),
            ("SET e \"\"", "+OK\r\n"),
            ("GET e", "$0\r\n\r\n"),
            ("STRLEN e", ":0\r\n"),
            ("TYPE e", "+string\r\n"),
            (
                "GET",
                "-ERR wrong number of arguments for 'get' command\r\n",
            ),
            (
                "GET a b",
                "-ERR wrong number of arguments for 'get' command\r\n",
            ),
            (
                "SET k",
                "-ERR wrong number of arguments for 'set' command\r\n",
            ),
            ("SET k v foo", SYNTAX),
            ("SET k v \"\"", SYNTAX),
        ],
    );
}

#[test]
fn set_option_conflicts_and_repeats() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("SET k v ex 10 px 100", SYNTAX),
            ("SET k v NX XX", SYNTAX),
            ("SET k v xx nx", SYNTAX),
            ("SET k v KEEPTTL EX 10", SYNTAX),
            ("SET k v PX 10 KEEPTTL", SYNTAX),
            ("SET k v EXAT 10 PXAT 10", SYNTAX),
            ("SET k v EX", SYNTAX),
            ("SET k v GET EX", SYNTAX),
            ("SET k v PERSIST", SYNTAX),
            ("SET k v NXX", SYNTAX),
            // Repeating an option is fine; the last time given wins.
            ("SET k v EX 10 EX 20", "+OK\r\n"),
            ("TTL k", ":20\r\n"),
            ("SET k v nx nx", "$-1\r\n"),
            ("SET k v2 xX Xx", "+OK\r\n"),
            ("SET k v3 GET GET", "$2\r\nv2\r\n"),
            ("SET k v4 PX 30000 px 40000", "+OK\r\n"),
            ("SET k v5 KEEPTTL keepttl", "+OK\r\n"),
            ("TTL k", ":40\r\n"),
        ],
    );
}

/// Every ordered choice of up to three options, in several letter cases,
/// against a missing key and a key with a TTL: the reply, the value and the
/// TTL after it. The expected outcome is computed from Redis's rules, which
/// the cases above pin down individually.
#[test]
fn set_option_matrix() {
    #[derive(Clone, Copy, PartialEq)]
    enum Opt {
        Nx,
        Xx,
        Get,
        KeepTtl,
        Ex,
        Px,
        ExAt,
        PxAt,
    }
    let tokens: [(Opt, &[&str]); 10] = [
        (Opt::Nx, &["NX"]),
        (Opt::Xx, &["xx"]),
        (Opt::Get, &["Get"]),
        (Opt::KeepTtl, &["KEEPTTL"]),
        (Opt::Ex, &["ex", "100"]),
        (Opt::Px, &["PX", "200000"]),
        (Opt::ExAt, &["EXAT", "4102444800"]),
        (Opt::PxAt, &["pxat", "4102444800000"]),
        (Opt::KeepTtl, &["keepTTL"]),
        (Opt::Ex, &["EX", "300"]),
    ];
    let server = TestServer::start(1);
    let mut raw = server.raw();
    let mut combos: Vec<Vec<usize>> = vec![vec![]];
    for _ in 0..3 {
        let mut longer = Vec::new();
        for c in combos
            .iter()
            .filter(|c| c.len() == combos.last().map_or(0, Vec::len))
        {
            for t in 0..tokens.len() {
                let mut n = c.clone();
                n.push(t);
                longer.push(n);
            }
        }
        combos.extend(longer);
    }
    let is_expire = |o: Opt| matches!(o, Opt::Ex | Opt::Px | Opt::ExAt | Opt::PxAt);
    for combo in &combos {
        let opts: Vec<Opt> = combo.iter().map(|&t| tokens[t].0).collect();
        let has = |o: Opt| opts.contains(&o);
        let expire_kinds: Vec<Opt> = {
            let mut k: Vec<Opt> = opts.iter().copied().filter(|&o| is_expire(o)).collect();
            k.dedup();
            k
        };
        let syntax_error = (has(Opt::Nx) && has(Opt::Xx))
            || expire_kinds.len() > 1
            || (has(Opt::KeepTtl) && !expire_kinds.is_empty());
        let last_expire = combo.iter().rev().find(|&&t| is_expire(tokens[t].0));
        for existing in [false, true] {
            raw.call(&["DEL", "k"]);
            if existing {
                raw.call(&["SET", "k", "old", "EX", "50"]);
            }
            let mut cmd = vec!["SET", "k", "new"];
            for &t in combo {
                cmd.extend_from_slice(tokens[t].1);
            }
            let reply = raw.wire(&cmd);
            let label = cmd.join(" ");
            if syntax_error {
                assert_eq!(reply, SYNTAX, "{label}");
                continue;
            }
            let blocked = (has(Opt::Nx) && existing) || (has(Opt::Xx) && !existing);
            let expected_reply = match (has(Opt::Get), existing, blocked) {
                (true, true, _) => "$3\r\nold\r\n",
                (true, false, _) | (false, _, true) => "$-1\r\n",
                (false, _, false) => "+OK\r\n",
            };
            assert_eq!(reply, expected_reply, "{label}");
            let value = raw.wire(&["GET", "k"]);
            let ttl = raw.wire(&["TTL", "k"]);
            if blocked {
                let expected = if existing { "$3\r\nold\r\n" } else { "$-1\r\n" };
                assert_eq!(value, expected, "{label}");
                continue;
            }
            assert_eq!(value, "$3\r\nnew\r\n", "{label}");
            let expected_ttl = match last_expire.map(|&t| tokens[t].1[1]) {
                Some("100") => Some(100),
                Some("200000") => Some(200),
                Some("300") => Some(300),
                Some(_) => None, // an absolute time: far away, checked below
                None if has(Opt::KeepTtl) && existing => Some(50),
                None => Some(-1),
            };
            match expected_ttl {
                Some(t) => assert_eq!(ttl, format!(":{t}\r\n"), "{label}"),
                None => assert!(ttl.starts_with(":2"), "{label}: {ttl}"),
            }
        }
    }
}

#[test]
fn set_expire_times() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    let invalid = "-ERR invalid expire time in 'set' command\r\n";
    script(
        &mut raw,
        &[
            ("SET k v EX 0", invalid),
            ("SET k v EX -1", invalid),
            ("SET k v PX 0", invalid),
            ("SET k v PXAT 0", invalid),
            ("SET k v EXAT -5", invalid),
            // Seconds that overflow once made milliseconds...
            ("SET k v EX 9223372036854776", invalid),
            ("SET k v EXAT 9223372036854776", invalid),
            // ...or once the current time is added.
            ("SET k v EX 9223372036854775", invalid),
            ("SET k v PX 9223372036854775807", invalid),
            ("SET k v EX abc", NOT_INT),
            ("SET k v PX 1.5", NOT_INT),
            ("SET k v EX 010", NOT_INT),
            ("EXISTS k", ":0\r\n"),
            // Absolute times do not add the clock, so these are fine.
            ("SET k v EXAT 9223372036854775", "+OK\r\n"),
            ("SET k v PXAT 9223372036854775807", "+OK\r\n"),
            ("GET k", "$1\r\nv\r\n"),
            // A time already past is accepted and the key is gone at once.
            ("SET k v EXAT 1", "+OK\r\n"),
            ("GET k", "$-1\r\n"),
            ("SET k v PXAT 1", "+OK\r\n"),
            ("EXISTS k", ":0\r\n"),
            // The options are validated before GET looks at the key.
            ("SET k v GET EX 0", invalid),
        ],
    );
    assert_eq!(raw.wire(&["SET", "k", "v", "PX", "100000"]), "+OK\r\n");
    let ms = pttl(&mut raw, "k");
    assert!((99_000..=100_000).contains(&ms), "{ms}");
    assert_eq!(raw.wire(&["SET", "k", "v", "PX", "30"]), "+OK\r\n");
    wait_gone(&mut raw, "k");
}

#[test]
fn set_get_keepttl_and_ttl_clearing() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("SET k v GET", "$-1\r\n"),
            ("SET k v2 GET", "$1\r\nv\r\n"),
            // NX with GET: nothing is set and the current value comes back.
            ("SET k v3 NX GET", "$2\r\nv2\r\n"),
            ("GET k", "$2\r\nv2\r\n"),
            ("SET k v3 XX GET", "$2\r\nv2\r\n"),
            ("SET nokey v XX GET", "$-1\r\n"),
            ("EXISTS nokey", ":0\r\n"),
            ("SET nokey v NX GET", "$-1\r\n"),
            ("GET nokey", "$1\r\nv\r\n"),
            ("SET k v EX 100", "+OK\r\n"),
            ("SET k v2 KEEPTTL", "+OK\r\n"),
            ("TTL k", ":100\r\n"),
            ("SET k v3 GET KEEPTTL", "$2\r\nv2\r\n"),
            ("TTL k", ":100\r\n"),
            ("SET k v4", "+OK\r\n"),
            ("TTL k", ":-1\r\n"),
            ("SET k v5 KEEPTTL", "+OK\r\n"),
            ("TTL k", ":-1\r\n"),
            ("SET fresh v KEEPTTL", "+OK\r\n"),
            ("TTL fresh", ":-1\r\n"),
        ],
    );
}

#[test]
fn setnx_setex_psetex() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("SETNX k v", ":1\r\n"),
            ("SETNX k w", ":0\r\n"),
            ("GET k", "$1\r\nv\r\n"),
            (
                "SETNX k",
                "-ERR wrong number of arguments for 'setnx' command\r\n",
            ),
            ("SETEX k 100 w", "+OK\r\n"),
            ("GET k", "$1\r\nw\r\n"),
            ("TTL k", ":100\r\n"),
            (
                "SETEX k 0 v",
                "-ERR invalid expire time in 'setex' command\r\n",
            ),
            (
                "SETEX k -1 v",
                "-ERR invalid expire time in 'setex' command\r\n",
            ),
            ("SETEX k abc v", NOT_INT),
            (
                "SETEX k 9223372036854776 v",
                "-ERR invalid expire time in 'setex' command\r\n",
            ),
            (
                "SETEX k 10",
                "-ERR wrong number of arguments for 'setex' command\r\n",
            ),
            ("PSETEX k 100000 x", "+OK\r\n"),
            ("GET k", "$1\r\nx\r\n"),
            ("TTL k", ":100\r\n"),
            (
                "PSETEX k -5 v",
                "-ERR invalid expire time in 'psetex' command\r\n",
            ),
            (
                "PSETEX k 0 v",
                "-ERR invalid expire time in 'psetex' command\r\n",
            ),
            ("PSETEX k 1.5 v", NOT_INT),
            // SETNX on a key with a TTL keeps both.
            ("SETNX k y", ":0\r\n"),
            ("TTL k", ":100\r\n"),
        ],
    );
    assert_eq!(raw.wire(&["PSETEX", "short", "20", "v"]), "+OK\r\n");
    wait_gone(&mut raw, "short");
    // An expired key is free for SETNX again.
    assert_eq!(raw.wire(&["SETNX", "short", "again"]), ":1\r\n");
}

#[test]
fn getset_getdel_getex() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("GETSET k v", "$-1\r\n"),
            ("GETSET k w", "$1\r\nv\r\n"),
            ("EXPIRE k 100", ":1\r\n"),
            ("GETSET k x", "$1\r\nw\r\n"),
            ("TTL k", ":-1\r\n"),
            (
                "GETSET k",
                "-ERR wrong number of arguments for 'getset' command\r\n",
            ),
            ("GETDEL k", "$1\r\nx\r\n"),
            ("EXISTS k", ":0\r\n"),
            ("GETDEL k", "$-1\r\n"),
            (
                "GETDEL k x",
                "-ERR wrong number of arguments for 'getdel' command\r\n",
            ),
            ("GETEX nokey", "$-1\r\n"),
            // A missing key answers null before the time is even looked at.
            ("GETEX nokey EX 0", "$-1\r\n"),
            ("GETEX nokey EX abc", "$-1\r\n"),
            ("GETEX nokey FOO", SYNTAX),
            ("SET k v", "+OK\r\n"),
            ("GETEX k", "$1\r\nv\r\n"),
            (
                "GETEX k EX 0",
                "-ERR invalid expire time in 'getex' command\r\n",
            ),
            (
                "GETEX k PX -1",
                "-ERR invalid expire time in 'getex' command\r\n",
            ),
            (
                "GETEX k EX 9223372036854775",
                "-ERR invalid expire time in 'getex' command\r\n",
            ),
            ("GETEX k EX abc", NOT_INT),
            ("GETEX k NX", SYNTAX),
            ("GETEX k KEEPTTL", SYNTAX),
            ("GETEX k GET", SYNTAX),
            ("GETEX k EX 10 PERSIST", SYNTAX),
            ("GETEX k PERSIST EX 10", SYNTAX),
            ("GETEX k EX 10 PX 10", SYNTAX),
            ("GETEX k EX", SYNTAX),
            ("GETEX k \"\"", SYNTAX),
            ("TTL k", ":-1\r\n"),
            ("GETEX k ex 100", "$1\r\nv\r\n"),
            ("TTL k", ":100\r\n"),
            ("GETEX k EX 10 EX 200", "$1\r\nv\r\n"),
            ("TTL k", ":200\r\n"),
            ("GETEX k PERSIST persist", "$1\r\nv\r\n"),
            ("TTL k", ":-1\r\n"),
            ("GETEX k EXAT 4102444800", "$1\r\nv\r\n"),
            ("GETEX k", "$1\r\nv\r\n"),
            ("GETEX k PERSIST", "$1\r\nv\r\n"),
            ("TTL k", ":-1\r\n"),
            ("GETEX k EXAT 9223372036854775", "$1\r\nv\r\n"),
            (
                "GETEX k EXAT 9223372036854776",
                "-ERR invalid expire time in 'getex' command\r\n",
            ),
            // An absolute time already past deletes the key after the reply.
            ("GETEX k PXAT 1", "$1\r\nv\r\n"),
            ("EXISTS k", ":0\r\n"),
            ("SET k v", "+OK\r\n"),
            ("GETEX k EXAT 1", "$1\r\nv\r\n"),
            ("GET k", "$-1\r\n"),
        ],
    );
    assert_eq!(raw.wire(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(raw.wire(&["GETEX", "k", "PX", "100000"]), "$1\r\nv\r\n");
    let ms = pttl(&mut raw, "k");
    assert!((99_000..=100_000).contains(&ms), "{ms}");
    let at = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
        + 50_000)
        .to_string();
    assert_eq!(raw.wire(&["GETEX", "k", "PXAT", &at]), "$1\r\nv\r\n");
    let ms = pttl(&mut raw, "k");
    assert!((45_000..=50_000).contains(&ms), "{ms}");
    assert_eq!(raw.wire(&["GETEX", "k", "PX", "20"]), "$1\r\nv\r\n");
    wait_gone(&mut raw, "k");
}

#[test]
fn mget_mset_msetnx() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("MSET a 1 b 2 c 3", "+OK\r\n"),
            (
                "MGET a b nokey c",
                "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$1\r\n3\r\n",
            ),
            ("MGET nokey", "*1\r\n$-1\r\n"),
            (
                "MSET a",
                "-ERR wrong number of arguments for 'mset' command\r\n",
            ),
            (
                "MSET a 1 b",
                "-ERR wrong number of arguments for 'mset' command\r\n",
            ),
            (
                "MSETNX a 1 b",
                "-ERR wrong number of arguments for 'msetnx' command\r\n",
            ),
            (
                "MGET",
                "-ERR wrong number of arguments for 'mget' command\r\n",
            ),
            // A repeated key: the last value wins.
            ("MSET d 1 d 2", "+OK\r\n"),
            ("GET d", "$1\r\n2\r\n"),
            ("MSETNX x 1 y 2", ":1\r\n"),
            ("MSETNX y 3 z 4", ":0\r\n"),
            ("EXISTS z", ":0\r\n"),
            ("GET y", "$1\r\n2\r\n"),
            ("MSETNX z 1 z 2", ":1\r\n"),
            ("GET z", "$1\r\n2\r\n"),
            // MSET drops TTLs like SET.
            ("EXPIRE a 100", ":1\r\n"),
            ("MSET a 9", "+OK\r\n"),
            ("TTL a", ":-1\r\n"),
            ("OBJECT ENCODING a", "$3\r\nint\r\n"),
        ],
    );
}

#[test]
fn multi_key_commands_across_shards() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let a: Vec<String> = (0..3).map(|i| key_on_shard(&format!("a{i}"), 0)).collect();
    let b: Vec<String> = (0..3).map(|i| key_on_shard(&format!("b{i}"), 1)).collect();
    assert_eq!(
        raw.call(&["MSET", &a[0], "1", &b[0], "2", &a[1], "3", &b[1], "4"]),
        simple("OK")
    );
    assert_eq!(
        raw.call(&["MGET", &b[1], &a[1], &b[0], &a[0], &b[2], &a[2]]),
        arr(vec![
            bulk("4"),
            bulk("3"),
            bulk("2"),
            bulk("1"),
            Frame::NullBulk,
            Frame::NullBulk
        ])
    );
    // MSETNX looks at every shard's keys before writing any of them.
    assert_eq!(raw.call(&["MSETNX", &a[2], "x", &b[0], "y"]), int(0));
    assert_eq!(raw.call(&["EXISTS", &a[2]]), int(0));
    assert_eq!(raw.call(&["MSETNX", &a[2], "x", &b[2], "y"]), int(1));
    assert_eq!(
        raw.call(&["MGET", &a[2], &b[2]]),
        arr(vec![bulk("x"), bulk("y")])
    );
    // LCS reads one key on each shard.
    raw.call(&["SET", &a[0], "ohmytext"]);
    raw.call(&["SET", &b[0], "mynewtext"]);
    assert_eq!(raw.call(&["LCS", &a[0], &b[0]]), bulk("mytext"));
    assert_eq!(raw.call(&["LCS", &b[0], &a[0], "LEN"]), int(6));
    // The RESP3 null inside MGET comes from the remote shard as well.
    let mut raw3 = raw3(&server);
    assert_eq!(
        raw3.wire(&["MGET", &a[0], &key_on_shard("none", 1), &b[0]]),
        "*3\r\n$8\r\nohmytext\r\n_\r\n$9\r\nmynewtext\r\n"
    );
}

/// Two clients race MSETNX over the same two keys (one on each shard) in
/// opposite order: exactly one wins each round, and both keys always hold
/// the winner's value, never one of each.
#[test]
fn cross_shard_msetnx_is_all_or_nothing() {
    let server = TestServer::start(2);
    let rounds = 300;
    let keys: Arc<Vec<(String, String)>> = Arc::new(
        (0..rounds)
            .map(|r| {
                (
                    key_on_shard(&format!("x{r}"), 0),
                    key_on_shard(&format!("y{r}"), 1),
                )
            })
            .collect(),
    );
    let racers: Vec<_> = ["first", "second"]
        .into_iter()
        .map(|name| {
            let (keys, addr) = (Arc::clone(&keys), server.addr);
            thread::spawn(move || {
                let mut raw = Raw::connect(addr);
                keys.iter()
                    .map(|(x, y)| {
                        let reply = if name == "first" {
                            raw.call(&["MSETNX", x, name, y, name])
                        } else {
                            raw.call(&["MSETNX", y, name, x, name])
                        };
                        reply == int(1)
                    })
                    .collect::<Vec<bool>>()
            })
        })
        .collect();
    let wins: Vec<Vec<bool>> = racers
        .into_iter()
        .map(|t| t.join().expect("racer"))
        .collect();
    let mut raw = server.raw();
    for (r, (x, y)) in keys.iter().enumerate() {
        assert!(
            wins[0][r] ^ wins[1][r],
            "round {r}: exactly one MSETNX wins"
        );
        let winner = if wins[0][r] { "first" } else { "second" };
        assert_eq!(
            raw.call(&["MGET", x, y]),
            arr(vec![bulk(winner), bulk(winner)]),
            "round {r}"
        );
    }
}

#[test]
fn append_and_strlen() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    let long = "0123456789012345678901234567890123456789012345";
    script(
        &mut raw,
        &[
            ("APPEND k hello", ":5\r\n"),
            ("APPEND k ,world", ":11\r\n"),
            ("GET k", "$11\r\nhello,world\r\n"),
            ("STRLEN k", ":11\r\n"),
            ("STRLEN nokey", ":0\r\n"),
            (
                "STRLEN",
                "-ERR wrong number of arguments for 'strlen' command\r\n",
            ),
            (
                "APPEND k",
                "-ERR wrong number of arguments for 'append' command\r\n",
            ),
            // A missing key is created as SET would create it...
            ("APPEND n 123", ":3\r\n"),
            ("OBJECT ENCODING n", "$3\r\nint\r\n"),
            ("APPEND s abc", ":3\r\n"),
            ("OBJECT ENCODING s", "$6\r\nembstr\r\n"),
            // ...even when empty.
            ("APPEND empty \"\"", ":0\r\n"),
            ("EXISTS empty", ":1\r\n"),
            ("TYPE empty", "+string\r\n"),
            // Appending to an existing string makes it raw, even nothing.
            ("APPEND n \"\"", ":3\r\n"),
            ("OBJECT ENCODING n", "$3\r\nraw\r\n"),
            ("APPEND s \"\"", ":3\r\n"),
            ("OBJECT ENCODING s", "$3\r\nraw\r\n"),
            ("SET i 12", "+OK\r\n"),
            ("APPEND i 34", ":4\r\n"),
            ("GET i", "$4\r\n1234\r\n"),
            ("STRLEN i", ":4\r\n"),
            ("SET neg -12345", "+OK\r\n"),
            ("STRLEN neg", ":6\r\n"),
            ("INCR i", ":1235\r\n"),
            ("OBJECT ENCODING i", "$3\r\nint\r\n"),
            ("SETEX t 100 a", "+OK\r\n"),
            ("APPEND t b", ":2\r\n"),
            ("TTL t", ":100\r\n"),
        ],
    );
    assert_eq!(raw.wire(&["APPEND", "long", long]), ":46\r\n");
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "long"]), "$3\r\nraw\r\n");
    // Many small appends build one long string.
    for i in 1..=2000 {
        assert_eq!(
            raw.wire(&["APPEND", "grow", "xy"]),
            format!(":{}\r\n", i * 2)
        );
    }
    assert_eq!(raw.wire(&["STRLEN", "grow"]), ":4000\r\n");
    assert_eq!(raw.wire(&["GETRANGE", "grow", "-3", "-1"]), "$3\r\nyxy\r\n");
}

#[test]
fn incr_decr_family() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("INCR n", ":1\r\n"),
            ("INCR n", ":2\r\n"),
            ("DECR n", ":1\r\n"),
            ("INCRBY n 10", ":11\r\n"),
            ("INCRBY n -20", ":-9\r\n"),
            ("DECRBY n -9", ":0\r\n"),
            ("DECRBY n 5", ":-5\r\n"),
            ("OBJECT ENCODING n", "$3\r\nint\r\n"),
            ("DECR m", ":-1\r\n"),
            ("INCRBY o -5", ":-5\r\n"),
            ("DECRBY p -5", ":5\r\n"),
            ("INCRBY n abc", NOT_INT),
            ("INCRBY n 1.5", NOT_INT),
            ("INCRBY n \"\"", NOT_INT),
            ("INCRBY n 9223372036854775808", NOT_INT),
            ("DECRBY n 9223372036854775808", NOT_INT),
            (
                "DECRBY n -9223372036854775808",
                "-ERR decrement would overflow\r\n",
            ),
            (
                "INCR",
                "-ERR wrong number of arguments for 'incr' command\r\n",
            ),
            (
                "INCRBY n",
                "-ERR wrong number of arguments for 'incrby' command\r\n",
            ),
            (
                "DECR a b",
                "-ERR wrong number of arguments for 'decr' command\r\n",
            ),
            ("SET max 9223372036854775807", "+OK\r\n"),
            ("INCR max", "-ERR increment or decrement would overflow\r\n"),
            (
                "INCRBY max 1",
                "-ERR increment or decrement would overflow\r\n",
            ),
            (
                "DECRBY max -1",
                "-ERR increment or decrement would overflow\r\n",
            ),
            ("INCRBY max -1", ":9223372036854775806\r\n"),
            ("SET min -9223372036854775808", "+OK\r\n"),
            ("DECR min", "-ERR increment or decrement would overflow\r\n"),
            (
                "DECRBY min 1",
                "-ERR increment or decrement would overflow\r\n",
            ),
            (
                "INCRBY min -1",
                "-ERR increment or decrement would overflow\r\n",
            ),
            ("DECRBY min -9223372036854775807", ":-1\r\n"),
            ("SET x abc", "+OK\r\n"),
            ("INCR x", NOT_INT),
            ("SET x 1.0", "+OK\r\n"),
            ("INCR x", NOT_INT),
            ("SET x -0", "+OK\r\n"),
            ("INCR x", NOT_INT),
            ("SET x 01", "+OK\r\n"),
            ("DECR x", NOT_INT),
            ("SET x 123456789012345678901", "+OK\r\n"),
            ("INCR x", NOT_INT),
            ("GET x", "$21\r\n123456789012345678901\r\n"),
            // A numeric string built by APPEND is counted from too.
            ("SET y 4", "+OK\r\n"),
            ("APPEND y 2", ":2\r\n"),
            ("OBJECT ENCODING y", "$3\r\nraw\r\n"),
            ("INCR y", ":43\r\n"),
            ("OBJECT ENCODING y", "$3\r\nint\r\n"),
            // Counters keep the TTL.
            ("SET t 10 EX 100", "+OK\r\n"),
            ("INCR t", ":11\r\n"),
            ("DECRBY t 2", ":9\r\n"),
            ("TTL t", ":100\r\n"),
            ("GET t", "$1\r\n9\r\n"),
        ],
    );
}

#[test]
fn incrbyfloat_formats_like_redis() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    // (stored value, increment, reply) as redis-server 7.0.15 answered.
    let rows: &[(&str, &str, &str)] = &[
        ("10.50", "0.1", "$4\r\n10.6\r\n"),
        ("5.0e3", "2.0e2", "$4\r\n5200\r\n"),
        ("0.1", "0.2", "$3\r\n0.3\r\n"),
        ("1", "-1", "$1\r\n0\r\n"),
        ("-1.5", "0.5", "$2\r\n-1\r\n"),
        ("3", "1.5e-5", "$8\r\n3.000015\r\n"),
        ("1e17", "1", "$18\r\n100000000000000001\r\n"),
        ("0", "1e-18", "$1\r\n0\r\n"),
        ("0x10", "1", "$2\r\n17\r\n"),
        ("1", "0x1p3", "$1\r\n9\r\n"),
        ("9223372036854775807", "1", "$19\r\n9223372036854775808\r\n"),
        ("2.5", "-2.5", "$1\r\n0\r\n"),
        ("1", "+1.5", "$3\r\n2.5\r\n"),
        ("1", ".5", "$3\r\n1.5\r\n"),
        ("1", "5.", "$1\r\n6\r\n"),
        ("5005.6", "0", "$22\r\n5005.60000000000000009\r\n"),
        ("5.6", "5.0e3", "$22\r\n5005.60000000000000009\r\n"),
        (
            "1",
            "1.23456789012345678901234567890",
            "$19\r\n2.23456789012345679\r\n",
        ),
        (
            "1e50",
            "0",
            "$51\r\n100000000000000000003583830118858923890798487404544\r\n",
        ),
        (
            "1",
            "inf",
            "-ERR increment would produce NaN or Infinity\r\n",
        ),
        (
            "1",
            "-inf",
            "-ERR increment would produce NaN or Infinity\r\n",
        ),
        (
            "inf",
            "0",
            "-ERR increment would produce NaN or Infinity\r\n",
        ),
        ("1", "nan", NOT_FLOAT),
        ("1", "abc", NOT_FLOAT),
        ("1", "1e5000", NOT_FLOAT),
        ("1", "", NOT_FLOAT),
        ("1", " 1", NOT_FLOAT),
        ("1", "1 ", NOT_FLOAT),
        ("abc", "1", NOT_FLOAT),
        (" 1", "1", NOT_FLOAT),
        ("1\n", "1", NOT_FLOAT),
        ("1.5.5", "1", NOT_FLOAT),
    ];
    for (current, increment, expected) in rows {
        let case = format!("{current:?} + {increment:?}");
        assert_eq!(raw.wire(&["SET", "f", current]), "+OK\r\n");
        assert_eq!(
            raw.wire(&["INCRBYFLOAT", "f", increment]),
            *expected,
            "{case}"
        );
        // The stored value is the reply; a refused increment changes nothing.
        let stored = match expected.strip_prefix('$') {
            Some(_) => expected.split("\r\n").nth(1).unwrap_or_default(),
            None => current,
        };
        assert_eq!(raw.call(&["GET", "f"]), bulk(stored), "{case}");
    }
    script(
        &mut raw,
        &[
            ("INCRBYFLOAT nf 3.0", "$1\r\n3\r\n"),
            ("GET nf", "$1\r\n3\r\n"),
            // Stored as a plain string, never as an int, even when integral.
            ("OBJECT ENCODING nf", "$6\r\nembstr\r\n"),
            ("INCRBYFLOAT nf2 -0", "$1\r\n0\r\n"),
            ("SET big 1e50", "+OK\r\n"),
            (
                "INCRBYFLOAT big 0",
                "$51\r\n100000000000000000003583830118858923890798487404544\r\n",
            ),
            ("OBJECT ENCODING big", "$3\r\nraw\r\n"),
            ("SET t 1.5 EX 100", "+OK\r\n"),
            ("INCRBYFLOAT t 1", "$3\r\n2.5\r\n"),
            ("TTL t", ":100\r\n"),
            (
                "INCRBYFLOAT t",
                "-ERR wrong number of arguments for 'incrbyfloat' command\r\n",
            ),
        ],
    );
    // 1e4932 is past double but within long double: 4933 digits come back.
    assert_eq!(
        raw.wire(&["SET", "huge", "1.7976931348623157e308"]),
        "+OK\r\n"
    );
    match raw.call(&["INCRBYFLOAT", "huge", "1e4932"]) {
        Frame::Bulk(b) => {
            assert_eq!(b.len(), 4933);
            assert!(b.starts_with(b"10000000000000000000060189493879638913238"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn getrange_and_substr() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("SET s hello", "+OK\r\n"),
            ("GETRANGE s 0 -1", "$5\r\nhello\r\n"),
            ("GETRANGE s 1 3", "$3\r\nell\r\n"),
            ("GETRANGE s -1 -5", "$0\r\n\r\n"),
            ("GETRANGE s 0 -100", "$1\r\nh\r\n"),
            ("GETRANGE s -100 -99", "$1\r\nh\r\n"),
            ("GETRANGE s -100 100", "$5\r\nhello\r\n"),
            ("GETRANGE s 3 2", "$0\r\n\r\n"),
            ("GETRANGE s 5 10", "$0\r\n\r\n"),
            ("GETRANGE s 4 10", "$1\r\no\r\n"),
            ("GETRANGE s -3 -2", "$2\r\nll\r\n"),
            (
                "GETRANGE s -9223372036854775808 9223372036854775807",
                "$5\r\nhello\r\n",
            ),
            (
                "GETRANGE s 9223372036854775807 -9223372036854775808",
                "$0\r\n\r\n",
            ),
            ("GETRANGE s 1 9223372036854775808", NOT_INT),
            ("GETRANGE s a 1", NOT_INT),
            ("GETRANGE s 0 1.0", NOT_INT),
            ("GETRANGE nokey 0 -1", "$0\r\n\r\n"),
            ("GETRANGE nokey a 0", NOT_INT),
            (
                "GETRANGE s 0",
                "-ERR wrong number of arguments for 'getrange' command\r\n",
            ),
            ("SET e \"\"", "+OK\r\n"),
            ("GETRANGE e 0 -1", "$0\r\n\r\n"),
            ("GETRANGE e -1 0", "$0\r\n\r\n"),
            ("SET i -12345", "+OK\r\n"),
            ("GETRANGE i 0 0", "$1\r\n-\r\n"),
            ("GETRANGE i 1 2", "$2\r\n12\r\n"),
            ("SUBSTR s 1 3", "$3\r\nell\r\n"),
            ("SUBSTR s -2 -1", "$2\r\nlo\r\n"),
            ("SUBSTR nokey 0 1", "$0\r\n\r\n"),
            (
                "SUBSTR s 0",
                "-ERR wrong number of arguments for 'substr' command\r\n",
            ),
        ],
    );
}

#[test]
fn setrange() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("SET s Hello_World", "+OK\r\n"),
            ("SETRANGE s 6 Redis", ":11\r\n"),
            ("GET s", "$11\r\nHello_Redis\r\n"),
            ("SETRANGE pad 3 ab", ":5\r\n"),
            ("GET pad", "$5\r\n\0\0\0ab\r\n"),
            ("OBJECT ENCODING pad", "$3\r\nraw\r\n"),
            ("SETRANGE pad 1 x", ":5\r\n"),
            ("GET pad", "$5\r\n\0x\0ab\r\n"),
            // Nothing to write: nothing created, the length replied.
            ("SETRANGE nokey 0 \"\"", ":0\r\n"),
            ("SETRANGE nokey 100 \"\"", ":0\r\n"),
            ("EXISTS nokey", ":0\r\n"),
            ("SETRANGE pad 100 \"\"", ":5\r\n"),
            ("SETRANGE pad 9223372036854775807 \"\"", ":5\r\n"),
            ("STRLEN pad", ":5\r\n"),
            ("SETRANGE nokey -1 x", "-ERR offset is out of range\r\n"),
            ("SETRANGE nokey -1 \"\"", "-ERR offset is out of range\r\n"),
            ("SETRANGE nokey abc x", NOT_INT),
            ("SETRANGE nokey 9223372036854775808 x", NOT_INT),
            ("SETRANGE nokey 536870912 x", TOO_BIG),
            ("SETRANGE nokey 9223372036854775807 x", TOO_BIG),
            ("SETRANGE pad 536870911 xy", TOO_BIG),
            ("EXISTS nokey", ":0\r\n"),
            (
                "SETRANGE nokey 0",
                "-ERR wrong number of arguments for 'setrange' command\r\n",
            ),
            // An int becomes a raw string; setting nothing leaves it alone.
            ("SET n 123", "+OK\r\n"),
            ("SETRANGE n 0 \"\"", ":3\r\n"),
            ("OBJECT ENCODING n", "$3\r\nint\r\n"),
            ("SETRANGE n 0 4", ":3\r\n"),
            ("OBJECT ENCODING n", "$3\r\nraw\r\n"),
            ("GET n", "$3\r\n423\r\n"),
            ("INCR n", ":424\r\n"),
            ("SETEX t 100 abc", "+OK\r\n"),
            ("SETRANGE t 1 X", ":3\r\n"),
            ("GET t", "$3\r\naXc\r\n"),
            ("TTL t", ":100\r\n"),
        ],
    );
}

/// proto-max-bulk-len bounds what APPEND and SETRANGE may build and how
/// large a table LCS may allocate; Redis's minimum setting, 1 MB, keeps the
/// test light.
#[test]
fn size_limits_follow_proto_max_bulk_len() {
    let server = TestServer::with(|c| {
        c.shards = 1;
        c.proto_max_bulk_len = 1024 * 1024;
    });
    let mut raw = server.raw();
    let chunk = "z".repeat(600_000);
    assert_eq!(raw.wire(&["APPEND", "c", &chunk]), ":600000\r\n");
    assert_eq!(raw.wire(&["APPEND", "c", &chunk]), TOO_BIG);
    assert_eq!(
        raw.wire(&["APPEND", "c", &"z".repeat(448_576)]),
        ":1048576\r\n"
    );
    assert_eq!(raw.wire(&["APPEND", "c", "z"]), TOO_BIG);
    assert_eq!(raw.wire(&["APPEND", "c", ""]), ":1048576\r\n");
    assert_eq!(raw.wire(&["SETRANGE", "d", "1048576", "x"]), TOO_BIG);
    assert_eq!(raw.wire(&["EXISTS", "d"]), ":0\r\n");
    assert_eq!(raw.wire(&["SETRANGE", "d", "1048575", "x"]), ":1048576\r\n");
    assert_eq!(raw.wire(&["SETRANGE", "d", "1048576", ""]), ":1048576\r\n");
    assert_eq!(raw.wire(&["SETRANGE", "d", "1048576", "x"]), TOO_BIG);
    assert_eq!(raw.wire(&["SETRANGE", "d", "1048575", "yz"]), TOO_BIG);
    assert_eq!(raw.wire(&["SETRANGE", "d", "1048575", "y"]), ":1048576\r\n");
    // LCS needs (1 + len) squared 4-byte cells: 601 * 601 * 4 > 1 MB.
    raw.call(&["SET", "a", &"x".repeat(600)]);
    raw.call(&["SET", "b", &"y".repeat(600)]);
    let lcs_too_big =
        "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n";
    assert_eq!(raw.wire(&["LCS", "a", "b"]), lcs_too_big);
    assert_eq!(raw.wire(&["LCS", "a", "b", "LEN"]), lcs_too_big);
    raw.call(&["SET", "a", &"x".repeat(500)]);
    raw.call(&["SET", "b", &"x".repeat(500)]);
    assert_eq!(raw.wire(&["LCS", "a", "b", "LEN"]), ":500\r\n");
}

#[test]
fn lcs_replies() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("MSET key1 ohmytext key2 mynewtext", "+OK\r\n"),
            ("LCS key1 key2", "$6\r\nmytext\r\n"),
            ("LCS key1 key2 LEN", ":6\r\n"),
            ("LCS key1 key2 len LEN", ":6\r\n"),
            (
                "LCS key1 key2 IDX",
                "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n\
                 *2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n",
            ),
            (
                "LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN",
                "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
                 $3\r\nlen\r\n:6\r\n",
            ),
            (
                "LCS key1 key2 idx withmatchlen minmatchlen -5",
                "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
                 *3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n",
            ),
            // WITHMATCHLEN and MINMATCHLEN mean nothing without IDX.
            ("LCS key1 key2 LEN MINMATCHLEN 2 WITHMATCHLEN", ":6\r\n"),
            ("LCS key1 key2 WITHMATCHLEN", "$6\r\nmytext\r\n"),
            (
                "LCS key1 nokey IDX",
                "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n",
            ),
            ("LCS nokey nokey2", "$0\r\n\r\n"),
            ("LCS nokey nokey2 LEN", ":0\r\n"),
            (
                "LCS key1 key2 LEN IDX",
                "-ERR If you want both the length and indexes, please just use IDX.\r\n",
            ),
            ("LCS key1 key2 MINMATCHLEN abc", NOT_INT),
            ("LCS key1 key2 MINMATCHLEN 99999999999999999999", NOT_INT),
            ("LCS key1 key2 MINMATCHLEN", SYNTAX),
            ("LCS key1 key2 FOO", SYNTAX),
            ("LCS key1 nokey FOO", SYNTAX),
            (
                "LCS key1",
                "-ERR wrong number of arguments for 'lcs' command\r\n",
            ),
            // Ties resolve as Redis's walk back through the table does.
            ("MSET a abcabc b cbacba", "+OK\r\n"),
            ("LCS a b", "$3\r\ncbc\r\n"),
            (
                "LCS a b IDX WITHMATCHLEN",
                "*4\r\n$7\r\nmatches\r\n*3\r\n*3\r\n*2\r\n:5\r\n:5\r\n*2\r\n:3\r\n:3\r\n:1\r\n\
                 *3\r\n*2\r\n:4\r\n:4\r\n*2\r\n:1\r\n:1\r\n:1\r\n*3\r\n*2\r\n:2\r\n:2\r\n\
                 *2\r\n:0\r\n:0\r\n:1\r\n$3\r\nlen\r\n:3\r\n",
            ),
            ("MSET a 1234 b 1234", "+OK\r\n"),
            (
                "LCS a b IDX WITHMATCHLEN",
                "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:0\r\n:3\r\n*2\r\n:0\r\n:3\r\n:4\r\n\
                 $3\r\nlen\r\n:4\r\n",
            ),
        ],
    );
    let mut raw3 = raw3(&server);
    script(
        &mut raw3,
        &[
            (
                "LCS key1 key2 IDX WITHMATCHLEN",
                "%2\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
                 *3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n",
            ),
            (
                "LCS key1 nokey IDX",
                "%2\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n",
            ),
            ("LCS key1 key2 LEN", ":6\r\n"),
            ("LCS key1 key2", "$6\r\nmytext\r\n"),
        ],
    );
}

#[test]
fn resp3_null_forms() {
    let server = TestServer::start(1);
    let mut raw = raw3(&server);
    script(
        &mut raw,
        &[
            ("GET nokey", "_\r\n"),
            ("GETDEL nokey", "_\r\n"),
            ("GETEX nokey", "_\r\n"),
            ("GETSET k v", "_\r\n"),
            ("SET k v NX", "_\r\n"),
            ("SET nokey v XX", "_\r\n"),
            ("SET nokey v XX GET", "_\r\n"),
            ("SET other v GET", "_\r\n"),
            ("MGET k nokey", "*2\r\n$1\r\nv\r\n_\r\n"),
            ("SETNX k v", ":0\r\n"),
            ("GETRANGE nokey 0 1", "$0\r\n\r\n"),
            ("INCRBYFLOAT f 1.5", "$3\r\n1.5\r\n"),
            ("SET k v", "+OK\r\n"),
        ],
    );
    // The same through a client library.
    let mut con = server.client3();
    let missing: Option<String> = redis::cmd("GET").arg("nokey").query(&mut con).expect("GET");
    assert_eq!(missing, None);
    let values: Vec<Option<String>> = redis::cmd("MGET")
        .arg("k")
        .arg("nokey")
        .query(&mut con)
        .expect("MGET");
    assert_eq!(values, vec![Some("v".to_string()), None]);
}

#[test]
fn binary_safe_keys_values_and_options() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let key: &[u8] = b"a\0b\r\nc";
    let value: &[u8] = b"\0\r\n$-1\r\n\xff";
    assert_eq!(bytes_wire(&mut raw, &[b"SET", key, value]), b"+OK\r\n");
    assert_eq!(
        bytes_wire(&mut raw, &[b"GET", key]),
        b"$9\r\n\0\r\n$-1\r\n\xff\r\n"
    );
    assert_eq!(bytes_wire(&mut raw, &[b"GET", b"a"]), b"$-1\r\n");
    assert_eq!(bytes_wire(&mut raw, &[b"STRLEN", key]), b":9\r\n");
    assert_eq!(bytes_wire(&mut raw, &[b"APPEND", key, b"\0"]), b":10\r\n");
    assert_eq!(
        bytes_wire(&mut raw, &[b"GETRANGE", key, b"-2", b"-1"]),
        b"$2\r\n\xff\0\r\n"
    );
    assert_eq!(
        bytes_wire(&mut raw, &[b"MSET", b"x\0", b"1", b"y\r\n", b"2"]),
        b"+OK\r\n"
    );
    assert_eq!(
        bytes_wire(&mut raw, &[b"MGET", b"x\0", b"y\r\n", b"x"]),
        b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n"
    );
    // Numbers are not C strings: a NUL makes them invalid.
    assert_eq!(bytes_wire(&mut raw, &[b"SET", b"n", b"12\0"]), b"+OK\r\n");
    assert_eq!(bytes_wire(&mut raw, &[b"INCR", b"n"]), NOT_INT.as_bytes());
    assert_eq!(
        bytes_wire(&mut raw, &[b"INCRBYFLOAT", b"n", b"1"]),
        NOT_FLOAT.as_bytes()
    );
    assert_eq!(
        bytes_wire(&mut raw, &[b"INCRBY", b"m", b"1\0"]),
        NOT_INT.as_bytes()
    );
    assert_eq!(
        bytes_wire(&mut raw, &[b"SET", b"k", b"v", b"EX", b"100\0"]),
        NOT_INT.as_bytes()
    );
    // Option keywords are C strings in Redis: they end at the first NUL.
    assert_eq!(
        bytes_wire(&mut raw, &[b"SET", b"k", b"v", b"NX\0junk"]),
        b"+OK\r\n"
    );
    assert_eq!(
        bytes_wire(&mut raw, &[b"SET", b"k", b"v2", b"XX\0"]),
        b"+OK\r\n"
    );
    assert_eq!(
        bytes_wire(&mut raw, &[b"SET", b"k", b"v4", b"EX\0", b"100"]),
        b"+OK\r\n"
    );
    assert_eq!(bytes_wire(&mut raw, &[b"TTL", b"k"]), b":100\r\n");
    assert_eq!(
        bytes_wire(&mut raw, &[b"SET", b"k", b"v5", b"KEEPTTL\0zz"]),
        b"+OK\r\n"
    );
    assert_eq!(bytes_wire(&mut raw, &[b"TTL", b"k"]), b":100\r\n");
    assert_eq!(
        bytes_wire(&mut raw, &[b"SET", b"k", b"v", b"GET\0a"]),
        b"$2\r\nv5\r\n"
    );
    assert_eq!(
        bytes_wire(&mut raw, &[b"GETEX", b"k", b"PERSIST\0x"]),
        b"$1\r\nv\r\n"
    );
    assert_eq!(bytes_wire(&mut raw, &[b"TTL", b"k"]), b":-1\r\n");
    assert_eq!(
        bytes_wire(&mut raw, &[b"SET", b"k", b"v", b"\0NX"]),
        SYNTAX.as_bytes()
    );
    assert_eq!(
        bytes_wire(&mut raw, &[b"LCS", b"k", b"k", b"LEN\0x"]),
        b":1\r\n"
    );
    // LCS compares bytes, NULs included.
    assert_eq!(
        bytes_wire(&mut raw, &[b"MSET", b"{l}1", b"a\0b\0c", b"{l}2", b"\0\0"]),
        b"+OK\r\n"
    );
    assert_eq!(
        bytes_wire(&mut raw, &[b"LCS", b"{l}1", b"{l}2"]),
        b"$2\r\n\0\0\r\n"
    );
    // Through a client library, as bytes.
    let mut con = server.client();
    let big: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let _: () = redis::cmd("SET")
        .arg(&b"bin\0key"[..])
        .arg(&big)
        .query(&mut con)
        .expect("SET");
    let back: Vec<u8> = redis::cmd("GET")
        .arg(&b"bin\0key"[..])
        .query(&mut con)
        .expect("GET");
    assert_eq!(back, big);
}

#[test]
fn object_encodings_match_redis() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    let long = "x".repeat(45);
    let edge = "x".repeat(44);
    script(
        &mut raw,
        &[
            ("SET a 123", "+OK\r\n"),
            ("OBJECT ENCODING a", "$3\r\nint\r\n"),
            ("SET a -9223372036854775808", "+OK\r\n"),
            ("OBJECT ENCODING a", "$3\r\nint\r\n"),
            ("SET a 9223372036854775808", "+OK\r\n"),
            ("OBJECT ENCODING a", "$6\r\nembstr\r\n"),
            ("SET a 01", "+OK\r\n"),
            ("OBJECT ENCODING a", "$6\r\nembstr\r\n"),
            ("SET a -0", "+OK\r\n"),
            ("OBJECT ENCODING a", "$6\r\nembstr\r\n"),
            ("SET a abc", "+OK\r\n"),
            ("OBJECT ENCODING a", "$6\r\nembstr\r\n"),
            ("GETSET a 5", "$3\r\nabc\r\n"),
            ("OBJECT ENCODING a", "$3\r\nint\r\n"),
            ("SETEX a 10 6", "+OK\r\n"),
            ("OBJECT ENCODING a", "$3\r\nint\r\n"),
            ("INCRBYFLOAT a 1", "$1\r\n7\r\n"),
            ("OBJECT ENCODING a", "$6\r\nembstr\r\n"),
            ("INCR a", ":8\r\n"),
            ("OBJECT ENCODING a", "$3\r\nint\r\n"),
        ],
    );
    assert_eq!(raw.wire(&["SET", "e", &edge]), "+OK\r\n");
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "e"]), "$6\r\nembstr\r\n");
    assert_eq!(raw.wire(&["SET", "l", &long]), "+OK\r\n");
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "l"]), "$3\r\nraw\r\n");
    assert_eq!(raw.wire(&["MSET", "m", &long, "n", "42"]), "+OK\r\n");
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "m"]), "$3\r\nraw\r\n");
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "n"]), "$3\r\nint\r\n");
}

/// Every command refuses a value of another type with WRONGTYPE, in the
/// order Redis checks (argument errors first where Redis parses first).
/// Runs once some other family can create such a value.
#[test]
fn wrong_type_errors() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    if !make_non_string(&mut raw, "l") {
        eprintln!("wrong_type_errors: no non-string type in this build yet; skipped");
        return;
    }
    script(
        &mut raw,
        &[
            ("SET k v", "+OK\r\n"),
            ("GET l", WRONGTYPE),
            ("SET l v GET", WRONGTYPE),
            ("SET l v NX GET", WRONGTYPE),
            (
                "SET l v GET EX 0",
                "-ERR invalid expire time in 'set' command\r\n",
            ),
            ("SET l v GET FOO", SYNTAX),
            ("GETSET l x", WRONGTYPE),
            ("GETDEL l", WRONGTYPE),
            ("GETEX l", WRONGTYPE),
            ("GETEX l EX 0", WRONGTYPE),
            ("GETEX l EX abc", WRONGTYPE),
            ("GETEX l FOO", SYNTAX),
            ("MGET k l nokey", "*3\r\n$1\r\nv\r\n$-1\r\n$-1\r\n"),
            ("INCR l", WRONGTYPE),
            ("DECR l", WRONGTYPE),
            ("INCRBY l 1", WRONGTYPE),
            ("INCRBY l abc", NOT_INT),
            ("DECRBY l abc", NOT_INT),
            ("INCRBYFLOAT l 1", WRONGTYPE),
            ("INCRBYFLOAT l abc", WRONGTYPE),
            ("APPEND l x", WRONGTYPE),
            ("STRLEN l", WRONGTYPE),
            ("GETRANGE l 0 1", WRONGTYPE),
            ("GETRANGE l a 1", NOT_INT),
            ("SUBSTR l 0 1", WRONGTYPE),
            ("SETRANGE l 0 x", WRONGTYPE),
            ("SETRANGE l 0 \"\"", WRONGTYPE),
            ("SETRANGE l -1 x", "-ERR offset is out of range\r\n"),
            ("SETRANGE l abc x", NOT_INT),
            (
                "LCS k l",
                "-ERR The specified keys must contain string values\r\n",
            ),
            (
                "LCS l k FOO",
                "-ERR The specified keys must contain string values\r\n",
            ),
            ("MSETNX l 1 z 2", ":0\r\n"),
            ("SETNX l 1", ":0\r\n"),
            ("SET l v XX", "+OK\r\n"),
            ("TYPE l", "+string\r\n"),
        ],
    );
    assert!(make_non_string(&mut raw, "l2"));
    script(
        &mut raw,
        &[("SETEX l2 10 v", "+OK\r\n"), ("TYPE l2", "+string\r\n")],
    );
    assert!(make_non_string(&mut raw, "l3"));
    script(
        &mut raw,
        &[("MSET l3 v", "+OK\r\n"), ("GET l3", "$1\r\nv\r\n")],
    );
}

/// Expired keys behave as missing everywhere, through lazy expiry.
#[test]
fn expired_keys_read_as_missing() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    for cmd in [
        &["SET", "k", "5", "PX", "15"][..],
        &["SET", "k2", "x", "PX", "15"],
    ] {
        assert_eq!(raw.wire(cmd), "+OK\r\n");
    }
    thread::sleep(Duration::from_millis(30));
    script(
        &mut raw,
        &[
            ("SET k2 y KEEPTTL", "+OK\r\n"),
            ("TTL k2", ":-1\r\n"),
            ("INCR k", ":1\r\n"),
            ("TTL k", ":-1\r\n"),
        ],
    );
    for cmd in [
        &["SET", "a", "v", "PX", "15"][..],
        &["SET", "b", "v", "PX", "15"],
        &["SET", "c", "v", "PX", "15"],
        &["SET", "d", "v", "PX", "15"],
    ] {
        assert_eq!(raw.wire(cmd), "+OK\r\n");
    }
    thread::sleep(Duration::from_millis(30));
    script(
        &mut raw,
        &[
            ("GET a", "$-1\r\n"),
            ("SET b w NX", "+OK\r\n"),
            ("APPEND c x", ":1\r\n"),
            ("MSETNX d 1", ":1\r\n"),
            ("STRLEN a", ":0\r\n"),
        ],
    );
}

/// Reads count as keyspace hits and misses exactly where Redis counts them
/// (lookups for reading, including SET ... GET and GETSET), writes never.
#[test]
fn keyspace_hits_and_misses_count_like_redis() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    for line in [
        "SET a 1",
        "SET a 2 GET",
        "SET b 2 NX",
        "SET b 2 XX GET",
        "GET a",
        "GET zz",
        "MGET a b zz",
        "GETSET a 3",
        "GETSET zz2 3",
        "GETDEL zz2",
        "GETDEL zz3",
        "GETEX a",
        "GETEX zz",
        "STRLEN a",
        "STRLEN zz",
        "APPEND a 1",
        "INCR a",
        "GETRANGE a 0 1",
        "GETRANGE zz 0 1",
        "SETRANGE a 0 1",
        "LCS a b",
        "LCS a zz",
        "MSETNX a 1",
        "SETNX a 1",
        "INCRBYFLOAT a 1",
    ] {
        assert!(!matches!(raw.call(&split(line)), Frame::Error(_)), "{line}");
    }
    let info = match raw.call(&["INFO", "stats"]) {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO answered {other:?}"),
    };
    // redis-server 7.0.15 reports 13 hits and 8 misses for the same commands.
    assert!(info.contains("keyspace_hits:13\r\n"), "{info}");
    assert!(info.contains("keyspace_misses:8\r\n"), "{info}");
}
