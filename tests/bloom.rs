//! The BF.* family against a real server: replies byte for byte as
//! RedisBloom 2.6 sends them (its error texts, its RESP3 forms), bloom keys
//! behaving as keys, dump and restore, and a measured false-positive rate.

mod common;

use common::{raw3, script, Frame, Raw, TestServer, WRONGTYPE};

fn bulk_bytes(f: &Frame) -> Vec<u8> {
    match f {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

fn integer(f: &Frame) -> i64 {
    match f {
        Frame::Integer(v) => *v,
        other => panic!("expected an integer, got {other:?}"),
    }
}

#[test]
fn reserve_add_exists_card() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    script(
        &mut r,
        &[
            ("BF.RESERVE bf 0.05 1000", "+OK\r\n"),
            ("BF.RESERVE bf 0.01 10", "-ERR item exists\r\n"),
            ("BF.MADD bf foo bar baz", "*3\r\n:1\r\n:1\r\n:1\r\n"),
            ("BF.MADD bf foo new1 bar", "*3\r\n:0\r\n:1\r\n:0\r\n"),
            ("BF.EXISTS bf foo", ":1\r\n"),
            ("BF.EXISTS bf nonexist", ":0\r\n"),
            ("BF.MEXISTS bf nonexist foo", "*2\r\n:0\r\n:1\r\n"),
            ("BF.CARD bf", ":4\r\n"),
            // A missing key: nothing exists, cardinality 0.
            ("BF.EXISTS nokey foo", ":0\r\n"),
            ("BF.MEXISTS nokey foo bar baz", "*3\r\n:0\r\n:0\r\n:0\r\n"),
            ("BF.CARD nokey", ":0\r\n"),
            // BF.ADD creates a default filter (0.01, 100, expansion 2).
            ("BF.ADD auto foo", ":1\r\n"),
            ("BF.ADD auto foo", ":0\r\n"),
            ("BF.INFO auto CAPACITY", "*1\r\n:100\r\n"),
            ("BF.INFO auto EXPANSION", "*1\r\n:2\r\n"),
            ("BF.MADD auto2 x", "*1\r\n:1\r\n"),
            ("BF.CARD auto2", ":1\r\n"),
            // Binary-safe items, the empty item included.
            ("BF.ADD auto \"\"", ":1\r\n"),
            ("BF.EXISTS auto \"\"", ":1\r\n"),
        ],
    );
    // Names are case-insensitive.
    assert_eq!(r.wire(&["bf.exists", "bf", "foo"]), ":1\r\n");
    assert_eq!(r.wire(&["Bf.CaRd", "bf"]), ":4\r\n");
}

#[test]
fn reserve_argument_errors() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    script(
        &mut r,
        &[
            ("BF.RESERVE k abc 100", "-ERR bad error rate\r\n"),
            ("BF.RESERVE k nan 100", "-ERR bad error rate\r\n"),
            ("BF.RESERVE k 0 100", "-ERR (0 < error rate range < 1) \r\n"),
            ("BF.RESERVE k 1 100", "-ERR (0 < error rate range < 1) \r\n"),
            (
                "BF.RESERVE k 7.7 1000",
                "-ERR (0 < error rate range < 1) \r\n",
            ),
            (
                "BF.RESERVE k -0.5 100",
                "-ERR (0 < error rate range < 1) \r\n",
            ),
            (
                "BF.RESERVE k inf 100",
                "-ERR (0 < error rate range < 1) \r\n",
            ),
            ("BF.RESERVE k 0.01 blah", "-ERR bad capacity\r\n"),
            ("BF.RESERVE k 0.01 1.5", "-ERR bad capacity\r\n"),
            (
                "BF.RESERVE k 0.01 0",
                "-ERR (capacity should be larger than 0)\r\n",
            ),
            (
                "BF.RESERVE k 0.01 -3",
                "-ERR (capacity should be larger than 0)\r\n",
            ),
            ("BF.RESERVE k 0.01 100 EXPANSION", "-ERR no expansion\r\n"),
            (
                "BF.RESERVE k 0.01 100 EXPANSION str",
                "-ERR bad expansion\r\n",
            ),
            (
                "BF.RESERVE k 0.01 100 EXPANSION 0",
                "-ERR expansion should be greater or equal to 1\r\n",
            ),
            (
                "BF.RESERVE k 0.01 100 EXPANSION 4294967296",
                "-ERR bad expansion\r\n",
            ),
            (
                "BF.RESERVE k 0.01 100 NONSCALING EXPANSION 2",
                "-Nonscaling filters cannot expand\r\n",
            ),
            (
                "BF.RESERVE k 0.01 100 expansion 2 nonscaling",
                "-Nonscaling filters cannot expand\r\n",
            ),
            // Too large to hold: refused, not allocated.
            (
                "BF.RESERVE k 0.000000001 9223372036854775807",
                "-ERR could not create filter\r\n",
            ),
            (
                "BF.RESERVE",
                "-ERR wrong number of arguments for 'bf.reserve' command\r\n",
            ),
            (
                "BF.RESERVE k 0.01",
                "-ERR wrong number of arguments for 'bf.reserve' command\r\n",
            ),
            (
                "BF.RESERVE k 0.01 100 EXPANSION 2 NONSCALING x",
                "-ERR wrong number of arguments for 'bf.reserve' command\r\n",
            ),
            ("EXISTS k", ":0\r\n"),
            // Options are case-insensitive and unknown words ignored, as
            // RedisBloom does.
            ("BF.RESERVE k 0.01 100 expansion 3 whatever", "+OK\r\n"),
            ("BF.INFO k EXPANSION", "*1\r\n:3\r\n"),
            ("BF.RESERVE k2 0.01 100 nonscaling", "+OK\r\n"),
            ("BF.INFO k2 EXPANSION", "*1\r\n$-1\r\n"),
        ],
    );
}

