/*
 * The vCPU pause protocol with fake vCPU threads: each one "runs the
 * guest" by blocking until it is kicked, then parks in
 * cpu_wait_io_event() as a real accelerator's thread does.  Every wait
 * in this test is for an event, never for time.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "system-test.h"
#include "system/accel.h"
#include "system/cpus.h"
#include "system/runstate.h"
#include "util/bql.h"

typedef enum FakeAction {
    FAKE_NONE,
    FAKE_STOP_SELF,         /* vm_stop() from the vCPU thread */
    FAKE_INTERNAL_ERROR,    /* vm_internal_error() from the vCPU thread */
    FAKE_HALT,              /* the guest halts */
} FakeAction;

typedef struct FakeVcpu {
    Semaphore kick;         /* "guest mode" lasts until a kick */
    Event entered;          /* set each time it enters guest mode */
    Event acted;            /* set once an action has been carried out */
    bool in_guest;          /* BQL */
    FakeAction action;      /* BQL */
    unsigned kicks;         /* BQL */
    unsigned set_states;    /* BQL */
    bool returned;
} FakeVcpu;

static unsigned destroyed;

/* Drop the BQL while waiting for a vCPU thread that needs it. */
static void wait_unlocked(Event *ev)
{
    bql_unlock();
    event_wait(ev);
    bql_lock();
}

static void fake_act(CPUState *cpu, FakeVcpu *f)
{
    switch (f->action) {
    case FAKE_STOP_SELF:
        vm_stop(RUN_STATE_PAUSED);
        break;
    case FAKE_INTERNAL_ERROR:
        vm_internal_error(cpu, "fake exit %d", 17);
        break;
    case FAKE_HALT:
        cpu->halted = true;
        break;
    case FAKE_NONE:
        return;
    }
    f->action = FAKE_NONE;
    event_set(&f->acted);
}

static void *fake_vcpu_thread(void *opaque)
{
    CPUState *cpu = opaque;
    FakeVcpu *f = cpu->accel;

    bql_lock();
    while (!cpu->exit_request) {
        if (cpu_can_run(cpu)) {
            f->in_guest = true;
            event_set(&f->entered);
            bql_unlock();
            semaphore_wait(&f->kick);
            bql_lock();
            f->in_guest = false;
            fake_act(cpu, f);
        }
        cpu_wait_io_event(cpu);
    }
    f->returned = true;
    bql_unlock();
    return NULL;
}

static bool fake_vcpu_init(CPUState *cpu, Error **errp)
{
    FakeVcpu *f = g_new0(FakeVcpu, 1);

    semaphore_init(&f->kick, 0);
    event_init(&f->entered, false);
    event_init(&f->acted, false);
    cpu->accel = f;
    thread_create(&cpu->thread, "fake-vcpu", fake_vcpu_thread, cpu,
                  THREAD_JOINABLE);
    cpu->thread_started = true;
    return true;
}

static void fake_vcpu_kick(CPUState *cpu)
{
    FakeVcpu *f = cpu->accel;

    f->kicks++;
    semaphore_post(&f->kick);
}

static void fake_vcpu_destroy(CPUState *cpu)
{
    FakeVcpu *f = cpu->accel;

    /* The generic layer joined the thread before calling us. */
    assert_true(f->returned);
    semaphore_destroy(&f->kick);
    event_destroy(&f->entered);
    event_destroy(&f->acted);
    g_free(f);
    destroyed++;
}

static bool fake_vcpu_set_state(CPUState *cpu, const X86VcpuState *s,
                                Error **errp)
{
    FakeVcpu *f = cpu->accel;

    f->set_states++;
    return true;
}

static const AccelOps fake_threaded = {
    .name = "fake-threaded",
    .vcpu_init = fake_vcpu_init,
    .vcpu_kick = fake_vcpu_kick,
    .vcpu_destroy = fake_vcpu_destroy,
    .vcpu_set_state = fake_vcpu_set_state,
};

/* Like qtest: vCPUs exist as state only. */
static const AccelOps fake_threadless = {
    .name = "fake-threadless",
};

static void create_vcpus(const char *accel, unsigned n)
{
    assert_true(accel_select(accel, &error_abort));
    for (unsigned i = 0; i < n; i++) {
        assert_non_null(cpu_create());
    }
    assert_true(cpu_init_all(&error_abort));
    assert_int_equal(cpu_count, n);
}

static int teardown(void **state)
{
    cpu_exit_all();
    accel_reset_current();
    runstate_cleanup();
    return 0;
}

static int setup(void **state)
{
    runstate_init();
    test_events_clear();
    destroyed = 0;
    return 0;
}

static FakeVcpu *fake(CPUState *cpu)
{
    return cpu->accel;
}

static void reset_entered(void)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        event_reset(&fake(cpu)->entered);
    }
}

static void wait_all_entered(void)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        wait_unlocked(&fake(cpu)->entered);
    }
}

static void assert_all_parked(void)
{
    CPUState *cpu;

    assert_true(all_vcpus_paused());
    CPU_FOREACH(cpu) {
        assert_true(cpu->stopped);
        assert_false(cpu->stop);
        assert_false(fake(cpu)->in_guest);
        assert_false(cpu_can_run(cpu));
    }
}

