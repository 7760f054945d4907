/**
 * @file host/channel/channel_preview.c
 * @short The latest still image of one channel (see channel_preview.h). Owns
 *        the image bytes; a mutex guards them and the version.
 */
#include "channel/channel_preview.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <retrovue/error.h>

#define PREVIEW_MIME_MAX 64

struct channel_preview {
    const atomic_llong *last_tick;  /**< borrowed from the channel */
    pthread_mutex_t lock;           /**< guards everything below */
    char mime[PREVIEW_MIME_MAX];
    void *data;                     /**< owned; NULL before the first publish */
    size_t len;
    uint64_t version;               /**< of the image in data */
    uint64_t next_version;          /**< the next publish's version */
    int64_t tick;
};

channel_preview *channel_preview_create(const atomic_llong *last_tick)
{
    channel_preview *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->last_tick = last_tick;
    pthread_mutex_init(&p->lock, NULL);
    /* Versions start at the wall-clock microsecond of creation, so a channel
     * stopped and started again never repeats an ETag a browser holds. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    p->next_version = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
    p->tick = -1;
    return p;
}

void channel_preview_destroy(channel_preview *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    free(p->data);
    free(p);
}

int channel_preview_publish(void *image_owner, rv_context *ctx, const char *mime,
                            const void *data, size_t len)
{
    channel_preview *p = image_owner;
    (void)ctx;
    if (strlen(mime) >= PREVIEW_MIME_MAX)
        return RV_EINVAL;
    void *copy = malloc(len);
    if (!copy)
        return RV_ENOMEM;
    memcpy(copy, data, len);
    int64_t tick = p->last_tick ? atomic_load(p->last_tick) : -1;
    pthread_mutex_lock(&p->lock);
    void *old = p->data;
    p->data = copy;
    p->len = len;
    snprintf(p->mime, sizeof(p->mime), "%s", mime);
    p->version = p->next_version++;
    p->tick = tick;
    pthread_mutex_unlock(&p->lock);
    free(old);
    return RV_OK;
}

int channel_preview_copy(channel_preview *p, char *mime, size_t mimelen, void **data,
                         size_t *len, uint64_t *version, int64_t *tick)
{
    int rc = RV_OK;
    *data = NULL;
    *len = 0;
    pthread_mutex_lock(&p->lock);
    if (!p->data) {
        rc = RV_ENOENT;
    } else if ((*data = malloc(p->len)) == NULL) {
        rc = RV_ENOMEM;
    } else {
        memcpy(*data, p->data, p->len);
        *len = p->len;
        if (mime && mimelen)
            snprintf(mime, mimelen, "%s", p->mime);
        if (version)
            *version = p->version;
        if (tick)
            *tick = p->tick;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}
