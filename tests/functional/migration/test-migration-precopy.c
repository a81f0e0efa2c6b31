/*
 * Pre-copy migration over every transport (tcp, unix, exec, file):
 *   - the dirtier guest, under each accelerator that runs guest code
 *     here (accel-test.h), keeps running across the move and the
 *     destination's RAM shows a consistent snapshot of it;
 *   - from KVM to TCG and back, where KVM is usable, the guest moves
 *     too, or the destination refuses the vCPU state naming both;
 *   - under qtest, memory written before and during the migration
 *     arrives byte for byte.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "migration-test.h"

#define RAM_MIB 64
#define RAM_SIZE (RAM_MIB * MIB)
/* Slow enough that the writes below land while memory is copied. */
#define SLOW_BANDWIDTH (32 * MIB)
#define WRITES_WHILE_SLOW 200

typedef struct Pair {
    unsigned smp;           /* vCPUs of the guest */
    const char *dst_accel;  /* the destination's; NULL: qtest */
    QmpTestProc *src, *dst;
    QtestClient *src_qt, *dst_qt;
    char *uri;              /* what the source migrates to */
    char *incoming;         /* the destination's -incoming, if later */
} Pair;

static void pair_free(Pair *p)
{
    qtest_client_free(p->src_qt);
    qtest_client_free(p->dst_qt);
    qmptest_free(p->src);
    qmptest_free(p->dst);
    g_free(p->uri);
    g_free(p->incoming);
}

static QmpTestProc *start_dest(Pair *p, const char *incoming,
                               QtestClient **qt)
{
    g_autofree char *args = g_strdup_printf("-m %uM", RAM_MIB);
    g_autofree char *smp = g_strdup_printf("-smp %u", MAX(p->smp, 1));

    if (p->dst_accel) {
        return mig_start_dest(p->dst_accel, RAM_MIB, smp, incoming);
    }
    return migtest_start_dest_qtest(args, incoming, qt);
}

/*
 * The destination of a live channel exists before `migrate`; that of
 * exec: and file: is started once the stream is complete.
 */
static void prepare(Pair *p, MigTransport t)
{
    g_autofree char *file = mig_tmp_path(p->src, "stream");

    switch (t) {
    case MIG_TCP:
        /* Port 0 on the command line: the real one is in query-migrate. */
        p->dst = start_dest(p, "tcp:127.0.0.1:0", &p->dst_qt);
        assert_non_null(p->dst);
        p->uri = migtest_listen_uri(p->dst);
        assert_non_null(p->uri);
        break;
    case MIG_UNIX:
        p->dst = start_dest(p, "defer", &p->dst_qt);
        assert_non_null(p->dst);
        p->uri = migtest_unix_uri(p->dst);
        assert_true(migtest_incoming(p->dst, p->uri));
        break;
    case MIG_EXEC:
        p->uri = g_strdup_printf("exec:cat > %s", file);
        p->incoming = g_strdup_printf("exec:cat %s", file);
        break;
    case MIG_FILE:
        p->uri = g_strdup_printf("file:%s", file);
        p->incoming = g_strdup(p->uri);
        break;
    }
}

/* What query-migrate says on the source of a completed migration. */
static void check_source_info(QmpTestProc *src)
{
    qmptest_auto_json json_t *info = migtest_query(src);
    json_t *ram = json_object_get(info, "ram");

    assert_non_null(info);
    assert_string_equal(json_string_value(json_object_get(info, "status")),
                        "completed");
    assert_true(json_is_integer(json_object_get(info, "total-time")));
    assert_true(json_is_integer(json_object_get(info, "downtime")));
    assert_true(json_is_integer(json_object_get(info, "setup-time")));
    assert_null(json_object_get(info, "error-desc"));
    assert_true(json_is_object(ram));
    assert_int_equal(json_integer_value(json_object_get(ram, "total")),
                     RAM_SIZE);
    assert_int_equal(json_integer_value(json_object_get(ram, "remaining")),
                     0);
    assert_true(json_integer_value(json_object_get(ram, "transferred")) > 0);
    assert_true(json_integer_value(json_object_get(ram, "page-size")) ==
                4096);
}

/* The destination's end of the migration: "completed" or "failed". */
static char *dest_end(Pair *p)
{
    if (!p->dst) {
        p->dst = start_dest(p, p->incoming, &p->dst_qt);
        assert_non_null(p->dst);
    }
    return migtest_wait_end(p->dst, MIGTEST_TIMEOUT_MS);
}

static void finish(Pair *p)
{
    g_autofree char *end = dest_end(p);

    assert_non_null(end);
    assert_string_equal(end, "completed");
    mig_assert_runstate(p->src, "postmigrate");
    check_source_info(p->src);
}

static void run_guest(const char *src_accel, const char *dst_accel,
                      MigTransport t, unsigned smp)
{
    g_autofree char *smp_arg = g_strdup_printf("-smp %u", smp);
    Pair p = { .smp = smp, .dst_accel = dst_accel };

    p.src = mig_start_dirtier_source(src_accel, RAM_MIB, smp_arg);
    prepare(&p, t);
    assert_true(migtest_migrate(p.src, p.uri));
    assert_true(migtest_wait_status(p.src, "completed", MIGTEST_TIMEOUT_MS));
    finish(&p);
    mig_check_dirtier_dest(p.dst, RAM_SIZE, smp);
    assert_int_equal(qmptest_quit(p.dst, QMPTEST_TIMEOUT_MS), 0);
    assert_int_equal(qmptest_quit(p.src, QMPTEST_TIMEOUT_MS), 0);
    pair_free(&p);
}

