/*
 * 16550A UART on the port I/O bus, enough for a polling guest.
 *
 * Transmission is instantaneous: THR bytes go straight to the chardev,
 * so THRE and TEMT never clear.  Reception fills a 16-byte FIFO (one
 * byte with the FIFO disabled) from the chardev, whose backpressure
 * keeps it from overflowing; only loopback mode can overrun it.
 * There is no interrupt line (no interrupt controller), but IER and IIR
 * behave as on the real part so a guest polling IIR sees the right
 * cause.  As nothing is timed, a character timeout (IIR 0x0c) is
 * reported as soon as data sits below the trigger level.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>

#include "hw/serial.h"
#include "migration/vmstate.h"
#include "system/device.h"
#include "system/fdt.h"
#include "system/ioport.h"
#include "system/machine.h"
#include "system/runstate.h"
#include "trace/trace.h"

#define UART_FIFO_LEN   16

/* Register offsets. */
#define UART_RBR    0       /* read, DLAB=0 (THR on write) */
#define UART_IER    1       /* DLAB=0 */
#define UART_IIR    2       /* read (FCR on write) */
#define UART_LCR    3
#define UART_MCR    4
#define UART_LSR    5
#define UART_MSR    6
#define UART_SCR    7
#define UART_DLL    0       /* DLAB=1 */
#define UART_DLM    1       /* DLAB=1 */

#define UART_IER_RDI    0x01    /* received data available */
#define UART_IER_THRI   0x02    /* transmitter holding register empty */
#define UART_IER_RLSI   0x04    /* receiver line status */
#define UART_IER_MSI    0x08    /* modem status */
#define UART_IER_MASK   0x0f

#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI    0x00
#define UART_IIR_THRI   0x02
#define UART_IIR_RDI    0x04
#define UART_IIR_RLSI   0x06
#define UART_IIR_CTI    0x0c
#define UART_IIR_FE     0xc0    /* FIFOs enabled */

#define UART_FCR_FE     0x01
#define UART_FCR_RFR    0x02    /* reset the RX FIFO */
#define UART_FCR_TFR    0x04    /* reset the TX FIFO */
#define UART_FCR_ITL    0xc0    /* RX trigger level */

#define UART_LCR_DLAB   0x80

#define UART_MCR_DTR    0x01
#define UART_MCR_RTS    0x02
#define UART_MCR_OUT1   0x04
#define UART_MCR_OUT2   0x08
#define UART_MCR_LOOP   0x10
#define UART_MCR_MASK   0x1f

#define UART_LSR_DR     0x01
#define UART_LSR_OE     0x02
#define UART_LSR_PE     0x04
#define UART_LSR_FE     0x08
#define UART_LSR_BI     0x10
#define UART_LSR_THRE   0x20
#define UART_LSR_TEMT   0x40
#define UART_LSR_INT_ANY (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | \
                          UART_LSR_BI)

#define UART_MSR_DCTS   0x01
#define UART_MSR_DDSR   0x02
#define UART_MSR_TERI   0x04
#define UART_MSR_DDCD   0x08
#define UART_MSR_DELTA  0x0f
#define UART_MSR_CTS    0x10
#define UART_MSR_DSR    0x20
#define UART_MSR_RI     0x40
#define UART_MSR_DCD    0x80

/* Plain fields only: vmstate_serial lists them. */
struct SerialState {
    uint16_t base;
    Chardev *chr;

    uint16_t divider;
    uint8_t rbr;            /* last byte read, returned when empty */
    uint8_t ier;
    uint8_t iir;
    uint8_t fcr;
    uint8_t lcr;
    uint8_t mcr;
    uint8_t lsr;
    uint8_t msr;
    uint8_t scr;
    bool thr_ipending;      /* THR-empty interrupt not yet acknowledged */

    uint8_t rx_fifo[UART_FIFO_LEN];
    uint8_t rx_head;        /* index of the oldest byte */
    uint8_t rx_count;

    /* The chardev's stream positions, copied around save and load. */
    uint64_t stream_in_pos;
    uint64_t stream_out_pos;
    uint32_t stream_epoch;
};

