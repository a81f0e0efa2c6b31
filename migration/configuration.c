/*
 * The head of the stream: which machine it was taken from.
 *
 * Right after the header come QEMU's "configuration" section (be32
 * length + machine type name, nothing else) and our machine section, a
 * FULL section "colo-vm-machine" version 1 (instance 0) carrying be64
 * RAM size and be32 vCPU count, with its footer.  A destination built
 * differently cannot hold the state, and must say so before loading
 * any of it.
 *
 * The machine is a section rather than a subsection of the
 * configuration because tools that read QEMU streams take the
 * configuration to be the name alone unless the VMDESCRIPTION says
 * otherwise (QEMU's analyze-migration.py before 8.2 always does), and
 * stop at whatever else follows it; a FULL section that the
 * VMDESCRIPTION describes is read by all of them.
 * savevm_configuration_describe() gives those descriptions.
 *
 * Both are written and read by hand rather than through vmstate so
 * that each mismatch gets its own message and the name is bounded
 * before anything is allocated.
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

#define CONFIGURATION_VMSD_VERSION 1
#define MACHINE_SECTION_VERSION 1
#define MACHINE_SECTION_INSTANCE 0
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
    uint32_t section_id = savevm_unused_section_id();
    size_t len = strlen(config.type);

    qemu_put_byte(f, QEMU_VM_CONFIGURATION);
    qemu_put_be32(f, len);
    qemu_put_buffer(f, (const uint8_t *)config.type, len);

    qemu_put_byte(f, QEMU_VM_SECTION_FULL);
    qemu_put_be32(f, section_id);
    qemu_put_counted_string(f, SAVEVM_MACHINE_SECTION);
    qemu_put_be32(f, MACHINE_SECTION_INSTANCE);
    qemu_put_be32(f, MACHINE_SECTION_VERSION);
    qemu_put_be64(f, config.ram_size);
    qemu_put_be32(f, config.vcpus);
    qemu_put_byte(f, QEMU_VM_SECTION_FOOTER);
    qemu_put_be32(f, section_id);
}

static json_t *describe_field(const char *name, const char *type,
                              size_t size)
{
    json_t *field = json_object();

    json_object_set_new(field, "name", json_string(name));
    json_object_set_new(field, "type", json_string(type));
    json_object_set_new(field, "size", json_integer(size));
    return field;
}

/* Keys in QEMU's order: what vmstate writes for a description. */
static json_t *describe_vmsd(json_t *desc, const char *vmsd_name,
                             int version)
{
    json_t *fields = json_array();

    json_object_set_new(desc, "vmsd_name", json_string(vmsd_name));
    json_object_set_new(desc, "version", json_integer(version));
    json_object_set_new(desc, "fields", fields);
    return fields;
}

void savevm_configuration_describe(json_t *vmdesc, json_t *devices)
{
    MachineConfig config = savevm_local_config();
    json_t *conf = json_object();
    json_t *machine = json_object();
    json_t *fields;

    /* QEMU's "configuration" description: length, then the name. */
    fields = describe_vmsd(conf, "configuration",
                           CONFIGURATION_VMSD_VERSION);
    json_array_append_new(fields, describe_field("len", "uint32", 4));
    json_array_append_new(fields, describe_field("name", "buffer",
                                                 strlen(config.type)));
    json_object_set_new(vmdesc, "configuration", conf);

    json_object_set_new(machine, "name",
                        json_string(SAVEVM_MACHINE_SECTION));
    json_object_set_new(machine, "instance_id",
                        json_integer(MACHINE_SECTION_INSTANCE));
    fields = describe_vmsd(machine, SAVEVM_MACHINE_SECTION,
                           MACHINE_SECTION_VERSION);
    json_array_append_new(fields, describe_field("ram_size", "uint64", 8));
    json_array_append_new(fields, describe_field("vcpus", "uint32", 4));
    json_array_append_new(devices, machine);
}

/* Fails with the file's error, saying what was being read. */
static int configuration_check_file(QEMUFile *f, const char *what,
                                    Error **errp)
{
    int ret = qemu_file_get_error_obj(f, errp);

    if (ret < 0) {
        error_prepend(errp, "Failed to read the %s: ", what);
    }
    return ret;
}

