#!/usr/bin/env bash
# Installs the independent peers the game-probe tests and benchmarks compare against:
#   irtt        (Debian package)            -> /usr/bin/irtt
#   stamp-suite (crates.io, RFC 8762 STAMP) -> build/tools/bin/
# Idempotent: skips what is already there. Run from anywhere; CI runs it before the tests.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/build/tools"

if ! command -v irtt >/dev/null 2>&1; then
    echo "installing irtt (apt)"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq irtt
fi

if ! ls "$tools"/bin/stamp* >/dev/null 2>&1; then
    echo "installing stamp-suite into $tools (cargo install)"
    cargo install stamp-suite --locked --root "$tools"
fi
echo "test tools: $(command -v irtt) $(ls "$tools"/bin/stamp* | tr '\n' ' ')"
