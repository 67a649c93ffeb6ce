//! A fast hasher for the worker's tables, keyed by prefixes and next hops (the std
//! SipHash showed up at 5% of a 100k-route install). Not for keys an attacker picks:
//! the keys here are routes the RIB accepted and kernel state.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fast;

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FastHasher(u64);

pub(crate) type FastMap<K, V> = HashMap<K, V, Fast>;
pub(crate) type FastSet<K> = HashSet<K, Fast>;

const K: u64 = 0x9e37_79b9_7f4a_7c15;

// ===== impl Fast =====

impl BuildHasher for Fast {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

impl FastHasher {
    #[inline]
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
        for b in chunks.remainder() {
            self.add(u64::from(*b));
        }
    }
    fn write_u8(&mut self, v: u8) {
        self.add(u64::from(v));
    }
    fn write_u16(&mut self, v: u16) {
        self.add(u64::from(v));
    }
    fn write_u32(&mut self, v: u32) {
        self.add(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }
    fn write_u128(&mut self, v: u128) {
        self.add(v as u64);
        self.add((v >> 64) as u64);
    }
    fn write_usize(&mut self, v: usize) {
        self.add(v as u64);
    }
    /// Mix the high bits into the low ones: the table indexes by the low bits, and
    /// addresses of /24s differ only above bit 8.
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 32;
        h = h.wrapping_mul(K);
        h ^ (h >> 29)
    }
}
