use super::*;
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn explicit_wins_over_env() {
    let r = DaytonaConfig::new()
        .api_key("explicit")
        .api_url("http://localhost:1/api/")
        .resolve(&env(&[
            ("DAYTONA_API_KEY", "fromenv"),
            ("DAYTONA_API_URL", "http://other"),
            ("DAYTONA_TARGET", "eu"),
        ]))
        .unwrap();
    assert_eq!(r.auth.bearer(), "Bearer explicit");
    assert_eq!(r.api_url.as_str(), "http://localhost:1/api");
    assert_eq!(r.target.as_deref(), Some("eu"));
}

#[test]
fn otel_is_on_by_either_variable_and_the_setting_wins() {
    let on = |config: DaytonaConfig, pairs: &[(&str, &str)]| {
        let mut all = vec![("DAYTONA_API_KEY", "k")];
        all.extend_from_slice(pairs);
        config.resolve(&env(&all)).unwrap().otel
    };
    assert!(!on(DaytonaConfig::new(), &[]));
    assert!(on(
        DaytonaConfig::new(),
        &[("DAYTONA_OTEL_ENABLED", "true")]
    ));
    assert!(on(
        DaytonaConfig::new(),
        &[("DAYTONA_EXPERIMENTAL_OTEL_ENABLED", "TRUE")]
    ));
    assert!(!on(DaytonaConfig::new(), &[("DAYTONA_OTEL_ENABLED", "1")]));
    assert!(!on(
        DaytonaConfig::new().otel_enabled(false),
        &[("DAYTONA_OTEL_ENABLED", "true")]
    ));
    assert!(on(DaytonaConfig::new().otel_enabled(true), &[]));
    assert!(!on(
        DaytonaConfig::new().read_env(false).api_key("k"),
        &[("DAYTONA_OTEL_ENABLED", "true")]
    ));
}

#[test]
fn deprecated_server_url_is_a_fallback() {
    let r = DaytonaConfig::new()
        .resolve(&env(&[
            ("DAYTONA_API_KEY", "k"),
            ("DAYTONA_SERVER_URL", "http://old.example/api"),
        ]))
        .unwrap();
    assert_eq!(r.api_url.as_str(), "http://old.example/api");
    let r = DaytonaConfig::new()
        .resolve(&env(&[
            ("DAYTONA_API_KEY", "k"),
            ("DAYTONA_API_URL", "http://new.example/api"),
            ("DAYTONA_SERVER_URL", "http://old.example/api"),
        ]))
        .unwrap();
    assert_eq!(r.api_url.as_str(), "http://new.example/api");
}

#[test]
#[allow(deprecated)]
fn deprecated_server_url_setter_still_works_and_api_url_wins() {
    let r = DaytonaConfig::new()
        .api_key("k")
        .server_url("http://old.example/api")
        .resolve(&env(&[("DAYTONA_API_URL", "http://env.example/api")]))
        .unwrap();
    assert_eq!(r.api_url.as_str(), "http://old.example/api");
    let r = DaytonaConfig::new()
        .api_key("k")
        .server_url("http://old.example/api")
        .api_url("http://new.example/api")
        .resolve(&env(&[]))
        .unwrap();
    assert_eq!(r.api_url.as_str(), "http://new.example/api");
    let e = DaytonaConfig::new()
        .api_key("k")
        .server_url("nope")
        .resolve(&env(&[]))
        .unwrap_err();
    assert!(e.to_string().contains("server_url"), "{e}");
}

#[test]
fn configured_jwt_ignores_env_api_key() {
    let r = DaytonaConfig::new()
        .jwt_token("jwt")
        .resolve(&env(&[
            ("DAYTONA_API_KEY", "k"),
            ("DAYTONA_ORGANIZATION_ID", "org1"),
        ]))
        .unwrap();
    assert_eq!(r.auth.bearer(), "Bearer jwt");
    assert_eq!(r.auth.organization_id(), Some("org1"));
}

