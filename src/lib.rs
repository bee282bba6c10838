//! Shoal: a Redis-compatible in-memory data server, one event loop per core.
//!
//! A map of the crate:
//!
//! * [`server`] — start-up, the per-shard event loop (`server::shard_loop`:
//!   connections, routing, cross-shard messages and transactions) and reply
//!   ordering (`server::conn`).
//! * [`shard`] — what a shard owns: its [`shard::Partition`] of every
//!   database (`shard::db`), client metadata, statistics.
//! * [`commands`] — the command table (one file per family) and the
//!   [`commands::Ctx`] handlers run in.
//! * [`types`] — value data structures: the keyspace hash table
//!   (`types::dict`), compact byte strings.
//! * [`config`] — redis.conf / command-line parsing, CONFIG GET/SET.
//! * [`util`] — glob matching, Redis's number parsing and formatting, slots.
//! * The RESP parser and encoders are the `shoal_protocol` crate (`protocol/`).

pub mod alloc;
pub mod commands;
pub mod config;
pub mod log;
pub mod persistence;
pub mod server;
pub mod shard;
pub mod types;
pub mod util;

/// Every binary that links Shoal (the server, the tests) counts its memory.
#[global_allocator]
static GLOBAL: alloc::CountingAlloc = alloc::CountingAlloc;