#[test]
fn arity_errors() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    for (line, name) in [
        ("BF.ADD k", "bf.add"),
        ("BF.ADD k a b", "bf.add"),
        ("BF.MADD k", "bf.madd"),
        ("BF.EXISTS k", "bf.exists"),
        ("BF.EXISTS k 1 2", "bf.exists"),
        ("BF.MEXISTS k", "bf.mexists"),
        ("BF.INSERT k", "bf.insert"),
        ("BF.INSERT k ITEMS", "bf.insert"),
        ("BF.INSERT k NOCREATE ITEMS", "bf.insert"),
        ("BF.INSERT k CAPACITY 5 ERROR", "bf.insert"),
        ("BF.INSERT k NOCREATE CAPACITY", "bf.insert"),
        ("BF.INSERT k CAPACITY 5 NOCREATE", "bf.insert"),
        ("BF.INFO", "bf.info"),
        ("BF.INFO k capacity size", "bf.info"),
        ("BF.CARD", "bf.card"),
        ("BF.SCANDUMP k", "bf.scandump"),
        ("BF.LOADCHUNK k 1", "bf.loadchunk"),
        ("BF.DEBUG", "bf.debug"),
    ] {
        assert_eq!(
            r.wire(&common::split(line)),
            format!("-ERR wrong number of arguments for '{name}' command\r\n"),
            "{line}"
        );
    }
}

