//! Adj-RIB-Out through update groups (RFC 4271 §9.1.3, §9.2).
//!
//! Peers with the same [`GroupKey`] share one Adj-RIB-Out and one encoding. An entry says
//! what every member holds for a (prefix, path identifier), except the few members in
//! its `except` list (the path's own source, the client that originated a reflected
//! path), which hold nothing. A change is sent once to "all members but the excepted
//! ones", plus, for each excepted member whose own state changed, to that member alone.
//!
//! ```text
//!  dirty prefixes ──> desired entries per group ──diff old/new──> Batches (by recipients)
//!                                                                     │ bucket NLRI by
//!                                                                     v attribute set
//!                                          Outgoing { peers, bytes } <── wire::pack
//! ```

use std::net::Ipv4Addr;
use std::sync::Arc;

use smallvec::SmallVec;

use super::export::{exportable, transform, GroupKey, Src};
use super::flush::nh_addr;
use super::intern::{AttrId, Interner};
use super::table::{flag, Dest, Entry, Path, Peers};
use super::{Filter, Outgoing, PeerId, PeerState, Prefix, RibCfg, LOCAL};
use crate::config::{PeerType, RouteSource};
use crate::hash::FastMap;
use crate::policy::{Policy, RouteCtx};
use crate::wire::{pack, Ctx, NextHop, Nlri4, Nlri6};

/// One update group.
#[derive(Debug)]
pub struct Group {
    pub key: GroupKey,
    pub ctx: Ctx,
    pub members: Vec<Member>,
    /// Position of each member in `members`.
    index: FastMap<PeerId, u32>,
    /// Members by BGP identifier (to except the originator of a reflected path).
    by_rid: FastMap<Ipv4Addr, SmallVec<[PeerId; 1]>>,
    /// Entries in the group's Adj-RIB-Out.
    pub entries: u64,
    /// Exported set per (received set, source peer, IPv6?) during one flush; holds a
    /// reference on each set.
    memo: FastMap<(AttrId, PeerId, bool), Option<AttrId>>,
    last: Option<((AttrId, PeerId, bool), Option<AttrId>)>,
    /// With an export policy: the exported sets made during the flush, one reference
    /// each (released with the memo).
    held: Vec<AttrId>,
}

/// A member of a group.
#[derive(Debug, Clone)]
pub struct Member {
    pub peer: PeerId,
    /// Has received the full table; `false` until the flush after it joined.
    pub synced: bool,
    /// Entries of the group this member does not hold.
    pub excepted: u64,
}

/// Announcements and withdrawals for one set of recipients.
#[derive(Debug, Default)]
pub struct Batch {
    ann4: Vec<(AttrId, Nlri4)>,
    ann6: Vec<(AttrId, Nlri6)>,
    wd4: Vec<Nlri4>,
    wd6: Vec<Nlri6>,
}

/// Batches of one group in one flush, by recipients.
#[derive(Debug, Default)]
pub struct Batches {
    /// For every member of the universe.
    common: Batch,
    /// For every member of the universe but these.
    but: Vec<(Peers, Batch)>,
    /// For one member only.
    only: Vec<(PeerId, Batch)>,
    /// Position in `but` of each excepted set (a reflector has one per source client).
    but_at: FastMap<Peers, usize>,
}

/// What export needs from the rest of the RIB.
pub struct Ex<'a> {
    pub cfg: &'a RibCfg,
    pub attrs: &'a mut Interner,
    pub peers: &'a FastMap<PeerId, PeerState>,
}

// ===== impl Group =====

impl Group {
    pub fn new(key: GroupKey) -> Group {
        Group {
            ctx: key.ctx(),
            key,
            members: Vec::new(),
            index: FastMap::default(),
            by_rid: FastMap::default(),
            entries: 0,
            memo: FastMap::default(),
            last: None,
            held: Vec::new(),
        }
    }

    pub fn add(&mut self, peer: PeerId, rid: Ipv4Addr) {
        self.index.insert(peer, self.members.len() as u32);
        self.members.push(Member {
            peer,
            synced: false,
            excepted: 0,
        });
        self.by_rid.entry(rid).or_default().push(peer);
    }

    pub fn remove(&mut self, peer: PeerId) {
        self.members.retain(|m| m.peer != peer);
        self.index = (self.members.iter().enumerate())
            .map(|(i, m)| (m.peer, i as u32))
            .collect();
        self.by_rid.retain(|_, v| {
            v.retain(|p| *p != peer);
            !v.is_empty()
        });
    }

    pub fn member(&self, peer: PeerId) -> Option<&Member> {
        let i = *self.index.get(&peer)?;
        self.members.get(i as usize)
    }

