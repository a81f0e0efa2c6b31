/*
 * The configuration section: which machine the stream was taken from.
 *
 * It follows the header and has QEMU's "configuration" layout, be32
 * length + machine type name, then subsections.  Ours,
 * "configuration/colo-vm-machine" version 1, carries be64 RAM size and
 * be32 vCPU count: a destination built differently cannot hold the
 * state, and must say so before loading any of it.
 *
 * It is written and read by hand rather than through a vmstate
 * description so that each mismatch gets its own message and the name
 * is bounded before anything is allocated.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "migration/qemu-file.h"
#include "migration/savevm-int.h"
#include "system/machine.h"
#include "trace/trace.h"

#define MACHINE_SUBSECTION_VERSION 1
/* Machine type names are short; this bounds what we read. */
#define MACHINE_TYPE_NAME_MAX 255

typedef struct MachineConfig {
    const char *type;
    uint64_t ram_size;
    uint32_t vcpus;
} MachineConfig;

static MachineConfig savevm_local_config(void)
{
    MachineState *ms = current_machine();
    MachineConfig config = { "", 0, 0 };

    if (ms) {
        config.type = ms->type ? ms->type : "";
        config.ram_size = ms->ram_size;
        config.vcpus = ms->smp;
    }
    return config;
}

void savevm_configuration_save(QEMUFile *f)
{
    MachineConfig config = savevm_local_config();
    size_t len = strlen(config.type);

    qemu_put_byte(f, QEMU_VM_CONFIGURATION);
    qemu_put_be32(f, len);
    qemu_put_buffer(f, (const uint8_t *)config.type, len);

    qemu_put_byte(f, QEMU_VM_SUBSECTION);
    qemu_put_counted_string(f, SAVEVM_MACHINE_SUBSECTION);
    qemu_put_be32(f, MACHINE_SUBSECTION_VERSION);
    qemu_put_be64(f, config.ram_size);
    qemu_put_be32(f, config.vcpus);
}

/* Fails with the file's error, saying it was in the configuration. */
static int configuration_check_file(QEMUFile *f, Error **errp)
{
    int ret = qemu_file_get_error_obj(f, errp);

    if (ret < 0) {
        error_prepend(errp, "Failed to read the configuration section: ");
    }
    return ret;
}

static int configuration_load_type(QEMUFile *f, const MachineConfig *local,
                                   Error **errp)
{
    char name[MACHINE_TYPE_NAME_MAX + 1];
    uint32_t len = qemu_get_be32(f);
    int ret = configuration_check_file(f, errp);

    if (ret < 0) {
        return ret;
    }
    if (len > MACHINE_TYPE_NAME_MAX) {
        error_setg(errp, "Machine type name in the configuration section "
                   "is too long (%" PRIu32 " bytes)", len);
        return -EINVAL;
    }
    qemu_get_buffer(f, (uint8_t *)name, len);
    ret = configuration_check_file(f, errp);
    if (ret < 0) {
        return ret;
    }
    name[len] = '\0';
    trace_savevm_configuration_load(name);
    if (len != strlen(local->type) || memcmp(name, local->type, len)) {
        error_setg(errp, "Machine type received is '%.*s' and local is '%s'",
                   (int)len, name, local->type);
        return -EINVAL;
    }
    return 0;
}

static int configuration_load_machine(QEMUFile *f, uint32_t version,
                                      const MachineConfig *local,
                                      Error **errp)
{
    uint64_t ram_size;
    uint32_t vcpus;
    int ret;

    if (version != MACHINE_SUBSECTION_VERSION) {
        error_setg(errp, "Unsupported version %" PRIu32 " of subsection "
                   "'%s' (expected %d)", version, SAVEVM_MACHINE_SUBSECTION,
                   MACHINE_SUBSECTION_VERSION);
        return -EINVAL;
    }
    ram_size = qemu_get_be64(f);
    vcpus = qemu_get_be32(f);
    ret = configuration_check_file(f, errp);
    if (ret < 0) {
        return ret;
    }
    if (ram_size != local->ram_size) {
        error_setg(errp, "RAM size mismatch: received %" PRIu64 " bytes "
                   "and local is %" PRIu64 " bytes", ram_size,
                   local->ram_size);
        error_append_hint(errp, "Start the destination with the source's "
                          "-m\n");
        return -EINVAL;
    }
    if (vcpus != local->vcpus) {
        error_setg(errp, "vCPU count mismatch: received %" PRIu32
                   " and local is %" PRIu32, vcpus, local->vcpus);
        error_append_hint(errp, "Start the destination with the source's "
                          "-smp\n");
        return -EINVAL;
    }
    return 0;
}

/* Subsections until the next byte is not one; ours must be there. */
static int configuration_load_subsections(QEMUFile *f,
                                          const MachineConfig *local,
                                          Error **errp)
{
    bool seen = false;

    while (qemu_peek_byte(f, 0) == QEMU_VM_SUBSECTION) {
        char name[256];
        uint32_t version;
        int ret;

        qemu_get_byte(f);
        qemu_get_counted_string(f, name);
        version = qemu_get_be32(f);
        ret = configuration_check_file(f, errp);
        if (ret < 0) {
            return ret;
        }
        if (strcmp(name, SAVEVM_MACHINE_SUBSECTION) != 0) {
            error_setg(errp, "Unknown subsection '%s' in the configuration "
                       "section", name);
            return -EINVAL;
        }
        if (seen) {
            error_setg(errp, "Subsection '%s' appears twice in the "
                       "configuration section", name);
            return -EINVAL;
        }
        seen = true;
        ret = configuration_load_machine(f, version, local, errp);
        if (ret < 0) {
            return ret;
        }
    }
    if (!seen) {
        int ret;

        if (qemu_peek_byte(f, 0) < 0) {
            /* The stream ended here: let a read say so. */
            qemu_get_byte(f);
        }
        ret = configuration_check_file(f, errp);
        if (ret < 0) {
            return ret;
        }
        error_setg(errp, "The configuration section does not describe the "
                   "machine (no subsection '%s')",
                   SAVEVM_MACHINE_SUBSECTION);
        return -EINVAL;
    }
    return 0;
}

int savevm_configuration_load(QEMUFile *f, Error **errp)
{
    MachineConfig local = savevm_local_config();
    int type = qemu_get_byte(f);
    int ret = qemu_file_get_error_obj(f, errp);

    if (ret < 0) {
        error_prepend(errp, "Failed to read the configuration section: ");
        return ret;
    }
    if (type != QEMU_VM_CONFIGURATION) {
        error_setg(errp, "Configuration section missing");
        return -EINVAL;
    }
    if (!current_machine()) {
        error_setg(errp, "No machine to load the migration stream into");
        return -EINVAL;
    }
    ret = configuration_load_type(f, &local, errp);
    if (ret < 0) {
        return ret;
    }
    return configuration_load_subsections(f, &local, errp);
}
