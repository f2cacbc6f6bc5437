//! `/files/...` on the sandbox's directory, with the multipart formats of
//! bulk uploads and downloads.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::super::server::{Request, Response};
use super::super::{error, new_id};
use super::{body_json, file_time, Sandbox, HOME};

/// Routes `/files/...` (`rest` follows `files`).
pub(super) fn handle(sb: &Sandbox<'_>, req: &Request, rest: &[&str]) -> Response {
    let result = match (req.method.as_str(), rest) {
        ("GET", []) => list(sb, req),
        ("GET", ["info"]) => path(sb, req, "path").and_then(|p| info(sb, &p)),
        ("POST", ["folder"]) => folder(sb, req),
        ("DELETE", []) => delete(sb, req),
        ("POST", ["move"]) => move_file(sb, req),
        ("GET", ["find"]) => find(sb, req),
        ("GET", ["search"]) => search(sb, req),
        ("POST", ["replace"]) => replace(sb, req),
        ("POST", ["permissions"]) => permissions(sb, req),
        ("POST", ["bulk-upload"]) => bulk_upload(sb, req),
        ("POST", ["upload"]) => upload(sb, req),
        ("POST", ["bulk-download"]) => bulk_download(sb, req),
        ("GET", ["download"]) => download(sb, req),
        (m, _) => Err(error(
            501,
            &format!("{m} /files/{} is not simulated", rest.join("/")),
        )),
    };
    result.unwrap_or_else(|r| r)
}

type Answer = Result<Response, Response>;

fn io_error(path: &str, e: &std::io::Error) -> Response {
    let status = match e.kind() {
        std::io::ErrorKind::NotFound => 404,
        std::io::ErrorKind::AlreadyExists => 409,
        std::io::ErrorKind::PermissionDenied => 403,
        _ => 400,
    };
    error(status, &format!("{path}: {e}"))
}

/// The host path of the query parameter `name`.
fn path(sb: &Sandbox<'_>, req: &Request, name: &str) -> Result<PathBuf, Response> {
    match req.param(name).filter(|p| !p.is_empty()) {
        Some(p) => sb.resolve(p),
        None => Err(error(400, &format!("{name} is required"))),
    }
}

fn info_json(name: String, p: &Path) -> std::io::Result<Value> {
    let meta = fs::metadata(p)?;
    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o7777
    };
    #[cfg(not(unix))]
    let mode = if meta.permissions().readonly() {
        0o444
    } else {
        0o644
    };
    let bits: String = (0..9)
        .map(|i| {
            let on = mode & (0o400 >> i) != 0;
            match (on, i % 3) {
                (false, _) => '-',
                (true, 0) => 'r',
                (true, 1) => 'w',
                _ => 'x',
            }
        })
        .collect();
    let kind = if meta.is_dir() { 'd' } else { '-' };
    let modified = file_time(meta.modified());
    Ok(json!({
        "name": name, "isDir": meta.is_dir(), "size": meta.len(),
        "mode": format!("{kind}{bits}"), "permissions": format!("{mode:04o}"),
        "owner": "daytona", "group": "daytona",
        "modTime": modified, "modifiedAt": modified,
    }))
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "/".into())
}

fn info(sb: &Sandbox<'_>, p: &Path) -> Answer {
    let v = info_json(name_of(p), p).map_err(|e| io_error(&sb.virtual_path(p), &e))?;
    Ok(Response::json(200, &v))
}

fn list(sb: &Sandbox<'_>, req: &Request) -> Answer {
    let dir = match req.param("path").filter(|p| !p.is_empty()) {
        Some(p) => sb.resolve(p)?,
        None => sb.resolve(HOME)?,
    };
    let err = |e: std::io::Error| io_error(&sb.virtual_path(&dir), &e);
    let mut items = Vec::new();
    for entry in fs::read_dir(&dir).map_err(err)? {
        let entry = entry.map_err(err)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Ok(v) = info_json(name, &entry.path()) {
            items.push(v);
        }
    }
    items.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Ok(Response::json(200, &json!(items)))
}

fn folder(sb: &Sandbox<'_>, req: &Request) -> Answer {
    let p = path(sb, req, "path")?;
    fs::create_dir_all(&p).map_err(|e| io_error(&sb.virtual_path(&p), &e))?;
    if let Some(mode) = req.param("mode") {
        set_mode(sb, &p, mode)?;
    }
    Ok(Response::empty(201))
}

