"""redis-py used the way an app server uses it, against 127.0.0.1:PORT.

Usage: check.py --port P --parser hiredis|python

--parser python hides the installed hiredis package before redis-py is imported,
so redis-py takes every code path it takes when hiredis is not installed (pure
Python parser *and* serializer, RESP3 push handling), not just another parser.
Each scenario runs in RESP2 and RESP3 (protocol=3). Keys carry a per-run prefix
and are deleted at the end, so the script never flushes the server.
"""

import argparse
import logging
import os
import sys
import time
import json


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--parser", choices=["hiredis", "python"], required=True)
    return ap.parse_args()


ARGS = parse_args()
if ARGS.parser == "python":
    # A None entry makes `import hiredis` raise ImportError, exactly as when absent.
    sys.modules["hiredis"] = None

import redis  # noqa: E402
from redis.exceptions import ResponseError  # noqa: E402

# redis-py's pure-Python RESP3 parser logs every pub/sub push at INFO on this
# logger, which would bury the report.
logging.getLogger("push_response").setLevel(logging.WARNING)


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)


def expect_response_error(fn, fragment, what):
    try:
        got = fn()
    except ResponseError as e:
        check(fragment.lower() in str(e).lower(), f"{what}: error {e!r} lacks {fragment!r}")
        return
    raise CheckFailed(f"{what}: expected ResponseError, got {got!r}")


def connect(protocol):
    # Defaults as an app would use them: redis-py 5 sends CLIENT SETINFO LIB-NAME /
    # LIB-VER on connect (and HELLO 3 for protocol=3) and ignores an error to SETINFO.
    return redis.Redis(
        host=ARGS.host,
        port=ARGS.port,
        protocol=protocol,
        decode_responses=True,
        socket_timeout=10,
    )


def check_handshake(r, protocol, p):
    expected_parser = "_HiredisParser" if ARGS.parser == "hiredis" else (
        "_RESP3Parser" if protocol == 3 else "_RESP2Parser"
    )
    check(r.ping() is True, "PING")
    conn = r.connection_pool.get_connection()
    try:
        parser = type(conn._parser).__name__
    finally:
        r.connection_pool.release(conn)
    check(parser == expected_parser, f"parser is {parser}, wanted {expected_parser}")
    info = r.client_info()
    check(str(info.get("resp")) == str(protocol), f"CLIENT INFO resp={info.get('resp')!r}")
    # Redis 7.0 has no CLIENT SETINFO (7.2 does); where a server keeps the library
    # name it must be the one redis-py sent.
    if "lib-name" in info and info["lib-name"]:
        check(info["lib-name"] == "redis-py", f"lib-name={info['lib-name']!r}")
    check(r.echo("héllo") == "héllo", "ECHO utf-8")


def check_cache_aside(r, protocol, p):
    computed = []

    def load_user(uid):
        computed.append(uid)
        return {"id": uid, "name": f"user{uid}", "tags": ["a", "b"]}

    def get_user(uid):
        key = f"{p}user:{uid}"
        cached = r.get(key)
        if cached is not None:
            return json.loads(cached), True
        value = load_user(uid)
        check(r.set(key, json.dumps(value), ex=60) is True, "SET EX reply")
        return value, False

    v1, hit1 = get_user(7)
    v2, hit2 = get_user(7)
    check(not hit1 and hit2, f"miss then hit, got {hit1}, {hit2}")
    check(v1 == v2 and computed == [7], f"cache-aside value/compute count {v2} {computed}")
    ttl = r.ttl(f"{p}user:7")
    check(0 < ttl <= 60, f"TTL after SET EX 60 = {ttl}")
    pttl = r.pttl(f"{p}user:7")
    check(0 < pttl <= 60000, f"PTTL = {pttl}")

    check(r.set(f"{p}short", "x", px=80) is True, "SET PX")
    check(r.get(f"{p}short") == "x", "value readable before expiry")
    time.sleep(0.25)
    check(r.get(f"{p}short") is None, "key still readable after PX expiry")
    check(r.exists(f"{p}short") == 0, "EXISTS after expiry")
    check(r.ttl(f"{p}short") == -2, "TTL of expired key")

    # Refresh-on-read and NX lock, common around cache-aside.
    check(r.set(f"{p}lock", "me", nx=True, ex=5) is True, "SET NX on free lock")
    check(r.set(f"{p}lock", "you", nx=True, ex=5) is None, "SET NX on held lock")
    check(r.getex(f"{p}user:7", ex=120) is not None, "GETEX")
    check(60 < r.ttl(f"{p}user:7") <= 120, "GETEX EX refreshed TTL")
    check(r.expire(f"{p}lock", 100) is True, "EXPIRE")
    check(r.persist(f"{p}lock") is True and r.ttl(f"{p}lock") == -1, "PERSIST")
    check(r.getdel(f"{p}lock") == "me" and r.exists(f"{p}lock") == 0, "GETDEL")


