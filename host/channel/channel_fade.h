/**
 * @file host/channel/channel_fade.h
 * @short FADE transitions, applied by the host to every producer's frames on
 *        the producer thread: a segment with transition_in FADE rises from
 *        black and silence over its first duration_ms, one with
 *        transition_out FADE falls to them over its last duration_ms.
 */
#ifndef RV_HOST_CHANNEL_FADE_H
#define RV_HOST_CHANNEL_FADE_H

#include <stdint.h>

#include <retrovue/frame.h>

#include "plan/plan.h"

/** Gain of a fade at @p offset_ms into a segment of @p duration_ms, in 1/256
 *  (256 = untouched). Thread: any. */
int32_t channel_fade_gain(const plan_segment *s, int64_t offset_ms, int64_t duration_ms);

/** Scale *@p video (made writable first: it may be shared) towards black and
 *  @p audio towards silence by @p gain / 256. RV_OK or RV_ENOMEM (the frame
 *  then airs unfaded). Producer thread. */
int channel_fade_apply(rv_video_frame **video, rv_audio_buffer *audio, int32_t gain);

#endif
