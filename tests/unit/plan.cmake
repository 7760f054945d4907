# Unit tests of host/plan: plan files, validation rules, the tick timeline.
foreach(t test_plan test_plan_limits test_timeline)
  rv_unit_test(${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/${t}.c LIBS rv_plan)
endforeach()
# Bad input never crashes or leaks: mutated plans and configs.
rv_unit_test(test_parse_mutations SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_parse_mutations.c
  LIBS rv_config rv_plan)
