//! Request handling of the fake: one routing function, so that faults, authentication and
//! rate-limit headers apply to every route alike.
//!
//! `clippy::indexing_slicing` is allowed here for `serde_json::Value` indexing only: reading a
//! missing key yields `Null`, and the values written to are objects this module builds itself.
#![allow(clippy::indexing_slicing)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::data::{confidence, embedding, match_clips, score};
use super::{FakeTask, FakeVideo, FaultKind, State, TokenPages, lock};

type Shared = Arc<Mutex<State>>;

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
    Ndjson(String),
}

/// An error answer: status, code, message.
struct ApiErr(u16, &'static str, String);

type R = std::result::Result<Out, ApiErr>;

fn err(status: u16, code: &'static str, message: impl Into<String>) -> ApiErr {
    ApiErr(status, code, message.into())
}

fn not_found(id: &str, collection: &str) -> ApiErr {
    err(
        404,
        "resource_not_exists",
        format!("Resource with id '{id}' does not exist in {collection} collection."),
    )
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A multipart field.
enum Field {
    Text(String),
    File {
        filename: String,
        size: u64,
        head: String,
    },
}

struct Form(Vec<(String, Field)>);

impl Form {
    fn text(&self, name: &str) -> Option<&str> {
        self.0.iter().find_map(|(n, f)| match f {
            Field::Text(t) if n == name => Some(t.as_str()),
            _ => None,
        })
    }
    fn texts(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|(n, f)| match f {
                Field::Text(t) if n == name => Some(t.clone()),
                _ => None,
            })
            .collect()
    }
    fn file(&self, name: &str) -> Option<(&str, u64, &str)> {
        self.0.iter().find_map(|(n, f)| match f {
            Field::File {
                filename,
                size,
                head,
            } if n == name => Some((filename.as_str(), *size, head.as_str())),
            _ => None,
        })
    }
}

async fn read_form(req: Request) -> std::result::Result<Form, ApiErr> {
    let mut mp = Multipart::from_request(req, &()).await.map_err(|e| {
        err(
            400,
            "parameter_invalid",
            format!("invalid multipart body: {e}"),
        )
    })?;
    let mut fields = Vec::new();
    while let Some(mut field) = mp.next_field().await.map_err(|e| {
        err(
            400,
            "parameter_invalid",
            format!("invalid multipart body: {e}"),
        )
    })? {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(filename) => {
                let (mut size, mut head) = (0u64, Vec::new());
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| err(400, "parameter_invalid", format!("broken file part: {e}")))?
                {
                    size += chunk.len() as u64;
                    if head.len() < 256 {
                        let take = chunk.len().min(256 - head.len());
                        head.extend(chunk.iter().take(take));
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
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
                    .map_err(|e| err(400, "parameter_invalid", format!("broken field: {e}")))?;
                fields.push((name, Field::Text(text)));
            }
        }
    }
    Ok(Form(fields))
}

async fn handle(AxState(state): AxState<Shared>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query: Vec<(String, String)> = req.uri().query().map(url_pairs).unwrap_or_default();
    let headers = req.headers().clone();

    // Faults first: they stand for the network and the gateway.
    let fault = {
        let mut st = lock(&state);
        st.requests += 1;
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
            let mut r = error_response(
                &state,
                ApiErr(code, "injected_fault", format!("injected HTTP {code}")),
            );
            if let Some(secs) = retry_after {
                r.headers_mut()
                    .insert("retry-after", HeaderValue::from(secs));
            }
            return r;
        }
        Some(FaultKind::Slow(d)) => tokio::time::sleep(d).await,
        None => {}
    }

    let key_ok = {
        let st = lock(&state);
        headers.get("x-api-key").and_then(|v| v.to_str().ok()) == Some(st.api_key.as_str())
    };
    if !key_ok {
        return error_response(
            &state,
            err(
                401,
                "api_key_invalid",
                "The API key you provided is not valid.",
            ),
        );
    }

    let multipart = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (body, form) = if multipart {
        match read_form(req).await {
            Ok(f) => (Value::Null, Some(f)),
            Err(e) => return error_response(&state, e),
        }
    } else {
        let bytes = axum::body::to_bytes(req.into_body(), 16 * 1024 * 1024)
            .await
            .unwrap_or_default();
        if bytes.is_empty() {
            (Value::Null, None)
        } else {
            match serde_json::from_slice(&bytes) {
                Ok(v) => (v, None),
                Err(e) => {
                    return error_response(
                        &state,
                        err(
                            400,
                            "parameter_invalid",
                            format!("the body is not JSON: {e}"),
                        ),
                    );
                }
            }
        }
    };

    let Some(rest) = path.strip_prefix("/v1.2") else {
        return error_response(&state, err(404, "resource_not_exists", "no such path"));
    };
    let segs: Vec<&str> = rest
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let out = {
        let mut st = lock(&state);
        st.settle();
        route(&mut st, &method, &segs, &Query(query), &body, form.as_ref())
    };
    match out {
        Ok(Out::Json(status, v)) => with_limits(&state, status, axum::Json(v).into_response()),
        Ok(Out::Empty(status)) => with_limits(&state, status, Body::empty().into_response()),
        Ok(Out::Ndjson(text)) => {
            let mut r = Body::from(text).into_response();
            r.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("application/x-ndjson"),
            );
            with_limits(&state, 200, r)
        }
        Err(e) => error_response(&state, e),
    }
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

