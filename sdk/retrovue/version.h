/**
 * @file retrovue/version.h
 * @short ABI and release version of the RetroVue Playout SDK.
 *
 * The ABI major changes when a published structure changes layout or meaning;
 * the minor grows when callbacks, services or fields are appended to a table
 * (1.1: rv_host_api.publish_image; 1.2: rv_module_info.test_uri;
 * 1.3: rv_host_api.thread_count; 1.4: rv_host_api.video_plane_bytes). The host
 * accepts a module whose major equals its own and whose minor is not newer.
 */
#ifndef RETROVUE_VERSION_H
#define RETROVUE_VERSION_H

#define RV_ABI_MAJOR 1
#define RV_ABI_MINOR 4

#define RV_VERSION_MAJOR 0
#define RV_VERSION_MINOR 1
#define RV_VERSION_PATCH 0
#define RV_VERSION_STRING "0.1.0"

#define RV_STRINGIFY_(x) #x
#define RV_STRINGIFY(x) RV_STRINGIFY_(x)

#endif
