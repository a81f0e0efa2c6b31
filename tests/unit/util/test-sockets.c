/*
 * Tests for socket address parsing, listening and connecting.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <cmocka.h>

#include "util/sockets.h"

static void assert_parses_inet(const char *str, const char *host,
                               const char *port)
{
    SockAddr addr;
    Error *err = NULL;
    g_autofree char *back = NULL;

    if (!sock_addr_parse(str, &addr, &err)) {
        fail_msg("'%s': %s", str, error_get_pretty(err));
    }
    assert_int_equal(addr.type, SOCK_ADDR_TYPE_INET);
    assert_string_equal(addr.host, host);
    assert_string_equal(addr.port, port);
    assert_null(addr.path);
    back = sock_addr_to_str(&addr);
    assert_string_equal(back, str);
    sock_addr_clear(&addr);
    assert_null(addr.host);
    assert_null(addr.port);
}

static void assert_parse_fails(const char *str, const char *msg)
{
    SockAddr addr;
    Error *err = NULL;

    assert_false(sock_addr_parse(str, &addr, &err));
    assert_non_null(err);
    assert_string_equal(error_get_pretty(err), msg);
    /* Nothing is left allocated in addr on failure. */
    assert_null(addr.host);
    assert_null(addr.port);
    assert_null(addr.path);
    error_free(err);
}

static void test_parse_tcp(void **state)
{
    assert_parses_inet("tcp:localhost:4444", "localhost", "4444");
    assert_parses_inet("tcp:127.0.0.1:0", "127.0.0.1", "0");
    assert_parses_inet("tcp:[::1]:65535", "::1", "65535");
    assert_parses_inet("tcp:[fe80::1%lo]:1", "fe80::1%lo", "1");
    assert_parses_inet("tcp::5555", "", "5555");
}

static void test_parse_unix(void **state)
{
    SockAddr addr;
    g_autofree char *back = NULL;

    assert_true(sock_addr_parse("unix:/tmp/q.sock", &addr, NULL));
    assert_int_equal(addr.type, SOCK_ADDR_TYPE_UNIX);
    assert_string_equal(addr.path, "/tmp/q.sock");
    assert_null(addr.host);
    assert_null(addr.port);
    back = sock_addr_to_str(&addr);
    assert_string_equal(back, "unix:/tmp/q.sock");
    sock_addr_clear(&addr);

    /* Colons belong to the path. */
    assert_true(sock_addr_parse("unix:rel:a", &addr, NULL));
    assert_string_equal(addr.path, "rel:a");
    sock_addr_clear(&addr);
}

static void test_parse_errors(void **state)
{
    struct sockaddr_un sun;
    size_t max = sizeof(sun.sun_path) - 1;
    g_autofree char *ok_path = g_strnfill(max, 'p');
    g_autofree char *long_path = g_strnfill(max + 1, 'p');
    g_autofree char *ok_str = g_strconcat("unix:", ok_path, NULL);
    g_autofree char *long_str = g_strconcat("unix:", long_path, NULL);
    g_autofree char *long_msg = g_strdup_printf(
        "UNIX socket path '%s' is too long", long_path);
    SockAddr addr;

    assert_parse_fails("localhost:4444",
                       "Invalid socket address 'localhost:4444': expected "
                       "tcp:HOST:PORT or unix:PATH");
    assert_parse_fails("", "Invalid socket address '': expected "
                       "tcp:HOST:PORT or unix:PATH");
    assert_parse_fails("udp:a:1", "Invalid socket address 'udp:a:1': "
                       "expected tcp:HOST:PORT or unix:PATH");
    assert_parse_fails("tcp:localhost", "Port missing in 'tcp:localhost'");
    assert_parse_fails("tcp:localhost:", "Port missing in 'tcp:localhost:'");
    assert_parse_fails("tcp:[::1]", "Port missing in 'tcp:[::1]'");
    assert_parse_fails("tcp:[::1]:", "Port missing in 'tcp:[::1]:'");
    assert_parse_fails("tcp:[::1:4444",
                       "Missing ']' after IPv6 address in 'tcp:[::1:4444'");
    assert_parse_fails("tcp:::1:4444",
                       "IPv6 address must be in brackets in 'tcp:::1:4444'");
    assert_parse_fails("tcp:host:http",
                       "Invalid port 'http' in 'tcp:host:http': expected a "
                       "number from 0 to 65535");
    assert_parse_fails("tcp:host:65536",
                       "Invalid port '65536' in 'tcp:host:65536': expected "
                       "a number from 0 to 65535");
    assert_parse_fails("tcp:host:123456",
                       "Invalid port '123456' in 'tcp:host:123456': "
                       "expected a number from 0 to 65535");
    assert_parse_fails("tcp:host:-1",
                       "Invalid port '-1' in 'tcp:host:-1': expected a "
                       "number from 0 to 65535");
    assert_parse_fails("unix:", "Path missing in 'unix:'");
    assert_parse_fails(long_str, long_msg);

    /* The longest path that fits in sun_path is accepted. */
    assert_true(sock_addr_parse(ok_str, &addr, NULL));
    sock_addr_clear(&addr);
}

