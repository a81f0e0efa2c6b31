/*
 * QMP sessions: one per connected client.
 *
 * Input is cut into top-level JSON values by the splitter, each value is
 * parsed and dispatched in order, and the reply is appended to the
 * session's output buffer, which drains whenever the socket accepts
 * more.  Events go to every session that finished capabilities
 * negotiation.  A session is never freed from inside its own callbacks:
 * closing only unhooks it, and a bottom half frees it afterwards.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monitor/monitor.h"
#include "monitor/json-splitter.h"
#include "monitor-internal.h"
#include "qapi/qapi-commands.h"
#include "qapi/qapi-events.h"
#include "qapi/util.h"
#include "trace/trace.h"
#include "util/bql.h"
#include "util/error-report.h"
#include "util/main-loop.h"
#include "util/sockets.h"

struct MonitorQMP {
    unsigned id;            /* for traces */
    int fd;
    JsonSplitter *splitter;
    GString *out;
    size_t out_sent;        /* bytes at the head of out already written */
    bool negotiated;
    bool oob;
    bool want_write;
    bool dead;
};

/*
 * Every member and every session is protected by the BQL: sessions live
 * in the main loop, and events (sent from any thread) require it too.
 */
typedef struct QmpServerState {
    QmpCommandList *commands;       /* after negotiation */
    QmpCommandList *cap_commands;   /* during negotiation */
    GList *sessions;                /* live sessions */
    GList *dead;                    /* closed, freed by the reaper */
    BH *reaper;
    MonitorQMP *cur;
    unsigned next_id;
} QmpServerState;

static QmpServerState qmp_state;

static void session_read(void *opaque);
static void session_write(void *opaque);

static void reap_dead_sessions(void *opaque)
{
    while (qmp_state.dead) {
        MonitorQMP *mon = qmp_state.dead->data;

        qmp_state.dead = g_list_delete_link(qmp_state.dead, qmp_state.dead);
        json_splitter_free(mon->splitter);
        g_string_free(mon->out, true);
        g_free(mon);
    }
}

static void monitor_qmp_emit(int event, json_t *event_obj);

void monitor_init_qmp(void (*init_marshal)(QmpCommandList *cmds))
{
    const QmpCommand *cap;

    g_assert(!qmp_state.commands);
    qmp_state.commands = qmp_command_list_new();
    init_marshal(qmp_state.commands);
    qapi_event_set_emitter(monitor_qmp_emit);

    /*
     * Before negotiation only qmp_capabilities exists, so that every
     * other request fails the way an unknown command does.
     */
    cap = qmp_find_command(qmp_state.commands, "qmp_capabilities");
    g_assert(cap);
    qmp_state.cap_commands = qmp_command_list_new();
    qmp_register_command(qmp_state.cap_commands, cap->name, cap->fn,
                         cap->options, cap->special_features);
    qmp_state.reaper = bh_new(reap_dead_sessions, NULL);
}

const QmpCommandList *monitor_qmp_commands(void)
{
    return qmp_state.commands;
}

MonitorQMP *monitor_qmp_cur(void)
{
    return qmp_state.cur;
}

bool monitor_qmp_is_negotiated(const MonitorQMP *mon)
{
    return mon->negotiated;
}

void monitor_qmp_enter_command_mode(MonitorQMP *mon, bool oob)
{
    mon->negotiated = true;
    mon->oob = oob;
    trace_qmp_capabilities_negotiated(mon->id, oob);
}

static void session_close(MonitorQMP *mon, const char *reason)
{
    if (mon->dead) {
        return;
    }
    mon->dead = true;
    trace_qmp_client_disconnect(mon->id, reason);
    main_loop_set_fd_handler(mon->fd, NULL, NULL, NULL);
    close(mon->fd);
    mon->fd = -1;
    qmp_state.sessions = g_list_remove(qmp_state.sessions, mon);
    qmp_state.dead = g_list_prepend(qmp_state.dead, mon);
    bh_schedule(qmp_state.reaper);
}

static void session_update_handlers(MonitorQMP *mon)
{
    bool want_write = mon->out->len > mon->out_sent;

    if (!mon->dead && want_write != mon->want_write) {
        main_loop_set_fd_handler(mon->fd, session_read,
                                 want_write ? session_write : NULL, mon);
        mon->want_write = want_write;
    }
}

