//! `wren decode` end to end: the real binary, its stdout JSON, stderr and exit status.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

const MARKER: &str = "ffffffffffffffffffffffffffffffff";

// ===== tests =====

#[test]
fn keepalive_argument_decodes() {
    let out = wren(&["decode", &format!("{MARKER}001304")], None);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(docs(&out), vec![json!({"type": "keepalive"})]);
}

#[test]
fn bad_marker_exits_1_with_offset_and_notification() {
    let hex = format!("fe{}001304", &MARKER[2..]);
    let out = wren(&["decode", &hex], None);
    assert_eq!(out.status.code(), Some(1));
    let doc = &docs(&out)[0];
    assert_eq!(doc["error"]["offset"], 0, "{doc}");
    assert_eq!(doc["error"]["notification"]["code"], 1, "{doc}");
    assert_eq!(doc["error"]["notification"]["subcode"], 1, "{doc}");
    assert!(doc["error"]["reason"].is_string(), "{doc}");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one line on stderr: {err}");
    assert!(err.contains("at byte 0"), "{err}");
}

#[test]
fn stdin_lines_and_concatenated_messages() {
    let input = format!("# comment\n{MARKER}001304\n\n{MARKER}0017 05 0001 00 01{MARKER}001304\n");
    let out = wren(&["decode", "--compact"], Some(&input));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 3, "one line per message: {text}");
    let rr = json!({"type": "route-refresh", "family": "ipv4-unicast", "subtype": 0});
    assert_eq!(
        docs(&out),
        vec![
            json!({"type": "keepalive"}),
            rr,
            json!({"type": "keepalive"})
        ]
    );
}

#[test]
fn invalid_hex_exits_2() {
    let out = wren(&["decode", "zz"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid hex"), "{}", stderr(&out));
}

#[test]
fn version_prints_the_crate_version() {
    let out = wren(&["--version"], None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");
}

// ===== helper functions =====

fn wren(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wren"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wren");
    let mut pipe = child.stdin.take().expect("stdin pipe");
    if let Some(s) = stdin {
        pipe.write_all(s.as_bytes()).expect("write stdin");
    }
    drop(pipe);
    child.wait_with_output().expect("wait for wren")
}

/// Every JSON document on stdout, in order.
fn docs(out: &Output) -> Vec<Value> {
    serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
