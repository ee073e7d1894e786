#!/usr/bin/env bash
# Generates the film-like source for measuring a live encoder's memory behaviour
# (docs/dirtyrate.md, "The study's encoder, measured"): build/media/film-1080p.mp4 and
# build/media/film-720p.mp4, 60 s at 25 fps with stereo audio, made only from ffmpeg's
# own generators so that any machine with ffmpeg makes the same kind of picture.
#
# What makes it film-like for an encoder (rather than a test pattern, which x264
# compresses to almost nothing and skips block after block):
#   - natural-looking texture: three octaves of blurred noise (a 1/f-like spectrum,
#     as terrain, foliage, clouds), colour-graded;
#   - camera motion: slow pans and a zoom over that texture, so motion search works
#     on real displacement;
#   - local, organic motion (a blurred cellular automaton) and a fractal zoom;
#   - scene cuts every 10-14 s (new keyframes, new references);
#   - temporal film grain on every frame (noise allf=t), so no block repeats exactly.
# Idempotent: does nothing if both files exist (delete them to regenerate).
# Usage: scripts/make-film.sh [OUTPUT_DIR]    (needs the Debian package ffmpeg)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build/media}"
hd="$out/film-1080p.mp4"
sd="$out/film-720p.mp4"
if [[ -s "$hd" && -s "$sd" ]]; then
    exit 0
fi
if ! command -v ffmpeg >/dev/null; then
    echo "Error: ffmpeg not found; install the Debian package ffmpeg (scripts/install-deps.sh)" >&2
    exit 1
fi
mkdir -p "$out"
W=1920 H=1080 R=25

# A texture larger than the frame, to pan over: three octaves of noise.
tex() { # $1 = label, $2 = colour curves
    cat <<EOF
color=c=gray:s=3200x1800:d=1,format=gray,noise=alls=100:allf=u,split=3[$1n1][$1n2][$1n3];
[$1n1]gblur=sigma=40[$1o1];[$1n2]gblur=sigma=10[$1o2];[$1n3]gblur=sigma=2.5[$1o3];
[$1o1][$1o2]blend=all_expr='A*0.6+B*0.4'[$1o12];[$1o12][$1o3]blend=all_expr='A*0.8+B*0.2',
normalize=blackpt=black:whitept=white:smoothing=0,format=rgb24,curves=$2,
loop=loop=-1:size=1,fps=$R
EOF
}

graph="
$(tex a "r='0/0.10 0.5/0.45 1/0.80':g='0/0.15 0.5/0.55 1/0.85':b='0/0.05 0.5/0.30 1/0.60'"),
crop=$W:$H:x='(iw-ow)/2+(iw-ow)/2*sin(t/5)':y='(ih-oh)/2+(ih-oh)/3*cos(t/7)',trim=duration=14,setpts=PTS-STARTPTS[s1];
mandelbrot=s=${W}x${H}:rate=$R:start_scale=2.5:end_scale=0.02:end_pts=10:maxiter=256,
gblur=sigma=1.2,hue=s=0.55,trim=duration=10,setpts=PTS-STARTPTS[s2];
life=s=480x270:rate=$R:ratio=0.12:mold=12:life_color=#d8b888:death_color=#1a2430:mold_color=#6a4a2a,
scale=$W:$H:flags=bicubic,gblur=sigma=3,trim=duration=12,setpts=PTS-STARTPTS[s3];
$(tex b "r='0/0.30 1/0.95':g='0/0.40 1/0.97':b='0/0.60 1/1.0'"),
zoompan=z='1.0+0.0012*on':x='iw/2-(iw/zoom/2)+on*0.8':y='ih/2-(ih/zoom/2)':d=1:s=${W}x${H}:fps=$R,
trim=duration=12,setpts=PTS-STARTPTS[s4clouds];
gradients=s=${W}x${H}:rate=$R:speed=0.015:n=3:c0=#0b2a5a:c1=#e08a3c:c2=#6fa7d8,trim=duration=12,setpts=PTS-STARTPTS[s4sky];
[s4sky][s4clouds]blend=all_mode=screen,format=rgb24[s4];
sierpinski=s=${W}x${H}:rate=$R:type=carpet:jump=40,colorchannelmixer=rr=0.7:gg=0.5:bb=0.3,
gblur=sigma=4,trim=duration=12,setpts=PTS-STARTPTS[s5];
[s1][s2][s3][s4][s5]concat=n=5:v=1:a=0,format=yuv420p,noise=c0s=10:c1s=5:c2s=5:allf=t+u,vignette=PI/5[v];
anoisesrc=color=pink:amplitude=0.08:sample_rate=48000:duration=60[an];
sine=frequency=220:sample_rate=48000:duration=60,volume=0.05[as];
[an][as]amix=inputs=2,aformat=channel_layouts=stereo[a]"

tmp="$hd.tmp.mp4"
ffmpeg -nostdin -hide_banner -loglevel error -y -filter_complex "$graph" -map '[v]' -map '[a]' \
    -t 60 -c:v libx264 -preset veryfast -crf 17 -maxrate 20M -bufsize 40M -g 50 \
    -c:a aac -b:a 192k -movflags +faststart "$tmp"
mv "$tmp" "$hd"
tmp="$sd.tmp.mp4"
ffmpeg -nostdin -hide_banner -loglevel error -y -i "$hd" -vf scale=1280:720:flags=lanczos \
    -c:v libx264 -preset veryfast -crf 17 -maxrate 10M -bufsize 20M -g 50 -c:a copy \
    -movflags +faststart "$tmp"
mv "$tmp" "$sd"
echo "made $hd ($(stat -c %s "$hd") bytes) and $sd ($(stat -c %s "$sd") bytes)"
