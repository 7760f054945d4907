/**
 * @file host/channel/module_instance.c
 * @short Creating and destroying one module instance for a channel.
 */
#include "channel/module_instance.h"

#include <stdio.h>
#include <string.h>

#include <retrovue/producer.h>
#include <retrovue/renderer.h>
#include <retrovue/sink.h>

#include "core/options.h"
#include "core/thread_name.h"

static int instance_call_create(module_instance *mi)
{
    const loaded_module *m = mi->mod;
    switch (m->kind) {
    case RV_KIND_PRODUCER: return m->producer.create(&mi->args, &mi->state);
    case RV_KIND_RENDERER: return m->renderer.create(&mi->args, &mi->state);
    case RV_KIND_SINK: return m->sink.create(&mi->args, &mi->state);
    case RV_KIND_ENCODER: return m->encoder.create(&mi->args, &mi->state);
    case RV_KIND_TRANSPORT: return m->transport.create(&mi->args, &mi->state);
    }
    return RV_EINTERNAL;
}

static int instance_call_start(module_instance *mi)
{
    const loaded_module *m = mi->mod;
    switch (m->kind) {
    case RV_KIND_PRODUCER: return m->producer.start ? m->producer.start(mi->state) : RV_OK;
    case RV_KIND_RENDERER: return m->renderer.start ? m->renderer.start(mi->state) : RV_OK;
    case RV_KIND_SINK: return m->sink.start ? m->sink.start(mi->state) : RV_OK;
    case RV_KIND_ENCODER: return m->encoder.start ? m->encoder.start(mi->state) : RV_OK;
    case RV_KIND_TRANSPORT: return m->transport.start ? m->transport.start(mi->state) : RV_OK;
    }
    return RV_EINTERNAL;
}

static void instance_call_stop(module_instance *mi)
{
    const loaded_module *m = mi->mod;
    if (m->kind == RV_KIND_PRODUCER && m->producer.stop)
        m->producer.stop(mi->state);
    else if (m->kind == RV_KIND_RENDERER && m->renderer.stop)
        m->renderer.stop(mi->state);
    else if (m->kind == RV_KIND_SINK && m->sink.stop)
        m->sink.stop(mi->state);
    else if (m->kind == RV_KIND_ENCODER && m->encoder.stop)
        m->encoder.stop(mi->state);
    else if (m->kind == RV_KIND_TRANSPORT && m->transport.stop)
        m->transport.stop(mi->state);
}

static void instance_call_destroy(module_instance *mi)
{
    const loaded_module *m = mi->mod;
    if (m->kind == RV_KIND_PRODUCER)
        m->producer.destroy(mi->state);
    else if (m->kind == RV_KIND_RENDERER)
        m->renderer.destroy(mi->state);
    else if (m->kind == RV_KIND_ENCODER)
        m->encoder.destroy(mi->state);
    else if (m->kind == RV_KIND_TRANSPORT)
        m->transport.destroy(mi->state);
    else
        m->sink.destroy(mi->state);
}

int module_instance_create(module_instance *mi, const config_binding *binding,
                           const rv_program_format *format, int32_t channel_id,
                           const char *channel_name, frame_pool *pool, master_clock *clock,
                           host_event_fn on_event, void *owner, char *err, size_t errlen)
{
    memset(mi, 0, sizeof(*mi));
    if (!binding->mod || !binding->options) {
        snprintf(err, errlen, "module '%s' is not bound", binding->module);
        return RV_EINVAL;
    }
    mi->mod = binding->mod;
    mi->options = options_clone(binding->options);
    if (!mi->options) {
        snprintf(err, errlen, "module '%s': out of memory", binding->module);
        return RV_ENOMEM;
    }
    mi->format = *format;
    snprintf(mi->channel_name, sizeof(mi->channel_name), "%s", channel_name);
    host_context_init(&mi->ctx, channel_id, mi->mod->name, pool, clock, on_event, owner);
    mi->args = (rv_create_args){
        .struct_size = sizeof(rv_create_args),
        .host = host_api_get(),
        .ctx = &mi->ctx,
        .options = mi->options,
        .format = &mi->format,
        .channel_id = channel_id,
        .channel_name = mi->channel_name,
    };
    int rc = instance_call_create(mi);
    if (rc != RV_OK) {
        snprintf(err, errlen, "module '%s': create failed: %s", mi->mod->name, rv_strerror(rc));
        goto fail;
    }
    /* threads the module creates while it starts (x264's workers, a
     * fanout) inherit this thread's name: lend them one that says whose
     * they are, then take the caller's back */
    static const char *const role[] = {
        [RV_KIND_PRODUCER] = "prod", [RV_KIND_RENDERER] = "render", [RV_KIND_SINK] = "sink",
        [RV_KIND_ENCODER] = "enc", [RV_KIND_TRANSPORT] = "tx"};
    char caller[16];
    thread_name_get(caller);
    if ((size_t)mi->mod->kind < sizeof(role) / sizeof(role[0]) && role[mi->mod->kind])
        thread_name_self("rv-%s-%d", role[mi->mod->kind], (int)channel_id);
    rc = instance_call_start(mi);
    thread_name_self("%s", caller);
    if (rc != RV_OK) {
        snprintf(err, errlen, "module '%s': start failed: %s", mi->mod->name, rv_strerror(rc));
        instance_call_destroy(mi);
        goto fail;
    }
    mi->started = 1;
    return RV_OK;
fail:
    options_free(mi->options);
    memset(mi, 0, sizeof(*mi));
    return rc;
}

void module_instance_destroy(module_instance *mi)
{
    if (!mi->mod)
        return;
    if (mi->started)
        instance_call_stop(mi);
    instance_call_destroy(mi);
    options_free(mi->options);
    memset(mi, 0, sizeof(*mi));
}
