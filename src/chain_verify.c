/*-------------------------------------------------------------------------
 *
 * chain_verify.c
 *		verify_chain(), chain_digest() and verify_against_digest(); the
 *		Merkle tree of digests, which chain_proof() walks as well.
 *
 * Verification is read-only (it runs on a hot standby) and needs memory
 * per chain, not per row.  A first pass scans every leaf partition
 * directly, in partition bound order, recomputing each row's hash and
 * checking each chain's links as rows arrive, whatever their order: a chain
 * keeps the runs of consecutive rows it has seen, each as (first chain_seq,
 * its prev_hash, last chain_seq, its row_hash); a row extends or joins runs
 * after its link is checked.  Rows stored in order (the usual case) keep a
 * single run; rows written in several passes over time partitions, or by
 * concurrent writers filling different pages, make a few.  A chain that
 * ends as one run from chain_seq 1 is intact and costs nothing more.  Every
 * other chain (a hash mismatch, an unhashed row, a duplicate, a gap, or
 * more than 256 runs at once) gets a second, ordered pass through the (chain key, chain_seq)
 * index that pins down each problem at its chain_seq.  Finally each chain's
 * last row is compared with its head in wallet_ops.chain_heads.
 *
 * Problems are returned as rows sorted by chain and chain_seq, with hex
 * hashes in the detail, never raised as errors.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_verify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "partitioning/partdesc.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/shm_mq.h"
#include "storage/bufmgr.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "chain_citus.h"
#include "chain_config.h"
#include "chain_hash.h"
#include "chain_heads.h"
#include "chain_trigger.h"
#include "chain_verify.h"
#include "common.h"

PG_FUNCTION_INFO_V1(wallet_ops_verify_chain);
PG_FUNCTION_INFO_V1(wallet_ops_chain_digest);
PG_FUNCTION_INFO_V1(wallet_ops_verify_against_digest);

#define VERIFY_MAX_SEGMENTS	256
#define VERIFY_PROGRESS_EVERY	65536


/* A run of consecutive, linked rows of a chain seen so far. */
typedef struct VSegment
{
	int64		start;			/* first chain_seq */
	int64		end;			/* last chain_seq */
	uint8		start_prev[CHAIN_HASH_LEN]; /* prev_hash of the first row */
	uint8		end_hash[CHAIN_HASH_LEN];	/* row_hash of the last row */
} VSegment;

typedef struct VChain
{
	char	   *name;			/* hash key */
	bool		has_rows;
	bool		bad;			/* needs the ordered pass */
	Datum	   *keyvals;		/* set with the first row */
	uint8		genesis[CHAIN_HASH_LEN];
	int			nsegs;			/* runs of linked rows, sorted */
	int			maxsegs;
	VSegment   *segs;
	VSegment	seg0;			/* the usual single run, in place */
	bool		has_head;
	int64		head_seq;
	uint8		head_hash[CHAIN_HASH_LEN];
	bool		attested;
	int64		att_seq;
	uint8		att_hash[CHAIN_HASH_LEN];
	bool		att_seen;
	uint8		att_seen_hash[CHAIN_HASH_LEN];
} VChain;

/*
 * The chains again, by their key values' bytes (no text output per row).
 * Looked up once per row: a simplehash, which keeps the hash in the entry
 * and compares inline, costs half of a dynahash lookup here.
 */
typedef struct VKeyRef
{
	int			len;
	const char *data;
} VKeyRef;

typedef struct VKeyEntry
{
	VKeyRef		key;
	uint32		hash;
	char		status;			/* for simplehash */
	VChain	   *chain;
} VKeyEntry;

static inline bool
vkey_equal(const VKeyRef *a, const VKeyRef *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

#define SH_PREFIX vkeytab
#define SH_ELEMENT_TYPE VKeyEntry
#define SH_KEY_TYPE VKeyRef
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k).data, (k).len)
#define SH_EQUAL(tb, a, b) vkey_equal(&(a), &(b))
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) (a)->hash
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef struct VerifyState
{
	Relation	root;
	char	   *relname;		/* qualified, quoted */
	ChainConfig cfg;
	ChainRelInfo *rootinfo;
	MemoryContext cxt;			/* per-chain state */
	MemoryContext rowcxt;		/* reset per row */
	HTAB	   *chains;			/* by chain name */
	vkeytab_hash *bykey;		/* by binary key, see ChainKeyBytes */
	StringInfoData keybuf;
	Tuplestorestate *tupstore;
	TupleDesc	tupdesc;
	List	   *nullkey_details;	/* rows whose key is NULL */
	bool		quiet;			/* a parallel worker: no progress reports */
	SPIPlanPtr	ordered_plan;
	int64		rows;
	const char *activity;
} VerifyState;

/* ---- hash tables keyed by chain name ---------------------------------- */

static uint32
chain_name_hash(const void *key, Size keysize)
{
	const char *s = *(const char *const *) key;

	return hash_bytes((const unsigned char *) s, strlen(s));
}

static int
chain_name_match(const void *key1, const void *key2, Size keysize)
{
	return strcmp(*(const char *const *) key1, *(const char *const *) key2);
}

/*
 * A hash table in cxt whose entries (entrysize bytes) begin with a chain's
 * name, a "char *" compared as a string.  Look names up with hash_search
 * and HASH_FIND; enter them with ChainNameTableEnter, which keeps a copy.
 */
HTAB *
ChainNameTableCreate(const char *tabname, long nelem, Size entrysize,
					 MemoryContext cxt)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(char *);
	ctl.entrysize = entrysize;
	ctl.hash = chain_name_hash;
	ctl.match = chain_name_match;
	ctl.hcxt = cxt;
	return hash_create(tabname, nelem, &ctl,
					   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
}

/* The entry for name, created (with a copy of name in cxt) if absent. */
void *
ChainNameTableEnter(HTAB *table, const char *name, MemoryContext cxt,
					bool *found)
{
	char	  **entry = hash_search(table, &name, HASH_ENTER, found);

	if (!*found)
		*entry = MemoryContextStrdup(cxt, name);
	return entry;
}

/* where the chains' state grows (runs of rows) during a verification */
static MemoryContext vchain_cxt;

static VChain *
vchain_get(VerifyState *st, const char *name, bool create)
{
	VChain	   *c;
	bool		found;

	if (create)
		c = ChainNameTableEnter(st->chains, name, st->cxt, &found);
	else
		c = hash_search(st->chains, &name, HASH_FIND, &found);
	if (c != NULL && !found)
	{
		char	   *n = c->name;

		memset(c, 0, sizeof(VChain));
		c->name = n;
		c->segs = &c->seg0;
		c->maxsegs = 1;
	}
	return c;
}

/* ---- output ------------------------------------------------------------ */

/*
 * One row (chain_key, chain_seq, problem, detail) of verify_chain and its
 * kin; chain and detail may be NULL.
 */
void
ChainProblemPut(Tuplestorestate *tupstore, TupleDesc tupdesc,
				const char *chain, int64 seq, bool seq_null,
				const char *problem, const char *detail)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (chain)
		values[0] = CStringGetTextDatum(chain);
	else
		nulls[0] = true;
	values[1] = Int64GetDatum(seq);
	nulls[1] = seq_null;
	values[2] = CStringGetTextDatum(problem);
	if (detail)
		values[3] = CStringGetTextDatum(detail);
	else
		nulls[3] = true;
	tuplestore_putvalues(tupstore, tupdesc, values, nulls);
}

static void
verify_emit(VerifyState *st, const char *chain, int64 seq, bool seq_null,
			const char *problem, const char *detail)
{
	ChainProblemPut(st->tupstore, st->tupdesc, chain, seq, seq_null,
					problem, detail);
}

static void
verify_init_srf(FunctionCallInfo fcinfo, VerifyState *st)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	WalletOpsMaterializeSRF(fcinfo);
	st->tupdesc = rsinfo->setDesc;
	st->tupstore = rsinfo->setResult;
}

/* ---- setup --------------------------------------------------------------- */

static void
verify_open(VerifyState *st, Oid relid)
{
	st->root = WalletOpsRelationOpen(relid, AccessShareLock);
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", RelationGetRelationName(st->root)),
				 errdetail("Verifying a hash chain reads every row of the table.")));
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot verify table \"%s\" because row-level security applies to the current user",
						RelationGetRelationName(st->root))));
	if (!ChainConfigLoad(relid, &st->cfg) &&
		!ChainShardConfigLoad(st->root, &st->cfg))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not hash-chained", RelationGetRelationName(st->root)),
				 errhint("Use wallet_ops.enable_hash_chain() first.")));
	st->relname = WalletOpsRelationQualifiedName(st->root);
	st->rootinfo = ChainRelInfoBuild(st->root, &st->cfg);
	st->cxt = AllocSetContextCreate(CurrentMemoryContext, "wallet_ops verify chains",
									ALLOCSET_DEFAULT_SIZES);
	st->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "wallet_ops verify row",
									   ALLOCSET_DEFAULT_SIZES);
	vchain_cxt = st->cxt;
	st->chains = ChainNameTableCreate("wallet_ops verify chains", 1024,
									  sizeof(VChain), st->cxt);
	st->bykey = vkeytab_create(st->cxt, 1024, NULL);
	{
		MemoryContext old = MemoryContextSwitchTo(st->cxt);

		initStringInfo(&st->keybuf);
		MemoryContextSwitchTo(old);
	}
	st->activity = debug_query_string;
}

