//! The list family against a real server: replies byte for byte as Redis
//! 7.0.15 sends them (RESP2 and RESP3), error precedence, long lists that
//! span many nodes, and the multi-key commands across shards.

mod common;

use common::{script, TestServer, NOT_INT, SYNTAX, WRONGTYPE};
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

/// The exact RESP2 reply of an array of bulk strings.
fn bulks(items: &[&str]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s.push_str(&format!("${}\r\n{}\r\n", i.len(), i));
    }
    s
}

const NULL: &str = "$-1\r\n";
const NULL_ARRAY: &str = "*-1\r\n";

#[test]
fn push_and_range() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    script(
        &mut r,
        &[
            ("LPUSH l a b c", ":3\r\n"),
            ("RPUSH l d e", ":5\r\n"),
            ("LLEN l", ":5\r\n"),
            ("TYPE l", "+list\r\n"),
            ("OBJECT ENCODING l", "$9\r\nquicklist\r\n"),
            ("LPUSHX nokey a", ":0\r\n"),
            ("RPUSHX nokey a b", ":0\r\n"),
            ("EXISTS nokey", ":0\r\n"),
            ("LPUSHX l x y", ":7\r\n"),
            ("RPUSHX l z", ":8\r\n"),
            ("LLEN nokey", ":0\r\n"),
        ],
    );
    assert_eq!(
        r.wire(&["LRANGE", "l", "0", "-1"]),
        bulks(&["y", "x", "c", "b", "a", "d", "e", "z"])
    );
    assert_eq!(r.wire(&["RPUSH", "bin", "", "a b"]), ":2\r\n");
    assert_eq!(r.wire(&["LRANGE", "bin", "0", "-1"]), bulks(&["", "a b"]));
    for (start, stop, want) in [
        ("0", "0", vec!["y"]),
        ("1", "3", vec!["x", "c", "b"]),
        ("-2", "-1", vec!["e", "z"]),
        ("-100", "1", vec!["y", "x"]),
        ("6", "100", vec!["e", "z"]),
        ("5", "1", vec![]),
        ("8", "10", vec![]),
        ("-1", "-2", vec![]),
        (
            "-9223372036854775808",
            "9223372036854775807",
            vec!["y", "x", "c", "b", "a", "d", "e", "z"],
        ),
    ] {
        assert_eq!(
            r.wire(&["LRANGE", "l", start, stop]),
            bulks(&want),
            "{start} {stop}"
        );
    }
    script(
        &mut r,
        &[
            ("LRANGE nokey 0 -1", "*0\r\n"),
            ("LRANGE l x 1", NOT_INT),
            ("LRANGE l 0 y", NOT_INT),
            ("LRANGE nokey x 1", NOT_INT),
            (
                "LRANGE l 0",
                "-ERR wrong number of arguments for 'lrange' command\r\n",
            ),
            (
                "LPUSH l",
                "-ERR wrong number of arguments for 'lpush' command\r\n",
            ),
            (
                "RPUSHX l",
                "-ERR wrong number of arguments for 'rpushx' command\r\n",
            ),
        ],
    );
}

