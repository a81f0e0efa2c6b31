/*
 * A client of the guest's service never loses what it was told.
 *
 * The kv guest serves on its serial port through the COLO proxy
 * (docs/colo.md): the primary mirrors the client's input to the
 * secondary and releases output only once the secondary could
 * reproduce it.  A client thread writes keys (SET k v, v increasing)
 * and records every OK; at a moment chosen by a seeded random
 * generator, one side is killed with SIGKILL: between checkpoints, the
 * moment the primary stops for one (its STOP event), or with one frozen
 * half sent (the migration link runs through a fault proxy that stops
 * forwarding at a random byte of it).
 * The survivor is told x-colo-lost-heartbeat, the client goes on
 * against it (reconnecting to the secondary when the primary died),
 * and then every key is read back: each acknowledged write is there
 * with its value or a later one the client sent for that key, and no
 * value is one the client never sent.
 *
 * Variants: compare mode with the primary or the secondary killed,
 * buffer mode, and a guest whose SET replies differ on each side
 * (kv-diverge.elf), which forces divergence checkpoints; then, with a
 * lean secondary (x-colo-lean), the diverging guest and the secondary
 * killed.  Each variant runs COLO_PROXY_ROUNDS rounds (default 5: 30
 * kill points in all);
 * COLO_PROXY_SEED repeats a run (the seed is printed).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "colo-test.h"
#include "kv-client.h"

/* Keys the client writes; a round rewrites some with later values. */
#define KV_KEYS         2048
/* Requests per pipelined batch (the diverging guest gets one at a time:
 * its reply differs only when it has to wait for its input). */
#define KV_BATCH        8
/* A reply that takes longer means the connection is gone. */
#define KV_REPLY_MS     4000

typedef struct ProxyVariant {
    const char *name;
    const char *mode;           /* colo-compare mode */
    const char *guest;
    bool kill_secondary;
    bool diverges;
    bool lean;                  /* x-colo-lean on the secondary */
} ProxyVariant;

/* When the victim dies. */
typedef enum KillMoment {
    KILL_BETWEEN,           /* after some writes */
    KILL_AT_STOP,           /* the moment the primary stops for one */
    KILL_MID_CHECKPOINT,    /* with a checkpoint frozen half sent */
    KILL__MAX,
} KillMoment;

static const char *const kill_moment_names[] = {
    [KILL_BETWEEN] = "between checkpoints",
    [KILL_AT_STOP] = "as a checkpoint started",
    [KILL_MID_CHECKPOINT] = "with a checkpoint half sent",
};

typedef struct KvWriter {
    KvClient *client;
    unsigned batch;             /* requests per batch, <= KV_BATCH */
    GMutex lock;
    GCond progress;             /* signalled after every batch */
    /* Protected by lock. */
    uint32_t *acked;            /* per key: 1 + counter of its last OK */
    uint64_t acks;
    uint64_t next;              /* the counter of the next request */
    bool failed;
    char *failure;
    /* Atomic. */
    int stop;
} KvWriter;

static unsigned key_of(uint64_t counter)
{
    return (uint32_t)(counter * 2654435761u) % KV_KEYS;
}

/* A value that names its counter, 10..64 bytes long. */
static char *value_of(uint64_t counter)
{
    unsigned fill = 1 + counter * 7 % 54;
    GString *v = g_string_new(NULL);

    g_string_printf(v, "%08" PRIu64 "-", counter);
    for (unsigned i = 0; i < fill; i++) {
        g_string_append_c(v, 'a' + (counter + i) % 26);
    }
    return g_string_free(v, false);
}

static bool reply_is_ok(const char *reply)
{
    return !strcmp(reply, "OK") || g_str_has_prefix(reply, "OK ");
}