static void assert_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);

    assert_true(flags >= 0);
    assert_true(flags & FD_CLOEXEC);
}

/* Accept one connection on lfd and check bytes flow both ways. */
static void check_connection(int lfd, const SockAddr *addr)
{
    Error *err = NULL;
    int cfd = socket_connect(addr, &err);
    int afd;
    char buf[8];

    if (cfd < 0) {
        fail_msg("connect: %s", error_get_pretty(err));
    }
    assert_cloexec(cfd);
    afd = accept(lfd, NULL, NULL);
    assert_true(afd >= 0);
    assert_int_equal(write(cfd, "ping", 4), 4);
    assert_int_equal(read(afd, buf, sizeof(buf)), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(write(afd, "pong", 4), 4);
    assert_int_equal(read(cfd, buf, sizeof(buf)), 4);
    assert_memory_equal(buf, "pong", 4);
    close(afd);
    close(cfd);
}

static void test_tcp_listen_connect(void **state)
{
    SockAddr addr;
    Error *err = NULL;
    int lfd, port, reuse = 0;
    socklen_t len = sizeof(reuse);
    g_autofree char *str = NULL;

    assert_true(sock_addr_parse("tcp:127.0.0.1:0", &addr, NULL));
    lfd = socket_listen(&addr, 1, &err);
    if (lfd < 0) {
        fail_msg("listen: %s", error_get_pretty(err));
    }
    assert_cloexec(lfd);
    assert_int_equal(getsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &reuse, &len),
                     0);
    assert_true(reuse);
    port = socket_get_bound_port(lfd, NULL);
    assert_true(port > 0 && port <= 65535);
    assert_true(sock_addr_update_from_fd(&addr, lfd, NULL));
    str = g_strdup_printf("tcp:127.0.0.1:%d", port);
    g_autofree char *back = sock_addr_to_str(&addr);
    assert_string_equal(back, str);
    check_connection(lfd, &addr);
    close(lfd);
    sock_addr_clear(&addr);
}

static void test_tcp_any_host(void **state)
{
    SockAddr addr;
    int lfd;

    /* Empty host: listen on every address, connect to localhost. */
    assert_true(sock_addr_parse("tcp::0", &addr, NULL));
    lfd = socket_listen(&addr, 1, NULL);
    assert_true(lfd >= 0);
    assert_true(sock_addr_update_from_fd(&addr, lfd, NULL));
    assert_string_equal(addr.host, "");
    check_connection(lfd, &addr);
    close(lfd);
    sock_addr_clear(&addr);
}

static void test_tcp_errors(void **state)
{
    SockAddr addr;
    Error *err = NULL;
    int lfd, port;
    g_autofree char *busy = NULL;
    g_autofree char *refused = NULL;

    /* Take a port, then try to listen on it again and to a closed one. */
    assert_true(sock_addr_parse("tcp:127.0.0.1:0", &addr, NULL));
    lfd = socket_listen(&addr, 1, NULL);
    assert_true(lfd >= 0);
    port = socket_get_bound_port(lfd, NULL);
    assert_true(sock_addr_update_from_fd(&addr, lfd, NULL));
    assert_int_equal(socket_listen(&addr, 1, &err), -1);
    busy = g_strdup_printf("Failed to listen on '127.0.0.1:%d': %s", port,
                           strerror(EADDRINUSE));
    assert_string_equal(error_get_pretty(err), busy);
    error_free(err);
    err = NULL;
    close(lfd);

    assert_int_equal(socket_connect(&addr, &err), -1);
    refused = g_strdup_printf("Failed to connect to '127.0.0.1:%d': %s",
                              port, strerror(ECONNREFUSED));
    assert_string_equal(error_get_pretty(err), refused);
    error_free(err);
    err = NULL;
    sock_addr_clear(&addr);

    assert_true(sock_addr_parse("tcp:no-such-host.invalid:1", &addr, NULL));
    assert_int_equal(socket_connect(&addr, &err), -1);
    assert_non_null(strstr(error_get_pretty(err),
                           "address resolution failed for "
                           "no-such-host.invalid:1: "));
    error_free(err);
    sock_addr_clear(&addr);
}

