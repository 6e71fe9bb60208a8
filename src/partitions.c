/*-------------------------------------------------------------------------
 *
 * partitions.c
 *		Partitions made ahead of time.
 *
 * A managed table is range-partitioned on one timestamptz, timestamp or
 * date column and has a row in wallet_ops.partition_config.  Maintaining it
 * means, as of a reference time `at`:
 *
 *	- a default partition <table>_default exists, so no INSERT ever fails;
 *	- the period containing `at` and `premake` periods after it have
 *	  partitions named <table>_YYYY_MM (month), _YYYY_qN (quarter),
 *	  _YYYY_MM_DD (day), _YYYY_wWW (ISO week) or _YYYY (year), bounded at
 *	  period starts in the configured time zone;
 *	- rows that landed in the default partition are moved into the
 *	  partition made for their period;
 *	- partitions whose whole range is older than `retention` are dropped,
 *	  or detached when keep_detached is set.
 *
 * Period arithmetic is done on local calendar dates of the configured time
 * zone (all periods start at local midnight); a period start becomes a key
 * value through the zone's rules for timestamptz keys, and stays a plain
 * date or midnight timestamp for date and timestamp keys.  Neither the
 * session's TimeZone nor its DateStyle is ever used: bound literals are
 * rendered here in ISO format with an explicit UTC offset.
 *
 * Deciding what to do needs only ACCESS SHARE on the parent.  Only when
 * there is something to do is ACCESS EXCLUSIVE requested, waiting at most
 * wallet_ops.lock_timeout (maintenance runs), and the plan recomputed under
 * that lock.  A run with nothing to do therefore never blocks inserts.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/partitions.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "pgtime.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "append_only.h"
#include "chain.h"
#include "job_log.h"
#include "partition_config.h"
#include "partitions.h"
#include "common.h"

PG_FUNCTION_INFO_V1(wallet_ops_manage_partitions);
PG_FUNCTION_INFO_V1(wallet_ops_unmanage_partitions);
PG_FUNCTION_INFO_V1(wallet_ops_partition_plan);

/* At most this many periods of default-partition rows are handled per run. */
#define MAX_DEFAULT_PERIODS 1000

/* Key values as int64; MINVALUE and MAXVALUE bounds map to the extremes. */
#define KEY_MIN			PG_INT64_MIN
#define KEY_MAX			PG_INT64_MAX

/* An existing (non-default) partition and its bounds. */
typedef struct ExistingPart
{
	Oid			relid;
	int64		lo;				/* inclusive */
	int64		hi;				/* exclusive */
} ExistingPart;

/* A partition the plan wants, for one period. */
typedef struct PlanItem
{
	int			jstart;			/* Julian day of the local period start */
	int64		lo;
	int64		hi;
	char	   *name;
	bool		has_default_rows;	/* rows to move from the default */
	Oid			existing;		/* adopted partition, or InvalidOid */
} PlanItem;

/* What is known about the managed table. */
typedef struct PartTable
{
	Oid			relid;
	Oid			owner;
	bool		has_acl;		/* the parent has grants to copy */
	char	   *columns;		/* quoted stored, non-generated columns */
	char	   *nspname;
	char	   *relname;
	char	   *qualname;		/* quoted schema.table */
	char	   *keyname;		/* quoted key column */
	Oid			keytype;
	Oid			default_oid;
	int			nparts;
	ExistingPart *parts;		/* sorted by lo */
} PartTable;

/* The result of planning one table. */
typedef struct PartPlan
{
	bool		need_default;
	List	   *wanted;			/* PlanItem *, the premade periods */
	List	   *create;			/* PlanItem *, to create, sorted by lo */
	List	   *drop;			/* ExistingPart *, beyond retention */
	List	   *notes;			/* char *, rows that cannot be moved */
	PlanItem   *conflict;		/* first planned period that overlaps */
	ExistingPart *conflict_with;
	bool		default_has_rows;
} PartPlan;

/* An action done, reported once the table's subtransaction commits. */
typedef struct DoneAction
{
	char	   *object;
	char	   *action;
	char	   *detail;
} DoneAction;

typedef struct MaintState
{
	PartConfig *cfg;
	PartTable	t;
	TimestampTz at;
	bool		manage;			/* called by manage_partitions() */
	MemoryContext outer;		/* where actions are kept */
	List	   *actions;		/* DoneAction * */
	PartRunFigures figures;		/* recorded in partition_config */
} MaintState;

static void check_table(Relation rel, Oid *keytype, AttrNumber *keyattno);
static void check_owner(Relation rel);
static void table_read(PartTable *t);
static int	local_julian(TimestampTz at, pg_tz *tz);
static int	key_julian(int64 key, Oid keytype, pg_tz *tz);
static int	period_start(int j, PartPeriod period);
static int	period_next(int j, PartPeriod period);
static int64 julian_key(int j, Oid keytype, pg_tz *tz);
static int64 retention_cutoff(PartConfig *cfg, Oid keytype, TimestampTz at);
static char *key_text(int64 key, Oid keytype);
static char *partition_name(const char *relname, int j, PartPeriod period);
static char *default_name(const char *relname);
static Datum key_datum(int64 key, Oid keytype);
static int64 datum_key(Datum value, Oid keytype);
static ExistingPart *find_overlap(PartTable *t, int64 lo, int64 hi);
static void make_plan(MaintState *m, PartPlan *plan);
static bool plan_has_work(PartPlan *plan);
static void execute_plan(MaintState *m, PartPlan *plan);
static void maintain(MaintState *m, bool use_lock_timeout);
static void create_partition(MaintState *m, const char *name,
							 const char *bound_clause);
static void move_and_create(MaintState *m, PlanItem *item);
static void remove_partition(MaintState *m, ExistingPart *part);
static char *partition_qualname(Oid partid);
static void add_action(MaintState *m, const char *object, const char *action,
					   const char *detail);
static void spi_exec(const char *sql, int expected);
static void record_actions(TimestampTz started, const char *table, List *actions);
static char *column_list(Relation rel);

