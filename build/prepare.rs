//! The generator's view of the spec. progenitor gets the document as written, except for what
//! is a choice of this crate's rather than a fact about the API:
//!
//! 1. operations with a multipart body are left out (progenitor rejects them); the crate sends
//!    them by hand, driven by their descriptors (`raw::operations`);
//! 2. non-JSON success media types (the NDJSON stream of `POST /generate`) are left out; the
//!    crate reads them by hand;
//! 3. any 2xx is a success: the documented success statuses (the docs disagree on 200/201/204)
//!    become one `2XX` response;
//! 4. error responses are left out, so that every non-2xx answer reaches the crate untouched
//!    (status, headers, body — even an HTML 502 page) and `twelvelabs::Error` decodes it;
//! 5. examples are left out (they are for documentation and the tests).
//!
//! Open enums (6) are swapped in with progenitor's `with_replacement`; see `open_enum.rs`.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::spec::{self, METHODS};

pub struct Prepared {
    /// operationIds given to progenitor.
    pub generated: BTreeSet<String>,
}

/// Component schemas a response can carry (following `$ref`s structurally from every response
/// of every operation, errors and every media type included), and the locations of inline enums
/// met on the way.
pub fn reachable_from_responses(doc: &Value) -> (BTreeSet<String>, Vec<String>) {
    let mut roots: Vec<(String, Value)> = Vec::new();
    for op in spec::operations(doc) {
        for (status, r) in op.op["responses"].as_object().into_iter().flatten() {
            let r = spec::response(doc, r);
            for (media, m) in r["content"].as_object().into_iter().flatten() {
                if let Some(s) = m.get("schema") {
                    roots.push((
                        format!("{}.responses.{status}.content.{media}.schema", op.at()),
                        s.clone(),
                    ));
                }
            }
        }
    }
    let mut named = BTreeSet::new();
    let mut inline = Vec::new();
    while let Some((at, schema)) = roots.pop() {
        let top = at.starts_with("components.schemas.")
            && !at["components.schemas.".len()..].contains('.');
        spec::walk_schema(&at, &schema, &mut |here, s| {
            if s.get("enum").is_some() && !(top && here == at) {
                inline.push(here.to_owned());
            }
        });
        for (_, r) in spec::schema_refs(&at, &schema) {
            let Some(name) = spec::component_name(&r) else {
                continue;
            };
            if named.insert(name.to_owned())
                && let Some(target) = doc["components"]["schemas"].get(name)
            {
                roots.push((format!("components.schemas.{name}"), target.clone()));
            }
        }
    }
    inline.sort();
    inline.dedup();
    (named, inline)
}

/// Rewrites `doc` into what progenitor is given (see the module docs). The document has been
/// validated.
pub fn prepare(doc: &mut Value) -> Prepared {
    // 1. Multipart operations, and the form schemas only they use.
    let mut form_schemas = BTreeSet::new();
    let mut generated = BTreeSet::new();
    let mut paths = Map::new();
    for (path, item) in doc["paths"].as_object().cloned().unwrap_or_default() {
        let mut item = item;
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let content = &op["requestBody"]["content"];
            let multipart = content
                .as_object()
                .is_some_and(|c| c.keys().any(|k| k.starts_with("multipart/")));
            if multipart {
                for media in content.as_object().into_iter().flat_map(|c| c.values()) {
                    for (_, r) in spec::schema_refs("", &media["schema"]) {
                        if let Some(name) = spec::component_name(&r) {
                            form_schemas.insert(name.to_owned());
                        }
                    }
                }
                if let Some(m) = item.as_object_mut() {
                    m.remove(method);
                }
            } else if let Some(id) = op["operationId"].as_str() {
                generated.insert(id.to_owned());
            }
        }
        if METHODS.iter().any(|m| item.get(*m).is_some()) {
            paths.insert(path, item);
        }
    }
    doc["paths"] = Value::Object(paths);
    // A form schema goes only if nothing the generator sees still refers to it.
    let mut still_used = BTreeSet::new();
    spec::walk_all_schemas(doc, &mut |at, s| {
        if let Some(name) = s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(spec::component_name)
        {
            // A form schema referring to itself or to another form schema does not keep it.
            let from_form = form_schemas.iter().any(|f| {
                at.starts_with(&format!("components.schemas.{f}."))
                    || at == format!("components.schemas.{f}")
            });
            if !from_form {
                still_used.insert(name.to_owned());
            }
        }
    });
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        for name in form_schemas.difference(&still_used) {
            schemas.remove(name);
        }
    }

    // 2–5. Responses.
    let components = doc["components"].clone();
    let lookup = serde_json::json!({ "components": components });
    for item in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for method in METHODS {
            let Some(op) = item.get_mut(method) else {
                continue;
            };
            let mut first: Option<Value> = None;
            for (status, r) in op["responses"].as_object().cloned().unwrap_or_default() {
                if !status.starts_with('2') || first.is_some() {
                    continue;
                }
                let mut r = spec::response(&lookup, &r).clone();
                let mut collapsed = Map::new();
                collapsed.insert(
                    "description".into(),
                    r.get("description")
                        .cloned()
                        .unwrap_or(Value::String(String::new())),
                );
                if let Some(json) = r
                    .get_mut("content")
                    .and_then(|c| c.get_mut("application/json"))
                {
                    if let Some(m) = json.as_object_mut() {
                        m.remove("example");
                        m.remove("examples");
                    }
                    collapsed.insert(
                        "content".into(),
                        serde_json::json!({ "application/json": json.take() }),
                    );
                }
                first = Some(Value::Object(collapsed));
            }
            let mut responses = Map::new();
            if let Some(r) = first {
                responses.insert("2XX".into(), r);
            }
            op["responses"] = Value::Object(responses);
            // Request examples too.
            if let Some(content) = op
                .get_mut("requestBody")
                .and_then(|b| b.get_mut("content"))
                .and_then(Value::as_object_mut)
            {
                for m in content.values_mut().filter_map(Value::as_object_mut) {
                    m.remove("example");
                    m.remove("examples");
                }
            }
        }
    }
    if let Some(c) = doc["components"].as_object_mut() {
        c.remove("responses");
    }

    Prepared { generated }
}
