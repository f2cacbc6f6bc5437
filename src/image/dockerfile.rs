//! The local sources of `COPY` and `ADD` instructions in Dockerfile text,
//! as build contexts.
//!
//! The text is read with Dockerfile syntax: instructions continued with the
//! escape character (comment and blank lines inside dropped), any case, the
//! `# escape=` directive, JSON (exec) form, flags (`--chown=...`,
//! `--chmod=...`, `--link`, ...) that never take the next word as a value,
//! words split at whitespace and then read as shell words (quotes and
//! escapes removed; a quote left open is refused, as Docker refuses it).
//! Sources copied from another stage or image (`--from=`),
//! here-documents (`COPY <<EOF /dst`, and the bodies of any here-document,
//! which are never read as instructions) and `ADD` URLs are not local files
//! and are skipped. Wildcards match as Docker's do ([`glob`]), sorted by
//! name.

use std::fs;
use std::path::{Path, PathBuf};

use super::context::{docker_clean, io_error, normalize, path_string, BuildContext};
use super::glob::{self, Budget};
use super::walk::MAX_ENTRIES;
use super::words::{copy_words, flag_end, heredoc, is_docker_space, lex};
use crate::error::{Error, Result};
use crate::pattern;

/// A source named by a `COPY` or `ADD` instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CopySource {
    /// The path or pattern as written, quotes removed.
    source: String,
    /// The 1-based line its instruction starts on.
    line: usize,
}

/// `copy_sources_escaped` of a whole Dockerfile, with its own escape
/// character.
#[cfg(test)]
fn copy_sources(text: &str) -> std::result::Result<Vec<CopySource>, String> {
    copy_sources_escaped(without_bom(text), escape_char(text))
}

/// The local sources of the `COPY` and `ADD` instructions of `text`, read
/// with the escape character `escape`, in order; `Err` says what makes an
/// instruction unreadable.
fn copy_sources_escaped(text: &str, escape: char) -> std::result::Result<Vec<CopySource>, String> {
    let mut out = Vec::new();
    // Here-document terminators still to be met, and whether `<<-` lets
    // them be indented with tabs.
    let mut heredocs: std::collections::VecDeque<(String, bool)> = Default::default();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some((word, strip_tabs)) = heredocs.front() {
            let candidate = if *strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if candidate == word {
                heredocs.pop_front();
            }
            continue;
        }
        let trimmed = line.trim();
        // Comments and blank lines are dropped, also inside a continued
        // instruction, as Docker does.
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (start, mut logical) = pending.take().unwrap_or((index + 1, String::new()));
        let body = line.trim_end();
        if let Some(continued) = body.strip_suffix(escape) {
            logical.push_str(continued);
            pending = Some((start, logical));
            continue;
        }
        logical.push_str(line);
        instruction(&logical, start, escape, &mut out, &mut heredocs)?;
    }
    if let Some((start, logical)) = pending {
        instruction(&logical, start, escape, &mut out, &mut heredocs)?;
    }
    Ok(out)
}

/// The escape character set by a `# escape=` parser directive at the top
/// of the file, `\` by default.
pub(super) fn escape_char(text: &str) -> char {
    for line in without_bom(text).lines() {
        let Some(directive) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = directive.split_once('=') else {
            break;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
            break;
        }
        if key.eq_ignore_ascii_case("escape") && value.trim() == "`" {
            return '`';
        }
    }
    '\\'
}

/// `text` without the UTF-8 byte order mark it may start with, which
/// Docker drops before it reads the first line (its parser directives
/// included).
fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// The flags of `COPY` and `ADD` that take a value, which Docker reads only
/// after `=` (`--chmod=644`): the others (`--link`, `--parents`,
/// `--keep-git-dir`) are switches.
const VALUE_FLAGS: [&str; 5] = ["--from", "--chown", "--chmod", "--exclude", "--checksum"];

