//! Key expiry: EXPIRE PEXPIRE EXPIREAT PEXPIREAT (with NX XX GT LT), TTL
//! PTTL EXPIRETIME PEXPIRETIME PERSIST, and both ways keys go away: lazily
//! when read, actively when nobody reads them again.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use shoal::util::slot::key_slot;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn integer(f: Frame) -> i64 {
    match f {
        Frame::Integer(n) => n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

fn key_on(shard: usize, base: &str) -> String {
    (0..)
        .map(|i| format!("{base}:{i}"))
        .find(|k| usize::from(key_slot(k.as_bytes()) >= 8192) == shard)
        .expect("some suffix lands on the shard")
}

fn arity_error(cmd: &str) -> Frame {
    err(&format!(
        "ERR wrong number of arguments for '{cmd}' command"
    ))
}

#[test]
fn ttl_family_on_missing_and_persistent_keys() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(raw.call(&[cmd, "nosuch"]), int(-2), "{cmd}");
    }
    assert_eq!(raw.call(&["SET", "k", "v"]), simple("OK"));
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(raw.call(&[cmd, "k"]), int(-1), "{cmd}");
        assert_eq!(raw.call(&[cmd]), arity_error(&cmd.to_lowercase()));
        assert_eq!(raw.call(&[cmd, "a", "b"]), arity_error(&cmd.to_lowercase()));
    }
}

#[test]
fn relative_and_absolute_setters_agree() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    for shard in 0..2 {
        let k = key_on(shard, "ttl");
        assert_eq!(raw.call(&["SET", &k, "v"]), simple("OK"));

        assert_eq!(raw.call(&["EXPIRE", &k, "100"]), int(1));
        assert_eq!(raw.call(&["TTL", &k]), int(100));
        let pttl = integer(raw.call(&["PTTL", &k]));
        assert!((99_000..=100_000).contains(&pttl), "pttl {pttl}");
        let at = integer(raw.call(&["PEXPIRETIME", &k]));
        assert!(
            (at - (now_ms() + 100_000)).abs() < 2_000,
            "pexpiretime {at}"
        );
        assert_eq!(raw.call(&["EXPIRETIME", &k]), int((at + 500) / 1000));

        assert_eq!(raw.call(&["PEXPIRE", &k, "5400"]), int(1));
        assert_eq!(
            raw.call(&["TTL", &k]),
            int(5),
            "rounded to the nearest second"
        );
        assert_eq!(raw.call(&["PEXPIRE", &k, "5900"]), int(1));
        assert_eq!(
            raw.call(&["TTL", &k]),
            int(6),
            "rounded to the nearest second"
        );

        let target = now_ms() + 200_000;
        assert_eq!(raw.call(&["PEXPIREAT", &k, &target.to_string()]), int(1));
        assert_eq!(raw.call(&["PEXPIRETIME", &k]), int(target));
        let secs = (now_ms() / 1000 + 300).to_string();
        assert_eq!(raw.call(&["EXPIREAT", &k, &secs]), int(1));
        assert_eq!(raw.call(&["EXPIRETIME", &k]), int(secs.parse().unwrap()));
        assert_eq!(
            raw.call(&["PEXPIRETIME", &k]),
            int(secs.parse::<i64>().unwrap() * 1000)
        );
    }
}

#[test]
fn expiretime_rounds_to_the_nearest_second() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    assert_eq!(raw.call(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(raw.call(&["PEXPIREAT", "k", "99999999999499"]), int(1));
    assert_eq!(raw.call(&["EXPIRETIME", "k"]), int(99_999_999_999));
    assert_eq!(raw.call(&["PEXPIREAT", "k", "99999999999500"]), int(1));
    assert_eq!(raw.call(&["EXPIRETIME", "k"]), int(100_000_000_000));
    assert_eq!(raw.call(&["PEXPIRETIME", "k"]), int(99_999_999_999_500));
}

#[test]
fn missing_keys_get_no_expiry() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        assert_eq!(raw.call(&[cmd, "nosuch", "100"]), int(0));
        assert_eq!(raw.call(&[cmd, "nosuch", "100", "NX"]), int(0));
        assert_eq!(raw.call(&[cmd, "nosuch"]), arity_error(&cmd.to_lowercase()));
    }
    assert_eq!(raw.call(&["EXISTS", "nosuch"]), int(0));
}

#[test]
fn times_in_the_past_delete_the_key() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let cases: [(&str, String); 6] = [
        ("EXPIRE", "0".into()),
        ("EXPIRE", "-100".into()),
        ("PEXPIRE", "-1".into()),
        ("EXPIREAT", "1".into()),
        ("PEXPIREAT", (now_ms() - 1000).to_string()),
        ("PEXPIREAT", "-9223372036854775808".into()),
    ];
    for (cmd, when) in &cases {
        let k = key_on(1, "past");
        assert_eq!(raw.call(&["SET", &k, "v"]), simple("OK"));
        assert_eq!(raw.call(&[cmd, &k, when]), int(1), "{cmd} {when}");
        assert_eq!(raw.call(&["EXISTS", &k]), int(0), "{cmd} {when}");
        assert_eq!(raw.call(&["TTL", &k]), int(-2));
    }
}

