//! The download checker's sans-IO state machine. It is fed `now` with every input
//! (response head, body chunk, body done, error, timer) and polled for actions (send
//! a request, abort the current one), its next wake-up and events. It decides
//! resumption (`Range` + `If-Range`), attempts and backoff, detects stalls by timer,
//! cuts throughput into 100 ms intervals and hashes the body (SHA-256).

use super::head::{ResponseHead, hex, parse_sha256_hex};
use crate::clock::duration_ns;
use crate::record::{
    DownloadAttempt, DownloadEnd, DownloadError, DownloadOutcome, DownloadProgress,
    DownloadResponse, DownloadStallEnd, DownloadStallStart, Event, EventKind,
};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::time::Duration;

/// What the checker does.
#[derive(Debug, Clone)]
pub struct DownloadConfig {
    /// URL to fetch.
    pub url: String,
    /// Resume with `Range` + `If-Range` after a failure (`false`: a naive client that
    /// starts over from byte 0).
    pub resume: bool,
    /// Attempts in all (first try included).
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each further one.
    pub backoff_base: Duration,
    /// Longest wait between attempts.
    pub backoff_max: Duration,
    /// No byte for this long is a stall.
    pub stall_threshold: Duration,
    /// No byte (or no response head) for this long aborts the attempt.
    pub timeout: Duration,
    /// Throughput interval.
    pub interval: Duration,
    /// Expected SHA-256.
    pub expected_sha256: Option<[u8; 32]>,
    /// Expected size in bytes.
    pub expected_size: Option<u64>,
    /// Event source, e.g. `probe:download`.
    pub source: String,
}

impl DownloadConfig {
    /// Defaults: resume on, 5 attempts, 0.5 s backoff doubling up to 8 s, stall
    /// threshold 1 s, timeout 10 s, 100 ms intervals.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            resume: true,
            max_attempts: 5,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(8),
            stall_threshold: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            interval: Duration::from_millis(100),
            expected_sha256: None,
            expected_size: None,
            source: crate::record::probe_source("download"),
        }
    }
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send a GET for the URL, with `Range: bytes=START-` and `If-Range: ETAG` when given.
    Request {
        /// Attempt number.
        attempt: u32,
        /// First byte wanted.
        range_start: Option<u64>,
        /// `If-Range` value.
        if_range: Option<String>,
    },
    /// Drop the current request (it timed out).
    Abort,
}

/// How an attempt failed, as the driver saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Could not connect (refused, unreachable, DNS).
    Connect,
    /// The connection broke (reset, closed early).
    Reset,
    /// Anything else the client reported.
    Invalid,
}

impl Failure {
    fn name(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Reset => "reset",
            Self::Invalid => "invalid",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Waiting { until: Duration },
    Requesting,
    Receiving,
    Done,
}

/// The checker.
#[derive(Debug)]
pub struct DownloadProbe {
    cfg: DownloadConfig,
    phase: Phase,
    attempt: u32,
    bytes: u64,
    hasher: Sha256,
    discarded: bool,
    etag: Option<String>,
    total_size: Option<u64>,
    published: Option<String>,
    last_byte: Duration,
    last_activity: Duration,
    stalled: bool,
    interval_start: Duration,
    interval_bytes: u64,
    pending_abort: bool,
    events: VecDeque<Event>,
}

impl DownloadProbe {
    /// A checker starting at `now`.
    pub fn new(cfg: DownloadConfig, now: Duration) -> Self {
        Self {
            cfg,
            phase: Phase::Waiting { until: now },
            attempt: 0,
            bytes: 0,
            hasher: Sha256::new(),
            discarded: false,
            etag: None,
            total_size: None,
            published: None,
            last_byte: now,
            last_activity: now,
            stalled: false,
            interval_start: now,
            interval_bytes: 0,
            pending_abort: false,
            events: VecDeque::new(),
        }
    }

    fn push(&mut self, t: Duration, kind: EventKind) {
        self.events.push_back(Event::new(t, self.cfg.source.clone(), kind));
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// `true` once the download has ended.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Bytes of the file held now.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Size of the file, once known.
    pub fn total_size(&self) -> Option<u64> {
        self.cfg.expected_size.or(self.total_size)
    }

    /// The next thing to do at `now`, if any.
    pub fn poll_action(&mut self, now: Duration) -> Option<Action> {
        if std::mem::take(&mut self.pending_abort) {
            return Some(Action::Abort);
        }
        let Phase::Waiting { until } = self.phase else { return None };
        if now < until {
            return None;
        }
        self.attempt += 1;
        if !self.cfg.resume && self.bytes > 0 {
            self.bytes = 0;
            self.hasher = Sha256::new();
            self.discarded = true;
        }
        let range_start = (self.bytes > 0).then_some(self.bytes);
        let if_range = range_start.and(self.etag.clone());
        self.push(now, EventKind::DownloadAttempt(DownloadAttempt {
            url: self.cfg.url.clone(),
            attempt: self.attempt,
            range_start,
            if_range: if_range.clone(),
        }));
        self.phase = Phase::Requesting;
        self.last_activity = now;
        Some(Action::Request { attempt: self.attempt, range_start, if_range })
    }

    /// When the checker next needs `handle_timeout`.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let interval = self.interval_start + self.cfg.interval;
        let mut t = match self.phase {
            Phase::Done => return None,
            Phase::Waiting { until } => until.min(interval),
            Phase::Requesting | Phase::Receiving => {
                interval.min(self.last_activity + self.cfg.timeout)
            }
        };
        if !self.stalled {
            t = t.min(self.last_byte + self.cfg.stall_threshold);
        }
        Some(t)
    }

