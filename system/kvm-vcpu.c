/*
 * KVM vCPUs: the vCPU file descriptor and its kvm_run area, the thread
 * that runs the guest, exit handling and kicks.
 *
 * The thread holds the BQL except inside KVM_RUN.  A kick must make it
 * leave KVM_RUN promptly, wherever it is:
 *  - inside KVM_RUN, SIGUSR1 interrupts the ioctl (EINTR);
 *  - just before KVM_RUN, run->immediate_exit, set by the kicker (and by
 *    the signal handler), makes the ioctl return at once;
 *  - the thread clears immediate_exit only with the BQL held, before it
 *    looks at cpu_can_run(); kickers set their flag (stop, exit_request)
 *    under the BQL too, so a kick is never lost between the two.
 *
 * Exits: port I/O goes to the ioport layer; MMIO (there is none) reads
 * all ones and ignores writes; HLT parks the vCPU until the next reset
 * (interrupts are never delivered, so a halted vCPU cannot wake up);
 * shutdown (triple fault), internal errors, failed entries and unknown
 * exits stop the VM in internal-error and park the vCPU.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm-int.h"
#include "system/ioport.h"
#include "system/runstate.h"
#include "trace/trace.h"
#include "util/bql.h"

#define KVM_KICK_SIGNAL SIGUSR1

typedef struct KVMVcpu {
    int fd;
    struct kvm_run *run;
    size_t run_size;
} KVMVcpu;

/* The kvm_run area of the vCPU this thread runs, for the kick handler. */
static __thread struct kvm_run *kvm_run_self;

static void kvm_kick_handler(int sig)
{
    struct kvm_run *run = kvm_run_self;

    if (run) {
        __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    }
}

bool kvm_vcpu_signal_init(Error **errp)
{
    struct sigaction sa = { .sa_handler = kvm_kick_handler };

    /* No SA_RESTART: KVM_RUN must come back with EINTR. */
    sigemptyset(&sa.sa_mask);
    if (sigaction(KVM_KICK_SIGNAL, &sa, NULL) < 0) {
        error_setg_errno(errp, errno, "Could not install the vCPU kick "
                         "signal handler");
        return false;
    }
    return true;
}

/*
 * Stop the VM because this vCPU cannot go on, and park the vCPU until
 * the next reset (it must not run into the same failure again).
 */
static void G_GNUC_PRINTF(3, 4)
kvm_vcpu_fail(CPUState *cpu, uint32_t reason, const char *fmt, ...)
{
    KVMVcpu *kc = cpu->accel;
    struct kvm_regs regs;
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    trace_kvm_vcpu_failed(cpu->index, reason);
    cpu->halted = true;
    if (kvm_ioctl(kc->fd, KVM_GET_REGS, &regs) == 0) {
        vm_internal_error(cpu, "KVM: %s (RIP=0x%llx RSP=0x%llx)", msg,
                          (unsigned long long)regs.rip,
                          (unsigned long long)regs.rsp);
    } else {
        vm_internal_error(cpu, "KVM: %s", msg);
    }
}

static void kvm_handle_io(CPUState *cpu, struct kvm_run *run,
                          size_t run_size)
{
    unsigned int size = run->io.size, count = run->io.count;
    bool out = run->io.direction == KVM_EXIT_IO_OUT;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;

    if ((size != 1 && size != 2 && size != 4) ||
        run->io.data_offset > run_size ||
        (uint64_t)count * size > run_size - run->io.data_offset) {
        kvm_vcpu_fail(cpu, KVM_EXIT_IO, "malformed port I/O exit (port "
                      "0x%x, size %u, count %u)", run->io.port, size, count);
        return;
    }
    for (unsigned int i = 0; i < count; i++, data += size) {
        uint64_t val = 0;

        if (out) {
            memcpy(&val, data, size);
            ioport_write(run->io.port, val, size);
        } else {
            val = ioport_read(run->io.port, size);
            memcpy(data, &val, size);
        }
        trace_kvm_io(cpu->index, run->io.port, out, size, count, val);
    }
}

