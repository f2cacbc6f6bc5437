mod common;

use std::time::{Duration, Instant};

use common::*;
use daytona::{Error, VolumeState};
use mockito::{Matcher, Server};
use serde_json::{json, Value};

fn volume_json(name: &str, state: &str) -> Value {
    json!({
        "id": format!("vol-{name}"),
        "name": name,
        "organizationId": "org-1",
        "state": state,
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
        "lastUsedAt": null,
        "errorReason": if state == "error" { json!("disk full") } else { Value::Null }
    })
}

#[test]
fn list_with_and_without_deleted() {
    let mut server = Server::new();
    let plain = with_sdk_headers(server.mock("GET", "/api/volumes"))
        .match_query(Matcher::Missing)
        .with_body(json!([volume_json("a", "ready"), volume_json("b", "creating")]).to_string())
        .expect(1)
        .create();
    let deleted = with_sdk_headers(server.mock("GET", "/api/volumes"))
        .match_query(Matcher::Exact("includeDeleted=true".into()))
        .with_body(json!([volume_json("c", "deleted")]).to_string())
        .expect(1)
        .create();
    let volumes = client(&server).volumes();
    let list = volumes.list().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].state, VolumeState::Creating);
    assert_eq!(
        volumes.list_including_deleted().unwrap()[0].state,
        VolumeState::Deleted
    );
    plain.assert();
    deleted.assert();
}

#[test]
fn both_listings_take_a_page_sized_answer() {
    // Over the 4 MiB cap of one object, under the 16 MiB cap of a page:
    // both listings are pages.
    let many: Vec<Value> = (0..24_000)
        .map(|i| volume_json(&format!("volume-{i:05}"), "deleted"))
        .collect();
    let body = Value::Array(many).to_string();
    assert!(body.len() > 4 << 20, "{}", body.len());
    let mut server = Server::new();
    let mocks: Vec<_> = [
        Matcher::Missing,
        Matcher::Exact("includeDeleted=true".into()),
    ]
    .into_iter()
    .map(|query| {
        with_sdk_headers(server.mock("GET", "/api/volumes"))
            .match_query(query)
            .with_body(&body)
            .expect(1)
            .create()
    })
    .collect();
    let volumes = client(&server).volumes();
    assert_eq!(volumes.list().unwrap().len(), 24_000);
    assert_eq!(volumes.list_including_deleted().unwrap().len(), 24_000);
    for mock in mocks {
        mock.assert();
    }
}

#[test]
fn get_by_name_create_delete() {
    let mut server = Server::new();
    let get = with_sdk_headers(server.mock("GET", "/api/volumes/by-name/my%2Fdata"))
        .with_body(volume_json("my/data", "ready").to_string())
        .expect(1)
        .create();
    let create = with_sdk_headers(server.mock("POST", "/api/volumes"))
        .match_body(Matcher::Json(json!({"name": "new"})))
        .with_body(volume_json("new", "pending_create").to_string())
        .expect(1)
        .create();
    let delete = with_sdk_headers(server.mock("DELETE", "/api/volumes/vol-new"))
        .with_status(200)
        .expect(1)
        .create();
    let volumes = client(&server).volumes();
    assert_eq!(volumes.get("my/data").unwrap().name, "my/data");
    let v = volumes.create("new").unwrap();
    assert_eq!(v.state, VolumeState::PendingCreate);
    volumes.delete(&v).unwrap();
    get.assert();
    create.assert();
    delete.assert();
}

