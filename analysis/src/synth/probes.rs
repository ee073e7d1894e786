//! What each probe of a synthetic run sees: its events (added to the run) and its
//! summary, shaped by the run's outage (`gap`, ns).

use super::{RunGen, S};
use record::*;

fn in_gap(t: u64, gap: (u64, u64)) -> bool {
    t >= gap.0 && t < gap.1
}

pub(super) fn player(
    g: &mut RunGen,
    src: &str,
    n: usize,
    end: u64,
    gap: (u64, u64),
) -> PlayerSummary {
    let step = end / n as u64;
    let buffer_s = 20.0;
    let rate = if g.sc.delay_ms > 50.0 { 2500.0 } else { 4000.0 };
    g.ev(
        S / 2,
        src,
        EventKind::Startup(Startup {
            delay_ms: 500.0,
            buffer_ms: 2000.0,
        }),
    );
    let gap_s = (gap.1 - gap.0) as f64 / 1e9;
    let stall = gap_s > buffer_s * 0.1 && g.next() < 0.5;
    let mut stall_ms = 0.0;
    for i in 1..n as u64 {
        let t = i * step;
        if in_gap(t, gap) {
            continue;
        }
        let buf = if t < 5 * S {
            t as f64 / 5e9 * buffer_s
        } else {
            buffer_s - 2.0 * g.next()
        };
        let br = if t > gap.1 && g.sc.delay_ms > 50.0 {
            rate * 0.6
        } else {
            rate
        };
        let seconds = 2.0;
        g.ev(
            t,
            src,
            EventKind::Request(RequestRecord {
                request_type: RequestType::Media,
                media_type: Some(MediaType::Video),
                url: format!("http://10.77.0.2/dash/v0/{i}.m4s"),
                range: None,
                status: 200,
                tscheduled_ns: t,
                trequest_ns: t,
                tresponse_ns: t,
                tfinish_ns: t,
                bytes: (br * 1000.0 / 8.0 * seconds) as u64,
                throughput_kbps: br * 3.0,
                attempt: 1,
                quality: Some(0),
                bitrate_kbps: Some(br),
                number: Some(i),
                media_start_ms: Some((i - 1) as f64 * seconds * 1000.0),
                media_duration_ms: Some(seconds * 1000.0),
                buffer_ms: buf * 1000.0,
                http_version: None,
            }),
        );
    }
    if stall {
        stall_ms = 400.0 + 600.0 * g.next();
        g.ev(
            gap.1,
            src,
            EventKind::StallStart(StallStart {
                media_ms: 12000.0,
                cause: MediaType::Video,
            }),
        );
        g.ev(
            gap.1 + (stall_ms * 1e6) as u64,
            src,
            EventKind::StallEnd(StallEnd {
                duration_ms: stall_ms,
                buffer_ms: 2000.0,
                unresolved: false,
            }),
        );
    }
    let played_ms = end as f64 / 1e6 - 500.0;
    g.ev(
        end,
        src,
        EventKind::Ended(Ended {
            reason: EndReason::Duration,
            played_ms,
        }),
    );
    PlayerSummary {
        url: "http://10.77.0.2/dash/manifest.mpd".into(),
        abr: "throughput".into(),
        retry: "dashjs".into(),
        format: "dash".into(),
        live: false,
        startup_delay_ms: Some(500.0),
        stall_count: stall as u64,
        stall_total_ms: stall_ms,
        stall_longest_ms: stall_ms,
        rebuffer_ratio: stall_ms / (end as f64 / 1e6),
        avg_bitrate_kbps: rate,
        bitrate_change_sum_kbps: 0.0,
        switch_count: 0,
        segments: n as u64,
        play_time_ms: played_ms,
        session_ms: end as f64 / 1e6,
        bytes: 20_000_000,
        request_errors: 0,
        retries: 0,
        reconnects: 0,
        gave_up: false,
        end_reason: Some(EndReason::Duration),
        qoe_linear: 100.0,
        request_lateness_p50_ms: 0.2,
        request_lateness_p99_ms: 1.0,
        request_lateness_max_ms: 2.0,
        audio: false,
        audio_segments: 0,
        audio_avg_bitrate_kbps: 0.0,
        video_stalls: stall as u64,
        audio_stalls: 0,
        connections: 0,
        http_version: None,
    }
}

