//! Indexes: create, list, get, rename, delete.
//!
//! ```no_run
//! # async fn demo(tl: twelvelabs::Client) -> twelvelabs::Result<()> {
//! use twelvelabs::{Addon, EngineConfig, EngineOption::*};
//! let index = tl.indexes().create("Content Creator Videos")
//!     .engine(EngineConfig::new("marengo2.6").options([Visual, Conversation, TextInVideo, Logo]))
//!     .engine(EngineConfig::new("pegasus1").options([Visual, Conversation]))
//!     .addon(Addon::Thumbnail)
//!     .send().await?;
//! println!("created {index}");
//! # Ok(()) }
//! ```

use std::marker::PhantomData;

use super::{ListCommon, build, fetch_dated_page, page_number_list, raw_list};
use crate::Client;
use crate::error::{Error, Result};
use crate::ids::IndexId;
use crate::mode::{Async, Mode, faces};
use crate::model::Index;
use crate::pagination::Page;
use crate::raw::types::{self, Addon, EngineFamily, EngineOption};

raw_list!(ListIndexes, Index, dated);

/// The indexes of the account. From [`Client::indexes`].
#[derive(Clone, Debug)]
pub struct Indexes<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
}

impl<M: Mode> Indexes<M> {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            mode: PhantomData,
        }
    }

    /// Starts creating an index named `name` (unique in the account). Add at least one engine.
    pub fn create(&self, name: impl Into<String>) -> CreateIndex<M> {
        CreateIndex {
            mode: PhantomData,
            client: self.client.clone(),
            name: name.into(),
            engines: Vec::new(),
            addons: Vec::new(),
        }
    }

    /// Lists indexes (page by page, or as a stream).
    pub fn list(&self) -> ListIndexes<M> {
        ListIndexes {
            mode: PhantomData,
            client: self.client.clone(),
            common: ListCommon::default(),
            name: None,
            engine_family: None,
            engine_options: Vec::new(),
        }
    }

    async fn get_impl(&self, id: impl Into<IndexId>) -> Result<Index> {
        let id = id.into();
        let raw = self.client.raw();
        self.client
            .call(raw.get_index().index_id(id.checked("index_id")?).send())
            .await
            .map(Index::from)
    }

    async fn rename_impl(&self, id: impl Into<IndexId>, name: impl Into<String>) -> Result<()> {
        let (id, name) = (id.into(), name.into());
        if name.trim().is_empty() {
            return Err(Error::invalid("index_name", "must not be empty"));
        }
        let raw = self.client.raw();
        let b = raw
            .update_index()
            .index_id(id.checked("index_id")?)
            .body(build::<_, types::UpdateIndexRequest>(
                types::UpdateIndexRequest::builder().index_name(name),
            )?);
        self.client.call(b.send()).await
    }

    async fn delete_impl(&self, id: impl Into<IndexId>) -> Result<()> {
        let id = id.into();
        let raw = self.client.raw();
        self.client
            .call(raw.delete_index().index_id(id.checked("index_id")?).send())
            .await
    }
}

/// An engine and the options to enable for it, for [`CreateIndex::engine`]. (Not to be confused
/// with [`raw::types::Engine`](crate::raw::types::Engine), an engine as `tl.engines()` lists it.)
#[derive(Clone, Debug, PartialEq)]
pub struct EngineConfig {
    name: String,
    options: Vec<EngineOption>,
}

impl EngineConfig {
    /// An engine by name: `marengo2.6`, `pegasus1`, `pegasus1.1`…
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            options: Vec::new(),
        }
    }

    /// The options to enable (Marengo: any of visual, conversation, text_in_video, logo; Pegasus:
    /// visual and/or conversation). Fixed once the index exists.
    pub fn options(mut self, options: impl IntoIterator<Item = EngineOption>) -> Self {
        self.options.extend(options);
        self
    }
}

