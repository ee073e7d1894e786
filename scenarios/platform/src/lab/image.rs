//! The guest image: Debian's cloud kernel and a busybox initramfs holding the static
//! `qoeprobe-fixtures` binary and the lab's `/init`.
//!
//! Built into a cache folder ([`default_cache_dir`]), reproducibly (sorted cpio with
//! fixed mtimes, `gzip -n`), with a `manifest.json` of the sha256 of every input and
//! output; [`GuestImage::ensure`] rebuilds only when an input changed or an output is
//! missing or altered. This module never starts a VM.

use super::cpio::{Archive, Entry};
use super::{LabError, Result, find_in_path, init, run_cmd};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Bumped when the image layout changes (forces a rebuild).
const BUILDER_VERSION: &str = "lab-image-1";
/// Modification time of every initramfs member.
const MTIME: u32 = 0;
/// The meta-package whose dependency names the kernel to use.
const KERNEL_META: &str = "linux-image-cloud-amd64";

/// Where the image comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageOptions {
    /// Cache folder for the downloaded kernel package and the built image.
    pub cache_dir: PathBuf,
    /// The static fixtures binary; `None`: build it in the source tree if there is
    /// one, else look next to the running executable.
    pub fixtures: Option<PathBuf>,
    /// busybox (must be static: Debian package busybox-static).
    pub busybox: PathBuf,
    /// A kernel `.deb` to use instead of `apt-get download`.
    pub kernel_deb: Option<PathBuf>,
}

impl Default for ImageOptions {
    fn default() -> Self {
        Self {
            cache_dir: default_cache_dir(),
            fixtures: None,
            busybox: PathBuf::from("/bin/busybox"),
            kernel_deb: None,
        }
    }
}

/// The workspace this crate was built in (`scenarios/platform` is two levels down),
/// if it is still there.
fn source_tree() -> Option<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
}

/// The live service's test clip (`build/media/clip.ts`, made by
/// scripts/make-clip.sh; the same place `serve live` reads it from): in the current
/// folder, else in the source tree, if it has been made.
pub(crate) fn clip_path() -> Option<PathBuf> {
    let rel = Path::new("build/media/clip.ts");
    [Some(rel.to_path_buf()), source_tree().map(|w| w.join(rel))]
        .into_iter()
        .flatten()
        .find(|p| p.exists())
}

/// `$QOEPROBE_LAB_CACHE`, else `$XDG_CACHE_HOME/qoeprobe/lab`, else
/// `~/.cache/qoeprobe/lab`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("QOEPROBE_LAB_CACHE") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/var/cache"));
    base.join("qoeprobe").join("lab")
}

/// The manifest written next to the image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Builder version.
    pub builder: String,
    /// sha256 of each input (`kernel_deb`, `busybox`, `fixtures`, `init`).
    pub inputs: BTreeMap<String, String>,
    /// sha256 of each output (`vmlinuz`, `initramfs.cpio.gz`).
    pub outputs: BTreeMap<String, String>,
    /// The kernel package used.
    pub kernel_package: String,
    /// Services the fixtures binary offers (`serve --help`).
    pub services: Vec<String>,
}

/// A built guest image.
#[derive(Debug, Clone)]
pub struct GuestImage {
    /// The folder holding it.
    pub dir: PathBuf,
    /// The kernel.
    pub kernel: PathBuf,
    /// The initramfs.
    pub initramfs: PathBuf,
    /// What it was built from.
    pub manifest: Manifest,
    /// Whether this call (re)built it.
    pub rebuilt: bool,
}

