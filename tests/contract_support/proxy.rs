//! A recording pass-through on loopback between the SDK and the two Prism
//! mocks.
//!
//! Why it exists:
//!
//! - The toolbox base is `{toolboxProxyUrl}/{sandboxId}` while the toolbox
//!   spec's paths start at `/files`, `/process`, ...: the toolbox side drops
//!   the first path segment (the sandbox id) before Prism sees the request,
//!   and the API side points every `toolboxProxyUrl` Prism answers at the
//!   toolbox side. (Prism has no base-path option, and a spec with a
//!   `/{sandboxId}` server variable would be a copy we wrote.)
//! - Every exchange is recorded, so the suite can count and report the
//!   requests Prism validated and fail on any it rejected, even when the SDK
//!   swallows the error (build-log streams, `Sandbox` bodies decoded
//!   leniently).
//! - It checks what Prism does not (see `spec.rs`): undeclared query names
//!   and body fields become a 422, as Prism's own rejections are.
//! - It answers what the spec cannot describe, each case documented where
//!   it is handled: WebSocket upgrades, the multipart answer of
//!   `bulk-download`, the multipart body of `bulk-upload`, error bodies
//!   (`contract-missing`), base64 screenshots, and the S3 object store.
//!
//! The SDK talks to it over plain HTTP/1.1; each answer closes its
//! connection, which keeps the framing trivial.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::spec::{percent_decode, schema_name, Rng, Spec, Thinning};
use crate::fault_server::{Conn, Listener};

/// A name, path or query value holding this gets the real servers' 404 for
/// a GET (after Prism validated the request), or an error part in a
/// bulk download.
pub const MISSING: &str = "contract-missing";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Api,
    Toolbox,
    /// The S3-compatible object store build contexts go to: not part of
    /// either spec, answered by a stub (HEAD: not there, PUT: stored).
    Store,
}

/// One request and its answer.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub side: Side,
    pub method: String,
    /// Path and query as Prism saw them.
    pub target: String,
    /// `GET /sandbox/{sandboxIdOrName}`.
    pub route: Option<String>,
    pub operation_id: Option<String>,
    /// Prism's status, when the request reached Prism.
    pub prism_status: Option<u16>,
    /// The status the SDK got.
    pub status: u16,
    /// Contract breaks: Prism's rejections and the strict checks.
    pub violations: Vec<String>,
    /// What the proxy did beyond passing the exchange through.
    pub notes: Vec<String>,
    /// The spec's name of the answer's schema (`Sandbox`, `[FileInfo]`).
    pub response_schema: Option<String>,
    /// The JSON answer as the SDK got it.
    pub response_json: Option<Value>,
    pub excerpt: String,
    /// Where Prism's answer broke the spec itself, as repaired:
    /// `Sandbox.buildInfo = "" (optional: removed)`.
    pub spec_findings: Vec<String>,
}

/// What all sides share.
pub struct Shared {
    pub log: Mutex<Vec<Exchange>>,
    pub thinning: Mutex<(Thinning, Rng)>,
    pub toolbox_url: Mutex<String>,
    pub store_url: Mutex<String>,
    /// `(operationId, field, value)`: a top-level field of that
    /// operation's JSON answers set to a value the spec allows, to take the
    /// SDK down a path a mock would not (build logs while `pending_build`).
    overrides: Mutex<Vec<(String, String, Value)>>,
    /// The sides' listeners, alive as long as the suite holds `Shared`.
    listeners: Mutex<Vec<Listener>>,
}

impl Shared {
    pub fn new() -> Arc<Shared> {
        Arc::new(Shared {
            log: Mutex::new(Vec::new()),
            thinning: Mutex::new((Thinning::None, Rng::new(1))),
            toolbox_url: Mutex::new(String::new()),
            store_url: Mutex::new(String::new()),
            overrides: Mutex::new(Vec::new()),
            listeners: Mutex::new(Vec::new()),
        })
    }

    pub fn set_override(&self, operation_id: &str, field: &str, value: &str) {
        self.overrides.lock().unwrap().push((
            operation_id.into(),
            field.into(),
            Value::String(value.into()),
        ));
    }

    pub fn clear_overrides(&self) {
        self.overrides.lock().unwrap().clear();
    }

    pub fn len(&self) -> usize {
        self.log.lock().unwrap().len()
    }

