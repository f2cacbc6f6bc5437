//! End-to-end scenarios against the local simulator (`daytona::testing`):
//! the whole SDK over real HTTP on loopback, no mocks.
#![cfg(feature = "testing")]

mod temp;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use daytona::testing::{ExecResult, Fault, LocalDaytona};
use daytona::toolbox::{Download, Downloaded, FilePermissions, TransferOptions, Upload};
use daytona::{
    CreateSandbox, CreateSnapshot, Error, ListSandboxes, ListSnapshots, SandboxState,
    SnapshotState, VolumeState,
};

fn local() -> LocalDaytona {
    LocalDaytona::start().expect("simulator")
}

/// Create → exec → upload → download → file operations → stop → start →
/// delete, in host mode.
#[test]
fn full_scenario_in_host_mode() {
    let local = local();
    let daytona = local.client();
    let mut sandbox = daytona
        .create(CreateSandbox::new().label("purpose", "e2e"))
        .unwrap();
    assert_eq!(sandbox.state(), Some(&SandboxState::Started));
    assert_eq!(sandbox.user_home_dir().unwrap(), "/home/daytona");

    let run = sandbox.process().exec("echo hello; echo oops >&2").unwrap();
    assert_eq!(run.exit_code, 0);
    assert_eq!(run.result, "hello\noops\n");
    let run = sandbox.process().exec("sh -c 'exit 3'").unwrap();
    assert_eq!(run.exit_code, 3);

    let fs = sandbox.fs();
    fs.upload_bytes(b"one TODO\ntwo\n", "notes/a.txt").unwrap();
    fs.upload_files(
        [
            Upload::bytes(&b"alpha"[..], "/data/x.rs"),
            Upload::bytes(&b"beta TODO"[..], "/data/sub/y.rs"),
        ],
        TransferOptions::new(),
    )
    .unwrap();
    // Files are real: the command sees them in its working directory.
    let run = sandbox.process().exec("cat notes/a.txt").unwrap();
    assert_eq!(run.result, "one TODO\ntwo\n");
    let dir = local.sandbox_dir(sandbox.id()).unwrap();
    assert_eq!(std::fs::read(dir.join("data/x.rs")).unwrap(), b"alpha");

    assert_eq!(
        fs.download_bytes("/home/daytona/notes/a.txt").unwrap(),
        b"one TODO\ntwo\n"
    );
    let results = fs
        .download_files(
            [
                Download::to_bytes("/data/x.rs"),
                Download::to_bytes("/missing"),
            ],
            TransferOptions::new(),
        )
        .unwrap();
    assert_eq!(
        results[0].result.as_ref().unwrap(),
        &Downloaded::Bytes(b"alpha".to_vec())
    );
    assert!(results[1].result.as_ref().unwrap_err().is_not_found());

    let names: Vec<String> = fs
        .list_files("/data")
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, ["sub", "x.rs"]);
    let info = fs.get_file_info("/data/x.rs").unwrap();
    assert_eq!((info.size, info.is_dir), (5, false));
    assert!(fs.get_file_info("/nope").unwrap_err().is_not_found());
    let found = fs.find_files("/", "TODO").unwrap();
    let files: HashSet<&str> = found.iter().map(|m| m.file.as_str()).collect();
    assert_eq!(
        files,
        HashSet::from(["/home/daytona/notes/a.txt", "/data/sub/y.rs"])
    );
    // As the toolbox matches: the path below the folder, `**` for depth.
    assert_eq!(fs.search_files("/data", "*.rs").unwrap(), ["/data/x.rs"]);
    assert_eq!(
        fs.search_files("/data", "**/*.rs").unwrap(),
        ["/data/sub/y.rs", "/data/x.rs"]
    );
    assert_eq!(
        fs.search_files("/data", "{sub,other}/*.{rs,py}").unwrap(),
        ["/data/sub/y.rs"]
    );
    assert!(fs.search_files("/data", "[").unwrap_err().status() == Some(400));
    let replaced = fs
        .replace_in_files(&["/data/x.rs", "/nope"], "alpha", "gamma")
        .unwrap();
    assert!(replaced[0].success && !replaced[1].success);
    assert_eq!(fs.download_bytes("/data/x.rs").unwrap(), b"gamma");
    fs.create_folder("/data/new", "700").unwrap();
    fs.move_files("/data/x.rs", "/data/new/z.rs").unwrap();
    fs.set_file_permissions("/data/new/z.rs", FilePermissions::new().mode("600"))
        .unwrap();
    assert_eq!(
        fs.get_file_info("/data/new/z.rs").unwrap().permissions,
        "0600"
    );
    assert!(fs.delete_file("/data").is_err());
    fs.delete_recursive("/data").unwrap();
    assert!(!dir.join("data").exists());
    assert!(fs.download_bytes("/../../etc/passwd").is_err());

    sandbox.stop().unwrap();
    assert_eq!(sandbox.state(), Some(&SandboxState::Stopped));
    // The toolbox of a stopped sandbox does not answer.
    assert!(sandbox.process().exec("true").is_err());
    sandbox.start().unwrap();
    assert_eq!(sandbox.state(), Some(&SandboxState::Started));
    sandbox.delete().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while daytona.get_opt(sandbox.id()).unwrap().is_some() {
        assert!(Instant::now() < deadline, "the sandbox was never removed");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(!dir.exists(), "the sandbox directory is removed with it");
}