#[test]
fn insert_options_and_errors() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    script(
        &mut r,
        &[
            ("BF.INSERT missing NOCREATE ITEMS foo bar", "-ERR not found\r\n"),
            ("BF.INSERT missing DONTEXIST NOCREATE", "-Unknown argument received\r\n"),
            ("BF.INSERT missing \"\" ITEMS a", "-Unknown argument received\r\n"),
            ("BF.INSERT missing CAPACITY 0.3 ITEMS a", "-Bad capacity\r\n"),
            ("BF.INSERT missing ERROR big ITEMS a", "-Bad error rate\r\n"),
            ("BF.INSERT missing EXPANSION big ITEMS a", "-Bad expansion\r\n"),
            ("BF.INSERT missing EXPANSION 0 ITEMS foo", "-Bad argument received\r\n"),
            ("BF.INSERT missing CAPACITY 0 ITEMS foo", "-Bad argument received\r\n"),
            ("BF.INSERT missing ERROR 1 ITEMS foo", "-Bad argument received\r\n"),
            ("BF.INSERT missing ERROR 0 ITEMS foo", "-Bad argument received\r\n"),
            (
                "BF.INSERT missing EXPANSION 4294967296 ITEMS foo",
                "-Bad expansion\r\n",
            ),
            ("EXISTS missing", ":0\r\n"),
            (
                "BF.INSERT f ERROR 0.001 CAPACITY 50000 EXPANSION 2 ITEMS foo",
                "*1\r\n:1\r\n",
            ),
            (
                "BF.DEBUG f",
                "*2\r\n$6\r\nsize:1\r\n$81\r\nbytes:98880 bits:791040 hashes:11 hashwidth:64 capacity:50000 size:1 ratio:0.0005\r\n",
            ),
            // Options of an existing filter are ignored.
            ("BF.INSERT f ERROR 0.1 ITEMS foo bar baz", "*3\r\n:0\r\n:1\r\n:1\r\n"),
            ("BF.INFO f CAPACITY", "*1\r\n:50000\r\n"),
            ("BF.INSERT f NOCREATE ITEMS qux", "*1\r\n:1\r\n"),
            // Options go by their first letters, as in RedisBloom.
            ("BF.INSERT g cap 7 exp 3 i a b", "*2\r\n:1\r\n:1\r\n"),
            ("BF.INFO g", "*10\r\n+Capacity\r\n:7\r\n+Size\r\n:112\r\n+Number of filters\r\n:1\r\n+Number of items inserted\r\n:2\r\n+Expansion rate\r\n:3\r\n"),
            // NONSCALING wins over EXPANSION here (no error, unlike BF.RESERVE).
            ("BF.INSERT h EXPANSION 4 NONSCALING ITEMS a", "*1\r\n:1\r\n"),
            ("BF.INFO h EXPANSION", "*1\r\n$-1\r\n"),
            // Everything after ITEMS is an item, keywords included.
            ("BF.INSERT h2 ITEMS NOCREATE ITEMS", "*2\r\n:1\r\n:1\r\n"),
            ("BF.EXISTS h2 NOCREATE", ":1\r\n"),
        ],
    );
}

#[test]
fn nonscaling_filter_full() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    script(
        &mut r,
        &[
            (
                "BF.INSERT ns CAPACITY 3 NONSCALING ITEMS a b c",
                "*3\r\n:1\r\n:1\r\n:1\r\n",
            ),
            // Present items are fine; the first new one ends the reply.
            (
                "BF.INSERT ns ITEMS a b c d d",
                "*4\r\n:0\r\n:0\r\n:0\r\n-ERR non scaling filter is full\r\n",
            ),
            (
                "BF.MADD ns a x y",
                "*2\r\n:0\r\n-ERR non scaling filter is full\r\n",
            ),
            ("BF.ADD ns extra", "-ERR non scaling filter is full\r\n"),
            ("BF.ADD ns a", ":0\r\n"),
            (
                "BF.INFO ns",
                "*10\r\n+Capacity\r\n:3\r\n+Size\r\n:104\r\n+Number of filters\r\n:1\r\n+Number of items inserted\r\n:3\r\n+Expansion rate\r\n$-1\r\n",
            ),
            // A filter created full-to-be still exists after the error.
            (
                "BF.INSERT ns2 CAPACITY 1 NONSCALING ITEMS a b",
                "*2\r\n:1\r\n-ERR non scaling filter is full\r\n",
            ),
            ("BF.CARD ns2", ":1\r\n"),
        ],
    );
}

#[test]
fn info_fields_and_errors() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    script(
        &mut r,
        &[
            ("BF.RESERVE bf 0.001 100", "+OK\r\n"),
            (
                "BF.INFO bf",
                "*10\r\n+Capacity\r\n:100\r\n+Size\r\n:296\r\n+Number of filters\r\n:1\r\n+Number of items inserted\r\n:0\r\n+Expansion rate\r\n:2\r\n",
            ),
            ("BF.INFO bf capacity", "*1\r\n:100\r\n"),
            ("BF.INFO bf SIZE", "*1\r\n:296\r\n"),
            ("BF.INFO bf Filters", "*1\r\n:1\r\n"),
            ("BF.INFO bf items", "*1\r\n:0\r\n"),
            ("BF.INFO bf expansion", "*1\r\n:2\r\n"),
            ("BF.INFO bf wrong_value", "-Invalid information value\r\n"),
            ("BF.INFO nokey", "-ERR not found\r\n"),
            ("BF.INFO nokey capacity", "-ERR not found\r\n"),
            ("BF.DEBUG nokey", "-ERR not found\r\n"),
        ],
    );
}

