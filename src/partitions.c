/*-------------------------------------------------------------------------
 *
 * partitions.c
 *		Partitions made ahead of time: carrying out the plan.
 *
 * A managed table is range-partitioned on one timestamptz, timestamp or
 * date column and has a row in wallet_ops.partition_config
 * (partition_config.c).  partition_plan.c works out what it needs as of a
 * reference time `at`; this file does it:
 *
 *	- creates the missing partitions, and the default partition last;
 *	- moves rows that landed in the default partition into the partition
 *	  made for their period;
 *	- drops partitions older than the retention, or detaches them when
 *	  keep_detached is set;
 *
 * and holds what calls it: manage_partitions(), unmanage_partitions() and
 * the partition part of run_maintenance() and of the worker's ticks, each
 * table in a subtransaction of its own, recorded in job_log.
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

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "append_only.h"
#include "append_only_guard.h"
#include "chain_config.h"
#include "citus_meta.h"
#include "job_log.h"
#include "partition_config.h"
#include "partition_plan.h"
#include "partitions.h"
#include "common.h"

PG_FUNCTION_INFO_V1(wallet_ops_manage_partitions);
PG_FUNCTION_INFO_V1(wallet_ops_unmanage_partitions);

/* An action done, reported once the table's subtransaction commits. */
typedef struct DoneAction
{
	char	   *object;
	char	   *action;
	char	   *detail;
} DoneAction;

/* One table being maintained: its configuration, its state, what was done. */
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

static void check_owner(Relation rel);
static bool check_citus(Oid relid);
static void check_citus_retention(Oid relid);
static void add_action(MaintState *m, const char *object, const char *action,
					   const char *detail);
static void spi_exec(const char *sql, int expected);
static void create_partition(MaintState *m, const char *name,
							 const char *bound_clause);
static void move_and_create(MaintState *m, PlanItem *item);
static void remove_partition(MaintState *m, ExistingPart *part);
static void execute_plan(MaintState *m, PartPlan *plan);
static void maintain(MaintState *m, bool use_lock_timeout);
static void record_actions(TimestampTz started, const char *table, List *actions);

/* ------------------------------------------------------------------------
 * Input checks
 * ------------------------------------------------------------------------
 */

static void
check_owner(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);

	if (!WalletOpsOwnsRelation(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE,
					   RelationGetRelationName(rel));
}

/*
 * Whether relid is a Citus table whose partitions can be managed: a
 * hash-distributed table, whose new partitions Citus distributes itself
 * (CREATE TABLE ... PARTITION OF on this node, the coordinator) and whose
 * dropped or detached partitions it drops or detaches on the workers.
 * false for a table Citus does not know.  ERROR for the other Citus
 * tables: a reference, Citus-local or single-shard table.
 */
static bool
check_citus(Oid relid)
{
	CitusTableInfo ti;

	if (!CitusMetaTableInfo(relid, &ti))
		return false;
	if (ti.partmethod != 'h')
		ereport(ERROR,
				(errcode(ERRCODE_WALLET_OPS_PARTITIONS_ON_CITUS),
				 errmsg("cannot manage the partitions of Citus table \"%s\"",
						get_rel_name(relid)),
				 errdetail("Only the partitions of a hash-distributed table are managed on Citus; this is a %s table.",
						   ti.repmodel == 't' ? "reference" : "Citus-local or single-shard"),
				 errhint("Distribute the table with create_distributed_table() by a column, or undo it with undistribute_table().")));
	return true;
}

/*
 * ERROR when relid, a distributed table, is append-only: its old partitions
 * cannot be removed.  Citus drops or detaches a partition on the workers
 * too, where wallet_ops guards the table's copy and cannot tell this
 * node's maintenance from anyone else's DROP (docs/citus.md).
 */
