/**
 * @file modules/sinks/mpegts_common/ts_sink.h
 * @short ts_sink: the whole MPEG-TS sink (encode, mux, fan out) shared by
 *        mpegts-tcp and mpegts-uds; a module adds only its option table and
 *        its transport (how to listen, how to connect, how to describe).
 *
 * Owns the encoder, the muxer, the fan-out and the transport glue handed to
 * ts_sink_create. The ts_sink_* functions have the rv_sink_ops signatures,
 * so a module's vtable points straight at them.
 */
#ifndef TS_SINK_H
#define TS_SINK_H

#include <stddef.h>

#include <retrovue/sink.h>

#include "ts_fanout.h"

/** A module's transport. Every callback gets the module's glue back. */
typedef struct ts_transport_ops {
    /** Control thread (start, listen mode): a bound, listening, non-blocking
     *  socket in *fd (ownership passes to the caller). Errors are reported
     *  through host->event here and returned (RV_EBUSY, RV_EACCES, RV_EIO). */
    int (*listen)(void *glue, int *fd);
    /** Control thread (stop), after the listening socket was closed. May be NULL. */
    void (*unlisten)(void *glue);
    /** Network thread (connect mode): see ts_fanout_connect_fn. */
    ts_fanout_connect_fn connect;
    /** Control thread: the address clients use, e.g. "tcp://127.0.0.1:5001",
     *  into @p buf (borrowed). @p listen_fd is the bound socket or -1. */
    void (*describe)(void *glue, int listen_fd, char *buf, size_t len);
    /** Control thread (destroy): free the glue. */
    void (*free_glue)(void *glue);
} ts_transport_ops;

/** Create the sink from @p args (borrowed until ts_sink_destroy), reading
 *  the common options (TS_SINK_COMMON_OPTIONS). Ownership of @p glue passes
 *  to the sink (freed by ops->free_glue), also on failure. Control thread. */
int ts_sink_create(const rv_create_args *args, ts_fanout_mode mode, const ts_transport_ops *ops,
                   void *glue, void **state);

/* rv_sink_ops callbacks; see sink.h for their threads. */
void ts_sink_destroy(void *state);
int ts_sink_start(void *state);
void ts_sink_stop(void *state);
int ts_sink_write(void *state, const rv_tick *tick);
int ts_sink_get_stats(void *state, rv_sink_stats *out);
int ts_sink_describe(void *state, char *buf, size_t len);

#endif
