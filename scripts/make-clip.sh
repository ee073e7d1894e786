#!/usr/bin/env bash
# Generates the live-stream test clip: build/media/clip.ts (relative to the workspace
# root), 10 s of a moving test pattern (ffmpeg's testsrc2), H.264 (libx264, no
# B-frames, keyframe every 1 s = 25 frames), 640x360 at 25 fps, about 1 Mbit/s, in
# MPEG-TS, video only. `serve live --source encoder` loops it as one endless stream.
# Idempotent: does nothing if the clip is already there (delete it to regenerate).
# Usage: scripts/make-clip.sh [OUTPUT]   (needs the Debian package ffmpeg)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build/media/clip.ts}"
if [[ -s "$out" ]]; then
    exit 0
fi
if ! command -v ffmpeg >/dev/null; then
    echo "Error: ffmpeg not found; install the Debian package ffmpeg (scripts/install-deps.sh)" >&2
    exit 1
fi
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.ts"
ffmpeg -nostdin -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=size=640x360:rate=25:duration=10" \
    -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p -bf 0 \
    -g 25 -keyint_min 25 -sc_threshold 0 \
    -b:v 1000k -maxrate 1000k -bufsize 1000k \
    -f mpegts "$tmp"
mv "$tmp" "$out"
echo "made $out ($(stat -c %s "$out") bytes)"
