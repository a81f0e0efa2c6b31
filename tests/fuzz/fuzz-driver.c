/*
 * Runs the loadvm fuzz target without libFuzzer: over the files of a
 * corpus, then over seeded random mutations of a valid stream, within
 * an iteration count and a time budget.  A crash, a sanitizer report
 * or a valid stream that fails to load is the failure; inputs that are
 * rejected cleanly are the expected outcome.
 *
 *   fuzz-loadvm [--seed N] [--iterations N] [--seconds S]
 *               [--corpus DIR]... [--write-seed FILE] [FILE]...
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "fuzz-loadvm.h"
#include "system/ram.h"

typedef struct DriverOptions {
    guint32 seed;
    gint64 iterations;
    double seconds;
    char **corpus;
    char *write_seed;
    char **files;
} DriverOptions;

typedef struct DriverStats {
    unsigned inputs;
    unsigned loaded;
    unsigned rejected;
} DriverStats;

static void driver_run_one(const uint8_t *data, size_t len,
                           DriverStats *stats)
{
    Error *err = NULL;

    if (fuzz_loadvm_run(data, len, &err) == 0) {
        stats->loaded++;
    } else {
        stats->rejected++;
    }
    error_free(err);
    stats->inputs++;
}

static bool driver_run_file(const char *path, DriverStats *stats)
{
    g_autoptr(GError) gerr = NULL;
    g_autofree char *data = NULL;
    gsize len;

    if (!g_file_get_contents(path, &data, &len, &gerr)) {
        fprintf(stderr, "fuzz-loadvm: %s\n", gerr->message);
        return false;
    }
    driver_run_one((const uint8_t *)data, len, stats);
    return true;
}

static bool driver_run_corpus(const char *dir, DriverStats *stats)
{
    g_autoptr(GError) gerr = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &gerr);
    const char *name;

    if (!d) {
        fprintf(stderr, "fuzz-loadvm: %s\n", gerr->message);
        return false;
    }
    while ((name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);

        if (g_file_test(path, G_FILE_TEST_IS_REGULAR) &&
            !driver_run_file(path, stats)) {
            return false;
        }
    }
    return true;
}

/*
 * The seed must load, and put back RAM that was scribbled over after
 * it was saved: the target's destination really restores state.
 */
static bool driver_check_seed(const uint8_t *seed, size_t len)
{
    RAMBlock *block;
    GPtrArray *saved = g_ptr_array_new_with_free_func(g_free);
    Error *err = NULL;
    bool ok = true;
    guint i = 0;

    RAMBLOCK_FOREACH(block) {
        g_ptr_array_add(saved, g_memdup2(block->host, block->size));
        memset(block->host, 0xa5, block->size);
    }
    if (fuzz_loadvm_run(seed, len, &err) != 0) {
        fprintf(stderr, "fuzz-loadvm: the seed stream does not load: %s\n",
                error_get_pretty(err));
        error_free(err);
        ok = false;
    }
    RAMBLOCK_FOREACH(block) {
        if (ok && memcmp(block->host, saved->pdata[i], block->size)) {
            fprintf(stderr, "fuzz-loadvm: RAM block %s differs after "
                    "loading the seed\n", block->idstr);
            ok = false;
        }
        i++;
    }
    g_ptr_array_free(saved, true);
    return ok;
}

static const uint32_t interesting32[] = {
    0, 1, 2, 3, 0x7e, 0xff, 0x100, 0x1000, 0xffff, 0x7fffffff,
    0x80000000, 0xfffffffe, 0xffffffff,
};
static const uint8_t interesting8[] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x10, 0x20,
    0x7e, 0x7f, 0x80, 0xfe, 0xff,
};

/* Framing sits at both ends of the stream; pages fill the middle. */
static guint driver_pick_offset(GRand *rand, guint len)
{
    switch (g_rand_int_range(rand, 0, 4)) {
    case 0:
        return g_rand_int_range(rand, 0, MIN(len, 512));
    case 1:
        return len - 1 - g_rand_int_range(rand, 0, MIN(len, 1024));
    default:
        return g_rand_int_range(rand, 0, len);
    }
}

