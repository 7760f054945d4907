/**
 * @file tests/unit/test_frame_pool.c
 * @short Frame pool: layout (alignment, strides, the padding a decoder
 *        writing into a picture needs, audio capacity), refcounts,
 *        reuse of the same memory in steady state, make_writable copying only
 *        when shared, the outstanding count, destroy with buffers still out,
 *        and a burst's extra pictures let go (FRAME_POOL_KEEP_FREE).
 */
#include <stdint.h>
#include <string.h>

#include <retrovue/error.h>

#include "core/frame_pool.h"
#include "tap.h"

static const rv_program_format FMT = {
    .width = 642, .height = 360, .frame_rate = {30000, 1001}, .audio_rate = 48000, .audio_channels = 2};

static void test_layout(frame_pool *pool)
{
    rv_video_frame *f = frame_pool_video_alloc(pool);
    int aligned = 1;
    for (int i = 0; i < 3; i++)
        aligned &= ((uintptr_t)f->plane[i] % 64) == 0 && f->stride[i] % 64 == 0;
    tap_ok(aligned, "planes 64-byte aligned, strides multiples of 64");
    tap_ok(f->width == 642 && f->height == 360 && f->stride[0] >= 642 && f->stride[1] >= 321,
           "frame has the format's size and wide-enough strides");
    tap_ok(f->host_private != NULL && frame_pool_video_refcount(f) == 1, "one reference on alloc");
    frame_pool_video_fill_black(f);
    int black = f->plane[0][0] == 16 && f->plane[0][641 + 359 * f->stride[0]] == 16 &&
                f->plane[1][0] == 128 && f->plane[2][320 + 179 * f->stride[2]] == 128;
    tap_ok(black, "fill_black: Y 16, U/V 128 to the last pixel");
    frame_pool_video_release(f);

    rv_audio_buffer *a = frame_pool_audio_alloc(pool, 1602);
    tap_ok(a != NULL && a->capacity == 1602 && a->samples == 1602 && a->channels == 2,
           "audio capacity is the largest tick (1602 at 48 kHz, 29.97)");
    tap_ok(frame_pool_audio_alloc(pool, 1603) == NULL, "more than the largest tick is refused");
    frame_pool_audio_fill_silence(a);
    int silent = 1;
    for (uint32_t i = 0; i < a->samples * a->channels; i++)
        silent &= a->data[i] == 0;
    tap_ok(silent && ((uintptr_t)a->data % 32) == 0, "silence fills every sample; data aligned");
    frame_pool_audio_release(a);
}

/* What libavcodec's own pool gives a 4:2:0 picture (get_buffer.c:
 * avcodec_align_dimensions2: height aligned to 32, +2 rows for H.264;
 * strides multiples of 64; 16 + 64 - 1 bytes past each plane), so a decoder
 * can write straight into a picture (ffmpeg-file's ff_dr). */
static void test_decoder_room(uint32_t w, uint32_t h, int32_t want_luma, int32_t want_chroma)
{
    rv_program_format fmt = FMT;
    fmt.width = w;
    fmt.height = h;
    frame_pool *pool = frame_pool_create(&fmt);
    rv_video_frame *f = pool ? frame_pool_video_alloc(pool) : NULL;
    if (!tap_ok(f != NULL, "%ux%u: a picture", w, h))
        return;
    size_t rows = ((h + 31) / 32) * 32 + 2;
    tap_ok(f->stride[0] == want_luma && f->stride[1] == want_chroma &&
               f->stride[2] == want_chroma && f->stride[0] == 2 * f->stride[1],
           "%ux%u: strides %d/%d (luma twice chroma, as avcodec's default buffers)", w, h,
           f->stride[0], f->stride[1]);
    int room = 1;
    for (uint32_t p = 0; p < 3; p++) {
        size_t prow = p ? (rows + 1) / 2 : rows;
        room &= frame_pool_video_plane_bytes(f, p) >= (size_t)f->stride[p] * prow + 16 + 63;
        /* the whole plane is the picture's to write (ASan checks) */
        memset(f->plane[p], 0x5a, frame_pool_video_plane_bytes(f, p));
    }
    tap_ok(room && frame_pool_video_plane_bytes(f, 3) == 0 &&
               frame_pool_video_plane_bytes(NULL, 0) == 0,
           "%ux%u: %zu luma rows + tail in every plane (0 for a bad plane)", w, h, rows);
    /* padding grows a picture by little: 720p about 2.5 %% */
    size_t total = 0;
    for (uint32_t p = 0; p < 3; p++)
        total += frame_pool_video_plane_bytes(f, p);
    size_t visible = (size_t)w * h * 3 / 2;
    tap_ok(total * 100 <= visible * 110, "%ux%u: %zu bytes a picture, %zu visible (+%.1f %%)", w,
           h, total, visible, 100.0 * ((double)total - (double)visible) / (double)visible);
    frame_pool_video_release(f);
    frame_pool_destroy(pool);
}

