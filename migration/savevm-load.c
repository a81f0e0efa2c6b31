/*
 * Reading the migration stream on the destination.
 *
 * Everything read from the stream is checked before it is used: a
 * section must name a registered entry of the right kind, at a version
 * we can load, and end with the footer that matches its header; a PART
 * or END must follow a START of the same section; commands must have
 * the length their number implies.  The first failure ends the load
 * with an Error naming the section, and nothing after it is read.
 *
 * Two calling contexts, each fixed by the entry point: a whole stream
 * (qemu_loadvm_state(), qemu_loadvm_state_main()) is read by a
 * migration thread without the BQL, since reading may block on the
 * channel, and each device section takes the BQL around its load while
 * live (RAM) sections write guest memory of a VM that is not running;
 * a device state (qemu_load_device_state(), a COLO checkpoint) is
 * loaded by a caller that holds the BQL already.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>

#include "migration/migration.h"
#include "migration/qemu-file.h"
#include "migration/savevm-int.h"
#include "migration/savevm.h"
#include "trace/trace.h"
#include "util/bql.h"

/* 0, or the file's error as an Error prefixed with what was read. */
static int loadvm_check_file(QEMUFile *f, Error **errp, const char *fmt,
                             ...) G_GNUC_PRINTF(3, 4);

static int loadvm_check_file(QEMUFile *f, Error **errp, const char *fmt,
                             ...)
{
    Error *err = NULL;
    int ret = qemu_file_get_error_obj(f, &err);

    if (ret < 0) {
        g_autofree char *what = NULL;
        va_list ap;

        va_start(ap, fmt);
        what = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        error_propagate_prepend(errp, err, "%s: ", what);
    }
    return ret;
}

static int loadvm_state_header(QEMUFile *f, Error **errp)
{
    uint32_t magic = qemu_get_be32(f);
    uint32_t version = qemu_get_be32(f);
    int ret = loadvm_check_file(f, errp, "Failed to read the stream header");

    if (ret < 0) {
        return ret;
    }
    if (magic != QEMU_VM_FILE_MAGIC) {
        error_setg(errp, "Not a migration stream");
        return -EINVAL;
    }
    if (version == QEMU_VM_FILE_VERSION_COMPAT) {
        error_setg(errp, "SaveVM v2 format is obsolete and don't work "
                   "anymore");
        return -ENOTSUP;
    }
    if (version != QEMU_VM_FILE_VERSION) {
        error_setg(errp, "Unsupported migration stream version");
        return -ENOTSUP;
    }
    return savevm_configuration_load(f, errp);
}

int savevm_load_section_footer(QEMUFile *f, const char *idstr,
                               uint32_t section_id, Error **errp)
{
    uint8_t mark = qemu_get_byte(f);
    uint32_t read_id;
    int ret = loadvm_check_file(f, errp, "Failed to read the footer of "
                                "section %s", idstr);

    if (ret < 0) {
        return ret;
    }
    if (mark != QEMU_VM_SECTION_FOOTER) {
        error_setg(errp, "Missing section footer for %s", idstr);
        return -EINVAL;
    }
    read_id = qemu_get_be32(f);
    ret = loadvm_check_file(f, errp, "Failed to read the footer of "
                            "section %s", idstr);
    if (ret < 0) {
        return ret;
    }
    if (read_id != section_id) {
        error_setg(errp, "Mismatched section id in footer for %s - read "
                   "0x%" PRIx32 " expected 0x%" PRIx32, idstr, read_id,
                   section_id);
        return -EINVAL;
    }
    return 0;
}

static int loadvm_section_footer(QEMUFile *f, const SaveStateEntry *se,
                                 Error **errp)
{
    return savevm_load_section_footer(f, se->idstr, se->load_section_id,
                                      errp);
}

/* A device's state, into the device: BQL held. */
static int loadvm_device_body(QEMUFile *f, SaveStateEntry *se, Error **errp)
{
    g_assert(bql_locked());
    return vmstate_load_state(f, se->vmsd, se->opaque, se->load_version_id,
                              errp);
}

/*
 * The body of one section, for the entry it names.  @devices_only: the
 * caller holds the BQL (see the head of the file); otherwise it does
 * not, and a device section takes it.
 */
static int loadvm_section_body(QEMUFile *f, SaveStateEntry *se,
                               bool devices_only, Error **errp)
{
    int ret;

    if (se->vmsd && devices_only) {
        ret = loadvm_device_body(f, se, errp);
    } else if (se->vmsd) {
        bql_lock();
        ret = loadvm_device_body(f, se, errp);
        bql_unlock();
    } else if (se->ops->load_state) {
        ret = se->ops->load_state(f, se->opaque, se->load_version_id, errp);
    } else {
        error_setg(errp, "Section '%s' cannot be loaded", se->idstr);
        return -EINVAL;
    }
    if (ret < 0) {
        if (!errp || !*errp) {
            /* The handler said nothing: the stream may know why. */
            qemu_file_set_error(f, ret);
            qemu_file_get_error_obj(f, errp);
        }
        return ret;
    }
    /* A handler may have run into the end of the stream and said 0. */
    return loadvm_check_file(f, errp, "Failed to load section %s",
                             se->idstr);
}

