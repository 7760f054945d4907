/**
 * @file host/channel/channel_producer.c
 * @short The channel's producer thread (fills the ring, tick by tick, across
 *        seams) and its preload thread (opens, seeks and primes the next
 *        segment before its seam).
 *
 * The producer thread owns a producer_state: the plan and timeline position it
 * produces from, the open segment, and the recovery schedule. It never waits
 * on the output thread except for room in the ring. A plan swap arrives as a
 * new generation with a restart tick chosen by the output thread: frames of
 * older generations are valid below that tick, so a swap that keeps the
 * segment on air costs nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "channel/channel_fade.h"
#include "channel/channel_internal.h"
#include "core/log.h"
#include "core/thread_name.h"

/** What the producer is doing for the current segment. Never zero. */
typedef enum produce_mode {
    MODE_NONE = 1,  /**< nothing entered yet */
    MODE_READ = 2,  /**< reading an open segment (real content or slate) */
    MODE_PAD = 3    /**< black and silence */
} produce_mode;

typedef struct producer_state {
    int64_t gen;
    plan *plan;               /**< one reference */
    timeline_pos pos;
    int64_t t;                /**< next tick to produce */
    produce_mode mode;
    open_segment cur;
    rv_tick_source source;    /**< label of frames read from cur */
    int failed;               /**< cur is the slate standing in for a failure */
    int64_t retry_tick;       /**< INT64_MAX: no retry scheduled */
    int64_t backoff_ms;
    int preload_requested;
    plan *switch_plan;        /**< one reference; NULL when no swap pending */
    int64_t switch_tick;
} producer_state;

/** The next segment is opened at the latest this long before its seam. */
#define PRELOAD_LEAD_MS 3000
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 16000
#define RESTARTS_PER_MINUTE 5

static int64_t tick_utc_ms(const channel *ch, int64_t tick)
{
    return ch->epoch_utc_ms + rv_ticks_to_ns(ch->rate, tick) / 1000000;
}

static module_instance *producer_for_uri(channel *ch, const char *uri)
{
    for (size_t i = 0; i < ch->producer_count; i++)
        if (loaded_module_serves(ch->producers[i].mod, uri))
            return &ch->producers[i];
    return NULL;
}

void channel_open_segment_close(open_segment *seg)
{
    if (seg->handle)
        seg->producer->mod->producer.close(seg->handle);
    plan_unref(seg->plan);
    memset(seg, 0, sizeof(*seg));
}

/** Open @p uri on @p producer for ticks [first_tick, end_tick) of @p pos. */
static int segment_open(channel *ch, module_instance *producer, plan *p, const timeline_pos *pos,
                        const char *uri, int64_t first_tick, open_segment *out)
{
    const plan_segment *s = timeline_segment(p, pos);
    memset(out, 0, sizeof(*out));
    out->producer = producer;
    out->plan = plan_ref(p);
    out->req = (rv_segment_request){
        .struct_size = sizeof(rv_segment_request),
        .asset_uri = uri,
        .asset_start_offset_ms = s ? s->asset_start_offset_ms : 0,
        .join_offset_ns = timeline_offset_ns(pos, ch->epoch_utc_ms, ch->rate, first_tick),
        .first_tick = first_tick,
        .frame_count = pos->end_tick == INT64_MAX ? INT64_MAX - first_tick
                                                  : pos->end_tick - first_tick,
        .type = s ? s->type : RV_SEGMENT_CONTENT,
        .event_id = s ? s->event_id : "",
        .gain_db = s ? s->gain_db : 0.0,
        .transition_in = s ? s->transition_in : (rv_transition){RV_TRANSITION_NONE, 0},
        .transition_out = s ? s->transition_out : (rv_transition){RV_TRANSITION_NONE, 0},
        .first_tick_utc_ns = ch->epoch_ns + rv_ticks_to_ns(ch->rate, first_tick),
    };
    int rc = producer->mod->producer.open(producer->state, &out->req, &out->handle);
    if (rc != RV_OK || !out->handle) {
        out->handle = NULL;
        channel_open_segment_close(out);
        return rc != RV_OK ? rc : RV_EINTERNAL;
    }
    return RV_OK;
}

