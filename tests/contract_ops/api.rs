//! The main API's operations of a contract round: the client, a
//! sandbox's own operations, snapshots and volumes.

use std::time::Duration;

use daytona::models::{GpuType, SandboxClass};
use daytona::{
    CodeLanguage, CreateSandbox, CreateSnapshot, Image, ListSandboxes, ListSnapshots,
    NetworkSettings, Resize, Resources, SandboxSort, SandboxState, SnapshotSort, SortOrder,
    VolumeMount,
};

use crate::contract_support::proxy::MISSING;
use crate::{Expect, Suite, WAIT};

impl Suite {
    pub(crate) fn client_operations(&mut self) {
        let d = self.daytona.clone();
        self.op("Daytona::get", Expect::NotFound, || d.get(MISSING));
        let found = self.op("Daytona::get_opt", Expect::Ok, || {
            d.get_opt("contract-sandbox")
        });
        self.check("Daytona::get_opt", matches!(found, Some(Some(_))), || {
            "an existing sandbox is None".into()
        });
        let gone = self.op("Daytona::get_opt", Expect::Ok, || d.get_opt(MISSING));
        self.check("Daytona::get_opt", matches!(gone, Some(None)), || {
            "the real server's 404 is not None".into()
        });

        // Every field of `CreateSandbox`.
        self.op("Daytona::create", Expect::Wait, || {
            d.create(
                CreateSandbox::from_snapshot("contract-snapshot")
                    .name("contract-sandbox")
                    .user("daytona")
                    .language(CodeLanguage::TypeScript)
                    .env("APP_ENV", "test")
                    .label("team", "contract")
                    .public(false)
                    .auto_stop_interval(15)
                    .auto_archive_interval(60)
                    .auto_delete_interval(0)
                    .volume(VolumeMount::new("contract-volume", "/data").subpath("users/ada"))
                    .network(
                        NetworkSettings::new()
                            .block_all(false)
                            .allow_list("10.0.0.0/8,192.168.0.0/16")
                            .domain_allow_list("example.com"),
                    )
                    .linked_sandbox("contract-linked")
                    .timeout(WAIT),
            )
        });
        // From a registry image, with resources; and ephemeral.
        self.op("Daytona::create", Expect::Wait, || {
            d.create(
                CreateSandbox::from_image("python:3.12-slim")
                    .resources(
                        Resources::new()
                            .cpu(2)
                            .gpu(1)
                            .gpu_type(GpuType::H100)
                            .memory(4)
                            .disk(10),
                    )
                    .ephemeral(true),
            )
        });
        self.op("Daytona::create", Expect::Wait, || {
            d.create(CreateSandbox::new())
        });
        // From a declarative image with a build context: push access, the
        // object store (stub), then the create; and, while it builds, its
        // logs. The mock's `state` is set for this call (`pending_build` in
        // the create's answer, `started` after it), so the whole flow runs
        // whatever the timing: build-log URL, logs, wait.
        let context = self.scratch_file("context.txt", b"contract build context\n");
        let image = Image::debian_slim(Some("3.12"))
            .and_then(|i| i.pip_install(["requests==2.32.3"]))
            .and_then(|i| i.add_local_file(&context, "/app/context.txt"))
            .and_then(|i| i.workdir("/app"))
            .unwrap();
        let mut lines = Vec::new();
        self.shared
            .set_override("createSandbox", "state", "pending_build");
        self.shared.set_override("getSandbox", "state", "started");
        let from = self.shared.len();
        self.op("Daytona::create_with_logs", Expect::Ok, || {
            d.create_with_logs(
                CreateSandbox::from_image(image.clone()).timeout(Duration::from_secs(20)),
                |l| lines.push(l.to_string()),
            )
        });
        self.shared.clear_overrides();
        self.expect_route(
            "Daytona::create_with_logs",
            from,
            "GET /sandbox/{sandboxIdOrName}/build-logs",
        );

        // Every filter of `ListSandboxes`.
        let query = ListSandboxes::new()
            .limit(2)
            .id_prefix("contract")
            .name_prefix("contract")
            .label("team", "contract")
            .include_errored_deleted(true)
            .state(SandboxState::Started)
            .state(SandboxState::Stopped)
            .snapshot("contract-snapshot")
            .target("us")
            .class(SandboxClass::Container)
            .min_cpu(1)
            .max_cpu(4)
            .min_memory_gib(1)
            .max_memory_gib(8)
            .min_disk_gib(1)
            .max_disk_gib(20)
            .public(false)
            .recoverable(true)
            .created_after("2026-01-01T00:00:00Z")
            .created_before("2026-12-31T00:00:00Z")
            .last_activity_after("2026-01-01T00:00:00Z")
            .last_activity_before("2026-12-31T00:00:00Z")
            .sort(SandboxSort::CreatedAt, SortOrder::Desc);
        self.op("Daytona::list", Expect::Listing, || {
            d.list(query).take(5).collect::<daytona::Result<Vec<_>>>()
        });
        self.op("Daytona::list", Expect::Listing, || {
            d.list(ListSandboxes::new())
                .take(5)
                .collect::<daytona::Result<Vec<_>>>()
        });
        self.op("Daytona::list_page", Expect::Ok, || {
            d.list_page(ListSandboxes::new().limit(5))
        });
        self.op("Daytona::validate_ssh_access", Expect::Ok, || {
            d.validate_ssh_access("contract-token")
        });
        if let Ok(mut sandbox) = d.get("contract-sandbox") {
            self.op("Daytona::start", Expect::Wait, || {
                d.start(&mut sandbox, WAIT)
            });
            self.op("Daytona::stop", Expect::Wait, || d.stop(&mut sandbox));
            self.op("Daytona::experimental_fork", Expect::Wait, || {
                d.experimental_fork(&sandbox, Some("contract-fork"), WAIT)
            });
            self.op("Daytona::delete", Expect::Wait, || {
                d.delete(&mut sandbox, WAIT)
            });
        }
    }

