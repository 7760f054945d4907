#!/bin/sh
# package.cleanroot: the .deb files package.deb built, installed with
# apt-get into a clean Debian 12 root made with Debian's own mmdebstrap, as a
# new operator's host gets them: apt pulls every run-time dependency, the
# package creates its user and config and enables the unit, the engine
# starts from the unit's ExecStart as its user and answers /healthz, the
# installed playoutctl (with only the declared Python dependencies) airs a
# channel whose MPEG-TS decodes, and apt-get purge leaves nothing behind.
#
# Opt-in (RV_PACKAGE_CLEANROOT=1, `make test-cleanroot`): the first run
# downloads Debian 12 and ~300 dependency packages, later runs reuse the
# root tarball and the downloaded packages in build/package/cleanroot/ and
# still take minutes, more than the default suite can spend. Root only; TAP.
set -u
. "$RV_SOURCE_DIR/tests/package/tap.sh"

skip() {
    echo "1..0 # SKIP $*"
    exit 0
}
[ "${RV_PACKAGE_CLEANROOT:-0}" = 1 ] || skip "opt-in: RV_PACKAGE_CLEANROOT=1 (make test-cleanroot)"
[ "$(id -u)" -eq 0 ] || skip "needs root (chroot, mounts)"
for c in mmdebstrap chroot curl ffmpeg; do
    command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
done
top=$RV_BUILD_DIR/package
deb=$(ls "$top"/retrovue-playout_*.deb 2>/dev/null)
dev=$(ls "$top"/retrovue-playout-dev_*.deb 2>/dev/null)
[ -n "$deb" ] && [ -n "$dev" ] || skip "no .deb files: package.deb builds them first"

cache=$top/cleanroot
mkdir -p "$cache/archives/partial"
root=$(mktemp -d "$RV_TMP/cleanroot.XXXXXX")
engine_pid=""
cleanup() {
    [ -n "$engine_pid" ] && kill -KILL "$engine_pid" 2>/dev/null
    umount "$root/var/cache/apt/archives" 2>/dev/null
    umount "$root/proc" 2>/dev/null
    rm -rf "$root"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
inroot() {
    chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"
}

start=$(date +%s)
if [ ! -f "$cache/bookworm.tar" ]; then
    # mmdebstrap picks the output format from the name: keep ".tar" last.
    rm -rf "$cache/bookworm.part.tar"
    run "$cache/mmdebstrap.log" mmdebstrap --variant=apt bookworm "$cache/bookworm.part.tar" &&
        mv "$cache/bookworm.part.tar" "$cache/bookworm.tar"
fi
tar -C "$root" -xf "$cache/bookworm.tar" && mount -t proc proc "$root/proc" &&
    mount --bind "$cache/archives" "$root/var/cache/apt/archives"
ok $? "a clean Debian 12 root from mmdebstrap ($(($(date +%s) - start)) s)"
cp "$deb" "$dev" "$root/tmp/"

start=$(date +%s)
run "$cache/install.log" inroot sh -c "apt-get update -qq &&
    apt-get install -y -q -o APT::Keep-Downloaded-Packages=true /tmp/$(basename "$deb") /tmp/$(basename "$dev")"
ok $? "apt-get install ./retrovue-playout*.deb in the clean root pulls its dependencies ($(grep -c '^Setting up' "$cache/install.log") packages set up, $(($(date +%s) - start)) s)"
inroot getent passwd retrovue >/dev/null && test -f "$root/etc/retrovue-playout/production.conf" &&
    test -L "$root/etc/systemd/system/multi-user.target.wants/retrovue-playout.service"
ok $? "user retrovue, /etc/retrovue-playout/production.conf, the unit enabled"

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
metrics=$(port)
ts=$(port)
sed -i -e "s/127.0.0.1:9308/127.0.0.1:$metrics/" -e "s/127.0.0.1:50051/127.0.0.1:0/" \
    -e "s/port = 5001;/port = $ts;/" -e "s/width = 1920; height = 1080/width = 320; height = 180/" \
    "$root/etc/retrovue-playout/production.conf"
run "$root/tmp/check.log" inroot setpriv --reuid=retrovue --regid=retrovue --init-groups \
    /usr/bin/retrovue_playout --config /etc/retrovue-playout/production.conf --check-config
ok $? "--check-config as the service user in the clean root"

exec_start=$(sed -n 's/^ExecStart=//p' "$root/lib/systemd/system/retrovue-playout.service")
install -d -m 0750 "$root/run/retrovue" && inroot chown retrovue:retrovue /run/retrovue
(umask 0027 && exec chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    setpriv --reuid=retrovue --regid=retrovue --init-groups $exec_start) 2>"$root/tmp/engine.log" &
engine_pid=$!
i=0
while [ $i -lt 60 ] && ! curl -sf "http://127.0.0.1:$metrics/healthz" >"$root/tmp/healthz" 2>/dev/null; do
    sleep 0.5
    i=$((i + 1))
done
grep -q '"status":"ok"' "$root/tmp/healthz"
ok $? "the engine starts as the unit runs it and /healthz answers: $(cat "$root/tmp/healthz")"

cat >"$root/var/lib/retrovue-playout/plans/bars.conf" <<'PLAN'
loop = true;
blocks = ( { id = "bars"; start_utc_ms = 0L; end_utc_ms = 10000L;
             segments = ( { type = "CONTENT"; duration_ms = 10000; asset_uri = "slate:bars"; } ); } );
PLAN
run "$root/tmp/ctl.log" inroot playoutctl --socket /run/retrovue/playout.sock start 1 bars
ok $? "the installed playoutctl starts channel 1 (only the package's declared dependencies)"
timeout 60 ffmpeg -nostdin -v error -i "tcp://127.0.0.1:$ts" -frames:v 1 -f rawvideo \
    -pix_fmt yuv420p "$root/tmp/frame.yuv" 2>"$root/tmp/ffmpeg.log"
test "$(stat -c %s "$root/tmp/frame.yuv" 2>/dev/null)" = 86400
ok $? "channel 1 airs: one 320x180 picture decoded from its MPEG-TS"
kill -TERM "$engine_pid"
wait "$engine_pid"
ok $? "SIGTERM stops the engine with exit 0"
engine_pid=""

run "$cache/purge.log" inroot apt-get purge -y -q retrovue-playout retrovue-playout-dev
left=""
for p in /etc/retrovue-playout /var/lib/retrovue-playout /var/log/retrovue-playout \
         /usr/lib/retrovue-playout /usr/share/retrovue-playout /usr/include/retrovue \
         /usr/bin/retrovue_playout /lib/systemd/system/retrovue-playout.service \
         /etc/systemd/system/multi-user.target.wants/retrovue-playout.service; do
    [ -e "$root$p" ] || [ -L "$root$p" ] && left="$left $p"
done
test -z "$left"
ok $? "apt-get purge leaves nothing behind${left:+:$left}"
tap_done
