# Unit tests of the preview service (issue 7): the channel's latest-image
# store and rv_host_api.publish_image routing through rv_context.
rv_unit_test(test_channel_preview SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_channel_preview.c
             LIBS rv_channel rv_core)
