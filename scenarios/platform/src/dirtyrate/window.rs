//! The working set of writes: how many distinct pages were written within the last
//! k intervals, for every k. For a pre-copy migration this is the quantity that
//! matters: a pass that lasts t seconds leaves behind the pages written during those
//! t seconds, counted once however often each was rewritten.

use super::pagehash::PageMap;
use std::collections::HashMap;

/// Identifies a page: the owner (a process's memory or a file, numbered by the
/// sampler) and the page number within it.
pub type PageKey = (u32, u64);

/// When each page was last written, by interval number.
#[derive(Debug)]
pub struct WriteHistory {
    last: HashMap<PageKey, u32, foldhash::fast::FixedState>,
    current: u32,
    max_window: usize,
}

impl WriteHistory {
    /// Tracks windows of up to `max_window` intervals (at least 1).
    pub fn new(max_window: usize) -> WriteHistory {
        WriteHistory {
            last: HashMap::default(),
            current: 0,
            max_window: max_window.max(1),
        }
    }

    /// Marks a page as written in the current interval.
    pub fn record(&mut self, key: PageKey) {
        self.last.insert(key, self.current);
    }

    /// Ends the current interval. Returns `d` with `d[k - 1]` = the distinct pages
    /// written within the last `k` intervals (this one included), for `k` from 1 to
    /// the intervals ended so far (at most `max_window`).
    pub fn end_interval(&mut self) -> Vec<u64> {
        let ended = self.current as usize + 1;
        let n = ended.min(self.max_window);
        let mut by_age = vec![0u64; n];
        for &t in self.last.values() {
            let age = (self.current - t) as usize;
            if age < n {
                by_age[age] += 1;
            }
        }
        let mut acc = 0;
        for v in &mut by_age {
            acc += *v;
            *v = acc;
        }
        self.current += 1;
        by_age
    }

    /// Distinct pages written since the start.
    pub fn distinct_total(&self) -> u64 {
        self.last.len() as u64
    }

    /// Distinct pages written since the start, by owner.
    pub fn distinct_by_owner(&self) -> PageMap<u64> {
        let mut m = PageMap::default();
        for &(owner, _) in self.last.keys() {
            *m.entry(u64::from(owner)).or_insert(0) += 1;
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_page_once_per_window() {
        let mut h = WriteHistory::new(3);
        // Interval 0: pages 1, 2 (page 1 twice).
        h.record((0, 1));
        h.record((0, 1));
        h.record((0, 2));
        assert_eq!(h.end_interval(), [2]);
        // Interval 1: pages 2, 3.
        h.record((0, 2));
        h.record((0, 3));
        assert_eq!(h.end_interval(), [2, 3]);
        // Interval 2: page 4 of another owner.
        h.record((1, 4));
        assert_eq!(h.end_interval(), [1, 3, 4]);
        // Interval 3: nothing; windows are capped at 3 intervals.
        assert_eq!(h.end_interval(), [0, 1, 3]);
        assert_eq!(h.distinct_total(), 4);
        let by_owner = h.distinct_by_owner();
        assert_eq!((by_owner[&0], by_owner[&1]), (3, 1));
    }

    #[test]
    fn a_sequential_writer_over_a_ring_saturates_at_the_ring() {
        // 10 pages per interval over a ring of 25 pages.
        let mut h = WriteHistory::new(10);
        let mut pos = 0u64;
        let mut last = Vec::new();
        for _ in 0..10 {
            for _ in 0..10 {
                h.record((0, pos % 25));
                pos += 1;
            }
            last = h.end_interval();
        }
        assert_eq!(&last[..4], [10, 20, 25, 25]);
    }
}
