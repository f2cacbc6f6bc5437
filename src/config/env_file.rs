//! `DAYTONA_*` settings from `.env.local` and `.env` files.
//!
//! The files are parsed by `dotenvy`'s iterator (never loaded into the
//! process environment); only names starting with `DAYTONA_` are kept.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};

/// The files read, highest precedence first (after the process environment).
pub(crate) const ENV_FILES: [&str; 2] = [".env.local", ".env"];

/// Largest file read: a settings file, not a data set.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// The `DAYTONA_*` settings of the files [`ENV_FILES`] in `dir`, the first
/// file that sets a name winning (and in a file, its last line setting it,
/// as a shell sourcing the file and the official SDKs' readers take it). A
/// missing file (or a directory of that name) is no setting; a file that
/// cannot be read, or a `DAYTONA_*` line that cannot be parsed, is an
/// [`Error::Config`] naming the file (and the line), never showing its
/// content. Lines of other names that do not parse are skipped.
pub(crate) fn read_env_files(dir: &Path) -> Result<HashMap<String, String>> {
    read_env_files_within(dir, PIPE_WAIT)
}

/// How long a named pipe (a `.env` a secret manager serves, which may
/// first ask its user) may take to be opened and written whole.
const PIPE_WAIT: Duration = Duration::from_secs(60);

/// [`read_env_files`], a named pipe given `pipe_wait`.
fn read_env_files_within(dir: &Path, pipe_wait: Duration) -> Result<HashMap<String, String>> {
    let mut settings = HashMap::new();
    for name in ENV_FILES {
        let path = dir.join(name);
        // A directory of that name (a Python virtual environment is often
        // made as `.env`) is not a settings file.
        if path.is_dir() {
            continue;
        }
        let Some(text) = read_text(&path, pipe_wait)? else {
            continue;
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut file = HashMap::new();
        for item in dotenvy::from_read_iter(text.as_bytes()) {
            let (key, value) = match item {
                Ok(setting) => setting,
                // Another tool's line (`TITLE=My App`, `DIR=C:\data`):
                // read past, as the official SDKs' readers do.
                Err(dotenvy::Error::LineParse(bad, _)) if !ours(text, &bad) => {
                    log::debug!(
                        "{}: a line that is no DAYTONA_ setting does not parse; skipped",
                        path.display()
                    );
                    continue;
                }
                Err(e) => return Err(malformed(&path, text, e)),
            };
            if key.starts_with("DAYTONA_") {
                // Within a file, the last line setting a name wins.
                file.insert(key, value);
            }
        }
        for (key, value) in file {
            settings.entry(key).or_insert(value);
        }
    }
    Ok(settings)
}

/// The text of the file at `path`, `None` when there is none. A named
/// pipe is read aside, for at most `pipe_wait`: opening one waits for a
/// program to serve it, which may never come.
fn read_text(path: &Path, pipe_wait: Duration) -> Result<Option<String>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo()) {
            return read_pipe(path, pipe_wait).map(Some);
        }
    }
    let _ = pipe_wait;
    match std::fs::File::open(path) {
        Ok(file) => read_whole(path, file).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(unreadable(path, &e)),
    }
}

/// The text of the named pipe at `path`, read by a thread of its own for
/// at most `wait`. A pipe no program serves in time is an error; the
/// thread, left waiting to open it, is let go by opening the pipe's
/// other end for a moment (a reader still waiting for its writer to
/// finish ends with that writer).
#[cfg(unix)]
fn read_pipe(path: &Path, wait: Duration) -> Result<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = path.to_path_buf();
    std::thread::Builder::new()
        .name("daytona-env-pipe".into())
        .spawn(move || {
            let read = std::fs::File::open(&owned)
                .map_err(|e| unreadable(&owned, &e))
                .and_then(|file| read_whole(&owned, file));
            let _ = tx.send(read);
        })
        .map_err(|e| unreadable(path, &e))?;
    rx.recv_timeout(wait).unwrap_or_else(|_| {
        use std::os::unix::fs::OpenOptionsExt;
        // Never waits: with no reader waiting, it fails at once.
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path);
        Err(Error::Config(format!(
            "{} is a named pipe that gave no settings within {wait:?}: is the program \
             that serves it running?",
            path.display()
        )))
    })
}

/// The text of `file` (at `path`), at most [`MAX_FILE_BYTES`].
fn read_whole(path: &Path, file: std::fs::File) -> Result<String> {
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| unreadable(path, &e))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::Config(format!(
            "{} is larger than {MAX_FILE_BYTES} bytes",
            path.display()
        )));
    }
    Ok(text)
}

fn unreadable(path: &Path, e: &std::io::Error) -> Error {
    Error::Config(format!("cannot read {}: {e}", path.display()))
}