fn set_mode(sb: &Sandbox<'_>, p: &Path, mode: &str) -> Result<(), Response> {
    let bits =
        u32::from_str_radix(mode, 8).map_err(|_| error(400, &format!("invalid mode {mode:?}")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(p, fs::Permissions::from_mode(bits))
            .map_err(|e| io_error(&sb.virtual_path(p), &e))?;
    }
    #[cfg(not(unix))]
    let _ = (sb, p, bits);
    Ok(())
}

fn delete(sb: &Sandbox<'_>, req: &Request) -> Answer {
    let p = path(sb, req, "path")?;
    let v = sb.virtual_path(&p);
    if p == sb.root {
        return Err(error(400, "refusing to delete /"));
    }
    let meta = fs::symlink_metadata(&p).map_err(|e| io_error(&v, &e))?;
    let result = if meta.is_dir() {
        if req.param("recursive") == Some("true") {
            fs::remove_dir_all(&p)
        } else {
            fs::remove_dir(&p)
        }
    } else {
        fs::remove_file(&p)
    };
    result.map_err(|e| io_error(&v, &e))?;
    Ok(Response::empty(204))
}

fn move_file(sb: &Sandbox<'_>, req: &Request) -> Answer {
    let from = path(sb, req, "source")?;
    let to = path(sb, req, "destination")?;
    fs::rename(&from, &to).map_err(|e| io_error(&sb.virtual_path(&from), &e))?;
    Ok(Response::empty(200))
}

/// Every file below `dir` (or `dir` itself when it is a file). Links are
/// not followed: one may lead out of the sandbox, or back up (`loop -> .`)
/// for ever.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    match fs::read_dir(dir) {
        Ok(entries) => {
            let mut paths: Vec<(PathBuf, fs::FileType)> = entries
                .flatten()
                .filter_map(|e| Some((e.path(), e.file_type().ok()?)))
                .collect();
            paths.sort_by(|a, b| a.0.cmp(&b.0));
            for (p, kind) in paths {
                if kind.is_dir() {
                    walk(&p, out);
                } else if kind.is_file() {
                    out.push(p);
                }
            }
        }
        Err(_) if dir.is_file() => out.push(dir.to_path_buf()),
        Err(_) => {}
    }
}

fn pattern(req: &Request) -> Result<&str, Response> {
    req.param("pattern")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| error(400, "pattern is required"))
}

fn find(sb: &Sandbox<'_>, req: &Request) -> Answer {
    let dir = path(sb, req, "path")?;
    let pattern = pattern(req)?;
    let mut files = Vec::new();
    walk(&dir, &mut files);
    let mut matches = Vec::new();
    for f in files {
        let Ok(text) = fs::read(&f) else { continue };
        let text = String::from_utf8_lossy(&text);
        for (i, line) in text.lines().enumerate() {
            if line.contains(pattern) {
                matches
                    .push(json!({ "file": sb.virtual_path(&f), "line": i + 1, "content": line }));
            }
        }
    }
    Ok(Response::json(200, &json!(matches)))
}

fn search(sb: &Sandbox<'_>, req: &Request) -> Answer {
    let dir = path(sb, req, "path")?;
    let pattern = pattern(req)?;
    let pattern = super::search::Pattern::new(pattern)
        .map_err(|_| error(400, &format!("invalid glob pattern: {pattern}")))?;
    let mut files = Vec::new();
    walk(&dir, &mut files);
    let found: Vec<String> = files
        .iter()
        .filter(|file| {
            let rel = file.strip_prefix(&dir).unwrap_or(file);
            pattern.finds(
                &rel.to_string_lossy()
                    .replace(std::path::MAIN_SEPARATOR, "/"),
            )
        })
        .map(|file| sb.virtual_path(file))
        .collect();
    Ok(Response::json(200, &json!({ "files": found })))
}

