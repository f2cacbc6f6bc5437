//! A sandbox's settings and access: labels, lifecycle intervals, network
//! settings, activity, preview links, SSH access; fetching one by id.

mod common;
use common::*;

use std::collections::HashMap;
use std::time::Duration;

use daytona::NetworkSettings;
use mockito::{Matcher, Server};
use serde_json::json;

#[test]
fn set_labels_puts_all_labels_and_returns_the_servers() {
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let put = reply_json(
        expect_json_body(
            sandbox_mock(&mut server, "PUT", "sb-1/labels").match_query(Matcher::Missing),
            json!({ "labels": { "env": "dev", "team": "infra" } }),
        ),
        200,
        &json!({ "labels": {
            "env": "dev",
            "team": "infra",
            "code-toolbox-language": "python"
        } }),
    )
    .expect(1)
    .create();

    let labels: HashMap<String, String> = [("env", "dev"), ("team", "infra")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let answer = sb.set_labels(labels).unwrap();

    put.assert();
    assert_eq!(answer.len(), 3);
    assert_eq!(
        answer.get("code-toolbox-language").map(String::as_str),
        Some("python")
    );
    assert_eq!(sb.info().labels, answer);
}

#[test]
fn set_labels_with_an_empty_key_is_rejected_before_any_request() {
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let nothing = no_requests(&mut server);

    let labels: HashMap<String, String> = [(String::new(), "x".to_string())].into();
    let err = sb.set_labels(labels).unwrap_err();

    assert_all(&nothing);
    assert_validation(&err, "labels");
}

#[test]
fn interval_setters_post_the_interval_in_the_path() {
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let mut answer = sandbox_json("sb-1", "started");
    answer["autoStopInterval"] = json!(30);
    let stop = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/autostop/30").match_query(Matcher::Missing),
        ),
        200,
        &answer,
    )
    .expect(1)
    .create();
    let archive = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/autoarchive/0").match_query(Matcher::Missing),
        ),
        200,
        &answer,
    )
    .expect(1)
    .create();
    let delete = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/autodelete/-1").match_query(Matcher::Missing),
        ),
        200,
        &answer,
    )
    .expect(1)
    .create();

    sb.set_auto_stop_interval(30).unwrap();
    assert_eq!(sb.info().auto_stop_interval, Some(30));
    sb.set_auto_archive_interval(0).unwrap();
    assert_eq!(sb.info().auto_archive_interval, Some(0));
    sb.set_auto_delete_interval(-1).unwrap();
    assert_eq!(sb.info().auto_delete_interval, Some(-1));

    stop.assert();
    archive.assert();
    delete.assert();

    // More minutes than the API keeps (a signed 32-bit number): refused,
    // nothing sent (each mock above expected exactly one request).
    let too_many = u32::try_from(i32::MAX).unwrap() + 1;
    let err = sb.set_auto_stop_interval(too_many).unwrap_err();
    assert_validation(&err, "auto_stop_interval");
    let err = sb.set_auto_archive_interval(u32::MAX).unwrap_err();
    assert_validation(&err, "auto_archive_interval");
    assert_eq!(sb.info().auto_stop_interval, Some(30));
    stop.assert();
    archive.assert();
}

#[test]
fn update_network_settings_sends_the_body() {
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let mut answer = sandbox_json("sb-1", "started");
    answer["networkBlockAll"] = json!(true);
    let post = reply_json(
        expect_json_body(
            sandbox_mock(&mut server, "POST", "sb-1/network-settings")
                .match_query(Matcher::Missing),
            json!({
                "networkBlockAll": true,
                "networkAllowList": "10.0.0.0/8",
                "domainAllowList": "example.com,*.daytona.io"
            }),
        ),
        200,
        &answer,
    )
    .expect(1)
    .create();

    sb.update_network_settings(
        NetworkSettings::new()
            .block_all(true)
            .allow_list("10.0.0.0/8")
            .domain_allow_list("example.com,*.daytona.io"),
    )
    .unwrap();

    post.assert();
    assert_eq!(sb.info().network_block_all, Some(true));
}

