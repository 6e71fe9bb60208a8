/*-------------------------------------------------------------------------
 *
 * chain_trigger.c
 *		The BEFORE INSERT row trigger of hash-chained tables and its
 *		per-transaction cache of chain heads.
 *
 * For each inserted row the trigger sets chain_seq, prev_hash and row_hash
 * (whatever the user supplied).  The first time a transaction touches a
 * chain, the chain's row in wallet_ops.chain_heads is created if absent and
 * locked (chain_heads.c): writers of the same chain queue behind that lock
 * until commit (in REPEATABLE READ and SERIALIZABLE the second one gets a
 * serialization failure), writers of different chains never wait.  Further
 * rows of that chain in the transaction use the cache, so a bulk insert
 * touches chain_heads once per chain, not per row.
 *
 * The cache follows subtransactions the way GUC nest levels do: an entry
 * remembers the state it had in each enclosing level it was changed in, a
 * subtransaction abort restores it (and forgets entries the subtransaction
 * created, whose head row lock it also lost), a commit merges it into the
 * parent level.
 *
 * The heads are written back just before the transaction commits or is
 * prepared (XACT_EVENT_PRE_COMMIT / PRE_PREPARE), when the cache holds the
 * final state: the locked row of each chain the transaction extended is
 * updated in place, found by its TID.  A row the
 * trigger numbered can still be dropped by INSERT ... ON CONFLICT DO NOTHING
 * (BEFORE triggers run before the conflict check) or by a later BEFORE
 * trigger returning NULL; when either was possible for a chain (executor
 * hooks spot running ON CONFLICT statements, the relation's trigger list
 * shows later BEFORE triggers), the chain's rows with chain_seq in the range
 * the transaction handed out are counted before that UPDATE, and the commit
 * fails instead of leaving a gap in the chain.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_trigger.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/plannodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "chain_citus.h"
#include "chain_config.h"
#include "chain_hash.h"
#include "chain_heads.h"
#include "chain_trigger.h"
#include "citus_meta.h"
#include "common.h"

PG_FUNCTION_INFO_V1(wallet_ops_chain_before_insert);

/* ---- relation info cache (backend lifetime) ---------------------------- */

typedef struct ChainRelEntry
{
	Oid			relid;			/* hash key */
	ChainRelInfo *info;
	MemoryContext cxt;
	SPIPlanPtr	check_plan;		/* kept plan of the commit-time check */
	bool		citus_shard;	/* a Citus shard, its own chained root */
} ChainRelEntry;

static HTAB *chain_rel_cache = NULL;
static bool chain_callbacks_registered = false;

/* ---- head cache (one transaction) -------------------------------------- */

typedef struct ChainHeadKey
{
	Oid			relid;			/* the chained (root) table */
	const char *name;			/* the chain's name */
} ChainHeadKey;

typedef struct ChainHeadSave
{
	int			level;
	int64		seq;
	uint8		hash[CHAIN_HASH_LEN];
	struct ChainHeadSave *next;
} ChainHeadSave;

typedef struct ChainHeadEntry
{
	ChainHeadKey key;
	int			create_level;	/* nest level that created (and locked) it */
	int			level;			/* nest level of the current state */
	int64		seq;			/* current head */
	uint8		hash[CHAIN_HASH_LEN];
	int64		start_seq;		/* head as read from chain_heads */
	ItemPointerData tid;		/* its row there, locked or created by us */
	bool		need_check;		/* a numbered row might not have landed */
	ChainHeadSave *saves;
	int			nkeys;
	Datum	   *keyvals;		/* the chain's key values */
	int			keylen;
	char	   *keybytes;		/* their fields (ChainKeyBytes) */
} ChainHeadEntry;

static HTAB *chain_heads = NULL;
static MemoryContext chain_heads_cxt = NULL;

/*
 * The same entries by (table, key values' bytes), which is how the trigger
 * finds a row's chain: no text output of the key and no string hashing or
 * comparison per row (by name, the lookup was a quarter of the trigger's
 * time in a bulk insert).  A simplehash keeps the hash in its entry and
 * compares inline.
 */
typedef struct ChainBytesKey
{
	Oid			relid;
	int			len;
	const char *data;
} ChainBytesKey;

typedef struct ChainBytesRef
{
	ChainBytesKey key;
	uint32		hash;
	char		status;			/* for simplehash */
	ChainHeadEntry *entry;
} ChainBytesRef;

static inline uint32
chain_bytes_hash(const ChainBytesKey *k)
{
	return hash_combine(murmurhash32(k->relid),
						hash_bytes((const unsigned char *) k->data, k->len));
}

