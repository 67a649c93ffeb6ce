//! Codec vectors: every `proto-tests/wire/vectors/**/*.json` file is one BGP message and
//! what wren must make of it. The format is described in `proto-tests/README.md`.
//!
//! For each file the runner decodes `hex` with `ctx` and compares the result with `expect`
//! as typed values (the expected JSON is deserialized into a [`Message`], never compared as
//! text; `reason` strings are never compared). When the vector round-trips, encoding the
//! expected message must give back `hex` byte for byte. Every failure is collected and
//! reported together, with a path-by-path diff of expected and actual JSON.
//!
//! `WREN_REGEN=1 cargo test --test wire_vectors` rewrites every `expect` from the current
//! decoder (other keys keep their order), then checks as usual. Review the diff afterwards.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{json, Map, Value};
use wren::wire::{self, Ctx, Message, NotificationMsg, Treatment};

/// The vectors must cover at least this many messages in total...
const MIN_VECTORS: usize = 150;
/// ...and at least this many captured from real daemons (under `captured/`).
const MIN_CAPTURED: usize = 30;

/// Top-level keys a vector file may have (anything else is most likely a typo).
const KEYS: &[&str] = &["description", "rfc", "source", "ctx", "hex", "expect"];

/// One vector file, parsed but not yet checked.
struct Vector {
    /// Path relative to the vectors directory, for messages.
    name: String,
    path: PathBuf,
    doc: Map<String, Value>,
}

/// What a finding must match (its `reason` text is not compared).
#[derive(Debug, PartialEq, Deserialize)]
struct FindingKey {
    offset: usize,
    #[serde(default)]
    attr_type: Option<u8>,
    treatment: Treatment,
    notification: NotificationMsg,
}

/// What an error must match (its `reason` text is not compared).
#[derive(Debug, PartialEq, Deserialize)]
struct ErrorKey {
    offset: usize,
    notification: NotificationMsg,
}

// ===== tests =====

#[test]
fn wire_vectors() {
    // WREN_REGEN=1 rewrites every `expect`; WREN_REGEN=missing only fills files without one
    // (new captures), leaving the hand-derived expectations alone.
    let mode = std::env::var("WREN_REGEN").unwrap_or_default();
    let mut failures = Vec::new();
    for loaded in load_all() {
        let mut v = match loaded {
            Ok(v) => v,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let regen = mode == "1" || (mode == "missing" && v.doc.get("expect").is_none());
        if regen {
            if let Err(e) = regenerate(&mut v) {
                failures.push(format!("{}: regenerate: {e}", v.name));
                continue;
            }
        }
        if let Err(e) = check(&v) {
            failures.push(format!("{}: {e}", v.name));
        }
    }
    assert!(failures.is_empty(), "{}", report(&failures));
}

#[test]
fn vector_counts() {
    let names: Vec<String> = vector_files().iter().map(|p| rel_name(p)).collect();
    let captured = names.iter().filter(|n| n.starts_with("captured/")).count();
    assert!(
        names.len() >= MIN_VECTORS && captured >= MIN_CAPTURED,
        "want at least {MIN_VECTORS} vectors ({MIN_CAPTURED} under captured/), found {} ({captured})",
        names.len()
    );
}

/// The runner itself must notice a wrong expectation, a wrong error and a missing `expect`.
#[test]
fn runner_reports_mismatches() {
    let keepalive = "ffffffffffffffffffffffffffffffff001304";
    let cases = [
        (
            json!({"error": {"offset": 0, "notification": {"code": 1, "subcode": 1}}}),
            "expected an error",
        ),
        (
            json!({"message": {"type": "route-refresh", "family": "ipv4-unicast"}}),
            "message differs",
        ),
        (
            json!({"message": {"type": "keepalive"}, "bogus": 1}),
            "unknown key",
        ),
        (json!({"message": {"type": "keepalive"}}), ""),
    ];
    for (expect, want) in cases {
        let v = synthetic(keepalive, Some(expect));
        match check(&v) {
            Ok(()) => assert_eq!(want, "", "runner accepted a wrong vector"),
            Err(e) => assert!(
                !want.is_empty() && e.contains(want),
                "got {e:?}, want {want:?}"
            ),
        }
    }
    let bad_marker = "00ffffffffffffffffffffffffffffff001304";
    let err = json!({"error": {"offset": 0, "notification": {"code": 1, "subcode": 2}}});
    let e = check(&synthetic(bad_marker, Some(err))).expect_err("wrong subcode accepted");
    assert!(e.contains("error differs"), "{e}");
    let e = check(&synthetic(keepalive, None)).expect_err("missing expect accepted");
    assert!(e.contains("WREN_REGEN=1"), "{e}");
}

// ===== helper functions =====

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("proto-tests/wire/vectors")
}

