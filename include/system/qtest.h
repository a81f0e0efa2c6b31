/*
 * qtest: an accelerator that runs no guest code, and a line protocol
 * that lets a test read and write guest RAM and device ports directly.
 *
 * "-accel qtest" selects the accelerator: RAM blocks exist, vCPUs exist
 * only as saved state, run states behave as under KVM.  "-qtest SPEC"
 * opens the protocol on a chardev (any legacy spec, usually
 * "unix:PATH,server=on,wait=off"); it works with either accelerator.
 * docs/qtest.md describes the protocol.
 *
 * Everything here runs in the main loop thread with the BQL held.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_QTEST_H
#define SYSTEM_QTEST_H

#include <stdbool.h>

#include "qapi/error.h"

/* Most bytes one read, write, b64read or b64write may move. */
#define QTEST_MAX_ACCESS (64 * 1024 * 1024)
/*
 * Longest request line accepted (room for a "write" of QTEST_MAX_ACCESS
 * bytes in hex); longer lines are answered with FAIL.
 */
#define QTEST_MAX_LINE (2 * QTEST_MAX_ACCESS + 64)
/* Most page indices one dirty_pages reply lists (the count is exact). */
#define QTEST_MAX_DIRTY_LISTED 4096

/* True when the current accelerator is qtest. */
bool qtest_enabled(void);

/*
 * Serve the protocol on the chardev @spec names ("-qtest SPEC").  May
 * be called once; the chardev is registered with the id "qtest".
 */
bool qtest_server_init(const char *spec, Error **errp);
/* Detach from the chardev (which chardev_cleanup_all() closes). */
void qtest_server_cleanup(void);

#endif /* SYSTEM_QTEST_H */
