//! wren: a BGP routing daemon for node-to-node route distribution.
//!
//! Module map (see `../shared/DESIGN.md` in the project workspace and README.md):
//! - [`wire`]: BGP message codec. Pure: no I/O, no tokio, never panics on input.
//! - [`fsm`]: the per-peer session state machine (RFC 4271 §8). Pure: `handle(now, event) -> actions`.
//! - [`rib`]: Adj-RIB-In, best path, route reflection, update groups, FIB deltas. Pure.
//! - [`net`]: sockets and one tokio task per session (adapter).
//! - [`policy`]: typed routing policy (`[[policy]]`), evaluated per route. Pure.
//! - [`config`]: the TOML config model, defaults and validation (file, key, reason).
//! - [`speaker`]: the one owner loop (peers, RIB, FIB) that `wren run` starts.
//! - [`fib`]: where best routes go: the [`fib::FibSink`] trait and the in-memory FIB.
//! - [`control`]: the control socket (JSON lines) and its client (`wren show`).
//! - [`metrics`]: `/metrics`, `/healthz`, `/readyz` over HTTP (`[metrics] listen`).
//! - [`logging`]: text/JSON logs, the runtime filter (`wren log-level`), repeat limiting.
//! - [`store`]: config sources beyond the file: the etcd datastore (adapter).
//! - [`hash`]: the fast hasher of the RIB's and the FIB's tables.
//! - [`calico`]: Calico's etcd datastore translated into a config, as confd + BIRD would. Pure.
//!
//! Supported standards (wire level): RFC 4271, 4760, 6793, 2918, 7313, 5492, 9072,
//! 8950, 8654, 9234, 4724, 8538, 7911, 9494, 4456, 1997, 4360, 8092, 8203, 9003, 7606.

pub mod calico;
pub mod config;
pub mod control;
pub mod fib;
pub mod fsm;
pub mod hash;
pub mod logging;
pub mod metrics;
pub mod net;
pub mod policy;
pub mod rib;
pub mod speaker;
pub mod store;
pub mod systemd;
pub mod wire;