fn error_response(state: &Shared, ApiErr(status, code, message): ApiErr) -> Response {
    let body = axum::Json(json!({"code": code, "message": message})).into_response();
    with_limits(state, status, body)
}

fn with_limits(state: &Shared, status: u16, mut r: Response) -> Response {
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let st = lock(state);
    let used = st.requests;
    let reset = (st.now() + chrono::Duration::days(1)).timestamp();
    let h: &mut HeaderMap = r.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(3000u64));
    h.insert(
        "x-ratelimit-remaining",
        HeaderValue::from(3000u64.saturating_sub(used)),
    );
    h.insert("x-ratelimit-used", HeaderValue::from(used));
    h.insert("x-ratelimit-reset", HeaderValue::from(reset));
    r
}

struct Query(Vec<(String, String)>);

impl Query {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
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
    match (m.clone(), s) {
        (M::GET, ["engines"]) => Ok(Out::Json(200, json!({"data": engines()}))),
        (M::GET, ["engines", id]) => engines()
            .into_iter()
            .find(|e| e["_id"] == *id)
            .map(|e| Out::Json(200, e))
            .ok_or_else(|| not_found(id, "engine")),
        (M::POST, ["indexes"]) => st.create_index(body),
        (M::GET, ["indexes"]) => {
            let items: Vec<Value> = st.indexes.keys().cloned().collect::<Vec<_>>().iter().map(|id| st.render_index(id)).collect();
            page_list(items, q)
        }
        (M::GET, ["indexes", id]) => st.indexes.contains_key(*id).then(|| Out::Json(200, st.render_index(id))).ok_or_else(|| not_found(id, "index")),
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
            let items: Vec<Value> = st.videos.values().filter(|v| v.index == *idx).map(|v| v.json.clone()).collect();
            let total: f64 = st.videos.values().filter(|v| v.index == *idx).map(|v| v.data.duration).sum();
            let mut out = page_list(items, q)?;
            if let Out::Json(_, v) = &mut out {
                v["page_info"]["total_duration"] = json!(total);
            }
            Ok(out)
        }
        (M::GET, ["indexes", idx, "videos", vid]) => {
            let v = st.video_in(idx, vid)?;
            let mut j = v.json.clone();
            if q.get("embed") == Some("true") {
                j["embedding"] = json!({"engine_name": "Marengo-retrieval-2.6", "video_embedding": {"segments": [{"float": embedding(vid), "start_offset_sec": 0, "end_offset_sec": v.data.duration, "embedding_scope": "video"}]}});
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
            let lo: f64 = q.get("start").and_then(|s| s.parse().ok()).unwrap_or(0.0);
            let hi: f64 = q.get("end").and_then(|s| s.parse().ok()).unwrap_or(f64::MAX);
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
            let t: f64 = q.get("time").and_then(|s| s.parse().ok()).unwrap_or(v.data.duration / 2.0);
            Ok(Out::Json(200, json!({"thumbnail": format!("https://fake.twelvelabs.invalid/{vid}/thumbnails/{t}.jpg")})))
        }
        (M::POST, ["tasks"]) => {
            let form = form.ok_or_else(|| err(400, "parameter_invalid", "POST /tasks takes multipart/form-data"))?;
            let index = form.text("index_id").ok_or_else(|| err(400, "parameter_not_provided", "index_id is required"))?.to_owned();
            let (file, url) = (form.file("video_file"), form.text("video_url"));
            let (filename, size) = match (file, url) {
                (Some((name, size, _)), None) => (name.to_owned(), size),
                (None, Some(u)) => (u.rsplit('/').next().unwrap_or(u).to_owned(), 10_016_501),
                _ => return Err(err(400, "parameter_invalid", "send exactly one of video_file and video_url")),
            };
            if size == 0 {
                return Err(err(400, "video_file_broken", "The video file is empty."));
            }
            st.create_task(&index, filename, size)
        }
        (M::GET, ["tasks"]) => {
            let items: Vec<Value> = st.tasks.values().map(|t| t.json.clone()).collect();
            page_list(items, q)
        }
        (M::GET, ["tasks", "status"]) => {
            let index = q.get("index_id").ok_or_else(|| err(400, "parameter_not_provided", "index_id is required"))?;
            let count = |s: &str| st.tasks.values().filter(|t| t.json["index_id"] == index && t.json["status"] == s).count();
            let total = st.tasks.values().filter(|t| t.json["index_id"] == index).count();
            Ok(Out::Json(200, json!({"index_id": index, "ready": count("ready"), "validating": count("validating"), "pending": count("pending"), "failed": count("failed"), "total_result": total})))
        }
        (M::GET, ["tasks", id]) => st.tasks.get(*id).map(|t| Out::Json(200, t.json.clone())).ok_or_else(|| not_found(id, "task")),
        (M::DELETE, ["tasks", id]) => {
            let t = st.tasks.get(*id).ok_or_else(|| not_found(id, "task"))?;
            if t.json["status"] == "indexing" {
                return Err(err(400, "task_cannot_be_deleted", "A task that is indexing cannot be deleted."));
            }
            st.tasks.remove(*id);
            Ok(Out::Empty(200))
        }
        (M::POST, ["tasks", "external-provider"]) => {
            let index = required_str(body, "index_id")?;
            let url = required_str(body, "url")?;
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(err(400, "parameter_invalid", "The url parameter is invalid."));
            }
            // YouTube gives the video's title as its file name (the tour's video, here).
            let title = if url.contains("youtube.com") || url.contains("youtu.be") {
                "Deadpool & Wolverine | Official Trailer | In Theaters July 26".to_owned()
            } else {
                url.rsplit('/').next().unwrap_or(&url).to_owned()
            };
            st.create_task(&index, title, 10_016_501)
        }
        (M::POST, ["tasks", "transfers"]) => {
            let form = form.ok_or_else(|| err(400, "parameter_invalid", "multipart/form-data expected"))?;
            let (_, _, head) = form.file("file").ok_or_else(|| err(400, "parameter_not_provided", "file is required"))?;
            if !head.trim_start().starts_with('[') {
                return Err(err(400, "parameter_invalid", "file must be a JSON array"));
            }
            Ok(Out::Empty(200))
        }
        (M::POST, ["tasks", "transfers", "import", _]) => {
            let index = required_str(body, "index_id")?;
            st.index(&index)?;
            Ok(Out::Json(200, json!({"videos": [], "failed_files": []})))
        }
        (M::GET, ["tasks", "transfers", "import", _, "status"]) => {
            let index = q.get("index_id").ok_or_else(|| err(400, "parameter_not_provided", "index_id is required"))?;
            st.index(index)?;
            Ok(Out::Json(200, json!({"not_imported": [], "validating": [], "pending": [], "queued": [], "indexing": [], "ready": [], "failed": []})))
        }
        (M::GET, ["tasks", "transfers", "import", _, "logs"]) => Ok(Out::Json(200, json!({"data": []}))),
        (M::POST, ["search"]) => {
            let index = required_str(body, "index_id")?;
            let options = str_list(&body["search_options"]);
            st.search(&index, &body["query"], &options, body, None)
        }
        (M::POST, ["search", "combined"]) => {
            let index = required_str(body, "index_id")?;
            let options = str_list(&body["search_options"]);
            st.search(&index, &body["query"], &options, body, None)
        }
        (M::POST, ["search-v2"]) => {
            let form = form.ok_or_else(|| err(400, "parameter_invalid", "multipart/form-data expected"))?;
            let index = form.text("index_id").ok_or_else(|| err(400, "parameter_not_provided", "index_id is required"))?.to_owned();
            let options = form.texts("search_options");
            let mut settings = json!({});
            for k in ["group_by", "threshold", "operator", "conversation_option", "sort_option"] {
                if let Some(v) = form.text(k) {
                    settings[k] = json!(v);
                }
            }
            if let Some(n) = form.text("page_limit").and_then(|v| v.parse::<u64>().ok()) {
                settings["page_limit"] = json!(n);
            }
            if form.text("query_media_type") == Some("image") {
                if form.text("query_media_url").is_none() && form.file("query_media_file").is_none() {
                    return Err(err(400, "parameter_not_provided", "query_media_url or query_media_file is required"));
                }
                return st.search(&index, &Value::Null, &options, &settings, Some(()));
            }
            let text = form.text("query_text").ok_or_else(|| err(400, "parameter_not_provided", "query_text is required"))?;
            st.search(&index, &json!(text), &options, &settings, None)
        }
        (M::GET, ["search" | "search-v2", token]) => st.next_page(token, "search"),
        (M::POST, ["classify"]) => {
            let ids = str_list(&body["video_ids"]);
            if ids.is_empty() {
                return Err(err(400, "parameter_not_provided", "video_ids is required"));
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
            let id = format!("gist-{}", st.id());
            let v = st.generative_video(body)?;
            let types = str_list(&body["types"]);
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
            let prompt = body["prompt"].as_str().map(|p| format!(" ({p})")).unwrap_or_default();
            let out = match body["type"].as_str() {
                Some("summary") => json!({"id": id, "summary": format!("{}{prompt}", v.data.visual.iter().map(|s| s.text.clone()).collect::<Vec<_>>().join(". "))}),
                Some("chapter") => json!({"id": id, "chapters": v.data.visual.iter().enumerate().map(|(i, s)| json!({"chapter_number": i, "start": s.start, "end": s.end, "chapter_title": format!("Chapter {}", i + 1), "chapter_summary": format!("{}{prompt}", s.text)})).collect::<Vec<_>>()}),
                Some("highlight") => json!({"id": id, "highlights": v.data.conversation.iter().chain(&v.data.logo).map(|s| json!({"start": s.start, "end": s.end, "highlight": format!("{}{prompt}", s.text)})).collect::<Vec<_>>()}),
                _ => return Err(err(400, "parameter_invalid", "type must be summary, chapter or highlight")),
            };
            Ok(Out::Json(200, out))
        }
        (M::POST, ["generate"]) => {
            let id = format!("gen-{}", st.id());
            let v = st.generative_video(body)?;
            check_temperature(body)?;
            let prompt = required_str(body, "prompt")?;
            let text = format!("{prompt} — {}.", v.data.visual.iter().map(|s| s.text.to_lowercase()).collect::<Vec<_>>().join(", then "));
            if body["stream"] == true {
                let mut lines = vec![json!({"event_type": "stream_start", "metadata": {"generation_id": id}}).to_string()];
                for word in text.split_inclusive(' ') {
                    lines.push(json!({"event_type": "text_generation", "text": word}).to_string());
                }
                lines.push(json!({"event_type": "stream_end", "metadata": {"generation_id": id}}).to_string());
                return Ok(Out::Ndjson(lines.join("\n") + "\n"));
            }
            Ok(Out::Json(200, json!({"id": id, "data": text})))
        }
        (M::POST, ["embed"]) => {
            let form = form.ok_or_else(|| err(400, "parameter_invalid", "multipart/form-data expected"))?;
            let engine = form.text("engine_name").ok_or_else(|| err(400, "parameter_not_provided", "engine_name is required"))?;
            let mut out = json!({"engine_name": engine});
            if let Some(t) = form.text("text") {
                out["text_embedding"] = json!({"segments": [{"float": embedding(t)}]});
            }
            for (kind, url, file) in [("image", "image_url", "image_file"), ("audio", "audio_url", "audio_file")] {
                let input = form.text(url).map(str::to_owned).or_else(|| form.file(file).map(|(n, size, _)| format!("{n}:{size}")));
                if let Some(i) = input {
                    out[format!("{kind}_embedding")] = json!({"segments": [{"float": embedding(&i), "start_offset_sec": 0}], "metadata": {"input_url": form.text(url)}});
                }
            }
            if out.as_object().is_some_and(|o| o.len() == 1) {
                return Err(err(400, "parameter_not_provided", "send text, an image or an audio clip"));
            }
            Ok(Out::Json(200, out))
        }
        (M::POST, ["embed", "tasks"]) => {
            let form = form.ok_or_else(|| err(400, "parameter_invalid", "multipart/form-data expected"))?;
            let engine = form.text("engine_name").ok_or_else(|| err(400, "parameter_not_provided", "engine_name is required"))?.to_owned();
            if form.text("video_url").is_none() && form.file("video_file").is_none() {
                return Err(err(400, "parameter_not_provided", "video_file or video_url is required"));
            }
            if let Some(c) = form.text("video_clip_length").and_then(|c| c.parse::<f64>().ok())
                && !(2.0..=10.0).contains(&c)
            {
                return Err(err(400, "parameter_invalid", "video_clip_length must be between 2 and 10"));
            }
            let id = st.id();
            let now = st.now();
            st.embed_tasks.insert(id.clone(), (json!({"_id": id, "engine_name": engine, "status": "processing", "created_at": ts(now)}), now));
            Ok(Out::Json(200, json!({"_id": id})))
        }
        (M::GET, ["embed", "tasks"]) => {
            let items: Vec<Value> = st.embed_tasks.values().map(|(j, _)| j.clone()).collect();
            page_list(items, q)
        }
        (M::GET, ["embed", "tasks", id]) => {
            let (j, _) = st.embed_tasks.get(*id).ok_or_else(|| not_found(id, "embedding task"))?;
            let mut j = j.clone();
            if j["status"] == "ready" {
                j["video_embedding"] = json!({"segments": [{"float": embedding(id), "start_offset_sec": 0, "end_offset_sec": 6, "embedding_scope": "clip"}], "metadata": {"video_clip_length": 6, "video_embedding_scope": ["clip"], "duration": 6}});
            }
            Ok(Out::Json(200, j))
        }
        (M::GET, ["embed", "tasks", id, "status"]) => st
            .embed_tasks
            .get(*id)
            .map(|(j, _)| Out::Json(200, json!({"_id": j["_id"], "engine_name": j["engine_name"], "status": j["status"]})))
            .ok_or_else(|| err(400, "parameter_invalid", "The task_id parameter is invalid.")),
        _ => Err(err(404, "resource_not_exists", format!("no route for {m} /{}", s.join("/")))),
    }
}

