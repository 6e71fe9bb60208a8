/*-------------------------------------------------------------------------
 *
 * append_only_guard.c
 *		Append-only tables: the guard trigger, the SQL functions
 *		enforce_append_only(), release_append_only(), grant_ingest() and
 *		revoke_ingest(), the maintenance bypass, and the protected set.
 *
 * See append_only.h for the objects a protected table carries.  The event
 * triggers that keep them in place are in append_only_ddl.c, which calls
 * this file to protect what joins a protected tree.
 *
 * The protected set lives in wallet_ops.append_only_tables and the ingest
 * grants in wallet_ops.ingest_grants (both dumped by pg_dump); this is the
 * only C file that reads or writes them.  Those tables are read and written
 * as the owner of the extension with a fixed search_path; the DDL on user
 * tables runs as the calling user, who must own them.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/append_only_guard.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "append_only_guard.h"
#include "citus_meta.h"
#include "job_log.h"
#include "common.h"

PG_FUNCTION_INFO_V1(wallet_ops_append_only_guard);
PG_FUNCTION_INFO_V1(wallet_ops_enforce_append_only);
PG_FUNCTION_INFO_V1(wallet_ops_release_append_only);
PG_FUNCTION_INFO_V1(wallet_ops_grant_ingest);
PG_FUNCTION_INFO_V1(wallet_ops_revoke_ingest);

/* State of one of our triggers on one relation. */
typedef struct TriggerState
{
	bool		exists;
	bool		isclone;		/* cloned from a partitioned parent */
	char		enabled;		/* pg_trigger.tgenabled */
} TriggerState;

/* Backend-local bypass for the retention code (see append_only.h). */
static bool maintenance_allowed = false;
static int	maintenance_level = 0;

/* >0 while wallet_ops runs its own DDL: nested event triggers stand aside. */
static int	internal_ddl_depth = 0;

static bool callbacks_registered = false;

static void register_callbacks(void);
static void append_only_xact_callback(XactEvent event, void *arg);
static void append_only_subxact_callback(SubXactEvent event,
										 SubTransactionId mySubid,
										 SubTransactionId parentSubid,
										 void *arg);
static char *qualified_relname(Oid relid);
static void config_delete(Oid relid);
static List *ingest_roles(Oid relid);
static void ingest_record(Oid relid, const char *role, bool add);
static void trigger_state(Oid relid, const char *name, TriggerState *st);
static void exec_internal(const char *sql);
static void ensure_relation(Oid relid);
static void ensure_tree(Oid top);
static void strip_relation(Oid relid);
static void apply_ingest(Oid relid, const char *role, bool grant);
static void apply_inherited_ingest(Oid relid);
static void check_protectable(Oid relid);
static void log_job(const char *object, const char *action, const char *detail);
static bool has_guard_copy(Relation rel);
static void check_truncate_shards(TruncateStmt *stmt);
/* readOnlyTree came in PostgreSQL 14 */
#if PG_VERSION_NUM >= 140000
#define UTILITY_HOOK_ARGS PlannedStmt *pstmt, const char *queryString, \
	bool readOnlyTree, ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define UTILITY_HOOK_CALL pstmt, queryString, readOnlyTree, context, params, \
	queryEnv, dest, qc
#else
#define UTILITY_HOOK_ARGS PlannedStmt *pstmt, const char *queryString, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define UTILITY_HOOK_CALL pstmt, queryString, context, params, queryEnv, dest, qc
#endif
static void append_only_process_utility(UTILITY_HOOK_ARGS);

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* ------------------------------------------------------------------------
 * Maintenance bypass
 * ------------------------------------------------------------------------
 */

void
AppendOnlyAllowMaintenance(bool allow)
{
	register_callbacks();
	maintenance_allowed = allow;
	maintenance_level = allow ? GetCurrentTransactionNestLevel() : 0;
}

bool
AppendOnlyMaintenanceAllowed(void)
{
	return maintenance_allowed;
}

static void
register_callbacks(void)
{
	if (callbacks_registered)
		return;
	RegisterXactCallback(append_only_xact_callback, NULL);
	RegisterSubXactCallback(append_only_subxact_callback, NULL);
	callbacks_registered = true;
}

