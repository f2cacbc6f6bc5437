//! The official OpenAPI documents, read as JSON (`.ci/run` converts the
//! YAML files of `../shared/daytona-api/` with the `js-yaml` that comes with
//! Prism), for what Prism does not check:
//!
//! - query parameter *names*: Prism validates the declared parameters only,
//!   and case-insensitively (`minMemoryGib` passes for `minMemoryGiB`), so an
//!   undeclared or misspelt name is silently ignored — by Prism and by the
//!   real server alike;
//! - JSON body *field names*: the schemas do not say
//!   `additionalProperties: false`, so Prism accepts a misspelt optional
//!   field (`commitId` for `commit_id`) and the server drops it.
//!
//! It also finds the response schema of an exchange, to decode it with the
//! SDK's public models and to drop optional fields from Prism's answers
//! (Prism 5's dynamic mode always fills every optional field:
//! `alwaysFakeOptionals: true, optionalsProbability: 1` in
//! `prism-http/dist/mocker/generator/JSONSchema.js`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// One OpenAPI document.
pub struct Spec {
    pub name: &'static str,
    doc: Value,
    routes: Vec<Route>,
}

/// A path template and method of the document.
#[derive(Clone, Debug)]
pub struct Route {
    pub method: String,
    pub template: String,
    segments: Vec<Option<String>>,
}

/// What is wrong with a request, by the document.
#[derive(Debug, Default)]
pub struct RequestCheck {
    pub route: Option<Route>,
    pub operation_id: Option<String>,
    pub violations: Vec<String>,
}

/// A tiny deterministic random source (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        x % denominator < numerator
    }
}

/// How Prism's answers are thinned before the SDK sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Thinning {
    /// As Prism sent them.
    None,
    /// Every optional field removed, at every depth.
    All,
    /// Each optional field removed with probability 1/2.
    Random,
}

impl Spec {
    pub fn load(name: &'static str, path: &str) -> Result<Spec, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        let doc: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{path}: not JSON ({e}); convert the YAML with js-yaml"))?;
        let mut routes = Vec::new();
        for (template, item) in doc["paths"].as_object().ok_or("no `paths`")? {
            let segments: Vec<Option<String>> = template
                .trim_start_matches('/')
                .split('/')
                .map(|s| (!s.starts_with('{')).then(|| s.to_string()))
                .collect();
            for method in item.as_object().into_iter().flat_map(|m| m.keys()) {
                if matches!(
                    method.as_str(),
                    "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
                ) {
                    routes.push(Route {
                        method: method.clone(),
                        template: template.clone(),
                        segments: segments.clone(),
                    });
                }
            }
        }
        Ok(Spec { name, doc, routes })
    }

    /// The route of `method` and the (percent-decoded) `path`: literal
    /// segments win over parameters, as in Prism.
    pub fn route(&self, method: &str, path: &str) -> Option<&Route> {
        let method = method.to_ascii_lowercase();
        let parts: Vec<String> = path
            .trim_start_matches('/')
            .split('/')
            .map(|p| percent_decode(p, false))
            .collect();
        self.routes
            .iter()
            .filter(|r| r.method == method && r.segments.len() == parts.len())
            .filter(|r| {
                r.segments.iter().zip(&parts).all(|(s, p)| match s {
                    Some(lit) => lit == p,
                    None => !p.is_empty(),
                })
            })
            .max_by_key(|r| r.segments.iter().filter(|s| s.is_some()).count())
    }

