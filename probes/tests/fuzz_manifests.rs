//! Property harness over the manifest parsers: DASH MPDs and HLS playlists generated
//! from their grammars with hostile values (huge, negative, zero, malformed numbers,
//! durations and dates; template widths; timelines with `r=-1`; byte ranges that
//! overflow; odd base URLs), and `sidx` boxes with lying sizes and counts. Properties:
//! parsing never panics and ends within a bound; what parses can be played from
//! (segment lookups at any time never panic, byte ranges are ordered).
//!
//! Cases per property: `PROPTEST_CASES` (default 256; `make fuzz` sets many more).

use probes::player::manifest::{self, ByteRange, Manifest, SegmentIndex, hls, sidx};
use proptest::prelude::*;
use std::time::{Duration, Instant};
use url::Url;

/// The most one parse (and the lookups after it) may take, debug build included.
const BOUND: Duration = Duration::from_secs(5);

fn pick(options: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(options).prop_map(String::from)
}

/// A document is usable only when every field is, so each field is plausible most of
/// the time and hostile now and then (a tenth of the generated documents parse).
const PLAUSIBLE: u32 = 30;
/// Weight of each hostile alternative.
const HOSTILE: u32 = 1;

/// An integer attribute: plausible, extreme or malformed.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        PLAUSIBLE => (1u64..10_000).prop_map(|v| v.to_string()),
        HOSTILE => any::<u64>().prop_map(|v| v.to_string()),
        HOSTILE => pick(&["0", "-1", "18446744073709551615", "18446744073709551616", "1e30", "NaN", "x", "", " 7 "]),
    ]
}

/// An ISO 8601 duration attribute.
fn duration() -> impl Strategy<Value = String> {
    prop_oneof![
        PLAUSIBLE => (1u32..10_000).prop_map(|s| format!("PT{s}S")),
        HOSTILE => (0.0f64..1e6).prop_map(|s| format!("PT{s}S")),
        HOSTILE => pick(&["PT0S", "PT1M0.5S", "P1D", "P1Y2M", "PT-5S", "PT1e400S", "PT18446744073709551616S", "P99999999999Y", "PT0.000000001S", "garbage", ""]),
    ]
}

/// An ISO 8601 date-time attribute.
fn datetime() -> impl Strategy<Value = String> {
    prop_oneof![
        PLAUSIBLE => pick(&["2024-01-01T00:00:00Z", "2023-12-31T23:00:00.5Z"]),
        HOSTILE => pick(&[
            "1970-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "0000-01-01T00:00:00Z",
            "2024-02-30T25:61:61Z",
            "2024-01-01T00:00:00+14:00",
            "yesterday",
            "",
        ]),
    ]
}

fn base_url() -> impl Strategy<Value = String> {
    prop_oneof![
        PLAUSIBLE => pick(&["http://h/", "v/", "../../", "https://a.example/b?c#d", "//other/"]),
        HOSTILE => pick(&["http://[::1", "::::", "data:,x", "file:///etc/", ""]),
    ]
}

fn media_template() -> impl Strategy<Value = String> {
    prop_oneof![
        PLAUSIBLE => pick(&["$RepresentationID$/$Number$.m4s", "seg-$Number%05d$.m4s", "$Time$.m4s", "$Bandwidth$-$Number$"]),
        HOSTILE => pick(&[
            "$Number%032d$",
            "$Number%033d$",
            "$Number%0999999999999d$",
            "$$$Number$",
            "$",
            "$Number",
            "$Unknown$",
        ]),
        HOSTILE => "[a-z0-9$%./]{0,16}",
    ]
}

/// ` name="value"`, present most of the time.
fn opt_attr(name: &'static str, v: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    proptest::option::weighted(0.8, v)
        .prop_map(move |o| o.map(|v| format!(" {name}=\"{v}\"")).unwrap_or_default())
}

