//! Retry policies: what the player does when a request fails, and what it does once
//! it gives up.
//!
//! - `dashjs`: dash.js 5.2.1's defaults, read from its code (docs/player.md cites the
//!   files): a request is tried once plus `retryAttempts` more times (3 for the MPD,
//!   media, init and index segments), each retry `retryIntervals` after the failed try
//!   ended (500 ms for the MPD, 1000 ms for segments), no backoff; every try is cut by
//!   the request timeout (`manifestRequestTimeout` 10 s, `fragmentRequestTimeout`
//!   20 s). After the last try dash.js raises error 27 (25 for the MPD), puts the
//!   service location on a blocklist that never expires (`blacklistExpiryTime` -1)
//!   and schedules no further media request: playback drains the buffer and then
//!   stays stalled; the session does not end ([`AfterGivingUp::StayStalled`]).
//! - `persistent`: exponential backoff (500 ms, x2, capped at 8 s) with no attempt
//!   limit, until `give_up_after` has passed since the request's first failure; then
//!   the player plays what it holds and the session ends ([`AfterGivingUp::End`]).

use crate::record::RequestType;
use std::time::Duration;

/// A retry policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RetryPolicy {
    /// dash.js defaults.
    DashJs {
        /// Retries of a manifest request after its first try (`retryAttempts.MPD`, 3).
        manifest_retries: u32,
        /// Wait before each manifest retry (`retryIntervals.MPD`, 500 ms).
        manifest_interval: Duration,
        /// Retries of every other request after its first try (`retryAttempts` of
        /// MediaSegment, InitializationSegment and IndexSegment, 3).
        segment_retries: u32,
        /// Wait before each of those retries (`retryIntervals`, 1000 ms).
        segment_interval: Duration,
    },
    /// Exponential backoff until a deadline.
    Persistent {
        /// First wait (500 ms).
        base: Duration,
        /// Growth factor (2).
        factor: f64,
        /// Longest wait (8 s).
        cap: Duration,
        /// Give up when this long has passed since the first failure.
        give_up_after: Duration,
    },
}

/// What the player does once a media-slot request has failed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterGivingUp {
    /// dash.js: the server is blocklisted, no further media request is made, the
    /// buffer drains and playback stays stalled until the session is stopped.
    StayStalled,
    /// Play what is buffered, then end the session (`end_reason: gave_up`).
    End,
}

/// dash.js 5.2.1 `streaming.retryAttempts` for the MPD and for segments.
pub const DASHJS_RETRY_ATTEMPTS: u32 = 3;
/// dash.js 5.2.1 `streaming.retryIntervals.MPD`.
pub const DASHJS_MANIFEST_RETRY_INTERVAL: Duration = Duration::from_millis(500);
/// dash.js 5.2.1 `streaming.retryIntervals` of MediaSegment, InitializationSegment
/// and IndexSegment.
pub const DASHJS_SEGMENT_RETRY_INTERVAL: Duration = Duration::from_millis(1000);
/// dash.js 5.2.1 `streaming.manifestRequestTimeout`.
pub const DASHJS_MANIFEST_TIMEOUT: Duration = Duration::from_secs(10);
/// dash.js 5.2.1 `streaming.fragmentRequestTimeout`.
pub const DASHJS_FRAGMENT_TIMEOUT: Duration = Duration::from_secs(20);

impl RetryPolicy {
    /// dash.js's defaults.
    pub fn dashjs() -> Self {
        RetryPolicy::DashJs {
            manifest_retries: DASHJS_RETRY_ATTEMPTS,
            manifest_interval: DASHJS_MANIFEST_RETRY_INTERVAL,
            segment_retries: DASHJS_RETRY_ATTEMPTS,
            segment_interval: DASHJS_SEGMENT_RETRY_INTERVAL,
        }
    }