static void kvm_handle_mmio(CPUState *cpu, struct kvm_run *run)
{
    unsigned int len = MIN(run->mmio.len, sizeof(run->mmio.data));

    trace_kvm_mmio(cpu->index, run->mmio.phys_addr, run->mmio.is_write, len);
    if (!run->mmio.is_write) {
        memset(run->mmio.data, 0xff, len);
    }
}

static void kvm_handle_hlt(CPUState *cpu)
{
    KVMVcpu *kc = cpu->accel;
    struct kvm_regs regs = { 0 };

    kvm_ioctl(kc->fd, KVM_GET_REGS, &regs);
    trace_kvm_vcpu_halted(cpu->index, regs.rip);
    cpu->halted = true;
}

static void kvm_handle_internal_error(CPUState *cpu, struct kvm_run *run)
{
    g_autoptr(GString) extra = g_string_new(NULL);
    unsigned int ndata = MIN(run->internal.ndata,
                             G_N_ELEMENTS(run->internal.data));

    for (unsigned int i = 0; i < ndata; i++) {
        g_string_append_printf(extra, " data[%u]=0x%llx", i,
                               (unsigned long long)run->internal.data[i]);
    }
    kvm_vcpu_fail(cpu, KVM_EXIT_INTERNAL_ERROR,
                  "internal error, suberror %u%s%s", run->internal.suberror,
                  run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
                  " (emulation failure)" : "", extra->str);
}

/* With the BQL held, after KVM_RUN returned 0. */
static void kvm_handle_exit(CPUState *cpu, KVMVcpu *kc)
{
    struct kvm_run *run = kc->run;

    trace_kvm_run_exit(cpu->index, run->exit_reason);
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        kvm_handle_io(cpu, run, kc->run_size);
        break;
    case KVM_EXIT_MMIO:
        kvm_handle_mmio(cpu, run);
        break;
    case KVM_EXIT_HLT:
        kvm_handle_hlt(cpu);
        break;
    case KVM_EXIT_INTR:
        break;
    case KVM_EXIT_SHUTDOWN:
        kvm_vcpu_fail(cpu, run->exit_reason, "triple fault (shutdown "
                      "exit), stopping the VM instead of resetting it");
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        kvm_handle_internal_error(cpu, run);
        break;
    case KVM_EXIT_FAIL_ENTRY:
        kvm_vcpu_fail(cpu, run->exit_reason, "entry failed, hardware error "
                      "0x%llx", (unsigned long long)
                      run->fail_entry.hardware_entry_failure_reason);
        break;
    default:
        kvm_vcpu_fail(cpu, run->exit_reason, "unexpected exit reason %u",
                      run->exit_reason);
        break;
    }
}

