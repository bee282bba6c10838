#!/usr/bin/env bash
# redis-cli compatibility checks: drives the stock redis-cli (Debian redis-tools) against a server that is
# already running on 127.0.0.1:PORT and checks that its one-shot, --pipe, --scan, --bigkeys, --memkeys,
# --latency, --stat, -r and interactive (tmux) modes work. Every check must pass against a real redis-server
# too, so each one only asserts what redis-cli itself shows there.
#
# Usage: redis-compat-tests/cli/run.sh --port PORT [--host HOST]
# Exit status: 0 when every check passes, 1 otherwise, 2 on bad usage or setup failure.
# The checks FLUSHALL the target server (db 0) several times: never point this at data you care about.
set -u

host=127.0.0.1
port=""
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="${2:-}"; shift 2 ;;
        --host) host="${2:-}"; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
if ! [[ "$port" =~ ^[0-9]+$ ]]; then
    echo "usage: $0 --port PORT [--host HOST]" >&2
    exit 2
fi

ensure_tools() {
    local missing=()
    command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
    command -v tmux >/dev/null 2>&1 || missing+=(tmux)
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
    echo "installing ${missing[*]} ..."
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
        { echo "could not install ${missing[*]}" >&2; exit 2; }
}
ensure_tools

work="$(mktemp -d)"
tmux_sock="shoal-cli-$$"
cleanup() {
    tmux -L "$tmux_sock" kill-server >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

cli() { redis-cli -h "$host" -p "$port" "$@"; }

passes=0
failures=0
pass() { passes=$((passes + 1)); echo "PASS  $1"; }
fail() { failures=$((failures + 1)); echo "FAIL  $1: $2"; }
# expect NAME EXPECTED ACTUAL
expect() {
    if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "expected $(printf %q "$2"), got $(printf %q "$3")"; fi
}

if [ "$(cli ping 2>&1)" != "PONG" ]; then
    echo "FAIL  connect: no PONG from $host:$port" >&2
    exit 2
fi
started=$SECONDS

# ---------------------------------------------------------------- one-shot commands
cli flushall >/dev/null
expect "one-shot SET" "OK" "$(cli set k v 2>&1)"
expect "one-shot GET" "v" "$(cli get k 2>&1)"
expect "one-shot INCR" "1" "$(cli incr n 2>&1)"
expect "one-shot INCRBY" "42" "$(cli incrby n 41 2>&1)"
expect "one-shot GET missing key (empty line)" "" "$(cli get missing 2>&1)"
expect "one-shot --raw MGET with a nil" $'v\n42\n\nx' "$(cli --raw mget k n missing 2>&1; echo x)"
expect "one-shot --raw MGET" $'v\n42' "$(cli --raw mget k n 2>&1)"
expect "one-shot array reply (non-tty output)" $'v\n\n42' "$(cli mget k missing n 2>&1)"
expect "one-shot binary-safe value" "a b	c" "$(cli set sp 'a b	c' >/dev/null; cli --raw get sp 2>&1)"

# -x reads the last argument from stdin verbatim (a trailing newline included).
printf 'line one\nline two\n' | cli -x set fromstdin >/dev/null 2>&1
expect "-x SET from stdin: value" "$(printf 'line one\nline two\n' | od -An -c)" "$(cli --raw getrange fromstdin 0 -1 | head -c 18 | od -An -c)"
expect "-x SET from stdin: STRLEN" "18" "$(cli strlen fromstdin 2>&1)"
expect "-x APPEND from stdin" "21" "$(printf 'end' | cli -x append fromstdin 2>&1)"

# Without -e, redis-cli 7.0 prints error replies on stdout (followed by an empty line) and exits 0; with -e it
# prints them on stderr and exits 1.
out="$(cli incr k 2>/dev/null; echo "rc=$?")"
expect "error reply: stdout, exit 0" $'ERR value is not an integer or out of range\n\nrc=0' "$out"
out="$(cli -e incr k 2>&1 >/dev/null; echo "rc=$?")"
expect "error reply with -e: stderr, exit 1" $'ERR value is not an integer or out of range\nrc=1' "$out"
cli -e get k >/dev/null 2>&1; rc=$?
expect "success with -e: exit 0" "0" "$rc"
err="$(cli nosuchcommand a b 2>&1)"
expect "unknown command error" "ERR unknown command 'nosuchcommand', with args beginning with: 'a' 'b' " "$err"
err="$(cli get 2>&1)"
expect "arity error" "ERR wrong number of arguments for 'get' command" "$err"
cli -e set k v xx nx >/dev/null 2>&1; rc=$?
expect "syntax error with -e: exit 1" "1" "$rc"

# ---------------------------------------------------------------- -r N
cli del counter >/dev/null
out="$(cli -r 5 incr counter 2>&1)"
expect "-r 5 INCR output" $'1\n2\n3\n4\n5' "$out"
expect "-r 5 INCR counter = 5" "5" "$(cli get counter 2>&1)"
out="$(cli -r 3 -i 0.01 ping 2>&1)"
expect "-r 3 -i 0.01 PING" $'PONG\nPONG\nPONG' "$out"

# ---------------------------------------------------------------- --scan --pattern
cli flushall >/dev/null
{
    for i in $(seq 1 250); do printf 'SET user:%d v\nSET session:%d v\n' "$i" "$i"; done
    printf 'SET xuser:1 v\nSET user v\nSET User:1 v\nSET user: empty\n'
} | cli >/dev/null 2>&1
{ for i in $(seq 1 250); do echo "user:$i"; done; echo "user:"; } | LC_ALL=C sort >"$work/scan.expected"
cli --scan --pattern 'user:*' 2>&1 | LC_ALL=C sort >"$work/scan.actual"
if cmp -s "$work/scan.expected" "$work/scan.actual"; then
    pass "--scan --pattern 'user:*' ($(wc -l <"$work/scan.actual") keys)"
else
    fail "--scan --pattern 'user:*'" "diff expected actual: $(diff "$work/scan.expected" "$work/scan.actual" | head -5 | tr '\n' ' ')"
fi
expect "--scan (no pattern) sees every key" "504" "$(cli --scan 2>&1 | sort -u | wc -l)"
expect "--scan --pattern 'user:1?'" $'user:10\nuser:11\nuser:12\nuser:13\nuser:14\nuser:15\nuser:16\nuser:17\nuser:18\nuser:19' \
    "$(cli --scan --pattern 'user:1?' 2>&1 | LC_ALL=C sort)"

# ---------------------------------------------------------------- --bigkeys / --memkeys
big="$(head -c 10000 /dev/zero | tr '\0' 'x')"
cli set big:string "$big" >/dev/null
cli set medium:string "$(head -c 2000 /dev/zero | tr '\0' 'y')" >/dev/null
cli set counter:int 12345 >/dev/null
out="$(cli --bigkeys 2>&1)"; rc=$?
if [ $rc -ne 0 ]; then
    fail "--bigkeys" "exit $rc: $(echo "$out" | tail -3 | tr '\n' ' ')"
elif ! grep -q "Biggest string found '\"big:string\"' has 10000 bytes" <<<"$out"; then
    fail "--bigkeys" "no \"Biggest string found '\"big:string\"' has 10000 bytes\" in output: $(grep -i -m3 -E 'biggest|error|warn' <<<"$out" | tr '\n' ' ')"
elif ! grep -q "Sampled 507 keys in the keyspace" <<<"$out"; then
    fail "--bigkeys" "expected 'Sampled 507 keys': $(grep -m1 Sampled <<<"$out")"
else
    pass "--bigkeys (big:string, 10000 bytes, 507 keys sampled)"
fi

out="$(cli --memkeys 2>&1)"; rc=$?
if [ $rc -ne 0 ]; then
    fail "--memkeys" "exit $rc: $(echo "$out" | tail -3 | tr '\n' ' ')"
elif grep -q "Warning" <<<"$out"; then
    fail "--memkeys" "$(grep -c Warning <<<"$out") warnings, first: $(grep -m1 Warning <<<"$out") (MEMORY USAGE big:string -> $(cli memory usage big:string 2>&1 | head -1))"
elif ! grep -Eq "Biggest string found '\"big:string\"' has [0-9]+ bytes" <<<"$out"; then
    fail "--memkeys" "big:string not reported as the biggest string: $(grep -m2 -i biggest <<<"$out" | tr '\n' ' ')"
else
    bytes="$(grep -Eo "Biggest string found '\"big:string\"' has [0-9]+" <<<"$out" | grep -Eo '[0-9]+$')"
    if [ "$bytes" -ge 10000 ]; then
        pass "--memkeys (big:string, $bytes bytes)"
    else
        fail "--memkeys" "big:string reported at $bytes bytes, less than its 10000-byte value"
    fi
fi

# ---------------------------------------------------------------- --pipe mass insertion
cli flushall >/dev/null
# RESP generated by awk: SET pipe:N val:N for N in 1..99990, then 10 other commands so the replies mix types.
awk 'BEGIN {
    for (i = 1; i <= 99990; i++) {
        k = "pipe:" i; v = "val:" i
        printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
    }
    for (i = 1; i <= 5; i++) printf "*2\r\n$4\r\nINCR\r\n$8\r\npipe:ctr\r\n"
    for (i = 1; i <= 5; i++) printf "*2\r\n$3\r\nGET\r\n$7\r\npipe:77\r\n"
}' >"$work/mass.resp"
out="$(cli --pipe <"$work/mass.resp" 2>&1)"; rc=$?
if [ $rc -eq 0 ] && grep -q "errors: 0, replies: 100000" <<<"$out"; then
    pass "--pipe 100000 commands (errors: 0, replies: 100000)"
