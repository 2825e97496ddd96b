//! The documentation users read carries no internal research shorthand.
//!
//! Every `description` of `openapi.yaml` becomes rustdoc (`twelvelabs::raw::types::*`, the methods
//! of `twelvelabs::raw::Client`, and `info.description` the doc of `raw::Client` itself), and so do
//! operation summaries and titles. The research behind a point (which source says what, open
//! doubts, SDK commits) lives beside it in `x-notes`, or per operation in `x-sources`: those `x-`
//! blocks are skipped here and are checked to stay decodable.
//!
//! [`SHORTHAND`] is the token list. `.ci/run` greps the rendered rustdoc of the crate
//! (`target/doc/twelvelabs/`, which also shows the doc comments of `src/` and the README) for the
//! same tokens, with the regular expression [`grep_pattern`] builds; a test below checks that the
//! script carries exactly that expression.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use serde_json::Value;

/// How a token matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Case {
    /// Exactly as written (source keys are upper case: `PY` must not match `py` in a file name).
    Exact,
    /// In any ASCII case.
    Any,
}

/// Internal shorthand that must not reach rendered documentation, and what each token is.
///
/// A token matches as a whole word: where it begins (ends) with an ASCII letter or digit, the
/// character before (after) it must not be an ASCII letter, digit or `_`. So `JS` matches in
/// `PY/JS` and `(JS)` but not in `JSON` or `JS_PATH`, `PY` not in `COPY`, `ERR` not in `ERROR`,
/// `D12` not in `D12G`, `seed` not in `seeds`, `commit` not in `committed`.
const SHORTHAND: &[(&str, Case, &str)] = &[
    // Source keys of `x-sources.legend` (`PY/JS`, `PY-hist`, `PY-0.2.10`, `JS-0.2.8` and `PY-Δ13`
    // are caught through `PY` and `JS`).
    ("PY", Case::Exact, "the official Python SDK"),
    ("JS", Case::Exact, "the official JavaScript SDK"),
    ("D11", Case::Exact, "the v1.1 docs"),
    ("D12", Case::Exact, "the v1.2 API reference"),
    ("D12G", Case::Exact, "the v1.2 guides"),
    ("DRM", Case::Exact, "the readme.io-era reference"),
    (
        "SEED",
        Case::Exact,
        "the tour notebook's recorded responses",
    ),
    ("OAS13", Case::Exact, "the v1.3 OpenAPI file"),
    ("MDB", Case::Exact, "MindsDB's client"),
    ("ERR", Case::Exact, "the error-code page"),
    ("DUMP", Case::Exact, "a third-party copy of the docs"),
    ("V1-2022", Case::Exact, "a 2022 OpenAPI file"),
    // Research vocabulary.
    (
        "seed",
        Case::Any,
        "the recorded notebook run, by its internal name",
    ),
    ("the notebook", Case::Any, "the tour notebook, unnamed"),
    (
        "reference doubt",
        Case::Any,
        "a numbered open doubt of the reference",
    ),
    ("doubt", Case::Any, "an open doubt"),
    (
        "doubts",
        Case::Any,
        "open doubts (the old \"Doubts policy\")",
    ),
    // Not a bare `Δ`: rustdoc shows std's `str::to_lowercase` example ("ὈΔΥΣΣΕΎΣ") on the
    // generated newtypes that deref to `String`.
    ("v1.3 Δ", Case::Any, "a version-difference note ([v1.3 Δ])"),
    ("weak source", Case::Any, "a judgement on a source"),
    ("single source", Case::Any, "a judgement on a source"),
    ("third party", Case::Any, "a third-party report"),
    ("third-party", Case::Any, "a third-party report"),
    ("Fern", Case::Any, "the docs generator, naming a docs era"),
    ("readme.io", Case::Any, "the docs host, naming a docs era"),
    ("commit", Case::Any, "an SDK commit"),
    ("PR #", Case::Any, "an SDK pull request"),
    ("mistyped", Case::Any, "an SDK's typing mistake"),
    ("typed only", Case::Any, "which SDK types a field"),
];

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The tokens of [`SHORTHAND`] that occur in `text`, in list order.
fn shorthand_in(text: &str) -> Vec<&'static str> {
    SHORTHAND
        .iter()
        .filter(|(token, case, _)| occurs(text, token, *case))
        .map(|(token, _, _)| *token)
        .collect()
}

fn occurs(text: &str, token: &str, case: Case) -> bool {
    // ASCII case folding keeps byte offsets (and char boundaries) as they are.
    let (hay, needle) = match case {
        Case::Exact => (text.to_owned(), token.to_owned()),
        Case::Any => (text.to_ascii_lowercase(), token.to_ascii_lowercase()),
    };
    let starts_word = token
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let ends_word = token
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    hay.match_indices(&needle).any(|(at, m)| {
        let before = hay[..at].chars().next_back();
        let after = hay[at + m.len()..].chars().next();
        let free_before = !starts_word || before.is_none_or(|c| !is_word(c));
        let free_after = !ends_word || after.is_none_or(|c| !is_word(c));
        free_before && free_after
    })
}

