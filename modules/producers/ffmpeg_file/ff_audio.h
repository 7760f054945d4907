/**
 * @file ff_audio.h
 * @short ff_audio: the audio normaliser of one segment. Owns the swresample
 *        context (source layout/rate -> the channel's rate and channel count,
 *        S16 interleaved; 5.1 is downmixed, mono upmixed), the gain, and a
 *        sample FIFO whose first sample is aligned to the segment's start
 *        position, so audio and video start together and never drift.
 *
 * Thread: the segment's thread (preload, then producer).
 */
#ifndef FF_AUDIO_H
#define FF_AUDIO_H

#include <stdint.h>

#include <retrovue/format.h>

#include "ff_source.h"

typedef struct ff_audio ff_audio;

/** A normaliser into @p format (borrowed, copied) with @p gain_db applied. */
int ff_audio_create(const rv_program_format *format, double gain_db, ff_audio **out);
void ff_audio_destroy(ff_audio *an);

/** Empty the FIFO; the next sample handed out is the one at @p start_ns
 *  (asset position). Call after every seek. */
void ff_audio_restart(ff_audio *an, int64_t start_ns);

/** Fill @p dst (borrowed, @p samples x channels values) with the next
 *  samples, pulling audio frames from @p src (borrowed) as needed; silence
 *  past the end of the asset's audio. *@p real_samples receives how many
 *  came from the asset. RV_OK or an error of the source. */
int ff_audio_fill(ff_audio *an, ff_source *src, int16_t *dst, uint32_t samples,
                  uint32_t *real_samples);

/** Make sure at least @p samples are queued (priming); same errors. */
int ff_audio_prime(ff_audio *an, ff_source *src, uint32_t samples);

#endif
