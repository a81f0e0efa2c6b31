/*
 * Shared pieces of the "ram" section tests.
 *
 * The accelerator is a fake with a dirty log per block: the test marks
 * pages there (as a guest write under KVM would be recorded) and only a
 * sync moves them to the block's bitmap.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "migration/options.h"
#include "migration/ram.h"
#include "migration/savevm-int.h"
#include "qapi/qapi-commands.h"
#include "ram-test.h"
#include "system/accel.h"
#include "util/bitmap.h"
#include "util/bql.h"

typedef struct FakeAccel {
    GHashTable *logs;       /* RAMBlock * -> unsigned long * bitmap */
    unsigned syncs;
} FakeAccel;

static FakeAccel fake_accel;

/* ---- options the section reads: the real ones, set as QMP would ---- */

void ram_test_set_auto_converge(bool on)
{
    MigrationCapabilityStatus st = {
        .capability = MIGRATION_CAPABILITY_AUTO_CONVERGE,
        .state = on,
    };
    MigrationCapabilityStatusList caps = { .value = &st };

    qmp_migrate_set_capabilities(&caps, &error_abort);
}

void ram_test_set_throttle(uint8_t initial, uint8_t increment)
{
    MigrateSetParameters p = {
        .has_cpu_throttle_initial = true,
        .cpu_throttle_initial = initial,
        .has_cpu_throttle_increment = true,
        .cpu_throttle_increment = increment,
    };

    qmp_migrate_set_parameters(&p, &error_abort);
}

/* ---- the section, as ram_mig_init() registers it ---- */

static SaveStateEntry *ram_test_entry(void)
{
    SaveStateEntry *se = savevm_find_entry(RAM_SECTION_NAME, 0);

    if (!se) {
        ram_mig_init();
        se = savevm_find_entry(RAM_SECTION_NAME, 0);
    }
    assert_non_null(se);
    assert_int_equal(se->version_id, 4);
    assert_non_null(se->ops);
    return se;
}

const SaveVMHandlers *ram_test_handlers(void)
{
    return ram_test_entry()->ops;
}

void *ram_test_opaque(void)
{
    return ram_test_entry()->opaque;
}

/* ---- the fake accelerator ---- */

static unsigned long *fake_log(RAMBlock *block)
{
    unsigned long *log = g_hash_table_lookup(fake_accel.logs, block);

    if (!log) {
        log = bitmap_new(block->npages);
        g_hash_table_insert(fake_accel.logs, block, log);
    }
    return log;
}

static bool fake_dirty_log_start(Error **errp)
{
    return true;
}

static void fake_dirty_log_stop(void)
{
}

static void fake_dirty_log_sync(RAMBlock *block)
{
    unsigned long *log = fake_log(block);

    fake_accel.syncs++;
    ram_block_merge_dirty(block, log);
    bitmap_zero(log, block->npages);
}

unsigned ram_test_kicks;

static void fake_vcpu_kick(CPUState *cpu)
{
    ram_test_kicks++;
}

static const AccelOps fake_accel_ops = {
    .name = "fake-ram-mig",
    .dirty_log_start = fake_dirty_log_start,
    .dirty_log_stop = fake_dirty_log_stop,
    .dirty_log_sync = fake_dirty_log_sync,
    .vcpu_kick = fake_vcpu_kick,
};

void ram_test_guest_write(RAMBlock *block, uint64_t page, uint8_t byte)
{
    assert_true(page < block->npages);
    block->host[page * TARGET_PAGE_SIZE] = byte;
    set_bit(page, fake_log(block));
}

uint64_t ram_test_resident_bytes(RAMBlock *block)
{
    g_autofree unsigned char *vec = g_malloc(block->npages);
    uint64_t n = 0;

    assert_int_equal(mincore(block->host, block->size, vec), 0);
    for (uint64_t i = 0; i < block->npages; i++) {
        n += vec[i] & 1;
    }
    return n * TARGET_PAGE_SIZE;
}

unsigned ram_test_accel_syncs(void)
{
    return fake_accel.syncs;
}

void ram_test_init(void)
{
    accel_register(&fake_accel_ops);
    bql_lock();
}

void ram_test_accel_setup(void)
{
    if (!fake_accel.logs) {
        fake_accel.logs = g_hash_table_new_full(NULL, NULL, NULL,
                                                (GDestroyNotify)bitmap_free);
    }
    g_hash_table_remove_all(fake_accel.logs);
    fake_accel.syncs = 0;
    migrate_options_reset();
    assert_true(accel_select("fake-ram-mig", &error_abort));
}

void ram_test_teardown(void)
{
    ram_dirty_log_stop();
    g_hash_table_remove_all(fake_accel.logs);
    ram_block_remove_all();
    ram_stats_reset();
}

static void __attribute__((destructor)) ram_test_free(void)
{
    if (fake_accel.logs) {
        g_hash_table_destroy(fake_accel.logs);
    }
}
