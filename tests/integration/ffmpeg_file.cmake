# The ffmpeg-file producer inside the real binary: real clips, framelog (issue 3).
rv_integration_test(ffmpeg_file_playout /usr/bin/python3
  ${CMAKE_CURRENT_SOURCE_DIR}/ffmpeg_file_playout.py)
set_tests_properties(integration.ffmpeg_file_playout PROPERTIES TIMEOUT 600)
# The failure set through the real binary (issue 3).
rv_integration_test(media_failures /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/media_failures_test.py)
# Sub-frame and small offsets in every container (issue 3).
rv_integration_test(media_offsets /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/media_offsets_test.py)
# Colour space conversion and TS colour tags, read back from the TS (issue 13).
rv_integration_test(media_colour /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/media_colour_test.py)
set_tests_properties(integration.media_colour PROPERTIES TIMEOUT 300)
# Substitutions (held picture, tone mapping) said in the as-run (issue 13).
rv_integration_test(media_asrun /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/media_asrun_test.py)
# A start and an on-demand wake mid-way into a 1080p Matroska clip: clean from
# the first picture, read back from a viewer's stream (issue 13).
if(TARGET retrovue_playout AND TARGET mpegts-tcp)
  rv_integration_test(media_join /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/media_join_test.py)
  set_tests_properties(integration.media_join PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE)
endif()
# Zero copy: pictures decoded into the channel's pool air unchanged, fades and
# a renderer copy them first (issue 14).
rv_integration_test(media_zerocopy /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/media_zerocopy_test.py)
