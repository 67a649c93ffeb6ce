//! The subset of Calico's label selector language that BGPPeer `nodeSelector` and
//! `peerSelector` use: `k == 'v'`, `k != "v"`, `k in {'a', 'b'}`, `k not in {..}`,
//! `has(k)`, `!expr`, `all()`, `&&`, `||` and parentheses (`&&` binds tighter).
//! A label absent from the node makes `==` and `in` false and `!=` and `not in` true,
//! as in Calico.

use std::collections::BTreeMap;

/// A parsed selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    All,
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Has(String),
    Not(Box<Selector>),
    And(Box<Selector>, Box<Selector>),
    Or(Box<Selector>, Box<Selector>),
}

/// Tokens of the selector language.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Str(String),
    Eq,
    Ne,
    Not,
    And,
    Or,
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
}

/// Recursive-descent parser over the tokens.
struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

// ===== impl Selector =====

impl Selector {
    /// Parse a selector; an empty (or blank) one selects everything.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let toks = lex(text).map_err(|e| format!("selector {text:?}: {e}"))?;
        if toks.is_empty() {
            return Ok(Selector::All);
        }
        let mut p = Parser { toks, pos: 0 };
        let sel = p.or().map_err(|e| format!("selector {text:?}: {e}"))?;
        match p.toks.get(p.pos) {
            None => Ok(sel),
            Some(t) => Err(format!("selector {text:?}: unexpected {t:?}")),
        }
    }

    /// Whether a node with these labels is selected.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Selector::All => true,
            Selector::Eq(k, v) => labels.get(k) == Some(v),
            Selector::Ne(k, v) => labels.get(k) != Some(v),
            Selector::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Selector::NotIn(k, vs) => !labels.get(k).is_some_and(|l| vs.contains(l)),
            Selector::Has(k) => labels.contains_key(k),
            Selector::Not(s) => !s.matches(labels),
            Selector::And(a, b) => a.matches(labels) && b.matches(labels),
            Selector::Or(a, b) => a.matches(labels) || b.matches(labels),
        }
    }
}

// ===== impl Parser =====

impl Parser {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn expect(&mut self, want: Tok) -> Result<(), String> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            t => Err(format!("expected {want:?}, found {t:?}")),
        }
    }

    fn or(&mut self) -> Result<Selector, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            left = Selector::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Selector, String> {
        let mut left = self.unary()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            left = Selector::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Selector, String> {
        match self.next() {
            Some(Tok::Not) => Ok(Selector::Not(Box::new(self.unary()?))),
            Some(Tok::LParen) => {
                let s = self.or()?;
                self.expect(Tok::RParen)?;
                Ok(s)
            }
            Some(Tok::Ident(id)) => self.after_ident(id),
            t => Err(format!("expected an expression, found {t:?}")),
        }
    }

    /// `has(k)`, `all()`, or a comparison whose label is `id`.
    fn after_ident(&mut self, id: String) -> Result<Selector, String> {
        if (id == "has" || id == "all") && self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            if id == "all" {
                self.expect(Tok::RParen)?;
                return Ok(Selector::All);
            }
            let key = match self.next() {
                Some(Tok::Ident(k)) => k,
                t => return Err(format!("has() wants a label name, found {t:?}")),
            };
            self.expect(Tok::RParen)?;
            return Ok(Selector::Has(key));
        }
        match self.next() {
            Some(Tok::Eq) => Ok(Selector::Eq(id, self.string()?)),
            Some(Tok::Ne) => Ok(Selector::Ne(id, self.string()?)),
            Some(Tok::Ident(w)) if w == "in" => Ok(Selector::In(id, self.set()?)),
            Some(Tok::Ident(w)) if w == "not" => {
                match self.next() {
                    Some(Tok::Ident(w)) if w == "in" => {}
                    t => return Err(format!("expected `in` after `not`, found {t:?}")),
                }
                Ok(Selector::NotIn(id, self.set()?))
            }
            t => Err(format!(
                "expected ==, !=, in or not in after {id:?}, found {t:?}"
            )),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(s),
            t => Err(format!("expected a quoted value, found {t:?}")),
        }
    }

    fn set(&mut self) -> Result<Vec<String>, String> {
        self.expect(Tok::LBrace)?;
        let mut out = Vec::new();
        if self.peek() == Some(&Tok::RBrace) {
            self.pos += 1;
            return Ok(out);
        }
        loop {
            out.push(self.string()?);
            match self.next() {
                Some(Tok::Comma) => {}
                Some(Tok::RBrace) => return Ok(out),
                t => return Err(format!("expected , or }} in a set, found {t:?}")),
            }
        }
    }
}

// ===== helper functions =====

/// Characters of a label name (Kubernetes: alphanumerics, `-`, `_`, `.`, and `/` for the
/// prefix).
fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        let two = |it: &mut std::iter::Peekable<std::str::Chars>, want: char| {
            if it.peek() == Some(&want) {
                it.next();
                true
            } else {
                false
            }
        };
        let tok = match c {
            c if c.is_whitespace() => continue,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '{' => Tok::LBrace,
            '}' => Tok::RBrace,
            ',' => Tok::Comma,
            '=' if two(&mut it, '=') => Tok::Eq,
            '!' if two(&mut it, '=') => Tok::Ne,
            '!' => Tok::Not,
            '&' if two(&mut it, '&') => Tok::And,
            '|' if two(&mut it, '|') => Tok::Or,
            '\'' | '"' => {
                let mut s = String::new();
                loop {
                    match it.next() {
                        Some(q) if q == c => break,
                        Some(ch) => s.push(ch),
                        None => return Err("unterminated string".into()),
                    }
                }
                Tok::Str(s)
            }
            c if ident_char(c) => {
                let mut s = String::from(c);
                while let Some(&n) = it.peek() {
                    if !ident_char(n) {
                        break;
                    }
                    s.push(n);
                    it.next();
                }
                Tok::Ident(s)
            }
            c => return Err(format!("unexpected character {c:?}")),
        };
        out.push(tok);
    }
    Ok(out)
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn table() {
        let l = labels(&[("rack", "r1"), ("kubernetes.io/role", "rr"), ("zone", "a")]);
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("all()", true),
            ("rack == 'r1'", true),
            ("rack == \"r2\"", false),
            ("rack != 'r2'", true),
            ("missing != 'x'", true),
            ("missing == 'x'", false),
            ("rack in {'r0', 'r1'}", true),
            ("rack in {}", false),
            ("rack not in {'r0', 'r1'}", false),
            ("missing not in {'a'}", true),
            ("has(kubernetes.io/role)", true),
            ("!has(rack)", false),
            ("!has(missing)", true),
            ("rack == 'r1' && zone == 'b'", false),
            ("rack == 'r2' || zone == 'a'", true),
            // && binds tighter than ||.
            ("rack == 'r2' && zone == 'a' || has(rack)", true),
            ("rack == 'r2' && (zone == 'a' || has(rack))", false),
            ("!(rack == 'r2')", true),
        ];
        for (text, want) in cases {
            let sel = Selector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(sel.matches(&l), *want, "{text}");
        }
    }

    #[test]
    fn errors_name_the_selector() {
        for bad in [
            "rack ==",
            "rack = 'a'",
            "has(",
            "(a == 'b'",
            "a in {'x'",
            "a == 'b' x",
            "'x",
        ] {
            let e = Selector::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{bad}: {e}");
        }
    }
}
