/**
 * @file host/channel/channel_fade.c
 * @short FADE transitions on the producer thread: integer gains, luma towards
 *        black (16), chroma towards neutral (128), samples towards zero.
 */
#include "channel/channel_fade.h"

#include "core/frame_pool.h"

static int32_t fade_ramp(int64_t t_ms, int64_t d_ms)
{
    if (d_ms <= 0 || t_ms >= d_ms)
        return 256;
    if (t_ms <= 0)
        return 0;
    return (int32_t)(t_ms * 256 / d_ms);
}

int32_t channel_fade_gain(const plan_segment *s, int64_t offset_ms, int64_t duration_ms)
{
    int32_t gain = 256;
    if (s->transition_in.type == RV_TRANSITION_FADE)
        gain = fade_ramp(offset_ms, s->transition_in.duration_ms);
    if (s->transition_out.type == RV_TRANSITION_FADE) {
        int32_t out = fade_ramp(duration_ms - offset_ms, s->transition_out.duration_ms);
        gain = out < gain ? out : gain;
    }
    return gain;
}

static void fade_plane(uint8_t *plane, int32_t stride, uint32_t w, uint32_t h, int32_t base,
                       int32_t gain)
{
    for (uint32_t y = 0; y < h; y++) {
        uint8_t *row = plane + (size_t)y * (size_t)stride;
        for (uint32_t x = 0; x < w; x++)
            row[x] = (uint8_t)(base + (((int32_t)row[x] - base) * gain) / 256);
    }
}

int channel_fade_apply(rv_video_frame **video, rv_audio_buffer *audio, int32_t gain)
{
    if (gain >= 256)
        return RV_OK;
    for (uint32_t i = 0; i < audio->samples * audio->channels; i++)
        audio->data[i] = (int16_t)((int32_t)audio->data[i] * gain / 256);
    if (frame_pool_video_make_writable(video) != RV_OK)
        return RV_ENOMEM;
    rv_video_frame *v = *video;
    fade_plane(v->plane[0], v->stride[0], v->width, v->height, 16, gain);
    fade_plane(v->plane[1], v->stride[1], (v->width + 1) / 2, (v->height + 1) / 2, 128, gain);
    fade_plane(v->plane[2], v->stride[2], (v->width + 1) / 2, (v->height + 1) / 2, 128, gain);
    return RV_OK;
}
