/*
 * Shared pieces of the "ram" section tests: a qtest-like machine (RAM
 * blocks and a fake accelerator whose dirty log the test fills in), the
 * migration options the section reads, and the section's handlers as
 * ram_mig_init() registers them in the real registry.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_UNIT_MIGRATION_RAM_TEST_H
#define TESTS_UNIT_MIGRATION_RAM_TEST_H

#include <stdbool.h>
#include <stdint.h>

#include "migration/register.h"
#include "system/ram.h"

/* Set the options the section reads, through their QMP handlers. */
void ram_test_set_auto_converge(bool on);
void ram_test_set_throttle(uint8_t initial, uint8_t increment);

/* Register the fake accelerator and take the BQL (once, from main()). */
void ram_test_init(void);
/* Select the fake accelerator and forget the previous log. */
void ram_test_accel_setup(void);
/* Remove every block, stop the dirty log. */
void ram_test_teardown(void);
/* Pretend the guest wrote @page of @block: only the log sees it. */
void ram_test_guest_write(RAMBlock *block, uint64_t page, uint8_t byte);
/*
 * Bytes of @block's memory that are mapped (resident), a page at a time:
 * for blocks under 2 MiB, which never get a huge page.
 */
uint64_t ram_test_resident_bytes(RAMBlock *block);
/* How many syncs the fake accelerator served. */
unsigned ram_test_accel_syncs(void);
/* vCPU kicks the fake accelerator received (BQL). */
extern unsigned ram_test_kicks;

/* The "ram" section's handlers (ram_mig_init() on first use). */
const SaveVMHandlers *ram_test_handlers(void);
void *ram_test_opaque(void);

#endif /* TESTS_UNIT_MIGRATION_RAM_TEST_H */