    pub fn since(&self, from: usize) -> Vec<Exchange> {
        self.log.lock().unwrap()[from..].to_vec()
    }

    fn record(&self, exchange: Exchange) {
        self.log.lock().unwrap().push(exchange);
    }
}

/// Starts one side on a loopback port; returns its base URL.
pub fn start(
    side: Side,
    upstream: Option<SocketAddr>,
    spec: Option<Arc<Spec>>,
    shared: Arc<Shared>,
) -> io::Result<String> {
    let sides = shared.clone();
    let listener = Listener::start(move |accepted| {
        let Some(conn) = Conn::accept(accepted.stream) else {
            return;
        };
        // A wait that reaches its deadline drops its request: the answer
        // then has nobody to go to.
        if let Err(e) = serve(conn, side, upstream, spec.as_deref(), &sides) {
            if !matches!(
                e.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ) {
                eprintln!("contract proxy ({side:?}): {e}");
            }
        }
    });
    let url = listener.url();
    shared.listeners.lock().unwrap().push(listener);
    Ok(url)
}

struct Head {
    start: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_head(r: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut start = String::new();
    if r.read_line(&mut start)? == 0 {
        return Ok(None);
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "head cut"));
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Ok(Some(Head {
        start: start.trim_end().to_string(),
        headers,
    }))
}

/// An answer's body, framed by `Content-Length` or chunked, or else read
/// to the end.
fn read_body(r: &mut impl BufRead, head: &Head) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "chunk size"))?;
            if size == 0 {
                // Trailers, up to the blank line.
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size];
            r.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            let mut crlf = [0; 2];
            r.read_exact(&mut crlf)?;
        }
    } else if let Some(len) = head.header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "content-length"))?;
        body.resize(len, 0);
        r.read_exact(&mut body)?;
    } else {
        r.read_to_end(&mut body)?;
    }
    Ok(body)
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Answer {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }

    fn content_type(&self) -> String {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default()
    }

    fn write(&self, out: &mut impl Write, head_only: bool) -> io::Result<()> {
        write!(out, "HTTP/1.1 {} {}\r\n", self.status, reason(self.status))?;
        for (k, v) in &self.headers {
            if !matches!(
                k.to_ascii_lowercase().as_str(),
                "content-length" | "transfer-encoding" | "connection" | "keep-alive"
            ) {
                write!(out, "{k}: {v}\r\n")?;
            }
        }
        write!(
            out,
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        )?;
        if !head_only {
            out.write_all(&self.body)?;
        }
        out.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        _ => "Status",
    }
}

fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(400)]).into_owned()
}