/// Handles one complete instruction.
fn instruction(
    logical: &str,
    line: usize,
    escape: char,
    out: &mut Vec<CopySource>,
    heredocs: &mut std::collections::VecDeque<(String, bool)>,
) -> std::result::Result<(), String> {
    let logical = logical.trim();
    let (keyword, args) = logical.split_once(is_docker_space).unwrap_or((logical, ""));
    let keyword = keyword.to_ascii_uppercase();
    if !matches!(keyword.as_str(), "COPY" | "ADD" | "RUN") {
        return Ok(());
    }
    let mut rest = args.trim_start();
    let mut from_other_stage = false;
    while rest.starts_with("--") {
        let end = flag_end(rest);
        let flag = &rest[..end];
        rest = rest[end..].trim_start();
        if flag == "--" {
            break;
        }
        // `get`: the flag may go on with a multi-byte character (`--fromé`).
        if flag
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("--from="))
        {
            from_other_stage = true;
        }
        let needs_value = VALUE_FLAGS.iter().any(|f| f.eq_ignore_ascii_case(flag));
        if keyword != "RUN" && needs_value {
            let next = rest.split(is_docker_space).next().filter(|w| !w.is_empty());
            return Err(format!(
                "{keyword} flag {flag} (line {line}) has no value: Docker reads it only \
                 after `=`, as in {flag}={}",
                next.unwrap_or("<value>")
            ));
        }
    }
    // Here-documents are found in the line read as shell words, quotes
    // and all, as Docker finds them.
    let (words, _) = lex(rest, escape, true);
    heredocs.extend(words.iter().filter_map(|w| heredoc(w)));
    if keyword == "RUN" || from_other_stage {
        return Ok(());
    }
    let mut sources =
        copy_words(rest, escape).map_err(|why| format!("{keyword} (line {line}): {why}"))?;
    sources.retain(|w| heredoc(w).is_none());
    if sources.len() < 2 {
        return Ok(());
    }
    sources.pop(); // the destination
    for source in sources {
        if keyword == "ADD" && is_remote(&source) {
            continue;
        }
        out.push(CopySource { source, line });
    }
    Ok(())
}

/// Whether an `ADD` source is fetched by the builder rather than sent.
fn is_remote(source: &str) -> bool {
    source.contains("://") || source.starts_with("git@")
}

/// The contexts for the local `COPY`/`ADD` sources of `text`, resolved
/// against the build context `base` (empty: the current directory),
/// wildcards expanded (sorted by name).
///
/// As Docker, a source must stay inside the context: an absolute path, a
/// path whose `..` climb above `base`, or a match that leads out of it
/// through a symbolic link is an [`Error::Validation`] naming the line,
/// returned before any file is read. The literal folders before a
/// wildcard are followed through links and checked before anything in them
/// is listed; the wildcards themselves enter no link.
///
/// The sources and matches together, and the directories the wildcards
/// list, are at most [`MAX_ENTRIES`]: past them, an [`Error::TooLarge`].
pub(crate) fn local_sources(text: &str, base: &Path, field: &str) -> Result<Vec<BuildContext>> {
    let escape = escape_char(text);
    let text = without_bom(text);
    local_sources_within(text, escape, base, field, &mut Budget::new(MAX_ENTRIES))
}

/// [`local_sources`] of lines appended to a Dockerfile whose escape
/// character is `escape`: Docker reads them with it (a `# escape=`
/// directive among them is a comment there).
pub(crate) fn appended_sources(
    text: &str,
    escape: char,
    base: &Path,
    field: &str,
) -> Result<Vec<BuildContext>> {
    local_sources_within(text, escape, base, field, &mut Budget::new(MAX_ENTRIES))
}

