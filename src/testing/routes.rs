//! Request handling of the fake: one routing function, so that faults, authentication and
//! rate-limit headers apply to every route alike.
//!
//! `clippy::indexing_slicing` is allowed here for `serde_json::Value` indexing only: reading a
//! missing key yields `Null`, and the values written to are objects this module builds itself.
#![allow(clippy::indexing_slicing)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::data::{confidence, embedding, match_clips, score};
use super::{
    FakeEmbedTask, FakeTask, FakeVideo, Fault, FaultKind, Segment, State, TokenPages, VideoData,
    lock,
};

type Shared = Arc<Mutex<State>>;

/// The largest body the fake reads whole (JSON and url-encoded bodies; file parts are streamed).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// The engines of the platform, the options each takes, and whether it generates text.
const ENGINES: &[(&str, &[&str])] = &[
    (
        "marengo2.6",
        &["visual", "conversation", "text_in_video", "logo"],
    ),
    ("pegasus1", &["visual", "conversation"]),
    ("pegasus1.1", &["visual", "conversation"]),
];

/// The embedding engine.
const EMBED_ENGINE: &str = "Marengo-retrieval-2.6";

pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(state)
        .layer(DefaultBodyLimit::disable())
}

/// What a route answers.
enum Out {
    Json(u16, Value),
    Empty(u16),
    Ndjson(Vec<Value>),
}

/// An error answer: status, code, message.
struct ApiErr(u16, &'static str, String);

type R = std::result::Result<Out, ApiErr>;
type Res<T> = std::result::Result<T, ApiErr>;

fn err(status: u16, code: &'static str, message: impl Into<String>) -> ApiErr {
    ApiErr(status, code, message.into())
}

fn invalid(message: impl Into<String>) -> ApiErr {
    err(400, "parameter_invalid", message)
}

fn not_provided(field: &str) -> ApiErr {
    err(
        400,
        "parameter_not_provided",
        format!("The {field} parameter is required."),
    )
}

fn not_found(id: &str, collection: &str) -> ApiErr {
    err(
        404,
        "resource_not_exists",
        format!("Resource with id '{id}' does not exist in {collection} collection."),
    )
}

/// Index and task timestamps: milliseconds, as the seed shows them (`2024-06-09T12:04:14.069Z`).
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Video timestamps and token expiry: whole seconds, as the seed shows them (`2024-06-09T12:04:14Z`).
fn ts_secs(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Numbers as the real API (a JavaScript service) writes them: a whole number is an integer
/// (`159`, never `159.0`), and there is no negative zero.
fn js_numbers(v: &mut Value) {
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9_007_199_254_740_992.0
            {
                // Exact: |f| < 2^53 and whole.
                #[allow(clippy::cast_possible_truncation)]
                let i = f as i64;
                *v = Value::from(i);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(js_numbers),
        Value::Object(map) => map.values_mut().for_each(js_numbers),
        _ => {}
    }
}

/// A multipart field.
enum Field {
    Text(String),
    File {
        filename: String,
        size: u64,
        head: Vec<u8>,
    },
}

/// A form body: multipart, or url-encoded (which has text fields only).
struct Form(Vec<(String, Field)>);

/// How much of a file part is kept: enough for a URL sent as a file part (the Python SDK sends
/// `video_url`, `text`, `image_url` and `audio_url` that way) or a transfer list's first bytes.
const FILE_HEAD: usize = 8 * 1024;

impl Form {
    /// A text field; a small file part of that name counts as text (the Python SDK's way).
    fn text(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find_map(|(n, f)| match f {
                Field::Text(t) if n == name => Some(t.clone()),
                _ => None,
            })
            .or_else(|| {
                self.0.iter().find_map(|(n, f)| match f {
                    Field::File { size, head, .. }
                        if n == name && (*size as usize) == head.len() =>
                    {
                        String::from_utf8(head.clone()).ok()
                    }
                    _ => None,
                })
            })
            .filter(|t| !t.is_empty())
    }
    fn texts(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|(n, f)| match f {
                Field::Text(t) if n == name => Some(t.clone()),
                _ => None,
            })
            .flat_map(|t| {
                // A repeated field is the documented form; a JSON array or a comma list is
                // accepted too.
                if let Ok(Value::Array(a)) = serde_json::from_str::<Value>(&t) {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect::<Vec<_>>()
                } else {
                    t.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                }
            })
            .collect()
    }
    /// A file part: `(file name, size, first bytes)`.
    fn file(&self, name: &str) -> Option<(&str, u64, &[u8])> {
        self.0.iter().find_map(|(n, f)| match f {
            Field::File {
                filename,
                size,
                head,
            } if n == name => Some((filename.as_str(), *size, head.as_slice())),
            _ => None,
        })
    }
    /// A number field, checked.
    fn number(&self, name: &str) -> Res<Option<f64>> {
        match self.text(name) {
            None => Ok(None),
            Some(t) => match t.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(Some(n)),
                _ => Err(invalid(format!(
                    "The {name} parameter is invalid: '{t}' is not a number."
                ))),
            },
        }
    }
    /// A boolean field (`"true"` / `"false"`), checked.
    fn boolean(&self, name: &str) -> Res<Option<bool>> {
        match self.text(name).as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(invalid(format!(
                "The {name} parameter is invalid: '{other}' is not true or false."
            ))),
        }
    }
}

async fn read_multipart(req: Request) -> Res<Form> {
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|e| invalid(format!("The multipart/form-data body is invalid: {e}")))?;
    let mut fields = Vec::new();
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| invalid(format!("The multipart/form-data body is invalid: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(filename) => {
                let (mut size, mut head) = (0u64, Vec::new());
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| invalid(format!("The file part {name} could not be read: {e}")))?
                {
                    size += chunk.len() as u64;
                    if head.len() < FILE_HEAD {
                        let take = chunk.len().min(FILE_HEAD - head.len());
                        head.extend(chunk.iter().take(take));
                    }
                }
                fields.push((
                    name,
                    Field::File {
                        filename,
                        size,
                        head,
                    },
                ));
            }
            None => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| invalid(format!("The field {name} could not be read: {e}")))?;
                fields.push((name, Field::Text(text)));
            }
        }
    }
    Ok(Form(fields))
}

/// The body of a request, by its content type.
enum Payload {
    None,
    Json(Value),
    Form(Form),
}

/// The operations whose body is a form (multipart; url-encoded is accepted too, as the Python
/// SDK 0.2.10 posted `/embed`).
fn takes_form(m: &Method, s: &[&str]) -> bool {
    *m == Method::POST
        && matches!(
            s,
            ["tasks"] | ["tasks", "transfers"] | ["search-v2"] | ["embed"] | ["embed", "tasks"]
        )
}

/// Every answer, API or control, carries a `Date` on the fake's clock, so that a client can tell
/// how far away `X-Ratelimit-Reset` is even after a test moved the clock (hyper keeps a `Date`
/// the service set).
async fn handle(AxState(state): AxState<Shared>, req: Request) -> Response {
    let mut r = respond(state.clone(), req).await;
    let now = lock(&state).now();
    r.headers_mut().insert(header::DATE, http_date(now));
    r
}

