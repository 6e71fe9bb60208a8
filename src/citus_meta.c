/*-------------------------------------------------------------------------
 *
 * citus_meta.c
 *		What Citus's metadata on this node says of a relation.
 *
 * Read with SPI from Citus's catalog tables (pg_dist_partition,
 * pg_dist_shard) when they exist, so that wallet_ops builds and runs
 * without Citus and needs none of its headers.  A shard is recognised by
 * its name, <table>_<shard id>, and confirmed by pg_dist_shard: workers
 * have that metadata when Citus syncs it to them (the default since
 * Citus 11).
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/citus_meta.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "citus_meta.h"
#include "common.h"

bool
CitusMetaPresent(void)
{
	return OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE)) &&
		OidIsValid(get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE));
}

bool
CitusMetaTableInfo(Oid relid, CitusTableInfo *ti)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	bool		found = false;
	int			ret;

	if (!CitusMetaPresent())
		return false;
	values[0] = ObjectIdGetDatum(relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT p.partmethod::pg_catalog.text, p.repmodel::pg_catalog.text,"
								"       CASE WHEN p.partkey IS NOT NULL"
								"            THEN pg_catalog.column_to_column_name(p.logicalrelid, p.partkey)::pg_catalog.text END"
								"  FROM pg_catalog.pg_dist_partition p"
								" WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
								1, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_dist_partition: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		char	   *s;

		found = true;
		s = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		ti->partmethod = s ? s[0] : '\0';
		s = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		ti->repmodel = s ? s[0] : '\0';
		s = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
		ti->distcol = s ? MemoryContextStrdup(cxt, s) : NULL;
	}
	SPI_finish();
	return found;
}

int64
CitusMetaShardIdOfName(const char *relname)
{
	const char *us = strrchr(relname, '_');
	char	   *end;
	int64		shardid;

	if (us == NULL || us == relname || us[1] == '\0' ||
		strspn(us + 1, "0123456789") != strlen(us + 1))
		return 0;
	errno = 0;
	shardid = strtoi64(us + 1, &end, 10);
	if (errno != 0 || *end != '\0' || shardid <= 0)
		return 0;
	return shardid;
}

Oid
CitusMetaShardTable(Relation rel, bool *unknown)
{
	const char *relname = RelationGetRelationName(rel);
	int64		shardid = CitusMetaShardIdOfName(relname);
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	Oid			logical = InvalidOid;
	char	   *lname;
	int			ret;

	if (unknown)
		*unknown = false;
	if (shardid == 0 || !CitusMetaPresent())
		return InvalidOid;

	values[0] = Int64GetDatum(shardid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT logicalrelid::pg_catalog.oid FROM pg_catalog.pg_dist_shard"
								" WHERE shardid OPERATOR(pg_catalog.=) $1",
								1, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_dist_shard: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		bool		isnull;

		logical = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	if (!OidIsValid(logical))
	{
		if (unknown)
			*unknown = true;
		return InvalidOid;
	}

	/* the shard of that table: in its schema, and named after it */
	lname = get_rel_name(logical);
	if (logical == RelationGetRelid(rel) || lname == NULL ||
		get_rel_namespace(logical) != RelationGetNamespace(rel) ||
		strlen(lname) != (size_t) (strrchr(relname, '_') - relname) ||
		strncmp(lname, relname, strlen(lname)) != 0)
		return InvalidOid;
	return logical;
}

bool
CitusMetaTriggerNameIs(const char *tgname, const char *base, Relation rel)
{
	const char *relname = RelationGetRelationName(rel);
	size_t		len = strlen(base);

	if (strcmp(tgname, base) == 0)
		return true;
	if (CitusMetaShardIdOfName(relname) == 0 || strncmp(tgname, base, len) != 0)
		return false;

	/*
	 * The shard's own id, or, on the shard of a partition, the id of the
	 * parent's shard: PostgreSQL clones a row trigger of the parent's shard
	 * onto the partition's shard when Citus attaches it, name and all.
	 */
	return tgname[len] == '_' && tgname[len + 1] != '\0' &&
		strspn(tgname + len + 1, "0123456789") == strlen(tgname + len + 1);
}

int
CitusMetaAllowTriggers(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("citus.enable_unsafe_triggers", "on", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return level;
}
