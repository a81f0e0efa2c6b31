/*
 * COLO from a test: a primary/secondary pair, checkpoints, failover.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "colo-helpers.h"
#include "qmp-test-int.h"

static int remaining_ms(int64_t deadline)
{
    int64_t left = deadline - g_get_monotonic_time();

    return left > 0 ? (left + 999) / 1000 : 0;
}

/* The options both sides share. */
static char *common_args(const ColoPairOpts *o)
{
    g_autofree char *smp = o->smp ? g_strdup_printf("-smp %u", o->smp)
                                  : g_strdup("");
    g_autofree char *accel = o->qtest ? g_strdup("") :
        g_strdup_printf("%s%s%s", o->accel ? "-accel " : "",
                        o->accel ? o->accel : "",
                        o->own_serial ? "" : " -serial stdio");

    return g_strdup_printf("-m %uM %s %s %s", o->ram_mib ? o->ram_mib : 32,
                           smp, accel, o->extra ? o->extra : "");
}

static bool start_primary(ColoPair *pair, const ColoPairOpts *o)
{
    g_autofree char *base = common_args(o);
    g_autofree char *common = g_strdup_printf(
        "%s %s", base, o->primary_extra ? o->primary_extra : "");
    g_autofree char *args = NULL;

    if (o->qtest) {
        pair->primary = migtest_start_source_qtest(common, &pair->pqt);
    } else {
        args = g_strdup_printf("%s%s%s", common,
                               o->kernel ? " -kernel " : "",
                               o->kernel ? o->kernel : "");
        pair->primary = migtest_start_source(args);
    }
    return pair->primary != NULL;
}

static bool start_secondary(ColoPair *pair, const ColoPairOpts *o)
{
    g_autofree char *base = common_args(o);
    g_autofree char *common = g_strdup_printf(
        "%s %s", base, o->secondary_extra ? o->secondary_extra : "");

    if (o->qtest) {
        pair->secondary = migtest_start_dest_qtest(common, "defer",
                                                   &pair->sqt);
    } else {
        pair->secondary = migtest_start_dest(common, "defer");
    }
    return pair->secondary != NULL;
}

bool colo_pair_start(ColoPair *pair, const ColoPairOpts *o)
{
    *pair = (ColoPair){ .ram_size = (uint64_t)(o->ram_mib ? o->ram_mib : 32)
                                    << 20 };
    if (!start_primary(pair, o) || !start_secondary(pair, o)) {
        goto fail;
    }
    if ((!o->no_colo_primary &&
         !migtest_set_capability(pair->primary, "x-colo", true)) ||
        (!o->no_colo_secondary &&
         !migtest_set_capability(pair->secondary, "x-colo", true)) ||
        (o->lean &&
         !migtest_set_capability(pair->secondary, "x-colo-lean", true))) {
        goto fail;
    }
    if (o->checkpoint_delay &&
        !migtest_set_parameter(pair->primary, "x-checkpoint-delay",
                               o->checkpoint_delay)) {
        goto fail;
    }
    if (o->heartbeat_interval &&
        (!migtest_set_heartbeat(pair->primary, o->heartbeat_interval,
                             o->heartbeat_timeout) ||
         !migtest_set_heartbeat(pair->secondary, o->heartbeat_interval,
                             o->heartbeat_timeout))) {
        goto fail;
    }
    pair->listen_uri = migtest_incoming_tcp(pair->secondary);
    if (!pair->listen_uri) {
        goto fail;
    }
    if (o->via_proxy) {
        pair->proxy = fault_proxy_new(pair->listen_uri, o->record);
        if (!pair->proxy) {
            goto fail;
        }
    }
    return true;

fail:
    colo_pair_free(pair);
    return false;
}

