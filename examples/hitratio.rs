//! Cache load for benches/hitratio.sh: replays a deterministic cache-aside
//! trace (GET, and SET on a miss) or writes random keys, and reports hit
//! ratio, throughput and the server's memory as INFO shows it meanwhile.
//!
//!   hitratio trace PORT zipf|scan KEYS OPS SEED
//!   hitratio fill PORT BYTES SEED CONNS
//!
//! `trace` sends the requests in batches of 64: the GETs pipelined, then a
//! SET for every miss, so both servers see the same sequence up to their
//! own hits and misses. `zipf` draws keys from Zipf(0.99) over KEYS keys
//! (YCSB's generator); `scan` is the same stream of which 30% is replaced
//! by one-off scans: runs of 2,000 keys never requested before or after.
//! The hit ratio counts every GET after the first quarter of the trace
//! (the cache is filling before that).
//!
//! `fill` SETs keys drawn at random from 100 million until BYTES of keys
//! and values were sent, over CONNS connections pipelining 32 commands.
//!
//! Values are 40 to 215 bytes (VALUE_MIN and VALUE_MAX in the environment
//! change that), their length derived from the key, so they are the same
//! in every run. A thread polls INFO memory every 50 ms; the peaks of
//! used_memory and used_memory_rss are printed with the rest as key=value.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const BATCH: usize = 64;
const FILL_PIPELINE: usize = 32;
const SCAN_RUN: u64 = 2_000;

/// xorshift64*: deterministic and cheap.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// YCSB's ZipfianGenerator (Gray et al.): rank 0 is the most popular.
struct Zipf {
    n: u64,
    theta: f64,
    alpha: f64,
    zetan: f64,
    eta: f64,
}

impl Zipf {
    fn new(n: u64, theta: f64) -> Zipf {
        let zeta = |n: u64| (1..=n).map(|i| 1.0 / (i as f64).powf(theta)).sum::<f64>();
        let zetan = zeta(n);
        let zeta2 = zeta(2);
        Zipf {
            n,
            theta,
            alpha: 1.0 / (1.0 - theta),
            zetan,
            eta: (1.0 - (2.0 / n as f64).powf(1.0 - theta)) / (1.0 - zeta2 / zetan),
        }
    }
    fn sample(&self, rng: &mut Rng) -> u64 {
        let u = rng.unit();
        let uz = u * self.zetan;
        if uz < 1.0 {
            return 0;
        }
        if uz < 1.0 + 0.5f64.powf(self.theta) {
            return 1;
        }
        let v = (self.n as f64 * (self.eta * u - self.eta + 1.0).powf(self.alpha)) as u64;
        v.min(self.n - 1)
    }
}

fn push_command(out: &mut Vec<u8>, parts: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", parts.len()).as_bytes());
    for p in parts {
        out.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        out.extend_from_slice(p);
        out.extend_from_slice(b"\r\n");
    }
}

/// Value lengths, from the environment (VALUE_MIN, VALUE_MAX; default 40
/// to 215 bytes).
fn value_range() -> (usize, usize) {
    let get = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let min = get("VALUE_MIN", 40);
    (min, get("VALUE_MAX", 215).max(min))
}

/// The value stored for `key`: its length depends on the key only.
fn value_for(key: &[u8]) -> Vec<u8> {
    let h = key.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let (min, max) = value_range();
    vec![b'v'; min + (h % (max - min + 1) as u64) as usize]
}

/// Reads RESP replies one at a time (only the kinds GET/SET/INFO return).
struct Replies {
    r: BufReader<TcpStream>,
    line: Vec<u8>,
}

#[derive(Debug, PartialEq)]
enum Reply {
    Nil,
    Bulk(Vec<u8>),
    Ok,
    Error(String),
}

