//! Build contexts of declarative images, uploaded to Daytona's
//! S3-compatible object store.
//!
//! `GET /object-storage/push-access` gives short-lived store credentials.
//! Each context is stored once, as `<organizationId>/<hash>/context.tar` in
//! the bucket (path-style URL): a signed `HEAD` tells whether it is there
//! (a 403 counts as missing), and a signed `PUT` streams the uncompressed
//! tar otherwise, with its exact `Content-Length` (S3 and MinIO refuse a
//! chunked `PUT`) and an unsigned payload, signed with this machine's time
//! or, when it is far off, the API's (see `Clock`). These requests share
//! the client's connection pool, timeouts and
//! retries, but never carry the Daytona credentials; the store's secret key
//! is never sent at all, and neither it nor the session token appears in
//! `Debug` output, logs or errors.

pub(crate) mod sigv4;
pub(crate) mod tar;

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use percent_encoding::{percent_decode_str, percent_encode};
use serde::Deserialize;
use ureq::http::Method;
use url::Url;

use self::sigv4::{Credentials, Unsigned, UNSIGNED_PAYLOAD};
pub(crate) use self::tar::TarEntry;
use self::tar::TarPlan;
use crate::check::is_dot_segment;
use crate::config::secret::REDACTED;
use crate::config::{base_url, shown_url, Secret};
use crate::error::{Error, Result};
use crate::image::{BuildContext, Image};
use crate::transport::poll::Deadline;
use crate::transport::request::{push_segments, SEGMENT};
use crate::transport::{decode, Request, Transport};

/// The bucket when push access names none.
const DEFAULT_BUCKET: &str = "daytona-volume-builds";
/// The signing region of a store that is not an `*.amazonaws.com` host.
const DEFAULT_REGION: &str = "us-east-1";
/// The object name of a context, under `<organizationId>/<hash>/`.
const OBJECT_NAME: &str = "context.tar";
const TAR_TYPE: &str = "application/x-tar";

/// What an upload needs of the client: its transport, the API that hands
/// out push access, and the time one upload may take.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Uploader<'a> {
    pub(crate) transport: &'a Transport,
    pub(crate) api_url: &'a Url,
    pub(crate) transfer_timeout: Duration,
}

/// One build context to upload: its hash, which names the object, and its
/// entries in archive order (directories before their contents).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ContextUpload {
    /// The context hash (hex MD5, see the image module).
    pub(crate) hash: String,
    /// What the archive holds.
    pub(crate) entries: Vec<TarEntry>,
    /// The archive path the context hash starts with: when set, the tar is
    /// hashed as it is sent and the upload fails when that hash is not
    /// `hash` (the context changed after it was hashed).
    pub(crate) verify: Option<String>,
}

/// Makes sure every context is in the object store and returns their
/// hashes, in order, for `buildInfo.contextHashes`.
///
/// Fetches push access once (nothing at all when `contexts` is empty),
/// then per distinct hash: a `HEAD` of its object, and a `PUT` of its tar
/// when the object is missing (a hash met again is neither checked nor
/// sent again, but listed again). Every request stays inside `deadline`,
/// and so does reading the files of a tar; an upload may take up to the
/// client's transfer timeout.
pub(crate) fn upload_contexts(
    up: &Uploader<'_>,
    contexts: &[ContextUpload],
    deadline: Deadline,
) -> Result<Vec<String>> {
    if contexts.is_empty() {
        return Ok(Vec::new());
    }
    if contexts.iter().any(|c| c.hash.is_empty()) {
        return Err(Error::validation("context", "a context hash is empty"));
    }
    let (access, clock) = push_access(up, deadline)?;
    let store = Store::new(access, clock)?;
    let mut hashes: Vec<String> = Vec::with_capacity(contexts.len());
    for context in contexts {
        if hashes.contains(&context.hash) {
            log::debug!("build context {} is listed again", context.hash);
        } else if store.exists(up, &context.hash, deadline)? {
            log::debug!("build context {} is already uploaded", context.hash);
        } else {
            store.upload(up, context, deadline)?;
        }
        hashes.push(context.hash.clone());
    }
    Ok(hashes)
}

/// Uploads the build contexts of `image` and returns their hashes, one per
/// context in order (a context listed twice, as two `COPY . /app` lines
/// make, is listed twice), as the other SDKs send them.
///
/// Each distinct context is walked once, hashed and listed for its tar in
/// the same walk, and uploaded once. The walk and the hash stop with an
/// [`Error::Timeout`] past `deadline`.
pub(crate) fn upload_image_contexts(
    up: &Uploader<'_>,
    image: &Image,
    deadline: Deadline,
) -> Result<Vec<String>> {
    let mut done: HashMap<&BuildContext, String> = HashMap::new();
    let mut uploads = Vec::new();
    let mut hashes = Vec::with_capacity(image.contexts().len());
    for context in image.contexts() {
        if let Some(hash) = done.get(context) {
            hashes.push(hash.clone());
            continue;
        }
        let (hash, entries) = context.hashed_archive(&deadline)?;
        // Two contexts of one hash are sent once (`upload_contexts`).
        uploads.push(ContextUpload {
            hash: hash.clone(),
            entries,
            verify: Some(context.archive_path.clone()),
        });
        done.insert(context, hash.clone());
        hashes.push(hash);
    }
    upload_contexts(up, &uploads, deadline)?;
    Ok(hashes)
}