fn engines() -> Vec<Value> {
    vec![
        json!({"_id": "marengo2.6", "author": "twelvelabs", "allowed_engine_options": ["visual", "conversation", "text_in_video", "logo"], "ready": true, "finetune": false}),
        json!({"_id": "pegasus1", "author": "twelvelabs", "allowed_engine_options": ["visual", "conversation"], "ready": true, "finetune": false}),
        json!({"_id": "pegasus1.1", "author": "twelvelabs", "allowed_engine_options": ["visual", "conversation"], "ready": true, "finetune": false}),
    ]
}

fn required_str(body: &Value, field: &'static str) -> std::result::Result<String, ApiErr> {
    match body[field].as_str() {
        Some(s) if !s.is_empty() => Ok(s.to_owned()),
        _ => Err(err(
            400,
            "parameter_not_provided",
            format!("The {field} parameter is required."),
        )),
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

fn check_temperature(body: &Value) -> std::result::Result<(), ApiErr> {
    match body["temperature"].as_f64() {
        Some(t) if !(0.0..=1.0).contains(&t) => Err(err(
            400,
            "parameter_invalid",
            "temperature must be between 0 and 1",
        )),
        _ => Ok(()),
    }
}

fn page_limit(q: &Query) -> std::result::Result<usize, ApiErr> {
    match q.get("page_limit") {
        None => Ok(10),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=50).contains(&n) => Ok(n),
            _ => Err(err(
                400,
                "parameter_invalid",
                "The page_limit parameter is invalid. It must be between 1 and 50.",
            )),
        },
    }
}