/* ------------------------------------------------------------------------
 * Input checks
 * ------------------------------------------------------------------------
 */

/*
 * Checks that rel can be managed: a table range-partitioned on one plain
 * column of type timestamptz, timestamp or date.
 */
static void
check_table(Relation rel, Oid *keytype, AttrNumber *keyattno)
{
	PartitionKey key;
	Oid			typid;

	if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table \"%s\" is not partitioned",
						RelationGetRelationName(rel)),
				 errhint("Create the table with PARTITION BY RANGE on a timestamptz, timestamp or date column.")));

	key = RelationGetPartitionKey(rel);
	if (key->strategy != PARTITION_STRATEGY_RANGE || key->partnatts != 1 ||
		key->partattrs[0] == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("table \"%s\" is not partitioned by range on one column",
						RelationGetRelationName(rel)),
				 errdetail("Only tables partitioned by RANGE on a single column, not an expression, can be managed.")));

	typid = key->parttypid[0];
	if (typid != TIMESTAMPTZOID && typid != TIMESTAMPOID && typid != DATEOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("partition key column \"%s\" of table \"%s\" has type %s",
						get_attname(RelationGetRelid(rel), key->partattrs[0], false),
						RelationGetRelationName(rel), format_type_be(typid)),
				 errdetail("The partition key must be of type timestamptz, timestamp or date.")));

	*keytype = typid;
	*keyattno = key->partattrs[0];
}

static void
check_owner(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);

#if PG_VERSION_NUM >= 160000
	if (!object_ownercheck(RelationRelationId, relid, GetUserId()))
#else
	if (!pg_class_ownercheck(relid, GetUserId()))
#endif
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE,
					   RelationGetRelationName(rel));
}

/* ------------------------------------------------------------------------
 * Calendar arithmetic in the configured time zone
 * ------------------------------------------------------------------------
 */

/* Julian day of the local date of `at` in tz. */
static int
local_julian(TimestampTz at, pg_tz *tz)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tzoff;

	if (timestamp2tm(at, &tzoff, &tm, &fsec, NULL, tz) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday);
}

/* Julian day of the local date a key value falls on. */
static int
key_julian(int64 key, Oid keytype, pg_tz *tz)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (keytype == DATEOID)
		return (int) key + POSTGRES_EPOCH_JDATE;
	if (keytype == TIMESTAMPTZOID)
		return local_julian((TimestampTz) key, tz);
	if (timestamp2tm((Timestamp) key, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday);
}

/* First day of the period containing Julian day j. */
static int
period_start(int j, PartPeriod period)
{
	int			y,
				m,
				d;

	j2date(j, &y, &m, &d);
	switch (period)
	{
		case PERIOD_DAY:
			return j;
		case PERIOD_WEEK:
			/* ISO weeks start on Monday; j2day() is 0 for Sunday */
			return j - (j2day(j) + 6) % 7;
		case PERIOD_MONTH:
			return date2j(y, m, 1);
		case PERIOD_QUARTER:
			return date2j(y, ((m - 1) / 3) * 3 + 1, 1);
		case PERIOD_YEAR:
			return date2j(y, 1, 1);
	}
	return j;					/* keep compiler quiet */
}

/* First day of the period after the one starting on Julian day j. */
static int
period_next(int j, PartPeriod period)
{
	int			y,
				m,
				d,
				months = 0;

	switch (period)
	{
		case PERIOD_DAY:
			return j + 1;
		case PERIOD_WEEK:
			return j + 7;
		case PERIOD_MONTH:
			months = 1;
			break;
		case PERIOD_QUARTER:
			months = 3;
			break;
		case PERIOD_YEAR:
			months = 12;
			break;
	}
	j2date(j, &y, &m, &d);
	m += months;
	while (m > 12)
	{
		m -= 12;
		y++;
	}
	return date2j(y, m, 1);
}

