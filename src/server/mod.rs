//! Start-up, shared state and shutdown.
//!
//! `run` binds the listener, builds one [`ShardLoop`](shard_loop::ShardLoop)
//! per shard — each with its own mio `Poll`, inbox and partition — and runs
//! each on its own thread. [`Server`] is what every thread shares: the
//! immutable routing facts (shard count, partition pointers, inboxes), the
//! configuration (read under a lock only by admin commands; the shards cache
//! what they need and refresh when `config_epoch` moves) and a few global
//! counters. Nothing on the per-command path takes a lock.

pub mod busy;
pub mod conn;
pub mod msg;
pub mod shard_loop;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::Sender;
use mio::{Poll, Waker};

use crate::commands::CommandTable;
use crate::config::Config;
use crate::log;
use crate::shard::{Partition, PartitionPtr};
use crate::util::slot::{key_slot, SLOTS};

use msg::Msg;
use shard_loop::ShardLoop;

/// Shoal's own version, reported as `shoal_version` in INFO.
pub const SHOAL_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The Redis version whose behaviour Shoal matches; clients gate features on it.
pub const REDIS_VERSION: &str = "7.0.15";

/// How another thread reaches a shard: its inbox and the waker of its poll.
pub struct ShardHandle {
    pub tx: Sender<Vec<Msg>>,
    pub waker: Waker,
    /// True while the shard is (about to be) blocked in poll: senders wake it
    /// only then, so a busy shard costs its peers no syscalls.
    pub sleeping: AtomicBool,
}

impl ShardHandle {
    /// Delivers a batch and wakes the shard if it may be asleep.
    pub fn send(&self, batch: Vec<Msg>) {
        if self.tx.send(batch).is_err() {
            return; // the shard has exited during shutdown
        }
        if self.sleeping.swap(false, Ordering::SeqCst) {
            let _ = self.waker.wake();
        }
    }
}

pub struct Server {
    nshards: usize,
    pub shards: Vec<ShardHandle>,
    pub partitions: Vec<PartitionPtr>,
    pub config: RwLock<Config>,
    /// Bumped by every CONFIG SET so shards refresh their cached copy.
    pub config_epoch: AtomicU64,
    pub next_client_id: AtomicU64,
    pub connected_clients: AtomicUsize,
    pub shutdown: AtomicBool,
    pub table: CommandTable,
    pub started: Instant,
    pub started_unix_ms: u64,
    pub run_id: String,
    pub addr: SocketAddr,
    pub config_file: Option<std::path::PathBuf>,
    pub executable: String,
    /// Counters reset by CONFIG RESETSTAT are per partition; this one is not.
    pub total_connections: AtomicU64,
    /// What INFO keeps between calls (rate samples, memory peak).
    pub info: crate::commands::server::InfoState,
    /// What shards tell each other about their eviction candidates.
    pub eviction: crate::shard::evict::Shared,
}

impl Server {
    pub fn nshards(&self) -> usize {
        self.nshards
    }

    /// The shard owning `slot`: contiguous slot ranges, as cluster nodes own them.
    pub fn shard_of_slot(&self, slot: u16) -> usize {
        (slot as usize * self.nshards) / SLOTS as usize
    }

    pub fn shard_of_key(&self, key: &[u8]) -> usize {
        if self.nshards == 1 {
            return 0;
        }
        self.shard_of_slot(key_slot(key))
    }

    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Asks every shard to stop; they exit at their next loop iteration.
    pub fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        for h in &self.shards {
            let _ = h.waker.wake();
        }
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn run_id() -> String {
    // Not security-relevant: identifies this process run in INFO, like Redis's run_id.
    let mut x = now_ms() ^ (std::process::id() as u64).rotate_left(32);
    let mut s = String::with_capacity(40);
    for _ in 0..40 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push(char::from_digit((x % 16) as u32, 16).unwrap_or('0'));
    }
    s
}

static SIGNALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALLED.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe;
    // shard threads poll the flag at least once per cron tick. SIGPIPE is
    // ignored so a client that vanishes mid-write yields EPIPE, not death.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

pub fn signalled() -> bool {
    SIGNALLED.load(Ordering::Relaxed)
}

