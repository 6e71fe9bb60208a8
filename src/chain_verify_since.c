/*-------------------------------------------------------------------------
 *
 * chain_verify_since.c
 *		Incremental verification of a hash chain from a digest.
 *
 * verify_since_digest(tbl, digest) verifies only what was added to a
 * hash-chained table since a digest (wallet_ops.chain_digest) was taken.
 * The digest's heads are compared with wallet_ops.chain_heads (and this
 * transaction's own inserts); only chains whose head moved, and chains the
 * digest did not know, are read.  Their new rows (chain_seq past the
 * attested one) are found where an append-only heap puts them, at its end:
 * each leaf is read backwards from its last block, newest leaf first,
 * until every changed chain has all its rows up to its recorded head or
 * TAIL_IDLE_PAGES blocks in a row brought none; the chains still lacking
 * rows are then read through the leaf's (key, chain_seq) index, skipping
 * the blocks already read.  Each new row must hash right, the first must
 * link to the attested head hash (or to the genesis of a new chain), each
 * later one to the one before it, with no gap or duplicate, and the last
 * must be the recorded head.  The cost is one comparison per chain plus
 * the rows added; chains whose head did not move are not read, so a row
 * changed in place before the digest is found by the next full
 * verification only (docs/operations.md).  Read-only: it runs on a hot
 * standby.
 *
 * Problems go to a ProblemSink: the result of verify_since_digest(), or
 * the recorded runs of scheduled_verify.c.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_verify_since.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "utils/fmgroids.h"
#include "executor/tuptable.h"
#include "catalog/pg_index.h"
#include "catalog/pg_am.h"
#include "access/nbtree.h"
#include "access/htup_details.h"
#include "access/genam.h"
#include "access/table.h"
#include "access/heapam.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "common/hashfn.h"
#include "utils/numeric.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "chain_citus.h"
#include "chain_config.h"
#include "chain_hash.h"
#include "chain_heads.h"
#include "chain_trigger.h"
#include "chain_verify.h"
#include "chain_verify_since.h"
#include "common.h"

PG_FUNCTION_INFO_V1(wallet_ops_verify_since_digest);

#define PROGRESS_EVERY	10000
/* A chain to read rows of, with what is known of it. */
typedef struct SinceChain
{
	char	   *name;
	bool		attested;
	int64		att_seq;
	uint8		att_hash[CHAIN_HASH_LEN];
	bool		has_head;
	int64		head_seq;
	uint8		head_hash[CHAIN_HASH_LEN];
} SinceChain;

/* A new row read: enough to check links once the chain is complete. */
typedef struct SinceRow
{
	int64		seq;
	uint8		prev[CHAIN_HASH_LEN];
	uint8		hash[CHAIN_HASH_LEN];
} SinceRow;

static List *since_leaves(Relation rel);
static int	since_oid_desc(const ListCell *a, const ListCell *b);
static int	since_row_cmp(const void *a, const void *b);
static char *since_rows_sql(Oid leafid, ChainRelInfo *info);
static void since_shard_problem(const char *chain, int64 seq, bool seq_null,
								const char *problem, const char *detail, void *arg);

/*
 * One problem into sink: into its tuplestore if any, and among the first
 * PROBLEMS_QUOTED quoted in logs.
 */
void
ProblemSinkEmit(ProblemSink *sink, const char *chain, int64 seq, bool seq_null,
		  const char *problem, const char *detail)
{
	if (sink->tupstore)
		ChainProblemPut(sink->tupstore, sink->tupdesc, chain, seq, seq_null,
						problem, detail);
	if (sink->count < PROBLEMS_QUOTED)
	{
		MemoryContext old = MemoryContextSwitchTo(sink->cxt ? sink->cxt : TopTransactionContext);

		if (sink->first.data == NULL)
			initStringInfo(&sink->first);
		if (sink->first.len > 0)
			appendStringInfoString(&sink->first, "; ");
		appendStringInfo(&sink->first, "%s in chain \"%s\"", problem, chain ? chain : "(none)");
		if (!seq_null)
			appendStringInfo(&sink->first, " at chain_seq " INT64_FORMAT, seq);
		if (detail)
			appendStringInfo(&sink->first, ": %s", detail);
		MemoryContextSwitchTo(old);
	}
	sink->count++;
}


/*
 * The query reading, for chains named $1 from chain_seq $2 on (arrays in
 * the same order), chain number, chain_seq, prev_hash, row_hash, the key
 * columns and the hashed columns, in chain and chain_seq order.  A chain's
 * name is its key's text (one column) or a JSON array of texts (several).
 */
