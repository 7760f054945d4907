/**
 * @file host/telemetry/http_hls.c
 * @short HLS segmenters and their playlists (see http_hls.h).
 *
 * Locking: the registry mutex guards the list of segmenters; each segmenter's
 * mutex guards its segments; `cond` wakes a request waiting for the first
 * segment. Requests copy a segment out under the lock (a segment is a few
 * hundred KB to a few MB), so the segmenter never waits for a client.
 */
#include "telemetry/http_hls.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <retrovue/encoder.h>

#include "core/log.h"
#include "core/stream_hub.h"
#include "telemetry/text_buffer.h"
#include "core/thread_name.h"

/** Segments kept past the window, for clients still fetching them. */
#define HLS_KEEP_EXTRA 3
#define HLS_KEEP (HLS_WINDOW_SEGMENTS + HLS_KEEP_EXTRA)
/** The segmenter may fall this far behind its rendition (bytes). */
#define HLS_QUEUE_BYTES (16u * 1024u * 1024u)
/** How long a first playlist request waits for a segment (s). */
#define HLS_FIRST_WAIT_S (4 * HLS_TARGET_S + 2)

typedef struct hls_segment {
    uint64_t seq;
    uint8_t *data;          /**< owned */
    size_t len;
    size_t cap;
    int64_t first_utc_ms;   /**< channel UTC of its first tick */
    double duration_s;
} hls_segment;

typedef struct hls_stream {
    int32_t id;
    stream_sub *sub;             /**< the segmenter thread's */
    pthread_t thread;
    atomic_int stop;
    atomic_int ended;            /**< the thread left (channel stopped or idle) */
    atomic_llong last_poll_ms;   /**< monotonic ms of the last playlist request */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    hls_segment done[HLS_KEEP];  /**< ring of finished segments, by seq % HLS_KEEP */
    uint64_t next_seq;           /**< seq of the segment being built */
    uint64_t done_count;         /**< segments finished so far */
    hls_segment cur;             /**< being built (segmenter thread only) */
    int have_cur;
    int refs;                    /**< registry lock: the list's one + requests using it */
    struct hls_stream *next;
} hls_stream;

struct http_hls {
    engine *e;
    pthread_mutex_t lock;
    hls_stream *streams;
};

static int64_t hls_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int http_hls_parse_segment(const char *url, int32_t *id, uint64_t *seq)
{
    unsigned long long a = 0;
    unsigned long long b = 0;
    int n = 0;
    if (sscanf(url, "/channel/%10llu/%19llu.ts%n", &a, &b, &n) != 2 || url[n] != '\0' || a == 0 ||
        a > INT32_MAX || strncmp(url, "/channel/", 9) != 0 || url[9] < '0' || url[9] > '9')
        return 0;
    *id = (int32_t)a;
    *seq = (uint64_t)b;
    return 1;
}

static int seg_append(hls_segment *s, const uint8_t *data, size_t len)
{
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 256 * 1024;
        while (cap < s->len + len)
            cap *= 2;
        uint8_t *grown = realloc(s->data, cap);
        if (!grown)
            return RV_ENOMEM;
        s->data = grown;
        s->cap = cap;
    }
    memcpy(s->data + s->len, data, len);
    s->len += len;
    return RV_OK;
}

/* Publish the segment being built, ending at @p end_utc_ms. Segmenter thread. */
static void hls_finish(hls_stream *st, int64_t end_utc_ms)
{
    st->cur.duration_s = (double)(end_utc_ms - st->cur.first_utc_ms) / 1000.0;
    pthread_mutex_lock(&st->lock);
    hls_segment *slot = &st->done[st->cur.seq % HLS_KEEP];
    free(slot->data);
    *slot = st->cur;
    st->done_count++;
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->lock);
    memset(&st->cur, 0, sizeof(st->cur));
    st->have_cur = 0;
}

