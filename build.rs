//! Generates the low-level client (`twelvelabs::raw`) from `openapi.yaml` with progenitor.
//!
//! Everything is written to `OUT_DIR`; nothing in the source tree is touched. Before generation the
//! spec is transformed, explicitly and with assertions, into the subset progenitor can digest:
//!
//! 1. **Multipart operations are removed** (progenitor rejects `multipart/form-data` outright) and
//!    so are the form schemas only they use. They stay in `openapi.yaml` as documentation and are
//!    written by hand in `src/`. The exact list is asserted ([`HAND_WRITTEN_OPERATIONS`]), so a new
//!    multipart operation cannot silently vanish from the client.
//! 2. **Non-JSON response media types are removed** (the NDJSON stream of `POST /generate`); the
//!    exact list is asserted ([`STRIPPED_MEDIA_TYPES`]). The stream is parsed by hand-written code.
//! 3. **Success statuses are collapsed into `2XX`.** The docs disagree on 200 vs 201 vs 204; every
//!    2xx response of an operation must share one schema (asserted) and any 2xx is then a success.
//!    Operations without a success body (PUT/DELETE) succeed on an empty body.
//! 4. **Error responses are removed** for the generator, so that every non-2xx response reaches the
//!    SDK as `Error::UnexpectedResponse` with its status, headers and body intact, even when the
//!    body is an HTML 502 page or empty. `twelvelabs::Error` decodes the documented `ErrorBody`.
//! 5. **`additionalProperties: false` is removed** everywhere, so a new field never fails a response.
//! 6. **Every enum reachable from a response becomes an open enum**: known variants plus
//!    `Unknown(String)`, generated here from the spec and swapped in with `with_replacement`. An
//!    enum reachable from a response must be a named schema (asserted), or it could not be opened.
//! 7. **Property defaults are hidden from the generator**: they are documentation, and typify
//!    would otherwise make those fields non-optional and always send the default.
//!
//! 8. **Integer fields accept integral floats** (`"width": 1280.0`): a deserializer is added to
//!    every integer field of the generated types (after generation, on the syntax tree).
//! 9. **No `api-version` header**: progenitor sends the spec's `info.version` in an `api-version`
//!    header on every request. Twelve Labs versions its API in the path (`/v1.2`) and documents no
//!    such header, so the statements that build and attach it are removed from the syntax tree
//!    (one per generated operation, asserted). This spares a header map per request.
//!
//! Besides `codegen.rs` (the progenitor client with the open enums inside its `types` module) the
//! script writes `spec_info.rs`: the lists above plus a decoder from component-schema name to the
//! generated type, which the tests use to check every example in the spec.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing
)] // a build script fails loudly

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::{env, fs};

use heck::{ToSnakeCase, ToUpperCamelCase};
use serde_json::{Map, Value};

/// Operations progenitor cannot generate; implemented by hand in `src/`. Sorted.
const HAND_WRITTEN_OPERATIONS: &[&str] = &[
    "createEmbedTask",
    "createEmbedding",
    "createTask",
    "createTransfer",
    "searchV2",
];

/// Response media types hidden from the generator (`operationId status media-type`). Sorted.
const STRIPPED_MEDIA_TYPES: &[&str] = &["generateText 200 application/x-ndjson"];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Marks a POST that creates something: it is not retried after it may have reached the server.
const CREATES_EXTENSION: &str = "x-twelvelabs-creates";