/// Creates an index. From [`Indexes::create`].
#[derive(Clone, Debug)]
#[must_use = "call .send()"]
pub struct CreateIndex<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    name: String,
    engines: Vec<EngineConfig>,
    addons: Vec<Addon>,
}

impl<M: Mode> CreateIndex<M> {
    /// Adds an engine with its options.
    pub fn engine(mut self, engine: EngineConfig) -> Self {
        self.engines.push(engine);
        self
    }

    /// Adds an add-on (`thumbnail`; needs Marengo).
    pub fn addon(mut self, addon: Addon) -> Self {
        self.addons.push(addon);
        self
    }

    async fn send_impl(self) -> Result<IndexId> {
        if self.name.trim().is_empty() {
            return Err(Error::invalid("index_name", "must not be empty"));
        }
        if self.engines.is_empty() {
            return Err(Error::invalid("engines", "add at least one engine"));
        }
        let mut engines = Vec::with_capacity(self.engines.len());
        for e in self.engines {
            if e.name.trim().is_empty() {
                return Err(Error::invalid("engines.engine_name", "must not be empty"));
            }
            if e.options.is_empty() {
                return Err(Error::invalid(
                    "engines.engine_options",
                    format!("engine {} needs at least one option", e.name),
                ));
            }
            engines.push(build::<_, types::IndexEngine>(
                types::IndexEngine::builder()
                    .engine_name(e.name)
                    .engine_options(e.options),
            )?);
        }
        let body: types::CreateIndexRequest = build(
            types::CreateIndexRequest::builder()
                .index_name(self.name)
                .engines(engines)
                .addons(self.addons),
        )?;
        let raw = self.client.raw();
        let created = self
            .client
            .call(raw.create_index().body(body).send())
            .await?;
        Ok(IndexId::new(created.id))
    }
}

/// Lists indexes. From [`Indexes::list`].
#[derive(Clone, Debug)]
#[must_use = "call .send(), .pages() or .items()"]
pub struct ListIndexes<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    common: ListCommon,
    name: Option<String>,
    engine_family: Option<EngineFamily>,
    engine_options: Vec<EngineOption>,
}

page_number_list!(ListIndexes, Index, dated);

impl<M: Mode> ListIndexes<M> {
    /// Only indexes with this name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Only indexes with an engine of this family.
    pub fn engine_family(mut self, f: EngineFamily) -> Self {
        self.engine_family = Some(f);
        self
    }
    /// Only indexes with these engine options.
    pub fn engine_options(mut self, o: impl IntoIterator<Item = EngineOption>) -> Self {
        self.engine_options.extend(o);
        self
    }

    fn check_own(&self) -> Result<()> {
        Ok(())
    }

    async fn fetch(self, page: u64) -> Result<Page<Index>> {
        let raw = self.client.raw();
        let mut b = raw.list_indexes();
        if let Some(n) = &self.name {
            b = b.index_name(n.clone());
        }
        if let Some(f) = self.engine_family.clone() {
            b = b.engine_family(f);
        }
        if !self.engine_options.is_empty() {
            let joined: Vec<&str> = self
                .engine_options
                .iter()
                .map(EngineOption::as_str)
                .collect();
            b = b.engine_options(joined.join(","));
        }
        fetch_dated_page(&self.common, b, page).await
    }
}

faces! {
    impl[] Indexes<Async> | Indexes<crate::blocking::Blocking> {
        /// Retrieves an index.
        pub fn get(&self, id: impl Into<IndexId>) -> Index => get_impl;
        /// Renames an index (engines and options cannot change).
        pub fn rename(&self, id: impl Into<IndexId>, name: impl Into<String>) -> () => rename_impl;
        /// Deletes an index and its videos.
        pub fn delete(&self, id: impl Into<IndexId>) -> () => delete_impl;
    }
}

faces! {
    impl[] CreateIndex<Async> | CreateIndex<crate::blocking::Blocking> {
        /// Creates the index and returns its id.
        pub fn send(self) -> IndexId => send_impl;
    }
}
