//! One libvirt "host" of the testbed: a privileged `libvirtd` (Debian's
//! `libvirt-daemon-system`, QEMU driver) with its own host UUID, configuration,
//! state, logs and socket, in its own network namespace and its own mount namespace.
//!
//! A privileged libvirtd keeps its state in fixed places (`/run/libvirt`,
//! `/var/lib/libvirt`, `/var/cache/libvirt`, `/var/log/libvirt`, `/etc/libvirt`), so
//! two of them on one machine need private copies: the daemon is started by
//! `unshare --mount --propagation private` and bind-mounts its own folders over those
//! five paths before it execs libvirtd. Everything else (the guest image, shared
//! disks, the socket folder) is the machine's file system, visible to both. The QEMU
//! processes it starts inherit both namespaces: their migration stream runs over the
//! testbed's migration link. `qemu.conf` runs QEMU as root without a security
//! driver, cgroups or per-domain mount namespaces (none of which a container offers)
//! and writes the guest's stdout to a file (no virtlogd).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The five paths a privileged libvirtd uses, in the order they are bind-mounted.
pub const PRIVATE_PATHS: [(&str, &str); 5] = [
    ("run", "/run/libvirt"),
    ("lib", "/var/lib/libvirt"),
    ("cache", "/var/cache/libvirt"),
    ("log", "/var/log/libvirt"),
    ("etc", "/etc/libvirt"),
];

/// One daemon's folders and settings.
#[derive(Debug, Clone)]
pub struct DaemonSpec {
    /// The daemon's folder (its private copies live in sub-folders).
    pub dir: PathBuf,
    /// Its host UUID (must differ between the two: libvirt refuses to migrate to
    /// the same host).
    pub host_uuid: String,
}

impl DaemonSpec {
    /// The folder holding the daemon's sockets (on the machine's file system).
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.join("sock")
    }

    /// The read-write socket.
    pub fn socket(&self) -> PathBuf {
        self.socket_dir().join("libvirt-sock")
    }

    /// The URI that reaches this daemon from anywhere on this machine.
    pub fn uri(&self) -> String {
        format!("qemu+unix:///system?socket={}", self.socket().display())
    }

    /// The daemon's log (with QEMU's monitor events and their timestamps).
    pub fn log(&self) -> PathBuf {
        self.dir.join("libvirtd.log")
    }

    /// The pidfile.
    pub fn pidfile(&self) -> PathBuf {
        self.dir.join("libvirtd.pid")
    }

    /// Where this host's private `/var/lib/libvirt` is on the machine.
    pub fn lib_dir(&self) -> PathBuf {
        self.dir.join("lib")
    }

    /// `libvirtd.conf`: unix sockets in [`Self::socket_dir`] without authentication
    /// (mode 0700: root only), the host UUID, and a log with QEMU's monitor events.
    pub fn libvirtd_conf(&self) -> String {
        format!(
            r#"unix_sock_dir = "{sock}"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
host_uuid = "{uuid}"
log_outputs = "2:file:{log}"
log_filters = "2:qemu.qemu_monitor_json 3:*"
"#,
            sock = self.socket_dir().display(),
            uuid = self.host_uuid,
            log = self.log().display(),
        )
    }

    /// `qemu.conf`.
    pub fn qemu_conf(&self) -> String {
        r#"user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
stdio_handler = "file"
"#
        .into()
    }

    /// Creates the folders and writes the configuration.
    pub fn write(&self) -> std::io::Result<()> {
        for (sub, _) in PRIVATE_PATHS {
            std::fs::create_dir_all(self.dir.join(sub))?;
        }
        std::fs::create_dir_all(self.dir.join("lib/images"))?;
        std::fs::create_dir_all(self.socket_dir())?;
        std::fs::write(self.dir.join("etc/libvirtd.conf"), self.libvirtd_conf())?;
        std::fs::write(self.dir.join("etc/qemu.conf"), self.qemu_conf())?;
        // The bind mounts need their targets; /run/libvirt exists only once a
        // system libvirtd ran. An empty folder is all that is left on the machine.
        std::fs::create_dir_all("/run/libvirt")?;
        Ok(())
    }

    /// The command that starts the daemon in a private mount namespace (the caller
    /// starts it inside the host's network namespace).
    pub fn command(&self) -> Command {
        let q = |p: &Path| shell_quote(&p.to_string_lossy());
        let mut script = String::from("set -e; ");
        for (sub, target) in PRIVATE_PATHS {
            script.push_str(&format!(
                "mount --bind {} {target}; ",
                q(&self.dir.join(sub))
            ));
        }
        script.push_str(&format!(
            "exec libvirtd -f {} -p {}",
            q(&self.dir.join("etc/libvirtd.conf")),
            q(&self.pidfile())
        ));
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(script)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null());
        if let Ok(f) = std::fs::File::create(self.dir.join("stderr.log")) {
            cmd.stderr(f);
        }
        cmd
    }
}

/// `s` quoted for `sh`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A random UUID (version 4) from the kernel.
pub fn random_uuid() -> std::io::Result<String> {
    Ok(std::fs::read_to_string("/proc/sys/kernel/random/uuid")?
        .trim()
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_and_command_keep_everything_private() {
        let d = DaemonSpec {
            dir: "/run/x/h1".into(),
            host_uuid: "11111111-2222-4333-8444-555555555555".into(),
        };
        let conf = d.libvirtd_conf();
        assert!(conf.contains("unix_sock_dir = \"/run/x/h1/sock\""));
        assert!(conf.contains("host_uuid = \"11111111-2222-4333-8444-555555555555\""));
        assert_eq!(
            d.uri(),
            "qemu+unix:///system?socket=/run/x/h1/sock/libvirt-sock"
        );
        let cmd = d.command();
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let script = args.last().unwrap();
        for (sub, target) in PRIVATE_PATHS {
            assert!(
                script.contains(&format!("mount --bind '/run/x/h1/{sub}' {target}")),
                "{script}"
            );
        }
        assert!(script.ends_with(
            "exec libvirtd -f '/run/x/h1/etc/libvirtd.conf' -p '/run/x/h1/libvirtd.pid'"
        ));
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }
}
