//! Regeneration from a dependent crate: the spec is copied, edited as a user would, and this
//! crate is rebuilt against it through `TWELVELABS_OPENAPI_SPEC` by a small crate that depends on
//! it (`tests/dependent/app.rs`, not a fork). Additive edits must build in one go and work from
//! `raw` against a loopback server; broken edits must fail the build with a message that names
//! where the problem is, never with a panic from inside the generator.
//!
//! The dependent crate has its own target directory under `CARGO_TARGET_TMPDIR`, so the first
//! run compiles the dependencies once (a few minutes on 2 cores); later runs reuse it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::{Value, json};

/// One cargo at a time on the dependent crate's target directory.
static CARGO: Mutex<()> = Mutex::new(());

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn spec() -> Value {
    yaml_serde::from_str(&std::fs::read_to_string(repo().join("openapi.yaml")).unwrap()).unwrap()
}

/// The dependent crate in `dir`, building this crate against `spec` (written there as JSON,
/// which is YAML).
fn dependent(name: &str, spec: &Value) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("dependent")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = format!(
        r#"[package]
name = "tl-dependent"
version = "0.0.0"
edition = "2024"
publish = false

# Its own workspace, wherever it sits.
[workspace]

[[bin]]
name = "tl-dependent"
path = {app:?}

[dependencies]
twelvelabs = {{ path = {repo:?} }}
tokio = {{ version = "1", features = ["rt-multi-thread", "macros", "net", "io-util", "time"] }}
serde_json = "1"
"#,
        app = repo().join("tests/dependent/app.rs"),
        repo = repo(),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    // The same dependency versions as this crate.
    std::fs::copy(repo().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(
        dir.join("openapi.yaml"),
        serde_json::to_string_pretty(spec).unwrap(),
    )
    .unwrap();
    dir
}

struct Outcome {
    ok: bool,
    output: String,
    seconds: f64,
}

fn cargo(dir: &Path, args: &[&str]) -> Outcome {
    let _one = CARGO.lock().unwrap_or_else(|e| e.into_inner());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    let out = Command::new(cargo)
        .args(args)
        .arg("--quiet")
        .current_dir(dir)
        .env(
            "CARGO_TARGET_DIR",
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dependent-target"),
        )
        .env("TWELVELABS_OPENAPI_SPEC", dir.join("openapi.yaml"))
        .env_remove("RUSTFLAGS")
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .unwrap();
    Outcome {
        ok: out.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn schemas(spec: &mut Value) -> &mut serde_json::Map<String, Value> {
    spec["components"]["schemas"].as_object_mut().unwrap()
}

/// The realistic additive edits: response fields (an int32, an enum behind a property named
/// `default`), enum values (a new terminal status), a GET with path and query parameters and a
/// new response schema, a creating POST with a header parameter and an inline body, an optional
/// request field.
fn additive(mut spec: Value) -> Value {
    let s = schemas(&mut spec);
    let task = s["Task"]["properties"].as_object_mut().unwrap();
    task.insert("brand_new_field".into(), json!({"type": "string"}));
    task.insert(
        "priority".into(),
        json!({"type": "integer", "format": "int32"}),
    );
    task.insert(
        "default".into(),
        json!({"$ref": "#/components/schemas/TaskDefault"}),
    );
    s.insert(
        "TaskDefault".into(),
        json!({"type": "string", "enum": ["first", "second"]}),
    );
    s["TaskStatus"]["enum"]
        .as_array_mut()
        .unwrap()
        .push(json!("cancelled"));
    s["TaskStatus"]["x-twelvelabs-terminal"]["cancelled"] = json!("failure");
    s.insert(
        "IndexStats".into(),
        json!({"type": "object", "properties": {"videos": {"type": "integer"}, "hours": {"type": "number"}}}),
    );
    s["SearchRequest"]["properties"]["include_user_metadata"] = json!({"type": "boolean"});
    // A new required request field: the resource method that sends this body cannot set it.
    s["GistRequest"]["properties"]["language"] = json!({"type": "string"});
    s["GistRequest"]["required"]
        .as_array_mut()
        .unwrap()
        .push(json!("language"));
    let paths = spec["paths"].as_object_mut().unwrap();
    paths.insert(
        "/indexes/{index_id}/stats".into(),
        json!({"get": {
            "operationId": "getIndexStats", "tags": ["indexes"], "summary": "Index statistics",
            "parameters": [
                {"$ref": "#/components/parameters/IndexId"},
                {"name": "window", "in": "query", "schema": {"type": "string"}}
            ],
            "responses": {"200": {"description": "The statistics.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IndexStats"}}}}}
        }}),
    );
    paths.insert(
        "/indexes/{index_id}/collections".into(),
        json!({"post": {
            "operationId": "createCollection", "tags": ["indexes"], "summary": "Create a collection",
            "x-twelvelabs-creates": true,
            "parameters": [
                {"$ref": "#/components/parameters/IndexId"},
                {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}
            ],
            "requestBody": {"required": true, "content": {"application/json": {"schema":
                {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}},
            "responses": {"201": {"description": "Created.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreatedResponse"}}}}}
        }}),
    );
    add_multipart_operation(&mut spec);
    spec
}

