//! The parts of an HTTP response head the download checker uses, parsed from header
//! strings (pure; the adapter fills it from its HTTP client).

/// A response head, reduced to what the download core decides on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHead {
    /// HTTP status.
    pub status: u16,
    /// `Content-Length`.
    pub content_length: Option<u64>,
    /// `Content-Range: bytes START-END/TOTAL` as (START, TOTAL); TOTAL `None` for `*`.
    pub content_range: Option<(u64, Option<u64>)>,
    /// `ETag`.
    pub etag: Option<String>,
    /// `Last-Modified`, as sent.
    pub last_modified: Option<String>,
    /// SHA-256 published by the server (`X-Content-SHA256`, hex), if any.
    pub published_sha256: Option<String>,
}

/// The response header carrying a file's published SHA-256 (hex), as `serve file`
/// sends it.
pub const SHA256_HEADER: &str = "x-content-sha256";

/// Parses `bytes START-END/TOTAL` (TOTAL may be `*`). `None` if malformed.
pub fn parse_content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (start, end) = span.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end: u64 = end.trim().parse().ok()?;
    if end < start {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start, total))
}

/// Parses a hex SHA-256 (64 hex digits, any case).
pub fn parse_sha256_hex(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range() {
        assert_eq!(
            parse_content_range("bytes 10-19/100"),
            Some((10, Some(100)))
        );
        assert_eq!(parse_content_range("bytes 10-19/*"), Some((10, None)));
        assert_eq!(parse_content_range("bytes 19-10/100"), None);
        assert_eq!(parse_content_range("items 1-2/3"), None);
        assert_eq!(parse_content_range("bytes x-1/2"), None);
    }

    #[test]
    fn sha_hex() {
        let h = "00".repeat(31) + "Ff";
        assert_eq!(parse_sha256_hex(&h).map(|b| b[31]), Some(255));
        assert_eq!(parse_sha256_hex("abc"), None);
        assert_eq!(parse_sha256_hex(&"é".repeat(32)), None);
        assert_eq!(hex(&[1, 171]), "01ab");
    }
}