#[test]
fn pops_with_and_without_count() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    r.wire(&["RPUSH", "l", "a", "b", "c", "d", "e"]);
    assert_eq!(r.wire(&["LPOP", "l"]), "$1\r\na\r\n");
    assert_eq!(r.wire(&["RPOP", "l"]), "$1\r\ne\r\n");
    assert_eq!(r.wire(&["LPOP", "l", "1"]), bulks(&["b"]));
    assert_eq!(r.wire(&["LPOP", "l", "0"]), "*0\r\n");
    assert_eq!(r.wire(&["RPOP", "l", "10"]), bulks(&["d", "c"]));
    assert_eq!(r.wire(&["EXISTS", "l"]), ":0\r\n");
    let bad_count = "-ERR value is out of range, must be positive\r\n";
    script(
        &mut r,
        &[
            ("LPOP nokey", NULL),
            ("RPOP nokey", NULL),
            ("LPOP nokey 0", NULL_ARRAY),
            ("RPOP nokey 3", NULL_ARRAY),
            ("LPOP nokey -1", bad_count),
            ("LPOP nokey x", bad_count),
            ("RPOP nokey 1.5", bad_count),
            (
                "LPOP l 1 2",
                "-ERR wrong number of arguments for 'lpop' command\r\n",
            ),
            (
                "RPOP l 1 2 3",
                "-ERR wrong number of arguments for 'rpop' command\r\n",
            ),
        ],
    );
    r.wire(&["RPUSH", "l", "a", "b"]);
    assert_eq!(
        r.wire(&["LPOP", "l", "9223372036854775807"]),
        bulks(&["a", "b"])
    );

    let mut r3 = s.raw();
    r3.wire(&["HELLO", "3"]);
    assert_eq!(r3.wire(&["LPOP", "nokey"]), "_\r\n");
    assert_eq!(r3.wire(&["LPOP", "nokey", "2"]), "_\r\n");
    assert_eq!(r3.wire(&["LINDEX", "nokey", "0"]), "_\r\n");
    assert_eq!(r3.wire(&["LMPOP", "1", "nokey", "LEFT"]), "_\r\n");
    assert_eq!(r3.wire(&["LPOS", "nokey", "a"]), "_\r\n");
    r3.wire(&["RPUSH", "l", "a"]);
    assert_eq!(r3.wire(&["LPOP", "l", "1"]), bulks(&["a"]));
}

#[test]
fn wrongtype_everywhere() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    r.wire(&["SET", "s", "x"]);
    r.wire(&["RPUSH", "l", "a"]);
    for cmd in [
        "LPUSH s a",
        "RPUSH s a",
        "LPUSHX s a",
        "RPUSHX s a",
        "LPOP s",
        "RPOP s 2",
        "LPOP s 0",
        "LLEN s",
        "LRANGE s 0 -1",
        "LINDEX s 0",
        "LINDEX s x",
        "LSET s 0 x",
        "LSET s x y",
        "LINSERT s BEFORE a b",
        "LREM s 0 a",
        "LTRIM s 0 1",
        "LPOS s a",
        "LMOVE s l LEFT RIGHT",
        "LMOVE l s LEFT RIGHT",
        "RPOPLPUSH s l",
        "RPOPLPUSH l s",
        "LMPOP 1 s LEFT",
        "LMPOP 2 nokey s LEFT",
        "BLPOP s 0",
        "BLPOP nokey s 0",
        "BRPOPLPUSH s l 0",
        "BRPOPLPUSH l s 0",
        "BLMOVE l s LEFT LEFT 0",
        "BLMPOP 0 2 nokey s LEFT",
    ] {
        assert_eq!(r.wire(&common::split(cmd)), WRONGTYPE, "{cmd}");
    }
    // The list survived the failed moves, and the string is untouched.
    assert_eq!(r.wire(&["LRANGE", "l", "0", "-1"]), bulks(&["a"]));
    assert_eq!(r.wire(&["GET", "s"]), "$1\r\nx\r\n");
    // A list before the string serves first.
    assert_eq!(
        r.wire(&["LMPOP", "2", "l", "s", "LEFT"]),
        "*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"
    );
    r.wire(&["RPUSH", "l", "a"]);
    assert_eq!(r.wire(&["BLPOP", "l", "s", "0"]), bulks(&["l", "a"]));
    for cmd in ["GET l", "INCR l", "SADD l x", "HSET l f v"] {
        r.wire(&["RPUSH", "l", "a"]);
        assert_eq!(r.wire(&common::split(cmd)), WRONGTYPE, "{cmd}");
    }
}

