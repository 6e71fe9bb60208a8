/*-------------------------------------------------------------------------
 *
 * partition_plan.c
 *		Deciding what a managed table's partitions need, changing nothing.
 *
 * As of a reference time `at`, a managed table needs:
 *
 *	- a default partition <table>_default, so no INSERT ever fails;
 *	- partitions for the period containing `at` and `premake` periods after
 *	  it, named <table>_YYYY_MM (month), _YYYY_qN (quarter), _YYYY_MM_DD
 *	  (day), _YYYY_wWW (ISO week) or _YYYY (year), bounded at period starts
 *	  in the configured time zone;
 *	- a partition for the period of each row that landed in the default
 *	  partition, so that the row can be moved there;
 *	- no partition whose whole range is older than `retention`.
 *
 * Period arithmetic is done on local calendar dates of the configured time
 * zone (all periods start at local midnight); a period start becomes a key
 * value through the zone's rules for timestamptz keys, and stays a plain
 * date or midnight timestamp for date and timestamp keys.  Neither the
 * session's TimeZone nor its DateStyle is ever used: bound literals are
 * rendered here in ISO format with an explicit UTC offset.
 *
 * Planning needs only ACCESS SHARE on the parent, so that a run with
 * nothing to do never blocks inserts; wallet_ops._partition_plan() shows a
 * plan without carrying it out.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/partition_plan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "citus_meta.h"
#include "partition_config.h"
#include "partition_plan.h"
#include "common.h"

PG_FUNCTION_INFO_V1(wallet_ops_partition_plan);

/* At most this many periods of default-partition rows are handled per run. */
#define MAX_DEFAULT_PERIODS 1000

/* Key values as int64; MINVALUE and MAXVALUE bounds map to the extremes. */
#define KEY_MIN			PG_INT64_MIN
#define KEY_MAX			PG_INT64_MAX

static char *column_list(Relation rel);
static int	local_julian(TimestampTz at, pg_tz *tz);
static int	key_julian(int64 key, Oid keytype, pg_tz *tz);
static int	period_start(int j, PartPeriod period);
static int	period_next(int j, PartPeriod period);
static int64 julian_key(int j, Oid keytype, pg_tz *tz);
static int64 retention_cutoff(PartConfig *cfg, Oid keytype, TimestampTz at);
static char *partition_name(const char *relname, int j, PartPeriod period);
static Datum key_datum(int64 key, Oid keytype);
static int64 datum_key(Datum value, Oid keytype);
static ExistingPart *find_overlap(PartTable *t, int64 lo, int64 hi);

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
char *
PartitionPlanKeyText(int64 key, Oid keytype)
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

char *
PartitionPlanDefaultName(const char *relname)
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
 * Checks that rel can be managed: a table range-partitioned on one plain
 * column of type timestamptz, timestamp or date.
 */
void
PartitionPlanCheckTable(Relation rel, Oid *keytype, AttrNumber *keyattno)
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
 * Reads what is needed about t->relid, which the caller has locked.  The
 * relation is not kept open: DDL on it refuses relations in use.
 */
