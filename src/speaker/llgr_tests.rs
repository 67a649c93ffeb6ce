//! Long-lived graceful restart in the speaker (RFC 9494): our capability, which families
//! are kept after which down, and the timers end to end with fake sessions.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::config::{self, PeerCfg};
use crate::control::{Request, Response, RouteRow};
use crate::fsm::{Negotiated, PeerGr};
use crate::net::PeerEvent;
use crate::speaker::tests::{rig_with, update_v4, Rig};
use crate::wire::{Family, NotificationMsg};

const V4: Family = Family::IPV4_UNICAST;
const V6: Family = Family::IPV6_UNICAST;

const CONFIG: &str = "[router]\nasn = 64512\nrouter_id = \"198.18.0.1\"\nlisten = []\n\
    [[peer]]\nname = \"a\"\naddress = \"198.18.0.2\"\nasn = 65001\nfamilies = [\"ipv4\", \"ipv6\"]\n\
    import = \"accept-all\"\nexport = \"accept-all\"\nlong_lived_stale_time = 1\n";

fn peer_cfg(llst: u32) -> PeerCfg {
    let text = CONFIG.replace(
        "long_lived_stale_time = 1",
        &format!("long_lived_stale_time = {llst}"),
    );
    config::parse(&text, Path::new("t.toml")).unwrap().peers[0].clone()
}

fn llgr_fam(family: Family, stale_time: u32) -> LlgrFamily {
    LlgrFamily {
        family,
        forwarding: true,
        reserved_flags: 0,
        stale_time,
    }
}

/// The peer announced GR (restart time `gr`, N bit) and LLGR for `ll`.
fn neg(gr: u16, ll: Option<Vec<LlgrFamily>>) -> Negotiated {
    Negotiated {
        peer_gr: Some(PeerGr {
            restarting: false,
            notification: true,
            restart_time: gr,
            preserved: vec![V4],
        }),
        peer_llgr: ll,
        ..Negotiated::plain(65001, "198.18.0.2".parse().unwrap(), vec![V4, V6])
    }
}

fn transport() -> DownReason {
    DownReason::Transport("connection reset".into())
}

#[test]
fn our_capability_carries_every_family_with_the_configured_time() {
    assert_eq!(capability(&peer_cfg(0)), None, "0 = off");
    let c = capability(&peer_cfg(3600)).unwrap();
    assert_eq!(
        c,
        Capability::LongLivedGr(vec![llgr_fam(V4, 3600), llgr_fam(V6, 3600)])
    );
    // And it is in the OPEN's capabilities.
    let caps = peer::capabilities(&peer_cfg(3600), 64512, false);
    assert!(caps.contains(&c), "{caps:?}");
    assert!(!peer::capabilities(&peer_cfg(0), 64512, false)
        .iter()
        .any(|c| matches!(c, Capability::LongLivedGr(_))));
    // RFC 9494 §4.1: only beside the GR capability.
    let mut no_gr = peer_cfg(3600);
    no_gr.graceful_restart = false;
    assert_eq!(capability(&no_gr), None);
}

#[test]
fn kept_families_take_the_smaller_time_and_need_the_capability() {
    let ll = Some(vec![llgr_fam(V4, 10), llgr_fam(V6, 0)]);
    let n = neg(120, ll.clone());
    // Ours is 5 s: the smaller of both; IPv6 with time 0 is not kept (RFC 9494 §4.2).
    let t = llgr_times(&peer_cfg(5), Some(&n), &transport());
    assert_eq!(t, vec![(V4, Duration::from_secs(5))]);
    let t = llgr_times(&peer_cfg(60), Some(&n), &transport());
    assert_eq!(t, vec![(V4, Duration::from_secs(10))]);
    // Off for the peer, or the peer sent no LLGR capability: nothing.
    assert!(llgr_times(&peer_cfg(0), Some(&n), &transport()).is_empty());
    assert!(llgr_times(&peer_cfg(5), Some(&neg(120, None)), &transport()).is_empty());
    // A stop, or a Hard Reset (RFC 8538 §3), ends everything; a Cease with the N bit does not.
    assert!(llgr_times(&peer_cfg(5), Some(&n), &DownReason::Stopped).is_empty());
    let hard = DownReason::NotificationReceived(NotificationMsg::new(6, 9, vec![6, 2]));
    assert!(llgr_times(&peer_cfg(5), Some(&n), &hard).is_empty());
    let cease = DownReason::NotificationReceived(NotificationMsg::new(6, 4, vec![]));
    assert_eq!(llgr_times(&peer_cfg(5), Some(&n), &cease).len(), 1);
    // A restart time of 0 still keeps them (LLGR at once); with GR off for the peer
    // here (no N bit of ours), a NOTIFICATION ends them.
    let zero = neg(0, ll);
    assert_eq!(llgr_times(&peer_cfg(5), Some(&zero), &transport()).len(), 1);
    let mut no_gr = peer_cfg(5);
    no_gr.graceful_restart = false;
    assert!(llgr_times(&no_gr, Some(&zero), &cease).is_empty());
}

