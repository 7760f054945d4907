/**
 * @file modules/sinks/mpegts_common/ts_transport.h
 * @short ts_transport: the MPEG-TS transport shared by mpegts-tcp and
 *        mpegts-uds: it delivers a rendition's bytes (the host's encoder
 *        output) to socket clients through a ts_fanout; a module adds only
 *        its option table and its socket glue (how to listen, how to
 *        connect, how to describe).
 *
 * Owns the fan-out and the glue handed to ts_transport_create. The
 * ts_transport_* functions have the rv_transport_ops signatures, so a
 * module's vtable points straight at them.
 */
#ifndef TS_TRANSPORT_H
#define TS_TRANSPORT_H

#include <stddef.h>

#include <retrovue/transport.h>

#include "ts_fanout.h"

/** A module's socket glue. Every callback gets the module's glue back. */
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

/** Create the transport from @p args (borrowed until ts_transport_destroy),
 *  reading TS_TRANSPORT_COMMON_OPTIONS and max_clients. Ownership of
 *  @p glue passes to the transport (freed by ops->free_glue), also on
 *  failure. Control thread. */
int ts_transport_create(const rv_create_args *args, ts_fanout_mode mode,
                        const ts_transport_ops *ops, void *glue, void **state);

/* rv_transport_ops callbacks; see transport.h for their threads. */
void ts_transport_destroy(void *state);
int ts_transport_start(void *state);
void ts_transport_stop(void *state);
int ts_transport_write(void *state, const rv_chunk *chunk);
int ts_transport_get_stats(void *state, rv_sink_stats *out);
int ts_transport_describe(void *state, char *buf, size_t len);
/** Listen mode: clients receiving now; connect mode: RV_ENOTSUP (a push
 *  transport). Any thread. */
int ts_transport_consumers(void *state);

#endif
