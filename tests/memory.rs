//! MEMORY USAGE and HELP.

mod common;

use common::*;

#[test]
fn memory_usage_reports_what_a_key_costs() {
    let server = TestServer::start(2);
    let mut raw = server.raw();
    assert_eq!(raw.call(&["MEMORY", "USAGE", "nokey"]), Frame::NullBulk);
    raw.call(&["SET", "small", "abcdefghijklmnop"]);
    let Frame::Integer(small) = raw.call(&["MEMORY", "USAGE", "small"]) else {
        panic!("MEMORY USAGE returns an integer");
    };
    assert!((40..200).contains(&small), "small key costs {small}");
    let big = "x".repeat(10_000);
    raw.call(&["SET", "big", &big]);
    let Frame::Integer(large) = raw.call(&["MEMORY", "USAGE", "big", "SAMPLES", "0"]) else {
        panic!("MEMORY USAGE returns an integer");
    };
    assert!((10_000..10_300).contains(&large), "big key costs {large}");
    // A TTL adds the key's entry in the volatile index.
    raw.call(&["EXPIRE", "small", "100"]);
    let Frame::Integer(with_ttl) = raw.call(&["MEMORY", "USAGE", "small"]) else {
        panic!("MEMORY USAGE returns an integer");
    };
    assert!(with_ttl > small);
    assert_eq!(
        raw.call(&["MEMORY", "USAGE", "small", "SAMPLES", "-1"]),
        err("ERR syntax error")
    );
    assert_eq!(
        raw.call(&["MEMORY", "USAGE", "small", "FOO"]),
        err("ERR syntax error")
    );
    assert_eq!(
        raw.call(&["MEMORY", "USAGE", "small", "SAMPLES", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        raw.call(&["MEMORY"]),
        err("ERR wrong number of arguments for 'memory' command")
    );
    assert_eq!(
        raw.call(&["MEMORY", "NOPE"]),
        err("ERR unknown subcommand 'NOPE'. Try MEMORY HELP.")
    );
    let Frame::Array(lines) = raw.call(&["MEMORY", "HELP"]) else {
        panic!("MEMORY HELP returns lines");
    };
    assert!(lines.len() >= 4);
}
