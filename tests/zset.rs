//! The sorted-set family against a real server. Expected replies were taken
//! from redis-server 7.0.15 with the same commands, byte for byte. Blocking
//! pops use two raw connections; every wait is bounded.

mod common;

use std::time::{Duration, Instant};

use common::*;

fn b(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

/// A RESP2 array of bulk strings.
fn bulks(items: &[&str]) -> String {
    let mut out = format!("*{}\r\n", items.len());
    for i in items {
        out.push_str(&b(i));
    }
    out
}

/// `ZADD key` with `n` members `m0..` scored `score(i)`.
fn fill(raw: &mut Raw, key: &str, n: usize, score: impl Fn(usize) -> f64) {
    let mut args = vec!["ZADD".to_string(), key.to_string()];
    for i in 0..n {
        args.push(score(i).to_string());
        args.push(format!("m{i}"));
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(raw.call(&a), int(n as i64));
}

/// The README's leaderboard section, command for command.
#[test]
fn readme_leaderboard() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("ZINCRBY leaderboard 120 alice", &b("120")),
            ("ZINCRBY leaderboard 95 bob", &b("95")),
            ("ZINCRBY leaderboard 150 carol", &b("150")),
            ("ZINCRBY leaderboard 80 dave", &b("80")),
            ("ZINCRBY leaderboard 110 erin", &b("110")),
            ("ZINCRBY leaderboard 40 frank", &b("40")),
            ("ZINCRBY leaderboard 30 alice", &b("150")),
            (
                "ZREVRANGE leaderboard 0 9 WITHSCORES",
                &bulks(&[
                    "carol", "150", "alice", "150", "erin", "110", "bob", "95", "dave", "80",
                    "frank", "40",
                ]),
            ),
            ("ZREVRANK leaderboard bob", ":3\r\n"),
            (
                "ZREVRANGE leaderboard 2 4 WITHSCORES",
                &bulks(&["erin", "110", "bob", "95", "dave", "80"]),
            ),
        ],
    );
}

#[test]
fn add_score_rank_and_card() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    script(
        &mut raw,
        &[
            ("ZADD z 1 a 2 b 3 c", ":3\r\n"),
            ("ZADD z 1 a 4 d", ":1\r\n"),
            ("ZADD z CH 5 a 4 d 6 e", ":2\r\n"),
            ("ZCARD z", ":5\r\n"),
            ("ZCARD nokey", ":0\r\n"),
            ("ZSCORE z a", &b("5")),
            ("ZSCORE z nosuch", "$-1\r\n"),
            (
                "ZMSCORE z a nosuch b",
                "*3\r\n$1\r\n5\r\n$-1\r\n$1\r\n2\r\n",
            ),
            ("ZMSCORE nokey a", "*1\r\n$-1\r\n"),
            ("ZRANK z b", ":0\r\n"),
            ("ZRANK z e", ":4\r\n"),
            ("ZREVRANK z e", ":0\r\n"),
            ("ZRANK z nosuch", "$-1\r\n"),
            ("ZREVRANK nokey a", "$-1\r\n"),
            ("ZADD z NX 9 a 9 f", ":1\r\n"),
            ("ZADD z XX 9 a 9 g", ":0\r\n"),
            ("ZADD z GT CH 1 a 10 b", ":1\r\n"),
            ("ZADD z LT CH 1 a 100 c", ":1\r\n"),
            (
                "ZRANGE z 0 -1 WITHSCORES",
                &bulks(&["a", "1", "c", "3", "d", "4", "e", "6", "f", "9", "b", "10"]),
            ),
            ("ZADD z INCR 2 a", &b("3")),
            ("ZADD z INCR NX 2 a", "$-1\r\n"),
            ("ZADD z INCR XX 2 nosuch", "$-1\r\n"),
            ("ZADD z INCR GT -1 a", "$-1\r\n"),
            ("ZADD z INCR 0 a", &b("3")),
            ("ZINCRBY z 0.5 a", &b("3.5")),
            ("ZINCRBY z 1.1 new", &b("1.1000000000000001")),
            ("TYPE z", "+zset\r\n"),
            ("OBJECT ENCODING z", "$8\r\nlistpack\r\n"),
        ],
    );
}

