/*
 * Tests for the guest image loader on ELF files and boot sectors built
 * here, good ones and every kind of broken one.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <elf.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "system/loader.h"
#include "system/x86-boot.h"

#define RAM_SIZE (16ULL << 20)
#define TEXT_ADDR 0x10000ULL
#define TEXT_SIZE 0x1800ULL
#define DATA_ADDR 0x20000ULL
#define DATA_FILESZ 0x100ULL
#define DATA_MEMSZ 0x3000ULL
#define TEXT_OFFSET 0x1000ULL
#define DATA_OFFSET 0x3000ULL
#define FILE_SIZE (DATA_OFFSET + DATA_FILESZ)

typedef struct TestElf {
    uint8_t bytes[FILE_SIZE];
    size_t len;
} TestElf;

static char *tmpdir;

static Elf64_Ehdr *elf_ehdr(TestElf *e)
{
    return (Elf64_Ehdr *)e->bytes;
}

static Elf64_Phdr *elf_phdr(TestElf *e, int i)
{
    return (Elf64_Phdr *)(e->bytes + sizeof(Elf64_Ehdr)) + i;
}

/*
 * A valid executable: a PT_NOTE, a text segment and a data segment with
 * bss, each filled with a recognisable byte pattern.
 */
static void elf_build(TestElf *e)
{
    Elf64_Ehdr *eh = elf_ehdr(e);

    memset(e, 0, sizeof(*e));
    e->len = FILE_SIZE;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = TEXT_ADDR + 0x10;
    eh->e_phoff = sizeof(Elf64_Ehdr);
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = 3;

    *elf_phdr(e, 0) = (Elf64_Phdr) {
        .p_type = PT_NOTE, .p_offset = 0x200, .p_filesz = 0x10,
        .p_memsz = 0x10, .p_vaddr = 0, .p_paddr = 0,
    };
    *elf_phdr(e, 1) = (Elf64_Phdr) {
        .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = TEXT_OFFSET,
        .p_vaddr = TEXT_ADDR, .p_paddr = TEXT_ADDR, .p_filesz = TEXT_SIZE,
        .p_memsz = TEXT_SIZE, .p_align = 0x1000,
    };
    *elf_phdr(e, 2) = (Elf64_Phdr) {
        .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = DATA_OFFSET,
        .p_vaddr = DATA_ADDR, .p_paddr = DATA_ADDR, .p_filesz = DATA_FILESZ,
        .p_memsz = DATA_MEMSZ, .p_align = 0x1000,
    };
    memset(e->bytes + TEXT_OFFSET, 0x90, TEXT_SIZE);
    memset(e->bytes + DATA_OFFSET, 0x5a, DATA_FILESZ);
}

static char *write_file(const char *name, const void *data, size_t len)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    FILE *f = fopen(path, "wb");

    /* No g_file_set_contents(): its fsync makes the fuzz test slow. */
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static GuestImage *load_elf(TestElf *e, uint64_t ram_size, Error **errp)
{
    g_autofree char *path = write_file("guest.elf", e->bytes, e->len);

    return loader_load_elf(path, ram_size, errp);
}

/* Load @e and expect an error containing @what. */
static void expect_elf_error(TestElf *e, const char *what)
{
    Error *err = NULL;
    GuestImage *img = load_elf(e, RAM_SIZE, &err);

    assert_null(img);
    assert_non_null(err);
    if (!strstr(error_get_pretty(err), what)) {
        fail_msg("error '%s' does not mention '%s'", error_get_pretty(err),
                 what);
    }
    assert_non_null(strstr(error_get_pretty(err), "guest.elf"));
    error_free(err);
}