/// Filters, sorts and pages a list as the page-number endpoints do.
fn page_list(mut items: Vec<Value>, q: &Query) -> R {
    let limit = page_limit(q)?;
    let page: usize = match q.get("page").map(str::parse) {
        None => 1,
        Some(Ok(p)) if p >= 1 => p,
        _ => {
            return Err(err(
                400,
                "parameter_invalid",
                "The page parameter is invalid.",
            ));
        }
    };
    for (k, v) in &q.0 {
        if matches!(
            k.as_str(),
            "page"
                | "page_limit"
                | "sort_by"
                | "sort_option"
                | "started_at"
                | "ended_at"
                | "engine_family"
                | "engine_options"
                | "index_options"
        ) {
            continue;
        }
        let (field, op) = match k.strip_suffix("[gte]") {
            Some(f) => (f, "gte"),
            None => match k.strip_suffix("[lte]") {
                Some(f) => (f, "lte"),
                None => (k.as_str(), "eq"),
            },
        };
        items.retain(|item| {
            let value = item.get(field).or_else(|| item["metadata"].get(field));
            value.is_some_and(|value| compare(value, v, op))
        });
    }
    let by = q.get("sort_by").unwrap_or("created_at").to_owned();
    items.sort_by(|a, b| a[&by].as_str().cmp(&b[&by].as_str()));
    if q.get("sort_option") != Some("asc") {
        items.reverse();
    }
    let total = items.len();
    let total_page = total.div_ceil(limit);
    let data: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .collect();
    Ok(Out::Json(
        200,
        json!({"data": data, "page_info": {"limit_per_page": limit, "page": page, "total_page": total_page, "total_results": total}}),
    ))
}

