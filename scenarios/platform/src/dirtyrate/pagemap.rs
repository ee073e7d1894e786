//! `/proc/PID/pagemap`: one 64-bit entry per virtual page (Linux
//! Documentation/admin-guide/mm/pagemap.rst). Pure decoding and counting.
//!
//! Bits used: 63 present, 62 swapped, 61 file page or shared anonymous, 55 soft-dirty
//! (the page was written since the last `echo 4 > /proc/PID/clear_refs`, only on kernels
//! built with `CONFIG_MEM_SOFT_DIRTY`).

/// The decoded flags of one pagemap entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PageFlags {
    /// The page is in RAM.
    pub present: bool,
    /// The page is in swap.
    pub swapped: bool,
    /// A page-cache page (file mapping) or shared anonymous memory; clear for a
    /// private anonymous page, including a copy-on-write copy of a file page.
    pub file_or_shared: bool,
    /// Written since the soft-dirty bits were last cleared.
    pub soft_dirty: bool,
}

const PRESENT: u64 = 1 << 63;
const SWAPPED: u64 = 1 << 62;
const FILE_OR_SHARED: u64 = 1 << 61;
const SOFT_DIRTY: u64 = 1 << 55;

impl PageFlags {
    /// Decodes one entry.
    pub fn decode(entry: u64) -> PageFlags {
        PageFlags {
            present: entry & PRESENT != 0,
            swapped: entry & SWAPPED != 0,
            file_or_shared: entry & FILE_OR_SHARED != 0,
            soft_dirty: entry & SOFT_DIRTY != 0,
        }
    }

    /// The page holds data of the process (in RAM or in swap).
    pub fn populated(&self) -> bool {
        self.present || self.swapped
    }
}

/// Decodes the little-endian entries of a pagemap read into `out` (cleared first);
/// a trailing partial entry is ignored.
pub fn decode_entries(bytes: &[u8], out: &mut Vec<PageFlags>) {
    out.clear();
    out.extend(bytes.chunks_exact(8).map(|c| {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        PageFlags::decode(u64::from_le_bytes(b))
    }));
}

/// Indexes (into `flags`) of the pages written since the last clear: soft-dirty and
/// populated. (A newly created mapping reports every page soft-dirty until the next
/// clear, populated or not; counting populated pages only keeps an untouched new
/// mapping from counting as written.)
pub fn soft_dirty_pages(flags: &[PageFlags]) -> impl Iterator<Item = usize> + '_ {
    flags
        .iter()
        .enumerate()
        .filter(|(_, f)| f.soft_dirty && f.populated())
        .map(|(i, _)| i)
}

/// Runs of consecutive present pages, as `(first index, count)`, each at most
/// `max_run` long: what can be read from `/proc/PID/mem` without faulting in a page
/// that is not there.
pub fn present_runs(flags: &[PageFlags], max_run: usize) -> Vec<(usize, usize)> {
    let max_run = max_run.max(1);
    let mut runs = Vec::new();
    let mut i = 0;
    while i < flags.len() {
        if !flags[i].present {
            i += 1;
            continue;
        }
        let start = i;
        while i < flags.len() && flags[i].present && i - start < max_run {
            i += 1;
        }
        runs.push((start, i - start));
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(present: bool, swapped: bool, file: bool, sd: bool) -> u64 {
        let mut e = 0x1234u64; // a PFN, ignored
        for (on, bit) in [(present, 63), (swapped, 62), (file, 61), (sd, 55)] {
            if on {
                e |= 1 << bit;
            }
        }
        e
    }

    #[test]
    fn decodes_the_documented_bits() {
        let f = PageFlags::decode(entry(true, false, true, true));
        assert_eq!(
            f,
            PageFlags {
                present: true,
                swapped: false,
                file_or_shared: true,
                soft_dirty: true
            }
        );
        assert_eq!(PageFlags::decode(0), PageFlags::default());
        assert!(PageFlags::decode(entry(false, true, false, false)).populated());
        // Bit 56 (exclusively mapped) and the PFN do not leak into other flags.
        assert_eq!(PageFlags::decode((1 << 56) | 0xfffff), PageFlags::default());
    }

    #[test]
    fn decodes_a_little_endian_buffer_and_counts_soft_dirty_pages() {
        let entries = [
            entry(true, false, false, true),  // written
            entry(true, false, false, false), // clean
            entry(false, false, false, true), // new mapping, never touched
            entry(false, true, false, true),  // written, then swapped out
            entry(true, false, true, true),   // a written shared page
        ];
        let mut bytes: Vec<u8> = entries.iter().flat_map(|e| e.to_le_bytes()).collect();
        bytes.extend_from_slice(&[1, 2, 3]); // partial entry
        let mut flags = vec![PageFlags::default(); 9];
        decode_entries(&bytes, &mut flags);
        assert_eq!(flags.len(), 5);
        assert_eq!(soft_dirty_pages(&flags).collect::<Vec<_>>(), [0, 3, 4]);
    }

    #[test]
    fn splits_present_pages_into_bounded_runs() {
        let p = |present| PageFlags {
            present,
            ..Default::default()
        };
        let flags: Vec<PageFlags> = [1, 1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1]
            .iter()
            .map(|&b| p(b == 1))
            .collect();
        assert_eq!(present_runs(&flags, 3), [(0, 3), (4, 1), (7, 3), (10, 2)]);
        assert_eq!(
            present_runs(&flags, 0).len(),
            9,
            "a zero bound reads page by page"
        );
        assert!(present_runs(&[], 4).is_empty());
    }
}
