//! Output files: atomic replacement for new paths and plain regular files, writing
//! through for everything else that already exists.

use std::ffi::OsString;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// How [`write()`] put the bytes in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// A new file, or a regular file replaced atomically (temporary file, fsync,
    /// rename, fsync of the folder); the owner and mode of a replaced file are kept.
    Replaced,
    /// Written through what was there (a symlink, a device, a FIFO, a regular file
    /// with several hard links): opened and truncated, not replaced.
    Through,
}

/// Writes `bytes` to `path` without ever replacing anything but a plain regular
/// file. See the crate documentation for the rules; missing parent folders are
/// created.
///
/// Writing through a FIFO blocks until something reads it, as a shell's `>` does.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<Written> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(dir) = parent(path) {
                fs::create_dir_all(dir)?;
            }
            replace(path, bytes, None)?;
            Ok(Written::Replaced)
        }
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is a folder: give a file name",
        )),
        Ok(m) if m.is_file() && m.nlink() <= 1 => {
            replace(path, bytes, Some(&m))?;
            Ok(Written::Replaced)
        }
        Ok(_) => {
            through(path, bytes)?;
            Ok(Written::Through)
        }
    }
}

fn parent(path: &Path) -> Option<&Path> {
    path.parent().filter(|p| !p.as_os_str().is_empty())
}

/// Opens what is at `path` (following symlinks) and writes into it.
fn through(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOCTTY)
        .open(path)?;
    f.write_all(bytes)?;
    f.flush()?;
    if f.metadata()?.is_file() {
        f.sync_all()?;
    }
    Ok(())
}

/// A temporary file next to `path`, removed on drop unless renamed.
struct Temp {
    path: PathBuf,
    keep: bool,
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Creates a fresh temporary file next to `path`: `.<name>.<pid>.<n>.tmp`, created
/// with `O_EXCL` (never opens what someone else put there, symlinks included).
fn create_temp(path: &Path, mode: u32) -> io::Result<(File, Temp)> {
    static N: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "does not name a file"))?;
    let dir = parent(path).unwrap_or(Path::new("."));
    let mut last = None;
    for _ in 0..64 {
        let mut tmp = OsString::from(".");
        tmp.push(name);
        tmp.push(format!(
            ".{}.{}.tmp",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let tmp = dir.join(tmp);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
        {
            Ok(f) => {
                return Ok((
                    f,
                    Temp {
                        path: tmp,
                        keep: false,
                    },
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

/// Writes a temporary file and renames it over `path`; `old` is what is replaced.
fn replace(path: &Path, bytes: &[u8], old: Option<&Metadata>) -> io::Result<()> {
    let mode = old.map_or(0o666, |m| m.mode() & 0o7777);
    let (mut f, mut tmp) = create_temp(path, mode)?;
    if let Some(m) = old {
        // Keep the replaced file's owner (best effort: only root may give files
        // away) and its exact mode (the umask applied to `mode` above).
        let _ = std::os::unix::fs::fchown(&f, Some(m.uid()), Some(m.gid()));
        f.set_permissions(m.permissions())?;
    }
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp.path, path)?;
    tmp.keep = true;
    if let Ok(d) = File::open(parent(path).unwrap_or(Path::new("."))) {
        let _ = d.sync_all();
    }
    Ok(())
}