/** Open the content of @p pos at @p first_tick with the producer serving it. */
static int segment_open_content(channel *ch, plan *p, const timeline_pos *pos, int64_t first_tick,
                                open_segment *out)
{
    const plan_segment *s = timeline_segment(p, pos);
    module_instance *producer = producer_for_uri(ch, s->asset_uri);
    if (!producer) {
        memset(out, 0, sizeof(*out));
        channel_on_event(ch, NULL, RV_EVENT_ASSET_ERROR, RV_ENOTSUP, s->asset_uri,
                         "no producer bound to this channel serves this URI scheme");
        return RV_ENOTSUP;
    }
    return segment_open(ch, producer, p, pos, s->asset_uri, first_tick, out);
}

/* ---- the preload thread ---- */

void *channel_preload_main(void *arg)
{
    channel *ch = arg;
    thread_name_self("rv-preload-%d", ch->id);
    pthread_mutex_lock(&ch->preload_lock);
    while (!atomic_load(&ch->stopping)) {
        preload_slot *slot = &ch->preload;
        if (slot->state != PRELOAD_REQUESTED) {
            pthread_cond_wait(&ch->preload_cond, &ch->preload_lock);
            continue;
        }
        slot->state = PRELOAD_BUSY;
        timeline_pos pos = slot->pos;
        int64_t first_tick = slot->first_tick;
        plan *p = plan_ref(slot->plan);
        pthread_mutex_unlock(&ch->preload_lock);

        open_segment seg;
        int rc = segment_open_content(ch, p, &pos, first_tick, &seg);
        plan_unref(p);

        pthread_mutex_lock(&ch->preload_lock);
        if (slot->discard) {
            if (rc == RV_OK)
                channel_open_segment_close(&seg);
            plan_unref(slot->plan);
            slot->plan = NULL;
            slot->discard = 0;
            slot->state = PRELOAD_IDLE;
        } else {
            slot->rc = rc;
            slot->seg = seg;
            slot->state = PRELOAD_DONE;
        }
        pthread_cond_broadcast(&ch->preload_cond);
    }
    pthread_mutex_unlock(&ch->preload_lock);
    return NULL;
}

/** Drop whatever the preload slot holds or is doing. Producer or control thread. */
void channel_preload_clear(channel *ch)
{
    pthread_mutex_lock(&ch->preload_lock);
    preload_slot *slot = &ch->preload;
    if (slot->state == PRELOAD_BUSY) {
        slot->discard = 1;
    } else {
        if (slot->state == PRELOAD_DONE && slot->rc == RV_OK)
            channel_open_segment_close(&slot->seg);
        plan_unref(slot->plan);
        slot->plan = NULL;
        slot->state = PRELOAD_IDLE;
    }
    pthread_mutex_unlock(&ch->preload_lock);
}

/** The segment at @p pa/@p a opens exactly like the one at @p pb/@p b: same
 *  instants, ticks, asset, offset and audio (so a plan swap that keeps the
 *  next segment, as every block fed to a session does, keeps its preload). */
static int preload_same_segment(const plan *pa, const timeline_pos *a, const plan *pb,
                                const timeline_pos *b)
{
    const plan_segment *sa = timeline_segment(pa, a);
    const plan_segment *sb = timeline_segment(pb, b);
    if (!sa || !sb)
        return 0;
    return a->first_tick == b->first_tick && a->end_tick == b->end_tick &&
           a->start_utc_ms == b->start_utc_ms && sa->type == sb->type &&
           sa->asset_start_offset_ms == sb->asset_start_offset_ms && sa->gain_db == sb->gain_db &&
           strcmp(sa->asset_uri, sb->asset_uri) == 0 && strcmp(sa->event_id, sb->event_id) == 0;
}

