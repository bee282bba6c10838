#!/usr/bin/env python3
"""Differential harness: replay case files against real Redis and Shoal and
compare the raw RESP reply bytes, in RESP2 and again in RESP3.

Stdlib only. See ../README.md for the case file format and the allowlist rule.
"""

import argparse
import os
import re
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = 5.0

# Line annotations recognised at the end of a command line ("  # unordered").
MARKERS = ("unordered", "shape", "resp2", "resp3", "lines", "cmdinfo", "cmddocs")
MARKER_RE = re.compile(r"\s+#\s*((?:%s)(?:[\s,]+(?:%s))*)\s*$" % ("|".join(MARKERS), "|".join(MARKERS)))


class ParseError(Exception):
    pass


def split_args(line):
    """Split a line the way redis-cli does (sdssplitargs): double quotes take
    \\xHH, \\n, \\r, \\t, \\b, \\a and \\<char> escapes; single quotes take only
    \\'; a closing quote must be followed by a space or the end of line."""
    args = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            return args
        cur = bytearray()
        inq = insq = False
        while True:
            if inq:
                if i >= n:
                    raise ParseError("unbalanced double quote")
                c = line[i]
                if (c == "\\" and i + 3 < n and line[i + 1] == "x"
                        and all(h in "0123456789abcdefABCDEF" for h in line[i + 2:i + 4])):
                    cur.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif c == "\\" and i + 1 < n:
                    i += 1
                    e = line[i]
                    cur += {"n": b"\n", "r": b"\r", "t": b"\t", "b": b"\b",
                            "a": b"\a"}.get(e, e.encode())
                elif c == '"':
                    if i + 1 < n and not line[i + 1].isspace():
                        raise ParseError("closing quote must be followed by a space")
                    i += 1
                    break
                else:
                    cur += c.encode()
                i += 1
            elif insq:
                if i >= n:
                    raise ParseError("unbalanced single quote")
                c = line[i]
                if c == "\\" and i + 1 < n and line[i + 1] == "'":
                    i += 1
                    cur += b"'"
                elif c == "'":
                    if i + 1 < n and not line[i + 1].isspace():
                        raise ParseError("closing quote must be followed by a space")
                    i += 1
                    break
                else:
                    cur += c.encode()
                i += 1
            else:
                if i >= n or line[i].isspace():
                    break
                c = line[i]
                if c == '"':
                    inq = True
                elif c == "'":
                    insq = True
                else:
                    cur += c.encode()
                i += 1
        args.append(bytes(cur))


class Line:
    def __init__(self, lineno, text, args, markers, sleep=None):
        self.lineno, self.text, self.args, self.markers, self.sleep = lineno, text, args, markers, sleep


def load_cases(path):
    """A case is a run of non-blank lines; `#` lines are comments."""
    cases, cur = [], []
    pending_name = None
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            text = raw.rstrip("\n")
            stripped = text.strip()
            if not stripped:
                if cur:
                    cases.append(cur)
                    cur = []
                pending_name = None
                continue
            if stripped.startswith("#"):
                continue
            if stripped.startswith("@id "):
                pending_name = stripped[4:].strip()
                continue
            if stripped.startswith("!sleep"):
                cur.append(Line(lineno, stripped, None, set(), float(stripped.split()[1])))
                cur[-1].case_id = cur[0].lineno
                cur[-1].case_name = pending_name
                continue
            markers = set()
            m = MARKER_RE.search(text)
            if m:
                markers = set(re.split(r"[\s,]+", m.group(1)))
                text = text[:m.start()]
            try:
                args = split_args(text)
            except ParseError as e:
                raise SystemExit("%s:%d: %s" % (path, lineno, e))
            cur.append(Line(lineno, text.strip(), args, markers))
            cur[-1].case_id = cur[0].lineno
            cur[-1].case_name = pending_name
    if cur:
        cases.append(cur)
    return cases


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Closed(Exception):
    pass


