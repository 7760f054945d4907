# Control plane (issue 5): the gRPC surface driven by /usr/bin/python3 grpcio.
#   integration.control       the real binary (slate + framelog) over its Unix
#                             socket and TCP: every row of the semantics list,
#                             concurrency, 200 start/stop cycles, bad payloads
#   integration.control_stub  the same server code in front of a stub engine,
#                             for what needs a deliberately slow StartChannel
#   integration.control_session  RetroVue Core's BlockPlan session API and the
#                             SubscribeBlockEvents stream, on the stub engine's
#                             scriptable sessions (control_stub_session.c);
#                             _valgrind: the same under memcheck (plain build)
#   integration.playoutctl    tools/playoutctl against the stub server
if(TARGET rv_control)
  add_executable(control_stub_server
    ${RV_CONTROL_SOURCES}
    ${CMAKE_CURRENT_SOURCE_DIR}/control_stub_server.c
    ${CMAKE_CURRENT_SOURCE_DIR}/control_stub_engine.c
    ${CMAKE_SOURCE_DIR}/host/engine/channel_state.c
    ${CMAKE_CURRENT_SOURCE_DIR}/control_stub_session.c)
  target_include_directories(control_stub_server PRIVATE ${CMAKE_SOURCE_DIR}/host)
  target_link_libraries(control_stub_server PRIVATE rv_proto rv_core PkgConfig::GRPC
    PkgConfig::JANSSON Threads::Threads m)
  set_target_properties(control_stub_server PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/integration)

  set(RV_CONTROL_TEST ${CMAKE_CURRENT_SOURCE_DIR}/test_control.py)
  rv_integration_test(control /usr/bin/python3 ${RV_CONTROL_TEST})
  rv_integration_test(control_stub /usr/bin/python3 ${RV_CONTROL_TEST}
    --stub $<TARGET_FILE:control_stub_server>)
  rv_integration_test(control_session /usr/bin/python3
    ${CMAKE_CURRENT_SOURCE_DIR}/test_control_session.py --stub $<TARGET_FILE:control_stub_server>)
  if(NOT RV_SANITIZE)
    rv_integration_test(control_session_valgrind /usr/bin/python3
      ${CMAKE_CURRENT_SOURCE_DIR}/test_control_session.py --stub $<TARGET_FILE:control_stub_server>
      --valgrind)
    set_tests_properties(integration.control_session_valgrind PROPERTIES TIMEOUT 900)
  endif()
  rv_integration_test(playoutctl /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/test_playoutctl.py
    --stub $<TARGET_FILE:control_stub_server>)
  set_tests_properties(integration.control integration.control_stub integration.control_session
    integration.playoutctl
    PROPERTIES TIMEOUT 600)
endif()

# The proto's wire compatibility with RetroVue's (issue 11). Plain tree only:
# it reads the generated Python descriptor and runs none of our C, so the
# sanitizer build has nothing to check in it (docs/testing.md).
if(NOT RV_SANITIZE)
  rv_integration_test(proto_compat /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/proto_compat_test.py)
endif()
