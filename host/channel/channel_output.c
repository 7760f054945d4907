/**
 * @file host/channel/channel_output.c
 * @short The channel's output thread: paced by the MasterClock, it emits
 *        exactly one picture and one audio slice per tick, forever.
 *
 * For tick n it sleeps until the tick's deadline, applies a pending plan swap,
 * advances its timeline cursor across fences, takes the staged frame for n
 * (or repeats the last picture for at most freeze_max_ticks, then the slate),
 * runs the renderer and hands the tick to every sink queue. It never opens,
 * seeks or decodes, never allocates beyond the pools, and takes a lock only
 * once per segment (to publish what is on air) and per sink push.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "channel/channel_internal.h"
#include "core/log.h"
#include "core/thread_name.h"

/** How long (real time) a virtual-clock channel waits for its producer
 *  before treating the frame as missing. */
#define VIRTUAL_WAIT_NS (5LL * 1000 * 1000 * 1000)
/* The start burst. A start (or a session joined at a past instant) and an
 * on-demand wake begin with ticks already due: the producer must first decode
 * from the asset's keyframe to the join position (a 1080p join 3 s after a
 * keyframe is ~100 pictures: 0.3 s on a quiet 2-core machine, 1-2 s under
 * load), then catch up. Until it has, the output airs each tick's own frame
 * as soon as the producer stages it, however late, instead of standing in:
 * it waits for a missing frame while the producer keeps delivering (at most
 * BURST_STALL_NS per frame; a wake's first frame, which includes opening and
 * seeking, BURST_FIRST_NS) and the burst is younger than BURST_MAX_NS. The
 * burst ends once a tick is on time with half the ring (250 ms) staged
 * behind it: the cushion steady state runs on. A stall or the age limit ends
 * it too, and the ordinary rules (freeze, then slate) take over. */
/** Longest the burst waits for one missing frame once frames flow (crossing
 *  a seam whose preload is still opening counts as one frame). */
#define BURST_STALL_NS (2000LL * 1000 * 1000)
/** Longest a wake waits for its first frame (open, seek, decode to the join). */
#define BURST_FIRST_NS (3000LL * 1000 * 1000)
/** Longest a burst may last (real time) before the ordinary rules apply. */
#define BURST_MAX_NS (8000LL * 1000 * 1000)
/** How long a burst tick waits for room in an encoder's (or sink's) full
 *  queue before the queue drops its oldest tick. The burst hands over ticks
 *  faster than real time; an encoder slower than the producer (a loaded
 *  machine; a producer that no longer copies pictures) would otherwise lose
 *  ticks of the very first seconds a joining viewer sees. Steady state never
 *  waits: a slow sink never slows the channel. */
#define BURST_SINK_WAIT_NS (500LL * 1000 * 1000)
/** An on-demand channel goes idle once it has had no consumer this long
 *  (a player that reconnects, or probes then plays, finds it running). */
#define IDLE_GRACE_NS (5LL * 1000 * 1000 * 1000)
/** How often a running on-demand channel counts its consumers. */
#define DEMAND_CHECK_NS (250LL * 1000 * 1000)
/** While idle, what is on air in status is refreshed this often. */
#define IDLE_STATUS_NS (1000LL * 1000 * 1000)

typedef struct output_state {
    plan *plan;                 /**< one reference: the plan on air */
    timeline_pos pos;
    int64_t gen;
    int64_t restart_tick;
    rv_video_frame *last;       /**< last real picture (one reference) */
    int64_t last_real_tick;
    int burst;                  /**< the start burst is on (late ticks count once over) */
    int64_t burst_wait_ns;      /**< how long the burst waits for the next missing frame */
    int64_t burst_begin_ns;     /**< monotonic instant the burst began */
    int64_t burst_end_ns;       /**< monotonic instant the burst ends at the latest */
    segment_tally tally;        /**< what the segment on air has aired so far */
    int refilling;              /**< a plan swap restarted production: no frame of the
                                     new generation has aired yet */
    /* the block on air (copied: a plan swap frees the old plan's strings) */
    int in_block;               /**< a block is on air */
    int in_gap;                 /**< no block owns the tick (reported once) */
    char block_id[256];
    int64_t block_start_utc_ms;
    int64_t block_end_utc_ms;
    int64_t block_first_tick;   /**< first tick it aired */
    int64_t block_fence_tick;
    int64_t block_by_source[5]; /**< ticks it aired, by source */
    /* on demand */
    int64_t demand_seen_ns;     /**< monotonic instant a consumer was last there */
    int64_t woke_ns;            /**< monotonic instant of the last wake, until its
                                     first picture airs; 0 otherwise */
    int64_t demand_check_ns;    /**< monotonic instant of the next count */
} output_state;