#[test]
fn errors_name_what_is_missing() {
    let e = DaytonaConfig::new().resolve(&env(&[])).unwrap_err();
    assert!(e.to_string().contains("DAYTONA_API_KEY"), "{e}");
    let e = DaytonaConfig::new()
        .jwt_token("secret-jwt")
        .resolve(&env(&[]))
        .unwrap_err();
    assert!(e.to_string().contains("DAYTONA_ORGANIZATION_ID"), "{e}");
    assert!(!e.to_string().contains("secret-jwt"));
    let e = DaytonaConfig::new()
        .api_key("k")
        .api_url("not a url")
        .resolve(&env(&[]))
        .unwrap_err();
    assert!(e.to_string().contains("api_url"), "{e}");
    let e = DaytonaConfig::new()
        .api_key("k")
        .api_url("ftp://x")
        .resolve(&env(&[]))
        .unwrap_err();
    assert!(e.to_string().contains("http"), "{e}");
}

#[test]
fn url_mistakes_fail_in_the_constructor_saying_what_was_expected() {
    let resolve = |url: &str| {
        DaytonaConfig::new()
            .api_key("k")
            .api_url(url)
            .resolve(&env(&[]))
    };
    let e = resolve("https://app.daytona.io").unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    assert!(
        e.to_string()
            .contains("expected https://app.daytona.io/api"),
        "{e}"
    );
    assert!(resolve("https://eu.daytona.io/").is_err());
    // The same host written as a fully qualified name.
    assert!(resolve("https://app.daytona.io./").is_err());
    for url in [
        "https://app.daytona.io/api?region=eu",
        "https://app.daytona.io/api#top",
        "http://localhost:3000/api?",
    ] {
        let e = resolve(url).unwrap_err();
        assert!(e.to_string().contains("query or a fragment"), "{url}: {e}");
    }
    // Other hosts may serve the API at their root (a reverse proxy, a mock).
    let r = resolve("http://127.0.0.1:4010").unwrap();
    assert_eq!(r.api_url.as_str(), "http://127.0.0.1:4010/");
    assert_eq!(
        resolve("https://app.daytona.io/api/")
            .unwrap()
            .api_url
            .as_str(),
        "https://app.daytona.io/api"
    );
}

#[test]
fn zero_time_limits_fail_in_the_constructor() {
    type Set = fn(DaytonaConfig, Duration) -> DaytonaConfig;
    let settings: [(&str, Set); 4] = [
        ("connect_timeout", DaytonaConfig::connect_timeout),
        ("request_timeout", DaytonaConfig::request_timeout),
        ("wait_timeout", DaytonaConfig::wait_timeout),
        ("transfer_timeout", DaytonaConfig::transfer_timeout),
    ];
    for (name, set) in settings {
        let e = set(DaytonaConfig::new().api_key("k"), Duration::ZERO)
            .resolve(&env(&[]))
            .unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e:?}");
        assert!(e.to_string().contains(name), "{e}");
    }
    let forever = DaytonaConfig::new()
        .api_key("k")
        .wait_timeout(crate::WAIT_FOREVER)
        .resolve(&env(&[]));
    assert!(forever.is_ok());
}

#[test]
fn blank_settings_count_as_unset() {
    let e = DaytonaConfig::new()
        .api_key(" ")
        .jwt_token("")
        .resolve(&env(&[]))
        .unwrap_err();
    assert!(e.to_string().contains("DAYTONA_API_KEY"), "{e}");
    let r = DaytonaConfig::new()
        .api_key("")
        .api_url("  ")
        .target("")
        .resolve(&env(&[
            ("DAYTONA_API_KEY", "k"),
            ("DAYTONA_API_URL", "http://env.example/api"),
            ("DAYTONA_TARGET", "eu"),
        ]))
        .unwrap();
    assert_eq!(r.auth.bearer(), "Bearer k");
    assert_eq!(r.api_url.as_str(), "http://env.example/api");
    assert_eq!(r.target.as_deref(), Some("eu"));
    let e = DaytonaConfig::new()
        .jwt_token("jwt")
        .organization_id(" ")
        .resolve(&env(&[]))
        .unwrap_err();
    assert!(e.to_string().contains("DAYTONA_ORGANIZATION_ID"), "{e}");
}

