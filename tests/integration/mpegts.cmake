# MPEG-TS sinks end to end: the real binary airs slate, PAD and ffmpeg-file
# segments through mpegts-tcp for 25 s of real time while clients watch.
if(TARGET retrovue_playout AND TARGET mpegts-tcp)
  rv_integration_test(mpegts_playout /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/test_mpegts_playout.py)
  set_tests_properties(integration.mpegts_playout PROPERTIES TIMEOUT 180)
endif()
# Encode once per rendition: four transports, two encoder settings, two encoders.
if(TARGET retrovue_playout AND TARGET mpegts-tcp AND TARGET ts-file)
  rv_integration_test(renditions /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/renditions_test.py)
  set_tests_properties(integration.renditions PROPERTIES TIMEOUT 180)
endif()
