//! Redis's RDB snapshot format, version 10 (what Redis 7.0 writes): a
//! streaming [`RdbWriter`] over Shoal's own values and a streaming
//! [`RdbReader`] that builds them back.
//!
//! ## The format
//!
//! ```text
//! "REDIS0010"
//! AUX name value ...            0xFA: redis-ver, redis-bits, ctime, used-mem, aof-base
//! FUNCTION2 code ...            0xF5: one per Lua library (FUNCTION LOAD's text)
//! per database:
//!   SELECTDB n                  0xFE
//!   RESIZEDB keys expires       0xFB: sizing hints
//!   per key: [EXPIRETIME_MS t] [IDLE s] [FREQ f] type key value
//! EOF                           0xFF
//! CRC-64/Jones of everything above, 8 bytes little-endian (0 = not computed)
//! ```
//!
//! Lengths are Redis's variable-length integers (6 bits, 14 bits, or a
//! 0x80/0x81 prefix then a big-endian u32/u64); a first byte `11xxxxxx`
//! marks a specially encoded string instead: an 8, 16 or 32-bit integer
//! (little-endian) or LZF-compressed bytes (`0xC3 clen len data`). Every
//! string in the file (keys, values, list nodes, aux fields) is written
//! through the same rule. Collections are either a count followed by their
//! elements, or one string holding a packed blob (listpack, intset, and in
//! older files ziplist and zipmap), decoded by this module's submodules.
//!
//! ## What Shoal writes, and why
//!
//! The writer makes the choices redis-server 7.0.15 makes for the same
//! data, so that a Shoal snapshot loads into Redis 7.0 (and into anything
//! that loads Redis's files) with the same encodings Redis would report:
//!
//! * strings: `int` encodings for canonical integers that fit 32 bits,
//!   LZF when longer than 20 bytes and compression saves at least 4
//!   (`rdbcompression yes`), else raw bytes;
//! * lists: QUICKLIST_2 of listpack nodes filled to `list-max-listpack-size`
//!   (8 KiB by default), PLAIN nodes for elements of 1 GiB and more, as
//!   Redis's `packed_threshold`;
//! * hashes: HASH_LISTPACK while Shoal holds them packed, else HASH;
//! * sets: SET_INTSET while Shoal holds an intset (width 2, 4 or 8 bytes as
//!   Redis's), else SET;
//! * sorted sets: ZSET_LISTPACK while packed (integral scores as listpack
//!   integers, others as `%.17g`, as `zzlInsertAt`), else ZSET_2 with
//!   binary doubles, highest score first as Redis walks its skip list;
//! * bloom filters: a MODULE_2 record of RedisBloom's `MBbloom--` type at
//!   encoding version 4, field for field what RedisBloom 2.x's `BFRdbSave`
//!   writes, so a server with RedisBloom loaded reads it as its own.
//!
//! The reader accepts versions 1 to 12 and every type and encoding those
//! write except streams, hashes with field expiry (7.4) and modules other
//! than `MBbloom--`, which are refused with an error naming the type and
//! the byte offset. It builds values in the encodings Shoal's commands
//! would give them under the configured thresholds (converting as Redis
//! does on load). Corrupt input is an error carrying the byte offset:
//! lengths are checked against what the input can still hold, blobs are
//! validated before use, nothing is allocated for a length the input does
//! not back up. Empty collections are skipped, as Redis 7.0 does.
//!
//! Both sides stream through their own 256 KiB buffers and reuse scratch
//! space between keys: the writer walks the live values without copying
//! them, the reader allocates little beyond the values it builds.

pub mod intset;
pub mod listpack;
pub mod lzf;
mod reader;
mod writer;
pub mod ziplist;
pub mod zipmap;

use std::fmt;

pub use reader::{load, load_file, KeyRecord, LoadError, LoadSummary, RdbReader, Record};
pub use writer::{KeyMeta, RdbWriter, WriterOptions};

use crate::types::{hash, list, zset};

/// The version this module writes.
pub const RDB_VERSION: u32 = 10;
/// The newest version the reader accepts (Redis 7.4 and 8.x write 12).
pub const MAX_READ_VERSION: u32 = 12;

/// Opcodes: bytes in a type's position that are not a type.
pub mod opcode {
    /// Redis 7.4's cluster slot sizing hint.
    pub const SLOT_INFO: u8 = 244;
    pub const FUNCTION2: u8 = 245;
    /// Redis 7.0 release candidates' function format, refused by 7.0 GA.
    pub const FUNCTION_PRE_GA: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

/// Value types.
pub mod rdb_type {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE_PRE_GA: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;
    pub const HASH_METADATA_PRE_GA: u8 = 22;
    pub const HASH_LISTPACK_EX_PRE_GA: u8 = 23;
    pub const HASH_METADATA: u8 = 24;
    pub const HASH_LISTPACK_EX: u8 = 25;

    /// Whether `t` is a value type of some Redis version.
    pub fn is_known(t: u8) -> bool {
        matches!(t, STRING..=MODULE_2 | HASH_ZIPMAP..=HASH_LISTPACK_EX)
    }