/// RedisBloom's own test_debug, over the wire: which of 0..99 were false
/// positives decides the sub-filter sizes, so these lines pin the hash.
#[test]
fn debug_matches_redisbloom() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    assert_eq!(r.wire(&["BF.RESERVE", "bf", "0.01", "10"]), "+OK\r\n");
    for i in 0..100 {
        r.wire(&["BF.ADD", "bf", &i.to_string()]);
    }
    let lines = [
        "size:99",
        "bytes:16 bits:128 hashes:8 hashwidth:64 capacity:10 size:10 ratio:0.005",
        "bytes:32 bits:256 hashes:9 hashwidth:64 capacity:20 size:20 ratio:0.0025",
        "bytes:72 bits:576 hashes:10 hashwidth:64 capacity:40 size:40 ratio:0.00125",
        "bytes:160 bits:1280 hashes:11 hashwidth:64 capacity:80 size:29 ratio:0.000625",
    ];
    let mut expected = format!("*{}\r\n", lines.len());
    for l in lines {
        expected += &format!("${}\r\n{l}\r\n", l.len());
    }
    assert_eq!(r.wire(&["BF.DEBUG", "bf"]), expected);
    assert_eq!(
        r.wire(&["BF.INFO", "bf"]),
        "*10\r\n+Capacity\r\n:150\r\n+Size\r\n:544\r\n+Number of filters\r\n:4\r\n+Number of items inserted\r\n:99\r\n+Expansion rate\r\n:2\r\n"
    );
}

#[test]
fn resp3_replies() {
    let s = TestServer::start(1);
    let mut r = raw3(&s);
    script(
        &mut r,
        &[
            ("BF.ADD test item", "#t\r\n"),
            ("BF.ADD test item", "#f\r\n"),
            ("BF.CARD test", ":1\r\n"),
            ("BF.EXISTS test item", "#t\r\n"),
            ("BF.EXISTS test other", "#f\r\n"),
            ("BF.EXISTS nokey item", "#f\r\n"),
            (
                "BF.INFO test",
                "%5\r\n+Capacity\r\n:100\r\n+Size\r\n:240\r\n+Number of filters\r\n:1\r\n+Number of items inserted\r\n:1\r\n+Expansion rate\r\n:2\r\n",
            ),
            ("BF.INFO test capacity", "%1\r\n+Capacity\r\n:100\r\n"),
            ("BF.INFO test items", "%1\r\n+Number of items inserted\r\n:1\r\n"),
            ("BF.INSERT test ITEMS item2 item3 item2", "*3\r\n#t\r\n#t\r\n#f\r\n"),
            ("BF.MADD test item4 item5 item2", "*3\r\n#t\r\n#t\r\n#f\r\n"),
            ("BF.MEXISTS test item4 item5 item6", "*3\r\n#t\r\n#t\r\n#f\r\n"),
            ("BF.RESERVE ns 0.01 1 NONSCALING", "+OK\r\n"),
            ("BF.INFO ns expansion", "%1\r\n+Expansion rate\r\n_\r\n"),
            (
                "BF.MADD ns a b",
                "*2\r\n#t\r\n-ERR non scaling filter is full\r\n",
            ),
        ],
    );
}

#[test]
fn wrong_types() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    r.wire(&["SET", "str", "x"]);
    r.wire(&["BF.ADD", "bf", "x"]);
    for line in [
        "BF.RESERVE str 0.01 100",
        "BF.ADD str a",
        "BF.MADD str a b",
        "BF.INSERT str ITEMS a",
        "BF.INSERT str NOCREATE ITEMS a",
        "BF.INFO str",
        "BF.INFO str capacity",
        "BF.CARD str",
        "BF.SCANDUMP str 0",
        "BF.LOADCHUNK str 1 x",
        "BF.LOADCHUNK str 2 x",
        "BF.DEBUG str",
        "GET bf",
        "SADD bf a",
        "HGET bf a",
        "APPEND bf a",
    ] {
        assert_eq!(r.wire(&common::split(line)), WRONGTYPE, "{line}");
    }
    // RedisBloom's checks answer "not there" for a key of another type.
    assert_eq!(r.wire(&["BF.EXISTS", "str", "x"]), ":0\r\n");
    assert_eq!(
        r.wire(&["BF.MEXISTS", "str", "x", "y"]),
        "*2\r\n:0\r\n:0\r\n"
    );
}

