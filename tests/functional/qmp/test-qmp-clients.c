/*
 * Several QMP clients, misbehaving clients, and how colo-vm ends: quit,
 * signals, socket files.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config-host.h"
#include "qmp-assert.h"

static void assert_clean_exit(int status)
{
    assert_int_not_equal(status, -1);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void assert_shutdown_event(QmpTestClient *c, const char *reason)
{
    qmptest_auto_json json_t *ev =
        qmptest_wait_event(c, "SHUTDOWN", QMPTEST_TIMEOUT_MS);
    json_t *data = json_object_get(ev, "data");
    json_t *ts = json_object_get(ev, "timestamp");

    assert_non_null(ev);
    assert_true(json_is_false(json_object_get(data, "guest")));
    assert_string_equal(json_string_value(json_object_get(data, "reason")),
                        reason);
    assert_true(json_integer_value(json_object_get(ts, "seconds")) > 0);
    assert_true(json_is_integer(json_object_get(ts, "microseconds")));
}

static void assert_usable(QmpTestClient *c)
{
    qmptest_auto_json json_t *r =
        qmptest_cmd(c, "{'execute': 'query-version'}");

    assert_non_null(qmptest_return(r));
}

static void quit_and_check(QmpTestProc *vm, const char *transport)
{
    QmpTestClient *main_client = qmptest_client(vm);
    qmptest_auto_json json_t *r = NULL;
    struct stat st;

    r = qmptest_cmd(main_client, "{'execute': 'quit', 'id': '%s'}",
                    transport);
    assert_qmp_empty_return(r);
    assert_string_equal(json_string_value(json_object_get(r, "id")),
                        transport);
    assert_shutdown_event(main_client, "host-qmp-quit");
    assert_clean_exit(qmptest_wait_exit(vm, QMPTEST_TIMEOUT_MS));
    if (qmptest_socket_path(vm)) {
        assert_int_equal(stat(qmptest_socket_path(vm), &st), -1);
    }
}

static void test_quit(void **state)
{
    unsigned flags = *(unsigned *)*state;
    g_autoptr(QmpTestProc) vm = qmptest_start(NULL, flags);
    struct stat st;

    assert_non_null(vm);
    if (qmptest_socket_path(vm)) {
        assert_int_equal(stat(qmptest_socket_path(vm), &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
    }
    quit_and_check(vm, flags & QMPTEST_TCP ? "tcp" : "unix");
}

static void test_two_clients_get_shutdown(void **state)
{
    unsigned flags = *(unsigned *)*state;
    g_autoptr(QmpTestProc) vm = qmptest_start(NULL, flags);
    QmpTestClient *second, *raw;

    assert_non_null(vm);
    second = qmptest_connect(vm, NULL, true);
    raw = qmptest_connect(vm, NULL, false);
    assert_non_null(second);
    assert_non_null(raw);
    assert_usable(second);
    assert_usable(qmptest_client(vm));

    qmptest_auto_json json_t *r =
        qmptest_cmd(second, "{'execute': 'quit'}");
    assert_qmp_empty_return(r);
    assert_shutdown_event(second, "host-qmp-quit");
    assert_shutdown_event(qmptest_client(vm), "host-qmp-quit");
    /* Events go only to clients that finished negotiation. */
    assert_true(qmptest_wait_closed(raw, QMPTEST_TIMEOUT_MS));
    assert_int_equal(qmptest_event_count(raw), 0);
    assert_clean_exit(qmptest_wait_exit(vm, QMPTEST_TIMEOUT_MS));
}

static void test_interleaved_clients(void **state)
{
    unsigned flags = *(unsigned *)*state;
    g_autoptr(QmpTestProc) vm = qmptest_start(NULL, flags);
    QmpTestClient *a, *b;

    assert_non_null(vm);
    a = qmptest_client(vm);
    b = qmptest_connect(vm, NULL, true);
    assert_non_null(b);
    /* Half a request on one connection does not hold up the other. */
    assert_true(qmptest_send(a, "{'execute': 'query-"));
    for (int i = 0; i < 20; i++) {
        qmptest_auto_json json_t *r =
            qmptest_cmd(b, "{'execute': 'query-version', 'id': %d}", i);
        assert_int_equal(json_integer_value(json_object_get(r, "id")), i);
    }
    assert_true(qmptest_send(a, "version', 'id': 'a'}"));
    qmptest_auto_json json_t *ra = qmptest_wait_reply(a, QMPTEST_TIMEOUT_MS);
    assert_string_equal(json_string_value(json_object_get(ra, "id")), "a");
}

static unsigned count_fds(pid_t pid)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", (int)pid);
    GDir *d = g_dir_open(dir, 0, NULL);
    unsigned n = 0;

    assert_non_null(d);
    while (g_dir_read_name(d)) {
        n++;
    }
    g_dir_close(d);
    return n;
}

/*
 * The server notices closed connections in its own time: make round
 * trips until its descriptor count is back to @baseline.
 */