static void test_created_stopped(void **state)
{
    CPUState *cpu;

    create_vcpus("fake-threaded", 3);
    CPU_FOREACH(cpu) {
        assert_true(cpu->stopped);
        assert_false(cpu_can_run(cpu));
        assert_ptr_equal(cpu_by_index(cpu->index), cpu);
        assert_false(cpu_is_self(cpu));
    }
    assert_null(cpu_by_index(3));
    assert_null(cpu_by_index(-1));
    /* Resuming outside the running state does nothing (QEMU). */
    resume_all_vcpus();
    assert_all_parked();
}

static void test_pause_resume_cycles(void **state)
{
    CPUState *cpu;

    create_vcpus("fake-threaded", 4);
    reset_entered();
    assert_true(vm_start(&error_abort));
    for (int round = 0; round < 50; round++) {
        wait_all_entered();
        CPU_FOREACH(cpu) {
            assert_true(fake(cpu)->in_guest);
        }
        assert_int_equal(vm_stop(RUN_STATE_PAUSED), 0);
        assert_all_parked();
        reset_entered();
        assert_true(vm_start(&error_abort));
    }
    wait_all_entered();
    CPU_FOREACH(cpu) {
        assert_true(fake(cpu)->kicks >= 50);
    }
    assert_int_equal(test_events_count(), 101);
    assert_int_equal(vm_stop(RUN_STATE_PAUSED), 0);
    assert_all_parked();
}

/* Shutdown while the guest runs: every thread returns and is joined. */
static void test_exit_while_running(void **state)
{
    create_vcpus("fake-threaded", 4);
    reset_entered();
    assert_true(vm_start(&error_abort));
    wait_all_entered();
    cpu_exit_all();
    assert_int_equal(destroyed, 4);
    assert_int_equal(cpu_count, 0);
}

static void test_exit_while_paused(void **state)
{
    create_vcpus("fake-threaded", 2);
    cpu_exit_all();
    assert_int_equal(destroyed, 2);
}

static void test_threadless(void **state)
{
    CPUState *cpu;

    create_vcpus("fake-threadless", 3);
    assert_true(vm_start(&error_abort));
    CPU_FOREACH(cpu) {
        assert_false(cpu->stopped);
        assert_true(cpu_can_run(cpu));
    }
    assert_int_equal(vm_stop(RUN_STATE_PAUSED), 0);
    assert_true(all_vcpus_paused());
    assert_true(vm_start(&error_abort));
    assert_false(all_vcpus_paused());
    cpu_exit_all();
    assert_int_equal(destroyed, 0);
}

/* Ask vCPU @cpu to do @action on its next exit, and wait until it has. */
static void vcpu_act(CPUState *cpu, FakeAction action)
{
    fake(cpu)->action = action;
    cpu_kick(cpu);
    wait_unlocked(&fake(cpu)->acted);
    event_reset(&fake(cpu)->acted);
}

static void test_stop_from_vcpu(void **state)
{
    CPUState *cpu;

    create_vcpus("fake-threaded", 2);
    reset_entered();
    assert_true(vm_start(&error_abort));
    wait_all_entered();
    cpu = cpu_by_index(1);
    vcpu_act(cpu, FAKE_STOP_SELF);
    /* The vCPU never waits for itself: the main loop does the stop. */
    assert_true(runstate_is_running());
    test_run_bhs();
    assert_true(runstate_check(RUN_STATE_PAUSED));
    assert_all_parked();
    assert_string_equal(test_event_name(1), "STOP");
}

static void test_internal_error_from_vcpu(void **state)
{
    CPUState *cpu;

    create_vcpus("fake-threaded", 3);
    reset_entered();
    assert_true(vm_start(&error_abort));
    wait_all_entered();
    cpu = cpu_by_index(0);
    vcpu_act(cpu, FAKE_INTERNAL_ERROR);
    /* The failing vCPU parked itself at once. */
    assert_false(cpu_can_run(cpu));
    test_run_bhs();
    assert_true(runstate_check(RUN_STATE_INTERNAL_ERROR));
    assert_all_parked();
}

static void test_halt_and_reset(void **state)
{
    X86VcpuState boot = { .regs.rip = 0x1000 };
    CPUState *cpu;

    create_vcpus("fake-threaded", 2);
    CPU_FOREACH(cpu) {
        cpu->boot_state = g_memdup2(&boot, sizeof(boot));
    }
    reset_entered();
    assert_true(vm_start(&error_abort));
    wait_all_entered();
    cpu = cpu_by_index(0);
    vcpu_act(cpu, FAKE_HALT);
    assert_true(cpu->halted);
    assert_false(cpu_can_run(cpu));

    /* A halted vCPU still acknowledges a pause. */
    assert_int_equal(vm_stop(RUN_STATE_PAUSED), 0);
    assert_all_parked();

    /* Reset un-halts it and loads the boot state into every vCPU. */
    cpu_reset_all();
    CPU_FOREACH(cpu) {
        assert_false(cpu->halted);
        assert_int_equal(fake(cpu)->set_states, 1);
    }
    reset_entered();
    assert_true(vm_start(&error_abort));
    wait_all_entered();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_created_stopped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pause_resume_cycles, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_exit_while_running, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_exit_while_paused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_threadless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_from_vcpu, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_internal_error_from_vcpu,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_halt_and_reset, setup,
                                        teardown),
    };
    int ret;

    accel_register(&fake_threaded);
    accel_register(&fake_threadless);
    bql_lock();
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    bql_unlock();
    return ret;
}
