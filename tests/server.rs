//! Server commands: COMMAND, INFO, CONFIG, TIME, SHUTDOWN, DEBUG.
//! Expected replies are Redis 7.0.15's, checked against a real server
//! (byte for byte where the test compares wire text).

mod common;

use std::collections::HashMap;
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use shoal::commands::docs::{self, ArgType};
use shoal::commands::table::FAMILIES;
use shoal::commands::Keys;
use shoal::util::slot::key_slot;

/// A key named after `base` that lives on `shard` of a 2-shard server.
fn key_on(shard: usize, base: &str) -> String {
    (0..)
        .map(|i| format!("{base}:{i}"))
        .find(|k| usize::from(key_slot(k.as_bytes()) >= 8192) == shard)
        .expect("some suffix lands on the shard")
}

fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Error(b) => {
            String::from_utf8_lossy(b).into_owned()
        }
        Frame::Verbatim { text, .. } => String::from_utf8_lossy(text).into_owned(),
        other => panic!("not a string reply: {other:?}"),
    }
}

fn items(f: Frame) -> Vec<Frame> {
    match f {
        Frame::Array(v) | Frame::Set(v) => v,
        other => panic!("not an array: {other:?}"),
    }
}

/// A map reply (RESP3 map or RESP2 flat array) as name → value.
fn map(f: Frame) -> Vec<(String, Frame)> {
    match f {
        Frame::Map(pairs) => pairs.into_iter().map(|(k, v)| (text(&k), v)).collect(),
        Frame::Array(v) => v.chunks(2).map(|p| (text(&p[0]), p[1].clone())).collect(),
        other => panic!("not a map: {other:?}"),
    }
}

fn get<'a>(m: &'a [(String, Frame)], key: &str) -> &'a Frame {
    &m.iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no {key} in {m:?}"))
        .1
}

fn strings(f: Frame) -> Vec<String> {
    items(f).iter().map(text).collect()
}