static void assert_fds_back_to(QmpTestProc *vm, unsigned baseline)
{
    int64_t deadline = qmptest_deadline(QMPTEST_TIMEOUT_MS);

    while (count_fds(qmptest_pid(vm)) != baseline) {
        assert_true(g_get_monotonic_time() < deadline);
        assert_usable(qmptest_client(vm));
    }
}

static void test_disconnect_mid_command(void **state)
{
    unsigned flags = *(unsigned *)*state;
    g_autoptr(QmpTestProc) vm = qmptest_start(NULL, flags);
    static const char *const partial[] = {
        "{\"execute\": \"query-ver",
        "{\"execute\": \"query-qmp-schema\"}",   /* reply never read */
        "{\"execute\": \"query-version\", \"id\": \"unfinished",
        "",
    };
    unsigned baseline;

    assert_non_null(vm);
    baseline = count_fds(qmptest_pid(vm));
    for (size_t i = 0; i < G_N_ELEMENTS(partial); i++) {
        QmpTestClient *c = qmptest_connect(vm, NULL, i % 2 == 0);

        assert_non_null(c);
        assert_true(qmptest_send_raw(c, partial[i], strlen(partial[i])));
        qmptest_client_close(c);
    }
    /* Many requests whose large replies nobody reads. */
    for (int round = 0; round < 3; round++) {
        QmpTestClient *c = qmptest_connect(vm, NULL, true);

        assert_non_null(c);
        for (int i = 0; i < 50; i++) {
            assert_true(qmptest_send(c, "{'execute': 'query-qmp-schema'}"));
        }
        qmptest_client_close(c);
    }
    assert_usable(qmptest_client(vm));
    assert_false(qmptest_exited(vm));
    /* Every session was released, none leaked its socket. */
    assert_fds_back_to(vm, baseline);
    quit_and_check(vm, "after");
}

/* A client that writes but never reads, bypassing the library. */
static int raw_unix_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Send all of @buf unless the peer goes away; false if it did. */
static bool raw_send(int fd, const char *buf, size_t len, int64_t deadline)
{
    while (len > 0) {
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

        if (n > 0) {
            buf += n;
            len -= n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return false;
        }
        assert_true(g_get_monotonic_time() < deadline);
        poll(&pfd, 1, 1000);
    }
    return true;
}

/* Read until end of connection; returns the number of bytes read. */
static size_t raw_drain(int fd, int64_t deadline)
{
    char buf[65536];
    size_t total = 0;

    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t n = recv(fd, buf, sizeof(buf), 0);

        if (n > 0) {
            total += n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            return total;
        }
        assert_true(g_get_monotonic_time() < deadline);
        poll(&pfd, 1, 1000);
    }
}

static void test_client_never_reads(void **state)
{
    g_autoptr(QmpTestProc) vm = qmptest_start(
        CONFIG_TRACE_LOG ? "-trace monitor_output_overflow" : NULL,
        QMPTEST_DEFAULT);
    static const char negotiate[] = "{\"execute\": \"qmp_capabilities\"}";
    static const char request[] = "{\"execute\": \"query-qmp-schema\"}";
    int64_t deadline = qmptest_deadline(QMPTEST_TIMEOUT_MS);
    qmptest_auto_json json_t *schema = NULL;
    g_autofree char *text = NULL;
    size_t asked = 0, got;
    int fd;

    assert_non_null(vm);
    schema = qmptest_cmd(qmptest_client(vm), "%s", request);
    text = json_dumps(schema, JSON_COMPACT);
    assert_non_null(text);

    /*
     * Ask for far more output than the server buffers (8 MiB) plus what
     * the kernel buffers, never reading: the server must drop this
     * client while the others carry on.
     */
    fd = raw_unix_connect(qmptest_socket_path(vm));
    assert_true(raw_send(fd, negotiate, strlen(negotiate), deadline));
    while (asked < 64 * 1024 * 1024 &&
           raw_send(fd, request, strlen(request), deadline)) {
        asked += strlen(text);
        if (asked % (4 * 1024 * 1024) < strlen(text)) {
            assert_usable(qmptest_client(vm));
        }
    }
    got = raw_drain(fd, deadline);
    close(fd);
    assert_true(got < asked);
    if (CONFIG_TRACE_LOG) {
        /* Dropped for the right reason, not some other failure. */
        assert_true(qmptest_wait_stderr(vm, "monitor_output_overflow",
                                        QMPTEST_TIMEOUT_MS));
    }
    assert_usable(qmptest_client(vm));
    quit_and_check(vm, "greedy");
}

static void test_several_listeners(void **state)
{
    g_autoptr(QmpTestProc) vm = qmptest_start(
        "-qmp unix:@TMPDIR@/second.sock,server=on,wait=off "
        "-qmp tcp:127.0.0.1:0,server=on,wait=off", QMPTEST_DEFAULT);
    g_autofree char *second_path = NULL;
    g_autofree char *second = NULL;
    QmpTestClient *c;
    struct stat st;

    assert_non_null(vm);
    second_path = g_build_filename(qmptest_tmpdir(vm), "second.sock", NULL);
    second = g_strdup_printf("unix:%s", second_path);
    c = qmptest_connect(vm, second, true);
    assert_non_null(c);
    assert_usable(c);
    quit_and_check(vm, "listeners");
    assert_shutdown_event(c, "host-qmp-quit");
    assert_int_equal(stat(second_path, &st), -1);
}

