# FADE transitions applied by the host (plan model).
rv_integration_test(fade /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/fade_test.py)
