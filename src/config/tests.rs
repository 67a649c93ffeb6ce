use std::path::Path;

use super::*;

fn p(text: &str) -> Result<Config, ConfigError> {
    parse(text, Path::new("test.toml"))
}

fn v(text: &str) -> Result<Vec<Warning>, Vec<ConfigError>> {
    validate(&p(text).expect("parses"), Path::new("test.toml"))
}

const MIN: &str = "[router]\nasn = 64512\n";

#[test]
fn minimal_config_gets_defaults() {
    let c = p(MIN).unwrap();
    assert_eq!(c.router.asn, Asn(64512));
    assert_eq!(c.router.listen.len(), 2);
    assert_eq!(c.fib.protocol, 186);
    assert_eq!(c.fib.table, 254);
    assert!(c.fib.persist);
    assert_eq!(c.fib.multipath(), 16);
    assert_eq!(c.datastore.kind, DatastoreKind::File);
    assert!(c.peers.is_empty());
    assert_eq!(v(MIN).unwrap(), vec![]);
}

#[test]
fn long_lived_stale_time_is_off_by_default_and_24_bits() {
    let peer = "[[peer]]\naddress = \"198.18.0.2\"\nasn = 65001\n";
    let c = p(&format!("{MIN}{peer}")).unwrap();
    assert_eq!(c.peers[0].long_lived_stale_time, 0);
    let ok = format!("{MIN}{peer}long_lived_stale_time = 16777215\n");
    assert!(v(&ok).is_ok());
    let big = format!("{MIN}{peer}long_lived_stale_time = 16777216\n");
    let e = v(&big).unwrap_err();
    assert!(
        e.iter()
            .any(|e| e.to_string().contains("long_lived_stale_time")),
        "{e:?}"
    );
    let no_gr = format!("{MIN}{peer}long_lived_stale_time = 60\ngraceful_restart = false\n");
    let e = v(&no_gr).unwrap_err();
    assert!(
        e.iter().any(|e| e.to_string().contains("RFC 9494 §4.1")),
        "{e:?}"
    );
}

#[test]
fn asdot_and_peer_as_keywords() {
    let c = p("[router]\nasn = \"1.10\"\n[[peer]]\naddress = \"198.18.0.2\"\nasn = \"internal\"\n[[peer]]\naddress = \"198.18.0.3\"\nasn = \"external\"\n[[peer]]\naddress = \"198.18.0.4\"\nasn = 65001\n").unwrap();
    assert_eq!(c.router.asn, Asn(65546));
    assert_eq!(c.peers[0].asn, PeerAs::Internal);
    assert_eq!(c.peers[1].asn, PeerAs::External);
    assert_eq!(c.peers[2].asn, PeerAs::Asn(Asn(65001)));
    assert_eq!(c.peers[2].hold_time, 90);
    assert_eq!(c.peers[2].keepalive_secs(), 30);
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let e = p("[router]\nasn = 1\n[[peer]]\naddress = \"198.18.0.2\"\nasn = 2\nhold_tme = 9\n")
        .unwrap_err();
    assert!(e.reason.contains("hold_tme"), "{e}");
    assert!(e.key.starts_with("peer"), "{e}");
    assert_eq!(e.line_col.map(|l| l.0), Some(6), "{e}");
    assert!(e.to_string().starts_with("test.toml:6:"), "{e}");
}

#[test]
fn bad_values_name_the_key() {
    let e = p("[router]\nasn = \"x\"\n").unwrap_err();
    assert_eq!(e.key, "router.asn");
    assert!(e.reason.contains("not an AS number"), "{e}");
    let e = p("[router]\nasn = 1\n[[peer]]\naddress = \"198.18.0.1/24\"\nasn = 2\n").unwrap_err();
    assert!(e.reason.contains("host bits"), "{e}");
    let e = p("[router]\nasn = 1\n[[peer]]\naddress = \"198.18.0.2\"\nasn = 2\nnext_hop = \"elsewhere\"\n").unwrap_err();
    assert!(e.key.contains("next_hop"), "{e}");
}

#[test]
fn semantic_errors_are_all_reported() {
    let errs = v("[router]\nasn = 23456\n[[peer]]\naddress = \"198.18.0.2\"\nasn = 64512\nhold_time = 2\n[[peer]]\naddress = \"198.18.0.2\"\nasn = 65001\nroute_reflector_client = true\nimport = \"nope\"\n[fib]\nprotocol = 3\n").unwrap_err();
    let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
    for k in [
        "router.asn",
        "peer[0].hold_time",
        "peer[1].address",
        "peer[1].route_reflector_client",
        "peer[1].import",
        "fib.protocol",
    ] {
        assert!(keys.contains(&k), "missing {k} in {keys:?}");
    }
}

#[test]
fn ecmp_limit_is_checked_and_off_means_one_path() {
    let errs = v("[router]\nasn = 1\n[fib]\necmp_max = 0\n").unwrap_err();
    assert_eq!(errs[0].key, "fib.ecmp_max", "{errs:?}");
    let c = p("[router]\nasn = 1\n[fib]\necmp = false\necmp_max = 8\n").unwrap();
    assert_eq!(c.fib.multipath(), 1);
}

