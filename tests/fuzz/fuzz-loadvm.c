/*
 * The loadvm fuzz target.  Built with libFuzzer (-Dfuzzing=true, clang)
 * or with fuzz-driver.c, which replays a corpus and mutations of a
 * valid stream (the 'fuzz' test suite).
 *
 * The destination is a qtest-like machine: two RAM blocks, the real
 * "ram" live section, and the fixture's live section and devices.  An
 * input may fail to load in any way it likes; it must never crash,
 * leak, or write outside the RAM blocks and device structs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "fuzz-loadvm.h"
#include "migration/options.h"
#include "migration/ram.h"
#include "system/accel.h"
#include "system/machine.h"
#include "system/ram.h"
#include "../unit/migration/savevm-fixture.h"

#define FUZZ_RAM_SIZE (2 * 1024 * 1024)
#define FUZZ_EXTRA_GPA 0x100000000ULL
#define FUZZ_EXTRA_SIZE (64 * 1024)

static bool fuzz_accel_available(Error **errp)
{
    return true;
}

/* No guest runs: software writes are the whole dirty log. */
static const AccelOps fuzz_accel = {
    .name = "fuzz-loadvm",
    .available = fuzz_accel_available,
};

static struct {
    bool accel_registered;
    bool ready;
    FakeLive live;
    TinyDev tiny0, tiny1;
} world;

static void fuzz_world_init(void)
{
    if (world.ready) {
        return;
    }
    if (!world.accel_registered) {
        accel_register(&fuzz_accel);
        world.accel_registered = true;
    }
    accel_select(fuzz_accel.name, &error_abort);
    ram_block_add("pc.ram", 0, FUZZ_RAM_SIZE, &error_abort);
    ram_block_add("extra", FUZZ_EXTRA_GPA, FUZZ_EXTRA_SIZE, &error_abort);
    fixture_reset();
    current_machine()->ram_size = FUZZ_RAM_SIZE;
    /* The save path of "ram" (the seed) reads the options: defaults. */
    migrate_options_reset();
    ram_mig_init();
    fixture_register(&world.live, &world.tiny0, &world.tiny1);
    world.ready = true;
}

/* Forget what the previous input loaded; RAM contents may stay. */
static void fuzz_world_reset(void)
{
    FakeLive *live = &world.live;

    live->got_setup = 0;
    live->nparts = 0;
    live->got_end = 0;
    live->sent = 0;
    memset(&world.tiny0, 0, sizeof(world.tiny0));
    memset(&world.tiny1, 0, sizeof(world.tiny1));
    memset(&fixture_hooks, 0, sizeof(fixture_hooks));
}

int fuzz_loadvm_run(const uint8_t *data, size_t size, Error **errp)
{
    fuzz_world_init();
    fuzz_world_reset();
    return fixture_load(data, size, qemu_loadvm_state, errp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Error *err = NULL;

    fuzz_loadvm_run(data, size, &err);
    error_free(err);
    return 0;
}

/* Some pages with data, some zero, in both blocks. */
static void fuzz_fill_ram(void)
{
    static const uint8_t pattern[] = "fuzz-loadvm page";

    for (uint64_t page = 0; page < FUZZ_RAM_SIZE / TARGET_PAGE_SIZE;
         page += 37) {
        ram_write(page * TARGET_PAGE_SIZE + page % 512, pattern,
                  sizeof(pattern), &error_abort);
    }
    ram_write(FUZZ_EXTRA_GPA + TARGET_PAGE_SIZE, pattern, sizeof(pattern),
              &error_abort);
}

uint8_t *fuzz_loadvm_seed(size_t *len)
{
    fuzz_world_init();
    fuzz_world_reset();
    fuzz_fill_ram();
    fixture_fill_tiny(&world.tiny0, &world.tiny1);
    return fixture_save_stream(len);
}

void fuzz_loadvm_cleanup(void)
{
    if (!world.ready) {
        return;
    }
    unregister_savevm_all();
    ram_dirty_log_stop();
    ram_block_remove_all();
    accel_reset_current();
    world.ready = false;
}
