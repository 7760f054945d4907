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
#include "channel/module_instance.h"
#include "core/frame_pool.h"
#include "core/ring.h"
#include "core/sink_queue.h"
#include "plan/timeline.h"

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

/** One tick queued for a sink: the tick (with its references) and a
 *  reference to the plan its strings point into. */
typedef struct sink_entry {
    rv_tick tick;
    plan *plan;
} sink_entry;

typedef struct sink_runner {
    struct channel *ch;
    module_instance inst;
    sink_queue *queue;
    pthread_t thread;
    int thread_started;
    atomic_uint_fast64_t restarts;
    atomic_uint_fast64_t errors;
} sink_runner;

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

    module_instance *producers;   /**< owned array */
    size_t producer_count;
    module_instance slate;
    module_instance renderer;
    sink_runner *sinks;           /**< owned array */
    size_t sink_count;

    rv_video_frame *black;        /**< shared black picture (one reference) */
    rv_video_frame *fallback;     /**< pre-rendered slate picture (one reference) */

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

    /* counters and gauges: atomics, written by one thread each */
    atomic_llong last_tick;
    atomic_llong frame_gap_ns;
    atomic_uint_fast64_t frames_by_source[5];
    atomic_uint_fast64_t late_ticks;
    atomic_uint_fast64_t stale_dropped;
    atomic_uint_fast64_t producer_errors;
    atomic_int state;             /**< channel_state */
    atomic_int failing;           /**< the producer airs the slate for a failure */

    /* now playing, for status: status_lock */
    pthread_mutex_t status_lock;
    timeline_pos now_pos;
    char now_block[256];
    int32_t now_segment;
    char now_event[256];
    char now_asset[256];
    char last_error[256];
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
int channel_sinks_start(channel *ch, char *err, size_t errlen);
void channel_sinks_push(channel *ch, const rv_tick *tick, plan *p);
void channel_sinks_stop(channel *ch);
void channel_sink_entry_release(void *entry);

/* channel.c */
/** Event callback for every module instance of the channel. Thread: any. */
void channel_on_event(void *owner, rv_context *ctx, rv_event_type type, int code,
                      const char *subject, const char *message);
void channel_set_error(channel *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