fn serve(
    mut conn: Conn,
    side: Side,
    upstream: Option<SocketAddr>,
    spec: Option<&Spec>,
    shared: &Shared,
) -> io::Result<()> {
    let body = conn.body()?;
    let head = conn.seen.clone();
    let method = head.method.clone();
    let target = head.target.clone();
    let (path, query_string) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.clone(), None),
    };
    let mut exchange = Exchange {
        side,
        method: method.clone(),
        target: target.clone(),
        route: None,
        operation_id: None,
        prism_status: None,
        status: 0,
        violations: Vec::new(),
        notes: Vec::new(),
        response_schema: None,
        response_json: None,
        excerpt: String::new(),
        spec_findings: Vec::new(),
    };

    if side == Side::Store {
        // S3 is not in the spec: HEAD says the context is not there yet,
        // PUT stores it.
        let answer = match method.as_str() {
            "HEAD" => Answer::new(404, "application/xml", Vec::new()),
            "PUT" => Answer::new(200, "application/xml", Vec::new()),
            _ => Answer::new(405, "text/plain", b"object store stub".to_vec()),
        };
        exchange.status = answer.status;
        exchange
            .notes
            .push(format!("object store stub ({} bytes received)", body.len()));
        shared.record(exchange);
        return answer.write(&mut conn, method == "HEAD");
    }

    // The toolbox base is `{toolboxProxyUrl}/{sandboxId}`: drop the id.
    let path = if side == Side::Toolbox {
        let rest = path.trim_start_matches('/');
        match rest.split_once('/') {
            Some((_id, rest)) => format!("/{rest}"),
            None => "/".to_string(),
        }
    } else {
        path
    };
    let forward_target = match &query_string {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    exchange.target = forward_target.clone();
    let query: Vec<(String, String)> = query_string
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect();
    let content_type = head.header("content-type").map(str::to_string);
    let spec = spec.expect("a spec for the API and toolbox sides");
    let check = spec.check_request(&method, &path, &query, content_type.as_deref(), &body);
    exchange.violations.extend(check.violations);
    exchange.route = check
        .route
        .as_ref()
        .map(|r| format!("{} {}", r.method.to_uppercase(), r.template));
    exchange.operation_id = check.operation_id;
    let operation_id = exchange.operation_id.clone().unwrap_or_default();

    // `POST /files/bulk-upload` declares no request body at all (the spec's
    // gap, sdk-inventory.md §1.4: "TBX:1073; body not described in spec"):
    // Prism answers 415 to any body. Prism checks the method, path and
    // credentials without the body; the multipart fields are checked here
    // against what the toolbox reads (§6.1: `files[i].path`, `files[i].file`
    // with filename = the destination path).
    let mut forward_body = body.as_slice();
    let mut forward_type = content_type.clone();
    if operation_id == "UploadFiles" {
        exchange
            .violations
            .extend(check_upload(content_type.as_deref(), &body));
        exchange.notes.push(format!(
            "bulk-upload: multipart body ({} bytes) checked by the proxy, sent to Prism without it",
            body.len()
        ));
        forward_body = &[];
        forward_type = None;
    }

    let websocket = head
        .header("upgrade")
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let mut answer = forward(
        upstream.expect("an upstream"),
        &method,
        &forward_target,
        &head.headers,
        forward_type.as_deref(),
        forward_body,
    )?;
    exchange.prism_status = Some(answer.status);

    if answer.status >= 400 {
        let text = String::from_utf8_lossy(&answer.body).into_owned();
        if operation_id == "DownloadFiles"
            && answer.status == 500
            && text.contains("Cannot find serializer for multipart/form-data")
        {
            // Prism validated the request, then cannot write the multipart
            // answer the spec declares (`multipart/form-data` of `gin.H`).
            // The answer is the toolbox's, as sdk-inventory.md §6.1
            // describes it: a `file` part per path, an `error` part with a
            // JSON `{message, statusCode, code}` for a missing one.
            answer = bulk_download_answer(&body);
            exchange
                .notes
                .push("bulk-download: multipart answer written by the proxy (§6.1)".into());
        } else {
            exchange.violations.push(format!(
                "Prism answered {}: {}",
                answer.status,
                excerpt(&answer.body)
            ));
        }
    } else if answer.content_type() == "application/json" && !answer.body.is_empty() {
        if let Ok(mut value) = serde_json::from_slice::<Value>(&answer.body) {
            if let Some(route) = &check.route {
                if let Some(schema) = spec.response_schema(route, answer.status, "application/json")
                {
                    exchange.response_schema = Some(schema_name(schema));
                    // Prism reports, in `sl-violations`, where its own
                    // answer breaks the spec: the spec's examples contradict
                    // their schemas in places (`"buildInfo": ""` for an
                    // object, `"worktree": null` for a required enum).
                    // Those are bugs of the spec, not of the SDK; they are
                    // repaired and listed in the report.
                    for path in response_violations(&answer.headers) {
                        if let Some(done) = spec.repair(&mut value, schema, &path) {
                            let at: Vec<&str> = path
                                .iter()
                                .map(|p| if p.parse::<usize>().is_ok() { "[]" } else { p })
                                .collect();
                            exchange.spec_findings.push(format!(
                                "{}.{} = {done}",
                                schema_name(schema),
                                at.join(".").replace(".[]", "[]")
                            ));
                        }
                    }
                    let mut thinning = shared.thinning.lock().unwrap();
                    let (how, rng) = &mut *thinning;
                    spec.thin(&mut value, schema, *how, rng);
                }
            }
            for (op, field, v) in self_overrides(shared, &operation_id) {
                if let Some(map) = value.as_object_mut() {
                    map.insert(field.clone(), v.clone());
                    exchange
                        .notes
                        .push(format!("`{field}` set to {v} for {op}"));
                }
            }
            // A mock answers with its example's (or a random) id; the real
            // API answers a request about `/sandbox/{id}` with that sandbox,
            // and a fork with a new one. The SDK refuses an answer about
            // another sandbox, so the answer takes the id the real one has.
            if side == Side::Api && exchange.response_schema.as_deref() == Some("Sandbox") {
                if let (Some(id), Some(map)) =
                    (own_sandbox_id(&path, &operation_id), value.as_object_mut())
                {
                    if map.get("id").and_then(Value::as_str) != Some(id.as_str()) {
                        map.insert("id".into(), Value::String(id));
                        exchange.notes.push(
                            "`id` of a sandbox set to its path's (a fork's: a new one)".into(),
                        );
                    }
                }
            }
            if exchange.response_schema.as_deref() == Some("ScreenshotResponse") {
                screenshot_answer(&mut value);
                exchange
                    .notes
                    .push("screenshot: base64 of a PNG written by the proxy (§1.8)".into());
            }
            if side == Side::Api {
                let toolbox = shared.toolbox_url.lock().unwrap().clone();
                let store = shared.store_url.lock().unwrap().clone();
                rewrite_urls(&mut value, &toolbox, &store);
            }
            answer.body = serde_json::to_vec(&value).unwrap();
            exchange.response_json = Some(value);
        }
    }

    // The real servers' error bodies, which neither spec describes
    // (sdk-inventory.md §5.2), for a GET of something `contract-missing`.
    if method == "GET"
        && answer.status < 300
        && !websocket
        && (path.contains(MISSING) || query.iter().any(|(_, v)| v.contains(MISSING)))
    {
        answer = not_found(side, &path);
        exchange.response_json = serde_json::from_slice(&answer.body).ok();
        exchange.response_schema = None;
        exchange
            .notes
            .push("404 with the real server's error body (§5.2)".into());
    }

    if !exchange.violations.is_empty() && answer.status < 400 {
        answer = Answer::new(
            422,
            "application/problem+json",
            serde_json::to_vec(&json!({
                "title": "Invalid request (contract proxy: names Prism does not check)",
                "status": 422,
                "validation": exchange.violations,
            }))
            .unwrap(),
        );
    }
    exchange.status = answer.status;
    exchange.excerpt = excerpt(&answer.body);

    // Prism answers 200 for the logs (the spec's JSON) and 101 for the
    // PTY and the interpreter (their specs declare only the upgrade).
    if websocket && matches!(answer.status, 101 | 200) {
        exchange.status = 101;
        let key = head.header("sec-websocket-key").unwrap_or("").to_string();
        let logs = exchange.response_json.clone().unwrap_or(Value::Null);
        let (note, talk): (&str, fn(&mut Ws, &Value)) = match operation_id.as_str() {
            "ConnectPtySession" => ("PTY protocol spoken by the proxy (§8.2, §9.2)", pty_talk),
            "ExecuteInterpreterCode" => (
                "interpreter protocol spoken by the proxy (§8.3, §9.2)",
                interpreter_talk,
            ),
            _ => ("WebSocket upgrade completed by the proxy (§8.1)", logs_talk),
        };
        exchange.notes.push(note.into());
        shared.record(exchange);
        return talk_websocket(conn.into_stream(), &key, &logs, talk);
    }
    shared.record(exchange);
    answer.write(&mut conn, method == "HEAD")
}