/* Key value of local midnight at the start of Julian day j. */
static int64
julian_key(int j, Oid keytype, pg_tz *tz)
{
	struct pg_tm tm;
	int			tzoff;
	TimestampTz result;

	if (keytype == DATEOID)
		return (int64) j - POSTGRES_EPOCH_JDATE;
	if (keytype == TIMESTAMPOID)
		return ((int64) j - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY;

	memset(&tm, 0, sizeof(tm));
	j2date(j, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tzoff = DetermineTimeZoneOffset(&tm, tz);
	if (tm2timestamp(&tm, 0, &tzoff, &result) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return (int64) result;
}

/*
 * Key value before which a partition is entirely older than the retention:
 * local time of `at` in the table's zone minus the retention, converted back
 * through the zone for timestamptz keys.
 */
static int64
retention_cutoff(PartConfig *cfg, Oid keytype, TimestampTz at)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tzoff;
	Timestamp	local;
	Timestamp	cutoff;
	TimestampTz result;

	if (timestamp2tm(at, &tzoff, &tm, &fsec, NULL, cfg->tz) != 0 ||
		tm2timestamp(&tm, fsec, NULL, &local) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	cutoff = DatumGetTimestamp(DirectFunctionCall2(timestamp_mi_interval,
												   TimestampGetDatum(local),
												   IntervalPGetDatum(&cfg->retention)));
	if (keytype == TIMESTAMPOID)
		return (int64) cutoff;
	if (keytype == DATEOID)
	{
		/* a date partition's upper bound is a local midnight */
		int64		days = cutoff / USECS_PER_DAY;

		if (cutoff < 0 && cutoff % USECS_PER_DAY != 0)
			days--;
		return days;
	}
	if (timestamp2tm(cutoff, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	tzoff = DetermineTimeZoneOffset(&tm, cfg->tz);
	if (tm2timestamp(&tm, fsec, &tzoff, &result) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return (int64) result;
}

/*
 * A key value as text, independent of DateStyle and TimeZone: ISO format,
 * timestamptz in UTC with an explicit offset.
 */
static char *
key_text(int64 key, Oid keytype)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			y,
				m,
				d;

	if (key == KEY_MIN)
		return pstrdup("MINVALUE");
	if (key == KEY_MAX)
		return pstrdup("MAXVALUE");
	if (keytype == DATEOID)
	{
		j2date((int) key + POSTGRES_EPOCH_JDATE, &y, &m, &d);
		return psprintf("%04d-%02d-%02d", y, m, d);
	}
	if (timestamp2tm((Timestamp) key, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return psprintf("%04d-%02d-%02d %02d:%02d:%02d%s",
					tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec,
					keytype == TIMESTAMPTZOID ? "+00" : "");
}

/* The seed's partition names. */
static char *
partition_name(const char *relname, int j, PartPeriod period)
{
	int			y,
				m,
				d;
	char	   *name = NULL;

	j2date(j, &y, &m, &d);
	switch (period)
	{
		case PERIOD_DAY:
			name = psprintf("%s_%04d_%02d_%02d", relname, y, m, d);
			break;
		case PERIOD_WEEK:
			name = psprintf("%s_%04d_w%02d", relname,
							date2isoyear(y, m, d), date2isoweek(y, m, d));
			break;
		case PERIOD_MONTH:
			name = psprintf("%s_%04d_%02d", relname, y, m);
			break;
		case PERIOD_QUARTER:
			name = psprintf("%s_%04d_q%d", relname, y, (m - 1) / 3 + 1);
			break;
		case PERIOD_YEAR:
			name = psprintf("%s_%04d", relname, y);
			break;
	}
	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("partition name \"%s\" is too long", name),
				 errdetail("Partition names are the table name followed by the period; they must be shorter than %d bytes.",
						   NAMEDATALEN)));
	return name;
}

static char *
default_name(const char *relname)
{
	char	   *name = psprintf("%s_default", relname);

	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("partition name \"%s\" is too long", name)));
	return name;
}

static Datum
key_datum(int64 key, Oid keytype)
{
	if (keytype == DATEOID)
		return DateADTGetDatum((DateADT) key);
	return Int64GetDatum(key);
}

static int64
datum_key(Datum value, Oid keytype)
{
	if (keytype == DATEOID)
		return (int64) DatumGetDateADT(value);
	return DatumGetInt64(value);
}

/* ------------------------------------------------------------------------
 * Reading the table
 * ------------------------------------------------------------------------
 */

/*
 * Reads what is needed about t->relid, which the caller has locked.  The
 * relation is not kept open: DDL on it refuses relations in use.
 */
static void
table_read(PartTable *t)
{
	Relation	rel = relation_open(t->relid, NoLock);
	PartitionDesc pd;
	PartitionBoundInfo bi;
	AttrNumber	keyattno;
	int			i;

	check_table(rel, &t->keytype, &keyattno);
	t->owner = rel->rd_rel->relowner;
	t->columns = column_list(rel);
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(t->relid));

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for relation %u", t->relid);
		t->has_acl = !heap_attisnull(tup, Anum_pg_class_relacl, NULL);
		ReleaseSysCache(tup);
	}
	t->nspname = get_namespace_name(RelationGetNamespace(rel));
	t->relname = pstrdup(RelationGetRelationName(rel));
	t->qualname = quote_qualified_identifier(t->nspname, t->relname);
	t->keyname = pstrdup(quote_identifier(get_attname(RelationGetRelid(rel),
													  keyattno, false)));
	t->default_oid = InvalidOid;
	t->nparts = 0;

#if PG_VERSION_NUM >= 140000
	pd = RelationGetPartitionDesc(rel, false);
#else
	pd = RelationGetPartitionDesc(rel);
#endif
	t->parts = palloc0(sizeof(ExistingPart) * (pd->nparts + 1));
	bi = pd->boundinfo;
	if (bi == NULL)
	{
		relation_close(rel, NoLock);
		return;
	}
	if (partition_bound_has_default(bi))
		t->default_oid = pd->oids[bi->default_index];

	/*
	 * Range bounds are sorted; indexes[i] is the partition whose upper bound
	 * is datums[i], and its lower bound is datums[i - 1].
	 */
	for (i = 1; i < bi->ndatums; i++)
	{
		int			idx = bi->indexes[i];
		ExistingPart *p;

		if (idx < 0)
			continue;
		p = &t->parts[t->nparts++];
		p->relid = pd->oids[idx];
		p->lo = bi->kind[i - 1][0] == PARTITION_RANGE_DATUM_MINVALUE ? KEY_MIN :
			bi->kind[i - 1][0] == PARTITION_RANGE_DATUM_MAXVALUE ? KEY_MAX :
			datum_key(bi->datums[i - 1][0], t->keytype);
		p->hi = bi->kind[i][0] == PARTITION_RANGE_DATUM_MINVALUE ? KEY_MIN :
			bi->kind[i][0] == PARTITION_RANGE_DATUM_MAXVALUE ? KEY_MAX :
			datum_key(bi->datums[i][0], t->keytype);
	}
	relation_close(rel, NoLock);
}

static ExistingPart *
find_overlap(PartTable *t, int64 lo, int64 hi)
{
	int			i;

	for (i = 0; i < t->nparts; i++)
	{
		if (t->parts[i].lo < hi && lo < t->parts[i].hi)
			return &t->parts[i];
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * Planning
 * ------------------------------------------------------------------------
 */

static int
plan_item_cmp(const ListCell *a, const ListCell *b)
{
	PlanItem   *x = (PlanItem *) lfirst(a);
	PlanItem   *y = (PlanItem *) lfirst(b);

	if (x->lo < y->lo)
		return -1;
	return x->lo > y->lo ? 1 : 0;
}

/*
 * Works out what the table needs as of m->at.  Reads the catalogs and the
 * default partition only; changes nothing.
 */
static void
make_plan(MaintState *m, PartPlan *plan)
{
	PartConfig *cfg = m->cfg;
	PartTable  *t = &m->t;
	int			j;
	int			k;
	ListCell   *lc;

	memset(plan, 0, sizeof(PartPlan));
	table_read(t);
	plan->need_default = !OidIsValid(t->default_oid);

	/* the current period and premake periods ahead */
	j = period_start(local_julian(m->at, cfg->tz), cfg->period);
	for (k = 0; k <= cfg->premake; k++)
	{
		PlanItem   *item = palloc0(sizeof(PlanItem));
		ExistingPart *ep;

		item->jstart = j;
		item->lo = julian_key(j, t->keytype, cfg->tz);
		j = period_next(j, cfg->period);
		item->hi = julian_key(j, t->keytype, cfg->tz);
		item->name = partition_name(t->relname, item->jstart, cfg->period);
		ep = find_overlap(t, item->lo, item->hi);
		if (ep && ep->lo == item->lo && ep->hi == item->hi)
			item->existing = ep->relid;
		else if (ep)
		{
			if (plan->conflict == NULL)
			{
				plan->conflict = item;
				plan->conflict_with = ep;
			}
		}
		else
			plan->create = lappend(plan->create, item);
		plan->wanted = lappend(plan->wanted, item);
	}

	/* rows in the default partition, period by period */
	if (OidIsValid(t->default_oid))
	{
		char	   *defname = partition_qualname(t->default_oid);
		char	   *sql;
		int			ret;
		bool		isnull;
		int64		from = KEY_MIN;
		int64		limit_lo = julian_key(date2j(1, 1, 1), t->keytype, cfg->tz);
		int64		limit_hi = julian_key(date2j(9999, 1, 1), t->keytype, cfg->tz);
		Oid			argtypes[1];
		Datum		values[1];
		MemoryContext planctx = CurrentMemoryContext;

		SPI_connect();
		sql = psprintf("SELECT 1 FROM ONLY %s LIMIT 1", defname);
		ret = SPI_execute(sql, false, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not read default partition: %s",
				 SPI_result_code_string(ret));
		plan->default_has_rows = (SPI_processed > 0);

		argtypes[0] = t->keytype;
		sql = psprintf("SELECT pg_catalog.min(%s) FROM ONLY %s WHERE %s >= $1",
					   t->keyname, defname, t->keyname);
		for (k = 0; plan->default_has_rows && k < MAX_DEFAULT_PERIODS; k++)
		{
			Datum		d;
			PlanItem   *item = NULL;
			int64		lo,
						hi;
			ExistingPart *ep;

			CHECK_FOR_INTERRUPTS();
			if (from == KEY_MIN)
				ret = SPI_execute(psprintf("SELECT pg_catalog.min(%s) FROM ONLY %s",
										   t->keyname, defname), false, 1);
			else
			{
				values[0] = key_datum(from, t->keytype);
				ret = SPI_execute_with_args(sql, 1, argtypes, values, NULL, false, 1);
			}
			if (ret != SPI_OK_SELECT)
				elog(ERROR, "could not read default partition: %s",
					 SPI_result_code_string(ret));
			d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			if (isnull)
				break;

			/*
			 * Keys outside years 1 to 9998 (including -infinity and
			 * infinity) get no partition: such rows stay where they are.
			 */
			if (datum_key(d, t->keytype) < limit_lo ||
				datum_key(d, t->keytype) >= limit_hi)
			{
				MemoryContext old = MemoryContextSwitchTo(m->outer);
				bool		low = datum_key(d, t->keytype) < limit_lo;

				plan->notes = lappend(plan->notes,
									  psprintf("rows %s cannot be moved: no partitions are made for them",
											   low ? "before year 1" : "from year 9999 on"));
				MemoryContextSwitchTo(old);
				if (!low)
					break;
				from = limit_lo;
				continue;
			}

			j = period_start(key_julian(datum_key(d, t->keytype), t->keytype, cfg->tz),
							 cfg->period);
			lo = julian_key(j, t->keytype, cfg->tz);
			hi = julian_key(period_next(j, cfg->period), t->keytype, cfg->tz);
			from = hi;

			foreach(lc, plan->wanted)
			{
				PlanItem   *w = (PlanItem *) lfirst(lc);

				if (w->lo == lo)
					item = w;
			}
			ep = find_overlap(t, lo, hi);
			if (item && item != plan->conflict && !OidIsValid(item->existing))
				item->has_default_rows = true;
			else if (ep || item)
			{
				MemoryContext old = MemoryContextSwitchTo(m->outer);

				plan->notes = lappend(plan->notes,
									  psprintf("rows from %s to %s cannot be moved: the range overlaps partition \"%s\"",
											   key_text(lo, t->keytype),
											   key_text(hi, t->keytype),
											   get_rel_name(ep ? ep->relid : item->existing)));
				MemoryContextSwitchTo(old);
			}
			else
			{
				MemoryContext old = MemoryContextSwitchTo(planctx);

				item = palloc0(sizeof(PlanItem));
				item->jstart = j;
				item->lo = lo;
				item->hi = hi;
				item->name = partition_name(t->relname, j, cfg->period);
				item->has_default_rows = true;
				plan->create = lappend(plan->create, item);
				MemoryContextSwitchTo(old);
			}
		}
		SPI_finish();
	}
	list_sort(plan->create, plan_item_cmp);

	/* retention */
	if (cfg->has_retention)
	{
		int64		cutoff = retention_cutoff(cfg, t->keytype, m->at);

		for (k = 0; k < t->nparts; k++)
		{
			if (t->parts[k].hi != KEY_MAX && t->parts[k].hi <= cutoff)
				plan->drop = lappend(plan->drop, &t->parts[k]);
		}
	}
}

static bool
plan_has_work(PartPlan *plan)
{
	return plan->need_default || plan->create != NIL || plan->drop != NIL ||
		plan->conflict != NULL;
}

/* ------------------------------------------------------------------------
 * Doing it
 * ------------------------------------------------------------------------
 */

static void
add_action(MaintState *m, const char *object, const char *action,
		   const char *detail)
{
	MemoryContext old = MemoryContextSwitchTo(m->outer);
	DoneAction *a = palloc(sizeof(DoneAction));

	a->object = pstrdup(object);
	a->action = pstrdup(action);
	a->detail = detail ? pstrdup(detail) : NULL;
	m->actions = lappend(m->actions, a);
	MemoryContextSwitchTo(old);
}

static void
spi_exec(const char *sql, int expected)
{
	int			ret = SPI_execute(sql, false, 0);

	if (ret != expected)
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql,
			 SPI_result_code_string(ret));
}

/* Quoted names of the stored, non-generated columns of rel. */
static char *
column_list(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->attgenerated)
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, quote_identifier(NameStr(att->attname)));
	}
	return buf.data;
}

