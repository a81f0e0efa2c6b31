/*
 * colo-vm's command-line options, spelt as QEMU spells them (one or two
 * leading dashes).  Every error is one line naming the option, and
 * exit 1.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "config-host.h"
#include "system/accel.h"
#include "system/cmdline.h"
#include "system/cpus.h"
#include "system/ram.h"
#include "trace/control.h"
#include "util/error-report.h"
#include "util/option.h"

typedef enum CmdlineOption {
    OPT_QMP,
    OPT_TRACE,
    OPT_MSG,
    OPT_NAME,
    OPT_MACHINE,
    OPT_ACCEL,
    OPT_MEMORY,
    OPT_SMP,
    OPT_KERNEL,
    OPT_DRIVE,
    OPT_PAUSED,
    OPT_SERIAL,
    OPT_CHARDEV,
    OPT_OBJECT,
    OPT_QTEST,
    OPT_INCOMING,
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
    { "machine", OPT_MACHINE, true },
    { "M", OPT_MACHINE, true },
    { "accel", OPT_ACCEL, true },
    { "m", OPT_MEMORY, true },
    { "smp", OPT_SMP, true },
    { "kernel", OPT_KERNEL, true },
    { "drive", OPT_DRIVE, true },
    { "S", OPT_PAUSED, false },
    { "serial", OPT_SERIAL, true },
    { "chardev", OPT_CHARDEV, true },
    { "object", OPT_OBJECT, true },
    { "qtest", OPT_QTEST, true },
    { "incoming", OPT_INCOMING, true },
    { "version", OPT_VERSION, false },
    { "h", OPT_HELP, false },
    { "help", OPT_HELP, false },
};

static void print_help(void)
{
    printf("usage: colo-vm [options]\n"
           "\n"
           "Machine:\n"
           "-machine [type=]colo-x86[,dumpdtb=FILE]\n"
           "                the machine (-machine help lists the types);\n"
           "                dumpdtb writes the device tree and exits\n"
           "-accel kvm|tcg|qtest\n"
           "                accelerator (default: kvm where /dev/kvm is "
           "usable,\n"
           "                else tcg; qtest runs no guest code)\n"
           "-m SIZE         guest RAM, 2M..3G in 4K steps (default 128M;\n"
           "                a plain number means MiB)\n"
           "-smp N          number of vCPUs, 1..%d (default 1)\n"
           "-kernel FILE    boot an ELF64 guest\n"
           "-drive file=FILE[,format=raw]\n"
           "                boot from the first sector of a raw image\n"
           "-S              do not start the vCPUs (QMP cont does)\n"
           "-serial SPEC    the UART's backend: null (default), stdio,\n"
           "                file:PATH, unix:PATH[,server=on,wait=off],\n"
           "                tcp:HOST:PORT[,...], chardev:ID\n"
           "-chardev BACKEND,id=ID[,...]\n"
           "                create a character device\n"
           "-object TYPE,id=ID[,...]\n"
           "                colo-compare, filter-mirror or\n"
           "                filter-redirector (docs/colo.md)\n"
           "-qtest SPEC     serve the qtest protocol on a chardev\n"
           "-incoming URI   wait for an incoming migration: tcp:HOST:PORT,\n"
           "                unix:PATH, exec:CMD, file:PATH, or defer\n"
           "                (then QMP migrate-incoming gives the URI)\n"
           "\n"
           "Monitor and debugging:\n"
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
           "See docs/qmp.md for the QMP protocol and docs/vmm.md for the "
           "machine.\n", MAX_CPUS);
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

/*
 * Handlers return OPTION_CONTINUE, or OPTION_EXIT_OK / OPTION_EXIT_FAIL
 * once they have printed what they had to (help, or an error).  They
 * never exit themselves, so their parsed option lists are freed first.
 */
typedef enum OptionResult {
    OPTION_CONTINUE,
    OPTION_EXIT_OK,
    OPTION_EXIT_FAIL,
} OptionResult;

/* Report "-OPTION ARG: error"; used by every handler below. */
static OptionResult option_fail(const char *option, const char *optarg,
                                Error *err)
{
    error_report("-%s %s: %s", option, optarg, error_get_pretty(err));
    error_free(err);
    return OPTION_EXIT_FAIL;
}

/* Parse @optarg with @implied_key and only @keys allowed; NULL: reported. */
static OptList *option_parse(const char *option, const char *optarg,
                             const char *implied_key,
                             const char *const *keys)
{
    Error *err = NULL;
    OptList *opts = opts_parse(optarg, implied_key, &err);

    if (!opts || !opts_check_keys(opts, keys, &err)) {
        opts_free(opts);
        option_fail(option, optarg, err);
        return NULL;
    }
    return opts;
}