static gpointer kv_writer_thread(gpointer opaque)
{
    KvWriter *w = opaque;

    while (!g_atomic_int_get(&w->stop)) {
        char *req[KV_BATCH], *rep[KV_BATCH];
        uint64_t first = w->next;
        bool ok;

        for (unsigned i = 0; i < w->batch; i++) {
            g_autofree char *v = value_of(first + i);

            req[i] = g_strdup_printf("SET k%u %s", key_of(first + i), v);
        }
        ok = kv_client_batch(w->client, (const char *const *)req, w->batch,
                             rep, qmptest_deadline(COLO_TIMEOUT_MS));
        g_mutex_lock(&w->lock);
        for (unsigned i = 0; ok && i < w->batch; i++) {
            if (!reply_is_ok(rep[i])) {
                w->failure = g_strdup_printf("'%s' -> '%s'", req[i], rep[i]);
                ok = false;
            } else {
                w->acked[key_of(first + i)] = first + i + 1;
                w->acks++;
            }
        }
        if (!ok) {
            w->failed = true;
            if (!w->failure) {
                w->failure = g_strdup("no reply before the deadline");
            }
        }
        w->next = first + w->batch;
        g_cond_broadcast(&w->progress);
        g_mutex_unlock(&w->lock);
        for (unsigned i = 0; i < w->batch; i++) {
            g_free(req[i]);
            g_free(rep[i]);
        }
        if (!ok) {
            break;
        }
    }
    return NULL;
}

static uint64_t kv_writer_acks(KvWriter *w, bool *failed)
{
    uint64_t n;

    g_mutex_lock(&w->lock);
    n = w->acks;
    *failed = w->failed;
    g_mutex_unlock(&w->lock);
    return n;
}

/* Wait until @count writes were acknowledged in all. */
static void kv_writer_wait(KvWriter *w, uint64_t count)
{
    int64_t deadline = qmptest_deadline(COLO_TIMEOUT_MS);
    g_autofree char *why = NULL;
    uint64_t acks;

    g_mutex_lock(&w->lock);
    while (w->acks < count && !w->failed &&
           g_cond_wait_until(&w->progress, &w->lock, deadline)) {
        /* woken by a batch */
    }
    acks = w->acks;
    why = g_strdup(w->failure ? w->failure : "timeout");
    g_mutex_unlock(&w->lock);
    if (acks < count) {
        fail_msg("%" PRIu64 " of %" PRIu64 " writes acknowledged: %s",
                 acks, count, why);
    }
}

/*
 * Read every key back from the survivor (the client is connected to it
 * by now): a key acknowledged with
 * counter c holds the value of some counter c' >= c written to that
 * key; keys never acknowledged hold nothing or a value sent for them.
 */
static void kv_verify(KvWriter *w)
{
    KvClient *reader = w->client;
    unsigned checked = 0;

    for (unsigned k = 0; k < KV_KEYS; k += KV_BATCH) {
        char *req[KV_BATCH], *rep[KV_BATCH];

        for (unsigned i = 0; i < KV_BATCH; i++) {
            req[i] = g_strdup_printf("GET k%u", k + i);
        }
        assert_true(kv_client_batch(reader, (const char *const *)req,
                                    KV_BATCH, rep,
                                    qmptest_deadline(COLO_TIMEOUT_MS)));
        for (unsigned i = 0; i < KV_BATCH; i++) {
            uint32_t acked = w->acked[k + i];
            uint64_t c;
            g_autofree char *expect = NULL;

            if (!strcmp(rep[i], "NOT_FOUND")) {
                if (acked) {
                    fail_msg("k%u: acknowledged value %u lost", k + i,
                             acked - 1);
                }
            } else {
                c = g_ascii_strtoull(rep[i], NULL, 10);
                expect = value_of(c);
                if (strcmp(rep[i], expect) || key_of(c) != k + i ||
                    c >= w->next) {
                    fail_msg("k%u holds '%s', never sent for it", k + i,
                             rep[i]);
                }
                if (acked && c < acked - 1) {
                    fail_msg("k%u holds %" PRIu64 ", older than the "
                             "acknowledged %u", k + i, c, acked - 1);
                }
                checked += acked != 0;
            }
            g_free(req[i]);
            g_free(rep[i]);
        }
    }
    g_printerr("# %u acknowledged keys present\n", checked);
}

static json_t *compare_stats(QmpTestProc *vm)
{
    qmptest_auto_json json_t *r = qmptest_cmd(
        qmptest_client(vm), "{'execute': 'x-query-colo-compare'}");
    json_t *list = qmptest_return(r);

    assert_non_null(list);
    assert_int_equal(json_array_size(list), 1);
    return json_incref(json_array_get(list, 0));
}

static int64_t stat_int(json_t *stats, const char *name)
{
    json_t *v = json_object_get(stats, name);

    assert_non_null(v);
    return json_integer_value(v);
}

