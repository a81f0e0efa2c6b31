/*
 * Talking to a guest's serial port from a test.
 *
 * With -serial stdio the guest's output is colo-vm's stdout, which the
 * QMP test library collects (qmptest_stdout()); the waits here poll it
 * with a deadline.  With -serial unix:PATH,server=on,wait=off the test
 * connects to the socket with serial_connect() and exchanges lines.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_LIB_SERIAL_TEST_H
#define TESTS_LIB_SERIAL_TEST_H

#include <stdbool.h>
#include <glib.h>

#include "qmp-test.h"

/* How many times @c appears in everything @proc wrote to stdout. */
unsigned serial_count_char(QmpTestProc *proc, char c);
/*
 * Wait up to @timeout_ms until stdout holds @c at least @count times
 * in all; false on timeout or when the process closed its stdout.
 */
bool serial_wait_char_count(QmpTestProc *proc, char c, unsigned count,
                            int timeout_ms);
/* Wait for @more further occurrences of @c, counted from now. */
bool serial_wait_more_chars(QmpTestProc *proc, char c, unsigned more,
                            int timeout_ms);
/* Wait up to @timeout_ms until stdout contains @needle. */
bool serial_wait_stdout(QmpTestProc *proc, const char *needle,
                        int timeout_ms);

typedef struct SerialConn SerialConn;

/*
 * Connect to the unix socket @path that @proc serves a serial port on,
 * retrying until it exists or @timeout_ms passes.  NULL on failure.
 */
SerialConn *serial_connect(QmpTestProc *proc, const char *path,
                           int timeout_ms);
void serial_conn_free(SerialConn *conn);
/* Send @text as it is; false when the connection is gone. */
bool serial_conn_send(SerialConn *conn, const char *text);
/*
 * The next line the guest sent, without its "\n" (and "\r"), waiting up
 * to @timeout_ms for it; NULL on timeout or end of connection.  Free
 * with g_free().
 */
char *serial_conn_read_line(SerialConn *conn, int timeout_ms);
/* Send @line plus "\n" and return the reply line (as above). */
char *serial_conn_request(SerialConn *conn, const char *line,
                          int timeout_ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SerialConn, serial_conn_free)

#endif /* TESTS_LIB_SERIAL_TEST_H */
