//! Screen recordings: start, stop, list, get, delete against mockito, and
//! downloads to a file or a writer, streamed, against mockito and a raw
//! server that cuts the answer short.

mod common;
mod fault_server;
mod fs_support;
mod temp;

use std::io::Write;

use common::*;
use daytona::toolbox::RecordingStatus;
use fault_server::{head, Action, FaultServer};
use fs_support::*;
use mockito::{Server, ServerGuard};
use serde_json::{json, Value};
use temp::TempDir;

fn setup() -> (ServerGuard, daytona::Daytona, daytona::Sandbox) {
    let mut server = Server::new();
    let daytona = client(&server);
    let sandbox = toolbox_sandbox(&mut server, &daytona);
    (server, daytona, sandbox)
}

fn rec_path(rest: &str) -> String {
    format!("{TOOLBOX}/computeruse/recordings{rest}")
}

fn recording(id: &str, status: &str) -> Value {
    let mut v = json!({
        "id": id,
        "fileName": format!("demo_{id}.mp4"),
        "filePath": format!("/home/daytona/.daytona/recordings/demo_{id}.mp4"),
        "startTime": "2026-01-01T10:00:00Z",
        "status": status
    });
    if status == "completed" {
        v["endTime"] = json!("2026-01-01T10:00:12.5Z");
        v["durationSeconds"] = json!(12.5);
        v["sizeBytes"] = json!(123456);
    }
    v
}

#[test]
fn start_with_and_without_a_label() {
    let (mut server, _d, sandbox) = setup();
    let recordings = sandbox.computer_use().recording();
    let labeled = expect_json_body(
        reply_json(
            api_mock(&mut server, "POST", &rec_path("/start")),
            201,
            &recording("r1", "recording"),
        ),
        json!({"label": "login flow"}),
    )
    .expect(1)
    .create();
    let rec = recordings.start(Some("login flow")).unwrap();
    labeled.assert();
    assert_eq!(rec.id, "r1");
    assert_eq!(rec.status, RecordingStatus::Recording);
    assert_eq!(rec.end_time, None);
    assert_eq!(rec.duration, None);
    assert_eq!(rec.size_bytes, None);

    let plain = expect_json_body(
        reply_json(
            api_mock(&mut server, "POST", &rec_path("/start")),
            201,
            &recording("r2", "recording"),
        ),
        json!({}),
    )
    .expect(1)
    .create();
    assert_eq!(recordings.start(None).unwrap().id, "r2");
    plain.assert();
}

