/**
 * @file tests/unit/test_ring.c
 * @short Frame ring: order, full and empty, wrap-around, peek, a two-thread
 *        stress of one million entries, waits, timeouts and wake.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <retrovue/error.h>

#include "core/ring.h"
#include "tap.h"

typedef struct entry {
    uint64_t seq;
    uint64_t check;
    char pad[48];
} entry;

enum { STRESS_COUNT = 1000000 };

static void test_basic(void)
{
    ring *r = ring_create(4, sizeof(entry));
    entry e = {0};
    entry out;
    tap_ok(r != NULL && ring_capacity(r) == 4 && ring_count(r) == 0, "ring of 4 created empty");
    tap_ok(ring_pop(r, &out) == RV_EAGAIN && ring_peek(r) == NULL, "pop and peek on empty");
    int ok = 1;
    for (uint64_t i = 0; i < 4; i++) {
        e.seq = i;
        ok &= ring_push(r, &e) == RV_OK;
    }
    tap_ok(ok && ring_count(r) == 4, "four pushes fill it");
    e.seq = 99;
    tap_ok(ring_push(r, &e) == RV_EAGAIN && ring_count(r) == 4, "push on full: RV_EAGAIN");
    const entry *p = ring_peek(r);
    tap_ok(p != NULL && p->seq == 0 && ring_count(r) == 4, "peek shows the oldest in place");
    ok = 1;
    for (uint64_t i = 0; i < 4; i++)
        ok &= ring_pop(r, &out) == RV_OK && out.seq == i;
    tap_ok(ok && ring_count(r) == 0, "pops come out in order");

    /* Wrap around many times with a varying fill level. */
    uint64_t next_in = 0;
    uint64_t next_out = 0;
    ok = 1;
    for (int round = 0; round < 1000; round++) {
        int pushes = round % 5;
        for (int i = 0; i < pushes; i++) {
            e.seq = next_in;
            if (ring_push(r, &e) == RV_OK)
                next_in++;
        }
        int pops = (round * 7) % 4;
        for (int i = 0; i < pops; i++) {
            if (ring_pop(r, &out) == RV_OK)
                ok &= out.seq == next_out++;
        }
        ok &= ring_count(r) == next_in - next_out && ring_count(r) <= 4;
    }
    tap_ok(ok && next_in > 1000, "wrap-around keeps order and count (%llu entries)",
           (unsigned long long)next_in);
    ring_destroy(r);
    tap_ok(ring_create(0, 8) == NULL && ring_create(8, 0) == NULL, "zero capacity or size refused");
}

static void *stress_producer(void *arg)
{
    ring *r = arg;
    entry e;
    memset(&e, 0, sizeof(e));
    for (uint64_t i = 0; i < STRESS_COUNT; i++) {
        e.seq = i;
        e.check = i * 2654435761u;
        while (ring_push(r, &e) != RV_OK)
            ring_wait_space(r, 100000000);
    }
    return NULL;
}

static void test_stress(void)
{
    ring *r = ring_create(16, sizeof(entry));
    pthread_t th;
    entry out;
    uint64_t expect = 0;
    int ok = 1;
    pthread_create(&th, NULL, stress_producer, r);
    while (expect < STRESS_COUNT) {
        if (ring_pop(r, &out) != RV_OK) {
            ring_wait_data(r, 100000000);
            continue;
        }
        if (out.seq != expect || out.check != expect * 2654435761u) {
            ok = 0;
            tap_diag("expected %llu got %llu", (unsigned long long)expect,
                     (unsigned long long)out.seq);
            break;
        }
        expect++;
    }
    pthread_join(th, NULL);
    tap_ok(ok && expect == STRESS_COUNT && ring_count(r) == 0,
           "two threads: 1e6 entries, none lost, none reordered");
    ring_destroy(r);
}

typedef struct waiter {
    ring *r;
    int space;
    int rc;
} waiter;

static void *wait_thread(void *arg)
{
    waiter *w = arg;
    w->rc = w->space ? ring_wait_space(w->r, -1) : ring_wait_data(w->r, -1);
    return NULL;
}

static void test_waits(void)
{
    ring *r = ring_create(2, sizeof(entry));
    entry e = {0};
    entry out;
    tap_ok(ring_wait_space(r, 0) == RV_OK, "wait_space on an empty ring returns at once");
    tap_ok(ring_wait_data(r, 1000000) == RV_ETIMEDOUT, "wait_data on empty times out");

    /* A consumer blocked without a limit is woken by a push. */
    waiter w = {.r = r, .space = 0, .rc = 99};
    pthread_t th;
    pthread_create(&th, NULL, wait_thread, &w);
    ring_push(r, &e);
    pthread_join(th, NULL);
    tap_ok(w.rc == RV_OK, "a push wakes a waiting consumer");

    ring_push(r, &e);
    tap_ok(ring_wait_space(r, 1000000) == RV_ETIMEDOUT, "wait_space on full times out");
    w = (waiter){.r = r, .space = 1, .rc = 99};
    pthread_create(&th, NULL, wait_thread, &w);
    ring_pop(r, &out);
    pthread_join(th, NULL);
    tap_ok(w.rc == RV_OK, "a pop wakes a waiting producer");

    ring_push(r, &e); /* full again */
    w = (waiter){.r = r, .space = 1, .rc = 99};
    pthread_create(&th, NULL, wait_thread, &w);
    ring_wake(r);
    pthread_join(th, NULL);
    tap_ok(w.rc == RV_ESTATE, "ring_wake releases a blocked producer with RV_ESTATE");
    tap_ok(ring_wait_data(r, -1) == RV_ESTATE && ring_wait_space(r, -1) == RV_ESTATE,
           "after wake every wait returns RV_ESTATE at once");
    ring_reset_wake(r);
    tap_ok(ring_wait_data(r, 0) == RV_OK && ring_wait_space(r, 1000000) == RV_ETIMEDOUT,
           "reset_wake restores normal waits");
    while (ring_pop(r, &out) == RV_OK) {
    }
    ring_destroy(r);
}

int main(void)
{
    tap_plan(8 + 1 + 8);
    test_basic();
    test_stress();
    test_waits();
    return tap_done();
}
