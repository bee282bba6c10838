//! Incremental parser for client requests: RESP multibulk and inline commands, with Redis 7.0's semantics.

use bytes::{Buf, Bytes, BytesMut};

use crate::error::ProtocolError;
use crate::scan::{find_byte, hex_value, is_c_space, string2ll};

/// Size limits applied while parsing requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted argument (`proto-max-bulk-len`).
    pub max_bulk_len: usize,
    /// Most arguments accepted in one multibulk request.
    pub max_multibulk_len: usize,
    /// Longest inline request, and longest `*<count>` / `$<len>` line, still without its terminator
    /// (`PROTO_INLINE_MAX_SIZE`).
    pub max_inline_len: usize,
}

impl Default for Limits {
    /// Redis 7.0's values. The multibulk cap is `INT_MAX` since Redis 7.0 (it was 1024*1024 before; the argv
    /// array now grows as arguments arrive, and so does ours).
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_multibulk_len: i32::MAX as usize,
            max_inline_len: 64 * 1024,
        }
    }
}

/// Redis's caps for a client that still has to authenticate, so that it cannot make the server buffer much.
const UNAUTH_MAX_ARGS: i64 = 10;
const UNAUTH_MAX_BULK: usize = 16 * 1024;

/// Arguments whose position we can remember without allocating mid-request. Requests with more arguments are
/// walked a second time once complete (cheap: only their headers are read again).
const SCRATCH_INITIAL: usize = 16;
/// Upper bound on the scratch capacity a parser keeps between requests, so one huge request does not pin memory
/// for the life of the connection.
const SCRATCH_RETAIN: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Between requests.
    Idle,
    /// Inside an inline request, waiting for its newline.
    Inline,
    /// Waiting for the `*<count>\r\n` line.
    Header,
    /// Reading the arguments of a multibulk request.
    Args,
}

enum Step {
    Done,
    Skipped,
    Incomplete,
}

/// Parses client requests out of a connection's input buffer.
///
/// Nothing of a request is consumed from the buffer until the request is complete, and the parser remembers
/// how far it got by offset, so each call resumes where the previous one stopped: the caller must only append
/// to the buffer between calls (reallocating it is fine). After an `Err` the connection is expected to be closed;
/// the parser is reset, and the buffer's unconsumed bytes may have been rewritten.
#[derive(Debug)]
pub struct RequestParser {
    limits: Limits,
    auth_required: bool,
    mode: Mode,
    /// Offset up to which the current line was searched for its terminator in vain.
    scanned: usize,
    /// Offset of the next `$<len>` line, or of the pending argument's data when `bulk_len` is set.
    pos: usize,
    /// Arguments of the current multibulk still to read.
    remaining: usize,
    /// Length of the argument whose header was read but whose data is not all here yet.
    bulk_len: Option<usize>,
    /// Declared argument count of the current multibulk.
    nargs: usize,
    /// Offsets of the arguments read so far; never grown mid-request.
    ranges: Vec<(usize, usize)>,
    /// Some arguments did not fit in `ranges`.
    overflowed: bool,
}

impl Default for RequestParser {
    fn default() -> Self {
        RequestParser::new(Limits::default())
    }
}

