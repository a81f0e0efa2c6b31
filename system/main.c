/*
 * colo-vm: start-up, main loop and shutdown.
 *
 * The main thread takes the BQL before anything else and keeps it,
 * except while the main loop sleeps in poll and while it joins the vCPU
 * threads at exit.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "chardev/char.h"
#include "migration/migration.h"
#include "monitor/monitor.h"
#include "proxy/colo-proxy.h"
#include "qapi/qapi-commands.h"
#include "system/cmdline.h"
#include "system/fdt.h"
#include "system/machine.h"
#include "system/qtest.h"
#include "system/runstate.h"
#include "system/shutdown.h"
#include "trace/control.h"
#include "trace/trace.h"
#include "util/bql.h"
#include "util/error-report.h"
#include "util/main-loop.h"

/* argv[0] of @pid, for the "terminating on signal" message. */
static char *process_name(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
    char *contents = NULL;

    if (!g_file_get_contents(path, &contents, NULL, NULL) || !*contents) {
        g_free(contents);
        return g_strdup("unknown");
    }
    return contents;    /* the first NUL ends argv[0] */
}

static void report_signal(const struct signalfd_siginfo *si)
{
    trace_system_signal_received(si->ssi_signo, si->ssi_pid);
    if (si->ssi_pid) {
        g_autofree char *name = process_name(si->ssi_pid);

        error_report("terminating on signal %d from pid %d (%s)",
                     si->ssi_signo, si->ssi_pid, name);
    } else {
        error_report("terminating on signal %d", si->ssi_signo);
    }
}

/* Read one signal from the signalfd; false when none was pending. */
static bool read_signal(int sigfd, struct signalfd_siginfo *si)
{
    ssize_t n;

    do {
        n = read(sigfd, si, sizeof(*si));
    } while (n < 0 && errno == EINTR);
    return n == sizeof(*si);
}

static void signal_ready(void *opaque)
{
    int sigfd = GPOINTER_TO_INT(opaque);
    struct signalfd_siginfo si;

    if (read_signal(sigfd, &si)) {
        report_signal(&si);
        system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL);
    }
}

/*
 * Termination signals arrive through a signalfd so the shutdown runs in
 * the main loop like any other event, never inside a signal handler.
 */
static int setup_signals(void)
{
    sigset_t set;
    int fd;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        error_report("signalfd: %s", g_strerror(errno));
        exit(1);
    }
    return fd;
}

/* Everything a failed start-up must undo before exit(1). */
static G_GNUC_NORETURN void startup_fail(Error *err)
{
    if (err) {
        error_report_err(err);
    }
    migration_shutdown();
    machine_cleanup();
    qtest_server_cleanup();
    colo_proxy_cleanup();
    chardev_cleanup_all();
    monitor_cleanup();
    trace_cleanup();
    exit(1);
}

static void create_chardevs(Cmdline *cl)
{
    Error *err = NULL;

    for (guint i = 0; i < cl->chardevs->len; i++) {
        const char *optarg = g_ptr_array_index(cl->chardevs, i);

        if (!chardev_new_from_opts(optarg, &err)) {
            error_prepend(&err, "-chardev %s: ", optarg);
            startup_fail(err);
        }
    }
}

/* After the machine: the objects name the serial port's chardev. */
static void create_objects(Cmdline *cl)
{
    Error *err = NULL;

    for (guint i = 0; i < cl->objects->len; i++) {
        const char *optarg = g_ptr_array_index(cl->objects, i);

        if (!colo_proxy_object_add(optarg, &err)) {
            error_prepend(&err, "-object %s: ", optarg);
            startup_fail(err);
        }
    }
}

/*
 * Build the machine; -machine dumpdtb=FILE only writes its device tree
 * and exits, as QEMU does.
 */
