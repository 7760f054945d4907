/**
 * @file modules/sinks/mpegts_common/ts_options.h
 * @short The options of the mpegts encoder (encoder and muxer settings: the
 *        rendition) and the options every MPEG-TS transport declares (mode,
 *        per-client queue), as designated initialisers to put in a module's
 *        option table in front of its own options and the NULL sentinel.
 */
#ifndef TS_OPTIONS_H
#define TS_OPTIONS_H

#include <retrovue/option.h>

/** Choices of the ENUM options, defined once in ts_choices.c. */
extern const char *const ts_video_codec_choices[];
extern const char *const ts_audio_codec_choices[];
extern const char *const ts_mode_choices[];

#define TS_TRANSPORT_COMMON_OPTIONS                                                                \
    {.key = "mode", .type = RV_OPT_ENUM, .choices = ts_mode_choices, .default_string = "listen",   \
     .help = "listen: serve clients that connect; connect: push to a consumer, reconnecting"},     \
    {.key = "client_queue_kb", .type = RV_OPT_INT, .default_int = 4096, .min_int = 64,             \
     .max_int = 65536, .help = "send queue bound per client (starts at 64 KiB, grows on demand); a client that falls further behind is dropped"}, \
    {.key = "fd", .type = RV_OPT_INT, .default_int = -1, .min_int = -1, .max_int = 1048576,        \
     .help = "connect: a socket already connected to the consumer (set by the host for "           \
             "AttachStream; ownership passes to the transport): used once, never reconnected; "    \
             "-1 = connect to the address"}

#define TS_ENCODER_OPTIONS                                                                        \
    {.key = "video_codec", .type = RV_OPT_ENUM, .choices = ts_video_codec_choices,                 \
     .default_string = "h264", .help = "h264 (libx264) or mpeg2"},                                 \
    {.key = "preset", .type = RV_OPT_STRING, .default_string = "veryfast",                         \
     .help = "libx264 preset (ultrafast .. veryslow)"},                                            \
    {.key = "tune", .type = RV_OPT_STRING, .default_string = "zerolatency",                        \
     .help = "libx264 tune; zerolatency: each tick's frame leaves in that tick; \"\" = none"},     \
    {.key = "profile", .type = RV_OPT_STRING, .default_string = "",                                \
     .help = "H.264 profile (baseline, main, high); \"\" = encoder default"},                      \
    {.key = "level", .type = RV_OPT_STRING, .default_string = "",                                  \
     .help = "H.264 level, e.g. 4.1; \"\" = encoder default"},                                      \
    {.key = "bitrate_kbps", .type = RV_OPT_INT, .default_int = 3000, .min_int = 100,               \
     .max_int = 200000, .help = "video bit rate"},                                                 \
    {.key = "maxrate_kbps", .type = RV_OPT_INT, .default_int = 0, .min_int = 0,                    \
     .max_int = 400000, .help = "video peak rate (VBV); 0 = bitrate_kbps"},                        \
    {.key = "bufsize_kbps", .type = RV_OPT_INT, .default_int = 0, .min_int = 0,                    \
     .max_int = 800000, .help = "VBV buffer; 0 = one second at maxrate"},                          \
    {.key = "gop_frames", .type = RV_OPT_INT, .default_int = 0, .min_int = 0, .max_int = 10000,    \
     .help = "keyframe interval in frames; 0 = keyint_max_s worth"},                               \
    {.key = "keyint_max_s", .type = RV_OPT_FLOAT, .default_float = 2.0, .min_float = 0.04,         \
     .max_float = 60.0, .help = "a keyframe at least every this many seconds (join time)"},        \
    {.key = "threads", .type = RV_OPT_INT, .default_int = 0, .min_int = 0, .max_int = 16,          \
     .help = "video encoder threads (0 = the codec's automatic count); left out: the host's "     \
             "share for this channel (CPUs / channels, at most 8; ABI 1.3)"},                      \
    {.key = "audio_codec", .type = RV_OPT_ENUM, .choices = ts_audio_codec_choices,                 \
     .default_string = "aac", .help = "aac, mp2 or ac3"},                                          \
    {.key = "audio_bitrate_kbps", .type = RV_OPT_INT, .default_int = 128, .min_int = 32,           \
     .max_int = 640, .help = "audio bit rate (MP2/AC-3: the nearest rate the format has)"},                                                    \
    {.key = "service_name", .type = RV_OPT_STRING, .default_string = "",                           \
     .help = "SDT service name; \"\" = the channel's name"},                                       \
    {.key = "service_provider", .type = RV_OPT_STRING, .default_string = "RetroVue",               \
     .help = "SDT service provider"},                                                              \
    {.key = "service_id", .type = RV_OPT_INT, .default_int = 1, .min_int = 1, .max_int = 65535,    \
     .help = "program number"},                                                                    \
    {.key = "pmt_pid", .type = RV_OPT_INT, .default_int = 4096, .min_int = 32, .max_int = 8186,    \
     .help = "PID of the PMT (the three PIDs must differ)"},                                                                    \
    {.key = "video_pid", .type = RV_OPT_INT, .default_int = 256, .min_int = 33, .max_int = 8185,   \
     .help = "PID of the video stream (also carries the PCR)"},                                    \
    {.key = "audio_pid", .type = RV_OPT_INT, .default_int = 257, .min_int = 34, .max_int = 8184,   \
     .help = "PID of the audio stream"},                                                           \
    {.key = "pcr_period_ms", .type = RV_OPT_INT, .default_int = 15, .min_int = 1, .max_int = 100,  \
     .help = "PCR target period; the largest gap is this plus one packet (<= 40 ms by default)"},  \
    {.key = "pat_period_ms", .type = RV_OPT_INT, .default_int = 50, .min_int = 10,                 \
     .max_int = 1000,                                                                              \
     .help = "PAT/PMT target period; largest gap is this plus one packet (<= 100 ms by default)"}, \
    {.key = "muxrate_kbps", .type = RV_OPT_INT, .default_int = 0, .min_int = 0, .max_int = 100000,  \
     .help = "constant mux rate with null packets; 0 = variable rate"}

#endif
