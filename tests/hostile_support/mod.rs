//! A loopback server that misbehaves on purpose, for `tests/hostile*.rs`: each accepted
//! connection is handed, with its request head already read (the body is left unread, so a
//! scenario can refuse to take an upload), to the scenario's handler, which writes whatever raw
//! bytes it wants. Every request head is recorded.
#![allow(
    dead_code,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub mod scenarios;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request head as the server saw it.
#[derive(Clone, Debug)]
pub struct Head {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn content_length(&self) -> usize {
        self.header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

/// One accepted connection with its first request head read.
pub struct Conn {
    pub stream: TcpStream,
    pub head: Head,
    /// Body bytes that arrived with the head.
    pub early: Vec<u8>,
    /// 0 for the first request the server saw, 1 for the second…
    pub index: usize,
}

impl Conn {
    /// Reads (and drops) the rest of the request body.
    pub async fn drain_body(&mut self) {
        let mut left = self.head.content_length().saturating_sub(self.early.len());
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            match self.stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    }

    /// Writes raw bytes; errors (the client hung up) are ignored.
    pub async fn write(&mut self, bytes: impl AsRef<[u8]>) -> bool {
        self.stream.write_all(bytes.as_ref()).await.is_ok() && self.stream.flush().await.is_ok()
    }

    /// A complete response with `Content-Length` and `connection: close`.
    pub async fn respond(&mut self, status: u16, headers: &[(&str, &str)], body: &[u8]) -> bool {
        let mut head = format!(
            "HTTP/1.1 {status} Hostile\r\ncontent-length: {}\r\nconnection: close\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(body);
        self.write(out).await
    }

    /// A JSON 200.
    pub async fn json(&mut self, body: &str) -> bool {
        self.respond(
            200,
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
        .await
    }

    /// Keeps the connection open, saying nothing, until the client gives up (or 120 s).
    pub async fn hold(mut self) {
        let mut buf = [0u8; 1024];
        let _ = tokio::time::timeout(Duration::from_secs(120), async {
            loop {
                match self.stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
    }
}

/// The server. Dropping it stops accepting (connections in flight finish on their own).
pub struct Rogue {
    pub base_url: String,
    pub origin: String,
    heads: Arc<Mutex<Vec<Head>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Rogue {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Rogue {
    /// Starts a server whose every connection goes to `handler`.
    pub async fn start<F, Fut>(handler: F) -> Self
    where
        F: Fn(Conn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        let handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let (seen, handler) = (seen.clone(), handler.clone());
                tokio::spawn(async move {
                    let Some((head, early)) = read_head(&mut stream).await else {
                        return;
                    };
                    let index = {
                        let mut s = seen.lock().unwrap();
                        s.push(head.clone());
                        s.len() - 1
                    };
                    handler(Conn {
                        stream,
                        head,
                        early,
                        index,
                    })
                    .await;
                });
            }
        });
        Self {
            base_url: format!("http://{addr}/v1.2"),
            origin: format!("http://{addr}"),
            heads,
            task,
        }
    }

    /// Every request head seen so far.
    pub fn heads(&self) -> Vec<Head> {
        self.heads.lock().unwrap().clone()
    }

    pub fn hits(&self) -> usize {
        self.heads.lock().unwrap().len()
    }
}

async fn read_head(stream: &mut TcpStream) -> Option<(Head, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 1 << 20 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let text = String::from_utf8_lossy(&buf[..end]).to_string();
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let path = first.next().unwrap_or_default().to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some((
        Head {
            method,
            path,
            headers,
        },
        buf[end..].to_vec(),
    ))
}

/// Runs `f`, failing the test if it does not end within `bound + 2 s`; returns its output and
/// the time it took, which the caller asserts against `bound` (+ 2 s, the slack).
pub async fn bounded<T>(bound: Duration, f: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = tokio::time::timeout(bound + Duration::from_secs(5), f)
        .await
        .unwrap_or_else(|_| panic!("the scenario did not end within {bound:?} + 5 s"));
    let took = started.elapsed();
    println!("took {took:?} (bound {bound:?})");
    assert!(
        took <= bound + Duration::from_secs(2),
        "took {took:?}, over the bound {bound:?} + 2 s"
    );
    (out, took)
}

/// The process's resident set size and its high-water mark, in bytes (Linux `/proc/self/status`).
pub fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets the high-water mark to the current RSS (`clear_refs` 5); false where not allowed.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
