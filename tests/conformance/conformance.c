/**
 * @file tests/conformance/conformance.c
 * @short The module conformance suite v1: `rv_conformance [options]
 *        <module.so> [...]` loads each module with the real loader and checks
 *        it against the SDK contract, printing TAP.
 *
 * For every module: descriptor sanity (name, version, description, options
 * table, defaults validate, producers declare a scheme); invalid option
 * values (out of range, wrong enum, wrong type, unknown key) refused by
 * options_build, so create is never reached with them; then 50
 * create/start/exercise/stop/destroy cycles with default options and with two
 * sets of valid non-default options (other enum choice, range minimum or
 * maximum, toggled boolean). Exercising means: producers open the --uri
 * given, or else the test URI the module declares (rv_module_info.test_uri,
 * ABI 1.2), and read a few frames — a producer with neither fails, so a run
 * never reports "all ok" with open/read skipped; renderers render a few
 * ticks; sinks write a few ticks; encoders (ABI 1.2) encode a few ticks and
 * must hand back whole TS packets through stream_write, one write flagged as
 * a random access point that starts with a PAT; transports (ABI 1.2) deliver
 * a few chunks of TS packets. Everything
 * goes through the real host API with a real frame pool and a virtual clock;
 * no frame may be left outstanding.
 *
 * Options:
 *   --set KEY=VALUE  set a module option in every run (e.g. a sink's path or
 *                    port 0); "@TMP@" in VALUE becomes a scratch folder
 *   --uri URI        the asset a producer opens (default: its test_uri)
 *   --cycles N       cycles per option set (default 50)
 *
 * The program owns its registry, pool, clock and scratch folder (removed at
 * exit); modules run with the scratch folder as working directory, so a
 * default relative output path never litters the caller's folder.
 * Single-threaded: every callback runs on the main thread, which is a valid
 * serialisation of the threads the SDK documents.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/frame_pool.h"
#include "core/host_api.h"
#include "core/log.h"
#include "core/options.h"
#include "loader/loader.h"
#include "tap.h"

#define CONF_MAX_SETS 16
#define CONF_FRAMES 3
#define CONF_CHANNEL_ID 1
/** 2026-01-01T00:00:00Z, the virtual clock's start. */
#define CONF_START_UTC_NS 1767225600000000000LL

/** What the command line asked for. Strings borrowed from argv or owned by
 *  the scratch-folder substitution (freed at exit). */
typedef struct conf_args {
    const char *set_key[CONF_MAX_SETS];
    char *set_value[CONF_MAX_SETS]; /**< owned */
    size_t set_count;
    const char *uri; /**< NULL: the module's test_uri */
    int cycles;
} conf_args;

/** The host side shared by every run: pool, clock, format. */
typedef struct conf_host {
    rv_program_format format;
    frame_pool *pool;    /**< owned */
    master_clock *clock; /**< owned */
    int64_t next_tick;   /**< ticks emitted so far on the virtual clock */
} conf_host;

static const char conf_channel_name[] = "Conformance";

/* ------------------------------------------------------------------------ */
/* option sets                                                              */

static void conf_raw_free(raw_option *raw, size_t count)
{
    for (size_t i = 0; raw && i < count; i++)
        raw_option_free(&raw[i]);
    free(raw);
}

/** A --set value as a raw option of the type @p o declares. */
static int conf_raw_from_text(const rv_option *o, const char *text, raw_option *out)
{
    char *end = NULL;
    memset(out, 0, sizeof(*out));
    out->key = strdup(o->key);
    if (!out->key)
        return RV_ENOMEM;
    switch (o->type) {
    case RV_OPT_BOOL:
        out->type = RAW_BOOL;
        if (!strcmp(text, "true") || !strcmp(text, "1"))
            out->i = 1;
        else if (!strcmp(text, "false") || !strcmp(text, "0"))
            out->i = 0;
        else
            return RV_EINVAL;
        return RV_OK;
    case RV_OPT_INT:
        out->type = RAW_INT;
        out->i = strtoll(text, &end, 10);
        return *text && !*end ? RV_OK : RV_EINVAL;
    case RV_OPT_FLOAT:
        out->type = RAW_FLOAT;
        out->f = strtod(text, &end);
        return *text && !*end ? RV_OK : RV_EINVAL;
    default:
        out->type = RAW_STRING;
        out->s = strdup(text);
        return out->s ? RV_OK : RV_ENOMEM;
    }
}

static const rv_option *conf_find_option(const rv_option *table, const char *key)
{
    for (size_t i = 0; table && table[i].key; i++) {
        if (!strcmp(table[i].key, key))
            return &table[i];
    }
    return NULL;
}

