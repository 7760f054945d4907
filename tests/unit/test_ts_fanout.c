/**
 * @file tests/unit/test_ts_fanout.c
 * @short The MPEG-TS fan-out's per-client send queues grow on demand
 *        (issue 16): 50 connected clients cost 64 KiB each, not the 4 MiB
 *        bound; a client that stops reading grows to the bound and is then
 *        dropped as too slow; every byte a reading client gets is the
 *        stream in order, across the queue's growth while sends are in
 *        flight; all queue memory is returned when clients leave.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <retrovue/error.h>
#include <retrovue/host.h>

#include "tap.h"
#include "ts_fanout.h"

enum { BOUND = 4 * 1024 * 1024, CLIENTS = 50, PKT = 188 };

static void on_event(rv_context *ctx, rv_event_type type, int code, const char *subject,
                     const char *fmt, ...)
{
    (void)ctx;
    (void)type;
    (void)code;
    (void)subject;
    (void)fmt;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/** Poll @p f's stats until @p pred holds (at most ~20 s); the last stats. */
static ts_fanout_stats wait_stats(ts_fanout *f, int (*pred)(const ts_fanout_stats *))
{
    ts_fanout_stats st = {0};
    for (int i = 0; i < 2000; i++) {
        ts_fanout_get_stats(f, &st);
        if (pred(&st))
            break;
        sleep_ms(10);
    }
    return st;
}

/** What one reading client has received: whole packets counted in order. */
typedef struct reader {
    uint8_t part[PKT];
    size_t have;
    uint32_t next;
    int order_ok;
} reader;

static reader readers[CLIENTS];

static void reader_drain(reader *r, int fd)
{
    static uint8_t buf[1 << 16];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        for (ssize_t j = 0; j < n; j++) {
            r->part[r->have++] = buf[j];
            if (r->have < PKT)
                continue;
            uint32_t v;
            memcpy(&v, r->part + 4, sizeof(v));
            if (r->part[0] != 0x47 || v != r->next)
                r->order_ok = 0;
            r->next++;
            r->have = 0;
        }
    }
}

static int all_joined(const ts_fanout_stats *st) { return st->clients == CLIENTS; }
static int one_left(const ts_fanout_stats *st) { return st->clients == CLIENTS - 1; }
static int none_left(const ts_fanout_stats *st) { return st->clients == 0 && st->queue_bytes == 0; }

int main(void)
{
    tap_plan(5);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 64) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0)
        return 1;
    rv_host_api host = {.struct_size = sizeof(host), .event = on_event};
    ts_fanout_config cfg = {.mode = TS_FANOUT_LISTEN, .listen_fd = lfd, .target = "tcp://test",
                            .client_queue_bytes = BOUND, .max_clients = CLIENTS + 4,
                            .host = &host};
    ts_fanout *f = NULL;
    if (!tap_ok(ts_fanout_start(&cfg, &f) == RV_OK, "a fan-out with a 4 MiB bound starts"))
        return tap_done();

    int fds[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        readers[i].order_ok = 1;
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int small = 4096; /* client 0 reads nothing: keep its kernel buffers small */
        if (i == 0)
            setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        if (connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) != 0)
            fds[i] = -1;
    }
    ts_fanout_stats st = wait_stats(f, all_joined);
    tap_ok(st.clients == CLIENTS && st.queue_bytes <= (uint64_t)CLIENTS * 64 * 1024,
           "%d connected clients hold %llu bytes of send queue (at most 64 KiB each, not "
           "%d x 4 MiB)",
           CLIENTS, (unsigned long long)st.queue_bytes, CLIENTS);

    /* a stream of numbered packets; clients 1.. read it all, client 0 never reads */
    uint8_t pkt[PKT];
    uint32_t sent_pkts = 0;
    ts_fanout_mark_keyframe(f);
    for (int round = 0; round < 400; round++) {
        for (int k = 0; k < 200; k++, sent_pkts++) {
            memset(pkt, 0, sizeof(pkt));
            pkt[0] = 0x47;
            memcpy(pkt + 4, &sent_pkts, sizeof(sent_pkts));
            ts_fanout_append(f, pkt, sizeof(pkt));
        }
        ts_fanout_commit(f);
        for (int i = 1; i < CLIENTS; i++)
            reader_drain(&readers[i], fds[i]);
        sleep_ms(2);
    }
    int complete = 0;
    for (int pass = 0; pass < 2000 && !complete; pass++) {
        complete = 1;
        for (int i = 1; i < CLIENTS; i++) {
            reader_drain(&readers[i], fds[i]);
            complete &= readers[i].next == sent_pkts;
        }
        if (!complete)
            sleep_ms(10);
    }
    int order_ok = 1;
    for (int i = 1; i < CLIENTS; i++)
        order_ok &= readers[i].order_ok;
    tap_ok(order_ok && complete,
           "49 reading clients received all %u packets, in order, through growing queues",
           sent_pkts);
    st = wait_stats(f, one_left);
    tap_ok(st.clients == CLIENTS - 1 && st.disconnects >= 1,
           "the client that never reads outgrew the 4 MiB bound (%u packets = %u bytes) and was "
           "dropped (%u clients left)",
           sent_pkts, sent_pkts * PKT, st.clients);
    for (int i = 0; i < CLIENTS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    st = wait_stats(f, none_left);
    tap_ok(st.clients == 0 && st.queue_bytes == 0,
           "when every client has left, no queue memory is held (%llu bytes)",
           (unsigned long long)st.queue_bytes);
    ts_fanout_stop(f, NULL);
    return tap_done();
}
