/**
 * @file host/core/frame_pool.c
 * @short A channel's pool of I420 pictures and S16 audio buffers.
 *
 * The pool owns every buffer it ever allocated: those on its free lists and,
 * through their headers, those handed out. Each buffer carries a header
 * (pool_video / pool_audio, pointed to by host_private) with its atomic
 * reference count and its pool. The pool itself is reference-counted: one
 * reference for its owner (dropped by frame_pool_destroy) plus one per
 * buffer handed out, so it is freed when the last of them goes.
 *
 * Layout: a decoder can write straight into a picture (ffmpeg-file's
 * get_buffer2, issue 14), so a picture has the room libavcodec's own frame
 * pool would give it: planes and samples are 64-byte aligned (STRIDE_ALIGN of
 * an AVX-512 build), the chroma stride is half the width rounded up to 64 and
 * the luma stride twice that (avcodec's default buffers keep that ratio too);
 * a plane holds FRAME_POOL_ROWS(height) luma rows (half as many, rounded up,
 * for chroma: the height aligned to 32 as avcodec_align_dimensions2 does for
 * 4:2:0, plus 2 rows that H.264's chroma motion compensation may read) and
 * FRAME_POOL_TAIL_BYTES after the last row. At 720p that is 2.5 % more than
 * the visible picture. Audio buffers hold the largest count of samples any
 * tick of the format carries, ceil(audio_rate * den / num).
 *
 * Memory: a picture's planes are one anonymous mapping of their own (page
 * aligned), so a picture the pool lets go is returned to the kernel at once;
 * from malloc, 1-6 MB blocks end up inside glibc's arenas once its dynamic
 * mmap threshold has grown, and a channel's high-water mark (the start burst
 * fills the ring and the encoder queue) then stayed resident for its whole
 * life. The free list keeps at most FRAME_POOL_KEEP_FREE pictures: enough
 * to absorb the tick-to-tick churn, while a burst's extra pictures are
 * unmapped when they come back. (Sanitizer builds use aligned_alloc so that
 * AddressSanitizer still sees overruns.)
 */
#include "core/frame_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <retrovue/error.h>

enum { POOL_ALIGN_BYTES = FRAME_POOL_ALIGN_BYTES };

#if defined(__SANITIZE_ADDRESS__)
#define POOL_PICTURE_MMAP 0
#else
#define POOL_PICTURE_MMAP 1
#endif

typedef struct pool_video {
    rv_video_frame frame;        /**< public part; frame.host_private == this */
    atomic_int refcount;
    frame_pool *pool;
    struct pool_video *next;     /**< free list link */
    uint8_t *memory;             /**< owned: all three planes (pool_picture_alloc) */
} pool_video;

typedef struct pool_audio {
    rv_audio_buffer buf;         /**< public part; buf.host_private == this */
    atomic_int refcount;
    frame_pool *pool;
    struct pool_audio *next;
} pool_audio;

struct frame_pool {
    rv_program_format format;
    int32_t stride[3];
    size_t plane_bytes[3];
    uint32_t audio_capacity_samples;
    atomic_int refcount;         /**< owner + buffers out */
    _Atomic int64_t outstanding; /**< buffers out */
    pthread_mutex_t lock;        /**< guards the free lists */
    pool_video *free_video;
    int free_video_count;        /**< length of free_video, <= FRAME_POOL_KEEP_FREE */
    _Atomic int64_t pictures;    /**< pictures that exist (out + free) */
    pool_audio *free_audio;
};

static size_t pool_align(size_t n)
{
    return (n + POOL_ALIGN_BYTES - 1) / POOL_ALIGN_BYTES * POOL_ALIGN_BYTES;
}

static size_t pool_picture_bytes(const frame_pool *pool)
{
    return pool->plane_bytes[0] + pool->plane_bytes[1] + pool->plane_bytes[2];
}

/** Memory for one picture's planes: its own mapping (see the file comment). */
static uint8_t *pool_picture_alloc(size_t bytes)
{
#if POOL_PICTURE_MMAP
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? NULL : m;
#else
    return aligned_alloc(POOL_ALIGN_BYTES, bytes);
#endif
}

static void pool_picture_free(uint8_t *memory, size_t bytes)
{
#if POOL_PICTURE_MMAP
    if (memory != NULL)
        munmap(memory, bytes);
#else
    (void)bytes;
    free(memory);
#endif
}

static void pool_video_delete(frame_pool *pool, pool_video *v)
{
    pool_picture_free(v->memory, pool_picture_bytes(pool));
    free(v);
    atomic_fetch_sub(&pool->pictures, 1);
}