static char *
since_rows_sql(Oid leafid, ChainRelInfo *info)
{
	StringInfoData sql;
	Relation	leaf = table_open(leafid, NoLock);	/* since_leaves() locked it */
	char	   *qualname = WalletOpsRelationQualifiedName(leaf);
	int			i;

	table_close(leaf, NoLock);

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT c.n, t.chain_seq, t.prev_hash, t.row_hash");
	for (i = 0; i < info->nkeys; i++)
		appendStringInfo(&sql, ", t.%s", quote_identifier(NameStr(info->keys[i].name)));
	for (i = 0; i < info->ncols; i++)
		appendStringInfo(&sql, ", t.%s", quote_identifier(NameStr(info->cols[i].name)));
	appendStringInfoString(&sql,
						   " FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]),"
						   " pg_catalog.unnest($2::pg_catalog.int8[])) WITH ORDINALITY AS c(k, s, n)"
						   " CROSS JOIN LATERAL (SELECT * FROM ONLY ");
	appendStringInfoString(&sql, qualname);
	appendStringInfoString(&sql, " x WHERE x.chain_seq OPERATOR(pg_catalog.>=) c.s"
						   " AND x.ctid OPERATOR(pg_catalog.<) $3");
	for (i = 0; i < info->nkeys; i++)
	{
		char	   *type = format_type_be_qualified(info->keys[i].typid);

		if (info->nkeys == 1)
			appendStringInfo(&sql, " AND x.%s OPERATOR(pg_catalog.=) CAST(c.k AS %s)",
							 quote_identifier(NameStr(info->keys[i].name)), type);
		else
			appendStringInfo(&sql, " AND x.%s OPERATOR(pg_catalog.=) CAST((c.k::pg_catalog.json OPERATOR(pg_catalog.->>) %d) AS %s)",
							 quote_identifier(NameStr(info->keys[i].name)), i, type);
	}
	appendStringInfoString(&sql, ") t");
	return sql.data;
}

/*
 * The leaves of rel that hold rows, newest first (partitions are usually
 * created in time order, and new rows land in the newest ones).
 */
static List *
since_leaves(Relation rel)
{
	List	   *all;
	List	   *leaves = NIL;
	ListCell   *lc;

	if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		return list_make1_oid(RelationGetRelid(rel));
	all = find_all_inheritors(RelationGetRelid(rel), AccessShareLock, NULL);
	foreach(lc, all)
	{
		Oid			oid = lfirst_oid(lc);
		Relation	leaf;

		if (get_rel_relkind(oid) != RELKIND_RELATION)
			continue;
		leaf = table_open(oid, AccessShareLock);
		if (RelationGetNumberOfBlocks(leaf) > 0)
			leaves = lappend_oid(leaves, oid);
		table_close(leaf, NoLock);
	}
	list_sort(leaves, since_oid_desc);
	return leaves;
}

static int
since_oid_desc(const ListCell *a, const ListCell *b)
{
	Oid			x = lfirst_oid(a);
	Oid			y = lfirst_oid(b);

	return x < y ? 1 : (x > y ? -1 : 0);
}

static int
since_row_cmp(const void *a, const void *b)
{
	const SinceRow *x = a;
	const SinceRow *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return memcmp(x->hash, y->hash, CHAIN_HASH_LEN);
}

/* What verify_since knows while it reads rows. */
typedef struct SinceState
{
	SinceChain *chains;
	ChainRelInfo *info;			/* of the root */
	ProblemSink *sink;
	MemoryContext sink_cxt;		/* where rows_of live */
	MemoryContext rowcxt;		/* reset per row */
	int64	   *remaining;		/* rows up to the head not yet seen */
	SinceRow  **rows_of;
	int		   *nrows_of;
	int		   *maxrows_of;
	bool	   *genesis_done;
	uint8	   *genesis;
	char	   *relname;
	int64		expected_rows;
	int64		rows;
	int			incomplete;		/* chains with remaining > 0 */
	HTAB	   *byname;			/* chain name -> index, for tail scans */
} SinceState;

/* An entry of SinceState.byname. */
typedef struct SinceName
{
	char	   *name;			/* hash key */
	int			n;
} SinceName;

/*
 * One row of chain n: checks its hash now and keeps (seq, prev, hash) for
 * the link check.  info describes the columns of colvals (and keyvals).
 */
