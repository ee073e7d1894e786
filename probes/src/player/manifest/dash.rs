//! MPEG-DASH MPDs (ISO/IEC 23009-1), parsed with `dash-mpd-core` into the manifest
//! model.
//!
//! Why `dash-mpd-core` and not `dash-mpd`: since 0.21 the `dash-mpd` crate is only the
//! downloader (reqwest, ffmpeg muxing, ...) and no longer re-exports `parse` nor the
//! MPD structs; both moved to `dash-mpd-core`, which is all this module needs.
//!
//! Supported:
//! - `BaseURL` at MPD, Period, AdaptationSet and Representation level (the first one of
//!   each level; alternatives are ignored), resolved against the manifest URL;
//! - video and audio: an AdaptationSet or Representation is video or audio by
//!   `@contentType`, else `@mimeType`, else its codecs (audio: only audio codecs),
//!   else (video) the presence of `@width`/`@height`; text and other sets are ignored;
//!   trick-mode sets are skipped; when video sets use different codec families (e.g.
//!   AVC and HEVC), only the family of the main (`Role` main, else first) set is kept;
//!   of the audio sets only the main one (`Role` main, else first) is played, as a
//!   player picks one audio track;
//! - `SegmentTemplate` with `$Number$` and a fixed `@duration` ([`SegmentIndex::Template`]),
//!   or with a `SegmentTimeline` (`S@t`, `@d`, `@r` including `-1`, `@n`) and `$Time$`
//!   and/or `$Number$` ([`SegmentIndex::List`]); `$RepresentationID$`, `$Bandwidth$`,
//!   `%0Nd` widths, `$$`; `@startNumber`, `@endNumber`, `@presentationTimeOffset`;
//!   inheritance Period → AdaptationSet → Representation, attribute by attribute;
//! - `SegmentList` with `SegmentURL@media`/`@mediaRange` (and an optional timeline);
//! - `SegmentBase@indexRange` (and `RepresentationIndex`) → [`SegmentIndex::Indexed`],
//!   see [`super::sidx`]; a representation with no segment information at all is one
//!   segment, its `BaseURL`;
//! - initialization: `SegmentTemplate@initialization`, `Initialization@sourceURL`/`@range`;
//! - several periods (`@start`, or the previous period's end; `@duration`, or the next
//!   start, or `mediaPresentationDuration` for the last);
//! - static and dynamic MPDs: for a dynamic one a trailing `S@r="-1"` stops at
//!   `now` (segments fully available) and segments older than `timeShiftBufferDepth`
//!   are dropped.
//!
//! Not supported: XLink (remote elements are ignored), MPD patches,
//! `SegmentTemplate@index` (a per-representation index file), `SegmentList`
//! `@startNumber`/`@presentationTimeOffset` (dash-mpd-core does not expose them: numbers
//! start at 1, times at the period start), sub-representations, content steering.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use dash_mpd_core as mpd;
use url::Url;

use super::{
    ByteRange, MAX_BANDWIDTH_BPS, Manifest, ManifestError, ManifestFormat, MediaKind,
    NumberTemplate, Period, Representation, Resource, Segment, SegmentIndex,
};

/// Most segments one representation may list: beyond this a manifest is refused
/// rather than held in memory (a 2-second-segment presentation of 55 hours).
const MAX_SEGMENTS: u64 = 100_000;
/// Widest `%0Nd` format accepted in a template.
const MAX_WIDTH: usize = 32;
/// `EssentialProperty` scheme of trick-mode (I-frame) adaptation sets.
const TRICKMODE: &str = "http://dashif.org/guidelines/trickmode";

/// Parses an MPD fetched from `url`. `now_unix_ms` is the wall clock, used to expand
/// a dynamic MPD's open-ended `SegmentTimeline` (`S@r="-1"`) up to the live edge and
/// to apply its `timeShiftBufferDepth`.
///
/// Errors: [`ManifestError::NotAManifest`] when the bytes are not an XML document
/// whose root is `<MPD>`, [`ManifestError::Invalid`] when the MPD is malformed or
/// uses something unsupported, [`ManifestError::NoVideo`] when no period has video.
pub fn parse(bytes: &[u8], url: &Url, now_unix_ms: i64) -> Result<Manifest, ManifestError> {
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| ManifestError::NotAManifest {
        url: url.to_string(),
        detail: format!("not UTF-8 text ({e})"),
    })?;
    match root_element(text) {
        Some(name) if name.rsplit(':').next() == Some("MPD") => {}
        Some(name) => {
            let shown: String = name.chars().take(40).collect();
            return Err(ManifestError::NotAManifest {
                url: url.to_string(),
                detail: format!("the XML root element is <{shown}>, not <MPD>"),
            });
        }
        None => {
            return Err(ManifestError::NotAManifest {
                url: url.to_string(),
                detail: "no XML root element found".into(),
            });
        }
    }
    if let Some(value) = oversized_duration(text) {
        let shown: String = value.chars().take(40).collect();
        return Err(invalid(
            url,
            format!("duration {shown:?} is too large (more than 11 digits in one component)"),
        ));
    }
    // dash-mpd-core may still panic on hostile input the check above does not foresee;
    // that must be an error, not a crash.
    let parsed = catch_unwind(AssertUnwindSafe(|| mpd::parse(text)))
        .map_err(|_| invalid(url, "the MPD could not be parsed (the parser panicked)"))?;
    let doc = parsed.map_err(|e| invalid(url, format!("malformed MPD: {e}")))?;
    Builder {
        url,
        now_unix_ms,
        live: doc.mpdtype.as_deref() == Some("dynamic"),
        ast_ms: doc.availabilityStartTime.map(|t| t.timestamp_millis()),
        tsbd_s: doc.timeShiftBufferDepth.map(|d| d.as_secs_f64()),
    }
    .manifest(&doc)
}

/// The name of the first element of an XML document (after the prolog, comments
/// and doctype), if any.
fn root_element(text: &str) -> Option<&str> {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("<?") {
            rest = r.split_once("?>")?.1;
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = r.split_once("-->")?.1;
        } else if let Some(r) = rest.strip_prefix("<!") {
            rest = r.split_once('>')?.1;
        } else if let Some(r) = rest.strip_prefix('<') {
            let end = r
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap_or(r.len());
            return r.get(..end).filter(|n| !n.is_empty());
        } else {
            return None;
        }
    }
}

/// An `xs:duration` attribute value with a component of more than 11 digits, if any.
///
/// dash-mpd-core adds up duration components in `u64` seconds without overflow checks:
/// `PT99999999999999999H` panics in debug builds and wraps silently in release builds.
/// With at most 11 digits per component (99,999,999,999 years is about 3.2e18 s) the
/// sum cannot overflow. Fractional digits are truncated by the parser and do not count.
fn oversized_duration(text: &str) -> Option<&str> {
    for quote in ['"', '\''] {
        let mut rest = text;
        while let Some(i) = rest.find('=') {
            rest = rest.get(i + 1..).unwrap_or_default();
            let Some(value) = rest.trim_start().strip_prefix(quote) else {
                continue;
            };
            let value = value.split(quote).next().unwrap_or_default();
            let body = value.trim().trim_start_matches(['+', '-']);
            let shape = body.starts_with('P')
                && body
                    .chars()
                    .all(|c| c.is_ascii_digit() || "PYMWDTHS.,".contains(c));
            if !shape {
                continue;
            }
            let mut run = 0usize;
            let mut fraction = false;
            for c in body.chars() {
                if c.is_ascii_digit() {
                    run += 1;
                    if run > 11 && !fraction {
                        return Some(value);
                    }
                } else {
                    run = 0;
                    fraction = c == '.' || c == ',';
                }
            }
        }
    }
    None
}

fn invalid(url: &Url, detail: impl Into<String>) -> ManifestError {
    ManifestError::Invalid {
        url: url.to_string(),
        detail: detail.into(),
    }
}

