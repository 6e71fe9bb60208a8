/*-------------------------------------------------------------------------
 *
 * chain_heads.c
 *		The only code that reads or writes wallet_ops.chain_heads: on the
 *		insert path straight through the table and index access methods,
 *		elsewhere through SPI.
 *
 * Every transaction that extends a chain locks the chain's head row on its
 * first insert into the chain and writes it at commit.  Done through SPI
 * (SELECT ... FOR UPDATE, INSERT ... ON CONFLICT DO NOTHING, UPDATE) that
 * cost an executor start-up per chain and half the time of a bulk insert
 * into new chains; done here it is an index probe, a tuple lock and a
 * tuple update.  The protocol is the one those statements follow:
 *
 * - the primary key is probed with a dirty snapshot, so that a head being
 *	 created by a transaction still in progress is seen, and waited for;
 * - an existing head is locked FOR UPDATE; under READ COMMITTED the lock
 *	 follows the row to its newest version, under REPEATABLE READ and
 *	 SERIALIZABLE a head that changed (or appeared) after the transaction's
 *	 snapshot is a serialization failure, as SELECT ... FOR UPDATE makes it;
 * - a missing head is inserted speculatively, the way INSERT ... ON
 *	 CONFLICT does: if another transaction inserted the same key meanwhile,
 *	 the speculative row is killed and the probe starts again, so two
 *	 sessions starting one chain never fail on the unique index;
 * - at commit each head is updated in place of the version this
 *	 transaction locked or created, found by its TID: no index probe.
 *
 * The paths that run once per table rather than once per chain written
 * (sealing the rows present when a chain is enabled, reading the recorded
 * heads for a verification or a digest) use SPI, as the extension's owner.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_heads.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"

#include "chain_hash.h"
#include "chain_heads.h"
#include "common.h"

/* Columns of wallet_ops.chain_heads (src/sql/20_chain.sql). */
#define Anum_heads_relid		1
#define Anum_heads_chain_key	2
#define Anum_heads_last_seq		3
#define Anum_heads_last_hash	4
#define Natts_heads				4

/*
 * Open wallet_ops.chain_heads and its primary key for writing.  The
 * ChainHeadsAccess lives in the caller's memory context.
 */
void
ChainHeadsOpen(ChainHeadsAccess *acc)
{
	Oid			nsp = get_namespace_oid(WALLET_OPS_SCHEMA, false);
	Oid			relid = get_relname_relid("chain_heads", nsp);
	Oid			pkey;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table wallet_ops.chain_heads does not exist"),
				 errhint("Reinstall the wallet_ops extension.")));
	acc->heads = table_open(relid, RowExclusiveLock);
#if PG_VERSION_NUM >= 180000
	pkey = RelationGetPrimaryKeyIndex(acc->heads, false);
#else
	pkey = RelationGetPrimaryKeyIndex(acc->heads);
#endif
	if (!OidIsValid(pkey))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table wallet_ops.chain_heads has no primary key"),
				 errhint("Reinstall the wallet_ops extension.")));
	acc->pkey = index_open(pkey, RowExclusiveLock);
	acc->pkey_info = BuildIndexInfo(acc->pkey);
	acc->slot = table_slot_create(acc->heads, NULL);
	acc->newslot = MakeSingleTupleTableSlot(RelationGetDescr(acc->heads),
											&TTSOpsVirtual);
}

void
ChainHeadsClose(ChainHeadsAccess *acc)
{
	ExecDropSingleTupleTableSlot(acc->slot);
	ExecDropSingleTupleTableSlot(acc->newslot);
	index_close(acc->pkey, NoLock);
	table_close(acc->heads, NoLock);
}

/* A new version of a head row in the virtual slot. */
static void
chain_heads_store(TupleTableSlot *slot, Oid rootrelid, text *name, int64 seq,
				  const uint8 *hash)
{
	ExecClearTuple(slot);
	slot->tts_values[Anum_heads_relid - 1] = ObjectIdGetDatum(rootrelid);
	slot->tts_values[Anum_heads_chain_key - 1] = PointerGetDatum(name);
	slot->tts_values[Anum_heads_last_seq - 1] = Int64GetDatum(seq);
	slot->tts_values[Anum_heads_last_hash - 1] = PointerGetDatum(ChainHashBytea(hash));
	memset(slot->tts_isnull, 0, sizeof(bool) * Natts_heads);
	ExecStoreVirtualTuple(slot);
}