#[test]
fn a_bad_url_from_the_environment_names_its_variable() {
    let e = DaytonaConfig::new()
        .api_key("k")
        .resolve(&env(&[("DAYTONA_API_URL", "nope")]))
        .unwrap_err();
    assert!(e.to_string().contains("DAYTONA_API_URL"), "{e}");
    let e = DaytonaConfig::new()
        .api_key("k")
        .resolve(&env(&[("DAYTONA_SERVER_URL", "nope")]))
        .unwrap_err();
    assert!(e.to_string().contains("DAYTONA_SERVER_URL"), "{e}");
}

#[test]
fn a_credential_that_cannot_be_a_header_is_refused_without_showing_it() {
    for key in ["sk-1\n", "sk 2", "sk-\u{e9}3", "a\r\nX-Injected: 1"] {
        let e = DaytonaConfig::new()
            .api_key(key)
            .resolve(&env(&[]))
            .unwrap_err();
        assert!(e.to_string().contains("the API key"), "{e}");
        assert!(!format!("{e} {e:?}").contains(key.trim()), "{e}");
    }
    let e = DaytonaConfig::new()
        .jwt_token("jwt\t")
        .organization_id("o")
        .resolve(&env(&[]))
        .unwrap_err();
    assert!(e.to_string().contains("the JWT"), "{e}");
}

#[test]
fn read_env_off_ignores_env() {
    let e = DaytonaConfig::new()
        .read_env(false)
        .resolve(&env(&[("DAYTONA_API_KEY", "k")]))
        .unwrap_err();
    assert!(matches!(e, Error::Config(_)));
}

#[test]
fn debug_hides_secrets() {
    let c = DaytonaConfig::new().api_key("sk-123").jwt_token("jwt-456");
    let s = format!("{c:?}");
    assert!(!s.contains("sk-123") && !s.contains("jwt-456"), "{s}");
    let r = c.organization_id("o").resolve(&env(&[])).unwrap();
    let s = format!("{r:?}");
    assert!(!s.contains("sk-123") && !s.contains("jwt-456"), "{s}");
}

#[test]
fn a_refused_api_url_is_quoted_without_its_secrets() {
    let resolve = |url: &str| {
        DaytonaConfig::new()
            .api_key("k")
            .api_url(url)
            .resolve(&env(&[]))
            .unwrap_err()
            .to_string()
    };
    for (url, shown) in [
        (
            "https://user:s3cret-pass@proxy.example/api",
            "https://<redacted>@proxy.example/api",
        ),
        (
            "https://user:s3cret-pass@bad host/api",
            "https://<redacted>@bad host/api",
        ),
        (
            "https://proxy.example/api?token=s3cret-pass",
            "https://proxy.example/api?<redacted>",
        ),
        ("http://a@b:s3cret-pass@x/api", "http://<redacted>@x/api"),
    ] {
        let e = resolve(url);
        assert!(!e.contains("s3cret"), "{url}: {e}");
        assert!(e.contains(shown), "{url}: {e}");
    }
    assert_eq!(shown_url(" http://x/api "), "http://x/api");
    assert_eq!(shown_url("user:pw@host/p"), "<redacted>@host/p");
}

#[test]
fn debug_hides_what_may_be_secret_in_the_urls() {
    #[allow(deprecated)]
    let c = DaytonaConfig::new()
        .api_url("https://user:s3cret-pass@proxy.example/api?token=s3cret-tok")
        .server_url("https://old:s3cret-old@old.example/api");
    let s = format!("{c:?}");
    assert!(!s.contains("s3cret"), "{s}");
    assert!(
        s.contains("https://<redacted>@proxy.example/api?<redacted>"),
        "{s}"
    );
    assert!(s.contains("https://<redacted>@old.example/api"), "{s}");
}
