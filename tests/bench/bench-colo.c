/*
 * What COLO costs:
 *   - qtest pair, 512 MiB of guest RAM filled with data: D MiB of the
 *     primary's RAM (D = 4, 16, 64, 256) are written between two
 *     checkpoints; per checkpoint, the primary's pause (its STOP to its
 *     RESUME event) and the whole checkpoint (the secondary's STOP, on
 *     the request, to its RESUME once applied), then the secondary's
 *     resident memory as a multiple of guest RAM;
 *   - a pair with the dirtier guest (which rewrites all its memory
 *     continuously), under each accelerator that runs guest code here
 *     (kvm where /dev/kvm is usable, tcg), at x-checkpoint-delay 1000
 *     and 100 ms: the same two times and how fast the guest still runs,
 *     then the failover time, from x-colo-lost-heartbeat to the first
 *     new 'B' of the guest on the secondary.
 *   - both again with x-colo-lean on the secondary (no RAM cache): its
 *     resident memory against the target, and how much more the
 *     primary sends for the pages the secondary's guest wrote;
 *   - on the qtest pair again: the share of time the primary spends
 *     paused at x-checkpoint-delay 10 and 100 ms with 1 and 16 MiB
 *     dirtied per checkpoint, and the checkpoints per second at delay
 *     1 ms with 1 MiB dirtied per checkpoint.
 * The times come from the timestamps of the QMP events (microseconds,
 * one host clock for both processes); query-migrate's own figure (whole
 * milliseconds) is printed next to them.  Where a figure has a target,
 * the target is printed beside it, worked out from memcpy's speed
 * measured in the same run where it depends on it.  One figure per
 * line.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "migration-helpers.h"
#include "qtest-client.h"
#include "serial-test.h"

#define QT_RAM_MIB 512
#define GUEST_RAM_MIB 128
/* Checkpoints measured per figure; more at a short delay. */
#define CHECKPOINTS 5
#define CHECKPOINTS_SHORT 20
#define CHECKPOINTS_RATE 200
#define CHECKPOINTS_MAX CHECKPOINTS_RATE

/* Targets: pause <= D / (PAUSE_MEMCPY_SHARE x memcpy) + PAUSE_FIXED_MS */
#define PAUSE_MEMCPY_SHARE 0.8
#define PAUSE_FIXED_MS 1.0
#define RATE_TARGET 400.0           /* checkpoints/s at 1 MiB dirtied */
#define RSS_TARGET 1.15             /* secondary RSS / guest RAM */
#define FAILOVER_TARGET_MS 10.0
#define EVENT_TIMEOUT_MS (2 * QMPTEST_TIMEOUT_MS)

static const unsigned dirty_mib[] = { 4, 16, 64, 256 };

typedef struct Pair {
    bool lean;                      /* x-colo-lean on the secondary */
    QmpTestProc *pri, *sec;
    QtestClient *pri_qt, *sec_qt;
    /* Connections opened once COLO runs: they see only its events. */
    QmpTestClient *pc, *sc;
} Pair;

/* One checkpoint, seen through the STOP/RESUME events of both sides. */
typedef struct Checkpoint {
    double pri_stop, pri_resume;    /* seconds, host clock */
    double sec_stop, sec_resume;
} Checkpoint;

typedef struct Series {
    unsigned n;                     /* checkpoints measured */
    /* primary STOP -> RESUME */
    double pause_ms[CHECKPOINTS_MAX];
    /* secondary STOP -> secondary RESUME */
    double total_ms[CHECKPOINTS_MAX];
    int64_t reported_ms;            /* query-migrate last-pause-time */
    /* from the primary's RESUME before the first to its last RESUME */
    double span_s;
    /* checkpoint-bytes of the primary over the checkpoints counted */
    double mib_per_checkpoint;
    /* lean: extra-pages of the primary over the checkpoints counted */
    double extra_per_checkpoint;
} Series;

/* memcpy's speed on this host, measured once, in bytes per second. */
static double memcpy_bps;

/* ---- events and queries ---- */

static double event_time(json_t *ev)
{
    json_t *ts = json_object_get(ev, "timestamp");

    return json_integer_value(json_object_get(ts, "seconds")) +
           json_integer_value(json_object_get(ts, "microseconds")) / 1e6;
}

