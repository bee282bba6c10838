//! The `redis` crate's sync API used the way an app server uses it.
//!
//! Usage: check --port P [--host H]
//!
//! Every scenario runs in RESP2 and in RESP3 (`?protocol=resp3`), each on a fresh
//! connection made with the crate's default handshake (HELLO 3 for RESP3, and the
//! pipelined CLIENT SETINFO whose error Redis 7.0 answers and the crate ignores).
//! Keys carry a per-run prefix and are deleted afterwards; the server is never flushed.

use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::thread::sleep;
use std::time::Duration;

use redis::{
    Commands, Connection, ErrorKind, ExistenceCheck, RedisError, RedisResult, ServerErrorKind,
    SetExpiry, SetOptions, Value,
};

type Check = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

fn r<T>(what: &str, res: RedisResult<T>) -> Result<T, String> {
    res.map_err(|e| format!("{what}: unexpected error {e}"))
}

/// The command must fail with a server error of `kind`, raw code `code`, and a
/// message containing `fragment`.
fn expect_server_error<T: std::fmt::Debug>(
    what: &str,
    res: RedisResult<T>,
    kind: ErrorKind,
    code: &str,
    fragment: &str,
) -> Check {
    match res {
        Ok(v) => Err(format!("{what}: expected an error, got {v:?}")),
        Err(e) => check_error(what, &e, kind, code, fragment),
    }
}

fn check_error(what: &str, e: &RedisError, kind: ErrorKind, code: &str, fragment: &str) -> Check {
    ensure!(
        e.kind() == kind,
        "{what}: kind {:?}, wanted {kind:?} ({e})",
        e.kind()
    );
    ensure!(
        e.code() == Some(code),
        "{what}: code {:?}, wanted {code} ({e})",
        e.code()
    );
    let text = e.to_string().to_lowercase();
    ensure!(
        text.contains(&fragment.to_lowercase()),
        "{what}: {e} lacks {fragment:?}"
    );
    Ok(())
}

const RESPONSE_ERROR: ErrorKind = ErrorKind::Server(ServerErrorKind::ResponseError);

fn handshake(con: &mut Connection, resp3: bool, _p: &str) -> Check {
    let pong: String = r("PING", redis::cmd("PING").query(con))?;
    ensure!(pong == "PONG", "PING -> {pong}");
    let info: String = r("CLIENT INFO", redis::cmd("CLIENT").arg("INFO").query(con))?;
    let want = if resp3 { "resp=3" } else { "resp=2" };
    ensure!(
        info.split_whitespace().any(|f| f == want),
        "CLIENT INFO lacks {want}: {info}"
    );
    // Redis 7.0 has no CLIENT SETINFO; a server that keeps the name must keep ours.
    if let Some(name) = info
        .split_whitespace()
        .find_map(|f| f.strip_prefix("lib-name="))
    {
        ensure!(name.is_empty() || name == "redis-rs", "lib-name={name}");
    }
    let echoed: Vec<u8> = r(
        "ECHO",
        redis::cmd("ECHO").arg(&b"bin\x00\xff"[..]).query(con),
    )?;
    ensure!(echoed == b"bin\x00\xff", "ECHO binary -> {echoed:?}");
    Ok(())
}

