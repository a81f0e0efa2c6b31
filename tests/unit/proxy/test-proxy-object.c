/*
 * Tests for the COLO proxy's -object options: every refusal, with the
 * text the user sees (QEMU's where QEMU has one), and that a refused
 * object leaves nothing behind.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "chardev/char.h"
#include "proxy/colo-proxy.h"
#include "qapi/qapi-commands.h"
#include "util/bql.h"
#include "util/main-loop.h"

static int setup(void **state)
{
    static const char *const ringbufs[] = {
        "ser", "ser2", "sec", "mir", "red0", "red1",
    };

    main_loop_init();
    bql_lock();
    for (size_t i = 0; i < G_N_ELEMENTS(ringbufs); i++) {
        g_autofree char *opts =
            g_strdup_printf("ringbuf,id=%s,size=65536", ringbufs[i]);

        chardev_new_from_opts(opts, &error_abort);
    }
    return 0;
}

static int teardown(void **state)
{
    colo_proxy_cleanup();
    chardev_cleanup_all();
    bql_unlock();
    return 0;
}

/* Adding @optarg fails with exactly @msg and attaches nothing. */
static void expect_error(const char *optarg, const char *msg)
{
    g_autoptr(ColoCompareInfoList) before = NULL, after = NULL;
    Error *err = NULL;
    size_t n_before = 0, n_after = 0;

    before = qmp_x_query_colo_compare(&error_abort);
    for (ColoCompareInfoList *l = before; l; l = l->next) {
        n_before++;
    }
    if (colo_proxy_object_add(optarg, &err)) {
        fail_msg("'%s' was accepted", optarg);
    }
    assert_non_null(err);
    if (strcmp(error_get_pretty(err), msg) != 0) {
        fail_msg("'%s': got \"%s\", expected \"%s\"", optarg,
                 error_get_pretty(err), msg);
    }
    error_free(err);
    after = qmp_x_query_colo_compare(&error_abort);
    for (ColoCompareInfoList *l = after; l; l = l->next) {
        n_after++;
    }
    assert_int_equal(n_after, n_before);
    assert_false(chardev_has_filters(chardev_find("ser2")));
}

static void test_generic_errors(void **state)
{
    expect_error("x", "invalid object type: x");
    expect_error("x,id=a", "invalid object type: x");
    expect_error("id=a", "Parameter 'qom-type' is missing");
    expect_error("colo-compare", "Parameter 'id' is missing");
    expect_error("filter-mirror,chardev=ser2,outdev=mir",
                 "Parameter 'id' is missing");
    expect_error("filter-mirror,id=m0,chardev=ser2,outdev=mir,bogus=1",
                 "Invalid parameter 'bogus'");
    /* A key of another type is just as unknown. */
    expect_error("filter-mirror,id=m0,chardev=ser2,outdev=mir,indev=sec",
                 "Invalid parameter 'indev'");
    expect_error("colo-compare,id=c0,primary_in=ser,outdev=ser,"
                 "secondary_in=sec,queue=tx", "Invalid parameter 'queue'");
}

static void test_duplicate_id(void **state)
{
    assert_true(colo_proxy_object_add("filter-mirror,id=m0,chardev=ser,"
                                      "outdev=mir", &error_abort));
    expect_error("filter-mirror,id=m0,chardev=ser2,outdev=mir",
                 "attempt to add duplicate property 'm0' to object "
                 "(type 'container')");
    /* Ids are shared by every type. */
    expect_error("colo-compare,id=m0,primary_in=ser,secondary_in=sec,"
                 "outdev=ser", "attempt to add duplicate property 'm0' to "
                 "object (type 'container')");
}

static void test_compare_errors(void **state)
{
    expect_error("colo-compare,id=c0,secondary_in=sec,outdev=ser",
                 "Parameter 'primary_in' is missing");
    expect_error("colo-compare,id=c0,primary_in=ser,outdev=ser",
                 "Parameter 'secondary_in' is missing");
    expect_error("colo-compare,id=c0,primary_in=ser,secondary_in=sec",
                 "Parameter 'outdev' is missing");
    expect_error("colo-compare,id=c0,primary_in=zz,secondary_in=sec,"
                 "outdev=ser", "Device 'zz' not found");
    expect_error("colo-compare,id=c0,primary_in=ser,secondary_in=zz,"
                 "outdev=ser", "Device 'zz' not found");
    expect_error("colo-compare,id=c0,primary_in=ser,secondary_in=sec,"
                 "outdev=zz", "Device 'zz' not found");
    expect_error("colo-compare,id=c0,primary_in=ser,secondary_in=sec,"
                 "outdev=ser,iothread=io0",
                 "colo-compare: 'iothread' is not supported (the "
                 "comparison runs in the main loop)");
    expect_error("colo-compare,id=c0,primary_in=ser,secondary_in=sec,"
                 "outdev=ser,compare_timeout=0",
                 "Property 'colo-compare.compare_timeout' doesn't take "
                 "value '0'");
    expect_error("colo-compare,id=c0,primary_in=ser,secondary_in=sec,"
                 "outdev=ser,compare_timeout=4294967296",
                 "Property 'colo-compare.compare_timeout' doesn't take "
                 "value '4294967296'");
    expect_error("colo-compare,id=c0,primary_in=ser,secondary_in=sec,"
                 "outdev=ser,expired_scan_cycle=0",
                 "Property 'colo-compare.expired_scan_cycle' doesn't take "
                 "value '0'");
    expect_error("colo-compare,id=c0,primary_in=ser,secondary_in=sec,"
                 "outdev=ser,mode=fast",
                 "Parameter 'mode' does not accept value 'fast'");
    expect_error("colo-compare,id=c0,primary_in=ser,secondary_in=ser,"
                 "outdev=ser", "colo-compare: 'secondary_in' must differ "
                 "from 'primary_in' and 'outdev'");
    expect_error("colo-compare,id=c0,primary_in=ser,secondary_in=mir,"
                 "outdev=mir", "colo-compare: 'secondary_in' must differ "
                 "from 'primary_in' and 'outdev'");

    /* A secondary_in that has a frontend cannot be taken over. */
    assert_true(colo_proxy_object_add("colo-compare,id=c0,primary_in=ser,"
                                      "secondary_in=sec,outdev=ser",
                                      &error_abort));
    expect_error("colo-compare,id=c1,primary_in=ser2,secondary_in=sec,"
                 "outdev=ser2", "Device 'sec' is in use");
}

