//! `Client::from_env` with and without the variables.
//!
//! Its own test binary with a single test: changing the environment is only sound while no other
//! thread reads it, which one sequential test guarantees.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(unsafe_code)] // std::env::set_var is unsafe in edition 2024; see the SAFETY note

use twelvelabs::{Client, ClientBuilder, Error};

#[test]
fn from_env_reads_the_key_and_the_base_url() {
    let set = |k: &str, v: Option<&str>| {
        // SAFETY: this binary runs this one test on one thread; nothing reads the env concurrently.
        unsafe {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
    };

    // Without the key: a configuration error naming the variable, no panic, no request.
    set("TWELVE_LABS_API_KEY", None);
    set("TWELVELABS_BASE_URL", None);
    let e = Client::from_env().unwrap_err();
    assert!(
        matches!(&e, Error::Config { reason: m, .. } if m.contains("TWELVE_LABS_API_KEY")),
        "{e}"
    );

    // An empty key is refused too.
    set("TWELVE_LABS_API_KEY", Some(""));
    assert!(matches!(Client::from_env(), Err(Error::Config { .. })));

    // With the key only: the default base URL.
    set("TWELVE_LABS_API_KEY", Some("tlk_ENV_KEY_1234"));
    let tl = Client::from_env().unwrap();
    assert_eq!(tl.config().base_url, "https://api.twelvelabs.io/v1.2");
    assert!(!format!("{tl:?}").contains("tlk_ENV_KEY_1234"));

    // The base URL is the host root, as the official SDKs read it: /v1.2 is appended.
    set("TWELVELABS_BASE_URL", Some("http://127.0.0.1:4010"));
    assert_eq!(
        Client::from_env().unwrap().config().base_url,
        "http://127.0.0.1:4010/v1.2"
    );
    set("TWELVELABS_BASE_URL", Some("https://proxy.example/v1.2/"));
    assert_eq!(
        Client::from_env().unwrap().config().base_url,
        "https://proxy.example/v1.2"
    );
    // An insecure remote URL from the environment is refused like any other.
    set("TWELVELABS_BASE_URL", Some("http://proxy.example"));
    assert!(matches!(Client::from_env(), Err(Error::Config { .. })));

    // Setters override the environment.
    let tl = ClientBuilder::from_env()
        .base_url("https://api.twelvelabs.io")
        .api_key("tlk_OTHER")
        .build()
        .unwrap();
    assert_eq!(tl.config().base_url, "https://api.twelvelabs.io/v1.2");

    set("TWELVE_LABS_API_KEY", None);
    set("TWELVELABS_BASE_URL", None);
}