static inline bool
chain_bytes_equal(const ChainBytesKey *a, const ChainBytesKey *b)
{
	return a->relid == b->relid && a->len == b->len &&
		memcmp(a->data, b->data, a->len) == 0;
}

#define SH_PREFIX chainbytes
#define SH_ELEMENT_TYPE ChainBytesRef
#define SH_KEY_TYPE ChainBytesKey
#define SH_KEY key
#define SH_HASH_KEY(tb, k) chain_bytes_hash(&(k))
#define SH_EQUAL(tb, a, b) chain_bytes_equal(&(a), &(b))
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) (a)->hash
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

static chainbytes_hash *chain_heads_by_bytes = NULL;

/* The key bytes of the row at hand, kept across rows. */
static StringInfoData chain_key_bytes;

static void chain_xact_callback(XactEvent event, void *arg);
static void chain_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								   SubTransactionId parentSubid, void *arg);
static void chain_relcache_callback(Datum arg, Oid relid);

/*
 * Executors of statements with INSERT ... ON CONFLICT (main query or
 * data-modifying WITH) that are started and not yet ended, as seen by our
 * ExecutorStart/ExecutorEnd hooks.  When the hooks were installed during
 * the current transaction (lazily, by the first trigger call of a backend
 * that did not run ChainInstallHooks() at load time), an executor started
 * before may be running unseen: chain_hooks_partial says so until the
 * transaction ends.
 */
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static bool chain_hooks_installed = false;
static bool chain_hooks_partial = false;
static List *chain_conflict_queries = NIL;

static uint32
chain_head_hash(const void *key, Size keysize)
{
	const ChainHeadKey *k = key;

	return hash_combine(murmurhash32(k->relid),
						hash_bytes((const unsigned char *) k->name, strlen(k->name)));
}

static int
chain_head_match(const void *key1, const void *key2, Size keysize)
{
	const ChainHeadKey *a = key1;
	const ChainHeadKey *b = key2;

	if (a->relid != b->relid)
		return 1;
	return strcmp(a->name, b->name);
}

static void *
chain_head_keycopy(void *dest, const void *src, Size keysize)
{
	ChainHeadKey *d = dest;
	const ChainHeadKey *s = src;

	d->relid = s->relid;
	d->name = MemoryContextStrdup(chain_heads_cxt, s->name);
	return dest;
}

/* Does a plan contain an INSERT ... ON CONFLICT? */
static bool
chain_plan_has_conflict(Plan *plan)
{
	for (; plan != NULL; plan = plan->lefttree)
	{
		if (IsA(plan, ModifyTable) &&
			((ModifyTable *) plan)->onConflictAction != ONCONFLICT_NONE)
			return true;
	}
	return false;
}

static void
chain_executor_start(QueryDesc *queryDesc, int eflags)
{
	PlannedStmt *ps = queryDesc->plannedstmt;
	bool		conflict = false;

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	if (ps != NULL && ps->commandType != CMD_SELECT && ps->commandType != CMD_UTILITY)
		conflict = chain_plan_has_conflict(ps->planTree);
	if (ps != NULL && !conflict && ps->hasModifyingCTE)
	{
		ListCell   *lc;

		foreach(lc, ps->subplans)
		{
			if (chain_plan_has_conflict((Plan *) lfirst(lc)))
			{
				conflict = true;
				break;
			}
		}
	}
	if (conflict)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		chain_conflict_queries = lappend(chain_conflict_queries, queryDesc);
		MemoryContextSwitchTo(old);
	}
}

