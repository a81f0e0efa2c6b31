/*
 * colo-compare on chardev byte streams: decides when the primary
 * guest's output may reach the client.
 *
 *   primary_in    the chardev of the primary guest's serial port; the
 *                 comparer takes the port's output in-process
 *   secondary_in  records (include/proxy/frame.h) of the secondary
 *                 guest's output, from its filter-redirector
 *   outdev        where released output goes (normally primary_in's
 *                 own backend, the client's connection)
 *
 * Every output byte has a stream position (ChardevStreamState), and
 * both guests start each epoch at the same position: the one saved in
 * the checkpoint that began it.  In compare mode the comparer releases
 * the primary's bytes as soon as the secondary produced the same bytes
 * at the same positions in the same epoch.  At the first difference, or
 * when the oldest held byte waited compare_timeout ms for its match, it
 * asks for a checkpoint and holds all output until the checkpoint is
 * committed; the bytes the checkpoint covers (up to the position cut
 * while the primary was stopped) are then released, because the
 * secondary now continues from the state that produced them.  The
 * secondary's records of older epochs are dropped.  In buffer mode only
 * committed checkpoints release output.
 *
 * So a byte is released only when the secondary can reproduce it: it
 * produced it itself, or it holds the checkpoint that did.  Outside COLO
 * (before it, or after this side took over alone) output passes at once.
 *
 * BQL held throughout (vCPU output, main loop input and timers, COLO
 * events).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "migration/colo.h"
#include "proxy-int.h"
#include "proxy/frame.h"
#include "trace/trace.h"
#include "util/main-loop.h"

/* Output held back beyond this is dropped (the guest never waits). */
#define COMPARE_HELD_MAX        (4 * 1024 * 1024)
/* Secondary output kept ahead of the primary's before reading pauses. */
#define COMPARE_SECONDARY_MAX   (4 * 1024 * 1024)
/* QEMU's defaults, in milliseconds. */
#define COMPARE_TIMEOUT_DEFAULT 3000
#define COMPARE_SCAN_DEFAULT    3000

typedef enum CompareState {
    COMPARE_PASSTHROUGH,    /* not a COLO primary: output goes out */
    COMPARE_MATCHING,       /* releasing what the secondary matches */
    COMPARE_HOLDING,        /* waiting for a checkpoint to commit */
} CompareState;

typedef enum CompareCause {
    CAUSE_NONE,
    CAUSE_DIVERGENCE,
    CAUSE_TIMEOUT,
} CompareCause;

/* When a run of held output was produced. */
typedef struct HeldStamp {
    uint64_t end;           /* stream position after the run */
    int64_t ms;
} HeldStamp;

/* A checkpoint cut while the primary was stopped, not yet committed. */
typedef struct CompareCut {
    uint64_t pos;
    uint32_t epoch;
    CompareCause cause;
} CompareCut;

typedef struct ColoCompare {
    ProxyObject obj;
    Chardev *pri;
    Chardev *sec;           /* NULL in buffer mode without secondary_in */
    Chardev *out;
    ColoCompareMode mode;
    uint64_t timeout_ms;
    uint64_t scan_ms;
    Timer *scan_timer;
    ProxyFrameReader reader;

    CompareState state;
    uint32_t epoch;         /* the epoch both outputs are compared in */
    GByteArray *held;       /* primary output not yet released */
    uint64_t held_base;     /* stream position of held->data[0] */
    bool overflow;          /* held filled up: drop until a commit */
    GArray *stamps;         /* HeldStamp, oldest first */
    GArray *cuts;           /* CompareCut, oldest first */
    CompareCause requested; /* asked for a checkpoint, not yet cut */

    GByteArray *sec_buf;    /* secondary output not yet compared */
    uint64_t sec_base;      /* its stream position */
    uint32_t sec_epoch;     /* its epoch */

    /* x-query-colo-compare */
    uint64_t ckpt_divergence, ckpt_timeout, ckpt_timer;
    uint64_t released_match, released_checkpoint, released_alone;
    uint64_t dropped;
    int64_t last_divergence;    /* -1: none */
} ColoCompare;

static const char *compare_name(const ColoCompare *c)
{
    return c->obj.id;
}

static const char *const compare_state_names[] = {
    [COMPARE_PASSTHROUGH] = "passthrough",
    [COMPARE_MATCHING] = "matching",
    [COMPARE_HOLDING] = "holding",
};

