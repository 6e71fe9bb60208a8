/*-------------------------------------------------------------------------
 *
 * chain_enable.c
 *		wallet_ops.enable_hash_chain(): turning a table into a hash-chained
 *		one and sealing the rows already present.
 *
 * Everything the caller can get wrong is checked before anything is
 * changed.  DDL runs as the caller (who must own the table); the rows of
 * wallet_ops.hash_chains (chain_config.c) and wallet_ops.chain_heads
 * (chain_heads.c) are written as the owner of the extension's schema,
 * since ordinary roles have no rights on them.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_enable.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "append_only.h"
#include "chain_citus.h"
#include "chain_config.h"
#include "chain_hash.h"
#include "chain_heads.h"
#include "chain_trigger.h"
#include "citus_meta.h"
#include "partition_config.h"
#include "common.h"

PG_FUNCTION_INFO_V1(wallet_ops_enable_hash_chain);

/* ---- enable_hash_chain -------------------------------------------------- */

/* Names from a name[] argument; NULL elements and duplicates refused. */
static char **
chain_arg_names(ArrayType *arr, int *n, const char *argname)
{
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;
	int			i,
				j;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", argname)));
	deconstruct_array(arr, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR,
					  &elems, &nulls, n);
	out = palloc(sizeof(char *) * (*n + 1));
	for (i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain null elements", argname)));
		out[i] = pstrdup(NameStr(*DatumGetName(elems[i])));
		for (j = 0; j < i; j++)
			if (strcmp(out[i], out[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("column \"%s\" appears more than once in %s",
								out[i], argname)));
	}
	return out;
}

static bool
chain_is_chain_column(const char *name)
{
	return strcmp(name, CHAIN_COL_SEQ) == 0 ||
		strcmp(name, CHAIN_COL_PREV) == 0 ||
		strcmp(name, CHAIN_COL_HASH) == 0;
}

/*
 * Check one column named by the caller: it exists, is not a chain column,
 * is not generated, and its type can be encoded.
 */
static void
chain_check_column(Relation rel, const char *name, bool is_key)
{
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber	attnum = ChainAttnum(rel, name, NULL);
	Form_pg_attribute att;
	bool		is_array;

	if (chain_is_chain_column(name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column \"%s\" of table \"%s\" cannot be a %s",
						name, RelationGetRelationName(rel),
						is_key ? "chain key column" : "hashed column"),
				 errdetail("chain_seq, prev_hash and row_hash are maintained by the hash chain itself.")));
	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						name, RelationGetRelationName(rel))));
	if (attnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("system column \"%s\" cannot be part of a hash chain", name)));
	att = TupleDescAttr(desc, attnum - 1);
	if (att->attgenerated)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("generated column \"%s\" of table \"%s\" cannot be part of a hash chain",
						name, RelationGetRelationName(rel)),
				 errdetail("Generated columns are computed after the hash is.")));
	if (is_key)
	{
		if (!ChainKeyTypeSupported(att->atttypid))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column \"%s\" of table \"%s\" has type %s, which cannot be a chain key",
							name, RelationGetRelationName(rel),
							format_type_be(att->atttypid)),
					 errhint("Use chain key columns of an integer, text, varchar, char, name, uuid, boolean, inet or cidr type.")));
	}
	else if (ChainTypeTag(att->atttypid, &is_array) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("column \"%s\" of table \"%s\" has type %s, which cannot be hashed canonically",
						name, RelationGetRelationName(rel),
						format_type_be(att->atttypid)),
				 errhint("Leave the column out of hashed_columns, or see the supported types in docs/hash-format.md.")));
}

static void
chain_check_existing(Relation rel, const char *name, Oid want)
{
	Oid			typid;

	if (ChainAttnum(rel, name, &typid) != InvalidAttrNumber && typid != want)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of table \"%s\" has type %s, but a hash chain needs %s",
						name, RelationGetRelationName(rel), format_type_be(typid),
						format_type_be(want)),
				 errhint("Rename or drop the column, or let enable_hash_chain add it.")));
}

static void
chain_spi_exec(const char *sql, int expect)
{
	int			ret = SPI_execute(sql, false, 0);

	if (ret != expect)
		elog(ERROR, "could not execute \"%s\": %s", sql, SPI_result_code_string(ret));
}

