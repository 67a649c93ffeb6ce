use super::*;
use crate::wire::capability::{AddPathMode, GrFamily};
use crate::wire::hex;

/// An OPEN body like FRR sends: AS 65001, hold 180, id 198.18.0.1, one Capabilities
/// parameter with MP IPv4/IPv6, route refresh, 4-octet AS 65001.
const FRR_BODY: &str = "04 fde9 00b4 c6120001 18 02 16 \
    01040001 0001 01040002 0001 0200 4104 0000fde9 4600";

fn bytes(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn encode(m: &OpenMsg) -> Vec<u8> {
    let mut out = Vec::new();
    m.encode_body(&mut out).unwrap();
    out
}

fn err(body: &str) -> (usize, u8, u8, Vec<u8>) {
    let e = decode(&bytes(body), 19).unwrap_err();
    (
        e.offset,
        e.notification.code,
        e.notification.subcode,
        e.notification.data,
    )
}

#[test]
fn decodes_a_typical_open_and_round_trips() {
    let body = bytes(FRR_BODY);
    let m = decode(&body, 19).unwrap();
    assert_eq!((m.version, m.my_as, m.hold_time), (4, 65001, 180));
    assert_eq!(m.bgp_id, Ipv4Addr::new(198, 18, 0, 1));
    assert!(!m.extended_params);
    assert_eq!(m.params.len(), 1);
    assert_eq!(m.capabilities().count(), 5);
    assert_eq!(m.families(), [Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
    assert_eq!(m.asn(), 65001);
    assert_eq!(m.capability(70), Some(&Capability::EnhancedRouteRefresh));
    assert_eq!(m.capability(64), None);
    assert_eq!(encode(&m), body);
}

#[test]
fn no_parameters_and_empty_capabilities_parameter() {
    let m = decode(&bytes("04 fde9 005a 01020304 00"), 19).unwrap();
    assert!(m.params.is_empty());
    assert_eq!(m.asn(), 65001);
    assert!(m.families().is_empty());
    assert_eq!(encode(&m), bytes("04 fde9 005a 01020304 00"));
    let m = decode(&bytes("04 fde9 005a 01020304 02 0200"), 19).unwrap();
    assert_eq!(m.params, [OptParam::Capabilities(vec![])]);
    assert_eq!(encode(&m), bytes("04 fde9 005a 01020304 02 0200"));
}

#[test]
fn several_capabilities_parameters_keep_their_grouping() {
    let body = bytes("04 5ba0 00b4 01020304 14 02 06 01040001 0001 02 02 0200 02 06 4104 fa56ea00");
    let m = decode(&body, 19).unwrap();
    assert_eq!(m.params.len(), 3);
    assert_eq!(m.asn(), 4_200_000_000);
    assert_eq!(m.four_octet_as(), Some(4_200_000_000));
    assert_eq!(encode(&m), body);
}

#[test]
fn unsupported_version() {
    assert_eq!(err("03 fde9 005a 01020304 00"), (19, 2, 1, vec![0, 4]));
    assert_eq!(err("05"), (19, 2, 1, vec![0, 4]));
}

#[test]
fn length_errors_are_open_unspecific() {
    // Opt Parm Len says 3, 2 octets follow.
    assert_eq!(err("04 fde9 005a 01020304 03 0200"), (28, 2, 0, vec![]));
    // Opt Parm Len says 1, 2 octets follow.
    assert_eq!(err("04 fde9 005a 01020304 01 0200"), (28, 2, 0, vec![]));
    // Parameter length overruns.
    assert_eq!(err("04 fde9 005a 01020304 03 02 05 00"), (30, 2, 0, vec![]));
    // Parameter type with no length.
    assert_eq!(err("04 fde9 005a 01020304 01 02"), (30, 2, 0, vec![]));
    // Capability length overruns its parameter.
    assert_eq!(
        err("04 fde9 005a 01020304 04 02 02 4104"),
        (32, 2, 0, vec![])
    );
    // Capability code with no length octet.
    assert_eq!(err("04 fde9 005a 01020304 03 02 01 41"), (32, 2, 0, vec![]));
}

#[test]
fn unsupported_optional_parameters() {
    // Type 1 (authentication, deprecated).
    assert_eq!(
        err("04 fde9 005a 01020304 04 01 02 abcd"),
        (29, 2, 4, vec![])
    );
    // Type 255 anywhere but the marker position (RFC 9072 §3).
    assert_eq!(
        err("04 fde9 005a 01020304 04 0200 ff00"),
        (31, 2, 4, vec![])
    );
    // Extended form with a type 255 parameter inside.
    assert_eq!(
        err("04 fde9 005a 01020304 ff ff 0003 ff0000"),
        (32, 2, 4, vec![])
    );
}

#[test]
fn truncated_fixed_fields() {
    let (off, code, sub, data) = err("04 fde9 00");
    assert_eq!((off, code, sub, data), (22, 1, 2, vec![0, 23]));
    assert_eq!(err(""), (19, 1, 2, vec![0, 19]));
    assert_eq!(err("04 fde9 005a 01020304"), (28, 1, 2, vec![0, 28]));
}

#[test]
fn extended_parameters() {
    let body = bytes("04 fde9 005a 01020304 ff ff 000b 02 0008 0200 4104 0000fde9");
    let m = decode(&body, 19).unwrap();
    assert!(m.extended_params);
    assert_eq!(m.capabilities().count(), 2);
    assert_eq!(encode(&m), body);
    // RFC 9072 §2: any non-zero Non-Ext OP Len, value ignored; re-encoded as 255.
    let odd = bytes("04 fde9 005a 01020304 07 ff 000b 02 0008 0200 4104 0000fde9");
    assert_eq!(decode(&odd, 19).unwrap(), m);
    // Extended with no parameters.
    let empty = decode(&bytes("04 fde9 005a 01020304 ff ff 0000"), 19).unwrap();
    assert!(empty.extended_params && empty.params.is_empty());
    assert_eq!(encode(&empty), bytes("04 fde9 005a 01020304 ff ff 0000"));
    // Opt Parm Len 0 is never extended, whatever follows.
    assert_eq!(err("04 fde9 005a 01020304 00 ff"), (28, 2, 0, vec![]));
}

#[test]
fn extended_length_errors() {
    assert_eq!(err("04 fde9 005a 01020304 ff ff 00"), (30, 2, 0, vec![]));
    assert_eq!(err("04 fde9 005a 01020304 ff ff"), (30, 2, 0, vec![]));
    assert_eq!(
        err("04 fde9 005a 01020304 ff ff 0006 02 0002 0200"),
        (30, 2, 0, vec![])
    );
    assert_eq!(
        err("04 fde9 005a 01020304 ff ff 0004 02 0002 02"),
        (33, 2, 0, vec![])
    );
    assert_eq!(
        err("04 fde9 005a 01020304 ff ff 0002 02 00"),
        (33, 2, 0, vec![])
    );
}

#[test]
fn long_parameters_switch_to_the_extended_form() {
    // 60 ADD-PATH-like unknown capabilities of 3 octets: 300 octets of capabilities.
    let caps: Vec<Capability> = (0..60)
        .map(|i| Capability::Unknown {
            code: 200,
            value: vec![i, i, i],
        })
        .collect();
    let m = OpenMsg::builder(65001, Ipv4Addr::new(198, 18, 0, 1)).build();
    let m = OpenMsg {
        params: vec![OptParam::Capabilities(caps)],
        ..m
    };
    assert!(!m.extended_params);
    let out = encode(&m);
    assert_eq!(&out[9..13], &[255, 255, 0x01, 0x2f]); // 3 + 300
    assert_eq!(&out[13..16], &[2, 0x01, 0x2c]);
    assert_eq!(out.len(), 13 + 303);
    let back = decode(&out, 19).unwrap();
    assert!(back.extended_params);
    assert_eq!(back.params, m.params);
    // Exactly 255 octets of parameters still fit the classic form.
    let m255 = OpenMsg {
        params: vec![OptParam::Unknown {
            ptype: 9,
            value: vec![0; 253],
        }],
        ..m.clone()
    };
    assert_eq!(encode(&m255)[9..11], [255, 9]);
    assert_eq!(encode(&m255).len(), 10 + 255);
    // One more octet does not.
    let m256 = OpenMsg {
        params: vec![OptParam::Unknown {
            ptype: 9,
            value: vec![0; 254],
        }],
        ..m
    };
    assert_eq!(encode(&m256)[9..14], [255, 255, 0x01, 0x01, 9]);
}

#[test]
fn encode_refuses_what_cannot_be_sent() {
    let base = OpenMsg::builder(1, Ipv4Addr::new(1, 1, 1, 1)).build();
    let bad_type = OpenMsg {
        params: vec![OptParam::Unknown {
            ptype: 255,
            value: vec![],
        }],
        ..base.clone()
    };
    assert!(bad_type.encode_body(&mut Vec::new()).is_err());
    let huge_cap = OpenMsg {
        params: vec![OptParam::Capabilities(vec![Capability::Unknown {
            code: 1,
            value: vec![0; 300],
        }])],
        ..base.clone()
    };
    assert!(huge_cap.encode_body(&mut Vec::new()).is_err());
    let too_many = OpenMsg {
        params: vec![
            OptParam::Unknown {
                ptype: 9,
                value: vec![0; 65535],
            },
            OptParam::Unknown {
                ptype: 9,
                value: vec![],
            },
        ],
        ..base
    };
    assert!(too_many.encode_body(&mut Vec::new()).is_err());
}

#[test]
fn builder() {
    let m = OpenMsg::builder(4_200_000_000, Ipv4Addr::new(198, 18, 0, 1))
        .hold_time(30)
        .family(Family::IPV4_UNICAST)
        .family(Family::IPV6_UNICAST)
        .family(Family::IPV4_UNICAST)
        .route_refresh()
        .extended_message()
        .graceful_restart(GracefulRestart {
            restart: false,
            notification: true,
            reserved_flags: 0,
            time: 120,
            families: vec![GrFamily {
                family: Family::IPV4_UNICAST,
                forwarding: false,
                reserved_flags: 0,
            }],
        })
        .add_path(vec![AddPathFamily {
            family: Family::IPV4_UNICAST,
            mode: AddPathMode::Both,
        }])
        .role(BgpRole::Peer)
        .fqdn("node1", "")
        .build();
    assert_eq!((m.version, m.my_as, m.hold_time), (4, AS_TRANS, 30));
    assert_eq!(m.asn(), 4_200_000_000);
    assert_eq!(m.families(), [Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
    let codes: Vec<u8> = m.capabilities().map(Capability::code).collect();
    assert_eq!(codes, [1, 1, 65, 2, 70, 6, 64, 69, 9, 73]);
    let body = encode(&m);
    assert_eq!(decode(&body, 19).unwrap(), m);
    let small = OpenMsg::builder(65001, Ipv4Addr::new(1, 2, 3, 4))
        .extended_params(true)
        .build();
    assert_eq!(small.my_as, 65001);
    assert_eq!(small.hold_time, DEFAULT_HOLD_TIME);
    assert_eq!(encode(&small)[9..13], [255, 255, 0, 9]);
    assert_eq!(decode(&encode(&small), 19).unwrap(), small);
}

#[test]
fn validation_helpers() {
    let mut m = decode(&bytes(FRR_BODY), 19).unwrap();
    for (hold, ok) in [(0, true), (1, false), (2, false), (3, true), (65535, true)] {
        m.hold_time = hold;
        let r = m.validate_hold_time();
        assert_eq!(r.is_ok(), ok, "{hold}");
        if let Err(n) = r {
            assert_eq!((n.code, n.subcode), (2, 6));
        }
    }
    let local = Ipv4Addr::new(198, 18, 0, 2);
    assert!(m.validate_bgp_id(local, true).is_ok());
    m.bgp_id = local;
    assert!(m.validate_bgp_id(local, false).is_ok());
    assert_eq!(
        m.validate_bgp_id(local, true).unwrap_err(),
        NotificationMsg::new(2, 3, vec![])
    );
    m.bgp_id = Ipv4Addr::UNSPECIFIED;
    assert_eq!(m.validate_bgp_id(local, false).unwrap_err().subcode, 3);
    assert!(m.validate_peer_as(65001).is_ok());
    assert_eq!(
        m.validate_peer_as(65002).unwrap_err(),
        NotificationMsg::new(2, 2, vec![])
    );
}

#[test]
fn families_reads_raw_multiprotocol_values_too() {
    // Reserved octet 0x01 in the second MP capability: raw, but the family counts.
    let m = decode(
        &bytes("04 fde9 005a 01020304 0e 02 0c 01040001 0001 01040002 0101"),
        19,
    )
    .unwrap();
    assert_eq!(m.families(), [Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
    assert!(matches!(
        m.capabilities().nth(1),
        Some(Capability::Unknown { code: 1, .. })
    ));
}

#[test]
fn every_truncation_fails_cleanly() {
    for body in [
        bytes(FRR_BODY),
        bytes("04 fde9 005a 01020304 ff ff 000b 02 0008 0200 4104 0000fde9"),
    ] {
        for n in 0..body.len() {
            let e = decode(&body[..n], 19).unwrap_err();
            assert!(e.offset >= 19 && e.offset <= 19 + n, "{n}: {e}");
        }
    }
}

#[test]
fn every_single_byte_change_is_total() {
    let body = bytes(FRR_BODY);
    for i in 0..body.len() {
        for v in [0u8, 1, 2, 0x7f, 0x80, 0xfe, 0xff] {
            let mut b = body.clone();
            b[i] = v;
            match decode(&b, 19) {
                Ok(m) if !m.extended_params => assert_eq!(encode(&m), b, "{i} {v}"),
                Ok(_) => {}
                Err(e) => assert!(e.offset >= 19 && e.offset < 19 + b.len(), "{i} {v}: {e}"),
            }
        }
    }
}

#[test]
fn json_form() {
    let m = decode(
        &bytes("04 fde9 005a 01020304 0a 02 08 4104 0000fde9 0200"),
        19,
    )
    .unwrap();
    let j = serde_json::to_value(&m).unwrap();
    assert_eq!(
        j,
        serde_json::json!({"version": 4, "my_as": 65001, "hold_time": 90, "bgp_id": "1.2.3.4",
            "params": [{"capabilities": [{"four-octet-as": 65001}, "route-refresh"]}]})
    );
    assert_eq!(serde_json::from_value::<OpenMsg>(j).unwrap(), m);
}
