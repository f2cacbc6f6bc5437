//! What language servers answer: positions, symbols, completions (the
//! toolbox's `LspSymbol`, `CompletionList`, ...; kinds as the Language
//! Server Protocol numbers them).

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::models::enums::string_enum;

/// Declares an enum of the protocol's numbered kinds that keeps numbers it
/// does not know in `Other`.
macro_rules! numbered_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $variant:ident = $code:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $(
                #[doc = concat!("`", stringify!($variant), "` (", stringify!($code), ").")]
                $variant,
            )+
            /// A number this version of the SDK does not know, kept as sent.
            Other(i64),
        }

        impl $name {
            /// The protocol's number for it.
            pub fn code(self) -> i64 {
                match self {
                    $( $name::$variant => $code, )+
                    $name::Other(n) => n,
                }
            }

            /// The kind numbered `code`.
            pub fn from_code(code: i64) -> Self {
                match code {
                    $( $code => $name::$variant, )+
                    other => $name::Other(other),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_i64(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                Ok($name::from_code(crate::models::number::int(d)?))
            }
        }
    };
}

numbered_enum! {
    /// What a symbol is (the protocol's `SymbolKind`, 1 to 26).
    SymbolKind {
        File = 1, Module = 2, Namespace = 3, Package = 4, Class = 5, Method = 6,
        Property = 7, Field = 8, Constructor = 9, Enum = 10, Interface = 11,
        Function = 12, Variable = 13, Constant = 14, String = 15, Number = 16,
        Boolean = 17, Array = 18, Object = 19, Key = 20, Null = 21,
        EnumMember = 22, Struct = 23, Event = 24, Operator = 25, TypeParameter = 26,
    }
}

numbered_enum! {
    /// What a completion inserts (the protocol's `CompletionItemKind`, 1
    /// to 25).
    CompletionItemKind {
        Text = 1, Method = 2, Function = 3, Constructor = 4, Field = 5,
        Variable = 6, Class = 7, Interface = 8, Module = 9, Property = 10,
        Unit = 11, Value = 12, Enum = 13, Keyword = 14, Snippet = 15, Color = 16,
        File = 17, Reference = 18, Folder = 19, EnumMember = 20, Constant = 21,
        Struct = 22, Event = 23, Operator = 24, TypeParameter = 25,
    }
}

/// A position in a document: a line and a character on it, both from 0;
/// characters count UTF-16 code units, as the protocol says (`LspPosition`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Position {
    /// The line, from 0.
    #[serde(default, deserialize_with = "crate::models::number::int")]
    pub line: u32,
    /// The character on the line, from 0, in UTF-16 code units.
    #[serde(default, deserialize_with = "crate::models::number::int")]
    pub character: u32,
}

impl Position {
    /// Line `line`, character `character`, both from 0.
    pub fn new(line: u32, character: u32) -> Self {
        Position { line, character }
    }

    /// Checks that both are protocol integers (0 to 2³¹ − 1).
    pub(crate) fn check(self) -> Result<Self> {
        for (field, value) in [
            ("position.line", self.line),
            ("position.character", self.character),
        ] {
            if value > i32::MAX.unsigned_abs() {
                return Err(Error::validation(
                    field,
                    format!("must be 0 to {}, got {value}", i32::MAX),
                ));
            }
        }
        Ok(self)
    }
}

/// A range of a document, its end excluded (`LspRange`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Range {
    /// Where it starts.
    #[serde(default)]
    pub start: Position,
    /// Where it ends (excluded).
    #[serde(default)]
    pub end: Position,
}

impl Range {
    /// From `start` to `end`.
    pub fn new(start: Position, end: Position) -> Self {
        Range { start, end }
    }
}

/// A range of a file (`LspLocation`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// The file's `file://` URI.
    #[serde(default)]
    pub uri: String,
    /// The range in it.
    #[serde(default)]
    pub range: Range,
}

impl Location {
    /// `range` of the file at `uri`.
    pub fn new(uri: impl Into<String>, range: Range) -> Self {
        Location {
            uri: uri.into(),
            range,
        }
    }
}

/// A symbol: a class, a function, a variable... (`LspSymbol`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LspSymbol {
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: SymbolKind,
    /// Where it is defined.
    #[serde(default)]
    pub location: Location,
}

impl LspSymbol {
    /// A symbol (for tests and the simulator).
    pub fn new(name: impl Into<String>, kind: SymbolKind, location: Location) -> Self {
        LspSymbol {
            name: name.into(),
            kind,
            location,
        }
    }
}

string_enum! {
    /// How a documentation text is written (the protocol's `MarkupKind`).
    MarkupKind {
        /// Plain text.
        PlainText = "plaintext",
        /// Markdown.
        Markdown = "markdown",
    }
}