static void
since_take_row(SinceState *st, ChainRelInfo *info, int n,
			   Datum seqd, bool seqnull, Datum prevd, bool prevnull,
			   Datum hashd, bool hashnull,
			   Datum *keyvals, Datum *colvals, bool *colnulls)
{
	SinceChain *c = &st->chains[n];
	SinceRow   *row;
	uint8		computed[CHAIN_HASH_LEN];

	CHECK_FOR_INTERRUPTS();
	st->rows++;
	if (seqnull)
		return;					/* not reached: chain_seq >= bound */
	if (!c->attested && !st->genesis_done[n])
	{
		ChainGenesis(info, keyvals, st->genesis + CHAIN_HASH_LEN * n);
		st->genesis_done[n] = true;
	}
	if (st->nrows_of[n] == st->maxrows_of[n])
	{
		st->maxrows_of[n] = Max(8, st->maxrows_of[n] * 2);
		st->rows_of[n] = st->rows_of[n] ?
			repalloc(st->rows_of[n], sizeof(SinceRow) * st->maxrows_of[n]) :
			MemoryContextAlloc(st->sink_cxt, sizeof(SinceRow) * st->maxrows_of[n]);
	}
	row = &st->rows_of[n][st->nrows_of[n]];
	row->seq = DatumGetInt64(seqd);
	if (!ChainHashFromDatum(prevd, prevnull, row->prev) ||
		!ChainHashFromDatum(hashd, hashnull, row->hash))
	{
		ProblemSinkEmit(st->sink, c->name, row->seq, false, "unhashed_row",
				  "the row was not hashed by the chain trigger: prev_hash or row_hash is not a 32-byte hash");
		return;
	}
	ChainRowHash(info, row->seq, row->prev, colvals, colnulls, computed);
	if (memcmp(computed, row->hash, CHAIN_HASH_LEN) != 0)
		ProblemSinkEmit(st->sink, c->name, row->seq, false, "hash_mismatch",
				  psprintf("stored row_hash %s, computed %s",
						   ChainHex(row->hash, CHAIN_HASH_LEN),
						   ChainHex(computed, CHAIN_HASH_LEN)));
	st->nrows_of[n]++;
	if (row->seq <= c->head_seq && st->remaining[n] > 0 && --st->remaining[n] == 0)
		st->incomplete--;
	if (st->rows % PROGRESS_EVERY == 0)
	{
		char		progress[256];

		snprintf(progress, sizeof(progress),
				 "wallet_ops: verifying %s since digest, " INT64_FORMAT " of " INT64_FORMAT " new rows",
				 st->relname, st->rows, st->expected_rows);
		pgstat_report_activity(STATE_RUNNING, progress);
	}
}

/*
 * Reads one leaf backwards from its last block, taking the rows of chains
 * that still lack rows, and stops when no chain lacks rows or after
 * TAIL_IDLE_PAGES blocks in a row without any: an append-only heap keeps
 * its new rows at its end.  Returns the lowest block read in full (rows in
 * blocks from there on must not be taken again), or the number of blocks
 * when the leaf is not a heap.
 */
#define TAIL_IDLE_PAGES 8

static BlockNumber
since_tail_scan(SinceState *st, Oid leafid, ChainConfig *cfg)
{
	Relation	leaf = table_open(leafid, AccessShareLock);
	BlockNumber nblocks = RelationGetNumberOfBlocks(leaf);
	BlockNumber stop = nblocks;
	BlockNumber cur = InvalidBlockNumber;
	bool		found_in_cur = false;
	bool		exhausted = true;
	int			idle = 0;
	ChainRelInfo *info;
	TableScanDesc scan;
	TupleTableSlot *slot;
	Datum	   *keyvals;
	bool	   *keynulls;
	Datum	   *colvals;
	bool	   *colnulls;
	int			i;

	if (leaf->rd_rel->relam != HEAP_TABLE_AM_OID || nblocks == 0)
	{
		table_close(leaf, NoLock);
		return nblocks;
	}
	info = ChainRelInfoBuild(leaf, cfg);
	keyvals = palloc(sizeof(Datum) * Max(info->nkeys, 1));
	keynulls = palloc(sizeof(bool) * Max(info->nkeys, 1));
	colvals = palloc(sizeof(Datum) * Max(info->ncols, 1));
	colnulls = palloc(sizeof(bool) * Max(info->ncols, 1));
	slot = table_slot_create(leaf, NULL);
	scan = table_beginscan(leaf, GetActiveSnapshot(), 0, NULL);
	while (st->incomplete > 0)
	{
		BlockNumber blk;
		SinceName  *sn;
		char	   *name;
		bool		keynull = false;
		int64		seq;
		MemoryContext old;

		if (!table_scan_getnextslot(scan, BackwardScanDirection, slot))
			break;
		blk = ItemPointerGetBlockNumber(&slot->tts_tid);
		if (blk != cur)
		{
			if (cur != InvalidBlockNumber)
			{
				stop = cur;		/* read in full */
				idle = found_in_cur ? 0 : idle + 1;
				if (idle >= TAIL_IDLE_PAGES)
				{
					exhausted = false;
					break;
				}
			}
			cur = blk;
			found_in_cur = false;
		}
		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(st->rowcxt);
		slot_getallattrs(slot);
		if (slot->tts_isnull[info->seq_attnum - 1])
			goto next;
		seq = DatumGetInt64(slot->tts_values[info->seq_attnum - 1]);
		for (i = 0; i < info->nkeys; i++)
		{
			keyvals[i] = slot->tts_values[info->keys[i].attnum - 1];
			keynulls[i] = slot->tts_isnull[info->keys[i].attnum - 1];
			keynull |= keynulls[i];
		}
		if (keynull)
			goto next;
		name = ChainKeyName(info, keyvals, keynulls);
		sn = hash_search(st->byname, &name, HASH_FIND, NULL);
		if (sn == NULL ||
			seq <= (st->chains[sn->n].attested ? st->chains[sn->n].att_seq : 0))
			goto next;
		found_in_cur = true;
		for (i = 0; i < info->ncols; i++)
		{
			colvals[i] = slot->tts_values[info->cols[i].attnum - 1];
			colnulls[i] = slot->tts_isnull[info->cols[i].attnum - 1];
		}
		since_take_row(st, info, sn->n,
					   slot->tts_values[info->seq_attnum - 1], false,
					   slot->tts_values[info->prev_attnum - 1],
					   slot->tts_isnull[info->prev_attnum - 1],
					   slot->tts_values[info->hash_attnum - 1],
					   slot->tts_isnull[info->hash_attnum - 1],
					   keyvals, colvals, colnulls);
next:
		MemoryContextSwitchTo(old);
		MemoryContextReset(st->rowcxt);
	}
	if (st->incomplete > 0 && exhausted)
		stop = 0;				/* every block was read */
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(leaf, NoLock);
	return stop;
}