static void
chain_executor_end(QueryDesc *queryDesc)
{
	if (chain_conflict_queries != NIL)
		chain_conflict_queries = list_delete_ptr(chain_conflict_queries, queryDesc);
	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

/*
 * Install the executor hooks that tell the trigger whether a row it numbers
 * may be skipped by ON CONFLICT.  Best called from _PG_init; the trigger
 * calls it on first use otherwise (and then checks its rows at commit for
 * the rest of that transaction).
 */
void
ChainInstallHooks(void)
{
	if (chain_hooks_installed)
		return;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = chain_executor_start;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = chain_executor_end;
	chain_hooks_installed = true;
	if (IsTransactionState())
		chain_hooks_partial = true;
}

static void
chain_register_callbacks(void)
{
	if (chain_callbacks_registered)
		return;
	ChainInstallHooks();
	RegisterXactCallback(chain_xact_callback, NULL);
	RegisterSubXactCallback(chain_subxact_callback, NULL);
	CacheRegisterRelcacheCallback(chain_relcache_callback, (Datum) 0);
	chain_callbacks_registered = true;
}

static void
chain_heads_init(void)
{
	HASHCTL		ctl;

	if (chain_heads != NULL)
		return;
	chain_register_callbacks();
	chain_heads_cxt = AllocSetContextCreate(TopMemoryContext,
											"wallet_ops chain heads",
											ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(ChainHeadKey);
	ctl.entrysize = sizeof(ChainHeadEntry);
	ctl.hash = chain_head_hash;
	ctl.match = chain_head_match;
	ctl.keycopy = chain_head_keycopy;
	ctl.hcxt = chain_heads_cxt;
	chain_heads = hash_create("wallet_ops chain heads", 64, &ctl,
							  HASH_ELEM | HASH_FUNCTION | HASH_COMPARE |
							  HASH_KEYCOPY | HASH_CONTEXT);
	chain_heads_by_bytes = chainbytes_create(chain_heads_cxt, 64, NULL);
}

static void
chain_heads_reset(void)
{
	if (chain_heads_cxt != NULL)
		MemoryContextDelete(chain_heads_cxt);
	chain_heads_cxt = NULL;
	chain_heads = NULL;
	chain_heads_by_bytes = NULL;
}

/* ---- relation info ----------------------------------------------------- */

static void
chain_relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	ChainRelEntry *e;

	if (chain_rel_cache == NULL)
		return;
	hash_seq_init(&status, chain_rel_cache);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		if (relid == InvalidOid || e->relid == relid ||
			(e->info && e->info->rootrelid == relid))
		{
			if (e->info)
				e->info->valid = false;
		}
	}
}

/*
 * Whether tgname is the name of the chain's trigger on rel: the name
 * enable_hash_chain() gives it, or, on a Citus shard (rel named
 * <table>_<shard id>), that name with the shard's suffix, as Citus names
 * the copies it makes.  chain_citus.c checks that rel is such a shard.
 */
static bool
chain_trigger_name_ok(const char *tgname, Relation rel)
{
	return CitusMetaTriggerNameIs(tgname, CHAIN_TRIGGER_NAME, rel);
}

/*
 * The cache entry of rel (a chained table, one of its partitions, or a
 * Citus shard of a chained distributed table: see chain_citus.c), built
 * on first use and after an invalidation.
 */
static ChainRelEntry *
chain_rel_entry(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	ChainRelEntry *e;
	bool		found;
	ChainConfig cfg;
	Oid			root;
	MemoryContext old;
	MemoryContext cxt;

	if (chain_rel_cache == NULL)
	{
		HASHCTL		ctl;

		chain_register_callbacks();
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(ChainRelEntry);
		chain_rel_cache = hash_create("wallet_ops chained relations", 16, &ctl,
									  HASH_ELEM | HASH_BLOBS);
	}
	e = hash_search(chain_rel_cache, &relid, HASH_FIND, &found);
	if (found && e->info != NULL && e->info->valid)
		return e;
	if (found)
	{
		/* stale: forget it (nobody holds it between two calls) */
		if (e->cxt)
			MemoryContextDelete(e->cxt);
		if (e->check_plan)
			SPI_freeplan(e->check_plan);
		hash_search(chain_rel_cache, &relid, HASH_REMOVE, NULL);
	}

	cxt = AllocSetContextCreate(CacheMemoryContext, "wallet_ops chained relation",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		bool		shard = false;

		root = ChainFindRoot(relid, &cfg);
		if (!OidIsValid(root) && ChainShardConfigLoad(rel, &cfg))
		{
			root = relid;
			shard = true;
		}
		if (!OidIsValid(root))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"%s\" is not hash-chained",
							RelationGetRelationName(rel)),
					 errhint("Use wallet_ops.enable_hash_chain() to chain it; the trigger wallet_ops._chain_before_insert() cannot be used on its own.")));
		e = NULL;
		{
			ChainRelInfo *info = ChainRelInfoBuild(rel, &cfg);

			MemoryContextSwitchTo(old);
			e = hash_search(chain_rel_cache, &relid, HASH_ENTER, NULL);
			e->info = info;
			e->cxt = cxt;
			e->check_plan = NULL;
			e->citus_shard = shard;
		}
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return e;
}

/* ---- heads ------------------------------------------------------------- */

static SPIPlanPtr
chain_keep_plan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

/*
 * A Citus shard moved to another node (citus_move_shard_placement, a
 * rebalance, a split) arrives without its heads, which stay where it was:
 * a chain with no recorded head (*seq == 0) continues from its last row in
 * the shard, found under the head's lock, instead of starting again.
 */
