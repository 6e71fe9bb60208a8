/*-------------------------------------------------------------------------
 *
 * append_only_ddl.c
 *		Append-only tables: the event triggers that refuse the DDL which
 *		would take the protection away, and extend it to new partitions.
 *
 * ddl_command_start refuses, before anything happens, each door a DDL
 * command could open (dropping, detaching, disabling or renaming a guard
 * trigger, rules, column changes, enum renames...); sql_drop is the net
 * under it for drops that cascade; ddl_command_end protects new partitions
 * through append_only_guard.c, which owns the protected set.  See
 * docs/append-only.md for every path that was tried and what stops it.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/append_only_ddl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "append_only_guard.h"
#include "chain_config.h"
#include "chain_trigger.h"
#include "common.h"

PG_FUNCTION_INFO_V1(wallet_ops_append_only_ddl_start);
PG_FUNCTION_INFO_V1(wallet_ops_append_only_ddl_end);
PG_FUNCTION_INFO_V1(wallet_ops_append_only_sql_drop);

static bool is_guard_trigger_name(const char *name);
static bool identity_is_guard_trigger(const char *identity, List *config);
static bool firing_mode_kept(const char *trigname, AlterTableType subtype);
static Oid	chained_tree_member(Oid relid);
static void check_late_trigger(RangeVar *relation, const char *trigname,
							   int16 tgtype);
static void check_rename_trigger(RenameStmt *stmt);
static Oid	covered_descendant(Oid relid, List *config);
static void refuse_relation(Oid relid, Oid cover, const char *what);
static void check_drop(DropStmt *stmt);
static void check_alter_table(AlterTableStmt *stmt);
static void check_trigger_change(RangeVar *relation, const char *trigname,
								 const char *action);
static void check_create_trigger(CreateTrigStmt *stmt);
static void check_create_table(CreateStmt *stmt, bool foreign);
static bool skip_event_trigger(void);
static int	protected_tables_detail(List *config);
static bool type_contains(Oid typid, Oid target, int depth);
static Oid	rel_oftype(Oid relid);
static void check_type_change(Oid typid, const char *what, const char *hint);
static void check_alter_enum(AlterEnumStmt *stmt);
static void check_alter_composite(AlterTableStmt *stmt);

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------
 */

/* The triggers wallet_ops keeps in place: the guards and the chain's. */
static bool
is_guard_trigger_name(const char *name)
{
	return name != NULL &&
		(strcmp(name, APPEND_ONLY_ROW_TRIGGER) == 0 ||
		 strcmp(name, APPEND_ONLY_STMT_TRIGGER) == 0 ||
		 strcmp(name, CHAIN_TRIGGER_NAME) == 0);
}

/*
 * A dropped trigger's object identity ("name on schema.table") names one of
 * the guards, or the chain's trigger of a table that stays protected (the
 * chain's trigger outlives release_append_only(), and goes with its table).
 */
static bool
identity_is_guard_trigger(const char *identity, List *config)
{
	const char *on = identity ? strstr(identity, " on ") : NULL;
	char	   *name;
	Oid			relid;

	if (on == NULL)
		return false;
	name = pnstrdup(identity, on - identity);
	if (!is_guard_trigger_name(name))
		return false;
	if (strcmp(name, CHAIN_TRIGGER_NAME) != 0)
		return true;
#if PG_VERSION_NUM >= 160000
	relid = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(on + 4, NULL)),
							 NoLock, true);
#else
	relid = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(on + 4)),
							 NoLock, true);
#endif
	return OidIsValid(AppendOnlyCoveringEntry(relid, config));
}

/*
 * Whether ALTER TABLE ... ENABLE/DISABLE TRIGGER leaves one of our triggers
 * as it must be: the guards ENABLE ALWAYS; the chain's trigger ENABLE (it
 * fires in origin and local mode only, so that a logical replication
 * subscriber keeps the publisher's hashes).
 */
static bool
firing_mode_kept(const char *trigname, AlterTableType subtype)
{
	if (strcmp(trigname, CHAIN_TRIGGER_NAME) == 0)
		return subtype == AT_EnableTrig;
	return subtype == AT_EnableAlwaysTrig;
}

/*
 * The hash-chained table relid belongs to, or one of its partitions that is
 * chained; InvalidOid when none.
 */
