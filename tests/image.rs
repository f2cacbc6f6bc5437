//! The Dockerfile text `Image` writes for each call chain: the TypeScript
//! SDK's text for the same calls (checked against it), and the cases where
//! this crate goes further.

#![cfg(feature = "images")]

mod temp;

use std::collections::BTreeMap;

use daytona::{BuildContext, Error, Image, PipInstallOptions, PyprojectOptions, Result};
use temp::{text, TempDir};

/// The lines `debian_slim` writes after `FROM`.
const SLIM: &str = "RUN apt-get update\n\
                    RUN apt-get install -y gcc gfortran build-essential\n\
                    RUN pip install --upgrade pip\n\
                    RUN echo 'debconf debconf/frontend select Noninteractive' | debconf-set-selections\n";

fn base() -> Image {
    Image::base("python:3.12")
}

fn check(cases: Vec<(&str, Result<Image>, String)>) {
    for (name, image, want) in cases {
        let image = image.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(image.dockerfile(), want, "case {name}");
    }
}

/// `FROM python:3.12\n` followed by `lines`.
fn on_base(lines: &str) -> String {
    format!("FROM python:3.12\n{lines}")
}

#[test]
fn base_and_debian_slim() {
    let mut cases = vec![
        (
            "base".to_string(),
            Ok(Image::base("python:3.12-slim-bookworm")),
            "FROM python:3.12-slim-bookworm\n".to_string(),
        ),
        (
            "debian_slim default".to_string(),
            Image::debian_slim(None),
            format!("FROM python:3.13.3-slim-bookworm\n{SLIM}"),
        ),
    ];
    let versions = [
        ("3.9", "3.9.22"),
        ("3.10", "3.10.17"),
        ("3.11", "3.11.12"),
        ("3.12", "3.12.10"),
        ("3.13", "3.13.3"),
    ];
    for (series, micro) in versions {
        cases.push((
            format!("debian_slim {series}"),
            Image::debian_slim(Some(series)),
            format!("FROM python:{micro}-slim-bookworm\n{SLIM}"),
        ));
    }
    for (name, image, want) in cases {
        assert_eq!(image.unwrap().dockerfile(), want, "case {name}");
    }
}

#[test]
fn pip_install_sorts_and_quotes_packages() {
    check(vec![
        (
            "pins",
            base().pip_install(["pandas==2.0", "numpy"]),
            on_base("RUN python -m pip install numpy pandas\\=\\=2.0\n"),
        ),
        (
            "ranges",
            base().pip_install(["numpy>=1.24", "requests"]),
            on_base("RUN python -m pip install numpy\\>\\=1.24 requests\n"),
        ),
        (
            "spaces and quotes",
            base().pip_install(["pkg with space", "it's"]),
            on_base("RUN python -m pip install \"it's\" 'pkg with space'\n"),
        ),
        (
            "shell metacharacters",
            base().pip_install(["$HOME", "a;rm -rf /"]),
            on_base("RUN python -m pip install \\$HOME 'a;rm -rf /'\n"),
        ),
        (
            "extras, markers, upper case first",
            base().pip_install([
                "uvicorn[standard]",
                "Django~=5.0",
                "pywin32; sys_platform == 'win32'",
            ]),
            on_base(
                "RUN python -m pip install Django\\~\\=5.0 \"pywin32; sys_platform == 'win32'\" \
                 uvicorn\\[standard\\]\n",
            ),
        ),
        (
            "two steps",
            base()
                .pip_install(["numpy"])
                .and_then(|i| i.pip_install(vec!["scipy".to_string()])),
            on_base("RUN python -m pip install numpy\nRUN python -m pip install scipy\n"),
        ),
    ]);
}