/* May @type sections carry @se, and is @section_id not someone else's? */
static int loadvm_check_entry(SaveStateEntry *se, uint8_t type,
                              uint32_t section_id, uint32_t version_id,
                              Error **errp)
{
    if (type == QEMU_VM_SECTION_START && !savevm_entry_is_live(se)) {
        error_setg(errp, "Section '%s' is a device state: it cannot come "
                   "in a START section", se->idstr);
        return -EINVAL;
    }
    if (type == QEMU_VM_SECTION_FULL && savevm_entry_is_live(se)) {
        error_setg(errp, "Section '%s' is a live section: it cannot come "
                   "in a FULL section", se->idstr);
        return -EINVAL;
    }
    if (type == QEMU_VM_SECTION_START && se->load_started) {
        error_setg(errp, "Section '%s' started twice", se->idstr);
        return -EINVAL;
    }
    if (version_id > (uint32_t)se->version_id) {
        error_setg(errp, "savevm: unsupported version %" PRIu32 " for "
                   "'%s' v%d", version_id, se->idstr, se->version_id);
        return -EINVAL;
    }
    for (GList *l = savevm_entries(); l; l = l->next) {
        SaveStateEntry *other = l->data;

        if (other != se && other->load_id_known &&
            other->load_section_id == section_id) {
            error_setg(errp, "Section id %" PRIu32 " of '%s' is already "
                       "used by '%s'", section_id, se->idstr, other->idstr);
            return -EINVAL;
        }
    }
    return 0;
}

static int loadvm_section_start_full(QEMUFile *f, uint8_t type,
                                     bool devices_only, Error **errp)
{
    char idstr[256];
    uint32_t section_id = qemu_get_be32(f);
    size_t len = qemu_get_counted_string(f, idstr);
    uint32_t instance_id = qemu_get_be32(f);
    uint32_t version_id = qemu_get_be32(f);
    SaveStateEntry *se;
    int ret;

    ret = loadvm_check_file(f, errp, "Failed to read the header of "
                            "section %" PRIu32, section_id);
    if (ret < 0) {
        return ret;
    }
    if (len == 0) {
        error_setg(errp, "Unable to read ID string for section %" PRIu32,
                   section_id);
        return -EINVAL;
    }
    trace_loadvm_section_start_full(section_id, idstr, instance_id,
                                    version_id);
    se = savevm_find_entry(idstr, instance_id);
    if (!se) {
        error_setg(errp, "Unknown savevm section or instance '%s' %" PRIu32
                   ". Make sure that your current VM setup matches your "
                   "saved VM setup, including any hotplugged devices",
                   idstr, instance_id);
        return -EINVAL;
    }
    ret = loadvm_check_entry(se, type, section_id, version_id, errp);
    if (ret < 0) {
        return ret;
    }
    se->load_id_known = true;
    se->load_section_id = section_id;
    se->load_version_id = version_id;
    se->load_started |= type == QEMU_VM_SECTION_START;

    ret = loadvm_section_body(f, se, devices_only, errp);
    if (ret < 0) {
        error_prepend(errp, "error while loading state for instance 0x%"
                      PRIx32 " of device '%s': ", instance_id, idstr);
        return ret;
    }
    return loadvm_section_footer(f, se, errp);
}

static SaveStateEntry *loadvm_find_started(uint32_t section_id)
{
    for (GList *l = savevm_entries(); l; l = l->next) {
        SaveStateEntry *se = l->data;

        if (se->load_started && se->load_section_id == section_id) {
            return se;
        }
    }
    return NULL;
}

static int loadvm_section_part_end(QEMUFile *f, Error **errp)
{
    uint32_t section_id = qemu_get_be32(f);
    SaveStateEntry *se;
    int ret;

    ret = loadvm_check_file(f, errp, "Failed to read the section id");
    if (ret < 0) {
        return ret;
    }
    trace_loadvm_section_part_end(section_id);
    se = loadvm_find_started(section_id);
    if (!se) {
        error_setg(errp, "Unknown savevm section %" PRIu32, section_id);
        return -EINVAL;
    }
    /* Only live sections START, so this is never a device's body. */
    ret = loadvm_section_body(f, se, false, errp);
    if (ret < 0) {
        error_prepend(errp, "error while loading state section id %" PRIu32
                      "(%s): ", section_id, se->idstr);
        return ret;
    }
    return loadvm_section_footer(f, se, errp);
}

