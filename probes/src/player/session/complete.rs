//! Inputs from the adapter: response heads, body bytes, completions and failures;
//! what a finished request changes (manifest, playlist, index, init, buffer), and the
//! retry policy applied to a failed one.

use super::super::abr::DownloadSample;
use super::super::manifest::{self, ManifestFormat, SegmentIndex, hls, sidx};
use super::super::manifest::{MediaKind, Representation};
use super::super::retry::AfterGivingUp;
use super::{
    Attempt, FailureKind, Inflight, Job, Outage, Player, PlayerError, ResponseHead, Slot, SlotId,
    Track, VIDEO, ms,
};
use crate::clock::duration_ns;
use crate::record::{self, EndReason, EventKind};
use std::time::Duration;

impl Player {
    /// The response head of request `id` arrived (HTTP version unknown).
    pub fn on_response(
        &mut self,
        now: Duration,
        id: u64,
        status: u16,
        content_length: Option<u64>,
    ) {
        let head = ResponseHead {
            status,
            content_length,
            http_version: None,
        };
        self.on_response_head(now, id, head);
    }

    /// The response head of request `id` arrived.
    pub fn on_response_head(&mut self, now: Duration, id: u64, head: ResponseHead) {
        let ResponseHead {
            status,
            content_length,
            http_version,
        } = head;
        let now = duration_ns(now);
        self.advance(now);
        let Some(i) = self.inflight.iter().position(|f| f.req.id == id) else {
            return;
        };
        if let Some(o) = self.outage.take() {
            let k = EventKind::Reconnect(record::Reconnect {
                url: String::from(&*self.inflight[i].req.url),
                outage_ms: ms(now.saturating_sub(o.since_ns)),
                failed_attempts: o.failed,
                new_connection: o.new_connection,
            });
            self.emit(now, k);
        }
        let f = &mut self.inflight[i];
        f.t_response_ns = Some(now);
        f.status = status;
        f.content_length = content_length;
        f.http_version = http_version;
        if !(200..300).contains(&status) {
            let f = self.inflight.remove(i);
            self.actions.push_back(super::Action::Abort(id));
            let detail = format!("HTTP {status}");
            self.fail(f, FailureKind::Status(status), detail, now);
        }
    }

    /// Body bytes of request `id` arrived.
    pub fn on_data(&mut self, now: Duration, id: u64, data: &[u8]) {
        self.advance(duration_ns(now));
        if let Some(f) = self.inflight.iter_mut().find(|f| f.req.id == id) {
            f.received += data.len() as u64;
            if let Some(body) = &mut f.body {
                body.extend_from_slice(data);
            }
        }
    }

    /// `n` body bytes of request `id` arrived, content not given (the simulator; only
    /// valid for media and init requests, whose bytes the core does not read).
    pub fn on_bytes(&mut self, now: Duration, id: u64, n: u64) {
        self.advance(duration_ns(now));
        if let Some(f) = self.inflight.iter_mut().find(|f| f.req.id == id) {
            f.received += n;
        }
    }

    /// Request `id` finished: the whole body arrived.
    pub fn on_complete(&mut self, now: Duration, id: u64) {
        let now = duration_ns(now);
        self.advance(now);
        let Some(i) = self.inflight.iter().position(|f| f.req.id == id) else {
            return;
        };
        let f = self.inflight.remove(i);
        let short = f
            .content_length
            .or(f.req.expected_bytes)
            .filter(|&n| f.received < n);
        if let Some(n) = short {
            let detail = format!("body ended after {} of {} bytes", f.received, n);
            self.fail(f, FailureKind::Truncated, detail, now);
            return;
        }
        self.complete(f, now);
    }

    /// Request `id` failed.
    pub fn on_failure(&mut self, now: Duration, id: u64, kind: FailureKind, detail: &str) {
        let now = duration_ns(now);
        self.advance(now);
        let Some(i) = self.inflight.iter().position(|f| f.req.id == id) else {
            return;
        };
        let f = self.inflight.remove(i);
        self.fail(f, kind, detail.to_string(), now);
    }