/// The id the real API gives the sandbox it answers about, for a request
/// to `/sandbox/{id}...`: that id, or for a fork a new one.
fn own_sandbox_id(path: &str, operation_id: &str) -> Option<String> {
    let id = percent_decode(path.strip_prefix("/sandbox/")?.split('/').next()?, false);
    if id.is_empty() {
        return None;
    }
    Some(match operation_id {
        "forkSandbox" => format!("{id}-fork"),
        _ => id.to_string(),
    })
}

fn self_overrides(shared: &Shared, operation_id: &str) -> Vec<(String, String, Value)> {
    shared
        .overrides
        .lock()
        .unwrap()
        .iter()
        .filter(|(op, _, _)| op == operation_id)
        .cloned()
        .collect()
}

/// Sends the request to Prism and reads the whole answer.
fn forward(
    upstream: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    content_type: Option<&str>,
    body: &[u8],
) -> io::Result<Answer> {
    let mut up = TcpStream::connect_timeout(&upstream, Duration::from_secs(10))?;
    up.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut out = Vec::new();
    write!(out, "{method} {target} HTTP/1.1\r\nHost: {upstream}\r\n")?;
    for (k, v) in headers {
        let lower = k.to_ascii_lowercase();
        if !(matches!(
            lower.as_str(),
            "host"
                | "connection"
                | "keep-alive"
                | "transfer-encoding"
                | "content-length"
                | "content-type"
                | "upgrade"
                | "accept-encoding"
                | "expect"
        ) || lower.starts_with("sec-websocket"))
        {
            write!(out, "{k}: {v}\r\n")?;
        }
    }
    if let Some(ct) = content_type {
        write!(out, "Content-Type: {ct}\r\n")?;
    }
    write!(
        out,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    out.extend_from_slice(body);
    up.write_all(&out)?;
    let mut reader = BufReader::new(up);
    let head = read_head(&mut reader)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no answer from Prism"))?;
    let status = head
        .start
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // An upgrade's answer (101) has no body, whatever its head says.
    let body = if method == "HEAD" || status == 204 || status == 304 || status == 101 {
        Vec::new()
    } else {
        read_body(&mut reader, &head)?
    };
    Ok(Answer {
        status,
        headers: head.headers,
        body,
    })
}

/// The body paths (`["fileStatus", "0", "worktree"]`) where Prism says its
/// answer breaks the spec (its `sl-violations` header), deepest first.
fn response_violations(headers: &[(String, String)]) -> Vec<Vec<String>> {
    let Some(list) = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("sl-violations"))
        .and_then(|(_, v)| serde_json::from_str::<Value>(v).ok())
    else {
        return Vec::new();
    };
    let mut paths: Vec<Vec<String>> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["severity"] == "Error")
        .filter_map(|v| {
            let location: Vec<String> = v["location"]
                .as_array()?
                .iter()
                .map(|p| match p {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            match location.as_slice() {
                [r, b, rest @ ..] if r == "response" && b == "body" && !rest.is_empty() => {
                    Some(rest.to_vec())
                }
                _ => None,
            }
        })
        .collect();
    paths.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    paths.dedup();
    paths
}

/// Points the URLs Prism made up at the proxy: the toolbox of every
/// sandbox, and the object store of push access.
fn rewrite_urls(value: &mut Value, toolbox: &str, store: &str) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match (k.as_str(), &v) {
                    ("toolboxProxyUrl", Value::String(_)) => *v = Value::String(toolbox.into()),
                    ("storageUrl", Value::String(_)) => *v = Value::String(store.into()),
                    _ => rewrite_urls(v, toolbox, store),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| rewrite_urls(v, toolbox, store)),
        _ => {}
    }
}

