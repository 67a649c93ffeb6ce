//! Control replies, built from the owner's state (never blocking it for long).

use std::net::IpAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::host::Host;
use super::owner::{name, prefix_str, Owner, Peer, PeerId};
use super::sync::INITIAL_SYNC_MAX;
use crate::config::PeerAs;
use crate::control::{FibRow, PeerRow, Request, Response, RouteRow, StatusRow};
use crate::rib::{FibKind, FibRoute, PathView, PeerCounts, LOCAL};

// ===== impl Owner: answers =====

impl Owner {
    /// Answer one control request from the current state.
    pub fn answer(&self, req: Request) -> Result<Response, String> {
        match req {
            Request::ShowPeers => Ok(Response::Peers(self.peer_rows())),
            Request::ShowRoutes { peer, advertised } => {
                self.route_rows(peer.as_deref(), advertised)
            }
            Request::ShowFib => Ok(Response::Fib(
                self.fib.routes().iter().map(fib_row).collect(),
            )),
            Request::ShowStatus => {
                let mut s = self.status_row();
                stamp_status(&mut s, self.started, Instant::now());
                Ok(Response::Status(s))
            }
            Request::ShowPeersDetail { name } => self.peer_details(name.as_deref()),
            // The kernel's side needs the loop's dispatch (owner.rs); this is the RIB's.
            Request::ShowFibDiff => Ok(Response::FibDiff(self.fib_diff_partial().finish(None))),
            Request::LogLevel { level, peer } => {
                crate::logging::set_level(&level, peer.as_deref()).map(Response::Done)
            }
            Request::Explain { prefix } => self.explain(&prefix),
            other => Err(format!("{} is not supported yet", other.name())),
        }
    }

    fn peer_rows(&self) -> Vec<PeerRow> {
        self.peers
            .iter()
            .map(|(id, p)| self.peer_row(*id, p))
            .collect()
    }

    pub(super) fn counts(&self, id: PeerId, p: &Peer) -> PeerCounts {
        if p.known {
            self.rib.counts(id)
        } else {
            PeerCounts::default()
        }
    }

    pub(super) fn peer_row(&self, id: PeerId, p: &Peer) -> PeerRow {
        let counts = self.counts(id, p);
        let asn = match (&p.neg, p.cfg.asn) {
            (Some(n), _) => Some(n.peer_as),
            (None, PeerAs::Asn(a)) => Some(a.0),
            (None, PeerAs::Internal) => Some(self.local_as),
            (None, PeerAs::External) => None,
        };
        let mut row = PeerRow {
            name: p.name.clone(),
            address: p.address.to_string(),
            asn,
            state: name(p.state).to_string(),
            uptime_secs: 0,
            last_down: match &p.disabled {
                Some(msg) => Some(format!("disabled by the operator: {msg}")),
                None => p.last_down.as_ref().map(|(why, _)| why.clone()),
            },
            received: counts.received,
            accepted: counts.accepted,
            advertised: counts.advertised,
            stale: counts.stale,
            families: match &p.neg {
                Some(n) => n.families.clone(),
                None => p.cfg.families.clone(),
            },
            since_unix: 0,
            passive: p.cfg.passive,
            peer_id: p.neg.as_ref().map(|n| n.peer_id),
            last_down_unix: None,
        };
        let last_down = p.last_down.as_ref().map(|(_, t)| *t);
        stamp_peer(&mut row, p.since, last_down, Instant::now());
        row
    }

    fn route_rows(&self, peer: Option<&str>, advertised: bool) -> Result<Response, String> {
        let id = match peer {
            Some(n) => Some(
                self.peer_id(n)
                    .ok_or_else(|| format!("no peer named {n:?}"))?,
            ),
            None => None,
        };
        let known = |id: PeerId| self.peers.get(&id).is_some_and(|p| p.known);
        let paths = match (id, advertised) {
            (None, true) => return Err("--advertised needs --peer NAME".into()),
            (Some(id), true) if known(id) => self.rib.advertised(id),
            (Some(id), false) if known(id) => self.rib.paths(Some(id)),
            (Some(_), _) => Vec::new(),
            (None, false) => self.rib.paths(None),
        };
        let rows = paths
            .into_iter()
            .map(|v| {
                let shown_as = if advertised { id } else { Some(v.peer) };
                self.route_row(v, shown_as)
            })
            .collect();
        Ok(Response::Routes(rows))
    }

    fn route_row(&self, v: PathView, peer: Option<PeerId>) -> RouteRow {
        let peer = match peer {
            Some(LOCAL) if v.path_id == crate::rib::KERNEL_PATH => "kernel".to_string(),
            Some(LOCAL) | None => "local".to_string(),
            Some(id) => self
                .peers
                .get(&id)
                .map_or_else(|| format!("#{id}"), |p| p.name.clone()),
        };
        let local = peer == "local";
        let blackhole = local && self.originated_blackhole(&v.prefix);
        RouteRow {
            iface: v.next_hop.and_then(|nh| connected_iface(&self.host, nh)),
            blackhole,
            prefix: prefix_str(&v.prefix),
            peer,
            path_id: v.path_id,
            next_hop: v.next_hop,
            best: v.best,
            multipath: v.multipath,
            stale: v.stale,
            llgr_stale: v.llgr_stale,
            reason: v.reason,
            attrs: v.attrs,
        }
    }