#[test]
fn nx_xx_gt_lt_conditions() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    assert_eq!(raw.call(&["SET", "k", "v"]), simple("OK"));
    // No TTL yet: XX and GT refuse, NX and LT accept.
    assert_eq!(raw.call(&["EXPIRE", "k", "100", "XX"]), int(0));
    assert_eq!(raw.call(&["EXPIRE", "k", "100", "GT"]), int(0));
    assert_eq!(raw.call(&["TTL", "k"]), int(-1));
    assert_eq!(raw.call(&["EXPIRE", "k", "100", "nx"]), int(1));
    assert_eq!(raw.call(&["EXPIRE", "k", "200", "NX"]), int(0));
    assert_eq!(raw.call(&["TTL", "k"]), int(100));
    // With a TTL of 100.
    assert_eq!(raw.call(&["EXPIRE", "k", "200", "LT"]), int(0));
    assert_eq!(raw.call(&["EXPIRE", "k", "50", "GT"]), int(0));
    // "Equal is not greater" needs an exact time: a relative EXPIRE 100
    // issued a millisecond later is genuinely greater.
    assert_eq!(raw.call(&["PEXPIREAT", "k", "99999999999000"]), int(1));
    assert_eq!(
        raw.call(&["PEXPIREAT", "k", "99999999999000", "GT"]),
        int(0),
        "equal is not greater"
    );
    assert_eq!(
        raw.call(&["PEXPIREAT", "k", "99999999999000", "LT"]),
        int(0),
        "equal is not less"
    );
    assert_eq!(raw.call(&["EXPIRE", "k", "100"]), int(1));
    assert_eq!(raw.call(&["EXPIRE", "k", "50", "lt"]), int(1));
    assert_eq!(raw.call(&["TTL", "k"]), int(50));
    assert_eq!(raw.call(&["EXPIRE", "k", "200", "gt"]), int(1));
    assert_eq!(raw.call(&["EXPIRE", "k", "300", "XX", "GT"]), int(1));
    assert_eq!(raw.call(&["EXPIRE", "k", "250", "XX", "GT"]), int(0));
    assert_eq!(raw.call(&["TTL", "k"]), int(300));
    assert_eq!(raw.call(&["PEXPIRE", "k", "400000", "xx"]), int(1));
    assert_eq!(raw.call(&["TTL", "k"]), int(400));

    // LT on a persistent key always wins, even with a time in the past.
    assert_eq!(raw.call(&["PERSIST", "k"]), int(1));
    assert_eq!(raw.call(&["EXPIRE", "k", "-1", "GT"]), int(0));
    assert_eq!(raw.call(&["EXISTS", "k"]), int(1));
    assert_eq!(raw.call(&["EXPIRE", "k", "-1", "LT"]), int(1));
    assert_eq!(raw.call(&["EXISTS", "k"]), int(0));

    // Repeating an option is allowed.
    assert_eq!(raw.call(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(raw.call(&["EXPIRE", "k", "10", "NX", "NX"]), int(1));
}

#[test]
fn option_and_number_errors() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    assert_eq!(raw.call(&["SET", "k", "v"]), simple("OK"));
    let nx_err = err("ERR NX and XX, GT or LT options at the same time are not compatible");
    let gtlt_err = err("ERR GT and LT options at the same time are not compatible");
    for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        assert_eq!(raw.call(&[cmd, "k", "10", "NX", "XX"]), nx_err);
        assert_eq!(raw.call(&[cmd, "k", "10", "NX", "GT"]), nx_err);
        assert_eq!(raw.call(&[cmd, "k", "10", "LT", "NX"]), nx_err);
        assert_eq!(raw.call(&[cmd, "k", "10", "GT", "LT"]), gtlt_err);
        assert_eq!(
            raw.call(&[cmd, "k", "10", "FOO"]),
            err("ERR Unsupported option FOO")
        );
        assert_eq!(
            raw.call(&[cmd, "k", "ten"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            raw.call(&[cmd, "k", "1.5"]),
            err("ERR value is not an integer or out of range")
        );
        // Options are validated before the number.
        assert_eq!(
            raw.call(&[cmd, "k", "ten", "bar"]),
            err("ERR Unsupported option bar")
        );
        // Incompatible options fail even on a missing key.
        assert_eq!(raw.call(&[cmd, "nosuch", "10", "GT", "LT"]), gtlt_err);
    }
    assert_eq!(
        raw.call(&["TTL", "k"]),
        int(-1),
        "errors leave the key alone"
    );
}

#[test]
fn overflowing_times_are_invalid() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    assert_eq!(raw.call(&["SET", "k", "v"]), simple("OK"));
    let invalid = |cmd: &str| err(&format!("ERR invalid expire time in '{cmd}' command"));
    // Seconds overflow on the conversion to milliseconds.
    assert_eq!(
        raw.call(&["EXPIRE", "k", "9223372036854776"]),
        invalid("expire")
    );
    assert_eq!(
        raw.call(&["EXPIRE", "k", "-9223372036854776"]),
        invalid("expire")
    );
    assert_eq!(
        raw.call(&["EXPIREAT", "k", "9223372036854776"]),
        invalid("expireat")
    );
    // ... or when now is added.
    assert_eq!(
        raw.call(&["EXPIRE", "k", "9223372036854775"]),
        invalid("expire")
    );
    assert_eq!(
        raw.call(&["PEXPIRE", "k", "9223372036854775807"]),
        invalid("pexpire")
    );
    assert_eq!(raw.call(&["TTL", "k"]), int(-1));
    // The largest absolute times are accepted.
    assert_eq!(raw.call(&["EXPIREAT", "k", "9223372036854775"]), int(1));
    assert_eq!(
        raw.call(&["PEXPIRETIME", "k"]),
        int(9_223_372_036_854_775_000)
    );
    assert_eq!(raw.call(&["PEXPIREAT", "k", "9223372036854775807"]), int(1));
    assert_eq!(raw.call(&["PEXPIRETIME", "k"]), int(i64::MAX));
    assert_eq!(raw.call(&["EXPIRETIME", "k"]), int(9_223_372_036_854_776));
    assert!(integer(raw.call(&["TTL", "k"])) > 9_000_000_000_000_000);
    // The most negative relative time is merely in the past.
    assert_eq!(raw.call(&["PEXPIRE", "k", "-9223372036854775808"]), int(1));
    assert_eq!(raw.call(&["EXISTS", "k"]), int(0));
    assert_eq!(
        raw.call(&["EXPIRE", "k", "99999999999999999999"]),
        err("ERR value is not an integer or out of range")
    );
}

