//! Checks the spec before the generator sees it. progenitor and typify panic or fail without a
//! location on much of what is checked here; every problem found names where it is and what to do.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToSnakeCase;
use serde_json::Value;

use crate::diag::Problems;
use crate::spec::{self, Op};

/// The extensions this crate reads. Any other `x-twelvelabs-*` key is a typo.
const KNOWN_EXTENSIONS: [&str; 2] = [crate::CREATES, crate::TERMINAL];

const TYPES: [&str; 6] = ["string", "number", "integer", "boolean", "array", "object"];
const INTEGER_FORMATS: [&str; 8] = [
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
];
const NUMBER_FORMATS: [&str; 2] = ["float", "double"];
const REQUEST_MEDIA: [&str; 3] = [
    "application/json",
    "multipart/form-data",
    "application/x-www-form-urlencoded",
];

pub fn check(doc: &Value, p: &mut Problems) {
    if !doc.is_object() {
        p.at(
            "$",
            "the document must be a mapping (an OpenAPI 3.0 object)",
        );
        return;
    }
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let bad = !item.is_object()
            || spec::METHODS
                .iter()
                .any(|m| item.get(*m).is_some_and(|op| !op.is_object()));
        if bad {
            p.at(
                format!("paths.{path}"),
                "a path item and its operations must be mappings",
            );
        }
    }
    if !p.is_empty() {
        return;
    }
    if doc.get("components").is_some_and(|c| !c.is_object())
        || doc["components"]
            .get("schemas")
            .is_some_and(|c| !c.is_object())
    {
        p.at(
            "components",
            "`components` and `components.schemas` must be mappings",
        );
        return;
    }
    document(doc, p);
    let ops = spec::operations(doc);
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for op in &ops {
        operation(doc, op, &mut ids, p);
    }
    schemas(doc, p);
    extensions_everywhere(doc, p);
    response_enums(doc, p);
}

fn document(doc: &Value, p: &mut Problems) {
    let version = doc["openapi"].as_str().unwrap_or_default();
    if !version.starts_with("3.0.") {
        p.at(
            "openapi",
            format!("must be 3.0.x (progenitor reads OpenAPI 3.0 only), not {version:?}"),
        );
    }
    match doc["servers"][0]["url"].as_str() {
        None => p.at(
            "servers[0].url",
            "is missing: the client takes its default base URL and API version from it, e.g. \
             `servers: [{url: https://api.twelvelabs.io/v1.2}]`",
        ),
        Some(url) => {
            if crate::base_url(url).is_none() {
                p.at(
                    "servers[0].url",
                    format!(
                        "{url:?} must be an absolute https URL whose path ends with the API version \
                         segment, e.g. https://api.twelvelabs.io/v1.2"
                    ),
                );
            }
        }
    }
    if doc["paths"].as_object().is_none_or(|m| m.is_empty()) {
        p.at("paths", "no operations are defined");
    }
}

