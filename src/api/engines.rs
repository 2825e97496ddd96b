//! Engines: list and get.

use crate::Client;
use crate::error::Result;
use crate::ids::EngineId;
use crate::raw::types::Engine;

/// The platform's engines. From [`Client::engines`].
#[derive(Clone, Debug)]
pub struct Engines {
    client: Client,
}

impl Engines {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// Every engine.
    ///
    /// ```no_run
    /// # async fn demo(tl: twelvelabs::Client) -> twelvelabs::Result<()> {
    /// for engine in tl.engines().list().await? {
    ///     println!("{} ready={:?}", engine.id, engine.ready);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self) -> Result<Vec<Engine>> {
        let raw = self.client.raw();
        Ok(self.client.call(raw.list_engines().send()).await?.data)
    }

    /// One engine, e.g. `pegasus1.1`.
    pub async fn get(&self, id: impl Into<EngineId>) -> Result<Engine> {
        let id = id.into();
        let raw = self.client.raw();
        self.client
            .call(raw.get_engine().engine_id(id.checked("engine_id")?).send())
            .await
    }
}
