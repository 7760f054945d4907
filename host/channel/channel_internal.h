/**
 * @file host/channel/channel_internal.h
 * @short The channel's private state, shared by the files that implement its
 *        threads: channel.c (lifecycle, status), channel_output.c (the output
 *        thread), channel_producer.c (producer and preload threads) and
 *        channel_sinks.c (one thread per sink).
 */
#ifndef RV_HOST_CHANNEL_INTERNAL_H
#define RV_HOST_CHANNEL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "channel/channel.h"
#include "channel/channel_preview.h"
#include "channel/channel_rendition.h"
#include "channel/module_instance.h"
#include "core/frame_pool.h"
#include "core/ring.h"
#include "core/sink_queue.h"
#include "plan/timeline.h"
#include "telemetry/asrun.h"

/** One tick's worth of produced output, staged in the ring. */
typedef struct staged_frame {
    int64_t tick;
    int64_t gen;               /**< production generation (plan swaps) */
    rv_video_frame *video;     /**< one reference */
    rv_audio_buffer *audio;    /**< one reference */
    int64_t asset_offset_ms;
    rv_tick_source source;
    int failed;                /**< slate because the asset failed */
} staged_frame;

/** What one segment instance aired, counted by the output thread. */
typedef struct segment_tally {
    int64_t first_aired_tick;  /**< first tick this instance aired */
    int64_t by_source[5];      /**< indexed by rv_tick_source */
    int join_in_progress;      /**< the channel (or a plan swap) joined it midway */
} segment_tally;

/** Substitutions a producer reported (warnings, asset errors) about one
 *  asset, waiting for the end of that asset's segment instance. */
#define CHANNEL_NOTE_ASSETS 4
typedef struct channel_notes {
    char uri[512];                /**< "" when free */
    char text[512];               /**< messages, "; " separated, truncated */
    uint64_t seq;                 /**< age, for reuse of the oldest slot */
} channel_notes;

/** One tick queued for a sink: the tick (with its references) and a
 *  reference to the plan its strings point into. */
typedef struct sink_entry {
    rv_tick tick;      /**< tick.video NULL: a resume marker (renditions only) */
    plan *plan;
} sink_entry;

/** One sink (kind SINK: its own tick queue) or one transport (kind
 *  TRANSPORT: a reader of its rendition's stream hub), with its thread. */
typedef struct sink_runner {
    struct channel *ch;
    module_instance inst;
    sink_queue *queue;             /**< sinks only */
    rendition *rend;               /**< transports only: one reference */
    stream_sub *sub;               /**< transports only: the transport thread's */
    atomic_int leaving;            /**< transports: stop now (a reload removed it) */
    atomic_int draining;           /**< transports: deliver what is left, then stop */
    atomic_uint_fast64_t lagged;   /**< transports: times it fell behind its hub */
    pthread_t thread;
    int thread_started;
    atomic_uint_fast64_t restarts;
} sink_runner;

/** The sinks the output thread feeds. Immutable once published: a reload
 *  publishes a new set and retires the old one after a tick boundary. */
typedef struct sink_set {
    size_t count;
    sink_runner *runner[ENGINE_MAX_SINKS];  /**< owned by the channel */
    size_t rend_count;
    rendition *rend[ENGINE_MAX_SINKS];      /**< the distinct renditions of the transports */
} sink_set;

/** The preload thread's single slot: a request and its result. */
typedef enum preload_state {
    PRELOAD_IDLE = 1,
    PRELOAD_REQUESTED = 2,
    PRELOAD_BUSY = 3,
    PRELOAD_DONE = 4
} preload_state;

/** An opened segment: which producer instance and its handle. */
typedef struct open_segment {
    module_instance *producer;   /**< borrowed from the channel */
    void *handle;                /**< the module's segment handle */
    rv_segment_request req;      /**< strings borrowed from `plan` */
    plan *plan;                  /**< one reference while open */
} open_segment;

typedef struct preload_slot {
    preload_state state;
    int discard;                 /**< close the result when done */
    int64_t gen;
    timeline_pos pos;
    int64_t first_tick;
    plan *plan;                  /**< one reference while requested */
    int rc;
    open_segment seg;
} preload_slot;

struct channel {
    int32_t id;
    char name[256];
    config_channel *cfg;          /**< owned clone */
    rv_program_format format;
    rv_rational rate;
    master_clock *clock;          /**< borrowed */
    int is_virtual;
    frame_pool *pool;
    int64_t epoch_utc_ms;
    int64_t epoch_ns;
    ring *ring;
    int64_t freeze_max_ticks;     /**< repeat the last picture at most this long */