/// Parses an `a-b` byte range attribute.
fn parse_range(s: &str) -> Result<ByteRange, String> {
    let bad = || format!("bad byte range {s:?} (expected first-last)");
    let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
    let first: u64 = a.trim().parse().map_err(|_| bad())?;
    let last: u64 = b.trim().parse().map_err(|_| bad())?;
    if last < first {
        return Err(bad());
    }
    Ok(ByteRange { first, last })
}

/// Values of the template identifiers for one representation (and segment).
struct Vars<'a> {
    id: &'a str,
    bandwidth: u64,
    number: Option<u64>,
    time: Option<u64>,
}

/// Substitutes the template identifiers `vars` knows (ISO 23009-1 5.3.9.4.4). With
/// `last_pass` false, unknown identifiers and `$$` are kept as they are so that a later
/// expansion (the model's `$Number$`) still sees them; with `last_pass` true `$$`
/// becomes `$`. Format tags wider than [`MAX_WIDTH`] or malformed are errors.
fn substitute(template: &str, vars: &Vars<'_>, last_pass: bool) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find('$') {
        out.push_str(rest.get(..start).unwrap_or_default());
        let after = rest.get(start + 1..).unwrap_or_default();
        let Some(end) = after.find('$') else {
            out.push_str(rest.get(start..).unwrap_or_default());
            return Ok(out);
        };
        let ident = after.get(..end).unwrap_or_default();
        rest = after.get(end + 1..).unwrap_or_default();
        if ident.is_empty() {
            out.push_str(if last_pass { "$" } else { "$$" });
            continue;
        }
        let (name, width) = match ident.split_once('%') {
            None => (ident, 0),
            Some((name, fmt)) => {
                let digits = fmt
                    .strip_suffix('d')
                    .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| format!("bad format tag in template identifier ${ident}$"))?;
                let width: usize = if digits.is_empty() {
                    0
                } else {
                    digits
                        .parse()
                        .map_err(|_| format!("bad width in ${ident}$"))?
                };
                if width > MAX_WIDTH {
                    return Err(format!("template width in ${ident}$ exceeds {MAX_WIDTH}"));
                }
                (name, width)
            }
        };
        let number = match name {
            "RepresentationID" => {
                out.push_str(vars.id);
                continue;
            }
            "Bandwidth" => Some(vars.bandwidth),
            "Number" => vars.number,
            "Time" => vars.time,
            _ => None,
        };
        match number {
            Some(v) => out.push_str(&format!("{v:0width$}")),
            None => {
                out.push('$');
                out.push_str(ident);
                out.push('$');
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Timing of one period on the presentation timeline.
struct PeriodTiming {
    start_s: f64,
    duration_s: Option<f64>,
}

/// One level of segment information (Period, AdaptationSet or Representation).
struct Level<'a> {
    template: Option<&'a mpd::SegmentTemplate>,
    list: Option<&'a mpd::SegmentList>,
    base: Option<&'a mpd::SegmentBase>,
}

impl Level<'_> {
    fn is_empty(&self) -> bool {
        self.template.is_none() && self.list.is_none() && self.base.is_none()
    }
}

/// The segment information a representation uses, merged across levels.
enum Addressing {
    Template(mpd::SegmentTemplate),
    List(mpd::SegmentList),
    Base(mpd::SegmentBase),
    Single,
}

fn or<T: Clone>(child: &Option<T>, parent: &Option<T>) -> Option<T> {
    child.clone().or_else(|| parent.clone())
}

fn merge_template(parent: &mpd::SegmentTemplate, c: &mpd::SegmentTemplate) -> mpd::SegmentTemplate {
    mpd::SegmentTemplate {
        media: or(&c.media, &parent.media),
        index: or(&c.index, &parent.index),
        initialization: or(&c.initialization, &parent.initialization),
        startNumber: or(&c.startNumber, &parent.startNumber),
        endNumber: or(&c.endNumber, &parent.endNumber),
        duration: or(&c.duration, &parent.duration),
        timescale: or(&c.timescale, &parent.timescale),
        presentationTimeOffset: or(&c.presentationTimeOffset, &parent.presentationTimeOffset),
        Initialization: or(&c.Initialization, &parent.Initialization),
        SegmentTimeline: or(&c.SegmentTimeline, &parent.SegmentTimeline),
        ..c.clone()
    }
}

fn merge_list(parent: &mpd::SegmentList, c: &mpd::SegmentList) -> mpd::SegmentList {
    mpd::SegmentList {
        duration: or(&c.duration, &parent.duration),
        timescale: or(&c.timescale, &parent.timescale),
        Initialization: or(&c.Initialization, &parent.Initialization),
        SegmentTimeline: or(&c.SegmentTimeline, &parent.SegmentTimeline),
        segment_urls: if c.segment_urls.is_empty() {
            parent.segment_urls.clone()
        } else {
            c.segment_urls.clone()
        },
        ..c.clone()
    }
}

fn merge_base(parent: &mpd::SegmentBase, c: &mpd::SegmentBase) -> mpd::SegmentBase {
    mpd::SegmentBase {
        timescale: or(&c.timescale, &parent.timescale),
        presentationTimeOffset: or(&c.presentationTimeOffset, &parent.presentationTimeOffset),
        indexRange: or(&c.indexRange, &parent.indexRange),
        Initialization: or(&c.Initialization, &parent.Initialization),
        representation_index: or(&c.representation_index, &parent.representation_index),
        ..c.clone()
    }
}

/// Merges one kind of element over the levels, outermost first.
fn merged<'a, T: Clone + 'a>(
    items: impl Iterator<Item = Option<&'a T>>,
    merge: impl Fn(&T, &T) -> T,
) -> Option<T> {
    items.flatten().fold(None, |acc: Option<T>, x| {
        Some(acc.map_or_else(|| x.clone(), |p| merge(&p, x)))
    })
}

/// The addressing of a representation: the kind found at the innermost level that has
/// any, merged with the same kind at the outer levels.
fn addressing(levels: &[Level<'_>]) -> Addressing {
    let Some(inner) = levels.iter().rev().find(|l| !l.is_empty()) else {
        return Addressing::Single;
    };
    if inner.template.is_some() {
        merged(levels.iter().map(|l| l.template), merge_template)
            .map_or(Addressing::Single, Addressing::Template)
    } else if inner.list.is_some() {
        merged(levels.iter().map(|l| l.list), merge_list)
            .map_or(Addressing::Single, Addressing::List)
    } else {
        merged(levels.iter().map(|l| l.base), merge_base)
            .map_or(Addressing::Single, Addressing::Base)
    }
}

/// `contentType`, else the type part of `mimeType`.
fn declared_kind<'a>(
    content_type: &'a Option<String>,
    mime: &'a Option<String>,
) -> Option<&'a str> {
    content_type
        .as_deref()
        .or_else(|| mime.as_deref().and_then(|m| m.split('/').next()))
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

/// Codec prefixes (RFC 6381 sample entries) that carry video.
const VIDEO_CODECS: &[&str] = &[
    "avc1", "avc3", "hvc1", "hev1", "dvh1", "dvhe", "dva1", "dvav", "vp08", "vp8", "vp09", "vp9",
    "av01", "mp4v", "vvc1", "vvi1",
];

fn codecs_have_video(codecs: &str) -> bool {
    codecs.split(',').any(|c| {
        let c = c.trim().to_ascii_lowercase();
        VIDEO_CODECS.iter().any(|p| c.starts_with(p))
    })
}

/// The codec family (first four characters of the first codec), e.g. `avc1`.
fn codec_family(codecs: &str) -> Option<String> {
    let first = codecs.split(',').next()?.trim();
    let family: String = first
        .chars()
        .take(4)
        .collect::<String>()
        .to_ascii_lowercase();
    (!family.is_empty()).then_some(family)
}

/// Codec prefixes (RFC 6381 sample entries) that carry audio.
const AUDIO_CODECS: &[&str] = &[
    "mp4a", "ac-3", "ec-3", "ac-4", "opus", "flac", "alac", "dtsc", "dtse", "dtsh", "dtsl", "mha1",
    "mhm1", "vorbis",
];

