/*
 * The dirtier: keeps changing guest RAM so that migration always has
 * dirty pages to send, in a pattern a test can check afterwards.
 *
 * It increments the first byte of every 4 KiB page in [1 MiB, end of
 * RAM), page after page, forever.  vCPU 0 prints 'A' once at start and
 * 'B' after every complete pass.  Since RAM starts zeroed, a snapshot
 * taken at any moment shows every page equal to its predecessor except
 * at the one place where the pass in progress stopped, where the page
 * is one less (modulo 256).
 *
 * With N vCPUs the pages are split into N consecutive parts, part k
 * being pages [k * n / N, (k + 1) * n / N) of the n pages.  Each vCPU
 * walks its part, then all meet at a barrier before the next pass, so
 * each part shows at most one such boundary and all pages hold one of
 * two consecutive values.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "guest.h"

#define DIRTY_START         (1ull * GUEST_MIB)

/*
 * A sense-reversing barrier.  It lives in .bss, below 1 MiB where the
 * dirtier never writes; the machine restores .bss to zero on every boot
 * and every system reset, so a reset cannot leave it half-way.
 */
static uint32_t barrier_waiting;
static uint32_t barrier_sense;

static void barrier_wait(uint32_t cpu_count, uint32_t *local_sense)
{
    uint32_t sense = !*local_sense;

    *local_sense = sense;
    if (__atomic_add_fetch(&barrier_waiting, 1, __ATOMIC_ACQ_REL) ==
        cpu_count) {
        /* Last to arrive: reset the count before releasing the others. */
        __atomic_store_n(&barrier_waiting, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&barrier_sense, sense, __ATOMIC_RELEASE);
        return;
    }
    while (__atomic_load_n(&barrier_sense, __ATOMIC_ACQUIRE) != sense) {
        cpu_relax();
    }
}

static void dirty_span(uint64_t start, uint64_t end)
{
    uint64_t addr;

    for (addr = start; addr < end; addr += GUEST_PAGE_SIZE) {
        (*(volatile uint8_t *)(uintptr_t)addr)++;
    }
}

void guest_main(uint64_t cpu_index, const void *fdt, uint64_t cpu_count)
{
    uint64_t ram_end = fdt_memory_end(fdt) & ~(uint64_t)(GUEST_PAGE_SIZE - 1);
    uint64_t npages, start, end;
    uint32_t local_sense = 0;

    if (cpu_count == 0 || cpu_index >= cpu_count) {
        cpu_halt_forever();
    }
    if (ram_end <= DIRTY_START) {
        if (cpu_index == 0) {
            uart_puts("dirtier: no usable memory node in the FDT\n");
        }
        cpu_halt_forever();
    }
    npages = (ram_end - DIRTY_START) / GUEST_PAGE_SIZE;
    start = DIRTY_START + npages * cpu_index / cpu_count * GUEST_PAGE_SIZE;
    end = DIRTY_START +
          npages * (cpu_index + 1) / cpu_count * GUEST_PAGE_SIZE;

    if (cpu_index == 0) {
        uart_putc('A');
    }
    for (;;) {
        dirty_span(start, end);
        if (cpu_count > 1) {
            barrier_wait(cpu_count, &local_sense);
        }
        if (cpu_index == 0) {
            uart_putc('B');
        }
    }
}