void channel_release_staged(staged_frame *f)
{
    frame_pool_video_release(f->video);
    frame_pool_audio_release(f->audio);
    f->video = NULL;
    f->audio = NULL;
}

static int staged_valid(const output_state *os, const staged_frame *f)
{
    return f->gen == os->gen || (f->gen < os->gen && f->tick < os->restart_tick);
}

static int64_t output_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/** Begin a start burst (see BURST_STALL_NS) whose first missing frame may
 *  take @p first_wait_ns. */
static void output_burst_begin(output_state *os, int64_t first_wait_ns)
{
    os->burst = 1;
    os->burst_wait_ns = first_wait_ns;
    os->burst_begin_ns = output_mono_ns();
    os->burst_end_ns = os->burst_begin_ns + BURST_MAX_NS;
}

/** The burst is over at tick @p n: @p caught_up (on time), or not: from
 *  now on a missing frame is stood in for. */
static void output_burst_end(channel *ch, output_state *os, int64_t n, int caught_up)
{
    os->burst = 0;
    int64_t ms = (output_mono_ns() - os->burst_begin_ns) / 1000000;
    if (caught_up)
        log_write(RV_LOG_INFO, ch->id, NULL,
                  "caught up at tick %" PRId64 ", %" PRId64 " ms after the start or wake: on "
                  "time with %zu frames staged",
                  n, ms, ring_count(ch->ring));
    else
        log_write(RV_LOG_WARN, ch->id, NULL,
                  "start burst over at tick %" PRId64 " after %" PRId64 " ms without catching "
                  "up (the producer stalled or is too slow): missing frames are stood in for",
                  n, ms);
}

/** Take the staged frame for tick @p n into @p out. 1 when found. When none
 *  is staged, the virtual clock waits for the producer; the real clock waits
 *  only during the start burst (os->burst_wait_ns, not past its end). */
static int output_take(channel *ch, output_state *os, int64_t n, staged_frame *out)
{
    int catching_up = !ch->is_virtual && os->burst;
    int64_t t0 = catching_up ? output_mono_ns() : 0;
    int64_t may_wait = ch->is_virtual ? VIRTUAL_WAIT_NS : 0;
    if (catching_up) {
        may_wait = os->burst_wait_ns;
        if (may_wait > os->burst_end_ns - t0)
            may_wait = os->burst_end_ns - t0;
    }
    int64_t waited_ns = 0;
    int found = 0;
    for (;;) {
        const staged_frame *head = ring_peek(ch->ring);
        if (!head) {
            if (catching_up)
                waited_ns = output_mono_ns() - t0;
            if (atomic_load(&ch->stopping) || waited_ns >= may_wait)
                break;
            int64_t step = 50 * 1000 * 1000;
            if (catching_up && may_wait - waited_ns < step)
                step = may_wait - waited_ns;
            if (ring_wait_data(ch->ring, step) == RV_ETIMEDOUT && !catching_up)
                waited_ns += step;
            continue;
        }
        if (!staged_valid(os, head) || head->tick < n) {
            staged_frame stale;
            ring_pop(ch->ring, &stale);
            channel_release_staged(&stale);
            continue;
        }
        if (head->tick == n) {
            ring_pop(ch->ring, out);
            found = 1;
        }
        break;
    }
    if (catching_up) {
        if (found)
            os->burst_wait_ns = BURST_STALL_NS;
        else
            output_burst_end(ch, os, n, 0); /* stalled or too long: freeze, then slate */
    }
    return found;
}

