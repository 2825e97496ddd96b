//! Checks on `openapi.yaml` itself and on what the build generated from it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use twelvelabs::raw::operations::{self, Body};
use twelvelabs::raw::spec_info;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn spec() -> Value {
    yaml_serde::from_str(include_str!("../openapi.yaml")).expect("openapi.yaml parses")
}

struct Op<'a> {
    path: &'a str,
    method: &'static str,
    op: &'a Value,
}

fn operations(spec: &Value) -> Vec<Op<'_>> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                ops.push(Op { path, method, op });
            }
        }
    }
    ops
}

fn resolve<'a>(spec: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    spec.pointer(pointer)
}

#[test]
fn spec_is_openapi_3_0_with_api_key_security() {
    let spec = spec();
    assert_eq!(spec["openapi"], "3.0.3");
    assert_eq!(spec["info"]["version"], "1.2");
    let scheme = &spec["components"]["securitySchemes"]["apiKey"];
    assert_eq!(scheme["type"], "apiKey");
    assert_eq!(scheme["in"], "header");
    assert_eq!(scheme["name"], "x-api-key");
    assert_eq!(spec["security"][0]["apiKey"], Value::Array(vec![]));
}

#[test]
fn every_operation_has_a_unique_id_a_declared_tag_and_a_summary() {
    let spec = spec();
    let declared: BTreeSet<&str> = spec["tags"]
        .as_array()
        .expect("top-level tags")
        .iter()
        .map(|t| t["name"].as_str().expect("tag name"))
        .collect();
    let mut ids = BTreeSet::new();
    let mut problems = Vec::new();
    for Op { path, method, op } in operations(&spec) {
        let at = format!("{} {path}", method.to_uppercase());
        match op["operationId"].as_str() {
            Some(id) if !ids.insert(id.to_owned()) => {
                problems.push(format!("{at}: duplicate {id}"))
            }
            Some(_) => {}
            None => problems.push(format!("{at}: no operationId")),
        }
        let tags = op["tags"].as_array().map(Vec::as_slice).unwrap_or_default();
        if tags.is_empty() {
            problems.push(format!("{at}: no tag"));
        }
        for tag in tags {
            if !declared.contains(tag.as_str().unwrap_or_default()) {
                problems.push(format!("{at}: undeclared tag {tag}"));
            }
        }
        if op["summary"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("{at}: no summary"));
        }
        if op["responses"]["429"].is_null() {
            problems.push(format!("{at}: 429 not documented"));
        }
        // Every `{param}` of the path is declared as a required path parameter.
        let item_params = &spec["paths"][path]["parameters"];
        let declared_params: BTreeSet<&str> = op["parameters"]
            .as_array()
            .into_iter()
            .chain(item_params.as_array())
            .flatten()
            .map(|p| match p["$ref"].as_str() {
                Some(r) => resolve(&spec, r).expect("parameter $ref resolves"),
                None => p,
            })
            .filter(|p| p["in"] == "path" && p["required"] == true)
            .filter_map(|p| p["name"].as_str())
            .collect();
        for segment in path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
                && !declared_params.contains(name)
            {
                problems.push(format!("{at}: path parameter {name} not declared"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "spec problems:\n{}",
        problems.join("\n")
    );
    // One descriptor per operation, and nothing else.
    let described: BTreeSet<String> = operations::ALL.iter().map(|o| o.id.to_owned()).collect();
    assert_eq!(
        described, ids,
        "the build describes exactly the spec's operations"
    );
}

#[test]
fn every_ref_resolves() {
    fn walk(spec: &Value, value: &Value, at: &str, bad: &mut Vec<String>, count: &mut usize) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if k == "$ref" {
                        *count += 1;
                        let r = v.as_str().unwrap_or_default();
                        if resolve(spec, r).is_none() {
                            bad.push(format!("{at}: {r}"));
                        }
                    } else if k != "example" && k != "examples" {
                        walk(spec, v, &format!("{at}/{k}"), bad, count);
                    }
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(spec, v, &format!("{at}/{i}"), bad, count);
                }
            }
            _ => {}
        }
    }
    let spec = spec();
    let (mut bad, mut count) = (Vec::new(), 0);
    walk(&spec, &spec, "", &mut bad, &mut count);
    assert!(bad.is_empty(), "unresolved $refs:\n{}", bad.join("\n"));
    assert!(count > 100, "suspiciously few $refs: {count}");
}