#[test]
fn zadd_errors_in_redis_order() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    raw.wire(&["SET", "str", "x"]);
    script(
        &mut raw,
        &[
            (
                "ZADD z XX NX 1 a",
                "-ERR XX and NX options at the same time are not compatible\r\n",
            ),
            (
                "ZADD z GT LT 1 a",
                "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n",
            ),
            (
                "ZADD z GT NX 1 a",
                "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n",
            ),
            (
                "ZADD z INCR 1 a 2 b",
                "-ERR INCR option supports a single increment-element pair\r\n",
            ),
            ("ZADD z 1 a 2", SYNTAX),
            ("ZADD z NX 1", SYNTAX),
            (
                "ZADD z",
                "-ERR wrong number of arguments for 'zadd' command\r\n",
            ),
            ("ZADD z nan a", NOT_FLOAT),
            ("ZADD z 1e400 a", NOT_FLOAT),
            ("ZADD z 1 a x b", NOT_FLOAT),
            // Scores are checked before the key's type.
            ("ZADD str x a", NOT_FLOAT),
            ("ZADD str 1 a", WRONGTYPE),
            ("ZINCRBY str 1 a", WRONGTYPE),
            ("ZINCRBY z nx a", SYNTAX),
            ("ZINCRBY z abc a", NOT_FLOAT),
            ("EXISTS z", ":0\r\n"),
            ("ZADD z inf a", ":1\r\n"),
            (
                "ZINCRBY z -inf a",
                "-ERR resulting score is not a number (NaN)\r\n",
            ),
            ("ZSCORE z a", &b("inf")),
            ("ZCARD str", WRONGTYPE),
            ("ZSCORE str a", WRONGTYPE),
            ("ZMSCORE str a", WRONGTYPE),
            ("ZRANK str a", WRONGTYPE),
            (
                "ZRANK z a WITHSCORE",
                "-ERR wrong number of arguments for 'zrank' command\r\n",
            ),
        ],
    );
}

#[test]
fn scores_format_like_redis_in_both_protocols() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    raw.wire(&[
        "ZADD", "z", "1.1", "a", "1e17", "b", "-0", "c", "inf", "d", "-inf", "e", "1e-5", "f",
    ]);
    assert_eq!(
        raw.wire(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
        bulks(&[
            "e",
            "-inf",
            "c",
            "0",
            "f",
            "1.0000000000000001e-05",
            "a",
            "1.1000000000000001",
            "b",
            "1e+17",
            "d",
            "inf"
        ])
    );
    let mut r3 = raw3(&server);
    assert_eq!(r3.wire(&["ZSCORE", "z", "a"]), ",1.1000000000000001\r\n");
    assert_eq!(r3.wire(&["ZSCORE", "z", "d"]), ",inf\r\n");
    assert_eq!(r3.wire(&["ZSCORE", "z", "nosuch"]), "_\r\n");
    assert_eq!(
        r3.wire(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        "*2\r\n*2\r\n$1\r\ne\r\n,-inf\r\n*2\r\n$1\r\nc\r\n,0\r\n"
    );
    assert_eq!(
        r3.wire(&["ZMSCORE", "z", "b", "x"]),
        "*2\r\n,1e+17\r\n_\r\n"
    );
    // A packed set keeps -0 as 0, as Redis's listpack does; the large
    // encoding keeps the sign.
    raw.wire(&["CONFIG", "SET", "zset-max-listpack-entries", "0"]);
    raw.wire(&["ZADD", "big", "-0", "c"]);
    assert_eq!(raw.wire(&["ZSCORE", "big", "c"]), b("-0"));
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "big"]), b("skiplist"));
}

#[test]
fn score_and_lex_range_grammar() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    raw.wire(&[
        "ZADD", "z", "0", "zero", "1", "a", "2", "b", "3", "c", "4", "d",
    ]);
    raw.wire(&["ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"]);
    script(
        &mut raw,
        &[
            ("ZCOUNT z -inf +inf", ":5\r\n"),
            ("ZCOUNT z (1 3", ":2\r\n"),
            ("ZCOUNT z 1 (3", ":2\r\n"),
            ("ZCOUNT z (1 (2", ":0\r\n"),
            ("ZCOUNT z 3 1", ":0\r\n"),
            // strtod's rules: an empty bound is 0, overflow is infinity.
            ("ZCOUNT z \"\" \"\"", ":1\r\n"),
            ("ZCOUNT z ( 1", ":1\r\n"),
            ("ZCOUNT z -1e400 1e400", ":5\r\n"),
            ("ZCOUNT z 0x1 0x2", ":2\r\n"),
            ("ZCOUNT z nan 1", "-ERR min or max is not a float\r\n"),
            ("ZCOUNT z [1 2", "-ERR min or max is not a float\r\n"),
            ("ZCOUNT nokey a b", "-ERR min or max is not a float\r\n"),
            ("ZLEXCOUNT lex - +", ":4\r\n"),
            ("ZLEXCOUNT lex [b [c", ":2\r\n"),
            ("ZLEXCOUNT lex (b [c", ":1\r\n"),
            ("ZLEXCOUNT lex [c [b", ":0\r\n"),
            ("ZLEXCOUNT lex - -", ":0\r\n"),
            ("ZLEXCOUNT lex [ +", ":4\r\n"),
            (
                "ZLEXCOUNT lex a b",
                "-ERR min or max not valid string range item\r\n",
            ),
            (
                "ZLEXCOUNT lex +x +",
                "-ERR min or max not valid string range item\r\n",
            ),
            (
                "ZLEXCOUNT lex \"\" +",
                "-ERR min or max not valid string range item\r\n",
            ),
            ("ZRANGEBYLEX lex [b +", &bulks(&["b", "c", "d"])),
            ("ZREVRANGEBYLEX lex (d - LIMIT 1 5", &bulks(&["b", "a"])),
            ("ZRANGE lex [b [c BYLEX", &bulks(&["b", "c"])),
            // Mixed scores: a listpack is scanned in order, as Redis does.
            ("ZLEXCOUNT z [a [b", ":0\r\n"),
        ],
    );
}

