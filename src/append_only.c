/*-------------------------------------------------------------------------
 *
 * append_only.c
 *		Append-only tables: the guard trigger, the SQL functions
 *		enforce_append_only(), release_append_only(), grant_ingest() and
 *		revoke_ingest(), and the event triggers that refuse the DDL which
 *		would take the protection away and extend it to new partitions.
 *
 * See append_only.h for the objects a protected table carries and
 * docs/append-only.md for every path that was tried and what stops it.
 *
 * The protected set lives in wallet_ops.append_only_tables and the ingest
 * grants in wallet_ops.ingest_grants (both dumped by pg_dump).  Those tables
 * are read and written as the owner of the extension with a fixed
 * search_path; the DDL on user tables runs as the calling user, who must
 * own them.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/append_only.c
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
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "append_only.h"
#include "job_log.h"
#include "common.h"

PG_FUNCTION_INFO_V1(wallet_ops_append_only_guard);
PG_FUNCTION_INFO_V1(wallet_ops_enforce_append_only);
PG_FUNCTION_INFO_V1(wallet_ops_release_append_only);
PG_FUNCTION_INFO_V1(wallet_ops_grant_ingest);
PG_FUNCTION_INFO_V1(wallet_ops_revoke_ingest);
PG_FUNCTION_INFO_V1(wallet_ops_append_only_ddl_start);
PG_FUNCTION_INFO_V1(wallet_ops_append_only_ddl_end);
PG_FUNCTION_INFO_V1(wallet_ops_append_only_sql_drop);

/* State of one of our triggers on one relation. */
typedef struct TriggerState
{
	bool		exists;
	bool		isclone;		/* cloned from a partitioned parent */
	char		enabled;		/* pg_trigger.tgenabled */
} TriggerState;

/* Saved state while acting as the extension owner. */

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
static bool is_guard_trigger_name(const char *name);
static char *qualified_relname(Oid relid);
static bool config_available(void);
static List *config_relids(void);
static void config_insert(Oid relid);
static void config_delete(Oid relid);
static List *ingest_roles(Oid relid);
static void ingest_record(Oid relid, const char *role, bool add);
static void ingest_forget_relids(List *relids);
static Oid	covering_entry(Oid relid, List *config);
static Oid	covered_descendant(Oid relid, List *config);
static void trigger_state(Oid relid, const char *name, TriggerState *st);
static void exec_internal(const char *sql);
static void ensure_relation(Oid relid);
static void ensure_tree(Oid top);
static void absorb_subtree(Oid top, List *config);
static void strip_relation(Oid relid);
static void apply_ingest(Oid relid, const char *role, bool grant);
static void apply_inherited_ingest(Oid relid);
static void check_protectable(Oid relid);
static void check_owner(Oid relid);
static void refuse_relation(Oid relid, Oid cover, const char *what);
static void check_drop(DropStmt *stmt);
static void check_alter_table(AlterTableStmt *stmt);
static void check_trigger_change(RangeVar *relation, const char *trigname,
								 const char *action);
static void check_create_trigger(CreateTrigStmt *stmt);
static void check_create_table(CreateStmt *stmt, bool foreign);
static void after_new_partition(Oid relid);
static void after_detach(Oid parent, Oid part);
static bool skip_event_trigger(void);
static void log_job(const char *object, const char *action, const char *detail);
static int	protected_tables_detail(List *config);
static void check_alter_enum(AlterEnumStmt *stmt);

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

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------
 */

static bool
is_guard_trigger_name(const char *name)
{
	return name != NULL &&
		(strcmp(name, APPEND_ONLY_ROW_TRIGGER) == 0 ||
		 strcmp(name, APPEND_ONLY_STMT_TRIGGER) == 0);
}

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
static bool
config_available(void)
{
	Oid			nsp = get_namespace_oid(WALLET_OPS_SCHEMA, true);

	return OidIsValid(nsp) &&
		OidIsValid(get_relname_relid("append_only_tables", nsp)) &&
		OidIsValid(get_relname_relid("ingest_grants", nsp));
}