fn int_of(f: &Frame) -> i64 {
    match f {
        Frame::Integer(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

/// INFO's text as (section, [(field, value)]), checking its layout: CRLF
/// line ends, `# Title` headers, one empty line between sections.
fn parse_info(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    assert!(!text.contains('\n') || text.contains("\r\n"));
    assert!(
        text.replace("\r\n", "").find('\n').is_none(),
        "bare LF in INFO"
    );
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut expect_header = true;
    for line in text.split("\r\n") {
        if line.is_empty() {
            expect_header = true;
            continue;
        }
        if let Some(title) = line.strip_prefix("# ") {
            assert!(expect_header, "header not after a blank line: {line}");
            sections.push((title.to_string(), Vec::new()));
            expect_header = false;
            continue;
        }
        let (k, v) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("not key:value: {line:?}"));
        let section = sections.last_mut().expect("field before any header");
        section.1.push((k.to_string(), v.to_string()));
    }
    assert!(text.is_empty() || text.ends_with("\r\n"));
    assert!(!text.ends_with("\r\n\r\n"), "trailing blank line");
    sections
}

fn info(raw: &mut Raw, args: &[&str]) -> Vec<(String, Vec<(String, String)>)> {
    let mut cmd = vec!["INFO"];
    cmd.extend_from_slice(args);
    parse_info(&text(&raw.call(&cmd)))
}

fn titles(sections: &[(String, Vec<(String, String)>)]) -> Vec<&str> {
    sections.iter().map(|(t, _)| t.as_str()).collect()
}

fn info_fields(raw: &mut Raw, section: &str) -> HashMap<String, String> {
    info(raw, &[section])
        .into_iter()
        .flat_map(|(_, f)| f)
        .collect()
}

fn num(fields: &HashMap<String, String>, name: &str) -> u64 {
    fields
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number"))
}

// ---- COMMAND ----------------------------------------------------------------

#[test]
fn command_count_matches_the_table() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    let count = int_of(&r.call(&["COMMAND", "COUNT"]));
    let all = items(r.call(&["COMMAND"]));
    assert_eq!(all.len() as i64, count);
    assert_eq!(items(r.call(&["COMMAND", "INFO"])).len() as i64, count);
    assert_eq!(map(r.call(&["command", "docs"])).len() as i64, count);
    let top: usize = FAMILIES.iter().map(|f| f.len()).sum();
    assert_eq!(count as usize, top);
    // LIST also names every subcommand.
    let subs: usize = FAMILIES
        .iter()
        .flat_map(|f| f.iter())
        .map(|c| c.subcommands.len())
        .sum();
    assert_eq!(strings(r.call(&["COMMAND", "LIST"])).len(), top + subs);
    // Every entry of COMMAND has the ten fields and a name COMMAND INFO finds.
    for entry in all {
        let fields = items(entry);
        assert_eq!(fields.len(), 10);
        let name = text(&fields[0]);
        let again = items(r.call(&["COMMAND", "INFO", &name]));
        assert_eq!(text(&items(again[0].clone())[0]), name);
    }
    assert_eq!(
        r.wire(&["COMMAND", "COUNT", "x"]),
        "-ERR wrong number of arguments for 'command|count' command\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "foo"]),
        "-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n"
    );
}

#[test]
fn command_info_matches_redis() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    assert_eq!(
        r.wire(&["COMMAND", "INFO", "get"]),
        "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
         *3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n\
         +access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n\
         *2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n\
         $4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
    );
    // Subcommands by full name; unknown names are nulls.
    assert_eq!(
        r.wire(&["COMMAND", "INFO", "CONFIG|get", "nosuch"]),
        "*2\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n\
         +stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n\
         $-1\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "INFO", "get|x", "config|", "a|b|c"]),
        "*3\r\n$-1\r\n$-1\r\n$-1\r\n"
    );

    let set = items(items(r.call(&["COMMAND", "INFO", "set"])).remove(0));
    assert_eq!(text(&set[0]), "set");
    assert_eq!(int_of(&set[1]), -3);
    assert_eq!(strings(set[2].clone()), ["write", "denyoom"]);
    assert_eq!(
        (int_of(&set[3]), int_of(&set[4]), int_of(&set[5])),
        (1, 1, 1)
    );
    assert_eq!(strings(set[6].clone()), ["@write", "@string", "@slow"]);

    let mset = items(items(r.call(&["COMMAND", "INFO", "mset"])).remove(0));
    assert_eq!(int_of(&mset[1]), -3);
    assert_eq!(
        (int_of(&mset[3]), int_of(&mset[4]), int_of(&mset[5])),
        (1, -1, 2)
    );
    let spec = map(items(mset[8].clone()).remove(0));
    let find = map(get(&spec, "find_keys").clone());
    let range = map(get(&find, "spec").clone());
    assert_eq!(int_of(get(&range, "lastkey")), -1);
    assert_eq!(int_of(get(&range, "keystep")), 2);

    // The container lists its subcommands; COMMAND's own tips are Redis's.
    let config = items(items(r.call(&["COMMAND", "INFO", "config"])).remove(0));
    assert_eq!(int_of(&config[1]), -2);
    assert_eq!(strings(config[6].clone()), ["@slow"]);
    let subs: Vec<String> = items(config[9].clone())
        .into_iter()
        .map(|e| text(&items(e)[0]))
        .collect();
    assert!(subs.contains(&"config|set".to_string()), "{subs:?}");
    let time = items(items(r.call(&["COMMAND", "INFO", "time"])).remove(0));
    assert_eq!(strings(time[2].clone()), ["loading", "stale", "fast"]);
    assert_eq!(strings(time[6].clone()), ["@fast"]);
    assert_eq!(strings(time[7].clone()), ["nondeterministic_output"]);
    let info = items(items(r.call(&["COMMAND", "INFO", "info"])).remove(0));
    assert_eq!(strings(info[6].clone()), ["@slow", "@dangerous"]);

    // RESP3: flags, categories, tips, key specs and empty subcommands are sets.
    r.call(&["HELLO", "3"]);
    assert_eq!(
        r.wire(&["COMMAND", "INFO", "get", "nosuch"]),
        "*2\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
         ~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n\
         +access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n\
         %1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n\
         $4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n\
         ~0\r\n_\r\n"
    );
}

