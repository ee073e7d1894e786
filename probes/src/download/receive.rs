//! The download core's receive side: response heads, body chunks, the end of a body,
//! failed attempts and the final verdict. Part of [`DownloadProbe`]; pure like the rest
//! of the core.

use super::core::{DownloadProbe, Failure, Phase};
use super::head::{ResponseHead, hex, parse_sha256_hex};
use crate::clock::duration_ns;
use crate::record::{
    DownloadEnd, DownloadError, DownloadOutcome, DownloadResponse, DownloadStallEnd, EventKind,
};
use sha2::{Digest, Sha256};
use std::time::Duration;

impl DownloadProbe {
    /// A response head arrived.
    pub fn on_response(&mut self, now: Duration, head: ResponseHead) {
        if self.phase != Phase::Requesting {
            return;
        }
        self.flush_intervals(now);
        self.last_activity = now;
        let status = head.status;
        if !(200..300).contains(&status) {
            let retry = status >= 500 || status == 408 || status == 429;
            let hint = if retry {
                "the server may recover"
            } else {
                "check the URL"
            };
            let detail = format!("HTTP {status} for {}: {hint}", self.cfg.url);
            return self.fail_attempt(now, "status", Some(status), detail, retry);
        }
        let offset = match (status, head.content_range) {
            (206, Some((start, _))) => start,
            (206, None) => {
                let detail = "206 without a valid Content-Range".to_string();
                return self.fail_attempt(now, "bad_range", Some(status), detail, true);
            }
            _ => 0,
        };
        if offset != 0 && offset != self.bytes {
            let detail = format!("asked for byte {}, got a range from {offset}", self.bytes);
            return self.fail_attempt(now, "bad_range", Some(status), detail, true);
        }
        if offset != 0
            && let Some(why) = self.changed(&head)
        {
            // The held bytes are of another version of the file: never append the new
            // one to them. Start over with a plain GET on the next attempt.
            self.bytes = 0;
            self.hasher = Sha256::new();
            self.discarded = true;
            self.etag = None;
            self.last_modified = None;
            self.total_size = None;
            self.published = None;
            let detail = format!(
                "the file changed since the first response ({why}): its bytes are discarded and the download starts over"
            );
            return self.fail_attempt(now, "changed", Some(status), detail, true);
        }
        let restarted = offset == 0 && (self.bytes > 0 || self.discarded);
        if offset == 0 && self.bytes > 0 {
            self.bytes = 0;
            self.hasher = Sha256::new();
        }
        self.discarded = false;
        if head.etag.is_some() {
            self.etag = head.etag.clone();
        }
        if head.last_modified.is_some() {
            self.last_modified = head.last_modified.clone();
        }
        let total = head
            .content_range
            .and_then(|(_, t)| t)
            .or(head.content_length.map(|l| l + offset));
        if total.is_some() {
            self.total_size = total;
        }
        if head.published_sha256.is_some() {
            self.published = head.published_sha256;
        }
        self.push(
            now,
            EventKind::DownloadResponse(DownloadResponse {
                attempt: self.attempt,
                status,
                offset,
                total_size: total,
                etag: head.etag,
                restarted_from_zero: restarted,
            }),
        );
        self.phase = Phase::Receiving;
    }

