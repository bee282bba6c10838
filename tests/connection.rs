//! Connection commands: PING, ECHO, QUIT, RESET, HELLO, AUTH, CLIENT.
//! Expected replies are Redis 7.0.15's, checked against a real server.

mod common;

use std::time::{Duration, Instant};

use common::*;

const WRONGPASS: &str = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
const NOAUTH: &str = "-NOAUTH Authentication required.\r\n";
const NOAUTH_HELLO: &str = "-NOAUTH HELLO must be called with the client already authenticated, \
     otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and \
     select the RESP protocol version at the same time\r\n";
const BAD_NAME: &str =
    "-ERR Client names cannot contain spaces, newlines or special characters.\r\n";

/// The fields of a CLIENT LIST line, in Redis 7.0.15's order.
const FIELDS: &[&str] = &[
    "id",
    "addr",
    "laddr",
    "fd",
    "name",
    "age",
    "idle",
    "flags",
    "db",
    "sub",
    "psub",
    "ssub",
    "multi",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "rbs",
    "rbp",
    "obl",
    "oll",
    "omem",
    "tot-mem",
    "events",
    "cmd",
    "user",
    "redir",
    "resp",
];

fn secret_server(shards: usize) -> TestServer {
    TestServer::with(|c| {
        c.shards = shards;
        c.requirepass = Some(b"secret".to_vec());
    })
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

fn client_id(raw: &mut Raw) -> i64 {
    match raw.call(&["CLIENT", "ID"]) {
        Frame::Integer(id) => id,
        other => panic!("CLIENT ID replied {other:?}"),
    }
}

/// `field=value` pairs of one CLIENT LIST line.
fn fields(line: &str) -> Vec<(String, String)> {
    line.trim_end_matches('\n')
        .split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn field(line: &str, name: &str) -> String {
    fields(line)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no field {name} in {line}"))
}

/// The CLIENT LIST lines, one per connection.
fn list(raw: &mut Raw, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["CLIENT", "LIST"];
    args.extend_from_slice(extra);
    text(&raw.call(&args)).lines().map(str::to_string).collect()
}

fn ids_listed(raw: &mut Raw) -> Vec<i64> {
    list(raw, &[])
        .iter()
        .map(|l| field(l, "id").parse().expect("numeric id"))
        .collect()
}

// ---- PING / ECHO ---------------------------------------------------------

#[test]
fn ping_and_echo() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    assert_eq!(r.wire(&["PING"]), "+PONG\r\n");
    assert_eq!(r.wire(&["ping", "hello"]), "$5\r\nhello\r\n");
    assert_eq!(r.wire(&["PING", ""]), "$0\r\n\r\n");
    assert_eq!(
        r.wire(&["PING", "a", "b"]),
        "-ERR wrong number of arguments for 'ping' command\r\n"
    );
    assert_eq!(r.wire(&["ECHO", "x y"]), "$3\r\nx y\r\n");
    assert_eq!(r.wire(&["ECHO", ""]), "$0\r\n\r\n");
    assert_eq!(
        r.wire(&["ECHO"]),
        "-ERR wrong number of arguments for 'echo' command\r\n"
    );
    assert_eq!(
        r.wire(&["ECHO", "a", "b"]),
        "-ERR wrong number of arguments for 'echo' command\r\n"
    );
    // RESP3 changes neither.
    r.call(&["HELLO", "3"]);
    assert_eq!(r.wire(&["PING"]), "+PONG\r\n");
    assert_eq!(r.wire(&["PING", "m"]), "$1\r\nm\r\n");
    assert_eq!(r.wire(&["ECHO", "m"]), "$1\r\nm\r\n");
}

// ---- QUIT ----------------------------------------------------------------

#[test]
fn quit_replies_ok_then_closes() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    assert_eq!(r.wire(&["QUIT"]), "+OK\r\n");
    assert!(r.is_closed());

    // Extra arguments are ignored; commands pipelined after QUIT never run.
    let mut r = s.raw();
    let mut pipeline = encode_cmd(&[b"QUIT", b"now"]);
    pipeline.extend(encode_cmd(&[b"PING"]));
    r.send_raw(&pipeline);
    assert_eq!(r.read(), simple("OK"));
    assert!(r.is_closed());
}