#[test]
fn command_docs_matches_redis() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    let get_docs = "$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n\
         $5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n\
         $4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n\
         $3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n";
    assert_eq!(
        r.wire(&["COMMAND", "DOCS", "get"]),
        format!("*2\r\n{get_docs}")
    );
    // Unknown names are skipped, not nulls.
    assert_eq!(
        r.wire(&["COMMAND", "DOCS", "nosuch", "get", "config|nosuch"]),
        format!("*2\r\n{get_docs}")
    );
    assert_eq!(r.wire(&["COMMAND", "DOCS", "nosuch"]), "*0\r\n");

    let docs = map(r.call(&[
        "COMMAND", "DOCS", "set", "mset", "config", "time", "shutdown",
    ]));
    let names: Vec<&str> = docs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["set", "mset", "config", "time", "shutdown"]);

    let set = map(docs[0].1.clone());
    assert_eq!(text(get(&set, "summary")), "Set the string value of a key");
    assert_eq!(text(get(&set, "group")), "string");
    let args: Vec<Vec<(String, Frame)>> = items(get(&set, "arguments").clone())
        .into_iter()
        .map(map)
        .collect();
    assert_eq!(args.len(), 5);
    assert_eq!(text(get(&args[0], "type")), "key");
    assert_eq!(int_of(get(&args[0], "key_spec_index")), 0);
    assert_eq!(text(get(&args[1], "type")), "string");
    assert_eq!(text(get(&args[2], "type")), "oneof");
    assert_eq!(strings(get(&args[2], "flags").clone()), ["optional"]);
    let nx = map(items(get(&args[2], "arguments").clone()).remove(0));
    assert_eq!(text(get(&nx, "name")), "nx");
    assert_eq!(text(get(&nx, "type")), "pure-token");
    assert_eq!(text(get(&nx, "token")), "NX");
    let ex = map(items(get(&args[4], "arguments").clone()).remove(0));
    assert_eq!(text(get(&ex, "name")), "seconds");
    assert_eq!(text(get(&ex, "type")), "integer");
    assert_eq!(text(get(&ex, "token")), "EX");

    // MSET's "key value [key value ...]" is Redis's multiple block key_value.
    let mset = map(docs[1].1.clone());
    let block = map(items(get(&mset, "arguments").clone()).remove(0));
    assert_eq!(text(get(&block, "name")), "key_value");
    assert_eq!(text(get(&block, "type")), "block");
    assert_eq!(strings(get(&block, "flags").clone()), ["multiple"]);

    // Containers nest their subcommands' docs; TIME has no arguments.
    let config = map(docs[2].1.clone());
    assert_eq!(text(get(&config, "complexity")), "Depends on subcommand.");
    let subs = map(get(&config, "subcommands").clone());
    let cget = map(get(&subs, "config|get").clone());
    assert_eq!(text(get(&cget, "since")), "2.0.0");
    let param = map(items(get(&cget, "arguments").clone()).remove(0));
    assert_eq!(text(get(&param, "name")), "parameter");
    assert_eq!(strings(get(&param, "flags").clone()), ["multiple"]);
    let time = map(docs[3].1.clone());
    assert!(time.iter().all(|(k, _)| k != "arguments"));
    let shutdown = map(docs[4].1.clone());
    let first = map(items(get(&shutdown, "arguments").clone()).remove(0));
    assert_eq!(text(get(&first, "name")), "nosave_save");

    // RESP3: maps, arguments an array, flags a set.
    r.call(&["HELLO", "3"]);
    assert_eq!(
        r.wire(&["COMMAND", "DOCS", "get"]),
        "%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n\
         $5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n\
         $4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n\
         $3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n"
    );
    let wire = r.wire(&["COMMAND", "DOCS", "set"]);
    assert!(
        wire.contains("$5\r\nflags\r\n~1\r\n+optional\r\n"),
        "{wire}"
    );
}

/// The grammar of every command must parse, and the tree must be one redis-cli
/// can render (every node typed, composites non-empty).
#[test]
fn every_docs_grammar_parses() {
    fn check(name: &str, args: &[docs::Arg]) {
        for a in args {
            assert!(!a.name.is_empty(), "{name}: unnamed argument");
            match a.kind {
                ArgType::OneOf | ArgType::Block => {
                    assert!(!a.args.is_empty(), "{name}: empty {}", a.name);
                    check(name, &a.args);
                }
                ArgType::PureToken => assert!(a.token.is_some(), "{name}: {}", a.name),
                _ => assert!(a.args.is_empty()),
            }
        }
    }
    let mut seen = 0;
    for spec in FAMILIES.iter().flat_map(|f| f.iter()) {
        for s in std::iter::once(spec).chain(spec.subcommands.iter()) {
            let has_keys = matches!(s.keys, Keys::Range { .. });
            let args = docs::parse(s.args, has_keys)
                .unwrap_or_else(|e| panic!("{}: grammar {:?}: {e}", s.name, s.args));
            check(s.name, &args);
            seen += 1;
        }
    }
    assert!(seen > 10);
    // And the server answers COMMAND DOCS for all of them.
    let server = TestServer::start(1);
    let mut r = server.raw();
    let all = map(r.call(&["COMMAND", "DOCS"]));
    for (name, docs) in all {
        let d = map(docs);
        for field in ["summary", "since", "group", "complexity"] {
            assert!(d.iter().any(|(k, _)| k == field), "{name} lacks {field}");
        }
    }
}

