mod common;

use common::*;
use daytona::toolbox::{CloneOptions, CommitOptions, FileState, GitCredentials};
use mockito::{Matcher, Server};
use serde_json::json;

fn setup() -> (mockito::ServerGuard, daytona::Daytona, daytona::Sandbox) {
    let mut server = Server::new();
    let daytona = client(&server);
    let sandbox = toolbox_sandbox(&mut server, &daytona);
    (server, daytona, sandbox)
}

fn post(server: &mut mockito::ServerGuard, path: &str, body: serde_json::Value) -> mockito::Mock {
    with_sdk_headers(server.mock("POST", format!("{TOOLBOX}{path}").as_str()))
        .match_header("content-type", "application/json")
        .match_body(Matcher::Json(body))
        .with_status(200)
        .expect(1)
}

#[test]
fn clone_sends_snake_case_keys_and_every_option() {
    let (mut server, _d, sandbox) = setup();
    let m = post(
        &mut server,
        "/git/clone",
        json!({
            "url": "https://example.com/r.git",
            "path": "work/r",
            "branch": "dev",
            "commit_id": "abc123",
            "username": "ada",
            "password": "s3cret",
            "insecure_skip_tls": true
        }),
    )
    .create();
    sandbox
        .git()
        .clone_repo(
            "https://example.com/r.git",
            "work/r",
            CloneOptions::new()
                .branch("dev")
                .commit_id("abc123")
                .credentials(GitCredentials::new("ada", "s3cret"))
                .insecure_skip_tls(true),
        )
        .unwrap();
    m.assert();
}

#[test]
fn clone_without_options_sends_only_url_and_path() {
    let (mut server, _d, sandbox) = setup();
    let m = post(
        &mut server,
        "/git/clone",
        json!({"url": "https://example.com/r.git", "path": "r"}),
    )
    .create();
    sandbox
        .git()
        .clone_repo("https://example.com/r.git", "r", CloneOptions::new())
        .unwrap();
    m.assert();
}

#[test]
fn status_decodes_files_and_unknown_states() {
    let (mut server, _d, sandbox) = setup();
    let m = with_sdk_headers(server.mock("GET", format!("{TOOLBOX}/git/status").as_str()))
        .match_query(Matcher::UrlEncoded("path".into(), "my repo".into()))
        .with_status(200)
        .with_body(
            json!({
                "currentBranch": "main",
                "ahead": 2,
                "behind": 0,
                "branchPublished": true,
                "fileStatus": [
                    {"name": "a.txt", "staging": "Added", "worktree": "Unmodified", "extra": ""},
                    {"name": "b.txt", "staging": "Unmodified", "worktree": "Updated but unmerged", "extra": ""},
                    {"name": "c.txt", "staging": "Ignored", "worktree": "Modified", "extra": "x"}
                ]
            })
            .to_string(),
        )
        .expect(1)
        .create();
    let status = sandbox.git().status("my repo").unwrap();
    m.assert();
    assert_eq!(status.current_branch, "main");
    assert_eq!(status.ahead, Some(2));
    assert_eq!(status.branch_published, Some(true));
    assert_eq!(status.file_status.len(), 3);
    assert_eq!(status.file_status[0].staging, FileState::Added);
    assert_eq!(
        status.file_status[1].worktree,
        FileState::UpdatedButUnmerged
    );
    assert_eq!(
        status.file_status[2].staging,
        FileState::Other("Ignored".into())
    );
}

