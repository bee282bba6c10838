//! Compact owned byte strings.
//!
//! Every key in the keyspace is owned by the hash table node that holds it,
//! and most keys are short: `user:1000`, `session:8f3a...`, a counter name.
//! Giving each of them its own heap allocation, as `Vec<u8>` or `Box<[u8]>`
//! would, costs a second malloc per key, the allocator's per-chunk header and
//! rounding on top of it, and a pointer chase (a likely cache miss) on every
//! comparison during a lookup. Redis avoids the same costs with embedded sds
//! strings; `CompactBytes` is the Rust equivalent for the common case.
//!
//! The value is 24 bytes, the size of a `Vec<u8>`. Strings of up to 23 bytes
//! live entirely inside it; longer ones live in a `Box<[u8]>`, which is 16
//! bytes (pointer and length, no capacity because keys never grow in place).
//!
//! The trick that buys the 23rd inline byte is letting the compiler do the
//! tagging. The inline variant stores its length as a fieldless enum with the
//! 24 values 0..=23, so the byte that holds it has 232 unused bit patterns.
//! rustc puts that byte at the end of the inline variant and uses one of the
//! spare patterns to mean "this is the heap variant", whose 16 bytes sit in
//! front of it without overlapping. The result is a 24-byte enum with no
//! separate tag and no `unsafe`: every access is an ordinary `match`. The
//! layout is the compiler's choice rather than a guarantee, so a test pins the
//! size; should a future rustc lay it out differently the test fails rather
//! than memory quietly growing.
//!
//! Which variant a string uses depends only on its length (inline exactly
//! when it fits). That keeps `heap_size` an honest account of what the
//! keyspace costs, and means equal strings always have the same shape.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Longest string stored without a heap allocation.
pub const INLINE_CAP: usize = 23;

/// Length of an inline string. Being an enum rather than a `u8` is what gives
/// the compiler spare bit patterns to encode the variant in (see the module
/// docs), so it must keep exactly `INLINE_CAP + 1` values.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum InlineLen {
    L0 = 0,
    L1,
    L2,
    L3,
    L4,
    L5,
    L6,
    L7,
    L8,
    L9,
    L10,
    L11,
    L12,
    L13,
    L14,
    L15,
    L16,
    L17,
    L18,
    L19,
    L20,
    L21,
    L22,
    L23,
}

/// Table lookup instead of a transmute keeps the conversion safe; the index
/// is always bounds-checked by the caller's length test anyway.
const INLINE_LENS: [InlineLen; INLINE_CAP + 1] = {
    use InlineLen::*;
    [
        L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14, L15, L16, L17, L18, L19,
        L20, L21, L22, L23,
    ]
};

#[derive(Clone)]
enum Repr {
    Inline {
        buf: [u8; INLINE_CAP],
        len: InlineLen,
    },
    Heap(Box<[u8]>),
}

/// An immutable owned byte string, inline up to [`INLINE_CAP`] bytes.
#[derive(Clone)]
pub struct CompactBytes(Repr);

impl CompactBytes {
    /// The empty string.
    pub const fn new() -> Self {
        CompactBytes(Repr::Inline {
            buf: [0; INLINE_CAP],
            len: InlineLen::L0,
        })
    }

    pub fn from_slice(bytes: &[u8]) -> Self {
        if bytes.len() <= INLINE_CAP {
            let mut buf = [0; INLINE_CAP];
            buf[..bytes.len()].copy_from_slice(bytes);
            CompactBytes(Repr::Inline {
                buf,
                len: INLINE_LENS[bytes.len()],
            })
        } else {
            CompactBytes(Repr::Heap(bytes.into()))
        }
    }

    /// Takes over the vector's allocation when the string is too long to be
    /// inline, so converting a freshly read argument costs no copy.
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        if bytes.len() <= INLINE_CAP {
            Self::from_slice(&bytes)
        } else {
            CompactBytes(Repr::Heap(bytes.into_boxed_slice()))
        }
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { buf, len } => &buf[..*len as usize],
            Repr::Heap(bytes) => bytes,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Inline { len, .. } => *len as usize,
            Repr::Heap(bytes) => bytes.len(),
        }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when the bytes live inside the value itself.
    #[inline]
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline { .. })
    }

    /// Bytes this string has allocated on the heap: 0 when inline. A boxed
    /// slice allocates exactly its length, so this is the requested size
    /// (allocator rounding and headers not included).
    #[inline]
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Heap(bytes) => bytes.len(),
        }
    }

    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Inline { .. } => self.as_slice().to_vec(),
            Repr::Heap(bytes) => bytes.into_vec(),
        }
    }
}

