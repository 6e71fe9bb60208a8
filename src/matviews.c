/*-------------------------------------------------------------------------
 *
 * matviews.c
 *		Materialised views kept fresh: change tracking on their sources and
 *		refreshes by the worker.
 *
 * A managed view (a row of wallet_ops.matviews) reads a set of sources:
 * the tables, partitions and materialised views named by its definition,
 * found through pg_depend from its _RETURN rule, through plain views, with
 * every partition and inheritance child of each table.  Every source table
 * carries a watcher: a statement-level AFTER trigger (ENABLE ALWAYS) and,
 * for logical replication apply, which fires row triggers only, a row-level
 * AFTER trigger enabled for the replica role only.  The watcher appends one
 * row (source, top-level xid8, time) to wallet_ops.matview_changes at most
 * once per transaction and source; the row commits or rolls back with the
 * change, and concurrent writers never touch a shared row.
 *
 * A refresh records the snapshot taken just before REFRESH MATERIALIZED
 * VIEW (pg_current_snapshot()): every change visible in it is in the
 * refreshed data.  A view is stale when a change row of one of its sources
 * is not visible in its recorded snapshot; this is exact whatever the commit
 * order of writers, unlike a comparison of timestamps.  Change rows that
 * every view reading their table has seen are pruned after each pass.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/matviews.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "rewrite/rewriteSupport.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "job_log.h"
#include "matview_config.h"
#include "matviews.h"
#include "common.h"

#ifndef ViewSelectRuleName
#define ViewSelectRuleName "_RETURN"
#endif

/* Names of the watcher triggers on source tables. */
#define WATCH_TRIGGER		"wallet_ops_matview_watch"
#define APPLY_TRIGGER		"wallet_ops_matview_watch_apply"

/* job_log.kind of every matview run */
#define JOB_KIND			"matview"

PG_FUNCTION_INFO_V1(wallet_ops_matview_sources);
PG_FUNCTION_INFO_V1(wallet_ops_matview_next_mode);
PG_FUNCTION_INFO_V1(wallet_ops_manage_matview);
PG_FUNCTION_INFO_V1(wallet_ops_unmanage_matview);
PG_FUNCTION_INFO_V1(wallet_ops_refresh_matview);
PG_FUNCTION_INFO_V1(wallet_ops_matview_watch);
PG_FUNCTION_INFO_V1(wallet_ops_matviews_ddl);
PG_FUNCTION_INFO_V1(wallet_ops_matviews_drop);
PG_FUNCTION_INFO_V1(wallet_ops_matviews_run);

/*
 * Sources already marked as changed by the current transaction, so that the
 * watcher inserts at most one row per (transaction, source).  Allocated in
 * TopTransactionContext; forgotten at transaction end and, conservatively,
 * whenever a subtransaction aborts (its row may have gone with it).
 */
static List *marked_sources = NIL;
static bool callbacks_registered = false;

/* True while sync_watchers() runs its own DDL (event trigger recursion). */
static bool syncing_watchers = false;

/* A view due for a refresh, as listed by wallet_ops._matviews_due(). */
typedef struct DueView
{
	Oid			mvoid;
	char	   *reason;
	int			depth;			/* levels of materialised views under it */
} DueView;

static void matviews_xact_callback(XactEvent event, void *arg);
static void matviews_subxact_callback(SubXactEvent event,
									  SubTransactionId mySubid,
									  SubTransactionId parentSubid, void *arg);
static void collect_sources(Oid relid, List **sources, List **visited);
static List *matview_source_list(Oid mvoid);
static bool can_refresh_concurrently(Oid mvoid);
static char *check_matview(Oid mvoid, bool must_own);
static double interval_seconds(Interval *iv);
static void sync_watchers(void);
static bool refresh_matview_locked(Oid mvoid, bool wait, bool as_worker,
								   const char **mode);
static void prune_changes(void);
static void check_managed(Oid mvoid, Oid owner);
static List *fetch_due(Oid only_relid, List *exclude, Oid owner, MemoryContext cxt);
static void mark_source_changed(Oid relid);
static bool xact_changed_rows(Oid relid);
static bool ddl_may_change_sources(Node *parsetree, List **changed);

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------
 */

static bool
role_owns_relation(Oid relid, Oid roleid)
{
#if PG_VERSION_NUM >= 160000
	return object_ownercheck(RelationRelationId, relid, roleid);
#else
	return pg_class_ownercheck(relid, roleid);
#endif
}

static bool
owns_relation(Oid relid)
{
	return role_owns_relation(relid, GetUserId());
}

static double
interval_seconds(Interval *iv)
{
	return (double) iv->time / USECS_PER_SEC
		+ (double) iv->day * SECS_PER_DAY
		+ (double) iv->month * DAYS_PER_MONTH * SECS_PER_DAY;
}

/* ------------------------------------------------------------------------
 * Sources of a view
 * ------------------------------------------------------------------------
 */

/*
 * Add the parents, grandparents... of relid (partitioning or inheritance)
 * to *sources: a statement on a parent fires only the parent's statement
 * triggers, even for rows it routes to, or updates in, a child the view
 * reads directly.
 */