/* Every protected relid that still exists. */
static List *
config_relids(void)
{
	MemoryContext caller = CurrentMemoryContext;
	WalletOpsOwnerContext ctx;
	List	   *result = NIL;
	uint64		i;

	if (!config_available())
		return NIL;

	WalletOpsOwnerBegin(&ctx);
	SPI_connect();
	if (SPI_execute("SELECT a.relid::pg_catalog.oid"
					"  FROM wallet_ops.append_only_tables a"
					"  JOIN pg_catalog.pg_class c"
					"    ON c.oid OPERATOR(pg_catalog.=) a.relid::pg_catalog.oid",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read wallet_ops.append_only_tables");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i],
									  SPI_tuptable->tupdesc, 1, &isnull);
		MemoryContext old = MemoryContextSwitchTo(caller);

		result = lappend_oid(result, DatumGetObjectId(d));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	WalletOpsOwnerEnd(&ctx);
	return result;
}

static void
config_insert(Oid relid)
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

	if (!config_available())
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
static void
ingest_forget_relids(List *relids)
{
	WalletOpsOwnerContext ctx;
	ListCell   *lc;

	if (relids == NIL || !config_available())
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
static Oid
covering_entry(Oid relid, List *config)
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

/* A protected relation among relid's descendants (not relid); or invalid. */
static Oid
covered_descendant(Oid relid, List *config)
{
	List	   *tree;
	ListCell   *lc;

	if (config == NIL || get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
		return InvalidOid;
	tree = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, tree)
	{
		if (lfirst_oid(lc) != relid && list_member_oid(config, lfirst_oid(lc)))
			return lfirst_oid(lc);
	}
	return InvalidOid;
}

bool
AppendOnlyIsProtected(Oid relid)
{
	return OidIsValid(covering_entry(relid, config_relids()));
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
static void
absorb_subtree(Oid top, List *config)
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

	if (!get_rel_relispartition(relid))
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

static void
check_owner(Oid relid)
{
#if PG_VERSION_NUM >= 160000
	if (!object_ownercheck(RelationRelationId, relid, GetUserId()))
#else
	if (!pg_class_ownercheck(relid, GetUserId()))
#endif
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

	/* Same lock as CREATE TRIGGER: no concurrent UPDATE until commit. */
	LockRelationOid(relid, ShareRowExclusiveLock);
	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	check_protectable(relid);

	config = config_relids();
	cover = covering_entry(relid, config);
	if (OidIsValid(cover) && cover != relid)
	{
		ereport(NOTICE,
				(errmsg("table \"%s\" is already append-only as a partition of \"%s\"",
						get_rel_name(relid), get_rel_name(cover))));
		ensure_tree(relid);
		return;
	}
	if (!OidIsValid(cover))
	{
		absorb_subtree(relid, config);
		config_insert(relid);
	}
	ensure_tree(relid);
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
	cover = covering_entry(relid, config_relids());
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
	check_owner(relid);
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
	config = config_relids();
	cover = covering_entry(relid, config);
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
	check_owner(relid);
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
 * Event triggers
 * ------------------------------------------------------------------------
 */

static bool
skip_event_trigger(void)
{
	if (internal_ddl_depth > 0)
		return true;
	/* our own install script */
	if (creating_extension &&
		CurrentExtensionObject == get_extension_oid("wallet_ops", true))
		return true;
	return !config_available();
}

/* ERROR for a DDL command that would remove rows of a protected table. */
static void
refuse_relation(Oid relid, Oid cover, const char *what)
{
	if (cover == relid)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot %s append-only table \"%s\"", what, get_rel_name(relid)),
				 errdetail("wallet_ops keeps table \"%s\" append-only.", get_rel_name(relid)),
				 errhint("Only a superuser can lift the protection, with wallet_ops.release_append_only().")));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot %s partition \"%s\" of append-only table \"%s\"",
					what, get_rel_name(relid), get_rel_name(cover)),
			 errdetail("wallet_ops keeps table \"%s\" and its partitions append-only; only partition retention may remove partitions.",
					   get_rel_name(cover)),
			 errhint("Only a superuser can lift the protection, with wallet_ops.release_append_only().")));
}

static int
protected_tables_detail(List *config)
{
	if (list_length(config) == 1)
		return errdetail("Table \"%s\" is append-only.",
						 get_rel_name(linitial_oid(config)));
	return errdetail("Table \"%s\" and %d more are append-only.",
					 get_rel_name(linitial_oid(config)), list_length(config) - 1);
}