/* The pair being measured, for a quick diagnosis when COLO breaks. */
static Pair *current;

/* Fail at once, with the VMs' stderr, when either side has left COLO. */
static void check_still_colo(void)
{
    QmpTestClient *c[2] = { current->pc, current->sc };
    QmpTestProc *vm[2] = { current->pri, current->sec };

    for (unsigned i = 0; i < 2; i++) {
        qmptest_auto_json json_t *ev = qmptest_wait_event(c[i], "COLO_EXIT",
                                                          0);

        if (ev || qmptest_exited(vm[i])) {
            g_printerr("primary stderr:\n%s\nsecondary stderr:\n%s\n",
                       qmptest_stderr(current->pri),
                       qmptest_stderr(current->sec));
            bench_fail("the %s left COLO", i ? "secondary" : "primary");
        }
    }
}

static double wait_event_time(QmpTestClient *c, const char *who,
                              const char *name)
{
    int64_t deadline = qmptest_deadline(EVENT_TIMEOUT_MS);

    for (;;) {
        /* Slices, so that a broken pair is noticed within seconds. */
        qmptest_auto_json json_t *ev = qmptest_wait_event(c, name, 5000);

        if (ev) {
            return event_time(ev);
        }
        check_still_colo();
        if (g_get_monotonic_time() >= deadline) {
            bench_fail("%s: no %s event", who, name);
        }
    }
}

/*
 * The next STOP and the RESUME after it.  A RESUME older than the STOP
 * ends a pause whose STOP came before the connection was opened.
 */
static void wait_pause(QmpTestClient *c, const char *who, double *stop,
                       double *resume)
{
    *stop = wait_event_time(c, who, "STOP");
    do {
        *resume = wait_event_time(c, who, "RESUME");
    } while (*resume < *stop);
}

static Checkpoint wait_checkpoint(Pair *p)
{
    Checkpoint k;

    wait_pause(p->pc, "primary", &k.pri_stop, &k.pri_resume);
    /* The secondary stops first and resumes first for each checkpoint. */
    do {
        wait_pause(p->sc, "secondary", &k.sec_stop, &k.sec_resume);
    } while (k.sec_resume < k.pri_stop);
    if (k.sec_stop > k.pri_resume) {
        bench_fail("secondary paused at %.6f, after the primary's "
                   "checkpoint ended at %.6f", k.sec_stop, k.pri_resume);
    }
    return k;
}

static json_t *query_colo(QmpTestClient *c)
{
    qmptest_auto_json json_t *r = qmptest_cmd(c, "{'execute': "
                                              "'query-migrate'}");
    json_t *info = qmptest_return(r);
    json_t *colo = json_object_get(info, "colo");

    if (!json_is_object(colo)) {
        bench_fail("query-migrate has no colo object");
    }
    return json_incref(colo);
}

static int64_t colo_int(json_t *colo, const char *key)
{
    return json_integer_value(json_object_get(colo, key));
}

/*
 * The primary's query-migrate colo object once its checkpoint-count
 * reaches @count.
 */
static json_t *wait_count(Pair *p, int64_t count)
{
    int64_t deadline = qmptest_deadline(QMPTEST_TIMEOUT_MS);

    for (;;) {
        json_t *colo = query_colo(p->pc);

        if (colo_int(colo, "checkpoint-count") >= count) {
            return colo;
        }
        if (g_get_monotonic_time() >= deadline) {
            bench_fail("checkpoint-count stays at %" PRId64 ", expected %"
                       PRId64, colo_int(colo, "checkpoint-count"), count);
        }
        json_decref(colo);
        g_usleep(10 * 1000);
    }
}

/*
 * The primary's colo object once it counts every checkpoint the
 * secondary has applied: the primary counts a checkpoint when it is
 * committed, which may come well after its RESUME (its guest resumes
 * once the checkpoint is staged).
 */
static json_t *settled(Pair *p)
{
    qmptest_auto_json json_t *sec = query_colo(p->sc);

    return wait_count(p, colo_int(sec, "checkpoint-count"));
}

static void set_param(QmpTestProc *vm, const char *name, uint64_t v)
{
    if (!migtest_set_parameter(vm, name, v)) {
        bench_fail("migrate-set-parameters %s %" PRIu64, name, v);
    }
}

static const char *met(bool ok)
{
    return ok ? "met" : "not met";
}

