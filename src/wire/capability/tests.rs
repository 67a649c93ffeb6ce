use super::*;

fn enc(c: &Capability) -> Vec<u8> {
    let mut out = Vec::new();
    c.encode(&mut out).expect("encodes");
    out
}

/// Decode code+len+value bytes and check that encoding gives them back.
fn round(bytes: &[u8]) -> Capability {
    assert_eq!(bytes[1] as usize, bytes.len() - 2, "test vector length");
    let c = Capability::decode(bytes[0], &bytes[2..]);
    assert_eq!(enc(&c), bytes, "re-encoding {c:?}");
    c
}

fn unknown(code: u8, value: &[u8]) -> Capability {
    Capability::Unknown {
        code,
        value: value.to_vec(),
    }
}

#[test]
fn multiprotocol() {
    let c = round(&[1, 4, 0, 2, 0, 1]);
    assert_eq!(c, Capability::Multiprotocol(Family::IPV6_UNICAST));
    assert_eq!(c.code(), 1);
    assert_eq!(c.multiprotocol_family(), Some(Family::IPV6_UNICAST));
    // Reserved octet set: raw, but still read as a family (RFC 4760 §8 "ignored").
    let c = round(&[1, 4, 0, 1, 7, 1]);
    assert_eq!(c, unknown(1, &[0, 1, 7, 1]));
    assert_eq!(c.multiprotocol_family(), Some(Family::IPV4_UNICAST));
    assert_eq!(round(&[1, 3, 0, 1, 0]), unknown(1, &[0, 1, 0]));
    assert_eq!(unknown(1, &[0, 1, 0]).multiprotocol_family(), None);
    assert_eq!(Capability::RouteRefresh.multiprotocol_family(), None);
}

#[test]
fn empty_valued_capabilities() {
    assert_eq!(round(&[2, 0]), Capability::RouteRefresh);
    assert_eq!(round(&[6, 0]), Capability::ExtendedMessage);
    assert_eq!(round(&[70, 0]), Capability::EnhancedRouteRefresh);
    assert_eq!(round(&[2, 1, 9]), unknown(2, &[9]));
    assert_eq!(round(&[6, 1, 0]), unknown(6, &[0]));
    assert_eq!(round(&[70, 2, 0, 0]), unknown(70, &[0, 0]));
    // Cisco's pre-standard route refresh stays unknown.
    assert_eq!(round(&[128, 0]), unknown(128, &[]));
}

#[test]
fn extended_next_hop() {
    let c = round(&[5, 12, 0, 1, 0, 1, 0, 2, 0, 1, 0, 128, 0, 2]);
    let Capability::ExtendedNextHop(v) = &c else {
        panic!("{c:?}")
    };
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].family(), Some(Family::IPV4_UNICAST));
    assert_eq!(v[0].next_hop_afi, 2);
    assert_eq!(v[1].nlri_safi, 128);
    let odd = ExtNextHop {
        nlri_afi: 1,
        nlri_safi: 0x100,
        next_hop_afi: 2,
    };
    assert_eq!(odd.family(), None);
    assert_eq!(round(&[5, 5, 0, 1, 0, 1, 0]), unknown(5, &[0, 1, 0, 1, 0]));
}

#[test]
fn role() {
    assert_eq!(round(&[9, 1, 3]), Capability::Role(BgpRole::Customer));
    assert_eq!(
        round(&[9, 1, 200]),
        Capability::Role(BgpRole::Unassigned(200))
    );
    assert_eq!(round(&[9, 0]), unknown(9, &[]));
    assert_eq!(round(&[9, 2, 0, 0]), unknown(9, &[0, 0]));
    for v in 0..=255u8 {
        let r = BgpRole::from(v);
        assert_eq!(u8::from(r), v);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<BgpRole>(&json).unwrap(), r);
    }
    assert_eq!(
        serde_json::to_string(&BgpRole::RouteServerClient).unwrap(),
        "\"rs-client\""
    );
    assert_eq!(
        BgpRole::Provider.expected_peer_role(),
        Some(BgpRole::Customer)
    );
    assert_eq!(
        BgpRole::RouteServer.expected_peer_role(),
        Some(BgpRole::RouteServerClient)
    );
    assert_eq!(BgpRole::Peer.expected_peer_role(), Some(BgpRole::Peer));
    assert_eq!(BgpRole::Unassigned(7).expected_peer_role(), None);
    assert!("nobody".parse::<BgpRole>().is_err());
}