static int same_airing(const plan *pa, const timeline_pos *a, const plan *pb,
                       const timeline_pos *b)
{
    if (a->in_gap || b->in_gap)
        return a->in_gap && b->in_gap && a->first_tick == b->first_tick &&
               a->end_tick == b->end_tick;
    const plan_segment *sa = timeline_segment(pa, a);
    const plan_segment *sb = timeline_segment(pb, b);
    return a->start_utc_ms == b->start_utc_ms && a->end_utc_ms == b->end_utc_ms &&
           sa->type == sb->type && sa->asset_start_offset_ms == sb->asset_start_offset_ms &&
           strcmp(sa->asset_uri, sb->asset_uri) == 0;
}

static int64_t output_tick_utc_ms(const channel *ch, int64_t tick)
{
    return ch->epoch_utc_ms + rv_ticks_to_ns(ch->rate, tick) / 1000000;
}

/** The block on air left at tick @p n: report it. */
static void output_block_ended(channel *ch, output_state *os, int64_t n)
{
    if (!os->in_block)
        return;
    plan_block gone = {.id = os->block_id,
                       .start_utc_ms = os->block_start_utc_ms,
                       .end_utc_ms = os->block_end_utc_ms};
    channel_event ev = {.type = CHANNEL_EVENT_BLOCK_ENDED,
                        .tick = n,
                        .utc_ms = output_tick_utc_ms(ch, n),
                        .block = &gone,
                        .first_tick = os->block_first_tick,
                        .fence_tick = os->block_fence_tick};
    memcpy(ev.ticks_by_source, os->block_by_source, sizeof(ev.ticks_by_source));
    os->in_block = 0;
    channel_emit(ch, &ev);
}

/** Tick @p n airs the position os->pos: when its block is not the one on
 *  air, report the old block's end and the new block's start (or the gap). */
static void output_track_block(channel *ch, output_state *os, int64_t n)
{
    const plan_block *b = timeline_block(os->plan, &os->pos);
    if (b && os->in_block && b->start_utc_ms == os->block_start_utc_ms &&
        b->end_utc_ms == os->block_end_utc_ms && strcmp(b->id, os->block_id) == 0)
        return;
    output_block_ended(ch, os, n);
    if (!b) {
        if (os->in_gap)
            return;
        os->in_gap = 1;
        if (os->plan->gap_pad)
            log_write(RV_LOG_WARN, ch->id, NULL,
                      "no block owns tick %" PRId64 " (the block queue ran dry): airing black "
                      "and silence until a block is fed",
                      n);
        channel_event gap = {.type = CHANNEL_EVENT_GAP_STARTED, .tick = n,
                             .utc_ms = output_tick_utc_ms(ch, n)};
        channel_emit(ch, &gap);
        return;
    }
    os->in_gap = 0;
    os->in_block = 1;
    snprintf(os->block_id, sizeof(os->block_id), "%s", b->id);
    os->block_start_utc_ms = b->start_utc_ms;
    os->block_end_utc_ms = b->end_utc_ms;
    os->block_first_tick = n;
    os->block_fence_tick = clock_first_tick_at(ch->epoch_utc_ms, ch->rate, b->end_utc_ms);
    memset(os->block_by_source, 0, sizeof(os->block_by_source));
    channel_event ev = {.type = CHANNEL_EVENT_BLOCK_STARTED,
                        .tick = n,
                        .utc_ms = output_tick_utc_ms(ch, n),
                        .block = b,
                        .fence_tick = os->block_fence_tick,
                        .join_in_progress =
                            n > clock_first_tick_at(ch->epoch_utc_ms, ch->rate, b->start_utc_ms)};
    channel_emit(ch, &ev);
}

/** The segment at os->pos starts airing at tick @p n. */
static void output_segment_started(channel *ch, output_state *os, int64_t n, int join)
{
    channel_tally_begin(&os->tally, n, join);
    output_track_block(ch, os, n);
    const plan_segment *s = timeline_segment(os->plan, &os->pos);
    if (!s)
        return;
    channel_event ev = {.type = CHANNEL_EVENT_SEGMENT_STARTED,
                        .tick = n,
                        .utc_ms = output_tick_utc_ms(ch, n),
                        .block = timeline_block(os->plan, &os->pos),
                        .segment = s,
                        .first_tick = os->pos.first_tick,
                        .fence_tick = os->pos.end_tick,
                        .join_in_progress = join};
    channel_emit(ch, &ev);
}

