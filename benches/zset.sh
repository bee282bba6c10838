#!/usr/bin/env bash
# Sorted sets: Shoal (--shards 1) and redis-server side by side on loopback,
# in one run, about two minutes:
#
#  1. memory: one sorted set `lb` of 1,000,000 members (player:0..N, random
#     integer scores below 10^7), loaded into each server by the same client,
#     pipelined ZADDs of 1000 pairs; used_memory of each and the ratio.
#  2. a leaderboard mix: ZINCRBY lb <1..100> <random player>, ZREVRANGE lb 0 9
#     WITHSCORES and ZREVRANK lb <random player> in equal shares, from 8
#     connections pipelining 16 commands, for --secs seconds per run; runs
#     alternate which server goes first; ops/s (median) and the ratio.
#  3. redis-benchmark's zadd and zpopmin (one invocation, so the pops take
#     what the adds put in) at -P 1 and -P 16, median of --rounds rounds
#     alternating which server goes first, and the ratio. At -P 1 both
#     servers make the same two syscalls per request and the loopback
#     dominates: expect parity within the VM's noise.
#
#   benches/zset.sh [--members N] [--secs S] [--mix-rounds R] [--rounds R] [-n REQUESTS]
#
# The load generator is std-only Rust, compiled with rustc into a temporary
# directory. Wall-clock rates on small VMs swing by 10-20% between identical
# runs; read the ratios of medians.
set -euo pipefail
MEMBERS=1000000 SECS=8 MIXROUNDS=2 ROUNDS=5 N=200000
while [ $# -gt 0 ]; do
  case $1 in
    --members) MEMBERS=$2; shift 2;;
    --secs) SECS=$2; shift 2;;
    --mix-rounds) MIXROUNDS=$2; shift 2;;
    --rounds) ROUNDS=$2; shift 2;;
    -n) N=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
cd "$(dirname "$0")/.."
. benches/lib.sh
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo -n"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
fi
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 2; }
cargo build --release -q --bin shoal-server
BIN=target/release/shoal-server
[ -n "${CARGO_TARGET_DIR:-}" ] && BIN="$CARGO_TARGET_DIR/release/shoal-server"

WORK=$(mktemp -d); PIDS=()
trap 'for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

cat >"$WORK/zload.rs" <<'RUST'
// zload load PORT N                        one sorted set "lb" of N members
// zload mix PORT N SECS CONNS PIPELINE     the leaderboard mix; prints ops/s
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
}