#[test]
fn zrange_forms_and_limit_edges() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    raw.wire(&[
        "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
    ]);
    script(
        &mut raw,
        &[
            ("ZRANGE z 0 -1", &bulks(&["a", "b", "c", "d", "e"])),
            ("ZRANGE z -2 -1 WITHSCORES", &bulks(&["d", "4", "e", "5"])),
            ("ZRANGE z 0 1 REV", &bulks(&["e", "d"])),
            ("ZRANGE z 3 1", "*0\r\n"),
            ("ZRANGE z -100 100", &bulks(&["a", "b", "c", "d", "e"])),
            ("ZRANGE z (1 5 BYSCORE LIMIT 1 2", &bulks(&["c", "d"])),
            ("ZRANGE z 5 (1 BYSCORE REV LIMIT 1 2", &bulks(&["d", "c"])),
            ("ZRANGE z -inf +inf BYSCORE LIMIT 0 -1", &bulks(&["a", "b", "c", "d", "e"])),
            ("ZRANGE z -inf +inf BYSCORE LIMIT -1 2", "*0\r\n"),
            ("ZRANGE z -inf +inf BYSCORE LIMIT 4 9", &bulks(&["e"])),
            ("ZRANGE z -inf +inf BYSCORE LIMIT 5 9", "*0\r\n"),
            ("ZRANGE z -inf +inf BYSCORE LIMIT 0 0", "*0\r\n"),
            ("ZRANGE z [e (a BYLEX REV LIMIT 1 2", &bulks(&["d", "c"])),
            ("ZRANGE z 0 -1 LIMIT 0 -1", &bulks(&["a", "b", "c", "d", "e"])),
            ("ZRANGE z 0 -1 LIMIT 0 1", "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"),
            ("ZRANGE z - + BYLEX WITHSCORES", "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"),
            ("ZRANGE z 0 1 BYSCORE BYLEX", SYNTAX),
            ("ZRANGE z 0 1 REV REV", SYNTAX),
            ("ZRANGE z 0 1 LIMIT 1", SYNTAX),
            ("ZRANGE z a b", NOT_INT),
            ("ZRANGE z 0 1 BYSCORE LIMIT a 1", NOT_INT),
            ("ZREVRANGE z 0 1 WITHSCORES", &bulks(&["e", "5", "d", "4"])),
            ("ZREVRANGE z 0 1 REV", SYNTAX),
            ("ZRANGEBYSCORE z (1 3 WITHSCORES", &bulks(&["b", "2", "c", "3"])),
            ("ZRANGEBYSCORE z -inf +inf REV", SYNTAX),
            ("ZREVRANGEBYSCORE z +inf -inf LIMIT 1 2", &bulks(&["d", "c"])),
            ("ZREVRANGEBYSCORE z -inf +inf", "*0\r\n"),
            ("ZRANGEBYLEX z - + WITHSCORES", "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"),
            ("ZRANGE nokey 0 -1", "*0\r\n"),
        ],
    );
    let mut r3 = raw3(&server);
    assert_eq!(
        r3.wire(&["ZRANGE", "z", "0", "0", "WITHSCORES"]),
        "*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
    );
    assert_eq!(
        r3.wire(&["ZRANGEBYSCORE", "z", "5", "5", "WITHSCORES"]),
        "*1\r\n*2\r\n$1\r\ne\r\n,5\r\n"
    );
}

#[test]
fn removals_delete_empty_sets() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    raw.wire(&["SET", "str", "x"]);
    script(
        &mut raw,
        &[
            ("ZADD z 1 a 2 b 3 c 4 d 5 e", ":5\r\n"),
            ("ZREM z a nosuch", ":1\r\n"),
            ("ZREMRANGEBYRANK z -1 -1", ":1\r\n"),
            ("ZREMRANGEBYSCORE z (2 3", ":1\r\n"),
            ("ZRANGE z 0 -1", &bulks(&["b", "d"])),
            ("ZREMRANGEBYLEX z - +", ":2\r\n"),
            ("EXISTS z", ":0\r\n"),
            ("ZREM z a", ":0\r\n"),
            ("ZREMRANGEBYRANK z a 1", NOT_INT),
            (
                "ZREMRANGEBYSCORE z a 1",
                "-ERR min or max is not a float\r\n",
            ),
            (
                "ZREMRANGEBYLEX z a b",
                "-ERR min or max not valid string range item\r\n",
            ),
            ("ZREM str a", WRONGTYPE),
            ("ZREMRANGEBYRANK str 0 1", WRONGTYPE),
            ("ZADD z 1 a 2 b", ":2\r\n"),
            ("ZPOPMIN z", &bulks(&["a", "1"])),
            ("ZPOPMAX z 5", &bulks(&["b", "2"])),
            ("EXISTS z", ":0\r\n"),
            ("ZPOPMIN z", "*0\r\n"),
            (
                "ZPOPMIN z -1",
                "-ERR value is out of range, must be positive\r\n",
            ),
            ("ZPOPMIN z 1 2", SYNTAX),
            ("ZPOPMIN str", WRONGTYPE),
        ],
    );
    let mut r3 = raw3(&server);
    r3.wire(&["ZADD", "z", "1", "a", "2", "b"]);
    assert_eq!(r3.wire(&["ZPOPMIN", "z"]), "*2\r\n$1\r\na\r\n,1\r\n");
    assert_eq!(
        r3.wire(&["ZPOPMAX", "z", "1"]),
        "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    );
}