static void compare_set_state(ColoCompare *c, CompareState state)
{
    if (c->state != state) {
        trace_colo_compare_state(compare_name(c),
                                 compare_state_names[c->state],
                                 compare_state_names[state]);
        c->state = state;
    }
}

/* Release the oldest @len held bytes to outdev. */
static void compare_release(ColoCompare *c, size_t len, const char *why,
                            uint64_t *counter)
{
    len = MIN(len, (size_t)c->held->len);
    if (!len) {
        return;
    }
    trace_colo_compare_release(compare_name(c), c->held_base, len, why);
    chardev_write_backend(c->out, c->held->data, len);
    g_byte_array_remove_range(c->held, 0, len);
    c->held_base += len;
    *counter += len;
    while (c->stamps->len &&
           g_array_index(c->stamps, HeldStamp, 0).end <= c->held_base) {
        g_array_remove_index(c->stamps, 0);
    }
}

/*
 * No request while a checkpoint is under way (cut, not yet committed):
 * the secondary's records from before it still arrive and the scan
 * still runs, but what they find is settled by that checkpoint.  The
 * epoch compared is the one it ends: its commit releases the output up
 * to the cut, and the secondary's output past the cut is abandoned.
 * The primary's output past the cut (its guest resumes before the
 * checkpoint is committed) is of the next epoch: it is held, not
 * compared, until the commit.  Asking again would only add a needless
 * checkpoint right after this one.
 */
static void compare_request(ColoCompare *c, CompareCause cause)
{
    if (c->cuts->len) {
        trace_colo_compare_request_covered(compare_name(c),
                                           cause == CAUSE_DIVERGENCE
                                           ? "divergence" : "timeout");
        return;
    }
    if (c->requested == CAUSE_NONE) {
        c->requested = cause;
        trace_colo_compare_request(compare_name(c),
                                   cause == CAUSE_DIVERGENCE ? "divergence"
                                                             : "timeout");
        colo_checkpoint_request();
    }
}

static void compare_diverged(ColoCompare *c, uint64_t pos, const char *why)
{
    trace_colo_compare_divergence(compare_name(c), pos, why);
    c->last_divergence = pos;
    compare_set_state(c, COMPARE_HOLDING);
    compare_request(c, CAUSE_DIVERGENCE);
}

static void compare_reset_secondary(ColoCompare *c, uint32_t epoch,
                                    uint64_t pos)
{
    g_byte_array_set_size(c->sec_buf, 0);
    c->sec_epoch = epoch;
    c->sec_base = pos;
    if (c->sec) {
        chardev_accept_input(c->sec);
    }
}

/*
 * How many of the held bytes belong to the epoch being compared: all of
 * them, or those before the cut of a checkpoint not yet committed.
 */
static size_t compare_held_in_epoch(ColoCompare *c)
{
    uint64_t cut;

    if (!c->cuts->len) {
        return c->held->len;
    }
    cut = g_array_index(c->cuts, CompareCut, 0).pos;
    return cut > c->held_base ? MIN(cut - c->held_base,
                                    (uint64_t)c->held->len) : 0;
}

/* Release what both outputs agree on; stop at the first difference. */
static void compare_match(ColoCompare *c)
{
    size_t n, same = 0;

    if (c->state != COMPARE_MATCHING || c->sec_epoch != c->epoch) {
        return;
    }
    if (c->sec_base < c->held_base) {
        size_t skip = MIN(c->held_base - c->sec_base,
                          (uint64_t)c->sec_buf->len);

        g_byte_array_remove_range(c->sec_buf, 0, skip);
        c->sec_base += skip;
        if (c->sec_base < c->held_base) {
            return;
        }
    }
    if (c->sec_base > c->held_base) {
        compare_diverged(c, c->held_base, "secondary output missing");
        return;
    }
    n = MIN(compare_held_in_epoch(c), c->sec_buf->len);
    while (same < n && c->held->data[same] == c->sec_buf->data[same]) {
        same++;
    }
    if (same) {
        compare_release(c, same, "match", &c->released_match);
        g_byte_array_remove_range(c->sec_buf, 0, same);
        c->sec_base += same;
        chardev_accept_input(c->sec);
    }
    if (same < n) {
        compare_diverged(c, c->held_base, "bytes differ");
    }
}

