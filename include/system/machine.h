/*
 * The machine: guest RAM, accelerator, devices, device tree, guest image
 * and vCPUs, created from the command line.  There is one machine type,
 * "colo-x86".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_MACHINE_H
#define SYSTEM_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"

#define MACHINE_TYPE_DEFAULT "colo-x86"
#define MACHINE_RAM_SIZE_DEFAULT (128 * 1024 * 1024ULL)
#define MACHINE_RAM_SIZE_MIN (2 * 1024 * 1024ULL)
#define MACHINE_RAM_SIZE_MAX (3 * 1024 * 1024 * 1024ULL)

typedef struct Chardev Chardev;

typedef struct MachineState {
    char *type;             /* "colo-x86" */
    uint64_t ram_size;      /* bytes */
    unsigned smp;           /* number of vCPUs, 1..MAX_CPUS */
    char *kernel;           /* -kernel: ELF64 guest, or NULL */
    char *drive;            /* -drive file=: raw boot image, or NULL */
    char *dumpdtb;          /* -machine dumpdtb=FILE, or NULL */
    char *accel;            /* -accel name, NULL for the default */
    bool start_paused;      /* -S */
    char *serial;           /* -serial spec; NULL: "null" */
    char *qtest;            /* -qtest spec, or NULL */
    Chardev *serial_chr;    /* the serial port's backend */
    void *fdt;              /* flattened device tree, built by fdt_build */
    uint32_t fdt_size;
    bool has_guest;         /* kernel or drive given */
} MachineState;

/* The machine being built or run; NULL before machine_new(). */
MachineState *current_machine(void);
/* Allocate the machine with defaults; it becomes current_machine(). */
MachineState *machine_new(void);
/* Free everything machine_init() created, then the machine. */
void machine_cleanup(void);
/*
 * Free the machine alone, when machine_init() was never called (a
 * program that only describes a machine, such as the stream tests).
 */
void machine_free(void);

/* Is @type a machine type we know? */
bool machine_type_valid(const char *type);
/* Print the machine types as `-machine help` does. */
void machine_print_types(void);

/*
 * RAM block "pc.ram" at gpa 0, accelerator (ms->accel; by default kvm
 * when a guest is given, else qtest, since nothing would run), devices
 * (the UART on ms->serial, "null" by default, and isa-debug-exit), FDT,
 * guest loading and vCPUs (created stopped), then one machine_reset()
 * that puts the guest and the vCPU boot state in place.  On failure
 * machine_cleanup() undoes what was done.  BQL.
 */
bool machine_init(MachineState *ms, Error **errp);
/* Devices and vCPUs back to their boot state.  Main thread, BQL. */
void machine_reset(void);

#endif /* SYSTEM_MACHINE_H */