impl GuestImage {
    /// Returns the cached image, building it first if an input changed.
    pub fn ensure(opts: &ImageOptions) -> Result<Self> {
        let dir = opts.cache_dir.join("image");
        mkdir(&dir)?;
        let deb = match &opts.kernel_deb {
            Some(d) => d.clone(),
            None => kernel_deb(&opts.cache_dir.join("debs"))?,
        };
        let fixtures = match &opts.fixtures {
            Some(f) => f.clone(),
            None => locate_fixtures()?,
        };
        for (what, path) in [("busybox", &opts.busybox), ("fixtures binary", &fixtures)] {
            let bytes = read(path)?;
            if !is_static_elf(&bytes) {
                return Err(LabError::Failed(format!(
                    "the {what} {} is not a static x86-64 ELF executable; the guest has no libc (install busybox-static; build fixtures with RUSTFLAGS='-C target-feature=+crt-static')",
                    path.display()
                )));
            }
        }
        let init = init::init_script();
        let mut inputs = BTreeMap::new();
        inputs.insert("kernel_deb".into(), sha256_file(&deb)?);
        inputs.insert("busybox".into(), sha256_file(&opts.busybox)?);
        inputs.insert("fixtures".into(), sha256_file(&fixtures)?);
        inputs.insert("init".into(), sha256_hex(init.as_bytes()));
        // The live service's clip (scripts/make-clip.sh), when it has been made.
        let clip = clip_path();
        if let Some(c) = &clip {
            inputs.insert("clip".into(), sha256_file(c)?);
        }
        let kernel = dir.join("vmlinuz");
        let initramfs = dir.join("initramfs.cpio.gz");
        let manifest_path = dir.join("manifest.json");
        if let Ok(text) = fs::read_to_string(&manifest_path)
            && let Ok(m) = serde_json::from_str::<Manifest>(&text)
            && m.builder == BUILDER_VERSION
            && m.inputs == inputs
            && outputs_match(&m, &kernel, &initramfs)
        {
            return Ok(Self {
                dir,
                kernel,
                initramfs,
                manifest: m,
                rebuilt: false,
            });
        }
        let services = fixture_services(&fixtures)?;
        build(
            &dir,
            &BuildInputs {
                deb: &deb,
                busybox: &opts.busybox,
                fixtures: &fixtures,
                init: &init,
                clip: clip.as_deref(),
            },
            &kernel,
            &initramfs,
        )?;
        let mut outputs = BTreeMap::new();
        outputs.insert("vmlinuz".into(), sha256_file(&kernel)?);
        outputs.insert("initramfs.cpio.gz".into(), sha256_file(&initramfs)?);
        let kernel_package = deb
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let manifest = Manifest {
            builder: BUILDER_VERSION.into(),
            inputs,
            outputs,
            kernel_package,
            services,
        };
        let text = serde_json::to_string_pretty(&manifest)
            .map_err(|e| LabError::Failed(format!("cannot serialize the image manifest: {e}")))?;
        fs::write(&manifest_path, text + "\n")
            .map_err(|e| LabError::io("cannot write the image manifest", &manifest_path, e))?;
        Ok(Self {
            dir,
            kernel,
            initramfs,
            manifest,
            rebuilt: true,
        })
    }

    /// Whether the fixtures binary in the image offers `service`.
    pub fn has_service(&self, service: &str) -> bool {
        self.manifest.services.iter().any(|s| s == service)
    }
}

fn outputs_match(m: &Manifest, kernel: &Path, initramfs: &Path) -> bool {
    let ok = |name: &str, p: &Path| {
        m.outputs
            .get(name)
            .is_some_and(|h| sha256_file(p).ok().as_deref() == Some(h))
    };
    ok("vmlinuz", kernel) && ok("initramfs.cpio.gz", initramfs)
}

/// What goes into the image.
struct BuildInputs<'a> {
    deb: &'a Path,
    busybox: &'a Path,
    fixtures: &'a Path,
    init: &'a str,
    clip: Option<&'a Path>,
}

