//! No `Debug` output and no error shows a secret: not `Debug` of the
//! client, its configuration and its handles (the API key, the JWT), nor
//! of the types holding tokens, environment values or passwords; and no
//! error of any kind, made against a server that echoes the credential
//! wherever it can (messages, codes, HTML pages, JSON that does not
//! decode, WebSocket close reasons), nor the crate's log records of that
//! traffic.

mod common;
mod fault_server;
mod secrets_support;

use std::time::Duration;

use common::*;
use daytona::{CreateSandbox, Daytona, DaytonaConfig, Error};
use fault_server::{refused_url, Action, FaultServer};
use mockito::Server;
use secrets_support::*;
use serde_json::json;

#[test]
fn debug_of_the_client_its_config_and_handles_hides_the_credentials() {
    let server = Server::new();
    for config in [key_config(&server.url()), jwt_config(&server.url())] {
        let shown = format!("{config:?}");
        assert!(!shown.contains(API_KEY) && !shown.contains(JWT), "{shown}");
        let daytona = Daytona::new(config).unwrap();
        let shown = format!(
            "{daytona:?} {:?} {:?}",
            daytona.snapshots(),
            daytona.volumes()
        );
        assert!(!shown.contains(API_KEY) && !shown.contains(JWT), "{shown}");
        assert!(!shown.contains(&API_KEY[..12]) && !shown.contains(&JWT[..12]));
    }
}

/// `Debug` of every type holding a secret other than the credentials (SSH
/// and preview tokens, environment values, git passwords) hides it; the
/// value stays reachable through the field or accessor.
#[test]
fn debug_hides_tokens_environment_values_and_passwords() {
    use daytona::models::{PortPreviewUrl, SignedPortPreviewUrl, SshAccess};
    use daytona::toolbox::{CodeRunOptions, ExecOptions, GitCredentials};
    use daytona::SandboxInfo;
    const TOKEN: &str = "tok-9f8e7d6c5b4a";
    const VALUE: &str = "env-value-s3cr3t";
    capture_logs();
    let shows = |shown: String| {
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(!shown.contains(VALUE), "{shown}");
        assert!(!shown.contains(&TOKEN[..10]), "{shown}");
        shown
    };
    let ssh: SshAccess = serde_json::from_value(json!({
        "id": "a1", "sandboxId": "sb-1", "token": TOKEN,
        "expiresAt": "2026-12-07T00:00:00Z", "createdAt": "2026-12-07T00:00:00Z",
        "updatedAt": "2026-12-07T00:00:00Z", "sshCommand": format!("ssh {TOKEN}@ssh.example")
    }))
    .unwrap();
    let shown = shows(format!("{ssh:?}"));
    assert!(
        shown.contains("ssh <redacted>@ssh.example") && shown.contains("a1"),
        "{shown}"
    );
    assert_eq!(ssh.token, TOKEN);
    let preview: PortPreviewUrl = serde_json::from_value(json!({
        "sandboxId": "sb-1", "url": "https://3000-sb-1.proxy.example", "token": TOKEN
    }))
    .unwrap();
    let shown = shows(format!("{preview:?}"));
    assert!(shown.contains("https://3000-sb-1.proxy.example"), "{shown}");
    assert_eq!(preview.token, TOKEN);
    let signed: SignedPortPreviewUrl = serde_json::from_value(json!({
        "sandboxId": "sb-1", "port": 3000, "token": TOKEN,
        "url": format!("https://3000-{TOKEN}.proxy.example")
    }))
    .unwrap();
    let shown = shows(format!("{signed:?}"));
    assert!(
        shown.contains("https://3000-<redacted>.proxy.example"),
        "{shown}"
    );
    assert_eq!(signed.token, TOKEN);

    let mut body = sandbox_json("sb-1", "started");
    body["env"] = json!({ "API_TOKEN": VALUE, "MODE": "prod" });
    let info: SandboxInfo = serde_json::from_value(body.clone()).unwrap();
    let shown = shows(format!("{info:?}"));
    assert!(shown.contains("\"API_TOKEN\": \"<redacted>\""), "{shown}");
    assert!(shown.contains("\"MODE\": \"<redacted>\""), "{shown}");
    assert!(shown.contains("id: \"sb-1\""), "{shown}");
    assert_eq!(info.env["API_TOKEN"], VALUE);
    let mut server = Server::new();
    let _get = server
        .mock("GET", "/api/sandbox/sb-1")
        .with_body(body.to_string())
        .create();
    let sandbox = Daytona::new(key_config(&server.url()))
        .unwrap()
        .get("sb-1")
        .unwrap();
    shows(format!("{sandbox:?}"));
    assert_eq!(sandbox.info().env["API_TOKEN"], VALUE);

    let shown = shows(format!(
        "{:?}",
        CreateSandbox::new().env("API_TOKEN", VALUE).name("n")
    ));
    assert!(
        shown.contains("API_TOKEN") && shown.contains("\"n\""),
        "{shown}"
    );
    let shown = shows(format!(
        "{:?}",
        ExecOptions::new().env("API_TOKEN", VALUE).cwd("/w")
    ));
    assert!(
        shown.contains("API_TOKEN") && shown.contains("/w"),
        "{shown}"
    );
    let shown = shows(format!(
        "{:?}",
        CodeRunOptions::new().env("API_TOKEN", VALUE).arg("x")
    ));
    assert!(shown.contains("API_TOKEN"), "{shown}");
    shows(format!("{:?}", GitCredentials::new("me", VALUE)));
    assert_logs_hide(&[API_KEY, VALUE]);
}

