//! Writing a campaign into PostgreSQL while it runs (`qoeprobe run --postgres URL`):
//! each run is loaded as it finishes, by the same loader as a folder
//! ([`crate::load_folder`]); the campaign stays `complete = false` until
//! [`Live::finish`], which loads whatever the folder holds that the database does
//! not (runs a `--resume` skipped, runs that failed to load) and marks it. The
//! results folder stays the source of truth.

use crate::error::StoreError;
use crate::load::{LoadStats, Loader};
use analysis::export::{Folder, RunPlace};
use std::path::{Path, PathBuf};
use tokio_postgres::Client;

/// A connection that loads a campaign's runs as they finish.
pub struct Live {
    client: Client,
    out: PathBuf,
    loader: Option<Loader>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("out", &self.out)
            .field("started", &self.loader.is_some())
            .finish_non_exhaustive()
    }
}

impl Live {
    /// Connects to `url` and applies the migrations (before the campaign starts, so
    /// that a wrong URL stops it at once); `out` is the campaign's results folder.
    pub async fn connect(url: &str, out: &Path) -> Result<Self, StoreError> {
        let mut client = crate::connect(url).await?;
        crate::migrate(&mut client).await?;
        Ok(Live {
            client,
            out: out.to_path_buf(),
            loader: None,
        })
    }

    /// Loads the run that just finished at `place` (complete or not).
    pub async fn run_done(&mut self, place: RunPlace) -> Result<(), StoreError> {
        let Live {
            client,
            out,
            loader,
        } = self;
        open_loader(client, out, loader)
            .await?
            .load(client, vec![place])
            .await
    }

    /// At the end of the campaign: loads what the folder holds and the database not
    /// yet, then marks the campaign complete when every run of its plan is. Returns
    /// what was loaded in all and whether the campaign is complete.
    pub async fn finish(mut self) -> Result<(LoadStats, Option<bool>), StoreError> {
        let folder = Folder::open(&self.out)?;
        let Live {
            client,
            out,
            loader,
        } = &mut self;
        let loader = open_loader(client, out, loader).await?;
        loader.load(client, folder.places().collect()).await?;
        let complete = loader.finish(client).await?;
        Ok((loader.stats.clone(), complete))
    }
}

/// The loader in `slot`, opened on the first call (campaign.json and the first run
/// folder exist once a run has finished).
async fn open_loader<'a>(
    client: &Client,
    out: &Path,
    slot: &'a mut Option<Loader>,
) -> Result<&'a mut Loader, StoreError> {
    let loader = match slot.take() {
        Some(l) => l,
        None => Loader::open(client, &Folder::open(out)?).await?,
    };
    Ok(slot.insert(loader))
}
