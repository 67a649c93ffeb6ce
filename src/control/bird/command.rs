//! The BIRD 1.6 commands wren answers, parsed from one line.
//!
//! ```text
//!  show status
//!  show protocols [all] [NAME | "PATTERN"]
//!  show route [primary] [count] [protocol NAME]   (options in any order)
//! ```
//!
//! Keywords are lowercase and unabbreviated, like BIRD's server (birdc expands
//! abbreviations on the client side). Anything else is BIRD's `9001 syntax error`.

/// One command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    ShowStatus,
    ShowProtocols {
        all: bool,
        /// A protocol name, or a `"quoted"` pattern with `*` and `?`.
        which: Option<Which>,
    },
    ShowRoute {
        count: bool,
        primary: bool,
        protocol: Option<String>,
    },
}

/// Which protocols `show protocols` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    Name(String),
    Pattern(String),
}

// ===== impl Command =====

impl Command {
    /// Parse one line (without its newline; a trailing `\r` is ignored). `Err` is the
    /// text of the `9001` reply.
    pub fn parse(line: &str) -> Result<Command, String> {
        let words = split(line.trim_end_matches('\r'))?;
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["show", "status"] => Ok(Command::ShowStatus),
            ["show", "protocols", rest @ ..] => protocols(rest),
            ["show", "route", rest @ ..] => route(rest),
            _ => Err(SYNTAX.into()),
        }
    }
}

// ===== impl Which =====

impl Which {
    /// Whether a protocol name is selected.
    pub fn selects(&self, name: &str) -> bool {
        match self {
            Which::Name(n) => n == name,
            Which::Pattern(p) => glob(p.as_bytes(), name.as_bytes()),
        }
    }
}

// ===== helper functions =====

const SYNTAX: &str = "syntax error";

fn protocols(rest: &[&str]) -> Result<Command, String> {
    let (all, rest) = match rest {
        ["all", r @ ..] => (true, r),
        r => (false, r),
    };
    let which = match rest {
        [] => None,
        [one] => Some(which(one)?),
        _ => return Err(SYNTAX.into()),
    };
    Ok(Command::ShowProtocols { all, which })
}

fn route(mut rest: &[&str]) -> Result<Command, String> {
    let (mut count, mut primary, mut protocol) = (false, false, None);
    while let Some((first, r)) = rest.split_first() {
        rest = r;
        match *first {
            "count" if !count => count = true,
            "primary" if !primary => primary = true,
            "protocol" if protocol.is_none() => {
                let (name, r) = rest.split_first().ok_or(SYNTAX)?;
                protocol = Some(symbol(name)?.to_string());
                rest = r;
            }
            _ => return Err(SYNTAX.into()),
        }
    }
    Ok(Command::ShowRoute {
        count,
        primary,
        protocol,
    })
}

fn which(word: &str) -> Result<Which, String> {
    match word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        Some(p) => Ok(Which::Pattern(p.to_string())),
        None => Ok(Which::Name(symbol(word)?.to_string())),
    }
}

/// A BIRD symbol: letters, digits and `_` (quoted names are patterns, not symbols here).
fn symbol(w: &str) -> Result<&str, String> {
    let ok = w
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(w)
    } else {
        Err(SYNTAX.into())
    }
}

/// Words separated by blanks; a `"…"` string is one word (quotes kept).
fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut w = String::new();
        if c == '"' {
            w.push(c);
            chars.next();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some(ch) => w.push(ch),
                    None => return Err(SYNTAX.into()),
                }
            }
            w.push('"');
        } else {
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                w.push(ch);
                chars.next();
            }
        }
        words.push(w);
    }
    Ok(words)
}

/// Shell-style match with `*` (any run) and `?` (one character), like BIRD's `patmatch`.
fn glob(p: &[u8], s: &[u8]) -> bool {
    match (p.split_first(), s.split_first()) {
        (None, _) => s.is_empty(),
        (Some((b'*', rest)), _) => (0..=s.len()).any(|i| glob(rest, &s[i..])),
        (Some((b'?', rest)), Some((_, srest))) => glob(rest, srest),
        (Some((c, rest)), Some((d, srest))) if c == d => glob(rest, srest),
        _ => false,
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> Option<Which> {
        Some(Which::Name(n.into()))
    }

    #[test]
    fn parses_what_calico_sends() {
        assert_eq!(Command::parse("show status"), Ok(Command::ShowStatus));
        assert_eq!(
            Command::parse("  show   status \r"),
            Ok(Command::ShowStatus)
        );
        assert_eq!(
            Command::parse("show protocols"),
            Ok(Command::ShowProtocols {
                all: false,
                which: None
            })
        );
        assert_eq!(
            Command::parse("show protocols all Mesh_10_0_0_2"),
            Ok(Command::ShowProtocols {
                all: true,
                which: name("Mesh_10_0_0_2")
            })
        );
        assert_eq!(
            Command::parse("show protocols \"Mesh*\""),
            Ok(Command::ShowProtocols {
                all: false,
                which: Some(Which::Pattern("Mesh*".into()))
            })
        );
        assert_eq!(
            Command::parse("show route"),
            Ok(Command::ShowRoute {
                count: false,
                primary: false,
                protocol: None
            })
        );
        assert_eq!(
            Command::parse("show route count protocol static1"),
            Ok(Command::ShowRoute {
                count: true,
                primary: false,
                protocol: Some("static1".into())
            })
        );
        assert_eq!(
            Command::parse("show route protocol static1 primary"),
            Ok(Command::ShowRoute {
                count: false,
                primary: true,
                protocol: Some("static1".into())
            })
        );
    }

    #[test]
    fn rejects_like_birds_server() {
        for bad in [
            "",
            "show",
            "help",
            "SHOW STATUS",
            "show protocol",
            "show protocols static1 all",
            "show protocols a b",
            "show route protocol",
            "show route count count",
            "show route for 10.0.0.1",
            "show protocols \"unterminated",
            "configure",
        ] {
            assert_eq!(Command::parse(bad), Err(SYNTAX.into()), "{bad:?}");
        }
    }

    #[test]
    fn patterns_match_like_patmatch() {
        let p = Which::Pattern("Mesh_*".into());
        assert!(p.selects("Mesh_10_0_0_2"));
        assert!(!p.selects("Node_10_0_0_2"));
        assert!(Which::Pattern("k?rnel1".into()).selects("kernel1"));
        assert!(Which::Pattern("*".into()).selects(""));
        assert!(!Which::Name("kernel".into()).selects("kernel1"));
    }
}
