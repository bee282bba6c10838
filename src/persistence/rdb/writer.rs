//! The streaming RDB writer. See the module documentation for the choices.

use std::io::{self, Write};

use crate::shard::db::{Entry, Value};
use crate::types::bloom::BloomFilter;
use crate::types::hash::HashValue;
use crate::types::list::{self, ListValue};
use crate::types::set::SetValue;
use crate::types::zset::ZSetValue;
use crate::util::crc64;
use crate::util::num::parse_i64;

use super::listpack::{self, Builder};
use super::lzf::Compressor;
use super::{intset, module_op, opcode, rdb_type, CONTAINER_PACKED, CONTAINER_PLAIN};
use super::{module_type_id, BLOOM_ENCVER, BLOOM_TYPE_NAME, PLAIN_THRESHOLD, RDB_VERSION};

/// Bytes gathered before they are checksummed and handed to the sink.
const BUF_SIZE: usize = 256 * 1024;

/// The version string in the `redis-ver` aux field: the Redis whose
/// format this is, so tools that read it know what to expect.
pub const REDIS_VER: &str = "7.0.15";

/// How a snapshot is written.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    /// LZF-compress strings longer than 20 bytes when it saves space
    /// (`rdbcompression`).
    pub compression: bool,
    /// Quicklist node bound (`list-max-listpack-size`).
    pub list: list::Limits,
    /// The `ctime` aux field, Unix seconds.
    pub ctime: u64,
    /// The `used-mem` aux field.
    pub used_mem: u64,
    /// The `aof-base` aux field: the snapshot is the preamble of an AOF.
    pub aof_base: bool,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            compression: true,
            list: list::Limits::default(),
            ctime: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            used_mem: 0,
            aof_base: false,
        }
    }
}

/// What Redis saves about a key's use besides its value, when the
/// eviction policy tracks it: seconds idle (LRU policies) or the LFU
/// counter (LFU policies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyMeta {
    pub idle_secs: Option<u64>,
    pub freq: Option<u8>,
}

/// Writes an RDB stream to `W`: the header and aux fields on creation,
/// then functions, databases and keys in the order they are given, and
/// the EOF marker and checksum on [`RdbWriter::finish`].
///
/// Output is gathered in a 256 KiB buffer of its own and checksummed a
/// buffer at a time, so `W` can be the bare `File`. A database spread over
/// several shards is written with one [`RdbWriter::select_db`] carrying the
/// summed counts, then every shard's keys of that database in turn.
pub struct RdbWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    crc: u64,
    written: u64,
    opts: WriterOptions,
    lzf: Option<Compressor>,
    lzf_out: Vec<u8>,
    lp: Builder,
    blob: Vec<u8>,
}

impl<W: Write> RdbWriter<W> {
    /// Starts a snapshot: writes the magic and the aux fields Redis 7.0
    /// writes.
    pub fn new(out: W, opts: WriterOptions) -> io::Result<RdbWriter<W>> {
        let mut w = RdbWriter {
            out,
            buf: Vec::with_capacity(BUF_SIZE),
            crc: 0,
            written: 0,
            opts,
            lzf: None,
            lzf_out: Vec::new(),
            lp: Builder::new(),
            blob: Vec::new(),
        };
        w.put(format!("REDIS{RDB_VERSION:04}").as_bytes())?;
        w.write_aux(b"redis-ver", REDIS_VER.as_bytes())?;
        w.write_aux(b"redis-bits", b"64")?;
        let mut n = itoa::Buffer::new();
        w.write_aux(b"ctime", n.format(opts.ctime).as_bytes())?;
        w.write_aux(b"used-mem", n.format(opts.used_mem).as_bytes())?;
        w.write_aux(b"aof-base", if opts.aof_base { b"1" } else { b"0" })?;
        Ok(w)
    }

    /// Bytes written so far (the checksum trailer not yet included).
    pub fn bytes_written(&self) -> u64 {
        self.written + self.buf.len() as u64
    }

