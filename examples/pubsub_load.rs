//! Pub/sub load for benches/pubsub.sh: one publisher, N subscribers on one
//! channel, fixed-size messages. Prints messages delivered per second.
//!
//!   pubsub_load PORT [SUBSCRIBERS] [MESSAGE_BYTES] [SECONDS] [PIPELINE]
//!
//! Every delivered message has the same size on the wire, so subscribers
//! count bytes instead of parsing. The publisher keeps PIPELINE PUBLISH
//! commands in flight and stops after SECONDS; subscribers then drain
//! until quiet.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn command(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for p in parts {
        out.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        out.extend_from_slice(p);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn main() {
    let port = arg(1, 6379);
    let subscribers = arg(2, 100) as usize;
    let size = arg(3, 64) as usize;
    let seconds = arg(4, 5);
    let pipeline = arg(5, 64) as usize;
    let addr = format!("127.0.0.1:{port}");
    let channel = b"bench";
    let payload = vec![b'x'; size];
    let frame_len = {
        let mut f = format!("*3\r\n$7\r\nmessage\r\n${}\r\n", channel.len()).into_bytes();
        f.extend_from_slice(channel);
        f.extend_from_slice(format!("\r\n${size}\r\n").as_bytes());
        f.len() + size + 2
    } as u64;

    let delivered_bytes = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..subscribers {
        let mut s = TcpStream::connect(&addr).expect("connect subscriber");
        s.write_all(&command(&[b"SUBSCRIBE", channel]))
            .expect("subscribe");
        // The confirmation: *3 subscribe bench :1
        let confirm = format!(
            "*3\r\n$9\r\nsubscribe\r\n${}\r\n{}\r\n:1\r\n",
            channel.len(),
            String::from_utf8_lossy(channel)
        );
        let mut buf = vec![0u8; confirm.len()];
        s.read_exact(&mut buf).expect("confirmation");
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        let bytes = delivered_bytes.clone();
        let stop = stop.clone();
        readers.push(thread::spawn(move || {
            let mut chunk = vec![0u8; 256 * 1024];
            loop {
                match s.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(n) => {
                        bytes.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(_) if stop.load(Ordering::Relaxed) => return,
                    Err(_) => {}
                }
            }
        }));
    }

    let mut publisher = TcpStream::connect(&addr).expect("connect publisher");
    let publish = command(&[b"PUBLISH", channel, &payload]);
    let batch: Vec<u8> = publish.repeat(pipeline);
    let reply_len = format!(":{subscribers}\r\n").len();
    let mut replies = vec![0u8; reply_len * pipeline];
    let start = Instant::now();
    let mut published = 0u64;
    while start.elapsed() < Duration::from_secs(seconds) {
        publisher.write_all(&batch).expect("publish");
        publisher.read_exact(&mut replies).expect("replies");
        published += pipeline as u64;
    }
    let publishing = start.elapsed();
    // Let the subscribers drain what is still in flight.
    let expected = published * subscribers as u64 * frame_len;
    let drain = Instant::now();
    while delivered_bytes.load(Ordering::Relaxed) < expected
        && drain.elapsed() < Duration::from_secs(30)
    {
        thread::sleep(Duration::from_millis(10));
    }
    let total = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        let _ = r.join();
    }
    let delivered = delivered_bytes.load(Ordering::Relaxed) / frame_len;
    println!(
        "published={published} delivered={delivered} publish_secs={:.2} total_secs={:.2} delivered_per_sec={:.0}",
        publishing.as_secs_f64(),
        total.as_secs_f64(),
        delivered as f64 / total.as_secs_f64()
    );
}
