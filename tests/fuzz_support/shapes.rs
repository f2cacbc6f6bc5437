//! The shapes of the API's answers, as the decoding fuzz test generates
//! them: every response model of the main API and the toolbox, with its
//! fields (required, optional, nullable) and the enum values the specs
//! list.

/// The shape of a JSON value in the API's answers.
#[derive(Clone)]
pub enum Shape {
    Str,
    /// A date-time string.
    Date,
    Bool,
    /// Any number.
    Num,
    /// A non-negative integer.
    Uint,
    /// A small integer (exit codes).
    Int,
    /// A TCP port.
    Port,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// A map of strings.
    StrMap,
    List(Box<Shape>),
    /// A two-number array (a point).
    Pair,
    Obj(Vec<Field>),
    /// This shape or `null`.
    Nullable(Box<Shape>),
}

#[derive(Clone)]
pub struct Field {
    pub name: &'static str,
    pub shape: Shape,
    /// The SDK refuses a document without it.
    pub required: bool,
}

pub fn req(name: &'static str, shape: Shape) -> Field {
    Field {
        name,
        shape,
        required: true,
    }
}

/// Optional: absent or a value of `shape`.
pub fn opt(name: &'static str, shape: Shape) -> Field {
    Field {
        name,
        shape,
        required: false,
    }
}

/// Optional, and `null` allowed (the spec's `nullable`).
pub fn nul(name: &'static str, shape: Shape) -> Field {
    Field {
        name,
        shape: Shape::Nullable(Box::new(shape)),
        required: false,
    }
}

pub fn list(shape: Shape) -> Shape {
    Shape::List(Box::new(shape))
}

pub const SANDBOX_STATES: &[&str] = &[
    "creating",
    "restoring",
    "destroyed",
    "destroying",
    "started",
    "stopped",
    "starting",
    "stopping",
    "error",
    "build_failed",
    "pending_build",
    "building_snapshot",
    "unknown",
    "pulling_snapshot",
    "archived",
    "archiving",
    "resizing",
    "snapshotting",
    "forking",
    "pausing",
    "paused",
    "resuming",
];
pub const DESIRED: &[&str] = &[
    "destroyed",
    "started",
    "stopped",
    "resized",
    "archived",
    "paused",
];
pub const SNAPSHOT_STATES: &[&str] = &[
    "building",
    "pending",
    "pulling",
    "active",
    "inactive",
    "error",
    "build_failed",
    "removing",
];
pub const VOLUME_STATES: &[&str] = &[
    "creating",
    "ready",
    "pending_create",
    "pending_delete",
    "deleting",
    "deleted",
    "error",
];
pub const GIT_STATES: &[&str] = &[
    "Unmodified",
    "Untracked",
    "Modified",
    "Added",
    "Deleted",
    "Renamed",
    "Copied",
    "Updated but unmerged",
];
pub const CHART_TYPES: &[&str] = &[
    "line",
    "scatter",
    "bar",
    "pie",
    "box_and_whisker",
    "composite_chart",
    "unknown",
];

pub fn build_info() -> Shape {
    Shape::Obj(vec![
        opt("dockerfileContent", Shape::Str),
        opt("contextHashes", list(Shape::Str)),
        opt("createdAt", Shape::Date),
        opt("updatedAt", Shape::Date),
        opt("snapshotRef", Shape::Str),
    ])
}

pub fn volume_mount() -> Shape {
    Shape::Obj(vec![
        req("volumeId", Shape::Str),
        req("mountPath", Shape::Str),
        opt("subpath", Shape::Str),
    ])
}

