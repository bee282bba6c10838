//! Persistence: snapshots in Redis's RDB format (and, later, the AOF).
//!
//! [`rdb`] is the format layer only: it turns Shoal's values into an RDB
//! stream and an RDB stream back into values, without knowing about
//! shards, files being renamed into place or when to save.

pub mod rdb;