/*
 * From one accelerator to the other: the guest either goes on at the
 * destination, or the destination refuses the vCPU state with a message
 * that names both accelerators.
 */
static void run_cross(const char *src_accel, const char *dst_accel)
{
    g_autofree char *end = NULL;
    g_autofree char *why = NULL;
    Pair p = { .smp = 1, .dst_accel = dst_accel };

    TEST_REQUIRE(kvm_test_usable(), kvm_test_unmet());
    why = g_strdup_printf("a state saved by %s cannot be loaded by %s",
                          src_accel, dst_accel);
    p.src = mig_start_dirtier_source(src_accel, RAM_MIB, "-smp 1");
    prepare(&p, MIG_UNIX);
    assert_true(migtest_migrate(p.src, p.uri));
    end = dest_end(&p);
    assert_non_null(end);
    print_message("%s -> %s: %s\n", src_accel, dst_accel, end);
    if (!strcmp(end, "completed")) {
        mig_check_dirtier_dest(p.dst, RAM_SIZE, 1);
        assert_int_equal(qmptest_quit(p.dst, QMPTEST_TIMEOUT_MS), 0);
    } else {
        assert_string_equal(end, "failed");
        assert_true(qmptest_wait_stderr(p.dst, why, QMPTEST_TIMEOUT_MS));
        print_message("%s\n", qmptest_stderr(p.dst));
    }
    assert_int_equal(qmptest_quit(p.src, QMPTEST_TIMEOUT_MS), 0);
    pair_free(&p);
}

static void run_qtest(MigTransport t)
{
    g_autofree char *args = g_strdup_printf("-m %uM", RAM_MIB);
    Pair p = { 0 };
    MigWriter w;

    p.src = migtest_start_source_qtest(args, &p.src_qt);
    assert_non_null(p.src);
    assert_true(migtest_fill_ram(p.src_qt, RAM_SIZE, 1));
    assert_true(migtest_set_parameter(p.src, "max-bandwidth",
                                      SLOW_BANDWIDTH));
    prepare(&p, t);

    mig_writer_init(&w, p.src_qt, p.src, RAM_SIZE);
    assert_true(migtest_migrate(p.src, p.uri));
    assert_true(migtest_wait_status(p.src, "active", MIGTEST_TIMEOUT_MS));
    assert_true(mig_writer_run(&w, WRITES_WHILE_SLOW, MIGTEST_TIMEOUT_MS));
    /* Let it converge, still writing until the guest stops. */
    assert_true(migtest_set_parameter(p.src, "max-bandwidth",
                                      MIGTEST_BANDWIDTH_UNLIMITED));
    assert_true(mig_writer_run(&w, 0, MIGTEST_TIMEOUT_MS));
    assert_true(migtest_wait_status(p.src, "completed", MIGTEST_TIMEOUT_MS));
    print_message("%u writes while migrating%s\n", w.writes,
                  w.ambiguous ? ", the last one racing the switchover" : "");
    finish(&p);

    assert_true(mig_writer_settle(&w, p.dst_qt));
    assert_true(migtest_ram_equal(p.src_qt, p.dst_qt, RAM_SIZE));
    mig_assert_runstate(p.dst, "running");
    mig_writer_cleanup(&w);
    assert_int_equal(qmptest_quit(p.dst, QMPTEST_TIMEOUT_MS), 0);
    assert_int_equal(qmptest_quit(p.src, QMPTEST_TIMEOUT_MS), 0);
    pair_free(&p);
}

static void test_qtest_tcp(void **state) { run_qtest(MIG_TCP); }
static void test_qtest_unix(void **state) { run_qtest(MIG_UNIX); }
static void test_qtest_exec(void **state) { run_qtest(MIG_EXEC); }
static void test_qtest_file(void **state) { run_qtest(MIG_FILE); }

static void run_same(void **state, MigTransport t, unsigned smp)
{
    const char *accel = accel_test_accel(state);

    run_guest(accel, accel, t, smp);
}

static void test_guest_tcp(void **state) { run_same(state, MIG_TCP, 1); }
static void test_guest_unix(void **state) { run_same(state, MIG_UNIX, 1); }
static void test_guest_exec(void **state) { run_same(state, MIG_EXEC, 1); }
static void test_guest_file(void **state) { run_same(state, MIG_FILE, 1); }
/* Every vCPU's state travels: the dirtier's barrier must still hold. */
static void test_guest_tcp_smp2(void **state)
{
    run_same(state, MIG_TCP, 2);
}

static void test_kvm_to_tcg(void **state) { run_cross("kvm", "tcg"); }
static void test_tcg_to_kvm(void **state) { run_cross("tcg", "kvm"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qtest_tcp),
        cmocka_unit_test(test_qtest_unix),
        cmocka_unit_test(test_qtest_exec),
        cmocka_unit_test(test_qtest_file),
        cmocka_unit_test(test_kvm_to_tcg),
        cmocka_unit_test(test_tcg_to_kvm),
    };
    const struct CMUnitTest guest_tests[] = {
        cmocka_unit_test(test_guest_tcp),
        cmocka_unit_test(test_guest_unix),
        cmocka_unit_test(test_guest_exec),
        cmocka_unit_test(test_guest_file),
        cmocka_unit_test(test_guest_tcp_smp2),
    };
    int failed;

    failed = cmocka_run_group_tests(tests, NULL, NULL);
    failed += accel_test_run_group("migration-precopy-guest", guest_tests,
                                   G_N_ELEMENTS(guest_tests), NULL, NULL);
    return failed;
}
