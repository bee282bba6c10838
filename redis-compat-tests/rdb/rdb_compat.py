#!/usr/bin/env python3
"""RDB interoperability between redis-server 7.0 and Shoal's RDB layer.

a) A redis-server fills every type in every encoding it has, saves, and
   `rdb_tool dump` of its dump.rdb must equal what the server itself answers
   (read back over RESP), line for line. Done three times: saved under an
   LRU policy (IDLE records), under LFU (FREQ records), and with
   rdbcompression and rdbchecksum off.
b) `rdb_tool write` turns those lines into an RDB file; redis-check-rdb must
   accept it, and a fresh redis-server started on it must answer
   identically, with the same OBJECT ENCODING for every key as the first
   server has after reloading its own file (DEBUG RELOAD).

Python stdlib only: the servers are spoken to over raw RESP sockets, so keys
and values are binary-safe. Exits non-zero on any mismatch.

    rdb_compat.py --tool target/release/examples/rdb_tool [--ports 7541,7542]
"""

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time


class Resp:
    """A minimal RESP2 client."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RuntimeError(rest.decode("latin-1"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2 :]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)

    @staticmethod
    def _encode(args):
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode("latin-1")
            elif isinstance(a, int):
                a = str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(parts)

    def call(self, *args):
        self.sock.sendall(self._encode(args))
        return self._reply()

    def pipeline(self, commands):
        """Sends many commands at once; returns their replies."""
        self.sock.sendall(b"".join(self._encode(c) for c in commands))
        return [self._reply() for _ in commands]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, port, workdir, dbfilename, extra=()):
        self.port = port
        self.dir = workdir
        self.log = open(os.path.join(workdir, "redis-%d.log" % port), "w")
        args = [
            "redis-server",
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", workdir,
            "--dbfilename", dbfilename,
            "--save", "",
            "--appendonly", "no",
            "--enable-debug-command", "yes",
            "--list-compress-depth", "1",
            "--maxmemory-policy", "allkeys-lru",
        ] + list(extra)
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while True:
            try:
                c = Resp(port)
                if c.call("PING") == b"PONG":
                    self.conn = c
                    return
                c.close()
            except (OSError, RuntimeError):
                # RuntimeError: "LOADING ..." while a file loads.
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.log.flush()
                with open(self.log.name) as f:
                    sys.stderr.write(f.read()[-3000:])
                raise RuntimeError("redis-server on port %d did not start" % port)
            time.sleep(0.05)

    def stop(self):
        try:
            self.conn.call("SHUTDOWN", "NOSAVE")
        except (OSError, RuntimeError, ConnectionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# ---- the data set -------------------------------------------------------------

LIBRARY = (
    "#!lua name=rdbtest\n"
    "redis.register_function('rdb_echo', function(keys, args) return args[1] end)\n"
)

# Keys whose encoding on the first server proves a case is covered.
EXPECTED_ENCODINGS = {
    (0, b"str:int"): "int",
    (0, b"str:short"): "embstr",
    (0, b"str:long"): "raw",
    (0, b"str:append"): "raw",
    (0, b"list:small"): "quicklist",
    (0, b"list:large"): "quicklist",
    (0, b"list:plain"): "quicklist",
    (0, b"hash:small"): "listpack",
    (0, b"hash:large"): "hashtable",
    (0, b"hash:longvalue"): "hashtable",
    (0, b"set:intset16"): "intset",
    (0, b"set:intset32"): "intset",
    (0, b"set:intset64"): "intset",
    (0, b"set:strings"): "hashtable",
    (0, b"set:bigints"): "hashtable",
    (0, b"zset:small"): "listpack",
    (0, b"zset:large"): "skiplist",
    (0, b"zset:longmember"): "skiplist",
}


def fill(r, rng):
    now_ms = int(time.time() * 1000)
    cmds = []
    # Strings: integer encodings, embstr, raw, LZF-compressible, binary.
    for k, v in [
        ("str:int", "42"),
        ("str:neg", "-7"),
        ("str:zero", "0"),
        ("str:i8min", "-128"),
        ("str:i16", "-32768"),
        ("str:i32max", "2147483647"),
        ("str:beyond32", "2147483648"),
        ("str:i64max", "9223372036854775807"),
        ("str:i64min", "-9223372036854775808"),
        ("str:notint", "007"),
        ("str:minus0", "-0"),
        ("str:float", "3.14"),
        ("str:short", "hello"),
        ("str:empty", ""),
        ("str:20", "b" * 20),
        ("str:21", "a" * 21),
        ("str:long", "the quick brown fox jumps over the lazy dog " * 30),
        ("str:huge", "".join("row %d of a compressible value\n" % i for i in range(8000))),
    ]:
        cmds.append(("SET", k, v))
    cmds.append(("SET", "str:random", bytes(rng.randrange(256) for _ in range(500))))
    cmds.append(("SET", "str:binary", bytes(range(256))))
    cmds.append(("SET", "str:append", "ab"))
    cmds.append(("APPEND", "str:append", "cd"))
    # Lists: small, multi-node (compressed middle nodes), big elements,
    # every listpack integer width.
    cmds.append(("RPUSH", "list:small", "a", "1", "-1", "", "hello", "12345678901234567890"))
    large = ["item:%d:%s" % (i, "x" * (i % 50)) if i % 4 else str(i * 997) for i in range(6000)]
    for i in range(0, len(large), 500):
        cmds.append(("RPUSH", "list:large", *large[i : i + 500]))
    cmds.append(("RPUSH", "list:bigelems", "y" * 10000, "small", "z" * 30000))
    ints = [0, 127, 128, -1, -4096, 4095, 4096, 32767, -32768, 32768, 8388607,
            -8388608, 8388608, 2147483647, -2147483648, 2147483648,
            9223372036854775807, -9223372036854775808]
    cmds.append(("RPUSH", "list:ints", *[str(i) for i in ints]))
    cmds.append(("LPUSH", "list:lpush", *["v%d" % i for i in range(300)]))
    # Hashes.
    cmds.append(("HSET", "hash:small", "name", "shoal", "1", "-5", "empty", "", "big", "123456789012"))
    for i in range(0, 1000, 250):
        pairs = []
        for j in range(i, i + 250):
            pairs += ["field:%d" % j, str(j * 31) if j % 2 else "value-%d" % j]
        cmds.append(("HSET", "hash:large", *pairs))
    cmds.append(("HSET", "hash:longvalue", "f", "v" * 100, "g", "1"))
    # Sets: intsets of each width, hash tables.
    cmds.append(("SADD", "set:intset16", "1", "2", "3", "-5", "32767"))
    cmds.append(("SADD", "set:intset32", "1", "70000", "-2147483648"))
    cmds.append(("SADD", "set:intset64", "1", "9223372036854775807", "-9223372036854775808"))
    cmds.append(("SADD", "set:strings", "a", "b", "007", "", "hello world"))
    cmds.append(("SADD", "set:bigints", *[str(i * 7) for i in range(1000)]))
    cmds.append(("SADD", "set:mixed", "1", "2", "x"))
    # Sorted sets.
    cmds.append(("ZADD", "zset:small", "1", "a", "1.5", "b", "0.1", "c", "inf", "d", "-inf", "e",
                 "1e15", "f", "-2.5", "g", "4611686018427387904", "h", "0", "i", "10", "10"))
    for i in range(0, 500, 100):
        args = []
        for j in range(i, i + 100):
            args += [repr(rng.choice([j * 0.25, -j, j / 3.0, 1e20 + j])), "member:%d" % j]
        cmds.append(("ZADD", "zset:large", *args))
    cmds.append(("ZADD", "zset:large", "inf", "top", "-inf", "bottom"))
    cmds.append(("ZADD", "zset:longmember", "1", "m" * 100, "2", "x"))
    # TTLs.
    for k in ["str:int", "list:small", "hash:small", "set:intset16", "zset:small", "str:long"]:
        cmds.append(("PEXPIREAT", k, now_ms + 86_400_000 + rng.randrange(1000000)))
    r.pipeline(cmds)
    # Quicklist PLAIN nodes: elements above the packed threshold.
    r.call("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1000")
    r.call("RPUSH", "list:plain", "p" * 5000, "small", "q" * 3000, "tail")
    r.call("DEBUG", "QUICKLIST-PACKED-THRESHOLD", str(1 << 30))
    # Other databases, binary keys and values.
    for db, keys in [
        (1, [(b"\x00\xff\r\nbinary key", b"\x00\x01\x02\xfe\xff"), (b"db1", b"one")]),
        (5, [(b"\xe9t\xe9", b"caf\xc3\xa9"), (b'quote"back\\slash', b"\t\x7f"),
             (b"12345", b"an integer key"), (b"-1", b"-2")]),
        (15, [(b"last-db", b"x" * 50)]),
    ]:
        r.call("SELECT", db)
        for k, v in keys:
            r.call("SET", k, v)
        r.call("RPUSH", b"list\x00" + str(db).encode(), b"\x00", b"\xff")
        r.call("PEXPIREAT", keys[0][0], now_ms + 3_600_000 + db)
    r.call("SELECT", 0)
    r.call("FUNCTION", "LOAD", LIBRARY)


# ---- canonical lines ------------------------------------------------------------


def text(b):
    return b.decode("latin-1")


def canonical(r, databases=16):
    """The server's data as the lines `rdb_tool dump` prints."""
    lines = []
    for lib in r.call("FUNCTION", "LIST", "WITHCODE"):
        fields = dict(zip(lib[::2], lib[1::2]))
        lines.append((0, b"", json.dumps({"function": text(fields[b"library_code"])},
                                        ensure_ascii=True, separators=(",", ":"))))
    keys_lines = []
    for db in range(databases):
        r.call("SELECT", db)
        keys = set()
        cursor = b"0"
        while True:
            cursor, batch = r.call("SCAN", cursor, "COUNT", 1000)
            keys.update(batch)
            if cursor == b"0":
                break
        for k in sorted(keys):
            t = text(r.call("TYPE", k))
            exp = r.call("PEXPIRETIME", k)
            if t == "string":
                v = text(r.call("GET", k))
            elif t == "list":
                v = [text(x) for x in r.call("LRANGE", k, 0, -1)]
            elif t == "set":
                v = [text(x) for x in sorted(r.call("SMEMBERS", k))]
            elif t == "hash":
                flat = r.call("HGETALL", k)
                v = sorted([text(f), text(x)] for f, x in zip(flat[::2], flat[1::2]))
            elif t == "zset":
                flat = r.call("ZRANGE", k, 0, -1, "WITHSCORES")
                v = [[text(m), text(s)] for m, s in zip(flat[::2], flat[1::2])]
            else:
                raise RuntimeError("unexpected type %s" % t)
            line = json.dumps(
                {"db": db, "key": text(k), "type": t, "expire": 0 if exp < 0 else exp, "value": v},
                ensure_ascii=True, separators=(",", ":"))
            keys_lines.append((db, k, line))
    r.call("SELECT", 0)
    return [l for _, _, l in sorted(lines)] + [l for _, _, l in keys_lines]


