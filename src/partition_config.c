/*-------------------------------------------------------------------------
 *
 * partition_config.c
 *		The rows of wallet_ops.partition_config.
 *
 * A managed table has one row in wallet_ops.partition_config: its period,
 * how many periods are made ahead (`premake`), its retention, the time zone
 * its periods start in and whether old partitions are detached rather than
 * dropped; and, written after each run, how that run went and the headline
 * figures wallet_ops.status shows.  This is the only file that reads or
 * writes the table, and the only one that knows what a valid row is.
 *
 * Every statement runs as the extension's owner, so that a role that owns a
 * managed table needs no rights on wallet_ops' own tables.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/partition_config.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "job_log.h"
#include "partition_config.h"
#include "common.h"
#include "pool.h"

/* Limits on input. */
#define MAX_PREMAKE		1000

static const char *const period_names[] = {"day", "week", "month", "quarter", "year"};

static PartPeriod parse_period(const char *name);
static pg_tz *parse_time_zone(const char *name);
static void check_retention(const Interval *retention);
static int	config_exec(const char *sql, int nargs, Oid *argtypes,
						Datum *values, const char *nulls, bool read_only);

/* ------------------------------------------------------------------------
 * Input checks
 * ------------------------------------------------------------------------
 */

static PartPeriod
parse_period(const char *name)
{
	int			i;

	for (i = 0; i < lengthof(period_names); i++)
	{
		if (pg_strcasecmp(name, period_names[i]) == 0)
			return (PartPeriod) i;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unrecognized partition period: \"%s\"", name),
			 errhint("Use day, week, month, quarter or year.")));
	return PERIOD_MONTH;		/* keep compiler quiet */
}

static pg_tz *
parse_time_zone(const char *name)
{
	pg_tz	   *tz = pg_tzset(name);

	if (tz == NULL || !pg_tz_acceptable(tz))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" not recognized", name),
				 errhint("Use a time zone name from pg_timezone_names, such as \"UTC\" or \"Europe/Berlin\".")));
	return tz;
}

static void
check_retention(const Interval *retention)
{
	if (retention->month < 0 || retention->day < 0 || retention->time < 0 ||
		(retention->month == 0 && retention->day == 0 && retention->time == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("partition retention must be a positive interval"),
				 errhint("Pass NULL to keep every partition.")));
}

const char *
PartitionConfigPeriodName(PartPeriod period)
{
	return period_names[period];
}

void
PartitionConfigInit(PartConfig *cfg, Oid relid, const char *period,
					int premake, const Interval *retention,
					const char *time_zone, bool keep_detached)
{
	memset(cfg, 0, sizeof(PartConfig));
	cfg->relid = relid;
	cfg->period = parse_period(period);
	cfg->premake = premake;
	if (cfg->premake < 1 || cfg->premake > MAX_PREMAKE)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("premake must be between 1 and %d", MAX_PREMAKE),
				 errdetail("premake is the number of periods kept ready after the current one.")));
	cfg->has_retention = (retention != NULL);
	if (cfg->has_retention)
	{
		cfg->retention = *retention;
		check_retention(&cfg->retention);
	}
	cfg->time_zone = pstrdup(time_zone);
	cfg->tz = parse_time_zone(cfg->time_zone);
	cfg->keep_detached = keep_detached;
}

/* ------------------------------------------------------------------------
 * Reading and writing the table
 * ------------------------------------------------------------------------
 */

/*
 * Connects SPI and runs one statement on wallet_ops.partition_config as the
 * extension's owner, with a safe search_path: a role that owns a managed
 * table needs no rights on wallet_ops' own tables.  The caller reads the
 * results and calls SPI_finish().
 */
static int
config_exec(const char *sql, int nargs, Oid *argtypes, Datum *values,
			const char *nulls, bool read_only)
{
	WalletOpsOwnerContext owner;
	int			ret;

	SPI_connect();
	WalletOpsOwnerBegin(&owner);
	ret = SPI_execute_with_args(sql, nargs, argtypes, values, nulls,
								read_only, 0);
	WalletOpsOwnerEnd(&owner);
	return ret;
}

static void config_row_lock(Oid cfgid, Oid relid);

/* The attribute number of partition_config's column name in desc. */
static AttrNumber
config_attnum(TupleDesc desc, const char *name)
{
	int			attnum = SPI_fnumber(desc, name);

	if (attnum <= 0)
		elog(ERROR, "wallet_ops.partition_config has no column %s", name);
	return attnum;
}

PartConfig *
PartitionConfigRead(Oid relid)
{
	TupleDesc	desc;
	HeapTuple	tup;
	PartConfig *cfg;
	bool		isnull;
	Datum		d;

	/* read directly: every maintenance run reads it, in fresh sessions too */
	tup = WalletOpsOwnTableFetch("partition_config", relid, &desc);
	if (tup == NULL)
		return NULL;
	cfg = palloc0(sizeof(PartConfig));
	cfg->relid = relid;
	d = heap_getattr(tup, config_attnum(desc, "period"), desc, &isnull);
	cfg->period = parse_period(TextDatumGetCString(d));
	d = heap_getattr(tup, config_attnum(desc, "premake"), desc, &isnull);
	cfg->premake = DatumGetInt32(d);
	d = heap_getattr(tup, config_attnum(desc, "retention"), desc, &isnull);
	cfg->has_retention = !isnull;
	if (!isnull)
		cfg->retention = *DatumGetIntervalP(d);
	d = heap_getattr(tup, config_attnum(desc, "time_zone"), desc, &isnull);
	cfg->time_zone = TextDatumGetCString(d);
	cfg->tz = parse_time_zone(cfg->time_zone);
	d = heap_getattr(tup, config_attnum(desc, "keep_detached"), desc, &isnull);
	cfg->keep_detached = DatumGetBool(d);
	return cfg;
}

