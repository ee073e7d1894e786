//! `qoeprobe run FILE --postgres URL`: the campaign's runs written into PostgreSQL as
//! they finish (docs/postgres.md, "While a campaign runs"). The runner's observer
//! ([`Follower::observer`]) only hands each finished run over a channel, so a slow
//! database never holds the campaign up; [`Follower::alongside`] loads them. The
//! results folder stays the source of truth: when the database fails mid-campaign,
//! one warning, and the campaign goes on; `qoeprobe export DIR --postgres URL` fills
//! the gap later.

use analysis::export::RunPlace;
use campaign::runner::RunObserver;
use campaign::scenario::RunId;
use record::{RunInfo, RunSummary};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// What the follower hears, in order.
#[derive(Debug)]
enum Note {
    /// A run's folder is final (its `summary.json` is written).
    Finished(RunPlace),
    /// The runner returned: nothing more comes (an observer may outlive the campaign
    /// in a probe's leftover event sink, so the channel's closing is not waited for).
    CampaignOver,
}

/// Follows a campaign into the database: [`Follower::observer`] goes into the
/// runner's options, [`Follower::alongside`] runs the campaign with it.
#[derive(Debug)]
pub struct Follower {
    live: store::Live,
    tx: UnboundedSender<Note>,
    rx: UnboundedReceiver<Note>,
    url: String,
    out: PathBuf,
}

/// The runner's observer of `--postgres`: passes each finished run on, never waits.
struct RunLoads {
    tx: UnboundedSender<Note>,
    out: PathBuf,
}

impl RunObserver for RunLoads {
    fn run_finished(&self, info: &RunInfo, _summary: &RunSummary) {
        let id = RunId {
            application: info.application.clone(),
            scenario: info.scenario.clone(),
            run: info.run,
        };
        let dir = self.out.join(id.rel_dir());
        // Closed only when the follower is gone (the campaign is over).
        let _ = self.tx.send(Note::Finished(RunPlace {
            application: id.application,
            scenario: id.scenario,
            run: id.run,
            dir,
        }));
    }
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
/// before it starts); `out` is the campaign's results folder.
pub async fn follow(url: &str, out: &Path) -> anyhow::Result<Follower> {
    let live = store::Live::connect(url, out).await?;
    tracing::info!(url = %store::redact(url), "writing the campaign into PostgreSQL as it runs");
    let (tx, rx) = unbounded_channel();
    Ok(Follower {
        live,
        tx,
        rx,
        url: url.to_string(),
        out: out.to_path_buf(),
    })
}

impl Follower {
    /// The runner's observer that tells this follower each finished run.
    pub fn observer(&self) -> Arc<dyn RunObserver> {
        Arc::new(RunLoads {
            tx: self.tx.clone(),
            out: self.out.clone(),
        })
    }

    /// Runs `campaign` (whose runner holds [`Follower::observer`]) and, in the same
    /// task, loads each run it reports; after it, loads what the folder holds and the
    /// database not yet, and marks the campaign complete or not.
    pub async fn alongside<T>(self, campaign: impl Future<Output = T>, quiet: bool) -> T {
        let Follower {
            live,
            tx,
            mut rx,
            url,
            out,
        } = self;
        let campaign = async move {
            let result = campaign.await;
            let _ = tx.send(Note::CampaignOver);
            result
        };
        let follow = async {
            let mut live = Some(live);
            while let Some(Note::Finished(place)) = rx.recv().await {
                let Some(l) = live.as_mut() else { continue };
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