fn operation(doc: &Value, op: &Op<'_>, ids: &mut BTreeMap<String, String>, p: &mut Problems) {
    let at = op.at();
    let id = op.id();
    if id.is_empty() {
        p.at(
            &at,
            "has no operationId: add one (it names the generated method)",
        );
        return;
    }
    if !id.starts_with(|c: char| c.is_ascii_alphabetic())
        || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        p.at(
            &at,
            format!("operationId {id:?} must be letters, digits and `_`, starting with a letter"),
        );
    }
    if let Some(previous) = ids.insert(id.to_snake_case(), at.clone()) {
        p.at(
            &at,
            format!(
                "operationId {id:?} gives the method name `{}`, already used at {previous}: rename one",
                id.to_snake_case()
            ),
        );
    }

    // Parameters.
    let template: BTreeSet<String> = op
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_owned)
        .collect();
    let mut declared_path = BTreeSet::new();
    let raw_params = op.item["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(op.op["parameters"].as_array().into_iter().flatten());
    for (i, raw) in raw_params.enumerate() {
        if let Some(r) = raw.get("$ref").and_then(Value::as_str)
            && (!r.starts_with("#/components/parameters/") || spec::resolve(doc, r).is_none())
        {
            p.at(
                format!("{at}.parameters[{i}]"),
                format!("$ref {r:?} does not resolve to a `components.parameters` entry"),
            );
        }
    }
    for (pat, param) in op.parameters(doc) {
        let name = param["name"].as_str().unwrap_or_default();
        if name.is_empty() {
            p.at(&pat, "a parameter needs a `name`");
            continue;
        }
        if param.get("schema").is_none() {
            p.at(
                &pat,
                format!(
                    "parameter {name:?} needs a `schema` (`content` parameters are not supported)"
                ),
            );
        }
        let style = param["style"].as_str();
        match param["in"].as_str().unwrap_or_default() {
            "path" => {
                declared_path.insert(name.to_owned());
                if param["required"] != Value::Bool(true) {
                    p.at(&pat, format!("path parameter {name:?} must have `required: true`"));
                }
                if style.is_some_and(|s| s != "simple") {
                    p.at(&pat, format!("path parameter {name:?}: only `style: simple` is supported"));
                }
            }
            "query" => {
                if style.is_some_and(|s| s != "form") {
                    p.at(&pat, format!("query parameter {name:?}: only `style: form` is supported"));
                }
            }
            "header" => {
                if style.is_some_and(|s| s != "simple") {
                    p.at(&pat, format!("header parameter {name:?}: only `style: simple` is supported"));
                }
                let lower = name.to_ascii_lowercase();
                if !is_header_name(&lower) {
                    p.at(&pat, format!("header parameter {name:?} is not a valid HTTP header name"));
                }
                if ["x-api-key", "user-agent", "content-type", "content-length", "host", "authorization"]
                    .contains(&lower.as_str())
                {
                    p.at(
                        &pat,
                        format!("header parameter {name:?} is set by the client itself: remove it from the spec"),
                    );
                }
            }
            other => p.at(
                &pat,
                format!("parameter {name:?} is `in: {other}`; only path, query and header parameters are supported"),
            ),
        }
    }
    for missing in template.difference(&declared_path) {
        p.at(
            &at,
            format!("the path has `{{{missing}}}` but no `in: path` parameter named {missing:?}"),
        );
    }
    for extra in declared_path.difference(&template) {
        p.at(
            &at,
            format!(
                "path parameter {extra:?} does not appear in the path {:?}",
                op.path
            ),
        );
    }

    // Request body.
    let body = &op.op["requestBody"];
    if let Some(r) = body.get("$ref").and_then(Value::as_str) {
        p.at(
            format!("{at}.requestBody"),
            format!("$ref {r:?}: write the request body inline (refs to components.requestBodies are not supported)"),
        );
    }
    for media in op.request_media() {
        if !REQUEST_MEDIA.contains(&media) {
            p.at(
                format!("{at}.requestBody.content"),
                format!("media type {media:?} is not supported; use one of {REQUEST_MEDIA:?}"),
            );
        }
        if body["content"][media].get("schema").is_none() {
            p.at(
                format!("{at}.requestBody.content.{media}"),
                "needs a `schema`",
            );
        }
    }

    // Responses.
    let Some(responses) = op.op["responses"].as_object() else {
        p.at(&at, "has no `responses`");
        return;
    };
    let mut success: Vec<(&str, Option<&Value>)> = Vec::new();
    for (status, r) in responses {
        if let Some(reference) = r.get("$ref").and_then(Value::as_str)
            && (!reference.starts_with("#/components/responses/")
                || spec::resolve(doc, reference).is_none())
        {
            p.at(
                format!("{at}.responses.{status}"),
                format!("$ref {reference:?} does not resolve to a `components.responses` entry"),
            );
            continue;
        }
        if status.starts_with('2') {
            let r = spec::response(doc, r);
            success.push((
                status,
                r["content"].get("application/json").map(|m| &m["schema"]),
            ));
        }
    }
    match success.split_first() {
        None => p.at(
            format!("{at}.responses"),
            "documents no 2xx response: add the success response (200, 201, 204 or 2XX)",
        ),
        Some(((first_status, first), rest)) => {
            for (status, schema) in rest {
                if schema != first {
                    p.at(
                        format!("{at}.responses"),
                        format!(
                            "{first_status} and {status} have different JSON bodies; any 2xx is a \
                             success, so they must share one schema"
                        ),
                    );
                }
            }
        }
    }

    // Operation extensions.
    if let Some(v) = op.op.get(crate::CREATES) {
        if !v.is_boolean() {
            p.at(
                format!("{at}.{}", crate::CREATES),
                format!("must be `true` or `false`, not {v}"),
            );
        } else if v == &Value::Bool(true) && op.method != "post" {
            p.at(
                format!("{at}.{}", crate::CREATES),
                "marks a POST that creates something; remove it from this operation",
            );
        }
    }
}

