//! The decision process: RFC 4271 §9.1.2.2 with the RFC 4456 §9 tie-breakers.
//!
//! Selection removes candidates step by step, as the RFC describes, instead of sorting
//! with a pairwise comparison: the MED step (c) compares only paths from the same
//! neighbouring AS, so "better than" is not transitive and a sort could pick different
//! winners for different input orders. Each removed path remembers the step that
//! removed it, which is the reason `explain` gives.
//!
//! ```text
//!  not kernel-learned > not LLGR_STALE (RFC 9494 §4.3) > locally originated > LOCAL_PREF > AS_PATH length
//!    > ORIGIN > MED (same neighbour AS)
//!    > eBGP over iBGP > (IGP cost: equal) > ORIGINATOR_ID or BGP ID > CLUSTER_LIST length
//!    > peer address > path identifier
//! ```

use std::net::{IpAddr, Ipv4Addr};

use smallvec::SmallVec;

use super::intern::{wk, Keys};

/// One candidate path, with everything the steps compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cand {
    /// Learned from the kernel (`[fib] learn`): loses to every other path.
    pub kernel: bool,
    pub local: bool,
    pub keys: Keys,
    pub ebgp: bool,
    /// ORIGINATOR_ID if present, else the BGP identifier of the peer (RFC 4456 §9).
    pub router_id: Ipv4Addr,
    pub addr: IpAddr,
    pub path_id: u32,
}

/// The steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// Learned from the kernel (`[fib] learn`): any BGP or originated path wins, as
    /// BIRD's protocol preference (kernel 10 < BGP 100) decides before BGP's own rules.
    Kernel,
    /// RFC 9494 §4.3, §4.4: a path carrying LLGR_STALE is least preferred.
    LlgrStale,
    Local,
    LocalPref,
    AsPath,
    Origin,
    Med,
    External,
    RouterId,
    ClusterList,
    PeerAddr,
    PathId,
}

/// The result of one selection over a set of candidates (indexes into the input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub best: usize,
    /// Every other candidate with the step that removed it.
    pub lost: SmallVec<[(usize, Step); 4]>,
    /// Candidates equal to the best through the eBGP/iBGP step, in preference order
    /// (best first): the ECMP candidates.
    pub multipath: SmallVec<[usize; 4]>,
}

type Alive = SmallVec<[usize; 8]>;

// ===== helper functions =====

/// Run the decision process over `c` (not empty).
pub fn select(c: &[Cand]) -> Outcome {
    let mut alive: Alive = (0..c.len()).collect();
    let mut lost = SmallVec::new();
    let mut step = |alive: &mut Alive, s: Step| keep(c, alive, &mut lost, s);
    step(&mut alive, Step::Kernel);
    step(&mut alive, Step::LlgrStale);
    step(&mut alive, Step::Local);
    step(&mut alive, Step::LocalPref);
    step(&mut alive, Step::AsPath);
    step(&mut alive, Step::Origin);
    step(&mut alive, Step::Med);
    step(&mut alive, Step::External);
    // (e) interior cost: wren has no IGP, every next hop costs the same.
    let mut multipath: SmallVec<[usize; 4]> = alive.iter().copied().collect();
    step(&mut alive, Step::RouterId);
    step(&mut alive, Step::ClusterList);
    step(&mut alive, Step::PeerAddr);
    step(&mut alive, Step::PathId);
    let best = alive.first().copied().unwrap_or(0);
    for &i in alive.iter().skip(1) {
        lost.push((i, Step::PathId));
    }
    multipath.sort_by_key(|&i| (i != best, tie_key(&c[i])));
    Outcome {
        best,
        lost,
        multipath,
    }
}

/// All candidates, best first: selection repeated over the rest.
pub fn rank(c: &[Cand]) -> Vec<usize> {
    let mut left: Vec<usize> = (0..c.len()).collect();
    let mut order = Vec::with_capacity(c.len());
    while !left.is_empty() {
        let sub: Vec<Cand> = left.iter().map(|&i| c[i]).collect();
        let o = select(&sub);
        order.push(left.remove(o.best));
    }
    order
}

/// The first step at which `a` and `b` differ, comparing the two alone.
pub fn first_difference(a: &Cand, b: &Cand) -> Option<Step> {
    use Step::*;
    [
        Kernel,
        LlgrStale,
        Local,
        LocalPref,
        AsPath,
        Origin,
        Med,
        External,
        RouterId,
        ClusterList,
        PeerAddr,
        PathId,
    ]
    .into_iter()
    .find(|&s| match s {
        Med => a.keys.neighbor_as == b.keys.neighbor_as && a.keys.med != b.keys.med,
        _ => key(a, s) != key(b, s),
    })
}

