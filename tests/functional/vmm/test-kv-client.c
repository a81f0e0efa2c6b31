/*
 * KvClient (tests/lib/kv-client.h) against a fake key-value service in
 * a thread: stale lines before the PONG, a connection closed or gone
 * silent in the middle of a batch, an address that accepts but never
 * answers, and no address at all.  No guest, so every case runs in
 * milliseconds and can misbehave in ways the guest never does.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "kv-client.h"
#include "qmp-test.h"

#define CAN '\x18'

/* Short, so that the cases which wait for it stay fast. */
#define REPLY_TIMEOUT_MS 300

/* How the first connection misbehaves; later ones just serve. */
typedef struct FakeKvScript {
    const char *greeting;   /* sent as soon as it is accepted */
    int close_after;        /* close after this many replies; -1: never */
    int silent_after;       /* stop replying after this many; -1: never */
} FakeKvScript;

typedef struct FakeKv {
    GThread *thread;
    int listen_fd;
    int wake[2];            /* the test asks the thread to stop */
    char *dir;
    char *address;
    FakeKvScript script;
    GMutex lock;            /* Protects: connections, requests. */
    unsigned connections;
    unsigned requests;
} FakeKv;

static const char *fake_reply(const char *line, char *buf, size_t size)
{
    if (g_str_has_prefix(line, "PING ")) {
        g_snprintf(buf, size, "PONG %s", line + 5);
        return buf;
    }
    if (g_str_has_prefix(line, "GET ")) {
        g_snprintf(buf, size, "value-of-%s", line + 4);
        return buf;
    }
    return g_str_has_prefix(line, "SET ") ? "OK" : "ERR";
}

static bool write_all(int fd, const char *s)
{
    size_t len = strlen(s), done = 0;

    while (done < len) {
        ssize_t n = send(fd, s + done, len - done, MSG_NOSIGNAL);

        if (n <= 0) {
            return false;
        }
        done += n;
    }
    return true;
}

/* Wait for @fd or the wake pipe; false when told to stop. */
static bool fake_wait(FakeKv *f, int fd)
{
    struct pollfd pfd[2] = {
        { .fd = f->wake[0], .events = POLLIN },
        { .fd = fd, .events = POLLIN },
    };

    while (poll(pfd, 2, -1) < 0 && errno == EINTR) {
        /* again */
    }
    return !pfd[0].revents;
}

/* Serve one connection until it ends; false when told to stop. */
static bool fake_serve(FakeKv *f, int fd, bool first)
{
    FakeKvScript s = first ? f->script
                           : (FakeKvScript){ NULL, -1, -1 };
    g_autoptr(GString) line = g_string_new(NULL);
    int replies = 0;
    char buf[256];

    if (s.greeting && !write_all(fd, s.greeting)) {
        return true;
    }
    for (;;) {
        ssize_t n;

        if (!fake_wait(f, fd)) {
            return false;
        }
        n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            return true;
        }
        for (ssize_t i = 0; i < n; i++) {
            char out[128];

            if (buf[i] == CAN) {
                g_string_truncate(line, 0);
                continue;
            }
            if (buf[i] != '\n') {
                g_string_append_c(line, buf[i]);
                continue;
            }
            g_mutex_lock(&f->lock);
            f->requests++;
            g_mutex_unlock(&f->lock);
            if (replies == s.close_after) {
                return true;
            }
            if (replies != s.silent_after) {
                g_autofree char *r = g_strdup_printf(
                    "%s\n", fake_reply(line->str, out, sizeof(out)));

                replies++;
                if (!write_all(fd, r)) {
                    return true;
                }
            }
            g_string_truncate(line, 0);
        }
    }
}

static gpointer fake_thread(gpointer opaque)
{
    FakeKv *f = opaque;
    bool first = true;

    while (fake_wait(f, f->listen_fd)) {
        int fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        bool go_on;

        if (fd < 0) {
            continue;
        }
        g_mutex_lock(&f->lock);
        f->connections++;
        g_mutex_unlock(&f->lock);
        go_on = fake_serve(f, fd, first);
        first = false;
        close(fd);
        if (!go_on) {
            break;
        }
    }
    return NULL;
}

/* A unix listener in a fresh directory; *@address names it. */
static int listen_unix(char **dir, char **address)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    g_autofree char *path = NULL;
    int fd;

    *dir = g_dir_make_tmp("kv-client-XXXXXX", NULL);
    assert_non_null(*dir);
    path = g_build_filename(*dir, "kv.sock", NULL);
    assert_true(strlen(path) < sizeof(sa.sun_path));
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 4), 0);
    *address = g_strdup_printf("unix:%s", path);
    return fd;
}

static FakeKv *fake_kv_new(const FakeKvScript *script)
{
    FakeKv *f = g_new0(FakeKv, 1);

    f->script = *script;
    g_mutex_init(&f->lock);
    assert_int_equal(pipe2(f->wake, O_CLOEXEC), 0);
    f->listen_fd = listen_unix(&f->dir, &f->address);
    f->thread = g_thread_new("fake-kv", fake_thread, f);
    return f;
}

static void fake_kv_free(FakeKv *f)
{
    g_autofree char *path = NULL;

    assert_int_equal(write(f->wake[1], "x", 1), 1);
    g_thread_join(f->thread);
    close(f->listen_fd);
    close(f->wake[0]);
    close(f->wake[1]);
    path = g_build_filename(f->dir, "kv.sock", NULL);
    g_unlink(path);
    g_rmdir(f->dir);
    g_free(f->dir);
    g_free(f->address);
    g_mutex_clear(&f->lock);
    g_free(f);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FakeKv, fake_kv_free)

