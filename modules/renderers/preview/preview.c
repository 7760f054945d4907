/**
 * @file modules/renderers/preview/preview.c
 * @short The "preview" renderer: passes every tick through untouched and,
 *        every interval_ms of tick time, hands a reference to the picture on
 *        air to its own worker thread, which scales it, encodes a JPEG and
 *        publishes it to the host (rv_host_api.publish_image, ABI 1.1). With
 *        window = true the worker also shows the output in a local SDL2
 *        window at window_fps.
 *
 * An instance (preview_state) owns its options, its worker thread, the JPEG
 * maker and (on the worker) the window. The output thread and the worker
 * share one job slot: render() fills it only while `busy` is 0, then sets
 * `busy` and posts the semaphore; the worker reads the job, does it,
 * releases the picture and clears `busy`. A sample that finds the worker
 * busy is skipped and counted: nothing ever queues. On a tick that is not
 * sampled render() costs one comparison, like null.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <retrovue/retrovue.h>

#include "preview_jpeg.h"
#include "preview_window.h"

#define PREVIEW_NS_PER_MS 1000000LL
#define PREVIEW_NS_PER_S 1000000000LL
/** The worker wakes this often with a window open, to handle its events. */
#define PREVIEW_PUMP_NS (20 * PREVIEW_NS_PER_MS)
/** The worker's niceness (see preview_worker_lower_priority). */
#define PREVIEW_WORKER_NICE 10
/** Widest window opened by default (it is resizable). */
#define PREVIEW_WINDOW_MAX_WIDTH 960u

/** What render() hands the worker. */
typedef struct preview_job {
    rv_video_frame *frame;  /**< one reference, released by the worker */
    int64_t tick;
    int jpeg;               /**< make and publish a JPEG */
    int window;             /**< show it in the window */
} preview_job;

typedef struct preview_state {
    const rv_host_api *host;     /**< borrowed, valid until destroy */
    rv_context *ctx;             /**< borrowed, valid until destroy */
    char title[256];             /**< window title: the channel's name */
    uint32_t src_width;
    uint32_t src_height;
    int64_t interval_ns;         /**< between JPEGs, tick time */
    int64_t window_ns;           /**< between window pictures, tick time; 0: no window */
    int can_publish;             /**< the host has publish_image (ABI >= 1.1) */
    preview_jpeg *jpeg;          /**< owned; the worker's once started */

    /* output thread only */
    int64_t next_sample_ns;      /**< earliest tick time of the next sample */
    int64_t next_jpeg_ns;
    int64_t next_window_ns;

    /* shared with the worker */
    preview_job job;             /**< written by render while busy == 0 */
    atomic_int busy;             /**< 1 from hand-off until the worker is done */
    sem_t wake;                  /**< posted by render (a job) and stop (quit) */
    atomic_int quit;
    pthread_t worker;
    int worker_started;

    /* start() waits for the worker to open the window */
    pthread_mutex_t open_lock;
    pthread_cond_t open_cond;
    int open_done;
    int open_rc;
    char open_err[256];

    /* counters: written by one thread each, read at stop */
    atomic_uint_fast64_t published;
    atomic_uint_fast64_t shown;
    atomic_uint_fast64_t skipped;
    atomic_uint_fast64_t failed;
} preview_state;

static const rv_option preview_options[] = {
    {.key = "interval_ms", .type = RV_OPT_INT,
     .help = "tick time between two preview JPEGs, in ms",
     .default_int = 1000, .min_int = 100, .max_int = 60000},
    {.key = "width", .type = RV_OPT_INT,
     .help = "preview width in pixels (made even); the height keeps the aspect",
     .default_int = 320, .min_int = 16, .max_int = 1920},
    {.key = "quality", .type = RV_OPT_INT,
     .help = "JPEG quality 1..100 (mapped to MJPEG qscale 31..2; 100 is best)",
     .default_int = 75, .min_int = 1, .max_int = 100},
    {.key = "window", .type = RV_OPT_BOOL,
     .help = "also show the live output in a local SDL2 window (needs a display)",
     .default_int = 0},
    {.key = "window_fps", .type = RV_OPT_INT,
     .help = "pictures per second of tick time shown in the window",
     .default_int = 10, .min_int = 1, .max_int = 60},
    {.key = NULL},
};

/** Control thread. @p args borrowed (its pointers outlive the instance);
 *  *@p state receives the instance, owned by the host until destroy(). */
