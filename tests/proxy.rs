//! The proxy rules, the same for REST calls and followed logs: the proxy of
//! `HTTP_PROXY` (with its credentials) is used through `CONNECT`, `NO_PROXY`
//! is honoured, and a loopback API uses none.
//!
//! The hosts are `0.0.0.0`, which Linux connects to the local machine but
//! which is not a loopback address, so the proxy rules apply. The tests
//! change the process's environment: they run one at a time.
#![cfg(target_os = "linux")]

mod common;
mod fault_server;

use std::sync::{Mutex, MutexGuard};

use common::{fast_retries, sandbox_json, KEY};
use daytona::{Daytona, DaytonaConfig, Error};
use fault_server::relay::Relay;
use fault_server::{Action, FaultServer, Ws};
use serde_json::json;

static ENV: Mutex<()> = Mutex::new(());

/// Holds the environment lock with `HTTP_PROXY` and `NO_PROXY` set as
/// given, and no other proxy variable.
fn proxy_env(proxy: Option<String>, no_proxy: Option<&str>) -> MutexGuard<'static, ()> {
    let mut vars = Vec::new();
    if let Some(proxy) = proxy {
        vars.push(("HTTP_PROXY", proxy));
    }
    if let Some(no_proxy) = no_proxy {
        vars.push(("NO_PROXY", no_proxy.to_string()));
    }
    env_with(&vars)
}

/// Holds the environment lock with the proxy variables `vars` set, and no
/// other.
fn env_with(vars: &[(&str, String)]) -> MutexGuard<'static, ()> {
    let guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
    for name in [
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        std::env::remove_var(name);
    }
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
    guard
}

/// The API and the toolbox (log stream included) on `host`:<port>.
fn server(host: &'static str) -> FaultServer {
    let port = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let own = port.clone();
    let server = FaultServer::start(move |seen| {
        if seen.path().ends_with("/logs") {
            return Action::WebSocket(vec![
                Ws::Text(b"\x01\x01\x01hello\n".to_vec()),
                Ws::Close(1000, String::new()),
            ]);
        }
        let mut body = sandbox_json("sb-1", "started");
        body["toolboxProxyUrl"] = json!(format!("http://{host}:{}/toolbox", own.get().unwrap()));
        Action::json(200, &body)
    });
    port.set(server_port(&server)).unwrap();
    server
}

fn server_port(server: &FaultServer) -> u16 {
    server.url.rsplit(':').next().unwrap().parse().unwrap()
}

/// The configuration of a client of the API at `api` (its `/api`).
fn config(api: &str) -> DaytonaConfig {
    DaytonaConfig::new()
        .read_env(false)
        .api_key(KEY)
        .api_url(format!("{api}/api"))
        .retry_policy(fast_retries())
}

fn client(api: &str) -> Daytona {
    Daytona::new(config(api)).unwrap()
}

/// What [`get_and_follow`] gives when all goes well.
const FOLLOWED: &str = if cfg!(feature = "websocket") {
    "hello\n"
} else {
    "sb-1"
};

/// Gets the sandbox and follows a log: the text followed (the sandbox's
/// id without the `websocket` feature).
fn get_and_follow(daytona: &Daytona) -> Result<String, Error> {
    let sandbox = daytona.get("sb-1")?;
    #[cfg(feature = "websocket")]
    {
        let mut text = String::new();
        sandbox.process().follow_session_command_logs(
            "s",
            "c",
            daytona::toolbox::FollowOptions::new(),
            |c| text.push_str(c.text()),
        )?;
        Ok(text)
    }
    #[cfg(not(feature = "websocket"))]
    Ok(sandbox.id().to_string())
}

