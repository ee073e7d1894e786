//! Running dash.js (the npm package pinned in tests/dashjs/package.json, installed
//! into build/tools/dashjs by scripts/install-test-tools.sh) in Debian's headless
//! Chromium on tests/dashjs/index.html, and reading back what it reports: the page
//! logs one `QOE {json}` console line per event, which Chromium prints on stderr.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The installed dash.js bundle, or a panic saying how to install it.
pub fn dashjs_bundle() -> PathBuf {
    let p = root().join("build/tools/dashjs/node_modules/dashjs/dist/modern/umd/dash.all.min.js");
    assert!(
        p.is_file(),
        "dash.js is not installed ({} is missing): run scripts/install-test-tools.sh (make deps)",
        p.display()
    );
    p
}

/// The version of the installed dash.js.
pub fn dashjs_version() -> String {
    let p = root().join("build/tools/dashjs/node_modules/dashjs/package.json");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&p).expect("dash.js package.json")).unwrap();
    v["version"].as_str().unwrap_or("?").to_string()
}

/// Debian's Chromium, or a panic saying how to install it.
pub fn chromium() -> &'static str {
    let ok = std::process::Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "chromium is not installed: run scripts/install-deps.sh (Debian package `chromium`)"
    );
    "chromium"
}

/// Makes the named media sets with scripts/make-test-media.sh (idempotent) and
/// returns the folder of the first.
pub fn media(names: &[&str]) -> PathBuf {
    let status = std::process::Command::new(root().join("scripts/make-test-media.sh"))
        .args(names)
        .status()
        .expect("run scripts/make-test-media.sh");
    assert!(
        status.success(),
        "scripts/make-test-media.sh {names:?} failed (needs ffmpeg, and Shaka Packager from scripts/install-test-tools.sh)"
    );
    root().join("build/media").join(names[0])
}

/// A folder holding the page and dash.js, to be served over HTTP.
pub fn page_dir(tmp: &Path) -> PathBuf {
    let dir = tmp.join("page");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        root().join("tests/dashjs/index.html"),
        dir.join("index.html"),
    )
    .unwrap();
    std::fs::copy(dashjs_bundle(), dir.join("dash.all.min.js")).unwrap();
    dir
}

/// One `QOE` line of the page.
#[derive(Debug, Clone)]
pub struct PageEvent {
    /// Milliseconds since just before `player.initialize()`.
    pub t_ms: f64,
    /// What happened.
    pub kind: String,
    /// The whole line.
    pub json: serde_json::Value,
}

/// Parses a Chromium stderr line holding a `QOE {...}` console message.
pub fn parse_line(line: &str) -> Option<PageEvent> {
    let start = line.find("QOE {")? + 4;
    let rest = &line[start..];
    let end = rest.rfind("}\", source:").map_or(rest.len(), |i| i + 1);
    let json: serde_json::Value = serde_json::from_str(&rest[..end]).ok()?;
    Some(PageEvent {
        t_ms: json["t_ms"].as_f64()?,
        kind: json["kind"].as_str()?.to_string(),
        json,
    })
}

/// Plays `page_url` in a fresh headless Chromium until the page has run for
/// `session` (its own clock), then ends the browser; returns the page's events.
pub async fn play(page_url: &str, profile: &Path, session: Duration) -> Vec<PageEvent> {
    let mut child = tokio::process::Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-background-timer-throttling",
            "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows",
            "--autoplay-policy=no-user-gesture-required",
            "--mute-audio",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(page_url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .expect("start chromium");
    let pgid = child.id().expect("chromium pid") as i32;
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut events = Vec::new();
    let limit = session + Duration::from_secs(60);
    let read = async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(e) = parse_line(&line) {
                let done = e.t_ms >= session.as_secs_f64() * 1000.0;
                events.push(e);
                if done {
                    return true;
                }
            }
        }
        false
    };
    let finished = tokio::time::timeout(limit, read).await;
    // Chromium's renderer and helper processes are in the group we created.
    // SAFETY: killpg on the process group of a child we spawned.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
    let _ = child.wait().await;
    assert!(
        matches!(finished, Ok(true)),
        "dash.js in Chromium did not run for {session:?} (events so far: {:?})",
        events.iter().map(|e| &e.kind).collect::<Vec<_>>()
    );
    events
}

/// What the page tells about a session: playback start, stalls, give-up.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// `initialize()` to the first `playing`, ms.
    pub startup_ms: Option<f64>,
    /// Stalls after startup: (start, duration, resolved), ms.
    pub stalls: Vec<(f64, f64, bool)>,
    /// dash.js raised a download error (it gave up on a request).
    pub gave_up: bool,
    /// Error codes raised.
    pub errors: Vec<i64>,
}

impl Measured {
    /// Total stall time, ms.
    pub fn stall_total_ms(&self) -> f64 {
        self.stalls.iter().map(|s| s.1).sum()
    }
}

/// Stalls from the video element: after the first `playing`, every `waiting` starts
/// one and the next `playing` ends it; one still open at `session_ms` is unresolved.
/// A `waiting` shorter than `min_stall_ms` holds no frame longer than usual (Chromium
/// reports such blips, e.g. 6 ms while dash.js's request hangs with 18 s buffered) and
/// is not a stall: give one frame interval of the content.
pub fn measure(events: &[PageEvent], session_ms: f64, min_stall_ms: f64) -> Measured {
    let mut m = Measured::default();
    let mut open: Option<f64> = None;
    for e in events.iter().filter(|e| e.t_ms <= session_ms) {
        match e.kind.as_str() {
            "video_playing" => match (m.startup_ms, open.take()) {
                (None, _) => m.startup_ms = Some(e.t_ms),
                (Some(_), Some(start)) if e.t_ms - start >= min_stall_ms => {
                    m.stalls.push((start, e.t_ms - start, true))
                }
                _ => {}
            },
            "video_waiting" if m.startup_ms.is_some() && open.is_none() => open = Some(e.t_ms),
            "error" => {
                m.gave_up = true;
                if let Some(c) = e.json["code"].as_i64() {
                    m.errors.push(c);
                }
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        m.stalls.push((start, session_ms - start, false));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_console_lines() {
        let line = r#"[1:1:1201/225634.373257:INFO:CONSOLE:9] "QOE {"t_ms":12.5,"kind":"video_waiting","current_time":3}", source: http://127.0.0.1:1/index.html (9)"#;
        let e = parse_line(line).unwrap();
        assert_eq!((e.t_ms, e.kind.as_str()), (12.5, "video_waiting"));
        assert!(parse_line("[1:1:INFO] something else").is_none());
    }
}