def check_pipeline(r, protocol, p):
    pipe = r.pipeline(transaction=False)
    n = 250
    for i in range(n):
        pipe.set(f"{p}pl:{i}", i)
        pipe.incr(f"{p}plc")
        pipe.get(f"{p}pl:{i}")
        pipe.exists(f"{p}pl:{i}", f"{p}nope:{i}")
    results = pipe.execute()
    check(len(results) == 4 * n, f"pipeline returned {len(results)} results")
    for i in range(n):
        s, c, g, e = results[4 * i: 4 * i + 4]
        check(s is True, f"pipeline SET #{i} -> {s!r}")
        check(c == i + 1, f"pipeline INCR #{i} -> {c!r}")
        check(g == str(i), f"pipeline GET #{i} -> {g!r}")
        check(e == 1, f"pipeline EXISTS #{i} -> {e!r}")

    # An error inside a pipeline stays in its slot when not raised.
    pipe = r.pipeline(transaction=False)
    pipe.set(f"{p}pe", "abc").incr(f"{p}pe").get(f"{p}pe")
    res = pipe.execute(raise_on_error=False)
    check(res[0] is True and isinstance(res[1], ResponseError) and res[2] == "abc",
          f"pipeline with error in the middle: {res!r}")
    pipe = r.pipeline(transaction=False)
    pipe.set(f"{p}pe", "abc").incr(f"{p}pe")
    expect_response_error(pipe.execute, "not an integer", "pipeline raise_on_error")


def check_errors(r, protocol, p):
    expect_response_error(lambda: r.execute_command("NOSUCHCOMMAND", "x"), "unknown command", "unknown command")
    expect_response_error(lambda: r.execute_command("GET"), "wrong number of arguments", "GET arity")
    expect_response_error(lambda: r.execute_command("SET", f"{p}k"), "wrong number of arguments", "SET arity")
    r.set(f"{p}notint", "abc")
    expect_response_error(lambda: r.incr(f"{p}notint"), "not an integer", "INCR non-integer")
    expect_response_error(lambda: r.incrbyfloat(f"{p}notint", 1.5), "not a valid float", "INCRBYFLOAT non-float")
    expect_response_error(lambda: r.set(f"{p}k", "v", ex=0), "invalid expire time", "SET EX 0")
    # The connection must stay usable after errors.
    check(r.ping() is True, "PING after errors")

    # WRONGTYPE needs a second data type; it activates once the server has LPUSH
    # (Shoal implements strings only so far, Redis has it). COMMAND INFO answers
    # [nil] for an unknown command.
    info = r.execute_command("COMMAND INFO", "lpush")
    if info and info[0] is not None:
        r.lpush(f"{p}list", "a")
        expect_response_error(lambda: r.get(f"{p}list"), "WRONGTYPE", "GET on a list")
        expect_response_error(lambda: r.incr(f"{p}list"), "WRONGTYPE", "INCR on a list")
        r.set(f"{p}str", "x")
        expect_response_error(lambda: r.lpush(f"{p}str", "a"), "WRONGTYPE", "LPUSH on a string")


