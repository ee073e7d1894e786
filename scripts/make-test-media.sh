#!/usr/bin/env bash
# Real media for the player tests, made by real packagers, into build/media/<name>/:
#   dashjs-ref      ffmpeg dash muxer: H.264 320x180 15 fps + AAC, 2 s segments, 180 s,
#                   SegmentTemplate $Number%05d$ (the dash.js comparison, tests/chromium_dashjs.rs)
#   ffmpeg-dash-timeline  ffmpeg dash muxer, SegmentTimeline + $Time$, two qualities + audio
#   ffmpeg-hls-fmp4 ffmpeg hls muxer, fMP4 segments, master playlist with an audio rendition
#   ffmpeg-hls-ts   ffmpeg hls muxer, MPEG-TS segments (audio muxed in)
#   shaka-base      Shaka Packager on-demand: SegmentBase + sidx, video + audio
#   shaka-multiperiod  Shaka Packager live profile split into two periods by an ad cue at 12 s
#   shaka-hls       Shaka Packager HLS: fMP4 video and an EXT-X-MEDIA audio rendition
# The source clips are ffmpeg test patterns (testsrc2 + a sine tone), H.264 + AAC.
# Idempotent: a folder that already holds its manifest is left alone.
# Usage: scripts/make-test-media.sh NAME...   (needs ffmpeg; shaka-* need
# build/tools/bin/packager from scripts/install-test-tools.sh)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
media="$root/build/media"
packager="$root/build/tools/bin/packager"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
need_packager() {
    if [[ ! -x "$packager" ]]; then
        echo "Error: $packager not found: run scripts/install-test-tools.sh" >&2
        exit 1
    fi
}
# An H.264 (+ AAC) source of SECS seconds at WxH and KBPS, keyframes every 2 s.
source_clip() { # out secs size kbps fps
    ff -f lavfi -i "testsrc2=size=$3:rate=$5:duration=$2" \
        -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$2" \
        -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p -bf 0 \
        -g "$(($5 * 2))" -keyint_min "$(($5 * 2))" -sc_threshold 0 \
        -b:v "${4}k" -maxrate "${4}k" -bufsize "$((2 * $4))k" \
        -c:a aac -b:a 64k -ac 2 "$1"
}

make_one() {
    local name="$1" out="$media/$1"
    local tmp="$out.tmp"
    case "$name" in
    dashjs-ref | ffmpeg-dash-timeline | shaka-base | shaka-multiperiod) manifest="manifest.mpd" ;;
    *) manifest="master.m3u8" ;;
    esac
    if [[ -s "$out/$manifest" ]]; then
        return 0
    fi
    rm -rf "$tmp"
    mkdir -p "$tmp"
    case "$name" in
    dashjs-ref)
        ff -f lavfi -i "testsrc2=size=320x180:rate=15:duration=180" \
            -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p -bf 0 \
            -g 30 -keyint_min 30 -sc_threshold 0 -b:v 200k -maxrate 200k -bufsize 400k \
            -f dash -seg_duration 2 -use_template 1 -use_timeline 0 \
            -init_seg_name 'init-$RepresentationID$.m4s' \
            -media_seg_name 'seg-$RepresentationID$-$Number%05d$.m4s' \
            "$tmp/manifest.mpd"
        ;;
    ffmpeg-dash-timeline)
        source_clip "$tmp/src.mp4" 24 640x360 800 25
        ff -i "$tmp/src.mp4" -map 0:v -map 0:v -map 0:a \
            -c:v libx264 -preset veryfast -bf 0 -g 50 -keyint_min 50 -sc_threshold 0 \
            -b:v:0 300k -s:v:0 320x180 -b:v:1 800k -c:a copy \
            -f dash -seg_duration 2 -use_template 1 -use_timeline 1 \
            -adaptation_sets "id=0,streams=v id=1,streams=a" \
            "$tmp/manifest.mpd"
        rm "$tmp/src.mp4"
        ;;
    ffmpeg-hls-fmp4)
        source_clip "$tmp/src.mp4" 24 640x360 800 25
        ff -i "$tmp/src.mp4" -map 0:v -map 0:a -c copy \
            -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_type fmp4 \
            -hls_segment_filename "$tmp/%v/seg%03d.m4s" -hls_fmp4_init_filename init.mp4 \
            -master_pl_name master.m3u8 \
            -var_stream_map "v:0,agroup:aud a:0,agroup:aud,default:yes,language:en" \
            "$tmp/%v/index.m3u8"
        rm "$tmp/src.mp4"
        ;;
    ffmpeg-hls-ts)
        source_clip "$tmp/src.mp4" 24 640x360 800 25
        ff -i "$tmp/src.mp4" -map 0:v -map 0:a -c copy \
            -f hls -hls_time 2 -hls_playlist_type vod \
            -hls_segment_filename "$tmp/v/seg%03d.ts" \
            -master_pl_name master.m3u8 -var_stream_map "v:0,a:0,name:v" \
            "$tmp/%v/index.m3u8"
        rm "$tmp/src.mp4"
        ;;
    shaka-base)
        need_packager
        source_clip "$tmp/src.mp4" 24 640x360 800 25
        (cd "$tmp" && "$packager" --quiet \
            "in=src.mp4,stream=video,output=video.mp4" \
            "in=src.mp4,stream=audio,output=audio.mp4" \
            --mpd_output manifest.mpd)
        rm "$tmp/src.mp4"
        ;;
    shaka-multiperiod)
        need_packager
        source_clip "$tmp/src.mp4" 24 640x360 800 25
        (cd "$tmp" && "$packager" --quiet \
            "in=src.mp4,stream=video,init_segment=video/init.mp4,segment_template=video/\$Number%05d\$.m4s" \
            "in=src.mp4,stream=audio,init_segment=audio/init.mp4,segment_template=audio/\$Number%05d\$.m4s" \
            --segment_duration 2 --ad_cues 12 --generate_static_live_mpd --mpd_output manifest.mpd)
        rm "$tmp/src.mp4"
        ;;
    shaka-hls)
        need_packager
        source_clip "$tmp/src.mp4" 24 640x360 800 25
        (cd "$tmp" && "$packager" --quiet \
            "in=src.mp4,stream=video,init_segment=video/init.mp4,segment_template=video/\$Number\$.m4s,playlist_name=video.m3u8" \
            "in=src.mp4,stream=audio,init_segment=audio/init.mp4,segment_template=audio/\$Number\$.m4s,playlist_name=audio.m3u8,hls_group_id=audio,hls_name=English" \
            --segment_duration 2 --hls_master_playlist_output master.m3u8 --hls_playlist_type VOD)
        rm "$tmp/src.mp4"
        ;;
    *)
        echo "Error: unknown media set $name" >&2
        exit 1
        ;;
    esac
    rm -rf "$out"
    mv "$tmp" "$out"
    echo "made $out"
}

if [[ $# -eq 0 ]]; then
    echo "usage: $0 NAME... (dashjs-ref ffmpeg-dash-timeline ffmpeg-hls-fmp4 ffmpeg-hls-ts shaka-base shaka-multiperiod shaka-hls)" >&2
    exit 2
fi
if ! command -v ffmpeg >/dev/null; then
    echo "Error: ffmpeg not found; install the Debian package ffmpeg (scripts/install-deps.sh)" >&2
    exit 1
fi
for n in "$@"; do
    make_one "$n"
done