#[test]
fn every_enum_is_a_named_schema() {
    fn walk(value: &Value, at: &str, top_level_schema: bool, bad: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if map.contains_key("enum") && !top_level_schema {
                    bad.push(at.to_owned());
                }
                for (k, v) in map {
                    if k != "example" && k != "examples" {
                        walk(v, &format!("{at}/{k}"), false, bad);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, at, false, bad)),
            _ => {}
        }
    }
    let spec = spec();
    let mut bad = Vec::new();
    walk(&spec["paths"], "paths", false, &mut bad);
    for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
        walk(schema, &format!("schemas/{name}"), true, &mut bad);
    }
    assert!(
        bad.is_empty(),
        "inline enums (must be named schemas):\n{}",
        bad.join("\n")
    );
}

/// Every response enum is open; request-only enums stay closed.
#[test]
fn enums_reachable_from_responses_are_open() {
    let spec = spec();
    for name in [
        "TaskStatus",
        "ErrorCode",
        "Confidence",
        "HlsStatus",
        "StreamEventType",
    ] {
        assert!(
            spec_info::OPEN_ENUMS.contains(&name),
            "{name} should be open: {:?}",
            spec_info::OPEN_ENUMS
        );
    }
    for name in spec_info::OPEN_ENUMS {
        assert!(
            spec["components"]["schemas"][name]["enum"].is_array(),
            "{name} is not an enum schema"
        );
    }
}

/// Where an example lives, and the component schema it must decode as.
struct Example {
    at: String,
    schema: Option<String>,
    multipart: bool,
    value: Value,
}

fn examples(spec: &Value) -> Vec<Example> {
    fn from_content(content: &Value, at: &str, out: &mut Vec<Example>) {
        for (media, m) in content.as_object().into_iter().flatten() {
            let schema = m["schema"]["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .map(str::to_owned);
            let mut push = |value: &Value, at: String| {
                out.push(Example {
                    at,
                    schema: schema.clone(),
                    multipart: media.starts_with("multipart/"),
                    value: value.clone(),
                })
            };
            if let Some(v) = m.get("example") {
                push(v, format!("{at} {media}"));
            }
            for (name, e) in m["examples"].as_object().into_iter().flatten() {
                push(&e["value"], format!("{at} {media} ({name})"));
            }
        }
    }
    let mut out = Vec::new();
    for Op { path, method, op } in operations(spec) {
        let at = format!("{} {path}", method.to_uppercase());
        from_content(
            &op["requestBody"]["content"],
            &format!("{at} request"),
            &mut out,
        );
        for (status, r) in op["responses"].as_object().into_iter().flatten() {
            if r.get("$ref").is_none() {
                from_content(&r["content"], &format!("{at} {status}"), &mut out);
            }
        }
    }
    for (name, r) in spec["components"]["responses"]
        .as_object()
        .into_iter()
        .flatten()
    {
        from_content(&r["content"], &format!("responses/{name}"), &mut out);
    }
    out
}

/// Every leaf of `expected` is present with the same value in `actual`: decoding lost nothing.
/// Absent, `null` and empty arrays are equivalent; numbers compare numerically; date-times by instant.
fn lost_fields(expected: &Value, actual: &Value, at: &str, lost: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Null, Value::Null) => {}
        (Value::Array(e), _) if e.is_empty() && (actual.is_null() || actual == expected) => {}
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                let child = format!("{at}.{k}");
                match a.get(k) {
                    Some(av) => lost_fields(v, av, &child, lost),
                    None if v.is_null() || v.as_array().is_some_and(Vec::is_empty) => {}
                    None => lost.push(child),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                lost_fields(ev, av, &format!("{at}[{i}]"), lost);
            }
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => {}
        (Value::String(e), Value::String(a)) if e == a => {}
        (Value::String(e), Value::String(a))
            if chrono::DateTime::parse_from_rfc3339(e).ok().is_some()
                && chrono::DateTime::parse_from_rfc3339(e).ok()
                    == chrono::DateTime::parse_from_rfc3339(a).ok() => {}
        (e, a) if e == a => {}
        (e, a) => lost.push(format!("{at}: {e} became {a}")),
    }
}

