//! The host mode's stand-in for a language server: a line-by-line scan of
//! a file for definitions, and the file's identifiers for completions. It
//! knows no grammar: strings, comments and nesting can fool it.

use crate::toolbox::{CompletionItem, CompletionItemKind, SymbolKind};

/// A definition found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Definition {
    pub(super) name: String,
    pub(super) kind: SymbolKind,
    /// The line, from 0.
    pub(super) line: usize,
    /// Where the name starts on it, in UTF-16 code units.
    pub(super) character: usize,
    /// The name's length in UTF-16 code units.
    pub(super) length: usize,
}

/// Whether `language` is Python (else TypeScript or JavaScript).
fn is_python(language: &str) -> bool {
    language == "python"
}

fn ident_char(c: char, python: bool) -> bool {
    c.is_alphanumeric() || c == '_' || (!python && c == '$')
}

/// The identifier at the start of `s`, if any.
fn ident(s: &str, python: bool) -> Option<&str> {
    let first = s.chars().next()?;
    if first.is_numeric() || !ident_char(first, python) {
        return None;
    }
    let end = s
        .char_indices()
        .find(|&(_, c)| !ident_char(c, python))
        .map_or(s.len(), |(i, _)| i);
    Some(&s[..end])
}

const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "self",
];

const SCRIPT_KEYWORDS: &[&str] = &[
    "abstract",
    "as",
    "async",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "declare",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "from",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "of",
    "private",
    "protected",
    "public",
    "readonly",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "type",
    "typeof",
    "undefined",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

fn is_keyword(word: &str, python: bool) -> bool {
    if python {
        PYTHON_KEYWORDS.contains(&word)
    } else {
        SCRIPT_KEYWORDS.contains(&word)
    }
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// The definition a line holds, as (name, kind, byte offset of the name).
fn definition_of(line: &str, python: bool) -> Option<(&str, SymbolKind, usize)> {
    let body = line.trim_start();
    let indent = line.len() - body.len();
    let mut rest = body;
    let prefixes: &[&str] = if python {
        &["async "]
    } else {
        &["export ", "default ", "declare ", "async ", "abstract "]
    };
    while let Some(p) = prefixes.iter().find(|p| rest.starts_with(**p)) {
        rest = rest[p.len()..].trim_start();
    }
    let keywords: &[(&str, SymbolKind)] = if python {
        &[
            ("def ", SymbolKind::Function),
            ("class ", SymbolKind::Class),
        ]
    } else {
        &[
            ("function* ", SymbolKind::Function),
            ("function ", SymbolKind::Function),
            ("class ", SymbolKind::Class),
            ("interface ", SymbolKind::Interface),
            ("const enum ", SymbolKind::Enum),
            ("enum ", SymbolKind::Enum),
        ]
    };
    for (keyword, kind) in keywords {
        if let Some(after) = rest.strip_prefix(keyword) {
            let after = after.trim_start();
            let name = ident(after, python)?;
            let kind = if *kind == SymbolKind::Function && python && indent > 0 {
                SymbolKind::Method
            } else {
                *kind
            };
            return Some((name, kind, line.len() - after.len()));
        }
    }
    if indent == 0 {
        if python {
            // `NAME = ...` or `NAME: type = ...`, not `NAME == ...`.
            let name = ident(rest, python)?;
            let after = rest[name.len()..].trim_start();
            let assigns = (after.starts_with('=') && !after.starts_with("=="))
                || (after.starts_with(':') && after.contains('='));
            if !assigns || is_keyword(name, python) {
                return None;
            }
            let constant =
                name.chars().any(char::is_alphabetic) && !name.chars().any(char::is_lowercase);
            let kind = if constant {
                SymbolKind::Constant
            } else {
                SymbolKind::Variable
            };
            return Some((name, kind, line.len() - rest.len()));
        }
        for (keyword, kind) in [
            ("const ", SymbolKind::Constant),
            ("let ", SymbolKind::Variable),
            ("var ", SymbolKind::Variable),
        ] {
            if let Some(after) = rest.strip_prefix(keyword) {
                let after = after.trim_start();
                let name = ident(after, python)?;
                return Some((name, kind, line.len() - after.len()));
            }
        }
        return None;
    }
    if !python {
        // A method: `name(...) {` inside a class.
        let name = ident(rest, python)?;
        let after = &rest[name.len()..];
        if after.starts_with('(') && line.trim_end().ends_with('{') && !is_keyword(name, python) {
            let kind = if name == "constructor" {
                SymbolKind::Constructor
            } else {
                SymbolKind::Method
            };
            return Some((name, kind, line.len() - rest.len()));
        }
    }
    None
}

/// The definitions of `text`, in order.
pub(super) fn definitions(language: &str, text: &str) -> Vec<Definition> {
    let python = is_python(language);
    text.lines()
        .enumerate()
        .filter_map(|(n, line)| {
            let (name, kind, at) = definition_of(line, python)?;
            Some(Definition {
                name: name.to_string(),
                kind,
                line: n,
                character: utf16_len(&line[..at]),
                length: utf16_len(name),
            })
        })
        .collect()
}

/// The most completions given at once.
const MAX_COMPLETIONS: usize = 200;

fn completion_kind(kind: SymbolKind) -> CompletionItemKind {
    match kind {
        SymbolKind::Function => CompletionItemKind::Function,
        SymbolKind::Method => CompletionItemKind::Method,
        SymbolKind::Constructor => CompletionItemKind::Constructor,
        SymbolKind::Class => CompletionItemKind::Class,
        SymbolKind::Interface => CompletionItemKind::Interface,
        SymbolKind::Enum => CompletionItemKind::Enum,
        SymbolKind::Constant => CompletionItemKind::Constant,
        SymbolKind::Variable => CompletionItemKind::Variable,
        _ => CompletionItemKind::Text,
    }
}

/// The completions at `line` and `character` (UTF-16) of `text`: its
/// identifiers that start with the word before the position (any case),
/// definitions with their kind and a detail naming it, the others as
/// text; sorted; and whether the list was cut.
pub(super) fn completions(
    language: &str,
    text: &str,
    line: usize,
    character: usize,
) -> (Vec<CompletionItem>, bool) {
    let python = is_python(language);
    let current = text.lines().nth(line).unwrap_or("");
    // The byte offset of the UTF-16 position, clamped to the line.
    let mut units = 0;
    let offset = current
        .char_indices()
        .find(|&(_, c)| {
            let here = units >= character;
            units += c.len_utf16();
            here
        })
        .map_or(current.len(), |(i, _)| i);
    let before = &current[..offset];
    let start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| ident_char(c, python))
        .last()
        .map_or(offset, |(i, _)| i);
    let prefix = before[start..].to_lowercase();

    let defs = definitions(language, text);
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for l in text.lines() {
        let mut rest = l;
        while !rest.is_empty() {
            match ident(rest, python) {
                Some(word) => {
                    *counts.entry(word).or_default() += 1;
                    rest = &rest[word.len()..];
                }
                None => {
                    let skip = rest
                        .char_indices()
                        .skip(1)
                        .find(|&(_, c)| ident_char(c, python) && !c.is_numeric())
                        .map_or(rest.len(), |(i, _)| i);
                    rest = &rest[skip..];
                }
            }
        }
    }
    let mut items = Vec::new();
    let mut cut = false;
    for (word, count) in counts {
        let lower = word.to_lowercase();
        // The word being typed is not its own completion.
        let typed = lower == prefix && count <= 1;
        if !lower.starts_with(&prefix) || typed || is_keyword(word, python) {
            continue;
        }
        if items.len() == MAX_COMPLETIONS {
            cut = true;
            break;
        }
        let def = defs.iter().find(|d| d.name == word);
        let detail = def.map(|d| match d.kind {
            SymbolKind::Function => "function",
            SymbolKind::Method => "method",
            SymbolKind::Constructor => "constructor",
            SymbolKind::Class => "class",
            SymbolKind::Interface => "interface",
            SymbolKind::Enum => "enum",
            SymbolKind::Constant => "constant",
            _ => "variable",
        });
        let kind = def.map_or(CompletionItemKind::Text, |d| completion_kind(d.kind));
        let item = CompletionItem::new(word).with_kind(kind);
        items.push(match detail {
            Some(d) => item.with_detail(d),
            None => item,
        });
    }
    (items, cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PY: &str = "import os\n\nVERSION = \"1.0\"\ncount: int = 0\n\nclass Greeter:\n    def greet(self, name):\n        return f\"hi {name}\"\n\nasync def main():\n    g = Greeter()\n    g.gre\n\nif VERSION == \"2\":\n    pass\n";

    #[test]
    fn python_definitions() {
        let found: Vec<(String, SymbolKind, usize, usize)> = definitions("python", PY)
            .into_iter()
            .map(|d| (d.name, d.kind, d.line, d.character))
            .collect();
        assert_eq!(
            found,
            [
                ("VERSION".into(), SymbolKind::Constant, 2, 0),
                ("count".into(), SymbolKind::Variable, 3, 0),
                ("Greeter".into(), SymbolKind::Class, 5, 6),
                ("greet".into(), SymbolKind::Method, 6, 8),
                ("main".into(), SymbolKind::Function, 9, 10),
            ]
        );
    }

    #[test]
    fn script_definitions() {
        let ts = "export default async function load(url: string) {}\nexport interface Opts {}\nconst enum Mode { A }\nexport const LIMIT = 3;\nlet n = 0;\nclass Box {\n  constructor(v) {\n  }\n  get(k) {\n  if (x) {\n}\n}\nfunction* gen() {}\nconst $el = 1;";
        let found: Vec<(String, SymbolKind)> = definitions("typescript", ts)
            .into_iter()
            .map(|d| (d.name, d.kind))
            .collect();
        assert_eq!(
            found,
            [
                ("load".into(), SymbolKind::Function),
                ("Opts".into(), SymbolKind::Interface),
                ("Mode".into(), SymbolKind::Enum),
                ("LIMIT".into(), SymbolKind::Constant),
                ("n".into(), SymbolKind::Variable),
                ("Box".into(), SymbolKind::Class),
                ("constructor".into(), SymbolKind::Constructor),
                ("get".into(), SymbolKind::Method),
                ("gen".into(), SymbolKind::Function),
                ("$el".into(), SymbolKind::Constant),
            ]
        );
    }

    #[test]
    fn positions_count_utf16() {
        let defs = definitions("python", "def ƒ𝔸(x): pass\nclass 𝔸b: pass");
        assert_eq!((defs[0].character, defs[0].length), (4, 3));
        assert_eq!((defs[1].character, defs[1].length), (6, 3));
    }

    #[test]
    fn completions_use_the_word_before_the_position() {
        let text = "def greet():\n    pass\n\nclass Greeter:\n    pass\n\ngreeting = 1\ngre";
        let (items, cut) = completions("python", text, 7, 3);
        assert!(!cut);
        let got: Vec<(&str, Option<CompletionItemKind>, Option<&str>)> = items
            .iter()
            .map(|i| (i.label.as_str(), i.kind, i.detail.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("Greeter", Some(CompletionItemKind::Class), Some("class")),
                (
                    "greet",
                    Some(CompletionItemKind::Function),
                    Some("function")
                ),
                (
                    "greeting",
                    Some(CompletionItemKind::Variable),
                    Some("variable")
                ),
            ]
        );
        // No word: every identifier but the keywords.
        let (items, _) = completions("python", text, 1, 0);
        let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(labels, ["Greeter", "gre", "greet", "greeting"]);
        // Past the end of the line or the file: the last word of nothing.
        let (items, _) = completions("python", text, 99, 99);
        assert_eq!(items.len(), 4);
        // In the middle of a word: the part before the position.
        let (items, _) = completions(
            "typescript",
            "const apple = 1;\nconst apricot = 2;\nap",
            2,
            1,
        );
        let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(labels, ["ap", "apple", "apricot"]);
    }
}
