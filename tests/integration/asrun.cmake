# The as-run log against the plan (issue 6).
rv_integration_test(asrun /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/asrun_test.py)
# Hostile ids (control characters, bytes that are not UTF-8, long CJK): every
# as-run and framelog line valid UTF-8 JSON, nothing dropped, restarts append,
# a clean stop writes the segment on air (issue 16).
rv_integration_test(asrun_records /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/asrun_records_test.py)
# kill -9 at random moments, 30 times on the virtual clock: every line of the
# as-run log and both framelogs valid, files only appended to, each run's
# records without a hole and none lost but the segment on air (the journal
# replays what the writer had queued; tools/kill9-records runs 1000,
# docs/reliability.md).
rv_integration_test(kill9_records /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/kill9_records.py --kills 30 --max-lost 0)