#[test]
fn pip_install_options() {
    let index = PipInstallOptions::new().index_url("https://pypi.example.com/simple");
    let all = PipInstallOptions::new()
        .find_link("https://a.example/wheels")
        .find_link("/my wheels")
        .index_url("https://pypi.example.com/simple")
        .extra_index_url("https://x.example/simple")
        .extra_index_url("https://y.example/simple?a=1&b=2")
        .pre(true)
        .extra_options("  --no-cache-dir --upgrade  ");
    let empty = PipInstallOptions::new().index_url("").extra_options("");
    check(vec![
        (
            "index url",
            base().pip_install_with(["requests"], index),
            on_base("RUN python -m pip install requests --index-url https\\://pypi.example.com/simple\n"),
        ),
        (
            "every option",
            base().pip_install_with(["numpy"], all),
            on_base(
                "RUN python -m pip install numpy \
                 --find-links https\\://a.example/wheels --find-links '/my wheels' \
                 --index-url https\\://pypi.example.com/simple \
                 --extra-index-url https\\://x.example/simple \
                 --extra-index-url https\\://y.example/simple\\?a\\=1\\&b\\=2 \
                 --pre --no-cache-dir --upgrade\n",
            ),
        ),
        (
            "pre only",
            base().pip_install_with(["numpy"], PipInstallOptions::new().pre(true)),
            on_base("RUN python -m pip install numpy --pre\n"),
        ),
        (
            "empty options are left out",
            base().pip_install_with(["numpy"], empty),
            on_base("RUN python -m pip install numpy\n"),
        ),
    ]);
}

#[test]
fn env_workdir_entrypoint_cmd_run_and_raw_commands() {
    let map: BTreeMap<&str, &str> = [("B", "2"), ("A", "1")].into();
    check(vec![
        (
            "env quoting",
            base().env([
                ("SPACED", "hello world"),
                ("DOLLAR", "$HOME/bin"),
                ("EMPTY", ""),
                ("PLAIN", "value"),
                ("QUOTE", "it's"),
            ]),
            on_base(
                "ENV SPACED='hello world'\nENV DOLLAR=\\$HOME/bin\nENV EMPTY=''\n\
                 ENV PLAIN=value\nENV QUOTE=\"it's\"\n",
            ),
        ),
        (
            "env from a map",
            base().env(map),
            on_base("ENV A=1\nENV B=2\n"),
        ),
        (
            "workdir",
            base()
                .workdir("/home/daytona")
                .and_then(|i| i.workdir("/my app")),
            on_base("WORKDIR /home/daytona\nWORKDIR '/my app'\n"),
        ),
        (
            "entrypoint and cmd",
            Ok(base().entrypoint(["python"]).cmd(["app.py"])),
            on_base("ENTRYPOINT [\"python\"]\nCMD [\"app.py\"]\n"),
        ),
        (
            "several arguments",
            Ok(base()
                .entrypoint(["python", "-m", "http.server"])
                .cmd(["--bind", "0.0.0.0"])),
            on_base(
                "ENTRYPOINT [\"python\", \"-m\", \"http.server\"]\nCMD [\"--bind\", \"0.0.0.0\"]\n",
            ),
        ),
        (
            "run commands as given",
            Ok(base().run_commands(["apt-get update", "echo \"hi\" > /tmp/x && ls $HOME"])),
            on_base("RUN apt-get update\nRUN echo \"hi\" > /tmp/x && ls $HOME\n"),
        ),
        (
            "dockerfile commands as given",
            base().dockerfile_commands(["RUN echo 1", "USER daytona"], None),
            on_base("RUN echo 1\nUSER daytona\n"),
        ),
        (
            "a continued dockerfile command",
            base()
                .dockerfile_commands(["RUN a \\", "  && b"], None)
                .and_then(|i| i.workdir("/w")),
            on_base("RUN a \\\n  && b\nWORKDIR /w\n"),
        ),
        (
            "a chain",
            Image::debian_slim(Some("3.11")).and_then(|i| {
                i.pip_install(["flask"])?
                    .env([("FLASK_APP", "app.py")])?
                    .workdir("/srv")
                    .map(|i| i.cmd(["flask", "run"]))
            }),
            format!(
                "FROM python:3.11.12-slim-bookworm\n{SLIM}RUN python -m pip install flask\n\
                 ENV FLASK_APP=app.py\nWORKDIR /srv\nCMD [\"flask\", \"run\"]\n"
            ),
        ),
    ]);
}