/// Every `.json` file under the vectors directory, sorted, recursively.
fn vector_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("read_dir entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&vectors_dir(), &mut out);
    out.sort();
    out
}

fn rel_name(path: &Path) -> String {
    let rel = path.strip_prefix(vectors_dir()).unwrap_or(path);
    rel.to_string_lossy().replace('\\', "/")
}

fn load_all() -> Vec<Result<Vector, String>> {
    vector_files().into_iter().map(|p| load(&p)).collect()
}

fn load(path: &Path) -> Result<Vector, String> {
    let name = rel_name(path);
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let doc: Map<String, Value> =
        serde_json::from_str(&text).map_err(|e| format!("{name}: not a JSON object: {e}"))?;
    Ok(Vector {
        name,
        path: path.to_path_buf(),
        doc,
    })
}

/// A vector built in memory, for the runner's own tests.
fn synthetic(hex: &str, expect: Option<Value>) -> Vector {
    let mut doc = Map::new();
    doc.insert("description".into(), json!("runner self-test"));
    doc.insert("hex".into(), json!(hex));
    if let Some(e) = expect {
        doc.insert("expect".into(), e);
    }
    Vector {
        name: "synthetic".into(),
        path: PathBuf::new(),
        doc,
    }
}

/// The decode context and message bytes of a vector.
fn inputs(v: &Vector) -> Result<(Ctx, Vec<u8>), String> {
    if let Some(k) = v.doc.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("unknown key {k:?} (allowed: {KEYS:?})"));
    }
    let ctx = match v.doc.get("ctx") {
        None => Ctx::default(),
        Some(c) => Ctx::deserialize(c).map_err(|e| format!("bad ctx: {e}"))?,
    };
    let hex = v
        .doc
        .get("hex")
        .and_then(Value::as_str)
        .ok_or("missing \"hex\" string")?;
    let bytes = wire::hex::decode(hex).map_err(|e| format!("bad hex: {e}"))?;
    Ok((ctx, bytes))
}

/// Decode the vector and compare with its `expect`; encode back when it round-trips.
fn check(v: &Vector) -> Result<(), String> {
    let (ctx, bytes) = inputs(v)?;
    let expect = v.doc.get("expect").ok_or(
        "no \"expect\": run `WREN_REGEN=1 cargo test --test wire_vectors` and review the result",
    )?;
    let expect = expect.as_object().ok_or("\"expect\" is not an object")?;
    let got = wire::decode(&bytes, &ctx);
    if let Some(err) = expect.get("error") {
        if expect.len() != 1 {
            return Err("an \"error\" expect has no other keys (unknown key)".into());
        }
        return check_error(err, got);
    }
    if let Some(k) = expect
        .keys()
        .find(|k| !["message", "findings", "roundtrip"].contains(&k.as_str()))
    {
        return Err(format!("unknown key {k:?} in expect"));
    }
    let want_msg = expect
        .get("message")
        .ok_or("expect has neither \"message\" nor \"error\"")?;
    let want: Message = Message::deserialize(want_msg)
        .map_err(|e| format!("expect.message is not a Message: {e}"))?;
    let (msg, findings) = match got {
        Ok(ok) => ok,
        Err(e) => {
            return Err(format!(
                "expected a message, got error {e}\n  expected: {}",
                pretty(want_msg)
            ))
        }
    };
    if msg != want {
        return Err(format!(
            "message differs\n{}",
            diff_block(want_msg, &to_json(&msg))
        ));
    }
    let want_findings = expect.get("findings").cloned().unwrap_or(json!([]));
    check_findings(&want_findings, &findings)?;
    let roundtrip = match expect.get("roundtrip") {
        None => findings.is_empty(),
        Some(r) => r.as_bool().ok_or("\"roundtrip\" is not a boolean")?,
    };
    if roundtrip {
        check_encode(&want, &ctx, &bytes)?;
    }
    Ok(())
}

fn check_error(
    want: &Value,
    got: Result<(Message, Vec<wire::Finding>), wire::WireError>,
) -> Result<(), String> {
    let key = ErrorKey::deserialize(want).map_err(|e| format!("expect.error is malformed: {e}"))?;
    match got {
        Ok((msg, _)) => Err(format!(
            "expected an error, got a message\n  expected: {}\n  got:      {}",
            pretty(want),
            pretty(&to_json(&msg))
        )),
        Err(e) if e.offset == key.offset && e.notification == key.notification => Ok(()),
        Err(e) => Err(format!("error differs\n{}", diff_block(want, &to_json(&e)))),
    }
}

