/*
 * The stream framing: a live section and two device instances produce
 * exactly the bytes written out below; they load back; every
 * truncation and a set of corruptions fail with the error that names
 * the problem.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "io/channel-buffer.h"
#include "migration/savevm-int.h"
#include "savevm-fixture.h"
#include "util/bql.h"

#define FIELDS_JSON \
    "[{\"name\":\"a\",\"type\":\"uint8\",\"size\":1}," \
    "{\"name\":\"b\",\"type\":\"uint16\",\"size\":2}," \
    "{\"name\":\"c\",\"type\":\"uint32\",\"size\":4}," \
    "{\"name\":\"d\",\"type\":\"uint64\",\"size\":8}]"
#define CONFIGURATION_JSON \
    "{\"vmsd_name\":\"configuration\",\"version\":1,\"fields\":[" \
    "{\"name\":\"len\",\"type\":\"uint32\",\"size\":4}," \
    "{\"name\":\"name\",\"type\":\"buffer\",\"size\":8}]}"
#define MACHINE_JSON \
    "{\"name\":\"colo-vm-machine\",\"instance_id\":0," \
    "\"vmsd_name\":\"colo-vm-machine\",\"version\":1,\"fields\":[" \
    "{\"name\":\"ram_size\",\"type\":\"uint64\",\"size\":8}," \
    "{\"name\":\"vcpus\",\"type\":\"uint32\",\"size\":4}]}"
#define VMDESC_JSON \
    "{\"configuration\":" CONFIGURATION_JSON "," \
    "\"page_size\":4096,\"devices\":[" MACHINE_JSON "," \
    "{\"name\":\"tiny\",\"instance_id\":0,\"vmsd_name\":\"tiny\"," \
    "\"version\":2,\"fields\":" FIELDS_JSON "}," \
    "{\"name\":\"tiny\",\"instance_id\":1,\"vmsd_name\":\"tiny\"," \
    "\"version\":2,\"fields\":" FIELDS_JSON "}]}"

static const uint8_t golden_header[] = {
    0x51, 0x45, 0x56, 0x4d,                     /* "QEVM" */
    0x00, 0x00, 0x00, 0x03,                     /* version 3 */
    0x07,                                       /* CONFIGURATION */
    0x00, 0x00, 0x00, 0x08,
    'c', 'o', 'l', 'o', '-', 'x', '8', '6',
    0x04, 0x00, 0x00, 0x00, 0x03,               /* FULL, section 3 */
    15, 'c', 'o', 'l', 'o', '-', 'v', 'm', '-', 'm', 'a', 'c', 'h', 'i',
    'n', 'e',
    0x00, 0x00, 0x00, 0x00,                     /* instance 0 */
    0x00, 0x00, 0x00, 0x01,                     /* version 1 */
    0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, /* 64 MiB */
    0x00, 0x00, 0x00, 0x02,                     /* 2 vCPUs */
    0x7e, 0x00, 0x00, 0x00, 0x03,               /* FOOTER 3 */
};

