//! The playback buffer and the playback state (startup -> playing <-> stalled ->
//! ended), with the semantics of Sabre, the reference ABR simulator: the buffer drains
//! in real time while playing, also during downloads; draining past empty starts a
//! stall, counted once when playback reaches empty and not again while it stays
//! empty; a segment adds its whole duration when its last byte arrives.
//!
//! All time is integer nanoseconds, so `startup + played + stalled == elapsed` holds
//! exactly (a property test checks it).

/// Where playback is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaybackState {
    /// Waiting for the startup threshold; nothing played yet.
    Startup,
    /// Playing from the buffer.
    Playing,
    /// The buffer ran empty after playback had started.
    Stalled,
    /// Session over.
    Ended,
}

/// Something the buffer noticed while time advanced or data arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufferEvent {
    /// Playback started at `t_ns` after `delay_ns` of startup.
    Started {
        /// When.
        t_ns: u64,
        /// Startup delay.
        delay_ns: u64,
    },
    /// The buffer of `track` ran empty at `t_ns` (media position `media_ns`).
    StallStarted {
        /// When.
        t_ns: u64,
        /// Media position.
        media_ns: u64,
        /// The track whose buffer ran dry.
        track: usize,
    },
    /// Playback resumed at `t_ns` after a stall of `duration_ns`.
    StallEnded {
        /// When.
        t_ns: u64,
        /// Stall length.
        duration_ns: u64,
    },
    /// The buffer ran empty with nothing more to fetch, at `t_ns`.
    Drained {
        /// When.
        t_ns: u64,
    },
}

/// The buffer model: one level per track (video, and audio when it has its own
/// segments), drained together by one playhead. Playback needs every track that
/// still gets media, so the level that counts is the lowest of those; a track whose
/// content has ended no longer holds playback back. Feed time with
/// [`Buffer::advance`] and media with [`Buffer::add`]; transitions come back as
/// [`BufferEvent`]s.
#[derive(Debug, Clone)]
pub struct Buffer {
    state: PlaybackState,
    levels: Vec<u64>,
    /// Per track: nothing more will be added (content end, or the player gave up).
    exhausted: Vec<bool>,
    last_ns: u64,
    start_ns: u64,
    startup_threshold_ns: u64,
    resume_threshold_ns: u64,
    startup_ns: u64,
    played_ns: u64,
    stalled_ns: u64,
    stall_since_ns: u64,
}

impl Buffer {
    /// A one-track buffer for a session starting at `start_ns` (add tracks with
    /// [`Buffer::add_track`]). Playback starts once the buffer holds
    /// `startup_threshold_ns` and resumes after a stall once it holds
    /// `resume_threshold_ns` (at least one segment either way).
    pub fn new(start_ns: u64, startup_threshold_ns: u64, resume_threshold_ns: u64) -> Self {
        Self {
            state: PlaybackState::Startup,
            levels: vec![0],
            exhausted: vec![false],
            last_ns: start_ns,
            start_ns,
            startup_threshold_ns,
            resume_threshold_ns,
            startup_ns: 0,
            played_ns: 0,
            stalled_ns: 0,
            stall_since_ns: 0,
        }
    }

    /// Adds an empty track; returns its index.
    pub fn add_track(&mut self) -> usize {
        self.levels.push(0);
        self.exhausted.push(false);
        self.levels.len() - 1
    }

    /// Current state.
    pub fn state(&self) -> PlaybackState {
        self.state
    }

    /// The level that counts for playback, ns of media: the lowest level of the
    /// tracks that still get media; when none does, the highest (what is left to
    /// play).
    pub fn level_ns(&self) -> u64 {
        let active = self
            .levels
            .iter()
            .zip(&self.exhausted)
            .filter(|(_, e)| !**e)
            .map(|(l, _)| *l)
            .min();
        active.unwrap_or_else(|| self.levels.iter().copied().max().unwrap_or(0))
    }

    /// The level of one track, ns of media.
    pub fn track_level_ns(&self, track: usize) -> u64 {
        self.levels.get(track).copied().unwrap_or(0)
    }

    /// Media played so far, ns.
    pub fn played_ns(&self) -> u64 {
        self.played_ns
    }

    /// Time spent stalled so far, ns.
    pub fn stalled_ns(&self) -> u64 {
        self.stalled_ns
    }

