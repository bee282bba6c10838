//! The wire protocol of Shoal: an incremental, zero-copy parser for client requests (RESP multibulk and inline
//! commands, with Redis 7.0's exact semantics and error texts), a parser for full RESP2/RESP3 replies, and the
//! reply encoders.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod encode;
mod error;
pub mod frame;
mod request;
mod scan;

pub use error::ProtocolError;
pub use frame::{parse_frame, Frame};
pub use request::{Limits, RequestParser};
