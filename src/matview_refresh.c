/*-------------------------------------------------------------------------
 *
 * matview_refresh.c
 *		Refreshing managed materialised views: manage_matview(),
 *		unmanage_matview(), refresh_matview(), and the worker's pass over the
 *		views that are due.
 *
 * A refresh records the snapshot taken just before REFRESH MATERIALIZED
 * VIEW (pg_current_snapshot()): every change visible in it is in the
 * refreshed data.  A view is stale when a change row of one of its sources
 * is not visible in its recorded snapshot; this is exact whatever the commit
 * order of writers, unlike a comparison of timestamps.  Change rows that
 * every view reading their table has seen are pruned after each pass.
 *
 * The change rows come from the watchers of matview_changes.c; the
 * configuration, state and change rows are read and written through
 * matview_config.c.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/matview_refresh.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "citus_meta.h"
#include "job_log.h"
#include "matview_changes.h"
#include "matview_config.h"
#include "matview_refresh.h"
#include "common.h"

/* job_log.kind of every matview run */
#define JOB_KIND			"matview"

PG_FUNCTION_INFO_V1(wallet_ops_matview_next_mode);
PG_FUNCTION_INFO_V1(wallet_ops_manage_matview);
PG_FUNCTION_INFO_V1(wallet_ops_unmanage_matview);
PG_FUNCTION_INFO_V1(wallet_ops_refresh_matview);
PG_FUNCTION_INFO_V1(wallet_ops_matviews_run);

/* A view due for a refresh, as listed by wallet_ops._matviews_due(). */
typedef struct DueView
{
	Oid			mvoid;
	char	   *reason;
	int			depth;			/* levels of materialised views under it */
} DueView;

static bool has_concurrent_refresh_index(Relation rel, StringInfo why);
static bool can_refresh_concurrently(Oid mvoid);
static void notice_plain_refresh(Oid mvoid, const char *name);
static char *check_matview(Oid mvoid, bool must_own);
static double interval_seconds(Interval *iv);
static bool refresh_matview_locked(Oid mvoid, bool wait, bool as_worker,
								   const char **mode);
static void prune_changes(void);
static void check_managed(Oid mvoid, Oid owner);
static List *fetch_due(Oid only_relid, List *exclude, Oid owner, MemoryContext cxt);

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------
 */

static double
interval_seconds(Interval *iv)
{
	return (double) iv->time / USECS_PER_SEC
		+ (double) iv->day * SECS_PER_DAY
		+ (double) iv->month * DAYS_PER_MONTH * SECS_PER_DAY;
}

/* ------------------------------------------------------------------------
 * Refresh modes
 * ------------------------------------------------------------------------
 */

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
 * Whether the materialised view rel has a unique index that REFRESH ...
 * CONCURRENTLY accepts: valid, immediate, non-partial, btree, on plain
 * columns (what PostgreSQL's matview.c requires).  When it has none and why
 * is not NULL, a sentence saying why is appended to why.
 */
static bool
has_concurrent_refresh_index(Relation rel, StringInfo why)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		usable = false;
	int			unusable = 0;

	foreach(lc, indexes)
	{
		Oid			indexoid = lfirst_oid(lc);
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
		Form_pg_index idx;
		const char *problem = NULL;
		int			i;

		if (!HeapTupleIsValid(tup))
			continue;
		idx = (Form_pg_index) GETSTRUCT(tup);
		if (!idx->indisunique)
			problem = "is not unique";
		else if (!idx->indisvalid)
			problem = "is not valid";
		else if (!idx->indimmediate)
			problem = "is deferrable";
		else if (!heap_attisnull(tup, Anum_pg_index_indpred, NULL))
			problem = "has a WHERE clause";
		else if (!index_is_btree(indexoid))
			problem = "is not a btree index";
		else if (idx->indnatts == 0)
			problem = "has no column";
		else
		{
			for (i = 0; i < idx->indnatts; i++)
				if (idx->indkey.values[i] <= 0)
					problem = "is on an expression";
		}
		ReleaseSysCache(tup);
		if (problem == NULL)
		{
			usable = true;
			break;
		}
		if (why)
		{
			appendStringInfo(why, "%sndex \"%s\" %s",
							 unusable == 0 ? "I" : "; i", get_rel_name(indexoid), problem);
			unusable++;
		}
	}
	list_free(indexes);
	if (!usable && why)
	{
		if (unusable == 0)
			appendStringInfoString(why, "It has no unique index.");
		else
			appendStringInfoString(why, unusable == 1 ?
								   ", so it cannot be used by REFRESH ... CONCURRENTLY." :
								   ", so none can be used by REFRESH ... CONCURRENTLY.");
	}
	return usable;
}

/*
 * Whether REFRESH ... CONCURRENTLY would be accepted: the view is populated
 * and has a unique index it can use.
 */
static bool
can_refresh_concurrently(Oid mvoid)
{
	Relation	rel;
	bool		usable;

	rel = table_open(mvoid, AccessShareLock);
	usable = rel->rd_rel->relkind == RELKIND_MATVIEW && RelationIsPopulated(rel) &&
		has_concurrent_refresh_index(rel, NULL);
	table_close(rel, AccessShareLock);
	return usable;
}

/*
 * When the materialised view mvoid has no unique index that REFRESH ...
 * CONCURRENTLY can use, says so at NOTICE: every refresh will be plain, and
 * readers wait for it.  The hint names an index that would do, on the
 * view's columns that btree can index (right when no two rows are equal).
 */
