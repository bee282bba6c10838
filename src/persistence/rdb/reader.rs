//! The streaming RDB reader. See the module documentation for the format.

use std::cmp::Ordering;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::shard::db::Value;
use crate::types::bloom::BloomFilter;
use crate::types::compact::{CompactBytes, INLINE_CAP};
use crate::types::hash::HashValue;
use crate::types::list::{End, ListValue};
use crate::types::set::SetValue;
use crate::types::zset::ZSetValue;
use crate::util::crc64;
use crate::util::num::{parse_f64_strtod, parse_i64};

use super::listpack::{Elem, Listpack};
use super::ziplist::Ziplist;
use super::{intset, lzf, module_op, opcode, rdb_type, zipmap};
use super::{module_type_name, BlobError, Limits, RdbError, BLOOM_TYPE_NAME, MAX_READ_VERSION};
use super::{CONTAINER_PACKED, CONTAINER_PLAIN};

const BUF_SIZE: usize = 256 * 1024;

/// Without a known input size, strings grow by at most this much before
/// the bytes backing them have actually been read.
const GROW_STEP: usize = 1 << 20;

/// RedisBloom refuses more links than this on load (`nfilters < 1000`).
const MAX_BLOOM_LINKS: u64 = 1000;

/// One item of an RDB file, in file order.
#[derive(Debug)]
pub enum Record<'a> {
    /// An AUX field (redis-ver, ctime, repl-id, ...).
    Aux {
        name: &'a [u8],
        value: &'a [u8],
    },
    /// RESIZEDB: how many keys (and keys with a TTL) database `db` holds.
    ResizeDb {
        db: u32,
        keys: u64,
        expires: u64,
    },
    /// A Lua library's code (FUNCTION2).
    Function {
        code: Vec<u8>,
    },
    Key(KeyRecord<'a>),
}

/// A key and everything the file says about it.
#[derive(Debug)]
pub struct KeyRecord<'a> {
    pub db: u32,
    pub key: &'a [u8],
    pub value: Value,
    /// Absolute expiry in Unix milliseconds, 0 = none. Keys already expired
    /// are returned too: whether to drop them is the loader's policy
    /// (Redis drops them on a master, keeps them on a replica).
    pub expire_at: u64,
    /// Seconds idle, when the file was written under an LRU policy.
    pub idle_secs: Option<u64>,
    /// LFU counter, when written under an LFU policy.
    pub freq: Option<u8>,
}

/// Buffered input that tracks the file offset and the running checksum.
struct Input<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// File offset of `buf[0]`.
    base: u64,
    crc: u64,
    /// `buf[..crc_pos]` is already in `crc`.
    crc_pos: usize,
    /// Total input length, when known: lengths are checked against it.
    total: Option<u64>,
    eof: bool,
}

impl<R: Read> Input<R> {
    fn new(inner: R, total: Option<u64>) -> Input<R> {
        Input {
            inner,
            buf: vec![0u8; BUF_SIZE].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            crc: 0,
            crc_pos: 0,
            total,
            eof: false,
        }
    }

    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Bytes the input can still hold past the current position, if known.
    fn remaining(&self) -> Option<u64> {
        self.total.map(|t| t.saturating_sub(self.offset()))
    }

