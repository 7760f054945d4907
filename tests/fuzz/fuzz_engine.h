/**
 * @file tests/fuzz/fuzz_engine.h
 * @short The grpc harness's stand-in engine (fuzz_engine.c).
 */
#ifndef RV_TESTS_FUZZ_ENGINE_H
#define RV_TESTS_FUZZ_ENGINE_H

#include "engine/engine.h"

/** The one stand-in engine; plan handles name files in @p plans_dir
 *  (borrowed, must outlive the program). */
engine *fuzz_engine_get(const char *plans_dir);

#endif