/*
 * CREATE TABLE ... PARTITION OF, so that event triggers fire as for any
 * other partition; then the parent's owner and grants.  Indexes, row
 * triggers, constraints and foreign keys are cloned by PostgreSQL.
 */
static void
create_partition(MaintState *m, const char *name, const char *bound_clause)
{
	PartTable  *t = &m->t;
	char	   *qualname = quote_qualified_identifier(t->nspname, name);
	Oid			owner = t->owner;
	Oid			argtypes[2] = {OIDOID, TEXTOID};
	Datum		values[2];
	int			ret;

	spi_exec(psprintf("CREATE TABLE %s PARTITION OF %s %s",
					  qualname, t->qualname, bound_clause),
			 SPI_OK_UTILITY);

	if (owner != GetUserId())
		spi_exec(psprintf("ALTER TABLE %s OWNER TO %s", qualname,
						  quote_identifier(GetUserNameFromId(owner, false))),
				 SPI_OK_UTILITY);

	if (!t->has_acl)
		return;
	values[0] = ObjectIdGetDatum(t->relid);
	values[1] = CStringGetTextDatum(qualname);
	ret = SPI_execute_with_args("SELECT pg_catalog.string_agg(pg_catalog.format('GRANT %s ON TABLE %s TO %s%s',"
								" a.privilege_type, $2,"
								" CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(r.rolname) END,"
								" CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), '; ')"
								" FROM pg_catalog.pg_class c"
								" CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a"
								" LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee"
								" WHERE c.oid = $1 AND a.grantee <> c.relowner",
								2, argtypes, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read grants: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		char	   *grants = SPI_getvalue(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1);

		if (grants)
			spi_exec(grants, SPI_OK_UTILITY);
	}
}

