//! The label sets: a campaign, a run (campaign, application, scenario, run), a probe
//! in a run or standalone (plus probe, url, client), and a phase of a run. A label
//! whose value is empty is left out of the exposition (a standalone probe has no
//! campaign, a campaign's probe no url), as Prometheus treats an empty label as absent.

use prometheus_client::encoding::{EncodeLabel, EncodeLabelSet, LabelSetEncoder};

/// Encodes `(name, value)` pairs, leaving out the empty values.
fn encode_pairs(pairs: &[(&str, &str)], encoder: &mut LabelSetEncoder) -> std::fmt::Result {
    for (name, value) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        (*name, *value).encode(encoder.encode_label())?;
    }
    Ok(())
}

/// A campaign: `campaign`.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct CampaignLabels {
    /// The campaign's name.
    pub campaign: String,
}

impl EncodeLabelSet for CampaignLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> std::fmt::Result {
        encode_pairs(&[("campaign", &self.campaign)], encoder)
    }
}

/// One run of a campaign: `campaign`, `application`, `scenario`, `run` (all empty
/// for a standalone probe).
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct RunLabels {
    /// The campaign's name.
    pub campaign: String,
    /// The application's name.
    pub application: String,
    /// The network scenario's name.
    pub scenario: String,
    /// The repetition (1-based), as text.
    pub run: String,
}

impl RunLabels {
    fn pairs(&self) -> [(&str, &str); 4] {
        [
            ("campaign", &self.campaign),
            ("application", &self.application),
            ("scenario", &self.scenario),
            ("run", &self.run),
        ]
    }

    /// The campaign alone.
    pub fn campaign(&self) -> CampaignLabels {
        CampaignLabels {
            campaign: self.campaign.clone(),
        }
    }
}

impl EncodeLabelSet for RunLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> std::fmt::Result {
        encode_pairs(&self.pairs(), encoder)
    }
}

/// Where events come from: a campaign's run, or a standalone probe with its `url`
/// and (with `play --clients N`) its `client`. The probe's name is the event's
/// source.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct Scope {
    /// The run (empty for a standalone probe).
    pub run: RunLabels,
    /// The URL or address a standalone probe measures (empty in a campaign).
    pub url: String,
    /// The client's index with `play --clients N` (empty otherwise).
    pub client: String,
}

/// One probe: the scope's labels plus `probe` (the event's source).
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct ProbeLabels {
    /// The scope.
    pub scope: Scope,
    /// The probe's name (the events' source: `player`, `game`, `runner`, ...).
    pub probe: String,
}

impl EncodeLabelSet for ProbeLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> std::fmt::Result {
        let [a, b, c, d] = self.scope.run.pairs();
        encode_pairs(
            &[
                a,
                b,
                c,
                d,
                ("probe", &self.probe),
                ("url", &self.scope.url),
                ("client", &self.scope.client),
            ],
            encoder,
        )
    }
}

/// A phase of a run: the run's labels plus `phase`.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct PhaseLabels {
    /// The run.
    pub run: RunLabels,
    /// The phase's name.
    pub phase: String,
}

impl EncodeLabelSet for PhaseLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> std::fmt::Result {
        let [a, b, c, d] = self.run.pairs();
        encode_pairs(&[a, b, c, d, ("phase", &self.phase)], encoder)
    }
}
