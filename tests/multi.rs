//! MULTI/EXEC/DISCARD/WATCH: queueing, EXECABORT against runtime errors,
//! WATCH broken by other connections, other shards, expiry, eviction and
//! FLUSHALL, and transactions that span shards.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::{key_on, raw3, read, reply_within, script, send, Raw, TestServer, WRONGTYPE};

#[test]
fn queued_commands_run_at_exec_and_reply_as_one_array() {
    let server = TestServer::start(1);
    let mut c = server.raw();
    script(
        &mut c,
        &[
            ("MULTI", "+OK\r\n"),
            ("SET a 1", "+QUEUED\r\n"),
            ("INCR a", "+QUEUED\r\n"),
            ("GET a", "+QUEUED\r\n"),
            ("EXEC", "*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n"),
            ("MULTI", "+OK\r\n"),
            ("EXEC", "*0\r\n"),
            ("GET a", "$1\r\n2\r\n"),
        ],
    );
}

#[test]
fn errors_outside_and_inside_a_transaction() {
    let server = TestServer::start(1);
    let mut c = server.raw();
    script(
        &mut c,
        &[
            ("EXEC", "-ERR EXEC without MULTI\r\n"),
            ("DISCARD", "-ERR DISCARD without MULTI\r\n"),
            ("MULTI", "+OK\r\n"),
            ("MULTI", "-ERR MULTI calls can not be nested\r\n"),
            ("WATCH x", "-ERR WATCH inside MULTI is not allowed\r\n"),
            ("SET x 1", "+QUEUED\r\n"),
            // Neither of those aborts the transaction.
            ("EXEC", "*1\r\n+OK\r\n"),
            ("MULTI", "+OK\r\n"),
            ("SET x 2", "+QUEUED\r\n"),
            ("DISCARD", "+OK\r\n"),
            ("GET x", "$1\r\n1\r\n"),
        ],
    );
}

#[test]
fn a_queueing_error_aborts_but_a_runtime_error_does_not() {
    let server = TestServer::start(1);
    let mut c = server.raw();
    script(
        &mut c,
        &[
            ("MULTI", "+OK\r\n"),
            ("SET k 1", "+QUEUED\r\n"),
            (
                "NOSUCHCMD",
                "-ERR unknown command 'NOSUCHCMD', with args beginning with: \r\n",
            ),
            (
                "GET",
                "-ERR wrong number of arguments for 'get' command\r\n",
            ),
            (
                "EXEC",
                "-EXECABORT Transaction discarded because of previous errors.\r\n",
            ),
            ("EXISTS k", ":0\r\n"),
            ("SET s hello", "+OK\r\n"),
            ("MULTI", "+OK\r\n"),
            ("INCR s", "+QUEUED\r\n"),
            ("LPUSH s x", "+QUEUED\r\n"),
            ("SET k 7", "+QUEUED\r\n"),
            (
                "EXEC",
                &format!(
                    "*3\r\n-ERR value is not an integer or out of range\r\n{WRONGTYPE}+OK\r\n"
                ),
            ),
            ("GET k", "$1\r\n7\r\n"),
        ],
    );
}

#[test]
fn watch_fails_exec_when_another_client_changes_the_key() {
    let server = TestServer::start(2);
    for shard in 0..2 {
        let key = key_on(shard, "w");
        let mut a = server.raw();
        let mut b = server.raw();
        assert_eq!(a.wire(&["SET", &key, "1"]), "+OK\r\n");
        assert_eq!(a.wire(&["WATCH", &key]), "+OK\r\n");
        assert_eq!(b.wire(&["INCR", &key]), ":2\r\n");
        assert_eq!(a.wire(&["MULTI"]), "+OK\r\n");
        assert_eq!(a.wire(&["SET", &key, "from-a"]), "+QUEUED\r\n");
        assert_eq!(a.wire(&["EXEC"]), "*-1\r\n");
        assert_eq!(a.wire(&["GET", &key]), "$1\r\n2\r\n");
        // The failed EXEC unwatched: the next transaction runs.
        assert_eq!(a.wire(&["MULTI"]), "+OK\r\n");
        assert_eq!(a.wire(&["SET", &key, "from-a"]), "+QUEUED\r\n");
        assert_eq!(a.wire(&["EXEC"]), "*1\r\n+OK\r\n");
    }
}

