#!/bin/sh
# tools/bench/decode.sh: decode cost of the ffmpeg-file producer against the
# `ffmpeg` command on the same file: CPU-seconds per second of source for a
# 720p and a 1080p 29.97 fps H.264 + AAC stereo clip.
#
#  producer: tools/bench/decode_bench (built here against BUILD_DIR's host
#            libraries) loads BUILD_DIR/modules/ffmpeg-file.so through the real
#            loader and reads every frame as fast as it can into a channel of
#            the source's own size and rate (decode, picture into the host
#            pool, audio resampled into 48 kHz S16 slices), default options.
#  ffmpeg:   ffmpeg -i X -f null -   (decode video and audio, default threads)
#
# Runs alternate producer/ffmpeg; prints every run, then medians and the ratio
# producer / ffmpeg (below 1 = the producer uses less CPU).
#
# usage: tools/bench/decode.sh [BUILD_DIR] [RUNS] [SECONDS]   (defaults: build 5 20)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
RUNS=${2:-5}
SECS=${3:-20}
MODULE=$BUILD/modules/ffmpeg-file.so
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rv-decode-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

[ -f "$MODULE" ] || { echo "build the module first: $MODULE" >&2; exit 1; }
cc -O2 -std=c11 -D_GNU_SOURCE -I"$ROOT/sdk" -I"$ROOT/host" -o "$WORK/decode_bench" \
  "$ROOT/tools/bench/decode_bench.c" "$BUILD/host/loader/librv_loader.a" \
  "$BUILD/host/core/librv_core.a" -ldl -lpthread

# cpu_seconds CMD...: user+system CPU seconds of CMD (all its threads)
cpu_seconds() {
  /usr/bin/time -f "%U %S" -o "$WORK/time" "$@" >"$WORK/stdout" 2>"$WORK/stderr" || {
    echo "command failed: $*" >&2; tail -5 "$WORK/stderr" >&2; exit 1; }
  awk '{ printf "%.3f\n", $1 + $2 }' "$WORK/time"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

FRAMES=$((SECS * 30000 / 1001))
echo "# $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(nproc) cores"
echo "# $RUNS alternating runs, ${SECS} s clips; CPU-seconds per second of source"
for size in 1280x720 1920x1080; do
  w=${size%x*}; h=${size#*x}
  src=$WORK/src_${h}p.mp4
  ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=$size:rate=30000/1001:duration=$SECS" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$SECS" \
    -c:v libx264 -preset veryfast -crf 23 -g 60 -pix_fmt yuv420p -c:a aac -b:a 128k -ac 2 "$src"
  : >"$WORK/p"; : >"$WORK/f"
  i=1
  while [ "$i" -le "$RUNS" ]; do
    p=$(cpu_seconds "$WORK/decode_bench" "$MODULE" "$src" "$w" "$h" 30000/1001 "$FRAMES")
    grep -q "frames=$FRAMES" "$WORK/stdout" || { echo "producer delivered $(cat "$WORK/stdout"), want $FRAMES" >&2; exit 1; }
    f=$(cpu_seconds ffmpeg -nostdin -v error -i "$src" -f null -)
    echo "$p" >>"$WORK/p"; echo "$f" >>"$WORK/f"
    echo "${h}p run $i: producer $p s, ffmpeg $f s"
    i=$((i + 1))
  done
  pm=$(median <"$WORK/p"); fm=$(median <"$WORK/f")
  awk -v h="$h" -v p="$pm" -v f="$fm" -v s="$SECS" 'BEGIN {
    printf "%sp: producer %.3f CPU-s/s, ffmpeg -f null %.3f CPU-s/s, ratio %.2f\n", h, p / s, f / s, p / f }'
done
