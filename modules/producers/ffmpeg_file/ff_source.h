/**
 * @file ff_source.h
 * @short ff_source: one opened media file of the ffmpeg-file producer. Owns
 *        the AVFormatContext, the chosen video and audio decoders, the two
 *        packet queues that let video and audio be pulled independently from
 *        one interleaved demuxer, and the I/O deadline that bounds every
 *        blocking call (AVIOInterruptCB).
 *
 * Times handed out are nanoseconds into the asset: 0 is the first picture of
 * the chosen video stream (the first audio sample for an audio-only asset).
 * Thread: one segment's thread at a time (preload thread for open, producer
 * thread after). Nothing in here is shared between sources, so several
 * channels open and probe files at once without a lock (FFmpeg >= 4 needs no
 * lock manager: avcodec_open2 serialises the few non-thread-safe codec inits
 * itself).
 */
#ifndef FF_SOURCE_H
#define FF_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "ff_pick.h"

typedef struct ff_source ff_source;

/** What a source is opened with. Copied. */
typedef struct ff_source_params {
    int threads;            /**< decoder threads, 0 = FFmpeg's automatic choice */
    int64_t io_timeout_ms;  /**< bound of one blocking operation */
    const char *audio_languages; /**< borrowed, may be NULL: ISO 639-2 codes in order of
                                      preference, comma separated ("eng,und"); "und"
                                      also matches untagged tracks */
    /** NULL, or the video decoder's AVCodecContext.get_buffer2 (ff_dr), with
     *  get_buffer2_opaque as its `opaque` (borrowed: it must outlive the
     *  source and every frame the source handed out). */
    int (*get_buffer2)(AVCodecContext *avctx, AVFrame *frame, int flags);
    void *get_buffer2_opaque;
} ff_source_params;

/** Open @p path (borrowed; a plain file system path), probe it, choose the
 *  best video stream, then an audio stream of the same programme (MPEG-TS
 *  programmes): the first preferred language, else the default-flagged
 *  track, else FFmpeg's best; open their decoders. On failure returns
 *  a negative rv_error and writes the reason into @p why. Blocking, bounded
 *  by io_timeout_ms. */
int ff_source_open(const char *path, const ff_source_params *params, ff_source **out, char *why,
                   size_t whylen);
/** Close and free. NULL is a no-op. */
void ff_source_close(ff_source *src);

/** Put @p src (borrowed) aside for a later open of the same file (ff_park):
 *  frees its decoders and queued packets, keeps the demuxer and what opening
 *  it learnt (streams, index), so a join into the same asset skips
 *  avformat_open_input and avformat_find_stream_info. RV_OK, or RV_ESTATE
 *  when the source failed (demux error, timeout) and is not worth keeping. */
int ff_source_park(ff_source *src);
/** Make a parked @p src (borrowed) a working source of @p path (borrowed)
 *  again with @p params (copied): the file must be the one opened (same
 *  device, inode, size and modification time) and the audio languages the
 *  same; the decoders are opened afresh with params->threads. The caller
 *  seeks next (ff_source_seek). RV_OK; RV_ESTATE when the file or the
 *  choice changed, RV_EFORMAT when a decoder does not open: the caller
 *  closes the source and opens the file anew. */
int ff_source_unpark(ff_source *src, const char *path, const ff_source_params *params);

/** Start a new deadline of io_timeout_ms for the blocking work that follows. */
void ff_source_arm(ff_source *src);

/** Streams chosen (NULL when the asset has none of that kind); borrowed. */
const AVStream *ff_source_video_stream(const ff_source *src);
const AVStream *ff_source_audio_stream(const ff_source *src);
const AVCodecContext *ff_source_audio_codec(const ff_source *src);
/** How the audio stream was chosen, e.g. "audio stream #3 (eng) of programme
 *  1: preferred language eng"; "" when the asset has no audio. Borrowed. */
