/**
 * @file host/evidence/evidence_client.c
 * @short The evidence client: a bounded queue filled by emit, and one thread
 *        that owns the spool and the stream and runs the loop
 *        queue -> spool (fsync) -> send, acks -> .ack file, reconnect with
 *        backoff, and the drain at stop.
 *
 * Sequence numbers and emission times are given at emit (under the queue's
 * lock, so they follow the caller's order and a dropped event takes no
 * number); the UUID is drawn when the record is spooled, and never again.
 */
#include "evidence/evidence_client.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <retrovue/error.h>

#include "core/log.h"
#include "evidence/evidence_record.h"
#include "evidence/evidence_spool.h"
#include "evidence/evidence_stream.h"

#define LOG_MOD "evidence"
#define QUEUE_CAP 256           /* events emitted and not yet spooled */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define POLL_MS 10              /* how long the thread waits on the call */
#define APPEND_RETRY_MS 200     /* after a failed spool write */

struct evidence_client {
    char endpoint[256];
    char channel_id[129];
    char session_id[129];

    /* The thread's own: */
    evidence_spool *spool;
    evidence_stream *stream;
    evidence_record *pending; /* taken from the queue, not yet spooled */
    size_t pending_count;
    uint64_t core_acked;
    uint64_t next_send;
    int backoff_ms;
    int64_t next_connect_ms;  /* CLOCK_MONOTONIC */
    int64_t retry_append_ms;
    int failures;             /* calls in a row that got no ack */

    /* Shared, under mu: */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    evidence_record *queue;
    size_t head;
    size_t count;
    uint64_t next_seq;
    int stopping;
    int64_t deadline_ms;      /* CLOCK_MONOTONIC; valid when stopping */

    atomic_uint_fast64_t acked;
    atomic_uint_fast64_t dropped;
    pthread_t thread;
};

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int64_t utc_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- the thread ------------------------------------------------------- */

static void take_queue(evidence_client *ec, int *stopping, int64_t *deadline)
{
    pthread_mutex_lock(&ec->mu);
    while (ec->count > 0 && ec->pending_count < QUEUE_CAP) {
        ec->pending[ec->pending_count++] = ec->queue[ec->head];
        ec->head = (ec->head + 1) % QUEUE_CAP;
        ec->count--;
    }
    *stopping = ec->stopping;
    *deadline = ec->deadline_ms;
    pthread_mutex_unlock(&ec->mu);
}

/* Spool what was taken, in order; keep the rest after a failure. */
static void spool_pending(evidence_client *ec, int64_t now)
{
    if (now < ec->retry_append_ms)
        return;
    size_t done = 0;
    for (; done < ec->pending_count; done++) {
        evidence_record *r = &ec->pending[done];
        if (!r->event_uuid[0] && evidence_uuid_v4(r->event_uuid) != RV_OK)
            break;
        evidence_event_sanitize(&r->ev);
        int rc = evidence_spool_append(ec->spool, r);
        if (rc == RV_EINVAL) {
            log_write(RV_LOG_ERROR, -1, LOG_MOD, "session %s: sequence %" PRIu64
                      " does not follow the spool's %" PRIu64 "; event dropped",
                      ec->session_id, r->sequence, evidence_spool_last(ec->spool));
            atomic_fetch_add(&ec->dropped, 1);
            continue;
        }
        if (rc != RV_OK) {
            ec->retry_append_ms = now + APPEND_RETRY_MS;
            break;
        }
    }
    memmove(ec->pending, ec->pending + done, (ec->pending_count - done) * sizeof(*ec->pending));
    ec->pending_count -= done;
}

static void connect_now(evidence_client *ec)
{
    size_t len = 0;
    uint8_t *hello = evidence_hello_pack(ec->channel_id, ec->session_id,
                                         evidence_spool_first(ec->spool),
                                         evidence_spool_last(ec->spool), &len);
    if (!hello || evidence_stream_open(ec->stream, hello, len) != RV_OK)
        ec->next_connect_ms = mono_ms() + ec->backoff_ms;
    free(hello);
    ec->next_send = ec->core_acked + 1; /* replay what Core has not acked */
}

static void send_next(evidence_client *ec)
{
    while (ec->next_send <= evidence_spool_last(ec->spool)) {
        evidence_record r;
        uint64_t seq = ec->next_send++;
        if (evidence_spool_read(ec->spool, seq, &r) != RV_OK)
            continue; /* logged; a line that cannot be read back cannot be sent */
        size_t len = 0;
        uint8_t *buf = evidence_record_pack(&r, ec->channel_id, ec->session_id, &len);
        if (buf)
            evidence_stream_send(ec->stream, buf, len);
        free(buf);
        return;
    }
}