frame_pool *frame_pool_create(const rv_program_format *format)
{
    if (format == NULL || format->width == 0 || format->height == 0 || format->width % 2 != 0 ||
        format->height % 2 != 0 || format->width > 16384 || format->height > 16384 ||
        format->frame_rate.num <= 0 || format->frame_rate.den <= 0 || format->audio_rate == 0 ||
        format->audio_channels == 0 || format->audio_channels > 64)
        return NULL;
    frame_pool *pool = calloc(1, sizeof(*pool));
    if (pool == NULL)
        return NULL;
    pool->format = *format;
    pool->stride[1] = (int32_t)pool_align(format->width / 2);
    pool->stride[2] = pool->stride[1];
    pool->stride[0] = 2 * pool->stride[1];
    size_t rows = FRAME_POOL_ROWS(format->height);
    pool->plane_bytes[0] = pool_align((size_t)pool->stride[0] * rows + FRAME_POOL_TAIL_BYTES);
    pool->plane_bytes[1] =
        pool_align((size_t)pool->stride[1] * ((rows + 1) / 2) + FRAME_POOL_TAIL_BYTES);
    pool->plane_bytes[2] = pool->plane_bytes[1];
    /* ceil(audio_rate * den / num): the most samples any tick carries. */
    uint64_t n = (uint64_t)format->audio_rate * (uint64_t)format->frame_rate.den;
    uint64_t d = (uint64_t)format->frame_rate.num;
    pool->audio_capacity_samples = (uint32_t)((n + d - 1) / d);
    atomic_init(&pool->refcount, 1);
    atomic_init(&pool->outstanding, 0);
    atomic_init(&pool->pictures, 0);
    pthread_mutex_init(&pool->lock, NULL);
    return pool;
}