bool
PartitionsHaveRetention(Oid relid)
{
	PartConfig *cfg = PartitionConfigRead(relid);

	return cfg != NULL && cfg->has_retention;
}

List *
PartitionsManagedTables(void)
{
	return WalletOpsOwnTableOids("partition_config", "relid");
}

void
PartitionConfigInsert(const PartConfig *cfg)
{
	Oid			argtypes[6] = {REGCLASSOID, TEXTOID, INT4OID, INTERVALOID, TEXTOID, BOOLOID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	int			ret;

	values[0] = ObjectIdGetDatum(cfg->relid);
	values[1] = CStringGetTextDatum(period_names[cfg->period]);
	values[2] = Int32GetDatum(cfg->premake);
	if (cfg->has_retention)
		values[3] = IntervalPGetDatum(&cfg->retention);
	else
		nulls[3] = 'n';
	values[4] = CStringGetTextDatum(cfg->time_zone);
	values[5] = BoolGetDatum(cfg->keep_detached);
	ret = config_exec("INSERT INTO wallet_ops.partition_config"
					  " (relid, period, premake, retention, time_zone, keep_detached)"
					  " VALUES ($1, $2, $3, $4, $5, $6)",
					  6, argtypes, values, nulls, false);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not insert into wallet_ops.partition_config: %s",
			 SPI_result_code_string(ret));
	SPI_finish();
	PoolWakeAtCommit(false);
}

bool
PartitionConfigDelete(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	uint64		deleted;

	values[0] = ObjectIdGetDatum(relid);
	config_row_lock(WalletOpsOwnRelid("partition_config"), relid);
	if (config_exec("DELETE FROM wallet_ops.partition_config WHERE relid = $1",
					1, argtypes, values, NULL, false) != SPI_OK_DELETE)
		elog(ERROR, "could not update wallet_ops.partition_config");
	deleted = SPI_processed;
	SPI_finish();
	return deleted > 0;
}

/*
 * The lock that orders the writers of relid's partition_config row:
 * PartitionConfigRecord, which updates the row directly, takes it before
 * reading the row, and PartitionConfigDelete before deleting it, so that
 * neither meets the other's change half done (an UPDATE statement would
 * have waited on the row instead).  Held until the end of the transaction,
 * as a row lock would be.
 */
static void
config_row_lock(Oid cfgid, Oid relid)
{
	LockDatabaseObject(cfgid, relid, 0, ExclusiveLock);
}

/*
 * Record the outcome of a maintenance run of relid.  Every run of every
 * managed table does this, the worker's fresh sessions included, so the
 * row is updated directly, not by a statement to parse and plan; the
 * values written satisfy the table's constraints.
 */
void
PartitionConfigRecord(Oid relid, const char *result, const ErrorData *error,
					  const PartRunFigures *figures)
{
	Oid			cfgid = WalletOpsOwnRelid("partition_config");
	Relation	rel;
	TupleDesc	desc;
	TupleDesc	fetched_desc;
	Datum	   *values;
	bool	   *nulls;
	bool	   *replace;
	HeapTuple	tup;
	AttrNumber	a;

	if (!OidIsValid(cfgid))
		elog(ERROR, "wallet_ops.partition_config is missing");
	rel = table_open(cfgid, RowExclusiveLock);
	config_row_lock(cfgid, relid);
	desc = RelationGetDescr(rel);
	values = palloc0(sizeof(Datum) * desc->natts);
	nulls = palloc0(sizeof(bool) * desc->natts);
	replace = palloc0(sizeof(bool) * desc->natts);

	a = config_attnum(desc, "last_run") - 1;
	values[a] = TimestampTzGetDatum(GetCurrentTimestamp());
	replace[a] = true;
	a = config_attnum(desc, "last_result") - 1;
	values[a] = CStringGetTextDatum(result);
	replace[a] = true;
	a = config_attnum(desc, "last_error") - 1;
	if (error && error->message)
		values[a] = CStringGetTextDatum(error->message);
	else
		nulls[a] = true;
	replace[a] = true;
	/* the runway of the last successful run; the rows left by the last one */
	if (strcmp(result, "ok") == 0)
	{
		a = config_attnum(desc, "runway_until") - 1;
		if (figures && figures->has_runway)
			values[a] = TimestampTzGetDatum(figures->runway);
		else
			nulls[a] = true;
		replace[a] = true;
	}
	if (figures && !error)
	{
		a = config_attnum(desc, "default_rows") - 1;
		values[a] = Int64GetDatum(figures->default_rows);
		replace[a] = true;
	}

	/* this transaction's own changes to the row, if any, are seen */
	CommandCounterIncrement();
	tup = WalletOpsOwnTableFetch("partition_config", relid, &fetched_desc);
	if (tup != NULL)
	{
		HeapTuple	newtup = heap_modify_tuple(tup, desc, values, nulls, replace);

		/* the copy keeps the row's TID */
		CatalogTupleUpdate(rel, &tup->t_self, newtup);
		heap_freetuple(newtup);
	}
	table_close(rel, NoLock);
	CommandCounterIncrement();
}

void
PartitionConfigForgetDropped(Oid relid, ActionReport *report,
							 TimestampTz started)
{
	char	   *object = psprintf("table with OID %u", relid);

	(void) PartitionConfigDelete(relid);
	JobLogRecord(started, object, "partitions", "unmanage", JOB_OK,
				 "the table was dropped", NULL);
	ActionReportAdd(report, object, "unmanaged", "the table was dropped");
}
