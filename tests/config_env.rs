//! Configuration from the process environment: precedence of explicit
//! settings over `DAYTONA_*` variables, fallbacks, and the errors raised
//! before any request.
//!
//! Environment variables are process-global, so every test here holds
//! `LOCK` and starts from a clean `DAYTONA_*` environment, restored when
//! the test ends (even when it fails).

mod common;
mod temp;

use std::ffi::OsString;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use common::*;
use daytona::{CreateSandbox, Daytona, DaytonaConfig, Error, PollSchedule, DEFAULT_API_URL};
use mockito::Matcher;
use serde_json::json;

static LOCK: Mutex<()> = Mutex::new(());

const VARS: [&str; 6] = [
    "DAYTONA_API_KEY",
    "DAYTONA_JWT_TOKEN",
    "DAYTONA_ORGANIZATION_ID",
    "DAYTONA_API_URL",
    "DAYTONA_SERVER_URL",
    "DAYTONA_TARGET",
];

/// Holds the lock with exactly `pairs` set among the `DAYTONA_*` variables;
/// puts the previous values back on drop.
struct Env {
    saved: Vec<(&'static str, Option<OsString>)>,
    _lock: MutexGuard<'static, ()>,
}

fn env(pairs: &[(&str, &str)]) -> Env {
    let lock = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let saved = VARS.iter().map(|&v| (v, std::env::var_os(v))).collect();
    for v in VARS {
        std::env::remove_var(v);
    }
    for (k, v) in pairs {
        assert!(VARS.contains(k), "{k} is not restored by the guard");
        std::env::set_var(k, v);
    }
    Env { saved, _lock: lock }
}

impl Drop for Env {
    fn drop(&mut self) {
        for (k, v) in &self.saved {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
    }
}

fn api_url(server: &mockito::Server) -> String {
    format!("{}/api", server.url())
}

/// `GET /api/sandbox/sb-1` answering a sandbox, for requests authorized
/// with `bearer`.
fn get_mock(server: &mut mockito::Server, bearer: &str) -> mockito::Mock {
    server
        .mock("GET", "/api/sandbox/sb-1")
        .match_header("authorization", format!("Bearer {bearer}").as_str())
        .match_header("x-daytona-source", "sdk-rust")
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body(sandbox_json("sb-1", "started").to_string())
}

/// Mocks that must never be called, whatever the method and path: proves
/// an error came before any request (or that this server was not used).
struct NoRequest(Vec<mockito::Mock>);

impl NoRequest {
    fn assert(&self) {
        for m in &self.0 {
            m.assert();
        }
    }
}

fn no_request(server: &mut mockito::Server) -> NoRequest {
    NoRequest(
        ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]
            .iter()
            .map(|method| {
                server
                    .mock(method, Matcher::Any)
                    .with_status(500)
                    .expect(0)
                    .create()
            })
            .collect(),
    )
}

fn config_error(e: Error) -> String {
    match e {
        Error::Config(msg) => msg,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn env_api_key_is_used_when_the_config_has_none() {
    let mut server = mockito::Server::new();
    let _env = env(&[("DAYTONA_API_KEY", "env-key-1")]);
    let m = get_mock(&mut server, "env-key-1")
        .match_header("x-daytona-organization-id", Matcher::Missing)
        .expect(1)
        .create();
    let daytona = Daytona::new(DaytonaConfig::new().api_url(api_url(&server))).unwrap();
    daytona.get("sb-1").unwrap();
    m.assert();
    assert!(!format!("{daytona:?}").contains("env-key-1"));
}

#[test]
fn config_api_key_wins_over_env() {
    let mut server = mockito::Server::new();
    let _env = env(&[("DAYTONA_API_KEY", "env-key-1")]);
    let m = get_mock(&mut server, "cfg-key-2").expect(1).create();
    let daytona = Daytona::new(
        DaytonaConfig::new()
            .api_key("cfg-key-2")
            .api_url(api_url(&server)),
    )
    .unwrap();
    daytona.get("sb-1").unwrap();
    m.assert();
}

#[test]
fn blank_config_key_does_not_hide_the_env_key() {
    let mut server = mockito::Server::new();
    let _env = env(&[("DAYTONA_API_KEY", "env-key-1")]);
    let m = get_mock(&mut server, "env-key-1").expect(1).create();
    let daytona = Daytona::new(DaytonaConfig::new().api_key("").api_url(api_url(&server))).unwrap();
    daytona.get("sb-1").unwrap();
    m.assert();
}

#[test]
fn blank_config_key_without_env_is_a_config_error() {
    let mut server = mockito::Server::new();
    let unused = no_request(&mut server);
    let _env = env(&[]);
    let msg = config_error(
        Daytona::new(DaytonaConfig::new().api_key("  ").api_url(api_url(&server))).unwrap_err(),
    );
    assert!(msg.contains("DAYTONA_API_KEY"), "{msg}");
    unused.assert();
}

#[test]
fn env_api_url_is_used() {
    let mut server = mockito::Server::new();
    let url = api_url(&server);
    let _env = env(&[("DAYTONA_API_KEY", "env-key-1"), ("DAYTONA_API_URL", &url)]);
    let m = get_mock(&mut server, "env-key-1").expect(1).create();
    let daytona = Daytona::new(DaytonaConfig::new()).unwrap();
    assert_eq!(daytona.api_url().as_str(), url);
    daytona.get("sb-1").unwrap();
    m.assert();
}

#[test]
fn config_api_url_wins_over_env() {
    let mut server = mockito::Server::new();
    let mut other = mockito::Server::new();
    let _env = env(&[
        ("DAYTONA_API_KEY", "env-key-1"),
        ("DAYTONA_API_URL", &api_url(&other)),
    ]);
    let unused = no_request(&mut other);
    let m = get_mock(&mut server, "env-key-1").expect(1).create();
    let daytona = Daytona::new(DaytonaConfig::new().api_url(api_url(&server))).unwrap();
    daytona.get("sb-1").unwrap();
    m.assert();
    unused.assert();
}

#[test]
fn deprecated_server_url_is_a_fallback_only() {
    // Alone, DAYTONA_SERVER_URL is used.
    let mut old = mockito::Server::new();
    {
        let _env = env(&[
            ("DAYTONA_API_KEY", "env-key-1"),
            ("DAYTONA_SERVER_URL", &api_url(&old)),
        ]);
        let m = get_mock(&mut old, "env-key-1").expect(1).create();
        let daytona = Daytona::new(DaytonaConfig::new()).unwrap();
        assert_eq!(daytona.api_url().as_str(), api_url(&old));
        daytona.get("sb-1").unwrap();
        m.assert();
    }
    // With DAYTONA_API_URL, DAYTONA_SERVER_URL is ignored.
    let mut new = mockito::Server::new();
    let mut old = mockito::Server::new();
    let _env = env(&[
        ("DAYTONA_API_KEY", "env-key-1"),
        ("DAYTONA_API_URL", &api_url(&new)),
        ("DAYTONA_SERVER_URL", &api_url(&old)),
    ]);
    let unused = no_request(&mut old);
    let m = get_mock(&mut new, "env-key-1").expect(1).create();
    let daytona = Daytona::new(DaytonaConfig::new()).unwrap();
    daytona.get("sb-1").unwrap();
    m.assert();
    unused.assert();
}

#[test]
fn default_api_url_when_none_is_set() {
    let _env = env(&[("DAYTONA_API_KEY", "env-key-1")]);
    let daytona = Daytona::new(DaytonaConfig::new()).unwrap();
    assert_eq!(daytona.api_url().as_str(), DEFAULT_API_URL);
}

#[test]
fn env_target_fills_the_target_and_is_sent_on_create() {
    let mut server = mockito::Server::new();
    let _env = env(&[("DAYTONA_API_KEY", "env-key-1"), ("DAYTONA_TARGET", "eu")]);
    let m = server
        .mock("POST", "/api/sandbox")
        .match_body(Matcher::PartialJson(json!({"target": "eu"})))
        .with_status(200)
        .with_body(sandbox_json("sb-1", "started").to_string())
        .expect(1)
        .create();
    let daytona = Daytona::new(DaytonaConfig::new().api_url(api_url(&server))).unwrap();
    assert_eq!(daytona.target(), Some("eu"));
    daytona.create(CreateSandbox::new()).unwrap();
    m.assert();
}

#[test]
fn white_space_around_the_target_and_the_organization_is_dropped() {
    // As a `.env` line `DAYTONA_TARGET= eu ` gives them.
    let mut server = mockito::Server::new();
    let _env = env(&[
        ("DAYTONA_JWT_TOKEN", "env-jwt-1"),
        ("DAYTONA_ORGANIZATION_ID", " org-9\t"),
        ("DAYTONA_TARGET", " eu "),
    ]);
    let m = server
        .mock("POST", "/api/sandbox")
        .match_header("x-daytona-organization-id", "org-9")
        .match_body(Matcher::PartialJson(json!({"target": "eu"})))
        .with_status(200)
        .with_body(sandbox_json("sb-1", "started").to_string())
        .expect(1)
        .create();
    let daytona =
        Daytona::new(DaytonaConfig::new().api_url(api_url(&server)).events(false)).unwrap();
    assert_eq!(daytona.target(), Some("eu"));
    daytona.create(CreateSandbox::new()).unwrap();
    m.assert();
}

#[test]
fn a_poll_schedule_without_pauses_is_refused() {
    let _env = env(&[("DAYTONA_API_KEY", "env-key-1")]);
    for schedule in [
        PollSchedule::fixed(Duration::ZERO),
        PollSchedule::new().max_interval(Duration::ZERO),
        PollSchedule::new().min_interval(Duration::ZERO),
    ] {
        let e = Daytona::new(DaytonaConfig::new().poll_schedule(schedule)).unwrap_err();
        assert!(e.is_config(), "{e:?}");
        assert!(e.to_string().contains("poll_schedule"), "{e}");
    }
    // A first check at once is fine.
    let schedule = PollSchedule::new().first_delay(Duration::ZERO);
    Daytona::new(DaytonaConfig::new().poll_schedule(schedule)).unwrap();
}

#[test]
fn config_target_wins_over_env() {
    let _env = env(&[("DAYTONA_API_KEY", "env-key-1"), ("DAYTONA_TARGET", "eu")]);
    let daytona = Daytona::new(DaytonaConfig::new().target("us")).unwrap();
    assert_eq!(daytona.target(), Some("us"));
}

#[test]
fn no_target_anywhere_is_none() {
    let _env = env(&[("DAYTONA_API_KEY", "env-key-1")]);
    let daytona = Daytona::new(DaytonaConfig::new()).unwrap();
    assert_eq!(daytona.target(), None);
}

#[test]
fn config_jwt_with_env_organization() {
    let mut server = mockito::Server::new();
    // An API key in the environment must not take over a configured JWT.
    let _env = env(&[
        ("DAYTONA_API_KEY", "env-key-1"),
        ("DAYTONA_ORGANIZATION_ID", "org-env"),
    ]);
    let m = get_mock(&mut server, "cfg-jwt")
        .match_header("x-daytona-organization-id", "org-env")
        .expect(1)
        .create();
    let daytona = Daytona::new(
        DaytonaConfig::new()
            .jwt_token("cfg-jwt")
            .api_url(api_url(&server)),
    )
    .unwrap();
    daytona.get("sb-1").unwrap();
    m.assert();
}

#[test]
fn config_organization_wins_over_env() {
    let mut server = mockito::Server::new();
    let _env = env(&[
        ("DAYTONA_JWT_TOKEN", "env-jwt"),
        ("DAYTONA_ORGANIZATION_ID", "org-env"),
    ]);
    let m = get_mock(&mut server, "env-jwt")
        .match_header("x-daytona-organization-id", "org-cfg")
        .expect(1)
        .create();
    let daytona = Daytona::new(
        DaytonaConfig::new()
            .organization_id("org-cfg")
            .api_url(api_url(&server)),
    )
    .unwrap();
    daytona.get("sb-1").unwrap();
    m.assert();
}

#[test]
fn jwt_and_organization_from_env_only() {
    let mut server = mockito::Server::new();
    let url = api_url(&server);
    let _env = env(&[
        ("DAYTONA_JWT_TOKEN", "env-jwt"),
        ("DAYTONA_ORGANIZATION_ID", "org-env"),
        ("DAYTONA_API_URL", &url),
    ]);
    let m = get_mock(&mut server, "env-jwt")
        .match_header("x-daytona-organization-id", "org-env")
        .expect(1)
        .create();
    Daytona::from_env().unwrap().get("sb-1").unwrap();
    m.assert();
}

#[test]
fn api_key_and_jwt_both_from_env_use_the_api_key_without_org_header() {
    let mut server = mockito::Server::new();
    let _env = env(&[
        ("DAYTONA_API_KEY", "env-key-1"),
        ("DAYTONA_JWT_TOKEN", "env-jwt"),
        ("DAYTONA_ORGANIZATION_ID", "org-env"),
    ]);
    let m = get_mock(&mut server, "env-key-1")
        .match_header("x-daytona-organization-id", Matcher::Missing)
        .expect(1)
        .create();
    let daytona = Daytona::new(DaytonaConfig::new().api_url(api_url(&server))).unwrap();
    daytona.get("sb-1").unwrap();
    m.assert();
}

#[test]
fn no_credentials_is_a_config_error_before_any_request() {
    let mut server = mockito::Server::new();
    let unused = no_request(&mut server);
    let _env = env(&[("DAYTONA_API_URL", &api_url(&server))]);
    let msg = config_error(Daytona::from_env().unwrap_err());
    assert!(msg.contains("DAYTONA_API_KEY"), "{msg}");
    let msg = config_error(Daytona::new(DaytonaConfig::new()).unwrap_err());
    assert!(msg.contains("DAYTONA_API_KEY"), "{msg}");
    unused.assert();
}

#[test]
fn blank_env_values_count_as_unset() {
    let _env = env(&[("DAYTONA_API_KEY", "   "), ("DAYTONA_API_URL", "")]);
    let msg = config_error(Daytona::from_env().unwrap_err());
    assert!(msg.contains("DAYTONA_API_KEY"), "{msg}");
}

#[test]
fn jwt_without_organization_is_a_config_error_before_any_request() {
    let mut server = mockito::Server::new();
    let unused = no_request(&mut server);
    {
        let _env = env(&[
            ("DAYTONA_JWT_TOKEN", "env-jwt-secret"),
            ("DAYTONA_API_URL", &api_url(&server)),
        ]);
        let e = Daytona::from_env().unwrap_err();
        assert!(!format!("{e} {e:?}").contains("env-jwt-secret"));
        let msg = config_error(e);
        assert!(msg.contains("DAYTONA_ORGANIZATION_ID"), "{msg}");
    }
    let _env = env(&[]);
    let e = Daytona::new(
        DaytonaConfig::new()
            .jwt_token("cfg-jwt-secret")
            .api_url(api_url(&server)),
    )
    .unwrap_err();
    assert!(!format!("{e} {e:?}").contains("cfg-jwt-secret"));
    let msg = config_error(e);
    assert!(msg.contains("DAYTONA_ORGANIZATION_ID"), "{msg}");
    unused.assert();
}

#[test]
fn bad_url_is_a_config_error_naming_api_url() {
    let _env = env(&[("DAYTONA_API_KEY", "env-key-1")]);
    for bad in ["not a url", "ftp://example.com/api", "http://", "/api"] {
        let e = Daytona::new(DaytonaConfig::new().api_url(bad)).unwrap_err();
        assert!(!format!("{e} {e:?}").contains("env-key-1"));
        let msg = config_error(e);
        assert!(msg.contains("api_url"), "{bad}: {msg}");
    }
}

#[test]
fn bad_env_url_is_a_config_error_naming_the_variable() {
    let guard = env(&[
        ("DAYTONA_API_KEY", "env-key-1"),
        ("DAYTONA_API_URL", "not a url"),
    ]);
    let msg = config_error(Daytona::from_env().unwrap_err());
    assert!(msg.contains("api_url"), "{msg}");
    assert!(msg.contains("DAYTONA_API_URL"), "{msg}");
    drop(guard);

    let _env = env(&[
        ("DAYTONA_API_KEY", "env-key-1"),
        ("DAYTONA_SERVER_URL", "not a url either"),
    ]);
    let msg = config_error(Daytona::from_env().unwrap_err());
    assert!(msg.contains("DAYTONA_SERVER_URL"), "{msg}");
}

#[test]
fn from_env_works_with_the_environment_only() {
    let mut server = mockito::Server::new();
    let url = api_url(&server);
    let _env = env(&[
        ("DAYTONA_API_KEY", "env-key-1"),
        ("DAYTONA_API_URL", &url),
        ("DAYTONA_TARGET", "eu"),
    ]);
    let m = get_mock(&mut server, "env-key-1")
        .match_header("x-daytona-organization-id", Matcher::Missing)
        .expect(1)
        .create();
    let daytona = Daytona::from_env().unwrap();
    assert_eq!(daytona.api_url().as_str(), url);
    assert_eq!(daytona.target(), Some("eu"));
    daytona.get("sb-1").unwrap();
    m.assert();
}

#[test]
fn read_env_false_ignores_the_environment() {
    let mut server = mockito::Server::new();
    let mut env_server = mockito::Server::new();
    let unused = no_request(&mut env_server);
    let _env = env(&[
        ("DAYTONA_API_KEY", "env-key-1"),
        ("DAYTONA_JWT_TOKEN", "env-jwt"),
        ("DAYTONA_ORGANIZATION_ID", "org-env"),
        ("DAYTONA_API_URL", &api_url(&env_server)),
        ("DAYTONA_TARGET", "eu"),
    ]);

    // No credentials of its own: the env key is not picked up.
    let msg = config_error(
        Daytona::new(
            DaytonaConfig::new()
                .read_env(false)
                .api_url(api_url(&server)),
        )
        .unwrap_err(),
    );
    assert!(msg.contains("DAYTONA_API_KEY"), "{msg}");

    // A JWT without its own organization: the env org is not picked up.
    let msg = config_error(
        Daytona::new(DaytonaConfig::new().read_env(false).jwt_token("cfg-jwt")).unwrap_err(),
    );
    assert!(msg.contains("DAYTONA_ORGANIZATION_ID"), "{msg}");

    // Neither URL nor target come from the environment.
    let daytona = Daytona::new(DaytonaConfig::new().read_env(false).api_key("cfg-key")).unwrap();
    assert_eq!(daytona.api_url().as_str(), DEFAULT_API_URL);
    assert_eq!(daytona.target(), None);

    let m = get_mock(&mut server, "cfg-key")
        .match_header("x-daytona-organization-id", Matcher::Missing)
        .expect(1)
        .create();
    let daytona = Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key("cfg-key")
            .api_url(api_url(&server)),
    )
    .unwrap();
    daytona.get("sb-1").unwrap();
    m.assert();
    unused.assert();
}

#[test]
fn max_attempts_zero_is_a_config_error() {
    let _env = env(&[("DAYTONA_API_KEY", "env-key-1")]);
    let msg = config_error(Daytona::new(DaytonaConfig::new().max_attempts(0)).unwrap_err());
    assert!(msg.contains("max_attempts"), "{msg}");
}

/// Holds `guard` with the current directory moved to a fresh one holding
/// `files` (name, content); moves back on drop.
struct InDir {
    back: std::path::PathBuf,
    _dir: temp::TempDir,
    _env: Env,
}

fn in_dir(guard: Env, files: &[(&str, &str)]) -> InDir {
    let dir = temp::TempDir::new("dotenv");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let back = std::env::current_dir().unwrap();
    std::env::set_current_dir(&dir.root).unwrap();
    InDir {
        back,
        _dir: dir,
        _env: guard,
    }
}

impl Drop for InDir {
    fn drop(&mut self) {
        std::env::set_current_dir(&self.back).unwrap();
    }
}

#[test]
fn env_files_fill_what_the_process_environment_leaves_unset() {
    let mut server = mockito::Server::new();
    let url = api_url(&server);
    let env_file = format!(
        "DAYTONA_API_KEY=from-dotenv\nDAYTONA_TARGET=us\nDAYTONA_API_URL={url}\nPATH=/nowhere\n"
    );
    let _dir = in_dir(
        env(&[("DAYTONA_TARGET", "eu")]),
        &[
            (".env", &env_file),
            (".env.local", "# local\nDAYTONA_API_KEY=from-dotenv-local\n"),
        ],
    );
    let m = get_mock(&mut server, "from-dotenv-local")
        .expect(1)
        .create();
    let daytona = Daytona::from_env().unwrap();
    // Process environment first, then .env.local, then .env.
    assert_eq!(daytona.target(), Some("eu"));
    assert_eq!(daytona.api_url().as_str(), url);
    daytona.get("sb-1").unwrap();
    m.assert();
    // Nothing exported.
    assert!(std::env::var_os("DAYTONA_API_KEY").is_none());
    assert_ne!(std::env::var("PATH").as_deref(), Ok("/nowhere"));
    // The configuration still wins over the files.
    let daytona = Daytona::new(DaytonaConfig::new().target("ap")).unwrap();
    assert_eq!(daytona.target(), Some("ap"));
}

#[test]
fn env_files_can_be_turned_off() {
    let _dir = in_dir(env(&[]), &[(".env", "DAYTONA_API_KEY=from-dotenv\n")]);
    let msg = config_error(Daytona::new(DaytonaConfig::new().read_env_files(false)).unwrap_err());
    assert!(msg.contains("DAYTONA_API_KEY"), "{msg}");
    let msg = config_error(Daytona::new(DaytonaConfig::new().read_env(false)).unwrap_err());
    assert!(msg.contains("DAYTONA_API_KEY"), "{msg}");
    assert!(Daytona::new(DaytonaConfig::new()).is_ok());
}

#[test]
fn a_malformed_env_file_is_a_config_error_naming_file_and_line() {
    let mut server = mockito::Server::new();
    let unused = no_request(&mut server);
    let _dir = in_dir(
        env(&[]),
        &[(
            ".env.local",
            "DAYTONA_TARGET=eu\nDAYTONA_API_KEY=\"sk-unclosed\n",
        )],
    );
    let msg = config_error(
        Daytona::new(DaytonaConfig::new().api_key("k").api_url(api_url(&server))).unwrap_err(),
    );
    assert!(msg.contains(".env.local, line 2"), "{msg}");
    assert!(!msg.contains("sk-unclosed"), "{msg}");
    // Not read at all when turned off.
    assert!(Daytona::new(
        DaytonaConfig::new()
            .api_key("k")
            .api_url(api_url(&server))
            .read_env_files(false)
    )
    .is_ok());
    unused.assert();
}

/// A line of another tool's that `dotenvy` cannot parse (a value with a
/// space or a Windows path, which other readers take) is not the crate's
/// business: the official SDKs read past it, and so does the crate. A
/// malformed `DAYTONA_*` line stays an error.
#[test]
fn lines_of_other_names_the_env_files_cannot_parse_are_skipped() {
    let mut server = mockito::Server::new();
    let url = api_url(&server);
    let env_file = format!(
        "APP_TITLE=My App\nDATA_DIR=C:\\data\\app\nDAYTONA_API_KEY=from-dotenv\nDAYTONA_API_URL={url}\n"
    );
    let _dir = in_dir(env(&[]), &[(".env", &env_file)]);
    let m = get_mock(&mut server, "from-dotenv").expect(1).create();
    let daytona = Daytona::from_env().unwrap();
    assert_eq!(daytona.api_url().as_str(), url);
    daytona.get("sb-1").unwrap();
    m.assert();
    drop(_dir);

    let _dir = in_dir(
        env(&[]),
        &[(".env", "APP_TITLE=My App\nDAYTONA_TARGET=us east\n")],
    );
    let msg =
        config_error(Daytona::new(DaytonaConfig::new().api_key("k").api_url(&url)).unwrap_err());
    assert!(msg.contains(".env, line 2"), "{msg}");
}

#[cfg(unix)]
#[test]
fn a_variable_that_is_not_utf8_is_a_config_error_naming_it() {
    use std::os::unix::ffi::OsStrExt;
    // Taken as unset, it let the key go to the default API URL.
    let _env = env(&[("DAYTONA_API_KEY", "env-key-1")]);
    std::env::set_var(
        "DAYTONA_API_URL",
        std::ffi::OsStr::from_bytes(b"https://daytona.internal\xff/api"),
    );
    let e = Daytona::from_env().unwrap_err();
    assert!(!format!("{e} {e:?}").contains("env-key-1"));
    let msg = config_error(e);
    assert!(
        msg.contains("DAYTONA_API_URL") && msg.contains("UTF-8"),
        "{msg}"
    );
    // Not read at all when the environment is off.
    Daytona::new(DaytonaConfig::new().read_env(false).api_key("k")).unwrap();
}
