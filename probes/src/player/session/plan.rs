//! Deciding what to fetch next and when: each track's slot sequence (manifest,
//! playlist, index, init, media), the maximum-buffer rule (video: no request while
//! `level + segment > max`; audio: dash.js's `max(video level + 1 s, segment)`
//! target), ABR pacing, live availability, and the live refresh slot.

use super::super::abr::AbrInput;
use super::super::manifest::{ManifestFormat, MediaKind, Representation, SegmentIndex};
use super::{Attempt, Inflight, Job, Player, Request, Slot, SlotId, VIDEO};
use crate::clock::duration_ns;
use crate::record::{self, EventKind, RequestType};
use std::sync::Arc;
use std::time::Duration;

/// What a track's slot should do now.
enum Next {
    Job(Job),
    WaitUntil(u64),
    /// Nothing until an input changes the state (audio waiting for video to buffer).
    Idle,
    Nothing,
}

/// dash.js keeps the audio buffer this far ahead of the video buffer
/// (`ScheduleController._getBufferTargetForAudio`: video level + 1 s).
const AUDIO_LEAD_NS: u64 = 1_000_000_000;

impl Player {
    /// Sends due retries or plans the next request of every track.
    pub(super) fn plan_media(&mut self, now: u64) {
        for t in 0..self.tracks.len() {
            self.plan_track(t, now);
            if self.ended {
                return;
            }
        }
    }

    /// Sends a due retry or plans the next request of track `t`.
    fn plan_track(&mut self, t: usize, now: u64) {
        // Moving to the next period, or deciding after a wait, may take a few rounds.
        for _ in 0..8 {
            match &self.tracks[t].slot {
                Slot::Busy { .. } => return,
                Slot::Waiting { at_ns, attempt } => {
                    if now < *at_ns {
                        return;
                    }
                    let at = *at_ns;
                    if let Some(a) = attempt.clone() {
                        self.send(a, at, now, SlotId::Track(t));
                        return;
                    }
                    self.tracks[t].slot = Slot::Idle { since_ns: at };
                }
                Slot::Idle { .. } => {}
            }
            let Slot::Idle { since_ns } = self.tracks[t].slot else {
                return;
            };
            if self.gave_up || self.ended {
                return;
            }
            match self.next_media_job(t, now) {
                Some(Next::Job(job)) => {
                    let a = Attempt {
                        job,
                        attempt: 1,
                        first_failure_ns: None,
                    };
                    self.send(a, since_ns, now, SlotId::Track(t));
                    return;
                }
                Some(Next::WaitUntil(at)) => {
                    self.tracks[t].slot = Slot::Waiting {
                        at_ns: at,
                        attempt: None,
                    };
                    if at > now {
                        return;
                    }
                }
                Some(Next::Idle) => {
                    // Ready from the input that changes this, not from before.
                    self.tracks[t].slot = Slot::Idle { since_ns: now };
                    return;
                }
                Some(Next::Nothing) => return,
                None => {} // state changed (next period): plan again
            }
        }
    }

    /// The representations of track `t` in period `p`.
    fn reps(&self, t: usize, p: usize) -> Option<&[Representation]> {
        let kind = self.tracks.get(t)?.kind;
        Some(self.manifest.as_ref()?.periods.get(p)?.reps(kind))
    }

