use super::*;

#[test]
fn helpers_look_through_after_create() {
    let inner = Error::Api(Box::new(ApiError {
        status: 404,
        message: "gone".into(),
        code: None,
        retry_after: None,
        operation: "GET /sandbox/x".into(),
    }));
    let e = Error::AfterCreate {
        sandbox_id: "x".into(),
        source: Box::new(inner),
    };
    assert!(e.is_not_found());
    assert!(e.is_after_create());
    assert_eq!(e.sandbox_id(), Some("x"));
    assert_eq!(e.to_string(), "sandbox x was created but is not usable");
    assert_eq!(
        e.report().to_string(),
        "sandbox x was created but is not usable: GET /sandbox/x: HTTP 404: gone"
    );
}

/// Every error with the kinds that describe it (the predicates look
/// through `AfterCreate`).
fn samples() -> Vec<(Error, &'static str)> {
    let api = |status| {
        Error::Api(Box::new(ApiError {
            status,
            message: "m".into(),
            code: None,
            retry_after: None,
            operation: "POST /toolbox/x/process/execute".into(),
        }))
    };
    vec![
        (api(404), "not_found"),
        (api(408), "timeout api"),
        (Error::validation("name", "must not be empty"), "validation"),
        (Error::Config("no credentials".into()), "config"),
        (
            Error::Config(NO_CREDENTIALS.into()),
            "config missing_credentials",
        ),
        (
            Error::Timeout {
                operation: "waiting".into(),
                after: Duration::from_secs(1),
            },
            "timeout",
        ),
        (
            Error::SandboxFailed {
                id: "s".into(),
                state: SandboxState::Error,
                reason: None,
            },
            "sandbox_failed",
        ),
        (
            Error::SnapshotFailed {
                name: "n".into(),
                state: SnapshotState::BuildFailed,
                reason: Some("r".into()),
            },
            "snapshot_failed",
        ),
        (
            Error::VolumeFailed {
                name: "v".into(),
                state: VolumeState::Error,
                reason: None,
            },
            "volume_failed",
        ),
        (
            Error::Transport {
                operation: "GET /x".into(),
                source: Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
            },
            "transport",
        ),
        (
            Error::Decode {
                operation: "GET /x".into(),
                message: "missing field `id`".into(),
                excerpt: "{}".into(),
            },
            "decode",
        ),
        (
            Error::Io {
                path: "/tmp/x".into(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            },
            "io",
        ),
        (
            Error::TooLarge {
                operation: "GET /sandbox/x".into(),
                what: "the JSON answer".into(),
                limit: 4,
                unit: "bytes",
            },
            "too_large",
        ),
    ]
}

type Predicate = fn(&Error) -> bool;

fn kinds(e: &Error) -> Vec<&'static str> {
    let checks: [(&str, Predicate); 13] = [
        ("not_found", Error::is_not_found),
        ("timeout", Error::is_timeout),
        ("api", |e| e.api().is_some()),
        ("validation", Error::is_validation),
        ("config", Error::is_config),
        ("missing_credentials", Error::is_missing_credentials),
        ("sandbox_failed", Error::is_sandbox_failed),
        ("snapshot_failed", Error::is_snapshot_failed),
        ("volume_failed", Error::is_volume_failed),
        ("transport", Error::is_transport),
        ("decode", Error::is_decode),
        ("io", Error::is_io),
        ("too_large", Error::is_too_large),
    ];
    checks
        .iter()
        .filter(|(_, f)| f(e))
        .map(|(n, _)| *n)
        .collect()
}

#[test]
fn every_kind_has_a_predicate_that_looks_through_after_create() {
    for (e, expected) in samples() {
        let mut want: Vec<&str> = expected.split(' ').collect();
        if want == ["not_found"] {
            want.push("api");
        }
        want.sort();
        let mut got = kinds(&e);
        got.sort();
        assert_eq!(got, want, "{e:?}");
        let wrapped = Error::AfterCreate {
            sandbox_id: "s".into(),
            source: Box::new(e),
        };
        let mut got = kinds(&wrapped);
        got.sort();
        assert_eq!(got, want, "{wrapped:?}");
        assert!(wrapped.is_after_create());
    }
}

#[test]
fn a_408_is_a_timeout_that_keeps_its_status() {
    let (e, _) = samples().swap_remove(1);
    assert!(e.is_timeout());
    assert_eq!(e.status(), Some(408));
    assert!(matches!(e, Error::Api(_)));
}

/// An error-chain printer, as `anyhow`'s `{:#}` or `eyre`'s: each
/// error's `Display`, then its `source`'s, and so on.
fn chain(e: &dyn std::error::Error) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut next = e.source();
    while let Some(cause) = next {
        out.push(cause.to_string());
        next = cause.source();
    }
    out
}

#[test]
fn no_display_repeats_its_cause() {
    for (e, _) in samples() {
        let wrapped = Error::AfterCreate {
            sandbox_id: "s".into(),
            source: Box::new(Error::Transport {
                operation: "GET /x".into(),
                source: Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionReset)),
            }),
        };
        for error in [&e, &wrapped] {
            let links = chain(error);
            for pair in links.windows(2) {
                assert!(
                    !pair[0].contains(&pair[1]),
                    "{:?} repeats its cause {:?}",
                    pair[0],
                    pair[1]
                );
            }
            assert_eq!(error.report().to_string(), links.join(": "));
        }
    }
}

#[test]
fn a_cause_its_wrapper_already_ends_with_is_reported_once() {
    // As tungstenite's protocol errors: "WebSocket protocol error: X",
    // whose source is X.
    let e = Error::Transport {
        operation: "GET /logs".into(),
        source: Box::new(tungstenite_like()),
    };
    assert_eq!(
        e.report().to_string(),
        "GET /logs: protocol error: bad opcode: io"
    );
}

/// `protocol error: bad opcode`, caused by `bad opcode`, caused by `io`.
fn tungstenite_like() -> impl std::error::Error + Send + Sync + 'static {
    #[derive(Debug)]
    struct Outer(Inner);
    #[derive(Debug)]
    struct Inner(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "protocol error: {}", self.0)
        }
    }
    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("bad opcode")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    impl std::error::Error for Inner {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    Outer(Inner(std::io::Error::other("io")))
}

#[test]
fn a_timeout_carried_in_an_io_error_is_a_timeout() {
    // What a log stream read line by line from ureq's body reader meets:
    // the reader's timeout comes as an `io::Error` wrapping ureq's.
    let stalled = ureq::Error::Timeout(ureq::Timeout::RecvBody).into_io();
    assert_eq!(stalled.kind(), std::io::ErrorKind::Other);
    let e = Error::Transport {
        operation: "GET /api/snapshots/s/build-logs".into(),
        source: Box::new(stalled),
    };
    assert!(e.is_timeout(), "{e}");
    assert!(e.is_transport());
    assert_eq!(e.to_string(), "GET /api/snapshots/s/build-logs: timed out");
    assert!(std::error::Error::source(&e).is_some());

    let timed_out = Error::Transport {
        operation: "GET /x".into(),
        source: Box::new(std::io::Error::from(std::io::ErrorKind::TimedOut)),
    };
    assert!(timed_out.is_timeout());
    let failed = Error::Transport {
        operation: "GET /x".into(),
        source: Box::new(ureq::Error::ConnectionFailed.into_io()),
    };
    assert!(!failed.is_timeout());
    assert_eq!(
        failed.to_string(),
        "GET /x: the connection could not be made"
    );
}