    fn member_mut(&mut self, peer: PeerId) -> Option<&mut Member> {
        let i = *self.index.get(&peer)?;
        self.members.get_mut(i as usize)
    }

    pub fn has_joiners(&self) -> bool {
        self.members.iter().any(|m| !m.synced)
    }

    pub fn has_synced(&self) -> bool {
        self.members.iter().any(|m| m.synced)
    }

    fn synced(&self, peer: PeerId) -> bool {
        self.member(peer).is_some_and(|m| m.synced)
    }

    /// Release the memo's references (end of a flush).
    pub fn clear_memo(&mut self, attrs: &mut Interner) {
        for (_, v) in self.memo.drain() {
            if let Some(id) = v {
                attrs.dec(id);
            }
        }
        for id in self.held.drain(..) {
            attrs.dec(id);
        }
        self.last = None;
    }

    /// The exported set for path `p` of `d` (memoised for the flush), `None` if not
    /// exportable. With an export policy the outcome depends on the prefix: computed for
    /// each (the interner still shares the resulting sets).
    fn export(&mut self, ex: &mut Ex<'_>, p: &Path, d: &Dest) -> Option<AttrId> {
        let v6 = d.is_v6();
        if let Filter::Policy(pol) = &self.key.export {
            let pol = pol.clone();
            let v = self.compute_policy(ex, p, d.prefix(), &pol);
            self.held.extend(v);
            return v;
        }
        let k = (p.attr, p.peer, v6);
        if let Some((lk, v)) = self.last {
            if lk == k {
                return v;
            }
        }
        let v = match self.memo.get(&k) {
            Some(&v) => v,
            None => {
                let v = self.compute(ex, p, v6);
                self.memo.insert(k, v);
                v
            }
        };
        self.last = Some((k, v));
        v
    }

    fn compute(&self, ex: &mut Ex<'_>, p: &Path, v6: bool) -> Option<AttrId> {
        if super::learn::is_kernel(p) {
            return None; // kernel-learned: only through an export policy
        }
        let src = if p.peer == LOCAL {
            Src::local(ex.cfg)
        } else {
            ex.peers.get(&p.peer)?.src
        };
        if !exportable(src.kind, &ex.attrs.keys(p.attr), &self.key) {
            return None;
        }
        let ra = transform(ex.attrs.get(p.attr), src, &self.key, v6, ex.cfg)?;
        Some(ex.attrs.intern(ra))
    }

    /// [`Group::compute`] through the group's export policy: its changes are made to the
    /// exported attributes (the prepend before our own AS is added, RFC 4271 §5.1.2; the
    /// rest after the export rules, so a MED set here is sent to eBGP too; LOCAL_PREF only
    /// to iBGP, RFC 4271 §5.1.5).
    fn compute_policy(
        &self,
        ex: &mut Ex<'_>,
        p: &Path,
        prefix: Prefix,
        pol: &Policy,
    ) -> Option<AttrId> {
        let src = if p.peer == LOCAL {
            Src::local(ex.cfg)
        } else {
            ex.peers.get(&p.peer)?.src
        };
        if !exportable(src.kind, &ex.attrs.keys(p.attr), &self.key) {
            return None;
        }
        let ra = ex.attrs.get(p.attr);
        let source = if super::learn::is_kernel(p) {
            RouteSource::Kernel
        } else if p.peer == LOCAL {
            RouteSource::Local
        } else {
            RouteSource::Bgp
        };
        let pt = if self.key.ibgp {
            PeerType::Ibgp
        } else {
            PeerType::Ebgp
        };
        let ctx = RouteCtx::of(
            prefix.net(),
            nh_addr(ra.nh.as_ref()),
            source,
            Some(pt),
            &ra.attrs,
        );
        let mut dec = pol.decide(&ctx);
        if !dec.accept {
            return None;
        }
        let v6 = matches!(prefix, Prefix::V6(_));
        let out = if dec.changes.is_empty() {
            transform(ra, src, &self.key, v6, ex.cfg)?
        } else {
            let mut pre = ra.clone();
            dec.changes.apply_prepend(&mut pre.attrs);
            let mut out = transform(&pre, src, &self.key, v6, ex.cfg)?;
            if !self.key.ibgp {
                dec.changes.local_pref = None;
            }
            dec.changes.apply_values(&mut out.attrs);
            out
        };
        Some(ex.attrs.intern(out))
    }

