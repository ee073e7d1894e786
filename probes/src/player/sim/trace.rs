//! Throughput traces for the simulator and the link model built on them.
//!
//! Formats: mahimahi (one millisecond timestamp per line, each one 1500-byte delivery
//! opportunity; the trace repeats after its last timestamp) and CSV `duration_ms,kbps`
//! (piecewise constant; repeats). Outages (`AT+DURATION` in seconds) overlay zero
//! throughput, the way a migration's downtime looks to a client.

use std::time::Duration;
use thiserror::Error;

/// A trace that cannot be used.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TraceError {
    /// A line is not in the expected format.
    #[error("{file}:{line}: {detail}")]
    Line {
        /// Trace file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong and what is expected.
        detail: String,
    },
    /// The trace never delivers a byte.
    #[error("{file}: the trace has no capacity (every rate is zero, or it is empty)")]
    Empty {
        /// Trace file.
        file: String,
    },
    /// An outage specification is malformed.
    #[error("bad outage {given:?}: expected AT+DURATION in seconds, e.g. 30+25")]
    Outage {
        /// What was given.
        given: String,
    },
}

/// A piecewise-constant capacity that repeats every `period_ns`.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// (start offset ns, rate in bytes per second), sorted, first at 0.
    pieces: Vec<(u64, f64)>,
    period_ns: u64,
}

impl Trace {
    /// A constant rate in kbit/s.
    pub fn constant_kbps(kbps: f64) -> Self {
        Self {
            pieces: vec![(0, kbps * 1000.0 / 8.0)],
            period_ns: 1_000_000_000,
        }
    }

    /// Parses a trace, deciding the format by content: lines with a comma are CSV
    /// `duration_ms,kbps`, otherwise mahimahi timestamps.
    pub fn parse(text: &str, file: &str) -> Result<Self, TraceError> {
        let is_csv = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .is_some_and(|l| l.contains(','));
        let t = if is_csv {
            Self::parse_csv(text, file)?
        } else {
            Self::parse_mahimahi(text, file)?
        };
        if t.pieces.iter().all(|&(_, r)| r <= 0.0) {
            return Err(TraceError::Empty { file: file.into() });
        }
        Ok(t)
    }

    fn parse_csv(text: &str, file: &str) -> Result<Self, TraceError> {
        let mut pieces = Vec::new();
        let mut t = 0u64;
        for (i, raw) in text.lines().enumerate() {
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') || l.starts_with("duration") {
                continue;
            }
            let err = |detail: &str| TraceError::Line {
                file: file.into(),
                line: i + 1,
                detail: format!("{detail}; expected `duration_ms,kbps`, got {l:?}"),
            };
            let (d, k) = l.split_once(',').ok_or_else(|| err("no comma"))?;
            let d: f64 = d
                .trim()
                .parse()
                .map_err(|_| err("duration is not a number"))?;
            let k: f64 = k.trim().parse().map_err(|_| err("kbps is not a number"))?;
            let valid = d > 0.0 && d.is_finite() && k >= 0.0 && k.is_finite();
            if !valid {
                return Err(err("duration must be > 0 and kbps >= 0"));
            }
            pieces.push((t, k * 1000.0 / 8.0));
            t += (d * 1e6) as u64;
        }
        if pieces.is_empty() || t == 0 {
            return Err(TraceError::Empty { file: file.into() });
        }
        Ok(Self {
            pieces,
            period_ns: t,
        })
    }

    fn parse_mahimahi(text: &str, file: &str) -> Result<Self, TraceError> {
        let mut counts: Vec<u32> = Vec::new();
        let mut last = 0u64;
        for (i, raw) in text.lines().enumerate() {
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let ms: u64 = l.parse().map_err(|_| TraceError::Line {
                file: file.into(),
                line: i + 1,
                detail: format!("expected a millisecond timestamp (mahimahi format), got {l:?}"),
            })?;
            if ms < last {
                return Err(TraceError::Line {
                    file: file.into(),
                    line: i + 1,
                    detail: format!("timestamps must not decrease ({ms} after {last})"),
                });
            }
            if ms > 86_400_000 {
                return Err(TraceError::Line {
                    file: file.into(),
                    line: i + 1,
                    detail: "timestamp beyond 24 h".into(),
                });
            }
            last = ms;
            let idx = ms.saturating_sub(1) as usize;
            if counts.len() <= idx {
                counts.resize(idx + 1, 0);
            }
            counts[idx] += 1;
        }
        if counts.is_empty() {
            return Err(TraceError::Empty { file: file.into() });
        }
        let mut pieces: Vec<(u64, f64)> = Vec::new();
        for (ms, &c) in counts.iter().enumerate() {
            let rate = f64::from(c) * 1500.0 * 1000.0;
            if pieces.last().is_none_or(|&(_, r)| r != rate) {
                pieces.push((ms as u64 * 1_000_000, rate));
            }
        }
        Ok(Self {
            pieces,
            period_ns: counts.len() as u64 * 1_000_000,
        })
    }

    /// (rate in bytes/s, absolute end of the piece) at absolute time `t`.
    fn piece_at(&self, t: u64) -> (f64, u64) {
        let off = t % self.period_ns;
        let i = self.pieces.partition_point(|&(s, _)| s <= off) - 1;
        let end = self.pieces.get(i + 1).map_or(self.period_ns, |&(s, _)| s);
        (self.pieces[i].1, t - off + end)
    }
}

