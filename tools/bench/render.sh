#!/bin/sh
# tools/bench/render.sh: the output (tick) thread's cost of a renderer, the
# `preview` renderer against `null`, at 720p and 1080p 29.97 fps.
#
# tools/bench/render_bench (built here against BUILD_DIR's host libraries)
# loads BUILD_DIR/modules/<renderer>.so through the real loader and calls
# render() once per tick, paced to the real clock's deadlines like a
# channel's output thread, timing each call on that thread. preview runs
# with its defaults (a 320-wide JPEG every 1000 ms of tick time, made on its
# own worker thread); its CPU shows in cpu_s (whole process), not in the
# per-tick times.
#
# usage: tools/bench/render.sh [BUILD_DIR] [SECONDS]   (defaults: build 20)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
SECS=${2:-20}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rv-render-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

for m in null preview; do
  [ -f "$BUILD/modules/$m.so" ] || { echo "build the module first: $BUILD/modules/$m.so" >&2; exit 1; }
done
cc -O2 -std=c11 -D_GNU_SOURCE -I"$ROOT/sdk" -I"$ROOT/host" -o "$WORK/render_bench" \
  "$ROOT/tools/bench/render_bench.c" "$BUILD/host/loader/librv_loader.a" \
  "$BUILD/host/core/librv_core.a" -ldl -lpthread

echo "# $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(nproc) cores"
echo "# ${SECS} s of ticks per run; render() wall time per tick on the tick thread"
for size in 1280x720 1920x1080; do
  w=${size%x*}; h=${size#*x}
  for m in null preview; do
    printf "%-5sp %-8s " "$h" "$m"
    "$WORK/render_bench" "$BUILD/modules/$m.so" "$w" "$h" 30000/1001 "$SECS"
  done
done
