//! The Linux I/O of the dirty-rate tool, kept thin: reading `/proc/PID/{maps,
//! pagemap,mem,status,io,stat,fd,fdinfo}`, clearing soft-dirty bits, and the
//! parsers of those text files (pure, tested on synthetic inputs).

use super::DirtyRateError;
use super::maps::{self, Mapping, PAGE};
use super::pagemap::{self, PageFlags};
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

const PERMISSION_HINT: &str = "run as root, or as the process's owner with ptrace allowed (/proc/sys/kernel/yama/ptrace_scope)";

fn proc_path(pid: u32, what: &str) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/{what}"))
}

/// A `/proc` read error: a vanished process is [`DirtyRateError::Gone`], anything
/// else names the file and what to do.
pub fn proc_error(pid: u32, path: &Path, e: io::Error) -> DirtyRateError {
    match e.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ESRCH) => DirtyRateError::Gone { pid },
        _ => DirtyRateError::Proc {
            path: path.to_path_buf(),
            source: e,
            hint: PERMISSION_HINT,
        },
    }
}

fn read_text(pid: u32, what: &str) -> Result<String, DirtyRateError> {
    let path = proc_path(pid, what);
    std::fs::read_to_string(&path).map_err(|e| proc_error(pid, &path, e))
}

/// The process's mappings.
pub fn read_maps(pid: u32) -> Result<Vec<Mapping>, DirtyRateError> {
    let text = read_text(pid, "maps")?;
    maps::parse(&text).map_err(|e| DirtyRateError::Invalid(format!("/proc/{pid}/maps: {e}")))
}

/// `/proc/PID/pagemap` of one process, open, and its memory (read with
/// `process_vm_readv`: one copy, pages pinned in batches; `/proc/PID/mem` copies
/// through a bounce page, page by page).
#[derive(Debug)]
pub struct ProcMemory {
    pid: u32,
    pagemap: File,
    contents: bool,
    raw: Vec<u8>,
}

impl ProcMemory {
    /// Opens the pagemap; `contents`: the memory will be read too (to hash pages),
    /// checked here by opening `/proc/PID/mem`, which needs the same permission.
    pub fn open(pid: u32, contents: bool) -> Result<ProcMemory, DirtyRateError> {
        let open = |what| {
            let p = proc_path(pid, what);
            File::open(&p).map_err(|e| proc_error(pid, &p, e))
        };
        if contents {
            open("mem")?;
        }
        Ok(ProcMemory {
            pid,
            pagemap: open("pagemap")?,
            contents,
            raw: Vec::new(),
        })
    }

    /// The flags of the pages of `m` into `out`.
    pub fn flags(&mut self, m: &Mapping, out: &mut Vec<PageFlags>) -> Result<(), DirtyRateError> {
        let n = m.pages() as usize;
        self.raw.resize(n * 8, 0);
        let offset = m.start / PAGE * 8;
        let mut done = 0;
        while done < self.raw.len() {
            match self
                .pagemap
                .read_at(&mut self.raw[done..], offset + done as u64)
            {
                Ok(0) => break,
                Ok(k) => done += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(proc_error(self.pid, &proc_path(self.pid, "pagemap"), e)),
            }
        }
        pagemap::decode_entries(&self.raw[..done], out);
        Ok(())
    }

    /// Reads `buf.len()` bytes of the process's memory at `addr`; `false` if the
    /// range is no longer mapped (the process changed its mappings meanwhile).
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<bool, DirtyRateError> {
        if !self.contents {
            return Ok(false);
        }
        let mut done = 0;
        while done < buf.len() {
            let local = libc::iovec {
                iov_base: buf[done..].as_mut_ptr().cast(),
                iov_len: buf.len() - done,
            };
            let remote = libc::iovec {
                iov_base: (addr as usize + done) as *mut libc::c_void,
                iov_len: buf.len() - done,
            };
            // SAFETY: `local` covers the unfilled tail of `buf`, which we own
            // mutably; the remote range is only read by the kernel, which checks it.
            let n = unsafe {
                libc::process_vm_readv(self.pid as libc::pid_t, &local, 1, &remote, 1, 0)
            };
            match n {
                0 => return Ok(false),
                n if n > 0 => done += n as usize,
                _ => {
                    let e = io::Error::last_os_error();
                    match e.raw_os_error() {
                        Some(libc::EINTR) => {}
                        Some(libc::EFAULT) | Some(libc::EIO) => return Ok(false),
                        _ => return Err(proc_error(self.pid, &proc_path(self.pid, "mem"), e)),
                    }
                }
            }
        }
        Ok(true)
    }
}

