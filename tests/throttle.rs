//! CL.THROTTLE: redis-cell's replies call by call, bursts, quantities,
//! the limiter key as a plain string with its own TTL, errors, WATCH, and
//! many clients on two shards never admitted past the limit.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{key_on, raw3, Frame, TestServer, WRONGTYPE};

/// A CL.THROTTLE reply as its five integers.
fn five(f: Frame) -> [i64; 5] {
    let Frame::Array(items) = f else {
        panic!("expected an array, got {f:?}");
    };
    let ints: Vec<i64> = items
        .into_iter()
        .map(|i| match i {
            Frame::Integer(v) => v,
            other => panic!("expected integers, got {other:?}"),
        })
        .collect();
    ints.try_into().expect("five integers")
}

fn throttle(c: &mut common::Raw, args: &[&str]) -> [i64; 5] {
    let mut full = vec!["CL.THROTTLE"];
    full.extend_from_slice(args);
    five(c.call(&full))
}

#[test]
fn replies_call_by_call() {
    let server = TestServer::start(1);
    let mut c = server.raw();
    // One action per 10 s, a burst of 2 more: a bucket of 3, 30 s deep.
    let a = ["k", "2", "1", "10"];
    assert_eq!(throttle(&mut c, &a), [0, 3, 2, -1, 10]);
    assert_eq!(throttle(&mut c, &a), [0, 3, 1, -1, 20]);
    assert_eq!(throttle(&mut c, &a), [0, 3, 0, -1, 30]);
    // Full: limited, retry once one emission interval has passed.
    assert_eq!(throttle(&mut c, &a), [1, 3, 0, 10, 30]);
    assert_eq!(throttle(&mut c, &a), [1, 3, 0, 10, 30]);
    // Quantity 0 only looks.
    assert_eq!(
        throttle(&mut c, &["k", "2", "1", "10", "0"]),
        [0, 3, 0, -1, 30]
    );

    // The exact wire form, in RESP2 and RESP3 alike.
    assert_eq!(
        c.wire(&["CL.THROTTLE", "w", "0", "1", "60"]),
        "*5\r\n:0\r\n:1\r\n:0\r\n:-1\r\n:60\r\n"
    );
    let mut c3 = raw3(&server);
    assert_eq!(
        c3.wire(&["cl.throttle", "w", "0", "1", "60"]),
        "*5\r\n:1\r\n:1\r\n:0\r\n:60\r\n:60\r\n"
    );
}

#[test]
fn burst_then_limited_and_quantities() {
    let server = TestServer::start(1);
    let mut c = server.raw();
    // Burst 9: ten actions pass at once, the eleventh does not.
    for i in 0..10 {
        let r = throttle(&mut c, &["b", "9", "1", "100"]);
        assert_eq!(r[0], 0, "action {i} should pass: {r:?}");
        assert_eq!(r[1], 10);
        assert_eq!(r[2], 9 - i);
        assert_eq!(r[3], -1);
    }
    let r = throttle(&mut c, &["b", "9", "1", "100"]);
    assert_eq!(r, [1, 10, 0, 100, 1000]);

    // Quantity: 4 + 4 pass in a bucket of 10, the next 4 do not (2 left).
    let q = |n: &'static str| ["q", "9", "1", "100", n];
    assert_eq!(throttle(&mut c, &q("4")), [0, 10, 6, -1, 400]);
    assert_eq!(throttle(&mut c, &q("4")), [0, 10, 2, -1, 800]);
    assert_eq!(throttle(&mut c, &q("4")), [1, 10, 2, 200, 800]);
    assert_eq!(throttle(&mut c, &q("2")), [0, 10, 0, -1, 1000]);
    // More than the whole bucket can never pass: no retry time.
    assert_eq!(
        throttle(&mut c, &["big", "9", "1", "100", "11"]),
        [1, 10, 10, -1, 0]
    );
    // Nothing was stored for it.
    assert_eq!(c.wire(&["EXISTS", "big"]), ":0\r\n");
}

