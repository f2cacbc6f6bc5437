//! Helpers of the process, session and follow-logs tests: a sandbox whose
//! toolbox is any local server, and a server that never answers.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use daytona::{Daytona, DaytonaConfig, Error, Sandbox};
use serde_json::{json, Value};

use crate::common::{client, config, fast_poll, sandbox_json, toolbox_sandbox};
use crate::fault_server::{refused_url, Action, FaultServer};

/// A mock server and sandbox `sb-1` whose toolbox it serves.
pub fn toolbox() -> (mockito::ServerGuard, Sandbox) {
    let mut server = mockito::Server::new();
    let daytona = client(&server);
    let sandbox = toolbox_sandbox(&mut server, &daytona);
    (server, sandbox)
}

/// [`toolbox`] for a sandbox with these labels.
pub fn toolbox_with_labels(labels: Value) -> (mockito::ServerGuard, Sandbox) {
    let mut server = mockito::Server::new();
    let daytona = client(&server);
    let url = format!("{}/toolbox", server.url());
    let sandbox = sandbox_at(&mut server, &daytona, &url, labels);
    (server, sandbox)
}

/// Each error is a validation error naming its field.
pub fn assert_invalid(cases: Vec<(Error, &str)>) {
    for (err, field) in cases {
        match err {
            Error::Validation { field: f, .. } => assert_eq!(f, field),
            other => panic!("expected a validation error of `{field}`, got {other:?}"),
        }
    }
}

/// Runs `f`, which must time out, within `min..max`.
pub fn assert_times_out<T: std::fmt::Debug>(
    min: Duration,
    max: Duration,
    f: impl FnOnce() -> Result<T, Error>,
) -> Error {
    let started = Instant::now();
    let err = f().unwrap_err();
    let took = started.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    assert!(took >= min && took < max, "took {took:?}");
    err
}

/// A client for `api` whose command timeout margin is `margin`.
pub fn client_with_margin(api: &mockito::Server, margin: Duration) -> Daytona {
    Daytona::new(
        config(api)
            .poll_schedule(fast_poll())
            .command_timeout_margin(margin),
    )
    .expect("client")
}

/// A client for `api` built from `config`.
pub fn client_from(config: DaytonaConfig) -> Daytona {
    Daytona::new(config.poll_schedule(fast_poll())).expect("client")
}

/// Sandbox `sb-1`, fetched from `api`, with its toolbox at `toolbox_url`
/// and the given labels.
pub fn sandbox_at(
    api: &mut mockito::Server,
    daytona: &Daytona,
    toolbox_url: &str,
    labels: Value,
) -> Sandbox {
    let mut body = sandbox_json("sb-1", "started");
    body["toolboxProxyUrl"] = json!(toolbox_url);
    body["labels"] = labels;
    let m = api
        .mock("GET", "/api/sandbox/sb-1")
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body(body.to_string())
        .expect(1)
        .create();
    let sandbox = daytona.get("sb-1").expect("sandbox");
    m.assert();
    m.remove();
    sandbox
}

/// A toolbox that reads each request and never answers (until dropped);
/// its base URL is [`toolbox_url`].
pub fn silent_server() -> FaultServer {
    FaultServer::start(|_| Action::Silent)
}

/// The toolbox base URL of `server`: `http://127.0.0.1:port/toolbox`.
pub fn toolbox_url(server: &FaultServer) -> String {
    format!("{}/toolbox", server.url)
}

/// A toolbox base URL where nothing listens.
pub fn closed_port() -> String {
    format!("{}/toolbox", refused_url())
}

/// A client of `config` (tweaked by `tweak`) for a fresh API mock, and
/// sandbox `sb-1` whose toolbox is `toolbox_url`.
pub fn sandbox_with(
    toolbox_url: &str,
    tweak: impl FnOnce(DaytonaConfig) -> DaytonaConfig,
) -> (mockito::ServerGuard, Sandbox) {
    let mut api = mockito::Server::new();
    let daytona = client_from(tweak(config(&api)));
    let sandbox = sandbox_at(&mut api, &daytona, toolbox_url, json!({}));
    (api, sandbox)
}

/// [`sandbox_with`] the default configuration.
pub fn sandbox_for(toolbox_url: &str) -> (mockito::ServerGuard, Sandbox) {
    sandbox_with(toolbox_url, |c| c)
}
