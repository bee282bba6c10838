# Helpers shared by the bench scripts; source it from the repository root.

# Installs Debian's redis-server and redis-tools unless both are there.
need_redis() {
  command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null && return 0
  local sudo=""
  [ "$(id -u)" != 0 ] && sudo="sudo -n"
  $sudo apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server redis-tools >/dev/null
}

# A free loopback TCP port.
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# Waits (10 s at most) until the server on port $1 answers PING.
up() {
  for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.1
  done
  echo "server on $1 did not start" >&2
  exit 1
}

# The median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
