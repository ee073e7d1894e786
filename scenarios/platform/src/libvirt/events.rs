//! libvirt's domain events, delivered to async code.
//!
//! libvirt dispatches events from an event loop that the client application runs:
//! [`ensure_event_loop`] registers libvirt's default implementation once per process
//! (before any connection is opened: a connection opened earlier gets no events) and
//! runs it on a dedicated thread for the rest of the process. [`Subscription`]
//! registers the lifecycle and migration-iteration callbacks on one connection for
//! one domain UUID (the domain need not exist yet: the destination's is created by
//! the migration) and forwards each event, stamped with the wall clock at its
//! arrival, to a channel. libvirt's events carry no timestamp of their own.
//!
//! virt 0.4 does not wrap `virConnectDomainEventRegisterAny`; this module calls it
//! through virt-sys.

use record::clock::unix_now_ns;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::Once;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use virt::connect::Connect;
use virt_sys as sys;

/// Which of the two hosts an event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The host the domain is migrated from.
    Source,
    /// The host it is migrated to.
    Destination,
}

/// A lifecycle event type and detail (`VIR_DOMAIN_EVENT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    /// `virDomainEventType`.
    pub event: i32,
    /// The type's detail (e.g. `VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED`).
    pub detail: i32,
}

impl Lifecycle {
    /// The source paused for the switch-over (pre-copy) or for post-copy.
    pub fn is_paused_for_migration(self) -> bool {
        self.event == sys::VIR_DOMAIN_EVENT_SUSPENDED as i32
            && (self.detail == sys::VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED as i32
                || self.detail == sys::VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY as i32)
    }

    /// The destination runs the domain (after pre-copy, or at the post-copy switch).
    pub fn is_resumed_after_migration(self) -> bool {
        self.event == sys::VIR_DOMAIN_EVENT_RESUMED as i32
            && (self.detail == sys::VIR_DOMAIN_EVENT_RESUMED_MIGRATED as i32
                || self.detail == sys::VIR_DOMAIN_EVENT_RESUMED_POSTCOPY as i32)
    }

    /// libvirt's names, e.g. `SUSPENDED_MIGRATED` (for `origin` fields and logs).
    pub fn name(self) -> String {
        let (event, details): (&str, &[&str]) = match self.event as u32 {
            sys::VIR_DOMAIN_EVENT_DEFINED => ("DEFINED", &["ADDED", "UPDATED", "RENAMED"]),
            sys::VIR_DOMAIN_EVENT_UNDEFINED => ("UNDEFINED", &["REMOVED", "RENAMED"]),
            sys::VIR_DOMAIN_EVENT_STARTED => (
                "STARTED",
                &["BOOTED", "MIGRATED", "RESTORED", "FROM_SNAPSHOT", "WAKEUP"],
            ),
            sys::VIR_DOMAIN_EVENT_SUSPENDED => (
                "SUSPENDED",
                &[
                    "PAUSED",
                    "MIGRATED",
                    "IOERROR",
                    "WATCHDOG",
                    "RESTORED",
                    "FROM_SNAPSHOT",
                    "API_ERROR",
                    "POSTCOPY",
                    "POSTCOPY_FAILED",
                ],
            ),
            sys::VIR_DOMAIN_EVENT_RESUMED => (
                "RESUMED",
                &[
                    "UNPAUSED",
                    "MIGRATED",
                    "FROM_SNAPSHOT",
                    "POSTCOPY",
                    "POSTCOPY_FAILED",
                ],
            ),
            sys::VIR_DOMAIN_EVENT_STOPPED => (
                "STOPPED",
                &[
                    "SHUTDOWN",
                    "DESTROYED",
                    "CRASHED",
                    "MIGRATED",
                    "SAVED",
                    "FAILED",
                    "FROM_SNAPSHOT",
                ],
            ),
            sys::VIR_DOMAIN_EVENT_SHUTDOWN => ("SHUTDOWN", &["FINISHED"]),
            sys::VIR_DOMAIN_EVENT_PMSUSPENDED => ("PMSUSPENDED", &["MEMORY", "DISK"]),
            sys::VIR_DOMAIN_EVENT_CRASHED => ("CRASHED", &["PANICKED"]),
            _ => return format!("EVENT{}_{}", self.event, self.detail),
        };
        match usize::try_from(self.detail)
            .ok()
            .and_then(|d| details.get(d))
        {
            Some(d) => format!("{event}_{d}"),
            None => format!("{event}_{}", self.detail),
        }
    }
}

