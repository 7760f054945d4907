# The channel executor, frame-exact on the virtual clock (issue 2).
rv_integration_test(executor /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/executor_test.py)
# 24 hours of channel time; generous timeout for the sanitizer build.
rv_integration_test(burnin_24h /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/burnin_test.py)
set_tests_properties(integration.burnin_24h PROPERTIES TIMEOUT 900)
# --run-for stops at its instant when the engine's main thread is slow
# (tests/preload/rv_slow_spawn.so delays its pthread_create, as heavy load did
# to integration.asrun_records).
rv_integration_test(run_for_stop /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/run_for_stop_test.py)
