/*
 * colo-vm's command line, parsed into the machine description and the
 * options that belong to the process.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_CMDLINE_H
#define SYSTEM_CMDLINE_H

#include <glib.h>

#include "system/machine.h"

typedef struct Cmdline {
    GPtrArray *qmp;         /* const char *, borrowed from argv */
    GPtrArray *chardevs;    /* -chardev arguments, borrowed from argv */
    GPtrArray *objects;     /* -object arguments, borrowed from argv */
    const char *name;
    const char *incoming;   /* -incoming URI, borrowed from argv */
} Cmdline;

/*
 * Parse argv into @cl and @ms.  Bad options print one line naming the
 * option and exit(1); -help, -version, -machine help and -accel help
 * print and exit(0).
 */
void cmdline_parse(Cmdline *cl, MachineState *ms, int argc, char **argv);

#endif /* SYSTEM_CMDLINE_H */
