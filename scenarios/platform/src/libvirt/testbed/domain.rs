//! The testbed's guest as a libvirt domain: the lab's guest image (kernel and
//! initramfs, direct kernel boot) under TCG (`<domain type='qemu'>`), its NIC on the
//! host's bridge `br0` with the lab's MAC, the serial console in a file (the guest's
//! ready marker), and optionally a raw disk. Also reads QEMU's own event timestamps
//! from a daemon's log, the independent clock the tests compare libvirt's events with.

use crate::lab::Flavor;
use crate::lab::init::GuestConfig;
use std::path::{Path, PathBuf};

/// The guest NIC's MAC address (the same as the lab's).
pub const MAC: &str = "52:54:00:77:00:0a";

/// What the domain runs.
#[derive(Debug, Clone)]
pub struct DomainSpec {
    /// Domain name.
    pub name: String,
    /// Kernel of the lab image.
    pub kernel: PathBuf,
    /// Initramfs of the lab image.
    pub initramfs: PathBuf,
    /// The guest's address and services (its kernel command line).
    pub guest: GuestConfig,
    /// Size.
    pub flavor: Flavor,
    /// Raw disk (`vda`), if any.
    pub disk: Option<PathBuf>,
    /// Serial console log.
    pub serial: PathBuf,
}

impl DomainSpec {
    /// The domain XML.
    pub fn xml(&self) -> String {
        let esc = |p: &Path| xml_escape(&p.to_string_lossy());
        let disk = self.disk.as_ref().map_or(String::new(), |d| {
            format!(
                "<disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'/><source file='{}'/><target dev='vda' bus='virtio'/></disk>",
                esc(d)
            )
        });
        format!(
            r#"<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{mem}</memory>
  <vcpu>{vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>{cmdline}</cmdline>
  </os>
  <features><acpi/></features>
  <cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    {disk}
    <interface type='bridge'>
      <source bridge='br0'/>
      <mac address='{MAC}'/>
      <model type='virtio'/>
      <rom enabled='no'/>
    </interface>
    <serial type='file'><source path='{serial}'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
"#,
            name = xml_escape(&self.name),
            mem = self.flavor.memory_mib,
            vcpus = self.flavor.vcpus,
            kernel = esc(&self.kernel),
            initrd = esc(&self.initramfs),
            cmdline = xml_escape(&self.guest.kernel_cmdline()),
            serial = esc(&self.serial),
        )
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

/// QEMU's monitor events in a libvirtd log (`QEMU_MONITOR_RECV_EVENT` lines, logged
/// at level info by `qemu.qemu_monitor_json`): `(event name, QEMU's timestamp in ns
/// since the Unix epoch)`, in log order.
pub fn qemu_events(log: &str) -> Vec<(String, u64)> {
    log.lines()
        .filter_map(|l| {
            let json = l.split("QEMU_MONITOR_RECV_EVENT:").nth(1)?;
            let json = json.split_once("event=")?.1;
            let v: serde_json::Value = serde_json::from_str(json.trim()).ok()?;
            let ts = &v["timestamp"];
            let ns = ts["seconds"].as_u64()? * 1_000_000_000 + ts["microseconds"].as_u64()? * 1000;
            Some((v["event"].as_str()?.to_string(), ns))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::init::Service;

    #[test]
    fn xml_boots_the_lab_image_on_the_bridge() {
        let spec = DomainSpec {
            name: "qp-a&b".into(),
            kernel: "/img/vmlinuz".into(),
            initramfs: "/img/initramfs.cpio.gz".into(),
            guest: GuestConfig {
                ip: "10.77.0.10".parse().unwrap(),
                prefix: 24,
                services: vec![Service::Dash],
                dirty: (64, 32.0),
                upstream: None,
            },
            flavor: Flavor::default(),
            disk: None,
            serial: "/run/s.log".into(),
        };
        let x = spec.xml();
        assert!(x.contains("<name>qp-a&amp;b</name>"));
        assert!(x.contains("<domain type='qemu'>"));
        assert!(x.contains("qp.services=dash"));
        assert!(x.contains("<source bridge='br0'/>"));
        assert!(!x.contains("<disk"));
    }

    #[test]
    fn reads_qemu_timestamps_from_the_daemon_log() {
        let log = r#"2026-12-01 22:28:21.052+0000: 18540: info : qemuMonitorJSONIOProcessLine:203 : QEMU_MONITOR_RECV_EVENT: mon=0x7f37d424a8b0 event={"timestamp": {"seconds": 1796164101, "microseconds": 165293}, "event": "STOP"}
2026-12-01 22:28:21.052+0000: 18540: info : something else
x QEMU_MONITOR_RECV_EVENT: mon=0x1 event={"timestamp": {"seconds": 1796164101, "microseconds": 874021}, "event": "RESUME"}"#;
        assert_eq!(
            qemu_events(log),
            vec![
                ("STOP".to_string(), 1_796_164_101_165_293_000),
                ("RESUME".to_string(), 1_796_164_101_874_021_000)
            ]
        );
    }
}
