//! A subscriber that stops reading is dropped at the pub/sub output limit
//! while the others keep receiving, and the server's memory stays bounded.
//! Alone in its file: used_memory is the whole process's, so no other test
//! may run beside it.

mod common;

use std::io::Read;
use std::thread;

use common::TestServer;

fn message(channel: &str, body: &str) -> String {
    format!(
        "*3\r\n$7\r\nmessage\r\n${}\r\n{channel}\r\n${}\r\n{body}\r\n",
        channel.len(),
        body.len()
    )
}

#[test]
fn a_subscriber_that_stops_reading_is_dropped_and_others_keep_up() {
    let server = TestServer::start(2);
    let mut stalled = server.raw();
    stalled.wire(&["SUBSCRIBE", "flood"]);
    let mut reader = server.raw();
    reader.wire(&["SUBSCRIBE", "flood"]);
    let body = "x".repeat(64 * 1024);
    const COUNT: usize = 1200; // 75 MiB: past the 32 MiB hard limit
    let expected_len = message("flood", &body).len() * COUNT;
    let reading = thread::spawn(move || {
        let mut got = 0usize;
        let mut chunk = vec![0u8; 1 << 16];
        while got < expected_len {
            match reader.stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        (got, reader)
    });
    let mut p = server.raw();
    let mut peak = 0u64;
    for i in 0..COUNT {
        p.wire(&["PUBLISH", "flood", &body]);
        if i % 100 == 0 {
            let info = p.wire(&["INFO", "memory"]);
            let used: u64 = info
                .lines()
                .find_map(|l| l.strip_prefix("used_memory:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            peak = peak.max(used);
        }
    }
    let (got, _reader) = reading.join().expect("reader");
    assert_eq!(got, expected_len);
    assert!(
        stalled.is_closed(),
        "the stalled subscriber was not dropped"
    );
    // Bounded by the hard limit plus what is in flight, far below the 75 MiB
    // sent.
    assert!(peak < 60 * 1024 * 1024, "used_memory peaked at {peak}");
    assert_eq!(
        p.wire(&["PUBSUB", "NUMSUB", "flood"]),
        "*2\r\n$5\r\nflood\r\n:1\r\n"
    );
}
