/**
 * @file host/core/frame_pool.h
 * @short A channel's pool of pictures and audio buffers in its ProgramFormat.
 *
 * Buffers are reference-counted (atomic); the last release puts one back on
 * the pool's free list, so steady state allocates nothing. The pool itself is
 * reference-counted by its buffers: frame_pool_destroy() frees it once the
 * last buffer handed out comes back. Thread: any.
 */
#ifndef RV_HOST_FRAME_POOL_H
#define RV_HOST_FRAME_POOL_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/format.h>
#include <retrovue/frame.h>

typedef struct frame_pool frame_pool;

/** A pool for @p format (borrowed, copied). NULL on failure. */
frame_pool *frame_pool_create(const rv_program_format *format);
/** Drop the owner's reference; memory goes when every buffer is back. */
void frame_pool_destroy(frame_pool *pool);

/** One reference owned by the caller; contents undefined. NULL if out of memory. */
rv_video_frame *frame_pool_video_alloc(frame_pool *pool);
void frame_pool_video_ref(rv_video_frame *frame);
/** NULL is a no-op. */
void frame_pool_video_release(rv_video_frame *frame);
/** Replace *@p frame by an exclusive copy when it is shared. RV_OK / RV_ENOMEM. */
int frame_pool_video_make_writable(rv_video_frame **frame);
/** Fill with black (Y 16, U/V 128). */
void frame_pool_video_fill_black(rv_video_frame *frame);
/** Bytes from frame->plane[@p plane] that belong to the picture: at least
 *  stride * rows (FRAME_POOL_ROWS(height) luma rows, half as many rounded
 *  up for chroma) + FRAME_POOL_TAIL_BYTES. 0 for NULL or @p plane > 2.
 *  rv_host_api.video_plane_bytes (ABI 1.4). */
size_t frame_pool_video_plane_bytes(const rv_video_frame *frame, uint32_t plane);
/** Current reference count (tests, assertions). */
int frame_pool_video_refcount(const rv_video_frame *frame);

/** A buffer with `samples` = @p samples (must be <= the pool's per-tick
 *  maximum, the largest rv_samples_in_tick for the format). */
rv_audio_buffer *frame_pool_audio_alloc(frame_pool *pool, uint32_t samples);
void frame_pool_audio_ref(rv_audio_buffer *buf);
void frame_pool_audio_release(rv_audio_buffer *buf);
/** Fill with silence. */
void frame_pool_audio_fill_silence(rv_audio_buffer *buf);

/** Buffers handed out and not yet back (leak checks in tests). */
int64_t frame_pool_outstanding(const frame_pool *pool);
/** Pictures that exist now, handed out or free (memory accounting, tests). */
int64_t frame_pool_video_pictures(const frame_pool *pool);

/** Alignment of every plane and stride, bytes: libavcodec's STRIDE_ALIGN on
 *  an AVX-512 build, so a decoder may write into a picture. */
#define FRAME_POOL_ALIGN_BYTES 64
/** Luma rows a picture of @p h visible rows holds: @p h aligned to 32
 *  (avcodec_align_dimensions2 for 4:2:0: two macroblock rows, for
 *  interlaced coding) plus the 2 rows H.264's chroma motion compensation may
 *  read past it. */
#define FRAME_POOL_ROWS(h) ((((size_t)(h) + 31) / 32) * 32 + 2)
/** Bytes after a plane's last row (libavcodec pads each plane by 16 +
 *  STRIDE_ALIGN - 1 for SIMD over-reads). */
#define FRAME_POOL_TAIL_BYTES 128

/** Free pictures a pool keeps for reuse; more coming back are unmapped, so a
 *  burst's high-water mark does not stay resident (frame_pool.c). */
#define FRAME_POOL_KEEP_FREE 4

#endif
