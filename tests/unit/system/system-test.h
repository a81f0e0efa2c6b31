/*
 * Shared pieces of the system unit tests: the events they emit are
 * recorded instead of sent.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_UNIT_SYSTEM_TEST_H
#define TESTS_UNIT_SYSTEM_TEST_H

#include <jansson.h>

#include "qapi/qapi-events.h"

/* Forget the events recorded so far. */
void test_events_clear(void);
/* Number of events recorded. */
unsigned test_events_count(void);
/* Name of event @i ("STOP", ...), or NULL past the end. */
const char *test_event_name(unsigned i);
/* Event @i's "data" member (borrowed), or NULL. */
json_t *test_event_data(unsigned i);
/* Names of all recorded events joined by spaces (caller frees). */
char *test_events_joined(void);
/* Run every pending bottom half. */
void test_run_bhs(void);

#endif /* TESTS_UNIT_SYSTEM_TEST_H */