static const char *const mig_cmd_names[MIG_CMD_MAX] = {
    [MIG_CMD_INVALID] = "INVALID",
    [MIG_CMD_OPEN_RETURN_PATH] = "OPEN_RETURN_PATH",
    [MIG_CMD_PING] = "PING",
    [MIG_CMD_POSTCOPY_ADVISE] = "POSTCOPY_ADVISE",
    [MIG_CMD_POSTCOPY_LISTEN] = "POSTCOPY_LISTEN",
    [MIG_CMD_POSTCOPY_RUN] = "POSTCOPY_RUN",
    [MIG_CMD_POSTCOPY_RAM_DISCARD] = "POSTCOPY_RAM_DISCARD",
    [MIG_CMD_PACKAGED] = "PACKAGED",
    [MIG_CMD_ENABLE_COLO] = "ENABLE_COLO",
    [MIG_CMD_POSTCOPY_RESUME] = "POSTCOPY_RESUME",
    [MIG_CMD_RECV_BITMAP] = "RECV_BITMAP",
};

/* Payload length of the commands we accept; -1: any other is refused. */
static int loadvm_command_len(unsigned cmd)
{
    switch (cmd) {
    case MIG_CMD_OPEN_RETURN_PATH:
    case MIG_CMD_ENABLE_COLO:
        return 0;
    case MIG_CMD_PING:
        return 4;
    default:
        return -1;
    }
}

static const LoadvmCommandOps loadvm_incoming_command_ops = {
    .open_return_path = migration_incoming_open_return_path,
    .send_pong = migration_incoming_send_pong,
    .enable_colo = migration_incoming_enable_colo,
};

/* Set before any load; read by the load thread only. */
static const LoadvmCommandOps *loadvm_command_ops =
    &loadvm_incoming_command_ops;

void qemu_loadvm_set_command_ops(const LoadvmCommandOps *ops)
{
    loadvm_command_ops = ops ? ops : &loadvm_incoming_command_ops;
}

static int loadvm_open_return_path(Error **errp)
{
    Error *err = NULL;

    if (!loadvm_command_ops->open_return_path(&err)) {
        if (err) {
            error_propagate_prepend(errp, err, "CMD_OPEN_RETURN_PATH "
                                    "failed: ");
        } else {
            error_setg(errp, "CMD_OPEN_RETURN_PATH failed");
        }
        return -EIO;
    }
    return 0;
}

static int loadvm_process_command(QEMUFile *f, Error **errp)
{
    unsigned cmd = qemu_get_be16(f);
    unsigned len = qemu_get_be16(f);
    uint32_t value;
    int ret;

    ret = loadvm_check_file(f, errp, "Failed to read a command");
    if (ret < 0) {
        return ret;
    }
    if (cmd == MIG_CMD_INVALID || cmd >= MIG_CMD_MAX) {
        error_setg(errp, "MIG_CMD 0x%x unknown (len 0x%x)", cmd, len);
        return -EINVAL;
    }
    trace_loadvm_process_command(mig_cmd_names[cmd], len);
    if (loadvm_command_len(cmd) < 0) {
        error_setg(errp, "Migration command %s (0x%x) is not supported",
                   mig_cmd_names[cmd], cmd);
        return -ENOTSUP;
    }
    if (len != (unsigned)loadvm_command_len(cmd)) {
        error_setg(errp, "%s received with bad length - expecting %d, "
                   "got %u", mig_cmd_names[cmd], loadvm_command_len(cmd),
                   len);
        return -ERANGE;
    }

    switch (cmd) {
    case MIG_CMD_OPEN_RETURN_PATH:
        return loadvm_open_return_path(errp);
    case MIG_CMD_PING:
        value = qemu_get_be32(f);
        ret = loadvm_check_file(f, errp, "Failed to read a PING");
        if (ret < 0) {
            return ret;
        }
        trace_loadvm_process_command_ping(value);
        loadvm_command_ops->send_pong(value);
        return 0;
    default:
        loadvm_command_ops->enable_colo();
        return 0;
    }
}

/*
 * Sections until EOF.  @devices_only: a device state (COLO checkpoint)
 * holds FULL sections and nothing else.
 */