/// A bloom key is a key like any other.
#[test]
fn bloom_keys_are_keys() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    script(
        &mut r,
        &[
            ("BF.MADD {a}bf x y z", "*3\r\n:1\r\n:1\r\n:1\r\n"),
            ("TYPE {a}bf", "+MBbloom--\r\n"),
            ("OBJECT ENCODING {a}bf", "$3\r\nraw\r\n"),
            ("EXISTS {a}bf", ":1\r\n"),
            ("EXPIRE {a}bf 100", ":1\r\n"),
            ("TTL {a}bf", ":100\r\n"),
            ("RENAME {a}bf {a}renamed", "+OK\r\n"),
            ("BF.EXISTS {a}renamed y", ":1\r\n"),
            ("TTL {a}renamed", ":100\r\n"),
            ("PERSIST {a}renamed", ":1\r\n"),
            ("COPY {a}renamed {a}copy", ":1\r\n"),
            ("BF.ADD {a}copy w", ":1\r\n"),
            ("BF.CARD {a}copy", ":4\r\n"),
            ("BF.CARD {a}renamed", ":3\r\n"),
            ("BF.EXISTS {a}renamed w", ":0\r\n"),
        ],
    );
    // Keys on the other shard, and a cross-shard RENAME.
    assert_eq!(r.wire(&["BF.ADD", "{b}other", "q"]), ":1\r\n");
    assert_eq!(r.wire(&["RENAME", "{a}copy", "{b}moved"]), "+OK\r\n");
    assert_eq!(r.wire(&["BF.CARD", "{b}moved"]), ":4\r\n");
    assert_eq!(r.wire(&["BF.EXISTS", "{b}moved", "w"]), ":1\r\n");
    // The independent copy.
    assert_eq!(r.wire(&["BF.CARD", "{a}renamed"]), ":3\r\n");
    assert_eq!(r.wire(&["BF.EXISTS", "{a}renamed", "w"]), ":0\r\n");
    // MEMORY USAGE counts the bit array.
    assert_eq!(
        r.wire(&["BF.RESERVE", "{a}big", "0.001", "100000"]),
        "+OK\r\n"
    );
    let usage = integer(&r.call(&["MEMORY", "USAGE", "{a}big"]));
    let size = match r.call(&["BF.INFO", "{a}big", "SIZE"]) {
        Frame::Array(v) => integer(&v[0]),
        other => panic!("{other:?}"),
    };
    assert!(
        size > 190_000 && usage >= size,
        "usage {usage}, size {size}"
    );
    // Deleted and expired like anything else.
    assert_eq!(r.wire(&["DEL", "{a}big", "{b}other"]), ":2\r\n");
    assert_eq!(r.wire(&["BF.CARD", "{a}big"]), ":0\r\n");
    assert_eq!(r.wire(&["PEXPIRE", "{a}renamed", "20"]), ":1\r\n");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while r.wire(&["EXISTS", "{a}renamed"]) != ":0\r\n" {
        assert!(std::time::Instant::now() < deadline, "key did not expire");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(r.wire(&["BF.EXISTS", "{a}renamed", "x"]), ":0\r\n");
    assert_eq!(r.wire(&["BF.INFO", "{a}renamed"]), "-ERR not found\r\n");
}

/// Sends BF.SCANDUMP until it ends; returns the (iterator, data) pairs.
fn scandump(r: &mut Raw, key: &str) -> Vec<(i64, Vec<u8>)> {
    let mut chunks = Vec::new();
    let mut iter = 0;
    loop {
        let reply = r.call(&["BF.SCANDUMP", key, &iter.to_string()]);
        let Frame::Array(pair) = reply else {
            panic!("BF.SCANDUMP answered {reply:?}");
        };
        iter = integer(&pair[0]);
        let data = bulk_bytes(&pair[1]);
        if iter == 0 {
            assert!(data.is_empty());
            return chunks;
        }
        chunks.push((iter, data));
    }
}

fn loadchunks(r: &mut Raw, key: &str, chunks: &[(i64, Vec<u8>)]) {
    for (iter, data) in chunks {
        let it = iter.to_string();
        r.send(&[b"BF.LOADCHUNK", key.as_bytes(), it.as_bytes(), data]);
        assert_eq!(r.read(), Frame::Simple("OK".into()), "chunk at {iter}");
    }
}

/// Runs `cmd key batch...` over `items` in batches of 1000, pipelined a
/// few batches at a time (bounded, so neither side's buffers fill up), and
/// returns the replies.
fn batched(r: &mut Raw, cmd: &str, key: &str, items: &[String]) -> Vec<Frame> {
    let mut replies = Vec::new();
    for window in items.chunks(16_000) {
        let batches: Vec<&[String]> = window.chunks(1000).collect();
        for batch in &batches {
            let mut args: Vec<&[u8]> = vec![cmd.as_bytes(), key.as_bytes()];
            args.extend(batch.iter().map(|s| s.as_bytes()));
            r.send(&args);
        }
        for _ in &batches {
            replies.push(r.read());
        }
    }
    replies
}

