/**
 * @file retrovue/transport.h
 * @short Transport vtable (ABI 1.2): delivers a channel's encoded MPEG-TS
 *        stream (a rendition, see encoder.h) somewhere: TCP clients, a Unix
 *        socket, a consumer's socket, UDP, a file.
 *
 * A transport never encodes. The host binds it to the rendition of its
 * channel whose encoder settings match the options it was configured with
 * (the encoder's options are written in the same binding), gives it its own
 * thread and a bounded queue, and calls write() with the stream's bytes in
 * order. The first chunk a transport receives after start() begins with a
 * random access point (PAT, PMT, video keyframe): the host replays the
 * rendition's GOP cache to it. A transport that falls so far behind that its
 * queue overflows loses its place (counted); the host then resumes it at the
 * next random access point, never slowing the encoder or the other
 * transports. start() and stop() run on the control thread while the
 * transport thread is not calling write().
 */
#ifndef RETROVUE_TRANSPORT_H
#define RETROVUE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/encoder.h>
#include <retrovue/module.h>
#include <retrovue/sink.h>

/** A run of the encoded stream. */
typedef struct rv_chunk {
    uint32_t struct_size;   /**< sizeof(rv_chunk) of the host */
    const uint8_t *data;    /**< whole 188-byte TS packets; borrowed for the call */
    size_t len;             /**< bytes, a multiple of 188 */
    uint32_t flags;         /**< RV_STREAM_RANDOM_ACCESS: begins with PAT/PMT + keyframe */
    uint32_t resync;        /**< 1: bytes were skipped before this chunk (the
                                 transport fell behind); it is a random access point */
    int64_t tick;           /**< the channel tick whose encoding produced it */
} rv_chunk;

typedef struct rv_transport_ops {
    uint32_t struct_size;  /**< sizeof(rv_transport_ops) the module was built with */

    /* ---- required ---- */
    /** Control thread. Everything in @p args is borrowed until destroy(). */
    int (*create)(const rv_create_args *args, void **state);
    /** Control thread, after stop(). */
    void (*destroy)(void *state);
    /** Transport thread: deliver @p chunk (borrowed for the call). Must not
     *  block for long: queue per client, drop a client that falls behind.
     *  An error makes the host restart this transport (stop, backoff,
     *  start); the stream resumes at a random access point. */
    int (*write)(void *state, const rv_chunk *chunk);

    /* ---- optional ---- */
    /** Control thread, before the first write: bind, listen, connect. */
    int (*start)(void *state);
    /** Control thread, after the last write: flush and close. */
    void (*stop)(void *state);
    /** Any thread: fill @p out (borrowed; struct_size set by the host;
     *  encode_ns is the host's, leave it). */
    int (*get_stats)(void *state, rv_sink_stats *out);
    /** Any thread: where it delivers, e.g. "tcp://127.0.0.1:5001", into
     *  @p buf (borrowed, @p len bytes, NUL-terminated). */
    int (*describe)(void *state, char *buf, size_t len);
    /** Any thread (the channel's output thread polls it, at most every
     *  100 ms): how many clients receive the stream now (>= 0), for a
     *  transport whose clients come to it (a listening socket); or
     *  RV_ENOTSUP for one that pushes the stream out whether anyone listens
     *  (connect, UDP, a file). A channel with `encode = "on-demand"` decodes
     *  and encodes only while some pull consumer is there; a push transport
     *  (or a NULL consumers) keeps it always on. Must be cheap: no I/O. */
    int (*consumers)(void *state);

    /* ---- callbacks added in ABI 1.3 or later go below this line ---- */
} rv_transport_ops;

#endif
