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
#include "nodes/pg_list.h"

#include "common.h"

/*
 * The steps of a maintenance pass, in the order they are done: partitions
 * first, because a refreshed view may read new partitions.
 */
typedef enum MaintenanceStep
{
	MAINT_STEP_HOUSEKEEPING,	/* purge job_log, forget vanished views */
	MAINT_STEP_PARTITIONS,		/* one object per managed table */
	MAINT_STEP_MATVIEWS,		/* one object per view due for a refresh */
	MAINT_STEP_VERIFICATIONS,	/* the scheduled verifications that are due */
	MAINT_STEP_DIGESTS			/* scheduled digests: taken, shipped (worker) */
} MaintenanceStep;

#define MAINT_NUM_STEPS (MAINT_STEP_DIGESTS + 1)

/* A short name of the step, for job_log and pg_stat_activity. */
extern const char *MaintenanceStepName(MaintenanceStep step);

/*
 * The objects step works on now, each a unit of work the worker gives a
 * transaction of its own: only_relid's when valid (an empty list when the
 * step does not apply to it), else every object due.  InvalidOid in the
 * list stands for the step's work as a whole.
 */
extern List *MaintenanceStepObjects(MaintenanceStep step, Oid only_relid);

/*
 * Does step's work on one object listed by MaintenanceStepObjects(), as
 * of `at`, as role as_role when valid (the worker: wallet_ops.role), in
 * the current transaction; failures of one object are recorded, not
 * raised, as far as the step can isolate them.
 */
extern void MaintenanceStepRun(MaintenanceStep step, Oid object, TimestampTz at,
							   Oid as_role, ActionReport *report);

/*
 * Whether this database needs a tick every naptime: something has its
 * partitions managed, its verification or its digest scheduled, a view is refreshed
 * at intervals or is due now.  Otherwise a tick comes only when something
 * wakes the launcher (a view's source changed, something was managed).
 */
extern bool MaintenanceNeedsTicks(void);

#endif							/* WALLET_OPS_MAINTENANCE_H */
