/*
 * A small world for the stream framing; see savevm-fixture.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>

#include "io/channel-buffer.h"
#include "migration/migration.h"
#include "savevm-fixture.h"
#include "util/bql.h"

#define LIVE_SETUP_VALUE 0x5e7a0001u
#define LIVE_END_VALUE 0xe0d5u

FixtureHooks fixture_hooks;

static bool fixture_open_return_path(Error **errp)
{
    fixture_hooks.open_return_path++;
    if (fixture_hooks.open_return_path_fails) {
        error_setg(errp, "the channel has no reverse direction");
        return false;
    }
    return true;
}

static void fixture_send_pong(uint32_t value)
{
    fixture_hooks.pongs++;
    fixture_hooks.last_pong = value;
}

static void fixture_enable_colo(void)
{
    fixture_hooks.enable_colo++;
}

static const LoadvmCommandOps fixture_command_ops = {
    .open_return_path = fixture_open_return_path,
    .send_pong = fixture_send_pong,
    .enable_colo = fixture_enable_colo,
};

static int tiny_post_load(void *opaque, int version_id)
{
    TinyDev *s = opaque;

    s->post_loads++;
    s->post_load_had_bql = bql_locked();
    return 0;
}

const VMStateDescription vmstate_tiny = {
    .name = "tiny",
    .version_id = 2,
    .minimum_version_id = 1,
    .post_load = tiny_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(a, TinyDev),
        VMSTATE_UINT16(b, TinyDev),
        VMSTATE_UINT32(c, TinyDev),
        VMSTATE_UINT64_V(d, TinyDev, 2),
        VMSTATE_END_OF_LIST()
    },
};

static int live_save_setup(QEMUFile *f, void *opaque, Error **errp)
{
    FakeLive *live = opaque;

    live->setups++;
    qemu_put_byte(f, 'S');
    qemu_put_be32(f, LIVE_SETUP_VALUE);
    return 0;
}

static int live_save_iterate(QEMUFile *f, void *opaque)
{
    FakeLive *live = opaque;

    qemu_put_byte(f, 'P');
    qemu_put_be64(f, 0x1000 + live->sent);
    live->sent++;
    return live->sent >= live->passes ? 1 : 0;
}

static int live_save_complete(QEMUFile *f, void *opaque)
{
    qemu_put_byte(f, 'E');
    qemu_put_be16(f, LIVE_END_VALUE);
    return 0;
}

static void live_save_pending(void *opaque, uint64_t *pending)
{
    FakeLive *live = opaque;

    *pending = live->sent < live->passes ? 4096 * (live->passes - live->sent)
                                         : 0;
}

static void live_save_pending_exact(void *opaque, uint64_t *pending)
{
    live_save_pending(opaque, pending);
    *pending += 1;
}

static void live_save_cleanup(void *opaque)
{
    FakeLive *live = opaque;

    live->cleanups++;
}

static bool live_is_active(void *opaque)
{
    FakeLive *live = opaque;

    return live->active;
}

static int live_load_setup(QEMUFile *f, void *opaque, Error **errp)
{
    FakeLive *live = opaque;

    live->load_setups++;
    return 0;
}

static int live_load_record(QEMUFile *f, FakeLive *live, int tag,
                            Error **errp)
{
    switch (tag) {
    case 'S':
        live->got_setup = qemu_get_be32(f);
        if (!qemu_file_get_error(f) && live->got_setup != LIVE_SETUP_VALUE) {
            error_setg(errp, "live: bad setup value 0x%x", live->got_setup);
            return -EINVAL;
        }
        return 0;
    case 'P':
        if (live->nparts == FIXTURE_LIVE_MAX_PARTS) {
            error_setg(errp, "live: too many passes");
            return -EINVAL;
        }
        live->got_parts[live->nparts++] = qemu_get_be64(f);
        return 0;
    case 'E':
        live->got_end = qemu_get_be16(f);
        return 0;
    default:
        error_setg(errp, "live: unknown record 0x%x", tag);
        return -EINVAL;
    }
}

static int live_load_state(QEMUFile *f, void *opaque, int version_id,
                           Error **errp)
{
    FakeLive *live = opaque;
    int tag = qemu_get_byte(f);
    int ret = qemu_file_get_error_obj(f, errp);

    if (ret < 0) {
        return ret;
    }
    ret = live_load_record(f, live, tag, errp);
    if (ret < 0) {
        return ret;
    }
    return qemu_file_get_error_obj(f, errp);
}

static int live_load_cleanup(void *opaque)
{
    FakeLive *live = opaque;

    live->load_cleanups++;
    return 0;
}

const SaveVMHandlers fake_live_handlers = {
    .save_setup = live_save_setup,
    .save_live_iterate = live_save_iterate,
    .save_live_complete_precopy = live_save_complete,
    .save_pending = live_save_pending,
    .save_pending_exact = live_save_pending_exact,
    .save_cleanup = live_save_cleanup,
    .is_active = live_is_active,
    .load_setup = live_load_setup,
    .load_state = live_load_state,
    .load_cleanup = live_load_cleanup,
};

void fixture_reset(void)
{
    MachineState *ms;

    unregister_savevm_all();
    machine_free();
    ms = machine_new();
    ms->ram_size = FIXTURE_RAM_SIZE;
    ms->smp = FIXTURE_VCPUS;
    memset(&fixture_hooks, 0, sizeof(fixture_hooks));
    qemu_loadvm_set_command_ops(&fixture_command_ops);
}

void fixture_register(FakeLive *live, TinyDev *tiny0, TinyDev *tiny1)
{
    live->active = true;
    if (!live->passes) {
        live->passes = 2;
    }
    g_assert(register_savevm_live("live", 0, 1, &fake_live_handlers,
                                  live) == 0);
    g_assert(vmstate_register(0, &vmstate_tiny, tiny0) == 0);
    g_assert(vmstate_register(VMSTATE_INSTANCE_ID_ANY, &vmstate_tiny,
                              tiny1) == 1);
}

void fixture_fill_tiny(TinyDev *tiny0, TinyDev *tiny1)
{
    tiny0->a = 0x11;
    tiny0->b = 0x2233;
    tiny0->c = 0x44556677;
    tiny0->d = 0x8899aabbccddeeffULL;
    tiny1->a = 0x01;
    tiny1->b = 0x0203;
    tiny1->c = 0x04050607;
    tiny1->d = 0x08090a0b0c0d0e0fULL;
}

int fixture_load(const uint8_t *data, size_t len,
                 int (*load)(QEMUFile *f, Error **errp), Error **errp)
{
    QIOChannel *ioc = qio_channel_buffer_new(0);
    QEMUFile *f;
    int ret;

    qio_channel_buffer_set_data(ioc, data, len);
    f = qemu_file_new_input(ioc);
    qio_channel_unref(ioc);
    ret = load(f, errp);
    qemu_fclose(f);
    return ret;
}

int fixture_load_device_state(QEMUFile *f, Error **errp)
{
    int ret;

    bql_lock();
    ret = qemu_load_device_state(f, errp);
    bql_unlock();
    return ret;
}

uint8_t *fixture_save_stream(size_t *len)
{
    QIOChannel *ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    const uint8_t *data;
    uint8_t *copy;

    /* The BQL where the migration thread holds it. */
    qemu_savevm_state_header(f);
    qemu_savevm_send_open_return_path(f);
    qemu_savevm_send_colo_enable(f);
    bql_lock();
    g_assert(qemu_savevm_state_setup(f, &error_abort) == 0);
    bql_unlock();
    qemu_savevm_send_ping(f, 0x01020304);
    while (qemu_savevm_state_iterate(f) == 0) {
        continue;
    }
    bql_lock();
    g_assert(qemu_savevm_state_complete_precopy(f, &error_abort) == 0);
    qemu_savevm_state_cleanup();
    bql_unlock();
    qemu_fflush(f);
    g_assert(qemu_file_get_error(f) == 0);

    data = qio_channel_buffer_data(ioc, len);
    copy = g_malloc(*len);
    memcpy(copy, data, *len);
    g_assert(qemu_fclose(f) == 0);
    qio_channel_unref(ioc);
    return copy;
}
