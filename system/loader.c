/*
 * Reading guest images: ELF64 executables and boot sectors.
 *
 * Every offset, size and address in a file comes from outside and is
 * checked (with overflow-safe arithmetic) before it is used; the whole
 * file is validated before any guest memory is touched.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "system/loader.h"
#include "system/x86-boot.h"
#include "trace/trace.h"

typedef struct ImageFile {
    const char *path;
    int fd;
    uint64_t size;
} ImageFile;

static bool image_file_open(ImageFile *f, const char *path, Error **errp)
{
    struct stat st;

    f->path = path;
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", path);
        return false;
    }
    if (fstat(f->fd, &st) < 0) {
        error_setg_errno(errp, errno, "Could not stat '%s'", path);
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        error_setg(errp, "'%s' is not a regular file", path);
        goto fail;
    }
    f->size = st.st_size;
    return true;

fail:
    close(f->fd);
    f->fd = -1;
    return false;
}

static void image_file_close(ImageFile *f)
{
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
}

/* The caller has checked that [offset, offset + len) is inside the file. */
static bool image_file_read(ImageFile *f, void *buf, uint64_t len,
                            uint64_t offset, Error **errp)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = pread(f->fd, p, MIN(len, (uint64_t)1 << 30), offset);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            error_setg_errno(errp, errno, "Could not read '%s'", f->path);
            return false;
        }
        if (n == 0) {
            /* The file shrank after fstat(). */
            error_setg(errp, "Unexpected end of file in '%s'", f->path);
            return false;
        }
        p += n;
        offset += n;
        len -= n;
    }
    return true;
}

/* Is [start, start + len) inside [0, limit)?  No overflow possible. */
static bool range_within(uint64_t start, uint64_t len, uint64_t limit)
{
    return start <= limit && len <= limit - start;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
                           uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static bool elf_check_header(const ImageFile *f, const Elf64_Ehdr *eh,
                             Error **errp)
{
    const char *path = f->path;

    if (eh->e_ident[EI_CLASS] != ELFCLASS64) {
        error_setg(errp, "'%s' is not a 64-bit ELF file (class %u)", path,
                   eh->e_ident[EI_CLASS]);
        return false;
    }
    if (eh->e_ident[EI_DATA] != ELFDATA2LSB) {
        error_setg(errp, "'%s' is not a little-endian ELF file", path);
        return false;
    }
    if (eh->e_ident[EI_VERSION] != EV_CURRENT ||
        eh->e_version != EV_CURRENT) {
        error_setg(errp, "'%s' has an unknown ELF version", path);
        return false;
    }
    if (eh->e_machine != EM_X86_64) {
        error_setg(errp, "'%s' is not an x86-64 ELF file (machine %u)",
                   path, eh->e_machine);
        return false;
    }
    if (eh->e_type != ET_EXEC) {
        error_setg(errp, "'%s' is not an ELF executable (type %u)", path,
                   eh->e_type);
        return false;
    }
    if (eh->e_phentsize != sizeof(Elf64_Phdr)) {
        error_setg(errp, "'%s' has program headers of %u bytes, expected "
                   "%zu", path, eh->e_phentsize, sizeof(Elf64_Phdr));
        return false;
    }
    if (eh->e_phnum == 0 || eh->e_phnum > LOADER_ELF_MAX_PHDRS) {
        error_setg(errp, "'%s' has %u program headers (1 to %u accepted)",
                   path, eh->e_phnum, LOADER_ELF_MAX_PHDRS);
        return false;
    }
    if (!range_within(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr),
                      f->size)) {
        error_setg(errp, "'%s' is truncated: its program headers run past "
                   "the end of the file", path);
        return false;
    }
    return true;
}