void colo_pair_proxy_args(ColoPairOpts *opts, const char *dir,
                          const char *compare_opts, char **pextra,
                          char **sextra)
{
    *pextra = g_strdup_printf(
        "-chardev socket,id=serial0,path=%s/p.sock,server=on,wait=off "
        "-serial chardev:serial0 "
        "-chardev socket,id=mirror0,path=%s/m.sock,server=on,wait=off "
        "-chardev socket,id=compare1,path=%s/c.sock,server=on,wait=off "
        "-object filter-mirror,id=m0,chardev=serial0,queue=tx,"
        "outdev=mirror0 "
        "-object colo-compare,id=comp0,primary_in=serial0,"
        "secondary_in=compare1,outdev=serial0%s%s",
        dir, dir, dir, compare_opts ? "," : "",
        compare_opts ? compare_opts : "");
    *sextra = g_strdup_printf(
        "-chardev socket,id=serial0,path=%s/s.sock,server=on,wait=off "
        "-serial chardev:serial0 "
        "-chardev socket,id=red0,path=%s/m.sock,reconnect=1 "
        "-chardev socket,id=red1,path=%s/c.sock,reconnect=1 "
        "-object filter-redirector,id=f1,chardev=serial0,queue=tx,"
        "indev=red0 "
        "-object filter-redirector,id=f2,chardev=serial0,queue=rx,"
        "outdev=red1",
        dir, dir, dir);
    opts->primary_extra = *pextra;
    opts->secondary_extra = *sextra;
    opts->own_serial = true;
}

void remove_socket_dir(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);

        unlink(path);
    }
    if (d) {
        g_dir_close(d);
    }
    rmdir(dir);
}

bool colo_pair_migrate(ColoPair *pair)
{
    return migtest_migrate(pair->primary,
                           pair->proxy ? fault_proxy_uri(pair->proxy)
                                       : pair->listen_uri);
}

bool colo_pair_wait_colo(ColoPair *pair, int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);

    if (!migtest_wait_status(pair->primary, "colo", timeout_ms)) {
        g_printerr("colo: the primary did not reach 'colo'\n");
        return false;
    }
    if (!migtest_wait_status(pair->secondary, "colo",
                             remaining_ms(deadline))) {
        g_printerr("colo: the secondary did not reach 'colo'\n");
        return false;
    }
    return true;
}

void colo_pair_free(ColoPair *pair)
{
    /* The proxy first: closing it unblocks anything stuck on the link. */
    g_clear_pointer(&pair->proxy, fault_proxy_free);
    g_clear_pointer(&pair->pqt, qtest_client_free);
    g_clear_pointer(&pair->sqt, qtest_client_free);
    g_clear_pointer(&pair->primary, qmptest_free);
    g_clear_pointer(&pair->secondary, qmptest_free);
    g_clear_pointer(&pair->listen_uri, g_free);
}

json_t *colo_stats(QmpTestProc *vm)
{
    qmptest_auto_json json_t *info = migtest_query(vm);
    json_t *colo = json_object_get(info, "colo");

    return json_is_object(colo) ? json_incref(colo) : NULL;
}

int64_t colo_checkpoint_count(QmpTestProc *vm)
{
    qmptest_auto_json json_t *colo = colo_stats(vm);
    json_t *count = json_object_get(colo, "checkpoint-count");

    return json_is_integer(count) ? json_integer_value(count) : -1;
}

/* For a test that gives up: what the process says about itself. */
static void colo_dump_state(QmpTestProc *vm)
{
    qmptest_auto_json json_t *info = migtest_query(vm);
    g_autofree char *text = info ? json_dumps(info, JSON_COMPACT) : NULL;

    g_printerr("colo: query-migrate: %s\n", text ? text : "(no answer)");
    g_printerr("colo: its stderr:\n%s\n", qmptest_stderr(vm));
}