/// A package index's token stays out of `Debug` of the options and of the
/// image, and of the error quoting its URL; the Dockerfile keeps it.
#[cfg(feature = "images")]
#[test]
fn debug_hides_package_index_tokens() {
    const TOKEN: &str = "tok-9f8e7d6c5b4a";
    let shows = |shown: String| {
        assert!(!shown.contains(&TOKEN[..10]), "{shown}");
        shown
    };
    let index = format!("https://__token__:{TOKEN}@pkgs.example/simple");
    let options = daytona::PipInstallOptions::new()
        .index_url(&index)
        .extra_index_url(&index);
    let shown = shows(format!("{options:?}"));
    assert!(
        shown.contains("https://<redacted>@pkgs.example/simple"),
        "{shown}"
    );
    let image = daytona::Image::base("python:3.12")
        .pip_install_with(["numpy"], options)
        .unwrap();
    assert!(image.dockerfile().contains(TOKEN));
    let shown = shows(format!("{image:?}"));
    assert!(shown.contains("<redacted>@pkgs.example"), "{shown}");
    let broken = daytona::PipInstallOptions::new().index_url(format!("{index}\nRUN x"));
    let e = daytona::Image::base("python:3.12")
        .pip_install_with(["numpy"], broken)
        .unwrap_err();
    assert!(e.is_validation(), "{e:?}");
    shows(format!("{e}\n{e:?}"));
}

/// Every kind of error the SDK makes, in one credential mode, with a
/// server that echoes the credential wherever it can: messages, codes,
/// HTML pages, JSON that does not decode, per-file download errors,
/// WebSocket close reasons. Returns them for checking.
fn every_error(config: &dyn Fn(&str) -> DaytonaConfig, secret: &'static str) -> Vec<Error> {
    let echo = format!("Bearer {secret}");
    let mut server = Server::new();
    let mut errors = Vec::new();
    let daytona = Daytona::new(config(&server.url())).unwrap();

    // API errors: JSON with the credential in message and code, HTML page.
    let _a = server
        .mock("GET", "/api/sandbox/api")
        .with_status(401)
        .with_body(json!({ "message": format!("bad token {echo}"), "code": secret }).to_string())
        .create();
    let _h = server
        .mock("GET", "/api/sandbox/html")
        .with_status(502)
        .with_body(format!("<html><pre>Authorization: {echo}</pre></html>"))
        .create();
    // Decode errors: the credential in the excerpt, and in a value of the
    // wrong type.
    let _d = server
        .mock("GET", "/api/sandbox/decode")
        .with_body(format!("{{\"echo\": \"{echo}\", \"id\": "))
        .create();
    let _t = server
        .mock("GET", "/api/sandbox/typed")
        .with_body(json!({ "id": secret, "public": secret }).to_string())
        .create();
    for id in ["api", "html", "decode", "typed"] {
        errors.push(daytona.get(id).unwrap_err());
    }
    // Validation and configuration.
    errors.push(daytona.get("").unwrap_err());
    errors.push(Daytona::new(config("not a url")).unwrap_err());
    errors.push(Daytona::new(DaytonaConfig::new().read_env(false).jwt_token(secret)).unwrap_err());
    errors.push(
        Daytona::new(
            DaytonaConfig::new()
                .read_env(false)
                .api_key(format!("{secret}\n")),
        )
        .unwrap_err(),
    );
    // Transport: refused.
    errors.push(
        Daytona::new(config(&refused_url()).max_attempts(1))
            .unwrap()
            .get("x")
            .unwrap_err(),
    );
    // Sandbox failed, with the credential in its reason; and a create that
    // fails after the server accepted it.
    let mut failed = sandbox_json("sb-f", "error");
    failed["errorReason"] = json!(format!("could not pull with {echo}"));
    let _f = server
        .mock("GET", "/api/sandbox/sb-f")
        .with_body(failed.to_string())
        .create();
    let _c = server
        .mock("POST", "/api/sandbox")
        .with_body(sandbox_json("sb-f", "creating").to_string())
        .create();
    let mut sb = daytona.get("sb-f").unwrap();
    errors.push(sb.wait_until_started(Duration::from_secs(5)).unwrap_err());
    errors.push(daytona.create(CreateSandbox::new()).unwrap_err());
    // Timeout.
    let silent = FaultServer::start(|_| Action::Silent);
    errors.push(
        Daytona::new(
            config(&silent.url)
                .request_timeout(Duration::from_millis(100))
                .max_attempts(1),
        )
        .unwrap()
        .get("x")
        .unwrap_err(),
    );
    // Snapshot and volume failures with the credential in their reasons.
    let _s = server
        .mock("POST", "/api/snapshots")
        .with_body(
            json!({ "id": "s", "name": "s", "state": "error", "errorReason": echo }).to_string(),
        )
        .create();
    errors.push(
        daytona
            .snapshots()
            .create(daytona::CreateSnapshot::from_image("s", "python:3.12"))
            .unwrap_err(),
    );
    let _v = server
        .mock("GET", "/api/volumes/by-name/v")
        .with_body(
            json!({ "id": "v", "name": "v", "organizationId": "o", "state": "error",
                    "errorReason": echo })
            .to_string(),
        )
        .create();
    errors.push(
        daytona
            .volumes()
            .wait_until_ready_with_timeout("v", Duration::from_secs(5))
            .unwrap_err(),
    );
    // Toolbox: an I/O error, an API error, a per-file download error.
    let mut tb = sandbox_json("sb-1", "started");
    tb["toolboxProxyUrl"] = json!(format!("{}/toolbox", server.url()));
    let _g = server
        .mock("GET", "/api/sandbox/sb-1")
        .with_body(tb.to_string())
        .create();
    let _x = server
        .mock("POST", "/toolbox/sb-1/process/execute")
        .with_status(500)
        .with_body(json!({ "error": format!("exec failed: {echo}") }).to_string())
        .create();
    let _dl = server
        .mock("POST", "/toolbox/sb-1/files/bulk-download")
        .with_header("content-type", "multipart/form-data; boundary=B")
        .with_body(format!(
            "--B\r\nContent-Disposition: form-data; name=\"error\"; filename=\"/f\"\r\n\
             Content-Type: application/json\r\n\r\n\
             {{\"message\": \"not found: {echo}\", \"statusCode\": 404}}\r\n--B--\r\n"
        ))
        .create();
    let sb = daytona.get("sb-1").unwrap();
    errors.push(sb.process().exec("true").unwrap_err());
    errors.push(
        sb.fs()
            .upload_file("/no/such/local/file", "/f")
            .unwrap_err(),
    );
    errors.push(sb.fs().download_bytes("/f").unwrap_err());
    errors.extend(websocket_errors(config, &echo));
    errors
}

