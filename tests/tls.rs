//! TLS trust: a Daytona behind a private CA (the test PKI of
//! `tests/fixtures/tls/`) is refused with the bundled roots alone, and
//! reached, REST calls and followed logs alike, once its CA is added with
//! `DaytonaConfig::add_root_certificates_pem`.

mod common;
mod fault_server;

use common::{fast_retries, sandbox_json, KEY};
use daytona::{Daytona, DaytonaConfig, Error};
use fault_server::relay::{test_ca_pem, Relay};
use fault_server::{Action, FaultServer};
use serde_json::json;

/// A server that speaks the API and the toolbox behind a TLS front:
/// `https://localhost:<port>`.
fn daytona_behind_tls() -> (FaultServer, Relay, String) {
    let front_url = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let url = front_url.clone();
    let server = FaultServer::start(move |seen| {
        if seen.path().ends_with("/logs") {
            return Action::WebSocket(vec![
                fault_server::Ws::Text(b"\x01\x01\x01over tls\n".to_vec()),
                fault_server::Ws::Close(1000, String::new()),
            ]);
        }
        let mut body = sandbox_json("sb-1", "started");
        body["toolboxProxyUrl"] = json!(format!("{}/toolbox", url.lock().unwrap()));
        Action::json(200, &body)
    });
    let backend: u16 = server.url.rsplit(':').next().unwrap().parse().unwrap();
    let front = Relay::tls(backend);
    let base = format!("https://localhost:{}", front.port);
    *front_url.lock().unwrap() = base.clone();
    (server, front, base)
}

fn config(base: &str) -> DaytonaConfig {
    DaytonaConfig::new()
        .read_env(false)
        .api_key(KEY)
        .api_url(format!("{base}/api"))
        .retry_policy(fast_retries())
}

#[test]
fn a_private_ca_is_refused_by_default_and_trusted_once_added() {
    let (server, _front, base) = daytona_behind_tls();

    let e = Daytona::new(config(&base))
        .unwrap()
        .get("sb-1")
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    let chain = format!("{e} {:?}", std::error::Error::source(&e));
    assert!(chain.to_lowercase().contains("certificate"), "{chain}");
    // A certificate that does not verify is not worth a second attempt.
    assert_eq!(server.seen().len(), 0);

    let daytona = Daytona::new(config(&base).add_root_certificates_pem(test_ca_pem())).unwrap();
    let sandbox = daytona.get("sb-1").unwrap();
    assert_eq!(sandbox.id(), "sb-1");
    assert_eq!(server.count("GET", "/api/sandbox/sb-1"), 1);

    #[cfg(feature = "websocket")]
    {
        use daytona::toolbox::FollowOptions;
        let mut text = String::new();
        sandbox
            .process()
            .follow_session_command_logs("s", "c", FollowOptions::new(), |c| {
                text.push_str(c.text())
            })
            .unwrap();
        assert_eq!(text, "over tls\n");
        let upgrade = server
            .seen()
            .into_iter()
            .find(|s| s.path().ends_with("/logs"))
            .unwrap();
        assert_eq!(
            upgrade.header("authorization"),
            Some(&*format!("Bearer {KEY}"))
        );
    }
}

#[cfg(feature = "websocket")]
#[test]
fn a_followed_log_is_refused_without_the_ca() {
    use daytona::toolbox::FollowOptions;
    let (server, _front, _) = daytona_behind_tls();
    // The API in plain HTTP, the toolbox behind the TLS front.
    let sandbox = Daytona::new(config(&server.url))
        .unwrap()
        .get("sb-1")
        .unwrap();
    assert!(sandbox
        .info()
        .toolbox_proxy_url
        .starts_with("https://localhost:"));
    let e = sandbox
        .process()
        .follow_session_command_logs("s", "c", FollowOptions::new(), |_| {})
        .unwrap_err();
    let chain = format!("{e} {:?}", std::error::Error::source(&e));
    assert!(chain.to_lowercase().contains("certificate"), "{chain}");
    assert!(!server.seen().iter().any(|s| s.path().ends_with("/logs")));
}

#[test]
fn unusable_root_certificates_fail_in_the_constructor() {
    for pem in [
        &b"no certificate here"[..],
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ] {
        let e =
            Daytona::new(config("https://localhost:1").add_root_certificates_pem(pem)).unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e:?}");
        assert!(e.to_string().contains("root certificate"), "{e}");
    }
}
