/*
 * Shared pieces of the VMM functional tests.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <sys/stat.h>

#include "vmm-test.h"

char *vmm_guest_path(const char *name)
{
    const char *dir = g_getenv("COLO_GUEST_DIR");

    assert_non_null(dir);
    return g_build_filename(dir, name, NULL);
}

QmpTestProc *vmm_start(const char *fmt, ...)
{
    const char *dir = g_getenv("COLO_GUEST_DIR");
    g_autofree char *args = NULL;
    g_auto(GStrv) parts = NULL;
    g_autofree char *expanded = NULL;
    QmpTestProc *vm;
    va_list ap;

    assert_non_null(dir);
    va_start(ap, fmt);
    args = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    parts = g_strsplit(args, "@GUEST@", -1);
    expanded = g_strjoinv(dir, parts);
    vm = qmptest_start(expanded, QMPTEST_DEFAULT);
    assert_non_null(vm);
    return vm;
}

char *vmm_query_status(QmpTestClient *c, bool *running)
{
    qmptest_auto_json json_t *r = qmptest_cmd(c,
                                              "{'execute': 'query-status'}");
    json_t *ret = qmptest_return(r);
    json_t *status, *run;

    assert_non_null(ret);
    status = json_object_get(ret, "status");
    run = json_object_get(ret, "running");
    assert_true(json_is_string(status));
    assert_true(json_is_boolean(run));
    assert_true(json_is_false(json_object_get(ret, "singlestep")));
    if (running) {
        *running = json_is_true(run);
    }
    return g_strdup(json_string_value(status));
}

void vmm_assert_status(QmpTestClient *c, const char *status, bool running)
{
    bool is_running;
    g_autofree char *s = vmm_query_status(c, &is_running);

    assert_string_equal(s, status);
    assert_int_equal(is_running, running);
}

static void assert_empty_return(json_t *r)
{
    assert_non_null(r);
    assert_true(json_is_object(qmptest_return(r)));
    assert_int_equal(json_object_size(qmptest_return(r)), 0);
}

void vmm_stop(QmpTestClient *c)
{
    qmptest_auto_json json_t *r = qmptest_cmd(c, "{'execute': 'stop'}");
    qmptest_auto_json json_t *ev = NULL;

    assert_empty_return(r);
    ev = qmptest_wait_event(c, "STOP", QMPTEST_TIMEOUT_MS);
    assert_non_null(ev);
}

void vmm_cont(QmpTestClient *c)
{
    qmptest_auto_json json_t *r = qmptest_cmd(c, "{'execute': 'cont'}");
    qmptest_auto_json json_t *ev = NULL;

    assert_empty_return(r);
    ev = qmptest_wait_event(c, "RESUME", QMPTEST_TIMEOUT_MS);
    assert_non_null(ev);
}

char *vmm_pmemsave(QmpTestProc *proc, uint64_t size)
{
    char *path = g_build_filename(qmptest_tmpdir(proc), "ram.bin", NULL);
    qmptest_auto_json json_t *r = NULL;
    struct stat st;

    r = qmptest_cmd(qmptest_client(proc),
                    "{'execute': 'pmemsave', 'arguments': {'val': 0, "
                    "'size': %" G_GUINT64_FORMAT ", 'filename': '%s'}}",
                    size, path);
    assert_empty_return(r);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, size);
    return path;
}
