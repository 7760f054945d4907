/**
 * @file host/control/control_methods.h
 * @short The PlayoutControl method table: one line per RPC, each handler
 *        validating its request and calling the engine (host/engine/engine.h).
 *
 * Handlers run on the rpc_server's worker threads with the engine as their
 * user pointer; calls carrying a channel_id are serialised per channel.
 */
#ifndef RV_CONTROL_METHODS_H
#define RV_CONTROL_METHODS_H

#include "control/rpc_server.h"

/** The table, ending with a {.path = NULL} sentinel. Static storage. */
extern const rpc_method control_methods[];

#endif
