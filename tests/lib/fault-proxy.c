/*
 * A TCP proxy on 127.0.0.1 that can break the connection it carries.
 *
 * One thread does everything with poll(): accept, connect, forward.  Each
 * direction has a small buffer; bytes count as delivered once written to
 * the far side, which is what the cut limits are about.  The test side
 * only touches the shared state under the mutex and wakes the thread
 * through a pipe.  A stalled direction is simply left out of the poll
 * set: its socket buffers fill up and stay full, and nothing is closed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "fault-proxy.h"

#define PROXY_BUF_SIZE (64 * 1024)
#define NO_LIMIT UINT64_MAX

#define MAX_PATCHES 8

typedef struct Patch {
    uint64_t offset;
    size_t len;
    uint8_t bytes[16];
} Patch;

typedef struct Flow {
    int from, to;                /* fds, borrowed from FaultProxy */
    uint8_t buf[PROXY_BUF_SIZE];
    size_t head, tail;           /* pending bytes are buf[head, tail) */
    bool eof;                    /* @from reached end of stream */
    bool done;                   /* eof seen and everything delivered */
    uint64_t delivered;          /* under the mutex */
    uint64_t limit;              /* under the mutex */
    GByteArray *copy;            /* under the mutex; NULL unless recording */
    Patch patch[MAX_PATCHES];    /* under the mutex */
    unsigned npatches;
    bool stalled;                /* under the mutex: forwards no more */
} Flow;

struct FaultProxy {
    GThread *thread;
    int listen_fd, client_fd, target_fd;
    int wake[2];                 /* pipe: the test pokes the thread */
    char *target_host, *target_port;
    char *uri;

    GMutex lock;
    GCond changed;
    bool cut_requested;
    bool quit;
    bool closed;
    bool was_cut;
    Flow flow[FAULT_DIR__MAX];
    /* A pending stall (under the mutex): @mask once @dir reached @at. */
    bool stall_armed;
    FaultDir stall_dir;
    uint64_t stall_at;
    unsigned stall_mask;
};

/* Under the lock: a pending stall whose trigger was reached starts. */
static void stall_check(FaultProxy *p)
{
    if (!p->stall_armed || p->flow[p->stall_dir].delivered < p->stall_at) {
        return;
    }
    for (int d = 0; d < FAULT_DIR__MAX; d++) {
        if (p->stall_mask & (1u << d)) {
            p->flow[d].stalled = true;
        }
    }
    p->stall_armed = false;
    g_cond_broadcast(&p->changed);
}

/*
 * Under the lock: how many more bytes @f may deliver before a pending
 * stall of its own direction stops it (UINT64_MAX: no such stall).
 */
static uint64_t stall_room(FaultProxy *p, Flow *f)
{
    if (!p->stall_armed || &p->flow[p->stall_dir] != f ||
        !(p->stall_mask & (1u << p->stall_dir))) {
        return NO_LIMIT;
    }
    return p->stall_at > f->delivered ? p->stall_at - f->delivered : 0;
}

static void wake_thread(FaultProxy *p)
{
    ssize_t n;

    do {
        n = write(p->wake[1], "x", 1);
    } while (n < 0 && errno == EINTR);
}

static void drain_wake(FaultProxy *p)
{
    char buf[64];

    while (read(p->wake[0], buf, sizeof(buf)) > 0) {
        /* nothing: only the wake-up matters */
    }
}

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int connect_target(FaultProxy *p)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    int fd = -1;
    int rc = getaddrinfo(p->target_host, p->target_port, &hints, &res);

    if (rc) {
        g_printerr("fault-proxy: %s:%s: %s\n", p->target_host,
                   p->target_port, gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        g_printerr("fault-proxy: cannot connect to %s:%s: %s\n",
                   p->target_host, p->target_port, strerror(errno));
    }
    return fd;
}

