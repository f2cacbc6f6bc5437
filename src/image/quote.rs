//! Quoting of words in generated Dockerfile lines.
//!
//! [`quote`] reproduces, for one string, the `quote` function of the
//! `shell-quote` npm package (version 1.12), which the TypeScript SDK uses:
//! the same input gives the same text, so a Dockerfile made here is the one
//! the TypeScript SDK makes for the same calls.

use crate::config::url_credentials_hidden;
use crate::error::{Error, Result};

/// Whether `c` is matched by `\s` in a JavaScript regular expression.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// `s` without leading and trailing whitespace, as JavaScript's `trim()`.
pub(crate) fn js_trim(s: &str) -> &str {
    s.trim_matches(is_js_space)
}

/// The characters `shell-quote` escapes with a backslash in a word that
/// needs no quotes.
fn is_special(c: char) -> bool {
    "#!\"$&'()*,:;<=>?@[\\]^`{|}~".contains(c)
}

/// One word quoted exactly as `shell-quote`'s `quote([s])` does.
///
/// ```text
/// pandas==2.0     -> pandas\=\=2.0
/// pkg with space  -> 'pkg with space'
/// it's            -> "it's"
/// $HOME           -> \$HOME
/// ""              -> ''
/// ```
pub(crate) fn quote(s: &str) -> String {
    if s.is_empty() {
        return "''".to_string();
    }
    let has = |pred: &dyn Fn(char) -> bool| s.chars().any(pred);
    let single = s.contains('\'');
    if single && s.contains('!') {
        return format!("'{}'", s.replace('\'', "'\"'\"'"));
    }
    if !single && has(&|c| c == '"' || c == '\\' || is_js_space(c)) {
        return format!("'{s}'");
    }
    if has(&|c| c == '"' || c == '\'' || is_js_space(c)) {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('"');
        for c in s.chars() {
            if matches!(c, '"' | '\\' | '$' | '`') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        return out;
    }
    // The regular expression /([A-Za-z]:)?([specials])/g: a drive-letter
    // prefix such as `C:` right before a special character keeps its colon
    // unescaped.
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let drive = c.is_ascii_alphabetic()
            && chars.get(i + 1) == Some(&':')
            && chars.get(i + 2).is_some_and(|&n| is_special(n));
        if drive {
            out.push(c);
            out.push(':');
            out.push('\\');
            out.push(chars[i + 2]);
            i += 3;
            continue;
        }
        if is_special(c) {
            out.push('\\');
        }
        out.push(c);
        i += 1;
    }
    out
}

/// One word quoted for Docker's own word processing (an `ENV` value, the
/// `WORKDIR` path) in a Dockerfile whose escape character is `escape`:
/// [`quote`]'s text, the TypeScript SDK's, except where Docker would read
/// that otherwise. Inside double quotes Docker's escape character escapes
/// only `"`, `$` and itself, so with `\` a backtick stays bare (escaped, it
/// would keep its backslash); Docker also splits words at a NEL (U+0085),
/// which `shell-quote` leaves bare, so a word holding one is quoted.
///
/// With the backtick as escape character (the `# escape=` directive)
/// the escapes are written
/// with it: Docker's lexer takes its escape character, not `\`, both
/// outside and inside double quotes, and a `\` there is an ordinary
/// character. Single quotes keep everything as it is with either.
pub(crate) fn docker_quote(s: &str, escape: char) -> String {
    let quoted = quote(s);
    if quoted.starts_with('"') {
        let mut out = String::with_capacity(quoted.len());
        out.push('"');
        for c in s.chars() {
            if c == '"' || c == '$' || c == escape {
                out.push(escape);
            }
            out.push(c);
        }
        out.push('"');
        out
    } else if s.contains('\u{85}') && !quoted.starts_with('\'') {
        // Bare means no quote, backslash or space in it: single quotes
        // keep it as it is.
        format!("'{s}'")
    } else if quoted.starts_with('\'') || escape == '\\' {
        quoted
    } else {
        // Bare: a `\` there is always an escape (a word holding one is
        // quoted), each one written with the escape character instead.
        quoted.replace('\\', &escape.to_string())
    }
}

