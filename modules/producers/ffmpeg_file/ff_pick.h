/**
 * @file ff_pick.h
 * @short ff_pick: which streams of an opened file the ffmpeg-file producer
 *        plays: the best video that is not a cover picture, and the audio of
 *        the video's programme by the operator's preferred languages.
 *
 * Pure functions of the AVFormatContext (borrowed); no state. Thread: the
 * caller's (ff_source_open).
 */
#ifndef FF_PICK_H
#define FF_PICK_H

#include <stddef.h>

#include <libavformat/avformat.h>

/** How the audio stream was chosen, for the log and the warning. */
typedef struct ff_audio_choice {
    char text[192];   /**< "audio stream #1 (eng): preferred language eng" */
    int fell_back;    /**< languages were asked for and none of them was found */
} ff_audio_choice;

/** The best stream of @p type in @p fmt that is not a cover picture, or -1. */
int ff_pick_stream(AVFormatContext *fmt, enum AVMediaType type);

/** The audio of video stream @p vi's programme (MPEG-TS programmes; every
 *  stream without them): the first of @p languages (borrowed, may be NULL:
 *  ISO 639-2 codes in order, comma separated; "und" matches untagged) found,
 *  the default-flagged track among several of it; else the default-flagged
 *  track; else FFmpeg's best. -1 when there is none. Fills @p out. */
int ff_pick_audio(AVFormatContext *fmt, int vi, const char *languages, ff_audio_choice *out);

#endif
