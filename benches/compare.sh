#!/usr/bin/env bash
# Shoal and redis-server side by side on loopback, same redis-benchmark flags,
# in one run. Prints the median requests/s of several rounds and the ratio,
# then memory after 1M SETs of 16-byte keys and values. A test that
# redis-benchmark prepares with another (LRANGE_100 runs an LPUSH first) is
# measured by its last line.
#
#   benches/compare.sh [--shards N] [--rounds R] [-n REQUESTS] [-c CLIENTS] [-t TESTS] [--pipelines "1 16"] [--no-memory]
#
# Rounds alternate which server goes first, and only the ratio of medians is
# worth reading: identical runs on these VMs differ by 20%.
set -euo pipefail
SHARDS=1 ROUNDS=5 N=200000 C=50 TESTS="set,get" PIPES="1 16" MEMORY=1
while [ $# -gt 0 ]; do
  case $1 in
    --shards) SHARDS=$2; shift 2;;
    --rounds) ROUNDS=$2; shift 2;;
    -n) N=$2; shift 2;;
    -c) C=$2; shift 2;;
    -t) TESTS=$2; shift 2;;
    --pipelines) PIPES=$2; shift 2;;
    --no-memory) MEMORY=0; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
cd "$(dirname "$0")/.."
. benches/lib.sh
need_redis
cargo build --release -q --bin shoal-server
WORK=$(mktemp -d); PIDS=()
trap 'for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

RP=$(port); SP=$(port)
redis-server --port "$RP" --save '' --appendonly no --daemonize no >"$WORK/redis.log" 2>&1 & RPID=$!; PIDS+=("$RPID")
target/release/shoal-server --port "$SP" --shards "$SHARDS" >"$WORK/shoal.log" 2>&1 & SPID=$!; PIDS+=("$SPID")
up "$RP"; up "$SP"

bench() { # port test pipeline -> rps
  redis-benchmark -p "$1" -t "$2" -n "$N" -c "$C" -P "$3" -r 1000000 -d 16 --csv -q 2>/dev/null \
    | awk -F'"' 'NR>1 && $2!="" {v=$4} END {print v}'
}

echo "redis-benchmark -n $N -c $C -r 1000000 -d 16; Shoal --shards $SHARDS; $ROUNDS rounds, medians"
printf '%-8s %4s %14s %14s %8s\n' test P shoal redis ratio
for t in ${TESTS//,/ }; do
  for p in $PIPES; do
    : >"$WORK/s"; : >"$WORK/r"
    for r in $(seq 1 "$ROUNDS"); do
      if [ $((r % 2)) -eq 1 ]; then
        bench "$SP" "$t" "$p" >>"$WORK/s"; bench "$RP" "$t" "$p" >>"$WORK/r"
      else
        bench "$RP" "$t" "$p" >>"$WORK/r"; bench "$SP" "$t" "$p" >>"$WORK/s"
      fi
    done
    s=$(median <"$WORK/s"); rr=$(median <"$WORK/r")
    printf '%-8s %4s %14.0f %14.0f %8.2f\n' "$t" "$p" "$s" "$rr" "$(python3 -c "print($s/$rr)")"
  done
done

if [ "$MEMORY" = 1 ]; then
  field() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: -v k="$2" '$1==k {print $2}'; }
  rss() { awk '/^VmRSS:/ {print $2*1024}' "/proc/$1/status"; }
  echo
  echo "memory: 1,000,000 SETs, 16-byte keys (key:__rand_int__ over 1e8) and 16-byte values"
  printf '%-6s %10s %14s %14s %12s %12s\n' server keys used_memory rss used/key rss/key
  for s in shoal redis; do
    if [ $s = shoal ]; then p=$SP; pid=$SPID; else p=$RP; pid=$RPID; fi
    redis-cli -p "$p" flushall >/dev/null
    u0=$(field "$p" used_memory); r0=$(rss "$pid")
    redis-benchmark -p "$p" -t set -n 1000000 -c 50 -P 16 -r 100000000 -d 16 -q >/dev/null 2>&1
    keys=$(redis-cli -p "$p" dbsize); u1=$(field "$p" used_memory); r1=$(rss "$pid")
    printf '%-6s %10s %14s %14s %12.1f %12.1f\n' $s "$keys" "$u1" "$r1" \
      "$(python3 -c "print(($u1-$u0)/$keys)")" "$(python3 -c "print(($r1-$r0)/$keys)")"
    echo "$s $keys $u0 $u1 $r0 $r1" >>"$WORK/mem"
  done
  python3 - "$WORK/mem" <<'PY'
import sys
rows = {l.split()[0]: list(map(int, l.split()[1:])) for l in open(sys.argv[1])}
s, r = rows["shoal"], rows["redis"]
per = lambda x, a, b: (x[b] - x[a]) / x[0]
print("ratio (shoal/redis): used_memory/key %.2f  rss/key %.2f" % (per(s, 1, 2) / per(r, 1, 2), per(s, 3, 4) / per(r, 3, 4)))
PY
fi