static void
verify_progress(VerifyState *st, const char *what)
{
	char		buf[256];

	if (st->quiet)
		return;
	snprintf(buf, sizeof(buf), "wallet_ops.verify_chain(%s): %s, " INT64_FORMAT " rows checked",
			 RelationGetRelationName(st->root), what, st->rows);
	pgstat_report_activity(STATE_RUNNING, buf);
}

/* ChainHeadsVisit: a recorded head into the chain's state. */
static void
verify_take_head(const char *name, int64 seq, const uint8 *hash, void *arg)
{
	VChain	   *c = vchain_get((VerifyState *) arg, name, true);

	c->has_head = true;
	c->head_seq = seq;
	if (hash)
		memcpy(c->head_hash, hash, CHAIN_HASH_LEN);
}

/*
 * Load the recorded heads (optionally of one chain), overlaid with this
 * transaction's own inserts.
 */
static void
verify_load_heads(VerifyState *st, const char *only)
{
	HASH_SEQ_STATUS status;
	VChain	   *c;

	ChainHeadsForEach(RelationGetRelid(st->root), only, false,
					  verify_take_head, st);

	/*
	 * heads moved by this transaction and not yet written back (of chains
	 * with a recorded head: the rows may have been read first)
	 */
	hash_seq_init(&status, st->chains);
	while ((c = hash_seq_search(&status)) != NULL)
		if (c->has_head)
			(void) ChainHeadCacheLookup(RelationGetRelid(st->root), c->name,
										&c->head_seq, c->head_hash);
}

/* ---- first pass: stream every leaf ---------------------------------------- */

static void
verify_collect_leaves(Relation rel, List **leaves)
{
	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
	{
#if PG_VERSION_NUM >= 140000
		PartitionDesc pd = RelationGetPartitionDesc(rel, true);
#else
		PartitionDesc pd = RelationGetPartitionDesc(rel);
#endif
		int			i;

		for (i = 0; i < pd->nparts; i++)
		{
			Relation	child = table_open(pd->oids[i], AccessShareLock);

			verify_collect_leaves(child, leaves);
			table_close(child, NoLock);
		}
	}
	else if (rel->rd_rel->relkind == RELKIND_RELATION)
		*leaves = lappend_oid(*leaves, RelationGetRelid(rel));
	else
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot verify partition \"%s\" of hash-chained table", RelationGetRelationName(rel)),
				 errdetail("Only partitions stored in this database can be verified.")));
}


/*
 * A run of rows of a chain in the first pass: one row (start = end), or a
 * run a parallel worker saw.  The chain's rows seen so far form runs of
 * consecutive chain_seq whose links were all checked; the new run extends
 * a run at either end (checking the link), joins two runs, or starts a new
 * one.  Anything else (a duplicate, a broken link, a bad genesis, too many
 * runs) marks the chain for the ordered second pass.
 */
