//! Memory accounting: what the allocator really hands out, per thread.
//!
//! `used_memory` must be honest (DESIGN §2): the bytes the allocator holds
//! for us, size-class rounding included, as Redis's zmalloc counts with
//! `malloc_usable_size`. Every allocation goes through [`CountingAlloc`],
//! which adds the usable size to a counter owned by the allocating thread.
//! Shard threads each own a counter on its own cache line, so counting
//! costs an uncontended atomic add and no cache-line traffic between
//! cores; other threads share the last counter. Memory freed by another
//! thread than the one that allocated it moves between counters, which is
//! why only the sum is meaningful.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, Ordering};

const SLOTS: usize = 65;
const SHARED_SLOT: usize = SLOTS - 1;

#[repr(align(64))]
struct Counter(AtomicI64);

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: Counter = Counter(AtomicI64::new(0));
static COUNTERS: [Counter; SLOTS] = [ZERO; SLOTS];

thread_local! {
    static SLOT: Cell<usize> = const { Cell::new(SHARED_SLOT) };
}

/// Gives the calling thread (a shard) its own counter.
pub fn register_shard_thread(shard: usize) {
    let _ = SLOT.try_with(|s| s.set(shard.min(SHARED_SLOT)));
}

#[inline]
fn add(bytes: i64) {
    let slot = SLOT.try_with(|s| s.get()).unwrap_or(SHARED_SLOT);
    COUNTERS[slot].0.fetch_add(bytes, Ordering::Relaxed);
}

/// Bytes currently allocated by the whole process through this allocator.
pub fn allocated() -> usize {
    let total: i64 = COUNTERS.iter().map(|c| c.0.load(Ordering::Relaxed)).sum();
    total.max(0) as usize
}

#[inline]
fn usable(ptr: *mut u8) -> usize {
    // SAFETY: `ptr` was just returned by the system allocator (glibc malloc
    // family), for which malloc_usable_size is defined.
    unsafe { libc::malloc_usable_size(ptr.cast()) }
}

pub struct CountingAlloc;

// SAFETY: every method forwards to the system allocator unchanged and only
// observes the result; counting never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            add(usable(p) as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            add(usable(p) as i64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(usable(ptr) as i64));
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = usable(ptr) as i64;
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            add(usable(p) as i64 - old);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_allocations_and_frees() {
        let before = allocated();
        let v: Vec<u8> = Vec::with_capacity(1 << 20);
        let during = allocated();
        assert!(during >= before + (1 << 20) - 4096, "{before} -> {during}");
        drop(v);
        // Other test threads allocate concurrently; allow slack.
        assert!(allocated() < during);
    }
}