fn codecs_have_audio_only(codecs: &str) -> bool {
    let list: Vec<String> = codecs
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    !list.is_empty()
        && list
            .iter()
            .all(|c| AUDIO_CODECS.iter().any(|p| c.starts_with(p)))
}

/// Whether a representation is of `kind`: by `@contentType`, else `@mimeType`, else
/// its codecs, else (video) the presence of `@width`/`@height`.
fn rep_is(kind: MediaKind, set: &mpd::AdaptationSet, rep: &mpd::Representation) -> bool {
    let want = match kind {
        MediaKind::Video => "video",
        MediaKind::Audio => "audio",
    };
    if let Some(declared) = declared_kind(&rep.contentType, &rep.mimeType)
        .or_else(|| declared_kind(&set.contentType, &set.mimeType))
    {
        return declared.eq_ignore_ascii_case(want);
    }
    if let Some(codecs) = rep.codecs.as_deref().or(set.codecs.as_deref()) {
        return match kind {
            MediaKind::Video => codecs_have_video(codecs),
            MediaKind::Audio => codecs_have_audio_only(codecs),
        };
    }
    kind == MediaKind::Video
        && (rep.width.or(set.width).is_some() || rep.height.or(set.height).is_some())
}

fn set_codec_family(set: &mpd::AdaptationSet) -> Option<String> {
    set.codecs
        .as_deref()
        .or_else(|| set.representations.iter().find_map(|r| r.codecs.as_deref()))
        .and_then(codec_family)
}

/// The adaptation sets of `kind` a player plays in a period: for video every set of
/// the main set's codec family (see the module docs); for audio the main set only
/// (`Role` main, else the first), as a player picks one audio track.
fn sets_of(period: &mpd::Period, kind: MediaKind) -> Vec<&mpd::AdaptationSet> {
    let candidates: Vec<&mpd::AdaptationSet> = period
        .adaptations
        .iter()
        .filter(|s| {
            !s.essential_property
                .iter()
                .any(|p| p.schemeIdUri.trim() == TRICKMODE)
        })
        .filter(|s| s.representations.iter().any(|r| rep_is(kind, s, r)))
        .collect();
    let main = candidates
        .iter()
        .find(|s| s.Role.iter().any(|r| r.value.as_deref() == Some("main")))
        .or(candidates.first())
        .copied();
    let Some(main) = main else {
        return Vec::new();
    };
    if kind == MediaKind::Audio {
        return vec![main];
    }
    let family = set_codec_family(main);
    candidates
        .into_iter()
        .filter(|s| match (&family, set_codec_family(s)) {
            (Some(a), Some(b)) => *a == b,
            _ => true,
        })
        .collect()
}

struct Builder<'a> {
    url: &'a Url,
    now_unix_ms: i64,
    live: bool,
    ast_ms: Option<i64>,
    tsbd_s: Option<f64>,
}

