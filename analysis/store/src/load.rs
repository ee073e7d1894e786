//! Loading a results folder: runs are hashed on blocking threads, in batches, one
//! batch ahead of the writer; only runs the database does not hold with the same
//! content (SHA-256 of their three files) are parsed, judged and written, with binary
//! COPY in one transaction per batch. A changed run (an interrupted run finished
//! later) is replaced; a run without `summary.json` is loaded as incomplete. The
//! campaign's `complete` is false while it is written and, at the end, says whether
//! every run of its plan is loaded and complete.

use crate::error::{StoreError, sql};
use crate::prepare::{Prepared, RunKey, prepare_batch};
use crate::rows::RawJson;
use analysis::export::{Folder, RunPlace};
use record::Profile;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use tokio_postgres::Client;

/// Runs per transaction.
const BATCH: usize = 500;

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadStats {
    /// The campaign's name (its key in the database).
    pub campaign: String,
    /// Runs inserted (new or replaced).
    pub inserted: usize,
    /// Of which replaced (their content had changed).
    pub replaced: usize,
    /// Runs already loaded with the same content.
    pub unchanged: usize,
    /// Incomplete runs among those inserted.
    pub incomplete: usize,
    /// Events inserted.
    pub events: usize,
    /// Files or lines that could not be read (`path: reason`).
    pub problems: Vec<String>,
}

fn problem_lines(problems: &[analysis::reader::Problem]) -> impl Iterator<Item = String> + '_ {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.path.display(), p.reason))
}

/// A campaign being loaded: its id, the runs the database holds (id and content
/// hash, kept current as runs are written), its profiles and plan.
pub(crate) struct Loader {
    campaign_id: i64,
    known: Arc<HashMap<RunKey, (i64, String)>>,
    profiles: Arc<BTreeMap<String, Profile>>,
    /// campaign.json's `plan` (`app/scenario/run-k`), when it has one.
    plan: Option<Vec<String>>,
    /// What was done so far.
    pub stats: LoadStats,
}

impl Loader {
    /// Records the campaign of `folder` (as being written: `complete = false`) and
    /// reads which of its runs the database holds.
    pub async fn open(client: &Client, folder: &Folder) -> Result<Self, StoreError> {
        let mut stats = LoadStats {
            campaign: folder.name.clone(),
            ..LoadStats::default()
        };
        stats.problems.extend(problem_lines(&folder.problems));
        let campaign_text = folder.campaign.as_ref().map(|c| c.to_string());
        let row = client
            .query_one(
                "INSERT INTO campaigns (name, campaign, complete) VALUES ($1, $2, false) \
                 ON CONFLICT (name) DO UPDATE SET campaign = coalesce(EXCLUDED.campaign, campaigns.campaign), \
                 complete = false RETURNING id",
                &[&folder.name, &campaign_text.as_deref().map(RawJson)],
            )
            .await
            .map_err(sql("recording the campaign"))?;
        let campaign_id: i64 = row.get(0);
        let known = client
            .query(
                "SELECT application, scenario, run, id, content_sha256 FROM runs WHERE campaign_id = $1",
                &[&campaign_id],
            )
            .await
            .map_err(sql("reading the runs already loaded"))?
            .iter()
            .map(|r| ((r.get(0), r.get(1), r.get(2)), (r.get(3), r.get(4))))
            .collect();
        let mut problems = Vec::new();
        let profiles = analysis::reader::campaign_profiles(
            folder.campaign.as_ref(),
            &folder.root.join("campaign.json"),
            &analysis::LoadOptions::default(),
            &mut problems,
        );
        stats.problems.extend(problem_lines(&problems));
        let plan = folder
            .campaign
            .as_ref()
            .and_then(|c| c.get("plan"))
            .and_then(|p| serde_json::from_value(p.clone()).ok());
        Ok(Loader {
            campaign_id,
            known: Arc::new(known),
            profiles: Arc::new(profiles),
            plan,
            stats,
        })
    }