static unsigned serial_rx_capacity(const SerialState *s)
{
    return s->fcr & UART_FCR_FE ? UART_FIFO_LEN : 1;
}

static unsigned serial_trigger_level(const SerialState *s)
{
    static const uint8_t levels[] = { 1, 4, 8, 14 };

    return s->fcr & UART_FCR_FE ? levels[s->fcr >> 6] : 1;
}

/* Recompute IIR from the pending causes, highest priority first. */
static void serial_update_iir(SerialState *s)
{
    uint8_t id = UART_IIR_NO_INT;

    if ((s->ier & UART_IER_RLSI) && (s->lsr & UART_LSR_INT_ANY)) {
        id = UART_IIR_RLSI;
    } else if ((s->ier & UART_IER_RDI) && (s->lsr & UART_LSR_DR)) {
        id = s->rx_count >= serial_trigger_level(s) ? UART_IIR_RDI
                                                    : UART_IIR_CTI;
    } else if ((s->ier & UART_IER_THRI) && s->thr_ipending) {
        id = UART_IIR_THRI;
    } else if ((s->ier & UART_IER_MSI) && (s->msr & UART_MSR_DELTA)) {
        id = UART_IIR_MSI;
    }
    s->iir = id | (s->fcr & UART_FCR_FE ? UART_IIR_FE : 0);
}

static void serial_rx_clear(SerialState *s)
{
    s->rx_head = 0;
    s->rx_count = 0;
    s->lsr &= ~UART_LSR_DR;
}

static void serial_rx_push(SerialState *s, uint8_t byte)
{
    if (s->rx_count >= serial_rx_capacity(s)) {
        /* The 16550A keeps the FIFO and loses the new character. */
        trace_serial_rx_overrun(s->base, byte);
        s->lsr |= UART_LSR_OE;
        return;
    }
    s->rx_fifo[(s->rx_head + s->rx_count) % UART_FIFO_LEN] = byte;
    s->rx_count++;
    s->lsr |= UART_LSR_DR;
}

static int serial_can_receive(void *opaque)
{
    SerialState *s = opaque;

    /* In loopback mode the line is disconnected from the outside. */
    if (s->mcr & UART_MCR_LOOP) {
        return 0;
    }
    return serial_rx_capacity(s) - s->rx_count;
}

static void serial_receive(void *opaque, const uint8_t *buf, int size)
{
    SerialState *s = opaque;

    for (int i = 0; i < size; i++) {
        serial_rx_push(s, buf[i]);
    }
    serial_update_iir(s);
}

static uint8_t serial_read_rbr(SerialState *s)
{
    bool was_full = s->rx_count == serial_rx_capacity(s);

    if (s->rx_count > 0) {
        s->rbr = s->rx_fifo[s->rx_head];
        s->rx_head = (s->rx_head + 1) % UART_FIFO_LEN;
        if (--s->rx_count == 0) {
            s->lsr &= ~UART_LSR_DR;
        }
    }
    serial_update_iir(s);
    /* Last: with some backends the next bytes arrive from inside this. */
    if (was_full && s->chr) {
        chardev_accept_input(s->chr);
    }
    return s->rbr;
}

/* What MSR shows: the MCR outputs in loopback, fixed lines otherwise. */
static uint8_t serial_modem_lines(const SerialState *s)
{
    uint8_t lines = 0;

    if (!(s->mcr & UART_MCR_LOOP)) {
        return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
    }
    lines |= s->mcr & UART_MCR_RTS ? UART_MSR_CTS : 0;
    lines |= s->mcr & UART_MCR_DTR ? UART_MSR_DSR : 0;
    lines |= s->mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0;
    lines |= s->mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0;
    return lines;
}

/* Latch new modem lines, setting the delta bits for what changed. */
static void serial_update_msr(SerialState *s)
{
    uint8_t old = s->msr, lines = serial_modem_lines(s);
    uint8_t delta = 0;

    delta |= (old ^ lines) & UART_MSR_CTS ? UART_MSR_DCTS : 0;
    delta |= (old ^ lines) & UART_MSR_DSR ? UART_MSR_DDSR : 0;
    delta |= (old ^ lines) & UART_MSR_DCD ? UART_MSR_DDCD : 0;
    /* TERI: RI went from on to off. */
    delta |= (old & UART_MSR_RI) && !(lines & UART_MSR_RI) ? UART_MSR_TERI
                                                           : 0;
    s->msr = lines | (old & UART_MSR_DELTA) | delta;
}

