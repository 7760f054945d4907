#!/bin/sh
# tools/bench/encode.sh: CPU-seconds per channel-second of the reference
# profile (1280x720 at 30000/1001, libx264 veryfast 3 Mb/s + AAC 128 kb/s in
# MPEG-TS) for retrovue_playout (ffmpeg-file -> mpegts-tcp) against the
# `ffmpeg` command doing the same decode-scale-encode-mux of the same file.
# Both flat out (engine: --clock=virtual; ffmpeg: as fast as it can) and paced
# (engine: --clock=real; ffmpeg: -re). Runs alternate engine/ffmpeg; prints
# every run, then medians and ratios.
#
# usage: tools/bench/encode.sh [BUILD_DIR] [RUNS] [SECONDS]
#        (defaults: build 5 20; needs retrovue_playout and the modules built)
set -eu
BUILD=$(cd "${1:-build}" && pwd)
RUNS=${2:-5}
SECS=${3:-20}
BIN=$BUILD/bin/retrovue_playout
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rv-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SRC=$WORK/source.mp4

# The source: 1080p 29.97 H.264 + 48 kHz stereo AAC, a little longer than a run.
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1920x1080:rate=30000/1001:duration=$((SECS + 2))" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$((SECS + 2))" \
  -c:v libx264 -preset ultrafast -g 60 -pix_fmt yuv420p -c:a aac -b:a 192k -ac 2 "$SRC"

mkdir -p "$WORK/plans"
cat > "$WORK/plans/bench.conf" <<PLAN
loop = true;
blocks = ( { id = "bench"; start_utc_ms = 0L; end_utc_ms = $((SECS * 1000 + 2000))L;
  segments = ( { type = "CONTENT"; asset_uri = "$SRC"; duration_ms = $((SECS * 1000 + 2000)); } ); } );
PLAN
cat > "$WORK/engine.conf" <<CONF
engine: { module_dir = "$BUILD/modules"; plans_dir = "plans"; log_level = "warn"; };
profiles: { hd720: { width = 1280; height = 720; frame_rate = "30000/1001"; audio_rate = 48000; audio_channels = 2; }; };
channels: ( { id = 1; name = "Bench"; profile = "hd720"; autostart_plan = "bench";
  producers = ( { module = "ffmpeg-file"; }, { module = "slate"; } );
  slate = { module = "slate"; };
  renderer = { module = "null"; };
  sinks = ( { module = "mpegts-tcp"; options = { port = 0; preset = "veryfast"; tune = "zerolatency";
                bitrate_kbps = 3000; audio_codec = "aac"; audio_bitrate_kbps = 128; }; },
            { module = "framelog"; options = { mode = "summary"; path = "$WORK/summary.jsonl"; }; } ); } );
CONF

# cpu_seconds CMD...: user+system CPU seconds of CMD (and its threads)
cpu_seconds() {
  /usr/bin/time -f "%U %S" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || {
    echo "command failed: $*" >&2; tail -5 "$WORK/stderr" >&2; exit 1; }
  awk '{ printf "%.3f\n", $1 + $2 }' "$WORK/time"
}

engine() { cpu_seconds "$BIN" --config "$WORK/engine.conf" --clock="$1" --run-for="$SECS"; }
ff() {
  # shellcheck disable=SC2086
  cpu_seconds ffmpeg -nostdin -v error $1 -i "$SRC" -t "$SECS" -vf scale=1280:720 -r 30000/1001 \
    -c:v libx264 -preset veryfast -tune zerolatency -b:v 3000k -maxrate 3000k -bufsize 3000k -g 59 \
    -c:a aac -b:a 128k -ar 48000 -ac 2 -f mpegts -y /dev/null
}

echo "# $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(nproc) cores"
echo "# $RUNS alternating runs of $SECS s channel time; CPU-seconds per channel-second"
echo "mode run engine ffmpeg"
for mode in flat paced; do
  for i in $(seq 1 "$RUNS"); do
    if [ "$mode" = flat ]; then e=$(engine virtual); f=$(ff ""); else e=$(engine real); f=$(ff "-re"); fi
    echo "$mode $i $(echo "$e $SECS" | awk '{printf "%.3f", $1/$2}') $(echo "$f $SECS" | awk '{printf "%.3f", $1/$2}')"
  done
done | tee "$WORK/runs"
echo "# medians (CPU-s per channel-s) and engine/ffmpeg ratio"
for mode in flat paced; do
  e=$(awk -v m=$mode '$1==m {print $3}' "$WORK/runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  f=$(awk -v m=$mode '$1==m {print $4}' "$WORK/runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$mode engine=$e ffmpeg=$f ratio=$(echo "$e $f" | awk '{printf "%.2f", $1/$2}')"
done
echo "# engine ticks by source in the last run: $(tail -1 "$WORK/summary.jsonl" 2>/dev/null | cut -c1-300)"