impl RequestParser {
    /// A parser enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        RequestParser {
            limits,
            auth_required: false,
            mode: Mode::Idle,
            scanned: 0,
            pos: 0,
            remaining: 0,
            bulk_len: None,
            nargs: 0,
            ranges: Vec::with_capacity(SCRATCH_INITIAL),
            overflowed: false,
        }
    }

    /// Replaces the limits; they apply to lines read from now on.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// While `true`, requests are held to Redis's caps for unauthenticated clients (at most 10 arguments of at
    /// most 16384 bytes each), failing with the `unauthenticated` errors. Off by default.
    pub fn set_auth_required(&mut self, required: bool) {
        self.auth_required = required;
    }

    /// Forgets any partially parsed request, e.g. after the caller discarded its buffer.
    pub fn reset(&mut self) {
        self.mode = Mode::Idle;
        self.scanned = 0;
        self.pos = 0;
        self.remaining = 0;
        self.bulk_len = None;
        self.nargs = 0;
        self.ranges.clear();
        self.overflowed = false;
    }

    /// While waiting for the data of a large argument: the buffer length at which that argument will be
    /// complete. Lets the caller reserve the whole argument at once instead of growing the buffer step by step.
    pub fn pending_bulk_end(&self) -> Option<usize> {
        match (self.mode, self.bulk_len) {
            (Mode::Args, Some(len)) => Some(self.pos.saturating_add(len).saturating_add(2)),
            _ => None,
        }
    }

    /// Parses one client request from the front of `buf`.
    ///
    /// * `Ok(true)`: a command was parsed; `args` was cleared and filled with its arguments, each a zero-copy
    ///   slice of the bytes split off the front of `buf`.
    /// * `Ok(false)`: no complete request yet; leading no-op input (empty inline lines, `*0`, `*-1`) may have
    ///   been consumed, nothing else. `args` is untouched. Nothing is allocated.
    /// * `Err(e)`: protocol error; reply `-ERR <e>` and close the connection.
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        args: &mut Vec<Bytes>,
    ) -> Result<bool, ProtocolError> {
        if self.pos > buf.len() || self.scanned > buf.len() {
            // The caller broke the append-only contract; starting over is the only safe reading.
            self.reset();
        }
        loop {
            let step = match self.mode {
                Mode::Idle => match buf.first() {
                    None => return Ok(false),
                    Some(b'*') => {
                        self.mode = Mode::Header;
                        self.parse_multibulk(buf, args)
                    }
                    Some(_) => {
                        self.mode = Mode::Inline;
                        self.parse_inline(buf, args)
                    }
                },
                Mode::Inline => self.parse_inline(buf, args),
                Mode::Header | Mode::Args => self.parse_multibulk(buf, args),
            };
            match step {
                Ok(Step::Done) => return Ok(true),
                Ok(Step::Skipped) => continue,
                Ok(Step::Incomplete) => return Ok(false),
                Err(e) => {
                    self.reset();
                    return Err(e);
                }
            }
        }
    }

    fn parse_multibulk(
        &mut self,
        buf: &mut BytesMut,
        args: &mut Vec<Bytes>,
    ) -> Result<Step, ProtocolError> {
        if self.mode == Mode::Header {
            let Some((value, next)) =
                self.read_int_line(buf, 0, b'*', ProtocolError::TooBigMultibulkCount)?
            else {
                return Ok(Step::Incomplete);
            };
            let max = i64::try_from(self.limits.max_multibulk_len).unwrap_or(i64::MAX);
            let count = match value {
                Some(v) if v <= max => v,
                _ => return Err(ProtocolError::InvalidMultibulkLength),
            };
            if self.auth_required && count > UNAUTH_MAX_ARGS {
                return Err(ProtocolError::UnauthenticatedMultibulkLength);
            }
            if count <= 0 {
                // Redis treats `*0` and any negative count as an empty request and reads on.
                buf.advance(next);
                self.reset();
                return Ok(Step::Skipped);
            }
            // count is positive and at most max_multibulk_len, so it fits in usize.
            let count = usize::try_from(count).unwrap_or(usize::MAX);
            self.mode = Mode::Args;
            self.pos = next;
            self.remaining = count;
            self.nargs = count;
            self.bulk_len = None;
            self.ranges.clear();
            self.overflowed = false;
        }

        let data: &[u8] = buf;
        let mut pos = self.pos;
        let mut remaining = self.remaining;
        let mut bulk_len = self.bulk_len;
        while remaining > 0 {
            let len = match bulk_len {
                Some(len) => len,
                None => {
                    let Some((value, next)) =
                        self.read_int_line(data, pos, b'$', ProtocolError::TooBigBulkCount)?
                    else {
                        self.pos = pos;
                        self.remaining = remaining;
                        self.bulk_len = None;
                        return Ok(Step::Incomplete);
                    };
                    // Checked only once the whole line is here, as Redis does, so that the error is the same
                    // however the input was split.
                    let first = data[pos];
                    if first != b'$' {
                        return Err(ProtocolError::ExpectedBulk(first));
                    }
                    let len = match value {
                        Some(v) if v >= 0 && (v as u64) <= self.limits.max_bulk_len as u64 => {
                            v as usize
                        }
                        _ => return Err(ProtocolError::InvalidBulkLength),
                    };
                    if self.auth_required && len > UNAUTH_MAX_BULK {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    pos = next;
                    len
                }
            };
            if data.len() - pos < len.saturating_add(2) {
                self.pos = pos;
                self.remaining = remaining;
                self.bulk_len = Some(len);
                return Ok(Step::Incomplete);
            }
            if self.ranges.len() < self.ranges.capacity() {
                self.ranges.push((pos, pos + len));
            } else {
                self.overflowed = true;
            }
            // Like Redis, the two bytes after the data are skipped unchecked: they are meant to be "\r\n".
            pos += len + 2;
            remaining -= 1;
            bulk_len = None;
        }

        let frozen = buf.split_to(pos).freeze();
        args.clear();
        if self.overflowed {
            args.reserve(self.nargs);
            if rewalk(&frozen, self.nargs, args).is_none() {
                // Only reachable if the caller changed bytes it had already handed us.
                return Err(ProtocolError::InvalidBulkLength);
            }
            let keep = self.nargs.min(SCRATCH_RETAIN);
            self.ranges.clear();
            if self.ranges.capacity() < keep {
                self.ranges.reserve_exact(keep);
            }
        } else {
            push_slices(frozen, &self.ranges, args);
        }
        self.reset();
        Ok(Step::Done)
    }

    /// Reads a `<ty><integer>\r\n` line starting at `start`.
    ///
    /// Returns `None` while the line is incomplete, else the integer as Redis's `string2ll` reads it (`None` when
    /// invalid) and the offset past the line. The line ends at the first `\r`, like Redis's `strchr`; the byte
    /// after it is taken to be `\n` unchecked, as Redis does. Does not check that the line starts with `ty`.
    #[inline(always)]
    fn read_int_line(
        &mut self,
        data: &[u8],
        start: usize,
        ty: u8,
        too_big: ProtocolError,
    ) -> Result<Option<(Option<i64>, usize)>, ProtocolError> {
        // Fast path for the canonical form clients send: up to 18 digits can't overflow.
        if data.get(start) == Some(&ty) {
            let mut i = start + 1;
            let mut v: u64 = 0;
            match data.get(i) {
                Some(b'0') => i += 1,
                Some(&d @ b'1'..=b'9') => {
                    v = u64::from(d - b'0');
                    i += 1;
                    let end = data.len().min(start + 19);
                    while i < end {
                        let c = data[i];
                        if !c.is_ascii_digit() {
                            break;
                        }
                        v = v * 10 + u64::from(c - b'0');
                        i += 1;
                    }
                }
                _ => i = usize::MAX,
            }
            if i != usize::MAX && i + 1 < data.len() && data[i] == b'\r' {
                // Bytes before the '\r' are digits, so this is the first '\r' of the line.
                return Ok(Some((Some(v as i64), i + 2)));
            }
        }
        self.read_int_line_slow(data, start, too_big)
    }

    #[cold]
    fn read_int_line_slow(
        &mut self,
        data: &[u8],
        start: usize,
        too_big: ProtocolError,
    ) -> Result<Option<(Option<i64>, usize)>, ProtocolError> {
        let from = self.scanned.max(start);
        match find_byte(b'\r', &data[from..]) {
            None => {
                if data.len() - start > self.limits.max_inline_len {
                    return Err(too_big);
                }
                self.scanned = data.len();
                Ok(None)
            }
            Some(off) => {
                let cr = from + off;
                if cr + 1 >= data.len() {
                    self.scanned = cr;
                    return Ok(None);
                }
                let digits = data.get(start + 1..cr).unwrap_or(&[]);
                Ok(Some((string2ll(digits), cr + 2)))
            }
        }
    }

    fn parse_inline(
        &mut self,
        buf: &mut BytesMut,
        args: &mut Vec<Bytes>,
    ) -> Result<Step, ProtocolError> {
        let from = self.scanned;
        let newline = match find_byte(b'\n', &buf[from..]) {
            Some(off) => from + off,
            None => {
                if buf.len() > self.limits.max_inline_len {
                    return Err(ProtocolError::TooBigInlineRequest);
                }
                self.scanned = buf.len();
                return Ok(Step::Incomplete);
            }
        };
        let mut end = newline;
        if end > 0 && buf[end - 1] == b'\r' {
            end -= 1;
        }
        // Redis splits the line as a C string, so a NUL ends it.
        let end = find_byte(0, &buf[..end]).unwrap_or(end);
        self.ranges.clear();
        split_args(&mut buf[..end], &mut self.ranges)?;
        if self.ranges.is_empty() {
            buf.advance(newline + 1);
        } else {
            let frozen = buf.split_to(newline + 1).freeze();
            args.clear();
            push_slices(frozen, &self.ranges, args);
        }
        let produced = !self.ranges.is_empty();
        self.reset();
        if self.ranges.capacity() > SCRATCH_RETAIN {
            self.ranges.shrink_to(SCRATCH_RETAIN);
        }
        Ok(if produced { Step::Done } else { Step::Skipped })
    }
}

