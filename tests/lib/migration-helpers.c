/*
 * Migration from a test: a source and a destination colo-vm, the
 * MIGRATION events and query-migrate of each, and RAM comparisons.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "migration-helpers.h"
#include "ram-pattern.h"

/* The reply is {"return": {}}; otherwise say what it was. */
static bool empty_return(json_t *reply, const char *what)
{
    json_t *ret = qmptest_return(reply);

    if (ret && json_is_object(ret) && json_object_size(ret) == 0) {
        return true;
    }
    g_printerr("migtest: %s: %s\n", what,
               reply ? (qmptest_error_desc(reply) ?: "unexpected reply")
                     : "no reply");
    return false;
}

/*
 * When each process last started a migration (wall-clock microseconds,
 * the clock of the events' timestamps): events stamped earlier belong
 * to an earlier migration and are skipped by the waits.
 */
static GHashTable *since_marks;

static void mark_start(QmpTestProc *vm)
{
    if (!since_marks) {
        since_marks = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    }
    g_hash_table_insert(since_marks, vm, g_memdup2(&(int64_t){
                            g_get_real_time() }, sizeof(int64_t)));
}

static bool event_is_stale(QmpTestProc *vm, json_t *ev)
{
    json_t *ts = json_object_get(ev, "timestamp");
    int64_t *mark = since_marks ? g_hash_table_lookup(since_marks, vm)
                                : NULL;
    int64_t at = json_integer_value(json_object_get(ts, "seconds")) *
                 G_USEC_PER_SEC +
                 json_integer_value(json_object_get(ts, "microseconds"));

    return mark && at < *mark;
}

bool migtest_set_capability(QmpTestProc *vm, const char *cap, bool on)
{
    qmptest_auto_json json_t *r = qmptest_cmd(
        qmptest_client(vm),
        "{'execute': 'migrate-set-capabilities', 'arguments': "
        "{'capabilities': [{'capability': '%s', 'state': %s}]}}",
        cap, on ? "true" : "false");

    return empty_return(r, "migrate-set-capabilities");
}

bool migtest_set_parameter(QmpTestProc *vm, const char *name, uint64_t v)
{
    qmptest_auto_json json_t *r = qmptest_cmd(
        qmptest_client(vm),
        "{'execute': 'migrate-set-parameters', 'arguments': "
        "{'%s': %" PRIu64 "}}", name, v);

    return empty_return(r, "migrate-set-parameters");
}

bool migtest_set_heartbeat(QmpTestProc *vm, uint32_t interval,
                           uint32_t timeout)
{
    qmptest_auto_json json_t *r = qmptest_cmd(
        qmptest_client(vm),
        "{'execute': 'migrate-set-parameters', 'arguments': "
        "{'x-heartbeat-interval': %" PRIu32 ", "
        "'x-heartbeat-timeout': %" PRIu32 "}}", interval, timeout);

    return empty_return(r, "migrate-set-parameters");
}

/* Split @args like a shell, append @more (NULL-terminated), start. */
static QmpTestProc *start_with(const char *args, const char *const *more)
{
    g_auto(GStrv) argv = NULL;
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    g_autoptr(GError) gerr = NULL;

    if (args && *args && !g_shell_parse_argv(args, NULL, &argv, &gerr)) {
        g_printerr("migtest: bad arguments '%s': %s\n", args, gerr->message);
        return NULL;
    }
    for (size_t i = 0; argv && argv[i]; i++) {
        g_ptr_array_add(all, argv[i]);
    }
    for (size_t i = 0; more && more[i]; i++) {
        g_ptr_array_add(all, (gpointer)more[i]);
    }
    g_ptr_array_add(all, NULL);
    return qmptest_startv((const char *const *)all->pdata, QMPTEST_DEFAULT);
}

/* Without the events capability the waits below would see nothing. */
static QmpTestProc *with_events(QmpTestProc *vm)
{
    if (vm && !migtest_set_capability(vm, "events", true)) {
        qmptest_free(vm);
        return NULL;
    }
    return vm;
}

