//! The hostile-network scenarios: `(test, scenario, outcome, bound in ms)`. Each is a test in
//! `tests/hostile.rs` or (memory) `tests/hostile_memory.rs` that looks its bound up here and
//! fails when the scenario does not end within it + 2 s; `tests/faults.rs` renders the table into
//! `docs/reliability.md` and checks that every entry has its test.

/// The scenarios, in the order the document lists them.
pub const HOSTILE: &[(&str, &str, &str, u64)] = &[
    // Panics from one header.
    (
        "reset_u64_max_on_a_200",
        "`X-Ratelimit-Reset: 18446744073709551615` (and 0 remaining) on a 200",
        "success; the reset is dropped (`RateLimit::reset` is `None`), the low-limit warning and `Display` work",
        1_000,
    ),
    (
        "reset_past_year_9999_on_a_429",
        "429 with `X-Ratelimit-Reset` in year 10000",
        "`Error::RateLimited` at once (the wait is over `max_retry_after`); `Display` shows `+10000`, no panic",
        1_000,
    ),
    (
        "arbitrary_rate_limit_and_retry_after_headers",
        "Arbitrary `Retry-After`, `X-Ratelimit-*` and `Location` values on 200/301/429/503 (property test, 96 cases)",
        "never a panic; 200 is a success, 3xx `Error::Redirect` (Location not contacted), 429 `Error::RateLimited`, 503 `Error::Api`",
        20_000,
    ),
    // Redirects and the key.
    (
        "redirects_to_another_origin_are_not_followed",
        "301, 302, 303, 307, 308 to another host:port, on a GET, a POST and a multipart POST",
        "`Error::Redirect` with status and `Location`; 1 request (not retried); the other origin receives nothing",
        2_000,
    ),
    (
        "a_same_origin_redirect_loop",
        "302 to the same URL, forever",
        "`Error::Redirect` after 1 request; not retryable",
        1_000,
    ),
    (
        "a_caller_client_that_follows_redirects_is_refused",
        "`ClientBuilder::http_client` / `raw::Client` with a `reqwest::Client` that follows redirects",
        "`Error::Config` at `build()`; the raw client sends nothing (`Error::Custom`)",
        1_000,
    ),
    // Time.
    (
        "embed_text_gets_the_request_timeout",
        "`embed().text()` (multipart without a file) to a server that never answers",
        "`Error::Timeout` (`Request`) after `request_timeout` (500 ms)",
        500,
    ),
    (
        "image_search_by_url_gets_the_request_timeout",
        "Image search by URL to a server that never answers",
        "`Error::Timeout` (`Request`) after `request_timeout` (500 ms)",
        500,
    ),
    (
        "an_upload_the_server_stops_taking",
        "A 64 MiB upload; the server reads the head and then nothing",
        "`Error::Timeout` (`UploadStalled`) after `stall_timeout` (500 ms); not retried (creates a task)",
        500,
    ),
    (
        "an_upload_then_silence",
        "The server takes the whole 8 MiB upload, then never answers (no upload timeout set)",
        "`Error::Timeout` (`Request`): `request_timeout` (500 ms) counts from the last byte sent",
        1_500,
    ),
    (
        "a_slow_upload_meets_the_upload_timeout",
        "The server reads a 64 MiB upload at ~3 MB/s (never stalls)",
        "`Error::Timeout` (`Upload`) at `upload_timeout` (1.5 s)",
        1_500,
    ),
    (
        "a_response_body_that_stalls",
        "Headers and 10 bytes of the body, then nothing (no request timeout set)",
        "`Error::Timeout` (`ResponseStalled`) after `stall_timeout` (500 ms)",
        500,
    ),
    (
        "a_generation_stream_that_stalls",
        "NDJSON stream: one event, then nothing",
        "the event, then `Error::Timeout` (`ResponseStalled`) after `stall_timeout` (500 ms)",
        500,
    ),
    // Memory and CPU.
    (
        "a_declared_2_gib_body_is_refused_before_reading",
        "200 declaring `Content-Length: 2147483648`",
        "`Error::ResponseTooLarge` with the declared length, before reading the body",
        500,
    ),
    (
        "an_endless_body_stops_at_the_ceiling",
        "200 with an endless chunked body to a GET and to an upload's answer (ceiling 4 MiB)",
        "`Error::ResponseTooLarge` (`Body`, limit 4 MiB) on both paths",
        2_000,
    ),
    (
        "an_ndjson_line_without_end",
        "NDJSON stream: 64 MiB without a newline",
        "`Error::ResponseTooLarge` (`StreamLine`, 1 MiB) after reading ~1 MiB; linear scan",
        1_000,
    ),
    (
        "an_endless_ndjson_stream_stops_at_the_ceiling",
        "NDJSON stream of valid events without end (ceiling 1 MiB)",
        "events, then `Error::ResponseTooLarge` (`Body`)",
        2_000,
    ),
    (
        "memory_1_gib_json_body_to_a_get",
        "1 GiB JSON body to a GET, default ceiling (128 MiB)",
        "`Error::ResponseTooLarge` at 128 MiB; peak RSS ≤ 128 MiB + 32 MiB over the start",
        20_000,
    ),
    (
        "memory_1_gib_string_in_a_json_body",
        "A 200 whose JSON is one 1 GiB string, ceiling 16 MiB",
        "`Error::ResponseTooLarge`; peak RSS ≤ 16 MiB + 32 MiB over the start",
        5_000,
    ),
    (
        "memory_1_gib_error_body",
        "A 500 with a 1 GiB body, 3 times",
        "`Error::Api` 500 with a 512-byte snippet; peak RSS ≤ 32 MiB over the start",
        5_000,
    ),
    (
        "memory_1_gib_ndjson_line",
        "NDJSON stream: 1 GiB without a newline",
        "`Error::ResponseTooLarge` (`StreamLine`); peak RSS ≤ 1 MiB + 32 MiB over the start",
        5_000,
    ),
    // Ids and URLs.
    (
        "dot_segment_ids_are_refused_before_any_request",
        "Ids `..`, `.`, `a\\b`, blank in every kind of path (delete video, get task, index, engine…)",
        "`Error::InvalidInput` naming the field; nothing sent",
        1_000,
    ),
    (
        "arbitrary_ids_stay_one_path_segment",
        "Arbitrary task ids (property test, 160 cases)",
        "either `Error::InvalidInput` (`task_id`) with nothing sent, or exactly `GET /v1.2/tasks/{one segment}` that decodes to the id",
        20_000,
    ),
    (
        "a_base_url_with_encoded_dot_segments_is_refused",
        "Base URLs `…/tl/%2e%2e/v1.2`, `…/tl/.%2E`, `…/a\\..\\v1.2`",
        "`Error::Config`; not normalised to another path",
        1_000,
    ),
    // Waiting.
    (
        "wait_on_a_silent_server_ends_at_max_wait",
        "`max_wait(1 s)`, the server never answers a poll (request timeout 30 s)",
        "`Error::WaitTimeout` with no state at 1 s",
        1_000,
    ),
    (
        "wait_with_a_429_retry_after_20",
        "`max_wait(2 s)`; after one `indexing`, every poll gets 429 `Retry-After: 20`",
        "`Error::WaitTimeout` with the last state at 2 s (the transport's 20 s sleep is cut)",
        2_000,
    ),
    // Page walks.
    (
        "a_growing_total_page_ends_at_the_first_count",
        "`total_page` grows by one on every page (first page: 3)",
        "3 pages, 3 requests, sequential and concurrent",
        2_000,
    ),
    (
        "prefetch_stays_within_concurrency",
        "`total_page: 1e9`, `.concurrency(1000)`, the consumer reads 20 pages",
        "concurrency capped at 16: at most 20 + 16 + 1 requests",
        3_000,
    ),
    (
        "a_page_token_that_is_not_one_segment",
        "Search answers with `next_page_token: \"..\"`",
        "the first page, then `Error::Protocol`; 1 request",
        1_000,
    ),
    // Errors.
    (
        "the_key_echoed_by_the_server_is_redacted",
        "The server echoes the key in an error message, `x-request-id`, a `Location`, a 200 that does not decode, a stream error",
        "`[REDACTED]` in every error's `Display` and `Debug`",
        2_000,
    ),
    (
        "control_characters_in_server_text_are_escaped",
        "ANSI escapes, newlines and a bidi override in an error message",
        "escaped (`\\u{1b}`, `\\n`, `\\u{202e}`) in `Display`; the field keeps the text",
        1_000,
    ),
    (
        "an_oversized_response_head_is_a_protocol_error",
        "A 1 MiB response header",
        "`Error::Protocol` (\"too large\"), 1 request, not retryable",
        1_000,
    ),
    (
        "a_malformed_status_line_is_a_protocol_error",
        "`HTTP/1.1 abc` status line",
        "`Error::Protocol`, 1 request, not retryable",
        1_000,
    ),
];

/// The bound of a scenario.
#[allow(dead_code)] // not used by `tests/faults.rs`, which only renders the table
pub fn bound(test: &str) -> std::time::Duration {
    let ms = HOSTILE
        .iter()
        .find(|(t, ..)| *t == test)
        .map(|s| s.3)
        .unwrap_or_else(|| panic!("no scenario {test}"));
    std::time::Duration::from_millis(ms)
}