/// A SegmentTemplate, SegmentTimeline, SegmentList or SegmentBase element (or none).
fn addressing() -> impl Strategy<Value = String> {
    let timeline_s = (
        opt_attr("t", number()),
        opt_attr("d", number()),
        opt_attr(
            "r",
            prop_oneof![pick(&["-1", "0", "3", "100000", "4294967296"]), number()],
        ),
    )
        .prop_map(|(t, d, r)| format!("<S{t}{d}{r}/>"));
    let template = (
        opt_attr("duration", number()),
        opt_attr("timescale", number()),
        opt_attr("startNumber", number()),
        opt_attr("presentationTimeOffset", number()),
        opt_attr("media", media_template()),
        opt_attr("initialization", media_template()),
        proptest::option::weighted(0.6, proptest::collection::vec(timeline_s, 1..6)),
    )
        .prop_map(|(d, ts, sn, pto, m, i, tl)| {
            let tl = tl
                .map(|s| format!("<SegmentTimeline>{}</SegmentTimeline>", s.concat()))
                .unwrap_or_default();
            format!("<SegmentTemplate{d}{ts}{sn}{pto}{m}{i}>{tl}</SegmentTemplate>")
        });
    let range = prop_oneof![
        PLAUSIBLE => (0u64..1_000_000, 1u64..100_000).prop_map(|(a, n)| format!("{a}-{}", a + n)),
        HOSTILE => pick(&["99-0", "x-1", "18446744073709551615-18446744073709551615", "0-18446744073709551616", "5", ""]),
        HOSTILE => (any::<u64>(), any::<u64>()).prop_map(|(a, b)| format!("{a}-{b}")),
    ];
    let list = (
        opt_attr("duration", number()),
        opt_attr("timescale", number()),
        proptest::collection::vec(
            (
                opt_attr("media", media_template()),
                opt_attr("mediaRange", range.clone()),
            ),
            0..5,
        ),
    )
        .prop_map(|(d, ts, urls)| {
            let urls: String = urls
                .iter()
                .map(|(m, r)| format!("<SegmentURL{m}{r}/>"))
                .collect();
            format!("<SegmentList{d}{ts}>{urls}</SegmentList>")
        });
    let base = (
        opt_attr("indexRange", range),
        opt_attr("timescale", number()),
    )
        .prop_map(|(r, ts)| format!("<SegmentBase{r}{ts}/>"));
    prop_oneof![template, list, base, Just(String::new())]
}

fn representation() -> impl Strategy<Value = String> {
    (
        opt_attr("id", "[a-z0-9]{0,4}"),
        opt_attr("bandwidth", number()),
        opt_attr("width", number()),
        opt_attr("height", number()),
        addressing(),
        proptest::option::of(base_url()),
    )
        .prop_map(|(id, bw, w, h, a, b)| {
            let b = b
                .map(|b| format!("<BaseURL>{b}</BaseURL>"))
                .unwrap_or_default();
            format!("<Representation{id}{bw}{w}{h}>{b}{a}</Representation>")
        })
}

/// `usual`, or now and then one of `others`.
fn mostly(usual: &'static str, others: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![PLAUSIBLE => Just(usual.to_string()), HOSTILE * 3 => pick(others)]
}

fn mpd() -> impl Strategy<Value = String> {
    let set = (
        opt_attr("contentType", mostly("video", &["audio", "text", ""])),
        opt_attr("mimeType", mostly("video/mp4", &["audio/mp4", "x"])),
        addressing(),
        proptest::collection::vec(representation(), 1..4),
    )
        .prop_map(|(ct, mt, a, reps)| {
            format!(
                "<AdaptationSet{ct}{mt}>{a}{}</AdaptationSet>",
                reps.concat()
            )
        });
    let period = (
        opt_attr("id", "[a-z0-9]{0,4}"),
        opt_attr("start", duration()),
        opt_attr("duration", duration()),
        proptest::option::of(base_url()),
        proptest::collection::vec(set, 1..3),
    )
        .prop_map(|(id, s, d, b, sets)| {
            let b = b
                .map(|b| format!("<BaseURL>{b}</BaseURL>"))
                .unwrap_or_default();
            format!("<Period{id}{s}{d}>{b}{}</Period>", sets.concat())
        });
    (
        opt_attr("type", prop_oneof![PLAUSIBLE => pick(&["static", "dynamic"]), HOSTILE => Just("other".to_string())]),
        opt_attr("mediaPresentationDuration", duration()),
        opt_attr("availabilityStartTime", datetime()),
        opt_attr("minimumUpdatePeriod", duration()),
        opt_attr("timeShiftBufferDepth", duration()),
        opt_attr("suggestedPresentationDelay", duration()),
        proptest::option::of(base_url()),
        proptest::collection::vec(period, 1..4),
    )
        .prop_map(|(ty, mpd, ast, mup, tsb, spd, b, periods)| {
            let b = b.map(|b| format!("<BaseURL>{b}</BaseURL>")).unwrap_or_default();
            format!(
                r#"<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011"{ty}{mpd}{ast}{mup}{tsb}{spd} minBufferTime="PT2S">{b}{}</MPD>"#,
                periods.concat()
            )
        })
}

/// Wall clocks a player may run with (ms since the epoch).
fn now_ms() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(1_704_067_200_000i64),
        0i64..4_102_444_800_000,
        Just(i64::MAX),
        Just(i64::MIN),
        Just(-1),
    ]
}