static void
check_citus_retention(Oid relid)
{
	if (OidIsValid(AppendOnlyCoveringEntry(relid, AppendOnlyConfigRelids())))
		ereport(ERROR,
				(errcode(ERRCODE_WALLET_OPS_RETENTION_ON_CITUS),
				 errmsg("cannot remove old partitions of append-only distributed table \"%s\"",
						get_rel_name(relid)),
				 errdetail("Citus would drop or detach them on the workers too, where wallet_ops keeps the table append-only."),
				 errhint("Manage its partitions without a retention (unmanage_partitions(), then manage_partitions() without one).")));
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
	char	   *lo = PartitionPlanKeyText(item->lo, t->keytype);
	char	   *hi = PartitionPlanKeyText(item->hi, t->keytype);
	char	   *keytypename = format_type_be(t->keytype);
	uint64		moved;
	uint64		inserted;
	int			save_nestlevel;

	defname = PartitionPlanQualifiedName(t->default_oid);

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

/* Drops, or detaches when keep_detached, a partition beyond retention. */
static void
remove_partition(MaintState *m, ExistingPart *part)
{
	PartTable  *t = &m->t;
	char	   *qualname = PartitionPlanQualifiedName(part->relid);
	char	   *detail = psprintf("from %s to %s, older than the retention",
								  PartitionPlanKeyText(part->lo, t->keytype),
								  PartitionPlanKeyText(part->hi, t->keytype));

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
	int			guc_level = 0;

	if (plan->conflict)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("partition \"%s\" of table \"%s\" does not match the %s periods in time zone \"%s\"",
						get_rel_name(plan->conflict_with->relid), t->relname,
						PartitionConfigPeriodName(m->cfg->period), m->cfg->time_zone),
				 errdetail("The partition covers %s to %s; the period %s should cover %s to %s.",
						   PartitionPlanKeyText(plan->conflict_with->lo, t->keytype),
						   PartitionPlanKeyText(plan->conflict_with->hi, t->keytype),
						   plan->conflict->name,
						   PartitionPlanKeyText(plan->conflict->lo, t->keytype),
						   PartitionPlanKeyText(plan->conflict->hi, t->keytype)),
				 errhint("Detach the partition or re-create it with period bounds, or manage the table with another period or time zone.")));

	/*
	 * On Citus the default partition's rows are on the workers' shards,
	 * where its triggers (append-only, hash chain) fire and this node's
	 * maintenance switch does not reach: they are not moved.  Citus
	 * distributes each new partition itself, and refuses triggers on it
	 * unless told that they are safe (docs/citus.md).
	 */
	if (m->t.on_citus)
	{
		foreach(lc, plan->create)
		{
			PlanItem   *item = (PlanItem *) lfirst(lc);

			if (item->has_default_rows)
				ereport(ERROR,
						(errcode(ERRCODE_WALLET_OPS_DEFAULT_ROWS_ON_CITUS),
						 errmsg("cannot move rows out of the default partition of distributed table \"%s\"",
								t->relname),
						 errdetail("Rows from %s to %s are in the default partition; their partition cannot be created while they are there.",
								   PartitionPlanKeyText(item->lo, t->keytype),
								   PartitionPlanKeyText(item->hi, t->keytype)),
						 errhint("Move those rows by hand into a partition created with the same bounds, or keep more partitions made ahead (premake).")));
		}
		guc_level = CitusMetaAllowTriggers();
	}

	SPI_connect();

	foreach(lc, plan->create)
	{
		PlanItem   *item = (PlanItem *) lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (item->has_default_rows)
			move_and_create(m, item);
		else
		{
			char	   *lo = PartitionPlanKeyText(item->lo, t->keytype);
			char	   *hi = PartitionPlanKeyText(item->hi, t->keytype);

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
		char	   *name = PartitionPlanDefaultName(t->relname);

		create_partition(m, name, "DEFAULT");
		add_action(m, quote_qualified_identifier(t->nspname, name), "created",
				   "default partition");
	}

	foreach(lc, plan->drop)
		remove_partition(m, (ExistingPart *) lfirst(lc));

	SPI_finish();
	if (guc_level > 0)
		AtEOXact_GUC(true, guc_level);
}

/*
 * Maintains m->t.relid (locked ACCESS SHARE by the caller).  With
 * use_lock_timeout, the lock needed to change anything is waited for at
 * most wallet_ops.lock_timeout.
 */
static void
maintain(MaintState *m, bool use_lock_timeout)
{
	PartPlan	plan;
	ListCell   *lc;

	m->t.on_citus = check_citus(m->t.relid);
	PartitionPlanMake(m->cfg, &m->t, m->at, m->outer, &plan);
	if (m->t.on_citus && plan.drop != NIL)
		check_citus_retention(m->t.relid);
	if (PartitionPlanHasWork(&plan))
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
		PartitionPlanMake(m->cfg, &m->t, m->at, m->outer, &plan);
		execute_plan(m, &plan);
	}

	if (m->manage)
	{
		foreach(lc, plan.wanted)
		{
			PlanItem   *item = (PlanItem *) lfirst(lc);

			if (OidIsValid(item->existing))
				add_action(m, PartitionPlanQualifiedName(item->existing),
						   "adopted",
						   psprintf("from %s to %s",
									PartitionPlanKeyText(item->lo, m->t.keytype),
									PartitionPlanKeyText(item->hi, m->t.keytype)));
		}
	}
	foreach(lc, plan.notes)
		add_action(m, m->t.qualname, "kept in default", (char *) lfirst(lc));

	/* headline figures for wallet_ops.status */
	CommandCounterIncrement();
	PartitionPlanReadTable(&m->t);
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
		m->figures.default_rows =
			DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull));
		SPI_finish();
	}
	/* runway: the end of the partitions contiguous from the current period */
	m->figures.has_runway = PartitionPlanRunway(m->cfg, &m->t, m->at,
												&m->figures.runway);
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
	WalletOpsCheckGuardable(relid, "manage the partitions of");
	check_owner(rel);
	if (check_citus(relid) && cfg.has_retention)
		check_citus_retention(relid);
	PartitionPlanCheckTable(rel, &keytype, &keyattno);

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
