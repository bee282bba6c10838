//! The set family against a real server: replies byte for byte as Redis
//! 7.0.15 sends them, encodings, randomness and cross-shard atomic forms.

mod common;

use common::{TestServer, WRONGTYPE};
use shoal::util::slot::key_slot;

/// Two keys with the given prefixes that live on different shards of a
/// two-shard server (slots 0..8191 on shard 0, the rest on shard 1).
fn keys_on_two_shards() -> (String, String) {
    let a = (0..)
        .map(|i| format!("left{i}"))
        .find(|k| key_slot(k.as_bytes()) < 8192)
        .unwrap_or_default();
    let b = (0..)
        .map(|i| format!("right{i}"))
        .find(|k| key_slot(k.as_bytes()) >= 8192)
        .unwrap_or_default();
    (a, b)
}

fn members(reply: &str) -> Vec<String> {
    let mut v: Vec<String> = reply
        .split("\r\n")
        .filter(|l| !l.is_empty() && !l.starts_with(['*', '~', '$', ':']))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

#[test]
fn sadd_srem_scard_and_deletion() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    assert_eq!(r.wire(&["SADD", "s", "3", "1", "2", "1"]), ":3\r\n");
    assert_eq!(
        r.wire(&["SMEMBERS", "s"]),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(r.wire(&["SCARD", "s"]), ":3\r\n");
    assert_eq!(r.wire(&["SCARD", "nokey"]), ":0\r\n");
    assert_eq!(r.wire(&["SREM", "s", "1", "9"]), ":1\r\n");
    assert_eq!(r.wire(&["SREM", "nokey", "1"]), ":0\r\n");
    assert_eq!(r.wire(&["SREM", "s", "2", "3"]), ":2\r\n");
    assert_eq!(r.wire(&["EXISTS", "s"]), ":0\r\n");
    assert_eq!(
        r.wire(&["SADD", "s"]),
        "-ERR wrong number of arguments for 'sadd' command\r\n"
    );
    assert_eq!(
        r.wire(&["SREM", "s"]),
        "-ERR wrong number of arguments for 'srem' command\r\n"
    );
}

#[test]
fn wrongtype_both_ways() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    r.wire(&["SET", "str", "x"]);
    r.wire(&["SADD", "set", "a"]);
    for cmd in [
        vec!["SADD", "str", "a"],
        vec!["SREM", "str", "a"],
        vec!["SCARD", "str"],
        vec!["SISMEMBER", "str", "a"],
        vec!["SMISMEMBER", "str", "a"],
        vec!["SMEMBERS", "str"],
        vec!["SRANDMEMBER", "str"],
        vec!["SRANDMEMBER", "str", "2"],
        vec!["SPOP", "str"],
        vec!["SPOP", "str", "2"],
        vec!["SMOVE", "str", "set", "a"],
        vec!["SMOVE", "set", "str", "a"],
        vec!["SINTER", "nokey", "str"],
        vec!["SUNION", "set", "str"],
        vec!["SDIFF", "nokey", "str"],
        vec!["SINTERCARD", "2", "nokey", "str"],
        vec!["SINTERSTORE", "d", "set", "str"],
        vec!["SSCAN", "str", "0"],
    ] {
        assert_eq!(r.wire(&cmd), WRONGTYPE, "{cmd:?}");
    }
    assert_eq!(r.wire(&["GET", "set"]), WRONGTYPE);
    assert_eq!(r.wire(&["APPEND", "set", "x"]), WRONGTYPE);
    assert_eq!(r.wire(&["TYPE", "set"]), "+set\r\n");
    // A missing source makes SMOVE answer 0 before the destination's type is looked at.
    assert_eq!(r.wire(&["SMOVE", "nokey", "str", "a"]), ":0\r\n");
}