    /// An extra aux field (Redis adds repl-id / repl-offset for replicas).
    pub fn write_aux(&mut self, name: &[u8], value: &[u8]) -> io::Result<()> {
        self.put(&[opcode::AUX])?;
        self.put_string(name)?;
        self.put_string(value)
    }

    /// A Lua library, as FUNCTION LOAD received it (Redis writes these
    /// after the aux fields, before the first database).
    pub fn write_function(&mut self, code: &[u8]) -> io::Result<()> {
        self.put(&[opcode::FUNCTION2])?;
        self.put_string(code)
    }

    /// Starts database `db`, announcing how many keys (and of those, keys
    /// with a TTL) follow so a loader can size its tables. Redis skips
    /// empty databases; so should callers.
    pub fn select_db(&mut self, db: u32, keys: u64, expires: u64) -> io::Result<()> {
        self.put(&[opcode::SELECTDB])?;
        self.put_len(u64::from(db))?;
        self.put(&[opcode::RESIZEDB])?;
        self.put_len(keys)?;
        self.put_len(expires)
    }

    /// A key of the current database, with its TTL.
    pub fn write_entry(&mut self, key: &[u8], entry: &Entry) -> io::Result<()> {
        self.write_key(key, &entry.value, entry.expire_at, KeyMeta::default())
    }

    /// A key with its value, absolute expiry (Unix ms, 0 = none) and
    /// eviction metadata.
    pub fn write_key(
        &mut self,
        key: &[u8],
        value: &Value,
        expire_at: u64,
        meta: KeyMeta,
    ) -> io::Result<()> {
        if expire_at != 0 {
            self.put(&[opcode::EXPIRETIME_MS])?;
            self.put(&(expire_at as i64).to_le_bytes())?;
        }
        if let Some(idle) = meta.idle_secs {
            self.put(&[opcode::IDLE])?;
            self.put_len(idle)?;
        }
        if let Some(freq) = meta.freq {
            self.put(&[opcode::FREQ, freq])?;
        }
        match value {
            Value::Int(v) => {
                self.put(&[rdb_type::STRING])?;
                self.put_string(key)?;
                self.put_int_string(*v)
            }
            Value::Str(s) => {
                self.put(&[rdb_type::STRING])?;
                self.put_string(key)?;
                self.put_string(s)
            }
            Value::List(l) => {
                self.put(&[rdb_type::LIST_QUICKLIST_2])?;
                self.put_string(key)?;
                self.put_list(l)
            }
            Value::Hash(h) => self.put_hash(key, h),
            Value::Set(s) => self.put_set(key, s),
            Value::ZSet(z) => self.put_zset(key, z),
            Value::Bloom(b) => {
                self.put(&[rdb_type::MODULE_2])?;
                self.put_string(key)?;
                self.put_bloom(b)
            }
        }
    }

    /// Ends the stream: the EOF opcode and the checksum. Returns the sink,
    /// flushed (the caller fsyncs and renames).
    pub fn finish(mut self) -> io::Result<W> {
        self.put(&[opcode::EOF])?;
        self.flush_buf()?;
        let crc = self.crc;
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }

    // ---- low level ----------------------------------------------------

