//! Generic keyspace commands (DEL UNLINK EXISTS TYPE KEYS SCAN RANDOMKEY
//! RENAME RENAMENX COPY MOVE TOUCH OBJECT) and the database commands
//! (DBSIZE FLUSHDB FLUSHALL SELECT SWAPDB), checked against Redis 7.0's
//! replies, with keys spread over two shards.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::*;
use shoal::config::EvictionPolicy;
use shoal::util::slot::key_slot;

/// A key named after `base` that lives on `shard` of a 2-shard server
/// (slots 0..8191 are shard 0's).
fn key_on(shard: usize, base: &str) -> String {
    (0..)
        .map(|i| format!("{base}:{i}"))
        .find(|k| usize::from(key_slot(k.as_bytes()) >= 8192) == shard)
        .expect("some suffix lands on the shard")
}

/// Sets every key to its own name with one pipelined write.
fn fill(raw: &mut Raw, keys: &[String]) {
    let mut wire = Vec::new();
    for k in keys {
        wire.extend(encode_cmd(&[b"SET", k.as_bytes(), k.as_bytes()]));
    }
    raw.send_raw(&wire);
    for _ in keys {
        assert_eq!(raw.read(), simple("OK"));
    }
}

fn strings(frame: Frame) -> Vec<String> {
    match frame {
        Frame::Array(items) => items
            .into_iter()
            .map(|f| match f {
                Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                other => panic!("expected a bulk string, got {other:?}"),
            })
            .collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// One SCAN call: (next cursor, keys).
fn scan_call(raw: &mut Raw, args: &[&str]) -> (String, Vec<String>) {
    let mut full = vec!["SCAN"];
    full.extend_from_slice(args);
    match raw.call(&full) {
        Frame::Array(mut parts) if parts.len() == 2 => {
            let keys = strings(parts.pop().unwrap());
            let cursor = match parts.pop().unwrap() {
                Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                other => panic!("cursor is a bulk string, got {other:?}"),
            };
            (cursor, keys)
        }
        other => panic!("unexpected SCAN reply {other:?}"),
    }
}

/// A full SCAN with `opts`; returns how often each key was returned.
fn scan_all(raw: &mut Raw, opts: &[&str]) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    let mut cursor = "0".to_string();
    for _ in 0..1_000_000 {
        let mut args = vec![cursor.as_str()];
        args.extend_from_slice(opts);
        let (next, keys) = scan_call(raw, &args);
        for k in keys {
            *seen.entry(k).or_insert(0) += 1;
        }
        if next == "0" {
            return seen;
        }
        cursor = next;
    }
    panic!("SCAN did not terminate");
}

fn arity_error(cmd: &str) -> Frame {
    err(&format!(
        "ERR wrong number of arguments for '{cmd}' command"
    ))
}

#[test]
fn del_unlink_exists_touch_type_span_shards() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let (a, b) = (key_on(0, "a"), key_on(1, "b"));
    fill(&mut raw, &[a.clone(), b.clone()]);

    // EXISTS counts every mention, duplicates included.
    assert_eq!(raw.call(&["EXISTS", &a, &b, &a, "nosuch"]), int(3));
    assert_eq!(raw.call(&["EXISTS", "nosuch"]), int(0));
    assert_eq!(raw.call(&["TOUCH", &a, &b, &b, "nosuch"]), int(3));
    assert_eq!(raw.wire(&["TYPE", &a]), "+string\r\n");
    assert_eq!(raw.wire(&["TYPE", "nosuch"]), "+none\r\n");

    // DEL counts keys removed, not mentions.
    assert_eq!(raw.call(&["DEL", &a, &b, &a, "nosuch"]), int(2));
    assert_eq!(raw.call(&["DEL", &a]), int(0));
    assert_eq!(raw.call(&["EXISTS", &a, &b]), int(0));

    fill(&mut raw, &[a.clone(), b.clone()]);
    assert_eq!(raw.call(&["UNLINK", &b, &a, &b]), int(2));
    assert_eq!(raw.call(&["UNLINK", &a]), int(0));

    for cmd in ["DEL", "UNLINK", "EXISTS", "TOUCH", "TYPE"] {
        assert_eq!(raw.call(&[cmd]), arity_error(&cmd.to_lowercase()));
    }
    assert_eq!(raw.call(&["TYPE", "a", "b"]), arity_error("type"));
}

