/*-------------------------------------------------------------------------
 *
 * common.c
 *		The ground floor of wallet_ops: the settings, acting as the
 *		extension's owner, opening a table named by OID, the action report
 *		of a maintenance pass, and set-returning function set-up.
 *
 * Every other file of src/ may use this one; it uses none of them.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/common.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "storage/bufmgr.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#if PG_VERSION_NUM < 140000
#include "catalog/indexing.h"	/* ExtensionOidIndexId */
#endif
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "common.h"

int			wallet_ops_naptime = 60;
int			wallet_ops_lock_timeout = 2000;
bool		wallet_ops_enabled = true;
char	   *wallet_ops_role = NULL;
char	   *wallet_ops_databases = NULL;
int			wallet_ops_job_log_retention = 30 * 24 * 60;
int			wallet_ops_max_workers = 2;
int			wallet_ops_verify_jobs = 1;
char	   *wallet_ops_digest_archive_command = NULL;
int			wallet_ops_digest_archive_timeout = 60;
bool		wallet_ops_preloaded = false;

void
WalletOpsDefineSettings(void)
{
	DefineCustomIntVariable("wallet_ops.naptime",
							"Sets the time the background worker sleeps between maintenance ticks.",
							NULL,
							&wallet_ops_naptime,
							60, 1, 86400,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("wallet_ops.lock_timeout",
							"Sets how long maintenance DDL may wait for a lock before it is retried on a later tick.",
							NULL,
							&wallet_ops_lock_timeout,
							2000, 1, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("wallet_ops.enabled",
							 "Enables maintenance by the background worker.",
							 NULL,
							 &wallet_ops_enabled,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("wallet_ops.role",
							   "Sets the role maintenance runs as; empty means the owner of the extension.",
							   NULL,
							   &wallet_ops_role,
							   "",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("wallet_ops.databases",
							   "Restricts the background worker to these databases (comma-separated); empty means every database where the extension is installed.",
							   NULL,
							   &wallet_ops_databases,
							   "",
							   PGC_SIGHUP,
							   GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("wallet_ops.job_log_retention",
							"Sets how long rows of wallet_ops.job_log are kept.",
							NULL,
							&wallet_ops_job_log_retention,
							30 * 24 * 60, 1, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MIN,
							NULL, NULL, NULL);

	DefineCustomIntVariable("wallet_ops.verify_jobs",
							"Sets how many processes share a full verification of a hash chain by default.",
							"1 verifies in the calling process alone; N adds N - 1 parallel workers, bounded by max_parallel_workers and max_worker_processes.",
							&wallet_ops_verify_jobs,
							1, 1, WALLET_OPS_MAX_VERIFY_JOBS,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("wallet_ops.digest_archive_command",
							   "Sets the shell command that ships a digest taken by the worker outside the server.",
							   "%p is replaced by the digest file's path, %f by its name, %t by the table; empty keeps digests in pg_wallet_ops/digests.",
							   &wallet_ops_digest_archive_command,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("wallet_ops.digest_archive_timeout",
							"Sets how long wallet_ops.digest_archive_command may run before it is killed and retried later.",
							NULL,
							&wallet_ops_digest_archive_timeout,
							60, 1, 86400,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	/* a postmaster setting can only be defined while the server starts */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("wallet_ops.max_workers",
								"Sets how many wallet_ops workers may run at once, whatever the number of databases.",
								"Each counts against max_worker_processes, as does the launcher.",
								&wallet_ops_max_workers,
								2, 1, 64,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("wallet_ops");
#else
	EmitWarningsOnPlaceholders("wallet_ops");
#endif
}

/*
 * The extension's owner, read once per transaction: every
 * statement the extension runs on its own tables needs the owner, and
 * pg_extension has no syscache.
 */
static LocalTransactionId extension_cached_lxid = InvalidLocalTransactionId;
static Oid	extension_cached_owner = InvalidOid;

#if PG_VERSION_NUM >= 170000
#define MY_LXID (MyProc->vxid.lxid)
#else
#define MY_LXID (MyProc->lxid)
#endif

static Oid	extension_owner_lookup(void);

static Oid
extension_owner(void)
{
	if (extension_cached_lxid != MY_LXID || !OidIsValid(extension_cached_owner))
	{
		extension_cached_owner = extension_owner_lookup();
		extension_cached_lxid = MY_LXID;
	}
	return extension_cached_owner;
}

static Oid
extension_owner_lookup(void)
{
	Oid			extoid = get_extension_oid("wallet_ops", false);
	Oid			owner = InvalidOid;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(owner))
		elog(ERROR, "could not find the owner of extension wallet_ops");
	return owner;
}

void
WalletOpsOwnerBegin(WalletOpsOwnerContext *ctx)
{
	Oid			owner = extension_owner();

	GetUserIdAndSecContext(&ctx->save_userid, &ctx->save_sec_context);
	SetUserIdAndSecContext(owner,
						   ctx->save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	ctx->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

void
WalletOpsOwnerEnd(WalletOpsOwnerContext *ctx)
{
	AtEOXact_GUC(true, ctx->save_nestlevel);
	SetUserIdAndSecContext(ctx->save_userid, ctx->save_sec_context);
}

void
WalletOpsCheckGuardable(Oid relid, const char *what)
{
	Oid			nsp = get_rel_namespace(relid);

	if (!OidIsValid(nsp))
		return;					/* the caller reports a missing relation */
	if (IsCatalogNamespace(nsp) || IsToastNamespace(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot %s system catalog \"%s\"", what, get_rel_name(relid)),
				 errdetail("wallet_ops guards user tables only.")));
	if (nsp == get_namespace_oid(WALLET_OPS_SCHEMA, true))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot %s \"%s.%s\"", what, WALLET_OPS_SCHEMA, get_rel_name(relid)),
				 errdetail("Relations of schema \"%s\" belong to wallet_ops itself, which writes and prunes them.",
						   WALLET_OPS_SCHEMA)));
}

static void
report_missing_relation(Oid relid)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_TABLE),
			 errmsg("relation with OID %u does not exist", relid),
			 errhint("Pass the table by name, for example 'schema.table'.")));
}

/*
 * Opens relid with lockmode (held until the end of the transaction once the
 * caller closes it with NoLock), or refuses an OID that names no relation.
 */
Relation
WalletOpsRelationOpen(Oid relid, LOCKMODE lockmode)
{
	Relation	rel;

	if (!OidIsValid(relid))
		report_missing_relation(relid);
	rel = try_relation_open(relid, lockmode);
	if (rel == NULL)
		report_missing_relation(relid);
	return rel;
}

/*
 * Locks relid with lockmode until the end of the transaction and checks,
 * under the lock, that it still exists.
 */
void
WalletOpsRelationLock(Oid relid, LOCKMODE lockmode)
{
	if (!OidIsValid(relid))
		report_missing_relation(relid);
	LockRelationOid(relid, lockmode);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
	{
		UnlockRelationOid(relid, lockmode);
		report_missing_relation(relid);
	}
}

bool
WalletOpsOwnsRelation(Oid relid, Oid roleid)
{
#if PG_VERSION_NUM >= 160000
	return object_ownercheck(RelationRelationId, relid, roleid);
#else
	return pg_class_ownercheck(relid, roleid);
#endif
}

/* "schema.name" of an open relation, each part quoted as needed. */
char *
WalletOpsRelationQualifiedName(Relation rel)
{
	return quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
									  RelationGetRelationName(rel));
}

Oid
WalletOpsOwnRelid(const char *relname)
{
	return get_relname_relid(relname, get_namespace_oid(WALLET_OPS_SCHEMA, true));
}

/*
 * wallet_ops' own table relname, opened for a direct read, or NULL when it
 * is not there (the extension is being created or dropped).
 */
static Relation
own_table_open(const char *relname)
{
	Oid			relid = WalletOpsOwnRelid(relname);

	return OidIsValid(relid) ? table_open(relid, AccessShareLock) : NULL;
}

/* Whether rel has a row visible to the latest snapshot. */
static bool
relation_has_rows(Relation rel)
{
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;
	bool		found;

	if (RelationGetNumberOfBlocks(rel) == 0)
		return false;
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	slot = table_slot_create(rel, NULL);
	found = table_scan_getnextslot(scan, ForwardScanDirection, slot);
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	return found;
}

bool
WalletOpsRelationHasRows(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	bool		found = relation_has_rows(rel);

	table_close(rel, NoLock);
	return found;
}

bool
WalletOpsOwnTableHasRows(const char *relname)
{
	Relation	rel = own_table_open(relname);
	bool		found;

	if (rel == NULL)
		return true;
	found = relation_has_rows(rel);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * The first row of wallet_ops' own table relname in the order of its index
 * indexname, restricted to the rows whose first index column is key unless
 * key is InvalidOid; copied, or NULL when there is none.
 */
static HeapTuple
own_table_first(const char *relname, const char *indexname, Oid key, TupleDesc *desc)
{
	Relation	rel = own_table_open(relname);
	Oid			indexid;
	ScanKeyData skey;
	Snapshot	snapshot;
	SysScanDesc scan;
	HeapTuple	tup;
	HeapTuple	result = NULL;

	if (rel == NULL)
		elog(ERROR, "wallet_ops.%s does not exist", relname);
	indexid = WalletOpsOwnRelid(indexname);
	if (!OidIsValid(indexid))
		elog(ERROR, "wallet_ops.%s does not exist", indexname);
	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(key));
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, indexid, true, snapshot, OidIsValid(key) ? 1 : 0, &skey);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		result = heap_copytuple(tup);
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	*desc = CreateTupleDescCopy(RelationGetDescr(rel));
	table_close(rel, AccessShareLock);
	return result;
}

