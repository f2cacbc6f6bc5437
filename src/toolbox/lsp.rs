//! Language servers (`/lsp/...`): symbols and completions from a language
//! server running in the sandbox.

mod models;

pub use models::{
    CompletionItem, CompletionItemKind, CompletionList, Documentation, Location, LspSymbol,
    MarkupKind, Position, Range, SymbolKind,
};

use serde::Serialize;
use ureq::http::Method;

use super::choice::choice_enum;
use super::Toolbox;
use crate::api::sandbox::Sandbox;
use crate::check::non_empty;
use crate::error::{Error, Result};
use crate::telemetry::traced;
use crate::transport::Request;

choice_enum! {
    /// A language with a language server in the sandbox.
    LspLanguage {
        /// Python.
        Python = "python",
        /// TypeScript.
        TypeScript = "typescript",
        /// JavaScript (served by the TypeScript server).
        JavaScript = "javascript",
    }
}

/// A language server for one language and one project in a sandbox:
/// [`crate::Sandbox::lsp_server`].
///
/// Files are named by their path in the sandbox (absolute, or relative to
/// the project) or by a `file://` URI; paths become `file://` URIs here,
/// percent-encoded (`/home/daytona/my app/a.py` is
/// `file:///home/daytona/my%20app/a.py`). The project path must be
/// absolute: the server's root URI is made from it.
///
/// ```no_run
/// use daytona::toolbox::{LspLanguage, Position};
/// # let daytona = daytona::Daytona::from_env()?;
/// # let sandbox = daytona.get("my-sandbox")?;
///
/// let lsp = sandbox.lsp_server(LspLanguage::Python, "/home/daytona/project");
/// lsp.start()?;
/// lsp.did_open("app/main.py")?;
/// for symbol in lsp.document_symbols("app/main.py")? {
///     println!("{:?} {} at line {}", symbol.kind, symbol.name, symbol.location.range.start.line);
/// }
/// let completions = lsp.completions("app/main.py", Position::new(10, 4))?;
/// for item in &completions.items {
///     println!("{}", item.label);
/// }
/// lsp.did_close("app/main.py")?;
/// lsp.stop()?;
/// # Ok::<(), daytona::Error>(())
/// ```
///
/// The toolbox of Daytona 0.190 opens a document by stripping `file://`
/// from its URI without decoding it, so on that toolbox `did_open` fails
/// for paths with characters a URI must escape (spaces, `%`, non-ASCII).
#[derive(Clone)]
pub struct LspServer<'s> {
    tb: Toolbox<'s>,
    language: LspLanguage,
    project: String,
}

impl std::fmt::Debug for LspServer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LspServer")
            .field("sandbox", &self.tb.sandbox().id())
            .field("language", &self.language)
            .field("project", &self.project)
            .finish()
    }
}

/// `LspServerRequest`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServerBody<'a> {
    language_id: &'static str,
    path_to_project: &'a str,
}

/// `LspDocumentRequest`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DocumentBody<'a> {
    language_id: &'static str,
    path_to_project: &'a str,
    uri: String,
}

/// `LspCompletionParams`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CompletionBody<'a> {
    language_id: &'static str,
    path_to_project: &'a str,
    uri: String,
    position: Position,
}

impl Sandbox {
    /// A language server for `language` on the project at `project_path`
    /// (an absolute path in the sandbox). Nothing is sent until
    /// [`LspServer::start`].
    pub fn lsp_server(
        &self,
        language: LspLanguage,
        project_path: impl Into<String>,
    ) -> LspServer<'_> {
        LspServer {
            tb: Toolbox::new(self),
            language,
            project: project_path.into(),
        }
    }
}

impl<'s> LspServer<'s> {
    /// Its language.
    pub fn language(&self) -> LspLanguage {
        self.language
    }

    /// Its project's path.
    pub fn project_path(&self) -> &str {
        &self.project
    }

