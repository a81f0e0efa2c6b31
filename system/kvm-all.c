/*
 * The KVM accelerator: /dev/kvm, the VM, one memory slot per RAM block
 * and the dirty log.
 *
 * No in-kernel irqchip is created (see include/system/kvm.h): the guests
 * run with interrupts off, so an interrupt controller would only add
 * state to save.  KVM still needs the TSS and identity-map pages for
 * real mode and unpaged protected mode on Intel; they sit above the
 * largest RAM (3 GiB).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "kvm-int.h"
#include "system/machine.h"
#include "system/ram.h"
#include "trace/trace.h"
#include "util/bitmap.h"
#include "util/error-report.h"

#define KVM_DEVICE "/dev/kvm"
#define KVM_API_VERSION_EXPECTED 12
#define KVM_TSS_SIZE (3 * 4096)
#define KVM_IDENTITY_MAP_SIZE 4096

/*
 * Set by kvm_init() and cleared by kvm_cleanup(), main thread with the
 * BQL, before any vCPU thread starts and after all were joined; read
 * without a lock in between.
 */
static KVMState *kvm_state_ptr;
static const AccelOps kvm_accel_ops;

KVMState *kvm_state(void)
{
    return kvm_state_ptr;
}

bool kvm_enabled(void)
{
    return current_accel() == &kvm_accel_ops;
}

static int kvm_check_extension(int fd, int cap)
{
    int ret = kvm_ioctl(fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)cap);

    return ret < 0 ? 0 : ret;
}

typedef struct KVMCap {
    int cap;
    const char *name;
} KVMCap;

#define KVM_CAP(x) { KVM_CAP_##x, "KVM_CAP_" #x }

/* Everything the accelerator relies on without a fallback. */
static const KVMCap kvm_required_caps[] = {
    KVM_CAP(USER_MEMORY),
    KVM_CAP(IMMEDIATE_EXIT),
    KVM_CAP(SET_TSS_ADDR),
    KVM_CAP(SET_IDENTITY_MAP_ADDR),
    KVM_CAP(EXT_CPUID),
    KVM_CAP(XSAVE),
    KVM_CAP(XCRS),
    KVM_CAP(DEBUGREGS),
    KVM_CAP(VCPU_EVENTS),
};

static bool kvm_check_host(int fd, Error **errp)
{
    int version = kvm_ioctl(fd, KVM_GET_API_VERSION, NULL);

    if (version < 0) {
        error_setg_errno(errp, errno, "Could not access KVM kernel module: "
                         KVM_DEVICE " does not answer KVM_GET_API_VERSION");
        return false;
    }
    if (version != KVM_API_VERSION_EXPECTED) {
        error_setg(errp, "kvm version %s (API version %d, expected %d)",
                   version < KVM_API_VERSION_EXPECTED ? "too old"
                                                      : "not supported",
                   version, KVM_API_VERSION_EXPECTED);
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(kvm_required_caps); i++) {
        if (!kvm_check_extension(fd, kvm_required_caps[i].cap)) {
            error_setg(errp, "kvm does not support %s",
                       kvm_required_caps[i].name);
            return false;
        }
    }
    return true;
}

static int kvm_open(Error **errp)
{
    int fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not access KVM kernel module");
        return -1;
    }
    if (!kvm_check_host(fd, errp)) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool kvm_available(Error **errp)
{
    int fd = kvm_open(errp);

    if (fd < 0) {
        return false;
    }
    close(fd);
    return true;
}