HeapTuple
WalletOpsOwnTableFetch(const char *relname, Oid key, TupleDesc *desc)
{
	return own_table_first(relname, psprintf("%s_pkey", relname), key, desc);
}

HeapTuple
WalletOpsOwnTableFirst(const char *relname, const char *indexname, TupleDesc *desc)
{
	return own_table_first(relname, indexname, InvalidOid, desc);
}

List *
WalletOpsOwnTableOids(const char *relname, const char *colname)
{
	Relation	rel = own_table_open(relname);
	List	   *result = NIL;
	AttrNumber	attnum;
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;

	if (rel == NULL)
		elog(ERROR, "wallet_ops.%s does not exist", relname);
	attnum = get_attnum(RelationGetRelid(rel), colname);
	if (attnum == InvalidAttrNumber)
		elog(ERROR, "wallet_ops.%s has no column %s", relname, colname);
	if (RelationGetNumberOfBlocks(rel) > 0)
	{
		snapshot = RegisterSnapshot(GetLatestSnapshot());
		scan = table_beginscan(rel, snapshot, 0, NULL);
		slot = table_slot_create(rel, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			bool		isnull;
			Datum		d = slot_getattr(slot, attnum, &isnull);

			if (!isnull)
				result = lappend_oid(result, DatumGetObjectId(d));
		}
		ExecDropSingleTupleTableSlot(slot);
		table_endscan(scan);
		UnregisterSnapshot(snapshot);
	}
	table_close(rel, AccessShareLock);
	list_sort(result, list_oid_cmp);
	return result;
}

List *
WalletOpsSpiOidList(MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	List	   *result = NIL;
	uint64		i;

	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			result = lappend_oid(result, DatumGetObjectId(d));
	}
	MemoryContextSwitchTo(old);
	return result;
}

void
WalletOpsMaterializeSRF(FunctionCallInfo fcinfo)
{
#if PG_VERSION_NUM >= 150000
	InitMaterializedSRF(fcinfo, 0);
#else
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcontext;
	TupleDesc	tupdesc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	oldcontext = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	MemoryContextSwitchTo(oldcontext);
#endif
}

void
ActionReportInit(FunctionCallInfo fcinfo, ActionReport *report)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	WalletOpsMaterializeSRF(fcinfo);
	report->tupstore = rsinfo->setResult;
	report->tupdesc = rsinfo->setDesc;
	report->actions = 0;
	report->errors = 0;
}

void
ActionReportAdd(ActionReport *report, const char *object,
						const char *action, const char *detail)
{
	report->actions++;

	if (report->tupstore)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(object);
		values[1] = CStringGetTextDatum(action);
		if (detail)
			values[2] = CStringGetTextDatum(detail);
		else
			nulls[2] = true;
		tuplestore_putvalues(report->tupstore, report->tupdesc, values, nulls);
	}
}
