//! A blocking client, for scripts, build tools and synchronous code: no async runtime needed.
//!
//! [`Client`] has the same handles and builders as the async [`crate::Client`], in mode
//! [`Blocking`]: each call returns its result, pages and items are iterators, waits block, and the
//! generation stream is an iterator of events. It runs its own small runtime (one worker thread)
//! and is cheap to clone and `Send + Sync`.
//!
//! It refuses, with [`Error::Config`], to be used inside an async runtime (blocking there would
//! stall the runtime's thread): use the async [`crate::Client`] there.
//!
//! ```no_run
//! fn main() -> twelvelabs::Result<()> {
//!     let tl = twelvelabs::blocking::Client::from_env()?;
//!     for index in tl.indexes().list().items() {
//!         println!("{}", index?);
//!     }
//!     Ok(())
//! }
//! ```

use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;

use crate::error::{Error, Result};

/// The blocking mode of the handles and builders (see [`crate::mode`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Blocking;

impl crate::mode::Mode for Blocking {}

/// A blocking Twelve Labs client: [`crate::Client`]'s handles and builders, whose calls return
/// their results. Cheap to clone, `Send + Sync`.
#[derive(Clone, Debug)]
pub struct Client {
    inner: crate::Client,
}

impl Client {
    /// A client with `api_key` and the default settings.
    pub fn new(api_key: impl Into<String>) -> Result<Self> {
        Self::from_async(crate::Client::new(api_key)?)
    }

    /// A client configured from the environment, as [`crate::Client::from_env`].
    pub fn from_env() -> Result<Self> {
        Self::from_async(crate::Client::from_env()?)
    }

    /// Wraps a client built with [`crate::ClientBuilder`] (any settings): the blocking client
    /// shares its configuration and connection pool.
    pub fn from_async(client: crate::Client) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("twelvelabs-blocking")
            .enable_all()
            .build()
            .map_err(|e| Error::config("blocking", format!("cannot start the runtime: {e}")))?;
        Ok(Self {
            inner: client.with_runtime(Arc::new(Runtime(Some(runtime)))),
        })
    }

    /// The async client this one wraps (same settings and connections).
    pub fn as_async(&self) -> &crate::Client {
        &self.inner
    }

    /// Indexes: create, list, get, rename, delete.
    pub fn indexes(&self) -> crate::api::indexes::Indexes<Blocking> {
        crate::api::indexes::Indexes::new(self.inner.clone())
    }

    /// The videos of an index.
    pub fn videos(&self, index: impl Into<crate::IndexId>) -> crate::api::videos::Videos<Blocking> {
        crate::api::videos::Videos::new(self.inner.clone(), index.into())
    }

    /// Video indexing tasks: uploads, YouTube, transfers, imports, waiting.
    pub fn tasks(&self) -> crate::api::tasks::Tasks<Blocking> {
        crate::api::tasks::Tasks::new(self.inner.clone())
    }

    /// Starts a search of `index`.
    pub fn search(&self, index: impl Into<crate::IndexId>) -> crate::api::search::Search<Blocking> {
        crate::api::search::Search::new(self.inner.clone(), index.into())
    }

    /// Classification of videos or whole indexes.
    pub fn classify(&self) -> crate::api::classify::Classify<Blocking> {
        crate::api::classify::Classify::new(self.inner.clone())
    }

    /// Text generation: gist, summaries, chapters, highlights, open-ended text and its stream.
    pub fn generate(&self) -> crate::api::generate::Generate<Blocking> {
        crate::api::generate::Generate::new(self.inner.clone())
    }

    /// Embeddings of text, images, audio, and video embedding tasks.
    pub fn embed(&self) -> crate::api::embed::Embed<Blocking> {
        crate::api::embed::Embed::new(self.inner.clone())
    }

    /// The engines of the platform.
    pub fn engines(&self) -> crate::api::engines::Engines<Blocking> {
        crate::api::engines::Engines::new(self.inner.clone())
    }

    /// Runs a call of the generated client ([`crate::Client::raw`]) with the crate's retries and
    /// errors, and waits for it.
    pub fn call<T, F>(&self, request: F) -> Result<T>
    where
        T: serde::de::DeserializeOwned,
        F: Future<
            Output = std::result::Result<
                progenitor_client::ResponseValue<T>,
                crate::raw::Error<()>,
            >,
        >,
    {
        run(&self.inner, self.inner.call(request))
    }

    /// The generated low-level client (use it with [`Client::call`]).
    pub fn raw(&self) -> &crate::raw::Client {
        self.inner.raw()
    }
}

/// The blocking client's runtime. Dropped without blocking, so that dropping the last clone of a
/// blocking client anywhere (even inside an async runtime, where blocking calls are refused) is
/// safe.
pub(crate) struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Runtime {
    fn block_on<F: Future>(&self, fut: F) -> Option<F::Output> {
        self.0.as_ref().map(|rt| rt.block_on(fut))
    }
}

/// Runs `fut` on the blocking client's runtime; refuses inside an async runtime.
pub(crate) fn run<T>(client: &crate::Client, fut: impl Future<Output = Result<T>>) -> Result<T> {
    let runtime = runtime(client)?;
    runtime.block_on(fut).unwrap_or_else(|| {
        Err(Error::config(
            "blocking",
            "the blocking client's runtime is gone",
        ))
    })
}

fn runtime(client: &crate::Client) -> Result<Arc<Runtime>> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::config(
            "blocking",
            "the blocking client was called inside an async runtime, where blocking would stall \
             it: use twelvelabs::Client (async) there, or call from a thread of your own \
             (tokio::task::spawn_blocking)",
        ));
    }
    client
        .runtime()
        .ok_or_else(|| Error::config("blocking", "this client has no blocking runtime"))
}

/// The items of a paged listing or a stream, one at a time, for the blocking client. Each
/// `next()` may send a request; an error is yielded once, then the iteration ends.
pub struct Iter<T> {
    stream: Option<BoxStream<'static, Result<T>>>,
    client: crate::Client,
}

impl<T> std::fmt::Debug for Iter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iter").finish_non_exhaustive()
    }
}

impl<T> Iter<T> {
    pub(crate) fn new(client: &crate::Client, stream: BoxStream<'static, Result<T>>) -> Self {
        Self {
            stream: Some(stream),
            client: client.clone(),
        }
    }
}

impl<T> Iterator for Iter<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        let stream = self.stream.as_mut()?;
        let item = match runtime(&self.client) {
            Ok(rt) => rt.block_on(stream.next()).flatten(),
            Err(e) => Some(Err(e)),
        };
        if !matches!(item, Some(Ok(_))) {
            self.stream = None;
        }
        item
    }
}