/// Pushes the `ranges` of `frozen` onto `args`. The last argument takes `frozen` itself, narrowed, which spares
/// a reference count increment and decrement per request on the hottest path.
#[inline]
fn push_slices(mut frozen: Bytes, ranges: &[(usize, usize)], args: &mut Vec<Bytes>) {
    let Some((&(last_start, last_end), init)) = ranges.split_last() else {
        return;
    };
    args.reserve(ranges.len());
    args.extend(init.iter().map(|&(s, e)| frozen.slice(s..e)));
    frozen.truncate(last_end);
    frozen.advance(last_start);
    args.push(frozen);
}

/// Finds the arguments of a complete multibulk request again, for requests with more arguments than the scratch
/// space had room for. The line boundaries are found exactly as in the first pass.
fn rewalk(frame: &Bytes, nargs: usize, args: &mut Vec<Bytes>) -> Option<()> {
    let data: &[u8] = frame;
    let mut pos = find_byte(b'\r', data)? + 2;
    for _ in 0..nargs {
        let cr = pos + find_byte(b'\r', data.get(pos..)?)?;
        let len = usize::try_from(string2ll(data.get(pos + 1..cr)?)?).ok()?;
        let start = cr + 2;
        let end = start.checked_add(len)?;
        if end > data.len() {
            return None;
        }
        args.push(frame.slice(start..end));
        pos = end + 2;
    }
    Some(())
}

