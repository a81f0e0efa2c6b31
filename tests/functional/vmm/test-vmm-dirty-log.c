/*
 * Dirty logging of guest writes seen from outside, under each
 * accelerator that runs guest code (KVM's dirty log, TCG's write hook):
 * the dirtier guest writes every page above 1 MiB once per pass; after
 * a whole pass with logging on, every one of those pages must be
 * reported dirty, and while the VM is paused nothing may be.  Uses the
 * qtest protocol's dirty_log / dirty_pages / dirty_clear commands,
 * which work beside any accelerator.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <glib.h>

#include "accel-test.h"
#include "qmp-test.h"
#include "qtest-client.h"
#include "test-require.h"

#define MIB ((uint64_t)1024 * 1024)
#define RAM_SIZE (32 * MIB)
#define PAGE_SIZE 4096
/* The dirtier's span: [1 MiB, end of RAM); its first page counts passes. */
#define DIRTY_START (1 * MIB)
#define DIRTY_PAGES ((RAM_SIZE - DIRTY_START) / PAGE_SIZE)
#define POLL_US 1000

typedef struct DirtyVm {
    QmpTestProc *proc;
    QmpTestClient *qmp;
    QtestClient *qt;
} DirtyVm;

static void dirty_vm_start(DirtyVm *vm, const char *accel, unsigned int smp)
{
    const char *dir = g_getenv("COLO_GUEST_DIR");
    g_autofree char *guest = NULL;
    g_autofree char *args = NULL;

    assert_non_null(dir);
    guest = g_build_filename(dir, "dirtier.elf", NULL);
    args = g_strdup_printf("-accel %s -m %uM -smp %u -kernel %s "
                           "-serial null -qtest unix:@TMPDIR@/"
                           QTEST_SOCKET_NAME ",server=on,wait=off",
                           accel, (unsigned)(RAM_SIZE / MIB), smp, guest);
    vm->proc = qmptest_start(args, QMPTEST_DEFAULT);
    assert_non_null(vm->proc);
    vm->qmp = qmptest_client(vm->proc);
    vm->qt = qtest_connect_proc(vm->proc);
    assert_non_null(vm->qt);
}

static void dirty_vm_stop(DirtyVm *vm)
{
    qtest_client_free(vm->qt);
    assert_int_equal(qmptest_quit(vm->proc, QMPTEST_TIMEOUT_MS), 0);
    qmptest_free(vm->proc);
}

static void qmp_run_state(DirtyVm *vm, const char *cmd, const char *event)
{
    qmptest_auto_json json_t *r = qmptest_cmd(vm->qmp,
                                              "{'execute': %s}", cmd);
    qmptest_auto_json json_t *ev = NULL;

    assert_non_null(qmptest_return(r));
    ev = qmptest_wait_event(vm->qmp, event, QMPTEST_TIMEOUT_MS);
    assert_non_null(ev);
}

static uint8_t pass_counter(DirtyVm *vm)
{
    uint8_t v;

    assert_true(qtest_readb(vm->qt, DIRTY_START, &v));
    return v;
}

/*
 * Resume the guest until every vCPU has done one whole pass, all of it
 * after this call, then pause again.  The counter page is the first
 * page of vCPU 0's part, bumped as vCPU 0 begins a pass.  With one vCPU,
 * two bumps frame a whole pass.  With several, they meet at a barrier
 * between passes, but one released by the barrier may write part (or
 * all) of its next pass before the stop that preceded this call, while
 * vCPU 0 has not run yet: only the pass after that one is sure to have
 * begun, on every vCPU, after this call.  vCPU 0 beginning the pass
 * after it (a third bump) means every vCPU has finished it.
 */
static void run_one_full_pass(DirtyVm *vm)
{
    uint8_t start = pass_counter(vm);
    int64_t deadline = qmptest_deadline(QMPTEST_TIMEOUT_MS);

    qmp_run_state(vm, "'cont'", "RESUME");
    while ((uint8_t)(pass_counter(vm) - start) < 3) {
        if (g_get_monotonic_time() > deadline) {
            fail_msg("the guest did not complete a pass");
        }
        g_usleep(POLL_US);
    }
    qmp_run_state(vm, "'stop'", "STOP");
}

static uint64_t dirty_count(DirtyVm *vm, uint64_t addr, uint64_t len)
{
    uint64_t count = ~0ULL;

    assert_true(qtest_dirty_log_sync(vm->qt));
    assert_true(qtest_dirty_pages(vm->qt, addr, len, &count, NULL));
    return count;
}

static void check_dirty_log_exact(const char *accel, unsigned int smp)
{
    DirtyVm vm;

    dirty_vm_start(&vm, accel, smp);
    /* Let it boot, then work from a paused VM. */
    while (pass_counter(&vm) == 0) {
        g_usleep(POLL_US);
    }
    qmp_run_state(&vm, "'stop'", "STOP");
    assert_true(qtest_dirty_log_start(vm.qt));
    assert_true(qtest_dirty_clear(vm.qt, 0, RAM_SIZE));

    for (int round = 0; round < 2; round++) {
        /* Paused: whatever was logged was taken by the last sync. */
        assert_int_equal(dirty_count(&vm, 0, RAM_SIZE), 0);

        run_one_full_pass(&vm);
        assert_int_equal(dirty_count(&vm, DIRTY_START,
                                     RAM_SIZE - DIRTY_START), DIRTY_PAGES);
        /* Its stack was written too. */
        assert_true(dirty_count(&vm, 0, DIRTY_START) > 0);
        assert_true(qtest_dirty_clear(vm.qt, 0, RAM_SIZE));
    }

    /* With logging off a sync finds nothing new. */
    assert_true(qtest_dirty_log_stop(vm.qt));
    run_one_full_pass(&vm);
    assert_int_equal(dirty_count(&vm, 0, RAM_SIZE), 0);
    dirty_vm_stop(&vm);
}

static void test_dirty_log_exact(void **state)
{
    check_dirty_log_exact(accel_test_accel(state), 1);
}

static void test_dirty_log_exact_smp(void **state)
{
    check_dirty_log_exact(accel_test_accel(state), 3);
}

/* Logging switched on while the guest runs catches the pages it writes. */
static void test_dirty_log_start_running(void **state)
{
    const char *accel = accel_test_accel(state);
    DirtyVm vm;
    uint64_t count;

    dirty_vm_start(&vm, accel, 1);
    while (pass_counter(&vm) == 0) {
        g_usleep(POLL_US);
    }
    assert_true(qtest_dirty_log_start(vm.qt));
    qmp_run_state(&vm, "'stop'", "STOP");
    assert_true(qtest_dirty_log_sync(vm.qt));
    run_one_full_pass(&vm);
    count = dirty_count(&vm, DIRTY_START, RAM_SIZE - DIRTY_START);
    assert_int_equal(count, DIRTY_PAGES);
    assert_true(qtest_dirty_log_stop(vm.qt));
    dirty_vm_stop(&vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dirty_log_exact),
        cmocka_unit_test(test_dirty_log_exact_smp),
        cmocka_unit_test(test_dirty_log_start_running),
    };

    return accel_test_run_group("vmm-dirty-log", tests, G_N_ELEMENTS(tests),
                                NULL, NULL);
}
