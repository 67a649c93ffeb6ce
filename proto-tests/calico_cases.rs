//! Calico translation cases: every `proto-tests/calico/*.json` file is an etcd datastore
//! (key/value pairs applied in order) and what `wren::calico::translate` must make of it
//! for one node. The format is described in `proto-tests/calico/README.md`.
//!
//! Besides the partial expectations, every case checks that the translation is
//! deterministic, valid (`config::validate`) and independent of the order of the puts.
//! Every failure of every file is collected and reported together.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use wren::calico::{translate, Local, Snapshot};
use wren::config::{self, Config};

/// At least this many cases must exist (a lost directory must not pass silently).
const MIN_CASES: usize = 10;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    #[allow(dead_code)]
    description: String,
    node: String,
    /// CALICO_ROUTER_ID.
    #[serde(default)]
    router_id: Option<String>,
    /// `[key, value]`: an object/array/number is put as its JSON, a string as its raw
    /// bytes (for bad JSON), null deletes the key.
    kvs: Vec<(String, Value)>,
    /// Keys whose put must fail (in order of appearance).
    #[serde(default)]
    apply_errors: Vec<String>,
    #[serde(default)]
    want: Option<Value>,
    /// `translate` must fail with an error containing this.
    #[serde(default)]
    want_error: Option<String>,
    /// Skip `config::validate` (e.g. password files that do not exist here).
    #[serde(default)]
    skip_validate: bool,
}

#[test]
fn calico_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("proto-tests/calico");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("proto-tests/calico")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= MIN_CASES,
        "only {} cases in {}",
        files.len(),
        dir.display()
    );
    let mut failures = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if let Err(e) = run(f) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

fn run(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let case: Case = serde_json::from_str(&text).map_err(|e| format!("bad case file: {e}"))?;
    let local = Local {
        node_name: case.node.clone(),
        router_id: case.router_id.clone(),
        base: base(),
    };
    let (snap, errors) = load(case.kvs.iter());
    if errors != case.apply_errors {
        return Err(format!(
            "apply errors on {errors:?}, want {:?}",
            case.apply_errors
        ));
    }
    let got = translate(&snap, &local);
    match (&case.want_error, got) {
        (Some(w), Err(e)) if e.contains(w.as_str()) => Ok(()),
        (Some(w), Err(e)) => Err(format!("error {e:?} does not contain {w:?}")),
        (Some(w), Ok(_)) => Err(format!("translated, want an error containing {w:?}")),
        (None, Err(e)) => Err(format!("translate failed: {e}")),
        (None, Ok(cfg)) => check(&case, &local, &snap, cfg),
    }
}

fn check(case: &Case, local: &Local, snap: &Snapshot, cfg: Config) -> Result<(), String> {
    if translate(snap, local).as_ref() != Ok(&cfg) {
        return Err("two translations of one snapshot differ".into());
    }
    // Order independence, when every key is put once and nothing is deleted.
    let mut keys: Vec<&String> = case.kvs.iter().map(|(k, _)| k).collect();
    keys.sort();
    keys.dedup();
    if keys.len() == case.kvs.len() && case.kvs.iter().all(|(_, v)| !v.is_null()) {
        let (rev, _) = load(case.kvs.iter().rev());
        if translate(&rev, local).as_ref() != Ok(&cfg) {
            return Err("the puts in reverse order translate differently".into());
        }
    }
    if !case.skip_validate {
        valid(&cfg)?;
    }
    let mut got = serde_json::to_value(&cfg).map_err(|e| e.to_string())?;
    let names: Vec<Value> = cfg
        .peers
        .iter()
        .map(|p| Value::from(p.display_name()))
        .collect();
    got["peer_names"] = Value::Array(names);
    match &case.want {
        Some(want) => matches(want, &got, "").map_err(|e| format!("{e}\n  got: {got}")),
        None => Ok(()),
    }
}

/// `config::validate`: every translated config must pass it (policy names included).
fn valid(cfg: &Config) -> Result<(), String> {
    config::validate(cfg, Path::new("calico"))
        .map(|_| ())
        .map_err(|errors| format!("invalid config: {errors:?}"))
}

fn load<'a>(kvs: impl Iterator<Item = &'a (String, Value)>) -> (Snapshot, Vec<String>) {
    let mut snap = Snapshot::default();
    let mut errors = Vec::new();
    for (k, v) in kvs {
        let bytes = match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone().into_bytes()),
            v => Some(v.to_string().into_bytes()),
        };
        if let Err(e) = snap.apply(k, bytes.as_deref()) {
            assert!(
                e.contains(k.as_str()),
                "error {e:?} does not name the key {k}"
            );
            errors.push(k.clone());
        }
    }
    (snap, errors)
}

fn base() -> Config {
    let text = "[router]\nasn = 1\nlisten = []\n[fib]\ndry_run = true\n[control]\nsocket = \"/run/wren/calico.sock\"\n";
    config::parse(text, Path::new("base.toml")).expect("base config")
}

/// `want` is a partial `got`: every key of a want object must match, arrays match
/// element by element with equal lengths, anything else must be equal.
fn matches(want: &Value, got: &Value, at: &str) -> Result<(), String> {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let gv = g.get(k).ok_or_else(|| format!("{at}.{k}: missing"))?;
                matches(wv, gv, &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                return Err(format!("{at}: {} elements, want {}", g.len(), w.len()));
            }
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                matches(wv, gv, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        _ if want == got => Ok(()),
        _ => Err(format!("{at}: got {got}, want {want}")),
    }
}
