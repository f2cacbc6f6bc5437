//! Answers the SDK does not take as a success, against a mock server:
//! the error bodies of the API and the toolbox mapped to `ApiError`
//! (status, message, code, predicates), and answers that do not decode.

mod common;

use common::*;
use daytona::{CreateSandbox, Error, SandboxState};
use serde_json::json;

// ---------------------------------------------------------------------------
// error mapping

#[test]
fn nestjs_404_is_not_found_with_the_server_message() {
    let mut server = mockito::Server::new();
    let m = get_mock(
        &mut server,
        "nope",
        404,
        r#"{"statusCode":404,"timestamp":"2026-01-01T00:00:00.000Z","path":"/api/sandbox/nope","error":"Not Found","message":"Sandbox not found"}"#,
    )
    .expect(1)
    .create();
    let e = client(&server).get("nope").unwrap_err();
    m.assert();
    assert!(e.is_not_found(), "{e:?}");
    assert!(!e.is_server_error() && !e.is_unauthorized() && !e.is_conflict());
    assert_eq!(e.status(), Some(404));
    let api = api_error(&e);
    assert_eq!(api.status, 404);
    assert_eq!(api.message, "Sandbox not found");
    assert_eq!(api.code.as_deref(), Some("Not Found"));
    assert_eq!(api.retry_after, None);
    assert_eq!(api.operation, "GET /api/sandbox/nope");
    let shown = e.to_string();
    assert!(shown.contains("GET /api/sandbox/nope"), "{shown}");
    assert!(shown.contains("404"), "{shown}");
    assert!(shown.contains("Sandbox not found"), "{shown}");
}

#[test]
fn get_opt_maps_404_to_none_and_keeps_other_errors() {
    let mut server = mockito::Server::new();
    let _gone = get_mock(
        &mut server,
        "gone",
        404,
        r#"{"statusCode":404,"message":"Sandbox not found"}"#,
    )
    .create();
    let _denied = get_mock(
        &mut server,
        "denied",
        403,
        r#"{"statusCode":403,"message":"Forbidden"}"#,
    )
    .create();
    let daytona = client(&server);
    assert!(daytona.get_opt("gone").unwrap().is_none());
    assert!(daytona.get_opt("denied").unwrap_err().is_forbidden());
}

#[test]
fn message_array_is_joined() {
    let mut server = mockito::Server::new();
    let m = server
        .mock("POST", "/api/sandbox")
        .with_status(400)
        .with_header("content-type", "application/json")
        .with_body(
            json!({
                "statusCode": 400,
                "timestamp": "2026-01-01T00:00:00.000Z",
                "path": "/api/sandbox",
                "error": "Bad Request",
                "message": ["cpu must be a positive number", "name must be a string"]
            })
            .to_string(),
        )
        .expect(1)
        .create();
    let e = client(&server).create(CreateSandbox::new()).unwrap_err();
    m.assert();
    let api = api_error(&e);
    assert_eq!(api.status, 400);
    assert_eq!(
        api.message,
        "cpu must be a positive number; name must be a string"
    );
    assert_eq!(api.code.as_deref(), Some("Bad Request"));
    assert_eq!(api.operation, "POST /api/sandbox");
}

#[test]
fn toolbox_code_and_error_code_are_kept() {
    let mut server = mockito::Server::new();
    let _a = get_mock(
        &mut server,
        "a",
        400,
        r#"{"statusCode":400,"message":"invalid path","code":"BAD_REQUEST","source":"DAYTONA_DAEMON","timestamp":"2026-01-01T00:00:00Z","path":"/files","method":"GET"}"#,
    )
    .create();
    let _b = get_mock(
        &mut server,
        "b",
        409,
        r#"{"message":"busy","error_code":"SANDBOX_BUSY","error":"Conflict"}"#,
    )
    .create();
    let daytona = client(&server);
    let e = daytona.get("a").unwrap_err();
    let api = api_error(&e);
    assert_eq!(api.message, "invalid path");
    assert_eq!(api.code.as_deref(), Some("BAD_REQUEST"));
    let e = daytona.get("b").unwrap_err();
    assert!(e.is_conflict());
    let api = api_error(&e);
    assert_eq!(api.message, "busy");
    assert_eq!(api.code.as_deref(), Some("SANDBOX_BUSY"));
}

