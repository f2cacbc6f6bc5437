//! Decoding never panics: random and mutated spec-shaped JSON goes into
//! every response decoder, through the public models with serde_json and,
//! for a share of the cases, through the SDK itself (the bodies served by a
//! local server). Each case gives `Ok` or a decode error. Unknown fields
//! and unknown enum values are tolerated; a missing required field is an
//! error that names it.
//!
//! Deterministic: a small PRNG (SplitMix64) seeded per test. By default
//! 100,000 cases go through the models (80 % random and mutated, 10 % with
//! unknown fields and enum values, 10 % with a required field missing) and
//! 2,500 more through the SDK; `DAYTONA_FUZZ_CASES` sets another number
//! (spread the same way), `DAYTONA_FUZZ_SEED` another seed:
//!
//! ```sh
//! DAYTONA_FUZZ_CASES=10000000 cargo test --release --test decode_fuzz
//! ```

mod common;
mod fault_server;
mod fuzz_support;

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use daytona::models::{
    BuildInfo, PortPreviewUrl, SignedPortPreviewUrl, SshAccess, SshAccessValidation,
};
use daytona::toolbox::{
    AccessibilityNode, AccessibilityNodes, AccessibilityScope, AccessibilityTree, Chart,
    CodeRunResponse, Command, CompletionItem, CompletionList, CompressedOptions,
    ComputerUseProcesses, DisplayInfo, ExecResponse, FileInfo, FileStatus, FindNodes,
    GitCommitInfo, GitStatus, LspLanguage, LspSymbol, Match, Point, Position, ProcessStatus,
    Recording, ReplaceResult, Session, SessionCommandLogs, SessionExecResponse, WindowInfo,
};
use daytona::{
    Daytona, DaytonaConfig, Error, ListSandboxes, SandboxInfo, SandboxState, Snapshot,
    SnapshotPage, SnapshotState, Volume, VolumeMount, VolumeState,
};
use fault_server::{Action, FaultServer};
use fuzz_support::shapes::*;
use fuzz_support::{cases, Rng};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

/// For each this many cases through the models, one goes through the SDK.
const THROUGH_SDK: u64 = 40;

// ---------------------------------------------------------------------------
// documents of those shapes (tests/fuzz_support/shapes.rs), random and mutated

const STRINGS: &[&str] = &[
    "",
    "sb-1",
    "a",
    "daytona",
    "https://proxy.app.daytona.io/toolbox",
    "../x",
    "a/b",
    "%2e%2e",
    "?x=1",
    "#frag",
    "with space",
    "quote\"s",
    "back\\slash",
    "line\nbreak",
    "tab\t",
    "nul\u{0}",
    "é",
    "日本語",
    "🦀",
    "\u{202e}rtl",
    "\u{feff}bom",
    "null",
    "true",
    "0",
    "-1",
    "1e999",
    "NaN",
    "{}",
    "[]",
];

fn string(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => {
            let len = rng.below(40);
            (0..len)
                .map(|_| char::from_u32(rng.below(0x3000) as u32).unwrap_or('?'))
                .collect()
        }
        1 => "x".repeat(rng.below(2000)),
        _ => rng.pick(STRINGS).to_string(),
    }
}

fn number(rng: &mut Rng) -> Value {
    match rng.below(8) {
        0 => json!(rng.below(1000)),
        1 => json!(-(rng.below(1000) as i64)),
        2 => json!((rng.next() as f64) / 1e9),
        3 => json!(u64::MAX),
        4 => json!(i64::MIN),
        5 => json!(f64::MAX),
        6 => json!(1e-300),
        _ => json!(0.5),
    }
}