    /// Members that must not get path `p`: its source, and for iBGP the peers whose BGP
    /// identifier is the path's ORIGINATOR_ID (RFC 4456 §8 would make them drop it).
    fn except(&self, ex: &Ex<'_>, p: &Path) -> Peers {
        let mut e = Peers::new();
        if p.peer != LOCAL && self.is_member(p.peer) {
            e.push(p.peer);
        }
        if self.key.ibgp {
            if let Some(o) = ex.attrs.keys(p.attr).originator_id {
                for &q in self.by_rid.get(&o).into_iter().flatten() {
                    if !e.contains(&q) {
                        e.push(q);
                    }
                }
                e.sort_unstable();
            }
        }
        e
    }

    #[inline]
    fn is_member(&self, peer: PeerId) -> bool {
        self.index.contains_key(&peer)
    }

    /// The entries the group's members should hold for `d` (ADD-PATH: every eligible path
    /// that may go out, with its local identifier; otherwise the best path only).
    fn desired(&mut self, ex: &mut Ex<'_>, d: &Dest) -> SmallVec<[Entry; 1]> {
        let mut want = SmallVec::new();
        let v6 = d.is_v6();
        if !self.key.has_family(v6) {
            return want;
        }
        let add_path = self.key.add_path(v6);
        for p in d.paths.iter() {
            let chosen = if add_path {
                p.eligible()
            } else {
                p.has(flag::BEST)
            };
            if !chosen {
                continue;
            }
            let except = self.except(ex, p);
            if except.len() >= self.members.len()
                && self.members.iter().all(|m| except.contains(&m.peer))
            {
                continue;
            }
            let Some(out) = self.export(ex, p, d) else {
                continue;
            };
            let id = if add_path { p.local_id } else { 0 };
            want.push(Entry { id, out, except });
        }
        want.sort_by_key(|e| e.id);
        want
    }

    /// Bring the group's entries of `d` up to date and queue what changed for synced
    /// members in `delta`, and (with `dump`) everything for the members still joining.
    pub fn sync(
        &mut self,
        ex: &mut Ex<'_>,
        gi: u16,
        d: &mut Dest,
        delta: &mut Batches,
        dump: Option<&mut Batches>,
    ) {
        if dump.is_none() && !self.key.add_path(d.is_v6()) && self.sync_single(ex, gi, d, delta) {
            return;
        }
        let new = self.desired(ex, d);
        let old = d.entries(gi);
        let prefix = d.prefix();
        if let Some(dump) = dump {
            for n in &new {
                dump.part(&n.except).add(prefix, n.id, Some(n.out));
            }
        }
        if old == new {
            return;
        }
        if !old.is_empty() {
            d.take_entries(gi);
        }
        match (&old[..], &new[..]) {
            ([], []) => {}
            ([o], []) => self.emit_delta(prefix, o.id, Some(o), None, delta),
            ([], [n]) => self.emit_delta(prefix, n.id, None, Some(n), delta),
            ([o], [n]) if o.id == n.id => self.emit_delta(prefix, o.id, Some(o), Some(n), delta),
            _ => self.emit_many(prefix, &old, &new, delta),
        }
        self.account(ex.attrs, &old, &new);
        d.put_entries(gi, &new);
    }

    /// [`Group::sync`] without ADD-PATH when the old and new entries are plain (at most
    /// one excepted member): no lists built. `false`: not that case, nothing done.
    fn sync_single(&mut self, ex: &mut Ex<'_>, gi: u16, d: &mut Dest, delta: &mut Batches) -> bool {
        let Ok(old) = d.single(gi) else {
            return false;
        };
        let new = match d.best().copied().filter(|_| self.key.has_family(d.is_v6())) {
            None => None,
            Some(p) => {
                let except = self.except(ex, &p);
                let covered = match (&except[..], &self.members[..]) {
                    (_, []) => true,
                    ([e], [m]) => *e == m.peer,
                    ([], _) | ([_], _) => false,
                    _ => return false,
                };
                if covered {
                    None
                } else {
                    let ex1 = except.first().copied().unwrap_or(0);
                    self.export(ex, &p, d).map(|out| (out, ex1))
                }
            }
        };
        if old.map(|(_, o, e)| (o, e)) == new {
            return true;
        }
        let entry = |(out, ex): (AttrId, PeerId)| Entry {
            id: 0,
            out,
            except: (ex != 0).then_some(ex).into_iter().collect(),
        };
        let o: Option<Entry> = old.map(|(_, o, e)| entry((o, e)));
        let n: Option<Entry> = new.map(entry);
        self.emit_delta(d.prefix(), 0, o.as_ref(), n.as_ref(), delta);
        self.account(ex.attrs, o.as_slice(), n.as_slice());
        d.set_single(gi, old.map(|(i, _, _)| i), new);
        true
    }