static void
add_ancestors(Oid relid, List **sources)
{
	Relation	inhRel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *parents = NIL;
	ListCell   *lc;

	inhRel = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(inhRel, InheritsRelidSeqnoIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		parents = lappend_oid(parents, ((Form_pg_inherits) GETSTRUCT(tup))->inhparent);
	systable_endscan(scan);
	table_close(inhRel, AccessShareLock);

	foreach(lc, parents)
	{
		Oid			parent = lfirst_oid(lc);

		if (list_member_oid(*sources, parent))
			continue;
		*sources = lappend_oid(*sources, parent);
		add_ancestors(parent, sources);
	}
	list_free(parents);
}

/*
 * Add to *sources what the view or materialised view relid reads: the
 * views, tables and materialised views its _RETURN rule depends on (pg_depend records every relation of
 * the query, in subqueries, CTEs and sublinks too), through plain views,
 * with every partition and inheritance child of each table, and its parents.
 */
static void
collect_sources(Oid relid, List **sources, List **visited)
{
	Oid			ruleoid = get_rewrite_oid(relid, ViewSelectRuleName, true);
	Relation	depRel;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *refs = NIL;
	ListCell   *lc;

	if (!OidIsValid(ruleoid))
		return;

	depRel = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RewriteRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(ruleoid));
	scan = systable_beginscan(depRel, DependDependerIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->refclassid == RelationRelationId && dep->refobjid != relid)
			refs = list_append_unique_oid(refs, dep->refobjid);
	}
	systable_endscan(scan);
	table_close(depRel, AccessShareLock);

	foreach(lc, refs)
	{
		Oid			ref = lfirst_oid(lc);

		if (list_member_oid(*visited, ref))
			continue;
		*visited = lappend_oid(*visited, ref);

		switch (get_rel_relkind(ref))
		{
			case RELKIND_VIEW:
				/* a redefined view marks itself (see the ddl trigger) */
				*sources = list_append_unique_oid(*sources, ref);
				collect_sources(ref, sources, visited);
				break;
			case RELKIND_RELATION:
			case RELKIND_PARTITIONED_TABLE:
				{
					List	   *all = find_all_inheritors(ref, NoLock, NULL);
					ListCell   *lc2;

					foreach(lc2, all)
						*sources = list_append_unique_oid(*sources, lfirst_oid(lc2));
					add_ancestors(ref, sources);
					break;
				}
			case RELKIND_MATVIEW:
			case RELKIND_FOREIGN_TABLE:
				*sources = list_append_unique_oid(*sources, ref);
				break;
			default:
				/* sequences, composite types: no data a view reads */
				break;
		}
	}
	list_free(refs);
}

static List *
matview_source_list(Oid mvoid)
{
	List	   *sources = NIL;
	List	   *visited = NIL;

	collect_sources(mvoid, &sources, &visited);
	list_free(visited);
	return sources;
}

/*
 * wallet_ops.matview_sources(mv regclass) RETURNS regclass[]
 */
Datum
wallet_ops_matview_sources(PG_FUNCTION_ARGS)
{
	Oid			mvoid = PG_GETARG_OID(0);
	List	   *sources;
	Datum	   *elems;
	int			n = 0;
	ListCell   *lc;

	if (get_rel_relkind(mvoid) != RELKIND_MATVIEW &&
		get_rel_relkind(mvoid) != RELKIND_VIEW)
		PG_RETURN_NULL();

	sources = matview_source_list(mvoid);
	elems = palloc(sizeof(Datum) * (list_length(sources) + 1));
	foreach(lc, sources)
		elems[n++] = ObjectIdGetDatum(lfirst_oid(lc));

	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, REGCLASSOID,
										  sizeof(Oid), true, TYPALIGN_INT));
}

static bool
index_is_btree(Oid indexoid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(indexoid));
	bool		result;

	if (!HeapTupleIsValid(tup))
		return false;
	result = ((Form_pg_class) GETSTRUCT(tup))->relam == BTREE_AM_OID;
	ReleaseSysCache(tup);
	return result;
}

/*
 * Whether REFRESH ... CONCURRENTLY would be accepted: the view is populated
 * and has a valid, immediate, non-partial unique btree index on plain
 * columns (what PostgreSQL's matview.c requires).
 */
static bool
can_refresh_concurrently(Oid mvoid)
{
	Relation	rel;
	List	   *indexes;
	ListCell   *lc;
	bool		usable = false;

	rel = table_open(mvoid, AccessShareLock);
	if (rel->rd_rel->relkind != RELKIND_MATVIEW || !RelationIsPopulated(rel))
	{
		table_close(rel, AccessShareLock);
		return false;
	}

	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID,
										  ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index idx;
		int			i;
		bool		plain = true;

		if (!HeapTupleIsValid(tup))
			continue;
		idx = (Form_pg_index) GETSTRUCT(tup);
		if (idx->indisunique && idx->indimmediate && idx->indisvalid &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
			index_is_btree(idx->indexrelid) &&
			idx->indnatts > 0)
		{
			for (i = 0; i < idx->indnatts; i++)
				if (idx->indkey.values[i] <= 0)
					plain = false;
			if (plain)
				usable = true;
		}
		ReleaseSysCache(tup);
		if (usable)
			break;
	}
	list_free(indexes);
	table_close(rel, AccessShareLock);
	return usable;
}