def check_keys_and_strings(r, protocol, p):
    mapping = {f"{p}m:{i}": f"v{i}" for i in range(200)}
    check(r.mset(mapping) is True, "MSET")
    keys = list(mapping) + [f"{p}m:missing"]
    vals = r.mget(keys)
    check(vals == list(mapping.values()) + [None], "MGET across many keys")
    check(r.msetnx({f"{p}m:0": "x", f"{p}m:new": "y"}) is False, "MSETNX with existing key")
    check(r.exists(f"{p}m:new") == 0, "MSETNX set nothing")

    check(r.incr(f"{p}n") == 1 and r.incrby(f"{p}n", 41) == 42, "INCR/INCRBY")
    check(r.decr(f"{p}n") == 41 and r.decrby(f"{p}n", 1) == 40, "DECR/DECRBY")
    f = r.incrbyfloat(f"{p}f", 10.5)
    check(f == 10.5, f"INCRBYFLOAT -> {f!r}")
    f = r.incrbyfloat(f"{p}f", 0.1)
    check(abs(f - 10.6) < 1e-9 and r.get(f"{p}f") == "10.6", f"INCRBYFLOAT 0.1 -> {f!r}")
    check(r.append(f"{p}s", "ab") == 2 and r.append(f"{p}s", "cd") == 4, "APPEND")
    check(r.strlen(f"{p}s") == 4 and r.getrange(f"{p}s", 1, 2) == "bc", "STRLEN/GETRANGE")

    scan_keys = {f"{p}scan:{i}" for i in range(300)}
    r.mset({k: "1" for k in scan_keys})
    seen = set(r.scan_iter(match=f"{p}scan:*", count=50))
    check(seen == scan_keys, f"scan_iter found {len(seen)} of {len(scan_keys)}")
    check(r.exists(*list(scan_keys)[:10], f"{p}scan:nope") == 10, "EXISTS many")
    check(r.delete(*scan_keys) == 300, "DELETE 300 keys")
    check(r.exists(*scan_keys) == 0, "EXISTS after DELETE")
    check(r.type(f"{p}n") == "string" and r.type(f"{p}none") == "none", "TYPE")

    check(r.client_setname(f"app-{ARGS.parser}-{protocol}") is True, "CLIENT SETNAME")
    check(r.client_getname() == f"app-{ARGS.parser}-{protocol}", "CLIENT GETNAME")

    info = r.info()
    check(isinstance(info, dict) and "redis_version" in info, "INFO has redis_version")
    check(isinstance(info.get("connected_clients"), int), "INFO connected_clients is int")
    srv = r.info("server")
    check("tcp_port" in srv and int(srv["tcp_port"]) == ARGS.port, f"INFO server tcp_port {srv.get('tcp_port')}")
    check("used_memory" in r.info("memory"), "INFO memory")
    cfg = r.config_get("maxmemory")
    check(cfg == {"maxmemory": "0"} or ("maxmemory" in cfg and cfg["maxmemory"].isdigit()), f"CONFIG GET maxmemory {cfg}")
    check(isinstance(r.dbsize(), int), "DBSIZE")
    check(isinstance(r.time(), tuple), "TIME")


def next_message(ps, timeout=3.0, sharded=False):
    """The next message the PubSub object delivers, or None after `timeout`
    seconds (get_message can return None early, e.g. after a skipped frame)."""
    deadline = time.monotonic() + timeout
    read = ps.get_sharded_message if sharded else ps.get_message
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        msg = read(timeout=remaining)
        if msg is not None:
            return msg


def expect_message(ps, want, what, sharded=False):
    got = next_message(ps, sharded=sharded)
    check(got == want, f"{what}: got {got!r}, wanted {want!r}")