#[test]
fn command_getkeys() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYS", "get", "a"]),
        "*1\r\n$1\r\na\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYS", "mset", "a", "b", "c"]),
        "*2\r\n$1\r\na\r\n$1\r\nc\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYS", "MSET", "a", "b", "c", "d"]),
        "*2\r\n$1\r\na\r\n$1\r\nc\r\n"
    );
    assert_eq!(
        r.wire(&["command", "getkeys", "object", "encoding", "k"]),
        "*1\r\n$1\r\nk\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYS", "get", "a", "b"]),
        "-ERR Invalid number of arguments specified for command\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYS", "set", "a"]),
        "-ERR Invalid number of arguments specified for command\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYS", "nosuch", "a"]),
        "-ERR Invalid command specified\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYS", "config", "foo"]),
        "-ERR Invalid command specified\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYS", "config", "get"]),
        "-ERR The command has no key arguments\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYS", "time", "x"]),
        "-ERR The command has no key arguments\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYS", "get"]),
        "-ERR wrong number of arguments for 'command|getkeys' command\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYSANDFLAGS", "get", "a"]),
        "*1\r\n*2\r\n$1\r\na\r\n*2\r\n+RO\r\n+access\r\n"
    );
    r.call(&["HELLO", "3"]);
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYSANDFLAGS", "get", "a"]),
        "*1\r\n*2\r\n$1\r\na\r\n~2\r\n+RO\r\n+access\r\n"
    );
}

#[test]
fn command_key_specs_and_deprecation() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    // Several key specs, listed spec by spec with their own flags.
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYSANDFLAGS", "RENAME", "a", "b"]),
        "*2\r\n*2\r\n$1\r\na\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n\
         *2\r\n$1\r\nb\r\n*2\r\n+OW\r\n+update\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYSANDFLAGS", "SINTERSTORE", "d", "x", "y"]),
        "*3\r\n*2\r\n$1\r\nd\r\n*2\r\n+RW\r\n+update\r\n\
         *2\r\n$1\r\nx\r\n*2\r\n+RO\r\n+access\r\n\
         *2\r\n$1\r\ny\r\n*2\r\n+RO\r\n+access\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYSANDFLAGS", "DEL", "a"]),
        "*1\r\n*2\r\n$1\r\na\r\n*2\r\n+RM\r\n+delete\r\n"
    );
    // SET's variable flags depend on GET.
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v"]),
        "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+OW\r\n+update\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v", "get"]),
        "*1\r\n*2\r\n$1\r\nk\r\n*3\r\n+RW\r\n+access\r\n+update\r\n"
    );
    // COMMAND INFO reports both specs of COPY.
    let info = r.wire(&["COMMAND", "INFO", "COPY"]);
    assert!(info.contains("*2\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n"));
    assert!(info.contains("*2\r\n+OW\r\n+update\r\n"));
    // Deprecated commands carry doc_flags, deprecated_since and replaced_by
    // right after complexity.
    let docs = r.wire(&["COMMAND", "DOCS", "GETSET"]);
    assert!(docs.contains(
        "$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\ndoc_flags\r\n*1\r\n+deprecated\r\n\
         $16\r\ndeprecated_since\r\n$5\r\n6.2.0\r\n\
         $11\r\nreplaced_by\r\n$30\r\n`SET` with the `!GET` argument\r\n"
    ));
    assert!(!r.wire(&["COMMAND", "DOCS", "GET"]).contains("deprecated"));
}

#[test]
fn command_list_and_filters() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    let all = strings(r.call(&["COMMAND", "LIST"]));
    assert!(all.contains(&"get".to_string()));
    assert!(all.contains(&"config|get".to_string()));
    assert!(all.contains(&"command".to_string()));
    assert_eq!(
        strings(r.call(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "config*"])),
        [
            "config",
            "config|get",
            "config|set",
            "config|resetstat",
            "config|help"
        ]
    );
    assert_eq!(
        strings(r.call(&["COMMAND", "LIST", "filterby", "pattern", "CONFIG|G*"])),
        ["config|get"]
    );
    let admin = strings(r.call(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "ADMIN"]));
    assert!(admin.contains(&"shutdown".to_string()));
    assert!(admin.contains(&"config|set".to_string()));
    assert!(!admin.contains(&"get".to_string()));
    let fast = strings(r.call(&["COMMAND", "LIST", "FILTERBY", "aclcat", "fast"]));
    assert!(fast.contains(&"get".to_string()) && fast.contains(&"time".to_string()));
    assert_eq!(
        r.wire(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "@admin"]),
        "*0\r\n"
    );
    assert_eq!(
        r.wire(&["COMMAND", "LIST", "FILTERBY", "MODULE", "x"]),
        "*0\r\n"
    );
    for bad in [
        vec!["COMMAND", "LIST", "FILTERBY"],
        vec!["COMMAND", "LIST", "FILTERBY", "PATTERN"],
        vec!["COMMAND", "LIST", "FILTERBY", "foo", "bar"],
        vec!["COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "b"],
        vec!["COMMAND", "LIST", "x"],
    ] {
        assert_eq!(r.wire(&bad), "-ERR syntax error\r\n", "{bad:?}");
    }
}

