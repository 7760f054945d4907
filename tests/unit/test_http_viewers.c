/**
 * @file tests/unit/test_http_viewers.c
 * @short http_viewers without libmicrohttpd: a socketpair stands for a
 *        viewer's connection, a thread for its parked connection thread.
 *        The body is valid HTTP/1.1 chunked framing (RFC 9112 section 7.1)
 *        holding exactly the bytes published; the reader returns
 *        END_OF_STREAM when the channel stops, END_WITH_ERROR when the viewer
 *        stops reading, hangs up, or the sender stops.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include <retrovue/encoder.h>
#include <retrovue/error.h>

#include "core/stream_hub.h"
#include "tap.h"
#include "telemetry/http_viewers.h"

typedef struct parked {
    http_viewer *v;
    pthread_t thread;
    ssize_t ret;
} parked;

static void *park_main(void *arg)
{
    parked *p = arg;
    char buf[64];
    p->ret = http_viewer_read(p->v, 0, buf, sizeof buf);
    return NULL;
}

static void park(parked *p, http_viewer *v)
{
    p->v = v;
    p->ret = 0;
    pthread_create(&p->thread, NULL, park_main, p);
}

/** Read from @p fd until @p want body bytes were de-chunked into @p out or
 *  5 s pass; -1 on a framing error. */
static long read_body(int fd, unsigned char *out, size_t want)
{
    static unsigned char raw[1 << 20];
    static size_t have;
    size_t got = 0;
    for (int waited = 0; got < want && waited < 5000;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 10) <= 0) {
            waited += 10;
            continue;
        }
        ssize_t r = recv(fd, raw + have, sizeof raw - have, 0);
        if (r <= 0)
            break;
        have += (size_t)r;
        for (;;) { /* take every whole chunk */
            unsigned char *eol = memchr(raw, '\n', have);
            if (!eol)
                break;
            if (eol == raw || eol[-1] != '\r')
                return -1;
            char *end = NULL;
            size_t n = strtoul((char *)raw, &end, 16);
            if (end != (char *)eol - 1 || n == 0)
                return -1;
            size_t hl = (size_t)(eol + 1 - raw);
            if (have < hl + n + 2)
                break;
            if (raw[hl + n] != '\r' || raw[hl + n + 1] != '\n' || got + n > want)
                return -1;
            memcpy(out + got, raw + hl, n);
            got += n;
            memmove(raw, raw + hl + n + 2, have - hl - n - 2);
            have -= hl + n + 2;
        }
    }
    return (long)got;
}

static int join_within(parked *p, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (pthread_tryjoin_np(p->thread, NULL) == 0)
            return 1;
        usleep(10000);
    }
    return 0;
}