    fn flush_intervals(&mut self, now: Duration) {
        while self.interval_start + self.cfg.interval <= now {
            let bytes = std::mem::take(&mut self.interval_bytes);
            self.interval_start += self.cfg.interval;
            self.progress(self.interval_start, self.cfg.interval, bytes);
        }
    }

    fn progress(&mut self, t: Duration, len: Duration, bytes: u64) {
        let secs = len.as_secs_f64();
        self.push(t, EventKind::DownloadProgress(DownloadProgress {
            interval_ms: secs * 1000.0,
            bytes,
            total_bytes: self.bytes,
            throughput_kbps: if secs > 0.0 { bytes as f64 * 8.0 / secs / 1000.0 } else { 0.0 },
        }));
    }

    /// Timers: throughput intervals, stall detection, attempt timeout, backoff.
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.phase == Phase::Done {
            return;
        }
        self.flush_intervals(now);
        if !self.stalled && now >= self.last_byte + self.cfg.stall_threshold {
            self.stalled = true;
            self.push(now, EventKind::DownloadStallStart(DownloadStallStart {
                since_ns: duration_ns(self.last_byte),
                bytes: self.bytes,
            }));
        }
        if matches!(self.phase, Phase::Requesting | Phase::Receiving)
            && now >= self.last_activity + self.cfg.timeout
        {
            self.pending_abort = true;
            let detail = format!("no data for {:.1} s", self.cfg.timeout.as_secs_f64());
            self.fail_attempt(now, "timeout", None, detail, true);
        }
    }

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
            let hint = if retry { "the server may recover" } else { "check the URL" };
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
        let restarted = offset == 0 && (self.bytes > 0 || self.discarded);
        if offset == 0 && self.bytes > 0 {
            self.bytes = 0;
            self.hasher = Sha256::new();
        }
        self.discarded = false;
        if head.etag.is_some() {
            self.etag = head.etag.clone();
        }
        let total = head.content_range.and_then(|(_, t)| t).or(head.content_length.map(|l| l + offset));
        if total.is_some() {
            self.total_size = total;
        }
        if head.published_sha256.is_some() {
            self.published = head.published_sha256;
        }
        self.push(now, EventKind::DownloadResponse(DownloadResponse {
            attempt: self.attempt,
            status,
            offset,
            total_size: total,
            etag: head.etag,
            restarted_from_zero: restarted,
        }));
        self.phase = Phase::Receiving;
    }

    /// A body chunk arrived.
    pub fn on_body(&mut self, now: Duration, chunk: &[u8]) {
        if self.phase != Phase::Receiving || chunk.is_empty() {
            return;
        }
        self.flush_intervals(now);
        if self.stalled {
            self.stalled = false;
            self.push(now, EventKind::DownloadStallEnd(DownloadStallEnd {
                start_ns: duration_ns(self.last_byte),
                duration_ms: now.saturating_sub(self.last_byte).as_secs_f64() * 1000.0,
                unresolved: false,
            }));
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

    fn fail_attempt(&mut self, now: Duration, error: &str, status: Option<u16>, detail: String, retry: bool) {
        let will_retry = retry && self.attempt < self.cfg.max_attempts;
        let delay = if will_retry {
            let factor = 2u32.saturating_pow(self.attempt.saturating_sub(1).min(20));
            self.cfg.backoff_base.saturating_mul(factor).min(self.cfg.backoff_max)
        } else {
            Duration::ZERO
        };
        self.push(now, EventKind::DownloadError(DownloadError {
            attempt: self.attempt,
            error: error.into(),
            status,
            detail: detail.clone(),
            will_retry,
            delay_ms: delay.as_secs_f64() * 1000.0,
        }));
        if will_retry {
            self.phase = Phase::Waiting { until: now + delay };
        } else {
            let why = if retry {
                format!("gave up after {} attempts; last error: {detail}", self.attempt)
            } else {
                detail
            };
            self.end(now, Some(why));
        }
    }

    fn end(&mut self, now: Duration, failure: Option<String>) {
        self.flush_intervals(now);
        let partial = now.saturating_sub(self.interval_start);
        if partial > Duration::ZERO || self.interval_bytes > 0 {
            let bytes = std::mem::take(&mut self.interval_bytes);
            self.progress(now, partial, bytes);
        }
        if self.stalled {
            self.push(now, EventKind::DownloadStallEnd(DownloadStallEnd {
                start_ns: duration_ns(self.last_byte),
                duration_ms: now.saturating_sub(self.last_byte).as_secs_f64() * 1000.0,
                unresolved: true,
            }));
        }
        let digest: [u8; 32] = self.hasher.clone().finalize().into();
        let expected = self.cfg.expected_sha256.map(|h| hex(&h)).or_else(|| {
            self.published.as_deref().and_then(parse_sha256_hex).map(|h| hex(&h))
        });
        let expected_size = self.total_size();
        let complete = failure.is_none();
        let sha256_ok = expected.as_ref().filter(|_| complete).map(|e| *e == hex(&digest));
        let size_ok = expected_size.filter(|_| complete).map(|s| s == self.bytes);
        let outcome = match (&failure, sha256_ok, size_ok) {
            (Some(_), _, _) => DownloadOutcome::Failed,
            (None, Some(false), _) | (None, _, Some(false)) => DownloadOutcome::Corrupt,
            _ => DownloadOutcome::Completed,
        };
        self.push(now, EventKind::DownloadEnd(DownloadEnd {
            outcome,
            bytes: self.bytes,
            sha256: hex(&digest),
            expected_sha256: expected,
            sha256_ok,
            expected_size,
            size_ok,
            reason: failure,
        }));
        self.phase = Phase::Done;
    }
}
