/**
 * @file host/control/work_pool.c
 * @short The keyed worker pool (see work_pool.h). Owns the worker threads,
 *        the FIFO of queued work_items (borrowed from the submitters) and the
 *        set of keys currently running.
 *
 * A worker takes the first queued item whose key is not running, so the
 * items of one key run in order, one at a time. A new thread is started
 * when an item is queued, no worker is idle and max_workers is not reached.
 */
#include "control/work_pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <retrovue/error.h>

#include "core/log.h"
#include "core/thread_name.h"

#define WORK_POOL_MAX_THREADS 64

struct work_pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;        /**< an item became runnable, or cancel */
    work_pool_fn fn;
    void *user;
    work_item *head;            /**< queued, FIFO */
    work_item *tail;
    int64_t running[WORK_POOL_MAX_THREADS]; /**< keys of running jobs */
    size_t running_count;
    pthread_t threads[WORK_POOL_MAX_THREADS];
    size_t thread_count;
    size_t max_workers;
    size_t idle_workers;
    int cancelling;
};

static int work_pool_key_running(const work_pool *p, int64_t key)
{
    if (key == WORK_POOL_NO_KEY)
        return 0;
    for (size_t i = 0; i < p->running_count; i++) {
        if (p->running[i] == key)
            return 1;
    }
    return 0;
}

/** Queued items whose key is not running. Lock held. */
static size_t work_pool_runnable(const work_pool *p)
{
    size_t n = 0;
    for (const work_item *it = p->head; it; it = it->next) {
        if (!work_pool_key_running(p, it->key))
            n++;
    }
    return n;
}

/** Unlink and return the first runnable item, or NULL. Lock held. */
static work_item *work_pool_take(work_pool *p)
{
    work_item *prev = NULL;
    for (work_item *it = p->head; it; prev = it, it = it->next) {
        if (work_pool_key_running(p, it->key))
            continue;
        if (prev)
            prev->next = it->next;
        else
            p->head = it->next;
        if (p->tail == it)
            p->tail = prev;
        it->next = NULL;
        return it;
    }
    return NULL;
}

static void work_pool_key_done(work_pool *p, int64_t key)
{
    for (size_t i = 0; i < p->running_count; i++) {
        if (p->running[i] == key) {
            p->running[i] = p->running[--p->running_count];
            return;
        }
    }
}

static void *work_pool_main(void *arg)
{
    work_pool *p = arg;
    thread_name_self("rv-rpc-work");
    pthread_mutex_lock(&p->lock);
    for (;;) {
        work_item *it = work_pool_take(p);
        if (!it) {
            if (p->cancelling)
                break;
            p->idle_workers++;
            pthread_cond_wait(&p->wake, &p->lock);
            p->idle_workers--;
            continue;
        }
        p->running[p->running_count++] = it->key;
        int cancelled = p->cancelling;
        int64_t key = it->key;
        void *job = it->job;
        pthread_mutex_unlock(&p->lock);
        p->fn(p->user, job, cancelled); /* it may be freed from here on */
        pthread_mutex_lock(&p->lock);
        work_pool_key_done(p, key);
        /* The next item of this key may now run. */
        pthread_cond_broadcast(&p->wake);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/** Start one more worker with every signal blocked. Lock held. */
static int work_pool_spawn(work_pool *p)
{
    if (p->thread_count >= p->max_workers)
        return RV_EBUSY;
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&p->threads[p->thread_count], NULL, work_pool_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        log_error("control: cannot start a worker thread (%d)", rc);
        return RV_ENOMEM;
    }
    p->thread_count++;
    return RV_OK;
}

work_pool *work_pool_create(size_t max_workers, work_pool_fn fn, void *user)
{
    if (!fn || max_workers == 0)
        return NULL;
    work_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->fn = fn;
    p->user = user;
    p->max_workers = max_workers < WORK_POOL_MAX_THREADS ? max_workers : WORK_POOL_MAX_THREADS;
    pthread_mutex_lock(&p->lock);
    int rc = work_pool_spawn(p);
    pthread_mutex_unlock(&p->lock);
    if (rc != RV_OK) {
        work_pool_destroy(p);
        return NULL;
    }
    return p;
}

int work_pool_submit(work_pool *p, work_item *item)
{
    pthread_mutex_lock(&p->lock);
    if (p->cancelling) {
        pthread_mutex_unlock(&p->lock);
        return RV_ESTATE;
    }
    item->next = NULL;
    if (p->tail)
        p->tail->next = item;
    else
        p->head = item;
    p->tail = item;
    /* Start a worker unless an idle one is there for every runnable item:
     * a queued item must never wait behind a slow job of another key. */
    if (work_pool_runnable(p) > p->idle_workers)
        (void)work_pool_spawn(p); /* at the limit, an existing worker takes it later */
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    return RV_OK;
}

size_t work_pool_pending(work_pool *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->running_count;
    for (work_item *it = p->head; it; it = it->next)
        n++;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void work_pool_destroy(work_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->cancelling = 1;
    pthread_cond_broadcast(&p->wake);
    size_t n = p->thread_count;
    pthread_mutex_unlock(&p->lock);
    /* Workers drain the queue (fn with cancelled=1), finish running jobs,
     * then exit; thread_count no longer changes once cancelling is set. */
    for (size_t i = 0; i < n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
