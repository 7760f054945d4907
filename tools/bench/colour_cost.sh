#!/bin/sh
# tools/bench/colour_cost.sh: CPU cost of each colour conversion of the
# ffmpeg-file producer (issue 13), on a 1280x720 29.97 channel, measured with
# tools/bench/decode_bench.c (the producer through the real loader, unpaced),
# CPU seconds (user + sys) per 300 frames, best of RUNS (the machine is shared).
#
# usage: tools/bench/colour_cost.sh [BUILD_DIR] [MODULE.so ...]
#   Each module given (default BUILD_DIR/modules/ffmpeg-file.so) is measured on
#   every source, so an older build can be compared (no-conversion rows).
set -eu
BUILD=${1:-build}
shift 2>/dev/null || true
MODS=${*:-$BUILD/modules/ffmpeg-file.so}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d /tmp/rv-colour-cost.XXXXXX)
trap 'rm -rf "$W"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -I"$ROOT/sdk" -I"$ROOT/host" -o "$W/decode_bench" \
   "$ROOT/tools/bench/decode_bench.c" "$BUILD/host/loader/librv_loader.a" \
   "$BUILD/host/core/librv_core.a" -ldl -lpthread
FF="ffmpeg -nostdin -hide_banner -loglevel error -y"
X264="-c:v libx264 -preset veryfast -g 60"
B="smptebars=s=1920x1080:r=30000/1001:d=11"
S="smptebars=s=720x480:r=30000/1001:d=11"
$FF -f lavfi -i "$B" -vf scale=out_color_matrix=bt709,format=yuv420p $X264 \
    -colorspace bt709 -color_primaries bt709 -color_trc bt709 "$W/1080-709.mp4"
$FF -f lavfi -i "$S" -vf scale=out_color_matrix=bt601,format=yuv420p $X264 \
    -colorspace smpte170m -color_primaries smpte170m -color_trc smpte170m "$W/480-601.mp4"
$FF -f lavfi -i "$B" -vf scale=out_color_matrix=bt601:out_range=pc,format=yuvj420p $X264 \
    -colorspace smpte170m -color_range pc "$W/1080-full.mp4"
$FF -f lavfi -i "$B" -vf "format=gbrp,zscale=tin=709:pin=709:t=smpte2084:p=2020:m=2020_ncl:r=tv,format=yuv420p10le" \
    $X264 -color_trc smpte2084 -color_primaries bt2020 -colorspace bt2020nc "$W/1080-pq.mkv"
$FF -f lavfi -i "$B" -vf "format=gbrp,zscale=tin=709:pin=709:t=arib-std-b67:p=2020:m=2020_ncl:r=tv,format=yuv420p10le" \
    $X264 -color_trc arib-std-b67 -color_primaries bt2020 -colorspace bt2020nc "$W/1080-hlg.mkv"
for m in $MODS; do
  echo "module $m"
  for src in 1080-709.mp4 480-601.mp4 1080-full.mp4 1080-pq.mkv 1080-hlg.mkv; do
    best=""
    for i in $(seq "$RUNS"); do
      t=$( { /usr/bin/time -f "%U %S" "$W/decode_bench" "$m" "$W/$src" 1280 720 30000/1001 300 \
             >/dev/null; } 2>&1 | tail -1 | awk '{printf "%.2f", $1 + $2}')
      best=$(echo "$best $t" | tr ' ' '\n' | grep . | sort -n | head -1)
    done
    echo "  $src: $best CPU s / 300 frames ($(echo "$best" | awk '{printf "%.1f", $1 * 1000 / 300}') ms per frame)"
  done
done
