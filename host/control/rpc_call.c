/**
 * @file host/control/rpc_call.c
 * @short One server-side unary call (see rpc_call.h) and the per-call
 *        response arena (rpc_reply). Owns the call's gRPC objects, its
 *        buffers, the unpacked request and, while a handler runs, the
 *        response and every allocation made through rpc_reply_*.
 */
#include "control/rpc_call.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>

#include <retrovue/error.h>

#include "control/rpc_wire.h"
#include "core/log.h"

/** One allocation of the arena; the payload follows the header. */
typedef struct rpc_chunk {
    struct rpc_chunk *next;
    max_align_t payload[];
} rpc_chunk;

void *rpc_reply_alloc(rpc_reply *r, size_t bytes)
{
    rpc_chunk *ch = calloc(1, sizeof(*ch) + bytes);
    if (!ch)
        return NULL;
    ch->next = r->chunks;
    r->chunks = ch;
    return ch->payload;
}

char *rpc_reply_strdup(rpc_reply *r, const char *s)
{
    if (!s)
        return (char *)protobuf_c_empty_string;
    size_t n = strlen(s);
    char *d = rpc_reply_alloc(r, n + 1);
    if (!d)
        return (char *)protobuf_c_empty_string;
    memcpy(d, s, n + 1);
    return d;
}

ProtobufCMessage *rpc_reply_message(rpc_reply *r, const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *m = rpc_reply_alloc(r, desc->sizeof_message);
    if (m)
        protobuf_c_message_init(desc, m);
    return m;
}

void rpc_reply_set_detail(rpc_reply *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
}

const char *rpc_reply_detail(const rpc_reply *r)
{
    return r->detail[0] ? r->detail : NULL;
}

void rpc_reply_clear(rpc_reply *r)
{
    while (r->chunks) {
        rpc_chunk *next = r->chunks->next;
        free(r->chunks);
        r->chunks = next;
    }
}

rpc_call *rpc_call_new(void)
{
    rpc_call *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->tag.kind = RPC_TAG_CALL;
    c->tag.owner = c;
    c->item.job = &c->tag;
    c->state = RPC_CALL_REQUESTED;
    grpc_call_details_init(&c->details);
    grpc_metadata_array_init(&c->request_md);
    return c;
}

void rpc_call_free(rpc_call *c)
{
    if (!c)
        return;
    if (c->request)
        protobuf_c_message_free_unpacked(c->request, NULL);
    if (c->recv_buf)
        grpc_byte_buffer_destroy(c->recv_buf);
    if (c->send_buf)
        grpc_byte_buffer_destroy(c->send_buf);
    if (c->status_details_set)
        grpc_slice_unref(c->status_details);
    grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->request_md);
    if (c->call)
        grpc_call_unref(c->call);
    free(c);
}

int rpc_call_start_read(rpc_call *c)
{
    grpc_op ops[2];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = 0;
    ops[1].op = GRPC_OP_RECV_MESSAGE;
    ops[1].data.recv_message.recv_message = &c->recv_buf;
    c->state = RPC_CALL_READ;
    grpc_call_error e = grpc_call_start_batch(c->call, ops, 2, &c->tag, NULL);
    if (e != GRPC_CALL_OK) {
        log_error("control: starting a read batch failed (%d)", (int)e);
        return RV_EIO;
    }
    return RV_OK;
}

int rpc_call_unpack(rpc_call *c, const ProtobufCMessageDescriptor *desc, char *err,
                    size_t errlen)
{
    if (!c->recv_buf) {
        snprintf(err, errlen, "no request message");
        return RV_EINVAL;
    }
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, c->recv_buf)) {
        snprintf(err, errlen, "unreadable request payload");
        return RV_EINVAL;
    }
    grpc_slice in = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    c->request = protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(in),
                                           GRPC_SLICE_START_PTR(in));
    int rc = RV_OK;
    if (!c->request) {
        snprintf(err, errlen, "malformed %s payload", desc->name);
        rc = RV_EINVAL;
    } else {
        rc = rpc_wire_check_strings(desc, GRPC_SLICE_START_PTR(in), GRPC_SLICE_LENGTH(in), err,
                                    errlen);
    }
    grpc_slice_unref(in);
    return rc;
}

int64_t rpc_call_key(const rpc_call *c, const char *name)
{
    if (!name || !c->request)
        return WORK_POOL_NO_KEY;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(c->request->descriptor, name);
    if (!f || f->type != PROTOBUF_C_TYPE_INT32 || f->label == PROTOBUF_C_LABEL_REPEATED)
        return WORK_POOL_NO_KEY;
    int32_t v;
    memcpy(&v, (const char *)c->request + f->offset, sizeof(v));
    return v;
}

void rpc_call_run(rpc_call *c, void *user)
{
    const rpc_method *m = c->method;
    rpc_reply reply = {0};
    ProtobufCMessage *resp = rpc_reply_message(&reply, m->response);
    if (!resp) {
        rpc_call_finish(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL);
        return;
    }
    grpc_status_code st = m->handler(user, c->request, resp, &reply);
    rpc_call_finish(c, st, rpc_reply_detail(&reply), st == GRPC_STATUS_OK ? resp : NULL);
    rpc_reply_clear(&reply);
}

/** Pack @p msg into c->send_buf. RV_OK or RV_ENOMEM. */
static int rpc_call_pack(rpc_call *c, const ProtobufCMessage *msg)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    grpc_slice out = grpc_slice_malloc(n);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(out));
    c->send_buf = grpc_raw_byte_buffer_create(&out, 1);
    grpc_slice_unref(out);
    return c->send_buf ? RV_OK : RV_ENOMEM;
}

void rpc_call_finish(rpc_call *c, grpc_status_code status, const char *detail,
                     const ProtobufCMessage *response)
{
    grpc_op ops[3];
    size_t n = 0;
    memset(ops, 0, sizeof(ops));
    if (status == GRPC_STATUS_OK && response) {
        if (rpc_call_pack(c, response) != RV_OK) {
            status = GRPC_STATUS_RESOURCE_EXHAUSTED;
            detail = "out of memory";
        } else {
            ops[n].op = GRPC_OP_SEND_MESSAGE;
            ops[n].data.send_message.send_message = c->send_buf;
            n++;
        }
    }
    c->status_details = grpc_slice_from_copied_string(detail ? detail : "");
    c->status_details_set = 1;
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.trailing_metadata_count = 0;
    ops[n].data.send_status_from_server.status = status;
    ops[n].data.send_status_from_server.status_details = detail ? &c->status_details : NULL;
    n++;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n].data.recv_close_on_server.cancelled = &c->cancelled;
    n++;
    c->state = RPC_CALL_SENT;
    grpc_call_error e = grpc_call_start_batch(c->call, ops, n, &c->tag, NULL);
    if (e != GRPC_CALL_OK) {
        log_error("control: starting a reply batch failed (%d)", (int)e);
        rpc_call_free(c);
    }
}