/// Beyond the TypeScript SDK, which writes these as they are and so breaks
/// the Dockerfile: exec forms keep any word exactly; an `ENV` value with a
/// line break, which no Dockerfile syntax can carry, is refused.
#[test]
fn values_that_would_break_a_line_are_escaped_or_refused() {
    let args = ["sh", "-c", "echo \"hi\" && printf 'a\\\\b\\n'\nexit 0"];
    let image = base()
        .env([("MIXED", "say \"hi\" $HOME \\ `x`")])
        .unwrap()
        .entrypoint(args)
        .run_commands([args])
        .cmd(["--name", "\"quoted\""]);
    let want = on_base(concat!(
        "ENV MIXED='say \"hi\" $HOME \\ `x`'\n",
        "ENTRYPOINT [\"sh\", \"-c\", \"echo \\\"hi\\\" && printf 'a\\\\\\\\b\\\\n'\\nexit 0\"]\n",
        "RUN [\"sh\", \"-c\", \"echo \\\"hi\\\" && printf 'a\\\\\\\\b\\\\n'\\nexit 0\"]\n",
        "CMD [\"--name\", \"\\\"quoted\\\"\"]\n",
    ));
    assert_eq!(image.dockerfile(), want);
    // Every instruction is one line, and the exec forms are JSON arrays
    // holding exactly the arguments.
    let lines: Vec<&str> = image.dockerfile().lines().collect();
    assert_eq!(lines.len(), 5);
    for (line, keyword) in [(lines[2], "ENTRYPOINT "), (lines[3], "RUN ")] {
        let words: Vec<String> = serde_json::from_str(line.strip_prefix(keyword).unwrap()).unwrap();
        assert_eq!(words, args);
    }
    let cmd: Vec<String> = serde_json::from_str(lines[4].strip_prefix("CMD ").unwrap()).unwrap();
    assert_eq!(cmd, ["--name", "\"quoted\""]);
    for value in ["line1\nline2", "a\r\nb"] {
        match base().env([("MULTI", value)]) {
            Err(Error::Validation { field, message }) => {
                assert_eq!(field, "env");
                assert!(message.contains("MULTI"), "{message}");
            }
            other => panic!("{value:?}: {other:?}"),
        }
    }
}

/// Docker, not a shell, reads `ENV` values and the `WORKDIR` path, with
/// its own word rules: inside double quotes a backslash escapes only `"`,
/// `$` and itself (an escaped backtick would keep its backslash), and a
/// NEL (U+0085) separates words as a space does.
#[test]
fn env_and_workdir_are_quoted_as_docker_reads_them() {
    check(vec![
        (
            "a backtick in double quotes",
            base().env([("A", "it's `date` \\ $X \"q\"")]),
            on_base("ENV A=\"it's `date` \\\\ \\$X \\\"q\\\"\"\n"),
        ),
        (
            "a NEL",
            base().env([("B", "a\u{85}b")]),
            on_base("ENV B='a\u{85}b'\n"),
        ),
        (
            "a workdir with a backtick",
            base().workdir("/it's `x`"),
            on_base("WORKDIR \"/it's `x`\"\n"),
        ),
        (
            "as before without them",
            base().env([("C", "it's $5")]),
            on_base("ENV C=\"it's \\$5\"\n"),
        ),
    ]);
}

#[test]
fn run_commands_takes_shell_commands_and_argument_lists() {
    let image = base()
        .run_commands(["apt-get update", "make all"])
        .run_commands([vec!["python", "-m", "pip", "install", "a b"]])
        .run_commands([String::from("ls")]);
    assert_eq!(
        image.dockerfile(),
        on_base(
            "RUN apt-get update\nRUN make all\n\
             RUN [\"python\", \"-m\", \"pip\", \"install\", \"a b\"]\nRUN ls\n"
        )
    );
}

#[test]
fn what_the_official_sdks_accept_quietly_is_accepted() {
    // No package: nothing to install, nothing written.
    let image = base().pip_install(Vec::<String>::new()).unwrap();
    assert_eq!(image.dockerfile(), base().dockerfile());
    // An empty Python version is no version: the latest.
    assert_eq!(
        Image::debian_slim(Some("")).unwrap(),
        Image::debian_slim(None).unwrap()
    );
}

