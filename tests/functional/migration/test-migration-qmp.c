/*
 * The migration QMP commands on their own: capability and parameter
 * validation, query shapes before any migration, the errors of
 * migrate-incoming and migrate, the MIGRATION event's dependence on the
 * events capability, and one plain migration over a unix socket
 * between two qtest VMs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "qmp-test.h"

#define VM_ARGS "-accel qtest -m 32M"
#define TIMEOUT QMPTEST_TIMEOUT_MS

/* QEMU 7.2's list, in its order, then colo-vm's own. */
static const char *const capabilities[] = {
    "xbzrle", "rdma-pin-all", "auto-converge", "zero-blocks", "compress",
    "events", "postcopy-ram", "x-colo", "release-ram", "block",
    "return-path", "pause-before-switchover", "multifd", "dirty-bitmaps",
    "postcopy-blocktime", "late-block-activate", "x-ignore-shared",
    "validate-uuid", "background-snapshot", "zero-copy-send",
    "postcopy-preempt", "x-colo-lean",
};

static QmpTestProc *start_vm(const char *extra)
{
    g_autofree char *args = g_strdup_printf(VM_ARGS " %s", extra);
    QmpTestProc *vm = qmptest_start(args, 0);

    assert_non_null(vm);
    return vm;
}

static void stop_vm(QmpTestProc *vm)
{
    assert_int_equal(qmptest_quit(vm, TIMEOUT), 0);
    qmptest_free(vm);
}

static void assert_ok(QmpTestClient *c, const char *cmd)
{
    qmptest_auto_json json_t *r = qmptest_cmd(c, "%s", cmd);

    assert_non_null(r);
    if (!qmptest_return(r)) {
        fail_msg("%s failed: %s", cmd, qmptest_error_desc(r));
    }
}

static void assert_error(QmpTestClient *c, const char *cmd, const char *desc)
{
    qmptest_auto_json json_t *r = qmptest_cmd(c, "%s", cmd);

    assert_non_null(r);
    assert_non_null(qmptest_error_class(r));
    assert_string_equal(qmptest_error_class(r), "GenericError");
    assert_string_equal(qmptest_error_desc(r), desc);
}

/* The return value of @cmd (a new reference). */
static json_t *query(QmpTestClient *c, const char *cmd)
{
    json_t *r = qmptest_cmd(c, "%s", cmd);
    json_t *ret;

    assert_non_null(r);
    ret = qmptest_return(r);
    assert_non_null(ret);
    json_incref(ret);
    json_decref(r);
    return ret;
}

static bool cap_state(QmpTestClient *c, const char *name)
{
    qmptest_auto_json json_t *caps =
        query(c, "{'execute': 'query-migrate-capabilities'}");
    size_t i;
    json_t *e;

    json_array_foreach(caps, i, e) {
        if (!strcmp(json_string_value(json_object_get(e, "capability")),
                    name)) {
            return json_is_true(json_object_get(e, "state"));
        }
    }
    fail_msg("capability %s not listed", name);
    return false;
}