static void driver_mutate_once(GRand *rand, GByteArray *buf)
{
    guint off, n;

    if (buf->len < 8) {
        g_byte_array_append(buf, (const guint8 *)"\x51\x45\x56\x4d", 4);
        return;
    }
    off = driver_pick_offset(rand, buf->len);
    switch (g_rand_int_range(rand, 0, 8)) {
    case 0:
        buf->data[off] ^= 1 << g_rand_int_range(rand, 0, 8);
        break;
    case 1:
        buf->data[off] = g_rand_int_range(rand, 0, 256);
        break;
    case 2:
        buf->data[off] = interesting8[g_rand_int_range(
            rand, 0, G_N_ELEMENTS(interesting8))];
        break;
    case 3:
        g_byte_array_set_size(buf, off);
        break;
    case 4: {
        uint32_t v = interesting32[g_rand_int_range(
            rand, 0, G_N_ELEMENTS(interesting32))];

        off = MIN(off, buf->len - 4);
        for (int i = 0; i < 4; i++) {
            buf->data[off + i] = v >> (24 - 8 * i);
        }
        break;
    }
    case 5:
        /* MIN() evaluates its arguments twice: draw first. */
        n = g_rand_int_range(rand, 1, 17);
        n = MIN(buf->len - off, n);
        g_byte_array_remove_range(buf, off, n);
        break;
    case 6: {
        g_autofree guint8 *chunk = NULL;

        n = g_rand_int_range(rand, 1, 33);
        n = MIN(buf->len - off, n);
        chunk = g_memdup2(buf->data + off, n);
        g_array_insert_vals((GArray *)buf, off, chunk, n);
        break;
    }
    default:
        n = g_rand_int_range(rand, 1, 9);
        for (guint i = 0; i < n; i++) {
            guint8 b = g_rand_int_range(rand, 0, 256);

            g_array_insert_vals((GArray *)buf, off, &b, 1);
        }
        break;
    }
}

static void driver_mutations(const DriverOptions *opts, const uint8_t *seed,
                             size_t len, DriverStats *stats)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(opts->seed);
    g_autoptr(GTimer) timer = g_timer_new();

    for (gint64 i = 0; i < opts->iterations; i++) {
        g_autoptr(GByteArray) buf = g_byte_array_sized_new(len + 64);
        int rounds = g_rand_int_range(rand, 1, 5);

        g_byte_array_append(buf, seed, len);
        for (int r = 0; r < rounds; r++) {
            driver_mutate_once(rand, buf);
        }
        driver_run_one(buf->data, buf->len, stats);
        if (g_timer_elapsed(timer, NULL) > opts->seconds) {
            break;
        }
    }
}

static bool driver_parse(int argc, char **argv, DriverOptions *opts)
{
    gint64 seed = 1;
    GOptionEntry entries[] = {
        { "seed", 0, 0, G_OPTION_ARG_INT64, &seed,
          "Random seed for the mutations (default 1)", "N" },
        { "iterations", 0, 0, G_OPTION_ARG_INT64, &opts->iterations,
          "Mutated inputs to run (default 10000)", "N" },
        { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opts->seconds,
          "Stop the mutations after this long (default 15)", "S" },
        { "corpus", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opts->corpus,
          "Run every file of DIR first (repeatable)", "DIR" },
        { "write-seed", 0, 0, G_OPTION_ARG_FILENAME, &opts->write_seed,
          "Write the valid seed stream to FILE (for a libFuzzer corpus)",
          "FILE" },
        { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY,
          &opts->files, NULL, "FILE..." },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "- replay inputs through the loadvm fuzz target");
    g_autoptr(GError) gerr = NULL;

    opts->iterations = 10000;
    opts->seconds = 15;
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
        fprintf(stderr, "fuzz-loadvm: %s\n", gerr->message);
        return false;
    }
    if (seed < 0 || seed > G_MAXUINT32 || opts->iterations < 0 ||
        opts->seconds < 0) {
        fprintf(stderr, "fuzz-loadvm: --seed, --iterations and --seconds "
                "must not be negative\n");
        return false;
    }
    opts->seed = seed;
    return true;
}

int main(int argc, char **argv)
{
    DriverOptions opts = { 0 };
    DriverStats stats = { 0 };
    g_autofree uint8_t *seed = NULL;
    size_t len;
    bool ok;

    if (!driver_parse(argc, argv, &opts)) {
        return 2;
    }
    seed = fuzz_loadvm_seed(&len);
    ok = driver_check_seed(seed, len);
    if (ok && opts.write_seed) {
        g_autoptr(GError) gerr = NULL;

        ok = g_file_set_contents(opts.write_seed, (const char *)seed, len,
                                 &gerr);
        if (!ok) {
            fprintf(stderr, "fuzz-loadvm: %s\n", gerr->message);
        }
    }
    for (char **dir = opts.corpus; ok && dir && *dir; dir++) {
        ok = driver_run_corpus(*dir, &stats);
    }
    for (char **file = opts.files; ok && file && *file; file++) {
        ok = driver_run_file(*file, &stats);
    }
    if (ok) {
        driver_mutations(&opts, seed, len, &stats);
        printf("fuzz-loadvm: seed of %zu bytes loads; %u inputs, %u loaded, "
               "%u rejected (seed %u)\n", len, stats.inputs, stats.loaded,
               stats.rejected, opts.seed);
    }
    g_strfreev(opts.corpus);
    g_strfreev(opts.files);
    g_free(opts.write_seed);
    fuzz_loadvm_cleanup();
    return ok ? 0 : 1;
}
