/*
 * colo-vm: command line and main loop.
 *
 * Options are spelt as QEMU spells them (one or two leading dashes).
 * Every command-line error is one line naming the option, and exit 1.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "config-host.h"
#include "monitor/monitor.h"
#include "system/shutdown.h"
#include "trace/control.h"
#include "trace/trace.h"
#include "util/error-report.h"
#include "util/main-loop.h"
#include "util/option.h"

typedef enum CmdlineOption {
    OPT_QMP,
    OPT_TRACE,
    OPT_MSG,
    OPT_NAME,
    OPT_VERSION,
    OPT_HELP,
} CmdlineOption;

typedef struct OptionDef {
    const char *name;
    CmdlineOption index;
    bool has_arg;
} OptionDef;

static const OptionDef option_defs[] = {
    { "qmp", OPT_QMP, true },
    { "trace", OPT_TRACE, true },
    { "msg", OPT_MSG, true },
    { "name", OPT_NAME, true },
    { "version", OPT_VERSION, false },
    { "h", OPT_HELP, false },
    { "help", OPT_HELP, false },
};

typedef struct Cmdline {
    GPtrArray *qmp;         /* const char *, borrowed from argv */
    const char *name;
} Cmdline;

static void print_help(void)
{
    printf("usage: colo-vm [options]\n"
           "\n"
           "-qmp unix:PATH,server=on[,wait=on|off]\n"
           "-qmp tcp:HOST:PORT,server=on[,wait=on|off]\n"
           "                listen for QMP clients (may be repeated)\n"
           "-trace [enable=]PATTERN|events=FILE|file=PATH\n"
           "                enable trace events (may be repeated)\n"
           "-msg timestamp=on|off\n"
           "                prefix messages with a timestamp\n"
           "-name NAME      name of this instance\n"
           "-version        print the version and exit\n"
           "-h, -help       print this help and exit\n"
           "\n"
           "See docs/qmp.md for the QMP protocol.\n");
}

static const OptionDef *lookup_option(const char *arg)
{
    const char *name = arg + 1;

    if (*name == '-') {
        name++;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(option_defs); i++) {
        if (strcmp(option_defs[i].name, name) == 0) {
            return &option_defs[i];
        }
    }
    return NULL;
}

static void handle_msg(const char *optarg)
{
    static const char *const keys[] = { "timestamp", NULL };
    Error *err = NULL;
    g_autoptr(OptList) opts = opts_parse(optarg, NULL, &err);

    if (!opts || !opts_check_keys(opts, keys, &err) ||
        !opts_get_bool(opts, "timestamp", false, &error_with_timestamp,
                       &err)) {
        error_report("-msg %s: %s", optarg, error_get_pretty(err));
        error_free(err);
        exit(1);
    }
}

static void handle_name(Cmdline *cl, const char *optarg)
{
    static const char *const keys[] = {
        "guest", "process", "debug-threads", NULL
    };
    Error *err = NULL;
    g_autoptr(OptList) opts = opts_parse(optarg, "guest", &err);
    const char *process;
    bool debug_threads;

    /* debug-threads is accepted, and ignored, for QEMU compatibility. */
    if (!opts || !opts_check_keys(opts, keys, &err) ||
        !opts_get_bool(opts, "debug-threads", false, &debug_threads, &err)) {
        error_report("-name %s: %s", optarg, error_get_pretty(err));
        error_free(err);
        exit(1);
    }
    cl->name = optarg;
    process = opts_get(opts, "process");
    if (process) {
        prctl(PR_SET_NAME, process);
    }
}

static void handle_option(Cmdline *cl, const OptionDef *def,
                          const char *optarg)
{
    Error *err = NULL;

    switch (def->index) {
    case OPT_QMP:
        g_ptr_array_add(cl->qmp, (gpointer)optarg);
        break;
    case OPT_TRACE:
        if (!trace_opt_parse(optarg, &err)) {
            error_report("-trace %s: %s", optarg, error_get_pretty(err));
            error_free(err);
            exit(1);
        }
        break;
    case OPT_MSG:
        handle_msg(optarg);
        break;
    case OPT_NAME:
        handle_name(cl, optarg);
        break;
    case OPT_VERSION:
        printf("colo-vm version " COLO_VM_VERSION "\n");
        exit(0);
    case OPT_HELP:
        print_help();
        exit(0);
    }
}

static void parse_cmdline(Cmdline *cl, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const OptionDef *def;

        if (arg[0] != '-' || arg[1] == '\0') {
            error_report("%s: unexpected argument (see -help)", arg);
            exit(1);
        }
        def = lookup_option(arg);
        if (!def) {
            error_report("%s: invalid option", arg);
            exit(1);
        }
        if (def->has_arg && i + 1 >= argc) {
            error_report("%s: requires an argument", arg);
            exit(1);
        }
        handle_option(cl, def, def->has_arg ? argv[++i] : NULL);
    }
}

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

static void start_monitors(Cmdline *cl, int sigfd)
{
    Error *err = NULL;

    for (guint i = 0; i < cl->qmp->len; i++) {
        const char *optarg = g_ptr_array_index(cl->qmp, i);

        if (!monitor_qmp_add(optarg, &err)) {
            error_report("-qmp %s: %s", optarg, error_get_pretty(err));
            error_free(err);
            monitor_cleanup();
            exit(1);
        }
    }
    if (!monitor_qmp_wait_for_clients(sigfd, &err)) {
        struct signalfd_siginfo si;

        if (err) {
            error_report_err(err);
            monitor_cleanup();
            exit(1);
        }
        if (read_signal(sigfd, &si)) {
            report_signal(&si);
        }
        system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL);
    }
}

int main(int argc, char **argv)
{
    Cmdline cl = { .qmp = g_ptr_array_new() };
    Error *err = NULL;
    int sigfd;

    error_set_progname("colo-vm");
    parse_cmdline(&cl, argc, argv);
    if (!trace_init_backends(&err)) {
        error_report_err(err);
        exit(1);
    }
    sigfd = setup_signals();
    main_loop_init();
    monitor_init_qmp();
    start_monitors(&cl, sigfd);

    if (!system_shutdown_requested(NULL)) {
        main_loop_set_fd_handler(sigfd, signal_ready, NULL,
                                 GINT_TO_POINTER(sigfd));
        main_loop_run();
        main_loop_set_fd_handler(sigfd, NULL, NULL, NULL);
    }

    monitor_cleanup();
    trace_cleanup();
    close(sigfd);
    g_ptr_array_free(cl.qmp, true);
    return 0;
}
