//! Messages between shard threads.
//!
//! They travel in batches (`Vec<Msg>`), one batch per destination per loop
//! iteration, so a pipeline that fans out over shards costs one channel send
//! and at most one wake-up per destination, not one per command.

use bytes::Bytes;

use crate::commands::CommandSpec;

/// Identifies a connection on its home shard. The id guards against a reply
/// reaching a newer connection that reused the slab slot of a closed one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnRef {
    pub token: usize,
    pub id: u64,
}

pub enum Msg {
    /// A freshly accepted connection, assigned to this shard.
    NewConn(mio::net::TcpStream),
    /// Run a single-shard keyed command here and send the reply back.
    Exec {
        from: usize,
        conn: ConnRef,
        seq: u64,
        db: usize,
        resp3: bool,
        spec: &'static CommandSpec,
        args: Vec<Bytes>,
    },
    /// The reply to an `Exec`, for slot `seq` of the connection.
    Reply {
        conn: ConnRef,
        seq: u64,
        data: Vec<u8>,
    },
    /// A coordinator asks for exclusive use of this shard's partition.
    Acquire {
        txid: u64,
        from: usize,
        conn: ConnRef,
    },
    /// The partition of `shard` is now held for `txid`.
    Granted {
        txid: u64,
        shard: usize,
        conn: ConnRef,
    },
    /// The coordinator is done with this shard's partition.
    Release { txid: u64 },
    /// A key that the multi-shard waiter of `conn` waits on received data:
    /// its home shard should retry the command.
    Wake { conn: ConnRef, key: Bytes },
    /// Withdraw the waiter of client `client_id` (it timed out, left or was
    /// unblocked elsewhere).
    Cancel { client_id: u64 },
    /// Messages to publish to this shard's subscribers (keyspace
    /// notifications raised on another shard): (channel, message).
    Publish { items: Vec<(Bytes, Bytes)> },
    /// Forget every key client `client_id` WATCHes here.
    Unwatch { client_id: u64 },
    /// Configuration changed: refresh the cached copy.
    ConfigChanged,
}
