//! Unit tests of the datastore side; the translation rules are table-driven in
//! `proto-tests/calico/*.json` (runner: `proto-tests/calico_cases.rs`).

use std::path::Path;

use super::*;

const NODE1: &str = "/calico/resources/v3/projectcalico.org/nodes/node1";
const NODE2: &str = "/calico/resources/v3/projectcalico.org/nodes/node2";

fn node_json(ip: &str) -> Vec<u8> {
    format!(r#"{{"kind":"Node","metadata":{{"name":"x"}},"spec":{{"bgp":{{"ipv4Address":"{ip}/24"}}}}}}"#)
        .into_bytes()
}

fn local(name: &str) -> Local {
    let base = crate::config::parse("[router]\nasn = 1\n", Path::new("t.toml")).unwrap();
    Local {
        node_name: name.to_string(),
        router_id: None,
        base,
    }
}

#[test]
fn bad_json_is_an_error_naming_the_key_and_keeps_the_old_value() {
    let mut s = Snapshot::default();
    s.apply(NODE1, Some(&node_json("10.0.0.1"))).unwrap();
    let e = s.apply(NODE1, Some(b"{\"spec\": ")).unwrap_err();
    assert!(e.contains(NODE1), "{e}");
    let cfg = translate(&s, &local("node1")).unwrap();
    assert_eq!(cfg.router.router_id, Some(Ipv4Addr::new(10, 0, 0, 1)));
}

#[test]
fn unknown_keys_are_ignored_and_deletes_remove() {
    let mut s = Snapshot::default();
    for k in [
        "/calico/resources/v3/projectcalico.org/felixconfigurations/default",
        "/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26",
        "/calico/resources/v3/projectcalico.org/nodes",
        "/calico/resources/v3/projectcalico.org/nodes/a/b",
        "/calico/ipam/v2/host/node1/ipv4/other/10.0.0.0-26",
        "/something/else",
    ] {
        assert_eq!(s.apply(k, Some(b"{garbage")), Ok(()), "{k}");
    }
    assert!(s.is_empty());
    s.apply(NODE1, Some(&node_json("10.0.0.1"))).unwrap();
    s.apply(NODE2, Some(&node_json("10.0.0.2"))).unwrap();
    assert_eq!(translate(&s, &local("node1")).unwrap().peers.len(), 1);
    s.apply(NODE2, None).unwrap();
    assert_eq!(s.len(), 1);
    assert!(translate(&s, &local("node1")).unwrap().peers.is_empty());
    // Deleting what is not there is fine.
    s.apply(NODE2, None).unwrap();
}

#[test]
fn affinity_keys_with_bad_cidrs_are_errors() {
    let mut s = Snapshot::default();
    let k = "/calico/ipam/v2/host/node1/ipv4/block/10.0.0.0-99";
    assert!(s.apply(k, Some(b"{}")).unwrap_err().contains(k));
    let k = "/calico/ipam/v2/host/node1/ipv4/block/10.0.0.0";
    assert!(s.apply(k, Some(b"{}")).unwrap_err().contains(k));
    let k = "/calico/ipam/v2/host/node1/ipv4/block/10.0.0.0-26";
    assert!(s.apply(k, Some(b"{\"state\":")).unwrap_err().contains(k));
    assert!(s.is_empty());
    let k6 = "/calico/ipam/v2/host/node1/ipv6/block/fd00:10::-122";
    s.apply(k6, Some(b"")).unwrap();
    assert_eq!(s.len(), 1);
}

#[test]
fn hash_router_id_vectors() {
    // Expected values computed independently with Python's hashlib.
    assert_eq!(hash_router_id("node1"), Ipv4Addr::new(202, 18, 243, 27));
    // SHA-256("host-24") starts ed a9 80 e8: 237 > 223 loses 32.
    assert_eq!(hash_router_id("host-24"), Ipv4Addr::new(205, 169, 128, 232));
}

#[test]
fn base_settings_are_kept_and_own_policies_replace_stale_ones() {
    let mut s = Snapshot::default();
    s.apply(NODE1, Some(&node_json("10.0.0.1"))).unwrap();
    let mut l = local("node1");
    l.base.fib.table = 100;
    l.base.fib.protocol = 186;
    l.base.policies.push(crate::config::PolicyCfg {
        name: KERNEL_POLICY.to_string(),
        default: crate::config::PolicyVerdict::Reject,
        rules: vec![],
    });
    let cfg = translate(&s, &l).unwrap();
    assert_eq!(cfg.fib.table, 100);
    assert_eq!(cfg.fib.protocol, RTPROT_BIRD);
    assert_eq!(cfg.control, l.base.control);
    let names: Vec<&str> = cfg.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, [EXPORT_POLICY, KERNEL_POLICY]);
    assert_eq!(
        cfg.policies[1].default,
        crate::config::PolicyVerdict::Accept
    );
}

#[test]
fn bad_cluster_id_and_router_id_are_errors() {
    let mut s = Snapshot::default();
    s.apply(
        NODE1,
        Some(br#"{"spec":{"bgp":{"ipv4Address":"10.0.0.1/24","routeReflectorClusterID":"nope"}}}"#),
    )
    .unwrap();
    let e = translate(&s, &local("node1")).unwrap_err();
    assert!(e.contains("routeReflectorClusterID"), "{e}");
    s.apply(NODE1, Some(&node_json("10.0.0.1"))).unwrap();
    let mut l = local("node1");
    l.router_id = Some("10.0.0".into());
    assert!(translate(&s, &l).unwrap_err().contains("CALICO_ROUTER_ID"));
}
