// ioredis used the way an app server uses it.
//
// Usage: node ioredis.js --port P [--host H]
//
// The default connection is ioredis 6's own handshake, unchanged: HELLO 3, CLIENT
// SETINFO LIB-VER/LIB-NAME (errors ignored; Redis 7.0 has no SETINFO), then the INFO
// ready check. The scenarios run on that default (RESP3) connection and again with
// `protocol: 2` (no HELLO). Keys carry a per-run prefix and are deleted at the end.
"use strict";

const { Redis, ReplyError } = require("ioredis");

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const PORT = Number(arg("--port"));
const HOST = arg("--host", "127.0.0.1");
if (!PORT) {
  console.error("usage: node ioredis.js --port P [--host H]");
  process.exit(2);
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function expectReplyError(promise, fragment, what) {
  let got;
  try {
    got = await promise;
  } catch (e) {
    check(e instanceof ReplyError, `${what}: ${e && e.constructor && e.constructor.name} is not a ReplyError: ${e}`);
    check(e.message.toLowerCase().includes(fragment.toLowerCase()), `${what}: ${e.message} lacks ${fragment}`);
    return e;
  }
  throw new Error(`${what}: expected a ReplyError, got ${JSON.stringify(got)}`);
}

async function handshake(r, proto) {
  check(r.status === "ready", `status ${r.status}`);
  check((await r.ping()) === "PONG", "PING");
  const info = await r.client("INFO");
  // A silent fallback to RESP2 (HELLO refused) would fail here.
  check(info.trim().split(/\s+/).includes(`resp=${proto}`), `CLIENT INFO lacks resp=${proto}: ${info}`);
  const lib = info.trim().split(/\s+/).find((f) => f.startsWith("lib-name="));
  if (lib && lib !== "lib-name=") check(lib === "lib-name=ioredis", lib);
  check((await r.echo("héllo")) === "héllo", "ECHO utf-8");
  const bin = Buffer.from([0x62, 0x00, 0xff]);
  const back = await r.echoBuffer(bin);
  check(Buffer.isBuffer(back) && back.equals(bin), "ECHO binary via echoBuffer");
}

async function cacheAside(r, proto, p) {
  let computed = 0;
  async function getUser(id) {
    const key = `${p}user:${id}`;
    const cached = await r.get(key);
    if (cached !== null) return [JSON.parse(cached), true];
    computed += 1;
    const value = { id, name: `user${id}` };
    check((await r.set(key, JSON.stringify(value), "EX", 60)) === "OK", "SET EX");
    return [value, false];
  }
  const [v1, hit1] = await getUser(7);
  const [v2, hit2] = await getUser(7);
  check(!hit1 && hit2, `miss then hit, got ${hit1} ${hit2}`);
  check(JSON.stringify(v1) === JSON.stringify(v2) && computed === 1, "cached value / compute count");
  const ttl = await r.ttl(`${p}user:7`);
  check(ttl > 0 && ttl <= 60, `TTL after SET EX 60 = ${ttl}`);

  check((await r.set(`${p}short`, "x", "PX", 80)) === "OK", "SET PX");
  check((await r.get(`${p}short`)) === "x", "GET before expiry");
  await sleep(250);
  check((await r.get(`${p}short`)) === null, "key readable after PX expiry");
  check((await r.exists(`${p}short`)) === 0, "EXISTS after expiry");

  check((await r.set(`${p}lock`, "me", "EX", 5, "NX")) === "OK", "SET NX on free lock");
  check((await r.set(`${p}lock`, "you", "EX", 5, "NX")) === null, "SET NX on held lock");
  check((await r.getdel(`${p}lock`)) === "me", "GETDEL");
}

async function pipeline(r, proto, p) {
  const n = 250;
  const pipe = r.pipeline();
  for (let i = 0; i < n; i++) {
    pipe.set(`${p}pl:${i}`, i).incr(`${p}plc`).get(`${p}pl:${i}`).exists(`${p}pl:${i}`);
  }
  check(pipe.length === 4 * n, `pipeline queued ${pipe.length}`);
  const results = await pipe.exec();
  check(results.length === 4 * n, `pipeline returned ${results.length}`);
  for (let i = 0; i < n; i++) {
    const [s, c, g, e] = results.slice(4 * i, 4 * i + 4);
    for (const [err] of [s, c, g, e]) check(err === null, `pipeline #${i} error ${err}`);
    check(s[1] === "OK", `SET #${i} -> ${s[1]}`);
    check(c[1] === i + 1, `INCR #${i} -> ${c[1]}`);
    check(g[1] === String(i), `GET #${i} -> ${g[1]}`);
    check(e[1] === 1, `EXISTS #${i} -> ${e[1]}`);
  }
  // An error keeps its slot; the rest of the pipeline still runs.
  const res = await r.pipeline().set(`${p}pe`, "abc").incr(`${p}pe`).get(`${p}pe`).exec();
  check(res[0][0] === null && res[0][1] === "OK", "pipeline slot 0");
  check(res[1][0] instanceof ReplyError && /not an integer/.test(res[1][0].message), `pipeline slot 1 ${res[1][0]}`);
  check(res[2][0] === null && res[2][1] === "abc", "pipeline slot 2");
}

async function errors(r, proto, p) {
  await expectReplyError(r.call("NOSUCHCOMMAND", "x"), "unknown command", "unknown command");
  await expectReplyError(r.call("GET"), "wrong number of arguments", "GET arity");
  await r.set(`${p}notint`, "abc");
  await expectReplyError(r.incr(`${p}notint`), "not an integer", "INCR non-integer");
  await expectReplyError(r.incrbyfloat(`${p}notint`, 1.5), "not a valid float", "INCRBYFLOAT non-float");
  await expectReplyError(r.set(`${p}k`, "v", "EX", 0), "invalid expire time", "SET EX 0");
  check((await r.ping()) === "PONG", "PING after errors");

  // WRONGTYPE needs a second data type: the check activates once the server has
  // LPUSH (Shoal has only strings so far; Redis has it). COMMAND INFO answers
  // [nil] for an unknown command.
  const probe = await r.command("INFO", "lpush");
  if (Array.isArray(probe) && probe[0]) {
    await r.lpush(`${p}list`, "a");
    await expectReplyError(r.get(`${p}list`), "WRONGTYPE", "GET on a list");
    await expectReplyError(r.incr(`${p}list`), "WRONGTYPE", "INCR on a list");
  }
}

async function keysAndStrings(r, proto, p) {
  const kv = {};
  for (let i = 0; i < 200; i++) kv[`${p}m:${i}`] = `v${i}`;
  check((await r.mset(kv)) === "OK", "MSET object");
  const keys = Object.keys(kv);
  const vals = await r.mget(...keys, `${p}m:missing`);
  check(vals.length === 201 && vals[200] === null, "MGET length / missing");
  keys.forEach((k, i) => check(vals[i] === kv[k], `MGET[${i}] -> ${vals[i]}`));

  check((await r.incr(`${p}n`)) === 1 && (await r.incrby(`${p}n`, 41)) === 42, "INCR/INCRBY");
  check((await r.decrby(`${p}n`, 2)) === 40, "DECRBY");
  check((await r.incrbyfloat(`${p}f`, 10.5)) === "10.5", "INCRBYFLOAT 10.5");
  check((await r.incrbyfloat(`${p}f`, 0.1)) === "10.6", "INCRBYFLOAT 0.1");

  const scanKeys = new Set();
  const pipe = r.pipeline();
  for (let i = 0; i < 300; i++) {
    scanKeys.add(`${p}scan:${i}`);
    pipe.set(`${p}scan:${i}`, "1");
  }
  await pipe.exec();
  const seen = new Set();
  await new Promise((resolve, reject) => {
    r.scanStream({ match: `${p}scan:*`, count: 50 })
      .on("data", (batch) => batch.forEach((k) => seen.add(k)))
      .on("end", resolve)
      .on("error", reject);
  });
  check(seen.size === 300 && [...scanKeys].every((k) => seen.has(k)), `scanStream found ${seen.size} of 300`);
  check((await r.exists(...[...scanKeys].slice(0, 10), `${p}none`)) === 10, "EXISTS many");
  check((await r.del(...scanKeys)) === 300, "DEL 300");
  check((await r.type(`${p}n`)) === "string", "TYPE");

  check((await r.client("SETNAME", `app-io-${proto}`)) === "OK", "CLIENT SETNAME");
  check((await r.client("GETNAME")) === `app-io-${proto}`, "CLIENT GETNAME");
  const info = await r.info();
  check(typeof info === "string" && /^redis_version:/m.test(info), "INFO has redis_version");
  check(new RegExp(`^tcp_port:${PORT}\\r?$`, "m").test(await r.info("server")), "INFO server tcp_port");
  const cfg = await r.config("GET", "maxmemory");
  const flat = Array.isArray(cfg) ? cfg : Object.entries(cfg).flat();
  check(flat[0] === "maxmemory" && /^\d+$/.test(flat[1]), `CONFIG GET maxmemory -> ${JSON.stringify(cfg)}`);
  check(Number.isInteger(await r.dbsize()), "DBSIZE");
}

function connect(opts) {
  const r = new Redis({ host: HOST, port: PORT, maxRetriesPerRequest: 1, connectTimeout: 5000, commandTimeout: 10000, ...opts });
  r.on("error", () => {}); // connection errors surface through the commands
  return r;
}

function whenReady(r) {
  return new Promise((resolve, reject) => {
    if (r.status === "ready") return resolve();
    r.once("ready", resolve);
    r.once("end", () => reject(new Error("connection ended before ready")));
    setTimeout(() => reject(new Error(`not ready after 5s (status ${r.status})`)), 5000);
  });
}

// Resolves once cond() holds, polling; fails after ms.
async function waitFor(cond, ms, what) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms}ms waiting for ${what}`);
    await sleep(10);
  }
}

// A second connection subscribes (channel + pattern); this one publishes.
async function pubsub(r, proto, p, opts) {
  const sub = connect(opts);
  try {
    await whenReady(sub);
    const ch = `${p}ch:news`;
    const other = `${p}ch:other`;
    const pat = `${p}ch:*`;
    const events = [];
    sub.on("message", (channel, message) => events.push(["message", channel, message]));
    sub.on("pmessage", (pattern, channel, message) => events.push(["pmessage", pattern, channel, message]));
    check((await sub.subscribe(ch)) === 1, "SUBSCRIBE count");
    check((await sub.psubscribe(pat)) === 2, "PSUBSCRIBE count");
    const numsub = await r.pubsub("NUMSUB", ch, other);
    check(JSON.stringify(numsub) === JSON.stringify([ch, 1, other, 0]), `PUBSUB NUMSUB ${JSON.stringify(numsub)}`);
    const chans = await r.pubsub("CHANNELS", `${p}*`);
    check(JSON.stringify(chans) === JSON.stringify([ch]), `PUBSUB CHANNELS ${JSON.stringify(chans)}`);

    check((await r.publish(ch, "héllo")) === 2, "PUBLISH to channel + pattern subscriber");
    check((await r.publish(other, "x")) === 1, "PUBLISH matched by the pattern only");
    check((await r.publish(`${p}elsewhere`, "x")) === 0, "PUBLISH with no subscriber");
    const pipe = r.pipeline();
    for (let i = 0; i < 50; i++) pipe.publish(other, String(i));
    const counts = await pipe.exec();
    check(counts.every(([err, n]) => err === null && n === 1), "pipelined PUBLISH counts");

    const want = [
      ["message", ch, "héllo"],
      ["pmessage", pat, ch, "héllo"],
      ["pmessage", pat, other, "x"],
    ];
    for (let i = 0; i < 50; i++) want.push(["pmessage", pat, other, String(i)]);
    await waitFor(() => events.length >= want.length, 5000, `${want.length} messages (have ${events.length})`);
    check(JSON.stringify(events) === JSON.stringify(want),
      `messages in order: got ${JSON.stringify(events.slice(0, 4))}... (${events.length})`);

    check((await sub.unsubscribe(ch)) === 1, "UNSUBSCRIBE count");
    check((await sub.punsubscribe(pat)) === 0, "PUNSUBSCRIBE count");
    check((await r.publish(ch, "gone")) === 0, "PUBLISH after unsubscribing");
    const numsubAfter = await r.pubsub("NUMSUB", ch);
    check(JSON.stringify(numsubAfter) === JSON.stringify([ch, 0]), `NUMSUB after unsubscribing ${JSON.stringify(numsubAfter)}`);
    await sleep(50);
    check(events.length === want.length, `no message after unsubscribing (${events.length})`);

    // Shard channels: their own namespace, reached by SPUBLISH only.
    const sch = `${p}sch`;
    const sharded = [];
    sub.on("smessage", (channel, message) => sharded.push([channel, message]));
    check((await sub.ssubscribe(sch)) === 1, "SSUBSCRIBE count");
    check((await r.publish(sch, "plain")) === 0, "PUBLISH does not reach shard subscribers");
    check((await r.spublish(sch, "s1")) === 1, "SPUBLISH");
    await waitFor(() => sharded.length >= 1, 5000, "smessage");
    check(JSON.stringify(sharded) === JSON.stringify([[sch, "s1"]]), `smessage ${JSON.stringify(sharded)}`);
    check((await sub.sunsubscribe(sch)) === 0, "SUNSUBSCRIBE count");
    check((await r.spublish(sch, "gone")) === 0, "SPUBLISH after SUNSUBSCRIBE");

    // Out of subscribed mode, the connection runs ordinary commands again.
    check((await sub.ping()) === "PONG", "PING after unsubscribing");
    check((await sub.quit()) === "OK", "QUIT");
  } finally {
    sub.disconnect();
  }
}

async function transaction(r, proto, p, opts) {
  const res = await r.multi().set(`${p}tx:a`, 1).incr(`${p}tx:a`).get(`${p}tx:a`).exec();
  check(JSON.stringify(res) === JSON.stringify([[null, "OK"], [null, 2], [null, "2"]]), `MULTI/EXEC ${JSON.stringify(res)}`);
  // A runtime error stays in its slot; the other commands still run.
  await r.lpush(`${p}tx:l`, "x");
  const res2 = await r.multi().incr(`${p}tx:l`).set(`${p}tx:b`, "y").exec();
  check(res2[0][0] instanceof ReplyError && /WRONGTYPE/.test(res2[0][0].message) && res2[1][1] === "OK",
    `runtime error inside EXEC: ${res2}`);
  // Another connection's write to a watched key makes EXEC answer null.
  const other = connect(opts);
  try {
    await whenReady(other);
    check((await r.watch(`${p}tx:w`)) === "OK", "WATCH");
    await other.set(`${p}tx:w`, "changed");
    const res3 = await r.multi().set(`${p}tx:w`, "mine").exec();
    check(res3 === null, `EXEC after a broken WATCH: ${JSON.stringify(res3)}`);
    check((await r.get(`${p}tx:w`)) === "changed", "the transaction did not run");
  } finally {
    other.disconnect();
  }
  // A queueing error aborts the whole transaction.
  let aborted = null;
  try {
    await r.multi().set(`${p}tx:c`, 1).call("NOSUCHCOMMAND").exec();
  } catch (e) {
    aborted = e;
  }
  check(aborted && /EXECABORT/.test(aborted.message), `EXECABORT: ${aborted && aborted.message}`);
  check((await r.exists(`${p}tx:c`)) === 0, "aborted transaction left nothing");
}

async function cleanup(r, p) {
  const stream = r.scanStream({ match: `${p}*`, count: 1000 });
  for await (const batch of stream) if (batch.length) await r.del(...batch);
}

async function main() {
  let failures = 0;
  const variants = [
    ["resp3 (default)", 3, {}],
    ["resp2", 2, { protocol: 2 }],
  ];
  const scenarios = { handshake, cacheAside, pipeline, errors, keysAndStrings, pubsub, transaction };
  for (const [label, proto, opts] of variants) {
    const p = `io:${proto}:${process.pid}:`;
    for (const [name, fn] of Object.entries(scenarios)) {
      const r = connect(opts);
      try {
        await whenReady(r);
        await fn(r, proto, p, opts);
        console.log(`  ok   ${label} ${name}`);
      } catch (e) {
        failures += 1;
        console.log(`  FAIL ${label} ${name}: ${e && e.message}`);
      } finally {
        try {
          await cleanup(r, p);
        } catch (_) {}
        r.disconnect();
      }
    }
  }
  const version = require("ioredis/package.json").version;
  console.log(`ioredis ${version}: ${failures ? "FAIL" : "ok"}`);
  process.exit(failures ? 1 : 0);
}

main();
