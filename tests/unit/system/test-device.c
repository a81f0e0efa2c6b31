/*
 * The device registry: classes realized in the order of their names,
 * their migration state registered and removed with them, a failed
 * realize undoing the devices before it, and the device-tree hook.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "migration/savevm-int.h"
#include "migration/vmstate.h"
#include "system/device.h"
#include "system/fdt.h"
#include "system/machine.h"
#include "util/bql.h"

typedef struct FakeDev {
    uint32_t value;
} FakeDev;

static const VMStateDescription vmstate_fake = {
    .name = "fake-dev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(value, FakeDev),
        VMSTATE_END_OF_LIST()
    },
};

/* What the classes were asked to do, in order: "+a -a ..." */
static GString *journal;
static bool fail_realize_b;
static FakeDev dev_a;

static bool a_realize(MachineState *ms, void **state, Error **errp)
{
    g_string_append(journal, "+a ");
    *state = &dev_a;
    return true;
}

static void a_unrealize(void *state)
{
    assert_ptr_equal(state, &dev_a);
    g_string_append(journal, "-a ");
}

static void a_fdt_describe(FdtBuilder *b)
{
    g_string_append(journal, "fdt-a ");
}

static bool b_realize(MachineState *ms, void **state, Error **errp)
{
    if (fail_realize_b) {
        error_setg(errp, "b cannot be created");
        return false;
    }
    g_string_append(journal, "+b ");
    *state = NULL;
    return true;
}

static void b_unrealize(void *state)
{
    g_string_append(journal, "-b ");
}

/* Registered b first: the registry orders by name, not by arrival. */
static const DeviceClass class_b = {
    .name = "fake-b",
    .realize = b_realize,
    .unrealize = b_unrealize,
};

static const DeviceClass class_a = {
    .name = "fake-a",
    .realize = a_realize,
    .unrealize = a_unrealize,
    .vmsd = &vmstate_fake,
    .fdt_describe = a_fdt_describe,
};

static int setup(void **state)
{
    g_string_truncate(journal, 0);
    fail_realize_b = false;
    return 0;
}

static void test_realize_in_name_order(void **state)
{
    MachineState ms = { 0 };

    assert_true(devices_realize(&ms, &error_abort));
    assert_string_equal(journal->str, "+a +b ");
    /* The state the class returned is what the stream describes. */
    assert_non_null(savevm_find_entry("fake-dev", 0));
    assert_ptr_equal(savevm_find_entry("fake-dev", 0)->opaque, &dev_a);

    devices_unrealize();
    assert_string_equal(journal->str, "+a +b -b -a ");
    assert_null(savevm_find_entry("fake-dev", 0));
}

static void test_failed_realize_undoes(void **state)
{
    MachineState ms = { 0 };
    Error *err = NULL;

    fail_realize_b = true;
    assert_false(devices_realize(&ms, &err));
    assert_non_null(err);
    assert_string_equal(error_get_pretty(err), "b cannot be created");
    error_free(err);
    assert_string_equal(journal->str, "+a -a ");
    assert_null(savevm_find_entry("fake-dev", 0));

    /* Nothing is left behind: the machine can be created again. */
    fail_realize_b = false;
    g_string_truncate(journal, 0);
    assert_true(devices_realize(&ms, &error_abort));
    devices_unrealize();
    assert_string_equal(journal->str, "+a +b -b -a ");
}

static void test_fdt_describe_without_instances(void **state)
{
    /* The tree is built from the classes: no device need exist yet. */
    devices_fdt_describe(NULL);
    assert_string_equal(journal->str, "fdt-a ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_realize_in_name_order, setup),
        cmocka_unit_test_setup(test_failed_realize_undoes, setup),
        cmocka_unit_test_setup(test_fdt_describe_without_instances, setup),
    };
    int ret;

    device_class_register(&class_b);
    device_class_register(&class_a);
    journal = g_string_new(NULL);
    bql_lock();
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    bql_unlock();
    g_string_free(journal, true);
    return ret;
}
