//! Lab flavors: the study's OpenStack m1.* set scaled to a small machine.
//!
//! | flavor | vCPUs | memory | disk | disk filled | paper (m1.*) |
//! |---|---|---|---|---|---|
//! | `lab.tiny` | 1 | 128 MiB | 64 MiB | 16 MiB | 1 / 512 MB / 1 GB |
//! | `lab.small` | 1 | 256 MiB | 256 MiB | 64 MiB | 1 / 2048 MB / 20 GB |
//! | `lab.medium` | 2 | 512 MiB | 512 MiB | 128 MiB | 2 / 4096 MB / 40 GB |
//! | `lab.large` | 2 | 1024 MiB | 1024 MiB | 256 MiB | 4 / 8192 MB / 80 GB |
//!
//! Memory is the paper's divided by 4 (tiny) to 8 (others), disks by about 16 to 80
//! (block migration copies the whole disk through QEMU's NBD client), and vCPUs are
//! capped at 2 because TCG runs one host thread per vCPU on a 2-core machine. "Disk
//! filled" is how much of the disk the driver writes with non-zero data before boot,
//! so that a block migration has real bytes to copy (zeros are cheap).

/// A VM size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flavor {
    /// Name (`lab.tiny`, ...).
    pub name: &'static str,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory, MiB.
    pub memory_mib: u64,
    /// Disk size, MiB.
    pub disk_mib: u64,
    /// MiB of the disk written with non-zero data before boot.
    pub disk_fill_mib: u64,
}

/// Every lab flavor, smallest first.
pub const FLAVORS: [Flavor; 4] = [
    Flavor {
        name: "lab.tiny",
        vcpus: 1,
        memory_mib: 128,
        disk_mib: 64,
        disk_fill_mib: 16,
    },
    Flavor {
        name: "lab.small",
        vcpus: 1,
        memory_mib: 256,
        disk_mib: 256,
        disk_fill_mib: 64,
    },
    Flavor {
        name: "lab.medium",
        vcpus: 2,
        memory_mib: 512,
        disk_mib: 512,
        disk_fill_mib: 128,
    },
    Flavor {
        name: "lab.large",
        vcpus: 2,
        memory_mib: 1024,
        disk_mib: 1024,
        disk_fill_mib: 256,
    },
];

impl Flavor {
    /// The lab size of an m1.* flavor (same order, smallest first).
    pub fn of(flavor: crate::driver::Flavor) -> Self {
        use crate::driver::Flavor as M1;
        FLAVORS[match flavor {
            M1::Tiny => 0,
            M1::Small => 1,
            M1::Medium => 2,
            M1::Large => 3,
        }]
    }

    /// Looks a flavor up by name (`lab.small` or just `small`); the error lists the
    /// valid names.
    pub fn by_name(name: &str) -> Result<Self, String> {
        let full = if name.starts_with("lab.") {
            name.to_string()
        } else {
            format!("lab.{name}")
        };
        FLAVORS
            .iter()
            .copied()
            .find(|f| f.name == full)
            .ok_or_else(|| {
                let names: Vec<&str> = FLAVORS.iter().map(|f| f.name).collect();
                format!(
                    "unknown lab flavor `{name}`; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

impl Default for Flavor {
    fn default() -> Self {
        FLAVORS[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavors_by_name() {
        assert_eq!(Flavor::by_name("lab.small").map(|f| f.memory_mib), Ok(256));
        assert_eq!(Flavor::by_name("tiny").map(|f| f.memory_mib), Ok(128));
        assert!(Flavor::by_name("m1.huge").unwrap_err().contains("lab.tiny"));
        assert_eq!(Flavor::of(crate::driver::Flavor::Medium).name, "lab.medium");
        assert!(FLAVORS.iter().all(|f| f.disk_fill_mib <= f.disk_mib));
    }
}