static void test_unix_listen_connect(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("test-sockets-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "q.sock", NULL);
    g_autofree char *str = g_strconcat("unix:", path, NULL);
    SockAddr addr;
    Error *err = NULL;
    struct stat st;
    int lfd;

    assert_non_null(dir);
    assert_true(sock_addr_parse(str, &addr, NULL));
    lfd = socket_listen(&addr, 1, &err);
    if (lfd < 0) {
        fail_msg("listen: %s", error_get_pretty(err));
    }
    assert_cloexec(lfd);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    /* No tcp port to report; the address is left alone. */
    assert_int_equal(socket_get_bound_port(lfd, &err), -1);
    error_free(err);
    err = NULL;
    assert_true(sock_addr_update_from_fd(&addr, lfd, NULL));
    assert_string_equal(addr.path, path);
    check_connection(lfd, &addr);

    /* The file belongs to the caller: a second bind finds it in place. */
    assert_int_equal(socket_listen(&addr, 1, &err), -1);
    assert_non_null(strstr(error_get_pretty(err), "Failed to bind socket"));
    error_free(err);
    err = NULL;
    close(lfd);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(unlink(path), 0);

    assert_int_equal(socket_connect(&addr, &err), -1);
    assert_non_null(strstr(error_get_pretty(err), "Failed to connect to"));
    error_free(err);
    sock_addr_clear(&addr);
    assert_int_equal(rmdir(dir), 0);
}

/*
 * A stale socket file is replaced; on close only the file we bound is
 * removed, not one somebody else put at the same path meanwhile.
 */
static void test_unix_owned_file(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("test-sockets-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "s.sock", NULL);
    g_autofree char *tmp = g_build_filename(dir, "theirs.tmp", NULL);
    g_autofree char *str = g_strdup_printf("unix:%s", path);
    SockAddr addr;
    SocketFile file, stale_file;
    struct stat st;
    int stale, fd;

    assert_non_null(dir);
    assert_true(sock_addr_parse(str, &addr, &error_abort));

    /* A socket file left behind by a dead process. */
    stale = socket_listen_owned(&addr, 1, &stale_file, &error_abort);
    assert_true(stale >= 0 && stale_file.owned);
    close(stale);

    fd = socket_listen_owned(&addr, 1, &file, &error_abort);
    assert_true(fd >= 0 && file.owned);
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_ino == file.ino);

    socket_file_remove(&addr, &file);
    assert_int_equal(stat(path, &st), -1);
    assert_false(file.owned);
    close(fd);

    /*
     * A file that replaced ours after bind() is left alone.  It is
     * renamed over ours so that it cannot reuse our inode number.
     */
    fd = socket_listen_owned(&addr, 1, &file, &error_abort);
    assert_true(fd >= 0);
    assert_true(g_file_set_contents(tmp, "theirs", -1, NULL));
    assert_int_equal(rename(tmp, path), 0);
    socket_file_remove(&addr, &file);
    assert_int_equal(stat(path, &st), 0);
    close(fd);

    unlink(path);
    rmdir(dir);
    sock_addr_clear(&addr);
}

static void test_set_nonblock(void **state)
{
    int fds[2];
    char c;
    Error *err = NULL;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    assert_true(socket_set_nonblock(fds[0], true, NULL));
    assert_true(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
    assert_int_equal(read(fds[0], &c, 1), -1);
    assert_int_equal(errno, EAGAIN);
    assert_true(socket_set_nonblock(fds[0], false, NULL));
    assert_false(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
    close(fds[0]);
    close(fds[1]);
    assert_false(socket_set_nonblock(fds[0], true, &err));
    assert_non_null(strstr(error_get_pretty(err), "Cannot get flags"));
    error_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_tcp),
        cmocka_unit_test(test_parse_unix),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_tcp_listen_connect),
        cmocka_unit_test(test_tcp_any_host),
        cmocka_unit_test(test_tcp_errors),
        cmocka_unit_test(test_unix_listen_connect),
        cmocka_unit_test(test_unix_owned_file),
        cmocka_unit_test(test_set_nonblock),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