QmpTestProc *migtest_start_source(const char *args)
{
    return with_events(start_with(args, NULL));
}

QmpTestProc *migtest_start_dest(const char *args, const char *incoming)
{
    const char *const more[] = { "-incoming", incoming, NULL };

    return with_events(start_with(args, more));
}

static QmpTestProc *connect_qtest(QmpTestProc *vm, QtestClient **qt)
{
    *qt = NULL;
    if (!vm) {
        return NULL;
    }
    *qt = qtest_connect_proc(vm);
    if (!*qt) {
        qmptest_free(vm);
        return NULL;
    }
    return vm;
}

QmpTestProc *migtest_start_source_qtest(const char *args, QtestClient **qt)
{
    g_autofree char *all = g_strdup_printf("%s %s", QTEST_ARGS, args);

    return connect_qtest(migtest_start_source(all), qt);
}

QmpTestProc *migtest_start_dest_qtest(const char *args, const char *incoming,
                                      QtestClient **qt)
{
    g_autofree char *all = g_strdup_printf("%s %s", QTEST_ARGS, args);

    return connect_qtest(migtest_start_dest(all, incoming), qt);
}

char *migtest_unix_uri(QmpTestProc *dst)
{
    return g_strdup_printf("unix:%s/mig.sock", qmptest_tmpdir(dst));
}

char *migtest_listen_uri(QmpTestProc *dst)
{
    qmptest_auto_json json_t *info = migtest_query(dst);
    json_t *addr = json_array_get(json_object_get(info, "socket-address"),
                                  0);
    const char *type = json_string_value(json_object_get(addr, "type"));

    if (!g_strcmp0(type, "inet")) {
        const char *host = json_string_value(json_object_get(addr, "host"));
        const char *port = json_string_value(json_object_get(addr, "port"));

        if (host && port) {
            return g_strdup_printf(strchr(host, ':') ? "tcp:[%s]:%s"
                                                     : "tcp:%s:%s",
                                   host, port);
        }
    } else if (!g_strcmp0(type, "unix")) {
        const char *path = json_string_value(json_object_get(addr, "path"));

        if (path) {
            return g_strdup_printf("unix:%s", path);
        }
    }
    g_printerr("migtest: no listening address in query-migrate\n");
    return NULL;
}

char *migtest_incoming_tcp(QmpTestProc *dst)
{
    if (!migtest_incoming(dst, "tcp:127.0.0.1:0")) {
        return NULL;
    }
    return migtest_listen_uri(dst);
}

bool migtest_incoming(QmpTestProc *dst, const char *uri)
{
    qmptest_auto_json json_t *r = NULL;

    mark_start(dst);
    r = qmptest_cmd(
        qmptest_client(dst),
        "{'execute': 'migrate-incoming', 'arguments': {'uri': '%s'}}", uri);

    return empty_return(r, "migrate-incoming");
}

bool migtest_migrate(QmpTestProc *src, const char *uri)
{
    qmptest_auto_json json_t *r = NULL;

    mark_start(src);
    r = qmptest_cmd(
        qmptest_client(src),
        "{'execute': 'migrate', 'arguments': {'uri': '%s'}}", uri);

    return empty_return(r, "migrate");
}

bool migtest_cancel(QmpTestProc *src)
{
    qmptest_auto_json json_t *r = qmptest_cmd(
        qmptest_client(src), "{'execute': 'migrate_cancel'}");

    return empty_return(r, "migrate_cancel");
}

json_t *migtest_query(QmpTestProc *vm)
{
    qmptest_auto_json json_t *r = qmptest_cmd(qmptest_client(vm),
                                              "{'execute': 'query-migrate'}");
    json_t *ret = qmptest_return(r);

    if (!json_is_object(ret)) {
        g_printerr("migtest: query-migrate: %s\n",
                   r ? (qmptest_error_desc(r) ?: "not an object")
                     : "no reply");
        return NULL;
    }
    return json_incref(ret);
}

