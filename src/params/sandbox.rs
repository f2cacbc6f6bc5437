//! What [`crate::Daytona::create`] creates, and its request body.

use crate::config::names_only;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::string_pairs;
use super::{
    CodeLanguage, CreateBuildInfo, ImageSpec, NetworkSettings, Resources,
    CODE_TOOLBOX_LANGUAGE_LABEL,
};
use crate::check::{self, non_empty, non_empty_opt};
use crate::error::{Error, Result};
use crate::models::{GpuType, VolumeMount};

#[derive(Debug, Clone, Default, PartialEq)]
enum Source {
    #[default]
    Default,
    Snapshot(String),
    Image(ImageSpec),
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
///
/// `Debug` hides the values of the environment variables.
#[derive(Clone, Default, PartialEq)]
#[must_use]
pub struct CreateSandbox {
    source: Source,
    name: Option<String>,
    user: Option<String>,
    language: Option<CodeLanguage>,
    env: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    public: Option<bool>,
    auto_stop_interval: Option<u32>,
    auto_archive_interval: Option<u32>,
    auto_delete_interval: Option<i32>,
    ephemeral: bool,
    volumes: Vec<VolumeMount>,
    network: NetworkSettings,
    linked_sandbox: Option<String>,
    resources: Option<Resources>,
    timeout: Option<Duration>,
}

impl fmt::Debug for CreateSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every field; the environment's values hidden.
        let CreateSandbox {
            source,
            name,
            user,
            language,
            env,
            labels,
            public,
            auto_stop_interval,
            auto_archive_interval,
            auto_delete_interval,
            ephemeral,
            volumes,
            network,
            linked_sandbox,
            resources,
            timeout,
        } = self;
        f.debug_struct("CreateSandbox")
            .field("source", source)
            .field("name", name)
            .field("user", user)
            .field("language", language)
            .field("env", &names_only(env))
            .field("labels", labels)
            .field("public", public)
            .field("auto_stop_interval", auto_stop_interval)
            .field("auto_archive_interval", auto_archive_interval)
            .field("auto_delete_interval", auto_delete_interval)
            .field("ephemeral", ephemeral)
            .field("volumes", volumes)
            .field("network", network)
            .field("linked_sandbox", linked_sandbox)
            .field("resources", resources)
            .field("timeout", timeout)
            .finish()
    }
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

    /// Sets an environment variable. A name that is empty or holds `=` or
    /// a NUL, or a value holding a NUL, fails the create with an
    /// [`Error::Validation`] (field `env`) before any request.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Sets environment variables: pairs, a map, ...
    pub fn envs(
        mut self,
        vars: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        self.env.extend(string_pairs(vars));
        self
    }

    /// Sets a label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Sets labels: pairs, a map, ...
    pub fn labels(
        mut self,
        labels: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        self.labels.extend(string_pairs(labels));
        self
    }

    /// Whether its HTTP previews are public.
    pub fn public(mut self, public: bool) -> Self {
        self.public = Some(public);
        self
    }

    /// Minutes of inactivity before it stops (0 = never).
    pub fn auto_stop_interval(mut self, minutes: u32) -> Self {
        self.auto_stop_interval = Some(minutes);
        self
    }

    /// Minutes stopped before it is archived (0 = the maximum).
    pub fn auto_archive_interval(mut self, minutes: u32) -> Self {
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

    /// Mounts a volume. Its mount path must be absolute, not the root,
    /// without `.`, `..` or doubled slashes, and outside the system
    /// folders (`/proc`, `/sys`, `/dev`, `/boot`, `/etc`, `/bin`, `/sbin`,
    /// `/lib`, `/lib64`); its subpath, if any, relative without `..` or
    /// doubled slashes: the API refuses others, and so does
    /// [`crate::Daytona::create`], before any request.
    pub fn volume(mut self, mount: VolumeMount) -> Self {
        self.volumes.push(mount);
        self
    }

    /// Its network rules: all access blocked, or the CIDRs and domains it
    /// may reach.
    pub fn network(mut self, network: NetworkSettings) -> Self {
        self.network = network;
        self
    }

    /// Places it on the same runner as the sandbox `id_or_name`, so that
    /// they share a local network. The API links only an ephemeral new
    /// sandbox: without [`CreateSandbox::ephemeral`] (or an auto-delete
    /// interval of 0) the create fails with an [`Error::Validation`]
    /// (field `linked_sandbox`) before any request.
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

    /// The limit of the whole create, when set.
    pub(crate) fn limit(&self) -> Option<Duration> {
        self.timeout
    }

    /// Checks the parameters and builds the request body. An image source
    /// is returned too: the body's build info has its Dockerfile but not
    /// yet the hashes of its build contexts, which are uploaded first
    /// (inside the create's deadline).
    pub(crate) fn into_body(
        self,
        target: Option<&str>,
    ) -> Result<(CreateSandboxBody, Option<ImageSpec>)> {
        non_empty_opt("name", self.name.as_deref())?;
        non_empty_opt("user", self.user.as_deref())?;
        non_empty_opt("linked_sandbox", self.linked_sandbox.as_deref())?;
        if let Some(t) = self.timeout {
            check::timeout(t)?;
        }
        check::env_vars("env", &self.env)?;
        for (i, v) in self.volumes.iter().enumerate() {
            non_empty(&format!("volumes[{i}].volume_id"), &v.volume_id)?;
            mount_path(&format!("volumes[{i}].mount_path"), &v.mount_path)?;
            if let Some(subpath) = &v.subpath {
                mount_subpath(&format!("volumes[{i}].subpath"), subpath)?;
            }
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
        for (field, minutes) in [
            ("auto_stop_interval", self.auto_stop_interval),
            ("auto_archive_interval", self.auto_archive_interval),
        ] {
            check::minutes(field, minutes.unwrap_or(0).into())?;
        }
        let auto_delete_interval = if self.ephemeral {
            if self.auto_delete_interval.is_some_and(|v| v != 0) {
                log::warn!("ephemeral sandbox: auto_delete_interval is overridden to 0");
            }
            Some(0)
        } else {
            self.auto_delete_interval
        };
        if self.linked_sandbox.is_some() && auto_delete_interval != Some(0) {
            return Err(Error::validation(
                "linked_sandbox",
                "only an ephemeral sandbox can be linked: set ephemeral(true) or \
                 auto_delete_interval(0)",
            ));
        }
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
            network: self.network,
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
            build_info: image
                .as_ref()
                .map(|image| CreateBuildInfo::new(image.dockerfile())),
            linked_sandbox: self.linked_sandbox,
        };
        Ok((body, image))
    }
}