#[test]
fn every_example_decodes_into_its_generated_type_without_loss() {
    let spec = spec();
    let all = examples(&spec);
    let mut failures = Vec::new();
    let mut checked = 0;
    for ex in &all {
        let Some(schema) = &ex.schema else {
            failures.push(format!("{}: example without a named schema", ex.at));
            continue;
        };
        match spec_info::roundtrip_component(schema, ex.value.clone()) {
            None if ex.multipart => {} // form schemas are not generated; fields checked by hand
            None => failures.push(format!("{}: {schema} is not a generated type", ex.at)),
            Some(Err(e)) => failures.push(format!("{}: does not decode as {schema}: {e}", ex.at)),
            Some(Ok(back)) => {
                checked += 1;
                let mut lost = Vec::new();
                lost_fields(&ex.value, &back, "$", &mut lost);
                if !lost.is_empty() {
                    failures.push(format!("{}: {schema} loses {lost:?}", ex.at));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "example failures:\n{}",
        failures.join("\n")
    );
    assert!(checked >= 30, "only {checked} examples were checked");
}

/// The seed notebook's real responses are in the spec as examples.
#[test]
fn seed_responses_are_examples_in_the_spec() {
    let spec = spec();
    let all = examples(&spec);
    let has = |needle: &str| all.iter().any(|e| e.value.to_string().contains(needle));
    for needle in [
        "666599d4e6fb7df29de0f89c",                  // created index
        "66659a3efa7835326810120c",                  // task id
        "fd31bdd0-eaf4-427f-bc27-6cb7939e6249.m3u8", // task hls
        "\"total_duration\":159",                    // video list page_info
        "\"total_inner_matches\":0",                 // empty search
        "does not exist in video collection",        // the 404
    ] {
        assert!(has(needle), "no example contains {needle}");
    }
}

/// The source of the ergonomic layer (`src/api/*.rs`), concatenated.
fn api_source() -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/api");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// Every operation is reachable from a resource handle: a generated one is called as
/// `raw.<name>()`, a hand-written one (multipart body) and a streamed media type are sent through
/// their descriptor `operations::<NAME>`. An operation added to the spec and not wrapped yet is
/// still usable from `twelvelabs::raw`; this test says which ones lack a resource method.
#[test]
fn every_operation_is_exposed_by_the_crate() {
    let src = api_source();
    let mut missing = Vec::new();
    for op in operations::ALL {
        let konst = heck_shouty(op.id);
        let by_descriptor = src.contains(&format!("operations::{konst}"));
        if op.generated && !src.contains(&format!(".{}()", op.name)) {
            missing.push(format!("{} (generated: raw.{}())", op.id, op.name));
        }
        if !op.generated && !by_descriptor {
            missing.push(format!("{} (hand-written: operations::{konst})", op.id));
        }
        if !op.streams.is_empty() && !by_descriptor {
            missing.push(format!(
                "{} {:?} (streamed: operations::{konst})",
                op.id, op.streams
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "operations without a resource method in src/api (use them from twelvelabs::raw, or add \
         one):\n{}",
        missing.join("\n")
    );
}

/// `createTask` → `CREATE_TASK`, as the build names descriptors.
fn heck_shouty(id: &str) -> String {
    let mut out = String::new();
    for (i, c) in id.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// No path of the API is written in the ergonomic layer: paths come from the descriptors.
#[test]
fn the_resource_files_hold_no_literal_paths() {
    let src = api_source();
    let mut found = Vec::new();
    for op in operations::ALL {
        let literal = format!("\"{}\"", op.path);
        let prefix = format!(
            "\"{}/",
            op.path.split('{').next().unwrap().trim_end_matches('/')
        );
        if src.contains(&literal) || (op.path.contains('{') && src.contains(&prefix)) {
            found.push(op.path);
        }
    }
    assert!(found.is_empty(), "literal paths in src/api: {found:?}");
}

/// The descriptors say what the spec says, read independently here: method, path, creates,
/// multipart (hand-written) with its file fields, streamed media types.
#[test]
fn descriptors_match_the_spec() {
    let spec = spec();
    for Op { path, method, op } in operations(&spec) {
        let id = op["operationId"].as_str().unwrap();
        let d = operations::ALL.iter().find(|d| d.id == id).unwrap();
        assert_eq!(d.method.as_str(), method.to_uppercase(), "{id}");
        assert_eq!(d.path, path, "{id}");
        assert_eq!(d.creates, op["x-twelvelabs-creates"] == true, "{id}");
        let content = op["requestBody"]["content"].as_object();
        let multipart = content.is_some_and(|c| c.keys().any(|k| k.starts_with("multipart/")));
        assert_eq!(d.generated, !multipart, "{id}");
        match d.body {
            Body::Multipart { files } => {
                assert!(multipart, "{id}");
                let schema = &content.unwrap()["multipart/form-data"]["schema"];
                let schema = resolve(&spec, schema["$ref"].as_str().unwrap()).unwrap();
                for f in files {
                    assert_eq!(schema["properties"][*f]["format"], "binary", "{id}.{f}");
                }
                assert!(
                    !files.is_empty(),
                    "{id}: a multipart body streams at least one file"
                );
            }
            Body::Json => assert!(content.unwrap().contains_key("application/json"), "{id}"),
            Body::None => assert!(content.is_none(), "{id}"),
            _ => panic!("{id}: unexpected body kind {:?}", d.body),
        }
        let non_json: BTreeSet<&str> = op["responses"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(s, _)| s.starts_with('2'))
            .flat_map(|(_, r)| r["content"].as_object().into_iter().flatten())
            .map(|(m, _)| m.as_str())
            .filter(|m| *m != "application/json")
            .collect();
        assert_eq!(
            d.streams.iter().copied().collect::<BTreeSet<_>>(),
            non_json,
            "{id}"
        );
        assert_eq!(operations::by_name(d.name).map(|o| o.id), Some(id));
    }
    let server = spec["servers"][0]["url"].as_str().unwrap();
    assert_eq!(operations::DEFAULT_BASE_URL, server);
    assert_eq!(
        operations::API_VERSION,
        server.rsplit('/').next().unwrap(),
        "the version is the last segment of servers[0].url"
    );
}

/// The waiters' terminal statuses come from `x-twelvelabs-terminal` in the spec.
#[test]
fn terminal_statuses_come_from_the_spec() {
    use twelvelabs::raw::Outcome;
    use twelvelabs::raw::types::{EmbedTaskStatus, TaskStatus};
    let spec = spec();
    type Check = fn(&str) -> Option<Outcome>;
    let checks: [(&str, Check); 2] = [
        ("TaskStatus", |v| TaskStatus::from(v).outcome()),
        ("EmbedTaskStatus", |v| EmbedTaskStatus::from(v).outcome()),
    ];
    for (schema, outcome) in checks {
        let s = &spec["components"]["schemas"][schema];
        let marked = s["x-twelvelabs-terminal"].as_object().unwrap();
        for v in s["enum"].as_array().unwrap() {
            let v = v.as_str().unwrap();
            let expected = match marked.get(v).and_then(Value::as_str) {
                Some("success") => Some(Outcome::Success),
                Some("failure") => Some(Outcome::Failure),
                _ => None,
            };
            assert_eq!(outcome(v), expected, "{schema}.{v}");
        }
        // A status this SDK does not know is not terminal.
        assert_eq!(outcome("cancelled_in_2030"), None, "{schema}");
    }
}

/// Operation URLs are built from the templates with each parameter one path segment.
#[test]
fn descriptor_urls_are_one_segment_per_parameter() {
    let op = operations::GET_VIDEO;
    let url = op
        .url(
            "https://api.example/v1.2",
            &[("index_id", "a/b"), ("video_id", "v 1")],
        )
        .unwrap();
    assert_eq!(url, "https://api.example/v1.2/indexes/a%2Fb/videos/v%201");
    for bad in [".", "..", "", " "] {
        let e = op
            .url("https://x/v1.2", &[("index_id", bad), ("video_id", "v")])
            .unwrap_err();
        assert!(e.to_string().contains("index_id"), "{bad:?}: {e}");
    }
    let e = op.url("https://x/v1.2", &[("index_id", "i")]).unwrap_err();
    assert!(e.to_string().contains("video_id"), "{e}");
    let e = op
        .url(
            "https://x/v1.2",
            &[("index_id", "i"), ("video_id", "v"), ("nope", "x")],
        )
        .unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
}

#[test]
fn unknown_enum_values_and_fields_are_kept() {
    use twelvelabs::raw::types::{Task, TaskStatus};
    let json = serde_json::json!({
        "_id": "66659a3efa7835326810120c",
        "index_id": "666599d4e6fb7df29de0f89c",
        "status": "archived",
        "brand_new_field": {"nested": [1, 2, 3]},
        "hls": {"status": "TRANSCODING_V2", "video_url": "https://example.invalid/v.m3u8"},
        "created_at": "2024-06-09T12:04:14.069Z"
    });
    let task: Task = serde_json::from_value(json).expect("an unknown value must not fail");
    assert_eq!(task.status, Some(TaskStatus::Unknown("archived".into())));
    assert_eq!(task.status.as_ref().unwrap().as_str(), "archived");
    let hls_status = task.hls.as_ref().and_then(|h| h.status.as_ref()).unwrap();
    assert_eq!(hls_status.as_str(), "TRANSCODING_V2");
    assert!(!hls_status.is_known());
    // And the value goes back out unchanged.
    let back = serde_json::to_value(&task).unwrap();
    assert_eq!(back["status"], "archived");
    assert_eq!(back["hls"]["status"], "TRANSCODING_V2");
}

#[test]
fn open_enums_round_trip_every_known_value() {
    use twelvelabs::raw::types::{Confidence, ErrorCode, TaskStatus};
    fn check<T>(known: &[&str])
    where
        T: serde::de::DeserializeOwned + serde::Serialize + std::fmt::Display + std::str::FromStr,
    {
        for wire in known {
            let v: T = serde_json::from_value(Value::String((*wire).into())).unwrap();
            assert_eq!(v.to_string(), *wire);
            assert_eq!(
                serde_json::to_value(&v).unwrap(),
                Value::String((*wire).into())
            );
        }
    }
    check::<TaskStatus>(TaskStatus::KNOWN);
    check::<Confidence>(Confidence::KNOWN);
    check::<ErrorCode>(ErrorCode::KNOWN);
    // Both spellings the sources use for a missing resource are known values.
    assert!(ErrorCode::from("resource_not_exists").is_known());
    assert!(ErrorCode::from("resource_not_exist").is_known());
    assert_ne!(
        ErrorCode::from("resource_not_exists"),
        ErrorCode::from("resource_not_exist")
    );
}

/// Custom video metadata (merged into `metadata` by the API) survives decoding.
#[test]
fn custom_video_metadata_is_kept() {
    use twelvelabs::raw::types::Video;
    let video: Video = serde_json::from_value(serde_json::json!({
        "_id": "66659a48d22b3a3c97bf1d5f",
        "created_at": "2024-06-09T12:04:14Z",
        "metadata": {"duration": 159, "filename": "a.mp4", "category": "recentlyAdded", "needsReview": true}
    }))
    .unwrap();
    let metadata = video.metadata.unwrap();
    assert_eq!(metadata.duration, Some(159.0));
    assert_eq!(metadata.extra["category"], "recentlyAdded");
    assert_eq!(metadata.extra["needsReview"], true);
}

#[test]
fn generated_types_have_json_schemas() {
    use twelvelabs::raw::types::{Task, TaskStatus};
    let task = serde_json::to_value(schemars::schema_for!(Task)).unwrap();
    assert!(task["properties"]["status"].is_object(), "{task}");
    let status = serde_json::to_value(schemars::schema_for!(TaskStatus)).unwrap();
    // Open: any string is valid; the known values are examples.
    assert_eq!(status["type"], "string");
    assert!(status.get("enum").is_none());
    let examples: BTreeMap<usize, &str> = status["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .enumerate()
        .collect();
    assert!(examples.values().any(|v| *v == "ready"));
}