    /// Time spent in startup, ns.
    pub fn startup_ns(&self) -> u64 {
        self.startup_ns
    }

    /// The time the buffer has been advanced to.
    pub fn now_ns(&self) -> u64 {
        self.last_ns
    }

    /// Session time accounted for: startup + played + stalled.
    pub fn accounted_ns(&self) -> u64 {
        self.startup_ns + self.played_ns + self.stalled_ns
    }

    /// Elapsed session time.
    pub fn elapsed_ns(&self) -> u64 {
        self.last_ns - self.start_ns
    }

    /// When playing, the time the buffer will run empty if nothing arrives.
    pub fn empty_at_ns(&self) -> Option<u64> {
        (self.state == PlaybackState::Playing).then_some(self.last_ns + self.level_ns())
    }

    /// Marks that no more media will be added to `track`.
    pub fn set_exhausted(&mut self, track: usize) {
        if let Some(e) = self.exhausted.get_mut(track) {
            *e = true;
        }
    }

    /// Marks every track exhausted: playback drains what it has, then reports
    /// [`BufferEvent::Drained`] instead of a stall.
    pub fn set_all_exhausted(&mut self) {
        self.exhausted.iter_mut().for_each(|e| *e = true);
    }

    /// Whether `track` is exhausted.
    pub fn track_exhausted(&self, track: usize) -> bool {
        self.exhausted.get(track).copied().unwrap_or(true)
    }

    /// Whether every track is exhausted.
    pub fn all_exhausted(&self) -> bool {
        self.exhausted.iter().all(|e| *e)
    }

    fn drain(&mut self, dt: u64) {
        self.levels
            .iter_mut()
            .for_each(|l| *l = l.saturating_sub(dt));
    }

    /// The track that ran dry: the active track with the lowest level (the first on
    /// a tie, so video before audio).
    fn dry_track(&self) -> usize {
        (0..self.levels.len())
            .filter(|&i| !self.exhausted[i])
            .min_by_key(|&i| self.levels[i])
            .unwrap_or(0)
    }

    /// Advances time to `now_ns` (earlier times are ignored), draining the buffer.
    pub fn advance(&mut self, now_ns: u64) -> Option<BufferEvent> {
        if now_ns <= self.last_ns {
            return None;
        }
        let dt = now_ns - self.last_ns;
        let mut event = None;
        match self.state {
            PlaybackState::Startup => self.startup_ns += dt,
            PlaybackState::Stalled => self.stalled_ns += dt,
            PlaybackState::Ended => {}
            PlaybackState::Playing => {
                let level = self.level_ns();
                if level > dt {
                    self.drain(dt);
                    self.played_ns += dt;
                } else {
                    let t_empty = self.last_ns + level;
                    let track = self.dry_track();
                    self.played_ns += level;
                    self.drain(level);
                    let rest = dt - level;
                    if self.all_exhausted() {
                        self.state = PlaybackState::Ended;
                        // Time after the drain belongs to nothing: the session is over.
                        self.last_ns = t_empty;
                        return Some(BufferEvent::Drained { t_ns: t_empty });
                    }
                    self.state = PlaybackState::Stalled;
                    self.stall_since_ns = t_empty;
                    self.stalled_ns += rest;
                    event = Some(BufferEvent::StallStarted {
                        t_ns: t_empty,
                        media_ns: self.played_ns,
                        track,
                    });
                }
            }
        }
        self.last_ns = now_ns;
        event
    }

    /// Adds `duration_ns` of media to `track` at the current time (call
    /// [`Buffer::advance`] first). Starts or resumes playback when the threshold is
    /// reached.
    pub fn add(&mut self, track: usize, duration_ns: u64) -> Option<BufferEvent> {
        if let Some(l) = self.levels.get_mut(track) {
            *l += duration_ns;
        }
        self.try_start()
    }

    /// Starts or resumes playback if the buffer allows it; with `force`, any non-empty
    /// buffer is enough (used when no more media will come).
    pub fn try_start_forced(&mut self, force: bool) -> Option<BufferEvent> {
        if force && self.level_ns() > 0 {
            return self.start_now();
        }
        self.try_start()
    }

