/**
 * @file tests/unit/test_mpegts_sink.c
 * @short Drives the mpegts encoder and the mpegts-tcp and mpegts-uds
 *        transport modules, paired as the host pairs them (the encoder's
 *        stream_write feeds the transport's write), through the real host
 *        services (loader, options, frame pool, host API) with real
 *        clients: raw socket readers, `ffmpeg` decoding the live URL, and
 *        consumers that restart. Captures are checked by ts_check.py
 *        (continuity, PCR, PAT/PMT, PTS) and by `ffmpeg -v error`.
 *
 * The channel: 640x360 at 30000/1001, 48 kHz stereo; a "segment" (new
 * picture pattern and colour, tone or silence) every SEG_TICKS ticks, so a
 * 22 s capture spans 13 seams. The test owns every thread, socket and file
 * it makes; captures live in a scratch folder removed at the end unless a
 * check failed.
 *
 * usage: test_mpegts_sink [module_dir]   (default: the build's module folder)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/frame_pool.h"
#include "core/host_api.h"
#include "core/log.h"
#include "core/options.h"
#include "loader/loader.h"
#include "tap.h"

#define WIDTH 640
#define HEIGHT 360
#define SEG_TICKS 50
#define RUN_TICKS 660 /* 22 s of channel time, 13 seams */
#define MAX_EVENTS 256

/* ------------------------------------------------------------------------ */
/* host side                                                                */

typedef struct ev_rec {
    rv_event_type type;
    int code;
    char subject[128];
    char message[256];
} ev_rec;

typedef struct env {
    const char *module_dir;
    char tmp[256];
    module_registry *reg;
    frame_pool *pool;
    master_clock *clock;
    rv_program_format format;
    pthread_mutex_t ev_lock;
    ev_rec ev[MAX_EVENTS];
    int nev;
    int keep_tmp;
} env;

static void on_event(void *owner, rv_context *ctx, rv_event_type type, int code,
                     const char *subject, const char *message)
{
    env *e = owner;
    (void)ctx;
    pthread_mutex_lock(&e->ev_lock);
    if (e->nev < MAX_EVENTS) {
        ev_rec *r = &e->ev[e->nev++];
        r->type = type;
        r->code = code;
        snprintf(r->subject, sizeof r->subject, "%s", subject ? subject : "");
        snprintf(r->message, sizeof r->message, "%s", message ? message : "");
    }
    pthread_mutex_unlock(&e->ev_lock);
}

/* The first event of @p type whose message contains @p needle (and whose
 * subject equals @p subject when given); index or -1. */
static int find_event(env *e, rv_event_type type, const char *needle, const char *subject)
{
    int found = -1;
    pthread_mutex_lock(&e->ev_lock);
    for (int i = 0; i < e->nev && found < 0; i++)
        if (e->ev[i].type == type && strstr(e->ev[i].message, needle) &&
            (!subject || !strcmp(subject, e->ev[i].subject)))
            found = i;
    pthread_mutex_unlock(&e->ev_lock);
    return found;
}

/* One output as the host runs it: the mpegts encoder (the rendition) whose
 * stream_write feeds one transport. */
typedef struct sink {
    const loaded_module *m;     /**< the transport */
    const loaded_module *em;    /**< the mpegts encoder */
    rv_options *opts;
    rv_options *eopts;
    rv_context ctx;
    rv_context ectx;
    void *state;
    void *estate;
    int started;
    int64_t tick;               /**< the tick being encoded */
    char desc[256];
} sink;

static int sink_on_stream(void *owner, rv_context *ctx, const void *data, size_t len,
                          uint32_t flags)
{
    sink *s = owner;
    rv_chunk c = {.struct_size = sizeof c, .data = data, .len = len, .flags = flags,
                  .tick = s->tick};
    (void)ctx;
    return s->m->transport.write(s->state, &c);
}

/* Build @p m's options from the "key=value" entries of @p kv it declares. */
static int sink_options(const loaded_module *m, const char *const *kv, rv_options **out)
{
    raw_option raw[32] = {{0}};
    size_t n = 0;
    char err[256] = "";
    int rc;

    for (size_t k = 0; kv && kv[k]; k++) {
        const char *eq = strchr(kv[k], '=');
        const rv_option *o = m->info->options;
        while (o->key && (strlen(o->key) != (size_t)(eq - kv[k]) ||
                          strncmp(o->key, kv[k], (size_t)(eq - kv[k]))))
            o++;
        if (!o->key)
            continue;
        memset(&raw[n], 0, sizeof raw[n]);
        raw[n].key = strndup(kv[k], (size_t)(eq - kv[k]));
        if (o->type == RV_OPT_INT) {
            raw[n].type = RAW_INT;
            raw[n].i = atoll(eq + 1);
        } else if (o->type == RV_OPT_FLOAT) {
            raw[n].type = RAW_FLOAT;
            raw[n].f = atof(eq + 1);
        } else {
            raw[n].type = RAW_STRING;
            raw[n].s = strdup(eq + 1);
        }
        n++;
    }
    rc = options_build(m->info->options, raw, n, out, err, sizeof err);
    for (size_t i = 0; i < n; i++)
        raw_option_free(&raw[i]);
    if (rc != RV_OK)
        tap_diag("options: %s", err);
    return rc;
}

