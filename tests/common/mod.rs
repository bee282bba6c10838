//! A real Shoal server on 127.0.0.1:0 for integration tests, plus a raw
//! RESP client that shows replies exactly as they come off the wire.

#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use shoal::config::Config;
use shoal::server::{start, Running};
use shoal::util::slot::key_slot;
pub use shoal_protocol::Frame;

pub struct TestServer {
    running: Option<Running>,
    pub addr: SocketAddr,
}

impl TestServer {
    /// A server with `shards` shard threads and otherwise default settings.
    pub fn start(shards: usize) -> TestServer {
        Self::with(|c| c.shards = shards)
    }

    /// A server whose configuration `tune` adjusts (port is forced to 0).
    pub fn with(tune: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config::default_config();
        config.shards = 2;
        tune(&mut config);
        config.port = 0;
        config.bind = vec!["127.0.0.1".to_string()];
        let running = start(config, false).expect("test server starts");
        let addr = running.addr();
        TestServer {
            running: Some(running),
            addr,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// A `redis` crate connection (RESP2).
    pub fn client(&self) -> redis::Connection {
        let client = redis::Client::open(self.url()).expect("client");
        client.get_connection().expect("connect")
    }

    /// A `redis` crate connection speaking RESP3.
    pub fn client3(&self) -> redis::Connection {
        let client = redis::Client::open(format!("{}?protocol=resp3", self.url())).expect("client");
        client.get_connection().expect("connect")
    }

    pub fn raw(&self) -> Raw {
        Raw::connect(self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown();
        }
    }
}

/// A raw RESP connection.
pub struct Raw {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    pub fn connect(addr: SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends one command as a RESP array of bulk strings.
    pub fn send(&mut self, args: &[&[u8]]) {
        let wire = encode_cmd(args);
        self.stream.write_all(&wire).expect("write");
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Reads one complete reply frame (panics after 10 s without one).
    pub fn read(&mut self) -> Frame {
        loop {
            if let Some((frame, used)) =
                shoal_protocol::parse_frame(&self.buf).expect("well-formed reply")
            {
                self.buf.drain(..used);
                return frame;
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read reply");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The exact bytes of one reply.
    pub fn read_wire(&mut self) -> Vec<u8> {
        let f = self.read();
        let mut out = Vec::new();
        f.encode(&mut out);
        out
    }

    /// Sends a command and reads its reply.
    pub fn call(&mut self, args: &[&str]) -> Frame {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.send(&a);
        self.read()
    }

    /// Sends a command and returns the exact reply bytes as a string (lossy).
    pub fn wire(&mut self, args: &[&str]) -> String {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.send(&a);
        String::from_utf8_lossy(&self.read_wire()).into_owned()
    }

    /// True once the server has closed the connection (reads EOF within 5 s).
    pub fn is_closed(&mut self) -> bool {
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}

pub fn encode_cmd(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Shorthands for expected frames.
pub fn bulk(s: &str) -> Frame {
    Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}
pub fn simple(s: &str) -> Frame {
    Frame::Simple(bytes::Bytes::copy_from_slice(s.as_bytes()))
}
pub fn err(s: &str) -> Frame {
    Frame::Error(bytes::Bytes::copy_from_slice(s.as_bytes()))
}
pub fn int(v: i64) -> Frame {
    Frame::Integer(v)
}
pub fn arr(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}

/// Exact error replies that many tests compare against.
pub const WRONGTYPE: &str =
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
pub const SYNTAX: &str = "-ERR syntax error\r\n";
pub const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
pub const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";

/// Splits a command line on single spaces; `""` stands for an empty argument.
pub fn split(line: &str) -> Vec<&str> {
    line.split(' ')
        .map(|a| if a == "\"\"" { "" } else { a })
        .collect()
}

/// Sends each command line and compares the exact reply.
pub fn script(raw: &mut Raw, cases: &[(&str, &str)]) {
    for (line, expected) in cases {
        assert_eq!(raw.wire(&split(line)), *expected, "{line}");
    }
}

/// A raw connection that has switched to RESP3.
pub fn raw3(server: &TestServer) -> Raw {
    let mut raw = server.raw();
    match raw.call(&["HELLO", "3"]) {
        Frame::Map(_) => raw,
        other => panic!("HELLO 3 answered {other:?}"),
    }
}

// ---- helpers for tests with blocked clients and two shards ----

/// A key with `prefix` on shard `shard` of a two-shard server (slots below
/// 8192 belong to shard 0).
pub fn key_on(shard: usize, prefix: &str) -> String {
    (0..)
        .map(|i| format!("{prefix}{i}"))
        .find(|k| usize::from(key_slot(k.as_bytes()) >= 8192) == shard)
        .unwrap_or_default()
}

pub fn blocked_clients(c: &mut Raw) -> usize {
    let info = c.wire(&["INFO", "clients"]);
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(usize::MAX)
}

/// Waits (at most 5 s) until the server reports `n` blocked clients.
pub fn wait_blocked(c: &mut Raw, n: usize) {
    let start = Instant::now();
    loop {
        let now = blocked_clients(c);
        if now == n {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "expected {n} blocked clients, server reports {now}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// Whether a reply arrives on `c` within `ms` milliseconds.
pub fn reply_within(c: &mut Raw, ms: u64) -> bool {
    c.stream
        .set_read_timeout(Some(Duration::from_millis(ms)))
        .expect("timeout");
    let mut b = [0u8; 1];
    let got = match c.stream.peek(&mut b) {
        Ok(n) => n > 0,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
        Err(e) => panic!("read failed: {e}"),
    };
    c.stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    got
}

pub fn send(c: &mut Raw, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send(&a);
}

pub fn read(c: &mut Raw) -> String {
    String::from_utf8_lossy(&c.read_wire()).into_owned()
}