/** Publish what is on air for status readers. */
static void output_publish_now(channel *ch, const output_state *os)
{
    const plan_block *b = timeline_block(os->plan, &os->pos);
    const plan_segment *s = timeline_segment(os->plan, &os->pos);
    pthread_mutex_lock(&ch->status_lock);
    ch->now_pos = os->pos;
    snprintf(ch->now_block, sizeof(ch->now_block), "%s", b ? b->id : "");
    ch->now_segment = s ? s->index : -1;
    snprintf(ch->now_event, sizeof(ch->now_event), "%s", s ? s->event_id : "");
    snprintf(ch->now_asset, sizeof(ch->now_asset), "%s", s ? s->asset_uri : "");
    timeline_pos next = os->pos;
    timeline_next(os->plan, ch->epoch_utc_ms, ch->rate, &next);
    const plan_block *nb = timeline_block(os->plan, &next);
    const plan_segment *ns = timeline_segment(os->plan, &next);
    ch->next_pos = next;
    snprintf(ch->next_block, sizeof(ch->next_block), "%s", nb ? nb->id : "");
    ch->next_segment = ns ? ns->index : -1;
    snprintf(ch->next_event, sizeof(ch->next_event), "%s", ns ? ns->event_id : "");
    snprintf(ch->next_asset, sizeof(ch->next_asset), "%s", ns ? ns->asset_uri : "");
    pthread_mutex_unlock(&ch->status_lock);
}

/** Leave the segment at os->pos for the next one owning tick @p n, passing
 *  over (and reporting) segments that own no tick. */
static void output_advance(channel *ch, output_state *os, int64_t n)
{
    channel_tally_finish(ch, os->plan, &os->pos, &os->tally);
    while (n >= os->pos.end_tick && timeline_next_any(os->plan, ch->epoch_utc_ms, ch->rate,
                                                      &os->pos))
        if (os->pos.first_tick == os->pos.end_tick)
            channel_tally_skipped(ch, os->plan, &os->pos);
    output_segment_started(ch, os, n, 0);
    output_publish_now(ch, os);
}

/** Apply a plan swap at tick @p n: the new plan is joined at this instant. */
static void output_apply_pending(channel *ch, output_state *os, int64_t n)
{
    pthread_mutex_lock(&ch->plan_lock);
    plan *next = ch->pending;
    ch->pending = NULL;
    if (!next) {
        pthread_mutex_unlock(&ch->plan_lock);
        return;
    }
    timeline_pos npos;
    timeline_locate(next, ch->epoch_utc_ms, ch->rate, n, &npos);
    int soft = same_airing(os->plan, &os->pos, next, &npos);
    int64_t restart = soft ? npos.end_tick : n;
    plan_unref(ch->prod_plan);
    ch->prod_plan = plan_ref(next);
    plan_unref(ch->plan);
    ch->plan = plan_ref(next);
    os->gen++;
    os->restart_tick = restart;
    atomic_store(&ch->restart_tick, restart);
    atomic_store(&ch->gen, os->gen);
    pthread_mutex_unlock(&ch->plan_lock);

    log_write(RV_LOG_INFO, ch->id, NULL,
              "plan '%s' on air from tick %" PRId64 " (%s)", next->handle, n,
              soft ? "same segment kept" : "joined at this instant");
    if (!soft) {
        os->refilling = 1;
        channel_tally_finish(ch, os->plan, &os->pos, &os->tally);
    }
    plan *old = os->plan;
    os->plan = next;
    os->pos = npos;
    if (!soft)
        output_segment_started(ch, os, n, npos.first_tick < n);
    plan_unref(old);
    output_publish_now(ch, os);
}

static void output_build_tick(channel *ch, output_state *os, int64_t n, rv_tick *t)
{
    const plan_block *b = timeline_block(os->plan, &os->pos);
    const plan_segment *s = timeline_segment(os->plan, &os->pos);
    *t = (rv_tick){
        .tick = n,
        .utc_ns = ch->epoch_ns + rv_ticks_to_ns(ch->rate, n),
        .block_id = b ? b->id : "",
        .segment_index = s ? s->index : -1,
        .event_id = s ? s->event_id : "",
        .asset_uri = s ? s->asset_uri : "",
        .segment_first_tick = os->pos.first_tick,
        .segment_end_tick = os->pos.end_tick,
        .asset_offset_ms = -1,
    };
}