impl Builder<'_> {
    fn invalid(&self, detail: impl Into<String>) -> ManifestError {
        invalid(self.url, detail)
    }

    /// Resolves the first `BaseURL` of a level against the parent base.
    fn base(&self, parent: &Url, list: &[mpd::BaseURL]) -> Result<Url, ManifestError> {
        match list
            .first()
            .map(|b| b.base.trim())
            .filter(|b| !b.is_empty())
        {
            None => Ok(parent.clone()),
            Some(b) => parent
                .join(b)
                .map_err(|e| self.invalid(format!("cannot resolve BaseURL {b:?}: {e}"))),
        }
    }

    fn join(&self, base: &Url, reference: &str) -> Result<Url, ManifestError> {
        base.join(reference.trim())
            .map_err(|e| self.invalid(format!("cannot resolve URL {reference:?}: {e}")))
    }

    fn manifest(&self, doc: &mpd::MPD) -> Result<Manifest, ManifestError> {
        let mpd_duration_s = doc.mediaPresentationDuration.map(|d| d.as_secs_f64());
        let timings = self.period_timings(doc, mpd_duration_s)?;
        let base = self.base(self.url, &doc.base_url)?;
        let mut periods = Vec::new();
        for (i, (p, timing)) in doc.periods.iter().zip(&timings).enumerate() {
            let video = self.period_reps(p, timing, &base, i, MediaKind::Video)?;
            if !video.is_empty() {
                let audio = self.period_reps(p, timing, &base, i, MediaKind::Audio)?;
                periods.push(Period {
                    id: p.id.clone(),
                    start_s: timing.start_s,
                    duration_s: timing.duration_s,
                    video,
                    audio,
                });
            }
        }
        if periods.is_empty() {
            return Err(ManifestError::NoVideo {
                url: self.url.to_string(),
            });
        }
        let end_s = timings
            .last()
            .and_then(|t| t.duration_s.map(|d| t.start_s + d));
        Ok(Manifest {
            format: ManifestFormat::Dash,
            url: self.url.clone(),
            live: self.live,
            refresh_interval: if self.live {
                doc.minimumUpdatePeriod
            } else {
                None
            },
            duration: doc.mediaPresentationDuration.or_else(|| {
                if self.live {
                    None
                } else {
                    end_s.and_then(|s| Duration::try_from_secs_f64(s).ok())
                }
            }),
            availability_start_unix_ms: self.ast_ms,
            live_delay: doc.suggestedPresentationDelay,
            periods,
        })
    }

    /// Start and duration of every period (ISO 23009-1 5.3.2.1).
    fn period_timings(
        &self,
        doc: &mpd::MPD,
        mpd_duration_s: Option<f64>,
    ) -> Result<Vec<PeriodTiming>, ManifestError> {
        let mut starts: Vec<f64> = Vec::with_capacity(doc.periods.len());
        let mut prev: Option<(f64, Option<f64>)> = None;
        for (i, p) in doc.periods.iter().enumerate() {
            let start = match (p.start, prev) {
                (Some(s), _) => s.as_secs_f64(),
                (None, None) => 0.0,
                (None, Some((s, Some(d)))) => s + d,
                (None, Some((_, None))) => {
                    return Err(self.invalid(format!(
                        "Period {} has no @start and the previous period has no @duration",
                        i + 1
                    )));
                }
            };
            starts.push(start);
            prev = Some((start, p.duration.map(|d| d.as_secs_f64())));
        }
        let mut timings = Vec::with_capacity(starts.len());
        for (i, (p, &start_s)) in doc.periods.iter().zip(&starts).enumerate() {
            let duration_s = match (p.duration, starts.get(i + 1)) {
                (Some(d), _) => Some(d.as_secs_f64()),
                (None, Some(next)) => Some(next - start_s),
                (None, None) => mpd_duration_s.map(|d| d - start_s),
            };
            if duration_s.is_some_and(|d| d < 0.0 || !d.is_finite()) {
                return Err(self.invalid(format!(
                    "Period {} has a negative duration (periods out of order, or \
                     mediaPresentationDuration shorter than the last period's start)",
                    i + 1
                )));
            }
            timings.push(PeriodTiming {
                start_s,
                duration_s,
            });
        }
        Ok(timings)
    }

    fn period_reps(
        &self,
        p: &mpd::Period,
        timing: &PeriodTiming,
        mpd_base: &Url,
        index: usize,
        kind: MediaKind,
    ) -> Result<Vec<Representation>, ManifestError> {
        let sets = sets_of(p, kind);
        if sets.is_empty() {
            return Ok(Vec::new());
        }
        let pbase = self.base(mpd_base, &p.BaseURL)?;
        let mut reps = Vec::new();
        for (si, set) in sets.into_iter().enumerate() {
            let abase = self.base(&pbase, &set.BaseURL)?;
            for (ri, rep) in set.representations.iter().enumerate() {
                if !rep_is(kind, set, rep) {
                    continue;
                }
                let levels = [
                    Level {
                        template: p.SegmentTemplate.as_ref(),
                        list: p.SegmentList.as_ref(),
                        base: p.SegmentBase.as_ref(),
                    },
                    Level {
                        template: set.SegmentTemplate.as_ref(),
                        list: set.SegmentList.as_ref(),
                        base: set.SegmentBase.as_ref(),
                    },
                    Level {
                        template: rep.SegmentTemplate.as_ref(),
                        list: rep.SegmentList.as_ref(),
                        base: rep.SegmentBase.as_ref(),
                    },
                ];
                let id = rep
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("p{index}-as{si}-r{ri}"));
                let rbase = self.base(&abase, &rep.BaseURL)?;
                let bandwidth = rep.bandwidth.unwrap_or(0);
                if bandwidth > MAX_BANDWIDTH_BPS {
                    return Err(self.invalid(
                        format!(
                            "Representation {id:?}: bandwidth {bandwidth} bit/s is beyond {MAX_BANDWIDTH_BPS} (1 Tbit/s)"
                        ),
                    ));
                }
                let vars = Vars {
                    id: &id,
                    bandwidth,
                    number: None,
                    time: None,
                };
                let (init, segments) = self
                    .segments(&addressing(&levels), &rbase, &vars, timing)
                    .map_err(|e| match e {
                    ManifestError::Invalid { url, detail } => ManifestError::Invalid {
                        url,
                        detail: format!("Representation {id:?}: {detail}"),
                    },
                    other => other,
                })?;
                reps.push(Representation {
                    id,
                    bandwidth_bps: bandwidth,
                    width: rep.width.or(set.width).and_then(|w| u32::try_from(w).ok()),
                    height: rep
                        .height
                        .or(set.height)
                        .and_then(|h| u32::try_from(h).ok()),
                    codecs: rep.codecs.clone().or_else(|| set.codecs.clone()),
                    init,
                    segments,
                });
            }
        }
        reps.sort_by_key(|r| r.bandwidth_bps);
        Ok(reps)
    }

    fn initialization(
        &self,
        init: &mpd::Initialization,
        base: &Url,
    ) -> Result<Resource, ManifestError> {
        let url = match init.sourceURL.as_deref() {
            Some(s) => self.join(base, s)?,
            None => base.clone(),
        };
        let range = init
            .range
            .as_deref()
            .map(parse_range)
            .transpose()
            .map_err(|e| self.invalid(format!("Initialization@range: {e}")))?;
        Ok(Resource { url, range })
    }

    fn segments(
        &self,
        addressing: &Addressing,
        base: &Url,
        vars: &Vars<'_>,
        timing: &PeriodTiming,
    ) -> Result<(Option<Resource>, SegmentIndex), ManifestError> {
        match addressing {
            Addressing::Template(st) => self.template(st, base, vars, timing),
            Addressing::List(sl) => self.list(sl, base, timing),
            Addressing::Base(sb) => {
                let init = sb
                    .Initialization
                    .as_ref()
                    .map(|i| self.initialization(i, base))
                    .transpose()?;
                let index_url = match sb
                    .representation_index
                    .as_ref()
                    .and_then(|ri| ri.sourceURL.as_deref())
                {
                    Some(s) => self.join(base, s)?,
                    None => base.clone(),
                };
                let range = sb.indexRange.as_deref().or_else(|| {
                    sb.representation_index
                        .as_ref()
                        .and_then(|ri| ri.range.as_deref())
                });
                match range {
                    Some(r) => {
                        let range = parse_range(r)
                            .map_err(|e| self.invalid(format!("SegmentBase@indexRange: {e}")))?;
                        let index = Resource {
                            url: index_url,
                            range: Some(range),
                        };
                        Ok((
                            init,
                            SegmentIndex::Indexed {
                                index,
                                media: base.clone(),
                            },
                        ))
                    }
                    None => Ok((init, self.single(base, timing)?)),
                }
            }
            Addressing::Single => Ok((None, self.single(base, timing)?)),
        }
    }

    /// A representation that is one segment: the whole `BaseURL`.
    fn single(&self, base: &Url, timing: &PeriodTiming) -> Result<SegmentIndex, ManifestError> {
        let duration_s = timing
            .duration_s
            .ok_or_else(|| self.invalid("no segment information and no known period duration"))?;
        Ok(SegmentIndex::List(vec![Segment {
            number: 1,
            start_s: timing.start_s,
            duration_s,
            resource: Resource {
                url: base.clone(),
                range: None,
            },
        }]))
    }

    fn template(
        &self,
        st: &mpd::SegmentTemplate,
        base: &Url,
        vars: &Vars<'_>,
        timing: &PeriodTiming,
    ) -> Result<(Option<Resource>, SegmentIndex), ManifestError> {
        let bad = |e: String| self.invalid(format!("SegmentTemplate: {e}"));
        let init = match (&st.initialization, &st.Initialization) {
            (Some(tpl), _) => {
                let path = substitute(tpl, vars, true).map_err(bad)?;
                Some(Resource {
                    url: self.join(base, &path)?,
                    range: None,
                })
            }
            (None, Some(i)) => Some(self.initialization(i, base)?),
            (None, None) => None,
        };
        let media = st
            .media
            .as_deref()
            .ok_or_else(|| self.invalid("SegmentTemplate without @media"))?;
        let timescale = st.timescale.unwrap_or(1);
        if timescale == 0 {
            return Err(self.invalid("SegmentTemplate@timescale is 0"));
        }
        let start_number = st.startNumber.unwrap_or(1);
        if let Some(timeline) = &st.SegmentTimeline {
            let pto = st.presentationTimeOffset.unwrap_or(0);
            let entries = self.timeline(timeline, timescale, pto, start_number, timing)?;
            let mut segments = Vec::with_capacity(entries.len());
            for e in entries {
                let v = Vars {
                    number: Some(e.number),
                    time: Some(e.t),
                    ..*vars
                };
                let path = substitute(media, &v, true).map_err(bad)?;
                segments.push(Segment {
                    number: e.number,
                    start_s: e.start_s,
                    duration_s: e.duration_s,
                    resource: Resource {
                        url: self.join(base, &path)?,
                        range: None,
                    },
                });
            }
            return Ok((init, SegmentIndex::List(segments)));
        }
        let Some(duration) = st.duration else {
            return Err(self.invalid("SegmentTemplate has neither @duration nor a SegmentTimeline"));
        };
        let duration_s = duration / timescale as f64;
        if !(duration_s.is_finite() && duration_s > 0.0) {
            return Err(self.invalid(format!(
                "SegmentTemplate@duration {duration} is not positive"
            )));
        }
        let media = substitute(media, vars, false).map_err(bad)?;
        if media.contains("$Time") {
            return Err(self.invalid("SegmentTemplate@media uses $Time$ without a SegmentTimeline"));
        }
        let mut count = timing
            .duration_s
            .map(|d| (d / duration_s - 1e-6).ceil().max(0.0) as u64);
        if let Some(end) = st.endNumber {
            let by_end = (end + 1).saturating_sub(start_number);
            count = Some(count.map_or(by_end, |c| c.min(by_end)));
        }
        if count.is_none() && !self.live {
            return Err(self.invalid(
                "static MPD without mediaPresentationDuration or Period@duration: the number of \
                 segments is unknown",
            ));
        }
        let template = NumberTemplate::new(
            media,
            base.clone(),
            start_number,
            duration_s,
            timing.start_s,
            count,
        );
        Ok((init, SegmentIndex::Template(template)))
    }

    fn list(
        &self,
        sl: &mpd::SegmentList,
        base: &Url,
        timing: &PeriodTiming,
    ) -> Result<(Option<Resource>, SegmentIndex), ManifestError> {
        let init = sl
            .Initialization
            .as_ref()
            .map(|i| self.initialization(i, base))
            .transpose()?;
        if sl.segment_urls.is_empty() {
            return Err(self.invalid("SegmentList without SegmentURL"));
        }
        let timescale = sl.timescale.unwrap_or(1);
        if timescale == 0 {
            return Err(self.invalid("SegmentList@timescale is 0"));
        }
        let times: Vec<(f64, f64)> = if let Some(tl) = &sl.SegmentTimeline {
            self.timeline(tl, timescale, 0, 1, timing)?
                .into_iter()
                .map(|e| (e.start_s, e.duration_s))
                .collect()
        } else {
            let d_s = match (sl.duration, sl.segment_urls.len(), timing.duration_s) {
                (Some(d), _, _) if d > 0 => d as f64 / timescale as f64,
                (_, 1, Some(pd)) => pd,
                _ => {
                    return Err(
                        self.invalid("SegmentList without a positive @duration or SegmentTimeline")
                    );
                }
            };
            (0..sl.segment_urls.len())
                .map(|k| (timing.start_s + k as f64 * d_s, d_s))
                .collect()
        };
        let mut segments = Vec::with_capacity(sl.segment_urls.len());
        for (k, (su, (start_s, duration_s))) in sl.segment_urls.iter().zip(times).enumerate() {
            let url = match su.media.as_deref() {
                Some(m) if !m.trim().is_empty() => self.join(base, m)?,
                _ => base.clone(),
            };
            let range = su
                .mediaRange
                .as_deref()
                .map(parse_range)
                .transpose()
                .map_err(|e| self.invalid(format!("SegmentURL@mediaRange: {e}")))?;
            segments.push(Segment {
                number: k as u64 + 1,
                start_s,
                duration_s,
                resource: Resource { url, range },
            });
        }
        Ok((init, SegmentIndex::List(segments)))
    }

    /// Expands a `SegmentTimeline` into (number, media time, presentation time).
    fn timeline(
        &self,
        tl: &mpd::SegmentTimeline,
        timescale: u64,
        pto: u64,
        start_number: u64,
        timing: &PeriodTiming,
    ) -> Result<Vec<TimelineEntry>, ManifestError> {
        let ts = timescale as f64;
        let to_media = |rel_s: f64| pto as f64 + rel_s * ts;
        // End of the period in media time, if known.
        let period_end_t = timing.duration_s.map(to_media);
        // Live: the media time of `now`, and the start of the time-shift window.
        let (now_t, window_t) = if self.live {
            match self.ast_ms {
                Some(ast) => {
                    let rel =
                        (self.now_unix_ms.saturating_sub(ast)) as f64 / 1000.0 - timing.start_s;
                    (Some(to_media(rel)), self.tsbd_s.map(|d| to_media(rel - d)))
                }
                None => (None, None),
            }
        } else {
            (None, None)
        };
        let mut out: Vec<TimelineEntry> = Vec::new();
        let mut t: u64 = 0;
        let mut number = start_number;
        let entries = &tl.segments;
        for (i, s) in entries.iter().enumerate() {
            if let Some(st) = s.t {
                t = st;
            }
            if let Some(n) = s.n {
                number = n;
            }
            if s.d == 0 {
                return Err(self.invalid(format!("SegmentTimeline S {} has @d 0", i + 1)));
            }
            let d = s.d as f64;
            let mut count: u64 = match s.r.unwrap_or(0) {
                r if r >= 0 => (r as u64).saturating_add(1),
                _ => {
                    let next_t = entries.get(i + 1).and_then(|n| n.t).map(|x| x as f64);
                    let span = match (next_t, now_t, period_end_t) {
                        (Some(next), _, _) => ((next - t as f64) / d).ceil(),
                        // Live: the segments fully available by now, within the period.
                        (None, Some(now), end) => match end {
                            Some(e) if e <= now => ((e - t as f64) / d).ceil(),
                            _ => ((now - t as f64) / d).floor(),
                        },
                        (None, None, Some(end)) => ((end - t as f64) / d).ceil(),
                        (None, None, None) => {
                            return Err(self.invalid(if self.live {
                                "S@r=-1 in a dynamic MPD without availabilityStartTime"
                            } else {
                                "S@r=-1 with no following S@t and no known period end"
                            }));
                        }
                    };
                    if span.is_finite() && span > 0.0 {
                        span as u64
                    } else {
                        0
                    }
                }
            };
            // Live: drop the segments that left the time-shift window.
            if let Some(w) = window_t
                && w > t as f64
            {
                let skip = (((w - t as f64) / d).floor() as u64).min(count);
                t = skip
                    .checked_mul(s.d)
                    .and_then(|x| x.checked_add(t))
                    .ok_or_else(|| self.invalid("SegmentTimeline times overflow"))?;
                number = number.saturating_add(skip);
                count -= skip;
            }
            if (out.len() as u64).saturating_add(count) > MAX_SEGMENTS {
                return Err(self.invalid(format!(
                    "SegmentTimeline expands to more than {MAX_SEGMENTS} segments"
                )));
            }
            for _ in 0..count {
                out.push(TimelineEntry {
                    number,
                    t,
                    start_s: timing.start_s + (t as f64 - pto as f64) / ts,
                    duration_s: d / ts,
                });
                t = t
                    .checked_add(s.d)
                    .ok_or_else(|| self.invalid("SegmentTimeline times overflow"))?;
                number = number.saturating_add(1);
            }
        }
        Ok(out)
    }
}

