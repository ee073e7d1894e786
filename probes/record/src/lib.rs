//! The record: the one data contract between the probes, the drivers, the runner
//! and the analysis (docs/architecture.md, "The record").
//!
//! Every line of a run's `timeline.jsonl` is an [`Event`]: `t_ns` (nanoseconds on the
//! run's monotonic [`clock`] since its start), `source` (`"probe:<name>"`,
//! `"migration"`, `"net"` or `"runner"`), `kind`, and the fields of that kind. Each
//! probe's summary is a pure function of its events (computed in the `probes` crate)
//! and is one variant of [`ProbeSummary`]; a run folder's `run.json` is a [`RunInfo`]
//! and its `summary.json` a [`RunSummary`], whose migration phases
//! ([`MigrationSummary::of_events`]) are defined here once. The schema is versioned by
//! [`SCHEMA_VERSION`], documented in `docs/record-schema.md` and `docs/results.md`, and
//! published as JSON Schema in `docs/record-schema.json` ([`schema`]: generated from
//! these types; a test keeps the two equal and validates real output against it).
//!
//! Adding a kind or an optional field is backwards compatible; renaming or removing
//! one bumps [`SCHEMA_VERSION`].
//!
//! This crate depends on serde and schemars only: it does no I/O.

mod capture;
pub mod clock;
mod download;
mod game;
mod migration;
mod output;
mod phases;
mod player;
mod probe;
mod profile;
mod run;
pub mod schema;
pub mod seed;
mod shift;
mod source;
mod stream;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub use capture::PacketCapture;
pub use download::{
    DownloadAttempt, DownloadEnd, DownloadError, DownloadOutcome, DownloadProgress,
    DownloadResponse, DownloadStallEnd, DownloadStallStart, DownloadSummary,
};
pub use game::{
    GameCommand, GameEnd, GameFreeze, GameIgnored, GameSession, GameSessionLost, GameSnapshot,
    GameSummary,
};
pub use migration::{
    Copy, LinkCondition, MemoryCheck, MigrationEnd, MigrationOutcome, MigrationPass,
    MigrationPaused, MigrationRequested, MigrationResumed, Mode, NetCondition, NetworkReattached,
    ParseError, PlatformEvent, Reachability, RunnerPhase,
};
pub use output::ProbeOutput;
pub use phases::MigrationSummary;
pub use player::{
    Connection, EndReason, Ended, GaveUp, ManifestLoaded, ManifestRefresh, MediaType,
    PlayerSummary, Reconnect, RepresentationInfo, RequestError, RequestRecord, RequestType, Retry,
    SessionStart, StallEnd, StallStart, Startup, Switch,
};
pub use probe::{FailedProbe, MeasuredProbe, ProbeKind, ProbeResult, ProbeSummary, UnknownProbe};
pub use profile::{AppKind, Profile};
pub use run::{
    AnswerClock, ProberScheduling, ReachMethod, ReachProbe, ReachabilitySummary, RunConditions,
    RunInfo, RunSummary,
};
pub use source::Source;
pub use stream::{
    DisconnectCause, StreamDisconnect, StreamEnd, StreamEndReason, StreamPlaying, StreamReconnect,
    StreamSample, StreamStallEnd, StreamStallStart, StreamStart, StreamSummary,
};

/// Version of the record schema; written into every output file.
pub const SCHEMA_VERSION: u32 = 1;

/// One timestamped thing that happened during a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    /// Nanoseconds since the run's start on the monotonic clock.
    pub t_ns: u64,
    /// Who saw it: `probe:<name>`, `migration`, `net` or `runner`.
    pub source: Source,
    /// What happened, with its fields.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// An event at offset `t` from `source`.
    pub fn new(t: Duration, source: impl Into<Source>, kind: EventKind) -> Self {
        Self {
            t_ns: crate::clock::duration_ns(t),
            source: source.into(),
            kind,
        }
    }

    /// The event's time as a `Duration` since the run's start.
    pub fn t(&self) -> Duration {
        Duration::from_nanos(self.t_ns)
    }

    /// The probe name of a `probe:<name>` source (`None` for the other sources).
    pub fn probe(&self) -> Option<&str> {
        self.source.strip_prefix("probe:")
    }
}

/// The source name of a probe: `probe:<name>`.
pub fn probe_source(name: &str) -> String {
    format!("probe:{name}")
}