    /// Moves unread bytes to the front and reads more; false at the end
    /// of the input.
    fn fill(&mut self) -> Result<bool, RdbError> {
        if self.eof {
            return Ok(false);
        }
        self.crc = crc64::update(self.crc, &self.buf[self.crc_pos..self.pos]);
        self.buf.copy_within(self.pos..self.end, 0);
        self.base += self.pos as u64;
        self.end -= self.pos;
        self.pos = 0;
        self.crc_pos = 0;
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(RdbError::Io {
                        offset: self.offset(),
                        source,
                    })
                }
            }
        }
    }

    fn truncated(&self, what: &'static str) -> RdbError {
        RdbError::Truncated {
            offset: self.offset(),
            what,
        }
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, RdbError> {
        if self.pos == self.end && !self.fill()? {
            return Err(self.truncated(what));
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], RdbError> {
        let mut out = [0u8; N];
        if self.end - self.pos >= N {
            out.copy_from_slice(&self.buf[self.pos..self.pos + N]);
            self.pos += N;
            return Ok(out);
        }
        for b in &mut out {
            *b = self.u8(what)?;
        }
        Ok(out)
    }

    /// `n` bytes into `out` (cleared first). Memory grows only as bytes
    /// arrive, or up front when the input's size vouches for `n`.
    fn bytes_into(
        &mut self,
        n: u64,
        out: &mut Vec<u8>,
        what: &'static str,
    ) -> Result<(), RdbError> {
        out.clear();
        if let Some(rest) = self.remaining() {
            if n > rest {
                return Err(self.corrupt(format!(
                    "{what} of {n} bytes, but only {rest} bytes remain in the file"
                )));
            }
        }
        let mut left = usize::try_from(n).map_err(|_| self.corrupt(format!("{what} too long")))?;
        let upfront = if self.total.is_some() {
            left
        } else {
            left.min(GROW_STEP)
        };
        out.try_reserve(upfront)
            .map_err(|_| self.corrupt(format!("{what} of {n} bytes: out of memory")))?;
        while left > 0 {
            if self.pos == self.end && !self.fill()? {
                return Err(self.truncated(what));
            }
            let take = left.min(self.end - self.pos);
            if out.capacity() - out.len() < take {
                out.try_reserve(take.max(left.min(GROW_STEP)))
                    .map_err(|_| self.corrupt(format!("{what} of {n} bytes: out of memory")))?;
            }
            out.extend_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            left -= take;
        }
        Ok(())
    }

    fn skip(&mut self, n: u64, what: &'static str) -> Result<(), RdbError> {
        let mut left = n;
        while left > 0 {
            if self.pos == self.end && !self.fill()? {
                return Err(self.truncated(what));
            }
            let take = left.min((self.end - self.pos) as u64) as usize;
            self.pos += take;
            left -= take as u64;
        }
        Ok(())
    }

    fn corrupt(&self, what: String) -> RdbError {
        RdbError::Corrupt {
            offset: self.offset(),
            what,
        }
    }

    /// Redis's rdbLoadLen: a length, or the code of a special string
    /// encoding (`Err` side of the inner result).
    fn len_or_enc(&mut self, what: &'static str) -> Result<Result<u64, u8>, RdbError> {
        let at = self.offset();
        let b = self.u8(what)?;
        Ok(Ok(match b >> 6 {
            0 => u64::from(b & 0x3f),
            1 => (u64::from(b & 0x3f) << 8) | u64::from(self.u8(what)?),
            3 => return Ok(Err(b & 0x3f)),
            _ => match b {
                0x80 => u64::from(u32::from_be_bytes(self.array(what)?)),
                0x81 => u64::from_be_bytes(self.array(what)?),
                _ => {
                    return Err(RdbError::Corrupt {
                        offset: at,
                        what: format!("unknown length encoding 0x{b:02x} in {what}"),
                    })
                }
            },
        }))
    }

    fn len(&mut self, what: &'static str) -> Result<u64, RdbError> {
        let at = self.offset();
        match self.len_or_enc(what)? {
            Ok(n) => Ok(n),
            Err(_) => Err(RdbError::Corrupt {
                offset: at,
                what: format!("an encoded string where {what} (a length) was expected"),
            }),
        }
    }

    /// A count of items each taking at least one byte: refused if the
    /// input cannot hold that many.
    fn count(&mut self, what: &'static str) -> Result<u64, RdbError> {
        let at = self.offset();
        let n = self.len(what)?;
        if let Some(rest) = self.remaining() {
            if n > rest {
                return Err(RdbError::Corrupt {
                    offset: at,
                    what: format!("{what} is {n}, more than the {rest} bytes left in the file"),
                });
            }
        }
        Ok(n)
    }

    /// A string (rdbGenericLoadStringObject) into `out`; integer encodings
    /// are formatted, LZF expanded (through `lzf_in`). Returns the integer
    /// when the string was integer-encoded.
    fn string_into(
        &mut self,
        out: &mut Vec<u8>,
        lzf_in: &mut Vec<u8>,
        what: &'static str,
    ) -> Result<Option<i64>, RdbError> {
        let at = self.offset();
        let head = self.len_or_enc(what)?;
        self.string_rest(at, head, out, lzf_in, what)
    }

    /// A string value: long ones are read into an allocation of their own
    /// that the value then keeps (no copy), short ones through `scratch`.
    fn string_value(
        &mut self,
        scratch: &mut Vec<u8>,
        lzf_in: &mut Vec<u8>,
    ) -> Result<Value, RdbError> {
        let what = "a string value";
        let at = self.offset();
        let head = self.len_or_enc(what)?;
        if matches!(head, Ok(n) if n > INLINE_CAP as u64) || head == Err(3) {
            let mut own = Vec::new();
            self.string_rest(at, head, &mut own, lzf_in, what)?;
            return Ok(if own.len() <= INLINE_CAP {
                Value::from_bytes(&own)
            } else {
                Value::Str(CompactBytes::from_vec(own))
            });
        }
        Ok(match self.string_rest(at, head, scratch, lzf_in, what)? {
            Some(v) => Value::Int(v),
            None => Value::from_bytes(scratch),
        })
    }

    /// The rest of a string whose length (or encoding) `head` was read at
    /// `at`.
    fn string_rest(
        &mut self,
        at: u64,
        head: Result<u64, u8>,
        out: &mut Vec<u8>,
        lzf_in: &mut Vec<u8>,
        what: &'static str,
    ) -> Result<Option<i64>, RdbError> {
        match head {
            Ok(n) => {
                self.bytes_into(n, out, what)?;
                Ok(None)
            }
            Err(enc) => {
                let v = match enc {
                    0 => i64::from(self.u8(what)? as i8),
                    1 => i64::from(i16::from_le_bytes(self.array(what)?)),
                    2 => i64::from(i32::from_le_bytes(self.array(what)?)),
                    3 => {
                        let clen = self.len(what)?;
                        let len = self.len(what)?;
                        let cap = lzf::max_expansion(usize::try_from(clen).unwrap_or(usize::MAX));
                        if usize::try_from(len).map_or(true, |l| l > cap) {
                            return Err(RdbError::Corrupt {
                                offset: at,
                                what: format!(
                                    "LZF string of {clen} bytes claims to expand to {len}"
                                ),
                            });
                        }
                        self.bytes_into(clen, lzf_in, what)?;
                        lzf::decompress(lzf_in, len as usize, out).map_err(|e| {
                            RdbError::Corrupt {
                                offset: at,
                                what: format!("{} in {what}", e.text()),
                            }
                        })?;
                        if lzf_in.capacity() > 4 * BUF_SIZE {
                            *lzf_in = Vec::new();
                        }
                        return Ok(None);
                    }
                    _ => {
                        return Err(RdbError::Corrupt {
                            offset: at,
                            what: format!("unknown string encoding {enc} in {what}"),
                        })
                    }
                };
                out.clear();
                out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
                Ok(Some(v))
            }
        }
    }

    /// Skips a string without decoding it.
    fn skip_string(&mut self, what: &'static str) -> Result<(), RdbError> {
        match self.len_or_enc(what)? {
            Ok(n) => self.skip(n, what),
            Err(0) => self.skip(1, what),
            Err(1) => self.skip(2, what),
            Err(2) => self.skip(4, what),
            Err(3) => {
                let clen = self.len(what)?;
                self.len(what)?;
                self.skip(clen, what)
            }
            Err(enc) => Err(self.corrupt(format!("unknown string encoding {enc} in {what}"))),
        }
    }

    /// Sums the bytes consumed so far into the checksum and returns it.
    fn checksum(&mut self) -> u64 {
        self.crc = crc64::update(self.crc, &self.buf[self.crc_pos..self.pos]);
        self.crc_pos = self.pos;
        self.crc
    }
}

/// What `next_record` found, before it is turned into a borrowed record.
enum Found {
    Aux,
    ResizeDb(u64, u64),
    Function(Vec<u8>),
    Key(Value),
    End,
}

/// Reads an RDB stream record by record.
pub struct RdbReader<R> {
    input: Input<R>,
    limits: Limits,
    version: u32,
    db: u32,
    done: bool,
    skipped_empty: u64,
    keys: u64,
    // Scratch reused from key to key.
    key: Vec<u8>,
    aux_value: Vec<u8>,
    elem: Vec<u8>,
    blob: Vec<u8>,
    lzf_in: Vec<u8>,
    arena: Vec<u8>,
    spans: Vec<(usize, usize)>,
    ints: Vec<i64>,
    scored: Vec<(f64, usize, usize)>,
    order: Vec<usize>,
    // Pending per-key metadata.
    expire_at: u64,
    idle_secs: Option<u64>,
    freq: Option<u8>,
}

impl<R: Read> RdbReader<R> {
    /// Reads and checks the magic and version.
    pub fn new(inner: R, limits: Limits) -> Result<RdbReader<R>, RdbError> {
        RdbReader::with_total(inner, limits, None)
    }

    /// [`RdbReader::new`] for an input of known length (a file), against
    /// which every length in it is checked before anything is allocated.
    pub fn with_total(
        inner: R,
        limits: Limits,
        total: Option<u64>,
    ) -> Result<RdbReader<R>, RdbError> {
        let mut input = Input::new(inner, total);
        let magic: [u8; 9] = input.array("the header")?;
        if &magic[..5] != b"REDIS" {
            return Err(RdbError::Corrupt {
                offset: 0,
                what: "not an RDB file (no REDIS magic)".into(),
            });
        }
        let version = std::str::from_utf8(&magic[5..])
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|v| (1..=MAX_READ_VERSION).contains(v))
            .ok_or_else(|| RdbError::Unsupported {
                offset: 5,
                what: format!(
                    "RDB version {:?}; Shoal reads versions 1 to {MAX_READ_VERSION}",
                    String::from_utf8_lossy(&magic[5..])
                ),
            })?;
        Ok(RdbReader {
            input,
            limits,
            version,
            db: 0,
            done: false,
            skipped_empty: 0,
            keys: 0,
            key: Vec::new(),
            aux_value: Vec::new(),
            elem: Vec::new(),
            blob: Vec::new(),
            lzf_in: Vec::new(),
            arena: Vec::new(),
            spans: Vec::new(),
            ints: Vec::new(),
            scored: Vec::new(),
            order: Vec::new(),
            expire_at: 0,
            idle_secs: None,
            freq: None,
        })
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.input.offset()
    }

    /// Empty collections found in the file and skipped (Redis skips them
    /// too, with a warning).
    pub fn skipped_empty(&self) -> u64 {
        self.skipped_empty
    }

    /// The next record, or `None` after EOF once the checksum has been
    /// verified.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, RdbError> {
        if self.done {
            return Ok(None);
        }
        let found = self.advance()?;
        Ok(Some(match found {
            Found::End => {
                self.done = true;
                return Ok(None);
            }
            Found::Aux => Record::Aux {
                name: &self.key,
                value: &self.aux_value,
            },
            Found::ResizeDb(keys, expires) => Record::ResizeDb {
                db: self.db,
                keys,
                expires,
            },
            Found::Function(code) => Record::Function { code },
            Found::Key(value) => {
                let rec = KeyRecord {
                    db: self.db,
                    key: &self.key,
                    value,
                    expire_at: self.expire_at,
                    idle_secs: self.idle_secs,
                    freq: self.freq,
                };
                self.expire_at = 0;
                self.idle_secs = None;
                self.freq = None;
                self.keys += 1;
                Record::Key(rec)
            }
        }))
    }

    fn advance(&mut self) -> Result<Found, RdbError> {
        loop {
            let at = self.input.offset();
            let t = self.input.u8("a type or opcode")?;
            match t {
                opcode::EXPIRETIME_MS => {
                    let ms = i64::from_le_bytes(self.input.array("an expire time")?);
                    self.expire_at = ms.max(1) as u64;
                }
                opcode::EXPIRETIME => {
                    let secs = i32::from_le_bytes(self.input.array("an expire time")?);
                    self.expire_at = (i64::from(secs) * 1000).max(1) as u64;
                }
                opcode::FREQ => self.freq = Some(self.input.u8("an LFU counter")?),
                opcode::IDLE => self.idle_secs = Some(self.input.len("an idle time")?),
                opcode::EOF => {
                    self.finish_checksum()?;
                    return Ok(Found::End);
                }
                opcode::SELECTDB => {
                    let db = self.input.len("a database number")?;
                    if db >= u64::from(self.limits.databases) {
                        return Err(RdbError::Unsupported {
                            offset: at,
                            what: format!(
                                "database {db}, but only {} are configured",
                                self.limits.databases
                            ),
                        });
                    }
                    self.db = db as u32;
                }
                opcode::RESIZEDB => {
                    let keys = self.input.len("a database size")?;
                    let expires = self.input.len("a database size")?;
                    return Ok(Found::ResizeDb(keys, expires));
                }
                opcode::SLOT_INFO => {
                    for _ in 0..3 {
                        self.input.len("slot info")?;
                    }
                }
                opcode::AUX => {
                    let mut name = std::mem::take(&mut self.key);
                    let mut value = std::mem::take(&mut self.aux_value);
                    let r = self
                        .input
                        .string_into(&mut name, &mut self.lzf_in, "an aux field name")
                        .and_then(|_| {
                            self.input.string_into(
                                &mut value,
                                &mut self.lzf_in,
                                "an aux field value",
                            )
                        });
                    self.key = name;
                    self.aux_value = value;
                    r?;
                    return Ok(Found::Aux);
                }
                opcode::MODULE_AUX => self.skip_module_aux(at)?,
                opcode::FUNCTION_PRE_GA => {
                    return Err(RdbError::Unsupported {
                        offset: at,
                        what: "functions in the Redis 7.0 release-candidate format".into(),
                    })
                }
                opcode::FUNCTION2 => {
                    let mut code = Vec::new();
                    self.input
                        .string_into(&mut code, &mut self.lzf_in, "a function library")?;
                    return Ok(Found::Function(code));
                }
                _ if !rdb_type::is_known(t) => {
                    return Err(RdbError::Corrupt {
                        offset: at,
                        what: format!("unknown value type or opcode {t}"),
                    })
                }
                _ => {
                    let mut key = std::mem::take(&mut self.key);
                    let r = self.input.string_into(&mut key, &mut self.lzf_in, "a key");
                    self.key = key;
                    r?;
                    match self.value(t, at)? {
                        Some(v) => return Ok(Found::Key(v)),
                        None => {
                            self.skipped_empty += 1;
                            self.expire_at = 0;
                            self.idle_secs = None;
                            self.freq = None;
                        }
                    }
                }
            }
        }
    }

    fn finish_checksum(&mut self) -> Result<(), RdbError> {
        let computed = self.input.checksum();
        if self.version < 5 {
            return Ok(());
        }
        let stored = u64::from_le_bytes(self.input.array("the checksum")?);
        // Zero: written with `rdbchecksum no`, nothing to check.
        if stored != 0 && stored != computed {
            return Err(RdbError::Checksum { stored, computed });
        }
        Ok(())
    }

    fn skip_module_aux(&mut self, at: u64) -> Result<(), RdbError> {
        self.input.len("a module id")?;
        let when_op = self.input.len("a module aux header")?;
        if when_op != module_op::UINT {
            return Err(RdbError::Corrupt {
                offset: at,
                what: "module aux data without its 'when' field".into(),
            });
        }
        self.input.len("a module aux header")?;
        loop {
            let op_at = self.input.offset();
            match self.input.len("a module value opcode")? {
                module_op::EOF => return Ok(()),
                module_op::SINT | module_op::UINT => {
                    self.input.len("a module integer")?;
                }
                module_op::FLOAT => self.input.skip(4, "a module float")?,
                module_op::DOUBLE => self.input.skip(8, "a module double")?,
                module_op::STRING => self.input.skip_string("a module string")?,
                op => {
                    return Err(RdbError::Corrupt {
                        offset: op_at,
                        what: format!("unknown module value opcode {op}"),
                    })
                }
            }
        }
    }

    // ---- values -----------------------------------------------------------

    fn key_text(&self) -> String {
        String::from_utf8_lossy(&self.key[..self.key.len().min(64)]).into_owned()
    }

    fn corrupt_at(&self, offset: u64, what: impl Into<String>) -> RdbError {
        RdbError::Corrupt {
            offset,
            what: format!("{} (key '{}')", what.into(), self.key_text()),
        }
    }

    fn blob_error(&self, blob_at: u64, e: BlobError) -> RdbError {
        self.corrupt_at(blob_at, e.to_string())
    }

    /// Reads a string into `self.blob`; returns where it started.
    fn read_blob(&mut self, what: &'static str) -> Result<u64, RdbError> {
        let at = self.input.offset();
        let mut blob = std::mem::take(&mut self.blob);
        let r = self.input.string_into(&mut blob, &mut self.lzf_in, what);
        self.blob = blob;
        r?;
        Ok(at)
    }

    /// Reads a string into `self.elem`.
    fn read_elem(&mut self, what: &'static str) -> Result<Option<i64>, RdbError> {
        let mut elem = std::mem::take(&mut self.elem);
        let r = self.input.string_into(&mut elem, &mut self.lzf_in, what);
        self.elem = elem;
        r
    }

    /// Appends the current `self.elem` to the arena.
    fn stash_elem(&mut self) {
        let start = self.arena.len();
        self.arena.extend_from_slice(&self.elem);
        self.spans.push((start, self.arena.len()));
    }

    fn stash(arena: &mut Vec<u8>, spans: &mut Vec<(usize, usize)>, e: Elem<'_>) {
        let start = arena.len();
        match e {
            Elem::Int(v) => arena.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
            Elem::Str(s) => arena.extend_from_slice(s),
        }
        spans.push((start, arena.len()));
    }

    fn clear_arena(&mut self) {
        self.arena.clear();
        self.spans.clear();
        // A huge collection should not pin its scratch space for the rest
        // of the load.
        if self.arena.capacity() > 16 * BUF_SIZE {
            self.arena = Vec::new();
        }
        if self.spans.capacity() > BUF_SIZE {
            self.spans = Vec::new();
        }
    }

    /// The value of type `t` (whose type byte was at `at`); `None` for an
    /// empty collection.
    fn value(&mut self, t: u8, type_at: u64) -> Result<Option<Value>, RdbError> {
        // Faults of the value as a whole are reported where it starts.
        let at = self.input.offset();
        let value = match t {
            rdb_type::STRING => {
                let mut elem = std::mem::take(&mut self.elem);
                let v = self.input.string_value(&mut elem, &mut self.lzf_in);
                self.elem = elem;
                return v.map(Some);
            }
            rdb_type::LIST => self.list_plain()?,
            rdb_type::LIST_ZIPLIST => {
                let blob_at = self.read_blob("a ziplist")?;
                let mut list = ListValue::new();
                self.push_ziplist(&mut list, blob_at)?;
                Value::List(list)
            }
            rdb_type::LIST_QUICKLIST | rdb_type::LIST_QUICKLIST_2 => self.quicklist(t)?,
            rdb_type::SET => self.set_plain()?,
            rdb_type::SET_INTSET => {
                let blob_at = self.read_blob("an intset")?;
                let mut ints = std::mem::take(&mut self.ints);
                let r = intset::decode(&self.blob, &mut ints);
                let set = r.map(|()| SetValue::from_sorted_ints(&ints, self.limits.set_max_intset));
                self.ints = ints;
                Value::Set(set.map_err(|e| self.blob_error(blob_at, e))?)
            }
            rdb_type::SET_LISTPACK => {
                let blob_at = self.read_blob("a listpack")?;
                self.clear_arena();
                let (arena, spans) = (&mut self.arena, &mut self.spans);
                Listpack::for_each(&self.blob, |e| Self::stash(arena, spans, e))
                    .map_err(|e| self.blob_error(blob_at, e))?;
                Value::Set(self.build_set(at)?)
            }
            rdb_type::ZSET | rdb_type::ZSET_2 => self.zset_plain(t, at)?,
            rdb_type::ZSET_ZIPLIST | rdb_type::ZSET_LISTPACK => {
                let blob_at = self.read_blob("a packed sorted set")?;
                self.clear_arena();
                self.scored.clear();
                let mut pairs = ScoredPairs {
                    arena: &mut self.arena,
                    scored: &mut self.scored,
                    member: None,
                    fault: None,
                };
                let r = if t == rdb_type::ZSET_ZIPLIST {
                    Ziplist::parse(&self.blob).map(|z| z.iter().for_each(|e| pairs.push(e)))
                } else {
                    Listpack::for_each(&self.blob, |e| pairs.push(e)).map(|_| ())
                };
                let fault = pairs.finish();
                r.map_err(|e| self.blob_error(blob_at, e))?;
                if let Some(what) = fault {
                    return Err(self.corrupt_at(blob_at, what));
                }
                Value::ZSet(self.build_zset(at)?)
            }
            rdb_type::HASH => self.hash_plain(at)?,
            rdb_type::HASH_ZIPMAP | rdb_type::HASH_ZIPLIST | rdb_type::HASH_LISTPACK => {
                let blob_at = self.read_blob("a packed hash")?;
                self.clear_arena();
                let (arena, spans) = (&mut self.arena, &mut self.spans);
                let r = match t {
                    rdb_type::HASH_ZIPMAP => zipmap::for_each_pair(&self.blob, |f, v| {
                        Self::stash(arena, spans, Elem::Str(f));
                        Self::stash(arena, spans, Elem::Str(v));
                    })
                    .map(|_| ()),
                    rdb_type::HASH_ZIPLIST => Ziplist::parse(&self.blob).map(|z| {
                        z.iter().for_each(|e| Self::stash(arena, spans, e));
                    }),
                    _ => {
                        Listpack::for_each(&self.blob, |e| Self::stash(arena, spans, e)).map(|_| ())
                    }
                };
                r.map_err(|e| self.blob_error(blob_at, e))?;
                if !self.spans.len().is_multiple_of(2) {
                    return Err(self.corrupt_at(blob_at, "packed hash with a field but no value"));
                }
                Value::Hash(self.build_hash(at)?)
            }
            rdb_type::MODULE_2 => Value::Bloom(Box::new(self.module(type_at, at)?)),
            rdb_type::STREAM_LISTPACKS
            | rdb_type::STREAM_LISTPACKS_2
            | rdb_type::STREAM_LISTPACKS_3
            | rdb_type::MODULE_PRE_GA
            | rdb_type::HASH_METADATA_PRE_GA
            | rdb_type::HASH_LISTPACK_EX_PRE_GA
            | rdb_type::HASH_METADATA
            | rdb_type::HASH_LISTPACK_EX => {
                return Err(RdbError::Unsupported {
                    offset: type_at,
                    what: format!(
                        "key '{}' is a {} (RDB type {t}), which Shoal does not support",
                        self.key_text(),
                        rdb_type::name(t)
                    ),
                })
            }
            _ => {
                return Err(RdbError::Corrupt {
                    offset: type_at,
                    what: format!("unknown value type or opcode {t}"),
                })
            }
        };
        let empty = match &value {
            Value::List(l) => l.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
            Value::Hash(h) => h.is_empty(),
            _ => false,
        };
        Ok((!empty).then_some(value))
    }

    fn list_plain(&mut self) -> Result<Value, RdbError> {
        let n = self.input.count("a list length")?;
        let mut list = ListValue::new();
        for _ in 0..n {
            self.read_elem("a list element")?;
            list.push(&self.elem, End::Tail, self.limits.list);
        }
        Ok(Value::List(list))
    }

    fn push_ziplist(&mut self, list: &mut ListValue, blob_at: u64) -> Result<(), RdbError> {
        let zl = Ziplist::parse(&self.blob).map_err(|e| self.blob_error(blob_at, e))?;
        let mut buf = itoa::Buffer::new();
        for e in zl.iter() {
            list.push(e.bytes(&mut buf), End::Tail, self.limits.list);
        }
        Ok(())
    }

    fn quicklist(&mut self, t: u8) -> Result<Value, RdbError> {
        let nodes = self.input.count("a quicklist node count")?;
        let mut list = ListValue::new();
        for _ in 0..nodes {
            let container = if t == rdb_type::LIST_QUICKLIST_2 {
                let c_at = self.input.offset();
                let c = self.input.len("a quicklist node container")?;
                if c != CONTAINER_PLAIN && c != CONTAINER_PACKED {
                    return Err(self.corrupt_at(c_at, format!("unknown quicklist container {c}")));
                }
                c
            } else {
                CONTAINER_PACKED
            };
            let blob_at = self.read_blob("a quicklist node")?;
            if container == CONTAINER_PLAIN {
                list.push(&self.blob, End::Tail, self.limits.list);
            } else if t == rdb_type::LIST_QUICKLIST {
                self.push_ziplist(&mut list, blob_at)?;
            } else {
                if list.is_empty() {
                    // Most lists are one node: one exact allocation.
                    self.arena.clear();
                    self.spans.clear();
                    let (arena, spans) = (&mut self.arena, &mut self.spans);
                    Listpack::for_each(&self.blob, |e| Self::stash(arena, spans, e))
                        .map_err(|e| self.blob_error(blob_at, e))?;
                    let arena = &self.arena;
                    list.push_all(
                        self.spans.iter().map(|&(a, b)| &arena[a..b]),
                        End::Tail,
                        self.limits.list,
                    );
                } else {
                    let mut buf = itoa::Buffer::new();
                    let limits = self.limits.list;
                    Listpack::for_each(&self.blob, |e| {
                        list.push(e.bytes(&mut buf), End::Tail, limits)
                    })
                    .map_err(|e| self.blob_error(blob_at, e))?;
                }
            }
            if self.blob.capacity() > 4 * BUF_SIZE {
                self.blob = Vec::new();
            }
        }
        Ok(Value::List(list))
    }

    fn set_plain(&mut self) -> Result<Value, RdbError> {
        let at = self.input.offset();
        let n = self.input.count("a set size")?;
        if n as usize > self.limits.set_max_intset {
            // Too large for an intset whatever it holds: stream the members
            // into a table.
            let mut set = SetValue::new_table();
            for _ in 0..n {
                self.read_elem("a set member")?;
                if !set.insert(&self.elem, usize::MAX) {
                    return Err(self.corrupt_at(at, "duplicate set member"));
                }
            }
            return Ok(Value::Set(set));
        }
        self.clear_arena();
        for _ in 0..n {
            self.read_elem("a set member")?;
            self.stash_elem();
        }
        Ok(Value::Set(self.build_set(at)?))
    }

    /// A set of the members in the arena: an intset if they are all
    /// integers and few enough, else a table.
    fn build_set(&mut self, at: u64) -> Result<SetValue, RdbError> {
        self.ints.clear();
        let all_ints = self.spans.len() <= self.limits.set_max_intset
            && self
                .spans
                .iter()
                .all(|&(a, b)| match parse_i64(&self.arena[a..b]) {
                    Some(v) => {
                        self.ints.push(v);
                        true
                    }
                    None => false,
                });
        if all_ints {
            self.ints.sort_unstable();
            if self.ints.windows(2).any(|w| w[0] == w[1]) {
                return Err(self.corrupt_at(at, "duplicate set member"));
            }
            return Ok(SetValue::from_sorted_ints(
                &self.ints,
                self.limits.set_max_intset,
            ));
        }
        let mut set = SetValue::new_table();
        for &(a, b) in &self.spans {
            if !set.insert(&self.arena[a..b], usize::MAX) {
                return Err(self.corrupt_at(at, "duplicate set member"));
            }
        }
        Ok(set)
    }

    fn zset_plain(&mut self, t: u8, at: u64) -> Result<Value, RdbError> {
        let n = self.input.count("a sorted set size")?;
        self.clear_arena();
        self.scored.clear();
        for _ in 0..n {
            self.read_elem("a sorted set member")?;
            let score_at = self.input.offset();
            let score = if t == rdb_type::ZSET_2 {
                f64::from_le_bytes(self.input.array("a score")?)
            } else {
                self.double_string()?
            };
            if score.is_nan() {
                return Err(self.corrupt_at(score_at, "sorted set score is NaN"));
            }
            let start = self.arena.len();
            self.arena.extend_from_slice(&self.elem);
            self.scored.push((score, start, self.arena.len()));
        }
        Ok(Value::ZSet(self.build_zset(at)?))
    }

    /// rdbLoadDoubleValue: a length byte (253 NaN, 254 +inf, 255 -inf) and
    /// that many bytes of text.
    fn double_string(&mut self) -> Result<f64, RdbError> {
        let at = self.input.offset();
        let len = self.input.u8("a score")?;
        match len {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let mut text = [0u8; 252];
                for b in text.iter_mut().take(usize::from(n)) {
                    *b = self.input.u8("a score")?;
                }
                parse_f64_strtod(&text[..usize::from(n)])
                    .ok_or_else(|| self.corrupt_at(at, "sorted set score is not a number"))
            }
        }
    }

    /// A sorted set of the (score, member) pairs in `self.scored`.
    fn build_zset(&mut self, at: u64) -> Result<ZSetValue, RdbError> {
        let arena = &self.arena;
        let member = |&(_, a, b): &(f64, usize, usize)| &arena[a..b];
        self.order.clear();
        self.order.extend(0..self.scored.len());
        let scored = &self.scored;
        self.order
            .sort_unstable_by(|&x, &y| member(&scored[x]).cmp(member(&scored[y])));
        if self
            .order
            .windows(2)
            .any(|w| member(&scored[w[0]]) == member(&scored[w[1]]))
        {
            return Err(self.corrupt_at(at, "duplicate sorted set member"));
        }
        self.scored.sort_unstable_by(|x, y| {
            x.0.partial_cmp(&y.0)
                .unwrap_or(Ordering::Equal)
                .then_with(|| member(x).cmp(member(y)))
        });
        let view: Vec<(f64, &[u8])> = self.scored.iter().map(|e| (e.0, member(e))).collect();
        Ok(ZSetValue::from_sorted_slices(&view, self.limits.zset))
    }

    fn hash_plain(&mut self, at: u64) -> Result<Value, RdbError> {
        let n = self.input.count("a hash size")?;
        if n as usize > self.limits.hash.max_entries {
            let mut hash = HashValue::new_table();
            let mut field = Vec::new();
            for _ in 0..n {
                self.read_elem("a hash field")?;
                std::mem::swap(&mut field, &mut self.elem);
                self.read_elem("a hash value")?;
                if !hash.set(&field, &self.elem, self.limits.hash) {
                    return Err(self.corrupt_at(at, "duplicate hash field"));
                }
            }
            return Ok(Value::Hash(hash));
        }
        self.clear_arena();
        for _ in 0..n {
            self.read_elem("a hash field")?;
            self.stash_elem();
            self.read_elem("a hash value")?;
            self.stash_elem();
        }
        Ok(Value::Hash(self.build_hash(at)?))
    }

    /// A hash of the field/value pairs in the arena.
    fn build_hash(&mut self, at: u64) -> Result<HashValue, RdbError> {
        let pairs = self.spans.len() / 2;
        let mut hash = if pairs > self.limits.hash.max_entries {
            HashValue::new_table()
        } else {
            HashValue::new()
        };
        let arena = &self.arena;
        let it = self
            .spans
            .chunks_exact(2)
            .map(|p| (&arena[p[0].0..p[0].1], &arena[p[1].0..p[1].1]));
        if hash.set_pairs(it, self.limits.hash) != pairs {
            return Err(self.corrupt_at(at, "duplicate hash field"));
        }
        Ok(hash)
    }

    // ---- modules ------------------------------------------------------------

    fn module(&mut self, type_at: u64, at: u64) -> Result<BloomFilter, RdbError> {
        let id = self.input.len("a module id")?;
        let (name, encver) = module_type_name(id);
        if name != BLOOM_TYPE_NAME || encver > 4 {
            return Err(RdbError::Unsupported {
                offset: type_at,
                what: format!(
                    "key '{}' is a value of module type '{name}' (encoding version {encver}), \
                     which Shoal does not support",
                    self.key_text()
                ),
            });
        }
        let items = self.module_uint()?;
        let nlinks = self.module_uint()?;
        let options = if encver >= 2 { self.module_uint()? } else { 0 };
        let growth = if encver >= 4 { self.module_uint()? } else { 2 };
        // Shoal's filters are RedisBloom's 64-bit, unrounded ones
        // (FORCE64 | NOROUND, optionally NO_SCALING).
        if options & !8 != 5 {
            return Err(RdbError::Unsupported {
                offset: at,
                what: format!(
                    "bloom filter '{}' has options {options} (32-bit hashes or power-of-two \
                     sizes); Shoal loads RedisBloom 2.x's 64-bit unrounded filters",
                    self.key_text()
                ),
            });
        }
        if nlinks == 0 || nlinks >= MAX_BLOOM_LINKS {
            return Err(self.corrupt_at(at, format!("bloom filter with {nlinks} links")));
        }
        let growth = u32::try_from(growth)
            .map_err(|_| self.corrupt_at(at, "bloom filter expansion out of range"))?;
        let mut header = Vec::with_capacity(20 + 53 * nlinks as usize);
        header.extend_from_slice(&items.to_le_bytes());
        header.extend_from_slice(&(nlinks as u32).to_le_bytes());
        header.extend_from_slice(&(options as u32).to_le_bytes());
        header.extend_from_slice(&growth.to_le_bytes());
        let mut arrays: Vec<Vec<u8>> = Vec::with_capacity(nlinks as usize);
        for _ in 0..nlinks {
            let capacity = self.module_uint()?;
            let error = self.module_double()?;
            let hashes = self.module_uint()?;
            let bpe = self.module_double()?;
            let (bits, n2) = if encver == 0 {
                ((capacity as f64 * bpe) as u64, 0)
            } else {
                (self.module_uint()?, self.module_uint()?)
            };
            let mut array = Vec::new();
            self.module_string(&mut array)?;
            let link_items = self.module_uint()?;
            let hashes = u32::try_from(hashes)
                .map_err(|_| self.corrupt_at(at, "bloom filter hash count out of range"))?;
            let n2 = u8::try_from(n2)
                .map_err(|_| self.corrupt_at(at, "bloom filter n2 out of range"))?;
            header.extend_from_slice(&(array.len() as u64).to_le_bytes());
            header.extend_from_slice(&bits.to_le_bytes());
            header.extend_from_slice(&link_items.to_le_bytes());
            header.extend_from_slice(&error.to_le_bytes());
            header.extend_from_slice(&bpe.to_le_bytes());
            header.extend_from_slice(&hashes.to_le_bytes());
            header.extend_from_slice(&capacity.to_le_bytes());
            header.push(n2);
            arrays.push(array);
        }
        let eof_at = self.input.offset();
        if self.input.len("the module value's end")? != module_op::EOF {
            return Err(self.corrupt_at(eof_at, "bloom filter value has extra fields"));
        }
        let mut filter = BloomFilter::from_header(&header)
            .map_err(|_| self.corrupt_at(at, "bloom filter fields are inconsistent"))?;
        let mut pos = 1i64;
        for array in &arrays {
            let end = pos + array.len() as i64;
            filter
                .load_chunk(end, array)
                .map_err(|e| self.corrupt_at(at, format!("bloom filter bits: {}", e.text())))?;
            pos = end;
        }
        Ok(filter)
    }

    fn module_op(&mut self, want: u64, what: &'static str) -> Result<(), RdbError> {
        let at = self.input.offset();
        let op = self.input.len(what)?;
        if op != want {
            return Err(self.corrupt_at(
                at,
                format!("module value opcode {op} where {what} (opcode {want}) was expected"),
            ));
        }
        Ok(())
    }

    fn module_uint(&mut self) -> Result<u64, RdbError> {
        self.module_op(module_op::UINT, "an unsigned integer")?;
        self.input.len("a module integer")
    }

    fn module_double(&mut self) -> Result<f64, RdbError> {
        self.module_op(module_op::DOUBLE, "a double")?;
        Ok(f64::from_le_bytes(self.input.array("a module double")?))
    }

    fn module_string(&mut self, out: &mut Vec<u8>) -> Result<(), RdbError> {
        self.module_op(module_op::STRING, "a string")?;
        self.input
            .string_into(out, &mut self.lzf_in, "a module string")
            .map(|_| ())
    }
}

