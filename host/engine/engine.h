/**
 * @file host/engine/engine.h
 * @short The engine: every channel of the process, and the one API the
 *        control plane (gRPC), main (autostart) and telemetry use to start,
 *        update, stop and inspect them.
 *
 * Calls are safe from any thread. Each channel has its own lock, so a slow
 * StartChannel on one channel (opening media) never delays calls on another.
 * Every call validates before it changes anything: an error leaves what was
 * running untouched.
 */
#ifndef RV_HOST_ENGINE_H
#define RV_HOST_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/format.h>
#include <retrovue/sink.h>

#include "config/config.h"
#include "core/clock.h"
#include "loader/loader.h"

typedef struct engine engine;

/** Channel states; the values are the telemetry gauge's. */
typedef enum channel_state {
    CHANNEL_STOPPED = 0,
    CHANNEL_BUFFERING = 1,
    CHANNEL_READY = 2,
    CHANNEL_ERROR = 3,
    CHANNEL_IDLE = 4      /**< on demand, nobody watching: the schedule runs on,
                               nothing decodes or encodes */
} channel_state;

const char *channel_state_name(channel_state s);

#define ENGINE_MAX_SINKS 16
#define ENGINE_TEXT 256

typedef struct sink_status {
    char module[64];
    char address[ENGINE_TEXT];     /**< from the sink's describe(), or "" */
    rv_sink_stats stats;
    uint64_t queue_dropped;        /**< ticks the host's queue dropped */
    uint64_t restarts;
} sink_status;

typedef struct channel_status {
    int32_t id;
    char name[ENGINE_TEXT];
    channel_state state;
    char plan_handle[ENGINE_TEXT];
    char block_id[ENGINE_TEXT];
    int32_t segment_index;
    char event_id[ENGINE_TEXT];
    char asset_uri[ENGINE_TEXT];
    int64_t tick;                  /**< last tick emitted, -1 before the first */
    double frame_gap_seconds;      /**< emission time of the last tick - its deadline */
    uint32_t buffer_depth_frames;  /**< frames staged in the ring */
    uint64_t frames_real;
    uint64_t frames_freeze;
    uint64_t frames_slate;
    uint64_t frames_pad;
    uint64_t late_ticks;
    uint64_t producer_errors;
    uint64_t producer_restarts;    /**< recovery attempts of failed assets */
    uint64_t idle_spells;          /**< times an on-demand channel went idle */
    uint64_t segments_aired;       /**< segments ended, by as-run outcome */
    uint64_t segments_truncated;
    uint64_t segments_padded;
    uint64_t segments_failed;
    uint64_t segments_skipped;
    int64_t epoch_utc_ms;          /**< the channel's tick 0 */
    char next_block_id[ENGINE_TEXT];   /**< the segment after the one on air */
    int32_t next_segment_index;
    char next_event_id[ENGINE_TEXT];
    char next_asset_uri[ENGINE_TEXT];
    int64_t segment_start_utc_ms;  /**< on-air segment's scheduled instants */
    int64_t segment_end_utc_ms;
    int64_t next_start_utc_ms;
    int64_t next_end_utc_ms;
    int64_t position_ms;           /**< position in the asset of the last tick, -1 if none */
    rv_program_format format;
    char last_error[ENGINE_TEXT];  /**< detail: asset, reason (control plane, log) */
    char public_error[ENGINE_TEXT]; /**< the same without file names or system error
                                         texts ("asset unavailable"): for /healthz */
    size_t sink_count;
    sink_status sinks[ENGINE_MAX_SINKS];
} channel_status;

/** What StartChannel asks for. Pointers borrowed for the call. */
typedef struct engine_start_request {
    int32_t channel_id;
    const char *plan_handle;
    int32_t port;                          /**< > 0: the mpegts-tcp listen port */
    const rv_program_format *format;       /**< NULL: the configured profile */
} engine_start_request;

/** @p cfg, @p reg and @p clock are borrowed and must outlive the engine. */
engine *engine_create(const config *cfg, const module_registry *reg, master_clock *clock);
struct asrun_writer;
/** Channels started from now on submit as-run records to @p w (borrowed,
 *  must outlive every channel; NULL: none). */