def encodings(r, databases=16):
    out = {}
    for db in range(databases):
        r.call("SELECT", db)
        cursor = b"0"
        while True:
            cursor, batch = r.call("SCAN", cursor, "COUNT", 1000)
            for k in batch:
                out[(db, k)] = text(r.call("OBJECT", "ENCODING", k))
            if cursor == b"0":
                break
    r.call("SELECT", 0)
    return out


def tool_dump(tool, path):
    p = subprocess.run([tool, "dump", path], capture_output=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("rdb_tool dump %s failed: %s" % (path, p.stderr.decode(errors="replace")))
    return p.stdout.decode("ascii").splitlines()


def compare(label, want, got):
    if want == got:
        print("ok    %s (%d lines)" % (label, len(want)))
        return True
    print("FAIL  %s" % label)
    ws, gs = set(want), set(got)
    for l in want:
        if l not in gs:
            print("  missing: %s" % l[:300])
    for l in got:
        if l not in ws:
            print("  extra:   %s" % l[:300])
    if ws == gs:
        print("  (same lines, different order or counts)")
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True, help="path to the rdb_tool example binary")
    ap.add_argument("--ports", help="two ports to use (default: free ones)")
    args = ap.parse_args()
    tool = os.path.abspath(args.tool)
    if args.ports:
        port_a, port_b = (int(p) for p in args.ports.split(","))
    else:
        port_a = free_port()
        port_b = free_port()
        while port_b == port_a:
            port_b = free_port()
    work = tempfile.mkdtemp(prefix="shoal-rdb.")
    dir_a = os.path.join(work, "redis")
    dir_b = os.path.join(work, "from-shoal")
    os.makedirs(dir_a)
    os.makedirs(dir_b)
    rng = random.Random(20240607)
    ok = True
    servers = []
    try:
        # -- a) Redis writes, Shoal's reader reads -----------------------------
        a = Server(port_a, dir_a, "dump.rdb")
        servers.append(a)
        fill(a.conn, rng)
        enc = encodings(a.conn)
        for key, want in EXPECTED_ENCODINGS.items():
            if enc.get(key) != want:
                print("FAIL  coverage: %r is %s on redis-server, the test wants %s"
                      % (key, enc.get(key), want))
                ok = False
        want = canonical(a.conn)
        dump_path = os.path.join(dir_a, "dump.rdb")
        passes = [
            ("redis-server dump.rdb (LRU: IDLE records) read by rdb_tool", []),
            ("redis-server dump.rdb (LFU: FREQ records) read by rdb_tool",
             [("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")]),
        ]
        for label, setup in passes:
            for c in setup:
                a.conn.call(*c)
            a.conn.call("SAVE")
            ok &= compare(label, want, tool_dump(tool, dump_path))
        # rdbchecksum is immutable: a third server, started on a copy of
        # the file, saves it uncompressed with a zero checksum.
        dir_c = os.path.join(work, "plain")
        os.makedirs(dir_c)
        shutil.copy(dump_path, os.path.join(dir_c, "dump.rdb"))
        c = Server(port_b, dir_c, "dump.rdb",
                   ["--rdbcompression", "no", "--rdbchecksum", "no",
                    "--maxmemory-policy", "noeviction"])
        try:
            c.conn.call("SAVE")
            ok &= compare("redis-server dump.rdb (rdbcompression no, rdbchecksum no) "
                          "read by rdb_tool", want, tool_dump(tool, os.path.join(dir_c, "dump.rdb")))
        finally:
            c.stop()

        # -- b) Shoal's writer writes, Redis reads -------------------------------
        lines_path = os.path.join(work, "redis.jsonl")
        with open(lines_path, "w") as f:
            f.write("\n".join(want) + "\n")
        shoal_rdb = os.path.join(dir_b, "shoal.rdb")
        p = subprocess.run([tool, "write", lines_path, shoal_rdb], capture_output=True, timeout=120)
        if p.returncode != 0:
            print("FAIL  rdb_tool write: %s" % p.stderr.decode(errors="replace"))
            return 1
        if shutil.which("redis-check-rdb"):
            p = subprocess.run(["redis-check-rdb", shoal_rdb], capture_output=True, timeout=120)
            out = p.stdout.decode(errors="replace")
            if p.returncode == 0 and "RDB looks OK" in out:
                print("ok    redis-check-rdb accepts Shoal's file")
            else:
                print("FAIL  redis-check-rdb rejects Shoal's file:\n%s" % out[-2000:])
                ok = False
        else:
            print("skip  redis-check-rdb not installed")
        b = Server(port_b, dir_b, "shoal.rdb")
        servers.append(b)
        ok &= compare("redis-server loads Shoal's file: same data", want, canonical(b.conn))
        ok &= compare("rdb_tool reads back its own file", want, tool_dump(tool, shoal_rdb))
        # Encodings: what the first server holds after reloading its own
        # file, against what the second holds after loading Shoal's.
        a.conn.call("DEBUG", "RELOAD")
        enc_a, enc_b = encodings(a.conn), encodings(b.conn)
        diffs = [(k, enc_a[k], enc_b.get(k)) for k in sorted(enc_a) if enc_a[k] != enc_b.get(k)]
        if diffs or len(enc_a) != len(enc_b):
            print("FAIL  OBJECT ENCODING differs after loading Shoal's file:")
            for k, x, y in diffs[:20]:
                print("  %r: %s from Redis's file, %s from Shoal's" % (k, x, y))
            ok = False
        else:
            print("ok    every key has the encoding Redis gives it on load (%d keys)" % len(enc_a))
        fa = a.conn.call("FUNCTION", "LIST", "WITHCODE")
        fb = b.conn.call("FUNCTION", "LIST", "WITHCODE")
        if fa == fb:
            print("ok    the Lua library survives the round trip")
        else:
            print("FAIL  FUNCTION LIST differs: %r vs %r" % (fa, fb))
            ok = False
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("RDB interop: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