#[test]
fn expired_keys_are_invisible_to_every_command() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let (a, b) = (key_on(0, "gone"), key_on(1, "gone"));
    fill(&mut raw, &[a.clone(), b.clone()]);
    assert_eq!(raw.call(&["PEXPIRE", &a, "20"]), int(1));
    assert_eq!(raw.call(&["PEXPIRE", &b, "20"]), int(1));
    std::thread::sleep(Duration::from_millis(40));
    assert_eq!(raw.call(&["EXISTS", &a, &b]), int(0));
    assert_eq!(raw.wire(&["TYPE", &a]), "+none\r\n");
    assert_eq!(raw.call(&["KEYS", "*"]), arr(vec![]));
    assert_eq!(raw.call(&["RANDOMKEY"]), Frame::NullBulk);
    assert_eq!(raw.call(&["DEL", &a, &b]), int(0));
    assert_eq!(raw.call(&["RENAME", &a, "x"]), err("ERR no such key"));
    assert_eq!(raw.call(&["OBJECT", "ENCODING", &b]), Frame::NullBulk);
}

#[test]
fn keys_matches_across_shards() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let names: Vec<String> = (0..200).map(|i| format!("user:{i}")).collect();
    fill(&mut raw, &names);
    fill(&mut raw, &["other".to_string(), "h?llo".to_string()]);
    let shards: HashSet<bool> = names
        .iter()
        .map(|k| key_slot(k.as_bytes()) >= 8192)
        .collect();
    assert_eq!(shards.len(), 2, "keys live on both shards");

    let all = sorted(strings(raw.call(&["KEYS", "*"])));
    assert_eq!(all.len(), 202);
    let users = sorted(strings(raw.call(&["KEYS", "user:*"])));
    assert_eq!(users, sorted(names.clone()));
    assert_eq!(
        sorted(strings(raw.call(&["KEYS", "user:1?"]))),
        sorted((10..20).map(|i| format!("user:{i}")).collect())
    );
    assert_eq!(strings(raw.call(&["KEYS", "h\\?llo"])), vec!["h?llo"]);
    assert_eq!(strings(raw.call(&["KEYS", "OTHER"])), Vec::<String>::new());
    assert_eq!(raw.call(&["KEYS", "nomatch*"]), arr(vec![]));
    assert_eq!(raw.call(&["KEYS"]), arity_error("keys"));
    assert_eq!(raw.call(&["KEYS", "a", "b"]), arity_error("keys"));
}

#[test]
fn scan_returns_every_key_at_least_once() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let names: Vec<String> = (0..10_000).map(|i| format!("k:{i}")).collect();
    for chunk in names.chunks(1000) {
        fill(&mut raw, chunk);
    }
    assert_eq!(raw.call(&["DBSIZE"]), int(10_000));

    for opts in [
        &[][..],
        &["COUNT", "1"],
        &["COUNT", "1000"],
        &["count", "100000"],
    ] {
        let seen = scan_all(&mut raw, opts);
        assert_eq!(seen.len(), 10_000, "SCAN {opts:?} missed keys");
        assert!(names.iter().all(|k| seen.contains_key(k)));
    }

    // MATCH filters after visiting: every match is found, nothing else.
    let seen = scan_all(&mut raw, &["MATCH", "k:1*", "COUNT", "50"]);
    let want: HashSet<&String> = names.iter().filter(|k| k.starts_with("k:1")).collect();
    assert_eq!(seen.keys().collect::<HashSet<_>>(), want);

    // TYPE compares case-insensitively; unknown types match nothing.
    assert_eq!(
        scan_all(&mut raw, &["TYPE", "STRING", "COUNT", "500"]).len(),
        10_000
    );
    assert!(scan_all(&mut raw, &["TYPE", "hash"]).is_empty());
    assert!(scan_all(&mut raw, &["TYPE", "nosuchtype", "MATCH", "*"]).is_empty());

    // The cursor moves from one shard to the next: a small COUNT crosses
    // the boundary without returning 0 early.
    let (cursor, keys) = scan_call(&mut raw, &["0", "COUNT", "5"]);
    assert_ne!(cursor, "0");
    assert!(!keys.is_empty() && keys.len() < 100);
}