/// The index of the line of `text` that `dotenvy` could not parse, from
/// the text its error quotes: the whole line, or only the value after `=`,
/// or a quoted value spanning lines (its first line).
fn bad_line(text: &str, bad: &str) -> Option<usize> {
    let bad = bad.trim();
    if bad.is_empty() {
        return None;
    }
    text.lines()
        .position(|l| l.trim() == bad)
        .or_else(|| text.lines().position(|l| value(l) == Some(bad)))
        .or_else(|| {
            let first = bad.lines().next()?.trim();
            text.lines()
                .position(|l| l.trim() == first || value(l) == Some(first))
        })
}

/// The value part of a `KEY=value` line, as `dotenvy` parses it.
fn value(line: &str) -> Option<&str> {
    line.split_once('=').map(|(_, v)| v.trim())
}

/// Whether the text `bad` that `dotenvy` could not parse may be a
/// `DAYTONA_*` setting: it names one, or is (part of) a line setting one,
/// or cannot be placed.
fn ours(text: &str, bad: &str) -> bool {
    if bad.contains("DAYTONA_") {
        return true;
    }
    let Some(line) = bad_line(text, bad).and_then(|i| text.lines().nth(i)) else {
        return true;
    };
    let line = line.trim_start();
    let line = line
        .strip_prefix("export")
        .filter(|rest| rest.starts_with(char::is_whitespace))
        .map_or(line, str::trim_start);
    line.starts_with("DAYTONA_")
}

