//! Config changes while running, and the operator's peer commands.
//!
//! A new config (file reload, SIGHUP, or the Calico datastore's translation) is compared
//! with the running one ([`crate::config::diff`]) and only the difference is applied:
//!
//! - a peer added is created and started; a peer removed gets Cease 6/3 "Peer
//!   De-configured" (RFC 4486 §4) and its routes are withdrawn; nothing else is touched;
//! - a peer whose negotiated or transport settings changed is reset with Cease 6/6
//!   "Other Configuration Change"; other changes (name, policies, next hop, route
//!   reflection, prefix limit) are applied live and re-exported;
//! - `[router]` asn / router_id reset every session; a new cluster_id is applied live
//!   (paths re-checked, exports redone: a node made a route reflector keeps its sessions);
//! - sections opened at start (`[fib]`, `[control]`, `[metrics]`, `[datastore]`, `[log]`,
//!   `router.listen`) keep their running values until a restart, and say so.
//!
//! A config with validation errors is refused as a whole; the running one stays.

use std::net::IpAddr;
use std::path::Path;

use tracing::{debug, info, warn};

use super::owner::{name, prefix_of, Owner, PeerId};
use super::peer;
use crate::config::{self, Config, ConfigDelta, DatastoreKind, FieldChange, PeerAddress, PeerCfg};
use crate::control::{Request, Response};
use crate::net::SessionCmd;
use crate::rib::{Rib, RibCfg};
use crate::wire::error::cease_sub;
use crate::wire::NotificationMsg;

// ===== impl Owner: requests that change state =====

impl Owner {
    /// Answer a control request: the ones that change state here, the rest in `view`.
    pub fn control(&mut self, req: Request) -> Result<Response, String> {
        match req {
            Request::Reconfigure(cfg) => {
                let r = self.reconfigure(*cfg);
                self.stats.reload_result(r.is_ok());
                r
            }
            Request::Reload => {
                let r = self.reload();
                self.stats.reload_result(r.is_ok());
                r
            }
            Request::PeerReset { name } => self.peer_reset(&name),
            Request::PeerDisable { name, message } => self.peer_disable(&name, message),
            Request::PeerEnable { name } => self.peer_enable(&name),
            other => self.answer(other),
        }
    }

    /// Validate `new` and apply the difference.
    fn reconfigure(&mut self, new: Config) -> Result<Response, String> {
        if let Err(errors) = config::validate(&new, Path::new("(new config)")) {
            return Err(refused(&errors));
        }
        self.apply_config(new, "reconfigure")
    }

    /// `wren reload` / SIGHUP: re-read the config file and apply the difference.
    fn reload(&mut self) -> Result<Response, String> {
        let Some(path) = self.config_path.clone() else {
            return Err("this daemon was not started from a config file: nothing to reload".into());
        };
        if self.cfg.datastore.kind == DatastoreKind::Etcd {
            // The peers and prefixes come from etcd (Reconfigure); the file's settings are
            // read at start only.
            return Err(format!(
                "{}: [datastore] kind = \"etcd\": peers and prefixes follow etcd by themselves; \
                 restart wren to apply changes to the file",
                path.display()
            ));
        }
        let (cfg, warnings) = config::load(&path).map_err(|e| refused(&e))?;
        for w in &warnings {
            warn!(
                "{}: warning: key `{}`: {}",
                path.display(),
                w.key,
                w.message
            );
        }
        self.apply_config(cfg, &format!("reload of {}", path.display()))
    }

    /// Apply the difference between the running config and `new`; the summary lists it.
    fn apply_config(&mut self, mut new: Config, source: &str) -> Result<Response, String> {
        let deltas = config::diff(&self.cfg, &new);
        if deltas.is_empty() {
            debug!("{source}: no change");
            return Ok(Response::Done("no change".into()));
        }
        keep_start_only(&self.cfg, &mut new);
        let old = std::mem::replace(&mut self.cfg, new);
        let router_reset = deltas
            .iter()
            .any(|d| matches!(d, ConfigDelta::RouterChanged(_)) && d.needs_reset());
        let mut problems = Vec::new();
        if router_reset {
            self.reset_all(&old, &mut problems);
        }
        for d in &deltas {
            info!("{source}: {d}");
            if !router_reset {
                self.apply_delta(d, &mut problems);
            } else if let ConfigDelta::NeedsRestart { .. } = d {
                warn!("{source}: {d}");
            }
        }
        self.dirty = true;
        let mut lines: Vec<String> = deltas.iter().map(ToString::to_string).collect();
        lines.extend(problems);
        Ok(Response::Done(lines.join("; ")))
    }

