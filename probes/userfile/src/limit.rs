//! The most qoeprobe reads from each kind of input file (bytes). A larger file is
//! refused with a clear error instead of being loaded into memory. Documented in
//! README.md ("Resource limits").

/// A DASH MPD or HLS playlist given as a file (`simulate --manifest`).
pub const MANIFEST: u64 = 64 << 20;

/// A throughput trace (`simulate --trace`, mahimahi or CSV).
pub const TRACE: u64 = 256 << 20;

/// The MPEG-TS clip `serve live` loops (held in memory).
pub const CLIP: u64 = 1 << 30;

/// A campaign (scenario) file.
pub const SCENARIO: u64 = 16 << 20;

/// A cloud configuration file of the OpenStack driver: `clouds.yaml`,
/// `secure.yaml`, a CA bundle (`cacert`).
pub const CLOUD_CONFIG: u64 = 1 << 20;

/// One JSON record of a results folder: `summary.json`, `run.json`,
/// `campaign.json`.
pub const RECORD: u64 = 64 << 20;

/// One run's `timeline.jsonl`.
pub const TIMELINE: u64 = 1 << 30;

/// A limit as text, e.g. `64 MiB`.
pub fn describe(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn describes_limits() {
        assert_eq!(super::describe(super::TIMELINE), "1 GiB");
        assert_eq!(super::describe(super::MANIFEST), "64 MiB");
        assert_eq!(super::describe(4096), "4 KiB");
        assert_eq!(super::describe(1000), "1000 bytes");
    }
}