/// An HTTP date (IMF-fixdate, `Sun, 09 Jun 2024 12:04:14 GMT`); a clock moved past the year 9999
/// reads as its last second.
fn http_date(t: DateTime<Utc>) -> HeaderValue {
    let last = chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .map(|t| t.and_utc());
    let t = last.map_or(t, |last| t.min(last));
    HeaderValue::from_str(&t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_else(|_| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

async fn respond(state: Shared, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query: Vec<(String, String)> = req.uri().query().map(url_pairs).unwrap_or_default();
    let headers = req.headers().clone();
    let key_ok = {
        let st = lock(&state);
        headers.get("x-api-key").and_then(|v| v.to_str().ok()) == Some(st.api_key.as_str())
    };

    if let Some(control) = path.strip_prefix("/_fake/") {
        if !key_ok {
            return error_response(&state, unauthorized());
        }
        let body = axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .unwrap_or_default();
        return match control_route(&state, &method, control, &body) {
            Ok(v) => axum::Json(v).into_response(),
            Err(e) => error_response(&state, e),
        };
    }

    // Faults first: they stand for the network and the gateway.
    let fault = {
        let mut st = lock(&state);
        st.requests += 1;
        *st.route_requests
            .entry(route_key(&method, &path))
            .or_insert(0) += 1;
        let rest = path.strip_prefix("/v1.2").unwrap_or(&path).to_owned();
        let kind = st
            .faults
            .iter_mut()
            .find(|f| f.times > 0 && rest.starts_with(&f.path))
            .map(|f| {
                f.times -= 1;
                f.kind.clone()
            });
        st.faults.retain(|f| f.times > 0);
        kind
    };
    match fault {
        Some(FaultKind::Status(code, retry_after)) => {
            let mut r = error_response(&state, fault_error(code));
            if let Some(secs) = retry_after {
                r.headers_mut()
                    .insert("retry-after", HeaderValue::from(secs));
            }
            return r;
        }
        Some(FaultKind::Slow(d)) => tokio::time::sleep(d).await,
        None => {}
    }

    if !key_ok {
        return error_response(&state, unauthorized());
    }

    let Some(rest) = path.strip_prefix("/v1.2") else {
        return error_response(
            &state,
            err(
                404,
                "resource_not_exists",
                format!("No API at {path}: the v1.2 API is under /v1.2."),
            ),
        );
    };
    let segs: Vec<String> = rest
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();

    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let payload = match read_payload(req, &content_type).await {
        Ok(p) => p,
        Err(e) => return error_response(&state, e),
    };
    let what = format!("{method} /{}", segs.join("/"));
    let (body, form) = match (payload, takes_form(&method, &segs)) {
        (Payload::Form(f), true) => (Value::Null, Some(f)),
        (Payload::None, true) => {
            return error_response(
                &state,
                invalid(format!(
                    "{what} takes a multipart/form-data body; none was sent."
                )),
            );
        }
        (Payload::Json(_), true) => {
            return error_response(
                &state,
                invalid(format!(
                    "{what} takes a multipart/form-data body, not JSON (Content-Type: {}).",
                    shown(&content_type)
                )),
            );
        }
        (Payload::Form(_), false) => {
            return error_response(
                &state,
                invalid(format!(
                    "{what} takes a JSON body (Content-Type: application/json), not {}.",
                    shown(&content_type)
                )),
            );
        }
        (Payload::Json(v), false) => (v, None),
        (Payload::None, false) => (Value::Null, None),
    };

    let (out, limits) = {
        let mut st = lock(&state);
        st.settle();
        let out = route(&mut st, &method, &segs, &Query(query), &body, form.as_ref());
        // Task creation has a counter of its own (the general one would read as a quota of task
        // creations spent by requests of any kind).
        let limits = match (&method, segs.as_slice()) {
            (&Method::POST, ["tasks"]) => st.task_limits(),
            _ => st.general_limits(),
        };
        (out, limits)
    };
    match out {
        Ok(Out::Json(status, mut v)) => {
            js_numbers(&mut v);
            limits.apply(status, axum::Json(v).into_response())
        }
        Ok(Out::Empty(status)) => limits.apply(status, Body::empty().into_response()),
        Ok(Out::Ndjson(events)) => {
            let mut text = String::new();
            for mut e in events {
                js_numbers(&mut e);
                text.push_str(&e.to_string());
                text.push('\n');
            }
            let mut r = Body::from(text).into_response();
            r.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("application/x-ndjson"),
            );
            limits.apply(200, r)
        }
        Err(ApiErr(status, code, message)) => limits.apply(
            status,
            axum::Json(json!({"code": code, "message": message})).into_response(),
        ),
    }
}

/// The words of the API's paths; any other segment is an id or a page token.
const PATH_WORDS: &[&str] = &[
    "engines",
    "indexes",
    "videos",
    "transcription",
    "text-in-video",
    "logo",
    "thumbnail",
    "tasks",
    "status",
    "external-provider",
    "transfers",
    "import",
    "logs",
    "search",
    "search-v2",
    "combined",
    "combined-search",
    "classify",
    "bulk",
    "gist",
    "summarize",
    "generate",
    "embed",
];

/// The key of [`FakeServer::request_counts`](super::FakeServer::request_counts): the method and
/// the path after `/v1.2` with each id replaced by `{id}` (`GET /indexes/{id}/videos`).
fn route_key(method: &Method, path: &str) -> String {
    let Some(rest) = path.strip_prefix("/v1.2") else {
        return format!("{method} (outside /v1.2)");
    };
    if !(rest.is_empty() || rest.starts_with('/')) {
        return format!("{method} (outside /v1.2)");
    }
    let mut key = format!("{method} ");
    let mut empty = true;
    for seg in rest.split('/').filter(|s| !s.is_empty()) {
        key.push('/');
        key.push_str(if PATH_WORDS.contains(&seg) {
            seg
        } else {
            "{id}"
        });
        empty = false;
    }
    if empty {
        key.push('/');
    }
    key
}

fn shown(content_type: &str) -> &str {
    if content_type.is_empty() {
        "none"
    } else {
        content_type
    }
}

fn unauthorized() -> ApiErr {
    err(
        401,
        "api_key_invalid",
        "The API key you provided is not valid.",
    )
}

/// The error body of an injected status: the documented code for that status where there is one.
fn fault_error(status: u16) -> ApiErr {
    let code = match status {
        400 => "parameter_invalid",
        401 => "api_key_invalid",
        403 => "api_not_allowed",
        404 => "resource_not_exists",
        429 => "too_many_requests",
        _ => "injected_fault",
    };
    let message = if status == 429 {
        "You have exceeded the rate limit. Please try again later.".to_owned()
    } else {
        format!("injected HTTP {status}")
    };
    ApiErr(status, code, message)
}

async fn read_payload(req: Request, content_type: &str) -> Res<Payload> {
    if content_type.starts_with("multipart/form-data") {
        return read_multipart(req).await.map(Payload::Form);
    }
    let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY)
        .await
        .map_err(|e| invalid(format!("The request body could not be read: {e}")))?;
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let text = String::from_utf8_lossy(&bytes);
        let fields = url_pairs(&text)
            .into_iter()
            .map(|(k, v)| (k, Field::Text(v)))
            .collect();
        return Ok(Payload::Form(Form(fields)));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Payload::None);
    }
    serde_json::from_slice(&bytes).map(Payload::Json).map_err(|e| {
        if content_type.is_empty() || content_type.contains("json") {
            invalid(format!("The request body is not valid JSON: {e}."))
        } else {
            invalid(format!(
                "The request body must be JSON with Content-Type: application/json; it was {content_type} and not JSON ({e})."
            ))
        }
    })
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{q}"))
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn percent_decode(s: &str) -> String {
    url_pairs(&format!("x={}", s.replace('+', "%2B")))
        .into_iter()
        .next()
        .map(|(_, v)| v)
        .unwrap_or_else(|| s.to_owned())
}

fn error_response(state: &Shared, ApiErr(status, code, message): ApiErr) -> Response {
    let body = axum::Json(json!({"code": code, "message": message})).into_response();
    with_limits(state, status, body)
}

fn with_limits(state: &Shared, status: u16, r: Response) -> Response {
    let limits = lock(state).general_limits();
    limits.apply(status, r)
}

/// The daily limit of task creations `POST /tasks` answers show when no cap is set: more than
/// any test or benchmark creates, so it is never reached.
const UNCAPPED_TASKS: u64 = 1_000_000;

/// The `X-Ratelimit-*` headers of an answer.
struct Limits {
    limit: u64,
    used: u64,
    /// UTC epoch seconds.
    reset: i64,
}

impl Limits {
    /// Sets the status and the four headers.
    fn apply(&self, status: u16, mut r: Response) -> Response {
        *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let h: &mut HeaderMap = r.headers_mut();
        h.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        h.insert(
            "x-ratelimit-remaining",
            HeaderValue::from(self.limit.saturating_sub(self.used)),
        );
        h.insert("x-ratelimit-used", HeaderValue::from(self.used));
        h.insert("x-ratelimit-reset", HeaderValue::from(self.reset));
        r
    }
}

/// The `/_fake` control requests (documented in the module docs).
fn control_route(state: &Shared, m: &Method, path: &str, body: &[u8]) -> Res<Value> {
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(body)
            .map_err(|e| invalid(format!("The control body is not valid JSON: {e}.")))?
    };
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut st = lock(state);
    match (m.clone(), segs.as_slice()) {
        (Method::POST, ["advance"]) => {
            let secs = body["seconds"]
                .as_f64()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .ok_or_else(|| invalid("advance takes {\"seconds\": a non-negative number}"))?;
            st.advance(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
            st.settle();
            Ok(json!({"now": ts(st.now())}))
        }
        (Method::PUT, ["videos", id, "data"]) => {
            let data = video_data(&body)?;
            let v = st
                .videos
                .get_mut(*id)
                .ok_or_else(|| not_found(id, "video"))?;
            v.set_data(data);
            Ok(json!({"video_id": id}))
        }
        (Method::POST, ["faults"]) => {
            let times = match &body["times"] {
                Value::Null => 1,
                t => t
                    .as_u64()
                    .and_then(|t| u32::try_from(t).ok())
                    .ok_or_else(|| invalid("times must be a positive integer"))?,
            };
            let mut fault = match (body["status"].as_u64(), body["delay_ms"].as_u64()) {
                (Some(status), None) if (400..=599).contains(&status) => {
                    let status = u16::try_from(status).unwrap_or(500);
                    match body["retry_after"].as_u64() {
                        Some(secs) if status == 429 => Fault::rate_limited(secs),
                        _ => Fault::status(status),
                    }
                }
                (None, Some(ms)) => Fault::slow(Duration::from_millis(ms)),
                _ => {
                    return Err(invalid(
                        "a fault is {\"status\": 400-599} or {\"delay_ms\": n}, with optional times and path",
                    ));
                }
            };
            fault = fault.times(times);
            if let Some(p) = body["path"].as_str() {
                fault = fault.path(p);
            }
            st.faults.push(fault);
            Ok(json!({"faults": st.faults.len()}))
        }
        (Method::GET, ["task-quota"]) => Ok(st.task_quota_json()),
        (Method::PUT, ["task-quota"]) => {
            st.task_quota = match body.get("per_day") {
                Some(Value::Null) => None,
                Some(n) if n.is_u64() => n.as_u64(),
                _ => {
                    return Err(invalid(
                        "task-quota takes {\"per_day\": a non-negative integer, or null for no cap}",
                    ));
                }
            };
            Ok(st.task_quota_json())
        }
        (Method::GET, ["requests"]) => Ok(json!(st.route_requests)),
        _ => Err(err(
            404,
            "resource_not_exists",
            format!("no control route {m} /_fake/{path}"),
        )),
    }
}

fn segments_of(v: &Value, key: &str) -> Res<Vec<Segment>> {
    match &v[key] {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|s| {
                match (s["start"].as_f64(), s["end"].as_f64(), s["text"].as_str()) {
                    (Some(a), Some(b), Some(t)) if a.is_finite() && b.is_finite() && a <= b => {
                        Ok(Segment::new(a, b, t))
                    }
                    _ => Err(invalid(format!(
                        "{key}: each segment is {{\"start\": s, \"end\": s >= start, \"text\": \"…\"}}"
                    ))),
                }
            })
            .collect(),
        _ => Err(invalid(format!("{key} must be a list of segments"))),
    }
}

fn video_data(v: &Value) -> Res<VideoData> {
    if !v.is_object() {
        return Err(invalid("the video data is a JSON object"));
    }
    let mut d = VideoData {
        visual: segments_of(v, "visual")?,
        conversation: segments_of(v, "conversation")?,
        text_in_video: segments_of(v, "text_in_video")?,
        logo: segments_of(v, "logo")?,
        duration: 0.0,
    };
    let last = [&d.visual, &d.conversation, &d.text_in_video, &d.logo]
        .into_iter()
        .flatten()
        .map(|s| s.end)
        .fold(0.0, f64::max);
    d.duration = match &v["duration"] {
        Value::Null => last,
        x => x
            .as_f64()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| invalid("duration must be a non-negative number"))?,
    };
    Ok(d)
}

struct Query(Vec<(String, String)>);

impl Query {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
    }
    /// Every value of a list parameter: repeated keys (the Python SDK) or one comma-separated
    /// value (the JS SDK and the docs).
    fn list(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(a, _)| a == k)
            .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_owned()))
            .filter(|s| !s.is_empty())
            .collect()
    }
    fn number(&self, k: &str) -> Res<Option<f64>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => match v.parse::<f64>() {
                Ok(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
                _ => Err(invalid(format!(
                    "The {k} parameter is invalid: '{v}' is not a non-negative number."
                ))),
            },
        }
    }
}

/// Checks that an optional string field is one of `allowed`.
fn one_of(v: &Value, field: &str, allowed: &[&str]) -> Res<()> {
    match v {
        Value::Null => Ok(()),
        Value::String(s) if allowed.contains(&s.as_str()) => Ok(()),
        other => Err(invalid(format!(
            "The {field} parameter is invalid: {other} is not one of {}.",
            allowed.join(", ")
        ))),
    }
}

