//! `/proc/PID/maps`: which address ranges a process has mapped, and which of them it
//! can write (only those can be dirtied by the process itself).
//!
//! Pure parsing; the file is read by [`super::procfs`].

/// The size of a page on the machines the tool supports (x86-64, arm64 with 4K pages).
pub const PAGE: u64 = 4096;

/// What backs a mapping, from the path column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backing {
    /// Anonymous memory: no path, `[heap]`, `[stack]`, `[anon:NAME]`.
    Anonymous,
    /// A file (its path; may end in ` (deleted)`), including `/dev/shm` and
    /// `/memfd:` objects.
    File(String),
    /// A kernel-provided area: `[vdso]`, `[vvar]`, `[vsyscall]`, `[uprobes]`...
    Special(String),
}

/// One line of `/proc/PID/maps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// `r` permission.
    pub read: bool,
    /// `w` permission.
    pub write: bool,
    /// `s` (shared) rather than `p` (private, copy-on-write).
    pub shared: bool,
    /// What backs it.
    pub backing: Backing,
}

impl Mapping {
    /// Number of pages.
    pub fn pages(&self) -> u64 {
        (self.end - self.start) / PAGE
    }

    /// Whether the process can dirty this mapping's pages by writing to them: it is
    /// readable and writable (a page we cannot read cannot be hashed either) and not
    /// a kernel-provided area.
    pub fn writable(&self) -> bool {
        self.read && self.write && !matches!(self.backing, Backing::Special(_))
    }
}

/// Parses the whole file; a line that is not a mapping is an error naming it.
pub fn parse(text: &str) -> Result<Vec<Mapping>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| parse_line(l).map_err(|e| format!("line {}: {e}: {l:?}", i + 1)))
        .collect()
}

/// Parses one line: `start-end perms offset dev inode [path]`.
pub fn parse_line(line: &str) -> Result<Mapping, String> {
    let mut fields = line.splitn(6, ' ');
    let range = fields.next().ok_or("empty line")?;
    let perms = fields.next().ok_or("no permissions")?;
    // offset, device, inode: not needed here, but they must be there.
    for what in ["offset", "device", "inode"] {
        fields.next().ok_or(format!("no {what}"))?;
    }
    let path = fields.next().unwrap_or("").trim_start();
    let (start, end) = range.split_once('-').ok_or("no address range")?;
    let hex = |s: &str| u64::from_str_radix(s, 16).map_err(|_| format!("bad address {s:?}"));
    let (start, end) = (hex(start)?, hex(end)?);
    if end < start || !start.is_multiple_of(PAGE) || !end.is_multiple_of(PAGE) {
        return Err(format!("bad range {start:#x}-{end:#x}"));
    }
    let p = perms.as_bytes();
    if p.len() != 4 {
        return Err(format!("bad permissions {perms:?}"));
    }
    Ok(Mapping {
        start,
        end,
        read: p[0] == b'r',
        write: p[1] == b'w',
        shared: p[3] == b's',
        backing: backing(path),
    })
}

fn backing(path: &str) -> Backing {
    match path {
        "" | "[heap]" => Backing::Anonymous,
        p if p.starts_with("[stack") || p.starts_with("[anon:") => Backing::Anonymous,
        p if p.starts_with('[') && p.ends_with(']') => Backing::Special(p.to_string()),
        p => Backing::File(p.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
5561e6cbc000-5561e6cbe000 r--p 00000000 fe:00 247282                     /usr/bin/head
5561e6cc8000-5561e6cc9000 rw-p 0000b000 fe:00 247282                     /usr/bin/head
556213e55000-556213e76000 rw-p 00000000 00:00 0                          [heap]
7f3334975000-7f3334982000 rw-p 00000000 00:00 0 
7f3334980000-7f3334990000 rw-s 00000000 00:01 1234                       /dev/shm/feed (deleted)
7f3334992000-7f3334996000 r--p 00000000 00:00 0                          [vvar]
7f3334998000-7f333499a000 r-xp 00000000 00:00 0                          [vdso]
7ffc1a2b0000-7ffc1a2d1000 rw-p 00000000 00:00 0                          [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
";

    #[test]
    fn parses_a_real_maps_file() {
        let m = parse(SAMPLE).unwrap();
        assert_eq!(m.len(), 9);
        assert_eq!(m[0].start, 0x5561e6cbc000);
        assert_eq!(m[0].pages(), 2);
        assert!(!m[0].writable());
        assert!(
            m[1].writable(),
            "the .data of a binary is private and writable"
        );
        assert_eq!(m[1].backing, Backing::File("/usr/bin/head".into()));
        assert_eq!(m[2].backing, Backing::Anonymous);
        assert_eq!(m[3].backing, Backing::Anonymous, "trailing space, no path");
        assert!(m[4].shared && m[4].writable());
        assert_eq!(
            m[4].backing,
            Backing::File("/dev/shm/feed (deleted)".into())
        );
        assert_eq!(m[5].backing, Backing::Special("[vvar]".into()));
        assert!(!m[6].writable());
        assert_eq!(m[7].backing, Backing::Anonymous);
        assert!(!m[8].writable());
        let writable: u64 = m.iter().filter(|m| m.writable()).map(Mapping::pages).sum();
        assert_eq!(writable, 1 + 0x21 + 0xd + 0x10 + 0x21);
    }

    #[test]
    fn paths_with_spaces_are_kept() {
        let m = parse_line("1000-3000 rw-s 00000000 00:01 7   /tmp/a file with spaces").unwrap();
        assert_eq!(m.backing, Backing::File("/tmp/a file with spaces".into()));
    }

    #[test]
    fn rejects_what_is_not_a_mapping() {
        for bad in [
            "garbage",
            "1000-0000 rw-p 0 00:00 0",
            "1000-2001 rw-p 0 00:00 0",
            "zz-2000 rw-p 0 00:00 0",
            "1000-2000 rw 0 00:00 0",
            "1000-2000 rw-p 0",
        ] {
            assert!(parse_line(bad).is_err(), "{bad}");
        }
        let e = parse("1000-2000 rw-p 0 00:00 0\nnope\n").unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
    }
}
