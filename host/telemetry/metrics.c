/**
 * @file host/telemetry/metrics.c
 * @short Render /metrics: one table row per metric family, samples grouped
 *        by family as the text format requires. Owns nothing.
 *
 * Channel labels: `channel` is the channel id; sink families add `sink`,
 * "<index>-<module>" (e.g. "0-mpegts-tcp"). Stopped channels are not
 * listed: the engine only reports running ones.
 */
#include "telemetry/metrics.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <retrovue/error.h>
#include <retrovue/frame.h>
#include <retrovue/version.h>

#ifdef RV_HAVE_PLAYOUT_API_VERSION
#include "playout_api_version.h"
#define METRICS_API_VERSION PLAYOUT_API_VERSION
#else
#define METRICS_API_VERSION "none"
#endif

/** How a family reads its value(s) from a snapshot. Never zero. */
typedef enum family_kind {
    FAMILY_CHANNEL_U64 = 1,     /**< a uint64_t member of channel_status */
    FAMILY_CHANNEL_STATE = 2,   /**< state, with the state's name as a label */
    FAMILY_FRAME_GAP = 3,       /**< frame_gap_seconds */
    FAMILY_BUFFER_DEPTH = 4,    /**< buffer_depth_frames */
    FAMILY_TICK = 5,            /**< tick (int64) */
    FAMILY_FRAMES_BY_SOURCE = 6,
    FAMILY_SEGMENTS_BY_OUTCOME = 7,
    FAMILY_SINK_U64 = 8,        /**< a uint64_t member of sink_status */
    FAMILY_SINK_CLIENTS = 9,
    FAMILY_SINK_DROPPED = 10,   /**< the sink's own drops + the queue's */
    FAMILY_SINK_ENCODE_SECONDS = 11
} family_kind;

typedef struct metric_family {
    const char *name;
    const char *type;       /**< "gauge" or "counter" */
    const char *help;
    family_kind kind;
    size_t offset;          /**< FAMILY_*_U64: offsetof the member */
} metric_family;

static const metric_family metric_families[] = {
    {.name = "retrovue_playout_channel_state", .type = "gauge", .kind = FAMILY_CHANNEL_STATE,
     .help = "State of a running channel: STOPPED=0, BUFFERING=1, READY=2, ERROR=3, IDLE=4 "
             "(on demand, nobody watching); the state label carries the name."},
    {.name = "retrovue_playout_frame_gap_seconds", .type = "gauge", .kind = FAMILY_FRAME_GAP,
     .help = "Emission time of the channel's last tick minus its deadline, in seconds."},
    {.name = "retrovue_playout_buffer_depth_frames", .type = "gauge", .kind = FAMILY_BUFFER_DEPTH,
     .help = "Frames staged ahead in the channel's frame ring."},
    {.name = "retrovue_playout_tick", .type = "gauge", .kind = FAMILY_TICK,
     .help = "Index of the last tick the channel emitted (-1 before the first)."},
    {.name = "retrovue_playout_frames_total", .type = "counter", .kind = FAMILY_FRAMES_BY_SOURCE,
     .help = "Frames emitted, by source: real (producer), freeze (last picture repeated), "
             "slate, pad (black and silence)."},
    {.name = "retrovue_playout_segments_total", .type = "counter",
     .kind = FAMILY_SEGMENTS_BY_OUTCOME,
     .help = "Segments ended, by as-run outcome: aired, truncated, padded, failed, skipped."},
    {.name = "retrovue_playout_late_ticks_total", .type = "counter", .kind = FAMILY_CHANNEL_U64,
     .offset = offsetof(channel_status, late_ticks),
     .help = "Ticks emitted more than one frame duration after their deadline."},
    {.name = "retrovue_playout_producer_errors_total", .type = "counter",
     .kind = FAMILY_CHANNEL_U64, .offset = offsetof(channel_status, producer_errors),
     .help = "Producer failures (open or read errors, hangs) of the channel's assets."},
    {.name = "retrovue_playout_producer_restarts_total", .type = "counter",
     .kind = FAMILY_CHANNEL_U64, .offset = offsetof(channel_status, producer_restarts),
     .help = "Recovery attempts of failed assets."},
    {.name = "retrovue_playout_idle_spells_total", .type = "counter",
     .kind = FAMILY_CHANNEL_U64, .offset = offsetof(channel_status, idle_spells),
     .help = "Times an on-demand channel went idle (nobody watching: no decode, no encode)."},
    {.name = "retrovue_playout_sink_bytes_total", .type = "counter", .kind = FAMILY_SINK_U64,
     .offset = offsetof(sink_status, stats.bytes), .help = "Bytes the sink delivered."},
    {.name = "retrovue_playout_sink_clients", .type = "gauge", .kind = FAMILY_SINK_CLIENTS,
     .help = "Clients connected to the sink now."},
    {.name = "retrovue_playout_sink_disconnects_total", .type = "counter",
     .kind = FAMILY_SINK_U64, .offset = offsetof(sink_status, stats.disconnects),
     .help = "Clients the sink dropped or lost."},
    {.name = "retrovue_playout_sink_dropped_frames_total", .type = "counter",
     .kind = FAMILY_SINK_DROPPED,
     .help = "Frames the sink did not deliver: dropped by the sink itself plus ticks its host "
             "queue dropped because the sink fell behind."},
    {.name = "retrovue_playout_sink_queue_dropped_frames_total", .type = "counter",
     .kind = FAMILY_SINK_U64, .offset = offsetof(sink_status, queue_dropped),
     .help = "Of the dropped frames, the ticks the host queue dropped (sink too slow)."},
    {.name = "retrovue_playout_sink_encode_seconds_total", .type = "counter",
     .kind = FAMILY_SINK_ENCODE_SECONDS, .help = "Time the sink spent encoding, in seconds."},
    {.name = "retrovue_playout_sink_restarts_total", .type = "counter", .kind = FAMILY_SINK_U64,
     .offset = offsetof(sink_status, restarts),
     .help = "Times the host restarted the sink after a write error."},
    {.name = NULL},
};

