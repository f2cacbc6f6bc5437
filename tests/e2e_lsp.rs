//! Language servers end to end against the local simulator: its scan of
//! the sandbox's files in host mode, the registered answers in scripted
//! mode, and `file://` URIs that survive the trip.
#![cfg(feature = "testing")]

use daytona::testing::LocalDaytona;
use daytona::toolbox::{
    CompletionItem, CompletionItemKind, CompletionList, Location, LspLanguage, LspSymbol, Position,
    Range, SymbolKind,
};
use daytona::CreateSandbox;

const MAIN: &str = "\
import os

VERSION = \"1.0\"

class Greeter:
    def greet(self, name):
        return name

def greeting_for(name):
    g = Greeter()
    return g.gre
";

#[test]
fn host_mode_scans_the_sandbox_files() {
    let local = LocalDaytona::start().unwrap();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    let fs = sandbox.fs();
    fs.upload_bytes(MAIN, "/home/daytona/my app/src/main.py")
        .unwrap();
    fs.upload_bytes("def helper():\n    pass\n", "/home/daytona/my app/util.py")
        .unwrap();
    fs.upload_bytes(
        "def greet_hidden():\n    pass\n",
        "/home/daytona/my app/.venv/lib.py",
    )
    .unwrap();

    let lsp = sandbox.lsp_server(LspLanguage::Python, "/home/daytona/my app");
    // Not started: the toolbox's answer.
    let err = lsp.document_symbols("src/main.py").unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    lsp.start().unwrap();
    lsp.did_open("src/main.py").unwrap();

    let symbols = lsp.document_symbols("src/main.py").unwrap();
    let uri = "file:///home/daytona/my%20app/src/main.py";
    let found: Vec<(&str, SymbolKind, u32)> = symbols
        .iter()
        .map(|s| (s.name.as_str(), s.kind, s.location.range.start.line))
        .collect();
    assert_eq!(
        found,
        [
            ("VERSION", SymbolKind::Constant, 2),
            ("Greeter", SymbolKind::Class, 4),
            ("greet", SymbolKind::Method, 5),
            ("greeting_for", SymbolKind::Function, 8),
        ]
    );
    assert!(symbols.iter().all(|s| s.location.uri == uri));
    assert_eq!(
        symbols[2].location.range,
        Range::new(Position::new(5, 8), Position::new(5, 13))
    );

    // `g.gre|` on line 10.
    let list = lsp
        .completions("src/main.py", Position::new(10, 16))
        .unwrap();
    let items: Vec<(&str, Option<CompletionItemKind>)> = list
        .items
        .iter()
        .map(|i| (i.label.as_str(), i.kind))
        .collect();
    assert_eq!(
        items,
        [
            ("Greeter", Some(CompletionItemKind::Class)),
            ("greet", Some(CompletionItemKind::Method)),
            ("greeting_for", Some(CompletionItemKind::Function)),
        ]
    );
    assert_eq!(list.items[1].detail.as_deref(), Some("method"));
    assert!(!list.is_incomplete);

    // The whole project, hidden folders aside.
    let greets: Vec<(String, String)> = lsp
        .sandbox_symbols("greet")
        .unwrap()
        .into_iter()
        .map(|s| (s.name, s.location.uri))
        .collect();
    assert_eq!(
        greets,
        [
            ("Greeter".to_string(), uri.to_string()),
            ("greet".to_string(), uri.to_string()),
            ("greeting_for".to_string(), uri.to_string()),
        ]
    );
    let helper = lsp.sandbox_symbols("HELP").unwrap();
    assert_eq!(helper.len(), 1);
    assert_eq!(
        helper[0].location.uri,
        "file:///home/daytona/my%20app/util.py"
    );

    // A file URI is used as it is; a missing file cannot be opened.
    lsp.did_close(uri).unwrap();
    let err = lsp.did_open("missing.py").unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");

    // Another language on the same project is another server.
    let ts = sandbox.lsp_server(LspLanguage::TypeScript, "/home/daytona/my app");
    assert!(ts.sandbox_symbols("greet").is_err());

    lsp.stop().unwrap();
    assert!(lsp.sandbox_symbols("greet").is_err());
    assert!(lsp.stop().is_err());
}

#[test]
fn typescript_definitions_in_host_mode() {
    let local = LocalDaytona::start().unwrap();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    sandbox
        .fs()
        .upload_bytes(
            "export interface Options {}\nexport async function load(o: Options) {}\nconst LIMIT = 3;\n",
            "/work/web/src/index.ts",
        )
        .unwrap();
    let lsp = sandbox.lsp_server(LspLanguage::TypeScript, "/work/web");
    lsp.start().unwrap();
    let kinds: Vec<(String, SymbolKind)> = lsp
        .document_symbols("/work/web/src/index.ts")
        .unwrap()
        .into_iter()
        .map(|s| (s.name, s.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Options".to_string(), SymbolKind::Interface),
            ("load".to_string(), SymbolKind::Function),
            ("LIMIT".to_string(), SymbolKind::Constant),
        ]
    );
}

#[test]
fn scripted_mode_answers_what_was_registered() {
    let local = LocalDaytona::builder().scripted().start().unwrap();
    let sandbox = local.client().create(CreateSandbox::new()).unwrap();
    sandbox
        .fs()
        .upload_bytes(MAIN, "/home/daytona/app/main.py")
        .unwrap();
    let lsp = sandbox.lsp_server(LspLanguage::Python, "/home/daytona/app");
    lsp.start().unwrap();
    lsp.did_open("main.py").unwrap();
    // Nothing registered: empty answers, whatever the files hold.
    assert!(lsp.document_symbols("main.py").unwrap().is_empty());
    assert!(lsp.sandbox_symbols("greet").unwrap().is_empty());
    assert!(lsp
        .completions("main.py", Position::new(10, 16))
        .unwrap()
        .items
        .is_empty());

    let at = Location::new(
        "file:///home/daytona/app/main.py",
        Range::new(Position::new(8, 4), Position::new(8, 16)),
    );
    local.on_document_symbols(
        "/home/daytona/app/main.py",
        vec![LspSymbol::new(
            "greeting_for",
            SymbolKind::Function,
            at.clone(),
        )],
    );
    local.on_sandbox_symbols(
        "greet",
        vec![LspSymbol::new("greet", SymbolKind::Method, at)],
    );
    local.on_completions(
        "/home/daytona/app/main.py",
        CompletionList::new(vec![CompletionItem::new("greet")
            .with_kind(CompletionItemKind::Method)
            .with_detail("greet(self, name)")
            .with_insert_text("greet(")]),
    );
    let symbols = lsp.document_symbols("./main.py").unwrap();
    assert_eq!(symbols.len(), 1);
    assert_eq!(symbols[0].name, "greeting_for");
    assert_eq!(symbols[0].location.range.end, Position::new(8, 16));
    assert_eq!(
        lsp.sandbox_symbols("greet").unwrap()[0].kind,
        SymbolKind::Method
    );
    let list = lsp.completions("main.py", Position::new(0, 0)).unwrap();
    assert_eq!(list.items[0].insert_text.as_deref(), Some("greet("));
    assert_eq!(list.items[0].detail.as_deref(), Some("greet(self, name)"));
}
