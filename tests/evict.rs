//! Memory limit and eviction: each policy evicts the right class of key,
//! noeviction refuses writes with Redis's OOM error while reads and DEL go
//! on, the limit can be set at run time, and eviction is visible in INFO
//! and keyspace events.
//!
//! used_memory is the whole process's, and the tests of one binary run on
//! threads of one process: every test here takes `SERIAL` first, and
//! nothing else lives in this binary. Limits are set relative to the memory
//! in use once a test has allocated what it needs, with a margin of
//! hundreds of keys.

mod common;

use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use common::{bulk, err, int, simple, Frame, Raw, TestServer};
use shoal::config::EvictionPolicy;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
const VALUE: usize = 1000;
/// Room for about this many keys of VALUE bytes (each costs ~1.1 KB).
const KEYS_THAT_FIT: i64 = 1000;

fn server(policy: EvictionPolicy) -> TestServer {
    TestServer::with(|c| {
        c.shards = 1;
        c.maxmemory_policy = policy;
        // Sharper than Redis's default 5, so that tests can tell the
        // policies' orders apart with a few hundred keys.
        c.maxmemory_samples = 10;
    })
}

fn info_field(raw: &mut Raw, section: &str, name: &str) -> String {
    let text = raw.wire(&["INFO", section]);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("INFO {section} has no {name}"))
}

fn info_u64(raw: &mut Raw, section: &str, name: &str) -> u64 {
    info_field(raw, section, name).parse().expect("a number")
}

/// Sets maxmemory to what is used now plus room for `keys` keys (less
/// than is used for a negative count). INFO's own reply, being built,
/// counts in the used_memory it reports: a few KB more than the next
/// command sees.
fn limit_to_room_for(raw: &mut Raw, keys: i64) -> u64 {
    let used = info_u64(raw, "memory", "used_memory");
    let limit = (used as i64 + keys * (VALUE as i64 + 100)) as u64;
    assert_eq!(
        raw.call(&["CONFIG", "SET", "maxmemory", &limit.to_string()]),
        simple("OK")
    );
    limit
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}:{i}")).collect()
}

/// Runs `cmds` pipelined; panics on an error reply.
fn pipeline(raw: &mut Raw, cmds: &[Vec<&str>]) -> Vec<Frame> {
    let mut replies = Vec::with_capacity(cmds.len());
    for chunk in cmds.chunks(200) {
        for c in chunk {
            let args: Vec<&[u8]> = c.iter().map(|a| a.as_bytes()).collect();
            raw.send(&args);
        }
        for c in chunk {
            let reply = raw.read();
            if let Frame::Error(e) = &reply {
                panic!("{c:?}: {}", String::from_utf8_lossy(e));
            }
            replies.push(reply);
        }
    }
    replies
}

fn set_all(raw: &mut Raw, keys: &[String], value: &str, ttl: Option<u64>) {
    let ttl = ttl.map(|t| t.to_string());
    let cmds: Vec<Vec<&str>> = keys
        .iter()
        .map(|k| match &ttl {
            Some(t) => vec!["SET", k.as_str(), value, "EX", t.as_str()],
            None => vec!["SET", k.as_str(), value],
        })
        .collect();
    pipeline(raw, &cmds);
}

fn get_all(raw: &mut Raw, keys: &[String]) {
    let cmds: Vec<Vec<&str>> = keys.iter().map(|k| vec!["GET", k.as_str()]).collect();
    pipeline(raw, &cmds);
}

/// Which of `keys` exist (EXISTS does not touch them).
fn existing(raw: &mut Raw, keys: &[String]) -> Vec<bool> {
    let cmds: Vec<Vec<&str>> = keys.iter().map(|k| vec!["EXISTS", k.as_str()]).collect();
    pipeline(raw, &cmds)
        .into_iter()
        .map(|r| r == int(1))
        .collect()
}

fn count(flags: &[bool]) -> usize {
    flags.iter().filter(|&&f| f).count()
}