/// Every kind of event, tagged by `kind` in snake_case. Payloads live in one module
/// per probe. A kind this version does not know (a newer writer's) reads as
/// [`EventKind::Unknown`], so newer timelines load in older tools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    // --- player (DASH/HLS) ---
    /// A player session started.
    SessionStart(SessionStart),
    /// A manifest was loaded for the first time.
    ManifestLoaded(ManifestLoaded),
    /// A live manifest or media playlist was reloaded.
    ManifestRefresh(ManifestRefresh),
    /// An HTTP request finished (ISO 23009-1 Annex D HTTPRequest).
    Request(RequestRecord),
    /// A request attempt failed.
    RequestError(RequestError),
    /// A failed request will be tried again.
    Retry(Retry),
    /// A request succeeded after transport errors: the service is reachable again.
    Reconnect(Reconnect),
    /// The HTTP client opened a new connection.
    Connection(Connection),
    /// Playback started.
    Startup(Startup),
    /// The buffer ran empty during playback (a rebuffering event).
    StallStart(StallStart),
    /// Playback resumed after a stall.
    StallEnd(StallEnd),
    /// The player changed representation (Annex D RepresentationSwitch).
    Switch(Switch),
    /// The player stopped trying to fetch a resource (its retry policy ran out).
    GaveUp(GaveUp),
    /// The session ended.
    Ended(Ended),
    // --- download ---
    /// A download attempt (HTTP request) started.
    DownloadAttempt(DownloadAttempt),
    /// The response head of an attempt arrived.
    DownloadResponse(DownloadResponse),
    /// Bytes received in one throughput interval (100 ms).
    DownloadProgress(DownloadProgress),
    /// No byte arrived for the stall threshold.
    DownloadStallStart(DownloadStallStart),
    /// Bytes flow again after a stall.
    DownloadStallEnd(DownloadStallEnd),
    /// An attempt failed.
    DownloadError(DownloadError),
    /// The download ended (completed, corrupt or failed).
    DownloadEnd(DownloadEnd),
    // --- game ---
    /// A game session was established.
    GameSession(GameSession),
    /// A command (or STAMP test packet) was sent.
    GameCommand(GameCommand),
    /// A snapshot (or reflected STAMP packet) arrived.
    GameSnapshot(GameSnapshot),
    /// No snapshot arrived for longer than the freeze threshold.
    GameFreeze(GameFreeze),
    /// The server no longer continues the session.
    GameSessionLost(GameSessionLost),
    /// A datagram was ignored.
    GameIgnored(GameIgnored),
    /// The game probe ended.
    GameEnd(GameEnd),
    // --- migration, network, runner ---
    /// The driver asked for a migration.
    MigrationRequested(MigrationRequested),
    /// The VM paused on the source.
    MigrationPaused(MigrationPaused),
    /// The VM resumed on the destination.
    MigrationResumed(MigrationResumed),
    /// The service is reachable again after resume.
    NetworkReattached(NetworkReattached),
    /// A pre-copy pass or progress sample.
    MigrationPass(MigrationPass),
    /// The migration ended.
    MigrationEnd(MigrationEnd),
    /// The guest's memory was verified after a migration.
    MemoryCheck(MemoryCheck),
    /// Something the migration platform reported that is not a phase boundary
    /// (a libvirt lifecycle event, a Nova instance action event).
    PlatformEvent(PlatformEvent),
    /// What a packet capture of the client link saw around the migration (the lab).
    PacketCapture(PacketCapture),
    /// The runner's reachability prober lost or regained the service.
    Reachability(Reachability),
    /// A network condition was applied or removed.
    NetCondition(NetCondition),
    /// The runner entered a phase.
    Phase(RunnerPhase),
    // --- stream ---
    /// The live stream reader started.
    StreamStart(StreamStart),
    /// The cache prefill was reached and playback started.
    StreamPlaying(StreamPlaying),
    /// Periodic cache level, frames rendered/dropped and received bitrate.
    StreamSample(StreamSample),
    /// Playback ran out of data (a stall).
    StreamStallStart(StreamStallStart),
    /// Data arrived again and playback resumed.
    StreamStallEnd(StreamStallEnd),
    /// The connection to the stream server was lost.
    StreamDisconnect(StreamDisconnect),
    /// Data flows again on a new connection.
    StreamReconnect(StreamReconnect),
    /// The stream reader ended.
    StreamEnd(StreamEnd),
    // --- reading only ---
    /// A kind this version does not know (written by a newer version): read, never
    /// written, and not part of the schema.
    #[serde(other, skip_serializing)]
    #[schemars(skip)]
    Unknown,
}
