//! The hash family against a real server. The expected replies were taken
//! from redis-server 7.0.15 with the same commands, byte for byte.

mod common;

use std::collections::{HashMap, HashSet};

use common::*;

fn bulks(frame: Frame) -> Vec<String> {
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

fn fill(raw: &mut Raw, key: &str, n: usize) {
    let mut args = vec!["HSET".to_string(), key.to_string()];
    for i in 0..n {
        args.push(format!("f{i}"));
        args.push(format!("v{i}"));
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(raw.call(&a), int(n as i64));
}

#[test]
fn set_get_and_friends() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("HSET h a 1", ":1\r\n"),
            ("HSET h a 2 b 3", ":1\r\n"),
            ("HSET h a 1 a 2 c 4", ":1\r\n"),
            ("HGET h a", "$1\r\n2\r\n"),
            ("HGET h nofield", "$-1\r\n"),
            ("HGET nokey a", "$-1\r\n"),
            (
                "HGETALL h",
                "*6\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\nc\r\n$1\r\n4\r\n",
            ),
            ("HKEYS h", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
            ("HVALS h", "*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"),
            ("HLEN h", ":3\r\n"),
            ("HLEN nokey", ":0\r\n"),
            ("HMSET h d 5 e 6", "+OK\r\n"),
            ("HMGET h a x e", "*3\r\n$1\r\n2\r\n$-1\r\n$1\r\n6\r\n"),
            ("HMGET nokey a b", "*2\r\n$-1\r\n$-1\r\n"),
            ("HSETNX h a 9", ":0\r\n"),
            ("HSETNX h z 9", ":1\r\n"),
            ("HSETNX nh z 9", ":1\r\n"),
            ("HEXISTS h z", ":1\r\n"),
            ("HEXISTS h y", ":0\r\n"),
            ("HEXISTS nokey y", ":0\r\n"),
            ("HSET h s hello e \"\"", ":1\r\n"),
            ("HSTRLEN h s", ":5\r\n"),
            ("HSTRLEN h e", ":0\r\n"),
            ("HSTRLEN h nofield", ":0\r\n"),
            ("HSTRLEN nokey s", ":0\r\n"),
            ("HKEYS nokey", "*0\r\n"),
            ("HVALS nokey", "*0\r\n"),
            ("HGETALL nokey", "*0\r\n"),
            ("TYPE h", "+hash\r\n"),
            ("OBJECT ENCODING h", "$8\r\nlistpack\r\n"),
        ],
    );
}

#[test]
fn listpack_order_is_insertion_order() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("HSET h z 1 y 2 x 3 w 4", ":4\r\n"),
            ("HDEL h y", ":1\r\n"),
            ("HSET h y 5 v 6 z 7", ":2\r\n"),
            (
                "HGETALL h",
                "*10\r\n$1\r\nz\r\n$1\r\n7\r\n$1\r\nx\r\n$1\r\n3\r\n$1\r\nw\r\n$1\r\n4\r\n\
                 $1\r\ny\r\n$1\r\n5\r\n$1\r\nv\r\n$1\r\n6\r\n",
            ),
            (
                "HSCAN h 0",
                "*2\r\n$1\r\n0\r\n*10\r\n$1\r\nz\r\n$1\r\n7\r\n$1\r\nx\r\n$1\r\n3\r\n$1\r\nw\r\n\
                 $1\r\n4\r\n$1\r\ny\r\n$1\r\n5\r\n$1\r\nv\r\n$1\r\n6\r\n",
            ),
        ],
    );
}

#[test]
fn hdel_removes_empty_hashes() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("HSET h a 1 b 2", ":2\r\n"),
            ("EXPIRE h 100", ":1\r\n"),
            ("HDEL h a x a", ":1\r\n"),
            ("TTL h", ":100\r\n"),
            ("HDEL h b", ":1\r\n"),
            ("EXISTS h", ":0\r\n"),
            ("TTL h", ":-2\r\n"),
            ("HDEL nokey a", ":0\r\n"),
            ("HSET h a 1", ":1\r\n"),
            ("TTL h", ":-1\r\n"),
        ],
    );
}

