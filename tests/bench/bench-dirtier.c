/*
 * How fast the dirtier guest dirties pages under each accelerator that
 * runs guest code here: it prints 'B' after every pass over [1 MiB, end
 * of RAM), so passes counted over a measured interval, times the pages
 * of a pass, give pages per second, and per CPU second of colo-vm (what
 * a shared host's load does not change).  Also with dirty logging on
 * and synced every 100 ms (as a migration does between rounds), for the
 * slowdown logging causes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <unistd.h>

#include "bench.h"
#include "qtest-client.h"
#include "serial-test.h"

#define RAM_SIZE (256 * BENCH_MIB)
#define PAGES_PER_PASS ((RAM_SIZE - BENCH_MIB) / 4096)
#define SYNC_PERIOD_MS 100
#define SYNC_PERIOD_S (SYNC_PERIOD_MS / 1000.0)

/*
 * CPU seconds @pid has used (user and system, all threads): pages per
 * CPU second do not move with the load of a shared host as pages per
 * second of wall time do.
 */
static double proc_cpu_seconds(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    unsigned long utime, stime;
    const char *p;

    if (!g_file_get_contents(path, &text, NULL, NULL) ||
        !(p = strrchr(text, ')')) ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &utime, &stime) != 2) {
        bench_fail("cannot read %s", path);
    }
    return (double)(utime + stime) / sysconf(_SC_CLK_TCK);
}

/*
 * Pages per second over bench_seconds(), from the end of a pass; with
 * @qt, a dirty-log sync and the claiming of its pages every 100 ms, as
 * a migration makes them.
 */
static void measure_rate(QmpTestProc *vm, QtestClient *qt,
                         const char *what)
{
    g_autofree char *syncs_text = NULL;
    unsigned b0, b, syncs = 0;
    double t0, t, progress, next_sync, cpu0, cpu;

    if (!serial_wait_char_count(vm, 'B', serial_count_char(vm, 'B') + 1,
                                QMPTEST_TIMEOUT_MS)) {
        bench_fail("the dirtier did not complete a pass");
    }
    b = b0 = serial_count_char(vm, 'B');
    cpu0 = proc_cpu_seconds(qmptest_pid(vm));
    t = progress = t0 = bench_now();
    next_sync = t0 + SYNC_PERIOD_S;
    while (t - t0 < bench_seconds()) {
        if (qt && t >= next_sync) {
            if (!qtest_dirty_log_sync(qt) ||
                !qtest_dirty_clear(qt, 0, RAM_SIZE)) {
                bench_fail("dirty_log sync");
            }
            syncs++;
            next_sync += SYNC_PERIOD_S;
        }
        serial_wait_more_chars(vm, 'B', 1, qt ? SYNC_PERIOD_MS
                                              : QMPTEST_TIMEOUT_MS);
        t = bench_now();
        if (serial_count_char(vm, 'B') != b) {
            b = serial_count_char(vm, 'B');
            progress = t;
        } else if (t - progress > QMPTEST_TIMEOUT_MS / 1000) {
            bench_fail("the dirtier stopped making progress");
        }
    }
    cpu = proc_cpu_seconds(qmptest_pid(vm)) - cpu0;
    syncs_text = qt ? g_strdup_printf(", %u syncs", syncs) : g_strdup("");
    printf("dirtier pages/s, %s: %.0f pages/s (%u passes of %"
           G_GUINT64_FORMAT " pages in %.2f s%s; %.0f pages per CPU second "
           "of colo-vm)\n", what,
           (double)(b - b0) * PAGES_PER_PASS / (t - t0), b - b0,
           PAGES_PER_PASS, t - t0, syncs_text,
           cpu > 0 ? (double)(b - b0) * PAGES_PER_PASS / cpu : 0);
}

static void measure(const char *accel, unsigned smp, bool logging)
{
    g_autoptr(QmpTestProc) vm = NULL;
    g_autoptr(QtestClient) qt = NULL;
    g_autofree char *what = NULL;

    vm = bench_start("-accel %s -m %" G_GUINT64_FORMAT "M -smp %u "
                     "-kernel @GUEST@/dirtier.elf -serial stdio "
                     "-qtest unix:@TMPDIR@/" QTEST_SOCKET_NAME
                     ",server=on,wait=off", accel,
                     RAM_SIZE / BENCH_MIB, smp);
    what = g_strdup_printf("%s, 256 MiB, %u vCPU%s%s", accel, smp,
                           smp > 1 ? "s" : "",
                           logging ? ", dirty logging synced every 100 ms"
                                   : "");
    if (logging) {
        qt = qtest_connect_proc(vm);
        if (!qt || !qtest_dirty_log_start(qt)) {
            bench_fail("starting dirty logging");
        }
    }
    measure_rate(vm, qt, what);
    g_clear_pointer(&qt, qtest_client_free);
    if (qmptest_quit(vm, QMPTEST_TIMEOUT_MS) != 0) {
        bench_fail("colo-vm did not quit cleanly");
    }
}

int main(void)
{
    const char *accels[ACCEL_TEST_MAX];
    unsigned n = bench_accels(accels);

    for (unsigned i = 0; i < n; i++) {
        measure(accels[i], 1, false);
        measure(accels[i], 1, true);
        measure(accels[i], 2, false);
        measure(accels[i], 4, false);
    }
    return 0;
}