#[test]
fn help_texts() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    assert_eq!(
        r.wire(&["command", "help"]),
        "*21\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n\
         +(no subcommand)\r\n+    Return details about all Redis commands.\r\n+COUNT\r\n\
         +    Return the total number of commands in this Redis server.\r\n+LIST\r\n\
         +    Return a list of all commands in this Redis server.\r\n\
         +INFO [<command-name> ...]\r\n+    Return details about multiple Redis commands.\r\n\
         +    If no command names are given, documentation details for all\r\n\
         +    commands are returned.\r\n+DOCS [<command-name> ...]\r\n\
         +    Return documentation details about multiple Redis commands.\r\n\
         +    If no command names are given, documentation details for all\r\n\
         +    commands are returned.\r\n+GETKEYS <full-command>\r\n\
         +    Return the keys from a full Redis command.\r\n+GETKEYSANDFLAGS <full-command>\r\n\
         +    Return the keys and the access flags from a full Redis command.\r\n+HELP\r\n\
         +    Prints this help.\r\n"
    );
    assert_eq!(
        r.wire(&["CONFIG", "HELP"]),
        "*9\r\n+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n\
         +GET <pattern>\r\n\
         +    Return parameters matching the glob-like <pattern> and their values.\r\n\
         +SET <directive> <value>\r\n+    Set the configuration <directive> to <value>.\r\n\
         +RESETSTAT\r\n+    Reset statistics reported by the INFO command.\r\n+HELP\r\n\
         +    Prints this help.\r\n"
    );
    assert_eq!(
        r.wire(&["command", "help", "x"]),
        "-ERR wrong number of arguments for 'command|help' command\r\n"
    );
    assert_eq!(
        r.wire(&["config"]),
        "-ERR wrong number of arguments for 'config' command\r\n"
    );
    assert_eq!(
        r.wire(&["config", "foo"]),
        "-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n"
    );
}

// ---- INFO -------------------------------------------------------------------

const DEFAULT_SECTIONS: &[&str] = &[
    "Server",
    "Clients",
    "Memory",
    "Persistence",
    "Stats",
    "Replication",
    "CPU",
    "Modules",
    "Errorstats",
    "Cluster",
    "Keyspace",
];

#[test]
fn info_sections() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    assert_eq!(titles(&info(&mut r, &[])), DEFAULT_SECTIONS);
    assert_eq!(titles(&info(&mut r, &["default"])), DEFAULT_SECTIONS);
    let all = [
        "Server",
        "Clients",
        "Memory",
        "Persistence",
        "Stats",
        "Replication",
        "CPU",
        "Modules",
        "Commandstats",
        "Errorstats",
        "Latencystats",
        "Cluster",
        "Keyspace",
    ];
    assert_eq!(titles(&info(&mut r, &["all"])), all);
    assert_eq!(titles(&info(&mut r, &["EVERYTHING"])), all);
    // Sections come in Redis's order whatever the argument order, once each.
    assert_eq!(
        titles(&info(&mut r, &["keyspace", "server", "Server", "KEYSPACE"])),
        ["Server", "Keyspace"]
    );
    assert_eq!(titles(&info(&mut r, &["cpu"])), ["CPU"]);
    assert_eq!(
        titles(&info(&mut r, &["keyspace", "default"])),
        DEFAULT_SECTIONS
    );
    assert_eq!(r.wire(&["INFO", "nosuch"]), "$0\r\n\r\n");
    assert_eq!(r.wire(&["INFO", "keyspace"]), "$12\r\n# Keyspace\r\n\r\n");
    assert_eq!(
        r.wire(&["INFO", "cluster"]),
        "$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"
    );

    let server = info_fields(&mut r, "server");
    assert_eq!(server["redis_version"], "7.0.15");
    assert_eq!(server["redis_mode"], "standalone");
    assert_eq!(server["multiplexing_api"], "epoll");
    assert_eq!(server["tcp_port"], s.addr.port().to_string());
    assert_eq!(server["process_id"], std::process::id().to_string());
    assert_eq!(server["run_id"].len(), 40);
    assert_eq!(server["arch_bits"], "64");
    assert_eq!(server["io_threads_active"], "0");
    assert_eq!(server["shards"], "2");
    assert!(!server["shoal_version"].is_empty());
    let repl = info_fields(&mut r, "replication");
    assert_eq!(repl["role"], "master");
    assert_eq!(repl["connected_slaves"], "0");
    assert_eq!(repl["master_replid"].len(), 40);
    assert_ne!(repl["master_replid"], server["run_id"]);
    let persistence = info_fields(&mut r, "persistence");
    assert_eq!(persistence["loading"], "0");
    assert_eq!(persistence["aof_enabled"], "0");
    assert_eq!(persistence["rdb_bgsave_in_progress"], "0");
    let memory = info_fields(&mut r, "memory");
    assert!(num(&memory, "used_memory") > 0);
    assert!(num(&memory, "used_memory_rss") > 0);
    assert!(num(&memory, "used_memory_peak") >= num(&memory, "used_memory"));
    assert_eq!(memory["maxmemory_policy"], "noeviction");
    assert_eq!(memory["maxmemory_human"], "0B");
    let cpu = info_fields(&mut r, "cpu");
    let user: f64 = cpu["used_cpu_user"].parse().expect("a float");
    assert!(user >= 0.0);
    assert_eq!(
        cpu["used_cpu_user"].split('.').nth(1).map(str::len),
        Some(6)
    );

    // RESP3: a verbatim string of the same text.
    r.call(&["HELLO", "3"]);
    assert_eq!(
        r.wire(&["INFO", "keyspace"]),
        "=16\r\ntxt:# Keyspace\r\n\r\n"
    );
    match r.call(&["INFO"]) {
        Frame::Verbatim { format, text } => {
            assert_eq!(&format[..], b"txt");
            parse_info(&String::from_utf8_lossy(&text));
        }
        other => panic!("INFO in RESP3 replied {other:?}"),
    }
}