/** Fill @p t's picture and audio for tick @p n. */
static void output_fill(channel *ch, output_state *os, int64_t n, rv_tick *t)
{
    staged_frame f;
    if (output_take(ch, os, n, &f)) {
        t->video = f.video;
        t->audio = f.audio;
        t->source = f.source;
        t->asset_offset_ms = f.asset_offset_ms;
        if (f.source == RV_SOURCE_REAL) {
            frame_pool_video_release(os->last);
            frame_pool_video_ref(f.video);
            os->last = f.video;
            os->last_real_tick = n;
        }
        if (f.gen == os->gen)
            os->refilling = 0;
        if (f.gen == os->gen && os->woke_ns) {
            log_write(RV_LOG_INFO, ch->id, NULL,
                      "awake: the picture of tick %" PRId64 " went to the encoders %" PRId64
                      " ms after the consumer came (asset opened, decoded to the join point)",
                      n, (output_mono_ns() - os->woke_ns) / 1000000);
            os->woke_ns = 0;
        }
        int failing = f.failed;
        int state = atomic_load(&ch->state);
        if (failing && state != CHANNEL_ERROR)
            atomic_store(&ch->state, CHANNEL_ERROR);
        else if (!failing && state != CHANNEL_READY)
            atomic_store(&ch->state, CHANNEL_READY);
        return;
    }
    t->audio = frame_pool_audio_alloc(ch->pool,
                                      rv_samples_in_tick(ch->rate, ch->format.audio_rate, n));
    if (t->audio)
        frame_pool_audio_fill_silence(t->audio);
    if (os->last && n - os->last_real_tick <= ch->freeze_max_ticks) {
        frame_pool_video_ref(os->last);
        t->video = os->last;
        t->source = RV_SOURCE_FREEZE;
        return;
    }
    if (os->plan->gap_pad && (os->refilling || os->pos.in_gap)) {
        /* a fed session refilling after a late block, or its queue ran dry:
         * black and silence, as the gap itself airs */
        frame_pool_video_ref(ch->black);
        t->video = ch->black;
        t->source = RV_SOURCE_PAD;
        return;
    }
    rv_video_frame *fallback = atomic_load(&ch->fallback);
    frame_pool_video_ref(fallback);
    t->video = fallback;
    t->source = RV_SOURCE_SLATE;
    if (os->refilling) {
        /* a plan swap is refilling the ring: buffering, not a failure */
        if (atomic_load(&ch->state) != CHANNEL_BUFFERING)
            atomic_store(&ch->state, CHANNEL_BUFFERING);
    } else if (atomic_load(&ch->state) != CHANNEL_ERROR) {
        atomic_store(&ch->state, CHANNEL_ERROR);
        channel_set_error(ch, NULL, "no frame ready at tick %" PRId64 ": airing the slate", n);
    }
}

static void output_account(channel *ch, output_state *os, const rv_tick *t, int64_t deadline_ns)
{
    int64_t gap_ns = clock_now_utc_ns(ch->clock) - deadline_ns;
    atomic_store(&ch->frame_gap_ns, gap_ns);
    int64_t frame_ns = rv_ticks_to_ns(ch->rate, 1);
    if (os->burst) {
        /* over on time with the cushion of steady state, or at its age limit */
        if (gap_ns <= frame_ns && ring_count(ch->ring) >= ring_capacity(ch->ring) / 2)
            output_burst_end(ch, os, t->tick, 1);
        else if (output_mono_ns() >= os->burst_end_ns)
            output_burst_end(ch, os, t->tick, gap_ns <= frame_ns);
    } else if (gap_ns > frame_ns) {
        atomic_fetch_add(&ch->late_ticks, 1);
    }
    atomic_fetch_add(&ch->frames_by_source[t->source], 1);
    atomic_store(&ch->last_tick, t->tick);
    atomic_store(&ch->position_ms, t->asset_offset_ms);
    os->tally.by_source[t->source]++;
    os->block_by_source[t->source]++;
}

