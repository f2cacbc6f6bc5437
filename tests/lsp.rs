//! Language servers against mockito: every operation's method, path, query
//! and body, `file://` URIs, the decoding of symbols and completions, and
//! invalid arguments refused before any request.

mod common;

use common::*;
use daytona::toolbox::{CompletionItemKind, LspLanguage, MarkupKind, Position, Range, SymbolKind};
use daytona::Error;
use mockito::{Matcher, Server, ServerGuard};
use serde_json::{json, Value};

const PROJECT: &str = "/home/daytona/my project";

fn setup() -> (ServerGuard, daytona::Daytona, daytona::Sandbox) {
    let mut server = Server::new();
    let daytona = client(&server);
    let sandbox = toolbox_sandbox(&mut server, &daytona);
    (server, daytona, sandbox)
}

fn lsp_mock(server: &mut ServerGuard, method: &str, what: &str) -> mockito::Mock {
    with_sdk_headers(server.mock(method, format!("{TOOLBOX}/lsp/{what}").as_str())).expect(1)
}

/// A POST with exactly `body`, answered 200 without a body (as the toolbox
/// does).
fn post_empty(server: &mut ServerGuard, what: &str, body: Value) -> mockito::Mock {
    expect_json_body(lsp_mock(server, "POST", what), body).with_status(200)
}

#[test]
fn start_stop_open_close() {
    let (mut server, _d, sandbox) = setup();
    let lsp = sandbox.lsp_server(LspLanguage::TypeScript, PROJECT);
    let server_body = json!({"languageId": "typescript", "pathToProject": PROJECT});
    let start = post_empty(&mut server, "start", server_body.clone()).create();
    lsp.start().unwrap();
    start.assert();

    let doc = |uri: &str| json!({"languageId": "typescript", "pathToProject": PROJECT, "uri": uri});
    // Relative to the project, percent-encoded.
    let open = post_empty(
        &mut server,
        "did-open",
        doc("file:///home/daytona/my%20project/src/index.ts"),
    )
    .create();
    lsp.did_open("src/index.ts").unwrap();
    open.assert();
    // A file URI is not prefixed twice.
    let close = post_empty(
        &mut server,
        "did-close",
        doc("file:///home/daytona/my%20project/src/index.ts"),
    )
    .create();
    lsp.did_close("file:///home/daytona/my%20project/src/index.ts")
        .unwrap();
    close.assert();

    let stop = post_empty(&mut server, "stop", server_body).create();
    lsp.stop().unwrap();
    stop.assert();
    assert_eq!(lsp.language(), LspLanguage::TypeScript);
    assert_eq!(lsp.project_path(), PROJECT);
}

fn symbol(name: &str, kind: i64, uri: &str, line: i64) -> Value {
    json!({
        "name": name,
        "kind": kind,
        "location": {
            "uri": uri,
            "range": {"start": {"line": line, "character": 4}, "end": {"line": line, "character": 9}}
        }
    })
}

#[test]
fn document_symbols_are_typed() {
    let (mut server, _d, sandbox) = setup();
    let lsp = sandbox.lsp_server(LspLanguage::Python, PROJECT);
    let uri = "file:///home/daytona/my%20project/app/m%C3%A4in.py";
    let m = lsp_mock(&mut server, "GET", "document-symbols")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("languageId".into(), "python".into()),
            Matcher::UrlEncoded("pathToProject".into(), PROJECT.into()),
            Matcher::UrlEncoded("uri".into(), uri.into()),
        ]))
        .with_status(200)
        .with_body(
            json!([
                symbol("Greeter", 5, uri, 0),
                symbol("greet", 6, uri, 3),
                symbol("VERSION", 14, uri, 10),
                symbol("future", 99, uri, 12),
                // A kind written as a fraction is read as every API number.
                json!({"name": "half", "kind": 12.0, "location": {"uri": uri}})
            ])
            .to_string(),
        )
        .create();
    let symbols = lsp
        .document_symbols("/home/daytona/my project/app/mäin.py")
        .unwrap();
    m.assert();
    let kinds: Vec<(&str, SymbolKind)> =
        symbols.iter().map(|s| (s.name.as_str(), s.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("Greeter", SymbolKind::Class),
            ("greet", SymbolKind::Method),
            ("VERSION", SymbolKind::Constant),
            ("future", SymbolKind::Other(99)),
            ("half", SymbolKind::Function)
        ]
    );
    assert_eq!(symbols[1].location.uri, uri);
    assert_eq!(
        symbols[1].location.range,
        Range::new(Position::new(3, 4), Position::new(3, 9))
    );
}