static void test_buffer_mode_without_secondary(void **state)
{
    g_autoptr(ColoCompareInfoList) list = NULL;

    assert_true(colo_proxy_object_add("colo-compare,id=c0,primary_in=ser,"
                                      "outdev=ser,mode=buffer",
                                      &error_abort));
    list = qmp_x_query_colo_compare(&error_abort);
    assert_non_null(list);
    assert_null(list->next);
    assert_string_equal(list->value->id, "c0");
    assert_int_equal(list->value->mode, COLO_COMPARE_MODE_BUFFER);
    assert_false(list->value->active);
}

static void test_filter_errors(void **state)
{
    expect_error("filter-mirror,id=m0,outdev=mir",
                 "Parameter 'chardev' is missing");
    expect_error("filter-mirror,id=m0,chardev=ser2",
                 "Parameter 'outdev' is missing");
    expect_error("filter-mirror,id=m0,chardev=zz,outdev=mir",
                 "Device 'zz' not found");
    expect_error("filter-mirror,id=m0,chardev=ser2,outdev=ser2",
                 "filter-mirror: 'outdev' must not be the filtered chardev "
                 "'ser2'");
    expect_error("filter-mirror,id=m0,chardev=ser2,outdev=mir,queue=both",
                 "Parameter 'queue' does not accept value 'both'");
    expect_error("filter-mirror,id=m0,chardev=ser2,outdev=mir,status=maybe",
                 "Invalid value for netfilter status, should be 'on' or "
                 "'off'");

    expect_error("filter-redirector,id=r0,chardev=ser2,queue=tx",
                 "filter redirector needs 'indev' or 'outdev' at least one "
                 "property set");
    expect_error("filter-redirector,id=r0,chardev=ser2,indev=red0",
                 "Parameter 'queue' is missing");
    expect_error("filter-redirector,id=r0,chardev=ser2,queue=tx,"
                 "indev=red0,outdev=red0",
                 "'indev' and 'outdev' could not be same for filter "
                 "redirector");
    expect_error("filter-redirector,id=r0,chardev=ser2,queue=tx,"
                 "indev=ser2", "filter-redirector: 'indev' and 'outdev' "
                 "must not be the filtered chardev 'ser2'");
    expect_error("filter-redirector,id=r0,chardev=ser2,queue=all,"
                 "indev=red0", "filter-redirector on a chardev takes "
                 "queue=tx with 'indev' or queue=rx with 'outdev'");
    expect_error("filter-redirector,id=r0,chardev=ser2,queue=tx,"
                 "outdev=red1", "filter-redirector on a chardev takes "
                 "queue=tx with 'indev' or queue=rx with 'outdev'");
    expect_error("filter-redirector,id=r0,chardev=ser2,queue=rx,"
                 "indev=red0", "filter-redirector on a chardev takes "
                 "queue=tx with 'indev' or queue=rx with 'outdev'");
    expect_error("filter-redirector,id=r0,chardev=ser2,queue=tx,"
                 "indev=red0,outdev=red1", "filter-redirector on a chardev "
                 "takes queue=tx with 'indev' or queue=rx with 'outdev'");
    expect_error("filter-redirector,id=r0,chardev=ser2,queue=up,"
                 "indev=red0",
                 "Parameter 'queue' does not accept value 'up'");
    expect_error("filter-redirector,id=r0,chardev=ser2,queue=tx,"
                 "indev=red0,status=no",
                 "Invalid value for netfilter status, should be 'on' or "
                 "'off'");
    expect_error("filter-redirector,id=r0,chardev=ser2,queue=tx,indev=zz",
                 "Device 'zz' not found");

    /* An indev already read by someone else. */
    assert_true(colo_proxy_object_add("filter-redirector,id=r0,"
                                      "chardev=ser,queue=tx,indev=red0",
                                      &error_abort));
    expect_error("filter-redirector,id=r1,chardev=ser2,queue=tx,"
                 "indev=red0", "Device 'red0' is in use");
    /* The refused ids stay free. */
    assert_true(colo_proxy_object_add("filter-redirector,id=r1,"
                                      "chardev=ser2,queue=rx,outdev=red1",
                                      &error_abort));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_generic_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compare_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_buffer_mode_without_secondary,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_errors, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
