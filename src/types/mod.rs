//! Value data structures. Each file opens with why it is built the way it is.

pub mod bloom;
pub mod compact;
pub mod dict;
pub mod hash;
pub mod list;
pub mod set;
pub mod zset;
