/**
 * @file ff_audio.c
 * @short ff_audio: swresample + gain + aligned sample FIFO. See ff_audio.h.
 */
#include "ff_audio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mem.h>
#include <libswresample/swresample.h>

#include <retrovue/error.h>

/** Input a swresample context was made for. */
typedef struct ff_audio_key {
    int rate;
    int format;
    AVChannelLayout layout;
} ff_audio_key;

struct ff_audio {
    rv_program_format format;
    int32_t gain_q16;             /**< gain as a 16.16 factor; 65536 = unity */
    AVChannelLayout out_layout;
    SwrContext *swr;              /**< owned, made on the first frame */
    ff_audio_key key;
    int have_key;
    AVAudioFifo *fifo;            /**< owned, S16 interleaved */
    AVFrame *frame;               /**< owned work frame */
    uint8_t *scratch;             /**< owned converted samples (av_fast_malloc) */
    unsigned scratch_bytes;
    int64_t start_ns;             /**< asset position of FIFO sample 0 */
    int64_t next_pos;             /**< position (samples from start) of the next sample queued */
    int synced;                   /**< the first frame has been aligned */
    int eof;                      /**< the source has no more audio */
};

int ff_audio_create(const rv_program_format *format, double gain_db, ff_audio **out)
{
    ff_audio *an = calloc(1, sizeof(*an));
    if (!an)
        return RV_ENOMEM;
    an->format = *format;
    an->gain_q16 = (int32_t)lrint(pow(10.0, gain_db / 20.0) * 65536.0);
    av_channel_layout_default(&an->out_layout, (int)format->audio_channels);
    an->fifo = av_audio_fifo_alloc(AV_SAMPLE_FMT_S16, (int)format->audio_channels,
                                   (int)format->audio_rate / 2);
    an->frame = av_frame_alloc();
    if (!an->fifo || !an->frame) {
        ff_audio_destroy(an);
        return RV_ENOMEM;
    }
    *out = an;
    return RV_OK;
}

void ff_audio_destroy(ff_audio *an)
{
    if (!an)
        return;
    swr_free(&an->swr);
    if (an->have_key)
        av_channel_layout_uninit(&an->key.layout);
    av_channel_layout_uninit(&an->out_layout);
    if (an->fifo)
        av_audio_fifo_free(an->fifo);
    av_frame_free(&an->frame);
    av_free(an->scratch);
    free(an);
}

void ff_audio_restart(ff_audio *an, int64_t start_ns)
{
    av_audio_fifo_reset(an->fifo);
    if (an->swr)
        swr_init(an->swr);  /* drops buffered samples */
    an->start_ns = start_ns;
    an->next_pos = 0;
    an->synced = 0;
    an->eof = 0;
}

/** Mono plays at full level on both front speakers (dual mono), not at
 *  the -3 dB swresample gives a centre channel. */
static int ff_audio_mono_matrix(ff_audio *an)
{
    double matrix[64];
    int out = an->out_layout.nb_channels;
    if (out > 64)
        return AVERROR(EINVAL);
    for (int c = 0; c < out; c++) {
        enum AVChannel ch = av_channel_layout_channel_from_index(&an->out_layout, (unsigned)c);
        matrix[c] = out == 1 || ch == AV_CHAN_FRONT_LEFT || ch == AV_CHAN_FRONT_RIGHT ? 1.0 : 0.0;
    }
    return swr_set_matrix(an->swr, matrix, 1);
}

static int ff_audio_setup(ff_audio *an, const AVFrame *f)
{
    ff_audio_key key = {.rate = f->sample_rate, .format = f->format};
    if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || f->ch_layout.nb_channels <= 0)
        av_channel_layout_default(&key.layout, f->ch_layout.nb_channels);
    else if (av_channel_layout_copy(&key.layout, &f->ch_layout) < 0)
        return RV_ENOMEM;
    if (an->have_key && key.rate == an->key.rate && key.format == an->key.format &&
        av_channel_layout_compare(&key.layout, &an->key.layout) == 0) {
        av_channel_layout_uninit(&key.layout);
        return RV_OK;
    }
    if (an->have_key)
        av_channel_layout_uninit(&an->key.layout);
    an->key = key;
    an->have_key = 1;
    swr_free(&an->swr);
    int r = swr_alloc_set_opts2(&an->swr, &an->out_layout, AV_SAMPLE_FMT_S16,
                                (int)an->format.audio_rate, &key.layout, key.format, key.rate, 0,
                                NULL);
    if (r >= 0 && key.layout.nb_channels == 1)
        r = ff_audio_mono_matrix(an);
    if (r < 0 || swr_init(an->swr) < 0) {
        swr_free(&an->swr);
        an->have_key = 0;
        av_channel_layout_uninit(&an->key.layout);
        return RV_EFORMAT;
    }
    return RV_OK;
}