#[test]
fn zmpop_and_its_errors() {
    let server = TestServer::start(2);
    let (a, bkey) = (key_on(0, "mp:"), key_on(1, "mp:"));
    let mut raw = server.raw();
    raw.wire(&["ZADD", &bkey, "1", "x", "2", "y", "3", "z"]);
    raw.wire(&["SET", "str", "v"]);
    assert_eq!(
        raw.wire(&["ZMPOP", "2", &a, &bkey, "MAX", "COUNT", "2"]),
        format!(
            "*2\r\n{}*2\r\n*2\r\n$1\r\nz\r\n$1\r\n3\r\n*2\r\n$1\r\ny\r\n$1\r\n2\r\n",
            b(&bkey)
        )
    );
    assert_eq!(raw.wire(&["ZMPOP", "1", &a, "MIN"]), "*-1\r\n");
    script(
        &mut raw,
        &[
            ("ZMPOP 0 k MIN", "-ERR numkeys should be greater than 0\r\n"),
            ("ZMPOP a k MIN", "-ERR numkeys should be greater than 0\r\n"),
            ("ZMPOP 2 k MIN", SYNTAX),
            ("ZMPOP 1 k foo", SYNTAX),
            (
                "ZMPOP 1 k MIN COUNT 0",
                "-ERR count should be greater than 0\r\n",
            ),
            ("ZMPOP 1 k MIN COUNT 1 COUNT 1", SYNTAX),
            ("ZMPOP 2 nokey str MIN", WRONGTYPE),
        ],
    );
    let mut r3 = raw3(&server);
    assert_eq!(r3.wire(&["ZMPOP", "1", &a, "MIN"]), "_\r\n");
    assert_eq!(
        r3.wire(&["ZMPOP", "1", &bkey, "MIN"]),
        format!("*2\r\n{}*1\r\n*2\r\n$1\r\nx\r\n,1\r\n", b(&bkey))
    );
    assert_eq!(r3.wire(&["EXISTS", &bkey]), ":0\r\n");
}