#[test]
fn quit_needs_no_authentication() {
    let s = secret_server(1);
    let mut r = s.raw();
    assert_eq!(r.wire(&["QUIT"]), "+OK\r\n");
    assert!(r.is_closed());
}

// ---- RESET ---------------------------------------------------------------

#[test]
fn reset_restores_a_fresh_connection() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    assert_eq!(r.wire(&["CLIENT", "SETNAME", "before"]), "+OK\r\n");
    assert_eq!(r.wire(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    assert!(matches!(r.call(&["HELLO", "3"]), Frame::Map(_)));
    assert_eq!(r.wire(&["RESET"]), "+RESET\r\n");
    // RESP2 again: a missing name is $-1, not RESP3's _.
    assert_eq!(r.wire(&["CLIENT", "GETNAME"]), "$-1\r\n");
    let info = text(&r.call(&["CLIENT", "INFO"]));
    assert_eq!(field(&info, "name"), "");
    assert_eq!(field(&info, "resp"), "2");
    assert_eq!(field(&info, "db"), "0");
    // Redis 7.0 keeps NO-EVICT across RESET.
    assert_eq!(field(&info, "flags"), "e");
    assert_eq!(
        r.wire(&["RESET", "x"]),
        "-ERR wrong number of arguments for 'reset' command\r\n"
    );
}

#[test]
fn reset_forgets_authentication_when_a_password_is_set() {
    let s = secret_server(2);
    let mut r = s.raw();
    assert_eq!(r.wire(&["RESET"]), "+RESET\r\n"); // allowed before AUTH
    assert_eq!(r.wire(&["AUTH", "secret"]), "+OK\r\n");
    assert_eq!(r.wire(&["CLIENT", "SETNAME", "n"]), "+OK\r\n");
    assert_eq!(r.wire(&["RESET"]), "+RESET\r\n");
    assert_eq!(r.wire(&["PING"]), NOAUTH);
    assert_eq!(r.wire(&["AUTH", "secret"]), "+OK\r\n");
    assert_eq!(r.wire(&["CLIENT", "GETNAME"]), "$-1\r\n");
}

// ---- HELLO ---------------------------------------------------------------

fn hello_wire(proto: u8, id: i64) -> String {
    let head = if proto == 3 { "%7" } else { "*14" };
    format!(
        "{head}\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n\
         $5\r\nproto\r\n:{proto}\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n\
         $4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    )
}

#[test]
fn hello_switches_protocol_and_back() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    let id = client_id(&mut r);
    // Without arguments: a report in the current protocol.
    assert_eq!(r.wire(&["HELLO"]), hello_wire(2, id));
    // The reply to HELLO 3 is already a RESP3 map.
    assert_eq!(r.wire(&["HELLO", "3"]), hello_wire(3, id));
    assert_eq!(r.wire(&["HELLO"]), hello_wire(3, id));
    assert_eq!(r.wire(&["CLIENT", "GETNAME"]), "_\r\n");
    let info = r.call(&["CLIENT", "INFO"]);
    match &info {
        Frame::Verbatim { format, text } => {
            assert_eq!(&format[..], b"txt");
            assert!(String::from_utf8_lossy(text).contains(" resp=3"));
        }
        other => panic!("CLIENT INFO in RESP3 replied {other:?}"),
    }
    // And back.
    assert_eq!(r.wire(&["HELLO", "2"]), hello_wire(2, id));
    assert_eq!(r.wire(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert!(matches!(r.call(&["CLIENT", "INFO"]), Frame::Bulk(_)));
}

#[test]
fn hello_map_in_resp3() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    let Frame::Map(pairs) = r.call(&["HELLO", "3"]) else {
        panic!("HELLO 3 is not a map");
    };
    let keys: Vec<String> = pairs.iter().map(|(k, _)| text(k)).collect();
    assert_eq!(
        keys,
        ["server", "version", "proto", "id", "mode", "role", "modules"]
    );
    assert_eq!(pairs[2].1, int(3));
    assert_eq!(pairs[6].1, arr(vec![]));
}

#[test]
fn hello_errors() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    for v in ["1", "4", "-1", "0"] {
        assert_eq!(
            r.wire(&["HELLO", v]),
            "-NOPROTO unsupported protocol version\r\n",
            "HELLO {v}"
        );
    }
    for v in ["abc", "3.0", "02", " 3", "99999999999999999999"] {
        assert_eq!(
            r.wire(&["HELLO", v]),
            "-ERR Protocol version is not an integer or out of range\r\n",
            "HELLO {v}"
        );
    }
    // The version is checked before the options.
    assert_eq!(
        r.wire(&["HELLO", "4", "AUTH", "default", "x"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        r.wire(&["HELLO", "3", "foo"]),
        "-ERR Syntax error in HELLO option 'foo'\r\n"
    );
    assert_eq!(
        r.wire(&["HELLO", "3", "auth", "default"]),
        "-ERR Syntax error in HELLO option 'auth'\r\n"
    );
    assert_eq!(
        r.wire(&["HELLO", "3", "setname"]),
        "-ERR Syntax error in HELLO option 'setname'\r\n"
    );
    assert_eq!(r.wire(&["HELLO", "3", "SETNAME", "a b"]), BAD_NAME);
    assert_eq!(r.wire(&["HELLO", "3", "AUTH", "bob", "x"]), WRONGPASS);
    // No failed HELLO switched the protocol.
    assert_eq!(r.wire(&["CLIENT", "GETNAME"]), "$-1\r\n");
}

#[test]
fn hello_options_apply_in_order() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    let id = client_id(&mut r);
    assert_eq!(
        r.wire(&["hello", "2", "SetName", "first", "setname", "second"]),
        hello_wire(2, id)
    );
    assert_eq!(r.wire(&["CLIENT", "GETNAME"]), "$6\r\nsecond\r\n");
    // A SETNAME before a bad option sticks, as in Redis.
    assert_eq!(
        r.wire(&["HELLO", "3", "SETNAME", "kept", "bogus"]),
        "-ERR Syntax error in HELLO option 'bogus'\r\n"
    );
    assert_eq!(r.wire(&["CLIENT", "GETNAME"]), "$4\r\nkept\r\n");
    // Empty clears the name; the default user has no password, so any works.
    assert_eq!(
        r.wire(&["HELLO", "2", "AUTH", "default", "anything", "SETNAME", ""]),
        hello_wire(2, id)
    );
    assert_eq!(r.wire(&["CLIENT", "GETNAME"]), "$-1\r\n");
}

// ---- AUTH ----------------------------------------------------------------

#[test]
fn auth_without_a_password_configured() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    assert_eq!(
        r.wire(&["AUTH", "x"]),
        "-ERR AUTH <password> called without any password configured for the default user. \
         Are you sure your configuration is correct?\r\n"
    );
    assert_eq!(r.wire(&["AUTH", "default", "x"]), "+OK\r\n");
    assert_eq!(r.wire(&["AUTH", "DEFAULT", "x"]), WRONGPASS);
    assert_eq!(r.wire(&["AUTH", "bob", "x"]), WRONGPASS);
    assert_eq!(r.wire(&["AUTH", "a", "b", "c"]), "-ERR syntax error\r\n");
    assert_eq!(
        r.wire(&["AUTH"]),
        "-ERR wrong number of arguments for 'auth' command\r\n"
    );
    assert_eq!(r.wire(&["PING"]), "+PONG\r\n");
}

#[test]
fn auth_flow_with_requirepass() {
    let s = secret_server(2);
    let mut r = s.raw();
    assert_eq!(r.wire(&["PING"]), NOAUTH);
    assert_eq!(r.wire(&["ECHO", "x"]), NOAUTH);
    assert_eq!(r.wire(&["CLIENT", "ID"]), NOAUTH);
    assert_eq!(r.wire(&["CLIENT", "HELP"]), NOAUTH);
    assert_eq!(r.wire(&["AUTH", "wrong"]), WRONGPASS);
    assert_eq!(r.wire(&["AUTH", "default", "wrong"]), WRONGPASS);
    assert_eq!(r.wire(&["AUTH", "DEFAULT", "secret"]), WRONGPASS);
    assert_eq!(r.wire(&["AUTH", "bob", "secret"]), WRONGPASS);
    assert_eq!(r.wire(&["AUTH", "secre"]), WRONGPASS);
    assert_eq!(r.wire(&["AUTH", "secret2"]), WRONGPASS);
    assert_eq!(r.wire(&["PING"]), NOAUTH);
    assert_eq!(r.wire(&["AUTH", "secret"]), "+OK\r\n");
    assert_eq!(r.wire(&["PING"]), "+PONG\r\n");
    // A failed AUTH does not undo an earlier success.
    assert_eq!(r.wire(&["AUTH", "wrong"]), WRONGPASS);
    assert_eq!(r.wire(&["PING"]), "+PONG\r\n");

    let mut r2 = s.raw();
    assert_eq!(r2.wire(&["AUTH", "default", "secret"]), "+OK\r\n");
    assert_eq!(r2.wire(&["ECHO", "in"]), "$2\r\nin\r\n");

    // AUTH and the next command in one pipeline: the second sees the first.
    let mut r3 = s.raw();
    let mut pipeline = encode_cmd(&[b"AUTH", b"secret"]);
    pipeline.extend(encode_cmd(&[b"PING"]));
    r3.send_raw(&pipeline);
    assert_eq!(r3.read(), simple("OK"));
    assert_eq!(r3.read(), simple("PONG"));
}

#[test]
fn hello_with_requirepass() {
    let s = secret_server(2);
    let mut r = s.raw();
    assert_eq!(r.wire(&["HELLO"]), NOAUTH_HELLO);
    assert_eq!(r.wire(&["HELLO", "3"]), NOAUTH_HELLO);
    assert_eq!(
        r.wire(&["HELLO", "3", "AUTH", "default", "wrong"]),
        WRONGPASS
    );
    // Option errors come before authentication when they come first.
    assert_eq!(
        r.wire(&["HELLO", "3", "SETNAME", "a b", "AUTH", "default", "wrong"]),
        BAD_NAME
    );
    // SETNAME applies even though the command then fails for lack of AUTH.
    assert_eq!(r.wire(&["HELLO", "3", "SETNAME", "early"]), NOAUTH_HELLO);
    assert_eq!(r.wire(&["PING"]), NOAUTH);

    let reply = r.call(&["HELLO", "3", "AUTH", "default", "secret", "SETNAME", "n1"]);
    let Frame::Map(pairs) = reply else {
        panic!("HELLO 3 AUTH did not reply with a map: {reply:?}");
    };
    assert_eq!(pairs[2].1, int(3));
    assert_eq!(r.wire(&["PING"]), "+PONG\r\n");
    assert_eq!(r.wire(&["CLIENT", "GETNAME"]), "$2\r\nn1\r\n");

    // AUTH inside HELLO authenticates even if a later option is bad.
    let mut r2 = s.raw();
    assert_eq!(r2.wire(&["CLIENT", "GETNAME"]), NOAUTH);
    assert_eq!(
        r2.wire(&["HELLO", "2", "AUTH", "default", "secret", "zzz"]),
        "-ERR Syntax error in HELLO option 'zzz'\r\n"
    );
    assert_eq!(r2.wire(&["PING"]), "+PONG\r\n");

    let mut r3 = s.raw();
    assert_eq!(r3.wire(&["HELLO", "3", "SETNAME", "early"]), NOAUTH_HELLO);
    assert_eq!(r3.wire(&["AUTH", "secret"]), "+OK\r\n");
    assert_eq!(r3.wire(&["CLIENT", "GETNAME"]), "$5\r\nearly\r\n");
}

#[test]
fn redis_crate_authenticates_with_password() {
    let s = secret_server(2);
    let url = format!("redis://:secret@{}/", s.addr);
    let mut c = redis::Client::open(url.clone())
        .expect("client")
        .get_connection()
        .expect("connect with password");
    let pong: String = redis::cmd("PING").query(&mut c).expect("ping");
    assert_eq!(pong, "PONG");

    let mut c3 = redis::Client::open(format!("{url}?protocol=resp3"))
        .expect("client")
        .get_connection()
        .expect("connect with HELLO 3 AUTH");
    let info: String = redis::cmd("CLIENT")
        .arg("INFO")
        .query(&mut c3)
        .expect("info");
    assert!(info.contains(" resp=3"), "{info}");

    let bad = redis::Client::open(format!("redis://:nope@{}/", s.addr))
        .expect("client")
        .get_connection();
    assert!(bad.is_err(), "a wrong password must not connect");
}

// ---- CLIENT: the calling connection --------------------------------------

#[test]
fn client_id_name_and_info() {
    let s = TestServer::start(2);
    let mut r = s.raw();
    let id = client_id(&mut r);
    assert!(id > 0);
    let mut other = s.raw();
    assert_ne!(client_id(&mut other), id, "ids are unique");

    assert_eq!(r.wire(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(r.wire(&["CLIENT", "SETNAME", "a:b-c_d.e"]), "+OK\r\n");
    assert_eq!(r.wire(&["CLIENT", "GETNAME"]), "$9\r\na:b-c_d.e\r\n");
    for bad in ["a b", "a\nb", "é", "\x7f"] {
        assert_eq!(r.wire(&["CLIENT", "SETNAME", bad]), BAD_NAME, "{bad:?}");
    }
    assert_eq!(r.wire(&["CLIENT", "GETNAME"]), "$9\r\na:b-c_d.e\r\n");
    assert_eq!(r.wire(&["CLIENT", "SETNAME", ""]), "+OK\r\n");
    assert_eq!(r.wire(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(r.wire(&["client", "setname", "me"]), "+OK\r\n");

    let info = text(&r.call(&["CLIENT", "INFO"]));
    assert!(info.ends_with('\n'));
    let line = info.trim_end_matches('\n');
    let names: Vec<String> = fields(line).into_iter().map(|(k, _)| k).collect();
    assert_eq!(names, FIELDS);
    assert_eq!(field(line, "id"), id.to_string());
    assert_eq!(field(line, "name"), "me");
    assert_eq!(field(line, "flags"), "N");
    assert_eq!(field(line, "cmd"), "client|info");
    assert_eq!(field(line, "user"), "default");
    assert_eq!(field(line, "argv-mem"), "10");
    assert_eq!(field(line, "multi"), "-1");
    assert_eq!(field(line, "redir"), "-1");
    assert_eq!(field(line, "resp"), "2");
    assert_eq!(
        field(line, "addr"),
        r.stream.local_addr().expect("addr").to_string()
    );
    assert_eq!(field(line, "laddr"), s.addr.to_string());
}

#[test]
fn client_arity_and_unknown_subcommands() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    let cases: &[(&[&str], &str)] = &[
        (
            &["CLIENT"],
            "-ERR wrong number of arguments for 'client' command\r\n",
        ),
        (
            &["CLIENT", "foo"],
            "-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n",
        ),
        (
            &["CLIENT", "NO-TOUCH", "on"],
            "-ERR unknown subcommand 'NO-TOUCH'. Try CLIENT HELP.\r\n",
        ),
        (
            &["CLIENT", "ID", "x"],
            "-ERR wrong number of arguments for 'client|id' command\r\n",
        ),
        (
            &["CLIENT", "SETNAME"],
            "-ERR wrong number of arguments for 'client|setname' command\r\n",
        ),
        (
            &["CLIENT", "SETNAME", "a", "b"],
            "-ERR wrong number of arguments for 'client|setname' command\r\n",
        ),
        (
            &["CLIENT", "GETNAME", "x"],
            "-ERR wrong number of arguments for 'client|getname' command\r\n",
        ),
        (
            &["CLIENT", "INFO", "x"],
            "-ERR wrong number of arguments for 'client|info' command\r\n",
        ),
        (
            &["CLIENT", "KILL"],
            "-ERR wrong number of arguments for 'client|kill' command\r\n",
        ),
        (
            &["CLIENT", "NO-EVICT"],
            "-ERR wrong number of arguments for 'client|no-evict' command\r\n",
        ),
        (
            &["CLIENT", "HELP", "x"],
            "-ERR wrong number of arguments for 'client|help' command\r\n",
        ),
        (
            &["CLIENT", "SETINFO", "lib-name"],
            "-ERR wrong number of arguments for 'client|setinfo' command\r\n",
        ),
    ];
    for (args, want) in cases {
        assert_eq!(r.wire(args), *want, "{args:?}");
    }
}

#[test]
fn client_no_evict() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    assert_eq!(r.wire(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    assert_eq!(field(&text(&r.call(&["CLIENT", "INFO"])), "flags"), "e");
    assert_eq!(r.wire(&["CLIENT", "NO-EVICT", "OFF"]), "+OK\r\n");
    assert_eq!(field(&text(&r.call(&["CLIENT", "INFO"])), "flags"), "N");
    assert_eq!(r.wire(&["CLIENT", "NO-EVICT", "On"]), "+OK\r\n");
    assert_eq!(
        r.wire(&["CLIENT", "NO-EVICT", "maybe"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(field(&text(&r.call(&["CLIENT", "INFO"])), "flags"), "e");
}

#[test]
fn client_setinfo() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    assert_eq!(
        r.wire(&["CLIENT", "SETINFO", "LIB-NAME", "redis-py"]),
        "+OK\r\n"
    );
    assert_eq!(
        r.wire(&["client", "setinfo", "lib-ver", "5.0.1"]),
        "+OK\r\n"
    );
    assert_eq!(r.wire(&["CLIENT", "SETINFO", "lib-ver", ""]), "+OK\r\n");
    assert_eq!(
        r.wire(&["CLIENT", "SETINFO", "foo", "x"]),
        "-ERR Unrecognized option 'foo'\r\n"
    );
    assert_eq!(
        r.wire(&["CLIENT", "SETINFO", "lib-name", "a b"]),
        "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n"
    );
}

#[test]
fn client_help() {
    let s = TestServer::start(1);
    let mut r = s.raw();
    let Frame::Array(lines) = r.call(&["CLIENT", "HELP"]) else {
        panic!("CLIENT HELP is not an array");
    };
    assert_eq!(lines.len(), 48);
    assert_eq!(
        lines[0],
        simple("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
    );
    assert_eq!(lines[47], simple("    Prints this help."));
    assert!(lines.iter().all(|l| matches!(l, Frame::Simple(_))));
}

// ---- CLIENT LIST ---------------------------------------------------------

#[test]
fn client_list_spans_shards() {
    let s = TestServer::start(2);
    let mut conns: Vec<Raw> = (0..4).map(|_| s.raw()).collect();
    let mut ids = Vec::new();
    for (i, c) in conns.iter_mut().enumerate() {
        ids.push(client_id(c));
        assert_eq!(c.wire(&["CLIENT", "SETNAME", &format!("c{i}")]), "+OK\r\n");
    }
    // The connections are spread over both shards (ids are handed out as
    // each shard registers its connection, so not necessarily in connect
    // order); every one is listed, in id order.
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids_listed(&mut conns[0]), sorted);
    let lines = list(&mut conns[1], &[]);
    assert_eq!(lines.len(), 4);
    for line in &lines {
        let names: Vec<String> = fields(line).into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, FIELDS);
        let id: i64 = field(line, "id").parse().expect("id");
        let i = ids.iter().position(|&x| x == id).expect("a known id");
        assert_eq!(field(line, "name"), format!("c{i}"));
        // Each line's cmd is that connection's last command; argv-mem
        // counts the arguments of the one running now.
        let (cmd, argv_mem) = match i {
            0 | 1 => ("client|list", if i == 1 { "10" } else { "0" }),
            _ => ("client|setname", "0"),
        };
        assert_eq!(field(line, "cmd"), cmd, "{line}");
        assert_eq!(field(line, "argv-mem"), argv_mem, "{line}");
    }
    // Every connection sees the same set.
    assert_eq!(ids_listed(&mut conns[3]), sorted);
}

#[test]
fn client_list_filters() {
    let s = TestServer::start(2);
    let mut a = s.raw();
    let mut b = s.raw();
    let (ida, idb) = (client_id(&mut a), client_id(&mut b));

    assert_eq!(list(&mut a, &["TYPE", "normal"]).len(), 2);
    assert_eq!(list(&mut a, &["type", "NORMAL"]).len(), 2);
    for t in ["master", "replica", "slave", "pubsub"] {
        assert_eq!(a.wire(&["CLIENT", "LIST", "TYPE", t]), "$0\r\n\r\n", "{t}");
    }
    assert_eq!(
        a.wire(&["CLIENT", "LIST", "TYPE", "foo"]),
        "-ERR Unknown client type 'foo'\r\n"
    );

    // ID: in the order given, repeats included, unknown ids skipped.
    let (sa, sb) = (ida.to_string(), idb.to_string());
    let lines = list(&mut a, &["ID", &sb, "99999", &sa, &sb]);
    let got: Vec<String> = lines.iter().map(|l| field(l, "id")).collect();
    assert_eq!(got, [sb.clone(), sa.clone(), sb.clone()]);
    assert_eq!(a.wire(&["CLIENT", "LIST", "ID", "0", "-1"]), "$0\r\n\r\n");
    assert_eq!(
        a.wire(&["CLIENT", "LIST", "ID", &sa, "abc"]),
        "-ERR Invalid client ID\r\n"
    );
    assert_eq!(
        a.wire(&["CLIENT", "LIST", "ID", "9223372036854775808"]),
        "-ERR Invalid client ID\r\n"
    );

    for bad in [
        &["TYPE"][..],
        &["ID"],
        &["foo"],
        &["TYPE", "normal", "x"],
        &["TYPE", "normal", "ID", "1"],
    ] {
        let mut args = vec!["CLIENT", "LIST"];
        args.extend_from_slice(bad);
        assert_eq!(a.wire(&args), "-ERR syntax error\r\n", "{args:?}");
    }

    // RESP3: a verbatim string.
    a.call(&["HELLO", "3"]);
    let wire = a.wire(&["CLIENT", "LIST", "ID", &sa]);
    assert!(wire.starts_with('='), "{wire}");
    assert!(wire.contains("\r\ntxt:id="), "{wire}");
}

// ---- CLIENT KILL ---------------------------------------------------------

/// Waits (bounded) until `id` no longer appears in CLIENT LIST.
fn wait_gone(observer: &mut Raw, id: i64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while ids_listed(observer).contains(&id) {
        assert!(Instant::now() < deadline, "client {id} still listed");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn client_kill_by_id_closes_victims_on_every_shard() {
    let s = TestServer::start(2);
    let mut killer = s.raw();
    // Four victims: with two shards, at least one shares the killer's shard
    // and at least one lives on the other.
    let mut victims: Vec<Raw> = (0..4).map(|_| s.raw()).collect();
    for v in victims.iter_mut() {
        let id = client_id(v);
        assert_eq!(
            killer.wire(&["CLIENT", "KILL", "ID", &id.to_string()]),
            ":1\r\n"
        );
        assert!(v.is_closed(), "victim {id} still open");
        // Marked connections are not listed nor killed twice.
        assert!(!ids_listed(&mut killer).contains(&id));
        assert_eq!(
            killer.wire(&["CLIENT", "KILL", "ID", &id.to_string()]),
            ":0\r\n"
        );
    }
    assert_eq!(killer.wire(&["PING"]), "+PONG\r\n");
}

#[test]
fn client_kill_old_form_by_address() {
    let s = TestServer::start(2);
    let mut killer = s.raw();
    let mut victim = s.raw();
    let vid = client_id(&mut victim);
    let addr = victim.stream.local_addr().expect("addr").to_string();
    assert_eq!(killer.wire(&["CLIENT", "KILL", &addr]), "+OK\r\n");
    assert!(victim.is_closed());
    wait_gone(&mut killer, vid);
    assert_eq!(
        killer.wire(&["CLIENT", "KILL", "1.2.3.4:5"]),
        "-ERR No such client\r\n"
    );
    // Three arguments are the old form even when the word is an option name.
    assert_eq!(
        killer.wire(&["CLIENT", "KILL", "ID"]),
        "-ERR No such client\r\n"
    );

    // The old form may kill the caller itself: OK, then the connection closes.
    let own = killer.stream.local_addr().expect("addr").to_string();
    assert_eq!(killer.wire(&["CLIENT", "KILL", &own]), "+OK\r\n");
    assert!(killer.is_closed());
}

#[test]
fn client_kill_filters() {
    let s = TestServer::start(2);
    let mut me = s.raw();
    let my_id = client_id(&mut me).to_string();
    let mut victim = s.raw();
    let vid = client_id(&mut victim);
    let vaddr = victim.stream.local_addr().expect("addr").to_string();

    // The caller is skipped by default.
    assert_eq!(me.wire(&["CLIENT", "KILL", "ID", &my_id]), ":0\r\n");
    assert_eq!(
        me.wire(&["CLIENT", "KILL", "ID", &my_id, "SKIPME", "yes"]),
        ":0\r\n"
    );
    // Filters combine with AND.
    assert_eq!(
        me.wire(&["CLIENT", "KILL", "ADDR", &vaddr, "ID", &my_id]),
        ":0\r\n"
    );
    assert_eq!(me.wire(&["CLIENT", "KILL", "TYPE", "master"]), ":0\r\n");
    assert_eq!(me.wire(&["CLIENT", "KILL", "TYPE", "pubsub"]), ":0\r\n");
    assert_eq!(me.wire(&["CLIENT", "KILL", "LADDR", "1.1.1.1:1"]), ":0\r\n");
    assert_eq!(me.wire(&["CLIENT", "KILL", "ADDR", "1.1.1.1:1"]), ":0\r\n");
    assert_eq!(me.wire(&["CLIENT", "KILL", "ID", "99999"]), ":0\r\n");
    assert_eq!(
        me.wire(&[
            "client",
            "kill",
            "type",
            "Normal",
            "user",
            "default",
            "laddr",
            &s.addr.to_string(),
            "addr",
            &vaddr,
            "skipme",
            "YES"
        ]),
        ":1\r\n"
    );
    assert!(victim.is_closed());
    wait_gone(&mut me, vid);

    let errors: &[(&[&str], &str)] = &[
        (
            &["ID", "abc"],
            "-ERR client-id should be greater than 0\r\n",
        ),
        (&["ID", "0"], "-ERR client-id should be greater than 0\r\n"),
        (&["ID", "-5"], "-ERR client-id should be greater than 0\r\n"),
        (
            &["ID", "9223372036854775808"],
            "-ERR client-id should be greater than 0\r\n",
        ),
        (&["TYPE", "foo"], "-ERR Unknown client type 'foo'\r\n"),
        (&["USER", "nobody"], "-ERR No such user 'nobody'\r\n"),
        (&["USER", "DEFAULT"], "-ERR No such user 'DEFAULT'\r\n"),
        (&["SKIPME", "maybe"], "-ERR syntax error\r\n"),
        (&["foo", "bar"], "-ERR syntax error\r\n"),
        (&["ID", "1", "SKIPME"], "-ERR syntax error\r\n"),
        (&["ID", "1", "ID"], "-ERR syntax error\r\n"),
    ];
    for (rest, want) in errors {
        let mut args = vec!["CLIENT", "KILL"];
        args.extend_from_slice(rest);
        assert_eq!(me.wire(&args), *want, "{args:?}");
    }
    assert_eq!(me.wire(&["PING"]), "+PONG\r\n");
}

#[test]
fn client_kill_self_with_skipme_no() {
    let s = TestServer::start(2);
    let mut me = s.raw();
    let id = client_id(&mut me).to_string();
    let mut pipeline = encode_cmd(&[b"CLIENT", b"KILL", b"ID", id.as_bytes(), b"SKIPME", b"no"]);
    pipeline.extend(encode_cmd(&[b"PING"]));
    me.send_raw(&pipeline);
    assert_eq!(me.read(), int(1));
    assert!(me.is_closed(), "the caller closes after its reply");
}

#[test]
fn client_kill_everyone_else() {
    let s = TestServer::start(2);
    let mut me = s.raw();
    let mut others: Vec<Raw> = (0..3).map(|_| s.raw()).collect();
    for o in others.iter_mut() {
        client_id(o);
    }
    assert_eq!(me.wire(&["CLIENT", "KILL", "TYPE", "normal"]), ":3\r\n");
    for o in others.iter_mut() {
        assert!(o.is_closed());
    }
    assert_eq!(ids_listed(&mut me).len(), 1);
}

// ---- client libraries ----------------------------------------------------

#[test]
fn redis_crate_speaks_resp3() {
    let s = TestServer::start(2);
    let mut c = s.client3();
    let pong: String = redis::cmd("PING").query(&mut c).expect("ping");
    assert_eq!(pong, "PONG");
    let info: String = redis::cmd("CLIENT")
        .arg("INFO")
        .query(&mut c)
        .expect("info");
    assert!(info.contains(" resp=3"), "{info}");
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("rs3")
        .query(&mut c)
        .expect("setname");
    let name: Option<String> = redis::cmd("CLIENT")
        .arg("GETNAME")
        .query(&mut c)
        .expect("getname");
    assert_eq!(name.as_deref(), Some("rs3"));
    let hello: redis::Value = redis::cmd("HELLO").arg(3).query(&mut c).expect("hello");
    assert!(matches!(hello, redis::Value::Map(_)), "{hello:?}");

    let mut c2 = s.client();
    let echoed: String = redis::cmd("ECHO").arg("hi").query(&mut c2).expect("echo");
    assert_eq!(echoed, "hi");
    let id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut c2).expect("id");
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query(&mut c2)
        .expect("list");
    assert!(list.contains(&format!("id={id} ")), "{list}");
    assert!(list.contains("name=rs3 "), "{list}");
}
