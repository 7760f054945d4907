/**
 * @file host/evidence/evidence_stream.c
 * @short One client bidi call on gRPC C core: Hello + sends, re-posted
 *        receives, the final status, and the drain that frees the call.
 *
 * Every batch of a call uses one of three tags inside the stream (send,
 * recv, status); `pending` counts the batches started and not yet
 * completed, so the call is freed only when all three are back.
 */
#include "evidence/evidence_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <retrovue/error.h>

#include "core/log.h"
#include "evidence/evidence_record.h"

#define LOG_MOD "evidence"
#define METHOD "/retrovue.evidence.v1.ExecutionEvidenceService/EvidenceStream"

struct evidence_stream {
    char endpoint[256];
    grpc_channel *channel;
    grpc_completion_queue *cq;
    evidence_stream_state state;

    grpc_call *call;
    int pending;     /* batches started, not completed */
    int sending;     /* a send (or the half-close) is in flight */
    int half_closed;
    int recv_done;   /* Core half-closed, or a receive failed */
    uint64_t acks;   /* acks this call */

    grpc_byte_buffer *send_buf;
    grpc_byte_buffer *recv_buf;
    grpc_metadata_array initial_md;
    grpc_metadata_array trailing_md;
    grpc_status_code status;
    grpc_slice status_details;
    int have_status;

    char tag_send;   /* the tags are these members' addresses */
    char tag_recv;
    char tag_status;
};

static gpr_timespec in_ms(int ms)
{
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                        gpr_time_from_millis(ms, GPR_TIMESPAN));
}

evidence_stream *evidence_stream_create(const char *endpoint, char *err, size_t errlen)
{
    if (!endpoint || !*endpoint || strlen(endpoint) >= 256) {
        snprintf(err, errlen, "evidence endpoint must be \"host:port\" (1-255 characters)");
        return NULL;
    }
    evidence_stream *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(s->endpoint, sizeof(s->endpoint), "%s", endpoint);
    s->state = EVIDENCE_STREAM_IDLE;
    grpc_init();
    /* The channel's own reconnect backoff must not outlast ours (5 s):
     * gRPC's default grows to 120 s, and a fail-fast call fails at once
     * while the channel waits. (Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC
     * also takes it as the minimum connect timeout, and 100 ms cut every
     * handshake on a slow host, so Core was never reached.) */
    grpc_arg args[2] = {
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, .value.integer = 100},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, .value.integer = 5000},
    };
    grpc_channel_args cargs = {.num_args = 2, .args = args};
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    s->channel = grpc_channel_create(endpoint, creds, &cargs);
    grpc_channel_credentials_release(creds);
    s->cq = grpc_completion_queue_create_for_next(NULL);
    if (!s->channel || !s->cq) {
        snprintf(err, errlen, "gRPC refused the evidence endpoint %s", endpoint);
        evidence_stream_destroy(s);
        return NULL;
    }
    return s;
}

evidence_stream_state evidence_stream_get_state(const evidence_stream *s)
{
    return s->state;
}

static int start(evidence_stream *s, const grpc_op *ops, size_t n, void *tag)
{
    grpc_call_error e = grpc_call_start_batch(s->call, ops, n, tag, NULL);
    if (e != GRPC_CALL_OK) {
        log_write(RV_LOG_ERROR, -1, LOG_MOD, "evidence call to %s: start_batch error %d",
                  s->endpoint, (int)e);
        return RV_EIO;
    }
    s->pending++;
    return RV_OK;
}

static grpc_byte_buffer *buffer(const uint8_t *buf, size_t len)
{
    grpc_slice sl = grpc_slice_from_copied_buffer((const char *)buf, len);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&sl, 1);
    grpc_slice_unref(sl);
    return bb;
}

