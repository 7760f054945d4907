# UpdatePlan continuity and latency through gRPC and a real TS client (issue 5).
rv_integration_test(updateplan /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/updateplan_test.py)
set_tests_properties(integration.updateplan PROPERTIES TIMEOUT 300)
