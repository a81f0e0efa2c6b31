/*
 * What TCG's ways of tracking guest writes cost, measured on a bare
 * Unicorn engine running the dirtier's inner loop (increment the first
 * byte of every 4 KiB page of 63 MiB, 64 passes), in CPU time of the
 * thread that runs it:
 *   - no hook at all (the floor);
 *   - the block hook alone, which the accelerator needs to stop engines
 *     at a translation block's start (system/tcg-all.c);
 *   - the block hook and the memory-write hook that marks the page of
 *     the previous store in a bitmap, as system/tcg-vcpu.c does: what
 *     -accel tcg runs with, always;
 *   - write protection instead: uc_mem_protect() on single pages, the
 *     alternative to a hook (protect every page at a sync, unprotect a
 *     page at its first write).  Each call splits Unicorn's memory
 *     region list, so its cost grows with the pages already split.
 * docs/vmm.md draws the conclusion.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <unicorn/unicorn.h>

#include "bench.h"

#define RAM_SIZE (64 * BENCH_MIB)
#define DIRTY_START BENCH_MIB
#define PASSES 64
#define PAGES ((RAM_SIZE - DIRTY_START) / 4096)
#define CODE_ADDR 0x10000

/*
 * mov $0x100000,%rax; 1: incb (%rax); add $4096,%rax; cmp %rbx,%rax;
 * jb 1b; inc %rcx; cmp %rdx,%rcx; jne start; hlt
 */
static const uint8_t loop_code[] = {
    0x48, 0xc7, 0xc0, 0x00, 0x00, 0x10, 0x00,
    0xfe, 0x00,
    0x48, 0x05, 0x00, 0x10, 0x00, 0x00,
    0x48, 0x39, 0xd8,
    0x72, 0xf3,
    0x48, 0xff, 0xc1,
    0x48, 0x39, 0xd1,
    0x75, 0xe4,
    0xf4,
};

typedef struct HookState {
    unsigned long *bitmap;
    bool pending;
    uint64_t pending_page;
    bool stop;
} HookState;

static double thread_cpu_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size,
                       void *opaque)
{
    HookState *h = opaque;

    if (__atomic_load_n(&h->stop, __ATOMIC_SEQ_CST)) {
        uc_emu_stop(uc);
    }
}

static void mark(HookState *h, uint64_t page)
{
    __atomic_fetch_or(&h->bitmap[page / 64], 1UL << (page % 64),
                      __ATOMIC_SEQ_CST);
}

static void hook_write(uc_engine *uc, uc_mem_type type, uint64_t addr,
                       int size, int64_t value, void *opaque)
{
    HookState *h = opaque;
    uint64_t page = addr >> 12;

    if (h->pending && page == h->pending_page) {
        return;
    }
    if (h->pending) {
        mark(h, h->pending_page);
    }
    h->pending = true;
    h->pending_page = page;
}

static uint8_t *guest_ram(void)
{
    uint8_t *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint64_t *pml4, *pdpt, *pd;

    if (ram == MAP_FAILED) {
        bench_fail("mmap");
    }
    /* The boot protocol's identity map, 2 MiB pages, A and D set. */
    pml4 = (uint64_t *)(ram + 0x1000);
    pdpt = (uint64_t *)(ram + 0x2000);
    pd = (uint64_t *)(ram + 0x3000);
    pml4[0] = 0x2000 | 0x23;
    pdpt[0] = 0x3000 | 0x23;
    for (uint64_t i = 0; i < 512; i++) {
        pd[i] = (i << 21) | 0xe3;
    }
    memcpy(ram + CODE_ADDR, loop_code, sizeof(loop_code));
    return ram;
}

static void check(uc_err err, const char *what)
{
    if (err) {
        bench_fail("%s: %s", what, uc_strerror(err));
    }
}

