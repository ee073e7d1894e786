//! `qoeprobe run FILE --postgres URL`: the campaign's runs written into PostgreSQL as
//! they finish (docs/postgres.md, "While a campaign runs"). The results folder stays
//! the source of truth: when the database fails mid-campaign, one warning, and the
//! campaign goes on; `qoeprobe export DIR --postgres URL` fills the gap later.

use analysis::export::RunPlace;
use campaign::runner::RunRecord;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// Follows a campaign into the database: the sender from [`follow`] goes into the
/// runner's options, [`Follower::alongside`] runs the campaign with it.
#[derive(Debug)]
pub struct Follower {
    live: store::Live,
    rx: UnboundedReceiver<RunRecord>,
    url: String,
    out: PathBuf,
}

/// The warning for a database that failed: said once, with what to do.
fn warn(url: &str, out: &Path, e: &store::StoreError) {
    eprintln!(
        "warning: PostgreSQL ({}): {e}; the campaign goes on without it (the results folder keeps every run): load it later with `qoeprobe export {} --postgres URL`",
        store::redact(url),
        out.display()
    );
}

/// Connects to `url` and applies the migrations (an error here stops the campaign
/// before it starts).
pub async fn follow(
    url: &str,
    out: &Path,
) -> anyhow::Result<(UnboundedSender<RunRecord>, Follower)> {
    let live = store::Live::connect(url, out).await?;
    tracing::info!(url = %store::redact(url), "writing the campaign into PostgreSQL as it runs");
    let (tx, rx) = unbounded_channel::<RunRecord>();
    Ok((
        tx,
        Follower {
            live,
            rx,
            url: url.to_string(),
            out: out.to_path_buf(),
        },
    ))
}

impl Follower {
    /// Runs `campaign` (whose runner holds the sender) and, in the same task, loads
    /// each run it reports; after it, loads what the folder holds and the database
    /// not yet, and marks the campaign complete or not.
    pub async fn alongside<T>(self, campaign: impl Future<Output = T>, quiet: bool) -> T {
        let Follower {
            live,
            mut rx,
            url,
            out,
        } = self;
        let follow = async {
            let mut live = Some(live);
            while let Some(rec) = rx.recv().await {
                let Some(l) = live.as_mut() else { continue };
                let place = RunPlace {
                    application: rec.id.application,
                    scenario: rec.id.scenario,
                    run: rec.id.run,
                    dir: rec.dir,
                };
                let what = format!("{}/{}/run-{}", place.application, place.scenario, place.run);
                match l.run_done(place).await {
                    Ok(()) => tracing::info!(run = %what, "run loaded into PostgreSQL"),
                    Err(e) => {
                        warn(&url, &out, &e);
                        live = None;
                    }
                }
            }
            live
        };
        let (result, live) = tokio::join!(campaign, follow);
        let Some(live) = live else {
            return result; // warned already
        };
        match live.finish().await {
            Ok((s, complete)) => {
                if !quiet {
                    eprintln!(
                        "PostgreSQL ({}): campaign `{}`: {} run(s) loaded ({} incomplete), {} event(s); campaign {}",
                        store::redact(&url),
                        s.campaign,
                        s.inserted,
                        s.incomplete,
                        s.events,
                        match complete {
                            Some(true) => "complete",
                            Some(false) => "incomplete",
                            None => "without a plan",
                        }
                    );
                }
                super::table::print_warnings(&s.problems);
            }
            Err(e) => warn(&url, &out, &e),
        }
        result
    }
}