#[test]
fn status_helpers_match_their_statuses() {
    let mut server = mockito::Server::new();
    let cases: [(&str, usize, &str); 5] = [
        (
            "s401",
            401,
            r#"{"statusCode":401,"message":"Unauthorized"}"#,
        ),
        (
            "s403",
            403,
            r#"{"statusCode":403,"error":"Forbidden","message":"Forbidden resource"}"#,
        ),
        (
            "s409",
            409,
            r#"{"statusCode":409,"error":"Conflict","message":"Sandbox is busy"}"#,
        ),
        (
            "s429",
            429,
            r#"{"statusCode":429,"message":"ThrottlerException: Too Many Requests"}"#,
        ),
        (
            "s500",
            500,
            r#"{"statusCode":500,"message":"Internal server error"}"#,
        ),
    ];
    let mocks: Vec<_> = cases
        .iter()
        .map(|(id, status, body)| get_mock(&mut server, id, *status, body).expect(1).create())
        .collect();
    // One attempt, so that 429 is not retried here.
    let daytona = client_with_attempts(&server, 1);
    let errors: Vec<Error> = cases
        .iter()
        .map(|(id, _, _)| daytona.get(id).unwrap_err())
        .collect();
    for m in &mocks {
        m.assert();
    }
    let flags = |e: &Error| {
        [
            e.is_not_found(),
            e.is_unauthorized(),
            e.is_forbidden(),
            e.is_conflict(),
            e.is_rate_limited(),
            e.is_server_error(),
        ]
    };
    assert_eq!(flags(&errors[0]), [false, true, false, false, false, false]);
    assert_eq!(flags(&errors[1]), [false, false, true, false, false, false]);
    assert_eq!(flags(&errors[2]), [false, false, false, true, false, false]);
    assert_eq!(flags(&errors[3]), [false, false, false, false, true, false]);
    assert_eq!(flags(&errors[4]), [false, false, false, false, false, true]);
    assert_eq!(api_error(&errors[0]).message, "Unauthorized");
    assert_eq!(api_error(&errors[1]).message, "Forbidden resource");
    assert_eq!(api_error(&errors[2]).message, "Sandbox is busy");
    assert_eq!(
        api_error(&errors[3]).message,
        "ThrottlerException: Too Many Requests"
    );
    assert_eq!(api_error(&errors[4]).message, "Internal server error");
    for e in &errors {
        assert!(!e.is_timeout() && !e.is_validation());
    }
}

#[test]
fn a_500_is_not_retried() {
    let mut server = mockito::Server::new();
    let m = get_mock(
        &mut server,
        "sb-1",
        500,
        r#"{"statusCode":500,"message":"boom"}"#,
    )
    .expect(1)
    .create();
    let e = client(&server).get("sb-1").unwrap_err();
    m.assert();
    assert!(e.is_server_error());
}

#[test]
fn html_502_page_becomes_a_short_collapsed_excerpt() {
    let mut server = mockito::Server::new();
    let filler = "<p>The upstream server is temporarily unavailable.</p>\n    ".repeat(20);
    let page = format!(
        "<html>\r\n  <head><title>502 Bad Gateway</title></head>\n  <body>\n\t<center><h1>502 Bad Gateway</h1></center>\n    {filler}<hr><center>nginx</center>\n  </body>\n</html>\n"
    );
    let m = server
        .mock("GET", "/api/sandbox/sb-1")
        .with_status(502)
        .with_header("content-type", "text/html")
        .with_body(page)
        .expect(1)
        .create();
    let e = client_with_attempts(&server, 1).get("sb-1").unwrap_err();
    m.assert();
    assert!(e.is_server_error());
    let api = api_error(&e);
    assert_eq!(api.status, 502);
    assert_eq!(api.code, None);
    assert!(api.message.chars().count() <= 200, "{}", api.message);
    assert!(
        api.message.starts_with(
            "<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway"
        ),
        "{}",
        api.message
    );
    assert!(
        !api.message.contains(['\n', '\r', '\t']),
        "{:?}",
        api.message
    );
    assert!(!api.message.contains("  "), "{:?}", api.message);
}