impl Default for CompactBytes {
    fn default() -> Self {
        Self::new()
    }
}

impl Deref for CompactBytes {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for CompactBytes {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

// Sound because Eq, Ord and Hash below are all defined on the slice.
impl Borrow<[u8]> for CompactBytes {
    #[inline]
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<&[u8]> for CompactBytes {
    fn from(bytes: &[u8]) -> Self {
        Self::from_slice(bytes)
    }
}

impl From<Vec<u8>> for CompactBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self::from_vec(bytes)
    }
}

impl From<&str> for CompactBytes {
    fn from(s: &str) -> Self {
        Self::from_slice(s.as_bytes())
    }
}

impl fmt::Debug for CompactBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.as_slice().escape_ascii())
    }
}

impl PartialEq for CompactBytes {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for CompactBytes {}

impl PartialEq<[u8]> for CompactBytes {
    #[inline]
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<&[u8]> for CompactBytes {
    #[inline]
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_slice() == *other
    }
}

impl PartialOrd for CompactBytes {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CompactBytes {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl Hash for CompactBytes {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;
    use std::collections::HashSet;
    use std::mem::size_of;

    fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
        let mut hasher = DefaultHasher::new();
        value.hash(&mut hasher);
        hasher.finish()
    }

    fn sample_bytes(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + 3) as u8).collect()
    }

    #[test]
    fn is_24_bytes_with_a_free_niche() {
        assert_eq!(size_of::<CompactBytes>(), 24);
        assert_eq!(size_of::<Option<CompactBytes>>(), 24);
        assert_eq!(INLINE_LENS.len(), INLINE_CAP + 1);
        for (i, len) in INLINE_LENS.iter().enumerate() {
            assert_eq!(*len as usize, i);
        }
    }

    #[test]
    fn round_trips_every_length_around_the_boundary() {
        for len in 0..=64 {
            let bytes = sample_bytes(len);
            let c = CompactBytes::from_slice(&bytes);
            assert_eq!(c.as_slice(), &bytes[..]);
            assert_eq!(&*c, &bytes[..]);
            assert_eq!(c.len(), len);
            assert_eq!(c.is_empty(), len == 0);
            assert_eq!(c.is_inline(), len <= INLINE_CAP);
            assert_eq!(c.heap_size(), if len <= INLINE_CAP { 0 } else { len });
            assert_eq!(c.clone(), c);
            assert_eq!(c.clone().into_vec(), bytes);
            let v = CompactBytes::from_vec(bytes.clone());
            assert_eq!(v, c);
            assert_eq!(v.is_inline(), c.is_inline());
        }
    }

    #[test]
    fn hashes_like_the_slice() {
        for len in [0, 1, 16, 22, 23, 24, 100] {
            let bytes = sample_bytes(len);
            let c = CompactBytes::from_slice(&bytes);
            assert_eq!(hash_of(&c), hash_of(&bytes[..]));
        }
        // Borrow<[u8]> lets std collections be queried by slice.
        let set: HashSet<CompactBytes> = ["a", "bb", "a much longer key that is on the heap"]
            .into_iter()
            .map(CompactBytes::from)
            .collect();
        assert!(set.contains(&b"bb"[..]));
        assert!(set.contains(&b"a much longer key that is on the heap"[..]));
        assert!(!set.contains(&b"c"[..]));
    }

    #[test]
    fn equality_and_order_follow_the_bytes() {
        let short = CompactBytes::from("abc");
        let long = CompactBytes::from(&b"abcdefghijklmnopqrstuvwxyz"[..]);
        assert_ne!(short, long);
        assert!(short < long);
        assert_eq!(short, &b"abc"[..]);
        assert_eq!(short, b"abc"[..]);
        assert_eq!(CompactBytes::default(), CompactBytes::new());
        assert!(CompactBytes::new().is_empty());
        // A string whose prefix matches the unused inline padding still
        // compares by its real length.
        assert_ne!(
            CompactBytes::from_slice(&[0, 0]),
            CompactBytes::from_slice(&[0])
        );
    }

    #[test]
    fn debug_escapes_like_a_byte_literal() {
        let c = CompactBytes::from_slice(b"k\n\xff\"");
        assert_eq!(format!("{c:?}"), r#"b"k\n\xff\"""#);
    }
}