bool colo_wait_checkpoints(QmpTestProc *vm, int64_t count, int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);
    int64_t now = -1;

    while (remaining_ms(deadline) > 0) {
        if (qmptest_exited(vm)) {
            g_printerr("colo: process exited while waiting for "
                       "checkpoints\n");
            return false;
        }
        now = colo_checkpoint_count(vm);
        if (now >= count) {
            return true;
        }
        g_usleep(20 * 1000);
    }
    g_printerr("colo: %" PRId64 " checkpoints, expected %" PRId64 "\n",
               now, count);
    colo_dump_state(vm);
    return false;
}

bool colo_wait_stop_resume(QmpTestProc *vm, unsigned n, int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);
    QmpTestClient *c = qmptest_client(vm);

    for (unsigned i = 0; i < n; i++) {
        qmptest_auto_json json_t *stop =
            qmptest_wait_event(c, "STOP", remaining_ms(deadline));
        qmptest_auto_json json_t *resume = NULL;

        if (!stop) {
            g_printerr("colo: STOP %u of %u missing\n", i + 1, n);
            return false;
        }
        resume = qmptest_wait_event(c, "RESUME", remaining_ms(deadline));
        if (!resume) {
            g_printerr("colo: RESUME %u of %u missing\n", i + 1, n);
            return false;
        }
    }
    return true;
}

json_t *colo_lost_heartbeat(QmpTestProc *vm)
{
    return qmptest_cmd(qmptest_client(vm),
                       "{'execute': 'x-colo-lost-heartbeat'}");
}

static bool member_is(json_t *obj, const char *key, const char *want)
{
    const char *got = json_string_value(json_object_get(obj, key));

    if (g_strcmp0(got, want)) {
        g_printerr("colo: query-colo-status %s is '%s', expected '%s'\n",
                   key, got ? got : "(absent)", want);
        return false;
    }
    return true;
}

bool colo_status_is(QmpTestProc *vm, const char *mode, const char *last_mode,
                    const char *reason)
{
    qmptest_auto_json json_t *r = qmptest_cmd(
        qmptest_client(vm), "{'execute': 'query-colo-status'}");
    json_t *ret = qmptest_return(r);
    bool ok;

    if (!json_is_object(ret)) {
        g_printerr("colo: query-colo-status: %s\n",
                   r ? (qmptest_error_desc(r) ?: "not an object")
                     : "no reply");
        return false;
    }
    /* All three checked, so one failure shows the whole picture. */
    ok = member_is(ret, "mode", mode);
    ok = member_is(ret, "last-mode", last_mode) && ok;
    ok = member_is(ret, "reason", reason) && ok;
    return ok;
}

bool colo_wait_exit_event(QmpTestProc *vm, const char *mode,
                          const char *reason, int timeout_ms)
{
    qmptest_auto_json json_t *ev =
        qmptest_wait_event(qmptest_client(vm), "COLO_EXIT", timeout_ms);
    json_t *data = json_object_get(ev, "data");
    const char *m = json_string_value(json_object_get(data, "mode"));
    const char *r = json_string_value(json_object_get(data, "reason"));

    if (!ev) {
        g_printerr("colo: no COLO_EXIT event\n");
        return false;
    }
    if ((mode && g_strcmp0(m, mode)) || (reason && g_strcmp0(r, reason))) {
        g_printerr("colo: COLO_EXIT mode '%s' reason '%s', expected "
                   "'%s' '%s'\n", m, r, mode ? mode : "*",
                   reason ? reason : "*");
        return false;
    }
    return true;
}

bool colo_proc_alive(QmpTestProc *vm)
{
    int status;

    if (!qmptest_proc_try_reap(vm)) {
        return true;
    }
    status = qmptest_wait_exit(vm, 0);
    if (WIFSIGNALED(status)) {
        g_printerr("colo: pid %d died of signal %d\n%s", (int)qmptest_pid(vm),
                   WTERMSIG(status), qmptest_stderr(vm));
    } else {
        g_printerr("colo: pid %d exited with status %d\n%s",
                   (int)qmptest_pid(vm), WEXITSTATUS(status),
                   qmptest_stderr(vm));
    }
    return false;
}
