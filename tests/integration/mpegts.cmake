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
# Viewers on the HTTP server: /channel/<id>.ts (50 at once, one stalled) and /channels.m3u.
if(TARGET retrovue_playout AND TARGET mpegts-tcp)
  rv_integration_test(http_stream /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/http_stream_test.py)
  set_tests_properties(integration.http_stream PROPERTIES TIMEOUT 240)
endif()
# UDP output, unicast and multicast on loopback, received by ffmpeg.
if(TARGET retrovue_playout AND TARGET mpegts-udp)
  rv_integration_test(udp /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/udp_test.py)
  set_tests_properties(integration.udp PROPERTIES TIMEOUT 180)
endif()
# On-demand channels: idle while nobody watches, woken by HTTP, TCP and HLS consumers.
if(TARGET retrovue_playout AND TARGET mpegts-tcp AND TARGET mpegts-udp)
  rv_integration_test(on_demand /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/on_demand_test.py)
  set_tests_properties(integration.on_demand PROPERTIES TIMEOUT 240)
endif()
# The viewers' players, headless: mpv and VLC on /channel/<id>.ts, the HLS
# m3u8 and (VLC) /channels.m3u; each proves decoded pictures and audio.
if(TARGET retrovue_playout AND TARGET mpegts-tcp)
  rv_integration_test(players /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/players_test.py)
  set_tests_properties(integration.players PROPERTIES TIMEOUT 240)
endif()
# SRT output (mpegts-srt), listener and caller, received by ffmpeg and by libsrt.
if(TARGET retrovue_playout AND TARGET mpegts-srt)
  rv_integration_test(srt /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/srt_test.py)
  set_tests_properties(integration.srt PROPERTIES TIMEOUT 180)
endif()