    module_instance *producers;   /**< owned array: serve the plan's URIs */
    size_t producer_count;
    module_instance *slate;       /**< the fallback slate; producer thread's once running */
    _Atomic(module_instance *) slate_next;    /**< published by a reload */
    _Atomic(module_instance *) slate_retired; /**< handed back by the producer */
    _Atomic(module_instance *) renderer;      /**< read by the output thread per tick */
    _Atomic(sink_set *) sinks;                /**< read by the output thread per tick */
    pthread_mutex_t sinks_lock;   /**< held while replacing or reading the sets */
    pthread_mutex_t rend_lock;    /**< guards renditions and their refs */
    rendition *renditions;        /**< every live rendition (shared by transports) */
    size_t transport_queue_bytes; /**< each transport's bound on its hub queue */
    int rend_seq;
    atomic_llong ticks_done;      /**< ticks the output thread has completed */

    rv_video_frame *black;        /**< shared black picture (one reference) */
    _Atomic(rv_video_frame *) fallback; /**< pre-rendered slate picture (one reference) */

    /* plans: plan_lock guards every field here */
    pthread_mutex_t plan_lock;
    plan *plan;                   /**< on air (output thread's view) */
    plan *pending;                /**< set by update, taken by the output thread */
    plan *prod_plan;              /**< what the producer must produce from restart_tick */
    atomic_llong gen;             /**< current production generation */
    atomic_llong restart_tick;    /**< older generations are valid below this tick */

    /* threads */
    pthread_t output_thread;
    pthread_t producer_thread;
    pthread_t preload_thread;
    int threads_started;
    atomic_int stopping;
    atomic_llong stop_tick;
    pthread_mutex_t finish_lock;
    pthread_cond_t finish_cond;
    int finished;

    pthread_mutex_t preload_lock;
    pthread_cond_t preload_cond;
    preload_slot preload;

    /* recovery (producer thread) */
    int64_t restart_history_ms[5]; /**< channel time of the last restarts */

    /* on demand (channel_demand.c): demand_lock guards demand_seq */
    atomic_int on_demand;         /**< encode = "on-demand" (real clock only) */
    atomic_int idle;              /**< set by the output thread: nothing decodes or encodes */
    pthread_mutex_t demand_lock;
    pthread_cond_t demand_cond;   /**< demand arrived, the idle spell ended, or stopping */
    uint64_t demand_seq;          /**< bumped by every wake */
    atomic_uint_fast64_t idle_spells; /**< times the channel went idle */

    /* counters and gauges: atomics, written by one thread each */
    atomic_llong last_tick;
    atomic_llong frame_gap_ns;
    atomic_uint_fast64_t frames_by_source[5];
    atomic_uint_fast64_t late_ticks;
    atomic_uint_fast64_t producer_errors;
    atomic_uint_fast64_t producer_restarts;
    atomic_uint_fast64_t segments_by_outcome[6]; /**< indexed by asrun_status */
    atomic_llong position_ms;
    asrun_writer *asrun;          /**< borrowed; NULL: no as-run log */
    channel_event_fn on_event;    /**< output thread's reports; NULL: none */
    void *event_user;
    channel_preview *preview;     /**< owned: the latest image a module published */
    atomic_int state;             /**< channel_state */

    /* now playing, for status: status_lock */
    pthread_mutex_t status_lock;
    timeline_pos now_pos;
    char now_block[256];
    int32_t now_segment;
    char now_event[256];
    char now_asset[256];
    char last_error[256];
    char public_error[96];   /**< last_error without asset names or system error texts */
    timeline_pos next_pos;
    char next_block[256];
    int32_t next_segment;
    char next_event[256];
    char next_asset[256];

    /* what producers said about each asset, for its as-run line: notes_lock */
    pthread_mutex_t notes_lock;
    channel_notes notes[CHANNEL_NOTE_ASSETS];
};

/* channel_output.c */
void *channel_output_main(void *arg);
void channel_release_staged(staged_frame *f);

/* channel_producer.c */
void *channel_producer_main(void *arg);
void *channel_preload_main(void *arg);
void channel_open_segment_close(open_segment *seg);
void channel_preload_clear(channel *ch);

/* channel_sinks.c */
/** Create, start and run one sink for @p binding (borrowed). NULL with the
 *  reason in @p err. Control thread. */
sink_runner *sink_runner_create(channel *ch, const config_binding *binding, char *err,
                                size_t errlen);
