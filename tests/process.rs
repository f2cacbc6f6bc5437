//! `exec` and `code_run`: requests, decoding and time limits.

mod common;
mod fault_server;
mod process_support;

use std::time::Duration;

use common::*;
use daytona::toolbox::{ChartKind, CodeRunOptions, ExecOptions};
use daytona::CodeLanguage;
use mockito::Matcher;
use process_support::*;
use serde_json::json;

fn execute_mock(server: &mut mockito::Server, body: serde_json::Value) -> mockito::Mock {
    let path = format!("{TOOLBOX}/process/execute");
    expect_json_body(api_mock(server, "POST", &path), body).expect(1)
}

#[test]
fn exec_sends_the_command_alone_and_decodes_the_result() {
    let (mut server, sandbox) = toolbox();
    let m = reply_json(
        execute_mock(&mut server, json!({"command": "echo hi"})),
        200,
        &json!({"exitCode": 0, "result": "hi\n"}),
    )
    .create();
    let out = sandbox.process().exec("echo hi").unwrap();
    assert_eq!((out.exit_code, out.result.as_str()), (0, "hi\n"));
    m.assert();
}

#[test]
fn exec_sends_cwd_env_and_timeout_in_whole_seconds() {
    let (mut server, sandbox) = toolbox();
    let m = reply_json(
        execute_mock(
            &mut server,
            json!({
                "command": "make",
                "cwd": "/home/daytona/app",
                "envs": {"A": "1", "B": "two words"},
                "timeout": 3
            }),
        ),
        200,
        &json!({"exitCode": 2, "result": "make: *** Error 2"}),
    )
    .create();
    let out = sandbox
        .process()
        .exec_with(
            "make",
            ExecOptions::new()
                .cwd("/home/daytona/app")
                .env("A", "1")
                .envs([("B", "two words")])
                .timeout(Duration::from_millis(2500)),
        )
        .unwrap();
    assert_eq!(out.exit_code, 2);
    assert_eq!(out.result, "make: *** Error 2");
    m.assert();
}

#[test]
fn exec_accepts_the_legacy_code_key_and_a_missing_exit_code() {
    let (mut server, sandbox) = toolbox();
    let legacy = reply_json(
        execute_mock(&mut server, json!({"command": "false"})),
        200,
        &json!({"code": 1, "result": ""}),
    )
    .create();
    assert_eq!(sandbox.process().exec("false").unwrap().exit_code, 1);
    legacy.assert();
    legacy.remove();
    let missing = reply_json(
        execute_mock(&mut server, json!({"command": "true"})),
        200,
        &json!({"result": "ok", "extra": {"new": "field"}}),
    )
    .create();
    let out = sandbox.process().exec("true").unwrap();
    assert_eq!((out.exit_code, out.result.as_str()), (-1, "ok"));
    missing.assert();
}

#[test]
fn a_command_that_cannot_start_is_exit_code_minus_one_with_the_reason() {
    // The toolbox answers a command it cannot start with two objects back
    // to back: the reason, then an empty result.
    let (mut server, sandbox) = toolbox();
    let m = execute_mock(&mut server, json!({"command": "no-such-tool --version"}))
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body(concat!(
            r#"{"exitCode":-1,"result":"exec: \"no-such-tool\": executable file not found in $PATH"}"#,
            r#"{"exitCode":-1,"result":""}"#
        ))
        .create();
    let out = sandbox.process().exec("no-such-tool --version").unwrap();
    m.assert();
    assert_eq!(out.exit_code, -1);
    assert_eq!(
        out.result,
        r#"exec: "no-such-tool": executable file not found in $PATH"#
    );
}

#[test]
fn a_run_answer_that_is_not_json_is_a_decode_error() {
    let (mut server, sandbox) = toolbox();
    for body in [
        "<html>bad gateway</html>",
        r#"{"exitCode":0,"result":"cut"#,
        "",
    ] {
        let m = execute_mock(&mut server, json!({"command": "ls"}))
            .with_status(200)
            .with_header("content-type", "application/json")
            .with_body(body)
            .create();
        let err = sandbox.process().exec("ls").unwrap_err();
        m.assert();
        m.remove();
        assert!(
            matches!(err, daytona::Error::Decode { .. }),
            "{body}: {err:?}"
        );
    }
}

