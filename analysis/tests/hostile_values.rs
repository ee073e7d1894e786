//! Absurd but well-formed numbers in a results folder: the report must still be
//! written, in bounded time.

use std::path::Path;
use std::time::Duration;

fn edit_json(path: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(path, v.to_string()).unwrap();
}

#[test]
fn huge_values_do_not_make_the_report_spin_or_overflow() {
    let d = tempfile::tempdir().unwrap();
    let c = d.path().join("c");
    analysis::synth::write_campaign(&c, &analysis::synth::SynthSpec::table2(2)).unwrap();
    edit_json(&c.join("download/S1/run-1/summary.json"), |v| {
        v["migration"]["downtime_ms"] = serde_json::json!(1e155);
    });
    edit_json(&c.join("dash/S2/run-1/summary.json"), |v| {
        v["migration"]["preoperation_ms"] = serde_json::json!(-1e300);
    });
    // A timeline sample far beyond any real value.
    let tl = c.join("game/S1/run-1/timeline.jsonl");
    let mut text = std::fs::read_to_string(&tl).unwrap();
    text.push_str(
        r#"{"t_ns":1000,"source":"probe:game","kind":"game_snapshot","seq":1,"rtt_ns":[18446744073709551615],"late":false,"duplicate":false}"#,
    );
    text.push('\n');
    std::fs::write(&tl, text).unwrap();
    // A sample far below any real value: drawn at the axis edge, not at an
    // overflowing pixel offset.
    let tl = c.join("dash/S2/run-1/timeline.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(&tl)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v.get("buffer_ms").is_some() {
                v["buffer_ms"] = serde_json::json!(-1e308);
            }
            v.to_string()
        })
        .collect();
    std::fs::write(&tl, lines.join("\n") + "\n").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let dir = c.clone();
    std::thread::spawn(move || {
        let _ =
            tx.send(analysis::write_outputs(&dir, &analysis::LoadOptions::default()).map(|_| ()));
    });
    let done = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the report was not written within 120 s: it spins on a huge value");
    done.unwrap();
    let html = std::fs::read_to_string(c.join("report.html")).unwrap();
    assert!(html.contains("<svg"), "the plots are drawn");
}
