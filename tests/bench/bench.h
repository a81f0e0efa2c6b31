/*
 * Shared pieces of the benchmarks: setup, skipping and reporting.
 *
 * A benchmark prints one line per figure, "NAME: VALUE UNIT (details)",
 * and exits 77 (meson's "skipped") when the host cannot run it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_BENCH_BENCH_H
#define TESTS_BENCH_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "accel-test.h"
#include "qmp-test.h"

#define BENCH_SKIP 77
#define BENCH_MIB ((uint64_t)1024 * 1024)

/*
 * The accelerators that run guest code here, kvm first where usable
 * (tests/lib/accel-test.h, COLO_TEST_ACCELS narrows them); returns how
 * many and fills @names.  The guest benchmarks measure under each.
 */
unsigned bench_accels(const char *names[ACCEL_TEST_MAX]);
/* Report a failed step and exit with status 1. */
void G_GNUC_NORETURN G_GNUC_PRINTF(1, 2) bench_fail(const char *fmt, ...);
/*
 * Start colo-vm with the printf-formatted arguments, "@GUEST@" standing
 * for the guest directory (COLO_GUEST_DIR); exits on failure.
 */
QmpTestProc *bench_start(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Seconds of each measured interval: COLO_BENCH_SECONDS, default 10. */
double bench_seconds(void);
/* Monotonic time in seconds. */
double bench_now(void);
/* Sort @n values in place, smallest first. */
void bench_sort(double *v, unsigned n);
/* The median of @n > 0 values (the upper middle one when @n is even). */
double bench_median(const double *v, unsigned n);
/* kB of a /proc/PID/status line ("VmRSS", "RssAnon", ...), or 0. */
uint64_t bench_status_kib(int pid, const char *key);

#endif /* TESTS_BENCH_BENCH_H */
