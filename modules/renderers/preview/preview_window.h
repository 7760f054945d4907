/**
 * @file modules/renderers/preview/preview_window.h
 * @short The preview's optional local window (SDL2): shows channel pictures
 *        scaled to the window, for an operator's desk.
 *
 * Owns the SDL window, its renderer and its streaming texture. Every call on
 * one window comes from one thread (the preview's worker), the thread that
 * opened it. SDL itself is process-wide: the calls of every window of the
 * process are serialised on one lock (the module's named singleton). Built
 * without SDL2, preview_window_supported() is 0 and open returns RV_ENOTSUP.
 */
#ifndef RV_PREVIEW_WINDOW_H
#define RV_PREVIEW_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/frame.h>

typedef struct preview_window preview_window;

/** 1 when this build has SDL2 window support. Thread: any. */
int preview_window_supported(void);

/** Open a window titled @p title (borrowed) showing @p src_width x
 *  @p src_height pictures at @p win_width x @p win_height (resizable).
 *  *@p out receives it (owned by the caller: preview_window_close). RV_OK,
 *  RV_ENOTSUP (built without SDL2) or RV_EIO (no display: SDL found only
 *  its offscreen or dummy driver and SDL_VIDEODRIVER does not ask for it;
 *  or SDL failed),
 *  with the reason in @p err. */
int preview_window_open(const char *title, uint32_t src_width, uint32_t src_height,
                        uint32_t win_width, uint32_t win_height, preview_window **out, char *err,
                        size_t errlen);
/** Show @p frame (borrowed for the call, read only). RV_OK, RV_EINVAL (a
 *  picture of another size) or RV_EIO. */
int preview_window_show(preview_window *w, const rv_video_frame *frame);
/** Handle pending window events. Returns 1 when the operator closed the
 *  window (the caller closes it), else 0. */
int preview_window_pump(preview_window *w);
/** SDL's video driver the window is on (e.g. "x11"); owned by @p w. */
const char *preview_window_driver(const preview_window *w);
/** Close and free. NULL is a no-op. */
void preview_window_close(preview_window *w);

#endif