static void
verify_stream_run(VChain *c, int64 seq, const uint8 *prev, int64 end,
				  const uint8 *hash)
{
	int			lo = 0,
				hi = c->nsegs;
	VSegment   *a,
			   *b;
	bool		joins_a,
				joins_b;

	/* the first run starting after seq */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (c->segs[mid].start <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	a = lo > 0 ? &c->segs[lo - 1] : NULL;
	b = lo < c->nsegs ? &c->segs[lo] : NULL;

	if (seq < 1 || end < seq || (a && seq <= a->end) || (b && end >= b->start) ||
		(seq == 1 && memcmp(prev, c->genesis, CHAIN_HASH_LEN) != 0))
	{
		c->bad = true;
		return;
	}
	joins_a = a && a->end == seq - 1;
	joins_b = b && b->start == end + 1;
	if ((joins_a && memcmp(prev, a->end_hash, CHAIN_HASH_LEN) != 0) ||
		(joins_b && memcmp(b->start_prev, hash, CHAIN_HASH_LEN) != 0))
	{
		c->bad = true;
		return;
	}
	if (joins_a && joins_b)
	{
		a->end = b->end;
		memcpy(a->end_hash, b->end_hash, CHAIN_HASH_LEN);
		memmove(b, b + 1, sizeof(VSegment) * (c->nsegs - lo - 1));
		c->nsegs--;
	}
	else if (joins_a)
	{
		a->end = end;
		memcpy(a->end_hash, hash, CHAIN_HASH_LEN);
	}
	else if (joins_b)
	{
		b->start = seq;
		memcpy(b->start_prev, prev, CHAIN_HASH_LEN);
	}
	else
	{
		VSegment   *n;

		if (c->nsegs >= VERIFY_MAX_SEGMENTS)
		{
			c->bad = true;
			return;
		}
		if (c->nsegs == c->maxsegs)
		{
			int			newmax = c->maxsegs * 4;
			VSegment   *grown = MemoryContextAlloc(vchain_cxt, sizeof(VSegment) * newmax);

			memcpy(grown, c->segs, sizeof(VSegment) * c->nsegs);
			if (c->segs != &c->seg0)
				pfree(c->segs);
			c->segs = grown;
			c->maxsegs = newmax;
		}
		memmove(&c->segs[lo + 1], &c->segs[lo], sizeof(VSegment) * (c->nsegs - lo));
		n = &c->segs[lo];
		n->start = seq;
		n->end = end;
		memcpy(n->start_prev, prev, CHAIN_HASH_LEN);
		memcpy(n->end_hash, hash, CHAIN_HASH_LEN);
		c->nsegs++;
	}
}

static void
verify_scan_leaf(VerifyState *st, Oid leafid, int leafno, int nleaves,
				 ParallelTableScanDesc pscan)
{
	Relation	leaf = table_open(leafid, AccessShareLock);
	ChainRelInfo *info = ChainRelInfoBuild(leaf, &st->cfg);
	TupleTableSlot *slot = table_slot_create(leaf, NULL);
	TableScanDesc scan;
	int			maxatt = Max(info->seq_attnum, Max(info->prev_attnum, info->hash_attnum));
	Datum	   *keyvals = palloc(sizeof(Datum) * Max(info->nkeys, 1));
	bool	   *keynulls = palloc(sizeof(bool) * Max(info->nkeys, 1));
	Datum	   *colvals = palloc(sizeof(Datum) * info->ncols);
	bool	   *colnulls = palloc(sizeof(bool) * info->ncols);
	char		what[128];
	int			i;

	for (i = 0; i < info->nkeys; i++)
		maxatt = Max(maxatt, info->keys[i].attnum);
	for (i = 0; i < info->ncols; i++)
		maxatt = Max(maxatt, info->cols[i].attnum);
	snprintf(what, sizeof(what), "partition %d of %d (%s)", leafno, nleaves,
			 RelationGetRelationName(leaf));
	verify_progress(st, what);

	scan = pscan ? table_beginscan_parallel(leaf, pscan) :
		table_beginscan(leaf, GetActiveSnapshot(), 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		MemoryContext old;
		bool		keynull = false;
		char	   *name;
		VChain	   *c;
		bool		isnull;
		Datum		d;
		int64		seq;
		uint8		prev[CHAIN_HASH_LEN];
		uint8		hash[CHAIN_HASH_LEN];
		uint8		computed[CHAIN_HASH_LEN];
		bool		hashed;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(st->rowcxt);
		slot_getsomeattrs(slot, maxatt);
		for (i = 0; i < info->nkeys; i++)
		{
			keyvals[i] = slot->tts_values[info->keys[i].attnum - 1];
			keynulls[i] = slot->tts_isnull[info->keys[i].attnum - 1];
			keynull |= keynulls[i];
		}
		if (keynull)
		{
			char	   *detail;

			MemoryContextSwitchTo(st->cxt);
			detail = psprintf("a row with a null chain key is in partition \"%s\" at ctid (%u,%u)",
							  RelationGetRelationName(leaf),
							  ItemPointerGetBlockNumber(&slot->tts_tid),
							  ItemPointerGetOffsetNumber(&slot->tts_tid));
			st->nullkey_details = lappend(st->nullkey_details, detail);
			MemoryContextSwitchTo(old);
			MemoryContextReset(st->rowcxt);
			continue;
		}
		{
			VKeyRef		ref;
			VKeyEntry  *ke;
			bool		found;

			resetStringInfo(&st->keybuf);
			ChainKeyBytes(info, keyvals, &st->keybuf);
			ref.len = st->keybuf.len;
			ref.data = st->keybuf.data;
			ke = vkeytab_insert(st->bykey, ref, &found);
			if (!found)
			{
				char	   *copy = MemoryContextAlloc(st->cxt, Max(ref.len, 1));

				memcpy(copy, ref.data, ref.len);
				ke->key.data = copy;
				name = ChainKeyName(info, keyvals, keynulls);
				ke->chain = vchain_get(st, name, true);
			}
			c = ke->chain;
		}
		if (!c->has_rows)
		{
			c->has_rows = true;
			c->keyvals = MemoryContextAlloc(st->cxt, sizeof(Datum) * Max(info->nkeys, 1));
			MemoryContextSwitchTo(st->cxt);
			for (i = 0; i < info->nkeys; i++)
			{
				int16		typlen;
				bool		typbyval;

				get_typlenbyval(info->keys[i].typid, &typlen, &typbyval);
				c->keyvals[i] = datumCopy(keyvals[i], typbyval, typlen);
			}
			MemoryContextSwitchTo(st->rowcxt);
			ChainGenesis(info, keyvals, c->genesis);
		}
		st->rows++;
		if (c->bad)
			goto next;

		d = slot->tts_values[info->seq_attnum - 1];
		isnull = slot->tts_isnull[info->seq_attnum - 1];
		hashed = !isnull;
		seq = isnull ? 0 : DatumGetInt64(d);
		hashed &= ChainHashFromDatum(slot->tts_values[info->prev_attnum - 1],
									 slot->tts_isnull[info->prev_attnum - 1], prev);
		hashed &= ChainHashFromDatum(slot->tts_values[info->hash_attnum - 1],
									 slot->tts_isnull[info->hash_attnum - 1], hash);
		if (!hashed)
		{
			c->bad = true;
			goto next;
		}
		for (i = 0; i < info->ncols; i++)
		{
			colvals[i] = slot->tts_values[info->cols[i].attnum - 1];
			colnulls[i] = slot->tts_isnull[info->cols[i].attnum - 1];
		}
		ChainRowHash(info, seq, prev, colvals, colnulls, computed);
		if (memcmp(computed, hash, CHAIN_HASH_LEN) != 0)
		{
			c->bad = true;
			goto next;
		}
		if (c->attested && seq == c->att_seq && !c->att_seen)
		{
			c->att_seen = true;
			memcpy(c->att_seen_hash, hash, CHAIN_HASH_LEN);
		}
		verify_stream_run(c, seq, prev, seq, hash);
next:
		MemoryContextSwitchTo(old);
		MemoryContextReset(st->rowcxt);
		if (st->rows % VERIFY_PROGRESS_EVERY == 0)
			verify_progress(st, what);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(leaf, NoLock);
}

/* ---- second pass: one chain in chain_seq order ----------------------------- */

static void
verify_prepare_ordered(VerifyState *st)
{
	ChainRelInfo *info = st->rootinfo;
	StringInfoData sql;
	Oid		   *types = palloc(sizeof(Oid) * Max(info->nkeys, 1));
	int			i;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT chain_seq, prev_hash, row_hash");
	for (i = 0; i < info->ncols; i++)
		appendStringInfo(&sql, ", %s", quote_identifier(NameStr(info->cols[i].name)));
	appendStringInfo(&sql, " FROM %s", st->relname);
	for (i = 0; i < info->nkeys; i++)
	{
		appendStringInfo(&sql, "%s %s OPERATOR(pg_catalog.=) $%d",
						 i == 0 ? " WHERE" : " AND",
						 quote_identifier(NameStr(info->keys[i].name)), i + 1);
		types[i] = info->keys[i].typid;
	}
	appendStringInfoString(&sql, " ORDER BY chain_seq NULLS LAST, row_hash");
	st->ordered_plan = SPI_prepare(sql.data, info->nkeys, types);
	if (st->ordered_plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql.data,
			 SPI_result_code_string(SPI_result));
}

static void
verify_ordered_pass(VerifyState *st, VChain *c, int64 *last_seq, uint8 *last_hash)
{
	ChainRelInfo *info = st->rootinfo;
	Portal		portal;
	int64		expected = 1;
	int64		prev_seq = 0;	/* chain_seq of the last hashed row, 0 = none */
	uint8		prev_row_hash[CHAIN_HASH_LEN];
	Datum	   *colvals = palloc(sizeof(Datum) * info->ncols);
	bool	   *colnulls = palloc(sizeof(bool) * info->ncols);
	int			i;

	if (st->ordered_plan == NULL)
		verify_prepare_ordered(st);
	ChainGenesis(info, c->keyvals, prev_row_hash);
	c->att_seen = false;
	portal = SPI_cursor_open(NULL, st->ordered_plan, c->keyvals, NULL, true);
	for (;;)
	{
		uint64		r;

		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			MemoryContext old;
			bool		seqnull;
			int64		seq;
			uint8		prev[CHAIN_HASH_LEN];
			uint8		hash[CHAIN_HASH_LEN];
			uint8		computed[CHAIN_HASH_LEN];
			bool		isnull;
			bool		has_prev,
						has_hash,
						mismatch;

			CHECK_FOR_INTERRUPTS();
			old = MemoryContextSwitchTo(st->rowcxt);
			seq = DatumGetInt64(SPI_getbinval(tup, desc, 1, &seqnull));
			{
				Datum		d = SPI_getbinval(tup, desc, 2, &isnull);

				has_prev = ChainHashFromDatum(d, isnull, prev);
				d = SPI_getbinval(tup, desc, 3, &isnull);
				has_hash = ChainHashFromDatum(d, isnull, hash);
			}
			if (seqnull || !has_prev || !has_hash)
			{
				StringInfoData why;

				initStringInfo(&why);
				appendStringInfoString(&why, "the row was not hashed by the chain trigger:");
				if (seqnull)
					appendStringInfoString(&why, " chain_seq is null;");
				if (!has_prev)
					appendStringInfoString(&why, " prev_hash is not a 32-byte hash;");
				if (!has_hash)
					appendStringInfoString(&why, " row_hash is not a 32-byte hash;");
				why.data[--why.len] = '\0';
				verify_emit(st, c->name, seq, seqnull, "unhashed_row", why.data);
				goto next;
			}
			for (i = 0; i < info->ncols; i++)
				colvals[i] = SPI_getbinval(tup, desc, 4 + i, &colnulls[i]);
			ChainRowHash(info, seq, prev, colvals, colnulls, computed);
			mismatch = memcmp(computed, hash, CHAIN_HASH_LEN) != 0;
			if (seq < 1)
			{
				verify_emit(st, c->name, seq, false, "broken_link",
							psprintf("chain_seq " INT64_FORMAT " is out of range", seq));
				goto next;
			}
			if (prev_seq != 0 && seq == prev_seq)
			{
				verify_emit(st, c->name, seq, false, "duplicate_seq",
							psprintf("another row with this chain_seq has row_hash %s; this one has %s",
									 ChainHex(prev_row_hash, CHAIN_HASH_LEN),
									 ChainHex(hash, CHAIN_HASH_LEN)));
				if (mismatch)
					verify_emit(st, c->name, seq, false, "hash_mismatch",
								psprintf("stored row_hash %s, computed %s (the duplicate)",
										 ChainHex(hash, CHAIN_HASH_LEN),
										 ChainHex(computed, CHAIN_HASH_LEN)));
				goto next;
			}
			if (seq > expected)
				verify_emit(st, c->name, expected, false, "missing_row",
							seq - 1 == expected ?
							psprintf("chain_seq " INT64_FORMAT " is missing", expected) :
							psprintf("chain_seq " INT64_FORMAT " to " INT64_FORMAT " are missing",
									 expected, seq - 1));
			if (mismatch)
				verify_emit(st, c->name, seq, false, "hash_mismatch",
							psprintf("stored row_hash %s, computed %s",
									 ChainHex(hash, CHAIN_HASH_LEN),
									 ChainHex(computed, CHAIN_HASH_LEN)));
			if (seq == expected && memcmp(prev, prev_row_hash, CHAIN_HASH_LEN) != 0)
				verify_emit(st, c->name, seq, false, "broken_link",
							psprintf("prev_hash %s, but %s %s",
									 ChainHex(prev, CHAIN_HASH_LEN),
									 seq == 1 ? "the chain's genesis is" :
									 psprintf("row " INT64_FORMAT " has row_hash", seq - 1),
									 ChainHex(prev_row_hash, CHAIN_HASH_LEN)));
			if (c->attested && seq == c->att_seq && !c->att_seen)
			{
				c->att_seen = true;
				memcpy(c->att_seen_hash, hash, CHAIN_HASH_LEN);
			}
			memcpy(prev_row_hash, hash, CHAIN_HASH_LEN);
			prev_seq = seq;
			expected = seq + 1;
	next:
			MemoryContextSwitchTo(old);
			MemoryContextReset(st->rowcxt);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	*last_seq = prev_seq;
	memcpy(last_hash, prev_row_hash, CHAIN_HASH_LEN);
}

/* ---- per-chain conclusions -------------------------------------------------- */

static void
verify_check_head(VerifyState *st, VChain *c, bool has_rows, int64 last_seq,
				  const uint8 *last_hash)
{
	if (has_rows && last_seq > 0 && !c->has_head)
		verify_emit(st, c->name, last_seq, false, "head_mismatch",
					psprintf("the chain ends at chain_seq " INT64_FORMAT " with row_hash %s but has no recorded head",
							 last_seq, ChainHex(last_hash, CHAIN_HASH_LEN)));
	else if ((!has_rows || last_seq == 0) && c->has_head && c->head_seq > 0)
		verify_emit(st, c->name, c->head_seq, false, "head_mismatch",
					psprintf("the recorded head is chain_seq " INT64_FORMAT " with hash %s but the chain has no hashed rows",
							 c->head_seq, ChainHex(c->head_hash, CHAIN_HASH_LEN)));
	else if (has_rows && c->has_head &&
			 (c->head_seq != last_seq ||
			  memcmp(c->head_hash, last_hash, CHAIN_HASH_LEN) != 0))
		verify_emit(st, c->name, c->head_seq, false, "head_mismatch",
					psprintf("the recorded head is chain_seq " INT64_FORMAT " with hash %s, but the chain ends at chain_seq " INT64_FORMAT " with row_hash %s",
							 c->head_seq, ChainHex(c->head_hash, CHAIN_HASH_LEN),
							 last_seq, ChainHex(last_hash, CHAIN_HASH_LEN)));
}

static void
verify_check_attested(VerifyState *st, VChain *c, bool has_rows, int64 last_seq)
{
	if (!c->attested)
		return;
	if (!has_rows || last_seq == 0)
		verify_emit(st, c->name, c->att_seq, false, "missing_row",
					psprintf("the digest attests chain_seq " INT64_FORMAT " with head hash %s, but the chain has no rows",
							 c->att_seq, ChainHex(c->att_hash, CHAIN_HASH_LEN)));
	else if (last_seq < c->att_seq)
		verify_emit(st, c->name, c->att_seq, false, "missing_row",
					psprintf("the chain ends at chain_seq " INT64_FORMAT ", before chain_seq " INT64_FORMAT " attested by the digest with head hash %s",
							 last_seq, c->att_seq, ChainHex(c->att_hash, CHAIN_HASH_LEN)));
	else if (c->att_seen &&
			 memcmp(c->att_seen_hash, c->att_hash, CHAIN_HASH_LEN) != 0)
		verify_emit(st, c->name, c->att_seq, false, "digest_mismatch",
					psprintf("row_hash %s differs from the head hash %s attested by the digest",
							 ChainHex(c->att_seen_hash, CHAIN_HASH_LEN),
							 ChainHex(c->att_hash, CHAIN_HASH_LEN)));
}

static int
vchain_cmp(const void *a, const void *b)
{
	return strcmp((*(VChain *const *) a)->name, (*(VChain *const *) b)->name);
}

static void
verify_conclude(VerifyState *st)
{
	HASH_SEQ_STATUS status;
	VChain	   *c;
	VChain	  **all;
	long		n = hash_get_num_entries(st->chains);
	long		k = 0;
	long		i;
	long		reread = 0;
	ListCell   *lc;

	all = MemoryContextAllocHuge(st->cxt, sizeof(VChain *) * Max(n, 1));
	hash_seq_init(&status, st->chains);
	while ((c = hash_seq_search(&status)) != NULL)
		all[k++] = c;
	qsort(all, k, sizeof(VChain *), vchain_cmp);

	for (i = 0; i < k; i++)
	{
		int64		last_seq;
		uint8		last_hash[CHAIN_HASH_LEN];

		c = all[i];
		CHECK_FOR_INTERRUPTS();
		if (c->has_rows &&
			(c->bad || c->nsegs != 1 || c->segs[0].start != 1))
		{
			reread++;
			verify_progress(st, psprintf("checking chain %s in order", c->name));
			verify_ordered_pass(st, c, &last_seq, last_hash);
		}
		else if (c->has_rows)
		{
			last_seq = c->segs[0].end;
			memcpy(last_hash, c->segs[0].end_hash, CHAIN_HASH_LEN);
		}
		else
		{
			last_seq = 0;
			memset(last_hash, 0, CHAIN_HASH_LEN);
		}
		verify_check_head(st, c, c->has_rows, last_seq, last_hash);
		verify_check_attested(st, c, c->has_rows, last_seq);
	}
	foreach(lc, st->nullkey_details)
		verify_emit(st, NULL, 0, true, "unhashed_row", (char *) lfirst(lc));
	ereport(DEBUG1,
			(errmsg_internal("verify_chain(%s): " INT64_FORMAT " rows, %ld chains, %ld read again in chain_seq order",
							 RelationGetRelationName(st->root), st->rows, k, reread)));
}

static void
verify_close(VerifyState *st)
{
	relation_close(st->root, NoLock);
	if (st->activity)
		pgstat_report_activity(STATE_RUNNING, st->activity);
}

/* ---- the first pass in parallel ------------------------------------------ */

/*
 * With jobs > 1, the first pass is shared by the caller and jobs - 1
 * parallel workers (PostgreSQL's parallel machinery: the caller's snapshot,
 * user and settings; a worker's error is raised in the caller; cancelling
 * the caller stops them).  With at least two leaves per participant each
 * takes a contiguous range of leaves, in partition order and balanced by
 * size: a chain's rows in a range link up into one run, so a worker sends
 * about one run per chain.  With fewer leaves they share each leaf through
 * a parallel sequential scan, so each block is read once.  Each worker
 * sends the runs it saw of each chain; the caller merges them as it would
 * rows (verify_stream_run), so the result is the serial one: a chain whose
 * rows two participants saw is two runs that join.  The second pass and
 * the heads check stay in the caller.
 */

PGDLLEXPORT void WalletOpsVerifyParallelMain(dsm_segment *seg, shm_toc *toc);

#define PVERIFY_KEY_SHARED	UINT64CONST(0xB1A5E00000000001)
#define PVERIFY_KEY_QUEUES	UINT64CONST(0xB1A5E00000000002)
#define PVERIFY_KEY_SCAN(i) (UINT64CONST(0xB1A5E00000010000) + (i))
#define PVERIFY_QUEUE_SIZE	((Size) 256 * 1024)
#define PVERIFY_MAX_PARTICIPANTS WALLET_OPS_MAX_VERIFY_JOBS

typedef struct PVerifyLeaf
{
	Oid			relid;
	pg_atomic_uint32 claimed;	/* by ranges: taken by a participant */
} PVerifyLeaf;

typedef struct PVerifyShared
{
	Oid			relid;
	bool		by_range;		/* participants take ranges of leaves */
	int			nleaves;
	int			range_start[PVERIFY_MAX_PARTICIPANTS];	/* where participant p
														 * starts */
	PVerifyLeaf leaves[FLEXIBLE_ARRAY_MEMBER];
} PVerifyShared;

/* What a worker sends: a chain's runs, a row without key, its row count. */
typedef enum PVerifyMsg
{
	PVERIFY_CHAIN = 1,
	PVERIFY_NULLKEY,
	PVERIFY_ROWS
} PVerifyMsg;

static void
pverify_send(shm_mq_handle *mqh, StringInfo msg)
{
#if PG_VERSION_NUM >= 150000
	if (shm_mq_send(mqh, msg->len, msg->data, false, true) != SHM_MQ_SUCCESS)
#else
	if (shm_mq_send(mqh, msg->len, msg->data, false) != SHM_MQ_SUCCESS)
#endif
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("wallet_ops verification worker lost its leader")));
}

/* Every chain a worker saw, in messages its leader reads back. */
static void
pverify_send_state(VerifyState *st, shm_mq_handle *mqh)
{
	ChainRelInfo *info = st->rootinfo;
	HASH_SEQ_STATUS status;
	VChain	   *c;
	StringInfoData msg;
	ListCell   *lc;
	int32		kind;

	initStringInfo(&msg);
	hash_seq_init(&status, st->chains);
	while ((c = hash_seq_search(&status)) != NULL)
	{
		int32		bad = c->bad;
		int32		nsegs = c->bad ? 0 : c->nsegs;
		int32		namelen = strlen(c->name) + 1;
		int			i;

		CHECK_FOR_INTERRUPTS();
		resetStringInfo(&msg);
		kind = PVERIFY_CHAIN;
		appendBinaryStringInfo(&msg, (char *) &kind, sizeof(kind));
		appendBinaryStringInfo(&msg, (char *) &bad, sizeof(bad));
		appendBinaryStringInfo(&msg, (char *) &nsegs, sizeof(nsegs));
		appendBinaryStringInfo(&msg, (char *) &namelen, sizeof(namelen));
		appendBinaryStringInfo(&msg, c->name, namelen);
		appendBinaryStringInfo(&msg, (char *) c->segs, sizeof(VSegment) * nsegs);
		for (i = 0; i < info->nkeys; i++)
		{
			int16		typlen;
			bool		typbyval;
			Size		size;
			char	   *at;

			get_typlenbyval(info->keys[i].typid, &typlen, &typbyval);
			size = datumEstimateSpace(c->keyvals[i], false, typbyval, typlen);
			enlargeStringInfo(&msg, size);
			at = msg.data + msg.len;
			datumSerialize(c->keyvals[i], false, typbyval, typlen, &at);
			msg.len += size;
		}
		pverify_send(mqh, &msg);
	}
	foreach(lc, st->nullkey_details)
	{
		resetStringInfo(&msg);
		kind = PVERIFY_NULLKEY;
		appendBinaryStringInfo(&msg, (char *) &kind, sizeof(kind));
		appendStringInfoString(&msg, (char *) lfirst(lc));
		pverify_send(mqh, &msg);
	}
	resetStringInfo(&msg);
	kind = PVERIFY_ROWS;
	appendBinaryStringInfo(&msg, (char *) &kind, sizeof(kind));
	appendBinaryStringInfo(&msg, (char *) &st->rows, sizeof(st->rows));
	pverify_send(mqh, &msg);
}

/* A worker's message, merged into the caller's state. */
static void
pverify_take(VerifyState *st, const char *data, Size len)
{
	ChainRelInfo *info = st->rootinfo;
	const char *p = data;
	int32		kind;

	memcpy(&kind, p, sizeof(kind));
	p += sizeof(kind);
	if (kind == PVERIFY_ROWS)
	{
		int64		rows;

		memcpy(&rows, p, sizeof(rows));
		st->rows += rows;
	}
	else if (kind == PVERIFY_NULLKEY)
		st->nullkey_details = lappend(st->nullkey_details,
									  MemoryContextStrdup(st->cxt, pnstrdup(p, len - sizeof(kind))));
	else if (kind == PVERIFY_CHAIN)
	{
		int32		bad,
					nsegs,
					namelen;
		const VSegment *segs;
		VChain	   *c;
		int			i;

		memcpy(&bad, p, sizeof(bad));
		p += sizeof(bad);
		memcpy(&nsegs, p, sizeof(nsegs));
		p += sizeof(nsegs);
		memcpy(&namelen, p, sizeof(namelen));
		p += sizeof(namelen);
		c = vchain_get(st, p, true);
		p += namelen;
		segs = (const VSegment *) p;
		p += sizeof(VSegment) * nsegs;
		if (!c->has_rows)
		{
			MemoryContext old = MemoryContextSwitchTo(st->cxt);
			char	   *at = (char *) p;

			c->has_rows = true;
			c->keyvals = palloc(sizeof(Datum) * Max(info->nkeys, 1));
			for (i = 0; i < info->nkeys; i++)
			{
				bool		isnull;

				c->keyvals[i] = datumRestore(&at, &isnull);
			}
			MemoryContextSwitchTo(old);
			ChainGenesis(info, c->keyvals, c->genesis);
		}
		if (bad)
			c->bad = true;
		for (i = 0; i < nsegs && !c->bad; i++)
		{
			VSegment	run;

			memcpy(&run, &segs[i], sizeof(VSegment));
			verify_stream_run(c, run.start, run.start_prev, run.end, run.end_hash);
		}
	}
	else
		elog(ERROR, "unexpected message %d from a wallet_ops verification worker", kind);
}

/*
 * What participant p (0: the caller) reads of the first pass.  By ranges:
 * the leaves from its start on, in partition order, until one is taken
 * (the next participant's); then, from the last leaf backwards, those
 * nobody has taken yet, so that whoever is done early helps whoever is
 * slow (or was not started).  A chain's rows in the leaves one participant
 * reads in a row are one run.
 */
static void
pverify_scan_share(VerifyState *st, PVerifyShared *shared, shm_toc *toc, int p)
{
	int			i;

	if (shared->by_range)
	{
		for (i = shared->range_start[p]; i < shared->nleaves; i++)
		{
			if (pg_atomic_exchange_u32(&shared->leaves[i].claimed, 1) != 0)
				break;
			verify_scan_leaf(st, shared->leaves[i].relid, i + 1, shared->nleaves, NULL);
		}
		for (i = shared->nleaves - 1; i >= 0; i--)
			if (pg_atomic_exchange_u32(&shared->leaves[i].claimed, 1) == 0)
				verify_scan_leaf(st, shared->leaves[i].relid, i + 1, shared->nleaves, NULL);
	}
	else
	{
		for (i = 0; i < shared->nleaves; i++)
			verify_scan_leaf(st, shared->leaves[i].relid, i + 1, shared->nleaves,
							 shm_toc_lookup(toc, PVERIFY_KEY_SCAN(i), false));
	}
}

void
WalletOpsVerifyParallelMain(dsm_segment *seg, shm_toc *toc)
{
	PVerifyShared *shared = shm_toc_lookup(toc, PVERIFY_KEY_SHARED, false);
	char	   *queues = shm_toc_lookup(toc, PVERIFY_KEY_QUEUES, false);
	shm_mq	   *mq = (shm_mq *) (queues + ParallelWorkerNumber * PVERIFY_QUEUE_SIZE);
	shm_mq_handle *mqh;
	VerifyState st;

	shm_mq_set_sender(mq, MyProc);
	mqh = shm_mq_attach(mq, seg, NULL);

	memset(&st, 0, sizeof(st));
	st.quiet = true;
	verify_open(&st, shared->relid);
	pverify_scan_share(&st, shared, toc, ParallelWorkerNumber + 1);
	pverify_send_state(&st, mqh);
	shm_mq_detach(mqh);
	verify_close(&st);
}

/*
 * The first pass by the caller and up to jobs - 1 parallel workers; false
 * when none could be started (the caller then does it alone).
 */
static bool
verify_scan_parallel(VerifyState *st, List *leaves, int jobs)
{
	int			nleaves = list_length(leaves);
	int			nworkers = jobs - 1;
	Size		sharedsize = add_size(offsetof(PVerifyShared, leaves),
									  mul_size(sizeof(PVerifyLeaf), Max(nleaves, 1)));
	Size	   *scansize = palloc(sizeof(Size) * Max(nleaves, 1));
	BlockNumber *blocks = palloc(sizeof(BlockNumber) * Max(nleaves, 1));
	double		total_blocks = 0;
	Snapshot	snapshot = GetActiveSnapshot();
	ParallelContext *pcxt;
	PVerifyShared *shared;
	char	   *queues;
	shm_mq_handle **mqh;
	bool	   *done;
	char		what[128];
	int			i,
				p;

	Assert(jobs >= 2 && jobs <= PVERIFY_MAX_PARTICIPANTS);
	EnterParallelMode();
	pcxt = CreateParallelContext("wallet_ops", "WalletOpsVerifyParallelMain", nworkers);
	shm_toc_estimate_chunk(&pcxt->estimator, sharedsize);
	shm_toc_estimate_chunk(&pcxt->estimator, mul_size(PVERIFY_QUEUE_SIZE, nworkers));
	for (i = 0; i < nleaves; i++)
	{
		Relation	leaf = table_open(list_nth_oid(leaves, i), AccessShareLock);

		scansize[i] = table_parallelscan_estimate(leaf, snapshot);
		shm_toc_estimate_chunk(&pcxt->estimator, scansize[i]);
		blocks[i] = RelationGetNumberOfBlocks(leaf);
		total_blocks += blocks[i];
		table_close(leaf, NoLock);
	}
	shm_toc_estimate_keys(&pcxt->estimator, 2 + nleaves);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		/* no dynamic shared memory: no workers either */
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return false;
	}

	shared = shm_toc_allocate(pcxt->toc, sharedsize);
	shared->relid = RelationGetRelid(st->root);

	/*
	 * With two leaves or more for every participant, each reads a
	 * contiguous range of them, the ranges cut where the running total of
	 * blocks passes each participant's share.  Otherwise they share each
	 * leaf block by block.
	 */
	shared->by_range = nleaves >= 2 * jobs;
	shared->nleaves = nleaves;
	for (i = 0; i < nleaves; i++)
	{
		shared->leaves[i].relid = list_nth_oid(leaves, i);
		pg_atomic_init_u32(&shared->leaves[i].claimed, 0);
	}
	if (shared->by_range)
	{
		double		seen = 0;

		shared->range_start[0] = 0;
		p = 1;
		for (i = 0; i < nleaves && p < jobs; i++)
		{
			/* leave at least one leaf for each participant still to come */
			if (nleaves - i <= jobs - p ||
				(seen >= total_blocks * p / jobs && i > shared->range_start[p - 1]))
				shared->range_start[p++] = i;
			seen += blocks[i];
		}
		while (p < jobs)
			shared->range_start[p++] = nleaves;
	}
	shm_toc_insert(pcxt->toc, PVERIFY_KEY_SHARED, shared);

	queues = shm_toc_allocate(pcxt->toc, mul_size(PVERIFY_QUEUE_SIZE, nworkers));
	mqh = palloc(sizeof(shm_mq_handle *) * nworkers);
	for (i = 0; i < nworkers; i++)
	{
		shm_mq	   *mq = shm_mq_create(queues + i * PVERIFY_QUEUE_SIZE, PVERIFY_QUEUE_SIZE);

		shm_mq_set_receiver(mq, MyProc);
		mqh[i] = shm_mq_attach(mq, pcxt->seg, NULL);
	}
	shm_toc_insert(pcxt->toc, PVERIFY_KEY_QUEUES, queues);

	for (i = 0; i < nleaves; i++)
	{
		Relation	leaf = table_open(list_nth_oid(leaves, i), AccessShareLock);
		ParallelTableScanDesc pscan = shm_toc_allocate(pcxt->toc, scansize[i]);

		table_parallelscan_initialize(leaf, pscan, snapshot);
		shm_toc_insert(pcxt->toc, PVERIFY_KEY_SCAN(i), pscan);
		table_close(leaf, NoLock);
	}

	LaunchParallelWorkers(pcxt);
	if (pcxt->nworkers_launched == 0)
	{
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return false;
	}
	snprintf(what, sizeof(what), "%d processes reading %d partitions",
			 pcxt->nworkers_launched + 1, nleaves);
	verify_progress(st, what);
	ereport(DEBUG1,
			(errmsg_internal("verify_chain(%s): first pass by %d processes",
							 RelationGetRelationName(st->root), pcxt->nworkers_launched + 1)));

	/*
	 * The caller reads its own share (and what workers that could not be
	 * started or are slow leave).  A worker that has finished meanwhile
	 * waits to send.
	 */
	pverify_scan_share(st, shared, pcxt->toc, 0);

	/*
	 * The recorded heads, while the workers, started after this process
	 * began its share, finish theirs.
	 */
	verify_load_heads(st, NULL);

	/* take what the workers sent as it comes */
	done = palloc0(sizeof(bool) * pcxt->nworkers_launched);
	for (i = 0; i < pcxt->nworkers_launched; i++)
		shm_mq_set_handle(mqh[i], pcxt->worker[i].bgwhandle);
	for (;;)
	{
		int			ndone = 0;
		bool		progress = false;

		for (i = 0; i < pcxt->nworkers_launched; i++)
		{
			Size		len;
			void	   *data;
			shm_mq_result res;

			if (done[i])
			{
				ndone++;
				continue;
			}
			res = shm_mq_receive(mqh[i], &len, &data, true);
			if (res == SHM_MQ_SUCCESS)
			{
				pverify_take(st, data, len);
				progress = true;
			}
			else if (res == SHM_MQ_DETACHED)
				done[i] = true; /* done, or gone: an error is raised below */
		}
		if (ndone == pcxt->nworkers_launched)
			break;
		if (!progress)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1,
							 PG_WAIT_IPC);
			ResetLatch(MyLatch);
		}
		CHECK_FOR_INTERRUPTS();
	}
	WaitForParallelWorkersToFinish(pcxt);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
	return true;
}

