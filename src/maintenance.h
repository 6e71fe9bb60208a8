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
 * through a MaintenanceReport.
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

#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/tuplestore.h"

/*
 * Where a maintenance pass reports its actions: the rows (object, action,
 * detail) of run_maintenance().  tupstore may be NULL (the worker), in
 * which case reports are only counted.
 */
typedef struct MaintenanceReport
{
	Tuplestorestate *tupstore;
	TupleDesc	tupdesc;
	uint64		actions;		/* rows reported so far */
	uint64		errors;			/* objects whose maintenance failed */
} MaintenanceReport;

/*
 * Sets up report as the materialised result (object, action, detail) of the
 * set-returning SQL function called through fcinfo.
 */
extern void MaintenanceReportInit(FunctionCallInfo fcinfo,
								  MaintenanceReport *report);

/*
 * One full maintenance pass as of `at`: partitions first, then materialised
 * views; only_relid restricts it to one object when valid.  Runs in the
 * current transaction, one subtransaction per object.
 */
extern void MaintenanceRunAll(Oid only_relid, TimestampTz at,
							  MaintenanceReport *report);

extern void MaintenanceReportAction(MaintenanceReport *report,
									const char *object, const char *action,
									const char *detail);

#endif							/* WALLET_OPS_MAINTENANCE_H */
