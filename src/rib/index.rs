//! The prefix index: prefix → [`DestId`] in 4 bytes a slot.
//!
//! Open addressing with linear probing over `u32` slots. A slot holds the dest id in its
//! low [`ID_BITS`] bits and 4 bits of the key's hash above them, so a probe compares the
//! key (which lives in the dest, not here) only when those bits match: about one probe
//! in 16 of those that miss. Removal shifts the following entries back (no tombstones).
//! The table doubles at 3/4 full; the caller hands every entry's hash in again, in slab
//! order, so growing reads the slab sequentially.
//!
//! For 500 000 prefixes that is 2^20 slots, 4 MiB (a `HashMap<(u32, u8), u32>` takes
//! 13 MiB at the same size, and both tables at once while it rehashes).

use super::table::DestId;

/// Bits of a slot that hold the dest id.
const ID_BITS: u32 = 28;
const ID_MASK: u32 = (1 << ID_BITS) - 1;
/// An unused slot (tag 15, id `ID_MASK`: never a stored entry, see [`MAX_ID`]).
const EMPTY: u32 = u32::MAX;
/// The highest dest id the index can hold: 2^28 - 2 (268 million prefixes).
pub const MAX_ID: DestId = ID_MASK - 1;
/// Slots of the first table.
const MIN_SLOTS: usize = 64;

/// The index. Keys stay in the dests: every call passes the key's hash and a closure that
/// tells whether a dest id holds the key.
#[derive(Debug, Default)]
pub struct Index {
    slots: Vec<u32>,
    len: usize,
}

// ===== impl Index =====

impl Index {
    pub fn len(&self) -> usize {
        self.len
    }

    /// The id whose key has hash `h` and satisfies `is`.
    #[inline]
    pub fn find(&self, h: u64, mut is: impl FnMut(DestId) -> bool) -> Option<DestId> {
        let mask = self.slots.len().checked_sub(1)?;
        let tag = tag(h);
        let mut i = home(h, mask);
        loop {
            let s = *self.slots.get(i)?;
            if s == EMPTY {
                return None;
            }
            if s & !ID_MASK == tag && is(s & ID_MASK) {
                return Some(s & ID_MASK);
            }
            i = (i + 1) & mask;
        }
    }

    /// Does the next [`Index::insert`] need [`Index::grow`] first?
    #[inline]
    pub fn full(&self) -> bool {
        (self.len + 1) * 4 > self.slots.len() * 3
    }

    /// The capacity to pass to [`Index::grow`].
    pub fn next_size(&self) -> usize {
        (self.slots.len() * 2).max(MIN_SLOTS)
    }

    /// Start over with `slots` slots (a power of two); the caller then inserts every
    /// entry again.
    pub fn grow(&mut self, slots: usize) {
        self.slots = Vec::new(); // the old table goes before the new one is touched
        self.slots = vec![EMPTY; slots.next_power_of_two().max(MIN_SLOTS)];
        self.len = 0;
    }

    /// Add `id` (not present, at most [`MAX_ID`]) under hash `h`. Call [`Index::grow`]
    /// first when [`Index::full`]; a full table or an id above [`MAX_ID`] is refused.
    pub fn insert(&mut self, h: u64, id: DestId) -> bool {
        if id > MAX_ID || self.len + 1 >= self.slots.len() {
            return false;
        }
        let mask = self.slots.len() - 1;
        let mut i = home(h, mask);
        while let Some(s) = self.slots.get_mut(i) {
            if *s == EMPTY {
                *s = tag(h) | id;
                self.len += 1;
                return true;
            }
            i = (i + 1) & mask;
        }
        false
    }

    /// Remove `id`, stored under hash `h`; `hash` gives the hash of any other stored id
    /// (to move the entries after it back).
    pub fn remove(&mut self, h: u64, id: DestId, hash: impl Fn(DestId) -> u64) -> bool {
        let Some(mask) = self.slots.len().checked_sub(1) else {
            return false;
        };
        let want = tag(h) | id;
        let mut i = home(h, mask);
        loop {
            match self.slots.get(i) {
                Some(&s) if s == want => break,
                Some(&s) if s != EMPTY => i = (i + 1) & mask,
                _ => return false,
            }
        }
        self.shift_back(i, mask, hash);
        self.len -= 1;
        true
    }