class ProtocolError(Exception):
    pass


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buf = b""
        self.pos = 0
        self.closed = False

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Closed()
        self.buf = self.buf[self.pos:] + data
        self.pos = 0

    def _line(self):
        while True:
            j = self.buf.find(b"\r\n", self.pos)
            if j >= 0:
                line = self.buf[self.pos:j]
                self.pos = j + 2
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) - self.pos < n:
            self._fill()
        data = self.buf[self.pos:self.pos + n]
        self.pos += n
        return data

    def read_reply(self):
        """Returns (raw bytes, tree). Tree: (type, payload) where payload is the
        scalar bytes or a list of child trees."""
        raw = bytearray()

        def rd():
            line = self._line()
            raw.extend(line + b"\r\n")
            t, body = line[:1], line[1:]
            if t in (b"$", b"=", b"!"):
                n = int(body)
                if n < 0:
                    return (t, None)
                data = self._exact(n + 2)
                raw.extend(data)
                return (t, data[:-2])
            if t in (b"*", b"~", b">", b"%", b"|"):
                n = int(body)
                if n < 0:
                    return (t, None)
                if t in (b"%", b"|"):
                    n *= 2
                kids = [rd() for _ in range(n)]
                if t == b"|":  # attribute: the real reply follows
                    return rd()
                return (t, kids)
            if t in (b"+", b"-", b":", b",", b"#", b"(", b"_"):
                return (t, body)
            raise ProtocolError("%r" % line[:80])

        tree = rd()
        return bytes(raw), tree

    def call(self, args):
        if self.closed:
            return b"<connection closed>", ("closed", None)
        try:
            self.sock.sendall(encode(args))
            return self.read_reply()
        except ProtocolError as e:
            self.closed = True
            return ("<protocol error: %s>" % e).encode(), ("protoerr", None)
        except socket.timeout:
            self.closed = True
            return b"<timeout: no reply in %ss>" % str(TIMEOUT).encode(), ("timeout", None)
        except (Closed, OSError):
            # EOF, reset and broken pipe all mean the server closed the
            # connection; which one the client sees is a race.
            self.closed = True
            return b"<connection closed>", ("closed", None)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def canon_unordered(tree):
    """Multiset form: aggregates become sorted tuples of canonical children
    (maps keep key/value pairs together)."""
    t, p = tree
    if isinstance(p, list):
        if t == b"%":
            pairs = [(canon_unordered(p[i]), canon_unordered(p[i + 1])) for i in range(0, len(p), 2)]
            return (t, tuple(sorted(pairs, key=repr)))
        return (t, tuple(sorted((canon_unordered(k) for k in p), key=repr)))
    return (t, p)


def canon_shape(tree):
    t, p = tree
    if isinstance(p, list):
        return (t, len(p), tuple(canon_shape(k) for k in p))
    return (t, p is None)


def canon_lines(tree):
    """For bulk/verbatim text replies (CLIENT LIST): compare lines as a multiset."""
    t, p = tree
    if isinstance(p, bytes) and t in (b"$", b"="):
        return (t, tuple(sorted(p.split(b"\n"))))
    return canon_unordered(tree)


def canon_cmdinfo(tree):
    """COMMAND INFO: per entry, the classic fields (name, arity, flags, first
    key, last key, step, ACL categories) and the key specs; tips and
    subcommands are left out."""
    t, p = tree
    if not isinstance(p, list):
        return tree
    return (t, tuple((e[0], repr(e[1][:7] + e[1][8:9]) if isinstance(e[1], list) else e[1]) for e in p))


DOC_FIELDS = {b"summary", b"since", b"group", b"complexity", b"module", b"doc_flags", b"deprecated_since",
              b"replaced_by"}


def canon_cmddocs(tree):
    """COMMAND DOCS: per command, the descriptive fields only (summary, since,
    group, complexity, doc flags, deprecation); history and the argument
    tree are left out."""
    t, p = tree
    if not isinstance(p, list):
        return tree
    out = []
    for i in range(0, len(p) - 1, 2):
        name, doc = p[i], p[i + 1]
        fields = []
        if isinstance(doc[1], list):
            for j in range(0, len(doc[1]) - 1, 2):
                k, v = doc[1][j], doc[1][j + 1]
                if k[1] in DOC_FIELDS:
                    fields.append((k, v))
        out.append((name, doc[0], repr(fields)))
    return (t, tuple(out))


def same(line, a, b):
    (ra, ta), (rb, tb) = a, b
    if "shape" in line.markers:
        return canon_shape(ta) == canon_shape(tb)
    if "cmdinfo" in line.markers:
        return canon_cmdinfo(ta) == canon_cmdinfo(tb)
    if "cmddocs" in line.markers:
        return canon_cmddocs(ta) == canon_cmddocs(tb)
    if "lines" in line.markers:
        return canon_lines(ta) == canon_lines(tb)
    if "unordered" in line.markers:
        return canon_unordered(ta) == canon_unordered(tb)
    return ra == rb


def run_case(port, case, proto):
    conn = Conn(port)
    try:
        if proto == 3:
            conn.call([b"HELLO", b"3"])
        # A fresh connection is the reset state (db 0, no name, RESP as set
        # above); FLUSHALL empties every db.
        conn.call([b"FLUSHALL"])
        out = []
        for line in case:
            if line.sleep is not None:
                time.sleep(line.sleep)
                out.append(None)
                continue
            out.append(conn.call(line.args))
        return out
    finally:
        conn.close()