static int loadvm_sections(QEMUFile *f, bool devices_only, Error **errp)
{
    for (;;) {
        uint8_t type = qemu_get_byte(f);
        int ret = loadvm_check_file(f, errp, "Failed to read a section");

        if (ret < 0) {
            return ret;
        }
        trace_loadvm_section_type(type);
        if (devices_only && type != QEMU_VM_SECTION_FULL &&
            type != QEMU_VM_EOF) {
            error_setg(errp, "Section type %d is not allowed in a device "
                       "state", type);
            return -EINVAL;
        }
        switch (type) {
        case QEMU_VM_SECTION_START:
        case QEMU_VM_SECTION_FULL:
            ret = loadvm_section_start_full(f, type, devices_only, errp);
            break;
        case QEMU_VM_SECTION_PART:
        case QEMU_VM_SECTION_END:
            ret = loadvm_section_part_end(f, errp);
            break;
        case QEMU_VM_COMMAND:
            ret = loadvm_process_command(f, errp);
            break;
        case QEMU_VM_EOF:
            return 0;
        default:
            error_setg(errp, "Unknown savevm section type %d", type);
            return -EINVAL;
        }
        if (ret < 0) {
            return ret;
        }
    }
}

int qemu_loadvm_state_main(QEMUFile *f, Error **errp)
{
    g_assert(!bql_locked());
    return loadvm_sections(f, false, errp);
}

/*
 * The description after EOF is for tools that read the stream; we only
 * check that it is whole and is JSON, so that whatever follows it (a
 * COLO exchange) starts where it should.  A stream may also just end.
 */
static int loadvm_skip_vmdesc(QEMUFile *f, Error **errp)
{
    g_autofree char *text = NULL;
    json_error_t jerr;
    json_t *desc;
    uint32_t len;
    int ret;

    if (qemu_peek_byte(f, 0) != QEMU_VM_VMDESCRIPTION) {
        return loadvm_check_file(f, errp, "Failed to read after EOF");
    }
    qemu_get_byte(f);
    len = qemu_get_be32(f);
    ret = loadvm_check_file(f, errp, "Failed to read the VMDESCRIPTION");
    if (ret < 0) {
        return ret;
    }
    if (len > SAVEVM_VMDESC_MAX) {
        error_setg(errp, "VMDESCRIPTION is too long (%" PRIu32 " bytes, at "
                   "most %d)", len, SAVEVM_VMDESC_MAX);
        return -EINVAL;
    }
    text = g_malloc(len + 1);
    qemu_get_buffer(f, (uint8_t *)text, len);
    ret = loadvm_check_file(f, errp, "Failed to read the VMDESCRIPTION");
    if (ret < 0) {
        return ret;
    }
    desc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!desc || !json_is_object(desc)) {
        error_setg(errp, "VMDESCRIPTION is not a JSON object: %s",
                   desc ? "wrong type" : jerr.text);
        json_decref(desc);
        return -EINVAL;
    }
    json_decref(desc);
    return 0;
}

static void loadvm_reset_entries(void)
{
    for (GList *l = savevm_entries(); l; l = l->next) {
        SaveStateEntry *se = l->data;

        se->load_id_known = false;
        se->load_started = false;
        se->load_section_id = 0;
        se->load_version_id = 0;
    }
}

static int loadvm_state_setup(QEMUFile *f, Error **errp)
{
    for (GList *l = savevm_entries(); l; l = l->next) {
        SaveStateEntry *se = l->data;
        int ret;

        if (!se->ops || !se->ops->load_setup ||
            !savevm_entry_is_active(se)) {
            continue;
        }
        se->load_setup_done = true;
        ret = se->ops->load_setup(f, se->opaque, errp);
        if (ret < 0) {
            if (!errp || !*errp) {
                error_setg_errno(errp, -ret, "Load state of device %s "
                                 "failed", se->idstr);
            } else {
                error_prepend(errp, "Load state of device %s failed: ",
                              se->idstr);
            }
            return ret;
        }
    }
    return 0;
}

static void loadvm_state_cleanup(void)
{
    for (GList *l = savevm_entries(); l; l = l->next) {
        SaveStateEntry *se = l->data;

        if (se->load_setup_done) {
            se->load_setup_done = false;
            if (se->ops->load_cleanup) {
                se->ops->load_cleanup(se->opaque);
            }
        }
    }
}

int qemu_loadvm_state(QEMUFile *f, Error **errp)
{
    ERRP_GUARD();
    int ret;

    g_assert(!bql_locked());
    trace_loadvm_state_begin();
    loadvm_reset_entries();
    ret = loadvm_state_header(f, errp);
    if (ret < 0) {
        return ret;
    }
    ret = loadvm_state_setup(f, errp);
    if (ret == 0) {
        ret = qemu_loadvm_state_main(f, errp);
    }
    if (ret == 0) {
        ret = loadvm_skip_vmdesc(f, errp);
    }
    loadvm_state_cleanup();
    trace_loadvm_state_end(ret);
    return ret;
}

int qemu_load_device_state(QEMUFile *f, Error **errp)
{
    int ret;

    g_assert(bql_locked());
    trace_loadvm_device_state();
    ret = loadvm_sections(f, true, errp);
    trace_loadvm_state_end(ret);
    return ret;
}