#[test]
fn membership_and_resp3_forms() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    r.wire(&["SADD", "s", "a", "1"]);
    assert_eq!(r.wire(&["SISMEMBER", "s", "a"]), ":1\r\n");
    assert_eq!(r.wire(&["SISMEMBER", "s", "b"]), ":0\r\n");
    assert_eq!(r.wire(&["SISMEMBER", "nokey", "b"]), ":0\r\n");
    assert_eq!(
        r.wire(&["SMISMEMBER", "s", "a", "x", "1"]),
        "*3\r\n:1\r\n:0\r\n:1\r\n"
    );
    assert_eq!(r.wire(&["SMISMEMBER", "nokey", "a"]), "*1\r\n:0\r\n");
    assert_eq!(r.wire(&["SMEMBERS", "nokey"]), "*0\r\n");
    assert_eq!(r.wire(&["SRANDMEMBER", "nokey"]), "$-1\r\n");
    assert_eq!(r.wire(&["SPOP", "nokey"]), "$-1\r\n");
    assert_eq!(r.wire(&["SPOP", "nokey", "2"]), "*0\r\n");
    r.wire(&["HELLO", "3"]);
    assert_eq!(r.wire(&["SMEMBERS", "nokey"]), "~0\r\n");
    assert_eq!(r.wire(&["SRANDMEMBER", "nokey"]), "_\r\n");
    assert_eq!(r.wire(&["SRANDMEMBER", "nokey", "3"]), "*0\r\n");
    assert_eq!(r.wire(&["SPOP", "nokey", "2"]), "~0\r\n");
    r.wire(&["SADD", "n", "2", "1"]);
    assert_eq!(r.wire(&["SMEMBERS", "n"]), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert_eq!(r.wire(&["SINTER", "n"]), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert_eq!(r.wire(&["SUNION", "n"]), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert_eq!(r.wire(&["SDIFF", "n"]), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert_eq!(
        r.wire(&["SRANDMEMBER", "n", "5"]),
        "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
    assert_eq!(r.wire(&["SPOP", "n", "5"]), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert_eq!(r.wire(&["SSCAN", "nokey", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
}

#[test]
fn encodings_convert_one_way() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    r.wire(&["SADD", "i", "1", "-70000", "5000000000"]);
    assert_eq!(r.wire(&["OBJECT", "ENCODING", "i"]), "$6\r\nintset\r\n");
    assert_eq!(
        r.wire(&["SMEMBERS", "i"]),
        "*3\r\n$6\r\n-70000\r\n$1\r\n1\r\n$10\r\n5000000000\r\n"
    );
    r.wire(&["SADD", "i", "01"]);
    assert_eq!(r.wire(&["OBJECT", "ENCODING", "i"]), "$9\r\nhashtable\r\n");
    r.wire(&["SREM", "i", "01"]);
    assert_eq!(r.wire(&["OBJECT", "ENCODING", "i"]), "$9\r\nhashtable\r\n");
    // 7.0.15 has no listpack sets: a short string set is a hashtable.
    r.wire(&["SADD", "h", "a"]);
    assert_eq!(r.wire(&["OBJECT", "ENCODING", "h"]), "$9\r\nhashtable\r\n");
    assert_eq!(
        r.wire(&["CONFIG", "SET", "set-max-intset-entries", "3"]),
        "+OK\r\n"
    );
    r.wire(&["SADD", "t", "1", "2", "3"]);
    assert_eq!(r.wire(&["OBJECT", "ENCODING", "t"]), "$6\r\nintset\r\n");
    r.wire(&["SADD", "t", "4"]);
    assert_eq!(r.wire(&["OBJECT", "ENCODING", "t"]), "$9\r\nhashtable\r\n");
    assert_eq!(r.wire(&["SCARD", "t"]), ":4\r\n");
    // Large intsets stay correct through many inserts.
    r.wire(&["CONFIG", "SET", "set-max-intset-entries", "512"]);
    let nums: Vec<String> = (0..512).rev().map(|i| (i * 7 - 1000).to_string()).collect();
    let mut cmd = vec!["SADD", "big"];
    cmd.extend(nums.iter().map(String::as_str));
    assert_eq!(r.wire(&cmd), ":512\r\n");
    assert_eq!(r.wire(&["OBJECT", "ENCODING", "big"]), "$6\r\nintset\r\n");
    assert_eq!(r.wire(&["SISMEMBER", "big", "-1000"]), ":1\r\n");
    r.wire(&["SADD", "big", "100000"]);
    assert_eq!(
        r.wire(&["OBJECT", "ENCODING", "big"]),
        "$9\r\nhashtable\r\n"
    );
    assert_eq!(r.wire(&["SISMEMBER", "big", "-1000"]), ":1\r\n");
}

#[test]
fn srandmember_and_spop_errors() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    r.wire(&["SADD", "s", "a", "b"]);
    assert_eq!(
        r.wire(&["SRANDMEMBER", "s", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.wire(&["SRANDMEMBER", "s", "1", "2"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.wire(&["SRANDMEMBER", "s", "-9223372036854775808"]),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    assert_eq!(r.wire(&["SRANDMEMBER", "s", "0"]), "*0\r\n");
    assert_eq!(r.wire(&["SRANDMEMBER", "s", "-3"]).matches("$1").count(), 3);
    for bad in ["-1", "x"] {
        assert_eq!(
            r.wire(&["SPOP", "s", bad]),
            "-ERR value is out of range, must be positive\r\n"
        );
    }
    assert_eq!(r.wire(&["SPOP", "s", "1", "2"]), "-ERR syntax error\r\n");
    assert_eq!(r.wire(&["SPOP", "s", "0"]), "*0\r\n");
    assert_eq!(r.wire(&["SCARD", "s"]), ":2\r\n");
    assert_eq!(members(&r.wire(&["SPOP", "s", "2"])), vec!["a", "b"]);
    assert_eq!(r.wire(&["EXISTS", "s"]), ":0\r\n");
    r.wire(&["SADD", "one", "x"]);
    assert_eq!(r.wire(&["SPOP", "one"]), "$1\r\nx\r\n");
    assert_eq!(r.wire(&["EXISTS", "one"]), ":0\r\n");
}

/// Chi-square of `counts` against a uniform distribution.
fn chi_square(counts: &[u32]) -> f64 {
    let total: u32 = counts.iter().sum();
    let expected = f64::from(total) / counts.len() as f64;
    counts
        .iter()
        .map(|&c| (f64::from(c) - expected).powi(2) / expected)
        .sum()
}

fn uniformity(members: &[String]) {
    let s = TestServer::start(1);
    let mut r = s.raw();
    let mut cmd = vec!["SADD", "s"];
    cmd.extend(members.iter().map(String::as_str));
    r.wire(&cmd);
    let n = members.len();
    let index = |m: &str| members.iter().position(|x| x == m).unwrap_or(usize::MAX);
    // SRANDMEMBER single, negative count and distinct count.
    let mut counts = vec![0u32; n];
    for _ in 0..200 {
        for m in members_of(&r.wire(&["SRANDMEMBER", "s", "-50"])) {
            counts[index(&m)] += 1;
        }
    }
    // 19 degrees of freedom: p(chi2 > 60) is far below 1e-5.
    assert!(
        chi_square(&counts) < 60.0,
        "srandmember negative {counts:?}"
    );
    let mut counts = vec![0u32; n];
    for _ in 0..2000 {
        for m in members_of(&r.wire(&["SRANDMEMBER", "s", "5"])) {
            counts[index(&m)] += 1;
        }
    }
    assert!(
        chi_square(&counts) < 60.0,
        "srandmember distinct {counts:?}"
    );
    // SPOP: pop one and put it back, many times.
    let mut counts = vec![0u32; n];
    for _ in 0..4000 {
        let m = members_of(&r.wire(&["SPOP", "s"]));
        let m = &m[0];
        counts[index(m)] += 1;
        r.wire(&["SADD", "s", m]);
    }
    assert!(chi_square(&counts) < 60.0, "spop {counts:?}");
    let mut counts = vec![0u32; n];
    for _ in 0..500 {
        let got = members_of(&r.wire(&["SPOP", "s", "4"]));
        assert_eq!(got.len(), 4);
        for m in &got {
            counts[index(m)] += 1;
        }
        let mut add = vec!["SADD", "s"];
        add.extend(got.iter().map(String::as_str));
        assert_eq!(r.wire(&add), ":4\r\n");
    }
    assert!(chi_square(&counts) < 60.0, "spop count {counts:?}");
}

fn members_of(reply: &str) -> Vec<String> {
    reply
        .split("\r\n")
        .filter(|l| !l.is_empty() && !l.starts_with(['*', '~', '$', ':']))
        .map(str::to_string)
        .collect()
}

#[test]
fn random_picks_are_uniform_intset() {
    let m: Vec<String> = (0..20).map(|i| (i * 3).to_string()).collect();
    uniformity(&m);
}

#[test]
fn random_picks_are_uniform_hashtable() {
    let m: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    uniformity(&m);
}

#[test]
fn smove_semantics() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    r.wire(&["SADD", "src", "a", "b"]);
    assert_eq!(r.wire(&["SMOVE", "src", "dst", "a"]), ":1\r\n");
    assert_eq!(r.wire(&["SMOVE", "src", "dst", "a"]), ":0\r\n");
    assert_eq!(r.wire(&["SMOVE", "src", "src", "b"]), ":1\r\n");
    assert_eq!(r.wire(&["SMOVE", "src", "src", "z"]), ":0\r\n");
    assert_eq!(r.wire(&["SMOVE", "src", "dst", "b"]), ":1\r\n");
    assert_eq!(r.wire(&["EXISTS", "src"]), ":0\r\n");
    assert_eq!(members(&r.wire(&["SMEMBERS", "dst"])), vec!["a", "b"]);
    assert_eq!(
        r.wire(&["SMOVE", "a", "b"]),
        "-ERR wrong number of arguments for 'smove' command\r\n"
    );
}

#[test]
fn algebra_single_shard() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    r.wire(&["SADD", "a", "1", "2", "3", "4"]);
    r.wire(&["SADD", "b", "2", "3", "4", "5"]);
    r.wire(&["SADD", "c", "3", "4", "x"]);
    assert_eq!(members(&r.wire(&["SINTER", "a", "b", "c"])), vec!["3", "4"]);
    assert_eq!(r.wire(&["SINTER", "a", "nokey"]), "*0\r\n");
    assert_eq!(
        members(&r.wire(&["SUNION", "a", "c"])),
        vec!["1", "2", "3", "4", "x"]
    );
    assert_eq!(r.wire(&["SDIFF", "a", "b"]), "*1\r\n$1\r\n1\r\n");
    assert_eq!(r.wire(&["SDIFF", "a", "a"]), "*0\r\n");
    assert_eq!(r.wire(&["SINTERSTORE", "d", "a", "b"]), ":3\r\n");
    assert_eq!(r.wire(&["OBJECT", "ENCODING", "d"]), "$6\r\nintset\r\n");
    r.wire(&["EXPIRE", "d", "100"]);
    assert_eq!(r.wire(&["SUNIONSTORE", "d", "a", "c"]), ":5\r\n");
    assert_eq!(r.wire(&["TTL", "d"]), ":-1\r\n");
    assert_eq!(r.wire(&["SDIFFSTORE", "d", "a", "a"]), ":0\r\n");
    assert_eq!(r.wire(&["EXISTS", "d"]), ":0\r\n");
    r.wire(&["SET", "d", "str"]);
    assert_eq!(r.wire(&["SINTERSTORE", "d", "a", "nokey"]), ":0\r\n");
    assert_eq!(r.wire(&["EXISTS", "d"]), ":0\r\n");
    assert_eq!(r.wire(&["SINTERCARD", "2", "a", "b"]), ":3\r\n");
    assert_eq!(
        r.wire(&["SINTERCARD", "2", "a", "b", "LIMIT", "2"]),
        ":2\r\n"
    );
    assert_eq!(
        r.wire(&["SINTERCARD", "2", "a", "b", "limit", "0"]),
        ":3\r\n"
    );
    assert_eq!(
        r.wire(&["SINTERCARD", "1", "a", "LIMIT", "1", "LIMIT", "9"]),
        ":4\r\n"
    );
    for (cmd, err) in [
        (
            vec!["SINTERCARD", "0", "a"],
            "-ERR numkeys should be greater than 0\r\n",
        ),
        (
            vec!["SINTERCARD", "x", "a"],
            "-ERR numkeys should be greater than 0\r\n",
        ),
        (
            vec!["SINTERCARD", "3", "a", "b"],
            "-ERR Number of keys can't be greater than number of args\r\n",
        ),
        (
            vec!["SINTERCARD", "1", "a", "LIMIT", "-1"],
            "-ERR LIMIT can't be negative\r\n",
        ),
        (
            vec!["SINTERCARD", "1", "a", "LIMIT", "x"],
            "-ERR LIMIT can't be negative\r\n",
        ),
        (
            vec!["SINTERCARD", "1", "a", "LIMIT"],
            "-ERR syntax error\r\n",
        ),
        (vec!["SINTERCARD", "1", "a", "foo"], "-ERR syntax error\r\n"),
        (
            vec!["SINTERCARD", "1"],
            "-ERR wrong number of arguments for 'sintercard' command\r\n",
        ),
        (
            vec!["SINTER"],
            "-ERR wrong number of arguments for 'sinter' command\r\n",
        ),
        (
            vec!["SDIFFSTORE", "d"],
            "-ERR wrong number of arguments for 'sdiffstore' command\r\n",
        ),
    ] {
        assert_eq!(r.wire(&cmd), err, "{cmd:?}");
    }
    assert_eq!(
        r.wire(&[
            "COMMAND",
            "GETKEYS",
            "SINTERCARD",
            "2",
            "a",
            "b",
            "LIMIT",
            "1"
        ]),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
}

#[test]
fn algebra_across_two_shards() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    let (x, y) = keys_on_two_shards();
    let (dx, dy) = (format!("{x}dst"), format!("{y}dst"));
    r.wire(&["SADD", &x, "1", "2", "3", "a"]);
    r.wire(&["SADD", &y, "2", "3", "4", "a"]);
    assert_eq!(members(&r.wire(&["SINTER", &x, &y])), vec!["2", "3", "a"]);
    assert_eq!(
        members(&r.wire(&["SUNION", &x, &y])),
        vec!["1", "2", "3", "4", "a"]
    );
    assert_eq!(members(&r.wire(&["SDIFF", &x, &y])), vec!["1"]);
    assert_eq!(r.wire(&["SINTERCARD", "2", &x, &y]), ":3\r\n");
    assert_eq!(r.wire(&["SINTERCARD", "2", &y, &x, "LIMIT", "1"]), ":1\r\n");
    for d in [&dx, &dy] {
        assert_eq!(r.wire(&["SINTERSTORE", d, &x, &y]), ":3\r\n");
        assert_eq!(r.wire(&["SUNIONSTORE", d, &x, &y]), ":5\r\n");
        assert_eq!(r.wire(&["SDIFFSTORE", d, &y, &x]), ":1\r\n");
        assert_eq!(r.wire(&["SMEMBERS", d]), "*1\r\n$1\r\n4\r\n");
    }
    assert_eq!(r.wire(&["SMOVE", &x, &y, "1"]), ":1\r\n");
    assert_eq!(r.wire(&["SISMEMBER", &y, "1"]), ":1\r\n");
    assert_eq!(r.wire(&["SISMEMBER", &x, "1"]), ":0\r\n");
    assert_eq!(r.wire(&["SMOVE", &y, &dx, "4"]), ":1\r\n");
    r.wire(&["SET", &dy, "str"]);
    assert_eq!(r.wire(&["SMOVE", &x, &dy, "2"]), WRONGTYPE);
    assert_eq!(r.wire(&["SINTER", &x, &dy]), WRONGTYPE);
}

#[test]
fn cross_shard_smove_is_atomic_under_concurrency() {
    let s = TestServer::start(2);
    let (x, y) = keys_on_two_shards();
    let mut r = s.raw();
    let nums: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    let mut cmd = vec!["SADD", x.as_str()];
    cmd.extend(nums.iter().map(String::as_str));
    r.wire(&cmd);
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let mut c = s.raw();
            let (x, y) = (x.clone(), y.clone());
            std::thread::spawn(move || {
                for i in 0..200 {
                    let m = format!("m{i}");
                    if (i + w) % 2 == 0 {
                        c.wire(&["SMOVE", &x, &y, &m]);
                    } else {
                        c.wire(&["SMOVE", &y, &x, &m]);
                    }
                }
            })
        })
        .collect();
    // While they move members back and forth the union never loses one.
    for _ in 0..50 {
        let reply = r.wire(&["SUNION", &x, &y]);
        assert!(
            reply.starts_with("*200\r\n"),
            "{}",
            &reply[..20.min(reply.len())]
        );
    }
    for w in workers {
        w.join().ok();
    }
    assert_eq!(r.wire(&["SUNIONSTORE", "all", &x, &y]), ":200\r\n");
}

#[test]
fn sscan_is_complete() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    r.wire(&["SADD", "i", "3", "1", "2"]);
    assert_eq!(
        r.wire(&["SSCAN", "i", "0", "COUNT", "1"]),
        "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        r.wire(&["SSCAN", "i", "0", "MATCH", "2*"]),
        "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n2\r\n"
    );
    let all: Vec<String> = (0..1000).map(|i| format!("member:{i}")).collect();
    for chunk in all.chunks(100) {
        let mut cmd = vec!["SADD", "h"];
        cmd.extend(chunk.iter().map(String::as_str));
        r.wire(&cmd);
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let reply = r.call(&["SSCAN", "h", &cursor, "COUNT", "50"]);
        let common::Frame::Array(parts) = reply else {
            panic!("unexpected reply {reply:?}");
        };
        let (common::Frame::Bulk(c), common::Frame::Array(items)) = (&parts[0], &parts[1]) else {
            panic!("unexpected reply parts");
        };
        cursor = String::from_utf8_lossy(c).into_owned();
        for it in items {
            if let common::Frame::Bulk(b) = it {
                seen.insert(String::from_utf8_lossy(b).into_owned());
            }
        }
        calls += 1;
        if cursor == "0" || calls > 1000 {
            break;
        }
    }
    assert!(calls > 1);
    assert_eq!(seen.len(), 1000);
    let m = r.wire(&["SSCAN", "h", "0", "MATCH", "member:99*", "COUNT", "100000"]);
    assert_eq!(members_of(&m).len(), 1 + 11);
    for (cmd, err) in [
        (vec!["SSCAN", "h", "x"], "-ERR invalid cursor\r\n"),
        (
            vec!["SSCAN", "h", "0", "COUNT", "0"],
            "-ERR syntax error\r\n",
        ),
        (
            vec!["SSCAN", "h", "0", "COUNT", "x"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (vec!["SSCAN", "h", "0", "MATCH"], "-ERR syntax error\r\n"),
        (
            vec!["SSCAN", "h", "0", "TYPE", "set"],
            "-ERR syntax error\r\n",
        ),
    ] {
        assert_eq!(r.wire(&cmd), err, "{cmd:?}");
    }
    assert_eq!(
        r.wire(&["SSCAN", "nokey", "0", "COUNT", "0"]),
        "*2\r\n$1\r\n0\r\n*0\r\n"
    );
}
