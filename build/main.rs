//! Generates the low-level client (`twelvelabs::raw`) from `openapi.yaml` with progenitor, into
//! `OUT_DIR` (nothing in the source tree is touched).
//!
//! 1. **Read** the spec: `openapi.yaml` beside this crate's manifest, or the file named by
//!    `TWELVELABS_OPENAPI_SPEC` (an absolute path), so that a crate depending on this one can
//!    build it against its own spec.
//! 2. **Validate** it (`validate.rs`): every problem is reported as a cargo error naming where it
//!    is and what to do, before the generator runs (progenitor and typify would panic or fail
//!    without a location on most of them).
//! 3. **Prepare** the generator's view (`prepare.rs`): multipart operations and non-JSON media
//!    types are left to hand-written code, any 2xx is a success, error responses stay raw.
//! 4. **Generate** with progenitor, open enums swapped in (`open_enum.rs`); if the generator still
//!    fails, find the operation it fails on and name it.
//! 5. **Rewrite** its output (`rewrite.rs`): integer fields accept integral floats, no
//!    `api-version` header.
//! 6. **Describe** every operation (`describe.rs`): `operations.rs`, read by the hand-written
//!    layer, the retry loop and the tests.

// `value["key"]` on a `serde_json::Value` yields `Null` for a missing key instead of panicking;
// the few mutable indexings run after validation, on the mappings it checked.
#![allow(clippy::indexing_slicing)]

mod describe;
mod diag;
mod open_enum;
mod prepare;
mod rewrite;
mod spec;
mod validate;

use std::path::PathBuf;
use std::{env, fs};

use quote::quote;
use serde_json::Value;

use diag::Problems;

/// Marks a POST that creates something: it is not retried once it may have reached the server.
pub const CREATES: &str = "x-twelvelabs-creates";
/// Marks the values of a status enum that end a task: `{ready: success, failed: failure}`.
pub const TERMINAL: &str = "x-twelvelabs-terminal";
/// A dependent crate's own spec.
const SPEC_ENV: &str = "TWELVELABS_OPENAPI_SPEC";
/// Where the generated module lives in the crate; replacement paths are absolute.
const RAW_TYPES_PATH: &str = "crate::raw::types";

fn main() {
    println!("cargo::rerun-if-env-changed={SPEC_ENV}");
    println!("cargo::rerun-if-changed=build");
    let (Some(manifest_dir), Some(out_dir)) =
        (env::var_os("CARGO_MANIFEST_DIR"), env::var_os("OUT_DIR"))
    else {
        println!(
            "cargo::error=build.rs must run under cargo (CARGO_MANIFEST_DIR and OUT_DIR unset)"
        );
        return;
    };
    let out_dir = PathBuf::from(out_dir);
    let spec_path = match env::var_os(SPEC_ENV).filter(|v| !v.is_empty()) {
        Some(p) => {
            let p = PathBuf::from(p);
            if !p.is_absolute() {
                println!(
                    "cargo::error={SPEC_ENV}={} must be an absolute path (cargo runs build scripts \
                     in this crate's directory); in .cargo/config.toml use \
                     `[env] {SPEC_ENV} = {{ value = \"openapi.yaml\", relative = true }}`",
                    p.display()
                );
                return;
            }
            p
        }
        None => PathBuf::from(manifest_dir).join("openapi.yaml"),
    };
    println!("cargo::rerun-if-changed={}", spec_path.display());
    if let Err(problems) = run(&spec_path, &out_dir) {
        problems.report();
    }
}

