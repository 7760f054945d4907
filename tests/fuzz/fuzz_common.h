/**
 * @file tests/fuzz/fuzz_common.h
 * @short What every libFuzzer harness in tests/fuzz shares: the entry
 *        points' prototypes, the input as a C string, a quiet log.
 *
 * Header only; owns nothing.
 */
#ifndef RV_TESTS_FUZZ_COMMON_H
#define RV_TESTS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/** @p data (@p size bytes, borrowed) as a NUL-terminated copy the caller
 *  frees. An embedded NUL ends the text early, as it would for a caller
 *  holding a C string. NULL when out of memory. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return NULL;
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/** Errors only: the warnings a refused input logs would dominate the run. */
static inline void fuzz_quiet(void)
{
    log_set_level(RV_LOG_ERROR);
}

#endif
