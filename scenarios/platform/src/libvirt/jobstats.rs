//! `virDomainGetJobStats`, read through virt-sys. virt 0.4's wrapper builds a `Vec`
//! from libvirt's parameter array even when libvirt returns none (a null pointer:
//! undefined behaviour, an abort in debug builds) and frees libvirt's memory with
//! Rust's allocator; this reads the few counters the driver needs and frees the array
//! with `virTypedParamsFree`.

use std::ffi::CStr;
use virt::domain::Domain;
use virt_sys as sys;

/// The counters of a migration job (`None`: libvirt did not report it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobStats {
    /// `virDomainJobType` (`VIR_DOMAIN_JOB_NONE` = 0: no job).
    pub job_type: i32,
    /// Bytes sent, memory and disks.
    pub data_processed: Option<u64>,
    /// Memory bytes sent.
    pub mem_processed: Option<u64>,
    /// Memory bytes left.
    pub mem_remaining: Option<u64>,
    /// Pre-copy pass (QEMU's dirty-sync count).
    pub mem_iteration: Option<u64>,
    /// Disk bytes to copy (block migration).
    pub disk_total: Option<u64>,
    /// Disk bytes copied.
    pub disk_processed: Option<u64>,
    /// libvirt's downtime, ms (completed jobs).
    pub downtime: Option<u64>,
}

/// The domain's job statistics (`flags`: e.g. `VIR_DOMAIN_JOB_STATS_COMPLETED`).
pub fn job_stats(dom: &Domain, flags: u32) -> Result<JobStats, String> {
    let mut job_type: i32 = 0;
    let mut params: sys::virTypedParameterPtr = std::ptr::null_mut();
    let mut n: i32 = 0;
    // SAFETY: a valid domain; libvirt allocates `params` (n entries) or leaves it null.
    let rc = unsafe {
        sys::virDomainGetJobStats(dom.as_ptr(), &mut job_type, &mut params, &mut n, flags)
    };
    if rc < 0 {
        return Err(virt::error::Error::last_error()
            .message()
            .trim()
            .to_string());
    }
    let mut out = JobStats {
        job_type,
        ..JobStats::default()
    };
    if params.is_null() {
        return Ok(out);
    }
    for i in 0..usize::try_from(n).unwrap_or(0) {
        // SAFETY: `params` holds `n` initialised entries.
        let p = unsafe { &*params.add(i) };
        // SAFETY: libvirt NUL-terminates `field` within its 80 bytes.
        let name = unsafe { CStr::from_ptr(p.field.as_ptr()) };
        let value = match p.type_ as u32 {
            // SAFETY: the union member matches the declared type.
            sys::VIR_TYPED_PARAM_ULLONG => Some(unsafe { p.value.ul }),
            sys::VIR_TYPED_PARAM_LLONG => u64::try_from(unsafe { p.value.l }).ok(),
            sys::VIR_TYPED_PARAM_UINT => Some(u64::from(unsafe { p.value.ui })),
            sys::VIR_TYPED_PARAM_INT => u64::try_from(unsafe { p.value.i }).ok(),
            _ => None,
        };
        let slot = match name.to_bytes() {
            b"data_processed" => &mut out.data_processed,
            b"memory_processed" => &mut out.mem_processed,
            b"memory_remaining" => &mut out.mem_remaining,
            b"memory_iteration" => &mut out.mem_iteration,
            b"disk_total" => &mut out.disk_total,
            b"disk_processed" => &mut out.disk_processed,
            b"downtime" => &mut out.downtime,
            _ => continue,
        };
        *slot = value;
    }
    // SAFETY: the array libvirt allocated, freed once.
    unsafe { sys::virTypedParamsFree(params, n) };
    Ok(out)
}