/// The documentation of a completion: plain text or Markdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Documentation {
    /// How `value` is written.
    pub kind: MarkupKind,
    /// The text.
    pub value: String,
}

/// A string (plain text) or a `MarkupContent` object; anything else reads
/// as none.
fn documentation<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Documentation>, D::Error> {
    use serde_json::Value;
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(value)) => Some(Documentation {
            kind: MarkupKind::PlainText,
            value,
        }),
        Some(Value::Object(map)) => match map.get("value") {
            Some(Value::String(value)) => Some(Documentation {
                kind: map
                    .get("kind")
                    .and_then(Value::as_str)
                    .map_or(MarkupKind::PlainText, MarkupKind::from),
                value: value.clone(),
            }),
            _ => None,
        },
        _ => None,
    })
}

/// A completion (`CompletionItem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CompletionItem {
    /// What the editor shows (and inserts, without `insert_text`).
    pub label: String,
    /// What it inserts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<CompletionItemKind>,
    /// More about it, such as a type or a signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Its documentation.
    #[serde(
        default,
        deserialize_with = "documentation",
        skip_serializing_if = "Option::is_none"
    )]
    pub documentation: Option<Documentation>,
    /// Sorted by this rather than by the label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_text: Option<String>,
    /// Filtered by this rather than by the label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_text: Option<String>,
    /// What it inserts, when not the label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insert_text: Option<String>,
}

impl CompletionItem {
    /// A completion with only a label (for tests and the simulator).
    pub fn new(label: impl Into<String>) -> Self {
        CompletionItem {
            label: label.into(),
            kind: None,
            detail: None,
            documentation: None,
            sort_text: None,
            filter_text: None,
            insert_text: None,
        }
    }

    /// With this kind.
    #[must_use]
    pub fn with_kind(mut self, kind: CompletionItemKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// With this detail.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Inserting this rather than the label.
    #[must_use]
    pub fn with_insert_text(mut self, text: impl Into<String>) -> Self {
        self.insert_text = Some(text.into());
        self
    }
}

/// The completions at a position (`CompletionList`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CompletionList {
    /// Whether typing more may bring other completions (ask again).
    #[serde(default)]
    pub is_incomplete: bool,
    /// The completions.
    #[serde(default, deserialize_with = "crate::models::null_as_default")]
    pub items: Vec<CompletionItem>,
}

impl CompletionList {
    /// A complete list of `items` (for tests and the simulator).
    pub fn new(items: Vec<CompletionItem>) -> Self {
        CompletionList {
            is_incomplete: false,
            items,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_keep_unknown_numbers() {
        assert_eq!(SymbolKind::from_code(12), SymbolKind::Function);
        assert_eq!(SymbolKind::from_code(99), SymbolKind::Other(99));
        assert_eq!(SymbolKind::Other(99).code(), 99);
        let k: CompletionItemKind = serde_json::from_str("7").unwrap();
        assert_eq!(k, CompletionItemKind::Class);
        assert_eq!(
            serde_json::to_string(&SymbolKind::TypeParameter).unwrap(),
            "26"
        );
        assert!(serde_json::from_str::<SymbolKind>("\"class\"").is_err());
    }

    #[test]
    fn documentation_forms() {
        let list: CompletionList = serde_json::from_value(serde_json::json!({
            "isIncomplete": true,
            "items": [
                {"label": "a", "documentation": "plain"},
                {"label": "b", "documentation": {"kind": "markdown", "value": "*md*"}},
                {"label": "c", "documentation": {}},
                {"label": "d", "documentation": 5, "kind": 3},
                {"label": "e", "documentation": null}
            ]
        }))
        .unwrap();
        let docs: Vec<Option<(MarkupKind, &str)>> = list
            .items
            .iter()
            .map(|i| {
                i.documentation
                    .as_ref()
                    .map(|d| (d.kind.clone(), d.value.as_str()))
            })
            .collect();
        assert_eq!(
            docs,
            [
                Some((MarkupKind::PlainText, "plain")),
                Some((MarkupKind::Markdown, "*md*")),
                None,
                None,
                None
            ]
        );
        assert_eq!(list.items[3].kind, Some(CompletionItemKind::Function));
        assert!(list.is_incomplete);
    }

    #[test]
    fn positions_are_checked() {
        assert!(Position::new(0, 0).check().is_ok());
        assert!(Position::new(i32::MAX as u32, 1).check().is_ok());
        let e = Position::new(u32::MAX, 0).check().unwrap_err();
        assert!(e.to_string().contains("position.line"), "{e}");
        let e = Position::new(0, i32::MAX as u32 + 1).check().unwrap_err();
        assert!(e.to_string().contains("position.character"), "{e}");
    }
}
