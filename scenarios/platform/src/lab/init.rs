//! The guest's `/init` and the kernel command line that configures it.
//!
//! The init script (busybox `sh`) mounts the pseudo file systems, loads the virtio
//! modules in dependency order (the Debian package has no usable modules.dep here),
//! sets the address from `qp.ip=`, starts the services listed in `qp.services=`,
//! serves `/boot_id` over HTTP on [`INFO_PORT`] and prints [`READY_MARKER`] on the
//! serial console. This module only produces text; the image builder packs it.

use std::net::Ipv4Addr;

/// Printed on ttyS0 once every requested service listens.
pub const READY_MARKER: &str = "qoeprobe-lab-ready";
/// HTTP port of the guest's info server (`/boot_id`, busybox httpd).
pub const INFO_PORT: u16 = 8000;
/// TCP port of `serve dash` in the guest.
pub const DASH_PORT: u16 = 8080;
/// TCP port of `serve file` in the guest.
pub const FILE_PORT: u16 = 8081;
/// TCP port of `serve live` in the guest.
pub const LIVE_PORT: u16 = 8082;
/// UDP port of `serve game` in the guest.
pub const GAME_PORT: u16 = 27015;
/// TCP port of `serve dirty`'s verification (`GET /memory`) in the guest.
pub const DIRTY_PORT: u16 = 8083;

/// Modules to load, in this order (docs/lab.md, "Guest image": the kernel package has
/// no usable modules.dep).
pub const MODULES: &[&str] = &[
    "virtio_ring",
    "virtio",
    "virtio_pci_modern_dev",
    "virtio_pci_legacy_dev",
    "virtio_pci",
    "failover",
    "net_failover",
    "virtio_net",
    "virtio_blk",
];

/// A service the guest can run (the `qoeprobe-fixtures serve` subcommands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// DASH/HLS origin on [`DASH_PORT`].
    Dash,
    /// File server on [`FILE_PORT`].
    File,
    /// Live stream server on [`LIVE_PORT`].
    Live,
    /// UDP game server on [`GAME_PORT`].
    Game,
    /// Memory dirtier writing a self-checking pattern; verified on [`DIRTY_PORT`].
    Dirty,
}

impl Service {
    /// The name used on the command line and in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Service::Dash => "dash",
            Service::File => "file",
            Service::Live => "live",
            Service::Game => "game",
            Service::Dirty => "dirty",
        }
    }

    /// Parses a service name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Dash, Self::File, Self::Live, Self::Game, Self::Dirty]
            .into_iter()
            .find(|v| v.name() == s)
    }
}

/// What the guest should do at boot.
#[derive(Debug, Clone, PartialEq)]
pub struct GuestConfig {
    /// The guest's address on the service network.
    pub ip: Ipv4Addr,
    /// Prefix length of that network.
    pub prefix: u8,
    /// Services to start.
    pub services: Vec<Service>,
    /// `serve dirty`: MiB to dirty and MiB/s.
    pub dirty: (u64, f64),
    /// `serve live` relays this stream (`--source relay --upstream URL`) instead of
    /// encoding its own clip. A URL without spaces or quotes.
    pub upstream: Option<String>,
}

impl GuestConfig {
    /// The kernel command line.
    pub fn kernel_cmdline(&self) -> String {
        let services: Vec<&str> = self.services.iter().map(|s| s.name()).collect();
        format!(
            "console=ttyS0 quiet panic=-1 qp.ip={}/{} qp.services={} qp.dirty={}:{}",
            self.ip,
            self.prefix,
            if services.is_empty() {
                "none".to_string()
            } else {
                services.join(",")
            },
            self.dirty.0,
            self.dirty.1
        ) + &self
            .upstream
            .as_ref()
            .map(|u| format!(" qp.upstream={u}"))
            .unwrap_or_default()
    }
}

/// The `/init` script.
pub fn init_script() -> String {
    format!(
        r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/shm /tmp /www
mount -t tmpfs shm /dev/shm
for m in {modules}; do insmod /lib/modules/$m.ko 2>/dev/null; done
IP=; SVC=; DIRTY=64:32; UP=
for a in $(cat /proc/cmdline); do
  case "$a" in
    qp.ip=*) IP="${{a#qp.ip=}}" ;;
    qp.services=*) SVC="${{a#qp.services=}}" ;;
    qp.dirty=*) DIRTY="${{a#qp.dirty=}}" ;;
    qp.upstream=*) UP="${{a#qp.upstream=}}" ;;
  esac
done
ip link set lo up
ip link set eth0 up
[ -n "$IP" ] && ip addr add "$IP" dev eth0
cat /proc/sys/kernel/random/boot_id > /www/boot_id
httpd -p {info} -h /www
F=/bin/qoeprobe-fixtures
wait_tcp() {{ i=0; while [ $i -lt 200 ]; do netstat -ltn | grep -q ":$1 " && return 0; i=$((i+1)); sleep 0.05; done; echo "qoeprobe-lab: port $1 never listened"; }}
for s in $(echo "$SVC" | tr , ' '); do
  case "$s" in
    dash) $F serve dash --bind 0.0.0.0:{dash} >/tmp/dash.log 2>&1 & wait_tcp {dash} ;;
    file) $F serve file --bind 0.0.0.0:{file} >/tmp/file.log 2>&1 & wait_tcp {file} ;;
    live) if [ -n "$UP" ]; then $F serve live --source relay --upstream "$UP" --bind 0.0.0.0:{live} >/tmp/live.log 2>&1 &
      else $F serve live --clip /media/clip.ts --bind 0.0.0.0:{live} >/tmp/live.log 2>&1 & fi; wait_tcp {live} ;;
    game) $F serve game --bind 0.0.0.0:{game} >/tmp/game.log 2>&1 & sleep 0.3 ;;
    dirty) MB="${{DIRTY%%:*}}"; RATE="${{DIRTY#*:}}"
      $F serve dirty --mb "$MB" --rate "$RATE" --bind 0.0.0.0:{dirty} >/tmp/dirty.log 2>&1 & wait_tcp {dirty} ;;
  esac
done
echo "{marker} boot_id=$(cat /www/boot_id)"
while true; do sleep 3600; done
"#,
        modules = MODULES.join(" "),
        info = INFO_PORT,
        dash = DASH_PORT,
        file = FILE_PORT,
        live = LIVE_PORT,
        game = GAME_PORT,
        dirty = DIRTY_PORT,
        marker = READY_MARKER,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdline_lists_services_and_address() {
        let g = GuestConfig {
            ip: Ipv4Addr::new(10, 77, 0, 10),
            prefix: 24,
            services: vec![Service::Dash, Service::Game],
            dirty: (64, 32.0),
            upstream: None,
        };
        let c = g.kernel_cmdline();
        assert!(c.contains("qp.ip=10.77.0.10/24"));
        assert!(c.contains("qp.services=dash,game"));
        assert!(!c.contains("qp.upstream"));
        let relay = GuestConfig {
            upstream: Some("http://10.77.0.200:8090/live.ts".into()),
            ..g
        };
        assert!(
            relay
                .kernel_cmdline()
                .ends_with(" qp.upstream=http://10.77.0.200:8090/live.ts")
        );
        assert!(init_script().contains("serve live --source relay --upstream \"$UP\""));
        assert!(init_script().contains(READY_MARKER));
        assert!(
            init_script().contains("serve dirty --mb \"$MB\" --rate \"$RATE\" --bind 0.0.0.0:8083")
        );
        assert_eq!(Service::parse("game"), Some(Service::Game));
        assert_eq!(Service::parse("nope"), None);
    }
}
