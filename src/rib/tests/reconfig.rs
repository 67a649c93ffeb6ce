//! Live peer changes (`Rib::reconfigure_peer`): import re-checked, exports redone, what
//! the peer no longer gets withdrawn, other peers untouched.

use super::*;

#[test]
fn export_change_withdraws_and_leaves_other_peers_alone() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ebgp(2, 65002), ebgp(3, 65003)]);
    rib.update(
        1,
        announce(attrs(&[65001], "198.18.1.2"), &["198.51.100.0/24"]),
        &[],
    );
    let out = rib.flush();
    assert_eq!(announced4(&out, 2), ["198.51.100.0/24"]);
    let mut info = rib.peer_info(2).unwrap().clone();
    info.export = Filter::RejectAll;
    rib.reconfigure_peer(info, false);
    let out = rib.flush();
    assert_eq!(withdrawn4(&out, 2), ["198.51.100.0/24"]);
    assert!(announced4(&out, 2).is_empty());
    assert!(routes(&out, 3).is_empty(), "peer 3 gets nothing: {out:?}");
    assert_eq!(rib.counts(2).advertised, 0);
    // And back: the route is announced again, nothing withdrawn.
    let mut info = rib.peer_info(2).unwrap().clone();
    info.export = Filter::AcceptAll;
    rib.reconfigure_peer(info, false);
    let out = rib.flush();
    assert_eq!(announced4(&out, 2), ["198.51.100.0/24"]);
    assert!(withdrawn4(&out, 2).is_empty());
    assert!(routes(&out, 3).is_empty());
}

#[test]
fn import_change_rechecks_the_paths_held() {
    let mut rib = rib();
    let mut p1 = ebgp(1, 65001);
    p1.import = Filter::RejectAll;
    up(&mut rib, &[p1, ebgp(2, 65002)]);
    rib.update(
        1,
        announce(attrs(&[65001], "198.18.1.2"), &["198.51.100.0/24"]),
        &[],
    );
    let out = rib.flush();
    assert!(announced4(&out, 2).is_empty());
    assert_eq!(rib.counts(1).accepted, 0);
    let mut info = rib.peer_info(1).unwrap().clone();
    info.import = Filter::AcceptAll;
    rib.reconfigure_peer(info, false);
    let out = rib.flush();
    assert_eq!(rib.counts(1).accepted, 1);
    assert_eq!(announced4(&out, 2), ["198.51.100.0/24"]);
    assert!(routes(&out, 1).is_empty(), "nothing changed for peer 1");
}

#[test]
fn a_forced_re_export_with_no_change_sends_the_table_again_without_withdrawals() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ebgp(2, 65002)]);
    rib.update(
        1,
        announce(attrs(&[65001], "198.18.1.2"), &["198.51.100.0/24"]),
        &[],
    );
    rib.flush();
    let info = rib.peer_info(2).unwrap().clone();
    rib.reconfigure_peer(info, true);
    let out = rib.flush();
    assert_eq!(announced4(&out, 2), ["198.51.100.0/24"]);
    assert!(withdrawn4(&out, 2).is_empty());
    assert!(rib.peer_info(9).is_none());
}

#[test]
fn a_new_cluster_id_applies_live_to_reflection_and_loop_checks() {
    let mut rib = rib();
    let client = ibgp(1, true);
    let other = twin(ibgp(3, false), 3, "198.18.3.3");
    up(&mut rib, &[client, other]);
    // From the non-client: a path whose CLUSTER_LIST holds the cluster ID to come.
    let mut a = attrs(&[], "198.18.3.2");
    a.cluster_list = Some(vec![v4("244.0.0.1")]);
    rib.update(3, announce(a, &["198.51.100.0/24"]), &[]);
    rib.update(
        1,
        announce(attrs(&[], "198.18.1.2"), &["198.51.101.0/24"]),
        &[],
    );
    let out = rib.flush();
    assert_eq!(announced4(&out, 1), ["198.51.100.0/24"]);
    assert_eq!(routes(&out, 3)[0].attrs.cluster_list, Some(vec![RID]));
    rib.set_cluster_id(v4("244.0.0.1"));
    let out = rib.flush();
    // RFC 4456 §8: now a cluster loop, withdrawn from the client; the reflected route is
    // sent again with the new CLUSTER_LIST; no session involved.
    assert_eq!(withdrawn4(&out, 1), ["198.51.100.0/24"]);
    let u = routes(&out, 3);
    assert_eq!(u.len(), 1, "{u:?}");
    assert_eq!(u[0].attrs.cluster_list, Some(vec![v4("244.0.0.1")]));
    assert_eq!(rib.counts(3).accepted, 0);
    // The same ID again changes nothing.
    rib.set_cluster_id(v4("244.0.0.1"));
    assert!(rib.flush().sends.is_empty());
}
