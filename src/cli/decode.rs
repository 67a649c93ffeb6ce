//! `wren decode`: BGP messages given as hex, printed as JSON.
//!
//! Each input (an argument, or a line of stdin) holds one message or several concatenated
//! ones; [`wire::frame_len`] cuts them apart. A message prints as its JSON with a
//! `findings` list when RFC 7606 found something. A message that does not decode prints
//! `{"error": {"offset", "notification", "reason"}}` on stdout, one line on stderr, and
//! makes the command exit with 1.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use serde_json::Value;
use wren::wire::{self, notification, Ctx, Family, Finding, Message, NotificationMsg, WireError};

/// Arguments of `wren decode`.
#[derive(Debug, Args)]
#[command(after_help = "Exit status: 0 all decoded, 1 a message did not decode, 2 bad input.")]
pub struct DecodeArgs {
    /// Messages as hex, header included (spaces and ':' allowed). Without any, one input
    /// per line is read from stdin (blank lines and lines starting with '#' are skipped).
    /// An input may hold several concatenated messages.
    #[arg(value_name = "HEX")]
    pub hex: Vec<String>,
    /// Decode as a session without the 4-octet AS capability (RFC 6793): 2-octet AS_PATH.
    #[arg(long)]
    pub as2: bool,
    /// Receive ADD-PATH path identifiers for FAMILY (RFC 7911), e.g. ipv4-unicast; repeatable.
    #[arg(long = "add-path", value_name = "FAMILY")]
    pub add_path: Vec<Family>,
    /// Accept messages up to 65535 bytes (RFC 8654 extended messages).
    #[arg(long)]
    pub ext_msg: bool,
    /// One line of JSON per message instead of pretty-printed JSON.
    #[arg(long)]
    pub compact: bool,
}

/// A decoded message and its RFC 7606 findings, as printed.
#[derive(Serialize)]
struct Decoded<'a> {
    #[serde(flatten)]
    message: &'a Message,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    findings: &'a [Finding],
}

/// A decode error, as printed: `{"error": {...}}`.
#[derive(Serialize)]
struct Failed<'a> {
    error: FailedBody<'a>,
}

#[derive(Serialize)]
struct FailedBody<'a> {
    offset: usize,
    notification: Value,
    reason: &'a str,
}

/// Outcome of one input, for the exit code.
#[derive(Default)]
struct Tally {
    failed: usize,
    bad_input: usize,
}

// ===== impl =====

