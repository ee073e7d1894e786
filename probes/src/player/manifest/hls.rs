//! HLS master and media playlists (RFC 8216), parsed with `m3u8-rs`.
//!
//! A master playlist becomes one [`Period`] whose representations point at their media
//! playlists ([`SegmentIndex::Playlist`]); the caller loads those with
//! [`parse_media`]. A media playlist given directly becomes a one-representation
//! manifest.
//!
//! Supported: variant streams (I-frame and audio-only variants skipped), the audio
//! rendition (`EXT-X-MEDIA:TYPE=AUDIO` with a `URI`) of the first variant's `AUDIO`
//! group (`DEFAULT=YES`, else `AUTOSELECT=YES`, else the first), played from its own
//! media playlist into its own buffer, `EXTINF` durations, media sequence numbers,
//! `EXT-X-ENDLIST` / `EXT-X-PLAYLIST-TYPE:VOD`, `EXT-X-BYTERANGE` with and without
//! offset, `EXT-X-MAP` (the first one applies to the whole playlist). Not supported:
//! other rendition types (subtitles, alternative video angles), encryption keys,
//! discontinuities beyond keeping times continuous, low latency parts.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use m3u8_rs::Playlist;
use url::Url;

use super::{
    ByteRange, MAX_BANDWIDTH_BPS, Manifest, ManifestError, ManifestFormat, Period, Representation,
    Resource, Segment, SegmentIndex,
};

/// A loaded HLS media playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaPlaylist {
    /// No `#EXT-X-ENDLIST` (and not `#EXT-X-PLAYLIST-TYPE:VOD`): reload it every
    /// target duration.
    pub live: bool,
    /// `#EXT-X-TARGETDURATION` in seconds (the longest segment if the tag is 0).
    pub target_duration_s: f64,
    /// The segments, numbered by media sequence, in playlist order.
    pub segments: Vec<Segment>,
    /// The initialization section (`#EXT-X-MAP`), if any.
    pub init: Option<Resource>,
}

impl MediaPlaylist {
    /// The sum of the segment durations, in seconds.
    pub fn total_duration_s(&self) -> f64 {
        self.segments.iter().map(|s| s.duration_s).sum()
    }
}

/// Codec prefixes (RFC 6381 sample entries) that carry video.
const VIDEO_CODECS: &[&str] = &[
    "avc1", "avc3", "hvc1", "hev1", "dvh1", "dvhe", "dva1", "dvav", "vp08", "vp8", "vp09", "vp9",
    "av01", "mp4v", "vvc1", "vvi1",
];
/// Codec prefixes that carry audio.
const AUDIO_CODECS: &[&str] = &[
    "mp4a", "ac-3", "ec-3", "ac-4", "opus", "flac", "alac", "dtsc", "dtse", "dtsh", "dtsl", "mha1",
    "mhm1", ".mp3", "mp3",
];

fn has_prefix(codec: &str, list: &[&str]) -> bool {
    let c = codec.trim().to_ascii_lowercase();
    list.iter().any(|p| c.starts_with(p))
}

/// Whether a `CODECS` string lists only audio codecs (such a variant has no video).
fn audio_only(codecs: &str) -> bool {
    let list: Vec<&str> = codecs.split(',').filter(|c| !c.trim().is_empty()).collect();
    !list.is_empty()
        && list.iter().all(|c| has_prefix(c, AUDIO_CODECS))
        && !list.iter().any(|c| has_prefix(c, VIDEO_CODECS))
}

