//! `/lsp/...`: language servers that answer what the test registered, or,
//! in host mode, a tiny scan of the sandbox's files (see `scan`).

mod scan;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::super::server::{decode, Request, Response};
use super::super::{error, lock, LocalDaytona};
use super::{body_json, Sandbox};
use crate::toolbox::{file_uri, CompletionList, Location, LspSymbol, Position, Range};

/// The languages the toolbox serves.
const LANGUAGES: [&str; 3] = ["python", "typescript", "javascript"];

/// Limits of the project scan behind sandbox symbols (files: in all).
const MAX_FILES: usize = 2000;
const MAX_FILE_SIZE: u64 = 1024 * 1024;
const MAX_SYMBOLS: usize = 500;

/// Registered answers, running servers and open documents.
#[derive(Default)]
pub(crate) struct LspWorld {
    document_symbols: HashMap<String, Vec<LspSymbol>>,
    sandbox_symbols: HashMap<String, Vec<LspSymbol>>,
    completions: HashMap<String, CompletionList>,
    /// (sandbox, language, project).
    servers: HashSet<(String, String, String)>,
    /// (sandbox, uri).
    open: HashSet<(String, String)>,
}

impl LocalDaytona {
    /// The answer to `document_symbols` for the file at the absolute
    /// sandbox path `path`, in every sandbox and mode.
    ///
    /// ```
    /// use daytona::testing::LocalDaytona;
    /// use daytona::toolbox::{Location, LspLanguage, LspSymbol, Position, Range, SymbolKind};
    ///
    /// let local = LocalDaytona::builder().scripted().start()?;
    /// let at = Location::new(
    ///     "file:///home/daytona/app/main.py",
    ///     Range::new(Position::new(3, 4), Position::new(3, 8)),
    /// );
    /// local.on_document_symbols(
    ///     "/home/daytona/app/main.py",
    ///     vec![LspSymbol::new("main", SymbolKind::Function, at)],
    /// );
    /// let sandbox = local.client().create(daytona::CreateSandbox::new())?;
    /// let lsp = sandbox.lsp_server(LspLanguage::Python, "/home/daytona/app");
    /// lsp.start()?;
    /// let symbols = lsp.document_symbols("main.py")?;
    /// assert_eq!(symbols[0].name, "main");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_document_symbols(&self, path: &str, symbols: Vec<LspSymbol>) {
        lock(&self.shared.lsp)
            .document_symbols
            .insert(normalize(path), symbols);
    }

    /// The answer to `sandbox_symbols(query)`, in every sandbox and mode.
    pub fn on_sandbox_symbols(&self, query: &str, symbols: Vec<LspSymbol>) {
        lock(&self.shared.lsp)
            .sandbox_symbols
            .insert(query.to_string(), symbols);
    }

    /// The answer to `completions` anywhere in the file at the absolute
    /// sandbox path `path`, in every sandbox and mode.
    pub fn on_completions(&self, path: &str, completions: CompletionList) {
        lock(&self.shared.lsp)
            .completions
            .insert(normalize(path), completions);
    }
}

/// `path` without doubled, trailing or `.` segments, from `/`.
fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// The sandbox path of a `file://` URI.
fn uri_path(uri: &str) -> Result<String, Response> {
    let url = url::Url::parse(uri).map_err(|e| error(400, &format!("invalid uri {uri:?}: {e}")))?;
    if url.scheme() != "file" {
        return Err(error(400, &format!("not a file uri: {uri:?}")));
    }
    let segments: Vec<String> = url
        .path_segments()
        .map(|s| s.map(|seg| decode(seg, false)).collect())
        .unwrap_or_default();
    Ok(normalize(&segments.join("/")))
}

/// A required string of a JSON body or of the query.
fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, Response> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| error(400, &format!("{name} is required")))
}

/// Routes `/lsp/...` (`rest` follows `lsp`).
pub(super) fn handle(sb: &Sandbox<'_>, req: &Request, rest: &[&str]) -> Response {
    let result = match (req.method.as_str(), rest) {
        ("GET", ["document-symbols"]) => document_symbols(sb, req),
        ("GET", ["workspacesymbols"]) => sandbox_symbols(sb, req),
        ("POST", [what]) => body_json(req).and_then(|body| post(sb, what, &body)),
        _ => Err(error(501, "not simulated by the local simulator")),
    };
    result.unwrap_or_else(|r| r)
}

/// The (sandbox, language, project) key of a request, checked.
fn server_key(
    sb: &Sandbox<'_>,
    language: Option<&str>,
    project: Option<&str>,
) -> Result<(String, String, String), Response> {
    let language = required(language, "languageId")?;
    let project = required(project, "pathToProject")?;
    if !LANGUAGES.contains(&language) {
        return Err(error(400, &format!("unsupported language: {language}")));
    }
    Ok((sb.id.clone(), language.to_string(), project.to_string()))
}

/// Checks that the server of `key` was started.
fn started(sb: &Sandbox<'_>, key: &(String, String, String)) -> Result<(), Response> {
    if lock(&sb.shared.lsp).servers.contains(key) {
        Ok(())
    } else {
        Err(error(400, "server not initialized"))
    }
}

fn read(sb: &Sandbox<'_>, path: &str) -> Result<String, Response> {
    let host = sb.resolve(path)?;
    // A pipe or a device would hold the request up forever.
    if std::fs::metadata(&host).is_ok_and(|m| !m.is_file()) {
        return Err(error(
            400,
            &format!("failed to read file {path}: not a file"),
        ));
    }
    std::fs::read_to_string(&host)
        .map_err(|e| error(400, &format!("failed to read file {path}: {e}")))
}

