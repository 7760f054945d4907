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

/** What a channel starts with. Pointers borrowed for the call unless said. */
typedef struct channel_params {
    const config_channel *cfg;     /**< bindings (options already overridden) */
    rv_program_format format;      /**< the session's ProgramFormat */
    plan *plan;                    /**< one reference passes to the channel */
    master_clock *clock;           /**< borrowed; outlives the channel */
    int64_t stop_utc_ms;           /**< emit ticks due before this, then end; INT64_MAX: run */
    struct asrun_writer *asrun;    /**< borrowed, outlives the channel; NULL: none */
} channel_params;

/** Build every instance, compute the epoch, prime the first frame, start the
 *  threads. Returns once the first frame is staged (the channel is ready).
 *  RV_OK, or an error with the reason in @p err (nothing is left running). */
int channel_start(const channel_params *params, channel **out, char *err, size_t errlen);
/** Swap in @p p (one reference passes to the channel) at the next tick. */
void channel_update_plan(channel *ch, plan *p);
/** Stop threads, flush and stop sinks, destroy instances, free. Control thread. */
void channel_stop(channel *ch);

/** Apply @p cfg (borrowed) to the running channel: sinks added, removed or
 *  changed and renderer and slate changes take effect at a tick boundary;
 *  nothing else pauses. A changed profile is refused (RV_ESTATE). On error
 *  nothing changed and @p err says why. Control thread. */
int channel_reconfigure(channel *ch, const config_channel *cfg, char *err, size_t errlen);

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