fn build(dir: &Path, inputs: &BuildInputs<'_>, kernel: &Path, initramfs: &Path) -> Result<()> {
    let BuildInputs {
        deb,
        busybox,
        fixtures,
        init,
        clip,
    } = *inputs;
    let tmp = dir.join("extract");
    let _ = fs::remove_dir_all(&tmp);
    mkdir(&tmp)?;
    let hint = "check that the kernel package is a complete .deb (delete it from the cache to fetch it again)";
    let cmd = format!(
        "dpkg-deb --fsys-tarfile '{}' | tar -x -C '{}' --wildcards './boot/vmlinuz-*' '*/virtio*.ko' '*/failover.ko' '*/net_failover.ko'",
        deb.display(),
        tmp.display()
    );
    run_cmd("sh", &["-c", &cmd], hint)?;
    let mut vmlinuz = None;
    let mut modules = BTreeMap::new();
    walk(&tmp, &mut |p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with("vmlinuz-") {
            vmlinuz = Some(p.to_path_buf());
        } else if let Some(stem) = name.strip_suffix(".ko") {
            modules.insert(stem.to_string(), p.to_path_buf());
        }
    })?;
    let vmlinuz = vmlinuz.ok_or_else(|| {
        LabError::Failed(format!(
            "{} holds no /boot/vmlinuz-*; {hint}",
            deb.display()
        ))
    })?;
    let mut archive = Archive::new();
    for m in init::MODULES {
        let path = modules.get(*m).ok_or_else(|| {
            LabError::Failed(format!(
                "{} has no module {m}.ko; use a Debian cloud-amd64 kernel",
                deb.display()
            ))
        })?;
        archive.add(
            &format!("lib/modules/{m}.ko"),
            Entry::File(0o644, read(path)?),
        );
    }
    archive.add("init", Entry::File(0o755, init.as_bytes().to_vec()));
    archive.add("bin/busybox", Entry::File(0o755, read(busybox)?));
    archive.add("bin/sh", Entry::Symlink("busybox".into()));
    archive.add(
        "bin/qoeprobe-fixtures",
        Entry::File(0o755, stripped(fixtures, dir)?),
    );
    if let Some(c) = clip {
        archive.add("media", Entry::Dir(0o755));
        archive.add("media/clip.ts", Entry::File(0o644, read(c)?));
    }
    archive.add("dev/console", Entry::CharDev(0o600, 5, 1));
    for d in ["proc", "sys", "tmp", "www", "root", "etc"] {
        archive.add(d, Entry::Dir(0o755));
    }
    let cpio = dir.join("initramfs.cpio");
    fs::write(&cpio, archive.to_bytes(MTIME))
        .map_err(|e| LabError::io("cannot write the initramfs", &cpio, e))?;
    let cpio_s = cpio.to_string_lossy().into_owned();
    run_cmd("gzip", &["-n", "-6", "-f", &cpio_s], "install gzip")?;
    let gz = dir.join("initramfs.cpio.gz");
    if gz != initramfs {
        fs::rename(&gz, initramfs)
            .map_err(|e| LabError::io("cannot move the initramfs", initramfs, e))?;
    }
    fs::copy(&vmlinuz, kernel).map_err(|e| LabError::io("cannot copy the kernel", kernel, e))?;
    let _ = fs::remove_dir_all(&tmp);
    Ok(())
}

/// The fixtures binary without debug info (`strip`), or as it is if `strip` is missing.
fn stripped(fixtures: &Path, dir: &Path) -> Result<Vec<u8>> {
    let out = dir.join("qoeprobe-fixtures.stripped");
    let (src, dst) = (
        fixtures.to_string_lossy().into_owned(),
        out.to_string_lossy().into_owned(),
    );
    if find_in_path("strip").is_some()
        && run_cmd("strip", &["--strip-all", "-o", &dst, &src], "").is_ok()
    {
        let bytes = read(&out)?;
        let _ = fs::remove_file(&out);
        return Ok(bytes);
    }
    read(fixtures)
}

/// The kernel package in `debs` (downloaded with `apt-get download` when missing).
fn kernel_deb(debs: &Path) -> Result<PathBuf> {
    mkdir(debs)?;
    let wanted = run_cmd("apt-cache", &["depends", KERNEL_META], "")
        .ok()
        .and_then(|out| {
            out.lines()
                .filter_map(|l| l.trim().strip_prefix("Depends: "))
                .find(|p| p.starts_with("linux-image-") && p.ends_with("-cloud-amd64"))
                .map(str::to_string)
        });
    let cached = |prefix: &str| -> Option<PathBuf> {
        let mut found: Vec<PathBuf> = fs::read_dir(debs)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    n.starts_with(prefix) && n.ends_with(".deb")
                })
            })
            .collect();
        found.sort();
        found.pop()
    };
    let Some(pkg) = wanted else {
        return cached("linux-image-").ok_or_else(|| LabError::Unavailable(format!(
            "cannot resolve {KERNEL_META} with apt-cache and no kernel package is cached in {}; run `apt-get update` or pass a .deb",
            debs.display()
        )));
    };
    if let Some(p) = cached(&format!("{pkg}_")) {
        return Ok(p);
    }
    let out = std::process::Command::new("apt-get")
        .args(["download", &pkg])
        .current_dir(debs)
        .output()
        .map_err(|e| LabError::Command {
            command: format!("apt-get download {pkg}"),
            detail: e.to_string(),
            hint: "install apt".into(),
        })?;
    if !out.status.success() {
        return Err(LabError::Command {
            command: format!("apt-get download {pkg}"),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            hint: "run `apt-get update` first; the lab needs Debian's cloud kernel package".into(),
        });
    }
    cached(&format!("{pkg}_")).ok_or_else(|| {
        LabError::Failed(format!(
            "apt-get download {pkg} left no .deb in {}",
            debs.display()
        ))
    })
}

