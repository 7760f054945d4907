/**
 * @file host/channel/channel.h
 * @short One running channel: its plan on the tick grid, its producer,
 *        preload and output threads, its renderer and its sinks.
 *
 * Output never stops: every tick from the epoch until the channel is stopped
 * emits exactly one picture and one audio slice. The output thread never
 * opens, seeks or decodes; producers fill the channel's ring ahead of time and
 * the preload thread opens and primes the next segment before its seam.
 */
#ifndef RV_HOST_CHANNEL_H
#define RV_HOST_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/clock.h"
#include "engine/engine.h"
#include "plan/plan.h"

typedef struct channel channel;

/** What the output thread reports as it airs the plan. Never zero. */
typedef enum channel_event_type {
    CHANNEL_EVENT_BLOCK_STARTED = 1,   /**< a block's first tick airs */
    CHANNEL_EVENT_BLOCK_ENDED = 2,     /**< a block left the air (its fence, a swap, the stop) */
    CHANNEL_EVENT_SEGMENT_STARTED = 3, /**< a segment's first tick airs */
    CHANNEL_EVENT_SEGMENT_ENDED = 4,   /**< a segment ended; `record` is its as-run line */
    CHANNEL_EVENT_GAP_STARTED = 5,     /**< no block owns the tick (a dry block queue) */
    CHANNEL_EVENT_CLIENT_LEFT = 6      /**< a sink's client left; `text` says which
                                            ("<target>: <reason>"); from the sink's thread */
} channel_event_type;

/** One report. Pointers are borrowed for the call only. */
typedef struct channel_event {
    channel_event_type type;
    int64_t tick;                  /**< the tick it happened at (the first tick of what starts,
                                        the first tick after what ended) */
    int64_t utc_ms;                /**< that tick's instant */
    const plan_block *block;       /**< BLOCK_*, SEGMENT_*: the block (NULL in a gap) */
    const plan_segment *segment;   /**< SEGMENT_*: the segment */
    int64_t first_tick;            /**< BLOCK_ENDED: the block's first aired tick */
    int64_t fence_tick;            /**< BLOCK_*: the block's fence on the grid */
    int64_t ticks_by_source[5];    /**< BLOCK_ENDED: ticks aired, by rv_tick_source */
    int join_in_progress;          /**< *_STARTED: entered after its first tick */
    const struct asrun_record *record; /**< SEGMENT_ENDED */
    const char *text;              /**< CLIENT_LEFT: the sink's message */
} channel_event;

/** Receives the channel's events. Thread: the channel's output thread
 *  (CLIENT_LEFT: the reporting sink's thread): copy what you need and
 *  return at once (no I/O, no waiting on other locks than a short one of
 *  your own). */
typedef void (*channel_event_fn)(void *user, const channel_event *ev);

/** What a channel starts with. Pointers borrowed for the call unless said. */
typedef struct channel_params {
    const config_channel *cfg;     /**< bindings (options already overridden) */
    rv_program_format format;      /**< the session's ProgramFormat */
    plan *plan;                    /**< one reference passes to the channel */
    master_clock *clock;           /**< borrowed; outlives the channel */
    int64_t stop_utc_ms;           /**< emit ticks due before this, then end; INT64_MAX: run */
    struct asrun_writer *asrun;    /**< borrowed, outlives the channel; NULL: none */
    int64_t epoch_utc_ms;          /**< tick 0's instant; 0: now */
    channel_event_fn on_event;     /**< NULL: none */
    void *event_user;              /**< borrowed, outlives the channel */
} channel_params;

/** Build every instance, compute the epoch, prime the first frame, start the
 *  threads. Returns once the first frame is staged (the channel is ready).
 *  RV_OK, or an error with the reason in @p err (nothing is left running). */
int channel_start(const channel_params *params, channel **out, char *err, size_t errlen);
/** Swap in @p p (one reference passes to the channel) at the next tick. */
void channel_update_plan(channel *ch, plan *p);
/** A reference to the newest plan (the pending swap, else the one on air);
 *  the caller unrefs it. Thread: any. */
plan *channel_plan_ref(channel *ch);
/** Ticks emitted so far (the next tick's index). Thread: any. */
int64_t channel_ticks_emitted(channel *ch);
/** The channel's tick 0 instant (UTC ms). Thread: any. */
int64_t channel_epoch_utc_ms(channel *ch);
/** Stop threads, flush and stop sinks, destroy instances, free. Control thread. */
void channel_stop(channel *ch);

/** Apply @p cfg (borrowed) to the running channel: sinks added, removed or
 *  changed and renderer and slate changes take effect at a tick boundary;
 *  nothing else pauses. A changed profile is refused (RV_ESTATE). On error
 *  nothing changed and @p err says why. Control thread. */
int channel_reconfigure(channel *ch, const config_channel *cfg, char *err, size_t errlen);

struct stream_hub;
/** A reference to the stream hub of the channel's first rendition (its
 *  first transport's encoder settings), for HTTP viewers; the caller drops it
 *  with stream_hub_unref. NULL when the channel has no rendition. Thread: any. */
struct stream_hub *channel_stream_hub(channel *ch);

struct channel_preview;
/** The channel's latest published image (channel/channel_preview.h);
 *  borrowed, lives as long as the channel. Thread: any. */
struct channel_preview *channel_get_preview(channel *ch);

/** The plan handle on air (borrowed until the next update). */
const char *channel_plan_handle(channel *ch);
/** Fill @p out. Thread: any. */
void channel_status_get(channel *ch, channel_status *out);
/** Change when the channel ends (--run-for). Thread: any. */
void channel_set_stop_utc_ms(channel *ch, int64_t stop_utc_ms);
/** Block until the output thread has emitted its last tick. */
void channel_wait_finished(channel *ch);
int channel_finished(channel *ch);

#endif