fn cache_aside(con: &mut Connection, _resp3: bool, p: &str) -> Check {
    let mut computed = 0;
    let mut get_user = |con: &mut Connection, id: u32| -> Result<(String, bool), String> {
        let key = format!("{p}user:{id}");
        if let Some(v) = r("GET", con.get::<_, Option<String>>(&key))? {
            return Ok((v, true));
        }
        computed += 1;
        let v = format!("{{\"id\":{id},\"name\":\"user{id}\"}}");
        r("SET EX", con.set_ex::<_, _, ()>(&key, &v, 60))?;
        Ok((v, false))
    };
    let (v1, hit1) = get_user(con, 7)?;
    let (v2, hit2) = get_user(con, 7)?;
    ensure!(!hit1 && hit2, "miss then hit, got {hit1} {hit2}");
    ensure!(
        v1 == v2 && computed == 1,
        "cached value {v2} computed {computed} times"
    );
    let ttl: i64 = r("TTL", con.ttl(format!("{p}user:7")))?;
    ensure!(ttl > 0 && ttl <= 60, "TTL after SET EX 60 = {ttl}");

    let short = format!("{p}short");
    let opts = SetOptions::default().with_expiration(SetExpiry::PX(80));
    let reply: Option<String> = r("SET PX", con.set_options(&short, "x", opts))?;
    ensure!(reply.as_deref() == Some("OK"), "SET PX -> {reply:?}");
    let before: Option<String> = r("GET", con.get(&short))?;
    ensure!(
        before.as_deref() == Some("x"),
        "GET before expiry -> {before:?}"
    );
    sleep(Duration::from_millis(250));
    let after: Option<String> = r("GET", con.get(&short))?;
    ensure!(after.is_none(), "key readable after PX expiry: {after:?}");
    let ttl: i64 = r("TTL", con.ttl(&short))?;
    ensure!(ttl == -2, "TTL of expired key = {ttl}");

    let lock = format!("{p}lock");
    let nx = SetOptions::default()
        .conditional_set(ExistenceCheck::NX)
        .with_expiration(SetExpiry::EX(5));
    let first: Option<String> = r("SET NX", con.set_options(&lock, "me", nx.clone()))?;
    let second: Option<String> = r("SET NX", con.set_options(&lock, "you", nx))?;
    ensure!(
        first.as_deref() == Some("OK") && second.is_none(),
        "SET NX -> {first:?} {second:?}"
    );
    let got: Option<String> = r("GETDEL", con.get_del(&lock))?;
    ensure!(got.as_deref() == Some("me"), "GETDEL -> {got:?}");
    Ok(())
}

fn pipeline(con: &mut Connection, _resp3: bool, p: &str) -> Check {
    let n = 250;
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.set(format!("{p}pl:{i}"), i)
            .incr(format!("{p}plc"), 1)
            .get(format!("{p}pl:{i}"))
            .exists(format!("{p}pl:{i}"));
    }
    let results: Vec<Value> = r("pipeline", pipe.query(con))?;
    ensure!(
        results.len() == 4 * n,
        "pipeline returned {} results",
        results.len()
    );
    for (i, chunk) in results.chunks(4).enumerate() {
        ensure!(
            matches!(chunk[0], Value::Okay),
            "SET #{i} -> {:?}",
            chunk[0]
        );
        ensure!(
            chunk[1] == Value::Int(i as i64 + 1),
            "INCR #{i} -> {:?}",
            chunk[1]
        );
        let want = Value::BulkString(i.to_string().into_bytes());
        ensure!(chunk[2] == want, "GET #{i} -> {:?}", chunk[2]);
        ensure!(chunk[3] == Value::Int(1), "EXISTS #{i} -> {:?}", chunk[3]);
    }
    // Typed decoding of a whole pipeline, as apps usually write it.
    let (a, b): (Option<String>, i64) = r(
        "typed pipeline",
        redis::pipe()
            .get(format!("{p}pl:3"))
            .get(format!("{p}plc"))
            .query(con),
    )?;
    ensure!(
        a.as_deref() == Some("3") && b == n as i64,
        "typed pipeline -> {a:?} {b}"
    );

    // One failing command inside a pipeline, errors kept per slot.
    let pe = format!("{p}pe");
    let slots: Vec<RedisResult<Value>> = r(
        "pipeline with error",
        redis::pipe()
            .set(&pe, "abc")
            .incr(&pe, 1)
            .get(&pe)
            .ignore_errors()
            .query(con),
    )?;
    ensure!(
        slots.len() == 3,
        "pipeline with error: {} slots",
        slots.len()
    );
    ensure!(matches!(slots[0], Ok(Value::Okay)), "slot 0 {:?}", slots[0]);
    match &slots[1] {
        Ok(v) => return Err(format!("INCR non-integer in pipeline -> {v:?}")),
        Err(e) => check_error("pipeline INCR", e, RESPONSE_ERROR, "ERR", "not an integer")?,
    }
    ensure!(
        matches!(&slots[2], Ok(Value::BulkString(b)) if b == b"abc"),
        "slot 2 {:?}",
        slots[2]
    );
    // Without ignore_errors the whole query fails with the server's error.
    let res: RedisResult<Value> = redis::pipe().set(&pe, "abc").incr(&pe, 1).query(con);
    expect_server_error(
        "pipeline error",
        res,
        RESPONSE_ERROR,
        "ERR",
        "not an integer",
    )
}