/*
 * wallet_ops._matview_next_mode(mv regclass) RETURNS text: the mode the next
 * refresh would use, 'concurrently' or 'plain'.
 */
Datum
wallet_ops_matview_next_mode(PG_FUNCTION_ARGS)
{
	Oid			mvoid = PG_GETARG_OID(0);

	if (get_rel_relkind(mvoid) != RELKIND_MATVIEW)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(can_refresh_concurrently(mvoid)
									 ? "concurrently" : "plain"));
}

/* ------------------------------------------------------------------------
 * Watchers
 * ------------------------------------------------------------------------
 */

static bool
is_watchable(Oid relid)
{
	char		kind = get_rel_relkind(relid);

	return (kind == RELKIND_RELATION || kind == RELKIND_PARTITIONED_TABLE) &&
		!IsCatalogRelationOid(relid);
}

/*
 * Make the watcher triggers match the managed views: every table or
 * partition read by a view managed with on_change has them, no other table
 * does.  Runs its DDL as the caller (who must be the extension owner by
 * now); the event triggers that this DDL fires do nothing meanwhile.
 */
static void
sync_watchers(void)
{
	List	   *desired = NIL;
	List	   *mvs = NIL;
	ListCell   *lc;
	uint64		i;
	int			ret;
	StringInfoData sql;

	if (syncing_watchers)
		return;

	syncing_watchers = true;
	PG_TRY();
	{
		mvs = MatviewConfigOnChangeViews();
		SPI_connect();

		foreach(lc, mvs)
		{
			List	   *sources = matview_source_list(lfirst_oid(lc));
			ListCell   *lc2;

			foreach(lc2, sources)
				if (is_watchable(lfirst_oid(lc2)))
					desired = list_append_unique_oid(desired, lfirst_oid(lc2));
		}

		/* Existing watchers: drop those no longer needed. */
		ret = SPI_execute("SELECT t.tgrelid, t.tgname::pg_catalog.text"
						  "  FROM pg_catalog.pg_trigger t"
						  " WHERE t.tgfoid OPERATOR(pg_catalog.=)"
						  "       'wallet_ops.matview_watch()'::pg_catalog.regprocedure"
						  "   AND NOT t.tgisinternal",
						  false, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not list watcher triggers: %s",
				 SPI_result_code_string(ret));
		else
		{
			SPITupleTable *tt = SPI_tuptable;
			uint64		n = SPI_processed;
			List	   *have_watch = NIL;
			List	   *have_apply = NIL;
			List	   *drops = NIL;
			List	   *drop_names = NIL;
			ListCell   *lc3;

			for (i = 0; i < n; i++)
			{
				bool		isnull;
				Oid			rel = DatumGetObjectId(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull));
				char	   *name = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);

				if (!list_member_oid(desired, rel))
				{
					drops = lappend_oid(drops, rel);
					drop_names = lappend(drop_names, name);
				}
				else if (strcmp(name, WATCH_TRIGGER) == 0)
					have_watch = lappend_oid(have_watch, rel);
				else if (strcmp(name, APPLY_TRIGGER) == 0)
					have_apply = lappend_oid(have_apply, rel);
			}

			initStringInfo(&sql);
			forboth(lc, drops, lc3, drop_names)
			{
				char	   *relname = MatviewDisplayName(lfirst_oid(lc));

				if (relname == NULL)
					continue;
				resetStringInfo(&sql);
				appendStringInfo(&sql, "DROP TRIGGER %s ON %s",
								 quote_identifier((char *) lfirst(lc3)), relname);
				SPI_execute(sql.data, false, 0);
			}

			foreach(lc, desired)
			{
				Oid			rel = lfirst_oid(lc);
				char	   *relname = MatviewDisplayName(rel);

				if (relname == NULL)
					continue;
				if (!list_member_oid(have_watch, rel))
				{
					resetStringInfo(&sql);
					appendStringInfo(&sql,
									 "CREATE TRIGGER " WATCH_TRIGGER
									 " AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s"
									 " FOR EACH STATEMENT EXECUTE FUNCTION wallet_ops.matview_watch()",
									 relname);
					SPI_execute(sql.data, false, 0);
					resetStringInfo(&sql);
					appendStringInfo(&sql, "ALTER TABLE %s ENABLE ALWAYS TRIGGER " WATCH_TRIGGER,
									 relname);
					SPI_execute(sql.data, false, 0);
				}

				/*
				 * Logical replication apply fires row triggers only.  A row
				 * trigger on a partitioned table would be cloned onto its
				 * partitions, so leaf tables get their own.
				 */
				if (get_rel_relkind(rel) == RELKIND_RELATION &&
					!list_member_oid(have_apply, rel))
				{
					resetStringInfo(&sql);
					appendStringInfo(&sql,
									 "CREATE TRIGGER " APPLY_TRIGGER
									 " AFTER INSERT OR UPDATE OR DELETE ON %s"
									 " FOR EACH ROW EXECUTE FUNCTION wallet_ops.matview_watch()",
									 relname);
					SPI_execute(sql.data, false, 0);
					resetStringInfo(&sql);
					appendStringInfo(&sql, "ALTER TABLE %s ENABLE REPLICA TRIGGER " APPLY_TRIGGER,
									 relname);
					SPI_execute(sql.data, false, 0);
				}
			}
		}

		SPI_finish();
	}
	PG_FINALLY();
	{
		syncing_watchers = false;
	}
	PG_END_TRY();
}

