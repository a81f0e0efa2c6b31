/*
 * Tests for creating chardevs: -chardev options and every error, the
 * legacy -serial specs, and the file, null and ringbuf backends.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <glib.h>

#include "chardev/char.h"
#include "util/main-loop.h"
#include "test-require.h"

static char *tmpdir;

static int group_setup(void **state)
{
    main_loop_init();
    tmpdir = g_dir_make_tmp("chardev-XXXXXX", NULL);
    return tmpdir ? 0 : -1;
}

static int group_teardown(void **state)
{
    g_autoptr(GDir) dir = g_dir_open(tmpdir, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *p = g_build_filename(tmpdir, name, NULL);

        unlink(p);
    }
    rmdir(tmpdir);
    g_free(tmpdir);
    return 0;
}

static int teardown(void **state)
{
    chardev_cleanup_all();
    return 0;
}

/* Creation fails with exactly @msg; "%s" in either is the temp dir. */
static void expect_error(const char *optarg, const char *msg_fmt)
{
    g_autofree char *arg = g_strdup_printf(optarg, tmpdir);
    g_autofree char *msg = g_strdup_printf(msg_fmt, tmpdir);
    Error *err = NULL;

    if (chardev_new_from_opts(arg, &err)) {
        fail_msg("'%s' was accepted", arg);
    }
    assert_non_null(err);
    /* A trailing '*' leaves the rest (e.g. a resolver's text) open. */
    if (g_str_has_suffix(msg, "*")
        ? strncmp(error_get_pretty(err), msg, strlen(msg) - 1) != 0
        : strcmp(error_get_pretty(err), msg) != 0) {
        fail_msg("'%s': got \"%s\", expected \"%s\"", arg,
                 error_get_pretty(err), msg);
    }
    error_free(err);
}

static void expect_legacy_error(const char *spec, const char *msg)
{
    Error *err = NULL;

    if (chardev_new_legacy("serial0", spec, &err)) {
        fail_msg("'%s' was accepted", spec);
    }
    assert_non_null(err);
    if (strcmp(error_get_pretty(err), msg) != 0) {
        fail_msg("'%s': got \"%s\", expected \"%s\"", spec,
                 error_get_pretty(err), msg);
    }
    error_free(err);
}

static void test_generic_errors(void **state)
{
    expect_error("", "chardev: no id specified");
    expect_error("null", "chardev: no id specified");
    expect_error("foo", "chardev: no id specified");
    expect_error("id=x", "chardev: \"x\" missing backend");
    expect_error("foo,id=x", "'foo' is not a valid char driver name");
    expect_error("null,id=1x", "Parameter 'id' expects an identifier");
    expect_error("null,id=", "Parameter 'id' expects an identifier");
    expect_error("null,id=a b", "Parameter 'id' expects an identifier");
    expect_error("null,id=x,bogus=1", "Invalid parameter 'bogus'");
    expect_error("null,id=x,server=on", "Invalid parameter 'server'");
    expect_error("null,id=x,id=y", "Duplicate parameter 'id'");
    expect_error("null,,id=x", "chardev: no id specified");
    expect_error("null,id=x,", "Empty parameter after 'null,id=x'");
    assert_non_null(chardev_new_from_opts("null,id=x", &error_abort));
    expect_error("null,id=x", "Duplicate ID 'x' for chardev");
    expect_error("ringbuf,id=x", "Duplicate ID 'x' for chardev");
}

static void test_backend_errors(void **state)
{
    expect_error("file,id=f", "chardev: file: no filename given");
    expect_error("file,id=f,path=%s/no/such/file",
                 "Could not open '%s/no/such/file': No such file or "
                 "directory");
    expect_error("file,id=f,path=%s/x,append=maybe",
                 "Parameter 'append' expects 'on' or 'off'");
    expect_error("stdio,id=s,signal=maybe",
                 "Parameter 'signal' expects 'on' or 'off'");
    expect_error("ringbuf,id=r,size=3",
                 "size of ringbuf chardev must be power of two");
    expect_error("ringbuf,id=r,size=0",
                 "size of ringbuf chardev must be power of two");
    expect_error("socket,id=s", "chardev: socket: 'path' or 'host' is "
                 "required");
    expect_error("socket,id=s,host=localhost",
                 "chardev: socket: no port given");
    expect_error("socket,id=s,port=4444", "chardev: socket: no host given");
    expect_error("socket,id=s,path=/tmp/a,host=localhost",
                 "chardev: socket: 'path' cannot be combined with 'host' "
                 "or 'port'");
    expect_error("socket,id=s,path=/tmp/a,server=maybe",
                 "Parameter 'server' expects 'on' or 'off'");
    expect_error("socket,id=s,path=/tmp/a,server=on,wait=2",
                 "Parameter 'wait' expects 'on' or 'off'");
    expect_error("socket,id=s,path=%s/a.sock,server=on,reconnect=1",
                 "'reconnect' option is incompatible with socket in server "
                 "listen mode");
    expect_error("socket,id=s,path=%s/a.sock,wait=off",
                 "'wait' option is incompatible with socket in client "
                 "connect mode");
    expect_error("socket,id=s,path=%s/a.sock,reconnect=abc",
                 "Parameter 'reconnect' expects a number");
    expect_error("socket,id=s,path=%s/no/dir/a.sock,server=on,wait=off",
                 "Failed to bind socket to %s/no/dir/a.sock: No such file "
                 "or directory");
    expect_error("socket,id=s,path=%s/nobody.sock",
                 "Failed to connect to '%s/nobody.sock': No such file or "
                 "directory");
    expect_error("socket,id=s,host=localhost,port=abc,server=on,wait=off",
                 "address resolution failed for localhost:abc: *");
}

