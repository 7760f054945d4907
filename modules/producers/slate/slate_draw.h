/**
 * @file modules/producers/slate/slate_draw.h
 * @short Painting a slate card into an I420 picture: solid colour, colour
 *        bars, boxes and text in a built-in 5x7 bitmap font.
 *
 * Stateless: every function writes only into the picture it is given, which
 * the caller owns exclusively (a picture that is not shared). Coordinates are
 * luma pixels; everything is clipped to the picture. Thread: any.
 */
#ifndef RV_MODULE_SLATE_DRAW_H
#define RV_MODULE_SLATE_DRAW_H

#include <stdint.h>

#include <retrovue/frame.h>

/** One 8-bit YUV colour (BT.601, limited range). */
typedef struct slate_yuv {
    uint8_t y;
    uint8_t u;
    uint8_t v;
} slate_yuv;

/** Width of one character cell in font pixels (5 of glyph, 1 of gap). */
#define SLATE_DRAW_CELL_W 6
/** Height of one character cell in font pixels (7 of glyph, 1 of gap). */
#define SLATE_DRAW_CELL_H 8

/** Black: Y 16, U 128, V 128. */
#define SLATE_DRAW_BLACK ((slate_yuv){.y = 16, .u = 128, .v = 128})

/** Parse "#RRGGBB" (@p text borrowed) into BT.601 limited-range YUV.
 *  RV_OK or RV_EINVAL. */
int slate_draw_parse_color(const char *text, slate_yuv *out);

/** Fill the whole of @p frame (borrowed, exclusive) with @p color. */
void slate_draw_fill(rv_video_frame *frame, slate_yuv color);

/** Paint 75% colour bars (white, yellow, cyan, green, magenta, red, blue)
 *  over the top three quarters and a black-to-white luma ramp below. */
void slate_draw_bars(rv_video_frame *frame);

/** Fill the rectangle (@p x, @p y, @p w, @p h), clipped, with @p color. The
 *  chroma written is that of every 2x2 block the rectangle touches. */
void slate_draw_box(rv_video_frame *frame, int x, int y, int w, int h, slate_yuv color);

/** Width in pixels of @p text (borrowed) drawn at @p scale. */
int slate_draw_text_width(const char *text, int scale);

/** Draw @p text (borrowed, ASCII; other bytes show as '?') with its top-left
 *  corner at (@p x, @p y), each font pixel a @p scale x @p scale block of
 *  luma @p luma. Writes the Y plane only. */
void slate_draw_text(rv_video_frame *frame, int x, int y, int scale, const char *text,
                     uint8_t luma);

#endif
