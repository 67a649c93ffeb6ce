//! `birdcl`: BIRD's command-line client, for the BIRD-compatible socket.
//!
//! ```text
//! birdcl [-s SOCKET] [-v] [-r] [-l] [COMMAND...]
//! ```
//!
//! With a command, it is sent and the reply printed; without one, commands are read from
//! standard input, one per line. Keyword abbreviations are expanded (`sh pro`). Printing follows BIRD's client: each line without its
//! 5-character code prefix (`0001 `, `1002-`), continuation lines without their leading
//! space, the `0000` end line not at all; `-v` prints the raw lines. The greeting is
//! printed first (`BIRD v… ready.`): calico-node's liveness probe checks that stdout
//! starts with `BIRD`.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use super::View;

/// How long to wait for the daemon.
const TIMEOUT: Duration = Duration::from_secs(10);
/// BIRD's own default directory, which Calico's clients fall back to.
const FALLBACK_DIR: &str = "/var/run/bird";

/// Parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub socket: Option<PathBuf>,
    pub verbose: bool,
    pub command: Vec<String>,
}

/// One reply line as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What to print (`None`: nothing, e.g. the `0000` end line).
    pub print: Option<String>,
    /// The last line of a reply.
    pub last: bool,
}

// ===== impl Args =====

impl Args {
    /// Parse `birdcl`'s arguments (without argv[0]). `Err` is the usage message.
    pub fn parse(argv: &[String]) -> Result<Args, String> {
        let mut a = Args {
            socket: None,
            verbose: false,
            command: Vec::new(),
        };
        let mut it = argv.iter();
        while let Some(w) = it.next() {
            match w.as_str() {
                "-s" => a.socket = Some(it.next().ok_or_else(usage)?.into()),
                "-v" => a.verbose = true,
                // Restricted mode and the local socket: only show commands exist here.
                "-r" => {}
                "-l" => a.socket = Some("bird.ctl".into()),
                s if s.starts_with("-s") && s.len() > 2 => a.socket = Some(s[2..].into()),
                s if s.starts_with('-') && a.command.is_empty() => return Err(usage()),
                _ => a.command.push(w.clone()),
            }
        }
        Ok(a)
    }
}

// ===== helper functions =====

fn usage() -> String {
    "Usage: birdcl [-s <control-socket>] [-v] [-r] [-l] [command...]".to_string()
}

/// How `birdcl` shows one raw reply line (BIRD's `client.c`).
pub fn render(raw: &str, verbose: bool) -> Line {
    let b = raw.as_bytes();
    let coded =
        b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && matches!(b[4], b' ' | b'-');
    let last = coded && b[4] == b' ';
    if verbose {
        return Line {
            print: Some(raw.to_string()),
            last,
        };
    }
    let print = if coded {
        (&raw[..4] != "0000").then(|| raw[5..].to_string())
    } else if let Some(rest) = raw.strip_prefix([' ', '+']) {
        Some(rest.to_string())
    } else {
        Some(raw.to_string())
    };
    Line { print, last }
}

/// Expand unambiguous abbreviations of the keywords, like BIRD's client does before
/// sending (`sh pro all X` → `show protocols all X`); names are never expanded.
pub fn expand(line: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for w in line.split_whitespace() {
        let prev: Vec<&str> = out.iter().map(String::as_str).collect();
        let choices: &[&str] = match prev.as_slice() {
            [] => &["show"],
            ["show"] => &["status", "protocols", "route"],
            ["show", "protocols"] => &["all"],
            ["show", "route", .., "protocol"] => &[],
            ["show", "route", ..] => &["count", "primary", "protocol"],
            _ => &[],
        };
        let hits: Vec<&&str> = choices.iter().filter(|c| c.starts_with(w)).collect();
        match hits.as_slice() {
            [one] if !w.is_empty() => out.push((**one).to_string()),
            _ => out.push(w.to_string()),
        }
    }
    out.join(" ")
}

