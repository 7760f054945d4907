/**
 * @file tests/unit/test_telemetry_render.c
 * @short Unit tests of the telemetry renderers on hand-made channel
 *        snapshots: /metrics families (HELP, TYPE, grouping, labels, label
 *        escaping, one state sample per channel) and /healthz status codes
 *        and bodies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tap.h"
#include "telemetry/healthz.h"
#include "telemetry/metrics.h"
#include "telemetry/text_buffer.h"

static channel_status make_channel(int32_t id, channel_state state)
{
    channel_status ch;
    memset(&ch, 0, sizeof(ch));
    ch.id = id;
    snprintf(ch.name, sizeof(ch.name), "Channel \"%d\"", id);
    ch.state = state;
    ch.tick = 1234;
    ch.frame_gap_seconds = 0.0025;
    ch.buffer_depth_frames = 12;
    ch.frames_real = 1000;
    ch.frames_slate = 7;
    ch.segments_aired = 3;
    ch.segments_failed = 1;
    ch.sink_count = 2;
    snprintf(ch.sinks[0].module, sizeof(ch.sinks[0].module), "mpegts-tcp");
    ch.sinks[0].stats.bytes = 188000;
    ch.sinks[0].stats.clients = 2;
    ch.sinks[0].stats.dropped_frames = 3;
    ch.sinks[0].queue_dropped = 4;
    ch.sinks[0].stats.encode_ns = 1500000000;
    snprintf(ch.sinks[1].module, sizeof(ch.sinks[1].module), "we\"ird\\mod\nule");
    return ch;
}

/** Lines of @p text starting with @p prefix. */
static int count_prefix(const char *text, const char *prefix)
{
    int n = 0;
    size_t len = strlen(prefix);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, prefix, len) == 0)
            n++;
    return n;
}

/** Every sample line's family was announced by the last # TYPE line. */
static int samples_grouped(const char *text)
{
    char family[128] = "";
    const char *l = text;
    while (l && *l) {
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l) : strlen(l);
        if (strncmp(l, "# TYPE ", 7) == 0) {
            const char *sp = memchr(l + 7, ' ', len - 7);
            if (!sp)
                return 0;
            snprintf(family, sizeof(family), "%.*s", (int)(sp - (l + 7)), l + 7);
        } else if (l[0] != '#') {
            size_t flen = strlen(family);
            if (!flen || strncmp(l, family, flen) != 0 || (l[flen] != '{' && l[flen] != ' '))
                return 0;
        }
        l = end ? end + 1 : NULL;
    }
    return 1;
}

static void test_metrics(void)
{
    channel_status chs[2] = {make_channel(1, CHANNEL_READY), make_channel(12, CHANNEL_ERROR)};
    text_buffer b;
    text_buffer_init(&b);
    tap_ok(metrics_render_channels(chs, 2, &b) == RV_OK, "metrics render");
    size_t len = 0;
    char *text = text_buffer_take(&b, &len);
    tap_ok(text && strlen(text) == len, "the body is NUL-terminated text of the given length");
    tap_ok(count_prefix(text, "# HELP ") == count_prefix(text, "# TYPE ") &&
               count_prefix(text, "# TYPE ") >= 17,
           "every family has HELP and TYPE (%d)", count_prefix(text, "# TYPE "));
    tap_ok(samples_grouped(text), "every sample follows its own family's TYPE line");
    tap_ok(count_prefix(text, "retrovue_playout_channel_state{") == 2 &&
               strstr(text, "retrovue_playout_channel_state{channel=\"1\",state=\"ready\"} 2\n") &&
               strstr(text, "retrovue_playout_channel_state{channel=\"12\",state=\"error\"} 3\n"),
           "one state sample per channel, value and state name");
    tap_ok(strstr(text, "retrovue_playout_frame_gap_seconds{channel=\"1\"} 0.0025\n") &&
               strstr(text, "retrovue_playout_buffer_depth_frames{channel=\"1\"} 12\n") &&
               strstr(text, "retrovue_playout_tick{channel=\"1\"} 1234\n"),
           "gap, depth and tick gauges");
    tap_ok(strstr(text, "retrovue_playout_frames_total{channel=\"1\",source=\"real\"} 1000\n") &&
               strstr(text, "retrovue_playout_frames_total{channel=\"1\",source=\"slate\"} 7\n") &&
               count_prefix(text, "retrovue_playout_frames_total{channel=\"1\"") == 4,
           "frames by source: real, freeze, slate, pad");
    tap_ok(strstr(text, "retrovue_playout_segments_total{channel=\"1\",outcome=\"failed\"} 1\n") &&
               count_prefix(text, "retrovue_playout_segments_total{channel=\"12\"") == 5,
           "segments by outcome: five outcomes");
    tap_ok(strstr(text, "retrovue_playout_sink_bytes_total{channel=\"1\",sink=\"0-mpegts-tcp\"} "
                        "188000\n") &&
               strstr(text, "retrovue_playout_sink_clients{channel=\"1\",sink=\"0-mpegts-tcp\"} 2\n") &&
               strstr(text, "retrovue_playout_sink_dropped_frames_total{channel=\"1\",sink=\"0-"
                            "mpegts-tcp\"} 7\n") &&
               strstr(text, "retrovue_playout_sink_queue_dropped_frames_total{channel=\"1\",sink="
                            "\"0-mpegts-tcp\"} 4\n") &&
               strstr(text, "retrovue_playout_sink_encode_seconds_total{channel=\"1\",sink=\"0-"
                            "mpegts-tcp\"} 1.5\n"),
           "sink families: bytes, clients, dropped (own + queue), queue dropped, encode seconds");
    tap_ok(strstr(text, "sink=\"1-we\\\"ird\\\\mod\\nule\"") != NULL,
           "label values escape quote, backslash and line feed");
    tap_ok(strstr(text, "retrovue_playout_build_info{version=\"") &&
               strstr(text, "retrovue_playout_channels 2\n"),
           "build_info and the running-channel count");
    free(text);

    text_buffer_init(&b);
    tap_ok(metrics_render_channels(NULL, 0, &b) == RV_OK, "no channel: renders");
    text = text_buffer_take(&b, &len);
    tap_ok(text && samples_grouped(text) && count_prefix(text, "retrovue_playout_channel_state{") == 0 &&
               strstr(text, "retrovue_playout_channels 0\n"),
           "no channel: families announced, no channel samples");
    free(text);
}