/*
 * The secondary's resident memory (guest RAM included: it is anonymous
 * memory of the process).  The target is the lean secondary's: with a
 * full RAM cache (QEMU's way, and ours without x-colo-lean) the
 * secondary holds two copies.
 */
static void report_rss(const Pair *p, const char *what, unsigned ram_mib)
{
    pid_t pid = qmptest_pid(p->sec);
    double rss = bench_status_kib(pid, "VmRSS") / 1024.0;
    g_autofree char *judged = p->lean
        ? g_strdup_printf("target %.2f x: %s", RSS_TARGET,
                          met(rss / ram_mib <= RSS_TARGET))
        : g_strdup("a full RAM cache as in QEMU, the target is for "
                   "x-colo-lean");

    printf("colo, %s: secondary VmRSS %.0f MiB = %.2f x guest RAM "
           "(RssAnon %.0f MiB, RssFile %.0f MiB, guest RAM %u MiB; %s)\n",
           what, rss, rss / ram_mib, bench_status_kib(pid, "RssAnon") / 1024.0,
           bench_status_kib(pid, "RssFile") / 1024.0, ram_mib, judged);
}

/* memcpy of 256 MiB into memory already touched, best of three. */
static void measure_memcpy(void)
{
    size_t len = 256 * BENCH_MIB;
    g_autofree uint8_t *src = g_malloc(len);
    g_autofree uint8_t *dst = g_malloc(len);
    double best = 0;

    memset(src, 0x5a, len);
    memset(dst, 0xa5, len);
    for (int i = 0; i < 3; i++) {
        double t0 = bench_now();

        memcpy(dst, src, len);
        best = MAX(best, len / (bench_now() - t0));
    }
    /* Keep the copy from being optimised away. */
    if (dst[len - 1] != 0x5a) {
        bench_fail("memcpy copied nothing");
    }
    memcpy_bps = best;
    printf("colo, memcpy: %.1f MB/s (256 MiB, best of 3)\n", best / 1e6);
}

/* ---- the pair ---- */

static void enter_colo(Pair *p, const char *uri, uint64_t delay_ms)
{
    if (!migtest_set_capability(p->sec, "x-colo", true) ||
        !migtest_set_capability(p->pri, "x-colo", true) ||
        (p->lean && !migtest_set_capability(p->sec, "x-colo-lean", true))) {
        bench_fail("x-colo capability");
    }
    set_param(p->pri, "max-bandwidth", MIGTEST_BANDWIDTH_UNLIMITED);
    set_param(p->pri, "downtime-limit", 2000);
    set_param(p->pri, "x-checkpoint-delay", delay_ms);
    if (!migtest_incoming(p->sec, uri) || !migtest_migrate(p->pri, uri)) {
        bench_fail("migrate");
    }
    if (!migtest_wait_status(p->pri, "colo", MIGTEST_TIMEOUT_MS) ||
        !migtest_wait_status(p->sec, "colo", MIGTEST_TIMEOUT_MS)) {
        bench_fail("the pair did not reach COLO");
    }
    p->pc = qmptest_connect(p->pri, NULL, true);
    p->sc = qmptest_connect(p->sec, NULL, true);
    if (!p->pc || !p->sc) {
        bench_fail("second QMP connection");
    }
    current = p;
}

static void pair_end(Pair *p)
{
    qtest_client_free(p->pri_qt);
    qtest_client_free(p->sec_qt);
    /* quit during COLO must work; the processes are reaped either way. */
    if (p->pri && !qmptest_exited(p->pri) &&
        qmptest_quit(p->pri, QMPTEST_TIMEOUT_MS) != 0) {
        bench_fail("the primary did not quit cleanly");
    }
    if (qmptest_quit(p->sec, QMPTEST_TIMEOUT_MS) != 0) {
        bench_fail("the secondary did not quit cleanly");
    }
    qmptest_free(p->pri);
    qmptest_free(p->sec);
}

/* "median M ms (min A, max B of N)" */
static char *describe(const double *v, unsigned n)
{
    g_autofree double *s = g_memdup2(v, n * sizeof(*v));

    bench_sort(s, n);
    return g_strdup_printf("%.3f ms (median of %u; min %.3f, max %.3f)",
                           s[n / 2], n, s[0], s[n - 1]);
}

