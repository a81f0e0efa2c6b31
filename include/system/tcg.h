/*
 * The TCG accelerator ("-accel tcg"): guest code run by QEMU's Tiny Code
 * Generator, packaged as a library by Unicorn 2.
 *
 * The accelerator registers itself (AccelOps "tcg"); the rest of the
 * VMM reaches it through system/accel.h.  What is declared here is the
 * x86 state layer on one bare engine (no thread, no port I/O), so that
 * tests can load, run and read back a vCPU without a machine, as they
 * do with a KVM vCPU file descriptor (system/kvm.h).
 *
 * A TCGX86Cpu holds the X86VcpuState last loaded into it; reading the
 * state back gives that copy until the engine has run, then what the
 * engine holds, with the parts Unicorn does not keep (events, lapic,
 * XCR0, debug registers, the MSRs it does not emulate, the hidden part
 * of segment registers that were not reloaded) carried over from the
 * copy.  docs/vmm.md lists what tcg supports.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_TCG_H
#define SYSTEM_TCG_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"
#include "system/x86-cpu-state.h"

#define TCG_ACCEL_NAME "tcg"

/* True when the machine runs on TCG. */
bool tcg_enabled(void);

typedef struct TCGX86Cpu TCGX86Cpu;

/*
 * The hooks the owner of a TCGX86Cpu installs on every engine it opens
 * (an engine is opened whenever a runnable state is loaded); opaque is
 * the uc_engine.  NULL @setup: no hooks.
 */
typedef bool (*TCGEngineSetup)(void *uc, void *opaque, Error **errp);

/* A vCPU with no state loaded: it cannot run until one is. */
TCGX86Cpu *tcg_x86_cpu_new(unsigned int index, TCGEngineSetup setup,
                           void *opaque);
void tcg_x86_cpu_free(TCGX86Cpu *c);

/*
 * Load @s.  A runnable state (mp_state RUNNABLE) goes into a fresh
 * engine over every RAM block; one that is not is only kept, to be read
 * back as it was.  Fails, naming what is wrong, for a state Unicorn
 * cannot hold (compatibility mode, ring 3, a segment whose hidden part
 * does not match its descriptor, pending events, AVX state...).
 */
bool tcg_x86_cpu_set_state(TCGX86Cpu *c, const X86VcpuState *s,
                           Error **errp);
/* The whole state (mp_state RUNNABLE). */
bool tcg_x86_cpu_get_state(TCGX86Cpu *c, X86VcpuState *s, Error **errp);

/*
 * Run the loaded state for at most @count instructions (tests).  The
 * vCPU layer runs engines itself (system/tcg-vcpu.c).
 */
bool tcg_x86_cpu_step(TCGX86Cpu *c, uint64_t count, Error **errp);

#endif /* SYSTEM_TCG_H */