/// A streamed (chunked) upload of several MiB and a download to a file.
#[test]
fn large_streamed_transfer() {
    let local = local_scripted();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    let data: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
    sandbox
        .fs()
        .upload_reader(&data[..], "/big/blob.bin")
        .unwrap();
    let dir = temp::TempDir::new("e2e-local");
    let out = dir.path("blob.bin");
    let size = sandbox.fs().download_file("/big/blob.bin", &out).unwrap();
    assert_eq!(size, data.len() as u64);
    assert!(std::fs::read(&out).unwrap() == data);
}

/// The wire shows the real sequence of states.
#[test]
fn create_goes_through_creating_and_starting() {
    let local = LocalDaytona::builder()
        .state_delay(Duration::from_millis(300))
        .start()
        .unwrap();
    let url = format!("{}/sandbox", local.api_url());
    let agent = ureq::Agent::new_with_defaults();
    let auth = format!("Bearer {}", local.api_key());
    let text = agent
        .post(&url)
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .send(r#"{"labels":{}}"#)
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let created: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(created["state"], "creating");
    let id = created["id"].as_str().unwrap();
    let mut seen = vec!["creating".to_string()];
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.last().unwrap() != "started" {
        assert!(Instant::now() < deadline);
        let text = agent
            .get(&format!("{url}/{id}"))
            .header("authorization", &auth)
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let state = v["state"].as_str().unwrap().to_string();
        if seen.last() != Some(&state) {
            seen.push(state);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(seen, ["creating", "starting", "started"]);
    // No bearer token: 401, as the real API.
    let e = agent.get(&format!("{url}/{id}")).call().unwrap_err();
    assert!(matches!(e, ureq::Error::StatusCode(401)), "{e}");
}

/// 16 threads create, run and delete at once.
#[test]
fn parallel_creates_from_16_threads() {
    let local = local();
    let daytona = local.client();
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let daytona = daytona.clone();
                s.spawn(move || {
                    let mut sb = daytona
                        .create(CreateSandbox::new().label("thread", i.to_string()))
                        .unwrap();
                    let out = sb.process().exec(&format!("echo {i}")).unwrap();
                    assert_eq!(out.result.trim(), i.to_string());
                    let id = sb.id().to_string();
                    sb.delete().unwrap();
                    id
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 16);
}

/// Over 1,000 sandboxes listed through cursor pages, with filters.
#[test]
fn list_over_1000_sandboxes() {
    let local = LocalDaytona::builder()
        .scripted()
        .state_delay(Duration::ZERO)
        .start()
        .unwrap();
    let daytona = local.client();
    std::thread::scope(|s| {
        for t in 0..16 {
            let daytona = daytona.clone();
            s.spawn(move || {
                for i in (t..1050).step_by(16) {
                    let parity = if i % 2 == 0 { "even" } else { "odd" };
                    daytona
                        .create(CreateSandbox::new().label("parity", parity))
                        .unwrap();
                }
            });
        }
    });
    local.clear_requests();
    let all: Vec<String> = daytona
        .list(ListSandboxes::new().limit(200))
        .map(|s| s.unwrap().id().to_string())
        .collect();
    assert_eq!(all.len(), 1050);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 1050);
    let pages = local.requests();
    assert_eq!(pages.len(), 6, "1050 items in pages of 200");
    assert!(pages[1].query.iter().any(|(k, _)| k == "cursor"));

    let even = daytona
        .list(ListSandboxes::new().label("parity", "even").limit(100))
        .count();
    assert_eq!(even, 525);
    let prefix = &all[0][..2];
    let by_prefix = daytona
        .list(ListSandboxes::new().id_prefix(prefix))
        .map(|s| s.unwrap())
        .collect::<Vec<_>>();
    assert!(by_prefix.iter().all(|s| s.id().starts_with(prefix)));
    assert!(!by_prefix.is_empty());
}

/// A create from an image: `pending_build`, then the build log streams.
#[test]
fn image_build_streams_its_logs() {
    let local = LocalDaytona::builder()
        .build_duration(Duration::from_millis(300))
        .start()
        .unwrap();
    let daytona = local.client();
    let mut lines = Vec::new();
    let mut sandbox = daytona
        .create_with_logs(CreateSandbox::from_image("python:3.12-slim"), |l| {
            lines.push(l.to_string())
        })
        .unwrap();
    assert_eq!(sandbox.state(), Some(&SandboxState::Started));
    assert_eq!(lines[0], "Step 1/1 : FROM python:3.12-slim");
    assert!(lines.last().unwrap().contains("Successfully built"));
    assert!(local
        .requests()
        .iter()
        .any(|r| r.path.ends_with("/build-logs")));
    sandbox.delete().unwrap();
}

#[test]
fn build_failed_and_error_fail_waits_with_their_reason() {
    let local = LocalDaytona::builder()
        .build_duration(Duration::from_secs(30))
        .start()
        .unwrap();
    let daytona = local.client();
    std::thread::scope(|s| {
        let creating = s.spawn(|| daytona.create(CreateSandbox::from_image("node:22")));
        let id = loop {
            if let Some(sb) = daytona.list(ListSandboxes::new()).next() {
                break sb.unwrap().id().to_string();
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(local.force_state(&id, "build_failed", Some("no such image")));
        let e = creating.join().unwrap().unwrap_err();
        assert_eq!(e.sandbox_id(), Some(id.as_str()));
        match e.root() {
            Error::SandboxFailed { state, reason, .. } => {
                assert_eq!(state, &SandboxState::BuildFailed);
                assert_eq!(reason.as_deref(), Some("no such image"));
            }
            other => panic!("{other:?}"),
        }
    });

    let local = local_scripted();
    let daytona = local.client();
    let mut sandbox = daytona.create(CreateSandbox::new()).unwrap();
    assert!(local.force_state(sandbox.id(), "error", Some("disk full")));
    assert!(!local.force_state("nope", "error", None));
    sandbox.refresh().unwrap();
    assert_eq!(sandbox.state(), Some(&SandboxState::Error));
    assert_eq!(sandbox.info().error_reason.as_deref(), Some("disk full"));
    let e = sandbox
        .wait_until_started(Duration::from_secs(5))
        .unwrap_err();
    assert!(e.to_string().contains("disk full"), "{e}");
}

fn local_scripted() -> LocalDaytona {
    LocalDaytona::builder().scripted().start().unwrap()
}

/// Scripted mode answers from the script and runs nothing.
#[test]
fn scripted_mode_runs_nothing() {
    let local = LocalDaytona::builder()
        .scripted()
        .on_exec("make test", ExecResult::new(0, "ok"))
        .start()
        .unwrap();
    local.on_exec("print(1)", ExecResult::ok("1\n"));
    let daytona = local.client();
    let sandbox = daytona.create(CreateSandbox::new()).unwrap();
    let run = sandbox.process().exec("make test").unwrap();
    assert_eq!((run.exit_code, run.result.as_str()), (0, "ok"));
    let run = sandbox.process().exec("touch created").unwrap();
    assert_eq!(run.exit_code, 127);
    assert!(run.result.contains("on_exec"), "{}", run.result);
    let dir = local.sandbox_dir(sandbox.id()).unwrap();
    assert!(!dir.join("home/daytona/created").exists());
    assert_eq!(
        sandbox.process().code_run("print(1)").unwrap().result,
        "1\n"
    );
    // Files still work in scripted mode.
    sandbox.fs().upload_bytes("x", "/f").unwrap();
    assert_eq!(sandbox.fs().download_bytes("/f").unwrap(), b"x");
    assert!(local.is_scripted());
}

#[test]
fn sessions_and_code_run_in_host_mode() {
    let local = local();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    let p = sandbox.process();
    p.create_session("s1").unwrap();
    let out = p
        .execute_session_command("s1", "echo in-session", Default::default())
        .unwrap();
    assert_eq!(out.exit_code, Some(0));
    let logs = p.get_session_command_logs("s1", &out.cmd_id).unwrap();
    assert_eq!(logs.stdout, "in-session\n");
    let session = p.get_session("s1").unwrap();
    assert_eq!(session.commands.len(), 1);
    assert_eq!(p.list_sessions().unwrap().len(), 1);
    p.delete_session("s1").unwrap();
    assert!(p.get_session("s1").unwrap_err().is_not_found());

    let has_python = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if has_python {
        let run = p.code_run("print(6 * 7)").unwrap();
        assert_eq!((run.exit_code, run.result.trim()), (0, "42"));
    }
    let e = p
        .exec_with(
            "sleep 5",
            daytona::toolbox::ExecOptions::new().timeout(Duration::from_secs(1)),
        )
        .unwrap_err();
    assert_eq!(e.status(), Some(408), "{e}");
}

#[test]
fn commands_sessions_and_code_runs_get_the_sandbox_env_vars() {
    let local = local();
    let sandbox = local
        .client()
        .create(
            CreateSandbox::new()
                .env("GREETING", "from-the-sandbox")
                .env("SHADOWED", "sandbox"),
        )
        .unwrap();
    let p = sandbox.process();
    let run = p.exec("echo \"$GREETING $SHADOWED\"").unwrap();
    assert_eq!(run.result, "from-the-sandbox sandbox\n");
    // A command's own env vars come after the sandbox's, and win.
    let run = p
        .exec_with(
            "echo \"$GREETING $SHADOWED\"",
            daytona::toolbox::ExecOptions::new().env("SHADOWED", "command"),
        )
        .unwrap();
    assert_eq!(run.result, "from-the-sandbox command\n");
    p.create_session("s1").unwrap();
    let out = p
        .execute_session_command("s1", "echo \"$GREETING\"", Default::default())
        .unwrap();
    let logs = p.get_session_command_logs("s1", &out.cmd_id).unwrap();
    assert_eq!(logs.stdout, "from-the-sandbox\n");
    let has_python = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if has_python {
        let run = p
            .code_run("import os; print(os.environ['GREETING'])")
            .unwrap();
        assert_eq!(run.result, "from-the-sandbox\n");
    }
}

#[test]
fn faults_statuses_delays_and_drops() {
    let local = local_scripted();
    let daytona = local.client();
    let sandbox = daytona.create(CreateSandbox::new()).unwrap();
    let id = sandbox.id().to_string();

    // Two 503s are retried away.
    local.clear_requests();
    local.fail_next("GET /api/sandbox/*", 2, Fault::Status(503));
    daytona.get(&id).unwrap();
    let gets = local.requests();
    assert_eq!(gets.len(), 3);
    assert!(gets
        .iter()
        .all(|r| r.method == "GET" && r.path == format!("/api/sandbox/{id}")));

    // A status that is not retried reaches the caller.
    local.fail_next("/api/sandbox/*", 1, Fault::Status(404));
    assert!(daytona.get(&id).unwrap_err().is_not_found());
    daytona.get(&id).unwrap();

    // A dropped create fails, and no sandbox was created.
    local.fail_next("POST /api/sandbox", 1, Fault::Drop);
    assert!(daytona.create(CreateSandbox::new()).is_err());
    assert_eq!(daytona.list(ListSandboxes::new()).count(), 1);

    // A delay longer than the request timeout is a timeout.
    let slow = daytona::Daytona::new(
        local
            .config()
            .request_timeout(Duration::from_millis(100))
            .max_attempts(1),
    )
    .unwrap();
    local.fail_next("/toolbox/**", 1, Fault::Delay(Duration::from_millis(400)));
    let sb = slow.get(&id).unwrap();
    let e = sb.process().exec("anything").unwrap_err();
    assert!(e.is_timeout(), "{e}");
    local.clear_faults();
}

#[test]
fn snapshots_and_volumes_have_their_states() {
    let local = local_scripted();
    let daytona = local.client();
    let snapshots = daytona.snapshots();
    let mut log = Vec::new();
    let snap = snapshots
        .create_with_logs(CreateSnapshot::from_image("my-snap", "python:3.12"), |l| {
            log.push(l.to_string())
        })
        .unwrap();
    assert_eq!(snap.state, SnapshotState::Active);
    assert!(log.iter().any(|l| l.contains("(pending)")), "{log:?}");
    assert_eq!(snapshots.get("my-snap").unwrap().id, snap.id);
    for i in 0..4 {
        snapshots
            .create(CreateSnapshot::from_image(format!("s{i}"), "alpine"))
            .unwrap();
    }
    let page = snapshots
        .list_page(ListSnapshots::new().limit(2).page(2))
        .unwrap();
    assert_eq!((page.total, page.total_pages, page.items.len()), (6, 3, 2));
    assert_eq!(snapshots.list(ListSnapshots::new().limit(2)).count(), 6);
    let sb = daytona
        .create(CreateSandbox::from_snapshot("my-snap"))
        .unwrap();
    assert_eq!(sb.info().snapshot.as_deref(), Some("my-snap"));
    assert!(daytona
        .create(CreateSandbox::from_snapshot("missing"))
        .unwrap_err()
        .is_not_found());

    let volumes = daytona.volumes();
    let v = volumes.create("data").unwrap();
    assert_eq!(v.state, VolumeState::PendingCreate);
    let v = volumes
        .wait_until_ready_with_timeout("data", Duration::from_secs(5))
        .unwrap();
    assert_eq!(v.state, VolumeState::Ready);
    assert!(volumes.create("data").unwrap_err().is_conflict());
    assert_eq!(volumes.get_or_create("data").unwrap().id, v.id);
    volumes.delete(&v).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert!(volumes.get("data").unwrap_err().is_not_found());
    assert_eq!(volumes.list_including_deleted().unwrap().len(), 1);
}

#[test]
fn labels_and_independent_simulators() {
    let a = local_scripted();
    let b = local_scripted();
    assert_ne!(a.addr(), b.addr());
    let mut sb = a.client().create(CreateSandbox::new().name("one")).unwrap();
    assert!(a
        .client()
        .create(CreateSandbox::new().name("one"))
        .unwrap_err()
        .is_conflict());
    assert_eq!(b.client().list(ListSandboxes::new()).count(), 0);
    let labels = sb
        .set_labels([("k".to_string(), "v".to_string())].into_iter().collect())
        .unwrap();
    assert_eq!(labels.get("k").map(String::as_str), Some("v"));
    sb.refresh().unwrap();
    assert_eq!(sb.info().labels.get("k").map(String::as_str), Some("v"));
    assert_eq!(a.client().get("one").unwrap().id(), sb.id());
    let url = a.api_url();
    drop(a);
    let stopped = daytona::Daytona::new(
        daytona::DaytonaConfig::new()
            .read_env(false)
            .api_key("k")
            .api_url(url)
            .max_attempts(1),
    )
    .unwrap();
    assert!(stopped.get("one").is_err(), "a dropped simulator stops");
}
