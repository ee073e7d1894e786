//! Input files: regular files only, read with a size bound.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// What a non-regular file is, for messages.
pub(crate) fn kind(m: &Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// Reads the whole of `path`, which must be a regular file (a symlink to one is
/// fine) of at most `limit` bytes.
///
/// The file is opened without blocking (`O_NONBLOCK`), so a FIFO without a writer
/// is refused at once instead of hanging; FIFOs, devices, sockets and folders are
/// refused with an error that says what the path is.
pub fn read(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "is {}, not a regular file: qoeprobe reads inputs only from regular files (a pipe or a device could block or never end); save the data to a file first",
                kind(&meta)
            ),
        ));
    }
    read_bounded(file, meta.len(), limit)
}

fn read_bounded(file: File, len: u64, limit: u64) -> io::Result<Vec<u8>> {
    let too_large = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "is larger than {}, the most qoeprobe reads from this kind of file",
                crate::limit::describe(limit)
            ),
        )
    };
    if len > limit {
        return Err(too_large());
    }
    // The length can change while reading (a file still being written): the bound
    // applies to what is read, not to what stat said.
    let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(out)
}

/// [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read(path, limit)?).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}