static void test_legacy_errors(void **state)
{
    expect_legacy_error("foo", "'foo' is not a valid char driver");
    expect_legacy_error("null,id=x", "'null,id=x' is not a valid char "
                        "driver");
    expect_legacy_error("stdio,x=1", "'stdio,x=1' is not a valid char "
                        "driver");
    expect_legacy_error("null:foo", "'null:foo' is not a valid char driver");
    expect_legacy_error("file:/no/such/dir/f",
                        "Could not open '/no/such/dir/f': No such file or "
                        "directory");
    expect_legacy_error("unix:", "Path missing in 'unix:'");
    expect_legacy_error("tcp:localhost", "Port missing in 'tcp:localhost'");
    expect_legacy_error("chardev:nope", "chardev 'nope' not found");
    expect_legacy_error("unix:/tmp/x.sock,server=on,wait=off,bogus=1",
                        "Invalid parameter 'bogus'");
    expect_legacy_error("unix:/tmp/x.sock,server=on,wait=maybe",
                        "Parameter 'wait' expects 'on' or 'off'");
    expect_legacy_error("unix:/tmp/x.sock,id=foo", "Invalid parameter 'id'");
    expect_legacy_error(NULL, "missing character device specification");
    expect_legacy_error("tcp:127.0.0.1:0,noserver,wait",
                        "'wait' option is incompatible with socket in "
                        "client connect mode");
    expect_legacy_error("unix:/tmp/x.sock,server,", "Empty parameter after "
                        "'unix:/tmp/x.sock,server=on'");
}

static void test_create_each_backend(void **state)
{
    g_autofree char *file = g_strdup_printf("file,id=f,path=%s/out",
                                            tmpdir);
    g_autofree char *sock =
        g_strdup_printf("socket,id=s,path=%s/s.sock,server=on,wait=off",
                        tmpdir);
    Chardev *c;

    c = chardev_new_from_opts("null,id=n", &error_abort);
    assert_string_equal(chardev_id(c), "n");
    assert_string_equal(chardev_driver(c), "null");
    assert_ptr_equal(chardev_find("n"), c);
    assert_true(chardev_is_connected(c));
    assert_int_equal(chardev_write(c, (const uint8_t *)"abc", 3), 3);
    assert_int_equal(chardev_dropped_bytes(c), 0);

    c = chardev_new_from_opts(file, &error_abort);
    assert_string_equal(chardev_driver(c), "file");
    c = chardev_new_from_opts(sock, &error_abort);
    assert_string_equal(chardev_driver(c), "socket");
    assert_false(chardev_is_connected(c));
    c = chardev_new_from_opts("ringbuf,id=r,size=1K", &error_abort);
    assert_string_equal(chardev_driver(c), "ringbuf");
    /* The implied first key may also be spelt out. */
    c = chardev_new_from_opts("backend=null,id=n2", &error_abort);
    assert_string_equal(chardev_driver(c), "null");
    assert_null(chardev_find("nothing"));
    assert_null(chardev_socket_address(chardev_find("n")));
    assert_int_equal(chardev_write(NULL, (const uint8_t *)"x", 1), -1);
}

