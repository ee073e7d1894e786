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
    #[error("bad outage {given:?}: {reason}; expected AT+DURATION in seconds, e.g. 30+25")]
    Outage {
        /// What was given.
        given: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A piecewise-constant capacity that repeats every `period_ns`.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// (start offset ns, rate in bytes per second), sorted, first at 0.
    pieces: Vec<(u64, f64)>,
    period_ns: u64,
    /// Bytes one whole period carries.
    period_bytes: f64,
}

/// The shortest row of a CSV trace: 1 ms, the granularity of mahimahi traces. A
/// shorter row makes a piece the simulator has to step through for nothing.
pub const MIN_ROW_MS: f64 = 1.0;

/// The highest rate a trace row may give, kbit/s (1 Tbit/s).
pub const MAX_KBPS: f64 = 1e9;

impl Trace {
    /// A constant rate in kbit/s.
    pub fn constant_kbps(kbps: f64) -> Self {
        Self::new(vec![(0, kbps * 1000.0 / 8.0)], 1_000_000_000)
    }

    fn new(pieces: Vec<(u64, f64)>, period_ns: u64) -> Self {
        let period_bytes = pieces
            .iter()
            .enumerate()
            .map(|(i, &(start, rate))| {
                let end = pieces.get(i + 1).map_or(period_ns, |&(s, _)| s);
                rate * end.saturating_sub(start) as f64 / 1e9
            })
            .sum();
        Self {
            pieces,
            period_ns,
            period_bytes,
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
                detail: format!("{detail}; expected `duration_ms,kbps`, got {:?}", shown(l)),
            };
            let (d_text, k_text) = l.split_once(',').ok_or_else(|| err("no comma"))?;
            let (d_text, k_text) = (d_text.trim(), k_text.trim());
            let d: f64 = d_text
                .parse()
                .map_err(|_| err("duration is not a number"))?;
            let k: f64 = k_text.parse().map_err(|_| err("kbps is not a number"))?;
            if !(d.is_finite() && (MIN_ROW_MS..=86_400_000.0).contains(&d)) {
                return Err(err(&format!(
                    "duration_ms {d_text} is out of range: expected {MIN_ROW_MS} ms to 24 h"
                )));
            }
            if !(k.is_finite() && (0.0..=MAX_KBPS).contains(&k)) {
                return Err(err(&format!(
                    "kbps {k_text} is out of range: expected 0 to 1e9 (1 Tbit/s)"
                )));
            }
            pieces.push((t, k * 1000.0 / 8.0));
            t = t.saturating_add((d * 1e6) as u64);
        }
        if pieces.is_empty() || t == 0 {
            return Err(TraceError::Empty { file: file.into() });
        }
        if t > 86_400_000_000_000 {
            return Err(TraceError::Line {
                file: file.into(),
                line: text.lines().count(),
                detail: "the rows add up to more than 24 h".into(),
            });
        }
        Ok(Self::new(pieces, t))
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
                detail: format!(
                    "expected a millisecond timestamp (mahimahi format), got {:?}",
                    shown(l)
                ),
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
        Ok(Self::new(pieces, counts.len() as u64 * 1_000_000))
    }

    /// (rate in bytes/s, absolute end of the piece) at absolute time `t`.
    fn piece_at(&self, t: u64) -> (f64, u64) {
        let off = t % self.period_ns;
        let i = self.pieces.partition_point(|&(s, _)| s <= off) - 1;
        let end = self.pieces.get(i + 1).map_or(self.period_ns, |&(s, _)| s);
        (self.pieces[i].1, (t - off).saturating_add(end))
    }
}

/// Parses `AT+DURATION` (seconds, decimals allowed) into `(start, length)`.
pub fn parse_outage(s: &str) -> Result<(Duration, Duration), TraceError> {
    let err = |reason: &str| TraceError::Outage {
        given: shown(s),
        reason: reason.into(),
    };
    let (a, d) = s.split_once('+').ok_or_else(|| err("no `+`"))?;
    // A plain decimal each: `10++5` or `10+-5` would otherwise parse as `10` + `+5`.
    let number = |v: &str, what: &str| -> Result<f64, TraceError> {
        let v = v.trim();
        let plain = !v.is_empty()
            && v.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && v.bytes().any(|b| b.is_ascii_digit());
        match v.parse::<f64>() {
            Ok(x) if plain => Ok(x),
            _ => Err(err(&format!(
                "{what} `{}` is not a plain number of seconds",
                shown(v)
            ))),
        }
    };
    let a = number(a, "the start")?;
    let d = number(d, "the duration")?;
    if d <= 0.0 {
        return Err(err("the duration must be above 0"));
    }
    if a + d >= 1e7 {
        return Err(err("the outage must end before 10,000,000 s"));
    }
    Ok((Duration::from_secs_f64(a), Duration::from_secs_f64(d)))
}

