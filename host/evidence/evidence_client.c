/**
 * @file host/evidence/evidence_client.c
 * @short The evidence client: a bounded queue filled by emit, and one thread
 *        that owns the spools, the streams and their links and runs the loop
 *        queue -> spool (fsync) -> send, acks -> .ack file, reconnect with
 *        backoff, the drain at stop, and the delivery of earlier sessions'
 *        unacked spools of the same channel (the backlog).
 *
 * Sequence numbers and emission times are given at emit (under the queue's
 * lock, so they follow the caller's order and a dropped event takes no
 * number); the UUID is drawn when the record is spooled, and never again.
 *
 * The backlog: a process that restarts starts new sessions, so what an
 * earlier session spooled and Core never acked would otherwise stay on disk
 * (RetroVue's spool contract, SP-CRASH-001, asks that it be offered). The
 * spools of other sessions found in <spool_dir>/<channel>/ at start are
 * opened one at a time and delivered on a second call beside the live one;
 * fully acked ones are skipped. Stop waits for the backlog within the same
 * grace; what is left stays on disk for the next start.
 */
#include "evidence/evidence_client.h"

#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <retrovue/error.h>

#include "core/clock.h"
#include "core/log.h"
#include "evidence/evidence_link.h"
#include "evidence/evidence_record.h"
#include "evidence/evidence_spool.h"
#include "evidence/evidence_stream.h"
#include "core/thread_name.h"

#define LOG_MOD "evidence"
#define QUEUE_CAP 256           /* events emitted and not yet spooled */
#define POLL_MS 10              /* how long the thread waits on a call */
#define APPEND_RETRY_MS 200     /* after a failed spool write */
#define SPOOL_SUFFIX ".spool.jsonl"

struct evidence_client {
    char endpoint[256];
    char channel_id[129];
    char session_id[129];
    char spool_dir[PATH_MAX];