static int64_t param(QmpTestClient *c, const char *name)
{
    qmptest_auto_json json_t *p =
        query(c, "{'execute': 'query-migrate-parameters'}");
    json_t *v = json_object_get(p, name);

    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

/*
 * What QEMU 7.2's query-migrate-parameters returns in a fresh process
 * (block-bitmap-mapping is absent until set), plus our x-heartbeat-*.
 */
static const char *const default_params =
    "{'announce-initial': 50, 'announce-max': 550, 'announce-rounds': 5,"
    " 'announce-step': 100, 'compress-level': 1, 'compress-threads': 8,"
    " 'compress-wait-thread': true, 'decompress-threads': 2,"
    " 'throttle-trigger-threshold': 50, 'cpu-throttle-initial': 20,"
    " 'cpu-throttle-increment': 10, 'cpu-throttle-tailslow': false,"
    " 'tls-creds': '', 'tls-hostname': '', 'tls-authz': '',"
    " 'max-bandwidth': 134217728, 'downtime-limit': 300,"
    " 'x-checkpoint-delay': 20000, 'block-incremental': false,"
    " 'multifd-channels': 2, 'xbzrle-cache-size': 67108864,"
    " 'max-postcopy-bandwidth': 0, 'max-cpu-throttle': 99,"
    " 'multifd-compression': 'none', 'multifd-zlib-level': 1,"
    " 'multifd-zstd-level': 1, 'x-heartbeat-interval': 1000,"
    " 'x-heartbeat-timeout': 5000}";

static void assert_params_default(json_t *params)
{
    g_autofree char *text = g_strdup(default_params);
    json_error_t jerr;
    qmptest_auto_json json_t *want = NULL;

    g_strdelimit(text, "'", '"');
    want = json_loads(text, 0, &jerr);
    assert_non_null(want);
    assert_int_equal(json_object_size(want), 27 - 1 + 2);
    if (!json_equal(params, want)) {
        g_autofree char *got = json_dumps(params, JSON_SORT_KEYS);

        fail_msg("query-migrate-parameters: %s", got);
    }
}

static void test_initial_queries(void **state)
{
    QmpTestProc *vm = start_vm("-S");
    QmpTestClient *c = qmptest_client(vm);
    qmptest_auto_json json_t *info = query(c, "{'execute': 'query-migrate'}");
    qmptest_auto_json json_t *caps =
        query(c, "{'execute': 'query-migrate-capabilities'}");
    qmptest_auto_json json_t *params =
        query(c, "{'execute': 'query-migrate-parameters'}");

    /* Nothing happened yet: not even a status. */
    assert_int_equal(json_object_size(info), 0);

    assert_int_equal(json_array_size(caps), G_N_ELEMENTS(capabilities));
    for (size_t i = 0; i < G_N_ELEMENTS(capabilities); i++) {
        json_t *e = json_array_get(caps, i);

        assert_int_equal(json_object_size(e), 2);
        assert_string_equal(
            json_string_value(json_object_get(e, "capability")),
            capabilities[i]);
        assert_true(json_is_false(json_object_get(e, "state")));
    }

    assert_params_default(params);
    stop_vm(vm);
}

static void test_capabilities(void **state)
{
    QmpTestProc *vm = start_vm("-S");
    QmpTestClient *c = qmptest_client(vm);

    /* Every capability we lack is refused by name. */
    for (size_t i = 0; i < G_N_ELEMENTS(capabilities); i++) {
        const char *name = capabilities[i];
        g_autofree char *cmd = g_strdup_printf(
            "{'execute': 'migrate-set-capabilities', 'arguments': "
            "{'capabilities': [{'capability': '%s', 'state': true}]}}",
            name);
        g_autofree char *desc = g_strdup_printf(
            "Capability '%s' is not supported by colo-vm", name);
        bool supported = !strcmp(name, "auto-converge") ||
                         !strcmp(name, "events") ||
                         !strcmp(name, "x-colo") ||
                         !strcmp(name, "return-path") ||
                         !strcmp(name, "x-colo-lean");

        if (supported) {
            assert_ok(c, cmd);
            assert_true(cap_state(c, name));
        } else {
            assert_error(c, cmd, desc);
            assert_false(cap_state(c, name));
        }
    }

    /* Switching off is always allowed. */
    assert_ok(c, "{'execute': 'migrate-set-capabilities', 'arguments': "
                 "{'capabilities': [{'capability': 'events', 'state': false},"
                 " {'capability': 'xbzrle', 'state': false}]}}");
    assert_false(cap_state(c, "events"));

    /* One bad entry and nothing in the list changes. */
    assert_error(c, "{'execute': 'migrate-set-capabilities', 'arguments': "
                    "{'capabilities': [{'capability': 'events', "
                    "'state': true}, {'capability': 'multifd', "
                    "'state': true}]}}",
                 "Capability 'multifd' is not supported by colo-vm");
    assert_false(cap_state(c, "events"));

    /* QEMU's text names the member alone, wherever it is in the list. */
    assert_error(c, "{'execute': 'migrate-set-capabilities', 'arguments': "
                    "{'capabilities': [{'capability': 'nope', "
                    "'state': true}]}}",
                 "Parameter 'capability' does not accept value 'nope'");
    assert_error(c, "{'execute': 'migrate-set-capabilities', 'arguments': "
                    "{'capabilities': [{'capability': 'events', "
                    "'state': true}, {'capability': 'nope', "
                    "'state': true}]}}",
                 "Parameter 'capability' does not accept value 'nope'");
    assert_false(cap_state(c, "events"));
    stop_vm(vm);
}

static void test_parameters(void **state)
{
    QmpTestProc *vm = start_vm("-S");
    QmpTestClient *c = qmptest_client(vm);
    static const struct {
        const char *args;
        const char *desc;
    } bad[] = {
        { "{'cpu-throttle-initial': 0}",
          "Parameter 'cpu_throttle_initial' expects an integer in the "
          "range of 1 to 99" },
        { "{'cpu-throttle-initial': 100}",
          "Parameter 'cpu_throttle_initial' expects an integer in the "
          "range of 1 to 99" },
        { "{'cpu-throttle-increment': 0}",
          "Parameter 'cpu_throttle_increment' expects an integer in the "
          "range of 1 to 99" },
        { "{'cpu-throttle-increment': 256}",
          "Parameter 'cpu-throttle-increment' expects uint8_t" },
        { "{'downtime-limit': 2000001}",
          "Parameter 'downtime_limit' expects an integer in the range of "
          "0 to (2000 * 1000) ms" },
        { "{'x-checkpoint-delay': 4294967296}",
          "Parameter 'x-checkpoint-delay' expects uint32_t" },
        { "{'compress-level': 2}",
          "Parameter 'compress-level' is not supported by colo-vm" },
        { "{'tls-creds': 'tls0'}",
          "Parameter 'tls-creds' is not supported by colo-vm" },
        { "{'multifd-compression': 'zstd'}",
          "Parameter 'multifd-compression' is not supported by colo-vm" },
        { "{'max-cpu-throttle': 50}",
          "Parameter 'max-cpu-throttle' is not supported by colo-vm" },
        { "{'block-bitmap-mapping': [{'node-name': 'n', 'alias': 'a',"
          " 'bitmaps': []}]}",
          "Parameter 'block-bitmap-mapping' is not supported by colo-vm" },
        { "{'compress-level': 256}",
          "Parameter 'compress-level' expects uint8_t" },
        { "{'x-heartbeat-interval': 0}",
          "Parameter 'x-heartbeat-interval' expects an integer in the "
          "range of 1 to 3600000 ms" },
        { "{'x-heartbeat-timeout': 1000}",
          "Parameter 'x-heartbeat-timeout' expects a value greater than "
          "x-heartbeat-interval (1000 ms)" },
        { "{'max-throttle': 1}",
          "Parameter 'max-throttle' is unexpected" },
        /* A valid value beside a bad one is not applied either. */
        { "{'downtime-limit': 10, 'cpu-throttle-initial': 0}",
          "Parameter 'cpu_throttle_initial' expects an integer in the "
          "range of 1 to 99" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *cmd = g_strdup_printf(
            "{'execute': 'migrate-set-parameters', 'arguments': %s}",
            bad[i].args);

        assert_error(c, cmd, bad[i].desc);
    }
    assert_int_equal(param(c, "downtime-limit"), 300);

    assert_ok(c, "{'execute': 'migrate-set-parameters', 'arguments': "
                 "{'cpu-throttle-initial': 99, 'cpu-throttle-increment': 1, "
                 "'max-bandwidth': 1048576, 'downtime-limit': 2000000, "
                 "'x-checkpoint-delay': 0}}");
    assert_int_equal(param(c, "cpu-throttle-initial"), 99);
    assert_int_equal(param(c, "cpu-throttle-increment"), 1);
    assert_int_equal(param(c, "max-bandwidth"), 1048576);
    assert_int_equal(param(c, "downtime-limit"), 2000000);
    assert_int_equal(param(c, "x-checkpoint-delay"), 0);
    assert_ok(c, "{'execute': 'migrate-set-parameters', 'arguments': {}}");
    assert_int_equal(param(c, "downtime-limit"), 2000000);

    /* What we do not implement may be set to its default. */
    assert_ok(c, "{'execute': 'migrate-set-parameters', 'arguments': "
                 "{'compress-level': 1, 'tls-creds': '', "
                 "'tls-hostname': null, 'multifd-compression': 'none', "
                 "'block-bitmap-mapping': [], 'xbzrle-cache-size': "
                 "67108864, 'cpu-throttle-tailslow': false}}");
    stop_vm(vm);
}

static void test_incoming_errors(void **state)
{
    QmpTestProc *vm = start_vm("-S");
    QmpTestClient *c = qmptest_client(vm);
    QmpTestProc *dst;
    qmptest_auto_json json_t *info = NULL;
    qmptest_auto_json json_t *status = NULL;
    json_t *addr;
    g_autofree char *cmd = NULL;

    assert_error(c, "{'execute': 'migrate-incoming', 'arguments': "
                    "{'uri': 'tcp:127.0.0.1:0'}}",
                 "'-incoming' was not specified on the command line");
    stop_vm(vm);

    dst = start_vm("-incoming defer");
    c = qmptest_client(dst);
    status = query(c, "{'execute': 'query-status'}");
    assert_string_equal(json_string_value(json_object_get(status, "status")),
                        "inmigrate");
    assert_error(c, "{'execute': 'migrate', 'arguments': "
                    "{'uri': 'unix:/nonexistent'}}",
                 "Guest is waiting for an incoming migration");
    /* A failed attempt may be retried. */
    assert_error(c, "{'execute': 'migrate-incoming', 'arguments': "
                    "{'uri': 'foo:bar'}}",
                 "unknown migration protocol: foo:bar");
    cmd = g_strdup_printf("{'execute': 'migrate-incoming', 'arguments': "
                          "{'uri': 'unix:%s/mig.sock'}}",
                          qmptest_tmpdir(dst));
    assert_ok(c, cmd);
    assert_error(c, cmd, "The incoming migration has already been started");

    /* Listening, no source yet: the address but no status. */
    info = query(c, "{'execute': 'query-migrate'}");
    assert_int_equal(json_object_size(info), 1);
    addr = json_array_get(json_object_get(info, "socket-address"), 0);
    assert_string_equal(json_string_value(json_object_get(addr, "type")),
                        "unix");
    assert_non_null(strstr(json_string_value(json_object_get(addr, "path")),
                           "mig.sock"));
    stop_vm(dst);
}

static void test_incoming_tcp_port(void **state)
{
    QmpTestProc *dst = start_vm("-incoming tcp:127.0.0.1:0");
    QmpTestClient *c = qmptest_client(dst);
    qmptest_auto_json json_t *info = query(c, "{'execute': 'query-migrate'}");
    json_t *addr = json_array_get(json_object_get(info, "socket-address"),
                                  0);

    assert_non_null(addr);
    assert_string_equal(json_string_value(json_object_get(addr, "type")),
                        "inet");
    assert_string_equal(json_string_value(json_object_get(addr, "host")),
                        "127.0.0.1");
    assert_true(atoi(json_string_value(json_object_get(addr, "port"))) > 0);
    assert_true(json_is_true(json_object_get(addr, "ipv4")));
    assert_error(c, "{'execute': 'migrate-incoming', 'arguments': "
                    "{'uri': 'tcp:127.0.0.1:0'}}",
                 "The incoming migration has already been started");
    stop_vm(dst);
}

static void test_migrate_errors(void **state)
{
    QmpTestProc *vm = start_vm("-S");
    QmpTestClient *c = qmptest_client(vm);
    qmptest_auto_json json_t *info = NULL;
    qmptest_auto_json json_t *info2 = NULL;
    qmptest_auto_json json_t *ev = NULL;
    g_autofree char *cmd = NULL;

    /* Without the events capability: no MIGRATION event at all. */
    assert_error(c, "{'execute': 'migrate', 'arguments': {'uri': 'foo:bar'}}",
                 "Parameter 'uri' expects a valid migration protocol");
    info = query(c, "{'execute': 'query-migrate'}");
    assert_int_equal(json_object_size(info), 1);
    assert_string_equal(json_string_value(json_object_get(info, "status")),
                        "failed");
    assert_int_equal(qmptest_event_count(c), 0);

    assert_error(c, "{'execute': 'migrate', 'arguments': {'uri': 'tcp:'}}",
                 "Port missing in 'tcp:'");
    info2 = query(c, "{'execute': 'query-migrate'}");
    assert_string_equal(json_string_value(json_object_get(info2,
                                                          "error-desc")),
                        "Port missing in 'tcp:'");

    assert_error(c, "{'execute': 'migrate', 'arguments': "
                    "{'uri': 'unix:/x', 'blk': true}}",
                 "Capability 'block' is not supported by colo-vm");
    assert_error(c, "{'execute': 'migrate', 'arguments': "
                    "{'uri': 'unix:/x', 'resume': true}}",
                 "Cannot resume if there is no paused migration");
    assert_ok(c, "{'execute': 'migrate_cancel'}");

    /* Connecting happens after the reply; its failure comes as events. */
    assert_ok(c, "{'execute': 'migrate-set-capabilities', 'arguments': "
                 "{'capabilities': [{'capability': 'events', "
                 "'state': true}]}}");
    cmd = g_strdup_printf("{'execute': 'migrate', 'arguments': "
                          "{'uri': 'unix:%s/nobody.sock'}}",
                          qmptest_tmpdir(vm));
    assert_ok(c, cmd);
    for (;;) {
        const char *st;

        json_decref(ev);
        ev = qmptest_wait_event(c, "MIGRATION", TIMEOUT);
        assert_non_null(ev);
        st = json_string_value(json_object_get(json_object_get(ev, "data"),
                                               "status"));
        if (!strcmp(st, "failed")) {
            break;
        }
        assert_string_equal(st, "setup");
    }
    json_decref(info);
    info = query(c, "{'execute': 'query-migrate'}");
    assert_non_null(strstr(json_string_value(json_object_get(info,
                                                             "error-desc")),
                           "nobody.sock"));
    stop_vm(vm);
}


/*
 * A destination played by the test: a listening unix socket whose peer
 * is accepted but whose stream is never read.
 */
static int fake_dest_listen(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_true(strlen(path) < sizeof(sa.sun_path));
    strcpy(sa.sun_path, path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 1), 0);
    return fd;
}

static const char *last_event_status(QmpTestClient *c, const char *final1,
                                     const char *final2)
{
    static char buf[32];

    for (;;) {
        qmptest_auto_json json_t *ev =
            qmptest_wait_event(c, "MIGRATION", TIMEOUT);
        const char *st;

        assert_non_null(ev);
        st = json_string_value(json_object_get(json_object_get(ev, "data"),
                                               "status"));
        if (!strcmp(st, final1) || !strcmp(st, final2)) {
            g_strlcpy(buf, st, sizeof(buf));
            return buf;
        }
    }
}

/* Start a migration with the return path to a fake destination. */
static int migrate_to_fake(QmpTestProc *vm, int lfd, const char *path)
{
    QmpTestClient *c = qmptest_client(vm);
    g_autofree char *cmd = g_strdup_printf(
        "{'execute': 'migrate', 'arguments': {'uri': 'unix:%s'}}", path);
    int fd;

    assert_ok(c, "{'execute': 'migrate-set-capabilities', 'arguments': "
                 "{'capabilities': [{'capability': 'events', "
                 "'state': true}, {'capability': 'return-path', "
                 "'state': true}]}}");
    assert_ok(c, cmd);
    fd = accept(lfd, NULL, NULL);
    assert_true(fd >= 0);
    return fd;
}

static void assert_running(QmpTestClient *c)
{
    qmptest_auto_json json_t *st = query(c, "{'execute': 'query-status'}");

    assert_string_equal(json_string_value(json_object_get(st, "status")),
                        "running");
}

static void test_return_path_malformed(void **state)
{
    QmpTestProc *vm = start_vm("");
    QmpTestClient *c = qmptest_client(vm);
    g_autofree char *path = g_strdup_printf("%s/fake.sock",
                                            qmptest_tmpdir(vm));
    int lfd = fake_dest_listen(path);
    int fd = migrate_to_fake(vm, lfd, path);
    /* Type 7 does not exist. */
    static const uint8_t bad[] = { 0, 7, 0, 4, 0, 0, 0, 0 };
    qmptest_auto_json json_t *info = NULL;

    assert_int_equal(write(fd, bad, sizeof(bad)), sizeof(bad));
    assert_string_equal(last_event_status(c, "failed", "completed"),
                        "failed");
    info = query(c, "{'execute': 'query-migrate'}");
    assert_string_equal(json_string_value(json_object_get(info,
                                                          "error-desc")),
                        "Received invalid message 0x0007 length 0x0004");
    assert_running(c);
    close(fd);
    close(lfd);
    stop_vm(vm);
}

static void test_return_path_bad_length(void **state)
{
    QmpTestProc *vm = start_vm("");
    QmpTestClient *c = qmptest_client(vm);
    g_autofree char *path = g_strdup_printf("%s/fake.sock",
                                            qmptest_tmpdir(vm));
    int lfd = fake_dest_listen(path);
    int fd = migrate_to_fake(vm, lfd, path);
    /* A SHUT with two bytes of payload instead of four. */
    static const uint8_t bad[] = { 0, 1, 0, 2, 0, 0 };
    qmptest_auto_json json_t *info = NULL;

    assert_int_equal(write(fd, bad, sizeof(bad)), sizeof(bad));
    assert_string_equal(last_event_status(c, "failed", "completed"),
                        "failed");
    info = query(c, "{'execute': 'query-migrate'}");
    assert_string_equal(json_string_value(json_object_get(info,
                                                          "error-desc")),
                        "Received 'SHUT' message (0x0001) with incorrect "
                        "length 2 expecting 4");
    assert_running(c);
    close(fd);
    close(lfd);
    stop_vm(vm);
}

/* The destination goes away without a word: failed, guest running. */
static void test_peer_vanishes(void **state)
{
    QmpTestProc *vm = start_vm("");
    QmpTestClient *c = qmptest_client(vm);
    g_autofree char *path = g_strdup_printf("%s/fake.sock",
                                            qmptest_tmpdir(vm));
    int lfd = fake_dest_listen(path);
    int fd = migrate_to_fake(vm, lfd, path);
    qmptest_auto_json json_t *info = NULL;

    close(fd);
    assert_string_equal(last_event_status(c, "failed", "completed"),
                        "failed");
    info = query(c, "{'execute': 'query-migrate'}");
    assert_non_null(json_object_get(info, "error-desc"));
    assert_running(c);
    close(lfd);
    stop_vm(vm);
}

/*
 * The destination never reads nor answers: the source is blocked
 * writing or waiting for the SHUT, and a cancel must still end it.
 */
static void test_cancel_stuck_peer(void **state)
{
    QmpTestProc *vm = start_vm("");
    QmpTestClient *c = qmptest_client(vm);
    g_autofree char *path = g_strdup_printf("%s/fake.sock",
                                            qmptest_tmpdir(vm));
    int lfd = fake_dest_listen(path);
    int fd = migrate_to_fake(vm, lfd, path);
    qmptest_auto_json json_t *info = NULL;

    assert_ok(c, "{'execute': 'migrate_cancel'}");
    assert_string_equal(last_event_status(c, "cancelled", "failed"),
                        "cancelled");
    info = query(c, "{'execute': 'query-migrate'}");
    assert_int_equal(json_object_size(info), 1);
    assert_running(c);
    close(fd);
    close(lfd);
    stop_vm(vm);
}

static const char *status_of(json_t *obj)
{
    return json_string_value(json_object_get(obj, "status"));
}

static void wait_migration_status(QmpTestClient *c, const char *want)
{
    for (;;) {
        qmptest_auto_json json_t *ev =
            qmptest_wait_event(c, "MIGRATION", TIMEOUT);

        assert_non_null(ev);
        if (!strcmp(status_of(json_object_get(ev, "data")), want)) {
            return;
        }
        assert_string_not_equal(status_of(json_object_get(ev, "data")),
                                "failed");
    }
}

static void test_unix_migration(void **state)
{
    QmpTestProc *dst = start_vm("-incoming defer");
    QmpTestProc *src = start_vm("");
    QmpTestClient *d = qmptest_client(dst);
    QmpTestClient *s = qmptest_client(src);
    const char *caps = "{'execute': 'migrate-set-capabilities', 'arguments': "
                       "{'capabilities': [{'capability': 'events', "
                       "'state': true}, {'capability': 'return-path', "
                       "'state': true}]}}";
    g_autofree char *uri = g_strdup_printf("unix:%s/mig.sock",
                                           qmptest_tmpdir(dst));
    g_autofree char *incoming = g_strdup_printf(
        "{'execute': 'migrate-incoming', 'arguments': {'uri': '%s'}}", uri);
    g_autofree char *migrate = g_strdup_printf(
        "{'execute': 'migrate', 'arguments': {'uri': '%s'}}", uri);
    qmptest_auto_json json_t *sinfo = NULL;
    qmptest_auto_json json_t *dinfo = NULL;
    qmptest_auto_json json_t *sst = NULL;
    qmptest_auto_json json_t *dst_st = NULL;

    assert_ok(d, caps);
    assert_ok(s, caps);
    assert_ok(d, incoming);
    assert_ok(s, migrate);
    wait_migration_status(s, "completed");
    wait_migration_status(d, "completed");

    sinfo = query(s, "{'execute': 'query-migrate'}");
    assert_string_equal(status_of(sinfo), "completed");
    assert_true(json_is_integer(json_object_get(sinfo, "total-time")));
    assert_true(json_is_integer(json_object_get(sinfo, "downtime")));
    assert_true(json_is_integer(json_object_get(sinfo, "setup-time")));
    assert_null(json_object_get(sinfo, "expected-downtime"));
    assert_int_equal(json_object_size(json_object_get(sinfo, "ram")), 18);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(sinfo, "ram"), "total")),
                     32 * 1024 * 1024);

    dinfo = query(d, "{'execute': 'query-migrate'}");
    assert_string_equal(status_of(dinfo), "completed");
    assert_null(json_object_get(dinfo, "ram"));

    sst = query(s, "{'execute': 'query-status'}");
    assert_string_equal(status_of(sst), "postmigrate");
    dst_st = query(d, "{'execute': 'query-status'}");
    assert_string_equal(status_of(dst_st), "running");

    assert_error(s, migrate, "Can't migrate the vm that was paused due to "
                             "previous migration");
    stop_vm(src);
    stop_vm(dst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_queries),
        cmocka_unit_test(test_capabilities),
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_incoming_errors),
        cmocka_unit_test(test_incoming_tcp_port),
        cmocka_unit_test(test_migrate_errors),
        cmocka_unit_test(test_return_path_malformed),
        cmocka_unit_test(test_return_path_bad_length),
        cmocka_unit_test(test_peer_vanishes),
        cmocka_unit_test(test_cancel_stuck_peer),
        cmocka_unit_test(test_unix_migration),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