static bool elf_check_segment(const ImageFile *f, unsigned int i,
                              const Elf64_Phdr *ph, uint64_t ram_size,
                              Error **errp)
{
    const char *path = f->path;
    uint64_t start = ph->p_paddr, size = ph->p_memsz;

    if (ph->p_filesz > ph->p_memsz) {
        error_setg(errp, "'%s': segment %u has a file size larger than its "
                   "memory size", path, i);
        return false;
    }
    if (!range_within(ph->p_offset, ph->p_filesz, f->size)) {
        error_setg(errp, "'%s' is truncated: segment %u runs past the end "
                   "of the file", path, i);
        return false;
    }
    if (ph->p_vaddr != ph->p_paddr) {
        error_setg(errp, "'%s': segment %u has virtual address 0x%" PRIx64
                   " but physical address 0x%" PRIx64 " (the guest runs "
                   "identity-mapped)", path, i, (uint64_t)ph->p_vaddr,
                   start);
        return false;
    }
    if (!range_within(start, size, ram_size)) {
        error_setg(errp, "'%s': segment %u at 0x%" PRIx64 " (0x%" PRIx64
                   " bytes) does not fit in RAM (0x%" PRIx64 " bytes)",
                   path, i, start, size, ram_size);
        return false;
    }
    if (start < X86_BOOT_LOAD_MIN) {
        error_setg(errp, "'%s': segment %u at 0x%" PRIx64 " is below 0x%x, "
                   "which is reserved for the boot tables, the boot sector "
                   "and the device tree", path, i, start, X86_BOOT_LOAD_MIN);
        return false;
    }
    if (ranges_overlap(start, size, X86_BOOT_STACK_BOTTOM,
                       X86_BOOT_STACK_TOP - X86_BOOT_STACK_BOTTOM)) {
        error_setg(errp, "'%s': segment %u [0x%" PRIx64 ", 0x%" PRIx64
                   ") overlaps the vCPU stacks [0x%x, 0x%x)", path, i,
                   start, start + size, X86_BOOT_STACK_BOTTOM,
                   X86_BOOT_STACK_TOP);
        return false;
    }
    return true;
}

static bool elf_load_segment(ImageFile *f, const Elf64_Phdr *ph,
                             GuestSegment *seg, Error **errp)
{
    seg->gpa = ph->p_paddr;
    seg->memsz = ph->p_memsz;
    seg->filesz = ph->p_filesz;
    if (seg->filesz == 0) {
        return true;
    }
    seg->data = g_try_malloc(seg->filesz);
    if (!seg->data) {
        error_setg(errp, "Out of memory reading a segment of %" PRIu64
                   " bytes from '%s'", seg->filesz, f->path);
        return false;
    }
    trace_loader_elf_segment(f->path, seg->gpa, seg->filesz, seg->memsz);
    return image_file_read(f, seg->data, seg->filesz, ph->p_offset, errp);
}

static bool elf_entry_loaded(const GuestImage *img)
{
    for (unsigned int i = 0; i < img->nsegs; i++) {
        const GuestSegment *seg = &img->segs[i];

        if (img->entry >= seg->gpa && img->entry - seg->gpa < seg->memsz) {
            return true;
        }
    }
    return false;
}

static bool elf_load_segments(ImageFile *f, const Elf64_Ehdr *eh,
                              uint64_t ram_size, GuestImage *img,
                              Error **errp)
{
    g_autofree Elf64_Phdr *phdrs = g_new(Elf64_Phdr, eh->e_phnum);

    if (!image_file_read(f, phdrs, eh->e_phnum * sizeof(Elf64_Phdr),
                         eh->e_phoff, errp)) {
        return false;
    }
    for (unsigned int i = 0; i < eh->e_phnum; i++) {
        if (phdrs[i].p_type != PT_LOAD || phdrs[i].p_memsz == 0) {
            continue;
        }
        if (!elf_check_segment(f, i, &phdrs[i], ram_size, errp)) {
            return false;
        }
    }
    img->segs = g_new0(GuestSegment, eh->e_phnum);
    for (unsigned int i = 0; i < eh->e_phnum; i++) {
        if (phdrs[i].p_type != PT_LOAD || phdrs[i].p_memsz == 0) {
            continue;
        }
        if (!elf_load_segment(f, &phdrs[i], &img->segs[img->nsegs++],
                              errp)) {
            return false;
        }
    }
    if (img->nsegs == 0) {
        error_setg(errp, "'%s' has no loadable segment", f->path);
        return false;
    }
    if (!elf_entry_loaded(img)) {
        error_setg(errp, "'%s': entry point 0x%" PRIx64 " is not inside a "
                   "loaded segment", f->path, img->entry);
        return false;
    }
    return true;
}