fn run(spec_path: &std::path::Path, out_dir: &std::path::Path) -> Result<(), Problems> {
    let mut problems = Problems::new(spec_path.display());
    let text = fs::read_to_string(spec_path).map_err(|e| {
        problems.at("(file)", format!("cannot be read: {e}"));
        std::mem::take(&mut problems)
    })?;
    let mut problems = Problems::new(spec_path.display());
    let doc: Value = match yaml_serde::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            problems.at("(YAML)", format!("is not valid YAML: {e}"));
            return Err(problems);
        }
    };

    validate::check(&doc, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }

    // Open enums: named enums a response can carry (read on the whole document: error bodies and
    // the NDJSON stream count).
    let (reachable, _) = prepare::reachable_from_responses(&doc);
    let open_enums: Vec<open_enum::OpenEnum> = reachable
        .iter()
        .filter_map(|name| {
            let s = &doc["components"]["schemas"][name.as_str()];
            s.get("enum").map(|_| open_enum::OpenEnum::new(name, s))
        })
        .collect();
    // Terminal markers on an enum that is not open would be ignored: say so.
    for (name, s) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if s.get(TERMINAL).is_some() && !open_enums.iter().any(|e| &e.name == name) {
            problems.at(
                format!("components.schemas.{name}.{TERMINAL}"),
                "is only read on enums a response carries (it describes a task status); remove it",
            );
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let mut generator_doc = doc.clone();
    let prepared = prepare::prepare(&mut generator_doc);
    let schema_names: Vec<String> = generator_doc["components"]["schemas"]
        .as_object()
        .map(|s| s.keys().cloned().collect())
        .unwrap_or_default();

    let schemars = env::var_os("CARGO_FEATURE_SCHEMARS").is_some();
    let mut file = generate(&generator_doc, &open_enums, schemars, &mut problems)?;

    if rewrite::lenient_integers(&mut file) == 0 && spec_has_integer_fields(&doc) {
        problems.at(
            "(generated code)",
            "no integer field was made lenient: the generator's types changed; update build/rewrite.rs",
        );
        return Err(problems);
    }
    let removed = rewrite::remove_api_version_header(&mut file);
    if removed != prepared.generated.len() {
        problems.at(
            "(generated code)",
            format!(
                "expected one `api-version` header per generated operation ({}), removed {removed}: \
                 the progenitor version changed its output; update build/rewrite.rs",
                prepared.generated.len()
            ),
        );
        return Err(problems);
    }
    let generated = prettyplease::unparse(&file);
    if generated.contains("\"api-version\"") {
        problems.at(
            "(generated code)",
            "an `api-version` header is left; update build/rewrite.rs",
        );
        return Err(problems);
    }
    // progenitor documents each operation with a ```ignore snippet: usage text, not a test.
    let generated = generated.replace("```ignore", "```text");
    write(out_dir, "codegen.rs", &generated, &mut problems)?;

    let operations = describe::render(&doc, &prepared.generated);
    write(
        out_dir,
        "operations.rs",
        &pretty(operations, &mut problems)?,
        &mut problems,
    )?;

    let open_names: Vec<&str> = open_enums.iter().map(|e| e.name.as_str()).collect();
    let types: Vec<syn::Ident> = schema_names
        .iter()
        .map(|n| quote::format_ident!("{n}"))
        .collect();
    let info = quote! {
        /// Component schemas generated as Rust types in [`super::types`].
        pub const SCHEMAS: &[&str] = &[#(#schema_names),*];
        /// Enum schemas generated as open enums (known variants + `Unknown(String)`).
        pub const OPEN_ENUMS: &[&str] = &[#(#open_names),*];
        /// Decodes `json` as the generated type of component schema `schema`, then encodes it
        /// again. `None` for a name that is not a generated schema. Used by the tests to check
        /// that every example in `openapi.yaml` decodes, and available to tools that validate
        /// responses.
        pub fn roundtrip_component(
            schema: &str,
            json: ::serde_json::Value,
        ) -> ::std::option::Option<::std::result::Result<::serde_json::Value, ::std::string::String>> {
            fn rt<T: ::serde::de::DeserializeOwned + ::serde::Serialize>(
                json: ::serde_json::Value,
            ) -> ::std::result::Result<::serde_json::Value, ::std::string::String> {
                let v: T = ::serde_json::from_value(json).map_err(|e| e.to_string())?;
                ::serde_json::to_value(&v).map_err(|e| e.to_string())
            }
            ::std::option::Option::Some(match schema {
                #(#schema_names => rt::<super::types::#types>(json),)*
                _ => return ::std::option::Option::None,
            })
        }
    };
    write(
        out_dir,
        "spec_info.rs",
        &pretty(info, &mut problems)?,
        &mut problems,
    )?;
    Ok(())
}

/// Runs progenitor on the prepared document and inserts the open enums into its `types` module.
fn generate(
    doc: &Value,
    open_enums: &[open_enum::OpenEnum],
    schemars: bool,
    problems: &mut Problems,
) -> Result<syn::File, Problems> {
    let tokens = match progenitor_tokens(doc, open_enums, schemars) {
        Ok(t) => t,
        Err(e) => {
            // Name the operation the generator fails on: try each one alone.
            let mut culprits = Vec::new();
            for op in spec::operations(doc) {
                let mut one = doc.clone();
                let mut paths = serde_json::Map::new();
                let mut item = serde_json::Map::new();
                item.insert(op.method.to_owned(), op.op.clone());
                paths.insert(op.path.to_owned(), Value::Object(item));
                one["paths"] = Value::Object(paths);
                if let Err(e) = progenitor_tokens(&one, open_enums, schemars) {
                    culprits.push((op.at(), op.id().to_owned(), e));
                }
            }
            if culprits.is_empty() {
                problems.at("(generator)", format!("progenitor failed: {e}"));
            }
            for (at, id, e) in culprits {
                problems.at(
                    at,
                    format!("progenitor cannot generate operation {id:?}: {e}"),
                );
            }
            return Err(std::mem::take(problems));
        }
    };
    let mut file: syn::File = match syn::parse2(tokens) {
        Ok(f) => f,
        Err(e) => {
            problems.at(
                "(generator)",
                format!("progenitor produced unparsable code: {e}"),
            );
            return Err(std::mem::take(problems));
        }
    };
    let mut extra = Vec::new();
    for e in open_enums {
        extra.push(e.render());
        if schemars {
            extra.push(e.render_json_schema());
        }
    }
    let extra: syn::File = match syn::parse2(quote!(#(#extra)*)) {
        Ok(f) => f,
        Err(e) => {
            problems.at(
                "(open enums)",
                format!("the rendered open enums do not parse: {e}"),
            );
            return Err(std::mem::take(problems));
        }
    };
    let types = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "types" => m.content.as_mut(),
        _ => None,
    });
    match types {
        Some((_, items)) => items.extend(extra.items),
        None => {
            problems.at("(generator)", "progenitor's output has no `types` module");
            return Err(std::mem::take(problems));
        }
    }
    Ok(file)
}

/// progenitor on `doc`, with its panics caught and turned into errors.
fn progenitor_tokens(
    doc: &Value,
    open_enums: &[open_enum::OpenEnum],
    schemars: bool,
) -> Result<proc_macro2::TokenStream, String> {
    let spec: openapiv3::OpenAPI = serde_json::from_value(doc.clone())
        .map_err(|e| format!("not an OpenAPI 3.0 document: {e}"))?;
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        // Every request goes through `crate::transport::Transport` (auth, retries, tracing,
        // rate-limit tracking) via the `ClientHooks` impl in src/transport.rs.
        .with_inner_type(quote!(crate::transport::Transport))
        // Results can be compared (tests, change detection).
        .with_derive("PartialEq");
    if schemars {
        settings.with_derive("schemars::JsonSchema");
    }
    for open in open_enums {
        settings.with_replacement(
            &open.name,
            format!("{RAW_TYPES_PATH}::{}", open.name),
            [progenitor::TypeImpl::Display, progenitor::TypeImpl::FromStr].into_iter(),
        );
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(move || {
        let mut generator = progenitor::Generator::new(&settings);
        generator.generate_tokens(&spec).map_err(|e| e.to_string())
    });
    std::panic::set_hook(previous);
    match result {
        Ok(r) => r,
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "the generator panicked".to_owned())),
    }
}