#[test]
fn add_commit_push_pull() {
    let (mut server, _d, sandbox) = setup();
    let add = post(
        &mut server,
        "/git/add",
        json!({"path": "r", "files": ["a.txt", "b/"]}),
    )
    .create();
    let commit = post(
        &mut server,
        "/git/commit",
        json!({"path": "r", "message": "msg", "author": "Ada", "email": "ada@example.com", "allow_empty": true}),
    )
    .with_body(r#"{"hash":"deadbeef"}"#)
    .create();
    let push = post(
        &mut server,
        "/git/push",
        json!({"path": "r", "username": "ada", "password": "tok"}),
    )
    .create();
    let pull = post(&mut server, "/git/pull", json!({"path": "r"})).create();
    let git = sandbox.git();
    git.add("r", &["a.txt", "b/"]).unwrap();
    let plain = post(
        &mut server,
        "/git/commit",
        json!({"path": "r", "message": "plain", "author": "Ada", "email": "ada@example.com", "allow_empty": false}),
    )
    .with_body(r#"{"hash":"cafe"}"#)
    .create();
    assert_eq!(
        git.commit("r", "plain", "Ada", "ada@example.com").unwrap(),
        "cafe"
    );
    plain.assert();
    let sha = git
        .commit_with(
            "r",
            "msg",
            "Ada",
            "ada@example.com",
            CommitOptions::new().allow_empty(true),
        )
        .unwrap();
    assert_eq!(sha, "deadbeef");
    git.push("r", Some(&GitCredentials::new("ada", "tok")))
        .unwrap();
    git.pull("r", None).unwrap();
    add.assert();
    commit.assert();
    push.assert();
    pull.assert();
}

#[test]
fn branches_create_delete_checkout() {
    let (mut server, _d, sandbox) = setup();
    let list = with_sdk_headers(server.mock("GET", format!("{TOOLBOX}/git/branches").as_str()))
        .match_query(Matcher::UrlEncoded("path".into(), "r".into()))
        .with_body(r#"{"branches":["main","dev"]}"#)
        .expect(1)
        .create();
    let create = post(
        &mut server,
        "/git/branches",
        json!({"path": "r", "name": "feat"}),
    )
    .with_status(201)
    .create();
    let delete =
        with_sdk_headers(server.mock("DELETE", format!("{TOOLBOX}/git/branches").as_str()))
            .match_header("content-type", "application/json")
            .match_body(Matcher::Json(json!({"path": "r", "name": "old"})))
            .with_status(204)
            .expect(1)
            .create();
    let checkout = post(
        &mut server,
        "/git/checkout",
        json!({"path": "r", "branch": "feat"}),
    )
    .create();
    let git = sandbox.git();
    assert_eq!(git.branches("r").unwrap(), vec!["main", "dev"]);
    git.create_branch("r", "feat").unwrap();
    git.delete_branch("r", "old").unwrap();
    git.checkout_branch("r", "feat").unwrap();
    list.assert();
    create.assert();
    delete.assert();
    checkout.assert();
}

#[test]
fn history_decodes_commits() {
    let (mut server, _d, sandbox) = setup();
    let m = with_sdk_headers(server.mock("GET", format!("{TOOLBOX}/git/history").as_str()))
        .match_query(Matcher::UrlEncoded("path".into(), "r".into()))
        .with_body(
            json!([{"hash": "h1", "author": "Ada", "email": "a@x", "message": "m", "timestamp": "2026-01-01T00:00:00Z"}])
                .to_string(),
        )
        .expect(1)
        .create();
    let history = sandbox.git().history("r").unwrap();
    m.assert();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].hash, "h1");
}

#[test]
fn bad_arguments_are_rejected_before_any_request() {
    let (mut server, _d, sandbox) = setup();
    let any = server.mock("POST", Matcher::Any).expect(0).create();
    let any_get = server.mock("GET", Matcher::Any).expect(0).create();
    let git = sandbox.git();
    let field = |e: daytona::Error| match e {
        daytona::Error::Validation { field, .. } => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(git.clone_repo("", "p", CloneOptions::new()).unwrap_err()),
        "url"
    );
    assert_eq!(
        field(git.clone_repo("u", " ", CloneOptions::new()).unwrap_err()),
        "path"
    );
    // An empty branch or commit would be sent as one, not as "the default".
    assert_eq!(
        field(
            git.clone_repo("u", "p", CloneOptions::new().branch(""))
                .unwrap_err()
        ),
        "branch"
    );
    assert_eq!(
        field(
            git.clone_repo("u", "p", CloneOptions::new().commit_id(" "))
                .unwrap_err()
        ),
        "commit_id"
    );
    assert_eq!(field(git.add("r", &[]).unwrap_err()), "files");
    assert_eq!(field(git.commit("r", "", "a", "e").unwrap_err()), "message");
    assert_eq!(field(git.commit("r", "m", "a", "").unwrap_err()), "email");
    assert_eq!(field(git.create_branch("r", "").unwrap_err()), "name");
    assert_eq!(field(git.checkout_branch("r", "").unwrap_err()), "branch");
    assert_eq!(field(git.status("").unwrap_err()), "path");
    any.assert();
    any_get.assert();
}

#[test]
fn credentials_debug_hides_the_password() {
    let c = GitCredentials::new("ada", "hunter2");
    let s = format!("{c:?}");
    assert!(s.contains("ada") && !s.contains("hunter2"), "{s}");
}

#[test]
fn a_failed_push_keeps_the_server_message_and_status() {
    let (mut server, _d, sandbox) = setup();
    let m = server
        .mock("POST", format!("{TOOLBOX}/git/push").as_str())
        .with_status(401)
        .with_body(
            r#"{"statusCode":401,"message":"authentication required","code":"UNAUTHORIZED"}"#,
        )
        .expect(1)
        .create();
    let err = sandbox.git().push("r", None).unwrap_err();
    m.assert();
    assert!(err.is_unauthorized());
    let api = err.api().unwrap();
    assert_eq!(api.message, "authentication required");
    assert_eq!(api.code.as_deref(), Some("UNAUTHORIZED"));
    assert_eq!(api.operation, "POST /toolbox/sb-1/git/push");
}

/// Clones `url` from a toolbox that answers `status` with the JSON that
/// `answer` makes of the request's body; the error.
fn failed_clone(url: &str, status: usize, answer: fn(&str) -> serde_json::Value) -> daytona::Error {
    let (mut server, _d, sandbox) = setup();
    let m = with_sdk_headers(server.mock("POST", format!("{TOOLBOX}/git/clone").as_str()))
        .match_body(Matcher::Json(json!({"url": url, "path": "r"})))
        .with_status(status)
        .with_body_from_request(move |req| {
            let body = String::from_utf8_lossy(req.body().unwrap_or(&Vec::new())).into_owned();
            answer(&body).to_string().into_bytes()
        })
        .expect(1)
        .create();
    let err = sandbox
        .git()
        .clone_repo(url, "r", CloneOptions::new())
        .unwrap_err();
    m.assert();
    err
}

/// A token given as the URL's user name (`https://<token>@host/...`, as
/// GitHub and GitLab take it) is a credential: an answer that echoes the
/// request does not bring it into the error.
#[test]
fn a_token_as_the_url_user_name_stays_out_of_errors() {
    const TOKEN: &str = "ghp_0123456789abcdefTOKEN";
    let url = format!("https://{TOKEN}@git.example/o/r.git");
    let err = failed_clone(
        &url,
        400,
        |body| json!({"statusCode": 400, "message": format!("cannot clone {body}")}),
    );
    let shown = format!("{err}\n{err:?}");
    assert!(shown.contains("cannot clone"), "{shown}");
    assert!(!shown.contains(TOKEN), "the error shows the token: {shown}");
    assert_eq!(err.api().map(|a| a.status), Some(400), "{err:?}");
}

/// A password whose `/` was left unencoded breaks the URL, and the
/// toolbox's error quotes the URL whole: the password still stays out.
#[test]
fn a_password_that_breaks_the_url_stays_out_of_errors() {
    let url = "https://oauth2:abc/def-0123456789SECRET@gitlab.example/o/r.git";
    broken_url_error_hides(url, "def-0123456789SECRET");
    // One that starts with digits parses, as a port and a path.
    let url = "https://oauth2:12/34-SECRET9876@gitlab.example/o/r.git";
    assert!(url::Url::parse(url).is_ok_and(|u| u.password().is_none()));
    broken_url_error_hides(url, "34-SECRET9876");
}

/// A clone of `url` failing with an error that quotes it does not show
/// `secret`.
fn broken_url_error_hides(url: &str, secret: &str) {
    let err = failed_clone(url, 500, |body| {
        let url: serde_json::Value = serde_json::from_str(body).unwrap();
        json!({
            "statusCode": 500,
            "message": format!("parse {}: invalid port \":abc\" after host", url["url"]),
            "code": "INTERNAL_SERVER_ERROR",
        })
    });
    let shown = format!("{err}\n{err:?}");
    assert!(shown.contains("invalid port"), "{shown}");
    assert!(
        !shown.contains(secret),
        "the error shows the password: {shown}"
    );
}
