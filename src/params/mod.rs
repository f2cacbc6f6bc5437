//! Parameters of sandbox operations: plain structs with `Default` and
//! chainable setters, checked before any request is sent.

pub(crate) mod list;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::models::{GpuType, VolumeMount};

/// The label that tells the toolbox which language `code_run` uses.
pub const CODE_TOOLBOX_LANGUAGE_LABEL: &str = "code-toolbox-language";

/// The language of a sandbox's `code_run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CodeLanguage {
    /// Python (the default).
    #[default]
    Python,
    /// TypeScript.
    TypeScript,
    /// JavaScript.
    JavaScript,
}

impl CodeLanguage {
    /// The label value: `python`, `typescript` or `javascript`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CodeLanguage::Python => "python",
            CodeLanguage::TypeScript => "typescript",
            CodeLanguage::JavaScript => "javascript",
        }
    }
}

impl fmt::Display for CodeLanguage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CodeLanguage {
    type Err = Error;

    /// Parses `python`, `typescript` or `javascript`; anything else is a
    /// validation error naming the supported languages.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "python" => Ok(CodeLanguage::Python),
            "typescript" => Ok(CodeLanguage::TypeScript),
            "javascript" => Ok(CodeLanguage::JavaScript),
            other => Err(Error::validation(
                "language",
                format!(
                    "unsupported language {other:?}; supported: python, typescript, javascript"
                ),
            )),
        }
    }
}

/// CPU, GPU, memory and disk of a sandbox built from an image.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Resources {
    /// CPU cores.
    pub cpu: Option<u32>,
    /// GPUs.
    pub gpu: Option<u32>,
    /// Acceptable GPU models, in order of preference.
    pub gpu_type: Vec<GpuType>,
    /// Memory in GiB.
    pub memory: Option<u32>,
    /// Disk in GiB.
    pub disk: Option<u32>,
}

impl Resources {
    /// No explicit resources: the server's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// CPU cores.
    #[must_use]
    pub fn cpu(mut self, cpu: u32) -> Self {
        self.cpu = Some(cpu);
        self
    }

    /// GPUs.
    #[must_use]
    pub fn gpu(mut self, gpu: u32) -> Self {
        self.gpu = Some(gpu);
        self
    }

    /// Adds an acceptable GPU model (the first added is preferred).
    #[must_use]
    pub fn gpu_type(mut self, gpu_type: GpuType) -> Self {
        self.gpu_type.push(gpu_type);
        self
    }

    /// Memory in GiB.
    #[must_use]
    pub fn memory(mut self, gib: u32) -> Self {
        self.memory = Some(gib);
        self
    }

    /// Disk in GiB.
    #[must_use]
    pub fn disk(mut self, gib: u32) -> Self {
        self.disk = Some(gib);
        self
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
enum Source {
    #[default]
    Default,
    Snapshot(String),
    Image(ImageSpec),
}

/// The image a sandbox or snapshot is built from: a registry image name, or
/// (feature `images`) a declarative [`crate::Image`], whose local build
/// contexts are uploaded before the build.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ImageSpec {
    /// A registry image, e.g. `python:3.12-slim`.
    Name(String),
    /// A declarative image.
    #[cfg(feature = "images")]
    Declarative(Box<crate::image::Image>),
}

impl From<&str> for ImageSpec {
    fn from(name: &str) -> Self {
        ImageSpec::Name(name.to_string())
    }
}

impl From<String> for ImageSpec {
    fn from(name: String) -> Self {
        ImageSpec::Name(name)
    }
}

impl From<&String> for ImageSpec {
    fn from(name: &String) -> Self {
        ImageSpec::Name(name.clone())
    }
}

#[cfg(feature = "images")]
impl From<crate::image::Image> for ImageSpec {
    fn from(image: crate::image::Image) -> Self {
        ImageSpec::Declarative(Box::new(image))
    }
}

impl ImageSpec {
    /// Checks what can be checked without the network.
    pub(crate) fn validate(&self) -> Result<()> {
        match self {
            ImageSpec::Name(name) => {
                non_empty("image", name)?;
                if name.contains(['\n', '\r']) {
                    return Err(Error::validation("image", "must be a single line"));
                }
                Ok(())
            }
            #[cfg(feature = "images")]
            ImageSpec::Declarative(_) => Ok(()),
        }
    }