#[test]
fn zrandmember_counts() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    raw.wire(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    script(
        &mut raw,
        &[
            // All of them: highest first, as Redis iterates.
            ("ZRANDMEMBER z 10", &bulks(&["c", "b", "a"])),
            ("ZRANDMEMBER z 3 WITHSCORES", &bulks(&["c", "3", "b", "2", "a", "1"])),
            ("ZRANDMEMBER z 0", "*0\r\n"),
            ("ZRANDMEMBER nokey", "$-1\r\n"),
            ("ZRANDMEMBER nokey 3", "*0\r\n"),
            ("ZRANDMEMBER z 1 foo", SYNTAX),
            ("ZRANDMEMBER z a", NOT_INT),
            ("ZRANDMEMBER z -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"),
            ("ZRANDMEMBER z 4611686018427387904 WITHSCORES", "-ERR value is out of range\r\n"),
        ],
    );
    for _ in 0..20 {
        let picks = match raw.call(&["ZRANDMEMBER", "z", "-5"]) {
            Frame::Array(items) => items,
            other => panic!("{other:?}"),
        };
        assert_eq!(picks.len(), 5);
        match raw.call(&["ZRANDMEMBER", "z", "2"]) {
            Frame::Array(items) => {
                assert_eq!(items.len(), 2);
                assert_ne!(items[0], items[1]);
            }
            other => panic!("{other:?}"),
        }
    }
    // Distinct picks from a large set.
    fill(&mut raw, "big", 500, |i| i as f64);
    for n in ["10", "300"] {
        match raw.call(&["ZRANDMEMBER", "big", n]) {
            Frame::Array(items) => {
                let distinct: std::collections::HashSet<String> =
                    items.iter().map(|f| format!("{f:?}")).collect();
                assert_eq!(distinct.len(), n.parse::<usize>().unwrap_or(0));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn set_operations_weights_and_aggregates() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    raw.wire(&["ZADD", "{a}x", "1", "x", "2", "y", "3", "z"]);
    raw.wire(&["ZADD", "{b}y", "10", "y", "20", "z", "30", "w"]);
    raw.wire(&["SADD", "{c}s", "x", "y", "q"]);
    raw.wire(&["SET", "str", "v"]);
    script(
        &mut raw,
        &[
            (
                "ZUNION 2 {a}x {b}y WITHSCORES",
                &bulks(&["x", "1", "y", "12", "z", "23", "w", "30"]),
            ),
            (
                "ZUNION 2 {a}x {b}y WEIGHTS 2 3 AGGREGATE MAX WITHSCORES",
                &bulks(&["x", "2", "y", "30", "z", "60", "w", "90"]),
            ),
            ("ZINTER 3 {a}x {b}y {c}s WITHSCORES", &bulks(&["y", "13"])),
            (
                "ZINTER 2 {a}x {b}y AGGREGATE MIN WITHSCORES",
                &bulks(&["y", "2", "z", "3"]),
            ),
            ("ZDIFF 2 {a}x {b}y WITHSCORES", &bulks(&["x", "1"])),
            ("ZUNIONSTORE {d}d 2 {a}x {b}y WEIGHTS 1 2", ":4\r\n"),
            (
                "ZRANGE {d}d 0 -1 WITHSCORES",
                &bulks(&["x", "1", "y", "22", "z", "43", "w", "60"]),
            ),
            ("ZINTERSTORE {d}d 2 {a}x nokey", ":0\r\n"),
            ("EXISTS {d}d", ":0\r\n"),
            ("ZDIFFSTORE {d}d 2 {b}y {a}x", ":1\r\n"),
            ("ZRANGE {d}d 0 -1 WITHSCORES", &bulks(&["w", "30"])),
            ("ZINTERCARD 2 {a}x {b}y", ":2\r\n"),
            ("ZINTERCARD 2 {a}x {b}y LIMIT 1", ":1\r\n"),
            (
                "ZINTERCARD 2 {a}x {b}y LIMIT -1",
                "-ERR LIMIT can't be negative\r\n",
            ),
            (
                "ZUNION 0 {a}x",
                "-ERR at least 1 input key is needed for 'zunion' command\r\n",
            ),
            (
                "ZUNIONSTORE d 0 {a}x",
                "-ERR at least 1 input key is needed for 'zunionstore' command\r\n",
            ),
            (
                "ZINTERCARD 0 {a}x",
                "-ERR at least 1 input key is needed for 'zintercard' command\r\n",
            ),
            ("ZUNION 3 {a}x {b}y", SYNTAX),
            ("ZUNION abc {a}x", NOT_INT),
            (
                "ZINTER 2 {a}x {b}y WEIGHTS 1 x",
                "-ERR weight value is not a float\r\n",
            ),
            ("ZINTER 2 {a}x {b}y WEIGHTS 1", SYNTAX),
            ("ZINTER 2 {a}x {b}y AGGREGATE avg", SYNTAX),
            ("ZDIFF 2 {a}x {b}y WEIGHTS 1 1", SYNTAX),
            ("ZUNIONSTORE d 1 {a}x WITHSCORES", SYNTAX),
            // Every source's type is checked before the options are read.
            ("ZUNION 2 {a}x str foo", WRONGTYPE),
            ("ZUNIONSTORE str 1 {a}x", ":3\r\n"),
            ("TYPE str", "+zset\r\n"),
        ],
    );
    raw.wire(&["ZADD", "p", "inf", "m"]);
    raw.wire(&["ZADD", "q", "-inf", "m"]);
    assert_eq!(
        raw.wire(&["ZUNION", "2", "p", "q", "WITHSCORES"]),
        bulks(&["m", "0"])
    );
    assert_eq!(
        raw.wire(&["ZUNION", "2", "p", "q", "WEIGHTS", "0", "1", "WITHSCORES"]),
        bulks(&["m", "-inf"])
    );
    let mut r3 = raw3(&server);
    assert_eq!(
        r3.wire(&["ZINTER", "2", "{a}x", "{b}y", "WITHSCORES"]),
        "*2\r\n*2\r\n$1\r\ny\r\n,12\r\n*2\r\n$1\r\nz\r\n,23\r\n"
    );
}

#[test]
fn zrangestore_across_shards() {
    let server = TestServer::start(2);
    let (src, dst) = (key_on(0, "src:"), key_on(1, "dst:"));
    let mut raw = server.raw();
    raw.wire(&["ZADD", &src, "1", "a", "2", "b", "3", "c", "4", "d"]);
    assert_eq!(raw.wire(&["ZRANGESTORE", &dst, &src, "1", "2"]), ":2\r\n");
    assert_eq!(
        raw.wire(&["ZRANGE", &dst, "0", "-1", "WITHSCORES"]),
        bulks(&["b", "2", "c", "3"])
    );
    assert_eq!(
        raw.wire(&[
            "ZRANGESTORE",
            &dst,
            &src,
            "+inf",
            "(2",
            "BYSCORE",
            "REV",
            "LIMIT",
            "0",
            "1"
        ]),
        ":1\r\n"
    );
    assert_eq!(raw.wire(&["ZRANGE", &dst, "0", "-1"]), bulks(&["d"]));
    assert_eq!(raw.wire(&["ZRANGESTORE", &dst, &src, "10", "20"]), ":0\r\n");
    assert_eq!(raw.wire(&["EXISTS", &dst]), ":0\r\n");
    assert_eq!(
        raw.wire(&["ZRANGESTORE", &dst, &src, "0", "-1", "WITHSCORES"]),
        SYNTAX
    );
}

#[test]
fn zscan_small_and_large() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    raw.wire(&["ZADD", "z", "1.5", "a", "2", "b", "1e17", "c"]);
    assert_eq!(
        raw.wire(&["ZSCAN", "z", "0"]),
        format!(
            "*2\r\n$1\r\n0\r\n{}",
            bulks(&["a", "1.5", "b", "2", "c", "100000000000000000"])
        )
    );
    assert_eq!(
        raw.wire(&["ZSCAN", "z", "0", "MATCH", "b*"]),
        format!("*2\r\n$1\r\n0\r\n{}", bulks(&["b", "2"]))
    );
    assert_eq!(raw.wire(&["ZSCAN", "z", "x"]), "-ERR invalid cursor\r\n");
    assert_eq!(raw.wire(&["ZSCAN", "z", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(
        raw.wire(&["ZSCAN", "nokey", "0", "junk"]),
        "*2\r\n$1\r\n0\r\n*0\r\n"
    );
    // A large set in several calls: every member once, with its score.
    fill(&mut raw, "big", 1000, |i| i as f64 / 2.0);
    let mut seen = std::collections::HashMap::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        calls += 1;
        let Frame::Array(parts) = raw.call(&["ZSCAN", "big", &cursor, "COUNT", "50"]) else {
            panic!("not an array");
        };
        let (Some(Frame::Bulk(next)), Some(Frame::Array(items))) = (parts.first(), parts.get(1))
        else {
            panic!("bad reply");
        };
        for pair in items.chunks(2) {
            if let [Frame::Bulk(m), Frame::Bulk(s)] = pair {
                seen.insert(m.clone(), String::from_utf8_lossy(s).into_owned());
            }
        }
        cursor = String::from_utf8_lossy(next).into_owned();
        if cursor == "0" {
            break;
        }
        assert!(calls < 1000);
    }
    assert!(calls >= 20);
    assert_eq!(seen.len(), 1000);
    assert_eq!(
        seen.get(&bytes::Bytes::from_static(b"m3"))
            .map(String::as_str),
        Some("1.5")
    );
}

#[test]
fn encoding_converts_past_the_limits_and_after_config_set() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    fill(&mut raw, "z", 128, |i| i as f64);
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "z"]), b("listpack"));
    raw.wire(&["ZADD", "z", "1000", "one-more"]);
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "z"]), b("skiplist"));
    // Never back, even when small again.
    raw.wire(&["ZREMRANGEBYRANK", "z", "1", "-1"]);
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "z"]), b("skiplist"));
    // A STORE builds a fresh value, encoded by its final size.
    raw.wire(&["ZUNIONSTORE", "u", "1", "z"]);
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "u"]), b("listpack"));
    let long = "x".repeat(65);
    raw.wire(&["ZADD", "l", "1", &long]);
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "l"]), b("skiplist"));
    // CONFIG SET applies to later writes.
    raw.wire(&["ZADD", "c", "1", "a", "2", "b", "3", "c"]);
    raw.wire(&["CONFIG", "SET", "zset-max-listpack-entries", "3"]);
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "c"]), b("listpack"));
    raw.wire(&["ZINCRBY", "c", "1", "a"]);
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "c"]), b("listpack"));
    raw.wire(&["ZADD", "c", "4", "d"]);
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "c"]), b("skiplist"));
    raw.wire(&["CONFIG", "SET", "zset-max-listpack-value", "2"]);
    raw.wire(&["ZADD", "v", "1", "ab"]);
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "v"]), b("listpack"));
    raw.wire(&["ZADD", "v", "1", "abc"]);
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "v"]), b("skiplist"));
}

