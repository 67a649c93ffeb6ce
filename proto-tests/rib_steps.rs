//! RIB step tests: every `proto-tests/rib/*.json` file is a scenario of inputs to one
//! [`Rib`] (peers up and down, UPDATEs, originations, refreshes) and what each flush must
//! produce: the messages each peer receives (decoded and summarised), the FIB changes
//! and the sessions stopped. The format is described in `proto-tests/rib/README.md`.
//!
//! Every failure of every file is collected and reported together.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{json, Value};
use wren::config::NextHopMode;
use wren::fsm::Negotiated;
use wren::rib::{Filter, PeerId, PeerInfo, Prefix, Rib, RibCfg, RibOutput};
use wren::wire::{
    self, Ctx, Family, Finding, Message, MpNlri, NextHop, NotificationMsg, UpdateMsg,
};

/// At least this many scenarios must exist (a lost directory must not pass silently).
const MIN_SCENARIOS: usize = 5;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    #[allow(dead_code)]
    description: String,
    #[serde(default)]
    #[allow(dead_code)]
    rfc: Option<String>,
    #[serde(default)]
    rib: RibSpec,
    peers: BTreeMap<String, PeerSpec>,
    steps: Vec<Step>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RibSpec {
    local_as: Option<u32>,
    router_id: Option<Ipv4Addr>,
    cluster_id: Option<Ipv4Addr>,
    multipath: Option<usize>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct PeerSpec {
    id: PeerId,
    asn: u32,
    remote: IpAddr,
    local: IpAddr,
    peer_id: Ipv4Addr,
    #[serde(default)]
    local_v4: Option<Ipv4Addr>,
    #[serde(default)]
    local_v6: Option<Ipv6Addr>,
    #[serde(default)]
    link_local: Option<Ipv6Addr>,
    #[serde(default)]
    rr_client: bool,
    #[serde(default)]
    next_hop: NextHopMode,
    #[serde(default)]
    import_reject: bool,
    #[serde(default)]
    export_reject: bool,
    #[serde(default)]
    max_prefix: Option<u32>,
    #[serde(default = "v4_only")]
    families: Vec<Family>,
    #[serde(default)]
    add_path_tx: Vec<Family>,
    #[serde(default)]
    add_path_rx: Vec<Family>,
    #[serde(default = "yes")]
    as4: bool,
    #[serde(default)]
    ext_msg: bool,
    #[serde(default)]
    ext_next_hop: Vec<Family>,
    #[serde(default)]
    enhanced_route_refresh: bool,
}

// Steps are read once per file: the UPDATE variant's size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum Step {
    Up(String),
    Down {
        peer: String,
        #[serde(default)]
        keep_stale: bool,
    },
    Update {
        peer: String,
        msg: UpdateMsg,
        #[serde(default)]
        findings: Vec<Finding>,
    },
    Originate {
        prefix: String,
        #[serde(default)]
        blackhole: bool,
    },
    Unoriginate(String),
    Refresh {
        peer: String,
        family: Family,
    },
    StaleExpired(String),
    Flush(Expect),
    /// The best path of a prefix comes from this peer (`null`: there is none).
    Best {
        prefix: String,
        peer: Option<String>,
        #[serde(default)]
        reason_contains: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// Per peer name: the summaries of the messages it receives, in order. Every peer
    /// that receives something must be listed.
    #[serde(default)]
    sends: BTreeMap<String, Vec<Value>>,
    /// Number of `Outgoing` values (one per update group and recipient set).
    #[serde(default)]
    outgoing: Option<usize>,
    #[serde(default)]
    fib: Vec<Value>,
    #[serde(default)]
    fib_after: Vec<Value>,
    #[serde(default)]
    stop: BTreeMap<String, NotificationMsg>,
}

fn v4_only() -> Vec<Family> {
    vec![Family::IPV4_UNICAST]
}

fn yes() -> bool {
    true
}

// ===== running =====

struct Run {
    rib: Rib,
    local_as: u32,
    peers: BTreeMap<String, PeerSpec>,
}

impl Run {
    fn id(&self, name: &str) -> Result<PeerId, String> {
        self.peers
            .get(name)
            .map(|p| p.id)
            .ok_or_else(|| format!("unknown peer {name:?}"))
    }

    fn name(&self, id: PeerId) -> String {
        self.peers
            .iter()
            .find(|(_, p)| p.id == id)
            .map_or_else(|| format!("#{id}"), |(n, _)| n.clone())
    }

    fn info(&self, name: &str) -> Result<PeerInfo, String> {
        let p = self
            .peers
            .get(name)
            .ok_or(format!("unknown peer {name:?}"))?;
        let filter = |reject| {
            if reject {
                Filter::RejectAll
            } else {
                Filter::AcceptAll
            }
        };
        Ok(PeerInfo {
            id: p.id,
            name: name.to_string(),
            remote: p.remote,
            local: p.local,
            local_v4: p.local_v4,
            local_v6: p.local_v6,
            link_local: p.link_local,
            asn: p.asn,
            ibgp: p.asn == self.local_as,
            rr_client: p.rr_client,
            next_hop: p.next_hop,
            import: filter(p.import_reject),
            export: filter(p.export_reject),
            max_prefix: p.max_prefix,
            neg: Negotiated {
                as4: p.as4,
                add_path_rx: p.add_path_rx.clone(),
                add_path_tx: p.add_path_tx.clone(),
                enhanced_route_refresh: p.enhanced_route_refresh,
                ext_msg: p.ext_msg,
                ext_next_hop: p.ext_next_hop.clone(),
                ..Negotiated::plain(p.asn, p.peer_id, p.families.clone())
            },
        })
    }

    fn step(&mut self, i: usize, s: Step) -> Result<(), String> {
        match s {
            Step::Up(p) => {
                let info = self.info(&p)?;
                self.rib.peer_up(info);
            }
            Step::Down { peer, keep_stale } => {
                let id = self.id(&peer)?;
                self.rib.peer_down(id, keep_stale);
            }
            Step::Update {
                peer,
                msg,
                findings,
            } => {
                let id = self.id(&peer)?;
                self.rib.update(id, msg, &findings);
            }
            Step::Originate { prefix, blackhole } => {
                self.rib.originate(prefix_of(&prefix)?, blackhole)
            }
            Step::Unoriginate(prefix) => self.rib.unoriginate(prefix_of(&prefix)?),
            Step::Refresh { peer, family } => {
                let id = self.id(&peer)?;
                self.rib.refresh(id, family);
            }
            Step::StaleExpired(p) => {
                let id = self.id(&p)?;
                self.rib.stale_expired(id);
            }
            Step::Flush(e) => {
                let out = self.rib.flush();
                self.check_flush(i, &e, &out)?;
            }
            Step::Best {
                prefix,
                peer,
                reason_contains,
            } => {
                let views = self.rib.explain(&prefix_of(&prefix)?);
                let best = views.iter().find(|v| v.best);
                let got = best.map(|v| self.name(v.peer));
                let want = peer.map(|p| if p == "local" { "#0".to_string() } else { p });
                if got != want {
                    return Err(format!(
                        "step {i}: best of {prefix} is {got:?}, want {want:?}"
                    ));
                }
                if let (Some(b), Some(r)) = (best, reason_contains) {
                    if !b.reason.contains(&r) {
                        return Err(format!("step {i}: reason {:?} lacks {r:?}", b.reason));
                    }
                }
            }
        }
        Ok(())
    }

    fn check_flush(&self, i: usize, e: &Expect, out: &RibOutput) -> Result<(), String> {
        let mut errs = Vec::new();
        let mut got: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for o in out.sends.iter() {
            for &p in &o.peers {
                let name = self.name(p);
                let ctx = self
                    .info(&name)
                    .map(|i| i.neg.encode_ctx())
                    .unwrap_or_default();
                let v = got.entry(name).or_default();
                v.extend(summarise(&o.bytes, &ctx)?);
            }
        }
        for (name, want) in &e.sends {
            let have = got.remove(name).unwrap_or_default();
            if &have != want {
                errs.push(format!(
                    "to {name}:\n    got  {}\n    want {}",
                    Value::Array(have),
                    Value::Array(want.clone())
                ));
            }
        }
        for (name, have) in got {
            errs.push(format!(
                "unexpected messages to {name}: {}",
                Value::Array(have)
            ));
        }
        if let Some(n) = e.outgoing {
            if out.sends.len() != n {
                errs.push(format!("{} outgoing, want {n}", out.sends.len()));
            }
        }
        compare(&mut errs, "fib", &out.fib, &e.fib);
        compare(&mut errs, "fib_after", &out.fib_after, &e.fib_after);
        let stop: BTreeMap<String, NotificationMsg> = out
            .stop
            .iter()
            .map(|(p, n)| (self.name(*p), n.clone()))
            .collect();
        if stop != e.stop {
            errs.push(format!("stop: got {stop:?}, want {:?}", e.stop));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(format!("step {i} (flush):\n  {}", errs.join("\n  ")))
        }
    }
}

fn compare<T: serde::Serialize>(errs: &mut Vec<String>, what: &str, got: &[T], want: &[Value]) {
    let got: Vec<Value> = got
        .iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();
    if got != want {
        errs.push(format!(
            "{what}: got {}, want {}",
            Value::Array(got),
            Value::Array(want.to_vec())
        ));
    }
}

fn prefix_of(s: &str) -> Result<Prefix, String> {
    if s.contains(':') {
        s.parse().map(Prefix::V6)
    } else {
        s.parse().map(Prefix::V4)
    }
}

/// Decode back-to-back messages into short summaries.
fn summarise(bytes: &[u8], ctx: &Ctx) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = wire::frame_len(rest, ctx)
            .map_err(|e| e.to_string())?
            .ok_or("truncated message")?;
        let (m, findings) = wire::decode(&rest[..n], ctx).map_err(|e| e.to_string())?;
        if !findings.is_empty() {
            return Err(format!("findings in what wren sent: {findings:?}"));
        }
        out.push(match m {
            Message::Update(u) => summary(&u),
            Message::RouteRefresh(r) => json!({ "route_refresh": r }),
            other => serde_json::to_value(&other).unwrap(),
        });
        rest = &rest[n..];
    }
    Ok(out)
}