/* ---- primary output ---- */

static void compare_stamp(ColoCompare *c, uint64_t end)
{
    int64_t now = clock_get_ms(CLOCK_TYPE_REALTIME);
    HeldStamp *last = c->stamps->len ?
        &g_array_index(c->stamps, HeldStamp, c->stamps->len - 1) : NULL;

    if (last && last->ms == now) {
        last->end = end;
    } else {
        HeldStamp st = { .end = end, .ms = now };

        g_array_append_val(c->stamps, st);
    }
}

static bool compare_output(void *opaque, uint64_t pos, const uint8_t *buf,
                           int len)
{
    ColoCompare *c = opaque;

    if (c->state == COMPARE_PASSTHROUGH) {
        chardev_write_backend(c->out, buf, len);
        c->released_alone += len;
        return true;
    }
    if (c->overflow || c->held->len + (size_t)len > COMPARE_HELD_MAX ||
        pos != c->held_base + c->held->len) {
        if (!c->overflow) {
            trace_colo_compare_overflow(compare_name(c), pos, c->held->len);
        }
        c->overflow = true;
        c->dropped += len;
        compare_set_state(c, COMPARE_HOLDING);
        compare_request(c, CAUSE_TIMEOUT);
        return true;
    }
    g_byte_array_append(c->held, buf, len);
    compare_stamp(c, pos + len);
    compare_match(c);
    return true;
}

/* ---- secondary output ---- */

static void compare_record(void *opaque, uint32_t epoch, uint64_t pos,
                           const uint8_t *buf, uint32_t len)
{
    ColoCompare *c = opaque;
    uint64_t end;

    if (c->state == COMPARE_PASSTHROUGH ||
        c->mode == COLO_COMPARE_MODE_BUFFER || epoch < c->epoch) {
        return;     /* nothing to compare, or an abandoned history */
    }
    if (epoch != c->sec_epoch || c->sec_buf->len == 0) {
        if (epoch != c->sec_epoch) {
            trace_colo_compare_realign(compare_name(c), epoch, pos);
        }
        compare_reset_secondary(c, epoch, pos);
    }
    end = c->sec_base + c->sec_buf->len;
    if (pos > end) {
        /* Secondary bytes were lost on the way: they cannot match. */
        if (epoch == c->epoch && c->state == COMPARE_MATCHING) {
            compare_diverged(c, end, "secondary output lost");
        }
        compare_reset_secondary(c, epoch, pos);
        end = pos;
    }
    if (pos + len <= end) {
        return;
    }
    g_byte_array_append(c->sec_buf, buf + (end - pos), pos + len - end);
    compare_match(c);
}

static int compare_can_read(void *opaque)
{
    ColoCompare *c = opaque;

    return c->sec_buf->len < COMPARE_SECONDARY_MAX ? 65536 : 0;
}

static void compare_read(void *opaque, const uint8_t *buf, int size)
{
    ColoCompare *c = opaque;
    bool was_broken = c->reader.broken;

    if (!proxy_frame_reader_feed(&c->reader, buf, size, compare_record, c) &&
        !was_broken) {
        trace_colo_filter_bad_record(compare_name(c), chardev_id(c->sec));
    }
}

static void compare_sec_event(void *opaque, CharEvent event)
{
    ColoCompare *c = opaque;

    proxy_frame_reader_reset(&c->reader);
}

/* ---- checkpoints ---- */

static void compare_start(ColoCompare *c)
{
    ChardevStreamState st;

    chardev_get_stream_state(c->pri, &st);
    c->epoch = st.epoch;
    c->held_base = st.out_pos;
    g_byte_array_set_size(c->held, 0);
    g_array_set_size(c->stamps, 0);
    g_array_set_size(c->cuts, 0);
    c->requested = CAUSE_NONE;
    c->overflow = false;
    compare_reset_secondary(c, st.epoch, st.out_pos);
    compare_set_state(c, c->mode == COLO_COMPARE_MODE_BUFFER
                         ? COMPARE_HOLDING : COMPARE_MATCHING);
    trace_colo_compare_realign(compare_name(c), c->epoch, c->held_base);
}