/// A huge error body still gives a short, telling error: a JSON message
/// and code are cut to a bounded length, and a page longer than the 1 MiB
/// read of an error body is quoted from its start, not replaced by the
/// status's reason.
#[test]
fn huge_error_bodies_give_bounded_telling_messages() {
    let mut server = mockito::Server::new();
    let huge_message = format!("quota exceeded: {}", "x".repeat(600_000));
    let json = serde_json::json!({
        "statusCode": 500,
        "message": huge_message,
        "code": "E".repeat(100_000),
    })
    .to_string();
    let m = get_mock(&mut server, "sb-1", 500, &json).expect(1).create();
    let e = client_with_attempts(&server, 1).get("sb-1").unwrap_err();
    m.assert();
    let api = api_error(&e);
    assert!(
        api.message.starts_with("quota exceeded: xxx"),
        "{}",
        &api.message[..40]
    );
    assert!(
        api.message.chars().count() <= 1_001,
        "{}",
        api.message.len()
    );
    assert!(api.message.ends_with('…'));
    let code = api.code.as_deref().unwrap();
    assert!(
        code.starts_with("EEE") && code.chars().count() <= 101,
        "{}",
        code.len()
    );
    assert!(e.to_string().len() < 1_300, "{}", e.to_string().len());

    let page = format!(
        "<html><head><title>Upstream exploded</title></head><body>{}</body></html>",
        "<p>trace</p>".repeat(200_000)
    );
    assert!(page.len() > 2 * 1024 * 1024);
    let m = server
        .mock("GET", "/api/sandbox/sb-2")
        .with_status(502)
        .with_header("content-type", "text/html")
        .with_body(page)
        .expect(1)
        .create();
    let e = client_with_attempts(&server, 1).get("sb-2").unwrap_err();
    m.assert();
    let api = api_error(&e);
    assert_eq!(api.status, 502);
    assert!(
        api.message
            .starts_with("<html><head><title>Upstream exploded</title></head>"),
        "{}",
        api.message
    );
    assert!(api.message.chars().count() <= 200, "{}", api.message);
}

#[test]
fn empty_503_body_gives_the_reason_phrase() {
    let mut server = mockito::Server::new();
    let m = server
        .mock("GET", "/api/sandbox/sb-1")
        .with_status(503)
        .expect(1)
        .create();
    let e = client_with_attempts(&server, 1).get("sb-1").unwrap_err();
    m.assert();
    let api = api_error(&e);
    assert_eq!(api.status, 503);
    assert_eq!(api.message, "Service Unavailable");
    assert_eq!(api.code, None);
    assert!(e.is_server_error());
}

