//! The parser and the encoding, down to single bytes and random input.

use super::*;

/// Yields at most `step` bytes per read.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

type Parts = Vec<(PartHeaders, Vec<u8>)>;

fn parse_all(data: &[u8], boundary: &str, step: usize) -> Result<Parts, ParseError> {
    let mut parser = Parser::new(Trickle { data, step }, boundary);
    let mut parts = Vec::new();
    while let Some(headers) = parser.next_part()? {
        let mut body = Vec::new();
        while let Some(chunk) = parser.chunk()? {
            assert!(!chunk.is_empty());
            body.extend_from_slice(chunk);
        }
        parts.push((headers, body));
    }
    Ok(parts)
}

fn body(boundary: &str, parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = b"preamble\r\n".to_vec();
    for (disposition, data) in parts {
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n").as_bytes(),
        );
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\nepilogue").as_bytes());
    out
}

#[test]
fn parts_survive_every_split_position() {
    let b = "B0UND";
    // Delimiter-like bytes that Go's reader (and so the toolbox) takes
    // as content: a prefix, the boundary followed by other bytes, the
    // boundary without the CRLF before it.
    let tricky: &[u8] = b"a\r\n--B0UN\r\n--B0UNDx\r\n--B0UND-y\r\n-\r\n\r\nx--B0UND";
    let data = body(
        b,
        &[
            (
                r#"form-data; name="file"; filename="/a b/\"q\".txt""#,
                tricky,
            ),
            (r#"form-data; name="error"; filename="/x""#, b"{}"),
            (r#"form-data; name="file"; filename="/e""#, b""),
        ],
    );
    for step in 1..=data.len() {
        let parts = parse_all(&data, b, step).unwrap();
        assert_eq!(parts.len(), 3, "step {step}");
        assert_eq!(parts[0].0.name.as_deref(), Some("file"));
        assert_eq!(parts[0].0.filename.as_deref(), Some(r#"/a b/"q".txt"#));
        assert_eq!(parts[0].1, tricky, "step {step}");
        assert_eq!(parts[1].0.name.as_deref(), Some("error"));
        assert_eq!(parts[1].1, b"{}");
        assert!(parts[2].0.filename_is("/e"));
        assert!(parts[2].1.is_empty());
    }
}

#[test]
fn large_parts_stream_through_a_fixed_buffer() {
    let data: Vec<u8> = (0..3 * BUFFER + 17).map(|i| (i % 251) as u8).collect();
    let whole = body("xyz", &[("form-data; name=\"file\"", &data)]);
    let mut parser = Parser::new(
        Trickle {
            data: &whole,
            step: 10_000,
        },
        "xyz",
    );
    parser.next_part().unwrap().unwrap();
    let mut got = Vec::new();
    while let Some(chunk) = parser.chunk().unwrap() {
        assert!(chunk.len() <= BUFFER);
        got.extend_from_slice(chunk);
    }
    assert_eq!(got, data);
    assert_eq!(parser.buf.len(), BUFFER);
    assert!(parser.next_part().unwrap().is_none());
}

#[test]
fn truncation_anywhere_is_an_error() {
    let data = body("bb", &[("form-data; name=\"file\"", b"0123456789")]);
    let cut_at = data.len() - "bb--\r\nepilogue".len();
    for cut in 0..cut_at {
        let r = parse_all(&data[..cut], "bb", 3);
        assert!(
            matches!(r, Err(ParseError::Malformed(_))),
            "cut at {cut}: {r:?}"
        );
    }
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for data in [
        &b""[..],
        b"--bb",
        b"--bbX",
        b"--bb\r\nno end of headers",
        b"\r\n\r\n\r\n--bb--",
    ] {
        let _ = parse_all(data, "bb", 1);
    }
    assert!(parse_all(b"--bb--", "bb", 1).unwrap().is_empty());
    let long = format!("--bb\r\nX: {}\r\n\r\n", "y".repeat(MAX_HEADERS * 2));
    assert!(matches!(
        parse_all(long.as_bytes(), "bb", 4096),
        Err(ParseError::Malformed(_))
    ));
}

/// Pseudo-random numbers below `n` (xorshift), the same on every run.
fn numbers(seed: u64) -> impl FnMut(u64) -> usize {
    let mut x = seed;
    move |n| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n) as usize
    }
}

/// Where Go's reader sees the first delimiter of `hay`.
fn first_delimiter(hay: &[u8], boundary: &str) -> Option<usize> {
    let d = format!("\r\n--{boundary}");
    (0..hay.len()).find(|&i| {
        hay[i..].starts_with(d.as_bytes())
            && matches!(
                &hay[i + d.len()..],
                [b' ' | b'\t' | b'\r' | b'\n', ..] | [b'-', b'-', ..]
            )
    })
}

#[test]
fn random_parts_made_of_framing_bytes_round_trip() {
    let mut next = numbers(0x2545_F491_4F6C_DD1D);
    let alphabet = b"\r\n-bq x";
    let mut checked = 0;
    for _ in 0..2000 {
        let contents: Vec<Vec<u8>> = (0..next(4))
            .map(|_| {
                (0..next(30))
                    .map(|_| alphabet[next(alphabet.len() as u64)])
                    .collect()
            })
            .collect();
        let clean = contents.iter().all(|c| {
            let mut hay = c.clone();
            hay.extend_from_slice(b"\r\n--bq\r\n");
            first_delimiter(&hay, "bq") == Some(c.len())
        });
        if !clean {
            continue;
        }
        let parts: Vec<(&str, &[u8])> = contents
            .iter()
            .map(|c| ("form-data; name=\"file\"", &c[..]))
            .collect();
        let data = body("bq", &parts);
        let step = 1 + next(7);
        let got = parse_all(&data, "bq", step).unwrap();
        let got: Vec<Vec<u8>> = got.into_iter().map(|(_, b)| b).collect();
        assert_eq!(got, contents, "step {step}");
        checked += 1;
    }
    assert!(checked > 500, "{checked}");
}

#[test]
fn random_input_is_never_a_panic() {
    let mut next = numbers(88_172_645_463_325_252);
    let alphabet = b"\r\n-bq x:;=\"";
    for _ in 0..2000 {
        let data: Vec<u8> = (0..next(120))
            .map(|_| alphabet[next(alphabet.len() as u64)])
            .collect();
        let _ = parse_all(&data, "bq", 1 + next(9));
        let text = String::from_utf8_lossy(&data).into_owned();
        let _ = PartHeaders::parse(&data);
        let _ = boundary_of(&format!("multipart/x; {text}"));
    }
}

#[test]
fn the_finder_agrees_with_a_naive_search() {
    let finder = Finder::new(b"\r\n--ab".to_vec());
    let mut next = numbers(12345);
    let mut hay: Vec<u8> = (0..20_000).map(|_| b"\r\n-ab"[next(5)]).collect();
    for k in 0..60 {
        let at = (k * 331 + 7) % (hay.len() - 6);
        hay[at..at + 6].copy_from_slice(b"\r\n--ab");
    }
    let naive = |h: &[u8]| h.windows(6).position(|w| w == b"\r\n--ab");
    let mut from = 0;
    let mut found = 0;
    while from < hay.len() {
        for end in [hay.len(), (from + 37).min(hay.len())] {
            assert_eq!(finder.find(&hay[from..end]), naive(&hay[from..end]));
        }
        match naive(&hay[from..]) {
            Some(i) => {
                found += 1;
                from += i + 1;
            }
            None => break,
        }
    }
    assert!(found >= 60, "the test data has matches");
    assert_eq!(finder.find(b"\r\n--a"), None);
    assert_eq!(finder.partial_suffix(b"xx\r\n--a"), 5);
    assert_eq!(finder.partial_suffix(b"xx\r"), 1);
    assert_eq!(
        finder.partial_suffix(b"\r\n--ab"),
        0,
        "a whole match is not partial"
    );
    assert_eq!(finder.partial_suffix(b"x\r\nx"), 0);
    assert_eq!(finder.partial_suffix(b""), 0);
    assert_eq!(finder.find(b""), None);
}

#[test]
fn headers_and_boundaries() {
    let h = PartHeaders::parse(
        b"content-disposition: form-data; name=file; filename=\"C:\\dir\\f\"\r\nContent-Length: 42",
    );
    assert_eq!(h.name.as_deref(), Some("file"));
    assert_eq!(h.content_length, Some(42));
    // A server that does not escape backslashes still matches.
    assert!(h.filename_is("C:\\dir\\f"));
    assert_eq!(
        boundary_of("multipart/form-data; boundary=DAYTONA-FILE-BOUNDARY").as_deref(),
        Some("DAYTONA-FILE-BOUNDARY")
    );
    assert_eq!(
        boundary_of("Multipart/Mixed; charset=x; boundary=\"a b\"").as_deref(),
        Some("a b")
    );
    assert_eq!(boundary_of("application/json"), None);
    assert_eq!(boundary_of("multipart/form-data"), None);
    assert_eq!(boundary_of("multipart/form-data; boundary="), None);
}

#[test]
fn encoding_quotes_file_names() {
    let head = String::from_utf8(upload_head("BB", 3, "/a\"b\\c\r\nd")).unwrap();
    assert!(head.starts_with("--BB\r\nContent-Disposition: form-data; name=\"files[3].path\"\r\n\r\n/a\"b\\c\r\nd\r\n--BB\r\n"));
    assert!(head.contains(r#"name="files[3].file"; filename="/a\"b\\c%0D%0Ad""#));
    assert!(head.ends_with("Content-Type: application/octet-stream\r\n\r\n"));
    let (x, y) = (new_boundary(), new_boundary());
    assert_ne!(x, y);
    assert!(x.len() >= 40 && x.len() <= 70, "{x}");
}

#[test]
fn the_extended_file_name_wins_over_the_latin_1_one() {
    // As the toolbox names `/d/日 é.txt`: `filename` cut to Latin-1.
    let h = PartHeaders::parse(
        b"Content-Disposition: form-data; name=\"file\"; filename=\"/d/_ \xe9.txt\"; \
          filename*=utf-8''%2Fd%2F%E6%97%A5%20%C3%A9.txt",
    );
    assert!(h.filename_is("/d/日 é.txt"));
    assert!(!h.filename_is("/d/_ \u{fffd}.txt"));
    let latin =
        PartHeaders::parse(b"content-disposition: form-data; filename*=ISO-8859-1'fr'caf%E9");
    assert!(latin.filename_is("café"));
    // An extended name that does not decode leaves the plain one.
    for bad in ["utf-8''%FF", "koi8-r''x", "no-quotes"] {
        let v = format!("Content-Disposition: form-data; filename=\"a\"; filename*={bad}");
        assert!(PartHeaders::parse(v.as_bytes()).filename_is("a"), "{bad}");
    }
}

#[test]
fn the_header_limit_holds_however_the_bytes_arrive() {
    let long = format!(
        "form-data; name=\"file\"; x=\"{}\"",
        "h".repeat(MAX_HEADERS)
    );
    let data = body("B", &[(&long, b"data")]);
    for step in [7, 1000, data.len()] {
        match parse_all(&data, "B", step) {
            Err(ParseError::Malformed(m)) => assert!(m.contains("too long"), "{m}"),
            other => panic!("step {step}: {other:?}"),
        }
    }
    let fits = format!(
        "form-data; name=\"file\"; x=\"{}\"",
        "h".repeat(MAX_HEADERS - 100)
    );
    let data = body("B", &[(&fits, b"data")]);
    assert_eq!(parse_all(&data, "B", data.len()).unwrap()[0].1, b"data");
}