def show(b, limit=600):
    s = repr(bytes(b))[2:-1]
    if len(s) > limit:
        s = s[:limit] + "...(%d bytes total)" % len(b)
    return s


def load_allowlist(path):
    """`family:<line number or exact command text>[/resp2|/resp3]  reason`.
    The line number of a case's first line, or the name given by an `@id name`
    line inside the case, covers the whole case."""
    entries = []
    if not os.path.exists(path):
        return entries
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            parts = re.split(r"\s{2,}|\t", text, maxsplit=1)
            if len(parts) < 2 or not parts[1].strip():
                raise SystemExit("%s:%d: allowlist entry needs a reason (two spaces, then the reason)" % (path, lineno))
            key = parts[0]
            fam, _, ident = key.partition(":")
            proto = None
            m = re.search(r"/resp([23])$", ident)
            if m:
                proto = int(m.group(1))
                ident = ident[:m.start()]
            entries.append({"family": fam, "ident": ident, "proto": proto, "reason": parts[1].strip(),
                            "used": False, "src": "%s:%d" % (os.path.basename(path), lineno)})
    return entries


def allowed(entries, family, line, proto):
    for e in entries:
        if e["family"] != family or (e["proto"] and e["proto"] != proto):
            continue
        # A line number names one command line, or a whole case when it is
        # the case's first line; exact command text names every such line.
        if e["ident"] in (str(line.lineno), str(line.case_id), line.text, line.case_name):
            e["used"] = True
            return e
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--redis-port", type=int, required=True)
    ap.add_argument("--shoal-port", type=int, required=True)
    ap.add_argument("--cases", default=os.path.join(HERE, "cases"))
    ap.add_argument("--allowlist", default=os.path.join(HERE, "allowlist.txt"))
    ap.add_argument("--family", action="append", help="only these families (repeatable)")
    ap.add_argument("--show-allowed", action="store_true", help="also print diffs that the allowlist excuses")
    opts = ap.parse_args()

    families = sorted(f[:-4] for f in os.listdir(opts.cases) if f.endswith(".txt"))
    if opts.family:
        families = [f for f in families if f in opts.family]
    allow = load_allowlist(opts.allowlist)

    summary = []
    failures = 0
    total_cases = 0
    for fam in families:
        cases = load_cases(os.path.join(opts.cases, fam + ".txt"))
        total_cases += len(cases)
        counts = {}
        for proto in (2, 3):
            passed = allowed_cases = 0
            for case in cases:
                case = [ln for ln in case if not (("resp2" in ln.markers and proto != 2)
                                                    or ("resp3" in ln.markers and proto != 3))]
                want = run_case(opts.redis_port, case, proto)
                got = run_case(opts.shoal_port, case, proto)
                bad = excused = 0
                for line, a, b in zip(case, want, got):
                    if a is None or same(line, a, b):
                        continue
                    entry = allowed(allow, fam, line, proto)
                    if entry:
                        excused += 1
                        if not opts.show_allowed:
                            continue
                    else:
                        bad += 1
                    tag = "ALLOWED (%s)" % entry["reason"] if entry else "MISMATCH"
                    mode = ",".join(sorted(line.markers)) or "exact"
                    print("%s %s:%d RESP%d [%s]\n  command:  %s\n  redis:    %s\n  shoal:    %s\n"
                          % (tag, fam, line.lineno, proto, mode, line.text, show(a[0]), show(b[0])))
                if bad:
                    failures += 1
                elif excused:
                    allowed_cases += 1
                else:
                    passed += 1
            counts[proto] = (passed, allowed_cases, len(cases))
        summary.append((fam, len(cases), counts))

    print("%-12s %6s  %-22s %-22s" % ("family", "cases", "RESP2 pass/allowed", "RESP3 pass/allowed"))
    for fam, n, counts in summary:
        cols = ["%d/%d (+%d allowed)" % (counts[p][0], n, counts[p][1]) for p in (2, 3)]
        print("%-12s %6d  %-22s %-22s" % (fam, n, cols[0], cols[1]))
    print("total cases: %d; failing case runs: %d" % (total_cases, failures))
    unused = [e for e in allow if not e["used"] and (not opts.family or e["family"] in opts.family)]
    for e in unused:
        print("note: allowlist entry %s (%s:%s) matched nothing; remove it if the difference is gone"
              % (e["src"], e["family"], e["ident"]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
