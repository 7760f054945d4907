/**
 * @file modules/sinks/mpegts_common/ts_fanout.h
 * @short ts_fanout: hands one muxed MPEG-TS byte stream to every client of a
 *        sink, with a GOP cache for fast joins and a bounded queue per client.
 *
 * Owns the network thread, the listening socket (listen mode) or the one
 * outgoing connection (connect mode), every client socket, each client's
 * send queue and the GOP cache (the bytes since the last video keyframe,
 * starting with the PAT/PMT the muxer puts in front of every keyframe).
 *
 * Threads: ts_fanout_append / _mark_keyframe / _commit run on the sink's
 * thread; the network thread accepts, connects, sends and disconnects; the
 * counters may be read from any thread. A client whose queue would overflow
 * is disconnected; the sink thread never waits for a socket.
 */
#ifndef TS_FANOUT_H
#define TS_FANOUT_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/host.h>

typedef struct ts_fanout ts_fanout;

/** How clients reach the stream. Never zero. */
typedef enum ts_fanout_mode {
    TS_FANOUT_LISTEN = 1,  /**< clients connect to our listening socket */
    TS_FANOUT_CONNECT = 2  /**< we connect to one consumer and reconnect */
} ts_fanout_mode;

/** Connect mode: start a non-blocking connection to the consumer.
 *  Network thread. On RV_OK *fd is a socket that is connected or has a
 *  connect() in progress (ownership passes to the caller); otherwise a
 *  negative rv_error with a reason written into @p err (borrowed). */
typedef int (*ts_fanout_connect_fn)(void *opaque, int *fd, char *err, size_t errlen);

typedef struct ts_fanout_config {
    ts_fanout_mode mode;
    int listen_fd;                    /**< listen mode: bound, listening; ownership
                                           passes to the fan-out on success */
    ts_fanout_connect_fn connect;     /**< connect mode */
    void *connect_opaque;             /**< borrowed, outlives the fan-out */
    const char *target;               /**< "tcp://..." for messages; copied */
    size_t client_queue_bytes;        /**< bound of each client's send queue: it
                                           starts at 64 KiB and doubles on demand */
    uint32_t max_clients;             /**< listen mode */
    uint32_t max_per_peer;            /**< listen mode: clients from one IP address; 0 = no cap */
    int64_t backoff_min_ms;           /**< connect mode retry, first delay */
    int64_t backoff_max_ms;           /**< connect mode retry, largest delay */
    const rv_host_api *host;          /**< borrowed */
    rv_context *ctx;                  /**< borrowed */
} ts_fanout_config;

typedef struct ts_fanout_stats {
    uint64_t bytes;        /**< bytes handed to client sockets */
    uint32_t clients;      /**< clients receiving now */
    uint64_t disconnects;  /**< clients dropped, gone or refused */
    uint64_t refused;      /**< of which refused (max_clients, max_per_peer, descriptors) */
    uint64_t queue_bytes;  /**< client send queue bytes allocated now (they grow on
                                demand up to client_queue_bytes each) */
} ts_fanout_stats;

/** Create and start the network thread. @p cfg borrowed. On failure the
 *  listening socket is still the caller's. Control thread. */
int ts_fanout_start(const ts_fanout_config *cfg, ts_fanout **out);
/** Stop the thread, close every socket, free. The last counters go into
 *  @p final_stats (borrowed; may be NULL). NULL @p f is a no-op. Control thread. */
void ts_fanout_stop(ts_fanout *f, ts_fanout_stats *final_stats);

/** Sink thread: add muxed bytes (whole 188-byte packets; borrowed). */
void ts_fanout_append(ts_fanout *f, const uint8_t *data, size_t len);
/** Sink thread: the next appended bytes start a video keyframe (with the
 *  PAT/PMT in front): restart the GOP cache here. */
void ts_fanout_mark_keyframe(ts_fanout *f);
/** Sink thread: end of one tick's bytes; wake the network thread.
 *  Returns how many clients received this tick's bytes. */
uint32_t ts_fanout_commit(ts_fanout *f);

/** Any thread. */
void ts_fanout_get_stats(ts_fanout *f, ts_fanout_stats *out);

#endif