pub fn sandbox() -> Shape {
    Shape::Obj(vec![
        req("id", Shape::Str),
        req("organizationId", Shape::Str),
        req("name", Shape::Str),
        opt("snapshot", Shape::Str),
        req("user", Shape::Str),
        opt("env", Shape::StrMap),
        opt("labels", Shape::StrMap),
        req("public", Shape::Bool),
        opt("networkBlockAll", Shape::Bool),
        opt("networkAllowList", Shape::Str),
        opt("domainAllowList", Shape::Str),
        req("target", Shape::Str),
        req("cpu", Shape::Num),
        req("gpu", Shape::Num),
        opt("gpuType", Shape::Enum(&["H100", "RTX-PRO-6000"])),
        req("memory", Shape::Num),
        req("disk", Shape::Num),
        opt("state", Shape::Enum(SANDBOX_STATES)),
        opt("desiredState", Shape::Enum(DESIRED)),
        nul("errorReason", Shape::Str),
        opt("recoverable", Shape::Bool),
        opt(
            "backupState",
            Shape::Enum(&["None", "Pending", "InProgress", "Completed", "Error"]),
        ),
        opt("backupCreatedAt", Shape::Date),
        opt("autoStopInterval", Shape::Num),
        opt("autoArchiveInterval", Shape::Num),
        opt("autoDeleteInterval", Shape::Num),
        opt("volumes", list(volume_mount())),
        opt("buildInfo", build_info()),
        opt("createdAt", Shape::Date),
        opt("updatedAt", Shape::Date),
        opt("lastActivityAt", Shape::Date),
        opt(
            "sandboxClass",
            Shape::Enum(&["linux-vm", "container", "android", "windows"]),
        ),
        opt("daemonVersion", Shape::Str),
        opt("runnerId", Shape::Str),
        opt("linkedSandboxId", Shape::Str),
        req("toolboxProxyUrl", Shape::Str),
    ])
}

pub fn sandbox_page() -> Shape {
    Shape::Obj(vec![
        req("items", list(sandbox())),
        opt("total", Shape::Uint),
        nul("nextCursor", Shape::Str),
    ])
}

pub fn snapshot() -> Shape {
    Shape::Obj(vec![
        req("id", Shape::Str),
        opt("organizationId", Shape::Str),
        opt("general", Shape::Bool),
        req("name", Shape::Str),
        opt("imageName", Shape::Str),
        req("state", Shape::Enum(SNAPSHOT_STATES)),
        nul("size", Shape::Num),
        nul("entrypoint", list(Shape::Str)),
        opt("cpu", Shape::Num),
        opt("gpu", Shape::Num),
        opt("mem", Shape::Num),
        opt("disk", Shape::Num),
        nul("errorReason", Shape::Str),
        opt("createdAt", Shape::Date),
        opt("updatedAt", Shape::Date),
        nul("lastUsedAt", Shape::Date),
        opt("buildInfo", build_info()),
        opt("regionIds", list(Shape::Str)),
        opt("initialRunnerId", Shape::Str),
        opt("ref", Shape::Str),
    ])
}

pub fn snapshot_page() -> Shape {
    Shape::Obj(vec![
        req("items", list(snapshot())),
        req("total", Shape::Uint),
        req("page", Shape::Uint),
        req("totalPages", Shape::Uint),
    ])
}

pub fn volume() -> Shape {
    Shape::Obj(vec![
        req("id", Shape::Str),
        req("name", Shape::Str),
        req("organizationId", Shape::Str),
        req("state", Shape::Enum(VOLUME_STATES)),
        opt("createdAt", Shape::Date),
        opt("updatedAt", Shape::Date),
        nul("lastUsedAt", Shape::Date),
        nul("errorReason", Shape::Str),
    ])
}

pub fn preview() -> Shape {
    Shape::Obj(vec![
        req("sandboxId", Shape::Str),
        req("url", Shape::Str),
        req("token", Shape::Str),
    ])
}

pub fn signed_preview() -> Shape {
    Shape::Obj(vec![
        req("sandboxId", Shape::Str),
        req("port", Shape::Port),
        req("token", Shape::Str),
        req("url", Shape::Str),
    ])
}

pub fn ssh_access() -> Shape {
    Shape::Obj(vec![
        req("id", Shape::Str),
        req("sandboxId", Shape::Str),
        req("token", Shape::Str),
        req("expiresAt", Shape::Date),
        req("createdAt", Shape::Date),
        req("updatedAt", Shape::Date),
        req("sshCommand", Shape::Str),
    ])
}

pub fn ssh_validation() -> Shape {
    Shape::Obj(vec![
        req("valid", Shape::Bool),
        req("sandboxId", Shape::Str),
    ])
}

pub fn labels() -> Shape {
    Shape::Obj(vec![opt("labels", Shape::StrMap)])
}