/// `StorageAccessDto`: temporary credentials for the object store
/// (`Debug` hides the secret key, the session token and any credentials
/// in the storage URL).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PushAccess {
    access_key: String,
    secret: Secret,
    session_token: Secret,
    storage_url: String,
    organization_id: String,
    #[serde(default)]
    bucket: Option<String>,
}

impl std::fmt::Debug for PushAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushAccess")
            .field("access_key", &self.access_key)
            .field("secret", &self.secret)
            .field("session_token", &self.session_token)
            .field("storage_url", &shown_url(&self.storage_url))
            .field("organization_id", &self.organization_id)
            .field("bucket", &self.bucket)
            .finish()
    }
}

/// `GET /object-storage/push-access`, and the clock its answer's `Date`
/// sets. An undecodable answer's excerpt is dropped from the error (and so
/// from the retry log): it may hold the credentials.
fn push_access(up: &Uploader<'_>, deadline: Deadline) -> Result<(PushAccess, Clock)> {
    let req = Request::new(Method::GET, up.api_url, &["object-storage", "push-access"])
        .deadline(deadline);
    let op = req.operation().to_string();
    up.transport.read(req, |headers, body| {
        let date = headers
            .get("date")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        let clock = Clock::new(date, SystemTime::now());
        let access = decode(&body, &op).map_err(|e| match e {
            Error::Decode {
                operation, message, ..
            } => Error::Decode {
                operation,
                message,
                excerpt: REDACTED.to_string(),
            },
            other => other,
        })?;
        Ok((access, clock))
    })
}

/// Farthest this machine's clock may be from the API's before requests
/// to the store are signed with the API's time (a store refuses a
/// signature more than 15 minutes off).
const MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// The time store requests are signed with: this machine's, moved to the
/// API's when the two are more than [`MAX_SKEW`] apart (a virtual machine
/// or container whose clock drifted would otherwise have every upload
/// refused with `RequestTimeTooSkewed`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Clock {
    /// The API's clock is ahead of this machine's by this much ...
    ahead: Duration,
    /// ... or behind it by this much.
    behind: Duration,
}

impl Clock {
    /// The clock of an answer dated `date` (its `Date` header) received at
    /// `local`.
    fn new(date: Option<SystemTime>, local: SystemTime) -> Clock {
        let Some(date) = date else {
            return Clock::default();
        };
        let clock = match date.duration_since(local) {
            Ok(ahead) => Clock {
                ahead,
                behind: Duration::ZERO,
            },
            Err(e) => Clock {
                ahead: Duration::ZERO,
                behind: e.duration(),
            },
        };
        if clock.ahead.max(clock.behind) <= MAX_SKEW {
            return Clock::default();
        }
        log::warn!(
            "this machine's clock is {} s {} the API's: build contexts are signed with the API's time",
            clock.ahead.max(clock.behind).as_secs(),
            if clock.ahead > Duration::ZERO { "behind" } else { "ahead of" },
        );
        clock
    }

    /// The time to sign with now.
    fn now(&self) -> SystemTime {
        let local = SystemTime::now();
        local
            .checked_add(self.ahead)
            .and_then(|t| t.checked_sub(self.behind))
            .unwrap_or(local)
    }
}

/// The object store as push access describes it.
#[derive(Debug)]
struct Store {
    access: PushAccess,
    base: Url,
    /// The `Host` header: host, and port unless the scheme's default.
    host: String,
    region: String,
    bucket: String,
    clock: Clock,
}

