/**
 * @file tests/unit/test_sink_queue.c
 * @short Sink queue: drop-oldest drops exactly the oldest and counts and
 *        releases them; BLOCK makes the pusher wait; close drains then EOF;
 *        reopen; destroy releases what is left.
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <retrovue/error.h>

#include "core/sink_queue.h"
#include "tap.h"

enum { MAX_RELEASED = 64 };

/* Test-local record of released entries (the release callback's target). */
static int released[MAX_RELEASED];
static int released_count;

static void record_release(void *entry)
{
    if (released_count < MAX_RELEASED)
        released[released_count] = *(int *)entry;
    released_count++;
}

static void test_drop_oldest(void)
{
    sink_queue *q = sink_queue_create(3, sizeof(int), SINK_QUEUE_DROP_OLDEST, record_release);
    released_count = 0;
    int ok = 1;
    for (int i = 0; i < 5; i++)
        ok &= sink_queue_push(q, &i) == RV_OK;
    tap_ok(ok, "pushes into a full DROP_OLDEST queue never fail");
    tap_ok(sink_queue_dropped(q) == 2 && sink_queue_depth(q) == 3, "two dropped, depth 3");
    tap_ok(released_count == 2 && released[0] == 0 && released[1] == 1,
           "exactly the two oldest (0, 1) were released, in order");
    int out = -1;
    ok = 1;
    for (int i = 2; i < 5; i++)
        ok &= sink_queue_pop(q, &out, 0) == RV_OK && out == i;
    tap_ok(ok, "the newest three come out in order");
    tap_ok(sink_queue_pop(q, &out, 1000000) == RV_ETIMEDOUT, "empty pop times out");
    int v = 7;
    sink_queue_push(q, &v);
    v = 8;
    sink_queue_push(q, &v);
    released_count = 0;
    sink_queue_destroy(q);
    tap_ok(released_count == 2 && released[0] == 7 && released[1] == 8,
           "destroy releases the entries still queued");
}

typedef struct pusher {
    sink_queue *q;
    int from;
    int count;
    int rc;
} pusher;

static void *push_thread(void *arg)
{
    pusher *p = arg;
    for (int i = 0; i < p->count; i++) {
        int v = p->from + i;
        p->rc = sink_queue_push(p->q, &v);
        if (p->rc != RV_OK)
            break;
    }
    return NULL;
}

static void test_block(void)
{
    sink_queue *q = sink_queue_create(2, sizeof(int), SINK_QUEUE_BLOCK, record_release);
    released_count = 0;
    pusher p = {.q = q, .from = 0, .count = 1000, .rc = 99};
    pthread_t th;
    pthread_create(&th, NULL, push_thread, &p);
    int ok = 1;
    int out;
    for (int i = 0; i < 1000; i++) {
        ok &= sink_queue_pop(q, &out, -1) == RV_OK && out == i;
        ok &= sink_queue_depth(q) <= 2;
    }
    pthread_join(th, NULL);
    tap_ok(ok && p.rc == RV_OK, "BLOCK: 1000 entries through a queue of 2, all in order");
    tap_ok(sink_queue_dropped(q) == 0 && released_count == 0, "BLOCK never drops");

    /* A pusher blocked on a full queue is released by close. */
    int v = 1;
    sink_queue_push(q, &v);
    sink_queue_push(q, &v);
    p = (pusher){.q = q, .from = 100, .count = 1, .rc = 99};
    pthread_create(&th, NULL, push_thread, &p);
    sink_queue_close(q);
    pthread_join(th, NULL);
    tap_ok(p.rc == RV_ESTATE && released_count == 1 && released[0] == 100,
           "close releases a blocked pusher with RV_ESTATE and releases its entry");
    sink_queue_destroy(q);
}

static void test_close(void)
{
    sink_queue *q = sink_queue_create(4, sizeof(int), SINK_QUEUE_DROP_OLDEST, record_release);
    released_count = 0;
    for (int i = 0; i < 3; i++)
        sink_queue_push(q, &i);
    sink_queue_close(q);
    int v = 42;
    tap_ok(sink_queue_push(q, &v) == RV_ESTATE && released_count == 1 && released[0] == 42,
           "push after close: RV_ESTATE and the entry is released");
    int out;
    int ok = 1;
    for (int i = 0; i < 3; i++)
        ok &= sink_queue_pop(q, &out, -1) == RV_OK && out == i;
    tap_ok(ok, "close drains what was queued");
    tap_ok(sink_queue_pop(q, &out, -1) == RV_EOF, "then RV_EOF, without waiting");
    sink_queue_reopen(q);
    v = 5;
    tap_ok(sink_queue_push(q, &v) == RV_OK && sink_queue_pop(q, &out, 0) == RV_OK && out == 5,
           "reopen accepts pushes again");
    sink_queue_destroy(q);
}

static void *close_later(void *arg)
{
    sink_queue_close(arg);
    return NULL;
}

static void test_close_wakes_popper(void)
{
    sink_queue *q = sink_queue_create(4, sizeof(int), SINK_QUEUE_DROP_OLDEST, NULL);
    pthread_t th;
    int out;
    pthread_create(&th, NULL, close_later, q);
    int rc = sink_queue_pop(q, &out, -1);
    pthread_join(th, NULL);
    tap_ok(rc == RV_EOF, "a popper waiting without limit gets RV_EOF on close");
    sink_queue_destroy(q);
}

static void *pop_later(void *arg)
{
    int out;
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    sink_queue_pop(arg, &out, -1);
    return NULL;
}

/* push_wait (the start burst): a full DROP_OLDEST queue waits for the popper
 * and drops nothing when room comes in time; without a popper it drops the
 * oldest after the wait, as push does at once. No timing is asserted: the
 * popper's 50 ms and the 10 ms wait only order the two cases. */
static void test_push_wait(void)
{
    sink_queue *q = sink_queue_create(2, sizeof(int), SINK_QUEUE_DROP_OLDEST, record_release);
    released_count = 0;
    int v0 = 0, v1 = 1, v2 = 2, v3 = 3;
    sink_queue_push(q, &v0);
    sink_queue_push(q, &v1);
    pthread_t th;
    pthread_create(&th, NULL, pop_later, q);
    int rc = sink_queue_push_wait(q, &v2, 60LL * 1000 * 1000 * 1000);
    pthread_join(th, NULL);
    int out = -1, ok = rc == RV_OK && sink_queue_dropped(q) == 0 && released_count == 0;
    ok &= sink_queue_pop(q, &out, 0) == RV_OK && out == 1;
    tap_ok(ok, "push_wait: a full queue waits for the popper and drops nothing");
    sink_queue_push(q, &v1);
    rc = sink_queue_push_wait(q, &v3, 10LL * 1000 * 1000);
    tap_ok(rc == RV_OK && sink_queue_dropped(q) == 1 && released_count == 1 && released[0] == 2,
           "push_wait: with nobody popping it drops the oldest once the wait is over");
    sink_queue_destroy(q);
}

int main(void)
{
    tap_plan(6 + 3 + 4 + 1 + 2);
    test_drop_oldest();
    test_block();
    test_close();
    test_close_wakes_popper();
    test_push_wait();
    return tap_done();
}