static void *hls_main(void *arg)
{
    hls_stream *st = arg;
    thread_name_self("rv-hls-%d", st->id);
    while (!atomic_load(&st->stop)) {
        if (hls_mono_ms() - atomic_load(&st->last_poll_ms) > HLS_IDLE_S * 1000LL)
            break; /* nobody watches: stop cutting */
        stream_chunk *c = NULL;
        int resync = 0;
        int rc = stream_sub_next(st->sub, 200LL * 1000 * 1000, &c, &resync);
        if (rc == RV_EOF || rc == RV_EIO)
            break;
        if (rc != RV_OK)
            continue;
        int ra = (c->flags & RV_STREAM_RANDOM_ACCESS) != 0;
        if (resync && st->have_cur) {
            free(st->cur.data); /* a gap: the half-built segment is unusable */
            memset(&st->cur, 0, sizeof(st->cur));
            st->have_cur = 0;
        }
        if (ra && st->have_cur &&
            c->utc_ms - st->cur.first_utc_ms >= (int64_t)HLS_TARGET_S * 1000)
            hls_finish(st, c->utc_ms);
        if (!st->have_cur && ra) {
            st->cur.seq = st->next_seq++;
            st->cur.first_utc_ms = c->utc_ms;
            st->have_cur = 1;
        }
        if (st->have_cur && seg_append(&st->cur, c->data, c->len) != RV_OK) {
            free(st->cur.data);
            memset(&st->cur, 0, sizeof(st->cur));
            st->have_cur = 0;
        }
        stream_chunk_unref(c);
    }
    atomic_store(&st->ended, 1);
    pthread_mutex_lock(&st->lock);
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

static void hls_stream_free(hls_stream *st)
{
    atomic_store(&st->stop, 1);
    pthread_join(st->thread, NULL);
    stream_sub_close(st->sub);
    free(st->cur.data);
    for (int i = 0; i < HLS_KEEP; i++)
        free(st->done[i].data);
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->cond);
    free(st);
}

http_hls *http_hls_create(engine *e)
{
    http_hls *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->e = e;
    pthread_mutex_init(&h->lock, NULL);
    return h;
}

void http_hls_destroy(http_hls *h)
{
    if (!h)
        return;
    while (h->streams) {
        hls_stream *st = h->streams;
        h->streams = st->next;
        hls_stream_free(st); /* the server stopped: no request holds one */
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
}

/* The live segmenter of channel @p id, made when missing or ended. Registry
 * lock held. *@p rc: RV_OK, RV_ENOENT, RV_ENOTSUP or RV_ENOMEM. */
static hls_stream *hls_get(http_hls *h, int32_t id, int create, int *rc)
{
    *rc = RV_OK;
    for (hls_stream **p = &h->streams; *p; p = &(*p)->next) {
        hls_stream *st = *p;
        if (st->id != id)
            continue;
        if (!atomic_load(&st->ended)) {
            st->refs++;
            return st;
        }
        *p = st->next; /* its channel stopped or it idled out: replace it */
        if (--st->refs == 0)
            hls_stream_free(st); /* else the last request using it frees it */
        break;
    }
    if (!create) {
        *rc = RV_ENOENT;
        return NULL;
    }
    stream_hub *hub = NULL;
    if ((*rc = engine_channel_stream(h->e, id, &hub)) != RV_OK)
        return NULL;
    hls_stream *st = calloc(1, sizeof(*st));
    if (st)
        st->sub = stream_hub_subscribe(hub, HLS_QUEUE_BYTES, STREAM_SUB_DROP, 1);
    stream_hub_unref(hub);
    if (!st || !st->sub) {
        free(st);
        *rc = st ? RV_ENOENT : RV_ENOMEM;
        return NULL;
    }
    st->id = id;
    atomic_store(&st->last_poll_ms, hls_mono_ms());
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->cond, NULL);
    if (pthread_create(&st->thread, NULL, hls_main, st) != 0) {
        stream_sub_close(st->sub);
        pthread_mutex_destroy(&st->lock);
        pthread_cond_destroy(&st->cond);
        free(st);
        *rc = RV_ENOMEM;
        return NULL;
    }
    st->refs = 2; /* the list's and the caller's */
    st->next = h->streams;
    h->streams = st;
    log_write(RV_LOG_INFO, id, NULL, "hls: segmenting the channel's stream (%d s segments)",
              HLS_TARGET_S);
    return st;
}