/* Close both sides; the thread's caller holds no lock. */
static void close_both(FaultProxy *p, bool by_request)
{
    int fds[2] = { p->client_fd, p->target_fd };

    for (int i = 0; i < 2; i++) {
        if (fds[i] >= 0) {
            shutdown(fds[i], SHUT_RDWR);
            close(fds[i]);
        }
    }
    p->client_fd = p->target_fd = -1;
    g_mutex_lock(&p->lock);
    p->closed = true;
    p->was_cut = by_request;
    g_cond_broadcast(&p->changed);
    g_mutex_unlock(&p->lock);
}

/* How many more bytes @f may deliver (beyond those pending). */
static size_t room_for(FaultProxy *p, Flow *f)
{
    size_t room = PROXY_BUF_SIZE - f->tail;
    uint64_t allowed;

    uint64_t stall;

    g_mutex_lock(&p->lock);
    allowed = f->limit == NO_LIMIT ? NO_LIMIT :
              f->limit > f->delivered + (f->tail - f->head) ?
              f->limit - f->delivered - (f->tail - f->head) : 0;
    stall = stall_room(p, f);
    if (stall != NO_LIMIT) {
        stall = stall > f->tail - f->head ? stall - (f->tail - f->head) : 0;
        allowed = MIN(allowed, stall);
    }
    g_mutex_unlock(&p->lock);
    return allowed < room ? allowed : room;
}

/* Is @f held back by a stall (in force, or pending at its limit)? */
static bool flow_stalled(FaultProxy *p, Flow *f)
{
    bool stalled;

    g_mutex_lock(&p->lock);
    stall_check(p);
    stalled = f->stalled || stall_room(p, f) == 0;
    g_mutex_unlock(&p->lock);
    return stalled;
}

/* Overwrite the parts of the @n bytes just read at buf[tail] asked for. */
static void apply_patches(FaultProxy *p, Flow *f, size_t n)
{
    uint64_t start, end;

    g_mutex_lock(&p->lock);
    start = f->delivered + (f->tail - f->head);
    end = start + n;
    for (unsigned i = 0; i < f->npatches; i++) {
        Patch *pt = &f->patch[i];

        for (size_t k = 0; k < pt->len; k++) {
            uint64_t at = pt->offset + k;

            if (at >= start && at < end) {
                f->buf[f->tail + (at - start)] = pt->bytes[k];
            }
        }
    }
    g_mutex_unlock(&p->lock);
}

/* Read what @f may take; false when the connection must end now. */
static bool flow_read(FaultProxy *p, Flow *f, bool *cut)
{
    size_t room;
    ssize_t n;

    if (f->head == f->tail) {
        f->head = f->tail = 0;
    }
    room = room_for(p, f);
    if (room == 0) {
        if (flow_stalled(p, f)) {
            return true;
        }
        /* At the limit with more arriving: the peer vanishes here. */
        if (f->head == f->tail) {
            *cut = true;
            return false;
        }
        return true;
    }
    n = read(f->from, f->buf + f->tail, room);
    if (n > 0) {
        apply_patches(p, f, n);
        f->tail += n;
    } else if (n == 0) {
        f->eof = true;
    } else if (errno != EAGAIN && errno != EINTR) {
        return false;
    }
    return true;
}

static bool flow_write(FaultProxy *p, Flow *f, bool *cut)
{
    size_t len = f->tail - f->head;
    ssize_t n;

    /* The limit may have been lowered below what is already buffered. */
    g_mutex_lock(&p->lock);
    if (f->limit != NO_LIMIT && f->delivered + len > f->limit) {
        len = f->limit > f->delivered ? f->limit - f->delivered : 0;
    }
    if (stall_room(p, f) < len) {
        len = stall_room(p, f);
        if (len == 0) {
            /* Held at the stall point: not a cut. */
            stall_check(p);
            g_mutex_unlock(&p->lock);
            return true;
        }
    }
    g_mutex_unlock(&p->lock);
    if (len == 0) {
        *cut = true;
        return false;
    }
    n = write(f->to, f->buf + f->head, len);
    if (n < 0) {
        return errno == EAGAIN || errno == EINTR;
    }
    g_mutex_lock(&p->lock);
    if (f->copy) {
        g_byte_array_append(f->copy, f->buf + f->head, n);
    }
    f->delivered += n;
    stall_check(p);
    g_cond_broadcast(&p->changed);
    g_mutex_unlock(&p->lock);
    f->head += n;
    return true;
}

