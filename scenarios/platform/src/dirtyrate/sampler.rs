//! [`Sampler`]: one sample per interval of a process and its descendants — the pages
//! of memory they wrote (soft-dirty bits, or page hashes), the page cache of the
//! files they write, their resident memory and write(2) volume — fed into the
//! working set of writes ([`super::window`]).

use super::DirtyRateError;
use super::files::TrackedFile;
use super::maps::{Mapping, PAGE};
use super::pagehash::{NewPage, Snapshot, hash_page};
use super::pagemap::{self, PageFlags};
use super::procfs::{self, ProcMemory};
use super::report::{FileSummary, Interval, Method, ProcessSummary, WINDOWS};
use super::window::WriteHistory;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Instant, SystemTime};

/// Pages read from a process's memory at a time (1 MiB).
const RUN_PAGES: usize = 256;
/// Pagemap entries read at a time (1 GiB of address space).
const FLAGS_PAGES: u64 = 1 << 18;
const MIB: f64 = (1u64 << 20) as f64;

/// How to sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplerOptions {
    /// How written pages are found.
    pub method: Method,
    /// Sample the descendants of the process too.
    pub children: bool,
    /// Files larger than this (bytes) are followed by their growth only.
    pub file_hash_limit: u64,
}

/// A process being sampled.
#[derive(Debug)]
struct Proc {
    owner: u32,
    comm: String,
    start_ticks: u64,
    mem: ProcMemory,
    snapshot: Snapshot,
    baseline_done: bool,
    seen_s: (f64, f64),
    pages_written: u64,
    max_rss: u64,
    wchar: Option<u64>,
}

/// Scratch buffers reused across samples.
#[derive(Debug, Default)]
struct Scratch {
    flags: Vec<PageFlags>,
    buf: Vec<u8>,
}

/// Samples a process tree interval after interval.
#[derive(Debug)]
pub struct Sampler {
    root: u32,
    opts: SamplerOptions,
    procs: BTreeMap<u32, Proc>,
    gone: Vec<(u32, ProcessSummary)>,
    files: HashMap<(u64, u64), TrackedFile>,
    dropped_files: Vec<TrackedFile>,
    history: WriteHistory,
    next_owner: u32,
    scratch: Scratch,
    zero_hash: u64,
    start: Instant,
    last: Instant,
    /// The baseline sample is done: what appears later was created meanwhile.
    started: bool,
    start_ticks: u64,
    start_wall: SystemTime,
}

impl Sampler {
    /// Takes the baseline sample of `root` (and its descendants).
    pub fn start(root: u32, opts: SamplerOptions) -> Result<Sampler, DirtyRateError> {
        match procfs::stat(root) {
            Err(DirtyRateError::Gone { pid }) => return Err(DirtyRateError::NoProcess { pid }),
            Err(e) => return Err(e),
            Ok(s) if s.state == 'Z' => return Err(DirtyRateError::NoProcess { pid: root }),
            Ok(_) => {}
        }
        let now = Instant::now();
        let mut s = Sampler {
            root,
            opts,
            procs: BTreeMap::new(),
            gone: Vec::new(),
            files: HashMap::new(),
            dropped_files: Vec::new(),
            history: WriteHistory::new(WINDOWS[WINDOWS.len() - 1]),
            next_owner: 0,
            scratch: Scratch::default(),
            zero_hash: hash_page(&[0u8; PAGE as usize]),
            start: now,
            last: now,
            started: false,
            start_ticks: procfs::boot_ticks_now(),
            start_wall: SystemTime::now(),
        };
        s.sample_processes(0.0)?;
        s.sample_files();
        s.started = true;
        if !s.procs.contains_key(&root) {
            return Err(DirtyRateError::NoProcess { pid: root });
        }
        Ok(s)
    }

    /// Whether the measured process is still there (not exited, not a zombie).
    pub fn root_alive(&self) -> bool {
        self.procs.contains_key(&self.root)
    }

    /// Ends the current interval: samples everything and returns what it saw.
    pub fn sample(&mut self) -> Result<Interval, DirtyRateError> {
        let cpu0 = procfs::own_cpu_s();
        let now = Instant::now();
        let t_s = now.duration_since(self.start).as_secs_f64();
        let (memory_pages, rss_bytes, write_syscall_bytes) = self.sample_processes(t_s)?;
        let file_pages = self.sample_files();
        let full = self.history.end_interval();
        let distinct_pages = WINDOWS
            .iter()
            .take_while(|&&k| k <= full.len())
            .map(|&k| full[k - 1])
            .collect();
        let dt_s = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        Ok(Interval {
            t_s,
            dt_s,
            processes: self.procs.len(),
            memory_pages,
            file_pages,
            distinct_pages,
            rss_bytes,
            write_syscall_bytes,
            sampler_cpu_s: procfs::own_cpu_s() - cpu0,
        })
    }