#[test]
fn arity_and_wrong_type() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    let arity = |c: &str| format!("-ERR wrong number of arguments for '{c}' command\r\n");
    for (line, name) in [
        ("HSET h a", "hset"),
        ("HSET h a 1 b", "hset"),
        ("HMSET h a 1 b", "hmset"),
        ("HMSET h", "hmset"),
        ("HSETNX h a", "hsetnx"),
        ("HGET h", "hget"),
        ("HMGET h", "hmget"),
        ("HDEL h", "hdel"),
        ("HLEN h x", "hlen"),
        ("HSTRLEN h", "hstrlen"),
        ("HEXISTS h", "hexists"),
        ("HKEYS h x", "hkeys"),
        ("HVALS", "hvals"),
        ("HGETALL h x", "hgetall"),
        ("HINCRBY h a", "hincrby"),
        ("HINCRBYFLOAT h a 1 2", "hincrbyfloat"),
        ("HRANDFIELD", "hrandfield"),
        ("HSCAN h", "hscan"),
    ] {
        assert_eq!(raw.wire(&split(line)), arity(name), "{line}");
    }
    script(&mut raw, &[("SET s str", "+OK\r\n")]);
    for line in [
        "HSET s a 1",
        "HSETNX s a 1",
        "HMSET s a 1",
        "HGET s a",
        "HMGET s a",
        "HDEL s a",
        "HLEN s",
        "HSTRLEN s a",
        "HEXISTS s a",
        "HKEYS s",
        "HVALS s",
        "HGETALL s",
        "HINCRBY s a 1",
        "HINCRBYFLOAT s a 1",
        "HRANDFIELD s",
        "HRANDFIELD s 2 WITHVALUES",
        "HSCAN s 0",
        "HSCAN s 0 COUNT 0",
    ] {
        assert_eq!(raw.wire(&split(line)), WRONGTYPE, "{line}");
    }
    // And the other way round.
    script(
        &mut raw,
        &[
            ("HSET h a 1", ":1\r\n"),
            ("GET h", WRONGTYPE),
            ("INCR h", WRONGTYPE),
            ("APPEND h x", WRONGTYPE),
            ("STRLEN h", WRONGTYPE),
            ("GET s", "$3\r\nstr\r\n"),
        ],
    );
}

#[test]
fn hincrby() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("HINCRBY h a 5", ":5\r\n"),
            ("HINCRBY h a -10", ":-5\r\n"),
            ("HGET h a", "$2\r\n-5\r\n"),
            ("HINCRBY h a x", NOT_INT),
            ("HINCRBY h a 1.5", NOT_INT),
            ("HINCRBY h a 99999999999999999999", NOT_INT),
            ("HINCRBY nokey a x", NOT_INT),
            ("HSET h s notanumber", ":1\r\n"),
            ("HINCRBY h s 1", "-ERR hash value is not an integer\r\n"),
            ("HSET h s 01", ":0\r\n"),
            ("HINCRBY h s 1", "-ERR hash value is not an integer\r\n"),
            ("HSET h m 9223372036854775807", ":1\r\n"),
            (
                "HINCRBY h m 1",
                "-ERR increment or decrement would overflow\r\n",
            ),
            ("HSET h n -9223372036854775808", ":1\r\n"),
            (
                "HINCRBY h n -1",
                "-ERR increment or decrement would overflow\r\n",
            ),
            ("HINCRBY h n 0", ":-9223372036854775808\r\n"),
            ("SET s str", "+OK\r\n"),
            ("HINCRBY s a x", NOT_INT),
        ],
    );
}

#[test]
fn hincrbyfloat() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("HINCRBYFLOAT h a 1.5", "$3\r\n1.5\r\n"),
            ("HINCRBYFLOAT h a 0.1", "$3\r\n1.6\r\n"),
            ("HINCRBYFLOAT h a -1.6", "$1\r\n0\r\n"),
            ("HINCRBYFLOAT h a 1e10", "$11\r\n10000000000\r\n"),
            ("HINCRBYFLOAT h a 0x10", "$11\r\n10000000016\r\n"),
            ("HINCRBYFLOAT h a x", NOT_FLOAT),
            ("HINCRBYFLOAT h a \"\"", NOT_FLOAT),
            ("HINCRBYFLOAT h a inf", "-ERR value is NaN or Infinity\r\n"),
            ("HINCRBYFLOAT h a nan", NOT_FLOAT),
            (
                "HINCRBYFLOAT nokey a inf",
                "-ERR value is NaN or Infinity\r\n",
            ),
            ("EXISTS nokey", ":0\r\n"),
            ("HSET h s notafloat", ":1\r\n"),
            ("HINCRBYFLOAT h s 1", "-ERR hash value is not a float\r\n"),
            ("HSET h i inf", ":1\r\n"),
            (
                "HINCRBYFLOAT h i 1",
                "-ERR increment would produce NaN or Infinity\r\n",
            ),
            ("HSET h m 1.7976931348623157e308", ":1\r\n"),
            ("HSET h n 2", ":1\r\n"),
            ("HINCRBYFLOAT h n 1", "$1\r\n3\r\n"),
            ("HINCRBY h n 1", ":4\r\n"),
            ("OBJECT ENCODING h", "$8\r\nlistpack\r\n"),
            ("HINCRBYFLOAT h m 1e5000", NOT_FLOAT),
            ("SET s str", "+OK\r\n"),
            ("HINCRBYFLOAT s a x", NOT_FLOAT),
            ("HINCRBYFLOAT s a 1", WRONGTYPE),
        ],
    );
    // Long double arithmetic: twice DBL_MAX is finite, and its 309 digits
    // are longer than hash-max-listpack-value.
    let Frame::Bulk(sum) = raw.call(&["HINCRBYFLOAT", "h", "m", "1.7976931348623157e308"]) else {
        panic!("HINCRBYFLOAT did not answer a bulk string");
    };
    assert_eq!(sum.len(), 309);
    assert!(sum.starts_with(b"35953862697246313999"));
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
}