def check_pubsub(r, protocol, p):
    ch, other, pat = f"{p}ch:news", f"{p}ch:other", f"{p}ch:*"
    ps = r.pubsub()
    try:
        ps.subscribe(ch)
        expect_message(ps, {"type": "subscribe", "pattern": None, "channel": ch, "data": 1}, "subscribe")
        ps.psubscribe(pat)
        expect_message(ps, {"type": "psubscribe", "pattern": None, "channel": pat, "data": 2}, "psubscribe")
        check(r.pubsub_numsub(ch, other) == [(ch, 1), (other, 0)], f"PUBSUB NUMSUB {r.pubsub_numsub(ch, other)!r}")
        check(r.pubsub_channels(f"{p}ch:*") == [ch], f"PUBSUB CHANNELS {r.pubsub_channels(f'{p}ch:*')!r}")
        check(r.pubsub_numpat() >= 1, "PUBSUB NUMPAT counts our pattern")

        # A second subscriber (on another connection, so maybe another
        # server thread) gets its own copy.
        ps2 = r.pubsub()
        try:
            ps2.subscribe(ch)
            expect_message(ps2, {"type": "subscribe", "pattern": None, "channel": ch, "data": 1}, "second subscribe")
            check(r.pubsub_numsub(ch) == [(ch, 2)], f"NUMSUB with two subscribers {r.pubsub_numsub(ch)!r}")
            # The exact-channel copy comes first, then the pattern copy.
            check(r.publish(ch, "héllo") == 3, "PUBLISH to two channel subscribers + one pattern subscriber")
            expect_message(ps, {"type": "message", "pattern": None, "channel": ch, "data": "héllo"}, "message")
            expect_message(ps, {"type": "pmessage", "pattern": pat, "channel": ch, "data": "héllo"}, "pmessage")
            expect_message(ps2, {"type": "message", "pattern": None, "channel": ch, "data": "héllo"},
                           "second subscriber's message")
            ps2.unsubscribe()
            expect_message(ps2, {"type": "unsubscribe", "pattern": None, "channel": ch, "data": 0},
                           "second subscriber's unsubscribe")
        finally:
            ps2.close()
        check(r.publish(other, "x") == 1, "PUBLISH matched by the pattern only")
        expect_message(ps, {"type": "pmessage", "pattern": pat, "channel": other, "data": "x"}, "pmessage only")
        check(r.publish(f"{p}elsewhere", "x") == 0, "PUBLISH with no subscriber")

        # One publisher's messages arrive in publish order.
        for i in range(50):
            r.publish(other, str(i))
        got = [next_message(ps) for _ in range(50)]
        check([m and m["data"] for m in got] == [str(i) for i in range(50)], f"order of 50 messages: {got[:3]!r}...")

        ps.unsubscribe(ch)
        expect_message(ps, {"type": "unsubscribe", "pattern": None, "channel": ch, "data": 1}, "unsubscribe")
        ps.punsubscribe(pat)
        expect_message(ps, {"type": "punsubscribe", "pattern": None, "channel": pat, "data": 0}, "punsubscribe")
        check(r.publish(ch, "gone") == 0, "PUBLISH after unsubscribing")
        check(next_message(ps, timeout=0.2) is None, "no message after unsubscribing")
        check(r.pubsub_numsub(ch) == [(ch, 0)], "NUMSUB after unsubscribing")
    finally:
        ps.close()

    # Shard channels: a namespace of their own (PUBLISH does not reach them).
    if hasattr(r, "spublish") and hasattr(ps, "ssubscribe"):
        sch = f"{p}sch"
        sps = r.pubsub()
        try:
            sps.ssubscribe(sch)
            expect_message(sps, {"type": "ssubscribe", "pattern": None, "channel": sch, "data": 1}, "ssubscribe",
                           sharded=True)
            check(r.pubsub_shardnumsub(sch) == [(sch, 1)], f"SHARDNUMSUB {r.pubsub_shardnumsub(sch)!r}")
            check(r.pubsub_shardchannels(f"{p}*") == [sch], "PUBSUB SHARDCHANNELS")
            check(r.publish(sch, "plain") == 0, "PUBLISH does not reach shard subscribers")
            check(r.spublish(sch, "s1") == 1, "SPUBLISH")
            expect_message(sps, {"type": "smessage", "pattern": None, "channel": sch, "data": "s1"}, "smessage",
                           sharded=True)
            sps.sunsubscribe(sch)
            expect_message(sps, {"type": "sunsubscribe", "pattern": None, "channel": sch, "data": 0},
                           "sunsubscribe", sharded=True)
            check(r.spublish(sch, "gone") == 0, "SPUBLISH after sunsubscribe")
        finally:
            sps.close()

    # Keyspace notifications for one key, then the expired event.
    prev = r.config_get("notify-keyspace-events").get("notify-keyspace-events", "")
    key = f"{p}ks"
    kps = r.pubsub()
    try:
        check(r.config_set("notify-keyspace-events", "KEA") is True, "CONFIG SET notify-keyspace-events KEA")
        check(set(r.config_get("notify-keyspace-events")["notify-keyspace-events"]) == set("AKE"),
              "CONFIG GET notify-keyspace-events after KEA")
        space = f"__keyspace@0__:{key}"
        expired = "__keyevent@0__:expired"
        kps.subscribe(space)
        expect_message(kps, {"type": "subscribe", "pattern": None, "channel": space, "data": 1}, "keyspace subscribe")
        kps.subscribe(expired)
        expect_message(kps, {"type": "subscribe", "pattern": None, "channel": expired, "data": 2},
                       "keyevent subscribe")
        r.set(key, "v")
        r.expire(key, 100)
        r.delete(key)
        for event in ("set", "expire", "del"):
            expect_message(kps, {"type": "message", "pattern": None, "channel": space, "data": event},
                           f"keyspace event {event}")
        r.set(key, "v", px=50)
        want = [{"type": "message", "pattern": None, "channel": space, "data": "set"},
                {"type": "message", "pattern": None, "channel": space, "data": "expire"}]
        got = [next_message(kps) for _ in range(2)]
        check(got == want, f"SET PX events {got!r}")
        # Expiry by the server's own cycle, within a bounded wait.
        got = [next_message(kps) for _ in range(2)]
        check({"type": "message", "pattern": None, "channel": space, "data": "expired"} in got
              and {"type": "message", "pattern": None, "channel": expired, "data": key} in got,
              f"expired events {got!r}")
    finally:
        kps.close()
        r.config_set("notify-keyspace-events", prev)
    check(r.config_get("notify-keyspace-events")["notify-keyspace-events"] == prev, "notify-keyspace-events restored")


