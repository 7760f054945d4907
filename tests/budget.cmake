# tests/budget.cmake: the test-time budget (docs/testing.md). Sets ctest's
# scheduling properties, COST and PROCESSORS, on the tests of the directory
# that includes it; every tests/*/CMakeLists.txt includes it last.
#
# `make test` runs ctest with RV_TEST_SLOTS_PER_CORE slots per core (-j 6 on
# two cores): most tests wait on the real clock, a child process or a socket
# and use a fraction of a core, so a slot is a third of a core. A test that
# keeps more busy (an encoder flat out, valgrind, a compiler) takes as many
# slots as it uses, so ctest never starts more CPU than the machine has and
# the real-time tests are not starved. COST makes the long tests start first
# (ctest's own cost data only exists after a first run; CI's clone is fresh).
#
# One row per test that is long or busy; a test not listed takes one slot and
# runs after them, in declaration order. An area's own COST or PROCESSORS wins
# over its row. Measured with tests/profile.py (wall and CPU seconds per
# test, docs/testing.md) for the plain and the ASan build:
#   "<test> <plain s> <plain %core> <asan s> <asan %core>"
#   s: wall seconds beside one other test on a quiet two-core machine
#   %core: CPU-seconds per wall second (100 = one core busy); 0 0: not built
if(NOT DEFINED RV_TEST_SLOTS_PER_CORE)
  set(RV_TEST_SLOTS_PER_CORE 3)
endif()
set(RV_TEST_BUDGET
  "package.deb                           122  100    0    0"
  "bench.quick                            95   65    0    0"
  "integration.kill9_records              50   55   29   35"
  "integration.http_stream                47   55   49   70"
  "integration.blockplan_session          43   25   44   35"
  "integration.on_demand                  40   35   41   45"
  "integration.evidence                   16   20   28   50"
  "integration.evidence_valgrind          16  100    0    0"
  "integration.mpegts_playout             28   30   28   40"
  "integration.media_colour               26   55   30   70"
  "unit.test_mpegts_sink                  26   80   32   90"
  "integration.telemetry_prometheus       23    5   23   10"
  "integration.control_session_valgrind   21   75    0    0"
  "integration.burnin_24h                 20  135   31  110"
  "unit.test_ffmpeg_media                 16  110   23  105"
  "integration.control                    16   25   17   45"
  "integration.players                    16   70   16   90"
  "integration.preview_image              13   80   14   95"
  "integration.coremode                    8   30   13   65"
  "integration.playoutctl                  8  150   13  125"
  "integration.control_stub               12   15   13   20"
  "integration.access_limits              11   30   12   40"
  "integration.hls_watch                  11   75   11   90"
  "integration.srt                        10   70   11   85"
  "integration.renditions                 10   45   10   60"
  "unit.test_ffmpeg_cadence               25   50   40   70"
  "unit.test_ffmpeg_file                   9  110   16  115"
  "integration.control_session             9   15   10   25"
  "integration.udp                         9   20    9   30"
  "integration.reload                      8   10    8   15"
  "integration.watchdog                    8   10    8   15"
  "integration.preview_page                7   70    9   85"
  "integration.updateplan                  7   15    7   20"
  "conformance.ffmpeg-file                 3  125   16  130"
  "conformance.mpegts                      3  100    8  125"
  "conformance.mpegts-tcp                  1   30    6  100"
  "conformance.mpegts-uds                  1   30    6  110"
  "unit.test_ts_fanout                     2   90    7   90"
  "integration.cli                         3  100    6  100"
  "integration.preview_window              3  190    7  150"
  "integration.media_offsets               3  115    4   95"
  "integration.media_failures              2  110    4   95"
  "package.sdk                             4   50    4   50"
)

get_property(_rv_tests DIRECTORY PROPERTY TESTS)
foreach(_rv_row ${RV_TEST_BUDGET})
  string(REGEX REPLACE " +" ";" _rv_row "${_rv_row}")
  list(GET _rv_row 0 _rv_name)
  if(NOT _rv_name IN_LIST _rv_tests)
    continue()
  endif()
  if(RV_SANITIZE)
    list(GET _rv_row 3 _rv_s)
    list(GET _rv_row 4 _rv_pct)
  else()
    list(GET _rv_row 1 _rv_s)
    list(GET _rv_row 2 _rv_pct)
  endif()
  # slots = ceil(%core x slots per core / 100), at least one and at most one
  # core's worth: ctest starts a test only when all its slots are free at
  # once, so a test asking for more would wait behind the one-slot tests to
  # the end of the run (the few that use more than a core do so briefly)
  math(EXPR _rv_slots "(${_rv_pct} * ${RV_TEST_SLOTS_PER_CORE} + 99) / 100")
  if(_rv_slots LESS 1)
    set(_rv_slots 1)
  elseif(_rv_slots GREATER RV_TEST_SLOTS_PER_CORE)
    set(_rv_slots ${RV_TEST_SLOTS_PER_CORE})
  endif()
  get_test_property(${_rv_name} COST _rv_have)
  if(NOT _rv_have)
    set_tests_properties(${_rv_name} PROPERTIES COST ${_rv_s})
  endif()
  get_test_property(${_rv_name} PROCESSORS _rv_have)
  if(NOT _rv_have)
    set_tests_properties(${_rv_name} PROPERTIES PROCESSORS ${_rv_slots})
  endif()
endforeach()