static int conf_is_set_by_user(const conf_args *a, const char *key)
{
    for (size_t i = 0; i < a->set_count; i++) {
        if (!strcmp(a->set_key[i], key))
            return 1;
    }
    return 0;
}

/** A valid value of @p o other than its default; @p variant 0 picks the
 *  range minimum / next choice, 1 the range maximum / last other choice.
 *  Returns 0 when the option has no such value we may pick (strings, paths,
 *  a one-choice enum). */
static int conf_nondefault(const rv_option *o, int variant, raw_option *out)
{
    memset(out, 0, sizeof(*out));
    switch (o->type) {
    case RV_OPT_BOOL:
        out->type = RAW_BOOL;
        out->i = !o->default_int;
        break;
    case RV_OPT_INT:
        out->type = RAW_INT;
        if (o->min_int == 0 && o->max_int == 0)
            out->i = o->default_int + 1;
        else
            out->i = variant == 0 ? o->min_int : o->max_int;
        if (out->i == o->default_int)
            out->i = variant == 0 ? o->max_int : o->min_int;
        if (out->i == o->default_int)
            return 0;
        break;
    case RV_OPT_FLOAT:
        out->type = RAW_FLOAT;
        if (o->min_float == 0.0 && o->max_float == 0.0)
            out->f = o->default_float + 1.0;
        else
            out->f = variant == 0 ? o->min_float : o->max_float;
        if (out->f == o->default_float)
            out->f = variant == 0 ? o->max_float : o->min_float;
        if (out->f == o->default_float)
            return 0;
        break;
    case RV_OPT_ENUM: {
        const char *pick = NULL;
        for (size_t i = 0; o->choices[i]; i++) {
            if (strcmp(o->choices[i], o->default_string) != 0) {
                pick = o->choices[i];
                if (variant == 0)
                    break;
            }
        }
        if (!pick)
            return 0;
        out->type = RAW_STRING;
        out->s = strdup(pick);
        break;
    }
    default: return 0;
    }
    out->key = strdup(o->key);
    return 1;
}

/** The user's --set values, plus (variant >= 0) a non-default value for
 *  every other option. *@p out owned by the caller (conf_raw_free). */
static int conf_build_raw(const conf_args *a, const rv_option *table, int variant, raw_option **out,
                          size_t *count, char *err, size_t errlen)
{
    size_t n = 0;
    while (table && table[n].key)
        n++;
    raw_option *raw = calloc(n + a->set_count + 1, sizeof(*raw));
    size_t used = 0;
    if (!raw)
        return RV_ENOMEM;
    for (size_t i = 0; i < a->set_count; i++) {
        const rv_option *o = conf_find_option(table, a->set_key[i]);
        if (!o) {
            snprintf(err, errlen, "--set %s: the module declares no such option", a->set_key[i]);
            goto fail;
        }
        if (conf_raw_from_text(o, a->set_value[i], &raw[used++]) != RV_OK) {
            snprintf(err, errlen, "--set %s: '%s' is not a valid value", a->set_key[i],
                     a->set_value[i]);
            goto fail;
        }
    }
    for (size_t i = 0; variant >= 0 && i < n; i++) {
        if (conf_is_set_by_user(a, table[i].key))
            continue;
        if (conf_nondefault(&table[i], variant, &raw[used]))
            used++;
    }
    *out = raw;
    *count = used;
    return RV_OK;

fail:
    conf_raw_free(raw, used);
    return RV_EINVAL;
}

/** "key=value, ..." of a raw set, for the TAP line. */
static void conf_describe_raw(const raw_option *raw, size_t count, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count && pos < len; i++) {
        int w;
        const char *sep = i ? ", " : "";
        switch (raw[i].type) {
        case RAW_BOOL:
            w = snprintf(buf + pos, len - pos, "%s%s=%s", sep, raw[i].key,
                         raw[i].i ? "true" : "false");
            break;
        case RAW_INT:
            w = snprintf(buf + pos, len - pos, "%s%s=%lld", sep, raw[i].key, (long long)raw[i].i);
            break;
        case RAW_FLOAT:
            w = snprintf(buf + pos, len - pos, "%s%s=%g", sep, raw[i].key, raw[i].f);
            break;
        default:
            w = snprintf(buf + pos, len - pos, "%s%s=\"%s\"", sep, raw[i].key, raw[i].s);
            break;
        }
        if (w < 0)
            break;
        pos += (size_t)w;
    }
    if (!count)
        snprintf(buf, len, "defaults");
}

/* ------------------------------------------------------------------------ */
/* exercising an instance                                                   */

/** The next tick of the virtual channel, built from pool buffers. One
 *  reference each to video and audio passes to the caller. */