/// One expanded `SegmentTimeline` entry.
struct TimelineEntry {
    number: u64,
    /// Media time (`$Time$`).
    t: u64,
    start_s: f64,
    duration_s: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::player::manifest;
    use proptest::prelude::*;

    const NOW: i64 = 1_704_067_200_000 + 100_500; // 2024-01-01T00:01:40.5Z

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn parse_ok(text: &str, at: &str) -> Manifest {
        parse(text.as_bytes(), &url(at), NOW).unwrap_or_else(|e| panic!("{e}"))
    }

    fn list(r: &Representation) -> &[Segment] {
        match &r.segments {
            SegmentIndex::List(l) => l,
            other => panic!("expected a list, got {other:?}"),
        }
    }

    fn template(r: &Representation) -> &NumberTemplate {
        match &r.segments {
            SegmentIndex::Template(t) => t,
            other => panic!("expected a template, got {other:?}"),
        }
    }

    const NUMBER_TEMPLATE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by a packager -->
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
     profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static"
     mediaPresentationDuration="PT1M0.5S" minBufferTime="PT2S">
  <BaseURL>http://cdn.example/content/</BaseURL>
  <Period id="main">
    <AdaptationSet id="1" contentType="video" mimeType="video/mp4" segmentAlignment="true" maxWidth="1920" maxHeight="1080">
      <SegmentTemplate timescale="90000" duration="360000" startNumber="1"
          media="$RepresentationID$/seg-$Number%05d$.m4s"
          initialization="$RepresentationID$/init-$Bandwidth$.mp4"/>
      <Representation id="v720" bandwidth="3000000" width="1280" height="720" codecs="avc1.64001f"/>
      <Representation id="v360" bandwidth="800000" width="640" height="360" codecs="avc1.4d401e"/>
      <Representation id="v1080" bandwidth="6000000" width="1920" height="1080" codecs="avc1.640028">
        <BaseURL>hd/</BaseURL>
        <SegmentTemplate media="$RepresentationID$_$Number$.m4s" startNumber="0"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" lang="en">
      <SegmentTemplate timescale="48000" duration="192000" media="audio/$Number$.m4s" initialization="audio/init.mp4"/>
      <Representation id="a128" bandwidth="128000" codecs="mp4a.40.2" audioSamplingRate="48000"/>
    </AdaptationSet>
    <AdaptationSet id="3" contentType="text" mimeType="application/mp4" lang="en">
      <Representation id="sub" bandwidth="1000" codecs="stpp"/>
    </AdaptationSet>
  </Period>
</MPD>
"#;

