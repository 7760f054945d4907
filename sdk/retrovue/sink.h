/**
 * @file retrovue/sink.h
 * @short Sink vtable: turns the channel's ticks into a delivery format and
 *        transport (MPEG-TS over TCP, a log file, ...).
 *
 * Each sink has its own bounded queue and thread. write() runs on that thread;
 * a slow sink loses ticks from its own queue (counted by the host) and never
 * slows the channel. start() and stop() run on the control thread while the
 * sink thread is not running, so they never overlap write().
 */
#ifndef RETROVUE_SINK_H
#define RETROVUE_SINK_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/module.h>

/** Counters a sink keeps; monotonic except `clients`. */
typedef struct rv_sink_stats {
    uint32_t struct_size;      /**< set by the host before get_stats */
    uint64_t bytes;            /**< bytes delivered */
    uint32_t clients;          /**< clients connected now */
    uint64_t disconnects;      /**< clients dropped or gone */
    uint64_t dropped_frames;   /**< frames the sink itself could not deliver */
    uint64_t encode_ns;        /**< time spent encoding */
} rv_sink_stats;

typedef struct rv_sink_ops {
    uint32_t struct_size;  /**< sizeof(rv_sink_ops) the module was built with */

    /* ---- required ---- */
    /** Control thread. */
    int (*create)(const rv_create_args *args, void **state);
    /** Control thread, after stop(). */
    void (*destroy)(void *state);
    /** Sink thread. @p tick and everything it points to are borrowed for the
     *  call; video_ref / audio_ref them to keep them longer. An error makes
     *  the host restart this sink (stop, backoff, start). */
    int (*write)(void *state, const rv_tick *tick);

    /* ---- optional ---- */
    /** Control thread, before the first write: bind, connect, open files. */
    int (*start)(void *state);
    /** Control thread, after the last write: flush and close. */
    void (*stop)(void *state);
    /** Any thread: fill @p out (borrowed; struct_size set by the host). */
    int (*get_stats)(void *state, rv_sink_stats *out);
    /** Any thread: where the sink delivers, e.g. "tcp://127.0.0.1:5001",
     *  written into @p buf (borrowed, @p len bytes, NUL-terminated). */
    int (*describe)(void *state, char *buf, size_t len);

    /* ---- callbacks added in ABI 1.1 or later go below this line ---- */
} rv_sink_ops;

#endif