/// The PCRE (`grep -P`, byte-wise under `LC_ALL=C`) equivalent of [`shorthand_in`].
fn grep_pattern() -> String {
    SHORTHAND
        .iter()
        .map(|(token, case, _)| {
            let mut escaped = String::new();
            for c in token.chars() {
                if "\\.^$|?*+()[]{}#".contains(c) {
                    escaped.push('\\');
                }
                escaped.push(c);
            }
            let before = if token.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                "(?<![A-Za-z0-9_])"
            } else {
                ""
            };
            let after = if token.ends_with(|c: char| c.is_ascii_alphanumeric()) {
                "(?![A-Za-z0-9_])"
            } else {
                ""
            };
            match case {
                Case::Exact => format!("{before}{escaped}{after}"),
                Case::Any => format!("(?i:{before}{escaped}{after})"),
            }
        })
        .collect::<Vec<_>>()
        .join("|")
}

fn spec() -> Value {
    yaml_serde::from_str(include_str!("../openapi.yaml")).expect("openapi.yaml parses")
}

/// Keys whose string values are documentation (rendered by progenitor or typify).
const DOC_KEYS: [&str; 3] = ["description", "summary", "title"];

/// Every documentation string of the spec outside `x-` blocks and example data, with where it is
/// (`paths./indexes.post.description`).
fn doc_strings(spec: &Value) -> Vec<(String, String)> {
    fn walk(at: &str, v: &Value, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    // Research notes, and example data (not documentation).
                    if k.starts_with("x-") || k == "example" {
                        continue;
                    }
                    let here = if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    };
                    match x {
                        Value::String(s) if DOC_KEYS.contains(&k.as_str()) => {
                            out.push((here, s.clone()));
                        }
                        // `examples: {name: {summary, value}}`: the value is data.
                        Value::Object(named) if k == "examples" => {
                            for (name, ex) in named {
                                let mut ex = ex.clone();
                                if let Some(ex) = ex.as_object_mut() {
                                    ex.remove("value");
                                }
                                walk(&format!("{here}.{name}"), &ex, out);
                            }
                        }
                        _ => walk(&here, x, out),
                    }
                }
            }
            Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    walk(&format!("{at}[{i}]"), x, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", spec, &mut out);
    out
}

/// Every `x-notes` string, with where it is.
fn notes(spec: &Value) -> Vec<(String, String)> {
    fn walk(at: &str, v: &Value, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    let here = format!("{at}.{k}");
                    match x {
                        Value::String(s) if k == "x-notes" => out.push((here, s.clone())),
                        _ => walk(&here, x, out),
                    }
                }
            }
            Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    walk(&format!("{at}[{i}]"), x, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", spec, &mut out);
    out
}

#[test]
fn no_rendered_description_of_the_spec_carries_internal_shorthand() {
    let spec = spec();
    let docs = doc_strings(&spec);
    // The walk reaches the descriptions of operations, parameters, responses, schemas and their
    // properties, and the top-level one.
    for at in [
        "info.description",
        "paths./indexes.post.description",
        "paths./indexes.post.summary",
        "paths./indexes.get.parameters[4].description",
        "paths./indexes.post.responses.201.description",
        "components.parameters.PageToken.description",
        "components.responses.NotFound.description",
        "components.schemas.SearchClip.description",
        "components.schemas.SearchClip.properties.score.description",
        "paths./summarize.post.responses.200.content.application/json.examples.chapters.summary",
    ] {
        assert!(docs.iter().any(|(a, _)| a == at), "{at} is not walked");
    }
    assert!(
        docs.len() > 400,
        "only {} documentation strings",
        docs.len()
    );
    assert!(
        !docs
            .iter()
            .any(|(a, _)| a.split('.').any(|segment| segment.starts_with("x-"))),
        "x- blocks are skipped"
    );

    let offending: Vec<String> = docs
        .iter()
        .filter_map(|(at, text)| {
            let found = shorthand_in(text);
            (!found.is_empty()).then(|| format!("{at}: {}", found.join(", ")))
        })
        .collect();
    assert!(
        offending.is_empty(),
        "internal shorthand in user-facing documentation (move the note into an `x-notes` \
         beside it, or into x-sources):\n  {}",
        offending.join("\n  ")
    );
}