#[test]
fn info_counters_move() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    let before = info_fields(&mut r, "stats");
    let (a, b) = (key_on(0, "a"), key_on(1, "b"));
    r.call(&["SET", &a, "1"]);
    r.call(&["SET", &b, "1"]);
    r.call(&["EXPIRE", &b, "100"]);
    r.call(&["GET", &a]);
    r.call(&["GET", "missing"]);
    r.call(&["SELECT", "3"]);
    r.call(&["SET", &a, "x"]);
    r.call(&["SELECT", "0"]);
    let mut other = s.raw();
    assert_eq!(other.wire(&["PING"]), "+PONG\r\n");
    let after = info_fields(&mut r, "stats");
    assert!(
        num(&after, "total_commands_processed") >= num(&before, "total_commands_processed") + 9
    );
    assert!(num(&after, "keyspace_hits") > num(&before, "keyspace_hits"));
    assert!(num(&after, "keyspace_misses") > num(&before, "keyspace_misses"));
    assert!(num(&after, "total_net_input_bytes") > num(&before, "total_net_input_bytes"));
    assert!(num(&after, "total_net_output_bytes") > num(&before, "total_net_output_bytes"));
    assert!(num(&after, "total_connections_received") > num(&before, "total_connections_received"));
    assert_eq!(after["evicted_keys"], "0");

    // Keys on both shards are summed; only non-empty databases appear.
    let keyspace = info(&mut r, &["keyspace"]);
    assert_eq!(
        keyspace[0].1,
        [
            ("db0".to_string(), "keys=2,expires=1,avg_ttl=0".to_string()),
            ("db3".to_string(), "keys=1,expires=0,avg_ttl=0".to_string()),
        ]
    );
    let clients = info_fields(&mut r, "clients");
    assert!(num(&clients, "connected_clients") >= 2);
    assert_eq!(clients["maxclients"], "10000");
    assert_eq!(clients["blocked_clients"], "0");

    // Expired keys are counted once they are reclaimed.
    r.call(&["PEXPIRE", &a, "1"]);
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(r.call(&["GET", &a]), Frame::NullBulk);
    assert!(num(&info_fields(&mut r, "stats"), "expired_keys") >= 1);

    // The instantaneous rate needs two INFOs at least 100 ms apart.
    std::thread::sleep(Duration::from_millis(120));
    for _ in 0..50 {
        r.call(&["PING"]);
    }
    let stats = info_fields(&mut r, "stats");
    assert!(num(&stats, "instantaneous_ops_per_sec") > 0, "{stats:?}");
    let kbps: f64 = stats["instantaneous_input_kbps"].parse().expect("float");
    assert!(kbps > 0.0);

    // CONFIG RESETSTAT zeroes the counters (this INFO counts itself).
    assert_eq!(r.wire(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    let reset = info_fields(&mut r, "stats");
    assert!(num(&reset, "total_commands_processed") <= 2);
    assert_eq!(reset["keyspace_hits"], "0");
    assert_eq!(reset["keyspace_misses"], "0");
    assert_eq!(reset["expired_keys"], "0");
    assert_eq!(reset["total_connections_received"], "0");
    assert_eq!(reset["instantaneous_ops_per_sec"], "0");
    assert_eq!(
        r.wire(&["CONFIG", "RESETSTAT", "x"]),
        "-ERR wrong number of arguments for 'config|resetstat' command\r\n"
    );
}

// ---- CONFIG -----------------------------------------------------------------

#[test]
fn config_get_patterns() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    assert_eq!(
        r.wire(&["CONFIG", "GET", "maxclients"]),
        "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
    );
    // An exact name is echoed as spelled.
    assert_eq!(
        r.wire(&["CONFIG", "GET", "MAXCLIENTS"]),
        "*2\r\n$10\r\nMAXCLIENTS\r\n$5\r\n10000\r\n"
    );
    let pairs = map(r.call(&["CONFIG", "GET", "maxmemory*"]));
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert!(names.contains(&"maxmemory") && names.contains(&"maxmemory-policy"));
    assert!(names.iter().all(|n| n.starts_with("maxmemory")));
    let two = map(r.call(&["CONFIG", "GET", "hz", "maxclients", "hz"]));
    assert_eq!(two.len(), 2);
    assert_eq!(r.wire(&["CONFIG", "GET", "nosuch"]), "*0\r\n");
    assert!(map(r.call(&["CONFIG", "GET", "*"])).len() > 20);
    assert_eq!(
        r.wire(&["CONFIG", "GET"]),
        "-ERR wrong number of arguments for 'config|get' command\r\n"
    );
    r.call(&["HELLO", "3"]);
    assert_eq!(
        r.wire(&["CONFIG", "GET", "maxclients"]),
        "%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
    );
    assert_eq!(r.wire(&["CONFIG", "GET", "nosuch"]), "%0\r\n");
}

