//! `operations.rs`: one descriptor per operation of the spec (id, method, path template, creates,
//! body kind and file fields, streamed media types), and the facts of `servers`. The crate's
//! hand-written layer, retry classification and coverage tests read these; none repeats them.

use heck::{ToShoutySnakeCase, ToSnakeCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::spec::{self, Op};

/// Renders the descriptors. `generated` lists the operationIds progenitor generated.
pub fn render(doc: &Value, generated: &std::collections::BTreeSet<String>) -> TokenStream {
    let mut consts = Vec::new();
    let mut names = Vec::new();
    let mut arms = Vec::new();
    for op in spec::operations(doc) {
        let id = op.id();
        let name = id.to_snake_case();
        let konst = format_ident!("{}", id.to_shouty_snake_case());
        let method = format_ident!("{}", op.method.to_uppercase());
        let path = op.path;
        let summary = op.op["summary"].as_str().unwrap_or("").trim();
        let creates = op.creates();
        let body = body(doc, &op);
        let is_generated = generated.contains(id);
        let streams: Vec<String> = success_media(doc, &op)
            .into_iter()
            .filter(|m| m != "application/json")
            .collect();
        let params: Vec<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_owned)
            .collect();
        let query: Vec<String> = op
            .parameters(doc)
            .into_iter()
            .filter(|(_, p)| p["in"] == "query")
            .filter_map(|(_, p)| p["name"].as_str().map(str::to_owned))
            .collect();
        let how = if is_generated {
            format!("Generated: `raw::Client::{name}`.")
        } else {
            "Not generated (multipart body): sent by hand.".to_owned()
        };
        let doc_line = format!(
            "`{id}`: `{} {path}`. {summary}{}\n\n{how}",
            op.method.to_uppercase(),
            if summary.ends_with('.') { "" } else { "." }
        );
        consts.push(quote! {
            #[doc = #doc_line]
            pub const #konst: Operation = Operation {
                id: #id,
                name: #name,
                method: ::reqwest::Method::#method,
                path: #path,
                path_params: &[#(#params),*],
                query_params: &[#(#query),*],
                summary: #summary,
                creates: #creates,
                body: #body,
                generated: #is_generated,
                streams: &[#(#streams),*],
            };
        });
        arms.push(quote!(#name => ::std::option::Option::Some(&#konst),));
        names.push(konst);
    }
    let base = doc["servers"][0]["url"].as_str().unwrap_or_default();
    let (base_url, version) = crate::base_url(base).unwrap_or_default();
    quote! {
        #(#consts)*
        /// Every operation of the spec, sorted by path.
        pub const ALL: &[&Operation] = &[#(&#names),*];
        /// The operation whose snake_case name (as `progenitor_client::OperationInfo` spells it) is
        /// `name`.
        pub fn by_name(name: &str) -> ::std::option::Option<&'static Operation> {
            match name {
                #(#arms)*
                _ => ::std::option::Option::None,
            }
        }
        /// The API's base URL, from `servers[0].url` of the spec.
        pub const DEFAULT_BASE_URL: &str = #base_url;
        /// The API version: the last path segment of the base URL.
        pub const API_VERSION: &str = #version;
    }
}

/// What the request body is.
fn body(doc: &Value, op: &Op<'_>) -> TokenStream {
    let media = op.request_media();
    if media.iter().any(|m| m.starts_with("multipart/")) {
        let content = &op.op["requestBody"]["content"];
        let schema = content
            .as_object()
            .and_then(|c| c.iter().find(|(k, _)| k.starts_with("multipart/")))
            .map(|(_, m)| &m["schema"])
            .unwrap_or(&Value::Null);
        let schema = match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => spec::resolve(doc, r).unwrap_or(&Value::Null),
            None => schema,
        };
        let files: Vec<&str> = schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, p)| p["format"] == "binary" || p["items"]["format"] == "binary")
            .map(|(k, _)| k.as_str())
            .collect();
        quote!(Body::Multipart { files: &[#(#files),*] })
    } else if media.contains(&"application/json") {
        quote!(Body::Json)
    } else if media.contains(&"application/x-www-form-urlencoded") {
        quote!(Body::Form)
    } else {
        quote!(Body::None)
    }
}

/// The media types of the 2xx responses.
fn success_media(doc: &Value, op: &Op<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for (status, r) in op.op["responses"].as_object().into_iter().flatten() {
        if !status.starts_with('2') {
            continue;
        }
        for media in spec::response(doc, r)["content"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            if !out.contains(media) {
                out.push(media.clone());
            }
        }
    }
    out
}