    /// Records a finished request and applies it.
    fn complete(&mut self, mut f: Inflight, now: u64) {
        let body = f.body.take().unwrap_or_default();
        let t_response = f.t_response_ns.unwrap_or(now);
        let applied = self.apply(&f, &body, now);
        if let Err((kind, detail)) = applied {
            if !self.ended {
                self.fail(f, kind, detail, now);
            }
            return;
        }
        let elapsed = now.saturating_sub(f.t_request_ns);
        let throughput_kbps = if elapsed > 0 {
            f.received as f64 * 8.0 / (elapsed as f64 / 1e9) / 1000.0
        } else {
            0.0
        };
        let (quality, bitrate_kbps, number, media_start_ms, media_duration_ms) =
            match &f.attempt.job {
                Job::Media {
                    track,
                    period,
                    quality,
                    segment,
                } => (
                    Some(*quality),
                    Some(self.rep_kbps(*track, *period, *quality)),
                    Some(segment.number),
                    Some(segment.start_s * 1000.0),
                    Some(segment.duration_s * 1000.0),
                ),
                _ => (None, None, None, None, None),
            };
        let track = f.attempt.job.track();
        let k = EventKind::Request(record::RequestRecord {
            request_type: f.req.request_type,
            media_type: self.media_type_of(track),
            url: String::from(&*f.req.url),
            range: f.req.range.map(|r| r.to_string()),
            status: f.status,
            tscheduled_ns: f.t_scheduled_ns,
            trequest_ns: f.t_request_ns,
            tresponse_ns: t_response,
            tfinish_ns: now,
            bytes: f.received,
            throughput_kbps,
            attempt: f.attempt.attempt,
            quality,
            bitrate_kbps,
            number,
            media_start_ms,
            media_duration_ms,
            buffer_ms: ms(self.buffer.track_level_ns(track.unwrap_or(VIDEO))),
            http_version: f.http_version.map(str::to_string),
        });
        self.emit(now, k);
        if !self.ended {
            self.set_slot(f.slot, Slot::Idle { since_ns: now });
        }
    }

    /// Announced bitrate of `quality` of track `t` in `period`, kbit/s.
    fn rep_kbps(&self, t: usize, period: usize, quality: usize) -> f64 {
        let kind = self.tracks.get(t).map_or(MediaKind::Video, |x| x.kind);
        self.manifest
            .as_ref()
            .and_then(|m| m.periods.get(period))
            .and_then(|p| p.reps(kind).get(quality))
            .map_or(0.0, |r| r.bandwidth_bps as f64 / 1000.0)
    }

    /// The record's track name for an optional track index.
    fn media_type_of(&self, track: Option<usize>) -> Option<record::MediaType> {
        track
            .and_then(|t| self.tracks.get(t))
            .map(Track::media_type)
    }

    /// Applies a finished request's content. `Err` = the content is unusable.
    fn apply(&mut self, f: &Inflight, body: &[u8], now: u64) -> Result<(), (FailureKind, String)> {
        match &f.attempt.job {
            Job::Manifest { refresh } => self.apply_manifest(f, body, now, *refresh),
            Job::Playlist {
                track,
                period,
                quality,
                url,
                refresh,
            } => self.apply_playlist(body, url, *track, *period, *quality, *refresh, now),
            Job::Index {
                track,
                period,
                quality,
            } => {
                let kind = self.tracks[*track].kind;
                let m = self
                    .manifest
                    .as_mut()
                    .ok_or((FailureKind::Invalid, "no manifest".into()))?;
                let p = m
                    .periods
                    .get_mut(*period)
                    .ok_or((FailureKind::Invalid, "no period".into()))?;
                let start = p.start_s;
                let rep = p
                    .reps_mut(kind)
                    .get_mut(*quality)
                    .ok_or((FailureKind::Invalid, "no rep".into()))?;
                let SegmentIndex::Indexed { index, media } = &rep.segments else {
                    return Ok(());
                };
                let range = index.range.unwrap_or(manifest::ByteRange {
                    first: 0,
                    last: body.len().saturating_sub(1) as u64,
                });
                let segs = sidx::parse_sidx(body, range, media, start)
                    .map_err(|e| (FailureKind::Invalid, e.to_string()))?;
                rep.segments = SegmentIndex::List(segs);
                Ok(())
            }
            Job::Init { key, .. } => {
                self.inits_fetched.insert(key.clone());
                Ok(())
            }
            Job::Media {
                track,
                quality,
                segment,
                ..
            } => {
                let t = *track;
                let seg_ns = duration_ns(Duration::from_secs_f64(segment.duration_s.max(0.0)));
                if let Some(ev) = self.buffer.add(t, seg_ns) {
                    self.buffer_event(ev);
                }
                self.tracks[t].next_pos_s = Some(segment.start_s + segment.duration_s);
                self.tracks[t].decided = None;
                let sample = DownloadSample {
                    bytes: f.received,
                    duration_s: now.saturating_sub(f.t_request_ns) as f64 / 1e9,
                    latency_s: f
                        .t_response_ns
                        .unwrap_or(now)
                        .saturating_sub(f.t_request_ns) as f64
                        / 1e9,
                    quality: *quality,
                    segment_duration_s: segment.duration_s,
                };
                self.tracks[t].abr.on_download(&sample);
                Ok(())
            }
        }
    }

