/*-------------------------------------------------------------------------
 *
 * chain_citus.c
 *		Hash-chained tables distributed with Citus.
 *
 * A chain per entity lives on the one shard that stores the entity's rows
 * when the table is hash-distributed by a column of its chain key.  Citus
 * copies the chain trigger, with its arguments, onto every shard it creates
 * (when the table is distributed, and when shards are split or moved), so
 * the trigger carries a copy of the table's configuration in its arguments:
 * on a shard (eh_102009) that is not itself in wallet_ops.hash_chains, the
 * trigger reads its configuration from there, after checking in Citus's
 * metadata on that node (pg_dist_shard, pg_dist_partition) that the
 * relation is a shard of a hash-distributed table whose distribution column
 * is one of the chain key columns.  The shard is its own chained root: its
 * chain heads live beside it, in the node's wallet_ops.chain_heads.
 *
 * Citus is detected at run time through its catalog tables; no Citus
 * header is needed, and without Citus none of this does anything.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_citus.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "miscadmin.h"

#include "chain_citus.h"
#include "chain_config.h"
#include "chain_hash.h"
#include "citus_meta.h"
#include "common.h"

bool
ChainCitusIsCitusTable(Oid relid)
{
	CitusTableInfo ti;

	return CitusMetaTableInfo(relid, &ti);
}

/*
 * ERROR unless a Citus table described by ti, named relname, can hold hash
 * chains with these key columns.
 */
static void
citus_check_layout(const CitusTableInfo *ti, const char *relname,
				   char **keys, int nkeys)
{
	int			i;

	if (ti->partmethod == 'n' && ti->repmodel == 't')
		ereport(ERROR,
				(errcode(ERRCODE_WALLET_OPS_CHAIN_ON_REFERENCE_TABLE),
				 errmsg("cannot hash-chain reference table \"%s\"", relname),
				 errdetail("A reference table has a copy on every node; each copy would chain its rows on its own."),
				 errhint("Chain a table distributed with create_distributed_table() by a chain key column, or undo the reference table with undistribute_table().")));
	if (ti->partmethod != 'h' || ti->distcol == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot hash-chain Citus table \"%s\"", relname),
				 errdetail("Only tables hash-distributed by a chain key column can be hash-chained on Citus."),
				 errhint("Distribute the table with create_distributed_table() by a chain key column, or undo it with undistribute_table().")));
	for (i = 0; i < nkeys; i++)
	{
		if (strcmp(keys[i], ti->distcol) == 0)
			return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_WALLET_OPS_CHAIN_SPLIT_BY_DISTRIBUTION),
			 errmsg("cannot hash-chain table \"%s\" distributed by column \"%s\"",
					relname, ti->distcol),
			 errdetail("Column \"%s\" is not a chain key column, so the rows of one chain would be stored on several shards.",
					   ti->distcol),
			 errhint("Distribute the table by a chain key column: undistribute_table(), then create_distributed_table() with one of the chain key columns.")));
}

void
ChainCitusCheckEnable(Oid relid, char **keys, int nkeys)
{
	CitusTableInfo ti;
	char	   *relname = get_rel_name(relid);
	char	   *qualname;
	char	   *sql;
	int			ret;
	bool		isnull;

	if (!CitusMetaTableInfo(relid, &ti))
		return;
	citus_check_layout(&ti, relname, keys, nkeys);

	/*
	 * The rows on the shards would have to be sealed on their shards; the
	 * coordinator's table is an empty shell.
	 */
	qualname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
										  relname);
	sql = psprintf("SELECT EXISTS (SELECT 1 FROM %s)", qualname);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(sql, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not count the rows of \"%s\": %s", relname,
			 SPI_result_code_string(ret));
	if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot enable a hash chain on distributed table \"%s\" because it has rows",
						relname),
				 errdetail("Rows already on the shards would not be sealed into hash chains."),
				 errhint("Chain the table while it is empty, or chain it before create_distributed_table(): its rows are then sealed on this node first.")));
	SPI_finish();
}