/// Where the generated module lives in the crate; replacement paths are absolute.
const RAW_TYPES_PATH: &str = "crate::raw::types";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let spec_path = manifest_dir.join("openapi.yaml");
    println!("cargo:rerun-if-changed={}", spec_path.display());
    println!("cargo:rerun-if-changed=build.rs");

    let text = fs::read_to_string(&spec_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", spec_path.display()));
    let mut doc: Value = yaml_serde::from_str(&text)
        .unwrap_or_else(|e| panic!("openapi.yaml is not valid YAML: {e}"));

    let prepared = prepare(&mut doc);

    let spec: openapiv3::OpenAPI = serde_json::from_value(doc)
        .unwrap_or_else(|e| panic!("openapi.yaml is not an OpenAPI 3.0 document: {e}"));

    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_derive("schemars::JsonSchema")
        // Every request goes through `crate::transport::Transport` (auth, retries, tracing,
        // rate-limit tracking) via the `ClientHooks` impl in src/transport.rs.
        .with_inner_type("crate::transport::Transport".parse().expect("a type path"));
    for open in &prepared.open_enums {
        settings.with_replacement(
            &open.name,
            format!("{RAW_TYPES_PATH}::{}", open.name),
            [progenitor::TypeImpl::Display, progenitor::TypeImpl::FromStr].into_iter(),
        );
    }

    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&spec)
        .unwrap_or_else(|e| panic!("progenitor could not generate the client: {e}"));
    let mut file: syn::File =
        syn::parse2(tokens).unwrap_or_else(|e| panic!("progenitor produced unparsable code: {e}"));

    // Put the open enums into the generated `types` module, where the replaced names would have been.
    let open_src: String = prepared.open_enums.iter().map(OpenEnum::render).collect();
    let open_items = syn::parse_file(&open_src)
        .unwrap_or_else(|e| panic!("generated open enums do not parse: {e}\n{open_src}"))
        .items;
    let types_mod = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => Some(m),
            _ => None,
        })
        .expect("progenitor output has no `types` module");
    types_mod
        .content
        .as_mut()
        .expect("`types` module has a body")
        .1
        .extend(open_items);

    // progenitor documents each operation with a ```ignore snippet: usage text, not a test. Show it
    // as text so it does not count as an ignored doctest.
    let lenient_fields = lenient_integers(&mut file);
    assert!(
        lenient_fields > 0,
        "no integer field was found to make lenient"
    );
    let removed_version_headers = remove_api_version_header(&mut file);
    assert_eq!(
        removed_version_headers,
        prepared.generated_operations.len(),
        "expected one `api-version` header per generated operation"
    );
    let generated = prettyplease::unparse(&file);
    assert!(
        !generated.contains("header_map") && !generated.contains("\"api-version\""),
        "an `api-version` header is left in the generated client"
    );
    let snippets = generated.matches("```ignore").count();
    assert_eq!(
        snippets,
        prepared.generated_operations.len(),
        "expected one ```ignore usage snippet per generated operation"
    );
    let generated = generated.replace("```ignore", "```text");
    let generated_lines = generated.lines().count();
    fs::write(out_dir.join("codegen.rs"), &generated).expect("write codegen.rs");

    let mut info = render_spec_info(&prepared, generated_lines);
    let _ = writeln!(
        info,
        "/// Integer fields that also accept an integral float (`159.0`), as a server may send.\n\
         pub const LENIENT_INTEGER_FIELDS: usize = {lenient_fields};"
    );
    syn::parse_file(&info).unwrap_or_else(|e| panic!("spec_info.rs does not parse: {e}\n{info}"));
    fs::write(out_dir.join("spec_info.rs"), info).expect("write spec_info.rs");
}