/** Let the sink drain its queue, join its thread, stop, destroy, free. */
void sink_runner_retire(sink_runner *sr);
/** Hand @p tick to every sink of the current set; a full queue waits up to
 *  @p wait_ns (ns, 0 = not at all; the start burst) for room before it drops
 *  its oldest tick. Output thread. */
void channel_sinks_push(channel *ch, const rv_tick *tick, plan *p, int64_t wait_ns);
/** An idle spell ended: every encoder starts a new stream now, while the
 *  producer opens the asset. Output thread. */
void channel_sinks_resume(channel *ch);
/** Retire every sink. Control thread, output thread stopped. */
void channel_sinks_stop(channel *ch);
/** Fill @p set's list of distinct renditions from its transports. */
void sink_set_index_renditions(sink_set *set);
void channel_sink_entry_release(void *entry);

/* channel_demand.c */
/** channel_demand_count's answer when an output pushes (always on). */
#define CHANNEL_DEMAND_PUSH INT64_MAX
/** channel_demand_count's answer while a reload holds the sets: unknown,
 *  change nothing (stay on, stay idle). */
#define CHANNEL_DEMAND_BUSY (-1)
/** Clients of listening transports are polled this often while idle (HTTP
 *  and HLS viewers wake the channel at once through the hub's waker). A
 *  quarter second: a TCP client waits at most that much longer for its
 *  first picture, and twenty idle channels' output threads wake 80 times a
 *  second instead of 200 (issue 12: < 0.02 CPU-s/s for 20 idle channels). */
#define CHANNEL_DEMAND_POLL_NS (250LL * 1000 * 1000)
/** Pull consumers now (viewers, HLS, clients of listening transports), or
 *  CHANNEL_DEMAND_PUSH with the pushing module's name in *@p push (borrowed
 *  from the module), or CHANNEL_DEMAND_BUSY while a reload holds the sinks
 *  lock. Output thread or the control thread at start. */
int64_t channel_demand_count(channel *ch, const char **push);
/** Wake whoever waits for demand (a stream_demand_fn; @p user is the
 *  channel). Thread: any; takes only demand_lock. */
void channel_demand_wake(void *user);
/** The wake count, read before checking what a wait is for. Thread: any. */
uint64_t channel_demand_seq(channel *ch);
/** Wait until a wake after @p seen, stopping, or @p timeout_ns (real time). */
void channel_demand_wait(channel *ch, uint64_t seen, int64_t timeout_ns);

/* channel_reload.c */
/** Heap instance of @p binding for this channel. NULL with @p err. */
module_instance *channel_instance_new(channel *ch, const config_binding *binding, char *err,
                                      size_t errlen);
void channel_instance_free(module_instance *mi);
/** Render a fallback slate picture with @p slate. NULL with @p err. */
rv_video_frame *channel_render_fallback(channel *ch, module_instance *slate, char *err,
                                        size_t errlen);
/** Wait (real time, bounded) until the output thread finished a tick that
 *  began after this call, or has ended. */
void channel_wait_tick_boundary(channel *ch);

/* channel_asrun.c: the output thread's per-segment accounting */
void channel_tally_begin(segment_tally *t, int64_t first_aired_tick, int join_in_progress);
/** The instance at @p pos ended (@p cut: before its fence). Counts its
 *  outcome and submits its as-run line. Output thread. */
void channel_tally_finish(channel *ch, const plan *p, const timeline_pos *pos,
                          const segment_tally *t);
/** A segment that owned no tick was passed over. Output thread. */
void channel_tally_skipped(channel *ch, const plan *p, const timeline_pos *pos);

/** Report @p ev (borrowed) to the channel's listener, if any. Output thread. */
static inline void channel_emit(channel *ch, const channel_event *ev)
{
    if (ch->on_event)
        ch->on_event(ch->event_user, ev);
}

/* channel.c */
/** Take (and forget) the notes about @p uri into @p out ("" if none).
 *  Output thread. */
void channel_notes_take(channel *ch, const char *uri, char *out, size_t len);
/** Event callback for every module instance of the channel. Thread: any. */
void channel_on_event(void *owner, rv_context *ctx, rv_event_type type, int code,
                      const char *subject, const char *message);
/** Set the channel's last error (logged, in status) and @p public_reason
 *  (borrowed; NULL: the same text), what unauthenticated /healthz shows: it
 *  must not name files or carry a system error text (permission denied vs
 *  not media would say which files exist). */
void channel_set_error(channel *ch, const char *public_reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