static double max_of(const double *v, unsigned n)
{
    double m = v[0];

    for (unsigned i = 1; i < n; i++) {
        m = MAX(m, v[i]);
    }
    return m;
}

static void report_series(const char *what, const Series *s)
{
    g_autofree char *pause = describe(s->pause_ms, s->n);
    g_autofree char *total = describe(s->total_ms, s->n);

    printf("colo, %s: primary pause %s; query-migrate last-pause-time "
           "%" PRId64 " ms\n", what, pause, s->reported_ms);
    printf("colo, %s: checkpoint time %s, the secondary's stop to its "
           "resume\n", what, total);
    if (current && current->lean) {
        printf("colo, %s: %.2f MiB sent per checkpoint, of which %.0f "
               "pages (%.2f MiB) only because the secondary's guest wrote "
               "them\n", what, s->mib_per_checkpoint,
               s->extra_per_checkpoint,
               s->extra_per_checkpoint * 4096 / BENCH_MIB);
    }
}

/*
 * The pause target for @mib dirtied: copying them at 0.8 x memcpy's
 * speed, plus 1 ms.
 */
static void report_pause_target(const char *what, const Series *s,
                                unsigned mib)
{
    double target = mib * BENCH_MIB / (PAUSE_MEMCPY_SHARE * memcpy_bps) *
                    1e3 + PAUSE_FIXED_MS;
    double pause = bench_median(s->pause_ms, s->n);

    printf("colo, %s: primary pause %.3f ms (median) against the target "
           "%.3f ms (D / (%.1f x memcpy) + %.0f ms): %.2f x the target, "
           "%s\n", what, pause, target, PAUSE_MEMCPY_SHARE, PAUSE_FIXED_MS,
           pause / target, met(pause <= target));
}

/*
 * Measure @n checkpoints; @between runs after each one (to dirty memory
 * for the next).
 */
static Series measure(Pair *p, unsigned n,
                      void (*between)(Pair *, unsigned), unsigned arg)
{
    qmptest_auto_json json_t *before = NULL;
    qmptest_auto_json json_t *after = NULL;
    Series s;
    Checkpoint k;

    /*
     * Start right after a checkpoint, so the first one measured carries
     * everything @between wrote.
     */
    double first;
    int64_t count;

    k = wait_checkpoint(p);
    if (between) {
        between(p, arg);
    }
    g_assert(n > 0 && n <= CHECKPOINTS_MAX);
    s.n = n;
    before = settled(p);
    first = k.pri_resume;
    for (unsigned i = 0; i < n; i++) {
        k = wait_checkpoint(p);
        if (between) {
            between(p, arg);
        }
        s.pause_ms[i] = (k.pri_resume - k.pri_stop) * 1e3;
        s.total_ms[i] = (k.sec_resume - k.sec_stop) * 1e3;
    }
    after = settled(p);
    s.reported_ms = colo_int(after, "last-pause-time");
    s.span_s = k.pri_resume - first;
    count = colo_int(after, "checkpoint-count") -
            colo_int(before, "checkpoint-count");
    s.mib_per_checkpoint = (colo_int(after, "checkpoint-bytes") -
                            colo_int(before, "checkpoint-bytes")) /
                           (double)MAX(count, 1) / BENCH_MIB;
    s.extra_per_checkpoint = (colo_int(after, "extra-pages") -
                              colo_int(before, "extra-pages")) /
                             (double)MAX(count, 1);
    return s;
}

/* ---- qtest: D MiB between checkpoints ---- */

static void dirty(Pair *p, unsigned mib)
{
    static uint8_t fill;

    /* A new non-zero byte each time: every page is sent whole. */
    fill = fill % 254 + 1;
    if (!qtest_memset(p->pri_qt, 0, fill, (uint64_t)mib * BENCH_MIB)) {
        bench_fail("qtest memset of %u MiB", mib);
    }
}

/*
 * The share of the time the primary is paused, at short delays, and
 * the checkpoint rate: D MiB are written after each checkpoint the
 * benchmark sees, so a checkpoint that starts before the write ends
 * carries less (the MiB sent per checkpoint are printed).  At delay 0
 * one checkpoint in five or so starts before the write; the rate is
 * measured at 1 ms, which leaves the write the time to land and costs
 * the rate up to 1 ms per checkpoint.
 */