static uint8_t serial_read_reg(SerialState *s, unsigned reg)
{
    uint8_t val;

    switch (reg) {
    case UART_RBR:
        return s->lcr & UART_LCR_DLAB ? s->divider & 0xff
                                      : serial_read_rbr(s);
    case UART_IER:
        return s->lcr & UART_LCR_DLAB ? s->divider >> 8 : s->ier;
    case UART_IIR:
        val = s->iir;
        /* Reading IIR acknowledges a THR-empty interrupt it reports. */
        if ((val & 0x0f) == UART_IIR_THRI) {
            s->thr_ipending = false;
            serial_update_iir(s);
        }
        return val;
    case UART_LCR:
        return s->lcr;
    case UART_MCR:
        return s->mcr;
    case UART_LSR:
        val = s->lsr;
        s->lsr &= ~(UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI);
        serial_update_iir(s);
        return val;
    case UART_MSR:
        val = s->msr;
        s->msr &= ~UART_MSR_DELTA;
        serial_update_iir(s);
        return val;
    default:
        return s->scr;
    }
}

static void serial_write_thr(SerialState *s, uint8_t byte)
{
    if (s->mcr & UART_MCR_LOOP) {
        serial_rx_push(s, byte);
    } else if (s->chr) {
        chardev_write(s->chr, &byte, 1);
    }
    /* Sent at once: the holding register is empty again. */
    s->thr_ipending = true;
}

static void serial_write_fcr(SerialState *s, uint8_t val)
{
    /* Turning the FIFOs on or off empties them, as on the 16550A. */
    if ((val ^ s->fcr) & UART_FCR_FE) {
        val |= UART_FCR_RFR | UART_FCR_TFR;
    }
    if (val & UART_FCR_RFR) {
        serial_rx_clear(s);
    }
    /* TX FIFO reset: nothing is ever queued for transmission. */
    s->fcr = val & (UART_FCR_FE | UART_FCR_ITL);
    if (!(s->fcr & UART_FCR_FE)) {
        s->fcr = 0;
    }
    if (s->chr) {
        chardev_accept_input(s->chr);
    }
}

static void serial_write_reg(SerialState *s, unsigned reg, uint8_t val)
{
    switch (reg) {
    case UART_RBR:
        if (s->lcr & UART_LCR_DLAB) {
            s->divider = (s->divider & 0xff00) | val;
        } else {
            serial_write_thr(s, val);
        }
        break;
    case UART_IER:
        if (s->lcr & UART_LCR_DLAB) {
            s->divider = (s->divider & 0x00ff) | (val << 8);
            break;
        }
        /* Enabling THRI while THR is empty raises it, as on the 16550A. */
        if ((val & UART_IER_THRI) && !(s->ier & UART_IER_THRI)) {
            s->thr_ipending = true;
        }
        s->ier = val & UART_IER_MASK;
        break;
    case UART_IIR:
        serial_write_fcr(s, val);
        break;
    case UART_LCR:
        s->lcr = val;
        break;
    case UART_MCR: {
        bool was_loop = s->mcr & UART_MCR_LOOP;

        s->mcr = val & UART_MCR_MASK;
        serial_update_msr(s);
        if (was_loop && !(s->mcr & UART_MCR_LOOP) && s->chr) {
            chardev_accept_input(s->chr);
        }
        break;
    }
    case UART_LSR:
    case UART_MSR:
        break;              /* read-only (factory test writes ignored) */
    default:
        s->scr = val;
        break;
    }
    serial_update_iir(s);
}

