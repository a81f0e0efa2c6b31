/*
 * The cost of one dirty-log sync (merging the accelerator's log into
 * the RAM blocks' bitmaps) for 1 GiB of guest RAM:
 *   - under each accelerator that runs guest code here (KVM's dirty
 *     log, TCG's write-hook log), with the dirtier running and a whole
 *     pass between syncs (nearly every page dirty), with the dirtier
 *     running and syncs back to back (few pages dirty), and with the VM
 *     stopped (no page dirty);
 *   - under the qtest accelerator, where dirty pages are marked in
 *     software, with every page dirty and with none.
 * Syncs are requested through the qtest protocol's "dirty_log sync",
 * so each figure includes one round trip; the round trip of a trivial
 * request is measured too, so it can be told apart.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "qtest-client.h"
#include "serial-test.h"

#define RAM_SIZE (1024 * BENCH_MIB)
/* Even: the median is the mean of the middle two. */
#define ROUNDS 10

/* Seconds one "dirty_log sync" takes, round trip included. */
static double time_sync(QtestClient *qt)
{
    double t0 = bench_now();

    if (!qtest_dirty_log_sync(qt)) {
        bench_fail("dirty_log sync");
    }
    return bench_now() - t0;
}

/* Dirty pages of all RAM since the last clear, then mark them clean. */
static uint64_t take_dirty(QtestClient *qt)
{
    uint64_t count;

    if (!qtest_dirty_pages(qt, 0, RAM_SIZE, &count, NULL) ||
        !qtest_dirty_clear(qt, 0, RAM_SIZE)) {
        bench_fail("dirty_pages / dirty_clear");
    }
    return count;
}

/* The median resists the odd sync delayed by other work on the host. */
static void report(const char *what, double *times, uint64_t pages)
{
    double sum = 0;
    unsigned i;

    for (i = 0; i < ROUNDS; i++) {
        sum += times[i];
    }
    bench_sort(times, ROUNDS);
    printf("dirty-log sync, %s: %.3f ms/sync (median of %u; mean %.3f ms; "
           "%.0f dirty pages per sync)\n", what,
           (times[ROUNDS / 2 - 1] + times[ROUNDS / 2]) / 2 * 1e3, ROUNDS,
           sum / ROUNDS * 1e3, (double)pages / ROUNDS);
}

static void measure_round_trip(QtestClient *qt, const char *accel)
{
    double t0 = bench_now();
    uint8_t v;
    unsigned i;

    for (i = 0; i < 100; i++) {
        if (!qtest_readb(qt, 0, &v)) {
            bench_fail("readb");
        }
    }
    printf("qtest round trip (readb), %s: %.3f ms\n", accel,
           (bench_now() - t0) * 1e3 / 100);
}

static void measure_accel(const char *accel)
{
    g_autoptr(QmpTestProc) vm = NULL;
    g_autoptr(QtestClient) qt = NULL;
    qmptest_auto_json json_t *r = NULL;
    g_autofree char *what = NULL;
    double times[ROUNDS];
    uint64_t pages = 0;
    unsigned i;

    vm = bench_start("-accel %s -m 1G -kernel @GUEST@/dirtier.elf "
                     "-serial stdio -qtest unix:@TMPDIR@/"
                     QTEST_SOCKET_NAME ",server=on,wait=off", accel);
    qt = qtest_connect_proc(vm);
    if (!qt || !serial_wait_char_count(vm, 'A', 1, QMPTEST_TIMEOUT_MS) ||
        !qtest_dirty_log_start(qt)) {
        bench_fail("starting the dirtier with dirty logging");
    }
    measure_round_trip(qt, accel);

    /* A whole pass between syncs: every page of [1 MiB, 1 GiB) dirty. */
    time_sync(qt);
    take_dirty(qt);
    for (i = 0; i < ROUNDS; i++) {
        if (!serial_wait_more_chars(vm, 'B', 1, QMPTEST_TIMEOUT_MS)) {
            bench_fail("the dirtier stopped making progress");
        }
        times[i] = time_sync(qt);
        pages += take_dirty(qt);
    }
    what = g_strdup_printf("%s, 1 GiB, dirtier running, a pass between "
                           "syncs", accel);
    report(what, times, pages);

    /* Back to back: only what the guest wrote in one round or so. */
    pages = 0;
    for (i = 0; i < ROUNDS; i++) {
        times[i] = time_sync(qt);
        pages += take_dirty(qt);
    }
    g_free(what);
    what = g_strdup_printf("%s, 1 GiB, dirtier running, back-to-back "
                           "syncs", accel);
    report(what, times, pages);

    r = qmptest_cmd(qmptest_client(vm), "{'execute': 'stop'}");
    if (!qmptest_return(r)) {
        bench_fail("stop");
    }
    time_sync(qt);
    take_dirty(qt);
    pages = 0;
    for (i = 0; i < ROUNDS; i++) {
        times[i] = time_sync(qt);
        pages += take_dirty(qt);
    }
    g_free(what);
    what = g_strdup_printf("%s, 1 GiB, VM stopped", accel);
    report(what, times, pages);
    if (qmptest_quit(vm, QMPTEST_TIMEOUT_MS) != 0) {
        bench_fail("colo-vm did not quit cleanly");
    }
}

static void dirty_everything(QtestClient *qt)
{
    uint64_t addr;

    for (addr = 0; addr < RAM_SIZE; addr += QTEST_CLIENT_MAX_ACCESS) {
        if (!qtest_memset(qt, addr, 1, QTEST_CLIENT_MAX_ACCESS)) {
            bench_fail("memset");
        }
    }
}

static void measure_qtest(void)
{
    QmpTestProc *proc = NULL;
    g_autoptr(QtestClient) qt = qtest_start("-m 1G", &proc);
    g_autoptr(QmpTestProc) vm = proc;
    double times[ROUNDS];
    uint64_t pages = 0;
    unsigned i;

    if (!qt || !qtest_dirty_log_start(qt)) {
        bench_fail("starting colo-vm -accel qtest with dirty logging");
    }
    measure_round_trip(qt, "qtest");
    for (i = 0; i < ROUNDS; i++) {
        dirty_everything(qt);
        times[i] = time_sync(qt);
        pages += take_dirty(qt);
    }
    report("qtest, 1 GiB, every page dirty", times, pages);

    pages = 0;
    for (i = 0; i < ROUNDS; i++) {
        times[i] = time_sync(qt);
        pages += take_dirty(qt);
    }
    report("qtest, 1 GiB, no page dirty", times, pages);
    g_clear_pointer(&qt, qtest_client_free);
    if (qmptest_quit(vm, QMPTEST_TIMEOUT_MS) != 0) {
        bench_fail("colo-vm did not quit cleanly");
    }
}

int main(void)
{
    const char *accels[ACCEL_TEST_MAX];
    unsigned n = bench_accels(accels);

    measure_qtest();
    for (unsigned i = 0; i < n; i++) {
        measure_accel(accels[i]);
    }
    return 0;
}