#[test]
fn scan_survives_writes_between_calls() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let stable: Vec<String> = (0..3000).map(|i| format!("stable:{i}")).collect();
    fill(&mut raw, &stable);
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut round = 0;
    loop {
        let (next, keys) = scan_call(&mut raw, &[&cursor, "COUNT", "37"]);
        seen.extend(keys);
        if next == "0" {
            break;
        }
        cursor = next;
        // Grow and shrink the tables under the iteration.
        let batch: Vec<String> = (0..60).map(|i| format!("churn:{round}:{i}")).collect();
        fill(&mut raw, &batch);
        if round >= 3 {
            let old: Vec<String> = (0..60)
                .map(|i| format!("churn:{}:{i}", round - 3))
                .collect();
            let mut del = vec!["DEL"];
            del.extend(old.iter().map(String::as_str));
            raw.call(&del);
        }
        round += 1;
        assert!(round < 100_000, "SCAN does not terminate");
    }
    for k in &stable {
        assert!(seen.contains(k), "stable key {k} missed");
    }
}

#[test]
fn scan_arguments_and_cursor_parsing() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    fill(&mut raw, &["only".to_string()]);
    // A single key is found from cursor 0 and the iteration ends.
    assert_eq!(
        raw.wire(&["SCAN", "0"]),
        "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nonly\r\n"
    );
    // strtoul rules: "" and "+0" are cursor 0; whitespace, junk and
    // overflow are not cursors at all.
    assert_eq!(scan_call(&mut raw, &[""]).1, vec!["only"]);
    assert_eq!(scan_call(&mut raw, &["+0"]).1, vec!["only"]);
    for bad in [" 0", "0 ", "0x", "abc", "-", "18446744073709551616", "1.5"] {
        assert_eq!(
            raw.call(&["SCAN", bad]),
            err("ERR invalid cursor"),
            "{bad:?}"
        );
    }
    // Any number is a valid cursor, even one no call returned.
    for odd in ["-1", "18446744073709551615", "12345678901"] {
        assert!(matches!(raw.call(&["SCAN", odd]), Frame::Array(_)), "{odd}");
    }
    assert_eq!(
        raw.call(&["SCAN", "0", "COUNT", "0"]),
        err("ERR syntax error")
    );
    assert_eq!(
        raw.call(&["SCAN", "0", "COUNT", "-1"]),
        err("ERR syntax error")
    );
    assert_eq!(
        raw.call(&["SCAN", "0", "COUNT", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(raw.call(&["SCAN", "0", "MATCH"]), err("ERR syntax error"));
    assert_eq!(raw.call(&["SCAN", "0", "TYPE"]), err("ERR syntax error"));
    assert_eq!(
        raw.call(&["SCAN", "0", "FOO", "bar"]),
        err("ERR syntax error")
    );
    // The cursor is checked before the options.
    assert_eq!(
        raw.call(&["SCAN", "x", "COUNT", "0"]),
        err("ERR invalid cursor")
    );
    assert_eq!(raw.call(&["SCAN"]), arity_error("scan"));
}

#[test]
fn scan_skips_and_deletes_expired_keys() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let names: Vec<String> = (0..100).map(|i| format!("e:{i}")).collect();
    fill(&mut raw, &names);
    for k in &names[..50] {
        assert_eq!(raw.call(&["PEXPIRE", k, "10"]), int(1));
    }
    std::thread::sleep(Duration::from_millis(30));
    let seen = scan_all(&mut raw, &["COUNT", "1000"]);
    let want: HashSet<&String> = names[50..].iter().collect();
    assert_eq!(seen.keys().collect::<HashSet<_>>(), want);
    assert_eq!(raw.call(&["DBSIZE"]), int(50));
}

#[test]
fn randomkey_covers_both_shards_and_skips_expired() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    assert_eq!(raw.wire(&["RANDOMKEY"]), "$-1\r\n");
    let names: Vec<String> = (0..20).map(|i| format!("r:{i}")).collect();
    fill(&mut raw, &names);
    let mut seen = HashSet::new();
    for _ in 0..2000 {
        match raw.call(&["RANDOMKEY"]) {
            Frame::Bulk(k) => {
                seen.insert(String::from_utf8_lossy(&k).into_owned());
            }
            other => panic!("unexpected {other:?}"),
        }
        if seen.len() == names.len() {
            break;
        }
    }
    assert_eq!(seen.len(), names.len(), "every key is eventually drawn");

    // Only a persistent key survives; expired ones are never returned.
    for k in &names[1..] {
        assert_eq!(raw.call(&["PEXPIRE", k, "10"]), int(1));
    }
    std::thread::sleep(Duration::from_millis(30));
    for _ in 0..20 {
        assert_eq!(raw.call(&["RANDOMKEY"]), bulk(&names[0]));
    }
    assert_eq!(raw.call(&["RANDOMKEY", "x"]), arity_error("randomkey"));
}

