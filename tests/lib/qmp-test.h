/*
 * A QMP client for tests that spawn colo-vm.
 *
 * A test starts the binary named by the COLO_VM_BINARY environment
 * variable (with the arguments in COLO_VM_ARGS, if set, before its own:
 * suites that need no guest set "-accel qtest" there) with qmptest_start(), talks to it over one or more QMP
 * connections and ends it with qmptest_quit(), qmptest_wait_exit() or
 * qmptest_kill().  Every wait polls with a deadline; nothing sleeps.
 *
 * Lifetime: every spawned process is recorded.  If the test exits
 * without freeing it (a failed assertion skips the test's cleanup), an
 * atexit handler kills and reaps it and removes its temporary
 * directory; on SIGABRT/SIGSEGV/SIGBUS/SIGFPE/SIGILL a handler kills it
 * with SIGKILL.  The child also gets SIGKILL from the kernel when the
 * test process dies (PR_SET_PDEATHSIG), so no colo-vm outlives its
 * test.
 *
 * Failures (timeouts, connection closed, malformed replies) are returned
 * as NULL / false / -1 and explained on stderr, so the test's own
 * assertion marks the failing step.
 *
 * Example:
 *     g_autoptr(QmpTestProc) vm = qmptest_start(NULL, 0);
 *     QmpTestClient *c = qmptest_client(vm);
 *     qmptest_auto_json json_t *r =
 *         qmptest_cmd(c, "{'execute': 'query-version'}");
 *     assert_non_null(qmptest_return(r));
 *     assert_int_equal(qmptest_quit(vm, QMPTEST_TIMEOUT_MS), 0);
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_LIB_QMP_TEST_H
#define TESTS_LIB_QMP_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>
#include <jansson.h>

/* Generous: tests run in parallel, under sanitizers, on slow machines. */
#define QMPTEST_TIMEOUT_MS 60000

/* A g_get_monotonic_time() value @timeout_ms from now. */
int64_t qmptest_deadline(int timeout_ms);

typedef struct QmpTestProc QmpTestProc;
typedef struct QmpTestClient QmpTestClient;

typedef enum QmpTestFlags {
    QMPTEST_DEFAULT = 0,
    /* Do not add the -qmp option nor connect (command-line tests). */
    QMPTEST_NO_QMP = 1u << 0,
    /* Connect and read the greeting but skip qmp_capabilities. */
    QMPTEST_NO_NEGOTIATE = 1u << 1,
    /* Listen on tcp:127.0.0.1:<free port> instead of a unix socket. */
    QMPTEST_TCP = 1u << 2,
} QmpTestFlags;

/*
 * Start colo-vm with @extra_args (split like a shell command line; may
 * be NULL) followed by
 *     -qmp unix:<tmpdir>/qmp.sock,server=on,wait=off
 * (or a tcp address with QMPTEST_TCP), connect to it, read the greeting
 * and negotiate capabilities.  The string may contain "@TMPDIR@", which
 * is replaced by the process's private temporary directory.  Returns
 * NULL when the binary cannot be started or the connection fails; the
 * child's stderr is then printed.
 */
QmpTestProc *qmptest_start(const char *extra_args, unsigned flags);
/* Same with an argument vector (NULL-terminated). */
QmpTestProc *qmptest_startv(const char *const *extra_argv, unsigned flags);

/*
 * Release everything: close the connections, kill the process with
 * SIGKILL if it is still running, reap it and remove the temporary
 * directory.  NULL is allowed.  If the process's stderr holds an
 * AddressSanitizer, LeakSanitizer or UBSan report, print it and abort
 * the test.
 */
void qmptest_free(QmpTestProc *proc);

pid_t qmptest_pid(const QmpTestProc *proc);
/* The process's private directory (removed by qmptest_free()). */
const char *qmptest_tmpdir(const QmpTestProc *proc);
/* "unix:PATH" or "tcp:127.0.0.1:PORT": the -qmp address (no options). */
const char *qmptest_qmp_address(const QmpTestProc *proc);
/* The unix socket path, or NULL for tcp. */
const char *qmptest_socket_path(const QmpTestProc *proc);

/*
 * A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked
 * it and it was released again), as a string to g_free(); NULL when
 * none could be had.  Another process may take it meanwhile, so use it
 * where a failed listen is reported, not silently retried.
 */
char *qmptest_free_tcp_port(void);

/* The connection opened by qmptest_start() (NULL with QMPTEST_NO_QMP). */
QmpTestClient *qmptest_client(const QmpTestProc *proc);

