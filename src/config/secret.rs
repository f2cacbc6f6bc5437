//! Secrets (the API key or JWT, the object store's keys) and the one
//! routine that hides them in texts a server may have echoed them into.
//!
//! The rule of [`redact`]: a secret is hidden wherever it occurs in a
//! text, provided it is long enough to identify ([`MIN_SECRET`]
//! characters, far fewer than any real key or token has). A shorter value
//! (a test key such as `api`) is left alone: it would match ordinary
//! words and paths (`POST /api/sandbox`) and hide nothing worth hiding.
//! Headers are never shown at all, and a URL is shown without its user
//! information and query (see the transport's redirect errors), so those
//! places need no search.

use std::fmt;

use serde::Deserialize;

/// What a hidden secret is replaced with.
pub(crate) const REDACTED: &str = "<redacted>";

/// Shortest secret (in bytes) that [`redact`] searches texts for.
pub(crate) const MIN_SECRET: usize = 8;

/// Shortest cut-off start of a secret worth hiding.
const MIN_PARTIAL: usize = 6;

/// A credential that never shows itself in `Debug`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{REDACTED:?}")
    }
}

/// `Debug` of a hidden value: `"<redacted>"`.
pub(crate) struct Hidden;

impl fmt::Debug for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{REDACTED:?}")
    }
}

/// `Debug` of name–value pairs (environment variables) showing the names,
/// in order, and hiding every value.
pub(crate) struct NamesOnly<'a>(Vec<&'a str>);

impl fmt::Debug for NamesOnly<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|name| (name, Hidden)))
            .finish()
    }
}

/// The names of `pairs` for `Debug`, their values hidden.
pub(crate) fn names_only<'a, V: 'a>(
    pairs: impl IntoIterator<Item = (&'a String, &'a V)>,
) -> NamesOnly<'a> {
    let mut names: Vec<&str> = pairs.into_iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    NamesOnly(names)
}

/// `Debug` of Dockerfile text: every `ENV` instruction shows the names it
/// sets, each value `<redacted>` (`ENV A=<redacted> B=<redacted>`), every
/// `ARG` the names it declares, each default `<redacted>`; every
/// other line as it is, but for the user information of its URLs (see
/// [`url_credentials_hidden`]). The text itself is not changed: only what
/// `Debug` shows.
pub(crate) struct EnvHidden<'a>(pub(crate) &'a str);

impl fmt::Debug for EnvHidden<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&env_values_hidden(self.0), f)
    }
}

/// Dockerfile `text` with the values of its `ENV` instructions and the
/// defaults of its `ARG` instructions hidden (see
/// [`EnvHidden`]). An instruction continued on further lines (with `\` or,
/// under `# escape=` + backtick, a backtick) is hidden whole and shown on
/// one line; comment and blank lines inside it are dropped, as Docker
/// drops them.
pub(crate) fn env_values_hidden(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.split_inclusive('\n');
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let keyword = trimmed
            .get(..3)
            .filter(|k| k.eq_ignore_ascii_case("ENV") || k.eq_ignore_ascii_case("ARG"))
            .filter(|_| trimmed[3..].starts_with(char::is_whitespace));
        let Some(keyword) = keyword else {
            out.push_str(line);
            continue;
        };
        let mut args = String::new();
        let mut current = &trimmed[3..];
        let mut last = line;
        loop {
            let body = current.trim_end();
            let Some(continued) = body.strip_suffix(['\\', '`']) else {
                args.push_str(body);
                break;
            };
            args.push_str(continued);
            args.push(' ');
            // The next line that is not a comment or blank goes on.
            let next = lines.find(|l| {
                let t = l.trim();
                !t.is_empty() && !t.starts_with('#')
            });
            match next {
                Some(next) => {
                    current = next;
                    last = next;
                }
                None => break,
            }
        }
        out.push_str(&line[..line.len() - trimmed.len()]);
        out.push_str(keyword);
        let names = if keyword.eq_ignore_ascii_case("ARG") {
            arg_names(&args)
        } else {
            env_names(&args).into_iter().map(|n| (n, true)).collect()
        };
        if names.is_empty() {
            out.push(' ');
            out.push_str(REDACTED);
        }
        for (name, valued) in names {
            out.push(' ');
            out.push_str(name);
            if valued {
                out.push('=');
                out.push_str(REDACTED);
            }
        }
        if last.ends_with('\n') {
            out.push('\n');
        }
    }
    url_credentials_hidden(&out)
}

