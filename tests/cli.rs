//! The `shoal-server` binary as a user runs it: flags, config files,
//! start-up errors and signals.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shoal-server"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts the server and waits for its "Ready to accept connections" line.
fn spawn_ready(args: &[&str]) -> Child {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn shoal-server");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "server did not become ready");
        match lines.next() {
            Some(Ok(l)) if l.contains("Ready to accept connections") => break,
            Some(Ok(_)) => {}
            _ => panic!("server exited before becoming ready"),
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

fn ping(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(b"PING\r\n").expect("write");
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).expect("read");
    String::from_utf8_lossy(&buf).into_owned()
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok);
}

#[test]
fn flags_like_redis_server_and_clean_exit_on_sigterm() {
    let port = free_port();
    let mut child = spawn_ready(&["--port", &port.to_string(), "--shards", "2"]);
    assert_eq!(ping(port), "+PONG\r\n");
    signal(&child, "-TERM");
    assert!(wait_exit(&mut child).success());
}

#[test]
fn sigint_shuts_down_cleanly() {
    let port = free_port();
    let mut child = spawn_ready(&["--port", &port.to_string()]);
    signal(&child, "-INT");
    assert!(wait_exit(&mut child).success());
}

#[test]
fn config_file_then_flags_override_it() {
    let dir = std::env::temp_dir().join(format!("shoal-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("shoal.conf");
    let port = free_port();
    std::fs::write(
        &file,
        format!("port {port}\nhz 20\n# a comment\nmaxclients 50\n"),
    )
    .expect("write config");
    let mut child = spawn_ready(&[file.to_str().expect("utf-8 path"), "--maxclients", "60"]);
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(b"CONFIG GET maxclients\r\n").expect("write");
    let mut buf = vec![0u8; 64];
    let n = s.read(&mut buf).expect("read");
    assert_eq!(
        String::from_utf8_lossy(&buf[..n]),
        "*2\r\n$10\r\nmaxclients\r\n$2\r\n60\r\n"
    );
    signal(&child, "-TERM");
    assert!(wait_exit(&mut child).success());
    let _ = std::fs::remove_dir_all(&dir);
}

fn fails_with(args: &[&str], needle: &str) {
    let out = bin().args(args).output().expect("run shoal-server");
    assert!(!out.status.success(), "{args:?} should fail");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(needle), "{args:?}: {text:?} lacks {needle:?}");
}

#[test]
fn bad_flags_and_directives_exit_non_zero_with_a_message() {
    fails_with(&["--port", "notaport"], "port");
    fails_with(&["--no-such-directive", "1"], "no-such-directive");
    fails_with(&["/nonexistent/shoal.conf"], "/nonexistent/shoal.conf");
    fails_with(&["--maxmemory-policy", "sometimes"], "maxmemory-policy");
    fails_with(&["--maxmemory", "lots"], "argument must be a memory value");
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    fails_with(
        &["--port", &port],
        "Could not create server TCP listening socket",
    );
}

#[test]
fn version_and_help() {
    let out = bin().arg("--version").output().expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Shoal"));
    let out = bin().arg("--help").output().expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--port"));
}
