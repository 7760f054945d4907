/**
 * @file host/evidence/evidence_link.c
 * @short One session's delivery: connect with Hello, replay from the ack
 *        mark, send in order, take acks, back off after a failed call.
 */
#include "evidence/evidence_link.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <retrovue/error.h>

#include "core/log.h"
#include "evidence/evidence_record.h"

#define LOG_MOD "evidence"
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define PERSIST_EVERY_MS 200

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void evidence_link_init(evidence_link *link, evidence_spool *spool, evidence_stream *stream,
                        const char *channel_id, const char *session_id, const char *endpoint)
{
    link->spool = spool;
    link->stream = stream;
    snprintf(link->channel_id, sizeof(link->channel_id), "%s", channel_id);
    snprintf(link->session_id, sizeof(link->session_id), "%s", session_id);
    link->endpoint = endpoint;
    link->core_acked = evidence_spool_acked(spool);
    link->next_send = link->core_acked + 1;
    link->backoff_ms = BACKOFF_MIN_MS;
    link->next_connect_ms = mono_ms();
    link->failures = 0;
    link->persisted = link->core_acked;
    link->persist_due_ms = 0;
}

int evidence_link_all_acked(const evidence_link *link)
{
    return link->core_acked >= evidence_spool_last(link->spool);
}

static void link_connect(evidence_link *link)
{
    size_t len = 0;
    uint8_t *hello = evidence_hello_pack(link->channel_id, link->session_id,
                                         evidence_spool_first(link->spool),
                                         evidence_spool_last(link->spool), &len);
    if (!hello || evidence_stream_open(link->stream, hello, len) != RV_OK)
        link->next_connect_ms = mono_ms() + link->backoff_ms;
    free(hello);
    link->next_send = link->core_acked + 1; /* replay what Core has not acked */
}

static void link_send_next(evidence_link *link)
{
    while (link->next_send <= evidence_spool_last(link->spool)) {
        evidence_record r;
        uint64_t seq = link->next_send++;
        if (evidence_spool_read(link->spool, seq, &r) != RV_OK)
            continue; /* logged; a line that cannot be read back cannot be sent */
        size_t len = 0;
        uint8_t *buf = evidence_record_pack(&r, link->channel_id, link->session_id, &len);
        if (buf)
            evidence_stream_send(link->stream, buf, len);
        free(buf);
        return;
    }
}

void evidence_link_step(evidence_link *link, int64_t now_ms, int no_connect, int close_when_done)
{
    evidence_stream_state st = evidence_stream_get_state(link->stream);
    if (st == EVIDENCE_STREAM_IDLE && !no_connect && now_ms >= link->next_connect_ms)
        link_connect(link);
    if (!evidence_stream_can_send(link->stream))
        return;
    if (link->next_send <= evidence_spool_last(link->spool))
        link_send_next(link);
    else if (close_when_done && evidence_link_all_acked(link))
        evidence_stream_close_send(link->stream);
}

static void on_ack(evidence_link *link, const evidence_stream_event *ev)
{
    if (ev->error[0]) {
        log_write(RV_LOG_WARN, -1, LOG_MOD, "session %s: Core refused sequence %" PRIu64 ": %s",
                  link->session_id, ev->acked, ev->error);
    } else if (ev->acked > evidence_spool_last(link->spool)) {
        log_write(RV_LOG_WARN, -1, LOG_MOD,
                  "session %s: Core acked %" PRIu64 ", past the last sequence %" PRIu64
                  "; ignored",
                  link->session_id, ev->acked, evidence_spool_last(link->spool));
    } else if (ev->acked > link->core_acked) {
        link->core_acked = ev->acked;
    }
    if (link->failures > 0) {
        log_write(RV_LOG_INFO, -1, LOG_MOD, "session %s: connected to Core at %s",
                  link->session_id, link->endpoint);
        link->failures = 0;
    }
    link->backoff_ms = BACKOFF_MIN_MS;
}

static void on_finished(evidence_link *link, const evidence_stream_event *ev)
{
    if (ev->acks_received == 0) {
        rv_log_level lvl = link->failures == 0 ? RV_LOG_WARN : RV_LOG_DEBUG;
        log_write(lvl, -1, LOG_MOD,
                  "session %s: Core at %s unreachable (status %d: %s); spooling to %s, "
                  "retrying in %d ms",
                  link->session_id, link->endpoint, ev->status, ev->detail,
                  evidence_spool_path(link->spool), link->backoff_ms);
        link->failures++;
    } else {
        log_write(RV_LOG_INFO, -1, LOG_MOD,
                  "session %s: evidence stream to %s ended (status %d: %s); acked %" PRIu64
                  " of %" PRIu64,
                  link->session_id, link->endpoint, ev->status, ev->detail, link->core_acked,
                  evidence_spool_last(link->spool));
        link->failures = 1;
    }
    link->next_connect_ms = mono_ms() + link->backoff_ms;
    link->backoff_ms = link->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : link->backoff_ms * 2;
}

void evidence_link_flush(evidence_link *link)
{
    if (link->core_acked <= link->persisted)
        return;
    if (evidence_spool_set_acked(link->spool, link->core_acked) == RV_OK)
        link->persisted = link->core_acked;
    link->persist_due_ms = mono_ms() + PERSIST_EVERY_MS;
}

void evidence_link_poll(evidence_link *link, int timeout_ms)
{
    evidence_stream_event ev;
    int ended = 0;
    while (evidence_stream_poll(link->stream, timeout_ms, &ev)) {
        if (ev.what == EVIDENCE_STREAM_ACK)
            on_ack(link, &ev);
        else if (ev.what == EVIDENCE_STREAM_FINISHED) {
            on_finished(link, &ev);
            ended = 1;
        }
        timeout_ms = 0; /* drain what is ready, then return */
    }
    if (ended || evidence_link_all_acked(link) || mono_ms() >= link->persist_due_ms)
        evidence_link_flush(link);
}
