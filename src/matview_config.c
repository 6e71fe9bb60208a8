/*-------------------------------------------------------------------------
 *
 * matview_config.c
 *		The tables of managed materialised views: wallet_ops.matviews (which
 *		views, and how they are refreshed), wallet_ops.matview_state (how
 *		each was last refreshed) and wallet_ops.matview_changes (which source
 *		changed, in which transaction).
 *
 * This is the only C file that reads or writes those tables.  Change
 * tracking (matview_changes.c) and refreshing (matview_refresh.c) both need
 * them, the first to find the views it watches for and to record changes,
 * the second to manage views and record refreshes; keeping the SQL here lets
 * either half change without the other, and neither include the other for
 * the tables' sake.  Every statement runs as the owner of the tables (the
 * extension owner): any role may write to a watched table, and the owner of
 * a view may manage it, without rights on wallet_ops' tables.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/matview_config.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "matview_config.h"
#include "common.h"
#include "pool.h"

/* The caller's user, saved while a statement runs as the tables' owner. */
typedef struct OwnerSpi
{
	Oid			save_userid;
	int			save_sec_context;
} OwnerSpi;

static Oid	matviews_config_relid(bool missing_ok);
static Oid	matviews_owner(void);
static void owner_spi_connect(OwnerSpi *owner);
static void owner_spi_finish(OwnerSpi *owner);

/* ------------------------------------------------------------------------
 * The tables' owner, and what both halves need besides
 * ------------------------------------------------------------------------
 */

/* OID of wallet_ops.matviews, or InvalidOid when missing_ok and absent. */
static Oid
matviews_config_relid(bool missing_ok)
{
	Oid			nspid = get_namespace_oid(WALLET_OPS_SCHEMA, true);
	Oid			relid = InvalidOid;

	if (OidIsValid(nspid))
		relid = get_relname_relid("matviews", nspid);
	if (!OidIsValid(relid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"wallet_ops\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION wallet_ops.")));
	return relid;
}

/*
 * The role that owns wallet_ops's tables (the extension owner): bookkeeping
 * and watcher DDL run as that role, so that any role may write to a watched
 * table and the owner of a view may manage it.
 */
