//! `multipart/form-data`: the encoding of bulk uploads and an incremental
//! parser of bulk-download answers.
//!
//! The parser reads from any [`Read`] through one fixed buffer: a part's body
//! is handed out in slices of that buffer as it arrives, keeping back only
//! the bytes that could be the start of the next delimiter. Memory does not
//! grow with the size of the answer or of its parts.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Size of the parser's buffer.
const BUFFER: usize = 256 * 1024;

/// Longest boundary accepted (RFC 2046 allows 70; be lenient).
const MAX_BOUNDARY: usize = 200;

/// Longest header block of one part.
const MAX_HEADERS: usize = 16 * 1024;

/// Most epilogue bytes read (and dropped) after the closing delimiter, so
/// that the connection can be reused.
const MAX_EPILOGUE: u64 = 64 * 1024;

/// A boundary for a request body: long and random enough never to occur in
/// the data (it cannot be checked against a stream).
pub(crate) fn new_boundary() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let local = 0u8;
    let address = std::ptr::addr_of!(local) as usize;
    let seed = (nanos, count, address, std::process::id());
    // `RandomState` is keyed from the OS's randomness once per thread and
    // then varied per instance.
    let a = RandomState::new().hash_one(seed);
    let b = RandomState::new().hash_one((seed, a));
    format!("daytona-{a:016x}{b:016x}")
}

/// The first bytes of upload `index` of a bulk upload: its `files[i].path`
/// text field, then the head of its `files[i].file` file part. The file's
/// bytes follow, then `\r\n`.
pub(crate) fn upload_head(boundary: &str, index: usize, remote: &str) -> Vec<u8> {
    format!(
        "--{boundary}\r\n\
         Content-Disposition: form-data; name=\"files[{index}].path\"\r\n\r\n\
         {remote}\r\n\
         --{boundary}\r\n\
         Content-Disposition: form-data; name=\"files[{index}].file\"; filename=\"{}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n",
        quote(remote)
    )
    .into_bytes()
}

/// The end of a multipart body.
pub(crate) fn closing(boundary: &str) -> Vec<u8> {
    format!("--{boundary}--\r\n").into_bytes()
}

/// `s` made safe inside a quoted header parameter: `\` and `"` are
/// backslash-escaped, CR and LF percent-encoded (as browsers do), and so
/// are the other control characters but tab, which a header value cannot
/// hold (Go's reader, the toolbox's, refuses the whole body for one).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\t' => out.push(c),
            c if c.is_ascii_control() => out.push_str(&format!("%{:02X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// The parameters of a header value such as `form-data; name="file"`:
/// lower-cased names, unquoted values.
fn params(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    // Skip the value itself (`form-data`, `multipart/form-data`).
    for c in chars.by_ref() {
        if c == ';' {
            break;
        }
    }
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ';').is_some() {}
        if chars.peek().is_none() {
            return out;
        }
        let mut name = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && *c != ';') {
            name.push(c);
        }
        let mut val = String::new();
        if chars.next_if_eq(&'=').is_some() {
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            if chars.next_if_eq(&'"').is_some() {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => val.extend(chars.next()),
                        c => val.push(c),
                    }
                }
            } else {
                while let Some(c) = chars.next_if(|c| *c != ';') {
                    val.push(c);
                }
                val.truncate(val.trim_end().len());
            }
        }
        out.push((name.trim().to_ascii_lowercase(), val));
    }
}

/// The boundary of a `multipart/...` content type.
pub(crate) fn boundary_of(content_type: &str) -> Option<String> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !media.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    params(content_type)
        .into_iter()
        .find(|(name, _)| name == "boundary")
        .map(|(_, value)| value)
        .filter(|b| !b.is_empty() && b.len() <= MAX_BOUNDARY)
}

/// What went wrong while parsing.
#[derive(Debug)]
pub(crate) enum ParseError {
    /// The underlying reader failed.
    Read(io::Error),
    /// The bytes are not a complete multipart body.
    Malformed(String),
}

/// The headers of one part.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct PartHeaders {
    /// The `name` of its `Content-Disposition`.
    pub(crate) name: Option<String>,
    /// The `filename` of its `Content-Disposition`, unquoted.
    pub(crate) filename: Option<String>,
    /// The `filename` exactly as sent, for servers that do not escape the
    /// quotes and backslashes of a path.
    filename_raw: Option<String>,
    /// The `filename*` (RFC 5987), decoded: the exact path, where current
    /// toolboxes replace the characters of `filename` past Latin-1 with
    /// `_` and send those of Latin-1 as single bytes.
    filename_ext: Option<String>,
    /// Its `Content-Length`.
    pub(crate) content_length: Option<u64>,
}