/// BF.MEXISTS's answers for `items`.
fn mexists(r: &mut Raw, key: &str, items: &[String]) -> Vec<i64> {
    let mut out = Vec::with_capacity(items.len());
    for reply in batched(r, "BF.MEXISTS", key, items) {
        match reply {
            Frame::Array(v) => out.extend(v.iter().map(integer)),
            other => panic!("BF.MEXISTS answered {other:?}"),
        }
    }
    out
}

/// Adds `items` with BF.MADD.
fn madd(r: &mut Raw, key: &str, items: &[String]) {
    for reply in batched(r, "BF.MADD", key, items) {
        assert!(matches!(reply, Frame::Array(_)), "{reply:?}");
    }
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

#[test]
fn scandump_loadchunk_round_trip() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    // A scaled filter (four sub-filters) and a NONSCALING one.
    assert_eq!(
        r.wire(&["BF.RESERVE", "{a}src", "0.01", "1000", "EXPANSION", "3"]),
        "+OK\r\n"
    );
    madd(&mut r, "{a}src", &names("in", 30_000));
    assert_eq!(r.wire(&["BF.INFO", "{a}src", "FILTERS"]), "*1\r\n:4\r\n");
    assert_eq!(
        r.wire(&["BF.RESERVE", "{b}ns", "0.001", "2000", "NONSCALING"]),
        "+OK\r\n"
    );
    madd(&mut r, "{b}ns", &names("in", 2000));
    let probes = names("probe", 50_000);
    for (src, dst) in [("{a}src", "{b}dst"), ("{b}ns", "{a}ns-copy")] {
        let chunks = scandump(&mut r, src);
        assert!(chunks.len() >= 2);
        assert_eq!(chunks[0].0, 1, "the header comes first");
        loadchunks(&mut r, dst, &chunks);
        // Same shape, same counters, same bits, same answer to every probe.
        let debug_src = r.wire(&["BF.DEBUG", src]);
        assert_eq!(r.wire(&["BF.DEBUG", dst]), debug_src);
        assert_eq!(scandump(&mut r, dst), chunks);
        assert_eq!(mexists(&mut r, dst, &probes), mexists(&mut r, src, &probes));
        let inserted = names("in", 2000);
        assert!(mexists(&mut r, dst, &inserted).iter().all(|&v| v == 1));
    }
    // The restored NONSCALING filter is still full, the scaled one grows on.
    assert_eq!(
        r.wire(&["BF.ADD", "{a}ns-copy", "new"]),
        "-ERR non scaling filter is full\r\n"
    );
    assert_eq!(
        r.wire(&["BF.INFO", "{a}ns-copy", "EXPANSION"]),
        "*1\r\n$-1\r\n"
    );
    assert_eq!(r.wire(&["BF.ADD", "{b}dst", "brand new item"]), ":1\r\n");
}

