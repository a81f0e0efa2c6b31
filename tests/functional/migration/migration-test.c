/*
 * Shared steps of the migration functional tests.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "migration-test.h"
#include "serial-test.h"

QmpTestProc *mig_start_dirtier_source(const char *accel, unsigned ram_mib,
                                      const char *extra)
{
    const char *dir = g_getenv("COLO_GUEST_DIR");
    g_autofree char *args = NULL;
    QmpTestProc *src;

    assert_non_null(dir);
    args = g_strdup_printf("-accel %s -m %uM -kernel %s/dirtier.elf "
                           "-serial stdio %s", accel, ram_mib, dir,
                           extra ? extra : "");
    src = migtest_start_source(args);
    assert_non_null(src);
    assert_true(migtest_set_parameter(src, "max-bandwidth",
                                      MIGTEST_BANDWIDTH_UNLIMITED));
    /* Enough for any host to copy the whole RAM in one go. */
    assert_true(migtest_set_parameter(src, "downtime-limit", 2000));
    assert_true(serial_wait_char_count(src, 'B', 1, QMPTEST_TIMEOUT_MS));
    return src;
}

QmpTestProc *mig_start_dest(const char *accel, unsigned ram_mib,
                            const char *extra, const char *incoming)
{
    g_autofree char *args = g_strdup_printf("-accel %s -m %uM "
                                            "-serial stdio %s", accel,
                                            ram_mib, extra ? extra : "");
    QmpTestProc *dst = migtest_start_dest(args, incoming);

    assert_non_null(dst);
    return dst;
}

char *mig_tmp_path(QmpTestProc *owner, const char *name)
{
    return g_build_filename(qmptest_tmpdir(owner), name, NULL);
}

void mig_writer_init(MigWriter *w, QtestClient *qt, QmpTestProc *src,
                     uint64_t ram_size)
{
    *w = (MigWriter){ .qt = qt, .src = src, .ram_size = ram_size,
                      .rand = g_rand_new_with_seed(0x6d6967) };
}

void mig_writer_cleanup(MigWriter *w)
{
    g_clear_pointer(&w->rand, g_rand_free);
}

static bool guest_running(MigWriter *w, bool *running)
{
    g_autofree char *state = migtest_runstate(w->src);

    if (!state) {
        return false;
    }
    *running = !strcmp(state, "running");
    return true;
}

bool mig_writer_run(MigWriter *w, unsigned count, int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);
    uint64_t pages = w->ram_size / QTEST_CLIENT_PAGE_SIZE;

    for (unsigned i = 0; !count || i < count; i++) {
        uint64_t addr = g_rand_int_range(w->rand, 0, pages) *
                        QTEST_CLIENT_PAGE_SIZE +
                        g_rand_int_range(w->rand, 0, 512) * 8;
        uint64_t old, val = ((uint64_t)g_rand_int(w->rand) << 32) |
                            g_rand_int(w->rand) | 1;
        bool running;

        if (w->ambiguous) {
            return true;
        }
        if (g_get_monotonic_time() > deadline) {
            g_printerr("the source's guest did not stop in time\n");
            return false;
        }
        if (!qtest_readq(w->qt, addr, &old) ||
            !qtest_writeq(w->qt, addr, val) || !guest_running(w, &running)) {
            return false;
        }
        if (!running) {
            w->ambiguous = true;
            w->last_addr = addr;
            w->last_old = old;
            w->last_new = val;
            return true;
        }
        w->writes++;
        if (i % 64 == 63) {
            g_autofree char *status = migtest_query_status(w->src);

            if (!status || migtest_status_is_final(status)) {
                return status != NULL;
            }
        }
    }
    return true;
}

bool mig_writer_settle(MigWriter *w, QtestClient *dst_qt)
{
    uint64_t got;

    if (!w->ambiguous) {
        return true;
    }
    if (!qtest_readq(dst_qt, w->last_addr, &got)) {
        return false;
    }
    if (got != w->last_old && got != w->last_new) {
        g_printerr("destination holds 0x%" PRIx64 " at 0x%" PRIx64
                   ", neither 0x%" PRIx64 " nor 0x%" PRIx64 "\n", got,
                   w->last_addr, w->last_old, w->last_new);
        return false;
    }
    return qtest_writeq(w->qt, w->last_addr, got);
}

void mig_assert_runstate(QmpTestProc *vm, const char *expected)
{
    g_autofree char *state = migtest_runstate(vm);

    assert_non_null(state);
    assert_string_equal(state, expected);
}

static void cmd_and_event(QmpTestProc *vm, const char *cmd, const char *ev)
{
    QmpTestClient *c = qmptest_client(vm);
    qmptest_auto_json json_t *r = qmptest_cmd(c, "{'execute': '%s'}", cmd);
    qmptest_auto_json json_t *e = NULL;

    assert_non_null(qmptest_return(r));
    e = qmptest_wait_event(c, ev, QMPTEST_TIMEOUT_MS);
    assert_non_null(e);
}

void mig_check_dirtier_dest(QmpTestProc *dst, uint64_t ram_size,
                            unsigned nparts)
{
    g_autofree char *why = NULL;

    mig_assert_runstate(dst, "running");
    assert_true(serial_wait_more_chars(dst, 'B', 1, QMPTEST_TIMEOUT_MS));
    cmd_and_event(dst, "stop", "STOP");
    if (!migtest_check_dirtier_ram(dst, ram_size, DIRTY_START, nparts,
                                   &why)) {
        fail_msg("destination RAM pattern: %s", why);
    }
    cmd_and_event(dst, "cont", "RESUME");
    assert_true(serial_wait_more_chars(dst, 'B', 2, QMPTEST_TIMEOUT_MS));
    /* The guest went on where it was: it did not start over. */
    assert_int_equal(serial_count_char(dst, 'A'), 0);
}