def check_transaction(r, protocol, p):
    # MULTI/EXEC through a transactional pipeline.
    pipe = r.pipeline(transaction=True)
    pipe.set(f"{p}tx:a", 1).incr(f"{p}tx:a").lpush(f"{p}tx:l", "x").get(f"{p}tx:a")
    check(pipe.execute() == [True, 2, 1, "2"], "MULTI/EXEC results")
    # A runtime error stays in its slot; the other commands still run.
    pipe = r.pipeline(transaction=True)
    pipe.incr(f"{p}tx:l").set(f"{p}tx:b", "y")
    res = pipe.execute(raise_on_error=False)
    check(isinstance(res[0], ResponseError) and "WRONGTYPE" in str(res[0]) and res[1] is True,
          f"runtime error inside EXEC: {res!r}")
    # WATCH with redis-py's retry helper: another connection's write in the
    # middle forces one retry, and no update is lost.
    other = connect(protocol)
    attempts = []

    def bump(pipe):
        value = int(pipe.get(f"{p}tx:counter") or 0)
        if not attempts:
            other.incr(f"{p}tx:counter")
        attempts.append(value)
        pipe.multi()
        pipe.set(f"{p}tx:counter", value + 1)

    r.transaction(bump, f"{p}tx:counter")
    other.close()
    check(attempts == [0, 1], f"WATCH retried after a concurrent write: {attempts!r}")
    check(r.get(f"{p}tx:counter") == "2", "no lost update under WATCH")
    # EXECABORT after a queueing error.
    pipe = r.pipeline(transaction=True)
    pipe.set(f"{p}tx:c", 1).execute_command("NOSUCHCOMMAND")
    # redis-py reports the command that caused EXECABORT.
    expect_response_error(pipe.execute, "unknown command", "queueing error aborts EXEC")
    check(r.exists(f"{p}tx:c") == 0, "aborted transaction left nothing")


def cleanup(r, p):
    keys = list(r.scan_iter(match=f"{p}*", count=1000))
    if keys:
        r.delete(*keys)


def main():
    failures = 0
    for protocol in (2, 3):
        p = f"py:{ARGS.parser}:{protocol}:{os.getpid()}:"
        for scenario in (check_handshake, check_cache_aside, check_pipeline, check_errors,
                         check_keys_and_strings, check_pubsub, check_transaction):
            r = connect(protocol)
            name = f"resp{protocol} {scenario.__name__[len('check_'):]}"
            try:
                scenario(r, protocol, p)
                print(f"  ok   {name}")
            except Exception as e:  # report every scenario, not just the first failure
                failures += 1
                print(f"  FAIL {name}: {type(e).__name__}: {e}")
            finally:
                try:
                    cleanup(r, p)
                    r.close()
                except Exception:
                    pass
    print(f"redis-py {redis.__version__} parser={ARGS.parser}: {'FAIL' if failures else 'ok'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
