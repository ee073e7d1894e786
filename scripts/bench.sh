#!/usr/bin/env bash
# Runs the benchmarks of docs/performance.md on this machine and prints their results,
# each beside its peer where it has one. `make bench` builds the release binary first.
#
#   scripts/bench.sh [NAME...]     NAME: sim clients game analysis net lab (default: all
#                                  but lab, which boots VMs; `lab` needs root and QEMU)
#
# A benchmark whose peer tool or privilege is missing is skipped with the reason. The
# numbers are only as quiet as the machine: docs/performance.md records where others'
# builds ran at the same time. Knobs (environment): BENCH_SIM_REPS (20),
# BENCH_CLIENTS (session counts, "2000 5000 10000"; more knobs in
# scripts/bench-players.sh), BENCH_GAME_SECS (20),
# BENCH_RUNS (100 runs per cell: 5 x 20 x 100 = 10,000 runs), BENCH_DIR (a temporary
# folder, removed at the end).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
Q="$root/target/release/qoeprobe"
work="${BENCH_DIR:-$(mktemp -d /tmp/qoeprobe-bench.XXXXXX)}"
mkdir -p "$work"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ -z "${BENCH_DIR:-}" ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT

all=(sim clients game analysis net)
want=("$@")
((${#want[@]})) || want=("${all[@]}")
has() { [[ " ${want[*]} " == *" $1 "* ]]; }
say() { printf '\n== %s\n' "$*"; }
skip() { printf 'skipped: %s\n' "$*"; }
load() { printf '(load average %s)\n' "$(cut -d' ' -f1-3 /proc/loadavg)"; }

[[ -x "$Q" ]] || cargo build --release --locked --bin qoeprobe

# Starts `qoeprobe serve ARGS` in the background; sets `served` to the address it
# prints first (`<service>: <url>`), or fails.
serve() {
    local out="$work/serve-$1.out"
    "$Q" serve "$@" >"$out" 2>"$work/serve-$1.err" &
    pids+=($!)
    for _ in $(seq 100); do
        if [[ -s "$out" ]]; then
            served="$(head -1 "$out" | cut -d' ' -f2)"
            return
        fi
        sleep 0.1
    done
    echo "Error: qoeprobe serve $1 did not start: $(cat "$work/serve-$1.err")" >&2
    exit 1
}

if has sim; then
    say "player core: simulate a 10-hour session (peer: Sabre, 1.7 s throughput rule, 4.3 s BOLA-E on this kind of machine)"
    load
    cargo run --release --locked -q -p probes --example sim_bench "${BENCH_SIM_REPS:-20}"
    # The whole process: the same session from files, BOLA, as a user runs it.
    python3 - "$work" <<'PY'
import sys
reps = "".join(f'<Representation id="v{i}" bandwidth="{k * 1000}"/>'
               for i, k in enumerate([300, 750, 1500, 3000, 5000, 8000]))
open(f"{sys.argv[1]}/ten-hours.mpd", "w").write(
    '<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
    'mediaPresentationDuration="PT36000S"><Period><AdaptationSet contentType="video" '
    'mimeType="video/mp4"><SegmentTemplate media="$RepresentationID$/$Number$.m4s" '
    f'duration="3000" timescale="1000" startNumber="1"/>{reps}</AdaptationSet></Period></MPD>\n')
open(f"{sys.argv[1]}/ten-hours.csv", "w").write("20000,1500\n20000,4000\n20000,9000\n")
PY
    sim=("$Q" simulate --manifest "$work/ten-hours.mpd" --trace "$work/ten-hours.csv"
        --rtt-ms 40 --abr bola --max-buffer 30)
    "${sim[@]}" | grep -E "^ *simulated" | sed 's/^ */qoeprobe simulate, core (bola): /'
    walls=()
    for _ in $(seq "${BENCH_SIM_REPS:-20}"); do
        t0=$(date +%s%N)
        "${sim[@]}" -q
        walls+=($((($(date +%s%N) - t0) / 1000)))
    done
    printf '%s\n' "${walls[@]}" | sort -n | awk '{ v[NR] = $1 } END {
        printf "qoeprobe simulate, whole process (bola): min %.1f ms  median %.1f ms\n",
            v[1] / 1000, v[int((NR + 1) / 2)] / 1000 }'
fi

if has clients; then
    say "player: concurrent real-time sessions against serve dash (scripts/bench-players.sh)"
    # shellcheck disable=SC2086 # a list of session counts
    Q="$Q" "$root/scripts/bench-players.sh" ${BENCH_CLIENTS:-2000 5000 10000}
fi

if has game; then
    secs="${BENCH_GAME_SECS:-20}"
    say "game prober send timing, side by side with irtt ($secs s per rate)"
    load
    serve game --bind 127.0.0.1:0 --tick 66 --rate-limit 10000000
    addr="${served#udp://}"
    pin() { if command -v taskset >/dev/null; then taskset -c "$1" "${@:2}"; else "${@:2}"; fi; }
    irtt_ok=""
    if command -v irtt >/dev/null; then
        pin 0 irtt server -b 127.0.0.1:2112 -i 0 >/dev/null 2>&1 &
        pids+=($!)
        irtt_ok=1
        sleep 0.3
    fi
    for rate in 66 128; do
        pin 1 "$Q" game "$addr" --cmdrate "$rate" --duration "$secs" -q --json "$work/q$rate.json" |
            grep -E "^(rtt ms|send error)" | sed "s/^/qoeprobe $rate Hz: /"
        if [[ -n "$irtt_ok" ]]; then
            pin 1 irtt client -i "$((1000000 / rate))us" -d "${secs}s" -Q -o "$work/i$rate.json" 127.0.0.1:2112 >/dev/null
            python3 - "$work/i$rate.json" "$rate" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
t, r = s["timer_error"], s["rtt"]
print(f"irtt {sys.argv[2]} Hz: sent {s['packets_sent']}, timer_error mean {t['mean'] / 1000:.0f} us "
      f"(max {t['max'] / 1e6:.1f} ms), rtt median {r['median'] / 1e6:.2f} ms")
PY
        fi
    done
    [[ -n "$irtt_ok" ]] || skip "irtt is not installed (scripts/install-test-tools.sh): qoeprobe measured alone"
fi

if has analysis; then
    runs="${BENCH_RUNS:-100}"
    say "analysis: table and report on a synthetic campaign of $((5 * 20 * runs)) runs"
    cargo build --release --locked -q -p analysis --example synth
    ./target/release/examples/synth "$work/synth" network 20 "$runs" 102
    load
    for cmd in table report; do
        extra=()
        [[ $cmd == report ]] && extra=(-o "$work/report.html")
        /usr/bin/time -f "qoeprobe $cmd: %e s wall, %U s user, %S s sys, %M KB max RSS" \
            "$Q" "$cmd" "$work/synth" "${extra[@]}" >/dev/null
    done
fi

if has net; then
    say "network conditions: the delay relay and the shaped links"
    if [[ $(id -u) -ne 0 ]]; then
        skip "needs root (network namespaces)"
    else
        load
        cargo test --release --locked -q -p platform --test net_bench -- --ignored --nocapture 2>&1 |
            grep -vE "^(running|test result|$)"
    fi
fi

if has lab; then
    say "the local QEMU lab: one live migration per flavor, migration link 200 Mbit/s"
    if [[ $(id -u) -ne 0 ]] || ! command -v qemu-system-x86_64 >/dev/null; then
        skip "needs root and QEMU (qemu-system-x86)"
    else
        load
        for f in lab.tiny lab.small; do
            "$Q" lab migrate --link-mbit 200 --services dash --flavor "$f" | sed "s/^/$f: /"
        done
    fi
fi
