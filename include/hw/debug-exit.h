/*
 * isa-debug-exit: a one-port device the guest writes to make colo-vm
 * exit with status (value << 1) | 1, as QEMU's device of that name.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DEBUG_EXIT_H
#define HW_DEBUG_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"

#define DEBUG_EXIT_IOBASE   0x501
#define DEBUG_EXIT_IOSIZE   1

/* Register the device at @iobase (@iosize ports, usually 1).  BQL held. */
bool debug_exit_init(uint16_t iobase, uint16_t iosize, Error **errp);

#endif /* HW_DEBUG_EXIT_H */