static void preload_request(channel *ch, int64_t gen, plan *p, const timeline_pos *pos)
{
    pthread_mutex_lock(&ch->preload_lock);
    preload_slot *slot = &ch->preload;
    if (slot->state != PRELOAD_IDLE && !slot->discard &&
        preload_same_segment(slot->plan, &slot->pos, p, pos)) {
        slot->gen = gen; /* already opening (or open): keep it */
        pthread_mutex_unlock(&ch->preload_lock);
        return;
    }
    pthread_mutex_unlock(&ch->preload_lock);
    channel_preload_clear(ch);
    pthread_mutex_lock(&ch->preload_lock);
    while (slot->state == PRELOAD_BUSY && !atomic_load(&ch->stopping))
        pthread_cond_wait(&ch->preload_cond, &ch->preload_lock);
    if (slot->state == PRELOAD_IDLE) {
        slot->state = PRELOAD_REQUESTED;
        slot->discard = 0;
        slot->gen = gen;
        slot->pos = *pos;
        slot->first_tick = pos->first_tick;
        slot->plan = plan_ref(p);
        pthread_cond_broadcast(&ch->preload_cond);
    }
    pthread_mutex_unlock(&ch->preload_lock);
}

/** Take the preloaded segment if it is the one wanted (waiting for it if it
 *  is still opening). Returns 1 with *rc set when taken, 0 otherwise. */
static int preload_take(channel *ch, const plan *p, const timeline_pos *pos, int64_t first_tick,
                        open_segment *out, int *rc)
{
    int taken = 0;
    pthread_mutex_lock(&ch->preload_lock);
    preload_slot *slot = &ch->preload;
    int match = slot->state != PRELOAD_IDLE && !slot->discard && slot->first_tick == first_tick &&
                preload_same_segment(slot->plan, &slot->pos, p, pos);
    while (match && slot->state != PRELOAD_DONE && !atomic_load(&ch->stopping))
        pthread_cond_wait(&ch->preload_cond, &ch->preload_lock);
    if (match && slot->state == PRELOAD_DONE) {
        *out = slot->seg;
        *rc = slot->rc;
        memset(&slot->seg, 0, sizeof(slot->seg));
        plan_unref(slot->plan);
        slot->plan = NULL;
        slot->state = PRELOAD_IDLE;
        taken = 1;
    }
    pthread_mutex_unlock(&ch->preload_lock);
    if (!taken)
        channel_preload_clear(ch);
    return taken;
}

/* ---- the producer thread ---- */

static void producer_close(producer_state *ps)
{
    if (ps->cur.producer)
        channel_open_segment_close(&ps->cur);
    ps->mode = MODE_NONE;
}

/** Air the slate from ps->t to the end of the segment (or gap). */
static void producer_enter_slate(channel *ch, producer_state *ps, int failed)
{
    producer_close(ps);
    ps->failed = failed;
    int rc = segment_open(ch, ch->slate, ps->plan, &ps->pos, "slate:", ps->t, &ps->cur);
    if (rc != RV_OK) {
        log_write(RV_LOG_ERROR, ch->id, NULL, "the slate failed to open (%s): airing black",
                  rv_strerror(rc));
        ps->mode = MODE_PAD;
        return;
    }
    ps->mode = MODE_READ;
    ps->source = RV_SOURCE_SLATE;
}

static int recovery_allowed(channel *ch, int64_t now_ms)
{
    int recent = 0;
    for (int i = 0; i < RESTARTS_PER_MINUTE; i++)
        if (ch->restart_history_ms[i] != 0 && now_ms - ch->restart_history_ms[i] < 60000)
            recent++;
    return recent < RESTARTS_PER_MINUTE;
}

static void recovery_record(channel *ch, int64_t now_ms)
{
    int oldest = 0;
    for (int i = 1; i < RESTARTS_PER_MINUTE; i++)
        if (ch->restart_history_ms[i] < ch->restart_history_ms[oldest])
            oldest = i;
    ch->restart_history_ms[oldest] = now_ms;
}

/** Schedule the next retry of the failed segment, backing off exponentially. */
static void recovery_schedule(channel *ch, producer_state *ps)
{
    ps->backoff_ms = ps->backoff_ms ? ps->backoff_ms * 2 : BACKOFF_FIRST_MS;
    if (ps->backoff_ms > BACKOFF_MAX_MS)
        ps->backoff_ms = BACKOFF_MAX_MS;
    int64_t at_ms = tick_utc_ms(ch, ps->t) + ps->backoff_ms;
    ps->retry_tick = clock_first_tick_at(ch->epoch_utc_ms, ch->rate, at_ms);
}

