# A hung producer on a real clock: freeze, slate, watchdog, recovery (issue 3).
rv_integration_test(watchdog /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/watchdog_test.py)
