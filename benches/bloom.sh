#!/usr/bin/env bash
# Bloom filters on Shoal against the nearest thing plain Redis has, side by
# side on loopback in one run: BF.ADD / BF.EXISTS on Shoal (release build)
# against SADD / SISMEMBER on redis-server, same redis-benchmark flags.
# Prints the median requests/s of several rounds and the ratio shoal/redis.
#
#   benches/bloom.sh [--shards N] [--rounds R] [-n REQUESTS] [-c CLIENTS]
#                    [-r KEYSPACE] [--pipelines "1 16"] [--no-reserve]
#                    [--instructions]
#
# By default the filter is reserved first for the whole keyspace
# (BF.RESERVE bf:key 0.01 <KEYSPACE>), as RedisBloom recommends; with
# --no-reserve BF.ADD creates it with the defaults (capacity 100, expansion
# 2) and it grows to a chain of ~14 sub-filters, each checked by BF.EXISTS.
# Rounds alternate which server goes first; only the ratio of medians is
# worth reading (identical runs on these VMs differ by 20%, and at -P 1 the
# kernel's loopback TCP dominates both servers). --instructions adds what
# repeats within about 1%: user-space instructions per request of each
# server under callgrind, for the same loads (slow: a minute or two).
set -euo pipefail
SHARDS=1 ROUNDS=5 N=200000 C=50 R=1000000 PIPES="1 16" RESERVE=1 INSTR=0
while [ $# -gt 0 ]; do
  case $1 in
    --shards) SHARDS=$2; shift 2;;
    --rounds) ROUNDS=$2; shift 2;;
    -n) N=$2; shift 2;;
    -c) C=$2; shift 2;;
    -r) R=$2; shift 2;;
    --pipelines) PIPES=$2; shift 2;;
    --no-reserve) RESERVE=0; shift;;
    --instructions) INSTR=1; shift;;
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
redis-server --port "$RP" --save '' --appendonly no --daemonize no >"$WORK/redis.log" 2>&1 & PIDS+=("$!")
target/release/shoal-server --port "$SP" --shards "$SHARDS" >"$WORK/shoal.log" 2>&1 & PIDS+=("$!")
up "$RP"; up "$SP"
if [ "$RESERVE" = 1 ]; then
  [ "$(redis-cli -p "$SP" BF.RESERVE bf:key 0.01 "$R")" = OK ] || { echo "BF.RESERVE failed" >&2; exit 1; }
fi

bench() { # port pipeline command... -> rps
  local p=$1 pipe=$2; shift 2
  redis-benchmark -p "$p" -n "$N" -c "$C" -P "$pipe" -r "$R" --csv -q "$@" 2>/dev/null \
    | awk -F'"' 'NR>1 && $2!="" {v=$4} END {print v}'
}

echo "redis-benchmark -n $N -c $C -r $R; Shoal --shards $SHARDS$( [ "$RESERVE" = 1 ] && echo ", BF.RESERVE bf:key 0.01 $R" ); $ROUNDS rounds, medians"
printf '%-10s %-10s %4s %12s %12s %7s\n' shoal redis P shoal_rps redis_rps ratio
for pair in "BF.ADD:SADD" "BF.EXISTS:SISMEMBER"; do
  scmd=${pair%%:*} rcmd=${pair##*:}
  for p in $PIPES; do
    : >"$WORK/s"; : >"$WORK/r"
    for r in $(seq 1 "$ROUNDS"); do
      if [ $((r % 2)) -eq 1 ]; then
        bench "$SP" "$p" "$scmd" bf:key __rand_int__ >>"$WORK/s"
        bench "$RP" "$p" "$rcmd" set:key __rand_int__ >>"$WORK/r"
      else
        bench "$RP" "$p" "$rcmd" set:key __rand_int__ >>"$WORK/r"
        bench "$SP" "$p" "$scmd" bf:key __rand_int__ >>"$WORK/s"
      fi
    done
    s=$(median <"$WORK/s"); rr=$(median <"$WORK/r")
    printf '%-10s %-10s %4s %12.0f %12.0f %7.2f\n' "$scmd" "$rcmd" "$p" "$s" "$rr" "$(python3 -c "print($s/$rr)")"
  done
done
echo
echo "shoal: $(redis-cli -p "$SP" BF.INFO bf:key | paste -sd' ')"
echo "shoal: MEMORY USAGE bf:key $(redis-cli -p "$SP" MEMORY USAGE bf:key); redis: MEMORY USAGE set:key $(redis-cli -p "$RP" MEMORY USAGE set:key) ($(redis-cli -p "$RP" SCARD set:key) members)"

[ "$INSTR" = 1 ] || exit 0
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
# Each server alone under callgrind: reserve the filter as above, fill it
# (or the set) with 100000 adds, warm up with the measured command, zero
# the counters, run 100000 requests, dump.
instructions() { # pipeline add-command command key -- server command... -> instructions per request
  local pipe=$1 add=$2 cmd=$3 key=$4 p; shift 5; p=$(port)
  valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.$p.%p" "$@" --port "$p" >"$WORK/vg.$p.log" 2>&1 &
  local vp=$!; PIDS+=("$vp")
  for _ in $(seq 1 300); do [ "$(redis-cli -p "$p" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
  if [ "$RESERVE" = 1 ] && [ "$add" = BF.ADD ]; then
    redis-cli -p "$p" BF.RESERVE "$key" 0.01 "$R" >/dev/null
  fi
  redis-benchmark -p "$p" -n 100000 -c "$C" -P 16 -r "$R" -q "$add" "$key" __rand_int__ >/dev/null 2>&1
  redis-benchmark -p "$p" -n 20000 -c "$C" -P "$pipe" -r "$R" -q "$cmd" "$key" __rand_int__ >/dev/null 2>&1
  callgrind_control -z "$vp" >/dev/null 2>&1
  redis-benchmark -p "$p" -n 100000 -c "$C" -P "$pipe" -r "$R" -q "$cmd" "$key" __rand_int__ >/dev/null 2>&1
  callgrind_control -d "$vp" >/dev/null 2>&1; sleep 0.5
  local tot; tot=$(cat "$WORK"/cg.$p.*.* 2>/dev/null | awk '/^summary:/ {s+=$2} END {print s+0}')
  kill "$vp" 2>/dev/null; wait "$vp" 2>/dev/null || true
  rm -f "$WORK"/cg.$p.*
  echo $(( tot / 100000 ))
}
echo
echo "user-space instructions per request (callgrind; 100000 adds first, then 100000 requests after 20000 warm-up)"
printf '%-10s %-10s %4s %12s %12s %7s\n' shoal redis P shoal redis ratio
for pair in "BF.ADD:SADD" "BF.EXISTS:SISMEMBER"; do
  scmd=${pair%%:*} rcmd=${pair##*:}
  for p in $PIPES; do
    a=$(instructions "$p" BF.ADD "$scmd" bf:key -- target/release/shoal-server --shards "$SHARDS")
    b=$(instructions "$p" SADD "$rcmd" set:key -- redis-server --save '' --appendonly no)
    printf '%-10s %-10s %4s %12s %12s %7s\n' "$scmd" "$rcmd" "$p" "$a" "$b" "$(python3 -c "print(round($a/$b,2))")"
  done
done