/* The UART is byte-wide: wider accesses reach consecutive registers. */
static uint64_t serial_ioport_read(void *opaque, uint16_t off, unsigned size)
{
    SerialState *s = opaque;
    uint64_t val = 0;

    for (unsigned i = 0; i < size; i++) {
        unsigned reg = off + i;
        uint8_t b = reg < SERIAL_ISA_NR_PORTS ? serial_read_reg(s, reg)
                                              : 0xff;

        trace_serial_read(s->base, reg, b);
        val |= (uint64_t)b << (i * 8);
    }
    return val;
}

static void serial_ioport_write(void *opaque, uint16_t off, uint64_t val,
                                unsigned size)
{
    SerialState *s = opaque;

    for (unsigned i = 0; i < size && off + i < SERIAL_ISA_NR_PORTS; i++) {
        uint8_t b = val >> (i * 8);

        trace_serial_write(s->base, off + i, b);
        serial_write_reg(s, off + i, b);
    }
}

static const PortIOOps serial_ioport_ops = {
    .read = serial_ioport_read,
    .write = serial_ioport_write,
};

void serial_reset(SerialState *s)
{
    trace_serial_reset(s->base);
    /* 9600 baud 8N1 with OUT2 set, as a PC BIOS leaves COM1. */
    s->divider = 0x0c;
    s->rbr = 0;
    s->ier = 0;
    s->fcr = 0;
    s->lcr = 0;
    s->mcr = UART_MCR_OUT2;
    s->lsr = UART_LSR_TEMT | UART_LSR_THRE;
    s->msr = serial_modem_lines(s);
    s->scr = 0;
    s->thr_ipending = false;
    serial_rx_clear(s);
    serial_update_iir(s);
    if (s->chr) {
        chardev_accept_input(s->chr);
    }
}

static void serial_reset_handler(void *opaque)
{
    serial_reset(opaque);
}

SerialState *serial_isa_init(uint16_t base, Chardev *chr, Error **errp)
{
    SerialState *s;

    if (chr && chardev_in_use(chr)) {
        error_setg(errp, "Device '%s' is in use", chardev_id(chr));
        return NULL;
    }
    s = g_new0(SerialState, 1);
    s->base = base;
    s->chr = chr;
    serial_reset(s);
    if (!ioport_register("serial", base, SERIAL_ISA_NR_PORTS,
                         &serial_ioport_ops, s, errp)) {
        g_free(s);
        return NULL;
    }
    if (chr) {
        chardev_set_handlers(chr, serial_can_receive, serial_receive, NULL,
                             s);
    }
    system_register_reset(serial_reset_handler, s);
    return s;
}

void serial_free(SerialState *s)
{
    if (!s) {
        return;
    }
    system_unregister_reset(serial_reset_handler, s);
    if (s->chr) {
        chardev_set_handlers(s->chr, NULL, NULL, NULL, NULL);
    }
    ioport_unregister(s->base);
    g_free(s);
}

/* Migration */

static bool serial_rx_fifo_needed(void *opaque)
{
    SerialState *s = opaque;

    return s->rx_count > 0;
}

/* Received bytes the guest has not read yet. */
static const VMStateDescription vmstate_serial_rx_fifo = {
    .name = "serial/rx_fifo",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = serial_rx_fifo_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BUFFER(rx_fifo, SerialState),
        VMSTATE_UINT8(rx_head, SerialState),
        VMSTATE_UINT8(rx_count, SerialState),
        VMSTATE_END_OF_LIST()
    },
};

/*
 * With the COLO proxy attached, the positions of the bytes the UART took
 * in and sent out travel with its registers, so that the secondary
 * resumes both streams exactly where the primary's checkpoint left them
 * (the FIFO above holds input already counted in in_pos).
 */
static bool serial_stream_needed(void *opaque)
{
    SerialState *s = opaque;

    return s->chr && chardev_has_filters(s->chr);
}

static int serial_stream_pre_save(void *opaque)
{
    SerialState *s = opaque;
    ChardevStreamState st;

    chardev_get_stream_state(s->chr, &st);
    s->stream_in_pos = st.in_pos;
    s->stream_out_pos = st.out_pos;
    s->stream_epoch = st.epoch;
    return 0;
}

