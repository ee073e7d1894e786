//! The `QOEPROBE_*` environment variables (docs/cli.md): `--help` names them but
//! never shows a secret one's value, and `table DIR` still reads the folder when
//! `QOEPROBE_POSTGRES` is set.

use std::process::{Command, Output};

const URL: &str = "postgres://me:env-secret-73@db.invalid/q";

fn qoeprobe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qoeprobe"))
        .args(args)
        .env("QOEPROBE_POSTGRES", URL)
        .env("QOEPROBE_CA", "/etc/ssl/certs/env-ca.pem")
        .output()
        .unwrap()
}

#[test]
fn help_names_the_variables_but_never_a_secret_value() {
    for cmd in [&["run", "--help"][..], &["table", "--help"]] {
        let out = qoeprobe(cmd);
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("QOEPROBE_POSTGRES"), "{cmd:?}: {text}");
        assert!(
            !text.contains("env-secret-73"),
            "{cmd:?} shows the password: {text}"
        );
        assert!(
            !text.contains("db.invalid"),
            "{cmd:?} shows the URL: {text}"
        );
    }
    // A non-secret one shows its value, so a user sees where it comes from.
    let text = String::from_utf8_lossy(&qoeprobe(&["play", "--help"]).stdout).into_owned();
    assert!(
        text.contains("QOEPROBE_CA=/etc/ssl/certs/env-ca.pem"),
        "{text}"
    );
    // The man page never holds an environment value either.
    let page = String::from_utf8_lossy(&qoeprobe(&["man"]).stdout).into_owned();
    assert!(!page.contains("env-secret-73"));
}

#[test]
fn a_folder_wins_over_qoeprobe_postgres() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    analysis::synth::write_campaign(&dir, &analysis::synth::SynthSpec::table2(1)).unwrap();
    let out = qoeprobe(&["table", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Migratability"));
    // Without a folder, the environment's database is used: here unreachable, and
    // the error hides the password.
    let out = qoeprobe(&["table", "--campaign", "x"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot connect to postgres://me:***@db.invalid/q"),
        "{err}"
    );
    assert!(!err.contains("env-secret-73"), "{err}");
}