/*
 * Reads the rows past their anchor of chains chain_no[0..nq-1] from one
 * leaf through its btree index on (key, chain_seq), scanned directly (one
 * rescan per chain, no executor).  Tables with at most one key column.
 * Returns false, having read nothing, when the leaf has no such index.
 */
static bool
since_scan_leaf(SinceState *st, Oid leafid, ChainConfig *cfg, int *chain_no, int nq,
				BlockNumber skip_from)
{
	Relation	leaf = table_open(leafid, AccessShareLock);
	ChainRelInfo *info = ChainRelInfoBuild(leaf, cfg);
	int			nkeys = info->nkeys;
	List	   *indexes = RelationGetIndexList(leaf);
	ListCell   *lc;
	Relation	idx = NULL;
	ScanKeyData sk[2];
	RegProcedure procs[2];
	IndexScanDesc scan;
	TupleTableSlot *slot;
	Oid			typinput = InvalidOid;
	Oid			typioparam = InvalidOid;
	Datum	   *colvals = palloc(sizeof(Datum) * Max(info->ncols, 1));
	bool	   *colnulls = palloc(sizeof(bool) * Max(info->ncols, 1));
	Datum		keyval[1];
	int			q;
	int			i;

	foreach(lc, indexes)
	{
		Relation	cand = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index ind = cand->rd_index;
		bool		ok = cand->rd_rel->relam == BTREE_AM_OID &&
			ind->indnkeyatts >= nkeys + 1 && ind->indisvalid &&
			heap_attisnull(cand->rd_indextuple, Anum_pg_index_indpred, NULL) &&
			heap_attisnull(cand->rd_indextuple, Anum_pg_index_indexprs, NULL);

		for (i = 0; ok && i < nkeys; i++)
			ok = ind->indkey.values[i] == info->keys[i].attnum;
		if (ok)
			ok = ind->indkey.values[nkeys] == info->seq_attnum;
		if (ok && idx == NULL)
			idx = cand;
		else
			index_close(cand, AccessShareLock);
	}
	if (idx == NULL)
	{
		table_close(leaf, NoLock);
		return false;
	}

	for (i = 0; i <= nkeys; i++)
	{
		Oid			type = idx->rd_opcintype[i];
		Oid			op = get_opfamily_member(idx->rd_opfamily[i], type, type,
											 i < nkeys ? BTEqualStrategyNumber : BTGreaterEqualStrategyNumber);

		if (!OidIsValid(op))
		{
			index_close(idx, AccessShareLock);
			table_close(leaf, NoLock);
			return false;
		}
		procs[i] = get_opcode(op);
	}
	if (nkeys == 1)
		getTypeInputInfo(info->keys[0].typid, &typinput, &typioparam);

	slot = table_slot_create(leaf, NULL);
#if PG_VERSION_NUM >= 180000
	scan = index_beginscan(leaf, idx, GetActiveSnapshot(), NULL, nkeys + 1, 0);
#else
	scan = index_beginscan(leaf, idx, GetActiveSnapshot(), nkeys + 1, 0);
#endif
	for (q = 0; q < nq; q++)
	{
		int			n = chain_no[q];
		SinceChain *c = &st->chains[n];
		int64		from = c->attested ? c->att_seq + 1 : 1;
		MemoryContext old = MemoryContextSwitchTo(st->rowcxt);

		if (nkeys == 1)
		{
			keyval[0] = OidInputFunctionCall(typinput, c->name, typioparam, -1);
			ScanKeyEntryInitialize(&sk[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
								   idx->rd_indcollation[0], procs[0], keyval[0]);
		}
		ScanKeyEntryInitialize(&sk[nkeys], 0, nkeys + 1, BTGreaterEqualStrategyNumber,
							   InvalidOid, idx->rd_indcollation[nkeys], procs[nkeys],
							   Int64GetDatum(from));
		index_rescan(scan, sk, nkeys + 1, NULL, 0);
		MemoryContextSwitchTo(old);
		while (index_getnext_slot(scan, ForwardScanDirection, slot))
		{
			/* rows in the blocks the tail scan read are taken already */
			if (ItemPointerGetBlockNumber(&slot->tts_tid) >= skip_from)
				continue;
			old = MemoryContextSwitchTo(st->rowcxt);
			slot_getallattrs(slot);
			for (i = 0; i < info->ncols; i++)
			{
				colvals[i] = slot->tts_values[info->cols[i].attnum - 1];
				colnulls[i] = slot->tts_isnull[info->cols[i].attnum - 1];
			}
			since_take_row(st, info, n,
						   slot->tts_values[info->seq_attnum - 1],
						   slot->tts_isnull[info->seq_attnum - 1],
						   slot->tts_values[info->prev_attnum - 1],
						   slot->tts_isnull[info->prev_attnum - 1],
						   slot->tts_values[info->hash_attnum - 1],
						   slot->tts_isnull[info->hash_attnum - 1],
						   keyval, colvals, colnulls);
			MemoryContextSwitchTo(old);
		}
		MemoryContextReset(st->rowcxt);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, AccessShareLock);
	table_close(leaf, NoLock);
	return true;
}

/* A chain the digest attests, found by name. */
typedef struct AttEntry
{
	char	   *name;			/* hash key */
	int64		seq;
	uint8		hash[CHAIN_HASH_LEN];
	bool		seen;			/* chain_heads has it */
} AttEntry;

/*
 * Decides what to do with chain c (attested and/or with a head): reports
 * what the heads alone show and returns whether its rows must be read.
 */
static bool
since_classify(SinceChain *c, ProblemSink *sink)
{
	/* unchanged since the digest, or a chain without rows yet */
	if (c->attested && c->has_head && c->head_seq == c->att_seq &&
		memcmp(c->head_hash, c->att_hash, CHAIN_HASH_LEN) == 0)
		return false;
	if (!c->attested && c->head_seq <= 0)
		return false;
	if (!c->has_head)
	{
		ProblemSinkEmit(sink, c->name, c->att_seq, false, "head_mismatch",
				  psprintf("the chain attested up to chain_seq " INT64_FORMAT " with head hash %s has no recorded head any more",
						   c->att_seq, ChainHex(c->att_hash, CHAIN_HASH_LEN)));
		return false;
	}
	if (c->attested && c->head_seq < c->att_seq)
		ProblemSinkEmit(sink, c->name, c->att_seq, false, "missing_row",
				  psprintf("the chain's head is at chain_seq " INT64_FORMAT ", before chain_seq " INT64_FORMAT " attested with head hash %s",
						   c->head_seq, c->att_seq, ChainHex(c->att_hash, CHAIN_HASH_LEN)));
	else if (c->attested && c->head_seq == c->att_seq)
		ProblemSinkEmit(sink, c->name, c->att_seq, false, "digest_mismatch",
				  psprintf("the chain's head hash %s differs from the head hash %s attested at the same chain_seq",
						   ChainHex(c->head_hash, CHAIN_HASH_LEN),
						   ChainHex(c->att_hash, CHAIN_HASH_LEN)));
	return true;
}

/* since_compare's state while the recorded heads are read */
typedef struct SinceHeads
{
	Oid			relid;
	HTAB	   *att;			/* the digest's chains, AttEntry */
	ProblemSink *sink;
	SinceChain *out;			/* the chains to read */
	int			n;
	int			max;
} SinceHeads;

/*
 * ChainHeadsVisit: one recorded head, with what the digest attested of the
 * chain; kept when its rows must be read.
 */
static void
since_take_head(const char *name, int64 seq, const uint8 *hash, void *arg)
{
	SinceHeads *heads = (SinceHeads *) arg;
	SinceChain	cand;
	AttEntry   *e;

	memset(&cand, 0, sizeof(SinceChain));
	cand.name = pstrdup(name);
	cand.has_head = true;
	cand.head_seq = seq;
	if (hash)
		memcpy(cand.head_hash, hash, CHAIN_HASH_LEN);
	e = hash_search(heads->att, &cand.name, HASH_FIND, NULL);
	if (e)
	{
		e->seen = true;
		cand.attested = true;
		cand.att_seq = e->seq;
		memcpy(cand.att_hash, e->hash, CHAIN_HASH_LEN);
	}
	/* heads moved by this transaction and not yet written back */
	(void) ChainHeadCacheLookup(heads->relid, cand.name, &cand.head_seq, cand.head_hash);
	if (since_classify(&cand, heads->sink))
	{
		if (heads->n == heads->max)
		{
			heads->max *= 2;
			heads->out = repalloc(heads->out, sizeof(SinceChain) * heads->max);
		}
		heads->out[heads->n++] = cand;
	}
	else
		pfree(cand.name);
}

/*
 * Compares the heads attested by digest with the recorded heads of relid
 * (wallet_ops.chain_heads, overlaid with this transaction's own inserts).
 * Returns the chains whose rows must be read, *nread of them.  Caller is
 * connected to SPI.
 */
static SinceChain *
since_compare(Oid relid, const ChainDigest *digest, ProblemSink *sink, int *nread)
{
	HTAB	   *att;
	HASH_SEQ_STATUS status;
	AttEntry   *e;
	int			i;
	int			n = 0;
	int			max;
	SinceChain *out;
	SinceHeads	heads;

	att = ChainNameTableCreate("wallet_ops attested heads", Max(digest->nchains, 16),
							   sizeof(AttEntry), CurrentMemoryContext);
	for (i = 0; i < digest->nchains; i++)
	{
		const ChainDigestHead *d = &digest->chains[i];
		bool		found;

		e = ChainNameTableEnter(att, d->name, CurrentMemoryContext, &found);
		e->seq = d->seq;
		e->seen = false;
		memcpy(e->hash, d->hash, CHAIN_HASH_LEN);
	}

	heads.relid = relid;
	heads.att = att;
	heads.sink = sink;
	heads.max = 64;
	heads.n = 0;
	heads.out = palloc(sizeof(SinceChain) * heads.max);
	ChainHeadsForEach(relid, NULL, false, since_take_head, &heads);
	out = heads.out;
	n = heads.n;
	max = heads.max;

	/* attested chains that have no recorded head */
	hash_seq_init(&status, att);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		SinceChain *c;

		if (e->seen)
			continue;
		if (n == max)
		{
			max *= 2;
			out = repalloc(out, sizeof(SinceChain) * max);
		}
		c = &out[n];
		memset(c, 0, sizeof(SinceChain));
		c->name = e->name;
		c->attested = true;
		c->att_seq = e->seq;
		memcpy(c->att_hash, e->hash, CHAIN_HASH_LEN);
		c->has_head = ChainHeadCacheLookup(relid, c->name, &c->head_seq, c->head_hash);
		if (since_classify(c, sink))
			n++;
	}
	*nread = n;
	return out;
}

