/*
 * The loadvm fuzz target: qemu_loadvm_state() on arbitrary bytes, with
 * a small machine (two RAM blocks and the "ram" section, a live section
 * and two devices of the test fixture) as the destination.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_FUZZ_LOADVM_H
#define TESTS_FUZZ_LOADVM_H

#include <stddef.h>
#include <stdint.h>

#include "qapi/error.h"

/* libFuzzer's entry point: never fails, only a crash is a finding. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Load @size bytes into the machine; qemu_loadvm_state()'s result. */
int fuzz_loadvm_run(const uint8_t *data, size_t size, Error **errp);

/*
 * A valid stream of the machine (RAM with a pattern, every section
 * kind, commands, description); g_free() it.
 */
uint8_t *fuzz_loadvm_seed(size_t *len);

/* Release the machine (at exit, so leak checkers see a clean heap). */
void fuzz_loadvm_cleanup(void);

#endif /* TESTS_FUZZ_LOADVM_H */