fn check_findings(want: &Value, got: &[wire::Finding]) -> Result<(), String> {
    let keys = Vec::<FindingKey>::deserialize(want)
        .map_err(|e| format!("expect.findings is malformed: {e}"))?;
    let got_keys: Vec<FindingKey> = got
        .iter()
        .map(|f| FindingKey {
            offset: f.offset,
            attr_type: f.attr_type,
            treatment: f.treatment,
            notification: f.notification.clone(),
        })
        .collect();
    if keys == got_keys {
        return Ok(());
    }
    Err(format!(
        "findings differ\n{}",
        diff_block(want, &to_json(&got))
    ))
}

fn check_encode(msg: &Message, ctx: &Ctx, bytes: &[u8]) -> Result<(), String> {
    match wire::encode_to_vec(msg, ctx) {
        Ok(out) if out == bytes => Ok(()),
        Ok(out) => Err(format!(
            "encoding the expected message gives other bytes\n  expected hex: {}\n  got hex:      {}\n  first difference at byte {}",
            wire::hex::encode(bytes),
            wire::hex::encode(&out),
            bytes.iter().zip(&out).position(|(a, b)| a != b).unwrap_or(bytes.len().min(out.len()))
        )),
        Err(e) => Err(format!("encoding the expected message failed: {e}")),
    }
}

/// Rewrite the file's `expect` from the current decoder, keeping the other keys in order.
fn regenerate(v: &mut Vector) -> Result<(), String> {
    let (ctx, bytes) = inputs(v)?;
    let old_roundtrip = v
        .doc
        .get("expect")
        .and_then(|e| e.get("roundtrip"))
        .cloned();
    let expect = match wire::decode(&bytes, &ctx) {
        Err(e) => json!({ "error": to_json(&e) }),
        Ok((msg, findings)) => {
            let mut e = Map::new();
            e.insert("message".into(), to_json(&msg));
            if !findings.is_empty() {
                e.insert("findings".into(), to_json(&findings));
            }
            if let Some(r) = old_roundtrip {
                e.insert("roundtrip".into(), r);
            }
            Value::Object(e)
        }
    };
    v.doc.insert("expect".into(), expect);
    let mut text = serde_json::to_string_pretty(&v.doc).map_err(|e| e.to_string())?;
    text.push('\n');
    std::fs::write(&v.path, text).map_err(|e| format!("{}: {e}", v.path.display()))
}

fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| json!(format!("<cannot serialize: {e}>")))
}

/// Expected and actual JSON, with the paths where they differ listed first.
fn diff_block(want: &Value, got: &Value) -> String {
    let mut diffs = Vec::new();
    diff(want, got, "$", &mut diffs);
    let mut s = String::new();
    for d in diffs.iter().take(20) {
        let _ = writeln!(s, "    {d}");
    }
    if diffs.len() > 20 {
        let _ = writeln!(s, "    ... and {} more differences", diffs.len() - 20);
    }
    let _ = write!(
        s,
        "  expected: {}\n  got:      {}",
        pretty(want),
        pretty(got)
    );
    s
}

/// Collect `path: expected X, got Y` lines where two JSON values differ. Keys that are
/// never compared (free text, names derived from codes) are left out.
fn diff(want: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    const IGNORED: &[&str] = &["reason", "code_name", "subcode_name"];
    match (want, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a.iter().filter(|(k, _)| !IGNORED.contains(&k.as_str())) {
                match b.get(k) {
                    Some(vb) => diff(va, vb, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: expected {va}, got nothing")),
                }
            }
            let extra = |k: &&String| !a.contains_key(*k) && !IGNORED.contains(&k.as_str());
            for (k, vb) in b.iter().filter(|(k, _)| extra(k)) {
                out.push(format!("{path}.{k}: expected nothing, got {vb}"));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                diff(va, vb, &format!("{path}[{i}]"), out);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            out.push(format!(
                "{path}: expected {} elements, got {}",
                a.len(),
                b.len()
            ));
        }
        _ if want != got => out.push(format!("{path}: expected {want}, got {got}")),
        _ => {}
    }
}

/// Pretty JSON indented to follow a `  expected: ` label.
fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v)
        .unwrap_or_default()
        .replace('\n', "\n      ")
}

fn report(failures: &[String]) -> String {
    let mut s = format!("{} wire vector(s) failed:\n", failures.len());
    for f in failures {
        let _ = writeln!(s, "\n- {f}");
    }
    s
}
