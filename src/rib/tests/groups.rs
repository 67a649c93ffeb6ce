//! Update groups (one encoding per group, exclusions) and ADD-PATH (RFC 7911).

use super::*;

const P: &str = "198.51.100.0/24";

#[test]
fn two_identical_peers_share_one_outgoing() {
    let mut rib = rib();
    let a = ebgp(2, 65002);
    let b = twin(a.clone(), 3, "198.18.2.3");
    up(&mut rib, &[ebgp(1, 65001), a, b]);
    rib.update(
        1,
        announce(attrs(&[65001], "198.18.1.2"), &[P, "203.0.113.0/24"]),
        &[],
    );
    let out = rib.flush();
    assert_eq!(out.sends.len(), 1, "{:?}", out.sends);
    assert_eq!(out.sends[0].peers, vec![2, 3]);
    assert_eq!(announced4(&out, 2), vec![P, "203.0.113.0/24"]);
}

#[test]
fn peers_that_come_up_together_share_the_table_and_end_of_rib() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001)]);
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P]), &[]);
    rib.flush();
    let a = ebgp(2, 65002);
    rib.peer_up(a.clone());
    rib.peer_up(twin(a, 3, "198.18.2.3"));
    let out = rib.flush();
    assert_eq!(
        out.sends.len(),
        2,
        "table, then End-of-RIB: {:?}",
        out.sends
    );
    assert!(out.sends.iter().all(|o| o.peers == vec![2, 3]));
}

#[test]
fn the_source_peer_is_excluded_and_best_changes_are_sent_per_member_state() {
    let mut rib = rib();
    let a = ebgp(1, 65001);
    let b = twin(a.clone(), 2, "198.18.1.3");
    let c = twin(a.clone(), 3, "198.18.1.4");
    up(&mut rib, &[a, b, c]);
    // From 1: 2 and 3 get it in one message, 1 nothing.
    rib.update(
        1,
        announce(attrs(&[65001, 65100, 65101], "198.18.1.2"), &[P]),
        &[],
    );
    let out = rib.flush();
    assert_eq!(out.sends.len(), 1);
    assert_eq!(out.sends[0].peers, vec![2, 3]);
    // A better path from 2: 1 and 3 get it; 2 had the old one and gets a withdrawal.
    rib.update(2, announce(attrs(&[65001], "198.18.1.3"), &[P]), &[]);
    let out = rib.flush();
    assert_eq!(announced4(&out, 1), vec![P]);
    assert_eq!(announced4(&out, 3), vec![P]);
    assert!(announced4(&out, 2).is_empty());
    assert_eq!(withdrawn4(&out, 2), vec![P]);
    assert!(withdrawn4(&out, 1).is_empty() && withdrawn4(&out, 3).is_empty());
    assert_eq!(rib.counts(2).advertised, 0);
    assert_eq!(rib.counts(1).advertised, 1);
    // Back to 1's path: 2 and 3 get it again, 1 a withdrawal.
    rib.update(2, withdraw(&[P]), &[]);
    let out = rib.flush();
    assert_eq!(withdrawn4(&out, 1), vec![P]);
    assert_eq!(announced4(&out, 2), vec![P]);
    assert_eq!(announced4(&out, 3), vec![P]);
}

#[test]
fn different_keys_make_different_groups() {
    let mut rib = rib();
    let a = ebgp(2, 65002);
    let mut b = twin(a.clone(), 3, "198.18.2.3");
    b.neg.ext_msg = true;
    up(&mut rib, &[ebgp(1, 65001), a, b]);
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P]), &[]);
    let out = rib.flush();
    assert_eq!(out.sends.len(), 2);
}

fn add_path_peer(id: PeerId) -> PeerInfo {
    let mut p = ibgp(id, true);
    p.neg.add_path_tx = vec![Family::IPV4_UNICAST];
    p
}

fn ap_ctx() -> Ctx {
    Ctx {
        add_path: vec![Family::IPV4_UNICAST],
        ..Ctx::default()
    }
}

