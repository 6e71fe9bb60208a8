/*-------------------------------------------------------------------------
 *
 * scheduled_verify.c
 *		Recorded verifications of hash chains: scheduled ones and
 *		run_verification(); the only code that reads or writes
 *		wallet_ops.verification_schedule and wallet_ops.verification_state.
 *
 * The worker runs the verifications scheduled by schedule_verification():
 * incrementally from the digest of the last clean verification
 * (wallet_ops.verification_state.anchor) when there is one, in full
 * otherwise, every full_every, and always after a verification that found
 * problems.  A clean run stores the digest of the heads it verified, taken
 * in the same snapshot, as the next anchor.  Each run is recorded in
 * wallet_ops.job_log; problems are reported at WARNING in the server log.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/scheduled_verify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "chain_verify_since.h"
#include "job_log.h"
#include "scheduled_verify.h"
#include "common.h"

PG_FUNCTION_INFO_V1(wallet_ops_run_verification);

static void forget_dropped_schedules(ActionReport *report);

/* ------------------------------------------------------------------------
 * Runs that are recorded: scheduled ones and run_verification()
 * ------------------------------------------------------------------------
 */

/*
 * Verifies relid now, incrementally from the stored anchor when
 * incremental and one exists, and records the outcome in
 * wallet_ops.verification_state and job_log.  Problems go to sink.  Runs
 * in the caller's transaction and snapshot; caller is connected to SPI.
 */
