#!/usr/bin/python3
"""integration.players: the viewers' own players, headless, on a live channel.

The real binary airs a channel (a clip and the bars slate) and its HTTP
server serves /channel/1.ts, /channel/1.m3u8 and /channels.m3u. Then:

* mpv (Debian's `mpv`, --vo=image --ao=pcm) plays the .ts URL and the HLS
  m3u8: it must exit 0, report H.264 + AAC, write 30 decoded pictures of
  640x360 and a WAV of decoded audio.
* VLC (Debian's `vlc-bin` + `vlc-plugin-base`, `cvlc` with the dummy
  interface, video and audio outputs) plays the .ts URL, the m3u8, and the
  /channels.m3u playlist (VLC reads the M3U and plays its entry). VLC
  transcodes what it decoded (`#transcode{vcodec=mp2v,acodec=mpga}`) to its
  stdout; ffprobe counts MPEG-2 video frames of 640x360 and MPEG audio frames
  in it, so a stream VLC cannot decode leaves no frames.
* Controls: both players on a channel that does not exist (404) fail the same
  checks, so the checks can fail.

Debian's VLC refuses to run as root ("VLC is not supposed to be run as
root"); as root the test runs it as `nobody` with setpriv(1) (util-linux),
which only needs to read the URL and write its stdout. As any other user it
runs VLC directly. The mpv and VLC runs go in two threads side by side to keep
the test short; nothing here asserts timing (frame thresholds are a fraction of
what a few seconds of stream hold).
"""
import json
import os
import pwd
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402

RUN_S = 120
MPV_FRAMES = 30
VLC_RUN_S = 4
VLC_MIN_VIDEO = 10   # frames VLC must have decoded (4 s of stream hold ~120)
VLC_MIN_AUDIO = 10   # MPEG audio frames (1152 samples each: 4 s hold ~160)
WIDTH, HEIGHT = 640, 360


def png_size(path):
    """(width, height) from a PNG's IHDR chunk, or None if it is no PNG."""
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def wav_seconds(path):
    """Seconds of audio in mpv's --ao=pcm WAV (48 kHz stereo float)."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return 0.0
    return max(0, size - 44) / (48000 * 2 * 4)


def mpv_play(url, outdir):
    """mpv decodes MPV_FRAMES pictures of `url` to PNG files and its audio to
    a WAV. Returns a dict: rc, playing (the --term-playing-msg line), images,
    sizes (set of PNG sizes), audio_s, log (tail)."""
    os.makedirs(outdir, exist_ok=True)
    wav = os.path.join(outdir, "audio.wav")
    cmd = ["mpv", "--no-config", "--msg-level=all=info",
           "--vo=image", "--vo-image-format=png", "--vo-image-png-compression=0",
           "--vo-image-outdir=" + outdir, "--ao=pcm", "--ao-pcm-file=" + wav,
           "--frames=%d" % MPV_FRAMES, "--network-timeout=15",
           "--term-playing-msg=PLAYING video=${video-format} audio=${audio-codec-name}",
           url]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=90,
                           env=dict(os.environ, HOME=outdir))
        rc, out = p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired as exc:
        rc, out = "timeout", str(exc.stdout or "")
    pngs = sorted(f for f in os.listdir(outdir) if f.endswith(".png"))
    m = re.search(r"^PLAYING .*$", out, re.M)
    return {"rc": rc, "playing": m.group(0) if m else "",
            "images": len(pngs),
            "sizes": {png_size(os.path.join(outdir, f)) for f in pngs},
            "audio_s": wav_seconds(wav), "log": out[-600:]}


def mpv_ok(r):
    return (r["rc"] == 0 and "video=h264" in r["playing"] and "audio=aac" in r["playing"]
            and r["images"] == MPV_FRAMES and r["sizes"] == {(WIDTH, HEIGHT)}
            and r["audio_s"] >= 0.5)


def mpv_what(r):
    return "rc %s, '%s', %d pictures %s, %.2f s audio" % (
        r["rc"], r["playing"], r["images"], sorted(r["sizes"], key=str), r["audio_s"])


def vlc_command():
    """cvlc, or as root the same run as `nobody` (Debian's VLC refuses root)."""
    base = ["cvlc", "--quiet", "--intf", "dummy", "--vout", "dummy", "--aout", "dummy",
            "--no-sout-all", "--no-video-title-show", "--play-and-exit",
            "--run-time", str(VLC_RUN_S),
            "--sout", "#transcode{vcodec=mp2v,vb=800,acodec=mpga,ab=128}"
                      ":std{access=file,mux=ts,dst=-}"]
    if os.geteuid() != 0:
        return base
    nobody = pwd.getpwnam("nobody")
    return ["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid,
            "--clear-groups", "--reset-env"] + base


def vlc_play(url, out_ts):
    """VLC plays `url` for VLC_RUN_S s and writes what it decoded, transcoded,
    to `out_ts`. Returns a dict: rc, video (frames), size, audio (frames), log."""
    env = dict(os.environ, HOME="/nonexistent")
    try:
        with open(out_ts, "wb") as out:
            p = subprocess.run(vlc_command() + [url], stdout=out, stderr=subprocess.PIPE,
                               text=True, timeout=90, env=env)
        rc, log = p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        rc, log = "timeout", ""
    r = {"rc": rc, "video": 0, "size": None, "audio": 0, "log": log[-400:]}
    if os.path.getsize(out_ts) == 0:
        return r
    p = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                        "stream=codec_type,codec_name,width,height,nb_read_frames",
                        "-of", "json", out_ts], capture_output=True, text=True, timeout=60)
    for s in json.loads(p.stdout or "{}").get("streams", []):
        n = int(s.get("nb_read_frames") or 0)
        if s.get("codec_type") == "video" and s.get("codec_name") == "mpeg2video":
            r["video"] += n
            r["size"] = (s.get("width"), s.get("height"))
        elif s.get("codec_type") == "audio" and s.get("codec_name") == "mp2":
            r["audio"] += n
    return r