    fn apply_delta(&mut self, d: &ConfigDelta, problems: &mut Vec<String>) {
        match d {
            ConfigDelta::PeerAdded(p) => {
                if let Err(e) = self.create_peer(p.clone(), None) {
                    problems.push(e);
                }
            }
            ConfigDelta::PeerRemoved(p) => self.remove_configured(p),
            ConfigDelta::PeerChanged { old, new, changes } if d.needs_reset() => {
                if let Err(e) = self.reset_configured(old, (**new).clone(), changes) {
                    problems.push(e);
                }
            }
            ConfigDelta::PeerChanged { old, new, .. } => self.change_live(old, new, false),
            ConfigDelta::OriginateAdded(o) | ConfigDelta::OriginateChanged { new: o, .. } => {
                if let Some(prefix) = prefix_of(o.prefix) {
                    self.rib.originate(prefix, o.blackhole);
                }
            }
            ConfigDelta::OriginateRemoved(o) => {
                if let Some(prefix) = prefix_of(o.prefix) {
                    self.rib.unoriginate(prefix);
                }
            }
            ConfigDelta::PolicyChanged { name, .. } => self.policy_changed(name),
            ConfigDelta::RouterChanged(changes) => {
                if changes.iter().any(|c| c.field == "cluster_id") {
                    let id = self.cfg.router.cluster_id.unwrap_or(self.router_id);
                    self.rib.set_cluster_id(id);
                    info!("router: cluster ID {id} applied, no session reset");
                }
                if changes.iter().any(|c| c.field == "listen") {
                    warn!("{d}: the running daemon keeps the old listen sockets until restarted");
                }
            }
            ConfigDelta::NeedsRestart { .. } => {
                warn!("{d}: the running daemon keeps the old value until restarted");
            }
        }
    }

    // ===== peers =====

    /// Create and start a configured peer (or register a passive range).
    fn create_peer(&mut self, cfg: PeerCfg, disabled: Option<String>) -> Result<(), String> {
        let shown = cfg.display_name();
        let fail = |e: std::io::Error| format!("peer {shown}: cannot create the session: {e}");
        match cfg.address {
            PeerAddress::Range(net) => {
                self.ranges.push((net, cfg));
                info!("peer {shown}: passive range added");
            }
            PeerAddress::Addr(a) => {
                let key = match &cfg.password_file {
                    Some(f) => Some(peer::read_md5_key(f).map_err(fail)?),
                    None => None,
                };
                let id = self.add_peer(cfg, a, false).map_err(fail)?;
                if key.is_some() {
                    self.sessions.set_md5(a, key);
                }
                if let Some(p) = self.peers.get_mut(&id) {
                    match disabled {
                        None => p.session.send(SessionCmd::Start),
                        Some(msg) => p.disabled = Some(msg),
                    }
                    info!("peer {}: added", p.name);
                }
            }
        }
        Ok(())
    }