/// Words quoted one by one and joined with single spaces, as
/// `shell-quote`'s `quote(words)`.
pub(crate) fn quote_all<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `s` would end the Dockerfile line it is written on.
pub(crate) fn has_line_break(s: &str) -> bool {
    s.contains(['\n', '\r'])
}

/// Rejects a value that would end the Dockerfile line it is written on,
/// or that holds a NUL, which no argument, path or environment value of
/// the build can carry.
pub(crate) fn single_line<'a>(field: &str, s: &'a str) -> Result<&'a str> {
    if s.contains('\0') {
        return Err(Error::validation(
            field,
            "contains a NUL character, which no argument, path or environment value can hold",
        ));
    }
    if has_line_break(s) {
        return Err(Error::validation(
            field,
            format!(
                "{} contains a line break, which cannot be written on one Dockerfile line",
                url_credentials_hidden(&format!("{s:?}"))
            ),
        ));
    }
    Ok(s)
}

/// Rejects text whose last line ends with the escape character `escape`
/// (spaces and tabs after it aside): Docker would continue that line into
/// the next instruction, which would vanish into it. The last line is the
/// last one that is neither blank nor a `#` comment: Docker skips those
/// inside a continued instruction, so they do not end it.
pub(crate) fn no_continuation(field: &str, s: &str, escape: char) -> Result<()> {
    let last = s.split('\n').rev().find(|line| {
        let line = line.trim_start();
        !line.trim_end().is_empty() && !line.starts_with('#')
    });
    if last.is_some_and(|line| line.trim_end_matches([' ', '\t', '\r']).ends_with(escape)) {
        return Err(Error::validation(
            field,
            format!(
                "ends with `{escape}`, which would continue its line into the next instruction"
            ),
        ));
    }
    Ok(())
}

