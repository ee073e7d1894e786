-- qoeprobe results schema, version 1 (docs/postgres.md).
CREATE TABLE campaigns (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    campaign    jsonb,                        -- campaign.json
    loaded_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE runs (
    id                  bigserial PRIMARY KEY,
    campaign_id         bigint NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    application         text NOT NULL,
    scenario            text NOT NULL,
    run                 integer NOT NULL,
    complete            boolean NOT NULL,
    incomplete_reason   text,
    content_sha256      text NOT NULL,        -- of run.json, summary.json and timeline.jsonl
    driver              text,
    mode                text,
    copy                text,
    flavor              text,
    client_rate_mbit    double precision,
    client_delay_ms     double precision,
    client_loss_pct     double precision,
    migration_rate_mbit double precision,
    migration_delay_ms  double precision,
    migration_loss_pct  double precision,
    started_at          timestamptz,          -- the wall-clock anchor (t_ns = 0)
    wall_anchor_unix_ns bigint,
    info                jsonb,                -- run.json
    summary             jsonb,                -- summary.json
    UNIQUE (campaign_id, application, scenario, run)
);

CREATE TABLE migrations (
    run_id               bigint PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    driver               text NOT NULL,
    outcome              text NOT NULL,       -- completed | failed | cancelled
    detail               text,
    requested_at         timestamptz,
    paused_at            timestamptz,
    resumed_at           timestamptz,
    reattached_at        timestamptz,
    preoperation_ms      double precision,
    downtime_ms          double precision,
    postoperation_ms     double precision,
    total_ms             double precision,
    passes               bigint NOT NULL,
    transferred_bytes    bigint,
    remaining_bytes      bigint,
    platform_downtime_ms double precision
);

CREATE TABLE probe_summaries (
    run_id     bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name       text NOT NULL,
    probe      text NOT NULL,                 -- player | download | game | stream | a newer kind
    error      text,
    summary    jsonb NOT NULL,                -- the whole entry of summary.json
    -- every field the verdicts use, typed (NULL where the probe has no such field)
    startup_delay_ms    double precision GENERATED ALWAYS AS ((summary->>'startup_delay_ms')::double precision) STORED,
    stall_count         bigint           GENERATED ALWAYS AS ((summary->>'stall_count')::bigint) STORED,
    stall_total_ms      double precision GENERATED ALWAYS AS ((summary->>'stall_total_ms')::double precision) STORED,
    stall_longest_ms    double precision GENERATED ALWAYS AS ((summary->>'stall_longest_ms')::double precision) STORED,
    rebuffer_ratio      double precision GENERATED ALWAYS AS ((summary->>'rebuffer_ratio')::double precision) STORED,
    avg_bitrate_kbps    double precision GENERATED ALWAYS AS ((summary->>'avg_bitrate_kbps')::double precision) STORED,
    reconnects          bigint           GENERATED ALWAYS AS ((summary->>'reconnects')::bigint) STORED,
    gave_up             boolean          GENERATED ALWAYS AS ((summary->>'gave_up')::boolean) STORED,
    end_reason          text             GENERATED ALWAYS AS (summary->>'end_reason') STORED,
    outcome             text             GENERATED ALWAYS AS (summary->>'outcome') STORED,
    duration_ms         double precision GENERATED ALWAYS AS ((summary->>'duration_ms')::double precision) STORED,
    throughput_kbps     double precision GENERATED ALWAYS AS ((summary->>'throughput_kbps')::double precision) STORED,
    attempts            bigint           GENERATED ALWAYS AS ((summary->>'attempts')::bigint) STORED,
    resumes             bigint           GENERATED ALWAYS AS ((summary->>'resumes')::bigint) STORED,
    restarted_from_zero boolean          GENERATED ALWAYS AS ((summary->>'restarted_from_zero')::boolean) STORED,
    sha256_ok           boolean          GENERATED ALWAYS AS ((summary->>'sha256_ok')::boolean) STORED,
    size_ok             boolean          GENERATED ALWAYS AS ((summary->>'size_ok')::boolean) STORED,
    rtt_p50_ms          double precision GENERATED ALWAYS AS ((summary->>'rtt_p50_ms')::double precision) STORED,
    rtt_p95_ms          double precision GENERATED ALWAYS AS ((summary->>'rtt_p95_ms')::double precision) STORED,
    rtt_p99_ms          double precision GENERATED ALWAYS AS ((summary->>'rtt_p99_ms')::double precision) STORED,
    freeze_count        bigint           GENERATED ALWAYS AS ((summary->>'freeze_count')::bigint) STORED,
    freeze_longest_ms   double precision GENERATED ALWAYS AS ((summary->>'freeze_longest_ms')::double precision) STORED,
    sessions            bigint           GENERATED ALWAYS AS ((summary->>'sessions')::bigint) STORED,
    sessions_lost       bigint           GENERATED ALWAYS AS ((summary->>'sessions_lost')::bigint) STORED,
    session_continuous  boolean          GENERATED ALWAYS AS ((summary->>'session_continuous')::boolean) STORED,
    cache_ms            double precision GENERATED ALWAYS AS ((summary->>'cache_ms')::double precision) STORED,
    frames_rendered     bigint           GENERATED ALWAYS AS ((summary->>'frames_rendered')::bigint) STORED,
    frames_dropped      bigint           GENERATED ALWAYS AS ((summary->>'frames_dropped')::bigint) STORED,
    drop_ratio          double precision GENERATED ALWAYS AS ((summary->>'drop_ratio')::double precision) STORED,
    disconnects         bigint           GENERATED ALWAYS AS ((summary->>'disconnects')::bigint) STORED,
    PRIMARY KEY (run_id, name)
);

CREATE TABLE verdicts (
    run_id   bigint PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    outcome  text NOT NULL CHECK (outcome IN ('clean', 'impaired', 'failed')),
    kind     text,                            -- the application kind the profile was chosen by
    reasons  jsonb NOT NULL,                  -- [{key, detail}]
    notes    jsonb NOT NULL
);

-- The timelines. No foreign key (a per-row check would slow COPY several fold):
-- the loader deletes a run's events with the run.
CREATE TABLE events (
    run_id  bigint NOT NULL,
    seq     integer NOT NULL,                 -- line number in timeline.jsonl
    t_ns    bigint NOT NULL,
    ts      timestamptz NOT NULL,             -- wall-clock anchor + t_ns (microseconds)
    source  text NOT NULL,
    kind    text NOT NULL,
    data    jsonb NOT NULL,                   -- the line as written
    PRIMARY KEY (run_id, seq)
);

CREATE VIEW run_outcomes AS
SELECT c.name AS campaign, r.application, r.scenario, r.run, r.complete,
       r.incomplete_reason, v.outcome, v.reasons, r.id AS run_id
FROM runs r
JOIN campaigns c ON c.id = r.campaign_id
LEFT JOIN verdicts v ON v.run_id = r.id;

-- The migratability table (Table 2): one row per application x network scenario.
CREATE VIEW migratability AS
WITH counts AS (
    SELECT campaign, application, scenario,
           count(*) FILTER (WHERE outcome = 'clean')    AS clean,
           count(*) FILTER (WHERE outcome = 'impaired') AS impaired,
           count(*) FILTER (WHERE outcome = 'failed')   AS failed,
           count(*) FILTER (WHERE NOT complete)         AS skipped
    FROM run_outcomes
    GROUP BY campaign, application, scenario
)
SELECT campaign, application, scenario,
       clean + impaired + failed AS runs, clean, impaired, failed, skipped,
       CASE WHEN clean + impaired + failed = 0 THEN NULL
            WHEN clean = clean + impaired + failed THEN 'migratable'
            WHEN failed = clean + impaired + failed THEN 'not_migratable'
            ELSE 'semi_migratable' END AS verdict,
       CASE WHEN clean + impaired + failed = 0 THEN '–'
            WHEN clean = clean + impaired + failed THEN '✓'
            WHEN failed = clean + impaired + failed THEN '✗'
            ELSE '✗*' END || ' ' || clean || '/' || (clean + impaired + failed) AS label
FROM counts;

-- Phase statistics per campaign, network scenario and application, over completed
-- migrations of complete runs. ci95_ms: half-width of the normal-approximation 95 %
-- interval (1.96 sd / sqrt(n)); the HTML report uses Student's t.
CREATE VIEW phase_statistics AS
SELECT c.name AS campaign, r.scenario, r.application, p.phase,
       count(p.ms) AS n, avg(p.ms) AS mean_ms, stddev_samp(p.ms) AS sd_ms,
       min(p.ms) AS min_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY p.ms) AS p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY p.ms) AS p95_ms,
       max(p.ms) AS max_ms,
       1.96 * stddev_samp(p.ms) / sqrt(count(p.ms)) AS ci95_ms
FROM runs r
JOIN campaigns c ON c.id = r.campaign_id
JOIN migrations m ON m.run_id = r.id
CROSS JOIN LATERAL (VALUES ('preoperation', m.preoperation_ms), ('downtime', m.downtime_ms),
                           ('postoperation', m.postoperation_ms), ('total', m.total_ms)) AS p(phase, ms)
WHERE r.complete AND m.outcome = 'completed' AND p.ms IS NOT NULL
GROUP BY c.name, r.scenario, r.application, p.phase;
