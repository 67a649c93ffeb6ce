use std::path::Path;

use super::*;
use crate::config::{self, Config};
use crate::fsm::PeerGr;
use crate::wire::NotificationMsg;

const LOCAL_AS: u32 = 64512;

fn cfg(peers: &str) -> Config {
    let text = format!("[router]\nasn = {LOCAL_AS}\nlisten = []\n{peers}");
    config::parse(&text, Path::new("t.toml")).unwrap()
}

fn one(peer: &str) -> PeerCfg {
    cfg(&format!("[[peer]]\n{peer}")).peers.remove(0)
}

fn neg(peer_as: u32, gr: Option<u16>) -> Negotiated {
    Negotiated {
        peer_gr: gr.map(|t| PeerGr {
            restarting: false,
            notification: false,
            restart_time: t,
            preserved: vec![],
        }),
        ..Negotiated::plain(
            peer_as,
            Ipv4Addr::new(198, 18, 0, 2),
            vec![Family::IPV4_UNICAST],
        )
    }
}

#[test]
fn session_cfg_maps_the_peer_settings() {
    let p =
        one("address = \"198.18.0.2\"\nasn = 65001\nhold_time = 9\nkeepalive = 2\npassive = true");
    let id = Ipv4Addr::new(198, 18, 0, 1);
    let s = session_cfg(&p, "198.18.0.2".parse().unwrap(), LOCAL_AS, id);
    assert_eq!(s.local_as, LOCAL_AS);
    assert_eq!(s.local_id, id);
    assert_eq!(s.remote_as, RemoteAs::Exact(65001));
    assert!(s.passive);
    assert_eq!((s.hold_time, s.keepalive), (9, Some(2)));
    assert_eq!(s.connect_retry, CONNECT_RETRY);
    assert_eq!(s.connect_retry_max, CONNECT_RETRY_MAX);
    let other = session_cfg(&p, "198.18.0.3".parse().unwrap(), LOCAL_AS, id);
    assert_ne!(s.jitter_seed, other.jitter_seed, "seeded by the address");
    let internal = one("address = \"198.18.0.2\"\nasn = \"internal\"");
    let s = session_cfg(&internal, "198.18.0.2".parse().unwrap(), LOCAL_AS, id);
    assert_eq!(s.remote_as, RemoteAs::Internal);
    assert!(!s.passive);
    let range = one("address = \"198.18.0.0/24\"\nasn = \"external\"\npassive = true");
    let s = session_cfg(&range, "198.18.0.9".parse().unwrap(), LOCAL_AS, id);
    assert_eq!(s.remote_as, RemoteAs::External);
    assert!(s.passive);
}

#[test]
fn capabilities_follow_families_add_path_and_gr() {
    let p = one("address = \"198.18.0.2\"\nasn = 65001\nadd_path = \"both\"");
    let caps = capabilities(&p, LOCAL_AS, false);
    assert!(caps.contains(&Capability::Multiprotocol(Family::IPV4_UNICAST)));
    assert!(caps.contains(&Capability::Multiprotocol(Family::IPV6_UNICAST)));
    assert!(caps.contains(&Capability::RouteRefresh));
    assert!(caps.contains(&Capability::EnhancedRouteRefresh));
    assert!(caps.contains(&Capability::FourOctetAs(LOCAL_AS)));
    assert!(caps.contains(&Capability::ExtendedMessage));
    assert!(caps.contains(&Capability::AddPath(vec![
        AddPathFamily {
            family: Family::IPV4_UNICAST,
            mode: cap::AddPathMode::Both
        },
        AddPathFamily {
            family: Family::IPV6_UNICAST,
            mode: cap::AddPathMode::Both
        },
    ])));
    let gr = caps.iter().find_map(|c| match c {
        Capability::GracefulRestart(g) => Some(g.clone()),
        _ => None,
    });
    let gr = gr.expect("graceful restart is on by default");
    assert_eq!(gr.time, GR_RESTART_TIME);
    assert!(gr.families.iter().all(|f| f.forwarding));
    assert!(
        gr.notification && !gr.restart,
        "N bit on; R is set per start"
    );
    assert_eq!(gr.families.len(), 2);
    assert!(
        !caps
            .iter()
            .any(|c| matches!(c, Capability::ExtendedNextHop(_))),
        "no extended next hop on an IPv4 session"
    );
}