static void
matviews_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			marked_sources = NIL;
			break;
		default:
			break;
	}
}

static void
matviews_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		marked_sources = NIL;
}

/*
 * Whether the current transaction has inserted, updated or deleted rows of
 * relid so far: the per-(sub)transaction statistics counters of the live
 * transaction (counts of earlier transactions not yet flushed, and of
 * aborted subtransactions, are kept elsewhere).  True when counters are not
 * kept, or where the counters are not reachable, to stay on the safe side.
 */
static bool
xact_changed_rows(Oid relid)
{
#if PG_VERSION_NUM < 170000
	PgStat_TableStatus *tab;
	PgStat_TableXactStatus *trans;
	int64		n = 0;

	if (!pgstat_track_counts)
		return true;
	tab = find_tabstat_entry(relid);
	if (tab == NULL)
		return false;
	for (trans = tab->trans; trans != NULL; trans = trans->upper)
		n += trans->tuples_inserted + trans->tuples_updated + trans->tuples_deleted;
	return n > 0;
#else
	return true;
#endif
}

/*
 * Append the change row (relid, top-level xid, now) for relid, and remember
 * that this transaction did, so that the watcher skips relid from now on.
 */
static void
mark_source_changed(Oid relid)
{
	MemoryContext oldcxt;

	if (!callbacks_registered)
	{
		RegisterXactCallback(matviews_xact_callback, NULL);
		RegisterSubXactCallback(matviews_subxact_callback, NULL);
		callbacks_registered = true;
	}
	MatviewConfigRecordChange(relid);

	oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	marked_sources = lappend_oid(marked_sources, relid);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * wallet_ops.matview_watch(): the watcher trigger.  Statement-level AFTER
 * INSERT/UPDATE/DELETE/TRUNCATE (ENABLE ALWAYS) on every source table and
 * partition, and row-level AFTER INSERT/UPDATE/DELETE (ENABLE REPLICA) on
 * leaf tables for logical replication apply.
 */
Datum
wallet_ops_matview_watch(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	Oid			relid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by trigger manager",
						"wallet_ops.matview_watch")));
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired AFTER",
						"wallet_ops.matview_watch")));

	rel = trigdata->tg_relation;
	relid = RelationGetRelid(rel);

	if (list_member_oid(marked_sources, relid))
		return PointerGetDatum(NULL);

	/*
	 * A statement that changed no row (UPDATE ... WHERE false) is not a
	 * change.  Rows inserted through a partitioned table are counted on its
	 * partitions, so a statement on one always counts.
	 */
	if (TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) &&
		!TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event) &&
		rel->rd_rel->relkind == RELKIND_RELATION &&
		!xact_changed_rows(relid))
		return PointerGetDatum(NULL);

	mark_source_changed(relid);
	return PointerGetDatum(NULL);
}

/* ------------------------------------------------------------------------
 * manage / unmanage
 * ------------------------------------------------------------------------
 */

/*
 * Lock the materialised view mvoid against DROP for the rest of the
 * transaction and check it is one; with must_own, check the current user
 * owns it.  Returns its display name.
 */
static char *
check_matview(Oid mvoid, bool must_own)
{
	char	   *name;

	LockRelationOid(mvoid, AccessShareLock);
	name = MatviewDisplayName(mvoid);
	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", mvoid)));
	if (get_rel_relkind(mvoid) != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a materialized view", name),
				 errhint("Only materialized views can be refreshed by wallet_ops.")));
	if (must_own && !owns_relation(mvoid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of materialized view %s", name),
				 errdetail("Only the owner of a materialized view can refresh it.")));
	return name;
}

/*
 * wallet_ops.manage_matview(mv regclass, refresh_every interval DEFAULT NULL,
 *                           on_change boolean DEFAULT true)
 */