/* Poll-driven forwarding until the connection ends or is cut. */
static void forward(FaultProxy *p)
{
    for (;;) {
        struct pollfd fds[5];
        int nfds = 1, idx[FAULT_DIR__MAX][2];
        bool cut = false, stop;

        g_mutex_lock(&p->lock);
        stop = p->quit || p->cut_requested;
        g_mutex_unlock(&p->lock);
        if (stop) {
            close_both(p, true);
            return;
        }
        fds[0] = (struct pollfd){ .fd = p->wake[0], .events = POLLIN };
        for (int d = 0; d < FAULT_DIR__MAX; d++) {
            Flow *f = &p->flow[d];

            idx[d][0] = idx[d][1] = -1;
            if (flow_stalled(p, f)) {
                continue;       /* left out of the poll set */
            }
            if (f->head == f->tail) {
                /* Empty: the whole buffer is free again. */
                f->head = f->tail = 0;
            }
            if (f->head == f->tail && f->eof && !f->done) {
                f->done = true;
                shutdown(f->to, SHUT_WR);
            }
            if (!f->eof && f->tail < PROXY_BUF_SIZE) {
                idx[d][0] = nfds;
                fds[nfds++] = (struct pollfd){ .fd = f->from,
                                               .events = POLLIN };
            }
            if (f->head < f->tail) {
                idx[d][1] = nfds;
                fds[nfds++] = (struct pollfd){ .fd = f->to,
                                               .events = POLLOUT };
            }
        }
        if (p->flow[0].done && p->flow[1].done) {
            close_both(p, false);
            return;
        }
        if (poll(fds, nfds, -1) < 0 && errno != EINTR) {
            close_both(p, false);
            return;
        }
        if (fds[0].revents) {
            drain_wake(p);
        }
        for (int d = 0; d < FAULT_DIR__MAX; d++) {
            Flow *f = &p->flow[d];
            bool ok = true;

            if (idx[d][1] >= 0 && fds[idx[d][1]].revents) {
                ok = flow_write(p, f, &cut);
            }
            if (ok && idx[d][0] >= 0 && fds[idx[d][0]].revents) {
                ok = flow_read(p, f, &cut);
            }
            if (!ok) {
                close_both(p, cut);
                return;
            }
        }
    }
}

static void *proxy_thread(void *opaque)
{
    FaultProxy *p = opaque;

    for (;;) {
        struct pollfd fds[2] = {
            { .fd = p->wake[0], .events = POLLIN },
            { .fd = p->listen_fd, .events = POLLIN },
        };
        bool stop;

        g_mutex_lock(&p->lock);
        stop = p->quit || p->cut_requested;
        g_mutex_unlock(&p->lock);
        if (stop) {
            close_both(p, true);
            return NULL;
        }
        if (poll(fds, 2, -1) < 0 && errno != EINTR) {
            break;
        }
        if (fds[0].revents) {
            drain_wake(p);
        }
        if (fds[1].revents) {
            p->client_fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (p->client_fd >= 0) {
                break;
            }
        }
    }
    if (p->client_fd < 0) {
        close_both(p, false);
        return NULL;
    }
    p->target_fd = connect_target(p);
    if (p->target_fd < 0) {
        close_both(p, false);
        return NULL;
    }
    set_nonblock(p->client_fd);
    set_nonblock(p->target_fd);
    setsockopt(p->client_fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
               sizeof(int));
    setsockopt(p->target_fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
               sizeof(int));
    p->flow[FAULT_DIR_FORWARD].from = p->client_fd;
    p->flow[FAULT_DIR_FORWARD].to = p->target_fd;
    p->flow[FAULT_DIR_BACKWARD].from = p->target_fd;
    p->flow[FAULT_DIR_BACKWARD].to = p->client_fd;
    forward(p);
    return NULL;
}

