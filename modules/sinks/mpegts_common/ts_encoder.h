/**
 * @file modules/sinks/mpegts_common/ts_encoder.h
 * @short ts_encoder: the video and audio encoders of one MPEG-TS sink
 *        session, fed one channel tick at a time.
 *
 * Owns the two AVCodecContexts, the audio FIFO that cuts the per-tick audio
 * slices into the encoder's fixed frame size, and the scratch frames.
 * Timestamps come only from the tick index: video PTS is the tick number in
 * a time base of one frame, audio PTS the cumulative sample count
 * (first sample of tick n = floor(n * rate * den / num)). Packets leave with
 * PTS/DTS already converted to 90 kHz (floor, exact rationals).
 * Thread: the sink's thread (create/destroy on the control thread).
 */
#ifndef TS_ENCODER_H
#define TS_ENCODER_H

#include <stdint.h>

#include <libavcodec/avcodec.h>

#include <retrovue/frame.h>
#include <retrovue/host.h>

/** Video codec choice (option video_codec). Never zero. */
typedef enum ts_video_codec {
    TS_VIDEO_H264 = 1,
    TS_VIDEO_MPEG2 = 2
} ts_video_codec;

/** Audio codec choice (option audio_codec). Never zero. */
typedef enum ts_audio_codec {
    TS_AUDIO_AAC = 1,
    TS_AUDIO_MP2 = 2,
    TS_AUDIO_AC3 = 3
} ts_audio_codec;

typedef struct ts_encoder_config {
    ts_video_codec video_codec;
    const char *preset;        /**< libx264 preset; "" = encoder default (borrowed) */
    const char *tune;          /**< libx264 tune; "" = none */
    const char *profile;       /**< "" = encoder default */
    const char *level;         /**< "" = encoder default */
    int64_t bitrate_kbps;
    int64_t maxrate_kbps;      /**< 0 = bitrate_kbps */
    int64_t bufsize_kbps;      /**< 0 = maxrate (one second) */
    int64_t gop_frames;        /**< 0 = as long as keyint_max_s allows */
    double keyint_max_s;       /**< a keyframe at least every this many seconds */
    int64_t threads;           /**< 0 = the codec's automatic count, -1 = ask the host
                                    (rv_host_api.thread_count, ABI 1.3; 0 under an older
                                    host) when the encoder opens */
    ts_audio_codec audio_codec;
    int64_t audio_bitrate_kbps;
} ts_encoder_config;

/** Stream indices of the packets the encoder emits. */
enum { TS_STREAM_VIDEO = 0, TS_STREAM_AUDIO = 1 };

typedef struct ts_encoder ts_encoder;

/** Receives each encoded packet, PTS/DTS in 90 kHz, stream_index set.
 *  @p pkt borrowed: unreferenced by the encoder after the call. Sink thread.
 *  A negative return aborts the tick with that error. */
typedef int (*ts_packet_fn)(void *opaque, AVPacket *pkt);

/** Open both encoders for @p format (borrowed, copied). Failures are
 *  reported through host->event. Control thread. */
int ts_encoder_create(const ts_encoder_config *cfg, const rv_program_format *format,
                      const rv_host_api *host, rv_context *ctx, ts_encoder **out);
void ts_encoder_destroy(ts_encoder *enc);

/** The effective GOP length in frames. */
int ts_encoder_gop_frames(const ts_encoder *enc);
const AVCodecContext *ts_encoder_video_ctx(const ts_encoder *enc);
const AVCodecContext *ts_encoder_audio_ctx(const ts_encoder *enc);

/** Encode one tick (borrowed) and hand every packet that comes out to
 *  @p emit. Ticks must increase; a gap (ticks the host dropped) is bridged
 *  with silence in the audio so audio timestamps stay continuous.
 *  *@p missing_ticks receives the size of the gap. Sink thread. */
int ts_encoder_encode(ts_encoder *enc, const rv_tick *tick, ts_packet_fn emit, void *opaque,
                      int64_t *missing_ticks);

/** End of the session: drain both encoders into @p emit (the samples of
 *  an incomplete audio frame are dropped). Control thread, after the last
 *  write. */
int ts_encoder_flush(ts_encoder *enc, ts_packet_fn emit, void *opaque);

#endif