/// Integers sent as floats (`"width": 1280.0`) must not fail a response: every integer field of
/// a generated type gets a deserializer that also takes an integral float. Returns how many.
fn lenient_integers(file: &mut syn::File) -> usize {
    use quote::ToTokens;
    let mut count = 0;
    for item in &mut file.items {
        let syn::Item::Mod(m) = item else { continue };
        if m.ident != "types" {
            continue;
        }
        let Some((_, items)) = m.content.as_mut() else {
            continue;
        };
        for item in items {
            let syn::Item::Struct(st) = item else {
                continue;
            };
            let syn::Fields::Named(fields) = &mut st.fields else {
                continue;
            };
            for field in &mut fields.named {
                let ty: String = field
                    .ty
                    .to_token_stream()
                    .to_string()
                    .split_whitespace()
                    .collect();
                let (func, optional) = match ty.as_str() {
                    "i64" => ("i64", false),
                    "::std::option::Option<i64>" => ("i64", true),
                    "u64" => ("u64", false),
                    "::std::option::Option<u64>" => ("u64", true),
                    "::std::num::NonZeroU64" => ("nonzero_u64", false),
                    "::std::option::Option<::std::num::NonZeroU64>" => ("nonzero_u64", true),
                    _ => continue,
                };
                let attr: syn::Attribute = if optional {
                    let path = format!("crate::raw::lenient::option_{func}");
                    syn::parse_quote!(#[serde(default, deserialize_with = #path)])
                } else {
                    let path = format!("crate::raw::lenient::{func}");
                    syn::parse_quote!(#[serde(deserialize_with = #path)])
                };
                field.attrs.push(attr);
                count += 1;
            }
        }
    }
    count
}

/// Removes progenitor's `api-version` header from every generated `send`: the
/// `let mut header_map = HeaderMap::with_capacity(1)` statement, its `append` of `api-version` and
/// the `.headers(header_map)` call. Returns how many operations lost it. The spec declares no
/// header parameters, so `header_map` holds nothing else (the caller asserts none is left).
fn remove_api_version_header(file: &mut syn::File) -> usize {
    use quote::ToTokens;
    use syn::visit_mut::VisitMut;

    #[derive(Default)]
    struct Remover {
        lets: usize,
        appends: usize,
        attaches: usize,
    }
    fn names_header_map(expr: &syn::Expr) -> bool {
        matches!(expr, syn::Expr::Path(p) if p.path.is_ident("header_map"))
    }
    impl VisitMut for Remover {
        fn visit_block_mut(&mut self, block: &mut syn::Block) {
            block.stmts.retain(|stmt| match stmt {
                syn::Stmt::Local(local) => {
                    let is_map =
                        matches!(&local.pat, syn::Pat::Ident(p) if p.ident == "header_map");
                    self.lets += usize::from(is_map);
                    !is_map
                }
                syn::Stmt::Expr(syn::Expr::MethodCall(call), _)
                    if call.method == "append" && names_header_map(&call.receiver) =>
                {
                    assert!(
                        call.to_token_stream()
                            .to_string()
                            .contains("\"api-version\""),
                        "a header other than api-version is appended: {}",
                        call.to_token_stream()
                    );
                    self.appends += 1;
                    false
                }
                _ => true,
            });
            syn::visit_mut::visit_block_mut(self, block);
        }
        fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
            if let syn::Expr::MethodCall(call) = expr
                && call.method == "headers"
                && call.args.len() == 1
                && call.args.first().is_some_and(names_header_map)
            {
                self.attaches += 1;
                *expr = (*call.receiver).clone();
            }
            syn::visit_mut::visit_expr_mut(self, expr);
        }
    }
    let mut remover = Remover::default();
    remover.visit_file_mut(file);
    assert_eq!(
        remover.lets, remover.appends,
        "header_map built but not filled"
    );
    assert_eq!(
        remover.lets, remover.attaches,
        "header_map built but not attached"
    );
    remover.lets
}

/// What the transformation found and did; rendered into `spec_info.rs`.
struct Prepared {
    /// operationIds left for progenitor, sorted.
    generated_operations: Vec<String>,
    /// operationIds marked `x-twelvelabs-creates: true`, sorted.
    creating_operations: Vec<String>,
    /// operationIds with more than one documented 2xx status (e.g. 200 and 201).
    ambiguous_success: Vec<String>,
    /// Component schemas generated as Rust types (name → is open enum).
    schemas: BTreeMap<String, bool>,
    open_enums: Vec<OpenEnum>,
    removed_additional_properties_false: usize,
    /// Schemas whose `additionalProperties: true` became a flattened `extra` map.
    kept_additional_properties: Vec<String>,
    /// `Schema.property` whose `default` was hidden from the generator.
    removed_defaults: Vec<String>,
}

fn prepare(doc: &mut Value) -> Prepared {
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(
        version.starts_with("3.0."),
        "openapi.yaml must be OpenAPI 3.0.x (progenitor rejects {version:?})"
    );

    // 6 (analysis first, on the untouched document): enums reachable from any response.
    let reachable = schemas_reachable_from_responses(doc);
    let mut open_enums = Vec::new();
    for name in &reachable {
        let schema = &doc["components"]["schemas"][name.as_str()];
        if let Some(values) = schema.get("enum") {
            open_enums.push(OpenEnum::new(name, schema, values));
        }
    }

    let paths = doc["paths"]
        .as_object()
        .cloned()
        .expect("openapi.yaml has no paths");

    // 1. Multipart operations.
    let mut hand_written = Vec::new();
    let mut hand_written_creating = Vec::new();
    let mut form_schemas = BTreeSet::new();
    let mut new_paths = Map::new();
    for (path, item) in paths {
        let mut item = item;
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let content = &op["requestBody"]["content"];
            let multipart = content
                .as_object()
                .is_some_and(|c| c.keys().any(|k| k.starts_with("multipart/")));
            if multipart {
                hand_written.push(op_id(op).to_owned());
                if op.get(CREATES_EXTENSION) == Some(&Value::Bool(true)) {
                    hand_written_creating.push(op_id(op).to_owned());
                }
                for media in content.as_object().into_iter().flat_map(|c| c.values()) {
                    if let Some(name) = media["schema"]["$ref"].as_str().and_then(component_name) {
                        form_schemas.insert(name.to_owned());
                    }
                }
                item.as_object_mut().unwrap().remove(method);
            }
        }
        if METHODS.iter().any(|m| item.get(*m).is_some()) {
            new_paths.insert(path, item);
        }
    }
    hand_written.sort();
    assert_eq!(
        hand_written, HAND_WRITTEN_OPERATIONS,
        "the multipart operations in openapi.yaml changed: update HAND_WRITTEN_OPERATIONS in \
         build.rs and implement the new ones by hand in src/"
    );
    doc["paths"] = Value::Object(new_paths);
    // The form schemas describe multipart fields; they are not JSON types. Remove them, but only
    // if nothing generated still needs them.
    let remaining = serde_json::to_string(&doc["paths"]).unwrap();
    let schemas = doc["components"]["schemas"].as_object_mut().unwrap();
    for name in &form_schemas {
        let removed = schemas.remove(name);
        assert!(
            removed.is_some(),
            "form schema {name} is referenced but not defined"
        );
    }
    let others = serde_json::to_string(&schemas).unwrap();
    for name in &form_schemas {
        let needle = format!("\"#/components/schemas/{name}\"");
        assert!(
            !remaining.contains(&needle) && !others.contains(&needle),
            "form schema {name} is also used outside multipart bodies"
        );
    }

    // 2-4. Responses: inline shared responses, strip non-JSON media, collapse 2xx, drop errors.
    let responses_components = doc["components"]["responses"].clone();
    let mut stripped_media = Vec::new();
    let mut ambiguous_success = Vec::new();
    let mut generated_operations = Vec::new();
    let mut creating_operations = hand_written_creating;
    for item in doc["paths"].as_object_mut().unwrap().values_mut() {
        for method in METHODS {
            let Some(op) = item.get_mut(method) else {
                continue;
            };
            let id = op_id(op).to_owned();
            generated_operations.push(id.clone());
            if op.get(CREATES_EXTENSION) == Some(&Value::Bool(true)) {
                assert_eq!(
                    method, "post",
                    "{id}: {CREATES_EXTENSION} is for POST operations"
                );
                creating_operations.push(id.clone());
            }
            let responses = op["responses"]
                .as_object()
                .cloned()
                .unwrap_or_else(|| panic!("{id} has no responses"));
            let mut success: Vec<(String, Value)> = Vec::new();
            for (status, response) in responses {
                let mut response = resolve_response(&response, &responses_components);
                if !status.starts_with('2') {
                    continue; // 4: errors are decoded by twelvelabs::Error from the raw response
                }
                if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) {
                    let non_json: Vec<String> = content
                        .keys()
                        .filter(|k| k.as_str() != "application/json")
                        .cloned()
                        .collect();
                    for media in non_json {
                        content.remove(&media);
                        stripped_media.push(format!("{id} {status} {media}"));
                    }
                }
                if let Some(content) = response.get_mut("content") {
                    *content = strip_examples(content.take());
                }
                success.push((status, response));
            }
            let (first_status, first) = success
                .first()
                .cloned()
                .unwrap_or_else(|| panic!("{id} documents no 2xx response"));
            for (status, response) in &success[1..] {
                assert_eq!(
                    response.get("content"),
                    first.get("content"),
                    "{id}: responses {first_status} and {status} must share one schema"
                );
            }
            if success.len() > 1 {
                ambiguous_success.push(id.clone());
            }
            let mut collapsed = Map::new();
            collapsed.insert("description".into(), first["description"].clone());
            if let Some(content) = first
                .get("content")
                .filter(|c| c.as_object().is_some_and(|c| !c.is_empty()))
            {
                collapsed.insert("content".into(), content.clone());
            }
            let mut new_responses = Map::new();
            new_responses.insert("2XX".into(), Value::Object(collapsed));
            op["responses"] = Value::Object(new_responses);
        }
    }
    stripped_media.sort();
    assert_eq!(
        stripped_media, STRIPPED_MEDIA_TYPES,
        "the non-JSON responses in openapi.yaml changed: update STRIPPED_MEDIA_TYPES in build.rs \
         and handle the new media type by hand in src/"
    );
    generated_operations.sort();
    ambiguous_success.sort();
    creating_operations.sort();
    // The shared responses are inlined or dropped; progenitor need not see them.
    doc["components"]
        .as_object_mut()
        .unwrap()
        .remove("responses");

    // 5. additionalProperties: false; and `true` beside properties, which typify would drop
    //    silently, becomes `{}`, which typify keeps as a flattened `extra` map (custom metadata).
    let removed_additional_properties_false = strip_additional_properties_false(doc);
    let kept_additional_properties = keep_additional_properties(doc);
    // 7. Property defaults are documentation: typify would make such fields non-optional and the
    //    client would always send the documented default. Only what the caller sets is sent.
    let removed_defaults = strip_property_defaults(doc);

    let open_names: BTreeSet<&str> = open_enums.iter().map(|e| e.name.as_str()).collect();
    let schemas = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| (k.clone(), open_names.contains(k.as_str())))
        .collect();

    Prepared {
        generated_operations,
        creating_operations,
        ambiguous_success,
        schemas,
        open_enums,
        removed_additional_properties_false,
        kept_additional_properties,
        removed_defaults,
    }
}

