//! Blocking list commands: clients parked on keys, woken by pushes from any
//! shard, served first come first served, timed out, unblocked by CLIENT
//! UNBLOCK and cleaned up when they leave. Every wait is bounded.

mod common;

use std::collections::HashSet;
use std::thread;
use std::time::{Duration, Instant};

use common::{
    blocked_clients, key_on, read, reply_within, send, wait_blocked, Raw, TestServer, WRONGTYPE,
};

fn pair(key: &str, value: &str) -> String {
    format!(
        "*2\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n",
        key.len(),
        value.len()
    )
}

#[test]
fn push_wakes_a_blocked_client_on_every_shard_combination() {
    let server = TestServer::start(2);
    // Connections are spread round-robin, so the waiters' home shards vary.
    for round in 0..4 {
        for shard in 0..2 {
            let key = key_on(shard, &format!("wake{round}:"));
            let mut waiter = server.raw();
            let mut pusher = server.raw();
            send(&mut waiter, &["BLPOP", &key, "5"]);
            wait_blocked(&mut pusher, 1);
            assert!(!reply_within(&mut waiter, 50));
            assert_eq!(pusher.wire(&["RPUSH", &key, "v1", "v2"]), ":2\r\n");
            assert_eq!(read(&mut waiter), pair(&key, "v1"));
            assert_eq!(
                pusher.wire(&["LRANGE", &key, "0", "-1"]),
                "*1\r\n$2\r\nv2\r\n"
            );
            assert_eq!(blocked_clients(&mut pusher), 0);
            pusher.wire(&["DEL", &key]);
        }
    }
}

#[test]
fn blocked_waiter_is_served_before_the_next_command() {
    let server = TestServer::start(1);
    let mut waiter = server.raw();
    let mut c = server.raw();
    send(&mut waiter, &["BRPOP", "q", "5"]);
    wait_blocked(&mut c, 1);
    // The pop that follows the push in the same pipeline finds nothing: the
    // waiter took the element right after the push, as in Redis.
    c.send_raw(b"*3\r\n$5\r\nLPUSH\r\n$1\r\nq\r\n$1\r\nx\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nq\r\n");
    assert_eq!(read(&mut c), ":1\r\n");
    assert_eq!(read(&mut c), "$-1\r\n");
    assert_eq!(read(&mut waiter), pair("q", "x"));
}

#[test]
fn timeouts_answer_null_in_both_protocols() {
    let server = TestServer::start(2);
    let mut c = server.raw();
    let start = Instant::now();
    assert_eq!(c.wire(&["BLPOP", "none1", "none2", "0.2"]), "*-1\r\n");
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(190), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    // Redis 7.0 times BLMOVE and BRPOPLPUSH out with a null array too.
    assert_eq!(
        c.wire(&["BLMOVE", "none1", "d", "LEFT", "RIGHT", "0.05"]),
        "*-1\r\n"
    );
    assert_eq!(c.wire(&["BRPOPLPUSH", "none1", "d", "0.05"]), "*-1\r\n");
    assert_eq!(
        c.wire(&["BLMPOP", "0.05", "2", "none1", "none2", "LEFT"]),
        "*-1\r\n"
    );
    assert!(!c.wire(&["HELLO", "3"]).is_empty());
    assert_eq!(c.wire(&["BRPOP", "none1", "0.05"]), "_\r\n");
    assert_eq!(
        c.wire(&["BLMOVE", "none1", "d", "LEFT", "RIGHT", "0.05"]),
        "_\r\n"
    );
    assert_eq!(blocked_clients(&mut c), 0);
}

#[test]
fn timeout_arguments_are_checked() {
    let server = TestServer::start(1);
    let mut c = server.raw();
    assert_eq!(
        c.wire(&["BLPOP", "k", "-1"]),
        "-ERR timeout is negative\r\n"
    );
    assert_eq!(
        c.wire(&["BLPOP", "k", "abc"]),
        "-ERR timeout is not a float or out of range\r\n"
    );
    assert_eq!(
        c.wire(&["BLMOVE", "k", "d", "LEFT", "RIGHT", "inf"]),
        "-ERR timeout is negative\r\n"
    );
    c.wire(&["SET", "str", "x"]);
    assert_eq!(c.wire(&["BLPOP", "str", "1"]), WRONGTYPE);
}

