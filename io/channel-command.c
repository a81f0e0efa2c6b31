/*
 * Command channels: a child process's stdin and/or stdout.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "channel-impl.h"
#include "trace/trace.h"

typedef struct CommandState {
    pid_t pid;                  /* -1 once reaped */
    int exit_grace_ms;
    bool reads;                 /* we have a pipe from its stdout */
    bool saw_eof;               /* ... and read it to end of file */
} CommandState;

static ssize_t command_readv(QIOChannel *ioc, const struct iovec *iov,
                             size_t niov)
{
    CommandState *s = ioc->opaque;
    ssize_t ret;

    if (ioc->rfd < 0) {
        return -EBADF;
    }
    ret = qio_channel_fd_readv(ioc->rfd, iov, niov);
    if (ret == 0) {
        s->saw_eof = true;
    }
    return ret;
}

static ssize_t command_writev(QIOChannel *ioc, const struct iovec *iov,
                              size_t niov)
{
    if (ioc->wfd < 0) {
        return -EBADF;
    }
    return qio_channel_fd_writev(ioc->wfd, iov, niov);
}

/*
 * Wait up to ms for the child to become reapable.  A pidfd lets poll()
 * sleep exactly as long as needed; without one, poll in short naps.
 */
static void command_wait_exit(pid_t pid, int ms)
{
    int64_t deadline = g_get_monotonic_time() + (int64_t)ms * 1000;
    unsigned nap_us = 500;
#ifdef SYS_pidfd_open
    int pidfd = syscall(SYS_pidfd_open, pid, 0);

    if (pidfd >= 0) {
        struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

        while (poll(&pfd, 1, ms) < 0 && errno == EINTR) {
            ms = MAX(0, (deadline - g_get_monotonic_time()) / 1000);
        }
        close(pidfd);
        return;
    }
#endif
    while (g_get_monotonic_time() < deadline) {
        siginfo_t info = { 0 };

        if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0 ||
            info.si_pid == pid) {
            return;
        }
        g_usleep(nap_us);
        nap_us = MIN(nap_us * 2, 50000);
    }
}

/*
 * Death by SIGPIPE after we stopped reading its stdout before end of
 * file is our doing, not the command's failure.  A shell running the
 * command reports that death as status 128 + SIGPIPE.
 */
static bool command_sigpipe_expected(CommandState *s, int status)
{
    if (!s->reads || s->saw_eof) {
        return false;
    }
    return (WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE) ||
           (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGPIPE);
}

static bool command_status_ok(QIOChannel *ioc, int status, Error **errp)
{
    CommandState *s = ioc->opaque;

    if (command_sigpipe_expected(s, status)) {
        return true;
    }
    if (WIFEXITED(status)) {
        if (WEXITSTATUS(status) == 0) {
            return true;
        }
        error_setg(errp, "Command exited with status %d",
                   WEXITSTATUS(status));
        return false;
    }
    error_setg(errp, "Command was killed by signal %d", WTERMSIG(status));
    return false;
}

static int command_reap(QIOChannel *ioc, Error **errp)
{
    CommandState *s = ioc->opaque;
    bool killed = false;
    int status;
    pid_t ret;

    command_wait_exit(s->pid, s->exit_grace_ms);
    do {
        ret = waitpid(s->pid, &status, WNOHANG);
    } while (ret < 0 && errno == EINTR);
    if (ret == 0) {
        kill(s->pid, SIGKILL);
        killed = true;
        do {
            ret = waitpid(s->pid, &status, 0);
        } while (ret < 0 && errno == EINTR);
    }
    if (ret < 0) {
        error_setg_errno(errp, errno, "Unable to wait for command %d",
                         (int)s->pid);
        s->pid = -1;
        return -1;
    }
    trace_qio_channel_command_reaped(ioc, s->pid, status, killed);
    s->pid = -1;
    if (killed) {
        error_setg(errp,
                   "Command did not exit after its pipes were closed; "
                   "killed it");
        return -1;
    }
    return command_status_ok(ioc, status, errp) ? 0 : -1;
}

static int command_close(QIOChannel *ioc, Error **errp)
{
    /* End of file on its stdin first, so a writer to a file finishes. */
    if (ioc->wfd >= 0) {
        close(ioc->wfd);
    }
    if (ioc->rfd >= 0) {
        close(ioc->rfd);
    }
    ioc->rfd = ioc->wfd = -1;
    return command_reap(ioc, errp);
}

static void command_finalize(QIOChannel *ioc)
{
    g_free(ioc->opaque);
}

static const QIOChannelOps command_ops = {
    .type = "command",
    .readv = command_readv,
    .writev = command_writev,
    .close = command_close,
    .finalize = command_finalize,
};

/*
 * Runs in the child between fork and exec.  A parent that ignores
 * SIGPIPE (colo-vm does) or blocks signals in the spawning thread must
 * not pass that on: a command expects the defaults, and dying of SIGPIPE
 * is how a writer learns its reader has gone.
 */
static void command_child_setup(gpointer data)
{
    sigset_t none;

    signal(SIGPIPE, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

QIOChannel *qio_channel_command_new_spawn(const char *const argv[],
                                          int flags, Error **errp)
{
    int mode = flags & O_ACCMODE;
    bool reads = mode == O_RDONLY || mode == O_RDWR;
    bool writes = mode == O_WRONLY || mode == O_RDWR;
    g_autoptr(GError) gerr = NULL;
    int in_fd = -1, out_fd = -1;
    GPid pid;
    CommandState *s;
    QIOChannel *ioc;

    if (!reads && !writes) {
        error_setg(errp, "Command channel flags must be O_RDONLY, O_WRONLY "
                   "or O_RDWR");
        return NULL;
    }
    if (!argv || !argv[0]) {
        error_setg(errp, "Command is empty");
        return NULL;
    }
    if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                                  G_SPAWN_DO_NOT_REAP_CHILD |
                                  G_SPAWN_SEARCH_PATH |
                                  (reads ? 0 : G_SPAWN_STDOUT_TO_DEV_NULL),
                                  command_child_setup, NULL, &pid,
                                  writes ? &in_fd : NULL,
                                  reads ? &out_fd : NULL,
                                  NULL, &gerr)) {
        error_setg(errp, "Unable to run command '%s': %s", argv[0],
                   gerr->message);
        return NULL;
    }
    s = g_new0(CommandState, 1);
    s->pid = pid;
    s->reads = reads;
    s->exit_grace_ms = QIO_CHANNEL_COMMAND_EXIT_GRACE_MS;
    ioc = g_new(QIOChannel, 1);
    qio_channel_init(ioc, &command_ops, out_fd, in_fd, s);
    trace_qio_channel_command_spawn(ioc, argv[0], pid, mode);
    return ioc;
}

bool qio_channel_is_command(QIOChannel *ioc)
{
    return ioc->ops == &command_ops;
}

void qio_channel_command_set_exit_grace(QIOChannel *ioc, int ms)
{
    CommandState *s = ioc->opaque;

    g_assert(qio_channel_is_command(ioc));
    s->exit_grace_ms = MAX(ms, 0);
}

pid_t qio_channel_command_get_pid(QIOChannel *ioc)
{
    CommandState *s = ioc->opaque;

    g_assert(qio_channel_is_command(ioc));
    return s->pid;
}