static int conf_make_tick(conf_host *h, rv_tick *t)
{
    int64_t n = h->next_tick++;
    memset(t, 0, sizeof(*t));
    t->tick = n;
    t->utc_ns = CONF_START_UTC_NS + rv_ticks_to_ns(h->format.frame_rate, n);
    clock_sleep_until(h->clock, t->utc_ns);
    t->source = RV_SOURCE_SLATE;
    t->video = frame_pool_video_alloc(h->pool);
    t->audio = frame_pool_audio_alloc(
        h->pool, rv_samples_in_tick(h->format.frame_rate, h->format.audio_rate, n));
    if (!t->video || !t->audio)
        return RV_ENOMEM;
    frame_pool_video_fill_black(t->video);
    frame_pool_audio_fill_silence(t->audio);
    t->block_id = "conformance";
    t->segment_index = 0;
    t->event_id = "";
    t->asset_uri = "slate:";
    t->segment_first_tick = 0;
    t->segment_end_tick = INT64_MAX;
    t->asset_offset_ms = -1;
    return RV_OK;
}

static void conf_release_tick(rv_tick *t)
{
    frame_pool_video_release(t->video);
    frame_pool_audio_release(t->audio);
    t->video = NULL;
    t->audio = NULL;
}

static int conf_exercise_producer(conf_host *h, const loaded_module *m, void *state,
                                  const char *uri, char *why, size_t len)
{
    rv_segment_request req = {
        .struct_size = sizeof(req),
        .asset_uri = uri,
        .first_tick = h->next_tick,
        .frame_count = CONF_FRAMES,
        .type = RV_SEGMENT_FILLER,
        .event_id = "",
        .transition_in = {.type = RV_TRANSITION_NONE},
        .transition_out = {.type = RV_TRANSITION_NONE},
    };
    void *seg = NULL;
    int rc = m->producer.open(state, &req, &seg);
    if (rc != RV_OK) {
        snprintf(why, len, "open(%s) returned %d (%s)", uri, rc, rv_strerror(rc));
        return rc;
    }
    for (int64_t k = 0; k <= CONF_FRAMES && rc == RV_OK; k++) {
        rv_produce out = {.tick = req.first_tick + k, .index = k, .asset_offset_ms = -1};
        out.audio = frame_pool_audio_alloc(
            h->pool, rv_samples_in_tick(h->format.frame_rate, h->format.audio_rate, out.tick));
        int r = m->producer.read(seg, &out);
        if (k < CONF_FRAMES && r != RV_OK) {
            snprintf(why, len, "read #%lld returned %d (%s)", (long long)k, r, rv_strerror(r));
            rc = r == RV_OK ? RV_EINTERNAL : r;
        } else if (k < CONF_FRAMES && (!out.video || out.video->width != h->format.width ||
                                       out.video->height != h->format.height)) {
            snprintf(why, len, "read #%lld gave no picture of the channel's size", (long long)k);
            rc = RV_EINTERNAL;
        } else if (k == CONF_FRAMES && r == RV_OK) {
            snprintf(why, len, "read past frame_count (%d) still delivered a frame", CONF_FRAMES);
            rc = RV_EINTERNAL;
        }
        frame_pool_video_release(out.video);
        frame_pool_audio_release(out.audio);
    }
    m->producer.close(seg);
    return rc;
}

static int conf_exercise_renderer(conf_host *h, const loaded_module *m, void *state, char *why,
                                  size_t len)
{
    for (int i = 0; i < CONF_FRAMES; i++) {
        rv_tick t;
        int rc = conf_make_tick(h, &t);
        if (rc == RV_OK && (rc = m->renderer.render(state, &t)) != RV_OK)
            snprintf(why, len, "render returned %d (%s)", rc, rv_strerror(rc));
        if (rc == RV_OK && (!t.video || t.video->width != h->format.width)) {
            snprintf(why, len, "render left no picture of the channel's size");
            rc = RV_EINTERNAL;
        }
        conf_release_tick(&t);
        if (rc != RV_OK)
            return rc;
    }
    return RV_OK;
}

static int conf_exercise_sink(conf_host *h, const loaded_module *m, void *state, char *why,
                              size_t len)
{
    for (int i = 0; i < CONF_FRAMES; i++) {
        rv_tick t;
        int rc = conf_make_tick(h, &t);
        if (rc == RV_OK && (rc = m->sink.write(state, &t)) != RV_OK)
            snprintf(why, len, "write returned %d (%s)", rc, rv_strerror(rc));
        conf_release_tick(&t);
        if (rc != RV_OK)
            return rc;
    }
    if (m->sink.get_stats) {
        rv_sink_stats st = {.struct_size = sizeof(st)};
        int rc = m->sink.get_stats(state, &st);
        if (rc != RV_OK) {
            snprintf(why, len, "get_stats returned %d (%s)", rc, rv_strerror(rc));
            return rc;
        }
    }
    if (m->sink.describe) {
        char buf[256];
        memset(buf, 'x', sizeof(buf));
        int rc = m->sink.describe(state, buf, sizeof(buf));
        if (rc != RV_OK || !memchr(buf, '\0', sizeof(buf))) {
            snprintf(why, len, "describe returned %d or no NUL-terminated text", rc);
            return rc != RV_OK ? rc : RV_EINTERNAL;
        }
    }
    return RV_OK;
}

