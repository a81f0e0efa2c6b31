/*
 * The stdio backend: guest output to stdout, stdin to the guest.
 *
 * stdin is only read when poll says it is readable, so it is left in
 * blocking mode (it is often shared with the shell).  stdout is made
 * non-blocking so a reader that stops reading cannot stall a vCPU; its
 * flags are put back at exit.  A terminal on stdin is switched to raw
 * mode (so the guest sees every key) and restored at exit, including
 * exits that skip chardev_cleanup_all().
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "char-internal.h"
#include "trace/trace.h"

typedef struct StdioChardev {
    Chardev parent;
} StdioChardev;

/* Process-wide because the terminal is: at most one stdio chardev. */
static struct {
    bool in_use;
    bool tty_saved;
    struct termios tty_orig;
    int stdout_flags;       /* -1: not changed */
    bool atexit_done;
} stdio_state = { .stdout_flags = -1 };

static void stdio_restore(void)
{
    if (stdio_state.tty_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &stdio_state.tty_orig);
        stdio_state.tty_saved = false;
    }
    if (stdio_state.stdout_flags >= 0) {
        fcntl(STDOUT_FILENO, F_SETFL, stdio_state.stdout_flags);
        stdio_state.stdout_flags = -1;
    }
}

/*
 * Raw input: no line editing, no echo, no CR/LF translation.  Output
 * post-processing stays on so the host terminal keeps turning "\n"
 * into "\r\n".  With signal=on (the default, as QEMU) ^C still signals.
 */
static void stdio_make_raw(bool keep_signals)
{
    struct termios tty;

    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &tty) < 0) {
        return;
    }
    stdio_state.tty_orig = tty;
    stdio_state.tty_saved = true;
    tty.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
                     ICRNL | IXON);
    tty.c_oflag |= OPOST;
    tty.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
    if (!keep_signals) {
        tty.c_lflag &= ~ISIG;
    }
    tty.c_cflag &= ~(CSIZE | PARENB);
    tty.c_cflag |= CS8;
    tty.c_cc[VMIN] = 1;
    tty.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &tty);
    trace_char_stdio_raw_mode(keep_signals);
}

static bool fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

static bool stdio_open(Chardev *c, const OptList *opts, Error **errp)
{
    bool keep_signals;
    int flags;

    if (!opts_get_bool(opts, "signal", true, &keep_signals, errp)) {
        return false;
    }
    if (stdio_state.in_use) {
        error_setg(errp, "cannot use stdio by multiple character devices");
        return false;
    }
    stdio_state.in_use = true;
    if (!stdio_state.atexit_done) {
        atexit(stdio_restore);
        stdio_state.atexit_done = true;
    }
    flags = fcntl(STDOUT_FILENO, F_GETFL);
    if (flags >= 0 && !(flags & O_NONBLOCK)) {
        stdio_state.stdout_flags = flags;
        fcntl(STDOUT_FILENO, F_SETFL, flags | O_NONBLOCK);
    }
    stdio_make_raw(keep_signals);
    chardev_attach_fds(c, fd_is_open(STDIN_FILENO) ? STDIN_FILENO : -1,
                       flags >= 0 ? STDOUT_FILENO : -1, false);
    c->opened = true;
    return true;
}

/* stdin ran dry (e.g. </dev/null): output carries on, as in QEMU. */
static void stdio_input_eof(Chardev *c)
{
    chardev_attach_fds(c, -1, c->out_fd, false);
    chardev_set_opened(c, false);
}

static void stdio_close(Chardev *c)
{
    stdio_restore();
    stdio_state.in_use = false;
}

static const char *const stdio_keys[] = { "signal", NULL };

const ChardevClass chardev_stdio_class = {
    .name = "stdio",
    .instance_size = sizeof(StdioChardev),
    .keys = stdio_keys,
    .open = stdio_open,
    .close = stdio_close,
    .input_eof = stdio_input_eof,
};
