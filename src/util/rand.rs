//! The randomness behind RANDOMKEY, SPOP, SRANDMEMBER and HRANDFIELD.
//!
//! SplitMix64 over a per-thread state seeded from the standard library's
//! random hasher keys: each shard thread draws without sharing or locking,
//! uniformly enough for picking members, with no dependency. Not for
//! anything security-relevant.

use std::cell::Cell;

pub fn random_u64() -> u64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            use std::hash::BuildHasher;
            std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64)
        });
    }
    STATE.with(|state| {
        let x = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        state.set(x);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_cover_small_ranges_evenly() {
        let mut counts = [0u32; 8];
        for _ in 0..80_000 {
            counts[(random_u64() % 8) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }
}