static bool kvm_set_slot(KVMState *s, RAMBlock *block, uint32_t flags,
                         Error **errp)
{
    struct kvm_userspace_memory_region region = {
        .slot = block->slot,
        .flags = flags,
        .guest_phys_addr = block->gpa,
        .memory_size = block->size,
        .userspace_addr = (uintptr_t)block->host,
    };

    trace_kvm_set_user_memory(block->slot, flags, block->gpa, block->size,
                              block->host);
    if (kvm_ioctl(s->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        error_setg_errno(errp, errno, "KVM_SET_USER_MEMORY_REGION failed "
                         "for RAM block '%s' (slot %d)", block->idstr,
                         block->slot);
        return false;
    }
    return true;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
                           uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static bool kvm_map_ram(KVMState *s, Error **errp)
{
    RAMBlock *block;
    int slot = 0;

    RAMBLOCK_FOREACH(block) {
        if (ranges_overlap(block->gpa, block->size, KVM_TSS_ADDR,
                           KVM_TSS_SIZE) ||
            ranges_overlap(block->gpa, block->size, KVM_IDENTITY_MAP_ADDR,
                           KVM_IDENTITY_MAP_SIZE)) {
            error_setg(errp, "RAM block '%s' overlaps the pages KVM "
                       "reserves at 0x%llx and 0x%llx", block->idstr,
                       KVM_TSS_ADDR, KVM_IDENTITY_MAP_ADDR);
            return false;
        }
        if (slot >= s->max_slots) {
            error_setg(errp, "KVM has only %d memory slots", s->max_slots);
            return false;
        }
        block->slot = slot++;
        if (!kvm_set_slot(s, block, 0, errp)) {
            block->slot = -1;
            return false;
        }
    }
    return true;
}

static bool kvm_vm_setup(KVMState *s, Error **errp)
{
    uint64_t identity_map = KVM_IDENTITY_MAP_ADDR;
    int size;

    s->vm_fd = kvm_ioctl(s->fd, KVM_CREATE_VM, NULL);
    if (s->vm_fd < 0) {
        error_setg_errno(errp, errno, "KVM_CREATE_VM failed");
        return false;
    }
    trace_kvm_vm_create(s->vm_fd);
    size = kvm_ioctl(s->fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
    if (size < (int)sizeof(struct kvm_run)) {
        error_setg_errno(errp, errno, "KVM_GET_VCPU_MMAP_SIZE failed");
        return false;
    }
    s->run_size = size;
    s->max_slots = kvm_check_extension(s->fd, KVM_CAP_NR_MEMSLOTS);
    if (s->max_slots <= 0) {
        s->max_slots = 32;
    }
    /* Both must be set before the first vCPU exists. */
    if (kvm_ioctl(s->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity_map) < 0) {
        error_setg_errno(errp, errno, "KVM_SET_IDENTITY_MAP_ADDR failed");
        return false;
    }
    if (kvm_ioctl(s->vm_fd, KVM_SET_TSS_ADDR,
                  (void *)(uintptr_t)KVM_TSS_ADDR) < 0) {
        error_setg_errno(errp, errno, "KVM_SET_TSS_ADDR failed");
        return false;
    }
    return true;
}

static void kvm_state_free(KVMState *s)
{
    RAMBlock *block;

    RAMBLOCK_FOREACH(block) {
        g_free(block->accel);
        block->accel = NULL;
        block->slot = -1;
    }
    if (s->vm_fd >= 0) {
        close(s->vm_fd);
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    kvm_x86_caps_cleanup(&s->x86);
    g_free(s);
}

static bool kvm_init(MachineState *ms, Error **errp)
{
    KVMState *s = g_new0(KVMState, 1);

    s->vm_fd = -1;
    s->fd = kvm_open(errp);
    if (s->fd < 0 || !kvm_vm_setup(s, errp) ||
        !kvm_x86_caps_init(&s->x86, s->fd, errp) ||
        !kvm_map_ram(s, errp) || !kvm_vcpu_signal_init(errp)) {
        kvm_state_free(s);
        return false;
    }
    kvm_state_ptr = s;
    return true;
}

static void kvm_cleanup(void)
{
    if (kvm_state_ptr) {
        kvm_state_free(kvm_state_ptr);
        kvm_state_ptr = NULL;
    }
}

static bool kvm_set_dirty_logging(KVMState *s, bool on, Error **errp)
{
    uint32_t flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0;
    RAMBlock *block;

    RAMBLOCK_FOREACH(block) {
        if (block->slot >= 0 && !kvm_set_slot(s, block, flags, errp)) {
            return false;
        }
    }
    s->dirty_log = on;
    return true;
}

/*
 * Each slot's log is fetched into block->accel, allocated here and
 * freed by stop: blocks only come and go while logging is off.
 */
static bool kvm_dirty_log_start(Error **errp)
{
    KVMState *s = kvm_state();
    RAMBlock *block;

    trace_kvm_dirty_log_start();
    if (!kvm_set_dirty_logging(s, true, errp)) {
        /* Leave no slot half-switched. */
        kvm_set_dirty_logging(s, false, NULL);
        return false;
    }
    RAMBLOCK_FOREACH(block) {
        if (block->slot >= 0 && !block->accel) {
            block->accel = bitmap_new(block->npages);
        }
    }
    return true;
}

static void kvm_dirty_log_stop(void)
{
    KVMState *s = kvm_state();
    Error *err = NULL;
    RAMBlock *block;

    trace_kvm_dirty_log_stop();
    if (!kvm_set_dirty_logging(s, false, &err)) {
        error_report_err(err);
    }
    RAMBLOCK_FOREACH(block) {
        g_free(block->accel);
        block->accel = NULL;
    }
}

/*
 * KVM_GET_DIRTY_LOG hands over the slot's log and clears it (without
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enabled), write-protecting the pages
 * again, so each page written after this call shows up in the next.
 */
static void kvm_dirty_log_sync(RAMBlock *block)
{
    KVMState *s = kvm_state();
    struct kvm_dirty_log log = { .slot = block->slot };
    unsigned long *bitmap;

    if (!s || !s->dirty_log || block->slot < 0 || !block->accel) {
        return;
    }
    bitmap = block->accel;
    log.dirty_bitmap = bitmap;
    if (kvm_ioctl(s->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
        /* Unknown writes: sending every page is the only safe answer. */
        error_report("KVM_GET_DIRTY_LOG failed for RAM block '%s': %s; "
                     "marking every page dirty", block->idstr,
                     g_strerror(errno));
        ram_block_set_dirty_all(block);
        return;
    }
    trace_kvm_dirty_log_sync(block->slot, block->npages,
                             bitmap_count_one(bitmap, block->npages));
    ram_block_merge_dirty(block, bitmap);
}

static const AccelOps kvm_accel_ops = {
    .name = KVM_ACCEL_NAME,
    .available = kvm_available,
    .init = kvm_init,
    .cleanup = kvm_cleanup,
    .dirty_log_start = kvm_dirty_log_start,
    .dirty_log_stop = kvm_dirty_log_stop,
    .dirty_log_sync = kvm_dirty_log_sync,
    .vcpu_init = kvm_vcpu_init,
    .vcpu_kick = kvm_vcpu_kick,
    .vcpu_destroy = kvm_vcpu_destroy,
    .vcpu_get_state = kvm_vcpu_get_state,
    .vcpu_set_state = kvm_vcpu_set_state,
};

static void __attribute__((constructor)) kvm_accel_register(void)
{
    accel_register(&kvm_accel_ops);
}