    /// The `file://` URI of `path` as this server is sent it: a `file://`
    /// URI as given (normalized), an absolute path as it is, a relative
    /// one below the project; `.` and `..` resolved, each segment
    /// percent-encoded.
    ///
    /// ```
    /// # let local = daytona::testing::LocalDaytona::start()?;
    /// # let sandbox = local.client().create(daytona::CreateSandbox::new())?;
    /// use daytona::toolbox::LspLanguage;
    ///
    /// let lsp = sandbox.lsp_server(LspLanguage::Python, "/home/daytona/my project");
    /// assert_eq!(lsp.file_uri("src/a b.py")?, "file:///home/daytona/my%20project/src/a%20b.py");
    /// assert_eq!(lsp.file_uri("/tmp/../etc/x.py")?, "file:///etc/x.py");
    /// assert_eq!(lsp.file_uri("file:///tmp/x.py")?, "file:///tmp/x.py");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file_uri(&self, path: &str) -> Result<String> {
        self.check_project()?;
        file_uri(&self.project, path)
    }

    fn check_project(&self) -> Result<()> {
        non_empty("project_path", &self.project)?;
        if !self.project.starts_with('/') {
            return Err(Error::validation(
                "project_path",
                format!(
                    "must be an absolute path in the sandbox, got {:?}",
                    self.project
                ),
            ));
        }
        Ok(())
    }

    fn server_body(&self) -> Result<ServerBody<'_>> {
        self.check_project()?;
        Ok(ServerBody {
            language_id: self.language.as_str(),
            path_to_project: &self.project,
        })
    }

    fn document_body(&self, path: &str) -> Result<DocumentBody<'_>> {
        let server = self.server_body()?;
        Ok(DocumentBody {
            language_id: server.language_id,
            path_to_project: server.path_to_project,
            uri: file_uri(&self.project, path)?,
        })
    }

    fn post(&self, what: &str) -> Result<Request<'static>> {
        self.tb.request(Method::POST, &["lsp", what])
    }

    fn get(&self, what: &str) -> Result<Request<'static>> {
        Ok(self
            .tb
            .request(Method::GET, &["lsp", what])?
            .query("languageId", self.language.as_str())
            .query("pathToProject", &self.project))
    }

    /// Starts the server (`POST /lsp/start`); starting a running one does
    /// nothing.
    pub fn start(&self) -> Result<()> {
        traced(self.tb.tracing(), "LspServer.start", || {
            let body = self.server_body()?;
            self.tb.transport().empty(self.post("start")?.json(&body))
        })
    }

    /// Stops the server (`POST /lsp/stop`).
    pub fn stop(&self) -> Result<()> {
        traced(self.tb.tracing(), "LspServer.stop", || {
            let body = self.server_body()?;
            self.tb.transport().empty(self.post("stop")?.json(&body))
        })
    }

    /// Tells the server that the file at `path` is open: it reads it and
    /// tracks it (`POST /lsp/did-open`). Open a file before asking for its
    /// completions.
    pub fn did_open(&self, path: &str) -> Result<()> {
        traced(self.tb.tracing(), "LspServer.didOpen", || {
            let body = self.document_body(path)?;
            self.tb
                .transport()
                .empty(self.post("did-open")?.json(&body))
        })
    }

    /// Tells the server that the file at `path` is closed
    /// (`POST /lsp/did-close`).
    pub fn did_close(&self, path: &str) -> Result<()> {
        traced(self.tb.tracing(), "LspServer.didClose", || {
            let body = self.document_body(path)?;
            self.tb
                .transport()
                .empty(self.post("did-close")?.json(&body))
        })
    }

    /// The symbols defined in the file at `path`: classes, functions,
    /// variables... (`GET /lsp/document-symbols`). The toolbox's `null`
    /// (no symbols) is an empty list.
    pub fn document_symbols(&self, path: &str) -> Result<Vec<LspSymbol>> {
        traced(self.tb.tracing(), "LspServer.documentSymbols", || {
            let uri = self.document_body(path)?.uri;
            let symbols: Option<Vec<LspSymbol>> = self
                .tb
                .transport()
                .json(self.get("document-symbols")?.query("uri", uri))?;
            Ok(symbols.unwrap_or_default())
        })
    }

    /// The symbols of the whole project whose names match `query`, as the
    /// server matches them (usually fuzzily) (`GET /lsp/workspacesymbols`).
    pub fn sandbox_symbols(&self, query: &str) -> Result<Vec<LspSymbol>> {
        traced(self.tb.tracing(), "LspServer.sandboxSymbols", || {
            self.check_project()?;
            non_empty("query", query)?;
            let symbols: Option<Vec<LspSymbol>> = self
                .tb
                .transport()
                .json(self.get("workspacesymbols")?.query("query", query))?;
            Ok(symbols.unwrap_or_default())
        })
    }

    /// The completions at `position` in the file at `path`
    /// (`POST /lsp/completions`).
    pub fn completions(&self, path: &str, position: Position) -> Result<CompletionList> {
        traced(self.tb.tracing(), "LspServer.completions", || {
            let position = position.check()?;
            let document = self.document_body(path)?;
            let body = CompletionBody {
                language_id: document.language_id,
                path_to_project: document.path_to_project,
                uri: document.uri,
                position,
            };
            self.tb
                .transport()
                .json(self.post("completions")?.json(&body))
        })
    }
}