#[test]
fn requirements_file_is_a_context_copied_to_a_fixed_path() {
    let tree = TempDir::new("requirements");
    let file = tree.file("requirements.txt", "numpy\n");
    let shown = text(&file);
    let image = base()
        .pip_install_from_requirements(&file, PipInstallOptions::new())
        .unwrap()
        .pip_install_from_requirements(&file, PipInstallOptions::new().pre(true))
        .unwrap();
    let step =
        format!("COPY {shown} /.requirements.txt\nRUN python -m pip install -r /.requirements.txt");
    assert_eq!(
        image.dockerfile(),
        on_base(&format!("{step}\n{step} --pre\n"))
    );
    let context = BuildContext::new(&file, shown.clone());
    assert_eq!(image.contexts(), [context.clone(), context]);
}

#[test]
fn pyproject_dependencies_and_optional_groups() {
    let tree = TempDir::new("pyproject");
    let file = tree.file(
        "pyproject.toml",
        r#"
[project]
name = "demo"
dependencies = ["requests>=2", "numpy"]

[project.optional-dependencies]
dev = ["pytest", "black==24.1"]
docs = ["sphinx"]
"#,
    );
    check(vec![
        (
            "dependencies only",
            base().pip_install_from_pyproject(&file, PyprojectOptions::new()),
            on_base("RUN python -m pip install numpy requests\\>\\=2\n"),
        ),
        (
            "with groups and options",
            base().pip_install_from_pyproject(
                &file,
                PyprojectOptions::new()
                    .optional_dependencies(["dev", "docs"])
                    .pip(PipInstallOptions::new().pre(true)),
            ),
            on_base("RUN python -m pip install black\\=\\=24.1 numpy pytest requests\\>\\=2 sphinx --pre\n"),
        ),
    ]);
    let image = base()
        .pip_install_from_pyproject(&file, PyprojectOptions::new())
        .unwrap();
    assert!(image.contexts().is_empty());

    let empty = tree.file("empty/pyproject.toml", "[project]\ndependencies = []\n");
    let image = base()
        .pip_install_from_pyproject(&empty, PyprojectOptions::new())
        .unwrap();
    assert_eq!(image.dockerfile(), "FROM python:3.12\n");
}

#[test]
fn local_files_and_directories() {
    let tree = TempDir::new("local");
    let file = tree.file("conf/app.toml", "x = 1\n");
    let dir = tree.dir("src");
    let (file_text, dir_text) = (text(&file), text(&dir));
    let image = base()
        .add_local_file(&file, "/app/")
        .unwrap()
        .add_local_file(&file, "/etc/app.toml")
        .unwrap()
        .add_local_dir(&dir, "/app/src")
        .unwrap();
    assert_eq!(
        image.dockerfile(),
        on_base(&format!(
            "COPY {file_text} /app/app.toml\nCOPY {file_text} /etc/app.toml\nCOPY {dir_text} /app/src\n"
        ))
    );
    assert_eq!(
        image.contexts(),
        [
            BuildContext::new(&file, file_text.clone()),
            BuildContext::new(&file, file_text),
            BuildContext::new(&dir, dir_text),
        ]
    );

    // Beyond the TypeScript SDK: a path with a space uses the JSON form.
    let spaced = tree.file("my files/a b.txt", "");
    let image = base().add_local_file(&spaced, "/data/").unwrap();
    assert_eq!(
        image.dockerfile(),
        on_base(&format!(
            "COPY [\"{}\", \"/data/a b.txt\"]\n",
            text(&spaced)
        ))
    );
}

#[test]
fn steps_after_a_dockerfile_without_final_newline_start_a_new_line() {
    let tree = TempDir::new("no-newline");
    let path = tree.file("Dockerfile", "FROM alpine");
    let image = Image::from_dockerfile(&path).unwrap().run_commands(["ls"]);
    assert_eq!(image.dockerfile(), "FROM alpine\nRUN ls\n");
}

/// The field of a validation error.
fn field(result: Result<Image>) -> String {
    match result {
        Err(Error::Validation { field, .. }) => field,
        Err(other) => panic!("not a validation error: {other:?}"),
        Ok(image) => panic!("accepted: {}", image.dockerfile()),
    }
}