/// Folders of the sandbox a volume cannot be mounted on (nor under).
const SYSTEM_DIRS: [&str; 9] = [
    "/proc", "/sys", "/dev", "/boot", "/etc", "/bin", "/sbin", "/lib", "/lib64",
];

/// A mount path the API takes: absolute, not the root, without `.` or `..`
/// components or doubled slashes, outside the system folders.
fn mount_path(field: &str, path: &str) -> Result<()> {
    let why = if !path.starts_with('/') {
        "must be an absolute path"
    } else if path == "/" || path == "//" {
        "cannot be the root folder"
    } else if path.split('/').any(|c| c == "." || c == "..") {
        "cannot hold `.` or `..` components"
    } else if path[1..].contains("//") {
        "cannot hold consecutive slashes"
    } else if SYSTEM_DIRS.iter().any(|d| {
        path.strip_prefix(d)
            .is_some_and(|r| r.is_empty() || r.starts_with('/'))
    }) {
        "cannot be a system folder (/proc, /sys, /dev, /boot, /etc, /bin, /sbin, /lib, /lib64) or under one"
    } else {
        return Ok(());
    };
    Err(Error::validation(field, format!("{path:?} {why}")))
}

/// A subpath the API takes (an object-store key prefix): empty (the whole
/// volume), or relative without `..` or doubled slashes.
fn mount_subpath(field: &str, subpath: &str) -> Result<()> {
    let why = if subpath.starts_with('/') {
        "must be relative (a key prefix in the volume)"
    } else if subpath.contains("..") {
        "cannot hold `..`"
    } else if subpath.contains("//") {
        "cannot hold consecutive slashes"
    } else {
        return Ok(());
    };
    Err(Error::validation(field, format!("{subpath:?} {why}")))
}

/// The body of `POST /sandbox` (`CreateSandbox`). No `Debug`: it holds
/// the environment's values.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateSandboxBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) env: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public: Option<bool>,
    #[serde(flatten)]
    network: NetworkSettings,
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
    auto_stop_interval: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_archive_interval: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_delete_interval: Option<i32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volumes: Vec<VolumeMount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) build_info: Option<CreateBuildInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    linked_sandbox: Option<String>,
}