static void
check_drop(DropStmt *stmt)
{
	List	   *config = config_relids();
	ListCell   *lc;

	if (config == NIL)
		return;

	switch (stmt->removeType)
	{
		case OBJECT_TABLE:
		case OBJECT_FOREIGN_TABLE:
			foreach(lc, stmt->objects)
			{
				RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
				Oid			relid = RangeVarGetRelid(rv, NoLock, true);
				Oid			cover = covering_entry(relid, config);
				Oid			below;

				if (!OidIsValid(relid))
					continue;
				if (OidIsValid(cover))
				{
					if (maintenance_allowed && cover != relid)
						continue;
					refuse_relation(relid, cover, "drop");
				}
				below = covered_descendant(relid, config);
				if (OidIsValid(below) && !maintenance_allowed)
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("cannot drop table \"%s\" because its partition \"%s\" is append-only",
									get_rel_name(relid), get_rel_name(below)),
							 errhint("Only a superuser can lift the protection, with wallet_ops.release_append_only().")));
			}
			break;

		case OBJECT_TRIGGER:
			foreach(lc, stmt->objects)
			{
				List	   *names = (List *) lfirst(lc);
				const char *trigname = strVal(llast(names));
				List	   *relnames = list_truncate(list_copy(names),
													 list_length(names) - 1);

				if (is_guard_trigger_name(trigname))
					check_trigger_change(makeRangeVarFromNameList(relnames),
										 trigname, "drop");
			}
			break;

		case OBJECT_SCHEMA:
			foreach(lc, stmt->objects)
			{
				const char *nspname = strVal(lfirst(lc));
				Oid			nsp = get_namespace_oid(nspname, true);
				ListCell   *lr;

				if (!OidIsValid(nsp))
					continue;
				if (strcmp(nspname, WALLET_OPS_SCHEMA) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
							 errmsg("cannot drop schema \"%s\" while append-only tables exist",
									nspname),
							 protected_tables_detail(config),
							 errhint("A superuser can release them first with wallet_ops.release_append_only().")));
				foreach(lr, config)
				{
					List	   *tree = find_all_inheritors(lfirst_oid(lr), NoLock, NULL);
					ListCell   *lt;

					foreach(lt, tree)
					{
						if (get_rel_namespace(lfirst_oid(lt)) == nsp)
							ereport(ERROR,
									(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
									 errmsg("cannot drop schema \"%s\" because it contains append-only table \"%s\"",
											nspname, get_rel_name(lfirst_oid(lt))),
									 errhint("Only a superuser can lift the protection, with wallet_ops.release_append_only().")));
					}
				}
			}
			break;

		case OBJECT_EXTENSION:
			foreach(lc, stmt->objects)
			{
				if (strcmp(strVal(lfirst(lc)), "wallet_ops") == 0)
					ereport(ERROR,
							(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
							 errmsg("cannot drop extension \"wallet_ops\" while append-only tables exist"),
							 protected_tables_detail(config),
							 errhint("A superuser can release them first with wallet_ops.release_append_only().")));
			}
			break;

		default:
			break;
	}
}

/*
 * Refuse dropping, renaming or re-enabling (anything but ENABLE ALWAYS) one
 * of our triggers on a protected relation.
 */
static void
check_trigger_change(RangeVar *relation, const char *trigname, const char *action)
{
	Oid			relid = RangeVarGetRelid(relation, NoLock, true);
	Oid			cover;

	if (!OidIsValid(relid) || !is_guard_trigger_name(trigname))
		return;
	cover = covering_entry(relid, config_relids());
	if (!OidIsValid(cover))
		return;
	if (maintenance_allowed && cover != relid && strcmp(action, "drop") == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot %s trigger \"%s\" of append-only table \"%s\"",
					action, trigname, get_rel_name(relid)),
			 errdetail("The trigger keeps table \"%s\" append-only.", get_rel_name(cover)),
			 errhint("Only a superuser can lift the protection, with wallet_ops.release_append_only().")));
}