static void test_refcounts(frame_pool *pool)
{
    rv_video_frame *f = frame_pool_video_alloc(pool);
    frame_pool_video_ref(f);
    frame_pool_video_ref(f);
    tap_ok(frame_pool_video_refcount(f) == 3 && frame_pool_outstanding(pool) == 1,
           "ref adds references; still one buffer out");
    frame_pool_video_release(f);
    frame_pool_video_release(f);
    tap_ok(frame_pool_video_refcount(f) == 1 && frame_pool_outstanding(pool) == 1,
           "release drops references");
    frame_pool_video_release(f);
    tap_ok(frame_pool_outstanding(pool) == 0, "last release returns it to the pool");
    frame_pool_video_release(NULL);
    frame_pool_audio_release(NULL);
    tap_ok(1, "releasing NULL is a no-op");
}

static void test_reuse(frame_pool *pool)
{
    rv_video_frame *held[4];
    uint8_t *planes[4];
    for (int i = 0; i < 4; i++) {
        held[i] = frame_pool_video_alloc(pool);
        planes[i] = held[i]->plane[0];
    }
    for (int i = 0; i < 4; i++)
        frame_pool_video_release(held[i]);
    /* Steady state: 1000 rounds of 4 frames reuse exactly the same 4 buffers. */
    int same = 1;
    for (int round = 0; round < 1000; round++) {
        for (int i = 0; i < 4; i++) {
            held[i] = frame_pool_video_alloc(pool);
            int known = 0;
            for (int j = 0; j < 4; j++)
                known |= held[i]->plane[0] == planes[j];
            same &= known;
        }
        for (int i = 0; i < 4; i++)
            frame_pool_video_release(held[i]);
    }
    tap_ok(same, "steady state reuses the same memory (no allocation)");

    rv_audio_buffer *a = frame_pool_audio_alloc(pool, 1601);
    int16_t *data = a->data;
    frame_pool_audio_release(a);
    a = frame_pool_audio_alloc(pool, 1602);
    tap_ok(a->data == data && a->samples == 1602, "audio buffers are reused, samples reset");
    frame_pool_audio_ref(a);
    frame_pool_audio_release(a);
    tap_ok(frame_pool_outstanding(pool) == 1, "audio ref/release keeps it out until the last");
    frame_pool_audio_release(a);
}

