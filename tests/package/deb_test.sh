#!/bin/sh
# package.deb: the Debian packages as an operator and a module author meet
# them (issue 15). Builds retrovue-playout and retrovue-playout-dev with
# dpkg-buildpackage (in a copy of the sources under the build folder, whose
# build-deb/ folder is kept between runs so a rebuild compiles only what
# changed), runs lintian (no errors), installs both with apt-get on this
# machine, starts the engine from the installed files the way the unit does
# (its ExecStart, as its user, with its runtime folder: systemd itself does
# not run in this container), curls /healthz, airs a channel through the
# installed playoutctl and decodes its MPEG-TS, builds the example module out
# of tree against the installed -dev files, runs rv_conformance on it, loads
# it from a second module_dir and airs it (its tint measured in the decoded
# picture), and purges both packages, checking nothing is left. Cleans up
# (stops the engine, purges) on failure too. Root only; TAP.
set -u
. "$RV_SOURCE_DIR/tests/package/tap.sh"

skip() {
    echo "1..0 # SKIP $*"
    exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root (installs packages)"
for c in dpkg-buildpackage dh lintian apt-get curl setpriv flock ffmpeg cmake make; do
    command -v "$c" >/dev/null 2>&1 || skip "$c is not installed (make deps)"
done
# One package test at a time on this machine (they install the same files).
exec 9>/run/lock/retrovue-package-test.lock
flock -w 1200 9 || skip "another package test holds /run/lock/retrovue-package-test.lock"
if dpkg-query -W -f='${Status}' retrovue-playout 2>/dev/null | grep -q "installed\|config-files"; then
    skip "retrovue-playout is already installed on this machine: not replacing it"
fi

top=$RV_BUILD_DIR/package
src=$top/src
work=$(mktemp -d "$RV_TMP/deb.XXXXXX")
chmod 755 "$work"
site=/usr/local/lib/retrovue-playout/modules
conf=/etc/retrovue-playout/production.conf
sock=/run/retrovue/playout.sock
engine_pid=""
user_existed=0
getent passwd retrovue >/dev/null && user_existed=1
site_existed=0
[ -d "$site" ] && site_existed=1

# True while dpkg knows @1 as installed or with its config files left.
installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "installed\|config-files"
}
cleanup() {
    if [ -n "$engine_pid" ] && kill -0 "$engine_pid" 2>/dev/null; then
        kill -TERM "$engine_pid" 2>/dev/null
        sleep 2
        kill -KILL "$engine_pid" 2>/dev/null
    fi
    if installed retrovue-playout || installed retrovue-playout-dev; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=300 \
            retrovue-playout retrovue-playout-dev >/dev/null 2>&1
    fi
    rm -f "$site/tint.so"
    [ "$site_existed" -eq 1 ] || rm -rf /usr/local/lib/retrovue-playout
    [ "$user_existed" -eq 1 ] || { getent passwd retrovue >/dev/null && deluser --system --quiet retrovue >/dev/null 2>&1; }
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- build ------------------------------------------------------------------
mkdir -p "$src"
find "$src" -mindepth 1 -maxdepth 1 ! -name build-deb -exec rm -rf {} +
rm -f "$top"/*.deb "$top"/*.changes "$top"/*.buildinfo
if git -C "$RV_SOURCE_DIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$RV_SOURCE_DIR" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) |
        tar -C "$src" -xf -
else
    tar -C "$RV_SOURCE_DIR" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$src" -xf -
fi
start=$(date +%s)
# nocheck: the suite runs the tests; noautodbgsym: no -dbgsym packages to
# build and lint here (a release build makes them).
run "$work/build.log" sh -c "cd '$src' && DEB_BUILD_OPTIONS='nocheck noautodbgsym' \
    dpkg-buildpackage -b -us -uc -nc -j1"
ok $? "dpkg-buildpackage -b builds the packages ($(($(date +%s) - start)) s)"
deb=$(ls "$top"/retrovue-playout_*.deb 2>/dev/null)
dev=$(ls "$top"/retrovue-playout-dev_*.deb 2>/dev/null)
test -n "$deb" && test -n "$dev"
ok $? "retrovue-playout and retrovue-playout-dev .deb files"
[ -n "$deb" ] && [ -n "$dev" ] || { tap_done; exit 1; }

lintian --tag-display-limit 0 "$deb" "$dev" >"$work/lintian.log" 2>&1
grep -v "root privileges" "$work/lintian.log" | sed 's/^/# lintian: /'
! grep -q "^E:" "$work/lintian.log"
ok $? "lintian reports no errors ($(grep -c '^W:' "$work/lintian.log") warnings)"

# ---- install ----------------------------------------------------------------
run "$work/install.log" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
    -o DPkg::Lock::Timeout=300 "$deb" "$dev"
ok $? "apt-get install ./retrovue-playout_*.deb ./retrovue-playout-dev_*.deb"
getent passwd retrovue >/dev/null && test -f "$conf" &&
    test "$(stat -c %U "/var/lib/retrovue-playout/plans")" = retrovue
ok $? "the package created the system user, the config and the state folder"
test -L /etc/systemd/system/multi-user.target.wants/retrovue-playout.service
ok $? "the service is enabled (systemd does not run here, so it is not started)"
run "$work/verify.log" systemd-analyze verify /lib/systemd/system/retrovue-playout.service
ok $? "systemd-analyze verify accepts the installed unit"
! grep -rqs "$RV_BUILD_DIR\|$RV_SOURCE_DIR" /usr/bin/retrovue_playout /usr/bin/playoutctl \
    /usr/lib/retrovue-playout /usr/share/pkgconfig/retrovue-sdk.pc /usr/share/cmake/RetroVueSDK \
    /lib/systemd/system/retrovue-playout.service "$conf"
ok $? "no installed file names the build or source tree"

# The operator's edits: free ports, small pictures, the site module folder.
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
metrics=$(port)
control=$(port)
ts=$(port)
sed -i -e "s/127.0.0.1:9308/127.0.0.1:$metrics/" -e "s/127.0.0.1:50051/127.0.0.1:$control/" \
    -e "s/port = 5001;/port = $ts;/" -e "s/width = 1920; height = 1080/width = 320; height = 180/" \
    -e "s/width = 1280; height = 720/width = 320; height = 180/" "$conf"

# Start the engine as the unit does: its ExecStart, as User=retrovue, with
# RuntimeDirectory=retrovue and UMask=0027; stderr stands in for the journal.
unit=/lib/systemd/system/retrovue-playout.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
start_engine() {
    install -d -m 0750 -o retrovue -g retrovue /run/retrovue
    (cd / && umask 0027 && exec setpriv --reuid=retrovue --regid=retrovue --init-groups \
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin $exec_start) 2>>"$work/engine.log" &
    engine_pid=$!
    i=0
    while [ $i -lt 60 ]; do
        curl -sf "http://127.0.0.1:$metrics/healthz" >"$work/healthz" 2>/dev/null && return 0
        kill -0 "$engine_pid" 2>/dev/null || return 1
        sleep 0.5
        i=$((i + 1))
    done
    return 1
}
stop_engine() {
    kill -TERM "$engine_pid"
    wait "$engine_pid"
    rc=$?
    engine_pid=""
    rm -rf /run/retrovue
    return $rc
}
# One picture of the channel's MPEG-TS, decoded: prints "Y U V" averages.
grab() {
    rm -f "$work/frame.yuv"
    timeout 60 ffmpeg -nostdin -v error -i "tcp://127.0.0.1:$ts" -frames:v 1 -f rawvideo \
        -pix_fmt yuv420p "$work/frame.yuv" 2>>"$work/ffmpeg.log" || return 1
    /usr/bin/python3 - "$work/frame.yuv" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
w, h = 320, 180
y, u, v = d[:w * h], d[w * h:w * h * 5 // 4], d[w * h * 5 // 4:w * h * 3 // 2]
assert len(d) == w * h * 3 // 2, len(d)
print(sum(y) // len(y), sum(u) // len(u), sum(v) // len(v))
PY
}

run "$work/check.log" setpriv --reuid=retrovue --regid=retrovue --init-groups \
    /usr/bin/retrovue_playout --config "$conf" --check-config
ok $? "the installed config passes --check-config as the service user"
start_engine
ok $? "the engine starts from the installed files as the unit runs it; /healthz answers: $(cat "$work/healthz" 2>/dev/null)"

cat >"$work/plan.conf" <<'PLAN'
loop = true;
blocks = ( { id = "bars"; start_utc_ms = 0L; end_utc_ms = 10000L;
             segments = ( { type = "CONTENT"; duration_ms = 10000; asset_uri = "slate:bars"; } ); } );
PLAN
install -m 0640 -o retrovue -g retrovue "$work/plan.conf" /var/lib/retrovue-playout/plans/deb-test.conf
run "$work/ctl.log" playoutctl --socket "$sock" start 1 deb-test
ok $? "the installed playoutctl starts channel 1 over the engine's Unix socket"
yuv=$(grab)
ok $? "channel 1 airs: a picture decoded from its MPEG-TS (Y U V means: $yuv)"
playoutctl --socket "$sock" status 1 >"$work/status.log" 2>&1
grep -q "frames real [1-9]" "$work/status.log"
ok $? "playoutctl status: $(grep -o 'frames real [0-9]*' "$work/status.log")"
stop_engine
ok $? "SIGTERM stops the engine with exit 0"

# ---- a third-party module from the installed -dev files -----------------------
cp -r /usr/share/doc/retrovue-playout-dev/examples/tint "$work/tint"
run "$work/tint.log" sh -c "cd '$work/tint' && cmake -S . -B build && cmake --build build &&
    ctest --test-dir build --output-on-failure"
ok $? "the example builds out of tree with find_package(RetroVueSDK); its ctest runs rv_conformance"
run "$work/tint-make.log" make -C "$work/tint"
ok $? "... and with its Makefile through pkg-config"
rv_conformance "$work/tint/tint.so" >"$work/conformance.tap" 2>&1
ok $? "rv_conformance passes the third party's module ($(grep -c '^ok' "$work/conformance.tap") checks, TAP)"

mkdir -p "$site"
install -m 0644 "$work/tint/build/tint.so" "$site/tint.so"
sed -i -e 's|# , "/usr/local/lib/retrovue-playout/modules"|, "/usr/local/lib/retrovue-playout/modules"|' \
    -e 's|renderer = { module = "null"; };|renderer = { module = "tint"; options = { u = 60; v = 200; strength = 100; }; };|' \
    "$conf"
setpriv --reuid=retrovue --regid=retrovue --init-groups /usr/bin/retrovue_playout \
    --config "$conf" --list-modules >"$work/list.log" 2>&1
grep -q "^tint\|tint " "$work/list.log"
ok $? "the engine lists tint from the second module_dir $site"
start_engine
ok $? "the engine restarts with module_dir = [ /usr/lib/..., $site ]"
run "$work/ctl2.log" playoutctl --socket "$sock" start 1 deb-test
ok $? "channel 1 starts with the third-party renderer"
yuv=$(grab)
u=$(echo "$yuv" | cut -d' ' -f2)
v=$(echo "$yuv" | cut -d' ' -f3)
test -n "$u" && [ "$u" -ge 56 ] && [ "$u" -le 64 ] && [ "$v" -ge 196 ] && [ "$v" -le 204 ]
ok $? "the third-party module airs: every picture tinted to U 60, V 200 (decoded means Y U V: $yuv)"
stop_engine
ok $? "SIGTERM stops the engine with exit 0"

# ---- purge --------------------------------------------------------------------
rm -f "$site/tint.so"
run "$work/purge.log" env DEBIAN_FRONTEND=noninteractive apt-get purge -y \
    -o DPkg::Lock::Timeout=300 retrovue-playout retrovue-playout-dev
ok $? "apt-get purge removes both packages"
left=""
for p in /etc/retrovue-playout /var/lib/retrovue-playout /var/log/retrovue-playout \
         /usr/lib/retrovue-playout /usr/share/retrovue-playout /usr/include/retrovue \
         /usr/bin/retrovue_playout /usr/bin/rv_conformance /usr/bin/playoutctl \
         /lib/systemd/system/retrovue-playout.service \
         /etc/systemd/system/multi-user.target.wants/retrovue-playout.service; do
    [ -e "$p" ] || [ -L "$p" ] && left="$left $p"
done
test -z "$left" && ! installed retrovue-playout && ! installed retrovue-playout-dev
ok $? "nothing is left after the purge${left:+:$left}"
if [ "$tap_failed" -ne 0 ]; then
    echo "# engine log:"
    tail -n 30 "$work/engine.log" 2>/dev/null | sed 's/^/#   /'
fi
tap_done