static void
notice_plain_refresh(Oid mvoid, const char *name)
{
	Relation	rel = table_open(mvoid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData why;
	StringInfoData cols;
	int			i;

	initStringInfo(&why);
	if (has_concurrent_refresh_index(rel, &why))
	{
		table_close(rel, AccessShareLock);
		return;
	}
	initStringInfo(&cols);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || !OidIsValid(GetDefaultOpClass(att->atttypid, BTREE_AM_OID)))
			continue;
		appendStringInfo(&cols, "%s%s", cols.len > 0 ? ", " : "",
						 quote_identifier(NameStr(att->attname)));
	}
	table_close(rel, AccessShareLock);

	if (cols.len > 0)
		ereport(NOTICE,
				(errmsg("materialized view \"%s\" will be refreshed without CONCURRENTLY", name),
				 errdetail("%s Readers of the view wait for each refresh.", why.data),
				 errhint("Create a unique index on columns that identify each row, for example on all of them if no two rows are equal: CREATE UNIQUE INDEX ON %s (%s);",
						 name, cols.data)));
	else
		ereport(NOTICE,
				(errmsg("materialized view \"%s\" will be refreshed without CONCURRENTLY", name),
				 errdetail("%s Readers of the view wait for each refresh.", why.data),
				 errhint("Add to the view a column that identifies each row, and create a unique index on it.")));
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
				 errhint("%s", get_rel_relkind(mvoid) == RELKIND_VIEW ?
						 psprintf("Create a materialized view over it, as in CREATE MATERIALIZED VIEW ... AS SELECT * FROM %s, and pass that one.", name) :
						 "Pass a materialized view, created with CREATE MATERIALIZED VIEW.")));
	if (must_own && !WalletOpsOwnsRelation(mvoid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of materialized view %s", name),
				 errdetail("Only the owner of a materialized view can refresh it.")));
	return name;
}

/* The longest refresh_every accepted: 100 years. */
#define MATVIEW_MAX_REFRESH_SECONDS (100.0 * DAYS_PER_YEAR * SECS_PER_DAY)

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
	WalletOpsCheckGuardable(mvoid, "manage materialized view");

	if (every != NULL)
	{
		double		secs = interval_seconds(every);

		if (secs <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("refresh interval of materialized view \"%s\" must be positive",
							name)));
		/* each field bounded: the worker adds it to times */
		if (secs > MATVIEW_MAX_REFRESH_SECONDS ||
			every->month > 100 * MONTHS_PER_YEAR || every->month < -100 * MONTHS_PER_YEAR ||
			every->day > 100 * 366 || every->day < -100 * 366 ||
			every->time / USECS_PER_SEC > MATVIEW_MAX_REFRESH_SECONDS ||
			every->time / USECS_PER_SEC < -MATVIEW_MAX_REFRESH_SECONDS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("refresh interval of materialized view \"%s\" is too long",
							name),
					 errdetail("refresh_every must be at most 100 years.")));
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
		List	   *sources = MatviewSourceList(mvoid);
		ListCell   *lc;
		int			watchable = 0;

		foreach(lc, sources)
		{
			Oid			src = lfirst_oid(lc);
			char		kind = get_rel_relkind(src);
			CitusTableInfo citus;

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
			if ((kind == RELKIND_RELATION || kind == RELKIND_PARTITIONED_TABLE) &&
				CitusMetaTableInfo(src, &citus))
				ereport(ERROR,
						(errcode(ERRCODE_WALLET_OPS_MATVIEW_ON_CITUS),
						 errmsg("cannot watch Citus table \"%s\" read by materialized view \"%s\"",
								MatviewDisplayName(src), name),
						 errdetail("Its rows change on the shards, on the workers and through any node, where this node's watchers do not see them."),
						 errhint("Manage the view with on_change => false and a refresh_every interval.")));
			if (kind == RELKIND_RELATION || kind == RELKIND_PARTITIONED_TABLE)
				WalletOpsCheckGuardable(src, "watch table");
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
		MatviewSyncWatchers();
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}

	notice_plain_refresh(mvoid, name);

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
				 errhint("Look up the managed views in wallet_ops.matview_freshness.")));
	MatviewConfigBecomeOwner(&save_userid, &save_sec_context);
	MatviewSyncWatchers();
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
	if (!MatviewConfigAnyManaged())
		return NIL;
	return MatviewConfigDue(InvalidOid, NULL);
}

bool
MatviewsNeedTicks(void)
{
	if (!MatviewConfigAnyManaged())
		return false;
	return MatviewConfigAnyTimed() || MatviewConfigDue(InvalidOid, NULL) != NIL;
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
	List	   *sources = MatviewSourceList(mvoid);
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
			(OidIsValid(owner) && !WalletOpsOwnsRelation(mvoid, owner)))
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
	if (OidIsValid(owner) && !WalletOpsOwnsRelation(mvoid, owner))
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
	List	   *gone;
	ListCell   *lc;

	if (!MatviewConfigAnyManaged())
		return;
	gone = MatviewConfigDeleteVanished();

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

	if (!MatviewConfigAnyWork())
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
						 errhint("Remove the cause given in the detail; the refresh is retried on every tick until it succeeds, and wallet_ops.matview_freshness shows its last error.")));
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