void
ChainCitusTriggerArgs(StringInfo buf, const ChainConfig *cfg)
{
	int			i;

	appendStringInfo(buf, "'%d', '%d'", cfg->format_version, cfg->nkeys);
	for (i = 0; i < cfg->nkeys; i++)
		appendStringInfo(buf, ", %s", quote_literal_cstr(cfg->keys[i]));
	for (i = 0; i < cfg->ncols; i++)
		appendStringInfo(buf, ", %s", quote_literal_cstr(cfg->cols[i]));
}

/* The chain trigger of rel (or Citus's copy of it on a shard), NULL if none. */
static const Trigger *
chain_trigger_of(Relation rel)
{
	TriggerDesc *td = rel->trigdesc;
	int			i;

	if (td == NULL)
		return NULL;
	for (i = 0; i < td->numtriggers; i++)
	{
		if (CitusMetaTriggerNameIs(td->triggers[i].tgname, CHAIN_TRIGGER_NAME, rel))
			return &td->triggers[i];
	}
	return NULL;
}

bool
ChainShardConfigLoad(Relation rel, ChainConfig *cfg)
{
	const char *relname = RelationGetRelationName(rel);
	const Trigger *trig = chain_trigger_of(rel);
	Oid			logical;
	bool		unknown;
	CitusTableInfo ti;
	int			nkeys;
	int			i;

	if (trig == NULL || trig->tgnargs < 3)
		return false;
	logical = CitusMetaShardTable(rel, &unknown);

	/*
	 * A shard Citus is filling before its metadata reached this node:
	 * create_distributed_table() copying the rows of a chained table.
	 * Chaining them again here would renumber rows already sealed, and
	 * leave the sealed copy and its heads behind on the coordinator.
	 */
	if (unknown)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot distribute a hash-chained table that has rows"),
				 errdetail("Rows were being copied into shard \"%s\", which Citus's metadata on this node does not know yet.",
						   relname),
				 errhint("Distribute a hash-chained table while it is empty, then insert its rows through the coordinator.")));
	if (!OidIsValid(logical))
		return false;
	if (!CitusMetaTableInfo(logical, &ti))
		return false;

	cfg->format_version = pg_strtoint32(trig->tgargs[0]);
	nkeys = pg_strtoint32(trig->tgargs[1]);
	if (nkeys < 0 || trig->tgnargs - 2 - nkeys < 1)
		elog(ERROR, "chain trigger of \"%s\" has malformed arguments", relname);
	cfg->rootrelid = RelationGetRelid(rel);
	cfg->nkeys = nkeys;
	cfg->keys = palloc(sizeof(char *) * (nkeys + 1));
	for (i = 0; i < nkeys; i++)
		cfg->keys[i] = pstrdup(trig->tgargs[2 + i]);
	cfg->ncols = trig->tgnargs - 2 - nkeys;
	cfg->cols = palloc(sizeof(char *) * cfg->ncols);
	for (i = 0; i < cfg->ncols; i++)
		cfg->cols[i] = pstrdup(trig->tgargs[2 + nkeys + i]);

	citus_check_layout(&ti, get_rel_name(logical), cfg->keys, cfg->nkeys);
	if (cfg->format_version != CHAIN_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("hash chain of table \"%s\" uses format version %d, which this version of wallet_ops does not support",
						get_rel_name(logical), cfg->format_version)));
	return true;
}

/*
 * Run cmd on every shard of relid at once, through Citus's
 * run_command_on_shards(), which puts each shard's name into cmd with
 * format() (%L: as a literal).  Returns the shards' answers as a text[]
 * allocated in the caller's SPI connection.  ERROR (08006) when a shard
 * did not answer: "what" says what was then not done.
 */