const char *ff_source_audio_choice(const ff_source *src);
/** True when preferred languages were set and none of them was found. */
int ff_source_audio_fell_back(const ff_source *src);
/** Declared length of the asset in ns, or -1 when unknown. */
int64_t ff_source_duration_ns(const ff_source *src);
/** Nominal duration of one video frame in ns (from the stream's rates). */
int64_t ff_source_frame_duration_ns(const ff_source *src);

/** Seek so that the next frames decoded start at or before @p pos_ns
 *  (keyframe before it); pos_ns <= 0 rewinds to the start. Flushes the
 *  decoders and queues. RV_OK or an rv_error. */
int ff_source_seek(ff_source *src, int64_t pos_ns);
/** After a seek: video packets presented before @p pos_ns (asset position)
 *  are decoded with skip_frame = AVDISCARD_NONREF, so the pre-roll from the
 *  keyframe to the join point skips the pictures no other picture references;
 *  the first packet at or after @p pos_ns ends it (decoding is back to
 *  normal). INT64_MIN turns it off; every seek resets it. */
void ff_source_skip_nonref_until(ff_source *src, int64_t pos_ns);

/** Video packets remembered after they were sent, and demuxed ahead of the
 *  one being sent, to find the picture presented next (B-frame reordering
 *  puts it up to a few packets either side in decode order). */
#define FF_SOURCE_SEEN_BEHIND 16
#define FF_SOURCE_SEEN_AHEAD 8

/** Asked before a video packet goes to the decoder (frame-rate conversion):
 *  @p pts_ns is the packet's presentation time (asset position),
 *  @p next_ns the earliest presentation time after it among the video
 *  packets around it in decode order (the last FF_SOURCE_SEEN_BEHIND sent,
 *  up to FF_SOURCE_SEEN_AHEAD demuxed ahead of it), INT64_MAX when none is
 *  known. Nonzero: the picture will never be shown, so the packet is decoded
 *  with skip_frame = AVDISCARD_NONREF (the decoder skips it unless another
 *  picture references it: H.264/HEVC nal_ref_idc 0, MPEG-2 B pictures).
 *  Thread: the source's thread. @p opaque is borrowed. */
typedef int (*ff_source_unshown_fn)(void *opaque, int64_t pts_ns, int64_t next_ns);
/** Install (or with NULL remove) the question above; it applies to the
 *  packets sent from now on. Packets without a pts are always decoded. */
void ff_source_set_unshown(ff_source *src, ff_source_unshown_fn fn, void *opaque);

/** Video packets sent to the decoder, pictures it returned, and packets
 *  sent with AVDISCARD_NONREF (pre-roll or unshown) since the open. */
typedef struct ff_source_counts {
    int64_t packets;
    int64_t pictures;
    int64_t nonref_packets;
} ff_source_counts;
ff_source_counts ff_source_video_counts(const ff_source *src);

/** Next decoded video frame in presentation order into @p frame (unref'd
 *  first). RV_OK, RV_EOF, or an error when demuxing fails. Decode errors are
 *  skipped and counted. */
int ff_source_video_frame(ff_source *src, AVFrame *frame);
/** Next decoded audio frame; same contract. */
int ff_source_audio_frame(ff_source *src, AVFrame *frame);

/** Position in ns into the asset of a timestamp of the video (or audio)
 *  stream, rounded down. */
int64_t ff_source_video_ns(const ff_source *src, int64_t ts);
int64_t ff_source_audio_ns(const ff_source *src, int64_t ts);
/** Precision of the video stream's timestamps in ns (half a time base unit
 *  when it is coarser than 0.1 ms, else 1 us): a picture whose time is at
 *  most this much after a position counts as due at it. */
int64_t ff_source_video_slack_ns(const ff_source *src);

/** Packets or frames the decoders rejected since the last call; resets. */
int64_t ff_source_take_decode_errors(ff_source *src);
/** True once the demuxer reached the end of the file. */
int ff_source_demux_ended(const ff_source *src);
/** Map an AVERROR to an rv_error (timeouts seen by the interrupt callback
 *  become RV_ETIMEDOUT). */
int ff_source_map_error(const ff_source *src, int averr);

#endif
