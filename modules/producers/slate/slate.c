/**
 * @file modules/producers/slate/slate.c
 * @short The "slate" producer: a generated card (colour bars, a solid colour
 *        or black) with a title, the channel's running clock and a tick
 *        counter, and a tone or silence. Serves the "slate" URI scheme and is
 *        the channel's fallback.
 *
 * An instance (slate_state) owns its parsed options, the text layout and the
 * tone's sample table; all are read-only after create(), so the
 * preload thread (open) and the producer thread (read) share them freely.
 * A segment (slate_segment) owns the card picture it hands out: rendered once
 * per segment, then handed out as new references (video_ref) for every
 * frame. With show_clock the card is replaced once per second of tick time
 * by a picture that is exclusively the segment's (the card of the second
 * before, once the host has released it, or a copy) with only the clock and
 * counter boxes repainted: a shared picture is never written, and a new
 * second costs two small boxes rather than a full picture.
 *
 * URI: "slate:" and "slate:default" use the options; "slate:bars",
 * "slate:solid" and "slate:black" override the pattern. Black is a clean
 * card (Y 16, U/V 128) with no text and silence.
 *
 * The clock shows the tick's UTC time, exactly: the host gives the UTC
 * instant of the segment's first tick (rv_segment_request.first_tick_utc_ns).
 * With a host too old to give it, the first read estimates the epoch from the
 * host clock (off by at most the producer's lead over the output). The counter
 * shows the exact tick index at which the card was drawn.
 */
#include <math.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/retrovue.h>

#include "slate_draw.h"

/** Which card a segment shows. Never zero. */
typedef enum slate_pattern {
    SLATE_PATTERN_BARS = 1,
    SLATE_PATTERN_SOLID = 2,
    SLATE_PATTERN_BLACK = 3
} slate_pattern;

#define SLATE_TEXT_MAX 256
#define SLATE_COUNTER_CHARS 17 /* "TICK " and up to 12 digits */
#define SLATE_CLOCK_CHARS 12   /* "HH:MM:SS UTC" */
#define SLATE_TEXT_LUMA 235
#define SLATE_EPOCH_UNSET INT64_MIN
#define SLATE_NS_PER_S 1000000000LL
#define SLATE_TONE_MIN_SAMPLES 4096

/** Where one line of text and the box behind it go (luma pixels). */
typedef struct slate_line {
    int x;
    int y;
    int scale;
    int box_x;
    int box_y;
    int box_w;
    int box_h;
} slate_line;

/** One instance: options, layout and tone table; read-only after create. */
typedef struct slate_state {
    const rv_host_api *host;        /**< borrowed, valid until destroy */
    rv_context *ctx;                /**< borrowed, valid until destroy */
    rv_program_format format;       /**< copy */
    slate_pattern pattern;          /**< from the "pattern" option */
    slate_yuv color;                /**< from the "color" option */
    char text[SLATE_TEXT_MAX];      /**< the title, cut to fit the width */
    int show_clock;
    int16_t *tone;                  /**< owned; whole periods, interleaved; NULL = silence */
    uint32_t tone_length_samples;   /**< samples per channel in the table */
    slate_line title;
    slate_line clock;
    slate_line counter;
    atomic_llong epoch_ns;          /**< estimated channel epoch, UTC ns */
} slate_state;

/** One open segment: owns its card. open() fills it on the preload thread;
 *  read() and close() use it on the producer thread afterwards. */
typedef struct slate_segment {
    slate_state *slate;             /**< borrowed: outlives its segments */
    slate_pattern pattern;
    int dynamic;                    /**< clock and counter drawn */
    int tone;                       /**< tone (1) or silence (0) */
    rv_segment_request position;    /**< offsets and first tick only */
    int64_t first_tick_utc_ns;      /**< UTC of position.first_tick; 0: unknown */
    int64_t frame_count;            /**< the budget */
    int64_t delivered_frames;
    rv_video_frame *card;           /**< one reference owned; NULL before the first read */
    rv_video_frame *spare;          /**< the card before, one reference owned, or NULL */
    int64_t card_second;            /**< UTC second the card's clock shows */
    uint32_t tone_pos;              /**< next sample (per channel) of the tone table */
    int tone_started;
} slate_segment;

static const char *const slate_patterns[] = {"bars", "solid", NULL};
static const char *const slate_schemes[] = {"slate", NULL};