static OptionResult handle_msg(const char *optarg)
{
    static const char *const keys[] = { "timestamp", NULL };
    g_autoptr(OptList) opts = option_parse("msg", optarg, NULL, keys);
    Error *err = NULL;

    if (!opts) {
        return OPTION_EXIT_FAIL;
    }
    if (!opts_get_bool(opts, "timestamp", false, &error_with_timestamp,
                       &err)) {
        return option_fail("msg", optarg, err);
    }
    return OPTION_CONTINUE;
}

static OptionResult handle_name(Cmdline *cl, const char *optarg)
{
    static const char *const keys[] = {
        "guest", "process", "debug-threads", NULL
    };
    g_autoptr(OptList) opts = option_parse("name", optarg, "guest", keys);
    Error *err = NULL;
    const char *process;
    bool debug_threads;

    if (!opts) {
        return OPTION_EXIT_FAIL;
    }
    /* debug-threads is accepted, and ignored, for QEMU compatibility. */
    if (!opts_get_bool(opts, "debug-threads", false, &debug_threads,
                       &err)) {
        return option_fail("name", optarg, err);
    }
    cl->name = optarg;
    process = opts_get(opts, "process");
    if (process) {
        prctl(PR_SET_NAME, process);
    }
    return OPTION_CONTINUE;
}

static OptionResult handle_machine(MachineState *ms, const char *optarg)
{
    static const char *const keys[] = { "type", "dumpdtb", NULL };
    g_autoptr(OptList) opts = option_parse("machine", optarg, "type", keys);
    const char *type, *dumpdtb;

    if (!opts) {
        return OPTION_EXIT_FAIL;
    }
    type = opts_get(opts, "type");
    dumpdtb = opts_get(opts, "dumpdtb");
    if (type && (strcmp(type, "help") == 0 || strcmp(type, "?") == 0)) {
        machine_print_types();
        return OPTION_EXIT_OK;
    }
    if (type) {
        if (!machine_type_valid(type)) {
            error_report("-machine %s: unsupported machine type '%s'",
                         optarg, type);
            fprintf(stderr, "Use -machine help to list supported "
                    "machines\n");
            return OPTION_EXIT_FAIL;
        }
        g_free(ms->type);
        ms->type = g_strdup(type);
    }
    if (dumpdtb) {
        if (!*dumpdtb) {
            error_report("-machine %s: dumpdtb needs a file name", optarg);
            return OPTION_EXIT_FAIL;
        }
        g_free(ms->dumpdtb);
        ms->dumpdtb = g_strdup(dumpdtb);
    }
    return OPTION_CONTINUE;
}

static OptionResult handle_accel(MachineState *ms, const char *optarg)
{
    static const char *const keys[] = { "accel", NULL };
    g_autoptr(OptList) opts = option_parse("accel", optarg, "accel", keys);
    const char *name;

    if (!opts) {
        return OPTION_EXIT_FAIL;
    }
    name = opts_get(opts, "accel");
    if (name && strcmp(name, "help") == 0) {
        g_auto(GStrv) names = NULL;
        g_autofree char *list = accel_list_names();

        printf("Accelerators supported in colo-vm binary:\n");
        names = g_strsplit(list, ", ", -1);
        for (char **n = names; *n; n++) {
            printf("%s\n", *n);
        }
        return OPTION_EXIT_OK;
    }
    if (!name || !accel_find(name)) {
        error_report("-accel %s: invalid accelerator %s", optarg,
                     name ? name : "");
        return OPTION_EXIT_FAIL;
    }
    g_free(ms->accel);
    ms->accel = g_strdup(name);
    return OPTION_CONTINUE;
}

/* QEMU's -m: a plain number is MiB, a suffix says otherwise. */
static OptionResult handle_memory(MachineState *ms, const char *optarg)
{
    static const char *const keys[] = { "size", NULL };
    g_autoptr(OptList) opts = option_parse("m", optarg, "size", keys);
    const char *value;
    Error *err = NULL;
    uint64_t size;

    if (!opts) {
        return OPTION_EXIT_FAIL;
    }
    value = opts_get(opts, "size");
    if (!value || !*value) {
        error_report("-m %s: missing 'size' option value", optarg);
        return OPTION_EXIT_FAIL;
    }
    if (!parse_option_size("size", value, &size, &err)) {
        return option_fail("m", optarg, err);
    }
    if (g_ascii_isdigit(value[strlen(value) - 1])) {
        size = size > UINT64_MAX >> 20 ? UINT64_MAX : size << 20;
    }
    if (size < MACHINE_RAM_SIZE_MIN || size > MACHINE_RAM_SIZE_MAX ||
        size % TARGET_PAGE_SIZE) {
        error_report("-m %s: RAM size must be a multiple of 4 KiB between "
                     "2 MiB and 3 GiB", optarg);
        return OPTION_EXIT_FAIL;
    }
    ms->ram_size = size;
    return OPTION_CONTINUE;
}