#[test]
fn randomkey_weights_shards_by_size() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    // 90 keys on shard 0, 10 on shard 1: draws should follow 9:1.
    let mut names = Vec::new();
    let mut i = 0;
    let (mut on0, mut on1) = (0, 0);
    while on0 < 90 || on1 < 10 {
        let k = format!("w:{i}");
        i += 1;
        if key_slot(k.as_bytes()) < 8192 {
            if on0 < 90 {
                on0 += 1;
                names.push(k);
            }
        } else if on1 < 10 {
            on1 += 1;
            names.push(k);
        }
    }
    fill(&mut raw, &names);
    let draws = 3000;
    let mut shard1 = 0;
    for _ in 0..draws {
        if let Frame::Bulk(k) = raw.call(&["RANDOMKEY"]) {
            if key_slot(&k) >= 8192 {
                shard1 += 1;
            }
        }
    }
    // Expected 300; a fair per-shard coin would give 1500.
    assert!(
        (180..=450).contains(&shard1),
        "shard 1 drawn {shard1} times"
    );
}

#[test]
fn rename_and_renamenx() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let (a, b) = (key_on(0, "src"), key_on(1, "dst"));
    assert_eq!(raw.call(&["RENAME", &a, &b]), err("ERR no such key"));
    assert_eq!(raw.call(&["RENAME", &a, &a]), err("ERR no such key"));
    assert_eq!(raw.call(&["RENAMENX", &a, &b]), err("ERR no such key"));

    assert_eq!(raw.call(&["SET", &a, "v1"]), simple("OK"));
    assert_eq!(raw.call(&["RENAME", &a, &a]), simple("OK"));
    assert_eq!(raw.call(&["RENAMENX", &a, &a]), int(0));
    assert_eq!(raw.call(&["GET", &a]), bulk("v1"));

    // Across shards, with the TTL travelling along.
    assert_eq!(raw.call(&["PEXPIRE", &a, "100000"]), int(1));
    assert_eq!(raw.call(&["RENAME", &a, &b]), simple("OK"));
    assert_eq!(raw.call(&["EXISTS", &a]), int(0));
    assert_eq!(raw.call(&["GET", &b]), bulk("v1"));
    match raw.call(&["PTTL", &b]) {
        Frame::Integer(ms) => assert!((99_000..=100_000).contains(&ms), "pttl {ms}"),
        other => panic!("unexpected {other:?}"),
    }

    // RENAME overwrites the destination, including its TTL.
    assert_eq!(raw.call(&["SET", &a, "v2"]), simple("OK"));
    assert_eq!(raw.call(&["RENAME", &a, &b]), simple("OK"));
    assert_eq!(raw.call(&["GET", &b]), bulk("v2"));
    assert_eq!(raw.call(&["TTL", &b]), int(-1));

    // RENAMENX refuses an existing destination and leaves both alone.
    assert_eq!(raw.call(&["SET", &a, "v3"]), simple("OK"));
    assert_eq!(raw.call(&["RENAMENX", &a, &b]), int(0));
    assert_eq!(raw.call(&["GET", &a]), bulk("v3"));
    assert_eq!(raw.call(&["GET", &b]), bulk("v2"));
    assert_eq!(raw.call(&["DEL", &b]), int(1));
    assert_eq!(raw.call(&["RENAMENX", &a, &b]), int(1));
    assert_eq!(raw.call(&["GET", &b]), bulk("v3"));
    assert_eq!(raw.call(&["EXISTS", &a]), int(0));

    // An expired destination counts as absent.
    assert_eq!(raw.call(&["SET", &a, "v4"]), simple("OK"));
    assert_eq!(raw.call(&["PEXPIRE", &b, "5"]), int(1));
    std::thread::sleep(Duration::from_millis(15));
    assert_eq!(raw.call(&["RENAMENX", &a, &b]), int(1));
    assert_eq!(raw.call(&["GET", &b]), bulk("v4"));

    assert_eq!(raw.call(&["RENAME", &a]), arity_error("rename"));
    assert_eq!(
        raw.call(&["RENAMENX", &a, &b, "x"]),
        arity_error("renamenx")
    );
}