static const rv_option slate_options[] = {
    {.key = "pattern", .type = RV_OPT_ENUM, .help = "card: colour bars or a solid colour",
     .default_string = "bars", .choices = slate_patterns},
    {.key = "color", .type = RV_OPT_STRING, .help = "solid colour as #RRGGBB",
     .default_string = "#202040"},
    {.key = "text", .type = RV_OPT_STRING, .help = "title; empty: the channel's name",
     .default_string = ""},
    {.key = "show_clock", .type = RV_OPT_BOOL,
     .help = "draw the running UTC clock and the tick counter", .default_int = 1},
    {.key = "tone_hz", .type = RV_OPT_INT, .help = "tone frequency in Hz; 0: silence",
     .default_int = 0, .min_int = 0, .max_int = 20000},
    {.key = "tone_db", .type = RV_OPT_FLOAT, .help = "tone level in dBFS",
     .default_float = -20.0, .min_float = -60.0, .max_float = 0.0},
    {.key = NULL},
};

static uint32_t slate_gcd(uint32_t a, uint32_t b)
{
    while (b != 0) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Whole periods of a sine of @p hz at the channel's rate, interleaved for
 * every channel: one period is rate / gcd(rate, hz) samples, so the table
 * wraps with no phase error; it is repeated to at least
 * SLATE_TONE_MIN_SAMPLES so a tick's audio is one or two memcpy. */
static int slate_make_tone(slate_state *s, int64_t hz, double db)
{
    uint32_t rate = s->format.audio_rate;
    uint32_t channels = s->format.audio_channels;
    uint32_t period = rate / slate_gcd(rate, (uint32_t)hz);
    uint32_t length = period * ((SLATE_TONE_MIN_SAMPLES + period - 1) / period);
    double amplitude = 32767.0 * pow(10.0, db / 20.0);

    s->tone = malloc(sizeof(*s->tone) * (size_t)length * channels);
    if (s->tone == NULL)
        return RV_ENOMEM;
    for (uint32_t i = 0; i < length; i++) {
        uint64_t step = ((uint64_t)i * (uint64_t)hz) % rate;
        int16_t v = (int16_t)lrint(amplitude * sin(2.0 * M_PI * (double)step / rate));
        for (uint32_t c = 0; c < channels; c++)
            s->tone[(size_t)i * channels + c] = v;
    }
    s->tone_length_samples = length;
    return RV_OK;
}

/* Centre a line of @p chars characters at @p scale on row @p y. */
static slate_line slate_place(const slate_state *s, int chars, int scale, int y)
{
    int text_w = chars == 0 ? 0 : (chars * SLATE_DRAW_CELL_W - 1) * scale;
    int margin = 2 * scale;
    slate_line l = {
        .x = ((int)s->format.width - text_w) / 2,
        .y = y,
        .scale = scale,
    };
    l.box_x = l.x - margin;
    l.box_y = l.y - margin;
    l.box_w = text_w + 2 * margin;
    l.box_h = 7 * scale + 2 * margin;
    return l;
}

static void slate_layout(slate_state *s)
{
    int w = (int)s->format.width;
    int h = (int)s->format.height;
    int max_chars = (w - 4) / SLATE_DRAW_CELL_W;
    int title_scale = h / 90 > 1 ? h / 90 : 1;
    int clock_scale = h / 135 > 1 ? h / 135 : 1;

    if (max_chars < 0)
        max_chars = 0;
    if ((int)strlen(s->text) > max_chars)
        s->text[max_chars] = '\0';
    while (title_scale > 1 && slate_draw_text_width(s->text, title_scale) + 4 * title_scale > w)
        title_scale--;
    s->title = slate_place(s, (int)strlen(s->text), title_scale, h / 3 - 7 * title_scale / 2);
    s->clock = slate_place(s, SLATE_CLOCK_CHARS, clock_scale, h / 2 + 2 * clock_scale);
    s->counter = slate_place(s, SLATE_COUNTER_CHARS, clock_scale, s->clock.y + 12 * clock_scale);
}

static int slate_parse_pattern(const char *name, slate_pattern *out)
{
    if (name != NULL && strcmp(name, "bars") == 0)
        *out = SLATE_PATTERN_BARS;
    else if (name != NULL && strcmp(name, "solid") == 0)
        *out = SLATE_PATTERN_SOLID;
    else if (name != NULL && strcmp(name, "black") == 0)
        *out = SLATE_PATTERN_BLACK;
    else
        return RV_EINVAL;
    return RV_OK;
}

/** Control thread. @p args borrowed (its pointers outlive the instance);
 *  *@p state receives the instance, owned by the host until destroy(). */
static int slate_create(const rv_create_args *args, void **state)
{
    const rv_host_api *host = args->host;
    const rv_program_format *f = args->format;
    slate_state *s = NULL;
    int rc = RV_EINVAL;

    if (f->width < 2 || f->height < 2 || f->frame_rate.num <= 0 || f->frame_rate.den <= 0 ||
        f->audio_rate == 0 || f->audio_channels == 0) {
        host->log(args->ctx, RV_LOG_ERROR, "slate: unusable program format %ux%u", f->width,
                  f->height);
        return RV_EINVAL;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return RV_ENOMEM;
    s->host = host;
    s->ctx = args->ctx;
    s->format = *f;
    atomic_init(&s->epoch_ns, SLATE_EPOCH_UNSET);

    const char *pattern = host->opt_string(args->options, "pattern");
    if (slate_parse_pattern(pattern, &s->pattern) != RV_OK ||
        s->pattern == SLATE_PATTERN_BLACK) {
        host->log(args->ctx, RV_LOG_ERROR, "slate: pattern '%s' is not bars or solid",
                  pattern ? pattern : "(null)");
        goto fail;
    }
    const char *color = host->opt_string(args->options, "color");
    if (slate_draw_parse_color(color, &s->color) != RV_OK) {
        host->log(args->ctx, RV_LOG_ERROR, "slate: color '%s' is not #RRGGBB",
                  color ? color : "(null)");
        goto fail;
    }
    const char *text = host->opt_string(args->options, "text");
    if (text == NULL || text[0] == '\0')
        text = args->channel_name ? args->channel_name : "";
    snprintf(s->text, sizeof(s->text), "%s", text);
    s->show_clock = host->opt_bool(args->options, "show_clock");

    int64_t tone_hz = host->opt_int(args->options, "tone_hz");
    double tone_db = host->opt_float(args->options, "tone_db");
    if (tone_hz < 0 || tone_hz * 2 >= (int64_t)f->audio_rate || tone_db > 0.0 || tone_db < -60.0) {
        host->log(args->ctx, RV_LOG_ERROR,
                  "slate: tone_hz %lld must be below half the audio rate (%u), tone_db %.1f in "
                  "[-60, 0]",
                  (long long)tone_hz, f->audio_rate, tone_db);
        goto fail;
    }
    if (tone_hz > 0) {
        rc = slate_make_tone(s, tone_hz, tone_db);
        if (rc != RV_OK)
            goto fail;
    }
    slate_layout(s);
    *state = s;
    return RV_OK;

fail:
    free(s);
    return rc;
}

/** Control thread; no segment is open. @p state: ownership returns. */
static void slate_destroy(void *state)
{
    slate_state *s = state;

    if (s == NULL)
        return;
    free(s->tone);
    free(s);
}

/** Preload thread. @p req borrowed for the call (nothing of it is kept but
 *  numbers); *@p segment receives a handle owned by the host until close(). */
static int slate_open(void *state, const rv_segment_request *req, void **segment)
{
    slate_state *s = state;
    const char *uri = req->asset_uri ? req->asset_uri : "";
    const char *variant = uri;
    slate_pattern pattern = s->pattern;

    if (strncmp(uri, "slate:", 6) == 0)
        variant = uri + 6;
    else if (uri[0] != '\0')
        variant = NULL;
    if (variant != NULL && strncmp(variant, "//", 2) == 0)
        variant += 2;
    if (variant == NULL ||
        (variant[0] != '\0' && strcmp(variant, "default") != 0 &&
         slate_parse_pattern(variant, &pattern) != RV_OK)) {
        s->host->event(s->ctx, RV_EVENT_ASSET_ERROR, RV_EINVAL, uri,
                       "not a slate URI: use slate:, slate:bars, slate:solid or slate:black");
        return RV_EINVAL;
    }

    slate_segment *seg = calloc(1, sizeof(*seg));
    if (seg == NULL)
        return RV_ENOMEM;
    seg->slate = s;
    seg->pattern = pattern;
    seg->dynamic = s->show_clock && pattern != SLATE_PATTERN_BLACK;
    seg->tone = s->tone != NULL && pattern != SLATE_PATTERN_BLACK;
    seg->position.struct_size = sizeof(seg->position);
    seg->position.asset_start_offset_ms = req->asset_start_offset_ms;
    seg->position.join_offset_ns = req->join_offset_ns;
    seg->position.first_tick = req->first_tick;
    if (req->struct_size >= offsetof(rv_segment_request, first_tick_utc_ns) + sizeof(int64_t))
        seg->first_tick_utc_ns = req->first_tick_utc_ns;
    seg->frame_count = req->frame_count;
    *segment = seg;
    return RV_OK;
}

/* UTC second shown for @p tick: the instance's epoch estimate (made once,
 * by the first read of any segment) plus the tick's exact time. */
static int64_t slate_tick_second(slate_segment *seg, int64_t tick)
{
    slate_state *s = seg->slate;
    int64_t tick_ns = rv_ticks_to_ns(s->format.frame_rate, tick);
    if (seg->first_tick_utc_ns != 0) {
        int64_t utc = seg->first_tick_utc_ns + tick_ns -
                      rv_ticks_to_ns(s->format.frame_rate, seg->position.first_tick);
        return utc / SLATE_NS_PER_S - (utc % SLATE_NS_PER_S < 0);
    }
    long long epoch = atomic_load(&s->epoch_ns);

    if (epoch == SLATE_EPOCH_UNSET) {
        long long guess = s->host->clock_now_utc_ns(s->ctx) - tick_ns;
        long long unset = SLATE_EPOCH_UNSET;
        atomic_compare_exchange_strong(&s->epoch_ns, &unset, guess);
        epoch = atomic_load(&s->epoch_ns);
    }
    int64_t utc_ns = epoch + tick_ns;
    int64_t second = utc_ns / SLATE_NS_PER_S;
    if (utc_ns % SLATE_NS_PER_S < 0)
        second -= 1;
    return second;
}

static void slate_draw_line(rv_video_frame *card, const slate_line *l, const char *text)
{
    slate_draw_box(card, l->box_x, l->box_y, l->box_w, l->box_h, SLATE_DRAW_BLACK);
    slate_draw_text(card, l->x, l->y, l->scale, text, SLATE_TEXT_LUMA);
}

/* Repaint the clock and counter boxes of @p card (exclusively owned). */
static void slate_draw_dynamic(slate_segment *seg, rv_video_frame *card, int64_t tick,
                               int64_t second)
{
    const slate_state *s = seg->slate;
    int64_t day_s = ((second % 86400) + 86400) % 86400;
    char clock[32];
    char counter[32];

    snprintf(clock, sizeof(clock), "%02d:%02d:%02d UTC", (int)(day_s / 3600),
             (int)(day_s / 60 % 60), (int)(day_s % 60));
    snprintf(counter, sizeof(counter), "TICK %lld", (long long)tick);
    slate_draw_line(card, &s->clock, clock);
    slate_draw_line(card, &s->counter, counter);
}

/* The whole card from nothing into @p card (exclusively owned). */
static void slate_draw_card(slate_segment *seg, rv_video_frame *card)
{
    const slate_state *s = seg->slate;

    if (seg->pattern == SLATE_PATTERN_BARS)
        slate_draw_bars(card);
    else if (seg->pattern == SLATE_PATTERN_SOLID)
        slate_draw_fill(card, s->color);
    else
        slate_draw_fill(card, SLATE_DRAW_BLACK);
    if (seg->pattern != SLATE_PATTERN_BLACK && s->text[0] != '\0')
        slate_draw_line(card, &s->title, s->text);
}

static void slate_copy_plane(uint8_t *dst, int32_t dst_stride, const uint8_t *src,
                             int32_t src_stride, size_t row_bytes, size_t rows)
{
    if (dst_stride == src_stride) {
        memcpy(dst, src, (size_t)src_stride * (rows - 1) + row_bytes);
        return;
    }
    for (size_t r = 0; r < rows; r++)
        memcpy(dst + r * (size_t)dst_stride, src + r * (size_t)src_stride, row_bytes);
}

/* A picture to draw the next second's card into, exclusively owned: the
 * card of the second before (its background and title are right; only the
 * clock and counter change) if the host has let go of it, which it has in
 * steady state, so a new second costs two small boxes. If it is still shared,
 * video_make_writable hands back a private copy; failing that, a fresh
 * picture gets a copy of the current card. */
static rv_video_frame *slate_next_card(slate_segment *seg)
{
    slate_state *s = seg->slate;
    rv_video_frame *next = seg->spare;

    seg->spare = NULL;
    if (next != NULL && s->host->video_make_writable(s->ctx, &next) == RV_OK)
        return next;
    s->host->video_release(next);
    next = s->host->video_alloc(s->ctx);
    if (next == NULL)
        return NULL;
    const rv_video_frame *old = seg->card;
    size_t w = next->width;
    size_t h = next->height;
    slate_copy_plane(next->plane[0], next->stride[0], old->plane[0], old->stride[0], w, h);
    for (int p = 1; p < 3; p++)
        slate_copy_plane(next->plane[p], next->stride[p], old->plane[p], old->stride[p],
                         (w + 1) / 2, (h + 1) / 2);
    return next;
}

/* Make seg->card show @p tick: render it the first time; with the clock,
 * replace it when the second changes. A card once handed out is never
 * written again while anyone else holds it. */
static int slate_update_card(slate_segment *seg, int64_t tick)
{
    slate_state *s = seg->slate;
    int64_t second = seg->dynamic ? slate_tick_second(seg, tick) : 0;
    rv_video_frame *card = NULL;

    if (seg->card != NULL && (!seg->dynamic || second == seg->card_second))
        return RV_OK;
    if (seg->card == NULL) {
        card = s->host->video_alloc(s->ctx);
        if (card == NULL)
            return RV_ENOMEM;
        slate_draw_card(seg, card);
    } else {
        card = slate_next_card(seg);
        if (card == NULL)
            return RV_ENOMEM;
    }
    if (seg->dynamic)
        slate_draw_dynamic(seg, card, tick, second);
    seg->spare = seg->card; /* keep our reference: reused a second from now */
    seg->card = card;
    seg->card_second = second;
    return RV_OK;
}

static void slate_fill_audio(slate_segment *seg, int64_t tick, rv_audio_buffer *audio)
{
    const slate_state *s = seg->slate;
    uint32_t channels = s->format.audio_channels;

    if (!seg->tone || audio->channels != channels) {
        memset(audio->data, 0, sizeof(*audio->data) * audio->samples * audio->channels);
        return;
    }
    if (!seg->tone_started) {
        /* Phase from the channel's sample clock: continuous across segments. */
        int64_t since_epoch =
            rv_ticks_to_samples(s->format.frame_rate, s->format.audio_rate, tick);
        seg->tone_pos = (uint32_t)(since_epoch % s->tone_length_samples);
        seg->tone_started = 1;
    }
    int16_t *out = audio->data;
    uint32_t left = audio->samples;
    while (left > 0) {
        uint32_t run = s->tone_length_samples - seg->tone_pos;
        if (run > left)
            run = left;
        memcpy(out, s->tone + (size_t)seg->tone_pos * channels,
               sizeof(*out) * (size_t)run * channels);
        out += (size_t)run * channels;
        left -= run;
        seg->tone_pos += run;
        if (seg->tone_pos == s->tone_length_samples)
            seg->tone_pos = 0;
    }
}

/** Producer thread. @p segment borrowed; @p out borrowed for the call: its
 *  audio buffer stays the host's, the picture reference in out->video passes
 *  to the host. RV_OK, RV_EOF after frame_count frames, or RV_ENOMEM. */
static int slate_read(void *segment, rv_produce *out)
{
    slate_segment *seg = segment;
    slate_state *s = seg->slate;

    if (seg->delivered_frames >= seg->frame_count)
        return RV_EOF;
    int rc = slate_update_card(seg, out->tick);
    if (rc != RV_OK)
        return rc;
    s->host->video_ref(seg->card);
    out->video = seg->card;
    if (out->audio != NULL)
        slate_fill_audio(seg, out->tick, out->audio);

    int64_t pos_ns = rv_segment_position_ns(&seg->position, s->format.frame_rate,
                                            seg->delivered_frames);
    int64_t pos_ms = pos_ns / 1000000;
    if (pos_ns % 1000000 < 0)
        pos_ms -= 1;
    out->asset_offset_ms = pos_ms;
    seg->delivered_frames++;
    return RV_OK;
}

/** Producer or preload thread. @p segment: ownership returns to the module. */
static void slate_close(void *segment)
{
    slate_segment *seg = segment;

    if (seg == NULL)
        return;
    seg->slate->host->video_release(seg->card);
    seg->slate->host->video_release(seg->spare);
    free(seg);
}

static const rv_producer_ops slate_ops = {
    .struct_size = sizeof(rv_producer_ops),
    .schemes = slate_schemes,
    .create = slate_create,
    .destroy = slate_destroy,
    .open = slate_open,
    .read = slate_read,
    .close = slate_close,
};

RV_MODULE_DEFINE(.kind = RV_KIND_PRODUCER, .name = "slate", .version = "1.0.0",
                 .description = "generated slate card: bars or a colour, title, clock, tone",
                 .options = slate_options, .producer = &slate_ops,
                 .test_uri = "slate:bars")