static Oid
chained_tree_member(Oid relid)
{
	ChainConfig cfg;
	Oid			root;
	ListCell   *lc;

	if (!OidIsValid(relid))
		return InvalidOid;
	root = ChainFindRoot(relid, &cfg);
	if (OidIsValid(root) || get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
		return root;
	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		if (ChainIsChained(lfirst_oid(lc)))
			return lfirst_oid(lc);
	}
	return InvalidOid;
}

/*
 * A trigger of type tgtype named trigname on relation: refused (42501) when
 * it would fire after the chain's trigger of a hash-chained table, and
 * could so rewrite a row after it was hashed.
 */
static void
check_late_trigger(RangeVar *relation, const char *trigname, int16 tgtype)
{
	Oid			relid;

	if (!ChainTriggerFiresAfterOurs(trigname, tgtype))
		return;
	relid = RangeVarGetRelid(relation, NoLock, true);
	if (OidIsValid(chained_tree_member(relid)))
		ChainReportLateTrigger(ERRCODE_INSUFFICIENT_PRIVILEGE, trigname,
							   get_rel_name(relid));
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

/* ------------------------------------------------------------------------
 * Event triggers
 * ------------------------------------------------------------------------
 */

static bool
skip_event_trigger(void)
{
	if (AppendOnlyRunningOwnDDL())
		return true;
	/* our own install script */
	if (creating_extension &&
		CurrentExtensionObject == get_extension_oid("wallet_ops", true))
		return true;
	return !AppendOnlyConfigAvailable();
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
	List	   *config = AppendOnlyConfigRelids();
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
				Oid			cover = AppendOnlyCoveringEntry(relid, config);
				Oid			below;

				if (!OidIsValid(relid))
					continue;
				if (OidIsValid(cover))
				{
					if (AppendOnlyMaintenanceAllowed() && cover != relid)
						continue;
					refuse_relation(relid, cover, "drop");
				}
				below = covered_descendant(relid, config);
				if (OidIsValid(below) && !AppendOnlyMaintenanceAllowed())
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
	cover = AppendOnlyCoveringEntry(relid, AppendOnlyConfigRelids());
	if (!OidIsValid(cover))
		return;
	if (AppendOnlyMaintenanceAllowed() && cover != relid && strcmp(action, "drop") == 0)
		return;
	if (strcmp(trigname, CHAIN_TRIGGER_NAME) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot %s trigger \"%s\" of hash-chained table \"%s\"",
						action, trigname, get_rel_name(relid)),
				 errdetail("The trigger links every row inserted into table \"%s\" into its hash chain.",
						   get_rel_name(cover)),
				 errhint("Only a superuser can lift the protection, with wallet_ops.release_append_only().")));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot %s trigger \"%s\" of append-only table \"%s\"",
					action, trigname, get_rel_name(relid)),
			 errdetail("The trigger keeps table \"%s\" append-only.", get_rel_name(cover)),
			 errhint("Only a superuser can lift the protection, with wallet_ops.release_append_only().")));
}

/*
 * ALTER TRIGGER ... RENAME: not one of ours, not to one of our names, and
 * not to a name that makes a BEFORE INSERT row trigger fire after the
 * chain's.
 */