fn replace(sb: &Sandbox<'_>, req: &Request) -> Answer {
    let body = body_json(req)?;
    let pattern = body["pattern"].as_str().unwrap_or("");
    let new_value = body["newValue"].as_str().unwrap_or("");
    if pattern.is_empty() {
        return Err(error(400, "pattern is required"));
    }
    let mut results = Vec::new();
    for file in body["files"].as_array().into_iter().flatten() {
        let name = file.as_str().unwrap_or("");
        let outcome = sb
            .resolve(name)
            .map_err(|_| "outside the sandbox".to_string())
            .and_then(|p| {
                let text = fs::read_to_string(&p).map_err(|e| e.to_string())?;
                fs::write(&p, text.replace(pattern, new_value)).map_err(|e| e.to_string())
            });
        results.push(match outcome {
            Ok(()) => json!({ "file": name, "success": true }),
            Err(e) => json!({ "file": name, "success": false, "error": e }),
        });
    }
    Ok(Response::json(200, &json!(results)))
}

fn permissions(sb: &Sandbox<'_>, req: &Request) -> Answer {
    let p = path(sb, req, "path")?;
    fs::metadata(&p).map_err(|e| io_error(&sb.virtual_path(&p), &e))?;
    if let Some(mode) = req.param("mode") {
        set_mode(sb, &p, mode)?;
    }
    // Owner and group are accepted and ignored: everything belongs to the
    // user running the simulator.
    Ok(Response::empty(200))
}

/// One part of a multipart body.
struct Part {
    name: String,
    filename: Option<String>,
    data: Vec<u8>,
}

fn find_bytes(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(hay.get(from..)?, needle).map(|i| i + from)
}

/// The value of `param="..."` in a `Content-Disposition`, unescaped.
fn disposition_param(value: &str, param: &str) -> Option<String> {
    let key = format!("{param}=\"");
    let mut from = 0;
    let start = loop {
        let i = from + value[from..].find(&key)?;
        let before = value[..i].trim_end();
        if before.ends_with(';') || before.is_empty() {
            break i + key.len();
        }
        from = i + key.len();
    };
    let mut out = String::new();
    let mut chars = value[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '"' => return Some(out.replace("%0D", "\r").replace("%0A", "\n")),
            c => out.push(c),
        }
    }
    None
}

fn parse_multipart(req: &Request) -> Result<Vec<Part>, Response> {
    let bad = |m: &str| error(400, &format!("malformed multipart body: {m}"));
    let ct = req.header("content-type").unwrap_or("");
    let boundary = ct
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
        .next()
        .ok_or_else(|| bad("no boundary"))?;
    let body = &req.body;
    let delim = format!("--{boundary}").into_bytes();
    let mut pos = find_bytes(body, &delim, 0).ok_or_else(|| bad("no delimiter"))? + delim.len();
    let mut parts = Vec::new();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return Ok(parts);
        }
        let head_start = find_bytes(body, b"\r\n", pos).ok_or_else(|| bad("truncated"))? + 2;
        let head_end =
            find_bytes(body, b"\r\n\r\n", head_start - 2).ok_or_else(|| bad("truncated"))?;
        // A part without headers has its blank line right after the
        // delimiter's: its head ends before it starts, and is empty.
        let head = body.get(head_start..head_end).unwrap_or_default();
        let head = String::from_utf8_lossy(head).into_owned();
        let data_start = head_end + 4;
        let mut end_delim = b"\r\n".to_vec();
        end_delim.extend_from_slice(&delim);
        let data_end = find_bytes(body, &end_delim, data_start).ok_or_else(|| bad("truncated"))?;
        let disposition = head
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-disposition"))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default();
        parts.push(Part {
            name: disposition_param(&disposition, "name").unwrap_or_default(),
            filename: disposition_param(&disposition, "filename"),
            data: body[data_start..data_end].to_vec(),
        });
        pos = data_end + end_delim.len();
    }
}

/// Writes to a temporary file renamed when complete, as the toolbox does.
fn write_file(sb: &Sandbox<'_>, remote: &str, data: &[u8]) -> Result<(), Response> {
    let p = sb.resolve(remote)?;
    if p.is_dir() {
        return Err(error(400, &format!("{remote} is a directory")));
    }
    let parent = p.parent().unwrap_or(&sb.root);
    fs::create_dir_all(parent).map_err(|e| io_error(remote, &e))?;
    let tmp = parent.join(format!(".{}.upload-{}", name_of(&p), new_id()));
    let written = fs::write(&tmp, data).and_then(|()| fs::rename(&tmp, &p));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.map_err(|e| io_error(remote, &e))
}