#[test]
fn capabilities_without_add_path_or_gr_and_with_ext_next_hop() {
    let p = one(
        "address = \"2001:db8::2\"\nasn = 65001\nfamilies = [\"ipv4\"]\ngraceful_restart = false",
    );
    let caps = capabilities(&p, LOCAL_AS, true);
    assert!(!caps.iter().any(|c| matches!(c, Capability::AddPath(_))));
    assert!(!caps
        .iter()
        .any(|c| matches!(c, Capability::GracefulRestart(_))));
    assert!(!caps.contains(&Capability::Multiprotocol(Family::IPV6_UNICAST)));
    assert!(caps.contains(&Capability::ExtendedNextHop(vec![ExtNextHop {
        nlri_afi: 1,
        nlri_safi: 1,
        next_hop_afi: 2
    }])));
    let v6only = one("address = \"2001:db8::2\"\nasn = 65001\nfamilies = [\"ipv6\"]");
    let caps = capabilities(&v6only, LOCAL_AS, true);
    assert!(!caps
        .iter()
        .any(|c| matches!(c, Capability::ExtendedNextHop(_))));
}

#[test]
fn transport_ttl_gtsm_and_source() {
    let ebgp =
        one("address = \"198.18.0.2\"\nasn = 65001\nport = 1179\nsource_address = \"198.18.0.1\"");
    let t = transport(&ebgp, "198.18.0.2".parse().unwrap(), LOCAL_AS).unwrap();
    assert_eq!(t.remote, "198.18.0.2:1179".parse().unwrap());
    assert_eq!(t.local, Some("198.18.0.1".parse().unwrap()));
    assert_eq!((t.ttl, t.gtsm, t.passive), (1, false, false));
    assert_eq!(t.md5_key, None);
    let ibgp = one("address = \"198.18.0.2\"\nasn = 64512");
    assert_eq!(
        transport(&ibgp, "198.18.0.2".parse().unwrap(), LOCAL_AS)
            .unwrap()
            .ttl,
        IBGP_TTL
    );
    let gtsm = one("address = \"198.18.0.2\"\nasn = 64512\nttl_security = true");
    let t = transport(&gtsm, "198.18.0.2".parse().unwrap(), LOCAL_AS).unwrap();
    assert_eq!((t.ttl, t.gtsm), (1, true));
    let hop = one("address = \"198.18.0.2\"\nasn = 65001\nmultihop = 3\nttl_security = true");
    let t = transport(&hop, "198.18.0.2".parse().unwrap(), LOCAL_AS).unwrap();
    assert_eq!((t.ttl, t.gtsm), (3, true));
}

