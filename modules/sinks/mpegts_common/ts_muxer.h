/**
 * @file modules/sinks/mpegts_common/ts_muxer.h
 * @short ts_muxer: libavformat's MPEG-TS muxer writing through a custom
 *        AVIOContext into a ts_output, with DTS-ordered interleaving and
 *        keyframe marks (where a GOP cache restarts).
 *
 * Owns the AVFormatContext, its AVIOContext and buffer, and the packets
 * waiting to be interleaved. Packets arrive in 90 kHz from ts_encoder and
 * leave in DTS order across both streams, so PCR (derived by the muxer from
 * DTS) only moves forward; a picture alone may go ahead of the audio behind
 * it by up to two audio frames and a tick (the audio encoder's delay), so no
 * picture, and no new stream's first IDR, waits a tick for its audio. Video
 * PES carry their length when it fits, so a reader knows a picture is
 * complete at its last byte. Before a video keyframe is written the muxer's
 * output is flushed and the output told that a GOP starts; the muxer puts
 * PAT/PMT in front of every keyframe. Thread: the sink's thread
 * (create/destroy on the control thread).
 */
#ifndef TS_MUXER_H
#define TS_MUXER_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>

#include <retrovue/host.h>

/** Where the muxed bytes go. Both callbacks run on the muxer's caller's
 *  thread; @p data is borrowed for the call. */
typedef struct ts_output {
    void (*append)(void *opaque, const uint8_t *data, size_t len);
    /** The next appended bytes begin PAT/PMT + a video keyframe. */
    void (*mark_keyframe)(void *opaque);
    void *opaque;
} ts_output;

typedef struct ts_muxer_config {
    const char *service_name;      /**< borrowed */
    const char *service_provider;  /**< borrowed */
    int64_t service_id;
    int64_t pmt_pid;
    int64_t video_pid;
    int64_t audio_pid;
    int64_t pcr_period_ms;
    int64_t pat_period_ms;
    int64_t muxrate_kbps;          /**< 0 = VBR; > 0 = constant rate with null packets */
} ts_muxer_config;

typedef struct ts_muxer ts_muxer;

/** Open the muxer for the two encoders' streams (borrowed) and write the
 *  header. @p out (copied; its opaque borrowed) receives every byte.
 *  Control thread. */
int ts_muxer_create(const ts_muxer_config *cfg, const AVCodecContext *video,
                    const AVCodecContext *audio, const ts_output *out, const rv_host_api *host,
                    rv_context *ctx, ts_muxer **mux);
/** Write what is still queued and the trailer, then free. NULL is a no-op. */
void ts_muxer_destroy(ts_muxer *mux);

/** Queue one packet (90 kHz, stream_index 0 video / 1 audio; borrowed: the
 *  muxer takes a reference) and write whatever DTS order allows. Matches
 *  ts_packet_fn. Sink thread. */
int ts_muxer_packet(void *mux, AVPacket *pkt);
/** End of a tick: push the muxer's buffered bytes to the output. */
int ts_muxer_flush(ts_muxer *mux);

#endif