    /// The next step of track `t`; `None` = state changed, ask again.
    fn next_media_job(&mut self, t: usize, now: u64) -> Option<Next> {
        let Some(manifest) = &self.manifest else {
            // Only the video track exists before the manifest.
            return Some(Next::Job(Job::Manifest { refresh: false }));
        };
        let live = manifest.live;
        let is_hls = manifest.format == ManifestFormat::Hls;
        let refresh_ns = manifest.refresh_interval.map(duration_ns).unwrap_or(0);
        let periods = manifest.periods.len();
        let kind = self.tracks[t].kind;
        let period_idx = match self.tracks[t].next_pos_s {
            None => 0,
            Some(pos) => match self.period_at(pos) {
                Some(i) => i,
                None if live => return Some(Next::Nothing),
                None => {
                    self.content_exhausted(t);
                    return Some(Next::Nothing);
                }
            },
        };
        let (reps, seg_s, period_start) = {
            let period = &self.manifest.as_ref()?.periods[period_idx];
            let reps = period.reps(kind);
            let seg_s = reps
                .iter()
                .find_map(Representation::nominal_segment_duration_s)
                .unwrap_or(2.0);
            (reps.len(), seg_s, period.start_s)
        };
        if reps == 0 {
            // This period has none of this track (audio missing from a later period):
            // the track ends here.
            self.content_exhausted(t);
            return Some(Next::Nothing);
        }

        if self.tracks[t].next_pos_s.is_some()
            && let Some(next) = self.buffer_full(t, seg_s, now)
        {
            return Some(next);
        }

        // Quality, decided once per segment.
        let quality = match self.tracks[t].decided {
            Some(q) => q.min(reps - 1),
            None => {
                let mut bitrates = std::mem::take(&mut self.bitrates);
                bitrates.clear();
                bitrates.extend(self.reps(t, period_idx)?.iter().map(|r| r.bandwidth_bps));
                let input = AbrInput {
                    now_s: (now - self.start_ns) as f64 / 1e9,
                    buffer_s: self.buffer.track_level_ns(t) as f64 / 1e9,
                    max_buffer_s: self.cfg.max_buffer.as_secs_f64(),
                    segment_duration_s: seg_s,
                    bitrates_bps: &bitrates,
                    last_quality: self.tracks[t].last_quality,
                    playing: self.buffer.empty_at_ns().is_some(),
                };
                let d = self.tracks[t].abr.decide(&input);
                self.bitrates = bitrates;
                let q = d.quality.min(reps - 1);
                self.tracks[t].decided = Some(q);
                if d.delay_s > 0.0 && d.delay_s.is_finite() {
                    let wait = duration_ns(Duration::from_secs_f64(d.delay_s.min(3600.0)));
                    return Some(Next::WaitUntil(now + wait));
                }
                q
            }
        };
        {
            let rep = &self.reps(t, period_idx)?[quality];
            match &rep.segments {
                SegmentIndex::Playlist(url) => {
                    return Some(Next::Job(Job::Playlist {
                        track: t,
                        period: period_idx,
                        quality,
                        url: url.clone(),
                        refresh: false,
                    }));
                }
                SegmentIndex::Indexed { .. } => {
                    return Some(Next::Job(Job::Index {
                        track: t,
                        period: period_idx,
                        quality,
                    }));
                }
                _ => {}
            }
        }
        // Live HLS: a playlist older than its target duration is stale.
        if live && is_hls {
            let track = &self.tracks[t];
            let fresh = track
                .hls_loaded_ns
                .get(&quality)
                .is_some_and(|&at| now.saturating_sub(at) <= refresh_ns);
            if !fresh && let Some(Some(url)) = track.playlist_urls.get(quality) {
                return Some(Next::Job(Job::Playlist {
                    track: t,
                    period: period_idx,
                    quality,
                    url: url.clone(),
                    refresh: false,
                }));
            }
        }
        if self.tracks[t].next_pos_s.is_none() {
            let pos = self.start_position(t, period_idx, quality, now);
            self.tracks[t].next_pos_s = Some(pos);
        }
        let rep = &self.reps(t, period_idx)?[quality];
        if let Some(init) = &rep.init {
            let key = format!(
                "{}#{}",
                init.url,
                init.range.map(|r| r.to_string()).unwrap_or_default()
            );
            if !self.inits_fetched.contains(&key) {
                return Some(Next::Job(Job::Init {
                    track: t,
                    key,
                    url: init.url.clone(),
                    range: init.range,
                }));
            }
        }
        let pos = self.tracks[t].next_pos_s.unwrap_or(period_start);
        let templated = matches!(rep.segments, SegmentIndex::Template(_));
        match rep.segment_ref_from(pos) {
            Some(segment) => {
                if live && templated {
                    let available = self.available_at_ns(segment.start_s + segment.duration_s);
                    if let Some(at) = available
                        && at > now
                    {
                        return Some(Next::WaitUntil(at));
                    }
                }
                Some(Next::Job(Job::Media {
                    track: t,
                    period: period_idx,
                    quality,
                    segment,
                }))
            }
            None if live => Some(Next::Nothing),
            None => {
                if period_idx + 1 < periods {
                    let next_start = self.manifest.as_ref()?.periods[period_idx + 1].start_s;
                    self.tracks[t].next_pos_s = Some(next_start);
                    self.tracks[t].decided = None;
                    None
                } else {
                    self.content_exhausted(t);
                    Some(Next::Nothing)
                }
            }
        }
    }