#[test]
fn the_research_notes_are_kept_and_decodable() {
    let spec = spec();
    let xs = &spec["x-sources"];
    let legend: BTreeSet<&str> = xs["legend"]
        .as_object()
        .expect("x-sources.legend")
        .keys()
        .map(String::as_str)
        .collect();
    let doubts = xs["doubts"].as_object().expect("x-sources.doubts");
    let numbers: BTreeSet<String> = doubts.keys().cloned().collect();
    let expected: BTreeSet<String> = (1..=11).map(|n: u32| n.to_string()).collect();
    assert_eq!(
        numbers, expected,
        "the eleven numbered doubts of the reference"
    );
    let notes = notes(&spec);
    assert!(notes.len() >= 80, "only {} x-notes", notes.len());
    // The example from the issue: the sources of SearchClip moved, not vanished.
    let clip = spec["components"]["schemas"]["SearchClip"]["x-notes"]
        .as_str()
        .expect("SearchClip has x-notes");
    assert!(clip.contains("PY/JS") && clip.contains("D12G"), "{clip}");

    for (at, note) in &notes {
        // Every source key a note uses is in the legend.
        for (token, case, _) in SHORTHAND {
            if *case == Case::Exact && occurs(note, token, *case) {
                assert!(
                    legend.contains(token),
                    "{at}: {token} is not in x-sources.legend"
                );
            }
        }
        // Every numbered doubt a note cites exists.
        let words: Vec<&str> = note.split_whitespace().collect();
        for pair in words.windows(2) {
            let [w, n] = pair else { continue };
            let n = n.trim_end_matches(|c: char| !c.is_ascii_digit());
            if w.trim_start_matches('(') == "doubt" && !n.is_empty() {
                assert!(
                    doubts.contains_key(n),
                    "{at}: cites doubt {n:?}, which x-sources.doubts lacks"
                );
            }
        }
    }
}

#[test]
fn the_matcher_finds_shorthand_and_leaves_ordinary_words() {
    assert_eq!(
        shorthand_in("A matching clip (PY/JS, D12G single-queries-the-response)"),
        ["PY", "JS", "D12G"]
    );
    assert_eq!(
        shorthand_in("Success status (reference doubt 4): 201 per SEED/MDB, 200 per OAS13"),
        ["SEED", "OAS13", "MDB", "seed", "reference doubt", "doubt"]
    );
    assert_eq!(shorthand_in("[v1.3 Δ] renamed"), ["v1.3 Δ"]);
    assert_eq!(shorthand_in("Removed in v1.3 (PY-Δ13)"), ["PY"]);
    assert_eq!(shorthand_in("as the seed shows it"), ["seed"]);
    assert_eq!(
        shorthand_in("PY commit `5b976ab`, PR #85"),
        ["PY", "commit", "PR #"]
    );
    assert_eq!(shorthand_in("**Doubts policy**: ..."), ["doubts"]);
    assert_eq!(shorthand_in("the 2022 docs (V1-2022)"), ["V1-2022"]);
    for clean in [
        "JSON keys are snake_case; the body is `application/json`.",
        "COPY, ERROR, Errors, `Err(e)`, DRMS, D12x, JS_PATH, mpy, py, js, main.js",
        "seeds, seeded, committed, commitment, Fernando, doubtless, ὈΔΥΣΣΕΎΣ, Removed in v1.3",
        "Keys expire (the docs say every two months). The thumbnail add-on needs Marengo.",
        "x-api-key, X-Ratelimit-Reset, `resource_not_exists`, 24 hex digits",
    ] {
        assert_eq!(shorthand_in(clean), Vec::<&str>::new(), "{clean}");
    }
}

#[test]
fn the_ci_step_greps_the_rendered_rustdoc_for_the_same_tokens() {
    let script = include_str!("../.ci/run");
    let line = script
        .lines()
        .find_map(|l| l.trim().strip_prefix("shorthand='"))
        .and_then(|l| l.strip_suffix('\''))
        .expect(".ci/run sets shorthand='<pattern>'");
    assert_eq!(
        line,
        grep_pattern(),
        ".ci/run's pattern differs from tests/docs.rs's token list: paste grep_pattern()"
    );
    assert!(
        script.contains("target/doc/twelvelabs"),
        "the step reads the crate's rendered rustdoc"
    );
    // The shell quotes the pattern with single quotes: none may occur in it.
    assert!(!grep_pattern().contains('\''));
}

/// The README's errors table names every variant of `twelvelabs::Error`, and nothing else.
#[test]
fn the_readme_errors_table_lists_every_variant() {
    let src =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/error.rs")).unwrap();
    let body = src
        .split("pub enum Error {")
        .nth(1)
        .and_then(|rest| rest.split("\n}\n").next())
        .expect("pub enum Error in src/error.rs");
    let variants: std::collections::BTreeSet<String> = body
        .lines()
        .filter(|l| l.starts_with("    ") && !l.starts_with("     "))
        .map(str::trim)
        .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|l| {
            l.split(|c: char| !c.is_ascii_alphanumeric())
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(variants.len() >= 10, "{variants:?}");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme
        .split("## Errors")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("an Errors section");
    let listed: std::collections::BTreeSet<String> = table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('|').nth(1))
        .flat_map(|cell| {
            cell.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        listed, variants,
        "README errors table (left) vs src/error.rs (right)"
    );
}
