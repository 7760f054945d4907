/**
 * @file retrovue/retrovue.h
 * @short Everything a module includes: the whole RetroVue Playout SDK.
 */
#ifndef RETROVUE_RETROVUE_H
#define RETROVUE_RETROVUE_H

#include <retrovue/encoder.h>
#include <retrovue/error.h>
#include <retrovue/format.h>
#include <retrovue/frame.h>
#include <retrovue/host.h>
#include <retrovue/module.h>
#include <retrovue/option.h>
#include <retrovue/producer.h>
#include <retrovue/renderer.h>
#include <retrovue/sink.h>
#include <retrovue/transport.h>
#include <retrovue/version.h>

#endif