static void on_event(evidence_client *ec, const evidence_stream_event *ev)
{
    if (ev->what == EVIDENCE_STREAM_ACK) {
        if (ev->error[0]) {
            log_write(RV_LOG_WARN, -1, LOG_MOD, "session %s: Core refused sequence %" PRIu64
                      ": %s", ec->session_id, ev->acked, ev->error);
        } else if (ev->acked > evidence_spool_last(ec->spool)) {
            log_write(RV_LOG_WARN, -1, LOG_MOD, "session %s: Core acked %" PRIu64
                      ", past the last sequence %" PRIu64 "; ignored", ec->session_id,
                      ev->acked, evidence_spool_last(ec->spool));
        } else if (ev->acked > ec->core_acked) {
            ec->core_acked = ev->acked;
        }
        if (ec->failures > 0) {
            log_write(RV_LOG_INFO, -1, LOG_MOD, "session %s: connected to Core at %s",
                      ec->session_id, ec->endpoint);
            ec->failures = 0;
        }
        ec->backoff_ms = BACKOFF_MIN_MS;
    } else if (ev->what == EVIDENCE_STREAM_FINISHED) {
        if (ev->acks_received == 0) {
            rv_log_level lvl = ec->failures == 0 ? RV_LOG_WARN : RV_LOG_DEBUG;
            log_write(lvl, -1, LOG_MOD,
                      "session %s: Core at %s unreachable (status %d: %s); spooling to %s, "
                      "retrying in %d ms",
                      ec->session_id, ec->endpoint, ev->status, ev->detail,
                      evidence_spool_path(ec->spool), ec->backoff_ms);
            ec->failures++;
        } else {
            log_write(RV_LOG_INFO, -1, LOG_MOD,
                      "session %s: evidence stream to %s ended (status %d: %s); acked %" PRIu64
                      " of %" PRIu64,
                      ec->session_id, ec->endpoint, ev->status, ev->detail, ec->core_acked,
                      evidence_spool_last(ec->spool));
            ec->failures = 1;
        }
        ec->next_connect_ms = mono_ms() + ec->backoff_ms;
        ec->backoff_ms = ec->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ec->backoff_ms * 2;
    }
}

/* Sleep until something is queued, stop is asked, or @p until_ms. */
static void idle_wait(evidence_client *ec, int64_t until_ms)
{
    int64_t wait = until_ms - mono_ms();
    if (wait <= 0)
        return;
    if (wait > 1000)
        wait = 1000;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += wait / 1000;
    ts.tv_nsec += (wait % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&ec->mu);
    if (ec->count == 0 && !ec->stopping)
        pthread_cond_timedwait(&ec->cv, &ec->mu, &ts);
    pthread_mutex_unlock(&ec->mu);
}

static void *client_main(void *arg)
{
    evidence_client *ec = arg;
    for (;;) {
        int stopping;
        int64_t deadline;
        take_queue(ec, &stopping, &deadline);
        int64_t now = mono_ms();
        spool_pending(ec, now);
        uint64_t last = evidence_spool_last(ec->spool);
        int all_acked = ec->pending_count == 0 && ec->core_acked >= last;
        int late = stopping && now >= deadline;
        evidence_stream_state st = evidence_stream_get_state(ec->stream);

        if (stopping && st == EVIDENCE_STREAM_IDLE && (all_acked || late)) {
            pthread_mutex_lock(&ec->mu);
            int empty = ec->count == 0;
            pthread_mutex_unlock(&ec->mu);
            if (empty || late)
                break;
        }
        if (st == EVIDENCE_STREAM_IDLE && now >= ec->next_connect_ms && !late &&
            !(stopping && all_acked))
            connect_now(ec);
        if (late)
            evidence_stream_cancel(ec->stream);
        else if (evidence_stream_can_send(ec->stream)) {
            if (ec->next_send <= last)
                send_next(ec);
            else if (stopping && all_acked)
                evidence_stream_close_send(ec->stream);
        }

        if (evidence_stream_get_state(ec->stream) == EVIDENCE_STREAM_IDLE) {
            int64_t until = ec->next_connect_ms;
            if (stopping && deadline < until)
                until = deadline;
            if (ec->pending_count && ec->retry_append_ms < until)
                until = ec->retry_append_ms;
            idle_wait(ec, until);
            continue;
        }
        uint64_t before = ec->core_acked;
        evidence_stream_event ev;
        int timeout = POLL_MS;
        while (evidence_stream_poll(ec->stream, timeout, &ev)) {
            on_event(ec, &ev);
            timeout = 0; /* drain what is ready, then go round */
        }
        if (ec->core_acked > before) {
            evidence_spool_set_acked(ec->spool, ec->core_acked);
            atomic_store(&ec->acked, ec->core_acked);
        }
    }
    if (ec->pending_count)
        log_write(RV_LOG_ERROR, -1, LOG_MOD,
                  "session %s: %zu evidence events could not be spooled and are lost",
                  ec->session_id, ec->pending_count);
    return NULL;
}

/* ---- public ----------------------------------------------------------- */

static void client_free(evidence_client *ec)
{
    evidence_stream_destroy(ec->stream);
    evidence_spool_close(ec->spool);
    pthread_cond_destroy(&ec->cv);
    pthread_mutex_destroy(&ec->mu);
    free(ec->queue);
    free(ec->pending);
    free(ec);
}