/** A segment failed at ps->t: the slate covers the rest of it; when
 *  @p retry, the asset is tried again at the position then due. */
static void producer_fail(channel *ch, producer_state *ps, int rc, int retry)
{
    const plan_segment *s = timeline_segment(ps->plan, &ps->pos);
    atomic_fetch_add(&ch->producer_errors, 1);
    channel_set_error(ch, "asset unavailable: airing the slate",
                      "asset '%s' failed at tick %" PRId64 ": %s", s ? s->asset_uri : "",
                      ps->t, rv_strerror(rc));
    producer_enter_slate(ch, ps, 1);
    ps->retry_tick = INT64_MAX;
    if (retry)
        recovery_schedule(ch, ps);
}

/** Try the failed asset again at the position due at ps->t. */
static void producer_retry(channel *ch, producer_state *ps)
{
    int64_t now_ms = tick_utc_ms(ch, ps->t);
    ps->retry_tick = INT64_MAX;
    if (!recovery_allowed(ch, now_ms)) {
        log_write(RV_LOG_WARN, ch->id, NULL,
                  "recovery: %d restarts in the last minute, airing the slate until the next "
                  "segment",
                  RESTARTS_PER_MINUTE);
        return;
    }
    recovery_record(ch, now_ms);
    atomic_fetch_add(&ch->producer_restarts, 1);
    open_segment seg;
    int rc = segment_open_content(ch, ps->plan, &ps->pos, ps->t, &seg);
    if (rc != RV_OK) {
        atomic_fetch_add(&ch->producer_errors, 1);
        recovery_schedule(ch, ps);
        return;
    }
    log_write(RV_LOG_INFO, ch->id, NULL, "recovery: '%s' is back at tick %" PRId64,
              seg.req.asset_uri, ps->t);
    producer_close(ps);
    ps->cur = seg;
    ps->mode = MODE_READ;
    ps->source = RV_SOURCE_REAL;
    ps->failed = 0;
    ps->backoff_ms = 0;
}

/** Start producing the segment (or gap) at ps->pos from tick ps->t. */
static void producer_enter(channel *ch, producer_state *ps)
{
    const plan_segment *s = timeline_segment(ps->plan, &ps->pos);
    ps->failed = 0;
    ps->retry_tick = INT64_MAX;
    ps->backoff_ms = 0;
    ps->preload_requested = 0;
    if (!s && !ps->plan->gap_pad) {
        producer_enter_slate(ch, ps, 0);
        return;
    }
    if (!s || s->type == RV_SEGMENT_PAD) {
        ps->mode = MODE_PAD;
        return;
    }
    int rc;
    if (!preload_take(ch, ps->plan, &ps->pos, ps->t, &ps->cur, &rc))
        rc = segment_open_content(ch, ps->plan, &ps->pos, ps->t, &ps->cur);
    if (rc != RV_OK) {
        producer_fail(ch, ps, rc, 0);
        return;
    }
    ps->mode = MODE_READ;
    ps->source = RV_SOURCE_REAL;
}

/** A reload published a new fallback slate: use it from this frame on and
 *  hand the old one back to the control thread. */
static void producer_adopt_slate(channel *ch, producer_state *ps)
{
    module_instance *next = atomic_exchange(&ch->slate_next, NULL);
    if (!next)
        return;
    module_instance *old = ch->slate;
    int reopen = ps->cur.producer == old;
    if (reopen)
        producer_close(ps);
    ch->slate = next;
    if (reopen)
        producer_enter_slate(ch, ps, ps->failed);
    atomic_store(&ch->slate_retired, old);
}

/** Adopt the pending plan from ps->switch_tick on. */
static void producer_switch(channel *ch, producer_state *ps)
{
    producer_close(ps);
    plan_unref(ps->plan);
    ps->plan = ps->switch_plan;
    ps->switch_plan = NULL;
    ps->t = ps->switch_tick;
    /* On the real clock the output may already be past the restart tick:
     * start with the first tick that can still air. */
    int64_t last = atomic_load(&ch->last_tick);
    if (!ch->is_virtual && last >= 0 && ps->t < last + 2)
        ps->t = last + 2;
    timeline_locate(ps->plan, ch->epoch_utc_ms, ch->rate, ps->t, &ps->pos);
    producer_enter(ch, ps);
}