#[test]
fn resp3_forms() {
    let server = TestServer::start(1);
    let mut raw = raw3(&server);
    script(
        &mut raw,
        &[
            ("HSET h a 1 b 2", ":2\r\n"),
            (
                "HGETALL h",
                "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
            ),
            ("HGETALL nokey", "%0\r\n"),
            ("HKEYS h", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            ("HGET h x", "_\r\n"),
            ("HMGET h a x", "*2\r\n$1\r\n1\r\n_\r\n"),
            ("HRANDFIELD nokey", "_\r\n"),
            ("HRANDFIELD nokey 2 WITHVALUES", "*0\r\n"),
            (
                "HRANDFIELD h 5 WITHVALUES",
                "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n",
            ),
            ("HRANDFIELD h 5", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            ("HSET one f v", ":1\r\n"),
            (
                "HRANDFIELD one -2 withvalues",
                "*2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
            ),
            ("HRANDFIELD one 0 withvalues", "*0\r\n"),
        ],
    );
    let mut raw2 = server.raw();
    script(
        &mut raw2,
        &[
            (
                "HRANDFIELD h 5 WITHVALUES",
                "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
            ),
            (
                "HRANDFIELD one -2 withvalues",
                "*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nf\r\n$1\r\nv\r\n",
            ),
        ],
    );
}

#[test]
fn hrandfield_arguments() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("HRANDFIELD nokey", "$-1\r\n"),
            ("HRANDFIELD nokey 3", "*0\r\n"),
            ("HRANDFIELD nokey -3", "*0\r\n"),
            ("HSET h a 1", ":1\r\n"),
            ("HRANDFIELD h", "$1\r\na\r\n"),
            ("HRANDFIELD h 0", "*0\r\n"),
            ("HRANDFIELD h -3", "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"),
            ("HRANDFIELD h x", NOT_INT),
            ("HRANDFIELD h 1.5", NOT_INT),
            ("HRANDFIELD h 1 foo", SYNTAX),
            ("HRANDFIELD h 1 withvalues extra", SYNTAX),
            (
                "HRANDFIELD h -9223372036854775808",
                "-ERR value is out of range, value must between -9223372036854775807 and \
                 9223372036854775807\r\n",
            ),
            (
                "HRANDFIELD h 4611686018427387904 withvalues",
                "-ERR value is out of range\r\n",
            ),
            (
                "HRANDFIELD h 4611686018427387903 withvalues",
                "*2\r\n$1\r\na\r\n$1\r\n1\r\n",
            ),
            ("HRANDFIELD nokey x", NOT_INT),
            ("HRANDFIELD nokey 1 foo", SYNTAX),
        ],
    );
}