fn errors(con: &mut Connection, _resp3: bool, p: &str) -> Check {
    let res: RedisResult<Value> = redis::cmd("NOSUCHCOMMAND").arg("x").query(con);
    expect_server_error(
        "unknown command",
        res,
        RESPONSE_ERROR,
        "ERR",
        "unknown command",
    )?;
    let res: RedisResult<Value> = redis::cmd("GET").query(con);
    expect_server_error(
        "GET arity",
        res,
        RESPONSE_ERROR,
        "ERR",
        "wrong number of arguments",
    )?;
    let key = format!("{p}notint");
    r("SET", con.set::<_, _, ()>(&key, "abc"))?;
    let res: RedisResult<i64> = con.incr(&key, 1);
    expect_server_error(
        "INCR non-integer",
        res,
        RESPONSE_ERROR,
        "ERR",
        "not an integer",
    )?;
    let res: RedisResult<f64> = con.incr(&key, 1.5);
    expect_server_error(
        "INCRBYFLOAT non-float",
        res,
        RESPONSE_ERROR,
        "ERR",
        "not a valid float",
    )?;
    let res: RedisResult<Value> = redis::cmd("SET")
        .arg(&key)
        .arg("v")
        .arg("EX")
        .arg(0)
        .query(con);
    expect_server_error(
        "SET EX 0",
        res,
        RESPONSE_ERROR,
        "ERR",
        "invalid expire time",
    )?;
    let pong: String = r("PING after errors", redis::cmd("PING").query(con))?;
    ensure!(pong == "PONG", "PING after errors -> {pong}");

    // WRONGTYPE needs a second data type: the check activates once the server has
    // LPUSH (Shoal has only strings so far; Redis has it). COMMAND INFO answers
    // nil for an unknown command. The crate has no ErrorKind for WRONGTYPE: it is an
    // Extension error carrying the raw code.
    let probe: Vec<Value> = r(
        "COMMAND INFO",
        redis::cmd("COMMAND").arg("INFO").arg("lpush").query(con),
    )?;
    if matches!(probe.first(), Some(Value::Array(_))) {
        let list = format!("{p}list");
        r("LPUSH", con.lpush::<_, _, i64>(&list, "a"))?;
        let res: RedisResult<Option<String>> = con.get(&list);
        expect_server_error(
            "GET on a list",
            res,
            ErrorKind::Extension,
            "WRONGTYPE",
            "wrong kind",
        )?;
        let res: RedisResult<i64> = con.incr(&list, 1);
        expect_server_error(
            "INCR on a list",
            res,
            ErrorKind::Extension,
            "WRONGTYPE",
            "wrong kind",
        )?;
    }
    Ok(())
}

