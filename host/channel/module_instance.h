/**
 * @file host/channel/module_instance.h
 * @short One live instance of a loaded module bound to a channel: its
 *        rv_context, its create arguments and its state.
 *
 * Everything the module was created with (context, options, format, channel
 * name) lives here, so it stays valid until module_instance_destroy().
 */
#ifndef RV_HOST_MODULE_INSTANCE_H
#define RV_HOST_MODULE_INSTANCE_H

#include <stddef.h>

#include <retrovue/module.h>

#include "config/config.h"
#include "core/host_api.h"

typedef struct module_instance {
    const loaded_module *mod;   /**< borrowed from the registry */
    rv_context ctx;
    rv_create_args args;
    rv_options *options;        /**< owned copy */
    rv_program_format format;
    char channel_name[256];
    void *state;                /**< the module's */
    int started;
} module_instance;

/** Create (and start, when the module has start) an instance of @p binding's
 *  module. @p binding, @p format, @p channel_name borrowed; @p pool, @p clock,
 *  @p owner borrowed and must outlive the instance. RV_OK or an error with a
 *  message in @p err. Control thread. */
int module_instance_create(module_instance *mi, const config_binding *binding,
                           const rv_program_format *format, int32_t channel_id,
                           const char *channel_name, frame_pool *pool, master_clock *clock,
                           host_event_fn on_event, void *owner, char *err, size_t errlen);
/** Stop (if started) and destroy. Safe on a zeroed instance. Control thread. */
void module_instance_destroy(module_instance *mi);

#endif