static void create_machine(MachineState *ms)
{
    Error *err = NULL;

    if (!machine_init(ms, &err)) {
        startup_fail(err);
    }
    if (ms->dumpdtb) {
        if (!fdt_dump(ms, ms->dumpdtb, &err)) {
            error_prepend(&err, "-machine dumpdtb=%s: ", ms->dumpdtb);
            startup_fail(err);
        }
        migration_shutdown();
        machine_cleanup();
        chardev_cleanup_all();
        trace_cleanup();
        exit(0);
    }
    if (ms->qtest && !qtest_server_init(ms->qtest, &err)) {
        error_prepend(&err, "-qtest %s: ", ms->qtest);
        startup_fail(err);
    }
}

static void start_monitors(Cmdline *cl, int sigfd)
{
    Error *err = NULL;

    for (guint i = 0; i < cl->qmp->len; i++) {
        const char *optarg = g_ptr_array_index(cl->qmp, i);

        if (!monitor_qmp_add(optarg, &err)) {
            error_prepend(&err, "-qmp %s: ", optarg);
            startup_fail(err);
        }
    }
    if (!monitor_qmp_wait_for_clients(sigfd, &err)) {
        struct signalfd_siginfo si;

        if (err) {
            startup_fail(err);
        }
        if (read_signal(sigfd, &si)) {
            report_signal(&si);
        }
        system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL);
    }
}

/* Wait for the socket chardevs that asked for it (wait=on). */
static void wait_for_chardev_clients(int sigfd)
{
    Error *err = NULL;
    struct signalfd_siginfo si;

    if (chardev_wait_for_clients(sigfd, &err)) {
        return;
    }
    if (err) {
        startup_fail(err);
    }
    if (read_signal(sigfd, &si)) {
        report_signal(&si);
    }
    system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL);
}

/*
 * Run until a shutdown request; then stop and join the vCPUs.  With
 * -incoming the guest starts once the incoming migration completes.
 */
static void run(MachineState *ms, const char *incoming, int sigfd)
{
    Error *err = NULL;

    if (system_shutdown_requested(NULL)) {
        return;
    }
    vm_set_autostart(!ms->start_paused);
    if (incoming) {
        if (!migration_incoming_start(incoming, &err)) {
            error_prepend(&err, "-incoming %s: ", incoming);
            startup_fail(err);
        }
    } else if (vm_get_autostart() && !vm_start(&err)) {
        startup_fail(err);
    }
    main_loop_set_fd_handler(sigfd, signal_ready, NULL,
                             GINT_TO_POINTER(sigfd));
    main_loop_run();
    main_loop_set_fd_handler(sigfd, NULL, NULL, NULL);
}

int main(int argc, char **argv)
{
    Cmdline cl = {
        .qmp = g_ptr_array_new(),
        .chardevs = g_ptr_array_new(),
        .objects = g_ptr_array_new(),
    };
    MachineState *ms;
    Error *err = NULL;
    int status;
    int sigfd;

    error_set_progname("colo-vm");
    ms = machine_new();
    cmdline_parse(&cl, ms, argc, argv);
    if (!trace_init_backends(&err)) {
        error_report_err(err);
        exit(1);
    }
    sigfd = setup_signals();
    bql_lock();
    main_loop_init();
    monitor_init_qmp(qmp_init_marshal);
    migration_init();
    create_chardevs(&cl);
    create_machine(ms);
    create_objects(&cl);
    if (cl.incoming && !runstate_set(RUN_STATE_INMIGRATE, &err)) {
        startup_fail(err);
    }
    start_monitors(&cl, sigfd);
    if (!system_shutdown_requested(NULL)) {
        wait_for_chardev_clients(sigfd);
    }
    run(ms, cl.incoming, sigfd);

    /* Migration threads use the vCPUs and RAM: end them before. */
    migration_shutdown();
    /* vCPUs first: nothing may run the guest while the rest goes away. */
    machine_cleanup();
    qtest_server_cleanup();
    monitor_cleanup();
    colo_proxy_cleanup();
    chardev_cleanup_all();
    runstate_cleanup();
    trace_cleanup();
    status = system_shutdown_exit_status();
    bql_unlock();
    close(sigfd);
    g_ptr_array_free(cl.qmp, true);
    g_ptr_array_free(cl.chardevs, true);
    g_ptr_array_free(cl.objects, true);
    return status;
}