/// Gathers alternating (member, score) elements of a packed sorted set
/// into the arena.
struct ScoredPairs<'r> {
    arena: &'r mut Vec<u8>,
    scored: &'r mut Vec<(f64, usize, usize)>,
    /// The span of a member waiting for its score.
    member: Option<(usize, usize)>,
    fault: Option<&'static str>,
}

impl ScoredPairs<'_> {
    fn push(&mut self, e: Elem<'_>) {
        match self.member.take() {
            None => {
                let start = self.arena.len();
                match e {
                    Elem::Int(v) => self
                        .arena
                        .extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
                    Elem::Str(s) => self.arena.extend_from_slice(s),
                }
                self.member = Some((start, self.arena.len()));
            }
            Some((a, b)) => {
                let score = match e {
                    Elem::Int(v) => v as f64,
                    Elem::Str(s) => match parse_f64_strtod(s) {
                        Some(v) => v,
                        None => {
                            self.fault.get_or_insert("sorted set score is not a number");
                            return;
                        }
                    },
                };
                self.scored.push((score, a, b));
            }
        }
    }

    /// The first fault found, if any.
    fn finish(self) -> Option<&'static str> {
        if self.member.is_some() {
            return Some("packed sorted set with a member but no score");
        }
        self.fault
    }
}

