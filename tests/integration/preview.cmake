# Preview renderer and operator page (issue 7).
#   integration.preview_image   JPEG content vs the tick on air, ETag/304,
#                               /channels JSON
#   integration.preview_page    the operator page in headless Chromium (CDP):
#                               tiles, previews loading and changing, stopped
#                               channels; screenshot in tests/artifacts/
#   integration.preview_window  window = true under Xvfb: the window shows
#                               the output; without a display, a clear error
rv_integration_test(preview_image /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/preview_image_test.py)
rv_integration_test(preview_page /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/preview_page_test.py)
rv_integration_test(preview_window /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/preview_window_test.py)
set_tests_properties(integration.preview_image integration.preview_page integration.preview_window
  PROPERTIES TIMEOUT 300)
# The operator page's watch button: HLS through hls.js in headless Chromium.
rv_integration_test(hls_watch /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/hls_watch_test.py)
set_tests_properties(integration.hls_watch PROPERTIES TIMEOUT 300)
