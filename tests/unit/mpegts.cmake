# MPEG-TS output (modules/encoders/mpegts + modules/sinks/mpegts_*): the C
# driver feeds ticks through the real host services into the encoder and both transports and checks what real clients receive
# with ts_check.py, ffmpeg and ffprobe.
if(TARGET mpegts AND TARGET mpegts-tcp AND TARGET mpegts-uds)
  rv_unit_test(test_mpegts_sink SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_mpegts_sink.c
               LIBS rv_loader rv_core m Threads::Threads)
  target_compile_definitions(test_mpegts_sink PRIVATE
    RV_MODULE_DIR="${RV_MODULE_DIR}"
    RV_TEST_SRC_DIR="${CMAKE_CURRENT_LIST_DIR}")
  add_dependencies(test_mpegts_sink mpegts mpegts-tcp mpegts-uds)
  set_tests_properties(unit.test_mpegts_sink PROPERTIES TIMEOUT 300
    ENVIRONMENT "RV_TMP=${CMAKE_BINARY_DIR}/tests/tmp")
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/tests/tmp)
endif()

# The fan-out's per-client send queues grow on demand (issue 16).
if(TARGET rv_mpegts_common)
  rv_unit_test(test_ts_fanout SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ts_fanout.c
               LIBS rv_mpegts_common Threads::Threads)
  set_tests_properties(unit.test_ts_fanout PROPERTIES TIMEOUT 300)
endif()