#[test]
fn requests_and_followed_logs_go_through_the_proxy_with_its_credentials() {
    let proxy = Relay::connect_proxy(|_| 200);
    let _env = proxy_env(
        Some(format!("http://user:p%40ss@127.0.0.1:{}", proxy.port)),
        None,
    );
    let server = server("0.0.0.0");
    let api = format!("http://0.0.0.0:{}", server_port(&server));
    assert_eq!(get_and_follow(&client(&api)).unwrap(), FOLLOWED);

    let connects = proxy.connects();
    let expected_requests = if cfg!(feature = "websocket") { 2 } else { 1 };
    assert_eq!(connects.len(), expected_requests, "{connects:?}");
    // "user:p@ss"
    let basic = "Basic dXNlcjpwQHNz";
    for c in &connects {
        assert_eq!(c.target, format!("0.0.0.0:{}", server_port(&server)));
        assert_eq!(c.authorization.as_deref(), Some(basic), "{c:?}");
    }
}

#[test]
fn no_proxy_is_honoured() {
    let proxy = Relay::connect_proxy(|_| 200);
    let _env = proxy_env(
        Some(format!("http://127.0.0.1:{}", proxy.port)),
        Some("example.com,0.0.0.0"),
    );
    let server = server("0.0.0.0");
    let api = format!("http://0.0.0.0:{}", server_port(&server));
    assert_eq!(get_and_follow(&client(&api)).unwrap(), FOLLOWED);
    assert!(proxy.connects().is_empty(), "{:?}", proxy.connects());
}

#[test]
fn a_loopback_api_uses_no_proxy() {
    let proxy = Relay::connect_proxy(|_| 200);
    let _env = proxy_env(Some(format!("http://127.0.0.1:{}", proxy.port)), None);
    // The API on 127.0.0.1; the toolbox on 0.0.0.0 goes direct too.
    let server = server("0.0.0.0");
    assert_eq!(get_and_follow(&client(&server.url)).unwrap(), FOLLOWED);
    assert!(proxy.connects().is_empty(), "{:?}", proxy.connects());
}

#[test]
fn a_loopback_toolbox_of_a_proxied_api_is_reached_directly() {
    let proxy = Relay::connect_proxy(|_| 200);
    let _env = proxy_env(Some(format!("http://127.0.0.1:{}", proxy.port)), None);
    // The API on 0.0.0.0 (through the proxy), its toolbox on 127.0.0.1.
    let server = server("127.0.0.1");
    let api = format!("http://0.0.0.0:{}", server_port(&server));
    let daytona = client(&api);
    assert_eq!(get_and_follow(&daytona).unwrap(), FOLLOWED);
    // A toolbox REST call, as the log stream, skips the proxy.
    let sandbox = daytona.get("sb-1").unwrap();
    let _ = sandbox.fs().list_files("/");
    let toolbox = server
        .seen()
        .iter()
        .filter(|s| s.path().starts_with("/toolbox/"))
        .count();
    assert_eq!(toolbox, if cfg!(feature = "websocket") { 2 } else { 1 });
    let connects = proxy.connects();
    assert_eq!(connects.len(), 1, "{connects:?}");
    assert_eq!(
        connects[0].target,
        format!("0.0.0.0:{}", server_port(&server))
    );
}

#[cfg(feature = "websocket")]
#[test]
fn a_proxy_that_refuses_the_log_stream_is_an_error_said_once() {
    // The REST call's CONNECT is let through, the log stream's is not.
    let proxy = Relay::connect_proxy(|n| if n == 0 { 200 } else { 403 });
    let _env = proxy_env(Some(format!("http://127.0.0.1:{}", proxy.port)), None);
    let server = server("0.0.0.0");
    let api = format!("http://0.0.0.0:{}", server_port(&server));
    let e = get_and_follow(&client(&api)).unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("proxy") && text.contains("403"), "{text}");
    // Not retried: the proxy would say the same again.
    assert_eq!(proxy.connects().len(), 2, "{:?}", proxy.connects());
    assert!(!server.seen().iter().any(|s| s.path().ends_with("/logs")));
}