/// `text` with the user information of every URL in it hidden
/// (`https://<redacted>@host/...` for `https://user:token@host/...`): a
/// package index, a git remote or a proxy may carry a token there. A URL
/// is whatever follows `://`, up to a `/`, `?`, `#`, quote or white space.
pub(crate) fn url_credentials_hidden(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (before, after) = rest.split_at(i + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'' | '`') || c.is_whitespace())
            .unwrap_or(after.len());
        match after[..end].rfind('@') {
            Some(at) => {
                out.push_str(REDACTED);
                rest = &after[at..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

/// The names an `ENV` instruction's arguments set: `A=1 B="x y"` or the
/// older `A x y` (one name, the rest its value).
fn env_names(args: &str) -> Vec<&str> {
    let args = args.trim();
    let first = args.split(char::is_whitespace).next().unwrap_or("");
    if !first.contains('=') {
        return if first.is_empty() {
            vec![]
        } else {
            vec![first]
        };
    }
    // The `NAME=value` form: as `ARG`'s, up to a name without a value.
    arg_names(args)
        .into_iter()
        .take_while(|&(_, valued)| valued)
        .map(|(name, _)| name)
        .collect()
}

/// The names an `ARG` instruction's arguments declare (`A B=1 C="x y"`),
/// each with whether it has a default value.
fn arg_names(args: &str) -> Vec<(&str, bool)> {
    let mut names = Vec::new();
    let mut rest = args.trim_start();
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        let valued = rest[end..].starts_with('=');
        names.push((&rest[..end], valued));
        rest = if valued {
            after_value(&rest[end + 1..])
        } else {
            &rest[end..]
        }
        .trim_start();
    }
    names
}

/// What follows the value at the start of `s`: a word with quotes and
/// escaped characters, up to whitespace outside quotes.
fn after_value(s: &str) -> &str {
    let mut chars = s.char_indices();
    let mut quote: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => return &s[i..],
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), _) => {}
            (_, '\\' | '`') => {
                chars.next();
            }
            _ => {}
        }
    }
    ""
}

/// The values of the environment variables a request carries: an answer
/// may echo its request, and errors never show them. Each value comes with
/// the other forms an echo shows it in (see [`echo_forms`]).
pub(crate) fn env_secrets(envs: &std::collections::BTreeMap<String, String>) -> Vec<Secret> {
    envs.values().flat_map(|value| echo_forms(value)).collect()
}