    /// [`Group::emit_delta`] for every identifier in `old` or `new` (ADD-PATH).
    fn emit_many(&self, prefix: Prefix, old: &[Entry], new: &[Entry], delta: &mut Batches) {
        let mut ids: SmallVec<[u32; 4]> = old.iter().chain(new.iter()).map(|e| e.id).collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            let o = old.iter().find(|e| e.id == id);
            let n = new.iter().find(|e| e.id == id);
            if o != n {
                self.emit_delta(prefix, id, o, n, delta);
            }
        }
    }

    /// Queue the change of one entry from `o` to `n` for the synced members.
    fn emit_delta(
        &self,
        prefix: Prefix,
        id: u32,
        o: Option<&Entry>,
        n: Option<&Entry>,
        delta: &mut Batches,
    ) {
        let mut special: Peers = o
            .iter()
            .chain(n.iter())
            .flat_map(|e| e.except.iter().copied())
            .collect();
        if special.len() > 1 {
            special.sort_unstable();
            special.dedup();
        }
        let out = |e: Option<&Entry>, p: Option<PeerId>| {
            e.filter(|e| p.is_none_or(|p| !e.except.contains(&p)))
                .map(|e| e.out)
        };
        if let Some(change) = transition(out(o, None), out(n, None)) {
            delta.part(&special).add(prefix, id, change);
        }
        for &p in special.iter().filter(|&&p| self.synced(p)) {
            if let Some(change) = transition(out(o, Some(p)), out(n, Some(p))) {
                delta.only(p).add(prefix, id, change);
            }
        }
    }

    /// Keep the counters and the references of the exported sets right.
    fn account(&mut self, attrs: &mut Interner, old: &[Entry], new: &[Entry]) {
        for e in old {
            self.entries = self.entries.saturating_sub(1);
            for &p in e.except.iter() {
                if let Some(m) = self.member_mut(p) {
                    m.excepted = m.excepted.saturating_sub(1);
                }
            }
            attrs.dec(e.out);
        }
        for e in new {
            self.entries += 1;
            for &p in e.except.iter() {
                if let Some(m) = self.member_mut(p) {
                    m.excepted += 1;
                }
            }
            attrs.inc(e.out);
        }
    }

    /// Forget a member's exceptions in `d` (it left the group).
    pub fn forget(&mut self, gi: u16, peer: PeerId, d: &mut Dest) {
        if d.excepts(gi, peer) {
            let mut v = d.take_entries(gi);
            for e in v.iter_mut() {
                e.except.retain(|p| *p != peer);
            }
            d.put_entries(gi, &v);
        }
    }

    /// Drop all the group's entries of `d` (the group is gone).
    pub fn drop_entries(&mut self, attrs: &mut Interner, gi: u16, d: &mut Dest) {
        d.drop_entries(gi, |out| attrs.dec(out));
    }

    /// Queue the member's whole Adj-RIB-Out of `d` (route refresh).
    pub fn resend(&self, gi: u16, peer: PeerId, d: &Dest, b: &mut Batch) {
        if !d.has_entries(gi) {
            return;
        }
        for e in d.entries(gi).iter().filter(|e| !e.except.contains(&peer)) {
            b.add(d.prefix(), e.id, Some(e.out));
        }
    }

    /// Encode `b` for the recipients `peers` (skipped when empty).
    pub fn encode(
        &self,
        attrs: &Interner,
        peers: Vec<PeerId>,
        b: &Batch,
        sends: &mut Vec<Outgoing>,
    ) {
        if peers.is_empty() || b.is_empty() {
            return;
        }
        let mut bytes = Vec::new();
        encode_batch(attrs, &self.ctx, b, &mut bytes);
        if !bytes.is_empty() {
            sends.push(Outgoing {
                peers,
                bytes: Arc::from(bytes),
            });
        }
    }

    /// Members of `universe` (synced or joining ones) less `but`, sorted.
    pub fn recipients(&self, synced: bool, but: &[PeerId]) -> Vec<PeerId> {
        let mut v: Vec<PeerId> = self
            .members
            .iter()
            .filter(|m| m.synced == synced && !but.contains(&m.peer))
            .map(|m| m.peer)
            .collect();
        v.sort_unstable();
        v
    }

    /// Encode every batch of `bs` for the synced members (`synced`) or the joiners.
    pub fn encode_all(
        &self,
        attrs: &Interner,
        synced: bool,
        bs: &Batches,
        sends: &mut Vec<Outgoing>,
    ) {
        self.encode(attrs, self.recipients(synced, &[]), &bs.common, sends);
        for (but, b) in &bs.but {
            self.encode(attrs, self.recipients(synced, but), b, sends);
        }
        for (p, b) in &bs.only {
            self.encode(attrs, vec![*p], b, sends);
        }
    }
}

