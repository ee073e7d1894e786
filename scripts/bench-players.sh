#!/usr/bin/env bash
# Many real-time players in one process against `qoeprobe serve dash` on the same
# machine (docs/performance.md, "Concurrent real-time sessions"): for each session
# count, a fresh origin, then `play --clients N` with its starts spread at a fixed
# rate, every session kept long enough that all N run at the same time for
# BENCH_HOLD seconds. Prints the client's own report (segments, stalls, request
# timing error, response time, CPU and memory) and the origin's CPU and peak memory
# for the same run, read from /proc.
#
#   scripts/bench-players.sh [N...]        (default: 2000 5000 10000)
#
# Knobs (environment): BENCH_RATE session starts per second (200), BENCH_HOLD
# seconds all N run at once (30), BENCH_ABR (fixed:0), Q the qoeprobe binary
# (target/release/qoeprobe, built if missing), BENCH_DIR a folder for the JSON
# reports (a temporary one, removed at the end, by default).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
Q="${Q:-$root/target/release/qoeprobe}"
[[ -x "$Q" ]] || cargo build --release --locked --bin qoeprobe
work="${BENCH_DIR:-$(mktemp -d /tmp/qoeprobe-bench-players.XXXXXX)}"
mkdir -p "$work"
origin=""
cleanup() {
    if [[ -n "$origin" ]]; then kill "$origin" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    if [[ -z "${BENCH_DIR:-}" ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT

rate="${BENCH_RATE:-200}"
hold="${BENCH_HOLD:-30}"
abr="${BENCH_ABR:-fixed:0}"
counts=("$@")
((${#counts[@]})) || counts=(2000 5000 10000)
tick="$(getconf CLK_TCK)"

# Each session and each connection is a file descriptor on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

for n in "${counts[@]}"; do
    ramp=$(((n + rate - 1) / rate))
    secs=$((ramp + hold))
    printf '\n== %s sessions: starts over %s s, %s s each (all running together for %s s), --abr %s\n' \
        "$n" "$ramp" "$secs" "$hold" "$abr"
    printf '(load average %s; open files limit %s)\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$(ulimit -n)"
    "$Q" serve dash --bind 127.0.0.1:0 >"$work/serve-$n.out" 2>"$work/serve-$n.err" &
    origin=$!
    for _ in $(seq 100); do [[ -s "$work/serve-$n.out" ]] && break; sleep 0.1; done
    url="$(head -1 "$work/serve-$n.out" | cut -d' ' -f2)"
    [[ -n "$url" ]] || { echo "Error: serve dash did not start: $(cat "$work/serve-$n.err")" >&2; exit 1; }
    # utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat).
    cpu0="$(awk '{print $14 + $15}' "/proc/$origin/stat")"
    "$Q" play "$url" --clients "$n" --ramp "$ramp" --abr "$abr" --duration "$secs" -q \
        --json "$work/players-$n.json"
    cpu1="$(awk '{print $14 + $15}' "/proc/$origin/stat")"
    hwm_kb="$(awk '/^VmHWM/ {print $2}' "/proc/$origin/status")"
    kill "$origin"
    wait "$origin" 2>/dev/null || true
    origin=""
    python3 - "$work/players-$n.json" "$cpu0" "$cpu1" "$tick" "$hwm_kb" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cpu = (float(sys.argv[3]) - float(sys.argv[2])) / float(sys.argv[4])
wall, n, hwm = r["wall_s"], r["sessions"], float(sys.argv[5]) * 1e3
session_s = max(r["session_s"], 1e-9)
print(f"  origin     cpu {cpu:.2f} s over {wall:.1f} s wall ({100 * cpu / wall:.1f} % of one core), "
      f"{1000 * cpu / session_s:.3f} ms cpu per session-second, max RSS {hwm / 1e6:.1f} MB "
      f"({hwm / 1e3 / n:.2f} KB per session)")
PY
done