/* Sets a GUC until the end of the current GUC nest level. */
static void
set_local(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/*
 * Creates the partition for item when rows of its period are in the default
 * partition: with the parent locked ACCESS EXCLUSIVE (so no row can arrive
 * meanwhile), the rows go into a temporary table, the partition is created,
 * and they are inserted into it unchanged, triggers off (they were checked,
 * hashed and chained when first inserted).  Everything is one transaction:
 * a failure anywhere leaves every row where it was.
 */
static void
move_and_create(MaintState *m, PlanItem *item)
{
	PartTable  *t = &m->t;
	char	   *defname;
	char	   *cols = t->columns;
	char	   *tmpname = psprintf("wallet_ops_moving_%u", t->relid);
	char	   *lo = key_text(item->lo, t->keytype);
	char	   *hi = key_text(item->hi, t->keytype);
	char	   *keytypename = format_type_be(t->keytype);
	uint64		moved;
	uint64		inserted;
	int			save_nestlevel;

	defname = partition_qualname(t->default_oid);

	spi_exec(psprintf("CREATE TEMPORARY TABLE %s (LIKE %s) ON COMMIT DROP",
					  quote_identifier(tmpname), t->qualname),
			 SPI_OK_UTILITY);

	save_nestlevel = NewGUCNestLevel();
	set_local("session_replication_role", "replica");
	AppendOnlyAllowMaintenance(true);
	spi_exec(psprintf("WITH moved AS (DELETE FROM ONLY %s WHERE %s >= '%s'::%s AND %s < '%s'::%s RETURNING %s)"
					  " INSERT INTO pg_temp.%s (%s) SELECT %s FROM moved",
					  defname, t->keyname, lo, keytypename, t->keyname, hi, keytypename,
					  cols, quote_identifier(tmpname), cols, cols),
			 SPI_OK_INSERT);
	moved = SPI_processed;
	AppendOnlyAllowMaintenance(false);
	AtEOXact_GUC(true, save_nestlevel);

	create_partition(m, item->name,
					 psprintf("FOR VALUES FROM ('%s') TO ('%s')", lo, hi));

	save_nestlevel = NewGUCNestLevel();
	set_local("session_replication_role", "replica");
	spi_exec(psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM pg_temp.%s",
					  quote_qualified_identifier(t->nspname, item->name),
					  cols, cols, quote_identifier(tmpname)),
			 SPI_OK_INSERT);
	inserted = SPI_processed;
	AtEOXact_GUC(true, save_nestlevel);

	if (inserted != moved)
		elog(ERROR, "moved " UINT64_FORMAT " rows out of the default partition but inserted " UINT64_FORMAT,
			 moved, inserted);
	spi_exec(psprintf("DROP TABLE pg_temp.%s", quote_identifier(tmpname)),
			 SPI_OK_UTILITY);

	add_action(m, quote_qualified_identifier(t->nspname, item->name), "created",
			   psprintf("from %s to %s", lo, hi));
	add_action(m, quote_qualified_identifier(t->nspname, item->name), "moved",
			   psprintf(UINT64_FORMAT " row%s from the default partition", moved,
						moved == 1 ? "" : "s"));
}

/*
 * "schema.name" of a partition of the table being maintained.  The caller
 * holds a lock on the parent, and dropping or detaching a partition needs
 * a conflicting one, so the partition cannot be gone.
 */
static char *
partition_qualname(Oid partid)
{
	char	   *relname = get_rel_name(partid);
	char	   *nspname = relname ? get_namespace_name(get_rel_namespace(partid)) : NULL;

	if (relname == NULL || nspname == NULL)
		elog(ERROR, "cache lookup failed for relation %u", partid);
	return quote_qualified_identifier(nspname, relname);
}