fn op_id(op: &Value) -> &str {
    op["operationId"]
        .as_str()
        .unwrap_or_else(|| panic!("an operation has no operationId: {op}"))
}

fn component_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

fn resolve_response(response: &Value, components: &Value) -> Value {
    match response.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/responses/")
                .unwrap_or_else(|| panic!("unsupported response $ref {r}"));
            components
                .get(name)
                .cloned()
                .unwrap_or_else(|| panic!("response $ref {r} does not resolve"))
        }
        None => response.clone(),
    }
}

/// Examples are for documentation and tests; the generator does not need them.
fn strip_examples(mut content: Value) -> Value {
    if let Some(media) = content.as_object_mut() {
        for m in media.values_mut() {
            if let Some(m) = m.as_object_mut() {
                m.remove("example");
                m.remove("examples");
            }
        }
    }
    content
}

/// Component schemas reachable (through `$ref`) from any response of any operation, including
/// error responses and the media types the generator will not see. Panics on an inline enum among
/// them: it could not be replaced by an open enum.
fn schemas_reachable_from_responses(doc: &Value) -> BTreeSet<String> {
    let mut roots = Vec::new();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            for response in op["responses"]
                .as_object()
                .into_iter()
                .flat_map(|r| r.values())
            {
                let response = resolve_response(response, &doc["components"]["responses"]);
                for media in response["content"]
                    .as_object()
                    .into_iter()
                    .flat_map(|c| c.values())
                {
                    roots.push((format!("{} response", op_id(op)), media["schema"].clone()));
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    while let Some((location, schema)) = roots.pop() {
        let mut refs = Vec::new();
        collect_refs(&schema, &location, true, &mut refs);
        for name in refs {
            if seen.insert(name.clone()) {
                let target = doc["components"]["schemas"]
                    .get(&name)
                    .unwrap_or_else(|| panic!("$ref to undefined schema {name} in {location}"));
                // A named enum at the top level is fine: it becomes an open enum.
                let body = if target.get("enum").is_some() {
                    Value::Null
                } else {
                    target.clone()
                };
                roots.push((format!("schema {name}"), body));
            }
        }
    }
    seen
}

fn collect_refs(value: &Value, location: &str, top: bool, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                let name = component_name(r)
                    .unwrap_or_else(|| panic!("unsupported schema $ref {r} in {location}"));
                out.push(name.to_owned());
            }
            if !top && map.contains_key("enum") {
                panic!(
                    "{location} has an inline enum reachable from a response; move it to \
                     components.schemas so build.rs can make it an open enum"
                );
            }
            for (key, v) in map {
                if key != "example" && key != "examples" && key != "enum" && key != "default" {
                    collect_refs(v, location, false, out);
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                collect_refs(v, location, false, out);
            }
        }
        _ => {}
    }
}