static void test_stale_socket_replaced(void **state)
{
    g_autoptr(QmpTestProc) first = qmptest_start(NULL, QMPTEST_DEFAULT);
    g_autoptr(QmpTestProc) second = NULL;
    g_autofree char *arg = NULL;

    /* A socket file left by a killed instance does not block a restart. */
    assert_non_null(first);
    qmptest_kill(first);
    arg = g_strdup_printf("-qmp %s,server=on,wait=off",
                          qmptest_qmp_address(first));
    second = qmptest_start(arg, QMPTEST_DEFAULT);
    assert_non_null(second);
    assert_non_null(qmptest_connect(second, qmptest_qmp_address(first),
                                    true));
    quit_and_check(second, "stale");
}

static void test_signal(void **state, int sig)
{
    g_autoptr(QmpTestProc) vm = qmptest_start(NULL, QMPTEST_DEFAULT);
    QmpTestClient *other;
    g_autofree char *expect = NULL;
    struct stat st;

    assert_non_null(vm);
    other = qmptest_connect(vm, NULL, true);
    assert_non_null(other);
    assert_true(qmptest_signal(vm, sig));
    assert_shutdown_event(qmptest_client(vm), "host-signal");
    assert_shutdown_event(other, "host-signal");
    assert_clean_exit(qmptest_wait_exit(vm, QMPTEST_TIMEOUT_MS));
    expect = g_strdup_printf("terminating on signal %d from pid %d", sig,
                             (int)getpid());
    assert_non_null(strstr(qmptest_stderr(vm), expect));
    assert_int_equal(stat(qmptest_socket_path(vm), &st), -1);
}

static void test_sigterm(void **state)
{
    test_signal(state, SIGTERM);
}

static void test_sigint(void **state)
{
    test_signal(state, SIGINT);
}

static void test_wait_on(void **state)
{
    g_autoptr(QmpTestProc) vm = qmptest_start(
        "-qmp unix:@TMPDIR@/wait.sock,server=on", QMPTEST_NO_QMP);
    g_autofree char *addr = NULL;
    QmpTestClient *c;

    /* Like QEMU, wait=on (the default) holds start-up for a client. */
    assert_non_null(vm);
    assert_true(qmptest_wait_stderr(vm, "waiting for connection",
                                    QMPTEST_TIMEOUT_MS));
    addr = g_strdup_printf("unix:%s/wait.sock", qmptest_tmpdir(vm));
    c = qmptest_connect(vm, addr, true);
    assert_non_null(c);
    assert_usable(c);
    assert_true(qmptest_signal(vm, SIGTERM));
    assert_shutdown_event(c, "host-signal");
    assert_clean_exit(qmptest_wait_exit(vm, QMPTEST_TIMEOUT_MS));
}

static void test_wait_on_interrupted(void **state)
{
    g_autoptr(QmpTestProc) vm = qmptest_start(
        "-qmp unix:@TMPDIR@/wait.sock,server=on", QMPTEST_NO_QMP);
    g_autofree char *path = NULL;
    struct stat st;

    assert_non_null(vm);
    assert_true(qmptest_wait_stderr(vm, "waiting for connection",
                                    QMPTEST_TIMEOUT_MS));
    assert_true(qmptest_signal(vm, SIGTERM));
    assert_clean_exit(qmptest_wait_exit(vm, QMPTEST_TIMEOUT_MS));
    path = g_strdup_printf("%s/wait.sock", qmptest_tmpdir(vm));
    assert_int_equal(stat(path, &st), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_quit, &qmp_transport_unix),
        cmocka_unit_test_prestate(test_quit, &qmp_transport_tcp),
        cmocka_unit_test_prestate(test_two_clients_get_shutdown,
                                  &qmp_transport_unix),
        cmocka_unit_test_prestate(test_two_clients_get_shutdown,
                                  &qmp_transport_tcp),
        cmocka_unit_test_prestate(test_interleaved_clients,
                                  &qmp_transport_unix),
        cmocka_unit_test_prestate(test_interleaved_clients,
                                  &qmp_transport_tcp),
        cmocka_unit_test_prestate(test_disconnect_mid_command,
                                  &qmp_transport_unix),
        cmocka_unit_test_prestate(test_disconnect_mid_command,
                                  &qmp_transport_tcp),
        cmocka_unit_test(test_client_never_reads),
        cmocka_unit_test(test_several_listeners),
        cmocka_unit_test(test_stale_socket_replaced),
        cmocka_unit_test(test_sigterm),
        cmocka_unit_test(test_sigint),
        cmocka_unit_test(test_wait_on),
        cmocka_unit_test(test_wait_on_interrupted),
    };

    return cmocka_run_group_tests_name("qmp-clients", tests, NULL, NULL);
}