/// Presentation times a player may ask about.
fn times() -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec(
        prop_oneof![
            0.0f64..100_000.0,
            any::<f64>(),
            Just(f64::MAX),
            Just(-1.0),
            Just(f64::NAN)
        ],
        0..6,
    )
}

/// Plays from what parsed: lookups a player makes, at any time.
fn exercise(m: &Manifest, ts: &[f64]) -> Result<(), TestCaseError> {
    for p in &m.periods {
        for r in &p.video {
            let _ = (
                r.is_resolved(),
                r.known_end_s(),
                r.nominal_segment_duration_s(),
            );
            for &t in ts.iter().chain([p.start_s, 0.0].iter()) {
                if let Some(s) = r.segment_from(t)
                    && let Some(range) = s.resource.range
                {
                    prop_assert!(range.first <= range.last, "{range:?}");
                }
            }
            match &r.segments {
                SegmentIndex::Template(tpl) => {
                    for n in [
                        tpl.start_number,
                        tpl.start_number.saturating_add(1),
                        u64::MAX,
                        0,
                    ] {
                        let _ = tpl.segment(n);
                    }
                    for &t in ts {
                        let _ = tpl.segment(tpl.number_at(t));
                    }
                }
                SegmentIndex::List(l) => prop_assert!(l.len() <= 1_000_000, "{}", l.len()),
                _ => {}
            }
        }
    }
    Ok(())
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
    let t0 = Instant::now();
    let v = f();
    let took = t0.elapsed();
    prop_assert!(took < BOUND, "{what} took {took:?}");
    Ok(v)
}

/// A media playlist line by line.
fn media_playlist() -> impl Strategy<Value = String> {
    let seg = (
        prop_oneof![
            pick(&["10", "4.5", "0", "-1", "1e308", "nan", "inf", "x", ""]),
            (0.0f64..20.0).prop_map(|d| d.to_string())
        ],
        proptest::option::of(prop_oneof![
            pick(&[
                "100@0",
                "100",
                "0@0",
                "18446744073709551615@18446744073709551615",
                "1@x",
                "@",
                "-5@3"
            ]),
            (any::<u32>(), any::<u64>()).prop_map(|(l, o)| format!("{l}@{o}")),
        ]),
        any::<bool>(),
        pick(&["s1.ts", "http://h/s.ts", "../x.m4s", "http://[::1", " ", ""]),
    )
        .prop_map(|(d, br, disc, uri)| {
            let br = br
                .map(|b| format!("#EXT-X-BYTERANGE:{b}\n"))
                .unwrap_or_default();
            let disc = if disc { "#EXT-X-DISCONTINUITY\n" } else { "" };
            format!("#EXTINF:{d},\n{br}{disc}{uri}\n")
        });
    (
        opt_line("#EXT-X-VERSION:", number()),
        opt_line("#EXT-X-TARGETDURATION:", number()),
        opt_line("#EXT-X-MEDIA-SEQUENCE:", number()),
        opt_line("#EXT-X-PLAYLIST-TYPE:", pick(&["VOD", "EVENT", "x"])),
        proptest::collection::vec(seg, 0..12),
        any::<bool>(),
    )
        .prop_map(|(v, td, ms, pt, segs, end)| {
            format!(
                "#EXTM3U\n{v}{td}{ms}{pt}{}{}",
                segs.concat(),
                if end { "#EXT-X-ENDLIST\n" } else { "" }
            )
        })
}

fn opt_line(tag: &'static str, v: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    proptest::option::of(v).prop_map(move |o| o.map(|v| format!("{tag}{v}\n")).unwrap_or_default())
}

fn master_playlist() -> impl Strategy<Value = String> {
    let variant = (
        number(),
        pick(&["640x360", "0x0", "99999999999x1", "x", ""]),
        pick(&["v1.m3u8", "http://h/v.m3u8", "http://[::1", ""]),
    )
        .prop_map(|(bw, res, uri)| {
            format!(
                "#EXT-X-STREAM-INF:BANDWIDTH={bw},RESOLUTION={res},CODECS=\"avc1.64001f\"\n{uri}\n"
            )
        });
    proptest::collection::vec(variant, 0..5)
        .prop_map(|v| format!("#EXTM3U\n#EXT-X-VERSION:3\n{}", v.concat()))
}