#[test]
fn waiters_are_served_first_come_first_served() {
    for shards in [1, 2] {
        let server = TestServer::start(shards);
        let mut c = server.raw();
        let mut waiters: Vec<Raw> = (0..4).map(|_| server.raw()).collect();
        for (i, w) in waiters.iter_mut().enumerate() {
            send(w, &["BLPOP", "fifo", "5"]);
            wait_blocked(&mut c, i + 1);
        }
        assert_eq!(c.wire(&["RPUSH", "fifo", "a", "b", "c"]), ":3\r\n");
        for (w, v) in waiters.iter_mut().zip(["a", "b", "c"]) {
            assert_eq!(read(w), pair("fifo", v));
        }
        assert!(!reply_within(&mut waiters[3], 50));
        assert_eq!(c.wire(&["RPUSH", "fifo", "d"]), ":1\r\n");
        assert_eq!(read(&mut waiters[3]), pair("fifo", "d"));
        assert_eq!(c.wire(&["EXISTS", "fifo"]), ":0\r\n");
    }
}

#[test]
fn one_waiter_on_keys_of_two_shards() {
    let server = TestServer::start(2);
    let (a, b) = (key_on(0, "ma:"), key_on(1, "mb:"));
    let mut c = server.raw();
    for (round, target) in [&b, &a, &b].into_iter().enumerate() {
        let mut w = server.raw();
        send(&mut w, &["BLPOP", &a, &b, "5"]);
        wait_blocked(&mut c, 1);
        let v = format!("v{round}");
        c.wire(&["LPUSH", target, &v]);
        assert_eq!(read(&mut w), pair(target, &v));
        wait_blocked(&mut c, 0);
    }
    // Both keys already hold data: the first one in the command wins.
    c.wire(&["RPUSH", &a, "x"]);
    c.wire(&["RPUSH", &b, "y"]);
    let mut w = server.raw();
    assert_eq!(w.wire(&["BLPOP", &b, &a, "1"]), pair(&b, "y"));
}

#[test]
fn multi_shard_waiters_keep_their_order() {
    let server = TestServer::start(2);
    let (a, b) = (key_on(0, "oa:"), key_on(1, "ob:"));
    let mut c = server.raw();
    let mut first = server.raw();
    let mut second = server.raw();
    let mut third = server.raw();
    send(&mut first, &["BLPOP", &a, &b, "5"]);
    wait_blocked(&mut c, 1);
    send(&mut second, &["BLPOP", &a, "5"]);
    wait_blocked(&mut c, 2);
    send(&mut third, &["BLPOP", &b, &a, "5"]);
    wait_blocked(&mut c, 3);
    c.wire(&["RPUSH", &a, "1", "2", "3"]);
    assert_eq!(read(&mut first), pair(&a, "1"));
    assert_eq!(read(&mut second), pair(&a, "2"));
    assert_eq!(read(&mut third), pair(&a, "3"));
    wait_blocked(&mut c, 0);
}

#[test]
fn blmove_waits_on_its_source_and_pushes_across_shards() {
    let server = TestServer::start(2);
    let (src, dst) = (key_on(0, "src:"), key_on(1, "dst:"));
    let mut c = server.raw();
    let mut w = server.raw();
    send(&mut w, &["BLMOVE", &src, &dst, "RIGHT", "LEFT", "5"]);
    wait_blocked(&mut c, 1);
    c.wire(&["LPUSH", &dst, "old"]);
    // A push to the destination does not wake it.
    assert!(!reply_within(&mut w, 50));
    c.wire(&["RPUSH", &src, "x", "y"]);
    assert_eq!(read(&mut w), "$1\r\ny\r\n");
    assert_eq!(
        c.wire(&["LRANGE", &dst, "0", "-1"]),
        "*2\r\n$1\r\ny\r\n$3\r\nold\r\n"
    );
    assert_eq!(c.wire(&["LRANGE", &src, "0", "-1"]), "*1\r\n$1\r\nx\r\n");

    // BRPOPLPUSH is BLMOVE RIGHT LEFT.
    let mut w = server.raw();
    send(&mut w, &["BRPOPLPUSH", &dst, &src, "5"]);
    assert_eq!(read(&mut w), "$3\r\nold\r\n");
}

#[test]
fn chained_blmoves_pass_an_element_along() {
    for shards in [1, 2] {
        let server = TestServer::start(shards);
        let (a, b, d) = (key_on(0, "ca:"), key_on(1, "cb:"), key_on(0, "cd:"));
        let mut c = server.raw();
        let mut first = server.raw();
        let mut second = server.raw();
        send(&mut first, &["BLMOVE", &a, &b, "LEFT", "LEFT", "5"]);
        wait_blocked(&mut c, 1);
        send(&mut second, &["BLMOVE", &b, &d, "LEFT", "LEFT", "5"]);
        wait_blocked(&mut c, 2);
        c.wire(&["RPUSH", &a, "e"]);
        assert_eq!(read(&mut first), "$1\r\ne\r\n");
        assert_eq!(read(&mut second), "$1\r\ne\r\n");
        assert_eq!(c.wire(&["LRANGE", &d, "0", "-1"]), "*1\r\n$1\r\ne\r\n");
        assert_eq!(c.wire(&["EXISTS", &a, &b]), ":0\r\n");
    }
}