/// Parses `AT+DURATION` (seconds, decimals allowed) into `(start, length)`.
pub fn parse_outage(s: &str) -> Result<(Duration, Duration), TraceError> {
    let err = || TraceError::Outage { given: s.into() };
    let (a, d) = s.split_once('+').ok_or_else(err)?;
    let a: f64 = a.trim().parse().map_err(|_| err())?;
    let d: f64 = d.trim().parse().map_err(|_| err())?;
    if !(a >= 0.0 && a.is_finite() && d > 0.0 && d.is_finite() && a + d < 1e7) {
        return Err(err());
    }
    Ok((Duration::from_secs_f64(a), Duration::from_secs_f64(d)))
}

/// A simulated network path: a trace, outages and a round-trip time.
#[derive(Debug, Clone)]
pub struct Link {
    trace: Trace,
    /// Sorted, non-overlapping `[start, end)` in ns.
    outages: Vec<(u64, u64)>,
    rtt_ns: u64,
}

impl Link {
    /// A link with the given trace, outages `(start, length)` and round-trip time.
    pub fn new(trace: Trace, outages: &[(Duration, Duration)], rtt: Duration) -> Self {
        let mut o: Vec<(u64, u64)> = outages
            .iter()
            .map(|&(a, d)| (a.as_nanos() as u64, (a + d).as_nanos() as u64))
            .collect();
        o.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for (a, b) in o {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        Self {
            trace,
            outages: merged,
            rtt_ns: rtt.as_nanos() as u64,
        }
    }

    /// If `t` is inside an outage, the outage's end; else `t`.
    pub fn after_outage(&self, t: u64) -> u64 {
        let i = self.outages.partition_point(|&(a, _)| a <= t);
        match i.checked_sub(1).map(|i| self.outages[i]) {
            Some((_, b)) if t < b => b,
            _ => t,
        }
    }

    /// When the response head of a request sent at `t` arrives: one round trip, held
    /// while an outage lasts.
    pub fn head_at(&self, t: u64) -> u64 {
        self.after_outage(self.after_outage(t) + self.rtt_ns)
    }

    /// When the last of `bytes` arrives if the transfer starts at `t`.
    pub fn finish_at(&self, mut t: u64, bytes: u64) -> u64 {
        let mut left = bytes as f64;
        if left <= 0.0 {
            return t;
        }
        loop {
            t = self.after_outage(t);
            let next_outage = self
                .outages
                .get(self.outages.partition_point(|&(a, _)| a <= t))
                .map_or(u64::MAX, |&(a, _)| a);
            let (rate, piece_end) = self.trace.piece_at(t);
            let end = piece_end.min(next_outage);
            if rate > 0.0 {
                let cap = rate * (end - t) as f64 / 1e9;
                if cap >= left {
                    return t + (left * 1e9 / rate).ceil() as u64;
                }
                left -= cap;
            }
            t = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_mahimahi_traces() {
        let t = Trace::parse("# c\n1000,8000\n1000,0\n", "t.csv").unwrap();
        assert_eq!(t.period_ns, 2_000_000_000);
        // 8 Mbit/s = 1 byte/us: 1 MB takes exactly 1 s.
        let l = Link::new(t.clone(), &[], Duration::ZERO);
        assert_eq!(l.finish_at(0, 1_000_000), 1_000_000_000);
        // Past the first second the second piece is dead air until the repeat.
        assert_eq!(l.finish_at(0, 1_000_001), 2_000_001_000);
        let m = Trace::parse("1\n1\n2\n", "m").unwrap();
        assert_eq!(m.period_ns, 2_000_000);
        let l = Link::new(m, &[], Duration::ZERO);
        assert_eq!(l.finish_at(0, 3000), 1_000_000);
    }

    #[test]
    fn outages_hold_transfers_and_heads() {
        let l = Link::new(
            Trace::constant_kbps(8000.0),
            &[(Duration::from_secs(1), Duration::from_secs(2))],
            Duration::from_millis(10),
        );
        assert_eq!(l.finish_at(500_000_000, 1_000_000), 3_500_000_000);
        assert_eq!(l.head_at(1_500_000_000), 3_010_000_000);
        assert_eq!(l.head_at(0), 10_000_000);
    }

    #[test]
    fn bad_traces_are_clear_errors() {
        assert!(matches!(
            Trace::parse("", "e"),
            Err(TraceError::Empty { .. })
        ));
        assert!(matches!(
            Trace::parse("1000,0\n", "z"),
            Err(TraceError::Empty { .. })
        ));
        let e = Trace::parse("1000,abc\n", "x.csv").unwrap_err().to_string();
        assert!(e.contains("x.csv:1"), "{e}");
        assert!(Trace::parse("5\n3\n", "m").is_err());
        assert!(parse_outage("30+25").is_ok());
        assert!(parse_outage("30").is_err());
        assert!(parse_outage("-1+2").is_err());
    }
}