#[test]
fn empty_network_settings_are_rejected_before_any_request() {
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let nothing = no_requests(&mut server);

    let err = sb
        .update_network_settings(NetworkSettings::new())
        .unwrap_err();

    assert_all(&nothing);
    assert_validation(&err, "network_settings");
}

#[test]
fn refresh_activity_posts_last_activity_and_accepts_201() {
    let (mut server, _daytona, sb) = sandbox_in("started");
    let post = expect_no_body(
        sandbox_mock(&mut server, "POST", "sb-1/last-activity").match_query(Matcher::Missing),
    )
    .with_status(201)
    .expect(1)
    .create();

    sb.refresh_activity().unwrap();

    post.assert();
}

#[test]
fn preview_link_gets_the_port_preview_url() {
    let (mut server, _daytona, sb) = sandbox_in("started");
    let get = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "GET", "sb-1/ports/3000/preview-url")
                .match_query(Matcher::Missing),
        ),
        200,
        &json!({
            "sandboxId": "sb-1",
            "url": "https://3000-sb-1.proxy.example",
            "token": "ul67qtv-jl6wb9z5o3eii"
        }),
    )
    .expect(1)
    .create();

    let link = sb.preview_link(3000).unwrap();

    get.assert();
    assert_eq!(link.sandbox_id, "sb-1");
    assert_eq!(link.url, "https://3000-sb-1.proxy.example");
    assert_eq!(link.token, "ul67qtv-jl6wb9z5o3eii");
}

#[test]
fn port_zero_is_rejected_before_any_request() {
    let (mut server, _daytona, sb) = sandbox_in("started");
    let nothing = no_requests(&mut server);

    assert_validation(&sb.preview_link(0).unwrap_err(), "port");
    assert_validation(&sb.signed_preview_url(0, None).unwrap_err(), "port");
    assert_validation(
        &sb.signed_preview_url(3000, Some(Duration::from_secs(0)))
            .unwrap_err(),
        "expires_in",
    );
    assert_validation(
        &sb.create_ssh_access(Some(Duration::from_secs(0)))
            .unwrap_err(),
        "expires_in",
    );

    assert_all(&nothing);
}

fn signed_json() -> serde_json::Value {
    json!({
        "sandboxId": "sb-1",
        "port": 3000,
        "token": "jl6wb9z5o3eii",
        "url": "https://3000-jl6wb9z5o3eii.proxy.example"
    })
}

#[test]
fn signed_preview_url_sends_expires_in_seconds() {
    let (mut server, _daytona, sb) = sandbox_in("started");
    let get = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "GET", "sb-1/ports/3000/signed-preview-url")
                .match_query(Matcher::Exact("expiresInSeconds=120".into())),
        ),
        200,
        &signed_json(),
    )
    .expect(1)
    .create();

    let signed = sb
        .signed_preview_url(3000, Some(Duration::from_secs(120)))
        .unwrap();

    get.assert();
    assert_eq!(signed.port, 3000);
    assert_eq!(signed.token, "jl6wb9z5o3eii");
    assert_eq!(signed.url, "https://3000-jl6wb9z5o3eii.proxy.example");
}

#[test]
fn signed_preview_url_without_expiry_sends_no_query() {
    let (mut server, _daytona, sb) = sandbox_in("started");
    let get = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "GET", "sb-1/ports/3000/signed-preview-url")
                .match_query(Matcher::Missing),
        ),
        200,
        &signed_json(),
    )
    .expect(1)
    .create();

    sb.signed_preview_url(3000, None).unwrap();

    get.assert();
}

