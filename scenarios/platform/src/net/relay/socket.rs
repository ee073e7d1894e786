//! Raw `AF_PACKET` sockets with virtio-net headers, the relay's only I/O.
//!
//! With `PACKET_VNET_HDR` every frame is read and written with the 10-byte
//! `virtio_net_hdr` in front, which carries the GSO and checksum-offload state:
//! a 64 KiB TCP super-packet crosses the relay as ONE frame and is segmented by
//! the kernel after it, which is what lets a userspace relay reach 1 Gbit/s.
//! This module does syscalls only; timing lives in `pump`.

use crate::net::error::{NetError, Result};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

const PACKET_VNET_HDR: libc::c_int = 15;
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
/// Bytes of `struct virtio_net_hdr` in front of each frame.
pub const VNET_HDR_LEN: usize = 10;

fn os_err(what: String) -> NetError {
    NetError::Relay {
        what,
        source: io::Error::last_os_error(),
    }
}

fn setopt(
    fd: &OwnedFd,
    level: libc::c_int,
    opt: libc::c_int,
    val: libc::c_int,
    what: &str,
) -> Result<()> {
    // SAFETY: setsockopt with a pointer to a live c_int and its size.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            (&val as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(os_err(format!("setsockopt {what}")));
    }
    Ok(())
}

/// One packet socket bound to one interface of the calling thread's namespace.
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
}

impl PacketSocket {
    /// Opens a socket on `dev`; `receive` selects a receiving socket (all
    /// protocols, incoming frames only) or a send-only one.
    pub fn open(dev: &str, receive: bool) -> Result<Self> {
        let name = CString::new(dev).map_err(|_| NetError::InvalidName {
            name: dev.into(),
            reason: "interface names have no NUL byte".into(),
        })?;
        // SAFETY: if_nametoindex reads a NUL-terminated string.
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if ifindex == 0 {
            return Err(os_err(format!("find interface {dev}")));
        }
        let proto = if receive {
            (libc::ETH_P_ALL as u16).to_be()
        } else {
            0
        };
        // SAFETY: plain socket(2) call; the result is checked.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::c_int::from(proto),
            )
        };
        if raw < 0 {
            return Err(os_err(format!("AF_PACKET socket for {dev}")));
        }
        // SAFETY: raw is a fresh fd we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        setopt(&fd, libc::SOL_PACKET, PACKET_VNET_HDR, 1, "PACKET_VNET_HDR")?;
        if receive {
            setopt(
                &fd,
                libc::SOL_PACKET,
                PACKET_IGNORE_OUTGOING,
                1,
                "PACKET_IGNORE_OUTGOING",
            )?;
            // 64 MiB absorbs bursts while the thread is busy sending.
            setopt(
                &fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                64 << 20,
                "SO_RCVBUFFORCE",
            )?;
        } else {
            setopt(
                &fd,
                libc::SOL_SOCKET,
                libc::SO_SNDBUFFORCE,
                16 << 20,
                "SO_SNDBUFFORCE",
            )?;
        }
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid start.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = proto;
        addr.sll_ifindex = ifindex as i32;
        // SAFETY: bind with a pointer to a live sockaddr_ll and its size.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r != 0 {
            return Err(os_err(format!("bind AF_PACKET to {dev}")));
        }
        Ok(PacketSocket { fd })
    }

    /// Reads one frame (with its vnet header) without blocking; `Ok(None)` when
    /// nothing is waiting. Returns the full length even if `buf` was too small.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        // SAFETY: recv into a live buffer of the given length.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            )
        };
        if n >= 0 {
            return Ok(Some(n as usize));
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
            _ => Err(e),
        }
    }

    /// When the kernel received the frame last read (CLOCK_REALTIME ns), via
    /// `SIOCGSTAMPNS`; stamping this instead of the read time keeps the
    /// thread's wake-up latency out of the delay.
    pub fn last_rx_realtime_ns(&self) -> Option<u64> {
        const SIOCGSTAMPNS: libc::c_ulong = 0x8907;
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: SIOCGSTAMPNS writes one timespec into a live value.
        let r = unsafe { libc::ioctl(self.fd.as_raw_fd(), SIOCGSTAMPNS, &mut ts) };
        (r == 0 && ts.tv_sec > 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
    }

    /// Writes one frame (with its vnet header).
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        // SAFETY: send from a live buffer of the given length.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Waits until a frame is readable or `timeout` passed (nanosecond timeout;
    /// set the thread's timer slack low for it to mean anything).
    pub fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ts = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: ppoll on one live pollfd with a live timespec, no sigmask.
        let r = unsafe { libc::ppoll(&mut pfd, 1, &ts, std::ptr::null()) };
        if r < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(e)
            };
        }
        if pfd.revents & (libc::POLLERR | libc::POLLNVAL) != 0 {
            return Err(io::Error::other("socket error (interface gone?)"));
        }
        Ok(r > 0)
    }
}
