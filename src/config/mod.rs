//! The TOML configuration: model, defaults, loading and validation.
//!
//! Loading runs parse → [`validate`] and never half-applies: a config with any error is
//! refused as a whole, with the file, the key and the reason ([`ConfigError`]).
//! The public key names follow DESIGN.md "Public shape of the config"; keep them stable.

mod diff;
mod types;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

pub use diff::{diff, peer_changes, ConfigDelta, FieldChange};
pub use types::*;
pub use validate::{validate, Warning};

/// A refused config: which file, which key, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based line and column, when the parser knows them.
    pub line_col: Option<(usize, usize)>,
    /// Dotted key path, e.g. `peer[1].hold_time`; empty for file-level problems.
    pub key: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((l, c)) = self.line_col {
            write!(f, ":{l}:{c}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": key `{}`", self.key)?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// Read, parse and validate a config file.
pub fn load(path: &Path) -> Result<(Config, Vec<Warning>), Vec<ConfigError>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![ConfigError {
            file: path.to_path_buf(),
            line_col: None,
            key: String::new(),
            reason: format!("cannot read the file: {e}"),
        }]
    })?;
    let cfg = parse(&text, path).map_err(|e| vec![e])?;
    let warnings = validate(&cfg, path)?;
    Ok((cfg, warnings))
}

/// Parse TOML text into a [`Config`] (no semantic validation). `path` is used in errors.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let err = |span: Option<std::ops::Range<usize>>, key: String, reason: String| ConfigError {
        file: path.to_path_buf(),
        line_col: span.map(|s| line_col(text, s.start)),
        key,
        reason,
    };
    let de = toml::Deserializer::parse(text)
        .map_err(|e| err(e.span(), String::new(), e.message().trim().to_string()))?;
    let cfg: Config = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let key = if key == "." { String::new() } else { key };
        let inner = e.into_inner();
        err(inner.span(), key, inner.message().trim().to_string())
    })?;
    // `[router]` may be left out only when the datastore supplies it.
    if cfg.datastore.kind == DatastoreKind::File && !has_table(text, "router") {
        return Err(err(
            None,
            "router".into(),
            "missing table [router] (asn is required unless [datastore] kind = \"etcd\")".into(),
        ));
    }
    Ok(cfg)
}

/// Whether the (already parsed) TOML text has a top-level key `name`.
fn has_table(text: &str, name: &str) -> bool {
    text.parse::<toml::Table>()
        .is_ok_and(|t| t.contains_key(name))
}

/// 1-based line and column of byte `pos` in `text`.
fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = text.get(..pos).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests;
