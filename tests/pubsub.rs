//! Pub/sub: subscribe-family replies, RESP2's subscribed mode, RESP3 pushes,
//! fan-out across shard threads, per-publisher order, pattern matching and
//! the output limit that drops a subscriber that stops reading.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::{raw3, read, send, Raw, TestServer};

fn push3(kind: &str, name: &str, count: usize) -> String {
    format!(
        "*3\r\n${}\r\n{kind}\r\n${}\r\n{name}\r\n:{count}\r\n",
        kind.len(),
        name.len()
    )
}

fn message(channel: &str, body: &str) -> String {
    format!(
        "*3\r\n$7\r\nmessage\r\n${}\r\n{channel}\r\n${}\r\n{body}\r\n",
        channel.len(),
        body.len()
    )
}

/// Waits (at most 5 s) until `channel` has `n` subscribers.
fn wait_subscribers(c: &mut Raw, channel: &str, n: usize) {
    let start = Instant::now();
    let want = format!("*2\r\n${}\r\n{channel}\r\n:{n}\r\n", channel.len());
    while c.wire(&["PUBSUB", "NUMSUB", channel]) != want {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "subscribers never reached {n}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn subscribe_family_replies_and_subscribed_mode() {
    let server = TestServer::start(2);
    let mut c = server.raw();
    assert_eq!(
        c.wire(&["UNSUBSCRIBE"]),
        "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
    );
    assert_eq!(
        c.wire(&["PUNSUBSCRIBE"]),
        "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n"
    );
    send(&mut c, &["SUBSCRIBE", "a", "b", "a"]);
    assert_eq!(read(&mut c), push3("subscribe", "a", 1));
    assert_eq!(read(&mut c), push3("subscribe", "b", 2));
    assert_eq!(read(&mut c), push3("subscribe", "a", 2));
    assert_eq!(c.wire(&["PSUBSCRIBE", "x*"]), push3("psubscribe", "x*", 3));
    // Shard channels count on their own.
    assert_eq!(c.wire(&["SSUBSCRIBE", "s1"]), push3("ssubscribe", "s1", 1));
    assert_eq!(
        c.wire(&["GET", "k"]),
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(
        c.wire(&["CLIENT", "INFO"]),
        "-ERR Can't execute 'client|info': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(c.wire(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(c.wire(&["PING", "hi"]), "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
    assert_eq!(
        c.wire(&["UNSUBSCRIBE", "zz"]),
        push3("unsubscribe", "zz", 3)
    );
    assert_eq!(c.wire(&["SUNSUBSCRIBE"]), push3("sunsubscribe", "s1", 0));
    assert_eq!(
        c.wire(&["PUNSUBSCRIBE", "x*"]),
        push3("punsubscribe", "x*", 2)
    );
    // Unsubscribing from all goes in no particular order; counts fall.
    send(&mut c, &["UNSUBSCRIBE"]);
    let (first, second) = (read(&mut c), read(&mut c));
    let ok = (first == push3("unsubscribe", "a", 1) && second == push3("unsubscribe", "b", 0))
        || (first == push3("unsubscribe", "b", 1) && second == push3("unsubscribe", "a", 0));
    assert!(ok, "{first:?} {second:?}");
    // Out of subscribed mode, everything works again.
    assert_eq!(c.wire(&["PING"]), "+PONG\r\n");
    assert_eq!(c.wire(&["SUBSCRIBE", "a"]), push3("subscribe", "a", 1));
    assert_eq!(c.wire(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.wire(&["GET", "k"]), "$-1\r\n");
    assert_eq!(
        c.wire(&["PUBSUB", "NUMSUB", "a"]),
        "*2\r\n$1\r\na\r\n:0\r\n"
    );
}

#[test]
fn resp3_subscribers_get_pushes_between_replies() {
    let server = TestServer::start(2);
    let mut c = raw3(&server);
    assert_eq!(
        c.wire(&["SUBSCRIBE", "ch"]),
        ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    );
    // Any command works, and a message to oneself precedes PUBLISH's reply.
    assert_eq!(c.wire(&["GET", "k"]), "_\r\n");
    send(&mut c, &["PUBLISH", "ch", "hi"]);
    assert_eq!(
        read(&mut c),
        ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
    );
    assert_eq!(read(&mut c), ":1\r\n");
    assert_eq!(c.wire(&["PING"]), "+PONG\r\n");
    let mut p = server.raw();
    assert_eq!(p.wire(&["SPUBLISH", "ch", "x"]), ":0\r\n");
    assert_eq!(p.wire(&["PUBLISH", "ch", "from-p"]), ":1\r\n");
    assert_eq!(
        read(&mut c),
        ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$6\r\nfrom-p\r\n"
    );
}

#[test]
fn fan_out_to_a_thousand_subscribers_over_four_shards() {
    let server = TestServer::start(4);
    let mut subs: Vec<Raw> = (0..1000).map(|_| server.raw()).collect();
    for s in subs.iter_mut() {
        send(s, &["SUBSCRIBE", "news"]);
    }
    for s in subs.iter_mut() {
        assert_eq!(read(s), push3("subscribe", "news", 1));
    }
    let mut p = server.raw();
    for i in 0..5 {
        assert_eq!(p.wire(&["PUBLISH", "news", &format!("m{i}")]), ":1000\r\n");
    }
    for s in subs.iter_mut() {
        for i in 0..5 {
            assert_eq!(read(s), message("news", &format!("m{i}")));
        }
    }
    assert_eq!(
        p.wire(&["PUBSUB", "NUMSUB", "news", "none"]),
        "*4\r\n$4\r\nnews\r\n:1000\r\n$4\r\nnone\r\n:0\r\n"
    );
    assert_eq!(p.wire(&["PUBSUB", "CHANNELS"]), "*1\r\n$4\r\nnews\r\n");
    drop(subs);
    wait_subscribers(&mut p, "news", 0);
    assert_eq!(p.wire(&["PUBLISH", "news", "late"]), ":0\r\n");
}

#[test]
fn each_publishers_messages_arrive_in_order() {
    let server = TestServer::start(2);
    const PUBLISHERS: usize = 4;
    const MESSAGES: usize = 300;
    let mut subs: Vec<Raw> = (0..4).map(|_| server.raw()).collect();
    for (i, s) in subs.iter_mut().enumerate() {
        if i % 2 == 0 {
            send(s, &["SUBSCRIBE", "order"]);
        } else {
            send(s, &["PSUBSCRIBE", "ord*"]);
        }
        read(s);
    }
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|p| {
            let mut c = server.raw();
            thread::spawn(move || {
                // Pipelined, so several PUBLISHes are in flight at once.
                let mut wire = Vec::new();
                for i in 0..MESSAGES {
                    let body = format!("{p}:{i}");
                    wire.extend(common::encode_cmd(&[b"PUBLISH", b"order", body.as_bytes()]));
                }
                c.send_raw(&wire);
                for _ in 0..MESSAGES {
                    assert_eq!(c.read_wire(), b":4\r\n");
                }
            })
        })
        .collect();
    for p in publishers {
        p.join().expect("publisher");
    }
    for s in subs.iter_mut() {
        let mut next = [0usize; PUBLISHERS];
        for _ in 0..PUBLISHERS * MESSAGES {
            let f = read(s);
            let body = f.rsplit("\r\n").nth(1).unwrap_or_default().to_string();
            let (p, i) = body.split_once(':').unwrap_or_default();
            let (p, i): (usize, usize) = (p.parse().unwrap_or(99), i.parse().unwrap_or(0));
            assert_eq!(i, next[p], "publisher {p} out of order: {f:?}");
            next[p] += 1;
        }
    }
}

#[test]
fn patterns_follow_redis_glob_rules() {
    let server = TestServer::start(2);
    let table: &[(&str, &[&str], &[&str])] = &[
        ("h?llo", &["hello", "hallo"], &["hllo", "heello"]),
        ("h*llo", &["hllo", "heeeello"], &["hell"]),
        ("h[ae]llo", &["hello", "hallo"], &["hillo"]),
        ("h[^e]llo", &["hallo", "hbllo"], &["hello"]),
        ("h[a-b]llo", &["hallo", "hbllo"], &["hcllo"]),
        ("h\\*llo", &["h*llo"], &["hello"]),
        // Redis's matcher never matches an empty channel, even with `*`.
        ("*", &["anything"], &[""]),
    ];
    let mut p = server.raw();
    for (pattern, hits, misses) in table {
        let mut s = server.raw();
        assert_eq!(
            s.wire(&["PSUBSCRIBE", pattern]),
            push3("psubscribe", pattern, 1)
        );
        for ch in *hits {
            assert_eq!(p.wire(&["PUBLISH", ch, "x"]), ":1\r\n", "{pattern} vs {ch}");
            let expected = format!(
                "*4\r\n$8\r\npmessage\r\n${}\r\n{pattern}\r\n${}\r\n{ch}\r\n$1\r\nx\r\n",
                pattern.len(),
                ch.len()
            );
            assert_eq!(read(&mut s), expected);
        }
        for ch in *misses {
            assert_eq!(p.wire(&["PUBLISH", ch, "x"]), ":0\r\n", "{pattern} vs {ch}");
        }
        // Synchronously, so the next pattern's misses cannot reach it.
        assert_eq!(s.wire(&["PUNSUBSCRIBE"]), push3("punsubscribe", pattern, 0));
    }
    assert_eq!(p.wire(&["PUBSUB", "NUMPAT"]), ":0\r\n");
}

#[test]
fn introspection_spans_shards() {
    let server = TestServer::start(2);
    let mut a = server.raw();
    let mut b = server.raw();
    a.wire(&["SUBSCRIBE", "c1"]);
    b.wire(&["SUBSCRIBE", "c1"]);
    send(&mut b, &["SUBSCRIBE", "c2"]);
    read(&mut b);
    a.wire(&["PSUBSCRIBE", "p*"]);
    b.wire(&["PSUBSCRIBE", "p*"]);
    b.wire(&["SSUBSCRIBE", "s"]);
    let mut c = server.raw();
    assert_eq!(
        c.wire(&["PUBSUB", "CHANNELS"]),
        "*2\r\n$2\r\nc1\r\n$2\r\nc2\r\n"
    );
    assert_eq!(c.wire(&["PUBSUB", "CHANNELS", "*2"]), "*1\r\n$2\r\nc2\r\n");
    assert_eq!(c.wire(&["PUBSUB", "NUMPAT"]), ":1\r\n");
    assert_eq!(
        c.wire(&["PUBSUB", "SHARDNUMSUB", "s"]),
        "*2\r\n$1\r\ns\r\n:1\r\n"
    );
    assert_eq!(c.wire(&["PUBSUB", "SHARDCHANNELS"]), "*1\r\n$1\r\ns\r\n");
    assert_eq!(c.wire(&["PUBLISH", "c1", "m"]), ":2\r\n");
    assert_eq!(c.wire(&["PUBLISH", "px", "m"]), ":2\r\n");
    assert_eq!(c.wire(&["SPUBLISH", "s", "m"]), ":1\r\n");
    assert_eq!(
        c.wire(&["PUBSUB", "CHANNELS", "a", "b"]),
        "-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n"
    );
    let list = c.wire(&["CLIENT", "LIST"]);
    assert!(list.contains("flags=P db=0 sub=2 psub=1 ssub=1"), "{list}");
}

#[test]
fn keyspace_notifications_for_set_del_expire_and_expiry() {
    let server = TestServer::start(2);
    let mut c = server.raw();
    // Off by default: nothing is published.
    let mut sub = server.raw();
    sub.wire(&["PSUBSCRIBE", "__key*__:*"]);
    c.wire(&["SET", "quiet", "1"]);
    assert_eq!(
        c.wire(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        "+OK\r\n"
    );
    let event = |sub: &mut Raw, channel: &str, body: &str| {
        let expected = format!(
            "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n${}\r\n{channel}\r\n${}\r\n{body}\r\n",
            channel.len(),
            body.len()
        );
        assert_eq!(read(sub), expected);
    };
    // Keys on both shards; each command's events arrive in order.
    for key in ["k1", "k2", "k3", "k4"] {
        c.wire(&["SET", key, "v"]);
        event(&mut sub, &format!("__keyspace@0__:{key}"), "set");
        event(&mut sub, "__keyevent@0__:set", key);
        c.wire(&["EXPIRE", key, "100"]);
        event(&mut sub, &format!("__keyspace@0__:{key}"), "expire");
        event(&mut sub, "__keyevent@0__:expire", key);
        c.wire(&["DEL", key]);
        event(&mut sub, &format!("__keyspace@0__:{key}"), "del");
        event(&mut sub, "__keyevent@0__:del", key);
    }
    // Expiry, found by the active cycle with nobody touching the key.
    c.wire(&["SELECT", "3"]);
    c.wire(&["SET", "short", "v", "PX", "20"]);
    event(&mut sub, "__keyspace@3__:short", "set");
    event(&mut sub, "__keyevent@3__:set", "short");
    event(&mut sub, "__keyspace@3__:short", "expire");
    event(&mut sub, "__keyevent@3__:expire", "short");
    event(&mut sub, "__keyspace@3__:short", "expired");
    event(&mut sub, "__keyevent@3__:expired", "short");
    // Only the classes asked for: keyevent channel, expired events only.
    c.wire(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]);
    c.wire(&["SET", "gone", "v", "PX", "1"]);
    c.wire(&["SET", "other", "v"]);
    event(&mut sub, "__keyevent@3__:expired", "gone");
    c.wire(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    c.wire(&["SET", "silent", "v"]);
    assert_eq!(c.wire(&["PUBLISH", "marker", "m"]), ":0\r\n");
    sub.wire(&["PSUBSCRIBE", "marker"]);
    c.wire(&["PUBLISH", "marker", "end"]);
    assert_eq!(
        read(&mut sub),
        "*4\r\n$8\r\npmessage\r\n$6\r\nmarker\r\n$6\r\nmarker\r\n$3\r\nend\r\n"
    );
}

#[test]
fn output_buffer_limits_are_configurable() {
    let server = TestServer::start(2);
    let mut c = server.raw();
    assert_eq!(
        c.wire(&["CONFIG", "GET", "client-output-buffer-limit"]),
        "*2\r\n$26\r\nclient-output-buffer-limit\r\n$67\r\nnormal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60\r\n"
    );
    assert_eq!(
        c.wire(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 0 256kb 1"
        ]),
        "+OK\r\n"
    );
    assert_eq!(
        c.wire(&["CONFIG", "SET", "client-output-buffer-limit", "foo 1 2 3"]),
        "-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration.\r\n"
    );
    assert_eq!(
        c.wire(&["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2"]),
        "-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration.\r\n"
    );
    // Over the soft limit for a second while messages keep coming: dropped.
    let mut stalled = server.raw();
    stalled.wire(&["SUBSCRIBE", "soft"]);
    let body = "y".repeat(16 * 1024);
    let start = Instant::now();
    let mut dropped = false;
    while start.elapsed() < Duration::from_secs(10) {
        let n = c.wire(&["PUBLISH", "soft", &body]);
        if n == ":0\r\n" {
            dropped = true;
            break;
        }
        thread::sleep(Duration::from_millis(5));
    }
    assert!(
        dropped,
        "the subscriber over the soft limit was never dropped"
    );
    assert!(start.elapsed() >= Duration::from_millis(900));
    assert!(stalled.is_closed());
}