#[test]
fn persist_removes_the_ttl() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    assert_eq!(raw.call(&["PERSIST", "nosuch"]), int(0));
    assert_eq!(raw.call(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(raw.call(&["PERSIST", "k"]), int(0));
    assert_eq!(raw.call(&["PEXPIRE", "k", "50"]), int(1));
    assert_eq!(raw.call(&["PERSIST", "k"]), int(1));
    assert_eq!(raw.call(&["TTL", "k"]), int(-1));
    std::thread::sleep(Duration::from_millis(80));
    assert_eq!(raw.call(&["GET", "k"]), bulk("v"), "a persisted key stays");
    assert_eq!(raw.call(&["PERSIST"]), arity_error("persist"));
    assert_eq!(raw.call(&["PERSIST", "a", "b"]), arity_error("persist"));
}

#[test]
fn lazy_expiry_on_read() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    for shard in 0..2 {
        let k = key_on(shard, "lazy");
        assert_eq!(raw.call(&["SET", &k, "v", "PX", "50"]), simple("OK"));
        assert_eq!(raw.call(&["GET", &k]), bulk("v"));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(raw.call(&["GET", &k]), Frame::NullBulk);
        assert_eq!(raw.call(&["TTL", &k]), int(-2));
    }
    // PEXPIRE sets the same kind of deadline.
    assert_eq!(raw.call(&["SET", "p", "v"]), simple("OK"));
    assert_eq!(raw.call(&["PEXPIRE", "p", "50"]), int(1));
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(raw.call(&["GET", "p"]), Frame::NullBulk);
    assert_eq!(raw.call(&["PERSIST", "p"]), int(0));
}

#[test]
fn active_expiry_reclaims_keys_never_read_again() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    let n = 1000;
    let mut wire = Vec::new();
    for i in 0..n {
        let k = format!("active:{i}");
        wire.extend(encode_cmd(&[b"SET", k.as_bytes(), b"v", b"PX", b"100"]));
    }
    wire.extend(encode_cmd(&[b"SET", b"keeper", b"v"]));
    raw.send_raw(&wire);
    for _ in 0..=n {
        assert_eq!(raw.read(), simple("OK"));
    }
    assert_eq!(raw.call(&["DBSIZE"]), int(n + 1));
    // DBSIZE counts keys still in the tables, so it only drops when the
    // expiry cycle deletes them; nothing here reads the keys.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let size = integer(raw.call(&["DBSIZE"]));
        if size == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{size} keys left after 5 s of active expiry"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(raw.call(&["GET", "keeper"]), bulk("v"));
}