static OptionResult handle_smp(MachineState *ms, const char *optarg)
{
    static const char *const keys[] = { "cpus", NULL };
    g_autoptr(OptList) opts = option_parse("smp", optarg, "cpus", keys);
    Error *err = NULL;
    uint64_t n;

    if (!opts) {
        return OPTION_EXIT_FAIL;
    }
    if (!opts_get_number(opts, "cpus", 1, &n, &err)) {
        return option_fail("smp", optarg, err);
    }
    if (n < 1 || n > MAX_CPUS) {
        error_report("-smp %s: Invalid SMP CPUs %" PRIu64 ". The machine "
                     "'%s' supports 1 to %d", optarg, n, ms->type,
                     MAX_CPUS);
        return OPTION_EXIT_FAIL;
    }
    ms->smp = n;
    return OPTION_CONTINUE;
}

static OptionResult handle_drive(MachineState *ms, const char *optarg)
{
    static const char *const keys[] = { "file", "format", NULL };
    g_autoptr(OptList) opts = option_parse("drive", optarg, NULL, keys);
    const char *file, *format;

    if (!opts) {
        return OPTION_EXIT_FAIL;
    }
    file = opts_get(opts, "file");
    format = opts_get(opts, "format");
    if (!file || !*file) {
        error_report("-drive %s: A block device must be specified for "
                     "\"file\"", optarg);
        return OPTION_EXIT_FAIL;
    }
    if (format && strcmp(format, "raw") != 0) {
        error_report("-drive %s: Unknown driver '%s': only format=raw is "
                     "supported", optarg, format);
        return OPTION_EXIT_FAIL;
    }
    if (ms->drive) {
        error_report("-drive %s: only one drive is supported", optarg);
        return OPTION_EXIT_FAIL;
    }
    ms->drive = g_strdup(file);
    return OPTION_CONTINUE;
}

/* Options that only store their argument, at most once. */
static OptionResult handle_single(char **slot, const char *option,
                                  const char *optarg)
{
    if (*slot) {
        error_report("-%s %s: only one -%s is supported", option, optarg,
                     option);
        return OPTION_EXIT_FAIL;
    }
    if (!*optarg) {
        error_report("-%s: the argument must not be empty", option);
        return OPTION_EXIT_FAIL;
    }
    *slot = g_strdup(optarg);
    return OPTION_CONTINUE;
}

static OptionResult handle_trace(const char *optarg)
{
    Error *err = NULL;

    if (!trace_opt_parse(optarg, &err)) {
        return option_fail("trace", optarg, err);
    }
    return OPTION_CONTINUE;
}

static OptionResult handle_option(Cmdline *cl, MachineState *ms,
                                  const OptionDef *def, const char *optarg)
{
    switch (def->index) {
    case OPT_QMP:
        g_ptr_array_add(cl->qmp, (gpointer)optarg);
        return OPTION_CONTINUE;
    case OPT_TRACE:
        return handle_trace(optarg);
    case OPT_MSG:
        return handle_msg(optarg);
    case OPT_NAME:
        return handle_name(cl, optarg);
    case OPT_MACHINE:
        return handle_machine(ms, optarg);
    case OPT_ACCEL:
        return handle_accel(ms, optarg);
    case OPT_MEMORY:
        return handle_memory(ms, optarg);
    case OPT_SMP:
        return handle_smp(ms, optarg);
    case OPT_KERNEL:
        return handle_single(&ms->kernel, "kernel", optarg);
    case OPT_DRIVE:
        return handle_drive(ms, optarg);
    case OPT_PAUSED:
        ms->start_paused = true;
        return OPTION_CONTINUE;
    case OPT_SERIAL:
        return handle_single(&ms->serial, "serial", optarg);
    case OPT_CHARDEV:
        g_ptr_array_add(cl->chardevs, (gpointer)optarg);
        return OPTION_CONTINUE;
    case OPT_OBJECT:
        g_ptr_array_add(cl->objects, (gpointer)optarg);
        return OPTION_CONTINUE;
    case OPT_QTEST:
        return handle_single(&ms->qtest, "qtest", optarg);
    case OPT_INCOMING:
        cl->incoming = optarg;      /* the last one counts, as in QEMU */
        return OPTION_CONTINUE;
    case OPT_VERSION:
        printf("colo-vm version " COLO_VM_VERSION "\n");
        return OPTION_EXIT_OK;
    case OPT_HELP:
        print_help();
        return OPTION_EXIT_OK;
    }
    return OPTION_CONTINUE;
}

void cmdline_parse(Cmdline *cl, MachineState *ms, int argc, char **argv)
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
        switch (handle_option(cl, ms, def, def->has_arg ? argv[++i] : NULL)) {
        case OPTION_CONTINUE:
            break;
        case OPTION_EXIT_OK:
            exit(0);
        case OPTION_EXIT_FAIL:
            exit(1);
        }
    }
    if (ms->kernel && ms->drive) {
        error_report("-kernel and -drive cannot be used together");
        exit(1);
    }
}
