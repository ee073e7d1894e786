//! Writing prepared runs: one binary COPY per table, in the caller's transaction.

use crate::error::{StoreError, sql};
use crate::prepare::RunRow;
use crate::rows::{RawJson, big, wall};
use futures_util::pin_mut;
use std::time::SystemTime;
use tokio_postgres::Transaction;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

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

/// Writes `runs` of campaign `campaign_id`; returns their new ids, in order.
pub(crate) async fn write_batch(
    t: &Transaction<'_>,
    campaign_id: i64,
    runs: &[RunRow],
) -> Result<Vec<i64>, StoreError> {
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
    .await?;
    Ok(ids)
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
