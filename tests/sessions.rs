//! Sessions: create, get, list, delete, commands, logs and input.

mod common;
mod fault_server;
mod process_support;

use std::time::Duration;

use common::*;
use daytona::toolbox::{SessionCommandLogs, SessionExecOptions};
use process_support::*;
use serde_json::json;

fn path(rest: &str) -> String {
    format!("{TOOLBOX}/process/session{rest}")
}

#[test]
fn create_get_list_and_delete_a_session() {
    let (mut server, sandbox) = toolbox();
    let create = expect_json_body(
        api_mock(&mut server, "POST", &path("")),
        json!({"sessionId": "build"}),
    )
    .with_status(201)
    .expect(1)
    .create();
    let get = reply_json(
        expect_no_body(api_mock(&mut server, "GET", &path("/build"))),
        200,
        &json!({"sessionId": "build", "commands": [
            {"id": "c1", "command": "make", "exitCode": 0},
            {"id": "c2", "command": "make test"}
        ]}),
    )
    .expect(1)
    .create();
    let list = reply_json(
        api_mock(&mut server, "GET", &path("")),
        200,
        &json!([{"sessionId": "build", "commands": null}, {"sessionId": "other"}, 42]),
    )
    .expect(1)
    .create();
    let delete = expect_no_body(api_mock(&mut server, "DELETE", &path("/build")))
        .with_status(204)
        .expect(1)
        .create();

    let p = sandbox.process();
    p.create_session("build").unwrap();
    let session = p.get_session("build").unwrap();
    assert_eq!(session.session_id, "build");
    assert_eq!(session.commands.len(), 2);
    assert_eq!(session.commands[0].exit_code, Some(0));
    assert_eq!(session.commands[1].command, "make test");
    assert_eq!(session.commands[1].exit_code, None);
    let sessions = p.list_sessions().unwrap();
    let ids: Vec<_> = sessions.iter().map(|s| s.session_id.as_str()).collect();
    assert_eq!(ids, ["build", "other"]);
    assert!(sessions[0].commands.is_empty());
    p.delete_session("build").unwrap();
    for m in [create, get, list, delete] {
        m.assert();
    }
}

#[test]
fn the_entrypoint_session_and_its_logs() {
    let (mut server, sandbox) = toolbox();
    let session = reply_json(
        api_mock(&mut server, "GET", &path("/entrypoint")),
        200,
        &json!({"sessionId": "entrypoint", "commands": [{"id": "e", "command": "sleep infinity"}]}),
    )
    .expect(1)
    .create();
    let logs = reply_json(
        api_mock(&mut server, "GET", &path("/entrypoint/logs")),
        200,
        &json!({"stdout": "ready\n", "stderr": "warn\n"}),
    )
    .expect(1)
    .create();
    let p = sandbox.process();
    let s = p.get_entrypoint_session().unwrap();
    assert_eq!(s.commands[0].command, "sleep infinity");
    let l = p.get_entrypoint_logs().unwrap();
    assert_eq!(
        (l.stdout.as_str(), l.stderr.as_str()),
        ("ready\n", "warn\n")
    );
    assert_eq!(l.output, None);
    session.assert();
    logs.assert();
}

#[test]
fn execute_a_session_command_and_wait_for_it() {
    let (mut server, sandbox) = toolbox();
    let m = reply_json(
        expect_json_body(
            api_mock(&mut server, "POST", &path("/build/exec")),
            json!({"command": "ls -la"}),
        ),
        200,
        &json!({"cmdId": "c1", "exitCode": 0, "output": "out\nerr\n", "stdout": "out\n", "stderr": "err\n"}),
    )
    .expect(1)
    .create();
    let run = sandbox
        .process()
        .execute_session_command("build", "ls -la", SessionExecOptions::new())
        .unwrap();
    assert_eq!(run.cmd_id, "c1");
    assert_eq!(run.exit_code, Some(0));
    assert_eq!(
        (run.stdout.as_str(), run.stderr.as_str()),
        ("out\n", "err\n")
    );
    assert_eq!(run.output.as_deref(), Some("out\nerr\n"));
    m.assert();
}

#[test]
fn execute_a_session_command_in_the_background() {
    let (mut server, sandbox) = toolbox();
    let m = reply_json(
        expect_json_body(
            api_mock(&mut server, "POST", &path("/build/exec")),
            json!({"command": "make test", "runAsync": true, "async": true, "suppressInputEcho": true}),
        ),
        202,
        &json!({"cmdId": "c2", "stdout": null}),
    )
    .expect(1)
    .create();
    let run = sandbox
        .process()
        .execute_session_command(
            "build",
            "make test",
            SessionExecOptions::new()
                .run_async(true)
                .suppress_input_echo(true),
        )
        .unwrap();
    assert_eq!(run.cmd_id, "c2");
    assert_eq!(run.exit_code, None);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    m.assert();
}

#[test]
fn a_session_command_its_logs_and_its_input() {
    let (mut server, sandbox) = toolbox();
    let command = reply_json(
        api_mock(&mut server, "GET", &path("/build/command/c1")),
        200,
        &json!({"id": "c1", "command": "read x", "exitCode": 3}),
    )
    .expect(1)
    .create();
    let logs = reply_json(
        api_mock(&mut server, "GET", &path("/build/command/c1/logs")),
        200,
        &json!({"output": "a\nb\n", "stdout": "a\n", "stderr": "b\n"}),
    )
    .expect(1)
    .create();
    let input = expect_json_body(
        api_mock(&mut server, "POST", &path("/build/command/c1/input")),
        json!({"data": "yes\n"}),
    )
    .with_status(204)
    .expect(1)
    .create();
    let p = sandbox.process();
    let c = p.get_session_command("build", "c1").unwrap();
    assert_eq!(
        (c.id.as_str(), c.command.as_str(), c.exit_code),
        ("c1", "read x", Some(3))
    );
    assert_eq!(
        p.get_session_command_logs("build", "c1").unwrap(),
        serde_json::from_value::<SessionCommandLogs>(
            json!({"output": "a\nb\n", "stdout": "a\n", "stderr": "b\n"})
        )
        .unwrap()
    );
    p.send_session_command_input("build", "c1", "yes\n")
        .unwrap();
    for m in [command, logs, input] {
        m.assert();
    }
}

