//! Against a real PostgreSQL server (a throw-away cluster: Debian's postgresql
//! package, started in a temporary folder and stopped at the end): loading is
//! idempotent, incomplete runs are kept as such, and the campaign read back gives the
//! folder's table, in the views too.

use analysis::synth::{SynthSpec, write_campaign};
use analysis::{Format, LoadOptions, Table};
use serde_json::Value;
use std::path::Path;
use store::throwaway::Cluster;

fn campaign(dir: &Path) -> (usize, String) {
    let n = write_campaign(dir, &SynthSpec::table2(3)).unwrap();
    let sp = dir.join("dash/S2/run-2/summary.json");
    let saved = std::fs::read_to_string(&sp).unwrap();
    std::fs::remove_file(&sp).unwrap();
    let sp = dir.join("game/S1/run-3/summary.json");
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(&sp).unwrap()).unwrap();
    s["complete"] = Value::Bool(false);
    s["incomplete_reason"] = Value::from("interrupted (SIGTERM)");
    std::fs::write(&sp, serde_json::to_string(&s).unwrap()).unwrap();
    (n, saved)
}

async fn count(c: &tokio_postgres::Client, table: &str) -> i64 {
    c.query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn pg_load_is_idempotent_and_the_table_is_the_folders() {
    let cluster = Cluster::start().unwrap_or_else(|e| panic!("needs PostgreSQL: {e}"));
    let url = cluster.create_db("results").await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t2");
    let (runs, saved) = campaign(&dir);
    let mut client = store::connect(&url).await.unwrap();
    store::migrate(&mut client).await.unwrap();
    store::migrate(&mut client).await.unwrap();

    let first = store::load_folder(&mut client, &dir).await.unwrap();
    assert_eq!(first.inserted, runs);
    assert_eq!(first.incomplete, 2);
    assert!(first.events > runs * 10);
    let events = count(&client, "events").await;
    assert_eq!(events as usize, first.events);
    assert_eq!(count(&client, "runs").await as usize, runs);

    // Twice: nothing added.
    let second = store::load_folder(&mut client, &dir).await.unwrap();
    assert_eq!((second.inserted, second.unchanged), (0, runs));
    assert_eq!(count(&client, "events").await, events);
    assert_eq!(count(&client, "runs").await as usize, runs);
    assert_eq!(count(&client, "campaigns").await, 1);

    // The interrupted run without summary.json is there, incomplete.
    let row = client
        .query_one(
            "SELECT complete, incomplete_reason, summary IS NULL FROM runs WHERE application = 'dash' AND scenario = 'S2' AND run = 2",
            &[],
        )
        .await
        .unwrap();
    assert!(!row.get::<_, bool>(0));
    assert!(row.get::<_, String>(1).contains("summary.json"));
    assert!(row.get::<_, bool>(2));

    // Events carry absolute time: anchor + t_ns (microseconds in PostgreSQL).
    let row = client
        .query_one(
            "SELECT count(*) FROM events e JOIN runs r ON r.id = e.run_id \
             WHERE e.ts <> to_timestamp(0) + ((r.wall_anchor_unix_ns + e.t_ns) / 1000) * interval '1 microsecond'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 0);

    // The table from the database is the folder's, format for format.
    let folder = analysis::load(&dir, &LoadOptions::default()).unwrap();
    let from_folder = Table::from_campaign(&folder);
    let db = store::read_campaign(&client, "synthetic-table2", &LoadOptions::default())
        .await
        .unwrap();
    let from_db = Table::from_campaign(&db);
    assert_eq!(from_db, from_folder);
    for f in [Format::Md, Format::Csv, Format::Json, Format::Latex] {
        assert_eq!(f.render(&from_db), f.render(&from_folder));
    }

    // The view agrees with the table, cell by cell.
    let rows = client
        .query(
            "SELECT application, scenario, runs, clean, impaired, failed, skipped, label FROM migratability WHERE campaign = 'synthetic-table2'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), from_folder.cells.len());
    for r in rows {
        let cell = from_folder.cell(r.get(0), r.get(1)).unwrap();
        let n = |i: usize| r.get::<_, i64>(i) as usize;
        assert_eq!(
            (n(2), n(3), n(4), n(5), n(6)),
            (
                cell.runs,
                cell.clean,
                cell.impaired,
                cell.failed,
                cell.skipped
            )
        );
        assert_eq!(r.get::<_, String>(7), cell.label());
    }
    let stats = client
        .query_one(
            "SELECT n, mean_ms FROM phase_statistics WHERE campaign = 'synthetic-table2' AND application = 'dash' AND scenario = 'S1' AND phase = 'downtime'",
            &[],
        )
        .await
        .unwrap();
    let downtimes: Vec<f64> = folder
        .runs
        .iter()
        .filter(|r| r.application == "dash" && r.scenario == "S1")
        .filter_map(|r| r.summary.migration.downtime_ms)
        .collect();
    assert_eq!(stats.get::<_, i64>(0) as usize, downtimes.len());
    let mean = downtimes.iter().sum::<f64>() / downtimes.len() as f64;
    assert!((stats.get::<_, f64>(1) - mean).abs() < 1e-9);

    // The interrupted run finished later (--resume): replaced, not duplicated.
    std::fs::write(dir.join("dash/S2/run-2/summary.json"), saved).unwrap();
    let third = store::load_folder(&mut client, &dir).await.unwrap();
    assert_eq!((third.inserted, third.replaced), (1, 1));
    assert_eq!(count(&client, "runs").await as usize, runs);
    assert_eq!(count(&client, "events").await, events);
    let folder = analysis::load(&dir, &LoadOptions::default()).unwrap();
    let db = store::read_campaign(&client, "synthetic-table2", &LoadOptions::default())
        .await
        .unwrap();
    assert_eq!(Table::from_campaign(&db), Table::from_campaign(&folder));

    // A campaign the database does not hold is named with those it holds.
    let err = store::read_campaign(&client, "nope", &LoadOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("synthetic-table2"), "{err}");
    drop(client);
    drop(cluster);
}