static void
chain_head_adopt(const ChainRelInfo *info, const Datum *keyvals, int64 *seq,
				 uint8 *hash)
{
	Relation	rel = table_open(info->rootrelid, AccessShareLock);
	StringInfoData sql;
	Oid		   *types = palloc(sizeof(Oid) * Max(info->nkeys, 1));
	WalletOpsOwnerContext owner_ctx;
	int			ret;
	int			i;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT chain_seq, row_hash FROM %s WHERE true",
					 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												RelationGetRelationName(rel)));
	for (i = 0; i < info->nkeys; i++)
	{
		appendStringInfo(&sql, " AND %s OPERATOR(pg_catalog.=) $%d",
						 quote_identifier(NameStr(info->keys[i].name)), i + 1);
		types[i] = info->keys[i].typid;
	}
	appendStringInfoString(&sql, " AND chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* as the extension's owner: an ingest role may only insert */
	WalletOpsOwnerBegin(&owner_ctx);
	ret = SPI_execute_with_args(sql.data, info->nkeys, types, (Datum *) keyvals,
								NULL, true, 1);
	WalletOpsOwnerEnd(&owner_ctx);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the last row of a chain of \"%s\": %s",
			 RelationGetRelationName(rel), SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		bool		seqnull,
					hashnull;
		Datum		s = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &seqnull);
		Datum		h = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &hashnull);

		if (!seqnull && !hashnull &&
			VARSIZE_ANY_EXHDR(DatumGetByteaPP(h)) == CHAIN_HASH_LEN)
		{
			*seq = DatumGetInt64(s);
			memcpy(hash, VARDATA_ANY(DatumGetByteaPP(h)), CHAIN_HASH_LEN);
		}
	}
	SPI_finish();
	table_close(rel, NoLock);
}

/*
 * The cache entry of the chain whose key values are keyvals, their fields
 * keybytes (ChainKeyBytes), locking its head on first touch.
 */
static ChainHeadEntry *
chain_head_get(const ChainRelInfo *info, bool citus_shard, const Datum *keyvals,
			   StringInfo keybytes)
{
	ChainBytesKey bkey;
	ChainBytesRef *ref;
	ChainHeadKey key;
	ChainHeadEntry *e;
	bool		found;
	int64		seq;
	uint8		hash[CHAIN_HASH_LEN];
	uint8		genesis[CHAIN_HASH_LEN];
	ChainHeadsAccess acc;
	ItemPointerData tid;
	int			i;

	chain_heads_init();
	bkey.relid = info->rootrelid;
	bkey.len = keybytes->len;
	bkey.data = keybytes->data;
	ref = chainbytes_lookup(chain_heads_by_bytes, bkey);
	if (ref != NULL)
		return ref->entry;

	key.relid = info->rootrelid;
	key.name = ChainKeyName(info, keyvals, NULL);
	e = hash_search(chain_heads, &key, HASH_FIND, &found);
	if (!found)
	{
		ChainGenesis(info, keyvals, genesis);
		ChainHeadsOpen(&acc);
		ChainHeadsLock(&acc, info->rootrelid, key.name, genesis, &seq, hash, &tid);
		ChainHeadsClose(&acc);
		if (seq == 0 && citus_shard)
			chain_head_adopt(info, keyvals, &seq, hash);

		e = hash_search(chain_heads, &key, HASH_ENTER, &found);
		Assert(!found);
		e->create_level = GetCurrentTransactionNestLevel();
		e->level = e->create_level;
		e->seq = seq;
		e->start_seq = seq;
		e->need_check = false;
		e->tid = tid;
		memcpy(e->hash, hash, CHAIN_HASH_LEN);
		e->saves = NULL;
		e->nkeys = info->nkeys;
		e->keyvals = MemoryContextAlloc(chain_heads_cxt, sizeof(Datum) * Max(info->nkeys, 1));
		for (i = 0; i < info->nkeys; i++)
		{
			int16		typlen;
			bool		typbyval;
			MemoryContext old;

			get_typlenbyval(info->keys[i].typid, &typlen, &typbyval);
			old = MemoryContextSwitchTo(chain_heads_cxt);
			e->keyvals[i] = datumCopy(keyvals[i], typbyval, typlen);
			MemoryContextSwitchTo(old);
		}
		e->keylen = keybytes->len;
		e->keybytes = MemoryContextAlloc(chain_heads_cxt, Max(keybytes->len, 1));
		memcpy(e->keybytes, keybytes->data, keybytes->len);
	}

	bkey.data = e->keybytes;
	ref = chainbytes_insert(chain_heads_by_bytes, bkey, &found);
	ref->entry = e;
	return e;
}

static void
chain_head_advance(ChainHeadEntry *e, int64 seq, const uint8 *hash)
{
	int			level = GetCurrentTransactionNestLevel();

	if (e->level < level)
	{
		ChainHeadSave *s = MemoryContextAlloc(chain_heads_cxt, sizeof(ChainHeadSave));

		s->level = e->level;
		s->seq = e->seq;
		memcpy(s->hash, e->hash, CHAIN_HASH_LEN);
		s->next = e->saves;
		e->saves = s;
		e->level = level;
	}
	e->seq = seq;
	memcpy(e->hash, hash, CHAIN_HASH_LEN);
}

