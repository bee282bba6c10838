#!/usr/bin/env bash
# Memory per object, Shoal next to redis-server: both get exactly the same
# commands from the same client (a raw-RESP pipelining loader, so the data is
# deterministic, unlike redis-benchmark's random keys), and for each data
# shape the script prints used_memory and RSS growth per object and the ratio.
#
#   benches/memory.sh [--no-build] [--only strings,hashes,sets,lists]
#
# Rows (each on freshly started servers, so one row's leftovers never blur the
# next):
#   strings  1,000,000 SET key:%012d (16 bytes) -> 16-byte value
#   hashes   100,000 HSET h:N f0 v0 ... f9 v9
#   sets     100,000 SADD s:N 1 2 ... 10
#   lists    100,000 RPUSH list:N with ten 5-byte strings ("n/a" if the server
#            does not know RPUSH)
set -euo pipefail
BUILD=1 ONLY="strings,hashes,sets,lists"
while [ $# -gt 0 ]; do
  case $1 in
    --no-build) BUILD=0; shift;;
    --only) ONLY=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
cd "$(dirname "$0")/.."
. benches/lib.sh
need_redis
[ "$BUILD" = 1 ] && cargo build --release -q --bin shoal-server
WORK=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

cat >"$WORK/load.py" <<'PY'
"""Loads one data shape into a server and prints its memory before and after.

Output: one line "count used_before used_after rss_before rss_after", or
"n/a" when the server rejects the command (e.g. RPUSH before lists exist).
"""
import socket
import sys

port, pid, shape = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
BATCH = 1000  # commands per pipelined write; replies fit the output buffer


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def commands():
    if shape == "strings":
        value = b"v" * 16
        for i in range(1_000_000):
            yield resp(b"SET", b"key:%012d" % i, value)
    elif shape == "hashes":
        pairs = []
        for f in range(10):
            pairs += [b"f%d" % f, b"v%d" % f]
        for i in range(100_000):
            yield resp(b"HSET", b"h:%d" % i, *pairs)
    elif shape == "sets":
        members = [b"%d" % m for m in range(1, 11)]
        for i in range(100_000):
            yield resp(b"SADD", b"s:%d" % i, *members)
    elif shape == "lists":
        items = [b"item%d" % m for m in range(10)]
        for i in range(100_000):
            yield resp(b"RPUSH", b"list:%d" % i, *items)
    else:
        raise SystemExit("unknown shape " + shape)


class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise SystemExit("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        """One reply as bytes (bulk strings only need one level here)."""
        head = self.line()
        if head[:1] == b"$":
            n = int(head[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.s.recv(1 << 16)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        return head

    def call(self, *args):
        self.s.sendall(resp(*args))
        return self.reply()


def used(c):
    info = c.call(b"INFO", b"memory").decode()
    for l in info.split("\r\n"):
        if l.startswith("used_memory:"):
            return int(l.split(":")[1])
    raise SystemExit("no used_memory")


def rss():
    with open("/proc/%d/status" % pid) as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1]) * 1024
    return 0


c = Conn()
u0, r0 = used(c), rss()
count = 0
batch = []


def flush():
    global count
    c.s.sendall(b"".join(batch))
    for _ in batch:
        r = c.reply()
        if r[:1] == b"-":
            print("n/a")
            sys.exit(0)
    count += len(batch)
    batch.clear()


for cmd in commands():
    batch.append(cmd)
    if len(batch) == BATCH:
        flush()
if batch:
    flush()
keys = int(c.call(b"DBSIZE")[1:])
print(keys, u0, used(c), r0, rss())
PY

start() { # name -> sets P and PID
  P=$(port)
  if [ "$1" = shoal ]; then
    target/release/shoal-server --port "$P" --shards 1 >"$WORK/shoal.log" 2>&1 &
  else
    redis-server --port "$P" --save '' --appendonly no --daemonize no >"$WORK/redis.log" 2>&1 &
  fi
  PID=$!; PIDS+=("$PID"); up "$P"
}

echo "used_memory and RSS growth per object: Shoal --shards 1 vs Redis $(redis-server --version | sed -n "s/.*v=\([^ ]*\).*/\1/p")"
printf '%-8s %8s | %12s %12s %7s | %12s %12s %7s | %10s %10s\n' \
  row objects "shoal B/obj" "redis B/obj" ratio "shoal rss/o" "redis rss/o" ratio \
  "shoal rss" "redis rss"
for row in ${ONLY//,/ }; do
  declare -A res=()
  for s in shoal redis; do
    start $s
    res[$s]=$(python3 "$WORK/load.py" "$P" "$PID" "$row")
    kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true
  done
  python3 - "$row" "${res[shoal]}" "${res[redis]}" <<'PY'
import sys
row, s, r = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
if s == ["n/a"] or r == ["n/a"]:
    print("%-8s %8s | %12s %12s %7s | %12s %12s %7s | %10s %10s" % ((row,) + ("n/a",) * 9))
    sys.exit(0)
s, r = list(map(int, s)), list(map(int, r))
per = lambda x, a, b: (x[b] - x[a]) / x[0]
su, ru, sr, rr = per(s, 1, 2), per(r, 1, 2), per(s, 3, 4), per(r, 3, 4)
mb = lambda v: "%.1f MB" % (v / 1e6)
print("%-8s %8d | %12.1f %12.1f %7.3f | %12.1f %12.1f %7.3f | %10s %10s"
      % (row, s[0], su, ru, su / ru, sr, rr, sr / rr, mb(s[4]), mb(r[4])))
PY
done
