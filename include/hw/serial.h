/*
 * 16550A UART on the ISA port I/O bus.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_SERIAL_H
#define HW_SERIAL_H

#include <stdint.h>

#include "chardev/char.h"
#include "qapi/error.h"

#define SERIAL_ISA_BASE     0x3f8
#define SERIAL_ISA_NR_PORTS 8

typedef struct SerialState SerialState;
typedef struct VMStateDescription VMStateDescription;

/* The UART's migration state (opaque: the SerialState). */
extern const VMStateDescription vmstate_serial;

/*
 * Create a UART at @base (8 ports) talking to @chr (may be NULL: output
 * is discarded, no input), register its reset handler.  BQL held.
 */
SerialState *serial_isa_init(uint16_t base, Chardev *chr, Error **errp);

/* Put the registers in their power-on state (also the reset handler). */
void serial_reset(SerialState *s);

/* Release the ports, detach from the chardev and free.  NULL allowed. */
void serial_free(SerialState *s);

#endif /* HW_SERIAL_H */