/// Run `wren decode`; returns the exit code.
pub fn run(args: &DecodeArgs) -> ExitCode {
    let ctx = Ctx {
        as4: !args.as2,
        add_path: args.add_path.clone(),
        ext_msg: args.ext_msg,
    };
    let mut tally = Tally::default();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let res = if args.hex.is_empty() {
        decode_stdin(&ctx, args.compact, &mut out, &mut tally)
    } else {
        args.hex.iter().enumerate().try_for_each(|(i, h)| {
            decode_input(
                &format!("argument {}", i + 1),
                h,
                &ctx,
                args.compact,
                &mut out,
                &mut tally,
            )
        })
    };
    if let Err(e) = res.and_then(|()| out.flush()) {
        eprintln!("wren decode: {e}");
        return ExitCode::from(2);
    }
    match tally {
        Tally { bad_input: 1.., .. } => ExitCode::from(2),
        Tally { failed: 1.., .. } => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

fn decode_stdin(
    ctx: &Ctx,
    compact: bool,
    out: &mut impl Write,
    tally: &mut Tally,
) -> io::Result<()> {
    for (i, line) in io::stdin().lock().lines().enumerate() {
        let line = line?;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        decode_input(&format!("line {}", i + 1), text, ctx, compact, out, tally)?;
    }
    Ok(())
}

/// Decode every message of one input (`label` names it in error messages).
fn decode_input(
    label: &str,
    hex: &str,
    ctx: &Ctx,
    compact: bool,
    out: &mut impl Write,
    tally: &mut Tally,
) -> io::Result<()> {
    let bytes = match wire::hex::decode(hex) {
        Ok(b) if !b.is_empty() => b,
        Ok(_) => return bad_input(label, "no bytes", tally),
        Err(e) => return bad_input(label, &e, tally),
    };
    let mut rest = &bytes[..];
    let mut index = 1;
    while !rest.is_empty() {
        // A bad or truncated header: decode what is left, which reports the error.
        let len = match wire::frame_len(rest, ctx) {
            Ok(Some(n)) => n.min(rest.len()),
            Ok(None) | Err(_) => rest.len(),
        };
        let (msg, tail) = rest.split_at(len);
        match wire::decode(msg, ctx) {
            Ok((m, findings)) => print(
                &Decoded {
                    message: &m,
                    findings: &findings,
                },
                compact,
                out,
            )?,
            Err(e) => {
                let what = if index == 1 && tail.is_empty() {
                    String::new()
                } else {
                    format!(", message {index}")
                };
                eprintln!("wren decode: {label}{what}: {}", describe(&e));
                print(&failed(&e), compact, out)?;
                tally.failed += 1;
                // After a bad header the stream cannot be resynchronized.
                if len == rest.len() || msg.len() < wire::HEADER_LEN {
                    break;
                }
            }
        }
        rest = tail;
        index += 1;
    }
    Ok(())
}

fn bad_input(label: &str, why: &str, tally: &mut Tally) -> io::Result<()> {
    eprintln!("wren decode: {label}: invalid hex: {why}");
    tally.bad_input += 1;
    Ok(())
}

fn print(value: &impl Serialize, compact: bool, out: &mut impl Write) -> io::Result<()> {
    if compact {
        serde_json::to_writer(&mut *out, value)?;
    } else {
        serde_json::to_writer_pretty(&mut *out, value)?;
    }
    writeln!(out)
}

fn failed(e: &WireError) -> Failed<'_> {
    Failed {
        error: FailedBody {
            offset: e.offset,
            notification: named(&e.notification),
            reason: &e.reason,
        },
    }
}

/// The NOTIFICATION as JSON with `code_name` / `subcode_name` added, unless its own
/// serialization already carries more than code, subcode and data (then it has names).
fn named(n: &NotificationMsg) -> Value {
    let mut v = serde_json::to_value(n).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        if map
            .keys()
            .all(|k| matches!(k.as_str(), "code" | "subcode" | "data"))
        {
            let (code, sub) = names(n.code, n.subcode);
            for (key, name) in [("code_name", code), ("subcode_name", sub)] {
                if let Some(name) = name {
                    map.insert(key.into(), name.into());
                }
            }
        }
    }
    v
}

/// One line for stderr: offset, reason and the NOTIFICATION with its names.
fn describe(e: &WireError) -> String {
    let n = &e.notification;
    let (code, sub) = names(n.code, n.subcode);
    let sub = sub.map(|s| format!(" / {s}")).unwrap_or_default();
    let code = code.unwrap_or("unknown error code");
    format!(
        "at byte {}: {} (NOTIFICATION {}/{} {code}{sub})",
        e.offset, e.reason, n.code, n.subcode
    )
}

/// Names of a NOTIFICATION error code and subcode, when known (the codec's tables).
fn names(code: u8, subcode: u8) -> (Option<&'static str>, Option<&'static str>) {
    (
        notification::code_name(code),
        notification::subcode_name(code, subcode),
    )
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cover_header_and_cease() {
        assert_eq!(
            names(1, 1),
            (
                Some("Message Header Error"),
                Some("Connection Not Synchronized")
            )
        );
        assert_eq!(
            names(6, 2),
            (Some("Cease"), Some("Administrative Shutdown"))
        );
        assert_eq!(
            names(3, 7),
            (
                Some("UPDATE Message Error"),
                Some("AS Routing Loop (deprecated)")
            )
        );
        assert_eq!(names(9, 0), (None, None));
    }

    #[test]
    fn decoded_json_is_flat_with_findings_only_when_present() {
        let v = serde_json::to_value(Decoded {
            message: &Message::Keepalive,
            findings: &[],
        })
        .unwrap();
        assert_eq!(v, serde_json::json!({"type": "keepalive"}));
    }

    #[test]
    fn error_json_has_offset_names_and_reason() {
        let e = WireError::new(16, 1, 2, vec![0, 20], "bad length");
        let v = serde_json::to_value(failed(&e)).unwrap();
        assert_eq!(v["error"]["offset"], 16);
        assert_eq!(
            v["error"]["notification"]["subcode_name"],
            "Bad Message Length"
        );
        assert_eq!(v["error"]["notification"]["data"], "0014");
        assert_eq!(v["error"]["reason"], "bad length");
        assert!(describe(&e).contains("at byte 16"), "{}", describe(&e));
    }
}
