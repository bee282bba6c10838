#!/usr/bin/env bash
# Pub/sub fan-out, Shoal and redis-server side by side on loopback in one
# run: one publisher (pipelining PUBLISH), SUBSCRIBERS subscribers on one
# channel, fixed-size messages; prints delivered messages per second, the
# median over rounds, and the ratio.
#
#   benches/pubsub.sh [--shards N] [--rounds R] [--subscribers S] [--bytes B] [--seconds T]
set -euo pipefail
SHARDS=$(nproc) ROUNDS=3 SUBS=100 BYTES=64 SECS=4
while [ $# -gt 0 ]; do
  case $1 in
    --shards) SHARDS=$2; shift 2;;
    --rounds) ROUNDS=$2; shift 2;;
    --subscribers) SUBS=$2; shift 2;;
    --bytes) BYTES=$2; shift 2;;
    --seconds) SECS=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
cd "$(dirname "$0")/.."
. benches/lib.sh
need_redis
cargo build --release -q --bin shoal-server --example pubsub_load
LOAD=target/release/examples/pubsub_load
WORK=$(mktemp -d); PIDS=()
trap 'for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
RP=$(port); SP=$(port)
redis-server --port "$RP" --save '' --appendonly no >"$WORK/redis.log" 2>&1 & PIDS+=($!)
target/release/shoal-server --port "$SP" --shards "$SHARDS" >"$WORK/shoal.log" 2>&1 & PIDS+=($!)
up "$RP"; up "$SP"
rate() { "$LOAD" "$1" "$SUBS" "$BYTES" "$SECS" | sed -n 's/.*delivered_per_sec=\([0-9]*\).*/\1/p'; }
: >"$WORK/s"; : >"$WORK/r"
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then rate "$SP" >>"$WORK/s"; rate "$RP" >>"$WORK/r"
  else rate "$RP" >>"$WORK/r"; rate "$SP" >>"$WORK/s"; fi
done
s=$(median <"$WORK/s"); rr=$(median <"$WORK/r")
echo "pub/sub: 1 publisher, $SUBS subscribers, $BYTES-byte messages; Shoal --shards $SHARDS; $ROUNDS rounds, medians"
printf '%-22s %14s %14s %8s\n' metric shoal redis ratio
printf '%-22s %14.0f %14.0f %8.2f\n' delivered_msgs_per_sec "$s" "$rr" "$(python3 -c "print($s/$rr)")"