/// A value as shown in a message: whole when short, else cut with its length.
fn shown(s: &str) -> String {
    match s.char_indices().nth(40) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}... ({} bytes)", &s[..cut], s.len()),
    }
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
        self.after_outage(self.after_outage(t).saturating_add(self.rtt_ns))
    }

    /// When the last of `bytes` arrives if the transfer starts at `t`.
    ///
    /// The work is bounded: whole periods of the trace without an outage are
    /// skipped at once, so a transfer steps through at most about two periods of
    /// pieces (1,000 per simulated second at most, rows being >= 1 ms) plus its
    /// outages, whatever its size. `u64::MAX` when it never finishes.
    pub fn finish_at(&self, mut t: u64, bytes: u64) -> u64 {
        let mut left = bytes as f64;
        if left <= 0.0 {
            return t;
        }
        let (period, per_period) = (self.trace.period_ns, self.trace.period_bytes);
        loop {
            t = self.after_outage(t);
            if t == u64::MAX {
                return t;
            }
            let next_outage = self
                .outages
                .get(self.outages.partition_point(|&(a, _)| a <= t))
                .map_or(u64::MAX, |&(a, _)| a);
            if per_period > 0.0 && left >= 2.0 * per_period {
                let by_size = (left / per_period).floor() - 1.0;
                let by_outage = ((next_outage - t) / period) as f64;
                let k = by_size.min(by_outage);
                if k >= 1.0 {
                    let skip = k * period as f64;
                    if skip >= (u64::MAX - t) as f64 {
                        return u64::MAX;
                    }
                    t += skip as u64;
                    left -= k * per_period;
                    continue;
                }
            }
            let (rate, piece_end) = self.trace.piece_at(t);
            let end = piece_end.min(next_outage);
            if rate > 0.0 {
                let cap = rate * (end - t) as f64 / 1e9;
                if cap >= left {
                    return t.saturating_add((left * 1e9 / rate).ceil() as u64);
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

    #[test]
    fn absurd_rows_and_outages_are_refused_with_the_reason() {
        let e = Trace::parse("0.000001,8000\n", "t.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("duration_ms 0.000001 is out of range"), "{e}");
        assert!(!e.contains("kbps "), "blames kbps for a bad duration: {e}");
        let e = Trace::parse("1000,1e300\n", "t.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("kbps 1e300 is out of range"), "{e}");
        assert!(!e.contains(">= 0"), "{e}");
        for (bad, why) in [
            ("10++5", "the duration `+5`"),
            ("10+-5", "the duration `-5`"),
            ("+10+5", "the start ``"),
            ("10+0", "above 0"),
            ("10", "no `+`"),
            ("1e9+1e9", "the start `1e9`"),
            ("9999999+5", "before 10,000,000 s"),
        ] {
            let e = parse_outage(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let long = "1".repeat(100_000) + "+";
        assert!(parse_outage(&long).unwrap_err().to_string().len() < 300);
        assert!(parse_outage("0.5+2.25").is_ok());
    }

    #[test]
    fn huge_transfers_cost_a_few_steps_and_agree_with_the_arithmetic() {
        // 1 ms rows alternating 8000 and 0 kbit/s: 1,000 pieces per simulated second.
        let rows: String = (0..1000)
            .map(|i| format!("1,{}\n", (i % 2) * 8000))
            .collect();
        let t = Trace::parse(&rows, "t.csv").unwrap();
        // A period (1 s) carries 500 ms x 1 byte/us = 500,000 bytes.
        assert!((t.period_bytes - 500_000.0).abs() < 1e-6);
        let l = Link::new(
            t,
            &[(Duration::from_secs(100), Duration::from_secs(50))],
            Duration::ZERO,
        );
        // 10,000 periods' worth before the outage is impossible: it waits 50 s.
        let started = std::time::Instant::now();
        let done = l.finish_at(0, 500_000 * 1000);
        assert!(done.abs_diff(1050 * 1_000_000_000) <= 1_000, "{done}");
        // A representation of 2^64-1 bit/s asks this many bytes: it never finishes
        // in u64 nanoseconds, and says so at once.
        assert_eq!(l.finish_at(0, u64::MAX), u64::MAX);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
