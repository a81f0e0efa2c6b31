/*
 * Registry of accelerators and the choice of the one in use.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "system/accel.h"
#include "trace/trace.h"
#include "util/error-report.h"

#define ACCEL_MAX 8

/*
 * ops and count are filled by constructors, before main() and any other
 * thread.  current is chosen by accel_select() at start-up, before the
 * vCPU threads exist, and reset only after they were joined; every
 * thread reads it without a lock in between.
 */
typedef struct AccelRegistry {
    const AccelOps *ops[ACCEL_MAX];
    unsigned count;
    const AccelOps *current;
} AccelRegistry;

static AccelRegistry accel_registry;

void accel_register(const AccelOps *ops)
{
    AccelRegistry *r = &accel_registry;

    /* Registration happens from constructors: fail loudly, nothing to
     * propagate to. */
    if (accel_find(ops->name) || r->count == ACCEL_MAX) {
        fprintf(stderr, "accelerator '%s' registered twice or too many "
                "accelerators\n", ops->name);
        abort();
    }
    r->ops[r->count++] = ops;
}

const AccelOps *accel_find(const char *name)
{
    for (unsigned i = 0; i < accel_registry.count; i++) {
        if (strcmp(accel_registry.ops[i]->name, name) == 0) {
            return accel_registry.ops[i];
        }
    }
    return NULL;
}

const AccelOps *current_accel(void)
{
    return accel_registry.current;
}

char *accel_list_names(void)
{
    GString *s = g_string_new(NULL);

    for (unsigned i = 0; i < accel_registry.count; i++) {
        g_string_append_printf(s, "%s%s", i ? ", " : "",
                               accel_registry.ops[i]->name);
    }
    return g_string_free(s, false);
}

static void accel_use(const AccelOps *ops)
{
    accel_registry.current = ops;
    trace_accel_select(ops->name);
}

/*
 * No -accel: QEMU's -machine accel=kvm:tcg, KVM where /dev/kvm works
 * and TCG elsewhere, saying why on one line (a user who expected KVM
 * must not wonder why the guest is slow).
 */
static bool accel_select_default(Error **errp)
{
    const AccelOps *kvm = accel_find("kvm");
    const AccelOps *tcg = accel_find("tcg");
    Error *err = NULL;

    if (kvm && (!kvm->available || kvm->available(&err))) {
        accel_use(kvm);
        return true;
    }
    if (!tcg || (tcg->available && !tcg->available(NULL))) {
        if (err) {
            error_propagate(errp, err);
        } else {
            error_setg(errp, "no accelerator that runs guest code is "
                       "available");
        }
        return false;
    }
    error_report("no usable KVM (%s): using tcg",
                 err ? error_get_pretty(err) : "not built in");
    error_free(err);
    accel_use(tcg);
    return true;
}

bool accel_select(const char *name, Error **errp)
{
    const AccelOps *ops;

    if (!name) {
        return accel_select_default(errp);
    }
    ops = accel_find(name);
    if (!ops) {
        g_autofree char *names = accel_list_names();

        error_setg(errp, "invalid accelerator %s", name);
        error_append_hint(errp, "Available accelerators: %s\n", names);
        return false;
    }
    if (ops->available && !ops->available(errp)) {
        return false;
    }
    accel_use(ops);
    return true;
}

void accel_reset_current(void)
{
    accel_registry.current = NULL;
}