/* The primary stopped for a checkpoint: it covers output up to here. */
static void compare_cut(ColoCompare *c)
{
    CompareCut cut = { .cause = c->requested };
    ChardevStreamState st;

    cut.epoch = chardev_next_epoch(c->pri);
    chardev_get_stream_state(c->pri, &st);
    cut.pos = st.out_pos;
    g_array_append_val(c->cuts, cut);
    c->requested = CAUSE_NONE;
    trace_colo_compare_cut(compare_name(c), cut.pos, cut.epoch);
}

static void compare_committed(ColoCompare *c)
{
    CompareCut cut;

    if (!c->cuts->len) {
        return;
    }
    cut = g_array_index(c->cuts, CompareCut, 0);
    g_array_remove_index(c->cuts, 0);
    switch (cut.cause) {
    case CAUSE_DIVERGENCE:
        c->ckpt_divergence++;
        break;
    case CAUSE_TIMEOUT:
        c->ckpt_timeout++;
        break;
    default:
        c->ckpt_timer++;
        break;
    }
    if (cut.pos > c->held_base) {
        compare_release(c, MIN(cut.pos - c->held_base,
                               (uint64_t)c->held->len),
                        "checkpoint", &c->released_checkpoint);
    }
    /* Output dropped on overflow leaves a hole: skip to the cut. */
    if (c->held_base < cut.pos) {
        g_byte_array_set_size(c->held, 0);
        g_array_set_size(c->stamps, 0);
        c->held_base = cut.pos;
    }
    c->overflow = false;
    c->epoch = cut.epoch;
    trace_colo_compare_realign(compare_name(c), c->epoch, c->held_base);
    if (c->sec_epoch != c->epoch) {
        compare_reset_secondary(c, c->epoch, c->held_base);
    }
    if (c->mode == COLO_COMPARE_MODE_COMPARE) {
        compare_set_state(c, COMPARE_MATCHING);
        compare_match(c);
    }
}

static void compare_alone(ColoCompare *c)
{
    compare_release(c, c->held->len, "alone", &c->released_alone);
    g_array_set_size(c->cuts, 0);
    c->requested = CAUSE_NONE;
    c->overflow = false;
    compare_set_state(c, COMPARE_PASSTHROUGH);
}

static void compare_colo_event(void *opaque, COLOMode mode, ColoEvent event)
{
    ColoCompare *c = opaque;

    if (mode != COLO_MODE_PRIMARY) {
        return;
    }
    switch (event) {
    case COLO_EVENT_START:
        compare_start(c);
        break;
    case COLO_EVENT_CHECKPOINT:
        if (c->state != COMPARE_PASSTHROUGH) {
            compare_cut(c);
        }
        break;
    case COLO_EVENT_COMMITTED:
        if (c->state != COMPARE_PASSTHROUGH) {
            compare_committed(c);
        }
        break;
    case COLO_EVENT_ALONE:
        compare_alone(c);
        break;
    }
}

/* The secondary is too slow to match the oldest held byte in time. */
static void compare_scan(void *opaque)
{
    ColoCompare *c = opaque;
    int64_t now = clock_get_ms(CLOCK_TYPE_REALTIME);

    if (c->state == COMPARE_MATCHING && c->stamps->len &&
        now - g_array_index(c->stamps, HeldStamp, 0).ms >=
        (int64_t)c->timeout_ms) {
        trace_colo_compare_lag(compare_name(c), c->held_base, c->held->len);
        compare_request(c, CAUSE_TIMEOUT);
    }
    timer_mod(c->scan_timer, now + c->scan_ms);
}

/* ---- object ---- */

static const ChardevFilterOps compare_ops = {
    .output = compare_output,
};