fn route(
    st: &mut State,
    m: &Method,
    s: &[&str],
    q: &Query,
    body: &Value,
    form: Option<&Form>,
) -> R {
    use Method as M;
    let form = || form.ok_or_else(|| invalid("a multipart/form-data body is expected"));
    match (m.clone(), s) {
        (M::GET, ["engines"]) => Ok(Out::Json(200, json!({"data": engines()}))),
        (M::GET, ["engines", id]) => engines()
            .into_iter()
            .find(|e| e["_id"] == *id)
            .map(|e| Out::Json(200, e))
            .ok_or_else(|| not_found(id, "engine")),
        (M::POST, ["indexes"]) => st.create_index(body),
        (M::GET, ["indexes"]) => st.list_indexes(q),
        (M::GET, ["indexes", id]) => st
            .indexes
            .contains_key(*id)
            .then(|| Out::Json(200, st.render_index(id)))
            .ok_or_else(|| not_found(id, "index")),
        (M::PUT, ["indexes", id]) => st.rename_index(id, body),
        (M::DELETE, ["indexes", id]) => {
            st.indexes.remove(*id).ok_or_else(|| not_found(id, "index"))?;
            st.videos.retain(|_, v| v.index != *id);
            Ok(Out::Empty(200))
        }
        (M::GET, ["indexes", idx, "videos"]) => {
            if !st.indexes.contains_key(*idx) {
                return Err(not_found(idx, "index"));
            }
            let vids = || st.videos.values().filter(|v| v.index == *idx);
            let total: f64 = vids().map(|v| v.data.duration).sum();
            let mut out = page_list(vids().map(|v| &v.json), q, &["metadata"])?;
            if let Out::Json(_, v) = &mut out {
                v["page_info"]["total_duration"] = json!(total);
            }
            Ok(out)
        }
        (M::GET, ["indexes", idx, "videos", vid]) => {
            let v = st.video_in(idx, vid)?;
            let mut j = v.json.clone();
            for (k, val) in &v.detail {
                j[k] = val.clone();
            }
            match q.get("embed") {
                None | Some("false") => {}
                Some("true") => {
                    if !st.has_family(idx, "marengo") {
                        return Err(err(
                            400,
                            "index_not_supported_for_search",
                            "The index of this video has no Marengo engine, so it has no embeddings.",
                        ));
                    }
                    j["embedding"] = json!({"engine_name": EMBED_ENGINE, "video_embedding": {"segments": [{"float": embedding(vid), "start_offset_sec": 0.0, "end_offset_sec": v.data.duration, "embedding_scope": "video"}]}});
                }
                Some(other) => {
                    return Err(invalid(format!(
                        "The embed parameter is invalid: '{other}' is not true or false."
                    )));
                }
            }
            Ok(Out::Json(200, j))
        }
        (M::PUT, ["indexes", idx, "videos", vid]) => st.update_video(idx, vid, body),
        (M::DELETE, ["indexes", idx, "videos", vid]) => {
            st.video_in(idx, vid)?;
            st.videos.remove(*vid);
            Ok(Out::Empty(200))
        }
        (M::GET, ["indexes", idx, "videos", vid, kind @ ("transcription" | "text-in-video" | "logo")]) => {
            let v = st.video_in(idx, vid)?;
            let option = match *kind {
                "transcription" => "conversation",
                "text-in-video" => "text_in_video",
                _ => "logo",
            };
            let lo = q.number("start")?.unwrap_or(0.0);
            let hi = q.number("end")?.unwrap_or(f64::MAX);
            if lo > hi {
                return Err(invalid("The end parameter is invalid: it must not be before start."));
            }
            let data: Vec<Value> = v
                .data
                .segments(option)
                .iter()
                .filter(|seg| seg.end >= lo && seg.start <= hi)
                .map(|seg| json!({"start": seg.start, "end": seg.end, "value": seg.text}))
                .collect();
            Ok(Out::Json(200, json!({"data": data})))
        }
        (M::GET, ["indexes", idx, "videos", vid, "thumbnail"]) => {
            let v = st.video_in(idx, vid)?;
            let t = q.number("time")?.unwrap_or(v.data.duration / 2.0);
            if t > v.data.duration {
                return Err(invalid(format!(
                    "The time parameter is invalid: the video is {} seconds long.",
                    v.data.duration
                )));
            }
            Ok(Out::Json(200, json!({"thumbnail": format!("https://fake.twelvelabs.invalid/{vid}/thumbnails/{:07}.jpg", t.floor())})))
        }
        (M::POST, ["tasks"]) => {
            st.check_task_quota()?;
            let form = form()?;
            let index = form.text("index_id").ok_or_else(|| not_provided("index_id"))?;
            let stream = !form.boolean("disable_video_stream")?.unwrap_or(false);
            let provide = form.boolean("provide_transcription")?.unwrap_or(false);
            if !provide && (form.text("transcription_url").is_some() || form.file("transcription_file").is_some()) {
                return Err(invalid("A transcription was sent without provide_transcription=true."));
            }
            if form.text("language").is_some_and(|l| l.trim().is_empty()) {
                return Err(invalid("The language parameter is invalid."));
            }
            let (file, url) = (form.file("video_file"), form.text("video_url"));
            let (filename, size) = match (file, url) {
                (Some((_, 0, _)), None) => return Err(err(400, "video_file_broken", "The video file is empty.")),
                (Some((name, size, _)), None) => (name.to_owned(), size),
                (None, Some(u)) => {
                    if !(u.starts_with("https://") || u.starts_with("http://")) {
                        return Err(invalid(format!("The video_url parameter is invalid: '{u}' is not an http(s) URL.")));
                    }
                    (u.rsplit('/').next().unwrap_or(&u).to_owned(), 10_016_501)
                }
                (Some(_), Some(_)) => return Err(invalid("Send one of video_file and video_url, not both.")),
                (None, None) => return Err(err(400, "parameter_not_provided", "The video_file or video_url parameter is required.")),
            };
            let out = st.create_task(&index, filename, size, None, stream)?;
            st.tasks_created += 1;
            Ok(out)
        }
        (M::GET, ["tasks"]) => match st.updated_since(q) {
            Some(ids) => page_list(ids.into_iter().filter_map(|id| st.tasks.get(id)).map(|t| &t.json), q, &["metadata"]),
            None => page_list(st.tasks.values().map(|t| &t.json), q, &["metadata"]),
        },
        (M::GET, ["tasks", "status"]) => {
            let index = q.get("index_id").ok_or_else(|| not_provided("index_id"))?;
            st.index(index)?;
            // One pass over the tasks.
            let (mut ready, mut validating, mut pending, mut failed, mut total) = (0, 0, 0, 0, 0);
            for t in st.tasks.values().filter(|t| t.json["index_id"] == index) {
                total += 1;
                match t.json["status"].as_str() {
                    Some("ready") => ready += 1,
                    Some("validating") => validating += 1,
                    Some("pending") => pending += 1,
                    Some("failed") => failed += 1,
                    _ => {}
                }
            }
            Ok(Out::Json(200, json!({"index_id": index, "ready": ready, "validating": validating, "pending": pending, "failed": failed, "total_result": total})))
        }
        (M::GET, ["tasks", id]) => st.tasks.get(*id).map(|t| Out::Json(200, t.json.clone())).ok_or_else(|| not_found(id, "task")),
        (M::DELETE, ["tasks", id]) => {
            let t = st.tasks.get(*id).ok_or_else(|| not_found(id, "task"))?;
            if t.json["status"] == "indexing" {
                return Err(err(400, "task_cannot_be_deleted", "A task that is indexing cannot be deleted."));
            }
            let updated = t.updated;
            st.tasks.remove(*id);
            st.in_flight.remove(*id);
            st.by_updated.remove(&(updated, (*id).to_owned()));
            Ok(Out::Empty(200))
        }
        (M::POST, ["tasks", "external-provider"]) => {
            let index = required_str(body, "index_id")?;
            let url = required_str(body, "url")?;
            let youtube = url.starts_with("https://") && (url.contains("youtube.com/") || url.contains("youtu.be/"));
            if !youtube {
                return Err(invalid(format!("The url parameter is invalid: '{url}' is not a YouTube URL (the only external provider).")));
            }
            // YouTube gives the video's title as its file name (the tour's video, here).
            let title = "Deadpool & Wolverine | Official Trailer | In Theaters July 26".to_owned();
            let source = json!({"type": "youtube", "name": title, "url": url});
            st.create_task(&index, title, 10_016_501, Some(source), true)
        }
        (M::POST, ["tasks", "transfers"]) => {
            let form = form()?;
            let (_, _, head) = form.file("file").ok_or_else(|| not_provided("file"))?;
            if !String::from_utf8_lossy(head).trim_start().starts_with('[') {
                return Err(invalid("The file parameter is invalid: it must be a JSON array of videos to transfer."));
            }
            Ok(Out::Empty(200))
        }
        (M::POST, ["tasks", "transfers", "import", integration]) => {
            let index = required_str(body, "index_id")?;
            let name = st.index(&index)?["index_name"].clone();
            if !(body["user_metadata"].is_null() || body["user_metadata"].is_object()) {
                return Err(invalid("The user_metadata parameter is invalid: it must be an object."));
            }
            for flag in ["incremental_import", "retry_failed"] {
                if !(body[flag].is_null() || body[flag].is_boolean()) {
                    return Err(invalid(format!("The {flag} parameter is invalid: it must be a boolean.")));
                }
            }
            let now = ts(st.now());
            st.imports.entry((*integration).to_owned()).or_default().push(json!({
                "index_id": index, "index_name": name, "created_at": now, "ended_at": now,
                "video_status": {"ready": 0, "validating": 0, "pending": 0, "indexing": 0, "failed": 0, "queued": 0},
                "failed_files": [],
            }));
            Ok(Out::Json(200, json!({"videos": [], "failed_files": []})))
        }
        (M::GET, ["tasks", "transfers", "import", _, "status"]) => {
            let index = q.get("index_id").ok_or_else(|| not_provided("index_id"))?;
            st.index(index)?;
            Ok(Out::Json(200, json!({"not_imported": [], "validating": [], "pending": [], "queued": [], "indexing": [], "ready": [], "failed": []})))
        }
        (M::GET, ["tasks", "transfers", "import", integration, "logs"]) => {
            let data = st.imports.get(*integration).cloned().unwrap_or_default();
            Ok(Out::Json(200, json!({"data": data})))
        }
        (M::POST, ["search"]) => {
            let index = required_str(body, "index_id")?;
            let options = str_list(&body["search_options"]);
            st.search(&index, &body["query"], &options, body, None)
        }
        (M::POST, ["search", "combined"]) => {
            let index = required_str(body, "index_id")?;
            let options = str_list(&body["search_options"]);
            if !body["query"].is_object() {
                return Err(invalid("The query parameter is invalid: a combined search takes a query object ($and, $or, $not, $then)."));
            }
            if body["group_by"] == "video" {
                return Err(err(400, "search_option_combination_not_supported", "Combined queries cannot be grouped by video."));
            }
            st.search(&index, &body["query"], &options, body, None)
        }
        (M::POST, ["search-v2"]) => {
            let form = form()?;
            let index = form.text("index_id").ok_or_else(|| not_provided("index_id"))?;
            let options = form.texts("search_options");
            let mut settings = json!({});
            for k in ["group_by", "threshold", "operator", "conversation_option", "sort_option", "filter"] {
                if let Some(v) = form.text(k) {
                    settings[k] = json!(v);
                }
            }
            for k in ["page_limit", "adjust_confidence_level"] {
                if let Some(n) = form.number(k)? {
                    settings[k] = json!(n);
                }
            }
            match form.text("query_media_type").as_deref() {
                Some("image") => {
                    if form.text("query_media_url").is_none() && form.file("query_media_file").is_none() {
                        return Err(err(400, "parameter_not_provided", "The query_media_url or query_media_file parameter is required."));
                    }
                    st.search(&index, &Value::Null, &options, &settings, Some(()))
                }
                Some(other) => Err(invalid(format!("The query_media_type parameter is invalid: '{other}' is not image."))),
                None => {
                    let text = form.text("query_text").ok_or_else(|| not_provided("query_text"))?;
                    st.search(&index, &json!(text), &options, &settings, None)
                }
            }
        }
        (M::GET, ["search" | "search-v2", token]) => st.next_page(token, "search"),
        (M::GET, ["search", "combined", token] | ["combined-search", token]) => {
            st.next_page(token, "search")
        }
        (M::POST, ["classify"]) => {
            let ids = str_list(&body["video_ids"]);
            if ids.is_empty() {
                return Err(not_provided("video_ids"));
            }
            st.classify(ids, body)
        }
        (M::POST, ["classify", "bulk"]) => {
            let index = required_str(body, "index_id")?;
            st.index(&index)?;
            let ids: Vec<String> = st.videos.iter().filter(|(_, v)| v.index == index).map(|(k, _)| k.clone()).collect();
            st.classify(ids, body)
        }
        (M::GET, ["classify", token]) => st.next_page(token, "classify"),
        (M::POST, ["gist"]) => {
            let types = str_list(&body["types"]);
            let id = format!("gist-{}", st.id());
            let v = st.generative_video(body)?;
            if types.is_empty() {
                return Err(not_provided("types"));
            }
            if let Some(t) = types.iter().find(|t| !["title", "topic", "hashtag"].contains(&t.as_str())) {
                return Err(invalid(format!("The types parameter is invalid: '{t}' is not one of title, topic, hashtag.")));
            }
            let mut out = json!({"id": id});
            let title = v.json["metadata"]["filename"].as_str().unwrap_or("Untitled").to_owned();
            if types.iter().any(|t| t == "title") {
                out["title"] = json!(title);
            }
            if types.iter().any(|t| t == "topic") {
                out["topics"] = json!(v.data.visual.iter().take(2).map(|s| s.text.clone()).collect::<Vec<_>>());
            }
            if types.iter().any(|t| t == "hashtag") {
                let tags: Vec<String> = title.split_whitespace().filter(|w| w.len() > 3).take(3).map(|w| format!("#{}", w.to_lowercase())).collect();
                out["hashtags"] = json!(tags);
            }
            Ok(Out::Json(200, out))
        }
        (M::POST, ["summarize"]) => {
            let id = format!("sum-{}", st.id());
            let v = st.generative_video(body)?;
            check_temperature(body)?;
            check_prompt(body, false)?;
            let prompt = body["prompt"].as_str().map(|p| format!(" ({p})")).unwrap_or_default();
            let out = match body["type"].as_str() {
                Some("summary") => json!({"id": id, "summary": format!("{}{prompt}", v.data.visual.iter().map(|s| s.text.clone()).collect::<Vec<_>>().join(". "))}),
                Some("chapter") => json!({"id": id, "chapters": v.data.visual.iter().enumerate().map(|(i, s)| json!({"chapter_number": i, "start": s.start, "end": s.end, "chapter_title": format!("Chapter {}", i + 1), "chapter_summary": format!("{}{prompt}", s.text)})).collect::<Vec<_>>()}),
                Some("highlight") => {
                    // Whole seconds: the official Python SDK 0.3.2 types highlight start/end as
                    // integers and rejects anything else.
                    let mut segs: Vec<&Segment> = v.data.conversation.iter().chain(&v.data.logo).collect();
                    segs.sort_by(|a, b| a.start.total_cmp(&b.start));
                    json!({"id": id, "highlights": segs.iter().map(|s| json!({"start": s.start.floor(), "end": s.end.ceil().min(v.data.duration.ceil()), "highlight": format!("{}{prompt}", s.text)})).collect::<Vec<_>>()})
                }
                None => return Err(not_provided("type")),
                Some(other) => return Err(invalid(format!("The type parameter is invalid: '{other}' is not one of summary, chapter, highlight."))),
            };
            Ok(Out::Json(200, out))
        }
        (M::POST, ["generate"]) => {
            let id = format!("gen-{}", st.id());
            let v = st.generative_video(body)?;
            check_temperature(body)?;
            check_prompt(body, true)?;
            let prompt = required_str(body, "prompt")?;
            let stream = match &body["stream"] {
                // The v1.2 reference: `stream` defaults to false.
                Value::Null | Value::Bool(false) => false,
                Value::Bool(true) => true,
                other => return Err(invalid(format!("The stream parameter is invalid: {other} is not a boolean."))),
            };
            let text = format!("{prompt} — {}.", v.data.visual.iter().map(|s| s.text.to_lowercase()).collect::<Vec<_>>().join(", then "));
            if stream {
                let mut events = vec![json!({"event_type": "stream_start", "metadata": {"generation_id": id}})];
                for word in text.split_inclusive(' ') {
                    events.push(json!({"event_type": "text_generation", "text": word}));
                }
                events.push(json!({"event_type": "stream_end", "metadata": {"generation_id": id}}));
                return Ok(Out::Ndjson(events));
            }
            Ok(Out::Json(200, json!({"id": id, "data": text})))
        }
        (M::POST, ["embed"]) => embed(form()?),
        (M::POST, ["embed", "tasks"]) => st.create_embed_task(form()?),
        (M::GET, ["embed", "tasks"]) => st.list_embed_tasks(q),
        (M::GET, ["embed", "tasks", id]) => {
            let t = st.embed_tasks.get(*id).ok_or_else(|| not_found(id, "embedding task"))?;
            let mut j = t.json.clone();
            j["video_embedding"] = json!({"metadata": t.metadata});
            if t.json["status"] == "ready" {
                j["video_embedding"]["segments"] = json!(embed_segments(id, t));
            }
            Ok(Out::Json(200, j))
        }
        (M::GET, ["embed", "tasks", id, "status"]) => st
            .embed_tasks
            .get(*id)
            .map(|t| Out::Json(200, json!({"_id": t.json["_id"], "engine_name": t.json["engine_name"], "status": t.json["status"], "video_embedding": {"metadata": t.metadata}})))
            .ok_or_else(|| invalid(format!("The task_id parameter is invalid: no embedding task '{id}'."))),
        _ => Err(err(404, "resource_not_exists", format!("No route for {m} /v1.2/{}.", s.join("/")))),
    }
}

