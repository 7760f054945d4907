/**
 * @file host/control/rpc_wire.h
 * @short A check of a request's protobuf wire bytes that protobuf-c cannot
 *        make: no string field may hold a NUL byte. protobuf-c unpacks
 *        "demo\0x" as the C string "demo", so without this check a request
 *        would act on a name other than the one sent.
 *
 * Walks the encoding (protobuf wire format, developers.google.com/protocol-
 * buffers/docs/encoding) guided by the message descriptor, into nested
 * messages up to RPC_WIRE_MAX_DEPTH. Pure function; owns nothing.
 */
#ifndef RV_CONTROL_RPC_WIRE_H
#define RV_CONTROL_RPC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/** Nested messages deeper than this are refused (protobuf-c's own limit is
 *  higher; our requests nest at most 3 levels). */
#define RPC_WIRE_MAX_DEPTH 16

/** @p data (@p len bytes, borrowed) is a message of type @p desc that
 *  protobuf-c has already unpacked. RV_OK, or RV_EINVAL with a sentence
 *  naming the field ("BlockPlan.block_id holds a NUL byte") in @p err. */
int rpc_wire_check_strings(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                           size_t len, char *err, size_t errlen);

#endif
