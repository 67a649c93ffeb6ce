//! Table-driven policy tests: a policy in TOML, then routes and the expected verdicts.

use super::*;
use crate::config::PolicyCfg;
use crate::wire::{AsPath, AsSegment, SegmentKind};

/// One route and what the policy must say about it.
struct Case {
    prefix: &'static str,
    nh: &'static str,
    source: RouteSource,
    peer: Option<PeerType>,
    comms: &'static [u32],
    large: &'static [[u32; 3]],
    path: &'static [u32],
    accept: bool,
    rule: Option<usize>,
}

const C: Case = Case {
    prefix: "10.1.0.0/16",
    nh: "198.18.0.2",
    source: RouteSource::Bgp,
    peer: Some(PeerType::Ebgp),
    comms: &[],
    large: &[],
    path: &[65001],
    accept: true,
    rule: None,
};

const EDGE: &str = r#"
name = "edge"
default = "reject"
[[rule]]
community = ["65000:666", "no-advertise"]
action = "reject"
[[rule]]
prefix_in = ["10.0.0.0/8"]
max_len = 24
add_community = ["65000:100", "65000:1:2"]
action = "next"
[[rule]]
source = "local"
set_med = 50
[[rule]]
as_path_prefix = [65001, 65002]
peer_type = "ebgp"
set_local_pref = 200
[[rule]]
prefix_in = ["10.0.0.0/8"]
prefix_not_in = ["10.9.0.0/16"]
next_hop_in = ["198.18.0.0/24"]
large_community = []
"#;

fn policy(toml_text: &str) -> Policy {
    let cfg: PolicyCfg = toml::from_str(toml_text).expect("test policy parses");
    compile(&cfg).expect("test policy compiles")
}

fn run(p: &Policy, c: &Case) -> Verdict {
    let attrs = Attrs {
        communities: Some(c.comms.to_vec()),
        large_communities: Some(c.large.to_vec()),
        as_path: Some(AsPath {
            segments: vec![AsSegment {
                kind: SegmentKind::Sequence,
                asns: c.path.to_vec(),
            }],
        }),
        ..Attrs::default()
    };
    let r = RouteCtx::of(
        c.prefix.parse().unwrap(),
        Some(c.nh.parse().unwrap()),
        c.source,
        c.peer,
        &attrs,
    );
    evaluate(p, &r)
}

// ===== tests =====

#[test]
fn edge_policy_table() {
    // `large_community = []` is not a key: the table must be fixed first.
    let text = EDGE.replace("large_community = []\n", "");
    let p = policy(&text);
    let cases = [
        // rule 0: a blocked community rejects, whatever the prefix.
        Case {
            comms: &[65000 << 16 | 666],
            accept: false,
            rule: Some(0),
            ..C
        },
        Case {
            comms: &[NO_ADVERTISE],
            accept: false,
            rule: Some(0),
            ..C
        },
        // rule 1 (next) adds communities, rule 3 accepts on the AS_PATH.
        Case {
            path: &[65001, 65002, 65003],
            rule: Some(3),
            ..C
        },
        // rule 4: within 10/8, not 10.9/16, next hop in 198.18.0/24.
        Case { rule: Some(4), ..C },
        Case {
            prefix: "10.9.1.0/24",
            accept: false,
            rule: None,
            ..C
        },
        Case {
            nh: "198.19.0.1",
            accept: false,
            rule: None,
            ..C
        },
        // rule 2: originated routes get a MED.
        Case {
            prefix: "192.0.2.0/24",
            source: RouteSource::Local,
            peer: None,
            rule: Some(2),
            ..C
        },
        // Nothing matches: the default rejects.
        Case {
            prefix: "192.0.2.0/24",
            accept: false,
            rule: None,
            ..C
        },
        // as_path_prefix needs the whole sequence at the start.
        Case {
            prefix: "192.0.2.0/24",
            path: &[65002, 65001],
            accept: false,
            ..C
        },
        // peer_type ebgp does not match ibgp.
        Case {
            prefix: "192.0.2.0/24",
            path: &[65001, 65002],
            peer: Some(PeerType::Ibgp),
            accept: false,
            ..C
        },
    ];
    for (i, c) in cases.iter().enumerate() {
        let v = run(&p, c);
        assert_eq!(
            (v.accept, v.rule),
            (c.accept, c.rule),
            "case {i} ({}): {}",
            c.prefix,
            v.reason
        );
    }
}

#[test]
fn next_rule_changes_are_kept_by_the_deciding_rule() {
    let p = policy(&EDGE.replace("large_community = []\n", ""));
    let v = run(
        &p,
        &Case {
            path: &[65001, 65002],
            ..C
        },
    );
    assert!(v.accept);
    assert_eq!(v.changes.communities, vec![65000 << 16 | 100]);
    assert_eq!(v.changes.large_communities, vec![[65000, 1, 2]]);
    assert_eq!(v.changes.local_pref, Some(200));
    assert!(v.reason.contains("rule[3]"), "{}", v.reason);
    assert!(
        v.reason.contains("adds community 65000:100 65000:1:2"),
        "{}",
        v.reason
    );
    // A /25 is longer than max_len 24: no communities from rule 1.
    let v = run(
        &p,
        &Case {
            prefix: "10.1.0.0/25",
            path: &[65001, 65002],
            ..C
        },
    );
    assert!(v.changes.communities.is_empty());
}