pub fn file_info() -> Shape {
    Shape::Obj(vec![
        req("name", Shape::Str),
        opt("isDir", Shape::Bool),
        opt("size", Shape::Uint),
        opt("mode", Shape::Str),
        opt("permissions", Shape::Str),
        opt("owner", Shape::Str),
        opt("group", Shape::Str),
        opt("modifiedAt", Shape::Date),
        opt("modTime", Shape::Str),
    ])
}

pub fn matched() -> Shape {
    Shape::Obj(vec![
        req("file", Shape::Str),
        opt("line", Shape::Uint),
        opt("content", Shape::Str),
    ])
}

pub fn replace_result() -> Shape {
    Shape::Obj(vec![
        opt("file", Shape::Str),
        opt("success", Shape::Bool),
        opt("error", Shape::Str),
    ])
}

pub fn chart_element() -> Shape {
    Shape::Obj(vec![
        opt("label", Shape::Str),
        opt("group", Shape::Str),
        opt("value", Shape::Num),
        opt("points", list(Shape::Pair)),
        opt("angle", Shape::Num),
        opt("radius", Shape::Num),
        opt("min", Shape::Num),
        opt("first_quartile", Shape::Num),
        opt("median", Shape::Num),
        opt("third_quartile", Shape::Num),
        opt("max", Shape::Num),
        opt("outliers", list(Shape::Num)),
        opt("type", Shape::Enum(CHART_TYPES)),
        opt("title", Shape::Str),
    ])
}

pub fn chart() -> Shape {
    Shape::Obj(vec![
        opt("type", Shape::Enum(CHART_TYPES)),
        opt("title", Shape::Str),
        opt("png", Shape::Str),
        opt("x_label", Shape::Str),
        opt("y_label", Shape::Str),
        opt("x_ticks", list(Shape::Num)),
        opt("y_ticks", list(Shape::Num)),
        opt("x_tick_labels", list(Shape::Str)),
        opt("y_tick_labels", list(Shape::Str)),
        opt("x_scale", Shape::Str),
        opt("y_scale", Shape::Str),
        opt("elements", list(chart_element())),
    ])
}

pub fn exec_response() -> Shape {
    Shape::Obj(vec![opt("exitCode", Shape::Int), opt("result", Shape::Str)])
}

pub fn code_run_response() -> Shape {
    Shape::Obj(vec![
        opt("exitCode", Shape::Int),
        opt("result", Shape::Str),
        opt(
            "artifacts",
            Shape::Obj(vec![
                opt("stdout", Shape::Str),
                opt("charts", list(chart())),
            ]),
        ),
    ])
}

pub fn command() -> Shape {
    Shape::Obj(vec![
        opt("id", Shape::Str),
        opt("command", Shape::Str),
        opt("exitCode", Shape::Int),
    ])
}

pub fn session() -> Shape {
    Shape::Obj(vec![
        opt("sessionId", Shape::Str),
        nul("commands", list(command())),
    ])
}

pub fn session_exec() -> Shape {
    Shape::Obj(vec![
        opt("cmdId", Shape::Str),
        opt("exitCode", Shape::Int),
        opt("stdout", Shape::Str),
        opt("stderr", Shape::Str),
        opt("output", Shape::Str),
    ])
}

pub fn command_logs() -> Shape {
    Shape::Obj(vec![
        opt("stdout", Shape::Str),
        opt("stderr", Shape::Str),
        opt("output", Shape::Str),
    ])
}

pub fn file_status() -> Shape {
    Shape::Obj(vec![
        req("name", Shape::Str),
        req("staging", Shape::Enum(GIT_STATES)),
        req("worktree", Shape::Enum(GIT_STATES)),
        opt("extra", Shape::Str),
    ])
}

pub fn git_status() -> Shape {
    Shape::Obj(vec![
        req("currentBranch", Shape::Str),
        opt("ahead", Shape::Int),
        opt("behind", Shape::Int),
        opt("branchPublished", Shape::Bool),
        opt("fileStatus", list(file_status())),
    ])
}

pub fn commit() -> Shape {
    Shape::Obj(vec![
        req("hash", Shape::Str),
        req("author", Shape::Str),
        req("email", Shape::Str),
        req("message", Shape::Str),
        req("timestamp", Shape::Date),
    ])
}

pub fn point() -> Shape {
    Shape::Obj(vec![opt("x", Shape::Int), opt("y", Shape::Int)])
}

