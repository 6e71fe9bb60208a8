/*-------------------------------------------------------------------------
 *
 * maintenance.c
 *		One maintenance pass over every managed object:
 *		wallet_ops.run_maintenance() and each tick of the worker.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/maintenance.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "maintenance.h"
#include "common.h"
#include "matviews.h"
#include "scheduled_verify.h"
#include "partition_config.h"
#include "partitions.h"

PG_FUNCTION_INFO_V1(wallet_ops_run_maintenance);

void
MaintenanceRunAll(Oid only_relid, TimestampTz at, ActionReport *report)
{
	char		relkind = OidIsValid(only_relid) ? get_rel_relkind(only_relid) : '\0';

	/*
	 * partitions first: a refreshed view may read new partitions (a table
	 * only scheduled for verification is not an unmanaged-partitions error)
	 */
	if (!OidIsValid(only_relid) ||
		(relkind == RELKIND_PARTITIONED_TABLE &&
		 (!VerificationIsScheduled(only_relid) ||
		  list_member_oid(PartitionsManagedTables(), only_relid))))
		PartitionsRunMaintenance(only_relid, at, report);
	if (!OidIsValid(only_relid) || relkind == RELKIND_MATVIEW)
		MatviewsRunMaintenance(only_relid, report);
	/* scheduled verifications of hash chains that are due (scheduled_verify.c) */
	if (!OidIsValid(only_relid) || relkind == RELKIND_PARTITIONED_TABLE ||
		relkind == RELKIND_RELATION)
		VerificationRunScheduled(only_relid, report);
}

/*
 * run_maintenance(tbl regclass DEFAULT NULL) and, for tests,
 * _run_maintenance_at(tbl, at): does now what the worker does on its next
 * tick, and returns what it did.
 */
Datum
wallet_ops_run_maintenance(PG_FUNCTION_ARGS)
{
	ActionReport report;
	Oid			only_relid = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
	TimestampTz at = (PG_NARGS() > 1 && !PG_ARGISNULL(1)) ?
		PG_GETARG_TIMESTAMPTZ(1) : GetCurrentTimestamp();

	/* a table named by the caller must exist, and stay while we work */
	if (!PG_ARGISNULL(0))
		WalletOpsRelationLock(only_relid, AccessShareLock);
	ActionReportInit(fcinfo, &report);
	MaintenanceRunAll(only_relid, at, &report);
	return (Datum) 0;
}