Datum
wallet_ops_manage_matview(PG_FUNCTION_ARGS)
{
	Oid			mvoid;
	Interval   *every = NULL;
	bool		on_change;
	char	   *name;
	Oid			save_userid;
	int			save_sec_context;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("materialized view must not be null")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("on_change must not be null")));
	mvoid = PG_GETARG_OID(0);
	if (!PG_ARGISNULL(1))
		every = PG_GETARG_INTERVAL_P(1);
	on_change = PG_GETARG_BOOL(2);

	name = check_matview(mvoid, true);

	if (every != NULL)
	{
		double		secs = interval_seconds(every);

		if (secs <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("refresh interval of materialized view \"%s\" must be positive",
							name)));
		if (secs < wallet_ops_naptime)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("refresh interval of materialized view \"%s\" is shorter than wallet_ops.naptime",
							name),
					 errdetail("The worker looks at views every %d seconds; refresh_every is %g seconds.",
							   wallet_ops_naptime, secs),
					 errhint("Use a refresh_every of at least %d seconds, or lower wallet_ops.naptime.",
							 wallet_ops_naptime)));
	}
	else if (!on_change)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("materialized view \"%s\" would never be refreshed", name),
				 errdetail("on_change is false and refresh_every is null."),
				 errhint("Set on_change to true, or give a refresh_every interval.")));

	if (on_change)
	{
		List	   *sources = matview_source_list(mvoid);
		ListCell   *lc;
		int			watchable = 0;

		foreach(lc, sources)
		{
			Oid			src = lfirst_oid(lc);
			char		kind = get_rel_relkind(src);

			if (kind == RELKIND_FOREIGN_TABLE)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot watch foreign table \"%s\" read by materialized view \"%s\"",
								MatviewDisplayName(src), name),
						 errdetail("Changes to a foreign table happen on another server."),
						 errhint("Manage the view with on_change => false and a refresh_every interval.")));
			if (kind != RELKIND_MATVIEW && IsCatalogRelationOid(src))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot watch system catalog \"%s\" read by materialized view \"%s\"",
								MatviewDisplayName(src), name),
						 errhint("Manage the view with on_change => false and a refresh_every interval.")));
			if (kind != RELKIND_VIEW)
				watchable++;
		}
		if (watchable == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot watch the sources of materialized view \"%s\"", name),
					 errdetail("It reads no table that can be watched (system catalogs and data read through functions cannot be)."),
					 errhint("Manage the view with on_change => false and a refresh_every interval.")));
	}

	if (!MatviewConfigAdd(mvoid, every, on_change,
						  GetUserNameFromId(GetUserId(), false)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("materialized view \"%s\" is already managed", name),
				 errhint("Call wallet_ops.unmanage_matview() first to change its settings.")));

	if (on_change)
	{
		/* the watchers are DDL on tables the caller may not own */
		MatviewConfigBecomeOwner(&save_userid, &save_sec_context);
		sync_watchers();
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}

	PG_RETURN_VOID();
}

/*
 * wallet_ops.unmanage_matview(mv regclass)
 */
Datum
wallet_ops_unmanage_matview(PG_FUNCTION_ARGS)
{
	Oid			mvoid;
	char	   *name;
	Oid			save_userid;
	int			save_sec_context;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("materialized view must not be null")));
	mvoid = PG_GETARG_OID(0);
	name = check_matview(mvoid, true);

	if (!MatviewConfigRemove(mvoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("materialized view \"%s\" is not managed", name),
				 errhint("wallet_ops.matview_freshness lists the managed views.")));
	MatviewConfigBecomeOwner(&save_userid, &save_sec_context);
	sync_watchers();
	SetUserIdAndSecContext(save_userid, save_sec_context);

	PG_RETURN_VOID();
}

/* ------------------------------------------------------------------------
 * Refreshing
 * ------------------------------------------------------------------------
 */

/*
 * Refresh mvoid now, in the current (sub)transaction, and record it in its
 * state row when it is managed.  Locks the view in ExclusiveLock first (what
 * REFRESH ... CONCURRENTLY takes; it conflicts with any other refresh): with
 * wait false, returns false at once if another refresh holds it.  With
 * as_worker, lock waits are bounded by wallet_ops.lock_timeout and REFRESH
 * runs as the view's owner (who asked for it to be managed; REFRESH runs the
 * view's query as the owner anyway); otherwise as the current user, whom
 * REFRESH checks is the owner.  *mode is set to "concurrently" or "plain".
 */
static bool
refresh_matview_locked(Oid mvoid, bool wait, bool as_worker,
					   const char **mode)
{
	bool		set_lock_timeout = as_worker;
	char	   *name;
	bool		concurrently;
	int			save_nestlevel = 0;
	int			ret;
	char	   *snapshot;
	char	   *refresher;
	TimestampTz started = GetCurrentTimestamp();
	Oid			save_userid;
	int			save_sec_context;
	StringInfoData sql;

	if (set_lock_timeout)
	{
		char		buf[32];

		save_nestlevel = NewGUCNestLevel();
		snprintf(buf, sizeof(buf), "%d", wallet_ops_lock_timeout);
		(void) set_config_option("lock_timeout", buf, PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}

	if (wait)
		LockRelationOid(mvoid, ExclusiveLock);
	else if (!ConditionalLockRelationOid(mvoid, ExclusiveLock))
	{
		if (set_lock_timeout)
			AtEOXact_GUC(true, save_nestlevel);
		return false;
	}

	name = MatviewDisplayName(mvoid);
	if (name == NULL || get_rel_relkind(mvoid) != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("materialized view with OID %u does not exist", mvoid)));

	concurrently = can_refresh_concurrently(mvoid);
	*mode = concurrently ? "concurrently" : "plain";

	SPI_connect();

	/*
	 * The snapshot of this statement is older than the one REFRESH will
	 * use: whatever it sees committed, the refresh sees too.
	 */
	ret = SPI_execute("SELECT pg_catalog.pg_current_snapshot()::pg_catalog.text,"
					  " pg_catalog.pg_current_xact_id_if_assigned()::pg_catalog.text",
					  false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the current snapshot");
	snapshot = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	refresher = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

	initStringInfo(&sql);
	appendStringInfo(&sql, "REFRESH MATERIALIZED VIEW %s%s",
					 concurrently ? "CONCURRENTLY " : "", name);
	if (as_worker)
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(mvoid));

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for relation %u", mvoid);
		GetUserIdAndSecContext(&save_userid, &save_sec_context);
		SetUserIdAndSecContext(((Form_pg_class) GETSTRUCT(tup))->relowner,
							   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
		ReleaseSysCache(tup);
	}
	ret = SPI_execute(sql.data, false, 0);
	if (ret < 0)
		elog(ERROR, "could not refresh materialized view %s: %s",
			 name, SPI_result_code_string(ret));
	if (as_worker)
		SetUserIdAndSecContext(save_userid, save_sec_context);

	MatviewConfigRecordRefresh(mvoid, *mode, snapshot, started, refresher);
	SPI_finish();

	if (set_lock_timeout)
		AtEOXact_GUC(true, save_nestlevel);
	return true;
}