/*
 * Whether the first pass may run in parallel: not for a temporary table
 * (only its own backend can read it), nor inside a parallel worker.
 */
static bool
verify_may_parallelize(VerifyState *st, int jobs)
{
	return jobs > 1 && !IsInParallelMode() &&
		st->root->rd_rel->relpersistence != RELPERSISTENCE_TEMP &&
		max_parallel_workers > 0;
}

static void
verify_full(VerifyState *st, int jobs)
{
	List	   *leaves = NIL;
	ListCell   *lc;
	int			n = 0;

	verify_collect_leaves(st->root, &leaves);
	if (leaves == NIL || !verify_may_parallelize(st, jobs) ||
		!verify_scan_parallel(st, leaves, jobs))
	{
		verify_load_heads(st, NULL);
		foreach(lc, leaves)
			verify_scan_leaf(st, lfirst_oid(lc), ++n, list_length(leaves), NULL);
	}
	verify_conclude(st);
}


/* ---- one chain -------------------------------------------------------------- */

/* Key values of the chain named chain_value (see docs/hash-format.md). */
static Datum *
verify_parse_chain_value(VerifyState *st, const char *chain_value)
{
	ChainRelInfo *info = st->rootinfo;
	Datum	   *keyvals = palloc(sizeof(Datum) * Max(info->nkeys, 1));
	char	  **parts = palloc(sizeof(char *) * Max(info->nkeys, 1));
	int			i;

	if (info->nkeys == 0)
	{
		if (chain_value[0] != '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("table \"%s\" has a single hash chain, named ''",
							RelationGetRelationName(st->root)),
					 errhint("Pass NULL or '' as chain_value.")));
		return keyvals;
	}
	if (info->nkeys == 1)
		parts[0] = pstrdup(chain_value);
	else
	{
		Oid			types[1] = {TEXTOID};
		Datum		values[1];
		int			ret;

		values[0] = CStringGetTextDatum(chain_value);
		ret = SPI_execute_with_args("SELECT x FROM pg_catalog.json_array_elements_text($1::pg_catalog.json)"
									" WITH ORDINALITY AS t(x, n) ORDER BY n",
									1, types, values, NULL, true, 0);
		if (ret != SPI_OK_SELECT || SPI_processed != (uint64) info->nkeys)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("chain_value \"%s\" is not a JSON array of %d values", chain_value, info->nkeys),
					 errhint("Name the chain of a table with several key columns as a JSON array of its key values, like [\"a\", \"7\"].")));
		for (i = 0; i < info->nkeys; i++)
		{
			parts[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
			if (parts[i] == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("chain_value \"%s\" contains a null", chain_value)));
		}
	}
	for (i = 0; i < info->nkeys; i++)
	{
		Oid			infunc;
		Oid			ioparam;

		getTypeInputInfo(info->keys[i].typid, &infunc, &ioparam);
		keyvals[i] = OidInputFunctionCall(infunc, parts[i], ioparam, -1);
	}
	return keyvals;
}