/// `{"end_of_rib": F}`, `{"withdraw": [P...]}` or `{"announce": [P...], "next_hop": N,
/// "attrs": A}` (prefixes as `P` or `P#path_id`; attributes without NEXT_HOP).
fn summary(u: &UpdateMsg) -> Value {
    if let Some(f) = u.end_of_rib() {
        return json!({ "end_of_rib": f });
    }
    let mut v = serde_json::Map::new();
    let name = |p: String, id: u32| if id == 0 { p } else { format!("{p}#{id}") };
    let mut wd: Vec<String> = u
        .withdrawn
        .iter()
        .map(|n| name(n.prefix.to_string(), n.path_id))
        .collect();
    if let Some(m) = &u.mp_unreach {
        wd.extend(nlri_names(&m.withdrawn));
    }
    if !wd.is_empty() {
        v.insert("withdraw".into(), json!(wd));
    }
    let mut ann: Vec<String> = u
        .nlri
        .iter()
        .map(|n| name(n.prefix.to_string(), n.path_id))
        .collect();
    let mut nh = u.attrs.next_hop.map(|a| json!(a.to_string()));
    if let Some(r) = &u.mp_reach {
        ann.extend(nlri_names(&r.nlri));
        nh = Some(match &r.next_hop {
            NextHop::V4(a) => json!(a.to_string()),
            NextHop::V6 {
                global,
                link_local: None,
            } => json!(global.to_string()),
            NextHop::V6 {
                global,
                link_local: Some(ll),
            } => json!([global.to_string(), ll.to_string()]),
            NextHop::Raw(_) => json!("raw"),
        });
    }
    if !ann.is_empty() {
        v.insert("announce".into(), json!(ann));
        v.insert("next_hop".into(), nh.unwrap_or(Value::Null));
        let mut a = u.attrs.clone();
        a.next_hop = None;
        v.insert("attrs".into(), serde_json::to_value(&a).unwrap());
    }
    Value::Object(v)
}