else
    fail "--pipe 100000 commands" "exit $rc, output: $(tail -2 <<<"$out" | tr '\n' ' ')"
fi
expect "--pipe DBSIZE afterwards" "99991" "$(cli dbsize 2>&1)"
expect "--pipe values landed" $'val:1\nval:50000\nval:99990\n5' "$(cli mget pipe:1 pipe:50000 pipe:99990 pipe:ctr 2>&1)"
# --pipe counts error replies and exits 1 when there are any.
printf '*2\r\n$4\r\nINCR\r\n$6\r\npipe:1\r\n*1\r\n$4\r\nPING\r\n' >"$work/err.resp"
out="$(cli --pipe <"$work/err.resp" 2>&1)"; rc=$?
if [ $rc -eq 1 ] && grep -q "errors: 1, replies: 2" <<<"$out" && grep -q "ERR value is not an integer" <<<"$out"; then
    pass "--pipe with an error reply (errors: 1, replies: 2, exit 1)"
else
    fail "--pipe with an error reply" "exit $rc, output: $(tr '\n' ' ' <<<"$out")"
fi
cli flushall >/dev/null

# ---------------------------------------------------------------- --latency (3 s)
# Non-tty --latency samples for the -i interval, then prints "min max avg samples" once and exits.
out="$(timeout 10 redis-cli -h "$host" -p "$port" --latency -i 3 --raw 2>&1)"; rc=$?
if [ $rc -ne 0 ]; then
    fail "--latency -i 3" "exit $rc: $out"
