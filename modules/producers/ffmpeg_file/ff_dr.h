/**
 * @file ff_dr.h
 * @short ff_dr: direct rendering for one segment's video decoder. libavcodec
 *        writes each picture straight into a picture of the channel's pool
 *        (a get_buffer2 callback), so a source at the channel's size and
 *        format reaches the encoder without a copy: the producer hands the
 *        pool picture itself to the host (issue 14).
 *
 * Owns a fixed table of slots, one per pool picture a decoder holds through
 * an AVBuffer; each slot holds one host reference, released when libavcodec
 * drops the last AVBufferRef to it (from whichever thread does). The
 * buffers are AV_BUFFER_FLAG_READONLY: a decoder that wants to write into a
 * picture it already output (ff_reget_buffer) gets a copy instead, so a
 * picture on air is never written by the decoder; and the host reference
 * keeps a picture shared (refcount > 1) while libavcodec holds it, so every
 * host-side writer (fades, renderers) copies it first (video_make_writable).
 *
 * Pictures the pool cannot hold as libavcodec needs (other formats or sizes,
 * a codec whose alignment the pool layout does not meet, a host before ABI
 * 1.4, a full slot table) fall back to avcodec_default_get_buffer2. A decoder
 * that falls back in mid-stream (slots or memory exhausted) gets the same
 * strides from it as from the pool on a build whose STRIDE_ALIGN is 64 (both
 * are the width rounded up to 128 for 4:2:0), which the MPEG-1/2/4 decoders
 * insist on ("stride changed"); the mismatch cases fall back from the first
 * picture, never in the middle.
 *
 * Thread: get_buffer2 and the buffer release run on decoder threads (frame
 * threading) and the producer thread; create/destroy/ff_dr_picture on the
 * segment's thread. The object is reference-counted by its slots in use, so
 * destroying it before the last buffer comes back is safe.
 */
#ifndef FF_DR_H
#define FF_DR_H

#include <stdint.h>

#include <libavcodec/avcodec.h>

#include <retrovue/host.h>

typedef struct ff_dr ff_dr;

/** A direct-rendering context for pictures of @p format (borrowed, copied)
 *  from @p host / @p ctx (borrowed; they outlive the segment). NULL when
 *  memory is short or @p host lacks video_plane_bytes (a host before ABI
 *  1.4): the caller then decodes into libavcodec's own buffers. */
ff_dr *ff_dr_create(const rv_host_api *host, rv_context *ctx, const rv_program_format *format);
/** Drop the owner's reference; the memory goes with the last buffer. NULL is
 *  a no-op. */
void ff_dr_destroy(ff_dr *dr);

/** The AVCodecContext.get_buffer2 to install on a video decoder whose
 *  `opaque` is the ff_dr (borrowed; it must outlive the decoder and every
 *  frame it output). Thread: any decoder thread. */
int ff_dr_get_buffer2(AVCodecContext *avctx, AVFrame *frame, int flags);

/** The pool picture @p frame (borrowed) is, when it is exactly one of this
 *  context's pictures at the channel's size: yuv420p, width x height equal,
 *  every plane pointer and stride the picture's own (no crop offset).
 *  Borrowed: valid while @p frame holds its buffers; take a host reference
 *  (video_ref) to keep it. NULL otherwise. */
rv_video_frame *ff_dr_picture(const ff_dr *dr, const AVFrame *frame);

/** Pictures decoded into pool pictures / into libavcodec's own buffers since
 *  create (tests, the segment's log line). */
int64_t ff_dr_direct_count(const ff_dr *dr);
int64_t ff_dr_fallback_count(const ff_dr *dr);

#endif
