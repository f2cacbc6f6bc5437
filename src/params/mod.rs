//! Descriptions of what to do: the parameters of sandbox, listing and
//! snapshot operations, plain values with `Default` and chainable setters,
//! checked before any request is sent. Nothing here knows the client or
//! the network.

pub(crate) mod list;
pub(crate) mod sandbox;
pub(crate) mod snapshot;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::models::GpuType;

/// The label that tells the toolbox which language `code_run` uses.
pub const CODE_TOOLBOX_LANGUAGE_LABEL: &str = "code-toolbox-language";

/// The language of a sandbox's `code_run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
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

/// CPU, GPU, memory and disk of a sandbox built from an image (unset: the
/// server's defaults).
///
/// ```
/// use daytona::{GpuType, Resources};
///
/// let resources = Resources::new().cpu(4).memory(8).disk(20).gpu(1).gpu_type(GpuType::H100);
/// # let _ = resources;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct Resources {
    pub(crate) cpu: Option<u32>,
    pub(crate) gpu: Option<u32>,
    pub(crate) gpu_type: Vec<GpuType>,
    pub(crate) memory: Option<u32>,
    pub(crate) disk: Option<u32>,
}

impl Resources {
    /// No explicit resources: the server's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// CPU cores.
    pub fn cpu(mut self, cpu: u32) -> Self {
        self.cpu = Some(cpu);
        self
    }

    /// GPUs.
    pub fn gpu(mut self, gpu: u32) -> Self {
        self.gpu = Some(gpu);
        self
    }

    /// Adds an acceptable GPU model (the first added is preferred).
    pub fn gpu_type(mut self, gpu_type: GpuType) -> Self {
        self.gpu_type.push(gpu_type);
        self
    }

    /// Memory in GiB.
    pub fn memory(mut self, gib: u32) -> Self {
        self.memory = Some(gib);
        self
    }

    /// Disk in GiB.
    pub fn disk(mut self, gib: u32) -> Self {
        self.disk = Some(gib);
        self
    }
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
            ImageSpec::Name(name) => crate::check::image_name("image", name),
            #[cfg(feature = "images")]
            ImageSpec::Declarative(image) => image.check(),
        }
    }

    /// The Dockerfile to build: `FROM <name>` for a registry image, the
    /// declarative image's text otherwise.
    pub(crate) fn dockerfile(&self) -> String {
        match self {
            ImageSpec::Name(name) => format!("FROM {name}\n"),
            #[cfg(feature = "images")]
            ImageSpec::Declarative(image) => image.dockerfile().to_string(),
        }
    }
}

/// Key-value pairs (of a map setter: `envs`, `labels`, ...) as strings.
pub(crate) fn string_pairs(
    pairs: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
) -> impl Iterator<Item = (String, String)> {
    pairs.into_iter().map(|(k, v)| (k.into(), v.into()))
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

impl SortOrder {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        }
    }
}

/// `CreateBuildInfo`. `Debug` hides the values of the Dockerfile's `ENV`
/// instructions.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateBuildInfo {
    dockerfile_content: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) context_hashes: Vec<String>,
}

impl std::fmt::Debug for CreateBuildInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateBuildInfo")
            .field(
                "dockerfile_content",
                &crate::config::EnvHidden(&self.dockerfile_content),
            )
            .field("context_hashes", &self.context_hashes)
            .finish()
    }
}

impl CreateBuildInfo {
    /// The build of `dockerfile`, its contexts not yet known.
    pub(crate) fn new(dockerfile: String) -> Self {
        CreateBuildInfo {
            dockerfile_content: dockerfile,
            context_hashes: Vec::new(),
        }
    }
}

/// Network rules of a sandbox: of a new one
/// ([`CreateSandbox::network`](crate::CreateSandbox::network)) or new rules
/// of an existing one ([`crate::Sandbox::update_network_settings`], which
/// needs at least one set).
///
/// ```
/// use daytona::{CreateSandbox, NetworkSettings};
///
/// let params = CreateSandbox::new().network(
///     NetworkSettings::new()
///         .allow_list("10.0.0.0/8,192.168.1.0/24")
///         .domain_allow_list("*.example.com"),
/// );
/// # let _ = params;
/// ```
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

    /// Comma-separated CIDRs the sandbox may reach (at most 10).
    pub fn allow_list(mut self, cidrs: impl Into<String>) -> Self {
        self.network_allow_list = Some(cidrs.into());
        self
    }

    /// Comma-separated domains the sandbox may reach (wildcards allowed).
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

    /// Whether `info` has every resource this asks for.
    pub(crate) fn shows_in(&self, info: &crate::models::SandboxInfo) -> bool {
        [
            (self.cpu, info.cpu),
            (self.memory, info.memory),
            (self.disk, info.disk),
        ]
        .iter()
        .all(|(asked, has)| asked.is_none_or(|a| a == *has))
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
