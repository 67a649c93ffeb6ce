//! The prefix table: one [`Dest`] per prefix, holding its candidate paths (the Adj-RIB-In
//! entries of every peer, RFC 4271 §3.2), its Adj-RIB-Out entries per update group and its
//! FIB state. Dests live in a slab of fixed-size chunks; the [`Index`] maps prefixes to
//! slab indexes (keeping no key of its own), so the dirty list and the flush work on
//! indexes without hashing prefixes again.

use smallvec::SmallVec;

use super::index::{self, Index};
use super::intern::AttrId;
use super::{PeerId, Prefix};
use crate::wire::{Prefix4, Prefix6};

/// Index of a [`Dest`] in the slab.
pub type DestId = u32;

/// One path: a peer's route for the prefix (with its ADD-PATH id), or an originated one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Path {
    pub peer: PeerId,
    /// The path identifier the peer sent (RFC 7911), 0 without ADD-PATH.
    pub path_id: u32,
    pub attr: AttrId,
    /// Our identifier for this path when we send it with ADD-PATH: stable for its life.
    pub local_id: u32,
    /// [`flag`] bits.
    pub flags: u8,
    pub reject: Reject,
}

/// Path flags.
pub mod flag {
    pub const STALE: u8 = 1;
    pub const BEST: u8 = 2;
    pub const MULTIPATH: u8 = 4;
    /// Originated with a kernel blackhole.
    pub const BLACKHOLE: u8 = 8;
}

/// Why a received path is not a candidate for the decision process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    None,
    /// The import filter refused it.
    Filter,
    /// RFC 4271 §9.1.2: our AS is in the AS path.
    AsLoop,
    /// RFC 4456 §8: ORIGINATOR_ID is our router ID.
    Originator,
    /// RFC 4456 §8: our cluster ID is in CLUSTER_LIST.
    Cluster,
    /// No usable next hop (RFC 4271 §5.1.3, RFC 7606 §7.3).
    NextHop,
    /// The import policy rejected it (the policy gives the rule and reason).
    Policy,
}

/// A short sorted list of peers.
pub type Peers = SmallVec<[PeerId; 2]>;

/// Marks a continuation entry in [`Dest::out`]: one more excepted peer of the entry
/// just before it.
pub const CONT: AttrId = AttrId::MAX;

/// One stored Adj-RIB-Out entry of an update group, 16 bytes. An entry excepting more
/// than one member is followed by continuation entries (`out == CONT`), one per extra
/// member. Use [`Entry`] through [`Dest::entries`] rather than this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutEntry {
    group: u16,
    /// Fills the padding byte with a value the compiler knows is never 0, so a [`Small`]
    /// of entries stays 16 bytes.
    live: Live,
    id: u32,
    out: AttrId,
    /// An excepted member; 0 ([`LOCAL`](super::LOCAL), never a member) for none.
    ex: PeerId,
}

/// A one-value byte: gives [`OutEntry`] a niche.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Live {
    Yes = 1,
}

/// One Adj-RIB-Out entry of an update group: what its members hold for this prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path identifier on the wire: the path's `local_id` with ADD-PATH, else 0.
    pub id: u32,
    /// The interned exported attribute set.
    pub out: AttrId,
    /// The members that do not hold it (the path's own source, the client that
    /// originated a reflected path). Sorted.
    pub except: Peers,
}

/// A prefix in 18 bytes, alignment 1 (the [`Prefix`] enum takes 48 because of `u128`
/// alignment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PKey {
    addr: [u8; 16],
    len: u8,
    v6: bool,
}

/// A short list: a slice to read, with `push`, `remove` and `retain`. One item is held
/// inline, more in a box. It takes the item's size rounded up to 8 when the item has a
/// niche (a [`Path`] its [`Reject`], an [`OutEntry`] its `live` byte): 24 and 16 bytes
/// where a `SmallVec<[T; 1]>` takes 32 and 24 (its capacity word). Of 500 000
/// single-path prefixes that is 8 MB.
#[derive(Debug, Clone, Default)]
pub enum Small<T> {
    #[default]
    None,
    One(T),
    /// Boxed so that the enum stays one pointer beside the inline item.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<T>>),
}

/// The paths of a dest.
pub type Paths = Small<Path>;

/// Everything about one prefix: 64 bytes.
#[derive(Debug, Clone)]
pub struct Dest {
    key: PKey,
    pub paths: Paths,
    pub out: Small<OutEntry>,
    /// FIB state: [`fib::NONE`], [`fib::BLACKHOLE`] or an interned next-hop set.
    pub fib: u32,
    pub dirty: bool,
}

/// FIB state values of [`Dest::fib`].
pub mod fib {
    pub const NONE: u32 = 0;
    pub const BLACKHOLE: u32 = 1;
}

