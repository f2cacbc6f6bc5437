//! Upload tests against mock API and store servers: credentials kept apart,
//! signatures that verify, the tar that arrives.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use mockito::{Matcher, Mock, Server};
use serde_json::json;

use super::*;
use crate::build_context::tar::testing::{parse, TempDir};
use crate::config::{DaytonaConfig, RetryPolicy};
use crate::image::EntryKind;

const KEY: &str = "dtn-key-5f3a9c";
const ACCESS_KEY: &str = "AKIDSTORE1";
const SECRET: &str = "store-secret-Zx81kq77";
const TOKEN: &str = "session-token-FwoGZXIvYXdzEJr";
const ORG: &str = "org-7";
const HASH: &str = "0123456789abcdef0123456789abcdef";

/// What the upload needs of a client of the mock API.
struct Client {
    transport: Transport,
    api_url: Url,
}

impl Client {
    fn uploader(&self) -> Uploader<'_> {
        Uploader {
            transport: &self.transport,
            api_url: &self.api_url,
            transfer_timeout: Duration::from_secs(60),
        }
    }
}

fn client(api: &Server) -> Client {
    let retry = RetryPolicy::new()
        .initial_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(50));
    let config = DaytonaConfig::new()
        .read_env(false)
        .api_key(KEY)
        .api_url(format!("{}/api", api.url()))
        .retry_policy(retry)
        .resolve(&|_| None)
        .unwrap();
    Client {
        transport: Transport::new(&config).unwrap(),
        api_url: config.api_url,
    }
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(60))
}

/// Push access to the store at `storage_url`, in bucket `bucket` (`null`:
/// none given).
fn push_access_mock(api: &mut Server, storage_url: &str, bucket: serde_json::Value) -> Mock {
    let body = json!({
        "accessKey": ACCESS_KEY,
        "secret": SECRET,
        "sessionToken": TOKEN,
        "storageUrl": storage_url,
        "organizationId": ORG,
        "bucket": bucket,
    });
    api.mock("GET", "/api/object-storage/push-access")
        .match_header("authorization", format!("Bearer {KEY}").as_str())
        .with_header("content-type", "application/json")
        .with_body(body.to_string())
        .create()
}

