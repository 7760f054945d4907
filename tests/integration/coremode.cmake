# RetroVue Core's process model (issue 11 item 7): config-less --port mode,
# the retrovue_air link, bad --port values, SIGTERM within Core's 5 s.
rv_integration_test(coremode /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/coremode_test.py)
set_tests_properties(integration.coremode PROPERTIES TIMEOUT 600)
