//! The `qoeprobe` command: parses arguments and maps errors to `Error: ...` + exit 1.

fn main() -> std::process::ExitCode {
    qoeprobe::cli::main()
}