#[test]
fn md5_key_is_read_without_trailing_newline_and_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("wren-md5-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("tor1.key");
    std::fs::write(&f, "s3cret\r\n").unwrap();
    assert_eq!(read_md5_key(&f).unwrap(), b"s3cret");
    let p = one(&format!(
        "address = \"198.18.0.2\"\nasn = 65001\npassword_file = \"{}\"",
        f.display()
    ));
    let t = transport(&p, "198.18.0.2".parse().unwrap(), LOCAL_AS).unwrap();
    assert_eq!(t.md5_key.as_deref(), Some(&b"s3cret"[..]));
    std::fs::write(&f, "\n").unwrap();
    let e = read_md5_key(&f).unwrap_err().to_string();
    assert!(e.contains("tor1.key") && e.contains("empty"), "{e}");
    std::fs::write(&f, "x".repeat(81)).unwrap();
    assert!(read_md5_key(&f).is_err());
    let missing = dir.join("missing.key");
    let e = read_md5_key(&missing).unwrap_err().to_string();
    assert!(e.contains("missing.key"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn filters_follow_rfc_8212() {
    assert_eq!(filter(None, true, &[]), Filter::AcceptAll);
    assert_eq!(filter(None, false, &[]), Filter::RejectAll);
    assert_eq!(filter(Some("accept-all"), false, &[]), Filter::AcceptAll);
    assert_eq!(filter(Some("reject-all"), true, &[]), Filter::RejectAll);
    assert_eq!(filter(Some("undefined"), true, &[]), Filter::RejectAll);
    let defs = [crate::config::PolicyCfg {
        name: "edge".into(),
        default: crate::config::PolicyVerdict::Accept,
        rules: Vec::new(),
    }];
    match filter(Some("edge"), false, &defs) {
        Filter::Policy(p) => assert_eq!(p.name, "edge"),
        other => panic!("want the edge policy, got {other:?}"),
    }
}

#[test]
fn peer_info_from_an_established_session() {
    let p = one("address = \"198.18.0.2\"\nasn = 65001\nroute_reflector_client = false\nmax_prefix = 10\nimport = \"accept-all\"\nnext_hop = \"self\"");
    let host = Host {
        addrs: vec![super::super::host::IfAddr {
            iface: "eth0".into(),
            addr: "2001:db8::1".parse().unwrap(),
            prefix_len: 64,
        }],
    };
    let addrs = SessionAddrs {
        local: "198.18.0.1:40000".parse().unwrap(),
        remote: "198.18.0.2:179".parse().unwrap(),
    };
    let info = peer_info(3, "tor1", &p, neg(65001, None), addrs, LOCAL_AS, &host, &[]);
    assert_eq!(info.id, 3);
    assert_eq!(info.name, "tor1");
    assert_eq!(info.local, "198.18.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(info.remote, "198.18.0.2".parse::<IpAddr>().unwrap());
    assert_eq!(info.local_v4, Some(Ipv4Addr::new(198, 18, 0, 1)));
    assert_eq!(info.local_v6, Some("2001:db8::1".parse().unwrap()));
    assert_eq!(info.link_local, None);
    assert!(!info.ibgp);
    assert_eq!(info.asn, 65001);
    assert_eq!(info.import, Filter::AcceptAll);
    assert_eq!(info.export, Filter::RejectAll, "RFC 8212 without export");
    assert_eq!(info.max_prefix, Some(10));
    assert_eq!(info.next_hop, crate::config::NextHopMode::SelfAddr);
    // An IPv4 peer seen through an IPv6 listener is the IPv4 address.
    let mapped = SessionAddrs {
        local: "[::ffff:198.18.0.1]:179".parse().unwrap(),
        remote: "[::ffff:198.18.0.2]:40000".parse().unwrap(),
    };
    let info = peer_info(
        3,
        "tor1",
        &p,
        neg(LOCAL_AS, None),
        mapped,
        LOCAL_AS,
        &host,
        &[],
    );
    assert_eq!(info.local, "198.18.0.1".parse::<IpAddr>().unwrap());
    assert!(info.ibgp);
    assert_eq!(info.export, Filter::AcceptAll);
}

#[test]
fn stale_time_only_for_gr_peers_without_notification() {
    let p = one("address = \"198.18.0.2\"\nasn = 65001");
    let tcp = DownReason::Transport("reset by peer".into());
    assert_eq!(
        stale_time(&p, Some(&neg(65001, Some(30))), &tcp),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        stale_time(&p, Some(&neg(65001, Some(4000))), &tcp),
        Some(STALE_MAX),
        "capped"
    );
    assert_eq!(stale_time(&p, Some(&neg(65001, None)), &tcp), None);
    assert_eq!(stale_time(&p, Some(&neg(65001, Some(0))), &tcp), None);
    assert_eq!(stale_time(&p, None, &tcp), None);
    let n = NotificationMsg {
        code: 6,
        subcode: 2,
        data: vec![],
    };
    let with_gr = neg(65001, Some(30));
    assert_eq!(
        stale_time(
            &p,
            Some(&with_gr),
            &DownReason::NotificationReceived(n.clone())
        ),
        None
    );
    assert_eq!(
        stale_time(
            &p,
            Some(&with_gr),
            &DownReason::NotificationSent(n.clone(), "x".into())
        ),
        None
    );
    assert_eq!(stale_time(&p, Some(&with_gr), &DownReason::Stopped), None);
    // RFC 8538: with the N bit on both sides a NOTIFICATION keeps the routes as stale,
    // except a Cease/Hard Reset.
    let mut with_n = with_gr.clone();
    with_n.peer_gr.as_mut().unwrap().notification = true;
    let got = stale_time(
        &p,
        Some(&with_n),
        &DownReason::NotificationReceived(n.clone()),
    );
    assert_eq!(got, Some(Duration::from_secs(30)));
    let hold = NotificationMsg::hold_timer_expired();
    let got = stale_time(
        &p,
        Some(&with_n),
        &DownReason::NotificationSent(hold, "x".into()),
    );
    assert_eq!(got, Some(Duration::from_secs(30)));
    let hard = NotificationMsg::new(6, 9, vec![6, 2]);
    let got = stale_time(&p, Some(&with_n), &DownReason::NotificationReceived(hard));
    assert_eq!(got, None, "Hard Reset ends graceful restart");
    let off = one("address = \"198.18.0.2\"\nasn = 65001\ngraceful_restart = false");
    assert_eq!(stale_time(&off, Some(&with_gr), &tcp), None);
}