/// A new operation with a multipart body (hand-written: sent through its descriptor).
fn add_multipart_operation(spec: &mut Value) {
    schemas(spec).insert(
        "CreatePosterForm".into(),
        json!({"type": "object", "required": ["poster_file"], "properties": {
            "title": {"type": "string"},
            "poster_file": {"type": "string", "format": "binary"}
        }}),
    );
    spec["paths"].as_object_mut().unwrap().insert(
        "/indexes/{index_id}/posters".into(),
        json!({"post": {
            "operationId": "createPoster", "tags": ["indexes"], "summary": "Upload a poster",
            "x-twelvelabs-creates": true,
            "parameters": [{"$ref": "#/components/parameters/IndexId"}],
            "requestBody": {"required": true, "content": {"multipart/form-data": {"schema":
                {"$ref": "#/components/schemas/CreatePosterForm"}}}},
            "responses": {"201": {"description": "Created.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreatedResponse"}}}}}
        }}),
    );
}

#[test]
fn additive_spec_edits_build_in_one_go_and_work_from_raw() {
    let dir = dependent("additive", &additive(spec()));
    let run = cargo(&dir, &["run"]);
    assert!(run.ok, "the dependent crate failed:\n{}", run.output);
    assert!(run.output.contains("OK:"), "{}", run.output);
    println!("additive edits: built and ran in {:.0} s", run.seconds);
}

/// Broken edits fail the build, each with a message naming the place; none panics.
#[test]
fn broken_spec_edits_fail_with_a_located_message() {
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit, Vec<&str>)> = vec![
        (
            "a request-body $ref to nothing",
            |s| {
                s["paths"]["/search"]["post"]["requestBody"]["content"]["application/json"]["schema"] =
                    json!({"$ref": "#/components/schemas/SearchRequst"})
            },
            vec![
                "paths./search.post.requestBody",
                "SearchRequst",
                "not defined",
            ],
        ),
        (
            "a misspelt type",
            |s| s["components"]["schemas"]["Task"]["properties"]["type"]["type"] = json!("strng"),
            vec!["components.schemas.Task.properties.type", "strng"],
        ),
        (
            "x-twelvelabs-creates that is not a boolean",
            |s| s["paths"]["/indexes"]["post"]["x-twelvelabs-creates"] = json!("yes"),
            vec![
                "paths./indexes.post.x-twelvelabs-creates",
                "must be `true` or `false`",
            ],
        ),
        (
            "a misspelt extension",
            |s| s["components"]["schemas"]["TaskStatus"]["x-twelvelabs-terminals"] = json!({}),
            vec![
                "components.schemas.TaskStatus",
                "unknown extension",
                "x-twelvelabs-terminals",
            ],
        ),
        (
            "a property default",
            |s| {
                s["components"]["schemas"]["SearchRequest"]["properties"]["page_limit"]["default"] =
                    json!(10)
            },
            vec![
                "components.schemas.SearchRequest.properties.page_limit",
                "x-default",
            ],
        ),
        (
            "additionalProperties: false",
            |s| s["components"]["schemas"]["Task"]["additionalProperties"] = json!(false),
            vec!["components.schemas.Task", "additionalProperties: false"],
        ),
        (
            "the API key as a header parameter",
            |s| {
                s["paths"]["/tasks/{task_id}"]["get"]["parameters"]
                    .as_array_mut()
                    .unwrap()
                    .push(
                        json!({"name": "x-api-key", "in": "header", "schema": {"type": "string"}}),
                    )
            },
            vec![
                "paths./tasks/{task_id}.get",
                "x-api-key",
                "set by the client itself",
            ],
        ),
        (
            "no servers",
            |s| {
                s.as_object_mut().unwrap().remove("servers");
            },
            vec!["servers[0].url", "is missing"],
        ),
        (
            "an integer format typify does not know",
            |s| {
                s["components"]["schemas"]["Task"]["properties"]["n"] =
                    json!({"type": "integer", "format": "int42"})
            },
            vec!["components.schemas.Task.properties.n", "int42"],
        ),
        (
            "a renamed hand-written operation",
            |s| s["paths"]["/tasks"]["post"]["operationId"] = json!("uploadVideo"),
            vec!["CREATE_TASK"],
        ),
    ];
    let mut failures = Vec::new();
    for (what, edit, expected) in cases {
        let mut s = spec();
        edit(&mut s);
        let dir = dependent("broken", &s);
        let run = cargo(&dir, &["build"]);
        let missing: Vec<&&str> = expected
            .iter()
            .filter(|e| !run.output.contains(**e))
            .collect();
        if run.ok || !missing.is_empty() || run.output.contains("panicked") {
            failures.push(format!(
                "{what}: ok={} missing {missing:?}\n{}",
                run.ok,
                run.output.lines().take(30).collect::<Vec<_>>().join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