static void test_elf_good(void **state)
{
    TestElf e;
    Error *err = NULL;
    g_autoptr(GuestImage) img = NULL;
    g_autofree uint8_t *ram = g_malloc(RAM_SIZE);

    elf_build(&e);
    img = load_elf(&e, RAM_SIZE, &err);
    assert_null(err);
    assert_non_null(img);
    assert_int_equal(img->entry, TEXT_ADDR + 0x10);
    assert_int_equal(img->nsegs, 2);
    assert_int_equal(img->segs[0].gpa, TEXT_ADDR);
    assert_int_equal(img->segs[0].filesz, TEXT_SIZE);
    assert_int_equal(img->segs[1].gpa, DATA_ADDR);
    assert_int_equal(img->segs[1].memsz, DATA_MEMSZ);

    memset(ram, 0xee, RAM_SIZE);
    assert_true(loader_image_copy(img, ram, RAM_SIZE, &err));
    for (uint64_t a = TEXT_ADDR; a < TEXT_ADDR + TEXT_SIZE; a++) {
        assert_int_equal(ram[a], 0x90);
    }
    for (uint64_t a = DATA_ADDR; a < DATA_ADDR + DATA_FILESZ; a++) {
        assert_int_equal(ram[a], 0x5a);
    }
    /* bss is zeroed; nothing around the segments is touched. */
    for (uint64_t a = DATA_ADDR + DATA_FILESZ; a < DATA_ADDR + DATA_MEMSZ;
         a++) {
        assert_int_equal(ram[a], 0);
    }
    assert_int_equal(ram[TEXT_ADDR - 1], 0xee);
    assert_int_equal(ram[TEXT_ADDR + TEXT_SIZE], 0xee);
    assert_int_equal(ram[DATA_ADDR + DATA_MEMSZ], 0xee);
}

static void test_elf_copy_checks_ram(void **state)
{
    TestElf e;
    Error *err = NULL;
    g_autoptr(GuestImage) img = NULL;
    uint8_t ram[DATA_ADDR] = { 0 };

    elf_build(&e);
    img = load_elf(&e, RAM_SIZE, NULL);
    assert_non_null(img);
    /* The data segment does not fit: nothing at all is written. */
    assert_false(loader_image_copy(img, ram, sizeof(ram), &err));
    assert_non_null(err);
    error_free(err);
    for (size_t i = 0; i < sizeof(ram); i++) {
        assert_int_equal(ram[i], 0);
    }
}

static void test_elf_bad_magic(void **state)
{
    TestElf e;

    elf_build(&e);
    e.bytes[1] = 'F';
    expect_elf_error(&e, "not an ELF file");
    e.len = 3;
    expect_elf_error(&e, "not an ELF file");
    e.len = 0;
    expect_elf_error(&e, "not an ELF file");
}

static void test_elf_truncated_header(void **state)
{
    TestElf e;

    elf_build(&e);
    e.len = sizeof(Elf64_Ehdr) - 1;
    expect_elf_error(&e, "truncated");
    e.len = 16;
    expect_elf_error(&e, "truncated");
}

static void test_elf_wrong_kind(void **state)
{
    TestElf e;

    elf_build(&e);
    e.bytes[EI_CLASS] = ELFCLASS32;
    expect_elf_error(&e, "not a 64-bit ELF");
    elf_build(&e);
    e.bytes[EI_DATA] = ELFDATA2MSB;
    expect_elf_error(&e, "little-endian");
    elf_build(&e);
    e.bytes[EI_VERSION] = 7;
    expect_elf_error(&e, "ELF version");
    elf_build(&e);
    elf_ehdr(&e)->e_machine = EM_AARCH64;
    expect_elf_error(&e, "not an x86-64 ELF");
    elf_build(&e);
    elf_ehdr(&e)->e_type = ET_DYN;
    expect_elf_error(&e, "not an ELF executable");
    elf_build(&e);
    elf_ehdr(&e)->e_type = ET_REL;
    expect_elf_error(&e, "not an ELF executable");
}

static void test_elf_bad_program_headers(void **state)
{
    TestElf e;

    elf_build(&e);
    elf_ehdr(&e)->e_phentsize = sizeof(Elf64_Phdr) - 8;
    expect_elf_error(&e, "program headers of");
    elf_build(&e);
    elf_ehdr(&e)->e_phnum = 0;
    expect_elf_error(&e, "0 program headers");
    elf_build(&e);
    elf_ehdr(&e)->e_phnum = 0xffff;
    expect_elf_error(&e, "65535 program headers");
    elf_build(&e);
    elf_ehdr(&e)->e_phoff = FILE_SIZE - sizeof(Elf64_Phdr);
    expect_elf_error(&e, "program headers run past the end");
    elf_build(&e);
    elf_ehdr(&e)->e_phoff = UINT64_MAX - 8;
    expect_elf_error(&e, "program headers run past the end");
    elf_build(&e);
    e.len = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
    expect_elf_error(&e, "program headers run past the end");
}

