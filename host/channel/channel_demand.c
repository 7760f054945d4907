/**
 * @file host/channel/channel_demand.c
 * @short On-demand channels: who is watching a channel now, and the wait of
 *        an idle channel until someone is.
 *
 * A channel with `encode = "on-demand"` decodes and encodes only while a
 * pull consumer is there: an HTTP viewer or an HLS segmenter (a reader of a
 * rendition's stream hub that is not passive), or a client of a transport
 * that serves clients (its consumers() is >= 0). Any push output keeps it
 * always on: a plain sink, a transport that pushes (consumers() NULL or
 * RV_ENOTSUP: connect, UDP, a file, RetroVue Core's attached socket).
 *
 * A reload's set swap is never raced: the count takes the sinks lock (or
 * answers "unknown" while a reload holds it, and nothing changes).
 *
 * Waking: a hub calls channel_demand_wake when a viewer subscribes, at once;
 * clients of a listening transport are polled every CHANNEL_DEMAND_POLL_NS.
 */
#include <time.h>

#include "channel/channel_internal.h"
#include "core/clock.h"

int64_t channel_demand_count(channel *ch, const char **push)
{
    *push = NULL;
    /* A reload holds the lock while it swaps and retires sets (and waits for
     * this thread's ticks): count again later rather than wait for it. */
    if (pthread_mutex_trylock(&ch->sinks_lock) != 0)
        return CHANNEL_DEMAND_BUSY;
    sink_set *set = atomic_load_explicit(&ch->sinks, memory_order_acquire);
    int64_t n = 0;
    for (size_t i = 0; set && i < set->count; i++) {
        sink_runner *sr = set->runner[i];
        const loaded_module *m = sr->inst.mod;
        int c = sr->rend && m->transport.consumers ? m->transport.consumers(sr->inst.state)
                                                   : RV_ENOTSUP;
        if (c < 0) {
            *push = m->name;
            n = CHANNEL_DEMAND_PUSH;
            break;
        }
        n += c;
    }
    for (size_t i = 0; n != CHANNEL_DEMAND_PUSH && set && i < set->rend_count; i++)
        n += stream_hub_demand(set->rend[i]->hub);
    pthread_mutex_unlock(&ch->sinks_lock);
    return n;
}

void channel_demand_wake(void *user)
{
    channel *ch = user;
    pthread_mutex_lock(&ch->demand_lock);
    ch->demand_seq++;
    pthread_cond_broadcast(&ch->demand_cond);
    pthread_mutex_unlock(&ch->demand_lock);
}

uint64_t channel_demand_seq(channel *ch)
{
    pthread_mutex_lock(&ch->demand_lock);
    uint64_t seq = ch->demand_seq;
    pthread_mutex_unlock(&ch->demand_lock);
    return seq;
}

void channel_demand_wait(channel *ch, uint64_t seen, int64_t timeout_ns)
{
    struct timespec deadline = clock_wait_deadline(CLOCK_REALTIME, timeout_ns);
    pthread_mutex_lock(&ch->demand_lock);
    while (ch->demand_seq == seen && !atomic_load(&ch->stopping))
        if (pthread_cond_timedwait(&ch->demand_cond, &ch->demand_lock, &deadline) != 0)
            break;
    pthread_mutex_unlock(&ch->demand_lock);
}
