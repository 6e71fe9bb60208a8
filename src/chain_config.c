/*-------------------------------------------------------------------------
 *
 * chain_config.c
 *		The configuration of hash-chained tables: the only code that reads
 *		or writes wallet_ops.hash_chains, and its resolution for one
 *		relation (a table or one of its partitions).
 *
 * The rows are read and written through SPI: the configuration is read
 * once per relation and cached by its users (chain_trigger.c), so nothing
 * here is on the path of a row.  They are written as the owner of the
 * extension's schema, since ordinary roles have no rights on the table.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_config.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "chain_config.h"
#include "chain_hash.h"
#include "common.h"

static char **
chain_name_array(Datum arr, int *n, MemoryContext cxt)
{
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;
	int			i;

	deconstruct_array(DatumGetArrayTypeP(arr), NAMEOID, NAMEDATALEN, false,
					  TYPALIGN_CHAR, &elems, &nulls, n);
	out = MemoryContextAlloc(cxt, sizeof(char *) * (*n + 1));
	for (i = 0; i < *n; i++)
		out[i] = MemoryContextStrdup(cxt, NameStr(*DatumGetName(elems[i])));
	return out;
}

/*
 * Read the configuration of relid from wallet_ops.hash_chains into cfg
 * (allocated in the current memory context).  False when relid is not
 * chained.
 */
bool
ChainConfigLoad(Oid relid, ChainConfig *cfg)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	bool		found = false;
	int			ret;

	values[0] = ObjectIdGetDatum(relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT chain_key, hashed_columns, format_version"
								"  FROM wallet_ops.hash_chains"
								" WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
								1, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read wallet_ops.hash_chains: %s",
			 SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;

		found = true;
		cfg->rootrelid = relid;
		d = SPI_getbinval(tup, desc, 1, &isnull);
		if (isnull)
			cfg->nkeys = 0;
		else
			cfg->keys = chain_name_array(d, &cfg->nkeys, cxt);
		d = SPI_getbinval(tup, desc, 2, &isnull);
		if (isnull)
			elog(ERROR, "hashed_columns of chained table %u is null", relid);
		cfg->cols = chain_name_array(d, &cfg->ncols, cxt);
		d = SPI_getbinval(tup, desc, 3, &isnull);
		cfg->format_version = isnull ? 0 : DatumGetInt32(d);
	}
	SPI_finish();
	if (found && cfg->format_version != CHAIN_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("hash chain of table \"%s\" uses format version %d, which this version of wallet_ops does not support",
						get_rel_name(relid), cfg->format_version)));
	return found;
}

/*
 * The chained table relid belongs to: itself or one of its partition
 * ancestors.  InvalidOid if none.
 */
Oid
ChainFindRoot(Oid relid, ChainConfig *cfg)
{
	List	   *ancestors;
	ListCell   *lc;

	if (ChainConfigLoad(relid, cfg))
		return relid;
	if (!get_rel_relispartition(relid))
		return InvalidOid;
	ancestors = get_partition_ancestors(relid);
	foreach(lc, ancestors)
	{
		if (ChainConfigLoad(lfirst_oid(lc), cfg))
			return lfirst_oid(lc);
	}
	return InvalidOid;
}

/*
 * The attribute number of column "name" of rel (InvalidAttrNumber if it has
 * none), and its type in *typid unless typid is NULL.  By name, since the
 * partitions of a chained table may number their columns differently.
 */
AttrNumber
ChainAttnum(Relation rel, const char *name, Oid *typid)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			if (typid)
				*typid = att->atttypid;
			return att->attnum;
		}
	}
	return InvalidAttrNumber;
}

/*
 * Resolve a chained table's configuration for one relation (the table
 * itself or one of its partitions, whose attribute numbers may differ).
 */