/// The 404 bodies the real servers send (sdk-inventory.md §5.2): the API's
/// NestJS exception filter and the toolbox daemon's error handler.
fn not_found(side: Side, path: &str) -> Answer {
    let body = match side {
        Side::Api => json!({
            "statusCode": 404,
            "timestamp": "2026-01-01T00:00:00.000Z",
            "path": format!("/api{path}"),
            "error": "Not Found",
            "message": format!("{MISSING} not found"),
        }),
        _ => json!({
            "statusCode": 404,
            "message": format!("{MISSING} not found"),
            "code": "NOT_FOUND",
            "source": "DAYTONA_DAEMON",
            "timestamp": "2026-01-01T00:00:00Z",
            "path": path,
            "method": "GET",
        }),
    };
    Answer::new(404, "application/json", serde_json::to_vec(&body).unwrap())
}

/// The image bytes of [`screenshot_answer`]: a PNG signature and header.
pub const SCREENSHOT: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR contract screenshot";

/// `ScreenshotResponse.screenshot` is an optional plain string in the spec;
/// the daemon always sends the image as standard base64 (sdk-inventory.md
/// §1.8: "screenshot (base64)") with `sizeBytes` its decoded length. Prism
/// writes any text there (or, thinned, nothing): the proxy puts the base64
/// of [`SCREENSHOT`], and `sizeBytes` to match when the answer has one.
fn screenshot_answer(value: &mut Value) {
    use base64::Engine;
    if let Some(map) = value.as_object_mut() {
        let encoded = base64::engine::general_purpose::STANDARD.encode(SCREENSHOT);
        map.insert("screenshot".into(), Value::String(encoded));
        if map.contains_key("sizeBytes") {
            map.insert("sizeBytes".into(), json!(SCREENSHOT.len()));
        }
    }
}