fn engines() -> Vec<Value> {
    ENGINES
        .iter()
        .map(|(id, options)| json!({"_id": id, "author": "twelvelabs", "allowed_engine_options": options, "ready": true, "finetune": false}))
        .collect()
}

fn family(engine: &str) -> &str {
    if engine.starts_with("marengo") {
        "marengo"
    } else if engine.starts_with("pegasus") {
        "pegasus"
    } else {
        ""
    }
}

fn required_str(body: &Value, field: &'static str) -> Res<String> {
    match &body[field] {
        Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
        Value::Null => Err(not_provided(field)),
        Value::String(_) => Err(not_provided(field)),
        other => Err(invalid(format!(
            "The {field} parameter is invalid: {other} is not a string."
        ))),
    }
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn check_temperature(body: &Value) -> Res<()> {
    match &body["temperature"] {
        Value::Null => Ok(()),
        t => match t.as_f64() {
            Some(t) if (0.0..=1.0).contains(&t) => Ok(()),
            _ => Err(invalid(format!(
                "The temperature parameter is invalid: {t} is not between 0 and 1."
            ))),
        },
    }
}

/// Prompts: at most 1500 characters (the SDK READMEs; the reference says 375 tokens).
fn check_prompt(body: &Value, required: bool) -> Res<()> {
    match &body["prompt"] {
        Value::Null if required => Err(not_provided("prompt")),
        Value::Null => Ok(()),
        Value::String(p) if p.chars().count() > 1500 => Err(err(
            400,
            "token_limit_exceeded",
            "The prompt is too long: at most 375 tokens (about 1500 characters).",
        )),
        Value::String(_) => Ok(()),
        other => Err(invalid(format!(
            "The prompt parameter is invalid: {other} is not a string."
        ))),
    }
}

fn page_limit(q: &Query) -> Res<usize> {
    match q.get("page_limit") {
        None => Ok(10),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=50).contains(&n) => Ok(n),
            _ => Err(invalid(
                "The page_limit parameter is invalid. It must be between 1 and 50.",
            )),
        },
    }
}

/// Timestamp filters: a plain value means "at or after" (D12 list pages).
const DATE_FIELDS: &[&str] = &["created_at", "updated_at", "indexed_at", "estimated_time"];

/// Filters, sorts and pages a list as the page-number endpoints do. Query keys other than paging
/// are filters on the item's fields, or on the fields of its `nested` objects. Works on borrowed
/// items and clones only the page it returns, so that a list over many items stays cheap.
fn page_list<'a>(items: impl IntoIterator<Item = &'a Value>, q: &Query, nested: &[&str]) -> R {
    let limit = page_limit(q)?;
    let page: usize = match q.get("page").map(str::parse) {
        None => 1,
        Some(Ok(p)) if p >= 1 => p,
        _ => return Err(invalid("The page parameter is invalid: pages start at 1.")),
    };
    let by = q.get("sort_by").unwrap_or("created_at").to_owned();
    one_of(&json!(by), "sort_by", &["created_at", "updated_at"])?;
    let order = q.get("sort_option").unwrap_or("desc");
    one_of(&json!(order), "sort_option", &["asc", "desc"])?;
    let mut filters = Vec::new();
    for (k, v) in &q.0 {
        if matches!(
            k.as_str(),
            "page" | "page_limit" | "sort_by" | "sort_option"
        ) {
            continue;
        }
        let (field, op) = match k.strip_suffix("[gte]") {
            Some(f) => (f, "gte"),
            None => match k.strip_suffix("[lte]") {
                Some(f) => (f, "lte"),
                None if DATE_FIELDS.contains(&k.as_str()) => (k.as_str(), "gte"),
                None => (k.as_str(), "eq"),
            },
        };
        let wanted = Wanted::new(v);
        if DATE_FIELDS.contains(&field) && wanted.date.is_none() {
            return Err(invalid(format!(
                "The {k} parameter is invalid: '{v}' is not an RFC 3339 date-time."
            )));
        }
        filters.push((field, op, wanted));
    }
    // Each kept item with its sort key, read once, and its place in the input: equal keys keep
    // the input's order (reversed when descending).
    let mut items: Vec<(Option<&str>, usize, &Value)> = items
        .into_iter()
        .enumerate()
        .filter(|(_, item)| {
            filters.iter().all(|(field, op, wanted)| {
                let value = item
                    .get(*field)
                    .or_else(|| nested.iter().find_map(|n| item[*n].get(*field)));
                value.is_some_and(|value| wanted.compare(value, op))
            })
        })
        .map(|(i, item)| (item[&by].as_str(), i, item))
        .collect();
    let desc = order == "desc";
    let cmp = |a: &(Option<&str>, usize, &Value), b: &(Option<&str>, usize, &Value)| {
        let o = (a.0, a.1).cmp(&(b.0, b.1));
        if desc { o.reverse() } else { o }
    };
    let total = items.len();
    let total_page = total.div_ceil(limit);
    let start = (page - 1).saturating_mul(limit);
    let end = start.saturating_add(limit).min(total);
    // Only what comes up to the end of the page is sorted.
    if end <= start {
        items.clear();
    } else if end < total {
        items.select_nth_unstable_by(end, cmp);
        items.truncate(end);
    }
    items.sort_unstable_by(cmp);
    let data: Vec<Value> = items
        .into_iter()
        .skip(start)
        .map(|(_, _, item)| item.clone())
        .collect();
    Ok(Out::Json(
        200,
        json!({"data": data, "page_info": {"limit_per_page": limit, "page": page, "total_page": total_page, "total_results": total}}),
    ))
}