/// Clears the soft-dirty bits of every page of the process (`echo 4 > clear_refs`).
pub fn clear_soft_dirty(pid: u32) -> Result<(), DirtyRateError> {
    let p = proc_path(pid, "clear_refs");
    File::options()
        .write(true)
        .open(&p)
        .and_then(|mut f| f.write_all(b"4"))
        .map_err(|e| proc_error(pid, &p, e))
}

/// Whether this kernel tracks soft-dirty bits: clears them on this process, writes
/// a test page, and checks that it reads clean before and dirty after (three tries:
/// another thread's allocation could land in a mapping merged with the test page's
/// and mark it soft-dirty meanwhile; the test page sits between two inaccessible
/// pages so that it cannot merge).
pub fn soft_dirty_works() -> Result<bool, DirtyRateError> {
    let pid = std::process::id();
    let len = 3 * PAGE as usize;
    // SAFETY: a fresh private anonymous mapping of three pages, unmapped below.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(DirtyRateError::Invalid(format!(
            "cannot map a test page: {}",
            io::Error::last_os_error()
        )));
    }
    // SAFETY: the middle page of the mapping above.
    let page = unsafe { base.cast::<u8>().add(PAGE as usize) };
    // SAFETY: making the middle page of our own mapping writable.
    let rw = unsafe {
        libc::mprotect(
            page.cast(),
            PAGE as usize,
            libc::PROT_READ | libc::PROT_WRITE,
        )
    };
    let m = Mapping {
        start: page as u64,
        end: page as u64 + PAGE,
        read: true,
        write: true,
        shared: false,
        backing: maps::Backing::Anonymous,
    };
    let probe = || -> Result<bool, DirtyRateError> {
        let fence = || std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
        let mut pm = ProcMemory::open(pid, false)?;
        let mut flags = Vec::with_capacity(1);
        // SAFETY: `page` is a writable page of ours (mprotect succeeded).
        unsafe { page.write_volatile(1) };
        fence();
        clear_soft_dirty(pid)?;
        pm.flags(&m, &mut flags)?;
        let clean_after_clear = flags.first().is_some_and(|f| f.present && !f.soft_dirty);
        fence();
        // SAFETY: as above.
        unsafe { page.write_volatile(2) };
        fence();
        pm.flags(&m, &mut flags)?;
        let dirty_after_write = flags.first().is_some_and(|f| f.soft_dirty);
        Ok(clean_after_clear && dirty_after_write)
    };
    let mut result = Ok(false);
    if rw == 0 {
        for _ in 0..3 {
            result = probe();
            if !matches!(result, Ok(false)) {
                break;
            }
        }
    }
    // SAFETY: unmapping the mapping made above; nothing refers to it any more.
    unsafe { libc::munmap(base, len) };
    result
}

/// What `/proc/PID/stat` says about a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// Its name (`comm`).
    pub comm: String,
    /// Its state letter (`R`, `S`, `Z` for a zombie, ...).
    pub state: char,
    /// The parent's pid.
    pub ppid: u32,
    /// Start time in clock ticks since boot: with the pid, identifies the process.
    pub start_ticks: u64,
}

/// Parses `/proc/PID/stat` (the name may hold spaces and parentheses).
pub fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is the state (field 3); ppid is field 4, starttime field 22.
    Some(Stat {
        comm,
        state: rest.first()?.chars().next()?,
        ppid: rest.get(1)?.parse().ok()?,
        start_ticks: rest.get(19)?.parse().ok()?,
    })
}

/// The process's stat, or `Gone`.
pub fn stat(pid: u32) -> Result<Stat, DirtyRateError> {
    let t = read_text(pid, "stat")?;
    parse_stat(&t).ok_or_else(|| DirtyRateError::Invalid(format!("/proc/{pid}/stat: {t:?}")))
}

/// The process and all its descendants (from the ppid of every process in /proc).
pub fn with_descendants(root: u32) -> Vec<u32> {
    let mut parent = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Ok(t) = std::fs::read_to_string(e.path().join("stat"))
                && let Some(s) = parse_stat(&t)
            {
                parent.push((pid, s.ppid));
            }
        }
    }
    descendants(root, &parent)
}

