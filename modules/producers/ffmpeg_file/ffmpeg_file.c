/**
 * @file ffmpeg_file.c
 * @short The ffmpeg-file producer module: its descriptor, declared options
 *        and the instance (one per channel binding), which owns the settings
 *        read from its options. Segments (ff_segment) do the media work.
 *
 * Serves bare paths and file: URIs. Everything per segment lives in the
 * segment handle, so the preload thread can open the next segment while the
 * producer thread reads the current one.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/log.h>
#include <libswscale/swscale.h>

#include <retrovue/retrovue.h>

#include "ff_colour.h"
#include "ff_park.h"
#include "ff_segment.h"

/** One instance: the settings its segments borrow. */
typedef struct ffmpeg_file {
    ff_params params;
    ff_park park;   /**< the last closed source, for a join back into it */
} ffmpeg_file;

static const char *const ffmpeg_file_schemes[] = {"file", "", NULL};
static const char *const ffmpeg_file_deinterlace_choices[] = {"auto", "on", "off", NULL};
static const char *const ffmpeg_file_scaler_choices[] = {"fast_bilinear", "bilinear", "bicubic",
                                                         "lanczos", NULL};
static const char *const ffmpeg_file_picture_choices[] = {"black", "slate", NULL};

static const rv_option ffmpeg_file_options[] = {
    {.key = "threads", .type = RV_OPT_INT, .default_int = 2, .min_int = 0, .max_int = 16,
     .help = "decoder threads per segment (0 = FFmpeg's automatic count); left out: the "
             "host's share for this channel (rv_host_api.thread_count: CPUs / channels, at "
             "most 2), or 2 under a host older than ABI 1.3"},
    {.key = "deinterlace", .type = RV_OPT_ENUM, .default_string = "auto",
     .choices = ffmpeg_file_deinterlace_choices,
     .help = "deinterlace (bwdif): auto = pictures flagged interlaced, on = all, off = never"},
    {.key = "scaler", .type = RV_OPT_ENUM, .default_string = "bicubic",
     .choices = ffmpeg_file_scaler_choices, .help = "scaling filter quality"},
    {.key = "audio_only_picture", .type = RV_OPT_ENUM, .default_string = "black",
     .choices = ffmpeg_file_picture_choices,
     .help = "picture shown with an audio-only asset: black or a colour-bar card"},
    {.key = "tonemap", .type = RV_OPT_ENUM, .default_string = "mobius",
     .choices = ff_colour_tonemap_names,
     .help = "HDR (PQ, HLG) to SDR operator: mobius keeps in-range colour and skin tones "
             "linear and rolls off highlights; hable, reinhard, clip, linear, gamma"},
    {.key = "hdr_white_nits", .type = RV_OPT_INT, .default_int = 100, .min_int = 48,
     .max_int = 1000,
     .help = "luminance (cd/m2) an HDR source's SDR white was graded at: 100 (zscale's "
             "default) or 203 (ITU-R BT.2408 reference white)"},
    {.key = "audio_languages", .type = RV_OPT_STRING, .default_string = "",
     .help = "preferred audio languages, ISO 639-2 codes in order, comma separated "
             "(\"eng,und\"; und = untagged); then the default track, then the best"},
    {.key = "zero_copy", .type = RV_OPT_BOOL, .default_int = 1,
     .help = "decode straight into the channel's pictures and air a picture that needs no "
             "scaling without copying it (needs a host of ABI 1.4 or later)"},
    {.key = "skip_dropped_pictures", .type = RV_OPT_BOOL, .default_int = 1,
     .help = "pictures the frame-rate conversion drops (a 59.94 source on a 29.97 channel: "
             "every other one) are not decoded when no other picture references them; "
             "false decodes every picture"},
    {.key = "io_timeout_ms", .type = RV_OPT_INT, .default_int = 5000, .min_int = 100,
     .max_int = 60000, .help = "bound of one blocking open/read operation, ms"},
    {.key = NULL},
};

static int ffmpeg_file_choice(const char *value, const char *const *choices, int fallback)
{
    for (int i = 0; value && choices[i]; i++)
        if (strcmp(value, choices[i]) == 0)
            return i;
    return fallback;
}

/** Copy @p in ("eng, und", may be NULL) as "eng,und" into @p out; false
 *  unless every item is three ASCII letters (ISO 639-2) and it fits. */
static int ffmpeg_file_languages_ok(const char *in, char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    while (in && *in) {
        in += strspn(in, ", ");
        size_t n = strcspn(in, ", ");
        if (n == 0)
            break;
        if (n != 3 || o + 4 >= outlen)
            return 0;
        for (size_t i = 0; i < 3; i++)
            if (!((in[i] >= 'a' && in[i] <= 'z') || (in[i] >= 'A' && in[i] <= 'Z')))
                return 0;
        if (o)
            out[o++] = ',';
        memcpy(out + o, in, 3);
        o += 3;
        out[o] = '\0';
        in += n;
    }
    return 1;
}

