/**
 * @file modules/renderers/preview/preview_window.c
 * @short The preview's local SDL2 window (see preview_window.h). Owns the
 *        window, its renderer and its IYUV texture; SDL's video subsystem is
 *        initialised per window (SDL counts the references).
 */
#include "preview_window.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

#ifdef RV_PREVIEW_HAVE_SDL2

#include <pthread.h>

#include <SDL.h>

/* The module's one named singleton: SDL's state is process-wide and not
 * thread-safe, and two channels may each open a window from their own
 * worker thread. Every SDL call below holds it. */
static pthread_mutex_t preview_sdl_lock = PTHREAD_MUTEX_INITIALIZER;
/* Windows open in the process (preview_sdl_lock): the last one to close
 * shuts SDL down completely, so nothing of SDL outlives the windows. */
static int preview_sdl_windows;

struct preview_window {
    SDL_Window *window;      /**< owned */
    SDL_Renderer *renderer;  /**< owned */
    SDL_Texture *texture;    /**< owned, src size, IYUV */
    uint32_t src_width;
    uint32_t src_height;
    uint32_t window_id;
    char driver[32];         /**< SDL's video driver, e.g. "x11" */
};

int preview_window_supported(void)
{
    return 1;
}

/** Free what was made; the caller holds preview_sdl_lock. */
static void preview_window_free_locked(preview_window *w)
{
    if (w->texture)
        SDL_DestroyTexture(w->texture);
    if (w->renderer)
        SDL_DestroyRenderer(w->renderer);
    if (w->window)
        SDL_DestroyWindow(w->window);
    if (--preview_sdl_windows == 0)
        SDL_Quit();
    else
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
    free(w);
}

int preview_window_open(const char *title, uint32_t src_width, uint32_t src_height,
                        uint32_t win_width, uint32_t win_height, preview_window **out, char *err,
                        size_t errlen)
{
    *out = NULL;
    preview_window *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return RV_ENOMEM;
    }
    w->src_width = src_width;
    w->src_height = src_height;
    pthread_mutex_lock(&preview_sdl_lock);
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        snprintf(err, errlen, "cannot open a window (is DISPLAY set?): %s", SDL_GetError());
        free(w);
        pthread_mutex_unlock(&preview_sdl_lock);
        return RV_EIO;
    }
    preview_sdl_windows++;
    /* SDL falls back to drivers nobody can see: refuse them unless the
     * operator asked for one by name. */
    const char *driver = SDL_GetCurrentVideoDriver();
    const char *wanted = getenv("SDL_VIDEODRIVER");
    if (driver && (strcmp(driver, "offscreen") == 0 || strcmp(driver, "dummy") == 0) &&
        !(wanted && strcmp(wanted, driver) == 0)) {
        snprintf(err, errlen,
                 "no display to open a window on (SDL found only its '%s' video driver; is "
                 "DISPLAY or WAYLAND_DISPLAY set?)",
                 driver);
        preview_window_free_locked(w);
        pthread_mutex_unlock(&preview_sdl_lock);
        return RV_EIO;
    }
    snprintf(w->driver, sizeof(w->driver), "%s", driver ? driver : "?");
    w->window = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
                                 (int)win_width, (int)win_height, SDL_WINDOW_RESIZABLE);
    if (w->window)
        w->renderer = SDL_CreateRenderer(w->window, -1, 0);
    if (w->window && !w->renderer)
        w->renderer = SDL_CreateRenderer(w->window, -1, SDL_RENDERER_SOFTWARE);
    if (w->renderer)
        w->texture = SDL_CreateTexture(w->renderer, SDL_PIXELFORMAT_IYUV,
                                       SDL_TEXTUREACCESS_STREAMING, (int)src_width,
                                       (int)src_height);
    if (!w->texture) {
        snprintf(err, errlen, "cannot open a %ux%u window: %s", win_width, win_height,
                 SDL_GetError());
        preview_window_free_locked(w);
        pthread_mutex_unlock(&preview_sdl_lock);
        return RV_EIO;
    }
    w->window_id = SDL_GetWindowID(w->window);
    SDL_SetRenderDrawColor(w->renderer, 0, 0, 0, 255);
    SDL_RenderClear(w->renderer);
    SDL_RenderPresent(w->renderer);
    pthread_mutex_unlock(&preview_sdl_lock);
    *out = w;
    return RV_OK;
}

int preview_window_show(preview_window *w, const rv_video_frame *frame)
{
    if (frame->width != w->src_width || frame->height != w->src_height)
        return RV_EINVAL;
    pthread_mutex_lock(&preview_sdl_lock);
    int rc = SDL_UpdateYUVTexture(w->texture, NULL, frame->plane[0], frame->stride[0],
                                  frame->plane[1], frame->stride[1], frame->plane[2],
                                  frame->stride[2]);
    if (rc == 0)
        rc = SDL_RenderClear(w->renderer);
    if (rc == 0)
        rc = SDL_RenderCopy(w->renderer, w->texture, NULL, NULL);
    if (rc == 0)
        SDL_RenderPresent(w->renderer);
    pthread_mutex_unlock(&preview_sdl_lock);
    return rc == 0 ? RV_OK : RV_EIO;
}

int preview_window_pump(preview_window *w)
{
    int closed = 0;
    SDL_Event ev;
    pthread_mutex_lock(&preview_sdl_lock);
    while (SDL_PollEvent(&ev)) {
        if (ev.type == SDL_WINDOWEVENT && ev.window.windowID == w->window_id &&
            ev.window.event == SDL_WINDOWEVENT_CLOSE)
            closed = 1;
    }
    pthread_mutex_unlock(&preview_sdl_lock);
    return closed;
}

const char *preview_window_driver(const preview_window *w)
{
    return w->driver;
}

void preview_window_close(preview_window *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&preview_sdl_lock);
    preview_window_free_locked(w);
    pthread_mutex_unlock(&preview_sdl_lock);
}

#else /* no SDL2 in this build */

struct preview_window {
    int unused;
};

int preview_window_supported(void)
{
    return 0;
}

int preview_window_open(const char *title, uint32_t src_width, uint32_t src_height,
                        uint32_t win_width, uint32_t win_height, preview_window **out, char *err,
                        size_t errlen)
{
    (void)title;
    (void)src_width;
    (void)src_height;
    (void)win_width;
    (void)win_height;
    *out = NULL;
    snprintf(err, errlen, "this build of the preview module has no SDL2 window support");
    return RV_ENOTSUP;
}

int preview_window_show(preview_window *w, const rv_video_frame *frame)
{
    (void)w;
    (void)frame;
    return RV_ENOTSUP;
}

int preview_window_pump(preview_window *w)
{
    (void)w;
    return 1;
}

const char *preview_window_driver(const preview_window *w)
{
    (void)w;
    return "none";
}

void preview_window_close(preview_window *w)
{
    (void)w;
}

#endif
