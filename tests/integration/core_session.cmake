# RetroVue Core's own PlayoutSession (unmodified, from a checkout) drives the
# real binary end to end (issue 11). Needs RETROVUE_CORE_DIR, a RetroVue work
# tree (docs/retrovue-core.md); without it the test prints a TAP skip. The
# variable is read when the test runs (ctest passes its environment through);
# -DRETROVUE_CORE_DIR=... at configure time sets it for every run.
set(RETROVUE_CORE_DIR "" CACHE PATH "A RetroVue checkout for integration.core_session")
rv_integration_test(core_session /usr/bin/python3
  ${CMAKE_CURRENT_SOURCE_DIR}/core_session_test.py)
set_tests_properties(integration.core_session PROPERTIES TIMEOUT 600)
if(RETROVUE_CORE_DIR)
  set_property(TEST integration.core_session APPEND PROPERTY
    ENVIRONMENT RETROVUE_CORE_DIR=${RETROVUE_CORE_DIR})
endif()
