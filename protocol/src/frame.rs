//! RESP2/RESP3 values as a server sends them, with a parser and an encoder.

use bytes::Bytes;

use crate::encode;
use crate::error::ProtocolError;
use crate::scan::find_byte;

/// Deepest nesting of aggregates [`parse_frame`] accepts, so hostile input cannot exhaust the stack.
pub const MAX_DEPTH: usize = 512;

/// A full RESP2/RESP3 value.
///
/// An [`Frame::Attribute`] is parsed as a frame of its own: at top level it comes before the reply it annotates
/// (parse again to get that reply); inside an aggregate it counts as one of the elements. Redis only sends
/// attributes for `DEBUG PROTOCOL attrib`.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `+text`
    Simple(Bytes),
    /// `-CODE message`
    Error(Bytes),
    /// `:n`
    Integer(i64),
    /// `$len` and the data
    Bulk(Bytes),
    /// `$-1`
    NullBulk,
    /// `*-1`
    NullArray,
    /// `*n` and n frames
    Array(Vec<Frame>),
    /// RESP3 `_`
    Null,
    /// RESP3 `,` double
    Double(f64),
    /// RESP3 `#t` / `#f`
    Boolean(bool),
    /// RESP3 `(` digits
    BigNumber(Bytes),
    /// RESP3 `=len` and `fmt:text`; `format` should be 3 bytes long to round-trip.
    Verbatim {
        /// The three-letter format, e.g. `txt`.
        format: Bytes,
        /// The text after `fmt:`.
        text: Bytes,
    },
    /// RESP3 `!len` and the error text
    BulkError(Bytes),
    /// RESP3 `%n` and n key/value pairs
    Map(Vec<(Frame, Frame)>),
    /// RESP3 `~n` and n frames
    Set(Vec<Frame>),
    /// RESP3 `>n` and n frames
    Push(Vec<Frame>),
    /// RESP3 `|n` and n key/value pairs
    Attribute(Vec<(Frame, Frame)>),
}

/// Unwraps `Ok(Some(v))`, returning `Ok(None)` (incomplete) or the error otherwise.
macro_rules! need {
    ($e:expr) => {
        match $e {
            Ok(Some(v)) => v,
            Ok(None) => return Ok(None),
            Err(e) => return Err(e),
        }
    };
}

/// Parses one frame from the front of `buf`.
///
/// `Ok(Some((frame, consumed)))` when a whole frame is there, `Ok(None)` when more input is needed, `Err` when the
/// input can't be RESP. Stateless: an incomplete frame is parsed again from the start on the next call. RESP3
/// streamed strings and aggregates (`$?`, `*?`) are rejected; Redis never sends them.
pub fn parse_frame(buf: &[u8]) -> Result<Option<(Frame, usize)>, ProtocolError> {
    let mut cursor = Cursor { buf, pos: 0 };
    // Aggregates being filled, innermost last. An explicit stack rather than recursion keeps the native stack
    // flat whatever the nesting, even in debug builds on small thread stacks.
    let mut open: Vec<Open> = Vec::new();
    loop {
        let mut value = match need!(cursor.item()) {
            Item::Done(frame) => frame,
            Item::Open(aggregate) => {
                if open.len() >= MAX_DEPTH {
                    return Err(ProtocolError::NestingTooDeep);
                }
                if aggregate.is_full() {
                    aggregate.into_frame()
                } else {
                    open.push(aggregate);
                    continue;
                }
            }
        };
        // Hand the finished value to its parent, closing every aggregate it completes.
        loop {
            let Some(parent) = open.last_mut() else {
                return Ok(Some((value, cursor.pos)));
            };
            parent.items.push(value);
            if !parent.is_full() {
                break;
            }
            match open.pop() {
                Some(done) => value = done.into_frame(),
                None => break,
            }
        }
    }
}

/// Every frame takes at least three bytes (e.g. `+\r\n`), which bounds how many elements the rest of the input
/// can hold, and so how much we pre-allocate for a claimed count.
const MIN_FRAME_LEN: usize = 3;

/// Most elements reserved up front for an aggregate; more grow the vector as they arrive.
const MAX_PREALLOC: usize = 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Array,
    Set,
    Push,
    Map,
    Attribute,
}

/// An aggregate whose elements are still being read.
struct Open {
    kind: Kind,
    /// Elements expected; for maps and attributes, twice the pairs.
    want: usize,
    items: Vec<Frame>,
}