async fn routes(r: &Rig) -> Vec<RouteRow> {
    let req = Request::ShowRoutes {
        peer: None,
        advertised: false,
    };
    match r.handle.request(req).await.unwrap() {
        Response::Routes(v) => v,
        other => panic!("{other:?}"),
    }
}

async fn session(r: &Rig, n: Negotiated) {
    let up = PeerEvent::Up {
        peer: 1,
        neg: n,
        local: "198.18.0.1:179".parse().unwrap(),
        remote: "198.18.0.2:40000".parse().unwrap(),
    };
    r.events.send(up).await.unwrap();
    let msg = update_v4("10.65.1.0/26", "198.18.0.2");
    let ev = PeerEvent::Update {
        peer: 1,
        msg,
        findings: vec![],
    };
    r.events.send(ev).await.unwrap();
    let down = PeerEvent::Down {
        peer: 1,
        reason: transport(),
        was_established: true,
    };
    r.events.send(down).await.unwrap();
}

/// (stale, llgr_stale) of the one route, or None once it is gone.
async fn state(r: &Rig) -> Option<(bool, bool)> {
    routes(r).await.first().map(|x| (x.stale, x.llgr_stale))
}

#[tokio::test]
async fn gr_then_long_lived_stale_then_gone() {
    let r = rig_with(CONFIG, None);
    session(&r, neg(1, Some(vec![llgr_fam(V4, 1)]))).await;
    assert_eq!(state(&r).await, Some((true, false)), "GR stale first");
    tokio::time::sleep(Duration::from_millis(1400)).await;
    assert_eq!(state(&r).await, Some((true, true)), "then long-lived stale");
    let row = &routes(&r).await[0];
    assert_eq!(row.attrs.communities, Some(vec![crate::rib::LLGR_STALE]));
    let d = match r
        .handle
        .request(Request::ShowPeersDetail { name: None })
        .await
        .unwrap()
    {
        Response::PeersDetail(d) => d,
        other => panic!("{other:?}"),
    };
    assert_eq!(d[0].long_lived_stale.len(), 1);
    assert_eq!(d[0].long_lived_stale[0].family, V4);
    // The control socket answers from the published view: it shows the period too.
    let req = Request::ShowPeersDetail { name: None };
    match r.handle.requester().read(&req) {
        Some(Ok(Response::PeersDetail(v))) => {
            assert_eq!(v[0].long_lived_stale, d[0].long_lived_stale)
        }
        other => panic!("{other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(state(&r).await, None, "the long-lived stale time ran out");
}

#[tokio::test]
async fn with_restart_time_0_long_lived_stale_begins_at_once() {
    let r = rig_with(CONFIG, None);
    session(&r, neg(0, Some(vec![llgr_fam(V4, 1)]))).await;
    assert_eq!(state(&r).await, Some((true, true)));
    tokio::time::sleep(Duration::from_millis(1400)).await;
    assert_eq!(state(&r).await, None);
}

#[tokio::test]
async fn without_llgr_the_gr_time_ends_the_routes() {
    let off = CONFIG.replace("long_lived_stale_time = 1", "long_lived_stale_time = 0");
    let r = rig_with(&off, None);
    session(&r, neg(1, Some(vec![llgr_fam(V4, 1)]))).await;
    assert_eq!(state(&r).await, Some((true, false)));
    tokio::time::sleep(Duration::from_millis(1400)).await;
    assert_eq!(
        state(&r).await,
        None,
        "no LLGR configured: gone after the GR time"
    );
}

async fn down(r: &Rig) {
    let down = PeerEvent::Down {
        peer: 1,
        reason: transport(),
        was_established: true,
    };
    r.events.send(down).await.unwrap();
}

#[tokio::test]
async fn a_running_long_lived_stale_timer_survives_consecutive_restarts() {
    // LLGR at once (restart time 0), 2 s. The peer comes back after 1 s and goes down
    // again before its End-of-RIB: the timer is not restarted (RFC 9494 §4.2), so the
    // route goes 2 s after the first down, not 2 s after the second.
    let r = rig_with(&CONFIG.replace("time = 1", "time = 60"), None);
    let n = neg(0, Some(vec![llgr_fam(V4, 2)]));
    session(&r, n.clone()).await;
    assert_eq!(state(&r).await, Some((true, true)));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let up = PeerEvent::Up {
        peer: 1,
        neg: n,
        local: "198.18.0.1:179".parse().unwrap(),
        remote: "198.18.0.2:40001".parse().unwrap(),
    };
    r.events.send(up).await.unwrap();
    down(&r).await;
    assert_eq!(
        state(&r).await,
        Some((true, true)),
        "kept over the second down"
    );
    tokio::time::sleep(Duration::from_millis(1400)).await;
    assert_eq!(state(&r).await, None, "the first timer ended it");
}

#[tokio::test]
async fn end_of_rib_ends_the_long_lived_stale_period() {
    let r = rig_with(&CONFIG.replace("time = 1", "time = 60"), None);
    let n = neg(0, Some(vec![llgr_fam(V4, 1)]));
    session(&r, n.clone()).await;
    let up = PeerEvent::Up {
        peer: 1,
        neg: n,
        local: "198.18.0.1:179".parse().unwrap(),
        remote: "198.18.0.2:40001".parse().unwrap(),
    };
    r.events.send(up).await.unwrap();
    let msg = update_v4("10.65.1.0/26", "198.18.0.2");
    r.events
        .send(PeerEvent::Update {
            peer: 1,
            msg,
            findings: vec![],
        })
        .await
        .unwrap();
    let eor = crate::wire::update::UpdateMsg::eor(V4);
    r.events
        .send(PeerEvent::Update {
            peer: 1,
            msg: eor,
            findings: vec![],
        })
        .await
        .unwrap();
    assert_eq!(state(&r).await, Some((false, false)), "refreshed");
    // The old timer fires after the End-of-RIB: nothing happens to the fresh route.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(state(&r).await, Some((false, false)));
}

#[tokio::test]
async fn detail_shows_both_sides_llgr_capability() {
    let r = rig_with(CONFIG, None);
    let up = PeerEvent::Up {
        peer: 1,
        neg: neg(120, Some(vec![llgr_fam(V4, 7)])),
        local: "198.18.0.1:179".parse().unwrap(),
        remote: "198.18.0.2:40000".parse().unwrap(),
    };
    r.events.send(up).await.unwrap();
    let req = Request::ShowPeersDetail {
        name: Some("a".into()),
    };
    let d = match r.handle.request(req).await.unwrap() {
        Response::PeersDetail(d) => d,
        other => panic!("{other:?}"),
    };
    let c = d[0].capabilities.as_ref().expect("up");
    // A cold start: F bits clear in what we announced (as for GR, restart.rs).
    let mut ours = vec![llgr_fam(V4, 1), llgr_fam(V6, 1)];
    ours.iter_mut().for_each(|f| f.forwarding = false);
    assert_eq!(c.long_lived_gr.local, Some(ours));
    assert_eq!(c.long_lived_gr.peer, Some(vec![llgr_fam(V4, 7)]));
    assert!(d[0].long_lived_stale.is_empty());
}