impl PartHeaders {
    fn parse(block: &[u8]) -> Self {
        let text = String::from_utf8_lossy(block);
        let mut headers = PartHeaders::default();
        for line in text.split("\r\n") {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.trim().eq_ignore_ascii_case("content-length") {
                headers.content_length = value.parse().ok();
            } else if name.trim().eq_ignore_ascii_case("content-disposition") {
                for (param, v) in params(value) {
                    match param.as_str() {
                        "name" => headers.name = Some(v),
                        "filename" => headers.filename = Some(v),
                        "filename*" => headers.filename_ext = ext_value(&v),
                        _ => {}
                    }
                }
                headers.filename_raw = raw_filename(value);
            }
        }
        headers
    }

    /// Whether the part's file name is `path`: its `filename*` when it has
    /// one (which wins, as RFC 6266 says: `filename` may be the same `_`
    /// for other paths), else its `filename` unquoted or as sent.
    pub(crate) fn filename_is(&self, path: &str) -> bool {
        match &self.filename_ext {
            Some(exact) => exact == path,
            None => {
                self.filename.as_deref() == Some(path) || self.filename_raw.as_deref() == Some(path)
            }
        }
    }
}

/// An RFC 5987 `ext-value` such as `utf-8''%E6%97%A5.txt`, decoded; `None`
/// when it is malformed or in another charset than UTF-8 or ISO-8859-1.
fn ext_value(value: &str) -> Option<String> {
    let (charset, rest) = value.split_once('\'')?;
    let (_language, encoded) = rest.split_once('\'')?;
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(encoded).collect();
    if charset.eq_ignore_ascii_case("utf-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case("iso-8859-1") {
        Some(bytes.into_iter().map(char::from).collect())
    } else {
        None
    }
}

/// The text between `filename="` and the last `"` of a disposition.
fn raw_filename(value: &str) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("filename=\"") {
        let at = from + i;
        let starts_param = lower[..at]
            .trim_end()
            .ends_with(|c: char| c == ';' || c.is_whitespace())
            || lower[..at].ends_with(' ');
        if starts_param {
            let start = at + "filename=\"".len();
            let end = value.rfind('"').filter(|e| *e >= start)?;
            return Some(value[start..end].to_string());
        }
        from = at + 1;
    }
    None
}

/// Finds a fixed pattern (a multipart delimiter): `memchr`'s SIMD search,
/// and the partial match at the end of what was read so far.
struct Finder {
    pattern: Vec<u8>,
    search: memchr::memmem::Finder<'static>,
}

impl Finder {
    fn new(pattern: Vec<u8>) -> Self {
        debug_assert!(pattern.len() >= 2);
        let search = memchr::memmem::Finder::new(&pattern).into_owned();
        Finder { pattern, search }
    }

    /// The length of the longest end of `hay` that is a proper start of
    /// the pattern (a match that may go on in the next bytes).
    fn partial_suffix(&self, hay: &[u8]) -> usize {
        let from = hay.len().saturating_sub(self.pattern.len() - 1);
        (from..hay.len())
            .find(|&i| hay[i] == self.pattern[0] && self.pattern.starts_with(&hay[i..]))
            .map_or(0, |i| hay.len() - i)
    }

    fn find(&self, hay: &[u8]) -> Option<usize> {
        self.search.find(hay)
    }
}

/// Where the next delimiter is.
enum Found {
    /// At this offset.
    At(usize),
    /// Perhaps at this offset: the bytes that decide have not arrived yet.
    Maybe(usize),
    /// Not in the bytes read so far.
    Nothing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Inside a part's body (or the preamble).
    Body,
    /// Just after a delimiter.
    Delimiter,
    /// After the closing delimiter.
    Done,
}

/// An incremental multipart parser over a reader.
pub(crate) struct Parser<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// `\r\n--` + the boundary.
    delimiter: Finder,
    state: State,
}

impl<R: Read> Parser<R> {
    pub(crate) fn new(inner: R, boundary: &str) -> Self {
        let mut buf = vec![0u8; BUFFER].into_boxed_slice();
        // The first delimiter may open the body without a CRLF before it:
        // start with one, so that every delimiter looks the same.
        buf[..2].copy_from_slice(b"\r\n");
        Parser {
            inner,
            buf,
            pos: 0,
            end: 2,
            delimiter: Finder::new(format!("\r\n--{boundary}").into_bytes()),
            state: State::Body,
        }
    }