    /// Empty slot `hole` and move back every later entry of the run that may sit there:
    /// one whose home is not cyclically within (hole, j].
    fn shift_back(&mut self, mut hole: usize, mask: usize, hash: impl Fn(DestId) -> u64) {
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let s = match self.slots.get(j) {
                Some(&s) if s != EMPTY => s,
                _ => break,
            };
            let k = home(hash(s & ID_MASK), mask);
            let stays = if hole <= j {
                hole < k && k <= j
            } else {
                hole < k || k <= j
            };
            if !stays {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = EMPTY;
    }
}

// ===== helper functions =====

/// The first slot to probe: the top bits of the hash.
#[inline]
fn home(h: u64, mask: usize) -> usize {
    (h >> 32) as usize & mask
}

/// The 4 tag bits of a slot, in place.
#[inline]
fn tag(h: u64) -> u32 {
    (h as u32) & !ID_MASK
}

/// A 64-bit hash with every input bit spread over the output (the splitmix64 finalizer).
#[inline]
pub fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A model: keys are u64s, key i lives at dest id `ids[&key]`.
    struct Model {
        idx: Index,
        keys: Vec<Option<u64>>,
        ids: HashMap<u64, DestId>,
    }

    impl Model {
        fn hash_of(keys: &[Option<u64>], id: DestId) -> u64 {
            // A weak hash on purpose (many equal homes) so probing and shifting are exercised.
            let k = keys[id as usize].unwrap();
            mix(k % 97)
        }

        fn insert(&mut self, k: u64) {
            let id = self.keys.len() as DestId;
            self.keys.push(Some(k));
            if self.idx.full() {
                self.idx.grow(self.idx.next_size());
                for (i, key) in self.keys.iter().enumerate() {
                    if key.is_some() && i as DestId != id {
                        let h = Self::hash_of(&self.keys, i as DestId);
                        assert!(self.idx.insert(h, i as DestId));
                    }
                }
            }
            assert!(self.idx.insert(Self::hash_of(&self.keys, id), id));
            self.ids.insert(k, id);
        }

        fn remove(&mut self, k: u64) {
            let id = self.ids.remove(&k).unwrap();
            let h = Self::hash_of(&self.keys, id);
            let keys = &self.keys;
            assert!(self.idx.remove(h, id, |o| Self::hash_of(keys, o)));
            self.keys[id as usize] = None;
        }

        fn check(&self) {
            assert_eq!(self.idx.len(), self.ids.len());
            for (&k, &id) in &self.ids {
                let keys = &self.keys;
                let got = self.idx.find(mix(k % 97), |o| keys[o as usize] == Some(k));
                assert_eq!(got, Some(id), "key {k}");
            }
            for (i, key) in self.keys.iter().enumerate() {
                if key.is_none() {
                    let k = 1_000_000 + i as u64;
                    let keys = &self.keys;
                    assert_eq!(
                        self.idx.find(mix(k % 97), |o| keys[o as usize] == Some(k)),
                        None
                    );
                }
            }
        }
    }

    #[test]
    fn finds_what_was_inserted_and_not_what_was_removed() {
        let mut m = Model {
            idx: Index::default(),
            keys: Vec::new(),
            ids: HashMap::new(),
        };
        assert_eq!(m.idx.find(1, |_| true), None);
        for k in 0..3000u64 {
            m.insert(k);
        }
        m.check();
        // Remove every third key, then some more, checking all the rest each time.
        for k in (0..3000u64).step_by(3) {
            m.remove(k);
        }
        m.check();
        for k in (1..3000u64).step_by(7).filter(|k| k % 3 != 0) {
            m.remove(k);
            if k % 50 == 1 {
                m.check();
            }
        }
        m.check();
        assert!(m.idx.len() < 2000 && m.idx.len() > 1000);
    }

    #[test]
    fn wraps_around_the_end_of_the_table() {
        // Every key has the home of the last slot: the run wraps to slot 0.
        let mut idx = Index::default();
        idx.grow(64);
        let h = (63u64 << 32) | 5;
        for id in 0..10 {
            assert!(idx.insert(h, id));
        }
        assert!(idx.remove(h, 0, |_| h));
        for id in 1..10 {
            assert_eq!(idx.find(h, |o| o == id), Some(id));
        }
        assert_eq!(idx.find(h, |o| o == 0), None);
        assert!(!idx.remove(h, 0, |_| h));
    }

    #[test]
    fn refuses_ids_it_cannot_hold_and_a_full_table() {
        let mut idx = Index::default();
        assert!(!idx.insert(1, 0), "no table yet");
        idx.grow(64);
        assert!(!idx.insert(1, MAX_ID + 1));
        assert!(idx.insert(1, MAX_ID));
        assert_eq!(idx.find(1, |_| true), Some(MAX_ID));
        for id in 0..62 {
            assert!(idx.insert(id as u64, id));
        }
        assert!(!idx.insert(7, 100), "one slot always stays empty");
        assert!(idx.full());
    }
}