/// A large (skiplist) set driven through the server and checked against a
/// sorted model after every batch: ranks, ranges both ways, counts.
#[test]
fn large_set_matches_a_model() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    let mut model: Vec<(i64, String)> = Vec::new();
    let mut state = 12345u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state >> 33
    };
    for round in 0..30 {
        for _ in 0..100 {
            let m = format!("p{}", next() % 3000);
            let s = (next() % 500) as i64;
            model.retain(|(_, x)| *x != m);
            model.push((s, m.clone()));
            raw.wire(&["ZADD", "lb", &s.to_string(), &m]);
        }
        for _ in 0..20 {
            let m = format!("p{}", next() % 3000);
            model.retain(|(_, x)| *x != m);
            raw.wire(&["ZREM", "lb", &m]);
        }
        model.sort();
        assert_eq!(raw.wire(&["ZCARD", "lb"]), format!(":{}\r\n", model.len()));
        let (s, m) = &model[(next() as usize) % model.len()];
        let rank = model.iter().position(|(_, x)| x == m).unwrap_or(0);
        assert_eq!(raw.wire(&["ZRANK", "lb", m]), format!(":{rank}\r\n"));
        assert_eq!(
            raw.wire(&["ZREVRANK", "lb", m]),
            format!(":{}\r\n", model.len() - 1 - rank)
        );
        assert_eq!(raw.wire(&["ZSCORE", "lb", m]), b(&s.to_string()));
        let top: Vec<String> = model
            .iter()
            .rev()
            .take(10)
            .flat_map(|(s, m)| [m.clone(), s.to_string()])
            .collect();
        let top: Vec<&str> = top.iter().map(String::as_str).collect();
        assert_eq!(
            raw.wire(&["ZREVRANGE", "lb", "0", "9", "WITHSCORES"]),
            bulks(&top),
            "round {round}"
        );
        let (lo, hi) = (100, 200);
        let inside: Vec<&str> = model
            .iter()
            .filter(|(s, _)| (lo..hi).contains(s))
            .map(|(_, m)| m.as_str())
            .collect();
        assert_eq!(
            raw.wire(&["ZCOUNT", "lb", &lo.to_string(), &format!("({hi}")]),
            format!(":{}\r\n", inside.len())
        );
        assert_eq!(
            raw.wire(&[
                "ZRANGEBYSCORE",
                "lb",
                &lo.to_string(),
                &format!("({hi}"),
                "LIMIT",
                "5",
                "7"
            ]),
            bulks(&inside.iter().skip(5).take(7).copied().collect::<Vec<_>>())
        );
    }
    assert_eq!(raw.wire(&["OBJECT", "ENCODING", "lb"]), b("skiplist"));
}