fn strip_additional_properties_false(value: &mut Value) -> usize {
    match value {
        Value::Object(map) => {
            let mut n = 0;
            if map.get("additionalProperties") == Some(&Value::Bool(false)) {
                map.remove("additionalProperties");
                n += 1;
            }
            n + map
                .values_mut()
                .map(strip_additional_properties_false)
                .sum::<usize>()
        }
        Value::Array(items) => items
            .iter_mut()
            .map(strip_additional_properties_false)
            .sum(),
        _ => 0,
    }
}

fn strip_property_defaults(doc: &mut Value) -> Vec<String> {
    let mut removed = Vec::new();
    let schemas = doc["components"]["schemas"].as_object_mut().unwrap();
    for (name, schema) in schemas.iter_mut() {
        let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for (prop, p) in props.iter_mut() {
            if p.as_object_mut()
                .and_then(|p| p.remove("default"))
                .is_some()
            {
                removed.push(format!("{name}.{prop}"));
            }
        }
    }
    removed
}

fn keep_additional_properties(doc: &mut Value) -> Vec<String> {
    let mut kept = Vec::new();
    let schemas = doc["components"]["schemas"].as_object_mut().unwrap();
    for (name, schema) in schemas.iter_mut() {
        if schema.get("properties").is_some()
            && schema.get("additionalProperties") == Some(&Value::Bool(true))
        {
            schema["additionalProperties"] = Value::Object(Map::new());
            kept.push(name.clone());
        }
    }
    // Nested inline objects with both would lose their extra keys the same way.
    for schema in schemas.values() {
        assert_no_nested_open_object(schema, false);
    }
    kept
}