impl Open {
    fn is_full(&self) -> bool {
        self.items.len() >= self.want
    }

    fn into_frame(self) -> Frame {
        match self.kind {
            Kind::Array => Frame::Array(self.items),
            Kind::Set => Frame::Set(self.items),
            Kind::Push => Frame::Push(self.items),
            Kind::Map | Kind::Attribute => {
                let mut pairs = Vec::with_capacity(self.items.len() / 2);
                let mut items = self.items.into_iter();
                while let (Some(k), Some(v)) = (items.next(), items.next()) {
                    pairs.push((k, v));
                }
                if self.kind == Kind::Map {
                    Frame::Map(pairs)
                } else {
                    Frame::Attribute(pairs)
                }
            }
        }
    }
}

enum Item {
    Done(Frame),
    Open(Open),
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The line at the cursor, without its CRLF.
    fn line(&mut self) -> Result<Option<&'a [u8]>, ProtocolError> {
        let start = self.pos;
        let Some(off) = find_byte(b'\r', &self.buf[start..]) else {
            return Ok(None);
        };
        let cr = start + off;
        match self.buf.get(cr + 1) {
            None => Ok(None),
            Some(b'\n') => {
                self.pos = cr + 2;
                Ok(Some(&self.buf[start..cr]))
            }
            Some(_) => Err(ProtocolError::InvalidFrame("line not terminated by CRLF")),
        }
    }

    fn integer(&mut self) -> Result<Option<i64>, ProtocolError> {
        let line = need!(self.line());
        parse_i64(line)
            .map(Some)
            .ok_or(ProtocolError::InvalidFrame("invalid integer"))
    }

    /// A length line: `Some(None)` for `-1` when `nullable`.
    fn length(&mut self, nullable: bool) -> Result<Option<Option<usize>>, ProtocolError> {
        let line = need!(self.line());
        if line == b"?" {
            return Err(ProtocolError::InvalidFrame(
                "streamed types are not supported",
            ));
        }
        match parse_i64(line) {
            Some(-1) if nullable => Ok(Some(None)),
            Some(n) if n >= 0 => Ok(Some(Some(usize::try_from(n).unwrap_or(usize::MAX)))),
            _ => Err(ProtocolError::InvalidFrame("invalid length")),
        }
    }

    /// `len` bytes of data and the CRLF after them.
    fn blob(&mut self, len: usize) -> Result<Option<&'a [u8]>, ProtocolError> {
        if self.rest() < len.saturating_add(2) {
            return Ok(None);
        }
        let start = self.pos;
        let end = start + len;
        if &self.buf[end..end + 2] != b"\r\n" {
            return Err(ProtocolError::InvalidFrame(
                "bulk data not terminated by CRLF",
            ));
        }
        self.pos = end + 2;
        Ok(Some(&self.buf[start..end]))
    }

    /// The header of an aggregate of `count` elements (pairs when `pairs`); `None` when the rest of the input
    /// is too short to hold them, which is certainly incomplete and spares a huge pre-allocation.
    fn open(&self, kind: Kind, count: usize, pairs: bool) -> Option<Open> {
        let want = if pairs { count.checked_mul(2)? } else { count };
        if want > self.rest() / MIN_FRAME_LEN {
            return None;
        }
        Some(Open {
            kind,
            want,
            items: Vec::with_capacity(want.min(MAX_PREALLOC)),
        })
    }

    /// A complete scalar frame, or the header of an aggregate.
    fn item(&mut self) -> Result<Option<Item>, ProtocolError> {
        let Some(&ty) = self.buf.get(self.pos) else {
            return Ok(None);
        };
        self.pos += 1;
        let frame = match ty {
            b'+' => Frame::Simple(Bytes::copy_from_slice(need!(self.line()))),
            b'-' => Frame::Error(Bytes::copy_from_slice(need!(self.line()))),
            b':' => Frame::Integer(need!(self.integer())),
            b'$' => match need!(self.length(true)) {
                None => Frame::NullBulk,
                Some(len) => Frame::Bulk(Bytes::copy_from_slice(need!(self.blob(len)))),
            },
            b'!' => {
                let len = need!(self.length(false)).unwrap_or(0);
                Frame::BulkError(Bytes::copy_from_slice(need!(self.blob(len))))
            }
            b'=' => {
                let len = need!(self.length(false)).unwrap_or(0);
                match need!(self.blob(len)) {
                    [a, b, c, b':', text @ ..] => Frame::Verbatim {
                        format: Bytes::copy_from_slice(&[*a, *b, *c]),
                        text: Bytes::copy_from_slice(text),
                    },
                    _ => return Err(ProtocolError::InvalidFrame("invalid verbatim string")),
                }
            }
            b'*' | b'~' | b'>' | b'%' | b'|' => {
                let (kind, nullable, pairs) = match ty {
                    b'*' => (Kind::Array, true, false),
                    b'~' => (Kind::Set, false, false),
                    b'>' => (Kind::Push, false, false),
                    b'%' => (Kind::Map, false, true),
                    _ => (Kind::Attribute, false, true),
                };
                return match need!(self.length(nullable)) {
                    None => Ok(Some(Item::Done(Frame::NullArray))),
                    Some(count) => Ok(self.open(kind, count, pairs).map(Item::Open)),
                };
            }
            b'_' => match need!(self.line()) {
                b"" => Frame::Null,
                _ => return Err(ProtocolError::InvalidFrame("invalid null")),
            },
            b'#' => match need!(self.line()) {
                b"t" => Frame::Boolean(true),
                b"f" => Frame::Boolean(false),
                _ => return Err(ProtocolError::InvalidFrame("invalid boolean")),
            },
            b',' => {
                let line = need!(self.line());
                let v = std::str::from_utf8(line)
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok())
                    .ok_or(ProtocolError::InvalidFrame("invalid double"))?;
                Frame::Double(v)
            }
            b'(' => {
                let line = need!(self.line());
                let digits = match line {
                    [b'-' | b'+', rest @ ..] => rest,
                    _ => line,
                };
                if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                    return Err(ProtocolError::InvalidFrame("invalid big number"));
                }
                Frame::BigNumber(Bytes::copy_from_slice(line))
            }
            other => return Err(ProtocolError::InvalidFrameType(other)),
        };
        Ok(Some(Item::Done(frame)))
    }
}