/// The shape of a header name, as `http::HeaderName` accepts it (lower-case token characters).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn schemas(doc: &Value, p: &mut Problems) {
    let components = doc["components"]["schemas"].as_object();
    spec::walk_all_schemas(doc, &mut |at, s| {
        let Some(map) = s.as_object() else { return };
        if let Some(r) = map.get("$ref") {
            match r.as_str().and_then(spec::component_name) {
                Some(name) if components.is_some_and(|c| c.contains_key(name)) => {}
                Some(name) => p.at(
                    at,
                    format!("$ref to {name:?}, which is not defined under components.schemas"),
                ),
                None => p.at(
                    at,
                    format!("$ref {r} is not supported; refer to `#/components/schemas/<Name>`"),
                ),
            }
        }
        let ty = map.get("type");
        if let Some(t) = ty {
            match t.as_str() {
                Some(t) if TYPES.contains(&t) => {}
                _ => p.at(at, format!("`type: {t}` is not one of {TYPES:?}")),
            }
        }
        let ty = ty.and_then(Value::as_str);
        if let Some(f) = map.get("format").and_then(Value::as_str) {
            match ty {
                Some("integer") if !INTEGER_FORMATS.contains(&f) => p.at(
                    at,
                    format!("integer `format: {f}` is not one of {INTEGER_FORMATS:?}"),
                ),
                Some("number") if !NUMBER_FORMATS.contains(&f) => p.at(
                    at,
                    format!("number `format: {f}` is not one of {NUMBER_FORMATS:?}"),
                ),
                _ => {}
            }
        }
        if ty == Some("array") && !map.contains_key("items") {
            p.at(at, "`type: array` needs `items`");
        }
        if let Some(n) = map.get("nullable")
            && !n.is_boolean()
        {
            p.at(at, "`nullable` must be true or false");
        }
        if let Some(values) = map.get("enum") {
            match values.as_array() {
                Some(vs) if !vs.is_empty() => {
                    if ty == Some("string") && vs.iter().any(|v| !v.is_string()) {
                        p.at(at, "a `type: string` enum must list strings only");
                    }
                }
                _ => p.at(at, "`enum` must be a non-empty list"),
            }
        }
        let props = map.get("properties").and_then(Value::as_object);
        if let Some(req) = map.get("required") {
            for r in req.as_array().into_iter().flatten() {
                match (r.as_str(), props) {
                    (Some(name), Some(props)) if !props.contains_key(name) => p.at(
                        at,
                        format!("`required` lists {name:?}, which is not among the properties"),
                    ),
                    (None, _) => p.at(at, "`required` must list property names"),
                    _ => {}
                }
            }
        }
        for (name, prop) in props.into_iter().flatten() {
            if prop.get("default").is_some() {
                p.at(
                    format!("{at}.properties.{name}"),
                    "`default` makes the generator send the value on every request: write \
                     `x-default` instead (documentation only; the client sends what the caller sets)",
                );
            }
        }
        match map.get("additionalProperties") {
            Some(Value::Bool(false)) => p.at(
                at,
                "`additionalProperties: false` would make a new field from the server fail the \
                 response: remove it",
            ),
            Some(Value::Bool(true)) if props.is_some() => p.at(
                at,
                "`additionalProperties: true` beside `properties` loses the extra keys in \
                 generated types: write `additionalProperties: {}` (they are then kept in `extra`)",
            ),
            Some(extra) if extra.is_object() && props.is_some() && !is_named(at) => p.at(
                at,
                "an inline object with both `properties` and `additionalProperties` loses its \
                 extra keys: make it a named schema under components.schemas",
            ),
            _ => {}
        }
    });
}

