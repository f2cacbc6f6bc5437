//! A server that echoes what it was sent (a framework's "Cannot GET
//! /path?query" page, a proxy quoting the body, an answer that does not
//! decode) never brings a secret into an error or the crate's log: not an
//! SSH token, a git password, a preview token or an environment value;
//! and a key too short to identify anything is not searched for.

mod common;
mod fault_server;
mod secrets_support;

use common::*;
use daytona::{CreateSandbox, Daytona, DaytonaConfig, Error};
use mockito::{Matcher, Server};
use secrets_support::*;
use serde_json::json;

/// An answer that echoes what it was sent (a framework's "Cannot GET
/// /path?query" page, a proxy quoting the body) never brings an SSH token
/// or a git password into an error: each request hides its own.
#[test]
fn echoed_ssh_tokens_and_git_passwords_stay_hidden() {
    const SSH_TOKEN: &str = "ssh-token-0123456789abcdef";
    const PASSWORD: &str = "git-password-0123456789abcdef";
    const URL_TOKEN: &str = "url-token-0123456789abcdef";
    capture_logs();
    let mut server = Server::new();
    let daytona = client(&server);
    let mut sb = toolbox_sandbox(&mut server, &daytona);
    // Each answer quotes the request: its path and query, then its body.
    let echo = |req: &mockito::Request| {
        let body = String::from_utf8_lossy(req.body().unwrap_or(&Vec::new())).into_owned();
        json!({ "statusCode": 404, "message": format!("Cannot {} {}: {body}", req.method(), req.path_and_query()) })
            .to_string()
            .into_bytes()
    };
    let mocks = [
        ("GET", "/api/sandbox/ssh-access/validate"),
        ("DELETE", "/api/sandbox/sb-1/ssh-access"),
        ("POST", "/toolbox/sb-1/git/clone"),
        ("POST", "/toolbox/sb-1/git/pull"),
        ("POST", "/toolbox/sb-1/git/push"),
    ]
    .map(|(method, path)| {
        server
            .mock(method, path)
            .match_query(Matcher::Any)
            .with_status(404)
            .with_body_from_request(echo)
            .create()
    });
    let creds = daytona::toolbox::GitCredentials::new("me", PASSWORD);
    let url = format!("https://me:{URL_TOKEN}@git.example/r.git");
    let errors = [
        daytona.validate_ssh_access(SSH_TOKEN).unwrap_err(),
        sb.revoke_ssh_access(Some(SSH_TOKEN)).unwrap_err(),
        sb.git()
            .clone_repo(
                &url,
                "/w",
                daytona::toolbox::CloneOptions::new().credentials(creds.clone()),
            )
            .unwrap_err(),
        sb.git().pull("/w", Some(&creds)).unwrap_err(),
        sb.git().push("/w", Some(&creds)).unwrap_err(),
    ];
    for m in &mocks {
        m.assert();
    }
    for e in &errors {
        assert!(e.is_not_found(), "{e:?}");
        let shown = format!("{e}\n{e:?}");
        // The echo came back: only the secrets are gone from it.
        assert!(shown.contains("Cannot "), "{shown}");
        for secret in [SSH_TOKEN, PASSWORD, URL_TOKEN] {
            assert!(!shown.contains(secret), "the error shows {secret}: {shown}");
        }
    }
    let (logged, _) = assert_logs_hide(&[KEY, PASSWORD, URL_TOKEN]);
    // ureq's debug record of a request shows its URL, so the token that
    // `validate_ssh_access` sends in the query is there; the crate's own
    // records hide it.
    for line in logged.lines().filter(|l| l.starts_with("[daytona")) {
        assert!(!line.contains(SSH_TOKEN), "{line}");
    }
}