    /// The build info to send: the Dockerfile (`FROM <name>` for a name;
    /// for a declarative image, with `entrypoint` set last when given) and
    /// the hashes of the build contexts, uploaded first when the object
    /// store lacks them.
    pub(crate) fn build_info(
        &self,
        client: &crate::Daytona,
        deadline: crate::transport::poll::Deadline,
        entrypoint: &[String],
    ) -> Result<CreateBuildInfo> {
        let _ = (client, deadline, entrypoint);
        let (dockerfile_content, context_hashes) = match self {
            ImageSpec::Name(name) => (format!("FROM {name}\n"), Vec::new()),
            #[cfg(feature = "images")]
            ImageSpec::Declarative(image) => {
                let hashes = crate::build_context::upload_image_contexts(client, image, deadline)?;
                let dockerfile = if entrypoint.is_empty() {
                    image.dockerfile().to_string()
                } else {
                    (**image)
                        .clone()
                        .entrypoint(entrypoint)
                        .dockerfile()
                        .to_string()
                };
                (dockerfile, hashes)
            }
        };
        Ok(CreateBuildInfo {
            dockerfile_content,
            context_hashes,
        })
    }
}

/// What [`crate::Daytona::create`] creates.
///
/// ```
/// use std::time::Duration;
/// use daytona::{CodeLanguage, CreateSandbox, Resources};
///
/// let from_snapshot = CreateSandbox::from_snapshot("daytonaio/sandbox:0.4.3")
///     .name("worker-1")
///     .env("RUST_LOG", "debug")
///     .label("team", "infra")
///     .auto_stop_interval(30)
///     .timeout(Duration::from_secs(120));
/// let from_image = CreateSandbox::from_image("python:3.12-slim")
///     .language(CodeLanguage::Python)
///     .resources(Resources::new().cpu(2).memory(4))
///     .ephemeral(true);
/// # let _ = (from_snapshot, from_image);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct CreateSandbox {
    source: Source,
    name: Option<String>,
    user: Option<String>,
    language: Option<CodeLanguage>,
    env: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    public: Option<bool>,
    auto_stop_interval: Option<i32>,
    auto_archive_interval: Option<i32>,
    auto_delete_interval: Option<i32>,
    ephemeral: bool,
    volumes: Vec<VolumeMount>,
    network_block_all: Option<bool>,
    network_allow_list: Option<String>,
    domain_allow_list: Option<String>,
    linked_sandbox: Option<String>,
    resources: Option<Resources>,
    pub(crate) timeout: Option<Duration>,
}

impl CreateSandbox {
    /// A sandbox from the organization's default snapshot.
    pub fn new() -> Self {
        Self::default()
    }

    /// A sandbox from the snapshot `name` (name or id).
    pub fn from_snapshot(name: impl Into<String>) -> Self {
        CreateSandbox {
            source: Source::Snapshot(name.into()),
            ..Self::default()
        }
    }

    /// A sandbox built from an image: a registry image name (e.g.
    /// `python:3.12`, sent as the one-line Dockerfile `FROM <image>`) or a
    /// declarative [`crate::Image`] (feature `images`), whose local files
    /// are uploaded first.
    pub fn from_image(image: impl Into<ImageSpec>) -> Self {
        CreateSandbox {
            source: Source::Image(image.into()),
            ..Self::default()
        }
    }