    /// `show status` without the fields that depend on the clock ([`stamp_status`]).
    /// O(peers): the snapshot (src/speaker/snapshot.rs) builds it at most every 20 ms.
    pub(super) fn status_row(&self) -> StatusRow {
        let peers = self.peers.iter();
        let accepted = peers.map(|(id, p)| self.counts(*id, p).accepted as usize);
        self.status_row_with(accepted.sum())
    }

    /// [`Owner::status_row`] with the sum of the peers' accepted paths known.
    pub(super) fn status_row_with(&self, accepted: usize) -> StatusRow {
        let established = self
            .peers
            .values()
            .filter(|p| p.state == crate::fsm::State::Established)
            .count();
        let waiting = self.sync.waiting_count();
        let v4 = self.cfg.originate.iter();
        let originated_v4 = v4.filter(|o| o.prefix.addr().is_ipv4()).count();
        StatusRow {
            version: env!("CARGO_PKG_VERSION").to_string(),
            router_id: self.router_id,
            asn: self.local_as,
            uptime_secs: 0,
            peers: self.peers.len(),
            established,
            paths: self.cfg.originate.len() + accepted,
            // The count, not `routes()`: that copies and sorts the whole FIB (it made
            // every `show status` O(routes) before issue 6).
            fib_routes: self.fib.route_count(),
            since_unix: 0,
            last_reconfig_unix: 0,
            originated_v4,
            originated_v6: self.cfg.originate.len() - originated_v4,
            gr_recovering: waiting.is_some(),
            gr_waiting: waiting.unwrap_or(0),
            gr_wait_left_secs: 0,
            gr_wait_secs: INITIAL_SYNC_MAX.as_secs(),
        }
    }

    fn originated_blackhole(&self, prefix: &crate::rib::Prefix) -> bool {
        self.cfg
            .originate
            .iter()
            .any(|o| o.blackhole && super::owner::prefix_of(o.prefix).as_ref() == Some(prefix))
    }

    pub(super) fn peer_id(&self, name: &str) -> Option<PeerId> {
        self.peers
            .iter()
            .find(|(_, p)| p.name == name)
            .map(|(id, _)| *id)
    }
}

// ===== helper functions =====

/// Fill in a `show peers` row's times as of `now`: how long in the state, since when,
/// when the last down was.
pub(super) fn stamp_peer(
    row: &mut PeerRow,
    since: Instant,
    last_down: Option<Instant>,
    now: Instant,
) {
    row.uptime_secs = now.duration_since(since).as_secs();
    row.since_unix = unix_at(since, now);
    row.last_down_unix = last_down.map(|t| unix_at(t, now));
}

/// Fill in `show status`'s times as of `now`, for a speaker started at `started`.
pub(super) fn stamp_status(row: &mut StatusRow, started: Instant, now: Instant) {
    let elapsed = now.duration_since(started).as_secs();
    row.uptime_secs = elapsed;
    row.since_unix = unix_at(started, now);
    // Reconfiguration does not record its time yet: the start is the last one.
    row.last_reconfig_unix = unix_at(started, now);
    row.gr_wait_left_secs = INITIAL_SYNC_MAX.as_secs().saturating_sub(elapsed);
}

/// The wall-clock time (seconds since the epoch) of a past instant, as of `now`.
/// Subtracting before truncating keeps it stable from one call to the next.
fn unix_at(t: Instant, now: Instant) -> u64 {
    let ago = now.duration_since(t);
    SystemTime::now()
        .checked_sub(ago)
        .and_then(|w| w.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

/// The interface holding a connected subnet that contains `nh` (for BIRD's `via X on IF`).
fn connected_iface(host: &Host, nh: IpAddr) -> Option<String> {
    host.addrs
        .iter()
        .filter(|a| a.addr.is_ipv4() == nh.is_ipv4())
        .filter(|a| ipnet::IpNet::new(a.addr, a.prefix_len).is_ok_and(|n| n.contains(&nh)))
        .max_by_key(|a| a.prefix_len)
        .map(|a| a.iface.clone())
}

pub(super) fn fib_row(r: &FibRoute) -> FibRow {
    let (kind, next_hops) = match &r.kind {
        FibKind::Unicast(nh) => ("unicast", nh.to_vec()),
        FibKind::Blackhole => ("blackhole", Vec::new()),
    };
    FibRow {
        prefix: prefix_str(&r.prefix),
        kind: kind.to_string(),
        next_hops,
    }
}