#[test]
fn wrong_type_destination_fails_the_waiter_and_keeps_the_element() {
    for shards in [1, 2] {
        let server = TestServer::start(shards);
        let (src, dst) = (key_on(1, "ws:"), key_on(0, "wd:"));
        let mut c = server.raw();
        c.wire(&["SET", &dst, "string"]);
        let mut w = server.raw();
        send(&mut w, &["BLMOVE", &src, &dst, "LEFT", "LEFT", "5"]);
        wait_blocked(&mut c, 1);
        c.wire(&["RPUSH", &src, "e"]);
        assert_eq!(read(&mut w), WRONGTYPE);
        assert_eq!(c.wire(&["LRANGE", &src, "0", "-1"]), "*1\r\n$1\r\ne\r\n");
        wait_blocked(&mut c, 0);
    }
}

#[test]
fn deleted_retyped_and_renamed_keys() {
    for shards in [1, 2] {
        let server = TestServer::start(shards);
        let key = key_on(1, "k:");
        let tmp = key_on(0, "tmp:");
        let mut c = server.raw();
        let mut w = server.raw();
        send(&mut w, &["BLPOP", &key, "5"]);
        wait_blocked(&mut c, 1);
        // Turning the key into a string or deleting it leaves the client
        // waiting.
        c.wire(&["SET", &key, "str"]);
        c.wire(&["DEL", &key]);
        c.wire(&["SADD", &key, "m"]);
        c.wire(&["DEL", &key]);
        assert!(!reply_within(&mut w, 50));
        assert_eq!(blocked_clients(&mut c), 1);
        // A list renamed into place serves it.
        c.wire(&["RPUSH", &tmp, "moved"]);
        assert_eq!(c.wire(&["RENAME", &tmp, &key]), "+OK\r\n");
        assert_eq!(read(&mut w), pair(&key, "moved"));
        assert_eq!(c.wire(&["EXISTS", &key]), ":0\r\n");
    }
}

#[test]
fn swapdb_and_flush_while_waiting() {
    let server = TestServer::start(2);
    let mut c = server.raw();
    let mut w = server.raw();
    send(&mut w, &["BLPOP", "sw", "5"]);
    wait_blocked(&mut c, 1);
    c.wire(&["FLUSHALL"]);
    assert!(!reply_within(&mut w, 50));
    c.wire(&["SELECT", "1"]);
    c.wire(&["RPUSH", "sw", "from1"]);
    assert_eq!(c.wire(&["SWAPDB", "0", "1"]), "+OK\r\n");
    assert_eq!(read(&mut w), pair("sw", "from1"));
}

