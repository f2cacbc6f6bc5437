//! Screen recordings of the simulated desktop: files in the sandbox's
//! directory, streamed back in chunks.

use std::io::Read;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use super::super::super::server::{Body, Request, Response};
use super::super::super::{error, new_id, rfc3339};
use super::super::{body_json, Sandbox};
use super::{text, Desktop};

/// Where recordings are written in the sandbox.
const RECORDINGS_DIR: &str = "/home/daytona/.daytona/recordings";

/// A recording.
pub(super) struct Rec {
    id: String,
    file_name: String,
    file_path: String,
    start_time: String,
    started: Instant,
    /// End time and duration, once stopped.
    stopped: Option<(String, Duration)>,
    size: Option<u64>,
}

impl Rec {
    fn json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "fileName": self.file_name,
            "filePath": self.file_path,
            "startTime": self.start_time,
            "status": if self.stopped.is_some() { "completed" } else { "recording" },
        });
        if let Some((end, duration)) = &self.stopped {
            v["endTime"] = json!(end);
            v["durationSeconds"] = json!(duration.as_secs_f64());
        }
        if let Some(size) = self.size {
            v["sizeBytes"] = json!(size);
        }
        v
    }
}

/// A recording label the toolbox takes.
fn label_ok(label: &str) -> bool {
    let trimmed = label.trim();
    !trimmed.is_empty()
        && label.len() <= 100
        && !trimmed.starts_with('.')
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c.is_ascii_whitespace() || "._-".contains(c))
}

/// The bytes of a simulated recording: a recognizable head, then a
/// pattern (192 KiB in all, so that downloads come in several chunks).
fn video(id: &str) -> Vec<u8> {
    let mut data = format!("local simulator recording {id}\n").into_bytes();
    let mut i = 0u32;
    while data.len() < 192 * 1024 {
        data.push((i.wrapping_mul(31) % 251) as u8);
        i += 1;
    }
    data
}

/// `/recordings/...` (`rest` follows `recordings`).
pub(super) fn recordings(
    sb: &Sandbox<'_>,
    desk: &mut Desktop,
    req: &Request,
    rest: &[&str],
) -> Response {
    let list = &mut desk.recordings;
    let find = |list: &[Rec], id: &str| list.iter().position(|r| r.id == id);
    let not_found = || error(404, "recording not found");
    match (req.method.as_str(), rest) {
        ("POST", ["start"]) => {
            let body = if req.body.is_empty() {
                json!({})
            } else {
                match body_json(req) {
                    Ok(b) => b,
                    Err(r) => return r,
                }
            };
            let label = body["label"].as_str();
            if label.is_some_and(|l| !label_ok(l)) {
                return error(
                    400,
                    "invalid label: must be 1-100 characters, cannot start with a dot, and can \
                     only contain letters, numbers, spaces, dots, underscores, and hyphens",
                );
            }
            let id = new_id();
            let now = SystemTime::now();
            let stamp: String = rfc3339(now).chars().filter(char::is_ascii_digit).collect();
            let file_name = format!(
                "{}_{}_{}.mp4",
                label.unwrap_or("recording").trim().replace(' ', "_"),
                &stamp[..14.min(stamp.len())],
                &id[..8]
            );
            let rec = Rec {
                file_path: format!("{RECORDINGS_DIR}/{file_name}"),
                file_name,
                id,
                start_time: rfc3339(now),
                started: Instant::now(),
                stopped: None,
                size: None,
            };
            let answer = rec.json();
            list.push(rec);
            Response::json(201, &answer)
        }
        ("POST", ["stop"]) => {
            let body = match body_json(req) {
                Ok(b) => b,
                Err(r) => return r,
            };
            let id = text(&body, "id");
            if id.is_empty() {
                return error(400, "id is required");
            }
            let Some(i) = find(list, id) else {
                return not_found();
            };
            let rec = &mut list[i];
            if rec.stopped.is_some() {
                return error(400, "recording is not active");
            }
            let data = video(&rec.id);
            let written = sb.resolve(&rec.file_path).and_then(|path| {
                let dir = path.parent().map(std::path::Path::to_path_buf);
                dir.map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| std::fs::write(&path, &data))
                    .map_err(|e| error(500, &format!("cannot write the recording: {e}")))
            });
            if let Err(r) = written {
                return r;
            }
            rec.stopped = Some((rfc3339(SystemTime::now()), rec.started.elapsed()));
            rec.size = Some(data.len() as u64);
            Response::json(200, &rec.json())
        }
        ("GET", []) => {
            let all: Vec<Value> = list.iter().map(Rec::json).collect();
            Response::json(200, &json!({ "recordings": all }))
        }
        ("GET", [id]) => match find(list, id) {
            Some(i) => Response::json(200, &list[i].json()),
            None => not_found(),
        },
        ("DELETE", [id]) => {
            let Some(i) = find(list, id) else {
                return not_found();
            };
            if list[i].stopped.is_none() {
                return error(400, "cannot delete an active recording: stop it first");
            }
            let rec = list.remove(i);
            if let Ok(path) = sb.resolve(&rec.file_path) {
                let _ = std::fs::remove_file(path);
            }
            Response::empty(204)
        }
        ("GET", [id, "download"]) => {
            let file = find(list, id)
                .filter(|&i| list[i].stopped.is_some())
                .and_then(|i| sb.resolve(&list[i].file_path).ok())
                .and_then(|path| std::fs::File::open(path).ok());
            let Some(mut file) = file else {
                return error(404, "recording file not found (is it stopped?)");
            };
            let chunks = std::iter::from_fn(move || {
                let mut buf = vec![0; 32 * 1024];
                match file.read(&mut buf) {
                    Ok(0) | Err(_) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some(buf)
                    }
                }
            });
            Response {
                status: 200,
                headers: vec![(
                    "Content-Type".to_string(),
                    "application/octet-stream".to_string(),
                )],
                body: Body::Stream(Box::new(chunks)),
            }
        }
        _ => error(501, "not simulated by the local simulator"),
    }
}