static void run_qtest_share(Pair *p)
{
    static const unsigned delays[] = { 10, 100 };
    static const unsigned mibs[] = { 1, 16 };
    g_autofree char *what = NULL;
    Series s;

    for (unsigned i = 0; i < G_N_ELEMENTS(delays); i++) {
        for (unsigned j = 0; j < G_N_ELEMENTS(mibs); j++) {
            g_autofree char *w = g_strdup_printf(
                "qtest %u MiB, x-checkpoint-delay %u ms, dirty %u MiB",
                QT_RAM_MIB, delays[i], mibs[j]);
            double sum = 0;

            set_param(p->pri, "x-checkpoint-delay", delays[i]);
            s = measure(p, CHECKPOINTS_SHORT, dirty, mibs[j]);
            for (unsigned k = 0; k < s.n; k++) {
                sum += s.pause_ms[k];
            }
            printf("colo, %s: primary paused %.1f %% of the time (%u "
                   "checkpoints in %.3f s, pause median %.3f ms, max %.3f "
                   "ms, %.2f MiB sent per checkpoint)\n", w,
                   sum / (s.span_s * 1e3) * 100, s.n, s.span_s,
                   bench_median(s.pause_ms, s.n), max_of(s.pause_ms, s.n),
                   s.mib_per_checkpoint);
        }
    }
    what = g_strdup_printf("qtest %u MiB, x-checkpoint-delay 1 ms, dirty "
                           "1 MiB", QT_RAM_MIB);
    set_param(p->pri, "x-checkpoint-delay", 1);
    s = measure(p, CHECKPOINTS_RATE, dirty, 1);
    /* The target is for checkpoints that each carry 1 MiB. */
    printf("colo, %s: %.1f checkpoints per second (%u in %.3f s, %.2f MiB "
           "sent per checkpoint, pause median %.3f ms, max %.3f ms; target "
           "%.0f at 1 MiB: %s)\n", what, s.n / s.span_s, s.n, s.span_s,
           s.mib_per_checkpoint, bench_median(s.pause_ms, s.n),
           max_of(s.pause_ms, s.n), RATE_TARGET,
           s.mib_per_checkpoint < 1 ? "not judged, less than 1 MiB sent "
                                      "per checkpoint"
                                    : met(s.n / s.span_s >= RATE_TARGET));
    set_param(p->pri, "x-checkpoint-delay", 1000);
}

/*
 * @lean: the same with x-colo-lean on the secondary (no share and rate
 * figures: the primary's side is the same).
 */
static void run_qtest(bool lean)
{
    g_autofree char *args = g_strdup_printf("-m %uM", QT_RAM_MIB);
    g_autofree char *uri = NULL;
    g_autofree char *label = g_strdup_printf("qtest %u MiB%s", QT_RAM_MIB,
                                             lean ? " lean" : "");
    g_autofree char *at_entry = g_strdup_printf("%s, entering COLO", label);
    g_autofree char *at_end = g_strdup_printf("%s, after the checkpoints",
                                              label);
    Pair p = { .lean = lean };

    p.sec = migtest_start_dest_qtest(args, "defer", &p.sec_qt);
    p.pri = migtest_start_source_qtest(args, &p.pri_qt);
    if (!p.sec || !p.pri) {
        bench_fail("starting a qtest pair with %s", args);
    }
    /* Every page in use, as in a guest that has run for a while. */
    if (!migtest_fill_ram(p.pri_qt, (uint64_t)QT_RAM_MIB * BENCH_MIB, 3)) {
        bench_fail("filling guest RAM");
    }
    uri = migtest_unix_uri(p.sec);
    enter_colo(&p, uri, 1000);
    report_rss(&p, at_entry, QT_RAM_MIB);

    for (unsigned i = 0; i < G_N_ELEMENTS(dirty_mib); i++) {
        unsigned d = dirty_mib[i];
        /* Room to write D MiB and send them before the next one. */
        uint64_t delay = 1000 + 8 * d;
        g_autofree char *what = g_strdup_printf("%s, dirty %u MiB "
                                                "between checkpoints",
                                                label, d);
        Series s;

        set_param(p.pri, "x-checkpoint-delay", delay);
        s = measure(&p, CHECKPOINTS, dirty, d);
        report_series(what, &s);
        report_pause_target(what, &s, d);
    }
    if (!lean) {
        run_qtest_share(&p);
    }
    report_rss(&p, at_end, QT_RAM_MIB);
    pair_end(&p);
}