evidence_client *evidence_client_start(const evidence_client_config *cfg, char *err,
                                       size_t errlen)
{
    if (!cfg || !cfg->endpoint || !cfg->channel_id || !cfg->playout_session_id ||
        !cfg->spool_dir) {
        snprintf(err, errlen, "evidence: endpoint, channel_id, playout_session_id and "
                              "spool_dir are required");
        return NULL;
    }
    evidence_client *ec = calloc(1, sizeof(*ec));
    if (!ec) {
        snprintf(err, errlen, "evidence: out of memory");
        return NULL;
    }
    pthread_mutex_init(&ec->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ec->cv, &ca);
    pthread_condattr_destroy(&ca);
    snprintf(ec->endpoint, sizeof(ec->endpoint), "%s", cfg->endpoint);
    snprintf(ec->channel_id, sizeof(ec->channel_id), "%s", cfg->channel_id);
    snprintf(ec->session_id, sizeof(ec->session_id), "%s", cfg->playout_session_id);
    ec->queue = calloc(QUEUE_CAP, sizeof(*ec->queue));
    ec->pending = calloc(QUEUE_CAP, sizeof(*ec->pending));
    if (!ec->queue || !ec->pending) {
        snprintf(err, errlen, "evidence: out of memory");
        goto fail;
    }
    ec->spool = evidence_spool_open(cfg->spool_dir, cfg->channel_id, cfg->playout_session_id,
                                    err, errlen);
    if (!ec->spool)
        goto fail;
    ec->stream = evidence_stream_create(cfg->endpoint, err, errlen);
    if (!ec->stream)
        goto fail;
    ec->next_seq = evidence_spool_last(ec->spool) + 1;
    ec->core_acked = evidence_spool_acked(ec->spool);
    atomic_init(&ec->acked, ec->core_acked);
    atomic_init(&ec->dropped, 0);
    ec->next_send = ec->core_acked + 1;
    ec->backoff_ms = BACKOFF_MIN_MS;
    ec->next_connect_ms = mono_ms();
    if (pthread_create(&ec->thread, NULL, client_main, ec) != 0) {
        snprintf(err, errlen, "evidence: cannot start the client thread");
        goto fail;
    }
    log_write(RV_LOG_INFO, -1, LOG_MOD,
              "session %s: evidence to %s, spool %s (%" PRIu64 " records, %" PRIu64 " acked)",
              ec->session_id, ec->endpoint, evidence_spool_path(ec->spool),
              evidence_spool_last(ec->spool), ec->core_acked);
    return ec;
fail:
    client_free(ec);
    return NULL;
}

void evidence_client_emit(evidence_client *ec, const evidence_event *ev)
{
    if (!ec || !ev)
        return;
    pthread_mutex_lock(&ec->mu);
    if (ec->count == QUEUE_CAP || ec->stopping) {
        pthread_mutex_unlock(&ec->mu);
        uint64_t n = atomic_fetch_add(&ec->dropped, 1) + 1;
        if ((n & (n - 1)) == 0) /* 1, 2, 4, 8...: enough to see, never a flood */
            log_write(RV_LOG_WARN, -1, LOG_MOD,
                      "session %s: evidence queue full or stopping; %" PRIu64 " events dropped",
                      ec->session_id, n);
        return;
    }
    evidence_record *r = &ec->queue[(ec->head + ec->count) % QUEUE_CAP];
    memset(r, 0, sizeof(*r));
    r->ev = *ev;
    r->sequence = ec->next_seq++;
    evidence_utc_iso(utc_ms(), r->emitted_utc);
    ec->count++;
    pthread_cond_signal(&ec->cv);
    pthread_mutex_unlock(&ec->mu);
}

void evidence_client_counts(evidence_client *ec, uint64_t *emitted, uint64_t *acked,
                            uint64_t *dropped)
{
    if (!ec)
        return;
    if (emitted) {
        pthread_mutex_lock(&ec->mu);
        *emitted = ec->next_seq - 1;
        pthread_mutex_unlock(&ec->mu);
    }
    if (acked)
        *acked = atomic_load(&ec->acked);
    if (dropped)
        *dropped = atomic_load(&ec->dropped);
}

void evidence_client_stop(evidence_client *ec, int grace_ms)
{
    if (!ec)
        return;
    pthread_mutex_lock(&ec->mu);
    ec->stopping = 1;
    ec->deadline_ms = mono_ms() + (grace_ms > 0 ? grace_ms : 0);
    pthread_cond_signal(&ec->cv);
    pthread_mutex_unlock(&ec->mu);
    pthread_join(ec->thread, NULL);
    uint64_t emitted = 0;
    evidence_client_counts(ec, &emitted, NULL, NULL);
    log_write(RV_LOG_INFO, -1, LOG_MOD,
              "session %s: evidence client stopped; %" PRIu64 " of %" PRIu64
              " acked, the rest stays in %s",
              ec->session_id, ec->core_acked, evidence_spool_last(ec->spool),
              evidence_spool_path(ec->spool));
    client_free(ec);
}
