/* fuzz.h — what every fuzz harness shares: the libFuzzer entry point and a
 * check that aborts (a crash the fuzzer records, with the input that made it).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
        do {                                                                   \
                if (!(x)) {                                                    \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
                                __LINE__, #x);                                 \
                        abort();                                               \
                }                                                              \
        } while (0)