void
PartitionPlanReadTable(PartTable *t)
{
	Relation	rel = relation_open(t->relid, NoLock);
	PartitionDesc pd;
	PartitionBoundInfo bi;
	AttrNumber	keyattno;
	int			i;

	PartitionPlanCheckTable(rel, &t->keytype, &keyattno);
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

/*
 * "schema.name" of a partition of the table being maintained.  The caller
 * holds a lock on the parent, and dropping or detaching a partition needs
 * a conflicting one, so the partition cannot be gone.
 */
char *
PartitionPlanQualifiedName(Oid partid)
{
	char	   *relname = get_rel_name(partid);
	char	   *nspname = relname ? get_namespace_name(get_rel_namespace(partid)) : NULL;

	if (relname == NULL || nspname == NULL)
		elog(ERROR, "cache lookup failed for relation %u", partid);
	return quote_qualified_identifier(nspname, relname);
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
 * Works out what t needs as of `at`.  Reads the catalogs and the default
 * partition only; changes nothing.  The notes are allocated in outer.
 */
void
PartitionPlanMake(PartConfig *cfg, PartTable *t, TimestampTz at,
				  MemoryContext outer, PartPlan *plan)
{
	int			j;
	int			k;
	ListCell   *lc;

	memset(plan, 0, sizeof(PartPlan));
	PartitionPlanReadTable(t);
	plan->need_default = !OidIsValid(t->default_oid);

	/* the current period and premake periods ahead */
	j = period_start(local_julian(at, cfg->tz), cfg->period);
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
		char	   *defname = PartitionPlanQualifiedName(t->default_oid);
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
		if (t->on_citus)
		{
			/* the default partition here is an empty shell: ask Citus */
			ret = SPI_execute(psprintf("SELECT 1 FROM ONLY %s LIMIT 1", defname), false, 1);
			if (ret != SPI_OK_SELECT)
				elog(ERROR, "could not read default partition: %s",
					 SPI_result_code_string(ret));
			plan->default_has_rows = (SPI_processed > 0);
		}
		else
		{
			/* read directly: nothing to parse and plan on a run with no work */
			plan->default_has_rows = WalletOpsRelationHasRows(t->default_oid);
		}

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
				MemoryContext old = MemoryContextSwitchTo(outer);
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
				MemoryContext old = MemoryContextSwitchTo(outer);

				plan->notes = lappend(plan->notes,
									  psprintf("rows from %s to %s cannot be moved: the range overlaps partition \"%s\"",
											   PartitionPlanKeyText(lo, t->keytype),
											   PartitionPlanKeyText(hi, t->keytype),
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
		int64		cutoff = retention_cutoff(cfg, t->keytype, at);

		for (k = 0; k < t->nparts; k++)
		{
			if (t->parts[k].hi != KEY_MAX && t->parts[k].hi <= cutoff)
				plan->drop = lappend(plan->drop, &t->parts[k]);
		}
	}
}

bool
PartitionPlanHasWork(PartPlan *plan)
{
	return plan->need_default || plan->create != NIL || plan->drop != NIL ||
		plan->conflict != NULL;
}

bool
PartitionPlanRunway(PartConfig *cfg, PartTable *t, TimestampTz at,
					TimestampTz *runway)
{
	int64		end = julian_key(period_start(local_julian(at, cfg->tz),
											  cfg->period),
								 t->keytype, cfg->tz);
	bool		has_runway = false;
	int			i;

	for (i = 0; i < t->nparts; i++)
	{
		if (t->parts[i].lo <= end && t->parts[i].hi > end)
		{
			end = t->parts[i].hi;
			has_runway = true;
		}
	}
	if (!has_runway || end == KEY_MAX)
		return false;
	if (t->keytype == TIMESTAMPTZOID)
		*runway = (TimestampTz) end;
	else
	{
		int			j = key_julian(end, t->keytype, cfg->tz);

		*runway = (TimestampTz) julian_key(j, TIMESTAMPTZOID, cfg->tz);
		if (t->keytype == TIMESTAMPOID)
			*runway += end - julian_key(j, TIMESTAMPOID, cfg->tz);
	}
	return true;
}

/* ------------------------------------------------------------------------
 * SQL-callable function
 * ------------------------------------------------------------------------
 */

/*
 * _partition_plan(tbl, at): the partitions a managed table should have as
 * of `at`, whether each exists, and the retention cutoff; changes nothing.
 */
Datum
wallet_ops_partition_plan(PG_FUNCTION_ARGS)
{
	ActionReport report;
	Oid			relid = PG_GETARG_OID(0);
	PartConfig *cfg;
	PartTable	t;
	CitusTableInfo ti;
	PartPlan	plan;
	Relation	rel;
	ListCell   *lc;

	rel = WalletOpsRelationOpen(relid, AccessShareLock);
	relation_close(rel, NoLock);
	ActionReportInit(fcinfo, &report);

	cfg = PartitionConfigRead(relid);
	if (cfg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("partitions of table \"%s\" are not managed",
						get_rel_name(relid))));
	memset(&t, 0, sizeof(t));
	t.relid = relid;
	t.on_citus = CitusMetaPresent() && CitusMetaTableInfo(relid, &ti);
	PartitionPlanMake(cfg, &t,
					  PG_ARGISNULL(1) ? GetCurrentTimestamp() : PG_GETARG_TIMESTAMPTZ(1),
					  CurrentMemoryContext, &plan);

	if (plan.need_default)
		ActionReportAdd(&report, PartitionPlanDefaultName(t.relname), "missing",
						"default partition");
	foreach(lc, plan.wanted)
	{
		PlanItem   *item = (PlanItem *) lfirst(lc);
		char	   *detail = psprintf("from %s to %s",
									  PartitionPlanKeyText(item->lo, t.keytype),
									  PartitionPlanKeyText(item->hi, t.keytype));

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
									 PartitionPlanKeyText(item->lo, t.keytype),
									 PartitionPlanKeyText(item->hi, t.keytype)));
	}
	foreach(lc, plan.drop)
	{
		ExistingPart *p = (ExistingPart *) lfirst(lc);

		ActionReportAdd(&report, get_rel_name(p->relid),
						cfg->keep_detached ? "to detach" : "to drop",
						psprintf("from %s to %s",
								 PartitionPlanKeyText(p->lo, t.keytype),
								 PartitionPlanKeyText(p->hi, t.keytype)));
	}
	return (Datum) 0;
}
