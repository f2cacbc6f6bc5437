//! Splits the byte stream of a followed log into stdout and stderr text.
//!
//! The toolbox interleaves both streams in one byte stream: `01 01 01`
//! switches to stdout and `02 02 02` to stderr. A marker may be cut across
//! frames, and so may a multi-byte UTF-8 character: up to 2 trailing bytes
//! that may start a marker are held back, and each stream is decoded on
//! its own, holding back the start of an incomplete character. Bytes before
//! the first marker belong to no stream and are dropped.

use super::follow::LogChunk;

const STDOUT: u8 = 0x01;
const STDERR: u8 = 0x02;
const MARKER_LEN: usize = 3;

/// Which stream the bytes belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Stdout,
    Stderr,
}

/// The demultiplexer of one followed log.
#[derive(Debug, Default)]
pub(super) struct Demux {
    target: Option<Target>,
    /// Up to 2 bytes that may be the start of a marker.
    held: Vec<u8>,
    stdout: Utf8Stream,
    stderr: Utf8Stream,
}

impl Demux {
    /// Takes the payload of one frame; complete text goes to `out`.
    pub(super) fn push(&mut self, data: &[u8], out: &mut impl Extend<LogChunk>) {
        let mut buf = std::mem::take(&mut self.held);
        buf.extend_from_slice(data);
        let n = buf.len();
        let mut start = 0;
        let mut i = 0;
        while i < n {
            if n - i < MARKER_LEN {
                if may_start_marker(&buf[i..]) {
                    break;
                }
                i += 1;
                continue;
            }
            let switch = match buf[i..i + MARKER_LEN] {
                [STDOUT, STDOUT, STDOUT] => Some(Target::Stdout),
                [STDERR, STDERR, STDERR] => Some(Target::Stderr),
                _ => None,
            };
            match switch {
                Some(target) => {
                    self.emit(&buf[start..i], out);
                    self.target = Some(target);
                    i += MARKER_LEN;
                    start = i;
                }
                None => i += 1,
            }
        }
        self.emit(&buf[start..i], out);
        self.held = buf[i..].to_vec();
    }

    /// Ends the stream: held bytes were not a marker after all, and an
    /// incomplete character becomes U+FFFD.
    pub(super) fn finish(&mut self, out: &mut impl Extend<LogChunk>) {
        let held = std::mem::take(&mut self.held);
        self.emit(&held, out);
        for (text, target) in [
            (self.stdout.finish(), Target::Stdout),
            (self.stderr.finish(), Target::Stderr),
        ] {
            push_text(out, target, text);
        }
    }

    fn emit(&mut self, bytes: &[u8], out: &mut impl Extend<LogChunk>) {
        let Some(target) = self.target else {
            return;
        };
        let text = match target {
            Target::Stdout => self.stdout.decode(bytes),
            Target::Stderr => self.stderr.decode(bytes),
        };
        push_text(out, target, text);
    }
}

fn push_text(out: &mut impl Extend<LogChunk>, target: Target, text: String) {
    if text.is_empty() {
        return;
    }
    out.extend(Some(match target {
        Target::Stdout => LogChunk::Stdout(text),
        Target::Stderr => LogChunk::Stderr(text),
    }));
}

/// `bytes` (shorter than a marker) may be the start of one.
fn may_start_marker(bytes: &[u8]) -> bool {
    match bytes.first() {
        Some(&b @ (STDOUT | STDERR)) => bytes.iter().all(|&x| x == b),
        _ => false,
    }
}

/// Incremental UTF-8 decoding of one stream: a character cut across pushes
/// is held back until its last byte arrives; invalid bytes become U+FFFD.
#[derive(Debug, Default)]
struct Utf8Stream {
    partial: Vec<u8>,
}