/// Integers in replies: an optional sign and decimal digits.
fn parse_i64(s: &[u8]) -> Option<i64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

impl Frame {
    /// Appends the exact wire bytes of this frame; [`parse_frame`] reads them back as an equal frame (a
    /// `Double(NaN)` reads back as NaN, which is never `==`).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Frame::Simple(s) => line(out, b'+', s),
            Frame::Error(s) => line(out, b'-', s),
            Frame::Integer(v) => encode::integer(out, *v),
            Frame::Bulk(data) => encode::bulk(out, data),
            Frame::NullBulk => out.extend_from_slice(b"$-1\r\n"),
            Frame::NullArray => out.extend_from_slice(b"*-1\r\n"),
            Frame::Array(items) => {
                encode::array_len(out, items.len());
                items.iter().for_each(|f| f.encode(out));
            }
            Frame::Null => out.extend_from_slice(b"_\r\n"),
            Frame::Double(v) => encode::double(out, *v, true),
            Frame::Boolean(v) => encode::boolean(out, *v, true),
            Frame::BigNumber(digits) => line(out, b'(', digits),
            Frame::Verbatim { format, text } => {
                header(out, b'=', format.len() + 1 + text.len());
                out.extend_from_slice(format);
                out.push(b':');
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
            Frame::BulkError(data) => {
                header(out, b'!', data.len());
                out.extend_from_slice(data);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Map(pairs) => {
                header(out, b'%', pairs.len());
                encode_pairs(out, pairs);
            }
            Frame::Set(items) => {
                header(out, b'~', items.len());
                items.iter().for_each(|f| f.encode(out));
            }
            Frame::Push(items) => {
                header(out, b'>', items.len());
                items.iter().for_each(|f| f.encode(out));
            }
            Frame::Attribute(pairs) => {
                header(out, b'|', pairs.len());
                encode_pairs(out, pairs);
            }
        }
    }
}

fn encode_pairs(out: &mut Vec<u8>, pairs: &[(Frame, Frame)]) {
    for (k, v) in pairs {
        k.encode(out);
        v.encode(out);
    }
}

fn line(out: &mut Vec<u8>, ty: u8, s: &[u8]) {
    out.push(ty);
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

fn header(out: &mut Vec<u8>, ty: u8, n: usize) {
    out.push(ty);
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}
