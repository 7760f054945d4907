/**
 * @file tests/integration/evidence_driver.c
 * @short Test driver: emits N evidence events through the real evidence
 *        client (host/evidence), then stops it and prints its counts.
 *
 *   evidence_driver ENDPOINT SPOOL_DIR CHANNEL SESSION COUNT INTERVAL_MS GRACE_MS
 *
 * Event i gets sequence s (the client's next number, read from its counts)
 * and carries it as block_id "B-<s>", so the server side can check each
 * record's payload against its sequence. Kinds cycle through all five.
 * Prints "emitted=E dropped=D" on stdout (what Core acked is in the spool's
 * .ack file); exit 0 unless start fails.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evidence/evidence_client.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void fill(evidence_event *ev, uint64_t seq)
{
    static const evidence_kind kinds[] = {EVIDENCE_BLOCK_START, EVIDENCE_SEGMENT_START,
                                          EVIDENCE_SEGMENT_END, EVIDENCE_BLOCK_FENCE,
                                          EVIDENCE_CHANNEL_TERMINATED};
    memset(ev, 0, sizeof(*ev));
    ev->kind = kinds[(seq - 1) % 5];
    snprintf(ev->block_id, sizeof(ev->block_id), "B-%" PRIu64, seq);
    snprintf(ev->event_id, sizeof(ev->event_id), "EV-%" PRIu64, seq);
    snprintf(ev->segment_type_name, sizeof(ev->segment_type_name), "content");
    snprintf(ev->asset_uri, sizeof(ev->asset_uri), "/media/asset-%" PRIu64 ".mp4", seq);
    snprintf(ev->status, sizeof(ev->status), "AIRED");
    snprintf(ev->reason, sizeof(ev->reason), "R-%" PRIu64, seq);
    ev->segment_index = (int32_t)(seq % 7);
    ev->actual_start_utc_ms = 1700000000000 + (int64_t)seq * 1000;
    ev->actual_end_utc_ms = ev->actual_start_utc_ms + 1001;
    ev->asset_start_frame = 0;
    ev->asset_end_frame = 29;
    ev->swap_tick = seq * 30;
    ev->fence_tick = seq * 30 + 30;
    ev->total_frames_emitted = 30;
    ev->primed_success = 1;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: %s ENDPOINT SPOOL_DIR CHANNEL SESSION COUNT INTERVAL_MS GRACE_MS\n",
                argv[0]);
        return 2;
    }
    evidence_client_config cfg = {.endpoint = argv[1], .spool_dir = argv[2],
                                  .channel_id = argv[3], .playout_session_id = argv[4]};
    long count = atol(argv[5]);
    long interval = atol(argv[6]);
    int grace = atoi(argv[7]);
    char err[256] = "";
    evidence_client *ec = evidence_client_start(&cfg, err, sizeof(err));
    if (!ec) {
        printf("start failed: %s\n", err);
        return 1;
    }
    for (long i = 0; i < count; i++) {
        uint64_t emitted = 0;
        evidence_event ev;
        evidence_client_counts(ec, &emitted, NULL, NULL);
        fill(&ev, emitted + 1);
        evidence_client_emit(ec, &ev);
        if (interval > 0)
            sleep_ms(interval);
    }
    uint64_t emitted = 0;
    uint64_t dropped = 0;
    evidence_client_counts(ec, &emitted, NULL, &dropped);
    /* acked is read after the drain: stop reports it in the log; the spool's
     * .ack file holds it for the test. */
    evidence_client_stop(ec, grace);
    printf("emitted=%" PRIu64 " dropped=%" PRIu64 "\n", emitted, dropped);
    return 0;
}
