/*
 * The registry as the "ram" section tests see it: ram_mig_init() lands
 * here instead of in the stream framing, so the tests can call the
 * section's handlers one by one.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "migration/ram.h"
#include "ram-test.h"

static const SaveVMHandlers *registered_ops;
static void *registered_opaque;

int register_savevm_live(const char *idstr, uint32_t instance_id,
                         int version_id, const SaveVMHandlers *ops,
                         void *opaque)
{
    assert_string_equal(idstr, "ram");
    assert_int_equal(instance_id, 0);
    assert_int_equal(version_id, 4);
    assert_null(registered_ops);
    registered_ops = ops;
    registered_opaque = opaque;
    return 0;
}

void unregister_savevm(const char *idstr, void *opaque)
{
    assert_string_equal(idstr, "ram");
    if (registered_opaque == opaque) {
        registered_ops = NULL;
        registered_opaque = NULL;
    }
}

const SaveVMHandlers *ram_test_handlers(void)
{
    if (!registered_ops) {
        ram_mig_init();
    }
    assert_non_null(registered_ops);
    return registered_ops;
}

void *ram_test_opaque(void)
{
    ram_test_handlers();
    return registered_opaque;
}