/* Write what the socket takes now; false if the session was closed. */
static bool session_flush(MonitorQMP *mon)
{
    while (!mon->dead && mon->out->len > mon->out_sent) {
        ssize_t n = send(mon->fd, mon->out->str + mon->out_sent,
                         mon->out->len - mon->out_sent, MSG_NOSIGNAL);

        if (n > 0) {
            mon->out_sent += n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            break;
        } else {
            session_close(mon, n < 0 ? g_strerror(errno) : "write failed");
            return false;
        }
    }
    if (mon->out_sent == mon->out->len) {
        g_string_truncate(mon->out, 0);
        mon->out_sent = 0;
    } else if (mon->out_sent > mon->out->len / 2) {
        /* Drop the written head now and then, not on every write. */
        g_string_erase(mon->out, 0, mon->out_sent);
        mon->out_sent = 0;
    }
    session_update_handlers(mon);
    return !mon->dead;
}

static void session_send_text(MonitorQMP *mon, const char *text)
{
    size_t len = strlen(text);

    if (mon->dead) {
        return;
    }
    if (mon->out->len - mon->out_sent + len + 2 > QMP_OUTPUT_MAX) {
        /* It stopped reading: drop it rather than buffer without end. */
        trace_monitor_output_overflow(mon->id, mon->out->len - mon->out_sent);
        session_close(mon, "output buffer full");
        return;
    }
    g_string_append_len(mon->out, text, len);
    g_string_append(mon->out, "\r\n");
    session_flush(mon);
}

static char *qmp_to_text(json_t *msg)
{
    /* QEMU escapes everything outside ASCII, so do we. */
    return json_dumps(msg, JSON_ENSURE_ASCII);
}

static void session_send_response(MonitorQMP *mon, json_t *rsp)
{
    g_autofree char *text = qmp_to_text(rsp);
    json_t *err = json_object_get(rsp, "error");
    const char *kind = err ? json_string_value(json_object_get(err, "class"))
                           : "return";

    trace_qmp_response(mon->id, kind ? kind : "error");
    if (text) {
        session_send_text(mon, text);
    }
    json_decref(rsp);
}

static void session_send_error(MonitorQMP *mon, Error *err)
{
    trace_monitor_input_error(mon->id, error_get_pretty(err));
    session_send_response(mon, qmp_error_response(err));
}

/*
 * Before negotiation an unknown command (which is every command but
 * qmp_capabilities) gets a hint instead of "not found".  QEMU builds
 * this reply afresh, with "id" first; so do we.
 */
static json_t *fix_negotiation_error(json_t *rsp)
{
    json_t *err = json_object_get(rsp, "error");
    const char *cls = json_string_value(json_object_get(err, "class"));
    json_t *id = json_object_get(rsp, "id");
    json_t *fixed;

    if (g_strcmp0(cls, "CommandNotFound") != 0) {
        return rsp;
    }
    fixed = json_object();
    if (id) {
        json_object_set(fixed, "id", id);
    }
    json_object_set_new(fixed, "error", json_pack(
        "{s: s, s: s}", "class", cls, "desc",
        "Expecting capabilities negotiation with 'qmp_capabilities'"));
    json_decref(rsp);
    return fixed;
}

static void session_dispatch(MonitorQMP *mon, json_t *req)
{
    const char *name = json_string_value(json_object_get(req, "execute"));
    json_t *rsp;

    if (!name) {
        name = json_string_value(json_object_get(req, "exec-oob"));
    }
    trace_qmp_command_dispatch(mon->id, name ? name : "");
    qmp_state.cur = mon;
    if (mon->negotiated) {
        rsp = qmp_dispatch(qmp_state.commands, req, mon->oob);
    } else {
        rsp = fix_negotiation_error(
            qmp_dispatch(qmp_state.cap_commands, req, false));
    }
    qmp_state.cur = NULL;
    if (rsp) {
        session_send_response(mon, rsp);
    }
}

static void session_handle_value(void *opaque, const char *text, size_t len,
                                 Error *err)
{
    MonitorQMP *mon = opaque;
    json_error_t jerr;
    json_t *req;

    if (mon->dead) {
        error_free(err);
        return;
    }
    if (err) {
        session_send_error(mon, err);
        return;
    }
    req = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                     &jerr);
    if (!req) {
        /* jansson may quote raw input bytes: keep the reply valid UTF-8. */
        g_autofree char *why = g_utf8_make_valid(jerr.text, -1);

        error_setg(&err, "JSON parse error, %s", why);
        session_send_error(mon, err);
        return;
    }
    session_dispatch(mon, req);
    json_decref(req);
}

