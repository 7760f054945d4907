# Unit tests of host/core: clock, ring, sink queue, frame pool, options, log and host API.
foreach(t test_clock test_ring test_sink_queue test_frame_pool test_options test_host_api test_log_repeat)
  rv_unit_test(${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/${t}.c LIBS rv_core)
endforeach()