static Oid
matviews_owner(void)
{
	Oid			relid = matviews_config_relid(false);
	HeapTuple	tup;
	Oid			owner;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * Switch to the extension owner until the caller restores the saved user
 * with SetUserIdAndSecContext (transaction abort restores it as well).
 */
void
MatviewConfigBecomeOwner(Oid *save_userid, int *save_sec_context)
{
	Oid			owner = matviews_owner();

	GetUserIdAndSecContext(save_userid, save_sec_context);
	SetUserIdAndSecContext(owner,
						   *save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
}

/* SPI_connect as the owner of the tables. */
static void
owner_spi_connect(OwnerSpi *owner)
{
	MatviewConfigBecomeOwner(&owner->save_userid, &owner->save_sec_context);
	SPI_connect();
}

/* SPI_finish, back as the user who called owner_spi_connect(). */
static void
owner_spi_finish(OwnerSpi *owner)
{
	SPI_finish();
	SetUserIdAndSecContext(owner->save_userid, owner->save_sec_context);
}

/* "schema.name", quoted as needed; NULL if the relation is gone. */
char *
MatviewDisplayName(Oid relid)
{
	char	   *relname = get_rel_name(relid);

	char	   *nspname = relname ? get_namespace_name(get_rel_namespace(relid)) : NULL;

	if (relname == NULL || nspname == NULL)
		return NULL;
	return quote_qualified_identifier(nspname, relname);
}

bool
MatviewConfigInstalled(void)
{
	return OidIsValid(matviews_config_relid(true));
}

bool
MatviewConfigAnyManaged(void)
{
	return MatviewConfigInstalled() && WalletOpsOwnTableHasRows("matviews");
}

bool
MatviewConfigAnyWork(void)
{
	return MatviewConfigAnyManaged() ||
		(MatviewConfigInstalled() && WalletOpsOwnTableHasRows("matview_changes"));
}

/* ------------------------------------------------------------------------
 * wallet_ops.matviews and wallet_ops.matview_state: the managed views
 * ------------------------------------------------------------------------
 */

bool
MatviewConfigAdd(Oid mvoid, Interval *every, bool on_change,
				 const char *managed_by)
{
	OwnerSpi	owner;
	Oid			argtypes[4] = {REGCLASSOID, INTERVALOID, BOOLOID, NAMEOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	int			ret;
	bool		added;

	owner_spi_connect(&owner);
	values[0] = ObjectIdGetDatum(mvoid);
	if (every)
		values[1] = IntervalPGetDatum(every);
	else
		nulls[1] = 'n';
	values[2] = BoolGetDatum(on_change);
	values[3] = DirectFunctionCall1(namein, CStringGetDatum(managed_by));
	ret = SPI_execute_with_args("INSERT INTO wallet_ops.matviews"
								" (mv, refresh_every, on_change, managed_by)"
								" VALUES ($1, $2, $3, $4) ON CONFLICT (mv) DO NOTHING",
								4, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record managed view: %s", SPI_result_code_string(ret));
	added = SPI_processed > 0;
	if (added)
	{
		ret = SPI_execute_with_args("INSERT INTO wallet_ops.matview_state (mv) VALUES ($1)"
									" ON CONFLICT (mv) DO NOTHING",
									1, argtypes, values, NULL, false, 0);
		if (ret != SPI_OK_INSERT)
			elog(ERROR, "could not record view state: %s", SPI_result_code_string(ret));
	}
	owner_spi_finish(&owner);
	/* the database may have had nothing for the worker to do until now */
	if (added)
		PoolWakeAtCommit(false);
	return added;
}

bool
MatviewConfigRemove(Oid mvoid)
{
	OwnerSpi	owner;
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		values[1];
	int			ret;
	bool		removed;

	owner_spi_connect(&owner);
	values[0] = ObjectIdGetDatum(mvoid);
	ret = SPI_execute_with_args("DELETE FROM wallet_ops.matviews WHERE mv OPERATOR(pg_catalog.=) $1",
								1, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "could not remove managed view: %s", SPI_result_code_string(ret));
	removed = SPI_processed > 0;
	owner_spi_finish(&owner);
	return removed;
}

bool
MatviewConfigIsManaged(Oid mvoid)
{
	OwnerSpi	owner;
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		values[1];
	bool		managed;

	owner_spi_connect(&owner);
	values[0] = ObjectIdGetDatum(mvoid);
	if (SPI_execute_with_args("SELECT 1 FROM wallet_ops.matviews WHERE mv OPERATOR(pg_catalog.=) $1",
							  1, argtypes, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read wallet_ops.matviews");
	managed = SPI_processed > 0;
	owner_spi_finish(&owner);
	return managed;
}

List *
MatviewConfigOnChangeViews(void)
{
	MemoryContext caller = CurrentMemoryContext;
	OwnerSpi	owner;
	List	   *mvs;
	int			ret;

	owner_spi_connect(&owner);
	ret = SPI_execute("SELECT m.mv::pg_catalog.oid FROM wallet_ops.matviews m"
					  " JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) m.mv"
					  "  AND c.relkind OPERATOR(pg_catalog.=) 'm'"
					  " WHERE m.on_change", false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not list managed materialized views: %s",
			 SPI_result_code_string(ret));
	mvs = WalletOpsSpiOidList(caller);
	owner_spi_finish(&owner);
	return mvs;
}

/* Whether a row of wallet_ops.matviews satisfies query (a SELECT 1). */
static bool
matviews_any(const char *query)
{
	OwnerSpi	owner;
	int			ret;
	bool		found;

	owner_spi_connect(&owner);
	ret = SPI_execute(query, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read wallet_ops.matviews: %s",
			 SPI_result_code_string(ret));
	found = SPI_processed > 0;
	owner_spi_finish(&owner);
	return found;
}

bool
MatviewConfigAnyOnChange(void)
{
	/* asked by the event trigger of every DDL command: no query when empty */
	if (!WalletOpsOwnTableHasRows("matviews"))
		return false;
	return matviews_any("SELECT 1 FROM wallet_ops.matviews WHERE on_change LIMIT 1");
}

bool
MatviewConfigAnyTimed(void)
{
	return matviews_any("SELECT 1 FROM wallet_ops.matviews WHERE refresh_every IS NOT NULL LIMIT 1");
}

List *
MatviewConfigDeleteVanished(void)
{
	MemoryContext caller = CurrentMemoryContext;
	OwnerSpi	owner;
	List	   *gone;

	owner_spi_connect(&owner);
	if (SPI_execute("DELETE FROM wallet_ops.matviews m"
					" WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c"
					"                    WHERE c.oid OPERATOR(pg_catalog.=) m.mv)"
					" RETURNING m.mv::pg_catalog.oid", false, 0) != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "could not update wallet_ops.matviews");
	gone = WalletOpsSpiOidList(caller);
	owner_spi_finish(&owner);
	return gone;
}

bool
MatviewConfigDeleteDropped(void)
{
	OwnerSpi	owner;
	int			ret;
	bool		removed;

	owner_spi_connect(&owner);
	ret = SPI_execute("DELETE FROM wallet_ops.matviews m"
					  " USING pg_catalog.pg_event_trigger_dropped_objects() d"
					  " WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					  "   AND d.objsubid OPERATOR(pg_catalog.=) 0"
					  "   AND d.objid OPERATOR(pg_catalog.=) m.mv::pg_catalog.oid",
					  false, 0);
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "could not forget dropped materialized views: %s",
			 SPI_result_code_string(ret));
	removed = SPI_processed > 0;
	owner_spi_finish(&owner);
	return removed;
}

List *
MatviewConfigDue(Oid only_relid, List **reasons)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *due = NIL;
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		values[1];
	char		nulls[1] = {' '};
	OwnerSpi	owner;
	uint64		i;
	int			ret;

	if (reasons)
		*reasons = NIL;
	owner_spi_connect(&owner);
	if (OidIsValid(only_relid))
		values[0] = ObjectIdGetDatum(only_relid);
	else
		nulls[0] = 'n';
	ret = SPI_execute_with_args("SELECT mv::pg_catalog.oid, reason FROM wallet_ops._matviews_due($1)",
								1, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not list due materialized views: %s",
			 SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			mvoid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1,
														   &isnull));
		MemoryContext old = MemoryContextSwitchTo(caller);

		due = lappend_oid(due, mvoid);
		if (reasons)
			*reasons = lappend(*reasons,
							   pstrdup(SPI_getvalue(SPI_tuptable->vals[i],
													SPI_tuptable->tupdesc, 2)));
		MemoryContextSwitchTo(old);
	}
	owner_spi_finish(&owner);
	return due;
}

/* ------------------------------------------------------------------------
 * Refreshes: wallet_ops.matview_state and wallet_ops.matview_changes
 * ------------------------------------------------------------------------
 */

void
MatviewConfigRecordRefresh(Oid mvoid, const char *mode, const char *snapshot,
						   TimestampTz started, const char *refresher)
{
	OwnerSpi	owner;
	int			ret;
	Oid			argtypes[5] = {REGCLASSOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	owner_spi_connect(&owner);

	/* Views that read this one are now stale. */
	values[0] = ObjectIdGetDatum(mvoid);
	ret = SPI_execute_with_args("INSERT INTO wallet_ops.matview_changes (source, xid, changed_at)"
								" VALUES ($1, pg_catalog.pg_current_xact_id(),"
								" pg_catalog.clock_timestamp())",
								1, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record refresh: %s", SPI_result_code_string(ret));

	values[1] = CStringGetTextDatum(mode);
	values[2] = CStringGetTextDatum(snapshot);
	values[3] = TimestampTzGetDatum(started);
	if (refresher)
		values[4] = CStringGetTextDatum(refresher);
	else
		nulls[4] = 'n';
	ret = SPI_execute_with_args(
		"INSERT INTO wallet_ops.matview_state AS s"
		" (mv, refresh_mode, refreshed_snapshot, refreshed_xid, last_refresh,"
		"  last_duration, last_change, last_result, refreshes)"
		" SELECT m.mv, $2, $3::pg_catalog.pg_snapshot, $5::pg_catalog.xid8, $4,"
		"        pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) $4,"
		"        (SELECT pg_catalog.max(ch.changed_at) FROM wallet_ops.matview_changes ch"
		"          WHERE ch.source OPERATOR(pg_catalog.<>) m.mv"
		"            AND ch.source OPERATOR(pg_catalog.=) ANY (wallet_ops.matview_sources(m.mv))"
		"            AND wallet_ops._matview_change_seen(ch.xid, ch.changed_at,"
		"                  $3::pg_catalog.pg_snapshot, $5::pg_catalog.xid8, $4)),"
		"        'ok', 1"
		"   FROM wallet_ops.matviews m WHERE m.mv OPERATOR(pg_catalog.=) $1"
		" ON CONFLICT (mv) DO UPDATE SET"
		"   refresh_mode = EXCLUDED.refresh_mode,"
		"   refreshed_snapshot = EXCLUDED.refreshed_snapshot,"
		"   refreshed_xid = EXCLUDED.refreshed_xid,"
		"   last_refresh = EXCLUDED.last_refresh,"
		"   last_duration = EXCLUDED.last_duration,"
		"   last_change = GREATEST(s.last_change, EXCLUDED.last_change),"
		"   last_result = 'ok',"
		"   refreshes = s.refreshes OPERATOR(pg_catalog.+) 1",
		5, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record refresh: %s", SPI_result_code_string(ret));

	owner_spi_finish(&owner);
}

void
MatviewConfigRecordFailure(Oid mvoid, ErrorData *edata)
{
	OwnerSpi	owner;
	Oid			argtypes[2] = {REGCLASSOID, TEXTOID};
	Datum		values[2];
	int			ret;

	owner_spi_connect(&owner);
	values[0] = ObjectIdGetDatum(mvoid);
	values[1] = CStringGetTextDatum(edata->message ? edata->message : "unknown error");
	ret = SPI_execute_with_args("INSERT INTO wallet_ops.matview_state AS s"
								" (mv, last_result, last_error, last_error_at, failures)"
								" SELECT m.mv, 'error', $2, pg_catalog.now(), 1"
								"   FROM wallet_ops.matviews m WHERE m.mv OPERATOR(pg_catalog.=) $1"
								" ON CONFLICT (mv) DO UPDATE SET last_result = 'error',"
								"   last_error = EXCLUDED.last_error,"
								"   last_error_at = EXCLUDED.last_error_at,"
								"   failures = s.failures OPERATOR(pg_catalog.+) 1",
								2, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record refresh failure: %s",
			 SPI_result_code_string(ret));
	owner_spi_finish(&owner);
}

void
MatviewConfigPruneChanges(void)
{
	OwnerSpi	owner;
	int			ret;

	owner_spi_connect(&owner);
	ret = SPI_execute("SELECT wallet_ops._matview_prune_changes()", false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not prune wallet_ops.matview_changes: %s",
			 SPI_result_code_string(ret));
	owner_spi_finish(&owner);
}

/* ------------------------------------------------------------------------
 * Changes: wallet_ops.matview_changes
 * ------------------------------------------------------------------------
 */

/*
 * The table has no index: the row goes straight to the table access method,
 * without the executor and without a permission check (any role may write
 * to a watched table).  Should someone have added an index, an INSERT
 * through SPI as the extension owner keeps it up to date instead.
 */
void
MatviewConfigRecordChange(Oid relid)
{
	Oid			nspid = get_namespace_oid(WALLET_OPS_SCHEMA, false);
	Oid			changes = get_relname_relid("matview_changes", nspid);
	Relation	rel;

	if (!OidIsValid(changes))
		elog(ERROR, "relation \"%s.matview_changes\" does not exist", WALLET_OPS_SCHEMA);

	/* a database whose views were all fresh gets no ticks until this */
	PoolWakeAtCommit(false);

	rel = table_open(changes, RowExclusiveLock);
	if (!rel->rd_rel->relhasindex && RelationGetDescr(rel)->natts == 3)
	{
		TupleTableSlot *slot = table_slot_create(rel, NULL);

		ExecClearTuple(slot);
		slot->tts_values[0] = ObjectIdGetDatum(relid);
		slot->tts_values[1] = FullTransactionIdGetDatum(GetTopFullTransactionId());
		slot->tts_values[2] = TimestampTzGetDatum(GetCurrentTimestamp());
		slot->tts_isnull[0] = slot->tts_isnull[1] = slot->tts_isnull[2] = false;
		ExecStoreVirtualTuple(slot);
		table_tuple_insert(rel, slot, GetCurrentCommandId(true), 0, NULL);
		ExecDropSingleTupleTableSlot(slot);
	}
	else
	{
		OwnerSpi	owner;
		Oid			argtypes[1] = {OIDOID};
		Datum		values[1];
		int			ret;

		owner_spi_connect(&owner);
		values[0] = ObjectIdGetDatum(relid);
		ret = SPI_execute_with_args("INSERT INTO wallet_ops.matview_changes (source, xid, changed_at)"
									" VALUES ($1, pg_catalog.pg_current_xact_id(),"
									" pg_catalog.clock_timestamp())",
									1, argtypes, values, NULL, false, 0);
		if (ret != SPI_OK_INSERT)
			elog(ERROR, "could not record change of relation %u: %s",
				 relid, SPI_result_code_string(ret));
		owner_spi_finish(&owner);
	}
	table_close(rel, NoLock);
}