/// Dests per slab chunk: the slab grows by chunks, never by moving what it holds.
const CHUNK: usize = 4096;

/// What [`Table::get_or_create`] returns when the table holds [`index::MAX_ID`] + 1
/// dests: no dest has it, so the route is ignored.
pub const NO_DEST: DestId = DestId::MAX;

/// The slab of dests and the prefix index.
#[derive(Debug, Default)]
pub struct Table {
    index: Index,
    chunks: Vec<Vec<Option<Dest>>>,
    /// Slots handed out so far (live or free).
    slots: usize,
    free: Vec<DestId>,
    /// Dests changed since the last flush, each once.
    pub dirty: Vec<DestId>,
}

// ===== impl PKey =====

impl PKey {
    fn of(p: Prefix) -> PKey {
        let (a, len, v6) = match p {
            Prefix::V4(p) => (p.addr_u32() as u128, p.len(), false),
            Prefix::V6(p) => (p.addr_u128(), p.len(), true),
        };
        PKey {
            addr: a.to_be_bytes(),
            len,
            v6,
        }
    }

    #[inline]
    fn v6(&self) -> bool {
        self.v6
    }

    fn get(&self) -> Prefix {
        let a = u128::from_be_bytes(self.addr);
        if self.v6 {
            Prefix::V6(Prefix6::from_raw(a, self.len))
        } else {
            Prefix::V4(Prefix4::from_raw(a as u32, self.len))
        }
    }

    #[inline]
    fn hash(&self) -> u64 {
        let a = u128::from_be_bytes(self.addr);
        let meta = (self.len as u64) << 1 | self.v6 as u64;
        index::mix(a as u64 ^ index::mix((a >> 64) as u64 ^ meta))
    }
}

// ===== impl Reject =====

impl Reject {
    pub fn why(self) -> &'static str {
        match self {
            Reject::None => "eligible",
            Reject::Filter => "rejected by the import filter",
            Reject::AsLoop => "our AS is in the AS_PATH (RFC 4271 §9.1.2)",
            Reject::Originator => "ORIGINATOR_ID is our router ID (RFC 4456 §8)",
            Reject::Cluster => "our cluster ID is in the CLUSTER_LIST (RFC 4456 §8)",
            Reject::NextHop => "the next hop is unusable (RFC 4271 §5.1.3)",
            Reject::Policy => "rejected by the import policy",
        }
    }
}

// ===== impl Path =====

impl Path {
    #[inline]
    pub fn eligible(&self) -> bool {
        self.reject == Reject::None
    }

    #[inline]
    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }
}

// ===== impl Small =====

impl<T> std::ops::Deref for Small<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        match self {
            Small::None => &[],
            Small::One(p) => std::slice::from_ref(p),
            Small::Many(v) => v,
        }
    }
}

impl<T> std::ops::DerefMut for Small<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Small::None => &mut [],
            Small::One(p) => std::slice::from_mut(p),
            Small::Many(v) => v,
        }
    }
}

impl<T> Small<T> {
    pub fn push(&mut self, p: T) {
        match std::mem::take(self) {
            Small::None => *self = Small::One(p),
            Small::One(a) => *self = Small::Many(Box::new(vec![a, p])),
            Small::Many(mut v) => {
                v.push(p);
                *self = Small::Many(v);
            }
        }
    }

    /// Remove and return item `i`; panics when out of bounds, like `Vec::remove`.
    pub fn remove(&mut self, i: usize) -> T {
        let mut v = self.take_vec();
        let p = v.remove(i);
        *self = Small::from_vec(v);
        p
    }

    pub fn retain(&mut self, f: impl FnMut(&mut T) -> bool) {
        if let Small::One(p) = self {
            let mut f = f;
            if !f(p) {
                *self = Small::None;
            }
            return;
        }
        let mut v = self.take_vec();
        v.retain_mut(f);
        *self = Small::from_vec(v);
    }

    fn take_vec(&mut self) -> Vec<T> {
        match std::mem::take(self) {
            Small::None => Vec::new(),
            Small::One(p) => vec![p],
            Small::Many(v) => *v,
        }
    }

    fn from_vec(mut v: Vec<T>) -> Small<T> {
        match v.len() {
            0 => Small::None,
            1 => v.pop().map_or(Small::None, Small::One),
            _ => Small::Many(Box::new(v)),
        }
    }
}

// ===== impl Dest =====

impl Dest {
    #[inline]
    pub fn prefix(&self) -> Prefix {
        self.key.get()
    }

    /// The path that won the last decision.
    pub fn best(&self) -> Option<&Path> {
        self.paths.iter().find(|p| p.has(flag::BEST))
    }

    pub fn find(&self, peer: PeerId, path_id: u32) -> Option<usize> {
        self.paths
            .iter()
            .position(|p| p.peer == peer && p.path_id == path_id)
    }