fn keys_and_strings(con: &mut Connection, resp3: bool, p: &str) -> Check {
    let items: Vec<(String, String)> = (0..200)
        .map(|i| (format!("{p}m:{i}"), format!("v{i}")))
        .collect();
    r("MSET", con.mset::<_, _, ()>(&items))?;
    let mut keys: Vec<String> = items.iter().map(|(k, _)| k.clone()).collect();
    keys.push(format!("{p}m:missing"));
    let vals: Vec<Option<String>> = r("MGET", con.mget(&keys))?;
    ensure!(
        vals.len() == 201 && vals[200].is_none(),
        "MGET length/missing {}",
        vals.len()
    );
    for (i, v) in vals.iter().take(200).enumerate() {
        ensure!(
            v.as_deref() == Some(format!("v{i}").as_str()),
            "MGET[{i}] -> {v:?}"
        );
    }

    let n = format!("{p}n");
    let a: i64 = r("INCR", con.incr(&n, 1))?;
    let b: i64 = r("INCRBY", con.incr(&n, 41))?;
    let c: i64 = r("DECRBY", con.decr(&n, 2))?;
    ensure!(
        (a, b, c) == (1, 42, 40),
        "INCR/INCRBY/DECRBY -> {a} {b} {c}"
    );
    let f: f64 = r("INCRBYFLOAT", con.incr(format!("{p}f"), 10.5))?;
    let g: f64 = r("INCRBYFLOAT", con.incr(format!("{p}f"), 0.1))?;
    ensure!(
        f == 10.5 && (g - 10.6).abs() < 1e-9,
        "INCRBYFLOAT -> {f} {g}"
    );
    let stored: String = r("GET", con.get(format!("{p}f")))?;
    ensure!(stored == "10.6", "INCRBYFLOAT stored {stored}");

    let scan_keys: HashSet<String> = (0..300).map(|i| format!("{p}scan:{i}")).collect();
    let pairs: Vec<(&String, &str)> = scan_keys.iter().map(|k| (k, "1")).collect();
    r("MSET", con.mset::<_, _, ()>(&pairs))?;
    let seen: HashSet<String> = r(
        "SCAN",
        r("SCAN", con.scan_match(format!("{p}scan:*")))?.collect::<RedisResult<_>>(),
    )?;
    ensure!(
        seen == scan_keys,
        "SCAN MATCH found {} of {}",
        seen.len(),
        scan_keys.len()
    );
    let some: Vec<&String> = scan_keys.iter().take(10).collect();
    let count: i64 = r(
        "EXISTS",
        redis::cmd("EXISTS")
            .arg(&some)
            .arg(format!("{p}none"))
            .query(con),
    )?;
    ensure!(count == 10, "EXISTS 10 of 11 -> {count}");
    let exists: bool = r("EXISTS", con.exists(&n))?;
    ensure!(exists, "EXISTS one key -> false");
    let all: Vec<&String> = scan_keys.iter().collect();
    let deleted: usize = r("DEL", con.del(&all))?;
    ensure!(deleted == 300, "DEL 300 keys -> {deleted}");
    let kind: String = r("TYPE", con.key_type(&n))?;
    ensure!(kind == "string", "TYPE -> {kind}");

    let name = format!("app-rs-{}", if resp3 { 3 } else { 2 });
    r("CLIENT SETNAME", con.client_setname::<_, ()>(&name))?;
    let got: Option<String> = r("CLIENT GETNAME", con.client_getname())?;
    ensure!(
        got.as_deref() == Some(name.as_str()),
        "CLIENT GETNAME -> {got:?}"
    );

    let info: redis::InfoDict = r("INFO", redis::cmd("INFO").query(con))?;
    ensure!(
        info.get::<String>("redis_version").is_some(),
        "INFO lacks redis_version"
    );
    ensure!(
        info.get::<i64>("connected_clients").is_some(),
        "INFO lacks connected_clients"
    );
    let cfg: HashMap<String, String> = r(
        "CONFIG GET",
        redis::cmd("CONFIG").arg("GET").arg("maxmemory").query(con),
    )?;
    ensure!(
        cfg.get("maxmemory")
            .is_some_and(|v| v.parse::<u64>().is_ok()),
        "CONFIG GET -> {cfg:?}"
    );
    let size: i64 = r("DBSIZE", redis::cmd("DBSIZE").query(con))?;
    ensure!(size >= 0, "DBSIZE -> {size}");
    Ok(())
}