#[test]
fn scandump_loadchunk_errors() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    r.wire(&["BF.RESERVE", "bf", "0.01", "5"]);
    for i in 0..50 {
        r.wire(&["BF.ADD", "bf", &format!("foo{i}")]);
    }
    script(
        &mut r,
        &[
            ("BF.SCANDUMP nokey 0", "-ERR not found\r\n"),
            ("BF.SCANDUMP bf str", "-Second argument must be numeric\r\n"),
            ("BF.SCANDUMP bf 1.5", "-Second argument must be numeric\r\n"),
            ("BF.SCANDUMP bf -1", "*2\r\n:0\r\n$0\r\n\r\n"),
            ("BF.SCANDUMP bf 99999", "*2\r\n:0\r\n$0\r\n\r\n"),
            (
                "BF.SCANDUMP bf 9223372036854775807",
                "*2\r\n:0\r\n$0\r\n\r\n",
            ),
            (
                "BF.LOADCHUNK bf str data",
                "-ERR Second argument must be numeric\r\n",
            ),
            ("BF.LOADCHUNK nokey 2 data", "-ERR not found\r\n"),
            ("BF.LOADCHUNK new 1 garbage", "-ERR received bad data\r\n"),
            ("BF.LOADCHUNK new 1 \"\"", "-ERR received bad data\r\n"),
            ("EXISTS new", ":0\r\n"),
            (
                "BF.LOADCHUNK bf -9223372036854775808 1",
                "-ERR received bad data\r\n",
            ),
            ("BF.LOADCHUNK bf 0 1", "-ERR received bad data\r\n"),
            ("BF.LOADCHUNK bf 3 abcd", "-ERR received bad data\r\n"),
            (
                "BF.LOADCHUNK bf 922337203685477588 1",
                "-ERR invalid offset - no link found\r\n",
            ),
            (
                "BF.LOADCHUNK bf 100 kdoasdksaodsadsadsadsadsadadsadadsdad",
                "-ERR invalid chunk - Too big for current filter\r\n",
            ),
            // On an existing filter, iterator 1 is a data chunk, not a header.
            (
                "BF.LOADCHUNK bf 1 x",
                "-ERR invalid offset - no link found\r\n",
            ),
        ],
    );
    // Corrupted headers are refused and create nothing.
    let header = match r.call(&["BF.SCANDUMP", "bf", "0"]) {
        Frame::Array(v) => {
            assert_eq!(integer(&v[0]), 1);
            bulk_bytes(&v[1])
        }
        other => panic!("{other:?}"),
    };
    let corrupt = |at: usize, len: usize, byte: u8| {
        let mut h = header.clone();
        h[at..at + len].fill(byte);
        h
    };
    // As RedisBloom's test_scandump_invalid_header: the second link, the
    // options, the item count, and the item count with the second link.
    let mut both = corrupt(36, 8, 0xff);
    both[..8].fill(0xff);
    for bad in [
        corrupt(72, 8, 0),
        corrupt(12, 4, 0xff),
        corrupt(0, 4, 0xff),
        both,
        header[..header.len() - 1].to_vec(),
    ] {
        r.send(&[b"BF.LOADCHUNK", b"restored", b"1", &bad]);
        assert_eq!(r.read(), Frame::Error("ERR received bad data".into()));
    }
    assert_eq!(r.wire(&["EXISTS", "restored"]), ":0\r\n");
    r.send(&[b"BF.LOADCHUNK", b"restored", b"1", &header]);
    assert_eq!(r.read(), Frame::Simple("OK".into()));
    let card = r.wire(&["BF.CARD", "bf"]);
    assert_eq!(r.wire(&["BF.CARD", "restored"]), card);
    // Random garbage at random offsets never takes the server down.
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..200 {
        let len = (next() % 300) as usize;
        let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let iter = (next() % 400) as i64 - 20;
        let it = iter.to_string();
        r.send(&[b"BF.LOADCHUNK", b"restored", it.as_bytes(), &data]);
        match r.read() {
            Frame::Simple(_) | Frame::Error(_) => {}
            other => panic!("{other:?}"),
        }
        r.send(&[b"BF.LOADCHUNK", b"fresh", b"1", &data]);
        assert_eq!(r.read(), Frame::Error("ERR received bad data".into()));
    }
    assert_eq!(r.wire(&["PING"]), "+PONG\r\n");
}

/// End to end: (0.01, 100,000) filled to capacity, then 200,000 items
/// never inserted are probed. The bound is the requested rate plus three
/// standard deviations of a binomial at that rate (the unit tests in
/// types/bloom.rs probe a million, at 0.1% as well, and after expansions).
#[test]
fn false_positive_rate_over_the_wire() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    let (p, n, probes) = (0.01, 100_000usize, 200_000usize);
    assert_eq!(r.wire(&["BF.RESERVE", "bf", "0.01", "100000"]), "+OK\r\n");
    let inserted = names("in", n);
    madd(&mut r, "bf", &inserted);
    let card = integer(&r.call(&["BF.CARD", "bf"]));
    assert!(card > n as i64 - 1000 && card <= n as i64, "{card}");
    assert!(
        mexists(&mut r, "bf", &inserted).iter().all(|&v| v == 1),
        "a false negative"
    );
    let hits: i64 = mexists(&mut r, "bf", &names("out", probes)).iter().sum();
    let rate = hits as f64 / probes as f64;
    let bound = p + 3.0 * (p * (1.0 - p) / probes as f64).sqrt();
    eprintln!("{hits}/{probes} false positives ({rate}), bound {bound}");
    assert!(rate <= bound, "false-positive rate {rate} above {bound}");
}