static json_t *render_health(const channel_status *chs, size_t n, unsigned *status)
{
    text_buffer b;
    text_buffer_init(&b);
    *status = 0;
    if (healthz_render_channels(chs, n, &b, status) != RV_OK) {
        text_buffer_free(&b);
        return NULL;
    }
    json_t *doc = json_loadb(b.data, b.len, 0, NULL);
    text_buffer_free(&b);
    return doc;
}

static void test_healthz(void)
{
    unsigned status;
    json_t *doc = render_health(NULL, 0, &status);
    tap_ok(doc && status == 200 && !strcmp(json_string_value(json_object_get(doc, "status")), "ok") &&
               json_array_size(json_object_get(doc, "channels")) == 0,
           "no channel started: 200 ok");
    json_decref(doc);

    channel_status chs[3] = {make_channel(1, CHANNEL_READY), make_channel(2, CHANNEL_ERROR),
                             make_channel(3, CHANNEL_BUFFERING)};
    snprintf(chs[1].last_error, sizeof(chs[1].last_error),
             "asset '/etc/shadow' failed at tick 3: permission denied");
    snprintf(chs[1].public_error, sizeof(chs[1].public_error), "asset unavailable");
    doc = render_health(chs, 1, &status);
    tap_ok(doc && status == 200 && json_array_size(json_object_get(doc, "channels")) == 1 &&
               !json_object_get(doc, "not_ready"),
           "every channel ready: 200");
    json_decref(doc);

    doc = render_health(chs, 3, &status);
    json_t *nr = doc ? json_object_get(doc, "not_ready") : NULL;
    json_t *c2 = json_array_get(nr, 0);
    json_t *c3 = json_array_get(nr, 1);
    tap_ok(doc && status == 503 && strcmp(json_string_value(json_object_get(doc, "status")), "ok") &&
               json_array_size(json_object_get(doc, "channels")) == 3 && json_array_size(nr) == 2,
           "a channel not ready: 503, every channel listed, the two not ready named");
    tap_ok(c2 && json_integer_value(json_object_get(c2, "id")) == 2 &&
               !strcmp(json_string_value(json_object_get(c2, "state")), "error") &&
               !strcmp(json_string_value(json_object_get(c2, "reason")), "asset unavailable") &&
               !strcmp(json_string_value(json_object_get(c2, "name")), "Channel \"2\""),
           "the failing channel: id, name (escaped), state error, reason 'asset unavailable'");
    char *dumped = doc ? json_dumps(doc, 0) : NULL;
    tap_ok(dumped && !strstr(dumped, "/etc/shadow") && !strstr(dumped, "permission"),
           "/healthz names no file and no system error (the detail stays in the status)");
    free(dumped);
    tap_ok(c3 && !strcmp(json_string_value(json_object_get(c3, "state")), "buffering") &&
               strlen(json_string_value(json_object_get(c3, "reason"))) > 0,
           "a buffering channel without an error still has a reason");
    json_decref(doc);
}

int main(void)
{
    tap_plan(19);
    test_metrics();
    test_healthz();
    return tap_done();
}