    /// The maximum-buffer rule for track `t`, whose next segment lasts about `seg_s`:
    /// `Some` when it must not request now. Video: no request while level + segment >
    /// max (dash.js `_shouldBuffer` with `bufferTimeDefault` = max); audio next to a
    /// video track: no request while its level >= max(video level + 1 s, segment).
    fn buffer_full(&mut self, t: usize, seg_s: f64, now: u64) -> Option<Next> {
        let level = self.buffer.track_level_ns(t);
        let seg_ns = duration_ns(Duration::from_secs_f64(seg_s));
        let max = duration_ns(self.cfg.max_buffer);
        let follows_video = self.tracks[t].kind == MediaKind::Audio
            && !self.buffer.track_exhausted(VIDEO)
            && self.tracks[VIDEO].next_pos_s.is_some();
        if follows_video {
            let target = (self.buffer.track_level_ns(VIDEO) + AUDIO_LEAD_NS).max(seg_ns);
            return (level >= target).then_some(Next::Idle);
        }
        if level + seg_ns <= max {
            return None;
        }
        if self.buffer.empty_at_ns().is_none() {
            // Not playing, so the buffer cannot drain: start with what we have.
            if let Some(ev) = self.buffer.try_start_forced(true) {
                self.buffer_event(ev);
            }
        }
        if self.buffer.empty_at_ns().is_some() {
            return Some(Next::WaitUntil(now + (level + seg_ns - max)));
        }
        None
    }

    /// The period containing presentation time `pos`.
    fn period_at(&self, pos: f64) -> Option<usize> {
        let m = self.manifest.as_ref()?;
        let n = m.periods.len();
        (0..n).rev().find(|&i| {
            let p = &m.periods[i];
            let end = p
                .duration_s
                .or_else(|| m.periods.get(i + 1).map(|q| q.start_s - p.start_s));
            pos + 1e-3 >= p.start_s && end.is_none_or(|d| pos + 1e-3 < p.start_s + d)
        })
    }

    /// Where track `t` starts: the period start for VoD; behind the live edge for
    /// live.
    fn start_position(&self, t: usize, period_idx: usize, quality: usize, now: u64) -> f64 {
        let Some(m) = &self.manifest else { return 0.0 };
        let period = &m.periods[period_idx];
        let Some(rep) = period.reps(self.tracks[t].kind).get(quality) else {
            return period.start_s;
        };
        if !m.live {
            return rep
                .segment_from(period.start_s)
                .map_or(period.start_s, |s| s.start_s);
        }
        let seg_s = rep.nominal_segment_duration_s().unwrap_or(2.0);
        let delay = self
            .cfg
            .live_delay
            .or(m.live_delay)
            .map_or(3.0 * seg_s, |d| d.as_secs_f64());
        let edge = match &rep.segments {
            SegmentIndex::Template(_) => m
                .availability_start_unix_ms
                .map(|ast| (self.wall_ms(now) - ast as f64) / 1000.0),
            _ => rep.known_end_s(),
        };
        let Some(edge) = edge else {
            return period.start_s;
        };
        let target = (edge - delay).max(period.start_s);
        let first = match &rep.segments {
            SegmentIndex::List(l) => l.first().map_or(target, |s| s.start_s),
            _ => period.start_s,
        };
        rep.segment_from(target.max(first))
            .map_or(target, |s| s.start_s)
    }