bool
ChainHeadCacheLookup(Oid rootrelid, const char *name, int64 *seq, uint8 *hash)
{
	ChainHeadKey key;
	ChainHeadEntry *e;

	if (chain_heads == NULL)
		return false;
	key.relid = rootrelid;
	key.name = name;
	e = hash_search(chain_heads, &key, HASH_FIND, NULL);
	if (e == NULL)
		return false;
	*seq = e->seq;
	memcpy(hash, e->hash, CHAIN_HASH_LEN);
	return true;
}

/* ---- transaction events ------------------------------------------------ */

static void
chain_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	HASH_SEQ_STATUS status;
	ChainHeadEntry *e;

	if (chain_heads == NULL)
		return;
	if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
		return;

	hash_seq_init(&status, chain_heads);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		if (event == SUBXACT_EVENT_ABORT_SUB)
		{
			if (e->create_level >= level)
			{
				/* created (and locked) in the aborted subtransaction */
				ChainBytesKey bkey = {e->key.relid, e->keylen, e->keybytes};

				chainbytes_delete(chain_heads_by_bytes, bkey);
				hash_search(chain_heads, &e->key, HASH_REMOVE, NULL);
				continue;
			}
			if (e->level >= level)
			{
				ChainHeadSave *s = e->saves;

				Assert(s != NULL && s->level < level);
				e->seq = s->seq;
				memcpy(e->hash, s->hash, CHAIN_HASH_LEN);
				e->level = s->level;
				e->saves = s->next;
				pfree(s);
			}
		}
		else
		{
			if (e->create_level >= level)
				e->create_level = level - 1;
			if (e->level >= level)
			{
				if (e->saves != NULL && e->saves->level >= level - 1)
				{
					ChainHeadSave *s = e->saves;

					e->saves = s->next;
					pfree(s);
				}
				e->level = level - 1;
			}
		}
	}
}

static int
chain_head_cmp(const void *a, const void *b)
{
	Oid			ra = (*(ChainHeadEntry *const *) a)->key.relid;
	Oid			rb = (*(ChainHeadEntry *const *) b)->key.relid;

	return ra < rb ? -1 : (ra > rb ? 1 : 0);
}

/*
 * Check that every row the trigger numbered in this transaction for the
 * chains ents[0..n-1] (all of one table) is in the table: one query that
 * counts, per chain, the rows in the range of chain_seq handed out, through
 * the (key, chain_seq) index.
 */
