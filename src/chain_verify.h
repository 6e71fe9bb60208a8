/*-------------------------------------------------------------------------
 *
 * chain_verify.h
 *		Verification of hash chains and digests (chain_verify.c): what the
 *		other ways of verifying a chain share with verify_chain.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_verify.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_CHAIN_VERIFY_H
#define WALLET_OPS_CHAIN_VERIFY_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "utils/hsearch.h"
#include "utils/tuplestore.h"

extern HTAB *ChainNameTableCreate(const char *tabname, long nelem, Size entrysize,
								  MemoryContext cxt);
extern void *ChainNameTableEnter(HTAB *table, const char *name, MemoryContext cxt,
								 bool *found);
extern void ChainProblemPut(Tuplestorestate *tupstore, TupleDesc tupdesc,
							const char *chain, int64 seq, bool seq_null,
							const char *problem, const char *detail);

#endif							/* WALLET_OPS_CHAIN_VERIFY_H */
