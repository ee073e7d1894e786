//! The PostgreSQL export benchmark (docs/performance.md): loads a results folder
//! into a throw-away cluster, twice (the second load finds everything loaded), and
//! reads it back for the table.
//!
//! ```text
//! cargo run --release -p analysis --example synth -- /tmp/net network 20 100 100
//! cargo run --release -p store --example load_bench -- /tmp/net
//! ```

use std::time::Instant;
use store::throwaway::Cluster;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: load_bench RESULTS_DIR")?;
    let cluster = Cluster::start()?;
    let url = cluster.create_db("bench").await?;
    let mut client = store::connect(&url).await?;
    store::migrate(&mut client).await?;
    let t = Instant::now();
    let s = store::load_folder(&mut client, dir.as_ref()).await?;
    let first = t.elapsed().as_secs_f64();
    println!(
        "load: {} runs ({} incomplete), {} events in {first:.2} s ({:.0} events/s)",
        s.inserted,
        s.incomplete,
        s.events,
        s.events as f64 / first
    );
    let t = Instant::now();
    let s = store::load_folder(&mut client, dir.as_ref()).await?;
    println!(
        "reload: {} unchanged, {} inserted in {:.2} s",
        s.unchanged,
        s.inserted,
        t.elapsed().as_secs_f64()
    );
    let name = s.campaign.clone();
    let t = Instant::now();
    let c = store::read_campaign(&client, &name, &analysis::LoadOptions::default()).await?;
    let table = analysis::Table::from_campaign(&c);
    println!(
        "table from PostgreSQL: {} cells from {} runs in {:.2} s",
        table.cells.len(),
        c.runs.len(),
        t.elapsed().as_secs_f64()
    );
    let size: i64 = client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .await?
        .get(0);
    println!("database size: {} MB", size / 1_000_000);
    Ok(())
}