#[test]
fn config_set_errors() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    let cases: &[(&[&str], &str)] = &[
        (&["CONFIG", "SET"], "-ERR wrong number of arguments for 'config|set' command\r\n"),
        (
            &["CONFIG", "SET", "maxclients"],
            "-ERR wrong number of arguments for 'config|set' command\r\n",
        ),
        (&["CONFIG", "SET", "maxclients", "10", "hz"], "-ERR syntax error\r\n"),
        (
            &["CONFIG", "SET", "maxclients", "abc"],
            "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n",
        ),
        (
            &["CONFIG", "SET", "maxclients", "0"],
            "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive\r\n",
        ),
        (
            &["CONFIG", "SET", "nosuch", "1"],
            "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n",
        ),
        (
            &["CONFIG", "SET", "maxclients", "100", "maxclients", "200"],
            "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - duplicate parameter\r\n",
        ),
        (
            &["CONFIG", "SET", "databases", "4"],
            "-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config\r\n",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(r.wire(args), *expected, "{args:?}");
    }
    // A failed CONFIG SET changes nothing, even the valid pairs.
    assert_eq!(
        r.wire(&["CONFIG", "SET", "hz", "20", "maxclients", "abc"])
            .chars()
            .next(),
        Some('-')
    );
    assert_eq!(
        r.wire(&["CONFIG", "GET", "hz"]),
        "*2\r\n$2\r\nhz\r\n$2\r\n10\r\n"
    );
    assert_eq!(
        r.wire(&["CONFIG", "SET", "hz", "20", "maxmemory", "0"]),
        "+OK\r\n"
    );
    assert_eq!(
        r.wire(&["CONFIG", "GET", "hz"]),
        "*2\r\n$2\r\nhz\r\n$2\r\n20\r\n"
    );
    let memory = info_fields(&mut r, "memory");
    assert_eq!(memory["maxmemory"], "0");
    assert_eq!(memory["maxmemory_human"], "0B");
    assert_eq!(info_fields(&mut r, "server")["hz"], "20");
}

#[test]
fn config_set_maxclients_takes_effect() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    let mut other = s.raw();
    assert_eq!(other.wire(&["PING"]), "+PONG\r\n");
    assert_eq!(r.wire(&["CONFIG", "SET", "maxclients", "2"]), "+OK\r\n");
    assert_eq!(info_fields(&mut r, "clients")["maxclients"], "2");
    let mut third = s.raw();
    assert_eq!(third.read_wire(), b"-ERR max number of clients reached\r\n");
    assert!(third.is_closed());
    assert_eq!(r.wire(&["CONFIG", "SET", "maxclients", "10"]), "+OK\r\n");
    let mut fourth = s.raw();
    assert_eq!(fourth.wire(&["PING"]), "+PONG\r\n");
    let rejected = num(&info_fields(&mut r, "stats"), "rejected_connections");
    assert_eq!(rejected, 1);
}

