//! What calico-node and calicoctl do with BIRD's socket, re-implemented from calico.md
//! §4.3–4.6: the same line handling, field splits and (hand-coded) regexes, so that a
//! reply they would reject fails here too.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// Each socket read has a 2 s deadline (`birdTimeOut`).
const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// One connection, commands sent in order like the status reporter does.
pub struct Conn {
    rd: BufReader<UnixStream>,
    wr: UnixStream,
}

/// A peer as `unmarshalBIRD` fills it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub peer_ip: String,
    pub peer_type: String,
    pub state: String,
    pub since: String,
    pub bgp_state: String,
    pub info: String,
}

/// The status populator's view of `show status` (`bird_status.go`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Status {
    pub ready: bool,
    pub version: String,
    pub router_id: String,
    pub server_time: String,
    pub last_boot: String,
    pub last_reconfig: String,
}

/// One route as `route.go` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub dest: String,
    pub kind: &'static str,
    pub gateway: String,
    pub iface: String,
    pub from: String,
    pub primary: bool,
}

impl Conn {
    pub fn open(socket: &Path) -> Conn {
        Conn::try_open(socket).expect("connect to the BIRD socket")
    }

    /// None while nobody listens yet.
    pub fn try_open(socket: &Path) -> Option<Conn> {
        let s = UnixStream::connect(socket).ok()?;
        s.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        Some(Conn {
            wr: s.try_clone().unwrap(),
            rd: BufReader::new(s),
        })
    }

    /// Send a command and read lines up to and including the first starting with one of
    /// `stops` (as each consumer does; the greeting is read as part of the first reply).
    pub fn ask(&mut self, cmd: &str, stops: &[&str]) -> Vec<String> {
        self.wr.write_all(format!("{cmd}\n").as_bytes()).unwrap();
        let mut lines = Vec::new();
        loop {
            let mut l = String::new();
            let n = self.rd.read_line(&mut l).expect("a reply within 2 s");
            assert!(n > 0, "connection closed after {lines:?}");
            let l = l.trim_end_matches('\n').to_string();
            let stop = stops.iter().any(|s| l.starts_with(s));
            lines.push(l);
            if stop {
                return lines;
            }
        }
    }
}

/// `scanBIRDPeers` (calicoctl, health and the status populator all use it).
pub fn scan_peers(lines: &[String], ip_sep: char) -> Result<Vec<Peer>, String> {
    let heading = ["name", "proto", "table", "state", "since", "info"];
    let mut peers = Vec::new();
    for s in lines {
        if s.starts_with("0000") {
            break;
        } else if s.starts_with("0001") {
        } else if let Some(rest) = s.strip_prefix("2002") {
            let f: Vec<&str> = rest.get(1..).unwrap_or("").split_whitespace().collect();
            if f != heading {
                return Err("unknown BIRD table output format".into());
            }
        } else if let Some(rest) = s.strip_prefix("1002") {
            peers.extend(unmarshal(rest.get(1..).unwrap_or(""), ip_sep));
        } else if let Some(rest) = s.strip_prefix(' ') {
            peers.extend(unmarshal(rest, ip_sep));
        } else {
            return Err(format!("unexpected output line from BIRD: {s:?}"));
        }
    }
    Ok(peers)
}

/// `unmarshalBIRD`: `^(Global|Node|Mesh)_(.+)$` on the name, fields split on blanks.
fn unmarshal(line: &str, ip_sep: char) -> Option<Peer> {
    let c: Vec<&str> = line.split_whitespace().collect();
    if c.len() < 6 || c[1] != "BGP" {
        return None;
    }
    let (kind, rest) = c[0].split_once('_')?;
    let peer_type = match kind {
        "Global" => "global",
        "Mesh" => "node-to-node mesh",
        "Node" => "node specific",
        _ => return None,
    };
    if rest.is_empty() {
        return None;
    }
    Some(Peer {
        peer_ip: rest.replace('_', &ip_sep.to_string()),
        peer_type: peer_type.into(),
        state: c[3].into(),
        since: c[4].into(),
        bgp_state: c[5].into(),
        info: c[6..].join(" "),
    })
}