#[test]
fn lindex_and_lset() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    r.wire(&["RPUSH", "l", "a", "b", "c"]);
    script(
        &mut r,
        &[
            ("LINDEX l 0", "$1\r\na\r\n"),
            ("LINDEX l -1", "$1\r\nc\r\n"),
            ("LINDEX l -3", "$1\r\na\r\n"),
            ("LINDEX l 3", NULL),
            ("LINDEX l -4", NULL),
            ("LINDEX l -9223372036854775808", NULL),
            ("LINDEX l x", NOT_INT),
            // The lookup comes first: a missing key is nil whatever the index.
            ("LINDEX nokey x", NULL),
            ("LSET l 0 A", "+OK\r\n"),
            ("LSET l -1 C", "+OK\r\n"),
            ("LSET l 1 \"\"", "+OK\r\n"),
            ("LSET l 3 x", "-ERR index out of range\r\n"),
            ("LSET l -4 x", "-ERR index out of range\r\n"),
            ("LSET l x y", NOT_INT),
            ("LSET nokey 0 x", "-ERR no such key\r\n"),
            ("LSET nokey x y", "-ERR no such key\r\n"),
        ],
    );
    assert_eq!(r.wire(&["LRANGE", "l", "0", "-1"]), bulks(&["A", "", "C"]));
}

#[test]
fn linsert_lrem_ltrim() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    r.wire(&["RPUSH", "l", "a", "b", "c"]);
    script(
        &mut r,
        &[
            ("LINSERT l BEFORE b x", ":4\r\n"),
            ("LINSERT l after b y", ":5\r\n"),
            ("LINSERT l before zz x", ":-1\r\n"),
            ("LINSERT l middle b x", SYNTAX),
            ("LINSERT nokey before a x", ":0\r\n"),
            ("LINSERT nokey middle a x", SYNTAX),
            ("EXISTS nokey", ":0\r\n"),
        ],
    );
    assert_eq!(
        r.wire(&["LRANGE", "l", "0", "-1"]),
        bulks(&["a", "x", "b", "y", "c"])
    );

    r.wire(&["DEL", "l"]);
    r.wire(&["RPUSH", "l", "a", "b", "c", "a", "b", "c", "a"]);
    script(
        &mut r,
        &[
            ("LREM l 2 a", ":2\r\n"),
            ("LREM l -1 c", ":1\r\n"),
            ("LREM l 1 zz", ":0\r\n"),
            ("LREM l x a", NOT_INT),
            ("LREM nokey 1 a", ":0\r\n"),
            ("LREM nokey x a", NOT_INT),
        ],
    );
    assert_eq!(
        r.wire(&["LRANGE", "l", "0", "-1"]),
        bulks(&["b", "c", "b", "a"])
    );
    assert_eq!(
        r.wire(&["LREM", "l", "-9223372036854775808", "b"]),
        ":2\r\n"
    );
    assert_eq!(r.wire(&["LREM", "l", "0", "c"]), ":1\r\n");
    assert_eq!(r.wire(&["LREM", "l", "0", "a"]), ":1\r\n");
    assert_eq!(r.wire(&["EXISTS", "l"]), ":0\r\n");

    r.wire(&["RPUSH", "l", "a", "b", "c", "d", "e"]);
    script(
        &mut r,
        &[
            ("LTRIM l 1 -2", "+OK\r\n"),
            ("LTRIM l x 1", NOT_INT),
            ("LTRIM nokey x 1", NOT_INT),
            ("LTRIM nokey 0 1", "+OK\r\n"),
        ],
    );
    assert_eq!(r.wire(&["LRANGE", "l", "0", "-1"]), bulks(&["b", "c", "d"]));
    assert_eq!(r.wire(&["LTRIM", "l", "-1", "-1"]), "+OK\r\n");
    assert_eq!(r.wire(&["LRANGE", "l", "0", "-1"]), bulks(&["d"]));
    assert_eq!(r.wire(&["LTRIM", "l", "1", "0"]), "+OK\r\n");
    assert_eq!(r.wire(&["EXISTS", "l"]), ":0\r\n");
}