static bool compare_parse(ColoCompare *c, const OptList *opts, Error **errp)
{
    const char *mode = opts_get(opts, "mode");

    if (opts_has(opts, "iothread")) {
        error_setg(errp, "colo-compare: 'iothread' is not supported (the "
                   "comparison runs in the main loop)");
        return false;
    }
    c->mode = COLO_COMPARE_MODE_COMPARE;
    if (mode && !strcmp(mode, "buffer")) {
        c->mode = COLO_COMPARE_MODE_BUFFER;
    } else if (mode && strcmp(mode, "compare")) {
        error_setg(errp, "Parameter 'mode' does not accept value '%s'",
                   mode);
        return false;
    }
    if (!proxy_get_chardev(opts, "primary_in", false, &c->pri, errp) ||
        !proxy_get_chardev(opts, "secondary_in",
                           c->mode == COLO_COMPARE_MODE_BUFFER, &c->sec,
                           errp) ||
        !proxy_get_chardev(opts, "outdev", false, &c->out, errp) ||
        !opts_get_number(opts, "compare_timeout", COMPARE_TIMEOUT_DEFAULT,
                         &c->timeout_ms, errp) ||
        !opts_get_number(opts, "expired_scan_cycle", COMPARE_SCAN_DEFAULT,
                         &c->scan_ms, errp)) {
        return false;
    }
    if (!c->timeout_ms || c->timeout_ms > UINT32_MAX) {
        error_setg(errp, "Property 'colo-compare.compare_timeout' doesn't "
                   "take value '%" PRIu64 "'", c->timeout_ms);
        return false;
    }
    if (!c->scan_ms || c->scan_ms > UINT32_MAX) {
        error_setg(errp, "Property 'colo-compare.expired_scan_cycle' "
                   "doesn't take value '%" PRIu64 "'", c->scan_ms);
        return false;
    }
    if (c->sec == c->pri || c->sec == c->out) {
        error_setg(errp, "colo-compare: 'secondary_in' must differ from "
                   "'primary_in' and 'outdev'");
        return false;
    }
    if (c->sec && chardev_in_use(c->sec)) {
        error_setg(errp, "Device '%s' is in use", chardev_id(c->sec));
        return false;
    }
    return true;
}

static ProxyObject *compare_create(const char *id, const OptList *opts,
                                   Error **errp)
{
    ColoCompare *c = g_new0(ColoCompare, 1);

    if (!compare_parse(c, opts, errp)) {
        g_free(c);
        return NULL;
    }
    c->obj.id = (char *)id;     /* the registry sets its own copy after */
    c->held = g_byte_array_new();
    c->sec_buf = g_byte_array_new();
    c->stamps = g_array_new(false, false, sizeof(HeldStamp));
    c->cuts = g_array_new(false, false, sizeof(CompareCut));
    c->last_divergence = -1;
    c->state = COMPARE_PASSTHROUGH;
    chardev_filter_add(c->pri, &compare_ops, c);
    if (c->sec) {
        chardev_set_handlers(c->sec, compare_can_read, compare_read,
                             compare_sec_event, c);
    }
    colo_add_event_handler(compare_colo_event, c);
    c->scan_timer = timer_new_ms(CLOCK_TYPE_REALTIME, compare_scan, c);
    timer_mod(c->scan_timer, clock_get_ms(CLOCK_TYPE_REALTIME) + c->scan_ms);
    return &c->obj;
}

static void compare_free(ProxyObject *obj)
{
    ColoCompare *c = (ColoCompare *)obj;

    timer_free(c->scan_timer);
    colo_remove_event_handler(compare_colo_event, c);
    if (c->sec) {
        chardev_set_handlers(c->sec, NULL, NULL, NULL, NULL);
    }
    chardev_filter_remove(c->pri, c);
    g_byte_array_unref(c->held);
    g_byte_array_unref(c->sec_buf);
    g_array_free(c->stamps, true);
    g_array_free(c->cuts, true);
    g_free(c);
}

ColoCompareInfo *colo_compare_info(ProxyObject *obj)
{
    ColoCompare *c = (ColoCompare *)obj;
    ColoCompareInfo *info = g_new0(ColoCompareInfo, 1);

    info->id = g_strdup(c->obj.id);
    info->mode = c->mode;
    info->active = c->state != COMPARE_PASSTHROUGH;
    info->checkpoints_divergence = c->ckpt_divergence;
    info->checkpoints_timeout = c->ckpt_timeout;
    info->checkpoints_timer = c->ckpt_timer;
    info->released_match = c->released_match;
    info->released_checkpoint = c->released_checkpoint;
    info->released_alone = c->released_alone;
    info->held = c->held->len;
    info->dropped = c->dropped;
    info->has_last_divergence_offset = c->last_divergence >= 0;
    info->last_divergence_offset = c->last_divergence;
    return info;
}

const ProxyObjectType colo_compare_type = {
    .name = "colo-compare",
    .keys = (const char *const[]) {
        "primary_in", "secondary_in", "outdev", "compare_timeout",
        "expired_scan_cycle", "mode", "iothread", NULL
    },
    .create = compare_create,
    .free = compare_free,
};
