# Live reload on SIGHUP (issue 6).
rv_integration_test(reload /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/reload_test.py)