/// Splits an inline request into arguments the way Redis's `sdssplitargs` does, unescaping in place so that
/// every argument stays a slice of the input: an unescaped argument is never longer than its source text.
///
/// `line` must not contain NUL (the caller cuts it at the first one, which is where the C code stops). Pushes
/// `(start, end)` of each argument, relative to `line`.
fn split_args(line: &mut [u8], out: &mut Vec<(usize, usize)>) -> Result<(), ProtocolError> {
    let n = line.len();
    // The C code reads one byte past the end and sees the terminating NUL; so do we.
    let at = |line: &[u8], i: usize| line.get(i).copied().unwrap_or(0);
    let mut r = 0;
    loop {
        while r < n && is_c_space(line[r]) {
            r += 1;
        }
        if r == n {
            return Ok(());
        }
        let start = r;
        // Unquoted bytes stay where they are. Note '\v' and '\f' end nothing here: only these do.
        while r < n && !matches!(line[r], b' ' | b'\n' | b'\r' | b'\t' | b'"' | b'\'') {
            r += 1;
        }
        let quote = at(line, r);
        if quote != b'"' && quote != b'\'' {
            out.push((start, r));
            // Skip the delimiter, if any.
            r = (r + 1).min(n);
            continue;
        }
        // A quoted part ends the argument; from here on the output trails the input.
        let mut w = r;
        r += 1;
        if quote == b'"' {
            loop {
                let c = at(line, r);
                if c == b'\\' && at(line, r + 1) == b'x' {
                    if let (Some(hi), Some(lo)) =
                        (hex_value(at(line, r + 2)), hex_value(at(line, r + 3)))
                    {
                        line[w] = hi * 16 + lo;
                        w += 1;
                        r += 4;
                        continue;
                    }
                }
                if c == b'\\' && at(line, r + 1) != 0 {
                    line[w] = match line[r + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    };
                    w += 1;
                    r += 2;
                } else if c == b'"' {
                    let next = at(line, r + 1);
                    if next != 0 && !is_c_space(next) {
                        return Err(ProtocolError::UnbalancedQuotes);
                    }
                    r += 1;
                    break;
                } else if c == 0 {
                    return Err(ProtocolError::UnbalancedQuotes);
                } else {
                    line[w] = c;
                    w += 1;
                    r += 1;
                }
            }
        } else {
            loop {
                let c = at(line, r);
                if c == b'\\' && at(line, r + 1) == b'\'' {
                    line[w] = b'\'';
                    w += 1;
                    r += 2;
                } else if c == b'\'' {
                    let next = at(line, r + 1);
                    if next != 0 && !is_c_space(next) {
                        return Err(ProtocolError::UnbalancedQuotes);
                    }
                    r += 1;
                    break;
                } else if c == 0 {
                    return Err(ProtocolError::UnbalancedQuotes);
                } else {
                    line[w] = c;
                    w += 1;
                    r += 1;
                }
            }
        }
        out.push((start, w));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &[u8]) -> Result<Vec<Vec<u8>>, ProtocolError> {
        let mut line = s.to_vec();
        let mut ranges = Vec::new();
        split_args(&mut line, &mut ranges)?;
        Ok(ranges.iter().map(|&(a, b)| line[a..b].to_vec()).collect())
    }

    #[test]
    fn split_args_matches_sdssplitargs() {
        let ok: &[(&[u8], &[&[u8]])] = &[
            (b"", &[]),
            (b"   \t ", &[]),
            (b"set a b", &[b"set", b"a", b"b"]),
            (b"  set   a\tb  ", &[b"set", b"a", b"b"]),
            (b"a\x0bb", &[b"a\x0bb"]),
            (b"\x0b\x0ca", &[b"a"]),
            (br#"set "a b" c"#, &[b"set", b"a b", b"c"]),
            (br#""""#, &[b""]),
            (b"''", &[b""]),
            (br#"foo"bar baz""#, &[b"foobar baz"]),
            (br#"foo'bar baz'"#, &[b"foobar baz"]),
            (br#""\n\r\t\b\a\\\"\z""#, &[b"\n\r\t\x08\x07\\\"z"]),
            (br#""\x41\x4a\x4B\x7f\xff""#, &[b"AJK\x7f\xff"]),
            (br#""\x4" "\xg1" "\x""#, &[b"x4", b"xg1", b"x"]),
            (br#"'a\'b' 'c\d'"#, &[b"a'b", b"c\\d"]),
            (br#""a"	b"#, &[b"a", b"b"]),
            (b"\"a\"\x0bb", &[b"a", b"b"]),
            (br#"a\x41"#, &[b"a\\x41"]),
        ];
        for (input, want) in ok {
            let got = split(input)
                .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(input)));
            let want: Vec<Vec<u8>> = want.iter().map(|w| w.to_vec()).collect();
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(input));
        }
        for bad in [
            &br#"""#[..],
            br#""abc"#,
            br#""abc"d"#,
            br#"'abc"#,
            br#"'abc'd"#,
            br#""\"#,
            br#""abc\""#,
            br#"'abc\'"#,
            br#"a "b"c"#,
        ] {
            assert_eq!(
                split(bad),
                Err(ProtocolError::UnbalancedQuotes),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