/// Run `birdcl` (or `birdcl6` with `view` V6); returns the exit code.
pub fn run(argv: &[String], view: View) -> i32 {
    let args = match Args::parse(argv) {
        Ok(a) => a,
        Err(u) => {
            eprintln!("{u}");
            return 1;
        }
    };
    match session(&args, view) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

fn session(args: &Args, view: View) -> io::Result<()> {
    let stream = connect(args, view)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let mut wr = stream.try_clone()?;
    let mut rd = BufReader::new(stream);
    let out = io::stdout();
    let mut out = out.lock();
    relay(&mut rd, &mut out, args.verbose)?; // the greeting
    let commands: Vec<String> = if args.command.is_empty() {
        io::stdin().lock().lines().collect::<io::Result<_>>()?
    } else {
        vec![args.command.join(" ")]
    };
    let commands: Vec<String> = commands.iter().map(|c| expand(c)).collect();
    for c in commands.iter().filter(|c| !c.trim().is_empty()) {
        wr.write_all(format!("{c}\n").as_bytes())?;
        relay(&mut rd, &mut out, args.verbose)?;
    }
    out.flush()
}

/// Print one reply, up to and including its last line.
fn relay(rd: &mut impl BufRead, out: &mut impl Write, verbose: bool) -> io::Result<()> {
    loop {
        let mut raw = String::new();
        if rd.read_line(&mut raw)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "Connection closed by server",
            ));
        }
        let line = render(raw.trim_end_matches('\n'), verbose);
        if let Some(p) = line.print {
            writeln!(out, "{p}")?;
        }
        if line.last {
            return Ok(());
        }
    }
}

/// The given socket, or the view's default with BIRD's own directory as the fallback.
fn connect(args: &Args, view: View) -> io::Result<UnixStream> {
    let tried: Vec<PathBuf> = match &args.socket {
        Some(s) => vec![s.clone()],
        None => {
            let def = PathBuf::from(view.default_socket());
            let name = def.file_name().map(PathBuf::from).unwrap_or_default();
            vec![def, PathBuf::from(FALLBACK_DIR).join(name)]
        }
    };
    let mut last = None;
    for p in &tried {
        match UnixStream::connect(p) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some((p, e)),
        }
    }
    let (p, e) = last.expect("at least one socket was tried");
    Err(io::Error::new(
        e.kind(),
        format!(
            "Unable to connect to server control socket ({}): {e}",
            p.display()
        ),
    ))
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(raw: &str) -> Option<String> {
        render(raw, false).print
    }

    #[test]
    fn lines_print_like_birdcl() {
        assert_eq!(
            printed("0001 BIRD v0.1.0+wren ready.").as_deref(),
            Some("BIRD v0.1.0+wren ready.")
        );
        assert_eq!(
            printed("1002-kernel1  Kernel").as_deref(),
            Some("kernel1  Kernel")
        );
        assert_eq!(
            printed(" device1  Device").as_deref(),
            Some("device1  Device")
        );
        assert_eq!(
            printed("   Waiting for 1 protocols").as_deref(),
            Some("  Waiting for 1 protocols")
        );
        assert_eq!(printed("0000 "), None);
        assert_eq!(
            printed("9001 syntax error").as_deref(),
            Some("syntax error")
        );
        assert!(render("0013 Daemon is up and running", false).last);
        assert!(render("0000 ", false).last);
        assert!(!render("1011-Router ID is 1.2.3.4", false).last);
        assert!(!render(" Last reboot on x", false).last);
        assert_eq!(render("1002-x", true).print.as_deref(), Some("1002-x"));
    }

    #[test]
    fn abbreviations_expand_like_birdcl() {
        assert_eq!(expand("sh s"), "show status");
        assert_eq!(expand("sh pro al Mesh_1"), "show protocols all Mesh_1");
        assert_eq!(expand("sh pro Mesh_1"), "show protocols Mesh_1");
        assert_eq!(expand("s r c"), "show route count");
        assert_eq!(
            expand("show route pr x"),
            "show route pr x",
            "primary or protocol"
        );
        assert_eq!(expand("show route proto st"), "show route protocol st");
        assert_eq!(
            expand("show route protocol c"),
            "show route protocol c",
            "a name"
        );
        assert_eq!(expand("  show   status "), "show status");
        assert_eq!(expand("configure"), "configure");
    }

    #[test]
    fn arguments_like_birdcl() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let a = Args::parse(&v(&["-s", "/tmp/b.ctl", "show", "status"])).unwrap();
        assert_eq!(a.socket, Some(PathBuf::from("/tmp/b.ctl")));
        assert_eq!(a.command, ["show", "status"]);
        let a = Args::parse(&v(&["-s/tmp/x", "-v", "show", "route", "count"])).unwrap();
        assert_eq!((a.socket, a.verbose), (Some(PathBuf::from("/tmp/x")), true));
        assert!(Args::parse(&v(&["-s"])).is_err());
        assert!(Args::parse(&v(&["-x", "show"])).is_err());
        assert!(Args::parse(&v(&[])).unwrap().command.is_empty());
    }
}
