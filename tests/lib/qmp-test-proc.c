/*
 * QMP test library: spawning colo-vm, collecting its output, making sure
 * it never outlives the test.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qmp-test-int.h"

/*
 * Pids of running children, readable from a signal handler: plain
 * array, slots cleared to 0 when reaped.
 */
#define MAX_TRACKED 256
static volatile pid_t tracked_pids[MAX_TRACKED];

/*
 * Processes not yet freed.  A failed assertion leaves its test without
 * running the cleanup code, so at exit these are freed here, which
 * also removes their temporary directories.
 */
static GList *live_procs;

static void track_pid(pid_t pid)
{
    for (int i = 0; i < MAX_TRACKED; i++) {
        if (tracked_pids[i] == 0) {
            tracked_pids[i] = pid;
            return;
        }
    }
    /* Cannot guarantee cleanup for it: refuse to leave it running. */
    kill(pid, SIGKILL);
    g_printerr("qmptest: too many child processes\n");
    abort();
}

static void untrack_pid(pid_t pid)
{
    for (int i = 0; i < MAX_TRACKED; i++) {
        if (tracked_pids[i] == pid) {
            tracked_pids[i] = 0;
        }
    }
}

void qmptest_kill_all(void)
{
    /* Through the objects first, so that they know they were reaped. */
    for (GList *l = live_procs; l; l = l->next) {
        qmptest_kill(l->data);
    }
    for (int i = 0; i < MAX_TRACKED; i++) {
        pid_t pid = tracked_pids[i];

        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            tracked_pids[i] = 0;
        }
    }
}

static void fatal_signal_handler(int sig)
{
    /* Only async-signal-safe calls: kill, then die the way we were told. */
    for (int i = 0; i < MAX_TRACKED; i++) {
        if (tracked_pids[i] > 0) {
            kill(tracked_pids[i], SIGKILL);
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void qmptest_atexit(void)
{
    while (live_procs) {
        qmptest_free(live_procs->data);
    }
    qmptest_kill_all();
}

/*
 * Installed before main() so that a test framework that saves and
 * restores signal handlers around each test restores ours.
 */
__attribute__((constructor))
static void qmptest_install_cleanup(void)
{
    static const int sigs[] = { SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
    struct sigaction sa = { .sa_handler = fatal_signal_handler };

    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++) {
        sigaction(sigs[i], &sa, NULL);
    }
    /* A server closing the connection must not kill the test. */
    signal(SIGPIPE, SIG_IGN);
    atexit(qmptest_atexit);
}

int64_t qmptest_deadline(int timeout_ms)
{
    return g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
}

static void drain_pipe(int *fd, GString *buf)
{
    char chunk[4096];

    while (*fd >= 0) {
        ssize_t n = read(*fd, chunk, sizeof(chunk));

        if (n > 0) {
            g_string_append_len(buf, chunk, n);
        } else if (n == 0) {
            close(*fd);
            *fd = -1;
        } else if (errno != EINTR) {
            if (errno != EAGAIN) {
                close(*fd);
                *fd = -1;
            }
            return;
        }
    }
}

bool qmptest_proc_try_reap(QmpTestProc *proc)
{
    int status;
    pid_t r;

    if (proc->reaped) {
        return true;
    }
    do {
        r = waitpid(proc->pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == proc->pid) {
        proc->reaped = true;
        proc->status = status;
        untrack_pid(proc->pid);
        return true;
    }
    return false;
}

static void drain_output(QmpTestProc *proc)
{
    drain_pipe(&proc->err_fd, proc->err);
    drain_pipe(&proc->out_fd, proc->out);
}

short qmptest_proc_poll(QmpTestProc *proc, int fd, short events,
                        int64_t deadline)
{
    struct pollfd pfd[4];
    int n = 0, fd_idx = -1;
    int64_t now = g_get_monotonic_time();
    int wait_ms = now >= deadline ? 0 : (deadline - now + 999) / 1000;

    if (fd >= 0) {
        fd_idx = n;
        pfd[n++] = (struct pollfd){ .fd = fd, .events = events };
    }
    if (proc && proc->err_fd >= 0) {
        pfd[n++] = (struct pollfd){ .fd = proc->err_fd, .events = POLLIN };
    }
    if (proc && proc->out_fd >= 0) {
        pfd[n++] = (struct pollfd){ .fd = proc->out_fd, .events = POLLIN };
    }
    if (proc && !proc->reaped) {
        if (proc->pidfd >= 0) {
            pfd[n++] = (struct pollfd){ .fd = proc->pidfd, .events = POLLIN };
        } else if (wait_ms > 50) {
            /* Without a pidfd, exit is noticed by polling waitpid. */
            wait_ms = 50;
        }
    }
    if (poll(pfd, n, wait_ms) < 0 && errno != EINTR) {
        g_printerr("qmptest: poll: %s\n", g_strerror(errno));
        return 0;
    }
    if (proc) {
        drain_output(proc);
        qmptest_proc_try_reap(proc);
    }
    return fd_idx >= 0 ? pfd[fd_idx].revents : 0;
}

char *qmptest_free_tcp_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char *port = NULL;

    if (fd < 0) {
        return NULL;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
        port = g_strdup_printf("%u", ntohs(sa.sin_port));
    }
    close(fd);
    return port;
}

/* Everything the child does between fork and exec is async-signal-safe. */
static G_GNUC_NORETURN void exec_child(char **argv, pid_t parent,
                                       int err_w, int out_w)
{
    sigset_t all;
    int devnull;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) {
        _exit(127);     /* the test already died */
    }
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    signal(SIGPIPE, SIG_DFL);
    dup2(out_w, STDOUT_FILENO);
    dup2(err_w, STDERR_FILENO);
    devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull == STDIN_FILENO) {
        fcntl(devnull, F_SETFD, 0);     /* stdin was closed: keep it */
    } else if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
    }
    execv(argv[0], argv);
    {
        static const char msg[] = "qmptest: exec failed\n";
        ssize_t ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
        (void)ignored;
    }
    _exit(127);
}

