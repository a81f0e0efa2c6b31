/*
 * The table of QMP commands a monitor serves.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "qapi/qmp-dispatch.h"

struct QmpCommandList {
    GPtrArray *commands;    /* of QmpCommand *, in registration order */
    GHashTable *by_name;    /* name -> QmpCommand *, borrowed */
};

static void qmp_command_free(gpointer data)
{
    QmpCommand *cmd = data;

    g_free((char *)cmd->name);
    g_free((char *)cmd->disable_reason);
    g_free(cmd);
}

QmpCommandList *qmp_command_list_new(void)
{
    QmpCommandList *cmds = g_new0(QmpCommandList, 1);

    cmds->commands = g_ptr_array_new_with_free_func(qmp_command_free);
    cmds->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    return cmds;
}

void qmp_command_list_free(QmpCommandList *cmds)
{
    if (!cmds) {
        return;
    }
    g_hash_table_destroy(cmds->by_name);
    g_ptr_array_free(cmds->commands, true);
    g_free(cmds);
}

void qmp_register_command(QmpCommandList *cmds, const char *name,
                          QmpCommandFunc *fn, QmpCommandOptions options,
                          unsigned special_features)
{
    QmpCommand *cmd = g_new0(QmpCommand, 1);

    /* Registering a name twice is a programming error. */
    g_assert(!g_hash_table_contains(cmds->by_name, name));
    cmd->name = g_strdup(name);
    cmd->fn = fn;
    cmd->options = options;
    cmd->special_features = special_features;
    cmd->enabled = true;
    g_ptr_array_add(cmds->commands, cmd);
    g_hash_table_insert(cmds->by_name, (char *)cmd->name, cmd);
}

const QmpCommand *qmp_find_command(const QmpCommandList *cmds,
                                   const char *name)
{
    return g_hash_table_lookup(cmds->by_name, name);
}

static void qmp_toggle_command(QmpCommandList *cmds, const char *name,
                               bool enabled, const char *disable_reason)
{
    QmpCommand *cmd = g_hash_table_lookup(cmds->by_name, name);

    if (!cmd) {
        return;
    }
    cmd->enabled = enabled;
    g_free((char *)cmd->disable_reason);
    cmd->disable_reason = g_strdup(disable_reason);
}

void qmp_disable_command(QmpCommandList *cmds, const char *name,
                         const char *disable_reason)
{
    qmp_toggle_command(cmds, name, false, disable_reason);
}

void qmp_enable_command(QmpCommandList *cmds, const char *name)
{
    qmp_toggle_command(cmds, name, true, NULL);
}

bool qmp_command_is_enabled(const QmpCommand *cmd)
{
    return cmd->enabled;
}

bool qmp_has_success_response(const QmpCommand *cmd)
{
    return !(cmd->options & QCO_NO_SUCCESS_RESP);
}

void qmp_for_each_command(const QmpCommandList *cmds,
                          QmpCommandVisitFunc *fn, void *opaque)
{
    guint i;

    for (i = 0; i < cmds->commands->len; i++) {
        fn(g_ptr_array_index(cmds->commands, i), opaque);
    }
}