static void kvm_vcpu_run_once(CPUState *cpu)
{
    KVMVcpu *kc = cpu->accel;
    int ret, err;

    bql_unlock();
    ret = ioctl(kc->fd, KVM_RUN, NULL);
    err = errno;
    bql_lock();
    /* See the head of the file for why this happens under the BQL. */
    __atomic_store_n(&kc->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
    if (ret == 0) {
        kvm_handle_exit(cpu, kc);
    } else if (err == EINTR || err == EAGAIN) {
        trace_kvm_run_interrupted(cpu->index, err);
    } else {
        kvm_vcpu_fail(cpu, 0, "KVM_RUN failed: %s", g_strerror(err));
    }
}

static void *kvm_vcpu_thread(void *opaque)
{
    CPUState *cpu = opaque;
    KVMVcpu *kc = cpu->accel;
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, KVM_KICK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    kvm_run_self = kc->run;
    trace_kvm_vcpu_thread_start(cpu->index);

    bql_lock();
    while (!cpu->exit_request) {
        if (cpu_can_run(cpu)) {
            kvm_vcpu_run_once(cpu);
        }
        /*
         * Auto-converge: the throttle kicks the vCPU out of KVM_RUN
         * once per period; this is where it sleeps off its share.
         */
        cpu_throttle_vcpu_sleep(cpu);
        cpu_wait_io_event(cpu);
    }
    bql_unlock();

    kvm_run_self = NULL;
    trace_kvm_vcpu_thread_exit(cpu->index);
    return NULL;
}

static void kvm_vcpu_free(KVMVcpu *kc)
{
    if (kc->run) {
        munmap(kc->run, kc->run_size);
    }
    if (kc->fd >= 0) {
        close(kc->fd);
    }
    g_free(kc);
}

bool kvm_vcpu_init(CPUState *cpu, Error **errp)
{
    KVMState *s = kvm_state();
    KVMVcpu *kc = g_new0(KVMVcpu, 1);
    char name[THREAD_NAME_MAX + 1];

    kc->fd = kvm_ioctl(s->vm_fd, KVM_CREATE_VCPU,
                       (void *)(uintptr_t)cpu->index);
    if (kc->fd < 0) {
        error_setg_errno(errp, errno, "KVM_CREATE_VCPU failed for CPU %d",
                         cpu->index);
        goto fail;
    }
    trace_kvm_vcpu_init(cpu->index, kc->fd);
    kc->run_size = s->run_size;
    kc->run = mmap(NULL, kc->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                   kc->fd, 0);
    if (kc->run == MAP_FAILED) {
        kc->run = NULL;
        error_setg_errno(errp, errno, "Could not map the kvm_run area of "
                         "CPU %d", cpu->index);
        goto fail;
    }
    if (!kvm_x86_vcpu_setup(&s->x86, kc->fd, cpu->index, errp)) {
        goto fail;
    }
    cpu->accel = kc;
    snprintf(name, sizeof(name), "CPU %d/KVM", cpu->index);
    thread_create(&cpu->thread, name, kvm_vcpu_thread, cpu,
                  THREAD_JOINABLE);
    cpu->thread_started = true;
    return true;

fail:
    kvm_vcpu_free(kc);
    return false;
}

void kvm_vcpu_kick(CPUState *cpu)
{
    KVMVcpu *kc = cpu->accel;

    if (!kc || !cpu->thread_started) {
        return;
    }
    trace_kvm_vcpu_kick(cpu->index);
    __atomic_store_n(&kc->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    pthread_kill(cpu->thread.thread, KVM_KICK_SIGNAL);
}

void kvm_vcpu_destroy(CPUState *cpu)
{
    if (cpu->accel) {
        kvm_vcpu_free(cpu->accel);
        cpu->accel = NULL;
    }
}

/*
 * KVM would block the ioctls below until a running vCPU leaves KVM_RUN,
 * which needs the BQL the caller holds: refuse instead of deadlocking.
 */
static KVMVcpu *kvm_vcpu_for_state(CPUState *cpu, Error **errp)
{
    if (!cpu->accel) {
        error_setg(errp, "CPU %d has no KVM vCPU", cpu->index);
        return NULL;
    }
    if (cpu->thread_started && !cpu->stopped && !cpu_is_self(cpu)) {
        error_setg(errp, "CPU %d is running; stop the VM first",
                   cpu->index);
        return NULL;
    }
    return cpu->accel;
}

bool kvm_vcpu_get_state(CPUState *cpu, X86VcpuState *s, Error **errp)
{
    KVMVcpu *kc = kvm_vcpu_for_state(cpu, errp);

    if (!kc || !kvm_x86_get_state(&kvm_state()->x86, kc->fd, s, errp)) {
        return false;
    }
    /* KVM has no say here without an in-kernel LAPIC: a parked vCPU is
     * halted. */
    s->mp_state.mp_state = cpu->halted ? KVM_MP_STATE_HALTED
                                       : KVM_MP_STATE_RUNNABLE;
    return true;
}

bool kvm_vcpu_set_state(CPUState *cpu, const X86VcpuState *s, Error **errp)
{
    KVMVcpu *kc = kvm_vcpu_for_state(cpu, errp);

    if (!kc || !kvm_x86_set_state(kc->fd, s, errp)) {
        return false;
    }
    cpu->halted = s->mp_state.mp_state != KVM_MP_STATE_RUNNABLE;
    cond_broadcast(&cpu->halt_cond);
    return true;
}