/* Create a transport of @p module and its mpegts encoder with "key=value"
 * options (each goes to whichever module declares it). */
static int sink_create(env *e, const char *module, const char *const *kv, sink *s)
{
    int rc;

    memset(s, 0, sizeof *s);
    s->m = registry_find(e->reg, module);
    s->em = registry_find(e->reg, "mpegts");
    if (!s->m || !s->em)
        return RV_ENOENT;
    if ((rc = sink_options(s->m, kv, &s->opts)) != RV_OK)
        return rc;
    if ((rc = sink_options(s->em, kv, &s->eopts)) != RV_OK) {
        options_free(s->opts);
        return rc;
    }
    host_context_init(&s->ctx, 7, module, e->pool, e->clock, on_event, e);
    host_context_init(&s->ectx, 7, "mpegts", e->pool, e->clock, on_event, e);
    host_context_set_stream_sink(&s->ectx, sink_on_stream, s);
    rv_create_args args = {
        .struct_size = sizeof args,
        .host = host_api_get(),
        .ctx = &s->ctx,
        .options = s->opts,
        .format = &e->format,
        .channel_id = 7,
        .channel_name = "Test Channel",
    };
    rv_create_args eargs = args;
    eargs.ctx = &s->ectx;
    eargs.options = s->eopts;
    rc = s->m->transport.create(&args, &s->state);
    if (rc == RV_OK && (rc = s->em->encoder.create(&eargs, &s->estate)) != RV_OK) {
        s->m->transport.destroy(s->state);
        s->state = NULL;
    }
    if (rc != RV_OK) {
        options_free(s->opts);
        options_free(s->eopts);
    }
    return rc;
}

static int sink_start(sink *s)
{
    int rc = s->m->transport.start(s->state);
    if (rc == RV_OK && (rc = s->em->encoder.start(s->estate)) != RV_OK)
        s->m->transport.stop(s->state);
    s->started = rc == RV_OK;
    s->m->transport.describe(s->state, s->desc, sizeof s->desc);
    return rc;
}

static void sink_close(sink *s)
{
    if (!s->state)
        return;
    if (s->started) {
        s->em->encoder.stop(s->estate); /* the last bytes still reach the transport */
        s->m->transport.stop(s->state);
    }
    s->em->encoder.destroy(s->estate);
    s->m->transport.destroy(s->state);
    options_free(s->opts);
    options_free(s->eopts);
    s->state = NULL;
}

static rv_sink_stats sink_stats(sink *s)
{
    rv_sink_stats st = {.struct_size = sizeof st};
    s->m->transport.get_stats(s->state, &st);
    return st;
}