/** Notice a new generation (start or plan swap). */
static void producer_check_generation(channel *ch, producer_state *ps)
{
    int64_t gen = atomic_load(&ch->gen);
    if (gen == ps->gen)
        return;
    pthread_mutex_lock(&ch->plan_lock);
    plan *p = plan_ref(ch->prod_plan);
    int64_t restart = atomic_load(&ch->restart_tick);
    pthread_mutex_unlock(&ch->plan_lock);
    ps->gen = gen;
    plan_unref(ps->switch_plan);
    ps->switch_plan = p;
    ps->switch_tick = restart;
    ps->preload_requested = 0; /* asked again from the new plan; kept if it is the same */
    if (ps->mode == MODE_NONE || ps->t >= restart)
        producer_switch(ch, ps);
}

/** Ask the preload thread for the segment after the current one: once the
 *  producer is comfortably ahead (half the ring staged) or the seam is near,
 *  so that opening the next asset never competes with a start or a wake for
 *  the first frames. */
static void producer_kick_preload(channel *ch, producer_state *ps)
{
    if (ps->preload_requested)
        return;
    if (ring_count(ch->ring) < ring_capacity(ch->ring) / 2 && !ps->switch_plan &&
        ps->pos.end_tick - ps->t > rv_ms_to_first_tick(ch->rate, PRELOAD_LEAD_MS))
        return;
    ps->preload_requested = 1;
    timeline_pos next = ps->pos;
    plan *p = ps->plan;
    if (ps->switch_plan) {
        p = ps->switch_plan;
        timeline_locate(p, ch->epoch_utc_ms, ch->rate, ps->switch_tick, &next);
    } else {
        if (next.end_tick == INT64_MAX)
            return;
        timeline_next(p, ch->epoch_utc_ms, ch->rate, &next);
    }
    const plan_segment *s = timeline_segment(p, &next);
    if (!s || s->type == RV_SEGMENT_PAD)
        return;
    if (next.first_tick >= atomic_load(&ch->stop_tick))
        return;
    preload_request(ch, ps->gen, p, &next);
}

/** The producer fell far behind the output (a hung read): give up on the
 *  frames already due and rejoin the asset at the position now due. */
static void producer_check_stall(channel *ch, producer_state *ps)
{
    int64_t due = atomic_load(&ch->last_tick) + 1;
    if (ps->t >= due - ch->freeze_max_ticks || ps->mode != MODE_READ)
        return;
    int64_t skip_to = due + 1;
    if (skip_to >= ps->pos.end_tick)
        return;
    log_write(RV_LOG_WARN, ch->id, NULL,
              "watchdog: producer %" PRId64 " ticks behind the output, rejoining at tick %" PRId64,
              due - ps->t, skip_to);
    int was_real = ps->source == RV_SOURCE_REAL;
    ps->t = skip_to;
    if (was_real)
        producer_fail(ch, ps, RV_ETIMEDOUT, 1);
    else
        producer_enter_slate(ch, ps, ps->failed);
}

static void producer_fill_pad(channel *ch, staged_frame *f)
{
    frame_pool_video_ref(ch->black);
    f->video = ch->black;
    frame_pool_audio_fill_silence(f->audio);
    f->source = RV_SOURCE_PAD;
    f->asset_offset_ms = -1;
}

/** Apply the segment's FADE transitions to a frame read from its asset. */
static void producer_fade(channel *ch, producer_state *ps, staged_frame *f)
{
    const plan_segment *s = timeline_segment(ps->plan, &ps->pos);
    if (!s || f->source != RV_SOURCE_REAL ||
        (s->transition_in.type != RV_TRANSITION_FADE &&
         s->transition_out.type != RV_TRANSITION_FADE))
        return;
    int64_t offset_ms = (ch->epoch_ns + rv_ticks_to_ns(ch->rate, ps->t)) / 1000000 -
                        ps->pos.start_utc_ms;
    int32_t gain = channel_fade_gain(s, offset_ms, s->duration_ms);
    if (channel_fade_apply(&f->video, f->audio, gain) != RV_OK)
        log_write(RV_LOG_WARN, ch->id, NULL, "fade skipped at tick %" PRId64 ": out of memory",
                  ps->t);
}

