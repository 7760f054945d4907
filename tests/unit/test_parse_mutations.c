/**
 * @file tests/unit/test_parse_mutations.c
 * @short Bad input never crashes or leaks: thousands of deterministic
 *        mutations (flipped bytes, cut text, duplicated and deleted spans) of
 *        a valid plan and a valid engine config go through the real parsers.
 *        Each must either parse or be refused with a message; run under ASan
 *        and UBSan this also proves no read past a buffer and no leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "plan/plan.h"
#include "tap.h"

static const char plan_text[] =
    "loop = true;\n"
    "blocks = (\n"
    "  { id = \"b1\"; start_utc_ms = 1763712000000; end_utc_ms = 1763712010000;\n"
    "    segments = (\n"
    "      { type = \"CONTENT\"; asset_uri = \"file:/a.mp4\"; asset_start_offset_ms = 5;\n"
    "        duration_ms = 6000; event_id = \"E1\"; transition_out = \"FADE\";\n"
    "        transition_out_ms = 500; gain_db = -1.5; },\n"
    "      { type = \"PAD\"; duration_ms = 4000; }\n"
    "    ); },\n"
    "  { id = \"b2\"; start_utc_ms = 1763712010000; end_utc_ms = 1763712012000;\n"
    "    segments = ( { type = \"FILLER\"; asset_uri = \"slate:bars\"; duration_ms = 2000; } ); }\n"
    ");\n";

static const char config_text[] =
    "engine: { module_dir = \"mods\"; plans_dir = \"plans\"; log_level = \"warn\";\n"
    "  control_listen = [ \"127.0.0.1:0\", \"unix:x.sock\" ]; metrics_listen = \"127.0.0.1:0\"; };\n"
    "profiles: { hd: { width = 1280; height = 720; frame_rate = \"30000/1001\";\n"
    "  audio_rate = 48000; audio_channels = 2; }; };\n"
    "channels: ( { id = 1; name = \"One\"; profile = \"hd\"; autostart_plan = \"demo\";\n"
    "  producers = ( { module = \"slate\"; options = { tone_hz = 1000; }; } );\n"
    "  sinks = ( { module = \"framelog\"; options = { mode = \"ticks\"; }; } ); } );\n"
    "channel_defaults: { profile = \"hd\"; };\n";

/** xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/** A mutated copy of @p text (caller frees). */
static char *mutate(const char *text, uint64_t *s)
{
    static const char alphabet[] = "{}();=\",.:-0123456789L[]/ \n\\#abcxyz\x01\xff";
    size_t len = strlen(text);
    char *out = malloc(len * 2 + 64);
    memcpy(out, text, len + 1);
    int edits = 1 + (int)(rng_next(s) % 4);
    for (int e = 0; e < edits && len > 0; e++) {
        size_t at = rng_next(s) % len;
        switch (rng_next(s) % 4) {
        case 0: /* replace one byte */
            out[at] = alphabet[rng_next(s) % (sizeof(alphabet) - 1)];
            break;
        case 1: /* cut the rest */
            out[at] = '\0';
            len = at;
            break;
        case 2: { /* delete a span */
            size_t n = 1 + rng_next(s) % 16;
            if (at + n > len)
                n = len - at;
            memmove(out + at, out + at + n, len - at - n + 1);
            len -= n;
            break;
        }
        default: { /* duplicate a span */
            size_t n = 1 + rng_next(s) % 32;
            if (at + n > len)
                n = len - at;
            memmove(out + at + n, out + at, len - at + 1);
            len += n;
            break;
        }
        }
    }
    return out;
}

int main(void)
{
    tap_plan(4);
    uint64_t seed = 0x5eed5eed1234ULL;
    char err[1024];
    int parsed = 0;
    int refused = 0;
    int silent = 0;
    for (int i = 0; i < 4000; i++) {
        char *text = mutate(plan_text, &seed);
        err[0] = '\0';
        plan *p = plan_parse_string(text, "fuzz", err, sizeof(err));
        if (p)
            parsed++;
        else if (err[0])
            refused++;
        else
            silent++;
        plan_unref(p);
        free(text);
    }
    tap_ok(parsed + refused == 4000, "4000 mutated plans: %d parsed, %d refused", parsed, refused);
    tap_ok(silent == 0, "every refused plan has a message (%d without)", silent);

    char dir[] = "/tmp/rv-mutate-XXXXXX";
    char path[256];
    tap_ok(mkdtemp(dir) != NULL, "scratch folder");
    snprintf(path, sizeof(path), "%s/engine.conf", dir);
    parsed = refused = silent = 0;
    for (int i = 0; i < 2000; i++) {
        char *text = mutate(config_text, &seed);
        FILE *f = fopen(path, "w");
        fputs(text, f);
        fclose(f);
        config *cfg = NULL;
        err[0] = '\0';
        if (config_load(path, &cfg, err, sizeof(err)) == RV_OK)
            parsed++;
        else if (err[0])
            refused++;
        else
            silent++;
        config_free(cfg);
        free(text);
    }
    unlink(path);
    rmdir(dir);
    tap_ok(parsed + refused == 2000 && silent == 0,
           "2000 mutated configs: %d parsed, %d refused with a message", parsed, refused);
    return tap_done();
}