/* Wait (bounded) until the sink counts @p clients clients. */
static int wait_clients(sink *s, uint32_t clients)
{
    for (int i = 0; i < 1000; i++) {
        if (sink_stats(s).clients == clients)
            return 1;
        usleep(10000);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* the channel: ticks with a new picture and sound every SEG_TICKS          */

static int write_tick_picture(env *e, sink *s, int64_t n, int flat);

static int write_tick(env *e, sink *s, int64_t n)
{
    return write_tick_picture(e, s, n, 0);
}

/* Tick @p n: a noisy moving pattern, or (@p flat) a flat grey picture, whose
 * IDR is small (a broadcast-rate IDR, not a worst case). */
static int write_tick_picture(env *e, sink *s, int64_t n, int flat)
{
    int seg = (int)(n / SEG_TICKS);
    rv_tick t = {.tick = n, .source = seg % 3 == 2 ? RV_SOURCE_PAD : RV_SOURCE_REAL};
    uint32_t samples = rv_samples_in_tick(e->format.frame_rate, e->format.audio_rate, n);
    int64_t first = rv_ticks_to_samples(e->format.frame_rate, e->format.audio_rate, n);
    int rc;

    t.video = frame_pool_video_alloc(e->pool);
    t.audio = frame_pool_audio_alloc(e->pool, samples);
    if (!t.video || !t.audio)
        return RV_ENOMEM;
    /* a moving pattern with noise, so the encoder spends its bit rate */
    uint32_t noise = (uint32_t)n * 2654435761u;
    for (uint32_t y = 0; y < HEIGHT && flat; y++)
        memset(t.video->plane[0] + y * t.video->stride[0], 0x80, WIDTH);
    for (uint32_t y = 0; y < HEIGHT && !flat; y++)
        for (uint32_t x = 0; x < WIDTH; x++) {
            noise = noise * 1664525u + 1013904223u;
            t.video->plane[0][y * t.video->stride[0] + x] =
                (uint8_t)((seg % 2 ? (x + (uint32_t)n * 4) ^ y : (y + (uint32_t)n * 3) + x / 8) +
                          (noise >> 28));
        }
    for (int p = 1; p < 3; p++)
        for (uint32_t y = 0; y < HEIGHT / 2; y++)
            memset(t.video->plane[p] + y * t.video->stride[p], (uint8_t)(64 + seg * 37 * p), WIDTH / 2);
    for (uint32_t i = 0; i < samples; i++) {
        double ph = 2.0 * M_PI * (300.0 + 100.0 * (seg % 5)) * (double)(first + i) / 48000.0;
        int16_t v = seg % 2 ? 0 : (int16_t)(8000.0 * sin(ph));
        t.audio->data[2 * i] = v;
        t.audio->data[2 * i + 1] = v;
    }
    t.block_id = "b";
    t.segment_index = seg;
    t.event_id = "";
    t.asset_uri = "test:";
    t.segment_first_tick = (int64_t)seg * SEG_TICKS;
    t.segment_end_tick = t.segment_first_tick + SEG_TICKS;
    t.asset_offset_ms = -1;
    s->tick = n;
    rc = s->em->encoder.encode(s->estate, &t);
    frame_pool_video_release(t.video);
    frame_pool_audio_release(t.audio);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* clients                                                                  */

typedef struct reader {
    int fd;
    FILE *out;
    pthread_t th;
    atomic_int stop;
    uint64_t bytes;
    int closed_by_peer;
} reader;

static void *reader_main(void *arg)
{
    reader *r = arg;
    uint8_t buf[65536];
    while (!atomic_load(&r->stop)) {
        struct pollfd p = {.fd = r->fd, .events = POLLIN};
        ssize_t n;
        if (poll(&p, 1, 50) <= 0)
            continue;
        n = recv(r->fd, buf, sizeof buf, 0);
        if (n <= 0) {
            r->closed_by_peer = 1;
            break;
        }
        fwrite(buf, 1, (size_t)n, r->out);
        r->bytes += (uint64_t)n;
    }
    return NULL;
}

static int connect_tcp(int port, int rcvbuf)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int connect_unix(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int listen_unix(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int listen_tcp(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t sl = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0) {
        close(fd);
        return -1;
    }
    getsockname(fd, (struct sockaddr *)&a, &sl);
    *port = ntohs(a.sin_port);
    return fd;
}

static int reader_start(reader *r, int fd, const char *path)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->out = fopen(path, "wb");
    if (fd < 0 || !r->out)
        return -1;
    return pthread_create(&r->th, NULL, reader_main, r) == 0 ? 0 : -1;
}

/* Wait for the sink to close the connection (bounded), then stop. */
static void reader_finish(reader *r)
{
    for (int i = 0; i < 500 && !r->closed_by_peer; i++)
        usleep(10000);
    atomic_store(&r->stop, 1);
    pthread_join(r->th, NULL);
    fclose(r->out);
    close(r->fd);
}

/* `ffmpeg -v error -i URL -f null -` in the background, stderr to @p errfile. */
static pid_t spawn_ffmpeg_client(const char *url, const char *errfile)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_RDWR);
        dup2(nul, 0);
        dup2(nul, 1);
        dup2(fd, 2);
        execlp("ffmpeg", "ffmpeg", "-nostdin", "-v", "error", "-i", url, "-f", "null", "-",
               (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Wait (bounded) for a child; its exit status, or -1. */
static int wait_child(pid_t pid)
{
    int status = 0;
    for (int i = 0; i < 1000; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Run @p cmd; forward its output as diagnostics; keep the RESULT line. */
static int run_cmd(const char *cmd, char *result, size_t len, char *first, size_t flen)
{
    char line[4096];
    FILE *p = popen(cmd, "r");
    int status;
    if (result)
        result[0] = 0;
    if (first)
        first[0] = 0;
    if (!p)
        return -1;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        if (!strncmp(line, "RESULT ", 7) && result)
            snprintf(result, len, "%s", line + 7);
        else if (line[0])
            tap_diag("%s", line);
        if (first && !first[0])
            snprintf(first, flen, "%s", line);
    }
    status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int ts_check(env *e, const char *capture, const char *extra, char *result, size_t len)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/ts_check.py %s %s", RV_TEST_SRC_DIR, capture,
             extra);
    (void)e;
    return run_cmd(cmd, result, len, NULL, 0);
}

/* `ffmpeg -v error -i FILE -f null -` prints nothing and succeeds. */
static int decodes_clean(const char *capture)
{
    char cmd[1024];
    char first[256];
    int rc;
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -i %s -f null - 2>&1", capture);
    rc = run_cmd(cmd, NULL, 0, first, sizeof first);
    return rc == 0 && first[0] == 0;
}

static long json_long(const char *json, const char *key)
{
    char pat[64];
    const char *p;
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    p = strstr(json, pat);
    return p ? atol(p + strlen(pat)) : -1;
}

static uint8_t *slurp(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    *len = file_size(path);
    if (!f || *len < 0) {
        if (f)
            fclose(f);
        return NULL;
    }
    buf = malloc((size_t)*len + 1);
    if (buf && fread(buf, 1, (size_t)*len, f) != (size_t)*len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* @p late is byte-identical to the tail of @p full starting at a packet
 * boundary (the late joiner got exactly what everyone else got). */
static int is_packet_suffix(const char *full_path, const char *late_path, long *offset)
{
    long nf, nl;
    uint8_t *f = slurp(full_path, &nf);
    uint8_t *l = slurp(late_path, &nl);
    int ok = 0;
    *offset = -1;
    if (f && l && nl >= 188 * 4) {
        for (long off = 0; off + nl <= nf && !ok; off += 188) {
            if (!memcmp(f + off, l, 188 * 4) && !memcmp(f + off, l, (size_t)nl)) {
                ok = 1;
                *offset = off;
            }
        }
    }
    free(f);
    free(l);
    return ok;
}

static int files_equal(const char *a, const char *b)
{
    long na, nb;
    uint8_t *x = slurp(a, &na);
    uint8_t *y = slurp(b, &nb);
    int eq = x && y && na == nb && na > 0 && !memcmp(x, y, (size_t)na);
    free(x);
    free(y);
    return eq;
}

static void path_in(env *e, char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", e->tmp, name);
}

/* ------------------------------------------------------------------------ */
/* scenarios                                                                */

/* Listen mode: two clients from the start, an ffmpeg decoder, a client that
 * never reads, and a late joiner; 22 s of channel with 13 seams. */
static void test_listen(env *e, const char *module, int unix_socket)
{
    char sockpath[300], url[320], cap1[300], cap2[300], late[300], ffmpeg_err[300];
    char result[8192], lresult[8192];
    sink s;
    reader r1, r2, r3;
    int slow_fd = -1;
    char slow_peer[64] = "";
    const char *tcp_kv[] = {"port=0", "client_queue_kb=256", NULL};
    char path_opt[320];
    const char *uds_kv[] = {path_opt, "client_queue_kb=256", NULL};
    int port = 0;
    int write_errors = 0;
    pid_t ff;
    long off = -1;

    path_in(e, sockpath, sizeof sockpath, "listen.sock");
    snprintf(path_opt, sizeof path_opt, "path=%s", sockpath);
    path_in(e, cap1, sizeof cap1, unix_socket ? "uds_r1.ts" : "tcp_r1.ts");
    path_in(e, cap2, sizeof cap2, unix_socket ? "uds_r2.ts" : "tcp_r2.ts");
    path_in(e, late, sizeof late, unix_socket ? "uds_late.ts" : "tcp_late.ts");
    path_in(e, ffmpeg_err, sizeof ffmpeg_err, "ffmpeg_client.err");

    if (unix_socket) {
        /* a stale socket file from a "crash": bound, then closed */
        int stale = listen_unix(sockpath);
        close(stale);
    }
    if (!tap_ok(sink_create(e, module, unix_socket ? uds_kv : tcp_kv, &s) == RV_OK &&
                    sink_start(&s) == RV_OK,
                "%s: create and start in listen mode", module)) {
        sink_close(&s);
        return;
    }
    if (unix_socket) {
        struct stat st = {0};
        int have = lstat(sockpath, &st) == 0;
        tap_ok(find_event(e, RV_EVENT_WARNING, "replaced stale socket", sockpath) >= 0,
               "%s: a stale socket file is replaced (event logged)", module);
        tap_ok(have && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0660,
               "%s: the socket file has mode 0660 (%o)", module, (unsigned)(st.st_mode & 0777));
        snprintf(url, sizeof url, "unix:%s", sockpath);
        tap_ok(!strcmp(s.desc, url), "%s: describe() says %s", module, s.desc);
    } else {
        tap_ok(sscanf(s.desc, "tcp://127.0.0.1:%d", &port) == 1 && port > 0,
               "%s: describe() shows the bound port: %s", module, s.desc);
        snprintf(url, sizeof url, "tcp://127.0.0.1:%d", port);
    }

    reader_start(&r1, unix_socket ? connect_unix(sockpath) : connect_tcp(port, 0), cap1);
    reader_start(&r2, unix_socket ? connect_unix(sockpath) : connect_tcp(port, 0), cap2);
    if (!unix_socket) {
        struct sockaddr_in a;
        socklen_t sl = sizeof a;
        slow_fd = connect_tcp(port, 4096);
        getsockname(slow_fd, (struct sockaddr *)&a, &sl);
        snprintf(slow_peer, sizeof slow_peer, "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    } else {
        int small = 4096;
        slow_fd = connect_unix(sockpath);
        setsockopt(slow_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    ff = spawn_ffmpeg_client(url, ffmpeg_err);
    tap_ok(wait_clients(&s, 4), "%s: two readers, a stalled client and ffmpeg are connected",
           module);

    for (int64_t n = 0; n < RUN_TICKS; n++) {
        if (write_tick(e, &s, n) != RV_OK)
            write_errors++;
        if (n == RUN_TICKS / 2 + 7) {
            uint32_t before = sink_stats(&s).clients;
            reader_start(&r3, unix_socket ? connect_unix(sockpath) : connect_tcp(port, 0), late);
            wait_clients(&s, before + 1);
        }
        if (n % 8 == 0)
            usleep(30000); /* about 8x real time: a live channel, not a batch */
    }
    tap_ok(write_errors == 0, "%s: %d ticks written without error", module, RUN_TICKS);
    tap_ok(find_event(e, RV_EVENT_CLIENT_LEAVE, "send queue full", unix_socket ? NULL : slow_peer) >= 0,
           "%s: the client that stopped reading was disconnected (%s)", module,
           unix_socket ? "unix" : slow_peer);
    {
        rv_sink_stats st = sink_stats(&s);
        /* encode time is the host's (it times the rendition), not the transport's */
        tap_ok(st.disconnects >= 1 && st.bytes > 0 && st.dropped_frames == 0,
               "%s: stats: %llu bytes, %u clients, %llu disconnects, %llu dropped", module,
               (unsigned long long)st.bytes, st.clients, (unsigned long long)st.disconnects,
               (unsigned long long)st.dropped_frames);
    }
    sink_close(&s);
    reader_finish(&r1);
    reader_finish(&r2);
    reader_finish(&r3);
    {
        /* the stalled client: the sink closed it (EOF after what was queued) */
        uint8_t buf[65536];
        ssize_t n = 1;
        int rounds = 0;
        while (n > 0 && rounds++ < 10000) {
            struct pollfd p = {.fd = slow_fd, .events = POLLIN};
            if (poll(&p, 1, 5000) <= 0)
                break;
            n = recv(slow_fd, buf, sizeof buf, 0);
        }
        tap_ok(n <= 0, "%s: the stalled client's connection was closed by the sink", module);
        close(slow_fd);
    }

    tap_ok(ts_check(e, cap1, "--first-pat", result, sizeof result) == 0,
           "%s: reader 1 capture: CC, PCR <= 40 ms, PAT/PMT <= 100 ms, video and audio PTS continuous",
           module);
    tap_ok(json_long(result, "video_frames") == RUN_TICKS - 1,
           "%s: every tick is one video frame (%ld complete PES of %d ticks, last one open)",
           module, json_long(result, "video_frames"), RUN_TICKS);
    tap_ok(decodes_clean(cap1), "%s: ffmpeg -v error decodes reader 1's capture silently", module);
    tap_ok(files_equal(cap1, cap2), "%s: both readers received byte-identical streams (%ld bytes)",
           module, file_size(cap1));
    int suffix = is_packet_suffix(cap1, late, &off);
    tap_ok(suffix,
           "%s: the late joiner got exactly the same bytes from its join point on (offset %ld)",
           module, off);
    ts_check(e, late, "--first-pat", lresult, sizeof lresult);
    {
        long gop = json_long(result, "max_gop_bytes");
        char cmd[1024], first[256];
        int key = -1;
        long pos = -1;
        snprintf(cmd, sizeof cmd,
                 "ffprobe -v error -select_streams v:0 -read_intervals %%+#1 -show_entries "
                 "frame=key_frame,pkt_pos -of csv=p=0 %s 2>&1",
                 late);
        run_cmd(cmd, NULL, 0, first, sizeof first);
        sscanf(first, "%d,%ld", &key, &pos);
        tap_ok(strstr(lresult, "\"first_video_is_key\": true") && key == 1 && pos >= 0 && pos < gop,
               "%s: the late joiner starts with PAT/PMT and decodes a keyframe at byte %ld (< one GOP, %ld bytes)",
               module, pos, gop);
    }
    {
        int rc = wait_child(ff);
        long errsz = file_size(ffmpeg_err);
        tap_ok(rc == 0 && errsz == 0, "%s: ffmpeg reading %s live decoded without a message (exit %d, %ld bytes of errors)",
               module, url, rc, errsz);
        if (errsz > 0)
            e->keep_tmp = 1;
    }
    if (unix_socket)
        tap_ok(access(sockpath, F_OK) != 0, "%s: stop() removed the socket file", module);
}

/* Connect mode: the consumer restarts mid-stream and gets the stream back. */
static void test_connect(env *e, const char *module, int unix_socket)
{
    char sockpath[300], opt1[320], opt2[64], cap1[300], cap2[300], result[8192];
    const char *kv[] = {"mode=connect", opt1, opt2, NULL};
    int port = 0;
    int lfd;
    sink s;
    reader r1, r2 = {.fd = -1};
    int64_t n = 0;
    int errors = 0;

    path_in(e, sockpath, sizeof sockpath, "consumer.sock");
    path_in(e, cap1, sizeof cap1, unix_socket ? "uds_consumer1.ts" : "tcp_consumer1.ts");
    path_in(e, cap2, sizeof cap2, unix_socket ? "uds_consumer2.ts" : "tcp_consumer2.ts");
    lfd = unix_socket ? listen_unix(sockpath) : listen_tcp(&port);
    if (unix_socket) {
        snprintf(opt1, sizeof opt1, "path=%s", sockpath);
        snprintf(opt2, sizeof opt2, "client_queue_kb=4096");
    } else {
        snprintf(opt1, sizeof opt1, "port=%d", port);
        snprintf(opt2, sizeof opt2, "host=127.0.0.1");
    }
    if (!tap_ok(lfd >= 0 && sink_create(e, module, kv, &s) == RV_OK && sink_start(&s) == RV_OK,
                "%s: create and start in connect mode (%s)", module, s.desc)) {
        sink_close(&s);
        return;
    }
    reader_start(&r1, accept(lfd, NULL, NULL), cap1);
    tap_ok(wait_clients(&s, 1), "%s: the sink connected to the consumer", module);
    for (; n < 150; n++)
        errors += write_tick(e, &s, n) != RV_OK;
    usleep(100000);
    /* the consumer restarts: connection and listening socket go away */
    atomic_store(&r1.stop, 1);
    pthread_join(r1.th, NULL);
    fclose(r1.out);
    close(r1.fd);
    close(lfd);
    if (unix_socket)
        unlink(sockpath);
    for (int i = 0; i < 500 && sink_stats(&s).clients != 0; i++, n++) {
        errors += write_tick(e, &s, n) != RV_OK;
        usleep(10000);
    }
    for (int i = 0; i < 10; i++, n++) {
        errors += write_tick(e, &s, n) != RV_OK; /* the channel runs on, nobody listening */
        usleep(20000);
    }
    if (unix_socket) {
        lfd = listen_unix(sockpath);
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        int one = 1;
        lfd = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 4) != 0) {
            close(lfd);
            lfd = -1;
        }
    }
    {
        /* keep the channel running while the sink's backoff reconnects */
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        int got = 0;
        for (int i = 0; i < 300 && !got && lfd >= 0; i++, n++) {
            errors += write_tick(e, &s, n) != RV_OK;
            got = poll(&p, 1, 33) > 0;
        }
        tap_ok(got && reader_start(&r2, accept(lfd, NULL, NULL), cap2) == 0,
               "%s: the sink reconnected to the restarted consumer", module);
        wait_clients(&s, 1);
    }
    for (int64_t end = n + 200; n < end; n++)
        errors += write_tick(e, &s, n) != RV_OK;
    {
        rv_sink_stats st = sink_stats(&s);
        tap_ok(errors == 0 && st.disconnects >= 1,
               "%s: the channel never stopped: %lld ticks, %llu disconnects, %llu ticks not delivered",
               module, (long long)n, (unsigned long long)st.disconnects,
               (unsigned long long)st.dropped_frames);
    }
    sink_close(&s);
    if (r2.out)
        reader_finish(&r2);
    close(lfd);
    if (unix_socket)
        unlink(sockpath);
    tap_ok(ts_check(e, cap2, "--first-pat", result, sizeof result) == 0 &&
               json_long(result, "video_frames") >= 199 && decodes_clean(cap2),
           "%s: after the restart the consumer gets PAT/PMT first, a keyframe and a clean stream (%ld frames)",
           module, json_long(result, "video_frames"));
}

/* Socket files that must not be replaced; ticks the host dropped. */
static void test_uds_refusals(env *e)
{
    char live[300], plain[300], opt[320];
    const char *kv[] = {opt, NULL};
    sink s;
    int lfd;
    FILE *f;

    path_in(e, live, sizeof live, "live.sock");
    path_in(e, plain, sizeof plain, "plain.file");
    lfd = listen_unix(live);
    snprintf(opt, sizeof opt, "path=%s", live);
    tap_ok(sink_create(e, "mpegts-uds", kv, &s) == RV_OK && sink_start(&s) == RV_EBUSY &&
               find_event(e, RV_EVENT_SINK_ERROR, "in use", live) >= 0 && connect_unix(live) >= 0,
           "mpegts-uds: a live socket is not replaced: start() fails with RV_EBUSY and says why");
    sink_close(&s);
    close(lfd);
    unlink(live);

    f = fopen(plain, "w");
    fputs("not a socket", f);
    fclose(f);
    snprintf(opt, sizeof opt, "path=%s", plain);
    tap_ok(sink_create(e, "mpegts-uds", kv, &s) == RV_OK && sink_start(&s) == RV_EBUSY &&
               file_size(plain) == 12,
           "mpegts-uds: a regular file at the path is left alone (RV_EBUSY)");
    sink_close(&s);
}

/* RetroVue Core's AttachStream: a connected socket handed over with `fd`
 * (ownership passes to the transport). Nothing is written before the first
 * tick is encoded; the first bytes are PAT/PMT then the keyframe; a closed
 * peer is never reconnected. */
static void test_attached_fd(env *e)
{
    char opt[64], cap[300], result[8192];
    const char *kv[] = {"mode=connect", "path=/nonexistent/never-used.sock", opt, NULL};
    int sv[2];
    sink s;
    reader r;
    int errors = 0;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        tap_ok(0, "mpegts-uds: socketpair for the attached stream");
        tap_ok(0, "mpegts-uds: attached stream starts with PAT/PMT");
        return;
    }
    snprintf(opt, sizeof opt, "fd=%d", sv[0]);
    path_in(e, cap, sizeof cap, "attached.ts");
    if (sink_create(e, "mpegts-uds", kv, &s) != RV_OK || sink_start(&s) != RV_OK) {
        tap_ok(0, "mpegts-uds: create and start with an attached fd");
        tap_ok(0, "mpegts-uds: attached stream starts with PAT/PMT");
        sink_close(&s);
        close(sv[1]);
        return;
    }
    struct pollfd p = {.fd = sv[1], .events = POLLIN};
    int early = poll(&p, 1, 300) > 0;
    reader_start(&r, sv[1], cap);
    for (int64_t n = 0; n < 90; n++)
        errors += write_tick(e, &s, n) != RV_OK;
    sink_close(&s); /* closes the adopted socket: the reader sees the end */
    reader_finish(&r);
    tap_ok(!early && errors == 0 && file_size(cap) > 0,
           "mpegts-uds: an attached fd receives nothing before the first tick, then %ld bytes",
           file_size(cap));
    tap_ok(ts_check(e, cap, "--first-pat", result, sizeof result) == 0 && decodes_clean(cap),
           "mpegts-uds: the attached stream starts with PAT/PMT and decodes clean");
}

/* The first video PES of @p buf (whole TS packets on PID @p pid): its
 * PES_packet_length (0 = unbounded), the elementary-stream bytes gathered
 * so far into *@p have and those it declares into *@p want (-1 when
 * unbounded), and whether they hold an IDR NAL unit (type 5). 0 when no PES
 * starts in @p buf. ISO/IEC 13818-1 2.4.3.2 (TS packet), 2.4.3.7 (PES). */
static int first_video_pes(const uint8_t *buf, size_t len, unsigned pid, long *have, long *want,
                           int *idr)
{
    static uint8_t es[1 << 20];
    long n = 0;
    int started = 0;
    *have = 0;
    *want = -1;
    *idr = 0;
    for (size_t off = 0; off + 188 <= len; off += 188) {
        const uint8_t *p = buf + off;
        if (p[0] != 0x47 || ((((unsigned)p[1] & 0x1F) << 8) | p[2]) != pid)
            continue;
        int pusi = p[1] & 0x40;
        size_t at = 4;
        if (p[3] & 0x20)
            at += 1 + (size_t)p[4];
        if (!(p[3] & 0x10) || at >= 188)
            continue;
        if (pusi && started)
            break;
        if (pusi) {
            const uint8_t *h = p + at;
            if (188 - at < 9 || h[0] || h[1] || h[2] != 1)
                return 0;
            long plen = ((long)h[4] << 8) | h[5];
            *want = plen ? plen - 3 - h[8] : -1;
            at += 9 + (size_t)h[8];
            started = 1;
        }
        if (!started || at > 188)
            continue;
        if (n + (long)(188 - at) <= (long)sizeof es)
            memcpy(es + n, p + at, 188 - at);
        n += (long)(188 - at);
    }
    *have = n;
    for (long i = 0; i + 3 < n && i + 3 < (long)sizeof es; i++)
        if (es[i] == 0 && es[i + 1] == 0 && es[i + 2] == 1 && (es[i + 3] & 0x1F) == 5)
            *idr = 1;
    return started;
}

/* A new stream's first IDR leaves with its own tick, whole and bounded: it
 * does not wait for the audio encoder's delay (the next tick), and its PES
 * says its length so a reader knows it complete at its last byte (issue 12:
 * the first viewer of an idle channel waits for exactly this). */
static void test_first_idr_alone(env *e)
{
    char opt[64];
    const char *kv[] = {"mode=connect", "path=/nonexistent/never-used.sock", opt, NULL};
    static uint8_t buf[1 << 20];
    size_t len = 0;
    int sv[2];
    sink s;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        tap_ok(0, "mpegts-uds: socketpair for the first-IDR stream");
        return;
    }
    snprintf(opt, sizeof opt, "fd=%d", sv[0]);
    if (sink_create(e, "mpegts-uds", kv, &s) != RV_OK || sink_start(&s) != RV_OK) {
        tap_ok(0, "mpegts-uds: create and start for the first-IDR stream");
        sink_close(&s);
        close(sv[1]);
        return;
    }
    int rc = write_tick_picture(e, &s, 0, 1);
    long have = 0, want = -1;
    int idr = 0, started = 0;
    /* only tick 0 was given: wait (at most 10 s, for a loaded machine) for
     * its IDR to arrive whole; nothing more can come */
    for (int waited = 0; waited < 10000 && rc == RV_OK; waited += 20) {
        struct pollfd p = {.fd = sv[1], .events = POLLIN};
        if (poll(&p, 1, 20) > 0) {
            ssize_t n = read(sv[1], buf + len, sizeof buf - len);
            if (n <= 0)
                break;
            len += (size_t)n;
        }
        started = first_video_pes(buf, len - len % 188, 0x100, &have, &want, &idr);
        if (started && want > 0 && have >= want)
            break;
    }
    tap_ok(rc == RV_OK && started && idr && want > 0 && have >= want,
           "mpegts-uds: one tick in, its IDR is out whole with its PES length (%ld of %ld "
           "bytes, %zu bytes in all)", have, want, len);
    sink_close(&s);
    close(sv[1]);
}

static void test_tcp_busy_and_gaps(env *e)
{
    char opt[64], cap[300], result[8192];
    const char *kv[] = {opt, NULL};
    int port = 0;
    int lfd = listen_tcp(&port);
    sink s;
    reader r;
    int errors = 0;

    snprintf(opt, sizeof opt, "port=%d", port);
    tap_ok(sink_create(e, "mpegts-tcp", kv, &s) == RV_OK && sink_start(&s) == RV_EBUSY &&
               find_event(e, RV_EVENT_SINK_ERROR, "cannot listen", NULL) >= 0,
           "mpegts-tcp: a port in use fails start() with RV_EBUSY and an event");
    sink_close(&s);
    close(lfd);

    /* ticks 120..124 never reach the sink (the host dropped them) */
    path_in(e, cap, sizeof cap, "tcp_gaps.ts");
    snprintf(opt, sizeof opt, "port=0");
    if (sink_create(e, "mpegts-tcp", kv, &s) != RV_OK || sink_start(&s) != RV_OK) {
        tap_ok(0, "mpegts-tcp: start for the dropped-ticks run");
        sink_close(&s);
        return;
    }
    sscanf(s.desc, "tcp://127.0.0.1:%d", &port);
    reader_start(&r, connect_tcp(port, 0), cap);
    wait_clients(&s, 1);
    for (int64_t n = 0; n < 240; n++)
        if (n < 120 || n >= 125)
            errors += write_tick(e, &s, n) != RV_OK;
    /* the host counts the ticks its queue dropped (sink_queue); the encoder bridges them */
    tap_ok(errors == 0, "mpegts-tcp: the encoder encodes across 5 missing ticks without error");
    sink_close(&s);
    reader_finish(&r);
    /* PCR rides on the video PES: 5 missing frames pause it for 167 ms */
    tap_ok(ts_check(e, cap, "--first-pat --video-gaps-ok --pcr-max-ms 210 --pat-max-ms 250", result,
                    sizeof result) == 0,
           "mpegts-tcp: across dropped ticks video PTS jump by the gap, audio stays continuous, CC intact");
}

int main(int argc, char **argv)
{
    env e = {.module_dir = argc > 1 ? argv[1] : RV_MODULE_DIR,
             .format = {.width = WIDTH, .height = HEIGHT, .frame_rate = {30000, 1001},
                        .audio_rate = 48000, .audio_channels = 2}};
    char err[512];
    char path[512];
    const char *tmpbase = getenv("RV_TMP") ? getenv("RV_TMP") : "/tmp";

    signal(SIGPIPE, SIG_IGN);
    log_set_level(RV_LOG_WARN);
    pthread_mutex_init(&e.ev_lock, NULL);
    tap_plan(53);
    snprintf(e.tmp, sizeof e.tmp, "%s/mpegts-sink.XXXXXX", tmpbase);
    if (!mkdtemp(e.tmp)) {
        printf("Bail out! cannot make a scratch folder in %s\n", tmpbase);
        return 1;
    }
    e.reg = registry_create();
    e.pool = frame_pool_create(&e.format);
    e.clock = clock_create_virtual(1767225600000000000LL);
    snprintf(path, sizeof path, "%s/mpegts-tcp.so", e.module_dir);
    tap_ok(registry_load_file(e.reg, path, err, sizeof err) == RV_OK, "load %s %s", path, err);
    snprintf(path, sizeof path, "%s/mpegts-uds.so", e.module_dir);
    tap_ok(registry_load_file(e.reg, path, err, sizeof err) == RV_OK, "load %s %s", path, err);
    snprintf(path, sizeof path, "%s/mpegts.so", e.module_dir);
    tap_ok(registry_load_file(e.reg, path, err, sizeof err) == RV_OK, "load %s %s", path, err);
    if (!registry_find(e.reg, "mpegts-tcp") || !registry_find(e.reg, "mpegts-uds") ||
        !registry_find(e.reg, "mpegts")) {
        printf("Bail out! modules not loaded\n");
        return 1;
    }

    test_listen(&e, "mpegts-tcp", 0);
    test_listen(&e, "mpegts-uds", 1);
    test_connect(&e, "mpegts-tcp", 0);
    test_connect(&e, "mpegts-uds", 1);
    test_uds_refusals(&e);
    test_tcp_busy_and_gaps(&e);
    test_attached_fd(&e);
    test_first_idr_alone(&e);
    tap_ok(frame_pool_outstanding(e.pool) == 0, "every picture and audio buffer went back to the pool");

    registry_destroy(e.reg);
    frame_pool_destroy(e.pool);
    clock_destroy(e.clock);
    if (tap_done() == 0 && !e.keep_tmp) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", e.tmp);
        if (system(cmd) != 0)
            tap_diag("could not remove %s", e.tmp);
        return 0;
    }
    tap_diag("captures kept in %s", e.tmp);
    return tap_done();
}