fn bulk_upload(sb: &Sandbox<'_>, req: &Request) -> Answer {
    let parts = parse_multipart(req)?;
    let mut paths = std::collections::HashMap::new();
    for part in &parts {
        if let Some(i) = part
            .name
            .strip_prefix("files[")
            .and_then(|r| r.strip_suffix("].path"))
        {
            paths.insert(
                i.to_string(),
                String::from_utf8_lossy(&part.data).into_owned(),
            );
        }
    }
    for part in &parts {
        if let Some(i) = part
            .name
            .strip_prefix("files[")
            .and_then(|r| r.strip_suffix("].file"))
        {
            let remote = paths
                .get(i)
                .cloned()
                .or_else(|| part.filename.clone())
                .ok_or_else(|| error(400, &format!("files[{i}] has no path")))?;
            write_file(sb, &remote, &part.data)?;
        }
    }
    Ok(Response::empty(200))
}

fn upload(sb: &Sandbox<'_>, req: &Request) -> Answer {
    let remote = req
        .param("path")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| error(400, "path is required"))?
        .to_string();
    let parts = parse_multipart(req)?;
    let part = parts
        .iter()
        .find(|p| p.name == "file")
        .ok_or_else(|| error(400, "no file part"))?;
    write_file(sb, &remote, &part.data)?;
    Ok(Response::empty(200))
}

/// `s` quoted as the SDK's encoder does (`\` and `"` escaped).
fn quote(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The characters RFC 5987 lets an `ext-value` carry as they are
/// (`attr-char`); every other byte is percent-encoded.
const ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// The file name parameters of a bulk-download part, as the toolbox sends
/// them: the exact path in `filename*` (UTF-8, percent-encoded) and a
/// Latin-1 fallback in `filename`, where each character past Latin-1 is
/// `_` and each of Latin-1 is its single byte.
fn filename_params(path: &str) -> Vec<u8> {
    let mut out = b"filename=\"".to_vec();
    for c in quote(path).chars() {
        out.push(u8::try_from(u32::from(c)).unwrap_or(b'_'));
    }
    out.extend_from_slice(b"\"; filename*=UTF-8''");
    out.extend(percent_encoding::utf8_percent_encode(path, ATTR_CHAR).flat_map(str::bytes));
    out
}

fn bulk_download(sb: &Sandbox<'_>, req: &Request) -> Answer {
    let body = body_json(req)?;
    let paths: Vec<String> = body["paths"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(String::from))
        .collect();
    if paths.is_empty() {
        return Err(error(400, "paths must not be empty"));
    }
    let boundary = format!("local-{}", new_id());
    let mut out = Vec::new();
    for remote in &paths {
        let read = sb.resolve(remote).and_then(|p| {
            if p.is_dir() {
                return Err(error(400, &format!("{remote} is a directory")));
            }
            fs::read(&p).map_err(|e| io_error(remote, &e))
        });
        let (name, content_type, data) = match read {
            Ok(data) => ("file", "application/octet-stream", data),
            Err(r) => {
                let (status, message) = match r.body {
                    super::super::server::Body::Bytes(b) => {
                        let v: Value = serde_json::from_slice(&b).unwrap_or_default();
                        (r.status, v["message"].as_str().unwrap_or("").to_string())
                    }
                    _ => (r.status, String::new()),
                };
                let code = if status == 404 {
                    "FILE_NOT_FOUND"
                } else {
                    "ERROR"
                };
                let e = json!({ "message": message, "statusCode": status, "code": code });
                ("error", "application/json", e.to_string().into_bytes())
            }
        };
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; ").as_bytes(),
        );
        out.extend(filename_params(remote));
        out.extend_from_slice(
            format!(
                "\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                data.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok(Response::new(
        200,
        &format!("multipart/form-data; boundary={boundary}"),
        out,
    ))
}

fn download(sb: &Sandbox<'_>, req: &Request) -> Answer {
    let p = path(sb, req, "path")?;
    let data = fs::read(&p).map_err(|e| io_error(&sb.virtual_path(&p), &e))?;
    Ok(Response::new(200, "application/octet-stream", data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition() {
        let v = r#"form-data; name="file"; filename="a \"b\".txt""#;
        assert_eq!(disposition_param(v, "name").as_deref(), Some("file"));
        assert_eq!(
            disposition_param(v, "filename").as_deref(),
            Some("a \"b\".txt")
        );
    }
}
