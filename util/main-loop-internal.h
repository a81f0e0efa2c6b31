/*
 * Pieces of the main loop shared between its source files.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UTIL_MAIN_LOOP_INTERNAL_H
#define UTIL_MAIN_LOOP_INTERNAL_H

#include <glib.h>

/* Attach the timer and bottom-half sources to ctx (once). */
void timer_source_attach(GMainContext *ctx);
void bh_source_attach(GMainContext *ctx);

/* The context the loop runs on, attaching its sources on first use. */
GMainContext *main_loop_context(void);

#endif /* UTIL_MAIN_LOOP_INTERNAL_H */
