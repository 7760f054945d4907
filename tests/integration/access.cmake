# Access and connection limits (issue 16): descriptor starvation, slowloris,
# bearer tokens on TCP control listeners and on HTTP, under ulimit -n 1024.
# RUN_SERIAL: it holds ~2000 sockets and times nothing tightly, but a
# parallel test's own connections would share the loopback flood.
rv_integration_test(access_limits /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/access_limits_test.py)
set_tests_properties(integration.access_limits PROPERTIES RUN_SERIAL TRUE TIMEOUT 300)