#[test]
fn graceful_restart() {
    // R and N set, time 120, IPv4 unicast with F, IPv6 unicast without.
    let c = round(&[64, 10, 0xc0, 0x78, 0, 1, 1, 0x80, 0, 2, 1, 0]);
    let Capability::GracefulRestart(gr) = &c else {
        panic!("{c:?}")
    };
    assert!(gr.restart && gr.notification);
    assert_eq!(gr.reserved_flags, 0);
    assert_eq!(gr.time, 120);
    assert_eq!(gr.families.len(), 2);
    assert!(gr.families[0].forwarding && !gr.families[1].forwarding);
    // Reserved bits and the maximum time survive.
    let c = round(&[64, 6, 0x3f, 0xff, 0, 1, 1, 0x41]);
    let Capability::GracefulRestart(gr) = &c else {
        panic!("{c:?}")
    };
    assert!(!gr.restart && !gr.notification);
    assert_eq!((gr.reserved_flags, gr.time), (3, 4095));
    assert_eq!(gr.families[0].reserved_flags, 0x41);
    // Helper-only: no families.
    assert!(matches!(
        round(&[64, 2, 0, 90]),
        Capability::GracefulRestart(_)
    ));
    assert_eq!(round(&[64, 1, 0]), unknown(64, &[0]));
    assert_eq!(
        round(&[64, 5, 0, 0, 0, 1, 1]),
        unknown(64, &[0, 0, 0, 1, 1])
    );
}

#[test]
fn graceful_restart_refuses_unencodable_values() {
    let mut gr = GracefulRestart {
        restart: false,
        notification: false,
        reserved_flags: 0,
        time: 4096,
        families: vec![],
    };
    let mut out = vec![7];
    assert!(Capability::GracefulRestart(gr.clone())
        .encode(&mut out)
        .is_err());
    assert_eq!(out, [7], "output restored on error");
    gr.time = 1;
    gr.reserved_flags = 4;
    assert!(Capability::GracefulRestart(gr.clone())
        .encode(&mut out)
        .is_err());
    gr.reserved_flags = 0;
    gr.families.push(GrFamily {
        family: Family::IPV4_UNICAST,
        forwarding: true,
        reserved_flags: 0x80,
    });
    assert!(Capability::GracefulRestart(gr).encode(&mut out).is_err());
}

#[test]
fn four_octet_as() {
    assert_eq!(
        round(&[65, 4, 0, 0, 0xfd, 0xe8]),
        Capability::FourOctetAs(65000)
    );
    assert_eq!(
        round(&[65, 4, 0xfa, 0x56, 0xea, 0x00]),
        Capability::FourOctetAs(4_200_000_000)
    );
    assert_eq!(round(&[65, 2, 0xfd, 0xe8]), unknown(65, &[0xfd, 0xe8]));
}

#[test]
fn add_path() {
    let c = round(&[69, 8, 0, 1, 1, 3, 0, 2, 1, 1]);
    assert_eq!(
        c,
        Capability::AddPath(vec![
            AddPathFamily {
                family: Family::IPV4_UNICAST,
                mode: AddPathMode::Both
            },
            AddPathFamily {
                family: Family::IPV6_UNICAST,
                mode: AddPathMode::Receive
            },
        ])
    );
    assert!(AddPathMode::Both.sends() && AddPathMode::Both.receives());
    assert!(AddPathMode::Send.sends() && !AddPathMode::Send.receives());
    assert!(!AddPathMode::Receive.sends() && AddPathMode::Receive.receives());
    // Mode 0 or 4 is not defined: the whole capability stays raw.
    assert_eq!(round(&[69, 4, 0, 1, 1, 0]), unknown(69, &[0, 1, 1, 0]));
    assert_eq!(round(&[69, 4, 0, 1, 1, 4]), unknown(69, &[0, 1, 1, 4]));
    assert_eq!(round(&[69, 3, 0, 1, 1]), unknown(69, &[0, 1, 1]));
}