/* A request is done with @p st. */
static void hls_put(http_hls *h, hls_stream *st)
{
    pthread_mutex_lock(&h->lock);
    int last = --st->refs == 0;
    pthread_mutex_unlock(&h->lock);
    if (last)
        hls_stream_free(st);
}

static void hls_utc_text(int64_t utc_ms, char *buf, size_t len)
{
    time_t secs = (time_t)(utc_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", base, (int)(utc_ms % 1000));
}

int http_hls_playlist(http_hls *h, int32_t id, http_reply *out)
{
    int rc;
    pthread_mutex_lock(&h->lock);
    hls_stream *st = hls_get(h, id, 1, &rc);
    if (st)
        atomic_store(&st->last_poll_ms, hls_mono_ms());
    pthread_mutex_unlock(&h->lock);
    if (!st) {
        if (rc == RV_ENOENT)
            return http_reply_text(out, 404, "channel not running\n");
        if (rc == RV_ENOTSUP)
            return http_reply_text(out, 503, "channel has no MPEG-TS output (bind a transport)\n");
        return rc;
    }
    text_buffer tb;
    text_buffer_init(&tb);
    pthread_mutex_lock(&st->lock);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += HLS_FIRST_WAIT_S;
    while (st->done_count == 0 && !atomic_load(&st->ended))
        if (pthread_cond_timedwait(&st->cond, &st->lock, &deadline) != 0)
            break;
    uint64_t count = st->done_count;
    if (count == 0) {
        pthread_mutex_unlock(&st->lock);
        text_buffer_free(&tb);
        hls_put(h, st);
        return http_reply_text(out, 503, "no segment yet; try again\n");
    }
    uint64_t first = count > HLS_WINDOW_SEGMENTS ? count - HLS_WINDOW_SEGMENTS : 0;
    double target = HLS_TARGET_S;
    for (uint64_t q = first; q < count; q++)
        if (st->done[q % HLS_KEEP].duration_s > target)
            target = st->done[q % HLS_KEEP].duration_s;
    text_buffer_printf(&tb,
                       "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n"
                       "#EXT-X-MEDIA-SEQUENCE:%" PRIu64 "\n",
                       (int)(target + 0.999), first);
    for (uint64_t q = first; q < count; q++) {
        const hls_segment *sg = &st->done[q % HLS_KEEP];
        char when[40];
        hls_utc_text(sg->first_utc_ms, when, sizeof(when));
        text_buffer_printf(&tb, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:%.3f,\n%d/%" PRIu64 ".ts\n",
                           when, sg->duration_s, id, sg->seq);
    }
    pthread_mutex_unlock(&st->lock);
    hls_put(h, st);
    size_t len = 0;
    char *body = text_buffer_take(&tb, &len);
    text_buffer_free(&tb);
    if (!body)
        return RV_ENOMEM;
    out->status = 200;
    out->content_type = "application/vnd.apple.mpegurl";
    out->body = body;
    out->len = len;
    return RV_OK;
}

int http_hls_segment(http_hls *h, int32_t id, uint64_t seq, http_reply *out)
{
    int rc;
    pthread_mutex_lock(&h->lock);
    hls_stream *st = hls_get(h, id, 0, &rc);
    pthread_mutex_unlock(&h->lock);
    if (!st)
        return http_reply_text(out, 404, "no HLS stream for this channel\n");
    pthread_mutex_lock(&st->lock);
    const hls_segment *sg = &st->done[seq % HLS_KEEP];
    int have = seq < st->done_count && sg->seq == seq && sg->data;
    char *copy = have ? malloc(sg->len ? sg->len : 1) : NULL;
    if (copy)
        memcpy(copy, sg->data, sg->len);
    size_t len = have ? sg->len : 0;
    pthread_mutex_unlock(&st->lock);
    hls_put(h, st);
    if (!have)
        return http_reply_text(out, 404, "segment not in the live window\n");
    if (!copy)
        return RV_ENOMEM;
    out->status = 200;
    out->content_type = "video/mp2t";
    out->body = copy;
    out->len = len;
    out->cache_control = "max-age=60";
    return RV_OK;
}