void engine_set_asrun(engine *e, struct asrun_writer *w);

/** Records the as-run writer has written and dropped (0, 0 without one).
 *  Thread: any. */
void engine_asrun_counts(engine *e, uint64_t *written, uint64_t *dropped);

/** Stop every channel, free everything. */
void engine_destroy(engine *e);

/** Start a channel; on RV_OK it is ready (first frame primed). Already running
 *  the same plan: RV_OK, "already running". Running another plan: RV_EBUSY,
 *  "use UpdatePlan". @p msg receives a human sentence either way. */
int engine_start_channel(engine *e, const engine_start_request *req, char *msg, size_t msglen);
/** Validate the plan, then swap it in at the next tick. Same plan: RV_OK no-op. */
int engine_update_plan(engine *e, int32_t channel_id, const char *plan_handle, char *msg,
                       size_t msglen);
/** Flush sinks, stop threads, free. Not running: RV_OK, "not running". */
int engine_stop_channel(engine *e, int32_t channel_id, char *msg, size_t msglen);
void engine_stop_all(engine *e);

/** Fill @p out (borrowed). RV_ENOENT when the channel is not running. */
int engine_channel_status(engine *e, int32_t channel_id, channel_status *out);
/** Every running channel; *out is owned by the caller (free()). */
int engine_list_channels(engine *e, channel_status **out, size_t *count);

/** Copy out channel @p channel_id's latest preview image (published by its
 *  renderer through rv_host_api.publish_image): @p mime receives its type
 *  (@p mimelen bytes), *@p data a copy the caller frees (free()), *@p len
 *  its size, *@p version a number that changes with every new image (an
 *  ETag) and *@p tick the channel's last tick when it was published.
 *  @p mime, @p version and @p tick may be NULL. RV_OK, RV_ENOENT (the
 *  channel is not running or has no image yet) or RV_ENOMEM. Thread: any. */
int engine_channel_preview(engine *e, int32_t channel_id, char *mime, size_t mimelen,
                           void **data, size_t *len, uint64_t *version, int64_t *tick);

struct stream_hub;
/** A reference to running channel @p channel_id's shared MPEG-TS stream (its
 *  first rendition) in *@p out; drop it with stream_hub_unref. RV_OK,
 *  RV_ENOENT (not running) or RV_ENOTSUP (the channel has no transport, so
 *  no rendition). Thread: any. */
int engine_channel_stream(engine *e, int32_t channel_id, struct stream_hub **out);

/** One channel of the config's `channels` list, running or not. */
typedef struct engine_configured_channel {
    int32_t id;
    char name[ENGINE_TEXT];
    char autostart_plan[ENGINE_TEXT];  /**< "" when none */
} engine_configured_channel;

/** Every channel the current config lists (in its order), whether running
 *  or not; *@p out is owned by the caller (free()), NULL when @p count is 0
 *  and on error. RV_OK or RV_ENOMEM. Thread: any. */
int engine_list_configured(engine *e, engine_configured_channel **out, size_t *count);

/** Apply a new, already bound config (SIGHUP): every running channel is
 *  reconfigured (sinks, renderer, slate) at a tick boundary; a channel whose
 *  profile changed keeps running unchanged, with a log line saying why.
 *  Future starts use @p cfg. Returns the previous config, which the caller
 *  frees; @p cfg is borrowed and must outlive the engine (or the next reload).
 *  Returns the number of channels that refused in *refused. */
const config *engine_reload(engine *e, const config *cfg, int *refused);

/** Set the stop for --run-for without waiting: every running channel, and
 *  every channel started from now on, stops after the tick due at
 *  @p stop_utc_ms (UTC milliseconds on the engine's clock; INT64_MAX: no
 *  stop). Call it before the first channel starts: on the virtual clock a
 *  channel runs flat out, so one started without its stop can be past it
 *  by the time it is told. Thread: any. */
void engine_set_stop_utc_ms(engine *e, int64_t stop_utc_ms);

/** engine_set_stop_utc_ms(@p stop_utc_ms), then wait: returns once every
 *  channel has emitted its last tick (--run-for). */
void engine_run_until(engine *e, int64_t stop_utc_ms);

#endif
