use std::path::Path;

use super::*;
use crate::config::parse;

const BASE: &str = r#"
[router]
asn = 64512
router_id = "198.18.0.1"
listen = []

[[peer]]
name = "tor1"
address = "198.18.0.2"
asn = 65001
import = "accept-all"
export = "pol"

[[peer]]
name = "tor2"
address = "198.18.0.3"
asn = 65002

[[peer]]
name = "range"
address = "198.18.1.0/24"
asn = "external"
passive = true

[[originate]]
prefix = "198.19.0.0/24"

[[policy]]
name = "pol"
default = "accept"
"#;

fn cfg(text: &str) -> Config {
    parse(text, Path::new("t.toml")).unwrap()
}

/// The base config with `from` replaced by `to` (which must occur).
fn edit(from: &str, to: &str) -> Config {
    assert!(BASE.contains(from), "{from}");
    cfg(&BASE.replacen(from, to, 1))
}

fn lines(d: &[ConfigDelta]) -> Vec<String> {
    d.iter().map(ToString::to_string).collect()
}

#[test]
fn the_same_config_has_no_deltas() {
    assert_eq!(diff(&cfg(BASE), &cfg(BASE)), Vec::new());
}

#[test]
fn each_kind_of_edit_gives_its_delta() {
    // (edit from, edit to, expected summary lines, needs a session reset)
    let table: &[(&str, &str, &[&str], bool)] = &[
        (
            "asn = 65001\n",
            "asn = 65001\nhold_time = 30\n",
            &["peer tor1: hold_time 90 → 30"],
            true,
        ),
        (
            "asn = 65001\n",
            "asn = 65009\n",
            &["peer tor1: asn 65001 → 65009"],
            true,
        ),
        (
            "asn = 65001\n",
            "asn = 65001\nfamilies = [\"ipv4-unicast\"]\n",
            &["peer tor1: families [\"ipv4-unicast\",\"ipv6-unicast\"] → [\"ipv4-unicast\"]"],
            true,
        ),
        (
            "asn = 65001\n",
            "asn = 65001\nadd_path = \"both\"\ngraceful_restart = false\n",
            &["peer tor1: add_path off → both, graceful_restart true → false"],
            true,
        ),
        (
            "asn = 65001\n",
            "asn = 65001\nport = 1179\nmultihop = 2\n",
            &["peer tor1: port 179 → 1179, multihop - → 2"],
            true,
        ),
        (
            "asn = 65001\n",
            "asn = 65001\npassive = true\nsource_address = \"198.18.0.1\"\n",
            &["peer tor1: passive false → true, source_address - → 198.18.0.1"],
            true,
        ),
        (
            "name = \"tor1\"",
            "name = \"leaf1\"",
            &["peer tor1: name tor1 → leaf1"],
            false,
        ),
        (
            "export = \"pol\"",
            "export = \"reject-all\"\nnext_hop = \"self\"\nmax_prefix = 10",
            &["peer tor1: export pol → reject-all, next_hop auto → self, max_prefix - → 10"],
            false,
        ),
        (
            "asn = 65002\n",
            "asn = 65002\nroute_reflector_client = true\n",
            &["peer tor2: route_reflector_client false → true"],
            false,
        ),
        (
            "asn = \"external\"\n",
            "asn = \"external\"\nhold_time = 9\n",
            &["peer range: hold_time 90 → 9"],
            true,
        ),
    ];
    for (from, to, want, reset) in table {
        let d = diff(&cfg(BASE), &edit(from, to));
        assert_eq!(lines(&d), *want, "{to}");
        assert_eq!(d[0].needs_reset(), *reset, "{to}");
    }
}

#[test]
fn peers_added_and_removed_are_matched_by_address() {
    let new = BASE.replace("198.18.0.3", "198.18.0.9");
    let d = diff(&cfg(BASE), &cfg(&new));
    assert_eq!(lines(&d), ["peer tor2 removed", "peer tor2 added"]);
    let ConfigDelta::PeerAdded(p) = &d[1] else {
        panic!("{d:?}")
    };
    assert_eq!(p.address.to_string(), "198.18.0.9");
    // A range is matched by its prefix.
    let new = BASE.replace("198.18.1.0/24", "198.18.2.0/24");
    assert_eq!(
        lines(&diff(&cfg(BASE), &cfg(&new))),
        ["peer range removed", "peer range added"]
    );
    // Reordering peers changes nothing.
    let a = cfg(BASE);
    let mut b = a.clone();
    b.peers.reverse();
    assert_eq!(diff(&a, &b), Vec::new());
}

#[test]
fn originate_router_policy_and_restart_sections() {
    let table: &[(&str, &str, &[&str])] = &[
        (
            "prefix = \"198.19.0.0/24\"",
            "prefix = \"198.19.0.0/24\"\nblackhole = true",
            &["originate 198.19.0.0/24: blackhole false → true"],
        ),
        (
            "prefix = \"198.19.0.0/24\"",
            "prefix = \"198.19.1.0/24\"",
            &[
                "originate 198.19.0.0/24 removed",
                "originate 198.19.1.0/24 added",
            ],
        ),
        (
            "router_id = \"198.18.0.1\"",
            "router_id = \"198.18.0.7\"\ncluster_id = \"1.2.3.4\"",
            &["router: router_id 198.18.0.1 → 198.18.0.7, cluster_id - → 1.2.3.4"],
        ),
        (
            "default = \"accept\"",
            "default = \"reject\"",
            &["policy pol changed (peers tor1)"],
        ),
        (
            "[[originate]]",
            "[fib]\necmp = false\n\n[[originate]]",
            &["[fib]: ecmp true → false (applied at the next restart)"],
        ),
        (
            "listen = []",
            "listen = [\"127.0.0.1:1179\"]\n[log]\nlevel = \"debug\"",
            &[
                "router: listen [] → [\"127.0.0.1:1179\"] (listen: applied at the next restart)",
                "[log]: level info → debug (applied at the next restart)",
            ],
        ),
    ];
    for (from, to, want) in table {
        assert_eq!(lines(&diff(&cfg(BASE), &edit(from, to))), *want, "{to}");
    }
    let asn = diff(&cfg(BASE), &edit("asn = 64512", "asn = 64513"));
    assert!(asn[0].needs_reset(), "{asn:?}");
    let listen = diff(
        &cfg(BASE),
        &edit("listen = []", "listen = [\"127.0.0.1:1\"]"),
    );
    assert!(!listen[0].needs_reset(), "{listen:?}");
}