char *migtest_query_status(QmpTestProc *vm)
{
    qmptest_auto_json json_t *info = migtest_query(vm);
    json_t *status = json_object_get(info, "status");

    if (!info) {
        return NULL;
    }
    return g_strdup(json_is_string(status) ? json_string_value(status)
                                           : "none");
}

char *migtest_query_error(QmpTestProc *vm)
{
    qmptest_auto_json json_t *info = migtest_query(vm);
    json_t *desc = json_object_get(info, "error-desc");

    return json_is_string(desc) ? g_strdup(json_string_value(desc)) : NULL;
}

bool migtest_status_is_final(const char *status)
{
    return !g_strcmp0(status, "completed") || !g_strcmp0(status, "failed") ||
           !g_strcmp0(status, "cancelled");
}

static int remaining_ms(int64_t deadline)
{
    int64_t left = deadline - g_get_monotonic_time();

    return left > 0 ? (left + 999) / 1000 : 0;
}

/* The status of a MIGRATION event (borrowed from @ev), or NULL. */
static const char *event_status(json_t *ev)
{
    return json_string_value(
        json_object_get(json_object_get(ev, "data"), "status"));
}

static void explain_end(QmpTestProc *vm, const char *status,
                        const char *wanted)
{
    g_autofree char *desc = migtest_query_error(vm);

    g_printerr("migtest: migration ended '%s' while waiting for '%s'%s%s\n",
               status, wanted, desc ? ": " : "", desc ? desc : "");
}

bool migtest_wait_status(QmpTestProc *vm, const char *status,
                         int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);
    QmpTestClient *c = qmptest_client(vm);

    for (;;) {
        qmptest_auto_json json_t *ev =
            qmptest_wait_event(c, "MIGRATION", remaining_ms(deadline));
        const char *got = event_status(ev);

        if (!ev) {
            g_autofree char *now = qmptest_exited(vm) ? NULL :
                                   migtest_query_status(vm);

            g_printerr("migtest: no MIGRATION '%s' event (status now: %s)\n",
                       status, now ? now : "process gone");
            return false;
        }
        if (event_is_stale(vm, ev)) {
            continue;
        }
        if (!g_strcmp0(got, status)) {
            return true;
        }
        if (migtest_status_is_final(got)) {
            explain_end(vm, got, status);
            return false;
        }
    }
}

char *migtest_wait_end(QmpTestProc *vm, int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);

    while (remaining_ms(deadline) > 0) {
        g_autofree char *now = NULL;

        if (qmptest_exited(vm)) {
            g_printerr("migtest: colo-vm exited before its migration "
                       "ended\n");
            return NULL;
        }
        now = migtest_query_status(vm);
        if (migtest_status_is_final(now)) {
            return g_steal_pointer(&now);
        }
        /* Collects output and events meanwhile; true once closed. */
        if (qmptest_wait_closed(qmptest_client(vm),
                                MIN(remaining_ms(deadline), 100))) {
            qmptest_wait_exit(vm, QMPTEST_TIMEOUT_MS);
        }
    }
    g_printerr("migtest: the migration did not end in time\n");
    return NULL;
}

bool migtest_wait_pass(QmpTestProc *vm, int64_t pass, int timeout_ms)
{
    int64_t deadline = qmptest_deadline(timeout_ms);
    QmpTestClient *c = qmptest_client(vm);

    for (;;) {
        qmptest_auto_json json_t *ev =
            qmptest_wait_event(c, "MIGRATION_PASS", remaining_ms(deadline));
        json_t *n = json_object_get(json_object_get(ev, "data"), "pass");

        if (!ev) {
            g_printerr("migtest: no MIGRATION_PASS %" PRId64 "\n", pass);
            return false;
        }
        if (!event_is_stale(vm, ev) && json_is_integer(n) &&
            json_integer_value(n) >= pass) {
            return true;
        }
    }
}