    /// Why a resumed (206) response is not of the version whose bytes are held, if it
    /// is not: a different or missing ETag or Last-Modified, total size or published
    /// checksum than the first response's.
    fn changed(&self, head: &ResponseHead) -> Option<String> {
        let differs = |was: &Option<String>, now: &Option<String>| match (was, now) {
            (Some(a), Some(b)) => a != b,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if differs(&self.etag, &head.etag) {
            return Some(format!(
                "ETag {} then {}",
                self.etag.as_deref().unwrap_or("-"),
                head.etag.as_deref().unwrap_or("none")
            ));
        }
        if differs(&self.last_modified, &head.last_modified) {
            return Some(format!(
                "Last-Modified {} then {}",
                self.last_modified.as_deref().unwrap_or("-"),
                head.last_modified.as_deref().unwrap_or("none")
            ));
        }
        let total = head.content_range.and_then(|(_, t)| t);
        if let (Some(a), Some(b)) = (self.total_size, total)
            && a != b
        {
            return Some(format!("size {a} then {b} bytes"));
        }
        if let (Some(a), Some(b)) = (&self.published, &head.published_sha256)
            && !a.eq_ignore_ascii_case(b)
        {
            return Some("its published SHA-256 changed".into());
        }
        None
    }

    /// A body chunk arrived.
    pub fn on_body(&mut self, now: Duration, chunk: &[u8]) {
        if self.phase != Phase::Receiving || chunk.is_empty() {
            return;
        }
        self.flush_intervals(now);
        if self.stalled {
            self.stalled = false;
            self.push(
                now,
                EventKind::DownloadStallEnd(DownloadStallEnd {
                    start_ns: duration_ns(self.last_byte),
                    duration_ms: now.saturating_sub(self.last_byte).as_secs_f64() * 1000.0,
                    unresolved: false,
                }),
            );
        }
        self.hasher.update(chunk);
        let n = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
        self.bytes = self.bytes.saturating_add(n);
        self.interval_bytes = self.interval_bytes.saturating_add(n);
        self.last_byte = now;
        self.last_activity = now;
    }

    /// The body ended cleanly (as far as the HTTP client knows).
    pub fn on_done(&mut self, now: Duration) {
        if self.phase != Phase::Receiving {
            return;
        }
        if let Some(t) = self.total_size.filter(|&t| self.bytes < t) {
            let detail = format!("body ended at byte {} of {t}", self.bytes);
            return self.fail_attempt(now, "reset", None, detail, true);
        }
        self.end(now, None);
    }

    /// The current attempt failed.
    pub fn on_error(&mut self, now: Duration, kind: Failure, detail: impl Into<String>) {
        if matches!(self.phase, Phase::Requesting | Phase::Receiving) {
            self.fail_attempt(now, kind.name(), None, detail.into(), true);
        }
    }

    /// Stops now (Ctrl-C): the download fails as `interrupted`.
    pub fn interrupt(&mut self, now: Duration) {
        if self.phase != Phase::Done {
            self.end(now, Some("interrupted".into()));
        }
    }

    pub(super) fn fail_attempt(
        &mut self,
        now: Duration,
        error: &str,
        status: Option<u16>,
        detail: String,
        retry: bool,
    ) {
        let will_retry = retry && self.attempt < self.cfg.max_attempts;
        let delay = if will_retry {
            let factor = 2u32.saturating_pow(self.attempt.saturating_sub(1).min(20));
            self.cfg
                .backoff_base
                .saturating_mul(factor)
                .min(self.cfg.backoff_max)
        } else {
            Duration::ZERO
        };
        self.push(
            now,
            EventKind::DownloadError(DownloadError {
                attempt: self.attempt,
                error: error.into(),
                status,
                detail: detail.clone(),
                will_retry,
                delay_ms: delay.as_secs_f64() * 1000.0,
            }),
        );
        if will_retry {
            self.phase = Phase::Waiting { until: now + delay };
        } else {
            let why = if retry {
                format!(
                    "gave up after {} attempts; last error: {detail}",
                    self.attempt
                )
            } else {
                detail
            };
            self.end(now, Some(why));
        }
    }

    pub(super) fn end(&mut self, now: Duration, failure: Option<String>) {
        self.flush_intervals(now);
        let partial = now.saturating_sub(self.interval_start);
        if partial > Duration::ZERO || self.interval_bytes > 0 {
            let bytes = std::mem::take(&mut self.interval_bytes);
            self.progress(now, partial, bytes);
        }
        if self.stalled {
            self.push(
                now,
                EventKind::DownloadStallEnd(DownloadStallEnd {
                    start_ns: duration_ns(self.last_byte),
                    duration_ms: now.saturating_sub(self.last_byte).as_secs_f64() * 1000.0,
                    unresolved: true,
                }),
            );
        }
        let digest: [u8; 32] = self.hasher.clone().finalize().into();
        let expected = self.cfg.expected_sha256.map(|h| hex(&h)).or_else(|| {
            self.published
                .as_deref()
                .and_then(parse_sha256_hex)
                .map(|h| hex(&h))
        });
        let expected_size = self.total_size();
        let complete = failure.is_none();
        let sha256_ok = expected
            .as_ref()
            .filter(|_| complete)
            .map(|e| *e == hex(&digest));
        let size_ok = expected_size.filter(|_| complete).map(|s| s == self.bytes);
        let outcome = match (&failure, sha256_ok, size_ok) {
            (Some(_), _, _) => DownloadOutcome::Failed,
            (None, Some(false), _) | (None, _, Some(false)) => DownloadOutcome::Corrupt,
            _ => DownloadOutcome::Completed,
        };
        self.push(
            now,
            EventKind::DownloadEnd(DownloadEnd {
                outcome,
                bytes: self.bytes,
                sha256: hex(&digest),
                expected_sha256: expected,
                sha256_ok,
                expected_size,
                size_ok,
                reason: failure,
            }),
        );
        self.phase = Phase::Done;
    }
}
