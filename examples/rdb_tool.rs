//! Dumps an RDB file as canonical JSON lines, and writes an RDB file from
//! such lines: the two halves of the interoperability test with
//! redis-server (redis-compat-tests/rdb/).
//!
//! ```text
//! rdb_tool dump FILE              one line per key, sorted by (db, key);
//!                                 Lua libraries first, as {"function": code}
//! rdb_tool write IN.jsonl OUT.rdb the reverse
//! rdb_tool check FILE             reads everything, verifies the checksum,
//!                                 prints the aux fields, counts and time
//! ```
//!
//! A line is `{"db":N,"key":K,"type":T,"expire":MS,"value":V}` with `expire`
//! the absolute Unix time in ms (0 = none) and `V` by type: a string; an
//! array of strings (list, in order); a sorted array of strings (set); an
//! array of `[field, value]` sorted by field (hash); an array of `[member,
//! score]` in rank order with the score as Redis prints it (`%.17g`) (zset);
//! `{"header": hex, "links": [hex, ...]}` (`MBbloom--`, the BF.SCANDUMP
//! header and each link's bits). Byte strings are JSON strings whose code
//! points are the bytes (Latin-1), escaped exactly as Python's
//! `json.dumps(..., ensure_ascii=True, separators=(",", ":"))` escapes
//! them, so both sides of the test print identical lines.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use shoal::persistence::rdb::{self, KeyMeta, Limits, RdbWriter, Record, WriterOptions};
use shoal::shard::db::Value;
use shoal::types::bloom::BloomFilter;
use shoal::types::hash::HashValue;
use shoal::types::list::{End, ListValue};
use shoal::types::set::SetValue;
use shoal::types::zset::{AddFlags, ZSetValue};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("dump") if args.len() == 3 => dump(Path::new(&args[2])),
        Some("write") if args.len() == 4 => write(Path::new(&args[2]), Path::new(&args[3])),
        Some("check") if args.len() == 3 => check(Path::new(&args[2])),
        _ => Err(
            "usage: rdb_tool dump FILE | rdb_tool write IN.jsonl OUT.rdb | rdb_tool check FILE"
                .to_string(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rdb_tool: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---- check ------------------------------------------------------------------

fn check(path: &Path) -> Result<(), String> {
    let start = std::time::Instant::now();
    let mut types: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
    let mut expires = 0u64;
    let mut functions = 0u64;
    let mut aux = Vec::new();
    let summary = rdb::load_file(path, Limits::default(), |rec| {
        match rec {
            Record::Aux { name, value } => aux.push(format!(
                "{}={}",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(value)
            )),
            Record::Function { .. } => functions += 1,
            Record::Key(k) => {
                let entry = shoal::shard::db::Entry::new(k.value);
                *types
                    .entry((entry.value.type_name(), entry.encoding()))
                    .or_default() += 1;
                expires += u64::from(k.expire_at != 0);
            }
            Record::ResizeDb { .. } => {}
        }
        Ok::<(), String>(())
    })
    .map_err(|e| format!("{}: {e}", path.display()))?;
    let secs = start.elapsed().as_secs_f64();
    println!("RDB version {}, checksum OK", summary.version);
    println!("aux: {}", aux.join(" "));
    println!(
        "{} keys ({expires} with a TTL), {functions} libraries, {} empty keys skipped",
        summary.keys, summary.skipped_empty
    );
    for ((t, enc), n) in &types {
        println!("  {t:<10} {enc:<10} {n}");
    }
    println!(
        "{} bytes in {secs:.3} s ({:.0} keys/s)",
        summary.bytes,
        summary.keys as f64 / secs.max(1e-9)
    );
    Ok(())
}

// ---- dump -------------------------------------------------------------------

fn dump(path: &Path) -> Result<(), String> {
    let mut functions: Vec<String> = Vec::new();
    let mut keys: Vec<((u32, Vec<u8>), String)> = Vec::new();
    rdb::load_file(path, Limits::default(), |rec| {
        match rec {
            Record::Function { code } => {
                let mut line = String::from("{\"function\":");
                json_str(&mut line, &code);
                line.push('}');
                functions.push(line);
            }
            Record::Key(k) => {
                let mut line = String::new();
                line.push_str(&format!("{{\"db\":{},\"key\":", k.db));
                json_str(&mut line, k.key);
                line.push_str(&format!(
                    ",\"type\":\"{}\",\"expire\":{},\"value\":",
                    k.value.type_name(),
                    k.expire_at
                ));
                json_value(&mut line, &k.value);
                line.push('}');
                keys.push(((k.db, k.key.to_vec()), line));
            }
            Record::Aux { .. } | Record::ResizeDb { .. } => {}
        }
        Ok::<(), String>(())
    })
    .map_err(|e| format!("{}: {e}", path.display()))?;
    functions.sort();
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for line in functions.iter().chain(keys.iter().map(|(_, l)| l)) {
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

fn json_value(out: &mut String, v: &Value) {
    match v {
        Value::Int(i) => json_str(out, i.to_string().as_bytes()),
        Value::Str(s) => json_str(out, s),
        Value::List(l) => json_array(out, l.iter(), json_str),
        Value::Set(s) => {
            let mut m: Vec<Vec<u8>> = Vec::with_capacity(s.len());
            s.for_each(|x| m.push(x.to_vec()));
            m.sort();
            json_array(out, m.iter(), |o, x| json_str(o, x));
        }
        Value::Hash(h) => {
            let mut p: Vec<(&[u8], &[u8])> = h.iter().collect();
            p.sort();
            json_array(out, p.iter(), |o, (f, v)| {
                o.push('[');
                json_str(o, f);
                o.push(',');
                json_str(o, v);
                o.push(']');
            });
        }
        Value::ZSet(z) => {
            let mut m: Vec<(Vec<u8>, f64)> = Vec::with_capacity(z.len());
            z.for_each(|x, s| m.push((x.to_vec(), s)));
            json_array(out, m.iter(), |o, (x, s)| {
                let mut text = Vec::new();
                shoal_protocol::encode::fmt_double_g17(*s, &mut text);
                o.push('[');
                json_str(o, x);
                o.push(',');
                json_str(o, &text);
                o.push(']');
            });
        }
        Value::Bloom(b) => {
            out.push_str("{\"header\":\"");
            out.push_str(&hex(&b.dump_header()));
            out.push_str("\",\"links\":[");
            let mut pos = 1i64;
            let mut first = true;
            while let Some((next, bits)) = b.dump_chunk(pos, usize::MAX) {
                if !first {
                    out.push(',');
                }
                first = false;
                out.push('"');
                out.push_str(&hex(bits));
                out.push('"');
                pos = next;
            }
            out.push_str("]}");
        }
    }
}

fn json_array<T>(
    out: &mut String,
    items: impl Iterator<Item = T>,
    mut f: impl FnMut(&mut String, T),
) {
    out.push('[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        f(out, item);
    }
    out.push(']');
}

/// Bytes as a JSON string of Latin-1 code points, escaped as Python's
/// `json.dumps` with `ensure_ascii=True` escapes them.
fn json_str(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\u{:04x}", b)),
        }
    }
    out.push('"');
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

// ---- write ------------------------------------------------------------------

fn write(input: &Path, output: &Path) -> Result<(), String> {
    let file = File::open(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let mut functions: Vec<Vec<u8>> = Vec::new();
    let mut dbs: BTreeMap<u32, Vec<(Vec<u8>, Value, u64)>> = BTreeMap::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            continue;
        }
        let at = |e: String| format!("{}:{}: {e}", input.display(), n + 1);
        let json = Json::parse(&line).map_err(at)?;
        if let Some(code) = json.get("function") {
            functions.push(code.bytes().map_err(at)?);
            continue;
        }
        let db = json.field("db").and_then(Json::int).map_err(at)?;
        let key = json.field("key").and_then(Json::bytes).map_err(at)?;
        let kind = json.field("type").and_then(Json::bytes).map_err(at)?;
        let expire = json.field("expire").and_then(Json::int).map_err(at)?;
        let value = build(&kind, json.field("value").map_err(at)?).map_err(at)?;
        let db = u32::try_from(db).map_err(|_| at("db out of range".into()))?;
        let expire = u64::try_from(expire).map_err(|_| at("expire out of range".into()))?;
        dbs.entry(db).or_default().push((key, value, expire));
    }
    let out = File::create(output).map_err(|e| format!("{}: {e}", output.display()))?;
    let io_err = |e: io::Error| format!("{}: {e}", output.display());
    let mut w = RdbWriter::new(BufWriter::new(out), WriterOptions::default()).map_err(io_err)?;
    for code in &functions {
        w.write_function(code).map_err(io_err)?;
    }
    for (db, keys) in &dbs {
        let expires = keys.iter().filter(|k| k.2 != 0).count() as u64;
        w.select_db(*db, keys.len() as u64, expires)
            .map_err(io_err)?;
        for (key, value, expire) in keys {
            w.write_key(key, value, *expire, KeyMeta::default())
                .map_err(io_err)?;
        }
    }
    let out = w.finish().map_err(io_err)?;
    out.into_inner()
        .map_err(|e| e.to_string())?
        .sync_all()
        .map_err(io_err)
}

/// Builds a value with the default thresholds, through the same
/// operations the commands use.
fn build(kind: &[u8], v: &Json) -> Result<Value, String> {
    Ok(match kind {
        b"string" => Value::from_bytes(&v.bytes()?),
        b"list" => {
            let mut l = ListValue::new();
            for e in v.array()? {
                l.push(&e.bytes()?, End::Tail, Default::default());
            }
            Value::List(l)
        }
        b"set" => {
            let mut s = SetValue::new();
            for e in v.array()? {
                s.insert(&e.bytes()?, 512);
            }
            Value::Set(s)
        }
        b"hash" => {
            let mut h = HashValue::new();
            for p in v.array()? {
                let p = p.array()?;
                let [f, x] = p else {
                    return Err("a hash pair is not [field, value]".into());
                };
                h.set(&f.bytes()?, &x.bytes()?, Default::default());
            }
            Value::Hash(h)
        }
        b"zset" => {
            let mut z = ZSetValue::new();
            for p in v.array()? {
                let p = p.array()?;
                let [m, s] = p else {
                    return Err("a zset pair is not [member, score]".into());
                };
                let score = shoal::util::num::parse_f64(&s.bytes()?)
                    .ok_or_else(|| "a score is not a number".to_string())?;
                z.add(score, &m.bytes()?, AddFlags::default(), Default::default())
                    .map_err(|_| "a NaN score".to_string())?;
            }
            Value::ZSet(z)
        }
        b"MBbloom--" => {
            let header = unhex(&v.field("header")?.bytes()?)?;
            let mut b = BloomFilter::from_header(&header).map_err(|e| e.text().to_string())?;
            let mut pos = 1i64;
            for link in v.field("links")?.array()? {
                let bits = unhex(&link.bytes()?)?;
                pos += bits.len() as i64;
                b.load_chunk(pos, &bits).map_err(|e| e.text().to_string())?;
            }
            Value::Bloom(Box::new(b))
        }
        other => return Err(format!("unknown type {:?}", String::from_utf8_lossy(other))),
    })
}

fn unhex(s: &[u8]) -> Result<Vec<u8>, String> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err("bad hex".to_string()),
    };
    s.chunks(2)
        .map(|p| match p {
            [h, l] => Ok(digit(*h)? << 4 | digit(*l)?),
            _ => Err("odd hex length".to_string()),
        })
        .collect()
}

