//! `--start-at TIME` of the probe commands: wait until a wall-clock time before
//! starting, so that probes started on several hosts (Slurm tasks, Kubernetes pods,
//! processes) line up with one migration (docs/scale-out.md). TIME is RFC 3339
//! (`2026-12-02T03:00:00Z`) or unix seconds (`1796180400`, `1796180400.25`). The
//! session's clock starts after the wait, so every host's `wall_anchor_unix_ns` is the
//! start time plus its own scheduling delay.

use std::str::FromStr;
use std::time::Duration;

/// A start time in unix nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartAt(pub u128);

/// How late a start may be before it is refused: later, the hosts no longer line up.
const LATE_LIMIT: Duration = Duration::from_secs(1);

impl FromStr for StartAt {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(secs) = s.parse::<f64>()
            && secs.is_finite()
            && secs >= 0.0
        {
            return Ok(StartAt((secs * 1e9) as u128));
        }
        let t = chrono::DateTime::parse_from_rfc3339(s).map_err(|e| {
            format!(
                "{s:?} is not a time ({e}): give RFC 3339 (2026-12-02T03:00:00Z) or unix seconds"
            )
        })?;
        let ns = t.timestamp_nanos_opt().filter(|n| *n >= 0).ok_or_else(|| {
            format!("{s:?} is before 1970 or after 2262: give a time in that range")
        })?;
        Ok(StartAt(ns as u128))
    }
}

impl StartAt {
    /// The start in unix ns (saturated at the year 2554).
    pub fn unix_ns(self) -> u64 {
        self.0.min(u64::MAX as u128) as u64
    }

    /// `Err` when the start time passed more than a second ago.
    pub fn check_not_past(self) -> anyhow::Result<()> {
        let now = record::clock::unix_now_ns() as u128;
        if now > self.0 {
            let late = Duration::from_nanos((now - self.0).min(u64::MAX as u128) as u64);
            if late > LATE_LIMIT {
                anyhow::bail!(
                    "--start-at is {:.1} s in the past: give a time in the future (check the host's clock)",
                    late.as_secs_f64()
                );
            }
        }
        Ok(())
    }

    /// Sleeps until the start time; `Err` when it passed more than a second ago.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.check_not_past()?;
        let now = record::clock::unix_now_ns() as u128;
        if now > self.0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_nanos(
            (self.0 - now).min(u64::MAX as u128) as u64
        ))
        .await;
        Ok(())
    }
}

/// Waits for `start` when given.
pub async fn wait(start: Option<StartAt>) -> anyhow::Result<()> {
    match start {
        Some(s) => s.wait().await,
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        assert_eq!("1.5".parse::<StartAt>(), Ok(StartAt(1_500_000_000)));
        assert_eq!(
            "1970-01-01T00:00:02+00:00".parse::<StartAt>(),
            Ok(StartAt(2_000_000_000))
        );
        assert_eq!(
            "2026-12-02T03:00:00Z".parse::<StartAt>(),
            "1796180400".parse::<StartAt>()
        );
        assert!(
            "tomorrow"
                .parse::<StartAt>()
                .unwrap_err()
                .contains("RFC 3339")
        );
    }
}