    pub(crate) fn sandbox_operations(&mut self, sb: &mut daytona::Sandbox) {
        self.op("Sandbox::refresh", Expect::Ok, || sb.refresh());
        self.op("Sandbox::wait_until_started", Expect::Wait, || {
            sb.wait_until_started(WAIT)
        });
        self.op("Sandbox::wait_until_stopped", Expect::Wait, || {
            sb.wait_until_stopped(WAIT)
        });
        self.op("Sandbox::start", Expect::Wait, || sb.start());
        self.op("Sandbox::start_with_timeout", Expect::Wait, || {
            sb.start_with_timeout(WAIT)
        });
        self.op("Sandbox::stop", Expect::Wait, || sb.stop());
        self.op("Sandbox::stop_with_timeout", Expect::Wait, || {
            sb.stop_with_timeout(WAIT)
        });
        self.op("Sandbox::force_stop", Expect::Wait, || sb.force_stop());
        self.op("Sandbox::force_stop_with_timeout", Expect::Wait, || {
            sb.force_stop_with_timeout(WAIT)
        });
        self.op("Sandbox::recover", Expect::Wait, || sb.recover());
        self.op("Sandbox::recover_with_timeout", Expect::Wait, || {
            sb.recover_with_timeout(WAIT)
        });
        self.op("Sandbox::pause", Expect::Wait, || sb.pause());
        self.op("Sandbox::pause_with_timeout", Expect::Wait, || {
            sb.pause_with_timeout(WAIT)
        });
        self.op("Sandbox::resize", Expect::Wait, || {
            sb.resize(Resize::new().cpu(2).memory(4).disk(20))
        });
        self.op("Sandbox::resize_with_timeout", Expect::Wait, || {
            sb.resize_with_timeout(Resize::new().cpu(1), WAIT)
        });
        self.op(
            "Sandbox::experimental_create_snapshot",
            Expect::Wait,
            || sb.experimental_create_snapshot("contract-snapshot"),
        );
        self.op(
            "Sandbox::experimental_create_snapshot_with_timeout",
            Expect::Wait,
            || sb.experimental_create_snapshot_with_timeout("contract-snapshot", WAIT),
        );
        self.op("Sandbox::experimental_fork", Expect::Wait, || {
            sb.experimental_fork(Some("contract-fork"))
        });
        self.op(
            "Sandbox::experimental_fork_with_timeout",
            Expect::Wait,
            || sb.experimental_fork_with_timeout(None, WAIT),
        );
        self.op("Sandbox::archive", Expect::Wait, || sb.archive());
        self.op("Sandbox::archive_with_timeout", Expect::Wait, || {
            sb.archive_with_timeout(WAIT)
        });
        let labels: std::collections::HashMap<String, String> =
            [("team".to_string(), "contract".to_string())].into();
        self.op("Sandbox::set_labels", Expect::Ok, || sb.set_labels(labels));
        self.op("Sandbox::set_auto_stop_interval", Expect::Ok, || {
            sb.set_auto_stop_interval(15)
        });
        self.op("Sandbox::set_auto_archive_interval", Expect::Ok, || {
            sb.set_auto_archive_interval(60)
        });
        self.op("Sandbox::set_auto_delete_interval", Expect::Ok, || {
            sb.set_auto_delete_interval(-1)
        });
        self.op("Sandbox::update_network_settings", Expect::Ok, || {
            sb.update_network_settings(
                NetworkSettings::new()
                    .block_all(false)
                    .allow_list("10.0.0.0/8")
                    .domain_allow_list("example.com"),
            )
        });
        self.op("Sandbox::refresh_activity", Expect::Ok, || {
            sb.refresh_activity()
        });
        self.op("Sandbox::preview_link", Expect::Ok, || {
            sb.preview_link(3000)
        });
        self.op("Sandbox::signed_preview_url", Expect::Ok, || {
            sb.signed_preview_url(3000, Some(Duration::from_secs(120)))
        });
        self.op("Sandbox::signed_preview_url", Expect::Ok, || {
            sb.signed_preview_url(3000, None)
        });
        self.op("Sandbox::expire_signed_preview_url", Expect::Ok, || {
            sb.expire_signed_preview_url(3000, "contract-token")
        });
        self.op("Sandbox::create_ssh_access", Expect::Ok, || {
            sb.create_ssh_access(Some(Duration::from_secs(1800)))
        });
        self.op("Sandbox::revoke_ssh_access", Expect::Ok, || {
            sb.revoke_ssh_access(Some("contract-token"))
        });
        self.op("Sandbox::revoke_ssh_access", Expect::Ok, || {
            sb.revoke_ssh_access(None)
        });
        self.op("Sandbox::validate_ssh_access", Expect::Ok, || {
            sb.validate_ssh_access("contract-token")
        });
        self.op("Sandbox::user_home_dir", Expect::Ok, || sb.user_home_dir());
        self.op("Sandbox::work_dir", Expect::Ok, || sb.work_dir());
        self.op("Sandbox::delete", Expect::Wait, || sb.delete());
        self.op("Sandbox::delete_with_timeout", Expect::Wait, || {
            sb.delete_with_timeout(WAIT)
        });
    }