impl Store {
    fn new(access: PushAccess, clock: Clock) -> Result<Self> {
        let raw = access.storage_url.trim();
        // The API documents bare host names (`storage.example.com`).
        let raw = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("https://{raw}")
        };
        // The server's data: what cannot be used is a decode error.
        let unusable = |message: String| Error::Decode {
            operation: "GET /object-storage/push-access".into(),
            message,
            excerpt: String::new(),
        };
        // Never the credentials a URL may hold.
        let base = base_url(&raw)
            .map_err(|why| unusable(format!("its storageUrl {:?} {why}", shown_url(&raw))))?;
        // The first folder of every key: empty, or `.` or `..` (which no
        // URL path can carry), it would name no object of the organization.
        let org = access.organization_id.as_str();
        if org.trim().is_empty() || is_dot_segment(org) {
            return Err(unusable(format!(
                "its organizationId {org:?} cannot name the folder of an object"
            )));
        }
        let base = canonical_base(base);
        // As `Host` is sent: the port only when it is not the scheme's.
        let mut host = base.host_str().unwrap_or_default().to_string();
        if let Some(port) = base.port() {
            host = format!("{host}:{port}");
        }
        let bucket = match access.bucket.as_deref().map(str::trim) {
            Some(b) if !b.is_empty() => b.to_string(),
            _ => DEFAULT_BUCKET.to_string(),
        };
        Ok(Store {
            region: region(&host),
            access,
            base,
            host,
            bucket,
            clock,
        })
    }

    /// A signed request for the object of context `hash`. `content_type`
    /// is signed here and sent by the body. The path is encoded once, and
    /// what is signed is the path of the URL that is sent.
    fn request(
        &self,
        method: Method,
        hash: &str,
        content_type: Option<&str>,
    ) -> Result<Request<'static>> {
        let segments = [
            self.bucket.as_str(),
            self.access.organization_id.as_str(),
            hash,
            OBJECT_NAME,
        ];
        let mut url = self.base.clone();
        push_segments(&mut url, &segments)?;
        let amz_date = sigv4::amz_date(self.clock.now());
        let sent = [
            ("host", self.host.as_str()),
            ("x-amz-content-sha256", UNSIGNED_PAYLOAD),
            ("x-amz-date", amz_date.as_str()),
            ("x-amz-security-token", self.access.session_token.expose()),
        ];
        let mut signed = sent.to_vec();
        signed.extend(content_type.map(|t| ("content-type", t)));
        let authorization = sigv4::authorization(
            &Unsigned {
                method: method.as_str(),
                path: url.path(),
                query: "",
                headers: &signed,
                payload_hash: UNSIGNED_PAYLOAD,
            },
            &Credentials {
                access_key: &self.access.access_key,
                secret_key: self.access.secret.expose(),
            },
            &self.region,
            "s3",
            &amz_date,
        );
        let secrets = vec![
            self.access.secret.clone(),
            self.access.session_token.clone(),
        ];
        let mut req = Request::to_url(method, url)
            .without_credentials()
            .hide(secrets)
            .header("Authorization", authorization);
        for (name, value) in sent {
            req = req.header(name, value);
        }
        Ok(req)
    }

    /// Whether the object of `hash` is there (`HEAD`: 2xx yes, 404 no).
    /// A 403 is a no too: S3 answers so for a missing object to
    /// credentials that may not list the whole bucket, which push access
    /// need not allow (the other SDKs list a prefix instead). A store that
    /// refuses the credentials refuses the `PUT` as well, with a body that
    /// says why (a `HEAD` answer has none).
    fn exists(&self, up: &Uploader<'_>, hash: &str, deadline: Deadline) -> Result<bool> {
        let req = self.request(Method::HEAD, hash, None)?.deadline(deadline);
        match up.transport.empty(req) {
            Ok(()) => Ok(true),
            Err(e) if e.status() == Some(404) => Ok(false),
            Err(e) if e.status() == Some(403) => {
                log::debug!("build context {hash}: its check was refused (403); uploading it");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Streams the tar of `context` to its object.
    fn upload(&self, up: &Uploader<'_>, context: &ContextUpload, deadline: Deadline) -> Result<()> {
        let mut plan = TarPlan::new(&context.entries, deadline)?;
        if let Some(seed) = &context.verify {
            plan = plan.verified(seed, &context.hash);
        }
        let size = plan.size();
        log::debug!("uploading build context {} ({size} bytes)", context.hash);
        let req = self
            .request(Method::PUT, &context.hash, Some(TAR_TYPE))?
            .header("Content-Length", size.to_string())
            .stream(TAR_TYPE, plan.into_reader())
            .timeout(up.transfer_timeout)
            .deadline(deadline);
        // Past the deadline, whether the store or the files were too slow.
        up.transport.empty(req).map_err(|e| {
            if e.is_timeout() && deadline.remaining() == Some(Duration::ZERO) {
                deadline.timeout_error(format!("uploading the build context {}", context.hash))
            } else {
                e
            }
        })
    }
}

/// `url` with its path in SigV4's canonical form, each segment decoded and
/// encoded again as the store does when it checks a signature: the URL
/// parser leaves `+`, `(`, `'`, a lower-case escape and others as they are
/// written, and the path signed must be the one the store computes.
fn canonical_base(mut url: Url) -> Url {
    let path = url
        .path()
        .split('/')
        .map(|segment| {
            let decoded: Vec<u8> = percent_decode_str(segment).collect();
            percent_encode(&decoded, SEGMENT).to_string()
        })
        .collect::<Vec<_>>()
        .join("/");
    // Only unreserved characters, `%XX` and `/`: `set_path` keeps it.
    url.set_path(&path);
    url
}

/// The signing region: `<region>` of an `s3.<region>.amazonaws.com` or
/// `s3-<region>.amazonaws.com` host, else `us-east-1` (as the TypeScript
/// SDK's `/s3[.-]([a-z0-9-]+)\.amazonaws\.com/`).
fn region(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    for (i, _) in host.match_indices("s3") {
        let Some(rest) = host[i + 2..].strip_prefix(['.', '-']) else {
            continue;
        };
        let end = rest
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
            .unwrap_or(rest.len());
        if end > 0 && rest[end..].starts_with(".amazonaws.com") {
            return rest[..end].to_string();
        }
    }
    DEFAULT_REGION.to_string()
}

#[cfg(test)]
mod tests;