impl Replies {
    fn new(s: TcpStream) -> Replies {
        Replies {
            r: BufReader::with_capacity(1 << 16, s),
            line: Vec::new(),
        }
    }
    fn next(&mut self) -> Reply {
        self.line.clear();
        self.r.read_until(b'\n', &mut self.line).expect("reply");
        let line = &self.line[..self.line.len().saturating_sub(2)];
        match line.first() {
            Some(b'+') => Reply::Ok,
            Some(b'-') => Reply::Error(String::from_utf8_lossy(&line[1..]).into_owned()),
            Some(b'$') => {
                let n: i64 = std::str::from_utf8(&line[1..])
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .expect("bulk length");
                if n < 0 {
                    return Reply::Nil;
                }
                let mut body = vec![0u8; n as usize + 2];
                self.r.read_exact(&mut body).expect("bulk body");
                body.truncate(n as usize);
                Reply::Bulk(body)
            }
            _ => panic!("unexpected reply {:?}", String::from_utf8_lossy(line)),
        }
    }
}

/// Polls INFO memory until stopped; keeps the peaks.
struct MemoryWatch {
    stop: Arc<AtomicBool>,
    peak_used: Arc<AtomicU64>,
    peak_rss: Arc<AtomicU64>,
    handle: Option<thread::JoinHandle<()>>,
}

fn info_memory(conn: &mut TcpStream, replies: &mut Replies) -> (u64, u64) {
    let mut cmd = Vec::new();
    push_command(&mut cmd, &[b"INFO", b"memory"]);
    conn.write_all(&cmd).expect("INFO");
    let Reply::Bulk(text) = replies.next() else {
        return (0, 0);
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (field("used_memory:"), field("used_memory_rss:"))
}

impl MemoryWatch {
    fn start(addr: &str) -> MemoryWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let peak_used = Arc::new(AtomicU64::new(0));
        let peak_rss = Arc::new(AtomicU64::new(0));
        let mut conn = TcpStream::connect(addr).expect("connect watcher");
        let mut replies = Replies::new(conn.try_clone().expect("clone"));
        let (s, u, r) = (stop.clone(), peak_used.clone(), peak_rss.clone());
        let handle = thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let (used, rss) = info_memory(&mut conn, &mut replies);
                u.fetch_max(used, Ordering::Relaxed);
                r.fetch_max(rss, Ordering::Relaxed);
                thread::sleep(Duration::from_millis(50));
            }
        });
        MemoryWatch {
            stop,
            peak_used,
            peak_rss,
            handle: Some(handle),
        }
    }
    fn finish(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        (
            self.peak_used.load(Ordering::Relaxed),
            self.peak_rss.load(Ordering::Relaxed),
        )
    }
}