    /// Loads the runs at `places` (those the database holds unchanged are skipped).
    pub async fn load(
        &mut self,
        client: &mut Client,
        places: Vec<RunPlace>,
    ) -> Result<(), StoreError> {
        // Hash and prepare on blocking threads, one batch ahead of the writer.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Prepared>>(1);
        let known = Arc::clone(&self.known);
        let profiles = Arc::clone(&self.profiles);
        let reader = tokio::task::spawn_blocking(move || {
            let mut places = places.into_iter();
            loop {
                let batch: Vec<RunPlace> = places.by_ref().take(BATCH).collect();
                if batch.is_empty() {
                    break;
                }
                if tx
                    .blocking_send(prepare_batch(batch, &known, &profiles))
                    .is_err()
                {
                    break;
                }
            }
        });
        let mut written = Vec::new();
        let result = async {
            while let Some(batch) = rx.recv().await {
                written.extend(self.write(client, batch).await?);
            }
            Ok(())
        }
        .await;
        drop(rx);
        reader
            .await
            .map_err(|e| StoreError::Cluster(format!("reader thread: {e}")))?;
        let known = Arc::make_mut(&mut self.known);
        known.extend(written);
        result
    }

    /// Writes one prepared batch in a transaction; returns the runs written, by key.
    async fn write(
        &mut self,
        client: &mut Client,
        batch: Vec<Prepared>,
    ) -> Result<Vec<(RunKey, (i64, String))>, StoreError> {
        let mut todo = Vec::new();
        let mut replace = Vec::new();
        for p in batch {
            let r = match p {
                Prepared::Unchanged => {
                    self.stats.unchanged += 1;
                    continue;
                }
                Prepared::Row(r) => *r,
            };
            self.stats.problems.extend(r.problems.iter().cloned());
            let key = (
                r.raw.application.clone(),
                r.raw.scenario.clone(),
                i32::try_from(r.raw.run).unwrap_or(i32::MAX),
            );
            if let Some((id, _)) = self.known.get(&key) {
                replace.push(*id);
            }
            todo.push(r);
        }
        if todo.is_empty() {
            return Ok(Vec::new());
        }
        let t = client.transaction().await.map_err(sql("BEGIN"))?;
        if !replace.is_empty() {
            t.execute("DELETE FROM events WHERE run_id = ANY($1)", &[&replace])
                .await
                .map_err(sql("deleting replaced events"))?;
            t.execute("DELETE FROM runs WHERE id = ANY($1)", &[&replace])
                .await
                .map_err(sql("deleting replaced runs"))?;
        }
        let ids = crate::write::write_batch(&t, self.campaign_id, &todo).await?;
        t.commit().await.map_err(sql("COMMIT"))?;
        self.stats.replaced += replace.len();
        self.stats.inserted += todo.len();
        self.stats.incomplete += todo.iter().filter(|r| !r.raw.complete()).count();
        self.stats.events += todo.iter().map(|r| r.events.len()).sum::<usize>();
        Ok(todo
            .into_iter()
            .zip(ids)
            .map(|(r, id)| {
                let key = (
                    r.raw.application,
                    r.raw.scenario,
                    i32::try_from(r.raw.run).unwrap_or(i32::MAX),
                );
                (key, (id, r.sha))
            })
            .collect())
    }

    /// Marks the campaign complete when every run of its plan is loaded and complete
    /// (NULL when campaign.json has no plan); returns that.
    pub async fn finish(&self, client: &Client) -> Result<Option<bool>, StoreError> {
        let complete = match &self.plan {
            None => None,
            Some(plan) => {
                let done: HashSet<String> = client
                    .query(
                        "SELECT application, scenario, run FROM runs WHERE campaign_id = $1 AND complete",
                        &[&self.campaign_id],
                    )
                    .await
                    .map_err(sql("reading the complete runs"))?
                    .iter()
                    .map(|r| {
                        format!(
                            "{}/{}/run-{}",
                            r.get::<_, String>(0),
                            r.get::<_, String>(1),
                            r.get::<_, i32>(2)
                        )
                    })
                    .collect();
                Some(plan.iter().all(|k| done.contains(k)))
            }
        };
        client
            .execute(
                "UPDATE campaigns SET complete = $2, loaded_at = now() WHERE id = $1",
                &[&self.campaign_id, &complete],
            )
            .await
            .map_err(sql("marking the campaign"))?;
        Ok(complete)
    }
}

/// Loads the campaign folder `dir` into the database (the schema must be migrated:
/// [`crate::migrate`]).
pub async fn load_folder(client: &mut Client, dir: &Path) -> Result<LoadStats, StoreError> {
    let folder = Folder::open(dir)?;
    let mut loader = Loader::open(client, &folder).await?;
    loader.load(client, folder.places().collect()).await?;
    loader.finish(client).await?;
    Ok(loader.stats)
}