static void test_elf_segment_outside_file(void **state)
{
    TestElf e;

    elf_build(&e);
    e.len = FILE_SIZE - 1;
    expect_elf_error(&e, "segment 2 runs past the end of the file");
    elf_build(&e);
    elf_phdr(&e, 1)->p_offset = UINT64_MAX - 0x10;
    expect_elf_error(&e, "segment 1 runs past the end of the file");
    elf_build(&e);
    elf_phdr(&e, 1)->p_filesz = TEXT_SIZE + 1;
    expect_elf_error(&e, "file size larger than its memory size");
}

static void test_elf_segment_outside_ram(void **state)
{
    TestElf e;

    elf_build(&e);
    elf_phdr(&e, 2)->p_paddr = elf_phdr(&e, 2)->p_vaddr = RAM_SIZE - 0x1000;
    expect_elf_error(&e, "does not fit in RAM");
    elf_build(&e);
    elf_phdr(&e, 2)->p_memsz = UINT64_MAX;
    expect_elf_error(&e, "does not fit in RAM");
    elf_build(&e);
    elf_phdr(&e, 2)->p_paddr = elf_phdr(&e, 2)->p_vaddr = UINT64_MAX - 0xff;
    expect_elf_error(&e, "does not fit in RAM");
    elf_build(&e);
    elf_phdr(&e, 1)->p_paddr = elf_phdr(&e, 1)->p_vaddr = 1ULL << 40;
    expect_elf_error(&e, "does not fit in RAM");
}

static void test_elf_segment_in_reserved_area(void **state)
{
    TestElf e;

    /* Boot tables, boot sector, FDT. */
    elf_build(&e);
    elf_phdr(&e, 1)->p_paddr = elf_phdr(&e, 1)->p_vaddr = 0x1000;
    expect_elf_error(&e, "below 0x10000");
    elf_build(&e);
    elf_phdr(&e, 1)->p_paddr = elf_phdr(&e, 1)->p_vaddr = 0xffff;
    expect_elf_error(&e, "below 0x10000");
    /* The stacks, entered from below, inside and from above. */
    elf_build(&e);
    elf_phdr(&e, 2)->p_paddr = elf_phdr(&e, 2)->p_vaddr = 0x3f000;
    expect_elf_error(&e, "overlaps the vCPU stacks");
    elf_build(&e);
    elf_phdr(&e, 2)->p_paddr = elf_phdr(&e, 2)->p_vaddr = 0x50000;
    expect_elf_error(&e, "overlaps the vCPU stacks");
    elf_build(&e);
    elf_phdr(&e, 2)->p_paddr = elf_phdr(&e, 2)->p_vaddr = 0x7ffff;
    expect_elf_error(&e, "overlaps the vCPU stacks");
    /* Just outside is fine. */
    elf_build(&e);
    elf_phdr(&e, 2)->p_paddr = elf_phdr(&e, 2)->p_vaddr =
        X86_BOOT_STACK_BOTTOM - DATA_MEMSZ;
    {
        g_autoptr(GuestImage) img = load_elf(&e, RAM_SIZE, &error_abort);

        assert_non_null(img);
    }
    elf_phdr(&e, 2)->p_paddr = elf_phdr(&e, 2)->p_vaddr = X86_BOOT_STACK_TOP;
    {
        g_autoptr(GuestImage) img = load_elf(&e, RAM_SIZE, &error_abort);

        assert_non_null(img);
    }
}

static void test_elf_bad_addresses(void **state)
{
    TestElf e;

    elf_build(&e);
    elf_phdr(&e, 1)->p_vaddr = 0xffffffff80010000ULL;
    expect_elf_error(&e, "identity-mapped");
    elf_build(&e);
    elf_ehdr(&e)->e_entry = 0x30000;
    expect_elf_error(&e, "entry point 0x30000");
    elf_build(&e);
    elf_phdr(&e, 1)->p_type = PT_NULL;
    elf_phdr(&e, 2)->p_type = PT_DYNAMIC;
    expect_elf_error(&e, "no loadable segment");
}

static void test_elf_unreadable(void **state)
{
    Error *err = NULL;
    g_autofree char *missing = g_build_filename(tmpdir, "missing", NULL);

    assert_null(loader_load_elf(missing, RAM_SIZE, &err));
    assert_non_null(strstr(error_get_pretty(err), "Could not open"));
    error_free(err);
    err = NULL;
    assert_null(loader_load_elf(tmpdir, RAM_SIZE, &err));
    assert_non_null(strstr(error_get_pretty(err), "not a regular file"));
    error_free(err);
}