/// `x-twelvelabs-*` keys: known names only, in the right places, with the right values.
fn extensions_everywhere(doc: &Value, p: &mut Problems) {
    fn walk(at: &str, v: &Value, p: &mut Problems) {
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    if k.starts_with("x-twelvelabs-") && !KNOWN_EXTENSIONS.contains(&k.as_str()) {
                        p.at(
                            at,
                            format!(
                                "unknown extension {k:?}; this crate reads {KNOWN_EXTENSIONS:?}"
                            ),
                        );
                    }
                    walk(&format!("{at}.{k}"), x, p);
                }
            }
            Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    walk(&format!("{at}[{i}]"), x, p);
                }
            }
            _ => {}
        }
    }
    walk("$", doc, p);

    for (name, s) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let Some(t) = s.get(crate::TERMINAL) else {
            continue;
        };
        let at = format!("components.schemas.{name}.{}", crate::TERMINAL);
        let values: Vec<&str> = s["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if values.is_empty() {
            p.at(
                &at,
                "marks the terminal values of a string enum; this schema has no `enum`",
            );
            continue;
        }
        let Some(map) = t.as_object() else {
            p.at(&at, "must map enum values to `success` or `failure`, e.g. `{ready: success, failed: failure}`");
            continue;
        };
        for (value, outcome) in map {
            if !values.contains(&value.as_str()) {
                p.at(
                    &at,
                    format!("{value:?} is not one of the enum's values {values:?}"),
                );
            }
            if !matches!(outcome.as_str(), Some("success" | "failure")) {
                p.at(
                    &at,
                    format!("{value:?}: {outcome} must be `success` or `failure`"),
                );
            }
        }
    }
    // Creates is checked per operation; anywhere else it is misplaced.
    for (name, s) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if s.get(crate::CREATES).is_some() {
            p.at(
                format!("components.schemas.{name}"),
                format!("{} belongs on an operation, not a schema", crate::CREATES),
            );
        }
    }
}

/// Enums a response can carry become open enums: they must be named string enums whose values
/// give distinct Rust identifiers.
fn response_enums(doc: &Value, p: &mut Problems) {
    let (named, inline) = crate::prepare::reachable_from_responses(doc);
    for at in inline {
        p.at(
            at,
            "an inline enum can be returned by the server: move it to components.schemas so the \
             build can make it open (unknown values kept instead of failing the response)",
        );
    }
    for name in named {
        let s = &doc["components"]["schemas"][name.as_str()];
        let Some(values) = s.get("enum").and_then(Value::as_array) else {
            continue;
        };
        let at = format!("components.schemas.{name}");
        if s["type"].as_str() != Some("string") {
            p.at(
                &at,
                "an enum returned by the server must be `type: string` to become open",
            );
            continue;
        }
        let mut seen = BTreeMap::new();
        for v in values.iter().filter_map(Value::as_str) {
            let ident = crate::open_enum::variant_ident(v);
            if ident == "Unknown" || ident == "Self" {
                p.at(
                    &at,
                    format!("value {v:?} collides with the reserved variant {ident}"),
                );
            } else if syn::parse_str::<syn::Ident>(&ident).is_err() {
                p.at(
                    &at,
                    format!("value {v:?} gives no Rust identifier ({ident:?})"),
                );
            } else if let Some(other) = seen.insert(ident.clone(), v) {
                p.at(
                    &at,
                    format!("values {other:?} and {v:?} both become the variant {ident}"),
                );
            }
        }
    }
}

/// Whether `at` is a component schema itself (`components.schemas.Name`), not something inside one.
fn is_named(at: &str) -> bool {
    at.strip_prefix("components.schemas.")
        .is_some_and(|rest| !rest.contains('.'))
}