    fn try_start(&mut self) -> Option<BufferEvent> {
        let threshold = match self.state {
            PlaybackState::Startup => self.startup_threshold_ns,
            PlaybackState::Stalled => self.resume_threshold_ns,
            _ => return None,
        };
        let level = self.level_ns();
        if level > 0 && (level >= threshold || self.all_exhausted()) {
            self.start_now()
        } else {
            None
        }
    }

    fn start_now(&mut self) -> Option<BufferEvent> {
        let now = self.last_ns;
        match self.state {
            PlaybackState::Startup => {
                self.state = PlaybackState::Playing;
                Some(BufferEvent::Started {
                    t_ns: now,
                    delay_ns: now - self.start_ns,
                })
            }
            PlaybackState::Stalled => {
                self.state = PlaybackState::Playing;
                Some(BufferEvent::StallEnded {
                    t_ns: now,
                    duration_ns: now - self.stall_since_ns,
                })
            }
            _ => None,
        }
    }

    /// Ends the session at the current time. Returns the open stall's length if the
    /// session ends stalled.
    pub fn end(&mut self) -> Option<u64> {
        let open =
            (self.state == PlaybackState::Stalled).then(|| self.last_ns - self.stall_since_ns);
        self.state = PlaybackState::Ended;
        open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn drains_while_playing_and_stalls_at_the_exact_empty_time() {
        let mut b = Buffer::new(0, 0, 0);
        b.advance(S / 2);
        assert_eq!(
            b.add(0, 4 * S),
            Some(BufferEvent::Started {
                t_ns: S / 2,
                delay_ns: S / 2
            })
        );
        assert_eq!(b.empty_at_ns(), Some(S / 2 + 4 * S));
        assert_eq!(
            b.advance(6 * S),
            Some(BufferEvent::StallStarted {
                t_ns: 4 * S + S / 2,
                media_ns: 4 * S,
                track: 0
            })
        );
        assert_eq!(b.advance(7 * S), None, "a stall is counted once");
        assert_eq!(
            b.add(0, 2 * S),
            Some(BufferEvent::StallEnded {
                t_ns: 7 * S,
                duration_ns: 2 * S + S / 2
            })
        );
        assert_eq!(b.accounted_ns(), b.elapsed_ns());
    }

    #[test]
    fn thresholds_hold_playback_back() {
        let mut b = Buffer::new(0, 4 * S, 0);
        assert_eq!(b.add(0, 2 * S), None);
        b.advance(S);
        assert!(matches!(b.add(0, 2 * S), Some(BufferEvent::Started { .. })));
    }

    #[test]
    fn exhausted_buffer_drains_to_the_end_without_a_stall() {
        let mut b = Buffer::new(0, 10 * S, 0);
        b.add(0, 2 * S);
        b.set_all_exhausted();
        assert!(matches!(
            b.try_start_forced(true),
            Some(BufferEvent::Started { .. })
        ));
        assert_eq!(b.advance(5 * S), Some(BufferEvent::Drained { t_ns: 2 * S }));
        assert_eq!(b.state(), PlaybackState::Ended);
    }

    #[test]
    fn playback_needs_every_track_and_stalls_on_the_one_that_runs_dry() {
        let mut b = Buffer::new(0, 0, 0);
        let audio = b.add_track();
        assert_eq!(b.add(0, 4 * S), None, "no audio yet: no start");
        assert!(matches!(
            b.add(audio, 2 * S),
            Some(BufferEvent::Started { .. })
        ));
        assert_eq!(b.level_ns(), 2 * S);
        assert_eq!(
            b.advance(3 * S),
            Some(BufferEvent::StallStarted {
                t_ns: 2 * S,
                media_ns: 2 * S,
                track: audio
            })
        );
        assert_eq!(b.track_level_ns(0), 2 * S, "video kept what was not played");
        assert!(matches!(
            b.add(audio, 2 * S),
            Some(BufferEvent::StallEnded { .. })
        ));
        // Audio content ends: it no longer holds playback back.
        b.set_exhausted(audio);
        assert_eq!(b.level_ns(), 2 * S);
        b.set_exhausted(0);
        assert_eq!(b.advance(6 * S), Some(BufferEvent::Drained { t_ns: 5 * S }));
        assert_eq!(b.accounted_ns(), b.elapsed_ns());
    }
}
