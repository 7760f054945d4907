# Unit tests of host/plan: plan files, validation rules, the tick timeline.
foreach(t test_plan test_timeline)
  rv_unit_test(${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/${t}.c LIBS rv_plan)
endforeach()
