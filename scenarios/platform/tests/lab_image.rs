//! The guest image checked once per process (root, the lab's packages): a second
//! `ensure_once` with the same options returns the image checked before without
//! building anything; an output altered since is noticed and the image rebuilt, as
//! the full check (`GuestImage::ensure`) does.

use platform::lab::image::{GuestImage, ImageOptions};
use platform::lab::lab_available;
use std::io::Write;

#[test]
fn an_image_is_checked_once_per_process_until_an_output_changes() {
    if let Err(why) = lab_available() {
        panic!("the lab tests need root and QEMU and cannot run here: {why}");
    }
    let opts = ImageOptions::default();
    let first = GuestImage::ensure_once(&opts).unwrap_or_else(|e| panic!("{e}"));
    let again = GuestImage::ensure_once(&opts).unwrap();
    assert!(!again.rebuilt, "the second check builds nothing");
    assert_eq!(again.initramfs, first.initramfs);
    assert_eq!(again.manifest, first.manifest);
    // Another image's options are another check (here: a cache folder that does not
    // hold the kernel package: refused, and nothing is remembered of it).
    let elsewhere = ImageOptions {
        kernel_deb: Some("/nonexistent/kernel.deb".into()),
        ..opts.clone()
    };
    assert!(GuestImage::ensure_once(&elsewhere).is_err());
    // An output altered behind the process's back: checked again and rebuilt.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&first.initramfs)
        .unwrap();
    f.write_all(b"\0").unwrap();
    drop(f);
    let rebuilt = GuestImage::ensure_once(&opts).unwrap_or_else(|e| panic!("{e}"));
    assert!(rebuilt.rebuilt, "an altered initramfs is rebuilt");
    assert_eq!(rebuilt.manifest.inputs, first.manifest.inputs);
    let after = GuestImage::ensure_once(&opts).unwrap();
    assert!(!after.rebuilt);
    assert_eq!(after.manifest, rebuilt.manifest);
}