fn compare(value: &Value, wanted: &str, op: &str) -> bool {
    use std::cmp::Ordering;
    let ord = match (value.as_f64(), wanted.parse::<f64>().ok()) {
        (Some(a), Some(b)) => a.partial_cmp(&b),
        _ => {
            let a = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match (
                DateTime::parse_from_rfc3339(&a),
                DateTime::parse_from_rfc3339(wanted),
            ) {
                (Ok(x), Ok(y)) => Some(x.cmp(&y)),
                _ => Some(a.as_str().cmp(wanted)),
            }
        }
    };
    match (op, ord) {
        ("gte", Some(o)) => o != Ordering::Less,
        ("lte", Some(o)) => o != Ordering::Greater,
        (_, Some(o)) => o == Ordering::Equal,
        _ => false,
    }
}

impl State {
    /// Moves tasks along the clock; a task that becomes ready gets its video.
    fn settle(&mut self) {
        let now = self.now();
        let total = self.indexing_time;
        let default_data = self.default_data.clone();
        let mut new_videos = Vec::new();
        for (id, t) in self.tasks.iter_mut() {
            if t.json["status"] == "ready" || t.json["status"] == "failed" {
                continue;
            }
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
            t.json["status"] = json!(status);
            t.json["updated_at"] = json!(ts(now));
            if status == "indexing" {
                let remain = ((1.0 - frac) * total.num_milliseconds() as f64 / 1000.0).max(0.0);
                t.json["process"] =
                    json!({"percentage": (frac * 100.0).round(), "remain_seconds": remain});
            } else if let Some(o) = t.json.as_object_mut() {
                o.remove("process");
            }
            if status == "ready" && t.video.is_none() {
                let vid = format!("6666{:020x}", fastrand::u64(..));
                t.video = Some(vid.clone());
                t.json["video_id"] = json!(vid);
                t.json["hls"] = json!({"status": "COMPLETE", "video_url": format!("https://fake.twelvelabs.invalid/{id}/stream.m3u8"), "thumbnail_urls": [format!("https://fake.twelvelabs.invalid/{id}/thumbnail.jpg")], "updated_at": ts(now)});
                new_videos.push((
                    vid,
                    t.json["index_id"].as_str().unwrap_or_default().to_owned(),
                    t.filename.clone(),
                    t.size,
                    t.created,
                ));
            }
        }
        for (vid, index, filename, size, created) in new_videos {
            let engine_ids: Vec<Value> = self
                .indexes
                .get(&index)
                .and_then(|i| i["engines"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .map(|e| e["engine_name"].clone())
                .collect();
            let json = json!({
                "_id": vid, "created_at": ts(created), "updated_at": ts(now), "indexed_at": ts(now),
                "metadata": {"duration": default_data.duration, "engine_ids": engine_ids, "filename": filename, "fps": 24, "height": 720, "size": size, "width": 1280}
            });
            self.videos.insert(
                vid,
                FakeVideo {
                    index,
                    json,
                    data: default_data.clone(),
                },
            );
        }
        for (j, created) in self.embed_tasks.values_mut() {
            if j["status"] == "processing" && now - *created >= total {
                j["status"] = json!("ready");
            }
        }
    }

    fn index(&self, id: &str) -> std::result::Result<&Value, ApiErr> {
        self.indexes.get(id).ok_or_else(|| not_found(id, "index"))
    }

    fn render_index(&self, id: &str) -> Value {
        let mut j = self.indexes.get(id).cloned().unwrap_or(Value::Null);
        let videos: Vec<&FakeVideo> = self.videos.values().filter(|v| v.index == id).collect();
        j["video_count"] = json!(videos.len());
        j["total_duration"] = json!(videos.iter().map(|v| v.data.duration).sum::<f64>());
        j
    }

    fn create_index(&mut self, body: &Value) -> R {
        let name = required_str(body, "index_name")?;
        let engines = body["engines"]
            .as_array()
            .filter(|e| !e.is_empty())
            .ok_or_else(|| {
                err(
                    400,
                    "parameter_not_provided",
                    "The engines parameter is required.",
                )
            })?;
        for e in engines {
            let name = e["engine_name"].as_str().unwrap_or_default();
            let known = engines_allowed(name)
                .ok_or_else(|| err(400, "parameter_invalid", format!("Unknown engine {name}.")))?;
            let options = str_list(&e["engine_options"]);
            if options.is_empty() || options.iter().any(|o| !known.contains(&o.as_str())) {
                return Err(err(
                    400,
                    "parameter_invalid",
                    format!("The engine_options of {name} are invalid."),
                ));
            }
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
            "_id": id, "index_name": name, "engines": engines, "addons": body["addons"].as_array().cloned().unwrap_or_default(),
            "created_at": ts(now), "updated_at": ts(now), "expires_at": ts(now + chrono::Duration::days(90)),
        }));
        Ok(Out::Json(201, json!({"_id": id})))
    }

