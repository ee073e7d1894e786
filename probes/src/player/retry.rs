//! Retry policies: what the player does when a request fails.
//!
//! - `dashjs`: as dash.js does by default: the manifest gets 3 attempts 500 ms apart,
//!   every other request 3 attempts 1000 ms apart, no backoff; then the request fails
//!   for good and the player stops fetching (dash.js does not recover).
//! - `persistent`: exponential backoff (500 ms, x2, capped at 8 s) with no attempt
//!   limit, until `give_up_after` has passed since the request's first failure.

use crate::record::RequestType;
use std::time::Duration;

/// A retry policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RetryPolicy {
    /// dash.js defaults.
    DashJs {
        /// Attempts for the manifest (3).
        manifest_attempts: u32,
        /// Wait between manifest attempts (500 ms).
        manifest_interval: Duration,
        /// Attempts for every other request (3).
        segment_attempts: u32,
        /// Wait between them (1000 ms).
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

impl RetryPolicy {
    /// dash.js's defaults.
    pub fn dashjs() -> Self {
        RetryPolicy::DashJs {
            manifest_attempts: 3,
            manifest_interval: Duration::from_millis(500),
            segment_attempts: 3,
            segment_interval: Duration::from_millis(1000),
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

    /// After attempt number `failed_attempt` (1-based) of a request failed, and
    /// `since_first_failure` has passed since its first failure: the wait before the
    /// next attempt, or `None` to give up.
    pub fn next_delay(
        &self,
        request: RequestType,
        failed_attempt: u32,
        since_first_failure: Duration,
    ) -> Option<Duration> {
        match *self {
            RetryPolicy::DashJs {
                manifest_attempts,
                manifest_interval,
                segment_attempts,
                segment_interval,
            } => {
                let (attempts, interval) = match request {
                    RequestType::Manifest | RequestType::Playlist => {
                        (manifest_attempts, manifest_interval)
                    }
                    _ => (segment_attempts, segment_interval),
                };
                (failed_attempt < attempts).then_some(interval)
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
    fn dashjs_gives_three_attempts() {
        let p = RetryPolicy::dashjs();
        let ms = Duration::from_millis;
        assert_eq!(p.next_delay(RequestType::Media, 1, ms(0)), Some(ms(1000)));
        assert_eq!(
            p.next_delay(RequestType::Media, 2, ms(1000)),
            Some(ms(1000))
        );
        assert_eq!(p.next_delay(RequestType::Media, 3, ms(2000)), None);
        assert_eq!(p.next_delay(RequestType::Manifest, 1, ms(0)), Some(ms(500)));
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
    }
}