static const uint8_t golden_live[] = {
    0x08, 0x00, 0x01, 0x00, 0x00,               /* OPEN_RETURN_PATH */
    0x08, 0x00, 0x08, 0x00, 0x00,               /* ENABLE_COLO */
    0x01, 0x00, 0x00, 0x00, 0x00,               /* START, section 0 */
    0x04, 'l', 'i', 'v', 'e',
    0x00, 0x00, 0x00, 0x00,                     /* instance 0 */
    0x00, 0x00, 0x00, 0x01,                     /* version 1 */
    'S', 0x5e, 0x7a, 0x00, 0x01,
    0x7e, 0x00, 0x00, 0x00, 0x00,               /* FOOTER 0 */
    0x08, 0x00, 0x02, 0x00, 0x04,               /* PING */
    0x01, 0x02, 0x03, 0x04,
    0x02, 0x00, 0x00, 0x00, 0x00,               /* PART, section 0 */
    'P', 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
    0x7e, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x00,               /* PART, section 0 */
    'P', 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x01,
    0x7e, 0x00, 0x00, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x00, 0x00,               /* END, section 0 */
    'E', 0xe0, 0xd5,
    0x7e, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t golden_devices[] = {
    0x04, 0x00, 0x00, 0x00, 0x01,               /* FULL, section 1 */
    0x04, 't', 'i', 'n', 'y',
    0x00, 0x00, 0x00, 0x00,                     /* instance 0 */
    0x00, 0x00, 0x00, 0x02,                     /* version 2 */
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    0x7e, 0x00, 0x00, 0x00, 0x01,               /* FOOTER 1 */
    0x04, 0x00, 0x00, 0x00, 0x02,               /* FULL, section 2 */
    0x04, 't', 'i', 'n', 'y',
    0x00, 0x00, 0x00, 0x01,                     /* instance 1 */
    0x00, 0x00, 0x00, 0x02,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x7e, 0x00, 0x00, 0x00, 0x02,               /* FOOTER 2 */
    0x00,                                       /* EOF */
};

static const uint8_t golden_vmdesc_header[] = {
    0x06, 0x00, 0x00, 0x03, 0x2d,               /* VMDESCRIPTION, 813 */
};

/* Offsets into the golden stream, for the corruption table. */
#define OFF_CONFIG      8
#define OFF_MACHINE     13
#define OFF_MSECTION    (OFF_MACHINE + 8)
#define OFF_MNAME       (OFF_MSECTION + 6)
#define OFF_MINSTANCE   (OFF_MNAME + 15)
#define OFF_MVERSION    (OFF_MINSTANCE + 4)
#define OFF_MRAM        (OFF_MVERSION + 4)
#define OFF_MVCPUS      (OFF_MRAM + 8)
#define OFF_MFOOTER     (OFF_MVCPUS + 4)
#define OFF_LIVE        (int)sizeof(golden_header)
#define OFF_START       (OFF_LIVE + 10)
#define OFF_START_BODY  (OFF_START + 18)
#define OFF_START_FOOT  (OFF_START_BODY + 5)
#define OFF_PING        (OFF_START_FOOT + 5)
#define OFF_PART        (OFF_PING + 9)
#define OFF_DEVICES     (OFF_LIVE + (int)sizeof(golden_live))
#define OFF_FULL1       (OFF_DEVICES + 38)
#define OFF_EOF         (OFF_DEVICES + (int)sizeof(golden_devices) - 1)
#define OFF_VMDESC      (OFF_EOF + 1)

typedef struct TestState {
    FakeLive live;
    TinyDev tiny0, tiny1;
} TestState;

static GByteArray *golden_stream(void)
{
    GByteArray *g = g_byte_array_new();

    g_byte_array_append(g, golden_header, sizeof(golden_header));
    g_byte_array_append(g, golden_live, sizeof(golden_live));
    g_byte_array_append(g, golden_devices, sizeof(golden_devices));
    g_byte_array_append(g, golden_vmdesc_header,
                        sizeof(golden_vmdesc_header));
    g_byte_array_append(g, (const uint8_t *)VMDESC_JSON,
                        strlen(VMDESC_JSON));
    return g;
}

static int setup(void **state)
{
    TestState *s = g_new0(TestState, 1);

    fixture_reset();
    fixture_register(&s->live, &s->tiny0, &s->tiny1);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    fixture_reset();
    g_free(*state);
    return 0;
}

static void assert_error_contains(Error *err, const char *expected)
{
    assert_non_null(err);
    if (!strstr(error_get_pretty(err), expected)) {
        fail_msg("error \"%s\" does not contain \"%s\"",
                 error_get_pretty(err), expected);
    }
}

/* Load @len bytes expecting failure with @expected in the message. */
static void load_expect_error(const uint8_t *data, size_t len,
                              const char *expected)
{
    Error *err = NULL;
    int ret = fixture_load(data, len, qemu_loadvm_state, &err);

    if (ret >= 0) {
        fail_msg("load of %zu bytes succeeded, expected \"%s\"", len,
                 expected);
    }
    assert_error_contains(err, expected);
    error_free(err);
}

static void test_save_golden(void **state)
{
    TestState *s = *state;
    g_autoptr(GByteArray) expected = golden_stream();
    g_autofree uint8_t *data = NULL;
    size_t len;

    fixture_fill_tiny(&s->tiny0, &s->tiny1);
    data = fixture_save_stream(&len);
    assert_int_equal(len, expected->len);
    assert_memory_equal(data, expected->data, len);
    assert_int_equal(s->live.setups, 1);
    assert_int_equal(s->live.sent, 2);
    assert_int_equal(s->live.cleanups, 1);
}

static void test_load_golden(void **state)
{
    TestState *s = *state;
    g_autoptr(GByteArray) stream = golden_stream();

    assert_int_equal(fixture_load(stream->data, stream->len,
                                  qemu_loadvm_state, &error_abort), 0);
    assert_int_equal(s->tiny0.a, 0x11);
    assert_int_equal(s->tiny0.b, 0x2233);
    assert_int_equal(s->tiny0.c, 0x44556677);
    assert_true(s->tiny0.d == 0x8899aabbccddeeffULL);
    assert_int_equal(s->tiny1.a, 0x01);
    assert_int_equal(s->tiny1.b, 0x0203);
    assert_int_equal(s->tiny1.c, 0x04050607);
    assert_true(s->tiny1.d == 0x08090a0b0c0d0e0fULL);
    /* Device sections are loaded under the BQL even if we lack it. */
    assert_int_equal(s->tiny0.post_loads, 1);
    assert_true(s->tiny0.post_load_had_bql);
    assert_false(bql_locked());

    assert_int_equal(s->live.got_setup, 0x5e7a0001);
    assert_int_equal(s->live.nparts, 2);
    assert_true(s->live.got_parts[0] == 0x1000);
    assert_true(s->live.got_parts[1] == 0x1001);
    assert_int_equal(s->live.got_end, 0xe0d5);
    assert_int_equal(s->live.load_setups, 1);
    assert_int_equal(s->live.load_cleanups, 1);

    assert_int_equal(fixture_hooks.open_return_path, 1);
    assert_int_equal(fixture_hooks.enable_colo, 1);
    assert_int_equal(fixture_hooks.pongs, 1);
    assert_int_equal(fixture_hooks.last_pong, 0x01020304);
}

/*
 * A device state is loaded with the caller's BQL (a whole stream never
 * is): no deadlock, the BQL is still held afterwards, same result.
 */
static void test_load_with_bql(void **state)
{
    TestState *s = *state;

    bql_lock();
    assert_int_equal(fixture_load(golden_devices, sizeof(golden_devices),
                                  qemu_load_device_state, &error_abort), 0);
    assert_true(bql_locked());
    bql_unlock();
    assert_true(s->tiny1.post_load_had_bql);
    assert_int_equal(s->tiny1.c, 0x04050607);
}

/* The description is optional: a stream may end right after EOF. */
static void test_load_without_vmdesc(void **state)
{
    TestState *s = *state;
    g_autoptr(GByteArray) stream = golden_stream();

    assert_int_equal(fixture_load(stream->data, OFF_VMDESC,
                                  qemu_loadvm_state, &error_abort), 0);
    assert_int_equal(s->tiny1.a, 0x01);
}

/*
 * The description's length never holds a '{' after its last zero byte
 * (tools would take it for the start of the JSON); spaces after the
 * JSON, which change the length, are accepted on load.
 */
static void test_vmdesc_length(void **state)
{
    g_autoptr(GByteArray) stream = golden_stream();
    size_t json_len = strlen(VMDESC_JSON);
    uint32_t padded = json_len + 2;

    assert_false(savevm_vmdesc_len_misleads(json_len));
    assert_true(savevm_vmdesc_len_misleads(0x7b));
    assert_true(savevm_vmdesc_len_misleads(0x17b));
    assert_true(savevm_vmdesc_len_misleads(0x7b01));
    assert_true(savevm_vmdesc_len_misleads(0x7b7b));
    assert_false(savevm_vmdesc_len_misleads(0x7b00));
    assert_false(savevm_vmdesc_len_misleads(0x7c));
    assert_false(savevm_vmdesc_len_misleads(0x1000000));

    stream->data[OFF_VMDESC + 3] = padded >> 8;
    stream->data[OFF_VMDESC + 4] = padded;
    g_byte_array_append(stream, (const uint8_t *)"  ", 2);
    assert_int_equal(fixture_load(stream->data, stream->len,
                                  qemu_loadvm_state, &error_abort), 0);
}

/* Whatever follows the description is left for the next reader. */
static void test_load_leaves_trailer(void **state)
{
    g_autoptr(GByteArray) stream = golden_stream();
    QIOChannel *ioc = qio_channel_buffer_new(0);
    QEMUFile *f;

    g_byte_array_append(stream, (const uint8_t *)"\x00\x00\x00\x01", 4);
    qio_channel_buffer_set_data(ioc, stream->data, stream->len);
    f = qemu_file_new_input(ioc);
    assert_int_equal(qemu_loadvm_state(f, &error_abort), 0);
    assert_int_equal(qemu_get_be32(f), 1);
    assert_int_equal(qemu_file_get_error(f), 0);
    qemu_fclose(f);
    qio_channel_unref(ioc);
}

static void test_truncations(void **state)
{
    g_autoptr(GByteArray) stream = golden_stream();

    for (size_t n = 0; n < stream->len; n++) {
        if (n == OFF_VMDESC) {
            continue;   /* a complete state without its description */
        }
        fixture_reset();
        {
            TestState fresh = { 0 };

            fixture_register(&fresh.live, &fresh.tiny0, &fresh.tiny1);
            load_expect_error(stream->data, n, "Unexpected end of stream");
        }
    }
}

typedef struct Corruption {
    int offset;
    uint8_t value;
    const char *error;
} Corruption;

static const Corruption corruptions[] = {
    { 0, 0x52, "Not a migration stream" },
    { 7, 0x02, "SaveVM v2 format is obsolete and don't work anymore" },
    { 7, 0x04, "Unsupported migration stream version" },
    { OFF_CONFIG, 0x01, "Configuration section missing" },
    { OFF_CONFIG + 1, 0xff, "Machine type name in the configuration "
      "section is too long (4278190088 bytes)" },
    { OFF_MACHINE + 7, '7', "Machine type received is 'colo-x87' and "
      "local is 'colo-x86'" },
    { OFF_MSECTION, 0x05, "The stream does not describe the machine: "
      "section type 5 where section 'colo-vm-machine' was expected" },
    { OFF_MNAME + 14, 'X', "The stream does not describe the machine: "
      "section 'colo-vm-machinX' instance 0 where section "
      "'colo-vm-machine' was expected" },
    { OFF_MINSTANCE + 3, 0x01, "section 'colo-vm-machine' instance 1 "
      "where" },
    { OFF_MVERSION + 3, 0x02, "Unsupported version 2 of section "
      "'colo-vm-machine' (expected 1)" },
    { OFF_MRAM + 4, 0x08, "RAM size mismatch: received 134217728 bytes "
      "and local is 67108864 bytes" },
    { OFF_MVCPUS + 3, 0x03, "vCPU count mismatch: received 3 and local "
      "is 2" },
    { OFF_MFOOTER, 0x7f, "Missing section footer for colo-vm-machine" },
    { OFF_MFOOTER + 4, 0x09, "Mismatched section id in footer for "
      "colo-vm-machine - read 0x9 expected 0x3" },
    { OFF_LIVE + 2, 0x03, "Migration command POSTCOPY_ADVISE (0x3) is "
      "not supported" },
    { OFF_LIVE + 2, 0x63, "MIG_CMD 0x63 unknown (len 0x0)" },
    { OFF_LIVE + 1, 0x01, "MIG_CMD 0x101 unknown (len 0x0)" },
    { OFF_LIVE + 4, 0x01, "OPEN_RETURN_PATH received with bad length - "
      "expecting 0, got 1" },
    { OFF_PING + 4, 0x03, "PING received with bad length - expecting 4, "
      "got 3" },
    { OFF_START, 0x09, "Unknown savevm section type 9" },
    { OFF_START, 0x02, "Unknown savevm section 0" },
    { OFF_START, 0x04, "Section 'live' is a live section: it cannot come "
      "in a FULL section" },
    { OFF_START + 9, 'f', "Unknown savevm section or instance 'livf' 0. "
      "Make sure that your current VM setup matches your saved VM setup, "
      "including any hotplugged devices" },
    { OFF_START + 5, 0x00, "Unable to read ID string for section 0" },
    { OFF_START + 13, 0x05, "Unknown savevm section or instance 'live' 5" },
    { OFF_START + 17, 0x02, "savevm: unsupported version 2 for 'live' v1" },
    { OFF_START_BODY, 'Q', "error while loading state for instance 0x0 of "
      "device 'live': live: unknown record 0x51" },
    { OFF_START_BODY + 4, 0x02, "live: bad setup value 0x5e7a0002" },
    { OFF_START_FOOT, 0x7f, "Missing section footer for live" },
    { OFF_START_FOOT + 4, 0x09, "Mismatched section id in footer for live "
      "- read 0x9 expected 0x0" },
    { OFF_PART + 4, 0x07, "Unknown savevm section 7" },
    { OFF_PART + 5, 'Q', "error while loading state section id 0(live): "
      "live: unknown record 0x51" },
    { OFF_DEVICES, 0x01, "Section 'tiny' is a device state: it cannot "
      "come in a START section" },
    { OFF_DEVICES + 4, 0x00, "Section id 0 of 'tiny' is already used by "
      "'live'" },
    { OFF_DEVICES + 17, 0x03, "savevm: unsupported version 3 for 'tiny' v2" },
    { OFF_DEVICES + 17, 0x00, "error while loading state for instance 0x0 "
      "of device 'tiny': Device 'tiny': incoming version_id 0 is older" },
    { OFF_DEVICES + 37, 0x02, "Mismatched section id in footer for tiny - "
      "read 0x2 expected 0x1" },
    { OFF_FULL1 + 13, 0x05, "Unknown savevm section or instance 'tiny' 5" },
    { OFF_FULL1 + 6, 'T', "Unknown savevm section or instance 'Tiny' 1" },
    { OFF_EOF, 0x7e, "Unknown savevm section type 126" },
    { OFF_VMDESC + 1, 0x7f, "VMDESCRIPTION is too long (2130707245 bytes, "
      "at most 16777216)" },
    { OFF_VMDESC + 5, '[', "VMDESCRIPTION is not a JSON object" },
};

static void test_corruptions(void **state)
{
    g_autoptr(GByteArray) stream = golden_stream();

    for (size_t i = 0; i < G_N_ELEMENTS(corruptions); i++) {
        const Corruption *c = &corruptions[i];
        g_autofree uint8_t *copy = g_malloc(stream->len);
        TestState fresh = { 0 };

        assert_true(c->offset < (int)stream->len);
        memcpy(copy, stream->data, stream->len);
        assert_int_not_equal(copy[c->offset], c->value);
        copy[c->offset] = c->value;
        fixture_reset();
        fixture_register(&fresh.live, &fresh.tiny0, &fresh.tiny1);
        load_expect_error(copy, stream->len, c->error);
        /* load_cleanup follows a load_setup, whatever happened. */
        assert_int_equal(fresh.live.load_setups, fresh.live.load_cleanups);
    }
}

static void test_machine_mismatch(void **state)
{
    g_autoptr(GByteArray) stream = golden_stream();

    MachineState *ms = current_machine();

    g_free(ms->type);
    ms->type = g_strdup("pc");
    load_expect_error(stream->data, stream->len, "Machine type received is "
                      "'colo-x86' and local is 'pc'");
    g_free(ms->type);
    ms->type = g_strdup(MACHINE_TYPE_DEFAULT);

    ms->ram_size = 128 * 1024 * 1024;
    load_expect_error(stream->data, stream->len, "RAM size mismatch: "
                      "received 67108864 bytes and local is 134217728 "
                      "bytes");
    ms->ram_size = FIXTURE_RAM_SIZE;

    ms->smp = 4;
    load_expect_error(stream->data, stream->len, "vCPU count mismatch: "
                      "received 2 and local is 4");
    ms->smp = FIXTURE_VCPUS;

    machine_free();
    load_expect_error(stream->data, stream->len, "No machine to load the "
                      "migration stream into");
}

static void test_open_return_path_fails(void **state)
{
    g_autoptr(GByteArray) stream = golden_stream();

    fixture_hooks.open_return_path_fails = true;
    load_expect_error(stream->data, stream->len, "CMD_OPEN_RETURN_PATH "
                      "failed: the channel has no reverse direction");
}

/* A device registered on the source only: the destination says which. */
static void test_unknown_device(void **state)
{
    TestState *s = *state;
    g_autoptr(GByteArray) stream = golden_stream();

    vmstate_unregister(&vmstate_tiny, &s->tiny1);
    load_expect_error(stream->data, stream->len, "Unknown savevm section "
                      "or instance 'tiny' 1");
}

/* An older device version: the fields it lacks are left alone. */
static void test_load_older_version(void **state)
{
    static const uint8_t v1_section[] = {
        0x04, 0x00, 0x00, 0x00, 0x01,
        0x04, 't', 'i', 'n', 'y',
        0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x01,                 /* version 1: no d */
        0x21, 0x43, 0x65, 0x87, 0xa9, 0xcb, 0xed,
        0x7e, 0x00, 0x00, 0x00, 0x01,
        0x00,
    };
    TestState *s = *state;

    s->tiny0.d = 42;
    assert_int_equal(fixture_load(v1_section, sizeof(v1_section),
                                  fixture_load_device_state, &error_abort),
                     0);
    assert_int_equal(s->tiny0.a, 0x21);
    assert_int_equal(s->tiny0.b, 0x4365);
    assert_int_equal(s->tiny0.c, 0x87a9cbed);
    assert_int_equal(s->tiny0.d, 42);
}

static void test_device_state(void **state)
{
    TestState *s = *state;
    QIOChannel *ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    const uint8_t *data;
    size_t len;

    fixture_fill_tiny(&s->tiny0, &s->tiny1);
    assert_int_equal(qemu_save_device_state(f, &error_abort), 0);
    data = qio_channel_buffer_data(ioc, &len);
    assert_int_equal(len, sizeof(golden_devices));
    assert_memory_equal(data, golden_devices, len);
    assert_int_equal(s->live.setups, 0);
    qemu_fclose(f);
    qio_channel_unref(ioc);

    memset(&s->tiny0, 0, sizeof(s->tiny0));
    memset(&s->tiny1, 0, sizeof(s->tiny1));
    assert_int_equal(fixture_load(golden_devices, sizeof(golden_devices),
                                  fixture_load_device_state, &error_abort),
                     0);
    assert_true(s->tiny0.d == 0x8899aabbccddeeffULL);
    assert_int_equal(s->tiny1.b, 0x0203);

    /* Only FULL sections belong to a device state. */
    {
        Error *err = NULL;
        int ret = fixture_load(golden_live + 10, sizeof(golden_live) - 10,
                               fixture_load_device_state, &err);

        assert_true(ret < 0);
        assert_error_contains(err, "Section type 1 is not allowed in a "
                              "device state");
        error_free(err);
    }
}

/* Entries are told apart by (idstr, instance id); ids go in order. */
static void test_registration(void **state)
{
    TestState *s = *state;
    TinyDev extra = { 0 };
    char longname[SAVEVM_IDSTR_MAX + 2];

    assert_int_equal(vmstate_register(0, &vmstate_tiny, &extra), -1);
    assert_int_equal(register_savevm_live("live", 0, 1, &fake_live_handlers,
                                          &extra), -1);
    assert_int_equal(register_savevm_live("live", VMSTATE_INSTANCE_ID_ANY,
                                          1, &fake_live_handlers, &extra),
                     1);
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(register_savevm_live(longname, 0, 1,
                                          &fake_live_handlers, NULL), -1);
    assert_int_equal(register_savevm_live("", 0, 1, &fake_live_handlers,
                                          NULL), -1);
    assert_int_equal(register_savevm_live("none", 0, 1, NULL, NULL), -1);

    /* Freed instance ids are reused by ANY. */
    vmstate_unregister(&vmstate_tiny, &s->tiny0);
    assert_int_equal(vmstate_register(VMSTATE_INSTANCE_ID_ANY,
                                      &vmstate_tiny, &extra), 0);
    unregister_savevm("live", &extra);
    assert_int_equal(register_savevm_live("live", VMSTATE_INSTANCE_ID_ANY,
                                          1, &fake_live_handlers, &extra),
                     1);
}

/* An inactive live section sends nothing; pending sums the others. */
static void test_inactive_and_pending(void **state)
{
    TestState *s = *state;
    QIOChannel *ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    uint64_t pending;
    size_t len;

    s->live.passes = 3;
    qemu_savevm_state_pending_estimate(&pending);
    assert_int_equal(pending, 3 * 4096);
    qemu_savevm_state_pending_exact(&pending);
    assert_int_equal(pending, 3 * 4096 + 1);

    s->live.active = false;
    qemu_savevm_state_pending_estimate(&pending);
    assert_int_equal(pending, 0);
    assert_int_equal(qemu_savevm_state_setup(f, &error_abort), 0);
    assert_int_equal(qemu_savevm_state_iterate(f), 1);
    qemu_savevm_state_cleanup();
    qemu_fflush(f);
    qio_channel_buffer_data(ioc, &len);
    assert_int_equal(len, 0);
    assert_int_equal(s->live.setups, 0);
    assert_int_equal(s->live.cleanups, 0);
    qemu_fclose(f);
    qio_channel_unref(ioc);
}

/* A second START for a section already started is refused. */
static void test_start_twice(void **state)
{
    QIOChannel *ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    const uint8_t *data;
    size_t len;

    qemu_savevm_state_header(f);
    assert_int_equal(qemu_savevm_state_setup(f, &error_abort), 0);
    assert_int_equal(qemu_savevm_state_setup(f, &error_abort), 0);
    qemu_savevm_state_cleanup();
    qemu_fflush(f);
    data = qio_channel_buffer_data(ioc, &len);
    load_expect_error(data, len, "Section 'live' started twice");
    qemu_fclose(f);
    qio_channel_unref(ioc);
}

/* A failing live section stops the stream with its error. */
static int failing_setup(QEMUFile *f, void *opaque, Error **errp)
{
    error_setg(errp, "no dirty log");
    return -EIO;
}

static const SaveVMHandlers failing_handlers = {
    .save_setup = failing_setup,
};

static void test_save_errors(void **state)
{
    QIOChannel *ioc = qio_channel_buffer_new(0);
    QEMUFile *f = qemu_file_new_output(ioc);
    Error *err = NULL;

    assert_int_equal(register_savevm_live("broken", 0, 1, &failing_handlers,
                                          NULL), 0);
    assert_true(qemu_savevm_state_setup(f, &err) < 0);
    assert_error_contains(err, "Setup of section 'broken' failed: no dirty "
                          "log");
    error_free(err);
    err = NULL;
    assert_true(qemu_file_get_error(f) < 0);
    qemu_savevm_state_cleanup();
    qemu_fclose(f);
    qio_channel_unref(ioc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_save_golden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_golden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_with_bql, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_without_vmdesc, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_leaves_trailer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vmdesc_length, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_truncations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corruptions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_machine_mismatch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_return_path_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_device, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_older_version, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_device_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inactive_and_pending, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_start_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_errors, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