/// Skips a UTF-8 byte order mark and leading whitespace.
fn trim_start(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

fn invalid(url: &Url, detail: impl Into<String>) -> ManifestError {
    ManifestError::Invalid {
        url: url.to_string(),
        detail: detail.into(),
    }
}

fn join(base: &Url, reference: &str) -> Result<Url, ManifestError> {
    base.join(reference.trim())
        .map_err(|e| invalid(base, format!("cannot resolve URI {reference:?}: {e}")))
}

/// Parses an HLS playlist, master or media, fetched from `url`.
///
/// A master playlist gives one period with one representation per video variant
/// (sorted by `BANDWIDTH`, each [`SegmentIndex::Playlist`]); `live` is `false` and no
/// refresh is set until a media playlist is loaded with [`parse_media`]. A media
/// playlist gives one representation with [`SegmentIndex::List`] (bandwidth 0).
pub fn parse(bytes: &[u8], url: &Url) -> Result<Manifest, ManifestError> {
    let bytes = trim_start(bytes);
    if !bytes.starts_with(b"#EXTM3U") {
        return Err(ManifestError::NotAManifest {
            url: url.to_string(),
            detail: "no #EXTM3U header".into(),
        });
    }
    if m3u8_rs::is_master_playlist(bytes) {
        parse_master(bytes, url)
    } else {
        let media = parse_media(bytes, url, None)?;
        Ok(media_manifest(media, url))
    }
}

fn parse_master(bytes: &[u8], url: &Url) -> Result<Manifest, ManifestError> {
    // m3u8-rs is a nom parser and should not panic, but a panic in a third-party
    // parser must not take the prober down: it becomes an error.
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        m3u8_rs::parse_playlist_res(bytes).map_err(|e| format!("{e:?}"))
    }))
    .unwrap_or_else(|_| Err("the m3u8 parser panicked".into()));
    let master = match parsed {
        Ok(Playlist::MasterPlaylist(m)) => m,
        Ok(Playlist::MediaPlaylist(_)) => {
            return Err(invalid(url, "expected a master playlist"));
        }
        Err(e) => return Err(invalid(url, format!("malformed master playlist: {e}"))),
    };
    let mut video: Vec<Representation> = Vec::new();
    for v in &master.variants {
        if v.is_i_frame || v.uri.trim().is_empty() {
            continue;
        }
        if v.codecs.as_deref().is_some_and(audio_only) {
            continue;
        }
        if v.bandwidth > MAX_BANDWIDTH_BPS {
            return Err(invalid(
                url,
                format!(
                    "variant {:?}: BANDWIDTH {} bit/s is beyond {MAX_BANDWIDTH_BPS} (1 Tbit/s)",
                    v.uri, v.bandwidth
                ),
            ));
        }
        let playlist = join(url, &v.uri)?;
        if video
            .iter()
            .any(|r| matches!(&r.segments, SegmentIndex::Playlist(u) if *u == playlist))
        {
            // The same video listed once per audio group: keep the first.
            continue;
        }
        video.push(Representation {
            id: v.uri.clone(),
            bandwidth_bps: v.bandwidth,
            width: v.resolution.and_then(|r| u32::try_from(r.width).ok()),
            height: v.resolution.and_then(|r| u32::try_from(r.height).ok()),
            codecs: v.codecs.clone(),
            init: None,
            segments: SegmentIndex::Playlist(playlist),
        });
    }
    if video.is_empty() {
        return Err(ManifestError::NoVideo {
            url: url.to_string(),
        });
    }
    video.sort_by_key(|r| r.bandwidth_bps);
    let audio = audio_rendition(&master, url)?.into_iter().collect();
    Ok(Manifest {
        format: ManifestFormat::Hls,
        url: url.clone(),
        live: false,
        refresh_interval: None,
        duration: None,
        availability_start_unix_ms: None,
        live_delay: None,
        periods: vec![Period {
            id: None,
            start_s: 0.0,
            duration_s: None,
            video,
            audio,
        }],
    })
}

/// The audio rendition a player picks: in the `AUDIO` group of the first variant
/// that names one, the `DEFAULT=YES` rendition, else the `AUTOSELECT=YES` one, else
/// the first; `None` when the group has no rendition with its own playlist (the audio
/// is then muxed into the variant streams).
fn audio_rendition(
    master: &m3u8_rs::MasterPlaylist,
    url: &Url,
) -> Result<Option<Representation>, ManifestError> {
    let Some(group) = master
        .variants
        .iter()
        .filter(|v| !v.is_i_frame)
        .find_map(|v| v.audio.as_deref())
    else {
        return Ok(None);
    };
    let in_group: Vec<&m3u8_rs::AlternativeMedia> = master
        .alternatives
        .iter()
        .filter(|a| {
            a.media_type == m3u8_rs::AlternativeMediaType::Audio
                && a.group_id == group
                && a.uri.as_deref().is_some_and(|u| !u.trim().is_empty())
        })
        .collect();
    let chosen = in_group
        .iter()
        .find(|a| a.default)
        .or_else(|| in_group.iter().find(|a| a.autoselect))
        .or(in_group.first());
    let Some(a) = chosen else { return Ok(None) };
    let uri = a.uri.clone().unwrap_or_default();
    Ok(Some(Representation {
        id: uri.clone(),
        bandwidth_bps: 0,
        width: None,
        height: None,
        codecs: None,
        init: None,
        segments: SegmentIndex::Playlist(join(url, &uri)?),
    }))
}