/* A 64-bit engine over @ram with paging on, at the loop. */
static uc_engine *engine_new(uint8_t *ram)
{
    uint64_t cr4 = 0x620, cr3 = 0x1000, cr0 = 0x80010033;
    uint64_t rbx = RAM_SIZE, rdx = PASSES, rcx = 0;
    uc_x86_msr efer = { .rid = 0xc0000080, .value = 0x500 };
    uc_engine *uc;

    check(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), "uc_open");
    check(uc_ctl_exits_enable(uc), "exits");
    check(uc_ctl_set_exits(uc, NULL, 0), "exits");
    check(uc_mem_map_ptr(uc, 0, RAM_SIZE, UC_PROT_ALL, ram), "map");
    check(uc_reg_write(uc, UC_X86_REG_CR4, &cr4), "cr4");
    check(uc_reg_write(uc, UC_X86_REG_CR3, &cr3), "cr3");
    check(uc_reg_write(uc, UC_X86_REG_MSR, &efer), "efer");
    check(uc_reg_write(uc, UC_X86_REG_CR0, &cr0), "cr0");
    check(uc_reg_write(uc, UC_X86_REG_RBX, &rbx), "rbx");
    check(uc_reg_write(uc, UC_X86_REG_RDX, &rdx), "rdx");
    check(uc_reg_write(uc, UC_X86_REG_RCX, &rcx), "rcx");
    return uc;
}

static double run_loop(bool block, bool write, uint64_t *marked)
{
    uint8_t *ram = guest_ram();
    HookState h = { .bitmap = g_new0(unsigned long, RAM_SIZE / 4096 / 64) };
    uc_engine *uc = engine_new(ram);
    uc_hook hh;
    double t0, t;

    if (block) {
        check(uc_hook_add(uc, &hh, UC_HOOK_BLOCK, hook_block, &h, 1, 0),
              "block hook");
    }
    if (write) {
        check(uc_hook_add(uc, &hh, UC_HOOK_MEM_WRITE, hook_write, &h, 1, 0),
              "write hook");
    }
    t0 = thread_cpu_seconds();
    check(uc_emu_start(uc, CODE_ADDR, 0, 0, 0), "run");
    t = thread_cpu_seconds() - t0;
    if (h.pending) {
        mark(&h, h.pending_page);
    }
    *marked = 0;
    for (size_t i = 0; i < RAM_SIZE / 4096 / 64; i++) {
        *marked += __builtin_popcountl(h.bitmap[i]);
    }
    if (ram[DIRTY_START] != PASSES) {
        bench_fail("the loop did not run %d passes", PASSES);
    }
    uc_close(uc);
    munmap(ram, RAM_SIZE);
    g_free(h.bitmap);
    return t;
}

static void report_loop(const char *what, bool block, bool write)
{
    uint64_t marked;
    double t = run_loop(block, write, &marked);

    printf("tcg write tracking, %s: %.0f pages/s (%u passes of %"
           G_GUINT64_FORMAT " pages in %.3f s of CPU; %" G_GUINT64_FORMAT
           " pages marked)\n", what, (double)PASSES * PAGES / t, PASSES,
           (uint64_t)PAGES, t, marked);
}

/* uc_mem_protect() on @n single pages, one in two, as a sync would. */
static void report_protect(unsigned n)
{
    uint8_t *ram = guest_ram();
    uc_engine *uc = engine_new(ram);
    double t0 = thread_cpu_seconds(), t;

    for (unsigned i = 0; i < n; i++) {
        check(uc_mem_protect(uc, DIRTY_START + 2ULL * i * 4096, 4096,
                             UC_PROT_READ | UC_PROT_EXEC), "protect");
    }
    t = thread_cpu_seconds() - t0;
    printf("tcg write tracking, uc_mem_protect of %u single pages: %.3f s "
           "of CPU (%.1f us per page; a 256 MiB guest has 65280)\n", n, t,
           t * 1e6 / n);
    uc_close(uc);
    munmap(ram, RAM_SIZE);
}

int main(void)
{
    report_loop("no hook", false, false);
    report_loop("block hook", true, false);
    report_loop("block hook + write hook (-accel tcg)", true, true);
    report_protect(100);
    report_protect(300);
    return 0;
}
