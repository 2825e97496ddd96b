//! Reading the spec and walking it: operations, `$ref`s, and every schema at the positions where
//! OpenAPI puts schemas (never by key name, so a property called `default` or `enum` is a property).

use serde_json::Value;

pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One operation of the document.
pub struct Op<'a> {
    pub path: &'a str,
    pub method: &'static str,
    pub op: &'a Value,
    /// The path item (its `parameters` apply to every operation of the path).
    pub item: &'a Value,
}

impl Op<'_> {
    pub fn id(&self) -> &str {
        self.op["operationId"].as_str().unwrap_or("")
    }
    /// `paths./tasks.post`
    pub fn at(&self) -> String {
        format!("paths.{}.{}", self.path, self.method)
    }
    /// Its parameters, with `$ref`s to `components.parameters` resolved (unresolvable ones are
    /// left out: validation reports them).
    pub fn parameters<'d>(&'d self, doc: &'d Value) -> Vec<(String, &'d Value)> {
        let mut out = Vec::new();
        let lists = [
            (format!("paths.{}", self.path), &self.item["parameters"]),
            (self.at(), &self.op["parameters"]),
        ];
        for (place, list) in lists {
            for (i, p) in list.as_array().into_iter().flatten().enumerate() {
                let at = format!("{place}.parameters[{i}]");
                match p.get("$ref").and_then(Value::as_str) {
                    Some(r) => {
                        if let Some(target) = resolve(doc, r) {
                            out.push((format!("{at} ({r})"), target));
                        }
                    }
                    None => out.push((at, p)),
                }
            }
        }
        out
    }
    pub fn creates(&self) -> bool {
        self.op.get(crate::CREATES) == Some(&Value::Bool(true))
    }
    /// The media types of the request body.
    pub fn request_media(&self) -> Vec<&str> {
        self.op["requestBody"]["content"]
            .as_object()
            .map(|c| c.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

/// Every operation, sorted by path then method.
pub fn operations(doc: &Value) -> Vec<Op<'_>> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                ops.push(Op {
                    path,
                    method,
                    op,
                    item,
                });
            }
        }
    }
    ops
}

/// Resolves a local `$ref` (`#/components/...`), JSON-pointer style.
pub fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(pointer)
}

/// The component-schema name of a `#/components/schemas/X` reference.
pub fn component_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

/// A response, with a `$ref` to `components.responses` resolved.
pub fn response<'a>(doc: &'a Value, response: &'a Value) -> &'a Value {
    match response.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(doc, r).unwrap_or(&Value::Null),
        None => response,
    }
}

/// Calls `f(location, schema)` for `schema` and every schema nested in it (properties, items,
/// additionalProperties, allOf/anyOf/oneOf, not). `$ref`s are not followed.
pub fn walk_schema(at: &str, schema: &Value, f: &mut dyn FnMut(&str, &Value)) {
    let Some(map) = schema.as_object() else {
        return;
    };
    f(at, schema);
    if let Some(props) = map.get("properties").and_then(Value::as_object) {
        for (name, p) in props {
            walk_schema(&format!("{at}.properties.{name}"), p, f);
        }
    }
    for key in ["items", "not"] {
        if let Some(s) = map.get(key) {
            walk_schema(&format!("{at}.{key}"), s, f);
        }
    }
    if let Some(s) = map.get("additionalProperties").filter(|s| s.is_object()) {
        walk_schema(&format!("{at}.additionalProperties"), s, f);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for (i, s) in map
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            walk_schema(&format!("{at}.{key}[{i}]"), s, f);
        }
    }
}

/// Calls `f` for every schema of the document: component schemas, parameter and header schemas,
/// request and response bodies.
pub fn walk_all_schemas(doc: &Value, f: &mut dyn FnMut(&str, &Value)) {
    let components = &doc["components"];
    for (name, s) in components["schemas"].as_object().into_iter().flatten() {
        walk_schema(&format!("components.schemas.{name}"), s, f);
    }
    for kind in ["parameters", "headers"] {
        for (name, p) in components[kind].as_object().into_iter().flatten() {
            if let Some(s) = p.get("schema") {
                walk_schema(&format!("components.{kind}.{name}.schema"), s, f);
            }
        }
    }
    for (name, r) in components["responses"].as_object().into_iter().flatten() {
        walk_content(&format!("components.responses.{name}"), r, f);
    }
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (i, p) in item["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(s) = p.get("schema") {
                walk_schema(&format!("paths.{path}.parameters[{i}].schema"), s, f);
            }
        }
    }
    for op in operations(doc) {
        let at = op.at();
        for (i, p) in op.op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(s) = p.get("schema") {
                walk_schema(&format!("{at}.parameters[{i}].schema"), s, f);
            }
        }
        walk_content(&format!("{at}.requestBody"), &op.op["requestBody"], f);
        for (status, r) in op.op["responses"].as_object().into_iter().flatten() {
            walk_content(&format!("{at}.responses.{status}"), r, f);
        }
    }
}

fn walk_content(at: &str, holder: &Value, f: &mut dyn FnMut(&str, &Value)) {
    for (media, m) in holder["content"].as_object().into_iter().flatten() {
        if let Some(s) = m.get("schema") {
            walk_schema(&format!("{at}.content.{media}.schema"), s, f);
        }
    }
    for (name, h) in holder["headers"].as_object().into_iter().flatten() {
        if let Some(s) = h.get("schema") {
            walk_schema(&format!("{at}.headers.{name}.schema"), s, f);
        }
    }
}

/// Every `$ref` inside `schema` (structurally), with where it is.
pub fn schema_refs(at: &str, schema: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk_schema(at, schema, &mut |at, s| {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            out.push((at.to_owned(), r.to_owned()));
        }
    });
    out
}
