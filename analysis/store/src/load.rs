//! Loading a results folder: runs are read and judged on a blocking thread, in
//! batches, while the previous batch is written with binary COPY in one transaction
//! per batch. A run already in the database with the same content (SHA-256 of its
//! three files) is skipped; one whose content changed (an interrupted run finished
//! later) is replaced; a run without `summary.json` is loaded as incomplete.

use crate::error::{StoreError, sql};
use crate::rows::{RawJson, big, wall};
use analysis::export::{Folder, RawRun};
use analysis::reader::Problem;
use analysis::timeline::Timeline;
use futures_util::pin_mut;
use record::Profile;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::SystemTime;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Transaction};

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

/// One event line.
struct EventRow {
    seq: i32,
    t_ns: u64,
    source: String,
    kind: String,
    line: String,
}

#[derive(serde::Deserialize)]
struct Head {
    t_ns: u64,
    source: String,
    kind: String,
}

/// One run, read and judged, ready to write.
struct RunRow {
    raw: RawRun,
    sha: String,
    info_text: Option<String>,
    summary_text: Option<String>,
    events: Vec<EventRow>,
    verdict: Option<analysis::RunOutcome>,
    kind: Option<record::AppKind>,
    problems: Vec<String>,
}

fn read_text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn prepare(raw: RawRun, profiles: &BTreeMap<String, Profile>) -> RunRow {
    let mut problems: Vec<String> = raw
        .problems
        .iter()
        .map(|p| format!("{}: {}", p.path.display(), p.reason))
        .collect();
    let info_text = raw
        .info
        .as_ref()
        .and_then(|_| read_text(&raw.dir.join("run.json")));
    let summary_text = raw
        .summary
        .as_ref()
        .and_then(|_| read_text(&raw.dir.join("summary.json")));
    let timeline = read_text(&raw.timeline_path()).unwrap_or_default();
    let mut h = Sha256::new();
    for part in [&info_text, &summary_text] {
        h.update(part.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
    }
    h.update(timeline.as_bytes());
    let sha: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let mut events = Vec::new();
    let mut bad = 0usize;
    for (i, line) in timeline.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Head>(line) {
            Ok(head) => events.push(EventRow {
                seq: i32::try_from(i + 1).unwrap_or(i32::MAX),
                t_ns: head.t_ns,
                source: head.source,
                kind: head.kind,
                line: line.to_string(),
            }),
            Err(_) => bad += 1,
        }
    }
    if bad > 0 {
        problems.push(format!(
            "{}: {bad} line(s) that are not events left out",
            raw.timeline_path().display()
        ));
    }
    let (verdict, kind) = match &raw.summary {
        Some(s) if s.complete => {
            let profile = profiles.get(&raw.application).cloned().unwrap_or_default();
            let typed = Timeline::parse(&timeline).events;
            (
                Some(analysis::judge(s, &typed, &profile)),
                analysis::judge::application_kind(s, &profile),
            )
        }
        _ => (None, None),
    };
    RunRow {
        raw,
        sha,
        info_text,
        summary_text,
        events,
        verdict,
        kind,
        problems,
    }
}

