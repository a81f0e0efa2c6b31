/*
 * How fast the dirtier guest dirties pages under KVM: it prints 'B'
 * after every pass over [1 MiB, end of RAM), so passes counted over a
 * measured interval, times the pages of a pass, give pages per second.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>

#include "bench.h"
#include "serial-test.h"

#define RAM_SIZE (256 * BENCH_MIB)
#define PAGES_PER_PASS ((RAM_SIZE - BENCH_MIB) / 4096)

static void measure(unsigned smp)
{
    g_autoptr(QmpTestProc) vm = NULL;
    unsigned b0, b;
    double t0, t;

    vm = bench_start("-accel kvm -m %" G_GUINT64_FORMAT "M -smp %u "
                     "-kernel @GUEST@/dirtier.elf -serial stdio",
                     RAM_SIZE / BENCH_MIB, smp);
    /* Measure from the end of a pass to the end of a later one. */
    if (!serial_wait_char_count(vm, 'B', 1, QMPTEST_TIMEOUT_MS)) {
        bench_fail("the dirtier did not complete a pass");
    }
    b0 = serial_count_char(vm, 'B');
    t0 = bench_now();
    do {
        if (!serial_wait_more_chars(vm, 'B', 1, QMPTEST_TIMEOUT_MS)) {
            bench_fail("the dirtier stopped making progress");
        }
        b = serial_count_char(vm, 'B');
        t = bench_now();
    } while (t - t0 < bench_seconds());

    printf("dirtier pages/s, kvm, 256 MiB, %u vCPU%s: %.0f pages/s "
           "(%u passes of %" G_GUINT64_FORMAT " pages in %.2f s)\n",
           smp, smp > 1 ? "s" : "",
           (double)(b - b0) * PAGES_PER_PASS / (t - t0),
           b - b0, PAGES_PER_PASS, t - t0);
    if (qmptest_quit(vm, QMPTEST_TIMEOUT_MS) != 0) {
        bench_fail("colo-vm did not quit cleanly");
    }
}

int main(void)
{
    bench_require_kvm();
    measure(1);
    measure(2);
    return 0;
}
