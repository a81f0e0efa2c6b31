/*
 * Device tree of the colo-x86 machine: build it for several machine
 * shapes, parse it back with libfdt, and decompile a dumped blob with
 * dtc.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <libfdt.h>

#include "system/cpus.h"
#include "system/fdt.h"
#include "system/machine.h"
#include "test-require.h"

#define MiB (1024 * 1024ULL)
#define GiB (1024 * MiB)

static void machine_free_fdt(MachineState *ms)
{
    g_free(ms->fdt);
    ms->fdt = NULL;
}

static const char *prop_string(const void *fdt, int node, const char *name)
{
    int len;
    const char *val = fdt_getprop(fdt, node, name, &len);

    assert_non_null(val);
    assert_true(len > 0);
    assert_int_equal(val[len - 1], '\0');
    return val;
}

static uint32_t prop_cell(const void *fdt, int node, const char *name)
{
    int len;
    const fdt32_t *val = fdt_getprop(fdt, node, name, &len);

    assert_non_null(val);
    assert_int_equal(len, sizeof(*val));
    return fdt32_to_cpu(*val);
}

/* A reg of one (address, size) pair in two cells each. */
static void check_reg64(const void *fdt, int node, uint64_t addr,
                        uint64_t size)
{
    int len;
    const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

    assert_non_null(reg);
    assert_int_equal(len, 4 * sizeof(fdt32_t));
    assert_int_equal(fdt32_to_cpu(reg[0]), addr >> 32);
    assert_int_equal(fdt32_to_cpu(reg[1]), (uint32_t)addr);
    assert_int_equal(fdt32_to_cpu(reg[2]), size >> 32);
    assert_int_equal(fdt32_to_cpu(reg[3]), (uint32_t)size);
}

static int node_at(const void *fdt, const char *path)
{
    int off = fdt_path_offset(fdt, path);

    if (off < 0) {
        fail_msg("no node %s: %s", path, fdt_strerror(off));
    }
    return off;
}

static void check_root(const void *fdt)
{
    assert_string_equal(prop_string(fdt, 0, "compatible"),
                        "colo-vm,colo-x86");
    assert_int_equal(prop_cell(fdt, 0, "#address-cells"), 2);
    assert_int_equal(prop_cell(fdt, 0, "#size-cells"), 2);
}

static void check_memory(const void *fdt, uint64_t ram_size)
{
    int mem = node_at(fdt, "/memory@0");

    assert_string_equal(prop_string(fdt, mem, "device_type"), "memory");
    check_reg64(fdt, mem, 0, ram_size);
}

/* Exactly @smp cpu@N nodes, in order of N. */
static void check_cpus(const void *fdt, unsigned smp)
{
    int cpus = node_at(fdt, "/cpus");
    unsigned n = 0;
    int node;

    assert_int_equal(prop_cell(fdt, cpus, "#address-cells"), 1);
    assert_int_equal(prop_cell(fdt, cpus, "#size-cells"), 0);
    fdt_for_each_subnode(node, fdt, cpus) {
        g_autofree char *name = g_strdup_printf("cpu@%u", n);

        assert_string_equal(fdt_get_name(fdt, node, NULL), name);
        assert_string_equal(prop_string(fdt, node, "device_type"), "cpu");
        assert_int_equal(prop_cell(fdt, node, "reg"), n);
        n++;
    }
    assert_int_equal(n, smp);
}

static void check_devices(const void *fdt)
{
    int serial = node_at(fdt, "/serial@3f8");
    int exit_dev = node_at(fdt, "/isa-debug-exit@501");
    int chosen = node_at(fdt, "/chosen");
    const char *stdout_path;

    assert_string_equal(prop_string(fdt, serial, "compatible"), "ns16550a");
    check_reg64(fdt, serial, 0x3f8, 8);
    assert_int_equal(prop_cell(fdt, serial, "clock-frequency"), 1843200);
    check_reg64(fdt, exit_dev, 0x501, 1);
    stdout_path = prop_string(fdt, chosen, "stdout-path");
    assert_string_equal(stdout_path, "/serial@3f8");
    assert_int_equal(fdt_path_offset(fdt, stdout_path), serial);
}

static void build_and_check(uint64_t ram_size, unsigned smp)
{
    MachineState ms = { .ram_size = ram_size, .smp = smp };
    Error *err = NULL;

    assert_true(fdt_build(&ms, &err));
    assert_null(err);
    assert_non_null(ms.fdt);
    assert_int_equal(fdt_check_header(ms.fdt), 0);
    assert_int_equal(fdt_totalsize(ms.fdt), ms.fdt_size);
    assert_true(ms.fdt_size <= FDT_MAX_SIZE);
    check_root(ms.fdt);
    check_memory(ms.fdt, ram_size);
    check_cpus(ms.fdt, smp);
    check_devices(ms.fdt);
    machine_free_fdt(&ms);
}

static void test_shapes(void **state)
{
    static const struct {
        uint64_t ram_size;
        unsigned smp;
    } shapes[] = {
        { 2 * MiB, 1 },
        { 128 * MiB, 1 },
        { 128 * MiB, 2 },
        { 512 * MiB, 7 },
        { 3 * GiB, 32 },
        /* Above 4 GiB the high cell of the size is used. */
        { 5 * GiB + 4096, 3 },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++) {
        build_and_check(shapes[i].ram_size, shapes[i].smp);
    }
}