/// The toolbox's multipart answer to `{"paths": [...]}`.
fn bulk_download_answer(request: &[u8]) -> Answer {
    const BOUNDARY: &str = "contract-boundary-7d3f";
    let paths: Vec<String> = serde_json::from_slice::<Value>(request)
        .ok()
        .and_then(|v| {
            v["paths"].as_array().map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default();
    let mut body = Vec::new();
    for path in &paths {
        write!(body, "--{BOUNDARY}\r\n").unwrap();
        if path.contains(MISSING) {
            let error = json!({"message": format!("file not found: {path}"), "statusCode": 404, "code": "NOT_FOUND"});
            write!(
                body,
                "Content-Disposition: form-data; name=\"error\"; filename=\"{path}\"\r\nContent-Type: application/json\r\n\r\n{error}\r\n"
            )
            .unwrap();
        } else {
            let data = download_content(path);
            write!(
                body,
                "Content-Disposition: form-data; name=\"file\"; filename=\"{path}\"\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
                data.len()
            )
            .unwrap();
            body.extend_from_slice(&data);
            body.extend_from_slice(b"\r\n");
        }
    }
    write!(body, "--{BOUNDARY}--\r\n").unwrap();
    Answer::new(
        200,
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        body,
    )
}

/// What a downloaded file holds.
pub fn download_content(path: &str) -> Vec<u8> {
    format!("contract content of {path}\n").into_bytes()
}

/// The fields of a bulk-upload body, by what the toolbox reads.
fn check_upload(content_type: Option<&str>, body: &[u8]) -> Vec<String> {
    let mut violations = Vec::new();
    let Some(boundary) = content_type
        .filter(|c| c.to_ascii_lowercase().starts_with("multipart/form-data"))
        .and_then(|c| c.split("boundary=").nth(1))
        .map(|b| b.trim_matches('"').to_string())
    else {
        return vec![format!(
            "bulk-upload: content type {content_type:?} is not multipart/form-data with a boundary"
        )];
    };
    let text = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    let mut paths = std::collections::BTreeMap::new();
    let mut files = std::collections::BTreeMap::new();
    let parts: Vec<&str> = text.split(&delimiter).collect();
    if !text.trim_end().ends_with(&format!("{delimiter}--")) {
        violations.push("bulk-upload: the closing boundary is missing".into());
    }
    for part in parts.iter().skip(1) {
        if part.starts_with("--") {
            break;
        }
        let Some((headers, content)) = part.split_once("\r\n\r\n") else {
            violations.push("bulk-upload: a part has no header end".into());
            continue;
        };
        let param = |name: &str| {
            headers
                .split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix(&format!("{name}=\"")))
                .and_then(|p| p.split('"').next())
                .map(str::to_string)
        };
        let Some(name) = param("name") else {
            violations.push("bulk-upload: a part has no name".into());
            continue;
        };
        let index = name
            .strip_prefix("files[")
            .and_then(|r| r.split_once("]."))
            .and_then(|(i, field)| i.parse::<usize>().ok().map(|i| (i, field.to_string())));
        match index {
            Some((i, field)) if field == "path" => {
                paths.insert(i, content.trim_end_matches("\r\n").to_string());
            }
            Some((i, field)) if field == "file" => {
                files.insert(i, param("filename"));
            }
            _ => violations.push(format!("bulk-upload: unexpected field `{name}`")),
        }
    }
    if paths.is_empty() {
        violations.push("bulk-upload: no files".into());
    }
    for (i, path) in &paths {
        match files.get(i) {
            None => violations.push(format!("bulk-upload: files[{i}].file is missing")),
            Some(filename) if filename.as_deref() != Some(path.as_str()) => {
                violations.push(format!(
                    "bulk-upload: files[{i}].file has filename {filename:?}, not the path {path:?}"
                ))
            }
            _ => {}
        }
    }
    for i in files.keys() {
        if !paths.contains_key(i) {
            violations.push(format!("bulk-upload: files[{i}].path is missing"));
        }
    }
    violations
}

type Ws = tungstenite::WebSocket<TcpStream>;

/// Completes a WebSocket upgrade and plays `talk`, then closes.
fn talk_websocket(
    mut stream: TcpStream,
    key: &str,
    logs: &Value,
    talk: fn(&mut Ws, &Value),
) -> io::Result<()> {
    use tungstenite::protocol::Role;

    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    write!(
        stream,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    )?;
    stream.flush()?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut ws = tungstenite::WebSocket::from_raw_socket(stream, Role::Server, None);
    talk(&mut ws, logs);
    while ws.read().is_ok() {}
    Ok(())
}

fn close(ws: &mut Ws, code: u16, reason: &str) {
    use tungstenite::protocol::frame::coding::CloseCode;
    use tungstenite::protocol::CloseFrame;
    let _ = ws.close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_string().into(),
    }));
}

