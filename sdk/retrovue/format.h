/**
 * @file retrovue/format.h
 * @short ProgramFormat: the fixed video and audio format of one channel,
 *        and the exact rational tick arithmetic every module shares.
 *
 * Video is 8-bit YUV 4:2:0 planar (I420) at width x height and a rational
 * frame rate; audio is signed 16-bit interleaved at audio_rate with
 * audio_channels channels. No floating point is used for timing.
 */
#ifndef RETROVUE_FORMAT_H
#define RETROVUE_FORMAT_H

#include <stdint.h>

/** 128-bit intermediate for exact tick arithmetic (GCC and Clang). */
__extension__ typedef __int128 rv_int128;

/** A rational number, e.g. 30000/1001. Both parts positive. */
typedef struct rv_rational {
    int32_t num;
    int32_t den;
} rv_rational;

/** The channel's ProgramFormat, fixed for the life of a channel session. */
typedef struct rv_program_format {
    uint32_t width;          /**< luma width in pixels, even */
    uint32_t height;         /**< luma height in pixels, even */
    rv_rational frame_rate;  /**< frames per second, e.g. {30000, 1001} */
    uint32_t audio_rate;     /**< samples per second per channel, e.g. 48000 */
    uint32_t audio_channels; /**< interleaved channels, e.g. 2 */
} rv_program_format;

/**
 * Nanoseconds from tick 0 to tick @p tick: floor(tick * den * 1e9 / num).
 * Exact for any tick a channel reaches (128-bit intermediate). Thread: any.
 */
static inline int64_t rv_ticks_to_ns(rv_rational rate, int64_t tick)
{
    rv_int128 n = (rv_int128)tick * rate.den * 1000000000;
    rv_int128 q = n / rate.num;
    if (n % rate.num != 0 && n < 0)
        q -= 1;
    return (int64_t)q;
}

/**
 * First tick at or after an offset of @p ms milliseconds from the epoch:
 * ceil(ms * num / (den * 1000)). Thread: any.
 */
static inline int64_t rv_ms_to_first_tick(rv_rational rate, int64_t ms)
{
    rv_int128 n = (rv_int128)ms * rate.num;
    rv_int128 d = (rv_int128)rate.den * 1000;
    rv_int128 q = n / d;
    if (n % d != 0 && n > 0)
        q += 1;
    return (int64_t)q;
}

/** Audio samples (per channel) from tick 0 up to tick @p tick: floor(tick*rate*den/num). */
static inline int64_t rv_ticks_to_samples(rv_rational rate, uint32_t audio_rate, int64_t tick)
{
    rv_int128 n = (rv_int128)tick * audio_rate * rate.den;
    rv_int128 q = n / rate.num;
    if (n % rate.num != 0 && n < 0)
        q -= 1;
    return (int64_t)q;
}

/** Audio samples (per channel) carried by tick @p tick (48 kHz at 29.97: 1601 or 1602). */
static inline uint32_t rv_samples_in_tick(rv_rational rate, uint32_t audio_rate, int64_t tick)
{
    return (uint32_t)(rv_ticks_to_samples(rate, audio_rate, tick + 1) -
                      rv_ticks_to_samples(rate, audio_rate, tick));
}

/** The colour space a channel's pictures are in and its TS is tagged with.
 *  Never zero. Values are an SDK choice, not H.273 code points. */
typedef enum rv_colour_space {
    RV_COLOUR_BT709 = 1,       /**< ITU-R BT.709 (HD): matrix, primaries, transfer */
    RV_COLOUR_BT601_525 = 2,   /**< BT.601 matrix, SMPTE 170M primaries (525-line SD) */
    RV_COLOUR_BT601_625 = 3    /**< BT.601 matrix, BT.470BG primaries (625-line SD) */
} rv_colour_space;

/**
 * The colour space of a channel of format @p f: BT.709 from 720 lines up;
 * below that BT.601, with BT.470BG primaries at exactly 25 or 50 frames per
 * second (625-line systems) and SMPTE 170M otherwise. Always limited range.
 * Producers convert into it; encoders tag with it. Thread: any.
 */
static inline rv_colour_space rv_format_colour_space(const rv_program_format *f)
{
    if (f->height >= 720)
        return RV_COLOUR_BT709;
    if (f->frame_rate.den > 0 && f->frame_rate.num % f->frame_rate.den == 0) {
        int32_t fps = f->frame_rate.num / f->frame_rate.den;
        if (fps == 25 || fps == 50)
            return RV_COLOUR_BT601_625;
    }
    return RV_COLOUR_BT601_525;
}

#endif
