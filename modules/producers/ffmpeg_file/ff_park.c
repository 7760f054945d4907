/**
 * @file ff_park.c
 * @short ff_park: one parked source per instance. See ff_park.h.
 */
#include "ff_park.h"

#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

void ff_park_init(ff_park *park)
{
    pthread_mutex_init(&park->lock, NULL);
    park->src = NULL;
    park->path = NULL;
}

void ff_park_fini(ff_park *park)
{
    ff_source_close(park->src);
    free(park->path);
    park->src = NULL;
    park->path = NULL;
    pthread_mutex_destroy(&park->lock);
}

void ff_park_put(ff_park *park, const char *path, ff_source *src)
{
    char *copy = strdup(path);
    if (!copy || ff_source_park(src) != RV_OK) {
        free(copy);
        ff_source_close(src);
        return;
    }
    pthread_mutex_lock(&park->lock);
    ff_source *old = park->src;
    char *old_path = park->path;
    park->src = src;
    park->path = copy;
    pthread_mutex_unlock(&park->lock);
    ff_source_close(old); /* outside the lock: closing may wait for I/O */
    free(old_path);
}

ff_source *ff_park_take(ff_park *park, const char *path)
{
    ff_source *src = NULL;
    pthread_mutex_lock(&park->lock);
    if (park->src && strcmp(park->path, path) == 0) {
        src = park->src;
        park->src = NULL;
        free(park->path);
        park->path = NULL;
    }
    pthread_mutex_unlock(&park->lock);
    return src;
}