    #[test]
    fn number_template_static() {
        let m = parse_ok(NUMBER_TEMPLATE, "http://origin.example/vod/manifest.mpd");
        assert_eq!(m.format, ManifestFormat::Dash);
        assert!(!m.live);
        assert_eq!(m.refresh_interval, None);
        assert_eq!(m.duration, Some(Duration::from_millis(60_500)));
        assert_eq!(m.periods.len(), 1);
        let p = &m.periods[0];
        assert_eq!(p.id.as_deref(), Some("main"));
        assert_eq!(p.start_s, 0.0);
        assert_eq!(p.duration_s, Some(60.5));
        let ids: Vec<&str> = p.video.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["v360", "v720", "v1080"], "video by bandwidth");
        let audio: Vec<&str> = p.audio.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(audio, ["a128"], "the audio set, not the text set");
        let a = template(&p.audio[0]);
        assert_eq!(a.duration_s, 4.0);
        assert_eq!(
            a.segment(2).unwrap().resource.url.as_str(),
            "http://cdn.example/content/audio/2.m4s"
        );
        let low = &p.video[0];
        assert_eq!((low.width, low.height), (Some(640), Some(360)));
        assert_eq!(low.codecs.as_deref(), Some("avc1.4d401e"));
        assert_eq!(
            low.init.as_ref().unwrap().url.as_str(),
            "http://cdn.example/content/v360/init-800000.mp4"
        );
        let t = template(low);
        assert_eq!(t.duration_s, 4.0);
        assert_eq!(t.start_number, 1);
        assert_eq!(t.count, Some(16));
        assert_eq!(t.media(), "v360/seg-$Number%05d$.m4s");
        let s = t.segment(3).unwrap();
        assert_eq!(
            s.resource.url.as_str(),
            "http://cdn.example/content/v360/seg-00003.m4s"
        );
        assert_eq!(s.start_s, 8.0);
        assert_eq!(low.known_end_s(), Some(64.0));

        // Representation-level template inherits timescale and duration.
        let hd = &p.video[2];
        let t = template(hd);
        assert_eq!(t.start_number, 0);
        assert_eq!(t.duration_s, 4.0);
        assert_eq!(
            t.segment(0).unwrap().resource.url.as_str(),
            "http://cdn.example/content/hd/v1080_0.m4s"
        );
        assert_eq!(
            hd.init.as_ref().unwrap().url.as_str(),
            "http://cdn.example/content/hd/v1080/init-6000000.mp4"
        );
    }

    const TIMELINE: &str = r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT30S" minBufferTime="PT1.5S">
  <Period start="PT0S">
    <BaseURL>video/</BaseURL>
    <AdaptationSet mimeType="video/mp4" codecs="avc1.4d401f">
      <SegmentTemplate timescale="1000" presentationTimeOffset="1000"
          media="$RepresentationID$_$Time$.m4s" initialization="$RepresentationID$_init.m4s">
        <SegmentTimeline>
          <S t="1000" d="4000" r="2"/>
          <S d="3000"/>
          <S d="5000" r="-1"/>
        </SegmentTimeline>
      </SegmentTemplate>
      <Representation id="hd" bandwidth="2000000" width="1280" height="720"/>
      <Representation id="sd" bandwidth="700000" width="640" height="360">
        <SegmentTemplate startNumber="10" media="n/$RepresentationID$-$Number$-$Time$.m4s"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
"#;

    #[test]
    fn timeline_with_time_and_repeats() {
        let m = parse_ok(TIMELINE, "http://h/vod/manifest.mpd");
        let p = &m.periods[0];
        assert_eq!(p.video.len(), 2);
        let hd = &p.video[1];
        assert_eq!(hd.id, "hd");
        assert_eq!(
            hd.init.as_ref().unwrap().url.as_str(),
            "http://h/vod/video/hd_init.m4s"
        );
        let segs = list(hd);
        let starts: Vec<f64> = segs.iter().map(|s| s.start_s).collect();
        assert_eq!(starts, [0.0, 4.0, 8.0, 12.0, 15.0, 20.0, 25.0]);
        let durations: Vec<f64> = segs.iter().map(|s| s.duration_s).collect();
        assert_eq!(durations, [4.0, 4.0, 4.0, 3.0, 5.0, 5.0, 5.0]);
        let numbers: Vec<u64> = segs.iter().map(|s| s.number).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(
            segs[0].resource.url.as_str(),
            "http://h/vod/video/hd_1000.m4s"
        );
        assert_eq!(
            segs[6].resource.url.as_str(),
            "http://h/vod/video/hd_26000.m4s"
        );
        assert_eq!(hd.known_end_s(), Some(30.0));
        assert_eq!(hd.segment_from(13.0).unwrap().number, 4);

        let sd = list(&p.video[0]);
        assert_eq!(sd.len(), 7);
        assert_eq!(sd[0].number, 10);
        assert_eq!(
            sd[0].resource.url.as_str(),
            "http://h/vod/video/n/sd-10-1000.m4s"
        );
        assert_eq!(
            sd[3].resource.url.as_str(),
            "http://h/vod/video/n/sd-13-13000.m4s"
        );
    }

    const SEGMENT_LIST: &str = r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT9S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:full:2011">
  <Period>
    <AdaptationSet contentType="video" mimeType="video/mp4">
      <Representation id="500k" bandwidth="500000" width="640" height="360">
        <BaseURL>media/video-500k.mp4</BaseURL>
        <SegmentList timescale="1000" duration="4000">
          <Initialization range="0-861"/>
          <SegmentURL mediaRange="862-50000"/>
          <SegmentURL mediaRange="50001-99000"/>
          <SegmentURL media="tail.mp4"/>
        </SegmentList>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>"#;

    #[test]
    fn segment_list_with_media_ranges() {
        let m = parse_ok(SEGMENT_LIST, "http://h/sl/manifest.mpd");
        let r = &m.periods[0].video[0];
        assert_eq!(
            r.init,
            Some(Resource {
                url: url("http://h/sl/media/video-500k.mp4"),
                range: Some(ByteRange {
                    first: 0,
                    last: 861
                })
            })
        );
        let segs = list(r);
        assert_eq!(segs.len(), 3);
        assert_eq!(
            segs[0].resource.url.as_str(),
            "http://h/sl/media/video-500k.mp4"
        );
        assert_eq!(
            segs[0].resource.range,
            Some(ByteRange {
                first: 862,
                last: 50000
            })
        );
        assert_eq!(
            segs[1].resource.range,
            Some(ByteRange {
                first: 50001,
                last: 99000
            })
        );
        assert_eq!(segs[1].start_s, 4.0);
        assert_eq!(segs[2].resource.url.as_str(), "http://h/sl/media/tail.mp4");
        assert_eq!(segs[2].resource.range, None);
        assert_eq!(segs[2].number, 3);
        assert_eq!(segs[2].start_s, 8.0);
    }

    const SEGMENT_BASE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" minBufferTime="PT1.500S" type="static" mediaPresentationDuration="PT0H9M56.46S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <Period duration="PT0H9M56.46S">
    <AdaptationSet segmentAlignment="true" group="1" maxWidth="1920" maxHeight="1080" maxFrameRate="24" par="16:9" lang="und">
      <Representation id="1" mimeType="video/mp4" codecs="avc1.42c01e" width="480" height="270" frameRate="24" sar="1:1" startWithSAP="1" bandwidth="449000">
        <BaseURL>bbb_480x270_dash.mp4</BaseURL>
        <SegmentBase indexRangeExact="true" indexRange="842-1213">
          <Initialization range="0-841"/>
        </SegmentBase>
      </Representation>
      <Representation id="2" mimeType="video/mp4" codecs="avc1.42c01e" width="640" height="360" frameRate="24" sar="1:1" startWithSAP="1" bandwidth="1000000">
        <BaseURL>http://other.example/bbb_640x360_dash.mp4</BaseURL>
        <SegmentBase indexRangeExact="true" indexRange="842-1213">
          <Initialization range="0-841"/>
        </SegmentBase>
      </Representation>
    </AdaptationSet>
    <AdaptationSet segmentAlignment="true" group="2" lang="und">
      <Representation id="5" mimeType="audio/mp4" codecs="mp4a.40.2" audioSamplingRate="48000" bandwidth="127000">
        <BaseURL>bbb_audio_dash.mp4</BaseURL>
        <SegmentBase indexRange="592-963"><Initialization range="0-591"/></SegmentBase>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>"#;

    #[test]
    fn segment_base_index_range() {
        let m = parse_ok(SEGMENT_BASE, "http://h/od/bbb.mpd");
        let p = &m.periods[0];
        assert_eq!(p.video.len(), 2);
        let r = &p.video[0];
        assert_eq!(r.id, "1");
        assert_eq!(
            r.segments,
            SegmentIndex::Indexed {
                index: Resource {
                    url: url("http://h/od/bbb_480x270_dash.mp4"),
                    range: Some(ByteRange {
                        first: 842,
                        last: 1213
                    })
                },
                media: url("http://h/od/bbb_480x270_dash.mp4"),
            }
        );
        assert_eq!(
            r.init.as_ref().unwrap().range,
            Some(ByteRange {
                first: 0,
                last: 841
            })
        );
        assert!(!r.is_resolved());
        let SegmentIndex::Indexed { media, .. } = &p.video[1].segments else {
            panic!("indexed")
        };
        assert_eq!(media.as_str(), "http://other.example/bbb_640x360_dash.mp4");
        assert!((p.duration_s.unwrap() - 596.46).abs() < 1e-9);
    }

    const TWO_PERIODS: &str = r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT50S" minBufferTime="PT2S">
  <BaseURL>https://cdn.example/show/</BaseURL>
  <Period id="ad" start="PT0S" duration="PT30S">
    <BaseURL>ad/</BaseURL>
    <AdaptationSet contentType="video" mimeType="video/mp4">
      <SegmentTemplate timescale="1" duration="2" media="$RepresentationID$-$Number$.m4s" initialization="$RepresentationID$-init.mp4"/>
      <Representation id="ad-low" bandwidth="400000"/>
    </AdaptationSet>
  </Period>
  <Period id="content">
    <BaseURL>https://media.example/main/</BaseURL>
    <AdaptationSet contentType="video" mimeType="video/mp4">
      <SegmentTemplate timescale="1000" duration="4000" startNumber="5" media="$RepresentationID$/$Number$.m4s"/>
      <Representation id="main-high" bandwidth="3000000"/>
      <Representation id="main-low" bandwidth="600000"/>
    </AdaptationSet>
  </Period>
