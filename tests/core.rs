//! The process model: routing, reply order, cross-shard atomicity, and
//! resilience against hostile or vanishing clients.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

/// Keys whose slots fall on different shards of a 2-shard server (slots
/// 0..8191 on shard 0, the rest on shard 1).
fn keys_on_both_shards(n: usize) -> (Vec<String>, Vec<String>) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut i = 0;
    while a.len() < n || b.len() < n {
        let k = format!("key:{i}");
        if shoal::util::slot::key_slot(k.as_bytes()) < 8192 {
            if a.len() < n {
                a.push(k);
            }
        } else if b.len() < n {
            b.push(k);
        }
        i += 1;
    }
    (a, b)
}

#[test]
fn pipelined_replies_keep_request_order_across_shards() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let (a, b) = keys_on_both_shards(200);
    // Interleave keys of both shards so some replies are produced locally
    // and some come back from the other shard.
    let mut wire = Vec::new();
    let mut expect = Vec::new();
    for i in 0..200 {
        for k in [&a[i], &b[i]] {
            let v = format!("v-{k}");
            wire.extend(encode_cmd(&[b"SET", k.as_bytes(), v.as_bytes()]));
            wire.extend(encode_cmd(&[b"GET", k.as_bytes()]));
            wire.extend(encode_cmd(&[b"ECHO", k.as_bytes()]));
            expect.push(simple("OK"));
            expect.push(bulk(&v));
            expect.push(bulk(k));
        }
    }
    raw.send_raw(&wire);
    for (i, e) in expect.iter().enumerate() {
        assert_eq!(&raw.read(), e, "reply {i} out of order");
    }
}

#[test]
fn single_shard_server_serves_everything() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    assert_eq!(raw.call(&["SET", "a", "1"]), simple("OK"));
    assert_eq!(
        raw.call(&["MSET", "x", "1", "y", "2", "z", "3"]),
        simple("OK")
    );
    assert_eq!(
        raw.call(&["MGET", "x", "y", "z", "nope"]),
        arr(vec![bulk("1"), bulk("2"), bulk("3"), Frame::NullBulk])
    );
}

#[test]
fn multi_key_commands_span_shards() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let (a, b) = keys_on_both_shards(3);
    assert_eq!(
        raw.call(&["MSET", &a[0], "1", &b[0], "2", &a[1], "3", &b[1], "4"]),
        simple("OK")
    );
    assert_eq!(
        raw.call(&["MGET", &b[1], &a[1], &b[0], &a[0], &b[2]]),
        arr(vec![
            bulk("4"),
            bulk("3"),
            bulk("2"),
            bulk("1"),
            Frame::NullBulk
        ])
    );
    // A pipeline mixing multi-shard and single-shard commands sees its own
    // writes in order.
    let mut wire = Vec::new();
    wire.extend(encode_cmd(&[
        b"MSET",
        a[2].as_bytes(),
        b"x",
        b[2].as_bytes(),
        b"y",
    ]));
    wire.extend(encode_cmd(&[b"GET", a[2].as_bytes()]));
    wire.extend(encode_cmd(&[b"GET", b[2].as_bytes()]));
    wire.extend(encode_cmd(&[b"DEL", a[2].as_bytes(), b[2].as_bytes()]));
    wire.extend(encode_cmd(&[b"GET", b[2].as_bytes()]));
    raw.send_raw(&wire);
    assert_eq!(raw.read(), simple("OK"));
    assert_eq!(raw.read(), bulk("x"));
    assert_eq!(raw.read(), bulk("y"));
    assert_eq!(raw.read(), int(2));
    assert_eq!(raw.read(), Frame::NullBulk);
}

