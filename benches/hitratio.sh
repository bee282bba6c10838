#!/usr/bin/env bash
# Eviction under a memory limit, Shoal next to redis-server with the same
# maxmemory, each run on freshly started servers (examples/hitratio.rs is
# the client; deterministic seeds, so both servers get the same requests):
#
#   1. hit ratio of a cache-aside replay (GET, SET on a miss) of
#      - zipf: Zipf(0.99) over KEYS keys
#      - scan: the same, with 30% of the requests one-off scans
#      under allkeys-lru and allkeys-lfu;
#   2. the peak used_memory and RSS during those runs, against maxmemory;
#   3. throughput while evicting: random-key SETs (8 connections, 32
#      pipelined each) until 2x maxmemory of keys and values was written,
#      Shoal with one shard and with the default count.
#
# Checks (exit status 1 if one fails): Shoal's hit ratio >= Redis's in
# every row; Shoal's peak RSS <= 1.10 x maxmemory + BASE_MB (the RSS of an
# idle Shoal is ~4 MB; the base also covers the allocator's per-thread
# arenas and free lists); SET throughput while evicting >= Redis's with
# one shard, the same one server thread Redis runs on (the default shard
# count is printed beside it).
#
#   benches/hitratio.sh [--no-build] [--maxmemory-mb 32] [--keys 1000000]
#                       [--ops 2000000] [--shards N] [--base-mb 16]
set -euo pipefail
BUILD=1 MAXMB=32 KEYS=1000000 OPS=2000000 SHARDS=$(nproc) BASE_MB=16 SEED=42
while [ $# -gt 0 ]; do
  case $1 in
    --no-build) BUILD=0; shift;;
    --maxmemory-mb) MAXMB=$2; shift 2;;
    --keys) KEYS=$2; shift 2;;
    --ops) OPS=$2; shift 2;;
    --shards) SHARDS=$2; shift 2;;
    --base-mb) BASE_MB=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
cd "$(dirname "$0")/.."
. benches/lib.sh
need_redis
[ "$BUILD" = 1 ] && cargo build --release -q --bin shoal-server --example hitratio
LOAD=target/release/examples/hitratio
WORK=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
MAXBYTES=$((MAXMB * 1024 * 1024))