    /* The thread's own: */
    evidence_spool *spool;
    evidence_stream *stream;
    evidence_link link;
    evidence_record *pending; /* taken from the queue, not yet spooled */
    size_t pending_count;
    int64_t retry_append_ms;
    char **backlog;           /* earlier sessions of the channel, to check */
    size_t backlog_count;
    size_t backlog_next;
    evidence_spool *old_spool;   /* the backlog session being delivered */
    evidence_stream *old_stream; /* its call, created on first need */
    evidence_link old_link;

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

/* ---- the thread: the live session --------------------------------------- */

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

/* Spool what was taken, as one batch (one fsync); keep it after a failure. */
static void spool_pending(evidence_client *ec, int64_t now)
{
    if (now < ec->retry_append_ms || ec->pending_count == 0)
        return;
    for (size_t i = 0; i < ec->pending_count; i++) {
        evidence_record *r = &ec->pending[i];
        if (!r->event_uuid[0] && evidence_uuid_v4(r->event_uuid) != RV_OK) {
            ec->retry_append_ms = now + APPEND_RETRY_MS;
            return;
        }
        evidence_event_sanitize(&r->ev);
    }
    int rc = evidence_spool_append_many(ec->spool, ec->pending, ec->pending_count);
    if (rc == RV_EINVAL) {
        /* Cannot happen: sequences are given under the queue lock from the
         * spool's last + 1. Say so loudly rather than spin. */
        log_write(RV_LOG_ERROR, -1, LOG_MOD,
                  "session %s: sequences %" PRIu64 "..%" PRIu64 " do not follow the spool's %"
                  PRIu64 "; %zu events dropped",
                  ec->session_id, ec->pending[0].sequence,
                  ec->pending[ec->pending_count - 1].sequence, evidence_spool_last(ec->spool),
                  ec->pending_count);
        atomic_fetch_add(&ec->dropped, ec->pending_count);
    } else if (rc != RV_OK) {
        ec->retry_append_ms = now + APPEND_RETRY_MS;
        return;
    }
    ec->pending_count = 0;
}

/* ---- the thread: the backlog -------------------------------------------- */

/* Open the next backlog session that Core has not fully acked. */
static void backlog_open_next(evidence_client *ec)
{
    while (!ec->old_spool && ec->backlog_next < ec->backlog_count) {
        const char *name = ec->backlog[ec->backlog_next++];
        char err[512] = "";
        evidence_spool *sp = evidence_spool_open(ec->spool_dir, ec->channel_id, name, err,
                                                 sizeof(err));
        if (!sp) {
            log_write(RV_LOG_WARN, -1, LOG_MOD, "earlier session %s not delivered: %s", name,
                      err);
            continue;
        }
        if (evidence_spool_acked(sp) >= evidence_spool_last(sp)) {
            evidence_spool_close(sp);
            continue;
        }
        if (!ec->old_stream) {
            ec->old_stream = evidence_stream_create(ec->endpoint, err, sizeof(err));
            if (!ec->old_stream) {
                evidence_spool_close(sp);
                ec->backlog_next = ec->backlog_count;
                return;
            }
        }
        log_write(RV_LOG_INFO, -1, LOG_MOD,
                  "earlier session %s: delivering sequences %" PRIu64 "..%" PRIu64
                  " Core has not acked",
                  name, evidence_spool_acked(sp) + 1, evidence_spool_last(sp));
        ec->old_spool = sp;
        evidence_link_init(&ec->old_link, sp, ec->old_stream, ec->channel_id, name,
                           ec->endpoint);
    }
}

static void backlog_step(evidence_client *ec, int64_t now, int late)
{
    if (late) {
        if (ec->old_stream)
            evidence_stream_cancel(ec->old_stream);
        return;
    }
    backlog_open_next(ec);
    if (!ec->old_spool)
        return;
    if (evidence_link_all_acked(&ec->old_link) &&
        evidence_stream_get_state(ec->old_stream) == EVIDENCE_STREAM_IDLE) {
        log_write(RV_LOG_INFO, -1, LOG_MOD, "earlier session %s: Core has all of it",
                  ec->old_link.session_id);
        evidence_spool_close(ec->old_spool);
        ec->old_spool = NULL;
        return;
    }
    evidence_link_step(&ec->old_link, now, evidence_link_all_acked(&ec->old_link), 1);
}

static int backlog_in_call(const evidence_client *ec)
{
    return ec->old_stream && evidence_stream_get_state(ec->old_stream) != EVIDENCE_STREAM_IDLE;
}

static int backlog_done(const evidence_client *ec)
{
    return !ec->old_spool && ec->backlog_next >= ec->backlog_count;
}

/* ---- the thread --------------------------------------------------------- */

/* Sleep until something is queued, stop is asked, or @p until_ms. */
static void idle_wait(evidence_client *ec, int64_t until_ms)
{
    int64_t wait = until_ms - mono_ms();
    if (wait <= 0)
        return;
    if (wait > 1000)
        wait = 1000;
    struct timespec ts = clock_wait_deadline(CLOCK_MONOTONIC, (int64_t)wait * 1000000);
    pthread_mutex_lock(&ec->mu);
    if (ec->count == 0 && !ec->stopping)
        pthread_cond_timedwait(&ec->cv, &ec->mu, &ts);
    pthread_mutex_unlock(&ec->mu);
}

static int queue_empty(evidence_client *ec)
{
    pthread_mutex_lock(&ec->mu);
    int empty = ec->count == 0;
    pthread_mutex_unlock(&ec->mu);
    return empty;
}

static void *client_main(void *arg)
{
    evidence_client *ec = arg;
    thread_name_self("rv-evidence");
    for (;;) {
        int stopping;
        int64_t deadline;
        take_queue(ec, &stopping, &deadline);
        int64_t now = mono_ms();
        spool_pending(ec, now);
        int all_acked = ec->pending_count == 0 && evidence_link_all_acked(&ec->link);
        int late = stopping && now >= deadline;
        int in_call = evidence_stream_get_state(ec->stream) != EVIDENCE_STREAM_IDLE;

        if (stopping && !in_call && !backlog_in_call(ec) &&
            ((all_acked && backlog_done(ec) && queue_empty(ec)) || late))
            break;
        if (late)
            evidence_stream_cancel(ec->stream);
        else
            evidence_link_step(&ec->link, now, stopping && all_acked, stopping);
        backlog_step(ec, now, late);

        in_call = evidence_stream_get_state(ec->stream) != EVIDENCE_STREAM_IDLE;
        int old_call = backlog_in_call(ec);
        if (in_call)
            evidence_link_poll(&ec->link, old_call ? POLL_MS / 2 : POLL_MS);
        if (old_call)
            evidence_link_poll(&ec->old_link, in_call ? 0 : POLL_MS);
        if (!in_call && !old_call) {
            int64_t until = ec->link.next_connect_ms;
            if (ec->old_spool && ec->old_link.next_connect_ms < until)
                until = ec->old_link.next_connect_ms;
            if (stopping && deadline < until)
                until = deadline;
            if (ec->pending_count && ec->retry_append_ms < until)
                until = ec->retry_append_ms;
            idle_wait(ec, until);
        }
        atomic_store(&ec->acked, ec->link.core_acked);
    }
    evidence_link_flush(&ec->link);
    if (ec->old_spool)
        evidence_link_flush(&ec->old_link);
    if (ec->pending_count)
        log_write(RV_LOG_ERROR, -1, LOG_MOD,
                  "session %s: %zu evidence events could not be spooled and are lost",
                  ec->session_id, ec->pending_count);
    return NULL;
}

/* ---- public ----------------------------------------------------------- */

/* The other sessions' spools in <spool_dir>/<channel>/, oldest name first. */
static void find_backlog(evidence_client *ec)
{
    char folder[PATH_MAX];
    snprintf(folder, sizeof(folder), "%s/%s", ec->spool_dir, ec->channel_id);
    struct dirent **names = NULL;
    int n = scandir(folder, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *f = names[i]->d_name;
        size_t len = strlen(f);
        size_t sl = strlen(SPOOL_SUFFIX);
        if (len > sl && strcmp(f + len - sl, SPOOL_SUFFIX) == 0 &&
            !(len - sl == strlen(ec->session_id) && strncmp(f, ec->session_id, len - sl) == 0)) {
            char **grown = realloc(ec->backlog, (ec->backlog_count + 1) * sizeof(*grown));
            char *name = strndup(f, len - sl);
            if (grown)
                ec->backlog = grown;
            if (grown && name)
                ec->backlog[ec->backlog_count++] = name;
            else
                free(name);
        }
        free(names[i]);
    }
    free(names);
}

static void client_free(evidence_client *ec)
{
    evidence_stream_destroy(ec->stream);
    evidence_stream_destroy(ec->old_stream);
    evidence_spool_close(ec->spool);
    evidence_spool_close(ec->old_spool);
    for (size_t i = 0; i < ec->backlog_count; i++)
        free(ec->backlog[i]);
    free(ec->backlog);
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
    snprintf(ec->spool_dir, sizeof(ec->spool_dir), "%s", cfg->spool_dir);
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
    evidence_link_init(&ec->link, ec->spool, ec->stream, ec->channel_id, ec->session_id,
                       ec->endpoint);
    find_backlog(ec);
    ec->next_seq = evidence_spool_last(ec->spool) + 1;
    atomic_init(&ec->acked, ec->link.core_acked);
    atomic_init(&ec->dropped, 0);
    if (pthread_create(&ec->thread, NULL, client_main, ec) != 0) {
        snprintf(err, errlen, "evidence: cannot start the client thread");
        goto fail;
    }
    log_write(RV_LOG_INFO, -1, LOG_MOD,
              "session %s: evidence to %s, spool %s (%" PRIu64 " records, %" PRIu64
              " acked; %zu earlier sessions to check)",
              ec->session_id, ec->endpoint, evidence_spool_path(ec->spool),
              evidence_spool_last(ec->spool), ec->link.core_acked, ec->backlog_count);
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
    log_write(RV_LOG_INFO, -1, LOG_MOD,
              "session %s: evidence client stopped; %" PRIu64 " of %" PRIu64
              " acked, the rest stays in %s",
              ec->session_id, ec->link.core_acked, evidence_spool_last(ec->spool),
              evidence_spool_path(ec->spool));
    client_free(ec);
}