/* Is there a btree index whose leading keys are attnums[0..n-1]? */
static bool
chain_has_index(Oid relid, const AttrNumber *attnums, int n)
{
	Relation	rel = table_open(relid, NoLock);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index ind = idx->rd_index;
		int			i;

		if (idx->rd_rel->relam == BTREE_AM_OID &&
			ind->indnkeyatts >= n &&
			heap_attisnull(idx->rd_indextuple, Anum_pg_index_indpred, NULL))
		{
			for (i = 0; i < n; i++)
				if (ind->indkey.values[i] != attnums[i])
					break;
			if (i == n)
				found = true;
		}
		index_close(idx, AccessShareLock);
		if (found)
			break;
	}
	table_close(rel, NoLock);
	return found;
}

/* The expression rows of a column are ordered by when sealing. */
static void
chain_append_order_expr(StringInfo buf, const ChainColumn *col)
{
	char		t = col->tag == CHAIN_TAG_ARRAY ? col->elemtag : col->tag;

	if (t == CHAIN_TAG_JSON)
		appendStringInfo(buf, "%s::pg_catalog.text COLLATE \"C\"",
						 quote_identifier(NameStr(col->name)));
	else if (t == CHAIN_TAG_TEXT)
		appendStringInfo(buf, "%s COLLATE \"C\"", quote_identifier(NameStr(col->name)));
	else
		appendStringInfoString(buf, quote_identifier(NameStr(col->name)));
}

typedef struct ChainSealPlan
{
	Oid			relid;
	SPIPlanPtr	plan;
} ChainSealPlan;

/*
 * Seal the rows already present: per chain, in the order of the hashed
 * columns' values (see docs/ledger.md), number them from 1 and compute
 * prev_hash and row_hash.  Returns the number of rows sealed.
 */