static void
verification_run(Oid relid, bool incremental, ProblemSink *sink, ActionReport *report)
{
	TimestampTz started = GetCurrentTimestamp();
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	Datum		anchor = (Datum) 0;
	bool		has_anchor = false;
	const char *mode;
	int64		rows = 0;
	Datum		digest;
	bool		isnull;
	char	   *name;
	char	   *detail;
	int			ret;
	WalletOpsOwnerContext owner_ctx;
	MemoryContext caller = CurrentMemoryContext;

	{
		Relation	rel = WalletOpsRelationOpen(relid, AccessShareLock);

		name = WalletOpsRelationQualifiedName(rel);
		relation_close(rel, NoLock);
	}
	values[0] = ObjectIdGetDatum(relid);

	WalletOpsOwnerBegin(&owner_ctx);
	if (incremental)
	{
		ret = SPI_execute_with_args("SELECT anchor FROM wallet_ops.verification_state"
									" WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass"
									"   AND anchor IS NOT NULL AND last_result OPERATOR(pg_catalog.=) 'ok'",
									1, types, values, NULL, true, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not read wallet_ops.verification_state");
		if (SPI_processed == 1)
		{
			MemoryContext spi = MemoryContextSwitchTo(caller);

			anchor = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			anchor = PointerGetDatum(DatumGetJsonbPCopy(anchor));
			MemoryContextSwitchTo(spi);
			has_anchor = true;
		}
	}
	WalletOpsOwnerEnd(&owner_ctx);

	if (has_anchor)
	{
		mode = "incremental";
		rows = ChainVerifySince(relid, DatumGetJsonbP(anchor), sink);
	}
	else
	{
		uint64		r;
		char		progress[256];

		mode = "full";
		snprintf(progress, sizeof(progress), "wallet_ops: verifying %s in full", name);
		pgstat_report_activity(STATE_RUNNING, progress);
		ret = SPI_execute_with_args("SELECT chain_key, chain_seq, problem, detail"
									"  FROM wallet_ops.verify_chain($1::pg_catalog.regclass)",
									1, types, values, NULL, true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not run wallet_ops.verify_chain");
		for (r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			Datum		d = SPI_getbinval(tup, desc, 2, &isnull);

			ProblemSinkEmit(sink, SPI_getvalue(tup, desc, 1), isnull ? 0 : DatumGetInt64(d), isnull,
					  SPI_getvalue(tup, desc, 3), SPI_getvalue(tup, desc, 4));
		}
		rows = -1;
	}

	/* the heads just verified, in the same snapshot: the next anchor */
	ret = SPI_execute_with_args("SELECT wallet_ops.chain_digest($1::pg_catalog.regclass)",
								1, types, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not take the digest of the verified table");
	digest = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

	if (sink->count == 0)
		detail = rows >= 0 ?
			psprintf("%s verification, " INT64_FORMAT " rows read, no problems", mode, rows) :
			psprintf("%s verification, no problems", mode);
	else
		detail = psprintf("%s verification found " UINT64_FORMAT " problems: %s%s", mode,
						  sink->count, sink->first.data,
						  sink->count > PROBLEMS_QUOTED ? "; ..." : "");

	{
		Oid			stypes[6] = {OIDOID, TEXTOID, TEXTOID, INT8OID, JSONBOID, TIMESTAMPTZOID};
		Datum		svalues[6];
		char		snulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

		svalues[0] = ObjectIdGetDatum(relid);
		svalues[1] = CStringGetTextDatum(sink->count == 0 ? "ok" : "problems");
		svalues[2] = CStringGetTextDatum(mode);
		svalues[3] = Int64GetDatum((int64) sink->count);
		svalues[4] = digest;
		svalues[5] = TimestampTzGetDatum(started);
		WalletOpsOwnerBegin(&owner_ctx);
		ret = SPI_execute_with_args(
			"INSERT INTO wallet_ops.verification_state AS v"
			" (relid, last_run, last_result, last_error, last_mode, problems, last_verified, last_full, anchor)"
			" VALUES ($1, $6, $2, NULL, $3, $4,"
			"         CASE WHEN $2 OPERATOR(pg_catalog.=) 'ok' THEN $6 END,"
			"         CASE WHEN $3 OPERATOR(pg_catalog.=) 'full' THEN $6 END,"
			"         CASE WHEN $2 OPERATOR(pg_catalog.=) 'ok' THEN $5 END)"
			" ON CONFLICT (relid) DO UPDATE SET last_run = $6, last_result = $2, last_error = NULL,"
			"   last_mode = $3, problems = $4,"
			"   last_verified = CASE WHEN $2 OPERATOR(pg_catalog.=) 'ok' THEN $6 ELSE v.last_verified END,"
			"   last_full = CASE WHEN $3 OPERATOR(pg_catalog.=) 'full' THEN $6 ELSE v.last_full END,"
			"   anchor = CASE WHEN $2 OPERATOR(pg_catalog.=) 'ok' THEN $5 ELSE v.anchor END",
			6, stypes, svalues, snulls, false, 0);
		if (ret != SPI_OK_INSERT)
			elog(ERROR, "could not record the verification in wallet_ops.verification_state");
		JobLogRecord(started, name, "hash_chain", psprintf("verify %s", mode),
					 sink->count == 0 ? JOB_OK : JOB_PROBLEMS, detail, NULL);
		WalletOpsOwnerEnd(&owner_ctx);
	}

	if (sink->count > 0)
		ereport(WARNING,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("hash chain verification of table \"%s\" found " UINT64_FORMAT " problems",
						name, sink->count),
				 errdetail("%s%s", sink->first.data, sink->count > PROBLEMS_QUOTED ? "; ..." : ""),
				 errhint("Compare the table with a digest kept outside the database using wallet_ops.verify_against_digest(); see docs/operations.md.")));
	if (report)
		ActionReportAdd(report, name, sink->count == 0 ? "verified" : "problems", detail);
}

/*
 * wallet_ops.run_verification(tbl regclass, incremental boolean DEFAULT true)
 *	RETURNS TABLE (chain_key text, chain_seq bigint, problem text, detail text)
 *
 * Does now what a scheduled verification does, and records it.
 */
Datum
wallet_ops_run_verification(PG_FUNCTION_ARGS)
{
	ProblemSink sink;
	const char *activity = debug_query_string;

	memset(&sink, 0, sizeof(sink));
	sink.cxt = CurrentMemoryContext;
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table must not be null")));
	PreventCommandDuringRecovery("wallet_ops.run_verification()");
	ProblemSinkInitSRF(fcinfo, &sink);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	verification_run(PG_GETARG_OID(0), PG_ARGISNULL(1) || PG_GETARG_BOOL(1), &sink, NULL);
	SPI_finish();
	if (activity)
		pgstat_report_activity(STATE_RUNNING, activity);
	return (Datum) 0;
}

/*
 * Removes the schedule and state of tables that no longer exist (dropped
 * while the event triggers that would have removed them were disabled),
 * and records each in job_log.
 */
static void
forget_dropped_schedules(ActionReport *report)
{
	TimestampTz started = GetCurrentTimestamp();
	MemoryContext caller = CurrentMemoryContext;
	WalletOpsOwnerContext owner_ctx;
	List	   *gone;
	ListCell   *lc;

	SPI_connect();
	WalletOpsOwnerBegin(&owner_ctx);
	if (SPI_execute("WITH s AS (DELETE FROM wallet_ops.verification_schedule s"
					"            WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c"
					"                               WHERE c.oid OPERATOR(pg_catalog.=) s.relid)"
					"            RETURNING s.relid),"
					"     v AS (DELETE FROM wallet_ops.verification_state v"
					"            WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c"
					"                               WHERE c.oid OPERATOR(pg_catalog.=) v.relid))"
					" SELECT s.relid::pg_catalog.oid FROM s", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not update wallet_ops.verification_schedule");
	gone = WalletOpsSpiOidList(caller);
	WalletOpsOwnerEnd(&owner_ctx);
	SPI_finish();

	foreach(lc, gone)
	{
		char	   *object = psprintf("table with OID %u", lfirst_oid(lc));

		JobLogRecord(started, object, "hash_chain", "unschedule", JOB_OK,
					 "the table was dropped", NULL);
		if (report)
			ActionReportAdd(report, object, "unscheduled", "the table was dropped");
	}
}

/*
 * The verification part of a maintenance pass: every scheduled verification
 * that is due (or only_relid's, if valid and scheduled), each in a
 * subtransaction of its own; a failure is recorded and the others go on.
 */
void
VerificationRunScheduled(Oid only_relid, ActionReport *report)
{
	MemoryContext outercxt = CurrentMemoryContext;
	ResourceOwner outerowner = CurrentResourceOwner;
	List	   *due = NIL;
	List	   *incremental = NIL;
	ListCell   *lc,
			   *lc2;
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	uint64		r;
	int			ret;
	WalletOpsOwnerContext owner_ctx;

	if (RecoveryInProgress() || !VerificationAnyScheduled())
		return;
	if (!OidIsValid(only_relid))
		forget_dropped_schedules(report);

	values[0] = ObjectIdGetDatum(only_relid);
	SPI_connect();
	WalletOpsOwnerBegin(&owner_ctx);
	ret = SPI_execute_with_args(
		"SELECT s.relid::pg_catalog.oid,"
		"       v.anchor IS NOT NULL AND v.last_result OPERATOR(pg_catalog.=) 'ok'"
		"       AND (s.full_every IS NULL OR v.last_full IS NOT NULL"
		"            AND COALESCE(wallet_ops._time_plus(v.last_full, s.full_every) OPERATOR(pg_catalog.>) pg_catalog.now(), true))"
		"  FROM wallet_ops.verification_schedule s"
		"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.relid"
		"  LEFT JOIN wallet_ops.verification_state v ON v.relid OPERATOR(pg_catalog.=) s.relid"
		" WHERE ($1 OPERATOR(pg_catalog.=) 0 AND (v.last_run IS NULL"
		"        OR wallet_ops._time_plus(v.last_run, s.every) OPERATOR(pg_catalog.<=) pg_catalog.now()))"
		"    OR s.relid OPERATOR(pg_catalog.=) $1"
		" ORDER BY s.relid",
		1, types, values, NULL, true, 0);
	WalletOpsOwnerEnd(&owner_ctx);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read wallet_ops.verification_schedule");
	for (r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		MemoryContext spi = MemoryContextSwitchTo(outercxt);

		due = lappend_oid(due, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[r],
															  SPI_tuptable->tupdesc, 1, &isnull)));
		incremental = lappend_int(incremental,
								  DatumGetBool(SPI_getbinval(SPI_tuptable->vals[r],
															 SPI_tuptable->tupdesc, 2, &isnull)));
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();

	forboth(lc, due, lc2, incremental)
	{
		Oid			relid = lfirst_oid(lc);
		ProblemSink sink;
		TimestampTz started = GetCurrentTimestamp();
		ErrorData  *edata = NULL;

		CHECK_FOR_INTERRUPTS();
		memset(&sink, 0, sizeof(sink));
		sink.cxt = outercxt;
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(outercxt);
		PG_TRY();
		{
			SPI_connect();
			verification_run(relid, lfirst_int(lc2), &sink, report);
			SPI_finish();
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(outercxt);
			CurrentResourceOwner = outerowner;
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(outercxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(outercxt);
			CurrentResourceOwner = outerowner;
		}
		PG_END_TRY();

		if (edata)
		{
			char	   *name = get_rel_name(relid);
			Oid			stypes[3] = {OIDOID, TEXTOID, TIMESTAMPTZOID};
			Datum		svalues[3];

			ereport(WARNING,
					(errcode(edata->sqlerrcode),
					 errmsg("could not verify hash chains of table \"%s\"", name ? name : "?"),
					 errdetail("%s", edata->message)));
			svalues[0] = ObjectIdGetDatum(relid);
			svalues[1] = CStringGetTextDatum(edata->message);
			svalues[2] = TimestampTzGetDatum(started);
			SPI_connect();
			WalletOpsOwnerBegin(&owner_ctx);
			(void) SPI_execute_with_args(
				"INSERT INTO wallet_ops.verification_state AS v (relid, last_run, last_result, last_error)"
				" VALUES ($1, $3, 'error', $2)"
				" ON CONFLICT (relid) DO UPDATE SET last_run = $3, last_result = 'error', last_error = $2",
				3, stypes, svalues, NULL, false, 0);
			JobLogRecord(started, name ? name : "?", "hash_chain", "verify", JOB_ERROR,
						 NULL, edata);
			WalletOpsOwnerEnd(&owner_ctx);
			SPI_finish();
			if (report)
			{
				report->errors++;
				ActionReportAdd(report, name ? name : "?", "error", edata->message);
			}
			FreeErrorData(edata);
		}
	}
}

bool
VerificationAnyScheduled(void)
{
	return WalletOpsOwnTableHasRows("verification_schedule");
}

bool
VerificationIsScheduled(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	WalletOpsOwnerContext owner_ctx;
	bool		found;

	values[0] = ObjectIdGetDatum(relid);
	SPI_connect();
	WalletOpsOwnerBegin(&owner_ctx);
	if (SPI_execute_with_args("SELECT 1 FROM wallet_ops.verification_schedule"
							  " WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
							  1, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read wallet_ops.verification_schedule");
	found = SPI_processed > 0;
	WalletOpsOwnerEnd(&owner_ctx);
	SPI_finish();
	return found;
}