/// A running server: its address, and the threads to join.
pub struct Running {
    pub server: Arc<Server>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// Waits until every shard thread has exited.
    pub fn join(self) {
        for t in self.threads {
            let _ = t.join();
        }
    }

    pub fn shutdown(self) {
        self.server.request_shutdown();
        self.join();
    }
}

/// Binds, starts the shard threads and returns without waiting.
pub fn start(config: Config, install_signals: bool) -> io::Result<Running> {
    let n = config.shards.max(1);
    if n > 64 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "shards must be between 1 and 64",
        ));
    }
    let listener = bind(&config)?;
    let addr = listener.local_addr()?;
    log::set_level(config.loglevel);
    if !config.logfile.is_empty() {
        log::set_file(&config.logfile)?;
    }

    let config_file = config.config_file.clone();
    let mut polls = Vec::with_capacity(n);
    let mut handles = Vec::with_capacity(n);
    let mut inboxes = Vec::with_capacity(n);
    let mut partitions = Vec::with_capacity(n);
    for i in 0..n {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), shard_loop::WAKER)?;
        let (tx, rx) = crossbeam_channel::unbounded();
        handles.push(ShardHandle {
            tx,
            waker,
            sleeping: AtomicBool::new(false),
        });
        polls.push(poll);
        inboxes.push(rx);
        // The partition is leaked into a raw pointer: from now on it is
        // reached only through that pointer (by its owner, or by a holder),
        // and the owner frees it when its loop ends.
        let part = Box::new(Partition::new(i, config.databases));
        partitions.push(PartitionPtr(Box::into_raw(part)));
    }

    let server = Arc::new(Server {
        nshards: n,
        shards: handles,
        partitions,
        config: RwLock::new(config),
        config_epoch: AtomicU64::new(0),
        next_client_id: AtomicU64::new(1),
        connected_clients: AtomicUsize::new(0),
        shutdown: AtomicBool::new(false),
        table: CommandTable::new(),
        started: Instant::now(),
        started_unix_ms: now_ms(),
        run_id: run_id(),
        addr,
        config_file: config_file.clone(),
        executable: std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        total_connections: AtomicU64::new(0),
        info: Default::default(),
        eviction: crate::shard::evict::Shared::new(n),
    });

    if install_signals {
        install_signal_handlers();
    }

    let mut listener = Some(listener);
    let mut threads = Vec::with_capacity(n);
    for (i, (poll, rx)) in polls.into_iter().zip(inboxes).enumerate() {
        let l = if i == 0 { listener.take() } else { None };
        let mut shard = ShardLoop::new(i, Arc::clone(&server), poll, rx, l)?;
        let t = std::thread::Builder::new()
            .name(format!("shard-{i}"))
            .spawn(move || shard.run())?;
        threads.push(t);
    }
    Ok(Running { server, threads })
}

fn bind(config: &Config) -> io::Result<mio::net::TcpListener> {
    // A leading '-' marks an address as optional in redis.conf; Shoal
    // listens on the first address given.
    let Some(host) = config
        .bind
        .first()
        .map(|s| s.trim_start_matches('-').to_string())
    else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "Configured to not listen anywhere, exiting.",
        ));
    };
    let host = if host == "*" {
        "0.0.0.0".to_string()
    } else {
        host
    };
    let addr: SocketAddr = format!("{host}:{}", config.port)
        .parse()
        .or_else(|_| format!("[{host}]:{}", config.port).parse())
        .map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid bind address '{host}'"),
            )
        })?;
    let std_listener = std::net::TcpListener::bind(addr).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("Could not create server TCP listening socket {addr}: {e}"),
        )
    })?;
    std_listener.set_nonblocking(true)?;
    Ok(mio::net::TcpListener::from_std(std_listener))
}

/// Runs until SIGINT/SIGTERM or SHUTDOWN.
pub fn run(config: Config) -> io::Result<()> {
    let shards = config.shards;
    let running = start(config, true)?;
    log::notice(&format!(
        "Shoal {SHOAL_VERSION} (Redis {REDIS_VERSION} compatible) pid={} shards={shards}",
        std::process::id()
    ));
    log::notice(&format!(
        "Ready to accept connections tcp on {}",
        running.addr()
    ));
    running.join();
    log::notice("Shoal is now ready to exit, bye bye...");
    Ok(())
}