/// Under volatile-`policy`, keys without a TTL stay whatever else goes, and
/// once only they are left writes get the OOM error.
fn volatile_policy_keeps_persistent_keys(policy: EvictionPolicy) {
    let _serial = serial();
    let server = server(policy);
    let mut raw = server.raw();
    let value = "v".repeat(VALUE);
    let persistent = names("keep", 300);
    let volatile = names("ttl", 2000);
    set_all(&mut raw, &persistent, &value, None);
    limit_to_room_for(&mut raw, KEYS_THAT_FIT - 300);
    // Volatile keys with different TTLs (volatile-ttl orders by them).
    for (i, chunk) in volatile.chunks(100).enumerate() {
        set_all(&mut raw, chunk, &value, Some(1000 + i as u64));
    }
    assert_eq!(
        count(&existing(&mut raw, &persistent)),
        persistent.len(),
        "{policy:?}"
    );
    let left = count(&existing(&mut raw, &volatile));
    assert!(left < volatile.len(), "{policy:?}: nothing was evicted");
    assert!(info_u64(&mut raw, "stats", "evicted_keys") > 0);
    // Keys without a TTL replace the volatile ones until none is left to
    // evict: then writes are refused, and the first keys are all there.
    let more = names("more", 2000);
    let refused = more
        .iter()
        .any(|k| raw.call(&["SET", k, &value]) == err(OOM));
    assert!(refused, "{policy:?}: writes never refused");
    assert_eq!(
        count(&existing(&mut raw, &persistent)),
        persistent.len(),
        "{policy:?}"
    );
    assert_eq!(raw.call(&["GET", "keep:0"]), bulk(&value));
}

#[test]
fn volatile_lru_never_evicts_keys_without_ttl() {
    volatile_policy_keeps_persistent_keys(EvictionPolicy::VolatileLru);
}

#[test]
fn volatile_lfu_never_evicts_keys_without_ttl() {
    volatile_policy_keeps_persistent_keys(EvictionPolicy::VolatileLfu);
}

#[test]
fn volatile_random_never_evicts_keys_without_ttl() {
    volatile_policy_keeps_persistent_keys(EvictionPolicy::VolatileRandom);
}

#[test]
fn volatile_ttl_never_evicts_keys_without_ttl() {
    volatile_policy_keeps_persistent_keys(EvictionPolicy::VolatileTtl);
}

#[test]
fn volatile_fifo_never_evicts_keys_without_ttl() {
    volatile_policy_keeps_persistent_keys(EvictionPolicy::VolatileFifo);
}

#[test]
fn volatile_mru_never_evicts_keys_without_ttl() {
    volatile_policy_keeps_persistent_keys(EvictionPolicy::VolatileMru);
}