#[test]
fn bzpopmin_is_woken_by_zadd_on_every_shard() {
    let server = TestServer::start(2);
    for round in 0..3 {
        for shard in 0..2 {
            let key = key_on(shard, &format!("bz{round}:"));
            let mut waiter = server.raw();
            let mut c = server.raw();
            send(&mut waiter, &["BZPOPMIN", &key, "5"]);
            wait_blocked(&mut c, 1);
            assert!(!reply_within(&mut waiter, 30));
            assert_eq!(c.wire(&["ZADD", &key, "2", "b", "1", "a"]), ":2\r\n");
            assert_eq!(
                read(&mut waiter),
                format!("*3\r\n{}{}{}", b(&key), b("a"), b("1"))
            );
            assert_eq!(c.wire(&["ZRANGE", &key, "0", "-1"]), bulks(&["b"]));
            assert_eq!(blocked_clients(&mut c), 0);
            c.wire(&["DEL", &key]);
        }
    }
}

#[test]
fn blocked_pops_on_keys_of_two_shards() {
    let server = TestServer::start(2);
    let (a, bkey) = (key_on(0, "ka:"), key_on(1, "kb:"));
    let mut c = server.raw();
    for target in [&bkey, &a] {
        let mut w = server.raw();
        send(&mut w, &["BZPOPMAX", &a, &bkey, "5"]);
        wait_blocked(&mut c, 1);
        c.wire(&["ZADD", target, "1", "x", "2", "y"]);
        assert_eq!(
            read(&mut w),
            format!("*3\r\n{}{}{}", b(target), b("y"), b("2"))
        );
        c.wire(&["DEL", target]);
    }
    // BZMPOP serves a count from whichever key gets data.
    let mut w = server.raw();
    send(
        &mut w,
        &["BZMPOP", "5", "2", &a, &bkey, "MIN", "COUNT", "2"],
    );
    wait_blocked(&mut c, 1);
    c.wire(&["ZADD", &bkey, "3", "p", "1", "q", "2", "r"]);
    assert_eq!(
        read(&mut w),
        format!(
            "*2\r\n{}*2\r\n*2\r\n$1\r\nq\r\n$1\r\n1\r\n*2\r\n$1\r\nr\r\n$1\r\n2\r\n",
            b(&bkey)
        )
    );
    assert_eq!(c.wire(&["ZCARD", &bkey]), ":1\r\n");
}

#[test]
fn waiters_are_served_in_arrival_order() {
    for shards in [1, 2] {
        let server = TestServer::start(shards);
        let mut c = server.raw();
        let mut waiters: Vec<Raw> = (0..3).map(|_| server.raw()).collect();
        for (i, w) in waiters.iter_mut().enumerate() {
            send(w, &["BZPOPMIN", "fifo", "5"]);
            wait_blocked(&mut c, i + 1);
        }
        assert_eq!(c.wire(&["ZADD", "fifo", "1", "a", "2", "b"]), ":2\r\n");
        assert_eq!(
            read(&mut waiters[0]),
            format!("*3\r\n{}{}{}", b("fifo"), b("a"), b("1"))
        );
        assert_eq!(
            read(&mut waiters[1]),
            format!("*3\r\n{}{}{}", b("fifo"), b("b"), b("2"))
        );
        assert!(!reply_within(&mut waiters[2], 50));
        assert_eq!(c.wire(&["EXISTS", "fifo"]), ":0\r\n");
        // A STORE into the key wakes the last one too.
        c.wire(&["ZADD", "src", "7", "s"]);
        assert_eq!(c.wire(&["ZUNIONSTORE", "fifo", "1", "src"]), ":1\r\n");
        assert_eq!(
            read(&mut waiters[2]),
            format!("*3\r\n{}{}{}", b("fifo"), b("s"), b("7"))
        );
        assert_eq!(blocked_clients(&mut c), 0);
    }
}