/// `root` and every process whose chain of parents leads to it.
pub fn descendants(root: u32, parent: &[(u32, u32)]) -> Vec<u32> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(
            parent
                .iter()
                .filter(|&&(c, pp)| pp == p && c != root)
                .map(|&(c, _)| c),
        );
        i += 1;
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// `VmRSS` of `/proc/PID/status`, in bytes (0 for a kernel thread or a zombie).
pub fn parse_rss(status: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// The resident set of a process, bytes.
pub fn rss(pid: u32) -> Result<u64, DirtyRateError> {
    Ok(parse_rss(&read_text(pid, "status")?))
}

/// `wchar` of `/proc/PID/io`: bytes passed to write(2) and friends (files, pipes,
/// sockets).
pub fn parse_wchar(io: &str) -> Option<u64> {
    io.lines()
        .find_map(|l| l.strip_prefix("wchar:"))
        .and_then(|v| v.trim().parse().ok())
}

/// The process's `wchar`, if readable.
pub fn wchar(pid: u32) -> Option<u64> {
    parse_wchar(&std::fs::read_to_string(proc_path(pid, "io")).ok()?)
}

/// The `flags:` of `/proc/PID/fdinfo/N` (octal): open for writing?
pub fn parse_fdinfo_writable(fdinfo: &str) -> bool {
    fdinfo
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        .is_some_and(|f| f & libc::O_ACCMODE as u32 != libc::O_RDONLY as u32)
}

/// A regular file a process has open for writing.
#[derive(Debug)]
pub struct WrittenFile {
    /// Where the process's descriptor points (may end in ` (deleted)`).
    pub path: String,
    /// Device and inode: the file's identity.
    pub id: (u64, u64),
    /// Our own read-only descriptor of it (opened through `/proc/PID/fd/N`), unless
    /// the caller already had one (or it could not be opened).
    pub file: Option<File>,
}

/// The regular files `pid` has open for writing; `known` says which (device, inode)
/// the caller already tracks, the others are opened read-only for it.
pub fn written_files(pid: u32, known: impl Fn((u64, u64)) -> bool) -> Vec<WrittenFile> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir(proc_path(pid, "fd")) else {
        return out;
    };
    for e in dir.flatten() {
        let fd = e.file_name();
        let Ok(meta) = std::fs::metadata(e.path()) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let info = std::fs::read_to_string(proc_path(pid, "fdinfo").join(&fd)).unwrap_or_default();
        if !parse_fdinfo_writable(&info) {
            continue;
        }
        let id = (meta.dev(), meta.ino());
        let path = std::fs::read_link(e.path())
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let file = if known(id) {
            None
        } else {
            File::open(e.path()).ok()
        };
        out.push(WrittenFile { path, id, file });
    }
    out
}

/// Now, in clock ticks since boot (the unit of [`Stat::start_ticks`]).
pub fn boot_ticks_now() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given; sysconf has no
    // preconditions.
    let (secs, hz) = unsafe {
        libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts);
        (
            ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9,
            libc::sysconf(libc::_SC_CLK_TCK).max(1) as f64,
        )
    };
    (secs * hz) as u64
}

/// `/proc/loadavg`'s three load averages.
pub fn loadavg() -> Option<[f64; 3]> {
    let t = std::fs::read_to_string("/proc/loadavg").ok()?;
    let v: Vec<f64> = t
        .split_whitespace()
        .take(3)
        .filter_map(|x| x.parse().ok())
        .collect();
    Some([*v.first()?, *v.get(1)?, *v.get(2)?])
}

/// CPU time (user + system) this process has used, seconds.
pub fn own_cpu_s() -> f64 {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let ru = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr());
        ru.assume_init()
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_a_hostile_name() {
        let t = "4242 (a (b) c) S 17 4242 4242 0 -1 4194560 100 0 0 0 5 1 0 0 20 0 3 0 987654 1000 200 ...";
        let s = parse_stat(t).unwrap();
        assert_eq!(s.comm, "a (b) c");
        assert_eq!(s.state, 'S');
        assert_eq!(s.ppid, 17);
        assert_eq!(s.start_ticks, 987654);
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S"), None);
    }

    #[test]
    fn finds_every_descendant_once() {
        // 10 -> 11 -> 13, 10 -> 12, 20 unrelated, 14's parent 13.
        let parents = [(11, 10), (12, 10), (13, 11), (14, 13), (20, 1), (10, 1)];
        assert_eq!(descendants(10, &parents), [10, 11, 12, 13, 14]);
        assert_eq!(descendants(20, &parents), [20]);
    }

    #[test]
    fn parses_status_io_and_fdinfo() {
        assert_eq!(
            parse_rss("Name:\tx\nVmRSS:\t  123456 kB\nRssAnon:\t1 kB\n"),
            123456 * 1024
        );
        assert_eq!(parse_rss("Name:\tkthreadd\n"), 0);
        assert_eq!(parse_wchar("rchar: 5\nwchar: 777\nsyscr: 1\n"), Some(777));
        assert_eq!(parse_wchar("denied"), None);
        assert!(!parse_fdinfo_writable("pos:\t0\nflags:\t0100000\n"));
        assert!(
            parse_fdinfo_writable("pos:\t0\nflags:\t0100001\n"),
            "O_WRONLY"
        );
        assert!(
            parse_fdinfo_writable("flags:\t02100002\n"),
            "O_RDWR|O_CLOEXEC"
        );
        assert!(!parse_fdinfo_writable(""));
    }
}
