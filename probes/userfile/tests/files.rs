//! What `userfile` does with every kind of thing that can sit at an output or input
//! path. The device-node test needs root (`mknod`) and says so when it is missing;
//! it makes its own node in a temporary folder and never touches `/dev`.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use userfile::{Output, Written};

fn run(cmd: &str, args: &[&str]) {
    let st = Command::new(cmd)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
    assert!(st.success(), "{cmd} {args:?} failed: {st}");
}

fn mkfifo(p: &Path) {
    run("mkfifo", &[p.to_str().unwrap()]);
}

/// Runs `f` on a thread; fails the test if it has not returned within 10 s (a
/// blocked open or read).
fn within_10s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("blocked for more than 10 s")
}

#[test]
fn a_new_path_and_a_regular_file_are_replaced_atomically_keeping_the_mode() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("sub/out.json");
    assert_eq!(userfile::write(&p, b"one").unwrap(), Written::Replaced);
    assert_eq!(fs::read(&p).unwrap(), b"one");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
    let ino = fs::metadata(&p).unwrap().ino();
    assert_eq!(userfile::write(&p, b"two").unwrap(), Written::Replaced);
    let m = fs::metadata(&p).unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"two");
    assert_ne!(m.ino(), ino, "a new file was renamed into place");
    assert_eq!(m.mode() & 0o777, 0o600, "the mode is kept");
    let left: Vec<_> = fs::read_dir(p.parent().unwrap()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file is left: {left:?}");
}

#[test]
fn a_symlink_stays_a_symlink_and_its_target_gets_the_bytes() {
    let d = tempfile::tempdir().unwrap();
    let target = d.path().join("target.json");
    fs::write(&target, "old").unwrap();
    let link = d.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert_eq!(userfile::write(&link, b"new").unwrap(), Written::Through);
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read(&target).unwrap(), b"new");
    // A dangling link: its target is created, the link stays.
    let dangling = d.path().join("dangling");
    let missing = d.path().join("missing.json");
    std::os::unix::fs::symlink(&missing, &dangling).unwrap();
    userfile::write(&dangling, b"x").unwrap();
    assert!(
        fs::symlink_metadata(&dangling)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read(&missing).unwrap(), b"x");
}

#[test]
fn a_hard_linked_file_is_written_through_so_every_name_sees_it() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a");
    let b = d.path().join("b");
    fs::write(&a, "old").unwrap();
    fs::hard_link(&a, &b).unwrap();
    assert_eq!(userfile::write(&a, b"new").unwrap(), Written::Through);
    assert_eq!(fs::read(&b).unwrap(), b"new");
}

#[test]
fn a_fifo_output_is_written_through_and_stays_a_fifo() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("out.fifo");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read(fifo).unwrap())
    };
    let f2 = fifo.clone();
    let how = within_10s(move || userfile::write(&f2, b"through the pipe").unwrap());
    assert_eq!(how, Written::Through);
    assert_eq!(reader.join().unwrap(), b"through the pipe");
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn root_a_device_node_output_is_written_through_and_stays_a_device() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "this test needs root (it creates its own device node with mknod)"
    );
    let d = tempfile::tempdir().unwrap();
    let dev = d.path().join("null");
    // Major 1, minor 3: the null device, as a new node in a temporary folder.
    run("mknod", &[dev.to_str().unwrap(), "c", "1", "3"]);
    assert_eq!(
        userfile::write(&dev, b"discarded").unwrap(),
        Written::Through
    );
    let m = fs::symlink_metadata(&dev).unwrap();
    assert!(m.file_type().is_char_device(), "still a device: {m:?}");
    // Through a symlink to it, as `--json /dev/stdout`-like paths are.
    let link = d.path().join("link");
    std::os::unix::fs::symlink(&dev, &link).unwrap();
    userfile::write(&link, b"discarded").unwrap();
    assert!(fs::metadata(&dev).unwrap().file_type().is_char_device());
}

#[test]
fn a_planted_temporary_file_symlink_is_never_followed() {
    let d = tempfile::tempdir().unwrap();
    let victim = d.path().join("victim");
    fs::write(&victim, "precious").unwrap();
    let out = d.path().join("out.json");
    // Plant symlinks under every temporary name this process could pick next.
    for n in 0..200 {
        let planted = d
            .path()
            .join(format!(".out.json.{}.{n}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, planted).unwrap();
    }
    match userfile::write(&out, b"mine") {
        Ok(_) => assert_eq!(fs::read(&out).unwrap(), b"mine"),
        // Every candidate name was taken: refusing is also correct.
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists),
    }
    assert_eq!(fs::read(&victim).unwrap(), b"precious");
}

#[test]
fn a_folder_is_refused_as_an_output() {
    let d = tempfile::tempdir().unwrap();
    let e = userfile::write(d.path(), b"x").unwrap_err();
    assert!(e.to_string().contains("is a folder"), "{e}");
}

#[test]
fn dash_means_standard_output() {
    assert_eq!(Output::from(std::ffi::OsString::from("-")), Output::Stdout);
    assert_eq!(
        Output::from(Path::new("a.json")),
        Output::File("a.json".into())
    );
    assert_eq!(Output::Stdout.to_string(), "standard output");
}

#[test]
fn inputs_must_be_regular_files_and_a_fifo_never_blocks() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("trace.fifo");
    mkfifo(&fifo);
    let f2 = fifo.clone();
    let e = within_10s(move || userfile::read(&f2, 1024).unwrap_err());
    assert!(e.to_string().contains("FIFO"), "{e}");
    let e = userfile::read(d.path(), 1024).unwrap_err();
    assert!(e.to_string().contains("a folder"), "{e}");
    let e = userfile::read(Path::new("/dev/zero"), 1024).unwrap_err();
    assert!(e.to_string().contains("character device"), "{e}");
    // A symlink to a regular file is read.
    let file = d.path().join("t.csv");
    fs::write(&file, "1000,5000\n").unwrap();
    let link = d.path().join("link.csv");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    assert_eq!(
        userfile::read_to_string(&link, 1024).unwrap(),
        "1000,5000\n"
    );
}

#[test]
fn inputs_are_read_up_to_their_limit() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("big");
    fs::write(&p, vec![b'a'; 4097]).unwrap();
    assert_eq!(userfile::read(&p, 4097).unwrap().len(), 4097);
    let e = userfile::read(&p, 4096).unwrap_err();
    assert!(e.to_string().contains("larger than 4 KiB"), "{e}");
    fs::write(&p, [0xff, 0xfe]).unwrap();
    let e = userfile::read_to_string(&p, 16).unwrap_err();
    assert!(e.to_string().contains("not UTF-8"), "{e}");
}