/// `value`, and where they differ from it, the forms in which an answer
/// echoing a request shows it: escaped as in a JSON string (a body quoted
/// back, with `\"`, `\n`, ...), and with its white space collapsed (the
/// excerpt of an answer that is not JSON).
pub(crate) fn echo_forms(value: &str) -> Vec<Secret> {
    let mut forms = vec![value.to_string()];
    let escaped = serde_json::to_string(value).unwrap_or_default();
    let escaped = escaped
        .strip_prefix('"')
        .and_then(|e| e.strip_suffix('"'))
        .unwrap_or_default();
    let collapsed = value.split_whitespace().collect::<Vec<_>>().join(" ");
    for form in [escaped.to_string(), collapsed] {
        if !form.is_empty() && !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms.into_iter().map(Secret).collect()
}

/// `text` with `secret` hidden in it, by the rule of [`redact`]: for the
/// `Debug` of a value that embeds a token (a signed URL, an SSH command).
pub(crate) fn hidden_in(text: &str, secret: &str) -> String {
    redact(text, [&Secret::new(secret)]).unwrap_or_else(|| text.to_string())
}

/// `text` with every occurrence of each of `secrets` replaced by
/// `<redacted>`, and a trailing start of one (as left by cutting a body
/// short for an excerpt, or a message, which then ends with `…`) too;
/// `None` when there was nothing to hide.
/// Secrets shorter than [`MIN_SECRET`] hide nothing (see the module's
/// rule).
pub(crate) fn redact<'s>(
    text: &str,
    secrets: impl IntoIterator<Item = &'s Secret>,
) -> Option<String> {
    let mut out: Option<String> = None;
    for secret in secrets {
        let secret = secret.expose();
        if secret.len() < MIN_SECRET {
            continue;
        }
        let current = out.as_deref().unwrap_or(text);
        let mut hidden = current
            .contains(secret)
            .then(|| current.replace(secret, REDACTED));
        let current = hidden.as_deref().unwrap_or(current);
        // A text cut short may say so with a `…` after the start.
        let (kept, mark) = match current.strip_suffix('…') {
            Some(kept) => (kept, "…"),
            None => (current, ""),
        };
        let partial = (MIN_PARTIAL..secret.len())
            .rev()
            .filter(|&k| secret.is_char_boundary(k))
            .find(|&k| kept.ends_with(&secret[..k]));
        if let Some(k) = partial {
            let mut cut = kept[..kept.len() - k].to_string();
            cut.push_str(REDACTED);
            cut.push_str(mark);
            hidden = Some(cut);
        }
        if hidden.is_some() {
            out = hidden;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_whole_and_cut_off_secrets() {
        let s = Secret::new("sk-abcdef123");
        assert_eq!(redact("nothing here", [&s]), None);
        assert_eq!(
            redact("a sk-abcdef123 b sk-abcdef123", [&s]).as_deref(),
            Some("a <redacted> b <redacted>")
        );
        assert_eq!(
            redact("cut: sk-abcd", [&s]).as_deref(),
            Some("cut: <redacted>")
        );
        assert_eq!(
            redact("cut: sk-abcd…", [&s]).as_deref(),
            Some("cut: <redacted>…")
        );
        // Too short a tail to be worth hiding.
        assert_eq!(redact("ends with sk-a", [&s]), None);
        assert_eq!(redact("ends with sk-a…", [&s]), None);
        assert_eq!(redact("anything", [&Secret::new("")]), None);
    }

    #[test]
    fn echo_forms_are_the_value_escaped_and_collapsed() {
        let forms = |v: &str| -> Vec<String> {
            echo_forms(v)
                .iter()
                .map(|s| s.expose().to_string())
                .collect()
        };
        assert_eq!(forms("plain-value-1"), ["plain-value-1"]);
        assert_eq!(
            forms("a \"b\"\n\tc\\"),
            ["a \"b\"\n\tc\\", r#"a \"b\"\n\tc\\"#, "a \"b\" c\\"]
        );
    }

    #[test]
    fn short_values_do_not_mangle_texts() {
        let api = Secret::new("api");
        assert_eq!(
            redact("POST /api/sandbox: HTTP 401: bad api key", [&api]),
            None
        );
        let seven = Secret::new("sandbox");
        assert_eq!(redact("GET /api/sandbox/x", [&seven]), None);
        let eight = Secret::new("k3y-k3y!");
        assert_eq!(
            redact("echo k3y-k3y! back", [&eight]).as_deref(),
            Some("echo <redacted> back")
        );
    }

    #[test]
    fn env_values_are_hidden_in_dockerfile_text() {
        let text = "FROM alpine\nENV A=one B=\"two words\" C='it''s' D=x\\ y\n\
                    RUN echo ENV=ok\n  env LEGACY value with spaces\n\
                    ENV E=first \\\n# a comment\n\n    F=\"second\"\nWORKDIR /app\nENV G=last";
        let shown = env_values_hidden(text);
        assert_eq!(
            shown,
            "FROM alpine\nENV A=<redacted> B=<redacted> C=<redacted> D=<redacted>\n\
             RUN echo ENV=ok\n  env LEGACY=<redacted>\n\
             ENV E=<redacted> F=<redacted>\nWORKDIR /app\nENV G=<redacted>"
        );
        for value in [
            "one",
            "two",
            "it",
            "LEGACY value",
            "first",
            "second",
            "last",
        ] {
            assert!(!shown.contains(&format!("={value}")), "{shown}");
        }
        assert!(
            !shown.contains("spaces") && !shown.contains("words"),
            "{shown}"
        );
        // A continuation under `# escape=` with a backtick, and an
        // instruction cut at the end of the text.
        assert_eq!(
            env_values_hidden("# escape=`\nENV A=1 `\n B=2\nENV C=3 \\"),
            "# escape=`\nENV A=<redacted> B=<redacted>\nENV C=<redacted>"
        );
        assert_eq!(
            env_values_hidden("ENV\nENVIRON x\n"),
            "ENV <redacted>\nENVIRON x\n"
        );
        assert_eq!(env_values_hidden("ENV =x\n"), "ENV <redacted>\n");
        // Build arguments: a default is a value too (a token given one).
        assert_eq!(
            env_values_hidden(
                "ARG VERSION\narg TOKEN=ghp_1234 MODE=\"a b\" PLAIN\n\
                 ARG NPM_TOKEN=npm_5678 \\\n  OTHER=ok\nARG\nARGV x\nARG =x\n"
            ),
            "ARG VERSION\narg TOKEN=<redacted> MODE=<redacted> PLAIN\n\
             ARG NPM_TOKEN=<redacted> OTHER=<redacted>\nARG <redacted>\nARGV x\nARG <redacted>\n"
        );
        assert_eq!(
            format!("{:?}", EnvHidden("ENV K=v1234567\n")),
            "\"ENV K=<redacted>\\n\""
        );
    }

    #[test]
    fn url_credentials_are_hidden_wherever_they_are() {
        for (text, shown) in [
            ("https://u:tok@h/x", "https://<redacted>@h/x"),
            (
                "--index-url https\\://__token__:glpat@gl/simple --pre",
                "--index-url https\\://<redacted>@gl/simple --pre",
            ),
            (
                "a http://h/p@x b ftp://u@h",
                "a http://h/p@x b ftp://<redacted>@h",
            ),
            ("\"https://a@b@c\" ://", "\"https://<redacted>@c\" ://"),
            ("no urls here", "no urls here"),
        ] {
            assert_eq!(url_credentials_hidden(text), shown, "{text}");
        }
        assert_eq!(
            env_values_hidden("RUN pip install --index-url https://u:p@h/s x\n"),
            "RUN pip install --index-url https://<redacted>@h/s x\n"
        );
    }

    #[test]
    fn hides_every_secret_of_a_list() {
        let (a, b) = (Secret::new("secret-key-1"), Secret::new("session-token-2"));
        assert_eq!(redact("nothing", [&a, &b]), None);
        assert_eq!(
            redact("a secret-key-1 b session-token-2", [&a, &b]).as_deref(),
            Some("a <redacted> b <redacted>")
        );
        assert_eq!(
            redact("x secret-key-1 cut session-t", [&a, &b]).as_deref(),
            Some("x <redacted> cut <redacted>")
        );
        assert_eq!(format!("{a:?}"), "\"<redacted>\"");
    }
}
