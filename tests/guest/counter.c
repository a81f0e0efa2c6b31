/*
 * A guest that counts with atomics on every vCPU: each vCPU adds
 * COUNTER_ROUNDS to two shared counters, one with locked additions and
 * one with compare-and-swap loops, and then arrives at a counting
 * barrier.  vCPU 0 waits there for all of them, prints
 *
 *     counter <add> <cas> <expected>
 *
 * and ends the VM through the debug-exit port with 0 when both
 * counters hold vCPUs x COUNTER_ROUNDS (colo-vm exits with 1) and 1
 * when one lost an increment (colo-vm exits with 3).  A lost increment
 * means the vCPUs' atomics were not atomic against each other; a
 * barrier that never fills means a vCPU never ran again.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "guest.h"

#define COUNTER_ROUNDS      200000u

/* In .bss, restored to zero on every boot and reset. */
static uint64_t counter_add;
static uint64_t counter_cas;
static uint32_t arrived;

static void put_u64(uint64_t v)
{
    char buf[21];
    int i = sizeof(buf) - 1;

    buf[i] = '\0';
    do {
        buf[--i] = '0' + v % 10;
        v /= 10;
    } while (v);
    uart_puts(buf + i);
}

static void cas_increment(uint64_t *p)
{
    uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);

    while (!__atomic_compare_exchange_n(p, &old, old + 1, false,
                                        __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED)) {
        cpu_relax();
    }
}

void guest_main(uint64_t cpu_index, const void *fdt, uint64_t cpu_count)
{
    uint64_t expected = cpu_count * COUNTER_ROUNDS;
    bool ok;

    for (uint32_t i = 0; i < COUNTER_ROUNDS; i++) {
        __atomic_fetch_add(&counter_add, 1, __ATOMIC_SEQ_CST);
        cas_increment(&counter_cas);
    }
    __atomic_fetch_add(&arrived, 1, __ATOMIC_SEQ_CST);
    if (cpu_index != 0) {
        cpu_halt_forever();
    }
    while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) != cpu_count) {
        cpu_relax();
    }
    ok = counter_add == expected && counter_cas == expected;
    uart_puts("counter ");
    put_u64(counter_add);
    uart_putc(' ');
    put_u64(counter_cas);
    uart_putc(' ');
    put_u64(expected);
    uart_putc('\n');
    outb(DEBUG_EXIT_PORT, ok ? 0 : 1);
    cpu_halt_forever();
}
