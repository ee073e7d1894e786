//! A reproducible `newc` cpio archive writer (the Linux initramfs format).
//!
//! Entries are written sorted by path with fixed owner (root), fixed mtime and
//! inode numbers in path order, so the same inputs give the same bytes. This module
//! only builds bytes; it never touches the file system.

use std::collections::BTreeMap;

/// One archive member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A directory with its permission bits.
    Dir(u32),
    /// A regular file: permission bits and contents.
    File(u32, Vec<u8>),
    /// A symbolic link to the target.
    Symlink(String),
    /// A character device node: permission bits, major, minor.
    CharDev(u32, u32, u32),
}

/// An archive being assembled; paths are relative (`bin/sh`, no leading slash).
#[derive(Debug, Default, Clone)]
pub struct Archive {
    entries: BTreeMap<String, Entry>,
}

impl Archive {
    /// An empty archive.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) an entry, and the directories above it (mode 0755).
    pub fn add(&mut self, path: &str, entry: Entry) {
        let path = path.trim_start_matches('/').to_string();
        let mut parent = String::new();
        for part in path
            .split('/')
            .take(path.split('/').count().saturating_sub(1))
        {
            if !parent.is_empty() {
                parent.push('/');
            }
            parent.push_str(part);
            self.entries
                .entry(parent.clone())
                .or_insert(Entry::Dir(0o755));
        }
        self.entries.insert(path, entry);
    }

    /// The archive's bytes, every entry with the given modification time.
    pub fn to_bytes(&self, mtime: u32) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, (path, entry)) in self.entries.iter().enumerate() {
            let (mode, data, rdev): (u32, &[u8], (u32, u32)) = match entry {
                Entry::Dir(p) => (0o040000 | p, &[], (0, 0)),
                Entry::File(p, d) => (0o100000 | p, d, (0, 0)),
                Entry::Symlink(t) => (0o120777, t.as_bytes(), (0, 0)),
                Entry::CharDev(p, ma, mi) => (0o020000 | p, &[], (*ma, *mi)),
            };
            let nlink = if matches!(entry, Entry::Dir(_)) { 2 } else { 1 };
            let ino = u32::try_from(i + 1).unwrap_or(u32::MAX);
            write_header(&mut out, ino, mode, nlink, mtime, data.len(), rdev, path);
            out.extend_from_slice(data);
            pad4(&mut out);
        }
        write_header(&mut out, 0, 0, 1, 0, 0, (0, 0), "TRAILER!!!");
        out
    }
}

#[allow(clippy::too_many_arguments)]
fn write_header(
    out: &mut Vec<u8>,
    ino: u32,
    mode: u32,
    nlink: u32,
    mtime: u32,
    size: usize,
    rdev: (u32, u32),
    name: &str,
) {
    let size = u32::try_from(size).unwrap_or(u32::MAX);
    let namesize = u32::try_from(name.len() + 1).unwrap_or(u32::MAX);
    let fields = [
        ino, mode, 0, 0, nlink, mtime, size, 0, 0, rdev.0, rdev.1, namesize, 0,
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08X}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_is_sorted_padded_and_reproducible() {
        let mut a = Archive::new();
        a.add("/bin/sh", Entry::Symlink("busybox".into()));
        a.add("init", Entry::File(0o755, b"#!/bin/sh\n".to_vec()));
        a.add("dev/console", Entry::CharDev(0o600, 5, 1));
        let b1 = a.to_bytes(1);
        let mut b = Archive::new();
        b.add("dev/console", Entry::CharDev(0o600, 5, 1));
        b.add("init", Entry::File(0o755, b"#!/bin/sh\n".to_vec()));
        b.add("bin/sh", Entry::Symlink("busybox".into()));
        assert_eq!(b1, b.to_bytes(1));
        assert_eq!(b1.len() % 4, 0);
        assert!(b1.starts_with(b"070701"));
        // bin (dir) comes first, with its name right after the 110-byte header.
        assert_eq!(&b1[110..114], b"bin\0");
        assert!(b1.windows(10).any(|w| w == b"TRAILER!!!"));
    }
}
