/**
 * @file host/control/rpc_stream.c
 * @short One open server-streaming call (see rpc_stream.h). Owns its
 *        rpc_call (and so the grpc_call), the queue of packed messages, the
 *        status text and, once set, the owner (freed with free_owner).
 *
 * References: one for the worker running the open function, one for each
 * gRPC batch in flight (close, send, status), one for the owner's hold. All
 * state changes and every grpc_call_start_batch happen under the stream's
 * lock, so batches of the call are started in order from any thread; the
 * last unref (never under the lock) frees everything.
 */
#include "control/rpc_stream.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

#include <grpc/support/alloc.h>

#include "core/log.h"

typedef enum rpc_cancel_state {
    RPC_CANCEL_NONE = 0,
    RPC_CANCEL_WANTED = 1,     /**< the call ended before the open function returned */
    RPC_CANCEL_SCHEDULED = 2   /**< on_cancel queued or running: it ends the owner's hold */
} rpc_cancel_state;

struct rpc_stream {
    rpc_stream_node node;           /**< in the server's list */
    rpc_server *server;             /**< borrowed */
    rpc_call *call;                 /**< owned */
    rpc_tag close_tag;
    rpc_tag send_tag;
    rpc_tag status_tag;
    rpc_tag cancel_tag;
    work_item cancel_item;          /**< job = &cancel_tag */

    pthread_mutex_t lock;           /**< guards everything below */
    int refs;
    grpc_byte_buffer *queue[RPC_STREAM_MAX_QUEUED];   /**< owned, FIFO ring */
    size_t head;
    size_t count;
    grpc_byte_buffer *sending;      /**< owned: the SEND_MESSAGE in flight */
    int armed;                      /**< the open function returned OK */
    int closed;                     /**< RECV_CLOSE_ON_SERVER completed */
    int overflowed;                 /**< cancelled with RESOURCE_EXHAUSTED */
    int finished;                   /**< a status is decided */
    int status_started;
    grpc_status_code status;
    grpc_slice detail;
    int detail_set;
    rpc_cancel_state cancel;
    void *owner;
    void (*on_cancel)(void *owner);
    void (*free_owner)(void *owner);
};

