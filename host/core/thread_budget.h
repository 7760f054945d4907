/**
 * @file host/core/thread_budget.h
 * @short thread_budget: the process-wide count of live channels and the
 *        decoder / encoder thread counts the host suggests from it and the
 *        CPUs this process may run on (rv_host_api.thread_count, ABI 1.3).
 *
 * Why: every channel decodes and encodes; each library left to its own
 * automatic count sizes itself for the whole machine (libx264: 1.5 threads
 * per CPU, FFmpeg's decoders: one per CPU), so N channels on C cores run
 * ~3·N·C threads that contend for the same C cores. The budget divides the
 * CPUs among the channels instead.
 */
#ifndef RV_HOST_THREAD_BUDGET_H
#define RV_HOST_THREAD_BUDGET_H

#include <stdint.h>

/** Upper bound of any suggestion (and of the configured overrides). */
#define THREAD_BUDGET_MAX 16

/** A channel came to life (channel_alloc) / went away (channel_free).
 *  Thread: any (atomic). */
void thread_budget_channel_add(void);
void thread_budget_channel_remove(void);

/** Live channels now (>= 0). Thread: any. */
int thread_budget_channels(void);

/** Engine-wide overrides from the config (`engine.decoder_threads`,
 *  `engine.encoder_threads`): 0 = sized automatically, 1..THREAD_BUDGET_MAX =
 *  that count for every channel. Values outside 0..THREAD_BUDGET_MAX are
 *  clamped. Thread: the control thread, at start-up or reload. */
void thread_budget_configure(int decoder_threads, int encoder_threads);

/** The channels the config lists (@p n >= 0): the share divides by at least
 *  this many, so the first configured channel to start is not sized as if it
 *  were alone. Thread: the control thread, at start-up or reload. */
void thread_budget_expect_channels(int n);

/** Test hook: pretend the process may run on @p cpus CPUs (0 = ask the
 *  kernel again). Thread: any, before the suggestion is wanted. */
void thread_budget_set_cpus(int cpus);

/** The thread count for one decoder (@p role RV_THREADS_DECODER) or encoder
 *  (RV_THREADS_ENCODER) of a channel: the configured override when set;
 *  otherwise share = max(1, cpus / max(live channels, expected channels, 1))
 *  (a channel counts itself), then a decoder gets min(share, 2) (frame
 *  threading beyond two buys a real-time decoder nothing but memory) and an
 *  encoder min(share, 8). Returns 1..THREAD_BUDGET_MAX, or RV_EINVAL for an
 *  unknown role. Thread: any. */
int thread_budget_suggest(uint32_t role);

#endif