/// What a load went through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadSummary {
    pub version: u32,
    pub keys: u64,
    pub skipped_empty: u64,
    pub bytes: u64,
}

/// A load stopped: the file was bad, or the sink refused a record.
#[derive(Debug)]
pub enum LoadError<E> {
    Rdb(RdbError),
    Sink(E),
}

impl<E: std::fmt::Display> std::fmt::Display for LoadError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Rdb(e) => e.fmt(f),
            LoadError::Sink(e) => e.fmt(f),
        }
    }
}

impl<E: std::fmt::Debug + std::fmt::Display> std::error::Error for LoadError<E> {}

impl<E> From<RdbError> for LoadError<E> {
    fn from(e: RdbError) -> Self {
        LoadError::Rdb(e)
    }
}

/// Reads a whole RDB stream, handing every record to `sink` in file order,
/// and verifies the checksum at the end (so a sink that must not apply a
/// bad file should stage what it gets until this returns).
pub fn load<R: Read, E>(
    input: R,
    limits: Limits,
    sink: impl FnMut(Record<'_>) -> Result<(), E>,
) -> Result<LoadSummary, LoadError<E>> {
    drive(RdbReader::new(input, limits)?, sink)
}

/// [`load`] from a file, whose size bounds every length in it.
pub fn load_file<E>(
    path: &Path,
    limits: Limits,
    sink: impl FnMut(Record<'_>) -> Result<(), E>,
) -> Result<LoadSummary, LoadError<E>> {
    let file = File::open(path).map_err(|source| RdbError::Io { offset: 0, source })?;
    let total = file.metadata().ok().map(|m| m.len());
    drive(RdbReader::with_total(file, limits, total)?, sink)
}

fn drive<R: Read, E>(
    mut reader: RdbReader<R>,
    mut sink: impl FnMut(Record<'_>) -> Result<(), E>,
) -> Result<LoadSummary, LoadError<E>> {
    while let Some(rec) = reader.next_record()? {
        sink(rec).map_err(LoadError::Sink)?;
    }
    Ok(LoadSummary {
        version: reader.version,
        keys: reader.keys,
        skipped_empty: reader.skipped_empty,
        bytes: reader.offset(),
    })
}