/** FFmpeg's own log is a process-wide setting (a library singleton): its
 *  per-packet messages would bypass the host's log format and flood stderr
 *  on a damaged file. Quieten it once, unless someone already changed it
 *  from FFmpeg's default or RV_FFMPEG_LOG is set (debugging). This module
 *  reports problems itself, once, through the host's log and events. */
static void ffmpeg_file_quiet_ffmpeg_log(void)
{
    if (!getenv("RV_FFMPEG_LOG") && av_log_get_level() == AV_LOG_INFO)
        av_log_set_level(AV_LOG_QUIET);
}

static int ffmpeg_file_create(const rv_create_args *args, void **state)
{
    static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;
    pthread_once(&quiet_once, ffmpeg_file_quiet_ffmpeg_log);
    static const int scaler_flags[] = {SWS_FAST_BILINEAR, SWS_BILINEAR, SWS_BICUBIC, SWS_LANCZOS};
    /* zscale's names of the same filters */
    static const char *const zscale_filters[] = {"bilinear", "bilinear", "bicubic", "lanczos"};
    static const ff_deinterlace modes[] = {FF_DEINTERLACE_AUTO, FF_DEINTERLACE_ON,
                                           FF_DEINTERLACE_OFF};
    const rv_host_api *host = args->host;
    ffmpeg_file *inst = calloc(1, sizeof(*inst));
    if (!inst)
        return RV_ENOMEM;
    ff_params *p = &inst->params;
    p->host = host;
    p->ctx = args->ctx;
    p->format = *args->format;
    /* -1: ask the host at each open (the share follows the channel count) */
    p->threads = host->opt_is_set(args->options, "threads")
                     ? (int)host->opt_int(args->options, "threads")
                     : -1;
    p->video.deinterlace = modes[ffmpeg_file_choice(
        host->opt_string(args->options, "deinterlace"), ffmpeg_file_deinterlace_choices, 0)];
    int scaler = ffmpeg_file_choice(host->opt_string(args->options, "scaler"),
                                    ffmpeg_file_scaler_choices, 2);
    p->video.sws_flags = scaler_flags[scaler];
    p->video.zscale_filter = zscale_filters[scaler];
    p->video.tonemap = ff_colour_tonemap_names[ffmpeg_file_choice(
        host->opt_string(args->options, "tonemap"), ff_colour_tonemap_names, 0)];
    p->video.npl_nits = (double)host->opt_int(args->options, "hdr_white_nits");
    p->audio_only_slate = ffmpeg_file_choice(host->opt_string(args->options, "audio_only_picture"),
                                             ffmpeg_file_picture_choices, 0) == 1;
    p->io_timeout_ms = host->opt_int(args->options, "io_timeout_ms");
    p->zero_copy = host->opt_bool(args->options, "zero_copy");
    p->skip_dropped = host->opt_bool(args->options, "skip_dropped_pictures");
    const char *langs = host->opt_string(args->options, "audio_languages");
    if (!ffmpeg_file_languages_ok(langs, p->audio_languages, sizeof(p->audio_languages))) {
        host->log(args->ctx, RV_LOG_ERROR,
                  "ffmpeg-file: audio_languages '%s' is not a comma-separated list of "
                  "three-letter ISO 639-2 codes (e.g. \"eng,und\")", langs ? langs : "");
        free(inst);
        return RV_EINVAL;
    }
    if (p->io_timeout_ms <= 0)
        p->io_timeout_ms = 5000;
    ff_park_init(&inst->park);
    p->park = &inst->park;
    *state = inst;
    return RV_OK;
}

static void ffmpeg_file_destroy(void *state)
{
    ffmpeg_file *inst = state;
    ff_park_fini(&inst->park);
    free(inst);
}

static int ffmpeg_file_open(void *state, const rv_segment_request *req, void **segment)
{
    ffmpeg_file *inst = state;
    ff_segment *seg = NULL;
    int r = ff_segment_open(&inst->params, req, &seg);
    *segment = seg;
    return r;
}

static int ffmpeg_file_read(void *segment, rv_produce *out)
{
    return ff_segment_read(segment, out);
}

static void ffmpeg_file_close(void *segment)
{
    ff_segment_close(segment);
}

static const rv_producer_ops ffmpeg_file_ops = {
    .struct_size = sizeof(rv_producer_ops),
    .schemes = ffmpeg_file_schemes,
    .create = ffmpeg_file_create,
    .destroy = ffmpeg_file_destroy,
    .open = ffmpeg_file_open,
    .read = ffmpeg_file_read,
    .close = ffmpeg_file_close,
};

RV_MODULE_DEFINE(.kind = RV_KIND_PRODUCER, .name = "ffmpeg-file", .version = "1.0.0",
                 .description = "any FFmpeg-readable file into the channel's ProgramFormat",
                 .options = ffmpeg_file_options, .producer = &ffmpeg_file_ops)
