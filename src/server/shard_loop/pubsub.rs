//! Delivering published messages to this shard's subscribers.

use bytes::Bytes;

use super::ShardLoop;
use crate::config::{KeyspaceEvents, OutputLimit};
use crate::log;
use crate::server::conn::Conn;
use crate::server::msg::Msg;
use crate::shard::db::KeyEvent;
use crate::shard::pubsub::SubKind;
use crate::shard::Store;

/// Whether a connection with `backlog` bytes of unsent output has passed
/// `limit` (the hard limit at once, the soft one for its whole period),
/// keeping track of since when it has been over the soft limit.
pub(super) fn over_output_limit(
    c: &mut Conn,
    backlog: usize,
    limit: OutputLimit,
    now: u64,
) -> bool {
    let backlog = backlog as u64;
    if limit.hard != 0 && backlog > limit.hard {
        return true;
    }
    if limit.soft != 0 && backlog > limit.soft {
        let since = *c.over_soft_limit_since.get_or_insert(now);
        return now.saturating_sub(since) >= limit.soft_seconds * 1000;
    }
    c.over_soft_limit_since = None;
    false
}

impl ShardLoop {
    /// Publishes the keyspace notifications raised in the partitions of
    /// `held` (this shard's alone, or all those a transaction holds), in
    /// the order they were raised: into the held partitions' subscribers
    /// directly, to every other shard as one message.
    pub(super) fn publish_events(&mut self, held: u64) {
        let notify = self.cached.notify;
        let server = self.shared();
        let nshards = server.nshards();
        let mut store = Store::new(&server.partitions, held);
        let mut events: Vec<(usize, KeyEvent)> = Vec::new();
        for shard in 0..nshards {
            if !store.holds(shard) {
                continue;
            }
            for (index, db) in store.part(shard).dbs.iter_mut().enumerate() {
                events.extend(db.events.drain(..).map(|e| (index, e)));
            }
        }
        if events.is_empty() {
            return;
        }
        events.sort_by_key(|(_, e)| e.seq);
        let mut items: Vec<(Bytes, Bytes)> = Vec::with_capacity(events.len() * 2);
        for (index, ev) in events {
            if notify & KeyspaceEvents::KEYSPACE != 0 {
                let mut channel = format!("__keyspace@{index}__:").into_bytes();
                channel.extend_from_slice(&ev.key);
                items.push((
                    Bytes::from(channel),
                    Bytes::from_static(ev.event.as_bytes()),
                ));
            }
            if notify & KeyspaceEvents::KEYEVENT != 0 {
                let channel = format!("__keyevent@{index}__:{}", ev.event);
                items.push((Bytes::from(channel), ev.key));
            }
        }
        for shard in 0..nshards {
            if store.holds(shard) {
                let pubsub = &mut store.part(shard).pubsub;
                for (channel, message) in &items {
                    pubsub.publish(SubKind::Channel, channel, message);
                }
            } else {
                self.outbox[shard].push(Msg::Publish {
                    items: items.clone(),
                });
            }
        }
    }

    /// Appends the messages PUBLISH left in this partition to their
    /// subscribers' output.
    pub(super) fn deliver_messages(&mut self) {
        let now = self.now_ms;
        let limit = self.cached.pubsub_limit;
        let part = self.part();
        let deliveries = std::mem::take(&mut part.pubsub.deliveries);
        let mut targets = Vec::with_capacity(deliveries.len());
        for (idx, frame) in deliveries {
            if let Some(info) = part.clients.get(idx) {
                targets.push((info.token, info.id, frame));
            }
        }
        for (token, id, frame) in targets {
            let Some(c) = self.conns.get_mut(token) else {
                continue;
            };
            if c.id != id || c.dead {
                continue;
            }
            c.push_message(&frame);
            let backlog = c.out.len() + c.pending.iter().map(|p| p.after.len()).sum::<usize>();
            if over_output_limit(c, backlog, limit, now) {
                log::warning(&format!(
                    "Client id={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                    c.id
                ));
                c.dead = true;
                c.out.clear();
                self.close(token);
                continue;
            }
            self.mark_dirty(token);
        }
    }
}