static void start_pair(ColoPair *pair, const char *accel,
                       const ProxyVariant *v, const char *dir,
                       uint64_t delay)
{
    const char *gdir = g_getenv("COLO_GUEST_DIR");
    g_autofree char *kernel = NULL;
    g_autofree char *pextra = NULL, *sextra = NULL, *mode = NULL;
    ColoPairOpts opts = {
        .accel = accel,
        .ram_mib = COLO_RAM_MIB,
        .checkpoint_delay = delay,
        .via_proxy = true,
        .heartbeat_interval = COLO_HEARTBEAT_SILENT_INTERVAL,
        .heartbeat_timeout = COLO_HEARTBEAT_SILENT_TIMEOUT,
        .lean = v->lean,
    };

    assert_non_null(gdir);
    kernel = g_strdup_printf("%s/%s", gdir, v->guest);
    mode = g_strdup_printf("mode=%s,compare_timeout=1000,"
                           "expired_scan_cycle=100", v->mode);
    colo_pair_proxy_args(&opts, dir, mode, &pextra, &sextra);
    opts.kernel = kernel;
    assert_true(colo_pair_start(pair, &opts));
    assert_true(migtest_set_parameter(pair->primary, "max-bandwidth",
                                      MIGTEST_BANDWIDTH_UNLIMITED));
    assert_true(migtest_set_parameter(pair->primary, "downtime-limit",
                                      2000));
    assert_true(colo_pair_migrate(pair));
    assert_true(colo_pair_wait_colo(pair, COLO_TIMEOUT_MS));
}

static void run_round(const char *accel, const ProxyVariant *v, GRand *rng,
                      unsigned round)
{
    g_autofree char *dir = g_dir_make_tmp("colo-proxy-XXXXXX", NULL);
    g_autofree char *paddr = NULL, *saddr = NULL;
    /* Buffer mode answers once per checkpoint: keep them frequent. */
    uint64_t delay = !strcmp(v->mode, "buffer") ? 30
                     : g_rand_boolean(rng) ? 100 : 1000;
    KillMoment when = g_rand_int_range(rng, 0, KILL__MAX);
    uint64_t before = g_rand_int_range(rng, 8, 400);
    uint32_t stall_at = g_rand_int_range(rng, 4, 16384);
    const char *addrs[3];
    KvWriter w = { 0 };
    GThread *thread;
    ColoPair pair;
    QmpTestProc *victim, *survivor;
    bool failed;
    uint64_t at_kill;

    assert_non_null(dir);
    paddr = g_strdup_printf("unix:%s/p.sock", dir);
    saddr = g_strdup_printf("unix:%s/s.sock", dir);
    start_pair(&pair, accel, v, dir, delay);
    victim = v->kill_secondary ? pair.secondary : pair.primary;
    survivor = v->kill_secondary ? pair.primary : pair.secondary;

    addrs[0] = paddr;
    addrs[1] = v->kill_secondary ? NULL : saddr;
    addrs[2] = NULL;
    g_mutex_init(&w.lock);
    g_cond_init(&w.progress);
    w.acked = g_new0(uint32_t, KV_KEYS);
    w.next = (uint64_t)round * 100000;
    w.batch = v->diverges ? 1 : KV_BATCH;
    w.client = kv_client_new(addrs, KV_REPLY_MS);
    assert_non_null(w.client);
    thread = g_thread_new("kv-writer", kv_writer_thread, &w);

    kv_writer_wait(&w, before);
    if (when == KILL_AT_STOP) {
        /* The next checkpoint: kill the moment the primary stops. */
        qmptest_auto_json json_t *stop = NULL;

        colo_drain_events(pair.primary, "STOP");
        stop = qmptest_wait_event(qmptest_client(pair.primary), "STOP",
                                  COLO_TIMEOUT_MS);
        assert_non_null(stop);
    } else if (when == KILL_MID_CHECKPOINT) {
        /*
         * With the heartbeat silenced only checkpoints cross the link:
         * freeze it stall_at bytes into the next one (or a later one),
         * so the victim dies with a checkpoint certainly half sent.
         */
        fault_proxy_stall_after(pair.proxy, FAULT_DIR_FORWARD,
                                fault_proxy_bytes(pair.proxy,
                                                  FAULT_DIR_FORWARD) +
                                stall_at, FAULT_STALL_BOTH);
        assert_true(fault_proxy_wait_stalled(pair.proxy, FAULT_DIR_FORWARD,
                                             COLO_TIMEOUT_MS));
    }
    if (!v->kill_secondary) {
        qmptest_auto_json json_t *st = compare_stats(pair.primary);

        if (!strcmp(v->mode, "compare") && !v->diverges) {
            assert_true(stat_int(st, "released-match") > 0);
        }
        if (v->diverges) {
            assert_true(stat_int(st, "checkpoints-divergence") > 0);
        }
    }
    qmptest_kill(victim);
    at_kill = kv_writer_acks(&w, &failed);
    g_printerr("# round %u: %s, delay %" PRIu64 " ms, killed the %s %s "
               "after %" PRIu64 " writes\n", round, v->name, delay,
               v->kill_secondary ? "secondary" : "primary",
               kill_moment_names[when], at_kill);
    colo_failover(survivor, v->kill_secondary ? "primary" : "secondary",
                  NULL);

    /* The service goes on, on the survivor. */
    kv_writer_wait(&w, at_kill + 4 * KV_BATCH);
    g_atomic_int_set(&w.stop, 1);
    g_thread_join(thread);
    assert_false(w.failed);
    if (!v->kill_secondary) {
        assert_true(kv_client_reconnects(w.client) > 0);
    } else {
        qmptest_auto_json json_t *st = compare_stats(pair.primary);

        assert_false(json_is_true(json_object_get(st, "active")));
        assert_int_equal(stat_int(st, "held"), 0);
    }
    /* The same client: the service takes one connection at a time. */
    kv_verify(&w);

    kv_client_free(w.client);
    g_free(w.acked);
    g_free(w.failure);
    g_mutex_clear(&w.lock);
    g_cond_clear(&w.progress);
    if (v->kill_secondary) {
        colo_quit_clean(&pair.primary);
    } else {
        colo_quit_clean(&pair.secondary);
    }
    colo_pair_free(&pair);
    remove_socket_dir(dir);
}