#[test]
fn noeviction_refuses_writes_but_serves_reads_and_deletes() {
    let _serial = serial();
    let server = server(EvictionPolicy::NoEviction);
    let mut raw = server.raw();
    assert_eq!(raw.call(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(raw.call(&["RPUSH", "l", "a"]), int(1));
    assert_eq!(raw.call(&["CONFIG", "SET", "maxmemory", "1"]), simple("OK"));
    assert_eq!(
        raw.wire(&["SET", "a", "b"]),
        format!("-{OOM}\r\n"),
        "denyoom commands are refused"
    );
    for cmd in [
        vec!["INCR", "n"],
        vec!["LPUSH", "l", "b"],
        vec!["SADD", "s", "m"],
        vec!["HSET", "h", "f", "v"],
        vec!["APPEND", "k", "x"],
        vec!["MSET", "a", "1", "b", "2"],
    ] {
        assert_eq!(raw.call(&cmd), err(OOM), "{cmd:?}");
    }
    assert_eq!(raw.call(&["GET", "k"]), bulk("v"));
    assert_eq!(
        raw.call(&["LRANGE", "l", "0", "-1"]),
        Frame::Array(vec![bulk("a")])
    );
    assert_eq!(raw.call(&["EXPIRE", "k", "100"]), int(1));
    assert_eq!(raw.call(&["DEL", "k"]), int(1));
    assert_eq!(raw.call(&["LPOP", "l"]), bulk("a"));
    assert_eq!(raw.call(&["EXISTS", "k", "l"]), int(0));
    assert_eq!(info_u64(&mut raw, "stats", "evicted_keys"), 0);
    // RESP3 gets the same error.
    assert!(matches!(raw.call(&["HELLO", "3"]), Frame::Map(_)));
    assert_eq!(raw.wire(&["SET", "a", "b"]), format!("-{OOM}\r\n"));
    assert_eq!(raw.call(&["CONFIG", "SET", "maxmemory", "0"]), simple("OK"));
    assert_eq!(raw.call(&["SET", "a", "b"]), simple("OK"));
}

#[test]
fn noeviction_refuses_writes_on_every_shard() {
    let _serial = serial();
    let server = TestServer::with(|c| {
        c.shards = 2;
        c.maxmemory_policy = EvictionPolicy::NoEviction;
    });
    let mut raw = server.raw();
    assert_eq!(raw.call(&["CONFIG", "SET", "maxmemory", "1"]), simple("OK"));
    // Local, forwarded and multi-shard writes alike.
    let (a, b) = (common::key_on(0, "a"), common::key_on(1, "b"));
    assert_eq!(raw.call(&["SET", &a, "1"]), err(OOM));
    assert_eq!(raw.call(&["SET", &b, "1"]), err(OOM));
    assert_eq!(raw.call(&["MSET", &a, "1", &b, "2"]), err(OOM));
    assert_eq!(raw.call(&["DEL", &a, &b]), int(0));
    assert_eq!(raw.call(&["CONFIG", "SET", "maxmemory", "0"]), simple("OK"));
    assert_eq!(raw.call(&["MSET", &a, "1", &b, "2"]), simple("OK"));
}

#[test]
fn allkeys_lru_keeps_the_keys_being_read() {
    let _serial = serial();
    let server = server(EvictionPolicy::AllKeysLru);
    let mut raw = server.raw();
    let value = "v".repeat(VALUE);
    let read = names("read", 200);
    let unread = names("unread", 600);
    let fresh = names("fresh", 1500);
    set_all(&mut raw, &read, &value, None);
    set_all(&mut raw, &unread, &value, None);
    limit_to_room_for(&mut raw, KEYS_THAT_FIT);
    for chunk in fresh.chunks(100) {
        get_all(&mut raw, &read);
        set_all(&mut raw, chunk, &value, None);
    }
    assert_eq!(count(&existing(&mut raw, &read)), read.len());
    assert!(count(&existing(&mut raw, &unread)) < unread.len() / 2);
    assert!(info_u64(&mut raw, "stats", "evicted_keys") as usize >= unread.len() / 2);
}

#[test]
fn allkeys_lfu_keeps_a_frequently_read_set() {
    let _serial = serial();
    let server = server(EvictionPolicy::AllKeysLfu);
    let mut raw = server.raw();
    let value = "v".repeat(VALUE);
    let hot = names("hot", 200);
    let cold = names("cold", 1500);
    set_all(&mut raw, &hot, &value, None);
    // With the default log factor the counter passes 6 after about 11
    // reads: a hundred leave no hot key at the cold keys' 6.
    for _ in 0..100 {
        get_all(&mut raw, &hot);
    }
    // Fresh keys start at 5; reads raise the logarithmic counter.
    assert_eq!(raw.call(&["SET", "probe", "x"]), simple("OK"));
    assert_eq!(raw.call(&["OBJECT", "FREQ", "probe"]), int(5));
    match raw.call(&["OBJECT", "FREQ", "hot:0"]) {
        Frame::Integer(n) => assert!(n > 5, "{n}"),
        other => panic!("{other:?}"),
    }
    limit_to_room_for(&mut raw, 700);
    // The cold keys are each written once and read once, right away:
    // more recent than the hot set, but less frequent.
    for chunk in cold.chunks(100) {
        set_all(&mut raw, chunk, &value, None);
        get_all(&mut raw, chunk);
    }
    assert_eq!(count(&existing(&mut raw, &hot)), hot.len());
    assert!(count(&existing(&mut raw, &cold)) < cold.len());
    assert_eq!(
        raw.call(&["OBJECT", "IDLETIME", "hot:0"]),
        err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    );
}

#[test]
fn allkeys_fifo_evicts_the_earliest_stored_whatever_is_read() {
    let _serial = serial();
    let server = server(EvictionPolicy::AllKeysFifo);
    let mut raw = server.raw();
    let value = "v".repeat(VALUE);
    let first = names("first", 400);
    let second = names("second", 400);
    let third = names("third", 200);
    set_all(&mut raw, &first, &value, None);
    // The clock ticks every 10 ms: the batches get distinct times.
    thread::sleep(Duration::from_millis(30));
    set_all(&mut raw, &second, &value, None);
    thread::sleep(Duration::from_millis(30));
    // Reads do not protect a key from FIFO.
    get_all(&mut raw, &first);
    limit_to_room_for(&mut raw, 0);
    set_all(&mut raw, &third, &value, None);
    let first_left = count(&existing(&mut raw, &first));
    assert!(first_left < first.len(), "nothing was evicted");
    assert_eq!(
        count(&existing(&mut raw, &second)),
        second.len(),
        "a later key went while {first_left} earlier ones were still there"
    );
}

#[test]
fn allkeys_mru_evicts_the_key_just_read() {
    let _serial = serial();
    let server = server(EvictionPolicy::AllKeysMru);
    let mut raw = server.raw();
    let value = "v".repeat(VALUE);
    let keys = names("k", 600);
    set_all(&mut raw, &keys, &value, None);
    for round in 0..5 {
        thread::sleep(Duration::from_millis(20));
        let victim = &keys[100 * round + 7];
        assert_eq!(raw.call(&["GET", victim]), bulk(&value));
        // A limit some keys below what is used: the next write evicts.
        limit_to_room_for(&mut raw, -10);
        assert_eq!(
            raw.call(&["SET", &format!("new:{round}"), "x"]),
            simple("OK")
        );
        assert_eq!(raw.call(&["EXISTS", victim]), int(0), "round {round}");
    }
    // Only the keys used last went: a dozen or so each round.
    assert!(count(&existing(&mut raw, &keys)) >= keys.len() - 80);
}

#[test]
fn volatile_ttl_evicts_the_nearest_expiry_first() {
    let _serial = serial();
    let server = server(EvictionPolicy::VolatileTtl);
    let mut raw = server.raw();
    let value = "v".repeat(VALUE);
    let keys = names("t", 900);
    // key i expires in 10000 + i seconds.
    let cmds: Vec<(String, String)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), (10_000 + i).to_string()))
        .collect();
    let cmds: Vec<Vec<&str>> = cmds
        .iter()
        .map(|(k, t)| vec!["SET", k.as_str(), value.as_str(), "EX", t.as_str()])
        .collect();
    pipeline(&mut raw, &cmds);
    limit_to_room_for(&mut raw, 0);
    set_all(&mut raw, &names("later", 300), &value, Some(100_000));
    let left = existing(&mut raw, &keys);
    let gone = left.iter().filter(|&&k| !k).count();
    assert!(gone >= 200, "only {gone} evicted");
    // The latest-expiring half is untouched.
    assert_eq!(count(&left[450..]), 450);
}

