# BlockPlan sessions (issue 11): the real binary driven the way RetroVue Core's
# PlayoutSession drives it (attach, seed, events, feed by credits, stop).
if(TARGET rv_control)
  rv_integration_test(blockplan_session /usr/bin/python3
    ${CMAKE_CURRENT_SOURCE_DIR}/blockplan_session_test.py)
  set_tests_properties(integration.blockplan_session PROPERTIES TIMEOUT 300)
endif()
