# lib/jsonl: JSON strings from any bytes, append-only JSON-lines files, and
# the as-run line built from hostile ids.
rv_unit_test(test_json_text SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_json_text.c LIBS rv_asrun rv_jsonl)
# The as-run journal: records queued at a kill -9 are written by the next
# writer, each once (issue 16).
rv_unit_test(test_asrun_journal SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_asrun_journal.c LIBS rv_asrun rv_jsonl)
