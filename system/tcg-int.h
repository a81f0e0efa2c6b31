/*
 * Shared between the layers of the TCG accelerator: tcg-all.c (the
 * accelerator, the round-robin of engines, dirty logging), tcg-vcpu.c
 * (vCPU threads, hooks, exits) and tcg-x86*.c (the x86 state of one
 * Unicorn engine: tcg-x86.c the engine and the whole state,
 * tcg-x86-regs.c and tcg-x86-seg.c its parts).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_TCG_INT_H
#define SYSTEM_TCG_INT_H

#include <unicorn/unicorn.h>
#include <unicorn/x86.h>

#include "system/accel.h"
#include "system/cpus.h"
#include "system/ram.h"
#include "system/tcg.h"

/*
 * One vCPU's engine and the state it was loaded with.  Owned by the
 * vCPU: its thread runs the engine, with the BQL dropped; other threads
 * (reset, migration) load or read it only with the BQL while the vCPU
 * is stopped, which it acknowledges under the BQL after its last run.
 * So uc, mode, ran and state are protected by the BQL, except while
 * the vCPU thread runs the engine, when they are its own.
 */
struct TCGX86Cpu {
    unsigned int index;
    uc_engine *uc;          /* NULL until a runnable state is loaded */
    uc_mode mode;           /* the mode uc was opened in */
    /* The engine ran since @state was loaded into it or read from it. */
    bool ran;
    /*
     * The engine must stop at the start of its next translation block.
     * Set by any thread (atomically), cleared when a run begins.
     */
    bool stop_requested;
    TCGEngineSetup setup;
    void *opaque;
    /* Last: X86VcpuState ends in a flexible array. */
    X86VcpuState state;
};

/*
 * tcg-x86-regs.c: register access that picks the width of the engine's
 * mode and remembers its first failure, so a sequence is checked once.
 */
typedef struct TCGRegIO {
    uc_engine *uc;
    uc_mode mode;
    uc_err err;             /* the first refusal, then nothing is done */
    int failed_id;
} TCGRegIO;

void tcg_reg_write(TCGRegIO *io, int id, const void *val);
void tcg_reg_read(TCGRegIO *io, int id, void *val);
/* A control or general register, 32 bits wide outside 64-bit mode. */
void tcg_reg_write_word(TCGRegIO *io, int id, uint64_t v);
uint64_t tcg_reg_read_word(TCGRegIO *io, int id);
/* The first refusal as an error naming the register; @what: the verb. */
bool tcg_reg_io_check(const TCGRegIO *io, const char *what, Error **errp);

/* No FPU component Unicorn does not keep (AVX and up). */
bool tcg_x86_check_fpu(const X86VcpuState *s, Error **errp);
/* Control registers, EFER and the descriptor tables; paging last. */
void tcg_x86_load_system(TCGRegIO *io, const struct kvm_sregs *sr);
void tcg_x86_load_regs(TCGRegIO *io, const struct kvm_regs *regs);
void tcg_x86_load_fpu(TCGRegIO *io, const X86VcpuState *s);
/* The MSRs Unicorn emulates; the others are carried in the copy. */
void tcg_x86_load_msrs(TCGRegIO *io, const X86VcpuState *s);
void tcg_x86_save_system(TCGRegIO *io, struct kvm_sregs *sr);
void tcg_x86_save_regs(TCGRegIO *io, struct kvm_regs *regs);
void tcg_x86_save_fpu(TCGRegIO *io, X86VcpuState *s);
void tcg_x86_save_msrs(TCGRegIO *io, X86VcpuState *s);

/* tcg-x86-seg.c */

/* LDTR and TR as Unicorn takes and gives them. */
uc_x86_mmr tcg_seg_to_mmr(const struct kvm_segment *seg);
void tcg_seg_from_mmr(struct kvm_segment *seg, const uc_x86_mmr *mmr);
/*
 * The engine mode that runs @s, and whether its segments load in it as
 * they are (the error says why not).
 */
bool tcg_x86_check_segments(const X86VcpuState *s, uc_mode *mode,
                            Error **errp);
/* After tcg_x86_load_system() (the GDT must be in place). */
void tcg_x86_load_segments(TCGRegIO *io, const struct kvm_sregs *sr);
/*
 * Update @sr's segments from the engine: the selectors, and the hidden
 * part of those whose selector changed.  @sr->cr0 must be the engine's.
 */
bool tcg_x86_save_segments(TCGRegIO *io, struct kvm_sregs *sr,
                           Error **errp);
/* CS.base as the engine would hold it now (0 in 64-bit mode). */
uint64_t tcg_x86_cs_base(TCGRegIO *io, const struct kvm_sregs *sr);

/* tcg-x86.c */

/* The address uc_emu_start() must be given to resume where it stopped. */
uint64_t tcg_x86_cpu_resume_pc(TCGX86Cpu *c);
/* RIP and RSP as the engine holds them (for messages). */
void tcg_x86_cpu_pc_sp(TCGX86Cpu *c, uint64_t *rip, uint64_t *rsp);
/*
 * The engine stopped right after an instruction ending in 0xf4 (HLT):
 * the byte before the linear address it would resume at.
 */
bool tcg_x86_cpu_after_hlt(TCGX86Cpu *c);

/* tcg-all.c: the round-robin of the VM's engines. */

/*
 * Wait for this vCPU's turn to run guest code.  Turns are handed out
 * first come, first served; only one engine of the VM runs at a time.
 * Called without the BQL (the vCPU holding the turn may need it).
 */
void tcg_turn_acquire(void);
void tcg_turn_release(void);
/*
 * Around uc_emu_start() of @c's engine, under the turn: the ticker asks
 * the engine to stop when its time slice is over and others wait.
 */
void tcg_run_begin(TCGX86Cpu *c);
void tcg_run_end(TCGX86Cpu *c);
/*
 * Ask @c's engine to stop at the start of its next translation block
 * (c->stop_requested); any thread.  Only a block hook may stop an engine
 * (tcg-vcpu.c): Unicorn 2.0.1 leaves a translation block it was stopped
 * in the middle of at the block's start, so that resuming it runs its
 * first instructions, and their stores, twice.
 */
void tcg_stop_engine(TCGX86Cpu *c);

/* Mark guest-physical pages [first, last] in the dirty log; any thread. */
void tcg_dirty_log_mark(uint64_t first_page, uint64_t last_page);

/* tcg-vcpu.c */
bool tcg_vcpu_init(CPUState *cpu, Error **errp);
void tcg_vcpu_kick(CPUState *cpu);
void tcg_vcpu_destroy(CPUState *cpu);
bool tcg_vcpu_get_state(CPUState *cpu, X86VcpuState *s, Error **errp);
bool tcg_vcpu_set_state(CPUState *cpu, const X86VcpuState *s,
                        Error **errp);

#endif /* SYSTEM_TCG_INT_H */