#[test]
fn lpos_options_and_errors() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    r.wire(&["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
    let rank0 = "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n";
    script(
        &mut r,
        &[
            ("LPOS l a", ":0\r\n"),
            ("LPOS l c", ":2\r\n"),
            ("LPOS l zz", NULL),
            ("LPOS l c RANK 2", ":6\r\n"),
            ("LPOS l c RANK 4", NULL),
            ("LPOS l c RANK -1", ":7\r\n"),
            ("LPOS l c RANK -2", ":6\r\n"),
            ("LPOS l c COUNT 0", "*3\r\n:2\r\n:6\r\n:7\r\n"),
            ("LPOS l c COUNT 2", "*2\r\n:2\r\n:6\r\n"),
            ("LPOS l c COUNT 0 RANK 2", "*2\r\n:6\r\n:7\r\n"),
            ("LPOS l c COUNT 2 RANK -1", "*2\r\n:7\r\n:6\r\n"),
            ("LPOS l zz COUNT 2 RANK -1", "*0\r\n"),
            ("LPOS l a COUNT 0 MAXLEN 1", "*1\r\n:0\r\n"),
            ("LPOS l c COUNT 0 MAXLEN 1", "*0\r\n"),
            ("LPOS l c RANK -1 MAXLEN 2 COUNT 0", "*2\r\n:7\r\n:6\r\n"),
            ("LPOS l c RANK 0", rank0),
            ("LPOS nokey c RANK 0", rank0),
            ("LPOS l c COUNT -1", "-ERR COUNT can't be negative\r\n"),
            ("LPOS l c COUNT x", "-ERR COUNT can't be negative\r\n"),
            ("LPOS l c MAXLEN -1", "-ERR MAXLEN can't be negative\r\n"),
            ("LPOS l c RANK x", NOT_INT),
            ("LPOS l c RANK", SYNTAX),
            ("LPOS l c foo 1", SYNTAX),
            ("LPOS nokey c", NULL),
            ("LPOS nokey c COUNT 0", "*0\r\n"),
        ],
    );
    // Redis 7.0 negates RANK -2^63 into itself: a scan from the tail in
    // which every match counts and COUNT never stops it.
    r.wire(&["DEL", "l"]);
    r.wire(&["RPUSH", "l", "a", "b", "a", "c", "a"]);
    script(
        &mut r,
        &[
            ("LPOS l a RANK -9223372036854775808", ":4\r\n"),
            (
                "LPOS l a RANK -9223372036854775808 COUNT 1",
                "*3\r\n:4\r\n:2\r\n:0\r\n",
            ),
            (
                "LPOS l a RANK -9223372036854775808 MAXLEN 2 COUNT 0",
                "*1\r\n:4\r\n",
            ),
            ("LPOS l a RANK -9223372036854775807 COUNT 0", "*0\r\n"),
        ],
    );
}

#[test]
fn lmove_and_rpoplpush_across_shards() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    let (a, b) = keys_on_two_shards();
    r.wire(&["RPUSH", &a, "1", "2", "3"]);
    assert_eq!(r.wire(&["LMOVE", &a, &b, "LEFT", "RIGHT"]), "$1\r\n1\r\n");
    assert_eq!(r.wire(&["RPOPLPUSH", &a, &b]), "$1\r\n3\r\n");
    assert_eq!(r.wire(&["LRANGE", &b, "0", "-1"]), bulks(&["3", "1"]));
    assert_eq!(r.wire(&["LMOVE", &a, &b, "left", "left"]), "$1\r\n2\r\n");
    assert_eq!(r.wire(&["EXISTS", &a]), ":0\r\n");
    assert_eq!(r.wire(&["LMOVE", &a, &b, "LEFT", "LEFT"]), NULL);
    assert_eq!(r.wire(&["LRANGE", &b, "0", "-1"]), bulks(&["2", "3", "1"]));
    r.wire(&["SET", &a, "str"]);
    assert_eq!(r.wire(&["LMOVE", &b, &a, "LEFT", "LEFT"]), WRONGTYPE);
    assert_eq!(r.wire(&["LLEN", &b]), ":3\r\n");
    script(
        &mut r,
        &[
            ("LMOVE x y UP LEFT", SYNTAX),
            ("LMOVE x y LEFT DOWN", SYNTAX),
            (
                "LMOVE x y LEFT",
                "-ERR wrong number of arguments for 'lmove' command\r\n",
            ),
        ],
    );
    // Same source and destination rotates.
    r.wire(&["RPUSH", "rot", "a", "b", "c"]);
    assert_eq!(
        r.wire(&["LMOVE", "rot", "rot", "LEFT", "RIGHT"]),
        "$1\r\na\r\n"
    );
    assert_eq!(r.wire(&["RPOPLPUSH", "rot", "rot"]), "$1\r\na\r\n");
    assert_eq!(
        r.wire(&["LMOVE", "rot", "rot", "RIGHT", "RIGHT"]),
        "$1\r\nc\r\n"
    );
    assert_eq!(
        r.wire(&["LRANGE", "rot", "0", "-1"]),
        bulks(&["a", "b", "c"])
    );
    r.wire(&["RPUSH", "one", "x"]);
    assert_eq!(r.wire(&["RPOPLPUSH", "one", "one"]), "$1\r\nx\r\n");
    assert_eq!(r.wire(&["LRANGE", "one", "0", "-1"]), bulks(&["x"]));
}

