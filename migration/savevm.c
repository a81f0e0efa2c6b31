/*
 * Writing the migration stream: header, live sections over several
 * passes, device sections, commands, EOF and the description.
 *
 * Writes go through the QEMUFile, whose first error sticks; each step
 * checks the file once at its end rather than after every put.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>

#include "migration/qemu-file.h"
#include "migration/savevm-int.h"
#include "system/ram.h"
#include "trace/trace.h"

static void savevm_put_section_header(QEMUFile *f, const SaveStateEntry *se,
                                      uint8_t type)
{
    qemu_put_byte(f, type);
    qemu_put_be32(f, se->section_id);
    if (type == QEMU_VM_SECTION_START || type == QEMU_VM_SECTION_FULL) {
        qemu_put_counted_string(f, se->idstr);
        qemu_put_be32(f, se->instance_id);
        qemu_put_be32(f, se->version_id);
    }
}

static void savevm_put_section_footer(QEMUFile *f, const SaveStateEntry *se)
{
    qemu_put_byte(f, QEMU_VM_SECTION_FOOTER);
    qemu_put_be32(f, se->section_id);
}

/*
 * The file's error after a step, as an Error; a handler that failed
 * without saying why leaves its errno on the file so the stream and
 * the caller agree.
 */
static int savevm_check_file(QEMUFile *f, int ret, const char *what,
                             const SaveStateEntry *se, Error **errp)
{
    if (ret < 0) {
        qemu_file_set_error(f, ret);
    }
    ret = qemu_file_get_error_obj(f, errp);
    if (ret < 0) {
        if (se) {
            error_prepend(errp, "%s of section '%s' failed: ", what,
                          se->idstr);
        } else {
            error_prepend(errp, "%s failed: ", what);
        }
    }
    return ret;
}

void qemu_savevm_state_header(QEMUFile *f)
{
    trace_savevm_state_header();
    qemu_put_be32(f, QEMU_VM_FILE_MAGIC);
    qemu_put_be32(f, QEMU_VM_FILE_VERSION);
    savevm_configuration_save(f);
}

int qemu_savevm_state_setup(QEMUFile *f, Error **errp)
{
    ERRP_GUARD();

    trace_savevm_state_setup();
    for (GList *l = savevm_entries(); l; l = l->next) {
        SaveStateEntry *se = l->data;
        int ret;

        if (!se->ops || !se->ops->save_setup ||
            !savevm_entry_is_active(se)) {
            continue;
        }
        se->save_setup_done = true;
        savevm_put_section_header(f, se, QEMU_VM_SECTION_START);
        ret = se->ops->save_setup(f, se->opaque, errp);
        savevm_put_section_footer(f, se);
        trace_savevm_section_end(se->idstr, se->section_id, ret);
        if (ret < 0 && *errp) {
            error_prepend(errp, "Setup of section '%s' failed: ",
                          se->idstr);
            qemu_file_set_error_obj(f, ret, error_copy(*errp));
            return ret;
        }
        ret = savevm_check_file(f, ret, "Setup", se, errp);
        if (ret < 0) {
            return ret;
        }
    }
    return 0;
}

int qemu_savevm_state_iterate(QEMUFile *f)
{
    int ret = 1;

    for (GList *l = savevm_entries(); l; l = l->next) {
        SaveStateEntry *se = l->data;

        if (!se->save_setup_done || !se->ops->save_live_iterate ||
            !savevm_entry_is_active(se)) {
            continue;
        }
        if (qemu_file_rate_limit(f)) {
            return 0;
        }
        savevm_put_section_header(f, se, QEMU_VM_SECTION_PART);
        ret = se->ops->save_live_iterate(f, se->opaque);
        savevm_put_section_footer(f, se);
        trace_savevm_section_end(se->idstr, se->section_id, ret);
        if (ret < 0) {
            qemu_file_set_error(f, ret);
        }
        /*
         * A section with more to send keeps the next ones waiting: the
         * earlier sections (RAM first) are the ones worth converging.
         */
        if (ret <= 0) {
            break;
        }
    }
    if (ret >= 0 && qemu_file_get_error(f) < 0) {
        ret = qemu_file_get_error(f);
    }
    return ret;
}

