# The evidence client (issue 11) against a stand-in for RetroVue Core's
# evidence server: Core restarted mid-run, Core down at start, stop with Core
# down then resume; valgrind on the plain build (evidence_valgrind, alone).
if(TARGET rv_evidence)
  add_executable(evidence_driver ${CMAKE_CURRENT_SOURCE_DIR}/evidence_driver.c)
  target_include_directories(evidence_driver PRIVATE ${CMAKE_SOURCE_DIR}/host)
  target_link_libraries(evidence_driver PRIVATE rv_evidence)
  set_target_properties(evidence_driver PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/integration)
  rv_integration_test(evidence /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/evidence_test.py
    $<TARGET_FILE:evidence_driver>)
  set_tests_properties(integration.evidence PROPERTIES TIMEOUT 900)
  if(NOT RV_SANITIZE)
    # valgrind slows the driver tenfold: run it alone so another test's load
    # cannot push its connect and acks past the grace it is given
    rv_integration_test(evidence_valgrind /usr/bin/python3
      ${CMAKE_CURRENT_SOURCE_DIR}/evidence_test.py $<TARGET_FILE:evidence_driver> --valgrind-only)
    set_tests_properties(integration.evidence_valgrind PROPERTIES TIMEOUT 900 RUN_SERIAL TRUE)
  endif()
endif()