    fn apply_manifest(
        &mut self,
        f: &Inflight,
        body: &[u8],
        now: u64,
        refresh: bool,
    ) -> Result<(), (FailureKind, String)> {
        let url = f
            .req
            .parse_url()
            .map_err(|e| (FailureKind::Invalid, format!("{}: {e}", f.req.url)))?;
        let parsed = manifest::parse(body, &url, self.wall_ms(now) as i64);
        let m = match parsed {
            Ok(m) => m,
            Err(e) if refresh => return Err((FailureKind::Invalid, e.to_string())),
            Err(e) => {
                self.fatal = Some(PlayerError::Manifest(e));
                self.finish(now, EndReason::GaveUp);
                return Ok(());
            }
        };
        self.last_refresh_ns = now;
        if refresh {
            let before = self.known_segments();
            self.manifest = Some(m);
            let after = self.known_segments();
            let k = EventKind::ManifestRefresh(record::ManifestRefresh {
                url: String::from(&*f.req.url),
                new_segments: after.saturating_sub(before),
            });
            self.emit(now, k);
            self.touch_idle_slots(now);
            return Ok(());
        }
        let info = |reps: &[Representation]| -> Vec<record::RepresentationInfo> {
            reps.iter()
                .enumerate()
                .map(|(index, r)| record::RepresentationInfo {
                    index,
                    id: r.id.clone(),
                    bandwidth_kbps: r.bandwidth_bps as f64 / 1000.0,
                    width: r.width,
                    height: r.height,
                })
                .collect()
        };
        let k = EventKind::ManifestLoaded(record::ManifestLoaded {
            url: String::from(&*f.req.url),
            format: m.format.as_str().to_string(),
            live: m.live,
            periods: m.periods.len(),
            representations: info(&m.periods[0].video),
            audio_representations: info(&m.periods[0].audio),
            duration_ms: m.duration.map(|d| d.as_secs_f64() * 1000.0),
        });
        self.emit(now, k);
        if !m.periods[0].audio.is_empty() && self.tracks.len() == 1 {
            let abr = super::super::abr::by_name(&self.tracks[VIDEO].abr.name())
                .unwrap_or_else(|_| Box::new(super::super::abr::fixed::Fixed::new(0)));
            let index = self.buffer.add_track();
            debug_assert_eq!(index, self.tracks.len());
            self.tracks.push(Track::new(MediaKind::Audio, abr, now));
        }
        if m.format == ManifestFormat::Hls {
            for track in &mut self.tracks {
                track.playlist_urls = m.periods[0]
                    .reps(track.kind)
                    .iter()
                    .map(|r| match &r.segments {
                        SegmentIndex::Playlist(u) => Some(u.clone()),
                        _ => Some(m.url.clone()),
                    })
                    .collect();
            }
            // A media playlist given directly counts as loaded now.
            if m.periods[0].video.iter().all(|r| r.is_resolved()) {
                self.tracks[VIDEO].hls_loaded_ns.insert(0, now);
            }
        }
        self.manifest = Some(m);
        Ok(())
    }

