/**
 * @file retrovue/encoder.h
 * @short Encoder vtable (ABI 1.2): turns the channel's ticks into one
 *        MPEG-TS byte stream (a *rendition*) that every transport bound to
 *        it shares. Encode once, deliver everywhere.
 *
 * The host runs one encoder instance per channel and distinct set of encoder
 * settings, on its own thread behind a bounded tick queue (like a sink). The
 * encoder hands its output to the host with rv_host_api.stream_write(): whole
 * 188-byte TS packets (ISO/IEC 13818-1), with RV_STREAM_RANDOM_ACCESS on the
 * write that begins with PAT, PMT and a video keyframe. The host keeps the
 * group of pictures since the last random access point (the GOP cache), so a
 * transport or viewer that joins late starts at a decodable picture, and
 * copies each write to every transport's bounded queue; the encoder never
 * waits for a transport or a viewer.
 *
 * Timestamps must come from the tick index (tick n's video PTS is n frames
 * after the start), so the stream is continuous across seams by
 * construction. start() and stop() run on the control thread while the
 * encoder thread is not calling encode().
 */
#ifndef RETROVUE_ENCODER_H
#define RETROVUE_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/module.h>

/** rv_host_api.stream_write flag: these bytes begin a random access point
 *  (PAT, PMT, then a video keyframe with its audio following; an SDT or
 *  null packets may precede the PAT). */
#define RV_STREAM_RANDOM_ACCESS 0x1u

typedef struct rv_encoder_ops {
    uint32_t struct_size;  /**< sizeof(rv_encoder_ops) the module was built with */

    /* ---- required ---- */
    /** Control thread. Reads its options (the encoder settings) from
     *  @p args; everything in @p args is borrowed until destroy(). */
    int (*create)(const rv_create_args *args, void **state);
    /** Control thread, after stop(). */
    void (*destroy)(void *state);
    /** Encoder thread. Encode @p tick (borrowed for the call; video_ref /
     *  audio_ref to keep it) and pass what comes out to
     *  rv_host_api.stream_write on this thread. Ticks increase; a gap means
     *  the host dropped ticks (bridge it, keep timestamps from the index).
     *  An error makes the host restart the encoder (stop, backoff, start):
     *  the next bytes must start with a random access point. */
    int (*encode)(void *state, const rv_tick *tick);

    /* ---- optional ---- */
    /** Control thread, before the first encode(): open codecs, write headers. */
    int (*start)(void *state);
    /** Control thread, after the last encode(): drain into stream_write. */
    void (*stop)(void *state);
    /** Any thread: a short name of the rendition, e.g. "h264 3000k aac",
     *  into @p buf (borrowed, @p len bytes, NUL-terminated). */
    int (*describe)(void *state, char *buf, size_t len);

    /* ---- callbacks added in ABI 1.3 or later go below this line ---- */
} rv_encoder_ops;

#endif
