# The evidence client's parts (host/evidence): the spool (append, reopen,
# replay after ack, torn and corrupt lines) and the record mapping (JSON line,
# protobuf, UUID, UTC). The client against a real server is tested in
# tests/integration/evidence.cmake.
if(TARGET rv_evidence)
  rv_unit_test(test_evidence_spool SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_evidence_spool.c
               LIBS rv_evidence)
  rv_unit_test(test_evidence_record SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_evidence_record.c
               LIBS rv_evidence)
endif()