    fn flush_buf(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.crc = crc64::update(self.crc, &self.buf);
            self.out.write_all(&self.buf)?;
            self.written += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.buf.len() + bytes.len() > BUF_SIZE {
            self.flush_buf()?;
            if bytes.len() >= BUF_SIZE {
                self.crc = crc64::update(self.crc, bytes);
                self.out.write_all(bytes)?;
                self.written += bytes.len() as u64;
                return Ok(());
            }
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    fn put_len(&mut self, len: u64) -> io::Result<()> {
        let mut tmp = [0u8; 9];
        let n = encode_len(len, &mut tmp);
        self.put(&tmp[..n])
    }

    /// Redis's rdbSaveRawString: integer encodings for short canonical
    /// integers, LZF when it pays, else length and bytes.
    fn put_string(&mut self, s: &[u8]) -> io::Result<()> {
        if s.len() <= 11 {
            if let Some(v) = parse_i64(s) {
                let mut tmp = [0u8; 5];
                if let Some(n) = encode_int(v, &mut tmp) {
                    return self.put(&tmp[..n]);
                }
            }
        }
        if self.opts.compression && s.len() > 20 && self.put_lzf(s)? {
            return Ok(());
        }
        self.put_len(s.len() as u64)?;
        self.put(s)
    }

    /// A string value held as an integer (rdbSaveLongLongAsStringObject).
    fn put_int_string(&mut self, v: i64) -> io::Result<()> {
        let mut tmp = [0u8; 5];
        if let Some(n) = encode_int(v, &mut tmp) {
            return self.put(&tmp[..n]);
        }
        let mut buf = itoa::Buffer::new();
        let digits = buf.format(v).as_bytes();
        self.put_len(digits.len() as u64)?;
        self.put(digits)
    }

    /// LZF-compressed, if that saves at least 4 bytes (rdbSaveLzfStringObject).
    fn put_lzf(&mut self, s: &[u8]) -> io::Result<bool> {
        let lzf = self.lzf.get_or_insert_with(Compressor::new);
        let mut out = std::mem::take(&mut self.lzf_out);
        let ok = lzf.compress(s, s.len() - 4, &mut out);
        if ok {
            self.put(&[0xc3])?;
            self.put_len(out.len() as u64)?;
            self.put_len(s.len() as u64)?;
            self.put(&out)?;
        }
        // Keep the scratch buffer unless a huge string inflated it.
        if out.capacity() <= 4 * BUF_SIZE {
            self.lzf_out = out;
        }
        Ok(ok)
    }

    /// Writes the listpack in `self.lp` as a string.
    fn put_listpack(&mut self) -> io::Result<()> {
        let mut lp = std::mem::take(&mut self.lp);
        let res = self.put_string(lp.finish());
        lp.clear();
        self.lp = lp;
        res
    }

    // ---- values --------------------------------------------------------

    fn put_list(&mut self, l: &ListValue) -> io::Result<()> {
        let limits = self.opts.list;
        // Two passes over the elements: the node count comes first in the
        // file, and building every node before writing would hold a copy
        // of the list.
        let mut nodes = 0u64;
        let mut packer = NodePacker::new(limits);
        for e in l.iter() {
            if packer.starts_node(e) {
                nodes += 1;
            }
        }
        self.put_len(nodes)?;
        let mut packer = NodePacker::new(limits);
        self.lp.clear();
        for e in l.iter() {
            if packer.starts_node(e) && self.lp.count() > 0 {
                self.put_len(CONTAINER_PACKED)?;
                self.put_listpack()?;
            }
            if e.len() >= PLAIN_THRESHOLD {
                self.put_len(CONTAINER_PLAIN)?;
                self.put_string(e)?;
            } else {
                self.lp.push(e);
            }
        }
        if self.lp.count() > 0 {
            self.put_len(CONTAINER_PACKED)?;
            self.put_listpack()?;
        }
        Ok(())
    }

    fn put_hash(&mut self, key: &[u8], h: &HashValue) -> io::Result<()> {
        if h.is_packed() {
            self.put(&[rdb_type::HASH_LISTPACK])?;
            self.put_string(key)?;
            self.lp.clear();
            for (f, v) in h.iter() {
                self.lp.push(f);
                self.lp.push(v);
            }
            return self.put_listpack();
        }
        self.put(&[rdb_type::HASH])?;
        self.put_string(key)?;
        self.put_len(h.len() as u64)?;
        for (f, v) in h.iter() {
            self.put_string(f)?;
            self.put_string(v)?;
        }
        Ok(())
    }

    fn put_set(&mut self, key: &[u8], s: &SetValue) -> io::Result<()> {
        if let Some(ints) = s.as_intset() {
            self.put(&[rdb_type::SET_INTSET])?;
            self.put_string(key)?;
            let mut blob = std::mem::take(&mut self.blob);
            blob.clear();
            let n = ints.len();
            let (min, max) = if n == 0 {
                (0, 0)
            } else {
                (ints.get(0), ints.get(n - 1))
            };
            intset::encode(n, min, max, ints.iter(), &mut blob);
            let res = self.put_string(&blob);
            self.blob = blob;
            return res;
        }
        self.put(&[rdb_type::SET])?;
        self.put_string(key)?;
        self.put_len(s.len() as u64)?;
        let mut res = Ok(());
        s.for_each(|m| {
            if res.is_ok() {
                res = self.put_string(m);
            }
        });
        res
    }

    fn put_zset(&mut self, key: &[u8], z: &ZSetValue) -> io::Result<()> {
        if z.encoding() == "listpack" {
            self.put(&[rdb_type::ZSET_LISTPACK])?;
            self.put_string(key)?;
            self.lp.clear();
            let mut text = Vec::with_capacity(32);
            let lp = &mut self.lp;
            z.for_each(|m, score| {
                lp.push(m);
                match listpack_score(score) {
                    Some(v) => lp.push_int(v),
                    None => {
                        text.clear();
                        shoal_protocol::encode::fmt_double_g17(score, &mut text);
                        lp.push_str(&text);
                    }
                }
            });
            return self.put_listpack();
        }
        self.put(&[rdb_type::ZSET_2])?;
        self.put_string(key)?;
        self.put_len(z.len() as u64)?;
        let mut res = Ok(());
        if let Some(last) = z.len().checked_sub(1) {
            z.walk(last, true, |m, score| {
                res = self
                    .put_string(m)
                    .and_then(|()| self.put(&score.to_le_bytes()));
                res.is_ok()
            });
        }
        res
    }

    fn put_bloom(&mut self, b: &BloomFilter) -> io::Result<()> {
        let id = module_type_id(BLOOM_TYPE_NAME, BLOOM_ENCVER).unwrap_or(0);
        self.put_len(id)?;
        let header = b.dump_header();
        let shape = BloomShape::parse(&header).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "bloom filter header unreadable")
        })?;
        self.module_uint(shape.items)?;
        self.module_uint(shape.links.len() as u64)?;
        self.module_uint(u64::from(shape.options))?;
        self.module_uint(u64::from(shape.growth))?;
        let mut pos = 1i64;
        for link in &shape.links {
            self.module_uint(link.capacity)?;
            self.module_double(link.error)?;
            self.module_uint(u64::from(link.hashes))?;
            self.module_double(link.bpe)?;
            self.module_uint(link.bits)?;
            self.module_uint(u64::from(link.n2))?;
            let len = usize::try_from(link.bytes).unwrap_or(usize::MAX);
            let (next, bits) = b.dump_chunk(pos, len).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, "bloom filter link unreadable")
            })?;
            self.put_len(module_op::STRING)?;
            self.put_string(bits)?;
            pos = next;
            self.module_uint(link.items)?;
        }
        self.put_len(module_op::EOF)
    }

    fn module_uint(&mut self, v: u64) -> io::Result<()> {
        self.put_len(module_op::UINT)?;
        self.put_len(v)
    }

    fn module_double(&mut self, v: f64) -> io::Result<()> {
        self.put_len(module_op::DOUBLE)?;
        self.put(&v.to_le_bytes())
    }
}

