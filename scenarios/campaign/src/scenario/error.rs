//! Errors of a scenario file, each naming `file:line:column`, the key, and what is
//! valid there.

use std::ops::Range;
use std::path::PathBuf;

/// A scenario file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file cannot be read.
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a key or value is not what the format allows.
    #[error("{path}:{line}:{column}: {}{message}", key.as_deref().map(|k| format!("key `{k}`: ")).unwrap_or_default())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// Dotted key path, where known.
        key: Option<String>,
        /// What is wrong and what is valid.
        message: String,
    },
}

impl ScenarioError {
    /// An `Invalid` error at byte `span` of `src`.
    pub fn at(
        path: &std::path::Path,
        src: &str,
        span: Option<Range<usize>>,
        key: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        let start = span.as_ref().map_or(0, |s| s.start.min(src.len()));
        let (line, column) = line_col(src, start);
        let key = key.or_else(|| span.map(|s| key_path_at(src, s)).filter(|k| !k.is_empty()));
        ScenarioError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            key,
            message: capped(message.into()),
        }
    }

    /// From a `toml` error: its span, the key found there, and its message.
    pub fn from_toml(path: &std::path::Path, src: &str, e: &toml::de::Error) -> Self {
        let message = e.message().trim().replace('\n', " ");
        Self::at(path, src, e.span(), None, message)
    }
}

/// 1-based line and column (in characters) of byte `offset`.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, src[line_start..offset].chars().count() + 1)
}

/// The dotted key at `span`: the last table header before it plus the key on its
/// line (or the header itself when the span is the header).
pub fn key_path_at(src: &str, span: Range<usize>) -> String {
    let start = span.start.min(src.len());
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
    let line = src[line_start..line_end].trim();
    if let Some(h) = header(line) {
        return h;
    }
    let table = src[..line_start]
        .lines()
        .rev()
        .find_map(|l| header(l.trim()))
        .unwrap_or_default();
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string());
    match (table.is_empty(), key) {
        (_, None) => table,
        (true, Some(k)) => k,
        (false, Some(k)) => format!("{table}.{k}"),
    }
}

fn header(line: &str) -> Option<String> {
    let inner = line.strip_prefix('[')?;
    let inner = inner.strip_prefix('[').unwrap_or(inner);
    let end = inner.find(']')?;
    Some(inner[..end].trim().to_string())
}

/// A message of at most [`MAX_MESSAGE`] bytes: a value echoed by the TOML parser
/// (a 1 MB string, say) is cut, and the cut says how long the message was.
fn capped(message: String) -> String {
    if message.len() <= MAX_MESSAGE {
        return message;
    }
    let mut cut = MAX_MESSAGE;
    while !message.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}... (message cut, {} bytes in all)",
        &message[..cut],
        message.len()
    )
}

/// The longest error message a scenario file produces, in bytes.
const MAX_MESSAGE: usize = 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_keys() {
        let src = "name = \"x\"\n[migration]\ndriver = \"vm\"\n";
        assert_eq!(line_col(src, 0), (1, 1));
        let at = src.find("\"vm\"").unwrap();
        assert_eq!(line_col(src, at), (3, 10));
        assert_eq!(key_path_at(src, at..at + 4), "migration.driver");
        let h = src.find("[migration]").unwrap();
        assert_eq!(key_path_at(src, h..h + 1), "migration");
        assert_eq!(key_path_at(src, 0..4), "name");
    }
}