static void
check_alter_table(AlterTableStmt *stmt)
{
	List	   *config;
	Oid			relid;
	Oid			cover;
	ListCell   *lc;
	ObjectType	objtype;

#if PG_VERSION_NUM >= 140000
	objtype = stmt->objtype;
#else
	objtype = stmt->relkind;
#endif
	if (objtype != OBJECT_TABLE && objtype != OBJECT_FOREIGN_TABLE)
		return;
	config = config_relids();
	if (config == NIL)
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid))
		return;
	cover = covering_entry(relid, config);

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
		Oid			below = InvalidOid;

		switch (cmd->subtype)
		{
			case AT_DetachPartition:
#if PG_VERSION_NUM >= 140000
			case AT_DetachPartitionFinalize:
#endif
				if (OidIsValid(cover) && !maintenance_allowed)
				{
					PartitionCmd *pc = (PartitionCmd *) cmd->def;

					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("cannot detach partition \"%s\" from append-only table \"%s\"",
									pc->name->relname, get_rel_name(relid)),
							 errdetail("Detaching would remove its rows from table \"%s\", which wallet_ops keeps append-only; only partition retention may do so.",
									   get_rel_name(cover)),
							 errhint("Only a superuser can lift the protection, with wallet_ops.release_append_only().")));
				}
				break;

			case AT_AttachPartition:
				if (OidIsValid(cover) && objtype == OBJECT_TABLE)
				{
					PartitionCmd *pc = (PartitionCmd *) cmd->def;
					Oid			part = RangeVarGetRelid(pc->name, NoLock, true);

					if (!OidIsValid(part))
						break;
					if (get_rel_relkind(part) == RELKIND_FOREIGN_TABLE)
						ereport(ERROR,
								(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
								 errmsg("cannot attach foreign table \"%s\" as a partition of append-only table \"%s\"",
										get_rel_name(part), get_rel_name(relid)),
								 errdetail("The rows of a foreign table live in another server, out of reach of wallet_ops.")));
					if (get_rel_persistence(part) == RELPERSISTENCE_UNLOGGED)
						ereport(ERROR,
								(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
								 errmsg("cannot attach unlogged table \"%s\" as a partition of append-only table \"%s\"",
										get_rel_name(part), get_rel_name(relid)),
								 errdetail("An unlogged table is emptied after a crash.")));
					absorb_subtree(part, config);
				}
				break;

			case AT_EnableTrig:
			case AT_EnableReplicaTrig:
			case AT_DisableTrig:
				if (OidIsValid(cover) && is_guard_trigger_name(cmd->name))
					check_trigger_change(stmt->relation, cmd->name,
										 cmd->subtype == AT_DisableTrig ? "disable" :
										 "change the firing mode of");
				break;

			case AT_EnableTrigAll:
			case AT_DisableTrigAll:
			case AT_EnableTrigUser:
			case AT_DisableTrigUser:
				if (OidIsValid(cover))
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("cannot %s all triggers of append-only table \"%s\"",
									(cmd->subtype == AT_DisableTrigAll ||
									 cmd->subtype == AT_DisableTrigUser) ? "disable" : "re-enable",
									get_rel_name(relid)),
							 errdetail("Triggers \"%s\" and \"%s\" must stay ENABLE ALWAYS.",
									   APPEND_ONLY_ROW_TRIGGER, APPEND_ONLY_STMT_TRIGGER),
							 errhint("Name the triggers to change instead of ALL or USER.")));
				break;

			case AT_DropColumn:
			case AT_AlterColumnType:
#if PG_VERSION_NUM >= 170000
			case AT_SetExpression:
#endif
				if (!OidIsValid(cover) && stmt->relation->inh)
					below = covered_descendant(relid, config);
				if (OidIsValid(cover) || OidIsValid(below))
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg(cmd->subtype == AT_DropColumn ?
									"cannot drop column \"%s\" of append-only table \"%s\"" :
									"cannot change column \"%s\" of append-only table \"%s\"",
									cmd->name,
									get_rel_name(OidIsValid(cover) ? cover : below)),
							 errdetail("That would change the values stored in existing rows."),
							 errhint("Add a new column instead.")));
				break;

			case AT_SetUnLogged:
				if (OidIsValid(cover))
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("cannot make append-only table \"%s\" unlogged",
									get_rel_name(relid)),
							 errdetail("An unlogged table is emptied after a crash.")));
				break;

			case AT_AddInherit:
				{
					Oid			parent = RangeVarGetRelid((RangeVar *) cmd->def, NoLock, true);

					if (OidIsValid(covering_entry(parent, config)))
						ereport(ERROR,
								(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
								 errmsg("cannot inherit from append-only table \"%s\"",
										get_rel_name(parent)),
								 errhint("Use declarative partitioning instead of inheritance.")));
				}
				break;

			default:
				break;
		}
	}
}