static bool parse_target(FaultProxy *p, const char *target)
{
    const char *hp, *colon;

    if (!g_str_has_prefix(target, "tcp:")) {
        g_printerr("fault-proxy: target '%s' is not tcp:HOST:PORT\n", target);
        return false;
    }
    hp = target + 4;
    colon = strrchr(hp, ':');
    if (!colon || colon == hp || !colon[1]) {
        g_printerr("fault-proxy: target '%s' has no port\n", target);
        return false;
    }
    if (hp[0] == '[' && colon[-1] == ']') {
        p->target_host = g_strndup(hp + 1, colon - hp - 2);
    } else {
        p->target_host = g_strndup(hp, colon - hp);
    }
    p->target_port = g_strdup(colon + 1);
    return true;
}

static bool open_listener(FaultProxy *p)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);

    p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->listen_fd < 0 ||
        bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(p->listen_fd, 1) < 0 ||
        getsockname(p->listen_fd, (struct sockaddr *)&sa, &len) < 0) {
        g_printerr("fault-proxy: cannot listen: %s\n", strerror(errno));
        return false;
    }
    p->uri = g_strdup_printf("tcp:127.0.0.1:%u", ntohs(sa.sin_port));
    return true;
}

FaultProxy *fault_proxy_new(const char *target, bool record)
{
    FaultProxy *p = g_new0(FaultProxy, 1);

    p->listen_fd = p->client_fd = p->target_fd = -1;
    p->wake[0] = p->wake[1] = -1;
    g_mutex_init(&p->lock);
    g_cond_init(&p->changed);
    for (int d = 0; d < FAULT_DIR__MAX; d++) {
        p->flow[d].from = p->flow[d].to = -1;
        p->flow[d].limit = NO_LIMIT;
        p->flow[d].copy = record ? g_byte_array_new() : NULL;
    }
    if (!parse_target(p, target) || !open_listener(p) ||
        pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        fault_proxy_free(p);
        return NULL;
    }
    p->thread = g_thread_new("fault-proxy", proxy_thread, p);
    return p;
}

void fault_proxy_free(FaultProxy *p)
{
    if (!p) {
        return;
    }
    if (p->thread) {
        g_mutex_lock(&p->lock);
        p->quit = true;
        g_mutex_unlock(&p->lock);
        wake_thread(p);
        g_thread_join(p->thread);
    }
    for (int i = 0; i < 2; i++) {
        if (p->wake[i] >= 0) {
            close(p->wake[i]);
        }
    }
    if (p->listen_fd >= 0) {
        close(p->listen_fd);
    }
    for (int d = 0; d < FAULT_DIR__MAX; d++) {
        if (p->flow[d].copy) {
            g_byte_array_unref(p->flow[d].copy);
        }
    }
    g_mutex_clear(&p->lock);
    g_cond_clear(&p->changed);
    g_free(p->target_host);
    g_free(p->target_port);
    g_free(p->uri);
    g_free(p);
}

const char *fault_proxy_uri(const FaultProxy *p)
{
    return p->uri;
}

void fault_proxy_cut_after(FaultProxy *p, FaultDir dir, uint64_t nbytes)
{
    g_mutex_lock(&p->lock);
    p->flow[dir].limit = nbytes;
    if (p->flow[dir].delivered > nbytes) {
        p->cut_requested = true;
    }
    g_mutex_unlock(&p->lock);
    wake_thread(p);
}