impl Utf8Stream {
    fn decode(&mut self, bytes: &[u8]) -> String {
        let mut buf = std::mem::take(&mut self.partial);
        buf.extend_from_slice(bytes);
        let cut = buf.len() - incomplete_tail(&buf);
        self.partial = buf.split_off(cut);
        String::from_utf8(buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    fn finish(&mut self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned()
    }
}

/// The length of the start of a character at the end of `buf` that still
/// lacks bytes (0 when `buf` ends on a character boundary).
fn incomplete_tail(buf: &[u8]) -> usize {
    for back in 1..=buf.len().min(3) {
        let b = buf[buf.len() - back];
        if b & 0b1100_0000 == 0b1000_0000 {
            continue; // a continuation byte: look for the lead byte
        }
        let width = match b {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => 1,
        };
        return if width > back { back } else { 0 };
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(frames: &[&[u8]]) -> Vec<LogChunk> {
        let mut d = Demux::default();
        let mut out = Vec::new();
        for f in frames {
            d.push(f, &mut out);
        }
        d.finish(&mut out);
        out
    }

    /// Joins consecutive chunks of the same stream.
    fn merged(chunks: Vec<LogChunk>) -> Vec<LogChunk> {
        let mut out: Vec<LogChunk> = Vec::new();
        for c in chunks {
            match (out.last_mut(), c) {
                (Some(LogChunk::Stdout(a)), LogChunk::Stdout(b)) => a.push_str(&b),
                (Some(LogChunk::Stderr(a)), LogChunk::Stderr(b)) => a.push_str(&b),
                (_, c) => out.push(c),
            }
        }
        out
    }

    fn out(s: &str) -> LogChunk {
        LogChunk::Stdout(s.into())
    }

    fn err(s: &str) -> LogChunk {
        LogChunk::Stderr(s.into())
    }

    #[test]
    fn splits_interleaved_streams_and_drops_bytes_before_the_first_marker() {
        let stream = b"junk\x01\x01\x01hello \x02\x02\x02oops\x01\x01\x01world";
        assert_eq!(
            run(&[stream]),
            vec![out("hello "), err("oops"), out("world")]
        );
    }

    #[test]
    fn every_split_of_the_stream_gives_the_same_text() {
        let stream =
            "\u{1}\u{1}\u{1}héllo ✓ \u{2}\u{2}\u{2}ошибка 🦀\u{1}\u{1}\u{1}\u{1}x\u{2}\u{2}";
        let bytes = stream.as_bytes();
        let expected = vec![out("héllo ✓ "), err("ошибка 🦀"), out("\u{1}x\u{2}\u{2}")];
        for a in 0..=bytes.len() {
            for b in a..=bytes.len() {
                let chunks = run(&[&bytes[..a], &bytes[a..b], &bytes[b..]]);
                assert_eq!(merged(chunks), expected, "split at {a}, {b}");
            }
        }
    }

    #[test]
    fn no_chunk_splits_a_character() {
        let s = "\u{1}\u{1}\u{1}🦀é";
        let bytes = s.as_bytes();
        let chunks = run(&bytes.iter().map(std::slice::from_ref).collect::<Vec<_>>());
        assert_eq!(chunks, vec![out("🦀"), out("é")]);
    }

    #[test]
    fn markers_that_are_not_markers_are_data() {
        assert_eq!(
            merged(run(&[b"\x02\x02\x02a\x01\x01b\x02", b"\x02c\x01"])),
            vec![err("a\u{1}\u{1}b\u{2}\u{2}c\u{1}")]
        );
    }

    #[test]
    fn invalid_and_truncated_utf8_become_replacement_characters() {
        assert_eq!(
            run(&[b"\x01\x01\x01a\xffb\xe2\x9c"]),
            vec![out("a\u{fffd}b"), out("\u{fffd}")]
        );
        assert_eq!(
            run(&[b"\x01\x01\x01\x80\x80\x80"]),
            vec![out("\u{fffd}\u{fffd}\u{fffd}")]
        );
        assert!(run(&[b"no marker at all", b"\x01"]).is_empty());
    }

    #[test]
    fn incomplete_tails() {
        assert_eq!(incomplete_tail(b""), 0);
        assert_eq!(incomplete_tail(b"ab"), 0);
        assert_eq!(incomplete_tail("é".as_bytes()), 0);
        assert_eq!(incomplete_tail(&"é".as_bytes()[..1]), 1);
        assert_eq!(incomplete_tail(&"🦀".as_bytes()[..3]), 3);
        assert_eq!(incomplete_tail(&"✓".as_bytes()[..2]), 2);
        assert_eq!(incomplete_tail(b"\x80\x80\x80"), 0);
    }
}
