/**
 * @file host/engine/channel_state.c
 * @short channel_state_name (see engine.h): on its own so that the control
 *        plane's stand-in engines (tests/integration/control_stub_engine.c,
 *        tests/fuzz/fuzz_engine.c) share the one spelling status reports use.
 */
#include "engine/engine.h"

const char *channel_state_name(channel_state s)
{
    switch (s) {
    case CHANNEL_STOPPED: return "stopped";
    case CHANNEL_BUFFERING: return "buffering";
    case CHANNEL_READY: return "ready";
    case CHANNEL_ERROR: return "error";
    case CHANNEL_IDLE: return "idle";
    }
    return "unknown";
}
