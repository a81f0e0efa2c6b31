/*
 * Shared pieces of the benchmarks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "kvm-test.h"

unsigned bench_accels(const char *names[ACCEL_TEST_MAX])
{
    unsigned n = accel_test_list(names);

    if (!kvm_test_usable()) {
        printf("(kvm figures skipped: needs %s)\n", kvm_test_unmet());
    }
    return n;
}

void bench_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("benchmark failed: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

QmpTestProc *bench_start(const char *fmt, ...)
{
    const char *dir = g_getenv("COLO_GUEST_DIR");
    g_autofree char *args = NULL;
    g_autofree char *expanded = NULL;
    g_auto(GStrv) parts = NULL;
    QmpTestProc *vm;
    va_list ap;

    if (!dir) {
        bench_fail("COLO_GUEST_DIR is not set");
    }
    va_start(ap, fmt);
    args = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    parts = g_strsplit(args, "@GUEST@", -1);
    expanded = g_strjoinv(dir, parts);
    vm = qmptest_start(expanded, QMPTEST_DEFAULT);
    if (!vm) {
        bench_fail("cannot start colo-vm %s", expanded);
    }
    return vm;
}

double bench_seconds(void)
{
    const char *s = g_getenv("COLO_BENCH_SECONDS");
    double v = s ? g_ascii_strtod(s, NULL) : 0;

    return v > 0 ? v : 10;
}

double bench_now(void)
{
    return g_get_monotonic_time() / 1e6;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

void bench_sort(double *v, unsigned n)
{
    qsort(v, n, sizeof(*v), bench_cmp_double);
}

double bench_median(const double *v, unsigned n)
{
    g_autofree double *s = g_memdup2(v, n * sizeof(*v));

    bench_sort(s, n);
    return s[n / 2];
}

uint64_t bench_status_kib(int pid, const char *key)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
    g_autofree char *text = NULL;
    g_autofree char *needle = g_strdup_printf("\n%s:", key);
    const char *line;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        bench_fail("cannot read %s", path);
    }
    line = strstr(text, needle);
    return line ? g_ascii_strtoull(line + strlen(needle), NULL, 10) : 0;
}
