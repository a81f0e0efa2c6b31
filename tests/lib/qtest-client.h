/*
 * A qtest client for tests that spawn colo-vm: read and write guest RAM
 * and ports, and watch dirty logging, over the line protocol of
 * docs/qtest.md.
 *
 * Start the process with qtest_start() (or with qmptest_start() and
 * QTEST_ARGS in the arguments, then qtest_connect_proc()).  Every
 * request waits for its reply line with a deadline.  Failures (a FAIL
 * reply, a timeout, the connection or the process going away) are
 * returned as false / NULL and explained on stderr with the request
 * that failed; the reply line stays available in qtest_last_reply().
 * After a timeout the client sends nothing more: a late reply would be
 * taken for the answer to the next request.
 *
 * The server serves one connection at a time; close one client before
 * connecting another to the same socket.
 *
 * Example:
 *     QmpTestProc *vm;
 *     g_autoptr(QtestClient) qt = qtest_start("-m 64M", &vm);
 *     uint32_t v;
 *     assert_true(qtest_writel(qt, 0x1000, 0xdeadbeef));
 *     assert_true(qtest_readl(qt, 0x1000, &v));
 *     assert_int_equal(v, 0xdeadbeef);
 *     qmptest_free(vm);
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_LIB_QTEST_CLIENT_H
#define TESTS_LIB_QTEST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "qmp-test.h"

/* Arguments that give colo-vm the qtest accelerator and socket. */
#define QTEST_SOCKET_NAME "qtest.sock"
#define QTEST_ARGS \
    "-accel qtest -qtest unix:@TMPDIR@/" QTEST_SOCKET_NAME \
    ",server=on,wait=off"

/* Largest access the server allows in one request. */
#define QTEST_CLIENT_MAX_ACCESS (64 * 1024 * 1024)
/* Guest page size, the unit of dirty logging. */
#define QTEST_CLIENT_PAGE_SIZE 4096
/* Most page indices one dirty_pages reply lists. */
#define QTEST_CLIENT_MAX_DIRTY_LISTED 4096

typedef struct QtestClient QtestClient;

/*
 * Start colo-vm with QTEST_ARGS followed by @extra_args (may be NULL)
 * and the usual QMP socket, and connect to both.  *@proc receives the
 * process (the caller frees it with qmptest_free()).  NULL on failure,
 * with *@proc NULL too.
 */
QtestClient *qtest_start(const char *extra_args, QmpTestProc **proc);

/*
 * Connect to the unix socket @path ("unix:" prefix optional), retrying
 * until it exists or @timeout_ms pass.  @proc (may be NULL) is watched
 * while waiting: its output is collected and its exit ends the wait.
 */
QtestClient *qtest_connect(QmpTestProc *proc, const char *path,
                           int timeout_ms);
/* Connect to <tmpdir>/QTEST_SOCKET_NAME of @proc. */
QtestClient *qtest_connect_proc(QmpTestProc *proc);
/* Close the connection.  NULL is allowed. */
void qtest_client_free(QtestClient *qt);

/* Deadline of each request (default QMPTEST_TIMEOUT_MS). */
void qtest_set_timeout(QtestClient *qt, int timeout_ms);

/*
 * Send one request line (printf-formatted, the newline is added) and
 * return its reply line without the newline, "OK..." or "FAIL..."
 * (caller frees); NULL on timeout or end of connection.
 */