/** Queue @p n converted samples (in scratch) that belong at position @p pos
 *  (samples from start; INT64_MIN: continue where the FIFO ends). */
static int ff_audio_queue(ff_audio *an, int64_t pos, int n)
{
    const int channels = (int)an->format.audio_channels;
    const int64_t tolerance = an->format.audio_rate / 25;  /* 40 ms */
    int skip = 0;
    if (pos != INT64_MIN && (!an->synced || llabs(pos - an->next_pos) > tolerance)) {
        if (pos > an->next_pos) {
            /* a gap (or audio starting late): silence up to it */
            int64_t gap = pos - an->next_pos;
            static const int16_t zeros[8192];
            const int64_t most = 8192 / channels;
            while (gap > 0) {
                int chunk = (int)(gap < most ? gap : most);
                void *z = (void *)zeros;
                if (av_audio_fifo_write(an->fifo, &z, chunk) < chunk)
                    return RV_ENOMEM;
                gap -= chunk;
                an->next_pos += chunk;
            }
        } else if (pos < an->next_pos) {
            int64_t d = an->next_pos - pos;
            skip = d > n ? n : (int)d;
        }
    }
    if (n - skip <= 0)
        return RV_OK;  /* wholly before the start: not synced yet */
    an->synced = 1;
    void *data = an->scratch + (size_t)skip * channels * sizeof(int16_t);
    if (av_audio_fifo_write(an->fifo, &data, n - skip) < n - skip)
        return RV_ENOMEM;
    an->next_pos += n - skip;
    return RV_OK;
}

static int ff_audio_convert(ff_audio *an, const AVFrame *f, int64_t pos)
{
    const int channels = (int)an->format.audio_channels;
    int max_out = swr_get_out_samples(an->swr, f ? f->nb_samples : 0);
    if (max_out <= 0)
        return RV_OK;
    av_fast_malloc(&an->scratch, &an->scratch_bytes, (size_t)max_out * channels * sizeof(int16_t));
    if (!an->scratch)
        return RV_ENOMEM;
    uint8_t *outp[1] = {an->scratch};
    int n = swr_convert(an->swr, outp, max_out, f ? (const uint8_t **)f->extended_data : NULL,
                        f ? f->nb_samples : 0);
    if (n < 0)
        return RV_EFORMAT;
    return ff_audio_queue(an, pos, n);
}

/** Pull one frame into the FIFO. RV_OK, RV_EOF (no more audio) or an error. */
static int ff_audio_pull(ff_audio *an, ff_source *src)
{
    int r = ff_source_audio_frame(src, an->frame);
    if (r == RV_EOF) {
        an->eof = 1;
        if (an->swr)
            ff_audio_convert(an, NULL, INT64_MIN);  /* flush the resampler */
        return RV_EOF;
    }
    if (r < 0)
        return r;
    r = ff_audio_setup(an, an->frame);
    if (r < 0)
        return r;
    int64_t pos = INT64_MIN;
    if (an->frame->pts != AV_NOPTS_VALUE) {
        int64_t ns = ff_source_audio_ns(src, an->frame->pts) - an->start_ns;
        pos = av_rescale_rnd(ns, an->format.audio_rate, 1000000000, AV_ROUND_NEAR_INF);
    } else if (!an->synced) {
        pos = an->next_pos;
    }
    r = ff_audio_convert(an, an->frame, pos);
    av_frame_unref(an->frame);
    return r;
}

int ff_audio_prime(ff_audio *an, ff_source *src, uint32_t samples)
{
    while (!an->eof && av_audio_fifo_size(an->fifo) < (int)samples) {
        int r = ff_audio_pull(an, src);
        if (r < 0 && r != RV_EOF)
            return r;
    }
    return RV_OK;
}

static void ff_audio_gain(const ff_audio *an, int16_t *s, size_t count)
{
    if (an->gain_q16 == 65536)
        return;
    for (size_t i = 0; i < count; i++) {
        int64_t v = ((int64_t)s[i] * an->gain_q16) >> 16;
        s[i] = (int16_t)(v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : v);
    }
}

int ff_audio_fill(ff_audio *an, ff_source *src, int16_t *dst, uint32_t samples,
                  uint32_t *real_samples)
{
    const size_t channels = an->format.audio_channels;
    *real_samples = 0;
    int r = ff_audio_prime(an, src, samples);
    if (r < 0)
        return r;
    int got = av_audio_fifo_read(an->fifo, (void **)&dst, (int)samples);
    if (got < 0)
        got = 0;
    if ((uint32_t)got < samples)
        memset(dst + (size_t)got * channels, 0, (samples - (size_t)got) * channels * sizeof(*dst));
    ff_audio_gain(an, dst, (size_t)got * channels);
    *real_samples = (uint32_t)got;
    return RV_OK;
}