static void
chain_check_rows(ChainHeadEntry **ents, int n)
{
	Oid			relid = ents[0]->key.relid;
	Relation	root = table_open(relid, AccessShareLock);
	ChainRelEntry *re;
	ChainRelInfo *info;
	Oid		   *types;
	Datum	   *values;
	Datum	   *elems;
	int64		expected = 0;
	int64		counted;
	bool		isnull;
	int			nk;
	int			i,
				j;
	int			ret;

	re = chain_rel_entry(root);
	info = re->info;
	nk = info->nkeys;
	types = palloc(sizeof(Oid) * (nk + 2));
	values = palloc(sizeof(Datum) * (nk + 2));
	elems = palloc(sizeof(Datum) * n);

	for (i = 0; i < nk; i++)
	{
		ChainColumn *k = &info->keys[i];
		int16		typlen;
		bool		typbyval;
		char		typalign;

		types[i] = get_array_type(k->typid);
		if (!OidIsValid(types[i]))
			elog(ERROR, "type %s has no array type", format_type_be(k->typid));
		get_typlenbyvalalign(k->typid, &typlen, &typbyval, &typalign);
		for (j = 0; j < n; j++)
			elems[j] = ents[j]->keyvals[i];
		values[i] = PointerGetDatum(construct_array(elems, n, k->typid, typlen,
													typbyval, typalign));
	}
	for (j = 0; j < n; j++)
		elems[j] = Int64GetDatum(ents[j]->start_seq);
	values[nk] = PointerGetDatum(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	for (j = 0; j < n; j++)
	{
		elems[j] = Int64GetDatum(ents[j]->seq);
		expected += ents[j]->seq - ents[j]->start_seq;
	}
	values[nk + 1] = PointerGetDatum(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	types[nk] = INT8ARRAYOID;
	types[nk + 1] = INT8ARRAYOID;

	/* the query depends on the configuration only: prepared once per table */
	if (re->check_plan == NULL)
	{
		StringInfoData sql;

		initStringInfo(&sql);
		appendStringInfoString(&sql, "SELECT pg_catalog.sum(s.c)::pg_catalog.int8 FROM ROWS FROM (");
		for (i = 0; i < nk + 2; i++)
			appendStringInfo(&sql, "%spg_catalog.unnest($%d)", i > 0 ? ", " : "", i + 1);
		appendStringInfoString(&sql, ") AS u(");
		for (i = 0; i < nk; i++)
			appendStringInfo(&sql, "k%d, ", i + 1);
		appendStringInfo(&sql, "lo, hi), LATERAL (SELECT pg_catalog.count(*) AS c FROM %s r WHERE ",
						 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(root)),
													RelationGetRelationName(root)));
		for (i = 0; i < nk; i++)
			appendStringInfo(&sql, "r.%s OPERATOR(pg_catalog.=) u.k%d AND ",
							 quote_identifier(NameStr(info->keys[i].name)), i + 1);
		appendStringInfoString(&sql, "r.chain_seq OPERATOR(pg_catalog.>) u.lo"
							   " AND r.chain_seq OPERATOR(pg_catalog.<=) u.hi) s");
		re->check_plan = chain_keep_plan(sql.data, nk + 2, types);
	}

	ret = SPI_execute_plan(re->check_plan, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not count the rows of \"%s\": %s",
			 RelationGetRelationName(root), SPI_result_code_string(ret));
	counted = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull));
	if (isnull)
		counted = 0;
	if (counted != expected)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("could not commit rows of hash-chained table \"%s\"",
						RelationGetRelationName(root)),
				 errdetail("Rows numbered by the hash chain trigger in this transaction: " INT64_FORMAT "; rows of them in the table: " INT64_FORMAT ".",
						   expected, counted),
				 errhint("A row was dropped after it was hashed, by INSERT ... ON CONFLICT DO NOTHING or by a BEFORE trigger that fires after \"" CHAIN_TRIGGER_NAME "\"; insert such rows with INSERT ... SELECT ... WHERE NOT EXISTS instead.")));
	table_close(root, NoLock);
}

/*
 * Write every head the transaction moved, after checking that each row the
 * trigger numbered is in the table.
 */
static void
chain_flush_heads(void)
{
	HASH_SEQ_STATUS status;
	ChainHeadEntry *e;
	ChainHeadEntry **dirty;
	ChainHeadEntry **checks;
	int			ndirty = 0;
	int			nchecks;
	WalletOpsOwnerContext owner_ctx;
	ChainHeadsAccess acc;
	int			i,
				first;

	dirty = MemoryContextAlloc(chain_heads_cxt,
							   sizeof(ChainHeadEntry *) * Max(hash_get_num_entries(chain_heads), 1));
	hash_seq_init(&status, chain_heads);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		/* a table dropped by this transaction took its heads along */
		if (e->seq != e->start_seq &&
			SearchSysCacheExists1(RELOID, ObjectIdGetDatum(e->key.relid)))
			dirty[ndirty++] = e;
	}
	if (ndirty == 0)
		return;
	checks = MemoryContextAlloc(chain_heads_cxt, sizeof(ChainHeadEntry *) * ndirty);

	/*
	 * Make the last statement's rows (and the heads it created) visible to
	 * the check and to the updates.
	 */
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());

	/*
	 * The rows, one query per table, of the chains where a numbered row may
	 * have been dropped (see chain_row_may_vanish).
	 */
	nchecks = 0;
	for (i = 0; i < ndirty; i++)
		if (dirty[i]->need_check)
			checks[nchecks++] = dirty[i];
	if (nchecks > 0)
	{
		/* grouped by table */
		qsort(checks, nchecks, sizeof(ChainHeadEntry *), chain_head_cmp);
		WalletOpsOwnerBegin(&owner_ctx);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		for (first = 0, i = 1; i <= nchecks; i++)
		{
			if (i == nchecks || checks[i]->key.relid != checks[first]->key.relid)
			{
				chain_check_rows(checks + first, i - first);
				first = i;
			}
		}
		SPI_finish();
		WalletOpsOwnerEnd(&owner_ctx);
	}

	ChainHeadsOpen(&acc);
	for (i = 0; i < ndirty; i++)
	{
		e = dirty[i];
		ChainHeadsWrite(&acc, e->key.relid, e->key.name, &e->tid, e->seq, e->hash);
		e->start_seq = e->seq;
	}
	ChainHeadsClose(&acc);
	PopActiveSnapshot();
}

static void
chain_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			if (chain_heads != NULL)
				chain_flush_heads();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			chain_heads_reset();
			list_free(chain_conflict_queries);
			chain_conflict_queries = NIL;
			chain_hooks_partial = false;
			break;
		default:
			break;
	}
}

