#!/usr/bin/env bash
# Installs the Debian packages qoeprobe needs that are missing (Debian 12, as root).
# Usage: scripts/install-deps.sh [extra packages...]
# The package list lives in scripts/packages.txt (one per line, # comments).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mapfile -t wanted < <(grep -v '^\s*#' "$here/packages.txt" | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$')
wanted+=("$@")
missing=()
for p in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "Error: missing Debian packages: ${missing[*]}; run as root or install them" >&2
        exit 1
    fi
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null; then
    if [[ -x "$HOME/.cargo/bin/cargo" ]]; then
        echo "note: cargo is in ~/.cargo/bin; add it to PATH" >&2
    else
        echo "Error: cargo not found; install Rust (rustup) first" >&2
        exit 1
    fi
fi