elif read -r lmin lmax lavg lcount rest <<<"$out" &&
    [[ "$lmin" =~ ^[0-9]+$ && "$lmax" =~ ^[0-9]+$ && "$lavg" =~ ^[0-9]+\.[0-9]+$ && "$lcount" =~ ^[0-9]+$ ]] &&
    [ -z "$rest" ] && [ "$lcount" -ge 50 ] && [ "$lmin" -le "$lmax" ] &&
    awk -v a="$lavg" -v lo="$lmin" -v hi="$lmax" 'BEGIN { exit !(a >= lo && a <= hi) }'; then
    pass "--latency -i 3 (min $lmin, max $lmax, avg $lavg ms over $lcount samples)"
else
    fail "--latency -i 3" "unparsable or inconsistent 'min max avg samples': $(printf %q "$out")"
fi

# ---------------------------------------------------------------- --stat (3 s)
cli set stat:a 1 >/dev/null
cli set stat:b 2 >/dev/null
# --stat never exits by itself: stop it with SIGINT like a user would; stdbuf keeps its rows from being lost in
# a stdio buffer when stdout is a pipe.
out="$(timeout -s INT 3 stdbuf -oL redis-cli -h "$host" -p "$port" --stat -i 1 2>&1)"
header="$(grep -m1 -E '^keys +mem +clients +blocked +requests +connections' <<<"$out")"
rows="$(grep -E '^[0-9]+ +[0-9.]+[BKMGT]? +[0-9]+ +[0-9]+ +[0-9]+ \(\+[0-9]+\) +[0-9]+ *$' <<<"$out")"
nrows="$(grep -c . <<<"$rows")"
if [ -z "$header" ]; then
    fail "--stat" "no 'keys mem clients blocked requests connections' header: $(head -3 <<<"$out" | tr '\n' '|')"