    /// The peer (and, for a range, its dynamic peers) of this running config entry.
    fn peers_of(&self, cfg: &PeerCfg) -> Vec<PeerId> {
        self.peers
            .iter()
            .filter(|(_, p)| match cfg.address {
                PeerAddress::Addr(_) => !p.dynamic && p.cfg == *cfg,
                PeerAddress::Range(net) => p.dynamic && net.contains(&p.address),
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// Stop the session with `n` and forget the peer; its routes are withdrawn.
    fn drop_peer(
        &mut self,
        id: PeerId,
        n: NotificationMsg,
        why: &str,
    ) -> Option<super::owner::Peer> {
        let p = self.peers.remove(&id)?;
        p.session.send(SessionCmd::Stop(Some(n)));
        if p.in_rib || p.stale {
            self.rib.peer_down(id, false);
            self.dirty = true;
        }
        self.sync.forget(id);
        info!("peer {}: {} -> {why}", p.name, name(p.state));
        Some(p)
    }

    fn remove_configured(&mut self, cfg: &PeerCfg) {
        // RFC 4486 §4: Cease subcode 3, Peer De-configured.
        let cease = NotificationMsg::cease(cease_sub::PEER_DECONFIGURED);
        for id in self.peers_of(cfg) {
            let why = "removed: no longer in the config (Cease 6/3 Peer De-configured)";
            // RFC 8538 §5: with the N bit, De-configured goes out as a Hard Reset, so the
            // peer does not keep our routes as stale (6/6 below stays graceful).
            let p = self.peers.get(&id);
            let n = super::hard_reset_if_n(
                cease.clone(),
                cfg.graceful_restart,
                p.and_then(|p| p.neg.as_ref()),
            );
            self.drop_peer(id, n, why);
        }
        match cfg.address {
            PeerAddress::Range(net) => self.ranges.retain(|(n, _)| *n != net),
            PeerAddress::Addr(a) => {
                if cfg.password_file.is_some() {
                    self.sessions.set_md5(a, None);
                }
            }
        }
    }

    /// A negotiated or transport setting changed: Cease 6/6 and a new session.
    fn reset_configured(
        &mut self,
        old: &PeerCfg,
        new: PeerCfg,
        changes: &[FieldChange],
    ) -> Result<(), String> {
        let fields: Vec<String> = changes
            .iter()
            .filter(|c| c.reset)
            .map(ToString::to_string)
            .collect();
        let why = format!("{} changed, resetting the session", fields.join(", "));
        info!("peer {}: {why}", old.display_name());
        // RFC 4486 §4: Cease subcode 6, Other Configuration Change.
        let cease = NotificationMsg::cease(cease_sub::OTHER_CONFIG_CHANGE);
        let mut disabled = None;
        for id in self.peers_of(old) {
            let how = "reset (Cease 6/6 Other Configuration Change), a new session follows";
            if let Some(p) = self.drop_peer(id, cease.clone(), how) {
                disabled = disabled.or(p.disabled);
            }
        }
        match old.address {
            PeerAddress::Range(net) => self.ranges.retain(|(n, _)| *n != net),
            PeerAddress::Addr(a) if old.password_file.is_some() => self.sessions.set_md5(a, None),
            PeerAddress::Addr(_) => {}
        }
        self.create_peer(new, disabled)
    }

    /// Settings that need no reset: update the peer(s) and re-run import and export.
    fn change_live(&mut self, old: &PeerCfg, new: &PeerCfg, reexport: bool) {
        if let PeerAddress::Range(net) = new.address {
            for (n, cfg) in self.ranges.iter_mut() {
                if *n == net {
                    *cfg = new.clone();
                }
            }
        }
        for id in self.peers_of(old) {
            let Some(p) = self.peers.get_mut(&id) else {
                continue;
            };
            let mut cfg = new.clone();
            if p.dynamic {
                cfg.address = PeerAddress::Addr(p.address);
                cfg.passive = true;
            } else {
                p.name = cfg.display_name();
            }
            p.cfg = cfg;
            if !p.in_rib {
                continue;
            }
            if let Some(mut info) = self.rib.peer_info(id).cloned() {
                info.name = p.name.clone();
                info.rr_client = p.cfg.route_reflector_client;
                info.next_hop = p.cfg.next_hop;
                let policies = &self.cfg.policies;
                info.import = peer::filter(p.cfg.import.as_deref(), info.ibgp, policies);
                info.export = peer::filter(p.cfg.export.as_deref(), info.ibgp, policies);
                info.max_prefix = p.cfg.max_prefix;
                self.rib.reconfigure_peer(info, reexport);
                self.dirty = true;
            }
        }
    }

    /// A `[[policy]]` changed: re-evaluate the peers that use it.
    fn policy_changed(&mut self, policy: &str) {
        let uses = |p: &PeerCfg| {
            p.import.as_deref() == Some(policy) || p.export.as_deref() == Some(policy)
        };
        let users: Vec<PeerCfg> = self.cfg.peers.iter().filter(|p| uses(p)).cloned().collect();
        for p in users {
            self.change_live(&p, &p, true);
        }
        if self.cfg.fib.export.as_deref() == Some(policy) {
            // The kernel filter re-evaluates every prefix at the next flush.
            self.rib.set_kernel_filter(peer::kernel_filter(&self.cfg));
        }
    }

    /// `[router]` asn or router_id changed: every session is reset and the
    /// RIB starts again with the new identity (the kernel loses the old routes first).
    fn reset_all(&mut self, old: &Config, problems: &mut Vec<String>) {
        info!("router settings changed: resetting every session");
        let cease = NotificationMsg::cease(cease_sub::OTHER_CONFIG_CHANGE);
        let mut disabled: Vec<(IpAddr, String)> = Vec::new();
        let ids: Vec<PeerId> = self.peers.keys().copied().collect();
        for id in ids {
            let how = "reset: router settings changed (Cease 6/6 Other Configuration Change)";
            if let Some(p) = self.drop_peer(id, cease.clone(), how) {
                if let (false, Some(msg)) = (p.dynamic, p.disabled) {
                    disabled.push((p.address, msg));
                }
            }
        }
        for p in &old.peers {
            if let (PeerAddress::Addr(a), Some(_)) = (p.address, &p.password_file) {
                self.sessions.set_md5(a, None);
            }
        }
        self.ranges.clear();
        for o in &old.originate {
            if let Some(prefix) = prefix_of(o.prefix) {
                self.rib.unoriginate(prefix);
            }
        }
        // Withdraw everything from the kernel while the old RIB still knows it.
        self.flush_now();
        self.local_as = self.cfg.router.asn.0;
        self.router_id = self
            .cfg
            .router
            .router_id
            .unwrap_or_else(|| self.host.router_id());
        self.rib = Rib::new(RibCfg {
            local_as: self.local_as,
            router_id: self.router_id,
            cluster_id: self.cfg.router.cluster_id.unwrap_or(self.router_id),
            multipath: self.cfg.fib.multipath(),
            fib: self.cfg.fib.enabled,
        });
        for p in self.cfg.peers.clone() {
            let off = disabled
                .iter()
                .find(|(a, _)| Some(*a) == p.address.addr())
                .map(|(_, m)| m.clone());
            if let Err(e) = self.create_peer(p, off) {
                problems.push(e);
            }
        }
        for o in self.cfg.originate.clone() {
            if let Some(prefix) = prefix_of(o.prefix) {
                self.rib.originate(prefix, o.blackhole);
            }
        }
    }

    // ===== operator commands =====

    fn named(&self, peer: &str) -> Result<PeerId, String> {
        self.peer_id(peer)
            .ok_or_else(|| format!("no peer named {peer:?}"))
    }

    /// `wren peer reset`: Cease 6/4 Administrative Reset, then start again.
    fn peer_reset(&mut self, peer: &str) -> Result<Response, String> {
        let id = self.named(peer)?;
        let p = self.peers.get_mut(&id).ok_or("the peer is gone")?;
        if p.disabled.is_some() {
            return Err(format!(
                "peer {peer} is disabled: `wren peer enable {peer}` first"
            ));
        }
        // RFC 4486 §4 Administrative Reset, with an RFC 9003 shutdown communication.
        let n = NotificationMsg::admin_reset("reset by the operator");
        p.stop_reason = Some("reset by the operator (Cease 6/4 sent)".into());
        p.session.send(SessionCmd::Stop(Some(n)));
        p.session.send(SessionCmd::Start);
        info!("peer {peer}: reset by the operator (Cease 6/4 Administrative Reset)");
        Ok(Response::Done(format!(
            "peer {peer}: reset (Cease 6/4 Administrative Reset sent), starting again"
        )))
    }

    /// `wren peer disable`: Cease 6/2 with the message (RFC 9003), then stay Idle.
    fn peer_disable(&mut self, peer: &str, message: Option<String>) -> Result<Response, String> {
        let id = self.named(peer)?;
        let p = self.peers.get_mut(&id).ok_or("the peer is gone")?;
        let msg = message.unwrap_or_else(|| "disabled by the operator".into());
        if p.disabled.is_some() {
            return Ok(Response::Done(format!("peer {peer} is already disabled")));
        }
        // RFC 8538 §5: Administrative Shutdown is a Hard Reset when both sides set N.
        let n = super::hard_reset_if_n(
            NotificationMsg::admin_shutdown(&msg),
            p.cfg.graceful_restart,
            p.neg.as_ref(),
        );
        p.stop_reason = Some(format!("disabled by the operator: {msg}"));
        p.disabled = Some(msg.clone());
        p.session.send(SessionCmd::Stop(Some(n)));
        info!("peer {peer}: disabled by the operator (Cease 6/2 \"{msg}\")");
        Ok(Response::Done(format!(
            "peer {peer}: disabled (Cease 6/2 Administrative Shutdown sent: \"{msg}\")"
        )))
    }

    /// `wren peer enable`: start a disabled session again.
    fn peer_enable(&mut self, peer: &str) -> Result<Response, String> {
        let id = self.named(peer)?;
        let p = self.peers.get_mut(&id).ok_or("the peer is gone")?;
        if p.disabled.take().is_none() {
            return Ok(Response::Done(format!("peer {peer} is not disabled")));
        }
        p.session.send(SessionCmd::Start);
        info!("peer {peer}: enabled by the operator");
        Ok(Response::Done(format!("peer {peer}: enabled, starting")))
    }
}

// ===== helper functions =====

/// Sections and keys used only at start keep their running values (the diff reports
/// them again at every reload until the daemon is restarted).
fn keep_start_only(running: &Config, new: &mut Config) {
    new.fib = running.fib.clone();
    new.control = running.control.clone();
    new.metrics = running.metrics.clone();
    new.datastore = running.datastore.clone();
    new.log = running.log.clone();
    new.router.listen = running.router.listen.clone();
}

/// A refused config in one line: every error, and that the running config stays.
fn refused(errors: &[config::ConfigError]) -> String {
    let v: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let msg = format!("config refused, the running one stays: {}", v.join("; "));
    warn!("{msg}");
    msg
}

// ===== tests =====

#[cfg(test)]
mod tests;
