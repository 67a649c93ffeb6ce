//! The prefix table: one [`Dest`] per prefix, holding its candidate paths (the Adj-RIB-In
//! entries of every peer, RFC 4271 §3.2), its Adj-RIB-Out entries per update group and its
//! FIB state. Dests live in a slab; prefixes map to slab indexes, so the dirty list and the
//! flush work on indexes without hashing prefixes again.

use smallvec::SmallVec;

use super::hash::FastMap;
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
}

/// The peers of an update group that do not get an entry (the path's own source, or
/// the client that originated it). Sorted.
pub type Except = SmallVec<[PeerId; 1]>;

/// One Adj-RIB-Out entry of an update group: what its members hold for this prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutEntry {
    pub group: u16,
    /// Path identifier on the wire: the path's `local_id` with ADD-PATH, else 0.
    pub id: u32,
    /// The interned exported attribute set.
    pub out: AttrId,
    pub except: Except,
}

/// Everything about one prefix.
#[derive(Debug, Clone)]
pub struct Dest {
    pub prefix: Prefix,
    pub paths: SmallVec<[Path; 1]>,
    pub out: SmallVec<[OutEntry; 1]>,
    /// FIB state: [`fib::NONE`], [`fib::BLACKHOLE`] or an interned next-hop set.
    pub fib: u32,
    pub dirty: bool,
}

/// FIB state values of [`Dest::fib`].
pub mod fib {
    pub const NONE: u32 = 0;
    pub const BLACKHOLE: u32 = 1;
}

/// The slab of dests and the prefix maps.
#[derive(Debug, Default)]
pub struct Table {
    v4: FastMap<Prefix4, DestId>,
    v6: FastMap<Prefix6, DestId>,
    pub dests: Vec<Option<Dest>>,
    free: Vec<DestId>,
    /// Dests changed since the last flush, each once.
    pub dirty: Vec<DestId>,
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

// ===== impl Dest =====

impl Dest {
    /// The path that won the last decision.
    pub fn best(&self) -> Option<&Path> {
        self.paths.iter().find(|p| p.has(flag::BEST))
    }

    pub fn find(&self, peer: PeerId, path_id: u32) -> Option<usize> {
        self.paths
            .iter()
            .position(|p| p.peer == peer && p.path_id == path_id)
    }

    /// A fresh ADD-PATH identifier: one above the highest in use.
    pub fn next_local_id(&self) -> u32 {
        self.paths.iter().map(|p| p.local_id).max().unwrap_or(0) + 1
    }

    pub fn is_v6(&self) -> bool {
        matches!(self.prefix, Prefix::V6(_))
    }

    fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.out.is_empty() && self.fib == fib::NONE
    }
}

// ===== impl Table =====

impl Table {
    pub fn lookup(&self, p: &Prefix) -> Option<DestId> {
        match p {
            Prefix::V4(p) => self.v4.get(p).copied(),
            Prefix::V6(p) => self.v6.get(p).copied(),
        }
    }

    /// The dest of `p`, created if absent.
    pub fn get_or_create(&mut self, p: Prefix) -> DestId {
        let next = self
            .free
            .last()
            .copied()
            .unwrap_or(self.dests.len() as DestId);
        let id = match p {
            Prefix::V4(k) => *self.v4.entry(k).or_insert(next),
            Prefix::V6(k) => *self.v6.entry(k).or_insert(next),
        };
        if id == next {
            let d = Dest {
                prefix: p,
                paths: SmallVec::new(),
                out: SmallVec::new(),
                fib: fib::NONE,
                dirty: false,
            };
            if self.free.pop().is_some() {
                self.dests[id as usize] = Some(d);
            } else {
                self.dests.push(Some(d));
            }
        }
        id
    }

    #[inline]
    pub fn get(&self, id: DestId) -> Option<&Dest> {
        self.dests.get(id as usize).and_then(Option::as_ref)
    }

    #[inline]
    pub fn get_mut(&mut self, id: DestId) -> Option<&mut Dest> {
        self.dests.get_mut(id as usize).and_then(Option::as_mut)
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

    /// Free the dest if nothing refers to it any more.
    pub fn gc(&mut self, id: DestId) {
        let Some(d) = self.get(id) else { return };
        if !d.is_empty() || d.dirty {
            return;
        }
        match d.prefix {
            Prefix::V4(k) => self.v4.remove(&k),
            Prefix::V6(k) => self.v6.remove(&k),
        };
        self.dests[id as usize] = None;
        self.free.push(id);
    }

    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }
}
