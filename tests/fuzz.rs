//! Fuzzed decoding: arbitrary bytes and arbitrary JSON fed to the decoder of every response type.
//! The property is "never a panic": decoding may fail, with an error, but never crash. Cases run:
//! 256 per strategy and type by default (`PROPTEST_CASES` to change).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use serde_json::{Map, Value};
use twelvelabs::raw::spec_info::{SCHEMAS, roundtrip_component};

/// Arbitrary JSON, biased towards the shapes and keys the API uses.
fn json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("_id".to_owned()),
        Just("status".to_owned()),
        Just("data".to_owned()),
        Just("page_info".to_owned()),
        Just("metadata".to_owned()),
        Just("duration".to_owned()),
        Just("width".to_owned()),
        Just("score".to_owned()),
        Just("start".to_owned()),
        Just("end".to_owned()),
        Just("clips".to_owned()),
        Just("code".to_owned()),
        Just("created_at".to_owned()),
        Just("event_type".to_owned()),
        Just("segments".to_owned()),
        "[a-z_]{1,10}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~]{0,20}".prop_map(Value::String),
        Just(Value::String("2024-06-09T12:04:14.069Z".into())),
        Just(Value::String("ready".into())),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics_any_decoder(value in json()) {
        for schema in SCHEMAS {
            let _ = roundtrip_component(schema, value.clone());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_any_decoder(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        for schema in SCHEMAS {
            if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                let _ = roundtrip_component(schema, v);
            }
        }
        let _ = serde_json::from_slice::<twelvelabs::raw::types::ErrorBody>(&bytes);
    }
}

#[test]
fn every_schema_is_fuzzed() {
    // The dispatcher knows every generated type (the fuzz above reaches all of them).
    for schema in SCHEMAS {
        assert!(
            roundtrip_component(schema, Value::Null).is_some(),
            "{schema}"
        );
    }
    assert!(SCHEMAS.len() >= 90, "{}", SCHEMAS.len());
}