static void
append_only_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			maintenance_allowed = false;
			maintenance_level = 0;
			internal_ddl_depth = 0;
			break;
		default:
			break;
	}
}

static void
append_only_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && maintenance_allowed &&
		GetCurrentTransactionNestLevel() <= maintenance_level)
	{
		maintenance_allowed = false;
		maintenance_level = 0;
	}
}

bool
AppendOnlyRunningOwnDDL(void)
{
	return internal_ddl_depth > 0;
}

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------
 */

static char *
qualified_relname(Oid relid)
{
	char	   *relname = get_rel_name(relid);
	char	   *nspname;

	if (relname == NULL)
		elog(ERROR, "cache lookup failed for relation %u", relid);
	nspname = get_namespace_name(get_rel_namespace(relid));
	if (nspname == NULL)
		elog(ERROR, "cache lookup failed for namespace of relation %u", relid);
	return quote_qualified_identifier(nspname, relname);
}

/* False while the extension is being dropped or not yet fully created. */
bool
AppendOnlyConfigAvailable(void)
{
	Oid			nsp = get_namespace_oid(WALLET_OPS_SCHEMA, true);

	return OidIsValid(nsp) &&
		OidIsValid(get_relname_relid("append_only_tables", nsp)) &&
		OidIsValid(get_relname_relid("ingest_grants", nsp));
}

/* Every protected relid that still exists. */
List *
AppendOnlyConfigRelids(void)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (!AppendOnlyConfigAvailable())
		return NIL;

	/* read directly: the event triggers of every DDL command ask */
	foreach(lc, WalletOpsOwnTableOids("append_only_tables", "relid"))
		if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(lfirst_oid(lc))))
			result = lappend_oid(result, lfirst_oid(lc));
	return result;
}