/* Every single-byte corruption of the headers fails cleanly or loads. */
static void test_elf_fuzz_headers(void **state)
{
    TestElf e;
    size_t hdr_len = sizeof(Elf64_Ehdr) + 3 * sizeof(Elf64_Phdr);

    for (size_t off = 0; off < hdr_len; off++) {
        static const uint8_t values[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };

        for (size_t v = 0; v < G_N_ELEMENTS(values); v++) {
            Error *err = NULL;
            GuestImage *img;

            elf_build(&e);
            e.bytes[off] = values[v];
            img = load_elf(&e, RAM_SIZE, &err);
            assert_true(!img != !err);
            if (img) {
                for (unsigned int i = 0; i < img->nsegs; i++) {
                    assert_true(img->segs[i].gpa >= X86_BOOT_LOAD_MIN);
                    assert_true(img->segs[i].gpa + img->segs[i].memsz <=
                                RAM_SIZE);
                }
            }
            loader_image_free(img);
            error_free(err);
        }
    }
}

static void test_boot_sector_good(void **state)
{
    uint8_t disk[4096];
    g_autofree char *path = NULL;
    g_autoptr(GuestImage) img = NULL;
    g_autofree uint8_t *ram = g_malloc0(1 << 20);

    for (size_t i = 0; i < sizeof(disk); i++) {
        disk[i] = i * 7;
    }
    disk[510] = 0x55;
    disk[511] = 0xaa;
    path = write_file("disk.img", disk, sizeof(disk));
    img = loader_load_boot_sector(path, &error_abort);
    assert_int_equal(img->entry, 0x7c00);
    assert_int_equal(img->nsegs, 1);
    assert_true(loader_image_copy(img, ram, 1 << 20, &error_abort));
    /* Only the first sector, at 0x7c00. */
    assert_memory_equal(ram + 0x7c00, disk, 512);
    assert_int_equal(ram[0x7bff], 0);
    assert_int_equal(ram[0x7e00], 0);
}

static void expect_boot_sector_error(const void *data, size_t len,
                                     const char *what)
{
    g_autofree char *path = write_file("disk.img", data, len);
    Error *err = NULL;

    assert_null(loader_load_boot_sector(path, &err));
    assert_non_null(err);
    if (!strstr(error_get_pretty(err), what)) {
        fail_msg("error '%s' does not mention '%s'", error_get_pretty(err),
                 what);
    }
    error_free(err);
}

static void test_boot_sector_bad(void **state)
{
    uint8_t disk[512] = { 0 };
    Error *err = NULL;
    g_autofree char *missing = g_build_filename(tmpdir, "missing", NULL);

    expect_boot_sector_error(disk, sizeof(disk), "no boot signature");
    disk[510] = 0xaa;
    disk[511] = 0x55;
    expect_boot_sector_error(disk, sizeof(disk), "no boot signature");
    disk[510] = 0x55;
    disk[511] = 0xaa;
    expect_boot_sector_error(disk, 511, "too small");
    expect_boot_sector_error(disk, 0, "too small");
    assert_null(loader_load_boot_sector(missing, &err));
    assert_non_null(strstr(error_get_pretty(err), "Could not open"));
    error_free(err);
}

static int setup(void **state)
{
    tmpdir = g_dir_make_tmp("test-loader-XXXXXX", NULL);
    return tmpdir ? 0 : -1;
}

static int teardown(void **state)
{
    g_autofree char *elf = g_build_filename(tmpdir, "guest.elf", NULL);
    g_autofree char *disk = g_build_filename(tmpdir, "disk.img", NULL);

    g_unlink(elf);
    g_unlink(disk);
    g_rmdir(tmpdir);
    g_free(tmpdir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elf_good),
        cmocka_unit_test(test_elf_copy_checks_ram),
        cmocka_unit_test(test_elf_bad_magic),
        cmocka_unit_test(test_elf_truncated_header),
        cmocka_unit_test(test_elf_wrong_kind),
        cmocka_unit_test(test_elf_bad_program_headers),
        cmocka_unit_test(test_elf_segment_outside_file),
        cmocka_unit_test(test_elf_segment_outside_ram),
        cmocka_unit_test(test_elf_segment_in_reserved_area),
        cmocka_unit_test(test_elf_bad_addresses),
        cmocka_unit_test(test_elf_unreadable),
        cmocka_unit_test(test_elf_fuzz_headers),
        cmocka_unit_test(test_boot_sector_good),
        cmocka_unit_test(test_boot_sector_bad),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