static void
chain_heads_read(ChainHeadsAccess *acc, Oid rootrelid, const char *name,
				 const uint8 *genesis, int64 *seq, uint8 *hash)
{
	TupleTableSlot *slot = acc->slot;
	bool		isnull;
	Datum		d;

	d = slot_getattr(slot, Anum_heads_last_seq, &isnull);
	*seq = isnull ? 0 : DatumGetInt64(d);
	d = slot_getattr(slot, Anum_heads_last_hash, &isnull);
	if (isnull)
		memcpy(hash, genesis, CHAIN_HASH_LEN);
	else if (!ChainHashFromDatum(d, false, hash))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("head of hash chain \"%s\" of table \"%s\" is corrupted",
						name, get_rel_name(rootrelid)),
				 errdetail("last_hash has %d bytes instead of %d.",
						   (int) VARSIZE_ANY_EXHDR(DatumGetByteaPP(d)), CHAIN_HASH_LEN)));
}

static void
chain_heads_serialization_failure(Oid rootrelid, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not serialize access to the head of hash chain \"%s\" of table \"%s\"",
					name, get_rel_name(rootrelid)),
			 errdetail("Another transaction changed the chain after this transaction's snapshot was taken."),
			 errhint("Retry the transaction.")));
}

/*
 * Probe the primary key for (rootrelid, name) with a dirty snapshot.
 * Returns false if there is no such head; true with *tid set if there is
 * one, after waiting for a transaction still inserting it (then probing
 * again).
 */