pub(super) fn game(g: &mut RunGen, src: &str, n: usize, end: u64, gap: (u64, u64)) -> GameSummary {
    // snapshots every 100 ms from 2 s before the request (the baseline) through the
    // preoperation to 1 s before the pause (a real server never stops sending then:
    // a hole would read as a freeze), then `n - n/2` more from there through the outage
    let step = S / 10;
    let half = (n / 2) as u64;
    let second = gap.0.saturating_sub(S).max(8 * S + half * step);
    let times: Vec<u64> = (8 * S..second)
        .step_by(step as usize)
        .chain((0..n as u64 - half).map(|i| second + i * step))
        .filter(|t| *t < end)
        .collect();
    let base = 2.0 * g.sc.delay_ms + 1.0;
    let mut rtts = Vec::new();
    let mut last = 0u64;
    let mut freezes = Vec::new();
    for (i, t) in times.into_iter().enumerate() {
        if in_gap(t, gap) || t <= last {
            continue;
        }
        let extra = if t >= gap.1 && t < gap.1 + 2 * S {
            60.0
        } else {
            0.0
        };
        let rtt = base + extra + 3.0 * g.next();
        rtts.push(rtt);
        if last > 0 && last < gap.1 && t >= gap.1 && t - last > 250_000_000 {
            let d = (t - last) as f64 / 1e6;
            freezes.push(d);
            g.ev(
                t,
                src,
                EventKind::GameFreeze(GameFreeze {
                    start_ns: last,
                    duration_ms: d,
                    ticks_missed: Some((d / 15.0) as u64),
                    unresolved: false,
                }),
            );
        }
        g.ev(
            t,
            src,
            EventKind::GameSnapshot(GameSnapshot {
                seq: i as u32,
                tick: None,
                ack_seq: None,
                cmd_count: None,
                rtt_ns: vec![(rtt * 1e6) as u64],
                peer_send_ns: None,
                late: false,
                duplicate: false,
            }),
        );
        last = t;
    }
    let lost = g.sc.rate_mbit < 50.0 && g.next() < 0.5;
    rtts.sort_by(f64::total_cmp);
    let p = |q: f64| {
        rtts.get(((rtts.len() as f64 * q) as usize).min(rtts.len().saturating_sub(1)))
            .copied()
    };
    let longest = freezes.iter().copied().fold(0.0, f64::max);
    GameSummary {
        protocol: "qgt".into(),
        end_reason: "duration".into(),
        duration_ms: end as f64 / 1e6,
        commands_sent: n as u64,
        snapshots_received: rtts.len() as u64,
        rtt_p50_ms: p(0.5),
        rtt_p95_ms: p(0.95),
        rtt_p99_ms: p(0.99),
        rtt_max_ms: rtts.last().copied(),
        rtt_mean_ms: Some(rtts.iter().sum::<f64>() / rtts.len().max(1) as f64),
        jitter_ms: 0.5,
        ipdv_mean_ms: 0.8,
        gap_max_ms: longest,
        freeze_count: freezes.len() as u64,
        freeze_longest_ms: longest,
        freeze_total_ms: freezes.iter().sum::<f64>(),
        loss_up_count: None,
        loss_up_pct: None,
        loss_down_count: None,
        loss_down_pct: None,
        loss_round_trip_pct: None,
        late: 0,
        duplicates: 0,
        ignored: 0,
        tick_jumps: freezes.len() as u64,
        ticks_missed: 0,
        sessions: 1,
        sessions_lost: lost as u64,
        session_continuous: !lost,
        playable: longest <= 250.0 && !lost,
        send_error_mean_us: None,
        send_error_p50_us: None,
        send_error_p99_us: None,
        send_error_max_us: None,
    }
}

pub(super) fn download(
    g: &mut RunGen,
    src: &str,
    n: usize,
    end: u64,
    gap: (u64, u64),
) -> DownloadSummary {
    let step = end / n as u64;
    let mut total = 0u64;
    for i in 1..n as u64 {
        let t = i * step;
        let kbps = if in_gap(t, gap) {
            0.0
        } else {
            40_000.0 * (0.8 + 0.4 * g.next())
        };
        let bytes = (kbps * 1000.0 / 8.0 * step as f64 / 1e9) as u64;
        total += bytes;
        g.ev(
            t,
            src,
            EventKind::DownloadProgress(DownloadProgress {
                interval_ms: step as f64 / 1e6,
                bytes,
                total_bytes: total,
                throughput_kbps: kbps,
            }),
        );
    }
    let d = (gap.1 - gap.0) as f64 / 1e6;
    g.ev(
        gap.1,
        src,
        EventKind::DownloadStallEnd(DownloadStallEnd {
            start_ns: gap.0,
            duration_ms: d,
            unresolved: false,
        }),
    );
    DownloadSummary {
        outcome: DownloadOutcome::Completed,
        url: "http://10.77.0.2/file/1g.bin".into(),
        bytes: total,
        duration_ms: end as f64 / 1e6,
        throughput_kbps: 40_000.0,
        throughput_min_interval_kbps: 0.0,
        throughput_max_interval_kbps: 48_000.0,
        attempts: 1,
        resumes: 0,
        restarted_from_zero: false,
        errors: 0,
        stall_count: 1,
        stall_total_ms: d,
        stall_longest_ms: d,
        sha256: Some("00".into()),
        sha256_ok: Some(true),
        size_ok: Some(true),
        reason: None,
    }
}

pub(super) fn stream(
    g: &mut RunGen,
    src: &str,
    n: usize,
    end: u64,
    gap: (u64, u64),
    relay: bool,
) -> StreamSummary {
    let step = end / n as u64;
    let disconnect = relay && g.next() < 0.48;
    let (mut dropped, mut rendered) = (0u64, 0u64);
    for i in 1..n as u64 {
        let t = i * step;
        if disconnect && t > gap.1 {
            break;
        }
        rendered += 25 * step / S;
        if in_gap(t, gap) {
            dropped += 1;
        }
        let level_ms = if in_gap(t, gap) { 0.0 } else { 2000.0 };
        g.ev(
            t,
            src,
            EventKind::StreamSample(StreamSample {
                level_ms,
                min_level_ms: level_ms,
                level_percent: None,
                frames_rendered: rendered,
                frames_dropped: dropped,
                short_underruns: 0,
                bytes: 0,
                bitrate_kbps: 0.0,
                state: "playing".into(),
            }),
        );
    }
    StreamSummary {
        url: "http://10.77.0.2:8082/live.ts".into(),
        cache_ms: 0.0,
        stall_count: 0,
        stall_total_ms: 0.0,
        stall_longest_ms: 0.0,
        frames_rendered: rendered,
        frames_dropped: dropped,
        disconnects: disconnect as u64,
        reconnects: 0,
        min_cache_ms: 0.0,
        ..StreamSummary::default()
    }
}