/// (path id, next hop) of the announcements to `peer`.
fn ap_routes(out: &RibOutput, peer: PeerId) -> Vec<(u32, Ipv4Addr)> {
    let mut v: Vec<(u32, Ipv4Addr)> = sent(out, peer, &ap_ctx())
        .iter()
        .flat_map(|u| {
            u.nlri
                .iter()
                .map(|n| (n.path_id, u.attrs.next_hop.unwrap()))
        })
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn add_path_send_advertises_every_path_with_stable_ids() {
    let mut rib = rib();
    up(
        &mut rib,
        &[
            ebgp(1, 65001),
            ebgp(2, 65002),
            ebgp(3, 65003),
            add_path_peer(4),
            ibgp(5, true),
        ],
    );
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P]), &[]);
    rib.update(2, announce(attrs(&[65002, 65009], "198.18.2.2"), &[P]), &[]);
    let out = rib.flush();
    assert_eq!(
        ap_routes(&out, 4),
        vec![(1, v4("198.18.1.2")), (2, v4("198.18.2.2"))]
    );
    // The plain iBGP peer gets the best only.
    assert_eq!(announced4(&out, 5), vec![P]);
    // A third path: the first two keep their identifiers, only the new one is sent.
    rib.update(3, announce(attrs(&[65003, 65009], "198.18.3.2"), &[P]), &[]);
    let out = rib.flush();
    assert_eq!(ap_routes(&out, 4), vec![(3, v4("198.18.3.2"))]);
    assert!(routes(&out, 5).is_empty());
    // The best goes: its identifier is withdrawn, the others stay.
    rib.update(1, withdraw(&[P]), &[]);
    let out = rib.flush();
    let wd: Vec<u32> = sent(&out, 4, &ap_ctx())
        .iter()
        .flat_map(|u| u.withdrawn.iter().map(|n| n.path_id))
        .collect();
    assert_eq!(wd, vec![1]);
    assert!(ap_routes(&out, 4).is_empty());
    assert_eq!(rib.counts(4).advertised, 2);
}

#[test]
fn add_path_receive_keeps_paths_apart_by_identifier() {
    let mut rib = rib();
    let mut a = ibgp(1, false);
    a.neg.add_path_rx = vec![Family::IPV4_UNICAST];
    up(&mut rib, &[a, ebgp(2, 65002)]);
    rib.update(
        1,
        announce_ids(attrs(&[65010], "198.18.1.2"), &[(P, 7)]),
        &[],
    );
    rib.update(
        1,
        announce_ids(attrs(&[65010, 65011], "198.18.1.3"), &[(P, 9)]),
        &[],
    );
    rib.flush();
    let v = rib.explain(&p4(P));
    assert_eq!(v.len(), 2);
    assert_eq!((v[0].path_id, v[1].path_id), (7, 9));
    assert_eq!(rib.counts(1).received, 2);
    // Withdraw path 7 only: 9 becomes best.
    let w = UpdateMsg {
        withdrawn: vec![Nlri4 {
            path_id: 7,
            prefix: P.parse().unwrap(),
        }],
        ..UpdateMsg::default()
    };
    rib.update(1, w, &[]);
    let out = rib.flush();
    let u = &routes(&out, 2)[0];
    assert_eq!(u.attrs.as_path, Some(AsPath::sequence(&[AS, 65010, 65011])));
    assert_eq!(rib.explain(&p4(P)).len(), 1);
}

#[test]
fn an_entry_can_except_several_members() {
    let mut rib = rib();
    let c1 = ibgp(1, true);
    let c2 = twin(c1.clone(), 2, "198.18.1.3");
    let c3 = twin(c1.clone(), 3, "198.18.1.4");
    up(&mut rib, &[c1, c2.clone(), c3]);
    // From client 1, originated by client 2: neither gets it, client 3 does.
    let mut a = attrs(&[], "198.18.1.2");
    a.originator_id = Some(c2.neg.peer_id);
    rib.update(1, announce(a, &[P]), &[]);
    let out = rib.flush();
    assert_eq!(out.sends.len(), 1);
    assert_eq!(out.sends[0].peers, vec![3]);
    assert_eq!((rib.counts(1).advertised, rib.counts(2).advertised), (0, 0));
    // Client 2 restarts: its new table leaves the prefix out again.
    rib.peer_down(2, false);
    rib.flush();
    rib.peer_up(c2);
    let out = rib.flush();
    assert!(announced4(&out, 2).is_empty());
    assert_eq!(sent(&out, 2, &Ctx::default()).len(), 2, "End-of-RIB only");
    assert_eq!(rib.advertised(3).len(), 1);
    // Withdrawn: only client 3 hears of it.
    rib.update(1, withdraw(&[P]), &[]);
    let out = rib.flush();
    assert_eq!(out.sends.len(), 1);
    assert_eq!(out.sends[0].peers, vec![3]);
    assert_eq!(withdrawn4(&out, 3), vec![P]);
}
