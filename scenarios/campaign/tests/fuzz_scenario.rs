//! Property harness over the campaign (scenario) file parser: the shipped campaign
//! files mutated byte by byte, value by value and line by line. Properties: parsing
//! never panics and ends within a bound, every error names the file with a line and
//! column, and what parses can be planned and written out as `campaign.json` is.
//!
//! Cases per property: `PROPTEST_CASES` (default 256; `make fuzz` sets many more).

use proptest::prelude::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// The most one parse may take, debug build included.
const BOUND: Duration = Duration::from_secs(5);

/// The shipped campaign files (scenarios/*.toml and one folder below), read when
/// the harness starts so that a campaign file added or removed is covered as is.
static SEEDS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    for dir in [root.clone()].into_iter().chain(
        std::fs::read_dir(&root)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path()),
    ) {
        if dir != root && dir.is_dir() {
            dirs.push(dir);
        }
    }
    for dir in dirs {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "toml") {
                files.push(p);
            }
        }
    }
    files.sort();
    let seeds: Vec<String> = files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    assert!(
        seeds.len() >= 3,
        "campaign files not found under {}",
        root.display()
    );
    seeds
});

/// Values a hostile file may put after `=`.
const VALUES: &[&str] = &[
    "-1",
    "0",
    "1e400",
    "-1e400",
    "nan",
    "inf",
    "18446744073709551616",
    "4294967296",
    "\"\"",
    "\"../../../etc/passwd\"",
    "\"\\u0000\"",
    "\"*\"",
    "[]",
    "{}",
    "[[1, 2], \"x\"]",
    "true",
    "1979-05-27T07:32:00Z",
    "\"é\u{202e}txt\"",
];

/// One edit of a campaign file.
#[derive(Debug, Clone)]
enum Edit {
    /// Replace the byte at a position.
    Byte(usize, u8),
    /// Replace the value of the n-th `key = value` line.
    Value(usize, usize),
    /// Delete a line.
    DeleteLine(usize),
    /// Repeat a line.
    DuplicateLine(usize),
    /// Cut the file short.
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (
            any::<usize>(),
            prop_oneof![
                any::<u8>(),
                proptest::sample::select(b"\"[]=.\n#{}0123456789-+,".to_vec())
            ]
        )
            .prop_map(|(at, b)| Edit::Byte(at, b)),
        (any::<usize>(), 0..VALUES.len()).prop_map(|(n, v)| Edit::Value(n, v)),
        any::<usize>().prop_map(Edit::DeleteLine),
        any::<usize>().prop_map(Edit::DuplicateLine),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(src: &str, e: &Edit) -> String {
    let mut lines: Vec<String> = src.lines().map(String::from).collect();
    let n = lines.len().max(1);
    match *e {
        Edit::Byte(at, b) => {
            let mut bytes = src.as_bytes().to_vec();
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = b;
            }
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        Edit::Value(k, v) => {
            let with_value: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].contains(" = ") && !lines[i].trim_start().starts_with('#'))
                .collect();
            if let Some(&i) = with_value.get(k % with_value.len().max(1)) {
                let key = lines[i].split(" = ").next().unwrap_or("").to_string();
                lines[i] = format!("{key} = {}", VALUES[v]);
            }
        }
        Edit::DeleteLine(i) => {
            if !lines.is_empty() {
                lines.remove(i % n);
            }
        }
        Edit::DuplicateLine(i) => {
            if !lines.is_empty() {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
        }
        Edit::Truncate(at) => {
            let cut = at % (src.len() + 1);
            let cut = (0..=cut)
                .rev()
                .find(|&c| src.is_char_boundary(c))
                .unwrap_or(0);
            return src[..cut].to_string();
        }
    }
    lines.join("\n")
}

proptest! {
    #[test]
    fn mutated_campaign_files_parse_or_fail_with_a_position(
        seed in 0..SEEDS.len(),
        edits in proptest::collection::vec(edit(), 1..5),
    ) {
        let src = edits.iter().fold(SEEDS[seed].to_string(), |s, e| apply(&s, e));
        let path = Path::new("fuzz.toml");
        let t0 = Instant::now();
        let parsed = campaign::scenario::parse(path, &src);
        prop_assert!(t0.elapsed() < BOUND, "parse took {:?}", t0.elapsed());
        match parsed {
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.starts_with("fuzz.toml:"), "no position: {msg}");
            }
            Ok(c) => {
                // The plan is bounded whatever the file asks for.
                if let Ok(plan) = c.plan(None, None) {
                    prop_assert!(plan.len() as u64 <= campaign::scenario::MAX_RUNS);
                }
                let _ = c.plan(Some(1), Some("*/*"));
                let _ = c.plan(Some(1), Some("nothing/here"));
                prop_assert!(serde_json::to_value(&c).is_ok());
            }
        }
    }
}