fn transaction(con: &mut Connection, _resp3: bool, p: &str) -> Check {
    let a = format!("{p}tx:a");
    let res: Vec<Value> = r(
        "MULTI/EXEC",
        redis::pipe().atomic().set(&a, 1).incr(&a, 1).get(&a).query(con),
    )?;
    ensure!(
        res == vec![
            Value::Okay,
            Value::Int(2),
            Value::BulkString(b"2".to_vec())
        ],
        "MULTI/EXEC -> {res:?}"
    );
    // A write to a watched key, even the connection's own, makes EXEC
    // answer nil, which the crate returns as None.
    let w = format!("{p}tx:w");
    r("WATCH", redis::cmd("WATCH").arg(&w).query::<()>(con))?;
    r("SET", con.set::<_, _, ()>(&w, "changed"))?;
    let res: Option<(String,)> = r(
        "EXEC after a broken WATCH",
        redis::pipe().atomic().set(&w, "mine").query(con),
    )?;
    ensure!(res.is_none(), "EXEC after a broken WATCH -> {res:?}");
    let now: String = r("GET", con.get(&w))?;
    ensure!(now == "changed", "the transaction ran: {now}");
    // The crate's optimistic-transaction helper (WATCH, read, MULTI, EXEC).
    let counter = format!("{p}tx:counter");
    let (n,): (i64,) = r(
        "redis::transaction",
        redis::transaction(con, &[&counter], |con, pipe| {
            let v: Option<i64> = con.get(&counter)?;
            pipe.set(&counter, v.unwrap_or(0) + 5).ignore().get(&counter).query(con)
        }),
    )?;
    ensure!(n == 5, "transaction helper -> {n}");
    Ok(())
}

fn cleanup(con: &mut Connection, p: &str) -> RedisResult<()> {
    let keys: Vec<String> = con
        .scan_match::<_, String>(format!("{p}*"))?
        .collect::<RedisResult<_>>()?;
    if !keys.is_empty() {
        con.del::<_, ()>(&keys)?;
    }
    Ok(())
}

type Scenario = fn(&mut Connection, bool, &str) -> Check;

fn main() -> ExitCode {
    let mut port = None;
    let mut host = "127.0.0.1".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next(),
            "--host" => host = args.next().unwrap_or(host),
            _ => {}
        }
    }
    let Some(port) = port else {
        eprintln!("usage: check --port P [--host H]");
        return ExitCode::from(2);
    };
    let scenarios: [(&str, Scenario); 6] = [
        ("handshake", handshake),
        ("cache_aside", cache_aside),
        ("pipeline", pipeline),
        ("errors", errors),
        ("keys_and_strings", keys_and_strings),
        ("transaction", transaction),
    ];
    let mut failures = 0;
    for resp3 in [false, true] {
        let proto = if resp3 { 3 } else { 2 };
        let url = format!("redis://{host}:{port}/?protocol=resp{proto}");
        let p = format!("rs:{proto}:{}:", std::process::id());
        for (name, scenario) in scenarios {
            let outcome = redis::Client::open(url.as_str())
                .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(5)))
                .map_err(|e| format!("connect: {e}"))
                .and_then(|mut con| {
                    let _ = con.set_read_timeout(Some(Duration::from_secs(10)));
                    let res = scenario(&mut con, resp3, &p);
                    let _ = cleanup(&mut con, &p);
                    res
                });
            match outcome {
                Ok(()) => println!("  ok   resp{proto} {name}"),
                Err(e) => {
                    failures += 1;
                    println!("  FAIL resp{proto} {name}: {e}");
                }
            }
        }
    }
    println!(
        "redis crate (sync): {}",
        if failures > 0 { "FAIL" } else { "ok" }
    );
    if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