#[test]
fn expire_signed_preview_url_posts_to_the_token_path() {
    let (mut server, _daytona, sb) = sandbox_in("started");
    let post = expect_no_body(
        sandbox_mock(
            &mut server,
            "POST",
            "sb-1/ports/3000/signed-preview-url/jl6wb9z5o3eii/expire",
        )
        .match_query(Matcher::Missing),
    )
    .with_status(200)
    .expect(1)
    .create();

    sb.expire_signed_preview_url(3000, "jl6wb9z5o3eii").unwrap();

    post.assert();
}

fn ssh_json() -> serde_json::Value {
    json!({
        "id": "acc-1",
        "sandboxId": "sb-1",
        "token": "ssh-tok-1",
        "expiresAt": "2026-01-01T01:00:00Z",
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
        "sshCommand": "ssh -p 2222 ssh-tok-1@ssh.example"
    })
}

#[test]
fn create_ssh_access_sends_expires_in_minutes() {
    let (mut server, _daytona, sb) = sandbox_in("started");
    let post = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/ssh-access")
                .match_query(Matcher::Exact("expiresInMinutes=30".into())),
        ),
        200,
        &ssh_json(),
    )
    .expect(1)
    .create();

    let access = sb
        .create_ssh_access(Some(Duration::from_secs(1800)))
        .unwrap();

    post.assert();
    assert_eq!(access.token, "ssh-tok-1");
    assert_eq!(access.ssh_command, "ssh -p 2222 ssh-tok-1@ssh.example");
    assert_eq!(access.expires_at, "2026-01-01T01:00:00Z");
}

#[test]
fn create_ssh_access_without_expiry_sends_no_query() {
    let (mut server, _daytona, sb) = sandbox_in("started");
    let post = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "POST", "sb-1/ssh-access").match_query(Matcher::Missing),
        ),
        200,
        &ssh_json(),
    )
    .expect(1)
    .create();

    sb.create_ssh_access(None).unwrap();

    post.assert();
}

#[test]
fn revoke_ssh_access_with_a_token_sends_the_token_query() {
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    // The token travels as the `token` query, never as the organization
    // header (the Python SDK's bug, sdk-inventory §1.2).
    let del = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "DELETE", "sb-1/ssh-access")
                .match_query(Matcher::Exact("token=ssh-tok-1".into()))
                .match_header("x-daytona-organization-id", Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .expect(1)
    .create();

    sb.revoke_ssh_access(Some("ssh-tok-1")).unwrap();

    del.assert();
}