#[test]
fn config_set_requirepass_protects_new_connections() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    assert_eq!(
        r.wire(&["CONFIG", "SET", "requirepass", "s3cret"]),
        "+OK\r\n"
    );
    // The connection that set it stays authenticated, as in Redis.
    assert_eq!(r.wire(&["PING"]), "+PONG\r\n");
    for _ in 0..4 {
        // New connections land on either shard; all must ask for AUTH.
        let mut fresh = s.raw();
        assert_eq!(
            fresh.wire(&["PING"]),
            "-NOAUTH Authentication required.\r\n"
        );
        assert_eq!(fresh.wire(&["AUTH", "s3cret"]), "+OK\r\n");
        assert_eq!(fresh.wire(&["PING"]), "+PONG\r\n");
    }
    assert_eq!(
        r.wire(&["CONFIG", "GET", "requirepass"]),
        "*2\r\n$11\r\nrequirepass\r\n$6\r\ns3cret\r\n"
    );
    assert_eq!(r.wire(&["CONFIG", "SET", "requirepass", ""]), "+OK\r\n");
    let mut open = s.raw();
    assert_eq!(open.wire(&["PING"]), "+PONG\r\n");
}

// ---- TIME, DEBUG, SHUTDOWN ----------------------------------------------------

#[test]
fn time_reports_now() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    let reply = strings(r.call(&["TIME"]));
    assert_eq!(reply.len(), 2);
    let secs: u64 = reply[0].parse().expect("seconds");
    let micros: u64 = reply[1].parse().expect("microseconds");
    assert!(micros < 1_000_000);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    assert!(secs.abs_diff(now) <= 2);
    assert_eq!(
        r.wire(&["TIME", "x"]),
        "-ERR wrong number of arguments for 'time' command\r\n"
    );
    r.call(&["HELLO", "3"]);
    assert!(r.wire(&["TIME"]).starts_with("*2\r\n$10\r\n"));
}

#[test]
fn debug_sleep_and_help() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    assert_eq!(r.wire(&["DEBUG", "SLEEP", "0"]), "+OK\r\n");
    let start = Instant::now();
    assert_eq!(r.wire(&["debug", "sleep", "0.05"]), "+OK\r\n");
    assert!(start.elapsed() >= Duration::from_millis(50));
    // Like strtod: junk is 0 seconds, negatives do not sleep.
    for arg in ["abc", "-1", "", "nan", "inf"] {
        assert_eq!(r.wire(&["DEBUG", "SLEEP", arg]), "+OK\r\n", "{arg}");
    }
    assert_eq!(
        r.wire(&["DEBUG", "HELP"]),
        "*5\r\n+DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n\
         +SLEEP <seconds>\r\n+    Stop the server for <seconds>. Decimals allowed.\r\n\
         +HELP\r\n+    Prints this help.\r\n"
    );
    let unknown = |sub: &str| {
        format!(
            "-ERR unknown subcommand or wrong number of arguments for '{sub}'. Try DEBUG HELP.\r\n"
        )
    };
    assert_eq!(r.wire(&["DEBUG", "foo"]), unknown("foo"));
    assert_eq!(r.wire(&["DEBUG", "SLEEP"]), unknown("SLEEP"));
    assert_eq!(r.wire(&["DEBUG", "sleep", "1", "2"]), unknown("sleep"));
    assert_eq!(r.wire(&["DEBUG", "help", "x"]), unknown("help"));
    assert_eq!(
        r.wire(&["DEBUG"]),
        "-ERR wrong number of arguments for 'debug' command\r\n"
    );
}

#[test]
fn shutdown_errors_keep_the_server_up() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    for args in [
        vec!["SHUTDOWN", "foo"],
        vec!["SHUTDOWN", "NOSAVE", "SAVE"],
        vec!["SHUTDOWN", "NOW", "ABORT"],
        vec!["shutdown", "force", "abort"],
        vec!["SHUTDOWN", "save", "ABORT"],
    ] {
        assert_eq!(r.wire(&args), "-ERR syntax error\r\n", "{args:?}");
    }
    assert_eq!(
        r.wire(&["SHUTDOWN", "ABORT"]),
        "-ERR No shutdown in progress.\r\n"
    );
    assert_eq!(r.wire(&["PING"]), "+PONG\r\n");
}

#[test]
fn shutdown_stops_the_server() {
    for args in [
        vec!["SHUTDOWN"],
        vec!["SHUTDOWN", "NOSAVE", "NOW", "NOW", "FORCE"],
    ] {
        let s = TestServer::start(2);
        let mut r = s.raw();
        let mut bystander = s.raw();
        assert_eq!(bystander.wire(&["PING"]), "+PONG\r\n");
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        r.send(&a);
        // No reply: the connection just closes, and so do the others.
        assert!(r.is_closed(), "{args:?}");
        assert!(bystander.is_closed());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if TcpStream::connect(s.addr).is_err() {
                break;
            }
            assert!(Instant::now() < deadline, "port still accepts connections");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