fn trace(addr: &str, kind: &str, keys: u64, ops: u64, seed: u64) {
    let zipf = Zipf::new(keys, 0.99);
    let mut rng = Rng::new(seed);
    let mut conn = TcpStream::connect(addr).expect("connect");
    conn.set_nodelay(true).expect("nodelay");
    let mut replies = Replies::new(conn.try_clone().expect("clone"));
    let watch = MemoryWatch::start(addr);
    let warmup = ops / 4;
    let (mut gets, mut hits, mut sets, mut errors) = (0u64, 0u64, 0u64, 0u64);
    let mut scan_next = 0u64;
    let mut scan_left = 0u64;
    let mut done = 0u64;
    let mut batch_keys: Vec<Vec<u8>> = Vec::with_capacity(BATCH);
    let mut out = Vec::with_capacity(BATCH * 64);
    let start = Instant::now();
    while done < ops {
        batch_keys.clear();
        out.clear();
        while batch_keys.len() < BATCH && done + (batch_keys.len() as u64) < ops {
            if kind == "scan" && scan_left == 0 && rng.unit() < 3.0 / (7.0 * SCAN_RUN as f64) {
                scan_left = SCAN_RUN;
            }
            let key = if scan_left > 0 {
                scan_left -= 1;
                scan_next += 1;
                format!("scan:{scan_next}").into_bytes()
            } else {
                format!("key:{}", zipf.sample(&mut rng)).into_bytes()
            };
            push_command(&mut out, &[b"GET", &key]);
            batch_keys.push(key);
        }
        conn.write_all(&out).expect("send GETs");
        out.clear();
        let mut missed = Vec::new();
        for (i, key) in batch_keys.iter().enumerate() {
            let counted = done + i as u64 >= warmup;
            match replies.next() {
                Reply::Bulk(_) => hits += u64::from(counted),
                Reply::Nil => missed.push(key),
                other => panic!("GET replied {other:?}"),
            }
            gets += u64::from(counted);
        }
        for key in &missed {
            push_command(&mut out, &[b"SET", key, &value_for(key)]);
        }
        conn.write_all(&out).expect("send SETs");
        for _ in &missed {
            match replies.next() {
                Reply::Ok => sets += 1,
                Reply::Error(_) => errors += 1,
                other => panic!("SET replied {other:?}"),
            }
        }
        done += batch_keys.len() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    let (peak_used, peak_rss) = watch.finish();
    println!(
        "gets={gets} hits={hits} hit_ratio={:.4} sets={sets} errors={errors} secs={secs:.2} ops_per_sec={:.0} peak_used={peak_used} peak_rss={peak_rss}",
        hits as f64 / gets.max(1) as f64,
        (ops + sets) as f64 / secs
    );
}

fn fill(addr: &str, bytes: u64, seed: u64, conns: usize) {
    let watch = MemoryWatch::start(addr);
    let per_conn = bytes / conns as u64;
    let errors = Arc::new(AtomicU64::new(0));
    let commands = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..conns)
        .map(|c| {
            let addr = addr.to_string();
            let (errors, commands) = (errors.clone(), commands.clone());
            thread::spawn(move || {
                let mut rng = Rng::new(seed.wrapping_add(c as u64 * 7919));
                let mut conn = TcpStream::connect(&addr).expect("connect");
                conn.set_nodelay(true).expect("nodelay");
                let mut replies = Replies::new(conn.try_clone().expect("clone"));
                let mut sent = 0u64;
                let mut out = Vec::with_capacity(FILL_PIPELINE * 300);
                while sent < per_conn {
                    out.clear();
                    let mut n = 0;
                    while n < FILL_PIPELINE && sent < per_conn {
                        let key = format!("fill:{:08}", rng.next() % 100_000_000).into_bytes();
                        let value = value_for(&key);
                        sent += (key.len() + value.len()) as u64;
                        push_command(&mut out, &[b"SET", &key, &value]);
                        n += 1;
                    }
                    conn.write_all(&out).expect("send");
                    for _ in 0..n {
                        if let Reply::Error(_) = replies.next() {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    commands.fetch_add(n as u64, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let secs = start.elapsed().as_secs_f64();
    let (peak_used, peak_rss) = watch.finish();
    let n = commands.load(Ordering::Relaxed);
    println!(
        "sets={n} errors={} secs={secs:.2} ops_per_sec={:.0} peak_used={peak_used} peak_rss={peak_rss}",
        errors.load(Ordering::Relaxed),
        n as f64 / secs
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let num = |i: usize| -> u64 {
        args.get(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("argument {i} must be a number"))
    };
    let usage =
        "usage: hitratio trace PORT zipf|scan KEYS OPS SEED | hitratio fill PORT BYTES SEED CONNS";
    match args.get(1).map(String::as_str) {
        Some("trace") => {
            let kind = args.get(3).map(String::as_str).unwrap_or("zipf");
            assert!(kind == "zipf" || kind == "scan", "{usage}");
            trace(
                &format!("127.0.0.1:{}", num(2)),
                kind,
                num(4),
                num(5),
                num(6),
            );
        }
        Some("fill") => fill(
            &format!("127.0.0.1:{}", num(2)),
            num(3),
            num(4),
            num(5) as usize,
        ),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
