/*
 * How the colo-x86 machine starts its vCPUs: the fixed low-memory layout
 * (GDT, page tables, boot sector, FDT, stacks), the descriptor tables and
 * page tables written there, and the register state each vCPU starts
 * from (docs/vmm.md, "Guest boot protocol").
 *
 * x86_boot_write_tables() and the *_state() functions only fill in
 * memory they are given, so they work for any accelerator and in unit
 * tests; x86_boot_setup() ties them to the machine.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_X86_BOOT_H
#define SYSTEM_X86_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"
#include "system/x86-cpu-state.h"

typedef struct MachineState MachineState;

/* Guest-physical layout of the first 512 KiB. */
#define X86_BOOT_GDT_ADDR       0x500
#define X86_BOOT_TSS_ADDR       0x580   /* 104 zero bytes; never used */
#define X86_BOOT_TSS_LIMIT      0x67
#define X86_BOOT_PML4_ADDR      0x1000
#define X86_BOOT_PDPT_ADDR      0x2000
#define X86_BOOT_PD_ADDR        0x3000  /* four PDs: 0x3000-0x6fff */
#define X86_BOOT_TABLES_END     0x7000
#define X86_BOOT_SECTOR_ADDR    0x7c00
#define X86_BOOT_SECTOR_SIZE    512
#define X86_BOOT_FDT_ADDR       0x9000
#define X86_BOOT_FDT_MAX_SIZE   0x7000
/* ELF segments start at or above this address... */
#define X86_BOOT_LOAD_MIN       0x10000
/* ...and stay out of the stacks: vCPU n's stack top is TOP - n * SIZE. */
#define X86_BOOT_STACK_TOP      0x80000
#define X86_BOOT_STACK_SIZE     0x2000
#define X86_BOOT_STACK_BOTTOM   0x40000 /* TOP - MAX_CPUS * SIZE */
/* The page tables map this much, identity, with 2 MiB pages. */
#define X86_BOOT_IDENTITY_MAP   (4ULL << 30)
/* Smallest RAM the boot layout fits in. */
#define X86_BOOT_RAM_MIN        X86_BOOT_STACK_TOP

/* GDT selectors (long mode). */
#define X86_BOOT_SEL_CODE64     0x08
#define X86_BOOT_SEL_DATA       0x10
#define X86_BOOT_SEL_TSS        0x18    /* 16-byte descriptor: 0x18-0x27 */
#define X86_BOOT_GDT_ENTRIES    5

/* Register bits used for the boot state. */
#define X86_CR0_PE              (1ULL << 0)
#define X86_CR0_MP              (1ULL << 1)
#define X86_CR0_ET              (1ULL << 4)
#define X86_CR0_NE              (1ULL << 5)
#define X86_CR0_WP              (1ULL << 16)
#define X86_CR0_NW              (1ULL << 29)
#define X86_CR0_CD              (1ULL << 30)
#define X86_CR0_PG              (1ULL << 31)
#define X86_CR4_PAE             (1ULL << 5)
#define X86_CR4_OSFXSR          (1ULL << 9)
#define X86_CR4_OSXMMEXCPT      (1ULL << 10)
#define X86_EFER_LME            (1ULL << 8)
#define X86_EFER_LMA            (1ULL << 10)
#define X86_RFLAGS_FIXED        0x2ULL

/* Page-table entry bits. */
#define X86_PTE_PRESENT         (1ULL << 0)
#define X86_PTE_WRITE           (1ULL << 1)
#define X86_PTE_ACCESSED        (1ULL << 5)
#define X86_PTE_DIRTY           (1ULL << 6)
#define X86_PTE_PS              (1ULL << 7)

/* MSRs the boot state sets (the accelerator may save more). */
#define X86_MSR_IA32_TSC            0x10
#define X86_MSR_IA32_SYSENTER_CS    0x174
#define X86_MSR_IA32_SYSENTER_ESP   0x175
#define X86_MSR_IA32_SYSENTER_EIP   0x176
#define X86_MSR_IA32_MISC_ENABLE    0x1a0
#define X86_MSR_IA32_CR_PAT         0x277
#define X86_MSR_STAR                0xc0000081
#define X86_MSR_LSTAR               0xc0000082
#define X86_MSR_CSTAR               0xc0000083
#define X86_MSR_SFMASK              0xc0000084
#define X86_MSR_FS_BASE             0xc0000100
#define X86_MSR_GS_BASE             0xc0000101
#define X86_MSR_KERNEL_GS_BASE      0xc0000102
#define X86_MSR_TSC_AUX             0xc0000103

#define X86_PAT_DEFAULT             0x0007040600070406ULL
#define X86_MISC_ENABLE_FAST_STRING 0x1ULL
#define X86_APIC_BASE_DEFAULT       0xfee00000ULL
#define X86_APIC_BASE_BSP           (1ULL << 8)
#define X86_APIC_BASE_ENABLE        (1ULL << 11)

/*
 * Write the GDT, the (empty) TSS and the page tables identity-mapping
 * the first 4 GiB into @ram, a host view of guest-physical
 * [0, @ram_size).  Fails when RAM is smaller than X86_BOOT_RAM_MIN.
 */
bool x86_boot_write_tables(uint8_t *ram, uint64_t ram_size, Error **errp);

/*
 * The power-on state of vCPU @index (real mode at f000:fff0, x87 and
 * SSE in their reset state, default MSRs).  Every field of @s is set,
 * so the result can be loaded whole.
 */
void x86_boot_reset_state(X86VcpuState *s, unsigned int index);

/*
 * The start state of an ELF guest's vCPU @index of @ncpus: 64-bit long
 * mode with the page tables and GDT above, interrupts off, RIP = @entry,
 * RSP = X86_BOOT_STACK_TOP - index * X86_BOOT_STACK_SIZE, RDI = index,
 * RSI = @fdt_gpa, RDX = @ncpus.
 */
void x86_boot_long_mode_state(X86VcpuState *s, unsigned int index,
                              unsigned int ncpus, uint64_t entry,
                              uint64_t fdt_gpa);

/*
 * The start state of a drive boot: vCPU 0 in real mode at 0000:7c00 with
 * DL = 0x80 (first hard disk) and SS:SP = 0000:7c00, as a BIOS leaves
 * it.  Other vCPUs are marked not runnable (mp_state UNINITIALIZED):
 * they stay parked.
 */
void x86_boot_real_mode_state(X86VcpuState *s, unsigned int index);

/*
 * Stack top of vCPU @index under the boot protocol.
 */
uint64_t x86_boot_stack_top(unsigned int index);

/*
 * Machine glue (system/x86-boot-setup.c).  After the RAM block "pc.ram",
 * the FDT (ms->fdt, may be NULL) and every vCPU exist: load ms->kernel
 * (ELF64) or ms->drive (boot sector), write the boot tables and the FDT
 * into guest RAM, and give every vCPU a boot_state.  Without a guest the
 * vCPUs get a parked power-on state and RAM is left untouched.  A reset
 * handler copies the image, tables and FDT into RAM again on every
 * system reset, so a reset guest finds its data and bss as at boot.
 * BQL.
 */
bool x86_boot_setup(MachineState *ms, Error **errp);
/* Forget the image and unregister the reset handler.  BQL. */
void x86_boot_cleanup(void);

#endif /* SYSTEM_X86_BOOT_H */