unsigned qemu_savevm_live_sections(void)
{
    unsigned n = 0;

    for (GList *l = savevm_entries(); l; l = l->next) {
        SaveStateEntry *se = l->data;

        n += se->save_setup_done && se->ops->save_live_iterate &&
             savevm_entry_is_active(se);
    }
    return n;
}

static int savevm_complete_live(QEMUFile *f, Error **errp)
{
    for (GList *l = savevm_entries(); l; l = l->next) {
        SaveStateEntry *se = l->data;
        int ret;

        if (!se->save_setup_done || !se->ops->save_live_complete_precopy ||
            !savevm_entry_is_active(se)) {
            continue;
        }
        savevm_put_section_header(f, se, QEMU_VM_SECTION_END);
        ret = se->ops->save_live_complete_precopy(f, se->opaque);
        savevm_put_section_footer(f, se);
        trace_savevm_section_end(se->idstr, se->section_id, ret);
        ret = savevm_check_file(f, ret, "Completion", se, errp);
        if (ret < 0) {
            return ret;
        }
    }
    return 0;
}

/*
 * A FULL section per device that has something to save; @devices, when
 * given, receives the description of each (the VMDESCRIPTION array).
 */
static int savevm_save_devices(QEMUFile *f, json_t *devices, Error **errp)
{
    for (GList *l = savevm_entries(); l; l = l->next) {
        SaveStateEntry *se = l->data;
        json_t *desc = NULL;
        int ret;

        if (!se->vmsd || !vmstate_section_needed(se->vmsd, se->opaque)) {
            continue;
        }
        if (devices) {
            desc = json_object();
            json_object_set_new(desc, "name", json_string(se->idstr));
            json_object_set_new(desc, "instance_id",
                                json_integer(se->instance_id));
            json_array_append_new(devices, desc);
        }
        savevm_put_section_header(f, se, QEMU_VM_SECTION_FULL);
        ret = vmstate_save_state(f, se->vmsd, se->opaque, desc, errp);
        if (ret < 0) {
            /* errp names the device already. */
            qemu_file_set_error(f, ret);
            return ret;
        }
        savevm_put_section_footer(f, se);
        trace_savevm_section_end(se->idstr, se->section_id, ret);
        ret = savevm_check_file(f, 0, "Saving the state", se, errp);
        if (ret < 0) {
            return ret;
        }
    }
    return 0;
}

bool savevm_vmdesc_len_misleads(uint32_t len)
{
    uint8_t bytes[4] = { len >> 24, len >> 16, len >> 8, len };
    int after_zero = 0;

    for (int i = 0; i < 4; i++) {
        if (bytes[i] == 0) {
            after_zero = i + 1;
        }
    }
    for (int i = after_zero; i < 4; i++) {
        if (bytes[i] == '{') {
            return true;
        }
    }
    return false;
}