/// One sentence: why `loser` lost against `best` at `step`.
pub fn lost_reason(step: Step, loser: &Cand, best: &Cand) -> String {
    let (l, b) = (&loser.keys, &best.keys);
    match step {
        Step::Kernel => "not preferred: learned from the kernel, which any other path beats".into(),
        Step::LlgrStale => "not preferred: long-lived stale (LLGR_STALE) while a path without it exists (RFC 9494 §4.3)".into(),
        Step::Local => "not preferred: a locally originated path exists".into(),
        Step::LocalPref => format!(
            "not preferred: LOCAL_PREF {} is lower than {} (RFC 4271 §9.1.1)",
            l.local_pref, b.local_pref
        ),
        Step::AsPath => format!(
            "not preferred: AS_PATH length {} is longer than {} (RFC 4271 §9.1.2.2 a)",
            l.as_path_len, b.as_path_len
        ),
        Step::Origin => format!(
            "not preferred: ORIGIN {} is higher than {} (RFC 4271 §9.1.2.2 b)",
            l.origin, b.origin
        ),
        Step::Med => format!(
            "not preferred: MED {} is higher than that of another path from neighbour AS {} (RFC 4271 §9.1.2.2 c)",
            l.med, l.neighbor_as
        ),
        Step::External => "not preferred: learned over iBGP while an eBGP path exists (RFC 4271 §9.1.2.2 d)".into(),
        Step::RouterId => format!(
            "not preferred: ORIGINATOR_ID or BGP identifier {} is higher than {} (RFC 4271 §9.1.2.2 f, RFC 4456 §9)",
            loser.router_id, best.router_id
        ),
        Step::ClusterList => format!(
            "not preferred: CLUSTER_LIST length {} is longer than {} (RFC 4456 §9)",
            l.cluster_len, b.cluster_len
        ),
        Step::PeerAddr => format!(
            "not preferred: peer address {} is higher than {} (RFC 4271 §9.1.2.2 g)",
            loser.addr, best.addr
        ),
        Step::PathId => format!(
            "not preferred: path identifier {} is higher than {} from the same peer",
            loser.path_id, best.path_id
        ),
    }
}

/// One sentence: why `best` won against the runner-up `next` (`None`: it is alone).
pub fn won_reason(best: &Cand, next: Option<&Cand>) -> String {
    let Some(next) = next else {
        return "best: the only eligible path".into();
    };
    let why = match first_difference(best, next) {
        Some(Step::Kernel) => "it is not learned from the kernel".into(),
        Some(Step::LlgrStale) => "it is not long-lived stale (RFC 9494 §4.3)".into(),
        Some(Step::Local) => "it is locally originated".into(),
        Some(Step::LocalPref) => format!("its LOCAL_PREF {} is the highest (RFC 4271 §9.1.1)", best.keys.local_pref),
        Some(Step::AsPath) => format!("its AS_PATH length {} is the shortest (RFC 4271 §9.1.2.2 a)", best.keys.as_path_len),
        Some(Step::Origin) => format!("its ORIGIN {} is the lowest (RFC 4271 §9.1.2.2 b)", best.keys.origin),
        Some(Step::Med) => format!("its MED {} is the lowest from neighbour AS {} (RFC 4271 §9.1.2.2 c)", best.keys.med, best.keys.neighbor_as),
        Some(Step::External) => "it is learned over eBGP (RFC 4271 §9.1.2.2 d)".into(),
        Some(Step::RouterId) => format!("its ORIGINATOR_ID or BGP identifier {} is the lowest (RFC 4271 §9.1.2.2 f, RFC 4456 §9)", best.router_id),
        Some(Step::ClusterList) => format!("its CLUSTER_LIST length {} is the shortest (RFC 4456 §9)", best.keys.cluster_len),
        Some(Step::PeerAddr) => format!("its peer address {} is the lowest (RFC 4271 §9.1.2.2 g)", best.addr),
        Some(Step::PathId) | None => format!("its path identifier {} is the lowest", best.path_id),
    };
    format!("best: {why}")
}

/// Remove from `alive` every candidate worse than the best at step `s`.
fn keep(c: &[Cand], alive: &mut Alive, lost: &mut SmallVec<[(usize, Step); 4]>, s: Step) {
    if alive.len() < 2 {
        return;
    }
    if s == Step::Med {
        return keep_med(c, alive, lost);
    }
    let Some(min) = alive.iter().map(|&i| key(&c[i], s)).min() else {
        return;
    };
    alive.retain(|i| {
        let k = key(&c[*i], s) == min;
        if !k {
            lost.push((*i, s));
        }
        k
    });
}

/// RFC 4271 §9.1.2.2 c: remove every path for which another path from the same
/// neighbouring AS has a lower MED. Paths from different ASes are not compared.
fn keep_med(c: &[Cand], alive: &mut Alive, lost: &mut SmallVec<[(usize, Step); 4]>) {
    let worse = |i: usize| {
        let k = &c[i].keys;
        alive
            .iter()
            .any(|&j| c[j].keys.neighbor_as == k.neighbor_as && c[j].keys.med < k.med)
    };
    let out: Alive = alive.iter().copied().filter(|&i| worse(i)).collect();
    alive.retain(|i| !out.contains(i));
    lost.extend(out.into_iter().map(|i| (i, Step::Med)));
}

/// The comparison key of a step (lower is better). Not used for MED.
fn key(c: &Cand, s: Step) -> (u8, u128) {
    let k = &c.keys;
    let v = match s {
        Step::Kernel => c.kernel as u128,
        Step::LlgrStale => (k.wk & wk::LLGR_STALE != 0) as u128,
        Step::Local => !c.local as u128,
        Step::LocalPref => (u32::MAX - k.local_pref) as u128,
        Step::AsPath => k.as_path_len as u128,
        Step::Origin => k.origin as u128,
        Step::Med => k.med as u128,
        Step::External => !c.ebgp as u128,
        Step::RouterId => u32::from(c.router_id) as u128,
        Step::ClusterList => k.cluster_len as u128,
        Step::PeerAddr => match c.addr {
            IpAddr::V4(a) => u32::from(a) as u128,
            IpAddr::V6(a) => return (1, u128::from(a)),
        },
        Step::PathId => c.path_id as u128,
    };
    (0, v)
}

/// Order among ECMP candidates: the tie-breakers after step (e).
type TieKey = ((u8, u128), (u8, u128), (u8, u128), (u8, u128));

fn tie_key(c: &Cand) -> TieKey {
    (
        key(c, Step::RouterId),
        key(c, Step::ClusterList),
        key(c, Step::PeerAddr),
        key(c, Step::PathId),
    )
}
