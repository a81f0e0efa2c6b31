/*
 * QMP commands about the run state and the machine: query-status, stop,
 * cont, system_reset, quit, pmemsave.  Texts and corner cases follow QEMU 7.2.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "qapi/qapi-commands.h"
#include "system/ram.h"
#include "system/runstate.h"
#include "system/shutdown.h"
#include "trace/trace.h"

void qmp_quit(Error **errp)
{
    /*
     * Only a request: the SHUTDOWN event goes out now, the reply right
     * after it, and the main loop stops once this command has returned.
     */
    system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT);
}

StatusInfo *qmp_query_status(Error **errp)
{
    StatusInfo *info = g_new0(StatusInfo, 1);

    info->running = runstate_is_running();
    info->singlestep = false;
    info->status = runstate_get();
    return info;
}

void qmp_stop(Error **errp)
{
    /* During an incoming migration, stop means "do not start after". */
    if (runstate_check(RUN_STATE_INMIGRATE)) {
        vm_set_autostart(false);
        return;
    }
    vm_stop(RUN_STATE_PAUSED);
}

void qmp_cont(Error **errp)
{
    if (runstate_needs_reset()) {
        error_setg(errp, "Resetting the Virtual Machine is required");
        return;
    }
    if (runstate_check(RUN_STATE_SUSPENDED)) {
        return;
    }
    if (runstate_check(RUN_STATE_FINISH_MIGRATE)) {
        error_setg(errp, "Migration is not finalized yet");
        return;
    }
    if (runstate_check(RUN_STATE_INMIGRATE)) {
        vm_set_autostart(true);
        return;
    }
    vm_start(errp);
}

void qmp_system_reset(Error **errp)
{
    system_reset(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET);
}

static bool write_all(int fd, const uint8_t *buf, uint64_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, MIN(len, (uint64_t)1 << 30));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        buf += n;
        len -= n;
    }
    return true;
}

void qmp_pmemsave(int64_t val, int64_t size, const char *filename,
                  Error **errp)
{
    const uint8_t *host = NULL;
    bool ok;
    int fd;

    if (size < 0 || (size && !(host = ram_gpa_to_host(val, size)))) {
        error_setg(errp, "Invalid addr 0x%016" PRIx64 "/size %" PRId64
                   " specified", (uint64_t)val, size);
        return;
    }
    fd = open(filename, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", filename);
        return;
    }
    trace_qmp_pmemsave(val, size, filename);
    /*
     * The BQL stays held, as in QEMU: dropping it in the middle of a
     * command would let a vCPU thread's event close the very session
     * being served.
     */
    ok = write_all(fd, host, size);
    if (close(fd) < 0) {
        ok = false;
    }
    if (!ok) {
        error_setg(errp, "An IO error has occurred");
    }
}