void
AppendOnlyConfigInsert(Oid relid)
{
	WalletOpsOwnerContext ctx;
	Oid			argtypes[2] = {OIDOID, NAMEOID};
	Datum		values[2];
	char	   *user = GetUserNameFromId(GetUserId(), false);

	values[0] = ObjectIdGetDatum(relid);
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(user));

	WalletOpsOwnerBegin(&ctx);
	SPI_connect();
	if (SPI_execute_with_args("INSERT INTO wallet_ops.append_only_tables"
							  " (relid, protected_at, protected_by)"
							  " VALUES ($1::pg_catalog.regclass, pg_catalog.now(), $2)"
							  " ON CONFLICT (relid) DO NOTHING",
							  2, argtypes, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record append-only table");
	SPI_finish();
	WalletOpsOwnerEnd(&ctx);
}

static void
config_delete(Oid relid)
{
	WalletOpsOwnerContext ctx;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];

	values[0] = ObjectIdGetDatum(relid);
	WalletOpsOwnerBegin(&ctx);
	SPI_connect();
	if (SPI_execute_with_args("DELETE FROM wallet_ops.append_only_tables"
							  " WHERE relid::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
							  1, argtypes, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not remove append-only table");
	SPI_finish();
	WalletOpsOwnerEnd(&ctx);
}

/* The roles granted ingest on relid itself. */
static List *
ingest_roles(Oid relid)
{
	MemoryContext caller = CurrentMemoryContext;
	WalletOpsOwnerContext ctx;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	List	   *result = NIL;
	uint64		i;

	if (!AppendOnlyConfigAvailable())
		return NIL;

	values[0] = ObjectIdGetDatum(relid);
	WalletOpsOwnerBegin(&ctx);
	SPI_connect();
	if (SPI_execute_with_args("SELECT role_name::pg_catalog.text FROM wallet_ops.ingest_grants"
							  " WHERE relid::pg_catalog.oid OPERATOR(pg_catalog.=) $1"
							  " ORDER BY role_name",
							  1, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read wallet_ops.ingest_grants");
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *role = SPI_getvalue(SPI_tuptable->vals[i],
										SPI_tuptable->tupdesc, 1);
		MemoryContext old = MemoryContextSwitchTo(caller);

		result = lappend(result, pstrdup(role));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	WalletOpsOwnerEnd(&ctx);
	return result;
}

static void
ingest_record(Oid relid, const char *role, bool add)
{
	WalletOpsOwnerContext ctx;
	Oid			argtypes[3] = {OIDOID, NAMEOID, NAMEOID};
	Datum		values[3];
	char	   *user = GetUserNameFromId(GetUserId(), false);

	values[0] = ObjectIdGetDatum(relid);
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(role));
	values[2] = DirectFunctionCall1(namein, CStringGetDatum(user));

	WalletOpsOwnerBegin(&ctx);
	SPI_connect();
	if (add)
	{
		if (SPI_execute_with_args("INSERT INTO wallet_ops.ingest_grants"
								  " (relid, role_name, granted_at, granted_by)"
								  " VALUES ($1::pg_catalog.regclass, $2, pg_catalog.now(), $3)"
								  " ON CONFLICT (relid, role_name) DO NOTHING",
								  3, argtypes, values, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not record ingest grant");
	}
	else
	{
		if (SPI_execute_with_args("DELETE FROM wallet_ops.ingest_grants"
								  " WHERE relid::pg_catalog.oid OPERATOR(pg_catalog.=) $1"
								  "   AND role_name OPERATOR(pg_catalog.=) $2",
								  2, argtypes, values, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not remove ingest grant");
	}
	SPI_finish();
	WalletOpsOwnerEnd(&ctx);
}

/* Forget everything recorded about relations that were dropped. */
void
AppendOnlyForgetRelations(List *relids)
{
	WalletOpsOwnerContext ctx;
	ListCell   *lc;

	if (relids == NIL || !AppendOnlyConfigAvailable())
		return;

	WalletOpsOwnerBegin(&ctx);
	SPI_connect();
	foreach(lc, relids)
	{
		Oid			argtypes[1] = {OIDOID};
		Datum		values[1];

		values[0] = ObjectIdGetDatum(lfirst_oid(lc));
		if (SPI_execute_with_args("DELETE FROM wallet_ops.ingest_grants"
								  " WHERE relid::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
								  1, argtypes, values, NULL, false, 0) != SPI_OK_DELETE ||
			SPI_execute_with_args("DELETE FROM wallet_ops.append_only_tables"
								  " WHERE relid::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
								  1, argtypes, values, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not forget dropped relation %u", lfirst_oid(lc));
	}
	SPI_finish();
	WalletOpsOwnerEnd(&ctx);
}

/*
 * The protected table that covers relid: relid itself or its nearest
 * partitioned ancestor in config; InvalidOid when none.
 */
Oid
AppendOnlyCoveringEntry(Oid relid, List *config)
{
	ListCell   *lc;
	List	   *ancestors;

	if (!OidIsValid(relid) || config == NIL)
		return InvalidOid;
	if (list_member_oid(config, relid))
		return relid;
	if (!get_rel_relispartition(relid))
		return InvalidOid;
	ancestors = get_partition_ancestors(relid);
	foreach(lc, ancestors)
	{
		if (list_member_oid(config, lfirst_oid(lc)))
			return lfirst_oid(lc);
	}
	return InvalidOid;
}

static void
trigger_state(Oid relid, const char *name, TriggerState *st)
{
	Relation	tgrel;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;

	memset(st, 0, sizeof(*st));
	tgrel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	ScanKeyInit(&key[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(name));
	scan = systable_beginscan(tgrel, TriggerRelidNameIndexId, true, NULL, 2, key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		Form_pg_trigger form = (Form_pg_trigger) GETSTRUCT(tup);

		st->exists = true;
		st->enabled = form->tgenabled;
		st->isclone = OidIsValid(form->tgparentid);
	}
	systable_endscan(scan);
	table_close(tgrel, AccessShareLock);
}

/*
 * Run one of wallet_ops' own DDL statements as the current user; the event
 * triggers it fires stand aside.
 */
static void
exec_internal(const char *sql)
{
	internal_ddl_depth++;
	PG_TRY();
	{
		SPI_connect();
		if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not execute \"%s\"", sql);
		SPI_finish();
	}
	PG_FINALLY();
	{
		internal_ddl_depth--;
	}
	PG_END_TRY();
	CommandCounterIncrement();
}

/*
 * Give one relation of a protected tree its triggers, ENABLE ALWAYS.  The
 * row trigger is created on the protected table and cloned by PostgreSQL to
 * its partitions, present and future (so on a partition it already exists);
 * the statement trigger is created on every relation.  The caller holds
 * ShareRowExclusiveLock on relid.
 */
static void
ensure_relation(Oid relid)
{
	char	   *qname = qualified_relname(relid);
	TriggerState st;

	trigger_state(relid, APPEND_ONLY_ROW_TRIGGER, &st);
	if (!st.exists)
	{
		exec_internal(psprintf("CREATE TRIGGER " APPEND_ONLY_ROW_TRIGGER
							   " BEFORE UPDATE OR DELETE ON %s FOR EACH ROW"
							   " EXECUTE FUNCTION wallet_ops.append_only_guard()",
							   qname));
		/* without ONLY: the clones on partitions follow */
		exec_internal(psprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER "
							   APPEND_ONLY_ROW_TRIGGER, qname));
	}
	else if (st.enabled != TRIGGER_FIRES_ALWAYS)
		exec_internal(psprintf("ALTER TABLE ONLY %s ENABLE ALWAYS TRIGGER "
							   APPEND_ONLY_ROW_TRIGGER, qname));

	trigger_state(relid, APPEND_ONLY_STMT_TRIGGER, &st);
	if (!st.exists)
	{
		exec_internal(psprintf("CREATE TRIGGER " APPEND_ONLY_STMT_TRIGGER
							   " BEFORE UPDATE OR DELETE OR TRUNCATE ON %s"
							   " FOR EACH STATEMENT"
							   " EXECUTE FUNCTION wallet_ops.append_only_guard()",
							   qname));
		st.enabled = TRIGGER_FIRES_ON_ORIGIN;
	}
	if (st.enabled != TRIGGER_FIRES_ALWAYS)
		exec_internal(psprintf("ALTER TABLE ONLY %s ENABLE ALWAYS TRIGGER "
							   APPEND_ONLY_STMT_TRIGGER, qname));
}

/* ensure_relation() on top and every partition below it, top first. */
static void
ensure_tree(Oid top)
{
	List	   *tree = find_all_inheritors(top, ShareRowExclusiveLock, NULL);
	ListCell   *lc;

	foreach(lc, tree)
	{
		CHECK_FOR_INTERRUPTS();
		ensure_relation(lfirst_oid(lc));
	}
}

/*
 * Before top's tree joins a protected tree: members that were protected on
 * their own lose their own row trigger (the clone from the new parent takes
 * its place) and their entry in the protected set.
 */
void
AppendOnlyAbsorbSubtree(Oid top, List *config)
{
	List	   *tree = find_all_inheritors(top, NoLock, NULL);
	ListCell   *lc;

	foreach(lc, tree)
	{
		Oid			relid = lfirst_oid(lc);
		TriggerState st;

		trigger_state(relid, APPEND_ONLY_ROW_TRIGGER, &st);
		if (st.exists && !st.isclone)
			exec_internal(psprintf("DROP TRIGGER " APPEND_ONLY_ROW_TRIGGER " ON %s",
								   qualified_relname(relid)));
		if (list_member_oid(config, relid))
			config_delete(relid);
	}
}

/* Remove wallet_ops' own (not cloned) triggers from one relation. */
static void
strip_relation(Oid relid)
{
	TriggerState st;
	char	   *qname = qualified_relname(relid);

	trigger_state(relid, APPEND_ONLY_ROW_TRIGGER, &st);
	if (st.exists && !st.isclone)
		exec_internal(psprintf("DROP TRIGGER " APPEND_ONLY_ROW_TRIGGER " ON %s", qname));
	trigger_state(relid, APPEND_ONLY_STMT_TRIGGER, &st);
	if (st.exists)
		exec_internal(psprintf("DROP TRIGGER " APPEND_ONLY_STMT_TRIGGER " ON %s", qname));
}

/*
 * GRANT (or REVOKE) ingest on relid alone: INSERT, and USAGE on the
 * sequences its columns own; a grant also revokes UPDATE, DELETE and
 * TRUNCATE from the role.
 */
static void
apply_ingest(Oid relid, const char *role, bool grant)
{
	char	   *qname = qualified_relname(relid);
	const char *qrole = quote_identifier(role);
	List	   *seqs;
	ListCell   *lc;

	if (grant)
	{
		Oid			nsp = get_rel_namespace(relid);
		Oid			roleid = get_role_oid(role, false);
		AclResult	aclresult;

#if PG_VERSION_NUM >= 160000
		aclresult = object_aclcheck(NamespaceRelationId, nsp, roleid, ACL_USAGE);
#else
		aclresult = pg_namespace_aclcheck(nsp, roleid, ACL_USAGE);
#endif
		if (aclresult != ACLCHECK_OK)
			exec_internal(psprintf("GRANT USAGE ON SCHEMA %s TO %s",
								   quote_identifier(get_namespace_name(nsp)), qrole));
		exec_internal(psprintf("GRANT INSERT ON TABLE %s TO %s", qname, qrole));
		exec_internal(psprintf("REVOKE UPDATE, DELETE, TRUNCATE ON TABLE %s FROM %s",
							   qname, qrole));
	}
	else
		exec_internal(psprintf("REVOKE INSERT ON TABLE %s FROM %s", qname, qrole));

	seqs = getOwnedSequences(relid);
	foreach(lc, seqs)
	{
		char	   *qseq = qualified_relname(lfirst_oid(lc));

		exec_internal(psprintf(grant ? "GRANT USAGE ON SEQUENCE %s TO %s"
							   : "REVOKE USAGE ON SEQUENCE %s FROM %s",
							   qseq, qrole));
	}
}

/* A new partition gets the ingest grants of its ancestors. */
static void
apply_inherited_ingest(Oid relid)
{
	List	   *ancestors;
	List	   *tree = NIL;
	ListCell   *la;

	/* every new partition asks: no query while no grant is recorded */
	if (!get_rel_relispartition(relid) || !WalletOpsOwnTableHasRows("ingest_grants"))
		return;
	ancestors = get_partition_ancestors(relid);
	foreach(la, ancestors)
	{
		List	   *roles = ingest_roles(lfirst_oid(la));
		ListCell   *lr;

		foreach(lr, roles)
		{
			ListCell   *lt;

			if (tree == NIL)
				tree = find_all_inheritors(relid, NoLock, NULL);
			if (!OidIsValid(get_role_oid((char *) lfirst(lr), true)))
				continue;		/* role dropped since: nothing to grant */
			foreach(lt, tree)
				apply_ingest(lfirst_oid(lt), (char *) lfirst(lr), true);
		}
	}
}

void
AppendOnlyCheckOwner(Oid relid)
{
	if (!WalletOpsOwnsRelation(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER,
					   get_relkind_objtype(get_rel_relkind(relid)),
					   get_rel_name(relid));
}

/* Refuse what cannot be made append-only; relid is locked. */
static void
check_protectable(Oid relid)
{
	List	   *tree;
	ListCell   *lc;
	char		relkind = get_rel_relkind(relid);
	char	   *relname = get_rel_name(relid);

	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot make \"%s\" append-only", relname),
				 errdetail("Only tables and partitioned tables can be append-only.")));
	if (get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot make temporary table \"%s\" append-only", relname),
				 errdetail("A temporary table disappears with its session.")));
	if (relkind == RELKIND_RELATION && has_subclass(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot make table \"%s\" append-only because it has inheritance children",
						relname),
				 errhint("Use declarative partitioning instead of inheritance.")));
	if (!get_rel_relispartition(relid) && has_superclass(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot make table \"%s\" append-only because it inherits from another table",
						relname),
				 errhint("Use declarative partitioning instead of inheritance.")));

	tree = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, tree)
	{
		Oid			member = lfirst_oid(lc);

		if (get_rel_relkind(member) == RELKIND_FOREIGN_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot make table \"%s\" append-only because its partition \"%s\" is a foreign table",
							relname, get_rel_name(member)),
					 errdetail("The rows of a foreign table live in another server, out of reach of wallet_ops.")));
		if (get_rel_persistence(member) == RELPERSISTENCE_UNLOGGED)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot make unlogged table \"%s\" append-only",
							get_rel_name(member)),
					 errdetail("An unlogged table is emptied after a crash."),
					 errhint("Use ALTER TABLE ... SET LOGGED first.")));
	}
}