    /// Distinct pages written over the run, what each process and file did.
    pub fn finish(mut self) -> (u64, Vec<ProcessSummary>, Vec<FileSummary>) {
        let by_owner = self.history.distinct_by_owner();
        let mib = |owner: u32| {
            by_owner.get(&u64::from(owner)).copied().unwrap_or(0) as f64 * PAGE as f64 / MIB
        };
        let pids: Vec<u32> = self.procs.keys().copied().collect();
        for pid in pids {
            self.retire(pid);
        }
        let procs = std::mem::take(&mut self.gone)
            .into_iter()
            .map(|(owner, p)| ProcessSummary {
                distinct_mib: mib(owner),
                ..p
            })
            .collect();
        let duration = self.last.duration_since(self.start).as_secs_f64().max(1e-9);
        let files = self
            .dropped_files
            .drain(..)
            .chain(self.files.drain().map(|(_, f)| f))
            .map(|f| FileSummary {
                distinct_mib: mib(f.owner),
                path: f.path,
                max_size_mib: f.max_size as f64 / MIB,
                dirtied_mib_s: f.pages_written as f64 * PAGE as f64 / MIB / duration,
                growth_only: f.growth_only,
            })
            .collect();
        (self.history.distinct_total(), procs, files)
    }

    fn new_owner(&mut self) -> u32 {
        self.next_owner += 1;
        self.next_owner
    }

    /// Moves a process to the finished ones (its distinct MiB are filled in by
    /// [`Sampler::finish`]).
    fn retire(&mut self, pid: u32) {
        if let Some(p) = self.procs.remove(&pid) {
            let secs = (p.seen_s.1 - p.seen_s.0).max(1e-9);
            let summary = ProcessSummary {
                pid,
                comm: p.comm,
                seen_s: p.seen_s,
                memory_mib_s: p.pages_written as f64 * PAGE as f64 / MIB / secs,
                distinct_mib: 0.0,
                max_rss_mib: p.max_rss as f64 / MIB,
            };
            self.gone.push((p.owner, summary));
        }
    }

    /// Samples the memory of every process of the tree; returns pages written, the
    /// resident memory and the write(2) bytes since the previous sample.
    fn sample_processes(&mut self, t_s: f64) -> Result<(u64, u64, u64), DirtyRateError> {
        let pids: BTreeSet<u32> = if self.opts.children {
            procfs::with_descendants(self.root).into_iter().collect()
        } else {
            [self.root].into()
        };
        let vanished: Vec<u32> = self
            .procs
            .keys()
            .filter(|p| !pids.contains(p))
            .copied()
            .collect();
        for pid in vanished {
            self.retire(pid);
        }
        let (mut pages, mut rss, mut wrote) = (0, 0, 0);
        for pid in pids {
            match self.sample_process(pid, t_s) {
                Ok((p, r, w)) => {
                    pages += p;
                    rss += r;
                    wrote += w;
                }
                Err(DirtyRateError::Gone { .. }) => self.retire(pid),
                Err(e) => return Err(e),
            }
        }
        Ok((pages, rss, wrote))
    }

