//! Memory accounting: what the allocator really hands out, per thread.
//!
//! `used_memory` must be honest (DESIGN §2): the bytes the allocator holds
//! for us, size-class rounding and chunk headers included (Redis's zmalloc
//! counts `malloc_usable_size`, which under jemalloc has no header to add).
//! Every allocation goes through [`CountingAlloc`], which adds its cost to
//! a counter owned by the allocating thread. Shard threads each own a
//! counter on its own cache line, so counting costs an uncontended atomic
//! add and no cache-line traffic between cores; other threads share the
//! last counter. Memory freed by another thread than the one that
//! allocated it moves between counters, which is why only the sum is
//! meaningful. A thread's own counter still has one use: its change across
//! a piece of work is what that work allocated less what it freed, which
//! is how eviction measures what deleting keys gave back.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

const SLOTS: usize = 65;
const SHARED_SLOT: usize = SLOTS - 1;

#[repr(align(64))]
struct Counter(AtomicI64);

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: Counter = Counter(AtomicI64::new(0));
static COUNTERS: [Counter; SLOTS] = [ZERO; SLOTS];
/// One past the highest shard slot ever registered: `allocated` need not
/// read the counters no thread uses.
static SLOTS_IN_USE: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    static SLOT: Cell<usize> = const { Cell::new(SHARED_SLOT) };
    /// `maxmemory` as this thread last saw it (0 = none), for [`may_grow`].
    static LIMIT: Cell<u64> = const { Cell::new(0) };
}

/// Gives the calling thread (a shard) its own counter.
pub fn register_shard_thread(shard: usize) {
    let slot = shard.min(SHARED_SLOT);
    SLOTS_IN_USE.fetch_max(slot + 1, Ordering::Relaxed);
    let _ = SLOT.try_with(|s| s.set(slot));
}

#[inline]
fn add(bytes: i64) {
    let slot = SLOT.try_with(|s| s.get()).unwrap_or(SHARED_SLOT);
    COUNTERS[slot].0.fetch_add(bytes, Ordering::Relaxed);
}

/// Bytes currently allocated by the whole process through this allocator.
pub fn allocated() -> usize {
    let in_use = SLOTS_IN_USE.load(Ordering::Relaxed).min(SHARED_SLOT);
    let shards: i64 = COUNTERS[..in_use]
        .iter()
        .map(|c| c.0.load(Ordering::Relaxed))
        .sum();
    let total = shards + COUNTERS[SHARED_SLOT].0.load(Ordering::Relaxed);
    total.max(0) as usize
}

/// The calling thread's own counter: meaningless alone (see the top of
/// this file), but its change across a piece of work is what that work
/// allocated minus what it freed, and reading it touches no other core's
/// cache line.
pub fn thread_allocated() -> i64 {
    let slot = SLOT.try_with(|s| s.get()).unwrap_or(SHARED_SLOT);
    COUNTERS[slot].0.load(Ordering::Relaxed)
}

/// Records the memory limit in force (`maxmemory`, 0 for none) for
/// [`may_grow`] on this thread.
pub fn set_thread_limit(bytes: u64) {
    let _ = LIMIT.try_with(|l| l.set(bytes));
}

/// Whether an optional allocation of `extra` bytes should be made now,
/// under the memory limit this thread last recorded: for a hash table's
/// bigger bucket array, which may wait (chains just get longer). No when it
/// would cross the limit (Redis's dictExpandAllowed), which would make the
/// cache evict megabytes at once; and no past half the limit, where the
/// keyspace cannot double any more and the bigger array would stay half
/// empty: 8 bytes a key is 3% of a key of 230 bytes, 3% fewer keys cached
/// (benches/hitratio.sh: +0.002 hit ratio for both LRU and LFU).
pub fn may_grow(extra: usize) -> bool {
    let limit = LIMIT.try_with(|l| l.get()).unwrap_or(0);
    if limit == 0 {
        return true;
    }
    let used = allocated() as u64;
    used <= limit / 2 && used.saturating_add(extra as u64) <= limit
}

/// The size field glibc keeps in front of every chunk it hands out.
/// Counting usable sizes alone left it out: for keys of 40 to 215-byte
/// values (two chunks each) used_memory then understated the real cost by
/// 7%, and RSS ran 19% over `maxmemory` where with it counted it runs 10%
/// over (benches/hitratio.sh). jemalloc, Redis's allocator, has no
/// per-allocation header, so Redis's used_memory needs no such term.
const CHUNK_HEADER: usize = 8;

/// What an allocation costs the heap: its usable size, size-class rounding
/// included, and its chunk header.
#[inline]
fn usable(ptr: *mut u8) -> usize {
    // SAFETY: `ptr` was just returned by the system allocator (glibc malloc
    // family), for which malloc_usable_size is defined.
    let usable = unsafe { libc::malloc_usable_size(ptr.cast()) };
    usable + CHUNK_HEADER
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
        // Its own slot, as below: the process-wide sum moves with every
        // other test thread's allocations, so a megabyte freed elsewhere
        // at the wrong moment would hide this one.
        register_shard_thread(62);
        let before = thread_allocated();
        let v: Vec<u8> = std::hint::black_box(Vec::with_capacity(1 << 20));
        let during = thread_allocated();
        assert!(during - before >= (1 << 20), "{before} -> {during}");
        drop(v);
        assert!(during - thread_allocated() >= (1 << 20));
        assert!(allocated() > 0);
    }

    #[test]
    fn a_threads_own_counter_sees_its_frees() {
        // A slot of its own (no unit test starts 64 shards), so that other
        // test threads' allocations do not blur the difference.
        register_shard_thread(63);
        let v: Vec<u8> = Vec::with_capacity(1 << 20);
        let before = thread_allocated();
        drop(v);
        assert!(before - thread_allocated() >= (1 << 20));
    }
}