def vlc_ok(r):
    return (r["video"] >= VLC_MIN_VIDEO and r["size"] == (WIDTH, HEIGHT)
            and r["audio"] >= VLC_MIN_AUDIO)


def vlc_what(r):
    return "rc %s, %d video frames %s, %d audio frames" % (r["rc"], r["video"], r["size"],
                                                          r["audio"])


def main():
    tap = rvtest.Tap(8)
    work = rvtest.scratch("players")
    missing = [b for b in ("mpv", "cvlc", "ffmpeg", "ffprobe", "setpriv") if not shutil.which(b)]
    if missing:
        print("Bail out! missing %s (tools/debian-packages.txt: mpv, vlc-bin, "
              "vlc-plugin-base)" % " ".join(missing), flush=True)
        sys.exit(1)
    clip = os.path.join(work, "clip.mp4")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30000/1001:duration=4",
                    "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=48000:duration=4",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-c:a", "aac",
                    "-shortest", clip], check=True)
    block = {"id": "b", "start": 0, "end": 6000,
             "segments": [dict(type="CONTENT", uri=clip, offset=0, duration=4000, event="c"),
                          dict(type="CONTENT", uri="slate:bars", offset=0, duration=2000,
                               event="s")]}
    rvtest.write(os.path.join(work, "plans", "p.conf"), rvtest.plan_text([block], loop=True))
    port = rvtest.free_tcp_port()
    channel = """  { id = 1; name = "Players One"; profile = "test"; autostart_plan = "p";
    producers = ( { module = "ffmpeg-file"; }, { module = "slate"; } );
    slate = { module = "slate"; };
    renderer = { module = "null"; };
    sinks = ( { module = "mpegts-tcp"; options = { port = 0; preset = "ultrafast";
                                                   keyint_max_s = 1.0; }; } ); }"""
    config = rvtest.engine_config(work, rvtest.env("RV_MODULE_DIR"), [channel],
                                  profile=(WIDTH, HEIGHT, "30000/1001", 48000, 2),
                                  extra_engine='  metrics_listen = "127.0.0.1:%d";' % port)
    proc, log, base = rvtest.start_http_engine(
        config, port, ["--clock=real", "--run-for=%d" % RUN_S])
    # HLS needs one finished segment before its playlist lists anything
    for _ in range(100):
        try:
            if "#EXTINF" in urllib.request.urlopen(base + "/channel/1.m3u8",
                                                   timeout=10).read().decode():
                break
        except OSError:
            pass
        time.sleep(0.2)

    res = {}

    def mpv_runs():
        res["mpv_ts"] = mpv_play(base + "/channel/1.ts", os.path.join(work, "mpv_ts"))
        res["mpv_hls"] = mpv_play(base + "/channel/1.m3u8", os.path.join(work, "mpv_hls"))
        res["mpv_404"] = mpv_play(base + "/channel/9.ts", os.path.join(work, "mpv_404"))

    def vlc_runs():
        res["vlc_ts"] = vlc_play(base + "/channel/1.ts", os.path.join(work, "vlc_ts.ts"))
        res["vlc_hls"] = vlc_play(base + "/channel/1.m3u8", os.path.join(work, "vlc_hls.ts"))
        res["vlc_m3u"] = vlc_play(base + "/channels.m3u", os.path.join(work, "vlc_m3u.ts"))
        res["vlc_404"] = vlc_play(base + "/channel/9.ts", os.path.join(work, "vlc_404.ts"))

    threads = [threading.Thread(target=mpv_runs), threading.Thread(target=vlc_runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    for key, what in (("mpv_ts", "mpv plays /channel/1.ts"),
                      ("mpv_hls", "mpv plays the HLS /channel/1.m3u8")):
        if not tap.ok(mpv_ok(res[key]), "%s: %s" % (what, mpv_what(res[key]))):
            tap.diag(res[key]["log"])
    for key, what in (("vlc_ts", "VLC plays /channel/1.ts"),
                      ("vlc_hls", "VLC plays the HLS /channel/1.m3u8"),
                      ("vlc_m3u", "VLC opens /channels.m3u and plays its entry")):
        if not tap.ok(vlc_ok(res[key]), "%s: %s" % (what, vlc_what(res[key]))):
            tap.diag(res[key]["log"])
    tap.ok(not mpv_ok(res["mpv_404"]) and res["mpv_404"]["images"] == 0
           and res["mpv_404"]["rc"] != 0,
           "control: mpv on a channel that does not exist fails the check (%s)"
           % mpv_what(res["mpv_404"]))
    tap.ok(not vlc_ok(res["vlc_404"]) and res["vlc_404"]["video"] == 0,
           "control: VLC on a channel that does not exist fails the check (%s)"
           % vlc_what(res["vlc_404"]))
    proc.terminate()
    proc.wait(60)
    tap.ok(proc.returncode == 0, "the engine stops cleanly on SIGTERM (exit %s; a sanitizer "
           "report fails it)" % proc.returncode)
    if tap.failed:
        tap.diag("\n".join(log[-15:]))
    tap.done()


if __name__ == "__main__":
    main()