    fn sample_process(&mut self, pid: u32, t_s: f64) -> Result<(u64, u64, u64), DirtyRateError> {
        let stat = procfs::stat(pid)?;
        if stat.state == 'Z' {
            return Err(DirtyRateError::Gone { pid });
        }
        if self
            .procs
            .get(&pid)
            .is_some_and(|p| p.start_ticks != stat.start_ticks)
        {
            self.retire(pid); // the pid was reused
        }
        if !self.procs.contains_key(&pid) {
            // Started after the baseline: everything it wrote is new (anonymous
            // pages with content; soft-dirty pages of its fresh mappings).
            let fresh = self.started && stat.start_ticks >= self.start_ticks;
            let owner = self.new_owner();
            let mem = ProcMemory::open(pid, self.opts.method == Method::Hash)?;
            self.procs.insert(
                pid,
                Proc {
                    owner,
                    comm: stat.comm.clone(),
                    start_ticks: stat.start_ticks,
                    mem,
                    snapshot: if fresh {
                        Snapshot::fresh()
                    } else {
                        Snapshot::new()
                    },
                    baseline_done: fresh,
                    seen_s: (t_s, t_s),
                    pages_written: 0,
                    max_rss: 0,
                    wchar: None,
                },
            );
        }
        let maps = procfs::read_maps(pid)?;
        let Sampler {
            procs,
            history,
            scratch,
            opts,
            zero_hash,
            ..
        } = self;
        let p = procs.get_mut(&pid).ok_or(DirtyRateError::Gone { pid })?;
        let owner = p.owner;
        let mut written = 0;
        for m in maps.iter().filter(|m| m.writable()) {
            written += sample_mapping(p, m, opts.method, *zero_hash, scratch, |page| {
                history.record((owner, page))
            })?;
        }
        match opts.method {
            Method::Hash => p.snapshot.finish(),
            Method::SoftDirty => procfs::clear_soft_dirty(pid)?,
        }
        p.baseline_done = true;
        p.pages_written += written;
        p.seen_s.1 = t_s;
        let rss = procfs::rss(pid)?;
        p.max_rss = p.max_rss.max(rss);
        let wchar = procfs::wchar(pid);
        let wrote = match (p.wchar, wchar) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => 0,
        };
        p.wchar = wchar;
        Ok((written, rss, wrote))
    }

    /// Finds the files the processes write, samples every file followed; returns
    /// the pages dirtied.
    fn sample_files(&mut self) -> u64 {
        let mut open_now = BTreeSet::new();
        let pids: Vec<u32> = self.procs.keys().copied().collect();
        for pid in pids {
            for w in procfs::written_files(pid, |id| self.files.contains_key(&id)) {
                open_now.insert(w.id);
                if let Some(file) = w.file {
                    let owner = self.new_owner();
                    let fresh = self.started
                        && file
                            .metadata()
                            .and_then(|m| m.created())
                            .is_ok_and(|born| born >= self.start_wall);
                    self.files
                        .insert(w.id, TrackedFile::new(owner, w.path, file, fresh));
                }
            }
        }
        let limit = self.opts.file_hash_limit;
        let mut pages = 0;
        let mut drop = Vec::new();
        for (id, f) in &mut self.files {
            let owner = f.owner;
            let history = &mut self.history;
            match f.sample(limit, &mut self.scratch.buf, |page| {
                history.record((owner, page))
            }) {
                Ok(n) => pages += n,
                Err(_) => drop.push(*id),
            }
            if !open_now.contains(id) && f.unlinked() {
                drop.push(*id);
            }
        }
        for id in drop {
            if let Some(f) = self.files.remove(&id) {
                self.dropped_files.push(f);
            }
        }
        pages
    }
}

/// Samples one writable mapping of a process; calls `written(page)` for each page
/// written since the previous sample and returns how many.
fn sample_mapping(
    p: &mut Proc,
    m: &Mapping,
    method: Method,
    zero_hash: u64,
    scratch: &mut Scratch,
    mut written: impl FnMut(u64),
) -> Result<u64, DirtyRateError> {
    let mut n = 0;
    let mut start = m.start;
    while start < m.end {
        let end = m.end.min(start + FLAGS_PAGES * PAGE);
        let part = Mapping {
            start,
            end,
            ..m.clone()
        };
        p.mem.flags(&part, &mut scratch.flags)?;
        let first = start / PAGE;
        match method {
            Method::SoftDirty => {
                if p.baseline_done {
                    for i in pagemap::soft_dirty_pages(&scratch.flags) {
                        written(first + i as u64);
                        n += 1;
                    }
                }
            }
            Method::Hash => {
                for (run, len) in pagemap::present_runs(&scratch.flags, RUN_PAGES) {
                    let bytes = len * PAGE as usize;
                    scratch.buf.resize(bytes, 0);
                    let addr = start + run as u64 * PAGE;
                    if !p.mem.read(addr, &mut scratch.buf[..bytes])? {
                        (0..len).for_each(|j| p.snapshot.keep(first + (run + j) as u64));
                        continue;
                    }
                    for (j, content) in scratch.buf[..bytes].chunks_exact(PAGE as usize).enumerate()
                    {
                        let page = first + (run + j) as u64;
                        let h = hash_page(content);
                        let anon = !scratch.flags[run + j].file_or_shared;
                        let if_new = if anon && h != zero_hash {
                            NewPage::Written
                        } else {
                            NewPage::NotWritten
                        };
                        if p.snapshot.observe(page, h, if_new) {
                            written(page);
                            n += 1;
                        }
                    }
                }
            }
        }
        start = end;
    }
    Ok(n)
}
