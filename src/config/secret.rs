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

/// `text` with `secret` hidden in it, by the rule of [`redact`]: for the
/// `Debug` of a value that embeds a token (a signed URL, an SSH command).
pub(crate) fn hidden_in(text: &str, secret: &str) -> String {
    redact(text, [&Secret::new(secret)]).unwrap_or_else(|| text.to_string())
}

/// `text` with every occurrence of each of `secrets` replaced by
/// `<redacted>`, and a trailing start of one (as left by cutting a body
/// short for an excerpt) too; `None` when there was nothing to hide.
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
        let partial = (MIN_PARTIAL..secret.len())
            .rev()
            .filter(|&k| secret.is_char_boundary(k))
            .find(|&k| current.ends_with(&secret[..k]));
        if let Some(k) = partial {
            let mut cut = current[..current.len() - k].to_string();
            cut.push_str(REDACTED);
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
        // Too short a tail to be worth hiding.
        assert_eq!(redact("ends with sk-a", [&s]), None);
        assert_eq!(redact("anything", [&Secret::new("")]), None);
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