/// The integer a listpack stores for `score`, if it stores one: Redis's
/// double2ll, integral values within ±2^62 (so -0 becomes 0).
fn listpack_score(score: f64) -> Option<i64> {
    let bound = (i64::MAX / 2) as f64;
    if score < -bound || score > bound {
        return None;
    }
    let v = score as i64;
    (v as f64 == score).then_some(v)
}

/// Decides where quicklist nodes start, as elements are appended: Redis
/// 7.0's `_quicklistNodeAllowInsert`, which lets an element join a node
/// while the node's listpack bytes plus the element's length plus 8 (its
/// overestimate of an entry's framing) stay within the size bound, and the
/// node is under the count bound.
struct NodePacker {
    limits: list::Limits,
    bytes: usize,
    count: usize,
}

/// A listpack's header and terminator.
const LISTPACK_OVERHEAD: usize = 7;
/// Redis's `SIZE_ESTIMATE_OVERHEAD`.
const ENTRY_ESTIMATE: usize = 8;

impl NodePacker {
    fn new(limits: list::Limits) -> NodePacker {
        NodePacker {
            limits,
            bytes: 0,
            count: 0,
        }
    }

    /// Accounts for `e`; true if it begins a new node (the first element
    /// always does, and so does every PLAIN element and the one after it).
    fn starts_node(&mut self, e: &[u8]) -> bool {
        if e.len() >= PLAIN_THRESHOLD {
            // A node of its own; the next element starts another.
            self.count = usize::MAX;
            return true;
        }
        let fits = self.count > 0
            && self.count < self.limits.max_count
            && self.bytes + e.len() + ENTRY_ESTIMATE <= self.limits.max_bytes;
        let size = listpack::entry_size(e);
        if fits {
            self.bytes += size;
            self.count += 1;
            false
        } else {
            self.bytes = LISTPACK_OVERHEAD + size;
            self.count = 1;
            true
        }
    }
}

