# Config tests: a valid file and one failing file per rule, bound against
# the good test modules of tests/modules.
rv_unit_test(test_config SOURCES test_config.c LIBS rv_config rv_loader rv_core)
target_compile_definitions(test_config PRIVATE
  RV_TEST_MODULE_DIR="${CMAKE_BINARY_DIR}/tests/test-modules")
add_dependencies(test_config rv_test_modules)

# Config-less mode's built-in config, bound against the build's own modules,
# and the command line's overrides.
rv_unit_test(test_config_defaults SOURCES test_config_defaults.c LIBS rv_config rv_loader rv_core)
target_compile_definitions(test_config_defaults PRIVATE RV_MODULE_DIR="${RV_MODULE_DIR}")
get_property(RV_TEST_MODULE_TARGETS GLOBAL PROPERTY RV_MODULE_TARGETS)
add_dependencies(test_config_defaults ${RV_TEST_MODULE_TARGETS})

# NUL bytes in config and plan files (issue 16).
rv_unit_test(test_conf_nul SOURCES test_conf_nul.c LIBS rv_config rv_plan rv_core)