/// A value of `shape`, as the API would send it.
fn generate(shape: &Shape, rng: &mut Rng, depth: usize) -> Value {
    match shape {
        Shape::Str => json!(rng
            .pick(&["sb-1", "name", "daytona", "us", "é", ""])
            .to_string()),
        Shape::Date => json!("2026-01-01T00:00:00.000Z"),
        Shape::Bool => json!(rng.chance(2)),
        Shape::Num => json!(rng.below(64)),
        Shape::Uint => json!(rng.below(1 << 20)),
        Shape::Int => json!(rng.below(200) as i64 - 100),
        Shape::Port => json!(1 + rng.below(65535)),
        Shape::Enum(values) => json!(rng.pick(values).to_string()),
        Shape::StrMap => {
            let mut m = Map::new();
            for i in 0..rng.below(4) {
                m.insert(format!("k{i}"), json!(format!("v{i}")));
            }
            Value::Object(m)
        }
        Shape::List(item) => {
            let n = if depth > 3 { 0 } else { rng.below(4) };
            Value::Array((0..n).map(|_| generate(item, rng, depth + 1)).collect())
        }
        Shape::Pair => json!([rng.below(100), rng.below(100)]),
        Shape::Obj(fields) => {
            let mut m = Map::new();
            for f in fields {
                if f.required || rng.below(4) != 0 {
                    m.insert(f.name.to_string(), generate(&f.shape, rng, depth + 1));
                }
            }
            Value::Object(m)
        }
        Shape::Nullable(inner) => {
            if rng.chance(8) {
                Value::Null
            } else {
                generate(inner, rng, depth)
            }
        }
    }
}

/// A random value of any type.
fn anything(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 2 { 4 } else { 6 }) {
        0 => Value::Null,
        1 => json!(rng.chance(2)),
        2 => number(rng),
        3 => json!(string(rng)),
        4 => Value::Array(
            (0..rng.below(3))
                .map(|_| anything(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let mut m = Map::new();
            for _ in 0..rng.below(3) {
                m.insert(string(rng), anything(rng, depth + 1));
            }
            Value::Object(m)
        }
    }
}

#[derive(Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// A random place in `v`: from the root, stops or goes into a random
/// member, each with even odds.
fn random_path(v: &Value, rng: &mut Rng) -> Vec<Step> {
    let mut path = Vec::new();
    let mut here = v;
    loop {
        if rng.chance(3) {
            return path;
        }
        match here {
            Value::Object(m) if !m.is_empty() => {
                let (k, child) = m.iter().nth(rng.below(m.len())).unwrap();
                path.push(Step::Key(k.clone()));
                here = child;
            }
            Value::Array(items) if !items.is_empty() => {
                let i = rng.below(items.len());
                path.push(Step::Index(i));
                here = &items[i];
            }
            _ => return path,
        }
    }
}

fn at<'v>(v: &'v mut Value, path: &[Step]) -> &'v mut Value {
    path.iter().fold(v, |v, step| match step {
        Step::Key(k) => &mut v[k.as_str()],
        Step::Index(i) => &mut v[*i],
    })
}

/// Changes one random place of `doc`.
fn mutate(doc: &mut Value, rng: &mut Rng) {
    let path = random_path(doc, rng);
    let target = at(doc, &path);
    match rng.below(9) {
        // Drop a member (the value itself, when it is not in an object).
        0 => match (path.last(), path.len()) {
            (Some(Step::Key(k)), n) => {
                let parent = at(doc, &path[..n - 1]);
                if let Value::Object(m) = parent {
                    m.remove(k);
                }
            }
            _ => *target = Value::Null,
        },
        1 => *target = Value::Null,
        // Another type.
        2 => *target = anything(rng, 0),
        3 => *target = number(rng),
        // An unknown enum value (or any string).
        4 => *target = json!(string(rng)),
        // An unknown field.
        5 => {
            if let Value::Object(m) = target {
                m.insert(format!("unknown{}", rng.below(100)), anything(rng, 0));
            } else {
                *target = json!({ "unknown": anything(rng, 0) });
            }
        }
        // A very deep value.
        6 => {
            let depth = 1 + rng.below(160);
            let mut v = Value::Null;
            // Built by hand: `json!` would copy the value at each level.
            for _ in 0..depth {
                v = if rng.chance(2) {
                    Value::Array(vec![v])
                } else {
                    Value::Object(Map::from_iter([("a".to_string(), v)]))
                };
            }
            *target = v;
        }
        // An empty container.
        7 => *target = if rng.chance(2) { json!([]) } else { json!({}) },
        // A list grown long.
        _ => {
            if let Value::Array(items) = target {
                if let Some(first) = items.first().cloned() {
                    items.extend(std::iter::repeat_n(first, rng.below(20)));
                }
            }
        }
    }
}

