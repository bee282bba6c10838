//! The one error type of the crate.

/// A malformed request or reply.
///
/// For the request-side variants, `Display` is the exact text Redis 7.0 sends after `-ERR ` before closing the
/// connection (see `processInlineBuffer` / `processMultibulkBuffer` in Redis's `networking.c`).
/// [`ProtocolError::write_reply`] writes the whole error line byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// `*<count>` is not an integer or exceeds [`crate::Limits::max_multibulk_len`].
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// `$<len>` is not an integer, is negative or exceeds [`crate::Limits::max_bulk_len`].
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// An argument of a multibulk request did not start with `$`; holds the byte found instead.
    #[error("Protocol error: expected '$', got '{}'", shown_byte(*.0))]
    ExpectedBulk(u8),
    /// An inline request has an unterminated quote, or a closing quote not followed by a space.
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// No newline within [`crate::Limits::max_inline_len`] bytes of an inline request.
    #[error("Protocol error: too big inline request")]
    TooBigInlineRequest,
    /// No `\r` within [`crate::Limits::max_inline_len`] bytes of a `*<count>` line.
    #[error("Protocol error: too big mbulk count string")]
    TooBigMultibulkCount,
    /// No `\r` within [`crate::Limits::max_inline_len`] bytes of a `$<len>` line.
    #[error("Protocol error: too big bulk count string")]
    TooBigBulkCount,
    /// More than 10 arguments while authentication is required.
    #[error("Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    /// An argument longer than 16384 bytes while authentication is required.
    #[error("Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulkLength,
    /// A reply frame (see [`crate::parse_frame`]) starts with an unknown type byte.
    #[error("Protocol error: invalid frame type byte 0x{0:02x}")]
    InvalidFrameType(u8),
    /// A reply frame is malformed; the text says how.
    #[error("Protocol error: {0}")]
    InvalidFrame(&'static str),
    /// A reply frame nests aggregates deeper than [`crate::frame::MAX_DEPTH`].
    #[error("Protocol error: nesting too deep")]
    NestingTooDeep,
}

/// Redis formats this byte with `%c` and then maps `\r` and `\n` to spaces so the error line stays one line.
fn shown_byte(b: u8) -> char {
    match b {
        b'\r' | b'\n' => ' ',
        _ => char::from(b),
    }
}

impl ProtocolError {
    /// Appends the complete error reply, `-ERR <message>\r\n`, exactly as Redis sends it.
    ///
    /// Unlike formatting `Display`, this writes the offending byte of [`ProtocolError::ExpectedBulk`] raw, as
    /// Redis's `%c` does, rather than as the UTF-8 encoding of a Latin-1 character.
    pub fn write_reply(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"-ERR ");
        match self {
            ProtocolError::ExpectedBulk(b) => {
                out.extend_from_slice(b"Protocol error: expected '$', got '");
                out.push(match b {
                    b'\r' | b'\n' => b' ',
                    other => *other,
                });
                out.push(b'\'');
            }
            other => out.extend_from_slice(other.to_string().as_bytes()),
        }
        out.extend_from_slice(b"\r\n");
    }
}