static void test_legacy_specs(void **state)
{
    g_autofree char *file = g_strdup_printf("file:%s/comma,,name", tmpdir);
    g_autofree char *file_path = g_strdup_printf("%s/comma,,name", tmpdir);
    g_autofree char *sock = g_strdup_printf("unix:%s/l.sock,server=on,"
                                            "wait=off", tmpdir);
    g_autofree char *sock_addr = g_strdup_printf("unix:%s/l.sock", tmpdir);
    g_autofree char *addr = NULL;
    Chardev *c, *n;
    struct stat st;

    n = chardev_new_legacy("serial0", "null", &error_abort);
    assert_string_equal(chardev_id(n), "serial0");
    assert_string_equal(chardev_driver(n), "null");
    /* A legacy file path is taken literally, commas and all. */
    c = chardev_new_legacy("serial1", file, &error_abort);
    assert_string_equal(chardev_driver(c), "file");
    assert_int_equal(stat(file_path, &st), 0);
    c = chardev_new_legacy("serial2", sock, &error_abort);
    assert_string_equal(chardev_driver(c), "socket");
    addr = chardev_socket_address(c);
    assert_string_equal(addr, sock_addr);
    g_clear_pointer(&addr, g_free);
    c = chardev_new_legacy("serial3", "tcp:127.0.0.1:0,server=on,wait=off",
                           &error_abort);
    addr = chardev_socket_address(c);
    assert_true(g_str_has_prefix(addr, "tcp:127.0.0.1:"));
    assert_string_not_equal(addr, "tcp:127.0.0.1:0");
    g_clear_pointer(&addr, g_free);
    /* QEMU's short-form booleans are still understood. */
    c = chardev_new_legacy("serial4", "tcp:127.0.0.1:0,server,nowait",
                           &error_abort);
    addr = chardev_socket_address(c);
    assert_true(g_str_has_prefix(addr, "tcp:127.0.0.1:"));
    assert_non_null(chardev_new_from_opts("socket,id=s5,host=127.0.0.1,"
                                          "port=0,server,nowait",
                                          &error_abort));
    /* chardev:ID hands back the existing chardev. */
    assert_ptr_equal(chardev_new_legacy("x", "chardev:serial0",
                                        &error_abort), n);
    expect_legacy_error("null", "Duplicate ID 'serial0' for chardev");
}

static char *read_file(const char *path)
{
    char *contents = NULL;

    assert_true(g_file_get_contents(path, &contents, NULL, NULL));
    return contents;
}

static void test_file_backend(void **state)
{
    g_autofree char *path = g_build_filename(tmpdir, "file.out", NULL);
    g_autofree char *opts = g_strdup_printf("file,id=f,path=%s", path);
    g_autofree char *append = g_strdup_printf("file,id=f,path=%s,append=on",
                                              path);
    g_autofree char *c1 = NULL, *c2 = NULL, *c3 = NULL;
    Chardev *c;

    assert_true(g_file_set_contents(path, "old contents", -1, NULL));
    c = chardev_new_from_opts(opts, &error_abort);
    /* Truncated on open, as QEMU does. */
    c1 = read_file(path);
    assert_string_equal(c1, "");
    assert_int_equal(chardev_write(c, (const uint8_t *)"line 1\n", 7), 7);
    chardev_free(c);
    c2 = read_file(path);
    assert_string_equal(c2, "line 1\n");

    c = chardev_new_from_opts(append, &error_abort);
    assert_int_equal(chardev_write(c, (const uint8_t *)"line 2\n", 7), 7);
    chardev_cleanup_all();
    c3 = read_file(path);
    assert_string_equal(c3, "line 1\nline 2\n");
    unlink(path);
}

static void test_file_output_error(void **state)
{
    Chardev *c;

    TEST_REQUIRE(access("/dev/full", W_OK) == 0, "a writable /dev/full");
    /* A failing file drops (and counts) its output instead of stalling. */
    c = chardev_new_from_opts("file,id=full,path=/dev/full", &error_abort);
    assert_int_equal(chardev_write(c, (const uint8_t *)"abc", 3), 0);
    assert_int_equal(chardev_write(c, (const uint8_t *)"de", 2), 0);
    assert_int_equal(chardev_dropped_bytes(c), 5);
    assert_int_equal(chardev_pending_bytes(c), 0);
}

static void test_ringbuf_backend(void **state)
{
    Chardev *c = chardev_new_from_opts("ringbuf,id=r,size=8", &error_abort);
    uint8_t buf[16];

    assert_int_equal(chardev_write(c, (const uint8_t *)"0123456789", 10),
                     10);
    /* The oldest bytes gave way. */
    assert_int_equal(chardev_ringbuf_read(c, buf, sizeof(buf)), 8);
    assert_memory_equal(buf, "23456789", 8);
    assert_int_equal(chardev_ringbuf_read(c, buf, sizeof(buf)), 0);
    assert_int_equal(chardev_dropped_bytes(c), 0);
    /* Without a frontend, input waits, up to the ring size. */
    assert_int_equal(chardev_ringbuf_input(c, (const uint8_t *)"abcdefghij",
                                           10), 8);
    assert_int_equal(chardev_ringbuf_read(chardev_find("r"), buf, -1), -1);
    assert_int_equal(chardev_ringbuf_read(
                         chardev_new_from_opts("null,id=n", &error_abort),
                         buf, 1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_generic_errors, teardown),
        cmocka_unit_test_teardown(test_backend_errors, teardown),
        cmocka_unit_test_teardown(test_legacy_errors, teardown),
        cmocka_unit_test_teardown(test_create_each_backend, teardown),
        cmocka_unit_test_teardown(test_legacy_specs, teardown),
        cmocka_unit_test_teardown(test_file_backend, teardown),
        cmocka_unit_test_teardown(test_file_output_error, teardown),
        cmocka_unit_test_teardown(test_ringbuf_backend, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
