# tests/package/tap.sh: a few TAP helpers for the package tests (sourced).
# ok STATUS DESCRIPTION   prints "ok N - ..." when STATUS is 0, else "not ok"
# run LOG CMD...          runs CMD with its output in LOG; on failure the
#                         tail of LOG is printed as TAP comments
# tap_done                prints the plan; exit 0 only when nothing failed
tap_n=0
tap_failed=0
ok() {
    tap_n=$((tap_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $tap_n - $2"
    else
        echo "not ok $tap_n - $2"
        tap_failed=$((tap_failed + 1))
    fi
}
run() {
    log=$1
    shift
    "$@" >"$log" 2>&1
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "# failed: $*"
        tail -n 25 "$log" | sed 's/^/#   /'
    fi
    return $rc
}
tap_done() {
    echo "1..$tap_n"
    [ "$tap_failed" -eq 0 ]
}