    /// Session time (ns) at which a live template segment ending at presentation time
    /// `end_s` becomes available, if the manifest gives an availability start.
    fn available_at_ns(&self, end_s: f64) -> Option<u64> {
        let ast_ms = self.manifest.as_ref()?.availability_start_unix_ms?;
        let wall_ns = ast_ms as f64 * 1e6 + end_s * 1e9;
        let t = wall_ns - self.cfg.wall_anchor_unix_ns as f64;
        Some(if t <= 0.0 { 0 } else { t as u64 })
    }

    /// Wall clock in ms since the Unix epoch at session time `now`.
    pub(super) fn wall_ms(&self, now: u64) -> f64 {
        (self.cfg.wall_anchor_unix_ns as f64 + now as f64) / 1e6
    }

    /// Nothing more to fetch for track `t`: once no track has anything more, drain
    /// what is buffered.
    fn content_exhausted(&mut self, t: usize) {
        self.buffer.set_exhausted(t);
        self.after_exhausted();
    }

    /// Starts (or ends) playback once every track is exhausted.
    pub(super) fn after_exhausted(&mut self) {
        if !self.buffer.all_exhausted() {
            return;
        }
        if let Some(ev) = self.buffer.try_start_forced(true) {
            self.buffer_event(ev);
        }
        if self.buffer.level_ns() == 0 && !self.ended {
            let now = self.buffer.now_ns();
            let reason = if self.gave_up {
                record::EndReason::GaveUp
            } else {
                record::EndReason::ContentEnd
            };
            self.finish(now, reason);
        }
    }

    /// When the live refresh slot is due, if it is idle.
    pub(super) fn refresh_due_ns(&self) -> Option<u64> {
        let m = self.manifest.as_ref()?;
        if !m.live || !matches!(self.refresh_slot, Slot::Idle { .. }) {
            return None;
        }
        let interval = duration_ns(m.refresh_interval?);
        Some(self.last_refresh_ns + interval.max(100_000_000))
    }

    /// Sends a due refresh retry, or a due refresh.
    pub(super) fn plan_refresh(&mut self, now: u64) {
        if let Slot::Waiting { at_ns, attempt } = &self.refresh_slot {
            if now < *at_ns {
                return;
            }
            let at = *at_ns;
            match attempt.clone() {
                Some(a) => self.send(a, at, now, SlotId::Refresh),
                None => self.refresh_slot = Slot::Idle { since_ns: at },
            }
            return;
        }
        let Some(due) = self.refresh_due_ns() else {
            return;
        };
        if now < due {
            return;
        }
        let Some(m) = &self.manifest else { return };
        let job = match m.format {
            ManifestFormat::Dash => Job::Manifest { refresh: true },
            ManifestFormat::Hls => {
                let video = &self.tracks[VIDEO];
                let q = video.last_quality.unwrap_or(0);
                let Some(Some(url)) = video.playlist_urls.get(q) else {
                    return;
                };
                Job::Playlist {
                    track: VIDEO,
                    period: 0,
                    quality: q,
                    url: url.clone(),
                    refresh: true,
                }
            }
        };
        let a = Attempt {
            job,
            attempt: 1,
            first_failure_ns: None,
        };
        self.send(a, due, now, SlotId::Refresh);
    }

    /// Sets a slot.
    pub(super) fn set_slot(&mut self, slot_id: SlotId, slot: Slot) {
        match slot_id {
            SlotId::Refresh => self.refresh_slot = slot,
            SlotId::Track(t) => {
                if let Some(track) = self.tracks.get_mut(t) {
                    track.slot = slot;
                }
            }
        }
    }

