//! Reading a campaign back: the runs, their summaries and timelines as loaded, judged
//! by the same code as a folder ([`analysis::from_parts`]), so that the table is the
//! folder's.

use crate::error::{StoreError, sql};
use analysis::timeline::Timeline;
use analysis::{Campaign, LoadOptions, RunEntry, RunParts};
use futures_util::TryStreamExt;
use record::{RunInfo, RunSummary};
use std::collections::HashMap;
use std::path::PathBuf;
use tokio_postgres::Client;

/// The campaigns the database holds, by name.
pub async fn campaign_names(client: &Client) -> Result<Vec<String>, StoreError> {
    let rows = client
        .query("SELECT name FROM campaigns ORDER BY name", &[])
        .await
        .map_err(sql("listing campaigns"))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Reads campaign `name` and judges it as [`analysis::load`] judges its folder.
pub async fn read_campaign(
    client: &Client,
    name: &str,
    opts: &LoadOptions,
) -> Result<Campaign, StoreError> {
    let row = client
        .query_opt(
            "SELECT id, campaign::text FROM campaigns WHERE name = $1",
            &[&name],
        )
        .await
        .map_err(sql("reading the campaign"))?;
    let Some(row) = row else {
        return Err(StoreError::NoCampaign {
            name: name.to_string(),
            known: campaign_names(client).await?.join(", "),
        });
    };
    let id: i64 = row.get(0);
    let campaign: Option<serde_json::Value> = row
        .get::<_, Option<String>>(1)
        .and_then(|t| serde_json::from_str(&t).ok());
    // Byte order, as the folder reader sorts names.
    let runs = client
        .query(
            "SELECT id, application, scenario, run, complete, incomplete_reason, info::text, summary::text \
             FROM runs WHERE campaign_id = $1 \
             ORDER BY application COLLATE \"C\", scenario COLLATE \"C\", run",
            &[&id],
        )
        .await
        .map_err(sql("reading the runs"))?;
    let mut lines: HashMap<i64, String> = HashMap::new();
    let events = client
        .query_raw(
            "SELECT e.run_id, e.data::text FROM events e JOIN runs r ON r.id = e.run_id \
             WHERE r.campaign_id = $1 AND r.complete ORDER BY e.run_id, e.seq",
            &[&id],
        )
        .await
        .map_err(sql("reading the events"))?;
    futures_util::pin_mut!(events);
    while let Some(row) = events.try_next().await.map_err(sql("reading the events"))? {
        let text = lines.entry(row.get(0)).or_default();
        text.push_str(row.get::<_, &str>(1));
        text.push('\n');
    }
    let mut entries = Vec::with_capacity(runs.len());
    for r in &runs {
        let run_id: i64 = r.get(0);
        let application: String = r.get(1);
        let scenario: String = r.get(2);
        let run = r.get::<_, i32>(3).max(0) as u32;
        let dir = PathBuf::from(format!(
            "postgres:{name}/{application}/{scenario}/run-{run}"
        ));
        let summary: Option<RunSummary> = r
            .get::<_, Option<String>>(7)
            .and_then(|t| serde_json::from_str(&t).ok());
        match summary {
            Some(summary) if r.get::<_, bool>(4) => {
                let info: Option<RunInfo> = r
                    .get::<_, Option<String>>(6)
                    .and_then(|t| serde_json::from_str(&t).ok());
                let events = Timeline::parse(lines.get(&run_id).map_or("", |s| s.as_str())).events;
                entries.push(RunEntry::Complete(Box::new(RunParts {
                    dir,
                    application,
                    scenario,
                    run,
                    info,
                    summary,
                    events,
                })));
            }
            _ => {
                let why: Option<String> = r.get(5);
                entries.push(RunEntry::Skipped {
                    application,
                    scenario,
                    note: format!(
                        "{}: incomplete run ({}): skipped",
                        dir.display(),
                        why.unwrap_or_else(|| "no reason given".into())
                    ),
                });
            }
        }
    }
    Ok(analysis::from_parts(
        PathBuf::from(name),
        campaign,
        entries,
        opts,
    ))
}
