//! Quick start: three wren speakers in one process, on 127.0.0.1, 127.0.0.2 and
//! 127.0.0.3 (port 1179, no root needed), in an iBGP full mesh. Each originates one
//! /26 block; each learns the other two and puts them in its (in-memory) FIB.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! Prints every node's peers and FIB once the mesh has converged, and exits 0; exits 1
//! if it has not converged within 10 seconds. The speakers run on the same API as
//! `wren run` ([`wren::speaker::spawn`]); their configs are the TOML `wren run` reads.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use wren::control::{FibRow, PeerRow, Request, Response};
use wren::fib::MemFib;
use wren::speaker::SpeakerHandle;

/// The local AS of the mesh (a private AS, RFC 6996).
pub const ASN: u32 = 64512;
/// How long the mesh may take to converge.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// One node of the mesh: its name, loopback address and the block it originates.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub addr: Ipv4Addr,
    pub block: String,
}

/// What one node shows: its peers and its FIB.
#[derive(Debug, Clone)]
pub struct View {
    pub peers: Vec<PeerRow>,
    pub fib: Vec<FibRow>,
}

/// The three nodes: n1..n3 on 127.0.0.{first..first+2}, blocks 10.65.0.{0,64,128}/26.
pub fn nodes(first: u8) -> Vec<Node> {
    (0..3u8)
        .map(|i| Node {
            name: format!("n{}", i + 1),
            addr: Ipv4Addr::new(127, 0, 0, first + i),
            block: format!("10.65.0.{}/26", 64 * u32::from(i)),
        })
        .collect()
}

/// The config of node `i`: listen on its address, one iBGP peer per other node. A node
/// connects to the nodes started before it and waits for the ones started after it, so
/// that no connection is refused while the mesh starts.
pub fn config(nodes: &[Node], i: usize, port: u16) -> String {
    let me = &nodes[i];
    let mut s = format!(
        "[router]\nasn = {ASN}\nrouter_id = \"{}\"\nlisten = [\"{}:{port}\"]\n\n",
        me.addr, me.addr
    );
    for (j, n) in nodes.iter().enumerate().filter(|(j, _)| *j != i) {
        s += &format!(
            "[[peer]]\nname = \"{}\"\naddress = \"{}\"\nasn = {ASN}\nport = {port}\n\
             source_address = \"{}\"\npassive = {}\nfamilies = [\"ipv4\"]\n\n",
            n.name,
            n.addr,
            me.addr,
            j > i
        );
    }
    s += &format!(
        "[[originate]]\nprefix = \"{}\"\nblackhole = true\n",
        me.block
    );
    s
}

/// Start the mesh: one speaker per node, in order.
pub async fn start(nodes: &[Node], port: u16) -> Result<Vec<SpeakerHandle>, String> {
    let mut out = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let file = format!("{}.toml", n.name);
        let cfg = wren::config::parse(&config(nodes, i, port), Path::new(&file))
            .map_err(|e| e.to_string())?;
        wren::config::validate(&cfg, Path::new(&file)).map_err(|e| format!("{}: {e:?}", n.name))?;
        let h = wren::speaker::spawn(cfg, Box::new(MemFib::new()))
            .await
            .map_err(|e| format!("{}: {e}", n.name))?;
        out.push(h);
    }
    Ok(out)
}

/// Ask every node for its peers and FIB.
pub async fn views(mesh: &[SpeakerHandle]) -> Result<Vec<View>, String> {
    let mut out = Vec::new();
    for h in mesh {
        let peers = match h.request(Request::ShowPeers).await? {
            Response::Peers(p) => p,
            other => return Err(format!("unexpected reply {other:?}")),
        };
        let fib = match h.request(Request::ShowFib).await? {
            Response::Fib(f) => f,
            other => return Err(format!("unexpected reply {other:?}")),
        };
        out.push(View { peers, fib });
    }
    Ok(out)
}

/// Converged: every session Established, and every node's FIB holds its own block as a
/// blackhole and each other node's block via that node's address.
pub fn converged(nodes: &[Node], views: &[View]) -> bool {
    nodes.iter().zip(views).all(|(me, v)| {
        let sessions_up =
            v.peers.len() == nodes.len() - 1 && v.peers.iter().all(|p| p.state == "established");
        let routes_ok = nodes.iter().all(|n| {
            let want_hops: Vec<IpAddr> = if n.name == me.name {
                vec![]
            } else {
                vec![IpAddr::V4(n.addr)]
            };
            let kind = if n.name == me.name {
                "blackhole"
            } else {
                "unicast"
            };
            v.fib
                .iter()
                .any(|r| r.prefix == n.block && r.kind == kind && r.next_hops == want_hops)
        });
        sessions_up && routes_ok && v.fib.len() == nodes.len()
    })
}

/// Poll until converged or the deadline; returns the last views and whether it converged.
pub async fn wait(nodes: &[Node], mesh: &[SpeakerHandle]) -> Result<(Vec<View>, bool), String> {
    let start = Instant::now();
    loop {
        let v = views(mesh).await?;
        if converged(nodes, &v) {
            return Ok((v, true));
        }
        if start.elapsed() > DEADLINE {
            return Ok((v, false));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Print one node's peers and FIB.
pub fn print(node: &Node, v: &View) {
    println!("{} ({}, originates {})", node.name, node.addr, node.block);
    for p in &v.peers {
        println!(
            "  peer {:<3} {:<10} {:<12} received {} accepted {} advertised {}",
            p.name, p.address, p.state, p.received, p.accepted, p.advertised
        );
    }
    for r in &v.fib {
        let hops: Vec<String> = r.next_hops.iter().map(|a| a.to_string()).collect();
        let via = if hops.is_empty() {
            String::new()
        } else {
            format!(" via {}", hops.join(" "))
        };
        println!("  fib  {:<15} {}{via}", r.prefix, r.kind);
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let nodes = nodes(1);
    let port = 1179;
    println!(
        "wren quick start: 3 speakers on 127.0.0.1-3 port {port}, iBGP full mesh in AS {ASN}, in-memory FIB\n"
    );
    let t0 = Instant::now();
    let mesh = match start(&nodes, port).await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("quickstart: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (views, ok) = match wait(&nodes, &mesh).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("quickstart: {e}");
            return ExitCode::FAILURE;
        }
    };
    for (n, v) in nodes.iter().zip(&views) {
        print(n, v);
    }
    for h in mesh {
        h.shutdown().await;
    }
    if ok {
        println!("\nconverged in {:.1} s", t0.elapsed().as_secs_f64());
        ExitCode::SUCCESS
    } else {
        println!("\nnot converged within {} s", DEADLINE.as_secs());
        ExitCode::FAILURE
    }
}