/* ChainProblemVisit: a problem a shard of a distributed table reported. */
static void
since_shard_problem(const char *chain, int64 seq, bool seq_null,
					const char *problem, const char *detail, void *arg)
{
	ProblemSinkEmit((ProblemSink *) arg, chain, seq, seq_null, problem, detail);
}

/*
 * Verifies what was added to relid since digest; problems go to sink.
 * Returns the number of rows read, -1 for a distributed table.  Caller is
 * connected to SPI.
 */
int64
ChainVerifySince(Oid relid, Jsonb *digest, ProblemSink *sink)
{
	Relation	rel;
	ChainConfig cfg;
	ChainRelInfo *info;
	Oid			types[3];
	Datum		values[3];
	SinceChain *chains;
	int			nread = 0;
	uint64		r;
	char	   *relname;
	Datum	   *names;
	Datum	   *froms;
	int64		expected_rows = 0;
	int64		rows = 0;
	MemoryContext rowcxt;
	MemoryContext sink_cxt = CurrentMemoryContext;
	ChainDigest parsed;
	int			i;
	int			n;
	List	   *leaves;
	ListCell   *lc;
	int64	   *remaining;
	int		   *chain_no;
	SinceRow  **rows_of;
	int		   *nrows_of;
	int		   *maxrows_of;
	bool	   *genesis_done;
	uint8	   *genesis;
	Datum	   *colvals;
	bool	   *colnulls;
	Datum	   *keyvals;
	SinceState	st;
	char		progress[256];
	int			guc_level;

	rel = WalletOpsRelationOpen(relid, AccessShareLock);
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", RelationGetRelationName(rel)),
				 errdetail("Verifying a hash chain reads its rows.")));
	/* on a worker, a shard of a chained distributed table (chain_citus.c) */
	if (!ChainConfigLoad(relid, &cfg) && !ChainShardConfigLoad(rel, &cfg))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not hash-chained", RelationGetRelationName(rel)),
				 errhint("Use wallet_ops.enable_hash_chain() first.")));
	info = ChainRelInfoBuild(rel, &cfg);
	relname = WalletOpsRelationQualifiedName(rel);

	/* the digest must be one, checked field by field */
	ChainDigestParse(digest, false, &parsed);
	{
		char	   *detail;
		DigestSignatureOutcome outcome = DigestSignatureCheck(&parsed.signature, &detail);

		if (DigestSignatureProblem(outcome) != NULL)
			ProblemSinkEmit(sink, NULL, 0, true, DigestSignatureProblem(outcome), detail);
	}

	/*
	 * A distributed table: every shard since the digest, at once
	 * (docs/citus.md).  How many rows they read is not known here.
	 */
	if (ChainCitusIsCitusTable(relid))
	{
		ChainCitusVerifySince(relid, JsonbToCString(NULL, &digest->root, VARSIZE(digest)),
							  since_shard_problem, sink);
		relation_close(rel, NoLock);
		return -1;
	}

	/*
	 * Every chain the digest or wallet_ops.chain_heads knows, with both
	 * heads; those whose head did not move are skipped.  chain_heads is
	 * read as the extension's owner.
	 */
	chains = since_compare(relid, &parsed, sink, &nread);
	names = palloc(sizeof(Datum) * Max(nread, 1));
	froms = palloc(sizeof(Datum) * Max(nread, 1));
	for (i = 0; i < nread; i++)
		expected_rows += chains[i].head_seq - (chains[i].attested ? chains[i].att_seq : 0);

	snprintf(progress, sizeof(progress),
			 "wallet_ops: verifying %s since digest, %d chains changed, " INT64_FORMAT " new rows",
			 relname, nread, expected_rows);
	pgstat_report_activity(STATE_RUNNING, progress);

	if (nread == 0)
	{
		relation_close(rel, NoLock);
		return 0;
	}

	leaves = since_leaves(rel);
	remaining = palloc(sizeof(int64) * nread);
	chain_no = palloc(sizeof(int) * nread);
	rows_of = palloc0(sizeof(SinceRow *) * nread);
	nrows_of = palloc0(sizeof(int) * nread);
	maxrows_of = palloc0(sizeof(int) * nread);
	genesis_done = palloc0(sizeof(bool) * nread);
	genesis = palloc(CHAIN_HASH_LEN * (Size) nread);
	for (i = 0; i < nread; i++)
		remaining[i] = chains[i].head_seq - (chains[i].attested ? chains[i].att_seq : 0);

	/*
	 * No JIT: the planner cannot know how few rows each chain has past its
	 * anchor and may cost the query high enough to compile it, which costs
	 * far more than reading the rows.  Each chain's few rows come best from
	 * a plain index scan.
	 */
	guc_level = NewGUCNestLevel();
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("enable_bitmapscan", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "wallet_ops verify since row",
								   ALLOCSET_DEFAULT_SIZES);
	colvals = palloc(sizeof(Datum) * Max(info->ncols, 1));
	colnulls = palloc(sizeof(bool) * Max(info->ncols, 1));
	keyvals = palloc(sizeof(Datum) * Max(info->nkeys, 1));

	/*
	 * Read the leaves newest first, each for the chains that still lack
	 * rows; stop when every chain has all the rows up to its head.  Row
	 * hashes are checked as rows arrive; links once a chain is complete.
	 */
	st.chains = chains;
	st.info = info;
	st.sink = sink;
	st.sink_cxt = sink_cxt;
	st.rowcxt = rowcxt;
	st.remaining = remaining;
	st.rows_of = rows_of;
	st.nrows_of = nrows_of;
	st.maxrows_of = maxrows_of;
	st.genesis_done = genesis_done;
	st.genesis = genesis;
	st.relname = relname;
	st.expected_rows = expected_rows;
	st.rows = 0;
	st.incomplete = 0;
	{
		st.byname = ChainNameTableCreate("wallet_ops changed chains", Max(nread, 16),
										 sizeof(SinceName), CurrentMemoryContext);
		for (i = 0; i < nread; i++)
		{
			bool		found;
			SinceName  *sn = ChainNameTableEnter(st.byname, chains[i].name,
												 CurrentMemoryContext, &found);

			sn->n = i;
			if (remaining[i] > 0)
				st.incomplete++;
		}
	}

	foreach(lc, leaves)
	{
		Oid			leafid = lfirst_oid(lc);
		int			nq = 0;
		Portal		portal;
		char	   *sql;
		BlockNumber skip_from;
		ItemPointerData skip_tid;

		for (i = 0; i < nread; i++)
		{
			if (remaining[i] > 0)
			{
				names[nq] = CStringGetTextDatum(chains[i].name);
				froms[nq] = Int64GetDatum(chains[i].attested ? chains[i].att_seq + 1 : 1);
				chain_no[nq] = i;
				nq++;
			}
		}
		if (nq == 0)
			break;

		/* the usual case: the new rows are at the end of the heap */
		skip_from = since_tail_scan(&st, leafid, &cfg);
		if (st.incomplete == 0 || skip_from == 0)
			continue;
		nq = 0;
		for (i = 0; i < nread; i++)
		{
			if (remaining[i] > 0)
			{
				names[nq] = CStringGetTextDatum(chains[i].name);
				froms[nq] = Int64GetDatum(chains[i].attested ? chains[i].att_seq + 1 : 1);
				chain_no[nq] = i;
				nq++;
			}
		}

		/* otherwise the leaf's (key, chain_seq) index, scanned directly */
		if (info->nkeys <= 1 && since_scan_leaf(&st, leafid, &cfg, chain_no, nq, skip_from))
			continue;

		types[0] = TEXTARRAYOID;
		types[1] = INT8ARRAYOID;
		types[2] = TIDOID;
		values[0] = PointerGetDatum(construct_array(names, nq, TEXTOID, -1, false, TYPALIGN_INT));
		values[1] = PointerGetDatum(construct_array(froms, nq, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		ItemPointerSet(&skip_tid, skip_from, 0);
		values[2] = PointerGetDatum(&skip_tid);
		sql = since_rows_sql(leafid, info);
		portal = SPI_cursor_open_with_args(NULL, sql, 3, types, values, NULL, true, 0);
		for (;;)
		{
			SPI_cursor_fetch(portal, true, 1000);
			if (SPI_processed == 0)
				break;
			for (r = 0; r < SPI_processed; r++)
			{
				HeapTuple	tup = SPI_tuptable->vals[r];
				TupleDesc	desc = SPI_tuptable->tupdesc;
				bool		isnull;
				bool		seqnull,
							prevnull,
							hashnull;
				Datum		seq,
							prev,
							hash;
				MemoryContext old = MemoryContextSwitchTo(rowcxt);

				n = chain_no[DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull)) - 1];
				seq = SPI_getbinval(tup, desc, 2, &seqnull);
				prev = SPI_getbinval(tup, desc, 3, &prevnull);
				hash = SPI_getbinval(tup, desc, 4, &hashnull);
				for (i = 0; i < info->nkeys; i++)
					keyvals[i] = SPI_getbinval(tup, desc, 5 + i, &isnull);
				for (i = 0; i < info->ncols; i++)
					colvals[i] = SPI_getbinval(tup, desc, 5 + info->nkeys + i, &colnulls[i]);
				since_take_row(&st, info, n, seq, seqnull, prev, prevnull, hash, hashnull,
							   keyvals, colvals, colnulls);
				MemoryContextSwitchTo(old);
				MemoryContextReset(rowcxt);
			}
			SPI_freetuptable(SPI_tuptable);
		}
		SPI_cursor_close(portal);
	}
	rows = st.rows;

	/* links, gaps, duplicates and heads, chain by chain */
	for (n = 0; n < nread; n++)
	{
		SinceChain *c = &chains[n];
		int64		last_seq = c->attested ? c->att_seq : 0;
		int64		expected = last_seq + 1;
		uint8		link[CHAIN_HASH_LEN];
		int			k;

		if (c->attested)
			memcpy(link, c->att_hash, CHAIN_HASH_LEN);
		else if (genesis_done[n])
			memcpy(link, genesis + CHAIN_HASH_LEN * n, CHAIN_HASH_LEN);
		else
			memset(link, 0, CHAIN_HASH_LEN);
		if (nrows_of[n] > 1)
			qsort(rows_of[n], nrows_of[n], sizeof(SinceRow), since_row_cmp);
		for (k = 0; k < nrows_of[n]; k++)
		{
			SinceRow   *row = &rows_of[n][k];

			if (row->seq == last_seq)
			{
				ProblemSinkEmit(sink, c->name, row->seq, false, "duplicate_seq",
						  psprintf("another row with this chain_seq has row_hash %s; this one has %s",
								   ChainHex(link, CHAIN_HASH_LEN), ChainHex(row->hash, CHAIN_HASH_LEN)));
				continue;
			}
			if (row->seq > expected)
				ProblemSinkEmit(sink, c->name, expected, false, "missing_row",
						  row->seq - 1 == expected ?
						  psprintf("chain_seq " INT64_FORMAT " is missing", expected) :
						  psprintf("chain_seq " INT64_FORMAT " to " INT64_FORMAT " are missing",
								   expected, row->seq - 1));
			if (memcmp(row->prev, link, CHAIN_HASH_LEN) != 0)
				ProblemSinkEmit(sink, c->name, row->seq, false, "broken_link",
						  psprintf("prev_hash %s is not the row_hash %s of the row before",
								   ChainHex(row->prev, CHAIN_HASH_LEN), ChainHex(link, CHAIN_HASH_LEN)));
			memcpy(link, row->hash, CHAIN_HASH_LEN);
			last_seq = row->seq;
			expected = row->seq + 1;
		}
		if (last_seq != c->head_seq || memcmp(link, c->head_hash, CHAIN_HASH_LEN) != 0)
			ProblemSinkEmit(sink, c->name, last_seq, false, "head_mismatch",
					  psprintf("the last row (chain_seq " INT64_FORMAT ", row_hash %s) is not the recorded head (chain_seq " INT64_FORMAT ", %s)",
							   last_seq, ChainHex(link, CHAIN_HASH_LEN),
							   c->head_seq, ChainHex(c->head_hash, CHAIN_HASH_LEN)));
	}
	MemoryContextDelete(rowcxt);
	AtEOXact_GUC(true, guc_level);
	relation_close(rel, NoLock);
	return rows;
}

/* sink as the result of a set-returning function of four columns */
void
ProblemSinkInitSRF(FunctionCallInfo fcinfo, ProblemSink *sink)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	WalletOpsMaterializeSRF(fcinfo);
	sink->tupdesc = rsinfo->setDesc;
	sink->tupstore = rsinfo->setResult;
}

/*
 * wallet_ops.verify_since_digest(tbl regclass, digest jsonb)
 *	RETURNS TABLE (chain_key text, chain_seq bigint, problem text, detail text)
 */
Datum
wallet_ops_verify_since_digest(PG_FUNCTION_ARGS)
{
	ProblemSink sink;
	const char *activity = debug_query_string;

	memset(&sink, 0, sizeof(sink));
	sink.cxt = CurrentMemoryContext;
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table and digest must not be null")));
	ProblemSinkInitSRF(fcinfo, &sink);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) ChainVerifySince(PG_GETARG_OID(0), PG_GETARG_JSONB_P(1), &sink);
	SPI_finish();
	if (activity)
		pgstat_report_activity(STATE_RUNNING, activity);
	return (Datum) 0;
}
