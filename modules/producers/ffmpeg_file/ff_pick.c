/**
 * @file ff_pick.c
 * @short ff_pick: the streams an ffmpeg-file source plays. See ff_pick.h.
 */
#include "ff_pick.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/** The best stream of @p type that is not a cover picture, or -1. */
int ff_pick_stream(AVFormatContext *fmt, enum AVMediaType type)
{
    int best = av_find_best_stream(fmt, type, -1, -1, NULL, 0);
    if (best < 0 || !(fmt->streams[best]->disposition & AV_DISPOSITION_ATTACHED_PIC))
        return best < 0 ? -1 : best;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        const AVStream *st = fmt->streams[i];
        if (st->codecpar->codec_type == type && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            return (int)i;
    }
    return -1;
}

/** Streams the audio may come from: those of the video's programme when
 *  the container has programmes (MPEG-TS), else every stream. Fills
 *  @p prog_id (-1 without programme). Returns the programme or NULL. */
static const AVProgram *ff_pick_programme(AVFormatContext *fmt, int vi, int *prog_id)
{
    *prog_id = -1;
    if (vi < 0)
        return NULL;
    AVProgram *p = av_find_program_from_stream(fmt, NULL, vi);
    if (p)
        *prog_id = p->id;
    return p;
}

static int ff_pick_in_programme(const AVProgram *p, unsigned idx)
{
    if (!p)
        return 1;
    for (unsigned i = 0; i < p->nb_stream_indexes; i++)
        if (p->stream_index[i] == idx)
            return 1;
    return 0;
}

static int ff_pick_audio_candidate(AVFormatContext *fmt, const AVProgram *p, unsigned i)
{
    const AVStream *st = fmt->streams[i];
    return st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO &&
           !(st->disposition & AV_DISPOSITION_ATTACHED_PIC) && ff_pick_in_programme(p, i);
}

static const char *ff_pick_language(const AVStream *st)
{
    const AVDictionaryEntry *e = av_dict_get(st->metadata, "language", NULL, 0);
    return e && e->value[0] ? e->value : "und";
}

/** Audio of the video's programme: the first preferred language (the
 *  default-flagged track among several of it), else the default-flagged
 *  track, else FFmpeg's best. -1 when there is none. Writes the reason. */
int ff_pick_audio(AVFormatContext *fmt, int vi, const char *languages, ff_audio_choice *out)
{
    memset(out, 0, sizeof(*out));
    int prog_id;
    const AVProgram *p = ff_pick_programme(fmt, vi, &prog_id);
    char where[48] = "";
    if (p)
        snprintf(where, sizeof(where), " of programme %d", prog_id);
    const char *langs = languages;
    int wanted_lang = langs && langs[0];
    /* 1. preferred languages, in order */
    while (langs && *langs) {
        size_t n = strcspn(langs, ", ");
        if (n > 0 && n < 8) {
            int found = -1;
            for (unsigned i = 0; i < fmt->nb_streams; i++) {
                if (!ff_pick_audio_candidate(fmt, p, i))
                    continue;
                const char *l = ff_pick_language(fmt->streams[i]);
                if (strlen(l) != n || strncasecmp(l, langs, n) != 0)
                    continue;
                if (found < 0 || ((fmt->streams[i]->disposition & AV_DISPOSITION_DEFAULT) &&
                                  !(fmt->streams[found]->disposition & AV_DISPOSITION_DEFAULT)))
                    found = (int)i;
            }
            if (found >= 0) {
                snprintf(out->text, sizeof(out->text),
                         "audio stream #%d (%s)%s: preferred language %.*s", found,
                         ff_pick_language(fmt->streams[found]), where, (int)n, langs);
                return found;
            }
        }
        langs += n;
        langs += strspn(langs, ", ");
    }
    const char *fallback = wanted_lang ? "none of the preferred languages; " : "";
    out->fell_back = 0;
    /* 2. the default-flagged track */
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        if (ff_pick_audio_candidate(fmt, p, i) &&
            (fmt->streams[i]->disposition & AV_DISPOSITION_DEFAULT)) {
            int several = 0;
            for (unsigned j = 0; j < fmt->nb_streams; j++)
                several += j != i && ff_pick_audio_candidate(fmt, p, j);
            out->fell_back = wanted_lang;
            snprintf(out->text, sizeof(out->text),
                     "audio stream #%u (%s)%s: %s%s", i, ff_pick_language(fmt->streams[i]),
                     where, fallback, several ? "the default track" : "the only track");
            return (int)i;
        }
    }
    /* 3. FFmpeg's best, tied to the video's programme */
    int best = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, vi, NULL, 0);
    if (best < 0 || !ff_pick_audio_candidate(fmt, p, (unsigned)best)) {
        best = -1;
        for (unsigned i = 0; i < fmt->nb_streams && best < 0; i++)
            if (ff_pick_audio_candidate(fmt, p, i))
                best = (int)i;
    }
    if (best >= 0) {
        out->fell_back = wanted_lang;
        snprintf(out->text, sizeof(out->text), "audio stream #%d (%s)%s: %s%s",
                 best, ff_pick_language(fmt->streams[best]), where, fallback,
                 "the best track");
    }
    return best;
}