#[test]
fn json_error_without_message_gives_the_reason_phrase() {
    let mut server = mockito::Server::new();
    let _m = get_mock(&mut server, "sb-1", 404, r#"{"statusCode":404}"#).create();
    let e = client(&server).get("sb-1").unwrap_err();
    assert_eq!(api_error(&e).message, "Not Found");
}

// ---------------------------------------------------------------------------
// decoding

#[test]
fn malformed_json_200_is_a_decode_error_with_an_excerpt() {
    let mut server = mockito::Server::new();
    let m = get_mock(
        &mut server,
        "sb-1",
        200,
        "{\"id\": \"sb-1\", oops  \n not json",
    )
    .expect(1)
    .create();
    let e = client_with_attempts(&server, 1).get("sb-1").unwrap_err();
    m.assert();
    match &e {
        Error::Decode {
            operation,
            message,
            excerpt,
        } => {
            assert_eq!(operation, "GET /api/sandbox/sb-1");
            assert!(!message.is_empty());
            assert_eq!(excerpt, "{\"id\": \"…\", oops not json");
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    assert!(e.to_string().contains("GET /api/sandbox/sb-1"), "{e}");
}

#[test]
fn empty_object_200_is_a_decode_error_naming_id() {
    let mut server = mockito::Server::new();
    let m = get_mock(&mut server, "sb-1", 200, "{}").expect(1).create();
    let e = client_with_attempts(&server, 1).get("sb-1").unwrap_err();
    m.assert();
    match &e {
        Error::Decode {
            message, excerpt, ..
        } => {
            assert!(message.contains("missing field `id`"), "{message}");
            assert_eq!(excerpt, "{}");
        }
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[test]
fn each_missing_required_field_is_named() {
    let mut server = mockito::Server::new();
    let mut body = sandbox_json("sb-1", "started");
    body.as_object_mut().unwrap().remove("toolboxProxyUrl");
    let _m = get_mock(&mut server, "sb-1", 200, &body.to_string()).create();
    let e = client_with_attempts(&server, 1).get("sb-1").unwrap_err();
    match &e {
        Error::Decode { message, .. } => {
            assert!(
                message.contains("missing field `toolboxProxyUrl`"),
                "{message}"
            )
        }
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[test]
fn wrong_type_is_a_decode_error_not_a_panic() {
    let mut server = mockito::Server::new();
    let mut body = sandbox_json("sb-1", "started");
    body["id"] = json!(5);
    let _m = get_mock(&mut server, "sb-1", 200, &body.to_string()).create();
    let e = client_with_attempts(&server, 1).get("sb-1").unwrap_err();
    match &e {
        Error::Decode { message, .. } => assert!(message.contains("invalid type"), "{message}"),
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[test]
fn truncated_json_and_non_object_bodies_are_decode_errors() {
    let mut server = mockito::Server::new();
    let full = sandbox_json("sb-1", "started").to_string();
    let _a = get_mock(&mut server, "cut", 200, &full[..full.len() / 2]).create();
    let _b = get_mock(&mut server, "empty", 200, "").create();
    let _c = get_mock(&mut server, "array", 200, "[1,2,3]").create();
    let _d = get_mock(&mut server, "null", 200, "null").create();
    let daytona = client_with_attempts(&server, 1);
    for id in ["cut", "empty", "array", "null"] {
        let e = daytona.get(id).unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{id}: {e:?}");
    }
}

#[test]
fn unknown_fields_and_enum_values_decode() {
    let mut server = mockito::Server::new();
    let mut body = sandbox_json("sb-1", "hibernating");
    let o = body.as_object_mut().unwrap();
    o.insert(
        "someFutureField".into(),
        json!({"nested": [1, 2, {"x": null}]}),
    );
    o.insert("anotherOne".into(), json!(42));
    o.insert("backupState".into(), json!("Teleporting"));
    o.insert("desiredState".into(), json!("hibernated"));
    o.insert("sandboxClass".into(), json!("quantum"));
    o.insert("gpuType".into(), json!("h9000"));
    let _m = get_mock(&mut server, "sb-1", 200, &body.to_string()).create();
    let sb = client(&server).get("sb-1").unwrap();
    assert_eq!(sb.id(), "sb-1");
    assert_eq!(sb.state(), Some(&SandboxState::Other("hibernating".into())));
    assert_eq!(sb.state().unwrap().as_str(), "hibernating");
}

#[test]
fn a_decode_failure_on_get_is_not_retried() {
    // A whole answer (mockito sends its Content-Length) that does not
    // decode: the same answer would come again.
    let mut server = mockito::Server::new();
    let bad = get_mock(&mut server, "sb-1", 200, "{\"id\":")
        .expect(1)
        .create();
    let e = client(&server).get("sb-1").unwrap_err();
    bad.assert();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
}

#[test]
fn a_decode_failure_on_post_is_not_retried() {
    let mut server = mockito::Server::new();
    let m = server
        .mock("POST", "/api/sandbox")
        .with_status(200)
        .with_body("{\"id\": \"sb-1\"")
        .expect(1)
        .create();
    let e = client(&server).create(CreateSandbox::new()).unwrap_err();
    m.assert();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
}
