//! `show peers [NAME] --detail`: one peer's session as the operator needs it to debug
//! (schema in src/control/detail.rs).

use super::owner::{Owner, Peer, PeerId};
use super::peer::{self, SessionAddrs};
use super::restart::Restart;
use crate::config::PeerCfg;
use crate::control::{
    AddPathDetail, CapsDetail, GrDetail, GrSide, LlgrDetail, LlstDetail, PeerDetail, Response,
};
use crate::fsm::Negotiated;
use crate::wire::capability::LlgrFamily;
use crate::wire::Capability;

/// What the speaker keeps of an Established session beyond [`Negotiated`].
#[derive(Debug, Clone)]
pub struct UpInfo {
    pub addrs: SessionAddrs,
    /// Our graceful-restart capability as announced in the session's OPEN.
    pub local_gr: Option<GrSide>,
    /// Our long-lived graceful-restart capability as announced (RFC 9494).
    pub local_llgr: Option<Vec<LlgrFamily>>,
}

// ===== impl Owner =====

impl Owner {
    /// Answer `Request::ShowPeersDetail`.
    pub(super) fn peer_details(&self, name: Option<&str>) -> Result<Response, String> {
        let ids: Vec<PeerId> = match name {
            Some(n) => vec![self
                .peer_id(n)
                .ok_or_else(|| format!("no peer named {n:?}"))?],
            None => self.peers.keys().copied().collect(),
        };
        let rows = ids
            .into_iter()
            .filter_map(|id| Some(self.peer_detail(id, self.peers.get(&id)?)))
            .collect();
        Ok(Response::PeersDetail(rows))
    }

    pub(super) fn peer_detail(&self, id: PeerId, p: &Peer) -> PeerDetail {
        let addrs = p.up.as_ref().map(|u| u.addrs);
        PeerDetail {
            row: self.peer_row(id, p),
            down_count: p.down_count,
            disabled: p.disabled.is_some(),
            disabled_message: p.disabled.clone(),
            local_address: addrs.map(|a| a.local.ip().to_canonical()),
            local_port: addrs.map(|a| a.local.port()),
            remote_address: addrs.map(|a| a.remote.ip().to_canonical()),
            remote_port: addrs.map(|a| a.remote.port()),
            hold_time: p.cfg.hold_time,
            keepalive: p.cfg.keepalive.unwrap_or(p.cfg.hold_time / 3),
            negotiated_hold_time: p.neg.as_ref().map(|n| n.hold_time),
            negotiated_keepalive: p.neg.as_ref().map(|n| n.keepalive),
            capabilities: p.neg.as_ref().map(|n| {
                let mut c = caps(n, p.up.as_ref().and_then(|u| u.local_gr.clone()));
                c.long_lived_gr.local = p.up.as_ref().and_then(|u| u.local_llgr.clone());
                c
            }),
            long_lived_stale: llst(p),
        }
    }
}

// ===== helper functions =====

/// Record an Established session: its addresses and the GR flags our OPEN carried (the
/// R bit while the initial sync after a restart runs, RFC 4724 §3).
pub(super) fn up_info(cfg: &PeerCfg, addrs: SessionAddrs, r: &Restart, syncing: bool) -> UpInfo {
    let mut ours = peer::capabilities(cfg, 0, addrs.remote.is_ipv6());
    r.flags(&mut ours, syncing);
    let local_llgr = ours.iter().find_map(|c| match c {
        Capability::LongLivedGr(v) => Some(v.clone()),
        _ => None,
    });
    let local_gr = ours.into_iter().find_map(|c| match c {
        Capability::GracefulRestart(g) => Some(GrSide {
            restart: g.restart,
            notification: g.notification,
            time: g.time,
            forwarding: g
                .families
                .iter()
                .filter(|f| f.forwarding)
                .map(|f| f.family)
                .collect(),
        }),
        _ => None,
    });
    UpInfo {
        addrs,
        local_gr,
        local_llgr,
    }
}

fn caps(n: &Negotiated, local_gr: Option<GrSide>) -> CapsDetail {
    let mut add_path: Vec<AddPathDetail> = Vec::new();
    for f in n.add_path_rx.iter().chain(&n.add_path_tx) {
        if add_path.iter().all(|a| a.family != *f) {
            add_path.push(AddPathDetail {
                family: *f,
                receive: n.add_path_rx.contains(f),
                send: n.add_path_tx.contains(f),
            });
        }
    }
    CapsDetail {
        families: n.families.clone(),
        four_octet_as: n.as4,
        add_path,
        route_refresh: n.route_refresh,
        enhanced_route_refresh: n.enhanced_route_refresh,
        extended_message: n.ext_msg,
        extended_next_hop: n.ext_next_hop.clone(),
        graceful_restart: GrDetail {
            local: local_gr,
            peer: n.peer_gr.as_ref().map(|g| GrSide {
                restart: g.restarting,
                notification: g.notification,
                time: g.restart_time,
                forwarding: g.preserved.clone(),
            }),
        },
        long_lived_gr: LlgrDetail {
            local: None,
            peer: n.peer_llgr.clone(),
        },
    }
}

/// The peer's long-lived stale periods running (RFC 9494 §4.2).
fn llst(p: &Peer) -> Vec<LlstDetail> {
    llst_at(&llst_running(p), std::time::Instant::now())
}

/// The peer's long-lived stale periods: family and end.
pub(super) fn llst_running(p: &Peer) -> Vec<(crate::wire::Family, std::time::Instant)> {
    p.llgr.running.iter().map(|(f, u, _)| (*f, *u)).collect()
}

/// Long-lived stale periods (family, end) as seen at `now`.
pub(super) fn llst_at(
    running: &[(crate::wire::Family, std::time::Instant)],
    now: std::time::Instant,
) -> Vec<LlstDetail> {
    running
        .iter()
        .map(|(family, until)| LlstDetail {
            family: *family,
            remaining_secs: until.saturating_duration_since(now).as_secs(),
        })
        .collect()
}
