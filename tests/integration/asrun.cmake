# The as-run log against the plan (issue 6).
rv_integration_test(asrun /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/asrun_test.py)