void fault_proxy_corrupt(FaultProxy *p, FaultDir dir, uint64_t offset,
                         const void *bytes, size_t len)
{
    Flow *f = &p->flow[dir];

    g_assert(len <= sizeof(f->patch[0].bytes));
    g_mutex_lock(&p->lock);
    g_assert(f->npatches < MAX_PATCHES);
    f->patch[f->npatches].offset = offset;
    f->patch[f->npatches].len = len;
    memcpy(f->patch[f->npatches].bytes, bytes, len);
    f->npatches++;
    g_mutex_unlock(&p->lock);
}

void fault_proxy_cut_now(FaultProxy *p)
{
    g_mutex_lock(&p->lock);
    p->cut_requested = true;
    g_mutex_unlock(&p->lock);
    wake_thread(p);
}

void fault_proxy_stall_now(FaultProxy *p, unsigned dirs)
{
    g_mutex_lock(&p->lock);
    for (int d = 0; d < FAULT_DIR__MAX; d++) {
        if (dirs & (1u << d)) {
            p->flow[d].stalled = true;
        }
    }
    g_cond_broadcast(&p->changed);
    g_mutex_unlock(&p->lock);
    wake_thread(p);
}

void fault_proxy_stall_after(FaultProxy *p, FaultDir dir, uint64_t nbytes,
                             unsigned dirs)
{
    g_mutex_lock(&p->lock);
    g_assert(!p->stall_armed);
    p->stall_dir = dir;
    p->stall_at = nbytes;
    p->stall_mask = dirs;
    p->stall_armed = true;
    stall_check(p);
    g_mutex_unlock(&p->lock);
    wake_thread(p);
}

bool fault_proxy_wait_stalled(FaultProxy *p, FaultDir dir, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    bool ok;

    g_mutex_lock(&p->lock);
    while (!p->flow[dir].stalled && !p->closed &&
           g_cond_wait_until(&p->changed, &p->lock, end)) {
        /* woken: check again */
    }
    ok = p->flow[dir].stalled;
    g_mutex_unlock(&p->lock);
    return ok;
}

uint64_t fault_proxy_bytes(FaultProxy *p, FaultDir dir)
{
    uint64_t n;

    g_mutex_lock(&p->lock);
    n = p->flow[dir].delivered;
    g_mutex_unlock(&p->lock);
    return n;
}

bool fault_proxy_is_closed(FaultProxy *p)
{
    bool closed;

    g_mutex_lock(&p->lock);
    closed = p->closed;
    g_mutex_unlock(&p->lock);
    return closed;
}

bool fault_proxy_was_cut(FaultProxy *p)
{
    bool cut;

    g_mutex_lock(&p->lock);
    cut = p->was_cut;
    g_mutex_unlock(&p->lock);
    return cut;
}

bool fault_proxy_wait_bytes(FaultProxy *p, FaultDir dir, uint64_t nbytes,
                            int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    bool ok;

    g_mutex_lock(&p->lock);
    while (p->flow[dir].delivered < nbytes && !p->closed &&
           g_cond_wait_until(&p->changed, &p->lock, end)) {
        /* woken: check again */
    }
    ok = p->flow[dir].delivered >= nbytes;
    g_mutex_unlock(&p->lock);
    return ok;
}

bool fault_proxy_wait_closed(FaultProxy *p, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    bool ok;

    g_mutex_lock(&p->lock);
    while (!p->closed && g_cond_wait_until(&p->changed, &p->lock, end)) {
        /* woken: check again */
    }
    ok = p->closed;
    g_mutex_unlock(&p->lock);
    return ok;
}

GBytes *fault_proxy_data(FaultProxy *p, FaultDir dir)
{
    GBytes *b;

    g_mutex_lock(&p->lock);
    b = p->flow[dir].copy ? g_bytes_new(p->flow[dir].copy->data,
                                        p->flow[dir].copy->len)
                          : g_bytes_new(NULL, 0);
    g_mutex_unlock(&p->lock);
    return b;
}