char *qtest_cmd(QtestClient *qt, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Send bytes exactly as given (malformed or partial requests). */
bool qtest_send_raw(QtestClient *qt, const void *buf, size_t len);
/* Wait for the next reply line (caller frees); NULL on timeout/EOF. */
char *qtest_wait_reply(QtestClient *qt, int timeout_ms);
/*
 * As qtest_cmd(), but the reply must start with "OK": returns what
 * follows "OK" and its blank ("" for a bare "OK"), borrowed until the
 * next request; NULL (explained on stderr) otherwise.
 */
const char *qtest_cmd_ok(QtestClient *qt, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
/* The last reply line received (borrowed), or NULL. */
const char *qtest_last_reply(const QtestClient *qt);

/* Guest RAM accesses of 1, 2, 4 and 8 bytes, little-endian. */
bool qtest_readb(QtestClient *qt, uint64_t addr, uint8_t *val);
bool qtest_readw(QtestClient *qt, uint64_t addr, uint16_t *val);
bool qtest_readl(QtestClient *qt, uint64_t addr, uint32_t *val);
bool qtest_readq(QtestClient *qt, uint64_t addr, uint64_t *val);
bool qtest_writeb(QtestClient *qt, uint64_t addr, uint8_t val);
bool qtest_writew(QtestClient *qt, uint64_t addr, uint16_t val);
bool qtest_writel(QtestClient *qt, uint64_t addr, uint32_t val);
bool qtest_writeq(QtestClient *qt, uint64_t addr, uint64_t val);

/*
 * Copy guest RAM out or in, any length: the transfer is split into
 * requests the server accepts.  memread/memwrite use the hex commands
 * (read, write), bufread/bufwrite the base64 ones (b64read, b64write).
 */
bool qtest_memread(QtestClient *qt, uint64_t addr, void *buf, size_t len);
bool qtest_memwrite(QtestClient *qt, uint64_t addr, const void *buf,
                    size_t len);
bool qtest_bufread(QtestClient *qt, uint64_t addr, void *buf, size_t len);
bool qtest_bufwrite(QtestClient *qt, uint64_t addr, const void *buf,
                    size_t len);
bool qtest_memset(QtestClient *qt, uint64_t addr, uint8_t val,
                  uint64_t len);

/* Port I/O through the machine's devices. */
bool qtest_inb(QtestClient *qt, uint16_t port, uint8_t *val);
bool qtest_inw(QtestClient *qt, uint16_t port, uint16_t *val);
bool qtest_inl(QtestClient *qt, uint16_t port, uint32_t *val);
bool qtest_outb(QtestClient *qt, uint16_t port, uint8_t val);
bool qtest_outw(QtestClient *qt, uint16_t port, uint16_t val);
bool qtest_outl(QtestClient *qt, uint16_t port, uint32_t val);

/* Dirty logging: start, stop, or merge the accelerator's log. */
bool qtest_dirty_log_start(QtestClient *qt);
bool qtest_dirty_log_stop(QtestClient *qt);
bool qtest_dirty_log_sync(QtestClient *qt);
/*
 * Dirty pages of [addr, addr + len) (page aligned, inside one RAM
 * block): *@count gets the exact number; @pages (may be NULL) the page
 * indices relative to @addr the server listed, at most 4096, ascending,
 * as a GArray of uint64_t (caller frees).
 */
bool qtest_dirty_pages(QtestClient *qt, uint64_t addr, uint64_t len,
                       uint64_t *count, GArray **pages);
/*
 * Every dirty page of [addr, addr + len), however many: asks again past
 * the last page listed until the count is reached.  GArray of uint64_t
 * page indices relative to @addr (caller frees); NULL on failure.
 */
GArray *qtest_dirty_pages_all(QtestClient *qt, uint64_t addr, uint64_t len);
/* Mark the pages of [addr, addr + len) clean. */
bool qtest_dirty_clear(QtestClient *qt, uint64_t addr, uint64_t len);

/*
 * Compare [addr, addr + len) of the guest RAM of two machines (say the
 * two ends of a migration).  Returns 0 when equal, 1 when they differ
 * (*@first_diff, may be NULL, gets the address of the first differing
 * byte, and the differing page is reported on stderr), -1 when a read
 * failed.
 */
int qtest_ram_compare(QtestClient *a, QtestClient *b, uint64_t addr,
                      uint64_t len, uint64_t *first_diff);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(QtestClient, qtest_client_free)

#endif /* TESTS_LIB_QTEST_CLIENT_H */
