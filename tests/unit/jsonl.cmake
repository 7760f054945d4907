# lib/jsonl: JSON strings from any bytes, append-only JSON-lines files, and
# the as-run line built from hostile ids.
rv_unit_test(test_json_text SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_json_text.c LIBS rv_asrun rv_jsonl)