</MPD>"#;

    #[test]
    fn two_periods() {
        let m = parse_ok(TWO_PERIODS, "http://h/two.mpd");
        assert_eq!(m.periods.len(), 2);
        let (a, b) = (&m.periods[0], &m.periods[1]);
        assert_eq!((a.start_s, a.duration_s), (0.0, Some(30.0)));
        assert_eq!((b.start_s, b.duration_s), (30.0, Some(20.0)));
        let ta = template(&a.video[0]);
        assert_eq!(ta.count, Some(15));
        assert_eq!(
            ta.segment(15).unwrap().resource.url.as_str(),
            "https://cdn.example/show/ad/ad-low-15.m4s"
        );
        let tb = template(&b.video[0]);
        assert_eq!(b.video[0].id, "main-low");
        assert_eq!(tb.first_start_s, 30.0);
        assert_eq!(tb.count, Some(5));
        let s = tb.segment(5).unwrap();
        assert_eq!(s.start_s, 30.0);
        assert_eq!(
            s.resource.url.as_str(),
            "https://media.example/main/main-low/5.m4s"
        );
        assert_eq!(b.video[0].known_end_s(), Some(50.0));
        assert_eq!(b.video[0].init, None);
    }

    const DYNAMIC_TIMELINE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" profiles="urn:mpeg:dash:profile:isoff-live:2011"
     availabilityStartTime="2024-01-01T00:00:00Z" publishTime="2024-01-01T00:01:40Z"
     minimumUpdatePeriod="PT2S" suggestedPresentationDelay="PT6S" timeShiftBufferDepth="PT30S"
     minBufferTime="PT2S">
  <Period id="live" start="PT0S">
    <AdaptationSet contentType="video" mimeType="video/mp4" segmentAlignment="true">
      <SegmentTemplate timescale="1000" media="live/$RepresentationID$/$Number$.m4s" initialization="live/$RepresentationID$/init.mp4">
        <SegmentTimeline>
          <S t="0" d="2000" r="-1"/>
        </SegmentTimeline>
      </SegmentTemplate>
      <Representation id="720p" bandwidth="2500000" width="1280" height="720" codecs="avc1.64001f"/>
    </AdaptationSet>
  </Period>
</MPD>"#;

    #[test]
    fn dynamic_timeline_expands_to_now_within_the_time_shift_window() {
        let m = parse_ok(DYNAMIC_TIMELINE, "http://h/live/manifest.mpd");
        assert!(m.live);
        assert_eq!(m.refresh_interval, Some(Duration::from_secs(2)));
        assert_eq!(m.live_delay, Some(Duration::from_secs(6)));
        assert_eq!(m.availability_start_unix_ms, Some(1_704_067_200_000));
        assert_eq!(m.duration, None);
        assert_eq!(m.periods[0].duration_s, None);
        let segs = list(&m.periods[0].video[0]);
        // now = 100.5 s: segments ending by then are 0..50 (t = 0..98 s); the window
        // starts at 70.5 s, so the first kept segment is the one covering it (t = 70 s).
        assert_eq!(segs.len(), 15);
        assert_eq!(segs[0].start_s, 70.0);
        assert_eq!(segs[0].number, 36);
        let last = segs.last().unwrap();
        assert_eq!(last.start_s, 98.0);
        assert_eq!(last.number, 50);
        assert_eq!(last.resource.url.as_str(), "http://h/live/live/720p/50.m4s");
    }

    const DYNAMIC_NUMBER: &str = r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic"
     availabilityStartTime="2024-01-01T00:00:00.250+01:00" minimumUpdatePeriod="PT10M"
     suggestedPresentationDelay="PT4S" minBufferTime="PT2S">
  <Period id="0" start="PT0S">
    <AdaptationSet contentType="video" mimeType="video/mp4">
      <SegmentTemplate timescale="90000" duration="180000" startNumber="0" media="$RepresentationID$/$Number$.m4s"/>
      <Representation id="v" bandwidth="1000000"/>
    </AdaptationSet>
  </Period>
