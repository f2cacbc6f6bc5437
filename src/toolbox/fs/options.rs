//! Options shared by uploads and downloads: a progress callback and a
//! timeout.

use std::fmt;
use std::time::Duration;

/// How far the transfer of one file has got, passed to the callback of
/// [`TransferOptions::progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress<'p> {
    /// The remote path of the file.
    pub remote_path: &'p str,
    /// The bytes of this file sent or received so far.
    pub bytes: u64,
    /// The size of the file, when known: the local file's size or the
    /// byte slice's length for uploads ([`super::Upload::size`] for
    /// readers), the part's `Content-Length` for downloads (never less
    /// than `bytes`: a file that grows as it is downloaded has its new
    /// size).
    pub total: Option<u64>,
}

/// The callback type of [`TransferOptions::progress`].
type ProgressFn<'a> = dyn FnMut(Progress<'_>) + Send + 'a;

/// Options of one upload or download request.
///
/// ```
/// use std::time::Duration;
/// use daytona::toolbox::TransferOptions;
///
/// let options = TransferOptions::new()
///     .timeout(Duration::from_secs(600))
///     .progress(|p| match p.total {
///         Some(total) => eprintln!("{}: {}/{} bytes", p.remote_path, p.bytes, total),
///         None => eprintln!("{}: {} bytes", p.remote_path, p.bytes),
///     });
/// # let _ = options;
/// ```
#[must_use]
pub struct TransferOptions<'a> {
    pub(super) progress: Option<Box<ProgressFn<'a>>>,
    pub(super) timeout: Option<Duration>,
    pub(super) max_in_memory: u64,
}

/// The most bytes of one file a download keeps in memory
/// ([`super::Download::to_bytes`], [`super::FileSystem::download_bytes`])
/// unless [`TransferOptions::max_in_memory`] says otherwise: 256 MiB.
/// Downloads to a path or a writer have no limit.
pub const DEFAULT_MAX_IN_MEMORY: u64 = 256 * 1024 * 1024;

impl Default for TransferOptions<'_> {
    fn default() -> Self {
        TransferOptions {
            progress: None,
            timeout: None,
            max_in_memory: DEFAULT_MAX_IN_MEMORY,
        }
    }
}

impl fmt::Debug for TransferOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransferOptions")
            .field("progress", &self.progress.is_some())
            .field("timeout", &self.timeout)
            .field("max_in_memory", &self.max_in_memory)
            .finish()
    }
}

impl<'a> TransferOptions<'a> {
    /// No callback, the client's transfer timeout.
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls `f` as the bytes of each file go: after every chunk, with the
    /// count so far, and at least once per file (with the final count).
    /// It runs on the calling thread, between reads and writes: keep it
    /// quick.
    pub fn progress(mut self, f: impl FnMut(Progress<'_>) + Send + 'a) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// The callback, borrowed.
    pub(super) fn callback(&mut self) -> Callback<'_> {
        match &mut self.progress {
            Some(f) => Some(&mut **f),
            None => None,
        }
    }

    /// The most bytes of one file kept in memory by a download into memory
    /// ([`super::Download::to_bytes`]) instead of [`DEFAULT_MAX_IN_MEMORY`]
    /// (256 MiB): a larger file fails the call with [`crate::Error::TooLarge`]
    /// naming the limit, without reading the rest of the answer (files
    /// completed before stay complete). Downloads to a path or a writer
    /// have no limit, as they take no memory.
    ///
    /// ```
    /// use daytona::toolbox::TransferOptions;
    ///
    /// let options = TransferOptions::new().max_in_memory(1024 * 1024 * 1024);
    /// # let _ = options;
    /// ```
    pub fn max_in_memory(mut self, bytes: u64) -> Self {
        self.max_in_memory = bytes;
        self
    }

    /// Time allowed for the whole request, body included, instead of the
    /// client's transfer timeout (30 minutes by default, see
    /// [`crate::DaytonaConfig::transfer_timeout`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// The callback, if any, borrowed for as long as a transfer runs.
pub(super) type Callback<'m> = Option<&'m mut ProgressFn<'m>>;

/// Counts the bytes of one file and reports them to the callback.
#[derive(Debug, Default)]
pub(super) struct Meter {
    pub(super) bytes: u64,
    total: Option<u64>,
    reported: bool,
}

impl Meter {
    pub(super) fn new(total: Option<u64>) -> Self {
        Meter {
            total,
            ..Meter::default()
        }
    }

    /// `n` more bytes of `remote_path`.
    pub(super) fn add(
        &mut self,
        progress: Option<&mut ProgressFn<'_>>,
        remote_path: &str,
        n: usize,
    ) {
        self.bytes = self.bytes.saturating_add(n as u64);
        self.report(progress, remote_path);
    }

    /// The file is complete: reports it if nothing was reported yet (an
    /// empty file).
    pub(super) fn finish(&mut self, progress: Option<&mut ProgressFn<'_>>, remote_path: &str) {
        if !self.reported {
            self.report(progress, remote_path);
        }
    }

    fn report(&mut self, progress: Option<&mut ProgressFn<'_>>, remote_path: &str) {
        if let Some(f) = progress {
            f(Progress {
                remote_path,
                bytes: self.bytes,
                total: self.total.map(|t| t.max(self.bytes)),
            });
        }
        self.reported = true;
    }
}