#[test]
fn lmpop_across_shards_and_errors() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    let (a, b) = keys_on_two_shards();
    r.wire(&["RPUSH", &b, "1", "2", "3"]);
    let reply =
        |key: &str, items: &[&str]| format!("*2\r\n${}\r\n{key}\r\n{}", key.len(), bulks(items));
    assert_eq!(r.wire(&["LMPOP", "2", &a, &b, "LEFT"]), reply(&b, &["1"]));
    assert_eq!(
        r.wire(&["LMPOP", "2", &a, &b, "RIGHT", "COUNT", "5"]),
        reply(&b, &["3", "2"])
    );
    assert_eq!(r.wire(&["EXISTS", &b]), ":0\r\n");
    assert_eq!(r.wire(&["LMPOP", "2", &a, &b, "LEFT"]), NULL_ARRAY);
    r.wire(&["RPUSH", &a, "x"]);
    r.wire(&["SET", &b, "str"]);
    assert_eq!(r.wire(&["LMPOP", "2", &a, &b, "LEFT"]), reply(&a, &["x"]));
    assert_eq!(r.wire(&["LMPOP", "2", &a, &b, "LEFT"]), WRONGTYPE);
    let numkeys = "-ERR numkeys should be greater than 0\r\n";
    let count = "-ERR count should be greater than 0\r\n";
    script(
        &mut r,
        &[
            ("LMPOP 0 l LEFT", numkeys),
            ("LMPOP -1 l LEFT", numkeys),
            ("LMPOP x l LEFT", numkeys),
            ("LMPOP 1 l UP", SYNTAX),
            ("LMPOP 2 l LEFT", SYNTAX),
            ("LMPOP 9223372036854775807 l LEFT", SYNTAX),
            ("LMPOP 1 l LEFT COUNT 0", count),
            ("LMPOP 1 l LEFT COUNT x", count),
            ("LMPOP 1 l LEFT COUNT", SYNTAX),
            ("LMPOP 1 l LEFT COUNT 1 COUNT 1", SYNTAX),
            ("LMPOP 1 l LEFT foo", SYNTAX),
            (
                "LMPOP 1 l",
                "-ERR wrong number of arguments for 'lmpop' command\r\n",
            ),
        ],
    );
}