/** Free the pool and everything on its free lists (nothing is out). */
static void frame_pool_free(frame_pool *pool)
{
    while (pool->free_video != NULL) {
        pool_video *v = pool->free_video;
        pool->free_video = v->next;
        pool_video_delete(pool, v);
    }
    while (pool->free_audio != NULL) {
        pool_audio *a = pool->free_audio;
        pool->free_audio = a->next;
        free(a->buf.data);
        free(a);
    }
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

static void frame_pool_unref(frame_pool *pool)
{
    if (atomic_fetch_sub(&pool->refcount, 1) == 1)
        frame_pool_free(pool);
}

void frame_pool_destroy(frame_pool *pool)
{
    if (pool != NULL)
        frame_pool_unref(pool);
}

int64_t frame_pool_outstanding(const frame_pool *pool)
{
    return atomic_load(&((frame_pool *)pool)->outstanding);
}

int64_t frame_pool_video_pictures(const frame_pool *pool)
{
    return atomic_load(&((frame_pool *)pool)->pictures);
}

/** Count one buffer out: it holds a reference on the pool. */
static void frame_pool_lend(frame_pool *pool)
{
    atomic_fetch_add(&pool->refcount, 1);
    atomic_fetch_add(&pool->outstanding, 1);
}

static pool_video *frame_pool_video_new(frame_pool *pool)
{
    pool_video *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return NULL;
    v->memory = pool_picture_alloc(pool_picture_bytes(pool));
    if (v->memory == NULL) {
        free(v);
        return NULL;
    }
    atomic_fetch_add(&pool->pictures, 1);
    v->frame.plane[0] = v->memory;
    v->frame.plane[1] = v->memory + pool->plane_bytes[0];
    v->frame.plane[2] = v->frame.plane[1] + pool->plane_bytes[1];
    for (int i = 0; i < 3; i++)
        v->frame.stride[i] = pool->stride[i];
    v->frame.width = pool->format.width;
    v->frame.height = pool->format.height;
    v->frame.host_private = v;
    v->pool = pool;
    return v;
}

rv_video_frame *frame_pool_video_alloc(frame_pool *pool)
{
    if (pool == NULL)
        return NULL;
    pthread_mutex_lock(&pool->lock);
    pool_video *v = pool->free_video;
    if (v != NULL) {
        pool->free_video = v->next;
        pool->free_video_count--;
    }
    pthread_mutex_unlock(&pool->lock);
    if (v == NULL)
        v = frame_pool_video_new(pool);
    if (v == NULL)
        return NULL;
    v->next = NULL;
    atomic_store(&v->refcount, 1);
    frame_pool_lend(pool);
    return &v->frame;
}

void frame_pool_video_ref(rv_video_frame *frame)
{
    pool_video *v = frame->host_private;
    atomic_fetch_add(&v->refcount, 1);
}

void frame_pool_video_release(rv_video_frame *frame)
{
    if (frame == NULL)
        return;
    pool_video *v = frame->host_private;
    if (atomic_fetch_sub(&v->refcount, 1) != 1)
        return;
    frame_pool *pool = v->pool;
    int keep;
    pthread_mutex_lock(&pool->lock);
    keep = pool->free_video_count < FRAME_POOL_KEEP_FREE;
    if (keep) {
        v->next = pool->free_video;
        pool->free_video = v;
        pool->free_video_count++;
    }
    pthread_mutex_unlock(&pool->lock);
    if (!keep)
        pool_video_delete(pool, v);
    atomic_fetch_sub(&pool->outstanding, 1);
    frame_pool_unref(pool);
}

size_t frame_pool_video_plane_bytes(const rv_video_frame *frame, uint32_t plane)
{
    if (frame == NULL || plane > 2)
        return 0;
    const pool_video *v = frame->host_private;
    return v->pool->plane_bytes[plane];
}

int frame_pool_video_refcount(const rv_video_frame *frame)
{
    pool_video *v = frame->host_private;
    return atomic_load(&v->refcount);
}

int frame_pool_video_make_writable(rv_video_frame **frame)
{
    if (frame == NULL || *frame == NULL)
        return RV_EINVAL;
    pool_video *v = (*frame)->host_private;
    if (atomic_load(&v->refcount) == 1)
        return RV_OK;
    rv_video_frame *copy = frame_pool_video_alloc(v->pool);
    if (copy == NULL)
        return RV_ENOMEM;
    for (int i = 0; i < 3; i++)
        memcpy(copy->plane[i], (*frame)->plane[i], v->pool->plane_bytes[i]);
    frame_pool_video_release(*frame);
    *frame = copy;
    return RV_OK;
}

void frame_pool_video_fill_black(rv_video_frame *frame)
{
    pool_video *v = frame->host_private;
    memset(frame->plane[0], 16, v->pool->plane_bytes[0]);
    memset(frame->plane[1], 128, v->pool->plane_bytes[1]);
    memset(frame->plane[2], 128, v->pool->plane_bytes[2]);
}

static pool_audio *frame_pool_audio_new(frame_pool *pool)
{
    pool_audio *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    size_t bytes = pool_align((size_t)pool->audio_capacity_samples * pool->format.audio_channels *
                              sizeof(int16_t));
    a->buf.data = aligned_alloc(POOL_ALIGN_BYTES, bytes);
    if (a->buf.data == NULL) {
        free(a);
        return NULL;
    }
    a->buf.capacity = pool->audio_capacity_samples;
    a->buf.channels = pool->format.audio_channels;
    a->buf.host_private = a;
    a->pool = pool;
    return a;
}

rv_audio_buffer *frame_pool_audio_alloc(frame_pool *pool, uint32_t samples)
{
    if (pool == NULL || samples > pool->audio_capacity_samples)
        return NULL;
    pthread_mutex_lock(&pool->lock);
    pool_audio *a = pool->free_audio;
    if (a != NULL)
        pool->free_audio = a->next;
    pthread_mutex_unlock(&pool->lock);
    if (a == NULL)
        a = frame_pool_audio_new(pool);
    if (a == NULL)
        return NULL;
    a->next = NULL;
    a->buf.samples = samples;
    atomic_store(&a->refcount, 1);
    frame_pool_lend(pool);
    return &a->buf;
}

void frame_pool_audio_ref(rv_audio_buffer *buf)
{
    pool_audio *a = buf->host_private;
    atomic_fetch_add(&a->refcount, 1);
}

void frame_pool_audio_release(rv_audio_buffer *buf)
{
    if (buf == NULL)
        return;
    pool_audio *a = buf->host_private;
    if (atomic_fetch_sub(&a->refcount, 1) != 1)
        return;
    frame_pool *pool = a->pool;
    pthread_mutex_lock(&pool->lock);
    a->next = pool->free_audio;
    pool->free_audio = a;
    pthread_mutex_unlock(&pool->lock);
    atomic_fetch_sub(&pool->outstanding, 1);
    frame_pool_unref(pool);
}

void frame_pool_audio_fill_silence(rv_audio_buffer *buf)
{
    memset(buf->data, 0, (size_t)buf->capacity * buf->channels * sizeof(int16_t));
}