/* Drops, or detaches when keep_detached, a partition beyond retention. */
static void
remove_partition(MaintState *m, ExistingPart *part)
{
	PartTable  *t = &m->t;
	char	   *qualname = partition_qualname(part->relid);
	char	   *detail = psprintf("from %s to %s, older than the retention",
								  key_text(part->lo, t->keytype),
								  key_text(part->hi, t->keytype));

	AppendOnlyAllowMaintenance(true);
	if (m->cfg->keep_detached)
		spi_exec(psprintf("ALTER TABLE %s DETACH PARTITION %s", t->qualname, qualname),
				 SPI_OK_UTILITY);
	else
		spi_exec(psprintf("DROP TABLE %s", qualname), SPI_OK_UTILITY);
	AppendOnlyAllowMaintenance(false);

	add_action(m, qualname, m->cfg->keep_detached ? "detached" : "dropped", detail);
}

static void
execute_plan(MaintState *m, PartPlan *plan)
{
	PartTable  *t = &m->t;
	ListCell   *lc;

	if (plan->conflict)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("partition \"%s\" of table \"%s\" does not match the %s periods in time zone \"%s\"",
						get_rel_name(plan->conflict_with->relid), t->relname,
						PartitionConfigPeriodName(m->cfg->period), m->cfg->time_zone),
				 errdetail("The partition covers %s to %s; the period %s should cover %s to %s.",
						   key_text(plan->conflict_with->lo, t->keytype),
						   key_text(plan->conflict_with->hi, t->keytype),
						   plan->conflict->name,
						   key_text(plan->conflict->lo, t->keytype),
						   key_text(plan->conflict->hi, t->keytype)),
				 errhint("Detach the partition or re-create it with period bounds, or manage the table with another period or time zone.")));

	SPI_connect();

	foreach(lc, plan->create)
	{
		PlanItem   *item = (PlanItem *) lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (item->has_default_rows)
			move_and_create(m, item);
		else
		{
			char	   *lo = key_text(item->lo, t->keytype);
			char	   *hi = key_text(item->hi, t->keytype);

			create_partition(m, item->name,
							 psprintf("FOR VALUES FROM ('%s') TO ('%s')", lo, hi));
			add_action(m, quote_qualified_identifier(t->nspname, item->name),
					   "created", psprintf("from %s to %s", lo, hi));
		}
	}

	/*
	 * The default partition comes last: while it exists, each new partition
	 * has to check it for rows of its range.  (When rows were moved out of
	 * it above, it existed already.)
	 */
	if (plan->need_default)
	{
		char	   *name = default_name(t->relname);

		create_partition(m, name, "DEFAULT");
		add_action(m, quote_qualified_identifier(t->nspname, name), "created",
				   "default partition");
	}

	foreach(lc, plan->drop)
		remove_partition(m, (ExistingPart *) lfirst(lc));

	SPI_finish();
}

/*
 * Maintains m->t.relid (locked ACCESS SHARE by the caller).  With
 * use_lock_timeout, the lock needed to change anything is waited for at
 * most wallet_ops.lock_timeout.
 */
