//! `qoeprobe export DIR --postgres URL` and `qoeprobe table --from URL --campaign NAME`
//! against a real PostgreSQL server (a throw-away cluster of Debian's postgresql
//! package in a temporary folder, stopped at the end): the table read back is the
//! folder's, byte for byte, and a second export adds nothing.

use analysis::synth::{SynthSpec, write_campaign};
use std::process::{Command, Output};
use store::throwaway::Cluster;

fn qoeprobe(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_qoeprobe"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "qoeprobe {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn pg_export_then_table_from_postgres_equals_the_folders() {
    let cluster = Cluster::start().unwrap_or_else(|e| panic!("needs PostgreSQL: {e}"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(cluster.create_db("cli")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t2");
    write_campaign(&dir, &SynthSpec::table2(2)).unwrap();
    std::fs::remove_file(dir.join("game/S2/run-1/summary.json")).unwrap();
    let d = dir.to_str().unwrap();

    let first = qoeprobe(&["export", d, "--postgres", &url]);
    let text = String::from_utf8_lossy(&first.stderr);
    assert!(
        text.contains("20 run(s) loaded (0 replaced, 1 incomplete), 0 unchanged"),
        "{text}"
    );
    let second = qoeprobe(&["export", d, "--postgres", &url]);
    let text = String::from_utf8_lossy(&second.stderr);
    assert!(
        text.contains("0 run(s) loaded (0 replaced, 0 incomplete), 20 unchanged"),
        "{text}"
    );

    for format in ["md", "csv", "json", "latex", "html"] {
        let from_folder = qoeprobe(&["table", d, "--format", format]).stdout;
        let from_db = qoeprobe(&[
            "table",
            "--from",
            &url,
            "--campaign",
            "synthetic-table2",
            "--format",
            format,
        ])
        .stdout;
        assert_eq!(
            String::from_utf8_lossy(&from_db),
            String::from_utf8_lossy(&from_folder),
            "format {format}"
        );
    }
    // A wrong campaign name: a clear error naming those the database holds.
    let out = Command::new(env!("CARGO_BIN_EXE_qoeprobe"))
        .args(["table", "--from", &url, "--campaign", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no campaign `nope`") && err.contains("synthetic-table2"),
        "{err}"
    );
    drop(cluster);
}
