/*
 * Running guest tests once per accelerator usable on this host.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "accel-test.h"
#include "kvm-test.h"
#include "test-require.h"

/* What a case's state points to: its accelerator and its own state. */
typedef struct AccelTestCase {
    const char *accel;
    void *param;
} AccelTestCase;

static const char *const accel_test_known[] = { "kvm", "tcg" };

static const char *accel_test_lookup(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(accel_test_known); i++) {
        if (!strcmp(accel_test_known[i], name)) {
            return accel_test_known[i];
        }
    }
    return NULL;
}

unsigned accel_test_list(const char *names[ACCEL_TEST_MAX])
{
    const char *env = g_getenv("COLO_TEST_ACCELS");
    g_auto(GStrv) wanted = NULL;
    unsigned n = 0;

    if (!env || !*env) {
        if (kvm_test_usable()) {
            names[n++] = "kvm";
        }
        names[n++] = "tcg";
        return n;
    }
    wanted = g_strsplit(env, ",", -1);
    for (char **w = wanted; *w && n < ACCEL_TEST_MAX; w++) {
        const char *name = accel_test_lookup(g_strstrip(*w));

        if (!name) {
            fprintf(stderr, "COLO_TEST_ACCELS: unknown accelerator '%s' "
                    "(known: kvm, tcg)\n", *w);
            exit(1);
        }
        names[n++] = name;
    }
    return n;
}

int accel_test_run_group(const char *group_name,
                         const struct CMUnitTest *tests, size_t ntests,
                         CMFixtureFunction group_setup,
                         CMFixtureFunction group_teardown)
{
    const char *accels[ACCEL_TEST_MAX];
    unsigned naccels = accel_test_list(accels);
    size_t n = (size_t)naccels * ntests;
    struct CMUnitTest *all = g_new0(struct CMUnitTest, n);
    AccelTestCase *cases = g_new0(AccelTestCase, n);
    int ret;

    for (unsigned a = 0; a < naccels; a++) {
        for (size_t t = 0; t < ntests; t++) {
            size_t i = a * ntests + t;

            all[i] = tests[t];
            all[i].name = g_strdup_printf("%s/%s", tests[t].name, accels[a]);
            cases[i] = (AccelTestCase) {
                .accel = accels[a], .param = tests[t].initial_state,
            };
            all[i].initial_state = &cases[i];
        }
    }
    ret = _cmocka_run_group_tests(group_name, all, n, group_setup,
                                  group_teardown);
    for (size_t i = 0; i < n; i++) {
        g_free((char *)all[i].name);
    }
    g_free(all);
    g_free(cases);
    return ret;
}

const char *accel_test_accel(void **state)
{
    const AccelTestCase *c = *state;

    if (!strcmp(c->accel, "kvm")) {
        TEST_REQUIRE(kvm_test_usable(), kvm_test_unmet());
    }
    return c->accel;
}

void *accel_test_param(void **state)
{
    const AccelTestCase *c = *state;

    return c->param;
}