static void
maintain(MaintState *m, bool use_lock_timeout)
{
	PartPlan		plan;
	ListCell   *lc;

	make_plan(m, &plan);
	if (plan_has_work(&plan))
	{
		if (use_lock_timeout)
		{
			char		buf[32];

			snprintf(buf, sizeof(buf), "%d", wallet_ops_lock_timeout);
			(void) set_config_option("lock_timeout", buf, PGC_USERSET,
									 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		}
		LockRelationOid(m->t.relid, AccessExclusiveLock);
		/* the catalogs may have changed while we waited */
		make_plan(m, &plan);
		execute_plan(m, &plan);
	}

	if (m->manage)
	{
		foreach(lc, plan.wanted)
		{
			PlanItem   *item = (PlanItem *) lfirst(lc);

			if (OidIsValid(item->existing))
				add_action(m, partition_qualname(item->existing),
						   "adopted",
						   psprintf("from %s to %s",
									key_text(item->lo, m->t.keytype),
									key_text(item->hi, m->t.keytype)));
		}
	}
	foreach(lc, plan.notes)
		add_action(m, m->t.qualname, "kept in default", (char *) lfirst(lc));

	/* headline figures for wallet_ops.status */
	CommandCounterIncrement();
	table_read(&m->t);
	m->figures.default_rows = 0;
	if (OidIsValid(m->t.default_oid) && (plan.default_has_rows || plan.notes))
	{
		bool		isnull;

		SPI_connect();
		if (SPI_execute(psprintf("SELECT pg_catalog.count(*) FROM ONLY %s",
								 quote_qualified_identifier(m->t.nspname,
															get_rel_name(m->t.default_oid))),
						false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not count rows of default partition");
		m->figures.default_rows = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													  SPI_tuptable->tupdesc, 1, &isnull));
		SPI_finish();
	}
	{
		/* runway: the end of the partitions contiguous from the current period */
		int64		end = julian_key(period_start(local_julian(m->at, m->cfg->tz),
												  m->cfg->period),
									 m->t.keytype, m->cfg->tz);
		int			i;

		m->figures.has_runway = false;
		for (i = 0; i < m->t.nparts; i++)
		{
			if (m->t.parts[i].lo <= end && m->t.parts[i].hi > end)
			{
				end = m->t.parts[i].hi;
				m->figures.has_runway = true;
			}
		}
		if (m->figures.has_runway && end != KEY_MAX)
		{
			if (m->t.keytype == TIMESTAMPTZOID)
				m->figures.runway = (TimestampTz) end;
			else
			{
				int			j = key_julian(end, m->t.keytype, m->cfg->tz);

				m->figures.runway = (TimestampTz) julian_key(j, TIMESTAMPTZOID, m->cfg->tz);
				if (m->t.keytype == TIMESTAMPOID)
					m->figures.runway += end - julian_key(j, TIMESTAMPOID, m->cfg->tz);
			}
		}
		else
			m->figures.has_runway = false;
	}
}

/* ------------------------------------------------------------------------
 * Maintenance runs
 * ------------------------------------------------------------------------
 */

/*
 * Records what one run did to a table in job_log: one row per kind of
 * action; an action done to several partitions names them all in its
 * detail, under the table's name.
 */
static void
record_actions(TimestampTz started, const char *table, List *actions)
{
	ListCell   *lc;
	ListCell   *lc2;
	List	   *done = NIL;

	foreach(lc, actions)
	{
		DoneAction *a = (DoneAction *) lfirst(lc);
		StringInfoData names;
		int			n = 0;
		DoneAction *last = NULL;

		/* reported to the caller, but not worth a job_log row every tick */
		if (strcmp(a->action, "kept in default") == 0)
			continue;
		if (list_member(done, makeString(a->action)))
			continue;
		done = lappend(done, makeString(a->action));
		initStringInfo(&names);
		foreach(lc2, actions)
		{
			DoneAction *b = (DoneAction *) lfirst(lc2);

			if (strcmp(a->action, b->action) != 0)
				continue;
			appendStringInfo(&names, "%s%s", n > 0 ? ", " : "", b->object);
			if (strcmp(b->action, "moved") == 0)
				appendStringInfo(&names, " (%s)", b->detail);
			last = b;
			n++;
		}
		if (n == 1)
			JobLogRecord(started, last->object, "partitions", last->action,
						 JOB_OK, last->detail, NULL);
		else
			JobLogRecord(started, table, "partitions", a->action, JOB_OK,
						 psprintf("%d partitions: %s", n, names.data), NULL);
	}
}

bool
PartitionsMaintainTable(Oid relid, TimestampTz at, Oid as_role,
						ActionReport *report)
{
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	MemoryContext work = AllocSetContextCreate(caller, "wallet_ops partitions",
											   ALLOCSET_DEFAULT_SIZES);
	TimestampTz started = GetCurrentTimestamp();
	char	   *object;
	volatile bool ok = true;
	MaintState *m;
	ListCell   *lc;

	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
	{
		PartitionConfigForgetDropped(relid, report, started);
		MemoryContextDelete(work);
		return true;
	}
	object = MemoryContextStrdup(work, quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
																  get_rel_name(relid)));

	m = MemoryContextAllocZero(work, sizeof(MaintState));
	m->at = at;
	m->outer = work;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(work);
	PG_TRY();
	{
		Oid			save_userid;
		int			save_sec_context;
		Relation	rel;
		int			save_nestlevel = NewGUCNestLevel();
		char		buf[32];

		GetUserIdAndSecContext(&save_userid, &save_sec_context);

		/* no longer managed since the list was made: nothing to do */
		m->cfg = PartitionConfigRead(relid);
		if (m->cfg != NULL)
		{
			if (OidIsValid(as_role))
				SetUserIdAndSecContext(as_role, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);

			/* even the ACCESS SHARE lock must not queue for long */
			snprintf(buf, sizeof(buf), "%d", wallet_ops_lock_timeout);
			(void) set_config_option("lock_timeout", buf, PGC_USERSET,
									 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);

			rel = try_relation_open(relid, AccessShareLock);
			if (rel == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_TABLE),
						 errmsg("table \"%s\" was dropped during maintenance", object)));
			relation_close(rel, NoLock);
			m->t.relid = relid;
			maintain(m, true);

			AtEOXact_GUC(true, save_nestlevel);
			SetUserIdAndSecContext(save_userid, save_sec_context);

			PartitionConfigRecord(relid, "ok", NULL, &m->figures);
			record_actions(started, object, m->actions);
		}

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(work);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		bool		skipped;

		MemoryContextSwitchTo(work);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(work);
		CurrentResourceOwner = owner;

		ok = false;
		skipped = (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE);
		m->actions = NIL;
		if (skipped)
		{
			ereport(LOG,
					(errmsg("wallet_ops: maintenance of \"%s\" skipped: %s",
							object, edata->message),
					 errdetail("It is retried on the next run.")));
			JobLogRecord(started, object, "partitions", "maintenance", JOB_SKIPPED,
						 "could not lock the table within wallet_ops.lock_timeout; retried on the next run",
						 edata);
			PartitionConfigRecord(relid, "skipped", edata, NULL);
			ActionReportAdd(report, object, "skipped", edata->message);
		}
		else
		{
			ereport(LOG,
					(errmsg("wallet_ops: maintenance of \"%s\" failed: %s",
							object, edata->message),
					 edata->detail ? errdetail_internal("%s", edata->detail) : 0));
			JobLogRecord(started, object, "partitions", "maintenance", JOB_ERROR,
						 edata->detail, edata);
			PartitionConfigRecord(relid, "error", edata, NULL);
			ActionReportAdd(report, object, "failed", edata->message);
		}
		report->errors++;
	}
	PG_END_TRY();

	MemoryContextSwitchTo(caller);
	foreach(lc, m->actions)
	{
		DoneAction *a = (DoneAction *) lfirst(lc);

		ActionReportAdd(report, a->object, a->action, a->detail);
	}
	MemoryContextDelete(work);
	return ok;
}

void
PartitionsRunMaintenance(Oid only_relid, TimestampTz at,
						 ActionReport *report)
{
	List	   *relids;
	ListCell   *lc;

	if (OidIsValid(only_relid))
	{
		if (PartitionConfigRead(only_relid) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("partitions of table \"%s\" are not managed",
							get_rel_name(only_relid)),
					 errhint("Call wallet_ops.manage_partitions() first.")));
		relids = list_make1_oid(only_relid);
	}
	else
		relids = PartitionsManagedTables();

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);

		CHECK_FOR_INTERRUPTS();

		/* a caller who is not a superuser maintains the tables it owns */
		if (!superuser() && SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)) &&
#if PG_VERSION_NUM >= 160000
			!object_ownercheck(RelationRelationId, relid, GetUserId())
#else
			!pg_class_ownercheck(relid, GetUserId())
#endif
			)
		{
			if (OidIsValid(only_relid))
				aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
			continue;
		}
		(void) PartitionsMaintainTable(relid, at, InvalidOid, report);
	}
}

