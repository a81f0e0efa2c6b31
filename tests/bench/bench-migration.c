/*
 * Migration throughput over loopback tcp, with the bandwidth limit
 * lifted:
 *   - a 1 GiB qtest VM whose every page holds non-zero data (so every
 *     page travels whole), and a 1 GiB VM left all zero (every page is
 *     a ZERO record);
 *   - for scale, a plain copy of the same number of bytes through a
 *     loopback tcp socket between two threads of this process, measured
 *     in the same run.
 *   - memcpy of the same bytes, into memory already touched and into a
 *     fresh memfd mapping (what a destination writing through the
 *     mapping would pay for its page faults).
 * Each figure is printed on its own line.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "migration-helpers.h"
#include "qtest-client.h"

#define RAM_SIZE (1024 * BENCH_MIB)
#define COPY_CHUNK BENCH_MIB

/* ---- the plain socket copy ---- */

typedef struct Copy {
    int fd;
    uint64_t bytes;
    bool ok;
} Copy;

static void *copy_reader(void *opaque)
{
    Copy *c = opaque;
    g_autofree char *buf = g_malloc(COPY_CHUNK);
    uint64_t got = 0;

    while (got < c->bytes) {
        ssize_t n = recv(c->fd, buf, COPY_CHUNK, 0);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return NULL;
        }
        got += n;
    }
    c->ok = true;
    return NULL;
}

static bool copy_write(int fd, uint64_t bytes)
{
    g_autofree char *buf = g_malloc(COPY_CHUNK);

    memset(buf, 0xa5, COPY_CHUNK);
    while (bytes) {
        ssize_t n = send(fd, buf, MIN(bytes, COPY_CHUNK), 0);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        bytes -= n;
    }
    return true;
}

/* A connected pair of loopback tcp sockets. */
static void tcp_pair(int *out, int *in)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &len) < 0 ||
        listen(lfd, 1) < 0) {
        bench_fail("loopback listener: %s", g_strerror(errno));
    }
    *out = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*out < 0 || connect(*out, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        bench_fail("loopback connect: %s", g_strerror(errno));
    }
    *in = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (*in < 0) {
        bench_fail("loopback accept: %s", g_strerror(errno));
    }
    close(lfd);
}

/* Seconds to push @bytes through a loopback tcp connection. */
static double socket_copy(uint64_t bytes)
{
    Copy c = { .bytes = bytes };
    pthread_t reader;
    int out;
    double t0, t;

    tcp_pair(&out, &c.fd);
    t0 = bench_now();
    if (pthread_create(&reader, NULL, copy_reader, &c) != 0) {
        bench_fail("pthread_create");
    }
    if (!copy_write(out, bytes)) {
        bench_fail("loopback send: %s", g_strerror(errno));
    }
    pthread_join(reader, NULL);
    t = bench_now() - t0;
    close(out);
    close(c.fd);
    if (!c.ok) {
        bench_fail("loopback copy ended early");
    }
    return t;
}

/* ---- memcpy ---- */

/* Seconds to copy @bytes page by page into @dst from a 1 MiB source. */
static double memcpy_into(uint8_t *dst, uint64_t bytes)
{
    g_autofree uint8_t *src = g_malloc(COPY_CHUNK);
    double t0;

    memset(src, 0x5a, COPY_CHUNK);
    t0 = bench_now();
    for (uint64_t o = 0; o < bytes; o += 4096) {
        memcpy(dst + o, src + (o % COPY_CHUNK), 4096);
    }
    return bench_now() - t0;
}

static void memcpy_report(uint64_t bytes)
{
    int fd = memfd_create("bench", MFD_CLOEXEC);
    uint8_t *dst;
    double fresh, warm;

    if (fd < 0 || ftruncate(fd, bytes) < 0) {
        bench_fail("memfd: %s", g_strerror(errno));
    }
    dst = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (dst == MAP_FAILED) {
        bench_fail("mmap: %s", g_strerror(errno));
    }
    fresh = memcpy_into(dst, bytes);
    warm = memcpy_into(dst, bytes);
    printf("memcpy: %.1f MB/s\n", bytes / warm / 1e6);
    printf("memcpy into a fresh memfd mapping: %.1f MB/s\n",
           bytes / fresh / 1e6);
    munmap(dst, bytes);
    close(fd);
}

