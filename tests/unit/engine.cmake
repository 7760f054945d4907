# The engine's channel slots (issue 16): refused calls leave no slot behind.
rv_unit_test(test_engine_slots SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_engine_slots.c
  LIBS rv_engine)

# engine.media_roots (issue 16): plan files and BlockPlan blocks.
rv_unit_test(test_media_roots SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_media_roots.c
  LIBS rv_engine)
