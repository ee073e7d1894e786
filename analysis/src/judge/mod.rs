//! The outcome of one run (docs/architecture.md, "Outcomes and verdicts"; the limits
//! in docs/verdicts.md): **failed** when the migration did not complete or the
//! service was lost for good; **impaired** when an impairment in the migration window
//! exceeded the application's profile; **clean** otherwise. Every non-clean outcome
//! carries human-readable reasons.
//!
//! One module per probe kind holds its rules, over that probe's typed summary and
//! events; this module dispatches on the kind. A probe that could not run has no
//! summary: its rules then judge its events alone. Pure functions: no I/O.

mod download;
mod game;
mod unplayable;
mod video;
pub mod window;

use crate::profile::limits;
use record::{AppKind, Profile};
use record::{
    Event, EventKind, MigrationOutcome, ProbeKind, ProbeResult, ProbeSummary, RunSummary,
};
use serde::{Deserialize, Serialize};
pub use window::Window;

/// The rebuffering events of one video probe's events (`stall_start` /
/// `stall_end`, `stream_stall_start` / `stream_stall_end`), for plots.
pub(crate) use video::stalls as video_stalls;

/// The three outcomes of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// No impairment beyond the profile.
    Clean,
    /// The migration completed and the service recovered, but an impairment exceeded
    /// the profile.
    Impaired,
    /// The migration did not complete, or the service was lost for good.
    Failed,
}

/// Why a run is not clean: `key` is the rule that fired (the same text for every run
/// it fires in, so cells can count them), `detail` the numbers of this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The rule, e.g. `rebuffering in the migration window`.
    pub key: String,
    /// This run's evidence, e.g. `1 stall (2300 ms) ...`.
    pub detail: String,
}

impl Reason {
    /// A reason.
    pub fn new(key: impl Into<String>, detail: impl Into<String>) -> Self {
        Reason {
            key: key.into(),
            detail: detail.into(),
        }
    }
}

/// The judgement of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// Clean, impaired or failed.
    pub outcome: Outcome,
    /// Why failed (when failed) or impaired.
    pub reasons: Vec<Reason>,
    /// Remarks that do not change the outcome (a check skipped, a fallback used).
    pub notes: Vec<String>,
}

/// What the per-probe rules add to.
#[derive(Default)]
pub(crate) struct Findings {
    pub failed: Vec<Reason>,
    pub impaired: Vec<Reason>,
    pub notes: Vec<String>,
}

/// The kind of application a probe measures, before any profile override.
pub fn detect_kind(probe: &ProbeResult) -> Option<AppKind> {
    Some(match probe.kind()? {
        ProbeKind::Player => AppKind::BufferedVideo,
        ProbeKind::Stream => {
            let cache = match probe.summary() {
                Some(ProbeSummary::Stream(s)) => s.cache_ms,
                _ => 0.0,
            };
            if cache > 0.0 {
                AppKind::BufferedVideo
            } else {
                AppKind::LiveStream
            }
        }
        ProbeKind::Download => AppKind::Download,
        ProbeKind::Game => AppKind::Game,
    })
}

/// The application kind of a run: the kind of its first probe with a known kind,
/// in the order video, stream, game, download.
pub fn application_kind(summary: &RunSummary, profile: &Profile) -> Option<AppKind> {
    if profile.kind.is_some() {
        return profile.kind;
    }
    let kinds: Vec<AppKind> = summary.probes.values().filter_map(detect_kind).collect();
    [
        AppKind::BufferedVideo,
        AppKind::LiveStream,
        AppKind::Game,
        AppKind::Download,
    ]
    .into_iter()
    .find(|k| kinds.contains(k))
}

/// Judges one run from its summary and timeline by `profile`.
pub fn judge(summary: &RunSummary, events: &[Event], profile: &Profile) -> RunOutcome {
    let mut f = Findings::default();
    let m = &summary.migration;
    let detail = m
        .detail
        .as_deref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    match m.outcome {
        MigrationOutcome::Completed => {}
        MigrationOutcome::Cancelled => f.failed.push(Reason::new(
            "migration never ended (cancelled at its time limit)",
            format!(
                "cancelled after {}{detail}",
                fmt_ms_opt(m.total_ms.or(m.preoperation_ms))
            ),
        )),
        MigrationOutcome::Failed => f
            .failed
            .push(Reason::new("migration failed", format!("failed{detail}"))),
    }
    if m.outcome == MigrationOutcome::Completed
        && m.reattached_ns.is_none()
        && !events
            .iter()
            .any(|e| matches!(e.kind, EventKind::NetworkReattached(_)))
    {
        f.failed.push(Reason::new(
            "service not reachable again after resume",
            "no network reattachment was seen after the VM resumed",
        ));
    }
    if summary.probes.is_empty() {
        f.notes
            .push("no probe summaries: only the migration was judged".into());
    }
    for (name, probe) in &summary.probes {
        let (Some(kind), Some(detected)) = (probe.kind(), detect_kind(probe)) else {
            let kind = probe.kind_name();
            f.notes.push(format!(
                "probe `{name}` of kind `{kind}`: no rules for this kind (or a summary this version cannot read), its impairments were not judged"
            ));
            continue;
        };
        let limits = limits(profile, detected);
        let window = Window::of(summary, events, limits.cooldown_ms);
        if window.is_none() {
            f.notes.push(format!(
                "probe `{name}`: no migration request seen, impairments judged over the whole run"
            ));
        }
        let own: Vec<&Event> = events
            .iter()
            .filter(|e| e.probe() == Some(name.as_str()))
            .collect();
        let ctx = ProbeCtx {
            name,
            kind,
            summary: probe.summary(),
            error: probe.error(),
            events: &own,
            window,
            limits: &limits,
        };
        match kind {
            ProbeKind::Player | ProbeKind::Stream => video::judge(&ctx, &mut f),
            ProbeKind::Game => game::judge(&ctx, &mut f),
            ProbeKind::Download => download::judge(&ctx, &mut f),
        }
    }
    let outcome = if !f.failed.is_empty() {
        Outcome::Failed
    } else if !f.impaired.is_empty() {
        Outcome::Impaired
    } else {
        Outcome::Clean
    };
    let reasons = match outcome {
        Outcome::Failed => f.failed,
        _ => f.impaired,
    };
    RunOutcome {
        outcome,
        reasons,
        notes: f.notes,
    }
}

/// Everything a per-probe rule needs.
pub(crate) struct ProbeCtx<'a> {
    pub name: &'a str,
    pub kind: ProbeKind,
    /// The probe's summary (`None`: it could not run).
    pub summary: Option<&'a ProbeSummary>,
    /// The error it ended on, or why it could not run.
    pub error: Option<&'a str>,
    pub events: &'a [&'a Event],
    pub window: Option<Window>,
    pub limits: &'a crate::profile::Limits,
}

impl ProbeCtx<'_> {
    /// Whether `t_ns` is in the window (the whole run when there is none).
    pub fn in_window(&self, t_ns: u64) -> bool {
        self.window.is_none_or(|w| w.contains(t_ns))
    }
    /// Whether `t_ns` is in the baseline (nothing when there is no window).
    pub fn in_baseline(&self, t_ns: u64) -> bool {
        self.window.is_some_and(|w| w.in_baseline(t_ns))
    }
}

/// `1234 ms` or `unknown time`.
pub(crate) fn fmt_ms_opt(ms: Option<f64>) -> String {
    ms.map(|v| format!("{v:.0} ms"))
        .unwrap_or_else(|| "unknown time".into())
}
