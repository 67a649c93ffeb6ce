//! `[fib] learn` against a real kernel, in network namespaces `wren-fib-<test>-<pid>`
//! (needs root and iproute2; otherwise SKIPPED, which fails with WREN_REQUIRE_ALL=1):
//! another program's route (`ip route add ... proto boot`) is learned, advertised to a
//! peer through an export policy accepting `source = "kernel"`, and withdrawn when
//! deleted. Never written back to the kernel.

#[path = "fib_netns/ns.rs"]
mod ns;

use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use ns::Netns;
use wren::control::{FibRow, Request, Response};
use wren::fib::netlink::{Learned, NetlinkFib, NetlinkFibCfg};
use wren::fib::MemFib;
use wren::rib::Prefix;
use wren::speaker::SpeakerHandle;

const PORT: u16 = 1790;
const W: &str = "198.18.5.7/32";

fn pfx(s: &str) -> Prefix {
    Prefix::V4(s.parse().unwrap())
}

fn lab(test: &str) -> Option<Netns> {
    let ns = Netns::enter(test)?;
    ns.veth("veth0", "veth0p", &["198.18.0.1/24"]);
    Some(ns)
}

/// Every change the worker reports within `wait`, flattened.
fn drain(rx: &mut wren::fib::LearnedRx, wait: Duration) -> Vec<Learned> {
    let end = Instant::now() + wait;
    let mut v = Vec::new();
    while Instant::now() < end {
        match rx.try_recv() {
            Ok(batch) => v.extend(batch),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    v
}

#[test]
fn alien_routes_are_reported_and_proto_kernel_ones_not() {
    let Some(ns) = lab("learn") else { return };
    // Present before the start: in the first batch.
    ns.ip("route add 198.18.6.0/24 via 198.18.0.2 proto static");
    let cfg = NetlinkFibCfg {
        learn: true,
        ..NetlinkFibCfg::default()
    };
    let mut fib = NetlinkFib::start(cfg).unwrap();
    let mut rx = fib.take_learned().expect("learning is on");
    assert!(fib.take_learned().is_none(), "taken once");
    let first = drain(&mut rx, Duration::from_millis(300));
    // The connected 198.18.0.0/24 is proto kernel: not learned.
    assert_eq!(first, vec![Learned::Up(pfx("198.18.6.0/24"))]);
    ns.ip(&format!("route add {W} dev veth0 proto boot"));
    ns.ip("route add 198.18.8.0/24 dev veth0 proto boot table 100");
    ns.ip("route add blackhole 198.18.9.0/26 proto 80");
    let got = drain(&mut rx, Duration::from_millis(500));
    assert_eq!(
        got,
        vec![Learned::Up(pfx(W)), Learned::Up(pfx("198.18.9.0/26"))],
        "table 100 is not ours"
    );
    ns.ip(&format!("route del {W} dev veth0 proto boot"));
    let got = drain(&mut rx, Duration::from_millis(500));
    assert_eq!(got, vec![Learned::Down(pfx(W))]);
    assert_eq!(ns.count(254, "bgp"), 0, "nothing written");
    fib.close_blocking();
}

fn config(me: &str, peer: &str, learn: bool) -> String {
    let mut s = format!(
        "[router]\nasn = 64512\nrouter_id = \"{me}\"\nlisten = [\"{me}:{PORT}\"]\n\
         [metrics]\nlisten = \"\"\n\
         [[peer]]\nname = \"p\"\naddress = \"{peer}\"\nasn = 64512\nport = {PORT}\n\
         source_address = \"{me}\"\nfamilies = [\"ipv4\"]\npassive = {}\n",
        !learn
    );
    if learn {
        s += "export = \"kernel-only\"\n[fib]\nlearn = true\n\
              [[policy]]\nname = \"kernel-only\"\ndefault = \"reject\"\n\
              [[policy.rule]]\nsource = \"kernel\"\naction = \"accept\"\n";
    } else {
        s += "[fib]\ndry_run = true\n";
    }
    s
}

async fn fib_of(h: &SpeakerHandle) -> Vec<FibRow> {
    match h.request(Request::ShowFib).await.unwrap() {
        Response::Fib(f) => f,
        other => panic!("unexpected {other:?}"),
    }
}

/// Wait until B's FIB has (or lacks) W via A.
async fn wait_w(h: &SpeakerHandle, present: bool) -> Vec<FibRow> {
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        let f = fib_of(h).await;
        let has = f
            .iter()
            .any(|r| r.prefix == W && r.next_hops == vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);
        if has == present || Instant::now() > end {
            return f;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn learned_route_is_advertised_and_withdrawn() {
    let Some(ns) = lab("learnbgp") else { return };
    // Threads of this runtime start in the namespace.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let a_cfg =
            wren::config::parse(&config("127.0.0.1", "127.0.0.2", true), Path::new("a")).unwrap();
        wren::config::validate(&a_cfg, Path::new("a")).unwrap();
        let fib = NetlinkFib::start(NetlinkFibCfg::from_config(&a_cfg.fib)).unwrap();
        let a = wren::speaker::spawn(a_cfg, Box::new(fib)).await.unwrap();
        let b_cfg =
            wren::config::parse(&config("127.0.0.2", "127.0.0.1", false), Path::new("b")).unwrap();
        let b = wren::speaker::spawn(b_cfg, Box::new(MemFib::new()))
            .await
            .unwrap();
        ns.ip(&format!("route add {W} dev veth0 proto boot"));
        let f = wait_w(&b, true).await;
        assert!(
            f.iter().any(|r| r.prefix == W && r.kind == "unicast"),
            "B got the learned route via A: {f:?}"
        );
        // A learned it, but keeps it out of its own FIB (it is the kernel's).
        assert!(fib_of(&a).await.is_empty());
        match a
            .request(Request::ShowRoutes {
                peer: None,
                advertised: false,
            })
            .await
        {
            Ok(Response::Routes(rows)) => {
                assert!(
                    rows.iter().any(|r| r.prefix == W && r.peer == "kernel"),
                    "{rows:?}"
                )
            }
            other => panic!("unexpected {other:?}"),
        }
        ns.ip(&format!("route del {W} dev veth0 proto boot"));
        let f = wait_w(&b, false).await;
        assert!(f.iter().all(|r| r.prefix != W), "withdrawn: {f:?}");
        assert_eq!(ns.count(254, "bgp"), 0, "A never wrote the kernel");
        a.shutdown_withdraw().await;
        b.shutdown_withdraw().await;
    });
}
