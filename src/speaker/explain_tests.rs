//! `Request::Explain` against a speaker with fake sessions: import, export and kernel
//! verdicts.

use std::path::Path;

use tokio::sync::mpsc;

use super::tests::FakeSessions;
use super::*;
use crate::config;
use crate::control::{Request, Response};
use crate::fib::MemFib;
use crate::net::PeerEvent;

const POLICY_CONFIG: &str = r#"
[router]
asn = 64512
router_id = "198.18.0.1"
listen = []
[fib]
export = "kernel"
[[peer]]
name = "a"
address = "198.18.0.2"
asn = 64512
families = ["ipv4"]
[[peer]]
name = "b"
address = "198.18.0.3"
asn = 65001
families = ["ipv4"]
import = "edge-in"
export = "reject-all"
[[policy]]
name = "edge-in"
default = "accept"
[[policy.rule]]
prefix = ["203.0.113.0/24"]
action = "reject"
[[policy]]
name = "kernel"
default = "accept"
[[policy.rule]]
prefix = ["192.0.2.0/24"]
action = "reject"
"#;

fn neg4(peer_as: u32, id: &str) -> crate::fsm::Negotiated {
    crate::fsm::Negotiated::plain(
        peer_as,
        id.parse().unwrap(),
        vec![crate::wire::Family::IPV4_UNICAST],
    )
}

async fn explain(h: &SpeakerHandle, prefix: &str) -> super::explain::Explain {
    let req = Request::Explain {
        prefix: prefix.into(),
    };
    match h.request(req).await.unwrap() {
        Response::Json(v) => serde_json::from_value(v).unwrap(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn explain_gives_import_export_and_kernel_verdicts() {
    let cfg = config::parse(POLICY_CONFIG, Path::new("t.toml")).unwrap();
    config::validate(&cfg, Path::new("t.toml")).unwrap();
    let (tx, rx) = mpsc::channel(16);
    let h = start(
        cfg,
        Box::new(MemFib::new()),
        Box::new(FakeSessions::default()),
        rx,
    )
    .unwrap();
    for (peer, asn, addr) in [(1, 64512, "198.18.0.2"), (2, 65001, "198.18.0.3")] {
        tx.send(PeerEvent::Up {
            peer,
            neg: neg4(asn, addr),
            local: "198.18.0.1:179".parse().unwrap(),
            remote: format!("{addr}:40000").parse().unwrap(),
        })
        .await
        .unwrap();
    }
    let attrs = crate::wire::Attrs {
        origin: Some(crate::wire::Origin::Igp),
        as_path: Some(crate::wire::AsPath::sequence(&[65001])),
        next_hop: Some("198.18.0.3".parse().unwrap()),
        ..Default::default()
    };
    let nlri = ["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24"]
        .iter()
        .map(|p| crate::wire::Nlri4 {
            path_id: 0,
            prefix: p.parse().unwrap(),
        })
        .collect();
    let msg = crate::wire::UpdateMsg {
        attrs,
        nlri,
        ..Default::default()
    };
    tx.send(PeerEvent::Update {
        peer: 2,
        msg,
        findings: vec![],
    })
    .await
    .unwrap();
    // The good prefix: best from b, sent to a, not back to b, in the kernel.
    let e = explain(&h, "198.51.100.0/24").await;
    assert_eq!(e.paths.len(), 1);
    assert!(e.paths[0].best && e.paths[0].eligible);
    assert_eq!(e.paths[0].peer, "b");
    let a = e.exports.iter().find(|x| x.peer == "a").unwrap();
    assert!(a.sent, "{a:?}");
    let b = e.exports.iter().find(|x| x.peer == "b").unwrap();
    assert!(!b.sent);
    assert!(b.reason.contains("split horizon"), "{}", b.reason);
    assert!(e.kernel.installed && e.kernel.wanted, "{:?}", e.kernel);
    assert_eq!(e.kernel.policy.as_deref(), Some("kernel"));
    // Rejected on import: shown, ineligible, with the rule.
    let e = explain(&h, "203.0.113.0/24").await;
    assert!(!e.paths[0].eligible);
    assert!(
        e.paths[0].reason.contains("policy \"edge-in\" rule[0]"),
        "{}",
        e.paths[0].reason
    );
    assert!(!e.exports.iter().any(|x| x.sent));
    assert!(!e.kernel.installed);
    assert_eq!(e.kernel.reason, "not installed: no eligible path");
    // Kept out of the kernel by [fib] export, still sent to a.
    let e = explain(&h, "192.0.2.0/24").await;
    assert!(e.exports.iter().any(|x| x.peer == "a" && x.sent));
    assert!(!e.kernel.installed);
    assert!(
        e.kernel
            .reason
            .starts_with("not installed: rejected by policy \"kernel\""),
        "{}",
        e.kernel.reason
    );
    // Unknown prefix and bad input.
    let e = explain(&h, "10.9.9.0/24").await;
    assert!(e.paths.is_empty());
    let bad = h
        .request(Request::Explain {
            prefix: "10.9.9.9/24".into(),
        })
        .await;
    assert!(bad.unwrap_err().contains("host bits"));
}
