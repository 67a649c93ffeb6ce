//! Policies in the RIB: import (rejected paths stay, ineligible), export per update
//! group (changes applied, groups split by policy), the kernel filter, explain.

use super::*;
use crate::config::PolicyCfg;
use crate::policy::compile;

const P: &str = "198.51.100.0/24";
const Q: &str = "203.0.113.0/24";

fn pol(text: &str) -> Filter {
    let cfg: PolicyCfg = toml::from_str(text).expect("policy parses");
    Filter::Policy(Arc::new(compile(&cfg).expect("policy compiles")))
}

/// Accept everything but Q; add 65000:100 to what is accepted.
fn tag_but_q() -> Filter {
    pol(r#"
name = "tag"
default = "accept"
[[rule]]
prefix = ["203.0.113.0/24"]
action = "reject"
[[rule]]
add_community = ["65000:100"]
"#)
}

fn local_pref_200() -> Filter {
    pol("name = \"lp\"\n[[rule]]\nprefix_in = [\"198.51.100.0/24\"]\nset_local_pref = 200\n")
}

#[test]
fn import_policy_rejects_and_keeps_the_path_ineligible() {
    let mut rib = rib();
    let mut p1 = ebgp(1, 65001);
    p1.import = tag_but_q();
    up(&mut rib, &[p1, ebgp(2, 65002)]);
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P, Q]), &[]);
    let out = rib.flush();
    assert_eq!(announced4(&out, 2), vec![P], "Q rejected on import");
    let c = rib.counts(1);
    assert_eq!((c.received, c.accepted), (2, 1));
    let q = rib.explain(&p4(Q));
    assert_eq!(q.len(), 1, "the rejected path is still shown");
    assert!(!q[0].best);
    assert_eq!(
        q[0].reason,
        "not eligible: rejected by policy \"tag\" rule[0] (prefix 203.0.113.0/24)"
    );
    // The accepted path carries the import change.
    let b = best(&rib, P).unwrap();
    assert_eq!(b.attrs.communities, Some(vec![65000 << 16 | 100]));
    let ex = rib.explain_all(p4(P));
    assert!(ex.paths[0]
        .import
        .as_deref()
        .unwrap()
        .starts_with("accepted by policy \"tag\""));
    assert_eq!(rib.fib().len(), 1);
}

#[test]
fn import_local_pref_changes_the_decision() {
    let mut rib = rib();
    let mut p2 = ebgp(2, 65002);
    p2.import = local_pref_200();
    up(&mut rib, &[ebgp(1, 65001), p2]);
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P]), &[]);
    // Longer AS_PATH, but LOCAL_PREF 200 from the import policy wins.
    rib.update(2, announce(attrs(&[65002, 65009], "198.18.2.2"), &[P]), &[]);
    rib.flush();
    let b = best(&rib, P).unwrap();
    assert_eq!(b.peer, 2);
    assert!(b.reason.contains("LOCAL_PREF"), "{}", b.reason);
}

#[test]
fn export_policy_adds_community_and_rejects_one_prefix() {
    let mut rib = rib();
    let mut p2 = ebgp(2, 65002);
    p2.export = tag_but_q();
    up(&mut rib, &[ebgp(1, 65001), p2, ebgp(3, 65003)]);
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P, Q]), &[]);
    let out = rib.flush();
    assert_eq!(announced4(&out, 2), vec![P]);
    let mut plain = announced4(&out, 3);
    plain.sort();
    assert_eq!(plain, vec![P, Q], "peer 3 has no export policy");
    let to2 = routes(&out, 2);
    assert_eq!(to2[0].attrs.communities, Some(vec![65000 << 16 | 100]));
    assert_eq!(
        to2[0].attrs.as_path,
        Some(AsPath::sequence(&[AS, 65001])),
        "our AS still prepended"
    );
    assert_eq!(routes(&out, 3)[0].attrs.communities, None);
    // Explain says who got what.
    let ex = rib.explain_all(p4(Q));
    let e2 = ex.exports.iter().find(|e| e.peer == 2).unwrap();
    assert!(!e2.sent);
    assert!(
        e2.reason
            .starts_with("not sent: rejected by policy \"tag\" rule[0]"),
        "{}",
        e2.reason
    );
    let e1 = ex.exports.iter().find(|e| e.peer == 1).unwrap();
    assert!(e1.reason.contains("split horizon"), "{}", e1.reason);
    let e3 = ex.exports.iter().find(|e| e.peer == 3).unwrap();
    assert!(e3.sent && e3.reason == "sent", "{e3:?}");
}

