//! Image build logs: each line written when its time comes, streamed
//! (chunked) while the build goes on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{not_found, ok, state_of, with_sandbox, with_world, Shared};
use crate::testing::server::{Body, Response};

/// A build log: lines spread evenly over `[start, end]`.
#[derive(Clone)]
pub(crate) struct BuildLog {
    lines: Vec<String>,
    start: Instant,
    end: Instant,
}

pub(super) fn build_log(dockerfile: &str, start: Instant, duration: Duration) -> BuildLog {
    let steps: Vec<&str> = dockerfile
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let mut lines = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        lines.push(format!("Step {}/{} : {}", i + 1, steps.len(), step.trim()));
        lines.push(" ---> simulated (nothing was built)".to_string());
    }
    lines.push("Successfully built in the local simulator".to_string());
    BuildLog {
        lines,
        start,
        end: start + duration,
    }
}

/// `GET /sandbox/{id}/build-logs-url`.
pub(super) fn url(shared: &Shared, id: &str) -> Response {
    let base = shared.base_url();
    with_sandbox(shared, id, |_, sb| {
        let id = sb.info["id"].as_str().unwrap_or("").to_string();
        ok(&json!({ "url": format!("{base}/api/sandbox/{id}/build-logs") }))
    })
}

/// `GET /sandbox/{id}/build-logs`: streamed until the build is over.
pub(super) fn follow(shared: &Arc<Shared>, id: &str) -> Response {
    let log = with_world(shared, |w| {
        w.sandbox(id).map(|i| w.sandboxes[i].build.clone())
    });
    let (state, key) = (shared.clone(), id.to_string());
    let building = move || {
        with_world(&state, |w| {
            w.sandbox(&key).is_some_and(|i| {
                matches!(
                    state_of(&w.sandboxes[i].info),
                    "pending_build" | "building_snapshot"
                )
            })
        })
    };
    match log {
        None => not_found("sandbox", id),
        Some(log) => stream_log(log, building),
    }
}

/// A chunked stream of the log's lines, each sent when it is due; the
/// stream ends with the build, or as soon as `building` says the build is
/// no longer going on (it failed, the sandbox is gone).
pub(super) fn stream_log(
    log: Option<BuildLog>,
    building: impl Fn() -> bool + Send + 'static,
) -> Response {
    let Some(log) = log else {
        return Response::new(200, "text/plain", Vec::new());
    };
    let n = log.lines.len().max(1) as u32;
    let span = log.end.saturating_duration_since(log.start);
    let lines = log
        .lines
        .into_iter()
        .enumerate()
        .map_while(move |(i, line)| {
            let due = log.start + span * (i as u32 + 1) / n;
            loop {
                let wait = due.saturating_duration_since(Instant::now());
                if wait.is_zero() {
                    break;
                }
                std::thread::sleep(wait.min(Duration::from_millis(20)));
                let now = Instant::now();
                if now >= log.start && now < log.end && !building() {
                    return None;
                }
            }
            Some(format!("{line}\n").into_bytes())
        });
    let mut r = Response::new(200, "text/plain; charset=utf-8", Vec::new());
    r.body = Body::Stream(Box::new(lines));
    r
}
