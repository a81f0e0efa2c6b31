/*
 * Command channels: talk to a child process through pipes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IO_CHANNEL_COMMAND_H
#define IO_CHANNEL_COMMAND_H

#include <sys/types.h>
#include "io/channel.h"

/*
 * Run argv (argv[0] looked up in PATH; "exec:CMD" is spawned as
 * {"/bin/sh", "-c", CMD, NULL}).  flags O_RDONLY: the channel reads the
 * child's stdout, its stdin is /dev/null; O_WRONLY: the channel writes
 * the child's stdin, its stdout is /dev/null; O_RDWR: both pipes.  The
 * child's stderr is ours.
 *
 * qio_channel_close() (or the last unref) closes the pipes, so the child
 * sees end of file, and then waits for the child to exit; a child still
 * running after QIO_CHANNEL_COMMAND_EXIT_GRACE_MS is killed (SIGKILL) and
 * reaped, so no zombie is ever left.  close() reports a failed child:
 * "Command exited with status N", "Command was killed by signal N",
 * "Command did not exit after its pipes were closed; killed it".  A
 * child that dies of SIGPIPE (or, run by a shell, exits with status
 * 128 + SIGPIPE) because the channel stopped reading its stdout before
 * end of file is not an error: the channel asked for it.
 */
#define QIO_CHANNEL_COMMAND_EXIT_GRACE_MS 30000

QIOChannel *qio_channel_command_new_spawn(const char *const argv[],
                                          int flags, Error **errp);
bool qio_channel_is_command(QIOChannel *ioc);
/* Change the grace period close() gives the child (milliseconds). */
void qio_channel_command_set_exit_grace(QIOChannel *ioc, int ms);
/* The child's pid, or -1 once it has been reaped. */
pid_t qio_channel_command_get_pid(QIOChannel *ioc);

#endif /* IO_CHANNEL_COMMAND_H */