ChainRelInfo *
ChainRelInfoBuild(Relation rel, const ChainConfig *cfg)
{
	ChainRelInfo *info = palloc0(sizeof(ChainRelInfo));
	int			i;
	Oid			typid;

	info->relid = RelationGetRelid(rel);
	info->rootrelid = cfg->rootrelid;
	info->nkeys = cfg->nkeys;
	info->ncols = cfg->ncols;
	info->keys = palloc0(sizeof(ChainColumn) * Max(cfg->nkeys, 1));
	info->cols = palloc0(sizeof(ChainColumn) * Max(cfg->ncols, 1));
	info->valid = true;

	for (i = 0; i < cfg->nkeys + cfg->ncols; i++)
	{
		bool		is_key = i < cfg->nkeys;
		const char *name = is_key ? cfg->keys[i] : cfg->cols[i - cfg->nkeys];
		AttrNumber	attnum = ChainAttnum(rel, name, &typid);

		if (attnum == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of hash-chained table \"%s\" does not exist",
							name, RelationGetRelationName(rel)),
					 errdetail("The column is a %s of the hash chain of \"%s\".",
							   is_key ? "chain key column" : "hashed column",
							   get_rel_name(cfg->rootrelid))));
		if (is_key)
			ChainColumnInit(&info->keys[i], name, attnum, typid, true);
		else
			ChainColumnInit(&info->cols[i - cfg->nkeys], name, attnum, typid, false);
	}
	info->seq_attnum = ChainAttnum(rel, CHAIN_COL_SEQ, NULL);
	info->prev_attnum = ChainAttnum(rel, CHAIN_COL_PREV, NULL);
	info->hash_attnum = ChainAttnum(rel, CHAIN_COL_HASH, NULL);
	if (info->seq_attnum == InvalidAttrNumber ||
		info->prev_attnum == InvalidAttrNumber ||
		info->hash_attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("hash-chained table \"%s\" lacks the columns chain_seq, prev_hash and row_hash",
						RelationGetRelationName(rel))));
	return info;
}

/* Whether relid itself (not an ancestor) is hash-chained. */
bool
ChainIsChained(Oid relid)
{
	ChainConfig cfg;

	return ChainConfigLoad(relid, &cfg);
}

/*
 * Record the configuration of a table being chained (cfg->rootrelid) in
 * wallet_ops.hash_chains.  Caller is connected to SPI.
 */
void
ChainConfigInsert(const ChainConfig *cfg)
{
	Oid			argtypes[3] = {OIDOID, NAMEARRAYOID, NAMEARRAYOID};
	Datum		values[3];
	Datum	   *kd = palloc(sizeof(Datum) * Max(cfg->nkeys, 1));
	Datum	   *cd = palloc(sizeof(Datum) * cfg->ncols);
	WalletOpsOwnerContext owner_ctx;
	int			ret;
	int			i;

	for (i = 0; i < cfg->nkeys; i++)
		kd[i] = DirectFunctionCall1(namein, CStringGetDatum(cfg->keys[i]));
	for (i = 0; i < cfg->ncols; i++)
		cd[i] = DirectFunctionCall1(namein, CStringGetDatum(cfg->cols[i]));
	values[0] = ObjectIdGetDatum(cfg->rootrelid);
	values[1] = PointerGetDatum(construct_array(kd, cfg->nkeys, NAMEOID, NAMEDATALEN,
												false, TYPALIGN_CHAR));
	values[2] = PointerGetDatum(construct_array(cd, cfg->ncols, NAMEOID, NAMEDATALEN,
												false, TYPALIGN_CHAR));
	WalletOpsOwnerBegin(&owner_ctx);
	ret = SPI_execute_with_args("INSERT INTO wallet_ops.hash_chains"
								" (relid, chain_key, hashed_columns, format_version, enabled_at)"
								" VALUES ($1::pg_catalog.regclass, $2, $3, 1, pg_catalog.now())",
								3, argtypes, values, NULL, false, 0);
	WalletOpsOwnerEnd(&owner_ctx);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not insert into wallet_ops.hash_chains: %s",
			 SPI_result_code_string(ret));
}