#[test]
fn sandbox_symbols_send_the_query() {
    let (mut server, _d, sandbox) = setup();
    let lsp = sandbox.lsp_server(LspLanguage::JavaScript, "/work");
    let m = lsp_mock(&mut server, "GET", "workspacesymbols")
        .match_query(Matcher::Exact(
            "languageId=javascript&pathToProject=%2Fwork&query=use+State".into(),
        ))
        .with_status(200)
        .with_body(json!([symbol("useState", 12, "file:///work/a.js", 1)]).to_string())
        .create();
    let found = lsp.sandbox_symbols("use State").unwrap();
    m.assert();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, SymbolKind::Function);

    // The toolbox encodes "no symbols" as Go's nil slice: `null`.
    let none = lsp_mock(&mut server, "GET", "workspacesymbols")
        .match_query(Matcher::Any)
        .with_status(200)
        .with_body("null")
        .create();
    assert!(lsp.sandbox_symbols("x").unwrap().is_empty());
    none.assert();
}

#[test]
fn completions_send_the_position_and_decode_items() {
    let (mut server, _d, sandbox) = setup();
    let lsp = sandbox.lsp_server(LspLanguage::Python, "/home/daytona/proj/");
    let m = expect_json_body(
        lsp_mock(&mut server, "POST", "completions"),
        json!({
            "languageId": "python",
            "pathToProject": "/home/daytona/proj/",
            "uri": "file:///home/daytona/proj/main.py",
            "position": {"line": 7, "character": 12}
        }),
    )
    .with_status(200)
    .with_body(
        json!({
            "isIncomplete": false,
            "items": [
                {"label": "append", "kind": 2, "detail": "append(object) -> None",
                 "documentation": {"kind": "markdown", "value": "Append **object**."},
                 "sortText": "a", "filterText": "append", "insertText": "append("},
                {"label": "clear", "kind": 2, "documentation": "Remove all items."},
                {"label": "x"}
            ]
        })
        .to_string(),
    )
    .create();
    let list = lsp.completions("main.py", Position::new(7, 12)).unwrap();
    m.assert();
    assert!(!list.is_incomplete);
    assert_eq!(list.items.len(), 3);
    let append = &list.items[0];
    assert_eq!(append.kind, Some(CompletionItemKind::Method));
    assert_eq!(append.detail.as_deref(), Some("append(object) -> None"));
    let doc = append.documentation.as_ref().unwrap();
    assert_eq!(
        (doc.kind.clone(), doc.value.as_str()),
        (MarkupKind::Markdown, "Append **object**.")
    );
    assert_eq!(append.insert_text.as_deref(), Some("append("));
    assert_eq!(append.sort_text.as_deref(), Some("a"));
    assert_eq!(append.filter_text.as_deref(), Some("append"));
    let clear = list.items[1].documentation.as_ref().unwrap();
    assert_eq!(clear.kind, MarkupKind::PlainText);
    assert_eq!(list.items[2].kind, None);
}

#[test]
fn invalid_arguments_send_nothing() {
    let (mut server, _d, sandbox) = setup();
    let guards = no_requests(&mut server);
    fn field<T: std::fmt::Debug>(r: daytona::Result<T>) -> String {
        match r {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }
    let relative = sandbox.lsp_server(LspLanguage::Python, "workspace/project");
    assert_eq!(field(relative.start()), "project_path");
    assert_eq!(field(relative.stop()), "project_path");
    assert_eq!(field(relative.did_open("/abs/a.py")), "project_path");
    assert_eq!(field(relative.sandbox_symbols("a")), "project_path");
    assert_eq!(field(relative.file_uri("a.py")), "project_path");
    let empty = sandbox.lsp_server(LspLanguage::Python, "");
    assert_eq!(field(empty.start()), "project_path");
    assert_eq!(field(empty.file_uri("a.py")), "project_path");

    let lsp = sandbox.lsp_server(LspLanguage::Python, "/p");
    assert_eq!(lsp.file_uri("src/a.py").unwrap(), "file:///p/src/a.py");
    assert_eq!(field(lsp.did_open("")), "path");
    assert_eq!(field(lsp.did_close("../../x.py")), "path");
    assert_eq!(field(lsp.document_symbols("file://host/x.py")), "path");
    assert_eq!(field(lsp.document_symbols("file:///x.py#frag")), "path");
    assert_eq!(field(lsp.did_open("file:///")), "path");
    assert_eq!(field(lsp.did_close("file:///tmp/..")), "path");
    assert_eq!(field(lsp.sandbox_symbols(" ")), "query");
    assert_eq!(field(lsp.completions("", Position::new(0, 0))), "path");
    let far = Position::new(u32::MAX, 0);
    assert_eq!(field(lsp.completions("a.py", far)), "position.line");
    assert_all(&guards);
}