    /// Puts a request on the wire (as an action) and marks its slot busy.
    pub(super) fn send(&mut self, attempt: Attempt, scheduled_ns: u64, now: u64, slot: SlotId) {
        let Some((url, range)) = self.job_target(&attempt.job) else {
            self.set_slot(slot, Slot::Idle { since_ns: now });
            return;
        };
        let request_type = attempt.job.request_type();
        let id = self.next_id;
        self.next_id += 1;
        let timeout = match request_type {
            RequestType::Manifest | RequestType::Playlist => self.cfg.manifest_timeout,
            _ => self.cfg.segment_timeout,
        };
        if let Job::Media {
            track,
            quality,
            segment,
            ..
        } = &attempt.job
        {
            let (t, quality) = (*track, *quality);
            if let Some(last) = self.tracks[t].last_quality
                && last != quality
            {
                let (from_kbps, to_kbps) =
                    (self.bitrate_kbps(t, last), self.bitrate_kbps(t, quality));
                let k = EventKind::Switch(record::Switch {
                    media_type: self.tracks[t].media_type(),
                    from: last,
                    to: quality,
                    from_kbps,
                    to_kbps,
                    media_ms: segment.start_s * 1000.0,
                });
                self.emit(now, k);
            }
            self.tracks[t].last_quality = Some(quality);
        }
        let text = !matches!(request_type, RequestType::Media | RequestType::Init);
        let nominal_bytes = match &attempt.job {
            Job::Media {
                track,
                quality,
                segment,
                ..
            } => {
                let bps = self.bitrate_kbps(*track, *quality) * 1000.0;
                Some((bps * segment.duration_s / 8.0) as u64)
            }
            _ => None,
        };
        let req = Request {
            id,
            request_type,
            url,
            range,
            expected_bytes: range.map(|r| r.len()),
            nominal_bytes,
        };
        self.inflight.push(Inflight {
            req: req.clone(),
            attempt,
            slot,
            t_scheduled_ns: scheduled_ns.min(now),
            t_request_ns: now,
            t_response_ns: None,
            status: 0,
            content_length: None,
            http_version: None,
            received: 0,
            body: text.then(Vec::new),
            deadline_ns: now + duration_ns(timeout),
        });
        self.set_slot(slot, Slot::Busy { id });
        self.actions.push_back(super::Action::Send(req));
    }

    /// URL and range a job fetches.
    fn job_target(
        &self,
        job: &Job,
    ) -> Option<(Arc<str>, Option<super::super::manifest::ByteRange>)> {
        match job {
            Job::Manifest { refresh } => {
                let url = match (&self.manifest, refresh) {
                    (Some(m), true) => &m.url,
                    _ => &self.cfg.url,
                };
                Some((url.as_str().into(), None))
            }
            Job::Playlist { url, .. } => Some((url.as_str().into(), None)),
            Job::Index {
                track,
                period,
                quality,
            } => match &self.reps(*track, *period)?.get(*quality)?.segments {
                SegmentIndex::Indexed { index, .. } => {
                    Some((index.url.as_str().into(), index.range))
                }
                _ => None,
            },
            Job::Init { url, range, .. } => Some((url.as_str().into(), *range)),
            Job::Media { segment, .. } => Some((segment.url.clone(), segment.range)),
        }
    }

    /// Announced bitrate of a quality of track `t` in its current period, kbit/s.
    pub(super) fn bitrate_kbps(&self, t: usize, quality: usize) -> f64 {
        let period = self.tracks[t]
            .next_pos_s
            .and_then(|p| self.period_at(p))
            .unwrap_or(0);
        self.reps(t, period)
            .and_then(|r| r.get(quality))
            .map_or(0.0, |r| r.bandwidth_bps as f64 / 1000.0)
    }

    /// Fails requests whose timeout has passed.
    pub(super) fn expire_requests(&mut self, now: u64) {
        while let Some(i) = self.inflight.iter().position(|f| f.deadline_ns <= now) {
            let f = self.inflight.remove(i);
            let at = f.deadline_ns;
            self.actions.push_back(super::Action::Abort(f.req.id));
            let detail = format!(
                "no complete response within {:.1} s",
                (f.deadline_ns - f.t_request_ns) as f64 / 1e9
            );
            self.fail(f, super::FailureKind::Timeout, detail, at);
            if self.ended {
                return;
            }
        }
    }
}