#[test]
fn rejection_carries_no_changes_and_says_why() {
    let p = policy(&EDGE.replace("large_community = []\n", ""));
    let v = run(
        &p,
        &Case {
            comms: &[65000 << 16 | 666],
            ..C
        },
    );
    assert!(!v.accept);
    assert!(v.changes.is_empty());
    assert_eq!(
        v.reason,
        "rejected by policy \"edge\" rule[0] (community 65000:666 no-advertise)"
    );
    let v = run(
        &p,
        &Case {
            prefix: "192.0.2.0/24",
            ..C
        },
    );
    assert_eq!(
        v.reason,
        "rejected by policy \"edge\": no rule decided, default"
    );
}

#[test]
fn unknown_key_in_a_rule_is_refused() {
    let r: Result<PolicyCfg, _> = toml::from_str(EDGE);
    assert!(r.is_err(), "large_community is not a rule key");
}

#[test]
fn large_community_match() {
    let p = policy("name = \"l\"\n[[rule]]\ncommunity = [\"65000:1:2\"]\n");
    let hit = run(
        &p,
        &Case {
            large: &[[65000, 1, 2]],
            ..C
        },
    );
    assert!(hit.accept);
    let miss = run(
        &p,
        &Case {
            large: &[[65000, 1, 3]],
            ..C
        },
    );
    assert!(!miss.accept);
}

#[test]
fn communities_parse() {
    let table: [(&str, Option<Community>); 10] = [
        ("65000:100", Some(Community::Std(65000 << 16 | 100))),
        ("0:0", Some(Community::Std(0))),
        ("65535:65535", Some(Community::Std(u32::MAX))),
        ("65000:1:2", Some(Community::Large([65000, 1, 2]))),
        (
            "4200000000:1:2",
            Some(Community::Large([4_200_000_000, 1, 2])),
        ),
        ("no-export", Some(Community::Std(NO_EXPORT))),
        ("no-advertise", Some(Community::Std(NO_ADVERTISE))),
        ("65536:1", None),
        ("65000", None),
        ("a:b", None),
    ];
    for (s, want) in table {
        assert_eq!(parse_community(s).ok(), want, "{s}");
    }
    assert!(parse_community("1:2:3:4").is_err());
    assert!(parse_community("").is_err());
}

#[test]
fn compile_errors_name_the_key() {
    let cfg: PolicyCfg = toml::from_str(
        r#"
name = "bad"
[[rule]]
add_community = ["65000:100", "65000:x"]
[[rule]]
prefix_in = ["10.0.0.1/8"]
min_len = 25
max_len = 24
"#,
    )
    .unwrap();
    let errs = compile(&cfg).unwrap_err();
    let keys: Vec<&str> = errs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "rule[0].add_community[1]",
            "rule[1].prefix_in[0]",
            "rule[1].min_len"
        ]
    );
    assert!(errs[0].1.contains("\"65000:x\""), "{}", errs[0].1);
}

#[test]
fn changes_apply_to_attributes() {
    let ch = Changes {
        communities: vec![1, 2],
        large_communities: vec![[1, 2, 3]],
        local_pref: Some(300),
        med: Some(7),
        prepend: vec![65000, 65000],
    };
    let mut a = Attrs {
        communities: Some(vec![2]),
        as_path: Some(AsPath {
            segments: vec![AsSegment {
                kind: SegmentKind::Sequence,
                asns: vec![65001],
            }],
        }),
        ..Attrs::default()
    };
    ch.apply(&mut a);
    assert_eq!(a.communities, Some(vec![2, 1]));
    assert_eq!(a.large_communities, Some(vec![[1, 2, 3]]));
    assert_eq!((a.local_pref, a.med), (Some(300), Some(7)));
    assert_eq!(
        a.as_path.unwrap().segments[0].asns,
        vec![65000, 65000, 65001]
    );
    // An empty path gets a new sequence.
    let mut b = Attrs::default();
    ch.apply_prepend(&mut b);
    assert_eq!(b.as_path.unwrap().segments[0].asns, vec![65000, 65000]);
}

#[test]
fn builtins() {
    let r = Policy::builtin(REJECT_ALL).unwrap();
    let a = Policy::builtin(ACCEPT_ALL).unwrap();
    assert!(!run(&r, &C).accept);
    assert!(run(&a, &C).accept);
    assert!(Policy::builtin("edge").is_none());
    assert_eq!(run(&a, &C).reason, "accepted by policy \"accept-all\"");
}

#[test]
fn ipv6_prefix_never_matches_ipv4_nets() {
    let p = policy("name = \"v4\"\n[[rule]]\nprefix_in = [\"0.0.0.0/0\"]\n");
    let v = run(
        &p,
        &Case {
            prefix: "2001:db8::/32",
            nh: "2001:db8::1",
            ..C
        },
    );
    assert!(!v.accept);
    let v = run(&p, &C);
    assert!(v.accept);
}
