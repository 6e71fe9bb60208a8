/*-------------------------------------------------------------------------
 *
 * maintenance.h
 *		One maintenance pass over every managed object: what
 *		wallet_ops.run_maintenance() does now and the worker does each tick.
 *
 * Each concern (partitions, materialised views, scheduled verifications)
 * exposes a function that maintains its objects, one at a time, each in a
 * subtransaction of its own so that one object's failure never stops the
 * others, records every run in wallet_ops.job_log and reports what it did
 * through a ActionReport.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/maintenance.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_MAINTENANCE_H
#define WALLET_OPS_MAINTENANCE_H

#include "datatype/timestamp.h"

#include "common.h"

/*
 * One full maintenance pass as of `at`: partitions first, then materialised
 * views; only_relid restricts it to one object when valid.  Runs in the
 * current transaction, one subtransaction per object.
 */
extern void MaintenanceRunAll(Oid only_relid, TimestampTz at,
							  ActionReport *report);

#endif							/* WALLET_OPS_MAINTENANCE_H */