fn pretty(tokens: proc_macro2::TokenStream, problems: &mut Problems) -> Result<String, Problems> {
    match syn::parse2::<syn::File>(tokens) {
        Ok(f) => Ok(prettyplease::unparse(&f)),
        Err(e) => {
            problems.at("(generated code)", format!("does not parse: {e}"));
            Err(std::mem::take(problems))
        }
    }
}

fn write(
    dir: &std::path::Path,
    name: &str,
    text: &str,
    problems: &mut Problems,
) -> Result<(), Problems> {
    fs::write(dir.join(name), text).map_err(|e| {
        problems.at("(output)", format!("cannot write {name}: {e}"));
        std::mem::take(problems)
    })
}

/// `https://api.twelvelabs.io/v1.2` → (the URL without a trailing slash, `v1.2`): an absolute
/// http(s) URL whose last path segment is a version (`v` and digits/dots).
pub fn base_url(url: &str) -> Option<(String, String)> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let (host, path) = rest.split_once('/')?;
    if host.is_empty() || host.contains(['@', '?', '#']) || path.contains(['?', '#']) {
        return None;
    }
    let version = path.rsplit('/').next()?;
    let digits = version.strip_prefix('v')?;
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    Some((url.to_owned(), version.to_owned()))
}

/// Whether any component schema has an integer property.
fn spec_has_integer_fields(doc: &Value) -> bool {
    let mut found = false;
    for (name, s) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        spec::walk_schema(&format!("components.schemas.{name}"), s, &mut |_, s| {
            found |= s.get("type").and_then(Value::as_str) == Some("integer");
        });
    }
    found
}
