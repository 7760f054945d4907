/**
 * @file host/control/rpc_wire.c
 * @short NUL bytes in string fields of a wire-encoded request (see
 *        rpc_wire.h). Owns nothing.
 */
#include "control/rpc_wire.h"

#include <stdio.h>
#include <string.h>

#include <retrovue/error.h>

/** Read a base-128 varint at *@p pos. 0 on success, -1 when truncated. */
static int rpc_wire_varint(const uint8_t *data, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return -1;
        uint8_t b = data[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

static int rpc_wire_walk(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                         int depth, char *err, size_t errlen)
{
    if (depth > RPC_WIRE_MAX_DEPTH) {
        snprintf(err, errlen, "%s nests deeper than %d messages", desc->name, RPC_WIRE_MAX_DEPTH);
        return RV_EINVAL;
    }
    size_t pos = 0;
    while (pos < len) {
        uint64_t key;
        uint64_t n;
        if (rpc_wire_varint(data, len, &pos, &key) != 0)
            goto truncated;
        switch (key & 7) {
        case 0: /* varint */
            if (rpc_wire_varint(data, len, &pos, &n) != 0)
                goto truncated;
            continue;
        case 1: /* 64-bit */
            n = 8;
            break;
        case 5: /* 32-bit */
            n = 4;
            break;
        case 2: { /* length-delimited */
            if (rpc_wire_varint(data, len, &pos, &n) != 0 || n > len - pos)
                goto truncated;
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field(desc, (unsigned)(key >> 3));
            if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(data + pos, 0, (size_t)n)) {
                snprintf(err, errlen, "%s.%s holds a NUL byte", desc->name, f->name);
                return RV_EINVAL;
            }
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                int rc = rpc_wire_walk(f->descriptor, data + pos, (size_t)n, depth + 1, err,
                                       errlen);
                if (rc != RV_OK)
                    return rc;
            }
            break;
        }
        default: /* groups: protobuf-c already refused them */
            snprintf(err, errlen, "%s: unsupported wire type %u", desc->name,
                     (unsigned)(key & 7));
            return RV_EINVAL;
        }
        if (n > len - pos)
            goto truncated;
        pos += (size_t)n;
    }
    return RV_OK;
truncated:
    snprintf(err, errlen, "malformed %s payload (truncated)", desc->name);
    return RV_EINVAL;
}

int rpc_wire_check_strings(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                           size_t len, char *err, size_t errlen)
{
    return rpc_wire_walk(desc, data, len, 0, err, errlen);
}
