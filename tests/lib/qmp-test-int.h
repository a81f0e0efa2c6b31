/*
 * Internals shared by the files of the QMP test client library.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_LIB_QMP_TEST_INT_H
#define TESTS_LIB_QMP_TEST_INT_H

#include "qmp-test.h"

struct QmpTestProc {
    pid_t pid;
    int pidfd;              /* readable once the child has exited */
    bool reaped;
    int status;             /* waitpid() status once reaped */
    int err_fd;             /* child's stderr, -1 after EOF */
    int out_fd;             /* child's stdout, -1 after EOF */
    GString *err;
    GString *out;
    char *tmpdir;
    char *address;          /* -qmp address without options */
    char *sock_path;        /* NULL for tcp */
    GPtrArray *clients;     /* QmpTestClient *, owned */
    QmpTestClient *main_client;
};

/*
 * One poll round, until @deadline at most: wait for @events on @fd
 * (fd < 0: none) while collecting the child's output and noticing its
 * exit.  Returns the revents of @fd (0 when something else woke us up or
 * the deadline passed); callers loop on their own condition.
 */
short qmptest_proc_poll(QmpTestProc *proc, int fd, short events,
                        int64_t deadline);
/* Reap the child if it has exited; true when reaped (now or before). */
bool qmptest_proc_try_reap(QmpTestProc *proc);

/* Client half: connect to @address, read the greeting. */
QmpTestClient *qmptest_client_open(QmpTestProc *proc, const char *address,
                                   bool negotiate, int64_t deadline);
void qmptest_client_free(QmpTestClient *client);

#endif /* TESTS_LIB_QMP_TEST_INT_H */