static bool spawn(QmpTestProc *proc, char **argv)
{
    int err_p[2], out_p[2];
    pid_t parent = getpid();

    if (pipe2(err_p, O_CLOEXEC) < 0) {
        return false;
    }
    if (pipe2(out_p, O_CLOEXEC) < 0) {
        close(err_p[0]);
        close(err_p[1]);
        return false;
    }
    proc->pid = fork();
    if (proc->pid == 0) {
        exec_child(argv, parent, err_p[1], out_p[1]);
    }
    close(err_p[1]);
    close(out_p[1]);
    if (proc->pid < 0) {
        close(err_p[0]);
        close(out_p[0]);
        return false;
    }
    track_pid(proc->pid);
    proc->err_fd = err_p[0];
    proc->out_fd = out_p[0];
    fcntl(proc->err_fd, F_SETFL, O_NONBLOCK);
    fcntl(proc->out_fd, F_SETFL, O_NONBLOCK);
    proc->pidfd = syscall(SYS_pidfd_open, proc->pid, 0);
    return true;
}

static char *expand_tmpdir(const char *arg, const char *tmpdir)
{
    g_auto(GStrv) parts = g_strsplit(arg, "@TMPDIR@", -1);

    return g_strjoinv(tmpdir, parts);
}

static GPtrArray *build_argv(QmpTestProc *proc, const char *binary,
                             const char *const *extra, unsigned flags)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    const char *common = g_getenv("COLO_VM_ARGS");
    g_auto(GStrv) common_argv = NULL;

    g_ptr_array_add(argv, g_strdup(binary));
    /* Checked by qmptest_startv(), so it parses here. */
    if (common && *common &&
        g_shell_parse_argv(common, NULL, &common_argv, NULL)) {
        for (size_t i = 0; common_argv[i]; i++) {
            g_ptr_array_add(argv, g_strdup(common_argv[i]));
        }
    }
    for (size_t i = 0; extra && extra[i]; i++) {
        g_ptr_array_add(argv, expand_tmpdir(extra[i], proc->tmpdir));
    }
    if (!(flags & QMPTEST_NO_QMP)) {
        g_ptr_array_add(argv, g_strdup("-qmp"));
        g_ptr_array_add(argv, g_strdup_printf("%s,server=on,wait=off",
                                              proc->address));
    }
    g_ptr_array_add(argv, NULL);
    return argv;
}