#[test]
fn a_command_timeout_reported_by_the_server_is_an_api_error_sent_once() {
    let (mut server, sandbox) = toolbox();
    let m = reply_json(
        execute_mock(&mut server, json!({"command": "sleep 9", "timeout": 1})),
        408,
        &json!({"message": "Command execution timed out after 1 seconds", "code": "REQUEST_TIMEOUT"}),
    )
    .create();
    let err = sandbox
        .process()
        .exec_with(
            "sleep 9",
            ExecOptions::new().timeout(Duration::from_secs(1)),
        )
        .unwrap_err();
    assert_eq!(err.status(), Some(408), "{err}");
    assert!(
        err.to_string().contains("timed out after 1 seconds"),
        "{err}"
    );
    m.assert();
}

#[test]
fn bad_exec_arguments_fail_before_any_request() {
    let (mut server, sandbox) = toolbox();
    let none = no_requests(&mut server);
    let p = sandbox.process();
    assert_invalid(vec![
        (p.exec("  ").unwrap_err(), "command"),
        (
            p.exec_with("ls", ExecOptions::new().cwd("")).unwrap_err(),
            "cwd",
        ),
        (
            p.exec_with("ls", ExecOptions::new().timeout(Duration::ZERO))
                .unwrap_err(),
            "timeout",
        ),
        (p.code_run("").unwrap_err(), "code"),
    ]);
    // Variables no process environment can hold; the error shows no value.
    for (name, value) in [
        ("", "1"),
        ("A=B", "1"),
        ("A\0", "1"),
        ("TOKEN", "s3cr3t-token\0v"),
    ] {
        let exec = p.exec_with("env", ExecOptions::new().env(name, value));
        let run = p.code_run_with("1", CodeRunOptions::new().env(name, value));
        for err in [exec.unwrap_err(), run.unwrap_err()] {
            assert!(!err.to_string().contains("s3cr3t"), "{err}");
            assert_invalid(vec![(err, "env")]);
        }
    }
    assert_all(&none);
}

#[test]
fn an_exec_past_its_timeout_is_a_timeout_that_keeps_the_408() {
    let (mut server, sandbox) = toolbox();
    let m = reply_json(
        execute_mock(&mut server, json!({"command": "sleep 600", "timeout": 1})),
        408,
        &json!({"statusCode": 408, "message": "command timed out", "code": "REQUEST_TIMEOUT"}),
    )
    .create();
    let err = sandbox
        .process()
        .exec_with(
            "sleep 600",
            ExecOptions::new().timeout(Duration::from_secs(1)),
        )
        .unwrap_err();
    m.assert();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.status(), Some(408));
    assert_eq!(err.api().unwrap().message, "command timed out");
}

#[test]
fn the_http_timeout_of_a_command_is_its_timeout_plus_the_margin() {
    let mut api = mockito::Server::new();
    let daytona = client_with_margin(&api, Duration::from_millis(300));
    let silent = silent_server();
    let sandbox = sandbox_at(&mut api, &daytona, &toolbox_url(&silent), json!({}));
    let options = ExecOptions::new().timeout(Duration::from_secs(1));
    assert_times_out(
        Duration::from_millis(1300),
        Duration::from_millis(2800),
        || sandbox.process().exec_with("sleep 600", options),
    );
}

#[test]
fn a_command_without_timeout_has_the_client_request_timeout() {
    let mut api = mockito::Server::new();
    let daytona = client_from(
        config(&api)
            .request_timeout(Duration::from_millis(300))
            .command_timeout_margin(Duration::from_secs(30)),
    );
    let silent = silent_server();
    let sandbox = sandbox_at(&mut api, &daytona, &toolbox_url(&silent), json!({}));
    assert_times_out(
        Duration::from_millis(300),
        Duration::from_millis(1500),
        || sandbox.process().exec("sleep 600"),
    );
}