static void session_read(void *opaque)
{
    MonitorQMP *mon = opaque;
    char buf[65536];
    ssize_t n = recv(mon->fd, buf, sizeof(buf), 0);

    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return;
    }
    if (n <= 0) {
        /* A value cut off by the disconnect is simply dropped. */
        session_close(mon, n < 0 ? g_strerror(errno) : "end of input");
        return;
    }
    json_splitter_feed(mon->splitter, buf, n);
}

static void session_write(void *opaque)
{
    session_flush(opaque);
}

/* What the client would get from query-version, wrapped as QEMU does. */
static json_t *qmp_greeting(void)
{
    const QmpCommand *cmd = qmp_find_command(qmp_state.commands,
                                             "query-version");
    json_t *version = NULL;

    cmd->fn(NULL, &version, &error_abort);
    return json_pack("{s: {s: o, s: [s]}}", "QMP", "version", version,
                     "capabilities", "oob");
}

MonitorQMP *monitor_qmp_session_new(int fd, const char *peer)
{
    MonitorQMP *mon = g_new0(MonitorQMP, 1);
    g_autoptr(Error) err = NULL;
    json_t *greeting;
    g_autofree char *text = NULL;

    mon->id = ++qmp_state.next_id;
    mon->fd = fd;
    mon->out = g_string_new("");
    mon->splitter = json_splitter_new(session_handle_value, mon,
                                      JSON_SPLITTER_MAX_SIZE,
                                      JSON_SPLITTER_MAX_DEPTH);
    trace_qmp_client_connect(mon->id, peer);
    if (!socket_set_nonblock(fd, true, &err)) {
        warn_report_err(g_steal_pointer(&err));
    }
    qmp_state.sessions = g_list_append(qmp_state.sessions, mon);
    main_loop_set_fd_handler(fd, session_read, NULL, mon);

    greeting = qmp_greeting();
    text = qmp_to_text(greeting);
    json_decref(greeting);
    session_send_text(mon, text);
    return mon;
}

/* The emitter every qapi_event_send_*() reaches: events need the BQL. */
static void monitor_qmp_emit(int event, json_t *event_obj)
{
    g_autofree char *text = qmp_to_text(event_obj);
    GList *next;

    g_assert(bql_locked());
    trace_qmp_event_emit(qapi_enum_lookup(&QAPIEvent_lookup, event));
    if (!text) {
        return;
    }
    /* Sending may close a session and unlink it: step ahead first. */
    for (GList *l = qmp_state.sessions; l; l = next) {
        MonitorQMP *mon = l->data;

        next = l->next;
        if (mon->negotiated) {
            session_send_text(mon, text);
        }
    }
}

void monitor_qmp_flush_sessions(int timeout_ms)
{
    int64_t deadline = g_get_monotonic_time() + timeout_ms * 1000LL;

    for (;;) {
        g_autofree struct pollfd *pfd = NULL;
        g_autofree MonitorQMP **mons = NULL;
        int n = 0;
        int64_t now = g_get_monotonic_time();

        pfd = g_new(struct pollfd, g_list_length(qmp_state.sessions) + 1);
        mons = g_new(MonitorQMP *, g_list_length(qmp_state.sessions) + 1);
        for (GList *l = qmp_state.sessions; l; l = l->next) {
            MonitorQMP *mon = l->data;

            if (mon->out->len > mon->out_sent) {
                mons[n] = mon;
                pfd[n++] = (struct pollfd){ .fd = mon->fd, .events = POLLOUT };
            }
        }
        if (n == 0 || now >= deadline) {
            return;
        }
        if (poll(pfd, n, (deadline - now + 999) / 1000) < 0 &&
            errno != EINTR) {
            return;
        }
        for (int i = 0; i < n; i++) {
            if (pfd[i].revents) {
                session_flush(mons[i]);
            }
        }
    }
}

void monitor_qmp_close_sessions(void)
{
    while (qmp_state.sessions) {
        session_close(qmp_state.sessions->data, "shutdown");
    }
    reap_dead_sessions(NULL);
}

void monitor_cleanup(void)
{
    monitor_qmp_flush_sessions(2000);
    monitor_qmp_close_sessions();
    monitor_qmp_close_listeners();
    if (qmp_state.reaper) {
        bh_delete(qmp_state.reaper);
        qmp_state.reaper = NULL;
    }
    qapi_event_set_emitter(NULL);
    qmp_command_list_free(qmp_state.cap_commands);
    qmp_command_list_free(qmp_state.commands);
    qmp_state.cap_commands = qmp_state.commands = NULL;
}
