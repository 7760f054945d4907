/**
 * @file host/telemetry/http_viewers.h
 * @short http_viewers: the one thread (`rv-http-tx`) that writes the body of
 *        every `/channel/<id>.ts` viewer, all viewers back to back on a
 *        shared 250 ms grid.
 *
 * libmicrohttpd (a thread per connection) parses each viewer's request and
 * sends the response headers (200, `Transfer-Encoding: chunked`); then the
 * connection's thread parks in the response's content reader
 * (http_viewer_read) and this object writes the chunked body (RFC 9112
 * section 7.1: `<hex size>\r\n<bytes>\r\n` per batch) straight to the
 * connection's socket, without copying the stream hub's chunks (one
 * sendmsg() of their references per batch). Why one thread and a grid:
 * fifty viewers sent to one after another cost a fifth of what the same
 * bytes cost sent at fifty unrelated instants (each lone send pays a wake-up
 * of the sender and of the reader; docs/PERFORMANCE.md, row 12).
 *
 * When a viewer ends (its queue fell HTTP_STREAM_VIEWER_QUEUE_BYTES behind,
 * its socket took nothing for the stall timeout, it hung up, its channel
 * stopped, or the server stops) this thread forgets the socket first, then
 * wakes the parked reader, which hands the connection back to
 * libmicrohttpd: it ends the chunked body (channel stopped) or closes the
 * connection. A viewer ends alone; the channel and the others never wait.
 *
 * Owns the thread, its epoll set and, per viewer, the stream subscription
 * and the chunk references of the batch being sent. Never owns a socket.
 */
#ifndef RV_HOST_TELEMETRY_HTTP_VIEWERS_H
#define RV_HOST_TELEMETRY_HTTP_VIEWERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/stream_hub.h"

typedef struct http_viewers http_viewers;
typedef struct http_viewer http_viewer;

/** Start the sender thread (it inherits the caller's nice value and runs as
 *  `rv-http-tx`). A viewer whose socket accepts no byte for
 *  @p stall_timeout_s seconds (1..3600), or that has had no byte to send for
 *  that long, is dropped. RV_OK with *@p out (caller-owned; end with
 *  http_viewers_stop then http_viewers_destroy), RV_EINVAL, RV_ENOMEM or
 *  RV_EIO (no thread, epoll or eventfd). Thread: any. */
int http_viewers_create(unsigned stall_timeout_s, http_viewers **out);

/** End every viewer (their parked readers return and libmicrohttpd closes
 *  the connections), refuse new ones and join the thread. Call before
 *  MHD_stop_daemon, which joins the connection threads. Idempotent; NULL is
 *  a no-op. Thread: any but the sender's. */
void http_viewers_stop(http_viewers *vs);

/** Free what http_viewers_create made, once no reader can call in any more
 *  (after MHD_stop_daemon). NULL is a no-op. */
void http_viewers_destroy(http_viewers *vs);

/** A viewer of one rendition: @p sub (ownership passes to the viewer, even
 *  on failure) is its place in the stream hub; @p fd is the connection's
 *  socket (borrowed: libmicrohttpd owns and closes it; this object writes to
 *  it only between the first http_viewer_read call and that call's return).
 *  NULL when out of memory. Thread: the connection's. */
http_viewer *http_viewer_create(http_viewers *vs, stream_sub *sub, int fd, int32_t channel_id);

/** libmicrohttpd's content reader for a viewer's response (@p cls is the
 *  http_viewer, borrowed): hands the viewer to the sender thread and waits
 *  until it ends. Returns MHD_CONTENT_READER_END_OF_STREAM when the channel
 *  stopped (every batch was whole: libmicrohttpd ends the chunked body) or
 *  MHD_CONTENT_READER_END_WITH_ERROR (libmicrohttpd closes the connection).
 *  Never writes to @p buf. Thread: the connection's. */
ssize_t http_viewer_read(void *cls, uint64_t pos, char *buf, size_t max);

/** libmicrohttpd's free callback for the response (@p cls: the viewer,
 *  ownership passes here). Thread: the connection's. */
void http_viewer_free(void *cls);

#endif