    fn rename_index(&mut self, id: &str, body: &Value) -> R {
        let name = required_str(body, "index_name")?;
        if body.get("engines").is_some() {
            return Err(err(
                400,
                "index_engine_cannot_be_changed",
                "The engines of an index cannot be changed.",
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

    fn video_in(&self, index: &str, vid: &str) -> std::result::Result<&FakeVideo, ApiErr> {
        self.index(index)?;
        self.videos
            .get(vid)
            .filter(|v| v.index == index)
            .ok_or_else(|| not_found(vid, "video"))
    }

    fn update_video(&mut self, index: &str, vid: &str, body: &Value) -> R {
        self.video_in(index, vid)?;
        let now = ts(self.now());
        let v = self
            .videos
            .get_mut(vid)
            .ok_or_else(|| not_found(vid, "video"))?;
        if let Some(t) = body["video_title"].as_str() {
            v.json["metadata"]["video_title"] = json!(t);
        }
        if let Some(m) = body["metadata"].as_object() {
            for (k, val) in m {
                if ["duration", "filename", "fps", "height", "size", "width"].contains(&k.as_str())
                {
                    return Err(err(
                        400,
                        "parameter_invalid",
                        format!("The metadata field {k} cannot be overridden."),
                    ));
                }
                if !(val.is_string() || val.is_number() || val.is_boolean()) {
                    return Err(err(
                        400,
                        "parameter_invalid",
                        format!("The metadata field {k} must be a string, number or boolean."),
                    ));
                }
                v.json["metadata"][k] = val.clone();
            }
        }
        v.json["updated_at"] = json!(now);
        Ok(Out::Empty(200))
    }

    fn create_task(&mut self, index: &str, filename: String, size: u64) -> R {
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
        self.tasks.insert(
            id.clone(),
            FakeTask {
                json,
                created: now,
                fails,
                video: None,
                filename,
                size,
            },
        );
        Ok(Out::Json(201, json!({"_id": id})))
    }

    fn generative_video(&self, body: &Value) -> std::result::Result<&FakeVideo, ApiErr> {
        let vid = required_str(body, "video_id")?;
        let v = self
            .videos
            .get(&vid)
            .ok_or_else(|| not_found(&vid, "video"))?;
        let pegasus = self
            .indexes
            .get(&v.index)
            .and_then(|i| i["engines"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .any(|e| {
                e["engine_name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("pegasus"))
            });
        if !pegasus {
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
            return Err(err(
                400,
                "parameter_not_provided",
                "The search_options parameter is required.",
            ));
        }
        let enabled: Vec<String> = idx["engines"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| {
                e["engine_name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("marengo"))
            })
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
        if let Some(l) = settings["adjust_confidence_level"].as_f64()
            && !(0.0..=1.0).contains(&l)
        {
            return Err(err(
                400,
                "parameter_invalid",
                "adjust_confidence_level must be between 0 and 1",
            ));
        }
        let limit = match settings["page_limit"].as_u64() {
            None => 10,
            Some(n) if (1..=50).contains(&n) => n as usize,
            Some(_) => {
                return Err(err(
                    400,
                    "parameter_invalid",
                    "The page_limit parameter is invalid. It must be between 1 and 50.",
                ));
            }
        };
        let exact = settings["conversation_option"] == "exact_match";
        let and = settings["operator"] == "and";
        let mut clips: Vec<Value> = Vec::new();
        let videos: Vec<(&String, &FakeVideo)> = self
            .videos
            .iter()
            .filter(|(_, v)| v.index == index)
            .collect();
        for (vid, v) in &videos {
            let found = if image.is_some() {
                v.data.visual.first().map(|s| vec![json!({"score": 75.0, "start": s.start, "end": s.end, "video_id": vid, "confidence": "medium"})]).unwrap_or_default()
            } else {
                eval_query(vid, &v.data, query, options, exact, and)?
            };
            clips.extend(found);
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
            groups
                .into_iter()
                .map(|(id, clips)| json!({"id": id, "clips": clips}))
                .collect()
        } else {
            clips
        };
        let pool = json!({"index_id": index, "total_count": videos.len(), "total_duration": videos.iter().map(|(_, v)| v.data.duration).sum::<f64>()});
        let extra = json!({"search_pool": pool, "total_inner_matches": inner});
        Ok(self.first_page(items, limit, extra))
    }

    fn classify(&mut self, ids: Vec<String>, body: &Value) -> R {
        let classes = body["classes"]
            .as_array()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                err(
                    400,
                    "parameter_not_provided",
                    "The classes parameter is required.",
                )
            })?
            .clone();
        let options = str_list(&body["options"]);
        if options.is_empty() {
            return Err(err(
                400,
                "parameter_not_provided",
                "The options parameter is required.",
            ));
        }
        let prompts: usize = classes.iter().map(|c| str_list(&c["prompts"]).len()).sum();
        if prompts > 100 {
            return Err(err(
                400,
                "parameter_invalid",
                "At most 100 prompts are allowed.",
            ));
        }
        let th = &body["threshold"];
        let min_video = th["min_video_score"].as_f64().unwrap_or(75.0);
        let min_clip = th["min_clip_score"].as_f64().unwrap_or(65.0);
        let min_ratio = th["min_duration_ratio"].as_f64().unwrap_or(0.5);
        let (clips_on, detailed) = (
            body["include_clips"] == true,
            body["show_detailed_score"] == true,
        );
        let mut data = Vec::new();
        for id in &ids {
            let v = self.videos.get(id).ok_or_else(|| not_found(id, "video"))?;
            let mut found = Vec::new();
            for class in &classes {
                let mut hits = Vec::new();
                for prompt in str_list(&class["prompts"]) {
                    for option in &options {
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
        let limit = body["page_limit"]
            .as_u64()
            .map_or(10, |n| n.clamp(1, 50) as usize);
        Ok(self.first_page(data, limit, json!({})))
    }

    /// The first page of a token-paginated result; the rest waits behind a token.
    fn first_page(&mut self, items: Vec<Value>, limit: usize, extra: Value) -> Out {
        let expires = self.now() + self.token_ttl;
        self.page_from(items, limit, extra, expires, None)
    }

    fn page_from(
        &mut self,
        mut items: Vec<Value>,
        limit: usize,
        extra: Value,
        expires: DateTime<Utc>,
        prev: Option<String>,
    ) -> Out {
        let total = items.len();
        let rest = if items.len() > limit {
            items.split_off(limit)
        } else {
            Vec::new()
        };
        let this = format!("tok-{}", self.id());
        let mut info = json!({"limit_per_page": limit, "total_results": total, "page_expired_at": if total == 0 { String::new() } else { expires.to_rfc3339_opts(SecondsFormat::Secs, true) }});
        if let Some(p) = &prev {
            info["prev_page_token"] = json!(p);
        }
        if let Some(n) = extra.get("total_inner_matches") {
            info["total_inner_matches"] = n.clone();
        }
        if !rest.is_empty() {
            info["next_page_token"] = json!(this);
            self.pages.insert(
                this.clone(),
                TokenPages {
                    items: rest,
                    limit,
                    extra: extra.clone(),
                    expires,
                    prev: Some(this),
                },
            );
        }
        let mut out = json!({"data": items, "page_info": info});
        if let Some(pool) = extra.get("search_pool") {
            out["search_pool"] = pool.clone();
        }
        Out::Json(200, out)
    }

    fn next_page(&mut self, token: &str, kind: &str) -> R {
        let Some(p) = self.pages.remove(token) else {
            return Err(not_found(token, "page token"));
        };
        if self.now() > p.expires {
            let code = if kind == "search" {
                "search_page_token_expired"
            } else {
                "parameter_invalid"
            };
            return Err(err(400, code, "The page token has expired."));
        }
        Ok(self.page_from(p.items, p.limit, p.extra, p.expires, p.prev))
    }
}

fn engines_allowed(name: &str) -> Option<&'static [&'static str]> {
    if name.starts_with("marengo") {
        Some(&["visual", "conversation", "text_in_video", "logo"])
    } else if name.starts_with("pegasus") {
        Some(&["visual", "conversation"])
    } else {
        None
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
) -> std::result::Result<Vec<Value>, ApiErr> {
    if let Some(text) = q.as_str() {
        if text.trim().is_empty() {
            return Err(err(
                400,
                "parameter_invalid",
                "The query parameter is empty.",
            ));
        }
        return Ok(match_clips(vid, data, text, options, exact, and));
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
    let list = |key: &str| -> std::result::Result<Vec<Vec<Value>>, ApiErr> {
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
    Err(err(
        400,
        "parameter_invalid",
        "The query parameter is invalid.",
    ))
}