    /// Its name (the server generates one otherwise).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The OS user commands run as.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// The language of `code_run` (default Python), written as the
    /// [`CODE_TOOLBOX_LANGUAGE_LABEL`] label.
    pub fn language(mut self, language: CodeLanguage) -> Self {
        self.language = Some(language);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Sets a label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Whether its HTTP previews are public.
    pub fn public(mut self, public: bool) -> Self {
        self.public = Some(public);
        self
    }

    /// Minutes of inactivity before it stops (0 = never; negative is rejected).
    pub fn auto_stop_interval(mut self, minutes: i32) -> Self {
        self.auto_stop_interval = Some(minutes);
        self
    }

    /// Minutes stopped before it is archived (0 = the maximum; negative is rejected).
    pub fn auto_archive_interval(mut self, minutes: i32) -> Self {
        self.auto_archive_interval = Some(minutes);
        self
    }

    /// Minutes stopped before it is deleted (negative = never, 0 = at once).
    pub fn auto_delete_interval(mut self, minutes: i32) -> Self {
        self.auto_delete_interval = Some(minutes);
        self
    }

    /// Deleted as soon as it stops (forces the auto-delete interval to 0).
    pub fn ephemeral(mut self, ephemeral: bool) -> Self {
        self.ephemeral = ephemeral;
        self
    }

    /// Mounts a volume.
    pub fn volume(mut self, mount: VolumeMount) -> Self {
        self.volumes.push(mount);
        self
    }

    /// Blocks all network access.
    pub fn network_block_all(mut self, block: bool) -> Self {
        self.network_block_all = Some(block);
        self
    }

    /// Comma-separated CIDRs it may reach (at most 10).
    pub fn network_allow_list(mut self, cidrs: impl Into<String>) -> Self {
        self.network_allow_list = Some(cidrs.into());
        self
    }

    /// Comma-separated domains it may reach (wildcards allowed).
    pub fn domain_allow_list(mut self, domains: impl Into<String>) -> Self {
        self.domain_allow_list = Some(domains.into());
        self
    }

    /// Places it on the same runner as the (ephemeral) sandbox `id_or_name`.
    pub fn linked_sandbox(mut self, id_or_name: impl Into<String>) -> Self {
        self.linked_sandbox = Some(id_or_name.into());
        self
    }

    /// CPU, GPU, memory and disk (image-based creates only).
    pub fn resources(mut self, resources: Resources) -> Self {
        self.resources = Some(resources);
        self
    }

    /// The limit of the whole create: request and wait together (default:
    /// the client's wait timeout, 60 s). [`crate::WAIT_FOREVER`] waits
    /// without limit.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Checks the parameters and builds the request body; an image source
    /// is returned apart: its build info is made (and its contexts
    /// uploaded) inside the create's deadline.
    pub(crate) fn into_body(
        self,
        target: Option<&str>,
    ) -> Result<(CreateSandboxBody, Option<ImageSpec>)> {
        non_empty_opt("name", self.name.as_deref())?;
        non_empty_opt("user", self.user.as_deref())?;
        non_empty_opt("linked_sandbox", self.linked_sandbox.as_deref())?;
        if let Some(t) = self.timeout {
            check_timeout(t)?;
        }
        for (field, value) in [
            ("auto_stop_interval", self.auto_stop_interval),
            ("auto_archive_interval", self.auto_archive_interval),
        ] {
            if value.is_some_and(|v| v < 0) {
                return Err(Error::validation(field, "must not be negative"));
            }
        }
        for (i, v) in self.volumes.iter().enumerate() {
            non_empty(&format!("volumes[{i}].volume_id"), &v.volume_id)?;
            non_empty(&format!("volumes[{i}].mount_path"), &v.mount_path)?;
        }
        let mut labels = self.labels;
        let language = match (self.language, labels.get(CODE_TOOLBOX_LANGUAGE_LABEL)) {
            (Some(l), _) => l,
            (None, Some(value)) => value.parse().map_err(|_| {
                Error::validation(
                    format!("labels.{CODE_TOOLBOX_LANGUAGE_LABEL}"),
                    format!(
                        "unsupported language {value:?}; supported: python, typescript, javascript"
                    ),
                )
            })?,
            (None, None) => CodeLanguage::Python,
        };
        labels.insert(CODE_TOOLBOX_LANGUAGE_LABEL.into(), language.as_str().into());
        let auto_delete_interval = if self.ephemeral {
            if self.auto_delete_interval.is_some_and(|v| v != 0) {
                log::warn!("ephemeral sandbox: auto_delete_interval is overridden to 0");
            }
            Some(0)
        } else {
            self.auto_delete_interval
        };
        let (snapshot, image) = match self.source {
            Source::Default => (None, None),
            Source::Snapshot(s) => {
                non_empty("snapshot", &s)?;
                (Some(s), None)
            }
            Source::Image(image) => {
                image.validate()?;
                (None, Some(image))
            }
        };
        let resources = match (self.resources, &image) {
            (Some(_), None) => {
                return Err(Error::validation(
                    "resources",
                    "can only be set when creating from an image; a snapshot fixes them",
                ))
            }
            (r, _) => r.unwrap_or_default(),
        };
        let body = CreateSandboxBody {
            name: self.name,
            snapshot,
            user: self.user,
            env: self.env,
            labels,
            public: self.public,
            network_block_all: self.network_block_all,
            network_allow_list: self.network_allow_list,
            domain_allow_list: self.domain_allow_list,
            target: target.map(str::to_string),
            cpu: resources.cpu,
            gpu: resources.gpu,
            gpu_type: resources.gpu_type,
            memory: resources.memory,
            disk: resources.disk,
            auto_stop_interval: self.auto_stop_interval,
            auto_archive_interval: self.auto_archive_interval,
            auto_delete_interval,
            volumes: self.volumes,
            build_info: None,
            linked_sandbox: self.linked_sandbox,
        };
        Ok((body, image))
    }
}

pub(crate) fn non_empty(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        Err(Error::validation(field, "must not be empty"))
    } else {
        Ok(())
    }
}