static void rpc_stream_destroy(rpc_stream *s)
{
    rpc_server_stream_link(s->server, &s->node, 0);
    for (size_t i = 0; i < s->count; i++)
        grpc_byte_buffer_destroy(s->queue[(s->head + i) % RPC_STREAM_MAX_QUEUED]);
    if (s->sending)
        grpc_byte_buffer_destroy(s->sending);
    if (s->detail_set)
        grpc_slice_unref(s->detail);
    if (s->free_owner && s->owner)
        s->free_owner(s->owner);
    rpc_call_free(s->call);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/** Drop one reference; frees at zero. Lock NOT held. */
static void rpc_stream_unref(rpc_stream *s)
{
    pthread_mutex_lock(&s->lock);
    int left = --s->refs;
    pthread_mutex_unlock(&s->lock);
    if (left == 0)
        rpc_stream_destroy(s);
}

/** Free every queued message. Lock held. */
static void rpc_stream_drop_queue(rpc_stream *s)
{
    while (s->count > 0) {
        grpc_byte_buffer_destroy(s->queue[s->head]);
        s->head = (s->head + 1) % RPC_STREAM_MAX_QUEUED;
        s->count--;
    }
}

/** Start the SEND_STATUS batch. Lock held; nothing in flight. */
static void rpc_stream_start_status(rpc_stream *s)
{
    grpc_op op;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    op.data.send_status_from_server.status = s->status;
    op.data.send_status_from_server.status_details = s->detail_set ? &s->detail : NULL;
    s->status_started = 1;
    s->refs++;
    if (grpc_call_start_batch(s->call->call, &op, 1, &s->status_tag, NULL) != GRPC_CALL_OK) {
        log_error("control: starting a stream status batch failed");
        s->refs--;
    }
}

/** Start writing the next queued message, or the status when the queue is
 *  empty and a status is decided. Lock held; nothing in flight. */
static void rpc_stream_pump(rpc_stream *s)
{
    if (s->sending || s->closed)
        return;
    if (s->count == 0) {
        if (s->finished && !s->status_started)
            rpc_stream_start_status(s);
        return;
    }
    s->sending = s->queue[s->head];
    s->head = (s->head + 1) % RPC_STREAM_MAX_QUEUED;
    s->count--;
    grpc_op op;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_SEND_MESSAGE;
    op.data.send_message.send_message = s->sending;
    s->refs++;
    if (grpc_call_start_batch(s->call->call, &op, 1, &s->send_tag, NULL) != GRPC_CALL_OK) {
        log_error("control: starting a stream send batch failed");
        grpc_byte_buffer_destroy(s->sending);
        s->sending = NULL;
        s->refs--;
        rpc_stream_drop_queue(s);
    }
}

void rpc_stream_set_owner(rpc_stream *s, void *owner, void (*on_cancel)(void *owner),
                          void (*free_owner)(void *owner))
{
    pthread_mutex_lock(&s->lock);
    s->owner = owner;
    s->on_cancel = on_cancel;
    s->free_owner = free_owner;
    pthread_mutex_unlock(&s->lock);
}

int rpc_stream_send(rpc_stream *s, const ProtobufCMessage *msg)
{
    pthread_mutex_lock(&s->lock);
    int over = s->finished || s->closed || s->overflowed;
    pthread_mutex_unlock(&s->lock);
    if (over)
        return RV_ESTATE; /* checked again below: packing happens unlocked */
    size_t n = protobuf_c_message_get_packed_size(msg);
    grpc_slice out = grpc_slice_malloc(n);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(out));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&out, 1);
    grpc_slice_unref(out);
    if (!bb)
        return RV_ENOMEM;
    pthread_mutex_lock(&s->lock);
    if (s->finished || s->closed || s->overflowed) {
        pthread_mutex_unlock(&s->lock);
        grpc_byte_buffer_destroy(bb);
        return RV_ESTATE;
    }
    if (s->count == RPC_STREAM_MAX_QUEUED) {
        /* The client stopped reading: drop it rather than grow. The close
         * completion then runs on_cancel. */
        s->overflowed = 1;
        rpc_stream_drop_queue(s);
        pthread_mutex_unlock(&s->lock);
        grpc_byte_buffer_destroy(bb);
        char *path = grpc_slice_to_c_string(s->call->details.method);
        log_warn("control: %s: the client is not reading (%d messages queued); dropping the "
                 "stream with RESOURCE_EXHAUSTED",
                 path, RPC_STREAM_MAX_QUEUED);
        gpr_free(path);
        grpc_call_cancel_with_status(s->call->call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                                     "client too slow: stream queue full", NULL);
        return RV_ENOMEM;
    }
    s->queue[(s->head + s->count) % RPC_STREAM_MAX_QUEUED] = bb;
    s->count++;
    rpc_stream_pump(s);
    pthread_mutex_unlock(&s->lock);
    return RV_OK;
}

int rpc_stream_finish(rpc_stream *s, grpc_status_code status, const char *detail)
{
    pthread_mutex_lock(&s->lock);
    if (s->finished) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    s->finished = 1;
    s->status = status;
    if (detail) {
        s->detail = grpc_slice_from_copied_string(detail);
        s->detail_set = 1;
    }
    if (status != GRPC_STATUS_OK)
        rpc_stream_drop_queue(s);
    rpc_stream_pump(s);
    int ends_hold = s->cancel != RPC_CANCEL_SCHEDULED;
    pthread_mutex_unlock(&s->lock);
    if (ends_hold)
        rpc_stream_unref(s); /* the owner's hold */
    return ends_hold;
}

/** Queue the owner's on_cancel on the pool, or run it here when the pool is
 *  gone (server stopping). Lock NOT held. */
static void rpc_stream_schedule_cancel(rpc_stream *s)
{
    if (rpc_server_defer(s->server, &s->cancel_item) != RV_OK)
        rpc_stream_cancel_job(&s->cancel_tag);
}