    /// The logical entries of group `gi`.
    pub fn entries(&self, gi: u16) -> SmallVec<[Entry; 1]> {
        let mut v: SmallVec<[Entry; 1]> = SmallVec::new();
        for e in self.out.iter().filter(|e| e.group == gi) {
            match v.last_mut() {
                Some(last) if e.out == CONT => last.except.push(e.ex),
                _ => v.push(Entry {
                    id: e.id,
                    out: e.out,
                    except: (e.ex != 0).then_some(e.ex).into_iter().collect(),
                }),
            }
        }
        v
    }

    pub fn has_entries(&self, gi: u16) -> bool {
        self.out.iter().any(|e| e.group == gi)
    }

    /// Remove and return the entries of group `gi`.
    pub fn take_entries(&mut self, gi: u16) -> SmallVec<[Entry; 1]> {
        let v = self.entries(gi);
        if !v.is_empty() {
            self.out.retain(|e| e.group != gi);
        }
        v
    }

    /// Store entries of group `gi` (after [`Dest::take_entries`]).
    pub fn put_entries(&mut self, gi: u16, entries: &[Entry]) {
        for e in entries {
            let ex = e.except.first().copied().unwrap_or(0);
            let (id, out) = (e.id, e.out);
            self.out.push(OutEntry {
                group: gi,
                live: Live::Yes,
                id,
                out,
                ex,
            });
            for &ex in e.except.iter().skip(1) {
                self.out.push(OutEntry {
                    group: gi,
                    live: Live::Yes,
                    id,
                    out: CONT,
                    ex,
                });
            }
        }
    }

    /// The group's entry when it is a plain one (one entry, at most one excepted member):
    /// `Ok(None)` no entry, `Ok(Some((index, out, excepted or 0)))`, `Err(())` anything else.
    #[allow(clippy::result_unit_err)]
    pub fn single(&self, gi: u16) -> Result<Option<(usize, AttrId, PeerId)>, ()> {
        let mut found = None;
        for (i, e) in self.out.iter().enumerate().filter(|(_, e)| e.group == gi) {
            if found.is_some() || e.out == CONT || e.id != 0 {
                return Err(());
            }
            found = Some((i, e.out, e.ex));
        }
        Ok(found)
    }

    /// Replace the plain entry at `at` (from [`Dest::single`]) or add one; `None` removes.
    pub fn set_single(&mut self, gi: u16, at: Option<usize>, new: Option<(AttrId, PeerId)>) {
        let e = new.map(|(out, ex)| OutEntry {
            group: gi,
            live: Live::Yes,
            id: 0,
            out,
            ex,
        });
        match (at, e) {
            (Some(i), Some(e)) => self.out[i] = e,
            (Some(i), None) => {
                self.out.remove(i);
            }
            (None, Some(e)) => self.out.push(e),
            (None, None) => {}
        }
    }

    /// Does group `gi` except `peer` anywhere in this dest?
    pub fn excepts(&self, gi: u16, peer: PeerId) -> bool {
        self.out.iter().any(|e| e.group == gi && e.ex == peer)
    }

    /// Drop the entries of group `gi`, calling `release` with each exported set.
    pub fn drop_entries(&mut self, gi: u16, mut release: impl FnMut(AttrId)) {
        self.out.retain(|e| {
            if e.group != gi {
                return true;
            }
            if e.out != CONT {
                release(e.out);
            }
            false
        });
    }

    /// A fresh ADD-PATH identifier: one above the highest in use.
    pub fn next_local_id(&self) -> u32 {
        self.paths.iter().map(|p| p.local_id).max().unwrap_or(0) + 1
    }

    #[inline]
    pub fn is_v6(&self) -> bool {
        self.key.v6()
    }

    fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.out.is_empty() && self.fib == fib::NONE
    }
}

// ===== impl Table =====

impl Table {
    pub fn lookup(&self, p: &Prefix) -> Option<DestId> {
        let key = PKey::of(*p);
        self.index.find(key.hash(), |id| {
            dest_in(&self.chunks, id).is_some_and(|d| d.key == key)
        })
    }

    /// The dest of `p`, created if absent ([`NO_DEST`] when the table is full).
    pub fn get_or_create(&mut self, p: Prefix) -> DestId {
        let key = PKey::of(p);
        let h = key.hash();
        let chunks = &self.chunks;
        if let Some(id) = self
            .index
            .find(h, |id| dest_in(chunks, id).is_some_and(|d| d.key == key))
        {
            return id;
        }
        let id = self.free.last().copied().unwrap_or(self.slots as DestId);
        if id > index::MAX_ID {
            return NO_DEST;
        }
        let d = Dest {
            key,
            paths: Paths::None,
            out: Small::None,
            fib: fib::NONE,
            dirty: false,
        };
        if self.free.pop().is_some() {
            if let Some(slot) = self.slot(id) {
                *slot = Some(d);
            }
        } else {
            if self.slots % CHUNK == 0 {
                self.chunks.push(Vec::with_capacity(CHUNK));
            }
            self.slots += 1;
            if let Some(c) = self.chunks.last_mut() {
                c.push(Some(d));
            }
        }
        if self.index.full() {
            self.reindex();
        } else {
            self.index.insert(h, id);
        }
        id
    }