/* ---- the trigger ------------------------------------------------------- */

/*
 * Can a row this trigger call numbers still be dropped before it reaches
 * the table?  PostgreSQL runs BEFORE ROW triggers before the ON CONFLICT
 * check, and a BEFORE ROW trigger that fires after ours may return NULL;
 * a foreign table's wrapper may skip the row as well.  Only then are the
 * chain's rows counted at commit: every other numbered row is inserted or
 * the statement fails.
 */
static bool
chain_row_may_vanish(TriggerData *trigdata)
{
	Relation	rel = trigdata->tg_relation;
	TriggerDesc *td = rel->trigdesc;
	bool		after_ours = false;
	int			i;

	if (chain_hooks_partial || chain_conflict_queries != NIL)
		return true;
	if (rel->rd_rel->relkind == RELKIND_FOREIGN_TABLE)
		return true;
	if (td == NULL)
		return true;
	for (i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (t->tgoid == trigdata->tg_trigger->tgoid)
		{
			after_ours = true;
			continue;
		}
		/* triggers fire in name order: any later one that may fire counts */
		if (after_ours && t->tgenabled != TRIGGER_DISABLED &&
			TRIGGER_TYPE_MATCHES(t->tgtype, TRIGGER_TYPE_ROW,
								 TRIGGER_TYPE_BEFORE, TRIGGER_TYPE_INSERT))
			return true;
	}
	/* not found: be safe */
	return !after_ours;
}

bool
ChainTriggerFiresAfterOurs(const char *tgname, int16 tgtype)
{
	return strcmp(tgname, CHAIN_TRIGGER_NAME) > 0 &&
		TRIGGER_TYPE_MATCHES(tgtype, TRIGGER_TYPE_ROW,
							 TRIGGER_TYPE_BEFORE, TRIGGER_TYPE_INSERT);
}

void
ChainCheckNoLateTriggers(Oid relid)
{
	List	   *tree = find_all_inheritors(relid, AccessShareLock, NULL);
	ListCell   *lc;

	foreach(lc, tree)
	{
		Relation	rel = table_open(lfirst_oid(lc), NoLock);
		TriggerDesc *td = rel->trigdesc;
		int			i;

		for (i = 0; td != NULL && i < td->numtriggers; i++)
		{
			Trigger    *t = &td->triggers[i];

			if (ChainTriggerFiresAfterOurs(t->tgname, t->tgtype))
				ChainReportLateTrigger(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
									   t->tgname, RelationGetRelationName(rel));
		}
		table_close(rel, NoLock);
	}
}

void
ChainCheckNoRowsToAdopt(Oid relid, Oid parent)
{
	List	   *tree = find_all_inheritors(relid, AccessShareLock, NULL);
	ListCell   *lc;

	foreach(lc, tree)
	{
		Relation	rel = table_open(lfirst_oid(lc), NoLock);
		TableScanDesc scan;
		TupleTableSlot *slot;
		bool		has_rows = false;

		if (RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		{
			slot = table_slot_create(rel, NULL);
			scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
			has_rows = table_scan_getnextslot(scan, ForwardScanDirection, slot);
			table_endscan(scan);
			ExecDropSingleTupleTableSlot(slot);
		}
		if (has_rows)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot attach table \"%s\" holding rows to hash-chained table \"%s\"",
							RelationGetRelationName(rel), get_rel_name(parent)),
					 errdetail("Its rows were not chained by the table's trigger: their hashes, if any, prove nothing."),
					 errhint("Attach an empty table, then insert the rows through \"%s\".",
							 get_rel_name(parent))));
		table_close(rel, NoLock);
	}
}

void
ChainReportLateTrigger(int sqlerrcode, const char *tgname, const char *relname)
{
	ereport(ERROR,
			(errcode(sqlerrcode),
			 errmsg("trigger \"%s\" of table \"%s\" would fire after the hash chain's trigger",
					tgname, relname),
			 errdetail("BEFORE INSERT row triggers fire in name order; one whose name sorts after \"%s\" could change a row after it was hashed.",
					   CHAIN_TRIGGER_NAME),
			 errhint("Choose a trigger name that sorts before \"%s\".",
					 CHAIN_TRIGGER_NAME)));
}

/*
 * wallet_ops._chain_before_insert(): BEFORE INSERT FOR EACH ROW on a
 * hash-chained table (cloned to its partitions).
 */
