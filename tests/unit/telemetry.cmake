# Telemetry renderers (host/telemetry): /metrics and /healthz on hand-made
# channel snapshots. The HTTP server itself is tested end to end in
# tests/integration/telemetry.cmake.
if(TARGET rv_telemetry)
  rv_unit_test(test_telemetry_render SOURCES test_telemetry_render.c LIBS rv_telemetry)
endif()
if(TARGET rv_telemetry)
  rv_unit_test(test_http_guard SOURCES test_http_guard.c LIBS rv_telemetry)
endif()
if(TARGET rv_telemetry)
  rv_unit_test(test_http_viewers SOURCES test_http_viewers.c LIBS rv_telemetry)
endif()