/** What an encoder handed to stream_write during one cycle. */
typedef struct conf_stream {
    uint64_t writes;
    uint64_t bytes;
    uint64_t random_access;   /**< writes flagged RV_STREAM_RANDOM_ACCESS */
    int ra_starts_with_pat;   /**< every flagged write began with a PAT (after an SDT) */
    int packets_ok;           /**< every 188-byte packet began with 0x47 */
} conf_stream;

static int conf_on_stream(void *owner, rv_context *ctx, const void *data, size_t len,
                          uint32_t flags)
{
    conf_stream *cs = owner;
    const uint8_t *p = data;
    (void)ctx;
    cs->writes++;
    cs->bytes += len;
    for (size_t i = 0; i < len; i += 188)
        cs->packets_ok &= p[i] == 0x47;
    if (flags & RV_STREAM_RANDOM_ACCESS) {
        cs->random_access++;
        /* a PAT first; only an SDT (PID 0x11) or null packets may precede it */
        int pat = 0;
        for (size_t i = 0; i < len && !pat; i += 188) {
            unsigned pid = (unsigned)(p[i + 1] & 0x1f) << 8 | p[i + 2];
            pat = pid == 0;
            if (!pat && pid != 0x11 && pid != 0x1fff)
                break;
        }
        cs->ra_starts_with_pat &= pat;
    }
    return RV_OK;
}

static int conf_exercise_encoder(conf_host *h, const loaded_module *m, void *state, char *why,
                                 size_t len)
{
    for (int i = 0; i < CONF_FRAMES; i++) {
        rv_tick t;
        int rc = conf_make_tick(h, &t);
        if (rc == RV_OK && (rc = m->encoder.encode(state, &t)) != RV_OK)
            snprintf(why, len, "encode returned %d (%s)", rc, rv_strerror(rc));
        conf_release_tick(&t);
        if (rc != RV_OK)
            return rc;
    }
    if (m->encoder.describe) {
        char buf[256];
        memset(buf, 'x', sizeof(buf));
        int rc = m->encoder.describe(state, buf, sizeof(buf));
        if (rc != RV_OK || !memchr(buf, '\0', sizeof(buf))) {
            snprintf(why, len, "describe returned %d or no NUL-terminated text", rc);
            return rc != RV_OK ? rc : RV_EINTERNAL;
        }
    }
    return RV_OK;
}

/** After stop: what the encoder wrote over the cycle is a TS stream. */
static int conf_check_stream(const conf_stream *cs, char *why, size_t len)
{
    if (!cs->writes || !cs->packets_ok) {
        snprintf(why, len, "%llu stream_write calls, %s", (unsigned long long)cs->writes,
                 cs->packets_ok ? "no bytes" : "a packet without the 0x47 sync byte");
        return RV_EINTERNAL;
    }
    if (!cs->random_access || !cs->ra_starts_with_pat) {
        snprintf(why, len, "%llu random access writes%s", (unsigned long long)cs->random_access,
                 cs->ra_starts_with_pat ? "" : ", one not starting with a PAT");
        return RV_EINTERNAL;
    }
    return RV_OK;
}

static int conf_exercise_transport(conf_host *h, const loaded_module *m, void *state, char *why,
                                   size_t len)
{
    uint8_t ts[188 * 7];
    for (size_t i = 0; i < sizeof(ts); i += 188) {
        memset(ts + i, 0xff, 188);
        ts[i] = 0x47; /* null packets, PID 0x1FFF */
        ts[i + 1] = 0x1f;
        ts[i + 2] = 0xff;
        ts[i + 3] = 0x10;
    }
    for (int i = 0; i < CONF_FRAMES; i++) {
        rv_chunk c = {.struct_size = sizeof(c), .data = ts, .len = sizeof(ts),
                      .flags = i == 0 ? RV_STREAM_RANDOM_ACCESS : 0, .tick = h->next_tick++};
        int rc = m->transport.write(state, &c);
        if (rc != RV_OK) {
            snprintf(why, len, "write returned %d (%s)", rc, rv_strerror(rc));
            return rc;
        }
    }
    if (m->transport.get_stats) {
        rv_sink_stats st = {.struct_size = sizeof(st)};
        int rc = m->transport.get_stats(state, &st);
        if (rc != RV_OK) {
            snprintf(why, len, "get_stats returned %d (%s)", rc, rv_strerror(rc));
            return rc;
        }
    }
    if (m->transport.describe) {
        char buf[256];
        memset(buf, 'x', sizeof(buf));
        int rc = m->transport.describe(state, buf, sizeof(buf));
        if (rc != RV_OK || !memchr(buf, '\0', sizeof(buf))) {
            snprintf(why, len, "describe returned %d or no NUL-terminated text", rc);
            return rc != RV_OK ? rc : RV_EINTERNAL;
        }
    }
    return RV_OK;
}

