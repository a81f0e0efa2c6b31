/*
 * Guest image loading: ELF64 executables (-kernel) and raw boot sectors
 * (-drive).
 *
 * A file is read and checked completely into a GuestImage first: the
 * pieces of guest memory it fills.  Nothing in a file can make the
 * loader read or write out of bounds; every malformed file gives an
 * error naming the file and what is wrong with it.  The image is then
 * copied into guest RAM, and kept so that a reset can copy it again.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_LOADER_H
#define SYSTEM_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "qapi/error.h"

/* At most this many program headers are accepted. */
#define LOADER_ELF_MAX_PHDRS 64

/*
 * One piece of guest memory: @filesz bytes of @data at @gpa, then zeros
 * up to @memsz (ELF bss).
 */
typedef struct GuestSegment {
    uint64_t gpa;
    uint64_t memsz;
    uint64_t filesz;
    uint8_t *data;
} GuestSegment;

typedef struct GuestImage {
    uint64_t entry;         /* ELF e_entry; the load address of a sector */
    unsigned int nsegs;
    GuestSegment *segs;
} GuestImage;

/*
 * Read the ELF64 x86-64 executable at @path for a guest with @ram_size
 * bytes of RAM at gpa 0.  Its PT_LOAD segments (placed at p_paddr) must
 * lie inside RAM, at or above X86_BOOT_LOAD_MIN and outside the stack
 * area [X86_BOOT_STACK_BOTTOM, X86_BOOT_STACK_TOP); the entry point must
 * lie inside one of them.
 */
GuestImage *loader_load_elf(const char *path, uint64_t ram_size,
                            Error **errp);

/*
 * Read the first sector of the raw disk image at @path (at least 512
 * bytes, ending with the signature 0x55 0xaa) for X86_BOOT_SECTOR_ADDR.
 */
GuestImage *loader_load_boot_sector(const char *path, Error **errp);

/*
 * Copy @img into @ram, a host view of guest-physical [0, @ram_size).
 * Segments were checked against a RAM size when the image was read;
 * a segment that does not fit @ram_size fails here without writing.
 */
bool loader_image_copy(const GuestImage *img, uint8_t *ram,
                       uint64_t ram_size, Error **errp);

void loader_image_free(GuestImage *img);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GuestImage, loader_image_free)

#endif /* SYSTEM_LOADER_H */