static int preview_create(const rv_create_args *args, void **state)
{
    const rv_host_api *host = args->host;
    char err[256] = "";
    preview_state *s = calloc(1, sizeof(*s));
    if (!s)
        return RV_ENOMEM;
    s->host = host;
    s->ctx = args->ctx;
    snprintf(s->title, sizeof(s->title), "RetroVue: %s", args->channel_name);
    s->src_width = args->format->width;
    s->src_height = args->format->height;
    s->interval_ns = host->opt_int(args->options, "interval_ms") * PREVIEW_NS_PER_MS;
    if (host->opt_bool(args->options, "window"))
        s->window_ns = PREVIEW_NS_PER_S / host->opt_int(args->options, "window_fps");
    s->can_publish = host->struct_size >= offsetof(rv_host_api, publish_image) + sizeof(void *) &&
                     host->publish_image != NULL;
    if (!s->can_publish)
        host->event(s->ctx, RV_EVENT_WARNING, RV_ENOTSUP, "preview",
                    "this host (ABI %u.%u) has no publish_image: no preview images",
                    host->abi_major, host->abi_minor);
    if (s->window_ns && !preview_window_supported()) {
        host->event(s->ctx, RV_EVENT_WARNING, RV_ENOTSUP, "preview",
                    "window = true, but this build of the preview module has no SDL2 "
                    "window support (install libsdl2-dev and rebuild)");
        free(s);
        return RV_ENOTSUP;
    }
    int rc = preview_jpeg_create(s->src_width, s->src_height,
                                 (uint32_t)host->opt_int(args->options, "width"),
                                 (int)host->opt_int(args->options, "quality"), &s->jpeg, err,
                                 sizeof(err));
    if (rc != RV_OK) {
        host->event(s->ctx, RV_EVENT_WARNING, rc, "preview", "%s", err);
        free(s);
        return rc;
    }
    if (sem_init(&s->wake, 0, 0) != 0) {
        preview_jpeg_destroy(s->jpeg);
        free(s);
        return RV_ENOMEM;
    }
    pthread_mutex_init(&s->open_lock, NULL);
    pthread_cond_init(&s->open_cond, NULL);
    *state = s;
    return RV_OK;
}

/** Control thread, after stop (or without start). @p state: ownership returns. */
static void preview_destroy(void *state)
{
    preview_state *s = state;
    preview_jpeg_destroy(s->jpeg);
    sem_destroy(&s->wake);
    pthread_mutex_destroy(&s->open_lock);
    pthread_cond_destroy(&s->open_cond);
    free(s);
}

/** Worker: make the JPEG of @p job and publish it. */
static void preview_publish(preview_state *s, const preview_job *job)
{
    const uint8_t *data = NULL;
    size_t len = 0;
    int rc = preview_jpeg_encode(s->jpeg, job->frame, &data, &len);
    if (rc == RV_OK && s->can_publish)
        rc = s->host->publish_image(s->ctx, "image/jpeg", data, len);
    if (rc == RV_OK) {
        atomic_fetch_add(&s->published, 1);
        return;
    }
    /* Report the first failure; count every one. */
    if (atomic_fetch_add(&s->failed, 1) == 0)
        s->host->event(s->ctx, RV_EVENT_WARNING, rc, "preview",
                       "could not make or publish the preview of tick %" PRId64, job->tick);
}

/** Worker: tell start() how opening the window went. */
static void preview_open_report(preview_state *s, int rc, const char *err)
{
    pthread_mutex_lock(&s->open_lock);
    s->open_rc = rc;
    snprintf(s->open_err, sizeof(s->open_err), "%s", err);
    s->open_done = 1;
    pthread_cond_signal(&s->open_cond);
    pthread_mutex_unlock(&s->open_lock);
}

/** Worker: wait for a job or quit; with a window, wake every
 *  PREVIEW_PUMP_NS to handle its events. */
static void preview_wait(preview_state *s, int pump)
{
    if (!pump) {
        while (sem_wait(&s->wake) != 0 && errno == EINTR)
            ;
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + PREVIEW_PUMP_NS;
    ts.tv_sec += (time_t)(ns / PREVIEW_NS_PER_S);
    ts.tv_nsec = (long)(ns % PREVIEW_NS_PER_S);
    while (sem_timedwait(&s->wake, &ts) != 0 && errno == EINTR)
        ;
}

/** Worker: make this thread yield to the channel's threads. Waking it from
 *  render() must never preempt the output thread on a busy core: a batch
 *  thread is not favoured at wake-up, and nice 10 keeps it behind the
 *  playout threads while the CPU is short (the preview then updates late,
 *  the channel never does). Best effort: failures change nothing else. */
static void preview_worker_lower_priority(void)
{
    struct sched_param param = {.sched_priority = 0};
    (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), PREVIEW_WORKER_NICE);
}

