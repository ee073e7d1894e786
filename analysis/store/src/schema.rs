//! The schema's migrations, kept in `migrations/` and applied in order; the versions
//! applied are recorded in the table `qoeprobe_schema`.

use crate::error::{StoreError, sql};
use tokio_postgres::Client;

/// The migrations: (version, SQL), in order.
pub const MIGRATIONS: [(i32, &str); 2] = [
    (1, include_str!("../migrations/0001_results.sql")),
    (2, include_str!("../migrations/0002_campaign_complete.sql")),
];

/// Applies the migrations the database does not have yet, each in a transaction,
/// under an advisory lock (two loaders starting at once do not race).
pub async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS qoeprobe_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .map_err(sql("creating qoeprobe_schema"))?;
    let tx = client.transaction().await.map_err(sql("BEGIN"))?;
    tx.execute("SELECT pg_advisory_xact_lock(72616)", &[])
        .await
        .map_err(sql("locking the schema"))?;
    let row = tx
        .query_one("SELECT coalesce(max(version), 0) FROM qoeprobe_schema", &[])
        .await
        .map_err(sql("reading the schema version"))?;
    let current: i32 = row.get(0);
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    if current > known {
        return Err(StoreError::NewerSchema {
            found: current,
            known,
        });
    }
    for (version, text) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        tx.batch_execute(text)
            .await
            .map_err(sql(format!("applying migration {version}")))?;
        tx.execute(
            "INSERT INTO qoeprobe_schema (version) VALUES ($1)",
            &[version],
        )
        .await
        .map_err(sql("recording the migration"))?;
    }
    tx.commit().await.map_err(sql("COMMIT"))?;
    Ok(())
}