/// A refused upgrade echoing the credential, and a close frame whose
/// reason echoes it.
#[cfg(feature = "websocket")]
fn websocket_errors(config: &dyn Fn(&str) -> DaytonaConfig, echo: &str) -> Vec<Error> {
    use daytona::toolbox::FollowOptions;
    let refused_body = json!({ "message": format!("no: {echo}") }).to_string();
    let reason = format!("bye {echo}");
    let ws = FaultServer::start(move |seen| {
        if seen.path().contains("/refused/") {
            return Action::body(403, "application/json", refused_body.clone());
        }
        Action::WebSocket(vec![fault_server::Ws::Close(4000, reason.clone())])
    });
    let (_api, sandbox) = sandbox_on(config, &ws);
    let p = sandbox.process();
    vec![
        p.follow_session_command_logs("refused", "c", FollowOptions::new(), |_| {})
            .unwrap_err(),
        p.follow_session_command_logs("s", "c", FollowOptions::new(), |_| {})
            .unwrap_err(),
    ]
}

#[cfg(not(feature = "websocket"))]
fn websocket_errors(_: &dyn Fn(&str) -> DaytonaConfig, _: &str) -> Vec<Error> {
    Vec::new()
}

fn check_every_error(config: &dyn Fn(&str) -> DaytonaConfig, secret: &'static str) {
    capture_logs();
    let errors = every_error(config, secret);
    let kinds: std::collections::BTreeSet<String> = errors
        .iter()
        .map(|e| {
            format!("{e:?}")
                .split([' ', '(', '{'])
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    for kind in [
        "Api",
        "Validation",
        "Config",
        "Timeout",
        "SandboxFailed",
        "SnapshotFailed",
        "VolumeFailed",
        "Transport",
        "Decode",
        "Io",
        "AfterCreate",
    ] {
        assert!(kinds.contains(kind), "no {kind} error made: {kinds:?}");
    }
    for e in &errors {
        assert_hides(e);
    }
    assert_logs_hide(&[secret, &secret[..16]]);
}

#[test]
fn no_error_of_any_kind_shows_the_api_key() {
    check_every_error(&key_config, API_KEY);
}

#[test]
fn no_error_of_any_kind_shows_the_jwt() {
    check_every_error(&jwt_config, JWT);
}
