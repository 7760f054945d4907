/**
 * @file ff_park.h
 * @short ff_park: the last closed source of one ffmpeg-file instance, kept
 *        for a join back into the same asset.
 *
 * An on-demand channel closes its asset when its last viewer leaves and, when
 * the next one comes, opens it again and seeks to the picture due: the same
 * file, most of the time (a film, a long block). Opening means
 * avformat_open_input and avformat_find_stream_info (reading and decoding
 * the first packets: about 8 ms of CPU for a 720p H.264 MP4 here, several
 * times that in wall time on a loaded machine), all on the first viewer's
 * wait. The park keeps the one source closed last, demuxer only (decoders
 * freed: no pictures held while idle), and hands it back to an open of the
 * same path that seeks anyway (a join into the middle of the asset); a seam
 * onto an asset's start always opens afresh. A parked source holds one file
 * descriptor and the container's index until the next close replaces it or
 * the instance is destroyed.
 *
 * Thread: any (a mutex; segments are opened on the preload thread and
 * closed on the producer thread). Owns the parked source and its path.
 */
#ifndef FF_PARK_H
#define FF_PARK_H

#include <pthread.h>

#include "ff_source.h"

typedef struct ff_park {
    pthread_mutex_t lock;
    ff_source *src;   /**< owned, parked (ff_source_park), or NULL */
    char *path;       /**< owned: the file it reads */
} ff_park;

void ff_park_init(ff_park *park);
/** Close the parked source, if any, and free the park's own state. */
void ff_park_fini(ff_park *park);
/** Keep @p src (owned by the park from now on) as read from @p path
 *  (borrowed, copied); the one kept before is closed. A source that cannot
 *  be parked (ff_source_park fails) or a path that cannot be copied is
 *  closed at once. */
void ff_park_put(ff_park *park, const char *path, ff_source *src);
/** The parked source of @p path (borrowed), owned by the caller from now on
 *  and still parked (ff_source_unpark next), or NULL. */
ff_source *ff_park_take(ff_park *park, const char *path);

#endif