void
AppendOnlyProtect(Oid relid)
{
	List	   *config;
	Oid			cover;
	CitusTableInfo citus;
	int			guc_level = 0;

	/* Same lock as CREATE TRIGGER: no concurrent UPDATE until commit. */
	LockRelationOid(relid, ShareRowExclusiveLock);
	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	check_protectable(relid);

	/*
	 * Citus refuses triggers on distributed tables unless told the caller
	 * knows what they do; it then copies them onto every shard, where they
	 * refuse changes in the table's name (docs/citus.md).
	 */
	if (CitusMetaTableInfo(relid, &citus))
		guc_level = CitusMetaAllowTriggers();

	config = AppendOnlyConfigRelids();
	cover = AppendOnlyCoveringEntry(relid, config);
	if (OidIsValid(cover) && cover != relid)
		ereport(NOTICE,
				(errmsg("table \"%s\" is already append-only as a partition of \"%s\"",
						get_rel_name(relid), get_rel_name(cover))));
	else if (!OidIsValid(cover))
	{
		AppendOnlyAbsorbSubtree(relid, config);
		AppendOnlyConfigInsert(relid);
	}
	ensure_tree(relid);
	if (guc_level > 0)
		AtEOXact_GUC(true, guc_level);
}

/* ------------------------------------------------------------------------
 * The guard trigger
 * ------------------------------------------------------------------------
 */