#[test]
fn client_unblock_ends_waits_with_timeout_or_error() {
    for shards in [1, 2] {
        let server = TestServer::start(shards);
        let (a, b) = (key_on(0, "ua:"), key_on(1, "ub:"));
        let mut c = server.raw();
        for keys in [
            vec![a.as_str()],
            vec![b.as_str()],
            vec![a.as_str(), b.as_str()],
        ] {
            let mut w = server.raw();
            let id = w.wire(&["CLIENT", "ID"]);
            let id = id.trim_start_matches(':').trim().to_string();
            let mut cmd = vec!["BLPOP"];
            cmd.extend(&keys);
            cmd.push("0");
            send(&mut w, &cmd);
            wait_blocked(&mut c, 1);
            assert_eq!(c.wire(&["CLIENT", "UNBLOCK", &id]), ":1\r\n");
            assert_eq!(read(&mut w), "*-1\r\n");
            assert_eq!(c.wire(&["CLIENT", "UNBLOCK", &id]), ":0\r\n");

            send(&mut w, &["BLMOVE", keys[0], "dst", "LEFT", "LEFT", "0"]);
            wait_blocked(&mut c, 1);
            assert_eq!(c.wire(&["CLIENT", "UNBLOCK", &id, "ERROR"]), ":1\r\n");
            assert_eq!(
                read(&mut w),
                "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
            );
            // The connection goes on working.
            assert_eq!(w.wire(&["PING"]), "+PONG\r\n");
            wait_blocked(&mut c, 0);
        }
        assert_eq!(c.wire(&["CLIENT", "UNBLOCK", "999999"]), ":0\r\n");
        assert_eq!(
            c.wire(&["CLIENT", "UNBLOCK", "1", "NOW"]),
            "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"
        );
        assert_eq!(
            c.wire(&["CLIENT", "UNBLOCK", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
    }
}

#[test]
fn commands_pipelined_after_a_blocked_one_wait_for_it() {
    let server = TestServer::start(2);
    let key = key_on(1, "pipe:");
    let mut w = server.raw();
    let mut c = server.raw();
    let mut wire = common::encode_cmd(&[b"BLPOP", key.as_bytes(), b"5"]);
    wire.extend(common::encode_cmd(&[b"PING"]));
    wire.extend(common::encode_cmd(&[b"LLEN", key.as_bytes()]));
    w.send_raw(&wire);
    wait_blocked(&mut c, 1);
    assert!(!reply_within(&mut w, 100));
    c.wire(&["RPUSH", &key, "a", "b"]);
    assert_eq!(read(&mut w), pair(&key, "a"));
    assert_eq!(read(&mut w), "+PONG\r\n");
    assert_eq!(read(&mut w), ":1\r\n");
}

#[test]
fn departed_waiters_take_nothing() {
    for shards in [1, 2] {
        let server = TestServer::start(shards);
        let (a, b) = (key_on(0, "da:"), key_on(1, "db:"));
        let mut c = server.raw();
        for keys in [
            vec![a.as_str()],
            vec![b.as_str()],
            vec![a.as_str(), b.as_str()],
        ] {
            {
                let mut w = server.raw();
                let mut cmd = vec!["BLPOP"];
                cmd.extend(&keys);
                cmd.push("0");
                send(&mut w, &cmd);
                wait_blocked(&mut c, 1);
            }
            wait_blocked(&mut c, 0);
            c.wire(&["RPUSH", keys[0], "kept"]);
            assert_eq!(c.wire(&["LLEN", keys[0]]), ":1\r\n");
            c.wire(&["DEL", keys[0]]);
        }
        // CLIENT KILL of a blocked client.
        let mut w = server.raw();
        let id = w.wire(&["CLIENT", "ID"]);
        let id = id.trim_start_matches(':').trim().to_string();
        send(&mut w, &["BLPOP", &a, "0"]);
        wait_blocked(&mut c, 1);
        assert_eq!(c.wire(&["CLIENT", "KILL", "ID", &id]), ":1\r\n");
        assert!(w.is_closed());
        wait_blocked(&mut c, 0);
    }
}

#[test]
fn blmpop_serves_counts_from_the_ready_key() {
    let server = TestServer::start(2);
    let (a, b) = (key_on(0, "pa:"), key_on(1, "pb:"));
    let mut c = server.raw();
    let mut w = server.raw();
    send(&mut w, &["BLMPOP", "5", "2", &a, &b, "RIGHT", "COUNT", "2"]);
    wait_blocked(&mut c, 1);
    c.wire(&["RPUSH", &b, "1", "2", "3"]);
    let expected = format!("*2\r\n${}\r\n{b}\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n", b.len());
    assert_eq!(read(&mut w), expected);
}

#[test]
fn many_consumers_and_producers_lose_nothing() {
    let server = TestServer::start(2);
    let keys: Vec<String> = (0..4).map(|i| key_on(i % 2, &format!("q{i}:"))).collect();
    const PER_PRODUCER: usize = 200;
    const PRODUCERS: usize = 3;
    let consumers: Vec<_> = (0..4)
        .map(|i| {
            let mut c = server.raw();
            // Each consumer waits on its own mix of keys.
            let mut cmd: Vec<String> = vec![if i % 2 == 0 { "BLPOP" } else { "BRPOP" }.into()];
            cmd.extend(keys.iter().cycle().skip(i).take(2 + i % 3).cloned());
            cmd.push("1".into());
            thread::spawn(move || {
                let mut got = Vec::new();
                let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
                loop {
                    match c.call(&args) {
                        shoal_protocol::Frame::Array(items) => match &items[1] {
                            shoal_protocol::Frame::Bulk(v) => {
                                got.push(String::from_utf8_lossy(v).into_owned())
                            }
                            other => panic!("unexpected {other:?}"),
                        },
                        // Timed out: the producers are done.
                        _ => return got,
                    }
                }
            })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let mut c = server.raw();
            let keys = keys.clone();
            thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    let key = &keys[(i + p) % keys.len()];
                    c.call(&["RPUSH", key, &format!("{p}-{i}")]);
                }
            })
        })
        .collect();
    for p in producers {
        p.join().expect("producer");
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for c in consumers {
        for v in c.join().expect("consumer") {
            total += 1;
            assert!(seen.insert(v.clone()), "{v} popped twice");
        }
    }
    // Whatever no consumer took is still in the lists.
    let mut c = server.raw();
    let mut left = 0;
    for k in &keys {
        let n = c.wire(&["LLEN", k]);
        left += n
            .trim_start_matches(':')
            .trim()
            .parse::<usize>()
            .unwrap_or(0);
    }
    assert_eq!(total + left, PRODUCERS * PER_PRODUCER);
    assert_eq!(blocked_clients(&mut c), 0);
}
