/*
 * The COLO proxy: the -object types that carry a guest's serial byte
 * streams between the two COLO sides and decide when the primary's
 * output may reach the outside (docs/colo.md):
 *
 *   colo-compare       primary: compares both guests' output, releases
 *                      what matches, asks for a checkpoint on a
 *                      difference, or holds everything until the next
 *                      committed checkpoint (mode=buffer)
 *   filter-mirror      primary: copies the client's input to the
 *                      secondary
 *   filter-redirector  secondary: feeds the mirrored input to the guest
 *                      and sends the guest's output to the comparer
 *                      instead of its own backend, until a takeover
 *
 * Main thread, BQL held.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PROXY_COLO_PROXY_H
#define PROXY_COLO_PROXY_H

#include <stdbool.h>

#include "qapi/error.h"

/*
 * -object TYPE,id=ID,...: create one object; the chardevs it names must
 * exist.  False with errp set (QEMU's texts where QEMU has one).
 */
bool colo_proxy_object_add(const char *optarg, Error **errp);

/* Free every object (before the chardevs go). */
void colo_proxy_cleanup(void);

#endif /* PROXY_COLO_PROXY_H */
