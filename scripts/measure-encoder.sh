#!/usr/bin/env bash
# Measures what the study's encoder does to memory (docs/dirtyrate.md, "The study's
# encoder, measured"): ffmpeg encodes the film-like source (scripts/make-film.sh) with
# libx264 in real time (-re, looped), and its stream is stored as ffserver stored a live
# feed (`qoeprobe serve feed`: a 5 MiB ring file of 4 KiB packets rewritten in place).
# `qoeprobe dirtyrate` measures the whole tree (ffmpeg, the feed writer, the feed's page
# cache) after a warm-up. One JSON + CSV per run in OUT_DIR, and one table line per run
# on stdout (ws = distinct MiB written within 1, 3, 10, 30 s; the working_set entries
# 0, 2, 4, 6 of the summary, windows of 1, 3, 10, 30 intervals):
#   tag  speed  fps  memory_MiB/s  ffmpeg_MiB/s  feed_MiB/s  ws1s  ws3s  ws10s  ws30s  rss  load_start  load_end  sampler_ms
# Usage: scripts/measure-encoder.sh OUT_DIR RES PRESET THREADS REPEATS [SECONDS] [SOURCE]
#   RES 720 or 1080; PRESET an x264 preset (medium is ffmpeg's default); THREADS x264
#   threads (0: x264's own choice, 1.5 x the CPUs; 6 is that choice on the study's
#   4-vCPU m1.large); SECONDS measured (default 60) after a 10 s warm-up; SOURCE the
#   input (default build/media/film-<RES>p.mp4).
# Needs: ffmpeg, jq, the qoeprobe binary (target/release/qoeprobe or $QOEPROBE), root
# or ptrace access to the children.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$1" res="$2" preset="$3" threads="$4" repeats="$5" secs="${6:-60}"
src="${7:-$root/build/media/film-${res}p.mp4}"
q="${QOEPROBE:-$root/target/release/qoeprobe}"
case "$res" in
    720) rate=2500k buf=5000k ;;
    1080) rate=4500k buf=9000k ;;
    *) echo "Error: RES must be 720 or 1080, not $res" >&2; exit 1 ;;
esac
for tool in ffmpeg jq; do
    command -v "$tool" >/dev/null || { echo "Error: $tool not found (scripts/install-deps.sh)" >&2; exit 1; }
done
[[ -x "$q" ]] || { echo "Error: no qoeprobe binary at $q (cargo build --release, or set QOEPROBE)" >&2; exit 1; }
[[ -s "$src" ]] || { echo "Error: no source $src (scripts/make-film.sh)" >&2; exit 1; }
mkdir -p "$out"
for rep in $(seq 1 "$repeats"); do
    tag="${res}p-${preset}-t${threads}-$(basename "$src" .mp4)-r${rep}"
    feed="$out/$tag.ffm"
    "$q" dirtyrate --warmup 10 --duration "$secs" --interval 1 -q \
        --json "$out/$tag.json" --csv "$out/$tag.csv" -- \
        sh -c "ffmpeg -nostdin -hide_banner -re -stream_loop -1 -i '$src' \
            -c:v libx264 -preset $preset -threads $threads -b:v $rate -maxrate $rate \
            -bufsize $buf -g 50 -c:a aac -b:a 128k -f mpegts pipe:1 2> '$out/$tag.ffmpeg.log' \
            | '$q' serve feed --file '$feed' --report-every 0 > '$out/$tag.feed.log'" \
        > "$out/$tag.txt"
    rm -f "$feed"
    prog=$(tr '\r' '\n' < "$out/$tag.ffmpeg.log" | grep -E '^frame=' | tail -1)
    speed=$(grep -o 'speed=[ 0-9.]*x' <<<"$prog" | tr -d ' ' | cut -d= -f2)
    fps=$(grep -o 'fps=[ 0-9.]*' <<<"$prog" | tr -d ' ' | cut -d= -f2)
    jq -r --arg tag "$tag" --arg speed "${speed:-?}" --arg fps "${fps:-?}" '
        def ws(i): .summary.working_set[i].mean_mib;
        [$tag, $speed, $fps,
           (.summary.memory_rate_mib_s * 100 | round / 100),
           ([.processes[] | select(.comm == "ffmpeg") | .memory_mib_s] | add // 0 | . * 100 | round / 100),
           (.summary.file_rate_mib_s * 1000 | round / 1000),
           ws(0), ws(2), ws(4), ws(6),
           (.summary.rss_mib.max | round),
           .loadavg[0][0], .loadavg[1][0],
           (.summary.sampler_cpu_ms | round)]
        | map(if type == "number" then (. * 10 | round / 10 | tostring) else (. // "-" | tostring) end)
        | join("  ")' "$out/$tag.json"
done