#[test]
fn code_run_uses_the_sandbox_language_and_decodes_charts() {
    let (mut server, sandbox) = toolbox();
    let path = format!("{TOOLBOX}/process/code-run");
    let m = reply_json(
        expect_json_body(
            api_mock(&mut server, "POST", &path),
            json!({"code": "plot()", "language": "python"}),
        ),
        200,
        &json!({
            "exitCode": 0,
            "result": "done\n",
            "artifacts": {"charts": [
                {
                    "type": "bar", "title": "Sales", "png": "iVBORw0KGgo=",
                    "x_label": "month", "y_label": "units",
                    "elements": [{"label": "Jan", "group": "2026", "value": "12"}]
                },
                {"type": "sankey", "flows": [1, 2]}
            ]}
        }),
    )
    .expect(1)
    .create();
    let run = sandbox.process().code_run("plot()").unwrap();
    m.assert();
    assert_eq!(run.exit_code, 0);
    assert_eq!(run.result, "done\n");
    assert_eq!(run.charts.len(), 2);
    let bar = &run.charts[0];
    assert_eq!(bar.kind, ChartKind::Bar);
    assert_eq!(bar.title.as_deref(), Some("Sales"));
    assert_eq!(bar.png.as_deref(), Some("iVBORw0KGgo="));
    assert_eq!(bar.x_label.as_deref(), Some("month"));
    assert_eq!(bar.elements[0].label.as_deref(), Some("Jan"));
    assert_eq!(bar.elements[0].value.as_deref(), Some("12"));
    assert_eq!(run.charts[1].kind, ChartKind::Other("sankey".into()));
    assert_eq!(run.charts[1].extra["flows"], json!([1, 2]));
}

#[test]
fn code_run_sends_argv_env_timeout_and_the_label_or_chosen_language() {
    let (mut api, sandbox) = toolbox_with_labels(json!({"code-toolbox-language": "typescript"}));
    let path = format!("{TOOLBOX}/process/code-run");
    let from_label = reply_json(
        expect_json_body(
            api_mock(&mut api, "POST", &path),
            json!({
                "code": "console.log(process.argv)",
                "language": "typescript",
                "argv": ["a", "b"],
                "envs": {"K": "V"},
                "timeout": 30
            }),
        ),
        200,
        &json!({"code": 0, "result": "[a, b]\n", "artifacts": null}),
    )
    .expect(1)
    .create();
    let run = sandbox
        .process()
        .code_run_with(
            "console.log(process.argv)",
            CodeRunOptions::new()
                .arg("a")
                .args(["b"])
                .envs(std::collections::BTreeMap::from([("K", "V")]))
                .timeout(Duration::from_secs(30)),
        )
        .unwrap();
    assert_eq!((run.exit_code, run.charts.len()), (0, 0));
    from_label.assert();
    let chosen = reply_json(
        expect_json_body(
            api_mock(&mut api, "POST", &path),
            json!({"code": "1", "language": "javascript"}),
        ),
        200,
        &json!({"exitCode": 0, "result": ""}),
    )
    .expect(1)
    .create();
    sandbox
        .process()
        .code_run_with(
            "1",
            CodeRunOptions::new().language(CodeLanguage::JavaScript),
        )
        .unwrap();
    chosen.assert();
}

#[test]
fn code_run_in_a_sandbox_with_an_unsupported_language_is_a_validation_error() {
    let (mut api, sandbox) = toolbox_with_labels(json!({"code-toolbox-language": "cobol"}));
    let none = no_requests(&mut api);
    let err = sandbox.process().code_run("DISPLAY 'HI'").unwrap_err();
    match &err {
        daytona::Error::Validation { field, message } => {
            assert_eq!(field, "labels.code-toolbox-language");
            assert!(message.contains("cobol"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_all(&none);
}

#[test]
fn code_run_without_a_language_label_runs_python() {
    let (mut api, sandbox) = toolbox_with_labels(json!({}));
    let m = api_mock(&mut api, "POST", &format!("{TOOLBOX}/process/code-run"))
        .match_body(Matcher::PartialJson(json!({"language": "python"})))
        .with_body(r#"{"exitCode":0,"result":"ok"}"#)
        .expect(1)
        .create();
    assert_eq!(
        sandbox.process().code_run("print('ok')").unwrap().result,
        "ok"
    );
    m.assert();
}