/* ---- on demand: idle spells ---- */

/** Counted every DEMAND_CHECK_NS: 1 when the channel has had no consumer
 *  for IDLE_GRACE_NS. */
static int output_should_idle(channel *ch, output_state *os)
{
    int64_t now = output_mono_ns();
    if (now < os->demand_check_ns)
        return 0;
    os->demand_check_ns = now + DEMAND_CHECK_NS;
    const char *push;
    int64_t demand = channel_demand_count(ch, &push);
    if (demand != 0) { /* someone, or a reload under way: stay on */
        os->demand_seen_ns = now;
        return 0;
    }
    return now - os->demand_seen_ns >= IDLE_GRACE_NS;
}

/** Nobody watches from tick @p n: end what is on air (its as-run line says
 *  how much aired), stop the producer and, through `idle`, the encoders. */
static void output_enter_idle(channel *ch, output_state *os, int64_t n)
{
    log_write(RV_LOG_INFO, ch->id, NULL,
              "idle from tick %" PRId64 ": nobody is watching (encode = on-demand); decoding "
              "and encoding stop, the schedule runs on",
              n);
    if (n > os->tally.first_aired_tick)
        channel_tally_finish(ch, os->plan, &os->pos, &os->tally);
    output_block_ended(ch, os, n);
    os->in_gap = 0;
    frame_pool_video_release(os->last);
    os->last = NULL;
    os->last_real_tick = -1;
    atomic_fetch_add(&ch->idle_spells, 1);
    atomic_store(&ch->position_ms, -1); /* no asset position: nothing is read */
    atomic_store(&ch->idle, 1);
    atomic_store(&ch->state, CHANNEL_IDLE);
    staged_frame f;
    while (ring_pop(ch->ring, &f) == RV_OK)
        channel_release_staged(&f);
}

/** The tick the real clock is at now (the first not yet due). */
static int64_t output_tick_now(const channel *ch)
{
    int64_t now_ms = clock_now_utc_ns(ch->clock) / 1000000;
    return clock_first_tick_at(ch->epoch_utc_ms, ch->rate, now_ms);
}

/** Keep what is on air in status moving with the schedule while idle. */
static void output_idle_publish(channel *ch, output_state *os)
{
    int64_t t = output_tick_now(ch);
    if (t < os->pos.first_tick || t >= os->pos.end_tick) {
        timeline_locate(os->plan, ch->epoch_utc_ms, ch->rate, t, &os->pos);
        output_publish_now(ch, os);
    }
}

/** Wait, idle, until a consumer comes (or the channel stops: -1), then
 *  rejoin the schedule at the tick now due: a new production generation
 *  from that tick (the producer opens the asset at the position then due),
 *  a fresh start burst, a new stream from each encoder. Returns that tick. */
static int64_t output_idle(channel *ch, output_state *os)
{
    int64_t status_ns = 0;
    for (;;) {
        uint64_t seq = channel_demand_seq(ch);
        if (atomic_load(&ch->stopping) || output_tick_now(ch) >= atomic_load(&ch->stop_tick))
            return -1;
        const char *push;
        if (channel_demand_count(ch, &push) > 0 || !atomic_load(&ch->on_demand))
            break;
        int64_t now = output_mono_ns();
        if (now >= status_ns) {
            output_idle_publish(ch, os);
            status_ns = now + IDLE_STATUS_NS;
        }
        channel_demand_wait(ch, seq, CHANNEL_DEMAND_POLL_NS);
    }
    int64_t m = output_tick_now(ch);
    int64_t last = atomic_load(&ch->last_tick);
    if (m <= last)
        m = last + 1;
    pthread_mutex_lock(&ch->plan_lock);
    os->gen++;
    os->restart_tick = m;
    plan_unref(ch->prod_plan);
    ch->prod_plan = plan_ref(os->plan);
    atomic_store(&ch->restart_tick, m);
    atomic_store(&ch->gen, os->gen);
    pthread_mutex_unlock(&ch->plan_lock);
    timeline_locate(os->plan, ch->epoch_utc_ms, ch->rate, m, &os->pos);
    os->refilling = 1;
    output_burst_begin(os, BURST_FIRST_NS);
    os->demand_seen_ns = output_mono_ns();
    os->woke_ns = os->demand_seen_ns;
    atomic_store(&ch->state, CHANNEL_BUFFERING);
    atomic_store(&ch->idle, 0); /* before touching the sink set: see channel_reload.c */
    channel_demand_wake(ch);    /* the producer waits for the end of the spell */
    channel_sinks_resume(ch);   /* encoders restart while the producer opens */
    log_write(RV_LOG_INFO, ch->id, NULL,
              "awake at tick %" PRId64 ": a consumer is here; joining the schedule in progress",
              m);
    output_segment_started(ch, os, m, os->pos.first_tick < m);
    output_publish_now(ch, os);
    return m;
}