/*
 * wallet_ops.refresh_matview(mv regclass) RETURNS text
 *
 * Refresh now in the caller's transaction (waiting for a refresh in
 * progress), CONCURRENTLY when possible; errors reach the caller.
 */
Datum
wallet_ops_refresh_matview(PG_FUNCTION_ARGS)
{
	Oid			mvoid;
	char	   *name;
	const char *mode = NULL;
	TimestampTz started = GetCurrentTimestamp();
	Oid			save_userid;
	int			save_sec_context;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("materialized view must not be null")));
	mvoid = PG_GETARG_OID(0);
	name = check_matview(mvoid, true);

	(void) refresh_matview_locked(mvoid, true, false, &mode);

	MatviewConfigBecomeOwner(&save_userid, &save_sec_context);
	JobLogRecord(started, name, JOB_KIND, "refresh", JOB_OK,
				 psprintf("%s, requested by refresh_matview()", mode), NULL);
	SetUserIdAndSecContext(save_userid, save_sec_context);

	PG_RETURN_TEXT_P(cstring_to_text(mode));
}

List *
MatviewsDueViews(void)
{
	if (!MatviewConfigInstalled())
		return NIL;
	return MatviewConfigDue(InvalidOid, NULL);
}

/*
 * Forget the change rows every view has seen, in a subtransaction: a
 * failure here is only a warning, and does not undo the refreshes.
 */
static void
prune_changes(void)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		MatviewConfigPruneChanges();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("could not remove consumed rows of wallet_ops.matview_changes"),
				 errdetail("%s", edata->message)));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

/*
 * How many levels of materialised views lie under mvoid (0 when it reads
 * none).  Materialised views cannot form a cycle.
 */
static int
matview_depth(Oid mvoid, int guard)
{
	List	   *sources = matview_source_list(mvoid);
	ListCell   *lc;
	int			depth = 0;

	if (guard > 100)
		return depth;
	foreach(lc, sources)
		if (get_rel_relkind(lfirst_oid(lc)) == RELKIND_MATVIEW)
			depth = Max(depth, 1 + matview_depth(lfirst_oid(lc), guard + 1));
	list_free(sources);
	return depth;
}

static int
due_view_cmp(const ListCell *a, const ListCell *b)
{
	const DueView *da = (const DueView *) lfirst(a);
	const DueView *db = (const DueView *) lfirst(b);

	if (da->depth != db->depth)
		return da->depth < db->depth ? -1 : 1;
	if (da->mvoid != db->mvoid)
		return da->mvoid < db->mvoid ? -1 : 1;
	return 0;
}

/*
 * The views due now (only_relid alone when valid), leaving out those in
 * exclude and, when owner is valid, those owner does not own, as DueView
 * entries allocated in cxt, a view after the views it reads.
 */
static List *
fetch_due(Oid only_relid, List *exclude, Oid owner, MemoryContext cxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	List	   *due = NIL;
	List	   *mvs;
	List	   *reasons;
	ListCell   *lc;
	ListCell   *lr;

	mvs = MatviewConfigDue(only_relid, &reasons);
	forboth(lc, mvs, lr, reasons)
	{
		Oid			mvoid = lfirst_oid(lc);
		DueView    *dv;

		if (list_member_oid(exclude, mvoid) ||
			(OidIsValid(owner) && !role_owns_relation(mvoid, owner)))
			continue;
		dv = palloc(sizeof(DueView));
		dv->mvoid = mvoid;
		dv->reason = (char *) lfirst(lr);
		dv->depth = matview_depth(mvoid, 0);
		due = lappend(due, dv);
	}
	list_free(mvs);
	list_free(reasons);
	MemoryContextSwitchTo(oldcxt);
	list_sort(due, due_view_cmp);
	return due;
}

/*
 * For run_maintenance(view): the view must be managed and, when owner is
 * valid, owned by it.
 */