/* ---- a guest: the dirtier, under kvm or tcg ---- */

/* For scale: the guest's passes per second before COLO. */
static void guest_speed_alone(Pair *p, const char *accel)
{
    unsigned b0 = serial_count_char(p->pri, 'B');
    double t0 = bench_now();

    if (!serial_wait_char_count(p->pri, 'B', b0 + 20, EVENT_TIMEOUT_MS)) {
        bench_fail("the dirtier stopped printing");
    }
    printf("colo, %s dirtier %u MiB, no COLO: guest passes %.1f per "
           "second (20 in %.2f s)\n", accel, GUEST_RAM_MIB,
           20 / (bench_now() - t0), bench_now() - t0);
}

static void run_guest_delay(Pair *p, const char *accel, uint64_t delay)
{
    g_autofree char *what = g_strdup_printf("%s dirtier %u MiB%s, "
                                            "x-checkpoint-delay %" PRIu64
                                            " ms", accel, GUEST_RAM_MIB,
                                            p->lean ? " lean" : "", delay);
    unsigned b0, passes;
    double t0, secs;
    Series s;

    set_param(p->pri, "x-checkpoint-delay", delay);
    b0 = serial_count_char(p->pri, 'B');
    t0 = bench_now();
    s = measure(p, delay < 500 ? CHECKPOINTS_SHORT : CHECKPOINTS, NULL, 0);
    secs = bench_now() - t0;
    passes = serial_count_char(p->pri, 'B') - b0;
    report_series(what, &s);
    printf("colo, %s: guest passes %.1f per second on the primary "
           "(%u in %.2f s)\n", what, passes / secs, passes, secs);
}

/*
 * The floor under "primary killed to COLO_EXIT": the kernel closes a
 * killed process's sockets only after it has torn down its memory, so
 * a peer sees the end of the connection later the more memory the
 * process had.  A child that touched @kib of memory is killed, and the
 * time until its socket reads end of file is returned (ms).
 */
static double kill_to_eof_ms(uint64_t kib)
{
    size_t len = kib * 1024;
    int sv[2];
    pid_t pid;
    char c;
    double t0, t;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        bench_fail("socketpair: %s", g_strerror(errno));
    }
    pid = fork();
    if (pid < 0) {
        bench_fail("fork: %s", g_strerror(errno));
    }
    if (pid == 0) {
        uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        close(sv[1]);
        if (m == MAP_FAILED) {
            _exit(1);
        }
        memset(m, 1, len);
        if (write(sv[0], "r", 1) != 1) {
            _exit(1);
        }
        for (;;) {
            pause();
        }
    }
    close(sv[0]);
    if (read(sv[1], &c, 1) != 1) {
        bench_fail("the memory-holding child did not start");
    }
    t0 = bench_now();
    kill(pid, SIGKILL);
    if (read(sv[1], &c, 1) != 0) {
        bench_fail("no end of file from the killed child");
    }
    t = (bench_now() - t0) * 1e3;
    waitpid(pid, NULL, 0);
    close(sv[1]);
    return t;
}

/*
 * kill -9 the primary, then fail over to the secondary: the time from
 * x-colo-lost-heartbeat to the secondary's RESUME (the guest restarted
 * from the last checkpoint) and to the first 'B' the guest prints after
 * it.  That 'B' comes at the end of a pass over guest memory, so the
 * pass time is printed too.
 */
