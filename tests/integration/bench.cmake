# The benchmark suite's smoke run (issue 8): tools/bench/run --quick drives
# every row end to end (real binary, real ffmpeg) and writes its JSON. No
# timing assertions: it checks only that every row ran and the JSON is valid.
# 600 s: rows 9 and 10 (issue 11) added ~1 min, several on a loaded machine.
# Skipped in the sanitizer build, where the figures would mean nothing. Not
# run alone: it asserts no figure, and tests/budget.cmake gives it the core
# it keeps busy, so the tests beside it are not starved either.
add_test(NAME bench.quick
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tools/bench/run --quick --tap
          --build ${CMAKE_BINARY_DIR} --out ${CMAKE_BINARY_DIR}/bench-quick.json)
if(RV_SANITIZE)
  set(RV_BENCH_SANITIZE 1)
else()
  set(RV_BENCH_SANITIZE 0)
endif()
set_tests_properties(bench.quick PROPERTIES
  ENVIRONMENT "RV_SANITIZE=${RV_BENCH_SANITIZE}"
  TIMEOUT 600)
