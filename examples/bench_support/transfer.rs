//! The measured transfers: the children's uploads and downloads (SDK and
//! raw ureq) and the rows that compare them.

use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Instant;

use daytona::toolbox::{TransferOptions, Upload};

use super::{client, run_child, Res, Server, CHUNK, MIB, REMOTE, SANDBOX, UPLOAD_SANDBOX};

/// `size` bytes that do not compress to nothing, written 1 MiB at a time.
pub fn write_source(path: &Path, size: u64) -> Res<()> {
    let mut block = vec![0u8; MIB as usize];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for b in block.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let mut file = std::fs::File::create(path)?;
    let mut left = size;
    while left > 0 {
        let n = left.min(MIB);
        file.write_all(&block[..n as usize])?;
        block[0] = block[0].wrapping_add(1);
        left -= n;
    }
    Ok(())
}

/// The phases of [`transfer`] that upload.
pub const UPLOAD_PHASES: [&str; 4] = [
    "sdk-upload",
    "sdk-upload-chunked",
    "raw-upload",
    "raw-upload-chunked",
];

/// One measured transfer in a child: `phase` is `sdk-upload` (a file:
/// the SDK knows its size), `sdk-upload-chunked` (the same file as a
/// reader of unknown length), `raw-upload` (the same multipart bytes with
/// a `Content-Length`), `raw-upload-chunked` (the same without),
/// `sdk-download` or `raw-download`; `dir` holds `source.bin`, and
/// downloads go to `<phase>.bin` there. Uploads go to the [`Receiver`],
/// downloads come from the [`Server`]. Returns the bytes moved and the
/// seconds it took.
pub fn transfer(phase: &str, port: u16, dir: &Path, size: u64) -> Res<(u64, f64)> {
    let base = format!("http://127.0.0.1:{port}");
    let source = dir.join("source.bin");
    let target = dir.join(format!("{phase}.bin"));
    let started;
    let bytes = match phase {
        "sdk-upload" | "sdk-upload-chunked" => {
            let daytona = client(port)?;
            let sandbox = daytona.get(UPLOAD_SANDBOX)?;
            let fs = sandbox.fs();
            started = Instant::now();
            if phase == "sdk-upload" {
                fs.upload_file(&source, REMOTE)?;
            } else {
                let file = std::fs::File::open(&source)?;
                fs.upload_files([Upload::reader(file, REMOTE)], TransferOptions::new())?;
            }
            std::fs::metadata(&source)?.len()
        }
        "sdk-download" => {
            let daytona = client(port)?;
            let sandbox = daytona.get(SANDBOX)?;
            started = Instant::now();
            sandbox.fs().download_file(REMOTE, &target)?
        }
        "raw-upload" | "raw-upload-chunked" => {
            let agent = raw_agent();
            let daytona = client(port)?;
            // The receiver's URL, as the SDK finds it (not timed).
            let toolbox = daytona
                .get(UPLOAD_SANDBOX)?
                .info()
                .toolbox_proxy_url
                .clone();
            let url = format!(
                "{}/{UPLOAD_SANDBOX}/files/bulk-upload",
                toolbox.trim_end_matches('/')
            );
            started = Instant::now();
            let file = std::fs::File::open(&source)?;
            let size = file.metadata()?.len();
            let (head, tail) = raw_multipart(RAW_BOUNDARY, REMOTE);
            let length = head.len() as u64 + size + tail.len() as u64;
            let mut body = io::Cursor::new(head)
                .chain(file)
                .chain(io::Cursor::new(tail));
            let mut req = agent.post(url).header(
                "Content-Type",
                format!("multipart/form-data; boundary={RAW_BOUNDARY}"),
            );
            if phase == "raw-upload" {
                req = req.header("Content-Length", length.to_string());
            }
            let resp = req.send(ureq::SendBody::from_reader(&mut body))?;
            if !resp.status().is_success() {
                return Err(format!("raw upload: {}", resp.status()).into());
            }
            // Read the answer, as the SDK does.
            resp.into_body().read_to_vec()?;
            size
        }
        "raw-download" => {
            let agent = raw_agent();
            let url = format!("{base}/toolbox/{SANDBOX}/files");
            started = Instant::now();
            let resp = agent
                .post(format!("{url}/bulk-download"))
                .header("Content-Type", "application/json")
                .send(format!(r#"{{"paths":["{REMOTE}"]}}"#).as_bytes())?;
            let mut reader = resp.into_body().into_reader();
            let mut file = std::fs::File::create(&target)?;
            let mut buf = vec![0u8; CHUNK];
            let mut total = 0u64;
            loop {
                let n = reader.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                file.write_all(&buf[..n])?;
                total += n as u64;
            }
            // The raw copy keeps the multipart framing: count the file only.
            total.min(size)
        }
        other => return Err(format!("unknown transfer {other:?}").into()),
    };
    Ok((bytes, started.elapsed().as_secs_f64()))
}

/// The boundary of the raw uploads: as long as the SDK's.
const RAW_BOUNDARY: &str = "daytona-0123456789abcdef0123456789abcdef";

/// A plain ureq agent, as an application would make one.
fn raw_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// What a bulk upload of one file sends before and after the file's
/// bytes: its path field and the head of its file field, then the end of
/// the body (the layout of the toolbox's API, written by hand).
fn raw_multipart(boundary: &str, remote: &str) -> (Vec<u8>, Vec<u8>) {
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"files[0].path\"\r\n\r\n\
         {remote}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"files[0].file\"; \
         filename=\"{remote}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    (head.into_bytes(), tail.into_bytes())
}

/// One measured transfer, as a child reports it.
#[derive(Clone, Copy, Debug)]
pub struct Measure {
    pub bytes: u64,
    pub seconds: f64,
    pub peak_rss_kib: u64,
    /// How the upload's body was framed (`length`, `chunked`); `-` for
    /// downloads.
    pub framing: &'static str,
}

impl Measure {
    pub fn mib_per_s(&self) -> f64 {
        self.bytes as f64 / MIB as f64 / self.seconds
    }
}

/// The rows of [`transfer_rows`]: a name, the SDK's phase, raw ureq's.
const ROWS: [(&str, &str, &str); 3] = [
    ("upload", "sdk-upload", "raw-upload"),
    (
        "upload, chunked",
        "sdk-upload-chunked",
        "raw-upload-chunked",
    ),
    ("download", "sdk-download", "raw-download"),
];

/// Uploads (a file, and a reader of unknown length) and a download of
/// `size` bytes, through the SDK and through raw ureq, each in a child
/// (`child_args` + `--phase <phase>`), `repeat` times, SDK and raw in turn
/// (alternating which goes first); the best time and the highest peak RSS
/// count. Every upload must reach the receiver whole, through multer.
/// Returns, per row, the SDK's and raw ureq's measures.
pub fn transfer_rows(
    server: &Server,
    dir: &Path,
    size: u64,
    repeat: u32,
    child_args: &[String],
) -> Res<Vec<(&'static str, Measure, Measure)>> {
    server.set_transfer_size(size);
    let mut rows = Vec::new();
    for (name, sdk_phase, raw_phase) in ROWS {
        let mut best: [Option<Measure>; 2] = [None, None];
        for run in 0..repeat {
            // Alternate who goes first: the page cache and the disk's
            // write-back favour neither.
            let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
            for slot in order {
                let phase = [sdk_phase, raw_phase][slot];
                server.receiver.take();
                let mut args = child_args.to_vec();
                args.extend(["--phase".into(), phase.to_string()]);
                let fields = run_child(&args)?;
                let [bytes, seconds, rss] = fields[..] else {
                    return Err(format!("{phase}: bad result {fields:?}").into());
                };
                let mut m = Measure {
                    bytes: bytes as u64,
                    seconds,
                    peak_rss_kib: rss as u64,
                    framing: "-",
                };
                if UPLOAD_PHASES.contains(&phase) {
                    let got = server
                        .receiver
                        .take()
                        .ok_or_else(|| format!("{phase}: the receiver got nothing"))?;
                    if got.file_bytes != size || got.path != REMOTE || got.fields != 2 {
                        return Err(format!("{phase}: the receiver got {got:?}").into());
                    }
                    if got.content_length.is_some_and(|n| n != got.body_bytes) {
                        return Err(
                            format!("{phase}: Content-Length is not the body's: {got:?}").into(),
                        );
                    }
                    m.framing = got.framing();
                }
                if m.bytes != size {
                    return Err(format!("{phase}: moved {} bytes, not {size}", m.bytes).into());
                }
                let _ = std::fs::remove_file(dir.join(format!("{phase}.bin")));
                best[slot] = Some(match best[slot].take() {
                    None => m,
                    Some(b) => Measure {
                        seconds: b.seconds.min(m.seconds),
                        peak_rss_kib: b.peak_rss_kib.max(m.peak_rss_kib),
                        ..b
                    },
                });
            }
        }
        let [Some(sdk), Some(raw)] = best else {
            return Err("no measurement".into());
        };
        rows.push((name, sdk, raw));
    }
    Ok(rows)
}