#[test]
fn the_limiter_is_a_plain_string_key_with_its_own_ttl() {
    let server = TestServer::start(1);
    let mut c = server.raw();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    assert_eq!(throttle(&mut c, &["lim", "4", "1", "2"]), [0, 5, 4, -1, 2]);
    assert_eq!(c.wire(&["TYPE", "lim"]), "+string\r\n");
    assert_eq!(c.wire(&["OBJECT", "ENCODING", "lim"]), "$3\r\nint\r\n");
    // The theoretical arrival time in Unix nanoseconds: one interval ahead.
    let tat: i64 = match c.call(&["GET", "lim"]) {
        Frame::Bulk(b) => std::str::from_utf8(&b).unwrap().parse().unwrap(),
        other => panic!("GET answered {other:?}"),
    };
    assert!(tat >= before + 2_000_000_000, "{tat} vs {before}");
    assert!(tat < before + 3_000_000_000, "{tat} vs {before}");
    // It expires when the bucket is full again.
    let pttl: i64 = match c.call(&["PTTL", "lim"]) {
        Frame::Integer(v) => v,
        other => panic!("PTTL answered {other:?}"),
    };
    assert!((1_900..=2_001).contains(&pttl), "pttl {pttl}");

    // Ordinary key commands apply: RENAME carries the state along...
    assert_eq!(c.wire(&["RENAME", "lim", "lim2"]), "+OK\r\n");
    assert_eq!(throttle(&mut c, &["lim2", "4", "1", "2"])[2], 3);
    // ...EXPIRE changes when it resets, DEL resets it.
    assert_eq!(c.wire(&["EXPIRE", "lim2", "100"]), ":1\r\n");
    assert_eq!(c.wire(&["TTL", "lim2"]), ":100\r\n");
    assert_eq!(c.wire(&["DEL", "lim2"]), ":1\r\n");
    assert_eq!(throttle(&mut c, &["lim2", "4", "1", "2"]), [0, 5, 4, -1, 2]);

    // The key goes away by itself once the bucket has drained.
    assert_eq!(
        throttle(&mut c, &["short", "0", "10", "1"]),
        [0, 1, 0, -1, 1]
    );
    let start = Instant::now();
    while c.wire(&["EXISTS", "short"]) != ":0\r\n" {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "key never expired"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_drained_bucket_admits_again() {
    let server = TestServer::start(1);
    let mut c = server.raw();
    // 20 per second, no burst: one action per 50 ms.
    assert_eq!(throttle(&mut c, &["d", "0", "20", "1"])[0], 0);
    assert_eq!(throttle(&mut c, &["d", "0", "20", "1"])[0], 1);
    let start = Instant::now();
    loop {
        let r = throttle(&mut c, &["d", "0", "20", "1"]);
        if r[0] == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "never admitted again"
        );
        thread::sleep(Duration::from_millis(5));
    }
    assert!(start.elapsed() >= Duration::from_millis(30));
}

#[test]
fn errors_are_redis_cells() {
    let server = TestServer::start(2);
    let mut c = server.raw();
    let usage = "-Cell error: Store error: Usage: cl.throttle <key> <max_burst> \
                 <count per period> <period> [<quantity>]\r\n";
    for args in [
        &["CL.THROTTLE"][..],
        &["CL.THROTTLE", "k"],
        &["CL.THROTTLE", "k", "1", "2"],
        &["CL.THROTTLE", "k", "1", "2", "3", "4", "5"],
    ] {
        assert_eq!(c.wire(args), usage, "{args:?}");
    }
    let cases = [
        (
            ["k", "x", "1", "1", "1"],
            "-Cell error: Store error: Couldn't parse as integer: x\r\n",
        ),
        (
            ["k", "1", "1.5", "1", "1"],
            "-Cell error: Store error: Couldn't parse as integer: 1.5\r\n",
        ),
        (
            ["k", "1", "1", " 1", "1"],
            "-Cell error: Store error: Couldn't parse as integer:  1\r\n",
        ),
        (
            ["k", "1", "1", "1", "99999999999999999999"],
            "-Cell error: Store error: Couldn't parse as integer: 99999999999999999999\r\n",
        ),
        (
            ["k", "-1", "1", "1", "1"],
            "-Cell error: Store error: max_burst must not be negative\r\n",
        ),
        (
            ["k", "1", "-1", "1", "1"],
            "-Cell error: Store error: count per period must not be negative\r\n",
        ),
        (
            ["k", "1", "1", "-1", "1"],
            "-Cell error: Store error: period must not be negative\r\n",
        ),
        (
            ["k", "1", "1", "1", "-1"],
            "-Cell error: Store error: quantity must not be negative\r\n",
        ),
        (
            ["k", "1", "0", "1", "1"],
            "-Cell error: Store error: Zero rates are not supported\r\n",
        ),
        (
            ["k", "1", "1", "0", "1"],
            "-Cell error: Store error: Zero rates are not supported\r\n",
        ),
        (
            ["k", "9223372036854775807", "1", "1", "1"],
            "-Cell error: Store error: rate limit parameters out of range\r\n",
        ),
        (
            ["k", "1", "1", "9223372036854775807", "1"],
            "-Cell error: Store error: rate limit parameters out of range\r\n",
        ),
    ];
    for (args, want) in cases {
        let mut full = vec!["CL.THROTTLE"];
        full.extend_from_slice(&args);
        assert_eq!(c.wire(&full), want, "{args:?}");
    }
    // A leading '+' parses, as Rust's integers do in redis-cell.
    assert_eq!(
        throttle(&mut c, &["plus", "+1", "+1", "+1"]),
        [0, 2, 1, -1, 1]
    );
    // A huge quantity is simply more than the bucket holds.
    assert_eq!(
        throttle(&mut c, &["huge", "1", "1", "1", "9223372036854775807"]),
        [1, 2, 2, -1, 0]
    );

    // Keys holding something else.
    assert_eq!(c.wire(&["HSET", "h", "f", "v"]), ":1\r\n");
    assert_eq!(c.wire(&["CL.THROTTLE", "h", "1", "1", "1"]), WRONGTYPE);
    assert_eq!(c.wire(&["SET", "s", "abc"]), "+OK\r\n");
    assert_eq!(
        c.wire(&["CL.THROTTLE", "s", "1", "1", "1"]),
        "-Cell error: invalid digit found in string\r\n"
    );
    assert_eq!(c.wire(&["SET", "e", ""]), "+OK\r\n");
    assert_eq!(
        c.wire(&["CL.THROTTLE", "e", "1", "1", "1"]),
        "-Cell error: cannot parse integer from empty string\r\n"
    );
    // Errors change nothing.
    assert_eq!(c.wire(&["GET", "s"]), "$3\r\nabc\r\n");
    assert_eq!(c.wire(&["EXISTS", "k"]), ":0\r\n");
}

#[test]
fn command_info_and_watch() {
    let server = TestServer::start(2);
    let mut c = server.raw();
    let info = c.wire(&["COMMAND", "INFO", "cl.throttle"]);
    assert!(
        info.starts_with(
            "*1\r\n*10\r\n$11\r\ncl.throttle\r\n:-1\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:1\r\n:1\r\n"
        ),
        "{info}"
    );
    assert_eq!(
        c.wire(&["COMMAND", "GETKEYS", "CL.THROTTLE", "user", "1", "2", "3"]),
        "*1\r\n$4\r\nuser\r\n"
    );

    // An admitted action modifies the key: a WATCH on it breaks.
    let mut other = server.raw();
    assert_eq!(c.wire(&["WATCH", "wk"]), "+OK\r\n");
    assert_eq!(throttle(&mut other, &["wk", "5", "1", "1"])[0], 0);
    assert_eq!(c.wire(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.wire(&["PING"]), "+QUEUED\r\n");
    assert_eq!(c.wire(&["EXEC"]), "*-1\r\n");
    // Inside a transaction it runs like any write.
    assert_eq!(c.wire(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.wire(&["CL.THROTTLE", "wk", "5", "1", "1"]), "+QUEUED\r\n");
    match c.call(&["EXEC"]) {
        Frame::Array(items) => assert_eq!(five(items[0].clone())[2], 4),
        other => panic!("EXEC answered {other:?}"),
    }
}

/// Many clients on a two-shard server hammer one limiter: the number
/// admitted never exceeds the bucket plus what the rate refills over the
/// time they ran, and reaches at least the bucket.
#[test]
fn concurrent_clients_never_exceed_the_limit() {
    const CLIENTS: usize = 8;
    const BURST: i64 = 19;
    const PER_SECOND: i64 = 50;
    let server = TestServer::start(2);
    for shard in 0..2 {
        let key = key_on(shard, "limiter:");
        let admitted = Arc::new(AtomicU64::new(0));
        let calls = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let workers: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let mut c = server.raw();
                let (key, admitted, calls, stop) =
                    (key.clone(), admitted.clone(), calls.clone(), stop.clone());
                thread::spawn(move || {
                    let burst = BURST.to_string();
                    let rate = PER_SECOND.to_string();
                    while !stop.load(Ordering::Relaxed) {
                        let r = throttle(&mut c, &[&key, &burst, &rate, "1"]);
                        calls.fetch_add(1, Ordering::Relaxed);
                        if r[0] == 0 {
                            admitted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(600));
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.join().expect("worker");
        }
        let elapsed = start.elapsed().as_secs_f64();
        let admitted = admitted.load(Ordering::Relaxed) as f64;
        let bound = (BURST + 1) as f64 + PER_SECOND as f64 * elapsed;
        assert!(
            admitted <= bound + 1.0,
            "shard {shard}: {admitted} admitted in {elapsed:.3}s, bound {bound:.1}"
        );
        assert!(
            admitted >= (BURST + 1) as f64,
            "shard {shard}: only {admitted} admitted"
        );
        assert!(calls.load(Ordering::Relaxed) as f64 > admitted);
    }
}
