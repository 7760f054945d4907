# Control plane (host/control): request validation, program_format_json
# parsing and the keyed worker pool. The gRPC behaviour is tested end to
# end in tests/integration/control.cmake.
if(TARGET rv_control)
  rv_unit_test(test_control_validate SOURCES test_control_validate.c LIBS rv_control)
  rv_unit_test(test_program_format_json SOURCES test_program_format_json.c LIBS rv_control)
  rv_unit_test(test_work_pool SOURCES test_work_pool.c LIBS rv_control)
endif()
if(TARGET rv_control)
  rv_unit_test(test_control_blockplan SOURCES test_control_blockplan.c LIBS rv_control m)
endif()
