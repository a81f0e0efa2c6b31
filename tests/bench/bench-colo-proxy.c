/*
 * What the COLO proxy costs a client of the guest's service: the kv
 * guest on its serial port, driven by tests/lib/kv-client.c over a unix
 * socket, under each accelerator that runs guest code here.
 *
 *   - request latency, one request at a time (SET with a 40-byte
 *     value): p50 and p99, and the requests per second that gives;
 *   - requests per second with KV_PIPELINE requests in flight;
 *
 * for a plain VM (no COLO, the reference of the same run: COLO figures
 * are printed as a ratio to it), COLO with comparison and COLO in
 * buffer mode, each at x-checkpoint-delay 100 and 1000 ms; then the
 * guest whose SET replies differ on each side (kv-diverge.elf) under
 * comparison: divergence checkpoints per second at full request rate.
 *
 * Each figure runs for COLO_BENCH_SECONDS / 2 seconds (default 5), and
 * for at least MIN_SAMPLES requests.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "colo-helpers.h"
#include "kv-client.h"
#include "migration-helpers.h"

#define GUEST_RAM_MIB 64
#define KV_PIPELINE 32
#define KV_REPLY_MS 30000
#define MAX_SAMPLES 200000
#define MIN_SAMPLES 8

typedef struct Setup {
    const char *name;
    const char *guest;
    const char *mode;           /* colo-compare mode; NULL: no COLO */
    uint64_t delay_ms;
    bool lean;                  /* x-colo-lean on the secondary */
} Setup;

static const Setup setups[] = {
    { "plain VM", "kv.elf", NULL, 0 },
    { "COLO compare, delay 100 ms", "kv.elf", "compare", 100 },
    { "COLO compare, delay 1000 ms", "kv.elf", "compare", 1000 },
    { "COLO buffer, delay 100 ms", "kv.elf", "buffer", 100 },
    { "COLO buffer, delay 1000 ms", "kv.elf", "buffer", 1000 },
    { "COLO compare, lean secondary, delay 100 ms", "kv.elf", "compare",
      100, true },
};

typedef struct Figures {
    double p50_ms, p99_ms, seq_rps, pipe_rps;
    /* COLO: over the measured interval, from the primary's colo stats */
    int64_t checkpoints, bytes, extra_pages;
    double secondary_rss_mib;
} Figures;

static char *set_request(uint64_t i)
{
    return g_strdup_printf("SET k%" PRIu64 " %040" PRIu64, i % 4096, i);
}

static bool one_request(KvClient *c, uint64_t i)
{
    g_autofree char *req = set_request(i);
    g_autofree char *rep = kv_client_request(c, req,
                                             qmptest_deadline(KV_REPLY_MS));

    return rep && g_str_has_prefix(rep, "OK");
}

static void measure(KvClient *c, double seconds, Figures *f)
{
    double *lat = g_new(double, MAX_SAMPLES);
    double start = bench_now(), end = start + seconds, t0;
    unsigned n = 0;
    uint64_t done = 0, i = 0;

    /* Connect (and shake hands) outside the measurement. */
    if (!one_request(c, i++)) {
        bench_fail("first request failed");
    }
    start = bench_now();
    end = start + seconds;
    while (n < MAX_SAMPLES && ((t0 = bench_now()) < end || n < MIN_SAMPLES)) {
        if (!one_request(c, i++)) {
            bench_fail("request %u failed", n);
        }
        lat[n++] = (bench_now() - t0) * 1000;
    }
    f->seq_rps = n / (bench_now() - start);
    bench_sort(lat, n);
    f->p50_ms = lat[n / 2];
    f->p99_ms = lat[MIN(n - 1, n * 99 / 100)];
    g_free(lat);

    start = bench_now();
    end = start + seconds;
    while (bench_now() < end) {
        char *reqs[KV_PIPELINE], *rep[KV_PIPELINE];

        for (unsigned k = 0; k < KV_PIPELINE; k++) {
            reqs[k] = set_request(i++);
        }
        if (!kv_client_batch(c, (const char *const *)reqs, KV_PIPELINE, rep,
                             qmptest_deadline(KV_REPLY_MS))) {
            bench_fail("pipelined batch failed");
        }
        for (unsigned k = 0; k < KV_PIPELINE; k++) {
            g_free(reqs[k]);
            g_free(rep[k]);
        }
        done += KV_PIPELINE;
    }
    f->pipe_rps = done / (bench_now() - start);
}

static void start_colo(ColoPair *pair, const char *accel, const Setup *s,
                       const char *dir)
{
    g_autofree char *pextra = NULL, *sextra = NULL, *mode = NULL;
    g_autofree char *kernel = g_strdup_printf("%s/%s",
                                              g_getenv("COLO_GUEST_DIR"),
                                              s->guest);
    ColoPairOpts opts = {
        .accel = accel,
        .ram_mib = GUEST_RAM_MIB,
        .kernel = kernel,
        .checkpoint_delay = s->delay_ms,
        .lean = s->lean,
    };

    mode = g_strdup_printf("mode=%s,compare_timeout=1000,"
                           "expired_scan_cycle=100", s->mode);
    colo_pair_proxy_args(&opts, dir, mode, &pextra, &sextra);
    if (!colo_pair_start(pair, &opts) ||
        !migtest_set_parameter(pair->primary, "max-bandwidth",
                               MIGTEST_BANDWIDTH_UNLIMITED) ||
        !colo_pair_migrate(pair) ||
        !colo_pair_wait_colo(pair, COLO_TIMEOUT_MS)) {
        bench_fail("%s: the pair did not enter COLO", s->name);
    }
}

