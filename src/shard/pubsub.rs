//! Pub/sub subscriptions of one shard's connections.
//!
//! A connection subscribes on its own shard, so each partition knows only
//! its own clients' channels and patterns. PUBLISH runs on every shard: each
//! counts its receivers and leaves the message in its `deliveries`, which
//! the owning thread appends to its connections' output after the command.
//! A publisher's messages reach each shard over one FIFO channel, so every
//! subscriber sees one publisher's messages in order.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;

use crate::util::glob::glob_match;

/// Which of Redis's three subscription namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubKind {
    Channel,
    Pattern,
    Shard,
}

/// One client's subscriptions (kept on its ClientInfo).
#[derive(Debug, Default, Clone)]
pub struct ClientSubs {
    pub channels: HashSet<Bytes>,
    pub patterns: HashSet<Bytes>,
    pub shard_channels: HashSet<Bytes>,
}

impl ClientSubs {
    pub fn set(&mut self, kind: SubKind) -> &mut HashSet<Bytes> {
        match kind {
            SubKind::Channel => &mut self.channels,
            SubKind::Pattern => &mut self.patterns,
            SubKind::Shard => &mut self.shard_channels,
        }
    }

    /// The count SUBSCRIBE-family replies carry: channels plus patterns, or
    /// shard channels alone for the S* commands, as in Redis.
    pub fn count(&self, kind: SubKind) -> usize {
        match kind {
            SubKind::Shard => self.shard_channels.len(),
            _ => self.channels.len() + self.patterns.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.channels.is_empty() && self.patterns.is_empty() && self.shard_channels.is_empty()
    }
}

/// The subscribers of one partition, by name, as client slots.
#[derive(Default)]
pub struct PubSub {
    channels: HashMap<Bytes, Vec<usize>>,
    patterns: HashMap<Bytes, Vec<usize>>,
    shard_channels: HashMap<Bytes, Vec<usize>>,
    /// Messages for this partition's clients: (client slot, frame). Frames
    /// are RESP2 arrays; a RESP3 client gets the same bytes with `>` first.
    pub deliveries: Vec<(usize, Bytes)>,
}

impl PubSub {
    fn map(&mut self, kind: SubKind) -> &mut HashMap<Bytes, Vec<usize>> {
        match kind {
            SubKind::Channel => &mut self.channels,
            SubKind::Pattern => &mut self.patterns,
            SubKind::Shard => &mut self.shard_channels,
        }
    }

    fn map_ref(&self, kind: SubKind) -> &HashMap<Bytes, Vec<usize>> {
        match kind {
            SubKind::Channel => &self.channels,
            SubKind::Pattern => &self.patterns,
            SubKind::Shard => &self.shard_channels,
        }
    }

    pub fn add(&mut self, kind: SubKind, name: &Bytes, client: usize) {
        self.map(kind).entry(name.clone()).or_default().push(client);
    }

    pub fn remove(&mut self, kind: SubKind, name: &[u8], client: usize) {
        let map = self.map(kind);
        if let Some(list) = map.get_mut(name) {
            list.retain(|&c| c != client);
            if list.is_empty() {
                map.remove(name);
            }
        }
    }

    /// Queues `message` on `channel` for every subscriber here (exact
    /// channel, then matching patterns); returns how many receive it.
    pub fn publish(&mut self, kind: SubKind, channel: &[u8], message: &[u8]) -> usize {
        self.publish_from(kind, channel, message, None)
    }

    /// [`PubSub::publish`] where the publisher is client slot `me` of this
    /// partition: its own copies go to `me.1` at once (RESP3 framing when
    /// `me.2`), so they precede PUBLISH's reply, as in Redis.
    pub fn publish_from(
        &mut self,
        kind: SubKind,
        channel: &[u8],
        message: &[u8],
        mut me: Option<(usize, &mut Vec<u8>, bool)>,
    ) -> usize {
        let before = self.deliveries.len();
        let n = self.queue(kind, channel, message);
        if let Some((idx, out, resp3)) = me.as_mut() {
            let mut i = before;
            while i < self.deliveries.len() {
                if self.deliveries[i].0 == *idx {
                    let (_, frame) = self.deliveries.remove(i);
                    if *resp3 {
                        out.push(b'>');
                        out.extend_from_slice(&frame[1..]);
                    } else {
                        out.extend_from_slice(&frame);
                    }
                } else {
                    i += 1;
                }
            }
        }
        n
    }

    fn queue(&mut self, kind: SubKind, channel: &[u8], message: &[u8]) -> usize {
        let mut n = 0;
        let (map, tag): (&HashMap<Bytes, Vec<usize>>, &[u8]) = match kind {
            SubKind::Shard => (&self.shard_channels, b"smessage"),
            _ => (&self.channels, b"message"),
        };
        if let Some(list) = map.get(channel) {
            let frame = frame(&[tag, channel, message]);
            for &c in list {
                self.deliveries.push((c, frame.clone()));
            }
            n += list.len();
        }
        if kind == SubKind::Channel {
            for (pattern, list) in &self.patterns {
                if glob_match(pattern, channel, false) {
                    let frame = frame(&[b"pmessage", pattern, channel, message]);
                    for &c in list {
                        self.deliveries.push((c, frame.clone()));
                    }
                    n += list.len();
                }
            }
        }
        n
    }

    /// Subscribers of `name` here.
    pub fn count(&self, kind: SubKind, name: &[u8]) -> usize {
        self.map_ref(kind).get(name).map_or(0, Vec::len)
    }

    /// Names with at least one subscriber here.
    pub fn names(&self, kind: SubKind) -> impl Iterator<Item = &Bytes> {
        self.map_ref(kind).keys()
    }
}

/// A pub/sub message frame as a RESP2 array of bulk strings.
pub fn frame(parts: &[&[u8]]) -> Bytes {
    let mut out = Vec::with_capacity(16 + parts.iter().map(|p| p.len() + 16).sum::<usize>());
    shoal_protocol::encode::array_len(&mut out, parts.len());
    for p in parts {
        shoal_protocol::encode::bulk(&mut out, p);
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_counts_channel_and_pattern_receivers() {
        let mut ps = PubSub::default();
        ps.add(SubKind::Channel, &Bytes::from_static(b"news"), 1);
        ps.add(SubKind::Channel, &Bytes::from_static(b"news"), 2);
        ps.add(SubKind::Pattern, &Bytes::from_static(b"n*"), 1);
        ps.add(SubKind::Pattern, &Bytes::from_static(b"x*"), 3);
        assert_eq!(ps.publish(SubKind::Channel, b"news", b"hi"), 3);
        assert_eq!(ps.deliveries.len(), 3);
        assert_eq!(
            &ps.deliveries[2].1[..],
            b"*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
        );
        // Shard channels are a namespace of their own.
        assert_eq!(ps.publish(SubKind::Shard, b"news", b"hi"), 0);
        ps.remove(SubKind::Channel, b"news", 1);
        ps.remove(SubKind::Channel, b"news", 2);
        assert_eq!(ps.count(SubKind::Channel, b"news"), 0);
        assert_eq!(ps.names(SubKind::Channel).count(), 0);
    }
}
