//! `Image::from_dockerfile` and `Image::dockerfile_commands`: which local
//! sources of `COPY` and `ADD` become contexts, on temporary trees.

#![cfg(feature = "images")]

mod temp;

use std::path::Path;

use daytona::{BuildContext, Error, Image};
use temp::{text, TempDir};

/// A tree with an `app/` folder holding the Dockerfile `dockerfile`, some
/// sources, and a file `x.txt` next to `app/`.
fn project(name: &str, dockerfile: &str) -> (TempDir, Image) {
    let tree = TempDir::new(name);
    // Created out of name order on purpose.
    tree.file("app/src/b.py", "b");
    tree.file("app/src/a.py", "a");
    tree.file("app/src/.hidden.py", "h");
    tree.file("app/src/c.txt", "c");
    tree.file("app/requirements.txt", "numpy\n");
    tree.file("app/data/one.csv", "1");
    tree.file("app/static/x.css", "x");
    tree.file("x.txt", "outside");
    let path = tree.file("app/Dockerfile", dockerfile);
    let image = Image::from_dockerfile(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(image.dockerfile(), dockerfile, "the text is kept as it is");
    (tree, image)
}

/// `(source path relative to the tree, archive path)` of each context.
fn contexts(tree: &TempDir, image: &Image) -> Vec<(String, String)> {
    image
        .contexts()
        .iter()
        .map(|c| {
            let rel = c
                .source_path
                .strip_prefix(&tree.root)
                .unwrap_or_else(|_| panic!("{} is outside the tree", c.source_path.display()));
            (text(rel), c.archive_path.clone())
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn glob_sources_become_one_context_per_match_sorted_by_name() {
    let (tree, image) = project("glob", "FROM python:3.12\nCOPY src/*.py /app/\n");
    assert_eq!(
        contexts(&tree, &image),
        pairs(&[
            ("app/src/.hidden.py", "src/.hidden.py"),
            ("app/src/a.py", "src/a.py"),
            ("app/src/b.py", "src/b.py"),
        ])
    );
    assert_eq!(image.contexts()[1].source_path, tree.path("app/src/a.py"));
}

/// As Docker: a source outside the Dockerfile's folder (absolute, `..`
/// above it, or through a link) is refused with its line, before any
/// file is read; `ADD` URLs are left to the builder as before.
#[test]
fn sources_outside_the_build_context_are_refused_with_their_line() {
    let tree = TempDir::new("outside");
    tree.file("secret.txt", "TOP-SECRET");
    tree.file("app/in.txt", "in");
    tree.file("app/sub/x.txt", "x");
    let cases: [(&str, &[&str]); 5] = [
        (
            "FROM alpine\nCOPY in.txt /in\nCOPY ../secret.txt /s\n",
            &[
                "\"../secret.txt\" (line 3) climbs with `..`",
                "outside the build context",
            ],
        ),
        (
            "FROM alpine\nADD /etc/passwd /p\n",
            &[
                "\"/etc/passwd\" (line 2) is an absolute path",
                "Docker refuses it",
            ],
        ),
        (
            "FROM alpine\n\nCOPY sub/../../secret.txt /s\n",
            &["(line 3) climbs with `..`"],
        ),
        (
            "FROM alpine\nCOPY ../*.txt /s\n",
            &["\"../*.txt\" (line 2)"],
        ),
        (
            "FROM alpine\nCOPY [\"/root/.ssh/id_rsa\", \"/k\"]\n",
            &["(line 2) is an absolute path"],
        ),
    ];
    for (dockerfile, parts) in cases {
        let path = tree.file("app/Dockerfile", dockerfile);
        assert_path_error(Image::from_dockerfile(&path), parts);
    }
    // `..` that stays inside, and ADD of a URL, are fine.
    let path = tree.file(
        "app/Dockerfile",
        "FROM alpine\nCOPY sub/../in.txt /in\nADD https://example.com/a.tgz /opt/\n",
    );
    let image = Image::from_dockerfile(&path).unwrap();
    assert_eq!(contexts(&tree, &image), pairs(&[("app/in.txt", "in.txt")]));
    // The same rule for commands and their context directory.
    let err = Image::base("alpine")
        .dockerfile_commands(["COPY ../secret.txt /s"], Some(&tree.path("app")))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { field, .. } if field == "dockerfile_commands"),
        "{err:?}"
    );
    assert!(err.to_string().contains("(line 1) climbs"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_source_that_leads_out_through_a_link_is_refused() {
    use std::os::unix::fs::symlink;

    let tree = TempDir::new("outside-links");
    tree.file("secret.txt", "TOP-SECRET");
    tree.file("app/in.txt", "in");
    symlink("../secret.txt", tree.path("app/leak.txt")).unwrap();
    symlink("..", tree.path("app/up")).unwrap();
    symlink("in.txt", tree.path("app/ok.txt")).unwrap();
    for (copy, line) in [
        ("COPY leak.txt /x", "line 2"),
        ("COPY up/secret.txt /x", "line 2"),
        ("COPY *.txt /x/", "line 2"),
    ] {
        let path = tree.file("app/Dockerfile", format!("FROM alpine\n{copy}\n"));
        assert_path_error(
            Image::from_dockerfile(&path),
            &[line, "through a symbolic link", "outside the build context"],
        );
    }
    // A link that stays inside the context is a source like any other.
    let path = tree.file("app/Dockerfile", "FROM alpine\nCOPY ok.txt /x\n");
    let image = Image::from_dockerfile(&path).unwrap();
    assert_eq!(contexts(&tree, &image), pairs(&[("app/ok.txt", "ok.txt")]));
}

#[test]
fn a_continued_copy_is_read_whole() {
    let dockerfile = "FROM alpine\n\
                      COPY requirements.txt \\\n\
                      \x20    # a comment line inside the instruction\n\
                      \x20    src/a.py \\\n\
                      \x20    /app/\n\
                      RUN ls\n";
    let (tree, image) = project("continued", dockerfile);
    assert_eq!(
        contexts(&tree, &image),
        pairs(&[
            ("app/requirements.txt", "requirements.txt"),
            ("app/src/a.py", "src/a.py")
        ])
    );
}

#[test]
fn json_form_and_flags_are_understood() {
    let dockerfile = "FROM alpine\n\
                      COPY [\"data\", \"static/x.css\", \"/dst/\"]\n\
                      COPY --link --chown=1000:1000 --chmod=755 requirements.txt /app/\n\
                      copy --chown=0:0 [\"src/c.txt\", \"/c.txt\"]\n\
                      COPY --link src/b.py /b.py\n";
    let (tree, image) = project("forms", dockerfile);
    assert_eq!(
        contexts(&tree, &image),
        pairs(&[
            ("app/data", "data"),
            ("app/static/x.css", "static/x.css"),
            ("app/requirements.txt", "requirements.txt"),
            ("app/src/c.txt", "src/c.txt"),
            ("app/src/b.py", "src/b.py"),
        ])
    );
}

#[test]
fn other_stages_heredocs_and_urls_are_skipped() {
    let dockerfile = "FROM golang AS build\n\
                      COPY --from=build /go/bin/app /usr/local/bin/\n\
                      COPY --from=nginx:latest /etc/nginx/nginx.conf /nginx.conf\n\
                      COPY <<EOF /etc/motd\n\
                      COPY not-a-file /x\n\
                      EOF\n\
                      RUN <<-EOT\n\
                      \tCOPY nor-this /y\n\
                      \tEOT\n\
                      ADD https://example.com/a.tar.gz requirements.txt /opt/\n";
    let (tree, image) = project("skipped", dockerfile);
    assert_eq!(
        contexts(&tree, &image),
        pairs(&[("app/requirements.txt", "requirements.txt")])
    );
}

#[test]
fn the_whole_folder_is_one_context() {
    let tree = TempDir::new("whole");
    tree.file("app/file.txt", "x");
    let path = tree.file("app/Dockerfile", "FROM alpine\nCOPY . /app\n");
    let image = Image::from_dockerfile(&path).unwrap();
    assert_eq!(image.contexts(), [BuildContext::new(tree.path("app"), "")]);
}

#[test]
fn a_missing_source_is_a_validation_error_with_its_line() {
    let tree = TempDir::new("missing");
    let path = tree.file("Dockerfile", "FROM alpine\n\nCOPY nothing-*.txt /x/\n");
    assert_path_error(Image::from_dockerfile(&path), &["nothing-*.txt", "line 3"]);
}

/// A validation error of the field `path` whose message holds `parts`.
fn assert_path_error(result: daytona::Result<Image>, parts: &[&str]) {
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Validation { field, .. } if field == "path"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(parts.iter().all(|p| message.contains(p)), "{message}");
}

#[test]
fn a_flag_without_its_value_says_so() {
    let tree = TempDir::new("flag");
    tree.file("a", "a");
    tree.file("b", "b");
    let path = tree.file("Dockerfile", "FROM alpine\nCOPY --chmod 644 a b /dst/\n");
    assert_path_error(
        Image::from_dockerfile(&path),
        &["--chmod (line 2) has no value", "--chmod=644"],
    );
    // With `=`, and with a switch such as `--link`, the sources are read.
    let path = tree.file(
        "Dockerfile",
        "FROM alpine\nCOPY --chmod=644 --link a b /dst/\n",
    );
    let image = Image::from_dockerfile(&path).unwrap();
    assert_eq!(image.contexts().len(), 2);
    let err = base_commands(&tree, ["ADD --chown root:root a /a"]).unwrap_err();
    assert!(err.to_string().contains("--chown=root:root"), "{err}");
}

#[test]
fn a_multibyte_flag_from_a_dockerfile_on_disk_does_not_panic() {
    let tree = TempDir::new("multibyte");
    tree.file("a", "a");
    tree.file("é.txt", "e");
    let path = tree.file(
        "Dockerfile",
        "FROM alpine\nCOPY --fromé a /b\nCOPY --é é.txt /c/\nCOPY --from=é x /y\n",
    );
    let image = Image::from_dockerfile(&path).unwrap();
    let archives: Vec<&str> = image
        .contexts()
        .iter()
        .map(|c| c.archive_path.as_str())
        .collect();
    assert_eq!(archives, ["a", "é.txt"]);
}

#[test]
fn a_malformed_pattern_is_a_validation_error_naming_it() {
    let tree = TempDir::new("badpattern");
    tree.file("]", "x");
    for (pattern, bad) in [("x[]]", "x[]]"), ("src/[a-", "[a-"), ("x\\\\", "")] {
        let path = tree.file("Dockerfile", format!("FROM alpine\nCOPY {pattern} /x/\n"));
        let result = Image::from_dockerfile(&path);
        if bad.is_empty() {
            // No wildcard: the literal name `x\`, which does not exist.
            assert_path_error(result, &["line 2", "matches nothing"]);
        } else {
            assert_path_error(
                result,
                &["line 2", &format!("{bad:?} is not a valid pattern")],
            );
        }
    }
}

fn base_commands<const N: usize>(tree: &TempDir, commands: [&str; N]) -> daytona::Result<Image> {
    Image::base("alpine").dockerfile_commands(commands, Some(tree.root.as_path()))
}

#[test]
fn dockerfile_commands_resolve_sources_against_the_context_dir() {
    let tree = TempDir::new("commands");
    tree.file("web/assets/b.png", "b");
    tree.file("web/assets/a.png", "a");
    tree.file("shared.txt", "s");
    let web = tree.path("web");
    let image = Image::base("nginx")
        .dockerfile_commands(["COPY assets/*.png /srv/", "RUN ls /srv"], Some(&web))
        .unwrap();
    assert_eq!(
        image.dockerfile(),
        "FROM nginx\nCOPY assets/*.png /srv/\nRUN ls /srv\n"
    );
    assert_eq!(
        contexts(&tree, &image),
        pairs(&[
            ("web/assets/a.png", "assets/a.png"),
            ("web/assets/b.png", "assets/b.png"),
        ])
    );

    // Without a context directory, sources are relative to the current
    // directory (the crate's root under `cargo test`) and stay relative.
    let image = Image::base("alpine")
        .dockerfile_commands(["COPY Cargo.toml /x/"], None)
        .unwrap();
    assert_eq!(
        image.contexts(),
        [BuildContext::new(Path::new("Cargo.toml"), "Cargo.toml")]
    );
}

#[cfg(unix)]
#[test]
fn double_star_enters_no_link_as_the_context_walk_does() {
    use std::os::unix::fs::symlink;
    let tree = TempDir::new("double-star");
    tree.file("app/src/deep/a.py", "a");
    tree.file("shared/b.py", "b");
    symlink(tree.path("shared"), tree.path("app/src/linked")).unwrap();
    symlink(tree.path("app/src"), tree.path("app/src/deep/loop")).unwrap();
    let path = tree.file("app/Dockerfile", "FROM alpine\nCOPY src/**/*.py /app/\n");
    let image = Image::from_dockerfile(&path).unwrap();
    let archived: Vec<&str> = image
        .contexts()
        .iter()
        .map(|c| c.archive_path.as_str())
        .collect();
    // Links are not followed, as the hash and the tar do not follow them:
    // neither the linked folder (outside the context) nor the loop back to
    // `src` is entered.
    assert_eq!(archived, ["src/deep/a.py"]);
}

#[test]
fn repeated_double_stars_in_a_deep_context_end_quickly() {
    let tree = TempDir::new("deep-stars");
    let x = vec!["d"; 200].join("/") + "/x";
    tree.file(&x, "x");
    tree.file(&(vec!["d"; 100].join("/") + "/y"), "y");
    let path = tree.file("Dockerfile", "FROM alpine\nCOPY **/**/**/**/**/**/x /d/\n");
    let started = std::time::Instant::now();
    let image = Image::from_dockerfile(&path).unwrap();
    // Each folder is listed once (it was ~10^11 listings); generous.
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    assert_eq!(contexts(&tree, &image), pairs(&[(&x, &x)]));
}

#[cfg(unix)]
#[test]
fn a_wildcard_folder_skips_files_and_links_it_matches() {
    use std::os::unix::fs::symlink;
    let tree = TempDir::new("star-dirs");
    tree.file("web/main.py", "m");
    tree.file("lib/util.py", "u");
    tree.file("lib/notes.txt", "n");
    tree.file("top.py", "t");
    symlink("missing", tree.path("dangling")).unwrap();
    // The Dockerfile itself is a file that `*` matches.
    let path = tree.file("Dockerfile", "FROM python:3.12\nCOPY */*.py /app/\n");
    let image = Image::from_dockerfile(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        contexts(&tree, &image),
        pairs(&[
            ("lib/util.py", "lib/util.py"),
            ("web/main.py", "web/main.py")
        ])
    );
}

#[cfg(unix)]
#[test]
fn a_wildcard_under_a_link_to_the_root_is_refused_without_walking_it() {
    use std::os::unix::fs::symlink;
    let tree = TempDir::new("link-root");
    symlink("/", tree.path("link")).unwrap();
    let path = tree.file("Dockerfile", "FROM alpine\nCOPY link/** /d/\n");
    let started = std::time::Instant::now();
    assert_path_error(
        Image::from_dockerfile(&path),
        &[
            "line 2",
            "leads to / through a symbolic link",
            "outside the build context",
        ],
    );
    // The host's files were not walked first.
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
}

/// Steps added to a Dockerfile whose `# escape=` directive makes the
/// backtick its escape character write their escapes with the backtick:
/// Docker reads `\` there as an ordinary character, in and out of double
/// quotes.
#[cfg(unix)]
#[test]
fn steps_escape_with_the_dockerfile_escape_character() {
    let tree = TempDir::new("escape-tick");
    let path = tree.file("Dockerfile", "# escape=`\nFROM alpine\n");
    let name = "a$b`c'd\"e\\f.txt";
    let file = tree.file(name, "x");
    let image = Image::from_dockerfile(&path)
        .unwrap()
        .env([
            ("DOLLAR", "$HOME/bin"),
            ("TICK", "a`b"),
            ("BACK", "C:\\dir"),
            ("MIX", "it's \"q\" $5 `b` \\"),
        ])
        .unwrap()
        .workdir("/srv/`$x`")
        .unwrap()
        .add_local_file(&file, "/app/")
        .unwrap();
    let escaped = "a`$b``c`'d`\"e\\f.txt";
    assert_eq!(
        image.dockerfile(),
        format!(
            "# escape=`\nFROM alpine\n\
             ENV DOLLAR=`$HOME/bin\n\
             ENV TICK=a``b\n\
             ENV BACK='C:\\dir'\n\
             ENV MIX=\"it's `\"q`\" `$5 ``b`` \\\"\n\
             WORKDIR /srv/```$x``\n\
             COPY {}/{escaped} /app/{escaped}\n",
            text(&tree.root)
        )
    );
    assert_eq!(image.contexts()[0].archive_path, text(&file));
    let err = Image::from_dockerfile(&path)
        .unwrap()
        .env([("A`B", "x")])
        .unwrap_err();
    assert!(
        matches!(err, Error::Validation { ref field, .. } if field == "env"),
        "{err:?}"
    );
    // A pip line that would end with the backtick (a package or an option
    // quoted to end in one) would swallow the next instruction.
    let base = || Image::from_dockerfile(&path).unwrap();
    let field = |e: Error| match e {
        Error::Validation { field, .. } => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(field(base().pip_install(["pkg`"]).unwrap_err()), "packages");
    let options = daytona::PipInstallOptions::new().extra_options("--no-deps `");
    assert_eq!(
        field(
            base()
                .pip_install_with(["pkg"], options.clone())
                .unwrap_err()
        ),
        "options"
    );
    let requirements = tree.file("requirements.txt", "pkg\n");
    assert_eq!(
        field(
            base()
                .pip_install_from_requirements(&requirements, options)
                .unwrap_err()
        ),
        "options"
    );
    assert!(base().pip_install(["pkg"]).is_ok());
}

/// A Dockerfile or `pyproject.toml` past 4 MiB (a file of gigabytes named
/// by mistake, or shipped by a hostile repository) is refused as too
/// large, without reading it whole into memory.
#[test]
fn a_text_file_past_four_mib_is_refused_unread() {
    let tree = TempDir::new("huge-text");
    let limit = 4 * 1024 * 1024;
    let text = |rel: &str, len: u64| {
        let path = tree.file(rel, "FROM alpine\n");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len)
            .unwrap();
        path
    };
    let at_limit = text("ok/Dockerfile", limit);
    assert!(Image::from_dockerfile(&at_limit).is_ok());
    for len in [limit + 1, 16 * 1024 * 1024 * 1024] {
        let path = text(&format!("big-{len}/Dockerfile"), len);
        let Err(err) = Image::from_dockerfile(&path) else {
            panic!("accepted")
        };
        assert!(err.is_too_large(), "{len}: {err:?}");
        assert!(
            err.to_string().contains("the Dockerfile") && err.to_string().contains("4194304 bytes"),
            "{err}"
        );
        let path = text(&format!("big-{len}/pyproject.toml"), len);
        let Err(err) = Image::base("python:3.12")
            .pip_install_from_pyproject(&path, daytona::PyprojectOptions::new())
        else {
            panic!("accepted")
        };
        assert!(err.is_too_large(), "{len}: {err:?}");
    }
}

/// Thousands of wildcard lines over a folder: the work and the contexts
/// of a Dockerfile are bounded, the excess a typed error.
#[test]
fn wildcard_lines_past_the_budget_are_refused() {
    let tree = TempDir::new("wildcard-budget");
    for d in 0..10 {
        for f in 0..10 {
            tree.file(&format!("d{d}/f{f}"), "x");
        }
    }
    let path = tree.file(
        "Dockerfile",
        "FROM alpine\n".to_string() + &"COPY **/* /d/\n".repeat(20_000),
    );
    let started = std::time::Instant::now();
    let Err(err) = Image::from_dockerfile(&path) else {
        panic!("accepted")
    };
    assert!(err.is_too_large(), "{err:?}");
    assert!(err.to_string().contains("listings and matches"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

/// Lines appended to a Dockerfile are read with its escape character, as
/// Docker reads them: under `# escape=`` a `\` is an ordinary character
/// of a `COPY` source.
#[cfg(unix)]
#[test]
fn appended_lines_are_read_with_the_dockerfiles_escape_character() {
    let tree = TempDir::new("appended-escape");
    tree.file("app/C:\\data", "x");
    tree.file("app/C:\\app", "y");
    let path = tree.file(
        "app/Dockerfile",
        "# escape=`\nFROM alpine\nCOPY C:\\data /d/\n",
    );
    let image = Image::from_dockerfile(&path)
        .unwrap()
        .dockerfile_commands(["COPY C:\\app /app/"], Some(&tree.path("app")))
        .unwrap();
    assert_eq!(
        contexts(&tree, &image),
        pairs(&[("app/C:\\data", "C:\\data"), ("app/C:\\app", "C:\\app")])
    );
}

/// Docker reads the flags of an instruction with `\` as their escape
/// character whatever the `# escape=` directive says (its flag reader
/// knows no other): under `# escape=`` the `\"` inside a quoted flag
/// value keeps the quote open, and the sources after the flag are found.
#[test]
fn flags_are_read_with_a_backslash_under_any_escape_directive() {
    let (tree, image) = project(
        "flag-escape",
        "# escape=`\nFROM alpine\nCOPY --chown=\"a\\\"b\" src /dst/\n",
    );
    assert_eq!(contexts(&tree, &image), pairs(&[("app/src", "src")]));
}
