#!/usr/bin/env bash
# The game prober's send timing against irtt, in one run (docs/performance.md, "Game
# prober send timing"). Servers pinned to one CPU, clients to another (taskset);
# loopback only.
#
#   1. game rates (default 66 and 128 Hz, 20 s each): qoeprobe's send-time error
#      (actual - scheduled, every command) next to irtt's own timer error, and the
#      CPU each client used;
#   2. maximum rate (default 20,000 / 50,000 / 100,000 per second, 5 s each) next to
#      irtt at 50 / 20 / 10 us intervals.
#
# With BASE=<an older qoeprobe binary>, that binary runs too, right before the new one,
# so "before" and "after" come from the same run.
#
# Usage: scripts/bench-game-timing.sh            (after `cargo build --release`)
# Environment: Q (qoeprobe binary, default target/release/qoeprobe), BASE, DURATION
# (20), RATES ("66 128"), MAX_RATES ("20000 50000 100000"), MAX_DURATION (5),
# IRTT_INTERVALS ("50us 20us 10us"; empty skips them, as for MAX_RATES), SERVER_CPU (0), CLIENT_CPU (1), OUT (a new
# directory under /tmp), CLIENT_PREFIX (put before every client, both qoeprobe and
# irtt: e.g. "chrt -f 50" to see how much of the error is the CPU scheduler). Needs irtt (scripts/install-test-tools.sh), jq, taskset and
# /usr/bin/time (scripts/packages.txt).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
Q="${Q:-$root/target/release/qoeprobe}"
BASE="${BASE:-}"
DURATION="${DURATION:-20}"
RATES="${RATES:-66 128}"
MAX_RATES="${MAX_RATES-20000 50000 100000}"
MAX_DURATION="${MAX_DURATION:-5}"
IRTT_INTERVALS="${IRTT_INTERVALS-50us 20us 10us}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
read -r -a CLIENT_PREFIX <<<"${CLIENT_PREFIX:-}"

die() { echo "bench-game-timing: $*" >&2; exit 2; }
[[ -x "$Q" ]] || die "$Q is missing: build it first (cargo build --release, or make release)"
[[ -z "$BASE" || -x "$BASE" ]] || die "BASE=$BASE is not an executable"
for tool in irtt jq taskset /usr/bin/time; do
    command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh and scripts/install-test-tools.sh"
done
out="${OUT:-$(mktemp -d /tmp/qoeprobe-bench-game.XXXXXX)}"
mkdir -p "$out"

pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- servers, pinned -----------------------------------------------------------------
serve_game() { # BIN LOG: starts `serve game`, sets $addr to its address
    taskset -c "$SERVER_CPU" "$1" serve game --bind 127.0.0.1:0 --tick 66 --rate-limit 10000000 \
        >"$2" 2>&1 &
    pids+=($!)
    addr=""
    for _ in $(seq 100); do
        addr="$(sed -n 's#.*game: udp://##p' "$2")"
        [[ -n "$addr" ]] && break
        sleep 0.05
    done
    [[ -n "$addr" ]] || die "serve game did not start: $(cat "$2")"
}
serve_game "$Q" "$out/serve-game.log"
game="$addr"
# Each client plays against its own version's server (the handshake changed in
# protocol version 2); both servers run on the server CPU for the whole run.
game_base=""
if [[ -n "$BASE" ]]; then
    serve_game "$BASE" "$out/serve-game-base.log"
    game_base="$addr"
fi

irtt_port=""
for _ in $(seq 20); do
    port=$((20000 + RANDOM % 30000))
    taskset -c "$SERVER_CPU" irtt server -b "127.0.0.1:$port" -i 0 -d 0 >"$out/irtt-server.log" 2>&1 &
    pid=$!
    sleep 0.3
    if kill -0 "$pid" 2>/dev/null && irtt client -n -Q "127.0.0.1:$port" 2>/dev/null; then
        pids+=("$pid")
        irtt_port=$port
        break
    fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
done
[[ -n "$irtt_port" ]] || die "irtt server did not start: $(cat "$out/irtt-server.log")"