fn secs(s: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(s).ok()
}

/// A manifest made of a single media playlist.
fn media_manifest(media: MediaPlaylist, url: &Url) -> Manifest {
    let total = media.total_duration_s();
    let target = media.target_duration_s;
    let start_s = media.segments.first().map_or(0.0, |s| s.start_s);
    Manifest {
        format: ManifestFormat::Hls,
        url: url.clone(),
        live: media.live,
        refresh_interval: if media.live { secs(target) } else { None },
        duration: if media.live { None } else { secs(total) },
        availability_start_unix_ms: None,
        live_delay: if media.live { secs(3.0 * target) } else { None },
        periods: vec![Period {
            id: None,
            start_s,
            duration_s: if media.live { None } else { Some(total) },
            video: vec![Representation {
                id: url.to_string(),
                bandwidth_bps: 0,
                width: None,
                height: None,
                codecs: None,
                init: media.init,
                segments: SegmentIndex::List(media.segments),
            }],
            audio: Vec::new(),
        }],
    }
}

/// A non-negative finite duration from m3u8-rs's `f32`, keeping the decimal value
/// written in the playlist (`6.006` stays 6.006, not 6.0060000419...).
fn duration_f64(d: f32) -> Option<f64> {
    let v: f64 = d.to_string().parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v)
}

fn byte_range(url: &Url, length: u64, offset: u64) -> Result<ByteRange, ManifestError> {
    if length == 0 {
        return Err(invalid(url, "EXT-X-BYTERANGE with length 0"));
    }
    let last = offset
        .checked_add(length - 1)
        .ok_or_else(|| invalid(url, "EXT-X-BYTERANGE overflows"))?;
    Ok(ByteRange {
        first: offset,
        last,
    })
}