#[test]
fn device_routes_parse_and_are_checked() {
    let c = p("[router]\nasn = 1\n[[fib.device_route]]\nprefix = \"10.65.0.0/16\"\ndevice = \"tunl0\"\ncross_subnet = true\n").unwrap();
    assert_eq!(c.fib.device_route.len(), 1);
    assert_eq!(c.fib.device_route[0].device, "tunl0");
    assert!(c.fib.device_route[0].cross_subnet);
    let rules = crate::fib::netlink::NetlinkFibCfg::from_config(&c.fib).rules;
    assert_eq!(rules[0].prefix.to_string(), "10.65.0.0/16");
    assert!(rules[0].cross_subnet_only);
    let errs = v("[router]\nasn = 1\n[[fib.device_route]]\nprefix = \"10.65.0.1/16\"\ndevice = \"a-very-long-device-name\"\n").unwrap_err();
    let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
    assert!(keys.contains(&"fib.device_route[0].prefix"), "{keys:?}");
    assert!(keys.contains(&"fib.device_route[0].device"), "{keys:?}");
}

#[test]
fn ebgp_without_policy_warns_rfc8212() {
    let w = v("[router]\nasn = 64512\n[[peer]]\naddress = \"198.18.0.2\"\nasn = 65001\n").unwrap();
    assert_eq!(w.len(), 2);
    assert!(w[0].message.contains("RFC 8212"));
    let w = v("[router]\nasn = 64512\n[[peer]]\naddress = \"198.18.0.2\"\nasn = 65001\nimport = \"accept-all\"\nexport = \"reject-all\"\n").unwrap();
    assert!(w.is_empty());
}

#[test]
fn ranges_must_be_passive_and_sources_match_family() {
    let errs = v("[router]\nasn = 1\n[[peer]]\naddress = \"198.18.0.0/24\"\nasn = \"internal\"\nsource_address = \"2001:db8::1\"\n").unwrap_err();
    let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
    assert!(keys.contains(&"peer[0].passive"), "{keys:?}");
    assert!(keys.contains(&"peer[0].source_address"), "{keys:?}");
}

#[test]
fn originate_checks_duplicates() {
    let errs = v("[router]\nasn = 1\n[[originate]]\nprefix = \"10.65.0.0/26\"\n[[originate]]\nprefix = \"10.65.0.0/26\"\nblackhole = true\n").unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].key, "originate[1].prefix");
}

#[test]
fn metrics_can_be_disabled() {
    let c = p("[router]\nasn = 1\n[metrics]\nlisten = \"\"\n").unwrap();
    assert_eq!(c.metrics.listen, None);
}

#[test]
fn missing_file_is_reported_with_path() {
    let errs = load(Path::new("/nonexistent/wren.toml")).unwrap_err();
    assert!(errs[0].to_string().contains("/nonexistent/wren.toml"));
}

#[test]
fn error_messages_read_well() {
    let e = p("[router]\nasn = 1\n[[peer]]\naddress = \"198.18.0.2\"\nasn = 2\nhold_tme = 9\n")
        .unwrap_err();
    let s = e.to_string();
    assert!(s.contains("unknown field `hold_tme`"), "{s}");
    assert!(!s.contains('\n'), "one line: {s}");
}

#[test]
fn etcd_mode_needs_no_router_but_file_mode_does() {
    let etcd = "[datastore]\nkind = \"etcd\"\nendpoints = [\"http://127.0.0.1:2379\"]\n";
    let c = p(etcd).unwrap();
    assert_eq!(c.router, RouterCfg::from_datastore());
    assert_eq!(v(etcd).unwrap(), vec![]);
    // File mode: the missing table is named.
    let e = p("[fib]\nenabled = false\n").unwrap_err();
    assert_eq!(e.key, "router");
    assert!(e.reason.contains("[router]"), "{e}");
    // A [router] that is there is still checked, in both modes.
    let e = p("[router]\nlisten = []\n").unwrap_err();
    assert_eq!(e.key, "router", "{e}");
    assert!(e.reason.contains("asn"), "{e}");
    let bad = format!("{etcd}[router]\nasn = 23456\n");
    let errs = v(&bad).unwrap_err();
    assert_eq!(errs[0].key, "router.asn");
    // Peers in the file are ignored in etcd mode, with a warning that names them.
    let peers = format!("{etcd}[[peer]]\naddress = \"198.18.0.2\"\nasn = 65001\n");
    let w = v(&peers).unwrap();
    assert_eq!(w[0].key, "peer");
}

const POLICIES: &str = r#"[router]
asn = 64512
[fib]
export = "kernel"
[[peer]]
address = "198.18.0.2"
asn = 65001
import = "edge-in"
export = "nope"
[[policy]]
name = "edge-in"
[[policy]]
name = "kernel"
default = "accept"
[[policy.rule]]
community = ["no-export"]
action = "reject"
[[policy]]
name = "bad"
[[policy.rule]]
add_community = ["65000:100000"]
[[policy]]
name = "edge-in"
[[policy]]
name = "reject-all"
"#;

#[test]
fn policies_are_checked_and_referenced_by_name() {
    let errs = v(POLICIES).unwrap_err();
    let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "policy[2].rule[0].add_community[0]",
            "policy[3].name",
            "policy[4].name",
            "peer[0].export"
        ]
    );
    assert!(errs[3].reason.contains("no policy named \"nope\""));
    let ok = POLICIES
        .replace("\"nope\"", "\"edge-in\"")
        .replace("65000:100000", "65000:1")
        .replace(
            "[[policy]]\nname = \"edge-in\"\n[[policy]]\nname = \"reject-all\"\n",
            "",
        );
    assert_eq!(v(&ok).unwrap(), vec![]);
    let bad_fib = ok.replace("export = \"kernel\"", "export = \"kern\"");
    let errs = v(&bad_fib).unwrap_err();
    assert_eq!(errs[0].key, "fib.export");
}
