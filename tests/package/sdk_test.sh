#!/bin/sh
# package.sdk: the SDK works from wherever it is installed, from the
# installed files alone. `cmake --install --prefix` into a scratch folder,
# the prefix then moved elsewhere (so nothing may remember where it was
# installed); the example module copied out of the prefix's docs builds with
# find_package(RetroVueSDK), with pkg-config through CMake and with the
# plain Makefile; the installed rv_conformance passes it (TAP); the installed
# engine loads it from a second module_dir, and refuses a module name that
# two folders both hold, naming both files. Needs no root. TAP.
set -u
. "$RV_SOURCE_DIR/tests/package/tap.sh"
work=$(mktemp -d "$RV_TMP/sdk.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

run "$work/install.log" cmake --install "$RV_BUILD_DIR" --prefix "$work/installed"
ok $? "cmake --install --prefix a scratch folder"
mv "$work/installed" "$work/moved"
prefix=$work/moved
export PKG_CONFIG_PATH="$prefix/share/pkgconfig"

inc=$(pkg-config --variable=includedir retrovue-sdk)
test -f "$inc/retrovue/retrovue.h" && ! grep -q "$work/installed" "$prefix/share/pkgconfig/retrovue-sdk.pc"
ok $? "retrovue-sdk.pc finds the headers after the prefix moved ($inc)"
conf=$(pkg-config --variable=conformance retrovue-sdk)
test -x "$conf"
ok $? "pkg-config --variable=conformance names the installed rv_conformance"
! grep -rq "$work/installed" "$prefix/share/cmake/RetroVueSDK"
ok $? "the CMake package names no absolute install path"

cp -r "$prefix/share/doc/retrovue-playout-dev/examples/tint" "$work/tint"
cd "$work/tint" || exit 1
run "$work/cmake.log" sh -c "cmake -S . -B b-cmake -DCMAKE_PREFIX_PATH='$prefix' &&
    cmake --build b-cmake && ctest --test-dir b-cmake --output-on-failure"
ok $? "the example builds with find_package(RetroVueSDK) and its ctest runs rv_conformance"
grep -q "RetroVue SDK .* from $prefix/share/cmake/RetroVueSDK" "$work/cmake.log" &&
    grep -q "Test command: $conf\|conformance.tint .*Passed" "$work/cmake.log"
ok $? "... using the moved prefix's package and rv_conformance"
run "$work/pc.log" sh -c "cmake -S . -B b-pc -DTINT_USE_PKGCONFIG=ON && cmake --build b-pc &&
    ctest --test-dir b-pc --output-on-failure"
ok $? "the example builds through pkg-config in CMake"
run "$work/make.log" make
ok $? "the example builds with its Makefile (pkg-config, one command)"
run "$work/tap.log" "$conf" ./tint.so
ok $? "the installed rv_conformance passes the example ($(grep -c '^ok' "$work/tap.log") checks)"
exported=$(nm -D --defined-only tint.so | awk '$2 == "T" {print $3}')
test "$exported" = "rv_module_entry"
ok $? "only rv_module_entry is exported (got: $exported)"

# The installed engine: the example from a second module_dir.
mkdir -p "$work/site" "$work/plans"
cp tint.so "$work/site/"
cat >"$work/engine.conf" <<CONF
engine: { module_dir = [ "$prefix/lib/retrovue-playout/modules", "site" ]; plans_dir = "plans"; };
profiles: { small: { width = 320; height = 180; frame_rate = "25"; }; };
channels: ( { id = 1; profile = "small"; producers = ( { module = "slate"; } );
  renderer = { module = "tint"; options = { strength = 100; }; };
  sinks = ( { module = "framelog"; options = { path = "$work/frames.jsonl"; mode = "summary"; }; } ); } );
CONF
run "$work/check.log" "$prefix/bin/retrovue_playout" --config "$work/engine.conf" --check-config
ok $? "the installed engine binds tint from the second module_dir"
run "$work/list.log" "$prefix/bin/retrovue_playout" --config "$work/engine.conf" --list-modules
grep -q "tint" "$work/list.log" && grep -q "slate" "$work/list.log"
ok $? "--list-modules shows modules of both folders"
cp "$prefix/lib/retrovue-playout/modules/slate.so" "$work/site/slate.so"
"$prefix/bin/retrovue_playout" --config "$work/engine.conf" --check-config >"$work/dup.log" 2>&1
rc=$?
test $rc -eq 1 && grep -q "$work/site/slate.so: duplicate name: .*$prefix/lib/retrovue-playout/modules/slate.so" "$work/dup.log"
ok $? "one module name in two folders is an error naming both files (rc=$rc: $(tail -n 1 "$work/dup.log"))"
cd / && tap_done