bool migtest_wait_exit_status(QmpTestProc *vm, int expected, int timeout_ms)
{
    int status = qmptest_wait_exit(vm, timeout_ms);

    if (status == -1) {
        g_printerr("migtest: colo-vm did not exit; stderr:\n%s\n",
                   qmptest_stderr(vm));
        return false;
    }
    if (WIFSIGNALED(status)) {
        g_printerr("migtest: colo-vm died of signal %d; stderr:\n%s\n",
                   WTERMSIG(status), qmptest_stderr(vm));
        return false;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != expected) {
        g_printerr("migtest: colo-vm exited with %d, expected %d; "
                   "stderr:\n%s\n", WEXITSTATUS(status), expected,
                   qmptest_stderr(vm));
        return false;
    }
    return true;
}

char *migtest_runstate(QmpTestProc *vm)
{
    qmptest_auto_json json_t *r = qmptest_cmd(qmptest_client(vm),
                                              "{'execute': 'query-status'}");
    json_t *status = json_object_get(qmptest_return(r), "status");

    return json_is_string(status) ? g_strdup(json_string_value(status))
                                  : NULL;
}

/* Pages per pipelined batch of memset requests. */
#define FILL_BATCH 1024

/* Send @n requests at once, then take their @n replies. */
static bool pipeline(QtestClient *qt, GString *reqs, unsigned n)
{
    if (!qtest_send_raw(qt, reqs->str, reqs->len)) {
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        g_autofree char *reply = qtest_wait_reply(qt, QMPTEST_TIMEOUT_MS);

        if (!reply || strcmp(reply, "OK") != 0) {
            g_printerr("migtest: memset: %s\n", reply ? reply : "no reply");
            return false;
        }
    }
    return true;
}

bool migtest_fill_ram(QtestClient *qt, uint64_t size, uint32_t seed)
{
    uint64_t pages = size / QTEST_CLIENT_PAGE_SIZE;
    g_autoptr(GString) reqs = g_string_new("");
    g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
    uint8_t page[QTEST_CLIENT_PAGE_SIZE];
    unsigned queued = 0;

    for (uint64_t p = 0; p < pages; p++) {
        /* 1..255: never a zero page. */
        unsigned val = (p * 31 + seed) % 255 + 1;

        g_string_append_printf(reqs, "memset 0x%" PRIx64 " %u 0x%x\n",
                               p * QTEST_CLIENT_PAGE_SIZE,
                               QTEST_CLIENT_PAGE_SIZE, val);
        if (++queued == FILL_BATCH || p + 1 == pages) {
            if (!pipeline(qt, reqs, queued)) {
                return false;
            }
            g_string_truncate(reqs, 0);
            queued = 0;
        }
    }
    /* One page of random bytes per MiB, so not every page is uniform. */
    for (uint64_t p = 0; p < pages; p += 256) {
        uint64_t at = p + g_rand_int_range(rand, 0, MIN(256, pages - p));

        for (size_t i = 0; i < sizeof(page); i++) {
            page[i] = g_rand_int_range(rand, 1, 256);
        }
        if (!qtest_bufwrite(qt, at * QTEST_CLIENT_PAGE_SIZE, page,
                            sizeof(page))) {
            return false;
        }
    }
    return true;
}

bool migtest_ram_equal(QtestClient *a, QtestClient *b, uint64_t size)
{
    uint64_t diff;
    int r = qtest_ram_compare(a, b, 0, size, &diff);

    if (r < 0) {
        g_printerr("migtest: reading guest RAM failed\n");
    }
    return r == 0;
}

bool migtest_check_dirtier_ram(QmpTestProc *vm, uint64_t size,
                               uint64_t start, unsigned nparts, char **why)
{
    static unsigned serial;
    g_autofree char *path = g_strdup_printf("%s/ram-%u.bin",
                                            qmptest_tmpdir(vm), serial++);
    qmptest_auto_json json_t *r = NULL;
    bool ok;

    r = qmptest_cmd(qmptest_client(vm),
                    "{'execute': 'pmemsave', 'arguments': {'val': 0, "
                    "'size': %" PRIu64 ", 'filename': '%s'}}", size, path);
    if (!empty_return(r, "pmemsave")) {
        *why = g_strdup("pmemsave failed");
        return false;
    }
    ok = ram_pattern_check_file(path, start, size, nparts, why);
    unlink(path);
    return ok;
}
