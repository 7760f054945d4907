# Loader tests: refusals of every broken module in tests/modules, the older
# vtable, duplicates and scan_dir.
rv_unit_test(test_loader SOURCES test_loader.c LIBS rv_loader rv_core)
target_compile_definitions(test_loader PRIVATE
  RV_BROKEN_MODULE_DIR="${CMAKE_BINARY_DIR}/tests/broken-modules"
  RV_TEST_MODULE_DIR="${CMAKE_BINARY_DIR}/tests/test-modules")
add_dependencies(test_loader rv_test_modules)
if(TARGET null)
  target_compile_definitions(test_loader PRIVATE RV_NULL_MODULE="$<TARGET_FILE:null>")
  add_dependencies(test_loader null)
endif()

# Module files checked before dlopen (issue 16): modes, owners, constructors.
rv_unit_test(test_loader_trust SOURCES test_loader_trust.c LIBS rv_loader rv_core)
target_compile_definitions(test_loader_trust PRIVATE
  RV_BROKEN_MODULE_DIR="${CMAKE_BINARY_DIR}/tests/broken-modules"
  RV_TEST_MODULE_DIR="${CMAKE_BINARY_DIR}/tests/test-modules")
add_dependencies(test_loader_trust rv_test_modules)