/// The error of a file `dotenvy` could not parse: the file and the line,
/// not the line's text (it may hold a key).
fn malformed(path: &Path, text: &str, e: dotenvy::Error) -> Error {
    let line = match &e {
        dotenvy::Error::LineParse(bad, _) => bad_line(text, bad)
            .map(|i| format!(", line {}", i.saturating_add(1)))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let what = match e {
        dotenvy::Error::LineParse(..) => "is not a valid .env file".to_string(),
        dotenvy::Error::Io(io) => format!("cannot be read: {io}"),
        dotenvy::Error::EnvVar(var) => format!("cannot be read: {var}"),
        _ => "cannot be read".to_string(),
    };
    Error::Config(format!("{}{line} {what}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_temp::TempDir;

    #[test]
    fn local_wins_over_env_and_other_names_are_ignored() {
        let dir = TempDir::new("envfiles");
        std::fs::write(
            dir.join(".env"),
            "# settings\nDAYTONA_API_KEY=from-env-file\nDAYTONA_TARGET=us\nOTHER=x\n",
        )
        .unwrap();
        std::fs::write(
            dir.join(".env.local"),
            "\u{feff}export DAYTONA_API_KEY=\"from local\"\n",
        )
        .unwrap();
        let got = read_env_files(&dir).unwrap();
        assert_eq!(got.get("DAYTONA_API_KEY").unwrap(), "from local");
        assert_eq!(got.get("DAYTONA_TARGET").unwrap(), "us");
        assert!(!got.contains_key("OTHER"));
        assert_eq!(std::env::var("DAYTONA_TARGET").ok(), None);
    }

    #[test]
    fn in_a_file_the_last_line_setting_a_name_wins() {
        let dir = TempDir::new("envfiles-twice");
        std::fs::write(
            dir.join(".env"),
            "DAYTONA_TARGET=us\nDAYTONA_API_KEY=first\nDAYTONA_TARGET=eu\n",
        )
        .unwrap();
        std::fs::write(dir.join(".env.local"), "DAYTONA_API_KEY=local\n").unwrap();
        let got = read_env_files(&dir).unwrap();
        assert_eq!(got.get("DAYTONA_TARGET").map(String::as_str), Some("eu"));
        // Across files, .env.local still wins.
        assert_eq!(
            got.get("DAYTONA_API_KEY").map(String::as_str),
            Some("local")
        );
    }

    #[test]
    fn a_directory_named_like_the_files_is_no_file() {
        // Python virtual environments are often made as `.env`.
        let dir = TempDir::new("envfiles-venv");
        std::fs::create_dir_all(dir.join(".env").join("bin")).unwrap();
        std::fs::write(dir.join(".env.local"), "DAYTONA_TARGET=eu\n").unwrap();
        let got = read_env_files(&dir).unwrap();
        assert_eq!(got.get("DAYTONA_TARGET").map(String::as_str), Some("eu"));
        std::fs::remove_file(dir.join(".env.local")).unwrap();
        std::fs::create_dir(dir.join(".env.local")).unwrap();
        assert!(read_env_files(&dir).unwrap().is_empty());
    }

    #[test]
    fn missing_files_are_no_settings() {
        let dir = TempDir::new("envfiles-none");
        assert!(read_env_files(&dir).unwrap().is_empty());
    }

    #[test]
    fn a_malformed_file_names_file_and_line_without_its_text() {
        let dir = TempDir::new("envfiles-bad");
        std::fs::write(
            dir.join(".env"),
            "DAYTONA_TARGET=eu\n\nDAYTONA_API_KEY='sk-secret-1\n",
        )
        .unwrap();
        let e = read_env_files(&dir).unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e:?}");
        let text = e.to_string();
        assert!(text.contains(".env, line 3"), "{text}");
        assert!(!text.contains("sk-secret"), "{text}");
        std::fs::write(dir.join(".env.local"), "DAYTONA_TARGET eu\n").unwrap();
        let text = read_env_files(&dir).unwrap_err().to_string();
        assert!(text.contains(".env.local, line 1"), "{text}");
    }

    #[test]
    fn lines_of_other_names_that_do_not_parse_are_skipped() {
        let dir = TempDir::new("envfiles-others");
        std::fs::write(
            dir.join(".env"),
            "BASE=http://localhost:3000\nTITLE=My App\nDIR=C:\\data\n\
             export NOTE=a b\nDAYTONA_API_URL=${BASE}/api\nDAYTONA_TARGET=eu\n",
        )
        .unwrap();
        let got = read_env_files(&dir).unwrap();
        assert_eq!(
            got.get("DAYTONA_API_URL").map(String::as_str),
            Some("http://localhost:3000/api")
        );
        assert_eq!(got.get("DAYTONA_TARGET").map(String::as_str), Some("eu"));
        assert!(!got.contains_key("TITLE"));
        // A malformed DAYTONA_ line, or one another line's open quote
        // swallows, is still an error naming its line.
        for (text, line) in [
            ("TITLE=My App\nexport DAYTONA_TARGET=us east\n", 2),
            ("TITLE=My App\nDAYTONA_TARGET=\\x\n", 2),
            ("NOTE=\"open\nDAYTONA_API_KEY=k\n", 1),
        ] {
            std::fs::write(dir.join(".env"), text).unwrap();
            let e = read_env_files(&dir).unwrap_err().to_string();
            assert!(e.contains(&format!(".env, line {line}")), "{text:?}: {e}");
        }
    }

    /// `read_env_files_within(dir, pipe_wait)` run aside: `None` when it
    /// did not return within `limit`.
    #[cfg(unix)]
    fn read_aside(
        dir: &Path,
        pipe_wait: Duration,
        limit: Duration,
    ) -> Option<Result<HashMap<String, String>>> {
        let (tx, rx) = std::sync::mpsc::channel();
        let dir = dir.to_path_buf();
        std::thread::spawn(move || tx.send(read_env_files_within(&dir, pipe_wait)));
        rx.recv_timeout(limit).ok()
    }

    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        let made = std::process::Command::new("mkfifo").arg(path).status();
        assert!(made.expect("mkfifo").success());
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_is_read_when_served_and_given_up_when_not() {
        let dir = TempDir::new("envfiles-pipe");
        let pipe = dir.join(".env");
        mkfifo(&pipe);
        // Served a moment later, as a secret manager does.
        let writer = {
            let pipe = pipe.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                std::fs::write(pipe, "DAYTONA_TARGET=eu\n").unwrap();
            })
        };
        let got = read_aside(&dir, Duration::from_secs(20), Duration::from_secs(30))
            .expect("a served pipe was not read")
            .unwrap();
        assert_eq!(got.get("DAYTONA_TARGET").map(String::as_str), Some("eu"));
        writer.join().unwrap();
        // Served by nobody: an error naming it once the wait is over.
        let began = std::time::Instant::now();
        let e = read_aside(&dir, Duration::from_millis(300), Duration::from_secs(10))
            .expect("a pipe nobody serves held the reader")
            .unwrap_err();
        assert!(began.elapsed() >= Duration::from_millis(300));
        assert!(matches!(e, Error::Config(_)), "{e:?}");
        let text = e.to_string();
        assert!(text.contains(".env is a named pipe"), "{text}");
        // The reader left waiting was let go: a writer now finds no
        // reader (opening without waiting fails).
        use std::os::unix::fs::OpenOptionsExt;
        let reader_left = (0..50).all(|_| {
            std::thread::sleep(Duration::from_millis(20));
            std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&pipe)
                .is_ok()
        });
        assert!(!reader_left, "the reader still waits on the pipe");
    }

    #[test]
    fn a_huge_file_is_refused() {
        let dir = TempDir::new("envfiles-huge");
        let big = "#".repeat(usize::try_from(MAX_FILE_BYTES).unwrap() + 10);
        std::fs::write(dir.join(".env"), big).unwrap();
        assert!(read_env_files(&dir)
            .unwrap_err()
            .to_string()
            .contains("larger"));
    }
}