static bool
chain_heads_probe(ChainHeadsAccess *acc, ScanKey keys, ItemPointer tid)
{
	for (;;)
	{
		SnapshotData dirty;
		IndexScanDesc scan;
		bool		found;
		TransactionId inserter;
		uint32		token;

		InitDirtySnapshot(dirty);
#if PG_VERSION_NUM >= 180000
		scan = index_beginscan(acc->heads, acc->pkey, &dirty, NULL, 2, 0);
#else
		scan = index_beginscan(acc->heads, acc->pkey, &dirty, 2, 0);
#endif
		index_rescan(scan, keys, 2, NULL, 0);
		found = index_getnext_slot(scan, ForwardScanDirection, acc->slot);
		inserter = dirty.xmin;
		token = dirty.speculativeToken;
		if (found)
			*tid = acc->slot->tts_tid;
		index_endscan(scan);
		if (!found)
			return false;
		if (!TransactionIdIsValid(inserter))
			return true;
		/* created by a transaction in progress: wait for its outcome */
		ExecClearTuple(acc->slot);	/* holding no buffer pin meanwhile */
		if (token != 0)
			SpeculativeInsertionWait(inserter, token);
		else
			XactLockTableWait(inserter, acc->heads, tid, XLTW_InsertIndex);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Insert the head (rootrelid, name, 0, genesis) unless another transaction
 * has just inserted the same key; true if inserted, with *tid set.
 */
static bool
chain_heads_insert(ChainHeadsAccess *acc, Oid rootrelid, text *name,
				   const uint8 *genesis, ItemPointer tid)
{
	TupleTableSlot *slot = acc->newslot;
	uint32		token;
	bool		unique;
	bool		keynulls[2] = {false, false};

	chain_heads_store(slot, rootrelid, name, 0, genesis);

	token = SpeculativeInsertionLockAcquire(GetCurrentTransactionId());
	table_tuple_insert_speculative(acc->heads, slot, GetCurrentCommandId(true),
								   0, NULL, token);

	/*
	 * UNIQUE_CHECK_PARTIAL inserts the index entry and reports, without
	 * waiting, whether another live or in-progress row has the key.
	 */
	unique = index_insert(acc->pkey, slot->tts_values, keynulls, &slot->tts_tid,
						  acc->heads, UNIQUE_CHECK_PARTIAL,
#if PG_VERSION_NUM >= 140000
						  false,
#endif
						  acc->pkey_info);
	table_tuple_complete_speculative(acc->heads, slot, token, unique);
	SpeculativeInsertionLockRelease(GetCurrentTransactionId());
	if (unique)
		*tid = slot->tts_tid;
	return unique;
}

/*
 * Lock the head of chain "name" of table rootrelid, creating it (at
 * chain_seq 0 with hash = genesis) if there is none; return its state and
 * the TID of the locked version, which ChainHeadsWrite updates.
 */
void
ChainHeadsLock(ChainHeadsAccess *acc, Oid rootrelid, const char *name,
			   const uint8 *genesis, int64 *seq, uint8 *hash, ItemPointer tid)
{
	text	   *name_text = cstring_to_text(name);
	ScanKeyData keys[2];

	ScanKeyInit(&keys[0], Anum_heads_relid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(rootrelid));
	ScanKeyInit(&keys[1], Anum_heads_chain_key, BTEqualStrategyNumber, F_TEXTEQ,
				PointerGetDatum(name_text));
	keys[1].sk_collation = acc->pkey->rd_indcollation[1];

	for (;;)
	{
		TM_FailureData tmfd;
		TM_Result	res;

		if (!chain_heads_probe(acc, keys, tid))
		{
			if (chain_heads_insert(acc, rootrelid, name_text, genesis, tid))
			{
				*seq = 0;
				memcpy(hash, genesis, CHAIN_HASH_LEN);
				break;
			}
			/* someone else is creating it: probe (and wait) again */
			continue;
		}

		res = table_tuple_lock(acc->heads, tid, GetActiveSnapshot(), acc->slot,
							   GetCurrentCommandId(false), LockTupleExclusive,
							   LockWaitBlock,
							   IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
							   &tmfd);
		if (res == TM_Ok)
		{
			/* what SELECT ... FOR UPDATE with the snapshot would not see */
			if (IsolationUsesXactSnapshot() &&
				!table_tuple_satisfies_snapshot(acc->heads, acc->slot,
												GetTransactionSnapshot()))
				chain_heads_serialization_failure(rootrelid, name);
			*tid = acc->slot->tts_tid;
			chain_heads_read(acc, rootrelid, name, genesis, seq, hash);
			break;
		}
		if (res == TM_Updated || (res == TM_Deleted && IsolationUsesXactSnapshot()))
			chain_heads_serialization_failure(rootrelid, name);
		if (res == TM_Deleted)
			continue;			/* the chain was removed: start it again */
		elog(ERROR, "unexpected result %d locking the head of hash chain \"%s\"",
			 (int) res, name);
	}
	pfree(name_text);
}

/*
 * Write (seq, hash) into the head of chain "name" of table rootrelid, whose
 * version at *tid this transaction locked or created; *tid is set to the
 * new version.
 */
void
ChainHeadsWrite(ChainHeadsAccess *acc, Oid rootrelid, const char *name,
				ItemPointer tid, int64 seq, const uint8 *hash)
{
	TupleTableSlot *slot = acc->newslot;
	text	   *name_text = cstring_to_text(name);
	bool		keynulls[2] = {false, false};

#if PG_VERSION_NUM >= 160000
	TU_UpdateIndexes update_indexes;
#else
	bool		update_indexes;
#endif

	chain_heads_store(slot, rootrelid, name_text, seq, hash);
	simple_table_tuple_update(acc->heads, tid, slot, GetActiveSnapshot(),
							  &update_indexes);
#if PG_VERSION_NUM >= 160000
	if (update_indexes == TU_All)
#else
	if (update_indexes)
#endif
		(void) index_insert(acc->pkey, slot->tts_values, keynulls, &slot->tts_tid,
							acc->heads, UNIQUE_CHECK_YES,
#if PG_VERSION_NUM >= 140000
							true,
#endif
							acc->pkey_info);
	*tid = slot->tts_tid;
	pfree(name_text);
}

/*
 * Record the head of a chain whose rows were sealed by enable_hash_chain
 * (chain_enable.c).  Caller is connected to SPI.
 */
void
ChainHeadsInsert(Oid rootrelid, const char *name, int64 seq, const uint8 *hash)
{
	static const Oid argtypes[4] = {OIDOID, TEXTOID, INT8OID, BYTEAOID};
	Datum		values[4];
	WalletOpsOwnerContext owner_ctx;
	int			ret;

	values[0] = ObjectIdGetDatum(rootrelid);
	values[1] = CStringGetTextDatum(name);
	values[2] = Int64GetDatum(seq);
	values[3] = PointerGetDatum(ChainHashBytea(hash));
	WalletOpsOwnerBegin(&owner_ctx);
	ret = SPI_execute_with_args("INSERT INTO wallet_ops.chain_heads (relid, chain_key, last_seq, last_hash)"
								" VALUES ($1::pg_catalog.regclass, $2, $3, $4)",
								4, (Oid *) argtypes, values, NULL, false, 0);
	WalletOpsOwnerEnd(&owner_ctx);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not insert into wallet_ops.chain_heads: %s",
			 SPI_result_code_string(ret));
}

/*
 * Call visit for each recorded head of table rootrelid (only chain "only"
 * when not NULL), in the order of the chain names' UTF-8 bytes when
 * utf8_order, else in no particular order.  A NULL last_seq is passed as 0;
 * hash is NULL when last_hash is NULL or not a hash.  These are the heads
 * as written at commit: the caller overlays its own transaction's with
 * ChainHeadCacheLookup.
 *
 * The heads are read through a cursor, a batch at a time, so that a table
 * of many chains does not need them all in memory at once; visit runs in
 * the caller's memory context (name and hash are only valid during the
 * call) and as the extension's owner.
 */
void
ChainHeadsForEach(Oid rootrelid, const char *only, bool utf8_order,
				  ChainHeadsVisit visit, void *arg)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		values[2];
	WalletOpsOwnerContext owner_ctx;
	StringInfoData sql;
	Portal		portal;

	initStringInfo(&sql);
	appendStringInfoString(&sql,
						   "SELECT chain_key, last_seq, last_hash FROM wallet_ops.chain_heads"
						   " WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass");
	if (only)
		appendStringInfoString(&sql, "   AND chain_key OPERATOR(pg_catalog.=) $2");
	if (utf8_order)
		appendStringInfoString(&sql, " ORDER BY pg_catalog.convert_to(chain_key, 'UTF8')");
	values[0] = ObjectIdGetDatum(rootrelid);
	values[1] = only ? CStringGetTextDatum(only) : (Datum) 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	WalletOpsOwnerBegin(&owner_ctx);
	portal = SPI_cursor_open_with_args(NULL, sql.data, only ? 2 : 1, types, values,
									   NULL, true, 0);
	for (;;)
	{
		SPITupleTable *fetched;
		uint64		nfetched;
		uint64		r;

		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		fetched = SPI_tuptable;
		nfetched = SPI_processed;
		for (r = 0; r < nfetched; r++)
		{
			HeapTuple	tup = fetched->vals[r];
			TupleDesc	desc = fetched->tupdesc;
			bool		isnull;
			char	   *name;
			int64		seq;
			uint8		hash[CHAIN_HASH_LEN];
			bool		has_hash;
			Datum		d;
			MemoryContext spi;

			d = SPI_getbinval(tup, desc, 1, &isnull);
			if (isnull)
				continue;
			name = TextDatumGetCString(d);
			d = SPI_getbinval(tup, desc, 2, &isnull);
			seq = isnull ? 0 : DatumGetInt64(d);
			d = SPI_getbinval(tup, desc, 3, &isnull);
			has_hash = ChainHashFromDatum(d, isnull, hash);

			spi = MemoryContextSwitchTo(caller);
			visit(name, seq, has_hash ? hash : NULL, arg);
			MemoryContextSwitchTo(spi);
			pfree(name);
		}
		SPI_freetuptable(fetched);
	}
	SPI_cursor_close(portal);
	WalletOpsOwnerEnd(&owner_ctx);
	SPI_finish();
}