/// A sidx box: `(declared size kind, version, timescale, first_offset, declared
/// count, references (type bit, size, duration))`.
fn sidx_box() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![PLAUSIBLE => Just(0u8), HOSTILE * 3 => 1u8..4],
        prop_oneof![PLAUSIBLE => 0u8..2, HOSTILE => Just(2u8)],
        prop_oneof![PLAUSIBLE => 1u32..100_000, HOSTILE => Just(0u32), HOSTILE => any::<u32>()],
        prop_oneof![PLAUSIBLE => 0u64..1000, HOSTILE => any::<u64>()],
        proptest::option::weighted(0.05, any::<u16>()),
        proptest::collection::vec(
            (
                proptest::bool::weighted(0.02),
                prop_oneof![PLAUSIBLE => 1u32..10_000_000, HOSTILE => any::<u32>()],
                any::<u32>(),
            ),
            1..12,
        ),
        any::<u64>(),
    )
        .prop_map(
            |(size_kind, version, timescale, first_offset, count, refs, junk)| {
                let mut body = vec![version, 0, 0, 0];
                body.extend_from_slice(&1u32.to_be_bytes());
                body.extend_from_slice(&timescale.to_be_bytes());
                if version == 0 {
                    body.extend_from_slice(&0u32.to_be_bytes());
                    body.extend_from_slice(&(first_offset as u32).to_be_bytes());
                } else {
                    body.extend_from_slice(&0u64.to_be_bytes());
                    body.extend_from_slice(&first_offset.to_be_bytes());
                }
                body.extend_from_slice(&0u16.to_be_bytes());
                let count = count.unwrap_or(refs.len() as u16);
                body.extend_from_slice(&count.to_be_bytes());
                for (hier, size, dur) in refs {
                    let word = (size & 0x7fff_ffff) | if hier { 0x8000_0000 } else { 0 };
                    body.extend_from_slice(&word.to_be_bytes());
                    body.extend_from_slice(&dur.to_be_bytes());
                    body.extend_from_slice(&0x9000_0000u32.to_be_bytes());
                }
                let len = body.len() + 8;
                let mut out = match size_kind {
                    0 => (len as u32).to_be_bytes().to_vec(),
                    1 => 0u32.to_be_bytes().to_vec(),
                    2 => 1u32.to_be_bytes().to_vec(),
                    _ => (junk as u32).to_be_bytes().to_vec(),
                };
                out.extend_from_slice(b"sidx");
                if size_kind == 2 {
                    out.extend_from_slice(&(len as u64 + 8).to_be_bytes());
                }
                out.extend_from_slice(&body);
                out
            },
        )
}

fn url(s: &str) -> Url {
    Url::parse(s).expect("static URL")
}

proptest! {
    #[test]
    fn grammar_generated_mpds_parse_or_fail_cleanly(text in mpd(), now in now_ms(), ts in times()) {
        let m = timed("parse", || manifest::parse(text.as_bytes(), &url("http://h/d/m.mpd"), now))?;
        if let Ok(m) = m {
            prop_assert!(!m.periods.is_empty());
            timed("lookups", || exercise(&m, &ts))??;
        }
    }

    #[test]
    fn grammar_generated_hls_playlists_parse_or_fail_cleanly(
        media in media_playlist(),
        master in master_playlist(),
        anchor in proptest::option::of((any::<u64>(), any::<f64>())),
        ts in times(),
    ) {
        let base = url("http://h/hls/x.m3u8");
        for text in [&media, &master] {
            if let Ok(m) = timed("parse", || hls::parse(text.as_bytes(), &base))? {
                timed("lookups", || exercise(&m, &ts))??;
            }
        }
        if let Ok(pl) = timed("parse_media", || hls::parse_media(media.as_bytes(), &base, anchor))? {
            let _ = pl.total_duration_s();
        }
    }

    #[test]
    fn sidx_boxes_with_lying_sizes_parse_or_fail_cleanly(
        b in prop_oneof![9 => sidx_box(), 1 => proptest::collection::vec(any::<u8>(), 0..200)],
        first in prop_oneof![0u64..1_000_000, any::<u64>()],
        start in prop_oneof![0.0f64..1e4, any::<f64>()],
    ) {
        let range = ByteRange { first, last: first.saturating_add(b.len() as u64).saturating_sub(1) };
        let media = url("http://h/v.mp4");
        if let Ok(segs) = sidx::parse_sidx(&b, range, &media, start) {
            let mut end = range.last;
            for (i, s) in segs.iter().enumerate() {
                let r = s.resource.range.expect("sidx segments have ranges");
                prop_assert!(r.first <= r.last && r.first > end, "{r:?} after {end}");
                prop_assert_eq!(s.number, i as u64 + 1);
                end = r.last;
            }
        }
    }
}