#[test]
fn blocking_forms_serve_at_once_when_data_is_there() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    let (a, b) = keys_on_two_shards();
    r.wire(&["RPUSH", &b, "1", "2", "3"]);
    assert_eq!(r.wire(&["BLPOP", &a, &b, "0"]), bulks(&[&b, "1"]));
    assert_eq!(r.wire(&["BRPOP", &a, &b, "1.5"]), bulks(&[&b, "3"]));
    assert_eq!(r.wire(&["BRPOPLPUSH", &b, &a, "0"]), "$1\r\n2\r\n");
    assert_eq!(r.wire(&["EXISTS", &b]), ":0\r\n");
    assert_eq!(
        r.wire(&["BLMOVE", &a, &b, "LEFT", "RIGHT", "0"]),
        "$1\r\n2\r\n"
    );
    r.wire(&["RPUSH", &b, "x", "y"]);
    assert_eq!(
        r.wire(&["BLMPOP", "0", "2", &a, &b, "RIGHT", "COUNT", "5"]),
        format!("*2\r\n${}\r\n{b}\r\n{}", b.len(), bulks(&["y", "x", "2"]))
    );
    let not_float = "-ERR timeout is not a float or out of range\r\n";
    let negative = "-ERR timeout is negative\r\n";
    r.wire(&["SET", "s", "x"]);
    script(
        &mut r,
        &[
            ("BLPOP nokey -1", negative),
            ("BLPOP nokey abc", not_float),
            ("BLPOP nokey nan", not_float),
            // The timeout is checked before any key.
            ("BLPOP s abc", not_float),
            ("BRPOPLPUSH s d -1", negative),
            ("BLMOVE l d UP RIGHT abc", SYNTAX),
            ("BLMOVE l d LEFT RIGHT abc", not_float),
            // BLMPOP parses numkeys, the direction and COUNT first.
            (
                "BLMPOP abc 0 l LEFT",
                "-ERR numkeys should be greater than 0\r\n",
            ),
            ("BLMPOP abc 1 l UP", SYNTAX),
            (
                "BLMPOP abc 1 l LEFT COUNT 0",
                "-ERR count should be greater than 0\r\n",
            ),
            ("BLMPOP abc 1 l LEFT", not_float),
            ("BLMPOP -1 1 s LEFT", negative),
            (
                "BLPOP l",
                "-ERR wrong number of arguments for 'blpop' command\r\n",
            ),
            (
                "BLMPOP 0 1 l",
                "-ERR wrong number of arguments for 'blmpop' command\r\n",
            ),
        ],
    );
}

#[test]
fn long_lists_span_nodes_and_read_from_both_ends() {
    let s = TestServer::start(1);
    let mut c = s.client();
    let n = 20_000i64;
    let items: Vec<String> = (0..n).map(|i| format!("item-{i}")).collect();
    for chunk in items.chunks(1000) {
        let _: i64 = redis::cmd("RPUSH")
            .arg("big")
            .arg(chunk)
            .query(&mut c)
            .unwrap_or(0);
    }
    let len: i64 = redis::cmd("LLEN").arg("big").query(&mut c).unwrap_or(0);
    assert_eq!(len, n);
    for i in [0, 1, 999, 10_000, n - 2, n - 1] {
        let v: String = redis::cmd("LINDEX")
            .arg("big")
            .arg(i)
            .query(&mut c)
            .unwrap_or_default();
        assert_eq!(v, items[i as usize]);
        let v: String = redis::cmd("LINDEX")
            .arg("big")
            .arg(i - n)
            .query(&mut c)
            .unwrap_or_default();
        assert_eq!(v, items[i as usize]);
    }
    let got: Vec<String> = redis::cmd("LRANGE")
        .arg("big")
        .arg(9_990)
        .arg(10_009)
        .query(&mut c)
        .unwrap_or_default();
    assert_eq!(got, items[9_990..10_010].to_vec());
    let got: Vec<String> = redis::cmd("LRANGE")
        .arg("big")
        .arg(0)
        .arg(-1)
        .query(&mut c)
        .unwrap_or_default();
    assert_eq!(got, items);
    let _: () = redis::cmd("LSET")
        .arg("big")
        .arg(12_345)
        .arg("changed")
        .query(&mut c)
        .unwrap_or(());
    let v: String = redis::cmd("LINDEX")
        .arg("big")
        .arg(12_345)
        .query(&mut c)
        .unwrap_or_default();
    assert_eq!(v, "changed");
    let pos: i64 = redis::cmd("LPOS")
        .arg("big")
        .arg("changed")
        .query(&mut c)
        .unwrap_or(-1);
    assert_eq!(pos, 12_345);
    let added: i64 = redis::cmd("LINSERT")
        .arg("big")
        .arg("AFTER")
        .arg("changed")
        .arg("new")
        .query(&mut c)
        .unwrap_or(0);
    assert_eq!(added, n + 1);
    let removed: i64 = redis::cmd("LREM")
        .arg("big")
        .arg(0)
        .arg("new")
        .query(&mut c)
        .unwrap_or(0);
    assert_eq!(removed, 1);
    let _: () = redis::cmd("LTRIM")
        .arg("big")
        .arg(100)
        .arg(-101)
        .query(&mut c)
        .unwrap_or(());
    let len: i64 = redis::cmd("LLEN").arg("big").query(&mut c).unwrap_or(0);
    assert_eq!(len, n - 200);
    let first: String = redis::cmd("LPOP")
        .arg("big")
        .query(&mut c)
        .unwrap_or_default();
    assert_eq!(first, items[100]);
    let last: Vec<String> = redis::cmd("RPOP")
        .arg("big")
        .arg(2)
        .query(&mut c)
        .unwrap_or_default();
    assert_eq!(
        last,
        vec![
            items[n as usize - 101].clone(),
            items[n as usize - 102].clone()
        ]
    );
}

