# Unit tests of the bundled modules (slate, null, tint, framelog), driven
# through their entry symbol by a tiny host written in the test itself.
rv_unit_test(test_slate_framelog
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_slate_framelog.c
  LIBS ${CMAKE_DL_LIBS} m)
target_compile_definitions(test_slate_framelog PRIVATE
  SLATE_SO="$<TARGET_FILE:slate>"
  FRAMELOG_SO="$<TARGET_FILE:framelog>"
  NULL_SO="$<TARGET_FILE:null>"
  TINT_SO="$<TARGET_FILE:tint>")
add_dependencies(test_slate_framelog slate framelog null tint)