static void output_finish(channel *ch)
{
    pthread_mutex_lock(&ch->finish_lock);
    ch->finished = 1;
    pthread_cond_broadcast(&ch->finish_cond);
    pthread_mutex_unlock(&ch->finish_lock);
}

void *channel_output_main(void *arg)
{
    channel *ch = arg;
    thread_name_self("rv-out-%d", ch->id);
    output_state os = {.gen = atomic_load(&ch->gen), .restart_tick = 0, .last_real_tick = -1};
    if (!ch->is_virtual) /* the virtual clock always waits for its producer */
        output_burst_begin(&os, BURST_STALL_NS);
    pthread_mutex_lock(&ch->plan_lock);
    os.plan = plan_ref(ch->plan);
    pthread_mutex_unlock(&ch->plan_lock);
    timeline_locate(os.plan, ch->epoch_utc_ms, ch->rate, 0, &os.pos);
    int64_t n = 0;
    os.demand_seen_ns = output_mono_ns();
    if (atomic_load(&ch->idle)) {
        n = output_idle(ch, &os); /* an on-demand channel nobody watches yet */
    } else {
        output_segment_started(ch, &os, 0, os.pos.first_tick < 0);
        output_publish_now(ch, &os);
    }

    for (; n >= 0 && !atomic_load(&ch->stopping); n++) {
        if (n >= atomic_load(&ch->stop_tick))
            break;
        if (atomic_load_explicit(&ch->on_demand, memory_order_relaxed) &&
            output_should_idle(ch, &os)) {
            output_enter_idle(ch, &os, n);
            n = output_idle(ch, &os);
            if (n < 0)
                break;
        }
        int64_t deadline_ns = ch->epoch_ns + rv_ticks_to_ns(ch->rate, n);
        clock_sleep_until(ch->clock, deadline_ns);
        output_apply_pending(ch, &os, n);
        if (n >= os.pos.end_tick)
            output_advance(ch, &os, n);
        rv_tick t;
        output_build_tick(ch, &os, n, &t);
        output_fill(ch, &os, n, &t);
        if (!t.audio || !t.video) {
            log_write(RV_LOG_ERROR, ch->id, NULL, "out of memory at tick %" PRId64, n);
            frame_pool_video_release(t.video);
            frame_pool_audio_release(t.audio);
            continue;
        }
        module_instance *renderer = atomic_load_explicit(&ch->renderer, memory_order_acquire);
        if (renderer) {
            int rc = renderer->mod->renderer.render(renderer->state, &t);
            if (rc != RV_OK && log_enabled(RV_LOG_DEBUG))
                log_write(RV_LOG_DEBUG, ch->id, renderer->mod->name,
                          "render failed at tick %" PRId64 ": %s", n, rv_strerror(rc));
        }
        channel_sinks_push(ch, &t, os.plan, os.burst ? BURST_SINK_WAIT_NS : 0);
        output_account(ch, &os, &t, deadline_ns);
        frame_pool_video_release(t.video);
        frame_pool_audio_release(t.audio);
        atomic_fetch_add_explicit(&ch->ticks_done, 1, memory_order_release);
    }
    if (!atomic_load(&ch->idle) && n > os.tally.first_aired_tick)
        channel_tally_finish(ch, os.plan, &os.pos, &os.tally);
    if (n >= 0)
        output_block_ended(ch, &os, n);
    frame_pool_video_release(os.last);
    plan_unref(os.plan);
    output_finish(ch);
    return NULL;
}
