// node-redis v4 (the `redis` npm package, RESP2 only) used the way an app server uses it.
//
// Usage: node node-redis.js --port P [--host H]
//
// createClient() + connect() with the default handshake (v4 sends nothing before the
// first command unless a name/password/database is configured). Keys carry a per-run
// prefix and are deleted at the end.
"use strict";

const { createClient, ErrorReply } = require("redis");

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const PORT = Number(arg("--port"));
const HOST = arg("--host", "127.0.0.1");
if (!PORT) {
  console.error("usage: node node-redis.js --port P [--host H]");
  process.exit(2);
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function expectErrorReply(promise, fragment, what) {
  let got;
  try {
    got = await promise;
  } catch (e) {
    check(e instanceof ErrorReply, `${what}: ${e && e.constructor && e.constructor.name} is not an ErrorReply: ${e}`);
    check(e.message.toLowerCase().includes(fragment.toLowerCase()), `${what}: ${e.message} lacks ${fragment}`);
    return;
  }
  throw new Error(`${what}: expected an ErrorReply, got ${JSON.stringify(got)}`);
}

async function handshake(c) {
  check(c.isReady, "client not ready");
  check((await c.ping()) === "PONG", "PING");
  const info = await c.clientInfo();
  check(info.resp === undefined || Number(info.resp) === 2, `CLIENT INFO resp=${info.resp}`);
  check((await c.echo("héllo")) === "héllo", "ECHO utf-8");
}

async function cacheAside(c, p) {
  let computed = 0;
  async function getUser(id) {
    const key = `${p}user:${id}`;
    const cached = await c.get(key);
    if (cached !== null) return [JSON.parse(cached), true];
    computed += 1;
    const value = { id, name: `user${id}` };
    check((await c.set(key, JSON.stringify(value), { EX: 60 })) === "OK", "SET EX");
    return [value, false];
  }
  const [, hit1] = await getUser(7);
  const [v2, hit2] = await getUser(7);
  check(!hit1 && hit2 && computed === 1 && v2.id === 7, `miss then hit, got ${hit1} ${hit2} computed ${computed}`);
  const ttl = await c.ttl(`${p}user:7`);
  check(ttl > 0 && ttl <= 60, `TTL after SET EX 60 = ${ttl}`);
  check((await c.set(`${p}short`, "x", { PX: 80 })) === "OK", "SET PX");
  check((await c.get(`${p}short`)) === "x", "GET before expiry");
  await sleep(250);
  check((await c.get(`${p}short`)) === null, "key readable after PX expiry");
  check((await c.set(`${p}lock`, "me", { EX: 5, NX: true })) === "OK", "SET NX on free lock");
  check((await c.set(`${p}lock`, "you", { EX: 5, NX: true })) === null, "SET NX on held lock");
}

async function pipeline(c, p) {
  const n = 250;
  const m = c.multi();
  for (let i = 0; i < n; i++) {
    m.set(`${p}pl:${i}`, String(i)).incr(`${p}plc`).get(`${p}pl:${i}`).exists(`${p}pl:${i}`);
  }
  const results = await m.execAsPipeline();
  check(results.length === 4 * n, `pipeline returned ${results.length}`);
  for (let i = 0; i < n; i++) {
    const [s, inc, g, e] = results.slice(4 * i, 4 * i + 4);
    check(s === "OK" && inc === i + 1 && g === String(i) && e === 1, `pipeline #${i} -> ${[s, inc, g, e]}`);
  }
  // Implicit pipelining: commands issued in the same tick share one write.
  const many = await Promise.all(Array.from({ length: 1000 }, (_, i) => c.get(`${p}pl:${i % n}`)));
  check(many.every((v, i) => v === String(i % n)), "1,000 concurrent GETs");
}

async function errors(c, p) {
  await expectErrorReply(c.sendCommand(["NOSUCHCOMMAND", "x"]), "unknown command", "unknown command");
  await expectErrorReply(c.sendCommand(["GET"]), "wrong number of arguments", "GET arity");
  await c.set(`${p}notint`, "abc");
  await expectErrorReply(c.incr(`${p}notint`), "not an integer", "INCR non-integer");
  await expectErrorReply(c.incrByFloat(`${p}notint`, 1.5), "not a valid float", "INCRBYFLOAT non-float");
  check((await c.ping()) === "PONG", "PING after errors");
  // WRONGTYPE activates once the server has LPUSH (Shoal has only strings so far).
  const probe = await c.sendCommand(["COMMAND", "INFO", "lpush"]);
  if (Array.isArray(probe) && probe[0]) {
    await c.lPush(`${p}list`, "a");
    await expectErrorReply(c.get(`${p}list`), "WRONGTYPE", "GET on a list");
  }
}

async function keysAndStrings(c, p) {
  const pairs = Array.from({ length: 200 }, (_, i) => [`${p}m:${i}`, `v${i}`]);
  check((await c.mSet(pairs)) === "OK", "MSET");
  const vals = await c.mGet([...pairs.map(([k]) => k), `${p}m:missing`]);
  check(vals.length === 201 && vals[200] === null && pairs.every(([, v], i) => vals[i] === v), "MGET");
  check((await c.incr(`${p}n`)) === 1 && (await c.incrBy(`${p}n`, 41)) === 42, "INCR/INCRBY");
  check((await c.incrByFloat(`${p}f`, 10.5)) === "10.5", "INCRBYFLOAT");
  for (let i = 0; i < 100; i++) await c.set(`${p}scan:${i}`, "1");
  const seen = new Set();
  for await (const k of c.scanIterator({ MATCH: `${p}scan:*`, COUNT: 30 })) seen.add(k);
  check(seen.size === 100, `scanIterator found ${seen.size} of 100`);
  check((await c.exists([...seen])) === 100, "EXISTS many");
  check((await c.del([...seen])) === 100, "DEL many");
  check((await c.clientSetName("app-node-redis")) === "OK", "CLIENT SETNAME");
  check((await c.clientGetName()) === "app-node-redis", "CLIENT GETNAME");
  check(/^redis_version:/m.test(await c.info()), "INFO");
  const cfg = await c.configGet("maxmemory");
  check(/^\d+$/.test(cfg.maxmemory), `CONFIG GET -> ${JSON.stringify(cfg)}`);
}

async function transaction(c, p) {
  const res = await c.multi().set(`${p}tx:a`, "1").incr(`${p}tx:a`).get(`${p}tx:a`).exec();
  check(JSON.stringify(res) === JSON.stringify(["OK", 2, "2"]), `MULTI/EXEC ${JSON.stringify(res)}`);
  // Another connection's write to a watched key fails the transaction.
  const other = c.duplicate();
  other.on("error", () => {});
  await other.connect();
  try {
    check((await c.watch(`${p}tx:w`)) === "OK", "WATCH");
    await other.set(`${p}tx:w`, "changed");
    let failed = null;
    try {
      await c.multi().set(`${p}tx:w`, "mine").exec();
    } catch (e) {
      failed = e;
    }
    check(failed && failed.constructor.name === "WatchError", `EXEC after a broken WATCH: ${failed}`);
    check((await c.get(`${p}tx:w`)) === "changed", "the transaction did not run");
  } finally {
    await other.quit();
  }
}

async function main() {
  let failures = 0;
  const p = `nr:${process.pid}:`;
  const scenarios = { handshake, cacheAside, pipeline, errors, keysAndStrings, transaction };
  for (const [name, fn] of Object.entries(scenarios)) {
    const c = createClient({ socket: { host: HOST, port: PORT, connectTimeout: 5000, reconnectStrategy: false } });
    c.on("error", () => {});
    try {
      await c.connect();
      await fn(c, p);
      console.log(`  ok   resp2 ${name}`);
    } catch (e) {
      failures += 1;
      console.log(`  FAIL resp2 ${name}: ${e && e.message}`);
    } finally {
      try {
        const keys = [];
        for await (const k of c.scanIterator({ MATCH: `${p}*`, COUNT: 1000 })) keys.push(k);
        if (keys.length) await c.del(keys);
        await c.quit();
      } catch (_) {}
    }
  }
  console.log(`node-redis ${require("redis/package.json").version}: ${failures ? "FAIL" : "ok"}`);
  process.exit(failures ? 1 : 0);
}

main();