static void
check_rename_trigger(RenameStmt *stmt)
{
	Oid			relid;
	Relation	rel;
	int			i;

	check_trigger_change(stmt->relation, stmt->subname, "rename");
	if (is_guard_trigger_name(stmt->newname))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("trigger name \"%s\" is reserved for wallet_ops", stmt->newname),
				 errhint("Choose another trigger name.")));
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid))
		return;
	rel = relation_open(relid, AccessShareLock);
	for (i = 0; rel->trigdesc != NULL && i < rel->trigdesc->numtriggers; i++)
	{
		Trigger    *t = &rel->trigdesc->triggers[i];

		if (strcmp(t->tgname, stmt->subname) == 0)
			check_late_trigger(stmt->relation, stmt->newname, t->tgtype);
	}
	relation_close(rel, AccessShareLock);
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
	if (objtype == OBJECT_TYPE)
	{
		check_alter_composite(stmt);
		return;
	}
	if (objtype != OBJECT_TABLE && objtype != OBJECT_FOREIGN_TABLE)
		return;
	config = AppendOnlyConfigRelids();
	if (config == NIL)
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid))
		return;
	cover = AppendOnlyCoveringEntry(relid, config);

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
				if (OidIsValid(cover) && !AppendOnlyMaintenanceAllowed())
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
					if (OidIsValid(chained_tree_member(relid)))
					{
						ChainCheckNoLateTriggers(part);
						ChainCheckNoRowsToAdopt(part, relid);
					}
					AppendOnlyAbsorbSubtree(part, config);
				}
				break;

			case AT_EnableTrig:
			case AT_EnableAlwaysTrig:
			case AT_EnableReplicaTrig:
			case AT_DisableTrig:
				if (OidIsValid(cover) && is_guard_trigger_name(cmd->name) &&
					!firing_mode_kept(cmd->name, cmd->subtype))
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

					if (OidIsValid(AppendOnlyCoveringEntry(parent, config)))
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
	const char *func;
	bool		ours;
	Oid			relid;

	if (!is_guard_trigger_name(stmt->trigname))
	{
		check_late_trigger(stmt->relation, stmt->trigname,
						   (stmt->row ? TRIGGER_TYPE_ROW : 0) |
						   stmt->timing | stmt->events);
		return;
	}

	func = strcmp(stmt->trigname, CHAIN_TRIGGER_NAME) == 0 ?
		"_chain_before_insert" : "append_only_guard";
	ours = list_length(funcname) == 2 &&
		strcmp(strVal(linitial(funcname)), WALLET_OPS_SCHEMA) == 0 &&
		strcmp(strVal(lsecond(funcname)), func) == 0;
#if PG_VERSION_NUM >= 140000
	if (stmt->replace)			/* CREATE OR REPLACE TRIGGER, new in 14 */
		ours = false;
#endif
	if (!ours)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("trigger name \"%s\" is reserved for wallet_ops", stmt->trigname),
				 errdetail("Only CREATE TRIGGER ... EXECUTE FUNCTION wallet_ops.%s(), without OR REPLACE, may use it.",
						   func),
				 errhint("Choose another trigger name.")));

	/*
	 * Creating the guard trigger protects the table (a restore does that):
	 * the TRIGGER privilege alone must not let anybody else do it.
	 */
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (OidIsValid(relid))
		AppendOnlyCheckOwner(relid);
}

static void
check_create_table(CreateStmt *stmt, bool foreign)
{
	List	   *config;
	ListCell   *lc;

	if (stmt->inhRelations == NIL)
		return;
	config = AppendOnlyConfigRelids();
	if (config == NIL)
		return;
	foreach(lc, stmt->inhRelations)
	{
		Oid			parent = RangeVarGetRelid((RangeVar *) lfirst(lc), NoLock, true);

		if (!OidIsValid(AppendOnlyCoveringEntry(parent, config)))
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
 * Whether values of type typid contain values of type target: typid is
 * target, or a domain over, an array of, a range over or a composite
 * holding (at any depth) a type that does.
 */
static bool
type_contains(Oid typid, Oid target, int depth)
{
	Oid			relid;

	check_stack_depth();
	if (depth > 64)
		return false;
	typid = getBaseType(typid);
	if (typid == target)
		return true;
	if (OidIsValid(get_element_type(typid)))
		return type_contains(get_element_type(typid), target, depth + 1);
	if (type_is_range(typid))
		return type_contains(get_range_subtype(typid), target, depth + 1);
#if PG_VERSION_NUM >= 140000
	if (type_is_multirange(typid))
		return type_contains(get_multirange_range(typid), target, depth + 1);
#endif
	relid = get_typ_typrelid(typid);
	if (OidIsValid(relid))
	{
		Relation	rel = relation_open(relid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);
		bool		found = false;
		int			i;

		for (i = 0; i < desc->natts && !found; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped)
				found = type_contains(att->atttypid, target, depth + 1);
		}
		relation_close(rel, AccessShareLock);
		return found;
	}
	return false;
}

/* The type a typed table (CREATE TABLE ... OF) was made of; or invalid. */
static Oid
rel_oftype(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			result = InvalidOid;

	if (HeapTupleIsValid(tup))
	{
		result = ((Form_pg_class) GETSTRUCT(tup))->reloftype;
		ReleaseSysCache(tup);
	}
	return result;
}

/*
 * Refuse a change to type typid (what: "rename a value of", "drop an
 * attribute of", ...) when it would change what the stored rows of a
 * protected table say: a column of the table holds the type (directly, or
 * inside a domain, array, range or composite), or the table is a typed
 * table of it (CREATE TABLE ... OF).
 */
static void
check_type_change(Oid typid, const char *what, const char *hint)
{
	List	   *config = AppendOnlyConfigRelids();
	ListCell   *lc;

	foreach(lc, config)
	{
		Relation	rel = relation_open(lfirst_oid(lc), AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);
		int			i;

		ListCell   *lm;

		/* a typed table: the protected one or any of its partitions */
		foreach(lm, find_all_inheritors(lfirst_oid(lc), NoLock, NULL))
		{
			if (rel_oftype(lfirst_oid(lm)) == typid)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("cannot %s type %s, the row type of append-only table \"%s\"",
								what, format_type_be(typid), get_rel_name(lfirst_oid(lm))),
						 errdetail("That would change the values stored in existing rows."),
						 errhint("%s", hint)));
		}
		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped && type_contains(att->atttypid, typid, 0))
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("cannot %s type %s used by append-only table \"%s\"",
								what, format_type_be(typid), RelationGetRelationName(rel)),
						 errdetail("Column \"%s\" stores that type: the change would alter what existing rows say.",
								   NameStr(att->attname)),
						 errhint("%s", hint)));
		}
		relation_close(rel, AccessShareLock);
	}
}