GuestImage *loader_load_elf(const char *path, uint64_t ram_size,
                            Error **errp)
{
    ImageFile f;
    Elf64_Ehdr eh;
    g_autoptr(GuestImage) img = NULL;
    bool ok = false;

    if (!image_file_open(&f, path, errp)) {
        return NULL;
    }
    memset(&eh, 0, sizeof(eh));
    if (f.size < SELFMAG ||
        !image_file_read(&f, eh.e_ident, SELFMAG, 0, errp)) {
        if (f.size < SELFMAG) {
            error_setg(errp, "'%s' is not an ELF file", path);
        }
        goto out;
    }
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
        error_setg(errp, "'%s' is not an ELF file", path);
        goto out;
    }
    if (f.size < sizeof(eh)) {
        error_setg(errp, "'%s' is truncated: the ELF header needs %zu "
                   "bytes", path, sizeof(eh));
        goto out;
    }
    if (!image_file_read(&f, &eh, sizeof(eh), 0, errp) ||
        !elf_check_header(&f, &eh, errp)) {
        goto out;
    }
    img = g_new0(GuestImage, 1);
    img->entry = eh.e_entry;
    ok = elf_load_segments(&f, &eh, ram_size, img, errp);
    if (ok) {
        trace_loader_elf_loaded(path, img->entry, img->nsegs);
    }

out:
    image_file_close(&f);
    return ok ? g_steal_pointer(&img) : NULL;
}

GuestImage *loader_load_boot_sector(const char *path, Error **errp)
{
    ImageFile f;
    g_autoptr(GuestImage) img = NULL;
    uint8_t *sector;
    bool ok = false;

    if (!image_file_open(&f, path, errp)) {
        return NULL;
    }
    if (f.size < X86_BOOT_SECTOR_SIZE) {
        error_setg(errp, "'%s' is too small to hold a boot sector (%" PRIu64
                   " bytes, %u needed)", path, f.size, X86_BOOT_SECTOR_SIZE);
        goto out;
    }
    img = g_new0(GuestImage, 1);
    img->entry = X86_BOOT_SECTOR_ADDR;
    img->nsegs = 1;
    img->segs = g_new0(GuestSegment, 1);
    img->segs[0] = (GuestSegment) {
        .gpa = X86_BOOT_SECTOR_ADDR, .memsz = X86_BOOT_SECTOR_SIZE,
        .filesz = X86_BOOT_SECTOR_SIZE,
        .data = g_malloc(X86_BOOT_SECTOR_SIZE),
    };
    sector = img->segs[0].data;
    if (!image_file_read(&f, sector, X86_BOOT_SECTOR_SIZE, 0, errp)) {
        goto out;
    }
    if (sector[510] != 0x55 || sector[511] != 0xaa) {
        error_setg(errp, "'%s' is not bootable: no boot signature 0x55 0xaa "
                   "at offset 510", path);
        goto out;
    }
    trace_loader_boot_sector(path);
    ok = true;

out:
    image_file_close(&f);
    return ok ? g_steal_pointer(&img) : NULL;
}

bool loader_image_copy(const GuestImage *img, uint8_t *ram,
                       uint64_t ram_size, Error **errp)
{
    for (unsigned int i = 0; i < img->nsegs; i++) {
        const GuestSegment *seg = &img->segs[i];

        if (!range_within(seg->gpa, seg->memsz, ram_size)) {
            error_setg(errp, "Guest image segment at 0x%" PRIx64 " does not "
                       "fit in RAM (0x%" PRIx64 " bytes)", seg->gpa, ram_size);
            return false;
        }
    }
    for (unsigned int i = 0; i < img->nsegs; i++) {
        const GuestSegment *seg = &img->segs[i];

        if (seg->filesz) {
            memcpy(ram + seg->gpa, seg->data, seg->filesz);
        }
        memset(ram + seg->gpa + seg->filesz, 0, seg->memsz - seg->filesz);
    }
    return true;
}

void loader_image_free(GuestImage *img)
{
    if (!img) {
        return;
    }
    for (unsigned int i = 0; i < img->nsegs; i++) {
        g_free(img->segs[i].data);
    }
    g_free(img->segs);
    g_free(img);
}
