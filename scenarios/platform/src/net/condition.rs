//! What a scenario asks of one link (a [`LinkCondition`] of the record: rate,
//! one-way delay, loss) as the network can apply it.
//!
//! This module is pure: it validates a condition against what this module applies
//! ([`LinkShaping`]) and turns it into the `tc` arguments and nft rules that apply
//! it. It never runs a command (see `shaping` for that), so everything here is
//! unit-tested without root.

use super::error::{NetError, Result};
pub use record::LinkCondition;

/// Largest accepted rate (Mbit/s).
pub const MAX_RATE_MBIT: f64 = 100_000.0;
/// Largest accepted one-way delay (ms).
pub const MAX_DELAY_MS: f64 = 10_000.0;

/// A [`LinkCondition`] as this module applies it.
pub trait LinkShaping {
    /// Checks every field's range; says which field is wrong and what is valid.
    fn validate(&self) -> Result<()>;
    /// The delay to add, if any (zero counts as none).
    fn delay(&self) -> Option<std::time::Duration>;
    /// Loss as "drop N of 10000" for the nft `numgen` rule, if any.
    fn loss_per_10000(&self) -> Option<u32>;
}

impl LinkShaping for LinkCondition {
    fn validate(&self) -> Result<()> {
        if let Some(r) = self.rate_mbit
            && !(r.is_finite() && r > 0.0 && r <= MAX_RATE_MBIT)
        {
            return Err(NetError::InvalidCondition(format!(
                "rate_mbit = {r}: must be > 0 and <= {MAX_RATE_MBIT} (omit it for no limit)"
            )));
        }
        if let Some(d) = self.delay_ms
            && !(d.is_finite() && (0.0..=MAX_DELAY_MS).contains(&d))
        {
            return Err(NetError::InvalidCondition(format!(
                "delay_ms = {d}: must be between 0 and {MAX_DELAY_MS}"
            )));
        }
        if let Some(l) = self.loss_pct
            && !(l.is_finite() && (0.0..=100.0).contains(&l))
        {
            return Err(NetError::InvalidCondition(format!(
                "loss_pct = {l}: must be between 0 and 100"
            )));
        }
        Ok(())
    }

    fn delay(&self) -> Option<std::time::Duration> {
        self.delay_ms
            .filter(|d| *d > 0.0)
            .map(|d| std::time::Duration::from_secs_f64(d / 1000.0))
    }

    fn loss_per_10000(&self) -> Option<u32> {
        self.loss_pct
            .map(|l| (l * 100.0).round() as u32)
            .filter(|n| *n > 0)
    }
}

/// The `tc qdisc add ... tbf` arguments after `dev DEV root` for a rate limit.
///
/// `burst` keeps at least one 64 KiB GSO packet whole and covers 4 ms at the
/// rate; `limit` queues `queue_ms` at the rate (at least 256 KiB), so a TCP
/// flow over a long path keeps the link busy.
pub fn tbf_args(rate_mbit: f64, queue_ms: f64) -> Vec<String> {
    let bytes_per_s = rate_mbit * 1e6 / 8.0;
    let burst = (bytes_per_s * 0.004).max(70_000.0).round() as u64;
    let limit = (bytes_per_s * queue_ms / 1000.0).max(262_144.0).round() as u64 + burst;
    vec![
        "tbf".into(),
        "rate".into(),
        format!("{}bit", (rate_mbit * 1e6).round() as u64),
        "burst".into(),
        burst.to_string(),
        "limit".into(),
        limit.to_string(),
    ]
}

/// An nft script creating table `table` (family netdev) with one ingress
/// chain per device dropping `per_10000` of 10000 packets at random.
pub fn nft_loss_script(table: &str, devices: &[&str], per_10000: u32) -> String {
    let mut s = format!("table netdev {table} {{\n");
    for (i, dev) in devices.iter().enumerate() {
        s.push_str(&format!(
            "  chain loss{i} {{\n    type filter hook ingress device \"{dev}\" priority 0; policy accept;\n    numgen random mod 10000 < {per_10000} drop\n  }}\n"
        ));
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_ranges() {
        assert!(LinkCondition::NONE.validate().is_ok());
        let bad = LinkCondition {
            rate_mbit: Some(0.0),
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("rate_mbit")
        );
        let bad = LinkCondition {
            loss_pct: Some(f64::NAN),
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        let bad = LinkCondition {
            delay_ms: Some(-1.0),
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn serde_shape() {
        let c: LinkCondition = serde_json::from_str(r#"{"rate_mbit":10,"loss_pct":1.5}"#).unwrap();
        assert_eq!(c.rate_mbit, Some(10.0));
        assert_eq!(c.loss_per_10000(), Some(150));
        assert!(c.delay().is_none());
    }

    #[test]
    fn tbf_keeps_gso_packets_whole() {
        let a = tbf_args(1000.0, 100.0);
        assert_eq!(a[2], "1000000000bit");
        assert_eq!(a[4], "500000");
        let a = tbf_args(1.0, 100.0);
        assert_eq!(a[4], "70000");
    }

    #[test]
    fn nft_script_has_a_chain_per_device() {
        let s = nft_loss_script("qoeprobe_x", &["qpxa", "qpxb"], 500);
        assert_eq!(s.matches("numgen random mod 10000 < 500 drop").count(), 2);
        assert!(s.contains("device \"qpxb\""));
    }
}
