/**
 * @file host/engine/engine_internal.h
 * @short The engine's private state, shared by engine.c (plan-file channels,
 *        status, reload) and engine_session.c (BlockPlan sessions, attached
 *        streams): the engine and its per-channel slots.
 */
#ifndef RV_HOST_ENGINE_INTERNAL_H
#define RV_HOST_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "channel/channel.h"
#include "engine/engine.h"
#include "engine/engine_session.h"

struct block_session;

typedef struct channel_slot {
    int32_t id;
    int users;              /**< e->lock: calls holding this pointer (engine_slot_put) */
    pthread_mutex_t lock;   /**< held for the whole of one control call */
    channel *ch;            /**< NULL when stopped */
    int32_t port;           /**< StartChannel's port override, 0 if none */

    /* BlockPlan session (engine_session.c); `lock` guards these too */
    struct block_session *sess;   /**< owned while a session runs; also under sess_lock */
    pthread_mutex_t sess_lock;    /**< guards `sess` for subscribe/unsubscribe, which must
                                       not wait behind a slow start or stop */
    int attached_fd;              /**< AttachStream's connected socket, -1 if none */
    int session_fd;               /**< the duplicate the session's stream sink owns */
    stream_transport attached_transport;
    char attached_endpoint[256];
} channel_slot;

struct engine {
    const config *cfg;      /**< cfg_lock: read for a call, written by reload */
    pthread_rwlock_t cfg_lock;
    const module_registry *reg;
    master_clock *clock;
    pthread_mutex_t lock;   /**< guards the slot array only */
    channel_slot **slots;
    size_t slot_count;
    size_t slot_capacity;
    atomic_llong stop_utc_ms;
    struct asrun_writer *asrun;
};


/** The slot for @p id, created on first use (when @p create); NULL when out
 *  of memory or absent. The caller holds one use of it and gives it back
 *  with engine_slot_put (or engine_slot_unlock). */
channel_slot *engine_slot(engine *e, int32_t id, int create);
/** Give back a use of @p slot (NULL: no-op); the last use of a slot holding
 *  no channel, session or attached stream frees it. Slot lock not held. */
void engine_slot_put(engine *e, channel_slot *slot);
/** Unlock @p slot's lock, then engine_slot_put. */
void engine_slot_unlock(engine *e, channel_slot *slot);
/** How many slots the engine holds now (tests). */
size_t engine_slot_count(engine *e);
/** The configured channel for @p id, or one made from channel_defaults; the
 *  caller frees it. NULL with the reason in @p msg. Hold cfg_lock (read). */
config_channel *engine_channel_config(engine *e, int32_t id, char *msg, size_t msglen);
/** Every asset of @p p must be served by a producer bound to @p ch. */
int engine_check_plan_producers(const config_channel *ch, const plan *p, char *msg,
                                size_t msglen);
/** Every file asset of @p p lies in the config's media_roots (none: any).
 *  RV_EINVAL with "plan 'h': block ... is outside media_roots (...)" in
 *  @p msg. Hold cfg_lock (read). */
int engine_check_plan_media(engine *e, const plan *p, char *msg, size_t msglen);
/** channel_id must be positive; RV_EINVAL with the reason otherwise. */
int engine_check_id(int32_t channel_id, char *msg, size_t msglen);
/** Append a sink binding for module @p module with @p values (borrowed) to
 *  @p cc. RV_OK, RV_ENOTSUP (module not loaded) or RV_EINVAL, with @p msg. */
int engine_add_sink(engine *e, config_channel *cc, const char *module, const raw_option *values,
                    size_t count, char *msg, size_t msglen);
/** Add what a running session adds to its channel's config (the attached
 *  stream's sink, unchanged so a reload keeps it) to @p cc. Slot lock held. */
int engine_session_config_locked(engine *e, const channel_slot *slot, config_channel *cc,
                                 char *msg, size_t msglen);
/** End channel @p slot's session, if any (@p reason borrowed), after its
 *  channel stopped. Slot lock held. */
void engine_session_end_locked(channel_slot *slot, const char *reason, int64_t *final_ct_ms,
                               int32_t *blocks_executed);

#endif