</MPD>"#;

    #[test]
    fn dynamic_number_template_is_open_ended() {
        let m = parse_ok(DYNAMIC_NUMBER, "http://h/live/m.mpd");
        assert!(m.live);
        assert_eq!(m.refresh_interval, Some(Duration::from_secs(600)));
        assert_eq!(m.live_delay, Some(Duration::from_secs(4)));
        assert_eq!(m.availability_start_unix_ms, Some(1_704_063_600_250));
        let t = template(&m.periods[0].video[0]);
        assert_eq!(t.count, None);
        assert_eq!(t.duration_s, 2.0);
        assert_eq!(t.segment(1000).unwrap().start_s, 2000.0);
    }

    #[test]
    fn audio_only_is_no_video() {
        let text = r#"<MPD type="static" mediaPresentationDuration="PT10S">
  <Period>
    <AdaptationSet contentType="audio" mimeType="audio/mp4">
      <SegmentTemplate duration="2" media="a/$Number$.m4s"/>
      <Representation id="a1" bandwidth="64000" codecs="mp4a.40.2"/>
    </AdaptationSet>
    <AdaptationSet>
      <Representation id="a2" bandwidth="64000" codecs="opus"/>
    </AdaptationSet>
  </Period>
</MPD>"#;
        let err = parse(text.as_bytes(), &url("http://h/a.mpd"), NOW).unwrap_err();
        assert!(matches!(err, ManifestError::NoVideo { .. }), "{err}");
    }

    #[test]
    fn video_by_representation_mime_type_and_trick_mode_skipped() {
        let text = r#"<MPD type="static" mediaPresentationDuration="PT10S">
  <Period>
    <AdaptationSet id="1">
      <SegmentTemplate duration="2" media="$RepresentationID$/$Number$.m4s"/>
      <Representation id="a" mimeType="audio/mp4" bandwidth="64000"/>
      <Representation id="v" mimeType="video/mp4" bandwidth="900000"/>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="video" mimeType="video/mp4">
      <EssentialProperty schemeIdUri="http://dashif.org/guidelines/trickmode" value="1"/>
      <SegmentTemplate duration="2" media="trick/$Number$.m4s"/>
      <Representation id="trick" bandwidth="100000"/>
    </AdaptationSet>
  </Period>
</MPD>"#;
        let m = parse_ok(text, "http://h/m.mpd");
        let ids: Vec<&str> = m.periods[0].video.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["v"]);
    }

    #[test]
    fn other_codec_families_are_left_out() {
        let text = r#"<MPD type="static" mediaPresentationDuration="PT10S">
  <Period>
    <AdaptationSet contentType="video" codecs="hvc1.1.6.L93.90">
      <SegmentTemplate duration="2" media="$RepresentationID$/$Number$.m4s"/>
      <Representation id="hevc" bandwidth="900000"/>
    </AdaptationSet>
    <AdaptationSet contentType="video">
      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>
      <SegmentTemplate duration="2" media="$RepresentationID$/$Number$.m4s"/>
      <Representation id="avc-hi" bandwidth="2000000" codecs="avc1.64001f"/>
      <Representation id="avc-lo" bandwidth="500000" codecs="avc1.64001f"/>
    </AdaptationSet>
    <AdaptationSet contentType="video" codecs="avc1.640028">
      <SegmentTemplate duration="2" media="$RepresentationID$/$Number$.m4s"/>
      <Representation id="avc-top" bandwidth="5000000"/>
    </AdaptationSet>
  </Period>
</MPD>"#;
        let m = parse_ok(text, "http://h/m.mpd");
        let ids: Vec<&str> = m.periods[0].video.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["avc-lo", "avc-hi", "avc-top"]);
    }

    #[test]
    fn substitution_rules() {
        let v = Vars {
            id: "v1",
            bandwidth: 500,
            number: Some(7),
            time: Some(9000),
        };
        assert_eq!(
            substitute(
                "$RepresentationID$/$Bandwidth%08d$/$Number%03d$-$Time$.m4s",
                &v,
                true
            )
            .unwrap(),
            "v1/00000500/007-9000.m4s"
        );
        assert_eq!(
            substitute("a$$b$Unknown$c$", &v, true).unwrap(),
            "a$b$Unknown$c$"
        );
        let partial = Vars {
            number: None,
            time: None,
            ..v
        };
        assert_eq!(
            substitute("$$-$RepresentationID$-$Number%04d$", &partial, false).unwrap(),
            "$$-v1-$Number%04d$"
        );
        assert!(substitute("$Number%0999d$", &v, true).is_err());
        assert!(substitute("$Number%x$", &v, true).is_err());
    }

    #[test]
    fn garbage_and_truncated_xml_are_errors() {
        let u = url("http://h/x.mpd");
        for (text, not_a_manifest) in [
            ("", true),
            ("hello world", true),
            ("<?xml version=\"1.0\"?><html><body/></html>", true),
            ("<MPD", false),
            ("<MPD type=\"static\"><Period><AdaptationSet", false),
            (
                "<MPD type='static' mediaPresentationDuration='PT99999999999999999H'/>",
                false,
            ),
            ("<MPD mediaPresentationDuration='banana'/>", false),
            (
                "<MPD mediaPresentationDuration = \"P999999999999Y\"/>",
                false,
            ),
            (
                "<MPD availabilityStartTime=\"99999999-01-01T00:00:00\"/>",
                false,
            ),
            (
                "<MPD availabilityStartTime=\"2024-13-45T99:99:99\"/>",
                false,
            ),
            ("<MPD></Period></MPD>", false),
        ] {
            let err = parse(text.as_bytes(), &u, NOW).unwrap_err();
            if not_a_manifest {
                assert!(
                    matches!(err, ManifestError::NotAManifest { .. }),
                    "{text}: {err}"
                );
            } else {
                assert!(
                    matches!(err, ManifestError::Invalid { .. }),
                    "{text}: {err}"
                );
            }
        }
        assert!(matches!(
            parse(&[0xff, 0xfe, 0x3c, 0x00], &u, NOW),
            Err(ManifestError::NotAManifest { .. })
        ));
        // Every prefix of a valid MPD: an error or a manifest, never a panic.
        for text in [NUMBER_TEMPLATE, TIMELINE, SEGMENT_BASE, DYNAMIC_TIMELINE] {
            for cut in (0..text.len()).filter(|&c| text.is_char_boundary(c)) {
                let _ = parse(&text.as_bytes()[..cut], &u, NOW);
            }
        }
        let half = &NUMBER_TEMPLATE[..NUMBER_TEMPLATE.len() / 2];
        assert!(parse(half.as_bytes(), &u, NOW).is_err());
    }

    #[test]
    fn hostile_values_are_errors() {
        let u = url("http://h/x.mpd");
        for body in [
            r#"<SegmentTemplate duration="0" media="$Number$"/>"#,
            r#"<SegmentTemplate timescale="0" duration="2" media="$Number$"/>"#,
            r#"<SegmentTemplate duration="2"/>"#,
            r#"<SegmentTemplate duration="2" media="$Time$.m4s"/>"#,
            r#"<SegmentTemplate media="$Time$"><SegmentTimeline><S d="1" r="9999999999"/></SegmentTimeline></SegmentTemplate>"#,
            r#"<SegmentTemplate media="$Time$"><SegmentTimeline><S d="0"/></SegmentTimeline></SegmentTemplate>"#,
            r#"<SegmentTemplate media="$Time$"><SegmentTimeline><S t="18446744073709551615" d="5" r="3"/></SegmentTimeline></SegmentTemplate>"#,
            r#"<SegmentTemplate duration="2" media="$Number%0999999999d$"/>"#,
            r#"<SegmentTemplate timescale="1000000" media="$Time$"><SegmentTimeline><S t="0" d="1" r="-1"/></SegmentTimeline></SegmentTemplate>"#,
            r#"<SegmentList duration="2"><SegmentURL mediaRange="9-1"/></SegmentList>"#,
            r#"<SegmentBase indexRange="abc"/>"#,
        ] {
            let text = format!(
                r#"<MPD type="static" mediaPresentationDuration="PT10S"><Period><AdaptationSet contentType="video">{body}<Representation id="v" bandwidth="1"/></AdaptationSet></Period></MPD>"#
            );
            let err = parse(text.as_bytes(), &u, NOW).unwrap_err();
            assert!(
                matches!(err, ManifestError::Invalid { .. }),
                "{body}: {err}"
            );
        }
    }

    #[test]
    fn representation_without_segment_information_is_one_segment() {
        let text = r#"<MPD type="static" mediaPresentationDuration="PT12S"><Period>
  <AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1"><BaseURL>v.mp4</BaseURL></Representation></AdaptationSet>
</Period></MPD>"#;
        let m = parse_ok(text, "http://h/d/m.mpd");
        let segs = list(&m.periods[0].video[0]);
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].duration_s, 12.0);
        assert_eq!(segs[0].resource.url.as_str(), "http://h/d/v.mp4");
    }

    fn mutate(base: &str, edits: &[(usize, u8)]) -> Vec<u8> {
        let mut b = base.as_bytes().to_vec();
        for &(at, byte) in edits {
            if !b.is_empty() {
                let i = at % b.len();
                b[i] = byte;
            }
        }
        b
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = manifest::parse(&bytes, &url("http://h/x"), NOW);
        }

        #[test]
        fn parse_never_panics_on_manifest_like_text(
            prefix in prop_oneof![Just("<MPD "), Just("#EXTM3U\n"), Just("<?xml version=\"1.0\"?><MPD>")],
            body in "[ -~\n]{0,300}",
        ) {
            let text = format!("{prefix}{body}");
            let _ = manifest::parse(text.as_bytes(), &url("http://h/x"), NOW);
        }

        #[test]
        fn parse_never_panics_on_mutated_manifests(
            which in 0usize..5,
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        ) {
            let base = [NUMBER_TEMPLATE, TIMELINE, SEGMENT_LIST, DYNAMIC_TIMELINE, TWO_PERIODS][which];
            let _ = manifest::parse(&mutate(base, &edits), &url("http://h/x"), NOW);
        }
    }
}