/** The worker thread: every SDL call of the instance and every JPEG. */
static void *preview_worker_main(void *arg)
{
    preview_state *s = arg;
    preview_window *win = NULL;
    preview_worker_lower_priority();
    (void)pthread_setname_np(pthread_self(), "rv-preview"); /* for top -H */
    if (s->window_ns) {
        char err[256] = "";
        uint32_t ww = s->src_width < PREVIEW_WINDOW_MAX_WIDTH ? s->src_width
                                                              : PREVIEW_WINDOW_MAX_WIDTH;
        uint32_t wh = (uint32_t)((uint64_t)ww * s->src_height / s->src_width);
        int rc = preview_window_open(s->title, s->src_width, s->src_height, ww, wh, &win, err,
                                     sizeof(err));
        if (rc == RV_OK)
            s->host->log(s->ctx, RV_LOG_INFO, "preview window open (%ux%u, SDL video driver %s)",
                         ww, wh, preview_window_driver(win));
        preview_open_report(s, rc, err);
        if (rc != RV_OK)
            return NULL;
    } else {
        preview_open_report(s, RV_OK, "");
    }
    for (;;) {
        preview_wait(s, win != NULL);
        if (atomic_load(&s->quit))
            break;
        if (win && preview_window_pump(win)) {
            s->host->event(s->ctx, RV_EVENT_WARNING, 0, "preview",
                           "the operator closed the preview window");
            preview_window_close(win);
            win = NULL;
        }
        if (!atomic_load_explicit(&s->busy, memory_order_acquire))
            continue;
        preview_job job = s->job;
        if (job.window && win && preview_window_show(win, job.frame) == RV_OK)
            atomic_fetch_add(&s->shown, 1);
        if (job.jpeg)
            preview_publish(s, &job);
        s->host->video_release(job.frame);
        atomic_store_explicit(&s->busy, 0, memory_order_release);
    }
    preview_window_close(win);
    return NULL;
}

/** Control thread, before the first render: start the worker and, with a
 *  window, wait until it is open. */
static int preview_start(void *state)
{
    preview_state *s = state;
    atomic_store(&s->quit, 0);
    atomic_store(&s->busy, 0);
    s->open_done = 0;
    s->next_sample_ns = 0;
    s->next_jpeg_ns = 0;
    s->next_window_ns = 0;
    if (pthread_create(&s->worker, NULL, preview_worker_main, s) != 0)
        return RV_ENOMEM;
    pthread_mutex_lock(&s->open_lock);
    while (!s->open_done)
        pthread_cond_wait(&s->open_cond, &s->open_lock);
    int rc = s->open_rc;
    pthread_mutex_unlock(&s->open_lock);
    if (rc != RV_OK) {
        pthread_join(s->worker, NULL);
        s->host->event(s->ctx, RV_EVENT_WARNING, rc, "preview", "window = true: %s",
                       s->open_err);
        return rc;
    }
    s->worker_started = 1;
    return RV_OK;
}

/** Control thread, after the last render: stop and join the worker. */
static void preview_stop(void *state)
{
    preview_state *s = state;
    if (!s->worker_started)
        return;
    atomic_store(&s->quit, 1);
    sem_post(&s->wake);
    pthread_join(s->worker, NULL);
    s->worker_started = 0;
    if (atomic_load(&s->busy)) { /* a job the worker never took */
        s->host->video_release(s->job.frame);
        atomic_store(&s->busy, 0);
    }
    s->host->log(s->ctx, RV_LOG_DEBUG,
                 "preview: %" PRIuFAST64 " images published, %" PRIuFAST64
                 " window pictures, %" PRIuFAST64 " samples skipped (worker busy), %" PRIuFAST64
                 " failed",
                 atomic_load(&s->published), atomic_load(&s->shown), atomic_load(&s->skipped),
                 atomic_load(&s->failed));
}

/** Next multiple of @p period_ns strictly after @p t_ns. */
static int64_t preview_next_ns(int64_t t_ns, int64_t period_ns)
{
    return (t_ns / period_ns + 1) * period_ns;
}

/** Output thread, once per tick; never blocks, never copies a picture.
 *  @p tick borrowed; it airs untouched. */
static int preview_render(void *state, rv_tick *tick)
{
    preview_state *s = state;
    if (tick->utc_ns < s->next_sample_ns)
        return RV_OK;
    int jpeg = tick->utc_ns >= s->next_jpeg_ns;
    int window = s->window_ns && tick->utc_ns >= s->next_window_ns;
    if (jpeg)
        s->next_jpeg_ns = preview_next_ns(tick->utc_ns, s->interval_ns);
    if (window)
        s->next_window_ns = preview_next_ns(tick->utc_ns, s->window_ns);
    s->next_sample_ns = s->window_ns && s->next_window_ns < s->next_jpeg_ns ? s->next_window_ns
                                                                            : s->next_jpeg_ns;
    if (tick->video == NULL || !s->worker_started)
        return RV_OK;
    if (atomic_load_explicit(&s->busy, memory_order_acquire)) {
        atomic_fetch_add_explicit(&s->skipped, 1, memory_order_relaxed);
        return RV_OK;
    }
    s->host->video_ref(tick->video);
    s->job = (preview_job){.frame = tick->video, .tick = tick->tick, .jpeg = jpeg,
                           .window = window};
    atomic_store_explicit(&s->busy, 1, memory_order_release);
    sem_post(&s->wake);
    return RV_OK;
}

static const rv_renderer_ops preview_ops = {
    .struct_size = sizeof(rv_renderer_ops),
    .create = preview_create,
    .destroy = preview_destroy,
    .render = preview_render,
    .start = preview_start,
    .stop = preview_stop,
};

RV_MODULE_DEFINE(.kind = RV_KIND_RENDERER, .name = "preview", .version = "1.0.0",
                 .description = "passes frames through; publishes a JPEG preview of the output "
                                "every interval_ms (optional local SDL2 window)",
                 .options = preview_options, .renderer = &preview_ops)
