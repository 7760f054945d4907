/**
 * @file host/core/thread_budget.c
 * @short thread_budget: live-channel count, configured overrides and the
 *        suggested decoder / encoder thread counts (see thread_budget.h).
 *
 * Owns a few process-wide atomics; nothing to create or free.
 */
#include "core/thread_budget.h"

#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include <retrovue/error.h>
#include <retrovue/host.h>

static atomic_int live_channels;
static atomic_int cfg_decoder;
static atomic_int cfg_encoder;
static atomic_int forced_cpus;
static atomic_int expected_channels;

/** Most threads a real-time decoder gets: frame threading past two only adds
 *  reference-picture copies and latency; the decoder runs ahead of real time
 *  with one or two. */
#define DECODER_MAX 2
/** Most threads one encoder gets without an override (libx264 scales poorly
 *  past this at playout resolutions and each thread costs lookahead memory). */
#define ENCODER_MAX 8

void thread_budget_channel_add(void)
{
    atomic_fetch_add(&live_channels, 1);
}

void thread_budget_channel_remove(void)
{
    atomic_fetch_sub(&live_channels, 1);
}

int thread_budget_channels(void)
{
    int n = atomic_load(&live_channels);
    return n > 0 ? n : 0;
}

static int clamp_cfg(int v)
{
    return v < 0 ? 0 : v > THREAD_BUDGET_MAX ? THREAD_BUDGET_MAX : v;
}

void thread_budget_configure(int decoder_threads, int encoder_threads)
{
    atomic_store(&cfg_decoder, clamp_cfg(decoder_threads));
    atomic_store(&cfg_encoder, clamp_cfg(encoder_threads));
}

void thread_budget_expect_channels(int n)
{
    atomic_store(&expected_channels, n > 0 ? n : 0);
}

void thread_budget_set_cpus(int cpus)
{
    atomic_store(&forced_cpus, cpus > 0 ? cpus : 0);
}

/** CPUs this process may run on (its affinity mask, as nproc counts). */
static int budget_cpus(void)
{
    int forced = atomic_load(&forced_cpus);
    if (forced > 0)
        return forced;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int thread_budget_suggest(uint32_t role)
{
    int cfg, cap;
    if (role == RV_THREADS_DECODER) {
        cfg = atomic_load(&cfg_decoder);
        cap = DECODER_MAX;
    } else if (role == RV_THREADS_ENCODER) {
        cfg = atomic_load(&cfg_encoder);
        cap = ENCODER_MAX;
    } else {
        return RV_EINVAL;
    }
    if (cfg > 0)
        return cfg;
    int channels = thread_budget_channels();
    int expected = atomic_load(&expected_channels);
    if (channels < expected)
        channels = expected;
    int share = budget_cpus() / (channels > 0 ? channels : 1);
    if (share < 1)
        share = 1;
    return share < cap ? share : cap;
}
