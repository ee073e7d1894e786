//! The HTML report renders in headless Chromium (Debian package `chromium`) without
//! console errors, and the screenshot is not blank. Fails when Chromium is missing:
//! install it with scripts/install-deps.sh.

use analysis::synth::{SynthSpec, write_campaign};
use std::process::Command;

#[test]
fn report_renders_in_headless_chromium() {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .unwrap_or_else(|| {
            panic!(
                "chromium is not installed: run scripts/install-deps.sh (Debian package `chromium`)"
            )
        });
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    write_campaign(&results, &SynthSpec::table2(3)).unwrap();
    let out = analysis::write_outputs(&results, &analysis::LoadOptions::default()).unwrap();
    let html = std::fs::read_to_string(&out.report_html).unwrap();
    assert!(html.contains("<svg"), "the report has no inline SVG");
    assert!(
        !html.contains("<script"),
        "the report must not need scripts"
    );
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "external asset"
    );
    let png = tmp.path().join("report.png");
    let profile = tmp.path().join("profile");
    let run = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--enable-logging=stderr", "--v=0"])
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1400,3000")
        .arg(format!("file://{}", out.report_html.display()))
        .output()
        .expect("run chromium");
    let stderr = String::from_utf8_lossy(&run.stderr);
    if let Ok(keep) = std::env::var("QOEPROBE_KEEP_SCREENSHOT") {
        let _ = std::fs::copy(&png, keep);
    }
    assert!(run.status.success(), "chromium failed: {stderr}");
    for line in stderr.lines() {
        let console_error = line.contains("CONSOLE") && line.contains("rror");
        assert!(
            !line.contains("Uncaught") && !console_error,
            "console error while loading the report: {line}"
        );
    }
    let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 50_000,
        "screenshot missing or nearly blank: {size} bytes\n{stderr}"
    );
}