#[test]
fn copy_with_db_and_replace() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let (a, b) = (key_on(0, "c"), key_on(1, "c"));
    assert_eq!(raw.call(&["COPY", &a, &b]), int(0));
    assert_eq!(
        raw.call(&["COPY", &a, &a]),
        err("ERR source and destination objects are the same")
    );
    assert_eq!(raw.call(&["SET", &a, "hello"]), simple("OK"));
    assert_eq!(raw.call(&["PEXPIRE", &a, "100000"]), int(1));
    assert_eq!(raw.call(&["COPY", &a, &b]), int(1));
    assert_eq!(raw.call(&["GET", &b]), bulk("hello"));
    assert!(matches!(raw.call(&["PTTL", &b]), Frame::Integer(ms) if ms > 99_000));
    // The copy is independent of the original.
    assert_eq!(raw.call(&["SET", &a, "changed"]), simple("OK"));
    assert_eq!(raw.call(&["GET", &b]), bulk("hello"));

    assert_eq!(raw.call(&["COPY", &a, &b]), int(0));
    assert_eq!(raw.call(&["COPY", &a, &b, "REPLACE"]), int(1));
    assert_eq!(raw.call(&["GET", &b]), bulk("changed"));
    assert_eq!(raw.call(&["TTL", &b]), int(-1));

    // Into another database, where the same name is a different key.
    assert_eq!(raw.call(&["COPY", &a, &a, "DB", "1"]), int(1));
    assert_eq!(raw.call(&["COPY", &a, &a, "db", "1"]), int(0));
    assert_eq!(raw.call(&["COPY", &a, &a, "replace", "DB", "1"]), int(1));
    assert_eq!(raw.call(&["SELECT", "1"]), simple("OK"));
    assert_eq!(raw.call(&["GET", &a]), bulk("changed"));
    assert_eq!(raw.call(&["EXISTS", &b]), int(0));
    assert_eq!(raw.call(&["SELECT", "0"]), simple("OK"));

    assert_eq!(
        raw.call(&["COPY", &a, &b, "DB", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        raw.call(&["COPY", &a, &b, "DB", "-1"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        raw.call(&["COPY", &a, &b, "DB", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        raw.call(&["COPY", &a, &b, "DB", "2147483648"]),
        err("ERR value is out of range, value must between -2147483648 and 2147483647")
    );
    assert_eq!(raw.call(&["COPY", &a, &b, "DB"]), err("ERR syntax error"));
    assert_eq!(raw.call(&["COPY", &a, &b, "FOO"]), err("ERR syntax error"));
    assert_eq!(raw.call(&["COPY", "nosuch", &b, "DB", "3"]), int(0));
    assert_eq!(raw.call(&["COPY", &a]), arity_error("copy"));
}

#[test]
fn move_between_databases() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let k = key_on(1, "m");
    assert_eq!(raw.call(&["MOVE", &k, "1"]), int(0));
    assert_eq!(raw.call(&["SET", &k, "v0"]), simple("OK"));
    assert_eq!(raw.call(&["PEXPIRE", &k, "100000"]), int(1));
    assert_eq!(
        raw.call(&["MOVE", &k, "0"]),
        err("ERR source and destination objects are the same")
    );
    assert_eq!(
        raw.call(&["MOVE", &k, "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        raw.call(&["MOVE", &k, "-1"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        raw.call(&["MOVE", &k, "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        raw.call(&["MOVE", &k, "2147483648"]),
        err("ERR value is out of range, value must between -2147483648 and 2147483647")
    );
    assert_eq!(raw.call(&["MOVE", &k, "1"]), int(1));
    assert_eq!(raw.call(&["EXISTS", &k]), int(0));
    assert_eq!(raw.call(&["SELECT", "1"]), simple("OK"));
    assert_eq!(raw.call(&["GET", &k]), bulk("v0"));
    assert!(matches!(raw.call(&["PTTL", &k]), Frame::Integer(ms) if ms > 99_000));
    // Moving back onto an existing key does nothing.
    assert_eq!(raw.call(&["SELECT", "0"]), simple("OK"));
    assert_eq!(raw.call(&["SET", &k, "other"]), simple("OK"));
    assert_eq!(raw.call(&["MOVE", &k, "1"]), int(0));
    assert_eq!(raw.call(&["GET", &k]), bulk("other"));
    assert_eq!(raw.call(&["MOVE", &k]), arity_error("move"));
}

#[test]
fn select_isolates_databases() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let mut other = server.raw();
    let (a, b) = (key_on(0, "s"), key_on(1, "s"));
    fill(&mut raw, &[a.clone(), b.clone()]);
    assert_eq!(raw.call(&["SELECT", "15"]), simple("OK"));
    assert_eq!(raw.call(&["EXISTS", &a, &b]), int(0));
    assert_eq!(raw.call(&["DBSIZE"]), int(0));
    assert_eq!(raw.call(&["SET", &a, "in15"]), simple("OK"));
    assert_eq!(raw.call(&["GET", &a]), bulk("in15"));
    assert_eq!(raw.call(&["KEYS", "*"]), arr(vec![bulk(&a)]));
    // Another connection still sees db 0.
    assert_eq!(other.call(&["GET", &a]), bulk(&a));
    assert_eq!(other.call(&["DBSIZE"]), int(2));

    assert_eq!(
        raw.call(&["SELECT", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        raw.call(&["SELECT", "-1"]),
        err("ERR DB index is out of range")
    );
    for bad in ["x", "01", " 1", "1.0", "99999999999999999999"] {
        assert_eq!(
            raw.call(&["SELECT", bad]),
            err("ERR value is not an integer or out of range"),
            "{bad:?}"
        );
    }
    assert_eq!(
        raw.call(&["SELECT", "2147483648"]),
        err("ERR value is out of range, value must between -2147483648 and 2147483647")
    );
    // A failed SELECT keeps the previous database.
    assert_eq!(raw.call(&["GET", &a]), bulk("in15"));
    assert_eq!(raw.call(&["SELECT"]), arity_error("select"));
}

#[test]
fn select_respects_the_configured_database_count() {
    let server = TestServer::with(|c| {
        c.shards = 2;
        c.databases = 4;
    });
    let mut raw = server.raw();
    assert_eq!(raw.call(&["SELECT", "3"]), simple("OK"));
    assert_eq!(
        raw.call(&["SELECT", "4"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        raw.call(&["SWAPDB", "0", "4"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        raw.call(&["MOVE", "k", "4"]),
        err("ERR DB index is out of range")
    );
}

#[test]
fn swapdb_swaps_data_in_every_shard() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let mut in_db1 = server.raw();
    assert_eq!(in_db1.call(&["SELECT", "1"]), simple("OK"));
    let (a, b) = (key_on(0, "sw"), key_on(1, "sw"));
    fill(&mut raw, &[a.clone(), b.clone()]);
    assert_eq!(raw.call(&["PEXPIRE", &b, "100000"]), int(1));
    assert_eq!(in_db1.call(&["SET", "only-in-1", "x"]), simple("OK"));

    assert_eq!(raw.call(&["SWAPDB", "0", "1"]), simple("OK"));
    // Connections keep their index; the data moved under them.
    assert_eq!(raw.call(&["DBSIZE"]), int(1));
    assert_eq!(raw.call(&["GET", "only-in-1"]), bulk("x"));
    assert_eq!(in_db1.call(&["DBSIZE"]), int(2));
    assert_eq!(in_db1.call(&["GET", &a]), bulk(&a));
    assert!(matches!(in_db1.call(&["PTTL", &b]), Frame::Integer(ms) if ms > 99_000));

    assert_eq!(raw.call(&["SWAPDB", "1", "1"]), simple("OK"));
    assert_eq!(in_db1.call(&["DBSIZE"]), int(2));
    assert_eq!(
        raw.call(&["SWAPDB", "0", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        raw.call(&["SWAPDB", "-1", "0"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        raw.call(&["SWAPDB", "x", "0"]),
        err("ERR invalid first DB index")
    );
    assert_eq!(
        raw.call(&["SWAPDB", "0", "x"]),
        err("ERR invalid second DB index")
    );
    assert_eq!(
        raw.call(&["SWAPDB", "2147483648", "0"]),
        err("ERR invalid first DB index")
    );
    assert_eq!(raw.call(&["SWAPDB", "0"]), arity_error("swapdb"));
}

#[test]
fn flushdb_and_flushall() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let names: Vec<String> = (0..500).map(|i| format!("f:{i}")).collect();
    fill(&mut raw, &names);
    assert_eq!(raw.call(&["SELECT", "2"]), simple("OK"));
    fill(&mut raw, &names[..10]);
    assert_eq!(raw.call(&["SELECT", "0"]), simple("OK"));

    assert_eq!(raw.call(&["FLUSHDB", "foo"]), err("ERR syntax error"));
    assert_eq!(
        raw.call(&["FLUSHDB", "ASYNC", "SYNC"]),
        err("ERR syntax error")
    );
    assert_eq!(raw.call(&["FLUSHDB", "async"]), simple("OK"));
    assert_eq!(raw.call(&["DBSIZE"]), int(0));
    assert_eq!(raw.call(&["KEYS", "*"]), arr(vec![]));
    assert_eq!(raw.call(&["SELECT", "2"]), simple("OK"));
    assert_eq!(
        raw.call(&["DBSIZE"]),
        int(10),
        "FLUSHDB leaves other dbs alone"
    );
    assert_eq!(raw.call(&["FLUSHDB"]), simple("OK"));
    assert_eq!(raw.call(&["DBSIZE"]), int(0));

    fill(&mut raw, &names);
    assert_eq!(raw.call(&["SELECT", "0"]), simple("OK"));
    fill(&mut raw, &names);
    assert_eq!(raw.call(&["FLUSHALL", "x"]), err("ERR syntax error"));
    assert_eq!(raw.call(&["FLUSHALL", "SYNC"]), simple("OK"));
    assert_eq!(raw.call(&["DBSIZE"]), int(0));
    assert_eq!(raw.call(&["SELECT", "2"]), simple("OK"));
    assert_eq!(raw.call(&["DBSIZE"]), int(0));
    fill(&mut raw, &names);
    assert_eq!(raw.call(&["FLUSHALL", "ASYNC"]), simple("OK"));
    assert_eq!(raw.call(&["DBSIZE"]), int(0));
    assert_eq!(raw.call(&["RANDOMKEY"]), Frame::NullBulk);
    // The databases work as before after a background free.
    fill(&mut raw, &names[..3]);
    assert_eq!(raw.call(&["DBSIZE"]), int(3));
    assert_eq!(raw.call(&["FLUSHALL"]), simple("OK"));
    assert_eq!(raw.call(&["DBSIZE"]), int(0));
}

#[test]
fn dbsize_counts_every_shard() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    assert_eq!(raw.call(&["DBSIZE"]), int(0));
    let names: Vec<String> = (0..300).map(|i| format!("d:{i}")).collect();
    fill(&mut raw, &names);
    assert_eq!(raw.call(&["DBSIZE"]), int(300));
    assert_eq!(raw.call(&["DBSIZE", "x"]), arity_error("dbsize"));
}

#[test]
fn object_introspection() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let long = "x".repeat(45);
    let cases = [
        ("1", "int", 2147483647),
        ("9999", "int", 2147483647),
        ("10000", "int", 1),
        ("-1", "int", 1),
        ("01", "embstr", 1),
        ("12345678901234567890", "embstr", 1),
        ("9223372036854775807", "int", 1),
        (&"x".repeat(44), "embstr", 1),
        (&long, "raw", 1),
    ];
    for (i, (value, encoding, refcount)) in cases.iter().enumerate() {
        let k = format!("o:{i}");
        assert_eq!(raw.call(&["SET", &k, value]), simple("OK"));
        assert_eq!(
            raw.call(&["OBJECT", "ENCODING", &k]),
            bulk(encoding),
            "{value}"
        );
        assert_eq!(
            raw.call(&["object", "refcount", &k]),
            int(*refcount),
            "{value}"
        );
    }
    assert_eq!(raw.call(&["OBJECT", "IDLETIME", "o:4"]), int(0));
    assert_eq!(
        raw.call(&["OBJECT", "FREQ", "o:0"]),
        err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    );
    for sub in ["ENCODING", "REFCOUNT", "IDLETIME", "FREQ"] {
        assert_eq!(raw.wire(&["OBJECT", sub, "nosuch"]), "$-1\r\n", "{sub}");
    }
    match raw.call(&["OBJECT", "HELP"]) {
        Frame::Array(lines) => {
            assert_eq!(lines.len(), 15);
            assert_eq!(
                lines[0],
                simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
            );
            assert_eq!(lines[14], simple("    Prints this help."));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        raw.call(&["OBJECT", "foo"]),
        err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
    );
    assert_eq!(raw.call(&["OBJECT"]), arity_error("object"));
    assert_eq!(
        raw.call(&["OBJECT", "ENCODING"]),
        arity_error("object|encoding")
    );
    assert_eq!(
        raw.call(&["OBJECT", "HELP", "x"]),
        arity_error("object|help")
    );
    assert_eq!(
        raw.call(&["OBJECT", "ENCODING", "a", "b"]),
        arity_error("object|encoding")
    );
}

#[test]
fn object_idletime_grows_and_reads_reset_it() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    assert_eq!(raw.call(&["SET", "idle", "v"]), simple("OK"));
    assert_eq!(raw.call(&["SET", "busy", "v"]), simple("OK"));
    // The clock has one-second resolution, so a key read 100 ms ago may
    // already show 1; waiting for 2 separates the idle key from the busy one.
    let idletime = |raw: &mut Raw, k: &str| match raw.call(&["OBJECT", "IDLETIME", k]) {
        Frame::Integer(n) => n,
        other => panic!("unexpected {other:?}"),
    };
    let deadline = Instant::now() + Duration::from_secs(6);
    while idletime(&mut raw, "idle") < 2 {
        // Inspecting (TTL, EXISTS, TYPE, OBJECT) does not touch; GET does.
        raw.call(&["TTL", "idle"]);
        raw.call(&["EXISTS", "idle"]);
        raw.call(&["TYPE", "idle"]);
        raw.call(&["GET", "busy"]);
        assert!(Instant::now() < deadline, "idle time never grew");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(idletime(&mut raw, "busy") <= 1);
    assert_eq!(raw.call(&["TOUCH", "idle"]), int(1));
    assert!(idletime(&mut raw, "idle") <= 1);
}

#[test]
fn object_under_lfu_and_lru_policies() {
    let lfu = TestServer::with(|c| {
        c.shards = 2;
        c.maxmemory_policy = EvictionPolicy::AllKeysLfu;
    });
    let mut raw = lfu.raw();
    assert_eq!(raw.call(&["SET", "k", "v"]), simple("OK"));
    // A new key's LFU counter starts at 5, as in Redis.
    assert_eq!(raw.call(&["OBJECT", "FREQ", "k"]), int(5));
    assert_eq!(
        raw.call(&["OBJECT", "IDLETIME", "k"]),
        err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    );
    assert_eq!(raw.wire(&["OBJECT", "IDLETIME", "nosuch"]), "$-1\r\n");

    // Under a memory limit with an LRU/LFU-like policy Redis stops sharing
    // small integers (each key needs its own access data).
    let mut raw = lfu.raw();
    assert_eq!(raw.call(&["SET", "n", "5"]), simple("OK"));
    assert_eq!(raw.call(&["OBJECT", "REFCOUNT", "n"]), int(2147483647));
    assert_eq!(
        raw.call(&["CONFIG", "SET", "maxmemory", "100mb"]),
        simple("OK")
    );
    assert_eq!(raw.call(&["OBJECT", "REFCOUNT", "n"]), int(1));
    assert_eq!(raw.call(&["CONFIG", "SET", "maxmemory", "0"]), simple("OK"));
}

#[test]
fn resp3_null_replies() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    assert!(matches!(raw.call(&["HELLO", "3"]), Frame::Map(_)));
    assert_eq!(raw.wire(&["RANDOMKEY"]), "_\r\n");
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "nosuch"]), "_\r\n");
    assert_eq!(raw.wire(&["TYPE", "nosuch"]), "+none\r\n");
    assert_eq!(raw.call(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(
        raw.wire(&["SCAN", "0"]),
        "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n"
    );
    assert_eq!(raw.wire(&["KEYS", "*"]), "*1\r\n$1\r\nk\r\n");
    assert_eq!(raw.wire(&["RANDOMKEY"]), "$1\r\nk\r\n");
}

#[test]
fn keyspace_commands_on_one_shard() {
    // With one shard the SCAN cursor is the table's own.
    let server = TestServer::start(1);
    let mut raw = server.raw();
    let names: Vec<String> = (0..1000).map(|i| format!("one:{i}")).collect();
    fill(&mut raw, &names);
    assert_eq!(scan_all(&mut raw, &["COUNT", "7"]).len(), 1000);
    assert_eq!(raw.call(&["DBSIZE"]), int(1000));
    assert_eq!(raw.call(&["RENAME", "one:1", "one:2"]), simple("OK"));
    assert_eq!(raw.call(&["DBSIZE"]), int(999));
    assert_eq!(raw.call(&["FLUSHALL"]), simple("OK"));
    assert_eq!(raw.call(&["DBSIZE"]), int(0));
}

#[test]
fn scan_over_a_shard_count_that_is_not_a_power_of_two() {
    let server = TestServer::start(3);
    let mut raw = server.raw();
    let names: Vec<String> = (0..3000).map(|i| format!("three:{i}")).collect();
    for chunk in names.chunks(1000) {
        fill(&mut raw, chunk);
    }
    for opts in [&["COUNT", "3"][..], &["COUNT", "250"]] {
        let seen = scan_all(&mut raw, opts);
        assert_eq!(seen.len(), 3000, "SCAN {opts:?} missed keys");
    }
    // The low two bits name the shard; 3 names none, so the iteration is over.
    assert_eq!(scan_call(&mut raw, &["3"]), ("0".to_string(), vec![]));
    assert_eq!(raw.call(&["DBSIZE"]), int(3000));
    assert_eq!(
        sorted(strings(raw.call(&["KEYS", "three:*"]))),
        sorted(names)
    );
}