/// `GRInProgress` (`node/pkg/health/bird/bird.go`): any unexpected line is an error.
pub fn gr_in_progress(lines: &[String]) -> Result<bool, String> {
    let mut gr = false;
    for s in lines {
        if s.starts_with("0013") {
            return Ok(gr);
        } else if s.starts_with("0024") {
            gr = true;
        } else if ["0001", "1000", "1011", " "]
            .iter()
            .any(|p| s.starts_with(p))
        {
        } else {
            return Err(format!("unexpected output line from BIRD: {s:?}"));
        }
    }
    Err("no 0013 line".into())
}

/// The status populator (`bird_status.go`).
pub fn status(lines: &[String]) -> Result<Status, String> {
    let mut st = Status::default();
    for s in lines {
        if s.starts_with("0013") {
            return Ok(st);
        }
        let text = match s.strip_prefix(' ') {
            Some(t) => t,
            None => s.get(5..).unwrap_or(""),
        };
        if text.contains("BIRD") && text.contains("ready") {
            st.ready = true;
        }
        if let Some(v) = text.strip_prefix("BIRD v") {
            st.version = format!("v{v}");
        }
        let fields = [
            ("Router ID is ", &mut st.router_id),
            ("Current server time is ", &mut st.server_time),
            ("Last reboot on ", &mut st.last_boot),
            ("Last reconfiguration on ", &mut st.last_reconfig),
        ];
        for (key, slot) in fields {
            if let Some(v) = text.strip_prefix(key) {
                *slot = v.to_string();
            }
        }
    }
    Err("no 0013 line".into())
}

/// `peers.go` `complete()`: the BGP state and neighbor address of `show protocols all`.
pub fn details(lines: &[String]) -> (String, String) {
    let (mut state, mut ip) = (String::new(), String::new());
    for l in lines {
        if l.starts_with("0000") {
            break;
        }
        if let Some(i) = l.find("BGP state:") {
            state = l[i + "BGP state:".len()..].trim().to_string();
        }
        if let Some(i) = l.find("Neighbor address:") {
            ip = l[i + "Neighbor address:".len()..].trim().to_string();
        }
    }
    (state, ip)
}

/// `route.go`: `1007-` and `" "` lines until `0000`, through its four regexes.
pub fn routes(lines: &[String]) -> Result<Vec<Route>, String> {
    let mut out: Vec<Route> = Vec::new();
    for s in lines {
        if s.starts_with("0000") {
            break;
        }
        let line = if let Some(r) = s.strip_prefix("1007-") {
            r
        } else if let Some(r) = s.strip_prefix(' ') {
            r
        } else if s.starts_with("0001") {
            continue;
        } else {
            return Err(format!("unexpected output line from BIRD: {s:?}"));
        };
        let mut r = match_route(line).ok_or_else(|| format!("no regex matches {line:?}"))?;
        if r.dest.is_empty() {
            r.dest = out.last().map(|p| p.dest.clone()).unwrap_or_default();
        }
        let f = &r.from;
        let known = ["kernel", "static", "direct"]
            .iter()
            .any(|p| f.starts_with(p))
            || ["Mesh_", "Global_", "Node_"]
                .iter()
                .any(|p| f.starts_with(p));
        if !known {
            return Err(format!("unknown route source {f:?}"));
        }
        out.push(r);
    }
    Ok(out)
}

/// viaRegex, devRegex, blackholeRegex, unreachableRegex (RE2, leftmost-first, greedy).
fn match_route(line: &str) -> Option<Route> {
    let dest: String = line.chars().take_while(|c| !c.is_whitespace()).collect();
    let rest = line[dest.len()..].trim_start();
    let primary = line.contains("] *");
    let mut r = Route {
        dest,
        kind: "",
        gateway: String::new(),
        iface: String::new(),
        from: String::new(),
        primary,
    };
    if let Some(v) = rest
        .strip_prefix("via")
        .filter(|v| v.starts_with(char::is_whitespace))
    {
        let v = &v[1..];
        r.gateway = v.chars().take_while(|c| !c.is_whitespace()).collect();
        let v = v[r.gateway.len()..].trim_start().strip_prefix("on")?;
        let v = v.strip_prefix(char::is_whitespace)?;
        (r.iface, r.from) = bracket(v)?;
        r.kind = "via";
    } else if let Some(v) = rest
        .strip_prefix("dev")
        .filter(|v| v.starts_with(char::is_whitespace))
    {
        (r.iface, r.from) = bracket(&v[1..])?;
        r.kind = "dev";
    } else {
        for kind in ["blackhole", "unreachable"] {
            if let Some(v) = rest
                .strip_prefix(kind)
                .and_then(|v| v.strip_prefix(char::is_whitespace))
            {
                let (before, from) = bracket(v)?;
                if before.is_empty() {
                    r.from = from;
                    r.kind = kind;
                }
            }
        }
        if r.kind.is_empty() {
            return None;
        }
    }
    Some(r)
}

