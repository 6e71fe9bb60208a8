/*-------------------------------------------------------------------------
 *
 * maintenance.c
 *		The maintenance pass, defined once: its steps, the objects each
 *		works on, and doing one object's work.  wallet_ops.run_maintenance()
 *		runs the pass in one transaction; each tick of the worker runs the
 *		same steps, giving each object a transaction of its own.
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
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "common.h"
#include "digest_ship.h"
#include "job_log.h"
#include "maintenance.h"
#include "matview_refresh.h"
#include "partition_config.h"
#include "partitions.h"
#include "scheduled_verify.h"

PG_FUNCTION_INFO_V1(wallet_ops_run_maintenance);

static const char *const step_names[MAINT_NUM_STEPS] = {
	"housekeeping", "partitions", "matviews", "verifications", "digests"
};

const char *
MaintenanceStepName(MaintenanceStep step)
{
	return step_names[step];
}

/*
 * run_maintenance() by a role that is not a superuser works on the objects
 * it owns; the worker works on all of them (as wallet_ops.role).
 */
static bool
caller_may_maintain(Oid relid)
{
	if (MyBackendType == B_BG_WORKER || superuser())
		return true;
	return WalletOpsOwnsRelation(relid, GetUserId());
}

static List *
owned_only(List *relids)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, relids)
		if (caller_may_maintain(lfirst_oid(lc)))
			result = lappend_oid(result, lfirst_oid(lc));
	return result;
}

List *
MaintenanceStepObjects(MaintenanceStep step, Oid only_relid)
{
	char		relkind = OidIsValid(only_relid) ? get_rel_relkind(only_relid) : '\0';

	switch (step)
	{
		case MAINT_STEP_HOUSEKEEPING:
			return OidIsValid(only_relid) ? NIL : list_make1_oid(InvalidOid);

		case MAINT_STEP_PARTITIONS:
			if (!OidIsValid(only_relid))
				return owned_only(PartitionsManagedTables());
			/* a table only scheduled for verification is not an error here */
			if (relkind != RELKIND_PARTITIONED_TABLE)
				return NIL;
			if (!list_member_oid(PartitionsManagedTables(), only_relid))
			{
				if (VerificationIsScheduled(only_relid))
					return NIL;
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_OBJECT),
						 errmsg("partitions of table \"%s\" are not managed",
								get_rel_name(only_relid)),
						 errhint("Call wallet_ops.manage_partitions() first.")));
			}
			if (!caller_may_maintain(only_relid))
				aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(only_relid));
			return list_make1_oid(only_relid);

		case MAINT_STEP_MATVIEWS:
			if (OidIsValid(only_relid))
				return relkind == RELKIND_MATVIEW ? list_make1_oid(only_relid) : NIL;
			return owned_only(MatviewsDueViews());

		case MAINT_STEP_VERIFICATIONS:
			if (OidIsValid(only_relid) && relkind != RELKIND_PARTITIONED_TABLE &&
				relkind != RELKIND_RELATION)
				return NIL;
			return list_make1_oid(only_relid);

		case MAINT_STEP_DIGESTS:
			/* the worker's job: the command runs as the server, not a caller */
			if (OidIsValid(only_relid) || MyBackendType != B_BG_WORKER)
				return NIL;
			return DigestShipScheduledTables();
	}
	elog(ERROR, "unrecognized maintenance step %d", (int) step);
	return NIL;					/* keep compiler quiet */
}

bool
MaintenanceNeedsTicks(void)
{
	return PartitionsManagedTables() != NIL || VerificationAnyScheduled() ||
		DigestShipScheduledTables() != NIL || MatviewsNeedTicks();
}

void
MaintenanceStepRun(MaintenanceStep step, Oid object, TimestampTz at, Oid as_role,
				   ActionReport *report)
{
	Oid			save_userid;
	int			save_sec_context;

	/* partitions read their configuration as the owner, then switch */
	if (step == MAINT_STEP_PARTITIONS)
	{
		(void) PartitionsMaintainTable(object, at, as_role, report);
		return;
	}

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	if (OidIsValid(as_role))
		SetUserIdAndSecContext(as_role, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	switch (step)
	{
		case MAINT_STEP_HOUSEKEEPING:
			(void) JobLogPurge();
			MatviewsForgetDropped(report);
			break;
		case MAINT_STEP_MATVIEWS:
			MatviewsRunMaintenance(object, report);
			break;
		case MAINT_STEP_VERIFICATIONS:
			VerificationRunScheduled(object, report);
			break;
		case MAINT_STEP_DIGESTS:
			DigestShipRun(object, at, report);
			break;
		case MAINT_STEP_PARTITIONS:
			break;
	}
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/*
 * run_maintenance(): every step, in order, in the current transaction (views
 * that become due because a view they read was refreshed are refreshed in
 * the same pass).
 */
static void
maintenance_run_all(Oid only_relid, TimestampTz at, ActionReport *report)
{
	int			step;
	List	   *refreshed = NIL;

	for (step = 0; step < MAINT_NUM_STEPS; step++)
	{
		List	   *objects = MaintenanceStepObjects(step, only_relid);
		ListCell   *lc;

		/*
		 * A refresh can make the views that read the refreshed one due: they
		 * are refreshed in the same pass, each view at most once.
		 */
		while (objects != NIL)
		{
			List	   *next = NIL;

			foreach(lc, objects)
			{
				CHECK_FOR_INTERRUPTS();
				MaintenanceStepRun(step, lfirst_oid(lc), at, InvalidOid, report);
			}
			if (step != MAINT_STEP_MATVIEWS || OidIsValid(only_relid))
				break;
			refreshed = list_concat_unique_oid(refreshed, objects);
			foreach(lc, MaintenanceStepObjects(step, only_relid))
				if (!list_member_oid(refreshed, lfirst_oid(lc)))
					next = lappend_oid(next, lfirst_oid(lc));
			objects = next;
		}
	}
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
	maintenance_run_all(only_relid, at, &report);
	return (Datum) 0;
}