static void
check_create_trigger(CreateTrigStmt *stmt)
{
	List	   *funcname = stmt->funcname;
	bool		ours;
	Oid			relid;

	if (!is_guard_trigger_name(stmt->trigname))
		return;

	ours = list_length(funcname) == 2 &&
		strcmp(strVal(linitial(funcname)), WALLET_OPS_SCHEMA) == 0 &&
		strcmp(strVal(lsecond(funcname)), "append_only_guard") == 0;
	if (!ours || stmt->replace)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("trigger name \"%s\" is reserved for wallet_ops", stmt->trigname),
				 errdetail("Only CREATE TRIGGER ... EXECUTE FUNCTION wallet_ops.append_only_guard(), without OR REPLACE, may use it."),
				 errhint("Choose another trigger name.")));

	/*
	 * Creating the guard trigger protects the table (a restore does that):
	 * the TRIGGER privilege alone must not let anybody else do it.
	 */
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (OidIsValid(relid))
		check_owner(relid);
}

static void
check_create_table(CreateStmt *stmt, bool foreign)
{
	List	   *config;
	ListCell   *lc;

	if (stmt->inhRelations == NIL)
		return;
	config = config_relids();
	if (config == NIL)
		return;
	foreach(lc, stmt->inhRelations)
	{
		Oid			parent = RangeVarGetRelid((RangeVar *) lfirst(lc), NoLock, true);

		if (!OidIsValid(covering_entry(parent, config)))
			continue;
		if (stmt->partbound == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot inherit from append-only table \"%s\"",
							get_rel_name(parent)),
					 errhint("Use declarative partitioning instead of inheritance.")));
		if (foreign)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot create foreign table \"%s\" as a partition of append-only table \"%s\"",
							stmt->relation->relname, get_rel_name(parent)),
					 errdetail("The rows of a foreign table live in another server, out of reach of wallet_ops.")));
		if (stmt->relation->relpersistence == RELPERSISTENCE_UNLOGGED)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot create unlogged table \"%s\" as a partition of append-only table \"%s\"",
							stmt->relation->relname, get_rel_name(parent)),
					 errdetail("An unlogged table is emptied after a crash.")));
	}
}

/*
 * ALTER TYPE ... RENAME VALUE changes what the rows of every table using the
 * enum say: refused when a protected table has a column of that type (or a
 * domain over it, or an array of either).
 */
static void
check_alter_enum(AlterEnumStmt *stmt)
{
	List	   *config;
	Oid			enumoid;
	ListCell   *lc;

	if (stmt->oldVal == NULL)
		return;					/* ADD VALUE: existing rows keep their meaning */
	config = config_relids();
	if (config == NIL)
		return;
	enumoid = LookupTypeNameOid(NULL, makeTypeNameFromNameList(stmt->typeName), true);
	if (!OidIsValid(enumoid))
		return;
	foreach(lc, config)
	{
		Relation	rel = relation_open(lfirst_oid(lc), AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);
		int			i;

		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);
			Oid			base;

			if (att->attisdropped)
				continue;
			base = getBaseType(att->atttypid);
			if (OidIsValid(get_element_type(base)))
				base = getBaseType(get_element_type(base));
			if (base == enumoid)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("cannot rename a value of type %s used by append-only table \"%s\"",
								format_type_be(enumoid), RelationGetRelationName(rel)),
						 errdetail("Column \"%s\" stores that type: renaming the value would change what existing rows say.",
								   NameStr(att->attname)),
						 errhint("Add a new value instead.")));
		}
		relation_close(rel, AccessShareLock);
	}
}