/** The lifecycle callbacks of @p m, whatever its kind. */
typedef struct conf_ops {
    int (*create)(const rv_create_args *, void **);
    void (*destroy)(void *);
    int (*start)(void *);
    void (*stop)(void *);
} conf_ops;

static conf_ops conf_ops_of(const loaded_module *m)
{
    switch (m->kind) {
    case RV_KIND_PRODUCER:
        return (conf_ops){m->producer.create, m->producer.destroy, m->producer.start,
                          m->producer.stop};
    case RV_KIND_RENDERER:
        return (conf_ops){m->renderer.create, m->renderer.destroy, m->renderer.start,
                          m->renderer.stop};
    case RV_KIND_ENCODER:
        return (conf_ops){m->encoder.create, m->encoder.destroy, m->encoder.start,
                          m->encoder.stop};
    case RV_KIND_TRANSPORT:
        return (conf_ops){m->transport.create, m->transport.destroy, m->transport.start,
                          m->transport.stop};
    case RV_KIND_SINK: break;
    }
    return (conf_ops){m->sink.create, m->sink.destroy, m->sink.start, m->sink.stop};
}

/** One create / start / exercise / stop / destroy cycle. */
static int conf_cycle(conf_host *h, const loaded_module *m, const rv_options *opts, const char *uri,
                      char *why, size_t len)
{
    rv_context ctx;
    host_context_init(&ctx, CONF_CHANNEL_ID, m->name, h->pool, h->clock, NULL, NULL);
    rv_create_args args = {
        .struct_size = sizeof(args),
        .host = host_api_get(),
        .ctx = &ctx,
        .options = opts,
        .format = &h->format,
        .channel_id = CONF_CHANNEL_ID,
        .channel_name = conf_channel_name,
    };
    void *state = NULL;
    conf_ops ops = conf_ops_of(m);
    int (*create)(const rv_create_args *, void **) = ops.create;
    void (*destroy)(void *) = ops.destroy;
    int (*start)(void *) = ops.start;
    void (*stop)(void *) = ops.stop;
    conf_stream cs = {.ra_starts_with_pat = 1, .packets_ok = 1};
    if (m->kind == RV_KIND_ENCODER)
        host_context_set_stream_sink(&ctx, conf_on_stream, &cs);
    int rc = create(&args, &state);
    if (rc != RV_OK) {
        snprintf(why, len, "create returned %d (%s)", rc, rv_strerror(rc));
        return rc;
    }
    if (start && (rc = start(state)) != RV_OK) {
        snprintf(why, len, "start returned %d (%s)", rc, rv_strerror(rc));
        destroy(state);
        return rc;
    }
    if (m->kind == RV_KIND_PRODUCER && uri)
        rc = conf_exercise_producer(h, m, state, uri, why, len);
    else if (m->kind == RV_KIND_RENDERER)
        rc = conf_exercise_renderer(h, m, state, why, len);
    else if (m->kind == RV_KIND_SINK)
        rc = conf_exercise_sink(h, m, state, why, len);
    else if (m->kind == RV_KIND_ENCODER)
        rc = conf_exercise_encoder(h, m, state, why, len);
    else if (m->kind == RV_KIND_TRANSPORT)
        rc = conf_exercise_transport(h, m, state, why, len);
    if (stop)
        stop(state);
    if (rc == RV_OK && m->kind == RV_KIND_ENCODER)
        rc = conf_check_stream(&cs, why, len);
    destroy(state);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* the checks of one module                                                 */

/** The module's declared test URI (ABI 1.2), or NULL. */
static const char *conf_test_uri(const loaded_module *m)
{
    return rv_module_info_has(m->info, test_uri) && m->info->test_uri && m->info->test_uri[0]
               ? m->info->test_uri
               : NULL;
}

static void conf_check_descriptor(const loaded_module *m)
{
    const rv_module_info *info = m->info;
    char err[512] = "";
    tap_ok(info->name && info->name[0], "%s: name is not empty", m->path);
    tap_ok(info->version && info->version[0], "%s: version '%s' is not empty", m->name,
           info->version ? info->version : "(null)");
    tap_ok(info->description && info->description[0], "%s: description is not empty", m->name);
    tap_ok(options_table_check(info->options, err, sizeof(err)) == RV_OK,
           "%s: options table is valid %s", m->name, err);
    int helped = 1;
    for (size_t i = 0; info->options && info->options[i].key; i++)
        helped &= info->options[i].help && info->options[i].help[0];
    tap_ok(helped, "%s: every option has help text for --list-modules", m->name);
    rv_options *defaults = NULL;
    tap_ok(options_defaults(info->options, &defaults, err, sizeof(err)) == RV_OK && defaults,
           "%s: every declared default validates %s", m->name, err);
    options_free(defaults);
    if (m->kind == RV_KIND_PRODUCER)
        tap_ok(m->producer.schemes && m->producer.schemes[0],
               "%s: producer declares at least one URI scheme", m->name);
    const char *test_uri = conf_test_uri(m);
    if (test_uri)
        tap_ok(m->kind == RV_KIND_PRODUCER && loaded_module_serves(m, test_uri),
               "%s: its test_uri '%s' is a producer's and has a scheme it serves", m->name,
               test_uri);
}

/** One invalid value: options_build must refuse it (so create never sees it). */
static void conf_expect_refused(const loaded_module *m, raw_option *bad, const char *what)
{
    rv_options *opts = NULL;
    char err[512] = "";
    int rc = options_build(m->info->options, bad, 1, &opts, err, sizeof(err));
    tap_ok(rc == RV_EINVAL && !opts, "%s: %s is refused before create: %s", m->name, what, err);
    options_free(opts);
    raw_option_free(bad);
}

static void conf_check_invalid(const loaded_module *m)
{
    raw_option bad = {.key = strdup("conformance-unknown-key"), .type = RAW_INT, .i = 1};
    conf_expect_refused(m, &bad, "an unknown key");
    for (size_t i = 0; m->info->options && m->info->options[i].key; i++) {
        const rv_option *o = &m->info->options[i];
        char what[256];
        switch (o->type) {
        case RV_OPT_INT:
            if (o->min_int == 0 && o->max_int == 0)
                break;
            if (o->min_int > INT64_MIN) {
                bad = (raw_option){.key = strdup(o->key), .type = RAW_INT, .i = o->min_int - 1};
                snprintf(what, sizeof(what), "%s = %lld (below the range)", o->key,
                         (long long)bad.i);
                conf_expect_refused(m, &bad, what);
            }
            if (o->max_int < INT64_MAX) {
                bad = (raw_option){.key = strdup(o->key), .type = RAW_INT, .i = o->max_int + 1};
                snprintf(what, sizeof(what), "%s = %lld (above the range)", o->key,
                         (long long)bad.i);
                conf_expect_refused(m, &bad, what);
            }
            break;
        case RV_OPT_FLOAT:
            if (o->min_float == 0.0 && o->max_float == 0.0)
                break;
            bad = (raw_option){.key = strdup(o->key),
                               .type = RAW_FLOAT,
                               .f = o->min_float - 1.0 - (o->max_float - o->min_float)};
            snprintf(what, sizeof(what), "%s = %g (below the range)", o->key, bad.f);
            conf_expect_refused(m, &bad, what);
            bad = (raw_option){.key = strdup(o->key),
                               .type = RAW_FLOAT,
                               .f = o->max_float + 1.0 + (o->max_float - o->min_float)};
            snprintf(what, sizeof(what), "%s = %g (above the range)", o->key, bad.f);
            conf_expect_refused(m, &bad, what);
            break;
        case RV_OPT_ENUM:
            bad = (raw_option){
                .key = strdup(o->key), .type = RAW_STRING, .s = strdup("conformance-not-a-choice")};
            snprintf(what, sizeof(what), "%s = \"conformance-not-a-choice\" (not a choice)",
                     o->key);
            conf_expect_refused(m, &bad, what);
            break;
        default: break;
        }
        /* The wrong type for every option. */
        if (o->type == RV_OPT_STRING || o->type == RV_OPT_PATH || o->type == RV_OPT_ENUM)
            bad = (raw_option){.key = strdup(o->key), .type = RAW_BOOL, .i = 1};
        else
            bad = (raw_option){.key = strdup(o->key), .type = RAW_STRING, .s = strdup("x")};
        snprintf(what, sizeof(what), "%s of the wrong type", o->key);
        conf_expect_refused(m, &bad, what);
    }
}

static void conf_check_cycles(conf_host *h, const conf_args *a, const loaded_module *m)
{
    const char *uri = NULL;
    if (m->kind == RV_KIND_PRODUCER) {
        uri = a->uri ? a->uri : conf_test_uri(m);
        if (!tap_ok(uri != NULL, "%s: producer has a URI to open: %s", m->name,
                    a->uri       ? "--uri"
                    : uri        ? "its test_uri"
                                 : "none: give --uri URI (an asset it can open) or declare "
                                   ".test_uri in RV_MODULE_DEFINE"))
            tap_diag("%s: open/read/close cannot be exercised without a URI", m->name);
    }
    static const char *const set_names[] = {"default options",
                                            "non-default options (minimums, "
                                            "first other choice, toggled)",
                                            "non-default options (maximums, last other choice, "
                                            "toggled)"};
    int64_t outstanding_before = frame_pool_outstanding(h->pool);
    for (int variant = -1; variant <= 1; variant++) {
        char err[512] = "";
        char desc[1024];
        raw_option *raw = NULL;
        size_t count = 0;
        rv_options *opts = NULL;
        int rc = conf_build_raw(a, m->info->options, variant, &raw, &count, err, sizeof(err));
        if (rc == RV_OK && variant >= 0 && count == a->set_count) {
            /* No option has a non-default value to pick: same as defaults. */
            conf_raw_free(raw, count);
            continue;
        }
        if (rc == RV_OK)
            rc = options_build(m->info->options, raw, count, &opts, err, sizeof(err));
        conf_describe_raw(raw, count, desc, sizeof(desc));
        if (!tap_ok(rc == RV_OK, "%s: %s build: %s %s", m->name, set_names[variant + 1], desc,
                    err)) {
            conf_raw_free(raw, count);
            continue;
        }
        char why[512] = "";
        int done = 0;
        for (; done < a->cycles; done++) {
            if (conf_cycle(h, m, opts, uri, why, sizeof(why)) != RV_OK)
                break;
        }
        tap_ok(done == a->cycles, "%s: %d create/start/%s/stop/destroy cycles with %s%s%s", m->name,
               a->cycles,
               m->kind == RV_KIND_PRODUCER   ? (uri ? "open/read/close" : "(no open)")
               : m->kind == RV_KIND_RENDERER ? "render"
               : m->kind == RV_KIND_ENCODER  ? "encode"
                                             : "write",
               set_names[variant + 1],
               done == a->cycles ? "" : ": failed: ", done == a->cycles ? "" : why);
        if (done != a->cycles)
            tap_diag("cycle %d of %d failed with %s", done + 1, a->cycles, desc);
        options_free(opts);
        conf_raw_free(raw, count);
    }
    int64_t kept = frame_pool_outstanding(h->pool) - outstanding_before;
    tap_ok(kept == 0, "%s: every frame went back to the pool (%lld kept)", m->name,
           (long long)kept);
}

/* ------------------------------------------------------------------------ */
/* main                                                                     */

static void conf_usage(FILE *out)
{
    fprintf(out,
            "usage: rv_conformance [--set KEY=VALUE]... [--uri URI] [--cycles N] MODULE.so...\n"
            "\n"
            "Checks each RetroVue Playout module against the SDK contract (ABI %d.%d) with\n"
            "the engine's own loader and host services, and prints TAP (run it under\n"
            "prove, or read the 'not ok' lines):\n"
            "  - the loader's checks (entry symbol, ABI, signature, sizes, callbacks)\n"
            "  - the descriptor: name, version, description, options with help text,\n"
            "    defaults that validate, producer schemes, the test URI's scheme\n"
            "  - invalid option values refused before create\n"
            "  - N create/start/exercise/stop/destroy cycles with default options and\n"
            "    two sets of non-default ones; exercise = a producer opens URI and reads\n"
            "    3 frames of the channel's size, a renderer renders 3 ticks, a sink\n"
            "    writes 3 ticks\n"
            "  - every frame returned to the pool\n"
            "\n"
            "  --set KEY=VALUE  set a module option in every run (e.g. a sink's path or\n"
            "                   port=0); \"@TMP@\" in VALUE becomes a scratch folder\n"
            "                   removed at exit\n"
            "  --uri URI        the asset a producer opens; default: the test_uri the\n"
            "                   module declares. A producer with neither fails.\n"
            "  --cycles N       cycles per option set (default 50)\n"
            "  --help, -h       print this help\n"
            "\n"
            "Exit status: 0 every check passed, 1 a check failed, 2 bad usage.\n"
            "See the SDK guide (retrovue-playout-dev) and rv_conformance(1).\n",
            RV_ABI_MAJOR, RV_ABI_MINOR);
}

static void conf_remove_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/** @p value with every "@TMP@" replaced by @p tmp; owned by the caller. */
static char *conf_substitute(const char *value, const char *tmp)
{
    size_t cap = strlen(value) + 1;
    for (const char *p = strstr(value, "@TMP@"); p; p = strstr(p + 5, "@TMP@"))
        cap += strlen(tmp);
    char *out = malloc(cap);
    if (!out)
        return NULL;
    char *w = out;
    for (const char *p = value; *p;) {
        if (!strncmp(p, "@TMP@", 5)) {
            w += sprintf(w, "%s", tmp);
            p += 5;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return out;
}

/** True when @p uri starts with an RFC 3986 scheme ("slate:", "file:"). */
static int conf_has_scheme(const char *uri)
{
    size_t i = 0;
    while ((uri[i] >= 'a' && uri[i] <= 'z') || (uri[i] >= 'A' && uri[i] <= 'Z') ||
           (i > 0 && ((uri[i] >= '0' && uri[i] <= '9') || uri[i] == '+' || uri[i] == '-' ||
                      uri[i] == '.')))
        i++;
    return i > 0 && uri[i] == ':';
}

int main(int argc, char **argv)
{
    conf_args a = {.cycles = 50};
    char *uri_abs = NULL; /**< owned: a relative --uri made absolute */
    const char *modules[64];
    char *module_paths[64] = {NULL}; /**< owned absolute paths */
    size_t module_count = 0;
    char tmp[] = "/tmp/rv_conformance.XXXXXX";
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "rv_conformance: cannot make a scratch folder\n");
        return 2;
    }
    int status = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            conf_usage(stdout);
            status = 0;
            goto out;
        } else if (!strcmp(argv[i], "--set") && i + 1 < argc && a.set_count < CONF_MAX_SETS) {
            char *eq = strchr(argv[++i], '=');
            if (!eq || eq == argv[i]) {
                fprintf(stderr, "rv_conformance: --set wants KEY=VALUE, got '%s'\n", argv[i]);
                goto out;
            }
            *eq = '\0';
            a.set_key[a.set_count] = argv[i];
            a.set_value[a.set_count] = conf_substitute(eq + 1, tmp);
            if (!a.set_value[a.set_count])
                goto out;
            a.set_count++;
        } else if (!strcmp(argv[i], "--uri") && i + 1 < argc) {
            a.uri = argv[++i];
        } else if (!strcmp(argv[i], "--cycles") && i + 1 < argc) {
            a.cycles = atoi(argv[++i]);
            if (a.cycles < 1) {
                fprintf(stderr, "rv_conformance: --cycles wants a positive count\n");
                goto out;
            }
        } else if (argv[i][0] == '-' || module_count == sizeof(modules) / sizeof(modules[0])) {
            conf_usage(stderr);
            goto out;
        } else {
            modules[module_count++] = argv[i];
        }
    }
    if (!module_count) {
        conf_usage(stderr);
        goto out;
    }
    /* Modules run inside the scratch folder, so a default relative path
     * (a log file) lands there and goes with it. */
    for (size_t i = 0; i < module_count; i++) {
        char *abs = realpath(modules[i], NULL);
        module_paths[i] = abs ? abs : strdup(modules[i]);
        if (!module_paths[i])
            goto out;
    }
    /* A relative --uri path names a file in the caller's folder: make it
     * absolute before the modules move into the scratch folder. */
    if (a.uri && a.uri[0] != '/' && !conf_has_scheme(a.uri) && (uri_abs = realpath(a.uri, NULL)))
        a.uri = uri_abs;
    if (chdir(tmp) != 0) {
        fprintf(stderr, "rv_conformance: cannot enter %s\n", tmp);
        goto out;
    }

    log_set_level(RV_LOG_WARN);
    conf_host h = {
        .format = {.width = 320,
                   .height = 180,
                   .frame_rate = {30000, 1001},
                   .audio_rate = 48000,
                   .audio_channels = 2},
    };
    h.pool = frame_pool_create(&h.format);
    h.clock = clock_create_virtual(CONF_START_UTC_NS);
    module_registry *reg = registry_create();
    if (!h.pool || !h.clock || !reg) {
        tap_ok(0, "host set-up (pool, clock, registry)");
    } else {
        for (size_t i = 0; i < module_count; i++) {
            char err[1024] = "";
            size_t before = registry_count(reg);
            int rc = registry_load_file(reg, module_paths[i], err, sizeof(err));
            if (!tap_ok(rc == RV_OK, "%s loads with the real loader %s", module_paths[i], err))
                continue;
            const loaded_module *m = registry_at(reg, before);
            tap_diag("%s: %s %s %s", m->path, rv_module_kind_name(m->kind), m->name,
                     m->info->version);
            conf_check_descriptor(m);
            conf_check_invalid(m);
            conf_check_cycles(&h, &a, m);
        }
    }
    status = tap_done();
    registry_destroy(reg);
    frame_pool_destroy(h.pool);
    clock_destroy(h.clock);

out:
    free(uri_abs);
    for (size_t i = 0; i < a.set_count; i++)
        free(a.set_value[i]);
    for (size_t i = 0; i < module_count; i++)
        free(module_paths[i]);
    conf_remove_tmp(tmp);
    return status;
}