#[test]
fn allkeys_random_evicts_something_of_everything() {
    let _serial = serial();
    let server = server(EvictionPolicy::AllKeysRandom);
    let mut raw = server.raw();
    let value = "v".repeat(VALUE);
    let keys = names("r", 800);
    set_all(&mut raw, &keys, &value, None);
    limit_to_room_for(&mut raw, 0);
    set_all(&mut raw, &names("more", 400), &value, None);
    let left = count(&existing(&mut raw, &keys));
    assert!(left < keys.len() && left > keys.len() / 4, "{left}");
}

#[test]
fn maxmemory_set_at_run_time_takes_effect() {
    let _serial = serial();
    let server = server(EvictionPolicy::AllKeysLru);
    let mut raw = server.raw();
    let value = "v".repeat(VALUE);
    let keys = names("k", 3000);
    set_all(&mut raw, &keys, &value, None);
    // Units as in redis.conf; CONFIG GET answers in bytes.
    assert_eq!(
        raw.call(&["CONFIG", "SET", "maxmemory", "10mb"]),
        simple("OK")
    );
    assert_eq!(
        raw.call(&["CONFIG", "GET", "maxmemory"]),
        Frame::Array(vec![bulk("maxmemory"), bulk("10485760")])
    );
    assert_eq!(info_field(&mut raw, "memory", "maxmemory_human"), "10.00M");
    assert_eq!(
        info_field(&mut raw, "memory", "maxmemory_policy"),
        "allkeys-lru"
    );
    // A limit below what is used: the cron evicts without any write.
    let used = info_u64(&mut raw, "memory", "used_memory");
    let limit = used - 1_000_000;
    raw.call(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    assert_eq!(info_u64(&mut raw, "memory", "maxmemory"), limit);
    let deadline = Instant::now() + Duration::from_secs(5);
    // INFO's own reply, being built, counts in the used_memory it reports.
    while info_u64(&mut raw, "memory", "used_memory") > limit + 64 * 1024 {
        assert!(Instant::now() < deadline, "memory never went under {limit}");
        thread::sleep(Duration::from_millis(20));
    }
    let evicted = info_u64(&mut raw, "stats", "evicted_keys");
    assert!(evicted >= 800, "{evicted}");
    let db0 = info_field(&mut raw, "keyspace", "db0");
    assert!(!db0.starts_with("keys=0,"), "{db0}");
    assert!(info_u64(&mut raw, "memory", "used_memory_peak") > limit);
    // CONFIG RESETSTAT clears the count.
    raw.call(&["CONFIG", "SET", "maxmemory", "0"]);
    assert_eq!(raw.call(&["CONFIG", "RESETSTAT"]), simple("OK"));
    assert_eq!(info_u64(&mut raw, "stats", "evicted_keys"), 0);
}

#[test]
fn evicted_keys_raise_evicted_events() {
    let _serial = serial();
    let server = server(EvictionPolicy::AllKeysLru);
    let mut raw = server.raw();
    let value = "v".repeat(VALUE);
    let keys = names("k", 400);
    set_all(&mut raw, &keys, &value, None);
    raw.call(&["CONFIG", "SET", "notify-keyspace-events", "Ee"]);
    let mut sub = server.raw();
    sub.send(&[b"SUBSCRIBE", b"__keyevent@0__:evicted"]);
    sub.read();
    limit_to_room_for(&mut raw, -20);
    assert_eq!(raw.call(&["SET", "one-more", &value]), simple("OK"));
    let mut gone: Vec<String> = keys
        .iter()
        .zip(existing(&mut raw, &keys))
        .filter(|(_, e)| !e)
        .map(|(k, _)| k.clone())
        .collect();
    assert!(!gone.is_empty());
    let mut announced: Vec<String> = (0..gone.len())
        .map(|_| match sub.read() {
            Frame::Array(parts)
                if parts.len() == 3 && parts[1] == bulk("__keyevent@0__:evicted") =>
            {
                match &parts[2] {
                    Frame::Bulk(k) => String::from_utf8_lossy(k).into_owned(),
                    other => panic!("{other:?}"),
                }
            }
            other => panic!("{other:?}"),
        })
        .collect();
    gone.sort();
    announced.sort();
    assert_eq!(announced, gone);
}

#[test]
fn object_idletime_and_freq_follow_the_policy() {
    let _serial = serial();
    let server = server(EvictionPolicy::AllKeysLru);
    let mut raw = server.raw();
    assert_eq!(raw.call(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(raw.call(&["OBJECT", "IDLETIME", "k"]), int(0));
    assert_eq!(
        raw.call(&["OBJECT", "FREQ", "k"]),
        err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    );
    raw.call(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
    assert_eq!(raw.call(&["OBJECT", "FREQ", "k"]), int(5));
    for _ in 0..200 {
        raw.call(&["GET", "k"]);
    }
    // Redis's counter with factor 10: about 10 after a couple of hundred hits.
    match raw.call(&["OBJECT", "FREQ", "k"]) {
        Frame::Integer(n) => assert!((7..=14).contains(&n), "{n}"),
        other => panic!("{other:?}"),
    }
    // A log factor of 0 counts every access.
    raw.call(&["CONFIG", "SET", "lfu-log-factor", "0"]);
    for _ in 0..50 {
        raw.call(&["GET", "k"]);
    }
    match raw.call(&["OBJECT", "FREQ", "k"]) {
        Frame::Integer(n) => assert!(n >= 57, "{n}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(raw.wire(&["OBJECT", "FREQ", "nosuch"]), "$-1\r\n");
    // Under FIFO, reads leave the clock alone: idle time counts from the write.
    raw.call(&["CONFIG", "SET", "maxmemory-policy", "allkeys-fifo"]);
    assert_eq!(raw.call(&["SET", "f", "v"]), simple("OK"));
    thread::sleep(Duration::from_millis(1100));
    raw.call(&["GET", "f"]);
    assert_eq!(raw.call(&["OBJECT", "IDLETIME", "f"]), int(1));
    raw.call(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    raw.call(&["GET", "f"]);
    assert_eq!(raw.call(&["OBJECT", "IDLETIME", "f"]), int(0));
}

#[test]
fn eviction_settings_are_configurable() {
    let _serial = serial();
    let server = server(EvictionPolicy::AllKeysLru);
    let mut raw = server.raw();
    for (name, value) in [
        ("maxmemory-samples", "64"),
        ("lfu-log-factor", "20"),
        ("lfu-decay-time", "5"),
        ("maxmemory-eviction-tenacity", "30"),
    ] {
        assert_eq!(raw.call(&["CONFIG", "SET", name, value]), simple("OK"));
        assert_eq!(
            raw.call(&["CONFIG", "GET", name]),
            Frame::Array(vec![bulk(name), bulk(value)])
        );
    }
    assert_eq!(
        raw.call(&["CONFIG", "SET", "maxmemory-eviction-tenacity", "101"]),
        err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-eviction-tenacity') - argument must be between 0 and 100 inclusive")
    );
    // Evicting with every setting changed still works.
    let value = "v".repeat(VALUE);
    set_all(&mut raw, &names("k", 300), &value, None);
    limit_to_room_for(&mut raw, 0);
    set_all(&mut raw, &names("more", 300), &value, None);
    assert!(info_u64(&mut raw, "stats", "evicted_keys") > 0);
}
