/**
 * @file host/control/rpc_call.h
 * @short One server-side unary call (internal to rpc_server): its gRPC call
 *        handle, details, metadata and byte buffers, the unpacked request,
 *        the response arena, and the three-step state machine
 *        REQUESTED -> READ -> SENT.
 *
 * The call owns everything it points to except the server and the method.
 * Exactly one batch of a unary call is in flight at any time, so batches of
 * a call are serialised even when the reply is started from a worker thread.
 * A server-streaming call is handed to an rpc_stream after READ; the stream
 * then owns the call and starts its batches under its own tags.
 *
 * Every completion-queue tag and every worker-pool job is an rpc_tag, whose
 * kind says which object it belongs to.
 */
#ifndef RV_CONTROL_RPC_CALL_H
#define RV_CONTROL_RPC_CALL_H

#include <stddef.h>

#include <grpc/grpc.h>

#include "control/rpc_server.h"
#include "control/work_pool.h"

/** What a completion-queue tag or worker-pool job belongs to. */
typedef enum rpc_tag_kind {
    RPC_TAG_CALL = 1,           /**< owner: an rpc_call (its state says which step) */
    RPC_TAG_STREAM_CLOSE = 2,   /**< owner: an rpc_stream; RECV_CLOSE_ON_SERVER done */
    RPC_TAG_STREAM_SEND = 3,    /**< owner: an rpc_stream; one SEND_MESSAGE done */
    RPC_TAG_STREAM_STATUS = 4,  /**< owner: an rpc_stream; SEND_STATUS done */
    RPC_TAG_STREAM_CANCEL = 5   /**< owner: an rpc_stream; pool job: run its on_cancel */
} rpc_tag_kind;

typedef struct rpc_tag {
    rpc_tag_kind kind;
    void *owner;                /**< borrowed: the object that embeds this tag */
} rpc_tag;

/** An open stream as the server lists it (to cancel them all at shutdown).
 *  Embedded in rpc_stream; linked under the server's lock. */
typedef struct rpc_stream_node {
    struct rpc_stream_node *prev;
    struct rpc_stream_node *next;
    grpc_call *call;            /**< borrowed from the stream's rpc_call */
} rpc_stream_node;

/** The per-call response arena (see rpc_server.h); zero-initialise. */
struct rpc_reply {
    struct rpc_chunk *chunks;   /**< owned allocations */
    char detail[512];           /**< status details; "" = none */
};

/** The details set by rpc_reply_set_detail, or NULL when none. */
const char *rpc_reply_detail(const rpc_reply *r);
/** Free every allocation of the arena. */
void rpc_reply_clear(rpc_reply *r);

typedef enum rpc_call_state {
    RPC_CALL_REQUESTED = 1,   /**< waiting for a client (request_call) */
    RPC_CALL_READ = 2,        /**< initial metadata sent, reading the message */
    RPC_CALL_SENT = 3         /**< status sent, waiting for the close */
} rpc_call_state;

typedef struct rpc_call {
    work_item item;                 /**< first: queued on the worker pool; job = &tag */
    rpc_tag tag;                    /**< {RPC_TAG_CALL, this}: every batch of a unary call */
    rpc_call_state state;
    grpc_call *call;                /**< owned reference (NULL until matched) */
    grpc_call_details details;
    grpc_metadata_array request_md;
    grpc_byte_buffer *recv_buf;     /**< owned */
    grpc_byte_buffer *send_buf;     /**< owned */
    grpc_slice status_details;
    int status_details_set;
    int cancelled;                  /**< from RECV_CLOSE_ON_SERVER */
    const rpc_method *method;       /**< borrowed from the table */
    ProtobufCMessage *request;      /**< owned (protobuf-c unpacked) */
} rpc_call;

/** A fresh call context ready for grpc_server_request_call; NULL on ENOMEM. */
rpc_call *rpc_call_new(void);
/** Release everything the call owns, including the grpc_call. */
void rpc_call_free(rpc_call *c);

/** Start the first batch: send initial metadata, receive the message.
 *  RV_OK or RV_EIO (the caller frees the call). Tag: &c->tag. */
int rpc_call_start_read(rpc_call *c);

/** Unpack recv_buf with @p desc into c->request. RV_OK, or RV_EINVAL with
 *  the reason in @p err: no payload, malformed protobuf, or a string field
 *  (at any depth) holding a NUL byte, which C would silently truncate. */
int rpc_call_unpack(rpc_call *c, const ProtobufCMessageDescriptor *desc, char *err,
                    size_t errlen);

/** The value of the int32 field @p name of the unpacked request, or
 *  WORK_POOL_NO_KEY when @p name is NULL or absent. */
int64_t rpc_call_key(const rpc_call *c, const char *name);

/** Run the method's handler and reply (worker thread). */
void rpc_call_run(rpc_call *c, void *user);

/** Send @p status (with @p detail, may be NULL) and, when OK, @p response
 *  (borrowed, may be NULL). On a batch failure the call is freed here;
 *  otherwise the SENT completion frees it. Thread: any. */
void rpc_call_finish(rpc_call *c, grpc_status_code status, const char *detail,
                     const ProtobufCMessage *response);

#endif
