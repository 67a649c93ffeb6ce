//! Kernel-learned routes (`[fib] learn`): never in the FIB, not exported without an
//! export policy, exported with next hop self through one, beaten by any BGP path.

use super::*;
use crate::config::PolicyCfg;
use crate::policy::compile;
use crate::rib::{KERNEL_PATH, LOCAL};

const W: &str = "198.18.9.5/32";

fn kernel_only() -> Filter {
    let cfg: PolicyCfg = toml::from_str(
        "name = \"k\"\ndefault = \"reject\"\n[[rule]]\nsource = \"kernel\"\naction = \"accept\"\n",
    )
    .expect("policy parses");
    Filter::Policy(Arc::new(compile(&cfg).expect("policy compiles")))
}

#[test]
fn learned_route_is_not_exported_without_a_policy() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ibgp(2, false)]);
    rib.learn(p4(W));
    let out = rib.flush();
    assert!(announced4(&out, 1).is_empty());
    assert!(announced4(&out, 2).is_empty());
    assert!(
        out.fib.is_empty() && out.fib_after.is_empty(),
        "never in the FIB"
    );
    let b = best(&rib, W).unwrap();
    assert_eq!((b.peer, b.path_id), (LOCAL, KERNEL_PATH));
    assert_eq!(rib.learned_count(), 1);
}

#[test]
fn learned_route_is_exported_through_a_policy_with_next_hop_self() {
    let mut rib = rib();
    let mut p1 = ebgp(1, 65001);
    p1.export = kernel_only();
    let mut p2 = ibgp(2, false);
    p2.export = kernel_only();
    up(&mut rib, &[p1, p2]);
    rib.learn(p4(W));
    rib.originate(p4("198.18.10.0/24"), false);
    let out = rib.flush();
    assert_eq!(
        announced4(&out, 1),
        vec![W],
        "the originated route is not kernel"
    );
    assert_eq!(announced4(&out, 2), vec![W]);
    let u = &routes(&out, 1)[0];
    assert_eq!(u.attrs.next_hop, Some(v4("198.18.1.1")), "next hop self");
    assert_eq!(u.attrs.origin, Some(crate::wire::Origin::Incomplete));
    assert_eq!(format!("{:?}", u.attrs.as_path).matches("65000").count(), 1);
    // Gone from the kernel: withdrawn.
    rib.unlearn(p4(W));
    let out = rib.flush();
    assert_eq!(withdrawn4(&out, 1), vec![W]);
    assert_eq!(withdrawn4(&out, 2), vec![W]);
    assert!(out.fib.is_empty() && out.fib_after.is_empty());
    assert!(rib.explain(&p4(W)).is_empty());
}

#[test]
fn any_bgp_path_beats_a_learned_one() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ebgp(2, 65002)]);
    rib.learn(p4(W));
    rib.flush();
    rib.update(
        1,
        announce(attrs(&[65001, 65009, 65010], "198.18.1.2"), &[W]),
        &[],
    );
    let out = rib.flush();
    let b = best(&rib, W).unwrap();
    assert_eq!(b.peer, 1);
    assert_eq!(b.reason, "best: it is not learned from the kernel");
    assert_eq!(announced4(&out, 2), vec![W], "the BGP route is passed on");
    assert_eq!(out.fib.len(), 1, "and installed");
    let k = rib.explain(&p4(W)).into_iter().find(|v| !v.best).unwrap();
    assert!(k.reason.contains("learned from the kernel"), "{}", k.reason);
}
