/**
 * @file modules/renderers/preview/preview_jpeg.h
 * @short The preview's JPEG maker: scales a channel picture (8-bit YUV 4:2:0,
 *        limited range) to the preview size with libswscale and encodes it
 *        with libavcodec's MJPEG encoder (full-range YUV 4:2:0, baseline).
 *
 * Owns the scaler, the encoder, the scaled picture and the last packet. Not
 * thread-safe: one thread (the preview's worker) uses it after create.
 */
#ifndef RV_PREVIEW_JPEG_H
#define RV_PREVIEW_JPEG_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/frame.h>

typedef struct preview_jpeg preview_jpeg;

/** A JPEG maker for @p src_width x @p src_height pictures scaled to
 *  @p dst_width (made even) x the height that keeps the aspect (even, at
 *  least 2), at @p quality 1..100 (mapped to the MJPEG qscale 31..2).
 *  *@p out receives it (owned by the caller: preview_jpeg_destroy). RV_OK,
 *  RV_ENOTSUP (no MJPEG encoder in this FFmpeg), RV_EINVAL or RV_ENOMEM,
 *  with the reason in @p err. */
int preview_jpeg_create(uint32_t src_width, uint32_t src_height, uint32_t dst_width, int quality,
                        preview_jpeg **out, char *err, size_t errlen);
void preview_jpeg_destroy(preview_jpeg *j);

/** Size of the images it makes. */
uint32_t preview_jpeg_width(const preview_jpeg *j);
uint32_t preview_jpeg_height(const preview_jpeg *j);

/** Encode @p frame (borrowed for the call, read only). *@p data receives the
 *  JPEG bytes (owned by @p j, valid until the next encode or destroy) and
 *  *@p len their size. RV_OK, RV_EINVAL (a picture of another size),
 *  RV_ENOMEM or RV_EIO (the encoder failed). */
int preview_jpeg_encode(preview_jpeg *j, const rv_video_frame *frame, const uint8_t **data,
                        size_t *len);

#endif