/// The static fixtures binary: built in the source tree when there is one
/// (`target/static/...`), else `qoeprobe-fixtures` next to the running executable.
pub fn locate_fixtures() -> Result<PathBuf> {
    if let Some(ws) = source_tree().filter(|w| w.join("fixtures").join("Cargo.toml").is_file()) {
        return build_static_fixtures(&ws);
    }
    let exe = std::env::current_exe()
        .map_err(|e| LabError::io("cannot find the running executable", "/proc/self/exe", e))?;
    let sibling = exe.with_file_name("qoeprobe-fixtures");
    if sibling.is_file() {
        return Ok(sibling);
    }
    Err(LabError::Unavailable(format!(
        "no static qoeprobe-fixtures found next to {}; build one with RUSTFLAGS='-C target-feature=+crt-static' cargo build -p fixtures --release --target x86_64-unknown-linux-gnu and pass it with --fixtures",
        exe.display()
    )))
}

/// Builds the static fixtures binary in workspace `ws` (a no-op when up to date).
pub fn build_static_fixtures(ws: &Path) -> Result<PathBuf> {
    let target_dir = ws.join("target").join("static");
    let status =
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args([
                "build",
                "-q",
                "-p",
                "fixtures",
                "--release",
                "--target",
                "x86_64-unknown-linux-gnu",
                "--bin",
                "qoeprobe-fixtures",
            ])
            .current_dir(ws)
            .env("RUSTFLAGS", "-C target-feature=+crt-static")
            .env("CARGO_TARGET_DIR", &target_dir)
            .status()
            .map_err(|e| LabError::Command {
                command: "cargo build -p fixtures".into(),
                detail: e.to_string(),
                hint: "install Rust (rustup)".into(),
            })?;
    if !status.success() {
        return Err(LabError::Command {
            command:
                "cargo build -p fixtures --release --target x86_64-unknown-linux-gnu (crt-static)"
                    .into(),
            detail: status.to_string(),
            hint: "see the compiler's messages above".into(),
        });
    }
    Ok(target_dir
        .join("x86_64-unknown-linux-gnu")
        .join("release")
        .join("qoeprobe-fixtures"))
}

/// The services listed by `fixtures serve --help`.
fn fixture_services(fixtures: &Path) -> Result<Vec<String>> {
    let out = run_cmd(
        &fixtures.to_string_lossy(),
        &["serve", "--help"],
        "the fixtures binary must run on this host",
    )?;
    let mut in_commands = false;
    let mut services = Vec::new();
    for line in out.lines() {
        if line.starts_with("Commands:") {
            in_commands = true;
        } else if in_commands && line.starts_with("  ") {
            if let Some(name) = line.split_whitespace().next().filter(|n| *n != "help") {
                services.push(name.to_string());
            }
        } else if in_commands {
            in_commands = false;
        }
    }
    Ok(services)
}

/// True for a 64-bit x86-64 ELF executable without a program interpreter.
pub fn is_static_elf(b: &[u8]) -> bool {
    let u16_at = |o: usize| b.get(o..o + 2).map(|s| u16::from_le_bytes([s[0], s[1]]));
    let u32_at = |o: usize| {
        b.get(o..o + 4)
            .and_then(|s| s.try_into().ok())
            .map(u32::from_le_bytes)
    };
    let u64_at = |o: usize| {
        b.get(o..o + 8)
            .and_then(|s| s.try_into().ok())
            .map(u64::from_le_bytes)
    };
    if b.get(0..5) != Some(b"\x7fELF\x02") || u16_at(0x12) != Some(62) {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    let Ok(phoff) = usize::try_from(phoff) else {
        return false;
    };
    (0..usize::from(phnum))
        .all(|i| u32_at(phoff + i * usize::from(phentsize)).is_some_and(|t| t != 3))
}

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Lowercase hex sha256 of a file.
pub fn sha256_file(path: &Path) -> Result<String> {
    Ok(sha256_hex(&read(path)?))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| LabError::io("cannot read", path, e))
}

fn mkdir(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|e| LabError::io("cannot create the folder", path, e))
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) -> Result<()> {
    for e in fs::read_dir(dir)
        .map_err(|e| LabError::io("cannot list", dir, e))?
        .flatten()
    {
        let p = e.path();
        if p.is_dir() {
            walk(&p, f)?;
        } else {
            f(&p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_elf_detection_rejects_garbage() {
        assert!(!is_static_elf(b""));
        assert!(!is_static_elf(b"\x7fELF\x02\x01\x01"));
        assert_eq!(sha256_hex(b"abc").len(), 64);
    }
}