int main(void)
{
    int joined;
    tap_plan(11);
    http_viewers *vs = NULL;
    tap_ok(http_viewers_create(0, &vs) == RV_EINVAL && !vs, "a stall timeout of 0 s is refused");
    tap_ok(http_viewers_create(1, &vs) == RV_OK && vs, "the sender starts");

    /* 1. bytes in, chunked bytes out, END_OF_STREAM when the channel stops */
    stream_hub *hub = stream_hub_create(1u << 20);
    int sp[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
    http_viewer *v = http_viewer_create(vs, stream_hub_subscribe(hub, 8u << 20, STREAM_SUB_DROP, 0),
                                        sp[0], 1);
    parked p;
    park(&p, v);
    static unsigned char sent[300000], got[300000];
    for (size_t i = 0; i < sizeof sent; i++)
        sent[i] = (unsigned char)(i * 7 + i / 251);
    size_t off = 0;
    const size_t sizes[] = {188, 1316, 65536, 100000, 376, 188 * 7, 0};
    for (int i = 0; sizes[i]; i++) {
        stream_hub_publish(hub, sent + off, sizes[i], i == 0 ? RV_STREAM_RANDOM_ACCESS : 0, i, 0);
        off += sizes[i];
        if (i == 1)
            usleep(50000);
    }
    long n = read_body(sp[1], got, off);
    tap_ok(n == (long)off && memcmp(got, sent, off) == 0,
           "the viewer receives every published byte in valid chunked framing (%ld of %zu)", n, off);
    stream_hub_publish(hub, sent + off, 5000, 0, 9, 0);
    n = read_body(sp[1], got, 5000);
    tap_ok(n == 5000 && memcmp(got, sent + off, 5000) == 0,
           "bytes published later follow at the next grid instant (%ld)", n);
    stream_hub_close(hub);
    joined = join_within(&p, 5000);
    tap_ok(joined && p.ret == MHD_CONTENT_READER_END_OF_STREAM,
           "the channel stopped: the reader ends the chunked body (%zd)", p.ret);
    http_viewer_free(v);
    stream_hub_unref(hub);
    close(sp[0]);
    close(sp[1]);

    /* 2. a viewer that stops reading is dropped after the stall timeout */
    hub = stream_hub_create(1u << 20);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
    int small = 4096;
    setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(sp[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    v = http_viewer_create(vs, stream_hub_subscribe(hub, 8u << 20, STREAM_SUB_DROP, 0), sp[0], 2);
    park(&p, v);
    for (int i = 0; i < 20; i++)
        stream_hub_publish(hub, sent, 65536, i == 0 ? RV_STREAM_RANDOM_ACCESS : 0, i, 0);
    joined = join_within(&p, 300);
    tap_ok(!joined, "a viewer whose socket is full is kept for a while");
    joined = join_within(&p, 5000);
    tap_ok(joined && p.ret == MHD_CONTENT_READER_END_WITH_ERROR,
           "a viewer that stopped reading is dropped after the stall timeout (%zd)", p.ret);
    http_viewer_free(v);
    close(sp[0]);
    close(sp[1]);

    /* 3. a viewer that hangs up ends alone; the hub goes on */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
    v = http_viewer_create(vs, stream_hub_subscribe(hub, 8u << 20, STREAM_SUB_DROP, 0), sp[0], 2);
    park(&p, v);
    close(sp[1]);
    stream_hub_publish(hub, sent, 1000, RV_STREAM_RANDOM_ACCESS, 30, 0);
    stream_hub_publish(hub, sent, 1000, 0, 31, 0);
    joined = join_within(&p, 5000);
    tap_ok(joined && p.ret == MHD_CONTENT_READER_END_WITH_ERROR,
           "a viewer that hung up ends (%zd)", p.ret);
    http_viewer_free(v);
    close(sp[0]);
    tap_ok(stream_hub_publish(hub, sent, 1000, 0, 32, 0) == RV_OK, "the channel goes on publishing");

    /* 4. stopping the sender releases a parked reader; later ones return at once */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
    v = http_viewer_create(vs, stream_hub_subscribe(hub, 8u << 20, STREAM_SUB_DROP, 0), sp[0], 2);
    park(&p, v);
    usleep(50000);
    http_viewers_stop(vs);
    joined = join_within(&p, 5000);
    tap_ok(joined && p.ret == MHD_CONTENT_READER_END_WITH_ERROR,
           "stopping the sender releases a parked reader (%zd)", p.ret);
    http_viewer_free(v);
    v = http_viewer_create(vs, stream_hub_subscribe(hub, 8u << 20, STREAM_SUB_DROP, 0), sp[0], 2);
    park(&p, v);
    joined = join_within(&p, 2000);
    tap_ok(joined && p.ret == MHD_CONTENT_READER_END_WITH_ERROR,
           "a viewer that arrives after the stop is refused (%zd)", p.ret);
    http_viewer_free(v);
    close(sp[0]);
    close(sp[1]);
    stream_hub_close(hub);
    stream_hub_unref(hub);
    http_viewers_destroy(vs);
    return tap_done();
}