/*
 * ddl_command_start: refuse, before anything happens, the DDL that would
 * remove rows of a protected table or disarm its triggers.
 */
Datum
wallet_ops_append_only_ddl_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Node	   *parsetree;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"append_only_ddl_start\" must be fired as an event trigger")));
	if (skip_event_trigger())
		PG_RETURN_VOID();

	trigdata = (EventTriggerData *) fcinfo->context;
	parsetree = trigdata->parsetree;
	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
			check_drop((DropStmt *) parsetree);
			break;
		case T_AlterTableStmt:
			check_alter_table((AlterTableStmt *) parsetree);
			break;
		case T_RenameStmt:
			{
				RenameStmt *rs = (RenameStmt *) parsetree;

				if (rs->renameType == OBJECT_TRIGGER)
					check_trigger_change(rs->relation, rs->subname, "rename");
			}
			break;
		case T_CreateTrigStmt:
			check_create_trigger((CreateTrigStmt *) parsetree);
			break;
		case T_AlterObjectDependsStmt:
			{
				AlterObjectDependsStmt *ds = (AlterObjectDependsStmt *) parsetree;

				if (ds->objectType == OBJECT_TRIGGER && ds->relation != NULL)
					check_trigger_change(ds->relation,
										 strVal(llast((List *) ds->object)),
										 "change the dependencies of");
			}
			break;
		case T_RuleStmt:
			{
				RuleStmt   *rs = (RuleStmt *) parsetree;
				Oid			relid = RangeVarGetRelid(rs->relation, NoLock, true);

				if (OidIsValid(covering_entry(relid, config_relids())))
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("cannot create rule on append-only table \"%s\"",
									get_rel_name(relid)),
							 errdetail("A rule could swallow or redirect the rows written to the table.")));
			}
			break;
		case T_CreateStmt:
			check_create_table((CreateStmt *) parsetree, false);
			break;
		case T_AlterEnumStmt:
			check_alter_enum((AlterEnumStmt *) parsetree);
			break;
		case T_CreateForeignTableStmt:
			check_create_table(&((CreateForeignTableStmt *) parsetree)->base, true);
			break;
		default:
			break;
	}
	PG_RETURN_VOID();
}

/* A partition joined a tree: protect it if the tree is protected. */
static void
after_new_partition(Oid relid)
{
	if (!OidIsValid(relid))
		return;
	if (OidIsValid(covering_entry(relid, config_relids())))
		ensure_tree(relid);
	apply_inherited_ingest(relid);
}

/*
 * A partition left a protected tree (only possible under the maintenance
 * bypass): it becomes an ordinary table.
 */
static void
after_detach(Oid parent, Oid part)
{
	List	   *config = config_relids();
	List	   *tree;
	ListCell   *lc;

	if (!OidIsValid(part) || !OidIsValid(covering_entry(parent, config)))
		return;
	tree = find_all_inheritors(part, NoLock, NULL);
	foreach(lc, tree)
	{
		if (!OidIsValid(covering_entry(lfirst_oid(lc), config)))
			strip_relation(lfirst_oid(lc));
	}
}

/*
 * ddl_command_end: new partitions of a protected table get its triggers and
 * the ingest grants of their ancestors; a restored row trigger (pg_dump
 * without data) puts its table back into the protected set.
 */
Datum
wallet_ops_append_only_ddl_end(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Node	   *parsetree;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"append_only_ddl_end\" must be fired as an event trigger")));
	if (skip_event_trigger())
		PG_RETURN_VOID();

	trigdata = (EventTriggerData *) fcinfo->context;
	parsetree = trigdata->parsetree;
	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
			{
				CreateStmt *cs = (CreateStmt *) parsetree;

				if (cs->partbound != NULL)
					after_new_partition(RangeVarGetRelid(cs->relation, NoLock, true));
			}
			break;
		case T_AlterTableStmt:
			{
				AlterTableStmt *as = (AlterTableStmt *) parsetree;
				ListCell   *lc;
				Oid			relid = RangeVarGetRelid(as->relation, NoLock, true);

				foreach(lc, as->cmds)
				{
					AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
					PartitionCmd *pc = (PartitionCmd *) cmd->def;

					if (cmd->subtype == AT_AttachPartition)
						after_new_partition(RangeVarGetRelid(pc->name, NoLock, true));
					else if (cmd->subtype == AT_DetachPartition
#if PG_VERSION_NUM >= 140000
							 || cmd->subtype == AT_DetachPartitionFinalize
#endif
						)
						after_detach(relid, RangeVarGetRelid(pc->name, NoLock, true));
				}
			}
			break;
		case T_CreateTrigStmt:
			{
				CreateTrigStmt *ts = (CreateTrigStmt *) parsetree;
				Oid			relid;

				if (strcmp(ts->trigname, APPEND_ONLY_ROW_TRIGGER) != 0)
					break;
				relid = RangeVarGetRelid(ts->relation, NoLock, true);
				if (OidIsValid(relid) &&
					!OidIsValid(covering_entry(relid, config_relids())))
					config_insert(relid);
			}
			break;
		default:
			break;
	}
	PG_RETURN_VOID();
}

