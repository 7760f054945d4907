/**
 * @file tests/fuzz/fuzz_config.c
 * @short libFuzzer harness: any text as the engine's libconfig file through
 *        the public config_load_text (host/config), then config_free.
 *
 * Owns nothing across inputs. Paths in the text resolve against the working
 * folder; the harness never writes anywhere.
 */
#include "fuzz_common.h"

#include "config/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    char err[512];
    config *cfg = NULL;
    if (config_load_text("fuzz.conf", text, &cfg, err, sizeof(err)) == 0)
        config_free(cfg);
    free(text);
    return 0;
}