static void savevm_put_vmdesc(QEMUFile *f, json_t *vmdesc)
{
    char *text = json_dumps(vmdesc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    size_t len, pad = 0;

    if (!text) {
        qemu_file_set_error_obj(f, -ENOMEM, NULL);
        return;
    }
    len = strlen(text);
    /* Trailing spaces mean nothing to a JSON reader. */
    while (savevm_vmdesc_len_misleads(len + pad)) {
        pad++;
    }
    if (len + pad > SAVEVM_VMDESC_MAX) {
        /* The destination would refuse it; better not to send it. */
        free(text);
        return;
    }
    qemu_put_byte(f, QEMU_VM_VMDESCRIPTION);
    qemu_put_be32(f, len + pad);
    qemu_put_buffer(f, (const uint8_t *)text, len);
    for (size_t i = 0; i < pad; i++) {
        qemu_put_byte(f, ' ');
    }
    /* jansson allocates with malloc(). */
    free(text);
}

int qemu_savevm_state_complete_precopy(QEMUFile *f, Error **errp)
{
    json_t *vmdesc;
    json_t *devices;
    int ret;

    trace_savevm_state_complete_precopy();
    ret = savevm_complete_live(f, errp);
    if (ret < 0) {
        return ret;
    }

    /* QEMU's order: configuration, page size, devices. */
    vmdesc = json_object();
    devices = json_array();
    savevm_configuration_describe(vmdesc, devices);
    json_object_set_new(vmdesc, "page_size", json_integer(TARGET_PAGE_SIZE));
    json_object_set_new(vmdesc, "devices", devices);
    ret = savevm_save_devices(f, devices, errp);
    if (ret == 0) {
        qemu_put_byte(f, QEMU_VM_EOF);
        savevm_put_vmdesc(f, vmdesc);
        qemu_fflush(f);
        ret = savevm_check_file(f, 0, "Completing the stream", NULL, errp);
    }
    json_decref(vmdesc);
    return ret;
}

int qemu_save_device_state(QEMUFile *f, Error **errp)
{
    int ret;

    trace_savevm_save_device_state();
    ret = savevm_save_devices(f, NULL, errp);
    if (ret < 0) {
        return ret;
    }
    qemu_put_byte(f, QEMU_VM_EOF);
    qemu_fflush(f);
    return savevm_check_file(f, 0, "Saving the device state", NULL, errp);
}

static void savevm_pending(bool exact, uint64_t *pending)
{
    *pending = 0;
    for (GList *l = savevm_entries(); l; l = l->next) {
        SaveStateEntry *se = l->data;
        uint64_t bytes = 0;

        if (!se->ops || !savevm_entry_is_active(se)) {
            continue;
        }
        if (exact && se->ops->save_pending_exact) {
            se->ops->save_pending_exact(se->opaque, &bytes);
        } else if (se->ops->save_pending) {
            se->ops->save_pending(se->opaque, &bytes);
        }
        *pending += bytes;
    }
}

void qemu_savevm_state_pending_estimate(uint64_t *pending)
{
    savevm_pending(false, pending);
}

void qemu_savevm_state_pending_exact(uint64_t *pending)
{
    savevm_pending(true, pending);
}

void qemu_savevm_state_cleanup(void)
{
    trace_savevm_state_cleanup();
    for (GList *l = savevm_entries(); l; l = l->next) {
        SaveStateEntry *se = l->data;

        if (se->save_setup_done) {
            se->save_setup_done = false;
            if (se->ops->save_cleanup) {
                se->ops->save_cleanup(se->opaque);
            }
        }
    }
}

/* Commands are flushed at once: the destination acts on them. */
static void savevm_send_command(QEMUFile *f, MigCommand cmd, uint16_t len,
                                const uint8_t *data)
{
    trace_savevm_send_command(cmd, len);
    qemu_put_byte(f, QEMU_VM_COMMAND);
    qemu_put_be16(f, cmd);
    qemu_put_be16(f, len);
    if (len) {
        qemu_put_buffer(f, data, len);
    }
    qemu_fflush(f);
}

void qemu_savevm_send_open_return_path(QEMUFile *f)
{
    savevm_send_command(f, MIG_CMD_OPEN_RETURN_PATH, 0, NULL);
}

void qemu_savevm_send_ping(QEMUFile *f, uint32_t value)
{
    uint8_t buf[4] = { value >> 24, value >> 16, value >> 8, value };

    savevm_send_command(f, MIG_CMD_PING, sizeof(buf), buf);
}

void qemu_savevm_send_colo_enable(QEMUFile *f)
{
    savevm_send_command(f, MIG_CMD_ENABLE_COLO, 0, NULL);
}