static void test_make_writable(frame_pool *pool)
{
    rv_video_frame *f = frame_pool_video_alloc(pool);
    rv_video_frame *orig = f;
    memset(f->plane[0], 77, (size_t)f->stride[0] * f->height);
    tap_ok(frame_pool_video_make_writable(&f) == RV_OK && f == orig,
           "make_writable on an exclusive frame keeps it (no copy)");
    frame_pool_video_ref(f); /* now shared with "another holder" */
    tap_ok(frame_pool_video_make_writable(&f) == RV_OK && f != orig, "shared: replaced by a copy");
    tap_ok(frame_pool_video_refcount(orig) == 1 && frame_pool_video_refcount(f) == 1,
           "the caller's reference to the original was released; the copy is exclusive");
    tap_ok(f->plane[0][0] == 77 && f->plane[0][(size_t)f->stride[0] * f->height - 1] == 77,
           "the copy holds the picture");
    f->plane[0][0] = 1;
    tap_ok(orig->plane[0][0] == 77, "writing the copy leaves the shared original untouched");
    tap_ok(frame_pool_outstanding(pool) == 2, "two buffers out");
    frame_pool_video_release(f);
    frame_pool_video_release(orig);
    tap_ok(frame_pool_outstanding(pool) == 0, "none out after both released");
}

/* A burst (the start fills the ring and the encoder queue) must not stay
 * resident: once it drains, the pool keeps FRAME_POOL_KEEP_FREE pictures. */
static void test_burst_trimmed(void)
{
    enum { BURST = 40 };
    frame_pool *pool = frame_pool_create(&FMT);
    rv_video_frame *held[BURST];
    for (int i = 0; i < BURST; i++)
        held[i] = frame_pool_video_alloc(pool);
    tap_ok(frame_pool_video_pictures(pool) == BURST, "a burst of 40 pictures exists while held");
    for (int i = 0; i < BURST; i++)
        frame_pool_video_release(held[i]);
    tap_ok(frame_pool_outstanding(pool) == 0 && frame_pool_video_pictures(pool) == FRAME_POOL_KEEP_FREE,
           "after the burst drains only FRAME_POOL_KEEP_FREE (4) pictures remain");
    /* the kept ones are reused first: no new picture for a steady state within them */
    rv_video_frame *again[FRAME_POOL_KEEP_FREE];
    for (int i = 0; i < FRAME_POOL_KEEP_FREE; i++)
        again[i] = frame_pool_video_alloc(pool);
    tap_ok(frame_pool_video_pictures(pool) == FRAME_POOL_KEEP_FREE, "the kept pictures are reused");
    memset(again[0]->plane[0], 5, (size_t)again[0]->stride[0] * again[0]->height);
    for (int i = 0; i < FRAME_POOL_KEEP_FREE; i++)
        frame_pool_video_release(again[i]);
    frame_pool_destroy(pool);
}

static void test_destroy_with_frames_out(void)
{
    frame_pool *pool = frame_pool_create(&FMT);
    rv_video_frame *f = frame_pool_video_alloc(pool);
    rv_audio_buffer *a = frame_pool_audio_alloc(pool, 100);
    frame_pool_destroy(pool);
    /* The pool lives on for its buffers: they stay usable. */
    memset(f->plane[0], 1, (size_t)f->stride[0] * f->height);
    memset(a->data, 0, 100 * 2 * sizeof(int16_t));
    frame_pool_video_ref(f);
    frame_pool_video_release(f);
    frame_pool_video_release(f);
    frame_pool_audio_release(a);
    tap_ok(1, "destroy with buffers out, then their release, frees everything (ASan checks)");
    tap_ok(frame_pool_create(NULL) == NULL, "a NULL format is refused");
    rv_program_format odd = FMT;
    odd.width = 641;
    tap_ok(frame_pool_create(&odd) == NULL, "an odd width is refused");
}

int main(void)
{
    tap_plan(7 + 4 + 3 + 7 + 3 + 3 + 3 * 4);
    frame_pool *pool = frame_pool_create(&FMT);
    if (!pool) {
        tap_ok(0, "frame_pool_create");
        return tap_done();
    }
    test_layout(pool);
    test_refcounts(pool);
    test_reuse(pool);
    test_make_writable(pool);
    frame_pool_destroy(pool);
    test_burst_trimmed();
    test_destroy_with_frames_out();
    test_decoder_room(1280, 720, 1280, 640);
    test_decoder_room(1920, 1080, 1920, 960);
    test_decoder_room(720, 480, 768, 384);
    return tap_done();
}
