//! The page cache a process dirties through the files it writes with `write(2)`:
//! those writes never touch the writer's page tables, so neither soft-dirty bits nor
//! its memory show them. Every regular file the process (or a descendant) has open
//! for writing is opened read-only by the tool and hashed page by page at each
//! sample; a page whose content changed, or that appeared past the previous end of
//! the file, was dirtied. Files larger than the hashing limit are followed by their
//! growth only.

use super::maps::PAGE;
use super::pagehash::{NewPage, Snapshot, hash_page};
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};

/// Bytes read from a file at a time.
const CHUNK: usize = 1 << 20;

/// A file followed since the sample it was first seen open for writing.
#[derive(Debug)]
pub struct TrackedFile {
    /// Owner number in the write history.
    pub owner: u32,
    /// Its path as the writer's descriptor showed it.
    pub path: String,
    file: File,
    snapshot: Snapshot,
    size: Option<u64>,
    /// Pages dirtied, summed over the intervals.
    pub pages_written: u64,
    /// Largest size seen, bytes.
    pub max_size: u64,
    /// Whether some sample followed only its growth (too large to hash).
    pub growth_only: bool,
}

impl TrackedFile {
    /// Starts following `file`. Its first sample is the baseline, unless the file
    /// is `fresh` (created after the measurement started): then every page it has
    /// was written during the interval that saw it appear.
    pub fn new(owner: u32, path: String, file: File, fresh: bool) -> TrackedFile {
        TrackedFile {
            owner,
            path,
            file,
            snapshot: if fresh {
                Snapshot::fresh()
            } else {
                Snapshot::new()
            },
            size: fresh.then_some(0),
            pages_written: 0,
            max_size: 0,
            growth_only: false,
        }
    }

    /// Samples the file: calls `written(page)` for each page dirtied since the
    /// previous sample and returns how many. Files over `hash_limit` bytes are
    /// followed by their growth only.
    pub fn sample(
        &mut self,
        hash_limit: u64,
        buf: &mut Vec<u8>,
        mut written: impl FnMut(u64),
    ) -> io::Result<u64> {
        let size = self.file.metadata()?.len();
        self.max_size = self.max_size.max(size);
        let baseline = self.size.is_none();
        let old = self.size.replace(size).unwrap_or(size);
        let mut n = 0;
        if size > hash_limit {
            self.growth_only = true;
            self.snapshot = Snapshot::new();
            if !baseline && size > old {
                for page in old / PAGE..size.div_ceil(PAGE) {
                    written(page);
                    n += 1;
                }
            }
        } else {
            let mut off = 0u64;
            while off < size {
                let len = CHUNK.min((size - off) as usize);
                buf.resize(len, 0);
                let got = read_full(&self.file, &mut buf[..len], off)?;
                for (i, page) in buf[..got].chunks(PAGE as usize).enumerate() {
                    let p = off / PAGE + i as u64;
                    if self.snapshot.observe(p, hash_page(page), NewPage::Written) {
                        written(p);
                        n += 1;
                    }
                }
                if got < len {
                    break; // truncated meanwhile
                }
                off += len as u64;
            }
            self.snapshot.finish();
        }
        self.pages_written += n;
        Ok(n)
    }

    /// The file has no name left (deleted): once no process holds it open, only the
    /// tool's descriptor keeps it alive and it should be dropped.
    pub fn unlinked(&self) -> bool {
        self.file.metadata().map_or(true, |m| m.nlink() == 0)
    }
}

fn read_full(f: &File, buf: &mut [u8], off: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match f.read_at(&mut buf[done..], off + done as u64) {
            Ok(0) => break,
            Ok(k) => done += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracked(len: usize) -> (TrackedFile, File, std::path::PathBuf) {
        let path =
            std::env::temp_dir().join(format!("qp-dirtyrate-files-{}-{len}", std::process::id()));
        let w = File::create(&path).unwrap();
        w.write_all_at(&vec![1u8; len], 0).unwrap();
        let r = File::open(&path).unwrap();
        (
            TrackedFile::new(3, path.display().to_string(), r, false),
            w,
            path,
        )
    }

    fn sample(t: &mut TrackedFile, limit: u64) -> Vec<u64> {
        let mut pages = Vec::new();
        let n = t.sample(limit, &mut Vec::new(), |p| pages.push(p)).unwrap();
        assert_eq!(n as usize, pages.len());
        pages
    }

    #[test]
    fn counts_rewritten_and_appended_pages() {
        let (mut t, w, path) = tracked(10 * PAGE as usize);
        assert!(sample(&mut t, u64::MAX).is_empty(), "baseline");
        // Rewrite one byte of page 2, the same bytes over page 5, append 1.5 pages.
        w.write_all_at(&[9], 2 * PAGE + 100).unwrap();
        w.write_all_at(&[1u8; 4096], 5 * PAGE).unwrap();
        w.write_all_at(&vec![2u8; 6144], 10 * PAGE).unwrap();
        assert_eq!(sample(&mut t, u64::MAX), [2, 10, 11]);
        // The partial last page grows: changed.
        w.write_all_at(&[3u8; 10], 11 * PAGE + 2048).unwrap();
        assert_eq!(sample(&mut t, u64::MAX), [11]);
        assert!(sample(&mut t, u64::MAX).is_empty());
        assert_eq!(t.pages_written, 4);
        assert!(!t.growth_only && !t.unlinked());
        std::fs::remove_file(&path).unwrap();
        assert!(t.unlinked());
    }

    #[test]
    fn follows_the_growth_of_a_file_too_large_to_hash() {
        let (mut t, w, path) = tracked(2 * PAGE as usize);
        assert!(sample(&mut t, PAGE).is_empty());
        w.write_all_at(&[5u8; 100], 0).unwrap(); // in place: not seen
        w.write_all_at(&vec![5u8; 2 * PAGE as usize], 2 * PAGE)
            .unwrap();
        assert_eq!(sample(&mut t, PAGE), [2, 3]);
        assert!(t.growth_only);
        assert_eq!(t.max_size, 4 * PAGE);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_file_created_during_the_measurement_counts_whole() {
        let (_, _w, path) = tracked(3 * PAGE as usize);
        let mut t = TrackedFile::new(1, String::new(), File::open(&path).unwrap(), true);
        assert_eq!(sample(&mut t, u64::MAX), [0, 1, 2]);
        let mut g = TrackedFile::new(2, String::new(), File::open(&path).unwrap(), true);
        assert_eq!(sample(&mut g, PAGE), [0, 1, 2], "growth from 0");
        std::fs::remove_file(&path).unwrap();
    }
}
