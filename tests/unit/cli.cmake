# Command-line parsing and --list-modules output.
rv_unit_test(test_cli
  SOURCES test_cli.c ${CMAKE_SOURCE_DIR}/host/cli.c ${CMAKE_SOURCE_DIR}/host/cli_modules.c
  LIBS rv_config rv_loader rv_core)
target_compile_definitions(test_cli PRIVATE
  RV_TEST_MODULE_DIR="${CMAKE_BINARY_DIR}/tests/test-modules")
add_dependencies(test_cli rv_test_modules)