static void
check_managed(Oid mvoid, Oid owner)
{
	char	   *name = MatviewDisplayName(mvoid);

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", mvoid)));
	if (!MatviewConfigIsManaged(mvoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("materialized view \"%s\" is not managed", name),
				 errhint("Call wallet_ops.manage_matview() first, or wallet_ops.refresh_matview() to refresh it once.")));
	if (OidIsValid(owner) && !role_owns_relation(mvoid, owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of materialized view %s", name)));
}

/*
 * Removes the configuration of managed views that no longer exist (dropped
 * while the event triggers that would have removed it were disabled), and
 * records each in job_log, so that a pass never trips over them.
 */
void
MatviewsForgetDropped(ActionReport *report)
{
	TimestampTz started = GetCurrentTimestamp();
	List	   *gone = MatviewConfigDeleteVanished();
	ListCell   *lc;

	foreach(lc, gone)
	{
		char	   *object = psprintf("materialized view with OID %u", lfirst_oid(lc));

		JobLogRecord(started, object, JOB_KIND, "unmanage", JOB_OK,
					 "the materialized view was dropped", NULL);
		ActionReportAdd(report, object, "unmanaged", "the materialized view was dropped");
	}
}

/*
 * One maintenance pass: refresh every managed view that is due, each in a
 * subtransaction of its own, then prune consumed change rows.
 */
void
MatviewsRunMaintenance(Oid only_relid, ActionReport *report)
{
	MemoryContext outercxt = CurrentMemoryContext;
	ResourceOwner outerowner = CurrentResourceOwner;
	MemoryContext loopcxt;
	List	   *due;
	List	   *processed = NIL;
	ListCell   *lc;
	Oid			owner = InvalidOid;
	Oid			save_userid;
	int			save_sec_context;
	bool		pushed_snapshot = false;

	if (!MatviewConfigInstalled())
		return;

	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed_snapshot = true;
	}

	/*
	 * run_maintenance() by a role that is not a superuser refreshes the views
	 * it owns; the worker refreshes them all (as their owners).
	 */
	if (!(MyBackendType == B_BG_WORKER) && !superuser())
		owner = GetUserId();
	if (OidIsValid(only_relid) && !(MyBackendType == B_BG_WORKER))
		check_managed(only_relid, owner);
	if (!OidIsValid(only_relid) && !OidIsValid(owner))
		MatviewsForgetDropped(report);

	loopcxt = AllocSetContextCreate(outercxt, "wallet_ops matview refresh",
									ALLOCSET_DEFAULT_SIZES);

	/*
	 * Rounds: a refresh makes the views that read the refreshed view due, and
	 * they are refreshed in the same pass; a view is looked at once per pass.
	 */
	while ((due = fetch_due(only_relid, processed, owner, outercxt)) != NIL)
	{
		foreach(lc, due)
		{
			DueView    *dv = (DueView *) lfirst(lc);
			TimestampTz started = GetCurrentTimestamp();
			char	   *name;
			const char *mode = NULL;
			bool		done = false;
			ErrorData  *edata = NULL;

			CHECK_FOR_INTERRUPTS();
			MemoryContextSwitchTo(outercxt);
			processed = lappend_oid(processed, dv->mvoid);
			MemoryContextSwitchTo(loopcxt);
			MemoryContextReset(loopcxt);

			name = MatviewDisplayName(dv->mvoid);
			if (name == NULL)
				continue;			/* dropped meanwhile */

			BeginInternalSubTransaction(NULL);
			MemoryContextSwitchTo(loopcxt);
			PG_TRY();
			{
				done = refresh_matview_locked(dv->mvoid, false, true, &mode);
				MatviewConfigBecomeOwner(&save_userid, &save_sec_context);
				if (done)
					JobLogRecord(started, name, JOB_KIND, "refresh", JOB_OK,
								 psprintf("%s, %s", mode, dv->reason), NULL);
				else
					JobLogRecord(started, name, JOB_KIND, "refresh", JOB_SKIPPED,
								 "another refresh of the view is running", NULL);
				SetUserIdAndSecContext(save_userid, save_sec_context);

				ReleaseCurrentSubTransaction();
				MemoryContextSwitchTo(loopcxt);
				CurrentResourceOwner = outerowner;
			}
			PG_CATCH();
			{
				MemoryContextSwitchTo(loopcxt);
				edata = CopyErrorData();
				FlushErrorState();
				RollbackAndReleaseCurrentSubTransaction();
				MemoryContextSwitchTo(loopcxt);
				CurrentResourceOwner = outerowner;
			}
			PG_END_TRY();

			if (edata != NULL)
			{
				ereport(WARNING,
						(errcode(edata->sqlerrcode),
						 errmsg("could not refresh materialized view \"%s\"", name),
						 errdetail("%s", edata->message),
						 errhint("The refresh is retried on the next maintenance tick.")));
				MatviewConfigRecordFailure(dv->mvoid, edata);
				MatviewConfigBecomeOwner(&save_userid, &save_sec_context);
				JobLogRecord(started, name, JOB_KIND, "refresh", JOB_ERROR,
							 dv->reason, edata);
				SetUserIdAndSecContext(save_userid, save_sec_context);
				if (report)
				{
					report->errors++;
					ActionReportAdd(report, name, "error", edata->message);
				}
			}
			else if (report)
			{
				if (done)
					ActionReportAdd(report, name, "refresh",
											psprintf("%s, %s", mode, dv->reason));
				else
					ActionReportAdd(report, name, "skip",
											"another refresh of the view is running");
			}
		}
	}

	MemoryContextSwitchTo(outercxt);
	MemoryContextDelete(loopcxt);

	prune_changes();

	if (pushed_snapshot)
		PopActiveSnapshot();
}

/*
 * wallet_ops._matviews_run(only_mv regclass DEFAULT NULL)
 *   RETURNS TABLE (object text, action text, detail text)
 *
 * The materialised-view part of a maintenance pass, now; what
 * run_maintenance() does for views, usable without the worker.
 */
Datum
wallet_ops_matviews_run(PG_FUNCTION_ARGS)
{
	ActionReport report;

	if (!PG_ARGISNULL(0))
		WalletOpsRelationLock(PG_GETARG_OID(0), AccessShareLock);
	ActionReportInit(fcinfo, &report);

	MatviewsRunMaintenance(PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0),
						   &report);

	return (Datum) 0;
}

