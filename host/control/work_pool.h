/**
 * @file host/control/work_pool.h
 * @short A small keyed worker pool for control calls: jobs with the same key
 *        (a channel id) run one at a time in submission order; jobs with
 *        different keys run in parallel, so a slow call on one channel never
 *        delays calls on another.
 *
 * The pool owns its threads and its queue; jobs are owned by the submitter
 * and handed back to it through the run callback. Threads are created on
 * demand up to max_workers (every worker blocks all signals) and joined by
 * work_pool_destroy().
 */
#ifndef RV_CONTROL_WORK_POOL_H
#define RV_CONTROL_WORK_POOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct work_pool work_pool;

/** Key for jobs that need no serialisation (GetVersion, ListChannels). */
#define WORK_POOL_NO_KEY INT64_MIN

/** Called on a worker thread. @p cancelled is 1 when the pool is being
 *  destroyed and the job never started: the callee must finish the job
 *  without doing its work (and free it). @p job: ownership returns to the
 *  callee. */
typedef void (*work_pool_fn)(void *user, void *job, int cancelled);

/** A job as queued; embedded by the submitter (no allocation in the pool). */
typedef struct work_item {
    struct work_item *next;
    int64_t key;
    void *job;
} work_item;

/** @p user is borrowed and passed to @p fn. NULL on failure. */
work_pool *work_pool_create(size_t max_workers, work_pool_fn fn, void *user);

/** Queue @p item (borrowed until fn has been called for it). Thread: any.
 *  RV_OK, or RV_ESTATE once the pool is being cancelled (the caller keeps
 *  the job). */
int work_pool_submit(work_pool *p, work_item *item);

/** Finish every queued job with cancelled=1, wait for running jobs, join all
 *  threads and free the pool. Thread: not a worker. NULL is a no-op. */
void work_pool_destroy(work_pool *p);

/** Jobs queued or running now (tests, status). Thread: any. */
size_t work_pool_pending(work_pool *p);

#endif
