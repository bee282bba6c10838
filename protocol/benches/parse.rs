//! Parsing the same pipelined requests with our RequestParser and with the `redis-protocol` crate's zero-copy
//! RESP2 decoder (`decode_bytes_mut`).

use bytes::BytesMut;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use redis_protocol::resp2::decode::decode_bytes_mut;
use shoal_protocol::{Limits, RequestParser};

const PIPELINE: usize = 16;

fn multibulk(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for p in parts {
        out.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        out.extend_from_slice(p);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn pipeline(command: impl Fn(usize) -> Vec<u8>) -> Vec<u8> {
    (0..PIPELINE).flat_map(command).collect()
}

fn key(i: usize) -> Vec<u8> {
    format!("key:{:012}", 1234 + i).into_bytes()
}

fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "set_16B",
            pipeline(|i| multibulk(&[b"SET", &key(i), b"0123456789abcdef"])),
        ),
        ("get", pipeline(|i| multibulk(&[b"GET", &key(i)]))),
        (
            "mget_8_keys",
            pipeline(|i| {
                let keys: Vec<Vec<u8>> = (0..8).map(|k| key(i * 8 + k)).collect();
                let mut parts: Vec<&[u8]> = vec![b"MGET"];
                parts.extend(keys.iter().map(|k| &k[..]));
                multibulk(&parts)
            }),
        ),
        (
            "set_4KiB",
            pipeline(|i| multibulk(&[b"SET", &key(i), &[b'v'; 4096]])),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    for (name, input) in inputs() {
        let mut group = c.benchmark_group(format!("pipeline16/{name}"));
        group.throughput(Throughput::Elements(PIPELINE as u64));

        let mut parser = RequestParser::new(Limits::default());
        let mut args = Vec::with_capacity(16);
        group.bench_function("shoal", |b| {
            b.iter_batched_ref(
                || BytesMut::from(&input[..]),
                |buf| {
                    let mut n = 0;
                    while let Ok(true) = parser.parse(buf, &mut args) {
                        n += args.len();
                        black_box(&args);
                    }
                    assert_eq!(n % PIPELINE, 0);
                    n
                },
                BatchSize::SmallInput,
            )
        });

        group.bench_function("redis-protocol", |b| {
            b.iter_batched_ref(
                || BytesMut::from(&input[..]),
                |buf| {
                    let mut n = 0;
                    while let Ok(Some((frame, _, _))) = decode_bytes_mut(buf) {
                        if let redis_protocol::resp2::types::BytesFrame::Array(items) = &frame {
                            n += items.len();
                        }
                        black_box(&frame);
                    }
                    assert_eq!(n % PIPELINE, 0);
                    n
                },
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }

    // The same SET pipeline in inline form, which redis-protocol does not parse.
    let inline = pipeline(|i| {
        let mut line = b"SET ".to_vec();
        line.extend(key(i));
        line.extend_from_slice(b" 0123456789abcdef\r\n");
        line
    });
    let mut group = c.benchmark_group("pipeline16/set_16B_inline");
    group.throughput(Throughput::Elements(PIPELINE as u64));
    let mut parser = RequestParser::new(Limits::default());
    let mut args = Vec::with_capacity(16);
    group.bench_function("shoal", |b| {
        b.iter_batched_ref(
            || BytesMut::from(&inline[..]),
            |buf| {
                let mut n = 0;
                while let Ok(true) = parser.parse(buf, &mut args) {
                    n += args.len();
                    black_box(&args);
                }
                n
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