    /// Every route of the document, for the coverage count.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    fn operation(&self, route: &Route) -> &Value {
        &self.doc["paths"][&route.template][&route.method]
    }

    /// Follows `$ref`s to the schema itself.
    pub fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..32 {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let pointer = r.trim_start_matches('#');
                    match self.doc.pointer(pointer) {
                        Some(target) => schema = target,
                        None => return schema,
                    }
                }
                None => return schema,
            }
        }
        schema
    }

    /// The query parameters the operation declares, exactly as spelt.
    fn query_names(&self, route: &Route) -> BTreeSet<String> {
        let item = &self.doc["paths"][&route.template];
        let op = self.operation(route);
        [&item["parameters"], &op["parameters"]]
            .into_iter()
            .filter_map(Value::as_array)
            .flatten()
            .map(|p| self.resolve(p))
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect()
    }

    /// Checks what Prism does not: the route, query names and the field
    /// names of a JSON body.
    pub fn check_request(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        content_type: Option<&str>,
        body: &[u8],
    ) -> RequestCheck {
        let mut check = RequestCheck::default();
        let Some(route) = self.route(method, path) else {
            check.violations.push(format!(
                "{method} {path}: no such operation in {}",
                self.name
            ));
            return check;
        };
        let op = self.operation(route);
        check.operation_id = op["operationId"].as_str().map(str::to_string);
        let declared = self.query_names(route);
        for (name, _) in query {
            if !declared.contains(name) {
                check.violations.push(format!(
                    "query parameter `{name}` is not declared by {} {} (declared: {:?})",
                    route.method.to_uppercase(),
                    route.template,
                    declared
                ));
            }
        }
        let media = content_type
            .map(|c| {
                c.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        if !body.is_empty() && media == "application/json" {
            match (
                serde_json::from_slice::<Value>(body),
                op["requestBody"]["content"]["application/json"].get("schema"),
            ) {
                (Ok(value), Some(schema)) => {
                    self.unknown_fields(&value, schema, "body", &mut check.violations)
                }
                (Ok(_), None) => check.violations.push(format!(
                    "{} {} declares no JSON body, one was sent",
                    route.method.to_uppercase(),
                    route.template
                )),
                (Err(e), _) => check
                    .violations
                    .push(format!("the JSON body does not parse: {e}")),
            }
        }
        check.route = Some(route.clone());
        check
    }

    /// The properties, required names and additional-properties schema of
    /// an object schema, `allOf`/`oneOf`/`anyOf` merged.
    fn object_parts<'a>(
        &'a self,
        schema: &'a Value,
        props: &mut BTreeMap<String, &'a Value>,
        required: &mut BTreeSet<String>,
        additional: &mut Option<&'a Value>,
        open: &mut bool,
    ) {
        let schema = self.resolve(schema);
        if let Some(p) = schema["properties"].as_object() {
            for (k, v) in p {
                props.insert(k.clone(), v);
            }
        }
        if let Some(r) = schema["required"].as_array() {
            required.extend(r.iter().filter_map(|v| v.as_str().map(str::to_string)));
        }
        match schema.get("additionalProperties") {
            Some(Value::Bool(true)) => *open = true,
            Some(Value::Bool(false)) | None => {}
            Some(s) => *additional = Some(s),
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            for part in schema[key].as_array().into_iter().flatten() {
                self.object_parts(part, props, required, additional, open);
            }
        }
    }

    /// Field names of `value` that `schema` does not declare.
    pub fn unknown_fields(&self, value: &Value, schema: &Value, at: &str, out: &mut Vec<String>) {
        let resolved = self.resolve(schema);
        match value {
            Value::Object(map) => {
                let (mut props, mut required, mut additional, mut open) =
                    (BTreeMap::new(), BTreeSet::new(), None, false);
                self.object_parts(
                    resolved,
                    &mut props,
                    &mut required,
                    &mut additional,
                    &mut open,
                );
                if props.is_empty() && additional.is_none() {
                    return; // a free-form object
                }
                for (k, v) in map {
                    match (props.get(k), additional) {
                        (Some(s), _) => self.unknown_fields(v, s, &format!("{at}.{k}"), out),
                        (None, Some(s)) => self.unknown_fields(v, s, &format!("{at}.{k}"), out),
                        (None, None) if open => {}
                        (None, None) => out.push(format!(
                            "{at}.{k}: no such field in {} (fields: {:?})",
                            schema_name(schema),
                            props.keys().collect::<Vec<_>>()
                        )),
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = resolved.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.unknown_fields(item, item_schema, &format!("{at}[{i}]"), out);
                    }
                }
            }
            _ => {}
        }
    }

    /// The schema of the answer `status` of `route` in `media` (JSON or
    /// plain text), when the document gives one.
    pub fn response_schema(&self, route: &Route, status: u16, media: &str) -> Option<&Value> {
        let responses = &self.operation(route)["responses"];
        let response = responses
            .get(status.to_string())
            .or_else(|| responses.get("default"))?;
        response["content"].get(media)?.get("schema")
    }

    /// Removes optional fields from `value` (an answer of `schema`).
    pub fn thin(&self, value: &mut Value, schema: &Value, how: Thinning, rng: &mut Rng) {
        if how == Thinning::None {
            return;
        }
        let resolved = self.resolve(schema);
        match value {
            Value::Object(map) => {
                let (mut props, mut required, mut additional, mut open) =
                    (BTreeMap::new(), BTreeSet::new(), None, false);
                self.object_parts(
                    resolved,
                    &mut props,
                    &mut required,
                    &mut additional,
                    &mut open,
                );
                let keys: Vec<String> = map.keys().cloned().collect();
                for k in keys {
                    let field_schema = props.get(&k).copied().or(additional);
                    if let (Some(s), Some(v)) = (field_schema, map.get_mut(&k)) {
                        self.thin(v, s, how, rng);
                    }
                    let optional = props.contains_key(&k) && !required.contains(&k);
                    let drop = match how {
                        Thinning::All => true,
                        Thinning::Random => rng.chance(1, 2),
                        Thinning::None => false,
                    };
                    if optional && drop {
                        map.remove(&k);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = resolved.get("items") {
                    for item in items {
                        self.thin(item, item_schema, how, rng);
                    }
                }
            }
            _ => {}
        }
    }
}

impl Spec {
    /// The schema of field `key` of a value of `schema` (an object's
    /// property or an array's item) and whether the object requires it.
    fn child<'a>(&'a self, schema: &'a Value, key: &str) -> Option<(&'a Value, bool)> {
        let resolved = self.resolve(schema);
        if let Some(items) = resolved.get("items") {
            return Some((items, true));
        }
        let (mut props, mut required, mut additional, mut open) =
            (BTreeMap::new(), BTreeSet::new(), None, false);
        self.object_parts(
            resolved,
            &mut props,
            &mut required,
            &mut additional,
            &mut open,
        );
        match props.get(key) {
            Some(s) => Some((s, required.contains(key))),
            None => additional.map(|s| (s, false)),
        }
    }

    /// Repairs the value at `path` of an answer of `schema` that Prism says
    /// breaks the schema (a spec example that contradicts its own schema):
    /// an optional field is removed, a required one gets the schema's
    /// simplest valid value. Returns what was done.
    pub fn repair(&self, value: &mut Value, schema: &Value, path: &[String]) -> Option<String> {
        let (last, parents) = path.split_last()?;
        let mut node = value;
        let mut node_schema = schema;
        for key in parents {
            let (s, _) = self.child(node_schema, key)?;
            node_schema = s;
            node = match node {
                Value::Object(map) => map.get_mut(key)?,
                Value::Array(items) => items.get_mut(key.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        let (field_schema, required) = self.child(node_schema, last)?;
        match node {
            Value::Object(map) if !required => {
                let was = map.remove(last)?;
                Some(format!("{was} (optional: removed)"))
            }
            Value::Object(map) => {
                let simplest = self.simplest(field_schema);
                let done = format!("{} (required: set to {simplest})", map.get(last)?);
                map.insert(last.clone(), simplest);
                Some(done)
            }
            Value::Array(items) => {
                let simplest = self.simplest(field_schema);
                let slot = items.get_mut(last.parse::<usize>().ok()?)?;
                let done = format!("{slot} (set to {simplest})");
                *slot = simplest;
                Some(done)
            }
            _ => None,
        }
    }

    /// The simplest value `schema` allows.
    fn simplest(&self, schema: &Value) -> Value {
        let s = self.resolve(schema);
        if let Some(first) = s["enum"].as_array().and_then(|e| e.first()) {
            return first.clone();
        }
        if let Some(part) = s["allOf"].as_array().and_then(|a| a.first()) {
            return self.simplest(part);
        }
        match s["type"].as_str() {
            Some("string") if s["format"] == "date-time" => Value::from("2026-01-01T00:00:00Z"),
            Some("string") => Value::from(""),
            Some("integer") | Some("number") => Value::from(0),
            Some("boolean") => Value::from(false),
            Some("array") => Value::Array(Vec::new()),
            _ => {
                let (mut props, mut required, mut additional, mut open) =
                    (BTreeMap::new(), BTreeSet::new(), None, false);
                self.object_parts(s, &mut props, &mut required, &mut additional, &mut open);
                Value::Object(
                    required
                        .iter()
                        .filter_map(|k| props.get(k).map(|p| (k.clone(), self.simplest(p))))
                        .collect(),
                )
            }
        }
    }
}

/// `Sandbox` for `{"$ref": "#/components/schemas/Sandbox"}`, `[Sandbox]`
/// for an array of them, `inline` otherwise.
pub fn schema_name(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    if schema["type"] == "array" {
        return format!("[{}]", schema_name(&schema["items"]));
    }
    "inline".to_string()
}

/// `%xx` escapes decoded; in a query, `+` is a space too.
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) =
                u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("-"), 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if plus_is_space && bytes[i] == b'+' {
            b' '
        } else {
            bytes[i]
        });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