/* Building again replaces the previous blob (ASan sees any leak). */
static void test_rebuild(void **state)
{
    MachineState ms = { .ram_size = 64 * MiB, .smp = 1 };

    assert_true(fdt_build(&ms, &error_abort));
    ms.smp = 4;
    ms.ram_size = 256 * MiB;
    assert_true(fdt_build(&ms, &error_abort));
    check_cpus(ms.fdt, 4);
    check_memory(ms.fdt, 256 * MiB);
    machine_free_fdt(&ms);
}

static void expect_build_error(MachineState *ms, uint32_t limit,
                               const char *needle)
{
    Error *err = NULL;

    assert_false(fdt_build_limited(ms, limit, &err));
    assert_non_null(err);
    if (!strstr(error_get_pretty(err), needle)) {
        fail_msg("error '%s' lacks '%s'", error_get_pretty(err), needle);
    }
    assert_null(ms->fdt);
    error_free(err);
}

static void test_too_big(void **state)
{
    MachineState ms = { .ram_size = 128 * MiB, .smp = 32 };

    expect_build_error(&ms, 512, "does not fit in 0x200 bytes");
    /* The real limit holds the largest machine. */
    assert_true(fdt_build_limited(&ms, FDT_MAX_SIZE, &error_abort));
    machine_free_fdt(&ms);
}

static void test_bad_machine(void **state)
{
    MachineState no_cpu = { .ram_size = 128 * MiB, .smp = 0 };
    MachineState many = { .ram_size = 128 * MiB, .smp = MAX_CPUS + 1 };
    MachineState no_ram = { .ram_size = 0, .smp = 1 };

    expect_build_error(&no_cpu, FDT_MAX_SIZE, "0 vCPUs");
    expect_build_error(&many, FDT_MAX_SIZE, "33 vCPUs");
    expect_build_error(&no_ram, FDT_MAX_SIZE, "0x0 bytes of RAM");
}

static void test_dump_errors(void **state)
{
    MachineState ms = { .ram_size = 128 * MiB, .smp = 1 };
    Error *err = NULL;

    assert_false(fdt_dump(&ms, "/nonexistent/x.dtb", &err));
    assert_non_null(strstr(error_get_pretty(err), "no device tree"));
    error_free(err);
    err = NULL;

    assert_true(fdt_build(&ms, &error_abort));
    assert_false(fdt_dump(&ms, "/nonexistent-dir/x.dtb", &err));
    assert_non_null(strstr(error_get_pretty(err), "/nonexistent-dir/x.dtb"));
    error_free(err);
    machine_free_fdt(&ms);
}

static char *run_dtc(const char *path)
{
    const char *argv[] = { "dtc", "-I", "dtb", "-O", "dts", path, NULL };
    g_autoptr(GError) gerr = NULL;
    g_autofree char *err_out = NULL;
    char *out = NULL;
    int status;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
                      NULL, &out, &err_out, &status, &gerr)) {
        fail_msg("dtc: %s", gerr->message);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fail_msg("dtc failed: %s", err_out);
    }
    return out;
}

static void test_dump_dtc(void **state)
{
    MachineState ms = { .ram_size = 128 * MiB, .smp = 2 };
    g_autofree char *dir = NULL;
    g_autofree char *path = NULL;
    g_autofree char *contents = NULL;
    g_autofree char *dts = NULL;
    gsize len;
    static const char *const expected[] = {
        "compatible = \"colo-vm,colo-x86\";",
        "memory@0 {",
        "device_type = \"memory\";",
        "reg = <0x00 0x00 0x00 0x8000000>;",
        "cpus {",
        "cpu@0 {",
        "cpu@1 {",
        "serial@3f8 {",
        "compatible = \"ns16550a\";",
        "clock-frequency = <0x1c2000>;",
        "isa-debug-exit@501 {",
        "stdout-path = \"/serial@3f8\";",
    };

    g_autofree char *dtc = g_find_program_in_path("dtc");

    TEST_REQUIRE(dtc, "dtc (device-tree-compiler) in PATH");
    dir = g_dir_make_tmp("test-fdt-XXXXXX", NULL);
    assert_non_null(dir);
    path = g_build_filename(dir, "machine.dtb", NULL);
    assert_true(fdt_build(&ms, &error_abort));
    assert_true(fdt_dump(&ms, path, &error_abort));

    assert_true(g_file_get_contents(path, &contents, &len, NULL));
    assert_int_equal(len, ms.fdt_size);
    assert_memory_equal(contents, ms.fdt, len);

    dts = run_dtc(path);
    for (size_t i = 0; i < G_N_ELEMENTS(expected); i++) {
        if (!strstr(dts, expected[i])) {
            fail_msg("dtc output lacks '%s':\n%s", expected[i], dts);
        }
    }
    g_remove(path);
    g_rmdir(dir);
    machine_free_fdt(&ms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_rebuild),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_bad_machine),
        cmocka_unit_test(test_dump_errors),
        cmocka_unit_test(test_dump_dtc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