static int64_t compare_stat(QmpTestProc *vm, const char *name)
{
    qmptest_auto_json json_t *r = qmptest_cmd(
        qmptest_client(vm), "{'execute': 'x-query-colo-compare'}");
    json_t *first = json_array_get(qmptest_return(r), 0);

    return json_integer_value(json_object_get(first, name));
}

/* Add @sign times the primary's checkpoint counters to @f's. */
static void colo_counters(QmpTestProc *primary, Figures *f, int sign)
{
    qmptest_auto_json json_t *colo = colo_stats(primary);

    if (!colo) {
        bench_fail("no colo object in the primary's query-migrate");
    }
    f->checkpoints += sign * json_integer_value(
        json_object_get(colo, "checkpoint-count"));
    f->bytes += sign * json_integer_value(
        json_object_get(colo, "checkpoint-bytes"));
    f->extra_pages += sign * json_integer_value(
        json_object_get(colo, "extra-pages"));
}

/* One setup: start, connect, measure, stop. */
static void run_setup(const char *accel, const Setup *s, Figures *f,
                      int64_t *divergences)
{
    g_autofree char *dir = g_dir_make_tmp("bench-proxy-XXXXXX", NULL);
    g_autofree char *addr = g_strdup_printf("unix:%s/p.sock", dir);
    const char *addrs[] = { addr, NULL };
    QmpTestProc *plain = NULL;
    ColoPair pair = { 0 };
    KvClient *c;

    *f = (Figures) { 0 };
    if (!s->mode) {
        plain = bench_start("-accel %s -m %uM -kernel @GUEST@/%s "
                            "-serial unix:%s/p.sock,server=on,wait=off",
                            accel, (unsigned)GUEST_RAM_MIB, s->guest, dir);
    } else {
        start_colo(&pair, accel, s, dir);
    }
    c = kv_client_new(addrs, KV_REPLY_MS);
    if (!c) {
        bench_fail("%s: cannot reach the kv service", s->name);
    }
    if (divergences) {
        *divergences = compare_stat(pair.primary, "checkpoints-divergence");
    }
    if (s->mode) {
        colo_counters(pair.primary, f, -1);
    }
    measure(c, bench_seconds() / 2, f);
    if (s->mode) {
        colo_counters(pair.primary, f, 1);
        f->secondary_rss_mib =
            bench_status_kib(qmptest_pid(pair.secondary), "VmRSS") / 1024.0;
    }
    if (divergences) {
        *divergences = compare_stat(pair.primary, "checkpoints-divergence") -
                       *divergences;
    }
    kv_client_free(c);
    qmptest_free(plain);
    colo_pair_free(&pair);
    remove_socket_dir(dir);
}

static void print_figures(const char *accel, const Setup *s,
                          const Figures *f, const Figures *ref)
{
    printf("kv %s %s: latency p50 %.2f ms, p99 %.2f ms (%.1fx, %.1fx the "
           "plain VM); %.0f requests/s one at a time, %.0f requests/s "
           "with %d in flight (%.2fx the plain VM)\n",
           accel, s->name, f->p50_ms, f->p99_ms, f->p50_ms / ref->p50_ms,
           f->p99_ms / ref->p99_ms, f->seq_rps, f->pipe_rps, KV_PIPELINE,
           f->pipe_rps / ref->pipe_rps);
    if (s->mode && f->checkpoints > 0) {
        double bytes = f->bytes / (double)f->checkpoints;

        printf("kv %s %s: %" PRId64 " checkpoints, %.1f KiB sent per "
               "checkpoint; secondary VmRSS %.0f MiB = %.2f x guest RAM\n",
               accel, s->name, f->checkpoints, bytes / 1024,
               f->secondary_rss_mib,
               f->secondary_rss_mib / GUEST_RAM_MIB);
        if (s->lean) {
            double extra = f->extra_pages / (double)f->checkpoints;

            printf("kv %s %s: %.1f pages (%.1f KiB, %.1f%% of the bytes "
                   "sent) per checkpoint only because the secondary's "
                   "guest wrote them\n", accel, s->name, extra,
                   extra * 4, extra * 4096 * 100 / MAX(bytes, 1));
        }
    }
    fflush(stdout);
}

int main(void)
{
    const char *accels[ACCEL_TEST_MAX];
    unsigned n = bench_accels(accels);

    for (unsigned a = 0; a < n; a++) {
        static const Setup diverge = {
            "COLO compare, diverging guest, delay 1000 ms",
            "kv-diverge.elf", "compare", 1000,
        };
        static const Setup diverge_lean = {
            "COLO compare, diverging guest, lean secondary, delay 1000 ms",
            "kv-diverge.elf", "compare", 1000, true,
        };
        Figures ref, f;
        int64_t div;
        double secs = bench_seconds() / 2;

        run_setup(accels[a], &setups[0], &ref, NULL);
        print_figures(accels[a], &setups[0], &ref, &ref);
        for (size_t i = 1; i < G_N_ELEMENTS(setups); i++) {
            run_setup(accels[a], &setups[i], &f, NULL);
            print_figures(accels[a], &setups[i], &f, &ref);
        }
        run_setup(accels[a], &diverge, &f, &div);
        print_figures(accels[a], &diverge, &f, &ref);
        printf("kv %s diverging guest: %.1f divergence checkpoints/s "
               "(%" PRId64 " in %.0f s of requests)\n", accels[a],
               div / (2 * secs), div, 2 * secs);
        run_setup(accels[a], &diverge_lean, &f, NULL);
        print_figures(accels[a], &diverge_lean, &f, &ref);
    }
    return 0;
}
