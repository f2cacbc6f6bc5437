//! Opening the local files the crate reads: the files of uploads and of
//! build contexts.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Opens `path` for reading when it is a regular file, as the opened file
/// itself says: a FIFO, a socket or a device, even one that took the
/// file's place after it was looked at, is an `InvalidInput` error, and
/// nothing is read from it. On Unix the open never waits: opening a FIFO
/// normally blocks until a writer comes, which may be never.
pub(crate) fn open_regular(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Reads of a regular file ignore the flag.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file (a FIFO, a socket or a device)",
        ))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Read;
    use std::process::Command;
    use std::sync::mpsc;
    use std::time::Duration;

    use super::open_regular;

    #[test]
    fn a_fifo_is_refused_at_once_and_a_file_is_read() {
        let dir = crate::test_temp::TempDir::new("open-regular");
        let fifo = dir.path("pipe");
        let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
        assert!(made.success());
        // Run aside: an open that blocks must fail the test, not hang it.
        let (tx, rx) = mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || tx.send(open_regular(&path).map(drop)));
        let opened = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("opening a FIFO nobody writes to did not return");
        let err = opened.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("not a regular file"), "{err}");

        let file = dir.file("f", b"bytes");
        let mut text = String::new();
        open_regular(&file)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "bytes");
        assert!(open_regular(&dir).is_err());
    }
}
