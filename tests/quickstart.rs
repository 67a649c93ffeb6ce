//! The quick start's 3-node mesh (examples/quickstart.rs) converges: every node's FIB
//! holds the other two blocks via the right next hop, and its own as a blackhole.

#[allow(dead_code)]
#[path = "../examples/quickstart.rs"]
mod quickstart;

use std::net::IpAddr;

/// Own addresses and port, so that the example can run beside this test.
const FIRST: u8 = 31;
const PORT: u16 = 21179;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_node_mesh_converges() {
    let nodes = quickstart::nodes(FIRST);
    let mesh = quickstart::start(&nodes, PORT).await.unwrap();
    let (views, ok) = quickstart::wait(&nodes, &mesh).await.unwrap();
    assert!(ok, "not converged: {views:#?}");
    for (me, v) in nodes.iter().zip(&views) {
        assert_eq!(v.fib.len(), 3, "{}: {:?}", me.name, v.fib);
        for other in nodes.iter().filter(|n| n.name != me.name) {
            let r = v.fib.iter().find(|r| r.prefix == other.block);
            let r = r.unwrap_or_else(|| panic!("{} lacks {}", me.name, other.block));
            assert_eq!(r.kind, "unicast");
            assert_eq!(r.next_hops, vec![IpAddr::V4(other.addr)], "{}", me.name);
        }
        let own = v.fib.iter().find(|r| r.prefix == me.block).unwrap();
        assert_eq!(own.kind, "blackhole");
        assert!(v.peers.iter().all(|p| p.state == "established"));
        assert!(v.peers.iter().all(|p| p.accepted == 1 && p.advertised >= 1));
    }
    for h in mesh {
        h.shutdown().await;
    }
}

#[test]
fn configs_are_valid_and_connect_only_to_earlier_nodes() {
    let nodes = quickstart::nodes(FIRST);
    for i in 0..nodes.len() {
        let text = quickstart::config(&nodes, i, PORT);
        let path = std::path::Path::new("q.toml");
        let cfg = wren::config::parse(&text, path).unwrap();
        let warnings = wren::config::validate(&cfg, path).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(cfg.peers.len(), 2);
        for p in &cfg.peers {
            let j = nodes
                .iter()
                .position(|n| Some(n.name.clone()) == p.name)
                .unwrap();
            assert_eq!(p.passive, j > i, "{text}");
        }
        assert_eq!(cfg.originate.len(), 1);
    }
}