static int64
chain_seal(Relation rel, const ChainConfig *cfg)
{
	ChainRelInfo *info = ChainRelInfoBuild(rel, cfg);
	StringInfoData sql;
	Portal		portal;
	SPIPlanPtr	plan;
	ChainSealPlan *plans = NULL;
	int			nplans = 0;
	char	   *relname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
													 RelationGetRelationName(rel));
	char	   *cur_name = NULL;
	int64		seq = 0;
	uint8		prev[CHAIN_HASH_LEN];
	int64		nrows = 0;
	MemoryContext rowcxt;
	MemoryContext chaincxt;
	Datum	   *keyvals = palloc(sizeof(Datum) * Max(info->nkeys, 1));
	bool	   *keynulls = palloc(sizeof(bool) * Max(info->nkeys, 1));
	Datum	   *vals = palloc(sizeof(Datum) * info->ncols);
	bool	   *nulls = palloc(sizeof(bool) * info->ncols);
	int			i;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT tableoid, ctid");
	for (i = 0; i < info->nkeys; i++)
		appendStringInfo(&sql, ", %s", quote_identifier(NameStr(info->keys[i].name)));
	for (i = 0; i < info->ncols; i++)
		appendStringInfo(&sql, ", %s", quote_identifier(NameStr(info->cols[i].name)));
	appendStringInfo(&sql, " FROM %s ORDER BY ", relname);
	for (i = 0; i < info->nkeys; i++)
	{
		ChainColumn kc = info->keys[i];

		chain_append_order_expr(&sql, &kc);
		appendStringInfoString(&sql, ", ");
	}
	for (i = 0; i < info->ncols; i++)
	{
		if (i > 0)
			appendStringInfoString(&sql, ", ");
		chain_append_order_expr(&sql, &info->cols[i]);
	}

	plan = SPI_prepare(sql.data, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql.data,
			 SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "wallet_ops seal row",
								   ALLOCSET_DEFAULT_SIZES);
	chaincxt = AllocSetContextCreate(CurrentMemoryContext, "wallet_ops seal chain",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		uint64		r;
		uint64		nfetched;
		SPITupleTable *fetched;

		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		nfetched = SPI_processed;
		fetched = SPI_tuptable;
		for (r = 0; r < nfetched; r++)
		{
			HeapTuple	tup = fetched->vals[r];
			TupleDesc	desc = fetched->tupdesc;
			bool		isnull;
			Oid			leaf = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
			Datum		ctid = SPI_getbinval(tup, desc, 2, &isnull);
			MemoryContext old;
			char	   *name;
			uint8		hash[CHAIN_HASH_LEN];
			SPIPlanPtr	upd = NULL;
			Datum		uvals[4];
			Oid			utypes[4] = {INT8OID, BYTEAOID, BYTEAOID, TIDOID};
			int			p;
			int			ret;

			CHECK_FOR_INTERRUPTS();
			old = MemoryContextSwitchTo(rowcxt);
			for (i = 0; i < info->nkeys; i++)
			{
				keyvals[i] = SPI_getbinval(tup, desc, 3 + i, &keynulls[i]);
				if (keynulls[i])
					ereport(ERROR,
							(errcode(ERRCODE_NOT_NULL_VIOLATION),
							 errmsg("chain key column \"%s\" of table \"%s\" is null in an existing row",
									NameStr(info->keys[i].name), RelationGetRelationName(rel)),
							 errhint("Set the key of every row before enabling the hash chain.")));
			}
			for (i = 0; i < info->ncols; i++)
				vals[i] = SPI_getbinval(tup, desc, 3 + info->nkeys + i, &nulls[i]);
			name = ChainKeyName(info, keyvals, keynulls);
			if (cur_name == NULL || strcmp(name, cur_name) != 0)
			{
				if (cur_name != NULL)
					ChainHeadsInsert(cfg->rootrelid, cur_name, seq, prev);
				MemoryContextReset(chaincxt);
				cur_name = MemoryContextStrdup(chaincxt, name);
				seq = 0;
				ChainGenesis(info, keyvals, prev);
			}
			seq++;
			ChainRowHash(info, seq, prev, vals, nulls, hash);

			for (p = 0; p < nplans; p++)
				if (plans[p].relid == leaf)
					upd = plans[p].plan;
			if (upd == NULL)
			{
				Relation	leafrel = table_open(leaf, NoLock);	/* locked with the family */
				char	   *q = psprintf("UPDATE ONLY %s SET chain_seq = $1, prev_hash = $2, row_hash = $3"
										 " WHERE ctid OPERATOR(pg_catalog.=) $4",
										 WalletOpsRelationQualifiedName(leafrel));

				table_close(leafrel, NoLock);

				upd = SPI_prepare(q, 4, utypes);
				if (upd == NULL)
					elog(ERROR, "could not prepare \"%s\"", q);
				MemoryContextSwitchTo(old);
				plans = plans ? repalloc(plans, sizeof(ChainSealPlan) * (nplans + 1))
					: palloc(sizeof(ChainSealPlan));
				plans[nplans].relid = leaf;
				plans[nplans].plan = upd;
				nplans++;
				MemoryContextSwitchTo(rowcxt);
			}
			uvals[0] = Int64GetDatum(seq);
			uvals[1] = PointerGetDatum(ChainHashBytea(prev));
			uvals[2] = PointerGetDatum(ChainHashBytea(hash));
			uvals[3] = ctid;
			ret = SPI_execute_plan(upd, uvals, NULL, false, 0);
			if (ret != SPI_OK_UPDATE || SPI_processed != 1)
				elog(ERROR, "could not seal a row of \"%s\"", RelationGetRelationName(rel));
			memcpy(prev, hash, CHAIN_HASH_LEN);
			nrows++;
			MemoryContextSwitchTo(old);
			MemoryContextReset(rowcxt);
		}
		SPI_freetuptable(fetched);
	}
	SPI_cursor_close(portal);
	if (cur_name != NULL)
		ChainHeadsInsert(cfg->rootrelid, cur_name, seq, prev);
	return nrows;
}

/*
 * wallet_ops.enable_hash_chain(tbl regclass, chain_key name[] DEFAULT '{}',
 *							   hashed_columns name[] DEFAULT NULL,
 *							   chain_index boolean DEFAULT true)
 *
 * Takes an ACCESS EXCLUSIVE lock on the table for the rest of the
 * transaction (adding columns needs it anyway).
 */