# --- one client run each ---------------------------------------------------------------
# Each run prints 9 fields: sent  achieved/s  error mean  p50  p99  max (us)
# CPU % of one core  CPU us per probe  involuntary context switches (times the
# scheduler took the CPU away); "-" where the tool does not say.
timed() { # FILE CMD...: runs CMD pinned to the client CPU, its CPU time into FILE.time
    local f="$1"
    shift
    /usr/bin/time -f "%e %U %S %c" -o "$f.time" taskset -c "$CLIENT_CPU" ${CLIENT_PREFIX[@]+"${CLIENT_PREFIX[@]}"} "$@" \
        >/dev/null 2>"$f.err" ||
        die "$* failed: $(tail -3 "$f.err")"
}
cpu() { # FILE SENT -> "cpu_pct us_per_probe preemptions" (user + system over wall time)
    local wall user sys preempted
    read -r wall user sys preempted <"$1.time"
    awk -v w="$wall" -v u="$user" -v s="$sys" -v n="$2" -v p="$preempted" \
        'BEGIN { c = u + s; printf "%.1f %.1f %d", 100 * c / w, (n > 0 ? 1e6 * c / n : 0), p }'
}
run_qoeprobe() { # BIN LABEL RATE SECONDS
    local f="$out/$2-$3.json" stats server="$game"
    if [[ "$1" == "$BASE" ]]; then server="$game_base"; fi
    timed "$f" "$1" game "$server" --cmdrate "$3" --duration "$4" --json "$f" -q
    # From the events themselves (every command's t_ns and scheduled_ns), not the summary.
    stats="$(jq -r '[.events[] | select(.kind == "game_command")] as $c
        | ($c | length) as $n
        | ([$c[] | .t_ns - .scheduled_ns] | sort) as $e
        | ((($c | last.t_ns) - ($c | first.t_ns)) / 1e9) as $span
        | def q(p): $e[([($n * p | floor), $n - 1] | min)] / 1e3;
        [$n, (if $span > 0 then ($n - 1) / $span else 0 end | round),
         ($e | add / $n / 1e3), q(0.5), q(0.99), ($e | last / 1e3)]
        | map(. * 10 | round / 10 | tostring) | join(" ")' "$f")"
    echo "$stats $(cpu "$f" "${stats%% *}")"
}
run_irtt() { # LABEL INTERVAL SECONDS
    local f="$out/$1.json" stats
    timed "$f" irtt client -i "$2" -d "${3}s" -Q -o "$f" "127.0.0.1:$irtt_port"
    stats="$(jq -r '.stats | [.packets_sent, (.packets_sent / (.duration / 1e9) | round),
        (.timer_error.mean / 1e3 | . * 10 | round / 10), "-", "-",
        (.timer_error.max / 1e3 | . * 10 | round / 10)] | map(tostring) | join(" ")' "$f")"
    echo "$stats $(cpu "$f" "${stats%% *}")"
}
game_row() { # PROBER RATE FIELDS...
    local who="$1" rate="$2"
    shift 2
    echo "| $who | $rate | $1 | $3 | $4 | $5 | $6 | $8 us | $7 % | $9 |"
}
max_row() { # PROBER ASKED FIELDS...
    local who="$1" asked="$2"
    shift 2
    echo "| $who | $asked | $1 | $2 | $3 | $4 | $5 | $7 % | $9 |"
}

echo "# game send timing, $(date -u +%FT%TZ), $(uname -r), $(nproc) CPUs, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# servers on CPU $SERVER_CPU, clients on CPU $CLIENT_CPU${CLIENT_PREFIX[*]:+ under ${CLIENT_PREFIX[*]}}; raw files in $out"
echo "# qoeprobe: actual - scheduled send time of every command, us; irtt: its timer_error (actual - intended wake-up), us"
echo
echo "| prober | rate | sent | error mean | error p50 | error p99 | error max | CPU per probe | CPU of one core | preempted |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for rate in $RATES; do
    if [[ -n "$BASE" ]]; then
        # shellcheck disable=SC2046
        game_row "qoeprobe before" "$rate Hz" $(run_qoeprobe "$BASE" base "$rate" "$DURATION")
    fi
    # shellcheck disable=SC2046
    game_row "qoeprobe" "$rate Hz" $(run_qoeprobe "$Q" new "$rate" "$DURATION")
    interval_us=$(awk -v r="$rate" 'BEGIN { printf "%d", 1e6 / r }')
    # shellcheck disable=SC2046
    game_row "irtt client" "$rate Hz" $(run_irtt "irtt-$rate" "${interval_us}us" "$DURATION")
done
echo
echo "load average after the game rates: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| prober | asked | sent | achieved /s | error mean | error p50 | error p99 | CPU of one core | preempted |"
echo "|---|---|---|---|---|---|---|---|---|"
for rate in $MAX_RATES; do
    if [[ -n "$BASE" ]]; then
        # shellcheck disable=SC2046
        max_row "qoeprobe before" "$rate/s" $(run_qoeprobe "$BASE" max-base "$rate" "$MAX_DURATION")
    fi
    # shellcheck disable=SC2046
    max_row "qoeprobe" "$rate/s" $(run_qoeprobe "$Q" max-new "$rate" "$MAX_DURATION")
done
for i in $IRTT_INTERVALS; do
    # shellcheck disable=SC2046
    max_row "irtt client" "$i interval" $(run_irtt "irtt-max-$i" "$i" "$MAX_DURATION")
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