    /// A twice larger index, filled from the slab in order.
    fn reindex(&mut self) {
        self.index.grow(self.index.next_size());
        for (ci, c) in self.chunks.iter().enumerate() {
            for (i, d) in c.iter().enumerate() {
                if let Some(d) = d {
                    self.index.insert(d.key.hash(), (ci * CHUNK + i) as DestId);
                }
            }
        }
    }

    #[inline]
    fn slot(&mut self, id: DestId) -> Option<&mut Option<Dest>> {
        let id = id as usize;
        self.chunks.get_mut(id / CHUNK)?.get_mut(id % CHUNK)
    }

    #[inline]
    pub fn get(&self, id: DestId) -> Option<&Dest> {
        dest_in(&self.chunks, id)
    }

    #[inline]
    pub fn get_mut(&mut self, id: DestId) -> Option<&mut Dest> {
        self.slot(id)?.as_mut()
    }

    /// Every live dest, in slab order.
    pub fn iter(&self) -> impl Iterator<Item = &Dest> {
        self.chunks.iter().flatten().flatten()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Dest> {
        self.chunks.iter_mut().flatten().flatten()
    }

    /// One past the highest id handed out.
    pub fn end(&self) -> DestId {
        self.slots as DestId
    }

    /// Queue the dest for the next flush.
    #[inline]
    pub fn mark(&mut self, id: DestId) {
        if let Some(d) = self.get_mut(id) {
            if !d.dirty {
                d.dirty = true;
                self.dirty.push(id);
            }
        }
    }

    /// Mark every live dest changed (a filter changed).
    pub fn mark_all(&mut self) {
        for id in 0..self.end() {
            self.mark(id);
        }
    }

    /// Free the dest if nothing refers to it any more.
    pub fn gc(&mut self, id: DestId) {
        let Some(d) = self.get(id) else { return };
        if !d.is_empty() || d.dirty {
            return;
        }
        let h = d.key.hash();
        let chunks = &self.chunks;
        let hash = |o| dest_in(chunks, o).map_or(0, |d| d.key.hash());
        self.index.remove(h, id, hash);
        if let Some(slot) = self.slot(id) {
            *slot = None;
        }
        self.free.push(id);
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }
}

// ===== helper functions =====

#[inline]
fn dest_in(chunks: &[Vec<Option<Dest>>], id: DestId) -> Option<&Dest> {
    let id = id as usize;
    chunks.get(id / CHUNK)?.get(id % CHUNK)?.as_ref()
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    fn path(peer: PeerId) -> Path {
        Path {
            peer,
            path_id: 0,
            attr: 1,
            local_id: 1,
            flags: 0,
            reject: Reject::None,
        }
    }

    #[test]
    fn a_dest_takes_64_bytes() {
        assert_eq!(std::mem::size_of::<Paths>(), 24);
        assert_eq!(std::mem::size_of::<Small<OutEntry>>(), 16);
        assert_eq!(std::mem::size_of::<Option<Dest>>(), 64);
    }

    #[test]
    fn paths_push_remove_and_retain_like_a_vec() {
        let mut ps: Paths = Small::None;
        assert!(ps.is_empty());
        for peer in 1..=4 {
            ps.push(path(peer));
        }
        assert_eq!(ps.iter().map(|p| p.peer).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(ps.remove(1).peer, 2);
        ps.retain(|p| p.peer != 4);
        assert_eq!(ps.iter().map(|p| p.peer).collect::<Vec<_>>(), [1, 3]);
        ps[1].flags = flag::BEST;
        assert_eq!(ps.remove(0).peer, 1);
        assert!(matches!(ps, Small::One(p) if p.peer == 3 && p.flags == flag::BEST));
        ps.retain(|_| true);
        assert_eq!(ps.len(), 1);
        ps.retain(|_| false);
        assert!(matches!(ps, Small::None));
    }

    #[test]
    fn prefix_keys_round_trip_at_every_length() {
        for len in 0..=32u8 {
            let p = Prefix::V4(Prefix4::new(0xc633_64ff, len).unwrap());
            assert_eq!(PKey::of(p).get(), p);
        }
        for len in 0..=128u8 {
            let p =
                Prefix::V6(Prefix6::new(0x2001_0db8_ffff_ffff_ffff_ffff_ffff_ffff, len).unwrap());
            assert_eq!(PKey::of(p).get(), p, "/{len}");
        }
    }
}
