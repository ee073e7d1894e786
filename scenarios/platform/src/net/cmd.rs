//! Running `ip`, `tc`, `nft` and `sysctl` with errors that say what to do.
//!
//! rtnetlink has no typed tbf or mirred, so every kernel change goes through the
//! iproute2 and nftables command-line tools. This module only runs commands; it
//! never decides what to create.

use super::error::{NetError, Result};
use std::io::Write;
use std::process::{Command, Stdio};

/// Which Debian package ships a program (for error messages).
fn package_of(program: &str) -> &'static str {
    match program {
        "ip" | "tc" => "iproute2",
        "nft" => "nftables",
        "sysctl" => "procps",
        _ => "the package that provides it",
    }
}

/// A hint for a failed command, from what it printed.
fn hint_for(program: &str, stderr: &str) -> String {
    let e = stderr.to_ascii_lowercase();
    if e.contains("operation not permitted") {
        "run as root".into()
    } else if e.contains("file exists") {
        "a resource of that name already exists: a killed run may have left it; run `qoeprobe lab down`".into()
    } else if e.contains("kind is unknown") || e.contains("classifier not found") {
        "the kernel lacks this qdisc/classifier module; see docs/network-conditions.md".into()
    } else if e.contains("cannot find device") || e.contains("no such device") {
        "the interface does not exist (torn down already, or in another namespace)".into()
    } else if program == "nft" {
        "check that the kernel has nf_tables with the netdev family".into()
    } else {
        "see the command's message above".into()
    }
}

fn render(program: &str, args: &[&str]) -> String {
    let mut s = program.to_string();
    for a in args {
        s.push(' ');
        if a.contains(' ') || a.is_empty() {
            s.push('\'');
            s.push_str(a);
            s.push('\'');
        } else {
            s.push_str(a);
        }
    }
    s
}

/// Runs `program args...`, optionally feeding `stdin`, and returns its stdout.
pub fn run_with_input(program: &str, args: &[&str], stdin: Option<&str>) -> Result<String> {
    let command = render(program, args);
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let spawn_err = |source| NetError::Spawn {
        command: command.clone(),
        program: program.to_string(),
        package: package_of(program),
        source,
    };
    let mut child = cmd.spawn().map_err(spawn_err)?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes()).map_err(spawn_err)?;
    }
    let out = child.wait_with_output().map_err(spawn_err)?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    Err(NetError::Command {
        hint: hint_for(program, &stderr),
        command: if let Some(input) = stdin {
            format!("{command} <<< {input:?}")
        } else {
            command
        },
        status: out.status.to_string(),
        stderr,
    })
}

/// Runs `program args...` and returns its stdout.
pub fn run(program: &str, args: &[&str]) -> Result<String> {
    run_with_input(program, args, None)
}

/// Runs `ip -n NS args...` (or plain `ip args...` when `ns` is `None`).
pub fn ip(ns: Option<&str>, args: &[&str]) -> Result<String> {
    with_ns("ip", ns, args)
}

/// Runs `tc -n NS args...` (or plain `tc args...`).
pub fn tc(ns: Option<&str>, args: &[&str]) -> Result<String> {
    with_ns("tc", ns, args)
}

/// Feeds an nft script to `nft -f -` inside `ns` (or the current namespace).
pub fn nft_script(ns: Option<&str>, script: &str) -> Result<String> {
    match ns {
        Some(ns) => run_with_input("ip", &["netns", "exec", ns, "nft", "-f", "-"], Some(script)),
        None => run_with_input("nft", &["-f", "-"], Some(script)),
    }
}

/// Runs `nft args...` inside `ns` (or the current namespace).
pub fn nft(ns: Option<&str>, args: &[&str]) -> Result<String> {
    match ns {
        Some(ns) => {
            let mut full = vec!["netns", "exec", ns, "nft"];
            full.extend_from_slice(args);
            run("ip", &full)
        }
        None => run("nft", args),
    }
}

fn with_ns(program: &str, ns: Option<&str>, args: &[&str]) -> Result<String> {
    match ns {
        Some(ns) => {
            let mut full = vec!["-n", ns];
            full.extend_from_slice(args);
            run(program, &full)
        }
        None => run(program, args),
    }
}

/// Fails with [`NetError::NotRoot`] unless the effective user is root.
pub fn require_root() -> Result<()> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        Ok(())
    } else {
        Err(NetError::NotRoot)
    }
}
