/*-------------------------------------------------------------------------
 *
 * matview_changes.c
 *		Change tracking for managed materialised views: the sources a view
 *		reads, the watcher triggers on them and the event triggers that keep
 *		the watchers in step with the views and their sources.
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
 * What the rows mean to a refresh is matview_refresh.c's business; the rows
 * themselves are written by matview_config.c.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/matview_changes.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "rewrite/rewriteSupport.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#if PG_VERSION_NUM >= 150000
#include "utils/pgstat_internal.h"
#endif

#include "matview_changes.h"
#include "matview_config.h"
#include "common.h"

#ifndef ViewSelectRuleName
#define ViewSelectRuleName "_RETURN"
#endif

/* Names of the watcher triggers on source tables. */
#define WATCH_TRIGGER		"wallet_ops_matview_watch"
#define APPLY_TRIGGER		"wallet_ops_matview_watch_apply"

PG_FUNCTION_INFO_V1(wallet_ops_matview_sources);
PG_FUNCTION_INFO_V1(wallet_ops_matview_watch);
PG_FUNCTION_INFO_V1(wallet_ops_matviews_ddl);
PG_FUNCTION_INFO_V1(wallet_ops_matviews_drop);

/*
 * Sources already marked as changed by the current transaction, so that the
 * watcher inserts at most one row per (transaction, source).  Allocated in
 * TopTransactionContext; forgotten at transaction end and, conservatively,
 * whenever a subtransaction aborts (its row may have gone with it).
 */
static List *marked_sources = NIL;
static bool callbacks_registered = false;

/* True while MatviewSyncWatchers() runs its DDL (event trigger recursion). */
static bool syncing_watchers = false;

static void matviews_xact_callback(XactEvent event, void *arg);
static void matviews_subxact_callback(SubXactEvent event,
									  SubTransactionId mySubid,
									  SubTransactionId parentSubid, void *arg);
static void collect_sources(Oid relid, List **sources, List **visited);
static void mark_source_changed(Oid relid);
static bool xact_changed_rows(Oid relid);
static bool ddl_may_change_sources(Node *parsetree, List **changed);

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

List *
MatviewSourceList(Oid mvoid)
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

	sources = MatviewSourceList(mvoid);
	elems = palloc(sizeof(Datum) * (list_length(sources) + 1));
	foreach(lc, sources)
		elems[n++] = ObjectIdGetDatum(lfirst_oid(lc));

	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, REGCLASSOID,
										  sizeof(Oid), true, TYPALIGN_INT));
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
void
MatviewSyncWatchers(void)
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
			List	   *sources = MatviewSourceList(lfirst_oid(lc));
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
 * kept (track_counts off), to stay on the safe side.
 */
static bool
xact_changed_rows(Oid relid)
{
	PgStat_TableStatus *tab;
	PgStat_TableXactStatus *trans;
	int64		n = 0;

	if (!pgstat_track_counts)
		return true;
#if PG_VERSION_NUM < 150000
	tab = find_tabstat_entry(relid);
#else

	/*
	 * The backend's pending entry, with its chain of live (sub)transaction
	 * counts.  This is what find_tabstat_entry() returned up to 16; since 17
	 * it returns a copy without the chain, whose counts add the live
	 * transaction's to those of earlier transactions not yet flushed.
	 */
	{
		PgStat_EntryRef *entry_ref;

		entry_ref = pgstat_fetch_pending_entry(PGSTAT_KIND_RELATION, MyDatabaseId, relid);
		if (entry_ref == NULL)
			entry_ref = pgstat_fetch_pending_entry(PGSTAT_KIND_RELATION, InvalidOid, relid);
		tab = entry_ref ? (PgStat_TableStatus *) entry_ref->pending : NULL;
	}
#endif
	if (tab == NULL)
		return false;
	for (trans = tab->trans; trans != NULL; trans = trans->upper)
		n += trans->tuples_inserted + trans->tuples_updated + trans->tuples_deleted;
	return n > 0;
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

		MatviewSyncWatchers();
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
		MatviewSyncWatchers();
	SetUserIdAndSecContext(save_userid, save_sec_context);

	PG_RETURN_VOID();
}
