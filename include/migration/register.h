/*
 * What takes part in a migration stream: live sections (RAM), which
 * send their data over several passes while the guest runs, and device
 * states described by a VMStateDescription, sent whole once the guest
 * is stopped.
 *
 * Every entry gets a section id, in registration order, that the
 * stream uses to name it in PART and END sections.  (idstr, instance
 * id) must be unique: it is how the destination finds the entry a
 * START or FULL section is for.
 *
 * Registration happens during machine creation, BQL held, before any
 * migration runs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_REGISTER_H
#define MIGRATION_REGISTER_H

#include <stdbool.h>
#include <stdint.h>

#include "qapi/error.h"

typedef struct QEMUFile QEMUFile;
typedef struct VMStateDescription VMStateDescription;

/* Pick the lowest instance id not yet used for this idstr. */
#ifndef VMSTATE_INSTANCE_ID_ANY
#define VMSTATE_INSTANCE_ID_ANY ((uint32_t)-1)
#endif

/* Longest idstr: the stream carries it behind a one-byte length. */
#define SAVEVM_IDSTR_MAX 255

/*
 * Hooks of a live section.  Each may be NULL when it has nothing to
 * do.  Returns are 0 or a negative errno unless said otherwise; a
 * failure should also set the error on the QEMUFile so that the stream
 * says why.
 */
typedef struct SaveVMHandlers {
    /* Source, migration thread, BQL held: the START section's body. */
    int (*save_setup)(QEMUFile *f, void *opaque, Error **errp);
    /*
     * Source, migration thread, no BQL: one PART section's body.
     * > 0: nothing is left to send for now.
     */
    int (*save_live_iterate)(QEMUFile *f, void *opaque);
    /* Source, VM stopped, BQL held: the END section's body. */
    int (*save_live_complete_precopy)(QEMUFile *f, void *opaque);
    /* Bytes still to send: a cheap estimate.  Any thread, no lock. */
    void (*save_pending)(void *opaque, uint64_t *pending_bytes);
    /* Bytes still to send, exactly: may sync the dirty log.  BQL held. */
    void (*save_pending_exact)(void *opaque, uint64_t *pending_bytes);
    /* Source: release what save_setup took.  Always called once.  BQL. */
    void (*save_cleanup)(void *opaque);
    /* Does this section take part in this migration?  NULL: yes. */
    bool (*is_active)(void *opaque);
    /* Destination: before the first section is loaded. */
    int (*load_setup)(QEMUFile *f, void *opaque, Error **errp);
    /* Destination: the body of one START, PART or END section. */
    int (*load_state)(QEMUFile *f, void *opaque, int version_id,
                      Error **errp);
    /* Destination: after the load, whether it succeeded or not. */
    int (*load_cleanup)(void *opaque);
} SaveVMHandlers;

/*
 * Register the live section @idstr.  @ops is static storage.  Returns
 * the instance id used (>= 0), or -1 when @idstr is too long or
 * (@idstr, @instance_id) is taken.
 */
int register_savevm_live(const char *idstr, uint32_t instance_id,
                         int version_id, const SaveVMHandlers *ops,
                         void *opaque);

/*
 * Register a device state: its section is named after @vmsd->name.
 * @vmsd is static storage; @opaque is the device's state struct.
 * Returns the instance id used (>= 0), or -1 on a clash.
 */
int vmstate_register(uint32_t instance_id, const VMStateDescription *vmsd,
                     void *opaque);
/* Remove what vmstate_register(@vmsd, @opaque) added, if anything. */
void vmstate_unregister(const VMStateDescription *vmsd, void *opaque);
/* Remove the live section registered with @opaque under @idstr. */
void unregister_savevm(const char *idstr, void *opaque);

/* Forget every entry and restart section ids at 0 (tests, shutdown). */
void unregister_savevm_all(void);

#endif /* MIGRATION_REGISTER_H */