#[test]
fn bad_input_is_a_validation_error_naming_the_argument() {
    let tree = TempDir::new("invalid");
    let missing = tree.path("missing.txt");
    let dir = tree.dir("dir");
    let file = tree.file("file.txt", "");
    let no_deps = tree.file("nodeps/pyproject.toml", "[project]\nname = \"x\"\n");
    let groups = tree.file("groups/pyproject.toml", "[project]\ndependencies = []\n");
    let not_toml = tree.file("bad/pyproject.toml", "[project\n");
    let cases = [
        ("python_version", Image::debian_slim(Some("3.8"))),
        ("python_version", Image::debian_slim(Some("3.14"))),
        ("python_version", Image::debian_slim(Some("3.12.1"))),
        ("packages", base().pip_install([""])),
        ("packages", base().pip_install(["a\nb"])),
        (
            "index_url",
            base().pip_install_with(["a"], PipInstallOptions::new().index_url("x\ny")),
        ),
        (
            "requirements_txt",
            base().pip_install_from_requirements(&missing, PipInstallOptions::new()),
        ),
        (
            "requirements_txt",
            base().pip_install_from_requirements(&dir, PipInstallOptions::new()),
        ),
        (
            "pyproject_toml",
            base().pip_install_from_pyproject(&missing, PyprojectOptions::new()),
        ),
        (
            "pyproject_toml",
            base().pip_install_from_pyproject(&no_deps, PyprojectOptions::new()),
        ),
        (
            "pyproject_toml",
            base().pip_install_from_pyproject(&not_toml, PyprojectOptions::new()),
        ),
        (
            "optional_dependencies",
            base().pip_install_from_pyproject(
                &groups,
                PyprojectOptions::new().optional_dependencies(["dev"]),
            ),
        ),
        ("local_path", base().add_local_file(&missing, "/x")),
        ("local_path", base().add_local_file(&dir, "/x")),
        ("local_path", base().add_local_dir(&missing, "/x")),
        ("local_path", base().add_local_dir(&file, "/x")),
        ("remote_path", base().add_local_file(&file, "/x\n/y")),
        ("env", base().env([("", "x")])),
        ("env", base().env([("A B", "x")])),
        ("env", base().env([("A=B", "x")])),
        ("env", base().env([("A$B", "x")])),
        ("env", base().env([("A\"B", "x")])),
        ("env", base().env([("A'B", "x")])),
        ("env", base().env([("A\\B", "x")])),
        ("env", base().env([("A\u{85}B", "x")])),
        ("env", base().env([("A\u{0}B", "x")])),
        (
            "extra_options",
            base().pip_install_with(["a"], PipInstallOptions::new().extra_options("-q \\ ")),
        ),
        (
            "dockerfile_commands",
            base().dockerfile_commands(["RUN a", "RUN b \\"], None),
        ),
        (
            "dockerfile_commands",
            base().dockerfile_commands(["RUN a", "RUN b \\", "", "  # note", " "], None),
        ),
        ("path", base().workdir("/a\nb")),
        ("path", base().workdir("/a\0b")),
        ("packages", base().pip_install(["a\0b"])),
        ("env", base().env([("A", "x\0y")])),
        ("remote_path", base().add_local_file(&file, "/x\0")),
        ("path", base().workdir("")),
        ("path", base().workdir(" ")),
        ("path", Image::from_dockerfile(&missing)),
        ("path", Image::from_dockerfile(&dir)),
        (
            "context_dir",
            base().dockerfile_commands(["RUN x"], Some(&missing)),
        ),
        (
            "dockerfile_commands",
            base().dockerfile_commands(["COPY nope /x"], Some(&dir)),
        ),
    ];
    for (i, (want, result)) in cases.into_iter().enumerate() {
        assert_eq!(field(result), want, "case {i}");
    }
    let message = Image::debian_slim(Some("3.8")).unwrap_err().to_string();
    assert!(message.contains("3.9, 3.10, 3.11, 3.12, 3.13"), "{message}");
    let message = base()
        .add_local_file(&missing, "/x")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("missing.txt") && message.contains("does not exist"),
        "{message}"
    );
}