static void
verify_one(VerifyState *st, const char *chain_value)
{
	Datum	   *keyvals = verify_parse_chain_value(st, chain_value);
	char	   *name;
	bool	   *keynulls = palloc0(sizeof(bool) * Max(st->rootinfo->nkeys, 1));
	VChain	   *c;
	int64		last_seq;
	uint8		last_hash[CHAIN_HASH_LEN];

	name = ChainKeyName(st->rootinfo, keyvals, keynulls);
	verify_load_heads(st, name);
	c = vchain_get(st, name, true);
	c->keyvals = keyvals;
	verify_ordered_pass(st, c, &last_seq, last_hash);
	c->has_rows = last_seq > 0;
	verify_check_head(st, c, c->has_rows, last_seq, last_hash);
}

/*
 * wallet_ops.verify_chain(tbl regclass, chain_value text DEFAULT NULL)
 *	RETURNS TABLE (chain_key text, chain_seq bigint, problem text, detail text)
 */
Datum
wallet_ops_verify_chain(PG_FUNCTION_ARGS)
{
	VerifyState st;
	int			jobs = wallet_ops_verify_jobs;

	memset(&st, 0, sizeof(st));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table must not be null")));
	/* 1.0.0's two-argument declaration has no jobs */
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
	{
		jobs = PG_GETARG_INT32(2);
		if (jobs < 1 || jobs > WALLET_OPS_MAX_VERIFY_JOBS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("jobs must be between 1 and %d, not %d",
							WALLET_OPS_MAX_VERIFY_JOBS, jobs),
					 errhint("Pass 1 to verify in this process alone, or NULL for wallet_ops.verify_jobs.")));
	}
	verify_init_srf(fcinfo, &st);
	verify_open(&st, PG_GETARG_OID(0));

	/* a distributed table: every shard verifies its own chains, at once */
	if (ChainCitusIsCitusTable(PG_GETARG_OID(0)))
	{
		ChainCitusVerify(PG_GETARG_OID(0),
						 PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
						 NULL, st.tupstore, st.tupdesc);
		verify_close(&st);
		return (Datum) 0;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (PG_ARGISNULL(1))
		verify_full(&st, jobs);
	else
		verify_one(&st, text_to_cstring(PG_GETARG_TEXT_PP(1)));
	SPI_finish();
	verify_close(&st);
	return (Datum) 0;
}