/// `(?P<x>.*)\s\[(?P<from>\S*)\s.*\].*` over `v`: the rightmost `" ["` that fits (greedy).
fn bracket(v: &str) -> Option<(String, String)> {
    let starts: Vec<usize> = v.match_indices('[').map(|(i, _)| i).collect();
    for &i in starts.iter().rev() {
        let before = &v[..i];
        let Some(head) = before.strip_suffix(char::is_whitespace) else {
            if i == 0 {
                // `.*` may be empty only for blackhole/unreachable, where `\s` was consumed.
                let tail = &v[1..];
                if let Some(from) = from_of(tail) {
                    return Some((String::new(), from));
                }
            }
            continue;
        };
        if let Some(from) = from_of(&v[i + 1..]) {
            return Some((head.to_string(), from));
        }
    }
    None
}

/// `(\S*)\s.*\]` at the start of `tail`.
fn from_of(tail: &str) -> Option<String> {
    let from: String = tail.chars().take_while(|c| !c.is_whitespace()).collect();
    let after = &tail[from.len()..];
    (after.starts_with(char::is_whitespace) && after[1..].contains(']')).then_some(from)
}

/// `checkBIRDReady` (§4.5), with the node's age given.
pub fn bird_ready(
    peers: &[Peer],
    gr: bool,
    age: Duration,
    threshold: Duration,
) -> Result<(), String> {
    if peers.is_empty() {
        return Ok(());
    }
    let up = peers
        .iter()
        .filter(|p| p.bgp_state == "Established")
        .count();
    if age < threshold {
        if up == peers.len() && !gr {
            return Ok(());
        }
        return Err(format!(
            "BGP not established with all peers ({up} of {}), or GR in progress",
            peers.len()
        ));
    }
    if up >= 1 {
        Ok(())
    } else {
        Err("BGP not established with any peer".into())
    }
}

#[test]
fn the_route_regexes_read_calicos_examples() {
    let lines: Vec<String> = [
        "1007-192.168.110.128/26 via 172.17.0.5 on eth0 [Mesh_172_17_0_5 20:10:57] * (100/0) [i]",
        "                   via 172.17.0.6 on eth0 [Mesh_172_17_0_6 20:10:57] (100/0) [i]",
        " 192.168.162.128/26 blackhole [static1 20:10:56] * (200)",
        " 10.0.0.0/24        dev eth0 [direct1 20:10:56] * (240)",
        "0000 ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let r = routes(&lines).unwrap();
    assert_eq!(r.len(), 4);
    assert_eq!(
        (r[0].kind, r[0].gateway.as_str(), r[0].iface.as_str()),
        ("via", "172.17.0.5", "eth0")
    );
    assert_eq!(
        (r[0].from.as_str(), r[0].primary),
        ("Mesh_172_17_0_5", true)
    );
    assert_eq!(
        (r[1].dest.as_str(), r[1].primary),
        ("192.168.110.128/26", false)
    );
    assert_eq!((r[2].kind, r[2].from.as_str()), ("blackhole", "static1"));
    assert_eq!((r[3].kind, r[3].iface.as_str()), ("dev", "eth0"));
    let bad = vec!["1007-10.0.0.0/8 via 1.2.3.4 on eth0 [bgp1 20:10:57] * (100/0) [i]".to_string()];
    assert!(routes(&bad).is_err());
}
