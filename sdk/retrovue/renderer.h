/**
 * @file retrovue/renderer.h
 * @short Renderer vtable: sees, and may modify, every output tick before the
 *        sinks get it.
 *
 * render() runs on the channel's output thread once per tick and must never
 * block, open files or allocate in steady state. To modify the picture, call
 * rv_host_api.video_make_writable(ctx, &tick->video) first: the picture may be
 * shared (a frozen frame, the slate).
 */
#ifndef RETROVUE_RENDERER_H
#define RETROVUE_RENDERER_H

#include <retrovue/module.h>

typedef struct rv_renderer_ops {
    uint32_t struct_size;  /**< sizeof(rv_renderer_ops) the module was built with */

    /* ---- required ---- */
    /** Control thread. */
    int (*create)(const rv_create_args *args, void **state);
    /** Control thread, after the output thread has stopped calling render. */
    void (*destroy)(void *state);
    /** Output thread. @p tick is borrowed; the renderer may replace
     *  tick->video (releasing the reference it replaces). RV_OK, or an error
     *  that is logged while the tick airs unmodified. */
    int (*render)(void *state, rv_tick *tick);

    /* ---- optional ---- */
    int (*start)(void *state);  /**< control thread, before the first render */
    void (*stop)(void *state);  /**< control thread, after the last render */

    /* ---- callbacks added in ABI 1.1 or later go below this line ---- */
} rv_renderer_ops;

#endif
