/*
 * COLO smoke test (qtest, no guest code): what the primary writes
 * reaches the secondary's guest RAM at a checkpoint and not before it;
 * then the primary dies and the secondary takes over with that memory.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "colo-test.h"

#define SMOKE_ADDR (2 * MIB)
#define SMOKE_LEN (64 * 1024)

static json_t *qmp(QmpTestProc *vm, const char *cmd)
{
    return qmptest_cmd(qmptest_client(vm), "{'execute': '%s'}", cmd);
}

static const char *runstate(QmpTestProc *vm)
{
    static char buf[32];
    qmptest_auto_json json_t *r = qmp(vm, "query-status");
    const char *s = json_string_value(
        json_object_get(qmptest_return(r), "status"));

    g_strlcpy(buf, s ? s : "?", sizeof(buf));
    return buf;
}

/* Memory written on the primary shows up on the secondary. */
static void test_checkpoint_carries_memory(void **state)
{
    ColoPair pair;
    ColoPairOpts opts = { .ram_mib = COLO_RAM_MIB, .qtest = true,
                          .checkpoint_delay = 100 };
    g_autofree uint8_t *pattern = g_malloc(SMOKE_LEN);
    g_autofree uint8_t *seen = g_malloc(SMOKE_LEN);
    int64_t count;

    (void)state;
    for (size_t i = 0; i < SMOKE_LEN; i++) {
        pattern[i] = (uint8_t)(i * 7 + 3);
    }
    assert_true(colo_pair_start(&pair, &opts));
    assert_true(colo_pair_migrate(&pair));
    assert_true(colo_pair_wait_colo(&pair, COLO_TIMEOUT_MS));
    assert_true(colo_wait_checkpoints(pair.secondary, 1, COLO_TIMEOUT_MS));

    /* Written on the primary in COLO: only a checkpoint moves it. */
    assert_true(qtest_memwrite(pair.pqt, SMOKE_ADDR, pattern, SMOKE_LEN));
    count = colo_checkpoint_count(pair.secondary);
    assert_true(count >= 1);
    assert_true(colo_wait_checkpoints(pair.secondary, count + 2,
                                      COLO_TIMEOUT_MS));
    assert_true(qtest_memread(pair.sqt, SMOKE_ADDR, seen, SMOKE_LEN));
    assert_memory_equal(seen, pattern, SMOKE_LEN);
    assert_int_equal(qtest_ram_compare(pair.pqt, pair.sqt, 0,
                                       pair.ram_size, NULL), 0);

    /* The primary dies: the secondary notices, then takes over. */
    qmptest_kill(pair.primary);
    assert_true(colo_wait_exit_event(pair.secondary, "secondary", "error",
                                     COLO_TIMEOUT_MS));
    assert_true(colo_status_is(pair.secondary, "secondary", "none",
                               "none"));
    {
        qmptest_auto_json json_t *r = colo_lost_heartbeat(pair.secondary);

        assert_non_null(qmptest_return(r));
    }
    for (int i = 0; i < 500 && strcmp(runstate(pair.secondary), "running");
         i++) {
        g_usleep(10 * 1000);
    }
    assert_string_equal(runstate(pair.secondary), "running");
    assert_true(colo_status_is(pair.secondary, "none", "secondary",
                               "request"));
    memset(seen, 0, SMOKE_LEN);
    assert_true(qtest_memread(pair.sqt, SMOKE_ADDR, seen, SMOKE_LEN));
    assert_memory_equal(seen, pattern, SMOKE_LEN);
    {
        /* A second request finds nothing left to take over. */
        qmptest_auto_json json_t *r = colo_lost_heartbeat(pair.secondary);

        assert_string_equal(qmptest_error_desc(r),
                            "The feature 'colo' is not enabled");
    }
    assert_int_equal(qmptest_quit(pair.secondary, COLO_TIMEOUT_MS), 0);
    colo_pair_free(&pair);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpoint_carries_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