/// Changes the text: cuts it, flips bytes, inserts bytes or tokens that
/// JSON cannot hold in a value.
fn mutate_text(text: &mut Vec<u8>, rng: &mut Rng) {
    let pos = rng.below(text.len() + 1);
    match rng.below(6) {
        0 => text.truncate(pos),
        1 => {
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(text.len());
                if let Some(b) = text.get_mut(i) {
                    *b = rng.next() as u8;
                }
            }
        }
        2 => {
            let junk: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.next() as u8).collect();
            text.splice(pos..pos, junk);
        }
        3 => {
            const TOKENS: &[&[u8]] = &[
                b"1e999",
                b"-1e999",
                b"123456789012345678901234567890",
                b"NaN",
                b"Infinity",
                b"\"\\ud800\"",
                b"\xff\xfe",
                b",",
                b"}",
                b"]]]]",
            ];
            let token = rng.pick(TOKENS);
            text.splice(pos..pos, token.iter().copied());
        }
        4 => {
            // A member repeated.
            if let Some(start) = text.iter().position(|&b| b == b'{') {
                let end = (start + 1 + rng.below(60)).min(text.len());
                let piece = text[start + 1..end].to_vec();
                text.splice(start + 1..start + 1, piece);
            }
        }
        _ => {
            const BODIES: &[&[u8]] = &[b"<html>502 Bad Gateway</html>", b"", b"null", b" "];
            *text = rng.pick(BODIES).to_vec();
        }
    }
}

// ---------------------------------------------------------------------------
// decoders

type Decoder = fn(&[u8]) -> Result<(), String>;