/// A filter's value, read once: as text, as a number and as a date-time where it is one.
struct Wanted<'a> {
    text: &'a str,
    number: Option<f64>,
    date: Option<DateTime<chrono::FixedOffset>>,
}

impl<'a> Wanted<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            number: text.parse::<f64>().ok(),
            date: DateTime::parse_from_rfc3339(text).ok(),
        }
    }

    /// Whether `value` is `op` (`gte`, `lte`, or anything else for equal) this: numbers as
    /// numbers, date-times as instants, anything else as text.
    fn compare(&self, value: &Value, op: &str) -> bool {
        use std::cmp::Ordering;
        let ord = match (value.as_f64(), self.number) {
            (Some(a), Some(b)) => a.partial_cmp(&b),
            _ => {
                let owned;
                let a = match value {
                    Value::String(s) => s.as_str(),
                    other => {
                        owned = other.to_string();
                        owned.as_str()
                    }
                };
                let as_dates = self
                    .date
                    .and_then(|y| Some(DateTime::parse_from_rfc3339(a).ok()?.cmp(&y)));
                Some(as_dates.unwrap_or_else(|| a.cmp(self.text)))
            }
        };
        match (op, ord) {
            ("gte", Some(o)) => o != Ordering::Less,
            ("lte", Some(o)) => o != Ordering::Greater,
            (_, Some(o)) => o == Ordering::Equal,
            _ => false,
        }
    }
}