static Datum
citus_on_shards(Oid relid, const char *cmd, const char *what)
{
	Oid			argtypes[2] = {OIDOID, TEXTOID};
	Datum		values[2];
	Datum	   *results;
	int			nresults = 0;
	int			ret;
	uint64		i;

	values[0] = ObjectIdGetDatum(relid);
	values[1] = CStringGetTextDatum(cmd);
	ret = SPI_execute_with_args("SELECT shardid, success, result"
								"  FROM pg_catalog.run_command_on_shards($1::pg_catalog.regclass, $2)",
								2, argtypes, values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not run a command on the shards of \"%s\": %s",
			 get_rel_name(relid), SPI_result_code_string(ret));
	results = palloc(sizeof(Datum) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		bool		success = DatumGetBool(SPI_getbinval(tup, td, 2, &isnull));
		char	   *result = SPI_getvalue(tup, td, 3);

		if (isnull || !success)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not %s shard %s of table \"%s\"", what,
							SPI_getvalue(tup, td, 1), get_rel_name(relid)),
					 errdetail("The shard answered: %s", result ? result : "nothing"),
					 errhint("Nothing was done; call the function again when every node answers.")));
		results[nresults++] = CStringGetTextDatum(result);
	}
	return PointerGetDatum(construct_array(results, nresults, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Append lit to buf, each % doubled for format(). */
static void
append_for_format(StringInfo buf, const char *lit)
{
	const char *c;

	for (c = lit; *c; c++)
	{
		if (*c == '%')
			appendStringInfoChar(buf, '%');
		appendStringInfoChar(buf, *c);
	}
}

/*
 * Runs cmd, which answers a shard's problems as one JSON array, on every
 * shard of relid at once, and leaves the problems of all of them in
 * SPI_tuptable as (chain_key, chain_seq, problem, detail), merged in chain
 * and row order; returns how many.  Caller is connected to SPI.
 *
 * Against a digest (digest), every shard reports each attested chain it
 * does not hold, as having no rows (verify_against_digest) or no recorded
 * head (verify_since_digest): such a report counts only when every shard
 * makes it (the chain is nowhere).  The digest's own checks (signature,
 * Merkle root; no chain) were done on this node, so the shards' are
 * dropped.
 */
static uint64
citus_merged_problems(Oid relid, const char *cmd, bool digest)
{
	Oid			argtypes[3] = {TEXTARRAYOID, INT4OID, BOOLOID};
	Datum		values[3];
	ArrayType  *answers;
	int			ret;

	values[0] = citus_on_shards(relid, cmd, "verify");
	answers = DatumGetArrayTypeP(values[0]);
	values[1] = Int32GetDatum(ArrayGetNItems(ARR_NDIM(answers), ARR_DIMS(answers)));
	values[2] = BoolGetDatum(digest);
	ret = SPI_execute_with_args("SELECT p.chain_key, p.chain_seq, p.problem, p.detail"
								"  FROM pg_catalog.unnest($1) WITH ORDINALITY r(j, shard),"
								"       pg_catalog.json_to_recordset(r.j::pg_catalog.json)"
								"         AS p(chain_key pg_catalog.text, chain_seq pg_catalog.int8,"
								"              problem pg_catalog.text, detail pg_catalog.text)"
								" GROUP BY 1, 2, 3, 4"
								" HAVING NOT $3 OR (p.chain_key IS NOT NULL AND"
								"        ((p.detail NOT LIKE '%, but the chain has no rows'"
								"          AND p.detail NOT LIKE '% has no recorded head any more')"
								"         OR pg_catalog.count(DISTINCT r.shard) = $2))"
								" ORDER BY 1, 2, 3",
								3, argtypes, values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not merge the shards' problems: %s", SPI_result_code_string(ret));
	return SPI_processed;
}

void
ChainCitusVerify(Oid relid, const char *chain_value, const char *digest,
				 Tuplestorestate *store, TupleDesc desc)
{
	StringInfoData cmd;
	uint64		n;
	uint64		i;

	/* each shard answers with its problems as one JSON array */
	initStringInfo(&cmd);
	appendStringInfoString(&cmd, "SELECT COALESCE(pg_catalog.json_agg(v), '[]'::pg_catalog.json)");
	if (digest != NULL)
	{
		appendStringInfoString(&cmd, " FROM wallet_ops.verify_against_digest(%L, ");
		append_for_format(&cmd, quote_literal_cstr(digest));
		appendStringInfoString(&cmd, "::pg_catalog.jsonb) v");
	}
	else
	{
		appendStringInfoString(&cmd, " FROM wallet_ops.verify_chain(%L");
		if (chain_value != NULL)
		{
			appendStringInfoString(&cmd, ", ");
			append_for_format(&cmd, quote_literal_cstr(chain_value));
		}
		appendStringInfoString(&cmd, ") v");
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = citus_merged_problems(relid, cmd.data, digest != NULL);
	for (i = 0; i < n; i++)
	{
		Datum		out[4];
		bool		nulls[4];
		int			j;

		for (j = 0; j < 4; j++)
			out[j] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, j + 1, &nulls[j]);
		tuplestore_putvalues(store, desc, out, nulls);
	}
	SPI_finish();
}

void
ChainCitusVerifySince(Oid relid, const char *digest, ChainProblemVisit visit,
					  void *arg)
{
	StringInfoData cmd;
	uint64		n;
	uint64		i;

	initStringInfo(&cmd);
	appendStringInfoString(&cmd, "SELECT COALESCE(pg_catalog.json_agg(v), '[]'::pg_catalog.json)"
						   " FROM wallet_ops.verify_since_digest(%L, ");
	append_for_format(&cmd, quote_literal_cstr(digest));
	appendStringInfoString(&cmd, "::pg_catalog.jsonb) v");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = citus_merged_problems(relid, cmd.data, true);
	for (i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		seqnull;
		Datum		seq = SPI_getbinval(tup, td, 2, &seqnull);

		visit(SPI_getvalue(tup, td, 1), seqnull ? 0 : DatumGetInt64(seq), seqnull,
			  SPI_getvalue(tup, td, 3), SPI_getvalue(tup, td, 4), arg);
	}
	SPI_finish();
}

void
ChainCitusShardHeads(Oid relid, ChainHeadsVisit visit, void *arg)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];
	int			ret;
	uint64		i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = citus_on_shards(relid, "SELECT wallet_ops.chain_digest(%L)", "take the heads of");

	/* every shard's chains, in the byte order of their UTF-8 names */
	ret = SPI_execute_with_args("SELECT c->>'chain_key', (c->>'last_seq')::pg_catalog.int8, c->>'head_hash'"
								"  FROM pg_catalog.unnest($1) r,"
								"       pg_catalog.jsonb_array_elements(r::pg_catalog.jsonb -> 'chains') c"
								" ORDER BY pg_catalog.convert_to(c->>'chain_key', 'UTF8')",
								1, argtypes, values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not merge the shards' heads: %s", SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		char	   *name = SPI_getvalue(tup, td, 1);
		char	   *seq = SPI_getvalue(tup, td, 2);
		char	   *hex = SPI_getvalue(tup, td, 3);
		uint8		hash[CHAIN_HASH_LEN];
		MemoryContext old;

		if (name == NULL || seq == NULL || hex == NULL ||
			!ChainHexDecode(hex, strlen(hex), hash))
			elog(ERROR, "a shard of \"%s\" answered a malformed digest", get_rel_name(relid));
		old = MemoryContextSwitchTo(caller);
		visit(name, strtoi64(seq, NULL, 10), hash, arg);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
}

/* ChainHeadsVisit: the chain has a recorded head. */
static void
head_found(const char *name, int64 seq, const uint8 *hash, void *arg)
{
	*(bool *) arg = true;
}

/*
 * On one shard: record, for every chain with rows and no recorded head,
 * its last row as its head.  Returns how many it recorded.  Caller holds a
 * lock on rel that keeps inserts out.
 */
static int64
recover_shard(Relation rel, const ChainConfig *cfg)
{
	ChainRelInfo *info = ChainRelInfoBuild(rel, cfg);
	Oid			relid = RelationGetRelid(rel);
	StringInfoData sql;
	StringInfoData keys;
	char	   *qualname;
	SPITupleTable *tt;
	uint64		n;
	uint64		r;
	int64		recorded = 0;
	int			i;
	int			ret;

	initStringInfo(&keys);
	for (i = 0; i < info->nkeys; i++)
		appendStringInfo(&keys, "%s%s", i > 0 ? ", " : "",
						 quote_identifier(NameStr(info->keys[i].name)));
	/* the last row of every chain: its key values, chain_seq, row_hash */
	qualname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
										  RelationGetRelationName(rel));
	initStringInfo(&sql);
	if (info->nkeys > 0)
		appendStringInfo(&sql, "SELECT DISTINCT ON (%s) %s, chain_seq, row_hash FROM %s"
						 " WHERE chain_seq IS NOT NULL ORDER BY %s, chain_seq DESC",
						 keys.data, keys.data, qualname, keys.data);
	else
		appendStringInfo(&sql, "SELECT chain_seq, row_hash FROM %s"
						 " WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1",
						 qualname);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(sql.data, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the last rows of \"%s\": %s",
			 RelationGetRelationName(rel), SPI_result_code_string(ret));
	tt = SPI_tuptable;
	n = SPI_processed;
	for (r = 0; r < n; r++)
	{
		Datum	   *keyvals = palloc(sizeof(Datum) * Max(info->nkeys, 1));
		bool	   *keynulls = palloc(sizeof(bool) * Max(info->nkeys, 1));
		bool		seqnull,
					hashnull,
					found = false;
		Datum		seq;
		Datum		hash;
		char	   *name;

		for (i = 0; i < info->nkeys; i++)
			keyvals[i] = SPI_getbinval(tt->vals[r], tt->tupdesc, i + 1, &keynulls[i]);
		seq = SPI_getbinval(tt->vals[r], tt->tupdesc, info->nkeys + 1, &seqnull);
		hash = SPI_getbinval(tt->vals[r], tt->tupdesc, info->nkeys + 2, &hashnull);
		if (seqnull || hashnull ||
			VARSIZE_ANY_EXHDR(DatumGetByteaPP(hash)) != CHAIN_HASH_LEN)
			continue;			/* verify_chain reports such a row */
		name = ChainKeyName(info, keyvals, keynulls);
		ChainHeadsForEach(relid, name, false, head_found, &found);
		if (found)
			continue;
		ChainHeadsInsert(relid, name, DatumGetInt64(seq),
						 (const uint8 *) VARDATA_ANY(DatumGetByteaPP(hash)));
		recorded++;
	}
	SPI_finish();
	return recorded;
}

PG_FUNCTION_INFO_V1(wallet_ops_recover_shard_heads);

/*
 * wallet_ops.recover_shard_heads(tbl regclass) RETURNS bigint
 *
 * After Citus moved or split shards of a chained distributed table: on
 * every shard, the chains that have rows but no recorded head (the heads
 * stayed on the node the shard came from) get their last row as head.
 * On the coordinator, for the distributed table, it runs on every shard at
 * once; on a worker, for one shard.  Takes an EXCLUSIVE lock on each shard
 * (inserts wait).  Returns the number of heads recorded.
 */
Datum
wallet_ops_recover_shard_heads(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Relation	rel;
	ChainConfig cfg;
	int64		recorded = 0;

	rel = WalletOpsRelationOpen(relid, AccessShareLock);
	if (!WalletOpsOwnsRelation(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table \"%s\" to recover its chain heads",
						RelationGetRelationName(rel))));
	if (ChainCitusIsCitusTable(relid))
	{
		Datum		answers;
		Oid			argtypes[1] = {TEXTARRAYOID};
		bool		isnull;
		int			ret;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		answers = citus_on_shards(relid, "SELECT wallet_ops.recover_shard_heads(%L)",
								  "recover the heads of");
		ret = SPI_execute_with_args("SELECT COALESCE(pg_catalog.sum(r::pg_catalog.int8), 0)::pg_catalog.int8"
									"  FROM pg_catalog.unnest($1) r",
									1, argtypes, &answers, NULL, true, 1);
		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not add up the shards' answers: %s", SPI_result_code_string(ret));
		recorded = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		SPI_finish();
	}
	else
	{
		if (!ChainShardConfigLoad(rel, &cfg))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"%s\" is neither a hash-chained distributed table nor one of its shards",
							RelationGetRelationName(rel)),
					 errhint("Call it on the coordinator with the distributed table.")));
		LockRelationOid(relid, ExclusiveLock);
		recorded = recover_shard(rel, &cfg);
	}
	relation_close(rel, NoLock);
	PG_RETURN_INT64(recorded);
}
