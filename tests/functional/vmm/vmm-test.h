/*
 * Shared pieces of the VMM functional tests: the accelerators they run
 * under (accel-test.h), finding the guest programs, and the run-state
 * steps every test takes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_FUNCTIONAL_VMM_TEST_H
#define TESTS_FUNCTIONAL_VMM_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "accel-test.h"
#include "qmp-test.h"
#include "test-require.h"

#define MIB ((uint64_t)1024 * 1024)

/* The first byte the dirtiers change; everything below is theirs. */
#define DIRTY_START (1 * MIB)
/* The boot-sector dirtier stops at 100 MiB, like QEMU's boot block. */
#define BOOTSECTOR_DIRTY_END (100 * MIB)

/* Exit status of colo-vm when exit.elf writes its value (0x2a). */
#define EXIT_GUEST_STATUS ((0x2a << 1) | 1)

/*
 * The path of guest program @name ("dirtier.elf", ...) in the build
 * tree, from the COLO_GUEST_DIR environment variable.
 */
char *vmm_guest_path(const char *name);

/*
 * Start colo-vm with the printf-formatted arguments; "@GUEST@" in them
 * stands for the guest directory.  Fails the test when it does not start.
 */
QmpTestProc *vmm_start(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* query-status: the "status" member (g_free() it); asserts the shape. */
char *vmm_query_status(QmpTestClient *c, bool *running);
/* Assert query-status reports @status and running == @running. */
void vmm_assert_status(QmpTestClient *c, const char *status, bool running);

/* stop, then the STOP event; cont, then the RESUME event. */
void vmm_stop(QmpTestClient *c);
void vmm_cont(QmpTestClient *c);

/*
 * Save @size bytes of guest RAM from address 0 with pmemsave into a
 * file of @proc's temporary directory; returns its path.
 */
char *vmm_pmemsave(QmpTestProc *proc, uint64_t size);

#endif /* TESTS_FUNCTIONAL_VMM_TEST_H */
