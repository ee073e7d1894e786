//! Content hashing: which pages changed between two samples, where the kernel does
//! not track writes for us (no `CONFIG_MEM_SOFT_DIRTY`) and for file pages (page
//! cache written with `write(2)`, which no page table of the writer sees).
//!
//! Every page is hashed (64-bit foldhash) at each sample; a page counts as written in
//! an interval when its hash differs from the previous sample's. This is the method of
//! QEMU's `calc-dirty-rate` in its default `page-sampling` mode (hash sampled pages
//! twice, count the changed ones), applied to every page instead of a sample. Its
//! limit is the same: a write that leaves a page's content as it was (same bytes
//! written again) is not seen, whereas a hypervisor's dirty log would send the page
//! again.

use std::collections::HashMap;
use std::hash::BuildHasher;

/// Hash map with a fast fixed hasher, for page numbers.
pub type PageMap<V> = HashMap<u64, V, foldhash::fast::FixedState>;

/// The hash of one page's content.
pub fn hash_page(page: &[u8]) -> u64 {
    foldhash::quality::FixedState::with_seed(0x7172_6f62_6573_7175).hash_one(page)
}

/// What a page that was not there at the previous sample counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewPage {
    /// Written: e.g. a file page past the file's previous end, or an anonymous page
    /// with non-zero content (its first write made it appear).
    Written,
    /// Not written: e.g. a file page faulted in by a read, an anonymous page still
    /// all zeros (the shared zero page, or memory not written yet).
    NotWritten,
}

/// The content state of one owner's pages (a process's memory, a file) at the last
/// sample, and the comparison with the current one.
#[derive(Debug, Default)]
pub struct Snapshot {
    prev: PageMap<u64>,
    next: PageMap<u64>,
    sampled: bool,
}

impl Snapshot {
    /// An owner not sampled yet: its first sample is the baseline (nothing counts).
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    /// An owner that appeared after the measurement started (a process started, a
    /// file created meanwhile): there is no baseline, every page it has is new.
    pub fn fresh() -> Snapshot {
        Snapshot {
            sampled: true,
            ..Snapshot::default()
        }
    }

    /// Records page `page`'s hash in the current sample; `true` if the page was
    /// written since the previous sample.
    pub fn observe(&mut self, page: u64, hash: u64, if_new: NewPage) -> bool {
        self.next.insert(page, hash);
        if !self.sampled {
            return false;
        }
        match self.prev.get(&page) {
            Some(&h) => h != hash,
            None => if_new == NewPage::Written,
        }
    }

    /// Keeps a page's previous state when it could not be read in this sample (it
    /// was being unmapped, say), so that it is not taken for new next time.
    pub fn keep(&mut self, page: u64) {
        if let Some(&h) = self.prev.get(&page) {
            self.next.insert(page, h);
        }
    }

    /// Ends the current sample: it becomes the previous one. Pages not observed in it
    /// are forgotten (unmapped, freed, or past a truncated file's end).
    pub fn finish(&mut self) {
        std::mem::swap(&mut self.prev, &mut self.next);
        self.next.clear();
        self.sampled = true;
    }

    /// Pages known at the last finished sample.
    pub fn len(&self) -> usize {
        self.prev.len()
    }

    /// No page known.
    pub fn is_empty(&self) -> bool {
        self.prev.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_changes_with_any_byte_and_only_then() {
        let a = vec![7u8; 4096];
        let mut b = a.clone();
        assert_eq!(hash_page(&a), hash_page(&b));
        for pos in [0, 1, 2047, 4095] {
            b[pos] ^= 1;
            assert_ne!(hash_page(&a), hash_page(&b), "flip at {pos}");
            b[pos] ^= 1;
        }
        // Swapping two words changes the hash too (order matters).
        b[..8].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let mut c = b.clone();
        c[..8].copy_from_slice(&[7u8; 8]);
        c[8..16].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        b[8..16].copy_from_slice(&[7u8; 8]);
        assert_ne!(hash_page(&b), hash_page(&c));
    }

    #[test]
    fn counts_changed_and_new_pages_after_the_baseline() {
        let mut s = Snapshot::new();
        // Baseline: nothing counts.
        assert!(!s.observe(1, 10, NewPage::Written));
        assert!(!s.observe(2, 20, NewPage::Written));
        assert!(!s.observe(3, 30, NewPage::Written));
        s.finish();
        assert_eq!(s.len(), 3);
        // Page 1 unchanged, 2 changed, 3 unreadable (kept), 4 new and written,
        // 5 new but not written.
        assert!(!s.observe(1, 10, NewPage::Written));
        assert!(s.observe(2, 21, NewPage::NotWritten));
        s.keep(3);
        assert!(s.observe(4, 40, NewPage::Written));
        assert!(!s.observe(5, 50, NewPage::NotWritten));
        s.finish();
        assert_eq!(s.len(), 5);
        // Page 3 is still known with its old hash; 1 disappeared and comes back as new.
        assert!(!s.observe(3, 30, NewPage::Written));
        s.finish();
        assert!(s.observe(1, 10, NewPage::Written));
        assert!(!s.is_empty());
        // A fresh owner has no baseline: its first sample counts by `NewPage`.
        let mut f = Snapshot::fresh();
        assert!(f.observe(7, 70, NewPage::Written));
        assert!(!f.observe(8, 80, NewPage::NotWritten));
    }
}