/// Chi-square over `counts` against a uniform expectation.
fn chi_square(counts: &HashMap<String, usize>, cells: usize, total: usize) -> f64 {
    assert_eq!(counts.len(), cells, "every field must be drawn");
    let expected = total as f64 / cells as f64;
    counts
        .values()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

/// The bound is far in the tail (p < 1e-6 for the degrees of freedom used)
/// so the test does not flake, yet a skewed sampler (e.g. one field twice as
/// likely) lands far above it.
fn check_uniform(raw: &mut Raw, key: &str, fields: usize) {
    let draws = fields * 400;
    // With replacement.
    let mut counts: HashMap<String, usize> = HashMap::new();
    let n = format!("-{draws}");
    for f in bulks(raw.call(&["HRANDFIELD", key, &n])) {
        *counts.entry(f).or_default() += 1;
    }
    let chi = chi_square(&counts, fields, draws);
    assert!(
        chi < fields as f64 * 2.5 + 40.0,
        "with replacement: chi2 {chi}"
    );
    // Distinct: every subset member counted; each field is in a subset of
    // size k with probability k / fields.
    let k = 3;
    let rounds = draws / k;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for _ in 0..rounds {
        let picked = bulks(raw.call(&["HRANDFIELD", key, &k.to_string()]));
        assert_eq!(picked.len(), k);
        assert_eq!(picked.iter().collect::<HashSet<_>>().len(), k, "distinct");
        for f in picked {
            *counts.entry(f).or_default() += 1;
        }
    }
    let chi = chi_square(&counts, fields, rounds * k);
    assert!(chi < fields as f64 * 2.5 + 40.0, "distinct: chi2 {chi}");
    // Single draws.
    let mut counts: HashMap<String, usize> = HashMap::new();
    for _ in 0..fields * 100 {
        match raw.call(&["HRANDFIELD", key]) {
            Frame::Bulk(b) => {
                *counts
                    .entry(String::from_utf8_lossy(&b).into())
                    .or_default() += 1
            }
            other => panic!("{other:?}"),
        }
    }
    let chi = chi_square(&counts, fields, fields * 100);
    assert!(chi < fields as f64 * 2.5 + 40.0, "single: chi2 {chi}");
}

#[test]
fn hrandfield_is_uniform() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    fill(&mut raw, "small", 10);
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "small"]), bulk("listpack"));
    check_uniform(&mut raw, "small", 10);
    fill(&mut raw, "big", 40);
    raw.call(&["CONFIG", "SET", "hash-max-listpack-entries", "8"]);
    fill(&mut raw, "table", 40);
    assert_eq!(
        raw.call(&["OBJECT", "ENCODING", "table"]),
        bulk("hashtable")
    );
    check_uniform(&mut raw, "table", 40);
    // A count of more than a third of the hash takes the other path.
    let picked = bulks(raw.call(&["HRANDFIELD", "table", "30"]));
    assert_eq!(picked.iter().collect::<HashSet<_>>().len(), 30);
}

#[test]
fn encoding_converts_at_the_thresholds() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    fill(&mut raw, "h", 512);
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "h"]), bulk("listpack"));
    assert_eq!(raw.call(&["HSET", "h", "f511", "again"]), int(0));
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "h"]), bulk("listpack"));
    assert_eq!(raw.call(&["HSET", "h", "one-more", "x"]), int(1));
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
    assert_eq!(raw.call(&["HLEN", "h"]), int(513));
    assert_eq!(raw.call(&["HGET", "h", "f7"]), bulk("v7"));
    // Never converts back.
    for i in 0..500 {
        raw.call(&["HDEL", "h", &format!("f{i}")]);
    }
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "h"]), bulk("hashtable"));

    let v64 = "x".repeat(64);
    let v65 = "x".repeat(65);
    assert_eq!(raw.call(&["HSET", "v", "a", &v64]), int(1));
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "v"]), bulk("listpack"));
    assert_eq!(raw.call(&["HSET", "v", &v64, "b"]), int(1));
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "v"]), bulk("listpack"));
    assert_eq!(raw.call(&["HSETNX", "v", "a", &v65]), int(0));
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "v"]), bulk("listpack"));
    assert_eq!(raw.call(&["HSET", "v", "c", &v65]), int(1));
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "v"]), bulk("hashtable"));
    assert_eq!(raw.call(&["HGET", "v", "c"]), bulk(&v65));
    assert_eq!(raw.call(&["HSET", "k", &v65, "1"]), int(1));
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "k"]), bulk("hashtable"));

    // CONFIG SET takes effect for the next write.
    assert_eq!(
        raw.call(&["CONFIG", "SET", "hash-max-listpack-entries", "2"]),
        simple("OK")
    );
    assert_eq!(raw.call(&["HSET", "c", "a", "1", "b", "2"]), int(2));
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "c"]), bulk("listpack"));
    assert_eq!(raw.call(&["HINCRBY", "c", "n", "1"]), int(1));
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "c"]), bulk("hashtable"));
    raw.call(&["CONFIG", "SET", "hash-max-listpack-entries", "0"]);
    assert_eq!(raw.call(&["HSET", "z", "a", "1"]), int(1));
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "z"]), bulk("hashtable"));
    raw.call(&["CONFIG", "SET", "hash-max-listpack-entries", "512"]);
    raw.call(&["CONFIG", "SET", "hash-max-ziplist-value", "3"]);
    assert_eq!(raw.call(&["HINCRBY", "w", "a", "100"]), int(100));
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "w"]), bulk("listpack"));
    assert_eq!(raw.call(&["HINCRBYFLOAT", "w", "a", "0.5"]), bulk("100.5"));
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "w"]), bulk("hashtable"));
}