fn post(sb: &Sandbox<'_>, what: &str, body: &Value) -> Result<Response, Response> {
    let key = server_key(
        sb,
        body["languageId"].as_str(),
        body["pathToProject"].as_str(),
    )?;
    match what {
        "start" => {
            lock(&sb.shared.lsp).servers.insert(key);
            return Ok(Response::empty(200));
        }
        "stop" => {
            let removed = lock(&sb.shared.lsp).servers.remove(&key);
            return if removed {
                Ok(Response::empty(200))
            } else {
                Err(error(500, "error stopping LSP server: no server for it"))
            };
        }
        _ => {}
    }
    started(sb, &key)?;
    let uri = required(body["uri"].as_str(), "uri")?;
    let path = uri_path(uri)?;
    match what {
        "did-open" => {
            read(sb, &path)?;
            lock(&sb.shared.lsp)
                .open
                .insert((sb.id.clone(), uri.to_string()));
            Ok(Response::empty(200))
        }
        "did-close" => {
            lock(&sb.shared.lsp)
                .open
                .remove(&(sb.id.clone(), uri.to_string()));
            Ok(Response::empty(200))
        }
        "completions" => {
            let position: Position = serde_json::from_value(body["position"].clone())
                .map_err(|e| error(400, &format!("invalid position: {e}")))?;
            let registered = lock(&sb.shared.lsp).completions.get(&path).cloned();
            let list = match registered {
                Some(list) => list,
                None if sb.shared.scripted => CompletionList::default(),
                None => {
                    let text = read(sb, &path)?;
                    let line = usize::try_from(position.line).unwrap_or(usize::MAX);
                    let character = usize::try_from(position.character).unwrap_or(usize::MAX);
                    let (items, cut) = scan::completions(&key.1, &text, line, character);
                    let mut list = CompletionList::new(items);
                    list.is_incomplete = cut;
                    list
                }
            };
            Ok(Response::json(200, &json!(list)))
        }
        _ => Err(error(501, "not simulated by the local simulator")),
    }
}

/// The symbols of the file at `path` (sent as `uri`).
fn symbols_of(language: &str, uri: &str, text: &str) -> Vec<LspSymbol> {
    scan::definitions(language, text)
        .into_iter()
        .map(|d| {
            let line = u32::try_from(d.line).unwrap_or(u32::MAX);
            let start = u32::try_from(d.character).unwrap_or(u32::MAX);
            let end = start.saturating_add(u32::try_from(d.length).unwrap_or(u32::MAX));
            let range = Range {
                start: Position {
                    line,
                    character: start,
                },
                end: Position {
                    line,
                    character: end,
                },
            };
            LspSymbol::new(d.name, d.kind, Location::new(uri, range))
        })
        .collect()
}

fn document_symbols(sb: &Sandbox<'_>, req: &Request) -> Result<Response, Response> {
    let key = server_key(sb, req.param("languageId"), req.param("pathToProject"))?;
    let uri = required(req.param("uri"), "uri")?;
    started(sb, &key)?;
    let path = uri_path(uri)?;
    let registered = lock(&sb.shared.lsp).document_symbols.get(&path).cloned();
    let symbols = match registered {
        Some(s) => s,
        None if sb.shared.scripted => Vec::new(),
        None => symbols_of(&key.1, uri, &read(sb, &path)?),
    };
    Ok(Response::json(200, &json!(symbols)))
}

fn sandbox_symbols(sb: &Sandbox<'_>, req: &Request) -> Result<Response, Response> {
    let query = required(req.param("query"), "query")?;
    let key = server_key(sb, req.param("languageId"), req.param("pathToProject"))?;
    started(sb, &key)?;
    let registered = lock(&sb.shared.lsp).sandbox_symbols.get(query).cloned();
    let symbols = match registered {
        Some(s) => s,
        None if sb.shared.scripted => Vec::new(),
        None => scan_project(sb, &key.1, &key.2, query)?,
    };
    Ok(Response::json(200, &json!(symbols)))
}

/// The definitions of the project's files whose names contain `query`
/// (any case), within the scan's limits.
fn scan_project(
    sb: &Sandbox<'_>,
    language: &str,
    project: &str,
    query: &str,
) -> Result<Vec<LspSymbol>, Response> {
    let extensions: &[&str] = if language == "python" {
        &["py"]
    } else {
        &["ts", "tsx", "js", "jsx", "mjs", "cjs"]
    };
    let root = sb.resolve(project)?;
    let mut files: Vec<PathBuf> = Vec::new();
    let mut dirs = vec![root];
    // The limit is of the whole walk: it ends there.
    'walk: while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Of the entry itself: a link is neither followed nor read (its
            // target may be a host file outside the sandbox), and only
            // regular files are read (a pipe would never end).
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                let skipped = name.starts_with('.')
                    || ["node_modules", "__pycache__", "venv", "dist"].contains(&name.as_str());
                if !skipped {
                    dirs.push(entry.path());
                }
            } else if meta.is_file()
                && meta.len() <= MAX_FILE_SIZE
                && Path::new(&name)
                    .extension()
                    .is_some_and(|e| extensions.iter().any(|x| e == *x))
            {
                files.push(entry.path());
            }
            if files.len() >= MAX_FILES {
                break 'walk;
            }
        }
    }
    files.sort();
    let query = query.to_lowercase();
    let mut symbols = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Ok(uri) = file_uri("/", &sb.virtual_path(&file)) else {
            continue;
        };
        let found = symbols_of(language, &uri, &text)
            .into_iter()
            .filter(|s| s.name.to_lowercase().contains(&query));
        symbols.extend(found);
        if symbols.len() >= MAX_SYMBOLS {
            symbols.truncate(MAX_SYMBOLS);
            break;
        }
    }
    Ok(symbols)
}