/*
 * sql_drop: the net under ddl_command_start, for drops that cascade (DROP
 * SCHEMA ... CASCADE, DROP OWNED, DROP TYPE ... CASCADE, an extension a
 * trigger was made to depend on): refuse when a guard trigger, a protected
 * table or a column of one goes away.  Also forgets dropped relations.
 */
Datum
wallet_ops_append_only_sql_drop(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *config;
	List	   *dropped = NIL;
	uint64		i;
	char	   *refusal = NULL;
	char	   *refusal_detail = NULL;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"append_only_sql_drop\" must be fired as an event trigger")));
	if (skip_event_trigger())
		PG_RETURN_VOID();

	config = config_relids();

	SPI_connect();
	if (SPI_execute("SELECT classid::pg_catalog.oid, objid, objsubid, object_type, object_identity"
					"  FROM pg_catalog.pg_event_trigger_dropped_objects()",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the dropped objects");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Oid			classid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		Oid			objid = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
		int32		objsubid = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		char	   *type = SPI_getvalue(tup, desc, 4);
		char	   *identity = SPI_getvalue(tup, desc, 5);

		if (strcmp(type, "extension") == 0 && identity &&
			strcmp(identity, "wallet_ops") == 0)
		{
			SPI_finish();
			PG_RETURN_VOID();
		}
		if (classid == RelationRelationId && objsubid == 0)
		{
			MemoryContext old = MemoryContextSwitchTo(caller);

			dropped = lappend_oid(dropped, objid);
			if (refusal == NULL && !maintenance_allowed &&
				list_member_oid(config, objid))
				refusal = psprintf("cannot drop append-only table %s", identity);
			MemoryContextSwitchTo(old);
		}
		else if (classid == RelationRelationId && refusal == NULL &&
				 !maintenance_allowed && get_rel_name(objid) != NULL &&
				 OidIsValid(covering_entry(objid, config)))
		{
			MemoryContext old = MemoryContextSwitchTo(caller);

			refusal = psprintf("cannot drop column %s of an append-only table", identity);
			refusal_detail = pstrdup("That would remove values stored in existing rows.");
			MemoryContextSwitchTo(old);
		}
		else if (classid == TriggerRelationId && refusal == NULL &&
				 !maintenance_allowed && identity &&
				 (strncmp(identity, APPEND_ONLY_ROW_TRIGGER " on ",
						  strlen(APPEND_ONLY_ROW_TRIGGER " on ")) == 0 ||
				  strncmp(identity, APPEND_ONLY_STMT_TRIGGER " on ",
						  strlen(APPEND_ONLY_STMT_TRIGGER " on ")) == 0))
		{
			MemoryContext old = MemoryContextSwitchTo(caller);

			refusal = psprintf("cannot drop append-only table %s",
							   strstr(identity, " on ") + 4);
			refusal_detail = psprintf("The command would remove trigger %s.", identity);
			MemoryContextSwitchTo(old);
		}
	}
	SPI_finish();

	if (refusal != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg_internal("%s", refusal),
				 refusal_detail ? errdetail_internal("%s", refusal_detail) : 0,
				 errhint("Only a superuser can lift the protection, with wallet_ops.release_append_only().")));

	ingest_forget_relids(dropped);
	PG_RETURN_VOID();
}