#[test]
fn input_quoted_back_by_the_server_stays_out_of_the_error() {
    let (mut server, sandbox) = toolbox();
    let password = "hunter2-Pa$$word \"quoted\"\n";
    let echoed = json!({"message": format!("cannot write {password:?} to c1; body {}", json!({"data": password}))});
    let m = reply_json(
        expect_json_body(
            api_mock(&mut server, "POST", &path("/build/command/c1/input")),
            json!({"data": password}),
        ),
        400,
        &echoed,
    )
    .expect(1)
    .create();
    let err = sandbox
        .process()
        .send_session_command_input("build", "c1", password)
        .unwrap_err();
    m.assert();
    assert_eq!(err.status(), Some(400));
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn plain_text_logs_of_older_toolboxes_fill_the_output() {
    let (mut server, sandbox) = toolbox();
    let m = api_mock(&mut server, "GET", &path("/s/command/c/logs"))
        .with_header("content-type", "text/plain")
        .with_body("line 1\nline 2\n")
        .expect(1)
        .create();
    let logs = sandbox
        .process()
        .get_session_command_logs("s", "c")
        .unwrap();
    assert_eq!(logs.output.as_deref(), Some("line 1\nline 2\n"));
    assert_eq!((logs.stdout.as_str(), logs.stderr.as_str()), ("", ""));
    m.assert();
}

/// Plain text is the command's output even when it reads as JSON (a
/// command that printed one object, or `null`): it is not taken for the
/// JSON answer of newer toolboxes.
#[test]
fn plain_text_logs_that_look_like_json_stay_the_output() {
    let (mut server, sandbox) = toolbox();
    for (i, text) in [r#"{"status":"ok"}"#, "null", r#"{"stdout":"x"}"#]
        .into_iter()
        .enumerate()
    {
        let m = api_mock(&mut server, "GET", &path(&format!("/s/command/c{i}/logs")))
            .with_header("content-type", "text/plain; charset=utf-8")
            .with_body(text)
            .expect(1)
            .create();
        let logs = sandbox
            .process()
            .get_session_command_logs("s", &format!("c{i}"))
            .unwrap();
        m.assert();
        assert_eq!(logs.output.as_deref(), Some(text), "{logs:?}");
        assert_eq!((logs.stdout.as_str(), logs.stderr.as_str()), ("", ""));
    }
}

#[test]
fn ids_are_one_path_segment_each() {
    let (mut server, sandbox) = toolbox();
    let m = reply_json(
        api_mock(&mut server, "GET", &path("/a%2Fb/command/..%3F")),
        200,
        &json!({"id": "..?", "command": "x"}),
    )
    .expect(1)
    .create();
    sandbox.process().get_session_command("a/b", "..?").unwrap();
    m.assert();
}

#[test]
fn a_missing_session_is_not_found() {
    let (mut server, sandbox) = toolbox();
    let _m = reply_json(
        api_mock(&mut server, "GET", &path("/gone")),
        404,
        &json!({"statusCode": 404, "message": "session not found", "code": "NOT_FOUND"}),
    )
    .create();
    let err = sandbox.process().get_session("gone").unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(err.to_string().contains("session not found"), "{err}");
}

#[test]
fn empty_ids_and_commands_fail_before_any_request() {
    let (mut server, sandbox) = toolbox();
    let none = no_requests(&mut server);
    let p = sandbox.process();
    let opts = SessionExecOptions::new;
    assert_invalid(vec![
        (p.create_session("").unwrap_err(), "session_id"),
        (p.get_session(" ").unwrap_err(), "session_id"),
        (p.delete_session("").unwrap_err(), "session_id"),
        (
            p.execute_session_command("", "ls", opts()).unwrap_err(),
            "session_id",
        ),
        (
            p.execute_session_command("s", "", opts()).unwrap_err(),
            "command",
        ),
        (
            p.execute_session_command("s", "ls", opts().timeout(Duration::ZERO))
                .unwrap_err(),
            "timeout",
        ),
        (p.get_session_command("s", "").unwrap_err(), "command_id"),
        (
            p.get_session_command_logs("", "c").unwrap_err(),
            "session_id",
        ),
        (
            p.send_session_command_input("s", "", "x").unwrap_err(),
            "command_id",
        ),
    ]);
    assert_all(&none);
}

#[test]
fn a_session_command_with_a_timeout_waits_for_it_plus_the_margin() {
    let mut api = mockito::Server::new();
    let daytona = client_with_margin(&api, Duration::from_millis(200));
    let silent = silent_server();
    let sandbox = sandbox_at(&mut api, &daytona, &toolbox_url(&silent), json!({}));
    let options = SessionExecOptions::new().timeout(Duration::from_secs(1));
    assert_times_out(
        Duration::from_millis(1200),
        Duration::from_millis(2700),
        || {
            sandbox
                .process()
                .execute_session_command("s", "sleep 600", options)
        },
    );
}
