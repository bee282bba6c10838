//! Value data structures. Each file opens with why it is built the way it is.

pub mod compact;
pub mod dict;
pub mod hash;
pub mod set;