    /// Reads more bytes after the ones kept; `false` at the end of input.
    fn fill(&mut self) -> Result<bool, ParseError> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            // Callers keep far less than a buffer; never mistake a full
            // buffer for the end of input.
            return Err(ParseError::Malformed("a multipart line is too long".into()));
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ParseError::Read(e)),
            }
        }
    }

    /// Makes at least `n` unread bytes available.
    fn need(&mut self, n: usize) -> Result<(), ParseError> {
        while self.end - self.pos < n {
            if !self.fill()? {
                return Err(truncated());
            }
        }
        Ok(())
    }

    /// The next slice of the current part's body; `None` at its end.
    pub(crate) fn chunk(&mut self) -> Result<Option<&[u8]>, ParseError> {
        if self.state != State::Body {
            return Ok(None);
        }
        let m = self.delimiter.pattern.len();
        loop {
            let start = self.pos;
            let len = match self.find_delimiter() {
                Found::At(0) => {
                    self.pos += m;
                    self.state = State::Delimiter;
                    return Ok(None);
                }
                Found::At(i) | Found::Maybe(i) => i,
                // Keep back only a tail that may start a delimiter.
                Found::Nothing => {
                    let hay = &self.buf[start..self.end];
                    hay.len() - self.delimiter.partial_suffix(hay)
                }
            };
            if len > 0 {
                self.pos += len;
                return Ok(Some(&self.buf[start..start + len]));
            }
            if !self.fill()? {
                return Err(truncated());
            }
        }
    }

    /// The first delimiter in the unread bytes. Like Go's `mime/multipart`
    /// (which the toolbox uses), `\r\n--boundary` counts as one only when
    /// followed by `--`, CR, LF, space or tab: other bytes make it content.
    fn find_delimiter(&self) -> Found {
        let m = self.delimiter.pattern.len();
        let hay = &self.buf[self.pos..self.end];
        let mut from = 0;
        while let Some(j) = self.delimiter.find(&hay[from..]) {
            let i = from + j;
            match hay.get(i + m..i + m + 2).unwrap_or(&hay[i + m..]) {
                [] | [b'-'] => return Found::Maybe(i),
                [b' ' | b'\t' | b'\r' | b'\n', ..] | [b'-', b'-'] => return Found::At(i),
                _ => from = i + 1,
            }
        }
        Found::Nothing
    }

    /// The headers of the next part, skipping what is left of the current
    /// one; `None` after the closing delimiter.
    pub(crate) fn next_part(&mut self) -> Result<Option<PartHeaders>, ParseError> {
        while self.chunk()?.is_some() {}
        if self.state == State::Done {
            return Ok(None);
        }
        self.need(2)?;
        if &self.buf[self.pos..self.pos + 2] == b"--" {
            self.state = State::Done;
            self.drain_epilogue();
            return Ok(None);
        }
        // Transport padding may follow a delimiter.
        loop {
            self.need(1)?;
            if !matches!(self.buf[self.pos], b' ' | b'\t') {
                break;
            }
            self.pos += 1;
        }
        self.need(2)?;
        if &self.buf[self.pos..self.pos + 2] != b"\r\n" {
            return Err(ParseError::Malformed(
                "a delimiter is not followed by CRLF".into(),
            ));
        }
        // The block runs from the CRLF that ends the delimiter line to an
        // empty line; with no headers at all it is just `\r\n\r\n`.
        loop {
            let block = &self.buf[self.pos..self.end];
            // Searched no further than the limit, however much one read
            // brought.
            let within = &block[..block.len().min(MAX_HEADERS + 4)];
            if let Some(i) = memchr::memmem::find(within, b"\r\n\r\n") {
                let headers = PartHeaders::parse(&block[2..i + 2]);
                self.pos += i + 4;
                self.state = State::Body;
                return Ok(Some(headers));
            }
            if block.len() > MAX_HEADERS {
                return Err(ParseError::Malformed("part headers are too long".into()));
            }
            if !self.fill()? {
                return Err(truncated());
            }
        }
    }

    /// Reads (a bounded amount of) what follows the closing delimiter, so
    /// that the connection can be reused. Errors no longer matter.
    fn drain_epilogue(&mut self) {
        let _ = io::copy(&mut (&mut self.inner).take(MAX_EPILOGUE), &mut io::sink());
    }
}

fn truncated() -> ParseError {
    ParseError::Malformed("the multipart answer is truncated (no closing boundary)".into())
}

#[cfg(test)]
mod tests;
