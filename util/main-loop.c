/*
 * The main loop: iteration of the default GMainContext and file
 * descriptor handlers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "util/bql.h"
#include "util/main-loop.h"
#include "main-loop-internal.h"
#include "trace/trace.h"

/*
 * One GSource per watched fd, so that removing a handler is a plain
 * g_source_destroy(): GLib keeps the source alive until a dispatch in
 * progress returns, which is what makes self-removal safe.
 */
typedef struct IOSource {
    GSource source;
    int fd;                 /* written before the source is attached */
    gpointer tag;           /* written before the source is attached */
    IOHandler *fd_read;     /* protected by MainLoopState.io_lock */
    IOHandler *fd_write;    /* protected by MainLoopState.io_lock */
    void *opaque;           /* protected by MainLoopState.io_lock */
} IOSource;

typedef struct MainLoopState {
    /* Written once by main_loop_init() (GOnce), read from any thread. */
    GMainContext *ctx;
    /*
     * Protects: io_sources and each IOSource's handlers and opaque, so
     * that any thread may change a watch while the loop dispatches.
     * Handlers run without it.
     */
    GMutex io_lock;
    GHashTable *io_sources;   /* fd -> IOSource * (referenced) */
    gint quit;                /* atomic */
    gint running;             /* atomic */
} MainLoopState;

static MainLoopState main_loop_state;

GMainContext *main_loop_context(void)
{
    main_loop_init();
    return main_loop_state.ctx;
}

/*
 * Sleep in poll without the BQL, so vCPU threads can handle their exits
 * meanwhile; callbacks are dispatched with it held again.  A thread that
 * never took the BQL (util tests, helper threads) polls as GLib would.
 */
static gint main_loop_poll(GPollFD *fds, guint nfds, gint timeout)
{
    gint ret;

    if (!bql_locked()) {
        return g_poll(fds, nfds, timeout);
    }
    bql_unlock();
    ret = g_poll(fds, nfds, timeout);
    bql_lock();
    return ret;
}

void main_loop_init(void)
{
    static gsize initialized;

    if (g_once_init_enter(&initialized)) {
        MainLoopState *s = &main_loop_state;

        s->ctx = g_main_context_default();
        g_main_context_set_poll_func(s->ctx, main_loop_poll);
        g_mutex_init(&s->io_lock);
        s->io_sources = g_hash_table_new(g_direct_hash, g_direct_equal);
        timer_source_attach(s->ctx);
        bh_source_attach(s->ctx);
        g_once_init_leave(&initialized, 1);
    }
}

void main_loop_wait(bool nonblocking)
{
    g_main_context_iteration(main_loop_context(), !nonblocking);
}

void main_loop_run(void)
{
    MainLoopState *s = &main_loop_state;

    main_loop_init();
    trace_main_loop_run();
    g_atomic_int_set(&s->running, 1);
    while (!g_atomic_int_get(&s->quit)) {
        main_loop_wait(false);
    }
    /*
     * Clear the request only now: a quit that arrives before the loop
     * starts must still end it.
     */
    g_atomic_int_set(&s->running, 0);
    g_atomic_int_set(&s->quit, 0);
}

void main_loop_quit(void)
{
    trace_main_loop_quit();
    g_atomic_int_set(&main_loop_state.quit, 1);
    g_main_context_wakeup(main_loop_context());
}

bool main_loop_is_running(void)
{
    return g_atomic_int_get(&main_loop_state.running) &&
           !g_atomic_int_get(&main_loop_state.quit);
}

#define IO_READ_EVENTS (G_IO_IN | G_IO_HUP | G_IO_ERR)
#define IO_WRITE_EVENTS (G_IO_OUT | G_IO_ERR)

static gboolean io_source_dispatch(GSource *source, GSourceFunc unused,
                                   gpointer unused_data)
{
    IOSource *ios = (IOSource *)source;
    MainLoopState *s = &main_loop_state;
    GIOCondition revents = g_source_query_unix_fd(source, ios->tag);
    IOHandler *handler;
    void *opaque;

    g_mutex_lock(&s->io_lock);
    handler = revents & IO_READ_EVENTS ? ios->fd_read : NULL;
    opaque = ios->opaque;
    g_mutex_unlock(&s->io_lock);
    if (handler) {
        handler(opaque);
    }

    /* The read handler may have removed or replaced this watch. */
    g_mutex_lock(&s->io_lock);
    handler = NULL;
    if (!g_source_is_destroyed(source) && (revents & IO_WRITE_EVENTS)) {
        handler = ios->fd_write;
        opaque = ios->opaque;
    }
    g_mutex_unlock(&s->io_lock);
    if (handler) {
        handler(opaque);
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs io_source_funcs = {
    .dispatch = io_source_dispatch,
};

static GIOCondition io_events(IOHandler *fd_read, IOHandler *fd_write)
{
    return (fd_read ? IO_READ_EVENTS : 0) | (fd_write ? IO_WRITE_EVENTS : 0);
}

static void io_source_remove_locked(MainLoopState *s, int fd)
{
    IOSource *ios = g_hash_table_lookup(s->io_sources, GINT_TO_POINTER(fd));

    if (!ios) {
        return;
    }
    g_hash_table_remove(s->io_sources, GINT_TO_POINTER(fd));
    ios->fd_read = NULL;
    ios->fd_write = NULL;
    g_source_destroy(&ios->source);
    g_source_unref(&ios->source);
}

static void io_source_add_locked(MainLoopState *s, int fd,
                                 IOHandler *fd_read, IOHandler *fd_write,
                                 void *opaque)
{
    IOSource *ios = (IOSource *)g_source_new(&io_source_funcs,
                                             sizeof(IOSource));

    g_source_set_name(&ios->source, "fd-handler");
    ios->fd = fd;
    ios->fd_read = fd_read;
    ios->fd_write = fd_write;
    ios->opaque = opaque;
    ios->tag = g_source_add_unix_fd(&ios->source, fd,
                                    io_events(fd_read, fd_write));
    g_hash_table_insert(s->io_sources, GINT_TO_POINTER(fd), ios);
    g_source_attach(&ios->source, s->ctx);
}

void main_loop_set_fd_handler(int fd, IOHandler *fd_read,
                              IOHandler *fd_write, void *opaque)
{
    MainLoopState *s = &main_loop_state;
    IOSource *ios;

    main_loop_init();
    trace_main_loop_set_fd_handler(fd, fd_read != NULL, fd_write != NULL);
    g_mutex_lock(&s->io_lock);
    ios = g_hash_table_lookup(s->io_sources, GINT_TO_POINTER(fd));
    if (!fd_read && !fd_write) {
        io_source_remove_locked(s, fd);
    } else if (ios) {
        ios->fd_read = fd_read;
        ios->fd_write = fd_write;
        ios->opaque = opaque;
        g_source_modify_unix_fd(&ios->source, ios->tag,
                                io_events(fd_read, fd_write));
    } else {
        io_source_add_locked(s, fd, fd_read, fd_write, opaque);
    }
    g_mutex_unlock(&s->io_lock);
    /* A loop sleeping in another thread must poll the new set of fds. */
    g_main_context_wakeup(s->ctx);
}