#[test]
fn hscan_arguments() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    let empty = "*2\r\n$1\r\n0\r\n*0\r\n";
    script(
        &mut raw,
        &[
            ("HSCAN nokey 0", empty),
            ("HSCAN nokey 0 junk", empty),
            ("HSCAN nokey x", "-ERR invalid cursor\r\n"),
            ("HSET h a 1 b 2 c 3", ":3\r\n"),
            (
                "HSCAN h 0 MATCH b*",
                "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n",
            ),
            (
                "HSCAN h 77 COUNT 1 MATCH [ac]",
                "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n",
            ),
            ("HSCAN h 0 COUNT 0", SYNTAX),
            ("HSCAN h 0 COUNT -1", SYNTAX),
            ("HSCAN h 0 COUNT x", NOT_INT),
            ("HSCAN h 0 MATCH", SYNTAX),
            ("HSCAN h 0 TYPE string", SYNTAX),
            ("HSCAN h \" 0\"", "-ERR invalid cursor\r\n"),
            ("HSCAN h 18446744073709551616", "-ERR invalid cursor\r\n"),
        ],
    );
    assert_eq!(
        raw.wire(&["HSCAN", "h", ""]),
        "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"
    );
}

#[test]
fn hscan_visits_a_large_hash_completely() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    let n = 5000;
    fill(&mut raw, "big", n);
    assert_eq!(raw.call(&["OBJECT", "ENCODING", "big"]), bulk("hashtable"));
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        calls += 1;
        assert!(calls < 10_000, "HSCAN does not terminate");
        let Frame::Array(mut reply) = raw.call(&["HSCAN", "big", &cursor, "COUNT", "50"]) else {
            panic!("HSCAN reply is not an array");
        };
        let items = bulks(reply.pop().expect("items"));
        let Some(Frame::Bulk(next)) = reply.pop() else {
            panic!("no cursor");
        };
        assert!(items.len().is_multiple_of(2));
        for pair in items.chunks(2) {
            seen.insert(pair[0].clone(), pair[1].clone());
        }
        cursor = String::from_utf8_lossy(&next).into_owned();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), n);
    for i in 0..n {
        assert_eq!(seen.get(&format!("f{i}")), Some(&format!("v{i}")));
    }
    assert!(
        calls > 10,
        "COUNT should split the scan into many calls ({calls})"
    );
    // MATCH filters after COUNT, as in Redis.
    let mut matched = 0;
    let mut cursor = "0".to_string();
    loop {
        let Frame::Array(mut reply) =
            raw.call(&["HSCAN", "big", &cursor, "MATCH", "f1*", "COUNT", "100"])
        else {
            panic!("HSCAN reply is not an array");
        };
        matched += bulks(reply.pop().expect("items")).len() / 2;
        let Some(Frame::Bulk(next)) = reply.pop() else {
            panic!("no cursor");
        };
        cursor = String::from_utf8_lossy(&next).into_owned();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(matched, 1111);
}

#[test]
fn many_keys_across_shards() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    for i in 0..64 {
        let key = format!("h:{i}");
        assert_eq!(raw.call(&["HSET", &key, "n", &i.to_string()]), int(1));
        assert_eq!(raw.call(&["HINCRBY", &key, "n", "1"]), int(i + 1));
    }
    for i in 0..64 {
        let key = format!("h:{i}");
        assert_eq!(raw.call(&["HGET", &key, "n"]), bulk(&(i + 1).to_string()));
        assert_eq!(raw.call(&["HDEL", &key, "n"]), int(1));
    }
    assert_eq!(raw.call(&["DBSIZE"]), int(0));
    // The redis crate's view of a RESP3 map.
    let mut c = server.client3();
    let _: () = redis::cmd("HSET")
        .arg("{a}x")
        .arg("f")
        .arg("v")
        .query(&mut c)
        .expect("hset");
    let got: HashMap<String, String> = redis::cmd("HGETALL")
        .arg("{a}x")
        .query(&mut c)
        .expect("hgetall");
    assert_eq!(got.get("f").map(String::as_str), Some("v"));
}