static int post_recv(evidence_stream *s, int with_initial_md)
{
    grpc_op ops[2];
    size_t n = 0;
    memset(ops, 0, sizeof(ops));
    if (with_initial_md) {
        ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[n].data.recv_initial_metadata.recv_initial_metadata = &s->initial_md;
        n++;
    }
    ops[n].op = GRPC_OP_RECV_MESSAGE;
    ops[n].data.recv_message.recv_message = &s->recv_buf;
    n++;
    return start(s, ops, n, &s->tag_recv);
}

int evidence_stream_open(evidence_stream *s, const uint8_t *hello, size_t len)
{
    if (s->state != EVIDENCE_STREAM_IDLE)
        return RV_ESTATE;
    grpc_slice method = grpc_slice_from_static_string(METHOD);
    s->call = grpc_channel_create_call(s->channel, NULL, GRPC_PROPAGATE_DEFAULTS, s->cq, method,
                                       NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (!s->call) {
        log_write(RV_LOG_ERROR, -1, LOG_MOD, "evidence call to %s: gRPC refused it", s->endpoint);
        return RV_EIO;
    }
    s->state = EVIDENCE_STREAM_OPEN;
    s->pending = 0;
    s->sending = 0;
    s->half_closed = 0;
    s->recv_done = 0;
    s->acks = 0;
    s->have_status = 0;
    grpc_metadata_array_init(&s->initial_md);
    grpc_metadata_array_init(&s->trailing_md);
    s->status_details = grpc_empty_slice();

    grpc_op st;
    memset(&st, 0, sizeof(st));
    st.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    st.data.recv_status_on_client.trailing_metadata = &s->trailing_md;
    st.data.recv_status_on_client.status = &s->status;
    st.data.recv_status_on_client.status_details = &s->status_details;
    if (start(s, &st, 1, &s->tag_status) != RV_OK) {
        /* Nothing started: free the call right here. */
        grpc_call_unref(s->call);
        s->call = NULL;
        grpc_metadata_array_destroy(&s->initial_md);
        grpc_metadata_array_destroy(&s->trailing_md);
        s->state = EVIDENCE_STREAM_IDLE;
        return RV_EIO;
    }
    grpc_op ops[2];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = 0;
    s->send_buf = buffer(hello, len);
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = s->send_buf;
    if (start(s, ops, 2, &s->tag_send) != RV_OK) {
        grpc_byte_buffer_destroy(s->send_buf);
        s->send_buf = NULL;
        grpc_call_cancel(s->call, NULL); /* the status batch completes; poll drains */
        return RV_OK;
    }
    s->sending = 1;
    if (post_recv(s, 1) != RV_OK)
        grpc_call_cancel(s->call, NULL);
    return RV_OK;
}

int evidence_stream_can_send(const evidence_stream *s)
{
    return s->state == EVIDENCE_STREAM_OPEN && !s->sending && !s->half_closed;
}

int evidence_stream_send(evidence_stream *s, const uint8_t *buf, size_t len)
{
    if (!evidence_stream_can_send(s))
        return RV_ESTATE;
    grpc_op op;
    memset(&op, 0, sizeof(op));
    s->send_buf = buffer(buf, len);
    op.op = GRPC_OP_SEND_MESSAGE;
    op.data.send_message.send_message = s->send_buf;
    if (start(s, &op, 1, &s->tag_send) != RV_OK) {
        grpc_byte_buffer_destroy(s->send_buf);
        s->send_buf = NULL;
        grpc_call_cancel(s->call, NULL);
        return RV_EIO;
    }
    s->sending = 1;
    return RV_OK;
}

int evidence_stream_close_send(evidence_stream *s)
{
    if (!evidence_stream_can_send(s))
        return RV_ESTATE;
    grpc_op op;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    if (start(s, &op, 1, &s->tag_send) != RV_OK) {
        grpc_call_cancel(s->call, NULL);
        return RV_EIO;
    }
    s->sending = 1;
    s->half_closed = 1;
    return RV_OK;
}

void evidence_stream_cancel(evidence_stream *s)
{
    if (s->call && s->state == EVIDENCE_STREAM_OPEN)
        grpc_call_cancel(s->call, NULL);
}

/* All three batches are back: report the status and free the call. */
static void finish(evidence_stream *s, evidence_stream_event *ev)
{
    ev->what = EVIDENCE_STREAM_FINISHED;
    ev->status = s->have_status ? (int)s->status : (int)GRPC_STATUS_UNKNOWN;
    ev->acks_received = s->acks;
    char *d = grpc_slice_to_c_string(s->status_details);
    snprintf(ev->detail, sizeof(ev->detail), "%s", d ? d : "");
    gpr_free(d);
    grpc_slice_unref(s->status_details);
    grpc_metadata_array_destroy(&s->initial_md);
    grpc_metadata_array_destroy(&s->trailing_md);
    grpc_call_unref(s->call);
    s->call = NULL;
    s->state = EVIDENCE_STREAM_IDLE;
}

static void on_recv(evidence_stream *s, int success, evidence_stream_event *ev)
{
    if (!success || !s->recv_buf) {
        s->recv_done = 1; /* Core half-closed or the call failed: status follows */
        return;
    }
    grpc_byte_buffer_reader r;
    int ok = grpc_byte_buffer_reader_init(&r, s->recv_buf);
    if (ok) {
        grpc_slice in = grpc_byte_buffer_reader_readall(&r);
        grpc_byte_buffer_reader_destroy(&r);
        ok = evidence_ack_unpack(GRPC_SLICE_START_PTR(in), GRPC_SLICE_LENGTH(in), &ev->acked,
                                 ev->error, sizeof(ev->error)) == RV_OK;
        grpc_slice_unref(in);
    }
    grpc_byte_buffer_destroy(s->recv_buf);
    s->recv_buf = NULL;
    if (ok) {
        ev->what = EVIDENCE_STREAM_ACK;
        s->acks++;
    } else {
        log_write(RV_LOG_WARN, -1, LOG_MOD, "evidence call to %s: an ack that does not decode",
                  s->endpoint);
    }
    if (s->state == EVIDENCE_STREAM_OPEN && post_recv(s, 0) != RV_OK) {
        s->recv_done = 1;
        grpc_call_cancel(s->call, NULL);
    }
}

int evidence_stream_poll(evidence_stream *s, int timeout_ms, evidence_stream_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->what = EVIDENCE_STREAM_NOTHING;
    if (!s->call)
        return 0;
    if (s->state == EVIDENCE_STREAM_ENDED && s->pending == 0) {
        finish(s, ev);
        return 1;
    }
    grpc_event e = grpc_completion_queue_next(s->cq, in_ms(timeout_ms), NULL);
    if (e.type != GRPC_OP_COMPLETE)
        return 0;
    s->pending--;
    if (e.tag == &s->tag_send) {
        s->sending = 0;
        if (s->send_buf) {
            grpc_byte_buffer_destroy(s->send_buf);
            s->send_buf = NULL;
            ev->what = EVIDENCE_STREAM_SENT;
            ev->ok = e.success;
        }
    } else if (e.tag == &s->tag_recv) {
        on_recv(s, e.success, ev);
    } else if (e.tag == &s->tag_status) {
        s->have_status = 1;
        s->state = EVIDENCE_STREAM_ENDED;
    }
    if (s->state == EVIDENCE_STREAM_ENDED && s->pending == 0) {
        if (ev->what != EVIDENCE_STREAM_NOTHING)
            return 1; /* report this one; finish on the next poll */
        finish(s, ev);
    }
    return 1;
}

void evidence_stream_destroy(evidence_stream *s)
{
    if (!s)
        return;
    if (s->call) {
        grpc_call_cancel(s->call, NULL);
        evidence_stream_event ev;
        while (s->call)
            evidence_stream_poll(s, 100, &ev);
    }
    if (s->channel)
        grpc_channel_destroy(s->channel);
    if (s->cq) {
        grpc_completion_queue_shutdown(s->cq);
        while (grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
               GRPC_QUEUE_SHUTDOWN) {
        }
        grpc_completion_queue_destroy(s->cq);
    }
    free(s);
    grpc_shutdown();
}
