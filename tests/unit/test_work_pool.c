/**
 * @file tests/unit/test_work_pool.c
 * @short The control plane's keyed worker pool: a job blocked on one key
 *        never delays another key; jobs of one key run one at a time in
 *        order; destroying the pool finishes queued jobs as cancelled.
 *
 * Liveness waits use a generous bound only to fail instead of hanging.
 */
#include <pthread.h>
#include <time.h>

#include <retrovue/error.h>

#include "control/work_pool.h"
#include "tap.h"

typedef struct test_state {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int release_a;       /**< job A may return */
    int a_running;
    int done[8];         /**< per job: 1 ran, 2 cancelled */
    int order[8];
    int order_count;
    int concurrent_key1; /**< jobs of key 1 running now */
    int max_key1;
} test_state;

typedef struct test_job {
    work_item item;
    int id;
    int key1;
    int blocks;
} test_job;

static test_state st;

static void run(void *user, void *job, int cancelled)
{
    (void)user;
    test_job *j = job;
    pthread_mutex_lock(&st.lock);
    if (cancelled) {
        st.done[j->id] = 2;
        pthread_cond_broadcast(&st.changed);
        pthread_mutex_unlock(&st.lock);
        return;
    }
    if (j->key1 && ++st.concurrent_key1 > st.max_key1)
        st.max_key1 = st.concurrent_key1;
    if (j->blocks) {
        st.a_running = 1;
        pthread_cond_broadcast(&st.changed);
        while (!st.release_a)
            pthread_cond_wait(&st.changed, &st.lock);
    }
    if (j->key1)
        st.concurrent_key1--;
    st.order[st.order_count++] = j->id;
    st.done[j->id] = 1;
    pthread_cond_broadcast(&st.changed);
    pthread_mutex_unlock(&st.lock);
}

/** Wait until done[id] is set (or 30 s pass: the test then fails). */
static int wait_done(int id)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&st.lock);
    while (!st.done[id]) {
        if (pthread_cond_timedwait(&st.changed, &st.lock, &until) != 0)
            break;
    }
    int d = st.done[id];
    pthread_mutex_unlock(&st.lock);
    return d;
}

int main(void)
{
    tap_plan(9);
    pthread_mutex_init(&st.lock, NULL);
    pthread_cond_init(&st.changed, NULL);
    work_pool *p = work_pool_create(4, run, NULL);
    tap_ok(p != NULL, "pool created");

    test_job a = {.item = {.key = 1}, .id = 0, .key1 = 1, .blocks = 1};
    test_job b = {.item = {.key = 2}, .id = 1};
    test_job c = {.item = {.key = 1}, .id = 2, .key1 = 1};
    test_job d = {.item = {.key = WORK_POOL_NO_KEY}, .id = 3};
    a.item.job = &a;
    b.item.job = &b;
    c.item.job = &c;
    d.item.job = &d;

    work_pool_submit(p, &a.item);
    pthread_mutex_lock(&st.lock);
    while (!st.a_running)
        pthread_cond_wait(&st.changed, &st.lock);
    pthread_mutex_unlock(&st.lock);
    work_pool_submit(p, &c.item);
    work_pool_submit(p, &b.item);
    work_pool_submit(p, &d.item);
    tap_ok(wait_done(1) == 1, "a job on key 2 runs while key 1 is blocked");
    tap_ok(wait_done(3) == 1, "an unkeyed job runs while key 1 is blocked");
    pthread_mutex_lock(&st.lock);
    int c_early = st.done[2];
    pthread_mutex_unlock(&st.lock);
    tap_ok(c_early == 0, "the second job of key 1 waits for the first");
    tap_ok(work_pool_pending(p) >= 2, "pending counts the blocked job and the one queued behind it");

    pthread_mutex_lock(&st.lock);
    st.release_a = 1;
    pthread_cond_broadcast(&st.changed);
    pthread_mutex_unlock(&st.lock);
    tap_ok(wait_done(2) == 1, "the second job of key 1 runs after the first");
    pthread_mutex_lock(&st.lock);
    int a_before_c = -1;
    for (int i = 0; i < st.order_count; i++) {
        if (st.order[i] == 0 || st.order[i] == 2) {
            a_before_c = st.order[i] == 0;
            break;
        }
    }
    int max1 = st.max_key1;
    pthread_mutex_unlock(&st.lock);
    tap_ok(a_before_c == 1 && max1 == 1, "key 1 ran in order, one at a time");

    /* Block key 5, queue another job on it, destroy: the queued one is
     * finished as cancelled, the running one completes. */
    pthread_mutex_lock(&st.lock);
    st.release_a = 0;
    st.a_running = 0;
    pthread_mutex_unlock(&st.lock);
    test_job e = {.item = {.key = 5}, .id = 4, .blocks = 1};
    test_job g = {.item = {.key = 5}, .id = 5};
    e.item.job = &e;
    g.item.job = &g;
    work_pool_submit(p, &e.item);
    work_pool_submit(p, &g.item);
    pthread_mutex_lock(&st.lock);
    while (!st.a_running)
        pthread_cond_wait(&st.changed, &st.lock);
    st.release_a = 1; /* e returns once destroy has started or right away */
    pthread_cond_broadcast(&st.changed);
    pthread_mutex_unlock(&st.lock);
    work_pool_destroy(p);
    tap_ok(st.done[4] == 1, "a running job completes on destroy");
    tap_ok(st.done[5] == 1 || st.done[5] == 2, "a queued job is run or cancelled, never lost");
    return tap_done();
}