/** Produce the frame for tick ps->t into @p f (audio already allocated). */
static void producer_produce(channel *ch, producer_state *ps, staged_frame *f)
{
    f->failed = ps->failed;
    if (ps->mode == MODE_READ) {
        rv_produce out = {
            .tick = ps->t,
            .index = ps->t - ps->cur.req.first_tick,
            .audio = f->audio,
            .video = NULL,
            .asset_offset_ms = -1,
        };
        int rc = ps->cur.producer->mod->producer.read(ps->cur.handle, &out);
        if (rc == RV_OK && out.video) {
            f->video = out.video;
            f->source = ps->source;
            f->asset_offset_ms = out.asset_offset_ms;
            f->audio->samples = rv_samples_in_tick(ch->rate, ch->format.audio_rate, ps->t);
            producer_fade(ch, ps, f);
            return;
        }
        if (out.video)
            frame_pool_video_release(out.video);
        if (rc == RV_OK)
            rc = RV_EINTERNAL;
        if (rc == RV_EOF || ps->source != RV_SOURCE_REAL) {
            producer_close(ps);
            ps->mode = MODE_PAD;
        } else {
            producer_fail(ch, ps, rc, 1);
            producer_produce(ch, ps, f);
            return;
        }
    }
    producer_fill_pad(ch, f);
    f->failed = 0;
}

static void producer_release(channel *ch, producer_state *ps)
{
    producer_close(ps);
    channel_preload_clear(ch);
    plan_unref(ps->plan);
    plan_unref(ps->switch_plan);
}

/** An idle spell (an on-demand channel nobody watches): close the asset and
 *  the preload, wait until it ends; the output thread then starts a new
 *  generation at the tick due, which producer_check_generation joins. */
static void producer_idle(channel *ch, producer_state *ps)
{
    producer_close(ps);
    channel_preload_clear(ch);
    ps->preload_requested = 0;
    while (atomic_load(&ch->idle) && !atomic_load(&ch->stopping)) {
        uint64_t seq = channel_demand_seq(ch);
        if (!atomic_load(&ch->idle))
            break;
        channel_demand_wait(ch, seq, 1000LL * 1000 * 1000);
    }
}

void *channel_producer_main(void *arg)
{
    channel *ch = arg;
    thread_name_self("rv-prod-%d", ch->id);
    producer_state ps = {.mode = MODE_NONE, .retry_tick = INT64_MAX};
    while (!atomic_load(&ch->stopping)) {
        if (atomic_load(&ch->idle)) {
            producer_idle(ch, &ps);
            continue;
        }
        producer_adopt_slate(ch, &ps);
        producer_check_generation(ch, &ps);
        if (ps.switch_plan && ps.t >= ps.switch_tick)
            producer_switch(ch, &ps);
        if (ps.mode == MODE_NONE)
            continue;
        if (ps.t >= atomic_load(&ch->stop_tick)) {
            ring_wait_space(ch->ring, 0);
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (ring_count(ch->ring) >= ring_capacity(ch->ring)) {
            ring_wait_space(ch->ring, 20 * 1000 * 1000);
            continue;
        }
        if (!ch->is_virtual)
            producer_check_stall(ch, &ps);
        while (ps.t >= ps.pos.end_tick) {
            producer_close(&ps);
            timeline_next(ps.plan, ch->epoch_utc_ms, ch->rate, &ps.pos);
            producer_enter(ch, &ps);
        }
        if (ps.failed && ps.t >= ps.retry_tick)
            producer_retry(ch, &ps);
        producer_kick_preload(ch, &ps);

        staged_frame f = {.tick = ps.t, .gen = ps.gen};
        f.audio = frame_pool_audio_alloc(ch->pool,
                                         rv_samples_in_tick(ch->rate, ch->format.audio_rate, ps.t));
        if (!f.audio) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        producer_produce(ch, &ps, &f);
        if (ring_push(ch->ring, &f) != RV_OK)
            channel_release_staged(&f);
        ps.t++;
    }
    producer_release(ch, &ps);
    return NULL;
}