void metrics_escape_label(text_buffer *out, const char *value)
{
    for (const char *c = value; *c; c++) {
        if (*c == '\\')
            text_buffer_puts(out, "\\\\");
        else if (*c == '"')
            text_buffer_puts(out, "\\\"");
        else if (*c == '\n')
            text_buffer_puts(out, "\\n");
        else
            text_buffer_append(out, c, 1);
    }
}

/** `name{channel="ID"` (the caller adds more labels and the closing brace). */
static void sample_open(text_buffer *out, const char *name, const channel_status *ch)
{
    text_buffer_printf(out, "%s{channel=\"%" PRId32 "\"", name, ch->id);
}

static void sample_u64(text_buffer *out, const char *name, const channel_status *ch,
                       uint64_t value)
{
    sample_open(out, name, ch);
    text_buffer_printf(out, "} %" PRIu64 "\n", value);
}

static void sample_labelled_u64(text_buffer *out, const char *name, const channel_status *ch,
                                const char *label, const char *value_name, uint64_t value)
{
    sample_open(out, name, ch);
    text_buffer_printf(out, ",%s=\"", label);
    metrics_escape_label(out, value_name);
    text_buffer_printf(out, "\"} %" PRIu64 "\n", value);
}

/** A float sample value as the format spells it: the shortest of %.15g and
 *  %.17g that reads back exactly. */
static void sample_double_value(text_buffer *out, double v)
{
    if (v != v)
        text_buffer_puts(out, "NaN");
    else if (v > 1.7976931348623157e308)
        text_buffer_puts(out, "+Inf");
    else if (v < -1.7976931348623157e308)
        text_buffer_puts(out, "-Inf");
    else {
        char text[32];
        snprintf(text, sizeof(text), "%.15g", v);
        if (strtod(text, NULL) != v)
            snprintf(text, sizeof(text), "%.17g", v);
        text_buffer_puts(out, text);
    }
}

static void emit_sink(text_buffer *out, const metric_family *f, const channel_status *ch,
                      size_t index)
{
    const sink_status *s = &ch->sinks[index];
    sample_open(out, f->name, ch);
    text_buffer_printf(out, ",sink=\"%zu-", index);
    metrics_escape_label(out, s->module);
    text_buffer_puts(out, "\"} ");
    switch (f->kind) {
    case FAMILY_SINK_U64:
        text_buffer_printf(out, "%" PRIu64 "\n",
                           *(const uint64_t *)((const char *)s + f->offset));
        break;
    case FAMILY_SINK_CLIENTS:
        text_buffer_printf(out, "%" PRIu32 "\n", s->stats.clients);
        break;
    case FAMILY_SINK_DROPPED:
        text_buffer_printf(out, "%" PRIu64 "\n", s->stats.dropped_frames + s->queue_dropped);
        break;
    case FAMILY_SINK_ENCODE_SECONDS:
        sample_double_value(out, (double)s->stats.encode_ns / 1e9);
        text_buffer_puts(out, "\n");
        break;
    default:
        break;
    }
}