    /// Persistent backoff giving up after `give_up_after`.
    pub fn persistent(give_up_after: Duration) -> Self {
        RetryPolicy::Persistent {
            base: Duration::from_millis(500),
            factor: 2.0,
            cap: Duration::from_secs(8),
            give_up_after,
        }
    }

    /// Parses `dashjs` or `persistent`.
    pub fn by_name(name: &str, give_up_after: Duration) -> Option<Self> {
        match name {
            "dashjs" => Some(Self::dashjs()),
            "persistent" => Some(Self::persistent(give_up_after)),
            _ => None,
        }
    }

    /// The policy's name.
    pub fn name(&self) -> &'static str {
        match self {
            RetryPolicy::DashJs { .. } => "dashjs",
            RetryPolicy::Persistent { .. } => "persistent",
        }
    }

    /// What happens once a media-slot request has failed for good.
    pub fn after_giving_up(&self) -> AfterGivingUp {
        match self {
            RetryPolicy::DashJs { .. } => AfterGivingUp::StayStalled,
            RetryPolicy::Persistent { .. } => AfterGivingUp::End,
        }
    }

    /// After try number `failed_attempt` (1-based: 1 is the first request) of a
    /// request failed, and `since_first_failure` has passed since its first failure:
    /// the wait before the next try, or `None` to give up.
    pub fn next_delay(
        &self,
        request: RequestType,
        failed_attempt: u32,
        since_first_failure: Duration,
    ) -> Option<Duration> {
        match *self {
            RetryPolicy::DashJs {
                manifest_retries,
                manifest_interval,
                segment_retries,
                segment_interval,
            } => {
                let (retries, interval) = match request {
                    RequestType::Manifest | RequestType::Playlist => {
                        (manifest_retries, manifest_interval)
                    }
                    _ => (segment_retries, segment_interval),
                };
                // Try 1 is the request; tries 2..=1+retries are the retries.
                (failed_attempt <= retries).then_some(interval)
            }
            RetryPolicy::Persistent {
                base,
                factor,
                cap,
                give_up_after,
            } => {
                if since_first_failure >= give_up_after {
                    return None;
                }
                let exp = factor.powi(failed_attempt.saturating_sub(1).min(64) as i32);
                let wait = base.as_secs_f64() * exp;
                let wait = Duration::from_secs_f64(wait.min(cap.as_secs_f64()));
                Some(wait)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashjs_makes_four_tries_per_request() {
        let p = RetryPolicy::dashjs();
        let ms = Duration::from_millis;
        for failed in 1..=3 {
            assert_eq!(
                p.next_delay(RequestType::Media, failed, ms(0)),
                Some(ms(1000)),
                "after try {failed}"
            );
            assert_eq!(
                p.next_delay(RequestType::Init, failed, ms(0)),
                Some(ms(1000))
            );
            assert_eq!(
                p.next_delay(RequestType::Manifest, failed, ms(0)),
                Some(ms(500))
            );
        }
        assert_eq!(p.next_delay(RequestType::Media, 4, ms(63_000)), None);
        assert_eq!(p.next_delay(RequestType::Manifest, 4, ms(31_500)), None);
        assert_eq!(p.after_giving_up(), AfterGivingUp::StayStalled);
    }

    #[test]
    fn persistent_backs_off_to_the_cap_and_gives_up_at_the_deadline() {
        let p = RetryPolicy::persistent(Duration::from_secs(60));
        let ms = Duration::from_millis;
        assert_eq!(p.next_delay(RequestType::Media, 1, ms(0)), Some(ms(500)));
        assert_eq!(p.next_delay(RequestType::Media, 2, ms(0)), Some(ms(1000)));
        assert_eq!(p.next_delay(RequestType::Media, 5, ms(0)), Some(ms(8000)));
        assert_eq!(
            p.next_delay(RequestType::Media, 50, ms(59_999)),
            Some(ms(8000))
        );
        assert_eq!(p.next_delay(RequestType::Media, 2, ms(60_000)), None);
        assert_eq!(p.after_giving_up(), AfterGivingUp::End);
    }
}