static int configuration_load_type(QEMUFile *f, const MachineConfig *local,
                                   Error **errp)
{
    char name[MACHINE_TYPE_NAME_MAX + 1];
    uint32_t len = qemu_get_be32(f);
    int ret = configuration_check_file(f, "configuration section", errp);

    if (ret < 0) {
        return ret;
    }
    if (len > MACHINE_TYPE_NAME_MAX) {
        error_setg(errp, "Machine type name in the configuration section "
                   "is too long (%" PRIu32 " bytes)", len);
        return -EINVAL;
    }
    qemu_get_buffer(f, (uint8_t *)name, len);
    ret = configuration_check_file(f, "configuration section", errp);
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

/* The FULL section header, naming our machine section; its id. */
static int machine_section_header(QEMUFile *f, uint32_t *section_id,
                                  Error **errp)
{
    char name[SAVEVM_IDSTR_MAX + 1];
    uint8_t type = qemu_get_byte(f);
    uint32_t instance_id, version;
    int ret = configuration_check_file(f, "machine section", errp);

    if (ret < 0) {
        return ret;
    }
    if (type != QEMU_VM_SECTION_FULL) {
        error_setg(errp, "The stream does not describe the machine: "
                   "section type %u where section '%s' was expected",
                   type, SAVEVM_MACHINE_SECTION);
        return -EINVAL;
    }
    *section_id = qemu_get_be32(f);
    qemu_get_counted_string(f, name);
    instance_id = qemu_get_be32(f);
    version = qemu_get_be32(f);
    ret = configuration_check_file(f, "machine section", errp);
    if (ret < 0) {
        return ret;
    }
    trace_savevm_machine_section_load(*section_id, name, instance_id,
                                      version);
    if (strcmp(name, SAVEVM_MACHINE_SECTION) != 0 ||
        instance_id != MACHINE_SECTION_INSTANCE) {
        error_setg(errp, "The stream does not describe the machine: "
                   "section '%s' instance %" PRIu32 " where section '%s' "
                   "was expected", name, instance_id,
                   SAVEVM_MACHINE_SECTION);
        return -EINVAL;
    }
    if (version != MACHINE_SECTION_VERSION) {
        error_setg(errp, "Unsupported version %" PRIu32 " of section '%s' "
                   "(expected %d)", version, SAVEVM_MACHINE_SECTION,
                   MACHINE_SECTION_VERSION);
        return -EINVAL;
    }
    return 0;
}

static int machine_section_check(const MachineConfig *received,
                                 const MachineConfig *local, Error **errp)
{
    if (received->ram_size != local->ram_size) {
        error_setg(errp, "RAM size mismatch: received %" PRIu64 " bytes "
                   "and local is %" PRIu64 " bytes", received->ram_size,
                   local->ram_size);
        error_append_hint(errp, "Start the destination with the source's "
                          "-m\n");
        return -EINVAL;
    }
    if (received->vcpus != local->vcpus) {
        error_setg(errp, "vCPU count mismatch: received %" PRIu32
                   " and local is %" PRIu32, received->vcpus, local->vcpus);
        error_append_hint(errp, "Start the destination with the source's "
                          "-smp\n");
        return -EINVAL;
    }
    return 0;
}

static int configuration_load_machine(QEMUFile *f, const MachineConfig *local,
                                      Error **errp)
{
    MachineConfig received = { local->type, 0, 0 };
    uint32_t section_id;
    int ret = machine_section_header(f, &section_id, errp);

    if (ret < 0) {
        return ret;
    }
    received.ram_size = qemu_get_be64(f);
    received.vcpus = qemu_get_be32(f);
    ret = configuration_check_file(f, "machine section", errp);
    if (ret < 0) {
        return ret;
    }
    ret = savevm_load_section_footer(f, SAVEVM_MACHINE_SECTION, section_id,
                                     errp);
    if (ret < 0) {
        return ret;
    }
    return machine_section_check(&received, local, errp);
}

int savevm_configuration_load(QEMUFile *f, Error **errp)
{
    MachineConfig local = savevm_local_config();
    int type = qemu_get_byte(f);
    int ret = configuration_check_file(f, "configuration section", errp);

    if (ret < 0) {
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
    return configuration_load_machine(f, &local, errp);
}