/*
 * ALTER TYPE ... RENAME VALUE changes what the rows of every table using the
 * enum say.  ADD VALUE leaves existing rows their meaning.
 */
static void
check_alter_enum(AlterEnumStmt *stmt)
{
	Oid			enumoid;

	if (stmt->oldVal == NULL)
		return;
	enumoid = LookupTypeNameOid(NULL, makeTypeNameFromNameList(stmt->typeName), true);
	if (OidIsValid(enumoid))
		check_type_change(enumoid, "rename a value of", "Add a new value instead.");
}

/*
 * ALTER TYPE ... DROP ATTRIBUTE and ALTER ATTRIBUTE ... TYPE on a composite
 * type: the first removes that field from every stored value of the type,
 * the second (with CASCADE) rewrites the columns of typed tables.  ADD and
 * RENAME ATTRIBUTE leave stored values as they are.
 */
static void
check_alter_composite(AlterTableStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	ListCell   *lc;

	if (!OidIsValid(relid) || !OidIsValid(get_rel_type_id(relid)))
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

		if (cmd->subtype == AT_DropColumn)
			check_type_change(get_rel_type_id(relid), "drop an attribute of",
							  "Add a new attribute instead.");
		else if (cmd->subtype == AT_AlterColumnType)
			check_type_change(get_rel_type_id(relid), "change an attribute of",
							  "Add a new attribute instead.");
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
					check_rename_trigger(rs);
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

				if (OidIsValid(AppendOnlyCoveringEntry(relid, AppendOnlyConfigRelids())))
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
					AppendOnlyProtectNewPartition(RangeVarGetRelid(cs->relation, NoLock, true));
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
						AppendOnlyProtectNewPartition(RangeVarGetRelid(pc->name, NoLock, true));
					else if (cmd->subtype == AT_DetachPartition
#if PG_VERSION_NUM >= 140000
							 || cmd->subtype == AT_DetachPartitionFinalize
#endif
						)
						AppendOnlyReleaseDetached(relid, RangeVarGetRelid(pc->name, NoLock, true));
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
					!OidIsValid(AppendOnlyCoveringEntry(relid, AppendOnlyConfigRelids())))
					AppendOnlyConfigInsert(relid);
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

	config = AppendOnlyConfigRelids();

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
			if (refusal == NULL && !AppendOnlyMaintenanceAllowed() &&
				list_member_oid(config, objid))
				refusal = psprintf("cannot drop append-only table %s", identity);
			MemoryContextSwitchTo(old);
		}
		else if (classid == RelationRelationId && refusal == NULL &&
				 !AppendOnlyMaintenanceAllowed() && get_rel_name(objid) != NULL &&
				 OidIsValid(AppendOnlyCoveringEntry(objid, config)))
		{
			MemoryContext old = MemoryContextSwitchTo(caller);

			refusal = psprintf("cannot drop column %s of an append-only table", identity);
			refusal_detail = pstrdup("That would remove values stored in existing rows.");
			MemoryContextSwitchTo(old);
		}
		else if (classid == TriggerRelationId && refusal == NULL &&
				 !AppendOnlyMaintenanceAllowed() &&
				 identity_is_guard_trigger(identity, config))
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

	AppendOnlyForgetRelations(dropped);
	PG_RETURN_VOID();
}