/// What happened to the domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A lifecycle change.
    Lifecycle(Lifecycle),
    /// A new pre-copy pass began (`VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION`; QEMU's
    /// MIGRATION_PASS).
    Iteration(u64),
}

/// One event as it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainEvent {
    /// Which host sent it.
    pub side: Side,
    /// Wall clock at arrival, ns since the Unix epoch.
    pub wall_ns: u64,
    /// The event.
    pub kind: EventKind,
}

static EVENT_LOOP: Once = Once::new();

/// Registers libvirt's default event loop and runs it on a thread of its own (once per
/// process; the thread lives as long as the process). Call before opening any
/// connection whose events are wanted.
pub fn ensure_event_loop() {
    EVENT_LOOP.call_once(|| {
        // libvirt prints every error to stderr by default; errors reach the user
        // through our own messages instead.
        virt::error::clear_error_callback();
        if let Err(e) = virt::event::event_register_default_impl() {
            eprintln!("qoeprobe: cannot register libvirt's event loop: {e}");
            return;
        }
        let spawned = std::thread::Builder::new()
            .name("libvirt-events".into())
            .spawn(|| {
                loop {
                    if virt::event::event_run_default_impl().is_err() {
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                }
            });
        if let Err(e) = spawned {
            eprintln!("qoeprobe: cannot start libvirt's event thread: {e}");
        }
    });
}

/// What a callback needs: where to send, which host, which domain.
struct Target {
    tx: UnboundedSender<DomainEvent>,
    side: Side,
    uuid: String,
}

/// Registered callbacks on one connection; deregistered on drop.
pub struct Subscription {
    conn: Connect,
    ids: Vec<c_int>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("ids", &self.ids)
            .finish()
    }
}

impl Subscription {
    /// Subscribes to the lifecycle and iteration events of the domain `uuid` on
    /// `conn` (events of other domains are dropped); events go to `tx`.
    pub fn new(
        conn: &Connect,
        side: Side,
        uuid: &str,
        tx: UnboundedSender<DomainEvent>,
    ) -> Result<Self, String> {
        let mut sub = Subscription {
            conn: conn.clone(),
            ids: Vec::new(),
        };
        // SAFETY (both casts): libvirt calls each callback with the argument list of
        // its event id; virConnectDomainEventGenericCallback is the C API's erased
        // type (VIR_DOMAIN_EVENT_CALLBACK in libvirt's headers does the same cast).
        let lifecycle: unsafe extern "C" fn(
            sys::virConnectPtr,
            sys::virDomainPtr,
            c_int,
            c_int,
            *mut c_void,
        ) -> c_int = on_lifecycle;
        let iteration: unsafe extern "C" fn(
            sys::virConnectPtr,
            sys::virDomainPtr,
            c_int,
            *mut c_void,
        ) = on_iteration;
        let callbacks: [(c_int, sys::virConnectDomainEventGenericCallback); 2] = unsafe {
            [
                (
                    sys::VIR_DOMAIN_EVENT_ID_LIFECYCLE as c_int,
                    Some(std::mem::transmute::<
                        *const (),
                        unsafe extern "C" fn(sys::virConnectPtr, sys::virDomainPtr, *mut c_void),
                    >(lifecycle as *const ())),
                ),
                (
                    sys::VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION as c_int,
                    Some(std::mem::transmute::<
                        *const (),
                        unsafe extern "C" fn(sys::virConnectPtr, sys::virDomainPtr, *mut c_void),
                    >(iteration as *const ())),
                ),
            ]
        };
        for (id, cb) in callbacks {
            let target = Box::into_raw(Box::new(Target {
                tx: tx.clone(),
                side,
                uuid: uuid.to_ascii_lowercase(),
            }));
            // SAFETY: a valid connection; a null domain means "every domain"; libvirt
            // owns `target` from here and frees it through `free_target`.
            let rc = unsafe {
                sys::virConnectDomainEventRegisterAny(
                    conn.as_ptr(),
                    std::ptr::null_mut(),
                    id,
                    cb,
                    target.cast(),
                    Some(free_target),
                )
            };
            if rc < 0 {
                // SAFETY: registration failed, so libvirt did not take `target`.
                drop(unsafe { Box::from_raw(target) });
                return Err(format!(
                    "cannot subscribe to libvirt's domain events: {}",
                    virt::error::Error::last_error()
                ));
            }
            sub.ids.push(rc);
        }
        Ok(sub)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            // SAFETY: `id` was returned by a registration on this connection.
            unsafe { sys::virConnectDomainEventDeregisterAny(self.conn.as_ptr(), id) };
        }
        let _ = self.conn.close();
    }
}