#[test]
fn export_prepend_and_med_to_ebgp() {
    let mut rib = rib();
    let mut p2 = ebgp(2, 65002);
    p2.export =
        pol("name = \"pp\"\n[[rule]]\nprepend = [65000, 65000]\nset_med = 7\nset_local_pref = 9\n");
    up(&mut rib, &[ebgp(1, 65001), p2]);
    let mut a = attrs(&[65001], "198.18.1.2");
    a.med = Some(50);
    rib.update(1, announce(a, &[P]), &[]);
    let out = rib.flush();
    let u = &routes(&out, 2)[0];
    assert_eq!(
        u.attrs.as_path,
        Some(AsPath::sequence(&[AS, AS, AS, 65001]))
    );
    assert_eq!(u.attrs.med, Some(7), "MED set by policy is sent to eBGP");
    assert_eq!(u.attrs.local_pref, None, "no LOCAL_PREF to eBGP");
}

#[test]
fn peers_with_different_export_policies_do_not_share_a_group() {
    let mut rib = rib();
    let a = ibgp(1, false);
    let mut b = twin(a.clone(), 2, "198.18.1.3");
    b.export = tag_but_q();
    let mut c = twin(a.clone(), 3, "198.18.1.4");
    c.export = tag_but_q();
    up(&mut rib, &[ebgp(9, 65009), a, b, c]);
    rib.update(9, announce(attrs(&[65009], "198.18.9.2"), &[P]), &[]);
    let out = rib.flush();
    let to = |p: PeerId| out.sends.iter().filter(|o| o.peers.contains(&p)).count();
    assert_eq!((to(1), to(2), to(3)), (1, 1, 1));
    let shared = out.sends.iter().find(|o| o.peers.contains(&2)).unwrap();
    assert_eq!(
        shared.peers,
        vec![2, 3],
        "same policy: one group, one encoding"
    );
    assert!(!out
        .sends
        .iter()
        .any(|o| o.peers.contains(&1) && o.peers.contains(&2)));
    assert_eq!(routes(&out, 1)[0].attrs.communities, None);
    assert_eq!(
        routes(&out, 2)[0].attrs.communities,
        Some(vec![65000 << 16 | 100])
    );
}

#[test]
fn kernel_filter_keeps_rejected_routes_out_of_the_fib() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ebgp(2, 65002)]);
    rib.set_kernel_filter(tag_but_q());
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P, Q]), &[]);
    let out = rib.flush();
    let fib: Vec<String> = out
        .fib
        .iter()
        .map(|c| match c {
            FibChange::Upsert(r) => r.prefix.to_string(),
            FibChange::Remove(p) => format!("-{p}"),
        })
        .collect();
    assert_eq!(fib, vec![P.to_string()]);
    let mut sent = announced4(&out, 2);
    sent.sort();
    assert_eq!(sent, vec![P, Q], "the kernel filter does not touch exports");
    let k = rib.explain_all(p4(Q)).kernel;
    assert!(!k.installed);
    assert!(
        k.reason
            .starts_with("not installed: rejected by policy \"tag\""),
        "{}",
        k.reason
    );
    let k = rib.explain_all(p4(P)).kernel;
    assert!(k.installed, "{}", k.reason);
    // Lifting the filter installs Q at the next flush; reject-all removes both.
    rib.set_kernel_filter(Filter::AcceptAll);
    let out = rib.flush();
    assert_eq!(out.fib.len(), 1);
    rib.set_kernel_filter(Filter::RejectAll);
    let out = rib.flush();
    assert!(out.fib.iter().all(|c| matches!(c, FibChange::Remove(_))));
    assert_eq!(out.fib.len(), 2);
    assert!(rib.fib().is_empty());
}

#[test]
fn interning_stays_shared_with_an_export_policy() {
    let mut rib = rib();
    let mut p2 = ebgp(2, 65002);
    p2.export = tag_but_q();
    up(&mut rib, &[ebgp(1, 65001), p2]);
    let many: Vec<String> = (0..50).map(|i| format!("10.0.{i}.0/24")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &refs), &[]);
    let out = rib.flush();
    assert_eq!(announced4(&out, 2).len(), 50);
    // One received set, one exported set with the community: 50 prefixes share them.
    let (_, sets) = rib.sizes();
    assert!(sets <= 3, "{sets} attribute sets");
    rib.peer_down(1, false);
    rib.flush();
    assert_eq!(rib.sizes(), (0, 0), "every reference released");
}