static unsigned fake_requests(FakeKv *f)
{
    unsigned n;

    g_mutex_lock(&f->lock);
    n = f->requests;
    g_mutex_unlock(&f->lock);
    return n;
}

#define BATCH 40

/* GET k0 .. k39 through @c; every reply must be right. */
static void get_batch(KvClient *c)
{
    g_autoptr(GPtrArray) req = g_ptr_array_new_with_free_func(g_free);
    char *replies[BATCH];

    for (unsigned i = 0; i < BATCH; i++) {
        g_ptr_array_add(req, g_strdup_printf("GET k%u", i));
    }
    assert_true(kv_client_batch(c, (const char *const *)req->pdata, BATCH,
                                replies,
                                qmptest_deadline(QMPTEST_TIMEOUT_MS)));
    for (unsigned i = 0; i < BATCH; i++) {
        g_autofree char *want = g_strdup_printf("value-of-k%u", i);

        assert_string_equal(replies[i], want);
        g_free(replies[i]);
    }
}

/* Lines left by an earlier connection, even an old PONG, are skipped. */
static void test_stale_lines(void **state)
{
    FakeKvScript script = { "READY\nvalue-of-k7\nPONG old-token\nOK\n",
                            -1, -1 };
    g_autoptr(FakeKv) f = fake_kv_new(&script);
    g_autoptr(KvClient) c = kv_client_new(
        (const char *[]){ f->address, NULL }, QMPTEST_TIMEOUT_MS);

    get_batch(c);
    assert_int_equal(kv_client_reconnects(c), 0);
    assert_int_equal(kv_client_resent(c), 0);
    assert_int_equal(fake_requests(f), BATCH + 1);
}

/* The connection closes mid-batch: the rest is sent again. */
static void test_closed_mid_batch(void **state)
{
    FakeKvScript script = { NULL, 10, -1 };     /* PONG + 9 replies */
    g_autoptr(FakeKv) f = fake_kv_new(&script);
    g_autoptr(KvClient) c = kv_client_new(
        (const char *[]){ f->address, NULL }, QMPTEST_TIMEOUT_MS);

    get_batch(c);
    assert_int_equal(kv_client_reconnects(c), 1);
    assert_true(kv_client_resent(c) >= 1);
    assert_true(fake_requests(f) > BATCH + 2);
}

/* The service stops answering but keeps the connection: timeout. */
static void test_silent_mid_batch(void **state)
{
    FakeKvScript script = { NULL, -1, 5 };
    g_autoptr(FakeKv) f = fake_kv_new(&script);
    g_autoptr(KvClient) c = kv_client_new(
        (const char *[]){ f->address, NULL }, REPLY_TIMEOUT_MS);

    get_batch(c);
    assert_int_equal(kv_client_reconnects(c), 1);
    assert_true(kv_client_resent(c) >= 1);
}

/*
 * The first address accepts connections (the kernel does, from the
 * backlog) but nobody answers: after the reply timeout the client
 * serves from the second one.
 */
static void test_dead_address_skipped(void **state)
{
    FakeKvScript script = { NULL, -1, -1 };
    g_autoptr(FakeKv) f = fake_kv_new(&script);
    g_autofree char *dead_dir = NULL;
    g_autofree char *dead = NULL;
    g_autofree char *dead_path = NULL;
    int dead_fd = listen_unix(&dead_dir, &dead);
    KvClient *c = kv_client_new((const char *[]){ dead, f->address, NULL },
                                REPLY_TIMEOUT_MS);

    get_batch(c);
    assert_string_equal(kv_client_address(c), f->address);
    assert_int_equal(kv_client_reconnects(c), 0);
    kv_client_free(c);
    close(dead_fd);
    dead_path = g_build_filename(dead_dir, "kv.sock", NULL);
    g_unlink(dead_path);
    g_rmdir(dead_dir);
}

/* Nothing serves: false once the deadline passed, not much later. */
static void test_deadline(void **state)
{
    g_autoptr(KvClient) c = kv_client_new(
        (const char *[]){ "unix:/nonexistent/kv.sock", "tcp:nohost", NULL },
        REPLY_TIMEOUT_MS);
    int64_t start = g_get_monotonic_time();

    assert_null(kv_client_request(c, "GET k", qmptest_deadline(200)));
    assert_true(g_get_monotonic_time() - start >= 200 * 1000);
    assert_true(g_get_monotonic_time() - start < QMPTEST_TIMEOUT_MS * 1000);
    assert_null(kv_client_address(c));
}

/* A request that would break the line protocol is refused. */
static void test_bad_request(void **state)
{
    g_autoptr(KvClient) c = kv_client_new(
        (const char *[]){ "unix:/nonexistent/kv.sock", NULL },
        REPLY_TIMEOUT_MS);

    assert_null(kv_client_request(c, "GET a\nGET b",
                                  qmptest_deadline(QMPTEST_TIMEOUT_MS)));
    assert_null(kv_client_request(c, "GET a\x18",
                                  qmptest_deadline(QMPTEST_TIMEOUT_MS)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stale_lines),
        cmocka_unit_test(test_closed_mid_batch),
        cmocka_unit_test(test_silent_mid_batch),
        cmocka_unit_test(test_dead_address_skipped),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_bad_request),
    };

    return cmocka_run_group_tests_name("kv-client", tests, NULL, NULL);
}