/// A channel for [`Subscription::new`].
pub fn channel() -> (UnboundedSender<DomainEvent>, UnboundedReceiver<DomainEvent>) {
    unbounded_channel()
}

unsafe extern "C" fn free_target(opaque: *mut c_void) {
    if !opaque.is_null() {
        // SAFETY: `opaque` is the Box leaked in `Subscription::new`; libvirt calls
        // this once, after the last callback.
        drop(unsafe { Box::from_raw(opaque.cast::<Target>()) });
    }
}

/// The target of `opaque` when `dom` is its domain.
///
/// # Safety
/// `opaque` must be a `Target` registered by `Subscription::new` and `dom` a domain
/// pointer libvirt passed to the callback.
unsafe fn target_for<'a>(dom: sys::virDomainPtr, opaque: *mut c_void) -> Option<&'a Target> {
    if opaque.is_null() || dom.is_null() {
        return None;
    }
    // SAFETY: per this function's contract.
    let target = unsafe { &*opaque.cast::<Target>() };
    let mut buf = [0 as c_char; sys::VIR_UUID_STRING_BUFLEN as usize];
    // SAFETY: `dom` is valid during the callback; `buf` has VIR_UUID_STRING_BUFLEN bytes.
    if unsafe { sys::virDomainGetUUIDString(dom, buf.as_mut_ptr()) } < 0 {
        return None;
    }
    // SAFETY: libvirt wrote a NUL-terminated string into `buf`.
    let uuid = unsafe { CStr::from_ptr(buf.as_ptr()) };
    uuid.to_str()
        .ok()
        .filter(|u| u.eq_ignore_ascii_case(&target.uuid))
        .map(|_| target)
}

unsafe extern "C" fn on_lifecycle(
    _conn: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    event: c_int,
    detail: c_int,
    opaque: *mut c_void,
) -> c_int {
    let wall_ns = unix_now_ns();
    // SAFETY: libvirt passes back the opaque pointer registered with this callback.
    if let Some(t) = unsafe { target_for(dom, opaque) } {
        let _ = t.tx.send(DomainEvent {
            side: t.side,
            wall_ns,
            kind: EventKind::Lifecycle(Lifecycle { event, detail }),
        });
    }
    0
}

unsafe extern "C" fn on_iteration(
    _conn: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    iteration: c_int,
    opaque: *mut c_void,
) {
    let wall_ns = unix_now_ns();
    // SAFETY: as in `on_lifecycle`.
    if let Some(t) = unsafe { target_for(dom, opaque) } {
        let _ = t.tx.send(DomainEvent {
            side: t.side,
            wall_ns,
            kind: EventKind::Iteration(u64::try_from(iteration).unwrap_or(0)),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_names_and_phases() {
        let suspended = Lifecycle {
            event: sys::VIR_DOMAIN_EVENT_SUSPENDED as i32,
            detail: sys::VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED as i32,
        };
        assert_eq!(suspended.name(), "SUSPENDED_MIGRATED");
        assert!(suspended.is_paused_for_migration());
        assert!(!suspended.is_resumed_after_migration());
        let resumed = Lifecycle {
            event: sys::VIR_DOMAIN_EVENT_RESUMED as i32,
            detail: sys::VIR_DOMAIN_EVENT_RESUMED_POSTCOPY as i32,
        };
        assert_eq!(resumed.name(), "RESUMED_POSTCOPY");
        assert!(resumed.is_resumed_after_migration());
        let started = Lifecycle {
            event: sys::VIR_DOMAIN_EVENT_STARTED as i32,
            detail: sys::VIR_DOMAIN_EVENT_STARTED_MIGRATED as i32,
        };
        assert_eq!(started.name(), "STARTED_MIGRATED");
        assert!(!started.is_resumed_after_migration());
        assert_eq!(
            Lifecycle {
                event: 99,
                detail: 1
            }
            .name(),
            "EVENT99_1"
        );
    }
}