    /// A readable name for error messages.
    pub fn name(t: u8) -> &'static str {
        match t {
            STRING => "string",
            LIST => "list",
            SET => "set",
            ZSET => "zset",
            HASH => "hash",
            ZSET_2 => "zset-2",
            MODULE_PRE_GA => "module (pre-GA)",
            MODULE_2 => "module",
            HASH_ZIPMAP => "hash-zipmap",
            LIST_ZIPLIST => "list-ziplist",
            SET_INTSET => "set-intset",
            ZSET_ZIPLIST => "zset-ziplist",
            HASH_ZIPLIST => "hash-ziplist",
            LIST_QUICKLIST => "list-quicklist",
            STREAM_LISTPACKS | STREAM_LISTPACKS_2 | STREAM_LISTPACKS_3 => "stream",
            HASH_LISTPACK => "hash-listpack",
            ZSET_LISTPACK => "zset-listpack",
            LIST_QUICKLIST_2 => "list-quicklist-2",
            SET_LISTPACK => "set-listpack",
            HASH_METADATA_PRE_GA | HASH_LISTPACK_EX_PRE_GA | HASH_METADATA | HASH_LISTPACK_EX => {
                "hash with field expiry"
            }
            _ => "unknown",
        }
    }
}

/// Quicklist node containers (QUICKLIST_2).
const CONTAINER_PLAIN: u64 = 1;
const CONTAINER_PACKED: u64 = 2;

/// Elements this large get a PLAIN quicklist node of their own (Redis's
/// default `packed_threshold`).
const PLAIN_THRESHOLD: usize = 1 << 30;

/// Opcodes inside a module value.
mod module_op {
    pub const EOF: u64 = 0;
    pub const SINT: u64 = 1;
    pub const UINT: u64 = 2;
    pub const FLOAT: u64 = 3;
    pub const DOUBLE: u64 = 4;
    pub const STRING: u64 = 5;
}

/// RedisBloom's bloom filter type and the encoding version Shoal writes
/// (`BF_MIN_GROWTH_ENC`: size, filters, options, growth, then per link
/// entries, error, hashes, bpe, bits, n2, the bit array and its size).
pub const BLOOM_TYPE_NAME: &str = "MBbloom--";
pub const BLOOM_ENCVER: u32 = 4;

/// The characters of a module type name, in the order whose index is each
/// character's 6-bit code in a module id.
const MODULE_CHARSET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A module type's 64-bit id: nine 6-bit characters, then the 10-bit
/// encoding version (Redis's moduleTypeEncodeId). `None` if the name is not
/// nine characters of the charset.
pub fn module_type_id(name: &str, encver: u32) -> Option<u64> {
    let name = name.as_bytes();
    if name.len() != 9 || encver > 1023 {
        return None;
    }
    let mut id = 0u64;
    for c in name {
        let code = MODULE_CHARSET.iter().position(|x| x == c)?;
        id = (id << 6) | code as u64;
    }
    Some((id << 10) | u64::from(encver))
}

/// The name and encoding version in a module id.
pub fn module_type_name(id: u64) -> (String, u32) {
    let mut name = String::with_capacity(9);
    for i in (0..9).rev() {
        let code = ((id >> (10 + 6 * i)) & 63) as usize;
        name.push(char::from(MODULE_CHARSET[code]));
    }
    (name, (id & 1023) as u32)
}

/// Thresholds the reader builds values under: the same configuration the
/// commands use, so a loaded value has the encoding it would have had if
/// written by commands (Redis converts on load the same way).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub hash: hash::Limits,
    pub set_max_intset: usize,
    pub zset: zset::Limits,
    pub list: list::Limits,
    /// Database indexes must be below this (`databases`).
    pub databases: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            hash: hash::Limits::default(),
            set_max_intset: 512,
            zset: zset::Limits::default(),
            list: list::Limits::default(),
            databases: 16,
        }
    }
}

impl Limits {
    pub fn from_config(cfg: &crate::config::Config) -> Limits {
        Limits {
            hash: hash::Limits {
                max_entries: cfg.hash_max_listpack_entries,
                max_value: cfg.hash_max_listpack_value,
            },
            set_max_intset: cfg.set_max_intset_entries,
            zset: zset::Limits {
                max_entries: cfg.zset_max_listpack_entries,
                max_value: cfg.zset_max_listpack_value,
            },
            list: list::Limits::from_fill(cfg.list_max_listpack_size),
            databases: u32::try_from(cfg.databases).unwrap_or(u32::MAX),
        }
    }
}

/// A fault inside a packed blob, at an offset within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobError {
    pub offset: usize,
    pub what: &'static str,
}

impl BlobError {
    pub const fn new(offset: usize, what: &'static str) -> BlobError {
        BlobError { offset, what }
    }
}

impl fmt::Display for BlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (byte {} of the blob)", self.what, self.offset)
    }
}

/// Why a file could not be read. Every variant but `Checksum` carries the
/// byte offset (from the start of the file) where the problem was found.
#[derive(Debug, thiserror::Error)]
pub enum RdbError {
    #[error("I/O error at byte {offset} of the RDB file: {source}")]
    Io {
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("RDB file truncated at byte {offset} (while reading {what})")]
    Truncated { offset: u64, what: &'static str },
    #[error("RDB file corrupt at byte {offset}: {what}")]
    Corrupt { offset: u64, what: String },
    #[error("RDB file not supported at byte {offset}: {what}")]
    Unsupported { offset: u64, what: String },
    #[error(
        "RDB checksum mismatch: the file says {stored:016x}, its contents give {computed:016x}"
    )]
    Checksum { stored: u64, computed: u64 },
}

impl RdbError {
    pub fn offset(&self) -> Option<u64> {
        match self {
            RdbError::Io { offset, .. }
            | RdbError::Truncated { offset, .. }
            | RdbError::Corrupt { offset, .. }
            | RdbError::Unsupported { offset, .. } => Some(*offset),
            RdbError::Checksum { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests;