/* ---- digests ---------------------------------------------------------------- */

/* The chains of a digest as ChainHeadsForEach passes them. */
typedef struct DigestHeads
{
	Oid			relid;
	ChainDigestHead *chains;		/* those with rows, in the digest's order */
	int			n;
	int			max;
	int64		rows;
} DigestHeads;

/* ChainHeadsVisit: a recorded head, overlaid with this transaction's. */
static void
digest_take_head(const char *name, int64 seq, const uint8 *hash, void *arg)
{
	DigestHeads *heads = (DigestHeads *) arg;
	ChainDigestHead *d;

	if (heads->n == heads->max)
	{
		heads->max = Max(heads->max * 2, 64);
		heads->chains = heads->chains ?
			repalloc(heads->chains, sizeof(ChainDigestHead) * heads->max) :
			palloc(sizeof(ChainDigestHead) * heads->max);
	}
	d = &heads->chains[heads->n];
	d->seq = seq;
	if (hash)
		memcpy(d->hash, hash, CHAIN_HASH_LEN);
	else
		memset(d->hash, 0, CHAIN_HASH_LEN);
	(void) ChainHeadCacheLookup(heads->relid, name, &d->seq, d->hash);
	if (d->seq <= 0)
		return;
	d->name = pstrdup(name);
	heads->rows += d->seq;
	heads->n++;
}

