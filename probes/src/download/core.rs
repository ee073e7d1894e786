//! The download checker's sans-IO state machine. It is fed `now` with every input
//! (response head, body chunk, body done, error, timer) and polled for actions (send
//! a request, abort the current one), its next wake-up and events. It decides
//! resumption (`Range` + `If-Range`), attempts and backoff, detects stalls by timer,
//! cuts throughput into 100 ms intervals and hashes the body (SHA-256).

use crate::clock::duration_ns;
use crate::record::{DownloadAttempt, DownloadProgress, DownloadStallStart, Event, EventKind};
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
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Reset => "reset",
            Self::Invalid => "invalid",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Phase {
    Waiting { until: Duration },
    Requesting,
    Receiving,
    Done,
}

/// The checker.
#[derive(Debug)]
pub struct DownloadProbe {
    pub(super) cfg: DownloadConfig,
    /// `cfg.source`, interned once: every event shares it.
    source: crate::record::Source,
    pub(super) phase: Phase,
    pub(super) attempt: u32,
    pub(super) bytes: u64,
    pub(super) hasher: Sha256,
    pub(super) discarded: bool,
    pub(super) etag: Option<String>,
    pub(super) last_modified: Option<String>,
    pub(super) total_size: Option<u64>,
    pub(super) published: Option<String>,
    pub(super) last_byte: Duration,
    pub(super) last_activity: Duration,
    pub(super) stalled: bool,
    pub(super) interval_start: Duration,
    pub(super) interval_bytes: u64,
    pub(super) pending_abort: bool,
    pub(super) events: VecDeque<Event>,
}

impl DownloadProbe {
    /// A checker starting at `now`.
    pub fn new(cfg: DownloadConfig, now: Duration) -> Self {
        Self {
            source: crate::record::Source::from(&cfg.source),
            cfg,
            phase: Phase::Waiting { until: now },
            attempt: 0,
            bytes: 0,
            hasher: Sha256::new(),
            discarded: false,
            etag: None,
            last_modified: None,
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

    pub(super) fn push(&mut self, t: Duration, kind: EventKind) {
        let e = Event::new(t, self.source.clone(), kind);
        crate::log_event(&e);
        self.events.push_back(e);
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
        let Phase::Waiting { until } = self.phase else {
            return None;
        };
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
        // If-Range takes a strong ETag, else the Last-Modified date (RFC 9110 13.1.5:
        // never a weak ETag).
        let strong = self.etag.clone().filter(|t| !t.starts_with("W/"));
        let if_range = range_start.and(strong.or_else(|| self.last_modified.clone()));
        self.push(
            now,
            EventKind::DownloadAttempt(DownloadAttempt {
                url: self.cfg.url.clone(),
                attempt: self.attempt,
                range_start,
                if_range: if_range.clone(),
            }),
        );
        self.phase = Phase::Requesting;
        self.last_activity = now;
        Some(Action::Request {
            attempt: self.attempt,
            range_start,
            if_range,
        })
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

    pub(super) fn flush_intervals(&mut self, now: Duration) {
        while self.interval_start + self.cfg.interval <= now {
            let bytes = std::mem::take(&mut self.interval_bytes);
            self.interval_start += self.cfg.interval;
            self.progress(self.interval_start, self.cfg.interval, bytes);
        }
    }

    pub(super) fn progress(&mut self, t: Duration, len: Duration, bytes: u64) {
        let secs = len.as_secs_f64();
        self.push(
            t,
            EventKind::DownloadProgress(DownloadProgress {
                interval_ms: secs * 1000.0,
                bytes,
                total_bytes: self.bytes,
                throughput_kbps: if secs > 0.0 {
                    bytes as f64 * 8.0 / secs / 1000.0
                } else {
                    0.0
                },
            }),
        );
    }

    /// Timers: throughput intervals, stall detection, attempt timeout, backoff.
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.phase == Phase::Done {
            return;
        }
        self.flush_intervals(now);
        if !self.stalled && now >= self.last_byte + self.cfg.stall_threshold {
            self.stalled = true;
            self.push(
                now,
                EventKind::DownloadStallStart(DownloadStallStart {
                    since_ns: duration_ns(self.last_byte),
                    bytes: self.bytes,
                }),
            );
        }
        if matches!(self.phase, Phase::Requesting | Phase::Receiving)
            && now >= self.last_activity + self.cfg.timeout
        {
            self.pending_abort = true;
            let detail = format!("no data for {:.1} s", self.cfg.timeout.as_secs_f64());
            self.fail_attempt(now, "timeout", None, detail, true);
        }
    }
}