elif [ "$nrows" -lt 2 ]; then
    fail "--stat" "only $nrows data rows parsed: $(tr '\n' '|' <<<"$out")"
else
    keys_col="$(awk 'NR == 1 { print $1 }' <<<"$rows")"
    req_first="$(awk 'NR == 1 { print $5 }' <<<"$rows")"
    req_last="$(awk 'END { print $5 }' <<<"$rows")"
    if [ "$keys_col" != "2" ]; then
        fail "--stat" "keys column is $keys_col, expected 2"
    elif [ "$req_last" -le "$req_first" ]; then
        fail "--stat" "requests column did not grow ($req_first -> $req_last)"
    else
        pass "--stat -i 1 ($nrows rows, keys 2, requests $req_first -> $req_last)"
    fi
fi
cli flushall >/dev/null

# ---------------------------------------------------------------- interactive mode under tmux
tm() { tmux -L "$tmux_sock" "$@"; }
pane() { tm capture-pane -p -t cli 2>/dev/null; }
# wait_pane REGEX [SECONDS]: poll the pane until a line matches.
wait_pane() {
    local deadline=$((SECONDS + ${2:-5}))
    while [ $SECONDS -lt $deadline ]; do
        pane | grep -Eq -- "$1" && return 0
        sleep 0.1
    done
    return 1
}
prompt="$host:$port>"
run_interactive() {
    # The command is typed, then we wait for the prompt line that follows its reply before typing the next.
    local cmd="$1" reply="$2"
    tm send-keys -t cli -l "$cmd"
    tm send-keys -t cli Enter
    if wait_pane "^$(sed 's/[.]/\\./g' <<<"$prompt") $cmd\$" 3 &&
        pane | grep -A1 -Fx -- "$prompt $cmd" | tail -1 | grep -Fxq -- "$reply"; then
        pass "interactive: $cmd -> $reply"
    else
        fail "interactive: $cmd" "expected reply line $(printf %q "$reply"), pane: $(pane | grep -v '^$' | tail -4 | tr '\n' '|')"
    fi
}
if ! tm -f /dev/null new-session -d -x 220 -y 50 -s cli "TERM=xterm redis-cli -h $host -p $port"; then
    fail "interactive: tmux" "could not start a tmux session"
elif ! wait_pane "^$(sed 's/[.]/\\./g' <<<"$prompt") ?\$" 5; then
    fail "interactive: prompt" "no '$prompt' prompt: $(pane | grep -v '^$' | tr '\n' '|')"
else
    pass "interactive: prompt '$prompt' appears"
    tm send-keys -t cli -l "SET "
    if wait_pane 'SET key value \[NX\|XX\]' 3; then
        pass "interactive: hint after 'SET ': $(pane | grep -m1 -o 'key value \[NX|XX\].\{0,20\}')..."
    else
        fail "interactive: hint" "no 'key value [NX|XX] ...' hint after typing 'SET ': $(pane | grep -v '^$' | tail -2 | tr '\n' '|')"
    fi
    # Clear the typed "SET " (Ctrl-U) so each command starts on an empty line.
    tm send-keys -t cli C-u
    tm send-keys -t cli C-l
    sleep 0.2
    run_interactive "set greeting hello" "OK"
    run_interactive "get greeting" '"hello"'
    run_interactive "incr visits" "(integer) 1"
    run_interactive "incr visits" "(integer) 2"
    run_interactive "ping" "PONG"
    run_interactive "get nothing" "(nil)"
    run_interactive "incr greeting" "(error) ERR value is not an integer or out of range"
    tm send-keys -t cli -l "quit"
    tm send-keys -t cli Enter
    deadline=$((SECONDS + 3))
    while tm has-session -t cli 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if tm has-session -t cli 2>/dev/null; then
        fail "interactive: quit" "redis-cli still running 3 s after 'quit'"
    else
        pass "interactive: quit exits redis-cli"
    fi
fi
cli flushall >/dev/null

echo "redis-cli checks against $host:$port: $passes passed, $failures failed ($((SECONDS - started)) s)"
[ $failures -eq 0 ]