static void guest_failover(Pair *p, const char *accel)
{
    qmptest_auto_json json_t *exit_ev = NULL;
    qmptest_auto_json json_t *reply = NULL;
    qmptest_auto_json json_t *resume = NULL;
    double t0, wall0, t_b, t_more, killed;
    uint64_t rss_kib = bench_status_kib(qmptest_pid(p->pri), "VmRSS");
    g_autofree char *label = g_strdup_printf("%s dirtier %u MiB%s", accel,
                                             GUEST_RAM_MIB,
                                             p->lean ? " lean" : "");
    unsigned b;

    killed = g_get_real_time() / 1e6;
    qmptest_kill(p->pri);
    /* The secondary notices the loss first: its COLO loop fails. */
    exit_ev = qmptest_wait_event(p->sc, "COLO_EXIT", EVENT_TIMEOUT_MS);
    if (!exit_ev) {
        bench_fail("no COLO_EXIT on the secondary after the primary died");
    }
    printf("colo, %s: primary killed to the secondary's "
           "COLO_EXIT: %.1f ms (the kernel alone, from SIGKILL to end of "
           "file on a socket of a process holding as much memory, %.0f "
           "MiB: %.1f ms)\n", label,
           (event_time(exit_ev) - killed) * 1e3, rss_kib / 1024.0,
           kill_to_eof_ms(rss_kib));
    wall0 = g_get_real_time() / 1e6;
    t0 = bench_now();
    reply = qmptest_cmd(p->sc, "{'execute': 'x-colo-lost-heartbeat'}");
    if (!qmptest_return(reply)) {
        bench_fail("x-colo-lost-heartbeat: %s", qmptest_error_desc(reply));
    }
    resume = qmptest_wait_event(p->sc, "RESUME", EVENT_TIMEOUT_MS);
    if (!resume) {
        bench_fail("the secondary's guest did not resume");
    }
    b = serial_count_char(p->sec, 'B');
    if (!serial_wait_char_count(p->sec, 'B', b + 1, EVENT_TIMEOUT_MS)) {
        bench_fail("no new 'B' on the secondary after the failover");
    }
    t_b = bench_now();
    if (!serial_wait_char_count(p->sec, 'B', b + 4, EVENT_TIMEOUT_MS)) {
        bench_fail("the guest on the secondary stopped printing");
    }
    t_more = bench_now();
    printf("colo, %s: failover, x-colo-lost-heartbeat to "
           "RESUME on the secondary: %.1f ms (target %.0f ms: %s)\n", label,
           (event_time(resume) - wall0) * 1e3,
           FAILOVER_TARGET_MS,
           met((event_time(resume) - wall0) * 1e3 <= FAILOVER_TARGET_MS));
    printf("colo, %s: failover, x-colo-lost-heartbeat to "
           "the secondary's first new 'B': %.1f ms (one pass of the guest "
           "takes %.1f ms)\n", label, (t_b - t0) * 1e3,
           (t_more - t_b) / 3 * 1e3);
}

static void run_guest(const char *accel, bool lean)
{
    const char *dir = g_getenv("COLO_GUEST_DIR");
    g_autofree char *pargs = NULL;
    g_autofree char *sargs = NULL;
    g_autofree char *uri = NULL;
    g_autofree char *rss = NULL;
    Pair p = { .lean = lean };

    if (!dir) {
        bench_fail("COLO_GUEST_DIR is not set");
    }
    sargs = g_strdup_printf("-accel %s -m %uM -serial stdio", accel,
                            GUEST_RAM_MIB);
    pargs = g_strdup_printf("%s -kernel %s/dirtier.elf", sargs, dir);
    p.sec = migtest_start_dest(sargs, "defer");
    p.pri = migtest_start_source(pargs);
    if (!p.sec || !p.pri) {
        bench_fail("starting a pair with %s", pargs);
    }
    if (!serial_wait_char_count(p.pri, 'B', 1, EVENT_TIMEOUT_MS)) {
        bench_fail("the dirtier did not start");
    }
    guest_speed_alone(&p, accel);
    uri = migtest_unix_uri(p.sec);
    enter_colo(&p, uri, 1000);
    run_guest_delay(&p, accel, 1000);
    run_guest_delay(&p, accel, 100);
    rss = g_strdup_printf("%s dirtier %u MiB%s, between checkpoints",
                          accel, GUEST_RAM_MIB, lean ? " lean" : "");
    /* Right after one: what the secondary keeps, not what it stages. */
    wait_checkpoint(&p);
    report_rss(&p, rss, GUEST_RAM_MIB);
    guest_failover(&p, accel);
    pair_end(&p);
}

int main(void)
{
    const char *accels[ACCEL_TEST_MAX];
    unsigned n = bench_accels(accels);

    measure_memcpy();
    run_qtest(false);
    run_qtest(true);
    for (unsigned i = 0; i < n; i++) {
        run_guest(accels[i], false);
        run_guest(accels[i], true);
    }
    return 0;
}