/// An answer that does not decode is quoted in the error with its keys but
/// not its values: a sandbox's environment, an SSH or a preview token never
/// reach the error.
#[test]
fn an_answer_that_does_not_decode_is_quoted_without_its_values() {
    const ENV_VALUE: &str = "env-value-0123456789abcdef";
    const SSH_TOKEN: &str = "ssh-token-0123456789abcdef";
    const PREVIEW_TOKEN: &str = "preview-token-0123456789abcdef";
    capture_logs();
    let mut server = Server::new();
    // In the spec's order, without `toolboxProxyUrl` (older servers).
    let sandbox = format!(
        r#"{{"id":"sb-1","organizationId":"org-1","name":"sb-1","user":"daytona","env":{{"DB_PASSWORD":"{ENV_VALUE}"}},"labels":{{}},"public":false,"target":"us","cpu":1,"gpu":0,"memory":1,"disk":3,"state":"started"}}"#
    );
    let get = with_sdk_headers(server.mock("GET", "/api/sandbox/sb-1"))
        .with_header("content-type", "application/json")
        .with_body(sandbox)
        .expect(1)
        .create();
    let daytona = client(&server);
    let mut errors = vec![daytona.get("sb-1").unwrap_err()];
    get.assert();
    get.remove();
    let _get = server
        .mock("GET", "/api/sandbox/sb-1")
        .with_body(sandbox_json("sb-1", "started").to_string())
        .create();
    let sb = daytona.get("sb-1").unwrap();
    // SshAccessDto without `sshCommand`, PortPreviewUrl without `url`.
    let ssh = with_sdk_headers(server.mock("POST", "/api/sandbox/sb-1/ssh-access"))
        .with_body(
            json!({"id": "a", "sandboxId": "sb-1", "token": SSH_TOKEN,
                   "expiresAt": "2026-01-01T01:00:00Z", "createdAt": "2026-01-01T00:00:00Z",
                   "updatedAt": "2026-01-01T00:00:00Z"})
            .to_string(),
        )
        .expect(1)
        .create();
    let preview = with_sdk_headers(server.mock("GET", "/api/sandbox/sb-1/ports/3000/preview-url"))
        .with_body(json!({"sandboxId": "sb-1", "token": PREVIEW_TOKEN}).to_string())
        .expect(1)
        .create();
    errors.push(sb.create_ssh_access(None).unwrap_err());
    errors.push(sb.preview_link(3000).unwrap_err());
    ssh.assert();
    preview.assert();
    for (e, missing) in errors.iter().zip(["toolboxProxyUrl", "sshCommand", "url"]) {
        let shown = format!("{e}\n{e:?}");
        assert!(matches!(e, Error::Decode { .. }), "{shown}");
        assert!(
            shown.contains(&format!("missing field `{missing}`")),
            "{shown}"
        );
        // The shape is still shown: the keys, as far as the excerpt goes.
        assert!(
            shown.contains(r#"\"sandboxId\""#) || shown.contains(r#"\"organizationId\""#),
            "{shown}"
        );
        for secret in [ENV_VALUE, SSH_TOKEN, PREVIEW_TOKEN] {
            assert!(!shown.contains(secret), "the error shows {secret}: {shown}");
        }
    }
    assert_logs_hide(&[KEY, ENV_VALUE, SSH_TOKEN, PREVIEW_TOKEN]);
}

/// An answer that echoes what it was sent never brings the value of an
/// environment variable given to a sandbox, a command, a terminal or a run
/// of code into an error.
#[test]
fn echoed_environment_values_stay_hidden() {
    const VALUE: &str = "env-value-0123456789abcdef";
    capture_logs();
    let mut server = Server::new();
    let daytona = client(&server);
    let sb = toolbox_sandbox(&mut server, &daytona);
    let echo = |req: &mockito::Request| {
        let body = String::from_utf8_lossy(req.body().unwrap_or(&Vec::new())).into_owned();
        json!({ "statusCode": 400, "message": format!("Cannot {} {}: {body}", req.method(), req.path()) })
            .to_string()
            .into_bytes()
    };
    let mocks = [
        "/toolbox/sb-1/process/execute",
        "/toolbox/sb-1/process/code-run",
        "/toolbox/sb-1/process/pty",
    ]
    .map(|path| {
        server
            .mock("POST", path)
            .with_status(400)
            .with_body_from_request(echo)
            .create()
    });
    let create = server
        .mock("POST", "/api/sandbox")
        .with_status(400)
        .with_body_from_request(echo)
        .expect(1)
        .create();
    let p = sb.process();
    #[allow(unused_mut)]
    let mut errors = vec![
        daytona
            .create(CreateSandbox::new().env("TOKEN", VALUE))
            .unwrap_err(),
        p.exec_with(
            "env",
            daytona::toolbox::ExecOptions::new().env("TOKEN", VALUE),
        )
        .unwrap_err(),
        p.code_run_with(
            "import os",
            daytona::toolbox::CodeRunOptions::new().env("TOKEN", VALUE),
        )
        .unwrap_err(),
    ];
    #[cfg(feature = "websocket")]
    {
        use daytona::toolbox::{PtyOptions, RunCodeOptions};
        use fault_server::{Action, FaultServer};
        errors.push(
            p.create_pty(PtyOptions::new("t").env("TOKEN", VALUE))
                .unwrap_err(),
        );
        // The interpreter closes the run with a reason quoting its request.
        let reason = format!("bad request {{\"envs\":{{\"TOKEN\":\"{VALUE}\"}}}}");
        let ws = FaultServer::start(move |_| {
            Action::WebSocket(vec![fault_server::Ws::Close(4000, reason.clone())])
        });
        let (_api, sandbox) = sandbox_on(&key_config, &ws);
        errors.push(
            sandbox
                .code_interpreter()
                .run_code("print(1)", RunCodeOptions::new().env("TOKEN", VALUE))
                .unwrap_err(),
        );
    }
    create.assert();
    mocks[0].assert();
    mocks[1].assert();
    #[cfg(feature = "websocket")]
    mocks[2].assert();
    for e in &errors {
        let shown = format!("{e}\n{e:?}");
        // The echo came back: only the value is gone from it.
        assert!(shown.contains("TOKEN"), "{shown}");
        assert!(!shown.contains(VALUE), "the error shows the value: {shown}");
    }
    assert_logs_hide(&[KEY, API_KEY, VALUE]);
}

/// A key too short to identify (`api`) is not searched for in texts: the
/// error keeps `GET /api/sandbox/x` as it is.
#[test]
fn a_short_key_does_not_mangle_messages() {
    capture_logs();
    let mut server = Server::new();
    let _m = server
        .mock("GET", "/api/sandbox/x")
        .match_header("authorization", "Bearer api")
        .with_status(401)
        .with_body(r#"{"message":"invalid api key"}"#)
        .create();
    let daytona = Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key("api")
            .api_url(format!("{}/api", server.url()))
            .retry_policy(fast_retries()),
    )
    .unwrap();
    let e = daytona.get("x").unwrap_err();
    assert_eq!(
        e.to_string(),
        "GET /api/sandbox/x: HTTP 401: invalid api key"
    );
    // The key itself cannot be looked for in the records, its header can.
    assert_logs_hide(&["Bearer api"]);
}

/// A value with quotes, backslashes or line breaks (a JSON credential, a
/// PEM key; a git password) stays hidden when the echo quotes the
/// request's JSON body, where the value is escaped, and when the answer is not JSON, where an
/// error's excerpt shows its line breaks as spaces.
#[test]
fn echoed_environment_values_with_quotes_and_line_breaks_stay_hidden() {
    const VALUE: &str =
        "{\"private_key\": \"-----BEGIN KEY-----\\nMIIEv0123456789\\n\"}\n\tline-two-abcdef";
    capture_logs();
    let mut server = Server::new();
    let daytona = client(&server);
    let sb = toolbox_sandbox(&mut server, &daytona);
    // Each answer quotes the request's JSON body.
    let [execute, pull] = ["/toolbox/sb-1/process/execute", "/toolbox/sb-1/git/pull"].map(|path| {
        server
            .mock("POST", path)
            .with_status(400)
            .with_body_from_request(|req| {
                let body = String::from_utf8_lossy(req.body().unwrap()).into_owned();
                json!({ "statusCode": 400, "message": format!("bad request {body}") })
                    .to_string()
                    .into_bytes()
            })
            .expect(1)
            .create()
    });
    let create = server
        .mock("POST", "/api/sandbox")
        .with_status(400)
        .with_header("content-type", "text/plain")
        .with_body(format!("rejected env TOKEN={VALUE}"))
        .expect(1)
        .create();
    let errors = [
        sb.process()
            .exec_with(
                "env",
                daytona::toolbox::ExecOptions::new().env("TOKEN", VALUE),
            )
            .unwrap_err(),
        daytona
            .create(CreateSandbox::new().env("TOKEN", VALUE))
            .unwrap_err(),
        sb.git()
            .pull(
                "/w",
                Some(&daytona::toolbox::GitCredentials::new(
                    "me",
                    "pass\"word\\MIIEv0123456789",
                )),
            )
            .unwrap_err(),
    ];
    execute.assert();
    pull.assert();
    create.assert();
    for e in &errors {
        let shown = format!("{e}\n{e:?}");
        assert!(
            shown.contains("bad request") || shown.contains("rejected"),
            "{shown}"
        );
        for piece in ["MIIEv0123456789", "line-two-abcdef"] {
            assert!(!shown.contains(piece), "the error shows the value: {shown}");
        }
    }
    let (records, _) = assert_logs_hide(&[KEY, API_KEY]);
    for piece in ["MIIEv0123456789", "line-two-abcdef"] {
        assert!(!records.contains(piece), "{records}");
    }
}

/// A long message is cut (and ends with `…`) where the echo of a secret
/// may begin: the start of the secret left before the cut is hidden too.
#[test]
fn a_secret_cut_by_the_end_of_a_long_message_stays_hidden() {
    const VALUE: &str = "env-value-0123456789abcdef";
    let mut server = Server::new();
    let daytona = client(&server);
    let sb = toolbox_sandbox(&mut server, &daytona);
    // The error keeps 1,000 characters of the message: 12 of them are
    // the start of the value.
    let message = format!("{}{VALUE}", "x".repeat(1000 - 12));
    let execute = server
        .mock("POST", "/toolbox/sb-1/process/execute")
        .with_status(400)
        .with_header("content-type", "application/json")
        .with_body(json!({ "statusCode": 400, "message": message }).to_string())
        .expect(1)
        .create();
    let e = sb
        .process()
        .exec_with(
            "env",
            daytona::toolbox::ExecOptions::new().env("TOKEN", VALUE),
        )
        .unwrap_err();
    execute.assert();
    let shown = format!("{e}\n{e:?}");
    assert!(shown.contains("xxxx"), "{shown}");
    assert!(
        !shown.contains(&VALUE[..12]),
        "the error shows the value: {shown}"
    );
}

/// A redirect within the origin to a path that holds the request's path
/// token (a trailing slash added) is logged without the token.
#[test]
fn a_redirect_to_a_path_with_the_token_is_logged_without_it() {
    const TOKEN: &str = "moved-token-0123456789abcdef";
    capture_logs();
    let mut server = Server::new();
    let daytona = client(&server);
    let _get = reply_json(
        api_mock(&mut server, "GET", "/api/sandbox/sb-1"),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .create();
    let path = format!("/api/sandbox/sb-1/ports/3000/signed-preview-url/{TOKEN}/expire");
    let moved = api_mock(&mut server, "POST", &path)
        .with_status(308)
        .with_header("location", &format!("{path}/"))
        .expect(1)
        .create();
    let expired = api_mock(&mut server, "POST", &format!("{path}/"))
        .with_status(200)
        .expect(1)
        .create();
    let sb = daytona.get("sb-1").unwrap();
    sb.expire_signed_preview_url(3000, TOKEN).unwrap();
    moved.assert();
    expired.assert();
    let (logged, _) = assert_logs_hide(&[KEY, API_KEY]);
    let own: Vec<&str> = logged
        .lines()
        .filter(|l| l.starts_with("[daytona") && l.contains("signed-preview-url"))
        .collect();
    assert!(own.iter().any(|l| l.contains("redirected")), "{logged}");
    for line in own {
        assert!(!line.contains(TOKEN), "{line}");
    }
}