#[test]
fn watch_holds_when_nothing_changed_and_unwatch_forgets() {
    let server = TestServer::start(2);
    let (k0, k1) = (key_on(0, "u"), key_on(1, "u"));
    let mut a = server.raw();
    let mut b = server.raw();
    assert_eq!(a.wire(&["WATCH", &k0, &k1]), "+OK\r\n");
    // Reads by others do not break a watch.
    assert_eq!(b.wire(&["GET", &k0]), "$-1\r\n");
    assert_eq!(a.wire(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.wire(&["SET", &k0, "x"]), "+QUEUED\r\n");
    assert_eq!(a.wire(&["SET", &k1, "y"]), "+QUEUED\r\n");
    assert_eq!(a.wire(&["EXEC"]), "*2\r\n+OK\r\n+OK\r\n");

    assert_eq!(a.wire(&["WATCH", &k0, &k1]), "+OK\r\n");
    assert_eq!(a.wire(&["UNWATCH"]), "+OK\r\n");
    assert_eq!(b.wire(&["SET", &k1, "z"]), "+OK\r\n");
    assert_eq!(a.wire(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.wire(&["GET", &k1]), "+QUEUED\r\n");
    assert_eq!(a.wire(&["EXEC"]), "*1\r\n$1\r\nz\r\n");

    // DISCARD unwatches too.
    assert_eq!(a.wire(&["WATCH", &k0]), "+OK\r\n");
    assert_eq!(a.wire(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.wire(&["DISCARD"]), "+OK\r\n");
    assert_eq!(b.wire(&["SET", &k0, "w"]), "+OK\r\n");
    assert_eq!(a.wire(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.wire(&["GET", &k0]), "+QUEUED\r\n");
    assert_eq!(a.wire(&["EXEC"]), "*1\r\n$1\r\nw\r\n");
}

#[test]
fn watch_is_broken_by_creation_deletion_expiry_and_flushall() {
    let server = TestServer::start(2);
    let mut a = server.raw();
    let mut b = server.raw();
    let key = key_on(1, "e");
    let fails = |a: &mut Raw| {
        assert_eq!(a.wire(&["MULTI"]), "+OK\r\n");
        assert_eq!(a.wire(&["PING"]), "+QUEUED\r\n");
        a.wire(&["EXEC"])
    };
    // Creation of a missing key.
    assert_eq!(a.wire(&["WATCH", &key]), "+OK\r\n");
    assert_eq!(b.wire(&["SET", &key, "v"]), "+OK\r\n");
    assert_eq!(fails(&mut a), "*-1\r\n");
    // Deletion.
    assert_eq!(a.wire(&["WATCH", &key]), "+OK\r\n");
    assert_eq!(b.wire(&["DEL", &key]), ":1\r\n");
    assert_eq!(fails(&mut a), "*-1\r\n");
    // Expiry, even before anything deletes the key.
    assert_eq!(b.wire(&["SET", &key, "v", "PX", "30"]), "+OK\r\n");
    assert_eq!(a.wire(&["WATCH", &key]), "+OK\r\n");
    thread::sleep(Duration::from_millis(60));
    assert_eq!(fails(&mut a), "*-1\r\n");
    // A key already expired when watched: its deletion changes nothing
    // (whether expiry deletes it before or after the WATCH).
    assert_eq!(b.wire(&["SET", &key, "v", "PX", "1"]), "+OK\r\n");
    thread::sleep(Duration::from_millis(10));
    assert_eq!(a.wire(&["WATCH", &key]), "+OK\r\n");
    assert_eq!(b.wire(&["GET", &key]), "$-1\r\n");
    assert_eq!(fails(&mut a), "*1\r\n+PONG\r\n");
    // FLUSHALL, from a connection that may be on the other shard.
    assert_eq!(b.wire(&["SET", &key, "v"]), "+OK\r\n");
    assert_eq!(a.wire(&["WATCH", &key]), "+OK\r\n");
    assert_eq!(b.wire(&["FLUSHALL"]), "+OK\r\n");
    assert_eq!(fails(&mut a), "*-1\r\n");
    // FLUSHALL of a watched key that did not exist changes nothing.
    assert_eq!(a.wire(&["WATCH", &key]), "+OK\r\n");
    assert_eq!(b.wire(&["FLUSHALL"]), "+OK\r\n");
    assert_eq!(fails(&mut a), "*1\r\n+PONG\r\n");
}

#[test]
fn watch_is_broken_by_eviction() {
    let server = TestServer::start(1);
    let mut a = server.raw();
    let mut b = server.raw();
    assert_eq!(a.wire(&["SET", "victim", "v"]), "+OK\r\n");
    assert_eq!(a.wire(&["WATCH", "victim"]), "+OK\r\n");
    assert_eq!(
        b.wire(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]),
        "+OK\r\n"
    );
    assert_eq!(b.wire(&["CONFIG", "SET", "maxmemory", "1"]), "+OK\r\n");
    // A write evicts everything it can, the watched key included.
    let _ = b.wire(&["SET", "other", "v"]);
    assert_eq!(b.wire(&["CONFIG", "SET", "maxmemory", "0"]), "+OK\r\n");
    assert_eq!(b.wire(&["EXISTS", "victim"]), ":0\r\n");
    assert_eq!(a.wire(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.wire(&["PING"]), "+QUEUED\r\n");
    assert_eq!(a.wire(&["EXEC"]), "*-1\r\n");
}

#[test]
fn resp3_gets_a_null_for_a_broken_watch() {
    let server = TestServer::start(1);
    let mut a = raw3(&server);
    let mut b = server.raw();
    assert_eq!(a.wire(&["WATCH", "k"]), "+OK\r\n");
    assert_eq!(b.wire(&["SET", "k", "1"]), "+OK\r\n");
    assert_eq!(a.wire(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.wire(&["GET", "k"]), "+QUEUED\r\n");
    assert_eq!(a.wire(&["EXEC"]), "_\r\n");
}

#[test]
fn select_inside_a_transaction_applies_to_later_commands() {
    let server = TestServer::start(2);
    let mut c = server.raw();
    let key = key_on(1, "db");
    assert_eq!(c.wire(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.wire(&["SELECT", "3"]), "+QUEUED\r\n");
    assert_eq!(c.wire(&["SET", &key, "in3"]), "+QUEUED\r\n");
    assert_eq!(c.wire(&["EXEC"]), "*2\r\n+OK\r\n+OK\r\n");
    assert_eq!(c.wire(&["GET", &key]), "$3\r\nin3\r\n");
    assert_eq!(c.wire(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(c.wire(&["EXISTS", &key]), ":0\r\n");
}

#[test]
fn blocking_commands_inside_a_transaction_do_not_block() {
    let server = TestServer::start(2);
    let mut c = server.raw();
    let (k0, k1) = (key_on(0, "bl"), key_on(1, "bl"));
    assert_eq!(c.wire(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.wire(&["BLPOP", &k0, &k1, "0"]), "+QUEUED\r\n");
    assert_eq!(c.wire(&["BZPOPMIN", &k1, "0"]), "+QUEUED\r\n");
    assert_eq!(c.wire(&["RPUSH", &k1, "x"]), "+QUEUED\r\n");
    assert_eq!(
        c.wire(&["BLMOVE", &k1, &k0, "LEFT", "LEFT", "0"]),
        "+QUEUED\r\n"
    );
    send(&mut c, &["EXEC"]);
    assert!(reply_within(&mut c, 2000), "EXEC blocked");
    assert_eq!(read(&mut c), "*4\r\n*-1\r\n*-1\r\n:1\r\n$1\r\nx\r\n");
}

#[test]
fn publish_inside_a_transaction_reaches_subscribers_on_every_shard() {
    let server = TestServer::start(2);
    let mut subs: Vec<Raw> = (0..4).map(|_| server.raw()).collect();
    for s in &mut subs {
        assert_eq!(
            s.wire(&["SUBSCRIBE", "news"]),
            "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"
        );
    }
    let mut p = server.raw();
    assert_eq!(p.wire(&["MULTI"]), "+OK\r\n");
    assert_eq!(p.wire(&["PUBLISH", "news", "hi"]), "+QUEUED\r\n");
    assert_eq!(p.wire(&["EXEC"]), "*1\r\n:4\r\n");
    for s in &mut subs {
        assert_eq!(read(s), "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
    }
}

/// Each transaction over keys on both shards is seen whole or not at all by
/// a reader that checks both keys in one MGET.
#[test]
fn a_transaction_over_two_shards_is_never_seen_half_done() {
    let server = TestServer::start(2);
    let (k0, k1) = (key_on(0, "pair"), key_on(1, "pair"));
    let mut w = server.raw();
    assert_eq!(w.wire(&["MSET", &k0, "0", &k1, "0"]), "+OK\r\n");
    let addr = server.addr;
    let (r0, r1) = (k0.clone(), k1.clone());
    let reader = thread::spawn(move || {
        let mut r = Raw::connect(addr);
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut checks = 0;
        while Instant::now() < deadline && checks < 3000 {
            let reply = r.wire(&["MGET", &r0, &r1]);
            let values: Vec<&str> = reply
                .lines()
                .filter(|l| !l.starts_with(['*', '$']))
                .collect();
            assert_eq!(values.len(), 2, "{reply}");
            assert_eq!(values[0], values[1], "saw half a transaction: {reply}");
            checks += 1;
        }
        checks
    });
    for i in 1..=300 {
        let v = i.to_string();
        assert_eq!(w.wire(&["MULTI"]), "+OK\r\n");
        assert_eq!(w.wire(&["SET", &k0, &v]), "+QUEUED\r\n");
        assert_eq!(w.wire(&["SET", &k1, &v]), "+QUEUED\r\n");
        assert_eq!(w.wire(&["EXEC"]), "*2\r\n+OK\r\n+OK\r\n");
    }
    assert!(reader.join().expect("reader") > 0);
}

/// Many clients increment one counter with WATCH/GET/MULTI/SET/EXEC retry
/// loops: a lost update would leave the counter short.
#[test]
fn optimistic_increments_lose_no_update() {
    for shards in [1, 2] {
        let server = TestServer::start(shards);
        let addr = server.addr;
        let (clients, each) = (8, 100);
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                thread::spawn(move || {
                    let mut c = Raw::connect(addr);
                    let mut retries = 0u64;
                    for _ in 0..each {
                        loop {
                            assert_eq!(c.wire(&["WATCH", "counter"]), "+OK\r\n");
                            let got = c.wire(&["GET", "counter"]);
                            let n: u64 =
                                got.lines().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
                            assert_eq!(c.wire(&["MULTI"]), "+OK\r\n");
                            assert_eq!(
                                c.wire(&["SET", "counter", &(n + 1).to_string()]),
                                "+QUEUED\r\n"
                            );
                            match c.wire(&["EXEC"]).as_str() {
                                "*1\r\n+OK\r\n" => break,
                                "*-1\r\n" => retries += 1,
                                other => panic!("EXEC answered {other:?}"),
                            }
                        }
                    }
                    retries
                })
            })
            .collect();
        let retries: u64 = workers.into_iter().map(|w| w.join().expect("worker")).sum();
        let mut c = server.raw();
        let total = clients * each;
        assert_eq!(
            c.wire(&["GET", "counter"]),
            format!("${}\r\n{total}\r\n", total.to_string().len())
        );
        // Contention must have happened for the test to mean anything.
        assert!(retries > 0, "no WATCH conflict in {total} increments");
    }
}

#[test]
fn a_client_leaving_mid_transaction_leaves_nothing_behind() {
    let server = TestServer::start(2);
    let key = key_on(1, "gone");
    {
        let mut a = server.raw();
        assert_eq!(a.wire(&["WATCH", &key]), "+OK\r\n");
        assert_eq!(a.wire(&["MULTI"]), "+OK\r\n");
        assert_eq!(a.wire(&["SET", &key, "never"]), "+QUEUED\r\n");
    }
    let mut b = server.raw();
    let deadline = Instant::now() + Duration::from_secs(5);
    while b.wire(&["INFO", "clients"]).contains("connected_clients:2") {
        assert!(Instant::now() < deadline);
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(b.wire(&["SET", &key, "x"]), "+OK\r\n");
    assert_eq!(b.wire(&["GET", &key]), "$1\r\nx\r\n");
}

#[test]
fn client_list_shows_a_transaction_in_progress() {
    let server = TestServer::start(2);
    let mut a = server.raw();
    let mut b = server.raw();
    assert_eq!(a.wire(&["CLIENT", "SETNAME", "queuer"]), "+OK\r\n");
    let line = |b: &mut Raw| {
        let list = b.wire(&["CLIENT", "LIST"]);
        list.lines()
            .find(|l| l.contains("name=queuer"))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    assert!(line(&mut b).contains(" flags=N "), "{}", line(&mut b));
    assert!(line(&mut b).contains(" multi=-1 "));
    assert_eq!(a.wire(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.wire(&["SET", "k", "v"]), "+QUEUED\r\n");
    assert_eq!(a.wire(&["GET", "k"]), "+QUEUED\r\n");
    let during = line(&mut b);
    assert!(
        during.contains(" flags=x ") && during.contains(" multi=2 "),
        "{during}"
    );
    assert_eq!(a.wire(&["EXEC"]), "*2\r\n+OK\r\n$1\r\nv\r\n");
    assert!(line(&mut b).contains(" multi=-1 "));
}