/*
 * wallet_ops.append_only_guard(): BEFORE UPDATE OR DELETE row trigger and
 * BEFORE UPDATE OR DELETE OR TRUNCATE statement trigger.  Refuses the
 * change unless the maintenance bypass is set.
 */
Datum
wallet_ops_append_only_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata;
	TriggerEvent ev;
	Relation	rel;
	const char *what;
	Oid			relid;
	Oid			cover;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"append_only_guard\" must be fired as a trigger")));
	trigdata = (TriggerData *) fcinfo->context;
	ev = trigdata->tg_event;
	rel = trigdata->tg_relation;
	if (!TRIGGER_FIRED_BEFORE(ev) || TRIGGER_FIRED_BY_INSERT(ev))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"append_only_guard\" must be fired BEFORE UPDATE, DELETE or TRUNCATE")));
	/*
	 * executable by PUBLIC (cloned to partitions): only as our triggers, or
	 * as the copies Citus makes of them on shards (citus_meta.c)
	 */
	if (!CitusMetaTriggerNameIs(trigdata->tg_trigger->tgname, APPEND_ONLY_ROW_TRIGGER, rel) &&
		!CitusMetaTriggerNameIs(trigdata->tg_trigger->tgname, APPEND_ONLY_STMT_TRIGGER, rel))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"append_only_guard\" must be fired as trigger \"%s\" or \"%s\"",
						APPEND_ONLY_ROW_TRIGGER, APPEND_ONLY_STMT_TRIGGER),
				 errhint("Use wallet_ops.enforce_append_only() to protect a table.")));

	if (maintenance_allowed)
	{
		if (TRIGGER_FIRED_FOR_ROW(ev))
			return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(ev) ?
								   trigdata->tg_newtuple : trigdata->tg_trigtuple);
		return PointerGetDatum(NULL);
	}

	if (TRIGGER_FIRED_BY_UPDATE(ev))
		what = "update";
	else if (TRIGGER_FIRED_BY_DELETE(ev))
		what = "delete from";
	else
		what = "truncate";

	relid = RelationGetRelid(rel);

	/* on a Citus shard, the table the user wrote (docs/citus.md) */
	if (strcmp(trigdata->tg_trigger->tgname, APPEND_ONLY_ROW_TRIGGER) != 0 &&
		strcmp(trigdata->tg_trigger->tgname, APPEND_ONLY_STMT_TRIGGER) != 0)
	{
		Oid			logical = CitusMetaShardTable(rel, NULL);

		if (OidIsValid(logical))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("cannot %s append-only table \"%s\"", what, get_rel_name(logical)),
					 errdetail("wallet_ops keeps table \"%s\" append-only, on every shard (here \"%s\"): rows can be added but never changed or removed.",
							   get_rel_name(logical), RelationGetRelationName(rel)),
					 errhint("Record a correction as a new row; only a superuser can lift the protection, with wallet_ops.release_append_only().")));
	}

	cover = AppendOnlyCoveringEntry(relid, AppendOnlyConfigRelids());
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot %s append-only table \"%s\"", what,
					RelationGetRelationName(rel)),
			 (OidIsValid(cover) && cover != relid) ?
			 errdetail("Table \"%s\" is a partition of \"%s\", which wallet_ops keeps append-only: rows can be added but never changed or removed.",
					   RelationGetRelationName(rel), get_rel_name(cover)) :
			 errdetail("wallet_ops keeps table \"%s\" append-only: rows can be added but never changed or removed.",
					   RelationGetRelationName(rel)),
			 errhint("Record a correction as a new row; only a superuser can lift the protection, with wallet_ops.release_append_only().")));

	return PointerGetDatum(NULL);	/* keep compiler quiet */
}