    /// A reload made new segments known: idle slots count as ready from now.
    fn touch_idle_slots(&mut self, now: u64) {
        for t in &mut self.tracks {
            if let Slot::Idle { since_ns } = &mut t.slot {
                *since_ns = now;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_playlist(
        &mut self,
        body: &[u8],
        url: &url::Url,
        track: usize,
        period: usize,
        quality: usize,
        refresh: bool,
        now: u64,
    ) -> Result<(), (FailureKind, String)> {
        let kind = self.tracks[track].kind;
        let mp = hls::parse_media(body, url, self.tracks[track].hls_anchor)
            .map_err(|e| (FailureKind::Invalid, e.to_string()))?;
        let before = self.known_segments();
        let m = self
            .manifest
            .as_mut()
            .ok_or((FailureKind::Invalid, "no manifest".into()))?;
        let became_live = mp.live && !m.live;
        if became_live {
            m.live = true;
            let target = Duration::from_secs_f64(mp.target_duration_s.max(0.1));
            m.refresh_interval = Some(target);
            m.live_delay.get_or_insert(target * 3);
        }
        let rep = m
            .periods
            .get_mut(period)
            .and_then(|p| p.reps_mut(kind).get_mut(quality))
            .ok_or((FailureKind::Invalid, "no such variant".into()))?;
        if let Some(first) = mp.segments.first() {
            self.tracks[track].hls_anchor = Some((first.number, first.start_s));
        }
        if mp.init.is_some() {
            rep.init = mp.init;
        }
        rep.segments = SegmentIndex::List(mp.segments);
        self.tracks[track].hls_loaded_ns.insert(quality, now);
        if became_live {
            // The master playlist could not tell; the first media playlist does.
            let k = EventKind::ManifestLoaded(record::ManifestLoaded {
                url: url.to_string(),
                format: "hls".into(),
                live: true,
                periods: 1,
                representations: Vec::new(),
                audio_representations: Vec::new(),
                duration_ms: None,
            });
            self.emit(now, k);
        }
        if refresh {
            self.last_refresh_ns = now;
            let after = self.known_segments();
            let k = EventKind::ManifestRefresh(record::ManifestRefresh {
                url: url.to_string(),
                new_segments: after.saturating_sub(before),
            });
            self.emit(now, k);
            self.touch_idle_slots(now);
        }
        Ok(())
    }

    /// Segments known for the current video quality up to the end of its list (for
    /// `manifest_refresh` counts).
    fn known_segments(&self) -> u64 {
        let q = self.tracks[VIDEO].last_quality.unwrap_or(0);
        let Some(m) = &self.manifest else { return 0 };
        m.periods
            .iter()
            .filter_map(|p| p.video.get(q.min(p.video.len().saturating_sub(1))))
            .map(|r| match &r.segments {
                SegmentIndex::List(l) => l.last().map_or(0, |s| s.number + 1),
                SegmentIndex::Template(t) => {
                    let edge = m.availability_start_unix_ms.map_or(0.0, |a| {
                        (self.wall_ms(self.buffer.now_ns()) - a as f64) / 1000.0
                    });
                    t.count.unwrap_or_else(|| t.number_at(edge))
                }
                _ => 0,
            })
            .sum()
    }

    /// A request attempt failed: record it, then retry or give up.
    pub(super) fn fail(&mut self, f: Inflight, kind: FailureKind, detail: String, now: u64) {
        let request_type = f.req.request_type;
        let status = match kind {
            FailureKind::Status(s) => Some(s),
            _ => None,
        };
        let media = self.media_type_of(f.attempt.job.track());
        let k = EventKind::RequestError(record::RequestError {
            request_type,
            media_type: media,
            url: String::from(&*f.req.url),
            attempt: f.attempt.attempt,
            error: kind.as_str().to_string(),
            status,
            detail: detail.clone(),
            buffer_ms: ms(self.buffer.level_ns()),
        });
        self.emit(now, k);
        if kind.is_transport() {
            self.outage
                .get_or_insert(Outage {
                    since_ns: now,
                    failed: 0,
                    new_connection: false,
                })
                .failed += 1;
        }
        let first = f.attempt.first_failure_ns.unwrap_or(now);
        let since = Duration::from_nanos(now.saturating_sub(first));
        if let Some(wait) = self
            .cfg
            .retry
            .next_delay(request_type, f.attempt.attempt, since)
        {
            let next = Attempt {
                job: f.attempt.job,
                attempt: f.attempt.attempt + 1,
                first_failure_ns: Some(first),
            };
            let k = EventKind::Retry(record::Retry {
                request_type,
                media_type: media,
                url: String::from(&*f.req.url),
                attempt: next.attempt,
                delay_ms: wait.as_secs_f64() * 1000.0,
            });
            self.emit(now, k);
            let slot = Slot::Waiting {
                at_ns: now + duration_ns(wait),
                attempt: Some(next),
            };
            self.set_slot(f.slot, slot);
            return;
        }
        // Out of attempts.
        if f.slot == SlotId::Refresh {
            // A live reload failing for good: try again at the next interval.
            self.last_refresh_ns = now;
            self.refresh_slot = Slot::Idle { since_ns: now };
            return;
        }
        if matches!(f.attempt.job, Job::Manifest { refresh: false }) {
            self.fatal = Some(PlayerError::Unreachable {
                url: String::from(&*f.req.url),
                attempts: f.attempt.attempt,
                detail,
            });
            self.finish(now, EndReason::GaveUp);
            return;
        }
        let k = EventKind::GaveUp(record::GaveUp {
            request_type,
            media_type: media,
            url: String::from(&*f.req.url),
            attempts: f.attempt.attempt,
        });
        self.emit(now, k);
        self.gave_up = true;
        self.set_slot(f.slot, Slot::Idle { since_ns: now });
        if self.cfg.retry.after_giving_up() == AfterGivingUp::StayStalled {
            // dash.js: the server is blocklisted and no media request follows (the
            // other track's too: same server); the buffer drains into a stall that
            // lasts until the session is stopped.
            return;
        }
        self.buffer.set_all_exhausted();
        self.after_exhausted();
    }
}