/// Whether a video passes a search filter (D12G filtering-search-results): `id` is a list of
/// video ids; other keys are system metadata (`duration`, `width`, `height`, `size`, `fps`,
/// `title`) or custom metadata, each an exact value or a `{"gte": x, "lte": y}` range.
fn passes(video_id: &str, video: &Value, filter: &Map<String, Value>) -> bool {
    filter.iter().all(|(k, want)| {
        if k == "id" {
            return want
                .as_array()
                .is_some_and(|ids| ids.iter().any(|i| i == video_id));
        }
        let have = match k.as_str() {
            "title" => video["metadata"]
                .get("video_title")
                .or_else(|| video["metadata"].get("filename")),
            other => video["metadata"].get(other),
        };
        let Some(have) = have else { return false };
        match want {
            Value::Object(range) => range.iter().all(|(op, bound)| {
                let b = match bound {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Wanted::new(&b).compare(have, op)
            }),
            exact => have == exact || (have.as_f64().is_some() && have.as_f64() == exact.as_f64()),
        }
    })
}

/// Parses and checks a search filter: an object, or the JSON string of one (search-v2).
fn search_filter(v: &Value) -> Res<Map<String, Value>> {
    let parsed = match v {
        Value::Null => return Ok(Map::new()),
        Value::String(s) => serde_json::from_str::<Value>(s).map_err(|e| {
            err(
                400,
                "search_filter_invalid",
                format!("The filter is not a JSON object: {e}."),
            )
        })?,
        other => other.clone(),
    };
    let Value::Object(map) = parsed else {
        return Err(err(
            400,
            "search_filter_invalid",
            "The filter must be a JSON object.",
        ));
    };
    for (k, want) in &map {
        let ok = match (k.as_str(), want) {
            ("id", Value::Array(ids)) => ids.iter().all(Value::is_string),
            ("id", _) => false,
            (_, Value::Object(range)) => {
                !range.is_empty()
                    && range.iter().all(|(op, b)| {
                        (op == "gte" || op == "lte") && (b.is_number() || b.is_string())
                    })
            }
            (_, v) => v.is_string() || v.is_number() || v.is_boolean(),
        };
        if !ok {
            return Err(err(
                400,
                "search_filter_invalid",
                format!(
                    "The filter on {k} is invalid: use a value, a {{\"gte\": x, \"lte\": y}} range, or for id a list of video ids."
                ),
            ));
        }
    }
    Ok(map)
}

/// The embedding of one input: an inline file part or a URL.
fn embed(form: &Form) -> R {
    let engine = form
        .text("engine_name")
        .ok_or_else(|| not_provided("engine_name"))?;
    if engine != EMBED_ENGINE {
        return Err(invalid(format!(
            "The engine_name parameter is invalid: '{engine}' is not an embedding engine ({EMBED_ENGINE})."
        )));
    }
    let mut out = json!({"engine_name": engine});
    if let Some(t) = form.text("text") {
        let truncate = form.text("text_truncate").unwrap_or_else(|| "end".into());
        one_of(&json!(truncate), "text_truncate", &["none", "start", "end"])?;
        if truncate == "none" && t.split_whitespace().count() > 77 {
            return Err(invalid(
                "The text parameter is invalid: it is longer than 77 tokens and text_truncate is none.",
            ));
        }
        out["text_embedding"] = json!({"segments": [{"float": embedding(&t)}]});
    }
    let audio_start = form.number("audio_start_offset_sec")?.unwrap_or(0.0);
    if audio_start < 0.0 {
        return Err(invalid(
            "The audio_start_offset_sec parameter is invalid: it must not be negative.",
        ));
    }
    for (kind, url, file) in [
        ("image", "image_url", "image_file"),
        ("audio", "audio_url", "audio_file"),
    ] {
        // The URL wins when both are sent.
        let (key, metadata) = match (form.text(url), form.file(file)) {
            (Some(u), _) => (u.clone(), json!({"input_url": u})),
            (None, Some((_, 0, _))) => {
                return Err(invalid(format!(
                    "The {file} parameter is invalid: the file is empty."
                )));
            }
            (None, Some((name, size, _))) => {
                (format!("{name}:{size}"), json!({"input_filename": name}))
            }
            (None, None) => continue,
        };
        let mut segment = json!({"float": embedding(&key)});
        if kind == "audio" {
            segment["start_offset_sec"] = json!(audio_start);
            segment["end_offset_sec"] = json!(audio_start + 10.0);
        }
        out[format!("{kind}_embedding")] = json!({"segments": [segment], "metadata": metadata});
    }
    if out.as_object().is_some_and(|o| o.len() == 1) {
        return Err(err(
            400,
            "parameter_not_provided",
            "Send at least one of text, image_url, image_file, audio_url and audio_file.",
        ));
    }
    Ok(Out::Json(200, out))
}

/// The segments of a ready embedding task: one per clip of the requested range, then the whole
/// video when the `video` scope was asked for.
fn embed_segments(id: &str, t: &FakeEmbedTask) -> Vec<Value> {
    let end = t
        .end
        .unwrap_or_else(|| t.metadata["duration"].as_f64().unwrap_or(0.0));
    let mut out = Vec::new();
    if t.scopes.iter().any(|s| s == "clip") {
        let mut at = t.start;
        let mut n = 0u32;
        while at < end && n < 10_000 {
            let stop = (at + t.clip_length).min(end);
            out.push(json!({"float": embedding(&format!("{id}:{n}")), "start_offset_sec": at, "end_offset_sec": stop, "embedding_scope": "clip"}));
            at = stop;
            n += 1;
        }
    }
    if t.scopes.iter().any(|s| s == "video") {
        out.push(json!({"float": embedding(id), "start_offset_sec": t.start, "end_offset_sec": end, "embedding_scope": "video"}));
    }
    out
}

impl State {
    /// Moves the tasks in flight along the clock; a task that becomes ready gets its video. Visits
    /// only the tasks not yet `ready` or `failed`, so a fake holding many finished tasks stays
    /// fast. A task's `updated_at` moves only when something it shows changes: its status, its
    /// percentage or its remaining seconds (whole seconds).
    pub(super) fn settle(&mut self) {
        if self.in_flight.is_empty() && self.embed_tasks.is_empty() {
            return;
        }
        let now = self.now();
        let total = self.indexing_time;
        let mut new_videos = Vec::new();
        let mut finished = Vec::new();
        for id in &self.in_flight {
            let Some(t) = self.tasks.get_mut(id) else {
                finished.push(id.clone());
                continue;
            };
            let elapsed = now - t.created;
            let frac = if total.is_zero() {
                1.0
            } else {
                elapsed.num_milliseconds() as f64 / total.num_milliseconds().max(1) as f64
            };
            let status = if frac >= 1.0 {
                if t.fails { "failed" } else { "ready" }
            } else if frac >= 0.25 {
                "indexing"
            } else if frac >= 0.1 {
                "pending"
            } else {
                "validating"
            };
            let process = (status == "indexing").then(|| {
                let remain = ((1.0 - frac) * total.num_milliseconds() as f64 / 1000.0).max(0.0);
                json!({"percentage": (frac * 100.0).round(), "remain_seconds": remain.round()})
            });
            let shown = t.json.get("process").filter(|p| !p.is_null());
            if t.json["status"] == status && shown == process.as_ref() {
                continue;
            }
            t.json["status"] = json!(status);
            t.json["updated_at"] = json!(ts(now));
            self.by_updated.remove(&(t.updated, id.clone()));
            self.by_updated.insert((now, id.clone()));
            t.updated = now;
            match process {
                Some(p) => t.json["process"] = p,
                None => {
                    if let Some(o) = t.json.as_object_mut() {
                        o.remove("process");
                    }
                }
            }
            if matches!(status, "ready" | "failed") {
                finished.push(id.clone());
            }
            if status == "ready" && t.video.is_none() {
                let vid = format!("6666{:020x}", fastrand::u64(..));
                t.video = Some(vid.clone());
                t.json["video_id"] = json!(vid);
                let mut detail = Map::new();
                if t.stream {
                    let hls = json!({"status": "COMPLETE", "video_url": format!("https://fake.twelvelabs.invalid/{id}/stream.m3u8"), "thumbnail_urls": [format!("https://fake.twelvelabs.invalid/{id}/thumbnail.jpg")], "updated_at": ts(now)});
                    t.json["hls"] = hls.clone();
                    detail.insert("hls".into(), hls);
                }
                if let Some(source) = &t.source {
                    detail.insert("source".into(), source.clone());
                }
                new_videos.push((
                    vid,
                    t.json["index_id"].as_str().unwrap_or_default().to_owned(),
                    t.filename.clone(),
                    t.size,
                    t.created,
                    detail,
                ));
            }
        }
        for id in &finished {
            self.in_flight.remove(id);
        }
        for (vid, index, filename, size, created, detail) in new_videos {
            let engine_ids: Vec<Value> = self
                .indexes
                .get(&index)
                .and_then(|i| i["engines"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .map(|e| e["engine_name"].clone())
                .collect();
            let json = json!({
                "_id": vid, "created_at": ts_secs(created), "updated_at": ts_secs(created), "indexed_at": ts_secs(now),
                "metadata": {"duration": self.default_data.duration, "engine_ids": engine_ids, "filename": filename, "fps": 24, "height": 720, "size": size, "width": 1280}
            });
            self.videos.insert(
                vid,
                FakeVideo {
                    index,
                    json,
                    detail,
                    data: self.default_data.clone(),
                },
            );
        }
        for t in self.embed_tasks.values_mut() {
            if t.json["status"] == "processing" && now - t.created >= total {
                t.json["status"] = json!("ready");
            }
        }
    }

    fn index(&self, id: &str) -> Res<&Value> {
        self.indexes.get(id).ok_or_else(|| not_found(id, "index"))
    }

    /// Whether the index has an engine of this family (`marengo` or `pegasus`).
    fn has_family(&self, index: &str, fam: &str) -> bool {
        self.indexes
            .get(index)
            .and_then(|i| i["engines"].as_array())
            .into_iter()
            .flatten()
            .any(|e| family(e["engine_name"].as_str().unwrap_or_default()) == fam)
    }

    fn render_index(&self, id: &str) -> Value {
        let mut j = self.indexes.get(id).cloned().unwrap_or(Value::Null);
        let videos: Vec<&FakeVideo> = self.videos.values().filter(|v| v.index == id).collect();
        j["video_count"] = json!(videos.len());
        j["total_duration"] = json!(videos.iter().map(|v| v.data.duration).sum::<f64>());
        j
    }

    fn list_indexes(&self, q: &Query) -> R {
        let mut options = q.list("engine_options");
        options.extend(q.list("index_options"));
        if let Some(o) = options
            .iter()
            .find(|o| !["visual", "conversation", "text_in_video", "logo"].contains(&o.as_str()))
        {
            return Err(invalid(format!(
                "The engine_options parameter is invalid: '{o}' is not one of visual, conversation, text_in_video, logo."
            )));
        }
        let fam = q.get("engine_family");
        one_of(&json!(fam), "engine_family", &["marengo", "pegasus"])?;
        let rest = Query(
            q.0.iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "engine_options" | "index_options" | "engine_family"
                    )
                })
                .cloned()
                .collect(),
        );
        let items: Vec<Value> = self
            .indexes
            .keys()
            .filter(|id| fam.is_none_or(|f| self.has_family(id, f)))
            .filter(|id| {
                let enabled: Vec<String> = self.indexes[id.as_str()]["engines"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|e| str_list(&e["engine_options"]))
                    .collect();
                options.iter().all(|o| enabled.contains(o))
            })
            .map(|id| self.render_index(id))
            .collect();
        page_list(&items, &rest, &[])
    }

    fn create_index(&mut self, body: &Value) -> R {
        let name = required_str(body, "index_name")?;
        let engines = match &body["engines"] {
            Value::Array(e) if !e.is_empty() => e.clone(),
            Value::Null | Value::Array(_) => return Err(not_provided("engines")),
            other => {
                return Err(invalid(format!(
                    "The engines parameter is invalid: {other} is not a list."
                )));
            }
        };
        let mut families = Vec::new();
        for e in &engines {
            let engine = e["engine_name"].as_str().unwrap_or_default();
            if engine.is_empty() {
                return Err(not_provided("engines[].engine_name"));
            }
            let allowed = ENGINES
                .iter()
                .find(|(id, _)| *id == engine)
                .map(|(_, o)| *o)
                .ok_or_else(|| {
                    invalid(format!(
                        "The engine_name parameter is invalid: '{engine}' is not an engine ({}).",
                        ENGINES
                            .iter()
                            .map(|(id, _)| *id)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
            if families.contains(&family(engine)) {
                return Err(invalid(format!(
                    "The engines parameter is invalid: more than one {} engine.",
                    family(engine)
                )));
            }
            families.push(family(engine));
            let options = str_list(&e["engine_options"]);
            if options.is_empty() {
                return Err(not_provided("engines[].engine_options"));
            }
            if let Some(o) = options.iter().find(|o| !allowed.contains(&o.as_str())) {
                return Err(invalid(format!(
                    "The engine_options parameter is invalid: {engine} does not take '{o}' ({}).",
                    allowed.join(", ")
                )));
            }
            let mut seen = options.clone();
            seen.sort();
            seen.dedup();
            if seen.len() != options.len() {
                return Err(invalid(format!(
                    "The engine_options parameter is invalid: {engine} lists an option twice."
                )));
            }
        }
        let addons = match &body["addons"] {
            Value::Null => Vec::new(),
            Value::Array(_) => str_list(&body["addons"]),
            other => {
                return Err(invalid(format!(
                    "The addons parameter is invalid: {other} is not a list."
                )));
            }
        };
        if let Some(a) = addons.iter().find(|a| a.as_str() != "thumbnail") {
            return Err(invalid(format!(
                "The addons parameter is invalid: '{a}' is not an add-on (thumbnail)."
            )));
        }
        if !addons.is_empty() && !families.contains(&"marengo") {
            return Err(invalid(
                "The addons parameter is invalid: the thumbnail add-on needs a Marengo engine.",
            ));
        }
        if self
            .indexes
            .values()
            .any(|i| i["index_name"] == name.as_str())
        {
            return Err(err(
                400,
                "index_name_already_exists",
                format!("The index name {name} already exists."),
            ));
        }
        let id = self.id();
        let now = self.now();
        let engines: Vec<Value> = engines
            .iter()
            .map(
                |e| json!({"engine_name": e["engine_name"], "engine_options": e["engine_options"]}),
            )
            .collect();
        self.indexes.insert(id.clone(), json!({
            "_id": id, "index_name": name, "engines": engines, "addons": addons,
            "created_at": ts(now), "updated_at": ts(now), "expires_at": ts(now + chrono::Duration::days(90)),
        }));
        Ok(Out::Json(201, json!({"_id": id})))
    }

    fn rename_index(&mut self, id: &str, body: &Value) -> R {
        self.index(id)?;
        if body.get("engines").is_some() {
            return Err(err(
                400,
                "index_engine_cannot_be_changed",
                "The engines of an index cannot be changed.",
            ));
        }
        if ["engine_options", "index_options", "addons"]
            .iter()
            .any(|k| body.get(*k).is_some())
        {
            return Err(err(
                400,
                "index_option_cannot_be_changed",
                "The options and add-ons of an index cannot be changed.",
            ));
        }
        let name = required_str(body, "index_name")?;
        if self
            .indexes
            .iter()
            .any(|(other, i)| other != id && i["index_name"] == name.as_str())
        {
            return Err(err(
                400,
                "index_name_already_exists",
                format!("The index name {name} already exists."),
            ));
        }
        let now = ts(self.now());
        let i = self
            .indexes
            .get_mut(id)
            .ok_or_else(|| not_found(id, "index"))?;
        i["index_name"] = json!(name);
        i["updated_at"] = json!(now);
        Ok(Out::Empty(200))
    }

    fn video_in(&self, index: &str, vid: &str) -> Res<&FakeVideo> {
        self.index(index)?;
        self.videos
            .get(vid)
            .filter(|v| v.index == index)
            .ok_or_else(|| not_found(vid, "video"))
    }

    fn update_video(&mut self, index: &str, vid: &str, body: &Value) -> R {
        self.video_in(index, vid)?;
        let now = ts_secs(self.now());
        if !(body["metadata"].is_null() || body["metadata"].is_object()) {
            return Err(invalid(
                "The metadata parameter is invalid: it must be an object.",
            ));
        }
        if !(body["video_title"].is_null() || body["video_title"].is_string()) {
            return Err(invalid(
                "The video_title parameter is invalid: it must be a string.",
            ));
        }
        if let Some(m) = body["metadata"].as_object() {
            for (k, val) in m {
                if crate::api::videos::SYSTEM_METADATA.contains(&k.as_str()) {
                    return Err(invalid(format!(
                        "The metadata field {k} is a system field and cannot be overridden."
                    )));
                }
                if !(val.is_string() || val.is_number() || val.is_boolean()) {
                    return Err(invalid(format!(
                        "The metadata field {k} must be a string, a number or a boolean."
                    )));
                }
            }
        }
        let v = self
            .videos
            .get_mut(vid)
            .ok_or_else(|| not_found(vid, "video"))?;
        if let Some(t) = body["video_title"].as_str() {
            v.json["metadata"]["video_title"] = json!(t);
        }
        if let Some(m) = body["metadata"].as_object() {
            for (k, val) in m {
                v.json["metadata"][k] = val.clone();
            }
        }
        v.json["updated_at"] = json!(now);
        Ok(Out::Empty(200))
    }

    /// With an `updated_at[gte]` (or plain `updated_at`) filter in the query, the ids of the
    /// tasks updated since, in id order (the order of `tasks`), read from
    /// [`by_updated`](State::by_updated) instead of every task: a superset of what the filter
    /// keeps ([`page_list`] still applies every filter). `None` without such a filter.
    fn updated_since(&self, q: &Query) -> Option<Vec<&str>> {
        let since =
            q.0.iter()
                .filter(|(k, _)| k == "updated_at[gte]" || k == "updated_at")
                .filter_map(|(_, v)| DateTime::parse_from_rfc3339(v).ok())
                .map(|t| t.with_timezone(&Utc))
                .max()?;
        // `updated_at` is shown in whole milliseconds; the key is exact.
        let from = since
            .checked_sub_signed(chrono::Duration::milliseconds(1))
            .unwrap_or(since);
        let mut ids: Vec<&str> = self
            .by_updated
            .range((from, String::new())..)
            .map(|(_, id)| id.as_str())
            .collect();
        ids.sort_unstable();
        Some(ids)
    }

    /// The general `X-Ratelimit-*` values: 3,000 requests a day, every API request counted.
    fn general_limits(&self) -> Limits {
        let reset = self
            .now()
            .checked_add_signed(chrono::Duration::days(1))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        Limits {
            limit: 3000,
            used: self.requests,
            reset: reset.timestamp(),
        }
    }

    /// Moves the task-creation counter to the 24-hour window the clock is in (windows count from
    /// the fake's start) and returns when that window ends.
    fn task_window(&mut self) -> DateTime<Utc> {
        const DAY: i64 = 24 * 60 * 60;
        let window = (self.now() - self.started)
            .num_seconds()
            .div_euclid(DAY)
            .max(self.quota_window);
        if window != self.quota_window {
            self.quota_window = window;
            self.tasks_created = 0;
        }
        window
            .checked_add(1)
            .and_then(|w| w.checked_mul(DAY))
            .and_then(chrono::Duration::try_seconds)
            .and_then(|d| self.started.checked_add_signed(d))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The task-creation counter as `X-Ratelimit-*` values: the cap, or [`UNCAPPED_TASKS`] a
    /// day when there is none.
    fn task_limits(&mut self) -> Limits {
        let reset = self.task_window();
        Limits {
            limit: self.task_quota.unwrap_or(UNCAPPED_TASKS),
            used: self.tasks_created,
            reset: reset.timestamp(),
        }
    }

    /// Refuses a task when this window's cap is used up, as the API's rate limit does.
    fn check_task_quota(&mut self) -> Res<()> {
        let reset = self.task_window();
        match self.task_quota {
            Some(cap) if self.tasks_created >= cap => Err(err(
                429,
                "too_many_requests",
                format!(
                    "You have exceeded the rate limit ({cap} requests per day). Please try again after {}.",
                    ts_secs(reset)
                ),
            )),
            _ => Ok(()),
        }
    }

    /// The task quota as `GET`/`PUT /_fake/task-quota` show it.
    fn task_quota_json(&mut self) -> Value {
        let reset = self.task_window();
        json!({
            "per_day": self.task_quota,
            "used": self.tasks_created,
            "remaining": self.task_quota.map(|cap| cap.saturating_sub(self.tasks_created)),
            "reset": ts_secs(reset),
        })
    }

    fn create_task(
        &mut self,
        index: &str,
        filename: String,
        size: u64,
        source: Option<Value>,
        stream: bool,
    ) -> R {
        self.index(index)?;
        let id = self.id();
        let now = self.now();
        let fails = self
            .fail_pattern
            .as_ref()
            .is_some_and(|p| filename.contains(p.as_str()));
        let eta = now + self.indexing_time;
        let json = json!({
            "_id": id, "index_id": index, "status": "validating", "type": "index_task_info",
            "estimated_time": ts(eta), "created_at": ts(now), "updated_at": ts(now),
            "metadata": {"duration": self.default_data.duration, "filename": filename, "height": 720, "width": 1280},
        });
        self.in_flight.insert(id.clone());
        self.by_updated.insert((now, id.clone()));
        self.tasks.insert(
            id.clone(),
            FakeTask {
                json,
                created: now,
                updated: now,
                fails,
                video: None,
                filename,
                size,
                source,
                stream,
            },
        );
        Ok(Out::Json(201, json!({"_id": id})))
    }

    fn generative_video(&self, body: &Value) -> Res<&FakeVideo> {
        let vid = required_str(body, "video_id")?;
        let v = self
            .videos
            .get(&vid)
            .ok_or_else(|| not_found(&vid, "video"))?;
        if !self.has_family(&v.index, "pegasus") {
            return Err(err(
                400,
                "index_not_supported_for_generate",
                "The index of this video has no Pegasus engine.",
            ));
        }
        Ok(v)
    }

    fn search(
        &mut self,
        index: &str,
        query: &Value,
        options: &[String],
        settings: &Value,
        image: Option<()>,
    ) -> R {
        let idx = self.index(index)?.clone();
        if options.is_empty() {
            return Err(not_provided("search_options"));
        }
        let enabled: Vec<String> = idx["engines"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| family(e["engine_name"].as_str().unwrap_or_default()) == "marengo")
            .flat_map(|e| str_list(&e["engine_options"]))
            .collect();
        if enabled.is_empty() {
            return Err(err(
                400,
                "index_not_supported_for_search",
                "The index has no Marengo engine.",
            ));
        }
        if let Some(o) = options.iter().find(|o| !enabled.contains(o)) {
            return Err(err(
                400,
                "search_option_not_supported",
                format!("The search option {o} is not enabled for this index."),
            ));
        }
        one_of(&settings["group_by"], "group_by", &["video", "clip"])?;
        one_of(
            &settings["threshold"],
            "threshold",
            &["high", "medium", "low", "none"],
        )?;
        one_of(&settings["operator"], "operator", &["or", "and"])?;
        one_of(
            &settings["conversation_option"],
            "conversation_option",
            &["semantic", "exact_match"],
        )?;
        one_of(
            &settings["sort_option"],
            "sort_option",
            &["score", "clip_count"],
        )?;
        match &settings["adjust_confidence_level"] {
            Value::Null => {}
            l => {
                if !l.as_f64().is_some_and(|l| (0.0..=1.0).contains(&l)) {
                    return Err(invalid(format!(
                        "The adjust_confidence_level parameter is invalid: {l} is not between 0 and 1."
                    )));
                }
            }
        }
        let limit = match &settings["page_limit"] {
            Value::Null => 10,
            n => match n.as_f64() {
                Some(n) if n.fract() == 0.0 && (1.0..=50.0).contains(&n) => n as usize,
                _ => {
                    return Err(invalid(
                        "The page_limit parameter is invalid. It must be between 1 and 50.",
                    ));
                }
            },
        };
        let filter = search_filter(&settings["filter"])?;
        let exact = settings["conversation_option"] == "exact_match";
        let and = settings["operator"] == "and";
        let thumbnails = str_list(&idx["addons"]).iter().any(|a| a == "thumbnail");
        let mut clips: Vec<Value> = Vec::new();
        let videos: Vec<(&String, &FakeVideo)> = self
            .videos
            .iter()
            .filter(|(_, v)| v.index == index)
            .collect();
        for (vid, v) in &videos {
            if !passes(vid, &v.json, &filter) {
                continue;
            }
            let found = if image.is_some() {
                v.data.visual.first().map(|s| vec![json!({"score": 75.0, "start": s.start, "end": s.end, "video_id": vid, "confidence": "medium", "thumbnail_url": format!("https://fake.twelvelabs.invalid/{vid}/{}.jpg", s.start)})]).unwrap_or_default()
            } else {
                eval_query(vid, &v.data, query, options, exact, and)?
            };
            clips.extend(found);
        }
        if !thumbnails {
            for c in &mut clips {
                if let Some(o) = c.as_object_mut() {
                    o.remove("thumbnail_url");
                }
            }
        }
        let min = match settings["threshold"].as_str().unwrap_or("low") {
            "high" => 85.0,
            "medium" => 70.0,
            _ => 0.0,
        };
        clips.retain(|c| c["score"].as_f64().unwrap_or(0.0) >= min);
        clips.sort_by(|a, b| {
            b["score"]
                .as_f64()
                .partial_cmp(&a["score"].as_f64())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let inner = clips.len();
        let items: Vec<Value> = if settings["group_by"] == "video" {
            let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
            for c in clips {
                let vid = c["video_id"].as_str().unwrap_or_default().to_owned();
                match groups.iter_mut().find(|(g, _)| *g == vid) {
                    Some((_, list)) => list.push(c),
                    None => groups.push((vid, vec![c])),
                }
            }
            if settings["sort_option"] == "clip_count" {
                groups.sort_by_key(|g| std::cmp::Reverse(g.1.len()));
            }
            groups
                .into_iter()
                .map(|(id, clips)| json!({"id": id, "clips": clips}))
                .collect()
        } else {
            clips
        };
        let pool = json!({"index_id": index, "total_count": videos.len(), "total_duration": videos.iter().map(|(_, v)| v.data.duration).sum::<f64>()});
        let extra = json!({"search_pool": pool, "total_inner_matches": inner});
        Ok(self.first_page(items, limit, extra, "search"))
    }

    fn classify(&mut self, ids: Vec<String>, body: &Value) -> R {
        let classes = match &body["classes"] {
            Value::Array(c) if !c.is_empty() => c.clone(),
            _ => return Err(not_provided("classes")),
        };
        const OPTIONS: &[&str] = &["visual", "conversation", "text_in_video"];
        let options = str_list(&body["options"]);
        if options.is_empty() {
            return Err(not_provided("options"));
        }
        if let Some(o) = options.iter().find(|o| !OPTIONS.contains(&o.as_str())) {
            return Err(invalid(format!(
                "The options parameter is invalid: '{o}' is not one of visual, conversation, text_in_video."
            )));
        }
        one_of(
            &body["conversation_option"],
            "conversation_option",
            &["semantic", "exact_match"],
        )?;
        let mut prompts = 0;
        for c in &classes {
            if c["name"].as_str().is_none_or(str::is_empty) {
                return Err(not_provided("classes[].name"));
            }
            let p = str_list(&c["prompts"]);
            if p.is_empty() {
                return Err(not_provided("classes[].prompts"));
            }
            prompts += p.len();
            if let Some(o) = str_list(&c["options"])
                .iter()
                .find(|o| !OPTIONS.contains(&o.as_str()))
            {
                return Err(invalid(format!(
                    "The classes[].options parameter is invalid: '{o}' is not one of visual, conversation, text_in_video."
                )));
            }
        }
        if prompts > 100 {
            return Err(invalid(
                "The classes parameter is invalid: at most 100 prompts are allowed in total.",
            ));
        }
        let th = &body["threshold"];
        let bound = |k: &str, lo: f64, hi: f64, default: f64| -> Res<f64> {
            match &th[k] {
                Value::Null => Ok(default),
                v => v.as_f64().filter(|x| (lo..=hi).contains(x)).ok_or_else(|| {
                    invalid(format!(
                        "The threshold.{k} parameter is invalid: {v} is not between {lo} and {hi}."
                    ))
                }),
            }
        };
        let min_video = bound("min_video_score", 0.0, 100.0, 75.0)?;
        let min_clip = bound("min_clip_score", 0.0, 100.0, 65.0)?;
        let min_ratio = bound("min_duration_ratio", 0.01, 1.0, 0.5)?;
        let limit = match &body["page_limit"] {
            Value::Null => 10,
            n => match n.as_u64() {
                Some(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
                _ => {
                    return Err(invalid(
                        "The page_limit parameter is invalid: it must be a positive integer.",
                    ));
                }
            },
        };
        let (clips_on, detailed) = (
            body["include_clips"] == true,
            body["show_detailed_score"] == true,
        );
        let mut data = Vec::new();
        for id in &ids {
            let v = self.videos.get(id).ok_or_else(|| not_found(id, "video"))?;
            let mut found = Vec::new();
            for class in &classes {
                let own = str_list(&class["options"]);
                let opts = if own.is_empty() { &options } else { &own };
                let mut hits = Vec::new();
                for prompt in str_list(&class["prompts"]) {
                    for option in opts {
                        for seg in v.data.segments(option) {
                            let s = score(&prompt, &seg.text, false);
                            if s >= min_clip {
                                hits.push((s, seg.clone(), option.clone(), prompt.clone()));
                            }
                        }
                    }
                }
                if hits.is_empty() {
                    continue;
                }
                let max = hits.iter().map(|h| h.0).fold(0.0, f64::max);
                let covered: f64 = hits
                    .iter()
                    .map(|h| h.1.end - h.1.start)
                    .sum::<f64>()
                    .min(v.data.duration);
                let ratio = if v.data.duration > 0.0 {
                    covered / v.data.duration
                } else {
                    0.0
                };
                if max < min_video || ratio < min_ratio {
                    continue;
                }
                let mut c = json!({"name": class["name"], "score": max, "duration_ratio": ratio});
                if clips_on {
                    c["clips"] = json!(hits.iter().map(|(s, seg, o, p)| json!({"start": seg.start, "end": seg.end, "score": s, "option": o, "prompt": p})).collect::<Vec<_>>());
                }
                if detailed {
                    let avg = hits.iter().map(|h| h.0).sum::<f64>() / hits.len() as f64;
                    c["detailed_scores"] = json!({"max_score": max, "avg_score": avg, "normalized_score": (max + avg) / 2.0});
                }
                found.push(c);
            }
            if !found.is_empty() {
                data.push(json!({"video_id": id, "classes": found}));
            }
        }
        Ok(self.first_page(data, limit, json!({}), "classify"))
    }

    /// The first page of a token-paginated result; the other pages are behind tokens.
    fn first_page(
        &mut self,
        items: Vec<Value>,
        limit: usize,
        extra: Value,
        kind: &'static str,
    ) -> Out {
        let now = self.now();
        // Long-expired tokens are forgotten (recently expired ones still say so).
        self.pages
            .retain(|_, p| p.expires + chrono::Duration::days(1) >= now);
        let pages = TokenPages {
            items: Arc::new(items),
            offset: 0,
            limit,
            extra: Arc::new(extra),
            expires: now + self.token_ttl,
            kind,
        };
        self.page_at(&pages)
    }

    /// A token for the page of `pages` at `offset`.
    fn token_for(&mut self, pages: &TokenPages, offset: usize) -> String {
        let token = format!("tok-{}", self.id());
        self.pages.insert(
            token.clone(),
            TokenPages {
                items: pages.items.clone(),
                offset,
                limit: pages.limit,
                extra: pages.extra.clone(),
                expires: pages.expires,
                kind: pages.kind,
            },
        );
        token
    }

    fn page_at(&mut self, pages: &TokenPages) -> Out {
        let total = pages.items.len();
        let data: Vec<Value> = pages
            .items
            .iter()
            .skip(pages.offset)
            .take(pages.limit)
            .cloned()
            .collect();
        // The seed: an empty classification has `limit_per_page: 0` and an empty
        // `page_expired_at`; an empty search has both as usual.
        let mut info = if pages.kind == "classify" && total == 0 {
            json!({"limit_per_page": 0, "total_results": 0, "page_expired_at": ""})
        } else {
            json!({"limit_per_page": pages.limit, "total_results": total, "page_expired_at": ts_secs(pages.expires)})
        };
        if pages.offset > 0 {
            let prev = pages.offset.saturating_sub(pages.limit);
            info["prev_page_token"] = json!(self.token_for(pages, prev));
        }
        let next = pages.offset.saturating_add(pages.limit);
        if next < total {
            info["next_page_token"] = json!(self.token_for(pages, next));
        }
        if let Some(n) = pages.extra.get("total_inner_matches") {
            info["total_inner_matches"] = n.clone();
        }
        let mut out = json!({"data": data, "page_info": info});
        if let Some(pool) = pages.extra.get("search_pool") {
            out["search_pool"] = pool.clone();
        }
        Out::Json(200, out)
    }

    /// The page behind a token. Tokens stay valid until they expire, on the page paths of their
    /// own kind of result.
    fn next_page(&mut self, token: &str, kind: &'static str) -> R {
        let pages = match self.pages.get(token) {
            Some(p) if p.kind == kind => TokenPages {
                items: p.items.clone(),
                offset: p.offset,
                limit: p.limit,
                extra: p.extra.clone(),
                expires: p.expires,
                kind: p.kind,
            },
            _ => return Err(not_found(token, "page token")),
        };
        if self.now() > pages.expires {
            let code = if kind == "search" {
                "search_page_token_expired"
            } else {
                "parameter_invalid"
            };
            return Err(err(400, code, "The page token has expired."));
        }
        Ok(self.page_at(&pages))
    }

    fn create_embed_task(&mut self, form: &Form) -> R {
        let engine = form
            .text("engine_name")
            .ok_or_else(|| not_provided("engine_name"))?;
        if engine != EMBED_ENGINE {
            return Err(invalid(format!(
                "The engine_name parameter is invalid: '{engine}' is not an embedding engine ({EMBED_ENGINE})."
            )));
        }
        let mut metadata = Map::new();
        // The URL wins when both are sent.
        match (form.text("video_url"), form.file("video_file")) {
            (Some(u), _) => {
                metadata.insert("input_url".into(), json!(u));
            }
            (None, Some((_, 0, _))) => {
                return Err(invalid(
                    "The video_file parameter is invalid: the file is empty.",
                ));
            }
            (None, Some((name, _, _))) => {
                metadata.insert("input_filename".into(), json!(name));
            }
            (None, None) => {
                return Err(err(
                    400,
                    "parameter_not_provided",
                    "The video_file or video_url parameter is required.",
                ));
            }
        }
        let clip_length = form.number("video_clip_length")?.unwrap_or(6.0);
        if !(2.0..=10.0).contains(&clip_length) {
            return Err(invalid(
                "The video_clip_length parameter is invalid: it must be between 2 and 10 seconds.",
            ));
        }
        let duration = self.default_data.duration;
        let start = form.number("video_start_offset_sec")?.unwrap_or(0.0);
        let end = form.number("video_end_offset_sec")?;
        if start < 0.0 || start > duration {
            return Err(invalid(format!(
                "The video_start_offset_sec parameter is invalid: the video is {duration} seconds long."
            )));
        }
        if let Some(e) = end
            && (e <= start || e > duration)
        {
            return Err(invalid(
                "The video_end_offset_sec parameter is invalid: it must be after the start and within the video.",
            ));
        }
        let mut scopes = form.texts("video_embedding_scope");
        if let Some(s) = scopes
            .iter()
            .find(|s| !["clip", "video"].contains(&s.as_str()))
        {
            return Err(invalid(format!(
                "The video_embedding_scope parameter is invalid: '{s}' is not clip or video."
            )));
        }
        scopes.dedup();
        if scopes.is_empty() {
            scopes.push("clip".into());
        }
        metadata.insert("video_clip_length".into(), json!(clip_length));
        metadata.insert("video_embedding_scope".into(), json!(scopes));
        metadata.insert("duration".into(), json!(end.unwrap_or(duration) - start));
        let id = self.id();
        let now = self.now();
        self.embed_tasks.insert(
            id.clone(),
            FakeEmbedTask {
                json: json!({"_id": id, "engine_name": engine, "status": "processing", "created_at": ts(now)}),
                created: now,
                scopes,
                clip_length,
                start,
                end: Some(end.unwrap_or(duration)),
                metadata,
            },
        );
        Ok(Out::Json(200, json!({"_id": id})))
    }

    fn list_embed_tasks(&self, q: &Query) -> R {
        let now = self.now();
        let parse = |k: &str| -> Res<Option<DateTime<Utc>>> {
            q.get(k)
                .map(|v| {
                    DateTime::parse_from_rfc3339(v)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|_| {
                            invalid(format!(
                                "The {k} parameter is invalid: '{v}' is not an RFC 3339 date-time."
                            ))
                        })
                })
                .transpose()
        };
        // Without a window: the last 7 days (D12).
        let from = parse("started_at")?.unwrap_or(now - chrono::Duration::days(7));
        let to = parse("ended_at")?.unwrap_or(now);
        if to < from {
            return Err(invalid(
                "The ended_at parameter is invalid: it is before started_at.",
            ));
        }
        one_of(
            &json!(q.get("status")),
            "status",
            &["processing", "ready", "failed"],
        )?;
        let rest = Query(
            q.0.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "started_at" | "ended_at"))
                .cloned()
                .collect(),
        );
        let items = self
            .embed_tasks
            .values()
            .filter(|t| t.created >= from && t.created <= to)
            .map(|t| &t.json);
        page_list(items, &rest, &[])
    }
}

/// Evaluates a text or combined query against one video.
fn eval_query(
    vid: &str,
    data: &super::VideoData,
    q: &Value,
    options: &[String],
    exact: bool,
    and: bool,
) -> Res<Vec<Value>> {
    if let Some(text) = q.as_str() {
        if text.trim().is_empty() {
            return Err(invalid("The query parameter is empty."));
        }
        return Ok(match_clips(vid, data, text, options, exact, and));
    }
    if q.is_null() {
        return Err(not_provided("query"));
    }
    if let Some(text) = q["text"].as_str() {
        let own = str_list(&q["search_options"]);
        let opts = if own.is_empty() {
            options.to_vec()
        } else {
            own
        };
        return Ok(match_clips(
            vid,
            data,
            text,
            &opts,
            q["conversation_option"] == "exact_match",
            false,
        ));
    }
    let list = |key: &str| -> Res<Vec<Vec<Value>>> {
        q[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|sub| eval_query(vid, data, sub, options, exact, false))
            .collect()
    };
    if q.get("$and").is_some() {
        let parts = list("$and")?;
        return Ok(if parts.iter().all(|p| !p.is_empty()) {
            parts.concat()
        } else {
            Vec::new()
        });
    }
    if q.get("$or").is_some() {
        return Ok(list("$or")?.concat());
    }
    if q.get("$then").is_some() {
        let parts = list("$then")?;
        return Ok(if parts.iter().all(|p| !p.is_empty()) {
            parts.concat()
        } else {
            Vec::new()
        });
    }
    if let Some(not) = q.get("$not") {
        let origin = eval_query(vid, data, &not["origin"], options, exact, false)?;
        let sub = eval_query(vid, data, &not["sub"], options, exact, false)?;
        return Ok(if sub.is_empty() { origin } else { Vec::new() });
    }
    let _ = confidence;
    Err(invalid("The query parameter is invalid."))
}