/* ------------------------------------------------------------------------
 * TRUNCATE of a Citus shard
 * ------------------------------------------------------------------------
 */

/*
 * Whether rel carries an enabled copy, named by Citus, of the row guard of
 * an append-only distributed table (a shard of it).
 */
static bool
has_guard_copy(Relation rel)
{
	TriggerDesc *td = rel->trigdesc;
	int			i;

	if (td == NULL)
		return false;
	for (i = 0; i < td->numtriggers; i++)
	{
		Trigger    *tg = &td->triggers[i];

		if (tg->tgenabled != TRIGGER_DISABLED &&
			strcmp(tg->tgname, APPEND_ONLY_ROW_TRIGGER) != 0 &&
			CitusMetaTriggerNameIs(tg->tgname, APPEND_ONLY_ROW_TRIGGER, rel))
			return true;
	}
	return false;
}

/*
 * Refuse TRUNCATE of a shard of an append-only Citus table, run on the
 * node that holds it (Citus itself refuses it unless
 * citus.enable_manual_changes_to_shards is on).  The statement guard that
 * refuses TRUNCATE elsewhere does not reach every shard: Citus does not
 * copy a TRUNCATE trigger created on an existing distributed table onto
 * its shards.  The row guard's copy there says that the table is
 * append-only.
 */