// ===== impl Batch =====

impl Batch {
    /// Announce (`Some(out)`) or withdraw (`None`) one entry.
    #[inline]
    pub fn add(&mut self, prefix: Prefix, id: u32, out: Option<AttrId>) {
        match (prefix, out) {
            (Prefix::V4(p), Some(o)) => self.ann4.push((
                o,
                Nlri4 {
                    path_id: id,
                    prefix: p,
                },
            )),
            (Prefix::V6(p), Some(o)) => self.ann6.push((
                o,
                Nlri6 {
                    path_id: id,
                    prefix: p,
                },
            )),
            (Prefix::V4(p), None) => self.wd4.push(Nlri4 {
                path_id: id,
                prefix: p,
            }),
            (Prefix::V6(p), None) => self.wd6.push(Nlri6 {
                path_id: id,
                prefix: p,
            }),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ann4.is_empty() && self.ann6.is_empty() && self.wd4.is_empty() && self.wd6.is_empty()
    }
}

// ===== impl Batches =====

impl Batches {
    /// The batch for everyone but `but`.
    fn part(&mut self, but: &[PeerId]) -> &mut Batch {
        if but.is_empty() {
            return &mut self.common;
        }
        let i = match self.but_at.get(but) {
            Some(&i) => i,
            None => {
                let key: Peers = but.iter().copied().collect();
                self.but.push((key.clone(), Batch::default()));
                self.but_at.insert(key, self.but.len() - 1);
                self.but.len() - 1
            }
        };
        &mut self.but[i].1
    }

    fn only(&mut self, p: PeerId) -> &mut Batch {
        let i = match self.only.iter().position(|(q, _)| *q == p) {
            Some(i) => i,
            None => {
                self.only.push((p, Batch::default()));
                self.only.len() - 1
            }
        };
        &mut self.only[i].1
    }
}

// ===== helper functions =====

/// What a member whose entry goes from `o` to `n` must be sent: `Some(Some(out))`
/// announce, `Some(None)` withdraw, `None` nothing.
fn transition(o: Option<AttrId>, n: Option<AttrId>) -> Option<Option<AttrId>> {
    match (o, n) {
        (Some(a), Some(b)) if a == b => None,
        (_, Some(b)) => Some(Some(b)),
        (Some(_), None) => Some(None),
        (None, None) => None,
    }
}

/// NLRI grouped by attribute set, in first-seen order.
fn bucket<T: Copy>(ann: &[(AttrId, T)]) -> Vec<(AttrId, Vec<T>)> {
    let mut out: Vec<(AttrId, Vec<T>)> = Vec::new();
    let mut at: FastMap<AttrId, usize> = FastMap::default();
    let mut last: Option<(AttrId, usize)> = None;
    for &(id, n) in ann {
        let i = match last {
            Some((l, i)) if l == id => i,
            _ => *at.entry(id).or_insert_with(|| {
                out.push((id, Vec::new()));
                out.len() - 1
            }),
        };
        last = Some((id, i));
        out[i].1.push(n);
    }
    out
}

/// Withdrawals first, then one packed run of UPDATEs per attribute set (wire::pack fills
/// each message up to the size limit). A set too large for one message is withdrawn
/// instead, so the peer does not keep an older version.
pub fn encode_batch(attrs: &Interner, ctx: &Ctx, b: &Batch, out: &mut Vec<u8>) {
    // A withdrawal always fits: one NLRI is at most 21 octets.
    let _ = pack::withdraw4(&b.wd4, ctx, out);
    let _ = pack::withdraw6(&b.wd6, ctx, out);
    let (mut fail4, mut fail6) = (Vec::new(), Vec::new());
    for (id, v) in bucket(&b.ann4) {
        let ra = attrs.get(id);
        let ok = match &ra.nh {
            Some(nh) => pack::announce4(&ra.attrs, Some(nh), &v, ctx, out).is_ok(),
            None => false,
        };
        if !ok {
            fail4.extend_from_slice(&v);
        }
    }
    for (id, v) in bucket(&b.ann6) {
        let ra = attrs.get(id);
        let ok = match &ra.nh {
            Some(nh @ NextHop::V6 { .. }) => pack::announce6(&ra.attrs, nh, &v, ctx, out).is_ok(),
            _ => false,
        };
        if !ok {
            fail6.extend_from_slice(&v);
        }
    }
    let _ = pack::withdraw4(&fail4, ctx, out);
    let _ = pack::withdraw6(&fail6, ctx, out);
}