fn assert_no_nested_open_object(value: &Value, nested: bool) {
    if let Value::Object(map) = value {
        assert!(
            !(nested
                && map.contains_key("properties")
                && map.get("additionalProperties") == Some(&Value::Bool(true))),
            "an inline object with properties and `additionalProperties: true` would lose its \
             extra keys; make it a named schema"
        );
        for v in map.values() {
            assert_no_nested_open_object(v, true);
        }
    } else if let Value::Array(items) = value {
        for v in items {
            assert_no_nested_open_object(v, true);
        }
    }
}

/// An enum schema rendered as an open Rust enum.
struct OpenEnum {
    name: String,
    description: String,
    /// (variant identifier, wire value)
    variants: Vec<(String, String)>,
}

impl OpenEnum {
    fn new(name: &str, schema: &Value, values: &Value) -> Self {
        assert_eq!(
            schema["type"].as_str(),
            Some("string"),
            "enum schema {name} must be `type: string` to become an open enum"
        );
        let values = values.as_array().expect("enum is an array");
        let mut variants = Vec::new();
        let mut idents = BTreeSet::new();
        for v in values {
            let wire = v
                .as_str()
                .unwrap_or_else(|| panic!("enum {name} has a non-string value {v}"));
            let mut ident = wire.to_upper_camel_case();
            if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) {
                ident.insert(0, 'V');
            }
            assert!(
                ident != "Unknown" && ident != "Self",
                "enum {name}: value {wire:?} would collide with a reserved variant name"
            );
            assert!(
                syn::parse_str::<syn::Ident>(&ident).is_ok(),
                "enum {name}: value {wire:?} does not give a Rust identifier ({ident})"
            );
            assert!(
                idents.insert(ident.clone()),
                "enum {name}: two values map to the variant {ident}"
            );
            variants.push((ident, wire.to_owned()));
        }
        Self {
            name: name.to_owned(),
            description: schema["description"]
                .as_str()
                .unwrap_or("")
                .trim()
                .to_owned(),
            variants,
        }
    }

    fn render(&self) -> String {
        let name = &self.name;
        let mut s = String::new();
        let doc = if self.description.is_empty() {
            format!("The `{name}` values of the API.")
        } else {
            self.description.clone()
        };
        let open_doc = format!(
            "This enum is **open**: a value this version of the SDK does not know is kept as \
             `Unknown(value)` instead of failing the response, and is sent back unchanged. Match on \
             [`{name}::as_str`] to handle values added after this release; never send `Unknown` \
             values you made up."
        );
        let _ = write!(
            s,
            "#[doc = {doc:?}]\n\
             #[doc = \"\"]\n\
             #[doc = {open_doc:?}]\n\
             #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]\n\
             #[non_exhaustive]\n\
             pub enum {name} {{\n"
        );
        for (ident, wire) in &self.variants {
            let _ = writeln!(s, "    #[doc = \"`{wire}`\"]\n    {ident},");
        }
        s.push_str(
            "    /// A value this version of the SDK does not know, exactly as the server sent it.\n    \
             Unknown(::std::string::String),\n}\n",
        );
        let known: String = self
            .variants
            .iter()
            .map(|(_, w)| format!("{w:?}, "))
            .collect();
        let to_str: String = self
            .variants
            .iter()
            .map(|(i, w)| format!("Self::{i} => {w:?},\n"))
            .collect();
        let from_str: String = self
            .variants
            .iter()
            .map(|(i, w)| format!("{w:?} => Self::{i},\n"))
            .collect();
        let _ = write!(
            s,
            "impl {name} {{\n\
                 /// Every value this version of the SDK knows, in the spec's order.\n\
                 pub const KNOWN: &'static [&'static str] = &[{known}];\n\
                 /// The wire value.\n\
                 pub fn as_str(&self) -> &str {{ match self {{ {to_str} Self::Unknown(v) => v.as_str(), }} }}\n\
                 /// Whether this value is one of [`Self::KNOWN`].\n\
                 pub fn is_known(&self) -> bool {{ !matches!(self, Self::Unknown(_)) }}\n\
                 fn known(v: &str) -> ::std::option::Option<Self> {{ ::std::option::Option::Some(match v {{ {from_str} _ => return ::std::option::Option::None, }}) }}\n\
             }}\n\
             impl ::std::convert::From<&str> for {name} {{\n\
                 fn from(v: &str) -> Self {{ Self::known(v).unwrap_or_else(|| Self::Unknown(v.to_owned())) }}\n\
             }}\n\
             impl ::std::convert::From<::std::string::String> for {name} {{\n\
                 fn from(v: ::std::string::String) -> Self {{ Self::known(&v).unwrap_or(Self::Unknown(v)) }}\n\
             }}\n\
             impl ::std::str::FromStr for {name} {{\n\
                 type Err = ::std::convert::Infallible;\n\
                 fn from_str(v: &str) -> ::std::result::Result<Self, Self::Err> {{ ::std::result::Result::Ok(Self::from(v)) }}\n\
             }}\n\
             impl ::std::fmt::Display for {name} {{\n\
                 fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {{ f.write_str(self.as_str()) }}\n\
             }}\n\
             impl ::serde::Serialize for {name} {{\n\
                 fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {{ s.serialize_str(self.as_str()) }}\n\
             }}\n\
             impl<'de> ::serde::Deserialize<'de> for {name} {{\n\
                 fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {{\n\
                     ::std::result::Result::Ok(Self::from(<::std::string::String as ::serde::Deserialize>::deserialize(d)?))\n\
                 }}\n\
             }}\n\
             impl ::schemars::JsonSchema for {name} {{\n\
                 fn schema_name() -> ::std::borrow::Cow<'static, str> {{ {name:?}.into() }}\n\
                 fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {{\n\
                     ::schemars::json_schema!({{ \"type\": \"string\", \"description\": {doc:?}, \"examples\": Self::KNOWN }})\n\
                 }}\n\
             }}\n"
        );
        s
    }
}

