//! The toolbox's operations of a contract round: processes, sessions,
//! PTYs, the interpreter, files, git, computer use and LSP.

use std::time::Duration;

use daytona::toolbox::{
    AccessibilityScope, CloneOptions, CodeRunOptions, CommitOptions, CompressedOptions, Download,
    Downloaded, ExecOptions, FilePermissions, FindNodes, FollowOptions, GitCredentials,
    ImageFormat, LogChunk, LspLanguage, Modifier, MouseButton, NameMatch, Position, Rect,
    ScreenshotOptions, ScrollDirection, SessionExecOptions, TransferOptions, Upload,
};
use daytona::toolbox::{ContextOptions, PtyOptions, RunCodeOptions};
use daytona::CodeLanguage;
use serde_json::Value;

use crate::contract_support::proxy::{download_content, MISSING, SCREENSHOT};
use crate::{Expect, Suite};

impl Suite {
    pub(crate) fn process_operations(&mut self, sb: &daytona::Sandbox) {
        let p = sb.process();
        self.op("Process::exec", Expect::Ok, || p.exec("echo contract"));
        self.op("Process::exec_with", Expect::Ok, || {
            p.exec_with(
                "ls -la",
                ExecOptions::new()
                    .cwd("/home/daytona")
                    .env("APP_ENV", "test")
                    .timeout(Duration::from_secs(5)),
            )
        });
        self.op("Process::code_run", Expect::Ok, || {
            p.code_run("print(6 * 7)")
        });
        self.op("Process::code_run_with", Expect::Ok, || {
            p.code_run_with(
                "console.log(process.argv)",
                CodeRunOptions::new()
                    .language(CodeLanguage::JavaScript)
                    .arg("--contract")
                    .env("APP_ENV", "test")
                    .timeout(Duration::from_secs(5)),
            )
        });
        self.op("Process::create_session", Expect::Ok, || {
            p.create_session("contract-session")
        });
        self.op("Process::get_session", Expect::Ok, || {
            p.get_session("contract-session")
        });
        self.op("Process::get_entrypoint_session", Expect::Ok, || {
            p.get_entrypoint_session()
        });
        self.op("Process::list_sessions", Expect::Ok, || p.list_sessions());
        self.op("Process::execute_session_command", Expect::Ok, || {
            p.execute_session_command(
                "contract-session",
                "echo contract",
                SessionExecOptions::new(),
            )
        });
        self.op("Process::execute_session_command", Expect::Ok, || {
            p.execute_session_command(
                "contract-session",
                "sleep 1",
                SessionExecOptions::new()
                    .run_async(true)
                    .suppress_input_echo(true)
                    .timeout(Duration::from_secs(5)),
            )
        });
        self.op("Process::get_session_command", Expect::Ok, || {
            p.get_session_command("contract-session", "contract-command")
        });
        self.op("Process::get_session_command_logs", Expect::Ok, || {
            p.get_session_command_logs("contract-session", "contract-command")
        });
        self.op("Process::get_entrypoint_logs", Expect::Ok, || {
            p.get_entrypoint_logs()
        });
        self.op("Process::send_session_command_input", Expect::Ok, || {
            p.send_session_command_input("contract-session", "contract-command", "y\n")
        });
        let follow = FollowOptions::new()
            .idle_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(20));
        let mut chunks = Vec::new();
        let from = self.shared.len();
        self.op("Process::follow_session_command_logs", Expect::Ok, || {
            p.follow_session_command_logs(
                "contract-session",
                "contract-command",
                follow.clone(),
                |c| chunks.push(c),
            )
        });
        self.check_chunks("Process::follow_session_command_logs", from, &chunks);
        let mut chunks = Vec::new();
        let from = self.shared.len();
        self.op("Process::follow_entrypoint_logs", Expect::Ok, || {
            p.follow_entrypoint_logs(follow.clone(), |c| chunks.push(c))
        });
        self.check_chunks("Process::follow_entrypoint_logs", from, &chunks);
        let from = self.shared.len();
        let chunks = self.op("Process::stream_session_command_logs", Expect::Ok, || {
            p.stream_session_command_logs("contract-session", "contract-command", follow.clone())?
                .collect::<daytona::Result<Vec<_>>>()
        });
        self.check_chunks(
            "Process::stream_session_command_logs",
            from,
            &chunks.unwrap_or_default(),
        );
        let from = self.shared.len();
        let chunks = self.op("Process::stream_entrypoint_logs", Expect::Ok, || {
            p.stream_entrypoint_logs(follow.clone())?
                .collect::<daytona::Result<Vec<_>>>()
        });
        self.check_chunks(
            "Process::stream_entrypoint_logs",
            from,
            &chunks.unwrap_or_default(),
        );
        self.op("Process::delete_session", Expect::Ok, || {
            p.delete_session("contract-session")
        });
        self.pty_operations(sb);
        self.interpreter_operations(sb);
    }

    /// PTY sessions: the REST operations, and the connection the proxy
    /// completes (§8.2): "connected", output, exit code 0.
    pub(crate) fn pty_operations(&mut self, sb: &daytona::Sandbox) {
        let p = sb.process();
        let exit = self.op("Process::create_pty", Expect::Ok, || {
            let mut pty = p.create_pty(
                PtyOptions::new("contract-pty")
                    .cwd("/home/daytona")
                    .env("APP_ENV", "test")
                    .size(100, 30),
            )?;
            pty.send_input(b"echo contract\n")?;
            pty.wait()
        });
        self.check(
            "Process::create_pty",
            exit.is_none_or(|e| e.exit_code == Some(0)),
            || "the terminal's exit code is not 0".into(),
        );
        self.op("Process::connect_pty", Expect::Ok, || {
            p.connect_pty("contract-pty")?.wait()
        });
        self.op("Process::list_pty_sessions", Expect::Ok, || {
            p.list_pty_sessions()
        });
        self.op("Process::pty_session_info", Expect::Ok, || {
            p.pty_session_info("contract-pty")
        });
        self.op("Process::resize_pty", Expect::Ok, || {
            p.resize_pty("contract-pty", 120, 40)
        });
        self.op("Process::kill_pty", Expect::Ok, || {
            p.kill_pty("contract-pty")
        });
    }

    /// The interpreter: contexts, and runs the proxy answers (§8.3) after
    /// checking the request.
    pub(crate) fn interpreter_operations(&mut self, sb: &daytona::Sandbox) {
        let i = sb.code_interpreter();
        let ctx = self.op("CodeInterpreter::create_context", Expect::Ok, || {
            i.create_context(
                ContextOptions::new()
                    .cwd("/home/daytona")
                    .language(CodeLanguage::Python),
            )
        });
        self.op("CodeInterpreter::list_contexts", Expect::Ok, || {
            i.list_contexts()
        });
        let ctx = ctx
            .filter(|c| !c.id.trim().is_empty() && c.id != "." && c.id != "..")
            .unwrap_or_else(|| {
                serde_json::from_value(serde_json::json!({"id": "contract-context"})).unwrap()
            });
        let run = self.op("CodeInterpreter::run_code", Expect::Ok, || {
            i.run_code(
                "print('contract')",
                RunCodeOptions::new()
                    .context(&ctx)
                    .env("APP_ENV", "test")
                    .timeout(Duration::from_secs(5)),
            )
        });
        self.check(
            "CodeInterpreter::run_code",
            run.is_none_or(|r| r.stdout == "contract\n"),
            || "the run's stdout is not the proxy's".into(),
        );
        self.op("CodeInterpreter::run_code_stream", Expect::Ok, || {
            i.run_code_stream("1 + 1", RunCodeOptions::new())?
                .collect::<daytona::Result<Vec<_>>>()
        });
        self.op("CodeInterpreter::delete_context", Expect::Ok, || {
            i.delete_context(&ctx)
        });
    }

    /// The chunks of a followed log are the `stdout` and `stderr` Prism
    /// generated for the logs endpoint.
    pub(crate) fn check_chunks(&mut self, name: &str, from: usize, chunks: &[LogChunk]) {
        let logs = self
            .shared
            .since(from)
            .into_iter()
            .find(|x| x.status == 101)
            .and_then(|x| x.response_json)
            .unwrap_or(Value::Null);
        let text = |stderr: bool| -> String {
            chunks
                .iter()
                .filter(|c| c.is_stderr() == stderr)
                .map(LogChunk::text)
                .collect()
        };
        let (out, err) = (text(false), text(true));
        let want_out = logs["stdout"].as_str().unwrap_or("").to_string();
        let want_err = logs["stderr"].as_str().unwrap_or("").to_string();
        self.check(name, out == want_out && err == want_err, || {
            format!("followed stdout {out:?} / stderr {err:?}, sent {want_out:?} / {want_err:?}")
        });
    }

    pub(crate) fn file_operations(&mut self, sb: &daytona::Sandbox) {
        let fs = sb.fs();
        self.op("FileSystem::list_files", Expect::Ok, || {
            fs.list_files("/home/daytona")
        });
        self.op("FileSystem::get_file_info", Expect::Ok, || {
            fs.get_file_info("/home/daytona/a.txt")
        });
        self.op("FileSystem::get_file_info", Expect::NotFound, || {
            fs.get_file_info(&format!("/home/daytona/{MISSING}"))
        });
        self.op("FileSystem::create_folder", Expect::Ok, || {
            fs.create_folder("/home/daytona/new", "755")
        });
        self.op("FileSystem::delete_file", Expect::Ok, || {
            fs.delete_file("/home/daytona/new")
        });
        self.op("FileSystem::delete_recursive", Expect::Ok, || {
            fs.delete_recursive("/home/daytona/new")
        });
        self.op("FileSystem::move_files", Expect::Ok, || {
            fs.move_files("/home/daytona/a.txt", "/home/daytona/b.txt")
        });
        self.op("FileSystem::find_files", Expect::Ok, || {
            fs.find_files("/home/daytona", "TODO")
        });
        self.op("FileSystem::search_files", Expect::Ok, || {
            fs.search_files("/home/daytona", "*.rs")
        });
        self.op("FileSystem::replace_in_files", Expect::Ok, || {
            fs.replace_in_files(&["/home/daytona/a.txt"], "old", "new")
        });
        self.op("FileSystem::set_file_permissions", Expect::Ok, || {
            fs.set_file_permissions(
                "/home/daytona/a.txt",
                FilePermissions::new()
                    .mode("0644")
                    .owner("daytona")
                    .group("daytona"),
            )
        });
        let local = self.scratch_file("upload.txt", b"contract upload\n");
        self.op("FileSystem::upload_file", Expect::Ok, || {
            fs.upload_file(&local, "/home/daytona/upload.txt")
        });
        self.op("FileSystem::upload_bytes", Expect::Ok, || {
            fs.upload_bytes("contract bytes\n", "/home/daytona/bytes.txt")
        });
        self.op("FileSystem::upload_reader", Expect::Ok, || {
            fs.upload_reader(&b"contract reader\n"[..], "reader.txt")
        });
        self.op("FileSystem::upload_files", Expect::Ok, || {
            fs.upload_files(
                [
                    Upload::bytes(&b"one\n"[..], "/home/daytona/one.txt"),
                    Upload::file(&local, "/home/daytona/two.txt"),
                    Upload::reader(&b"three\n"[..], "three.txt").size(6),
                ],
                TransferOptions::new().timeout(Duration::from_secs(20)),
            )
        });

        let path = "/home/daytona/data.txt";
        let want = download_content(path);
        let target = self.scratch.join("downloaded/data.txt");
        let size = self.op("FileSystem::download_file", Expect::Ok, || {
            fs.download_file(path, &target)
        });
        let saved = std::fs::read(&target).unwrap_or_default();
        self.check("FileSystem::download_file", saved == want, || {
            format!("saved {saved:?} ({size:?} bytes), sent {want:?}")
        });
        let bytes = self.op("FileSystem::download_bytes", Expect::Ok, || {
            fs.download_bytes(path)
        });
        self.check(
            "FileSystem::download_bytes",
            bytes.as_deref() == Some(&want[..]),
            || format!("{bytes:?}"),
        );
        let mut written = Vec::new();
        self.op("FileSystem::download_to", Expect::Ok, || {
            fs.download_to(path, &mut written)
        });
        self.check("FileSystem::download_to", written == want, || {
            format!("{written:?}")
        });
        let one = self.op("FileSystem::download", Expect::Ok, || {
            fs.download(Download::to_bytes(path), TransferOptions::new())
        });
        self.check(
            "FileSystem::download",
            one == Some(Downloaded::Bytes(want.clone())),
            || format!("{one:?}"),
        );
        self.op("FileSystem::download", Expect::NotFound, || {
            fs.download(
                Download::to_bytes(format!("/home/daytona/{MISSING}")),
                TransferOptions::new(),
            )
        });
        let relative = self.scratch.join("relative.txt");
        let many = self.op("FileSystem::download_files", Expect::Ok, || {
            fs.download_files(
                [
                    Download::to_bytes(path),
                    Download::to_file("relative.txt", &relative),
                    Download::to_bytes(format!("/home/daytona/{MISSING}")),
                ],
                TransferOptions::new(),
            )
        });
        let outcome: Vec<String> = many
            .iter()
            .flatten()
            .map(|r| match &r.result {
                Ok(d) => format!("ok {}", d.size()),
                Err(e) if e.is_not_found() => "not found".into(),
                Err(e) => format!("error {e}"),
            })
            .collect();
        let expected = vec![
            format!("ok {}", want.len()),
            format!("ok {}", download_content("relative.txt").len()),
            "not found".to_string(),
        ];
        self.check("FileSystem::download_files", outcome == expected, || {
            format!("{outcome:?}, expected {expected:?}")
        });
    }

    pub(crate) fn git_operations(&mut self, sb: &daytona::Sandbox) {
        let git = sb.git();
        let creds = GitCredentials::new("ada", "contract-token");
        let repo = "/home/daytona/repo";
        self.op("Git::clone_repo", Expect::Ok, || {
            git.clone_repo(
                "https://github.com/octocat/Hello-World.git",
                repo,
                CloneOptions::new()
                    .branch("main")
                    .commit_id("7fd1a60b01f91b314f59955a4e4d4e80d8edf11d")
                    .credentials(creds.clone())
                    .insecure_skip_tls(true),
            )
        });
        self.op("Git::clone_repo", Expect::Ok, || {
            git.clone_repo(
                "https://github.com/octocat/Hello-World.git",
                repo,
                CloneOptions::new(),
            )
        });
        self.op("Git::status", Expect::Ok, || git.status(repo));
        self.op("Git::add", Expect::Ok, || git.add(repo, &["."]));
        self.op("Git::commit_with", Expect::Ok, || {
            let options = CommitOptions::new().allow_empty(true);
            git.commit_with(repo, "Contract", "Ada", "ada@example.com", options)
        });
        self.op("Git::commit", Expect::Ok, || {
            git.commit(repo, "Contract", "Ada", "ada@example.com")
        });
        self.op("Git::push", Expect::Ok, || git.push(repo, Some(&creds)));
        self.op("Git::pull", Expect::Ok, || git.pull(repo, None));
        self.op("Git::branches", Expect::Ok, || git.branches(repo));
        self.op("Git::create_branch", Expect::Ok, || {
            git.create_branch(repo, "feature")
        });
        self.op("Git::checkout_branch", Expect::Ok, || {
            git.checkout_branch(repo, "feature")
        });
        self.op("Git::delete_branch", Expect::Ok, || {
            git.delete_branch(repo, "feature")
        });
        self.op("Git::history", Expect::Ok, || git.history(repo));
    }

    pub(crate) fn computer_use_operations(&mut self, sb: &daytona::Sandbox) {
        let cu = sb.computer_use();
        self.op("ComputerUse::start", Expect::Ok, || cu.start());
        self.op("ComputerUse::status", Expect::Ok, || cu.status());
        self.op("ComputerUse::system_status", Expect::Ok, || {
            cu.system_status()
        });
        self.op("ComputerUse::is_process_running", Expect::Ok, || {
            cu.is_process_running("xvfb")
        });
        self.op("ComputerUse::restart_process", Expect::Ok, || {
            cu.restart_process("x11vnc")
        });
        self.op("ComputerUse::process_logs", Expect::Ok, || {
            cu.process_logs("novnc")
        });
        self.op("ComputerUse::process_errors", Expect::Ok, || {
            cu.process_errors("xfce4")
        });

        let mouse = cu.mouse();
        self.op("Mouse::position", Expect::Ok, || mouse.position());
        self.op("Mouse::move_to", Expect::Ok, || mouse.move_to((100, 200)));
        self.op("Mouse::click", Expect::Ok, || {
            mouse.click((10, 20), MouseButton::Left)
        });
        self.op("Mouse::double_click", Expect::Ok, || {
            mouse.double_click((11, 21), MouseButton::Middle)
        });
        self.op("Mouse::drag", Expect::Ok, || {
            mouse.drag((1, 2), (300, 400), MouseButton::Right)
        });
        self.op("Mouse::scroll", Expect::Ok, || {
            mouse.scroll((5, 6), ScrollDirection::Up, 2)
        });

        let keyboard = cu.keyboard();
        self.op("Keyboard::type_text", Expect::Ok, || {
            keyboard.type_text("contract")
        });
        self.op("Keyboard::type_text_with_delay", Expect::Ok, || {
            keyboard.type_text_with_delay("contract", Duration::from_millis(20))
        });
        self.op("Keyboard::press", Expect::Ok, || keyboard.press("Return"));
        self.op("Keyboard::press_with", Expect::Ok, || {
            keyboard.press_with("t", &[Modifier::Ctrl, Modifier::Shift])
        });
        self.op("Keyboard::hotkey", Expect::Ok, || keyboard.hotkey("ctrl+c"));

        let shots = cu.screenshot();
        let region = Rect::new(10, 20, 300, 200);
        let compressed = || {
            CompressedOptions::new()
                .format(ImageFormat::Jpeg)
                .quality(70)
                .scale(0.5)
                .show_cursor(true)
        };
        let taken = [
            self.op("Screenshots::take_full_screen", Expect::Ok, || {
                shots.take_full_screen(ScreenshotOptions::new().show_cursor(true))
            }),
            self.op("Screenshots::take_region", Expect::Ok, || {
                shots.take_region(region, ScreenshotOptions::new())
            }),
            self.op("Screenshots::take_compressed", Expect::Ok, || {
                shots.take_compressed(compressed())
            }),
            self.op("Screenshots::take_compressed", Expect::Ok, || {
                shots.take_compressed(CompressedOptions::new())
            }),
            self.op("Screenshots::take_compressed_region", Expect::Ok, || {
                shots.take_compressed_region(region, compressed())
            }),
        ];
        for shot in taken.iter().flatten() {
            self.check("Screenshots", shot.bytes() == SCREENSHOT, || {
                format!("decoded {:?}, sent {SCREENSHOT:?}", shot.bytes())
            });
        }

        let display = cu.display();
        self.op("Display::info", Expect::Ok, || display.info());
        self.op("Display::windows", Expect::Ok, || display.windows());

        let rec = cu.recording();
        self.op("Recordings::start", Expect::Ok, || {
            rec.start(Some("contract run"))
        });
        self.op("Recordings::start", Expect::Ok, || rec.start(None));
        self.op("Recordings::stop", Expect::Ok, || {
            rec.stop("contract-recording")
        });
        self.op("Recordings::list", Expect::Ok, || rec.list());
        self.op("Recordings::get", Expect::Ok, || {
            rec.get("contract-recording")
        });
        self.op("Recordings::get", Expect::NotFound, || rec.get(MISSING));
        self.op("Recordings::delete", Expect::Ok, || {
            rec.delete("contract-recording")
        });
        // What Prism sent (a short text: the whole of it is in the excerpt).
        let sent = |suite: &Self, from: usize| -> Vec<u8> {
            suite
                .shared
                .since(from)
                .into_iter()
                .find(|x| x.route.as_deref() == Some("GET /computeruse/recordings/{id}/download"))
                .map(|x| x.excerpt.into_bytes())
                .unwrap_or_default()
        };
        let target = self.scratch.join("recordings/contract.mp4");
        let from = self.shared.len();
        let size = self.op("Recordings::download", Expect::Ok, || {
            rec.download("contract-recording", &target)
        });
        let saved = std::fs::read(&target).unwrap_or_default();
        let want = sent(self, from);
        self.check(
            "Recordings::download",
            !want.is_empty() && saved == want && size == Some(want.len() as u64),
            || format!("saved {saved:?} ({size:?} bytes), sent {want:?}"),
        );
        let mut written = Vec::new();
        let from = self.shared.len();
        self.op("Recordings::download_to", Expect::Ok, || {
            rec.download_to("contract-recording", &mut written)
        });
        let want = sent(self, from);
        self.check(
            "Recordings::download_to",
            !want.is_empty() && written == want,
            || format!("written {written:?}, sent {want:?}"),
        );
        let missing = self.scratch.join("recordings/missing.mp4");
        self.op("Recordings::download", Expect::NotFound, || {
            rec.download(MISSING, &missing)
        });

        let a11y = cu.accessibility();
        self.op("Accessibility::tree", Expect::Ok, || {
            a11y.tree(AccessibilityScope::Focused, Some(3))
        });
        self.op("Accessibility::tree", Expect::Ok, || {
            a11y.tree(AccessibilityScope::Process(4242), None)
        });
        self.op("Accessibility::tree", Expect::Ok, || {
            a11y.tree(AccessibilityScope::All, Some(0))
        });
        self.op("Accessibility::find_nodes", Expect::Ok, || {
            a11y.find_nodes(
                FindNodes::new()
                    .scope(AccessibilityScope::Process(4242))
                    .role("push button")
                    .name("OK", NameMatch::Exact)
                    .state("enabled")
                    .limit(10),
            )
        });
        self.op("Accessibility::find_nodes", Expect::Ok, || {
            a11y.find_nodes(FindNodes::new())
        });
        self.op("Accessibility::focus_node", Expect::Ok, || {
            a11y.focus_node(":1.2:/org/a11y/atspi/accessible/7")
        });
        self.op("Accessibility::invoke_node", Expect::Ok, || {
            a11y.invoke_node(":1.2:/org/a11y/atspi/accessible/7", Some("click"))
        });
        self.op("Accessibility::invoke_node", Expect::Ok, || {
            a11y.invoke_node(":1.2:/org/a11y/atspi/accessible/7", None)
        });
        self.op("Accessibility::set_node_value", Expect::Ok, || {
            a11y.set_node_value(":1.2:/org/a11y/atspi/accessible/8", "contract")
        });
        self.op("ComputerUse::stop", Expect::Ok, || cu.stop());
    }

    pub(crate) fn lsp_operations(&mut self, sb: &daytona::Sandbox) {
        for language in [
            LspLanguage::Python,
            LspLanguage::TypeScript,
            LspLanguage::JavaScript,
        ] {
            let lsp = sb.lsp_server(language, "/home/daytona/contract project");
            self.op("LspServer::start", Expect::Ok, || lsp.start());
            self.op("LspServer::did_open", Expect::Ok, || {
                lsp.did_open("src/main.py")
            });
            self.op("LspServer::document_symbols", Expect::Ok, || {
                lsp.document_symbols("src/main.py")
            });
            self.op("LspServer::sandbox_symbols", Expect::Ok, || {
                lsp.sandbox_symbols("Greeter")
            });
            self.op("LspServer::completions", Expect::Ok, || {
                lsp.completions(
                    "file:///home/daytona/contract%20project/src/main.py",
                    Position::new(10, 4),
                )
            });
            self.op("LspServer::did_close", Expect::Ok, || {
                lsp.did_close("/home/daytona/contract project/src/main.py")
            });
            self.op("LspServer::stop", Expect::Ok, || lsp.stop());
        }
    }
}