/* ---- the migration ---- */

typedef struct MigResult {
    double wall_s;          /* migrate sent to MIGRATION completed */
    int64_t total_ms;       /* query-migrate's view */
    int64_t downtime_ms;
    /* ram.transferred: the stream but for a few KiB of device state */
    int64_t transferred;
} MigResult;

static int64_t info_int(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_integer(v) ? json_integer_value(v) : -1;
}

static MigResult migrate_vm(bool fill)
{
    QtestClient *src_qt = NULL, *dst_qt = NULL;
    QmpTestProc *src, *dst;
    g_autofree char *uri = NULL;
    qmptest_auto_json json_t *info = NULL;
    MigResult r;
    double t0;

    src = migtest_start_source_qtest("-m 1G", &src_qt);
    dst = migtest_start_dest_qtest("-m 1G", "defer", &dst_qt);
    if (!src || !dst) {
        bench_fail("starting colo-vm -accel qtest -m 1G");
    }
    if (fill && !migtest_fill_ram(src_qt, RAM_SIZE, 7)) {
        bench_fail("filling guest RAM");
    }
    if (!migtest_set_parameter(src, "max-bandwidth",
                               MIGTEST_BANDWIDTH_UNLIMITED)) {
        bench_fail("lifting the bandwidth limit");
    }
    uri = migtest_incoming_tcp(dst);
    if (!uri) {
        bench_fail("migrate-incoming");
    }
    t0 = bench_now();
    if (!migtest_migrate(src, uri) ||
        !migtest_wait_status(src, "completed", 20 * QMPTEST_TIMEOUT_MS)) {
        bench_fail("migration did not complete");
    }
    r.wall_s = bench_now() - t0;
    info = migtest_query(src);
    r.total_ms = info_int(info, "total-time");
    r.downtime_ms = info_int(info, "downtime");
    r.transferred = info_int(json_object_get(info, "ram"), "transferred");
    {
        g_autofree char *end = migtest_wait_end(dst, QMPTEST_TIMEOUT_MS);

        if (g_strcmp0(end, "completed") != 0) {
            bench_fail("destination did not complete");
        }
    }
    qtest_client_free(src_qt);
    qtest_client_free(dst_qt);
    if (qmptest_quit(dst, QMPTEST_TIMEOUT_MS) != 0 ||
        qmptest_quit(src, QMPTEST_TIMEOUT_MS) != 0) {
        bench_fail("colo-vm did not quit cleanly");
    }
    qmptest_free(src);
    qmptest_free(dst);
    return r;
}

static void report(const char *what, const MigResult *r, double copy_mbs)
{
    double secs = MAX(r->total_ms, 1) / 1e3;
    double mbs = r->transferred / secs / 1e6;

    printf("migration, %s: total time %" PRId64 " ms\n", what, r->total_ms);
    printf("migration, %s: downtime %" PRId64 " ms\n", what, r->downtime_ms);
    printf("migration, %s: stream %.1f MiB\n", what,
           r->transferred / (double)BENCH_MIB);
    printf("migration, %s: wall time (migrate to completed) %.3f s\n", what,
           r->wall_s);
    printf("migration, %s: %.1f MB/s (stream bytes / total time)\n", what,
           mbs);
    printf("migration, %s: %.1f MB/s of guest RAM\n", what,
           RAM_SIZE / secs / 1e6);
    if (copy_mbs > 0) {
        printf("migration, %s: %.2f x the loopback socket copy\n", what,
               mbs / copy_mbs);
    }
}

int main(void)
{
    MigResult full, zero;
    double copy_s, copy_mbs;

    full = migrate_vm(true);
    copy_s = socket_copy(full.transferred);
    copy_mbs = full.transferred / copy_s / 1e6;
    printf("loopback socket copy: %.1f MiB in %.3f s, %.1f MB/s\n",
           full.transferred / (double)BENCH_MIB, copy_s, copy_mbs);
    report("1 GiB non-zero", &full, copy_mbs);
    memcpy_report(RAM_SIZE);

    zero = migrate_vm(false);
    report("1 GiB all zero", &zero, 0);
    return 0;
}