static void set_address(QmpTestProc *proc, unsigned flags)
{
    g_free(proc->address);
    g_free(proc->sock_path);
    proc->sock_path = NULL;
    if (flags & QMPTEST_TCP) {
        g_autofree char *port = qmptest_free_tcp_port();

        proc->address = g_strdup_printf("tcp:127.0.0.1:%s",
                                        port ? port : "0");
    } else {
        proc->sock_path = g_build_filename(proc->tmpdir, "qmp.sock", NULL);
        proc->address = g_strdup_printf("unix:%s", proc->sock_path);
    }
}

static QmpTestProc *proc_new(void)
{
    QmpTestProc *proc = g_new0(QmpTestProc, 1);
    g_autoptr(GError) gerr = NULL;

    proc->pidfd = proc->err_fd = proc->out_fd = -1;
    proc->reaped = true;
    proc->err = g_string_new("");
    proc->out = g_string_new("");
    proc->clients = g_ptr_array_new_with_free_func(
        (GDestroyNotify)qmptest_client_free);
    proc->tmpdir = g_dir_make_tmp("colo-vm-test-XXXXXX", &gerr);
    if (!proc->tmpdir) {
        g_printerr("qmptest: %s\n", gerr->message);
        qmptest_free(proc);
        return NULL;
    }
    live_procs = g_list_prepend(live_procs, proc);
    return proc;
}

/*
 * A free tcp port found by the test may be taken by someone else before
 * the child binds it; then the child fails and we try another port.
 */
static bool lost_port_race(QmpTestProc *proc, unsigned flags)
{
    return (flags & QMPTEST_TCP) && qmptest_proc_try_reap(proc) &&
           strstr(proc->err->str, "in use");
}

QmpTestProc *qmptest_startv(const char *const *extra_argv, unsigned flags)
{
    const char *binary = g_getenv("COLO_VM_BINARY");
    QmpTestProc *proc;

    const char *common = g_getenv("COLO_VM_ARGS");
    g_auto(GStrv) common_argv = NULL;
    g_autoptr(GError) gerr = NULL;

    if (!binary || !*binary) {
        g_printerr("qmptest: COLO_VM_BINARY is not set\n");
        return NULL;
    }
    if (common && *common &&
        !g_shell_parse_argv(common, NULL, &common_argv, &gerr)) {
        g_printerr("qmptest: bad COLO_VM_ARGS '%s': %s\n", common,
                   gerr->message);
        return NULL;
    }
    proc = proc_new();
    if (!proc) {
        return NULL;
    }
    for (int attempt = 0; attempt < 5; attempt++) {
        g_autoptr(GPtrArray) argv = NULL;
        int64_t deadline = qmptest_deadline(QMPTEST_TIMEOUT_MS);

        set_address(proc, flags);
        argv = build_argv(proc, binary, extra_argv, flags);
        if (!spawn(proc, (char **)argv->pdata)) {
            g_printerr("qmptest: cannot start %s: %s\n", binary,
                       g_strerror(errno));
            break;
        }
        proc->reaped = false;
        if (flags & QMPTEST_NO_QMP) {
            return proc;
        }
        proc->main_client = qmptest_client_open(
            proc, proc->address, !(flags & QMPTEST_NO_NEGOTIATE), deadline);
        if (proc->main_client) {
            g_ptr_array_add(proc->clients, proc->main_client);
            return proc;
        }
        qmptest_wait_exit(proc, QMPTEST_TIMEOUT_MS);
        if (!lost_port_race(proc, flags)) {
            break;
        }
        g_string_truncate(proc->err, 0);
        g_string_truncate(proc->out, 0);
    }
    g_printerr("qmptest: colo-vm did not come up; its stderr:\n%s\n",
               qmptest_stderr(proc));
    qmptest_free(proc);
    return NULL;
}

QmpTestProc *qmptest_start(const char *extra_args, unsigned flags)
{
    g_auto(GStrv) argv = NULL;
    g_autoptr(GError) gerr = NULL;

    if (extra_args && *extra_args &&
        !g_shell_parse_argv(extra_args, NULL, &argv, &gerr)) {
        g_printerr("qmptest: bad arguments '%s': %s\n", extra_args,
                   gerr->message);
        return NULL;
    }
    return qmptest_startv((const char *const *)argv, flags);
}