pub fn process_status() -> Shape {
    Shape::Obj(vec![
        opt("running", Shape::Bool),
        opt("pid", Shape::Uint),
        opt("priority", Shape::Uint),
        opt("autoRestart", Shape::Bool),
    ])
}

pub fn processes() -> Shape {
    Shape::Obj(vec![
        opt("message", Shape::Str),
        opt(
            "status",
            Shape::Obj(vec![
                opt("xvfb", process_status()),
                opt("xfce4", process_status()),
                opt("novnc", process_status()),
            ]),
        ),
    ])
}

pub fn screenshot() -> Shape {
    Shape::Obj(vec![
        opt("screenshot", Shape::Str),
        opt("cursorPosition", point()),
        opt("sizeBytes", Shape::Uint),
    ])
}

pub fn display_info() -> Shape {
    Shape::Obj(vec![
        opt("id", Shape::Uint),
        opt("x", Shape::Int),
        opt("y", Shape::Int),
        opt("width", Shape::Uint),
        opt("height", Shape::Uint),
        opt("isActive", Shape::Bool),
    ])
}

pub fn window_info() -> Shape {
    let Shape::Obj(mut fields) = display_info() else {
        unreachable!()
    };
    fields.push(opt("title", Shape::Str));
    Shape::Obj(fields)
}

pub fn recording() -> Shape {
    Shape::Obj(vec![
        req("id", Shape::Str),
        opt("fileName", Shape::Str),
        opt("filePath", Shape::Str),
        opt("startTime", Shape::Date),
        req("status", Shape::Enum(&["recording", "completed", "failed"])),
        opt("endTime", Shape::Date),
        opt("durationSeconds", Shape::Num),
        opt("sizeBytes", Shape::Uint),
    ])
}

/// An accessibility node with `levels` levels of children below it.
pub fn a11y_node(levels: usize) -> Shape {
    let mut fields = vec![
        opt("id", Shape::Str),
        opt("role", Shape::Str),
        opt("name", Shape::Str),
        opt("description", Shape::Str),
        opt(
            "bounds",
            Shape::Obj(vec![
                opt("x", Shape::Int),
                opt("y", Shape::Int),
                opt("width", Shape::Uint),
                opt("height", Shape::Uint),
            ]),
        ),
        nul("states", list(Shape::Str)),
        nul("actions", list(Shape::Str)),
    ];
    if levels > 0 {
        fields.push(nul(
            "children",
            list(Shape::Nullable(Box::new(a11y_node(levels - 1)))),
        ));
    }
    Shape::Obj(fields)
}

pub fn a11y_tree() -> Shape {
    Shape::Obj(vec![
        opt("root", a11y_node(3)),
        opt("truncated", Shape::Bool),
    ])
}

pub fn a11y_nodes() -> Shape {
    Shape::Obj(vec![
        nul("matches", list(a11y_node(1))),
        opt("truncated", Shape::Bool),
    ])
}

pub fn lsp_position() -> Shape {
    Shape::Obj(vec![
        opt("line", Shape::Uint),
        opt("character", Shape::Uint),
    ])
}

pub fn lsp_symbol() -> Shape {
    Shape::Obj(vec![
        req("name", Shape::Str),
        req("kind", Shape::Int),
        opt(
            "location",
            Shape::Obj(vec![
                opt("uri", Shape::Str),
                opt(
                    "range",
                    Shape::Obj(vec![
                        opt("start", lsp_position()),
                        opt("end", lsp_position()),
                    ]),
                ),
            ]),
        ),
    ])
}

pub fn completion_item() -> Shape {
    Shape::Obj(vec![
        req("label", Shape::Str),
        opt("kind", Shape::Int),
        opt("detail", Shape::Str),
        opt(
            "documentation",
            Shape::Obj(vec![
                opt("kind", Shape::Enum(&["plaintext", "markdown"])),
                opt("value", Shape::Str),
            ]),
        ),
        opt("sortText", Shape::Str),
        opt("filterText", Shape::Str),
        opt("insertText", Shape::Str),
    ])
}

pub fn completion_list() -> Shape {
    Shape::Obj(vec![
        opt("isIncomplete", Shape::Bool),
        nul("items", list(completion_item())),
    ])
}
