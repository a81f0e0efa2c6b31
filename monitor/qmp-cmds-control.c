/*
 * Handlers of the protocol's own commands: qmp_capabilities,
 * query-version and query-commands (quit is a run-state command:
 * system/qmp-cmds-runstate.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>

#include "config-host.h"
#include "monitor-internal.h"
#include "qapi/qapi-commands.h"
#include "qapi/util.h"

void qmp_qmp_capabilities(QMPCapabilityList *enable, Error **errp)
{
    MonitorQMP *mon = monitor_qmp_cur();
    bool oob = false;

    if (!mon) {
        error_setg(errp, "qmp_capabilities needs a QMP connection");
        return;
    }
    if (monitor_qmp_is_negotiated(mon)) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND,
                  "Capabilities negotiation is already complete, "
                  "command ignored");
        return;
    }
    for (QMPCapabilityList *l = enable; l; l = l->next) {
        if (l->value == QMP_CAPABILITY_OOB) {
            oob = true;
        }
    }
    monitor_qmp_enter_command_mode(mon, oob);
}

VersionInfo *qmp_query_version(Error **errp)
{
    VersionInfo *info = g_new0(VersionInfo, 1);
    int major = 0, minor = 0, micro = 0;

    /* COLO_VM_VERSION comes from meson's project version, "X.Y.Z". */
    if (sscanf(COLO_VM_VERSION, "%d.%d.%d", &major, &minor, &micro) < 1) {
        major = minor = micro = 0;
    }
    info->qemu = g_new0(VersionTriple, 1);
    info->qemu->major = major;
    info->qemu->minor = minor;
    info->qemu->micro = micro;
    info->package = g_strdup("colo-vm " COLO_VM_VERSION);
    return info;
}

static void query_commands_add(const QmpCommand *cmd, void *opaque)
{
    CommandInfoList **list = opaque;
    CommandInfo *info;

    if (!qmp_command_is_enabled(cmd)) {
        return;
    }
    info = g_new0(CommandInfo, 1);
    info->name = g_strdup(cmd->name);
    /* Prepending lists the newest registration first, as QEMU does. */
    QAPI_LIST_PREPEND(*list, info);
}

CommandInfoList *qmp_query_commands(Error **errp)
{
    CommandInfoList *list = NULL;

    qmp_for_each_command(monitor_qmp_commands(), query_commands_add, &list);
    return list;
}