#[test]
fn an_https_proxy_is_reached_over_tls_with_the_client_s_trust() {
    let proxy = Relay::connect_proxy(|_| 200);
    let front = Relay::tls(proxy.port);
    let _env = proxy_env(Some(format!("https://localhost:{}", front.port)), None);
    let server = server("0.0.0.0");
    let api = format!("http://0.0.0.0:{}", server_port(&server));
    // The proxy's certificate is from the test CA: refused without it.
    let e = Daytona::new(config(&api)).unwrap().get("sb-1").unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(proxy.connects().is_empty());
    let trusting =
        Daytona::new(config(&api).add_root_certificates_pem(fault_server::relay::test_ca_pem()))
            .unwrap();
    assert_eq!(get_and_follow(&trusting).unwrap(), FOLLOWED);
    let expected_requests = if cfg!(feature = "websocket") { 2 } else { 1 };
    assert_eq!(
        proxy.connects().len(),
        expected_requests,
        "{:?}",
        proxy.connects()
    );
}

#[test]
fn an_https_proxy_never_carries_http_traffic() {
    // A proxy meant for encrypted traffic would see the API key in clear.
    let proxy = Relay::connect_proxy(|_| 200);
    let _env = env_with(&[("HTTPS_PROXY", format!("http://127.0.0.1:{}", proxy.port))]);
    let server = server("0.0.0.0");
    let api = format!("http://0.0.0.0:{}", server_port(&server));
    assert_eq!(get_and_follow(&client(&api)).unwrap(), FOLLOWED);
    assert!(proxy.connects().is_empty(), "{:?}", proxy.connects());
    assert!(!server.seen().is_empty());
}

#[test]
fn each_scheme_goes_through_its_own_proxy() {
    let plain = Relay::connect_proxy(|_| 200);
    let secure = Relay::connect_proxy(|_| 200);
    let all = Relay::connect_proxy(|_| 200);
    let _env = env_with(&[
        ("HTTP_PROXY", format!("http://127.0.0.1:{}", plain.port)),
        ("HTTPS_PROXY", format!("http://127.0.0.1:{}", secure.port)),
        ("ALL_PROXY", format!("http://127.0.0.1:{}", all.port)),
    ]);
    // The API over http; its toolbox over https on the same host, which
    // the other proxy carries (the toolbox's TLS then fails: the server
    // speaks plain HTTP).
    let port = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let own = port.clone();
    let server = FaultServer::start(move |_| {
        let mut body = sandbox_json("sb-1", "started");
        body["toolboxProxyUrl"] = json!(format!("https://0.0.0.0:{}/toolbox", own.get().unwrap()));
        Action::json(200, &body)
    });
    port.set(server_port(&server)).unwrap();
    let api = format!("http://0.0.0.0:{}", server_port(&server));
    let daytona =
        Daytona::new(config(&api).request_timeout(std::time::Duration::from_secs(1))).unwrap();
    let sandbox = daytona.get("sb-1").unwrap();
    let e = sandbox.fs().list_files("/").unwrap_err();
    assert!(
        matches!(e, Error::Transport { .. } | Error::Timeout { .. }),
        "{e:?}"
    );
    let target = format!("0.0.0.0:{}", server_port(&server));
    let targets = |r: &Relay| {
        r.connects()
            .into_iter()
            .map(|c| c.target)
            .collect::<Vec<_>>()
    };
    assert_eq!(targets(&plain), std::slice::from_ref(&target));
    assert!(!targets(&secure).is_empty());
    assert!(targets(&secure).iter().all(|t| *t == target));
    assert!(all.connects().is_empty(), "{:?}", all.connects());
}

#[test]
fn all_proxy_carries_a_scheme_without_its_own() {
    let all = Relay::connect_proxy(|_| 200);
    let _env = env_with(&[("ALL_PROXY", format!("http://127.0.0.1:{}", all.port))]);
    let server = server("0.0.0.0");
    let api = format!("http://0.0.0.0:{}", server_port(&server));
    assert_eq!(get_and_follow(&client(&api)).unwrap(), FOLLOWED);
    let expected_requests = if cfg!(feature = "websocket") { 2 } else { 1 };
    assert_eq!(
        all.connects().len(),
        expected_requests,
        "{:?}",
        all.connects()
    );
}
