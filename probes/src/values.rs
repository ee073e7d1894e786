//! Validated numbers of the probe options and scenario files. Each type checks its
//! range while a file is deserialized (so an out-of-range value is reported at its own
//! line and column with the range it must be in) and while a command-line value is
//! parsed (`FromStr`, with the same message).

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

macro_rules! bounded {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr, $min_open:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub f64);

        impl $name {
            /// The value.
            pub fn get(self) -> f64 {
                self.0
            }

            /// Checks `v` against the range.
            pub fn new(v: f64) -> Result<Self, String> {
                let low_ok = if $min_open { v > $min } else { v >= $min };
                if v.is_finite() && low_ok && v <= $max {
                    Ok(Self(v))
                } else {
                    Err(format!("{v} is out of range: expected {}", $what))
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = f64::deserialize(d)?;
                Self::new(v).map_err(serde::de::Error::custom)
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let v: f64 = s
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{s}` is not a number: expected {}", $what))?;
                Self::new(v)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

bounded!(
    /// Seconds, 0 to one day.
    Secs, 0.0, 86_400.0, false, "seconds from 0 to 86400"
);
bounded!(
    /// Seconds above 0, up to one day.
    PositiveSecs, 0.0, 86_400.0, true, "seconds above 0, at most 86400"
);
bounded!(
    /// Milliseconds, 0 to one hour.
    Millis, 0.0, 3_600_000.0, false, "milliseconds from 0 to 3600000"
);
bounded!(
    /// A rate in Mbit/s above 0 (at most 100 Gbit/s).
    Mbit, 0.0, 100_000.0, true, "Mbit/s above 0, at most 100000"
);
bounded!(
    /// A percentage from 0 to 100.
    Percent, 0.0, 100.0, false, "a percentage from 0 to 100"
);
bounded!(
    /// A size in MiB above 0 (at most 1 TiB).
    Mib, 0.0, 1_048_576.0, true, "MiB above 0, at most 1048576"
);
bounded!(
    /// A size in MiB, 0 allowed.
    MibOrZero, 0.0, 1_048_576.0, false, "MiB from 0 to 1048576"
);
bounded!(
    /// A write rate in MiB/s, 0 allowed.
    MibPerSec, 0.0, 1_048_576.0, false, "MiB/s from 0 to 1048576"
);
bounded!(
    /// A fraction from 0 to 1.
    Fraction, 0.0, 1.0, false, "a fraction from 0 to 1"
);
bounded!(
    /// A rate per second above 0 (at most 100000).
    PerSec, 0.0, 100_000.0, true, "a rate per second above 0, at most 100000"
);

impl Secs {
    /// As a `Duration`.
    pub fn duration(self) -> Duration {
        Duration::from_secs_f64(self.0)
    }
}

impl PositiveSecs {
    /// As a `Duration`.
    pub fn duration(self) -> Duration {
        Duration::from_secs_f64(self.0)
    }
}

impl Millis {
    /// As a `Duration`.
    pub fn duration(self) -> Duration {
        Duration::from_secs_f64(self.0 / 1000.0)
    }
}

impl Mbit {
    /// In bit/s.
    pub fn bps(self) -> u64 {
        (self.0 * 1e6) as u64
    }
}

impl Mib {
    /// In bytes.
    pub fn bytes(self) -> u64 {
        (self.0 * 1_048_576.0) as u64
    }
}

impl MibOrZero {
    /// In bytes.
    pub fn bytes(self) -> u64 {
        (self.0 * 1_048_576.0) as u64
    }
}

impl MibPerSec {
    /// In bytes per second.
    pub fn bytes_per_sec(self) -> f64 {
        self.0 * 1_048_576.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked() {
        assert!(Percent::new(100.0).is_ok());
        assert!(Percent::new(100.5).is_err());
        assert!(Mbit::new(0.0).is_err());
        assert!(Secs::new(0.0).is_ok());
        assert!(PositiveSecs::new(0.0).is_err());
        assert!(Secs::new(f64::NAN).is_err());
        assert_eq!(Mbit::new(100.0).unwrap().bps(), 100_000_000);
        assert_eq!("0.5".parse::<Secs>(), Ok(Secs(0.5)));
        assert!(
            "-1".parse::<Secs>()
                .unwrap_err()
                .contains("from 0 to 86400")
        );
        assert!("x".parse::<Secs>().unwrap_err().contains("not a number"));
        assert_eq!(PositiveSecs(120.0).to_string(), "120");
    }
}