Datum
wallet_ops_enable_hash_chain(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Relation	rel;
	char	  **keys = NULL;
	int			nkeys = 0;
	char	  **cols = NULL;
	int			ncols = 0;
	char	   *qualname;
	char	   *plainname;
	StringInfoData sql;
	List	   *family;
	ListCell   *lc;
	ChainConfig cfg;
	AttrNumber *idxatts;
	int			i;
	int64		sealed;
	bool		need_seq,
				need_prev,
				need_hash;
	bool		citus;
	bool		want_index = true;
	int			guc_level = 0;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table must not be null")));
	relid = PG_GETARG_OID(0);

	/* ownership first, before taking a strong lock */
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	WalletOpsCheckGuardable(relid, "enable a hash chain on");
	if (!WalletOpsOwnsRelation(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table \"%s\" to enable a hash chain on it",
						get_rel_name(relid))));

	rel = relation_open(relid, AccessExclusiveLock);
	qualname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
										  RelationGetRelationName(rel));
	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot enable a hash chain on \"%s\"", RelationGetRelationName(rel)),
				 errdetail("Only tables and partitioned tables can be hash-chained.")));
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot enable a hash chain on temporary table \"%s\"",
						RelationGetRelationName(rel))));

	/* not already chained, neither itself nor a partition or an ancestor */
	family = find_all_inheritors(relid, AccessShareLock, NULL);
	if (rel->rd_rel->relispartition)
		family = list_concat(family, get_partition_ancestors(relid));
	foreach(lc, family)
	{
		Oid			other = lfirst_oid(lc);

		if (ChainIsChained(other))
		{
			if (other == relid)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_OBJECT),
						 errmsg("table \"%s\" is already hash-chained",
								RelationGetRelationName(rel))));
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("cannot enable a hash chain on \"%s\" because its partition hierarchy member \"%s\" is already hash-chained",
							RelationGetRelationName(rel), get_rel_name(other))));
		}
	}

	/* a BEFORE INSERT trigger firing after the chain's could rewrite rows */
	ChainCheckNoLateTriggers(relid);

	/* retention would drop the start of its chains (see manage_partitions) */
	if (PartitionsHaveRetention(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot enable a hash chain on \"%s\" because its partitions are managed with a retention",
						RelationGetRelationName(rel)),
				 errdetail("Removing old partitions would remove the first rows of its hash chains."),
				 errhint("Call wallet_ops.unmanage_partitions() and manage them again without a retention first.")));

	/* the arguments (1.0.0's declaration has no chain_index) */
	if (PG_NARGS() > 3)
	{
		if (PG_ARGISNULL(3))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("chain_index must not be null")));
		want_index = PG_GETARG_BOOL(3);
	}
	if (!PG_ARGISNULL(1))
		keys = chain_arg_names(PG_GETARG_ARRAYTYPE_P(1), &nkeys, "chain_key");
	for (i = 0; i < nkeys; i++)
		chain_check_column(rel, keys[i], true);

	if (!PG_ARGISNULL(2))
	{
		cols = chain_arg_names(PG_GETARG_ARRAYTYPE_P(2), &ncols, "hashed_columns");
		for (i = 0; i < ncols; i++)
			chain_check_column(rel, cols[i], false);
	}
	else
	{
		TupleDesc	desc = RelationGetDescr(rel);

		cols = palloc(sizeof(char *) * (desc->natts + 1));
		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (att->attisdropped || att->attgenerated ||
				chain_is_chain_column(NameStr(att->attname)))
				continue;
			chain_check_column(rel, NameStr(att->attname), false);
			cols[ncols++] = pstrdup(NameStr(att->attname));
		}
	}
	if (ncols == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hashed_columns of table \"%s\" must name at least one column",
						RelationGetRelationName(rel))));

	chain_check_existing(rel, CHAIN_COL_SEQ, INT8OID);
	chain_check_existing(rel, CHAIN_COL_PREV, BYTEAOID);
	chain_check_existing(rel, CHAIN_COL_HASH, BYTEAOID);
	need_seq = ChainAttnum(rel, CHAIN_COL_SEQ, NULL) == InvalidAttrNumber;
	need_prev = ChainAttnum(rel, CHAIN_COL_PREV, NULL) == InvalidAttrNumber;
	need_hash = ChainAttnum(rel, CHAIN_COL_HASH, NULL) == InvalidAttrNumber;

	/* on Citus: distributed by a chain key column, and empty */
	plainname = pstrdup(RelationGetRelationName(rel));
	citus = ChainCitusIsCitusTable(relid);
	if (citus)
		ChainCitusCheckEnable(relid, keys, nkeys);

	/* ---- everything checked: change things ---- */
	relation_close(rel, NoLock);	/* ALTER TABLE refuses a table in use */

	/*
	 * Citus refuses triggers on distributed tables unless told that the
	 * caller knows what they do: the chain's trigger touches nothing but
	 * the shard it fires on and the heads beside it (docs/citus.md).
	 */
	if (citus)
		guc_level = CitusMetaAllowTriggers();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	initStringInfo(&sql);

	if (need_seq || need_prev || need_hash)
	{
		appendStringInfo(&sql, "ALTER TABLE %s", qualname);
		if (need_seq)
			appendStringInfoString(&sql, " ADD COLUMN chain_seq pg_catalog.int8,");
		if (need_prev)
			appendStringInfoString(&sql, " ADD COLUMN prev_hash pg_catalog.bytea,");
		if (need_hash)
			appendStringInfoString(&sql, " ADD COLUMN row_hash pg_catalog.bytea,");
		sql.data[--sql.len] = '\0';
		chain_spi_exec(sql.data, SPI_OK_UTILITY);
	}

	/*
	 * The index that finds a chain's rows in order, unless the caller
	 * declines it: verification reads the table sequentially and does not
	 * need it, and an index entry per row is a large part of a chained insert's cost; what
	 * reads one chain (verify_chain of one chain, chain proofs, the commit
	 * check of ON CONFLICT inserts) then reads the table instead.
	 */
	idxatts = palloc(sizeof(AttrNumber) * (nkeys + 1));
	for (i = 0; i < nkeys; i++)
		idxatts[i] = ChainAttnum(rel, keys[i], NULL);
	idxatts[nkeys] = ChainAttnum(rel, CHAIN_COL_SEQ, NULL);
	if (want_index && !chain_has_index(relid, idxatts, nkeys + 1))
	{
		resetStringInfo(&sql);
		appendStringInfo(&sql, "CREATE INDEX ON %s USING btree (", qualname);
		for (i = 0; i < nkeys; i++)
			appendStringInfo(&sql, "%s, ", quote_identifier(keys[i]));
		appendStringInfoString(&sql, "chain_seq)");
		chain_spi_exec(sql.data, SPI_OK_UTILITY);
	}

	/* the configuration */
	cfg.rootrelid = relid;
	cfg.nkeys = nkeys;
	cfg.keys = keys;
	cfg.ncols = ncols;
	cfg.cols = cols;
	cfg.format_version = CHAIN_FORMAT_VERSION;
	ChainConfigInsert(&cfg);

	/* seal the rows already there */
	rel = relation_open(relid, NoLock);
	sealed = chain_seal(rel, &cfg);
	relation_close(rel, NoLock);

	/*
	 * The trigger; on a partitioned table it is cloned to every partition.
	 * Its arguments copy the configuration for the shards Citus makes of
	 * the table (chain_citus.c); elsewhere wallet_ops.hash_chains rules.
	 */
	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TRIGGER " CHAIN_TRIGGER_NAME " BEFORE INSERT ON %s"
					 " FOR EACH ROW EXECUTE FUNCTION wallet_ops._chain_before_insert(",
					 qualname);
	ChainCitusTriggerArgs(&sql, &cfg);
	appendStringInfoChar(&sql, ')');
	chain_spi_exec(sql.data, SPI_OK_UTILITY);

	SPI_finish();

	/* A hash-chained table is append-only as well. */
	AppendOnlyProtect(relid);
	if (citus)
		AtEOXact_GUC(true, guc_level);

	if (sealed > 0)
		ereport(NOTICE,
				(errmsg("sealed " INT64_FORMAT " existing rows of \"%s\" into hash chains",
						sealed, plainname)));
	PG_RETURN_VOID();
}