/// Redis's rdbSaveLen into `out`; returns the bytes used.
pub(super) fn encode_len(len: u64, out: &mut [u8; 9]) -> usize {
    if len < 1 << 6 {
        out[0] = len as u8;
        1
    } else if len < 1 << 14 {
        out[0] = 0x40 | (len >> 8) as u8;
        out[1] = len as u8;
        2
    } else if let Ok(l) = u32::try_from(len) {
        out[0] = 0x80;
        out[1..5].copy_from_slice(&l.to_be_bytes());
        5
    } else {
        out[0] = 0x81;
        out[1..9].copy_from_slice(&len.to_be_bytes());
        9
    }
}

/// Redis's rdbEncodeInteger: `v` as an 8, 16 or 32-bit encoded string.
pub(super) fn encode_int(v: i64, out: &mut [u8; 5]) -> Option<usize> {
    if let Ok(x) = i8::try_from(v) {
        out[0] = 0xc0;
        out[1] = x as u8;
        Some(2)
    } else if let Ok(x) = i16::try_from(v) {
        out[0] = 0xc1;
        out[1..3].copy_from_slice(&x.to_le_bytes());
        Some(3)
    } else if let Ok(x) = i32::try_from(v) {
        out[0] = 0xc2;
        out[1..5].copy_from_slice(&x.to_le_bytes());
        Some(5)
    } else {
        None
    }
}

/// The fields of a bloom filter, read back from its dump header (the
/// layout types/bloom.rs documents).
struct BloomShape {
    items: u64,
    options: u32,
    growth: u32,
    links: Vec<BloomLink>,
}

struct BloomLink {
    bytes: u64,
    bits: u64,
    items: u64,
    error: f64,
    bpe: f64,
    hashes: u32,
    capacity: u64,
    n2: u8,
}

impl BloomShape {
    fn parse(h: &[u8]) -> Option<BloomShape> {
        let mut r = h;
        let mut take = |n: usize| -> Option<&[u8]> {
            let (a, b) = r.split_at_checked(n)?;
            r = b;
            Some(a)
        };
        let u64_at = |b: &[u8]| -> u64 {
            b.iter()
                .rev()
                .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
        };
        let items = u64_at(take(8)?);
        let nlinks = u64_at(take(4)?) as usize;
        let options = u64_at(take(4)?) as u32;
        let growth = u64_at(take(4)?) as u32;
        let mut links = Vec::with_capacity(nlinks.min(1024));
        for _ in 0..nlinks {
            links.push(BloomLink {
                bytes: u64_at(take(8)?),
                bits: u64_at(take(8)?),
                items: u64_at(take(8)?),
                error: f64::from_bits(u64_at(take(8)?)),
                bpe: f64::from_bits(u64_at(take(8)?)),
                hashes: u64_at(take(4)?) as u32,
                capacity: u64_at(take(8)?),
                n2: take(1)?[0],
            });
        }
        Some(BloomShape {
            items,
            options,
            growth,
            links,
        })
    }
}
