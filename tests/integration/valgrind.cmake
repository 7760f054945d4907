# valgrind memcheck over one integration run (plain build only).
if(NOT RV_SANITIZE)
  rv_integration_test(valgrind /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/valgrind_test.py)
  set_tests_properties(integration.valgrind PROPERTIES TIMEOUT 900)
endif()