/* ------------------------------------------------------------------------
 * SQL-callable functions
 * ------------------------------------------------------------------------
 */

/*
 * manage_partitions(tbl, period, premake, retention, time_zone,
 *					 keep_detached) and, for tests, _manage_partitions_at(...,
 *					 at): starts managing tbl and makes its partitions now.
 *					 Returns what it did.
 */
Datum
wallet_ops_manage_partitions(PG_FUNCTION_ARGS)
{
	ActionReport report;
	Oid			relid;
	PartConfig	cfg;
	MaintState	m;
	Relation	rel;
	Oid			keytype;
	AttrNumber	keyattno;
	ListCell   *lc;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table, period, premake and time zone must not be null")));

	ActionReportInit(fcinfo, &report);

	relid = PG_GETARG_OID(0);
	PartitionConfigInit(&cfg, relid, text_to_cstring(PG_GETARG_TEXT_PP(1)),
						PG_GETARG_INT32(2),
						PG_ARGISNULL(3) ? NULL : PG_GETARG_INTERVAL_P(3),
						text_to_cstring(PG_GETARG_TEXT_PP(4)),
						PG_NARGS() > 5 && !PG_ARGISNULL(5) && PG_GETARG_BOOL(5));

	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	check_owner(rel);
	check_table(rel, &keytype, &keyattno);

	/*
	 * Dropping or detaching old partitions would cut the start off the
	 * table's hash chains, which verify_chain then rightly reports as
	 * missing rows.
	 */
	if (cfg.has_retention)
	{
		ChainConfig chain;

		if (ChainConfigLoad(relid, &chain))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot set a retention on hash-chained table \"%s\"",
							RelationGetRelationName(rel)),
					 errdetail("Removing old partitions would remove the first rows of its hash chains."),
					 errhint("Manage its partitions without a retention.")));
	}

	if (PartitionConfigRead(relid) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("partitions of table \"%s\" are already managed",
						RelationGetRelationName(rel)),
				 errhint("Call wallet_ops.unmanage_partitions() first to change its settings.")));

	PartitionConfigInsert(&cfg);

	memset(&m, 0, sizeof(m));
	m.cfg = &cfg;
	m.at = (PG_NARGS() > 6 && !PG_ARGISNULL(6)) ? PG_GETARG_TIMESTAMPTZ(6) :
		GetCurrentTimestamp();
	m.manage = true;
	m.outer = CurrentMemoryContext;
	relation_close(rel, NoLock);
	m.t.relid = relid;
	maintain(&m, false);

	PartitionConfigRecord(relid, "ok", NULL, &m.figures);
	record_actions(GetCurrentTimestamp(),
				   quote_qualified_identifier(m.t.nspname, m.t.relname), m.actions);
	foreach(lc, m.actions)
	{
		DoneAction *a = (DoneAction *) lfirst(lc);

		ActionReportAdd(&report, a->object, a->action, a->detail);
	}
	return (Datum) 0;
}

/* unmanage_partitions(tbl): stops managing tbl; keeps every partition. */
Datum
wallet_ops_unmanage_partitions(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Relation	rel;
	char	   *name;

	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	check_owner(rel);
	name = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
									  RelationGetRelationName(rel));

	if (!PartitionConfigDelete(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("partitions of table \"%s\" are not managed",
						RelationGetRelationName(rel))));
	relation_close(rel, NoLock);

	JobLogRecord(GetCurrentTimestamp(), name, "partitions", "unmanage", JOB_OK,
				 "partitions are kept", NULL);
	PG_RETURN_VOID();
}

/*
 * _partition_plan(tbl, at): the partitions a managed table should have as
 * of `at`, whether each exists, and the retention cutoff; changes nothing.
 */
Datum
wallet_ops_partition_plan(PG_FUNCTION_ARGS)
{
	ActionReport report;
	Oid			relid = PG_GETARG_OID(0);
	MaintState	m;
	PartPlan		plan;
	Relation	rel;
	ListCell   *lc;

	rel = WalletOpsRelationOpen(relid, AccessShareLock);
	relation_close(rel, NoLock);
	ActionReportInit(fcinfo, &report);

	memset(&m, 0, sizeof(m));
	m.cfg = PartitionConfigRead(relid);
	if (m.cfg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("partitions of table \"%s\" are not managed",
						get_rel_name(relid))));
	m.at = PG_ARGISNULL(1) ? GetCurrentTimestamp() : PG_GETARG_TIMESTAMPTZ(1);
	m.outer = CurrentMemoryContext;
	m.t.relid = relid;
	make_plan(&m, &plan);

	if (plan.need_default)
		ActionReportAdd(&report, default_name(m.t.relname), "missing",
								"default partition");
	foreach(lc, plan.wanted)
	{
		PlanItem   *item = (PlanItem *) lfirst(lc);
		char	   *detail = psprintf("from %s to %s",
									  key_text(item->lo, m.t.keytype),
									  key_text(item->hi, m.t.keytype));

		ActionReportAdd(&report, item->name,
								OidIsValid(item->existing) ? "exists" :
								item == plan.conflict ? "conflict" : "missing",
								detail);
	}
	foreach(lc, plan.create)
	{
		PlanItem   *item = (PlanItem *) lfirst(lc);

		if (!list_member_ptr(plan.wanted, item))
			ActionReportAdd(&report, item->name, "missing",
									psprintf("from %s to %s, for rows in the default partition",
											 key_text(item->lo, m.t.keytype),
											 key_text(item->hi, m.t.keytype)));
	}
	foreach(lc, plan.drop)
	{
		ExistingPart *p = (ExistingPart *) lfirst(lc);

		ActionReportAdd(&report, get_rel_name(p->relid),
								m.cfg->keep_detached ? "to detach" : "to drop",
								psprintf("from %s to %s",
										 key_text(p->lo, m.t.keytype),
										 key_text(p->hi, m.t.keytype)));
	}
	return (Datum) 0;
}
