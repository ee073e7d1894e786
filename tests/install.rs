//! `make install-files` (what `make install` runs after the release build) into a
//! DESTDIR: the binary, the bash, zsh and fish completions and the man pages; the
//! bash script parses (`bash -n`) and completes subcommands, and every page renders
//! with `man -l` (man-db, groff) without warnings.

use std::path::Path;
use std::process::Command;

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn make_install_files_into_destdir() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path();
    ok(Command::new("make")
        .arg("-C")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .arg("--no-print-directory")
        .arg("install-files")
        .arg(format!("BIN={}", env!("CARGO_BIN_EXE_qoeprobe")))
        .arg(format!("DESTDIR={}", dest.display()))
        .arg("PREFIX=/usr"));
    let usr = dest.join("usr");
    let bin = usr.join("bin/qoeprobe");
    assert!(ok(Command::new(&bin).arg("--version")).starts_with("qoeprobe "));
    let bash = usr.join("share/bash-completion/completions/qoeprobe");
    let zsh = usr.join("share/zsh/site-functions/_qoeprobe");
    let fish = usr.join("share/fish/vendor_completions.d/qoeprobe.fish");
    for f in [&bash, &zsh, &fish] {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(
            text.contains("completions") && text.contains("export"),
            "{}",
            f.display()
        );
    }
    ok(Command::new("bash").arg("-n").arg(&bash));
    // Completing `qoeprobe ex` offers `export`.
    let words = ok(Command::new("bash").arg("-c").arg(format!(
        "source {}; COMP_WORDS=(qoeprobe ex); COMP_CWORD=1; COMP_LINE='qoeprobe ex'; COMP_POINT=11; _qoeprobe qoeprobe ex qoeprobe; echo \"${{COMPREPLY[@]}}\"",
        bash.display()
    )));
    assert!(words.split_whitespace().any(|w| w == "export"), "{words}");

    let man = usr.join("share/man/man1");
    let pages: Vec<_> = std::fs::read_dir(&man)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for name in [
        "qoeprobe.1",
        "qoeprobe-run.1",
        "qoeprobe-export.1",
        "qoeprobe-lab-up.1",
    ] {
        assert!(man.join(name).is_file(), "{name} missing: {pages:?}");
    }
    for page in &pages {
        render(page);
    }
    assert!(render(&man.join("qoeprobe-run.1")).contains("--postgres"));
}

/// The page as `man -l` shows it; groff's warnings fail the test.
fn render(page: &Path) -> String {
    let out = Command::new("man")
        .arg("-l")
        .arg(page)
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_STDERR", "1")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap_or_else(|e| panic!("needs man (man-db): {e}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "{}: {err}",
        page.display()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