static unsigned rounds(void)
{
    const char *env = g_getenv("COLO_PROXY_ROUNDS");

    return env ? MAX(1, atoi(env)) : 5;
}

static GRand *seeded_rand(const char *what)
{
    const char *env = g_getenv("COLO_PROXY_SEED");
    guint32 seed = env ? (guint32)g_ascii_strtoull(env, NULL, 0)
                       : (guint32)g_get_real_time();

    g_printerr("# %s: seed %" PRIu32 " (COLO_PROXY_SEED=%" PRIu32
               " repeats it)\n", what, seed, seed);
    return g_rand_new_with_seed(seed);
}

static void run_variant(void **state, const ProxyVariant *v)
{
    const char *accel = accel_test_accel(state);
    g_autoptr(GRand) rng = seeded_rand(v->name);

    for (unsigned r = 0; r < rounds(); r++) {
        run_round(accel, v, rng, r);
    }
}

static void test_compare_primary_killed(void **state)
{
    static const ProxyVariant v = {
        "compare, primary killed", "compare", "kv.elf", false, false,
    };

    run_variant(state, &v);
}

static void test_compare_secondary_killed(void **state)
{
    static const ProxyVariant v = {
        "compare, secondary killed", "compare", "kv.elf", true, false,
    };

    run_variant(state, &v);
}

static void test_buffer_primary_killed(void **state)
{
    static const ProxyVariant v = {
        "buffer, primary killed", "buffer", "kv.elf", false, false,
    };

    run_variant(state, &v);
}

static void test_diverging_guest(void **state)
{
    static const ProxyVariant v = {
        "diverging guest, primary killed", "compare", "kv-diverge.elf",
        false, true,
    };

    run_variant(state, &v);
}

/*
 * A lean secondary (x-colo-lean) with a guest that diverges: every
 * checkpoint must also carry back the pages the secondary's own guest
 * wrote (its counter), and the survivor must still hold every
 * acknowledged write.
 */
static void test_lean_diverging_guest(void **state)
{
    static const ProxyVariant v = {
        "lean secondary, diverging guest, primary killed", "compare",
        "kv-diverge.elf", false, true, true,
    };

    run_variant(state, &v);
}

static void test_lean_secondary_killed(void **state)
{
    static const ProxyVariant v = {
        "lean secondary, compare, secondary killed", "compare", "kv.elf",
        true, false, true,
    };

    run_variant(state, &v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_primary_killed),
        cmocka_unit_test(test_compare_secondary_killed),
        cmocka_unit_test(test_buffer_primary_killed),
        cmocka_unit_test(test_diverging_guest),
        cmocka_unit_test(test_lean_diverging_guest),
        cmocka_unit_test(test_lean_secondary_killed),
    };

    return accel_test_run_group("colo-proxy", tests, G_N_ELEMENTS(tests),
                                NULL, NULL);
}