#[test]
fn a_list_does_not_wake_a_sorted_set_waiter() {
    let server = TestServer::start(1);
    let mut c = server.raw();
    let mut w = server.raw();
    send(&mut w, &["BZPOPMIN", "k", "5"]);
    wait_blocked(&mut c, 1);
    c.wire(&["SET", "k", "x"]);
    assert!(!reply_within(&mut w, 50));
    c.wire(&["DEL", "k"]);
    c.wire(&["ZADD", "k", "1", "m"]);
    assert_eq!(
        read(&mut w),
        format!("*3\r\n{}{}{}", b("k"), b("m"), b("1"))
    );
}

#[test]
fn blocking_pops_time_out_with_a_null_array() {
    let server = TestServer::start(2);
    let mut c = server.raw();
    let start = Instant::now();
    assert_eq!(c.wire(&["BZPOPMIN", "none1", "none2", "0.2"]), "*-1\r\n");
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(190), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert_eq!(c.wire(&["BZPOPMAX", "none1", "0.05"]), "*-1\r\n");
    assert_eq!(
        c.wire(&["BZMPOP", "0.05", "2", "none1", "none2", "MIN"]),
        "*-1\r\n"
    );
    let mut r3 = raw3(&server);
    assert_eq!(r3.wire(&["BZPOPMIN", "none1", "0.05"]), "_\r\n");
    assert_eq!(r3.wire(&["BZMPOP", "0.05", "1", "none1", "MAX"]), "_\r\n");
    assert_eq!(blocked_clients(&mut c), 0);
    // Served at once when there is data, RESP3 score as a double.
    r3.wire(&["ZADD", "here", "1.5", "m"]);
    assert_eq!(
        r3.wire(&["BZPOPMIN", "none1", "here", "0"]),
        "*3\r\n$4\r\nhere\r\n$1\r\nm\r\n,1.5\r\n"
    );
}

#[test]
fn blocking_argument_errors() {
    let server = TestServer::start(1);
    let mut c = server.raw();
    c.wire(&["SET", "str", "x"]);
    script(
        &mut c,
        &[
            (
                "BZPOPMIN k abc",
                "-ERR timeout is not a float or out of range\r\n",
            ),
            ("BZPOPMIN k -1", "-ERR timeout is negative\r\n"),
            ("BZPOPMIN str 0", WRONGTYPE),
            ("BZPOPMIN nokey str 0", WRONGTYPE),
            (
                "BZMPOP abc 0 k MIN",
                "-ERR numkeys should be greater than 0\r\n",
            ),
            ("BZMPOP abc 1 k foo", SYNTAX),
            (
                "BZMPOP abc 1 k MIN",
                "-ERR timeout is not a float or out of range\r\n",
            ),
            ("BZMPOP 0 1 str MIN", WRONGTYPE),
            (
                "BZPOPMIN k",
                "-ERR wrong number of arguments for 'bzpopmin' command\r\n",
            ),
        ],
    );
}

#[test]
fn a_waiter_that_leaves_is_forgotten() {
    let server = TestServer::start(2);
    let mut c = server.raw();
    {
        let mut w = server.raw();
        send(&mut w, &["BZPOPMIN", "gone", "5"]);
        wait_blocked(&mut c, 1);
    }
    wait_blocked(&mut c, 0);
    assert_eq!(c.wire(&["ZADD", "gone", "1", "a"]), ":1\r\n");
    assert_eq!(c.wire(&["ZCARD", "gone"]), ":1\r\n");
}

#[test]
fn command_info_matches_redis() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    assert_eq!(
        raw.wire(&[
            "COMMAND",
            "GETKEYS",
            "ZUNIONSTORE",
            "d",
            "2",
            "a",
            "b",
            "WEIGHTS",
            "1",
            "2"
        ]),
        bulks(&["d", "a", "b"])
    );
    assert_eq!(
        raw.wire(&["COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "3", "a", "b"]),
        "-ERR Invalid arguments specified for command\r\n"
    );
    assert_eq!(
        raw.wire(&["COMMAND", "GETKEYS", "BZMPOP", "0", "2", "a", "b", "MIN"]),
        bulks(&["a", "b"])
    );
    assert_eq!(
        raw.wire(&["COMMAND", "GETKEYS", "BZPOPMIN", "a", "b", "0"]),
        bulks(&["a", "b"])
    );
    // zunionstore: legacy range 1 1 1, movablekeys.
    let info = raw.wire(&["COMMAND", "INFO", "zunionstore"]);
    assert!(info.starts_with(
        "*1\r\n*10\r\n$11\r\nzunionstore\r\n:-4\r\n*3\r\n+write\r\n+denyoom\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n"
    ), "{info}");
}