// ---- a minimal JSON reader ------------------------------------------------------

/// Just what the lines above use: strings as bytes (code points up to
/// 0xFF), integers, arrays and objects.
#[derive(Debug)]
enum Json {
    Str(Vec<u8>),
    Int(i64),
    Array(Vec<Json>),
    Object(Vec<(Vec<u8>, Json)>),
}

impl Json {
    fn parse(text: &str) -> Result<Json, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            pos: 0,
            text,
        };
        let v = p.value()?;
        p.ws();
        if p.pos != p.s.len() {
            return Err(format!("trailing text at column {}", p.pos + 1));
        }
        Ok(v)
    }

    fn get(&self, name: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields
                .iter()
                .find(|(k, _)| k == name.as_bytes())
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn field(&self, name: &str) -> Result<&Json, String> {
        self.get(name).ok_or_else(|| format!("no field {name:?}"))
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        match self {
            Json::Str(b) => Ok(b.clone()),
            _ => Err("expected a string".into()),
        }
    }

    fn int(&self) -> Result<i64, String> {
        match self {
            Json::Int(i) => Ok(*i),
            _ => Err("expected an integer".into()),
        }
    }

    fn array(&self) -> Result<&[Json], String> {
        match self {
            Json::Array(a) => Ok(a),
            _ => Err("expected an array".into()),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self
            .s
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at column {}", self.pos + 1))
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(&format!("expected '{}'", char::from(c)))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.pos) {
            Some(b'"') => self.string().map(Json::Str),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return self.err("expected ',' or ']'"),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut fields = Vec::new();
                self.ws();
                if self.s.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(Json::Object(fields));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.expect(b':')?;
                    fields.push((k, self.value()?));
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Json::Object(fields));
                        }
                        _ => return self.err("expected ',' or '}'"),
                    }
                }
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.pos;
                self.pos += 1;
                while self.s.get(self.pos).is_some_and(u8::is_ascii_digit) {
                    self.pos += 1;
                }
                self.text[start..self.pos]
                    .parse()
                    .map(Json::Int)
                    .or_else(|_| self.err("bad integer"))
            }
            _ => self.err("expected a value"),
        }
    }

    fn string(&mut self) -> Result<Vec<u8>, String> {
        if self.s.get(self.pos) != Some(&b'"') {
            return self.err("expected a string");
        }
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                return self.err("unterminated string");
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos + 1) else {
                        return self.err("unterminated escape");
                    };
                    self.pos += 2;
                    out.push(match e {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            let code = self
                                .text
                                .get(self.pos..self.pos + 4)
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .filter(|&c| c <= 0xff);
                            let Some(code) = code else {
                                return self.err("\\u escape is not a byte (Latin-1)");
                            };
                            self.pos += 4;
                            code as u8
                        }
                        _ => return self.err("bad escape"),
                    });
                }
                _ => {
                    // A raw character: its code point must be a byte.
                    let ch = self.text[self.pos..].chars().next().unwrap_or('\0');
                    let code = u32::from(ch);
                    if code > 0xff {
                        return self.err("character outside Latin-1");
                    }
                    out.push(code as u8);
                    self.pos += ch.len_utf8();
                }
            }
        }
    }
}