/*
 * leaf = H( u8(0) || bytes("wallet_ops/digest/v1") || bytes(chain_key UTF-8)
 *			 || i64(last_seq) || head_hash )
 */
static void
digest_leaf(const ChainDigestHead *d, uint8 *out)
{
	StringInfoData buf;
	char	   *utf8;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, CHAIN_MERKLE_LEAF);
	ChainEncodeString(&buf, CHAIN_DIGEST_DOMAIN, sizeof(CHAIN_DIGEST_DOMAIN) - 1);
	utf8 = pg_server_to_any(d->name, strlen(d->name), PG_UTF8);
	ChainEncodeString(&buf, utf8, strlen(utf8));
	ChainAppendI64(&buf, d->seq);
	appendBinaryStringInfo(&buf, (const char *) d->hash, CHAIN_HASH_LEN);
	ChainSha256((uint8 *) buf.data, buf.len, out);
	pfree(buf.data);
}

/*
 * Merkle root over the chains, in the order given (see docs/hash-format.md),
 * and with path not NULL, the inclusion path of leaf index: the sibling of
 * each level where the node on the way up has one, bottom-up, into path
 * (room for 64 hashes) and path_left (true when the sibling is on the left),
 * their number into *npath.
 */
void
ChainDigestMerkle(const ChainDigestHead *chains, int n, uint8 *root,
				  int index, uint8 *path, bool *path_left, int *npath)
{
	uint8	   *level;
	int			i;

	if (path)
		*npath = 0;
	if (n == 0)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		appendStringInfoChar(&buf, CHAIN_MERKLE_EMPTY);
		ChainEncodeString(&buf, CHAIN_DIGEST_DOMAIN, sizeof(CHAIN_DIGEST_DOMAIN) - 1);
		ChainSha256((uint8 *) buf.data, buf.len, root);
		pfree(buf.data);
		return;
	}
	level = palloc(CHAIN_HASH_LEN * (Size) n);
	for (i = 0; i < n; i++)
		digest_leaf(&chains[i], level + CHAIN_HASH_LEN * i);
	while (n > 1)
	{
		int			m = 0;

		/* the sibling of the node on the way up, if it has one */
		if (path && (index % 2 == 1 || index + 1 < n))
		{
			int			sibling = index % 2 == 1 ? index - 1 : index + 1;

			memcpy(path + CHAIN_HASH_LEN * *npath, level + CHAIN_HASH_LEN * sibling,
				   CHAIN_HASH_LEN);
			path_left[(*npath)++] = index % 2 == 1;
		}
		index /= 2;
		for (i = 0; i < n; i += 2)
		{
			if (i + 1 < n)
			{
				uint8		node[1 + 2 * CHAIN_HASH_LEN];

				node[0] = CHAIN_MERKLE_NODE;
				memcpy(node + 1, level + CHAIN_HASH_LEN * i, CHAIN_HASH_LEN);
				memcpy(node + 1 + CHAIN_HASH_LEN, level + CHAIN_HASH_LEN * (i + 1), CHAIN_HASH_LEN);
				ChainSha256(node, sizeof(node), level + CHAIN_HASH_LEN * m);
			}
			else
				memmove(level + CHAIN_HASH_LEN * m, level + CHAIN_HASH_LEN * i, CHAIN_HASH_LEN);
			m++;
		}
		n = m;
	}
	memcpy(root, level, CHAIN_HASH_LEN);
	pfree(level);
}

/*
 * wallet_ops.chain_digest(tbl regclass) RETURNS jsonb
 *
 * Built from the recorded heads (as this transaction sees them), so it is
 * cheap; run verify_chain to know the rows agree with them.
 */
Datum
wallet_ops_chain_digest(PG_FUNCTION_ARGS)
{
	VerifyState st;
	DigestHeads heads;
	uint8		root[CHAIN_HASH_LEN];
	StringInfoData buf;
	struct pg_tm tm;
	fsec_t		fsec;
	TimestampTz now = GetCurrentTimestamp();
	int			i;
	char		sysid[32];

	memset(&st, 0, sizeof(st));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table must not be null")));
	verify_open(&st, PG_GETARG_OID(0));
	memset(&heads, 0, sizeof(heads));
	heads.relid = RelationGetRelid(st.root);
	if (ChainCitusIsCitusTable(heads.relid))
		ChainCitusShardHeads(heads.relid, digest_take_head, &heads);	/* docs/citus.md */
	else
		ChainHeadsForEach(heads.relid, NULL, true, digest_take_head, &heads);
	ChainDigestMerkle(heads.chains, heads.n, root, -1, NULL, NULL, NULL);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"format\": \"" CHAIN_DIGEST_FORMAT "\", \"table\": ");
	escape_json(&buf, st.relname);
	if (timestamp2tm(now, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	appendStringInfo(&buf, ", \"taken_at\": \"%04d-%02d-%02dT%02d:%02d:%02d.%06dZ\"",
					 tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min,
					 tm.tm_sec, (int) fsec);
	snprintf(sysid, sizeof(sysid), UINT64_FORMAT, GetSystemIdentifier());
	appendStringInfo(&buf, ", \"system_identifier\": \"%s\"", sysid);
	appendStringInfoString(&buf, ", \"hash_format\": \"" CHAIN_ROW_DOMAIN "\", \"chains\": [");
	for (i = 0; i < heads.n; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"chain_key\": ");
		escape_json(&buf, heads.chains[i].name);
		appendStringInfo(&buf, ", \"last_seq\": " INT64_FORMAT ", \"head_hash\": \"%s\"}",
						 heads.chains[i].seq, ChainHex(heads.chains[i].hash, CHAIN_HASH_LEN));
	}
	appendStringInfo(&buf, "], \"chain_count\": %d, \"row_count\": " INT64_FORMAT
					 ", \"merkle_root\": \"%s\"}",
					 heads.n, heads.rows, ChainHex(root, CHAIN_HASH_LEN));
	verify_close(&st);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* ---- reading a digest back ------------------------------------------------ */

static const char *
digest_type_name(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "an array" : "an object";
		default:
			return "a JSON value";
	}
}

static void
digest_malformed(const char *field, const char *what, const JsonbValue *v)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 v ? errmsg("digest field \"%s\" must be %s", field, what) :
			 errmsg("digest field \"%s\" is missing", field),
			 v ? errdetail("It is %s.", digest_type_name(v)) :
			 errdetail("A digest of wallet_ops.chain_digest() has it."),
			 errhint("Pass a value returned by wallet_ops.chain_digest(), unchanged.")));
}

static JsonbValue *
digest_field(JsonbContainer *obj, const char *key, const char *path,
			 bool required)
{
	JsonbValue	k;
	JsonbValue *v;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(obj, JB_FOBJECT, &k);
	if (v == NULL && required)
		digest_malformed(path, NULL, NULL);
	return v;
}

static char *
digest_string(JsonbContainer *obj, const char *key, const char *path, bool required)
{
	JsonbValue *v = digest_field(obj, key, path, required);

	if (v == NULL)
		return NULL;
	if (v->type != jbvString)
		digest_malformed(path, "a string", v);
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* An integer field, at least min. */
static int64
digest_integer(JsonbValue *v, const char *path, int64 min)
{
	char	   *s;
	char	   *end;
	int64		n;

	if (v->type != jbvNumeric)
		digest_malformed(path, "an integer", v);
	s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	errno = 0;
	n = strtoi64(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || n < min)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("digest field \"%s\" must be an integer of at least " INT64_FORMAT,
						path, min),
				 errdetail("It is %s.", s),
				 errhint("Pass a value returned by wallet_ops.chain_digest(), unchanged.")));
	return n;
}