void rpc_stream_cancel_job(rpc_tag *t)
{
    rpc_stream *s = t->owner;
    if (s->on_cancel)
        s->on_cancel(s->owner);
    rpc_stream_unref(s); /* the owner's hold */
}

static void rpc_stream_on_close(rpc_stream *s)
{
    pthread_mutex_lock(&s->lock);
    s->closed = 1;
    rpc_stream_drop_queue(s);
    int schedule = 0;
    if (!s->finished && s->cancel == RPC_CANCEL_NONE) {
        if (s->armed) {
            s->cancel = RPC_CANCEL_SCHEDULED;
            schedule = 1;
        } else {
            s->cancel = RPC_CANCEL_WANTED;
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (schedule)
        rpc_stream_schedule_cancel(s);
}

void rpc_stream_event(rpc_tag *t, int success)
{
    rpc_stream *s = t->owner;
    switch (t->kind) {
    case RPC_TAG_STREAM_CLOSE:
        rpc_stream_on_close(s);
        break;
    case RPC_TAG_STREAM_SEND:
        pthread_mutex_lock(&s->lock);
        grpc_byte_buffer_destroy(s->sending);
        s->sending = NULL;
        if (success)
            rpc_stream_pump(s);
        else
            rpc_stream_drop_queue(s); /* the call is over; the close follows */
        pthread_mutex_unlock(&s->lock);
        break;
    default: /* RPC_TAG_STREAM_STATUS */
        break;
    }
    rpc_stream_unref(s); /* the batch's reference */
}

static rpc_stream *rpc_stream_new(rpc_server *srv, rpc_call *c)
{
    rpc_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    pthread_mutex_init(&s->lock, NULL);
    s->server = srv;
    s->call = c;
    s->node.call = c->call;
    s->close_tag = (rpc_tag){.kind = RPC_TAG_STREAM_CLOSE, .owner = s};
    s->send_tag = (rpc_tag){.kind = RPC_TAG_STREAM_SEND, .owner = s};
    s->status_tag = (rpc_tag){.kind = RPC_TAG_STREAM_STATUS, .owner = s};
    s->cancel_tag = (rpc_tag){.kind = RPC_TAG_STREAM_CANCEL, .owner = s};
    s->cancel_item.job = &s->cancel_tag;
    s->cancel_item.key = WORK_POOL_NO_KEY;
    s->refs = 2; /* the open function's and the owner's hold */
    return s;
}

void rpc_stream_open(rpc_server *srv, rpc_call *c, void *user)
{
    rpc_stream *s = rpc_stream_new(srv, c);
    if (!s) {
        rpc_call_finish(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL);
        return;
    }
    rpc_server_stream_link(srv, &s->node, 1);
    /* Posted first, so a client cancel is seen at once, whatever follows. */
    grpc_op op;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &c->cancelled;
    pthread_mutex_lock(&s->lock);
    s->refs++;
    if (grpc_call_start_batch(c->call, &op, 1, &s->close_tag, NULL) != GRPC_CALL_OK) {
        log_error("control: starting a stream close batch failed");
        s->refs--;
        s->closed = 1;
        s->cancel = RPC_CANCEL_WANTED; /* as if the client had gone */
    }
    pthread_mutex_unlock(&s->lock);

    rpc_reply reply = {0};
    grpc_status_code st = c->method->stream(user, c->request, s, &reply);
    if (st != GRPC_STATUS_OK) {
        (void)rpc_stream_finish(s, st, rpc_reply_detail(&reply));
    } else {
        pthread_mutex_lock(&s->lock);
        s->armed = 1;
        int schedule = s->cancel == RPC_CANCEL_WANTED && !s->finished;
        if (schedule)
            s->cancel = RPC_CANCEL_SCHEDULED;
        pthread_mutex_unlock(&s->lock);
        if (schedule)
            rpc_stream_schedule_cancel(s);
    }
    rpc_reply_clear(&reply);
    rpc_stream_unref(s); /* the open function's */
}