/// Parses a media playlist fetched from `url`.
///
/// Segment numbers are media sequence numbers. `anchor` places the segments in time:
/// `Some((number, start_s))` says segment `number` starts at `start_s` (from an earlier
/// load of the same playlist, so that live reloads keep consistent times); if that
/// number is no longer (or not yet) in the list, the start is extrapolated with the
/// listed durations and, beyond them, the target duration. Without an anchor the first
/// listed segment starts at 0.
pub fn parse_media(
    bytes: &[u8],
    url: &Url,
    anchor: Option<(u64, f64)>,
) -> Result<MediaPlaylist, ManifestError> {
    let bytes = trim_start(bytes);
    if !bytes.starts_with(b"#EXTM3U") {
        return Err(ManifestError::NotAManifest {
            url: url.to_string(),
            detail: "no #EXTM3U header".into(),
        });
    }
    if m3u8_rs::is_master_playlist(bytes) {
        return Err(invalid(
            url,
            "expected a media playlist, got a master playlist",
        ));
    }
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        m3u8_rs::parse_media_playlist_res(bytes).map_err(|e| format!("{e:?}"))
    }))
    .unwrap_or_else(|_| Err("the m3u8 parser panicked".into()));
    let pl = parsed.map_err(|e| invalid(url, format!("malformed media playlist: {e}")))?;

    let vod = matches!(pl.playlist_type, Some(m3u8_rs::MediaPlaylistType::Vod));
    let live = !pl.end_list && !vod;
    if !live && pl.segments.is_empty() {
        return Err(invalid(
            url,
            "the playlist ends (#EXT-X-ENDLIST or VOD) but lists no segment: nothing to play",
        ));
    }
    if live && pl.target_duration == 0 {
        // Without it the reload interval is unknown: an empty or garbage playlist
        // would be reloaded as an endless live stream (RFC 8216 4.3.3.1: required).
        return Err(invalid(
            url,
            "a live media playlist (no #EXT-X-ENDLIST) needs #EXT-X-TARGETDURATION, a whole number of seconds >= 1; is this an HLS playlist?",
        ));
    }
    let mut init: Option<Resource> = None;
    let mut next_offset: HashMap<Url, u64> = HashMap::new();
    let mut items: Vec<(f64, Resource)> = Vec::with_capacity(pl.segments.len());
    for seg in &pl.segments {
        if let Some(map) = &seg.map
            && init.is_none()
        {
            let range = match &map.byte_range {
                Some(br) => Some(byte_range(url, br.length, br.offset.unwrap_or(0))?),
                None => None,
            };
            init = Some(Resource {
                url: join(url, &map.uri)?,
                range,
            });
        }
        let duration = duration_f64(seg.duration)
            .ok_or_else(|| invalid(url, format!("bad EXTINF duration {}", seg.duration)))?;
        let seg_url = join(url, &seg.uri)?;
        let range = match &seg.byte_range {
            Some(br) => {
                let offset = br
                    .offset
                    .or_else(|| next_offset.get(&seg_url).copied())
                    .unwrap_or(0);
                let r = byte_range(url, br.length, offset)?;
                next_offset.insert(seg_url.clone(), r.last.saturating_add(1));
                Some(r)
            }
            None => None,
        };
        items.push((
            duration,
            Resource {
                url: seg_url,
                range,
            },
        ));
    }

    let longest = items.iter().map(|(d, _)| *d).fold(0.0_f64, f64::max);
    let target_duration_s = if pl.target_duration > 0 {
        pl.target_duration as f64
    } else {
        longest
    };
    let first_number = pl.media_sequence;
    let first_start = match anchor {
        None => 0.0,
        Some((n, s)) => {
            let listed = items.len() as u64;
            if n >= first_number {
                let k = n - first_number;
                let within: f64 = items
                    .iter()
                    .take(usize::try_from(k).unwrap_or(usize::MAX))
                    .map(|(d, _)| *d)
                    .sum();
                let beyond = k.saturating_sub(listed) as f64 * target_duration_s;
                s - within - beyond
            } else {
                s + (first_number - n) as f64 * target_duration_s
            }
        }
    };
    let mut start = first_start;
    let segments = items
        .into_iter()
        .enumerate()
        .map(|(i, (duration_s, resource))| {
            let seg = Segment {
                number: first_number.saturating_add(i as u64),
                start_s: start,
                duration_s,
                resource,
            };
            start += duration_s;
            seg
        })
        .collect();
    Ok(MediaPlaylist {
        live,
        target_duration_s,
        segments,
        init,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const MASTER: &str = "#EXTM3U
#EXT-X-VERSION:6
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"en\",DEFAULT=YES,URI=\"audio/en.m3u8\"
#EXT-X-STREAM-INF:BANDWIDTH=2500000,AVERAGE-BANDWIDTH=2300000,RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\",AUDIO=\"aud\"
v720/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS=\"avc1.4d401e,mp4a.40.2\",AUDIO=\"aud\"
v360/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=5000000,RESOLUTION=1920x1080,CODECS=\"avc1.640028,mp4a.40.2\",AUDIO=\"aud\"
http://cdn.example/v1080/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS=\"mp4a.40.2\"
audio-only/index.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=150000,RESOLUTION=640x360,CODECS=\"avc1.4d401e\",URI=\"v360/iframes.m3u8\"
";

    #[test]
    fn master_playlist_lists_video_variants_by_bandwidth() {
        let base = url("http://h/vod/master.m3u8");
        let m = parse(MASTER.as_bytes(), &base).unwrap();
        assert_eq!(m.format, ManifestFormat::Hls);
        assert!(!m.live);
        assert_eq!(m.refresh_interval, None);
        assert_eq!(m.periods.len(), 1);
        let v = &m.periods[0].video;
        let bw: Vec<u64> = v.iter().map(|r| r.bandwidth_bps).collect();
        assert_eq!(bw, vec![800_000, 2_500_000, 5_000_000]);
        assert_eq!(v[0].id, "v360/index.m3u8");
        assert_eq!(v[0].width, Some(640));
        assert_eq!(v[0].height, Some(360));
        assert_eq!(v[0].codecs.as_deref(), Some("avc1.4d401e,mp4a.40.2"));
        let a = &m.periods[0].audio;
        assert_eq!(a.len(), 1, "the default audio rendition");
        assert_eq!(
            a[0].segments,
            SegmentIndex::Playlist(url("http://h/vod/audio/en.m3u8"))
        );
        assert_eq!(
            v[0].segments,
            SegmentIndex::Playlist(url("http://h/vod/v360/index.m3u8"))
        );
        assert_eq!(
            v[2].segments,
            SegmentIndex::Playlist(url("http://cdn.example/v1080/index.m3u8"))
        );
        assert!(!v[0].is_resolved());
    }

    #[test]
    fn master_with_only_audio_is_no_video() {
        let text = "#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS=\"mp4a.40.2\"
a/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=128000,CODECS=\"mp4a.40.2,ec-3\"
b/index.m3u8
";
        let err = parse(text.as_bytes(), &url("http://h/m.m3u8")).unwrap_err();
        assert!(matches!(err, ManifestError::NoVideo { .. }), "{err}");
    }

    const VOD: &str = "#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI=\"init.mp4\"
#EXTINF:6.006,
seg0.m4s
#EXTINF:6.006,
seg1.m4s
#EXTINF:3.5,
seg2.m4s
#EXT-X-ENDLIST
";

    #[test]
    fn vod_media_playlist_becomes_a_manifest() {
        let base = url("http://h/vod/v360/index.m3u8");
        let m = parse(VOD.as_bytes(), &base).unwrap();
        assert!(!m.live);
        assert_eq!(m.refresh_interval, None);
        let p = &m.periods[0];
        assert_eq!(p.video.len(), 1);
        let r = &p.video[0];
        assert_eq!(r.bandwidth_bps, 0);
        assert_eq!(
            r.init,
            Some(Resource {
                url: url("http://h/vod/v360/init.mp4"),
                range: None
            })
        );
        let SegmentIndex::List(segs) = &r.segments else {
            panic!("expected a list")
        };
        assert_eq!(segs.len(), 3);
        assert_eq!(segs[1].number, 1);
        assert_eq!(segs[1].start_s, 6.006);
        assert_eq!(segs[1].duration_s, 6.006);
        assert!((segs[2].start_s - 12.012).abs() < 1e-9);
        assert_eq!(segs[2].resource.url.as_str(), "http://h/vod/v360/seg2.m4s");
        let total = 6.006 + 6.006 + 3.5;
        assert!((p.duration_s.unwrap() - total).abs() < 1e-9);
        assert!((m.duration.unwrap().as_secs_f64() - total).abs() < 1e-6);
    }

    fn live(seq: u64, first: u64, n: u64) -> String {
        let mut s = format!(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:{seq}\n"
        );
        for k in first..first + n {
            s.push_str(&format!("#EXTINF:4.0,\nlive{k}.ts\n"));
        }
        s
    }

    #[test]
    fn live_media_playlist_without_endlist() {
        let base = url("http://h/live/index.m3u8");
        let m = parse(live(100, 100, 5).as_bytes(), &base).unwrap();
        assert!(m.live);
        assert_eq!(m.refresh_interval, Some(Duration::from_secs(4)));
        assert_eq!(m.live_delay, Some(Duration::from_secs(12)));
        assert_eq!(m.duration, None);
        assert_eq!(m.periods[0].duration_s, None);
        let SegmentIndex::List(segs) = &m.periods[0].video[0].segments else {
            panic!("expected a list")
        };
        assert_eq!(segs[0].number, 100);
        assert_eq!(segs[0].start_s, 0.0);
        assert_eq!(segs[4].number, 104);
        assert_eq!(segs[4].start_s, 16.0);
    }

    #[test]
    fn anchor_keeps_times_consistent_across_reloads() {
        let base = url("http://h/live/index.m3u8");
        let first = parse_media(live(100, 100, 5).as_bytes(), &base, None).unwrap();
        assert!(first.live);
        assert_eq!(first.target_duration_s, 4.0);
        let last = first.segments.last().unwrap();
        assert_eq!((last.number, last.start_s), (104, 16.0));

        // The window slid by 3: 103..=107; the anchor (104) is still listed.
        let second = parse_media(live(103, 103, 5).as_bytes(), &base, Some((104, 16.0))).unwrap();
        assert_eq!(second.segments[0].number, 103);
        assert_eq!(second.segments[0].start_s, 12.0);
        assert_eq!(second.segments[4].number, 107);
        assert_eq!(second.segments[4].start_s, 28.0);

        // The window slid past the anchor: 110..=114, anchor 104 at 16 s.
        let third = parse_media(live(110, 110, 5).as_bytes(), &base, Some((104, 16.0))).unwrap();
        assert_eq!(third.segments[0].start_s, 16.0 + 6.0 * 4.0);

        // An anchor beyond the list (the playlist lags behind): extrapolate backwards.
        let lag = parse_media(live(100, 100, 3).as_bytes(), &base, Some((104, 16.0))).unwrap();
        assert_eq!(lag.segments[0].start_s, 0.0);
        assert_eq!(lag.segments[2].start_s, 8.0);
    }

    #[test]
    fn byte_ranges_with_and_without_offsets() {
        let text = "#EXTM3U
#EXT-X-VERSION:4
#EXT-X-TARGETDURATION:4
#EXT-X-MAP:URI=\"main.mp4\",BYTERANGE=\"720@0\"
#EXTINF:4,
#EXT-X-BYTERANGE:1000@720
main.mp4
#EXTINF:4,
#EXT-X-BYTERANGE:2000
main.mp4
#EXTINF:4,
#EXT-X-BYTERANGE:500
other.mp4
#EXTINF:4,
#EXT-X-BYTERANGE:300
main.mp4
#EXT-X-ENDLIST
";
        let base = url("http://h/br/index.m3u8");
        let pl = parse_media(text.as_bytes(), &base, None).unwrap();
        assert!(!pl.live);
        assert_eq!(
            pl.init,
            Some(Resource {
                url: url("http://h/br/main.mp4"),
                range: Some(ByteRange {
                    first: 0,
                    last: 719
                })
            })
        );
        let ranges: Vec<(String, ByteRange)> = pl
            .segments
            .iter()
            .map(|s| (s.resource.url.to_string(), s.resource.range.unwrap()))
            .collect();
        assert_eq!(
            ranges[0].1,
            ByteRange {
                first: 720,
                last: 1719
            }
        );
        assert_eq!(
            ranges[1].1,
            ByteRange {
                first: 1720,
                last: 3719
            }
        );
        assert_eq!(ranges[2].0, "http://h/br/other.mp4");
        assert_eq!(
            ranges[2].1,
            ByteRange {
                first: 0,
                last: 499
            }
        );
        assert_eq!(
            ranges[3].1,
            ByteRange {
                first: 3720,
                last: 4019
            }
        );
    }

    #[test]
    fn master_given_to_parse_media_is_an_error() {
        let err = parse_media(MASTER.as_bytes(), &url("http://h/m.m3u8"), None).unwrap_err();
        assert!(matches!(err, ManifestError::Invalid { .. }), "{err}");
    }

    #[test]
    fn garbage_is_an_error() {
        let u = url("http://h/x.m3u8");
        assert!(matches!(
            parse(b"hello", &u),
            Err(ManifestError::NotAManifest { .. })
        ));
        for text in [
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=abc\nv.m3u8\n",
            "#EXTM3U\n#EXT-X-STREAM-INF:\n",
            "#EXTM3U\n#EXTINF:x\n",
            "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-BYTERANGE:0@5\n#EXTINF:4,\na.ts\n",
            "\u{feff}#EXTM3U\n#EXTINF:4,\n",
        ] {
            // Errors or degenerate playlists, never a panic.
            let _ = parse(text.as_bytes(), &u);
        }
    }

    #[test]
    fn empty_and_garbage_playlists_are_refused_not_taken_as_live() {
        let u = url("http://h/x.m3u8");
        for text in [
            "#EXTM3U\n",
            "#EXTM3U",
            "#EXTM3U\nhello world\n\u{0}\u{1}garbage\n",
            "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n",
            "#EXTM3U\n#EXTINF:4,\na.ts\n",
            "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-ENDLIST\n",
            "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:4\n",
        ] {
            match parse(text.as_bytes(), &u) {
                Err(ManifestError::Invalid { .. } | ManifestError::NoVideo { .. }) => {}
                other => panic!("{text:?} gave {other:?}"),
            }
        }
        // A master that lists no variant is no video, whatever else it has.
        let master = "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\",URI=\"a.m3u8\"\n";
        assert!(matches!(
            parse(master.as_bytes(), &u),
            Err(ManifestError::NoVideo { .. })
        ));
        // A live playlist with its target duration and no segment yet is valid.
        let starting = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:7\n";
        let m = parse(starting.as_bytes(), &u).unwrap();
        assert!(m.live);
        assert_eq!(m.refresh_interval, Some(Duration::from_secs(4)));
    }
}