static int serial_stream_post_load(void *opaque, int version_id)
{
    SerialState *s = opaque;
    ChardevStreamState st = {
        .in_pos = s->stream_in_pos,
        .out_pos = s->stream_out_pos,
        .epoch = s->stream_epoch,
    };

    if (s->chr) {
        chardev_set_stream_state(s->chr, &st);
    }
    return 0;
}

static const VMStateDescription vmstate_serial_stream = {
    .name = "serial/stream",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = serial_stream_needed,
    .pre_save = serial_stream_pre_save,
    .post_load = serial_stream_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(stream_in_pos, SerialState),
        VMSTATE_UINT64(stream_out_pos, SerialState),
        VMSTATE_UINT32(stream_epoch, SerialState),
        VMSTATE_END_OF_LIST()
    },
};

/* Without the subsection the FIFO was empty. */
static int serial_pre_load(void *opaque)
{
    serial_rx_clear(opaque);
    return 0;
}

/* Values from the stream index the FIFO: reject what we never produce. */
static bool serial_post_load(void *opaque, int version_id, Error **errp)
{
    SerialState *s = opaque;

    if (s->fcr & ~(UART_FCR_FE | UART_FCR_ITL) ||
        s->ier & ~UART_IER_MASK || s->mcr & ~UART_MCR_MASK) {
        error_setg(errp, "invalid register values (FCR 0x%02x, IER 0x%02x, "
                   "MCR 0x%02x)", s->fcr, s->ier, s->mcr);
        return false;
    }
    if (s->rx_head >= UART_FIFO_LEN ||
        s->rx_count > serial_rx_capacity(s)) {
        error_setg(errp, "invalid receive FIFO (head %u, count %u, "
                   "capacity %u)", s->rx_head, s->rx_count,
                   serial_rx_capacity(s));
        return false;
    }
    if (s->rx_count) {
        s->lsr |= UART_LSR_DR;
    } else {
        s->lsr &= ~UART_LSR_DR;
    }
    serial_update_iir(s);
    if (s->chr) {
        chardev_accept_input(s->chr);
    }
    return true;
}

const VMStateDescription vmstate_serial = {
    .name = "serial",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_load = serial_pre_load,
    .post_load_errp = serial_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(divider, SerialState),
        VMSTATE_UINT8(rbr, SerialState),
        VMSTATE_UINT8(ier, SerialState),
        VMSTATE_UINT8(iir, SerialState),
        VMSTATE_UINT8(lcr, SerialState),
        VMSTATE_UINT8(mcr, SerialState),
        VMSTATE_UINT8(lsr, SerialState),
        VMSTATE_UINT8(msr, SerialState),
        VMSTATE_UINT8(scr, SerialState),
        VMSTATE_UINT8(fcr, SerialState),
        VMSTATE_BOOL(thr_ipending, SerialState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription *const[]) {
        &vmstate_serial_rx_fifo,
        &vmstate_serial_stream,
        NULL
    },
};

/* The machine's UART: COM1, on the backend of -serial. */

#define SERIAL_CLOCK_HZ 1843200
#define SERIAL_FDT_NODE "serial@3f8"

static bool serial_device_realize(MachineState *ms, void **state,
                                  Error **errp)
{
    SerialState *s = serial_isa_init(SERIAL_ISA_BASE, ms->serial_chr, errp);

    *state = s;
    return s != NULL;
}

static void serial_device_unrealize(void *state)
{
    serial_free(state);
}

static void serial_fdt_describe(FdtBuilder *b)
{
    fdt_builder_begin(b, SERIAL_FDT_NODE);
    fdt_builder_string(b, "compatible", "ns16550a");
    fdt_builder_reg64(b, SERIAL_ISA_BASE, SERIAL_ISA_NR_PORTS);
    fdt_builder_cell(b, "clock-frequency", SERIAL_CLOCK_HZ);
    fdt_builder_end(b);
    fdt_builder_set_stdout(b, "/" SERIAL_FDT_NODE);
}

static const DeviceClass serial_device = {
    .name = "isa-serial",
    .realize = serial_device_realize,
    .unrealize = serial_device_unrealize,
    .vmsd = &vmstate_serial,
    .fdt_describe = serial_fdt_describe,
};
device_init(serial_device)
