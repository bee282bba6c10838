//! Small, dependency-light helpers whose behaviour must match Redis 7.0
//! byte for byte (pattern matching, number parsing/formatting, cluster slots).

pub mod crc64;
pub mod glob;
pub mod num;
pub mod rand;
pub mod slot;
pub mod sys;
