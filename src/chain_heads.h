/*-------------------------------------------------------------------------
 *
 * chain_heads.h
 *		The recorded head of every chain (wallet_ops.chain_heads,
 *		chain_heads.c): locked and written by the insert trigger, read by
 *		the verifications.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_heads.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_CHAIN_HEADS_H
#define WALLET_OPS_CHAIN_HEADS_H

#include "postgres.h"

#include "nodes/execnodes.h"
#include "storage/itemptr.h"
#include "utils/rel.h"

/* wallet_ops.chain_heads opened for direct access */
typedef struct ChainHeadsAccess
{
	Relation	heads;
	Relation	pkey;
	IndexInfo  *pkey_info;
	TupleTableSlot *slot;		/* versions read from the table */
	TupleTableSlot *newslot;	/* versions written to it */
} ChainHeadsAccess;

extern void ChainHeadsOpen(ChainHeadsAccess *acc);
extern void ChainHeadsClose(ChainHeadsAccess *acc);
extern void ChainHeadsLock(ChainHeadsAccess *acc, Oid rootrelid, const char *name,
						   const uint8 *genesis, int64 *seq, uint8 *hash,
						   ItemPointer tid);
extern void ChainHeadsWrite(ChainHeadsAccess *acc, Oid rootrelid, const char *name,
							ItemPointer tid, int64 seq, const uint8 *hash);

extern void ChainHeadsInsert(Oid rootrelid, const char *name, int64 seq,
							 const uint8 *hash);

/* One recorded head; hash is NULL when none is recorded (or it is not one). */
typedef void (*ChainHeadsVisit) (const char *name, int64 seq, const uint8 *hash,
								 void *arg);

extern void ChainHeadsForEach(Oid rootrelid, const char *only, bool utf8_order,
							  ChainHeadsVisit visit, void *arg);

#endif							/* WALLET_OPS_CHAIN_HEADS_H */