static void
check_truncate_shards(TruncateStmt *stmt)
{
	ListCell   *lc;

	if (maintenance_allowed || !CitusMetaPresent())
		return;
	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = (RangeVar *) lfirst(lc);
		Oid			relid;
		Relation	rel;
		Oid			logical = InvalidOid;

		if (CitusMetaShardIdOfName(rv->relname) == 0)
			continue;
		relid = RangeVarGetRelid(rv, NoLock, true);
		if (!OidIsValid(relid))
			continue;
		rel = try_relation_open(relid, AccessShareLock);
		if (rel == NULL)
			continue;
		if (has_guard_copy(rel))
			logical = CitusMetaShardTable(rel, NULL);
		if (OidIsValid(logical))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("cannot truncate append-only table \"%s\"", get_rel_name(logical)),
					 errdetail("wallet_ops keeps table \"%s\" append-only, on every shard (here \"%s\"): rows can be added but never changed or removed.",
							   get_rel_name(logical), RelationGetRelationName(rel)),
					 errhint("Record a correction as a new row; only a superuser can lift the protection, with wallet_ops.release_append_only().")));
		relation_close(rel, AccessShareLock);
	}
}

static void
append_only_process_utility(UTILITY_HOOK_ARGS)
{
	if (IsA(pstmt->utilityStmt, TruncateStmt) && IsTransactionState())
		check_truncate_shards((TruncateStmt *) pstmt->utilityStmt);
	if (prev_ProcessUtility)
		prev_ProcessUtility(UTILITY_HOOK_CALL);
	else
		standard_ProcessUtility(UTILITY_HOOK_CALL);
}

void
AppendOnlyInstallHooks(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = append_only_process_utility;
}

/* ------------------------------------------------------------------------
 * SQL functions
 * ------------------------------------------------------------------------
 */

/* A row in wallet_ops.job_log, written as the owner of the extension. */
static void
log_job(const char *object, const char *action, const char *detail)
{
	WalletOpsOwnerContext ctx;

	WalletOpsOwnerBegin(&ctx);
	JobLogRecord(GetCurrentTimestamp(), object, "append_only", action,
				 JOB_OK, detail, NULL);
	WalletOpsOwnerEnd(&ctx);
}

