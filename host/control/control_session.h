/**
 * @file host/control/control_session.h
 * @short Handlers of RetroVue Core's BlockPlan session API (AttachStream,
 *        DetachStream, StartBlockPlanSession, FeedBlockPlan,
 *        StopBlockPlanSession, SubscribeBlockEvents) and of the legacy
 *        LoadPreview/SwitchToLive, mapped onto host/engine/engine_session.h.
 *        control_methods.c lists them in the method table.
 *
 * Unary handlers run on the rpc_server's workers with the engine as user
 * pointer and answer refusals as Core expects: gRPC OK, success=false, a
 * result_code (BlockPlanResultCode; UNSPECIFIED for a request-level
 * refusal that is not about a block) and a message.
 */
#ifndef RV_CONTROL_SESSION_H
#define RV_CONTROL_SESSION_H

#include "control/rpc_server.h"

grpc_status_code control_attach_stream(void *user, const ProtobufCMessage *request,
                                       ProtobufCMessage *response, rpc_reply *reply);
grpc_status_code control_detach_stream(void *user, const ProtobufCMessage *request,
                                       ProtobufCMessage *response, rpc_reply *reply);
grpc_status_code control_start_session(void *user, const ProtobufCMessage *request,
                                       ProtobufCMessage *response, rpc_reply *reply);
grpc_status_code control_feed_block(void *user, const ProtobufCMessage *request,
                                    ProtobufCMessage *response, rpc_reply *reply);
grpc_status_code control_stop_session(void *user, const ProtobufCMessage *request,
                                      ProtobufCMessage *response, rpc_reply *reply);
/** LoadPreview and SwitchToLive: UNIMPLEMENTED, naming the RPCs to use. */
grpc_status_code control_legacy_unimplemented(void *user, const ProtobufCMessage *request,
                                              ProtobufCMessage *response, rpc_reply *reply);
/** SubscribeBlockEvents: NOT_FOUND without a session; otherwise a stream of
 *  BlockEvent that ends with OK after SessionEnded. */
grpc_status_code control_subscribe_events(void *user, const ProtobufCMessage *request,
                                          rpc_stream *stream, rpc_reply *reply);

#endif
