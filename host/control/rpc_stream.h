/**
 * @file host/control/rpc_stream.h
 * @short One open server-streaming call: messages sent from any thread,
 *        queued (bounded) and written one SEND_MESSAGE batch at a time, a
 *        final status, and a cancel callback run as soon as the client goes.
 *
 * Life of a stream. The method's rpc_stream_fn runs on a worker; it may
 * attach an owner (rpc_stream_set_owner, e.g. an engine subscription) and
 * must return at once: the stream stays open without holding any thread.
 * From then on the owner calls rpc_stream_send() and, at the end,
 * rpc_stream_finish(). A RECV_CLOSE_ON_SERVER is posted when the stream
 * opens, so a client cancel, a deadline, an overflow or server shutdown is
 * seen at once: the owner's on_cancel then runs on a worker thread (it may
 * block, e.g. to unsubscribe). Exactly one of these ends the owner's hold:
 * rpc_stream_finish() returning 1, or on_cancel returning. The stream, its
 * call and the owner (free_owner) are freed when the last gRPC batch is done
 * and the owner's hold has ended.
 *
 * A client that stops reading cannot grow memory without limit: once
 * RPC_STREAM_MAX_QUEUED messages wait, the stream is cancelled with
 * RESOURCE_EXHAUSTED (and on_cancel runs).
 */
#ifndef RV_CONTROL_RPC_STREAM_H
#define RV_CONTROL_RPC_STREAM_H

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

#include "control/rpc_call.h"
#include "control/rpc_server.h"

/** Messages waiting to be written, per stream, before it is dropped. */
#define RPC_STREAM_MAX_QUEUED 1024

/** Attach the owner of the stream (at most once, from the rpc_stream_fn,
 *  before anything else can reach the stream). @p owner is owned by the
 *  caller until the stream frees it with @p free_owner (may be NULL).
 *  @p on_cancel (may be NULL): thread: a worker (or the completion-queue
 *  thread while the server stops); called at most once, only when the call
 *  ends before the owner finished it, never before the rpc_stream_fn
 *  returned GRPC_STATUS_OK. */
void rpc_stream_set_owner(rpc_stream *s, void *owner, void (*on_cancel)(void *owner),
                          void (*free_owner)(void *owner));

/** Queue @p msg (borrowed; packed during the call) for the client. Thread:
 *  any, while the owner holds the stream. RV_OK; RV_ESTATE once the stream
 *  is finished or the call is over (the message is dropped); RV_ENOMEM
 *  when the client is too slow (the stream is being cancelled with
 *  RESOURCE_EXHAUSTED) or memory ran out. */
int rpc_stream_send(rpc_stream *s, const ProtobufCMessage *msg);

/** End the stream with @p status (and @p detail, may be NULL) once every
 *  queued message is written (a non-OK status drops them). Thread: any,
 *  while the owner holds the stream. Returns 1 when this ended the owner's
 *  hold (on_cancel will never run; the stream may be freed before this
 *  returns, so do not touch it or the owner again), 0 when on_cancel has
 *  run or will run (it ends the hold) or the stream was already finished. */
int rpc_stream_finish(rpc_stream *s, grpc_status_code status, const char *detail);

/* ---- internal to rpc_server.c ---- */

/** Open a stream on @p c (ownership passes to the stream) and run the
 *  method's rpc_stream_fn with @p user. Thread: a worker. */
void rpc_stream_open(rpc_server *srv, rpc_call *c, void *user);
/** A completion of one of the stream's tags. Thread: the completion-queue thread. */
void rpc_stream_event(rpc_tag *t, int success);
/** Run the owner's on_cancel (the RPC_TAG_STREAM_CANCEL job). Thread: a
 *  worker, or the completion-queue thread when the pool is gone. */
void rpc_stream_cancel_job(rpc_tag *t);

/** Provided by rpc_server.c: list or unlist an open stream (@p node
 *  embedded in it). Thread: any. */
void rpc_server_stream_link(rpc_server *srv, rpc_stream_node *node, int add);
/** Provided by rpc_server.c: run @p item (its job an rpc_tag) on the pool.
 *  RV_OK, or RV_ESTATE when the pool is gone (the caller runs it itself). */
int rpc_server_defer(rpc_server *srv, work_item *item);

#endif