fn cmd(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

// Reads one reply and checks it is not an error.
fn reply(r: &mut BufReader<TcpStream>, line: &mut Vec<u8>) {
    line.clear();
    r.read_until(b'\n', line).expect("read");
    assert!(line.len() >= 3, "connection closed");
    let n: i64 = std::str::from_utf8(&line[1..line.len() - 2]).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    match line[0] {
        b'-' => panic!("error reply: {}", String::from_utf8_lossy(line)),
        b'$' if n >= 0 => {
            let mut skip = vec![0u8; n as usize + 2];
            r.read_exact(&mut skip).expect("read");
        }
        b'*' => (0..n.max(0)).for_each(|_| reply(r, line)),
        _ => {}
    }
}

fn connect(port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_nodelay(true).ok();
    let r = BufReader::with_capacity(1 << 16, s.try_clone().expect("clone"));
    (s, r)
}

fn load(port: u16, n: u64) {
    let (mut s, mut r) = connect(port);
    let mut rng = Rng(42);
    let mut line = Vec::new();
    let mut i = 0;
    while i < n {
        let (mut out, mut sent) = (Vec::new(), 0);
        while sent < 16 && i < n {
            let end = (i + 1000).min(n);
            let mut args: Vec<Vec<u8>> = vec![b"ZADD".to_vec(), b"lb".to_vec()];
            for j in i..end {
                args.push((rng.next() % 10_000_000).to_string().into_bytes());
                args.push(format!("player:{j}").into_bytes());
            }
            let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
            cmd(&mut out, &refs);
            i = end;
            sent += 1;
        }
        s.write_all(&out).expect("write");
        (0..sent).for_each(|_| reply(&mut r, &mut line));
    }
}

fn mix(port: u16, n: u64, secs: f64, conns: usize, pipeline: usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..conns)
        .map(|c| {
            let (stop, done) = (stop.clone(), done.clone());
            std::thread::spawn(move || {
                let (mut s, mut r) = connect(port);
                let mut rng = Rng(1000 + c as u64);
                let (mut line, mut out) = (Vec::new(), Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    out.clear();
                    for _ in 0..pipeline {
                        let member = format!("player:{}", rng.next() % n);
                        match rng.next() % 3 {
                            0 => {
                                let inc = (1 + rng.next() % 100).to_string();
                                cmd(&mut out, &[b"ZINCRBY", b"lb", inc.as_bytes(), member.as_bytes()])
                            }
                            1 => cmd(&mut out, &[b"ZREVRANGE", b"lb", b"0", b"9", b"WITHSCORES"]),
                            _ => cmd(&mut out, &[b"ZREVRANK", b"lb", member.as_bytes()]),
                        }
                    }
                    s.write_all(&out).expect("write");
                    (0..pipeline).for_each(|_| reply(&mut r, &mut line));
                    done.fetch_add(pipeline as u64, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let (d0, t0) = (done.load(Ordering::Relaxed), Instant::now());
    std::thread::sleep(Duration::from_secs_f64(secs));
    let (d1, el) = (done.load(Ordering::Relaxed), t0.elapsed().as_secs_f64());
    stop.store(true, Ordering::Relaxed);
    handles.into_iter().for_each(|h| { let _ = h.join(); });
    println!("{:.0}", (d1 - d0) as f64 / el);
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let arg = |i: usize| a.get(i).cloned().unwrap_or_default();
    let port: u16 = arg(2).parse().expect("port");
    match arg(1).as_str() {
        "load" => load(port, arg(3).parse().expect("n")),
        "mix" => mix(port, arg(3).parse().expect("n"), arg(4).parse().expect("secs"),
                     arg(5).parse().expect("conns"), arg(6).parse().expect("pipeline")),
        _ => eprintln!("usage: zload load PORT N | zload mix PORT N SECS CONNS PIPELINE"),
    }
}
RUST
rustc -O --edition 2021 -o "$WORK/zload" "$WORK/zload.rs"

RP=$(port); SP=$(port)
redis-server --port "$RP" --save '' --appendonly no --daemonize no >"$WORK/redis.log" 2>&1 & RPID=$!; PIDS+=("$RPID")
"$BIN" --port "$SP" --shards 1 >"$WORK/shoal.log" 2>&1 & SPID=$!; PIDS+=("$SPID")
up "$RP"; up "$SP"
used() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '$1=="used_memory" {print $2}'; }
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

echo "== memory: one sorted set of $MEMBERS members (player:N, integer scores), pipelined ZADDs"
printf '%-6s %14s %14s %12s %10s\n' server used_memory empty_server bytes/member load_s
for s in shoal redis; do
  if [ $s = shoal ]; then p=$SP; else p=$RP; fi
  u0=$(used "$p"); t0=$(date +%s.%N)
  "$WORK/zload" load "$p" "$MEMBERS"
  t1=$(date +%s.%N); u1=$(used "$p")
  [ "$(redis-cli -p "$p" zcard lb)" = "$MEMBERS" ] || { echo "$s: wrong ZCARD" >&2; exit 1; }
  printf '%-6s %14s %14s %12.1f %10.2f\n' $s "$u1" "$u0" "$(python3 -c "print(($u1-$u0)/$MEMBERS)")" \
    "$(python3 -c "print($t1-$t0)")"
  eval "U_$s=$u1 D_$s=$((u1 - u0))"
done
echo "ratio (shoal/redis): used_memory $(ratio "$U_shoal" "$U_redis"), per member $(ratio "$D_shoal" "$D_redis")  (target <= 1.0)"

echo
echo "== leaderboard mix: ZINCRBY / ZREVRANGE lb 0 9 WITHSCORES / ZREVRANK, 8 connections x 16 pipelined, ${SECS}s x $MIXROUNDS"
: >"$WORK/ms"; : >"$WORK/mr"
for r in $(seq 1 "$MIXROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then order="shoal redis"; else order="redis shoal"; fi
  for s in $order; do
    if [ $s = shoal ]; then p=$SP; f=ms; else p=$RP; f=mr; fi
    "$WORK/zload" mix "$p" "$MEMBERS" "$SECS" 8 16 >>"$WORK/$f"
  done
done
ms=$(median <"$WORK/ms"); mr=$(median <"$WORK/mr")
printf '%-6s %12.0f ops/s   (runs: %s)\n' shoal "$ms" "$(tr '\n' ' ' <"$WORK/ms")"
printf '%-6s %12.0f ops/s   (runs: %s)\n' redis "$mr" "$(tr '\n' ' ' <"$WORK/mr")"
echo "ratio (shoal/redis): $(ratio "$ms" "$mr")  (target >= 1.0)"

echo
echo "== redis-benchmark -t zadd,zpopmin -c 50 -r 1000000, -n $N at -P 1 and $((N * 5)) at -P 16, median of $ROUNDS"
# One invocation runs zadd then zpopmin, so the pops take what the adds
# put in myzset (and, once it is empty, measure the empty-key path). The
# server's CPU time over the invocation (user + system, from /proc) is a
# steadier figure than the rates at -P 1, where the loopback dominates.
HZ=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
bench() { # port pipeline requests pid -> "zadd_rps zpopmin_rps cpu_us_per_request"
  local c0 c1 rates
  c0=$(cpu "$4")
  rates=$(redis-benchmark -p "$1" -t zadd,zpopmin -n "$3" -c 50 -P "$2" -r 1000000 --csv -q 2>/dev/null \
    | awk -F'"' '$2=="ZADD" {a=$4} $2=="ZPOPMIN" {p=$4} END {print a, p}')
  c1=$(cpu "$4")
  echo "$rates $(python3 -c "print(($c1 - $c0) * 1e6 / $HZ / (2 * $3))")"
}
for P in 1 16; do
  n=$N; [ "$P" = 1 ] || n=$((N * 5))
  : >"$WORK/s"; : >"$WORK/r"
  for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then
      bench "$SP" "$P" "$n" "$SPID" >>"$WORK/s"; bench "$RP" "$P" "$n" "$RPID" >>"$WORK/r"
    else
      bench "$RP" "$P" "$n" "$RPID" >>"$WORK/r"; bench "$SP" "$P" "$n" "$SPID" >>"$WORK/s"
    fi
  done
  for col in 1 2 3; do
    t=$(case $col in 1) echo zadd;; 2) echo zpopmin;; *) echo cpu_us;; esac)
    s=$(awk -v c=$col '{print $c}' "$WORK/s" | median); rr=$(awk -v c=$col '{print $c}' "$WORK/r" | median)
    echo "$t $P $s $rr" >>"$WORK/bench"
  done
done
printf '%-8s %4s %14s %14s %8s\n' test P shoal redis ratio
for t in zadd zpopmin; do
  grep "^$t " "$WORK/bench" | while read -r t P s rr; do
    printf '%-8s %4s %14.0f %14.0f %8s\n' "$t" "$P" "$s" "$rr" "$(ratio "$s" "$rr")"
  done
done
echo "server CPU per request (user + system, zadd and zpopmin together), microseconds:"
grep "^cpu_us " "$WORK/bench" | while read -r t P s rr; do
  printf '%-8s %4s %14.2f %14.2f %8s\n' cpu "$P" "$s" "$rr" "$(ratio "$s" "$rr")"
done