#[test]
fn revoke_ssh_access_without_a_token_sends_no_query() {
    let (mut server, _daytona, mut sb) = sandbox_in("started");
    let del = reply_json(
        expect_no_body(
            sandbox_mock(&mut server, "DELETE", "sb-1/ssh-access")
                .match_query(Matcher::Missing)
                .match_header("x-daytona-organization-id", Matcher::Missing),
        ),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .expect(1)
    .create();

    sb.revoke_ssh_access(None).unwrap();

    del.assert();
}

#[test]
fn validate_ssh_access_gets_the_validate_endpoint() {
    let (mut server, daytona, sb) = sandbox_in("started");
    let get = reply_json(
        expect_no_body(
            api_mock(&mut server, "GET", "/api/sandbox/ssh-access/validate")
                .match_query(Matcher::Exact("token=ssh-tok-1".into())),
        ),
        200,
        &json!({ "valid": true, "sandboxId": "sb-1" }),
    )
    .expect(2)
    .create();

    let v = sb.validate_ssh_access("ssh-tok-1").unwrap();
    assert!(v.valid);
    assert_eq!(v.sandbox_id, "sb-1");
    let v = daytona.validate_ssh_access("ssh-tok-1").unwrap();
    assert!(v.valid);

    get.assert();
}

#[test]
fn get_opt_maps_404_to_none() {
    let mut server = Server::new();
    let missing = reply_json(
        expect_no_body(sandbox_mock(&mut server, "GET", "nope").match_query(Matcher::Missing)),
        404,
        &json!({ "statusCode": 404, "message": "Sandbox with ID or name nope not found" }),
    )
    .expect(1)
    .create();
    let present = reply_json(
        expect_no_body(sandbox_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
        200,
        &sandbox_json("sb-1", "started"),
    )
    .expect(1)
    .create();
    let daytona = client(&server);

    assert!(daytona.get_opt("nope").unwrap().is_none());
    assert_eq!(daytona.get_opt("sb-1").unwrap().unwrap().id(), "sb-1");

    missing.assert();
    present.assert();
}

#[test]
fn get_opt_keeps_other_errors() {
    let mut server = Server::new();
    let denied = reply_json(
        expect_no_body(sandbox_mock(&mut server, "GET", "sb-1").match_query(Matcher::Missing)),
        403,
        &json!({ "statusCode": 403, "message": "Forbidden" }),
    )
    .expect(1)
    .create();

    let err = client(&server).get_opt("sb-1").unwrap_err();

    denied.assert();
    assert!(err.is_forbidden(), "{err:?}");
}

#[test]
fn ids_reach_the_server_as_one_encoded_segment() {
    let mut server = Server::new();
    let slash = reply_json(
        expect_no_body(
            api_mock(&mut server, "GET", "/api/sandbox/a%2Fb").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("a/b", "started"),
    )
    .expect(1)
    .create();
    let dots = reply_json(
        expect_no_body(
            api_mock(&mut server, "GET", "/api/sandbox/...").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("...", "started"),
    )
    .expect(1)
    .create();
    let question = reply_json(
        expect_no_body(
            api_mock(&mut server, "GET", "/api/sandbox/a%3Fb%3D1").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("a?b=1", "started"),
    )
    .expect(1)
    .create();
    // Later operations on such a handle stay in their segment too.
    let start = reply_json(
        expect_no_body(
            api_mock(&mut server, "POST", "/api/sandbox/a%2Fb/start").match_query(Matcher::Missing),
        ),
        200,
        &sandbox_json("a/b", "started"),
    )
    .expect(1)
    .create();
    let daytona = client(&server);

    let mut sb = daytona.get("a/b").unwrap();
    assert_eq!(sb.id(), "a/b");
    assert_eq!(daytona.get("...").unwrap().id(), "...");
    // `.` and `..` are resolved by URLs whatever their encoding: refused.
    assert_validation(&daytona.get("..").unwrap_err(), "id_or_name");
    assert_validation(&daytona.get(".").unwrap_err(), "id_or_name");
    assert_eq!(daytona.get("a?b=1").unwrap().id(), "a?b=1");
    sb.start().unwrap();

    slash.assert();
    dots.assert();
    question.assert();
    start.assert();
}

#[test]
fn get_with_an_empty_id_is_rejected_before_any_request() {
    let mut server = Server::new();
    let nothing = no_requests(&mut server);
    let daytona = client(&server);

    assert_validation(&daytona.get("").unwrap_err(), "id_or_name");
    assert_validation(&daytona.get_opt("  ").unwrap_err(), "id_or_name");
    assert_validation(&daytona.validate_ssh_access("").unwrap_err(), "token");

    assert_all(&nothing);
}

/// Regression (contract suite, `--dynamic`): the spec's `port` of a
/// signed preview URL is an unbounded `integer`; an answer outside
/// 0–65535 decodes, its port clamped.
#[test]
fn signed_preview_url_decodes_any_spec_integer_port() {
    let (mut server, _daytona, sb) = sandbox_in("started");
    let mut answer = signed_json();
    answer["port"] = json!(70000);
    let get = reply_json(
        sandbox_mock(&mut server, "GET", "sb-1/ports/3000/signed-preview-url"),
        200,
        &answer,
    )
    .expect(1)
    .create();
    assert_eq!(sb.signed_preview_url(3000, None).unwrap().port, u16::MAX);
    get.assert();
}
