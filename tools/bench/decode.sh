#!/bin/sh
# tools/bench/decode.sh: folded into the benchmark suite (issue 8). The decode
# comparison (the ffmpeg-file producer driven by tools/bench/decode_bench.c
# through the real loader, against `ffmpeg -i X -f null -` on the same 720p
# file, alternated runs, medians) is row 8 of tools/bench/run ("decode").
#
# usage: tools/bench/decode.sh [BUILD_DIR]   (= tools/bench/run --full --only decode)
set -eu
exec /usr/bin/python3 "$(dirname "$0")/run" --full --only decode --build "${1:-build}"
