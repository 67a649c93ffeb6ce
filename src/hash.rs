//! A small, fast, non-cryptographic hasher for the RIB's and the FIB's tables (std's
//! SipHash was about 5 % of a 100k-route kernel install).
//!
//! The keys (prefixes, next hops, interned attribute sets, peer ids) are not chosen by an attacker in
//! a way that matters here: a peer can only make its own table slower. A multiply-rotate
//! round per word and a final avalanche step (so that the low bits, which pick the bucket,
//! depend on every input bit: /24 prefixes have eight zero low bits).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Multiply-rotate hasher with a 64-bit finaliser.
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher {
    h: u64,
}

/// The `BuildHasher` of [`FastHasher`].
pub type Fast = BuildHasherDefault<FastHasher>;

/// `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, Fast>;

/// `HashSet` with [`FastHasher`].
pub type FastSet<K> = HashSet<K, Fast>;

const K: u64 = 0x9e37_79b9_7f4a_7c15;

// ===== impl FastHasher =====

impl FastHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.h = (self.h.rotate_left(23) ^ w).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut it = bytes.chunks_exact(8);
        for c in &mut it {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = it.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64);
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The murmur3 64-bit finaliser.
        let mut h = self.h;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash<T: Hash + ?Sized>(v: &T) -> u64 {
        BuildHasherDefault::<FastHasher>::default().hash_one(v)
    }

    #[test]
    fn slash_24_prefixes_spread_over_low_bits() {
        let mut seen = std::collections::HashSet::new();
        for i in 0u32..4096 {
            seen.insert(hash(&((0x0a00_0000 + (i << 8)), 24u8)) & 0xfff);
        }
        // A uniform hash fills about 63 % of 4096 buckets with 4096 keys.
        assert!(seen.len() > 2300, "{}", seen.len());
    }

    #[test]
    fn byte_slices_of_different_length_differ() {
        assert_ne!(hash(&[0u8; 3][..]), hash(&[0u8; 4][..]));
        assert_eq!(hash(&[1u8, 2, 3][..]), hash(&[1u8, 2, 3][..]));
    }
}
