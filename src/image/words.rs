//! Reading the words of a Dockerfile instruction as Docker reads them:
//! whitespace, flags, the JSON form, shell words (quotes and escapes) and
//! here-document markers.

/// Docker's whitespace between the words of an instruction
/// (`[\t\v\f\r ]`), narrower than Unicode's.
pub(super) fn is_docker_space(c: char) -> bool {
    matches!(c, '\t' | '\u{b}' | '\u{c}' | '\r' | ' ')
}

/// Where the flag at the start of `rest` ends: at whitespace outside
/// quotes, a backslash keeping the next character (`--chown="a b"` is one
/// flag), as Docker reads flags: with `\` whatever the `# escape=`
/// directive says, which Docker's flag reader does not consult.
pub(super) fn flag_end(rest: &str) -> usize {
    let mut quote = None;
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                chars.next();
            }
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => return i,
            _ => {}
        }
    }
    rest.len()
}

/// The words of a `COPY` or `ADD` line after its flags, as Docker reads
/// them: a JSON array of strings, or else the line split at whitespace;
/// then each word read as one shell word (quotes and escapes removed). As
/// Docker splits before it reads quotes, a quoted path with a space in it
/// is refused with a pointer to the JSON form, as is a quote left open.
pub(super) fn copy_words(rest: &str, escape: char) -> std::result::Result<Vec<String>, String> {
    let words: Vec<std::borrow::Cow<'_, str>> = match json_array(rest)? {
        Some(words) => words.into_iter().map(Into::into).collect(),
        None => rest
            .split(is_docker_space)
            .filter(|w| !w.is_empty())
            .map(Into::into)
            .collect(),
    };
    words
        .iter()
        .map(|word| match lex(word, escape, false) {
            (parts, None) => Ok(parts.concat()),
            (_, Some(quote)) => Err(format!(
                "the word {word:?} opens a quote ({quote}) it does not close. Docker splits \
                 the line at whitespace before it reads quotes: write a path with a space in \
                 it in JSON form, as in COPY [\"my file\", \"/dst/\"]"
            )),
        })
        .collect()
}

/// The strings of the JSON array that `rest` starts with (text after it
/// is ignored, as Docker's decoder ignores it), `None` when it does not
/// start with one, and `Err` for an array holding anything but strings,
/// which Docker refuses.
fn json_array(rest: &str) -> std::result::Result<Option<Vec<String>>, String> {
    if !rest.starts_with('[') {
        return Ok(None);
    }
    let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Vec<serde_json::Value>>();
    let Some(Ok(values)) = values.next() else {
        return Ok(None);
    };
    values
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => Ok(s),
            _ => Err("a JSON array of arguments must hold strings only".to_string()),
        })
        .collect::<std::result::Result<_, _>>()
        .map(Some)
}

/// Reads `text` as Docker's shell-word lexer does: quotes removed; the
/// escape character makes the next character literal (inside double
/// quotes only before `"`, `$` and itself); split into words at whitespace
/// outside quotes when `split`. Returns the words and the quote left open
/// at the end, if any.
pub(super) fn lex(text: &str, escape: char, split: bool) -> (Vec<String>, Option<char>) {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if split && c.is_whitespace() {
            words.extend(word.take());
            continue;
        }
        let current = word.get_or_insert_with(String::new);
        match c {
            '\'' | '"' => {
                let mut closed = false;
                while let Some(d) = chars.next() {
                    match d {
                        d if d == c => {
                            closed = true;
                            break;
                        }
                        d if c == '"'
                            && d == escape
                            && chars
                                .peek()
                                .is_some_and(|&n| n == '"' || n == '$' || n == escape) =>
                        {
                            current.extend(chars.next());
                        }
                        d => current.push(d),
                    }
                }
                if !closed {
                    words.extend(word);
                    return (words, Some(c));
                }
            }
            c if c == escape => current.extend(chars.next()),
            c => current.push(c),
        }
    }
    words.extend(word);
    (words, None)
}

/// The terminator of a here-document opened by `word` (`<<EOF`, `<<-EOF`,
/// `<<"EOF"`, `2<<EOF`), and whether its lines may be indented with tabs.
pub(super) fn heredoc(word: &str) -> Option<(String, bool)> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix("<<")?;
    let (strip_tabs, name) = match rest.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, rest),
    };
    let name = name.trim_matches(|c| c == '"' || c == '\'');
    if name.is_empty() || name.contains('<') {
        return None;
    }
    Some((name.to_string(), strip_tabs))
}
