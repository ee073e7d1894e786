//! Connections to the two libvirt daemons and the domain on them, with errors that
//! say what to check. Every call here blocks (libvirt's RPC): async callers run them
//! with `spawn_blocking`.

use super::config::DomainRef;
use super::events::ensure_event_loop;
use virt::connect::Connect;
use virt::domain::Domain;
use virt::error::ErrorNumber;

/// An open connection, closed on drop.
pub struct Conn {
    conn: Connect,
    uri: String,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").field("uri", &self.uri).finish()
    }
}

impl Conn {
    /// Opens `uri` read-write (after starting the event loop, so that its events
    /// are delivered).
    pub fn open(uri: &str) -> Result<Self, String> {
        ensure_event_loop();
        let conn = Connect::open(Some(uri)).map_err(|e| {
            format!(
                "cannot connect to libvirt at {uri}: {}; check that libvirtd (or virtqemud) runs on that host, that the URI is right (e.g. qemu:///system, qemu+ssh://HOST/system, qemu+tcp://HOST/system) and that this user may connect (`virsh -c {uri} list`)",
                e.message().trim()
            )
        })?;
        // Detect a dead peer (daemon stopped, network gone) within ~30 s instead of
        // waiting on the socket forever; needs the event loop.
        // SAFETY: a valid, open connection.
        unsafe { virt_sys::virConnectSetKeepAlive(conn.as_ptr(), 5, 6) };
        Ok(Self {
            conn,
            uri: uri.to_string(),
        })
    }

    /// The libvirt connection.
    pub fn connect(&self) -> &Connect {
        &self.conn
    }

    /// The URI it was opened with.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The domain on this host, if it is defined or running here.
    pub fn find(&self, domain: &DomainRef) -> Result<Option<Domain>, String> {
        let found = match domain {
            DomainRef::Name(n) => Domain::lookup_by_name(&self.conn, n),
            DomainRef::Uuid(u) => Domain::lookup_by_uuid_string(&self.conn, u),
        };
        match found {
            Ok(d) => Ok(Some(d)),
            Err(e) if e.code() == ErrorNumber::NoDomain => Ok(None),
            Err(e) => Err(format!(
                "cannot look up domain {domain} at {}: {}",
                self.uri,
                e.message().trim()
            )),
        }
    }

    /// The domain when it is running here (not merely defined).
    pub fn find_running(&self, domain: &DomainRef) -> Result<Option<Domain>, String> {
        match self.find(domain)? {
            Some(d) if d.is_active().unwrap_or(false) => Ok(Some(d)),
            _ => Ok(None),
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let _ = self.conn.close();
    }
}

/// The domain's UUID, lowercase.
pub fn uuid_of(d: &Domain) -> Result<String, String> {
    d.get_uuid_string()
        .map(|u| u.to_ascii_lowercase())
        .map_err(|e| format!("cannot read the domain's UUID: {}", e.message().trim()))
}