/// The logs Prism generated, framed as the toolbox does
/// (sdk-inventory.md §8.1: `01 01 01` before stdout, `02 02 02` before
/// stderr), then a normal close.
fn logs_talk(ws: &mut Ws, logs: &Value) {
    let mut data = Vec::new();
    data.extend_from_slice(b"\x01\x01\x01");
    data.extend_from_slice(logs["stdout"].as_str().unwrap_or("").as_bytes());
    data.extend_from_slice(b"\x02\x02\x02");
    data.extend_from_slice(logs["stderr"].as_str().unwrap_or("").as_bytes());
    if ws.send(tungstenite::Message::binary(data)).is_ok() {
        close(ws, 1000, "");
    }
}

/// A terminal as the toolbox speaks it (§8.2, §9.2): "connected", output
/// as a binary message, the client's input (if any comes within half a
/// second) echoed as a shell would, then exit code 0 in the close's reason.
/// It stays open while the client types, as a shell does: input sent
/// after the close would be an error.
fn pty_talk(ws: &mut Ws, _: &Value) {
    use tungstenite::Message;
    let connected = Message::text(r#"{"type":"control","status":"connected"}"#);
    if ws.send(connected).is_err() || ws.send(Message::binary(&b"contract$ "[..])).is_err() {
        return;
    }
    let _ = ws
        .get_mut()
        .set_read_timeout(Some(std::time::Duration::from_millis(500)));
    let input = loop {
        match ws.read() {
            Ok(Message::Binary(b)) => break Some(b.to_vec()),
            Ok(Message::Text(t)) => break Some(t.as_bytes().to_vec()),
            Ok(_) => {}
            Err(_) => break None,
        }
    };
    if let Some(input) = input {
        let _ = ws.send(Message::binary(input));
    }
    close(ws, 1000, r#"{"exitCode":0}"#);
}

/// A run of code as the toolbox speaks it (§8.3, §9.2): the client's
/// request is checked (`{code, contextId?, envs?, timeout?}`, nothing
/// else), then stdout and `completed`, and a normal close; a request that
/// breaks the contract is closed with 1008 and what is wrong.
fn interpreter_talk(ws: &mut Ws, _: &Value) {
    use tungstenite::Message;
    let request = loop {
        match ws.read() {
            Ok(Message::Text(t)) => break serde_json::from_str::<Value>(t.as_str()).ok(),
            Ok(Message::Binary(_)) | Err(_) => break None,
            Ok(_) => {}
        }
    };
    let problem = match &request {
        None => Some("the request is not a JSON text message".to_string()),
        Some(Value::Object(map)) => map.iter().find_map(|(k, v)| {
            let ok = match k.as_str() {
                "code" => v.as_str().is_some_and(|c| !c.is_empty()),
                "contextId" => v.is_string(),
                "envs" => v
                    .as_object()
                    .is_some_and(|o| o.values().all(Value::is_string)),
                "timeout" => v.as_u64().is_some(),
                _ => false,
            };
            (!ok).then(|| format!("contract: field {k} = {v}"))
        }),
        Some(_) => Some("the request is not a JSON object".to_string()),
    };
    if let Some(problem) = problem.or_else(|| {
        request
            .as_ref()
            .filter(|r| r.get("code").is_none())
            .map(|_| "contract: no code".to_string())
    }) {
        return close(ws, 1008, &problem);
    }
    let out = Message::text(r#"{"type":"stdout","text":"contract\n"}"#);
    let done = Message::text(r#"{"type":"control","text":"completed"}"#);
    if ws.send(out).is_ok() && ws.send(done).is_ok() {
        close(ws, 1000, "");
    }
}