/// Decodes `bytes` as `T`; the error's text (also formatting the value,
/// which must not panic either).
fn decode<T: DeserializeOwned + std::fmt::Debug>(bytes: &[u8]) -> Result<(), String> {
    match serde_json::from_slice::<T>(bytes) {
        Ok(v) => {
            let _ = format!("{v:?}");
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// A model: its name, shape, decoder, and whether its body may also be
/// a JSON array of it (list answers).
struct Model {
    name: &'static str,
    shape: Shape,
    decode: Decoder,
}

fn models() -> Vec<Model> {
    fn m(name: &'static str, shape: Shape, decode: Decoder) -> Model {
        Model {
            name,
            shape,
            decode,
        }
    }
    vec![
        m("SandboxInfo", sandbox(), decode::<SandboxInfo>),
        m(
            "SandboxInfo list",
            list(sandbox()),
            decode::<Vec<SandboxInfo>>,
        ),
        m("BuildInfo", build_info(), decode::<BuildInfo>),
        m("VolumeMount", volume_mount(), decode::<VolumeMount>),
        m("PortPreviewUrl", preview(), decode::<PortPreviewUrl>),
        m(
            "SignedPortPreviewUrl",
            signed_preview(),
            decode::<SignedPortPreviewUrl>,
        ),
        m("SshAccess", ssh_access(), decode::<SshAccess>),
        m(
            "SshAccessValidation",
            ssh_validation(),
            decode::<SshAccessValidation>,
        ),
        m("Snapshot", snapshot(), decode::<Snapshot>),
        m("SnapshotPage", snapshot_page(), decode::<SnapshotPage>),
        m("Volume", volume(), decode::<Volume>),
        m("Volume list", list(volume()), decode::<Vec<Volume>>),
        m("FileInfo", file_info(), decode::<FileInfo>),
        m("FileInfo list", list(file_info()), decode::<Vec<FileInfo>>),
        m("Match list", list(matched()), decode::<Vec<Match>>),
        m(
            "ReplaceResult list",
            list(replace_result()),
            decode::<Vec<ReplaceResult>>,
        ),
        m("ExecResponse", exec_response(), decode::<ExecResponse>),
        m(
            "CodeRunResponse",
            code_run_response(),
            decode::<CodeRunResponse>,
        ),
        m("Chart", chart(), decode::<Chart>),
        m("Session", session(), decode::<Session>),
        m("Session list", list(session()), decode::<Vec<Session>>),
        m("Command", command(), decode::<Command>),
        m(
            "SessionExecResponse",
            session_exec(),
            decode::<SessionExecResponse>,
        ),
        m(
            "SessionCommandLogs",
            command_logs(),
            decode::<SessionCommandLogs>,
        ),
        m("GitStatus", git_status(), decode::<GitStatus>),
        m("FileStatus", file_status(), decode::<FileStatus>),
        m(
            "GitCommitInfo list",
            list(commit()),
            decode::<Vec<GitCommitInfo>>,
        ),
        m(
            "SandboxState",
            Shape::Enum(SANDBOX_STATES),
            decode::<SandboxState>,
        ),
        m(
            "SnapshotState",
            Shape::Enum(SNAPSHOT_STATES),
            decode::<SnapshotState>,
        ),
        m(
            "VolumeState",
            Shape::Enum(VOLUME_STATES),
            decode::<VolumeState>,
        ),
        m("Point", point(), decode::<Point>),
        m("ProcessStatus", process_status(), decode::<ProcessStatus>),
        m(
            "ComputerUseProcesses",
            processes(),
            decode::<ComputerUseProcesses>,
        ),
        m("DisplayInfo", display_info(), decode::<DisplayInfo>),
        m("WindowInfo", window_info(), decode::<WindowInfo>),
        m("Recording", recording(), decode::<Recording>),
        m(
            "Recording list",
            list(recording()),
            decode::<Vec<Recording>>,
        ),
        m(
            "AccessibilityNode",
            a11y_node(3),
            decode::<AccessibilityNode>,
        ),
        m(
            "AccessibilityTree",
            a11y_tree(),
            decode::<AccessibilityTree>,
        ),
        m(
            "AccessibilityNodes",
            a11y_nodes(),
            decode::<AccessibilityNodes>,
        ),
        m("LspSymbol", lsp_symbol(), decode::<LspSymbol>),
        m(
            "LspSymbol list",
            list(lsp_symbol()),
            decode::<Vec<LspSymbol>>,
        ),
        m(
            "CompletionItem",
            completion_item(),
            decode::<CompletionItem>,
        ),
        m(
            "CompletionList",
            completion_list(),
            decode::<CompletionList>,
        ),
    ]
}

/// Decodes `bytes` with `model` and fails the test, showing the input,
/// if the decoder panics.
fn no_panic(model: &Model, bytes: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| (model.decode)(bytes))).unwrap_or_else(|_| {
        panic!(
            "{} panicked on: {}",
            model.name,
            String::from_utf8_lossy(bytes)
        )
    })
}

/// One random case: a spec-shaped document, mutated (or not) as a value
/// and (or not) as text.
fn case_bytes(model: &Model, rng: &mut Rng) -> Vec<u8> {
    let mut doc = generate(&model.shape, rng, 0);
    for _ in 0..rng.below(4) {
        mutate(&mut doc, rng);
    }
    let mut text = serde_json::to_vec(&doc).unwrap();
    if rng.chance(3) {
        mutate_text(&mut text, rng);
    }
    text
}

/// `cases` random cases over `models`.
fn fuzz(models: &[Model], cases: u64, rng: &mut Rng) -> (u64, u64) {
    let (mut ok, mut err) = (0, 0);
    for i in 0..cases {
        let model = &models[(i % models.len() as u64) as usize];
        let bytes = case_bytes(model, rng);
        match no_panic(model, &bytes) {
            Ok(()) => ok += 1,
            Err(_) => err += 1,
        }
    }
    (ok, err)
}

#[test]
fn random_and_mutated_documents_decode_or_fail_cleanly() {
    let mut rng = Rng::for_test(1);
    let all = models();
    let n = cases(800);
    let (ok, err) = fuzz(&all, n, &mut rng);
    eprintln!("{n} cases through the models: {ok} decoded, {err} refused");
    // Both sides are exercised.
    assert!(ok > n / 20 && err > n / 20, "{ok} ok, {err} errors");
}

/// Adds unknown members to every object and replaces every enum value by
/// one the SDK does not know.
fn with_unknowns(shape: &Shape, v: &mut Value, rng: &mut Rng) {
    match (shape, v) {
        (Shape::Obj(fields), Value::Object(m)) => {
            for f in fields {
                if let Some(child) = m.get_mut(f.name) {
                    with_unknowns(&f.shape, child, rng);
                }
            }
            m.insert(format!("futureField{}", rng.below(1000)), anything(rng, 0));
        }
        (Shape::Nullable(inner), v) => with_unknowns(inner, v, rng),
        (Shape::List(item), Value::Array(items)) => {
            for child in items {
                with_unknowns(item, child, rng);
            }
        }
        (Shape::Enum(_), v) => *v = json!(format!("future_value_{}", rng.below(1000))),
        _ => {}
    }
}

#[test]
fn unknown_fields_and_enum_values_are_tolerated() {
    let mut rng = Rng::for_test(2);
    let n = cases(100);
    for (i, model) in models().iter().cycle().take(n as usize).enumerate() {
        let mut doc = generate(&model.shape, &mut rng, 0);
        with_unknowns(&model.shape, &mut doc, &mut rng);
        let bytes = serde_json::to_vec(&doc).unwrap();
        if let Err(e) = no_panic(model, &bytes) {
            panic!("case {i}: {} refused unknowns: {e}\n{doc}", model.name);
        }
    }
    // And the unknown values are kept as sent.
    let mut doc = generate(&sandbox(), &mut rng, 0);
    doc["state"] = json!("hibernating");
    let info: SandboxInfo = serde_json::from_value(doc).unwrap();
    assert_eq!(info.state, Some(SandboxState::Other("hibernating".into())));
}

#[test]
fn a_missing_required_field_is_named() {
    let mut rng = Rng::for_test(3);
    let n = cases(100);
    let all = models();
    let with_required: Vec<(&Model, &Vec<Field>)> = all
        .iter()
        .filter_map(|m| match &m.shape {
            Shape::Obj(fields) if fields.iter().any(|f| f.required) => Some((m, fields)),
            _ => None,
        })
        .collect();
    for i in 0..n as usize {
        let (model, fields) = with_required[i % with_required.len()];
        let required: Vec<&Field> = fields.iter().filter(|f| f.required).collect();
        let missing = rng.pick(&required).name;
        let mut doc = generate(&model.shape, &mut rng, 0);
        doc.as_object_mut().unwrap().remove(missing);
        let bytes = serde_json::to_vec(&doc).unwrap();
        match no_panic(model, &bytes) {
            Ok(()) => panic!("{} decoded without `{missing}`: {doc}", model.name),
            Err(e) => assert!(
                e.contains(&format!("missing field `{missing}`")),
                "{}: {e}",
                model.name
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// through the SDK

/// A call of the SDK whose answer is one decoded body.
struct SdkCall {
    shape: Shape,
    call: fn(&daytona::Sandbox) -> Result<(), Error>,
}

fn sdk_calls() -> Vec<SdkCall> {
    fn c(shape: Shape, call: fn(&daytona::Sandbox) -> Result<(), Error>) -> SdkCall {
        SdkCall { shape, call }
    }
    vec![
        c(sandbox(), |sb| sb.client().get("sb-1").map(drop)),
        c(sandbox_page(), |sb| {
            sb.client()
                .list(ListSandboxes::new())
                .take(3)
                .collect::<Result<Vec<_>, _>>()
                .map(drop)
        }),
        c(snapshot(), |sb| sb.client().snapshots().get("s").map(drop)),
        c(snapshot_page(), |sb| {
            sb.client()
                .snapshots()
                .list_page(daytona::ListSnapshots::new())
                .map(drop)
        }),
        c(volume(), |sb| sb.client().volumes().get("v").map(drop)),
        c(list(volume()), |sb| sb.client().volumes().list().map(drop)),
        c(labels(), |sb| {
            sb.clone().set_labels(Default::default()).map(drop)
        }),
        c(preview(), |sb| sb.preview_link(3000).map(drop)),
        c(signed_preview(), |sb| {
            sb.signed_preview_url(3000, None).map(drop)
        }),
        c(ssh_access(), |sb| sb.create_ssh_access(None).map(drop)),
        c(ssh_validation(), |sb| sb.validate_ssh_access("t").map(drop)),
        c(list(file_info()), |sb| sb.fs().list_files("/").map(drop)),
        c(file_info(), |sb| sb.fs().get_file_info("/f").map(drop)),
        c(list(matched()), |sb| sb.fs().find_files("/", "x").map(drop)),
        c(list(replace_result()), |sb| {
            sb.fs().replace_in_files(&["/f"], "a", "b").map(drop)
        }),
        c(Shape::Obj(vec![opt("files", list(Shape::Str))]), |sb| {
            sb.fs().search_files("/", "*").map(drop)
        }),
        c(exec_response(), |sb| sb.process().exec("true").map(drop)),
        c(code_run_response(), |sb| {
            sb.process().code_run("1").map(drop)
        }),
        c(session(), |sb| sb.process().get_session("s").map(drop)),
        c(list(session()), |sb| sb.process().list_sessions().map(drop)),
        c(command(), |sb| {
            sb.process().get_session_command("s", "c").map(drop)
        }),
        c(session_exec(), |sb| {
            sb.process()
                .execute_session_command("s", "true", Default::default())
                .map(drop)
        }),
        c(command_logs(), |sb| {
            sb.process().get_session_command_logs("s", "c").map(drop)
        }),
        c(git_status(), |sb| sb.git().status("/r").map(drop)),
        c(list(commit()), |sb| sb.git().history("/r").map(drop)),
        c(Shape::Obj(vec![opt("branches", list(Shape::Str))]), |sb| {
            sb.git().branches("/r").map(drop)
        }),
        c(Shape::Obj(vec![req("dir", Shape::Str)]), |sb| {
            sb.user_home_dir().map(drop)
        }),
        c(processes(), |sb| sb.computer_use().start().map(drop)),
        c(point(), |sb| sb.computer_use().mouse().position().map(drop)),
        c(screenshot(), |sb| {
            sb.computer_use()
                .screenshot()
                .take_compressed(CompressedOptions::new())
                .map(drop)
        }),
        c(
            Shape::Obj(vec![nul("displays", list(display_info()))]),
            |sb| sb.computer_use().display().info().map(drop),
        ),
        c(
            Shape::Obj(vec![nul("windows", list(window_info()))]),
            |sb| sb.computer_use().display().windows().map(drop),
        ),
        c(recording(), |sb| {
            sb.computer_use().recording().get("r").map(drop)
        }),
        c(
            Shape::Obj(vec![nul("recordings", list(recording()))]),
            |sb| sb.computer_use().recording().list().map(drop),
        ),
        c(a11y_tree(), |sb| {
            sb.computer_use()
                .accessibility()
                .tree(AccessibilityScope::Focused, None)
                .map(drop)
        }),
        c(a11y_nodes(), |sb| {
            sb.computer_use()
                .accessibility()
                .find_nodes(FindNodes::new())
                .map(drop)
        }),
        c(Shape::Nullable(Box::new(list(lsp_symbol()))), |sb| {
            sb.lsp_server(LspLanguage::Python, "/p")
                .document_symbols("a.py")
                .map(drop)
        }),
        c(completion_list(), |sb| {
            sb.lsp_server(LspLanguage::TypeScript, "/p")
                .completions("a.ts", Position::new(1, 2))
                .map(drop)
        }),
    ]
}

#[test]
fn the_sdk_gives_a_value_or_a_decode_error_for_every_body() {
    // The bodies are served one per request, in order, by a local server.
    let bodies: Arc<Mutex<VecDeque<Vec<u8>>>> = Arc::default();
    let queue = bodies.clone();
    let server = FaultServer::forgetful(move |_| match queue.lock().unwrap().pop_front() {
        Some(body) => Action::body(200, "application/json", body),
        None => Action::status(500),
    });
    let daytona = Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key(common::KEY)
            .api_url(format!("{}/api", server.url))
            .max_attempts(1),
    )
    .unwrap();
    let mut setup = common::sandbox_json("sb-1", "started");
    setup["toolboxProxyUrl"] = json!(format!("{}/toolbox", server.url));
    bodies
        .lock()
        .unwrap()
        .push_back(setup.to_string().into_bytes());
    let sandbox = daytona.get("sb-1").unwrap();

    let calls = sdk_calls();
    let mut rng = Rng::for_test(4);
    let n = cases(1000) / THROUGH_SDK;
    let (mut ok, mut decode_errors) = (0, 0);
    for i in 0..n.max(calls.len() as u64) {
        let call = &calls[(i % calls.len() as u64) as usize];
        let model = Model {
            name: "sdk",
            shape: call.shape.clone(),
            decode: |_| Ok(()),
        };
        let bytes = case_bytes(&model, &mut rng);
        {
            let mut q = bodies.lock().unwrap();
            q.clear();
            // A listing may ask for more pages: give each the same body.
            for _ in 0..3 {
                q.push_back(bytes.clone());
            }
        }
        let result =
            catch_unwind(AssertUnwindSafe(|| (call.call)(&sandbox))).unwrap_or_else(|_| {
                panic!("call {i} panicked on: {}", String::from_utf8_lossy(&bytes))
            });
        match result {
            Ok(()) => ok += 1,
            Err(Error::Decode { .. }) => decode_errors += 1,
            Err(e) => panic!(
                "call {} gave {e:?} for: {}",
                i % calls.len() as u64,
                String::from_utf8_lossy(&bytes)
            ),
        }
    }
    eprintln!("{n} cases through the SDK: {ok} decoded, {decode_errors} decode errors");
    assert!(ok > 0 && decode_errors > 0);
}