static void remove_tmpdir(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;

    if (d) {
        while ((name = g_dir_read_name(d))) {
            g_autofree char *path = g_build_filename(dir, name, NULL);

            unlink(path);
        }
        g_dir_close(d);
    }
    rmdir(dir);
}

/*
 * A sanitizer report from the child is a bug even when the test's own
 * checks passed: fail loudly rather than let it scroll by.
 */
static void check_sanitizer_reports(QmpTestProc *proc)
{
    static const char *const markers[] = {
        "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
        "runtime error:",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(markers); i++) {
        if (strstr(proc->err->str, markers[i])) {
            g_printerr("qmptest: colo-vm (pid %d) reported a sanitizer "
                       "error:\n%s\n", (int)proc->pid, proc->err->str);
            abort();
        }
    }
}

void qmptest_free(QmpTestProc *proc)
{
    if (!proc) {
        return;
    }
    live_procs = g_list_remove(live_procs, proc);
    g_ptr_array_free(proc->clients, true);
    qmptest_kill(proc);
    check_sanitizer_reports(proc);
    if (proc->err_fd >= 0) {
        close(proc->err_fd);
    }
    if (proc->out_fd >= 0) {
        close(proc->out_fd);
    }
    if (proc->pidfd >= 0) {
        close(proc->pidfd);
    }
    if (proc->tmpdir) {
        remove_tmpdir(proc->tmpdir);
    }
    g_string_free(proc->err, true);
    g_string_free(proc->out, true);
    g_free(proc->tmpdir);
    g_free(proc->address);
    g_free(proc->sock_path);
    g_free(proc);
}

pid_t qmptest_pid(const QmpTestProc *proc)
{
    return proc->pid;
}

const char *qmptest_tmpdir(const QmpTestProc *proc)
{
    return proc->tmpdir;
}

const char *qmptest_qmp_address(const QmpTestProc *proc)
{
    return proc->address;
}

const char *qmptest_socket_path(const QmpTestProc *proc)
{
    return proc->sock_path;
}

QmpTestClient *qmptest_client(const QmpTestProc *proc)
{
    return proc->main_client;
}

int qmptest_wait_exit(QmpTestProc *proc, int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);

    while (!qmptest_proc_try_reap(proc)) {
        if (g_get_monotonic_time() >= deadline) {
            g_printerr("qmptest: pid %d did not exit within %d ms\n",
                       (int)proc->pid, timeout_ms);
            qmptest_kill(proc);
            return -1;
        }
        qmptest_proc_poll(proc, -1, 0, deadline);
    }
    /* Collect what it wrote just before exiting. */
    while ((proc->err_fd >= 0 || proc->out_fd >= 0) &&
           g_get_monotonic_time() < deadline) {
        qmptest_proc_poll(proc, -1, 0, deadline);
    }
    return proc->status;
}

bool qmptest_signal(QmpTestProc *proc, int sig)
{
    return !proc->reaped && kill(proc->pid, sig) == 0;
}

void qmptest_kill(QmpTestProc *proc)
{
    if (proc->reaped) {
        return;
    }
    kill(proc->pid, SIGKILL);
    while (waitpid(proc->pid, &proc->status, 0) < 0 && errno == EINTR) {
        continue;
    }
    proc->reaped = true;
    untrack_pid(proc->pid);
    drain_output(proc);
}

bool qmptest_exited(const QmpTestProc *proc)
{
    return proc->reaped;
}

const char *qmptest_stderr(QmpTestProc *proc)
{
    drain_output(proc);
    return proc->err->str;
}

const char *qmptest_stdout(QmpTestProc *proc)
{
    drain_output(proc);
    return proc->out->str;
}

bool qmptest_wait_stderr(QmpTestProc *proc, const char *needle,
                         int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);

    drain_output(proc);
    while (!strstr(proc->err->str, needle)) {
        if (g_get_monotonic_time() >= deadline || proc->err_fd < 0) {
            return strstr(proc->err->str, needle) != NULL;
        }
        qmptest_proc_poll(proc, -1, 0, deadline);
    }
    return true;
}