fn nlri_names(n: &MpNlri) -> Vec<String> {
    let name = |p: String, id: u32| if id == 0 { p } else { format!("{p}#{id}") };
    match n {
        MpNlri::V4(v) => v
            .iter()
            .map(|n| name(n.prefix.to_string(), n.path_id))
            .collect(),
        MpNlri::V6(v) => v
            .iter()
            .map(|n| name(n.prefix.to_string(), n.path_id))
            .collect(),
        MpNlri::Raw(_) => vec!["raw".into()],
    }
}

fn run_file(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let sc: Scenario = serde_json::from_str(&text).map_err(|e| format!("bad file: {e}"))?;
    let local_as = sc.rib.local_as.unwrap_or(65000);
    let router_id = sc.rib.router_id.unwrap_or(Ipv4Addr::new(198, 18, 255, 1));
    let rib = Rib::new(RibCfg {
        local_as,
        router_id,
        cluster_id: sc.rib.cluster_id.unwrap_or(router_id),
        multipath: sc.rib.multipath.unwrap_or(1),
        fib: true,
    });
    let mut run = Run {
        rib,
        local_as,
        peers: sc.peers,
    };
    for (i, s) in sc.steps.into_iter().enumerate() {
        run.step(i, s)?;
    }
    Ok(())
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "json"));
    v.sort();
    v
}

#[test]
fn rib_steps() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("proto-tests/rib");
    let files = files(&dir);
    assert!(
        files.len() >= MIN_SCENARIOS,
        "only {} scenarios in {}",
        files.len(),
        dir.display()
    );
    let mut failures = Vec::new();
    for f in &files {
        if let Err(e) = run_file(f) {
            failures.push(format!("{}: {e}", f.file_name().unwrap().to_string_lossy()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
    println!("{} RIB scenarios passed", files.len());
}