    pub(crate) fn snapshot_operations(&mut self) {
        let s = self.daytona.snapshots();
        self.op("Snapshots::list_page", Expect::Ok, || {
            s.list_page(
                ListSnapshots::new()
                    .page(1)
                    .limit(10)
                    .name("contract")
                    .sort(SnapshotSort::LastUsedAt, SortOrder::Asc),
            )
        });
        self.op("Snapshots::list", Expect::Listing, || {
            s.list(ListSnapshots::new().limit(2))
                .take(5)
                .collect::<daytona::Result<Vec<_>>>()
        });
        let snapshot = self.op("Snapshots::get", Expect::Ok, || s.get("contract-snapshot"));
        if let Some(snapshot) = snapshot {
            self.op("Snapshots::activate", Expect::Ok, || s.activate(&snapshot));
            self.op("Snapshots::delete", Expect::Ok, || s.delete(&snapshot));
        }
        self.op("Snapshots::create", Expect::Wait, || {
            s.create(
                CreateSnapshot::from_image("contract-snapshot", "python:3.12-slim")
                    .resources(
                        Resources::new()
                            .cpu(2)
                            .gpu(1)
                            .gpu_type(GpuType::H100)
                            .memory(4)
                            .disk(10),
                    )
                    .entrypoint(["sleep", "infinity"])
                    .region_id("us")
                    .sandbox_class(SandboxClass::Container)
                    .timeout(WAIT),
            )
        });
        // A declarative image: build context, then the build logs. The
        // mock's state is set for this call (`building` in the create's
        // answer, `active` after it), so the whole flow runs.
        let context = self.scratch_file("snapshot-context.txt", b"snapshot context\n");
        let image = Image::base("python:3.12-slim")
            .add_local_file(&context, "/app/context.txt")
            .unwrap()
            .run_commands(["echo built"]);
        let mut lines = Vec::new();
        self.shared
            .set_override("createSnapshot", "state", "building");
        self.shared.set_override("getSnapshot", "state", "active");
        let from = self.shared.len();
        self.op("Snapshots::create_with_logs", Expect::Ok, || {
            s.create_with_logs(
                CreateSnapshot::from_image("contract-image", image)
                    .entrypoint(["python", "-m", "app"])
                    .timeout(Duration::from_secs(20)),
                |l| lines.push(l.to_string()),
            )
        });
        self.shared.clear_overrides();
        self.expect_route(
            "Snapshots::create_with_logs",
            from,
            "GET /snapshots/{id}/build-logs",
        );
        self.check(
            "Snapshots::create_with_logs",
            lines
                .last()
                .is_some_and(|l| l.starts_with("Created snapshot")),
            || format!("log lines {lines:?}"),
        );
    }

    pub(crate) fn volume_operations(&mut self) {
        let v = self.daytona.volumes();
        self.op("Volumes::list", Expect::Ok, || v.list());
        self.op("Volumes::list_including_deleted", Expect::Ok, || {
            v.list_including_deleted()
        });
        let volume = self.op("Volumes::get", Expect::Ok, || v.get("contract-volume"));
        self.op("Volumes::get", Expect::NotFound, || v.get(MISSING));
        self.op("Volumes::get_or_create", Expect::Ok, || {
            v.get_or_create("contract-volume")
        });
        // Not there: the real 404, then the create.
        let from = self.shared.len();
        self.op("Volumes::get_or_create", Expect::Ok, || {
            v.get_or_create(MISSING)
        });
        let created = self
            .shared
            .since(from)
            .iter()
            .any(|x| x.method == "POST" && x.target == "/volumes");
        self.check("Volumes::get_or_create", created, || {
            "a missing volume was not created".into()
        });
        self.op("Volumes::create", Expect::Ok, || {
            v.create("contract-volume")
        });
        if let Some(volume) = volume {
            self.op("Volumes::delete", Expect::Ok, || v.delete(&volume));
        }
        self.op("Volumes::wait_until_ready", Expect::Wait, || {
            v.wait_until_ready("contract-volume")
        });
        self.op(
            "Volumes::wait_until_ready_with_timeout",
            Expect::Wait,
            || v.wait_until_ready_with_timeout("contract-volume", WAIT),
        );
    }
}