/*
 * Open another connection to @address ("unix:PATH" or "tcp:HOST:PORT";
 * NULL means the process's -qmp address), retrying until the listener
 * exists or the deadline passes, and read the greeting; with @negotiate
 * also run qmp_capabilities.  The client belongs to @proc, which frees
 * it, but may be closed earlier with qmptest_client_close().
 */
QmpTestClient *qmptest_connect(QmpTestProc *proc, const char *address,
                               bool negotiate);
void qmptest_client_close(QmpTestClient *client);

/* The greeting the server sent on connect (borrowed). */
json_t *qmptest_greeting(const QmpTestClient *client);
/* Run qmp_capabilities; true when it returned {"return": {}}. */
bool qmptest_negotiate(QmpTestClient *client);

/*
 * Send a request and wait for its reply, queuing the events that
 * arrive in between.  The text is printf-formatted; single quotes in it
 * are turned into double quotes so C string literals stay readable
 * (write \\' for a literal single quote).  Returns the reply object (a
 * new reference: {"return": ...} or {"error": ...}) or NULL on timeout
 * or end of connection.
 */
json_t *qmptest_cmd(QmpTestClient *client, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
/* Same with a JSON value (borrowed), sent as it is. */
json_t *qmptest_cmd_json(QmpTestClient *client, json_t *request);
/* Send the formatted request without waiting. */
bool qmptest_send(QmpTestClient *client, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
/* Send bytes exactly as given (for malformed input). */
bool qmptest_send_raw(QmpTestClient *client, const void *buf, size_t len);

/*
 * Return the oldest reply (a message that is not an event) kept by
 * qmptest_wait_event() or qmptest_wait_closed(), or wait up to
 * @timeout_ms for the next one, queuing events.  New reference or NULL.
 */
json_t *qmptest_wait_reply(QmpTestClient *client, int timeout_ms);
/*
 * Return the first queued event called @name, or wait up to
 * @timeout_ms for one.  Other events and any replies that arrive
 * meanwhile are kept for later calls.  New reference or NULL.
 */
json_t *qmptest_wait_event(QmpTestClient *client, const char *name,
                           int timeout_ms);
/* Number of events received but not yet taken by qmptest_wait_event(). */
unsigned qmptest_event_count(const QmpTestClient *client);
/*
 * Wait up to @timeout_ms for the server to close the connection,
 * keeping whatever it sends first; true when it did.
 */
bool qmptest_wait_closed(QmpTestClient *client, int timeout_ms);

/* Accessors on reply objects; NULL when not of that kind. */
json_t *qmptest_return(json_t *reply);
const char *qmptest_error_class(json_t *reply);
const char *qmptest_error_desc(json_t *reply);

/*
 * Send quit on the first connection (when there is one), then wait up
 * to @timeout_ms for the process to exit.  Returns the waitpid() status,
 * or -1 if it did not exit in time (it is then killed and reaped).
 */
int qmptest_quit(QmpTestProc *proc, int timeout_ms);
/* Wait for the process to exit on its own; status as qmptest_quit(). */
int qmptest_wait_exit(QmpTestProc *proc, int timeout_ms);
/* Send @sig to the process. */
bool qmptest_signal(QmpTestProc *proc, int sig);
/* SIGKILL and reap (no-op when already reaped). */
void qmptest_kill(QmpTestProc *proc);
/* True once the process has been reaped. */
bool qmptest_exited(const QmpTestProc *proc);

/*
 * What the process wrote to stderr / stdout so far.  Output is collected
 * whenever the library waits, so the child never blocks on a full pipe;
 * these calls also drain what is pending.  Borrowed, valid until the
 * next call on @proc.
 */
const char *qmptest_stderr(QmpTestProc *proc);
const char *qmptest_stdout(QmpTestProc *proc);
/* Wait up to @timeout_ms until stderr contains @needle. */
bool qmptest_wait_stderr(QmpTestProc *proc, const char *needle,
                         int timeout_ms);

/*
 * Kill (SIGKILL) and reap every process this test started that is
 * still running; the QmpTestProc objects stay valid.
 */
void qmptest_kill_all(void);

/* Drop a json_t reference when the variable goes out of scope. */
void qmptest_json_cleanup(json_t **obj);
#define qmptest_auto_json __attribute__((cleanup(qmptest_json_cleanup)))

G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpTestProc, qmptest_free)

#endif /* TESTS_LIB_QMP_TEST_H */