/// Writers set every key of a group to the same generation with one MSET;
/// readers MGET the group and must never see two generations at once.
#[test]
fn cross_shard_mset_is_never_seen_half_applied() {
    let server = TestServer::start(2);
    let (a, b) = keys_on_both_shards(4);
    let group: Vec<String> = a.into_iter().zip(b).flat_map(|(x, y)| [x, y]).collect();
    let group = Arc::new(group);
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(3);

    let mut threads = Vec::new();
    for w in 0..2 {
        let (group, stop, addr) = (Arc::clone(&group), Arc::clone(&stop), server.addr);
        threads.push(std::thread::spawn(move || {
            let mut raw = Raw::connect(addr);
            let mut gen = 0u64;
            while !stop.load(Ordering::Relaxed) && gen < 20_000 {
                gen += 1;
                let v = format!("{w}-{gen}");
                let mut args: Vec<&[u8]> = vec![b"MSET"];
                for k in group.iter() {
                    args.push(k.as_bytes());
                    args.push(v.as_bytes());
                }
                raw.send(&args);
                assert_eq!(raw.read(), simple("OK"));
            }
        }));
    }
    for _ in 0..2 {
        let (group, stop, reads, addr) = (
            Arc::clone(&group),
            Arc::clone(&stop),
            Arc::clone(&reads),
            server.addr,
        );
        threads.push(std::thread::spawn(move || {
            let mut raw = Raw::connect(addr);
            while !stop.load(Ordering::Relaxed) {
                let mut args: Vec<&[u8]> = vec![b"MGET"];
                args.extend(group.iter().map(|k| k.as_bytes()));
                raw.send(&args);
                let Frame::Array(items) = raw.read() else {
                    panic!("MGET did not return an array");
                };
                let first = &items[0];
                assert!(
                    items.iter().all(|x| x == first),
                    "MGET saw a half-applied MSET: {items:?}"
                );
                reads.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("no assertion failed in a client thread");
    }
    assert!(reads.load(Ordering::Relaxed) > 100, "readers made progress");
}

#[test]
fn protocol_errors_reply_then_close() {
    let server = TestServer::start(2);
    let cases: &[(&[u8], &str)] = &[
        (
            b"*1\r\n$-5\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$999999999999\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*2147483648\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*abc\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\nfoo\r\n",
            "-ERR Protocol error: expected '$', got 'f'\r\n",
        ),
        (
            b"SET a \"b\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    for (input, expect) in cases {
        let mut raw = server.raw();
        raw.send_raw(input);
        assert_eq!(String::from_utf8_lossy(&raw.read_wire()), *expect);
        assert!(raw.is_closed(), "connection closed after {expect}");
    }
    // The server is unharmed.
    assert_eq!(server.raw().call(&["PING"]), simple("PONG"));
}

#[test]
fn inline_commands_work() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    raw.send_raw(b"PING\r\n");
    assert_eq!(raw.read(), simple("PONG"));
    raw.send_raw(b"SET inline \"a b\"\r\nGET inline\n");
    assert_eq!(raw.read(), simple("OK"));
    assert_eq!(raw.read(), bulk("a b"));
}

#[test]
fn garbage_and_vanishing_clients_do_not_hurt_others() {
    let server = TestServer::start(2);
    let mut steady = server.raw();
    assert_eq!(steady.call(&["SET", "steady", "1"]), simple("OK"));
    let mut seed = 0x1234_5678_9abc_def0u64;
    for i in 0..200 {
        let mut s = TcpStream::connect(server.addr).expect("connect");
        let mut junk = vec![0u8; 1 + (i % 97)];
        for b in junk.iter_mut() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *b = seed as u8;
        }
        let _ = s.write_all(&junk);
        // Half of them vanish mid-command, with a partial bulk outstanding.
        if i % 2 == 0 {
            let _ = s.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc");
        }
        drop(s);
    }
    // A client that announces a huge bulk and disconnects.
    let mut s = TcpStream::connect(server.addr).expect("connect");
    let _ = s.write_all(b"*2\r\n$3\r\nGET\r\n$536870912\r\nxx");
    drop(s);
    assert_eq!(steady.call(&["GET", "steady"]), bulk("1"));
}

fn connected_clients(raw: &mut Raw) -> usize {
    let Frame::Bulk(info) = raw.call(&["INFO", "clients"]) else {
        panic!("INFO is a bulk string");
    };
    let text = String::from_utf8_lossy(&info).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("connected_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(usize::MAX)
}

#[test]
fn ten_thousand_connections_open_and_close() {
    let server = TestServer::start(2);
    let mut steady = server.raw();
    assert_eq!(steady.call(&["PING"]), simple("PONG"));
    // Warm up allocator pools before measuring.
    for _ in 0..500 {
        let mut s = TcpStream::connect(server.addr).expect("connect");
        let _ = s.write_all(b"PING\r\n");
        let mut b = [0u8; 7];
        let _ = s.read_exact(&mut b);
    }
    let before = shoal::alloc::allocated();
    for round in 0..20 {
        let mut open = Vec::with_capacity(500);
        for _ in 0..500 {
            open.push(TcpStream::connect(server.addr).expect("connect"));
        }
        for s in open.iter_mut() {
            s.write_all(b"PING\r\n").expect("write");
        }
        for s in open.iter_mut() {
            s.set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
            let mut b = [0u8; 7];
            s.read_exact(&mut b).expect("PONG");
            assert_eq!(&b, b"+PONG\r\n", "round {round}");
        }
    }
    // All closed: the server's client count returns to one (us).
    let deadline = Instant::now() + Duration::from_secs(10);
    while connected_clients(&mut steady) != 1 {
        assert!(Instant::now() < deadline, "connections were not released");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The test process hosts the server, so the allocator's count covers
    // it: the per-connection buffers of 10,000 clients (32 KiB each) must
    // have been given back. (RSS is no measure here: malloc keeps freed
    // pages in its arenas for reuse.)
    let after = shoal::alloc::allocated();
    assert!(
        after < before + 4 * 1024 * 1024,
        "allocated memory grew from {before} to {after} bytes"
    );
}

/// A client that stops reading while its replies pile up (64 MiB here, far
/// past the socket buffers) gets every byte once it reads again, and other
/// clients are served meanwhile.
#[test]
fn backed_up_output_is_delivered_when_the_client_reads_again() {
    let server = TestServer::start(2);
    let mut slow = server.raw();
    let value = "v".repeat(1 << 20);
    assert_eq!(slow.call(&["SET", "big", &value]), simple("OK"));
    let mut wire = Vec::new();
    for _ in 0..64 {
        wire.extend(encode_cmd(&[b"GET", b"big"]));
    }
    slow.send_raw(&wire);
    std::thread::sleep(Duration::from_millis(300));
    let mut other = server.raw();
    assert_eq!(other.call(&["PING"]), simple("PONG"));
    for i in 0..64 {
        let Frame::Bulk(b) = slow.read() else {
            panic!("reply {i} is not a bulk string");
        };
        assert_eq!(b.len(), 1 << 20, "reply {i}");
    }
    assert_eq!(slow.call(&["PING"]), simple("PONG"));
}
