/*
 * What the two COLO files share (not a public API).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_COLO_INT_H
#define MIGRATION_COLO_INT_H

/*
 * The takeover proper, run by the failover bottom half (main loop,
 * BQL held, failover status active).
 */
void colo_do_failover(void);

#endif /* MIGRATION_COLO_INT_H */
