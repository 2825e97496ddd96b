//! Engines: list and get.

use std::marker::PhantomData;

use crate::Client;
use crate::error::Result;
use crate::ids::EngineId;
use crate::mode::{Async, Mode, faces};
use crate::raw::types::Engine;

/// The platform's engines. From [`Client::engines`].
#[derive(Clone, Debug)]
pub struct Engines<M: Mode = Async> {
    client: Client,
    mode: PhantomData<M>,
}

impl<M: Mode> Engines<M> {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            mode: PhantomData,
        }
    }

    async fn list_impl(&self) -> Result<Vec<Engine>> {
        let raw = self.client.raw();
        Ok(self.client.call(raw.list_engines().send()).await?.data)
    }

    async fn get_impl(&self, id: impl Into<EngineId>) -> Result<Engine> {
        let id = id.into();
        let raw = self.client.raw();
        self.client
            .call(raw.get_engine().engine_id(id.checked("engine_id")?).send())
            .await
    }
}

faces! {
    impl[] Engines<Async> | Engines<crate::blocking::Blocking> {
        /// Every engine.
        ///
        /// ```no_run
        /// # async fn demo(tl: twelvelabs::Client) -> twelvelabs::Result<()> {
        /// for engine in tl.engines().list().await? {
        ///     println!("{} ready={:?}", engine.id, engine.ready);
        /// }
        /// # Ok(()) }
        /// ```
        pub fn list(&self) -> Vec<Engine> => list_impl;
        /// One engine, e.g. `pegasus1.1`.
        pub fn get(&self, id: impl Into<EngineId>) -> Engine => get_impl;
    }
}