/* ------------------------------------------------------------------------
 * Event triggers
 * ------------------------------------------------------------------------
 */

/* OID of a relation named in a DDL statement, or InvalidOid. */
static Oid
ddl_relid(RangeVar *rv)
{
	return rv ? RangeVarGetRelid(rv, NoLock, true) : InvalidOid;
}

/*
 * Whether a DDL statement can add or remove a source of some view; adds to
 * *changed the relations whose rows, as a view reading them sees them,
 * changed without any DML: a parent that gained or lost a partition or
 * child with its rows, a redefined view.
 */
static bool
ddl_may_change_sources(Node *parsetree, List **changed)
{
	bool		found = false;

	if (parsetree == NULL)
		return false;
	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
			{
				CreateStmt *stmt = (CreateStmt *) parsetree;

				/* a new partition or child is empty */
				return stmt->partbound != NULL || stmt->inhRelations != NIL;
			}
		case T_AlterTableStmt:
			{
				AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
				ListCell   *lc;

				foreach(lc, stmt->cmds)
				{
					AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

					switch (cmd->subtype)
					{
						case AT_AttachPartition:
						case AT_DetachPartition:
#if PG_VERSION_NUM >= 140000
						case AT_DetachPartitionFinalize:
#endif
							found = true;
							*changed = lappend_oid(*changed, ddl_relid(stmt->relation));
							break;
						case AT_AddInherit:
						case AT_DropInherit:
							found = true;
							*changed = lappend_oid(*changed, ddl_relid(stmt->relation));
							if (cmd->def && IsA(cmd->def, RangeVar))
								*changed = lappend_oid(*changed,
													   ddl_relid((RangeVar *) cmd->def));
							break;
						default:
							break;
					}
				}
				return found;
			}
		case T_ViewStmt:
			{
				ViewStmt   *stmt = (ViewStmt *) parsetree;

				if (!stmt->replace)
					return false;
				*changed = lappend_oid(*changed, ddl_relid(stmt->view));
				return true;
			}
		case T_RuleStmt:
			*changed = lappend_oid(*changed, ddl_relid(((RuleStmt *) parsetree)->relation));
			return true;
		default:
			return false;
	}
}

/*
 * ddl_command_end: a new partition or inheritance child of a watched table
 * gets a watcher, a detached one loses it, a redefined view moves watchers.
 */
Datum
wallet_ops_matviews_ddl(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Oid			save_userid;
	int			save_sec_context;
	List	   *changed = NIL;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by event trigger manager",
						"wallet_ops._matviews_ddl")));
	trigdata = (EventTriggerData *) fcinfo->context;

	if (syncing_watchers || creating_extension ||
		!ddl_may_change_sources(trigdata->parsetree, &changed) ||
		!MatviewConfigInstalled())
		PG_RETURN_VOID();

	MatviewConfigBecomeOwner(&save_userid, &save_sec_context);
	if (MatviewConfigAnyOnChange())
	{
		ListCell   *lc;

		sync_watchers();
		foreach(lc, changed)
			if (OidIsValid(lfirst_oid(lc)) &&
				!list_member_oid(marked_sources, lfirst_oid(lc)))
				mark_source_changed(lfirst_oid(lc));
	}
	SetUserIdAndSecContext(save_userid, save_sec_context);

	PG_RETURN_VOID();
}

/*
 * sql_drop: a dropped materialised view loses its configuration and the
 * watchers no other view needs.
 */
Datum
wallet_ops_matviews_drop(PG_FUNCTION_ARGS)
{
	Oid			save_userid;
	int			save_sec_context;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by event trigger manager",
						"wallet_ops._matviews_drop")));

	if (syncing_watchers || !MatviewConfigInstalled())
		PG_RETURN_VOID();

	MatviewConfigBecomeOwner(&save_userid, &save_sec_context);
	if (MatviewConfigDeleteDropped())
		sync_watchers();
	SetUserIdAndSecContext(save_userid, save_sec_context);

	PG_RETURN_VOID();
}