fn render_spec_info(p: &Prepared, generated_lines: usize) -> String {
    let list = |items: &mut dyn Iterator<Item = &str>| -> String {
        items.map(|s| format!("{s:?}, ")).collect()
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "/// operationIds generated by progenitor as methods of [`super::Client`] (snake_case there).\n\
         pub const GENERATED_OPERATIONS: &[&str] = &[{}];",
        list(&mut p.generated_operations.iter().map(String::as_str))
    );
    let _ = writeln!(
        s,
        "/// operationIds with a multipart body, hidden from the generator and written by hand.\n\
         pub const HAND_WRITTEN_OPERATIONS: &[&str] = &[{}];",
        list(&mut HAND_WRITTEN_OPERATIONS.iter().copied())
    );
    let _ = writeln!(
        s,
        "/// The same, as `OperationInfo::operation_id` spells them (snake_case).\n\
         pub const HAND_WRITTEN_OPERATION_IDS: &[&str] = &[{}];",
        list(
            &mut HAND_WRITTEN_OPERATIONS
                .iter()
                .map(|s| s.to_snake_case())
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
        )
    );
    let _ = writeln!(
        s,
        "/// operationIds (snake_case) marked `x-twelvelabs-creates`: POSTs that create something and\n\
         /// are therefore not retried once the request may have reached the server, unless opted in.\n\
         pub const CREATING_OPERATION_IDS: &[&str] = &[{}];",
        list(
            &mut p
                .creating_operations
                .iter()
                .map(|s| s.to_snake_case())
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
        )
    );
    let _ = writeln!(
        s,
        "/// Response media types hidden from the generator (`operationId status media-type`).\n\
         pub const STRIPPED_MEDIA_TYPES: &[&str] = &[{}];",
        list(&mut STRIPPED_MEDIA_TYPES.iter().copied())
    );
    let _ = writeln!(
        s,
        "/// operationIds whose docs disagree on the 2xx status; any 2xx is accepted for every operation.\n\
         pub const AMBIGUOUS_SUCCESS_STATUS: &[&str] = &[{}];",
        list(&mut p.ambiguous_success.iter().map(String::as_str))
    );
    let _ = writeln!(
        s,
        "/// Enum schemas generated as open enums (known variants + `Unknown(String)`).\n\
         pub const OPEN_ENUMS: &[&str] = &[{}];",
        list(&mut p.open_enums.iter().map(|e| e.name.as_str()))
    );
    let _ = writeln!(
        s,
        "/// Component schemas generated as Rust types in [`super::types`].\n\
         pub const SCHEMAS: &[&str] = &[{}];",
        list(&mut p.schemas.keys().map(String::as_str))
    );
    let _ = writeln!(
        s,
        "/// How many `additionalProperties: false` the build removed.\n\
         pub const REMOVED_ADDITIONAL_PROPERTIES_FALSE: usize = {};\n\
         /// Lines of generated Rust in the client (`codegen.rs`).\n\
         pub const GENERATED_LINES: usize = {generated_lines};",
        p.removed_additional_properties_false
    );
    let _ = writeln!(
        s,
        "/// Schemas whose custom keys (`additionalProperties: true`) are kept in a flattened `extra` map.\n\
         pub const OPEN_OBJECTS: &[&str] = &[{}];",
        list(&mut p.kept_additional_properties.iter().map(String::as_str))
    );
    let _ = writeln!(
        s,
        "/// Properties whose documented `default` is not applied by the client (only set values are sent).\n\
         pub const DOCUMENTED_DEFAULTS: &[&str] = &[{}];",
        list(&mut p.removed_defaults.iter().map(String::as_str))
    );
    s.push_str(
        "/// Decodes `json` as the generated type of component schema `schema`, then encodes it again.\n\
         ///\n\
         /// Returns `None` for a name that is not a generated schema. Used by the tests to check that\n\
         /// every example in `openapi.yaml` decodes, and available to tools that validate responses.\n\
         pub fn roundtrip_component(schema: &str, json: ::serde_json::Value) -> \
         ::std::option::Option<::std::result::Result<::serde_json::Value, ::std::string::String>> {\n\
             fn rt<T: ::serde::de::DeserializeOwned + ::serde::Serialize>(json: ::serde_json::Value) -> \
             ::std::result::Result<::serde_json::Value, ::std::string::String> {\n\
                 let v: T = ::serde_json::from_value(json).map_err(|e| e.to_string())?;\n\
                 ::serde_json::to_value(&v).map_err(|e| e.to_string())\n\
             }\n\
             ::std::option::Option::Some(match schema {\n",
    );
    for name in p.schemas.keys() {
        let _ = writeln!(s, "{name:?} => rt::<super::types::{name}>(json),");
    }
    s.push_str("_ => return ::std::option::Option::None,\n})\n}\n");
    s
}