Datum
wallet_ops_chain_before_insert(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	tuple;
	HeapTuple	newtuple;
	ChainRelEntry *entry;
	ChainRelInfo *info;
	Datum	   *values;
	bool	   *nulls;
	Datum	   *keyvals;
	bool	   *keynulls;
	Datum	   *colvals;
	bool	   *colnulls;
	ChainHeadEntry *head;
	int64		seq;
	uint8		hash[CHAIN_HASH_LEN];
	uint8		prev[CHAIN_HASH_LEN];
	int			i;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"_chain_before_insert\" was not called by trigger manager")));
	trigdata = (TriggerData *) fcinfo->context;
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"_chain_before_insert\" must be fired BEFORE INSERT FOR EACH ROW")));

	/*
	 * PUBLIC may execute this function (PostgreSQL checks EXECUTE as the
	 * role creating a partition when it clones the trigger to it), so it
	 * fires only as the trigger enable_hash_chain() made: under another name
	 * it would number rows a second time.
	 */
	if (!chain_trigger_name_ok(trigdata->tg_trigger->tgname, trigdata->tg_relation))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"_chain_before_insert\" must be fired as trigger \"%s\"",
						CHAIN_TRIGGER_NAME),
				 errdetail("Trigger \"%s\" of table \"%s\" uses it.",
						   trigdata->tg_trigger->tgname,
						   RelationGetRelationName(trigdata->tg_relation)),
				 errhint("Use wallet_ops.enable_hash_chain() to chain a table.")));

	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);
	tuple = trigdata->tg_trigtuple;
	entry = chain_rel_entry(rel);
	info = entry->info;

	values = palloc(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(tuple, desc, values, nulls);

	/*
	 * On a Citus shard, a row that arrives already chained is a row of a
	 * chain being copied in: create_distributed_table() of a chained table
	 * that has rows fires this trigger on each copied row (moves do not).
	 * Numbering it again would rewrite sealed rows (docs/citus.md).
	 */
	if (entry->citus_shard &&
		(!nulls[info->seq_attnum - 1] || !nulls[info->prev_attnum - 1] ||
		 !nulls[info->hash_attnum - 1]))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot insert an already chained row into shard \"%s\" of a hash-chained table",
						RelationGetRelationName(rel)),
				 errdetail("The row has chain_seq, prev_hash or row_hash set, as the rows that create_distributed_table() copies from a chained table that has rows."),
				 errhint("Distribute a hash-chained table while it is empty, and leave chain_seq, prev_hash and row_hash out of the rows you insert.")));

	keyvals = palloc(sizeof(Datum) * Max(info->nkeys, 1));
	keynulls = palloc(sizeof(bool) * Max(info->nkeys, 1));
	for (i = 0; i < info->nkeys; i++)
	{
		AttrNumber	a = info->keys[i].attnum;

		keyvals[i] = values[a - 1];
		keynulls[i] = nulls[a - 1];
		if (keynulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("chain key column \"%s\" of table \"%s\" cannot be null",
							NameStr(info->keys[i].name), RelationGetRelationName(rel))));
	}
	colvals = palloc(sizeof(Datum) * info->ncols);
	colnulls = palloc(sizeof(bool) * info->ncols);
	for (i = 0; i < info->ncols; i++)
	{
		AttrNumber	a = info->cols[i].attnum;

		colvals[i] = values[a - 1];
		colnulls[i] = nulls[a - 1];
	}

	if (chain_key_bytes.data == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		initStringInfo(&chain_key_bytes);
		MemoryContextSwitchTo(old);
	}
	resetStringInfo(&chain_key_bytes);
	ChainKeyBytes(info, keyvals, &chain_key_bytes);
	head = chain_head_get(info, entry->citus_shard, keyvals, &chain_key_bytes);
	seq = head->seq + 1;
	memcpy(prev, head->hash, CHAIN_HASH_LEN);
	ChainRowHash(info, seq, prev, colvals, colnulls, hash);
	chain_head_advance(head, seq, hash);
	if (!head->need_check && chain_row_may_vanish(trigdata))
		head->need_check = true;

	/*
	 * Form the new row from the values already deformed: what
	 * heap_modify_tuple() would do, without deforming the row again.
	 */
	values[info->seq_attnum - 1] = Int64GetDatum(seq);
	nulls[info->seq_attnum - 1] = false;
	values[info->prev_attnum - 1] = PointerGetDatum(ChainHashBytea(prev));
	nulls[info->prev_attnum - 1] = false;
	values[info->hash_attnum - 1] = PointerGetDatum(ChainHashBytea(hash));
	nulls[info->hash_attnum - 1] = false;
	newtuple = heap_form_tuple(desc, values, nulls);
	newtuple->t_data->t_ctid = tuple->t_data->t_ctid;
	newtuple->t_self = tuple->t_self;
	newtuple->t_tableOid = tuple->t_tableOid;
	return PointerGetDatum(newtuple);
}
