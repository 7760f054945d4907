#!/bin/sh
# tools/bench/encode.sh: folded into the benchmark suite (issue 8). The encode
# comparison is row 1 of tools/bench/run ("cpu": engine vs the ffmpeg command,
# flat out and paced, profiles A, B, SD 4:3 upscaled and MPEG-2, windowed
# /proc CPU over a fixed stretch of output seconds, alternated runs, medians).
#
# usage: tools/bench/encode.sh [BUILD_DIR]   (= tools/bench/run --full --only cpu)
set -eu
exec /usr/bin/python3 "$(dirname "$0")/run" --full --only cpu --build "${1:-build}"