fn header(req: &mockito::Request, name: &str) -> String {
    req.header(name)
        .first()
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// SigV4's `UriEncode`, written from the AWS description, independently
/// of the crate's encoder: every byte but `A-Z a-z 0-9 - _ . ~` as `%XY`
/// with upper-case hex digits.
pub(super) fn aws_uri_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The canonical path of a received path, as S3 and MinIO compute it: each
/// segment decoded, then encoded with `UriEncode`.
fn canonical_path(received: &str) -> String {
    received
        .split('/')
        .map(|segment| {
            let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
            aws_uri_encode(&decoded)
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The request is signed with the store's keys, as a store verifies it: the
/// signature recomputed from the headers received and the canonical form
/// of the path received matches, and the path was sent in canonical form.
fn signature_verifies(req: &mockito::Request) -> bool {
    let auth = header(req, "authorization");
    let parsed = auth
        .strip_prefix("AWS4-HMAC-SHA256 Credential=")
        .and_then(|rest| rest.split_once(", SignedHeaders="))
        .and_then(|(cred, rest)| Some((cred, rest.split_once(", Signature=")?.0)));
    let Some((credential, signed_headers)) = parsed else {
        return false;
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let values: Vec<(&str, String)> = signed_headers
        .split(';')
        .map(|name| (name, header(req, name)))
        .collect();
    let headers: Vec<(&str, &str)> = values.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let amz_date = header(req, "x-amz-date");
    let expected = sigv4::authorization(
        &Unsigned {
            method: req.method(),
            path: &canonical_path(req.path()),
            query: "",
            headers: &headers,
            payload_hash: &header(req, "x-amz-content-sha256"),
        },
        &Credentials {
            access_key: ACCESS_KEY,
            secret_key: SECRET,
        },
        scope.get(2).copied().unwrap_or_default(),
        "s3",
        &amz_date,
    );
    scope.first() == Some(&ACCESS_KEY)
        && amz_date.starts_with(scope[1])
        && expected == auth
        && canonical_path(req.path()) == req.path()
}

/// No Daytona credential or `X-Daytona-*` header reached the store.
fn no_daytona_headers(req: &mockito::Request) -> bool {
    req.headers().iter().all(|(name, value)| {
        let value = value.to_str().unwrap_or_default();
        !name.as_str().starts_with("x-daytona") && !value.contains("Bearer") && !value.contains(KEY)
    })
}

fn store_mock(store: &mut Server, method: &str, path: &str, signed_headers: &str) -> Mock {
    let auth = format!(
        r"^AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/\d{{8}}/us-east-1/s3/aws4_request, SignedHeaders={signed_headers}, Signature=[0-9a-f]{{64}}$"
    );
    store
        .mock(method, path)
        .match_header("authorization", Matcher::Regex(auth))
        // No look-ahead in these regexes: no `B` at all, so no `Bearer`.
        .match_header("authorization", Matcher::Regex("^[^B]*$".into()))
        .match_header("x-amz-security-token", TOKEN)
        .match_header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .match_header("x-amz-date", Matcher::Regex(r"^\d{8}T\d{6}Z$".into()))
        .match_header("x-daytona-source", Matcher::Missing)
        .match_header("x-daytona-sdk-version", Matcher::Missing)
        .match_header("x-daytona-organization-id", Matcher::Missing)
}

fn head_mock(store: &mut Server, path: &str) -> mockito::Mock {
    store_mock(
        store,
        "HEAD",
        path,
        "host;x-amz-content-sha256;x-amz-date;x-amz-security-token",
    )
    .match_request(|req| signature_verifies(req) && no_daytona_headers(req))
}

/// A `PUT` mock that keeps the body it received in `sink`.
fn put_mock(store: &mut Server, path: &str, sink: Arc<Mutex<Vec<u8>>>) -> mockito::Mock {
    store_mock(
        store,
        "PUT",
        path,
        "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token",
    )
    .match_header("content-type", "application/x-tar")
    .match_header("transfer-encoding", Matcher::Missing)
    .match_request(move |req| {
        let ok = signature_verifies(req)
            && no_daytona_headers(req)
            && header(req, "content-length") == req.body().unwrap().len().to_string();
        if ok {
            *sink.lock().unwrap() = req.body().unwrap().clone();
        }
        ok
    })
}

fn object(bucket: &str, hash: &str) -> String {
    format!("/{bucket}/{ORG}/{hash}/context.tar")
}

fn context(dir: &TempDir) -> ContextUpload {
    let file = dir.file("app/main.py", b"print('hi')\n");
    ContextUpload {
        hash: HASH.to_string(),
        entries: vec![
            TarEntry {
                disk_path: dir.join("app"),
                name: "app".into(),
                kind: EntryKind::Dir,
                hashed: None,
                named: false,
                mode: 0o755,
                id: None,
            },
            TarEntry {
                disk_path: file,
                name: "app/main.py".into(),
                kind: EntryKind::File,
                hashed: None,
                named: false,
                mode: 0o644,
                id: None,
            },
        ],
        verify: None,
    }
}

/// Uploads the small [`context`] through `api`.
fn upload_small(api: &Server) -> Result<Vec<String>> {
    let dir = TempDir::new("upload");
    upload_contexts(&client(api).uploader(), &[context(&dir)], deadline())
}

#[test]
fn an_existing_context_is_not_uploaded_again() {
    let (mut api, mut store) = (Server::new(), Server::new());
    // A store under a path: signed with the path as sent.
    let url = format!("{}/s3", store.url());
    let access = push_access_mock(&mut api, &url, json!("builds"));
    let head = head_mock(&mut store, &format!("/s3{}", object("builds", HASH))).create();
    let put = store.mock("PUT", Matcher::Any).expect(0).create();
    assert_eq!(upload_small(&api).unwrap(), [HASH]);
    for mock in [access, head, put] {
        mock.assert();
    }
}

/// The small [`context`], whose check `store` answers with `head_status`,
/// is uploaded to `path` there, signed as a store verifies it.
fn uploads_to(api: &Server, store: &mut Server, path: &str, head_status: usize) {
    let head = head_mock(store, path).with_status(head_status).create();
    let put = put_mock(store, path, Arc::default()).expect(1).create();
    assert_eq!(upload_small(api).unwrap(), [HASH]);
    head.assert();
    put.assert();
    put.remove();
}

/// A store under a path the URL parser leaves as it is (`+`, `(`, `'`, a
/// lower-case escape): the path is sent in the canonical form the store
/// signs, so the signature verifies.
#[test]
fn a_store_path_is_sent_as_it_is_signed() {
    let (mut api, mut store) = (Server::new(), Server::new());
    let url = format!("{}/s3+(x)/it's%7eA%2fb", store.url());
    push_access_mock(&mut api, &url, json!("builds"));
    let prefix = "/s3%2B%28x%29/it%27s~A%2Fb";
    assert_eq!(canonical_path(prefix), prefix);
    let path = format!("{prefix}{}", object("builds", HASH));
    uploads_to(&api, &mut store, &path, 404);
}

#[test]
fn a_missing_context_is_put_once_as_a_tar() {
    let (mut api, mut store) = (Server::new(), Server::new());
    let access = push_access_mock(&mut api, &store.url(), serde_json::Value::Null);
    let path = object(DEFAULT_BUCKET, HASH);
    let head = head_mock(&mut store, &path).with_status(404).create();
    let body = Arc::new(Mutex::new(Vec::new()));
    let put = put_mock(&mut store, &path, body.clone()).expect(1).create();
    assert_eq!(upload_small(&api).unwrap(), [HASH]);
    for mock in [access, head, put] {
        mock.assert();
    }
    let parsed = parse(&body.lock().unwrap());
    let names: Vec<_> = parsed.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["app/", "app/main.py"]);
    assert_eq!(parsed[1].data, b"print('hi')\n");
}

/// Bucket and organization names that need encoding: the store receives
/// each as one segment, in SigV4's canonical form, and the signature
/// verifies; `url` reads the URL back unchanged.
#[test]
fn names_that_need_encoding_are_signed_as_they_are_sent() {
    let (mut api, mut store) = (Server::new(), Server::new());
    let org = "org/é (1)+$!*'@:";
    let bucket = "my bucket";
    let body = json!({
        "accessKey": ACCESS_KEY,
        "secret": SECRET,
        "sessionToken": TOKEN,
        "storageUrl": store.url(),
        "organizationId": org,
        "bucket": bucket,
    });
    api.mock("GET", "/api/object-storage/push-access")
        .with_body(body.to_string())
        .create();
    let path = format!(
        "/{}/{}/{HASH}/context.tar",
        aws_uri_encode(bucket),
        aws_uri_encode(org)
    );
    assert_eq!(
        path,
        format!("/my%20bucket/org%2F%C3%A9%20%281%29%2B%24%21%2A%27%40%3A/{HASH}/context.tar")
    );
    let sent = format!("{}{path}", store.url());
    assert_eq!(url::Url::parse(&sent).unwrap().as_str(), sent);
    uploads_to(&api, &mut store, &path, 404);
}

#[test]
fn a_large_context_is_streamed_with_its_length() {
    let (mut api, mut store) = (Server::new(), Server::new());
    push_access_mock(&mut api, &store.url(), json!("builds"));
    let path = object("builds", HASH);
    head_mock(&mut store, &path).with_status(404).create();
    let body = Arc::new(Mutex::new(Vec::new()));
    let put = put_mock(&mut store, &path, body.clone()).expect(1).create();
    let dir = TempDir::new("upload");
    let content: Vec<u8> = (0..20 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let big = ContextUpload {
        hash: HASH.to_string(),
        entries: vec![TarEntry {
            disk_path: dir.file("big.bin", &content),
            name: "big.bin".into(),
            kind: EntryKind::File,
            hashed: None,
            named: false,
            mode: 0o644,
            id: None,
        }],
        verify: None,
    };
    upload_contexts(&client(&api).uploader(), &[big], deadline()).unwrap();
    put.assert();
    let parsed = parse(&body.lock().unwrap());
    assert_eq!(parsed.len(), 1);
    assert!(parsed[0].data == content, "content differs");
}

#[test]
fn store_errors_never_show_the_secret_or_the_token() {
    let (mut api, mut store) = (Server::new(), Server::new());
    push_access_mock(&mut api, &store.url(), json!("builds"));
    store.mock("HEAD", Matcher::Any).with_status(404).create();
    // A store (or a proxy) that echoes what it was sent, and more.
    let echo = format!("<Error><Code>AccessDenied</Code><Token>{TOKEN}</Token><Key>{SECRET}</Key>");
    // Excerpts stop at 200 characters: this one in the middle of the token.
    let cut = format!("<Error><Code>AccessDenied</Code>{}{TOKEN}", "-".repeat(150));
    for body in [echo, cut] {
        let put = store
            .mock("PUT", Matcher::Any)
            .with_status(403)
            .with_body(body)
            .create();
        let err = upload_small(&api).unwrap_err();
        assert_eq!(err.status(), Some(403));
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(shown.contains("AccessDenied"), "{shown}");
            assert!(
                !shown.contains(&SECRET[..8]) && !shown.contains(&TOKEN[..8]),
                "{shown}"
            );
        }
        put.remove();
    }
}

/// S3 answers a `HEAD` of a missing object with 403 to credentials that may
/// not list the bucket (push access that allows `PutObject` and a prefixed
/// listing, as the other SDKs need): the context is uploaded then, and a
/// `PUT` the store refuses too is the error.
#[test]
fn a_forbidden_check_uploads_the_context() {
    let (mut api, mut store) = (Server::new(), Server::new());
    push_access_mock(&mut api, &store.url(), json!("builds"));
    uploads_to(&api, &mut store, &object("builds", HASH), 403);
    store
        .mock("PUT", Matcher::Any)
        .with_status(403)
        .with_body("<Error><Code>AccessDenied</Code></Error>")
        .create();
    let err = upload_small(&api).unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(err.to_string().contains("AccessDenied"), "{err}");
}

#[test]
fn statuses_other_than_found_or_missing_fail_the_check() {
    let (mut api, mut store) = (Server::new(), Server::new());
    push_access_mock(&mut api, &store.url(), json!("builds"));
    store.mock("HEAD", Matcher::Any).with_status(500).create();
    let put = store.mock("PUT", Matcher::Any).expect(0).create();
    let err = upload_small(&api).unwrap_err();
    assert_eq!(err.status(), Some(500));
    put.assert();
}

#[test]
fn an_undecodable_push_access_keeps_its_body_out_of_the_error() {
    let mut api = Server::new();
    api.mock("GET", "/api/object-storage/push-access")
        .with_header("content-type", "application/json")
        .with_body(json!({ "secret": SECRET, "sessionToken": TOKEN }).to_string())
        .create();
    let err = upload_small(&api).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(SECRET) && !shown.contains(TOKEN), "{shown}");
}

/// An organization id that cannot be the first folder of a key is the
/// server's mistake, a decode error, and nothing reaches the store.
#[test]
fn an_organization_id_that_names_no_folder_is_a_decode_error() {
    for org in ["", " ", ".", ".."] {
        let (mut api, mut store) = (Server::new(), Server::new());
        let body = json!({
            "accessKey": ACCESS_KEY, "secret": SECRET, "sessionToken": TOKEN,
            "storageUrl": store.url(), "organizationId": org, "bucket": "b",
        });
        api.mock("GET", "/api/object-storage/push-access")
            .with_body(body.to_string())
            .create();
        let nothing = ["HEAD", "PUT"].map(|m| store.mock(m, Matcher::Any).expect(0).create());
        let err = upload_small(&api).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{org:?}: {err:?}");
        assert!(err.to_string().contains("organizationId"), "{err}");
        for mock in nothing {
            mock.assert();
        }
    }
}

#[test]
fn no_contexts_means_no_requests() {
    let mut api = Server::new();
    let access = api.mock("GET", Matcher::Any).expect(0).create();
    assert!(upload_contexts(&client(&api).uploader(), &[], deadline())
        .unwrap()
        .is_empty());
    access.assert();
}

#[test]
fn push_access_debug_hides_the_keys() {
    let access = PushAccess {
        access_key: ACCESS_KEY.into(),
        secret: Secret::new(SECRET),
        session_token: Secret::new(TOKEN),
        storage_url: "storage.example.com".into(),
        organization_id: ORG.into(),
        bucket: None,
    };
    let store = Store::new(access, Clock::default()).unwrap();
    let shown = format!("{store:?}");
    assert!(shown.contains(ACCESS_KEY), "{shown}");
    assert!(!shown.contains(SECRET) && !shown.contains(TOKEN), "{shown}");
    // A bare host name is an https URL; no bucket means the default one.
    assert_eq!(store.base.as_str(), "https://storage.example.com/");
    assert_eq!(store.host, "storage.example.com");
    assert_eq!(store.bucket, DEFAULT_BUCKET);
}

/// The store of push access naming `storage_url`.
fn store_at(storage_url: &str) -> Store {
    Store::new(
        PushAccess {
            access_key: ACCESS_KEY.into(),
            secret: Secret::new(SECRET),
            session_token: Secret::new(TOKEN),
            storage_url: storage_url.into(),
            organization_id: ORG.into(),
            bucket: Some("b".into()),
        },
        Clock::default(),
    )
    .unwrap()
}

/// A machine whose clock is two hours behind (or ahead of) the API's signs
/// its store requests with the API's time, which the `Date` of the push
/// access answer gives; one within a few minutes of it keeps its own.
#[test]
fn a_machine_clock_far_from_the_apis_signs_with_the_apis_time() {
    let hours = Duration::from_secs(2 * 3600);
    for api_time in [
        SystemTime::now() + hours,
        SystemTime::now() - hours,
        SystemTime::now() + Duration::from_secs(120),
    ] {
        let (mut api, mut store) = (Server::new(), Server::new());
        let (ahead, behind) = match api_time.duration_since(SystemTime::now()) {
            Ok(ahead) => (ahead, Duration::ZERO),
            Err(e) => (Duration::ZERO, e.duration()),
        };
        let far = ahead.max(behind) > MAX_SKEW;
        api.mock("GET", "/api/object-storage/push-access")
            .with_header("date", &httpdate::fmt_http_date(api_time))
            .with_body(
                json!({
                    "accessKey": ACCESS_KEY, "secret": SECRET, "sessionToken": TOKEN,
                    "storageUrl": store.url(), "organizationId": ORG, "bucket": "b",
                })
                .to_string(),
            )
            .create();
        // Signed at about the expected time, to the minute.
        let expected = move || {
            let now = SystemTime::now();
            if far {
                now + ahead - behind
            } else {
                now
            }
        };
        let dated = move |req: &mockito::Request| {
            let sent = header(req, "x-amz-date");
            let t = expected();
            let minute = Duration::from_secs(60);
            sigv4::amz_date(t - minute) <= sent && sent <= sigv4::amz_date(t + minute)
        };
        let path = object("b", HASH);
        let head = head_mock(&mut store, &path)
            .with_status(404)
            .match_request(dated)
            .create();
        let put = put_mock(&mut store, &path, Arc::default())
            .match_request(dated)
            .expect(1)
            .create();
        assert_eq!(upload_small(&api).unwrap(), [HASH]);
        head.assert();
        put.assert();
    }
}

/// The `Host` signed is the one ureq would send: brackets around an IPv6
/// address, the port only when it is not the scheme's, the host in lower
/// case.
#[test]
fn the_signed_host_is_the_host_sent() {
    let cases = [
        ("http://[::1]:9000", "http://[::1]:9000/", "[::1]:9000"),
        (
            "https://[2001:DB8::1]:443/",
            "https://[2001:db8::1]/",
            "[2001:db8::1]",
        ),
        (
            "http://Storage.Example.COM:80/",
            "http://storage.example.com/",
            "storage.example.com",
        ),
        (
            " storage.example.com:9000 ",
            "https://storage.example.com:9000/",
            "storage.example.com:9000",
        ),
        (
            "https://s3.eu-west-2.amazonaws.com:443",
            "https://s3.eu-west-2.amazonaws.com/",
            "s3.eu-west-2.amazonaws.com",
        ),
    ];
    for (url, base, host) in cases {
        let store = store_at(url);
        assert_eq!((store.base.as_str(), store.host.as_str()), (base, host));
    }
    assert_eq!(
        store_at("https://s3.eu-west-2.amazonaws.com:443").region,
        "eu-west-2"
    );
}

/// A store that redirects to another host never gets the signed request
/// there: neither the `HEAD` nor the streamed `PUT` is followed.
#[test]
fn a_store_redirect_to_another_host_is_not_followed() {
    let (mut api, mut store, mut other) = (Server::new(), Server::new(), Server::new());
    push_access_mock(&mut api, &store.url(), json!("builds"));
    let elsewhere = ["HEAD", "PUT"].map(|m| other.mock(m, Matcher::Any).expect(0).create());
    let to = format!("{}/builds/x", other.url());
    // The `HEAD` redirected, then (the object missing) the `PUT`.
    for (method, status) in [("HEAD", 301), ("PUT", 307)] {
        if method == "PUT" {
            store.mock("HEAD", Matcher::Any).with_status(404).create();
        }
        let redirect = store
            .mock(method, Matcher::Any)
            .with_status(status)
            .with_header("location", &to)
            .create();
        let err = upload_small(&api).unwrap_err();
        assert_eq!(err.status(), u16::try_from(status).ok(), "{err:?}");
        assert!(err.to_string().contains("another origin"), "{err}");
        redirect.remove();
    }
    for mock in elsewhere {
        mock.assert();
    }
}

#[test]
fn region_follows_the_amazonaws_host_rule() {
    let cases = [
        ("s3.eu-west-2.amazonaws.com", "eu-west-2"),
        ("s3-us-west-1.amazonaws.com", "us-west-1"),
        ("bucket.s3.ap-south-1.amazonaws.com", "ap-south-1"),
        ("S3.EU-CENTRAL-1.AMAZONAWS.COM", "eu-central-1"),
        ("s3.amazonaws.com", "us-east-1"),
        ("minio.example.com:9000", "us-east-1"),
        ("s3.eu-west-2.amazonaws.com.evil.example", "eu-west-2"),
        ("127.0.0.1:9000", "us-east-1"),
    ];
    for (host, expected) in cases {
        assert_eq!(region(host), expected, "{host}");
    }
}

#[test]
fn a_storage_url_with_credentials_is_refused_without_showing_them() {
    let mut api = Server::new();
    let password = "st0re-Passw0rd-in-url";
    let url = format!("https://minio:{password}@storage.example.com");
    let access = push_access_mock(&mut api, &url, json!("b"));
    let err = upload_small(&api).unwrap_err();
    access.assert();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("holds credentials"), "{shown}");
    assert!(!shown.contains(password), "{shown}");
    let access: PushAccess = serde_json::from_value(json!({
        "accessKey": ACCESS_KEY, "secret": SECRET, "sessionToken": TOKEN,
        "storageUrl": url, "organizationId": ORG,
    }))
    .unwrap();
    let shown = format!("{access:?}");
    assert!(!shown.contains(password), "{shown}");
}

/// Links are part of the context hash: the tar sent, links included,
/// hashes to what the context hash says, so the upload's check passes.
#[cfg(unix)]
#[test]
fn a_context_with_links_is_sent_under_its_hash() {
    let (mut api, mut store) = (Server::new(), Server::new());
    let dir = TempDir::new("upload-links");
    dir.file("ctx/a.txt", b"a");
    std::os::unix::fs::symlink("a.txt", dir.join("ctx/current")).unwrap();
    let image = Image::base("alpine")
        .add_local_dir(dir.join("ctx"), "/app")
        .unwrap();
    let hash = image.contexts()[0].hash().unwrap();
    let access = push_access_mock(&mut api, &store.url(), json!("b"));
    let path = object("b", &hash);
    let head = head_mock(&mut store, &path).with_status(404).create();
    let body = Arc::new(Mutex::new(Vec::new()));
    let put = put_mock(&mut store, &path, body.clone()).expect(1).create();
    let up = client(&api);
    let sent = upload_image_contexts(&up.uploader(), &image, deadline()).unwrap();
    assert_eq!(sent, [hash]);
    for mock in [access, head, put] {
        mock.assert();
    }
    let parsed = parse(&body.lock().unwrap());
    let link = parsed
        .iter()
        .find(|p| p.name.ends_with("/current"))
        .unwrap();
    assert_eq!((link.kind, link.link.as_deref()), (b'2', Some("a.txt")));
}

/// The same context copied twice (two `COPY . /app` lines, or the same
/// folder added twice) is checked and sent once, while the hashes keep one
/// entry per context, in order, as the other SDKs send them; another
/// context between them keeps its place.
#[test]
fn a_context_listed_twice_is_checked_and_sent_once() {
    let (mut api, mut store) = (Server::new(), Server::new());
    let dir = TempDir::new("upload-twice");
    dir.file("ctx/a.txt", b"a");
    dir.file("other/b.txt", b"b");
    let image = Image::base("alpine")
        .add_local_dir(dir.join("ctx"), "/app")
        .unwrap()
        .add_local_dir(dir.join("other"), "/other")
        .unwrap()
        .add_local_dir(dir.join("ctx"), "/again")
        .unwrap();
    let hashes: Vec<String> = image.contexts().iter().map(|c| c.hash().unwrap()).collect();
    assert_eq!(hashes[0], hashes[2]);
    let access = push_access_mock(&mut api, &store.url(), json!("b"));
    let mut mocks = vec![access];
    for hash in &hashes[..2] {
        let path = object("b", hash);
        mocks.push(
            head_mock(&mut store, &path)
                .with_status(404)
                .expect(1)
                .create(),
        );
        let body = Arc::new(Mutex::new(Vec::new()));
        mocks.push(put_mock(&mut store, &path, body).expect(1).create());
    }
    let up = client(&api);
    let sent = upload_image_contexts(&up.uploader(), &image, deadline()).unwrap();
    assert_eq!(sent, hashes);
    for mock in mocks {
        mock.assert();
    }
}

/// A create whose deadline passes while its contexts are read stops
/// there, with a timeout naming the context, before any request.
#[test]
fn a_deadline_that_passes_while_a_context_is_read_stops_it() {
    let mut api = Server::new();
    let dir = TempDir::new("upload-late");
    dir.file("ctx/a.txt", b"a");
    let image = Image::base("alpine")
        .add_local_dir(dir.join("ctx"), "/app")
        .unwrap();
    let access = api.mock("GET", Matcher::Any).expect(0).create();
    let up = client(&api);
    let late = Deadline::after(Duration::ZERO);
    let err = upload_image_contexts(&up.uploader(), &image, late).unwrap_err();
    let Error::Timeout { operation, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        operation.contains("build context") && operation.contains("ctx"),
        "{operation}"
    );
    access.assert();
}