/// The `file://` URI of `path` (see [`LspServer::file_uri`]); `project` is
/// absolute.
pub(crate) fn file_uri(project: &str, path: &str) -> Result<String> {
    non_empty("path", path)?;
    let invalid = |why: String| Error::validation("path", why);
    if path
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("file:"))
    {
        let url = url::Url::parse(path).map_err(|e| invalid(format!("{path:?}: {e}")))?;
        if url
            .host_str()
            .is_some_and(|h| !h.is_empty() && h != "localhost")
        {
            return Err(invalid(format!(
                "{path:?} names the host {:?}; a file URI of the sandbox has three slashes \
                 (file:///path)",
                url.host_str().unwrap_or_default()
            )));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(format!("{path:?} has a query or a fragment")));
        }
        if url.path() == "/" {
            return Err(invalid(format!("{path:?} is not a file")));
        }
        return Ok(url.to_string());
    }
    let joined;
    let absolute = if path.starts_with('/') {
        path
    } else {
        joined = format!("{}/{path}", project.trim_end_matches('/'));
        &joined
    };
    let mut segments: Vec<&str> = Vec::new();
    for segment in absolute.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err(invalid(format!("{path:?} goes above /")));
                }
            }
            s => segments.push(s),
        }
    }
    if segments.is_empty() {
        return Err(invalid(format!("{path:?} is not a file")));
    }
    let mut url = url::Url::parse("file:///").map_err(|e| invalid(e.to_string()))?;
    url.path_segments_mut()
        .map_err(|()| invalid("cannot hold a path".to_string()))?
        .clear()
        .extend(segments);
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::file_uri;

    #[test]
    fn uris() {
        let p = "/home/daytona/proj";
        let cases = [
            ("main.py", "file:///home/daytona/proj/main.py"),
            ("./src/../main.py", "file:///home/daytona/proj/main.py"),
            ("/abs/x.py", "file:///abs/x.py"),
            ("//abs//x.py", "file:///abs/x.py"),
            ("a b/ü.py", "file:///home/daytona/proj/a%20b/%C3%BC.py"),
            ("100%.py", "file:///home/daytona/proj/100%25.py"),
            ("q?#.py", "file:///home/daytona/proj/q%3F%23.py"),
            ("file:///x/y.py", "file:///x/y.py"),
            ("FILE:///x/y.py", "file:///x/y.py"),
            ("file:///x/a%20b.py", "file:///x/a%20b.py"),
            ("file:///x/a b.py", "file:///x/a%20b.py"),
            ("file://localhost/x.py", "file:///x.py"),
        ];
        for (path, uri) in cases {
            assert_eq!(file_uri(p, path).unwrap(), uri, "{path}");
        }
        assert_eq!(
            file_uri("/home/daytona/proj/", "m.py").unwrap(),
            "file:///home/daytona/proj/m.py"
        );
    }

    #[test]
    fn bad_paths() {
        for path in [
            "",
            "  ",
            "/..",
            "../../../../x",
            "/",
            "file://home/daytona/x.py",
            "file:///x.py?v=1",
            "file:///x.py#l",
            "file:///",
            "file://localhost",
            "file:///tmp/..",
        ] {
            let e = file_uri("/p", path).unwrap_err();
            assert!(e.to_string().contains("`path`"), "{path}: {e}");
        }
    }
}
