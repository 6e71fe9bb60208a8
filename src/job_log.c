/*-------------------------------------------------------------------------
 *
 * job_log.c
 *		Recording runs of the worker and of run_maintenance() in
 *		wallet_ops.job_log.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/job_log.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "job_log.h"
#include "common.h"

static const char *
job_outcome_name(JobOutcome outcome)
{
	switch (outcome)
	{
		case JOB_OK:
			return "ok";
		case JOB_ERROR:
			return "error";
		case JOB_SKIPPED:
			return "skipped";
		case JOB_PROBLEMS:
			return "problems";
	}
	elog(ERROR, "unexpected job outcome %d", (int) outcome);
	return NULL;				/* keep compiler quiet */
}

/*
 * Runs one statement on wallet_ops.job_log as the extension's owner with a
 * safe search_path, so that any role whose maintenance is recorded needs no
 * rights on it.
 */
static int
job_log_exec(const char *sql, int nargs, Oid *argtypes, Datum *values,
			 const char *nulls)
{
	WalletOpsOwnerContext owner;
	int			ret;

	WalletOpsOwnerBegin(&owner);
	ret = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, false, 0);
	WalletOpsOwnerEnd(&owner);
	return ret;
}

void
JobLogRecord(TimestampTz started_at, const char *object, const char *kind,
			 const char *action, JobOutcome outcome, const char *detail,
			 const ErrorData *error)
{
	Oid			argtypes[8] = {TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	int			ret;

	values[0] = TimestampTzGetDatum(started_at);
	values[1] = CStringGetTextDatum(object);
	values[2] = CStringGetTextDatum(kind);
	values[3] = CStringGetTextDatum(action);
	values[4] = CStringGetTextDatum(job_outcome_name(outcome));
	if (detail)
		values[5] = CStringGetTextDatum(detail);
	else
		nulls[5] = 'n';
	if (error && error->message)
		values[6] = CStringGetTextDatum(error->message);
	else
		nulls[6] = 'n';
	if (error)
		values[7] = CStringGetTextDatum(unpack_sql_state(error->sqlerrcode));
	else
		nulls[7] = 'n';

	SPI_connect();
	ret = job_log_exec("INSERT INTO wallet_ops.job_log"
					   " (started_at, object, kind, action, outcome, detail, error, sqlstate)"
					   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
					   8, argtypes, values, nulls);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record job in wallet_ops.job_log: %s",
			 SPI_result_code_string(ret));
	SPI_finish();
}

/*
 * Whether job_log has a row that started before cutoff: the first entry of
 * its started_at index, read directly.  Most runs have nothing to purge,
 * and a fresh session (every pool worker) would otherwise parse, plan and
 * run the DELETE to find that out.
 */
static bool
job_log_has_rows_before(TimestampTz cutoff)
{
	TupleDesc	desc;
	HeapTuple	oldest = WalletOpsOwnTableFirst("job_log", "job_log_started_idx", &desc);
	bool		isnull;
	Datum		started_at;

	if (oldest == NULL)
		return false;
	started_at = heap_getattr(oldest, get_attnum(WalletOpsOwnRelid("job_log"), "started_at"),
							  desc, &isnull);
	return isnull || DatumGetTimestampTz(started_at) < cutoff;
}

uint64
JobLogPurge(void)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		values[1];
	int			ret;
	uint64		removed;

	if (!job_log_has_rows_before(GetCurrentTransactionStartTimestamp() -
								 (TimestampTz) wallet_ops_job_log_retention * 60 * USECS_PER_SEC))
		return 0;
	values[0] = Int32GetDatum(wallet_ops_job_log_retention);

	SPI_connect();
	ret = job_log_exec("DELETE FROM wallet_ops.job_log"
					   " WHERE started_at OPERATOR(pg_catalog.<)"
					   " (pg_catalog.now() OPERATOR(pg_catalog.-)"
					   "  pg_catalog.make_interval(mins => $1))",
					   1, argtypes, values, NULL);
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "could not purge wallet_ops.job_log: %s",
			 SPI_result_code_string(ret));
	removed = SPI_processed;
	SPI_finish();

	return removed;
}