/* wallet_ops.enforce_append_only(tbl regclass) RETURNS void */
Datum
wallet_ops_enforce_append_only(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	WalletOpsCheckGuardable(relid, "make append-only");
	AppendOnlyCheckOwner(relid);
	AppendOnlyProtect(relid);
	log_job(qualified_relname(relid), "protect", NULL);
	PG_RETURN_VOID();
}

/* wallet_ops.release_append_only(tbl regclass) RETURNS void */
Datum
wallet_ops_release_append_only(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	List	   *config;
	Oid			cover;
	List	   *tree;
	ListCell   *lc;
	char	   *qname;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser to release an append-only table")));
	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));

	LockRelationOid(relid, AccessExclusiveLock);
	config = AppendOnlyConfigRelids();
	cover = AppendOnlyCoveringEntry(relid, config);
	if (!OidIsValid(cover))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not append-only", get_rel_name(relid))));
	if (cover != relid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is append-only as a partition of \"%s\"",
						get_rel_name(relid), get_rel_name(cover)),
				 errhint("Release \"%s\" instead.", get_rel_name(cover))));

	qname = qualified_relname(relid);
	tree = find_all_inheritors(relid, AccessExclusiveLock, NULL);
	foreach(lc, tree)
	{
		strip_relation(lfirst_oid(lc));
		if (list_member_oid(config, lfirst_oid(lc)))
			config_delete(lfirst_oid(lc));
	}

	ereport(WARNING,
			(errmsg("append-only protection of table \"%s\" released", qname),
			 errdetail("Role \"%s\" released it; its rows can now be updated, deleted and truncated.",
					   GetUserNameFromId(GetUserId(), false))));
	log_job(qname, "release",
			psprintf("released by %s", GetUserNameFromId(GetUserId(), false)));
	PG_RETURN_VOID();
}

static void
ingest_common(FunctionCallInfo fcinfo, bool grant)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *role = NameStr(*PG_GETARG_NAME(1));
	List	   *tree;
	ListCell   *lc;
	char		relkind;

	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relid))));
	AppendOnlyCheckOwner(relid);
	(void) get_role_oid(role, false);	/* the role must exist */

	LockRelationOid(relid, ShareUpdateExclusiveLock);
	ingest_record(relid, role, grant);
	tree = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, tree)
		apply_ingest(lfirst_oid(lc), role, grant);
}

/* wallet_ops.grant_ingest(tbl regclass, role name) RETURNS void */
Datum
wallet_ops_grant_ingest(PG_FUNCTION_ARGS)
{
	ingest_common(fcinfo, true);
	PG_RETURN_VOID();
}

/* wallet_ops.revoke_ingest(tbl regclass, role name) RETURNS void */
Datum
wallet_ops_revoke_ingest(PG_FUNCTION_ARGS)
{
	ingest_common(fcinfo, false);
	PG_RETURN_VOID();
}

/* ------------------------------------------------------------------------
 * Partitions joining and leaving a protected tree
 * ------------------------------------------------------------------------
 */

/* A partition joined a tree: protect it if the tree is protected. */
void
AppendOnlyProtectNewPartition(Oid relid)
{
	if (!OidIsValid(relid))
		return;
	if (OidIsValid(AppendOnlyCoveringEntry(relid, AppendOnlyConfigRelids())))
		ensure_tree(relid);
	apply_inherited_ingest(relid);
}

/*
 * A partition left a protected tree (only possible under the maintenance
 * bypass): it becomes an ordinary table.
 */
void
AppendOnlyReleaseDetached(Oid parent, Oid part)
{
	List	   *config = AppendOnlyConfigRelids();
	List	   *tree;
	ListCell   *lc;

	if (!OidIsValid(part) || !OidIsValid(AppendOnlyCoveringEntry(parent, config)))
		return;
	tree = find_all_inheritors(part, NoLock, NULL);
	foreach(lc, tree)
	{
		if (!OidIsValid(AppendOnlyCoveringEntry(lfirst_oid(lc), config)))
			strip_relation(lfirst_oid(lc));
	}
}
