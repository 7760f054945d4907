/**
 * @file tests/fuzz/fuzz_grpc.c
 * @short libFuzzer harness: every PlayoutControl request type through the
 *        server's own decode and its handler. Input: one byte choosing the
 *        method in control_methods[] (modulo their count), then the request
 *        message bytes as they would arrive in a gRPC frame.
 *
 * Per input: rpc_call_unpack (protobuf-c unpack, then rpc_wire's NUL check
 * at every depth), rpc_call_key (the per-channel serialisation key), then
 * the method's handler on the stand-in engine of fuzz_engine.c (control
 * validation, program_format_json, BlockPlan conversion, plan_load /
 * plan_from_blocks), and the reply is checked (protobuf_c_message_check)
 * and packed as the server would send it. SubscribeBlockEvents, the one
 * streaming method, is decoded and keyed but its handler needs a live
 * gRPC stream and is not called. No gRPC transport, channel or thread is
 * involved. Owns nothing across inputs.
 */
#include "fuzz_common.h"

#include <grpc/byte_buffer.h>
#include <grpc/slice.h>

#include <retrovue/error.h>

#include "control/control_methods.h"
#include "control/rpc_call.h"
#include "fuzz_engine.h"

static engine *fuzz_grpc_engine;
static size_t fuzz_grpc_method_count;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    fuzz_grpc_engine = fuzz_engine_get(RV_FUZZ_PLANS_DIR);
    while (control_methods[fuzz_grpc_method_count].path)
        fuzz_grpc_method_count++;
    return 0;
}

/** Run @p m's handler on @p request and pack its reply. */
static void fuzz_grpc_handle(const rpc_method *m, const ProtobufCMessage *request)
{
    rpc_reply reply = {0};
    ProtobufCMessage *resp = rpc_reply_message(&reply, m->response);
    if (resp) {
        grpc_status_code st = m->handler(fuzz_grpc_engine, request, resp, &reply);
        if (st == GRPC_STATUS_OK) {
            if (!protobuf_c_message_check(resp))
                abort(); /* a reply protobuf-c would refuse to pack faithfully */
            size_t n = protobuf_c_message_get_packed_size(resp);
            uint8_t *buf = malloc(n ? n : 1);
            if (buf && protobuf_c_message_pack(resp, buf) != n)
                abort();
            free(buf);
        }
    }
    rpc_reply_clear(&reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const rpc_method *m = &control_methods[data[0] % fuzz_grpc_method_count];
    rpc_call *c = rpc_call_new();
    if (!c)
        return 0;
    c->method = m;
    grpc_slice in = grpc_slice_from_copied_buffer((const char *)data + 1, size - 1);
    c->recv_buf = grpc_raw_byte_buffer_create(&in, 1);
    grpc_slice_unref(in);
    char err[512];
    if (rpc_call_unpack(c, m->request, err, sizeof(err)) == RV_OK) {
        volatile int64_t key = rpc_call_key(c, m->serialise_by);
        (void)key;
        if (m->handler)
            fuzz_grpc_handle(m, c->request);
    }
    rpc_call_free(c);
    return 0;
}