/// Reads, hashes and judges a batch of runs on all cores.
fn prepare_batch(batch: Vec<RawRun>, profiles: &BTreeMap<String, Profile>) -> Vec<RunRow> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let chunk = batch.len().div_ceil(threads).max(1);
    let mut batch = batch;
    let mut parts = Vec::new();
    while !batch.is_empty() {
        let rest = batch.split_off(chunk.min(batch.len()));
        parts.push(std::mem::replace(&mut batch, rest));
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|p| {
                s.spawn(move || {
                    p.into_iter()
                        .map(|r| prepare(r, profiles))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Loads the campaign folder `dir` into the database (the schema must be migrated:
/// [`crate::migrate`]).
pub async fn load_folder(client: &mut Client, dir: &Path) -> Result<LoadStats, StoreError> {
    let folder = Folder::open(dir)?;
    let mut stats = LoadStats {
        campaign: folder.name.clone(),
        ..LoadStats::default()
    };
    stats.problems.extend(
        folder
            .problems
            .iter()
            .map(|p: &Problem| format!("{}: {}", p.path.display(), p.reason)),
    );
    let campaign_text = folder.campaign.as_ref().map(|c| c.to_string());
    let row = client
        .query_one(
            "INSERT INTO campaigns (name, campaign) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET campaign = coalesce(EXCLUDED.campaign, campaigns.campaign) \
             RETURNING id",
            &[&folder.name, &campaign_text.as_deref().map(RawJson)],
        )
        .await
        .map_err(sql("recording the campaign"))?;
    let campaign_id: i64 = row.get(0);
    let existing: HashMap<(String, String, i32), (i64, String)> = client
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
    stats.problems.extend(
        problems
            .iter()
            .map(|p| format!("{}: {}", p.path.display(), p.reason)),
    );
    // Read on a blocking thread, one batch ahead of the writer.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<RunRow>>(1);
    let reader = tokio::task::spawn_blocking(move || {
        let mut runs = folder.runs();
        loop {
            let batch: Vec<RawRun> = runs.by_ref().take(BATCH).collect();
            if batch.is_empty() {
                break;
            }
            if tx.blocking_send(prepare_batch(batch, &profiles)).is_err() {
                break;
            }
        }
    });
    while let Some(batch) = rx.recv().await {
        let mut todo = Vec::new();
        let mut replace = Vec::new();
        for r in batch {
            stats.problems.extend(r.problems.iter().cloned());
            let key = (
                r.raw.application.clone(),
                r.raw.scenario.clone(),
                r.raw.run as i32,
            );
            match existing.get(&key) {
                Some((_, sha)) if *sha == r.sha => stats.unchanged += 1,
                Some((id, _)) => {
                    replace.push(*id);
                    todo.push(r);
                }
                None => todo.push(r),
            }
        }
        if todo.is_empty() {
            continue;
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
        write_batch(&t, campaign_id, &todo).await?;
        t.commit().await.map_err(sql("COMMIT"))?;
        stats.replaced += replace.len();
        stats.inserted += todo.len();
        stats.incomplete += todo.iter().filter(|r| !r.raw.complete()).count();
        stats.events += todo.iter().map(|r| r.events.len()).sum::<usize>();
    }
    reader
        .await
        .map_err(|e| StoreError::Cluster(format!("reader thread: {e}")))?;
    Ok(stats)
}

async fn copy_in(
    t: &Transaction<'_>,
    what: &str,
    statement: &str,
    types: &[Type],
    rows: impl IntoIterator<Item = Vec<Box<dyn ToSql + Sync + Send + '_>>>,
) -> Result<(), StoreError> {
    let sink = t
        .copy_in(statement)
        .await
        .map_err(sql(format!("COPY {what}")))?;
    let writer = BinaryCopyInWriter::new(sink, types);
    pin_mut!(writer);
    for row in rows {
        let refs: Vec<&(dyn ToSql + Sync)> = row
            .iter()
            .map(|b| b.as_ref() as &(dyn ToSql + Sync))
            .collect();
        writer
            .as_mut()
            .write(&refs)
            .await
            .map_err(sql(format!("COPY {what}")))?;
    }
    writer.finish().await.map_err(sql(format!("COPY {what}")))?;
    Ok(())
}

type Row<'a> = Vec<Box<dyn ToSql + Sync + Send + 'a>>;

async fn write_batch(
    t: &Transaction<'_>,
    campaign_id: i64,
    runs: &[RunRow],
) -> Result<(), StoreError> {
    let ids: Vec<i64> = t
        .query(
            "SELECT nextval(pg_get_serial_sequence('runs', 'id')) FROM generate_series(1, $1)",
            &[&(runs.len() as i32)],
        )
        .await
        .map_err(sql("allocating run ids"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let run_rows = runs.iter().zip(&ids).map(|(r, id)| -> Row<'_> {
        let info = r.raw.info.as_ref();
        let cond = info.map(|i| i.conditions);
        let anchor = r.raw.wall_anchor_unix_ns();
        vec![
            Box::new(*id),
            Box::new(campaign_id),
            Box::new(r.raw.application.as_str()),
            Box::new(r.raw.scenario.as_str()),
            Box::new(r.raw.run as i32),
            Box::new(r.raw.complete()),
            Box::new(r.raw.incomplete_reason()),
            Box::new(r.sha.as_str()),
            Box::new(info.map(|i| i.driver.as_str())),
            Box::new(info.and_then(|i| name_of(&i.mode))),
            Box::new(info.and_then(|i| name_of(&i.copy))),
            Box::new(info.map(|i| i.flavor.as_str())),
            Box::new(cond.and_then(|c| c.client.rate_mbit)),
            Box::new(cond.and_then(|c| c.client.delay_ms)),
            Box::new(cond.and_then(|c| c.client.loss_pct)),
            Box::new(cond.and_then(|c| c.migration.rate_mbit)),
            Box::new(cond.and_then(|c| c.migration.delay_ms)),
            Box::new(cond.and_then(|c| c.migration.loss_pct)),
            Box::new(anchor.map(|a| wall(a, 0))),
            Box::new(anchor.map(big)),
            Box::new(r.info_text.as_deref().map(RawJson)),
            Box::new(r.summary_text.as_deref().map(RawJson)),
        ]
    });
    use Type as T;
    copy_in(
        t,
        "runs",
        "COPY runs (id, campaign_id, application, scenario, run, complete, incomplete_reason, content_sha256, \
         driver, mode, copy, flavor, client_rate_mbit, client_delay_ms, client_loss_pct, \
         migration_rate_mbit, migration_delay_ms, migration_loss_pct, started_at, wall_anchor_unix_ns, info, summary) \
         FROM STDIN BINARY",
        &[
            T::INT8, T::INT8, T::TEXT, T::TEXT, T::INT4, T::BOOL, T::TEXT, T::TEXT, T::TEXT, T::TEXT, T::TEXT,
            T::TEXT, T::FLOAT8, T::FLOAT8, T::FLOAT8, T::FLOAT8, T::FLOAT8, T::FLOAT8, T::TIMESTAMPTZ, T::INT8,
            T::JSONB, T::JSONB,
        ],
        run_rows,
    )
    .await?;
    let at =
        |anchor: Option<u64>, ns: Option<u64>| -> Option<SystemTime> { Some(wall(anchor?, ns?)) };
    let migration_rows = runs
        .iter()
        .zip(&ids)
        .filter_map(|(r, id)| -> Option<Row<'_>> {
            let m = &r.raw.summary.as_ref()?.migration;
            let a = r.raw.wall_anchor_unix_ns();
            Some(vec![
                Box::new(*id),
                Box::new(m.driver.as_str()),
                Box::new(name_of(&m.outcome).unwrap_or_default()),
                Box::new(m.detail.as_deref()),
                Box::new(at(a, m.requested_ns)),
                Box::new(at(a, m.paused_ns)),
                Box::new(at(a, m.resumed_ns)),
                Box::new(at(a, m.reattached_ns)),
                Box::new(m.preoperation_ms),
                Box::new(m.downtime_ms),
                Box::new(m.postoperation_ms),
                Box::new(m.total_ms),
                Box::new(big(m.passes)),
                Box::new(m.transferred_bytes.map(big)),
                Box::new(m.remaining_bytes.map(big)),
                Box::new(m.platform_downtime_ms),
            ])
        });
    copy_in(
        t,
        "migrations",
        "COPY migrations (run_id, driver, outcome, detail, requested_at, paused_at, resumed_at, reattached_at, \
         preoperation_ms, downtime_ms, postoperation_ms, total_ms, passes, transferred_bytes, remaining_bytes, \
         platform_downtime_ms) FROM STDIN BINARY",
        &[
            T::INT8, T::TEXT, T::TEXT, T::TEXT, T::TIMESTAMPTZ, T::TIMESTAMPTZ, T::TIMESTAMPTZ, T::TIMESTAMPTZ,
            T::FLOAT8, T::FLOAT8, T::FLOAT8, T::FLOAT8, T::INT8, T::INT8, T::INT8, T::FLOAT8,
        ],
        migration_rows,
    )
    .await?;
    let mut probe_rows: Vec<Row<'_>> = Vec::new();
    for (r, id) in runs.iter().zip(&ids) {
        let Some(s) = &r.raw.summary else { continue };
        for (name, p) in &s.probes {
            let text = serde_json::to_string(p).unwrap_or_else(|_| "{}".into());
            probe_rows.push(vec![
                Box::new(*id),
                Box::new(name.as_str()),
                Box::new(p.kind_name().to_string()),
                Box::new(p.error().map(String::from)),
                Box::new(JsonText(text)),
            ]);
        }
    }
    copy_in(
        t,
        "probe_summaries",
        "COPY probe_summaries (run_id, name, probe, error, summary) FROM STDIN BINARY",
        &[T::INT8, T::TEXT, T::TEXT, T::TEXT, T::JSONB],
        probe_rows,
    )
    .await?;
    let verdict_rows = runs
        .iter()
        .zip(&ids)
        .filter_map(|(r, id)| -> Option<Row<'_>> {
            let v = r.verdict.as_ref()?;
            let outcome = match v.outcome {
                analysis::Outcome::Clean => "clean",
                analysis::Outcome::Impaired => "impaired",
                analysis::Outcome::Failed => "failed",
            };
            let reasons: Vec<serde_json::Value> = v
                .reasons
                .iter()
                .map(|x| serde_json::json!({"key": x.key, "detail": x.detail}))
                .collect();
            Some(vec![
                Box::new(*id),
                Box::new(outcome),
                Box::new(r.kind.as_ref().and_then(name_of)),
                Box::new(serde_json::Value::from(reasons)),
                Box::new(serde_json::Value::from(v.notes.clone())),
            ])
        });
    copy_in(
        t,
        "verdicts",
        "COPY verdicts (run_id, outcome, kind, reasons, notes) FROM STDIN BINARY",
        &[T::INT8, T::TEXT, T::TEXT, T::JSONB, T::JSONB],
        verdict_rows,
    )
    .await?;
    let event_rows = runs.iter().zip(&ids).flat_map(|(r, id)| {
        let anchor = r.raw.wall_anchor_unix_ns().unwrap_or(0);
        r.events.iter().map(move |e| -> Row<'_> {
            vec![
                Box::new(*id),
                Box::new(e.seq),
                Box::new(big(e.t_ns)),
                Box::new(wall(anchor, e.t_ns)),
                Box::new(e.source.as_str()),
                Box::new(e.kind.as_str()),
                Box::new(RawJson(&e.line)),
            ]
        })
    });
    copy_in(
        t,
        "events",
        "COPY events (run_id, seq, t_ns, ts, source, kind, data) FROM STDIN BINARY",
        &[
            T::INT8,
            T::INT4,
            T::INT8,
            T::TIMESTAMPTZ,
            T::TEXT,
            T::TEXT,
            T::JSONB,
        ],
        event_rows,
    )
    .await
}

/// The serde name of an enum value (`live`, `completed`, ...).
fn name_of<T: serde::Serialize>(v: &T) -> Option<String> {
    serde_json::to_value(v).ok()?.as_str().map(String::from)
}

/// Owned JSON text, sent as `jsonb`.
#[derive(Debug)]
struct JsonText(String);

impl ToSql for JsonText {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        RawJson(&self.0).to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <RawJson<'_> as ToSql>::accepts(ty)
    }

    tokio_postgres::types::to_sql_checked!();
}