#[test]
fn node_size_follows_list_max_listpack_size() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    assert_eq!(
        r.wire(&["CONFIG", "SET", "list-max-listpack-size", "3"]),
        "+OK\r\n"
    );
    let mut args = vec!["RPUSH", "q"];
    let items: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    args.extend(items.iter().map(String::as_str));
    assert_eq!(r.wire(&args), ":40\r\n");
    assert_eq!(r.wire(&["LINSERT", "q", "BEFORE", "20", "x"]), ":41\r\n");
    assert_eq!(r.wire(&["LSET", "q", "5", "five"]), "+OK\r\n");
    assert_eq!(r.wire(&["LREM", "q", "0", "x"]), ":1\r\n");
    assert_eq!(r.wire(&["LINDEX", "q", "-1"]), "$2\r\n39\r\n");
    assert_eq!(
        r.wire(&["LRANGE", "q", "4", "6"]),
        bulks(&["4", "five", "6"])
    );
    assert_eq!(r.wire(&["OBJECT", "ENCODING", "q"]), "$9\r\nquicklist\r\n");
    assert_eq!(
        r.wire(&["CONFIG", "SET", "list-max-listpack-size", "-5"]),
        "+OK\r\n"
    );
    assert_eq!(r.wire(&["RPUSH", "q", "tail"]), ":41\r\n");
    assert_eq!(r.wire(&["LINDEX", "q", "-1"]), "$4\r\ntail\r\n");
}

#[test]
fn ttl_survives_edits_and_goes_with_the_list() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    r.wire(&["RPUSH", "l", "a", "b"]);
    r.wire(&["EXPIRE", "l", "100"]);
    r.wire(&["RPUSH", "l", "c"]);
    r.wire(&["LSET", "l", "0", "x"]);
    r.wire(&["LPOP", "l"]);
    assert_eq!(r.wire(&["TTL", "l"]), ":100\r\n");
    r.wire(&["RPOP", "l", "5"]);
    assert_eq!(r.wire(&["TTL", "l"]), ":-2\r\n");
    r.wire(&["RPUSH", "l", "a"]);
    assert_eq!(r.wire(&["TTL", "l"]), ":-1\r\n");
}

#[test]
fn command_table_entries() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"]),
        bulks(&["a", "b"])
    );
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYS", "BLMPOP", "0", "3", "a", "b", "c", "RIGHT"]),
        bulks(&["a", "b", "c"])
    );
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYS", "BLPOP", "a", "b", "0"]),
        bulks(&["a", "b"])
    );
    let info = r.wire(&["COMMAND", "INFO", "blmove"]);
    assert!(info.contains("blocking"), "{info}");
    assert!(info.contains("@blocking"), "{info}");
}