#[test]
fn long_lived_gr() {
    let c = round(&[
        71, 14, 0, 1, 1, 0x80, 0, 0x0e, 0x10, 0, 2, 1, 0x01, 0xff, 0xff, 0xff,
    ]);
    let Capability::LongLivedGr(v) = &c else {
        panic!("{c:?}")
    };
    assert_eq!(v[0].stale_time, 3600);
    assert!(v[0].forwarding);
    assert_eq!(v[1].reserved_flags, 1);
    assert_eq!(v[1].stale_time, 0x00ff_ffff);
    assert_eq!(
        round(&[71, 6, 0, 1, 1, 0, 0, 0]),
        unknown(71, &[0, 1, 1, 0, 0, 0])
    );
    let too_long = LlgrFamily {
        family: Family::IPV4_UNICAST,
        forwarding: false,
        reserved_flags: 0,
        stale_time: 1 << 24,
    };
    assert!(Capability::LongLivedGr(vec![too_long])
        .encode(&mut Vec::new())
        .is_err());
}

#[test]
fn fqdn() {
    let c = round(b"\x49\x0b\x05node1\x04test");
    assert_eq!(
        c,
        Capability::Fqdn {
            hostname: "node1".into(),
            domain: "test".into()
        }
    );
    assert_eq!(
        round(b"\x49\x02\x00\x00"),
        Capability::Fqdn {
            hostname: String::new(),
            domain: String::new()
        }
    );
    // Truncated, trailing bytes, bad UTF-8: raw.
    assert_eq!(round(b"\x49\x04\x05ab\x00"), unknown(73, b"\x05ab\x00"));
    assert_eq!(round(b"\x49\x03\x00\x00x"), unknown(73, b"\x00\x00x"));
    assert_eq!(round(b"\x49\x01\x00"), unknown(73, b"\x00"));
    assert_eq!(round(b"\x49\x00"), unknown(73, b""));
    assert_eq!(round(b"\x49\x03\x01\xff\x00"), unknown(73, b"\x01\xff\x00"));
    let long = Capability::Fqdn {
        hostname: "x".repeat(256),
        domain: String::new(),
    };
    assert!(long.encode(&mut Vec::new()).is_err());
}

#[test]
fn unknown_and_oversized() {
    assert_eq!(round(&[200, 3, 1, 2, 3]), unknown(200, &[1, 2, 3]));
    let big = unknown(200, &[0; 256]);
    let mut out = vec![1, 2];
    assert!(big.encode(&mut out).is_err());
    assert_eq!(out, [1, 2]);
    assert_eq!(enc(&unknown(200, &[0; 255])).len(), 257);
}

#[test]
fn codes_match_the_iana_registry() {
    let cases = [
        (Capability::Multiprotocol(Family::IPV4_UNICAST), 1),
        (Capability::RouteRefresh, 2),
        (Capability::ExtendedNextHop(vec![]), 5),
        (Capability::ExtendedMessage, 6),
        (Capability::Role(BgpRole::Peer), 9),
        (Capability::FourOctetAs(1), 65),
        (Capability::AddPath(vec![]), 69),
        (Capability::EnhancedRouteRefresh, 70),
        (Capability::LongLivedGr(vec![]), 71),
        (unknown(128, &[]), 128),
    ];
    for (c, code) in cases {
        assert_eq!(c.code(), code, "{c:?}");
        assert_eq!(enc(&c)[0], code);
        assert!(!c.to_string().is_empty());
    }
}

#[test]
fn every_value_decodes_without_panicking_and_round_trips() {
    // Small exhaustive sweep: every known code with every value of up to 2 octets.
    let codes = [1u8, 2, 5, 6, 9, 64, 65, 69, 70, 71, 73, 128];
    for code in codes {
        for len in 0..=2usize {
            for n in 0..(1u32 << (8 * len)) {
                let v = &n.to_be_bytes()[4 - len..];
                let c = Capability::decode(code, v);
                let mut out = Vec::new();
                c.encode(&mut out).unwrap();
                assert_eq!(&out[2..], v, "{code} {v:?}");
            }
        }
    }
}

#[test]
fn json_form() {
    let c = Capability::GracefulRestart(GracefulRestart {
        restart: true,
        notification: false,
        reserved_flags: 0,
        time: 120,
        families: vec![GrFamily {
            family: Family::IPV4_UNICAST,
            forwarding: true,
            reserved_flags: 0,
        }],
    });
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!(
        j,
        serde_json::json!({"graceful-restart": {"restart": true, "notification": false, "time": 120,
            "families": [{"family": "ipv4-unicast", "forwarding": true}]}})
    );
    assert_eq!(serde_json::from_value::<Capability>(j).unwrap(), c);
    let j = serde_json::to_value(Capability::RouteRefresh).unwrap();
    assert_eq!(j, serde_json::json!("route-refresh"));
}
