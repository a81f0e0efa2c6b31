/*
 * A small world for the stream framing: a machine description
 * (current_machine(), FIXTURE_RAM_SIZE and FIXTURE_VCPUS after
 * fixture_reset()), the destination's command hooks, a device with a vmstate description and
 * a live section with its own record format.  Shared by the savevm unit
 * test and the loadvm fuzz target.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_SAVEVM_FIXTURE_H
#define TESTS_SAVEVM_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migration/qemu-file.h"
#include "migration/register.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"
#include "system/machine.h"

#define FIXTURE_RAM_SIZE (64 * 1024 * 1024ULL)
#define FIXTURE_VCPUS 2
#define FIXTURE_LIVE_MAX_PARTS 8


/* What the destination's command hooks saw. */
typedef struct FixtureHooks {
    int open_return_path;
    bool open_return_path_fails;
    int pongs;
    uint32_t last_pong;
    int enable_colo;
} FixtureHooks;
extern FixtureHooks fixture_hooks;

typedef struct TinyDev {
    uint8_t a;
    uint16_t b;
    uint32_t c;
    uint64_t d;                 /* from version 2 on */
    int post_loads;
    bool post_load_had_bql;
} TinyDev;
extern const VMStateDescription vmstate_tiny;

/*
 * The live section "live", version 1.  Each body is one record: 'S'
 * + be32 0x5e7a0001 (START), 'P' + be64 0x1000 + pass (PART), 'E' +
 * be16 0xe0d5 (END).
 */
typedef struct FakeLive {
    int passes;                 /* PART sections before it is done */
    int sent;
    bool active;
    int setups, cleanups;
    int load_setups, load_cleanups;
    /* Loaded */
    uint32_t got_setup;
    uint64_t got_parts[FIXTURE_LIVE_MAX_PARTS];
    int nparts;
    uint16_t got_end;
} FakeLive;
extern const SaveVMHandlers fake_live_handlers;

/* Default machine, hooks cleared, no section registered. */
void fixture_reset(void);

/*
 * Register "live" (section 0) and two "tiny" instances 0 and 1
 * (sections 1 and 2), the layout the golden streams describe.
 */
void fixture_register(FakeLive *live, TinyDev *tiny0, TinyDev *tiny1);

/* The values the golden streams carry. */
void fixture_fill_tiny(TinyDev *tiny0, TinyDev *tiny1);

/*
 * Run @load on @len bytes of @data through a buffer channel, returning
 * its result; the error, if any, in @errp.
 */
int fixture_load(const uint8_t *data, size_t len,
                 int (*load)(QEMUFile *f, Error **errp), Error **errp);

/* qemu_load_device_state() with the BQL, as a COLO secondary calls it. */
int fixture_load_device_state(QEMUFile *f, Error **errp);

/*
 * Write a full precopy stream (header, OPEN_RETURN_PATH, ENABLE_COLO,
 * START, PING 0x01020304, two PARTs, END, devices, EOF, description)
 * into a new buffer (g_free it); the registered sections provide it.
 */
uint8_t *fixture_save_stream(size_t *len);

#endif /* TESTS_SAVEVM_FIXTURE_H */