/// `s` as a JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Compares two strings as JavaScript's default `Array.prototype.sort`
/// does: by UTF-16 code units.
pub(crate) fn js_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_shell_quote_1_12() {
        let cases = [
            ("numpy", "numpy"),
            ("pandas==2.0", "pandas\\=\\=2.0"),
            ("numpy>=1.24", "numpy\\>\\=1.24"),
            ("pkg with space", "'pkg with space'"),
            ("it's", "\"it's\""),
            ("$HOME", "\\$HOME"),
            ("a;rm -rf /", "'a;rm -rf /'"),
            (
                "https://pypi.example.com/simple",
                "https\\://pypi.example.com/simple",
            ),
            ("", "''"),
            ("a\nb", "'a\nb'"),
            (" #(){}*|][!", "' #(){}*|][!'"),
            ("'#(){}*|][!", "''\"'\"'#(){}*|][!'"),
            ("X#(){}*|][!", "X\\#\\(\\)\\{\\}\\*\\|\\]\\[\\!"),
            ("><;{}", "\\>\\<\\;\\{\\}"),
            ("it's \"neat\"", "\"it's \\\"neat\\\"\""),
            ("C:$x", "C:\\$x"),
            ("a::", "a:\\:"),
            ("C:", "C\\:"),
            ("back\\slash", "'back\\slash'"),
            ("it's $5 `x`", "\"it's \\$5 \\`x\\`\""),
            ("tab\there", "'tab\there'"),
            ("nbsp\u{a0}x", "'nbsp\u{a0}x'"),
            ("req[extra]~=1.0", "req\\[extra\\]\\~\\=1.0"),
        ];
        for (input, want) in cases {
            assert_eq!(quote(input), want, "quote({input:?})");
        }
        assert_eq!(quote_all(&["a", "b", "c d"]), "a b 'c d'");
    }

    /// The words of `text` as BuildKit's lexer reads an `ENV` value or a
    /// `WORKDIR` path when no variable is set: split at whitespace outside
    /// quotes, quotes removed, the escape character taken (inside double
    /// quotes only before `"`, `$` and itself), and `$NAME` or `${NAME}`
    /// outside single quotes expanded, to nothing. Unlike the crate's own
    /// reader, a `$` left unescaped changes the value here.
    fn read_as_buildkit(text: &str, escape: char) -> Vec<String> {
        let mut words = Vec::new();
        let mut word: Option<String> = None;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_whitespace() {
                words.extend(word.take());
                continue;
            }
            let current = word.get_or_insert_with(String::new);
            match c {
                '\'' => current.extend(chars.by_ref().take_while(|&c| c != '\'')),
                '"' => {
                    while let Some(c) = chars.next() {
                        match c {
                            '"' => break,
                            '$' => expand(&mut chars, current),
                            c if c == escape
                                && chars
                                    .peek()
                                    .is_some_and(|&n| n == '"' || n == '$' || n == escape) =>
                            {
                                current.extend(chars.next());
                            }
                            c => current.push(c),
                        }
                    }
                }
                '$' => expand(&mut chars, current),
                c if c == escape => current.extend(chars.next()),
                c => current.push(c),
            }
        }
        words.extend(word);
        words
    }

    /// A variable reference after its `$`, no variable set: `${...}` and
    /// `$NAME` (letters, digits, `_`; a single digit) read as nothing; a
    /// `$` before anything else is kept.
    fn expand(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) {
        match chars.peek() {
            Some('{') => {
                chars.by_ref().find(|&c| c == '}');
            }
            Some(c) if c.is_ascii_digit() => {
                chars.next();
            }
            Some(&c) if c.is_alphabetic() || c == '_' => {
                while chars
                    .next_if(|&c| c.is_alphanumeric() || c == '_')
                    .is_some()
                {}
            }
            _ => out.push('$'),
        }
    }

    #[test]
    fn the_buildkit_reader_expands_variables() {
        let read = |text| read_as_buildkit(text, '\\');
        assert_eq!(read("a$HOME/b ${X}c $5d"), ["a/b", "c", "d"]);
        assert_eq!(
            read("\"$X y\" '$X' \\$X \"\\$X\" $ $-"),
            [" y", "$X", "$X", "$X", "$", "$-"]
        );
    }

    /// Each value reads back, as Docker reads an `ENV` line, as one word
    /// holding exactly it.
    #[test]
    fn docker_quote_reads_back_as_docker_reads_it() {
        let values = [
            "",
            "plain",
            "a b",
            "it's",
            "it's `date`",
            "`x` y",
            "say \"hi\" $HOME \\ `x`",
            "it's \\ \"q\" $5 `b`",
            "it's!",
            "a\u{85}b",
            "it's a\u{85}b",
            "C:$x",
            "tab\there",
            "a`b",
            "$HOME`",
            "C:\\dir",
            "`",
            "it's `",
            "${HOME}",
            "$_x a",
            "it's ${A}$",
        ];
        for escape in ['\\', '`'] {
            for value in values {
                let quoted = docker_quote(value, escape);
                let words = read_as_buildkit(&quoted, escape);
                assert_eq!(words, [value], "{value:?} as {quoted} (escape {escape})");
            }
        }
    }

    #[test]
    fn line_breaks_are_refused() {
        assert!(single_line("f", "a\rb").is_err());
        assert!(single_line("f", "a\nb").is_err());
        assert_eq!(single_line("f", "a b").unwrap(), "a b");
    }

    #[test]
    fn a_trailing_escape_character_is_refused() {
        assert!(no_continuation("f", "RUN a \\", '\\').is_err());
        assert!(no_continuation("f", "RUN a \\ \t\r", '\\').is_err());
        assert!(no_continuation("f", "RUN a `", '`').is_err());
        assert!(no_continuation("f", "RUN a `", '\\').is_ok());
        assert!(no_continuation("f", "RUN a \\\n  && b", '\\').is_ok());
        // Blank and comment lines after it do not end the continuation.
        for text in [
            "RUN apk add \\\n",
            "RUN a \\\n  ",
            "RUN a \\\n# note\n",
            "RUN a \\\n \t\r\n  # note \\\n\n",
        ] {
            assert!(no_continuation("f", text, '\\').is_err(), "{text:?}");
        }
        assert!(no_continuation("f", "RUN a `\n\n# x", '`').is_err());
        assert!(no_continuation("f", "RUN a\n# note \\", '\\').is_ok());
        assert!(no_continuation("f", "RUN a\n\n", '\\').is_ok());
    }

    #[test]
    fn sorts_like_javascript() {
        let mut v = vec!["\u{10000}", "\u{ff61}", "b", "B", "a"];
        v.sort_by(|a, b| js_cmp(a, b));
        assert_eq!(v, ["B", "a", "b", "\u{10000}", "\u{ff61}"]);
    }
}