/// [`local_sources`] of lines read with `escape`, spending `budget` (see
/// [`Budget`]).
fn local_sources_within(
    text: &str,
    escape: char,
    base: &Path,
    field: &str,
    budget: &mut Budget,
) -> Result<Vec<BuildContext>> {
    let mut contexts = Vec::new();
    let sources =
        copy_sources_escaped(text, escape).map_err(|why| Error::validation(field, why))?;
    let listed = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    // The context as the filesystem resolves it (links included).
    let context = fs::canonicalize(listed).map_err(|e| io_error(listed, e))?;
    let outside = |source: &str, line: usize, why: String| {
        Error::validation(
            field,
            format!(
                "COPY source {source:?} (line {line}) {why}, outside the build context {}: \
                 Docker refuses it",
                context.display()
            ),
        )
    };
    for CopySource { source, line } in sources {
        if source.starts_with('/') {
            return Err(outside(&source, line, "is an absolute path".into()));
        }
        let mut components: Vec<&str> = Vec::new();
        for part in source.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if components.pop().is_none() {
                        return Err(outside(&source, line, "climbs with `..`".into()));
                    }
                }
                other => components.push(other),
            }
        }
        if let Some(bad) = components
            .iter()
            .find(|c| glob::has_magic(c) && pattern::check(c).is_err())
        {
            return Err(Error::validation(
                field,
                format!(
                    "COPY source {source:?} (line {line}): {bad:?} is not a valid pattern \
                     (Docker refuses it too)"
                ),
            ));
        }
        let root = base;
        // As Docker, the literal components before the first wildcard are
        // followed through links; where they lead is checked before anything
        // under them is listed (the wildcards enter no link).
        let literal = components.iter().take_while(|c| !glob::has_magic(c));
        let prefix: PathBuf = literal.clone().collect();
        let pattern = &components[literal.count()..];
        let start = listed.join(&prefix);
        let matches = if pattern.is_empty() {
            budget.spend()?;
            match fs::metadata(&start) {
                Ok(_) => vec![prefix],
                Err(_) => Vec::new(),
            }
        } else {
            match fs::canonicalize(&start) {
                Ok(real) if !real.starts_with(&context) => {
                    let why = format!("leads to {} through a symbolic link", real.display());
                    return Err(outside(&source, line, why));
                }
                Ok(real) if real.is_dir() => glob::expand(&start, pattern, budget)?
                    .into_iter()
                    .map(|found| prefix.join(found).components().collect())
                    .collect(),
                _ => Vec::new(),
            }
        };
        if matches.is_empty() {
            return Err(Error::validation(
                field,
                format!(
                    "COPY source {source:?} (line {line}) matches nothing: {} does not exist",
                    root.join(components.join("/")).display()
                ),
            ));
        }
        for found in matches {
            if found.to_str().is_none() {
                return Err(Error::validation(
                    field,
                    format!(
                        "COPY source {source:?} (line {line}) matches {}, whose name is not \
                         UTF-8, which a build context cannot carry unchanged: rename it",
                        found.display()
                    ),
                ));
            }
            let archive = docker_clean(&path_string(&found));
            let mut on_disk = normalize(&root.join(&found));
            if on_disk.as_os_str().is_empty() {
                on_disk = PathBuf::from(".");
            }
            // Where it really is, through any link on the way.
            let real = fs::canonicalize(&on_disk).map_err(|e| io_error(&on_disk, e))?;
            if !real.starts_with(&context) {
                let why = format!("leads to {} through a symbolic link", real.display());
                return Err(outside(&source, line, why));
            }
            contexts.push(BuildContext::new(on_disk, archive));
        }
    }
    Ok(contexts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(text: &str) -> Vec<(String, usize)> {
        copy_sources(text)
            .unwrap()
            .into_iter()
            .map(|s| (s.source, s.line))
            .collect()
    }

    fn s(v: &[(&str, usize)]) -> Vec<(String, usize)> {
        v.iter().map(|(a, l)| (a.to_string(), *l)).collect()
    }

    #[test]
    fn reads_forms_and_flags() {
        let text = "FROM x\n\
                    copy a.txt /a\n\
                    COPY --link --chown=1:1 --chmod=644 b c /dst/\n\
                    COPY [\"d e\", \"f\", \"/dst/\"]\n\
                    COPY --chown=0:0 [\"g\", \"/g\"]\n\
                    COPY \"h\"i 'j'k l\\m /dst/\n\
                    COPY --from=build /app /app\n\
                    COPY --FROM=build /app /app\n\
                    ADD https://example.com/x.tgz git@github.com:a/b.git n.tar /opt/\n\
                    COPY onlyone\n";
        let want = [
            ("a.txt", 2),
            ("b", 3),
            ("c", 3),
            ("d e", 4),
            ("f", 4),
            ("g", 5),
            ("hi", 6),
            ("jk", 6),
            ("lm", 6),
            ("n.tar", 9),
        ];
        assert_eq!(sources(text), s(&want));
    }

    #[test]
    fn joins_continued_lines_and_skips_heredocs() {
        let text = "FROM x\r\n\
                    COPY a \\\r\n\
                    # a comment inside\n\
                    \x20    b \\\n\
                    \n\
                    \x20    /dst/\n\
                    RUN <<EOF\n\
                    COPY not-me /x\n\
                    EOF\n\
                    COPY <<-END <<\"TWO\" c /dst/\n\
                    \tCOPY nor-me /x\n\
                    \tEND\n\
                    COPY nor-this /y\n\
                    TWO\n\
                    COPY d /d\n";
        let want = [("a", 2), ("b", 2), ("c", 10), ("d", 15)];
        assert_eq!(sources(text), s(&want));
    }

    #[test]
    fn multibyte_flags_and_words_never_panic() {
        let text = "FROM x\nCOPY --fromé a b\nCOPY --é a /d\nCOPY --fro a /e\nCOPY é ü /d/\n\
                    COPY --from=é x /y\nADD --ünknown=1 f /g\n";
        assert_eq!(
            sources(text),
            s(&[("a", 2), ("a", 3), ("a", 4), ("é", 5), ("ü", 5), ("f", 7)])
        );
        // Every prefix of every line, cut at any character.
        for (i, _) in text.char_indices() {
            let _ = copy_sources(&text[..i]);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_wildcard_under_a_link_out_is_refused_before_any_listing() {
        use crate::test_temp::TempDir;
        use std::os::unix::fs::symlink;
        let tree = TempDir::new("wildcard-link-out");
        tree.file("host/a/b/secret.txt", "s");
        tree.file("ctx/in/ok.txt", "ok");
        symlink(tree.path("host"), tree.path("ctx/link")).unwrap();
        symlink("..", tree.path("ctx/in/up")).unwrap();
        let ctx = tree.path("ctx");
        for copy in [
            "link/**",
            "link/*/b/*.txt",
            "link/a/**/*.txt",
            "in/up/link/*/b",
        ] {
            let text = format!("FROM x\nCOPY {copy} /d/\n");
            let before = glob::LISTINGS.with(|n| n.get());
            let err = local_sources(&text, &ctx, "dockerfile").unwrap_err();
            assert!(
                err.to_string().contains("(line 2) leads to")
                    && err.to_string().contains("through a symbolic link"),
                "{copy}: {err}"
            );
            assert_eq!(glob::LISTINGS.with(|n| n.get()), before, "{copy}: listed");
        }
        // A link that stays inside the context is followed.
        symlink("in", tree.path("ctx/here")).unwrap();
        let found = local_sources("COPY here/*.txt /d/", &ctx, "dockerfile").unwrap();
        assert_eq!(
            found,
            [BuildContext::new(ctx.join("here/ok.txt"), "here/ok.txt")]
        );
    }

    /// A wildcard that matches a name that is not UTF-8 is refused: the
    /// build context would carry it renamed.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_wildcard_match_that_is_not_utf8_is_refused() {
        use crate::test_temp::TempDir;
        use std::os::unix::ffi::OsStrExt;
        let tree = TempDir::new("wildcard-bytes");
        tree.file("ctx/a.txt", "a");
        let bad = std::ffi::OsStr::from_bytes(b"b\xFF.txt");
        fs::write(tree.path("ctx").join(bad), "b").unwrap();
        let ctx = tree.path("ctx");
        let err = local_sources("FROM x\nCOPY *.txt /d/\n", &ctx, "dockerfile").unwrap_err();
        assert!(
            matches!(&err, Error::Validation { field, .. } if field == "dockerfile")
                && err.to_string().contains("(line 2) matches b\u{FFFD}.txt")
                && err.to_string().contains("not UTF-8"),
            "{err}"
        );
        let found = local_sources("COPY a* /d/", &ctx, "dockerfile").unwrap();
        assert_eq!(found, [BuildContext::new(ctx.join("a.txt"), "a.txt")]);
    }

    /// Docker reads a source holding `*`, `?` or `[` as a wildcard: the
    /// `COPY` of a path named so must still copy that path alone.
    #[cfg(unix)]
    #[test]
    fn a_copy_line_names_its_source_literally() {
        use crate::test_temp::TempDir;
        let tree = TempDir::new("literal-copy");
        for rel in [
            "data[1]/m",
            "data1/o",
            "a*b/x",
            "aXb/y",
            "what?/z",
            "whatX/w",
        ] {
            tree.file(&format!("ctx/{rel}"), "x");
        }
        let ctx = tree.path("ctx");
        for name in ["data[1]", "a*b", "what?"] {
            let line = crate::image::local::copy_line(name, "/app", '\\');
            let found = local_sources(&line, &ctx, "dockerfile").unwrap();
            assert_eq!(found, [BuildContext::new(ctx.join(name), name)], "{line}");
        }
        let line = crate::image::local::copy_line("plain/dir", "/app", '\\');
        assert_eq!(line, "COPY plain/dir /app");
    }

    /// Docker reads the paths of a `COPY` line, in either form, as shell
    /// words: `$NAME` expands, quotes and escapes go. A path holding them
    /// must still name that path, source and destination.
    #[cfg(unix)]
    #[test]
    fn a_copy_line_keeps_dollars_quotes_and_backslashes() {
        use crate::test_temp::TempDir;
        let cases = [
            ("cost$5.txt", "/app/$HOME", r"COPY cost\$5.txt /app/\$HOME"),
            ("it's", "/app/", r"COPY it\'s /app/"),
            ("say\"hi\"", "/app", r#"COPY say\"hi\" /app"#),
            ("back\\slash", "/a\\b", r"COPY back\\slash /a\\b"),
            ("it's mine", "/my app", r#"COPY ["it\\'s mine", "/my app"]"#),
            ("a b$c", "/d", r#"COPY ["a b\\$c", "/d"]"#),
            ("tick`s", "/t`", r"COPY tick`s /t`"),
        ];
        let tree = TempDir::new("copy-words");
        for (name, _, _) in cases {
            tree.file(&format!("ctx/{name}"), "x");
        }
        let ctx = tree.path("ctx");
        for (name, dest, want) in cases {
            let line = crate::image::local::copy_line(name, dest, '\\');
            assert_eq!(line, want, "{name:?} -> {dest:?}");
        }
        // With either escape character, each path reads back as itself.
        for (escape, directive) in [('\\', ""), ('`', "# escape=`\n")] {
            for (name, dest, _) in cases {
                let line = crate::image::local::copy_line(name, dest, escape);
                let words = copy_words(&line[5..], escape).unwrap();
                assert_eq!(words, [name, dest], "{line}");
                let text = format!("{directive}{line}");
                let found = local_sources(&text, &ctx, "dockerfile").unwrap();
                assert_eq!(found, [BuildContext::new(ctx.join(name), name)], "{text}");
            }
        }
    }

    /// The sources of a whole Dockerfile share one budget of listings and
    /// matches: thousands of `COPY **/x` lines cannot list a folder
    /// thousands of times, nor make millions of contexts.
    #[test]
    fn the_sources_of_a_dockerfile_share_one_budget() {
        use crate::test_temp::TempDir;
        let tree = TempDir::new("source-budget");
        for rel in ["ctx/a/x", "ctx/b/x", "ctx/c/x"] {
            tree.file(rel, "x");
        }
        let ctx = tree.path("ctx");
        let run = |text: &str, limit: usize| {
            local_sources_within(text, '\\', &ctx, "path", &mut Budget::new(limit))
        };
        // `**/x`: four folders listed, three matches; a literal source: one.
        let line = "COPY **/x a /d/\n";
        assert_eq!(run(line, 8).unwrap().len(), 4);
        let err = run(line, 7).unwrap_err();
        assert!(err.is_too_large(), "{err:?}");
        assert!(
            err.to_string().contains("limit of 7 listings and matches"),
            "{err}"
        );
        let twice = line.repeat(2);
        assert_eq!(run(&twice, 16).unwrap().len(), 8);
        assert!(run(&twice, 15).unwrap_err().is_too_large());
    }

    #[test]
    fn json_form_words_are_read_as_shell_words() {
        let text = "COPY [\"a\\\\$b\", \"it\\\\'s\", \"'q r'\", \"/d\"]\n";
        assert_eq!(sources(text), s(&[("a$b", 1), ("it's", 1), ("q r", 1)]));
    }

    /// Docker splits a plain-form line at whitespace before it reads
    /// quotes: a quoted path with a space in it is a quote left open, and
    /// an escaped space ends the word.
    #[test]
    fn plain_form_words_split_at_whitespace_before_quotes() {
        for (text, word) in [
            ("FROM x\nCOPY \"h i\" /dst/\n", "\"h"),
            ("FROM x\nCOPY 'j k' /dst/\n", "'j"),
            ("FROM x\nCOPY ok \"/my dst\"\n", "\"/my"),
            ("FROM x\nADD [\"it's\", \"/d\"]\n", "it's"),
        ] {
            let err = copy_sources(text).unwrap_err();
            assert!(
                err.contains("(line 2)") && err.contains(&format!("{word:?}")),
                "{text:?}: {err}"
            );
            assert!(err.contains("JSON form"), "{err}");
        }
        // The escape character keeps the space out of the word, and one at
        // the end of a word is dropped: two sources.
        let text = "COPY a\\ b /x\n";
        assert_eq!(sources(text), s(&[("a", 1), ("b", 1)]));
        // Tabs, vertical tabs, form feeds split words; other Unicode
        // spaces do not.
        let text = "COPY a\tb\u{b}c\u{c}d\u{a0}e /x\n";
        assert_eq!(
            sources(text),
            s(&[("a", 1), ("b", 1), ("c", 1), ("d\u{a0}e", 1)])
        );
        // A quoted flag value is one flag; `--` ends the flags.
        let text = "COPY --chown=\"my user\" a /x\nCOPY -- --odd /x\n";
        assert_eq!(sources(text), s(&[("a", 1), ("--odd", 2)]));
        // RUN lines are never refused for their quotes.
        assert_eq!(sources("RUN echo \"a b\nCOPY c /d\n"), s(&[("c", 2)]));
    }

    /// As Docker's decoder, the JSON form is the array the arguments start
    /// with: what follows it is ignored, and an array of anything but
    /// strings is refused rather than read as plain words.
    #[test]
    fn the_json_form_is_the_leading_array_of_strings() {
        let text = "COPY [\"a b\", \"/d\"] ignored\n";
        assert_eq!(sources(text), s(&[("a b", 1)]));
        let err = copy_sources("COPY [1, \"/d\"]\n").unwrap_err();
        assert!(
            err.contains("(line 1)") && err.contains("strings only"),
            "{err}"
        );
        // Not an array: plain words.
        assert_eq!(sources("COPY [a] /d\n"), s(&[("[a]", 1)]));
    }

    #[test]
    fn honours_the_escape_directive() {
        let text = "# escape=`\nFROM x\nCOPY C:\\a `\n  C:\\b /dst/\n";
        assert_eq!(sources(text), s(&[("C:\\a", 3), ("C:\\b", 3)]));
    }

    /// Docker drops a byte order mark before the first line: its
    /// directive, or its instruction, is read as without one.
    #[test]
    fn a_byte_order_mark_hides_neither_directive_nor_instruction() {
        let text = "\u{feff}# escape=`\nFROM x\nCOPY C:\\a /dst/\n";
        assert_eq!(escape_char(text), '`');
        assert_eq!(sources(text), s(&[("C:\\a", 3)]));
        assert_eq!(sources("\u{feff}COPY a /dst/\n"), s(&[("a", 1)]));
    }
}