# start NAME POLICY -> sets PORT and SPID
start() {
  PORT=$(port)
  if [ "$1" = shoal ]; then
    target/release/shoal-server --port "$PORT" --shards "$SHARDS" --maxmemory "${MAXMB}mb" \
      --maxmemory-policy "$2" >"$WORK/shoal.log" 2>&1 &
  else
    redis-server --port "$PORT" --save '' --appendonly no --maxmemory "${MAXMB}mb" \
      --maxmemory-policy "$2" >"$WORK/redis.log" 2>&1 &
  fi
  SPID=$!; PIDS+=("$SPID"); up "$PORT"
}
stop() { kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
idle_rss() { redis-cli -p "$PORT" info memory | tr -d '\r' | sed -n 's/^used_memory_rss://p'; }

FAIL=0
declare -A PEAK_RSS PEAK_USED
note_peaks() { # server line
  local rss used; rss=$(field peak_rss <<<"$2"); used=$(field peak_used <<<"$2")
  [ "${PEAK_RSS[$1]:-0}" -lt "$rss" ] && PEAK_RSS[$1]=$rss
  [ "${PEAK_USED[$1]:-0}" -lt "$used" ] && PEAK_USED[$1]=$used
  return 0
}

echo "maxmemory ${MAXMB} MB; Shoal --shards $SHARDS; $KEYS keys, $OPS requests per trace, values 40-215 bytes"
printf '%-12s %-5s %9s %9s %8s\n' policy trace shoal redis diff
for policy in allkeys-lru allkeys-lfu; do
  for trace in zipf scan; do
    start shoal "$policy"
    [ -z "${SHOAL_IDLE_RSS:-}" ] && SHOAL_IDLE_RSS=$(idle_rss)
    s=$("$LOAD" trace "$PORT" "$trace" "$KEYS" "$OPS" "$SEED"); stop
    start redis "$policy"
    r=$("$LOAD" trace "$PORT" "$trace" "$KEYS" "$OPS" "$SEED"); stop
    note_peaks shoal "$s"; note_peaks redis "$r"
    hs=$(field hit_ratio <<<"$s"); hr=$(field hit_ratio <<<"$r")
    printf '%-12s %-5s %9.4f %9.4f %+8.4f\n' "$policy" "$trace" "$hs" "$hr" "$(python3 -c "print($hs-$hr)")"
    python3 -c "import sys; sys.exit(0 if $hs >= $hr else 1)" || { echo "  FAIL: Shoal's hit ratio is below Redis's"; FAIL=1; }
  done
done

echo
echo "throughput while evicting: random-key SET (allkeys-lru, 8 connections, 32 pipelined)"
echo "until $((2 * MAXMB)) MB written; median of 3 rounds"
: >"$WORK/t.redis"; : >"$WORK/t.shoal1"; : >"$WORK/t.shoaln"
for round in 1 2 3; do
  start redis allkeys-lru; r=$("$LOAD" fill "$PORT" $((2 * MAXBYTES)) "$round" 8); stop
  note_peaks redis "$r"; field ops_per_sec <<<"$r" >>"$WORK/t.redis"
  SAVED=$SHARDS; SHARDS=1
  start shoal allkeys-lru; s=$("$LOAD" fill "$PORT" $((2 * MAXBYTES)) "$round" 8); stop
  SHARDS=$SAVED
  note_peaks shoal "$s"; field ops_per_sec <<<"$s" >>"$WORK/t.shoal1"
  start shoal allkeys-lru; s=$("$LOAD" fill "$PORT" $((2 * MAXBYTES)) "$round" 8); stop
  note_peaks shoal "$s"; field ops_per_sec <<<"$s" >>"$WORK/t.shoaln"
done
orr=$(median <"$WORK/t.redis"); o1=$(median <"$WORK/t.shoal1"); on=$(median <"$WORK/t.shoaln")
printf '%-26s %12s %12s %7s\n' metric shoal redis ratio
printf '%-26s %12.0f %12.0f %7.2f\n' "set_ops_per_sec shards=1" "$o1" "$orr" "$(python3 -c "print($o1/$orr)")"
printf '%-26s %12.0f %12.0f %7.2f\n' "set_ops_per_sec shards=$SHARDS" "$on" "$orr" "$(python3 -c "print($on/$orr)")"
# With one shard, Shoal's server runs on one thread as Redis's does; with
# more, on a machine with few cores the load generator competes with them.
python3 -c "import sys; sys.exit(0 if $o1 >= $orr else 1)" || { echo "  FAIL: Shoal (one shard) evicts slower than Redis"; FAIL=1; }

echo
echo "memory over all runs (peaks, MB; maxmemory $MAXMB)"
mb() { python3 -c "print(f'{$1/1048576:.1f}')"; }
printf '%-22s %12s %12s\n' metric shoal redis
printf '%-22s %12s %12s\n' peak_used_memory "$(mb "${PEAK_USED[shoal]}")" "$(mb "${PEAK_USED[redis]}")"
printf '%-22s %12s %12s\n' peak_rss "$(mb "${PEAK_RSS[shoal]}")" "$(mb "${PEAK_RSS[redis]}")"
printf '%-22s %12s %12s\n' peak_rss/maxmemory "$(python3 -c "print(f'{${PEAK_RSS[shoal]}/$MAXBYTES:.3f}')")" "$(python3 -c "print(f'{${PEAK_RSS[redis]}/$MAXBYTES:.3f}')")"
echo "Shoal idle RSS: $(mb "$SHOAL_IDLE_RSS") MB; bound: 1.10 x maxmemory + $BASE_MB MB = $(python3 -c "print(f'{1.1*$MAXMB+$BASE_MB:.1f}')") MB"
python3 -c "import sys; sys.exit(0 if ${PEAK_RSS[shoal]} <= 1.1*$MAXBYTES + $BASE_MB*1048576 else 1)" || { echo "  FAIL: Shoal's RSS exceeds the bound"; FAIL=1; }
[ "$FAIL" = 0 ] && echo "all checks passed"
exit "$FAIL"