#[test]
fn stop_list_get_delete() {
    let (mut server, _d, sandbox) = setup();
    let recordings = sandbox.computer_use().recording();
    let stop = expect_json_body(
        reply_json(
            api_mock(&mut server, "POST", &rec_path("/stop")),
            200,
            &recording("r1", "completed"),
        ),
        json!({"id": "r1"}),
    )
    .expect(1)
    .create();
    let done = recordings.stop("r1").unwrap();
    stop.assert();
    assert_eq!(done.status, RecordingStatus::Completed);
    assert_eq!(
        done.duration,
        Some(std::time::Duration::from_millis(12_500))
    );
    assert_eq!(done.size_bytes, Some(123456));
    assert_eq!(done.end_time.as_deref(), Some("2026-01-01T10:00:12.5Z"));
    assert_eq!(done.file_name, "demo_r1.mp4");

    let list = expect_no_body(reply_json(
        api_mock(&mut server, "GET", &rec_path("")),
        200,
        &json!({"recordings": [recording("r1", "completed"), recording("r2", "failed"), recording("r3", "encoding")]}),
    ))
    .expect(1)
    .create();
    let all = recordings.list().unwrap();
    list.assert();
    let states: Vec<RecordingStatus> = all.iter().map(|r| r.status.clone()).collect();
    assert_eq!(
        states,
        [
            RecordingStatus::Completed,
            RecordingStatus::Failed,
            RecordingStatus::Other("encoding".into())
        ]
    );

    let get = reply_json(
        api_mock(&mut server, "GET", &rec_path("/r%2F1")),
        200,
        &recording("r/1", "recording"),
    )
    .expect(1)
    .create();
    assert_eq!(recordings.get("r/1").unwrap().id, "r/1");
    get.assert();

    let delete = api_mock(&mut server, "DELETE", &rec_path("/r1"))
        .with_status(204)
        .expect(1)
        .create();
    recordings.delete("r1").unwrap();
    delete.assert();

    let missing = api_mock(&mut server, "GET", &rec_path("/gone"))
        .with_status(404)
        .with_header("content-type", "application/json")
        .with_body(r#"{"error":"recording not found"}"#)
        .expect(1)
        .create();
    assert!(recordings.get("gone").unwrap_err().is_not_found());
    missing.assert();
}

/// Bytes that are not all the same, so that order and completeness show.
fn video(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn download_to_a_file_and_to_a_writer() {
    let (mut server, _d, sandbox) = setup();
    let recordings = sandbox.computer_use().recording();
    let data = video(300_000);
    let m = api_mock(&mut server, "GET", &rec_path("/r1/download"))
        .match_header("accept", "application/octet-stream")
        .with_status(200)
        .with_header("content-type", "application/octet-stream")
        .with_body(&data)
        .expect(2)
        .create();
    let dir = TempDir::new("recording");
    let target = dir.join("videos/demo.mp4");
    assert_eq!(
        recordings.download("r1", &target).unwrap(),
        data.len() as u64
    );
    assert_eq!(std::fs::read(&target).unwrap(), data);
    assert_eq!(dir_entries(&dir.join("videos")), ["demo.mp4"]);

    let mut written = Vec::new();
    assert_eq!(
        recordings.download_to("r1", &mut written).unwrap(),
        data.len() as u64
    );
    assert_eq!(written, data);
    m.assert();
}

#[test]
fn a_missing_recording_leaves_no_file() {
    let (mut server, _d, sandbox) = setup();
    let m = api_mock(&mut server, "GET", &rec_path("/nope/download"))
        .with_status(404)
        .with_header("content-type", "application/octet-stream")
        .with_body(r#"{"error":"recording not found"}"#)
        .expect(1)
        .create();
    let dir = TempDir::new("recording-missing");
    let target = dir.join("out.mp4");
    let err = sandbox
        .computer_use()
        .recording()
        .download("nope", &target)
        .unwrap_err();
    m.assert();
    assert!(err.is_not_found(), "{err}");
    assert!(dir_entries(&dir).is_empty(), "{:?}", dir_entries(&dir));
}

/// A raw toolbox that answers the download with `Content-Length: 1000`
/// and only `sent` bytes, then closes.
fn cut_short(sent: usize) -> (String, std::thread::JoinHandle<String>) {
    raw_server(move |conn| {
        write!(
            conn,
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n"
        )
        .unwrap();
        conn.write_all(&video(sent)).unwrap();
        conn.flush().unwrap();
        conn.seen.line.clone()
    })
}

#[test]
fn a_download_cut_short_fails_and_leaves_no_file() {
    let mut server = Server::new();
    let daytona = client(&server);
    let (url, thread) = cut_short(400);
    let sandbox = sandbox_at(&mut server, &daytona, &format!("{url}/toolbox"));
    let dir = TempDir::new("recording-cut");
    let target = dir.join("out.mp4");
    let err = sandbox
        .computer_use()
        .recording()
        .download("r1", &target)
        .unwrap_err();
    let line = thread.join().unwrap();
    assert_eq!(
        line,
        "GET /toolbox/sb-1/computeruse/recordings/r1/download HTTP/1.1"
    );
    assert!(
        matches!(
            err,
            daytona::Error::Transport { .. } | daytona::Error::Decode { .. }
        ),
        "{err:?}"
    );
    assert!(!target.exists());
    assert!(dir_entries(&dir).is_empty(), "{:?}", dir_entries(&dir));
}

/// A toolbox that cuts the first download short (`Content-Length: 1000`,
/// 400 bytes sent) and answers the next ones in full.
fn cut_then_whole() -> FaultServer {
    FaultServer::start(|seen| {
        let sent = if seen.nth == 0 { 400 } else { 1000 };
        let mut answer = head(
            200,
            "Content-Type: application/octet-stream\r\nContent-Length: 1000\r\nConnection: close\r\n",
        );
        answer.extend(video(sent));
        Action::Raw(answer)
    })
}

#[test]
fn a_writer_keeps_what_came_before_the_cut_and_is_not_sent_it_twice() {
    let mut server = Server::new();
    let daytona = client(&server);
    let toolbox = cut_then_whole();
    let sandbox = sandbox_at(&mut server, &daytona, &format!("{}/toolbox", toolbox.url));
    let mut written = Vec::new();
    let err = sandbox
        .computer_use()
        .recording()
        .download_to("r1", &mut written)
        .unwrap_err();
    assert!(
        matches!(
            err,
            daytona::Error::Transport { .. } | daytona::Error::Decode { .. }
        ),
        "{err:?}"
    );
    // Not sent again: a second answer would have followed the first 400
    // bytes into the writer.
    assert_eq!(toolbox.connections(), 1);
    assert_eq!(written, video(400));
}