#[test]
fn get_or_create_creates_only_when_missing() {
    let mut server = Server::new();
    let missing = server
        .mock("GET", "/api/volumes/by-name/fresh")
        .with_status(404)
        .with_body(r#"{"statusCode":404,"message":"Volume not found","error":"Not Found"}"#)
        .expect(1)
        .create();
    let create = server
        .mock("POST", "/api/volumes")
        .match_body(Matcher::Json(json!({"name": "fresh"})))
        .with_body(volume_json("fresh", "pending_create").to_string())
        .expect(1)
        .create();
    let existing = server
        .mock("GET", "/api/volumes/by-name/old")
        .with_body(volume_json("old", "ready").to_string())
        .expect(1)
        .create();
    let volumes = client(&server).volumes();
    assert_eq!(volumes.get_or_create("fresh").unwrap().name, "fresh");
    assert_eq!(
        volumes.get_or_create("old").unwrap().state,
        VolumeState::Ready
    );
    missing.assert();
    create.assert();
    existing.assert();
}

#[test]
fn deleting_a_volume_in_use_is_a_conflict() {
    let mut server = Server::new();
    let _m = server
        .mock("DELETE", "/api/volumes/vol-a")
        .with_status(409)
        .with_body(r#"{"statusCode":409,"message":"Volume is in use by one or more sandboxes","error":"Conflict"}"#)
        .expect(1)
        .create();
    let volumes = client(&server).volumes();
    let v: daytona::Volume = serde_json::from_value(volume_json("a", "ready")).unwrap();
    let err = volumes.delete(&v).unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    assert!(err.to_string().contains("in use"), "{err}");
}

#[test]
fn wait_until_ready_polls_and_fails_on_error() {
    let mut server = Server::new();
    let (responder, polls) = {
        let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let c = n.clone();
        (
            move |_: &mockito::Request| {
                let i = c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let state = if i < 2 { "creating" } else { "ready" };
                volume_json("v", state).to_string().into_bytes()
            },
            n,
        )
    };
    let _m = server
        .mock("GET", "/api/volumes/by-name/v")
        .with_body_from_request(responder)
        .create();
    let bad = server
        .mock("GET", "/api/volumes/by-name/broken")
        .with_body(volume_json("broken", "error").to_string())
        .expect(1)
        .create();
    let volumes = client(&server).volumes();
    let v = volumes
        .wait_until_ready_with_timeout("v", Duration::from_secs(5))
        .unwrap();
    assert_eq!(v.state, VolumeState::Ready);
    assert_eq!(polls.load(std::sync::atomic::Ordering::SeqCst), 3);
    match volumes
        .wait_until_ready_with_timeout("broken", Duration::from_secs(5))
        .unwrap_err()
    {
        Error::VolumeFailed {
            name,
            state,
            reason,
        } => {
            assert_eq!(name, "broken");
            assert_eq!(state, VolumeState::Error);
            assert_eq!(reason.as_deref(), Some("disk full"));
        }
        other => panic!("{other:?}"),
    }
    // A failed volume ends the wait at once: no second poll.
    bad.assert();
}

#[test]
fn wait_until_ready_ends_at_its_deadline() {
    let mut server = Server::new();
    let _m = server
        .mock("GET", "/api/volumes/by-name/v")
        .with_body(volume_json("v", "pending_create").to_string())
        .create();
    let volumes = daytona::Daytona::new(config(&server)).unwrap().volumes();
    let started = Instant::now();
    let err = volumes
        .wait_until_ready_with_timeout("v", Duration::from_millis(600))
        .unwrap_err();
    let took = started.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    assert!(on_time(took, Duration::from_millis(600)), "{took:?}");
}

/// A volume on its way out (`pending_delete`, `deleting`, `deleted`) can
/// never become ready: the wait fails at the first look with the state,
/// instead of polling until its deadline.
#[test]
fn wait_until_ready_fails_at_once_on_a_volume_being_deleted() {
    let mut server = Server::new();
    for state in ["pending_delete", "deleting", "deleted"] {
        let path = format!("/api/volumes/by-name/{state}");
        let m = with_sdk_headers(server.mock("GET", path.as_str()))
            .match_query(Matcher::Missing)
            .with_header("content-type", "application/json")
            .with_body(volume_json(state, state).to_string())
            .expect(1)
            .create();
        let volumes = client(&server).volumes();
        let started = Instant::now();
        let err = volumes
            .wait_until_ready_with_timeout(state, Duration::from_secs(5))
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{state}: {:?}",
            started.elapsed()
        );
        match &err {
            Error::VolumeFailed {
                name,
                state: seen,
                reason,
            } => {
                assert_eq!(name, state);
                assert_eq!(seen, &VolumeState::from(state));
                assert_eq!(reason, &None);
            }
            other => panic!("{state}: {other:?}"),
        }
        assert!(err.is_volume_failed(), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("volume {state} entered state `{state}`")
        );
        m.assert();
    }
}

/// A name no URL path can carry is refused before any request, naming
/// `name`, by the wait as by `get`.
#[test]
fn dot_names_are_refused_naming_the_field() {
    let mut server = Server::new();
    let nothing = no_requests(&mut server);
    let volumes = client(&server).volumes();
    for name in [".", ".."] {
        for err in [
            volumes.get(name).unwrap_err(),
            volumes
                .wait_until_ready_with_timeout(name, Duration::from_secs(1))
                .unwrap_err(),
        ] {
            match err {
                Error::Validation { field, .. } => assert_eq!(field, "name", "{name:?}"),
                other => panic!("{name:?}: {other:?}"),
            }
        }
    }
    assert_all(&nothing);
}