/// A value sent as one segment of a URL path (an id, a name): not empty,
/// and not `.` or `..`, which URLs resolve against the path before them
/// whatever their encoding.
pub(crate) fn path_segment(field: &str, value: &str) -> Result<()> {
    non_empty(field, value)?;
    if crate::transport::request::is_dot_segment(value) {
        return Err(Error::validation(
            field,
            format!("{value:?} cannot be sent in a URL path"),
        ));
    }
    Ok(())
}

/// A page size the API accepts: 1 to 200.
pub(crate) fn check_page_limit(limit: u32) -> Result<()> {
    if (1..=200).contains(&limit) {
        Ok(())
    } else {
        Err(Error::validation(
            "limit",
            format!("must be 1 to 200, got {limit}"),
        ))
    }
}

/// A wait limit: more than zero ([`crate::WAIT_FOREVER`] for none).
pub(crate) fn check_timeout(timeout: Duration) -> Result<()> {
    if timeout.is_zero() {
        Err(Error::validation(
            "timeout",
            "must be more than zero (WAIT_FOREVER waits without limit)",
        ))
    } else {
        Ok(())
    }
}

fn non_empty_opt(field: &str, value: Option<&str>) -> Result<()> {
    value.map_or(Ok(()), |v| non_empty(field, v))
}

/// The body of `POST /sandbox` (`CreateSandbox`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateSandboxBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    env: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network_block_all: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network_allow_list: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain_allow_list: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    gpu_type: Vec<GpuType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disk: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_stop_interval: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_archive_interval: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_delete_interval: Option<i32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volumes: Vec<VolumeMount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) build_info: Option<CreateBuildInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    linked_sandbox: Option<String>,
}

/// `CreateBuildInfo`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateBuildInfo {
    pub(crate) dockerfile_content: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) context_hashes: Vec<String>,
}

/// New network rules of a sandbox; at least one must be set.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[must_use]
pub struct NetworkSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    network_block_all: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network_allow_list: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain_allow_list: Option<String>,
}

impl NetworkSettings {
    /// No change yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Blocks (or unblocks) all network access.
    pub fn block_all(mut self, block: bool) -> Self {
        self.network_block_all = Some(block);
        self
    }

    /// Comma-separated CIDRs the sandbox may reach.
    pub fn allow_list(mut self, cidrs: impl Into<String>) -> Self {
        self.network_allow_list = Some(cidrs.into());
        self
    }

    /// Comma-separated domains the sandbox may reach.
    pub fn domain_allow_list(mut self, domains: impl Into<String>) -> Self {
        self.domain_allow_list = Some(domains.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self == &Self::default() {
            return Err(Error::validation(
                "network_settings",
                "set at least one of block_all, allow_list, domain_allow_list",
            ));
        }
        Ok(())
    }
}

/// New resources of a sandbox (`ResizeSandbox`); at least one must be set.
/// Disk can only grow.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[must_use]
pub struct Resize {
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disk: Option<u32>,
}

impl Resize {
    /// No change yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// CPU cores (at least 1).
    pub fn cpu(mut self, cpu: u32) -> Self {
        self.cpu = Some(cpu);
        self
    }

    /// Memory in GiB (at least 1).
    pub fn memory(mut self, gib: u32) -> Self {
        self.memory = Some(gib);
        self
    }

    /// Disk in GiB (at least 1; can only grow).
    pub fn disk(mut self, gib: u32) -> Self {
        self.disk = Some(gib);
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self == &Self::default() {
            return Err(Error::validation(
                "resize",
                "set at least one of cpu, memory, disk",
            ));
        }
        for (field, v) in [
            ("cpu", self.cpu),
            ("memory", self.memory),
            ("disk", self.disk),
        ] {
            if v == Some(0) {
                return Err(Error::validation(field, "must be at least 1"));
            }
        }
        Ok(())
    }
}

/// Labels as a map (used by [`crate::Sandbox::set_labels`]).
pub type Labels = HashMap<String, String>;