static void emit_channel(text_buffer *out, const metric_family *f, const channel_status *ch)
{
    switch (f->kind) {
    case FAMILY_CHANNEL_U64:
        sample_u64(out, f->name, ch, *(const uint64_t *)((const char *)ch + f->offset));
        break;
    case FAMILY_CHANNEL_STATE:
        sample_open(out, f->name, ch);
        text_buffer_printf(out, ",state=\"%s\"} %d\n", channel_state_name(ch->state),
                           (int)ch->state);
        break;
    case FAMILY_FRAME_GAP:
        sample_open(out, f->name, ch);
        text_buffer_puts(out, "} ");
        sample_double_value(out, ch->frame_gap_seconds);
        text_buffer_puts(out, "\n");
        break;
    case FAMILY_BUFFER_DEPTH:
        sample_u64(out, f->name, ch, ch->buffer_depth_frames);
        break;
    case FAMILY_TICK:
        sample_open(out, f->name, ch);
        text_buffer_printf(out, "} %" PRId64 "\n", ch->tick);
        break;
    case FAMILY_FRAMES_BY_SOURCE:
        sample_labelled_u64(out, f->name, ch, "source", rv_tick_source_name(RV_SOURCE_REAL),
                            ch->frames_real);
        sample_labelled_u64(out, f->name, ch, "source", rv_tick_source_name(RV_SOURCE_FREEZE),
                            ch->frames_freeze);
        sample_labelled_u64(out, f->name, ch, "source", rv_tick_source_name(RV_SOURCE_SLATE),
                            ch->frames_slate);
        sample_labelled_u64(out, f->name, ch, "source", rv_tick_source_name(RV_SOURCE_PAD),
                            ch->frames_pad);
        break;
    case FAMILY_SEGMENTS_BY_OUTCOME:
        sample_labelled_u64(out, f->name, ch, "outcome", "aired", ch->segments_aired);
        sample_labelled_u64(out, f->name, ch, "outcome", "truncated", ch->segments_truncated);
        sample_labelled_u64(out, f->name, ch, "outcome", "padded", ch->segments_padded);
        sample_labelled_u64(out, f->name, ch, "outcome", "failed", ch->segments_failed);
        sample_labelled_u64(out, f->name, ch, "outcome", "skipped", ch->segments_skipped);
        break;
    default:
        for (size_t i = 0; i < ch->sink_count && i < ENGINE_MAX_SINKS; i++)
            emit_sink(out, f, ch, i);
        break;
    }
}

/** `# HELP` text: backslash and line feed escaped. */
static void emit_header(text_buffer *out, const char *name, const char *type, const char *help)
{
    text_buffer_printf(out, "# HELP %s ", name);
    for (const char *c = help; *c; c++) {
        if (*c == '\\')
            text_buffer_puts(out, "\\\\");
        else if (*c == '\n')
            text_buffer_puts(out, "\\n");
        else
            text_buffer_append(out, c, 1);
    }
    text_buffer_printf(out, "\n# TYPE %s %s\n", name, type);
}

int metrics_render_channels(const channel_status *channels, size_t count, text_buffer *out)
{
    for (const metric_family *f = metric_families; f->name; f++) {
        emit_header(out, f->name, f->type, f->help);
        for (size_t i = 0; i < count; i++)
            emit_channel(out, f, &channels[i]);
    }
    emit_header(out, "retrovue_playout_build_info", "gauge",
                "Always 1; the labels name the engine's version and the control API's.");
    text_buffer_puts(out, "retrovue_playout_build_info{version=\"");
    metrics_escape_label(out, RV_VERSION_STRING);
    text_buffer_puts(out, "\",api_version=\"");
    metrics_escape_label(out, METRICS_API_VERSION);
    text_buffer_puts(out, "\"} 1\n");
    emit_header(out, "retrovue_playout_channels", "gauge", "Channels running now.");
    text_buffer_printf(out, "retrovue_playout_channels %zu\n", count);
    return text_buffer_failed(out) ? RV_ENOMEM : RV_OK;
}

int metrics_render(engine *e, text_buffer *out)
{
    channel_status *channels = NULL;
    size_t count = 0;
    int rc = engine_list_channels(e, &channels, &count);
    if (rc != RV_OK)
        return rc;
    rc = metrics_render_channels(channels, count, out);
    free(channels);
    uint64_t written;
    uint64_t dropped;
    engine_asrun_counts(e, &written, &dropped);
    emit_header(out, "retrovue_playout_asrun_records_total", "counter",
                "As-run records written to asrun_dir.");
    text_buffer_printf(out, "retrovue_playout_asrun_records_total %llu\n",
                       (unsigned long long)written);
    emit_header(out, "retrovue_playout_asrun_dropped_total", "counter",
                "As-run records lost (queue full or write error); should stay 0.");
    text_buffer_printf(out, "retrovue_playout_asrun_dropped_total %llu\n",
                       (unsigned long long)dropped);
    return rc == RV_OK && text_buffer_failed(out) ? RV_ENOMEM : rc;
}