static void
digest_hash(const char *s, const char *path, uint8 *out)
{
	if (strlen(s) != 2 * CHAIN_HASH_LEN || !ChainHexDecode(s, strlen(s), out))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("digest field \"%s\" must be %d hexadecimal digits",
						path, 2 * CHAIN_HASH_LEN),
				 errdetail("It is \"%s\".", s),
				 errhint("Pass a value returned by wallet_ops.chain_digest(), unchanged.")));
}

/*
 * The fields a signature covers (docs/hash-format.md, "Signed digests"),
 * and the signature if there is one, into out->signature.  Read after
 * format, hash_format, merkle_root and chain_count.
 */
static void
digest_read_signature(JsonbContainer *root, ChainDigest *out)
{
	DigestSignature *sig = &out->signature;
	JsonbValue *v;
	JsonbContainer *obj;
	char	   *s;

	sig->format = CHAIN_DIGEST_FORMAT;
	sig->hash_format = digest_string(root, "hash_format", "hash_format", false);
	sig->table = digest_string(root, "table", "table", false);
	sig->taken_at = digest_string(root, "taken_at", "taken_at", false);
	sig->system_identifier = digest_string(root, "system_identifier", "system_identifier", false);
	sig->has_chain_count = out->has_count;
	sig->chain_count = out->count;
	sig->has_root = out->has_root;
	memcpy(sig->root, out->root, CHAIN_HASH_LEN);
	v = digest_field(root, "row_count", "row_count", false);
	if (v != NULL)
	{
		sig->row_count = digest_integer(v, "row_count", 0);
		sig->has_row_count = true;
	}

	v = digest_field(root, "signature", "signature", false);
	if (v == NULL)
		return;
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		digest_malformed("signature", "an object", v);
	obj = v->val.binary.data;
	s = digest_string(obj, "algorithm", "signature.algorithm", true);
	if (strcmp(s, CHAIN_SIGNATURE_ALGORITHM) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("digest signature algorithm \"%s\" is not supported", s),
				 errdetail("This version of wallet_ops checks \"%s\" signatures.",
						   CHAIN_SIGNATURE_ALGORITHM),
				 errhint("Sign digests with \"wallet_ops_verify digest --sign-key\".")));
	digest_hash(digest_string(obj, "key_id", "signature.key_id", true),
				"signature.key_id", sig->key_id);
	s = digest_string(obj, "value", "signature.value", true);
	StaticAssertStmt(CHAIN_SIGNATURE_LEN == 2 * CHAIN_HASH_LEN, "two hashes");
	if (strlen(s) != 4 * CHAIN_HASH_LEN ||
		!ChainHexDecode(s, 2 * CHAIN_HASH_LEN, sig->value) ||
		!ChainHexDecode(s + 2 * CHAIN_HASH_LEN, 2 * CHAIN_HASH_LEN,
						sig->value + CHAIN_HASH_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("digest field \"signature.value\" must be %d hexadecimal digits",
						2 * CHAIN_SIGNATURE_LEN),
				 errdetail("It is \"%s\".", s),
				 errhint("Pass a digest written by \"wallet_ops_verify digest --sign-key\", unchanged.")));
	sig->present = true;
}

void
ChainDigestParse(Jsonb *digest, bool complete, ChainDigest *out)
{
	JsonbContainer *root = &digest->root;
	JsonbContainer *arr;
	JsonbValue *v;
	char	   *s;
	HTAB	   *seen;
	int			i;

	memset(out, 0, sizeof(*out));
	if (!JB_ROOT_IS_OBJECT(digest))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("digest must be a JSON object"),
				 errdetail("It is %s.", JB_ROOT_IS_SCALAR(digest) ? "a scalar" : "an array"),
				 errhint("Pass a value returned by wallet_ops.chain_digest(), unchanged.")));

	s = digest_string(root, "format", "format", true);
	if (strcmp(s, CHAIN_DIGEST_FORMAT) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("digest format \"%s\" is not supported", s),
				 errdetail("This version of wallet_ops reads format \"%s\".", CHAIN_DIGEST_FORMAT),
				 errhint("Pass a value returned by wallet_ops.chain_digest().")));
	s = digest_string(root, "hash_format", "hash_format", complete);
	if (s != NULL && strcmp(s, CHAIN_ROW_DOMAIN) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("digest hash format \"%s\" is not supported", s),
				 errdetail("This version of wallet_ops hashes rows as \"%s\".", CHAIN_ROW_DOMAIN)));
	s = digest_string(root, "merkle_root", "merkle_root", complete);
	if (s != NULL)
	{
		digest_hash(s, "merkle_root", out->root);
		out->has_root = true;
	}
	v = digest_field(root, "chain_count", "chain_count", complete);
	if (v != NULL)
	{
		out->count = digest_integer(v, "chain_count", 0);
		out->has_count = true;
	}

	digest_read_signature(root, out);

	v = digest_field(root, "chains", "chains", true);
	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		digest_malformed("chains", "an array", v);
	arr = v->val.binary.data;
	out->nchains = JsonContainerSize(arr);
	out->chains = palloc0(sizeof(ChainDigestHead) * Max(out->nchains, 1));
	seen = ChainNameTableCreate("wallet_ops digest chains", Max(out->nchains, 16),
								sizeof(char *), CurrentMemoryContext);
	for (i = 0; i < out->nchains; i++)
	{
		ChainDigestHead *c = &out->chains[i];
		JsonbValue *elem = getIthJsonbValueFromContainer(arr, i);
		JsonbContainer *obj;
		char	   *path = psprintf("chains[%d]", i);
		bool		found;

		if (elem->type != jbvBinary || !JsonContainerIsObject(elem->val.binary.data))
			digest_malformed(path, "an object", elem);
		obj = elem->val.binary.data;
		c->name = digest_string(obj, "chain_key", psprintf("%s.chain_key", path), true);
		c->seq = digest_integer(digest_field(obj, "last_seq", psprintf("%s.last_seq", path), true),
								psprintf("%s.last_seq", path), 1);
		digest_hash(digest_string(obj, "head_hash", psprintf("%s.head_hash", path), true),
					psprintf("%s.head_hash", path), c->hash);
		(void) ChainNameTableEnter(seen, c->name, CurrentMemoryContext, &found);
		if (found)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("digest field \"%s.chain_key\" names chain \"%s\" a second time",
							path, c->name),
					 errhint("Pass a value returned by wallet_ops.chain_digest(), unchanged.")));
	}
	hash_destroy(seen);
}

/*
 * wallet_ops.verify_against_digest(tbl regclass, digest jsonb)
 *	RETURNS TABLE (chain_key text, chain_seq bigint, problem text, detail text)
 */
Datum
wallet_ops_verify_against_digest(PG_FUNCTION_ARGS)
{
	VerifyState st;
	ChainDigest digest;
	int			r;
	uint8		root[CHAIN_HASH_LEN];

	memset(&st, 0, sizeof(st));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table and digest must not be null")));
	ChainDigestParse(PG_GETARG_JSONB_P(1), true, &digest);

	verify_init_srf(fcinfo, &st);
	verify_open(&st, PG_GETARG_OID(0));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* a signed digest: its signature first */
	{
		char	   *detail;
		DigestSignatureOutcome outcome = DigestSignatureCheck(&digest.signature, &detail);

		if (DigestSignatureProblem(outcome) != NULL)
			verify_emit(&st, NULL, 0, true, DigestSignatureProblem(outcome), detail);
	}

	/* a digest edited after it was taken */
	ChainDigestMerkle(digest.chains, digest.nchains, root, -1, NULL, NULL, NULL);
	if (memcmp(root, digest.root, CHAIN_HASH_LEN) != 0 || digest.count != digest.nchains)
		verify_emit(&st, NULL, 0, true, "digest_mismatch",
					psprintf("the digest's merkle_root %s or chain_count " INT64_FORMAT " does not match its %d chains (merkle root %s)",
							 ChainHex(digest.root, CHAIN_HASH_LEN), digest.count,
							 digest.nchains, ChainHex(root, CHAIN_HASH_LEN)));

	/* a distributed table: every shard against the digest, at once */
	if (ChainCitusIsCitusTable(PG_GETARG_OID(0)))
	{
		SPI_finish();
		ChainCitusVerify(PG_GETARG_OID(0), NULL,
						 JsonbToCString(NULL, &PG_GETARG_JSONB_P(1)->root, VARSIZE(PG_GETARG_JSONB_P(1))),
						 st.tupstore, st.tupdesc);
		verify_close(&st);
		return (Datum) 0;
	}

	for (r = 0; r < digest.nchains; r++)
	{
		VChain	   *c = vchain_get(&st, digest.chains[r].name, true);

		c->attested = true;
		c->att_seq = digest.chains[r].seq;
		memcpy(c->att_hash, digest.chains[r].hash, CHAIN_HASH_LEN);
	}
	verify_full(&st, 1);
	SPI_finish();
	verify_close(&st);
	return (Datum) 0;
}
